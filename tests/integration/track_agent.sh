#!/bin/bash
# rtalloc-track beside rtalloc-agent: the agent leases the uplinks' tables
# and installs their rules and routes (copied from main, which has both
# uplinks' default routes); rtalloc-track finds the uplinks by the agent's
# `from` rules and its rule for unbound traffic into an uplink's table is
# left alone by the agent (not taken for a stray rule of that table), so
# failover works with the agent too.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent
[ -x "$AGENT" ] || t_skip "$AGENT not built (make tests)"
tk_agent_topology
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["up*"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$AGENT" -c "$T_DIR/agent.json" || exit 1
table_of() { ip -n "$H" -4 rule show | awk -v a="$1" '$3 == a && / proto 122/ { for (i = 1; i < NF; i++) if ($i == "lookup") print $(i + 1) }'; }
t_wait 10 eval '[ -n "$(table_of 10.1.0.2)" ] && [ -n "$(table_of 10.2.0.2)" ]'
T1=$(table_of 10.1.0.2) T2=$(table_of 10.2.0.2)
t_check "the agent gave both uplinks a table ($T1, $T2)" test -n "$T1" -a -n "$T2"

tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'
t_check "both come online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_eq "unbound traffic uses up1's table" "$T1" "$(tk_rule)"
# The agent reacts to rule events at once; give it a few rounds.
sleep 2
t_eq "the agent left rtalloc-track's rule alone (one rule added, none deleted)" \
	"" "$(grep 'unbound traffic:' "$TK_LOG" | sed -n '2,$p')"
t_eq "unbound TCP leaves by up1 (main's default routes overridden)" 10.1.0.2 "$(tk_src)"
tk_cut 100 1
t_check "unbound traffic moves to up2's table" t_wait 10 tk_rule_is "$T2"
t_eq "unbound TCP leaves by up2" 10.2.0.2 "$(tk_src)"
t_done
