#!/bin/bash
# Attacks of an unprivileged local user (uid 65534) on the sockets between
# rtalloc, its daemons and rtallocd (issue 14), each followed by a look at
# what root's routing is left with (rules, tables local and main, leases):
# A. a squatter on a daemon's control name answering "table 255" (and one
#    on its address name);
# B. forged replies (table 255, a 136-year lease) sprayed at every client
#    socket during renewals, with the server kept busy;
# C. an impostor on @rtallocd while the server is down: the server then
#    says who holds its name and exits non-zero; root clients ignore it;
# D. eight flooders doing blocking sendto: root's rtalloc still gets its
#    lease within its own 3 s timeout;
# E. and from root's own server rtalloc takes no table 253..255 and no lease
#    beyond 7 days.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
command -v python3 >/dev/null || t_skip "needs python3"
NOBODY=65534
FLOOD=$BUILD/tools/flood

t_uplink_host -4
t_veth "$H" up1 "$ISP" isp1
ip -n "$H" addr add 198.51.100.7/24 dev up1
chmod 711 "$T_DIR"
t_server "$H" '"table_timeout": 4' || exit 1
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# not a pyenv shim in /root
# as_nobody NS OUT CMD...: CMD as uid 65534 in NS, its stdout into OUT
as_nobody() {
	local ns=$1 out=$2; shift 2
	t_bg "$ns" sh -c 'o=$1; shift; exec setpriv --reuid='$NOBODY' --regid='$NOBODY' --clear-groups "$@" >"$o"' \
		- "$out" "$@"
}
alive_table() { t_rows "SELECT tbl FROM leases WHERE address='$1' AND alive=1 AND uid=0"; }
ours() { ip -n "$H" rule show | grep -c "lookup $1 proto 122"; }
intact() {
	t_check "$1: table local intact" test -n "$(ip -n "$H" route show table local)"
	t_check "$1: ping 127.0.0.1 works" eval 't_in "$H" ping -c 1 -W 2 127.0.0.1 >/dev/null'
	t_check "$1: table main intact" eval 'ip -n "$H" route show table main | grep -q "192.0.2.0/24 dev up0"'
	# (The network's guard, `to NET lookup main suppress_prefixlength P`
	# at 19999, looks up main by design: no table of a lease.)
	t_check "$1: no rule of ours names table 0 or 253..255" \
		eval '! ip -n "$H" rule show | grep "proto 122" | grep -v "^19999:.* lookup main suppress_prefixlength" |
			grep -Eq "lookup (0|253|254|255|default|main|local) "'
}

# A. squatted control name
cat >"$T_DIR/squat.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0" + sys.argv[1].encode())
while True:
    m, a = s.recvfrom(256)
    try:
        s.sendto(b"table 255" if m == b"table" else b"released", a)
    except OSError:
        pass
PY
as_nobody "$H" /dev/null "$PY" "$T_DIR/squat.py" "rtalloc/4/up0/192.0.2.7"
SQ=$T_LAST_PID
as_nobody "$H" /dev/null "$PY" "$T_DIR/squat.py" "rtalloc-addr/4/192.0.2.7"
SQA=$T_LAST_PID
t_check "A: uid $NOBODY holds @rtalloc/4/up0/192.0.2.7" t_wait 5 t_socket_bound "$H" "rtalloc/4/up0/192.0.2.7"
t_check "A: and the address name @rtalloc-addr/4/192.0.2.7" t_wait 5 t_socket_bound "$H" "rtalloc-addr/4/192.0.2.7"
T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 2>"$T_DIR/a.err")
t_check "A: root's rtalloc leased a table of the server, not 255 ($T)" test "${T:-0}" -ge 10000
t_check "A: it names the squatter ($(tr '\n' ' ' <"$T_DIR/a.err"))" \
	grep -q "held by uid $NOBODY pid $SQ" "$T_DIR/a.err"
t_check "A: and the address name's squatter" grep -q "held by uid $NOBODY pid $SQA" "$T_DIR/a.err"
t_eq "A: its three rules are in the kernel" 3 "$(ours "$T")"
t_eq "A: the lease is root's in the database" "$T" "$(alive_table 192.0.2.7)"
T2=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 2>/dev/null)
t_eq "A: a second run asks the real holder (by its file name), not the squatter" "$T" "$T2"
intact A

# B. forged replies sprayed at every client socket during renewals
cat >"$T_DIR/spray.py" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"")
s.setblocking(False)	# a full queue is no reason to stop spraying the others
forged = [b'{"version":1,"cmd":2,"table":255,"lease_expires":4000000000,"lease_seconds":4000000000}']
forged += [b'{"version":2,"cmd":2,"table":255,"lease_expires":4000000000,"lease_seconds":4000000000,"seq":%d}' % i
           for i in range(64)]
