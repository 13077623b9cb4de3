#!/bin/bash
# rtalloc-agent with an interface holding 5,000 addresses (issue 12, "Bad
# input and faults"): every one gets its table and three rules, bounded CPU
# and memory, and all of them going leaves no rule and no live lease.
. "$(dirname "$0")/../lib.sh"
t_require_root
N=5000

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_in "$H" sysctl -qw net.unix.max_dgram_qlen=512
t_server "$H" '"num_tables": 6000' || exit 1
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan0"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent.log" || exit 1
PID=$T_LAST_PID
for ((i = 0; i < N; i++)); do echo "address add 10.1.$((i / 250)).$((i % 250 + 1))/16 dev wan0"; done >"$T_DIR/add"
sed 's/^address add/address del/' "$T_DIR/add" >"$T_DIR/del"
from_rules() { ip -n "$H" -4 rule show pref 10000 | grep -c 'proto 122'; }
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
c0=$(cpu)
ip -n "$H" -batch "$T_DIR/add"
t_check "$N addresses: every one has its from rule" t_wait 90 bash -c "[ \$(ip -n $H -4 rule show pref 10000 | grep -c 'proto 122') = $N ]"
t_eq "and $((3 * N)) rules in all, and 10.1.0.0/16's one guard" $((3 * N + 1)) "$(ip -n "$H" -4 rule | grep -c 'proto 122')"
t_eq "$N live leases" $N "$(t_rows "SELECT count(*) FROM leases WHERE tag='rtalloc-agent' AND alive=1")"
T=$(ip -n "$H" -4 rule show pref 10000 | awk '$3 == "10.1.19.250" { print $5 }')
t_check "a table holds its link's routes, src its address" \
	bash -c "ip -n $H route show table $T | grep -q 'dev wan0 proto 122 scope link src 10.1.19.250'"
c1=$(cpu)
RSS=$(awk '/VmRSS/ { print $2 }' "/proc/$PID/status")
echo "# $N addresses: agent CPU $(((c1 - c0) * 1000 / $(getconf CLK_TCK))) ms, RSS $RSS KiB"
# ASan's shadow memory is no figure of the agent's own.
if ldd "$BUILD/rtalloc-agent" | grep -q libasan; then
	echo "# sanitizer build: RSS not checked"
else
	t_check "memory bounded (RSS under 32 MiB)" test "$RSS" -lt 32768
fi
# The first address is the /16's primary: deleting it takes the 4,999
# secondaries with it (one burst of events); -force goes on past them.
ip -n "$H" -force -batch "$T_DIR/del" 2>/dev/null
t_check "all gone: no rule left" t_wait 90 bash -c "! ip -n $H -4 rule | grep -q 'proto 122'"
t_check "no live lease left" t_wait 10 bash -c "[ \$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE tag='rtalloc-agent' AND alive=1\") = 0 ]"
t_check "the agent is still running" kill -0 "$PID"
t_done
