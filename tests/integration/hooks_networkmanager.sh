#!/bin/bash
# The NetworkManager dispatcher script, driven with the environment
# NetworkManager-dispatcher(8) documents (the real NetworkManager runs in
# nm_hook.sh): the device is configured as NetworkManager would (routes in
# main with per-device metrics), "up" hints the agent (hooks only), which
# copies them into leased tables and leaves main alone, a repeated "up"/"dhcp4-change" changes nothing, a
# "dhcp4-change" with a new address replaces the old address's DNS lines
# (and only those of IPv4), one without an address removes them, "down"
# after NetworkManager removed the addresses leaves nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dnsmasq dig
hk_host_dnsmasq || exit 1
hk_agent || exit 1
rt() { ip -n "$HK_H" "$@"; }
DISPATCH=$TOP/hooks/NetworkManager/90-rtalloc

# What NetworkManager does to main: addresses with per-device metrics.
rt addr add 10.101.0.20/24 dev up1 metric 100
rt route add default via 10.101.0.1 dev up1 metric 100
rt -6 addr add 2001:db8:101::20/64 dev up1 nodad
rt -6 route add default via 2001:db8:101::1 dev up1 metric 100
rt addr add 10.102.0.20/24 dev up2 metric 101
rt route add default via 10.102.0.1 dev up2 metric 101
rt route add 10.250.0.0/24 via 10.102.0.1 dev up2 metric 101
main_before=$(rt route show table main; rt -6 route show table main)

nm() {	# IFACE ACTION VAR=VALUE...: one dispatcher run, as NetworkManager makes it
	local ifn=$1 act=$2; shift 2
	hk_run env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NM_DISPATCHER_ACTION="$act" \
		DEVICE_IFACE="$ifn" DEVICE_IP_IFACE="$ifn" CONNECTION_ID="Wired $ifn" \
		CONNECTION_UUID="6f1e3a52-1c3e-4b8e-9a0c-0000000000${ifn#up}" "$@" "$DISPATCH" "$ifn" "$act"
}
up1_env=(IP4_NUM_ADDRESSES=1 "IP4_ADDRESS_0=10.101.0.20/24 10.101.0.1" IP4_GATEWAY=10.101.0.1
	IP4_NUM_ROUTES=0 IP4_NAMESERVERS=10.201.0.53
	IP6_NUM_ADDRESSES=1 "IP6_ADDRESS_0=2001:db8:101::20/64 2001:db8:101::1"
	IP6_GATEWAY=2001:db8:101::1 IP6_NUM_ROUTES=0 IP6_NAMESERVERS=2001:db8:201::53)
up2_env=(IP4_NUM_ADDRESSES=1 "IP4_ADDRESS_0=10.102.0.20/24 10.102.0.1" IP4_GATEWAY=10.102.0.1
	IP4_NUM_ROUTES=1 "IP4_ROUTE_0=10.250.0.0/24 10.102.0.1 101" IP4_NAMESERVERS=10.202.0.53
	DHCP4_DOMAIN_NAME_SERVERS=10.202.0.53)
nm up1 up "${up1_env[@]}"
nm up2 up "${up2_env[@]}"
# The agent acts on the hints in its own time.
tables() { [ -n "$(hk_table 10.101.0.20)" ] && [ -n "$(hk_table 10.102.0.20)" ] &&
	rt -6 rule show pref 10000 | grep -q 2001:db8:101::20 && [ "$(wc -l <"$HK_SERVERS")" = 3 ]; }
t_wait 5 tables
t1=$(hk_table 10.101.0.20) t2=$(hk_table 10.102.0.20)
t6=$(rt -6 rule show pref 10000 | awk '$3 == "2001:db8:101::20" { print $5 }')
echo "# tables: up1 $t1, up2 $t2, up1 inet6 $t6"
t_check "every address has a table" test -n "$t1" -a -n "$t2" -a -n "$t6" -a "$t1" != "$t2"
t_eq "main is left as NetworkManager made it" "$main_before" "$(rt route show table main; rt -6 route show table main)"
t_check "table $t1: default via ISP1" grep -q "^default via 10.101.0.1 dev up1 .*src 10.101.0.20" <(rt route show table "$t1")
t_check "table $t1: prefix" grep -q "^10.101.0.0/24 dev up1 .*src 10.101.0.20" <(rt route show table "$t1")
t_check "table $t2: NetworkManager's extra route" grep -q "^10.250.0.0/24 via 10.102.0.1 dev up2" <(rt route show table "$t2")
t_check "table $t2: default" grep -q "^default via 10.102.0.1 dev up2" <(rt route show table "$t2")
t_check "inet6 table $t6: default" grep -q "^default via 2001:db8:101::1 dev up1" <(rt -6 route show table "$t6")
t_eq "from up2's address: ISP2's resolver, although main prefers up1" 10.202.0.53 \
	"$(hk_resolve 10.102.0.20 10.202.0.53)"
