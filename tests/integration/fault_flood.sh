#!/bin/bash
# One sender floods rtallocd with 100,000 datagrams (garbage and valid
# requests mixed, never reading its replies) while another client asks for
# leases: the other client's every request is still answered (counted, not
# timed), and the server's memory stays bounded.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v python3 >/dev/null || t_skip "needs python3"
FLOOD=100000
LOADGEN=$BUILD/tools/loadgen
t_netns flood; NS=$T_NS
# Under ASan, freed memory sits in a quarantine of up to 256 MiB, which would
# read as growth; without the quarantine VmRSS measures the server again.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0"
t_server "$NS" '"num_tables": 5000, "table_timeout": 600' || exit 1
rss() { awk '/^VmRSS/{print $2}' "/proc/$T_SERVER_PID/status"; }
# warm up: the slots and a first batch are allocated before the baseline
t_in "$NS" "$LOADGEN" -6 -q -n 50 -c 4 "$T_SOCK" 2>/dev/null
rss0=$(rss)

cat >"$T_DIR/flood.py" <<'PY'
# flood.py NAME COUNT: COUNT datagrams from one socket, replies never read
# (the server's replies to us are dropped once our queue is full).
import os, socket, sys
name, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"")	# autobind: an address the server can answer (and must not block on)
msgs = [os.urandom(200), b"{" * 5000, b'{"version":1,"cmd":0', b"\0" * 64,
        b'{"version":1,"cmd":0,"addr_family":2,"address":"10.200.0.1","ifname":"flood0"}',
        b'{"version":2,"cmd":1,"addr_family":2,"address":"10.200.0.1","ifname":"flood0","uid":0}',
        b'{"version":2,"cmd":3,"seq":1}']
sent = 0
for i in range(count):
    try:
        s.sendto(msgs[i % len(msgs)], b"\0" + name.encode())
        sent += 1
    except OSError:
        pass
print(sent)
PY
t_bg "$NS" sh -c "exec python3 '$T_DIR/flood.py' '$T_SOCK' $FLOOD >'$T_DIR/flood.out' 2>&1"
FP=$T_LAST_PID
t_in "$NS" "$LOADGEN" -n 300 -c 2 -r 3 -d 100 "$T_SOCK" >"$T_DIR/acks" 2>"$T_DIR/lg.err"
rc=$?
flood_running_after=$([ -d "/proc/$FP" ] && echo yes || echo no)
wait "$FP"
t_eq "the flood sent $FLOOD datagrams" "$FLOOD" "$(cat "$T_DIR/flood.out")"
t_eq "the other client: all 300 keys x 3 answered with a table ($(cat "$T_DIR/lg.err"))" 900 "$(grep -c '^ACK ' "$T_DIR/acks")"
t_eq "the other client: loadgen exit 0" 0 "$rc"
echo "# the flood was still running when the other client finished: $flood_running_after"
rss1=$(rss)
t_check "server memory bounded: VmRSS ${rss0} kB -> ${rss1} kB (< +16 MiB)" test $((rss1 - rss0)) -lt 16384
t_check "server still alive" kill -0 "$T_SERVER_PID"
t_eq "database: the flood's key leased at most once" 1 \
	"$(sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE ifname='flood0'")"
t_eq "database: the other client's 300 leases" 300 \
	"$(sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE alive=1 AND family=2 AND ifname LIKE 'lg%'")"
t_done
