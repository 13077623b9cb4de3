#!/bin/bash
# The dhclient enter hook end to end: real dhclient + dhclient-script get
# leases from two ISPs' dnsmasq, the hook hints the agent (hooks only); each
# uplink's table, the classless routes, the MTU, the DNS lines (and which
# uplink a query leaves by), a renewal that changes nothing, and a release
# that leaves nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq dig
hk_host_dnsmasq || exit 1
hk_agent || exit 1

t_check "dhclient up1 gets a lease" hk_dhclient up1
t_check "dhclient up2 gets a lease" hk_dhclient up2
a1=$(hk_addr up1) a2=$(hk_addr up2)
# The agent acts on the addresses dhclient-script added in its own time.
ready() { [ -n "$(hk_table "$a1")" ] && [ -n "$(hk_table "$a2")" ] && [ "$(wc -l <"$HK_SERVERS")" = 2 ] &&
	[ -z "$(ip -n "$HK_H" route show table main | grep -E '^default|10\.10[12]\.0\.0|10\.250')" ]; }
t_wait 5 ready
t1=$(hk_table "$a1") t2=$(hk_table "$a2")
echo "# up1 $a1 table $t1, up2 $a2 table $t2"
t_check "up1 has a table" test -n "$t1"
t_check "up2 has another table" test -n "$t2" -a "$t1" != "$t2"

rt() { ip -n "$HK_H" route show table "$@"; }
t_check "table $t1: default via ISP1 from up1's address" \
	grep -q "^default via 10.101.0.1 dev up1 .*src $a1" <(rt "$t1")
t_check "table $t1: up1's prefix" grep -q "^10.101.0.0/24 dev up1 .*src $a1" <(rt "$t1")
t_check "table $t2: classless route 10.250.0.0/24" \
	grep -q "^10.250.0.0/24 via 10.102.0.1 dev up2 .*src $a2" <(rt "$t2")
t_check "table $t2: classless default route" grep -q "^default via 10.102.0.1 dev up2" <(rt "$t2")
t_eq "main: no default route, no uplink route" "" \
	"$(rt main | grep -E '^default|10\.10[12]\.0\.0|10\.250')"
t_eq "up2's MTU from DHCP" 1400 "$(cat "/sys/class/net/up2/mtu" 2>/dev/null ||
	ip netns exec "$HK_H" cat /sys/class/net/up2/mtu)"
t_eq "policy rules of up1" 3 "$(hk_rule_count "$t1")"

# Traffic: each address reaches its own ISP's resolver; the other ISP drops it.
t_eq "from up1's address to ISP1's resolver" 10.201.0.53 "$(hk_resolve "$a1" 10.201.0.53)"
t_eq "from up2's address to ISP2's resolver" 10.202.0.53 "$(hk_resolve "$a2" 10.202.0.53)"
t_eq "ISP2 drops up2's address towards ISP1's resolver (the ISPs do filter)" "" \
	"$(hk_resolve "$a2" 10.201.0.53)"
t_eq "route to ISP2's network from up2's address" "up2" \
	"$(ip -n "$HK_H" route get 10.250.0.7 from "$a2" | grep -o 'dev [^ ]*' | cut -d' ' -f2)"

# DNS: one line per uplink, bound to its interface and address.
t_eq "servers-file" "server=10.201.0.53@up1@$a1
server=10.202.0.53@up2@$a2" "$(cat "$HK_SERVERS")"
t_eq "resolv.conf untouched" "nameserver 127.0.0.1" "$(cat "$HK_ETC/resolv.conf")"
ans=$(hk_dig whoami.test)
t_check "host dnsmasq resolves via the uplinks ($ans)" test -n "$ans"
t_wait 3 grep -q "query\[A\] whoami.test from $a1\$" "$T_DIR/dns1.log"
t_check "ISP1's resolver got the query from up1's address" grep -q "from $a1\$" "$T_DIR/dns1.log"
t_check "ISP2's resolver got the query from up2's address" grep -q "from $a2\$" "$T_DIR/dns2.log"
t_check "no resolver saw the other uplink's address" \
	bash -c "! grep -q 'from $a2\$' '$T_DIR/dns1.log' && ! grep -q 'from $a1\$' '$T_DIR/dns2.log'"

# Renewal: the real dhclient-script with reason RENEW, as dhclient runs it.
daemons() { for p in $(ip netns pids "$HK_H"); do cat "/proc/$p/comm" 2>/dev/null; done | grep -cx rtalloc; }
n_daemons=$(daemons) n_rules=$(ip -n "$HK_H" rule show | wc -l)
before=$(rt "$t1"; rt "$t2"; rt main) ino=$(stat -c %i "$HK_SERVERS")
hk_run env reason=RENEW interface=up1 old_ip_address="$a1" new_ip_address="$a1" \
	new_subnet_mask=255.255.255.0 new_routers=10.101.0.1 new_domain_name_servers=10.201.0.53 \
	new_dhcp_lease_time=600 /sbin/dhclient-script
hk_run env reason=RENEW interface=up2 old_ip_address="$a2" new_ip_address="$a2" \
	new_subnet_mask=255.255.255.0 new_routers=10.102.0.1 new_domain_name_servers=10.202.0.53 \
	new_rfc3442_classless_static_routes="24 10 250 0 10 102 0 1 0 10 102 0 1" \
	new_interface_mtu=1400 new_dhcp_lease_time=600 /sbin/dhclient-script
