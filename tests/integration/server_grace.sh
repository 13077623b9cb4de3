#!/bin/bash
# A table is never leased to a newcomer while its holder may still be alive:
# real rtallocd, real rtalloc daemons (a holder on up0, a newcomer on up1),
# checked by the kernel's rules and the database.
#  1. The database is lost and a newcomer comes at once: the tables
#     rtalloc's rules use are held back for the grace period while the
#     holder reclaims its table ("table" in its renewal); the newcomer gets
#     another one at once.
#  2. rtallocd is down for three lease times, then restarted with a
#     newcomer: the holder's lapsed lease is kept for it, the newcomer gets
#     another table at once.
#  3. The server's wall clock steps +2 h (libfaketime, on rtallocd only) and
#     a newcomer comes right after the holder's next renewal: leases run on
#     CLOCK_BOOTTIME, so the holder keeps its table, the newcomer gets
#     another.
#  4. rtallocd and the holder frozen for longer than a lease (a suspend):
#     the leases due are kept for the grace period.
. "$(dirname "$0")/../lib.sh"
t_require_root
FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -e "$FT" ] || FT=$(find /usr/lib -name libfaketimeMT.so.1 2>/dev/null | head -1)

N=0
# setup: a host namespace H with up0 192.0.2.7/24 and up1 198.51.100.7/24
# (veths to an ISP namespace), a server socket, a database and a log of its
# own.
setup() {
	N=$((N + 1))
	t_netns "h$N"; H=$T_NS
	t_netns "i$N"; ISP=$T_NS
	t_veth "$H" up0 "$ISP" isp0
	t_veth "$H" up1 "$ISP" isp1
	ip -n "$H" addr add 192.0.2.7/24 dev up0
	ip -n "$H" addr add 198.51.100.7/24 dev up1
	T_SOCK=grace$N-$T_ID
	DB=$T_DIR/grace$N.db
	LOG=$T_DIR/grace$N.log
}
# srv CONFIG-EXTRA [ENV=VALUE...]: rtallocd in H on DB, stderr to LOG.
srv() {
	local extra=$1
	shift
	cat >"$T_DIR/c$N.json" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$DB", "table_offset": 10000, "num_tables": 100 $extra }
EOC
	t_bg_ready rtallocd "$H" env "$@" sh -c "exec '$RTALLOCD' -c '$T_DIR/c$N.json' 2>>'$LOG'"
	local rc=$?
	SRV=$T_LAST_PID
	return $rc
}
stop() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
holder() { rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1; }
newcomer() { rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 15 --retry-interval 1 2>>"$LOG"; }
# rules_for TABLE: rtalloc's rules in H that look up TABLE, one line each.
rules_for() { ip -n "$H" rule show | grep "lookup $1 proto 122" | sed 's/^[0-9]*:[[:space:]]*//' | sort; }
live_rows() { sqlite3 "$DB" "SELECT address || ' ' || tbl FROM leases WHERE alive = 1 ORDER BY tbl" | tr '\n' ','; }
# check WHAT HOLDER-TABLE NEWCOMER-TABLE: the holder's three rules still
# use its table, the newcomer's another, and the database agrees.
check() {
	local what=$1 t1=$2 t2=$3
	t_check "$what: the newcomer got a table ($t2)" test "${t2:-0}" -gt 0
	t_check "$what: not the holder's ($t1)" test "${t2:-0}" != "$t1"
	t_eq "$what: the holder's rules still use table $t1" \
		"from 192.0.2.7 lookup $t1 proto 122,from all iif lo lookup $t1 proto 122,from all to 192.0.2.0/24 lookup $t1 proto 122," \
		"$(rules_for "$t1" | tr '\n' ',')"
	t_eq "$what: the newcomer's rules use table $t2" 3 "$(rules_for "$t2" | grep -c .)"
	t_eq "$what: the database holds both leases" "192.0.2.7 $t1,198.51.100.7 $t2," "$(live_rows)"
}

