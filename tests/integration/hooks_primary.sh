#!/bin/bash
# RTALLOC_PRIMARY_IFACE with ifupdown: the hook hints the agent (hooks
# only) --primary for it, so the primary uplink's default route stays in
# main (and is in its table); the second uplink uses "rtalloc-gateway"
# (ifup's own "gateway" would collide with main's default), hinted with
# --out-of-main, and is reached through its table only.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start ifup dnsmasq dig
hk_agent || exit 1
echo "RTALLOC_PRIMARY_IFACE=up1" >>"$HK_DEFAULTS"
cat >"$HK_ETC/network/interfaces" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1

iface up2 inet static
	address 10.102.0.10/24
	rtalloc-gateway 10.102.0.1
EOC
ifupdown() { hk_run timeout 60 "$@" -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }
t_check "ifup up1 up2" ifupdown ifup up1 up2
tables() { [ -n "$(hk_table 10.101.0.10)" ] && [ -n "$(hk_table 10.102.0.10)" ]; }
t_wait 5 tables
t1=$(hk_table 10.101.0.10) t2=$(hk_table 10.102.0.10)
t_check "both uplinks have tables" test -n "$t1" -a -n "$t2"
t_check "main keeps the primary's default route" grep -q "^default via 10.101.0.1 dev up1" <(rt route show table main)
t_eq "main has nothing of up2" "" "$(rt route show table main dev up2)"
t_check "table $t1: default via ISP1 too" grep -q "^default via 10.101.0.1 dev up1" <(rt route show table "$t1")
t_check "table $t2: rtalloc-gateway" grep -q "^default via 10.102.0.1 dev up2 .*src 10.102.0.10" <(rt route show table "$t2")
t_check "unbound traffic follows main: up1" grep -q "dev up1" <(rt route get 10.201.0.53)
t_eq "from up2's address to ISP2's resolver" 10.202.0.53 "$(hk_resolve 10.102.0.10 10.202.0.53)"
t_check "ifdown up1 up2" ifupdown ifdown up1 up2
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_done
