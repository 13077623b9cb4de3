#!/bin/bash
# rtallocd as a system daemon (issue 24, items 4 and 6): its lines carry
# sd-daemon "<N>" priorities when stderr is the journal (JOURNAL_STREAM
# names it; not when it only is set), an interactive run shows no info
# chatter unless -v (rtallocd, rtalloc); SIGHUP reloads allowed/read ids and reopens the log
# file instead of killing it (the units have ExecReload=); users in
# read_uids list leases without lease rights, a refused list says
# "permission denied"; --list shows the seconds a lease really has left,
# at most table_timeout, also after a restart (the stored row keeps one
# table_timeout of slack).
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv; NS=$T_NS
ip -n "$NS" link set lo up
SOCK=rtallocd-$T_ID
CONF=$T_DIR/rtallocd.json
ERR=$T_DIR/stderr.log
t_on_exit "rm -f /run/rtalloc/$SOCK.sock"
conf() {	# extra keys
	printf '{ "socket_path": "%s", "db_path": "%s/leases.db", "table_timeout": 60, "colour": 1%s }\n' \
		"$SOCK" "$T_DIR" "${1:+, $1}" >"$CONF"
}
start() {
	: >"$ERR"
	# the journal's stream is a file here: JOURNAL_STREAM names it as
	# systemd names the socket it gives a service
	T_READY_WAIT=10 t_bg_ready rtallocd "$NS" sh -c \
		"export JOURNAL_STREAM=\$(stat -c %d:%i '$ERR'); exec '$RTALLOCD' -c '$CONF' 2>>'$ERR'"
	PID=$T_LAST_PID
}
nobody() { t_in "$NS" setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }

conf
t_check "rtallocd starts" start
t_check "journal: info line with <6>" grep -q '^<6>serving tables' "$ERR"
t_check "journal: warning line with <4>" grep -q '^<4>config: unknown key "colour" ignored' "$ERR"
t_eq "journal: no text priority" "" "$(grep -v '^<[0-7]>' "$ERR")"

# A refused read says why; read_uids after a SIGHUP lets it list.
out=$(nobody "$RTALLOC" -d "$SOCK" --list --retry-interval 1 2>&1); rc=$?
t_eq "nobody --list without read_uids: exit 2" 2 "$rc"
t_check "nobody --list: permission denied ($out)" grep -q "^rtalloc: --list: permission denied" <<<"$out"
conf '"read_uids": [65534]'
kill -HUP "$PID"
t_check "SIGHUP: reloaded, said at notice" t_wait 3 grep -q "^<5>reloaded $CONF" "$ERR"
t_check "SIGHUP: rtallocd still runs" kill -0 "$PID"
r=$(t_in "$NS" "$BUILD/tools/dgram" -t 3000 "$SOCK" '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","seq":1}')
T=$(t_field table <<<"$r")
t_check "root leases a table ($r)" test "${T:-0}" -gt 0
out=$(nobody "$RTALLOC" -d "$SOCK" --list 2>&1); rc=$?
t_eq "read_uids: nobody --list: exit 0" 0 "$rc"
t_check "read_uids: nobody sees the lease ($out)" grep -Eq "^inet +eth0 +10.0.0.1 +$T " <<<"$out"
out=$(nobody "$RTALLOC" -d "$SOCK" --status 2>&1 >/dev/null)
t_check "read_uids: nobody --status gets the list ($out)" bash -c '! grep -q "permission denied" <<<"$1"' x "$out"
r=$(nobody "$BUILD/tools/dgram" -t 3000 "$SOCK" '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"eth0","seq":1}')
t_check "read_uids: no lease rights ($r)" grep -q "permission denied: uid 65534 may not lease tables" <<<"$r"

# rtalloc on a terminal: the table, no "speaking protocol version" chatter;
# -v shows it.
tty_lease() {
	script -qec "ip netns exec $NS $RTALLOC $* -a tty1 -i lo -d $SOCK; ip netns exec $NS $RTALLOC -a tty1 -i lo -d $SOCK -r" \
		/dev/null | tr -d '\r'
}
out=$(tty_lease)
t_check "rtalloc on a tty: the table ($out)" grep -Eq '^[0-9]+$' <<<"$out"
t_eq "rtalloc on a tty: nothing else" 1 "$(wc -l <<<"$out")"
out=$(tty_lease -v)
t_check "rtalloc -v on a tty: info lines ($out)" grep -q "^rtalloc: info: speaking protocol version 2" <<<"$out"

