#!/bin/bash
# The README's quick start "router", with the shipped examples/router files
# (changed only where a test must: rtallocd's socket name, the probe targets
# -> the far host, the state file and hook dir -> the test's): the real
# systemd-networkd configures wan0 and wan1 from the ISPs (dnsmasq, radvd;
# they drop sources they did not assign), rtalloc-agent gives each address a
# table and lets the LAN lan0 into them, rtalloc-track keeps unbound and LAN
# traffic on wan0, moves it to wan1 when ISP0's upstream dies and back when
# it returns.  The LAN is named once, in agent.json: track.json does not
# name it, rtalloc-track finds it in the agent's rules.  The LAN host's
# traffic leaves masqueraded, as a router's does (nftables).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
TRACK=$BUILD/rtalloc-track
for p in "$AGENT" "$TRACK"; do [ -x "$p" ] || t_skip "$p not built"; done
command -v nft >/dev/null || t_skip "no nft"
pr_start || exit 1
t_server "$PR_H" || exit 1
t_eq "track.json does not name the LAN" "" "$(grep -n lan0 "$TOP/examples/router/track.json")"

# The LAN: a host behind lan0, the router forwarding and masquerading.
t_netns lanhost; L=$T_NS
t_veth "$PR_H" lan0 "$L" eth0 || exit 1
# IPv6 forwarding: networkd takes the router advertisements itself.
ip netns exec "$PR_H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv6.conf.lan0.accept_dad=0
ip netns exec "$L" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
ip -n "$PR_H" addr add 192.168.50.1/24 dev lan0
ip -n "$PR_H" addr add fd50::1/64 dev lan0 nodad
ip -n "$L" addr add 192.168.50.2/24 dev eth0
ip -n "$L" addr add fd50::2/64 dev eth0 nodad
ip -n "$L" route add default via 192.168.50.1
ip -n "$L" -6 route add default via fd50::1
# the README's nft line, as written there
nat=$(sed -n "/^nft -f - <<'EOF'\$/,/^EOF\$/p" "$TOP/README.md" | sed '1d;$d')
t_check "the README's quick start has the masquerade line" grep -q 'oifname { "wan0", "wan1" } masquerade' <<<"$nat"
t_in "$PR_H" nft -f - <<<"$nat"

sed "s|\"socket_path\": \"rtallocd\"|\"socket_path\": \"$T_SOCK\"|" "$TOP/examples/router/agent.json" >"$T_DIR/agent.json"
sed -e "s|\"socket_path\": \"rtallocd\"|\"socket_path\": \"$T_SOCK\"|" \
	-e "s|\"targets\": \[.*\]|\"targets\": [\"$PR_FAR4\", \"$PR_FAR6\"]|" \
	-e "s|\"state_file\": \".*\"|\"state_file\": \"$T_DIR/track-state.json\"|" \
	-e "s|\"hook_dir\": \".*\"|\"hook_dir\": \"$T_DIR/track.d\"|" \
	"$TOP/examples/router/track.json" >"$T_DIR/track.json"
mkdir -p "$T_DIR/track.d"
t_eq "track.json: only the four test lines differ" 4 "$(diff "$TOP/examples/router/track.json" "$T_DIR/track.json" | grep -c '^>')"
# shellcheck disable=SC2016
t_bg_ready rtalloc-agent "$PR_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' "$AGENT" "$T_DIR/agent.json" "$T_DIR/agent.log" ||
	{ cat "$T_DIR/agent.log"; exit 1; }
tabled() { [ -n "$(pr_table "$(pr_addr wan0 4)")" ] && [ -n "$(pr_table "$(pr_addr wan1 4)")" ] &&
	[ -n "$(pr_table "$(pr_addr wan0 6)")" ] && [ -n "$(pr_table "$(pr_addr wan1 6)")" ]; }
t_check "the agent gave wan0 and wan1 their tables" pr_within 10 tabled
# shellcheck disable=SC2016
t_bg_ready rtalloc-track "$PR_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' "$TRACK" "$T_DIR/track.json" "$T_DIR/track.log" ||
	{ cat "$T_DIR/track.log"; exit 1; }

# out FAMILY: the uplink that LAN traffic to the far host leaves by.
out() {
	local far=$PR_FAR4 src=192.168.50.2
	[ "$1" = 6 ] && far=$PR_FAR6 src=fd50::2
	ip -n "$PR_H" -"$1" route get "$far" from "$src" iif lan0 2>/dev/null | grep -o ' dev wan[0-9]' | cut -c6-
}
lan_reaches() { t_in "$L" ping -c 1 -W 2 "$1" >/dev/null 2>&1; }
both_on() { [ "$(out 4)" = "$1" ] && [ "$(out 6)" = "$1" ]; }
t_check "LAN traffic (IPv4 and IPv6) leaves by wan0" pr_within 15 both_on wan0
t_check "the LAN host reaches the far host (IPv4)" lan_reaches "$PR_FAR4"
t_check "the LAN host reaches the far host (IPv6)" lan_reaches "$PR_FAR6"
t_eq "the router's unbound traffic leaves by wan0" wan0 \
	"$(ip -n "$PR_H" route get "$PR_FAR4" | grep -o ' dev wan[0-9]' | cut -c6-)"

# ISP0's upstream dies: it loses its routes towards the far host.
ip -n "$PR_I0" route del "$PR_FAR4/32"
ip -n "$PR_I0" -6 route del "$PR_FAR6/128"
t_check "failover: LAN traffic moves to wan1 (both families)" pr_within 20 both_on wan1
t_check "the LAN host still reaches the far host (IPv4, by wan1)" lan_reaches "$PR_FAR4"
t_check "the LAN host still reaches the far host (IPv6, by wan1)" lan_reaches "$PR_FAR6"
t_eq "the router's unbound traffic leaves by wan1" wan1 \
	"$(ip -n "$PR_H" route get "$PR_FAR4" | grep -o ' dev wan[0-9]' | cut -c6-)"

# It comes back.
ip -n "$PR_I0" route replace "$PR_FAR4/32" via 10.200.0.9 dev core0
ip -n "$PR_I0" -6 route replace "$PR_FAR6/128" via 2001:db8:200::9 dev core0
t_check "failback: LAN traffic returns to wan0 (both families)" pr_within 20 both_on wan0
t_check "the LAN host reaches the far host again (IPv4)" lan_reaches "$PR_FAR4"
t_check "the LAN host reaches the far host again (IPv6)" lan_reaches "$PR_FAR6"
t_done
