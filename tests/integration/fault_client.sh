#!/bin/bash
# The client under faults: the server killed -9 mid-lease and restarted with
# its database wiped (the daemon keeps its table: it says which it holds,
# and new keys get other tables in the grace period),
# and a netlink event storm (hundreds of address adds/deletes on another
# interface and on its own) that must change nothing until its own address
# goes.
. "$(dirname "$0")/../lib.sh"
t_require_root
DGRAM=$BUILD/tools/dgram
t_uplink_host -4
t_veth "$H" up1 "$ISP" isp1
t_server "$H" '"table_timeout": 4' || exit 1
T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1)
t_check "leased ($T)" test "${T:-0}" -gt 0
pid=$(t_daemons "$H")
ours() { ip -n "$H" rule show | grep 'proto 122'; }

# 1. kill -9, database wiped, another key asks at once: it gets another
# table at once (the daemon's is held back for the grace period), the
# daemon reclaims its table (its renewal says which it holds), and its
# rules stay.
rules=$(ip -n "$H" rule show)
kill -9 "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
rm -f "$T_DB" "$T_DB-wal" "$T_DB-shm"
t_server "$H" '"table_timeout": 4' || exit 1
r=$(t_in "$H" "$DGRAM" -t 3000 "$T_SOCK" '{"version":1,"cmd":0,"addr_family":2,"address":"10.9.9.9","ifname":"other0"}')
o=$(printf '%s' "$r" | grep -o '"table": *[0-9]*' | grep -o '[0-9]*$')
t_check "another key gets a table from the wiped server at once ($r)" test "${o:-0}" -gt 0
t_check "another key does not get the daemon's table $T ($o)" test "${o:-0}" != "$T"
new() { sqlite3 "$T_DB" "SELECT tbl FROM leases WHERE address='192.0.2.7' AND alive=1" 2>/dev/null; }
reclaimed() { [ "$(new)" = "$T" ]; }
t_check "the daemon reclaimed table $T" t_wait 15 reclaimed
t_eq "its rules did not change" "$rules" "$(ip -n "$H" rule show)"
N=$(new)
t_eq "rules consistent with the server: from/to/iif on table $N, and the network's guard" \
	"10000: from 192.0.2.7 lookup $N proto 122|19999: from all to 192.0.2.0/24 lookup main suppress_prefixlength 24 proto 122|20000: from all to 192.0.2.0/24 lookup $N proto 122|91000: from all iif lo lookup $N proto 122" \
	"$(ours | tr -s ' \t' ' ' | sed 's/ $//' | paste -sd '|')"

# 2. netlink storm: 300 adds and deletes on up1, 300 on up0 (other addresses).
rules=$(ip -n "$H" rule show)
for i in $(seq 1 150); do
	echo "addr add 10.50.$((i / 200)).$((i % 200 + 1))/32 dev up1"
	echo "addr add 192.0.2.$((i % 100 + 100))/32 dev up0"
	echo "addr del 10.50.$((i / 200)).$((i % 200 + 1))/32 dev up1"
	echo "addr del 192.0.2.$((i % 100 + 100))/32 dev up0"
	echo "addr add 2001:db8:9::$i/128 dev up0 nodad"
	echo "addr del 2001:db8:9::$i/128 dev up0"
done >"$T_DIR/storm"
ip -n "$H" -batch "$T_DIR/storm"
ip -n "$H" link set up1 down; ip -n "$H" link set up1 up
t_check "storm: the daemon runs on" kill -0 "$pid"
t_eq "storm: rules unchanged" "$rules" "$(ip -n "$H" rule show)"
listed() { rtalloc --list | grep -q 192.0.2.7; }
t_check "storm: still leased on the server" listed
ip -n "$H" addr del 192.0.2.7/24 dev up0
gone() { ! kill -0 "$pid" 2>/dev/null; }
t_check "its own address gone: the daemon exits" t_wait 5 gone
t_eq "its own address gone: no rules of ours left" "" "$(ours)"
t_done