secs() { t_in "$NS" "$RTALLOC" -d "$SOCK" --list | awk '$3 == "10.0.0.1" { print $5 }'; }
s=$(secs)
t_check "--list: seconds left <= table_timeout ($s)" test "${s:-999}" -le 60 -a "${s:-0}" -ge 55
# rtalloc-track's state for one IPv4-only uplink lists it per family, the
# IPv6 row "absent" (track.c write_state); the table shows it once.
cat >"$T_DIR/track.json" <<EOJ
{"pid":0,"mode":"failover","updated":1,"unbound":["eth0"],"unbound6":[],"uplinks":[
{"interface":"eth0","family":"inet","address":"10.0.0.1","table":$T,"priority":1,"weight":1,"method":"icmp","state":"online","since":1,"loss":0.0,"rtt_ms":1.000,"answered":1,"targets":1,"unbound":true},
{"interface":"eth0","family":"inet6","address":"","table":0,"priority":1,"weight":1,"method":"icmp","state":"absent","since":0,"loss":0.0,"rtt_ms":0.000,"answered":0,"targets":1,"unbound":false},
{"interface":"wan9","family":"inet","address":"","table":0,"priority":2,"weight":1,"method":"icmp","state":"absent","since":0,"loss":0.0,"rtt_ms":0.000,"answered":0,"targets":1,"unbound":false},
{"interface":"wan9","family":"inet6","address":"","table":0,"priority":2,"weight":1,"method":"icmp","state":"absent","since":0,"loss":0.0,"rtt_ms":0.000,"answered":0,"targets":1,"unbound":false}]}
EOJ
out=$(RTALLOC_TRACK_STATE=$T_DIR/track.json t_in "$NS" "$RTALLOC" -d "$SOCK" --list)
t_eq "--list: the health table once: one row per uplink" "eth0 online|wan9 absent" \
	"$(awk '/^uplink +address +health/ { h = 1; next } h { printf "%s%s %s", sep, $1, $3; sep = "|" }' <<<"$out")"
t_eq "--list: one health header" 1 "$(grep -c '^uplink  *address  *health' <<<"$out")"
t_eq "--list: no IPv6 line for an IPv4-only uplink" 0 "$(grep -c '^unbound IPv6' <<<"$out")"
kill "$PID"; wait "$PID" 2>/dev/null
t_check "rtallocd starts again" start
s=$(secs)
t_check "--list after a restart: seconds left <= table_timeout, not the row's slack ($s)" \
	test "${s:-999}" -le 60 -a "${s:-0}" -ge 50
kill "$PID"; wait "$PID" 2>/dev/null

# JOURNAL_STREAM set but naming another file: plain lines.  A log file
# moved away (logrotate) is opened again on SIGHUP.
conf "\"log_path\": \"$T_DIR/rtallocd.log\""
T_READY_WAIT=10 t_bg_ready rtallocd "$NS" env JOURNAL_STREAM=1:1 "$RTALLOCD" -c "$CONF"
PID=$T_LAST_PID
t_check "log file: text priorities" grep -q '^[0-9T:-]* rtallocd: info: serving tables' "$T_DIR/rtallocd.log"
mv "$T_DIR/rtallocd.log" "$T_DIR/rtallocd.log.1"
kill -HUP "$PID"
t_check "SIGHUP: the log file is opened again" t_wait 3 grep -q "rtallocd: notice: reloaded" "$T_DIR/rtallocd.log"
kill "$PID"; wait "$PID" 2>/dev/null

# On a terminal: warnings, no info lines; -v shows them.
conf
tty_run() { t_in "$NS" script -qec "timeout -s TERM 1 $RTALLOCD -c $CONF $*" /dev/null | tr -d '\r'; }
out=$(tty_run)
t_check "tty: the warning shows ($out)" grep -q 'rtallocd: warning: config: unknown key' <<<"$out"
t_check "tty: no info chatter ($out)" bash -c '! grep -q "info:" <<<"$1"' x "$out"
out=$(tty_run -v)
t_check "tty -v: info lines ($out)" grep -q 'rtallocd: info: serving tables' <<<"$out"

for u in rtallocd rtalloc-agent rtalloc-track; do
	t_check "$u.service has ExecReload=" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$TOP/systemd/$u.service"
done
t_done
