#!/bin/bash
# rtallocd over real datagrams: grants, renewals, release and reuse,
# exhaustion answered at once, unspec spanning both families, LIST, garbage,
# credentials, a second server, SIGTERM, and leases surviving a restart.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv
NS=$T_NS
DGRAM=$BUILD/tools/dgram
t_server "$NS" '"num_tables": 3' || exit 1
rq() { printf '{"version":%s,"cmd":%s,"addr_family":%s,"address":"%s","ifname":"%s"}' "$@"; }

r=$(t_req "$(rq 1 0 2 10.0.0.1 eth0)")
t_eq "v1 request gets the first table" 10000 "$(echo "$r" | t_field table)"
t_eq "reply says how long the lease lasts" 60 "$(echo "$r" | t_field lease_seconds)"
t_eq "the lease is in the database" "2|eth0|10.0.0.1|10000|1" \
	"$(t_rows 'SELECT family,ifname,address,tbl,alive FROM leases')"
t_eq "same key, same table (renewal)" 10000 "$(t_req "$(rq 1 0 2 10.0.0.1 eth0)" | t_field table)"
t_eq "another key, another table" 10001 "$(t_req "$(rq 1 0 2 10.0.0.2 eth1)" | t_field table)"
t_eq "inet6 has its own bitmap" 10000 "$(t_req "$(rq 1 0 10 2001:db8::1 eth0)" | t_field table)"
t_eq "unspec takes a table free in both" 10002 "$(t_req "$(rq 1 0 0 10.0.0.3 eth2)" | t_field table)"
r=$(t_req "$(rq 1 0 2 10.0.0.4 eth3)")
t_eq "exhaustion: table 0" 0 "$(echo "$r" | t_field table)"
t_check "exhaustion: error says why ($r)" grep -q '"error":"no free table' <<<"$r"
r=$(t_req '{"version":2,"cmd":1,"addr_family":2,"address":"10.0.0.2","ifname":"eth1","seq":9}')
t_eq "release answers with the table" 10001 "$(echo "$r" | t_field table)"
t_eq "v2 seq is echoed" 9 "$(echo "$r" | t_field seq)"
t_eq "released lease is not alive in the database" 0 \
	"$(t_rows "SELECT alive FROM leases WHERE address='10.0.0.2'")"
t_eq "a released table is leased again" 10001 "$(t_req "$(rq 1 0 2 10.0.0.4 eth3)" | t_field table)"
r=$(t_req '{"version":2,"cmd":3,"seq":4}')
t_eq "list: total" 4 "$(echo "$r" | t_field total)"
t_check "list names the leases" grep -q '"address":"10.0.0.4","ifname":"eth3"' <<<"$r"

# credentials: nobody is refused and cannot release root's lease
nobody() { t_in "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups "$DGRAM" -t 3000 "$T_SOCK" "$1"; }
r=$(nobody "$(rq 1 0 2 10.9.9.9 eth9)")
t_check "uid 65534 is refused ($r)" grep -q '"table":0,.*permission denied: uid 65534' <<<"$r"
r=$(nobody "$(rq 1 1 2 10.0.0.1 eth0)")
t_check "uid 65534 cannot release root's lease" grep -q '"table":0' <<<"$r"
t_eq "root's lease is still alive" 1 "$(t_rows "SELECT alive FROM leases WHERE address='10.0.0.1'")"
t_eq "nobody got no row" 0 "$(t_rows "SELECT count(*) FROM leases WHERE address='10.9.9.9'")"

# garbage: a refusal or silence, never a changed lease, and still serving
before=$(t_rows 'SELECT family,ifname,address,tbl,alive,expires FROM leases ORDER BY 1,2,3')
head -c 3000 /dev/urandom >"$T_DIR/rand"
head -c 70000 /dev/zero | tr '\0' '{' >"$T_DIR/huge"
printf '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0"}\0{}' >"$T_DIR/nul"
for f in rand huge nul; do
	t_in "$NS" "$DGRAM" -t 1000 -f "$T_DIR/$f" "$T_SOCK" >"$T_DIR/$f.out"
	t_check "garbage $f: refusal or silence" grep -qE '"table":0|^timeout$' "$T_DIR/$f.out"
done
t_check "huge datagram: refused as too large" grep -q 'larger than 65536' "$T_DIR/huge.out"
for j in '' '{}' '[1]' '{"version":"1","cmd":0}' '{"version":1,"cmd":7}' '{"version":9,"cmd":0}' \
	"$(rq 1 0 2 10.0.0.300 eth0)" "$(rq 1 0 10 10.0.0.1 eth0)" "$(rq 1 0 2 10.0.0.1 a/b)" \
	"$(rq 1 1 5 10.0.0.1 eth0)" '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","tag":7}'; do
	r=$(t_req "$j")
	t_check "bad request refused with an error: ${j:0:50} -> ${r:60:60}" grep -q '"table":0,.*"error":"' <<<"$r"
done
t_eq "garbage changed no lease" "$before" \
	"$(t_rows 'SELECT family,ifname,address,tbl,alive,expires FROM leases ORDER BY 1,2,3')"
t_eq "still serving after garbage" 10000 "$(t_req "$(rq 1 0 2 10.0.0.1 eth0)" | t_field table)"

# a second server on the same name fails with a clear message
out=$(t_in "$NS" "$RTALLOCD" -c "$T_CONF" 2>&1); rc=$?
t_eq "second server exits 1" 1 "$rc"
t_check "second server says the socket is in use ($out)" grep -q "socket @$T_SOCK is already in use by uid 0 pid $T_SERVER_PID (rtallocd)" <<<"$out"

# SIGTERM: clean exit 0; a restart keeps the live leases
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID"; rc=$?
t_eq "SIGTERM exits 0" 0 "$rc"
t_server "$NS" '"num_tables": 3' || exit 1
t_eq "after restart the same key keeps its table" 10001 "$(t_req "$(rq 1 0 2 10.0.0.4 eth3)" | t_field table)"
r=$(t_req "$(rq 1 0 2 10.0.0.5 eth4)")
t_check "after restart the pool is still full" grep -q '"table":0,.*no free table' <<<"$r"

# leases of a previous boot are not alive, but their table is preferred
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID"
t_rows "UPDATE meta SET boot_id='another-boot'"
t_server "$NS" '"num_tables": 3' || exit 1
t_eq "previous boot: leases no longer alive" 0 "$(t_rows 'SELECT count(*) FROM leases WHERE alive=1')"
t_eq "a new key gets the first table" 10000 "$(t_req "$(rq 1 0 2 10.0.0.7 eth7)" | t_field table)"
t_eq "an old key gets its previous table back" 10001 "$(t_req "$(rq 1 0 2 10.0.0.4 eth3)" | t_field table)"
t_done
