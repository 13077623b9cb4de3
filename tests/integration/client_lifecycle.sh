#!/bin/bash
# The 2017 client left its rules behind and kept running once its address
# was gone.  rtalloc must remove exactly its rules, release the lease and exit
# within a second or two when the address is deleted, when the link is
# deleted, and on SIGTERM -- leaving other addresses' rules alone.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
t_veth "$H" up1 "$ISP" isp1
ip -n "$H" addr add 198.51.100.7/24 dev up1
t_server "$H" || exit 1

leased() { ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" --list | grep -q " $1 "; }
rules_of() { ip -n "$H" "$1" rule show | grep "lookup $2 proto 122"; }
daemon_of() { t_daemons "$H" "$1"; }	# the pid of the rtalloc daemon for address $1
gone() { ! kill -0 "$1" 2>/dev/null; }
absent() { ! "$@"; }

TA=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
TB=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1)
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0)
PA=$(daemon_of 192.0.2.7); PB=$(daemon_of 198.51.100.7); P6=$(daemon_of 2001:db8:1::7)
t_check "three daemons ($PA $PB $P6)" test -n "$PA" -a -n "$PB" -a -n "$P6"
t_check "leases listed" leased 192.0.2.7
t_eq "three rules for table $TA" 3 "$(rules_of -4 "$TA" | wc -l)"

# 1. The address is deleted.
ip -n "$H" addr del 192.0.2.7/24 dev up0
t_check "address deleted: daemon exits" t_wait 3 gone "$PA"
t_check "address deleted: its rules are gone" t_wait 3 absent rules_of -4 "$TA"
t_check "address deleted: lease released" t_wait 3 absent leased 192.0.2.7
t_eq "address deleted: the other uplink keeps its 3 rules" 3 "$(rules_of -4 "$TB" | wc -l)"
t_check "address deleted: the other daemon runs on" kill -0 "$PB"
t_check "address deleted: the IPv6 daemon on the same link runs on" kill -0 "$P6"

# 2. The link is deleted (the IPv6 address goes with it).
ip -n "$H" link del up0
t_check "link deleted: daemon exits" t_wait 3 gone "$P6"
t_check "link deleted: its rules are gone" t_wait 3 absent rules_of -6 "$T6"
t_check "link deleted: lease released" t_wait 3 absent leased 2001:db8:1::7

# 3. SIGTERM cleans up the same way.
kill -TERM "$PB"
t_check "SIGTERM: daemon exits" t_wait 3 gone "$PB"
t_check "SIGTERM: its rules are gone" t_wait 3 absent rules_of -4 "$TB"
t_check "SIGTERM: lease released" t_wait 3 absent leased 198.51.100.7
t_eq "no rule of ours left" "" "$(ip -n "$H" rule show | grep 'proto 122'; ip -n "$H" -6 rule show | grep 'proto 122')"

# 4. The next run (the hook again) leases anew: no stale lock is left.
TB2=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1)
t_check "after SIGTERM: leased again ($TB2)" test "${TB2:-0}" -gt 0
t_eq "after SIGTERM: 3 rules" 3 "$(rules_of -4 "$TB2" | wc -l)"
t_check "after SIGTERM: a daemon again" test -n "$(daemon_of 198.51.100.7)"
t_done