targets, sent, refused = set(), 0, 0
while time.time() < end:
    for line in open("/proc/net/unix").read().splitlines()[1:]:
        f = line.split()
        if len(f) < 8 or not f[7].startswith("@"):
            continue
        addr = f[7].replace("@", "\0").encode()
        if b"rtalloc-c/" in addr:
            targets.add(addr)
        for m in forged:
            try:
                s.sendto(m, addr)
                sent += 1
            except OSError:
                refused += 1
print(len(targets), sent, refused)
PY
as_nobody "$H" /dev/null "$FLOOD" -s 7 "$T_SOCK"; F1=$T_LAST_PID
as_nobody "$H" /dev/null "$FLOOD" -p -s 7 "$T_SOCK"; F2=$T_LAST_PID
as_nobody "$H" "$T_DIR/spray.out" "$PY" "$T_DIR/spray.py" 7; SP=$T_LAST_PID
wait "$SP" "$F1" "$F2"
read -r targets sent refused <"$T_DIR/spray.out" || targets=0 sent=0 refused=0
t_check "B: the sprayer found the daemon's lease socket ($targets) and sprayed ($sent sent, $refused refused)" \
	test "${targets:-0}" -ge 1 -a $((sent + refused)) -gt 1000
sleep 3	# one more renewal after the spray
t_eq "B: the daemon kept its rules for table $T" 3 "$(ours "$T")"
t_eq "B: no rule moved to table 255" 0 "$(ip -n "$H" rule show | grep -c 'lookup local proto 122')"
t_check "B: the daemon still runs" test -n "$(t_daemons "$H" 192.0.2.7)"
t_eq "B: its lease is alive in the database (renewed through the spray)" "$T" "$(alive_table 192.0.2.7)"
t_check "B: and has not expired" test "$(t_rows "SELECT expires FROM leases WHERE address='192.0.2.7' AND alive=1")" -gt "$(date +%s)"
intact B

# C. an impostor on @rtallocd while the server is down
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
t_check "C: the stopped server removed its file socket" test ! -e "/run/rtalloc/$T_SOCK.sock"
cat >"$T_DIR/impostor.py" <<'PY'
import json, select, socket, sys, time
name = sys.argv[1].encode()
table, seconds = (int(a) for a in (sys.argv[2:4] if len(sys.argv) > 3 else (254, 3600)))
noseq = sys.argv[4:] == ["noseq"]
socks = []
for addr in (b"\0" + name, b"\0" + name + b"\0" * (107 - len(name))):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(addr)
    socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        m, a = s.recvfrom(65536)
        try:
            q = json.loads(m.rstrip(b"\0"))
            r = {"version": q.get("version", 1), "cmd": 2, "table": table,
                 "lease_expires": int(time.time()) + seconds, "lease_seconds": seconds}
            if "seq" in q and not noseq:
                r["seq"] = q["seq"]
            s.sendto(json.dumps(r).encode(), a)
        except (OSError, ValueError):
            pass
PY
as_nobody "$H" /dev/null "$PY" "$T_DIR/impostor.py" "$T_SOCK"
IMP=$T_LAST_PID
t_check "C: uid $NOBODY holds @$T_SOCK" t_wait 5 t_socket_bound "$H" "$T_SOCK"
out=$(t_in "$H" timeout 10 "$RTALLOCD" -c "$T_CONF" 2>&1); rc=$?
t_check "C: rtallocd exits non-zero ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
t_check "C: and says who holds its name ($out)" \
	grep -q "socket @$T_SOCK.* is already in use by uid $NOBODY pid $IMP (python3)" <<<"$out"
# a server that /proc hides the impostor from (hidepid=2, as systemd's
# ProtectProc=invisible) asks it instead, and the kernel says who answered
out=$(t_in "$H" unshare -m sh -c "mount -t proc -o hidepid=2 proc /proc &&
	exec setpriv --reuid=65533 --regid=65533 --clear-groups timeout 10 '$RTALLOCD' -c '$T_CONF'" 2>&1); rc=$?
t_check "C: a server without sight of it names the impostor too ($out)" \
	grep -q "socket @$T_SOCK is already in use by uid $NOBODY pid $IMP" <<<"$out"
out=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 2 --retry-interval 1 2>"$T_DIR/c.err"); rc=$?
t_eq "C: root's rtalloc takes nothing from the impostor: prints 0" 0 "$out"
t_eq "C: exit status 2 (no lease)" 2 "$rc"
t_check "C: it logs the impostor's uid ($(head -c 300 "$T_DIR/c.err"))" grep -q "uid $NOBODY pid $IMP" "$T_DIR/c.err"
t_eq "C: no rule for 198.51.100.7" 0 "$(ip -n "$H" rule show | grep -c '198.51.100.7')"
sleep 3	# the running daemon's renewals meet the impostor
t_eq "C: the running daemon keeps its rules for table $T" 3 "$(ours "$T")"
intact C
kill "$IMP"; wait "$IMP" 2>/dev/null
t_server "$H" '"table_timeout": 4' || exit 1
t_check "C: after the real server is back, the daemon's lease is alive with table $T" \
	t_wait 10 eval 'test "$(alive_table 192.0.2.7)" = "$T"'

