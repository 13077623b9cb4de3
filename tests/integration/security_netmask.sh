#!/bin/bash
# A hostile netmask on one uplink never takes another link's traffic (issue
# 19, finding 1): with a LAN (lan0) and a VPN-like route (via vpn0) in main,
# an uplink address with a /1, then a /0, from rtalloc-agent and from the
# per-address rtalloc as the dhclient hook runs it (`rtalloc -4 -a ADDR -n
# MASK -i IF --route NET`, address added noprefixroute), IPv4 and IPv6:
# `ip route get` to the LAN host and into the VPN answers their links, while
# traffic to the uplink's own subnet (the /1's, a sane /24's and /64's on
# wan1) still reaches its link through its table.  A /0 gets no `to` rule.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_netns lan; LAN=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" wan1 "$ISP" isp1
t_veth "$H" lan0 "$LAN" lan0
t_veth "$H" vpn0 "$LAN" vpn0
ip -n "$H" addr add 192.168.1.1/24 dev lan0
ip -n "$H" addr add fd00:1::1/64 dev lan0 nodad
ip -n "$H" addr add 10.99.0.1/30 dev vpn0
ip -n "$H" addr add fd99::1/64 dev vpn0 nodad
ip -n "$H" route add 172.31.0.0/16 via 10.99.0.2 dev vpn0
ip -n "$H" -6 route add fd00:99::/48 via fd99::2 dev vpn0
ip -n "$H" addr add 198.51.100.7/24 dev wan1
ip -n "$H" addr add 2001:db8:2::7/64 dev wan1 nodad
t_server "$H" || exit 1

get() { ip -n "$H" "$1" route get "$2" 2>&1; }
# goes FAM DEST PATTERN: `ip route get DEST` matches PATTERN within 3 s
# (a table's routes follow its rules by a moment); prints it when not.
goes() { t_wait 3 bash -c "ip -n $H $1 route get $2 | grep -q '$3'" || { get "$1" "$2"; return 1; }; }
table_of() { ip -n "$H" "$1" rule show pref 10000 | awk -v a="$2" '$3 == a && / proto 122/ { print $5 }'; }
has_from() { [ -n "$(table_of "$1" "$2")" ]; }

# checks WHO HOSTILE-PREFIX: where traffic goes with the hostile address
# (172.16.0.5 and fd00:bad::5, whose /1 networks hold the LAN and the VPN).
checks() {
	local who=$1 len=$2 t4 t6 s6
	t4=$(table_of -4 172.16.0.5) t6=$(table_of -6 fd00:bad::5) s6=$(table_of -6 2001:db8:2::7)
	t_check "$who /$len: the LAN host answers lan0 (IPv4)" grep -q "dev lan0 src 192.168.1.1 " <<<"$(get -4 192.168.1.50)"
	t_check "$who /$len: the LAN host answers lan0 (IPv6)" grep -q "dev lan0 " <<<"$(get -6 fd00:1::50)"
	t_check "$who /$len: the VPN's route answers vpn0 (IPv4)" grep -q "via 10.99.0.2 dev vpn0 " <<<"$(get -4 172.31.5.5)"
	t_check "$who /$len: the VPN's route answers vpn0 (IPv6)" grep -q "via fd99::2 dev vpn0 " <<<"$(get -6 fd00:99::5)"
	t_check "$who /$len: not through the hostile table (IPv4)" bash -c "! ip -n $H -4 route get 192.168.1.50 | grep -q 'table $t4'"
	t_check "$who /$len: not through the hostile table (IPv6)" bash -c "! ip -n $H -6 route get fd00:1::50 | grep -q 'table $t6'"
	# (Inside the hostile /1, main answers for the sane /24 ahead of its
	# `to` rule: the same link, main's route.)
	t_check "$who: the sane /24's subnet still reaches wan1" \
		goes -4 198.51.100.1 "dev wan1 .*src 198.51.100.7 "
	t_check "$who: the sane /64's subnet still reaches wan1 by its table" \
		goes -6 2001:db8:2::1 "dev wan1 table $s6 "
	if [ "$len" = 1 ]; then
		t_check "$who /1: its own subnet still reaches wan0 by its table (IPv4)" \
			goes -4 172.16.0.1 "dev wan0 table $t4 src 172.16.0.5"
		t_check "$who /1: its own subnet still reaches wan0 by its table (IPv6)" \
			goes -6 fd00:bad::1 "dev wan0 table $t6 "
	else
		t_eq "$who /0: no \`to\` rule into its table (IPv4)" "" \
			"$(ip -n "$H" -4 rule show pref 20000 | grep "lookup $t4 ")"
		t_eq "$who /0: no \`to\` rule into its table (IPv6)" "" \
			"$(ip -n "$H" -6 rule show pref 20000 | grep "lookup $t6 ")"
		t_eq "$who /0: no rule of ours for all traffic ahead of main" "" \
			"$(ip -n "$H" rule show | awk '$1 < "32766:" && $2 == "from" && $3 == "all" && $4 == "lookup"' | grep 'proto 122')"
	fi
}

