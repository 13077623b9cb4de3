#!/bin/bash
# Disk faults under rtallocd: the database file corrupted before a start, its
# pages corrupted while stopped, its filesystem read-only, full, the file
# deleted under a running server.  In each case the server says what is wrong
# in one log line and refuses leases it cannot record (table 0 + error) or
# refuses to start (exit 1); it never crashes, keeps answering, never
# acknowledges a lease that is not in the database, and does not write over
# a file it cannot read.
# The faulty filesystems are tmpfs mounts made inside the server's own mount
# namespace (ip netns exec gives each command a private one), so nothing here
# is visible outside the test; nsenter -m reaches them.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v nsenter >/dev/null || t_skip "needs nsenter (util-linux)"
DGRAM=$BUILD/tools/dgram
LOADGEN=$BUILD/tools/loadgen
t_netns srv; NS=$T_NS
SOCK=rtallocd-$T_ID
M=$T_DIR/mnt; mkdir "$M"
LOG=$T_DIR/srv.log
faults=0

conf() {	# conf DB-PATH
	cat >"$T_DIR/c.json" <<EOC
{ "socket_path": "$SOCK", "db_path": "$1", "num_tables": 5000, "table_timeout": 600 }
EOC
}
# start [MOUNT-OPTS]: rtallocd on $M/leases.db, in a tmpfs of its own when
# MOUNT-OPTS are given; SRV is its pid.
start() {
	: >"$LOG"
	t_bg_ready rtallocd "$NS" sh -c "${1:+mount -t tmpfs -o '$1' tmpfs '$M' &&} exec '$RTALLOCD' -c '$T_DIR/c.json' 2>>'$LOG'"
	local rc=$?
	SRV=$T_LAST_PID
	return $rc
}
stop() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
in_srv() { nsenter -t "$SRV" -m "$@"; }
req() {	# req N: a v2 request for key 10.1.0.N, prints the reply
	t_in "$NS" "$DGRAM" -t 3000 "$SOCK" \
		"{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.1.$(($1 / 250)).$(($1 % 250))\",\"ifname\":\"eth0\",\"seq\":$1}"
}
table() { sed -n 's/.*"table":\([0-9]*\).*/\1/p'; }
alive() { kill -0 "$SRV" 2>/dev/null && req 9999 | grep -q '"table":'; }	# answering at all
errlines() { grep -c ': error: \|: err: \|error' "$LOG"; }

# 1. Garbage over the whole file before the start.
conf "$T_DIR/bad.db"
head -c 16384 /dev/urandom >"$T_DIR/bad.db"
sum=$(md5sum <"$T_DIR/bad.db")
out=$(t_in "$NS" timeout 10 "$RTALLOCD" -c "$T_DIR/c.json" 2>&1); rc=$?
faults=$((faults + 1))
t_eq "garbage file: exit 1, no crash ($out)" 1 "$rc"
t_check "garbage file: the log line names the file and the reason" grep -q "bad.db.*not a database" <<<"$out"
t_eq "garbage file: one line" 1 "$(echo "$out" | wc -l)"
t_eq "garbage file: left as it was" "$sum" "$(md5sum <"$T_DIR/bad.db")"

# 2. Pages of a good database overwritten while the server is stopped.
conf "$T_DIR/pages.db"
start || t_fail "pages: start"
t_in "$NS" "$LOADGEN" -q -n 3000 -c 8 "$SOCK" 2>/dev/null
t_eq "pages: 3000 leases recorded" 3000 "$(sqlite3 "$T_DIR/pages.db" 'SELECT count(*) FROM leases')"
stop
psize=$(sqlite3 "$T_DIR/pages.db" 'PRAGMA page_size')
dd if=/dev/urandom of="$T_DIR/pages.db" bs="$psize" seek=2 count=8 conv=notrunc status=none
sum=$(md5sum <"$T_DIR/pages.db")
out=$(t_in "$NS" timeout 10 "$RTALLOCD" -c "$T_DIR/c.json" 2>&1); rc=$?
faults=$((faults + 1))
t_eq "corrupt pages: exit 1, no crash ($out)" 1 "$rc"
t_check "corrupt pages: says the database is malformed" grep -q "pages.db.*malformed" <<<"$out"
t_eq "corrupt pages: the file is not written to" "$sum" "$(md5sum <"$T_DIR/pages.db")"

