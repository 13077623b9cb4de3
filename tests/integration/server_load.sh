#!/bin/bash
# rtallocd under concurrent load: distinct tables for concurrent clients,
# renewals keep tables, and kill -9 mid-load loses no acknowledged lease and
# never leases a table twice.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns load
NS=$T_NS
LOADGEN=$BUILD/tools/loadgen
t_server "$NS" '"num_tables": 5000' || exit 1

t_in "$NS" "$LOADGEN" -n 2000 -c 16 -r 2 -d 60 "$T_SOCK" >"$T_DIR/acks" 2>"$T_DIR/lg.err"
t_eq "loadgen: every key granted" 0 "$?"
t_eq "4000 grants (2000 keys x 2 rounds)" 4000 "$(grep -c '^ACK ' "$T_DIR/acks")"
t_eq "2000 distinct tables for 2000 keys" 2000 "$(awk '/^ACK/{print $2}' "$T_DIR/acks" | sort -u | wc -l)"
t_eq "a renewal returns the same table" 2000 "$(awk '/^ACK/{print $2, $4, $5}' "$T_DIR/acks" | sort -u | wc -l)"
t_eq "database: 2000 live leases" 2000 "$(sqlite3 "$T_DB" 'SELECT count(*) FROM leases WHERE alive=1')"

# kill -9 while a second load runs; every lease acked before the kill must
# be in the database after a restart, and no table may be held twice.
t_bg "$NS" sh -c "exec '$LOADGEN' -n 4000 -r 100 -c 8 -d 30 '$T_SOCK' >'$T_DIR/acks2' 2>/dev/null"
LG=$T_LAST_PID
t_wait 10 sh -c "[ \$(grep -c ^ACK '$T_DIR/acks2' 2>/dev/null || echo 0) -ge 300 ]"
kill -9 "$T_SERVER_PID"
wait "$T_SERVER_PID" 2>/dev/null
kill "$LG" 2>/dev/null; wait "$LG" 2>/dev/null
n=$(grep -c '^ACK ' "$T_DIR/acks2")
t_check "the kill came mid-load ($n of 400000 acks)" [ "$n" -ge 300 ] && [ "$n" -lt 400000 ]
t_server "$NS" '"num_tables": 5000' || exit 1
sqlite3 "$T_DB" "SELECT tbl, family, ifname, address FROM leases WHERE alive=1" | tr '|' ' ' | sort >"$T_DIR/db"
awk '/^ACK/{print $2, $3, $4, $5}' "$T_DIR/acks2" | sort -u >"$T_DIR/acked"
t_eq "every acknowledged lease is in the database" "" "$(comm -23 "$T_DIR/acked" "$T_DIR/db" | head -3)"
t_eq "no table is held twice" "" \
	"$(sqlite3 "$T_DB" 'SELECT family, tbl FROM leases WHERE alive=1 GROUP BY family, tbl HAVING count(*) > 1')"
# and the restarted server answers the same keys with the same tables
read -r tbl fam ifn addr < <(head -n 1 "$T_DIR/acked")
r=$(t_in "$NS" "$BUILD/tools/dgram" "$T_SOCK" \
	"{\"version\":1,\"cmd\":0,\"addr_family\":$fam,\"address\":\"$addr\",\"ifname\":\"$ifn\"}")
t_check "an acked key keeps its table after kill -9 ($r)" grep -q "\"table\":$tbl," <<<"$r"
t_done
