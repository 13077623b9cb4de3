#!/bin/bash
# rtallocd frees a lease nobody renews once table_timeout passes (and only
# that one), pages LIST replies so every lease is listed however many there
# are, and grants leases to a non-root sender whose gid is in allowed_gids.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv
NS=$T_NS
DGRAM=$BUILD/tools/dgram
LOADGEN=$BUILD/tools/loadgen
rq() { printf '{"version":1,"cmd":0,"addr_family":2,"address":"%s","ifname":"%s"}' "$@"; }
alive() { test "$(t_rows "SELECT alive FROM leases WHERE address='$1'")" = "$2"; }

# 1. Expiry: one table and a 2 s timeout (1 s is the minimum; 2 s leaves
# room to renew in time on a loaded machine).
t_server "$NS" '"num_tables": 1, "table_timeout": 2' || exit 1
t_eq "A gets the only table" 10000 "$(t_req "$(rq 10.0.0.1 eth0)" | t_field table)"
r=$(t_req "$(rq 10.0.0.2 eth1)")
t_check "while A lives, B is refused ($r)" grep -q '"table":0,.*no free table' <<<"$r"
t_check "A, not renewed, expires: alive=0 in the database" t_wait 5 alive 10.0.0.1 0
t_eq "after A expired, B gets the table" 10000 "$(t_req "$(rq 10.0.0.2 eth1)" | t_field table)"

# B renewed every 0.5 s for 5 s (more than two timeouts) stays.
for _ in $(seq 10); do
	t=$(t_req "$(rq 10.0.0.2 eth1)" | t_field table)
	[ "$t" = 10000 ] || break
	sleep 0.5
done
t_eq "B renewed throughout keeps its table" 10000 "$t"
t_check "B renewed: still alive in the database" alive 10.0.0.2 1
r=$(t_req "$(rq 10.0.0.3 eth2)")
t_check "B renewed: C is refused ($r)" grep -q '"table":0,.*no free table' <<<"$r"
t_check "B stops renewing and expires" t_wait 5 alive 10.0.0.2 0
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID"

# 2. LIST paging: a page holds at most 64 leases; 150 take three pages.
T_DB=$T_DIR/list.db
t_server "$NS" '"num_tables": 200, "allowed_gids": [4242]' || exit 1
t_in "$NS" "$LOADGEN" -n 150 -c 4 -q -d 20 "$T_SOCK" 2>"$T_DIR/loadgen.err"
t_eq "loadgen: 150 leases granted" 0 "$?"
r=$(t_req '{"version":2,"cmd":3,"seq":1}')
t_eq "first page: total 150" 150 "$(echo "$r" | t_field total)"
t_check "first page points to a next page ($(echo "$r" | t_field next))" \
	test "$(echo "$r" | t_field next)" -gt 0
json=$(t_in "$NS" "$RTALLOC" -d "$T_SOCK" --list --json)
t_eq "rtalloc --list --json shows all 150 leases" 150 "$(grep -o '"table":' <<<"$json" | wc -l)"
t_eq "... each table once" 150 "$(grep -o '"table":[0-9]*' <<<"$json" | sort -u | wc -l)"
t_eq "rtalloc --list shows all 150 leases" 150 \
	"$(t_in "$NS" "$RTALLOC" -d "$T_SOCK" --list | grep -c '^inet ')"

# 3. allowed_gids: uid 65534 with gid 4242 is granted, with gid 4243 refused.
as() { t_in "$NS" setpriv --reuid=65534 --regid="$1" --clear-groups "$DGRAM" -t 3000 "$T_SOCK" "$2"; }
r=$(as 4242 "$(rq 10.8.0.1 eth8)")
t_check "uid 65534 gid 4242 (allowed) is granted ($r)" test "$(echo "$r" | t_field table)" -ge 10000
t_eq "its lease is in the database with uid 65534" "65534|1" \
	"$(t_rows "SELECT uid,alive FROM leases WHERE address='10.8.0.1'")"
r=$(as 4243 "$(rq 10.8.0.2 eth8)")
t_check "uid 65534 gid 4243 (not allowed) is refused ($r)" \
	grep -q '"table":0,.*permission denied: uid 65534' <<<"$r"
t_eq "the refused sender got no row" 0 "$(t_rows "SELECT count(*) FROM leases WHERE address='10.8.0.2'")"
t_done
