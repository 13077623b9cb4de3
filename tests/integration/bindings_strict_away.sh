#!/bin/bash
# Strict bindings while rtalloc-agent is stopped, as `rtalloc exec --strict`
# (exec_strict_away.sh): a cgroup, a container network (by source) and a
# LAN (by incoming interface) bound strict to up2 keep their unreachable rules when the agent stops
# (SIGTERM) or dies (SIGKILL), so their connections fail and not one packet
# of theirs leaves by up1 (an nftables counter on up1), while a default
# binding's traffic follows unbound traffic.  Restarted, the agent takes
# them over: out of up2 again, one set of rules, the same mark.  A strict
# binding removed from agent.json (a reload, or a start after a stop) has
# its rules go and its cgroup unmarked.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
CG=rtalloc-test-$T_ID.slice/strict.service
CGD=rtalloc-test-$T_ID.slice/loose.service
up_cgroups "$CG" "$CGD"
STRICT="{\"uplink\": \"up2\", \"cgroup\": \"$CG\", \"policy\": \"strict\"},
	{\"uplink\": \"up2\", \"from\": \"172.17.0.0/16\", \"policy\": \"strict\"},
	{\"uplink\": \"up2\", \"iif\": \"lan0\", \"policy\": \"strict\"}"
LOOSE="{\"uplink\": \"up2\", \"cgroup\": \"$CGD\"}"
UP_CGROUP=1
up_start "\"bindings\": [$STRICT, $LOOSE]"
conf() { printf '{ "socket_path": "%s", "interfaces": ["up*"], "bindings": [%s] }\n' "$T_SOCK" "$1" >"$UP_CONF"; }

# The container network: C behind docker0, masqueraded out of the uplinks;
# a LAN behind the host's lan0, bound strict by its incoming interface; a
# counter of what leaves by up1.
up_container docker0 172.17
up_lan
t_in "$H" nft -f - <<'EON'
table inet count {
	chain out {
		type filter hook postrouting priority 0;
		oifname "up1" tcp dport 7 counter name up1
	}
	counter up1 { }
}
EON
sent() { t_in "$H" nft list counter inet count up1 | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

# incg CGROUP CMD...: CMD run by a process of CGROUP.
# shellcheck disable=SC2016
incg() { up_cg sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$@"; }
svc() { incg "$1" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>&1; }
lan() { t_in "$L" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>&1; }
ctr() { t_in "$C" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>&1; }
mark() { incg "$1" "$BUILD/tools/sockmark" inet-tcp | sed -n 's/.*mark=//p'; }
unreach() { ip -n "$H" rule show pref 9101; ip -n "$H" -6 rule show pref 9101; }
lookups() { ip -n "$H" rule show pref 9100; ip -n "$H" -6 rule show pref 9100; }
m=$(mark "$CG")
t_check "the strict cgroup's sockets are marked ($m)" test -n "$m" -a "$m" != 0
t_check "five unreachable rules: the cgroup's mark and lan0 (IPv4 and IPv6), the prefix" \
	t_wait 3 eval '[ "$(unreach | grep -c unreachable)" = 5 ]'
running() {	# running WHEN
	t_eq "$1: the strict cgroup leaves by up2" 10.2.0.2 "$(svc "$CG")"
	t_eq "$1: the strict container network leaves by up2" 10.2.0.2 "$(ctr)"
	t_eq "$1: the strict LAN (iif lan0) leaves by up2" 10.2.0.2 "$(lan)"
	t_eq "$1: the default cgroup leaves by up2" 10.2.0.2 "$(svc "$CGD")"
}
# away WHY: no agent runs; the strict ones are refused, nothing by up1.
away() {
	local n out
	t_eq "$1: the strict cgroup's unreachable rules stay (IPv4 and IPv6)" 2 \
		"$(unreach | grep -c "fwmark $m/0xf0000000 unreachable")"
	t_check "$1: the prefix's unreachable rule stays" eval 'unreach | grep -q "from 172.17.0.0/16 .*unreachable"'
	t_eq "$1: lan0's unreachable rules stay (IPv4 and IPv6)" 2 "$(unreach | grep -c "iif lan0 unreachable")"
	n=$(sent)
	out=$(svc "$CG")
	t_check "$1: the strict cgroup's connect fails, network unreachable ($out)" \
		grep -q 'Network is unreachable' <<<"$out"
	out=$(ctr)
	t_check "$1: the strict container network's connect fails ($out)" eval '! grep -q "^10\." <<<"$out"'
	out=$(lan)
	t_check "$1: the strict LAN's connect fails ($out)" eval '! grep -q "^10\." <<<"$out"'
	t_eq "$1: not one packet of theirs left by up1" "$n" "$(sent)"
	t_check "$1: the host still answers the container" t_in "$C" ping -c 1 -W 2 172.17.0.1
	t_eq "$1: meanwhile unbound traffic still leaves by up1" 10.1.0.2 "$(tk_src)"
}
# back WHEN: the agent took them over: one set of rules, the same mark.
back() {
	t_wait 5 up_tables
	t_check "$1: the lookup rules are back" t_wait 5 eval \
		"lookups | grep -q 'from 172.17.0.0/16 lookup $(up_table 10.2.0.2)'"
	t_eq "$1: the strict cgroup keeps its mark" "$m" "$(mark "$CG")"
	t_eq "$1: exactly one set of unreachable rules" 5 "$(unreach | grep -c unreachable)"
	t_eq "$1: exactly one set of lookup rules (2 cgroups and lan0 x 2 families, the prefix)" 7 \
		"$(lookups | grep -c lookup)"
	t_eq "$1: no rule twice" "" \
		"$({ ip -n "$H" rule | sed 's/^/4 /'; ip -n "$H" -6 rule | sed 's/^/6 /'; } | grep '^. 9[01]' | sort | uniq -d)"
	running "$1"
}
running "agent running"

kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
away "agent stopped"
t_eq "agent stopped: the lookup rules went" "" "$(lookups)"
t_eq "agent stopped: the default cgroup's traffic follows unbound traffic" 10.1.0.2 "$(svc "$CGD")"
t_eq "agent stopped: the default cgroup's sockets carry no mark" 0 "$(mark "$CGD")"
up_agent || exit 1
back "restarted"

kill -KILL "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "agent killed: the strict cgroup's traffic never leaves by up1" 10.2.0.2 "$(svc "$CG")"
up_agent || exit 1
back "restarted after SIGKILL"

# Removed from agent.json by a reload: its rules go, its cgroup unmarked.
conf "$LOOSE"
kill -HUP "$UP_AGENT_PID"
t_check "reloaded without the strict bindings: their unreachable rules went" t_wait 5 eval '[ -z "$(unreach)" ]'
t_eq "reloaded: the cgroup's sockets carry no mark" 0 "$(mark "$CG")"
t_eq "reloaded: its traffic follows unbound traffic" 10.1.0.2 "$(svc "$CG")"
t_eq "reloaded: so does the container network's" 10.1.0.2 "$(ctr)"
t_eq "reloaded: and the LAN's" 10.1.0.2 "$(lan)"
t_eq "reloaded: the default cgroup still leaves by up2" 10.2.0.2 "$(svc "$CGD")"

# Back by a reload; then removed while no agent runs: the next start drops
# them (its cgroup too: the state file named it).
conf "$STRICT, $LOOSE"
kill -HUP "$UP_AGENT_PID"
t_check "reloaded with the strict bindings: their unreachable rules" t_wait 5 eval \
	'[ "$(unreach | grep -c unreachable)" = 5 ]'
m=$(mark "$CG")
kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
away "stopped again"
conf "$LOOSE"
up_agent || exit 1
t_wait 5 up_tables
t_check "started without them: their unreachable rules went" t_wait 5 eval '[ -z "$(unreach)" ]'
t_eq "started without them: the cgroup's sockets carry no mark" 0 "$(mark "$CG")"
t_eq "started without them: its traffic follows unbound traffic" 10.1.0.2 "$(svc "$CG")"
t_eq "started without them: so do the container network's and the LAN's" "10.1.0.2 10.1.0.2" "$(ctr) $(lan)"
t_eq "started without them: the default cgroup leaves by up2" 10.2.0.2 "$(svc "$CGD")"
t_done
