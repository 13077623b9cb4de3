#!/bin/bash
# bench/agent.sh: rtalloc-agent's figures (issue 12), run by `make bench`
# after bench/run.sh.  Prints, against references measured in the same run:
#   1,000 addresses added by one `ip -batch`: time until every one has its
#     rules, and the ratio to `ip -batch` adding the same rules and routes;
#   address added -> its rules in place: median of 20 (ip -ts monitor);
#   wake-ups and CPU time of the agent for 100 unrelated address events
#     with 1,000 uplinks managed;
#   the agent's RSS with 1,000 uplinks.
# Nothing fails on a figure; the exit status says whether the bench ran.
. "$(dirname "$0")/../tests/lib.sh"
t_require_root
N=${BENCH_AGENT_N:-1000}
die() { echo "bench/agent: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

t_netns a; H=$T_NS
t_netns i; ISP=$T_NS
t_in "$H" sysctl -qw net.unix.max_dgram_qlen=512 || die "cannot set net.unix.max_dgram_qlen"
t_veth "$H" wan0 "$ISP" isp0 || die "veth"
t_veth "$H" lan0 "$ISP" isp1 || die "veth"
t_server "$H" '"num_tables": 5000' || die "rtallocd did not start"
addr() { echo "10.$(( $1 / 250 + 1 )).$(( $1 % 250 + 1 )).1"; }

# Reference: the same rules and one route per table, by ip -batch.
{
	for ((i = 0; i < N; i++)); do
		a=$(addr "$i"); t=$((20000 + i))
		echo "rule add pref 10000 from $a lookup $t proto 122"
		echo "rule add pref 20000 to $a/32 lookup $t proto 122"
		echo "rule add pref 91000 iif lo lookup $t proto 122"
		echo "route add 10.0.0.0/8 dev wan0 src 10.1.1.1 table $t proto 122"
	done
} >"$T_DIR/ref.batch"
for ((i = 0; i < N; i++)); do echo "address add $(addr "$i")/32 dev wan0"; done >"$T_DIR/addrs.batch"
for ((i = 0; i < N; i++)); do echo "address del $(addr "$i")/32 dev wan0"; done >"$T_DIR/addrs-del.batch"
ip -n "$H" addr add 10.1.1.1/32 dev wan0
ip -n "$H" route add 10.0.0.0/8 dev wan0
t0=$(now_ms); ip -n "$H" -batch "$T_DIR/ref.batch" || die "reference batch failed"; t1=$(now_ms)
REF=$((t1 - t0))
ip -n "$H" rule flush; ip -n "$H" rule add pref 32766 lookup main; ip -n "$H" rule add pref 32767 lookup default
ip -n "$H" addr del 10.1.1.1/32 dev wan0
ip -n "$H" route add 10.0.0.0/8 dev wan0 2>/dev/null

cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan0"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent.log" || die "agent did not start"
PID=$T_LAST_PID
count() { ip -n "$H" -4 rule show pref 10000 | grep -c 'proto 122'; }
t0=$(now_ms); ip -n "$H" -batch "$T_DIR/addrs.batch" || die "address batch failed"
while [ "$(count)" -lt "$N" ]; do
	[ $(( $(now_ms) - t0 )) -gt 60000 ] && die "not every address got its rules in 60 s ($(count))"
	sleep 0.02
done
t1=$(now_ms)
ALL=$((t1 - t0))

# Median add -> rules: kernel timestamps of the address and of its rule.
t_in "$H" ip -ts monitor address rule >"$T_DIR/mon" 2>&1 &
MON=$!
sleep 0.3
for ((i = 0; i < 20; i++)); do ip -n "$H" addr add "10.200.0.$((i + 1))/32" dev wan0; sleep 0.1; done
sleep 0.5
kill "$MON"; wait "$MON" 2>/dev/null
MED=$(awk '
	function us(ts) { split(ts, p, "T"); split(p[2], q, ":"); return (q[1] * 3600 + q[2] * 60 + q[3]) * 1e6 }
	/^\[/ { ts = substr($1, 2, length($1) - 2) }
	/inet 10\.200\.0\./ && !/Deleted/ { for (i = 1; i < NF; i++) if ($i == "inet") split($(i + 1), x, "/")
		if (!(x[1] in t)) t[x[1]] = us(ts) }
	/from 10\.200\.0\./ && /proto 122/ && !/Deleted/ { for (i = 1; i <= NF; i++) if ($i == "from") a = $(i + 1)
		if ((a in t) && !(a in d)) { d[a] = us(ts) - t[a]; print d[a] / 1000 } }' "$T_DIR/mon" |
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else print "n/a" }')

# 100 unrelated events (addresses on lan0, not managed) with N uplinks.
ctx() { awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$PID/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
c0=$(ctx); u0=$(cpu)
for ((i = 0; i < 100; i++)); do echo "address add 172.16.$((i / 250)).$((i % 250 + 1))/32 dev lan0"; done >"$T_DIR/lan.batch"
ip -n "$H" -batch "$T_DIR/lan.batch"
sleep 1
c1=$(ctx); u1=$(cpu)
WAKE=$((c1 - c0)); TICKS=$((u1 - u0))
RSS=$(awk '/VmRSS/ { print $2 }' "/proc/$PID/status")

printf '%-58s %10s\n' "figure" "value"
printf '%-58s %10s\n' "reference: ip -batch, $((N * 3)) rules + $N routes (ms)" "$REF"
printf '%-58s %10s\n' "agent: $N addresses at once -> all rules in (ms)" "$ALL"
printf '%-58s %10s\n' "  ratio to the reference (goal <= 5)" "$(awk -v a="$ALL" -v b="$REF" 'BEGIN { printf "%.1f", b ? a / b : 0 }')"
printf '%-58s %10s\n' "agent: address added -> rules, median of 20 (ms; goal <= 2)" "$MED"
printf '%-58s %10s\n' "agent: wake-ups for 100 unrelated events, $N uplinks" "$WAKE"
printf '%-58s %10s\n' "  CPU time for them (ms)" "$((TICKS * 1000 / $(getconf CLK_TCK)))"
printf '%-58s %10s\n' "agent: RSS with $N uplinks (KiB; goal <= 16384)" "$RSS"
echo "BENCH_AGENT_JSON {\"ref_ms\":$REF,\"all_ms\":$ALL,\"add_median_ms\":\"$MED\",\"wakeups_100\":$WAKE,\"rss_kib\":$RSS}"
ip -n "$H" -batch "$T_DIR/addrs-del.batch" 2>/dev/null
t_done
