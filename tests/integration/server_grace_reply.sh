#!/bin/bash
# A new key that must wait in rtallocd's grace period is told so (#19.7):
# the real rtallocd lost its database while a holder (stopped, so it cannot
# reclaim) keeps its rules on the pool's only table.
#  - a v2 request gets an answer at once: table 0, an `error` naming the
#    grace period and `retry_after` (the seconds left of it);
#  - a v1 request (the 2017 client) gets no answer, as before;
#  - the real rtalloc logs the grace period once, keeps asking, and gets
#    the table once the grace period is over.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_uplink_host -4
ip -n "$H" link add up1 type veth peer name isp1 netns "$ISP"
ip -n "$H" link set up1 up
ip -n "$H" addr add 198.51.100.7/24 dev up1
LOG=$T_DIR/client.log
GRACE=6

t_server "$H" '"num_tables": 1' || exit 1
T1=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1)
t_eq "the holder has the only table" 10000 "$T1"
HP=$(t_daemons "$H" 192.0.2.7)
kill -STOP "$HP"
t_on_exit "kill -CONT $HP"
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
rm -f "$T_DB" "$T_DB-wal" "$T_DB-shm"
t_server "$H" "\"num_tables\": 1, \"grace_seconds\": $GRACE" || exit 1
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

T2=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 15 --retry-interval 1 2>"$LOG")
took=$((SECONDS - start))
sed 's/^/    /' "$LOG"
t_eq "rtalloc got the table after the grace period" 10000 "$T2"
t_check "not before the grace period ended (${took} s)" test "$took" -ge $((GRACE - 1))
t_eq "rtalloc logged the grace period once" 1 "$(grep -c 'grace period' "$LOG")"
t_check "its from rule uses the table" grep -q "from 198.51.100.7 lookup 10000 proto 122" <(ip -n "$H" rule show)
t_done
