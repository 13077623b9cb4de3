#!/bin/bash
# rtalloc-agent's renewals say which table it holds ("table", issue 15): when
# rtallocd loses its database and a newcomer asks first, the agent's address
# gets its table back and its rules never move.  (The server
# holds new keys off during its grace period; without "table" the agent's
# key would be one of them.)  And when the agent was killed (-9) and its
# table went to another key meanwhile, the restarted agent gets another
# table and nothing of the crashed run's stays (issue 20).
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
AGENT_PID=$T_LAST_PID
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

# kill -9; the lease ends (table_timeout 4) and another key takes the table.
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
t_check "the killed agent's lease ends" \
	t_wait 8 bash -c "[ \"\$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE address='192.0.2.7' AND alive=1\")\" = 0 ]"
N=$(t_req "{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.9.9.8\",\"ifname\":\"x0\",\"seq\":2,\"table\":$T}" | t_field table)
t_eq "another key gets table $T" "$T" "$N"
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>>"$T_DIR/agent.log" || exit 1
t_check "the restarted agent's address gets another table" \
	t_wait 5 bash -c "[ -n \"\$(sqlite3 $T_DB \"SELECT tbl FROM leases WHERE address='192.0.2.7' AND alive=1\")\" ]"
T2=$(t_rows "SELECT tbl FROM leases WHERE address='192.0.2.7' AND alive=1")
t_check "its rules look up $T2 only" \
	t_wait 3 bash -c "[ \"\$(ip -n $H rule show pref 10000 | awk '\$3 == \"192.0.2.7\" { print \$5 }')\" = $T2 ]"
t_eq "nothing of the crashed run's table $T is left" "" \
	"$(ip -n "$H" rule | grep "lookup $T "; ip -n "$H" route show table "$T" 2>/dev/null)"
t_done
