#!/bin/bash
# Forwarded traffic: a LAN host behind the multihomed host (forwarding on;
# ISP1 routes the LAN's prefix to the host, ISP2 would drop it).  The hook's
# hint has the agent (hooks only) move the uplink's default route out of
# main, so without RTALLOC_FORWARD_IFACES the LAN's traffic matches no rule
# with a route and is unreachable; with RTALLOC_FORWARD_IFACES="lan0" the
# hint's --forward-iif has the agent add `iif lan0 lookup T` (proto 122)
# beside `iif lo`, restore it when deleted, remove it at ifdown, and the LAN
# host reaches ISP1's far host by up1.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start ifup dnsmasq dig ping
hk_agent || exit 1
t_netns lan; LAN=$T_NS
t_veth "$HK_H" lan0 "$LAN" eth0 || exit 1
ip -n "$HK_H" addr add 10.50.0.1/24 dev lan0
ip -n "$LAN" addr add 10.50.0.2/24 dev eth0
ip -n "$LAN" route add default via 10.50.0.1
ip netns exec "$HK_H" sysctl -qw net.ipv4.ip_forward=1
ip -n "$HK_I1" route add 10.50.0.0/24 via 10.101.0.10
cat >"$HK_ETC/network/interfaces" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1
EOC
FAR=10.201.0.53
ifupdown() { hk_run timeout 60 "$@" -v -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }
lan_reaches() { ip netns exec "$LAN" ping -q -c 1 -W 2 "$FAR" >/dev/null; }
fwd_rule() { rt rule show pref 91000 | grep -c "iif lan0 lookup $1 proto 122"; }

leased() { [ -n "$(hk_table 10.101.0.10)" ]; }
t_check "ifup up1 without RTALLOC_FORWARD_IFACES" ifupdown ifup up1
t_wait 5 leased
T=$(hk_table 10.101.0.10)
t_eq "no iif lan0 rule" 0 "$(fwd_rule "$T")"
t_check "forwarded from lan0: Network is unreachable" \
	grep -q "unreachable" <(rt route get "$FAR" from 10.50.0.2 iif lan0 2>&1)
t_check "the LAN host does not reach ISP1's far host" bash -c "! ip netns exec $LAN ping -q -c 1 -W 2 $FAR >/dev/null"
t_check "ifdown up1" ifupdown ifdown up1

echo 'RTALLOC_FORWARD_IFACES="lan0 br9"' >>"$HK_DEFAULTS"
t_check "ifup up1 with RTALLOC_FORWARD_IFACES=\"lan0 br9\"" ifupdown ifup up1
t_wait 5 leased
T=$(hk_table 10.101.0.10)
three() { [ "$(rt rule show pref 91000 | wc -l)" = 3 ]; }
t_wait 5 three
t_eq "iif lan0 lookup $T beside iif lo" "91000:	from all iif lo lookup $T proto 122
91000:	from all iif lan0 lookup $T proto 122
91000:	from all iif br9 [detached] lookup $T proto 122" "$(rt rule show pref 91000)"
t_check "forwarded from lan0: by up1, table $T" \
	grep -q "via 10.101.0.1 dev up1 table $T" <(rt route get "$FAR" from 10.50.0.2 iif lan0)
t_check "the LAN host reaches ISP1's far host" lan_reaches
t_check "rtalloc --status: consistent" ip netns exec "$HK_H" "$RTALLOC" -d "$T_SOCK" --status
# The agent may restore it before a count could see it gone.
t_check "iif lan0 rule deleted by hand" rt rule del pref 91000 iif lan0 lookup "$T"
has_fwd() { [ "$(fwd_rule "$1")" = 1 ]; }
t_check "a deleted iif lan0 rule is restored" t_wait 3 has_fwd "$T"
t_check "the LAN host still reaches ISP1's far host" lan_reaches
t_check "ifdown up1" ifupdown ifdown up1
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_done
