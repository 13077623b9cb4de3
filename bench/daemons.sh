#!/bin/bash
# bench/daemons.sh: the per-address `rtalloc` daemons (the hook path) at
# scale (issue 12), run by `make bench`.  Prints:
#   N addresses brought up by one `rtalloc` run each, one after another: the
#     whole time, and the median time of one run among the first 50 and
#     among the last 50 (a run must not cost more as the host fills);
#   with those N daemons running, 100 address additions on another
#     interface: wake-ups (voluntary + involuntary context switches) and CPU
#     time summed over the daemons (goal: a few hundred in all, not N x 100).
# Each run is given its address's route (--route ADDR/32), as the hooks
# always give the routes: its daemon then also owns the table's routes
# through the engine, with an event socket of its own
# (BENCH_DAEMONS_ROUTE=0: no --route, rules only, as before the hooks did).
# Nothing fails on a figure; the exit status says whether the bench ran.
. "$(dirname "$0")/../tests/lib.sh"
t_require_root
N=${BENCH_DAEMONS_N:-1000}
ROUTE=${BENCH_DAEMONS_ROUTE:-1}
die() { echo "bench/daemons: $*" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

t_netns d; H=$T_NS
t_netns i; ISP=$T_NS
t_in "$H" sysctl -qw net.unix.max_dgram_qlen=512 || die "cannot set net.unix.max_dgram_qlen"
t_veth "$H" wan0 "$ISP" isp0 || die "veth"
t_veth "$H" lan0 "$ISP" isp1 || die "veth"
# Leases of an hour: no renewal falls into the windows counted below.
t_server "$H" "\"num_tables\": $((N + 100)), \"table_timeout\": 3600" || die "rtallocd did not start"
addr() { echo "10.$(( $1 / 250 + 1 )).$(( $1 % 250 + 1 )).1"; }
for ((i = 0; i < N; i++)); do echo "address add $(addr "$i")/32 dev wan0"; done >"$T_DIR/addrs.batch"
ip -n "$H" -batch "$T_DIR/addrs.batch" || die "address batch failed"

# One run per address, each timed alone by timecmd (no shell fork inside the
# figure); the runs' daemons stay.  All in one shell in the namespace.
t_in "$H" bash -c '
	for ((i = 0; i < '"$N"'; i++)); do
		a="10.$(( i / 250 + 1 )).$(( i % 250 + 1 )).1"
		r=(); [ "$4" = 1 ] && r=(--route "$a/32")
		"$1" "$2" -d "$3" -4 -a "$a" -n 32 -i wan0 "${r[@]}" || echo "run $i failed" >&2
	done' _ "$BUILD/bench/timecmd" "$RTALLOC" "$T_SOCK" "$ROUTE" >"$T_DIR/runs" 2>"$T_DIR/runs.err" ||
	die "the runs failed"
grep -q "failed" "$T_DIR/runs.err" && die "$(grep -m3 failed "$T_DIR/runs.err")"
TOTAL=$(awk '{ s += $1 } END { printf "%d", s / 1000 }' "$T_DIR/runs")
FIRST=$(head -50 "$T_DIR/runs" | median)
LAST=$(tail -50 "$T_DIR/runs" | median)
mapfile -t PIDS < <(t_daemons "$H")
[ "${#PIDS[@]}" -eq "$N" ] || die "${#PIDS[@]} daemons running, not $N"
RULES=$(ip -n "$H" -4 rule show | grep -c 'proto 122')
[ "$RULES" -eq $((N * 3)) ] || die "$RULES rules, not $((N * 3))"

# Wake-ups and CPU time of every daemon, summed.
ctx() { for p in "${PIDS[@]}"; do cat "/proc/$p/status"; done | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
cpu() { for p in "${PIDS[@]}"; do cat "/proc/$p/stat"; done | awk '{ s += $14 + $15 } END { print s }'; }
sleep 1
for ((i = 0; i < 100; i++)); do echo "address add 172.16.$((i / 250)).$((i % 250 + 1))/32 dev lan0"; done >"$T_DIR/lan.batch"
c0=$(ctx); u0=$(cpu)
ip -n "$H" -batch "$T_DIR/lan.batch" || die "lan batch failed"
sleep 2
c1=$(ctx); u1=$(cpu)
# The same span with nothing happening: what the daemons cost at rest.
sleep 2
c2=$(ctx); u2=$(cpu)
sleep 2
c3=$(ctx); u3=$(cpu)
WAKE=$((c1 - c0)); CPU=$(( (u1 - u0) * 1000 / $(getconf CLK_TCK) ))
IDLE=$((c3 - c2))

printf '%-62s %10s\n' "figure (rtalloc daemons, the hook path$([ "$ROUTE" = 1 ] && echo ", --route"))" "value"
printf '%-62s %10s\n' "$N addresses, one rtalloc run each, one after another (ms)" "$TOTAL"
printf '%-62s %10s\n' "  one run, median of the first 50 (us)" "$FIRST"
printf '%-62s %10s\n' "  one run, median of the last 50 (us)" "$LAST"
printf '%-62s %10s\n' "wake-ups of $N daemons for 100 unrelated address additions" "$WAKE"
printf '%-62s %10s\n' "  CPU time for them, all daemons (ms)" "$CPU"
printf '%-62s %10s\n' "  (wake-ups of all daemons in as long at rest)" "$IDLE"
echo "BENCH_DAEMONS_JSON {\"n\":$N,\"route\":$ROUTE,\"runs_ms\":$TOTAL,\"run_first50_us\":$FIRST,\"run_last50_us\":$LAST,\"wakeups_100\":$WAKE,\"cpu_ms_100\":$CPU}"

# Stop the daemons (each removes its rules and releases its lease).
kill "${PIDS[@]}" 2>/dev/null
for p in "${PIDS[@]}"; do t_wait 20 sh -c "! kill -0 $p" || true; done
t_done
