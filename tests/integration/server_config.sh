#!/bin/bash
# rtallocd refuses bad configuration with one line naming the key, and sends
# READY=1 to NOTIFY_SOCKET.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns cfg
NS=$T_NS
check_conf() {	# description json expected-substring
	printf '%s\n' "$2" >"$T_DIR/bad.json"
	out=$(t_in "$NS" timeout 5 "$RTALLOCD" -c "$T_DIR/bad.json" 2>&1); rc=$?
	t_eq "$1: exit 1" 1 "$rc"
	t_eq "$1: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	t_check "$1: names the problem ($out)" grep -qF "$3" <<<"$out"
}
check_conf "bad value beside an unknown key" '{"num_tables": 0, "tables": 5}' "num_tables: must be 1..1000000, got 0"
# An unknown key (the original's configs may carry extra ones) is one
# warning line naming it, and the server starts and serves.
printf '{"socket_path": "u-%s", "db_path": "%s", "tables": 5, "x\\u0001y": [1]}\n' "$T_ID" "$T_DIR/u.db" >"$T_DIR/unknown.json"
T_READY_WAIT=10 t_bg_ready rtallocd "$NS" sh -c "exec '$RTALLOCD' -c '$T_DIR/unknown.json' 2>'$T_DIR/unknown.log'"
t_check "unknown keys: the server starts" kill -0 "$T_LAST_PID"
r=$(t_in "$NS" "$BUILD/tools/dgram" -t 3000 "u-$T_ID" '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","seq":1}')
t_check "unknown keys: it leases ($r)" grep -q '"table":10000' <<<"$r"
kill "$T_LAST_PID"; wait "$T_LAST_PID" 2>/dev/null
t_eq "unknown keys: one warning line each" 2 "$(grep -c 'warning: config: unknown key' "$T_DIR/unknown.log")"
t_check "unknown keys: the line names the key" grep -q 'unknown key "tables" ignored' "$T_DIR/unknown.log"
t_check "unknown keys: a control character is not logged raw" grep -q 'unknown key "x?y" ignored' "$T_DIR/unknown.log"
check_conf "wrong type" '{"num_tables": "5"}' "num_tables: must be an integer"
check_conf "out of range" '{"num_tables": 0}' "num_tables: must be 1..1000000, got 0"
check_conf "kernel tables" '{"table_offset": 200, "num_tables": 100}' "table_offset: tables 200..299 overlap"
check_conf "timeout" '{"table_timeout": -5}' "table_timeout: must be 1.."
check_conf "families" '{"addr_families": {"ipx": true}}' 'addr_families: unknown family "ipx"'
check_conf "uids" '{"allowed_uids": "root"}' "allowed_uids: must be an array"
check_conf "not JSON" '{"num_tables": ' "config: not valid JSON"
out=$("$RTALLOCD" -c /nonexistent.json 2>&1)
t_check "missing file is named ($out)" grep -q "cannot open /nonexistent.json" <<<"$out"
t_check "-h prints usage" sh -c "'$RTALLOCD' -h | grep -q usage"

# NOTIFY_SOCKET: READY=1 once bound
python3 - "$T_DIR/notify" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(10)
open(sys.argv[1] + ".got", "w").write(s.recv(100).decode())
PY
T_PIDS+=($!)
t_wait 5 test -S "$T_DIR/notify"
NOTIFY_SOCKET=$T_DIR/notify t_server "$NS" || exit 1
t_wait 5 test -s "$T_DIR/notify.got"
t_eq "READY=1 sent" "READY=1" "$(cat "$T_DIR/notify.got" 2>/dev/null)"
# allowed_uids lets an unprivileged uid lease
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID"
t_server "$NS" '"allowed_uids": [65534]' || exit 1
r=$(t_in "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/tools/dgram" "$T_SOCK" \
	'{"version":1,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0"}')
t_check "allowed uid gets a table ($r)" grep -q '"table":10000' <<<"$r"
t_eq "the lease records the uid" 65534 "$(sqlite3 "$T_DB" 'SELECT uid FROM leases')"
t_done
