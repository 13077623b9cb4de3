#!/bin/bash
# rtalloc-agent under faults (issue 12, "Bad input and faults"): lost
# netlink events (a tiny receive buffer forces ENOBUFS) are re-read with
# nothing lost; an interface renamed and an ifindex reused end with the
# right lease keys and rules; an address flapping ~100 times a second costs
# bounded CPU and memory and ends right; rtallocd down and its pool
# exhausted leave the address with no half configuration, retried with
# backoff and logged once; a route the kernel refuses is tried again with
# backoff though no event comes, and events meanwhile are not held back.
. "$(dirname "$0")/../lib.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" wan1 "$ISP" isp1
t_server "$H" '"num_tables": 300' || exit 1
LOG=$T_DIR/agent.log
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "families": ["inet"] }
EOC
# The smallest buffer the kernel allows: a burst of events overflows it.
RTALLOC_AGENT_RCVBUF=1024 t_bg_ready rtalloc-agent "$H" "$AGENT" -c "$T_DIR/agent.json" 2>"$LOG" || exit 1
PID=$T_LAST_PID

from_rules() { ip -n "$H" -4 rule show pref 10000 | grep -c "${1:-}.*proto 122"; }
alive() { t_rows "SELECT count(*) FROM leases WHERE tag='rtalloc-agent' AND alive=1 ${1:+AND $1}"; }
table_of() { ip -n "$H" -4 rule show pref 10000 | awk -v a="$1" '$3 == a && / proto 122/ { print $5 }'; }

# -- ENOBUFS: 200 addresses at once, then gone at once.
for ((i = 1; i <= 200; i++)); do echo "address add 10.1.$((i / 250)).$((i % 250))/32 dev wan0"; done >"$T_DIR/add"
sed 's/^address add/address del/' "$T_DIR/add" >"$T_DIR/del"
ip -n "$H" -batch "$T_DIR/add"
t_check "events were lost (ENOBUFS) and the state re-read" t_wait 10 grep -q ENOBUFS "$LOG"
t_check "all 200 addresses got their from rule" t_wait 20 bash -c "[ \$(ip -n $H -4 rule show pref 10000 | grep -c 'proto 122') = 200 ]"
t_eq "and 600 rules in all, none twice" 600 "$(ip -n "$H" -4 rule | grep -c 'proto 122')"
t_eq "200 live leases" 200 "$(alive)"
ip -n "$H" -batch "$T_DIR/del"
t_check "all gone again: no rule left" t_wait 20 bash -c "! ip -n $H -4 rule | grep -q 'proto 122'"
t_check "and every lease released" t_wait 5 bash -c "[ \$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE tag='rtalloc-agent' AND alive=1\") = 0 ]"

# -- An interface renamed: the lease key names it; the uplink starts over.
ip -n "$H" addr add 192.0.2.7/24 dev wan1
t_check "192.0.2.7 on wan1 has its rules" t_wait 2 bash -c "ip -n $H rule | grep -q 'from 192.0.2.7 lookup .* proto 122'"
ip -n "$H" link set wan1 down
ip -n "$H" link set wan1 name wan7
ip -n "$H" link set wan7 up
t_check "renamed wan7: a live lease for it under the new name" \
	t_wait 3 bash -c "[ \$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE address='192.0.2.7' AND ifname='wan7' AND alive=1\") = 1 ]"
t_eq "the old name's lease is released" 0 "$(alive "address='192.0.2.7' AND ifname='wan1'")"
t_eq "exactly one from rule for it" 1 "$(from_rules 'from 192.0.2.7 ')"
T=$(table_of 192.0.2.7)
t_eq "its table is the wan7 lease's" "$T" \
	"$(t_rows "SELECT tbl FROM leases WHERE address='192.0.2.7' AND ifname='wan7' AND alive=1")"
t_check "and holds the prefix route via wan7" t_wait 2 bash -c "ip -n $H route show table $T | grep -q '192.0.2.0/24 dev wan7'"
ip -n "$H" link set wan7 down
ip -n "$H" link set wan7 name other0
t_check "renamed out of interfaces: its rules go" t_wait 3 bash -c "! ip -n $H rule | grep -q 'from 192.0.2.7 '"
t_check "and its lease" t_wait 3 bash -c "[ \$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE address='192.0.2.7' AND alive=1\") = 0 ]"

# -- An ifindex reused: wan0 deleted, another veth takes its name and index.
IDX=$(ip -n "$H" -o link show wan0 | cut -d: -f1)
ip -n "$H" addr add 198.51.100.7/24 dev wan0
t_check "198.51.100.7 on wan0 has its rules" t_wait 2 bash -c "ip -n $H rule | grep -q 'from 198.51.100.7 lookup .* proto 122'"
T1=$(table_of 198.51.100.7)
ip -n "$H" link del wan0
t_check "wan0 deleted: its address's rules go" t_wait 3 bash -c "! ip -n $H rule | grep -q 'from 198.51.100.7 '"
t_check "and its table's routes" bash -c "[ -z \"\$(ip -n $H route show table $T1 2>/dev/null)\" ]"
ip -n "$H" link add wan0 index "$IDX" type veth peer name wan0p
ip -n "$H" link set wan0 up; ip -n "$H" link set wan0p up
t_eq "the new wan0 has the old index" "$IDX" "$(ip -n "$H" -o link show wan0 | cut -d: -f1)"
ip -n "$H" addr add 203.0.113.7/24 dev wan0
t_check "an address on the new wan0 gets its rules" t_wait 2 bash -c "ip -n $H rule | grep -q 'from 203.0.113.7 lookup .* proto 122'"
T2=$(table_of 203.0.113.7)
t_check "and its table the new link's prefix route" t_wait 2 bash -c "ip -n $H route show table $T2 | grep -q '203.0.113.0/24 dev wan0 .*src 203.0.113.7'"
t_eq "nothing of the old address is left" "" "$(ip -n "$H" rule | grep 198.51.100.7)"

