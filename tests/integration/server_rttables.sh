#!/bin/bash
# rtallocd started on a database the 2017 table_allocator wrote (table
# RtTables, LeaseExpires in CLOCK_MONOTONIC_RAW seconds of the boot that
# wrote it; built here with sqlite3 from those facts) keeps its live leases
# (same table for the same key, the time they had left), keeps the dead
# ones as their keys' preferred tables, says so in one line, and converts
# the file in place.  A newcomer never gets a live lease's table.  The same
# file last written before this boot began holds no live lease.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv; H=$T_NS
LOG=$T_DIR/srv.log
raw() { python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC_RAW)))'; }
# original DB: an RtTables file as the original writes it.
original() {
	local r
	r=$(raw)
	rm -f "$1"
	sqlite3 "$1" "CREATE TABLE RtTables (RtTable INTEGER NOT NULL, AddrFamily INTEGER NOT NULL,
		Ifname TEXT NOT NULL, Addr TEXT NOT NULL, LeaseExpires INTEGER NOT NULL, Tag TEXT,
		PRIMARY KEY (AddrFamily, Ifname, Addr));
	INSERT INTO RtTables VALUES (10000, 2, 'up0', '192.0.2.7', $r + 600, 'wan');
	INSERT INTO RtTables VALUES (10000, 10, 'up0', '2001:db8:1::7', $r + 500, NULL);
	INSERT INTO RtTables VALUES (10001, 0, 'up0', 'myuplink', $r + 300, NULL);
	INSERT INTO RtTables VALUES (10002, 2, 'up1', '198.51.100.7', $r - 100, '');
	INSERT INTO RtTables VALUES (10003, 2, 'up2', '203.0.113.9', $r - 5000, 'old');
	INSERT INTO RtTables VALUES (10004, 2, 'up3', '192.0.2.99', $r + 400 * 86400, '');"
}
srv() {
	cat >"$T_DIR/c.json" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$T_DB", "table_offset": 10000, "num_tables": 100,
  "table_timeout": 600 }
EOC
	: >"$LOG"
	t_bg_ready rtallocd "$H" sh -c "exec '$RTALLOCD' -c '$T_DIR/c.json' 2>>'$LOG'"
	local rc=$?
	T_SERVER_PID=$T_LAST_PID
	T_SERVER_NS=$H
	return $rc
}
stop() { kill "$T_SERVER_PID" 2>/dev/null; wait "$T_SERVER_PID" 2>/dev/null; }
list() { t_in "$H" "$RTALLOC" -d "$T_SOCK" --list; }
req() {	# req FAMILY ADDRESS IFNAME: the table granted
	t_req "{\"version\":2,\"cmd\":0,\"addr_family\":$1,\"address\":\"$2\",\"ifname\":\"$3\",\"seq\":1}" | t_field table
}

# 1. Written in this boot.
T_SOCK=rtt-$T_ID
T_DB=$T_DIR/original.db
original "$T_DB"
srv || exit 1
t_eq "one log line says what was taken over" 1 \
	"$(grep -c "took over table_allocator's RtTables: 3 live leases of this boot, 3 kept as preferred tables" "$LOG")"
t_eq "the file is ours now (schema version 2)" 2 "$(sqlite3 "$T_DB" 'PRAGMA user_version')"
t_eq "RtTables is gone" 0 "$(sqlite3 "$T_DB" "SELECT count(*) FROM sqlite_master WHERE name = 'RtTables'")"
t_eq "the rows, converted" \
	"2|192.0.2.7|up0|wan|10000|1,10|2001:db8:1::7|up0||10000|1,0|myuplink|up0||10001|1,2|198.51.100.7|up1||10002|0,2|203.0.113.9|up2|old|10003|0,2|192.0.2.99|up3||10004|0," \
	"$(sqlite3 "$T_DB" 'SELECT family, address, ifname, tag, tbl, alive FROM leases ORDER BY tbl, family' | tr '\n' ',')"
l=$(list)
left() { awk -v a="$1" '$3 == a { print $5 }' <<<"$l"; }
tab() { awk -v a="$1" '$3 == a { print $4 }' <<<"$l"; }
t_eq "--list: the live inet lease keeps its table" 10000 "$(tab 192.0.2.7)"
t_check "--list: with the time it had left ($(left 192.0.2.7) s of 600)" \
	test "$(left 192.0.2.7)" -ge 590 -a "$(left 192.0.2.7)" -le 600
t_eq "--list: the live inet6 lease keeps its table" 10000 "$(tab 2001:db8:1::7)"
t_eq "--list: the live unspec identifier keeps its table" 10001 "$(tab myuplink)"
t_check "--list: its time left ($(left myuplink) s of 300)" test "$(left myuplink)" -ge 290 -a "$(left myuplink)" -le 300
t_eq "--list: the dead ones are not listed, nor one ending more than a year ahead (another boot's)" "" \
	"$(tab 198.51.100.7)$(tab 203.0.113.9)$(tab 192.0.2.99)"
t_eq "a renewal of a taken-over lease keeps its table" 10000 "$(req 2 192.0.2.7 up0)"
n=$(req 2 192.0.2.99 up5)
t_check "a newcomer gets no live lease's table, nor a recent preference ($n)" test "$n" = 10003
t_eq "a key whose lease ended gets its preferred table back" 10002 "$(req 2 198.51.100.7 up1)"
t_eq "an unspec identifier renews on its table" 10001 "$(req 0 myuplink up0)"
stop

# 2. The same file, last written before this boot began: its LeaseExpires
# are of another boot's clock, nothing is live.
T_SOCK=rtt2-$T_ID
T_DB=$T_DIR/before.db
original "$T_DB"
boot_start=$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))
touch -d "@$((boot_start - 60))" "$T_DB"
srv || exit 1
t_eq "previous boot: all kept as preferences" 1 \
	"$(grep -c "took over table_allocator's RtTables: 0 live leases of this boot, 6 kept as preferred tables" "$LOG")"
t_eq "previous boot: --list is empty" "" "$(list | awk '$4 ~ /^[0-9]+$/')"
t_eq "previous boot: the key gets its old table back" 10002 "$(req 2 198.51.100.7 up1)"
stop

# 3. A conversion that fails half-way (a table `meta` of someone else's is
# in the way) leaves the file as it was, and rtallocd exits 1.
T_SOCK=rtt3-$T_ID
T_DB=$T_DIR/inway.db
original "$T_DB"
sqlite3 "$T_DB" "CREATE TABLE meta (x)"
cat >"$T_DIR/c.json" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$T_DB" }
EOC
out=$(t_in "$H" timeout 10 "$RTALLOCD" -c "$T_DIR/c.json" 2>&1); rc=$?
t_eq "failed conversion: exit 1 ($out)" 1 "$rc"
t_eq "failed conversion: RtTables is as it was" 6 "$(sqlite3 "$T_DB" 'SELECT count(*) FROM RtTables')"
t_eq "failed conversion: no leases table" 0 "$(sqlite3 "$T_DB" "SELECT count(*) FROM sqlite_master WHERE name = 'leases'")"
t_done
