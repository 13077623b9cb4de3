#!/bin/bash
# The database keeps one row per (table, family): a table released by one key
# and granted to another in the same batch of datagrams ends up with the new
# lease's row, which a kill -9 and restart keep.  A version 1 database (one
# row per key) is upgraded at start with its live leases.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv
NS=$T_NS
DGRAM=$BUILD/tools/dgram
rq() { printf '{"version":1,"cmd":%s,"addr_family":2,"address":"%s","ifname":"%s"}' "$@"; }
# queued: a datagram waits in the server's socket (ss's Recv-Q).
queued() { t_in "$NS" ss -xlnH | awk -v s="@$T_SOCK" '$5 == s && $3 > 0 {ok = 1} END {exit !ok}'; }
# polling PID: the process waits in poll(), its datagram sent.
polling() { read -r nr _ <"/proc/$1/syscall" && { [ "$nr" = 7 ] || [ "$nr" = 271 ]; }; }

t_server "$NS" '"num_tables": 2' || exit 1
t_eq "A gets the first table" 10000 "$(t_req "$(rq 0 10.0.0.1 eth0)" | t_field table)"
t_eq "X gets the second" 10001 "$(t_req "$(rq 0 10.0.0.9 eth9)" | t_field table)"

# One batch: A releases 10000, then B (new) is granted the only free table.
kill -STOP "$T_SERVER_PID"
t_in "$NS" "$DGRAM" -t 20000 "$T_SOCK" "$(rq 1 10.0.0.1 eth0)" >"$T_DIR/release" & rel=$!
t_wait 5 queued || echo "the release was not queued"
ip netns exec "$NS" "$DGRAM" -t 20000 "$T_SOCK" "$(rq 0 10.0.0.2 eth1)" >"$T_DIR/grant" & gr=$!	# not t_in: $! must be dgram
t_wait 5 polling "$gr" || echo "the request was not sent"
kill -CONT "$T_SERVER_PID"
wait "$rel" "$gr"
t_eq "A's release is answered" 10000 "$(t_field table <"$T_DIR/release")"
t_eq "B is granted A's table in the same batch" 10000 "$(t_field table <"$T_DIR/grant")"
t_eq "table 10000's row is B's live lease" "10.0.0.2|eth1|1" \
	"$(t_rows 'SELECT address, ifname, alive FROM leases WHERE tbl = 10000')"

kill -KILL "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
t_server "$NS" '"num_tables": 2' || exit 1
r=$(t_req "$(rq 0 10.0.0.3 eth3)")
t_check "after kill -9 both tables are still leased: $r" grep -q '"table":0,.*no free table' <<<"$r"
t_eq "B renews its table" 10000 "$(t_req "$(rq 0 10.0.0.2 eth1)" | t_field table)"
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID"

# A version 1 file: the live lease of this boot stays live, the other boot's
# does not, and the dead one's table is that key's preference.
T_DB=$T_DIR/v1.db
boot=$(cat /proc/sys/kernel/random/boot_id)
far=$(($(date +%s) + 3600))
sqlite3 "$T_DB" "CREATE TABLE leases (family INTEGER NOT NULL, ifname TEXT NOT NULL,
	address TEXT NOT NULL, tag TEXT NOT NULL DEFAULT '', tbl INTEGER NOT NULL,
	expires INTEGER NOT NULL, uid INTEGER NOT NULL, boot_id TEXT NOT NULL,
	alive INTEGER NOT NULL, PRIMARY KEY (family, ifname, address)) WITHOUT ROWID;
	CREATE INDEX leases_tbl ON leases (tbl) WHERE alive = 1;
	INSERT INTO leases VALUES (2, 'eth5', '10.0.0.5', 'v1', 10002, $far, 0, '$boot', 1);
	INSERT INTO leases VALUES (2, 'eth6', '10.0.0.6', '', 10001, $far, 0, 'another-boot', 1);
	INSERT INTO leases VALUES (2, 'eth7', '10.0.0.7', '', 10000, 100, 0, '$boot', 0);
	PRAGMA user_version=1;"
t_server "$NS" '"num_tables": 3' || exit 1
t_eq "v1: schema upgraded" 2 "$(t_rows 'PRAGMA user_version')"
t_eq "v1: this boot's lease is live" "10002|10.0.0.5|v1|1" \
	"$(t_rows 'SELECT tbl, address, tag, alive FROM leases WHERE alive = 1')"
t_eq "v1: the dead key gets its preferred table back" 10000 \
	"$(t_req "$(rq 0 10.0.0.7 eth7)" | t_field table)"
t_eq "v1: a new key gets the table of another boot's lease" 10001 \
	"$(t_req "$(rq 0 10.0.0.8 eth8)" | t_field table)"
t_eq "v1: the live lease renews its table" 10002 "$(t_req "$(rq 0 10.0.0.5 eth5)" | t_field table)"
t_done
