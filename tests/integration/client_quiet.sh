#!/bin/bash
# Every rtalloc daemon used to hear every address, link and rule event of
# the host: with 1,000 of them, one address added anywhere woke all 1,000
# (issue 12).  The kernel now drops, before queueing, the events that are
# not about a daemon's address, its interface or its table's rules: a
# daemon sleeps through other interfaces' addresses, other addresses of its
# own interface, other links and other tables' rules, and still notices its
# rule deleted, its address going and its link going.  Wake-ups are counted
# by the kernel (voluntary context switches of the daemons).
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
t_veth "$H" other0 "$ISP" isp1
t_server "$H" || exit 1

rules_of() { ip -n "$H" "$1" rule show | grep "lookup $2 proto 122"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
absent() { ! "$@"; }
has_rule() { rules_of -4 "$T4" | grep -q "^$1:"; }
wakeups() { cat "/proc/$P4/status" "/proc/$P6/status" | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }

T4=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0)
P4=$(t_daemons "$H" 192.0.2.7); P6=$(t_daemons "$H" 2001:db8:1::7)
t_check "two daemons ($P4 $P6)" test -n "$P4" -a -n "$P6"
t_eq "three IPv4 rules" 3 "$(rules_of -4 "$T4" | wc -l)"
t_eq "three IPv6 rules" 3 "$(rules_of -6 "$T6" | wc -l)"

# 30 rounds of events that concern neither daemon, each by its own `ip`
# (milliseconds apart: a daemon that hears them wakes for each): addresses
# of both families on another interface and on up0 itself, another table's
# proto 122 rules, and another link coming and going.
sleep 0.5
w0=$(wakeups)
for i in $(seq 30); do
	ip -n "$H" addr add "10.9.0.$i/32" dev other0
	ip -n "$H" addr add "192.0.2.$((100 + i))/24" dev up0
	ip -n "$H" -6 addr add "2001:db8:9::$i/64" dev other0 nodad
	ip -n "$H" -6 addr add "2001:db8:1::$((100 + i))/64" dev up0 nodad
	ip -n "$H" rule add pref $((30000 + i)) from "10.9.0.$i" lookup 777 proto 122
	ip -n "$H" -6 rule add pref $((30000 + i)) from "2001:db8:9::$i" lookup 777 proto 122
done
for i in $(seq 30); do
	ip -n "$H" addr del "10.9.0.$i/32" dev other0
	ip -n "$H" addr del "192.0.2.$((100 + i))/24" dev up0
	ip -n "$H" -6 addr del "2001:db8:9::$i/64" dev other0
	ip -n "$H" -6 addr del "2001:db8:1::$((100 + i))/64" dev up0
	ip -n "$H" rule del pref $((30000 + i))
	ip -n "$H" -6 rule del pref $((30000 + i))
done
ip -n "$H" link add "q$T_ID" type veth peer name "r$T_ID"
ip -n "$H" link del "q$T_ID"
sleep 0.5
w1=$(wakeups)
# 360 events, 240 of them of each daemon's family; without the filter each
# daemon wakes for nearly every one.  A renewal may fall in the window.
t_check "360 unrelated events: $((w1 - w0)) wake-ups of the two daemons (at most 10)" \
	test $((w1 - w0)) -le 10
t_check "both daemons still run" kill -0 "$P4" "$P6"

# What concerns them still comes through.
ip -n "$H" rule del pref 20000 to 192.0.2.0/24 lookup "$T4"
t_check "its rule deleted: restored" t_wait 3 has_rule 20000
ip -n "$H" -6 addr del 2001:db8:1::7/64 dev up0
t_check "its IPv6 address deleted: the daemon exits" t_wait 3 gone "$P6"
t_check "its IPv6 address deleted: its rules are gone" t_wait 3 absent rules_of -6 "$T6"
t_check "the IPv4 daemon on the same link runs on" kill -0 "$P4"
ip -n "$H" link del up0
t_check "its link deleted: the IPv4 daemon exits" t_wait 3 gone "$P4"
t_check "its link deleted: its rules are gone" t_wait 3 absent rules_of -4 "$T4"
t_done
