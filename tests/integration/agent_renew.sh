#!/bin/bash
# rtalloc-agent's renewals say which table it holds ("table", issue 15): when
# rtallocd loses its database and a newcomer asks first, the agent's address
# gets its table back and its rules never move.  (The server
# holds new keys off during its grace period; without "table" the agent's
# key would be one of them.)
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
CONF='"table_timeout": 4'
t_server "$H" "$CONF" || exit 1
ip -n "$H" addr add 192.0.2.7/24 dev wan0
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan0"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent.log" || exit 1
table_of() { ip -n "$H" rule show pref 10000 | awk -v a="$1" '$3 == a && / proto 122/ { print $5 }'; }
T=$(table_of 192.0.2.7)
t_check "the agent's address has a table" test -n "$T"
t_in "$H" ip monitor rule >"$T_DIR/mon" 2>&1 &
MON=$!

# The database lost; a newcomer asks before the agent renews.
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
rm -f "$T_DB" "$T_DB"-wal "$T_DB"-shm
t_server "$H" "$CONF" || exit 1
N=$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"10.9.9.9","ifname":"x0","seq":1}' | t_field table)
t_check "the newcomer does not get the agent's table (got ${N:-none})" test "${N:-0}" != "$T"
t_check "the agent's renewal gets its table back" \
	t_wait 6 bash -c "[ \"\$(sqlite3 $T_DB \"SELECT tbl FROM leases WHERE address='192.0.2.7' AND alive=1\")\" = $T ]"
t_eq "its rules still look up $T" "$T" "$(table_of 192.0.2.7)"
kill "$MON"; wait "$MON" 2>/dev/null
t_eq "and were never deleted meanwhile" "" "$(grep Deleted "$T_DIR/mon")"
t_done
