#!/bin/bash
# rtalloc-agent alone behind the real NetworkManager 1.42 (tests/nm.sh): two
# uplinks with DHCPv4 + SLAAC, wan1's profile never-default=yes (so main has
# no default route through it, and NetworkManager, which handles RAs itself,
# leaves the kernel's accept_ra off).  Every global address gets its table
# and exactly its three rules, no link-local one gets anything; wan1's IPv6
# table gets its default route via the router the kernel flagged on the link,
# its IPv4 table via the gateway `rtalloc hint wan1 --gateway` gives (nothing
# else can know it); and traffic from every address, v4 and v6, reaches the
# far host through its own uplink (each ISP drops what it did not assign).
# `nmcli con down`/`up`, `nmcli dev reapply` (NetworkManager deletes and adds
# the addresses again within milliseconds: the kernel flushes the routes
# using them without events) and a NetworkManager restart each leave exactly
# one set of rules and every table complete.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/nm.sh"
[ -x "$AGENT" ] || t_skip "$AGENT not built"
nm_start nmcli || exit 1
t_server "$PR_H" || exit 1
pr_agent || exit 1
hint() { ip netns exec "$PR_H" "$RTALLOC" hint -d "$T_SOCK" "$@"; }

a1=$(pr_addr wan1 4) a16=$(pr_addr wan1 6)
t_check "wan1's IPv6 table: a default route via the router on wan1 (main has none)" \
	pr_within 10 sh -c "ip -n $PR_H -6 route show table \$(ip -n $PR_H -6 rule show pref 10000 | awk '\$3 == \"$a16\" { print \$5 }') | grep -q '^default via fe80:.* dev wan1'"
t_check "without a hint, wan1's IPv4 table has no default route (nothing says where)" \
	sh -c "! ip -n $PR_H route show table $(pr_table "$a1") | grep -q ^default"
t_check "rtalloc hint wan1 --gateway (as a script would)" hint wan1 --gateway 10.101.0.1 --gateway 0.0.0.0
nm_check_state "every global address: its table, exactly its rules, main's routes and a default"
nm_check_traffic "at start"

nmcli con down wan1 >/dev/null
t_check "nmcli con down wan1: its addresses go" pr_within 10 test -z "$(pr_addr wan1 4)"
nm_check_state "after con down: wan0's uplinks alone"
nmcli con up wan1 >/dev/null
t_check "nmcli con up wan1: configured again" t_wait 30 nm_configured
nm_check_state "after con down/up: one set of rules, every table complete" 10
nm_check_traffic "after con down/up"

nmcli dev reapply wan0 >/dev/null
sleep 1
t_check "nmcli dev reapply wan0: configured again" t_wait 30 nm_configured
nm_check_state "after dev reapply: one set of rules, every table complete" 10
nm_check_traffic "after dev reapply"

nm_restart
nm_up() { nmcli -t -f STATE,DEVICE dev | grep -qx 'connected:wan1'; }
t_check "NetworkManager restarted: wan1 connected again" t_wait 30 nm_up
t_check "configured again after the restart" t_wait 30 nm_configured
nm_check_state "after a NetworkManager restart: one set of rules, every table complete" 10
nm_check_traffic "after a NetworkManager restart"
t_check "the agent still runs" kill -0 "$PR_AGENT_PID"
t_done
