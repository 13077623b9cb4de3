#!/bin/bash
# bench/track.sh: rtalloc-track's figures for `make bench` (root):
#   failover   interval 1, down 3: from the moment ISP 1 starts dropping
#              everything it forwards (its nft rule is in) to the moment
#              the kernel announces unbound traffic's rule pointing at up2
#              (its timestamp in `ip -ts monitor rule`), over
#              TRACK_RUNS cuts at random phases of the round; target <= 4 s
#              (the design's worst case is down x interval + timeout = 3.5 s).  Then a real TCP connection checks it works.
#   switch     the daemon's own measure of decision -> rules ACKed by the
#              kernel ("rules in X ms" in its log); target <= 10 ms.
#   steadiness 20% random loss, defaults (interval 5, down 3, up 3, k 1), 5
#              minutes of simulated time per window (bench/track_sim: the
#              real policy code, a fake clock and a fake prober); target: no
#              state change, i.e. a false-switch rate of 0 with 2 targets.
#   cost       10 uplinks, 2 targets each, interval 1 and 5: echo requests
#              per second seen by the targets' host, and the daemon's CPU
#              (utime + stime over the run).
#   detection  30% loss and 600 ms RTT against the example thresholds
#              (etc/track.json: max_loss 20, max_rtt 500, window 60, interval
#              5): time to degraded, median and max over 1000 simulated runs
#              (bench/track_sim -D: the real policy code, a fake clock).
#   hand-off   a LAN host's UDP stream (200 packets/s, fixed snat per
#              uplink) after each switch and fail-back: from the kernel's
#              announcement of the new rule to the far host's first datagram
#              from the new uplink's address; median and max.
#   metered    probe bytes per day at the defaults (interval 5) of a metered
#              uplink that is idle and of one busy with its own TCP traffic
#              (the daemon's own count, over TRACK_METERED_SECONDS once online).
# Prints a table and one `BENCH_TRACK_JSON {...}` line; fails only when the
# bench itself cannot run.
. "$(dirname "$0")/../tests/lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
RUNS=${TRACK_RUNS:-5}
COST_SECONDS=${TRACK_COST_SECONDS:-20}
METERED_SECONDS=${TRACK_METERED_SECONDS:-30}
JSON=""
fig() { JSON+="${JSON:+,}\"$1\":$2"; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }
maxof() { sort -n | tail -n 1; }
met() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {print (op == ">=" ? v >= l : v <= l) ? "met" : "missed"}'; }

# --- failover and switch, real traffic ---------------------------------
tk_topology
tk_start '"interval": 1, "down": 3, "up": 3,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1", "198.51.100.2"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1", "198.51.100.2"] } ]'
t_wait 15 eval 'tk_is up1 online && tk_is up2 online' || { echo "bench: uplinks did not come online" >&2; exit 1; }
times=()
MON=$T_DIR/rules.mon
ip -n "$TK_H" -ts monitor rule >"$MON" &
MON_PID=$!
t_on_exit "kill $MON_PID"
# rule_at_ms TABLE: when (ms since the epoch) the kernel announced the last
# `iif lo lookup TABLE` rule at 30001 (ip -ts monitor: no polling in the figure).
rule_at_ms() {
	local ts
	ts=$(tr -d "\\000" <"$MON" | grep -v Deleted | grep "^\[.*\] 30001:.*iif lo lookup $1 " | tail -n 1 | sed 's/^\[\([^]]*\)\].*/\1/')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
for ((r = 1; r <= RUNS; r++)); do
	: >"$MON"
	# The upstream is dead once the drop rule is in (nft returned).
	tk_cut 100 1
	t0=$(now_ms)
	until tk_rule_is 10002; do
		sleep 0.05
		[ $(($(now_ms) - t0)) -gt 20000 ] && { echo "bench: no failover within 20 s" >&2; exit 1; }
	done
	t1=$(rule_at_ms 10002) || t1=$(now_ms)
	times+=("$((t1 - t0))")
	[ "$(tk_src)" = 10.2.0.2 ] || { echo "bench: unbound TCP did not leave by up2" >&2; exit 1; }
	tk_cut 0 1
	t_wait 15 tk_rule_is 10001 || { echo "bench: no failback" >&2; exit 1; }
	# A random phase against the round timer for the next cut.
	sleep "0.$((RANDOM % 10))"
done
fo_med=$(printf '%s\n' "${times[@]}" | median)
fo_max=$(printf '%s\n' "${times[@]}" | maxof)
sw_max=$(sed -n 's/.*rules in \([0-9.]*\) ms.*/\1/p' "$TK_LOG" | sort -g | tail -n 1)
sw_med=$(sed -n 's/.*rules in \([0-9.]*\) ms.*/\1/p' "$TK_LOG" | sort -g | median)
kill "$TK_PID"; wait "$TK_PID" 2>/dev/null

# --- hand-off, real traffic ------------------------------------------------
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
tk_lan snat
FAR=$T_DIR/far.log
tk_udp_stream "$FAR" 5
tk_start '"interval": 1, "down": 3, "up": 3, "forward_from": ["lan0"],
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1", "198.51.100.2"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1", "198.51.100.2"] } ]'
t_wait 15 eval 'tk_is up1 online && tk_is up2 online' || { echo "bench: uplinks did not come online" >&2; exit 1; }
hand=()
# moved TABLE SOURCE: ms from the rule's announcement to SOURCE's first datagram.
moved() {
	local t a i
	t=$(rule_at_ms "$1") || return 1
	for ((i = 0; i < 50; i++)); do
		a=$(tk_first_from "$FAR" "$2" "$t")
		[ -n "$a" ] && { echo "$((a - t))"; return 0; }
		sleep 0.1
	done
	return 1
}
for ((r = 1; r <= RUNS; r++)); do
	: >"$MON"
	tk_cut 100 1
	t_wait 20 tk_rule_is 10002 || { echo "bench: no failover" >&2; exit 1; }
	ms=$(moved 10002 10.2.0.2) || { echo "bench: the stream did not move to up2" >&2; exit 1; }
	hand+=("$ms")
	tk_cut 0 1
	t_wait 20 tk_rule_is 10001 || { echo "bench: no failback" >&2; exit 1; }
	ms=$(moved 10001 10.1.0.2) || { echo "bench: the stream did not move back" >&2; exit 1; }
	hand+=("$ms")
