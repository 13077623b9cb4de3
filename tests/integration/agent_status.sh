#!/bin/bash
# rtalloc --list and --status show rtalloc-agent's uplinks (leases tagged
# rtalloc-agent), and --status names the routes missing from an uplink's
# table: one deleted from it, one added to main and not copied yet (the
# agent stopped with SIGSTOP so it cannot repair them first); exit 6, and
# consistent again once the agent runs.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_server "$H" || exit 1
ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" route add default via 192.0.2.1 dev wan0
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan0"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" || exit 1
PID=$T_LAST_PID
T=$(ip -n "$H" rule show pref 10000 | awk '$3 == "192.0.2.7" { print $5 }')

out=$(rtalloc --list); rc=$?
t_eq "--list: exit 0" 0 "$rc"
t_check "--list: the agent's lease, tagged" grep -q "wan0 .*192.0.2.7 .* $T .*rtalloc-agent" <<<"$out"
t_check "--list: says it is an uplink of rtalloc-agent" grep -q "1 of them: uplinks of rtalloc-agent" <<<"$out"
out=$(rtalloc --status); rc=$?
t_eq "--status: consistent, exit 0" 0 "$rc"
t_check "--status: the agent's uplink and its routes ($out)" \
	grep -q "agent uplink: inet 192.0.2.7 on wan0, table $T: 2 routes to copy" <<<"$out"
t_check "--status: the usual summary" grep -q "^consistent: 1 lease, 3 rules (proto 122)" <<<"$out"

kill -STOP "$PID"
ip -n "$H" route del default table "$T"
ip -n "$H" route add 198.51.100.0/24 via 192.0.2.254 dev wan0
out=$(rtalloc --status); rc=$?
t_eq "--status: routes missing: exit 6" 6 "$rc"
t_check "names the deleted default route" grep -q "missing route: inet 192.0.2.7 on wan0, table $T: no \`default via 192.0.2.1 .* (dev wan0)" <<<"$out"
t_check "names main's new route not copied" grep -q "missing route: inet 192.0.2.7 on wan0, table $T: no \`198.51.100.0/24 via 192.0.2.254" <<<"$out"
t_check "counts both" grep -q "^2 differences" <<<"$out"
kill -CONT "$PID"
status_ok() { rtalloc --status >/dev/null; }
t_check "the agent repairs the table: consistent again" t_wait 3 status_ok
t_done
