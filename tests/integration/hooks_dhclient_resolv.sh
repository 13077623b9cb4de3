#!/bin/bash
# The dhclient hook leaves resolv.conf to dhclient unless the per-uplink
# dnsmasq integration is on (RTALLOC_DNSMASQ_SERVERS) AND a dnsmasq is set up
# to read that servers-file (the shipped drop-in in a dnsmasq config
# directory), checked at each run: a real dhclient writes the ISP's DNS into
# resolv.conf while no dnsmasq reads the file, keeps it once the drop-in is
# in place, and writes it again with the integration off.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq
hk_agent || exit 1
CONF=$T_DIR/dnsmasq.d
mkdir -p "$CONF"
echo "RTALLOC_DNSMASQ_CONF=\"$T_DIR/dnsmasq.conf $CONF\"" >>"$HK_DEFAULTS"
resolv() { cat "$HK_ETC/resolv.conf"; }

t_check "dhclient up1 gets a lease" hk_dhclient up1
a1=$(hk_addr up1)
t_check "up1 ($a1) has a table: the hooks act" test -n "$(hk_wait_table "$a1")"
t_eq "the servers-file has up1's server" "server=10.201.0.53@up1@$a1" "$(cat "$HK_SERVERS")"
t_eq "no dnsmasq reads it: dhclient wrote the ISP's DNS into resolv.conf" \
	"nameserver 10.201.0.53" "$(resolv | grep '^nameserver')"

# The shipped drop-in, with the test's servers-file path, in the config dir.
sed "s|/run/rtalloc-hooks/dnsmasq-servers.conf|$HK_SERVERS|" "$TOP/hooks/dnsmasq/rtalloc.conf" >"$CONF/rtalloc.conf"
echo "nameserver 127.0.0.1" >"$HK_ETC/resolv.conf"
t_check "dhclient up2 gets a lease" hk_dhclient up2
t_eq "dnsmasq is set up to read the servers-file: resolv.conf untouched" \
	"nameserver 127.0.0.1" "$(resolv)"
# shellcheck disable=SC2016 # expanded by the inner sh
t_eq "a leftover .dpkg-old copy alone does not count" 0 \
	"$(mv "$CONF/rtalloc.conf" "$CONF/rtalloc.conf.dpkg-old"
	   hk_run env RTALLOC_LIBDIR="$TOP/hooks/lib" sh -c '. /etc/default/rtalloc; . "$RTALLOC_LIBDIR/rtalloc-hook.sh"
		rth_defaults; rth_dnsmasq_reads "$RTALLOC_DNSMASQ_SERVERS"; echo $?' | grep -c '^0$')"
mv "$CONF/rtalloc.conf.dpkg-old" "$CONF/rtalloc.conf"

# Integration off: dhclient writes resolv.conf again, drop-in or not.
echo "RTALLOC_DNSMASQ_SERVERS=" >>"$HK_DEFAULTS"
t_check "dhclient -r up2" hk_run timeout 30 dhclient -r -sf /sbin/dhclient-script -cf /etc/dhcp/dhclient.conf \
	-lf "$T_DIR/dhclient.up2.leases" -pf "$T_DIR/dhclient.up2.pid" up2
t_check "dhclient up2 gets a lease again" hk_dhclient up2
t_eq "integration off: dhclient wrote the ISP's DNS into resolv.conf" \
	"nameserver 10.202.0.53" "$(resolv | grep '^nameserver')"
t_eq "the machine's /etc has no dhclient-new file" "" "$(ls /etc/resolv.conf.dhclient-new.* 2>/dev/null)"
t_done
