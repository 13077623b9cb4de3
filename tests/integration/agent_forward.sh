#!/bin/bash
# rtalloc-agent's forward_from and fwmark with real forwarded traffic: a
# LAN host behind the host reaches a far host through an uplink's table.
# - forward_from ["lan0"]: `iif lan0 lookup T` beside `iif lo`, so traffic
#   forwarded from the LAN that main does not route (here a `throw` route
#   in main sends 203.0.113.0/24 to the policy tables) takes an uplink's
#   table as local traffic does; without it, it is unreachable.
# - fwmark {"wan1": ...}: packets marked (nftables, on the LAN's traffic to
#   203.0.113.2) take wan1's table at pref 9000, before main, and leave by
#   ISP B, which answers "B"; unmarked traffic follows main's default (A).
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v socat >/dev/null || t_skip "socat missing"
command -v nft >/dev/null || t_skip "nft missing"

t_netns host; H=$T_NS
t_netns lan; LAN=$T_NS
t_netns ispa; A=$T_NS
t_netns ispb; B=$T_NS
t_veth "$H" wan0 "$A" isp0
t_veth "$H" wan1 "$B" isp0
t_veth "$H" lan0 "$LAN" eth0
t_in "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" addr add 198.51.100.7/24 dev wan1
ip -n "$H" addr add 10.9.0.1/24 dev lan0
ip -n "$H" route add default via 192.0.2.1 dev wan0
ip -n "$H" route add default via 198.51.100.1 dev wan1 metric 100
ip -n "$LAN" addr add 10.9.0.2/24 dev eth0
ip -n "$LAN" route add default via 10.9.0.1
# Each ISP: the far hosts on its lo, the LAN routed back through the host,
# and a service that says which ISP answered.
isp() {
	ip -n "$2" addr add "$3.1/24" dev isp0
	ip -n "$2" addr add 203.0.113.1/32 dev lo
	ip -n "$2" addr add 203.0.113.2/32 dev lo
	ip -n "$2" route add 10.9.0.0/24 via "$3.7"
	t_bg "$2" socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:"echo $1"
}
isp A "$A" 192.0.2
isp B "$B" 198.51.100
t_wait 5 bash -c "ip netns exec $A ss -ltn | grep -q :7000 && ip netns exec $B ss -ltn | grep -q :7000"
ask() { t_in "$LAN" timeout 3 socat -T 2 - "TCP:$1:7000,connect-timeout=2" </dev/null 2>/dev/null; }

t_eq "before the agent: LAN traffic follows main's default (ISP A)" A "$(ask 203.0.113.2)"
ip -n "$H" route add throw 203.0.113.1/32
t_eq "a throw route in main: 203.0.113.1 unreachable from the LAN" "" "$(ask 203.0.113.1)"

t_server "$H" || exit 1
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "families": ["inet"],
  "forward_from": ["lan0"], "fwmark": { "wan1": "0x2/0xff" } }
EOC
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" || exit 1
T1=$(ip -n "$H" rule show pref 10000 | awk '$3 == "198.51.100.7" { print $5 }')
t_check "wan1's fwmark rule" bash -c "ip -n $H rule show pref 9000 | grep -q 'fwmark 0x2/0xff lookup $T1 proto 122'"
t_check "iif lan0 rules at 91000" bash -c "ip -n $H rule show pref 91000 | grep -q 'iif lan0 lookup .* proto 122'"
t_check "forward_from: the LAN reaches 203.0.113.1 through an uplink's table" \
	t_wait 3 bash -c "[ -n \"\$(ip netns exec $LAN timeout 3 socat -T 2 - TCP:203.0.113.1:7000,connect-timeout=2 </dev/null 2>/dev/null)\" ]"
t_check "the kernel says: iif lan0 -> an agent table" \
	bash -c "ip -n $H route get 203.0.113.1 from 10.9.0.2 iif lan0 | grep -q 'table 1[0-9]*'"

t_in "$H" nft -f - <<'EON'
table ip rtalloctest {
	chain pre {
		type filter hook prerouting priority mangle;
		iifname "lan0" ip daddr 203.0.113.2 meta mark set 0x2
	}
}
EON
t_eq "fwmark: marked LAN traffic leaves by wan1's table (ISP B)" B "$(ask 203.0.113.2)"
t_check "the kernel agrees" bash -c "ip -n $H route get 203.0.113.2 from 10.9.0.2 iif lan0 mark 2 | grep -q 'dev wan1 table $T1'"
t_in "$H" nft delete table ip rtalloctest
t_eq "unmarked again: main's default (ISP A)" A "$(ask 203.0.113.2)"
t_done