# -- A refusal sends no event: the agent tries again by itself, with a
# backoff.  Without its local route the kernel refuses routes with src
# 203.0.113.7 ("Invalid prefsrc address"); the local table's events do not
# concern the agent, so the local route's return brings no pass.
ip -n "$H" route del local 203.0.113.7 dev wan0 table local
ip -n "$H" route del 203.0.113.0/24 table "$T2"
t_check "the route's restoration is refused" t_wait 3 grep -q "refused adding route 203.0.113.0/24 .*table $T2" "$LOG"
sleep 3
n=$(grep -c "refused adding route 203.0.113.0/24 .*table $T2" "$LOG")
t_check "tried again without an event, not in a busy loop ($n tries in 3 s)" test "$n" -ge 2 -a "$n" -le 4
# The next try is seconds away; an event meanwhile is still handled at once.
ip -n "$H" rule del pref 10000 from 203.0.113.7 lookup "$T2"
t_check "a rule deleted meanwhile is back at once, not at the next try" \
	t_wait 1 bash -c "ip -n $H rule show pref 10000 | grep -q 'from 203.0.113.7 lookup $T2 proto 122'"
ip -n "$H" route add local 203.0.113.7 dev wan0 table local proto kernel scope host src 203.0.113.7
t_check "the kernel takes it again: the route is back within the backoff" \
	t_wait 12 bash -c "ip -n $H route show table $T2 | grep -q '203.0.113.0/24 dev wan0 .*src 203.0.113.7'"

# -- An address flapping about 100 times a second for 3 s.
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$PID/status"; }
c0=$(cpu); r0=$(rss)
# One `ip -batch` reading a change every 5 ms: no process start per change.
end=$(($(date +%s%N) + 3000000000))
while [ "$(date +%s%N)" -lt "$end" ]; do
	echo "address add 203.0.113.9/24 dev wan0"; sleep 0.005
	echo "address del 203.0.113.9/24 dev wan0"; sleep 0.005
done | tee "$T_DIR/flap" | ip -n "$H" -batch - 2>/dev/null
n=$(wc -l <"$T_DIR/flap")
ip -n "$H" addr add 203.0.113.9/24 dev wan0
t_check "flapped, then left up: it has its rules" t_wait 5 bash -c "[ \$(ip -n $H -4 rule | grep -c 'lookup.*proto 122' | tr -d ' ') -ge 6 ] && ip -n $H rule | grep -q 'from 203.0.113.9 lookup .* proto 122'"
sleep 1.5
c1=$(cpu); r1=$(rss)
ticks=$((c1 - c0))
echo "# flapping: $n changes in 3 s; agent CPU $((ticks * 1000 / $(getconf CLK_TCK))) ms over ~4.5 s; RSS ${r0} -> ${r1} KiB"
T9=$(table_of 203.0.113.9)
t_eq "exactly three rules for it" 3 "$(ip -n "$H" -4 rule | grep -c "lookup $T9 proto 122")"
t_eq "one live lease for it" 1 "$(alive "address='203.0.113.9'")"
t_eq "and 203.0.113.7's rules are untouched" 3 "$(ip -n "$H" -4 rule | grep -c "lookup $T2 proto 122")"
t_check "CPU stayed bounded (under 3 s of 4.5)" test "$ticks" -lt $((3 * $(getconf CLK_TCK)))
t_check "memory stayed bounded (RSS grew under 4 MiB)" test $((r1 - r0)) -lt 4096
t_check "the agent is still running" kill -0 "$PID"

# -- rtallocd down: no half configuration, one line, backoff, then a table.
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
ip -n "$H" addr add 192.0.2.50/24 dev wan0
sleep 4
t_eq "no rule for an address without a table" "" "$(ip -n "$H" rule | grep 192.0.2.50)"
t_eq "logged once, not per retry" 1 "$(grep -c '192.0.2.50 on wan0: no table' "$LOG")"
t_server "$H" '"num_tables": 300' || exit 1
t_check "rtallocd back: the address gets its rules within the backoff" \
	t_wait 10 bash -c "ip -n $H rule | grep -q 'from 192.0.2.50 lookup .* proto 122'"
t_eq "with all three" 3 "$(ip -n "$H" -4 rule | grep -c "lookup $(table_of 192.0.2.50) proto 122")"

# -- The pool exhausted: fill it with other clients' leases.
used=$(t_rows "SELECT count(*) FROM leases WHERE alive=1")
for ((i = used; i < 300; i++)); do
	t_req "{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.99.$((i / 250)).$((i % 250))\",\"ifname\":\"x0\",\"seq\":$((i + 1))}" >/dev/null
done
ip -n "$H" addr add 192.0.2.51/24 dev wan0
sleep 3
t_eq "pool exhausted: no rule for the newcomer" "" "$(ip -n "$H" rule | grep 192.0.2.51)"
t_eq "logged once" 1 "$(grep -c '192.0.2.51 on wan0: no table' "$LOG")"
t_req '{"version":2,"cmd":1,"addr_family":2,"address":"10.99.1.0","ifname":"x0","seq":9999}' >/dev/null
t_check "a table freed: the newcomer gets it within the backoff" \
	t_wait 20 bash -c "ip -n $H rule | grep -q 'from 192.0.2.51 lookup .* proto 122'"
t_check "the agent logged that it got one after all" grep -q '192.0.2.51 on wan0: table .* after all' "$LOG"
kill "$PID"; wait "$PID" 2>/dev/null
t_eq "SIGTERM: nothing of ours left" "" "$(ip -n "$H" rule | grep 'proto 122')"
t_done
