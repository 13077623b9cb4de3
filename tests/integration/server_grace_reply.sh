#!/bin/bash
# A new key that must wait in rtallocd's grace period is told so (#19.7):
# the real rtallocd lost its database while two holders (stopped, so they
# cannot reclaim) keep their rules on the pool's two tables.
#  - a v2 request gets an answer at once: table 0, an `error` naming the
#    grace period and `retry_after` (the seconds left of it);
#  - a v1 request (the 2017 client) gets no answer, as before;
#  - the real rtalloc logs the grace period once, keeps asking, and gets
#    a table once the grace period is over;
#  - rtalloc-agent, asking for an address on wan0 meanwhile, logs it once,
#    asks again when told and gets the other table.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_uplink_host -4
ip -n "$H" link add up1 type veth peer name isp1 netns "$ISP"
ip -n "$H" link set up1 up
ip -n "$H" addr add 198.51.100.7/24 dev up1
ip -n "$H" addr add 192.0.2.8/24 dev up0
ip -n "$H" link add wan0 type veth peer name isp2 netns "$ISP"
ip -n "$H" link set wan0 up
LOG=$T_DIR/client.log
GRACE=6

t_server "$H" '"num_tables": 2' || exit 1
T1=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1)
T0=$(rtalloc -4 -a 192.0.2.8 -n 24 -i up0 --retry-interval 1)
t_eq "the holders have the two tables" "10000 10001" "$T1 $T0"
for a in 192.0.2.7 192.0.2.8; do
	HP=$(t_daemons "$H" $a)
	kill -STOP "$HP"
	t_on_exit "kill -CONT $HP"
done
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
rm -f "$T_DB" "$T_DB-wal" "$T_DB-shm"
t_server "$H" "\"num_tables\": 2, \"grace_seconds\": $GRACE" || exit 1
start=$SECONDS

rep=$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"198.51.100.9","ifname":"up1","seq":7}')
echo "# v2: $rep"
t_eq "v2 in the grace period: refused (table 0), seq echoed" "0 7" \
	"$(t_field table <<<"$rep") $(t_field seq <<<"$rep")"
t_check "v2: the error names the grace period" grep -q '"error":"grace period: ' <<<"$rep"
ra=$(t_field retry_after <<<"$rep")
t_check "v2: retry_after is the rest of the grace period (${ra:-none} s)" \
	test "${ra:-0}" -ge 1 -a "${ra:-0}" -le "$GRACE"
rc=0; t_req '{"version":1,"cmd":0,"addr_family":2,"address":"198.51.100.8","ifname":"up1"}' || rc=$?
t_eq "v1 in the grace period: no answer (dgram timed out)" 2 "$rc"

# The agent, meanwhile, for 203.0.113.7 on wan0.
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"] }
EOC
ip -n "$H" addr add 203.0.113.7/24 dev wan0
# shellcheck disable=SC2016 # expanded by the inner sh
t_bg "$H" sh -c 'exec "$0" -c "$1" 2>"$2"' "$BUILD/rtalloc-agent" "$T_DIR/agent.json" "$T_DIR/agent.log"

T2=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 15 --retry-interval 1 2>"$LOG")
took=$((SECONDS - start))
sed 's/^/    /' "$LOG"
t_check "rtalloc got a table after the grace period ($T2)" test "$T2" = 10000 -o "$T2" = 10001
t_check "not before the grace period ended (${took} s)" test "$took" -ge $((GRACE - 1))
t_eq "rtalloc logged the grace period once" 1 "$(grep -c 'grace period' "$LOG")"
t_check "its from rule uses the table" grep -q "from 198.51.100.7 lookup $T2 proto 122" <(ip -n "$H" rule show)

# shellcheck disable=SC2317 # called through t_wait
agent_rule() { ip -n "$H" rule show | grep -q "from 203.0.113.7 lookup $((10001 - T2 + 10000)) proto 122"; }
t_check "the agent got the other table" t_wait 5 agent_rule
sed 's/^/    /' "$T_DIR/agent.log"
t_eq "the agent logged the grace period once" 1 "$(grep -c 'no table: grace period' "$T_DIR/agent.log")"
t_check "and that it would ask again when told" \
	grep -q "203.0.113.7 on wan0: no table: grace period: .*; asking again when told" "$T_DIR/agent.log"
t_done
