#!/bin/bash
# The udev remove script: after up1 disappears it stops up1's dhclient and
# only that one (up10's dhclient lives on: the 2017 script's
# pgrep -f "dhclient.*up1" killed it too), nor the dhclient of another
# namespace's up1 (interface names are per namespace), and withdraws up1's
# hint: the agent (hooks only) drops up1's DNS lines and keeps up10's.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq
hk_agent || exit 1
t_netns void
t_veth "$HK_H" up10 "$T_NS" void0 || exit 1

t_check "dhclient up1 gets a lease" hk_dhclient up1
# up10 has no DHCP server: -nw puts its dhclient in the background at once.
hk_run dhclient -nw -sf /sbin/dhclient-script -cf /etc/dhcp/dhclient.conf \
	-lf "$T_DIR/dhclient.up10.leases" -pf "$T_DIR/dhclient.up10.pid" up10 2>/dev/null
t_wait 5 test -s "$T_DIR/dhclient.up10.pid"
# up10's DNS line, from a hint as any tool's script may give it.
ip -n "$HK_H" addr add 10.110.0.2/24 dev up10
ip netns exec "$HK_H" "$RTALLOC" hint up10 -d "$T_SOCK" --dns 10.210.0.53
# Another namespace with its own "up1" and a dhclient for it.
t_netns other; OTHER=$T_NS
t_netns otherpeer
t_veth "$OTHER" up1 "$T_NS" peer0 || exit 1
ip netns exec "$OTHER" dhclient -nw -sf /bin/true -lf "$T_DIR/dhclient.other.leases" \
	-pf "$T_DIR/dhclient.other.pid" up1 2>/dev/null
t_wait 5 test -s "$T_DIR/dhclient.other.pid"
p1=$(cat "$T_DIR/dhclient.up1.pid") p10=$(cat "$T_DIR/dhclient.up10.pid")
pother=$(cat "$T_DIR/dhclient.other.pid")
a1=$(hk_addr up1) t1=$(hk_table "$a1")
two() { [ "$(wc -l <"$HK_SERVERS")" = 2 ]; }
t_wait 5 two
t_check "up1 is routed (table $t1) and has a DNS line" grep -q "@up1@$a1\$" "$HK_SERVERS"

ip -n "$HK_H" link del up1
hk_run env ACTION=remove INTERFACE=up1 "$TOP/hooks/udev/rtalloc-udev-remove"
t_check "up1's dhclient is stopped" t_wait 5 bash -c "! kill -0 $p1 2>/dev/null"
t_check "up10's dhclient still runs" kill -0 "$p10"
t_check "the other namespace's up1 dhclient still runs" kill -0 "$pother"
t_wait 5 sh -c "! grep -q @up1@ '$HK_SERVERS'"
t_check "up1's hint is withdrawn" test ! -e "/run/rtalloc/hints/$T_SOCK/up1"
t_eq "servers-file keeps up10's line only" "server=10.210.0.53@up10@10.110.0.2" "$(cat "$HK_SERVERS")"
t_check "up1's rules are gone" t_wait 5 hk_no_rules "$t1"
t_check "the udev rule runs the script on remove" \
	grep -q 'ACTION=="remove", SUBSYSTEM=="net".*RUN+="/usr/lib/rtalloc/rtalloc-udev-remove"' \
	"$TOP/hooks/udev/90-rtalloc.rules"
t_done
