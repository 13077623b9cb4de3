#!/bin/bash
# Installing the hooks changes nothing until the admin names the interfaces
# they act on (RTALLOC_HOOK_IFACES in /etc/default/rtalloc): with the
# shipped defaults file a real dhclient configures up1 exactly as without
# rtalloc (default route in main, no rule, no lease, no DNS line, nothing on
# stderr); naming up2 by a glob makes the hooks act on up2 and only on it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq
hk_agent || exit 1
# The shipped file (every line commented out) plus the test's paths.
{ cat "$TOP/hooks/default/rtalloc"; grep -v '^RTALLOC_HOOK_IFACES=' "$HK_DEFAULTS"; } >"$T_DIR/defaults"
mv "$T_DIR/defaults" "$HK_DEFAULTS"
t_eq "the shipped defaults name no interface" "" "$(grep '^[[:space:]]*RTALLOC_HOOK_IFACES=' "$TOP/hooks/default/rtalloc")"

leases() { sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE alive=1" 2>/dev/null || echo 0; }
out=$(hk_dhclient up1 2>&1); rc=$?
t_eq "dhclient up1 gets a lease" 0 "$rc"
a1=$(hk_addr up1)
t_check "up1 has its address ($a1)" test -n "$a1"
t_check "main keeps up1's default route, as dhclient-script put it" \
	grep -q "^default via 10.101.0.1 dev up1" <(ip -n "$HK_H" route show table main)
t_eq "no rtalloc rule" "" "$(ip -n "$HK_H" rule show | grep 'proto 122')"
t_eq "no lease in rtallocd" 0 "$(leases)"
t_check "no servers-file written" test ! -s "$HK_SERVERS"
t_eq "the hooks said nothing on dhclient's stderr" "" "$(grep rtalloc-hook <<<"$out")"

# Enabled by a glob for up2 only.
echo 'RTALLOC_HOOK_IFACES="eth0 up[2]"' >>"$HK_DEFAULTS"
t_check "dhclient up2 gets a lease" hk_dhclient up2
a2=$(hk_addr up2) t2=$(hk_wait_table "$(hk_addr up2)")
t_check "up2 ($a2) has a table of its own (table '$t2')" test -n "$t2"
t_eq "up2's three rules" 3 "$(hk_rule_count "$t2")"
t_eq "one lease in rtallocd" 1 "$(leases)"
t_eq "up1 is still left alone (no table)" "" "$(hk_table "$a1")"
t_done