# -- rtalloc-agent
t_agent "$H" '"interfaces": ["wan*"]' || exit 1
APID=$T_AGENT_PID
for len in 1 0; do
	ip -n "$H" addr add "172.16.0.5/$len" dev wan0
	ip -n "$H" addr add "fd00:bad::5/$len" dev wan0 nodad
	t_check "agent /$len: the uplinks have their rules" t_wait 5 bash -c \
		"$(declare -f table_of has_from); H=$H; has_from -4 172.16.0.5 && has_from -6 fd00:bad::5 &&
		 has_from -4 198.51.100.7 && has_from -6 2001:db8:2::7"
	checks agent "$len"
	ip -n "$H" addr del "172.16.0.5/$len" dev wan0
	ip -n "$H" addr del "fd00:bad::5/$len" dev wan0
done
GUARDS="19999:	from all to 198.51.100.0/24 lookup main suppress_prefixlength 24 proto 122
19999:	from all to 2001:db8:2::/64 lookup main suppress_prefixlength 64 proto 122"
guards() { ip -n "$H" -4 rule show pref 19999; ip -n "$H" -6 rule show pref 19999; }
t_check "agent: the hostile addresses' guards go with them" t_wait 5 bash -c \
	"$(declare -f guards); H=$H; [ \"\$(guards)\" = '$GUARDS' ]"
kill "$APID"; wait "$APID" 2>/dev/null
t_check "agent stopped: nothing of ours is left" t_wait 5 bash -c "! ip -n $H rule show | grep -q 'proto 122'"

# -- the per-address rtalloc, as the dhclient hook runs it
up() { ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" -s "$@" 2>>"$T_DIR/rtalloc.log"; }
up -4 -a 198.51.100.7 -n 255.255.255.0 -i wan1 --route 198.51.100.0/24 >/dev/null
up -6 -a 2001:db8:2::7 -n 64 -i wan1 --route 2001:db8:2::/64 >/dev/null
t_check "rtalloc: the sane uplinks have their rules" t_wait 5 bash -c \
	"$(declare -f table_of has_from); H=$H; has_from -4 198.51.100.7 && has_from -6 2001:db8:2::7"
for len in 1 0; do
	if [ "$len" = 1 ]; then mask=128.0.0.0 net4=128.0.0.0/1 net6=8000::/1
	else mask=0.0.0.0 net4=0.0.0.0/0 net6=::/0; fi
	ip -n "$H" addr add "172.16.0.5/$len" dev wan0 noprefixroute
	ip -n "$H" addr add "fd00:bad::5/$len" dev wan0 nodad noprefixroute
	out4=$(up -4 -a 172.16.0.5 -n "$mask" -i wan0 --route "$net4"); rc4=$?
	out6=$(up -6 -a fd00:bad::5 -n "$len" -i wan0 --route "$net6"); rc6=$?
	if [ "$len" = 1 ]; then
		t_check "rtalloc /1: the uplinks have their rules" t_wait 5 bash -c \
			"$(declare -f table_of has_from); H=$H; has_from -4 172.16.0.5 && has_from -6 fd00:bad::5"
	else
		# rtalloc refuses a /0 outright: no lease, no rule (the hook
		# then leaves the uplink in main).
		t_check "rtalloc /0: refused, IPv4 ($rc4, '$out4') and IPv6 ($rc6, '$out6')" \
			test "$rc4" != 0 -a "$rc6" != 0 -a -z "$out4$out6"
		t_eq "rtalloc /0: one line says why" 1 "$(grep -c -- "-n: a /0 network would route everything through the table: '0.0.0.0'" "$T_DIR/rtalloc.log")"
		t_check "rtalloc /0: no rule for the address" \
			bash -c "! ip -n $H rule show | grep -q 'from 172.16.0.5 \|from fd00:bad::5 '"
	fi
	checks rtalloc "$len"
	if [ "$len" = 1 ]; then
		up -4 -a 172.16.0.5 -n "$mask" -i wan0 -r >/dev/null
		up -6 -a fd00:bad::5 -n "$len" -i wan0 -r >/dev/null
	fi
	ip -n "$H" addr del "172.16.0.5/$len" dev wan0
	ip -n "$H" addr del "fd00:bad::5/$len" dev wan0
	t_check "rtalloc /$len: released: its rules are gone" t_wait 5 bash -c \
		"! ip -n $H rule show | grep -q 'from 172.16.0.5 \|from fd00:bad::5 '"
done
t_eq "rtalloc: only the sane uplinks' guards are left" "$GUARDS" "$(guards)"
up -4 -a 198.51.100.7 -n 255.255.255.0 -i wan1 -r >/dev/null
up -6 -a 2001:db8:2::7 -n 64 -i wan1 -r >/dev/null
t_check "rtalloc: all released: no rule of ours left, guards included" t_wait 5 bash -c \
	"! ip -n $H rule show | grep -q 'proto 122'"
[ "$T_FAILED" = 0 ] || sed 's/^/    rtalloc: /' "$T_DIR/rtalloc.log"
t_done
