#!/bin/bash
# rtalloc-track's quality thresholds with real traffic
# (tests/track-topology.sh): at 30 % loss (nftables numgen random on ISP 1)
# up1 becomes degraded and unbound traffic moves to up2, with one log line
# giving the figures; it comes back under clear_loss; at 5 % nothing
# changes; replies delayed past max_rtt (a userspace echo responder on the
# far host: no netem here) make it degraded too, and a reply slower than a
# retry is no loss; the state file holds the window's loss, median and
# jitter (track_status: rtalloc shows them); without thresholds configured
# the same loss changes nothing (today's behaviour).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
DELAY=$T_DIR/delay
tk_slow_echo "$DELAY"

# No thresholds: 30% loss for 6 s is no state change (k 1 of 1, a retry).
tk_start '"interval": 0.25, "timeout": 0.24, "down": 3, "up": 3,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'
t_check "both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
tk_cut 30 1 ip daddr 198.51.100.0/24
sleep 6
t_eq "without thresholds 30% loss makes no degraded uplink" "" "$(grep degraded "$TK_LOG")"
tk_cut 0 1
kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"

tk_start '"interval": 0.25, "timeout": 0.24, "down": 3, "up": 3,
  "max_loss": 20, "clear_loss": 8, "max_rtt": 50, "clear_rtt": 30, "window": 10,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'
t_check "both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_eq "unbound traffic on up1" 10001 "$(tk_rule)"

tk_cut 5 1 ip daddr 198.51.100.0/24
sleep 12
t_eq "5% loss for 12 s: up1 stays online" online "$(tk_state up1)"
t_eq "5% loss: unbound traffic stays on up1" 10001 "$(tk_rule)"

tk_cut 30 1 ip daddr 198.51.100.0/24
t_check "30% loss: up1 becomes degraded" t_wait 20 tk_is up1 degraded
t_check "unbound traffic moves to up2" t_wait 3 tk_rule_is 10002
t_eq "unbound TCP leaves by up2" 10.2.0.2 "$(tk_src)"
t_check "one log line with the figures" \
	grep -Eq "up1: degraded \([01]/1 targets, [0-9]+ rounds?\) loss [0-9.]+% > max_loss 20%, median [0-9.]+ ms, jitter [0-9.]+ ms over [0-9]+ probes" "$TK_LOG"
t_check "the state file: up1 degraded with the window's loss, median and jitter" python3 -c '
import json, sys
u = {x["interface"]: x for x in json.load(open(sys.argv[1]))["uplinks"]}
assert u["up1"]["state"] == "degraded" and u["up1"]["loss"] > 10 and u["up1"]["window_s"] == 10, u
assert "jitter_ms" in u["up1"] and u["up1"]["rtt_ms"] > 0 and not u["up1"]["unbound"], u' "$TK_STATE"
tk_cut 0 1
t_check "loss gone: up1 online again under clear_loss" t_wait 20 tk_is up1 online
t_check "unbound traffic back on up1" t_wait 3 tk_rule_is 10001
t_check "logged with the clear level" grep -q "up1: online .* <= clear_loss 8%" "$TK_LOG"

# 150 ms: past the retries at 1/2 and 2/3 of the timeout (120, 160 ms),
# before it ends (240 ms): slow, not lost.
echo 150 >"$DELAY"
t_check "replies 150 ms late (max_rtt 50): up1 degraded" t_wait 20 tk_is up1 degraded
t_check "logged: median > max_rtt" grep -Eq "up1: degraded .* median [0-9.]+ ms > max_rtt 50 ms" "$TK_LOG"
t_check "unbound traffic on up2" t_wait 3 tk_rule_is 10002
t_check "the state file: median about 150 ms, and a slow reply that crossed a retry is no loss" \
	t_wait 15 python3 -c '
import json, sys
u = {x["interface"]: x for x in json.load(open(sys.argv[1]))["uplinks"]}
assert 145 <= u["up1"]["rtt_ms"] <= 230 and u["up2"]["rtt_ms"] < 50, u
assert u["up1"]["loss"] < 5, u' "$TK_STATE"
echo 0 >"$DELAY"
t_check "prompt replies again: up1 online" t_wait 20 tk_is up1 online
t_done