t_eq "servers-file" "server=10.201.0.53@up1@10.101.0.20
server=10.202.0.53@up2@10.102.0.20
server=2001:db8:201::53@up1@2001:db8:101::20" "$(cat "$HK_SERVERS")"
hk_dig whoami.test >/dev/null
t_check "ISP2's resolver got a query from up2's address" t_wait 3 grep -q "from 10.102.0.20\$" "$T_DIR/dns2.log"

# Tables other than local: link-local addresses come and go on their own.
state() { rt rule show; rt -6 rule show; { rt route show table all; rt -6 route show table all; } | grep -v "table local"; }
before=$(state) ino=$(stat -c %i "$HK_SERVERS")
nm up1 up "${up1_env[@]}"
nm up2 dhcp4-change "${up2_env[@]}"
t_eq "up / dhcp4-change again: nothing changes" "$before" "$(state)"
t_eq "up / dhcp4-change again: servers-file not rewritten" "$ino" "$(stat -c %i "$HK_SERVERS")"

# A new DHCP lease with another address: NetworkManager has replaced the
# address (and with it main's routes) before it dispatches, and does not
# say what the old address was.
rt addr del 10.101.0.20/24 dev up1
rt addr add 10.101.0.21/24 dev up1 metric 100
rt route replace default via 10.101.0.1 dev up1 metric 100
nm up1 dhcp4-change "${up1_env[@]/10.101.0.20/10.101.0.21}"
new_ready() { [ -n "$(hk_table 10.101.0.21)" ] && grep -q @10.101.0.21 "$HK_SERVERS" &&
	rt route show table "$(hk_table 10.101.0.21)" | grep -q ^default; }
t_wait 5 new_ready
t1=$(hk_table 10.101.0.21)
t_check "new address: its table ($t1) has the default via ISP1" \
	grep -q "^default via 10.101.0.1 dev up1 .*src 10.101.0.21" <(rt route show table "${t1:-none}")
old_rule_gone() { [ -z "$(hk_table 10.101.0.20)" ]; }
t_check "new address: the old one's rule is gone" t_wait 5 old_rule_gone
t_eq "new address: up1's IPv4 line follows it; up1's IPv6 line and up2's stay" \
	"server=10.201.0.53@up1@10.101.0.21
server=10.202.0.53@up2@10.102.0.20
server=2001:db8:201::53@up1@2001:db8:101::20" "$(cat "$HK_SERVERS")"
t_eq "new address: from it to ISP1's resolver" 10.201.0.53 "$(hk_resolve 10.101.0.21 10.201.0.53)"

# down: NetworkManager has removed the addresses before it dispatches.
rt addr flush dev up1
nm up1 down
t_check "up1's rules are gone" t_wait 5 hk_no_rules "$t1" "$t6"
t_wait 5 sh -c "! grep -q @up1@ '$HK_SERVERS'"
t_eq "up1's tables are empty" "" "$(rt route show table "$t1"; rt -6 route show table "$t6")"
t_eq "servers-file keeps up2 only" "server=10.202.0.53@up2@10.102.0.20" "$(cat "$HK_SERVERS")"
# The DHCP lease is gone while the device stays up (ipv4.may-fail):
# dhcp4-change without an IPv4 address.
rt addr flush dev up2
nm up2 dhcp4-change IP4_NUM_ADDRESSES=0
t_wait 5 test ! -s "$HK_SERVERS"
t_eq "dhcp4-change without an address: up2's line goes" "" "$(cat "$HK_SERVERS")"
nm up2 down
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_eq "servers-file is empty" "" "$(cat "$HK_SERVERS")"
[ $T_FAILED = 0 ] || tail -n 30 "$HK_AGENT_LOG"
t_done
