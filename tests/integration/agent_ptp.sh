#!/bin/bash
# Point-to-point uplinks as pppd configures them (a tun device standing in
# for ppp0: pppd's own peer is a modem, which cannot run here): a local
# address with a peer address (`10.64.64.64 peer 10.112.112.112/32`) and one
# without (a raw-IP LTE modem's /32), `default dev ppp0` without a gateway
# in main.  Each address gets its table, its three rules and the link's
# routes (the peer route, the gatewayless default), and traffic from each
# address is routed out of its own link even though main's default is the
# other one's.
. "$(dirname "$0")/../lib.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent
[ -x "$AGENT" ] || t_skip "$AGENT not built"
t_netns host; H=$T_NS
t_server "$H" || exit 1
# A tun link has carrier while a program holds it open (pppd does).
hold_tun() {
	t_bg "$H" /usr/bin/python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
time.sleep(3600)' "$1"
}
hold_tun ppp0; hold_tun ppp1
t_wait 5 ip -n "$H" link show ppp1 >/dev/null || { echo "no tun"; exit 1; }
ip -n "$H" link set ppp0 up
ip -n "$H" link set ppp1 up
ip -n "$H" addr add 10.64.64.64 peer 10.112.112.112/32 dev ppp0
ip -n "$H" addr add 100.70.1.2/32 dev ppp1
ip -n "$H" route add default dev ppp0
ip -n "$H" route add default dev ppp1 metric 50
printf '{ "socket_path": "%s", "interfaces": ["ppp*"], "families": ["inet"] }\n' "$T_SOCK" >"$T_DIR/agent.json"
t_bg_ready rtalloc-agent "$H" "$AGENT" -c "$T_DIR/agent.json" || exit 1
table() { ip -n "$H" rule show pref 10000 | awk -v a="$1" '$3 == a { print $5 }'; }
ready() { [ -n "$(table 10.64.64.64)" ] && [ -n "$(table 100.70.1.2)" ]; }
t_check "both point-to-point addresses get a table" t_wait 5 ready
t0=$(table 10.64.64.64) t1=$(table 100.70.1.2)
t_eq "ppp0's rules" "10000:	from 10.64.64.64 lookup $t0 proto 122
20000:	from all to 10.64.64.64 lookup $t0 proto 122
91000:	from all iif lo lookup $t0 proto 122" "$(ip -n "$H" rule | grep "lookup $t0 ")"
routes() { ip -n "$H" route show table "$1" | sed 's/ *$//'; }
t_eq "ppp0's table: the gatewayless default and the peer route, src its address" \
	"10.112.112.112 dev ppp0 proto 122 scope link src 10.64.64.64
default dev ppp0 proto 122 scope link src 10.64.64.64" "$(routes "$t0" | sort)"
t_eq "ppp1's table (no peer): the gatewayless default" \
	"default dev ppp1 proto 122 scope link src 100.70.1.2 metric 50" "$(routes "$t1")"
dev_of() { ip -n "$H" route get 198.18.0.9 from "$1" | grep -o ' dev [^ ]*' | cut -d' ' -f3; }
t_eq "from ppp0's address: out of ppp0 (main prefers ppp1)" ppp0 "$(dev_of 10.64.64.64)"
t_eq "from ppp1's address: out of ppp1" ppp1 "$(dev_of 100.70.1.2)"
t_done
