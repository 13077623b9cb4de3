#!/bin/bash
# dhclient's TIMEOUT: no DHCP server answers, so dhclient tries the lease it
# recorded; dhclient-script adds the old address and pings the lease's first
# router.  When the router does not answer, dhclient-script flushes the
# address and gives up: nothing of the old lease may stay (DNS lines, table,
# rules, lease).  When it answers (only with ping installed), the old lease
# is used as a new one would be.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq
hk_host_dnsmasq || exit 1
hk_agent || exit 1
rt() { ip -n "$HK_H" route show table "$@"; }

t_check "dhclient up1 gets a lease" hk_dhclient up1
a1=$(hk_addr up1)
# The agent acts on the address dhclient-script added in its own time:
# the table comes with rtallocd's answer, the DNS line after it.
up1_ready() { [ -n "$(hk_table "$a1")" ] && grep -q "^server=10.201.0.53@up1@$a1\$" "$HK_SERVERS"; }
t_wait 5 up1_ready
t1=$(hk_table "$a1")
echo "# up1 $a1 table $t1"
t_check "up1 has a table and a DNS line" up1_ready
# A reboot while ISP1 is down: dhclient is gone without a release, the
# lease stays in its lease file, the address and our state go (/run is
# empty after a reboot); ISP1's DHCP server does not answer any more.
hk_kill_dhclients
t_wait 5 bash -c "! kill -0 $(cat "$T_DIR/dhclient.up1.pid") 2>/dev/null"
ip -n "$HK_H" addr flush dev up1
t_check "rtalloc notices the address going" t_wait 5 hk_no_rules "$t1"
: >"$HK_SERVERS"
kill "$(cat "$T_DIR/isp1.pid")"
t_wait 5 bash -c "! ip netns exec '$HK_I1' ss -Hlun 'sport = :67' | grep -q ."

# hk_timeout: dhclient with the recorded lease and a DHCP server that does
# not answer: after 3 s it runs dhclient-script with reason=TIMEOUT.
sed 's/^timeout .*/timeout 3;/' "$HK_ETC/dhcp/dhclient.conf" >"$HK_ETC/dhcp/timeout.conf"
hk_timeout() {
	hk_run timeout 60 dhclient -1 -v -sf /sbin/dhclient-script -cf /etc/dhcp/timeout.conf \
		-lf "$T_DIR/dhclient.up1.leases" -pf "$T_DIR/dhclient.up1.pid" up1 >"$T_DIR/timeout.log" 2>&1
}

# The router does not answer either (the ISP's router is down).
ip -n "$HK_I1" link set lan1 down
hk_timeout; rc=$?
grep -E 'Trying recorded|Unable to obtain|rtalloc-hook' "$T_DIR/timeout.log" | sed 's/^/# /'
t_check "TIMEOUT, router silent: dhclient tried the recorded lease and failed (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'Trying recorded lease $a1' '$T_DIR/timeout.log'"
# dhclient-script's check is `ping`, and without the command every router
# counts as down.
if command -v ping >/dev/null; then why="router 10.101.0.1 does not answer"; else why="no ping command"; fi
t_check "TIMEOUT, router silent: the hook says why ($why)" \
	grep -q "rtalloc-hook: up1: $why" "$T_DIR/timeout.log"
t_eq "TIMEOUT, router silent: the address is gone" "" "$(hk_addr up1)"
t_eq "TIMEOUT, router silent: no DNS line for up1" "" "$(grep '@up1@' "$HK_SERVERS")"
t_check "TIMEOUT, router silent: no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_eq "TIMEOUT, router silent: the lease is released" 0 \
	"$(sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE alive=1 AND address='$a1'")"
t_eq "TIMEOUT, router silent: no route of up1 in any table" "" \
	"$(ip -n "$HK_H" -4 route show table all dev up1 | grep -v '^\(local\|broadcast\|multicast\) ')"

# The router is back, the DHCP server still silent: the recorded lease is
# good, and is used as a new one (dhclient-script's ping decides: without
# ping installed, every TIMEOUT with a router fails).
if ! command -v ping >/dev/null; then
	echo "# no ping: TIMEOUT with a router that answers is not tested"
	t_done
fi
ip -n "$HK_I1" link set lan1 up
t_check "TIMEOUT, router answers: dhclient uses the recorded lease" hk_timeout
grep -E 'Trying recorded|bound|rtalloc-hook' "$T_DIR/timeout.log" | sed 's/^/# /'
# The agent (hooks only) acts on the address in its own time.
back() { [ -n "$(hk_table "$a1")" ] && [ -s "$HK_SERVERS" ] && [ -z "$(rt main | grep -E '^default|10\.101\.')" ]; }
t_wait 5 back
t1=$(hk_table "$a1")
t_eq "TIMEOUT, router answers: the old address is back" "$a1" "$(hk_addr up1)"
t_check "TIMEOUT, router answers: table $t1 has the default via ISP1" \
	grep -q "^default via 10.101.0.1 dev up1 .*src $a1" <(rt "${t1:-none}")
t_eq "TIMEOUT, router answers: main has no uplink route" "" "$(rt main | grep -E '^default|10\.101\.')"
t_eq "TIMEOUT, router answers: the DNS line" "server=10.201.0.53@up1@$a1" "$(cat "$HK_SERVERS")"
t_eq "TIMEOUT, router answers: from up1's address to ISP1's resolver" 10.201.0.53 \
	"$(hk_resolve "$a1" 10.201.0.53)"
t_done
