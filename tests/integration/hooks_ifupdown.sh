#!/bin/bash
# The ifupdown hook end to end: real ifup/ifdown with static stanzas (CIDR
# and netmask forms, inet and inet6, gateway, dns-nameservers) for two
# uplinks; the hook hints the agent (hooks only), which does the work.  The
# second uplink's "gateway" only works because the agent took the first
# one's default route out of main for the hint.  ifdown leaves nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start ifup dnsmasq dig
hk_host_dnsmasq || exit 1
hk_agent || exit 1
IFS_FILE=$HK_ETC/network/interfaces
cat >"$IFS_FILE" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1
	dns-nameservers 10.201.0.53

iface up1 inet6 static
	address 2001:db8:101::10/64
	gateway 2001:db8:101::1
	dad-attempts 0

iface up2 inet static
	address 10.102.0.10
	netmask 255.255.255.0
	gateway 10.102.0.1
	dns-nameservers 10.202.0.53
EOC
ifupdown() { hk_run timeout 60 "$@" -v -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }

t_check "ifup up1" ifupdown ifup up1
t_check "ifup up2 (its gateway fits in main)" ifupdown ifup up2
# The leases come in the agent's own time.
tables() { [ -n "$(hk_table 10.101.0.10)" ] && [ -n "$(hk_table 10.102.0.10)" ] &&
	rt -6 rule show pref 10000 | grep -q 2001:db8:101::10; }
t_wait 5 tables
t1=$(hk_table 10.101.0.10) t2=$(hk_table 10.102.0.10)
t6=$(rt -6 rule show pref 10000 | awk '$3 == "2001:db8:101::10" { print $5 }')
echo "# tables: up1 $t1, up2 $t2, up1 inet6 $t6"
t_check "three different tables" test -n "$t1" -a -n "$t2" -a -n "$t6" -a "$t1" != "$t2"
t_check "table $t1: default via ISP1" grep -q "^default via 10.101.0.1 dev up1 .*src 10.101.0.10" <(rt route show table "$t1")
t_check "table $t1: prefix" grep -q "^10.101.0.0/24 dev up1 .*src 10.101.0.10" <(rt route show table "$t1")
t_check "table $t2: default via ISP2" grep -q "^default via 10.102.0.1 dev up2 .*src 10.102.0.10" <(rt route show table "$t2")
t_check "inet6 table $t6: default" grep -q "^default via 2001:db8:101::1 dev up1" <(rt -6 route show table "$t6")
t_check "inet6 table $t6: prefix" grep -q "^2001:db8:101::/64 dev up1" <(rt -6 route show table "$t6")
t_eq "main: no uplink routes left" "" "$(rt route show table main)"
t_eq "main inet6: no uplink default, no prefix" "" "$(rt -6 route show table main | grep -E '^default|2001:db8')"
t_eq "from up1's address to ISP1's resolver" 10.201.0.53 "$(hk_resolve 10.101.0.10 10.201.0.53)"
t_eq "from up2's address to ISP2's resolver" 10.202.0.53 "$(hk_resolve 10.102.0.10 10.202.0.53)"
t_eq "servers-file" "server=10.201.0.53@up1@10.101.0.10
server=10.202.0.53@up2@10.102.0.10" "$(cat "$HK_SERVERS")"
t_check "unbound traffic to ISP2's router leaves by up2 (rule 20000)" \
	grep -q "dev up2 table $t2 src 10.102.0.10" <(rt route get 10.102.0.1)

# The hook again (as a second "ifup" would run it): nothing changes.
# Tables other than local: link-local addresses come and go on their own.
state() { rt rule show; rt -6 rule show; { rt route show table all; rt -6 route show table all; } | grep -v "table local"; }
before=$(state) ino=$(stat -c %i "$HK_SERVERS")
hk_run env MODE=start PHASE=post-up METHOD=static ADDRFAM=inet IFACE=up1 LOGICAL=up1 \
	IF_ADDRESS=10.101.0.10/24 IF_GATEWAY=10.101.0.1 IF_DNS_NAMESERVERS=10.201.0.53 \
	/etc/network/if-up.d/rtalloc
t_eq "hook rerun: rules and routes unchanged" "$before" "$(state)"
t_eq "hook rerun: servers-file not rewritten" "$ino" "$(stat -c %i "$HK_SERVERS")"
# NetworkManager's 01ifupdown runs if-up.d with its own environment.
hk_run env MODE=start PHASE=post-up METHOD=NetworkManager ADDRFAM=NetworkManager IFACE=up1 \
	LOGICAL=up1 CONNECTION_UUID=0b4d1f0e-5f5e-4b5a-9d1c-2f4a0d6c9e11 DEVICE_IFACE=up1 \
	/etc/network/if-up.d/rtalloc
t_eq "called on NetworkManager's behalf: does nothing" "$before" "$(state)"

t_check "ifdown up1" ifupdown ifdown up1
t_check "up1's rules are gone" t_wait 5 hk_no_rules "$t1" "$t6"
t_eq "up1's tables are empty" "" "$(rt route show table "$t1"; rt -6 route show table "$t6")"
t_wait 5 sh -c "! grep -q @up1@ '$HK_SERVERS'"
t_eq "servers-file keeps up2 only" "server=10.202.0.53@up2@10.102.0.10" "$(cat "$HK_SERVERS")"
t_eq "up2 still routes" 10.202.0.53 "$(hk_resolve 10.102.0.10 10.202.0.53)"
t_check "ifdown up2" ifupdown ifdown up2
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_wait 5 test ! -s "$HK_SERVERS"
t_eq "servers-file is empty" "" "$(cat "$HK_SERVERS")"
[ $T_FAILED = 0 ] || tail -n 30 "$HK_AGENT_LOG"
t_done
