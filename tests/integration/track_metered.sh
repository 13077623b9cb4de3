#!/bin/bash
# rtalloc-track's metered uplinks (tests/track-topology.sh): while up1's
# own TCP traffic has data acknowledged round after round, no probe leaves
# by up1 (counted by ISP 1's nftables: 10 s of traffic at interval 0.3 s is
# 33 rounds, more than a minute at the default interval); idle up2, metered
# too, is probed; when up1's traffic stops, its probes resume; the state
# file reports probe bytes per day.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
for i in 1 2; do
	isp=TK_I$i
	t_in "${!isp}" nft add table inet cnt
	t_in "${!isp}" nft add chain inet cnt c "{ type filter hook forward priority -5; policy accept; }"
	t_in "${!isp}" nft add rule inet cnt c ip saddr "10.$i.0.2" icmp type echo-request counter
done
# probes I: echo requests ISP I forwarded from its customer so far.
probes() {
	local isp=TK_I$1
	t_in "${!isp}" nft list chain inet cnt c | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}
t_bg "$TK_F" socat TCP-LISTEN:9,fork,reuseaddr PIPE

tk_start '"interval": 0.3, "timeout": 0.25, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "priority": 1, "metered": true, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "metered": true, "targets": ["198.51.100.1"] } ]'
t_check "both online (probed: no traffic proved them yet)" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_check "up1 was probed while not online" test "$(probes 1)" -ge 2

# Traffic from up1's address: 200 bytes every 50 ms to the far host's echo.
echo go >"$T_DIR/busy"
t_bg "$TK_H" "$PY" -c '
import os, socket, sys, time
c = socket.create_connection(("198.51.100.1", 9), source_address=("10.1.0.2", 0))
while os.path.exists(sys.argv[1]):
    c.sendall(b"x" * 200); c.recv(4096); time.sleep(0.05)' "$T_DIR/busy"
sleep 1
p1=$(probes 1) p2=$(probes 2)
sleep 10
t_eq "busy metered up1: no probe in 10 s (33 rounds) of its own traffic" "$p1" "$(probes 1)"
t_check "idle metered up2 was probed meanwhile ($p2 -> $(probes 2))" test "$(probes 2)" -ge "$((p2 + 20))"
t_eq "up1 stayed online" online "$(tk_state up1)"
t_check "the state file: up1's rounds proven by traffic, probe bytes per day for both" python3 -c '
import json, sys
u = {x["interface"]: x for x in json.load(open(sys.argv[1]))["uplinks"]}
assert u["up1"]["metered"] and u["up1"]["rounds_proven"] >= 30, u["up1"]
assert 0 < u["up1"]["probe_bytes_day"] < u["up2"]["probe_bytes_day"], u' "$TK_STATE"

rm "$T_DIR/busy"
p1=$(probes 1)
t_check "traffic stopped: up1 is probed again" t_wait 5 eval '[ "$(probes 1)" -gt "$p1" ]'
t_done
