#!/bin/bash
# agent.json "mptcp": {"up*": "fullmesh"}: every global address of both
# uplinks is an MPTCP endpoint with the subflow and fullmesh flags; the far
# host announces a second address (ADD_ADDR), and an MPTCP connection from
# the host then carries a subflow from each uplink's address to each of
# the far host's, each out of its own uplink (the ISPs drop any other
# source): four, where "subflow" endpoints make three.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
up_start '"mptcp": {"up*": "fullmesh"}'
eps() { t_in "$H" ip mptcp endpoint show; }
t_check "an endpoint per global address, subflow fullmesh ($(eps | tr '\n' ';'))" t_wait 3 eval \
	'[ "$(eps | grep -c "subflow fullmesh")" = 4 ] && eps | grep -q "^10.2.0.2 id [0-9]* subflow fullmesh dev up2"'
t_check "show up1 --json: its endpoints' flags" python3 -c '
import json, sys
u = json.loads(sys.stdin.read())["uplinks"][0]
assert sorted((e["address"], e["flags"]) for e in u["mptcp"]) == \
    [("10.1.0.2", ["subflow", "fullmesh"]), ("2001:db8:1::2", ["subflow", "fullmesh"])], u["mptcp"]' \
	<<<"$(up_show up1 --json)"

# The far host: a second address it announces, its limits raised, and an
# MPTCP sink on every address counting what it got.
ip -n "$TK_F" addr add 198.51.100.2/32 dev lo
t_in "$TK_F" ip mptcp limits set subflow 8 add_addr_accepted 8
t_in "$TK_F" ip mptcp endpoint add 198.51.100.2 dev lo signal
up_mptcp_sink 0.0.0.0 "$T_DIR/got"
sleep 0.3
# The host: an MPTCP sender, 16 KiB every 50 ms for 6 s.
up_mptcp_send 6
SENDER=$T_LAST_PID
# The far host's word: established subflows as "SOURCE>ITS ADDRESS".
pairs() {
	t_in "$TK_F" ss -tnH state established '( sport = :8000 )' |
		awk '{ sub(/:[0-9]+$/, "", $3); sub(/:[0-9]+$/, "", $4); print $4 ">" $3 }' | sort | tr '\n' ' '
}
want="10.1.0.2>198.51.100.1 10.1.0.2>198.51.100.2 10.2.0.2>198.51.100.1 10.2.0.2>198.51.100.2 "
t_check "fullmesh: a subflow from each uplink's address to each far address ($(pairs))" \
	t_wait 5 eval "[ \"\$(pairs)\" = '$want' ]"
echo "# subflows: $(pairs)"
got() { cat "$T_DIR/got" 2>/dev/null || echo 0; }
before=$(got)
sleep 1
t_check "the connection transfers ($before -> $(got) bytes)" test "$(got)" -gt $((before + 100000))
wait "$SENDER"
t_done
