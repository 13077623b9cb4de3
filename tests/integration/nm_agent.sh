#!/bin/bash
# rtalloc-agent alone behind the real NetworkManager 1.42 (tests/nm.sh): two
# uplinks with DHCPv4 + SLAAC, wan1's profile never-default=yes (so main has
# no default route through it, and NetworkManager, which handles RAs itself,
# leaves the kernel's accept_ra off).  Every global address gets its table
# and exactly its three rules, no link-local one gets anything; wan1's IPv6
# table gets its default route via the router the kernel flagged on the link,
# its IPv4 table via the gateway `rtalloc hint wan1 --gateway` gives (nothing
# else can know it; before that it has none); and traffic from every address,
# v4 and v6, reaches the far host through its own uplink (each ISP drops what
# it did not assign); the servers-file holds the hinted DNS servers.  `nmcli
# con down`/`up`, `nmcli dev reapply` (NetworkManager deletes and adds the
# addresses again within milliseconds: the kernel flushes the routes using
# them without events) and a NetworkManager restart each leave exactly one set
# of rules and every table complete.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/nm.sh"
[ -x "$AGENT" ] || t_skip "$AGENT not built"
nm_start nmcli || exit 1
t_server "$PR_H" || exit 1
SERVERS=$T_DIR/servers.conf
hint() { ip netns exec "$PR_H" "$RTALLOC" hint -d "$T_SOCK" "$@"; }
out=$(hint wan1 --gateway 10.101.0.1 2>&1); rc=$?
t_eq "rtalloc hint without an agent: exit 0, one line" "0|1" "$rc|$(wc -l <<<"$out")"
t_check "... and no hint written" test ! -e "/run/rtalloc/hints/$T_SOCK/wan1"
t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
nm_agent "\"dns_servers_file\": \"$SERVERS\"" || exit 1

a1=$(pr_addr wan1 4) a16=$(pr_addr wan1 6)
t_check "wan1's IPv6 table: a default route via the router on wan1 (main has none)" \
	pr_within 10 sh -c "ip -n $PR_H -6 route show table \$(ip -n $PR_H -6 rule show pref 10000 | awk '\$3 == \"$a16\" { print \$5 }') | grep -q '^default via fe80:.* dev wan1'"
t_check "without a hint, wan1's IPv4 table has no default route (nothing says where)" \
	sh -c "! ip -n $PR_H route show table $(pr_table "$a1") | grep -q ^default"
nodefault() { ip netns exec "$PR_H" "$RTALLOC" --status -d "$T_SOCK" 2>&1 | grep "no default route"; }
t_eq "rtalloc --status: wan1's IPv4 uplink has no default route" \
	"agent uplink: inet $a1 on wan1, table $(pr_table "$a1"): no default route (main has none through wan1 and no hint or router says where: rtalloc hint wan1 --gateway GW)" \
	"$(nodefault)"
# `rtalloc hint` waits for the agent to act on it: with the agent stopped it
# is still waiting a second later, and returns once the agent goes on.
kill -STOP "$PR_AGENT_PID"
hint wan1 --gateway 10.101.0.1 --gateway 0.0.0.0 --dns 10.201.0.53 --dns 2001:db8:201::53 \
	--fwmark 0x1000 --forward-iif lan0 >"$T_DIR/hint.out" 2>&1 &
hint_pid=$!
sleep 1
t_check "rtalloc hint waits while the agent has not acted" kill -0 "$hint_pid"
kill -CONT "$PR_AGENT_PID"
wait "$hint_pid"
t_eq "rtalloc hint wan1 --gateway --dns (as a script would): exit 0, silent once the agent acted" \
	"0|" "$?|$(cat "$T_DIR/hint.out")"
t_check "--fwmark: wan1's IPv4 table also takes packets marked 0x1000 (pref 9000)" \
	grep -q "^9000:.*fwmark 0x1000 lookup $(pr_table "$a1") " <(ip -n "$PR_H" rule show pref 9000)
t_check "... and its IPv6 table too" \
	grep -q "fwmark 0x1000 lookup $(pr_table "$a16") " <(ip -n "$PR_H" -6 rule show pref 9000)
t_check "--forward-iif lan0: an iif lan0 rule looks up wan1's IPv4 table" \
	grep -qE "iif lan0 (\[detached\] )?lookup $(pr_table "$a1") " <(ip -n "$PR_H" rule show pref 91000)
t_check "... and wan0's (every uplink's, as forward_from)" \
	grep -qE "iif lan0 (\[detached\] )?lookup $(pr_table "$(pr_addr wan0 4)") " <(ip -n "$PR_H" rule show pref 91000)
t_eq "--fwmark 0x1000/0x0: refused (exit 64), naming the mark" "64|1" \
	"$(hint wan1 --fwmark 0x1000/0x0 >"$T_DIR/bad.out" 2>&1; echo "$?|$(grep -c -- '--fwmark: .*0x1000/0x0' "$T_DIR/bad.out")")"
kill -STOP "$PR_AGENT_PID"
start=$SECONDS out=$(hint wan1 --gateway 10.101.0.1 --dns 10.201.0.53 --dns 2001:db8:201::53 2>&1)
took=$((SECONDS - start))
kill -CONT "$PR_AGENT_PID"
t_check "an agent that never acts: the hint gives up after 5 s ($took s) with one line" \
	test "$took" -ge 4 -a "$took" -le 7 -a "$(wc -l <<<"$out")" = 1
t_check "... naming what did not happen" grep -q "has not acted on it within 5 s" <<<"$out"
nofwmark() { [ -z "$(ip -n "$PR_H" rule show pref 9000; ip -n "$PR_H" -6 rule show pref 9000)" ]; }
t_check "a hint without --fwmark takes the fwmark rules away" t_wait 5 nofwmark
noforward() { ! ip -n "$PR_H" rule show pref 91000 | grep -q "iif lan0"; }
t_check "a hint without --forward-iif takes the iif lan0 rules away" t_wait 5 noforward
t_check "rtalloc hint wan0 --dns" hint wan0 --dns 10.200.0.53 --dns 2001:db8:200::53
nodefault_none() { [ -z "$(nodefault)" ]; }
# `rtalloc hint` returns once the agent has acted on the hint: no waiting.
t_check "rtalloc --status: as soon as the hints returned, no uplink without a default route" nodefault_none
NM_SERVERS_WANT=nm_servers
nm_scenario "$SERVERS"
# Hints survive an agent restart (they are files under /run).
pr_kill "$PR_AGENT_PID"
nm_agent "\"dns_servers_file\": \"$SERVERS\"" || exit 1
nm_round "after an agent restart"
t_done