t_eq "renewal: same number of rtalloc daemons ($n_daemons)" "$n_daemons" "$(daemons)"
t_eq "renewal: same number of rules" "$n_rules" "$(ip -n "$HK_H" rule show | wc -l)"
t_eq "renewal: routes unchanged" "$before" "$(rt "$t1"; rt "$t2"; rt main)"
t_eq "renewal: servers-file not rewritten" "$ino" "$(stat -c %i "$HK_SERVERS")"

# A renewal that drops a router or a classless route drops its route.
renew1() {
	hk_run env reason=RENEW interface=up1 old_ip_address="$a1" new_ip_address="$a1" \
		new_subnet_mask=255.255.255.0 new_routers="$1" new_domain_name_servers=10.201.0.53 \
		new_dhcp_lease_time=600 /sbin/dhclient-script
}
before1=$(rt "$t1") before2=$(rt "$t2")
renew1 "10.101.0.1 10.101.0.9"
second() { rt "$t1" | grep -q "^default via 10.101.0.9"; }
t_wait 5 second
t_check "renewal with a second router: its default route, metric 1" \
	grep -q "^default via 10.101.0.9 dev up1 .*metric 1" <(rt "$t1")
renew1 10.101.0.1
t_wait 5 eval '[ "$before1" = "$(rt "$t1")" ]'
t_eq "renewal without it: up1's table is as before" "$before1" "$(rt "$t1")"
hk_run env reason=RENEW interface=up2 old_ip_address="$a2" new_ip_address="$a2" \
	new_subnet_mask=255.255.255.0 new_routers=10.102.0.1 new_domain_name_servers=10.202.0.53 \
	new_rfc3442_classless_static_routes="0 10 102 0 1" \
	new_interface_mtu=1400 new_dhcp_lease_time=600 /sbin/dhclient-script
t_wait 5 eval '! rt "$t2" | grep -q ^10.250.0.0/24'
t_eq "renewal without the classless route 10.250.0.0/24: only it is gone" \
	"$(grep -v '^10\.250\.0\.0/24 ' <<<"$before2")" "$(rt "$t2")"

# Release: nothing of up1 is left; up2 goes on.
t_check "dhclient -r up1" hk_run timeout 30 dhclient -r -v -sf /sbin/dhclient-script \
	-cf /etc/dhcp/dhclient.conf -lf "$T_DIR/dhclient.up1.leases" -pf "$T_DIR/dhclient.up1.pid" up1
t_eq "up1's address is gone" "" "$(hk_addr up1)"
t_check "up1's rules are gone" t_wait 5 hk_no_rules "$t1"
t_eq "up1's table is empty" "" "$(rt "$t1")"
t_wait 5 sh -c "! grep -q @up1@ '$HK_SERVERS'"
t_eq "servers-file keeps only up2" "server=10.202.0.53@up2@$a2" "$(cat "$HK_SERVERS")"
t_eq "up2's rules are still there" 3 "$(hk_rule_count "$t2")"
t_check "dhclient -r up2" hk_run timeout 30 dhclient -r -v -sf /sbin/dhclient-script \
	-cf /etc/dhcp/dhclient.conf -lf "$T_DIR/dhclient.up2.leases" -pf "$T_DIR/dhclient.up2.pid" up2
t_check "up2's rules are gone" t_wait 5 hk_no_rules "$t2"
t_wait 5 test ! -s "$HK_SERVERS"
t_eq "servers-file is empty" "" "$(cat "$HK_SERVERS")"
t_eq "no rtalloc rule is left" "" "$(ip -n "$HK_H" rule show | grep -E '^(10000|20000|91000):')"

# DHCPv6 through the real dhclient-script: BOUND6 then RELEASE6, the
# advertised default route in main (proto ra), which the agent copies.
ip -n "$HK_H" -6 route add default via fe80::1 dev up1 proto ra
hk_run env reason=BOUND6 interface=up1 new_ip6_address=2001:db8:101::99 new_ip6_prefixlen=128 \
	new_max_life=600 new_preferred_life=600 new_dhcp6_name_servers=2001:db8:201::53 /sbin/dhclient-script
t6of() { ip -n "$HK_H" -6 rule show pref 10000 | awk '$3 == "2001:db8:101::99" { print $5 }'; }
bound6() { [ -n "$(t6of)" ] && [ -s "$HK_SERVERS" ]; }
t_wait 5 bound6
t6=$(t6of)
t_check "BOUND6: the address has a table" test -n "$t6"
t_check "BOUND6: table $t6 has the advertised default route" \
	grep -q "^default via fe80::1 dev up1 .*src 2001:db8:101::99" <(ip -n "$HK_H" -6 route show table "${t6:-none}")
t_eq "BOUND6: DNS line" "server=2001:db8:201::53@up1@2001:db8:101::99" "$(cat "$HK_SERVERS")"
hk_run env reason=RELEASE6 interface=up1 old_ip6_address=2001:db8:101::99 /sbin/dhclient-script
t_check "RELEASE6: rules gone" t_wait 5 hk_no_rules "$t6"
t_wait 5 test ! -s "$HK_SERVERS"
t_eq "RELEASE6: table empty, DNS line gone" "" \
	"$(ip -n "$HK_H" -6 route show table "${t6:-none}" 2>/dev/null; cat "$HK_SERVERS")"
[ $T_FAILED = 0 ] || tail -n 30 "$HK_AGENT_LOG"
t_done