# 1. The database lost, and a newcomer at once, while the holder cannot
# renew (stopped): the holder's table is free in the new server's pool.
# The newcomer, trying for 2 s only, gets a table at once, and not the
# holder's (first fit would give it that one); the holder then reclaims its
# own.
setup
srv ', "table_timeout": 6, "grace_seconds": 30' || exit 1
T1=$(holder)
t_eq "lost: the holder has the first table" 10000 "$T1"
HP=$(t_daemons "$H" 192.0.2.7)
kill -STOP "$HP"
stop
rm -f "$DB" "$DB-wal" "$DB-shm"
srv ', "table_timeout": 6, "grace_seconds": 30' || exit 1
t_check "lost: the server says the leases were lost" grep -q "is new but 3 rtalloc rules use tables 10000..10099: leases were lost; the 1 tables they use wait 30 s" "$LOG"
T2=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 2 --retry-interval 1 2>>"$LOG")
t_eq "lost: the newcomer got the first table no rule used, at once" 10001 "$T2"
kill -CONT "$HP"
holder_back() { [ "$(live_rows)" = "192.0.2.7 $T1,198.51.100.7 $T2," ]; }
t_check "lost: the holder reclaimed its table" t_wait 10 holder_back
check "lost" "$T1" "$T2"
t_check "lost: the grace period is not over" sh -c "! grep -q 'grace period over' '$LOG'"
stop

# 2. rtallocd down for three lease times, restarted with a newcomer.
setup
srv ', "table_timeout": 4' || exit 1
T1=$(holder)
t_eq "down: the holder has the first table" 10000 "$T1"
stop
sleep 12	# three lease times; the holder keeps asking, in vain
srv ', "table_timeout": 4' || exit 1
t_check "down: the server keeps the lapsed lease for its holder" grep -q "1 leases ran out while rtallocd was not running" "$LOG"
start=$SECONDS
T2=$(newcomer)
t_check "down: the newcomer did not wait ($((SECONDS - start)) s)" test $((SECONDS - start)) -le 2
# Renewed: back to a lease's length (it was kept for the grace period).
renewed() { [ "$(rtalloc --list | awk '$3 == "192.0.2.7" { print $5 }')" -le 4 ]; }
t_check "down: the holder renewed its lease" t_wait 25 renewed
check "down" "$T1" "$T2"
stop

# 4. rtallocd and the holder frozen together for four lease times (as in a
# suspend: nothing runs, CLOCK_BOOTTIME goes on); the server thaws first
# and a newcomer comes at once, before the holder could renew.
setup
srv ', "table_timeout": 4' || exit 1
T1=$(holder)
t_eq "frozen: the holder has the first table" 10000 "$T1"
HP=$(t_daemons "$H" 192.0.2.7)
kill -STOP "$SRV" "$HP"
sleep 16
kill -CONT "$SRV"
T2=$(newcomer)
kill -CONT "$HP"
t_check "frozen: the server says it kept the leases due" \
	grep -q "rtallocd did not run for [0-9]* s (stopped or suspended); 1 leases due meanwhile are kept" "$LOG"
t_check "frozen: the holder renewed its lease" t_wait 10 renewed
check "frozen" "$T1" "$T2"
stop

# 3. The server's wall clock steps +2 h; a newcomer right after the
# holder's next renewal.
if [ -z "$FT" ]; then
	t_fail "clock step: libfaketime not found (scripts/deps: faketime)"
else
	setup
	echo "+0" >"$T_DIR/faketime"
	srv ', "table_timeout": 12' LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$T_DIR/faketime" \
		FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS="verify_asan_link_order=0:${ASAN_OPTIONS:-}" || exit 1
	# A lease nobody renews (inet6: a pool of its own), ending 8 s after
	# the holder's start, between its renewals at 6 and 12 s: the server
	# then looks for expired leases with its wall clock 2 h ahead.
	T_SERVER_NS=$H
	t_req '{"version":2,"cmd":0,"addr_family":10,"address":"2001:db8::9","ifname":"up9","seq":1}' >/dev/null
	sleep 4
	T1=$(holder)
	t_eq "clock step: the holder has the first table" 10000 "$T1"
	sleep 6.8	# its first renewal is at 6 s
	echo "+2h" >"$T_DIR/faketime"
	wall=$(t_in "$H" env LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$T_DIR/faketime" FAKETIME_NO_CACHE=1 date +%s)
	t_check "clock step: the server's wall clock is 2 h ahead" test $((wall - $(date +%s))) -ge 7000
	sleep 2
	t_check "clock step: the unrenewed lease ended" \
		sh -c "! ip netns exec '$H' '$RTALLOC' -d '$T_SOCK' --list | grep -q 2001:db8::9"
	T2=$(newcomer)
	sleep 4	# the holder's next renewal
	check "clock step" "$T1" "$T2"
	t_check "clock step: rtalloc --list shows the holder on its table" \
		sh -c "ip netns exec '$H' '$RTALLOC' -d '$T_SOCK' --list | grep 192.0.2.7 | grep -qw '$T1'"
	stop
fi
t_done
