#!/bin/bash
# kill -9 of rtallocd at random moments, ten times, under load from many
# clients with garbage datagrams mixed in, while three real rtalloc daemons
# hold leases in the same namespace.  After every restart: each acknowledged
# lease is in the database with the table it was acked with, no two live rows
# share (family, table); across the whole run no table was acked to two keys
# and no key to two tables (all leases outlive the test: table_timeout 600,
# no releases, so any such pair is a table leased twice); the daemons' rules
# never change.
. "$(dirname "$0")/../lib.sh"
t_require_root
KILLS=10
LOADGEN=$BUILD/tools/loadgen
DGRAM=$BUILD/tools/dgram

t_uplink_host
t_veth "$H" up1 "$ISP" isp1
ip -n "$H" addr add 198.51.100.7/24 dev up1
CONF='"num_tables": 5000, "table_timeout": 600'
t_server "$H" "$CONF" || exit 1

TA=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
TB=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1)
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0)
t_check "three daemons leased tables ($TA $TB $T6)" test "${TA:-0}" -gt 0 -a "${TB:-0}" -gt 0 -a "${T6:-0}" -gt 0
daemons() { t_daemons "$H" | sort; }
DAEMONS=$(daemons)
t_eq "three daemons running" 3 "$(echo "$DAEMONS" | wc -l)"
rules() { ip -n "$H" -4 rule show; ip -n "$H" -6 rule show; }
RULES=$(rules)
t_eq "nine rules of ours and three networks' guards" 12 "$(echo "$RULES" | grep -c 'proto 122')"

# Garbage: random bytes, broken JSON, wrong types, a spoofed uid, oversize.
G=$T_DIR/garbage; mkdir "$G"
head -c 700 /dev/urandom >"$G/rand"
printf '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1"' >"$G/cut"
printf '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":7}' >"$G/type"
printf '{"version":2,"cmd":1,"addr_family":2,"address":"192.0.2.7","ifname":"up0","uid":0' >"$G/relcut"
printf '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' >"$G/deep"
head -c 70000 /dev/zero | tr '\0' '{' >"$G/huge"
printf '{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0"}\0x' >"$G/nul"
garbage() {	# one line per datagram sent into $T_DIR/garbage.count
	while :; do
		for f in "$G"/*; do
			"$DGRAM" -t 20 -f "$f" "$T_SOCK" >/dev/null 2>&1
			echo >>"$T_DIR/garbage.count"
		done
	done
}
t_bg "$H" bash -c "$(declare -f garbage); G='$G' T_DIR='$T_DIR' DGRAM='$DGRAM' T_SOCK='$T_SOCK'; garbage"
GARBAGE_PID=$T_LAST_PID

gcount() { wc -l <"$T_DIR/garbage.count" 2>/dev/null || echo 0; }
garbage_since() { [ "$(gcount)" -ge $(($1 + 10)) ]; }
acks() { grep -c '^ACK ' "$1" 2>/dev/null || echo 0; }
enough() { [ "$(acks "$1")" -ge "$2" ]; }
ok_rounds=0
for round in $(seq 1 $KILLS); do
	# Keys overlap between rounds (the same -c makes the same keys), so
	# later rounds renew leases acked before earlier kills.
	t_bg "$H" sh -c "exec '$LOADGEN' -n $((300 * round)) -r 20 -c 8 -d 60 '$T_SOCK' >'$T_DIR/acks.$round' 2>/dev/null"
	LG=$T_LAST_PID
	g0=$(gcount)
	want=$((20 + RANDOM % 400))	# the random moment: after this many acks
	t_wait 60 enough "$T_DIR/acks.$round" "$want" || t_fail "round $round: load did not get going"
	# and garbage in this round too, however slow the machine (ASan)
	t_wait 60 garbage_since "$g0" || t_fail "round $round: no garbage was sent"
	kill -9 "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
	kill "$LG" 2>/dev/null; wait "$LG" 2>/dev/null
	t_server "$H" "$CONF" || { t_fail "round $round: restart"; break; }
	sqlite3 "$T_DB" "SELECT tbl, family, ifname, address FROM leases WHERE alive=1" | tr '|' ' ' | sort >"$T_DIR/db"
	cat "$T_DIR"/acks.* | awk '/^ACK/{print $2, $3, $4, $5}' | sort -u >"$T_DIR/acked"
	lost=$(comm -23 "$T_DIR/acked" "$T_DIR/db" | wc -l)
	twice=$(sqlite3 "$T_DB" 'SELECT family, tbl FROM leases WHERE alive=1 GROUP BY family, tbl HAVING count(*) > 1')
	if [ "$lost" = 0 ] && [ -z "$twice" ]; then
		ok_rounds=$((ok_rounds + 1))
	else
		t_fail "round $round: $lost acked leases lost, tables held twice: $twice"
	fi
done
kill "$GARBAGE_PID" 2>/dev/null; wait "$GARBAGE_PID" 2>/dev/null

total=$(cat "$T_DIR"/acks.* | grep -c '^ACK ')
t_eq "$KILLS kills, after each restart every acked lease is in the database, none twice ($total acks)" $KILLS $ok_rounds
t_check "the kills came mid-load" test "$(sort -u "$T_DIR/acked" | wc -l)" -ge $KILLS
t_eq "no table acked to two keys over the whole run" "" \
	"$(awk '{print $2, $1}' "$T_DIR/acked" | sort | uniq -d | head -3)"
t_eq "no key acked with two tables over the whole run" "" \
	"$(awk '{print $2, $3, $4}' "$T_DIR/acked" | sort | uniq -d | head -3)"
t_check "garbage was mixed in ($(wc -l <"$T_DIR/garbage.count") datagrams)" \
	test "$(wc -l <"$T_DIR/garbage.count")" -ge 100
t_eq "the daemons' leases are live in the database" 3 \
	"$(sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE alive=1 AND ifname LIKE 'up_'")"
t_eq "the daemons' tables are the ones they were acked" "$(printf '%s\n' "$TA" "$TB" "$T6" | sort)" \
	"$(sqlite3 "$T_DB" "SELECT tbl FROM leases WHERE alive=1 AND ifname LIKE 'up_' ORDER BY tbl")"
t_eq "the three daemons are still running" "$DAEMONS" "$(daemons)"
t_eq "the daemons' rules never changed" "$RULES" "$(rules)"
r=$(t_in "$H" "$DGRAM" -t 3000 "$T_SOCK" '{"version":1,"cmd":0,"addr_family":2,"address":"192.0.2.7","ifname":"up0"}')
t_check "the restarted server renews a daemon's key with its table ($r)" grep -q "\"table\":$TA," <<<"$r"
echo "figures: kills=$KILLS acks=$total garbage=$(wc -l <"$T_DIR/garbage.count") lost=0-if-passed"
t_done
