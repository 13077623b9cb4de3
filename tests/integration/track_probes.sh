#!/bin/bash
# rtalloc-track counts a probe reply only when it matches the probe: an echo
# reply with the wrong identifier, the wrong sequence number or from another
# address than the target does not bring an uplink online; the right one
# does (so the forged replies really arrived and were refused).  With the
# raw socket (root outside ping_group_range) and with the unprivileged ICMP
# datagram socket (ping_group_range "0 0").  A TCP connect probe works where
# ICMP is dropped.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# The far host's kernel answers no echo; a responder answers as MODE says.
t_in "$TK_F" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
MODE=$T_DIR/mode RLOG=$T_DIR/responder.log
echo wrongid >"$MODE"; : >"$RLOG"
t_bg "$TK_F" "$PY" -c '
import socket, struct, sys
mode_file, log = sys.argv[1:3]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
socks = {}
while True:
    pkt, addr = r.recvfrom(2048)
    ihl = (pkt[0] & 15) * 4
    t, code, ck, ident, seq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
    if t != 8: continue
    mode = open(mode_file).read().strip()
    src, payload = socket.inet_ntoa(pkt[16:20]), pkt[ihl + 8:]
    if mode == "wrongid": ident ^= 0x5555
    elif mode == "wrongseq": seq = (seq + 1000) & 0xffff
    elif mode == "wrongsrc": src = "198.51.100.9"
    if src not in socks:
        socks[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        socks[src].bind((src, 0))
    msg = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + payload
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    socks[src].sendto(msg, (addr[0], 0))
    with open(log, "a") as f: f.write("%s %s\n" % (mode, addr[0]))
' "$MODE" "$RLOG"

CONF='"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "targets": ["198.51.100.1"] } ]'
# forged MODE SOCKET-KIND: forged replies of MODE keep up1 offline.
forged() {
	echo "$1" >"$MODE"
	local before
	before=$(grep -c "^$1 10.1.0.2" "$RLOG")
	sleep 2
	t_check "$2: replies with $1 were sent to the host" \
		test "$(grep -c "^$1 10.1.0.2" "$RLOG")" -ge "$((before + 4))"
	t_eq "$2: replies with $1 do not count (up1 offline)" offline "$(tk_state up1)"
}
for kind in raw datagram; do
	if [ $kind = datagram ]; then
		kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
		t_in "$TK_H" sysctl -qw net.ipv4.ping_group_range="0 0"
	fi
	echo wrongid >"$MODE"
	tk_start "$CONF"
	t_check "$kind: probing with the $kind socket" grep -q "up1: probing 1 target with ICMP echo ($kind socket)" "$TK_LOG"
	t_check "$kind: up1 goes offline" t_wait 5 tk_is up1 offline
	forged wrongid $kind
	forged wrongseq $kind
	forged wrongsrc $kind
	echo good >"$MODE"
	t_check "$kind: the matching reply brings up1 online" t_wait 5 tk_is up1 online
done

# TCP connect probe: ICMP is dropped on the way, port 7 answers.
kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
t_in "$TK_I1" nft add rule inet tk cut meta l4proto icmp drop
t_check "ICMP through ISP 1 is dropped" eval '! t_in "$TK_H" ping -c 1 -W 1 -I 10.1.0.2 198.51.100.1 >/dev/null'
tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "method": "tcp", "targets": ["198.51.100.1:7"] },
               { "interface": "up2", "method": "icmp", "targets": ["198.51.100.1"] } ]'
t_check "tcp: probing with TCP connect" grep -q "up1: probing 1 target with TCP connect" "$TK_LOG"
t_check "tcp: up1 comes online by TCP although ICMP is dropped" t_wait 5 tk_is up1 online
t_in "$TK_I1" nft add rule inet tk cut tcp dport 7 drop
t_check "tcp: up1 goes offline when TCP is dropped too" t_wait 5 tk_is up1 offline
t_done
