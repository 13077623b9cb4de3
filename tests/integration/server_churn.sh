#!/bin/bash
# rtallocd's memory does not grow with keys it cannot or no longer serves:
# requests for ever new keys against a full pool leave nothing behind (they
# would cost 80 bytes each), and the database keeps one row per table.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv
NS=$T_NS
LOADGEN=$BUILD/tools/loadgen
t_server "$NS" '"num_tables": 4' || exit 1
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$T_SERVER_PID/status"; }

# 4 keys get the 4 tables; the other 49,996 are refused at once.
t_in "$NS" "$LOADGEN" -q -n 50000 -c 8 -d 120 "$T_SOCK" 2>"$T_DIR/lg1"
t_eq "a full pool refuses the rest" 3 "$?"
t_check "4 keys granted: $(cat "$T_DIR/lg1")" grep -q "4 keys acked, 49996 refused" "$T_DIR/lg1"
before=$(rss)
# 200,000 more keys never seen: without forgetting them, 16 MB more.
t_in "$NS" "$LOADGEN" -q -n 250000 -c 8 -d 300 "$T_SOCK" 2>"$T_DIR/lg2"
t_check "the flood was served: $(cat "$T_DIR/lg2")" grep -q "4 keys acked, 249996 refused" "$T_DIR/lg2"
after=$(rss)
t_check "VmRSS grew less than 2 MiB over 200,000 refused keys ($before -> $after KiB)" \
	test $((after - before)) -lt 2048
# 200,000 refused keys each on an interface name of its own: a name goes
# with the last key that held it, so these cost nothing either.
before=$(rss)
t_in "$NS" "$LOADGEN" -i -q -n 200000 -c 8 -d 300 "$T_SOCK" 2>"$T_DIR/lg3"
t_check "distinct names were served: $(cat "$T_DIR/lg3")" grep -q "0 keys acked, 200000 refused" "$T_DIR/lg3"
after=$(rss)
t_check "VmRSS grew less than 2 MiB over 200,000 refused distinct ifnames ($before -> $after KiB)" \
	test $((after - before)) -lt 2048
t_eq "the database holds the 4 leases only" 4 "$(sqlite3 "$T_DB" 'SELECT count(*) FROM leases')"
t_done
