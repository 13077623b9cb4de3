#!/bin/bash
# rtalloc-agent behind networkd with its default metrics (tests/peers.sh):
# both uplinks' RA default routes have metric 1024, and the kernel makes them
# ONE multipath route in main (nexthops via wan0 and wan1) -- the common
# IPv6 case of the issue: two advertised prefixes, two default routes in
# main.  Each of wan0's and wan1's IPv6 addresses gets its own link's
# nexthop as the default route of its table, and so its traffic reaches the
# far host by its own uplink whatever hash the kernel picks.  ISP1's router
# stopping (radvd's last RA says router lifetime 0: networkd takes wan1's
# nexthop out of the route) empties wan1's table of its default and leaves
# wan0's; the router back (networkd adds the nexthop again) fills it again.
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

# ISP1's radvd stops: its farewell RA ends wan1's default route.
gw0=$(pr_default wan0 6 | awk '{ print $3 }')
a0=$(pr_addr wan0 6) a1=$(pr_addr wan1 6)
rpid=$(cat "$T_DIR/isp1.radvd.pid")
pr_kill "$rpid"
for i in "${!PR_PIDS[@]}"; do [ "${PR_PIDS[i]}" != "$rpid" ] || unset "PR_PIDS[i]"; done
PR_PIDS=("${PR_PIDS[@]}")
no_default1() { [ -z "$(pr_default wan1 6)" ]; }
t_check "router 1 gone: networkd drops wan1's nexthop from main within 5 s" pr_within 5 no_default1
pr_check_state "router 1 gone: every table holds its link's routes of main"
t_eq "router 1 gone: $a1's table has no default route" "" \
	"$(pr_table_routes "$(pr_table "$a1")" 6 | grep '^default')"
t_eq "router 1 gone: $a0's table keeps default via $gw0 dev wan0" "default via $gw0 dev wan0" \
	"$(pr_table_routes "$(pr_table "$a0")" 6 | grep '^default')"
t_check "router 1 gone: $a0 reaches the far host" pr_reaches "$a0"

# Back: networkd adds wan1's nexthop to the multipath route again.
PR_MOUNTS=:
pr_private "$PR_I1" radvd -n -C "$T_DIR/isp1.radvd.conf" -p "$T_DIR/isp1.radvd.pid" \
	-m logfile -l "$T_DIR/isp1.radvd.log"
multipath() { [ "$(ip -n "$H" -6 route show default | grep -c 'nexthop via fe80::.* dev wan[01] ')" = 2 ]; }
t_check "router 1 back: main's default is multipath again within 10 s" pr_within 10 multipath
pr_check_state "router 1 back: every table holds its link's routes of main"
for n in 0 1; do
	a=$(pr_addr wan$n 6) gw=$(pr_default wan$n 6 | awk '{ print $3 }')
	t_eq "router 1 back: $a's table has default via $gw dev wan$n" "default via $gw dev wan$n" \
		"$(pr_table_routes "$(pr_table "$a")" 6 | grep '^default')"
	t_check "router 1 back: $a reaches the far host" pr_reaches "$a"
done
t_done
