#!/bin/bash
# Someone else deletes rtalloc's rules (systemd-networkd purges foreign
# rules, an admin runs `ip rule flush`): the daemon puts them back within a
# second or two, and never touches a rule that is not its own.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
t_server "$H" || exit 1

ours() { ip -n "$H" "$1" rule show | grep ' proto 122'; }
# Evaluated on every poll of t_wait, not once when it is called.
same4() { [ "$want4" = "$(ours -4)" ]; }
same6() { [ "$want6" = "$(ours -6)" ]; }

T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0)
want4=$(ours -4); want6=$(ours -6)
t_eq "three IPv4 rules and the network's guard" 4 "$(wc -l <<<"$want4")"
# A foreign rule at one of our prefs, for another table: never ours to fix.
ip -n "$H" rule add pref 20000 to 203.0.113.0/24 lookup 77

ip -n "$H" rule del pref 20000 to 192.0.2.0/24 lookup "$T"
t_check "one rule deleted by hand is restored" t_wait 3 same4
t_check "the foreign rule at the same pref is untouched" \
	grep -q "to 203.0.113.0/24 lookup 77" <<<"$(ip -n "$H" rule show)"

ip -n "$H" rule flush	# removes every rule but pref 0 (main, default too)
t_check "all rules restored after ip rule flush" t_wait 3 same4
t_check "the flushed foreign rule stays gone" \
	bash -c "! ip -n $H rule show | grep -q 'lookup 77'"

ip -n "$H" -6 rule del pref 10000 from 2001:db8:1::7 lookup "$T6"
t_check "an IPv6 rule deleted by hand is restored" t_wait 3 same6

# Deleting again and again: restored each time, rate limited, never doubled.
for _ in 1 2 3; do
	ip -n "$H" rule del pref 10000 from 192.0.2.7 lookup "$T"
	t_check "deleted again: restored" t_wait 3 same4
done
t_eq "after repeated deletions: the same three rules, no duplicate" "$want4" "$(ours -4)"
t_done