# 3. A read-only filesystem.  A mount cannot turn read-only while the server
# has the file open for writing (EBUSY), so the server meets it at start: a
# database with leases on a read-only tmpfs.
conf "$T_DIR/ro.db"
start || t_fail "read-only: start"
t_eq "read-only: a lease before the fault" 10000 "$(req 1 | table)"
stop
sum=$(md5sum <"$T_DIR/ro.db")
conf "$M/ro.db"
out=$(t_in "$NS" sh -c "mount -t tmpfs tmpfs '$M' && cp '$T_DIR/ro.db' '$M/' && mount -o remount,ro '$M' &&
	timeout 10 '$RTALLOCD' -c '$T_DIR/c.json'; echo \"rc=\$?\"; md5sum <'$M/ro.db'" 2>&1)
faults=$((faults + 1))
t_check "read-only: exit 1, no crash ($out)" grep -qx "rc=1" <<<"$out"
t_check "read-only: one line names the file and says why" grep -q "error: database $M/ro.db: not writable: Read-only file system" <<<"$out"
t_eq "read-only: one line" 1 "$(grep -c rtallocd <<<"$out")"
t_eq "read-only: the file is as it was" "$sum" "$(tail -n 1 <<<"$out")"

# 4. The filesystem is full.
conf "$M/leases.db"
start size=8m || t_fail "full: start"
t_in "$NS" "$LOADGEN" -n 500 -c 8 -d 60 "$SOCK" >"$T_DIR/acks" 2>/dev/null
t_eq "full: 500 leases before the fault" 500 "$(grep -c '^ACK' "$T_DIR/acks")"
in_srv dd if=/dev/zero of="$M/fill" bs=64k status=none 2>/dev/null
faults=$((faults + 1))
t_in "$NS" "$LOADGEN" -n 4000 -c 8 -d 60 "$SOCK" >>"$T_DIR/acks" 2>"$T_DIR/lg.err"
refusals=$(sed -n "s/.* \([0-9]*\) refused.*/\1/p" "$T_DIR/lg.err")
t_check "full: leases are refused ($(cat "$T_DIR/lg.err"))" test "${refusals:-0}" -gt 0
t_check "full: the server is alive and answering" alive
t_check "full: the log says why" grep -qi "full" "$LOG"
in_srv rm "$M/fill"
r=$(req 4001)
t_check "space again: leases are granted ($r)" grep -q '"table":[1-9]' <<<"$r"
in_srv sqlite3 "$M/leases.db" "SELECT tbl, family, ifname, address FROM leases WHERE alive=1" | tr '|' ' ' | sort >"$T_DIR/db"
awk '/^ACK/{print $2, $3, $4, $5}' "$T_DIR/acks" | sort -u >"$T_DIR/acked"
t_eq "full: every acknowledged lease is in the database" "" "$(comm -23 "$T_DIR/acked" "$T_DIR/db" | head -3)"
t_eq "full: integrity_check" ok "$(in_srv sqlite3 "$M/leases.db" 'PRAGMA integrity_check')"
stop

# 5. The file is deleted under a running server.
conf "$T_DIR/del.db"
start || t_fail "deleted: start"
t_eq "deleted: a lease before the fault" 10000 "$(req 1 | table)"
rm "$T_DIR/del.db"
faults=$((faults + 1))
r=$(req 2)
t_check "deleted: a new lease is refused ($r)" grep -q '"table":0,.*"error":"database write failed' <<<"$r"
r=$(req 1)
t_check "deleted: a renewal is refused ($r)" grep -q '"table":0,' <<<"$r"
for i in $(seq 3 20); do req "$i" >/dev/null; done
t_check "deleted: the server is alive and answering" alive
t_eq "deleted: one log line says so" 1 "$(grep -c "del.db was deleted while open" "$LOG")"
stop
t_check "deleted: no new file appeared behind the server's back" test ! -e "$T_DIR/del.db"
echo "figures: faults=$faults"
t_done
