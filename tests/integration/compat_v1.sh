#!/bin/bash
# Version 1 peers (MONROE's 2017 table_allocator, as tests/tools/v1peer.c
# speaks it: padded abstract names both ways, an explicit client name, v1
# JSON, lease_expires on CLOCK_MONOTONIC_RAW).
# 1. A v1 client against rtallocd leases, renews in time on a 4 s lease
#    (its one table is never given to a newcomer asking all along), and
#    releases.
# 2. rtalloc against a v1 server: falls back to version 1 on the padded
#    name, says so, installs its rules, renews on the v1 clock, releases.
. "$(dirname "$0")/../lib.sh"
t_require_root
V1PEER=$BUILD/tools/v1peer

# 1. v1 client -> rtallocd, one table only
t_netns srv; NS=$T_NS
t_server "$NS" '"num_tables": 1, "table_timeout": 4' || exit 1
t_bg "$NS" sh -c "exec '$V1PEER' client -d 10 -t old '$T_SOCK' eth0 10.0.0.1 2 >'$T_DIR/v1c.out' 2>&1"
V1C=$T_LAST_PID
t_wait 5 grep -q '^lease' "$T_DIR/v1c.out"
# a newcomer asks every second while the v1 client holds the only table
refusals=0 asks=0
while kill -0 "$V1C" 2>/dev/null && [ $asks -lt 15 ]; do
	r=$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"eth1","seq":7}')
	asks=$((asks + 1))
	grep -q '"table":0,.*no free table' <<<"$r" && refusals=$((refusals + 1))
	sleep 1
done
wait "$V1C"; rc=$?
t_eq "v1 client: exit 0 ($(tr '\n' ' ' <"$T_DIR/v1c.out"))" 0 "$rc"
n=$(grep -c '^lease 10000 ' "$T_DIR/v1c.out")
t_check "v1 client: leased and renewed table 10000 at least 4 times in 10 s ($n)" test "$n" -ge 5
t_check "v1 client: every lease_expires read on CLOCK_MONOTONIC_RAW is 1..4 s ahead" \
	awk '$1 == "lease" && ($3 < 1 || $3 > 4) { exit 1 }' "$T_DIR/v1c.out"
t_check "v1 client: released table 10000" grep -qx 'release 10000' "$T_DIR/v1c.out"
t_check "the newcomer asked during the v1 client's lease ($asks)" test $asks -ge 8
t_eq "the newcomer was refused every time: the table was never leased twice" "$asks" "$refusals"
t_eq "database: the v1 client's lease, released, tag kept" "eth0|10.0.0.1|10000|0|old" \
	"$(t_rows "SELECT ifname,address,tbl,alive,tag FROM leases WHERE family=2")"
r=$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"eth1","seq":8}')
t_eq "after the release the newcomer gets the table" 10000 "$(t_field table <<<"$r")"
t_eq "the reply echoes seq" 8 "$(t_field seq <<<"$r")"
r=$(t_req '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"eth1","seq":9}')
t_eq "a v1 reply echoes seq too" 9 "$(t_field seq <<<"$r")"
raw=$(awk '{ print int($1) }' /proc/uptime)
e=$(t_field lease_expires <<<"$r")
t_check "a v1 reply's lease_expires is near CLOCK_MONOTONIC_RAW ($e vs uptime $raw), not the wall clock" \
	test "$e" -lt $((raw + 3600)) -a "$e" -gt 0

# 2. rtalloc -> v1 server
t_uplink_host -4
V1S=v1srv-$T_ID
t_bg "$H" sh -c "exec '$V1PEER' server -o 20000 -l 4 '$V1S' >'$T_DIR/v1s.out' 2>&1"
t_wait 5 grep -q ready "$T_DIR/v1s.out"
T=$(ip netns exec "$H" "$RTALLOC" -d "$V1S" -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1 2>"$T_DIR/rt.err")
t_eq "rtalloc leases from the v1 server" 20000 "$T"
t_check "rtalloc says it speaks version 1 ($(tr '\n' ' ' <"$T_DIR/rt.err"))" \
	grep -q "speaking protocol version 1 with the server at @$V1S" "$T_DIR/rt.err"
t_eq "rules for table 20000 in the kernel" 3 "$(ip -n "$H" rule show | grep -c 'lookup 20000 proto 122')"
t_check "from 192.0.2.7 lookup 20000" eval 'ip -n "$H" rule show | grep -q "from 192.0.2.7 lookup 20000"'
renewals() { grep -c '^cmd 0 up0 192.0.2.7 2 -> 20000' "$T_DIR/v1s.out"; }
t_check "the daemon renews on the v1 clock (at half of 4 s)" t_wait 8 eval 'test "$(renewals)" -ge 3'
t_eq "rules still in place after the renewals" 3 "$(ip -n "$H" rule show | grep -c 'lookup 20000 proto 122')"
t_check "rtalloc -r" ip netns exec "$H" "$RTALLOC" -d "$V1S" -4 -a 192.0.2.7 -i up0 -r
t_check "released at the v1 server" t_wait 3 grep -q '^cmd 1 up0 192.0.2.7 2 -> 20000' "$T_DIR/v1s.out"
t_eq "rules gone" 0 "$(ip -n "$H" rule show | grep -c 'lookup 20000')"
t_done
