#!/bin/bash
# agent.json "mptcp": {"up*": "subflow"}: every global address of both
# uplinks is an MPTCP endpoint (generic netlink mptcp_pm) with the subflow
# limit following their number; an MPTCP connection (an IPPROTO_MPTCP
# socket) from the host to the far host carries a subflow through each
# uplink, each with its uplink's source (the ISPs drop any other), and
# keeps transferring when ISP1 dies.  An endpoint the agent did not add is
# left alone; the agent's go when it stops.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
export RTALLOC_TRACK_STATE=$T_DIR/track-state.json	# tk_start's TK_STATE
up_start '"mptcp": {"up*": "subflow"}'
eps() { t_in "$H" ip mptcp endpoint show; }
t_check "an endpoint per global address ($(eps | tr '\n' ';'))" t_wait 3 eval \
	'[ "$(eps | grep -c "subflow")" = 4 ] && eps | grep -q "^10.2.0.2 id [0-9]* subflow dev up2"'
t_check "show up2 --json: its endpoints" python3 -c '
import json, sys
u = json.loads(sys.stdin.read())["uplinks"][0]
assert sorted((e["address"], e["flags"]) for e in u["mptcp"]) == \
    [("10.2.0.2", ["subflow"]), ("2001:db8:2::2", ["subflow"])], u["mptcp"]
assert all(isinstance(e["id"], int) for e in u["mptcp"])' <<<"$(up_show up2 --json)"
t_check "limits follow: 4 subflows" grep -q "subflows 4" <<<"$(t_in "$H" ip mptcp limits show)"

tk_start '"interval": 0.3, "timeout": 0.3, "down": 2, "up": 2, "targets": ["198.51.100.1"]'
t_check "track: both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'

# The far host: an MPTCP sink counting what it got; limits raised.
t_in "$TK_F" ip mptcp limits set subflow 4 add_addr_accepted 4
up_mptcp_sink 198.51.100.1 "$T_DIR/got"
sleep 0.3
# The host: an MPTCP sender, 16 KiB every 50 ms for 8 s.
up_mptcp_send 8
subflows() { t_in "$TK_F" ss -tnH state established '( sport = :8000 )' | awk '{ print $4 }' | sed 's/:[0-9]*$//' | sort; }
t_check "a subflow through each uplink, each with its source ($(subflows | tr '\n' ' '))" t_wait 4 eval \
	'[ "$(subflows | tr "\n" " ")" = "10.1.0.2 10.2.0.2 " ]'
echo "# subflows: $(subflows | tr '\n' ' ')"
got() { cat "$T_DIR/got" 2>/dev/null || echo 0; }
tk_cut 100 1
before=$(got)
sleep 2
after=$(got)
t_check "ISP1 dead: the connection keeps transferring ($before -> $after bytes)" test "$after" -gt $((before + 100000))
t_check "up1 offline in rtalloc-track: its endpoint is a backup ($(eps | tr '\n' ';'))" t_wait 3 eval \
	'eps | grep -q "^10.1.0.2 id [0-9]* subflow backup dev up1"'
tk_cut 0 1
t_check "up1 online again: no longer a backup" t_wait 5 eval \
	'eps | grep -q "^10.1.0.2 id [0-9]* subflow dev up1"'

kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "agent stopped: its endpoints are gone" "" "$(eps)"

# An endpoint someone else added (NetworkManager does) stays.
t_in "$H" ip mptcp endpoint add 10.1.0.2 id 77 subflow dev up1
up_agent || exit 1
t_check "agent again: the other three are its" t_wait 3 eval '[ "$(eps | grep -c subflow)" = 4 ]'
t_eq "10.1.0.2 keeps the endpoint it had" "10.1.0.2 id 77 subflow dev up1" "$(eps | grep "^10.1.0.2 " | sed 's/ *$//')"
kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "agent stopped: only the other one's endpoint is left" "10.1.0.2 id 77 subflow dev up1" "$(eps | sed 's/ *$//')"
t_done
