#!/bin/bash
# rtallocd leases marks from mark_mask, a second pool beside the tables
# (docs/protocol.md, Marks): two holders (an exec user and a binding) get
# distinct marks inside the mask, written to the database; a restart (kill
# -9) keeps them; a release frees one, a lapse ends one; table leases and
# v1 requests are unaffected.  rtalloc --list shows the pool and the mark
# leases; packetmark -d warns about an explicit mark inside the pool.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns marks
NS=$T_NS
mq() { printf '{"version":2,"cmd":%s,"addr_family":0,"address":"%s","ifname":"%s","mark":1}' "$@"; }
MASK=$((0x0f000000))
CONF='"mark_mask": "0x0f000000", "table_timeout": 3'

t_server "$NS" "$CONF" || exit 1
r=$(t_req "$(mq 0 exec-1 wan0)")
m1=$(echo "$r" | t_field table)
t_eq "the reply says the mask" "$MASK" "$(echo "$r" | t_field mark_mask)"
r=$(t_req "$(mq 0 binding-1 wan1)")
m2=$(echo "$r" | t_field table)
t_check "both get a mark ($m1, $m2)" test "${m1:-0}" -gt 0 -a "${m2:-0}" -gt 0
t_check "the marks differ ($m1, $m2)" test "$m1" != "$m2"
t_eq "both inside mark_mask" "0 0" "$((m1 & ~MASK)) $((m2 & ~MASK))"
t_eq "the database holds both as mark rows" "$(printf '%s\n%s' "$m1" "$m2" | sort)" \
	"$(t_rows "SELECT tbl FROM leases WHERE family=255 AND alive=1 ORDER BY tbl" | sort)"
t_eq "a table lease still gets a table" 10000 \
	"$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"wan0"}' | t_field table)"
r=$(t_req '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"wan1","mark":1}')
t_check "a v1 request cannot ask for a mark ($r)" grep -q '"table":0,.*mark: a mark lease needs version 2' <<<"$r"

kill -9 "$T_SERVER_PID"
wait "$T_SERVER_PID" 2>/dev/null
t_server "$NS" "$CONF" || exit 1
t_eq "after a restart exec-1 renews and keeps its mark" "$m1" "$(t_req "$(mq 0 exec-1 wan0)" | t_field table)"
t_eq "and binding-1 keeps its own" "$m2" "$(t_req "$(mq 0 binding-1 wan1)" | t_field table)"
m3=$(t_req "$(mq 0 exec-2 wan0)" | t_field table)
t_check "a newcomer gets neither ($m3)" test "${m3:-0}" -gt 0 -a "$m3" != "$m1" -a "$m3" != "$m2"

# rtalloc --list shows the mark pool and its leases beside the tables.
out=$(t_in "$NS" "$RTALLOC" -d "$T_SOCK" --list)
t_check "--list: the mark pool, 3 leased of 15, Firezone's 0x0d000000 never ($out)" \
	grep -qx "marks under mark_mask 0x0f000000: 3 leased, 11 free" <<<"$out"
t_check "--list: exec-1's mark on wan0 ($out)" \
	grep -Eq "^$(printf '0x%08x' "$m1") +wan0 +exec-1 +[0-9]+ " <<<"$out"
t_check "--list: binding-1's mark on wan1" \
	grep -Eq "^$(printf '0x%08x' "$m2") +wan1 +binding-1 +[0-9]+ " <<<"$out"
json=$(t_in "$NS" "$RTALLOC" -d "$T_SOCK" --list --json)
t_check "--list --json: mark leases with typed fields and the pool ($json)" python3 -c '
import json, sys
l = [x for x in json.load(sys.stdin) if x["family"] == "mark"]
m = {x["address"]: x for x in l}
assert len(l) == 3, l
e = m["exec-1"]
assert e["mark"] == '"$m1"' and e["ifname"] == "wan0" and e["mark_mask"] == 0x0f000000, e
assert 0 < e["seconds_left"] <= 3 and e["marks_used"] == 3 and e["marks_free"] == 11, e
assert "table" not in e, e' <<<"$json"

# packetmark -d SOCKET: an explicit mark with bits in the pool is one
# warning naming mark and mask; a mark outside it, none.
PM=$BUILD/packetmark
out=$(t_in "$NS" "$PM" -d "$T_SOCK" --preload 0x05000000 -- true 2>&1); rc=$?
t_eq "packetmark: a mark in the pool still runs the command" 0 "$rc"
t_eq "packetmark: a mark in the pool is one warning naming mark and mask" \
	"packetmark: warning: mark 0x5000000 overlaps rtallocd's mark_mask 0xf000000: it may be the mark of an rtalloc exec or a binding (choose one outside the mask)" "$out"
t_eq "packetmark: a mark outside the pool, no warning" "" \
	"$(t_in "$NS" "$PM" -d "$T_SOCK" --preload 0x100 -- true 2>&1)"
t_eq "packetmark without -d asks nobody" "" "$(t_in "$NS" "$PM" --preload 0x05000000 -- true 2>&1)"

t_eq "binding-1 releases its mark" "$m2" "$(t_req "$(mq 1 binding-1 wan1)" | t_field table)"
t_eq "its row is no longer alive" 0 "$(t_rows "SELECT alive FROM leases WHERE family=255 AND tbl=$m2")"
# exec-1 and exec-2 stop renewing: their marks lapse after table_timeout
t_wait 10 sh -c "[ \"\$(sqlite3 '$T_DB' 'SELECT count(*) FROM leases WHERE family=255 AND alive=1')\" = 0 ]"
t_eq "lapsed marks end in the database" 0 \
	"$(t_rows 'SELECT count(*) FROM leases WHERE family=255 AND alive=1')"

# The default mask 0xf0000000: 15 marks, but Firezone's 0xfd002021 under it
# (0xf0000000) is never leased.
kill "$T_SERVER_PID"
wait "$T_SERVER_PID" 2>/dev/null
t_server "$NS" '"table_timeout": 60' || exit 1
got=""
for i in $(seq 1 14); do
	got="$got $(t_req "$(mq 0 "k$i" wan0)" | t_field table)"
done
t_eq "the default mask leases 14 marks, 0x10000000..0xe0000000" \
	"$(for i in $(seq 1 14); do printf ' %d' $((i << 28)); done)" "$got"
r=$(t_req "$(mq 0 k15 wan0)")
t_check "the 15th is refused, not given Firezone's bits ($r)" \
	grep -q '"table":0,.*no free mark: every mark under mark_mask 0xf0000000 is leased' <<<"$r"
t_done