done
ho_med=$(printf '%s\n' "${hand[@]}" | median)
ho_max=$(printf '%s\n' "${hand[@]}" | maxof)
kill "$TK_PID"; wait "$TK_PID" 2>/dev/null

# --- metered, real traffic, defaults ---------------------------------------
t_bg "$TK_F" socat TCP-LISTEN:9,fork,reuseaddr PIPE
tk_start '"uplinks": [ { "interface": "up1", "priority": 1, "metered": true, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "metered": true, "targets": ["198.51.100.1"] } ]'
t_wait 30 eval 'tk_is up1 online && tk_is up2 online' || { echo "bench: metered uplinks did not come online" >&2; exit 1; }
echo go >"$T_DIR/busy"
t_bg "$TK_H" "$PY" -c '
import os, socket, sys, time
c = socket.create_connection(("198.51.100.1", 9), source_address=("10.1.0.2", 0))
while os.path.exists(sys.argv[1]):
    c.sendall(b"x" * 200); c.recv(4096); time.sleep(0.5)' "$T_DIR/busy"
pbytes() { python3 -c 'import json, sys
print(" ".join(str(u["probe_bytes"]) for u in json.load(open(sys.argv[1]))["uplinks"]))' "$TK_STATE"; }
sleep 6
read -r b1 b2 <<<"$(pbytes)"
sleep "$METERED_SECONDS"
read -r e1 e2 <<<"$(pbytes)"
rm -f "$T_DIR/busy"
busy_day=$(( (e1 - b1) * 86400 / METERED_SECONDS ))
idle_day=$(( (e2 - b2) * 86400 / METERED_SECONDS ))
kill "$TK_PID"; wait "$TK_PID" 2>/dev/null

# --- detection, simulated ---------------------------------------------------
det_loss=$("$BUILD/bench/track_sim" -D 1000 -l 0.3 -r 20)
det_rtt=$("$BUILD/bench/track_sim" -D 1000 -l 0 -r 600)
dfig() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

# --- steadiness, simulated ------------------------------------------------
sim=$("$BUILD/bench/track_sim" -l 0.2 -s 300 -w 100000)
rate() { sed -n "s/^targets=$1 .*false_switch_rate=\\([0-9.]*\\).*/\\1/p" <<<"$sim"; }

# --- cost at 10 uplinks ---------------------------------------------------
t_netns c; C=$T_NS
t_netns p; P=$T_NS
for i in $(seq 1 10); do
	t_veth "$C" "u$i" "$P" "d$i" || exit 1
	ip -n "$C" addr add "10.20.$i.2/24" dev "u$i"
	ip -n "$P" addr add "10.20.$i.1/24" dev "d$i"
	ip -n "$C" route add default via "10.20.$i.1" dev "u$i" table "$((20000 + i))"
	ip -n "$C" rule add from "10.20.$i.2" lookup "$((20000 + i))" pref 10000 proto 122
done
ip -n "$P" route add local 198.51.100.0/24 dev lo
echos() { t_in "$P" awk '/^Icmp:/ && n++ {print $10}' /proc/net/snmp; }	# InEchos
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cost() {
	local interval=$1 e0 e1 c0 c1 pid
	cat >"$T_DIR/cost.json" <<-EOC
	{ "interval": $interval, "targets": ["198.51.100.1", "198.51.100.2"],
	  "state_file": "$T_DIR/cost-state.json", "hook_dir": "$T_DIR/none" }
	EOC
	t_bg_ready rtalloc-track "$C" "$TRACK" -c "$T_DIR/cost.json" || exit 1
	pid=$T_LAST_PID
	sleep 2
	e0=$(echos); c0=$(ticks "$pid")
	sleep "$COST_SECONDS"
	e1=$(echos); c1=$(ticks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null
	awk -v e="$((e1 - e0))" -v c="$((c1 - c0))" -v s="$COST_SECONDS" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.1f %.2f\n", e / s, 100 * c / hz / s}'
}
read -r pps1 cpu1 <<<"$(cost 1)"
read -r pps5 cpu5 <<<"$(cost 5)"

printf '\nrtalloc-track\n'
printf '%-58s %12s %s\n' "failover, upstream dies -> unbound via up2 (median of $RUNS)" "$fo_med ms" \
	"(max $fo_max ms; <= 4000 ms: $(met "$fo_max" '<=' 4000))"
printf '%-58s %12s %s\n' "switch, decision -> rules ACKed (median)" "$sw_med ms" \
	"(max $sw_max ms; <= 10 ms: $(met "$sw_max" '<=' 10))"
printf '%-58s %12s %s\n' "false switches, 20% loss, 5 min windows, 1 target" "$(rate 1)" \
	"(0: $(met "$(rate 1)" '<=' 0))"
printf '%-58s %12s %s\n' "false switches, 20% loss, 5 min windows, 2 targets" "$(rate 2)" \
	"(0: $(met "$(rate 2)" '<=' 0))"
printf '%-58s %12s\n' "false switches, 20% loss, 5 min windows, 3 targets" "$(rate 3)"
printf '%-58s %12s %s\n' "detection, 30% loss, example thresholds (median, sim)" "$(dfig "$det_loss" median_s) s" \
	"(max $(dfig "$det_loss" max_s) s)"
printf '%-58s %12s %s\n' "detection, 600 ms RTT, example thresholds (median, sim)" "$(dfig "$det_rtt" median_s) s" \
	"(max $(dfig "$det_rtt" max_s) s)"
printf '%-58s %12s %s\n' "hand-off, rule -> first datagram from the new address" "$ho_med ms" \
	"(max $ho_max ms over $((2 * RUNS)) switches)"
printf '%-58s %12s\n' "metered, idle: probe bytes/day (interval 5)" "$idle_day"
printf '%-58s %12s\n' "metered, busy: probe bytes/day (interval 5)" "$busy_day"
printf '%-58s %12s %s\n' "10 uplinks x 2 targets, interval 1: echo requests/s" "$pps1" "(CPU $cpu1%)"
printf '%-58s %12s %s\n' "10 uplinks x 2 targets, interval 5: echo requests/s" "$pps5" "(CPU $cpu5%)"
fig failover_ms_median "$fo_med"; fig failover_ms_max "$fo_max"
fig switch_ms_median "$sw_med"; fig switch_ms_max "$sw_max"
fig false_switch_rate_1 "$(rate 1)"; fig false_switch_rate_2 "$(rate 2)"; fig false_switch_rate_3 "$(rate 3)"
fig detect_loss30_s_median "$(dfig "$det_loss" median_s)"; fig detect_loss30_s_max "$(dfig "$det_loss" max_s)"
fig detect_rtt600_s_median "$(dfig "$det_rtt" median_s)"; fig detect_rtt600_s_max "$(dfig "$det_rtt" max_s)"
fig handoff_ms_median "$ho_med"; fig handoff_ms_max "$ho_max"
fig metered_idle_bytes_day "$idle_day"; fig metered_busy_bytes_day "$busy_day"
fig pps_10_uplinks_i1 "$pps1"; fig cpu_pct_10_uplinks_i1 "$cpu1"
fig pps_10_uplinks_i5 "$pps5"; fig cpu_pct_10_uplinks_i5 "$cpu5"
echo "BENCH_TRACK_JSON {$JSON}"
t_done
