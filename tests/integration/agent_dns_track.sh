#!/bin/bash
# DNS follows rtalloc-track's choice (#22 item 6): the agent's servers-file
# holds each uplink's DNS servers (from `rtalloc hint --dns`) and leaves out
# those of an uplink the running rtalloc-track reports offline, so the host's
# resolver stops waiting on a dead uplink's servers; they come back with the
# uplink.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent
[ -x "$AGENT" ] || t_skip "$AGENT not built (make tests)"
tk_agent_topology
SERVERS=$T_DIR/servers.conf
TK_STATE=$T_DIR/track-state.json
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["up*"], "families": ["inet"], "dns_servers_file": "$SERVERS" }
EOC
t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
t_bg_ready rtalloc-agent "$H" env RTALLOC_TRACK_STATE="$TK_STATE" "$AGENT" -c "$T_DIR/agent.json" || exit 1
hint() { ip netns exec "$H" "$RTALLOC" hint -d "$T_SOCK" "$@"; }
hint up1 --dns 10.1.0.53
hint up2 --dns 10.2.0.53
both="server=10.1.0.53@up1@10.1.0.2
server=10.2.0.53@up2@10.2.0.2"
is() { [ "$1" = "$(cat "$SERVERS" 2>/dev/null)" ]; }
t_check "without rtalloc-track: both uplinks' servers" t_wait 5 is "$both"
tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'
t_check "both come online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_check "both online: both uplinks' servers" t_wait 5 is "$both"
tk_cut 100 1
t_check "up1 offline" t_wait 10 tk_is up1 offline
t_check "up1 offline: its server leaves the servers-file" t_wait 5 is "server=10.2.0.53@up2@10.2.0.2"
tk_cut 0 1
t_check "up1 back online" t_wait 10 tk_is up1 online
t_check "up1 online again: its server is back" t_wait 5 is "$both"
t_done
