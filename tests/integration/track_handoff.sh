#!/bin/bash
# rtalloc-track's hand-off (tests/track-topology.sh): a LAN host's UDP
# stream (20 packets/s, one socket), SNATed by the host's nftables to a
# fixed address per uplink (`snat to`, as routers with static addresses
# do), reaches the far host from up2's address within 1 s of the switch
# when up1's upstream dies, and from up1's again within 1 s of the
# fail-back: the flow's conntrack entry is removed at each switch.  A local
# TCP connection opened while up1 carried unbound traffic is left alone
# without reset_local and is reset with it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
now() { date +%s%3N; }
tk_lan snat
FAR=$T_DIR/far.log
tk_udp_stream "$FAR" 50
t_bg "$TK_F" socat TCP-LISTEN:9,fork,reuseaddr PIPE
first_from() { tk_first_from "$FAR" "$@"; }
seen_from() { [ -n "$(first_from "$@")" ]; }
# local_conn OUT: a local TCP connection to the far host's echo, opened now
# (unbound: its source is the carrying uplink's); OUT gets its source, then
# "reset" when the connection is reset or aborted, "alive" after 6 s.
local_conn() {
	t_bg "$TK_H" "$PY" -c '
import socket, sys
c = socket.create_connection(("198.51.100.1", 9), timeout=6)
print(c.getsockname()[0], flush=True)
try:
    d = c.recv(10)
    print("closed" if not d else "data", flush=True)
except socket.timeout:
    print("alive", flush=True)
except OSError as e:
    print("reset", e.errno, flush=True)' >"$1"
}
CONF='"interval": 0.3, "timeout": 0.25, "down": 2, "up": 2, "forward_from": ["lan0"],
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'

tk_start "$CONF"
t_check "both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t0=$(now)
t_check "the LAN stream reaches the far host from up1's address" t_wait 5 seen_from 10.1.0.2 "$t0"
local_conn "$T_DIR/keep.out"
t_check "a local connection from up1's address" t_wait 5 grep -qx 10.1.0.2 "$T_DIR/keep.out"

tk_cut 100 1
t_wait 10 tk_rule_is 10002; t1=$(now)
t_check "unbound traffic switched to up2" tk_rule_is 10002
t_check "the stream arrives from up2's address" t_wait 5 seen_from 10.2.0.2 "$t1"
a=$(first_from 10.2.0.2 "$t1")
echo "    switch seen at $t1, first datagram from 10.2.0.2 at $a"
t_check "within 1 s of the switch" test "$((a - t1))" -le 1000
t_check "the hand-off logged" grep -q "up1: hand-off: 1 forwarded flow NATed to 10.1.0.2 removed$" "$TK_LOG"

tk_cut 0 1
t_wait 10 tk_rule_is 10001; t2=$(now)
t_check "fail-back: unbound traffic on up1 again" tk_rule_is 10001
t_check "the stream arrives from up1's address again" t_wait 5 seen_from 10.1.0.2 "$t2"
a=$(first_from 10.1.0.2 "$t2")
echo "    fail-back seen at $t2, first datagram from 10.1.0.2 at $a"
t_check "within 1 s of the fail-back" test "$((a - t2))" -le 1000
t_check "without reset_local the local connection was left alone" t_wait 8 grep -qx alive "$T_DIR/keep.out"
kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"

tk_start '"reset_local": true, '"$CONF"
t_check "both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
local_conn "$T_DIR/reset.out"
t_check "a local connection from up1's address" t_wait 5 grep -qx 10.1.0.2 "$T_DIR/reset.out"
tk_cut 100 1
t_check "unbound traffic switched to up2" t_wait 10 tk_rule_is 10002
t_check "with reset_local the local connection is reset" t_wait 3 grep -q "^reset" "$T_DIR/reset.out"
t_check "logged" grep -Eq "up1: hand-off: [0-9]+ forwarded flows? NATed to 10.1.0.2 removed, [1-9][0-9]* local TCP and 0 connected UDP sockets reset" "$TK_LOG"
t_done
