# tests/track-topology.sh: a host with two uplinks, for the rtalloc-track
# tests.  Source after tests/lib.sh, then call tk_topology.
#
#   TK_H (host) up1 10.1.0.2 ==== h0 TK_I1 (isp1) f0 10.11.0.1 ==== i1 ┐
#               up2 10.2.0.2 ==== h0 TK_I2 (isp2) f0 10.12.0.1 ==== i2 ┤ TK_F (far)
#                                                          198.51.100.0/24 local
#
# The ISPs have strict rp_filter and no route to each other's customers, so
# a packet out of the wrong uplink, or with the other uplink's source, is
# dropped.  The far host accepts every address of 198.51.100.0/24 (an AnyIP
# local route), answers ping, and on TCP port 7 writes back the source
# address it saw.  Each ISP has an nftables chain `cut` in its forward hook:
# tk_cut N I drops N% of what ISP I forwards (numgen random), tk_cut 0 I
# restores it; the link and the ISP's own address stay up.
#
# The host's side is what rtalloc leaves for the hooks: tables 10001 (up1)
# and 10002 (up2) with the uplink's routes, and proto-122 rules `from ADDR
# lookup T` (10000), `to NET lookup T` (20000) and `iif lo lookup T`
# (91000), up2's 91000 rule first, so without rtalloc-track unbound traffic
# leaves by up2.  Main has no default route.
TRACK=$BUILD/rtalloc-track

tk_topology() {
	local i
	[ -x "$TRACK" ] || t_skip "$TRACK not built (make tests)"
	command -v nft >/dev/null || t_skip "nft missing (scripts/deps)"
	command -v socat >/dev/null || t_skip "socat missing (scripts/deps)"
	t_netns h; TK_H=$T_NS
	t_netns i1; TK_I1=$T_NS
	t_netns i2; TK_I2=$T_NS
	t_netns f; TK_F=$T_NS
	for i in 1 2; do
		local isp=TK_I$i
		t_veth "$TK_H" "up$i" "${!isp}" h0 || exit 1
		t_veth "${!isp}" f0 "$TK_F" "i$i" || exit 1
		ip -n "$TK_H" addr add "10.$i.0.2/24" dev "up$i"
		ip -n "${!isp}" addr add "10.$i.0.1/24" dev h0
		ip -n "${!isp}" addr add "10.1$i.0.1/24" dev f0
		ip -n "$TK_F" addr add "10.1$i.0.2/24" dev "i$i"
		ip -n "${!isp}" route add 198.51.100.0/24 via "10.1$i.0.2"
		ip -n "$TK_F" route add "10.$i.0.0/24" via "10.1$i.0.1"
		t_in "${!isp}" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 \
			net.ipv4.conf.h0.rp_filter=1
		t_in "${!isp}" nft -f - <<-'EON'
		table inet tk {
			chain cut { type filter hook forward priority 0; policy accept; }
		}
		EON
		if [ -n "${TK_V6:-}" ]; then
			ip -n "$TK_H" addr add "2001:db8:$i::2/64" dev "up$i" nodad
			ip -n "${!isp}" addr add "2001:db8:$i::1/64" dev h0 nodad
			ip -n "${!isp}" addr add "2001:db8:1$i::1/64" dev f0 nodad
			ip -n "$TK_F" addr add "2001:db8:1$i::2/64" dev "i$i" nodad
			ip -n "${!isp}" -6 route add 2001:db8:ff::/64 via "2001:db8:1$i::2"
			ip -n "$TK_F" -6 route add "2001:db8:$i::/64" via "2001:db8:1$i::1"
			t_in "${!isp}" sysctl -qw net.ipv6.conf.all.forwarding=1
			t_in "${!isp}" nft add chain inet tk src "{ type filter hook forward priority -1; policy accept; }"
			t_in "${!isp}" nft add rule inet tk src iifname h0 ip6 saddr != "2001:db8:$i::/64" drop
		fi
		[ -n "${TK_NO_RULES:-}" ] && continue
		ip -n "$TK_H" route add "10.$i.0.0/24" dev "up$i" src "10.$i.0.2" table "1000$i"
		ip -n "$TK_H" route add default via "10.$i.0.1" dev "up$i" table "1000$i"
		ip -n "$TK_H" rule add from "10.$i.0.2" lookup "1000$i" pref 10000 proto 122
		ip -n "$TK_H" rule add to "10.$i.0.0/24" lookup "1000$i" pref 20000 proto 122
		if [ -n "${TK_V6:-}" ]; then
			ip -n "$TK_H" -6 route add "2001:db8:$i::/64" dev "up$i" table "1000$i"
			ip -n "$TK_H" -6 route add default via "2001:db8:$i::1" dev "up$i" table "1000$i"
			ip -n "$TK_H" -6 rule add from "2001:db8:$i::2" lookup "1000$i" pref 10000 proto 122
			ip -n "$TK_H" -6 rule add to "2001:db8:$i::/64" lookup "1000$i" pref 20000 proto 122
		fi
	done
	if [ -z "${TK_NO_RULES:-}" ]; then
		ip -n "$TK_H" rule add iif lo lookup 10002 pref 91000 proto 122
		ip -n "$TK_H" rule add iif lo lookup 10001 pref 91000 proto 122
		if [ -n "${TK_V6:-}" ]; then
			ip -n "$TK_H" -6 rule add iif lo lookup 10002 pref 91000 proto 122
			ip -n "$TK_H" -6 rule add iif lo lookup 10001 pref 91000 proto 122
		fi
	fi
	ip -n "$TK_F" route add local 198.51.100.0/24 dev lo
	t_bg "$TK_F" socat TCP-LISTEN:7,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR'
	[ -n "${TK_V6:-}" ] && ip -n "$TK_F" -6 route add local 2001:db8:ff::/64 dev lo &&
		t_bg "$TK_F" socat TCP6-LISTEN:7,fork,reuseaddr,ipv6only=1 SYSTEM:'echo $SOCAT_PEERADDR'
	[ -n "${TK_NO_RULES:-}" ] || t_wait 5 tk_src >/dev/null || { echo "far host's echo server did not start" >&2; exit 1; }
	# A router (the ISPs, and the far host answering from its lo address)
	# sends no neighbour solicitation for a packet it forwards until its
	# link-local address has passed DAD (up to ~2 s after the link came
	# up, more on a loaded machine): a first IPv6 connect then times out.
	[ -z "${TK_V6:-}" ] || t_wait 10 tk_no_tentative ||
		{ echo "IPv6 addresses still tentative after 10 s" >&2; exit 1; }
}

