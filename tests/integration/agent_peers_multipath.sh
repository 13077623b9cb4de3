#!/bin/bash
# rtalloc-agent behind networkd with its default metrics (tests/peers.sh):
# both uplinks' RA default routes have metric 1024, and the kernel makes them
# ONE multipath route in main (nexthops via wan0 and wan1) -- the common
# IPv6 case of the issue: two advertised prefixes, two default routes in
# main.  Each of wan0's and wan1's IPv6 addresses gets its own link's
# nexthop as the default route of its table, and so its traffic reaches the
# far host by its own uplink whatever hash the kernel picks.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
PR_RA_METRICS=same
pr_agent_start
H=$PR_H
t_eq "main's IPv6 default route via wan0 and wan1 is one multipath route" 2 \
	"$(ip -n "$H" -6 route show default | grep -c 'nexthop via fe80::.* dev wan[01] ')"
pr_check_state "every address: its table, exactly its rules, its link's routes" 5
for n in 0 1; do
	a=$(pr_addr wan$n 6) gw=$(pr_default wan$n 6 | awk '{ print $3 }')
	t_check "$a's table has wan$n's nexthop of it: default via $gw dev wan$n" \
		grep -qx "default via $gw dev wan$n" <<<"$(pr_table_routes "$(pr_table "$a")" 6)"
	# Several flows: the multipath hash in main must not decide.
	for i in 1 2 3 4; do
		t_check "$a reaches the far host (try $i)" pr_reaches "$a"
	done
done
t_done