# D. eight flooders; root's rtalloc within its own 3 s timeout
FP=()
for i in 1 2 3 4; do
	as_nobody "$H" "$T_DIR/flood$i.out" "$FLOOD" -s 8 "$T_SOCK"; FP+=("$T_LAST_PID")
	as_nobody "$H" "$T_DIR/floodp$i.out" "$FLOOD" -p -s 8 "$T_SOCK"; FP+=("$T_LAST_PID")
done
sleep 2
T3=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 --retries 1 --retry-interval 3 2>"$T_DIR/d.err"); rc=$?
t_check "D: root's rtalloc leased within one 3 s try under the flood ($T3, exit $rc)" test "${T3:-0}" -ge 10000
t_eq "D: its rules are in the kernel" 3 "$(ours "${T3:-x}")"
t_eq "D: its lease is in the database" "${T3:-x}" "$(alive_table 198.51.100.7)"
wait "${FP[@]}"
total=$(cat "$T_DIR"/flood*.out | awk '{ s += $1 } END { print s + 0 }')
t_check "D: the eight flooders sent $total datagrams" test "$total" -gt 10000
t_eq "D: the daemon for 192.0.2.7 kept its lease through the flood" "$T" "$(alive_table 192.0.2.7)"
t_eq "D: nothing was leased to the flooders" 0 "$(t_rows "SELECT count(*) FROM leases WHERE ifname='flood0'")"
cat >"$T_DIR/ask.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"")
s.settimeout(2)
s.sendto(b"table", b"\0" + sys.argv[1].encode())
try:
    print(s.recv(64).decode())
except OSError:
    print("no answer")
PY
as_nobody "$H" "$T_DIR/ask.out" "$PY" "$T_DIR/ask.py" "rtalloc/4/up1/198.51.100.7"; wait "$T_LAST_PID"
t_eq "D: the daemon answers uid $NOBODY's \"table\" with nothing" "no answer" "$(cat "$T_DIR/ask.out")"
t_eq "D: and root's with its table" "table $T3" "$(t_in "$H" "$PY" "$T_DIR/ask.py" "rtalloc/4/up1/198.51.100.7")"
intact D

# E. even the server's (root's) word: no kernel table, no endless lease
ip -n "$H" addr add 203.0.113.7/24 dev up1
for bad in "255 3600 - table 255 is the kernel's" "10000 700000 - a lease of 700000 s" \
	"10001 3600 noseq a version 2 reply without seq"; do
	read -r tbl secs flag why <<<"$bad"
	t_bg "$H" "$PY" "$T_DIR/impostor.py" "fake-$T_ID-$tbl" "$tbl" "$secs" "$flag"; FK=$T_LAST_PID
	t_wait 5 t_socket_bound "$H" "fake-$T_ID-$tbl"
	out=$(t_in "$H" "$RTALLOC" -d "fake-$T_ID-$tbl" -4 -a 203.0.113.7 -n 24 -i up1 --retries 1 --retry-interval 1 2>"$T_DIR/e.err")
	t_eq "E: a root server answering table $tbl for $secs s: rtalloc prints 0" 0 "$out"
	t_check "E: and says why: $why ($(head -c 200 "$T_DIR/e.err"))" grep -q "dropped: $why" "$T_DIR/e.err"
	kill "$FK"; wait "$FK" 2>/dev/null
done
t_eq "E: no rule for 203.0.113.7" 0 "$(ip -n "$H" rule show | grep -c '203.0.113')"
intact E

# the squatter is still there: root's rtalloc -r reaches the real holder
t_check "A: with the squatter still there, root's rtalloc -r works" rtalloc -4 -a 192.0.2.7 -i up0 -r
t_eq "A: the daemon's rules are gone" 0 "$(ours "$T")"
t_eq "A: its lease is released" "" "$(alive_table 192.0.2.7)"
t_check "A: the squatter was never asked (it still runs, unobeyed)" kill -0 "$SQ"
t_done