# tk_no_tentative: no address of the topology is still in DAD.
tk_no_tentative() {
	local ns
	for ns in "$TK_H" "$TK_I1" "$TK_I2" "$TK_F"; do
		[ -z "$(ip -n "$ns" -6 addr show tentative)" ] || return 1
	done
}

# tk_cut PERCENT ISP [MATCH...]: ISP (1 or 2) drops PERCENT of what it
# forwards (of what matches the nft MATCH, when given).
# tk_agent_topology: the topology with no rules of its own (rtalloc-agent
# installs them), a default route in main via each ISP (up1's first, as a
# DHCP client would add them) and rtallocd on the host; H is the host.
tk_agent_topology() {
	TK_NO_RULES=1 tk_topology
	H=$TK_H
	ip -n "$H" route add default via 10.1.0.1 dev up1 metric 100
	ip -n "$H" route add default via 10.2.0.1 dev up2 metric 200
	t_server "$H" || exit 1
}

tk_cut() {
	local pct=$1 isp=TK_I$2
	shift 2 || return 1
	t_in "${!isp}" nft flush chain inet tk cut
	if [ "$pct" -ge 100 ]; then
		t_in "${!isp}" nft add rule inet tk cut "$@" drop
	elif [ "$pct" -gt 0 ]; then
		t_in "${!isp}" nft add rule inet tk cut "$@" numgen random mod 100 \< "$pct" drop
	fi
}
# tk_src [DEST] [SOCAT-OPTS]: the source address the far host saw for an
# unbound TCP connection from the host (empty when it did not get through).
tk_src() {
	t_in "$TK_H" timeout 3 socat -T 2 - "TCP:${1:-198.51.100.1}:7${2:+,$2}" </dev/null 2>/dev/null
}
# tk_src6 [SOCAT-OPTS]: the same over IPv6 to 2001:db8:ff::1 (the address
# in its short form).
tk_src6() {
	t_in "$TK_H" timeout 3 socat -T 2 - "TCP6:[2001:db8:ff::1]:7${1:+,$1}" </dev/null 2>/dev/null |
		python3 -c 'import ipaddress, sys
s = sys.stdin.read().strip().strip("[]")
print(ipaddress.ip_address(s) if s else "")'
}
# tk_rule [-6]: the table of rtalloc-track's `iif lo` rule (pref 30001), or none.
tk_rule() {
	ip -n "$TK_H" "${1:--4}" rule show pref 30001 | sed -n 's/.*iif lo lookup \([0-9]*\) proto 122.*/\1/p'
}
# tk_start CONFIG-BODY: writes TK_CONF and starts rtalloc-track in TK_H,
# logging to TK_LOG; its pid in TK_PID.  State file TK_STATE.
tk_start() {
	TK_CONF=$T_DIR/track.json TK_LOG=$T_DIR/track.log TK_STATE=$T_DIR/track-state.json
	cat >"$TK_CONF" <<-EOC
	{ "state_file": "$TK_STATE", "hook_dir": "$T_DIR/hooks", $1 }
	EOC
	t_bg_ready rtalloc-track "$TK_H" sh -c 'exec "$0" -c "$1" 2>"$2"' "$TRACK" "$TK_CONF" "$TK_LOG" ||
		{ cat "$TK_LOG"; exit 1; }
	TK_PID=$T_LAST_PID
}
# tk_state IFNAME [FAMILY]: the uplink's state in the state file (FAMILY
# inet, the default, or inet6).
tk_state() {
	python3 -c 'import json,sys
for u in json.load(open(sys.argv[1]))["uplinks"]:
    if u["interface"] == sys.argv[2] and u["family"] == sys.argv[3]: print(u["state"])' \
		"$TK_STATE" "$1" "${2:-inet}" 2>/dev/null
}
tk_is() { [ "$(tk_state "$1" "${3:-inet}")" = "$2" ]; }
tk_rule_is() { [ "$(tk_rule "${2:--4}")" = "$1" ]; }
# tk_ping NS ADDR [PING-OPTS]: one ping from NS gets an answer (quietly).
tk_ping() { local ns=$1 a=$2; shift 2; t_in "$ns" ping -c 1 -W 2 "$@" "$a" >/dev/null 2>&1; }
# tk_slow_echo DELAY-FILE: the far host's kernel stops answering echo
# requests and a userspace responder does (this kernel has no netem): each
# reply to up1's address (10.1.0.2) waits the milliseconds DELAY-FILE holds
# (0 when empty); replies to others go at once.
tk_slow_echo() {
	[ -s "$1" ] || echo 0 >"$1"
	t_in "$TK_F" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	t_bg "$TK_F" python3 -c '
import heapq, select, socket, struct, sys, time
delay_file = sys.argv[1]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
socks, due, n = {}, [], 0
while True:
    wait = max(0, due[0][0] - time.monotonic()) if due else None
    if select.select([r], [], [], wait)[0]:
        pkt, addr = r.recvfrom(2048)
        ihl = (pkt[0] & 15) * 4
        t, code, ck, ident, seq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
        if t == 8:
            src = socket.inet_ntoa(pkt[16:20])
            try: d = float(open(delay_file).read() or 0) / 1000 if addr[0] == "10.1.0.2" else 0
            except ValueError: d = 0
            msg = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + pkt[ihl + 8:]
            msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
            n += 1
            heapq.heappush(due, (time.monotonic() + d, n, src, addr[0], msg))
    now = time.monotonic()
    while due and due[0][0] <= now:
        _, _, src, dst, msg = heapq.heappop(due)
        if src not in socks:
            socks[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            socks[src].bind((src, 0))
        socks[src].sendto(msg, (dst, 0))
' "$1"
}
# tk_lan NAT: a LAN behind the host, namespace TK_L (eth0 10.9.0.2, default
# route via the host's lan0 10.9.0.1), the host forwarding and NATing what
# leaves by an uplink: NAT "masquerade", or "snat" to a fixed address per
# uplink (as routers with static addresses do).
tk_lan() {
	t_netns lan; TK_L=$T_NS
	t_veth "$TK_H" lan0 "$TK_L" eth0 || exit 1
	ip -n "$TK_H" addr add 10.9.0.1/24 dev lan0
	ip -n "$TK_L" addr add 10.9.0.2/24 dev eth0
	ip -n "$TK_L" route add default via 10.9.0.1
	t_in "$TK_H" sysctl -qw net.ipv4.ip_forward=1
	if [ "$1" = snat ]; then
		t_in "$TK_H" nft -f - <<-'EON'
		table ip tknat {
			chain post {
				type nat hook postrouting priority 100;
				oifname "up1" snat to 10.1.0.2
				oifname "up2" snat to 10.2.0.2
			}
		}
		EON
	else
		t_in "$TK_H" nft -f - <<-'EON'
		table ip tknat {
			chain post { type nat hook postrouting priority 100; oifname { "up1", "up2" } masquerade; }
		}
		EON
	fi
}
# tk_udp_stream LOG MS: the far host writes "MS-SINCE-EPOCH SOURCE" to LOG
# per datagram on 198.51.100.1:5000, and the LAN host (tk_lan) sends it one
# datagram every MS milliseconds from one socket.
tk_udp_stream() {
	t_bg "$TK_F" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.1", 5000))
with open(sys.argv[1], "a", buffering=1) as f:
    while True:
        d, a = s.recvfrom(100)
        f.write("%d %s\n" % (time.time() * 1000, a[0]))' "$1"
	t_bg "$TK_L" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("198.51.100.1", 5000))
while True:
    try: s.send(b"x")
    except OSError: pass
    time.sleep(float(sys.argv[1]) / 1000)' "$2"
}
# tk_first_from LOG SOURCE SINCE-MS: when tk_udp_stream's LOG first shows
# SOURCE at or after SINCE-MS (empty: not yet).
tk_first_from() { awk -v s="$2" -v t="$3" '$2 == s && $1 >= t {print $1; exit}' "$1"; }
