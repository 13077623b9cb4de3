#!/bin/bash
# bench/uplinks.sh: uplinks by name (issue 23), run by `make bench`.  Prints,
# against references measured in the same run:
#   `rtalloc exec UPLINK -- true`: the time added to a plain `true`, per
#     run: 5 rounds, each 20 of `true` then 20 of exec, the median round
#     (goal <= 5 ms; rounds side by side so the machine's load drifts
#     through both alike);
#   `rtalloc show` over 100 uplinks of rtalloc-agent, mean of 10 (goal <=
#     50 ms), beside `ip -br addr` of the same namespace.
# Nothing fails on a figure; the exit status says whether the bench ran.
. "$(dirname "$0")/../tests/lib.sh"
t_require_root
N=${BENCH_UPLINKS_N:-100}
RUNS=20
ROUNDS=5
die() { echo "bench/uplinks: $*" >&2; exit 1; }
TIMECMD=$BUILD/bench/timecmd

t_netns a; H=$T_NS
t_netns i; ISP=$T_NS
t_server "$H" '"num_tables": 1000' || die "rtallocd did not start"
for ((i = 0; i < N; i++)); do
	t_veth "$H" "up$i" "$ISP" "isp$i" || die "veth $i"
	echo "address add 10.$((i / 250 + 1)).$((i % 250)).2/24 dev up$i"
done >"$T_DIR/addrs.batch"
ip -n "$H" -batch "$T_DIR/addrs.batch" || die "addresses"
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["up*"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent.log" || die "agent did not start"
count() { ip -n "$H" -4 rule show pref 10000 | grep -c 'proto 122'; }
t_wait 30 eval '[ "$(count)" -ge "$N" ]' || die "not every uplink got its rules ($(count))"

seq_of() {	# seq_of N CMD...: CMD N times, as timecmd's arguments
	local n=$1 i; shift
	for ((i = 0; i < n; i++)); do
		[ "$i" -gt 0 ] && printf '%s\0' ';;'
		printf '%s\0' "$@"
	done
}
mapfile -d '' plain < <(seq_of "$RUNS" true)
mapfile -d '' ex < <(seq_of "$RUNS" "$RTALLOC" exec -d "$T_SOCK" up0 -- true)
mapfile -d '' ip_br < <(seq_of 10 ip -br addr)
mapfile -d '' show < <(seq_of 10 "$RTALLOC" show -d "$T_SOCK" -c "$T_DIR/agent.json")
for ((r = 0; r < ROUNDS; r++)); do
	p=$(t_in "$H" "$TIMECMD" "${plain[@]}") || die "true failed"
	e=$(t_in "$H" "$TIMECMD" "${ex[@]}") || die "rtalloc exec failed"
	echo "$((e - p)) $p $e"
done | sort -n >"$T_DIR/rounds"
read -r _ P E < <(sed -n "$((ROUNDS / 2 + 1))p" "$T_DIR/rounds")
B=$(t_in "$H" "$TIMECMD" "${ip_br[@]}") || die "ip -br addr failed"
S=$(t_in "$H" "$TIMECMD" "${show[@]}") || die "rtalloc show failed"

ms() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", a / n / 1000 }'; }
printf '%-58s %10s\n' "figure" "value"
printf '%-58s %10s\n' "reference: true, per run (ms; median round)" "$(ms "$P" "$RUNS")"
printf '%-58s %10s\n' "rtalloc exec UPLINK -- true, per run (ms)" "$(ms "$E" "$RUNS")"
printf '%-58s %10s\n' "  added by rtalloc exec (ms; goal <= 5)" "$(ms $((E - P)) "$RUNS")"
printf '%-58s %10s\n' "reference: ip -br addr, $N uplinks (ms)" "$(ms "$B" 10)"
printf '%-58s %10s\n' "rtalloc show, $N uplinks (ms; goal <= 50)" "$(ms "$S" 10)"
echo "BENCH_UPLINKS_JSON {\"true_us\":$((P / RUNS)),\"exec_us\":$((E / RUNS)),\"ip_br_us\":$((B / 10)),\"show_us\":$((S / 10))}"
t_done
