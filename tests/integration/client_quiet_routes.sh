#!/bin/bash
# client_quiet with the daemons started as the hooks start them, with
# --route: such a daemon also owns its table's routes through the engine
# (hold.c), whose event socket used to take every link, address, route and
# rule event of both families, so each daemon woke for every one again.
# The kernel now drops, before queueing, the events that are not about the
# daemon's link, address or table's routes (of its family): a daemon
# sleeps through addresses and routes elsewhere (main, other tables, other
# links), another family, other tables' rules and other links coming,
# going and flapping, and still restores a route deleted from its table and
# its routes after its link went down and up.  Wake-ups are counted by the
# kernel (voluntary context switches of the daemons).
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
t_veth "$H" other0 "$ISP" isp1
ip -n "$H" link set "other0" up
# Its IPv6 address outlives a link flap (as an address the kernel dropped
# would end the IPv6 daemon, not test its routes).
t_in "$H" sysctl -qw net.ipv6.conf.up0.keep_addr_on_down=1
t_server "$H" || exit 1

rt() { ip -n "$H" "$@"; }
rules_of() { rt "$1" rule show | grep "lookup $2 proto 122"; }
has() { grep -q "$2" <(rt ${3:+-6} route show table "$1" 2>/dev/null); }
wakeups() { cat "/proc/$P4/status" "/proc/$P6/status" | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }

T4=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --route 192.0.2.0/24 --route "default,via 192.0.2.1")
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0 --route 2001:db8:1::/64 --route "default,via 2001:db8:1::1")
P4=$(t_daemons "$H" 192.0.2.7); P6=$(t_daemons "$H" 2001:db8:1::7)
t_check "two daemons ($P4 $P6)" test -n "$P4" -a -n "$P6"
def4="^default via 192.0.2.1 dev up0 proto 122"
def6="^default via 2001:db8:1::1 dev up0 proto 122"
net4="^192.0.2.0/24 dev up0 proto 122"
t_check "table $T4: its default route and prefix" eval "has $T4 '$def4' && has $T4 '$net4'"
t_check "inet6 table $T6: its default route" has "$T6" "$def6" -6

# 20 rounds of events that concern neither daemon, each by its own `ip`
# (milliseconds apart: a daemon that hears them wakes for each): addresses
# of both families on another interface and on up0 itself (each with its
# prefix routes in main and local), routes in main through up0 and other0
# and in another table, another table's proto 122 rules, and another link
# going down and up.
sleep 0.5
w0=$(wakeups)
for i in $(seq 20); do
	rt addr add "10.9.0.$i/32" dev other0
	rt addr add "192.0.2.$((100 + i))/24" dev up0
	rt -6 addr add "2001:db8:9::$i/64" dev other0 nodad
	rt -6 addr add "2001:db8:1::$((100 + i))/64" dev up0 nodad
	rt route add "10.8.$i.0/24" dev up0
	rt route add "10.7.$i.0/24" dev other0 table 777
	rt -6 route add "2001:db8:8:$i::/64" dev up0
	rt -6 route add "2001:db8:7:$i::/64" dev other0 table 777
	rt rule add pref $((30000 + i)) from "10.9.0.$i" lookup 777 proto 122
	rt -6 rule add pref $((30000 + i)) from "2001:db8:9::$i" lookup 777 proto 122
done
for i in $(seq 20); do
	rt addr del "10.9.0.$i/32" dev other0
	rt addr del "192.0.2.$((100 + i))/24" dev up0
	rt -6 addr del "2001:db8:9::$i/64" dev other0
	rt -6 addr del "2001:db8:1::$((100 + i))/64" dev up0
	rt route del "10.8.$i.0/24" dev up0
	rt -6 route del "2001:db8:8:$i::/64" dev up0
	rt rule del pref $((30000 + i))
	rt -6 rule del pref $((30000 + i))
	rt link set other0 down
	rt link set other0 up
done
rt route flush table 777
rt -6 route flush table 777
rt link add "q$T_ID" type veth peer name "r$T_ID"
rt link del "q$T_ID"
sleep 0.5
w1=$(wakeups)
# Hundreds of events (each `ip` above makes one to several), most of them
# of each daemon's family; without the filter each daemon wakes for nearly
# every one.  What may still wake them: a renewal (lease of the server's
# default length; at most one each) and the daemons' own timers.
t_check "unrelated events: $((w1 - w0)) wake-ups of the two daemons (at most 10)" \
	test $((w1 - w0)) -le 10
t_check "both daemons still run" kill -0 "$P4" "$P6"

# What concerns them still comes through.
rt route del default table "$T4"
t_check "its default route deleted: restored" t_wait 3 has "$T4" "$def4"
rt -6 route del default table "$T6"
t_check "its IPv6 default route deleted: restored" t_wait 3 has "$T6" "$def6" -6
rt link set up0 down
t_check "its link down: the kernel dropped its IPv4 routes" t_wait 3 eval "! has $T4 '$net4'"
rt link set up0 up
t_check "its link up again: IPv4 routes restored" t_wait 5 eval "has $T4 '$def4' && has $T4 '$net4'"
t_check "its link up again: IPv6 default route restored" t_wait 5 has "$T6" "$def6" -6
t_eq "three IPv4 rules" 3 "$(rules_of -4 "$T4" | wc -l)"
t_check "both daemons still run" kill -0 "$P4" "$P6"
t_done
