#!/bin/bash
# The 2017 hook order with a real dhclient: an enter hook in the original's
# manner (written here from the issue's description, no code of the
# original) runs `table_allocator_client` for BOUND and TIMEOUT *before*
# dhclient-script adds the address.  rtalloc prints the table at once and
# installs the rules when dhclient-script adds the address; on a TIMEOUT
# whose router is silent, dhclient-script adds the recorded address and
# flushes it again, and rtalloc leaves no rule and no lease.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhclient dnsmasq

# Our own hook out, the original-style one in.
ln -s "$RTALLOC" "$T_DIR/table_allocator_client"
rm -f "$HK_ETC/dhcp/dhclient-enter-hooks.d/rtalloc"
cat >"$HK_ETC/dhcp/dhclient-enter-hooks.d/legacy" <<EOF
# sourced by dhclient-script before it configures anything
case \$reason in
BOUND | TIMEOUT)
	legacy_t=\$($T_DIR/table_allocator_client -4 -s -a "\$new_ip_address" -n "\$new_subnet_mask" \\
		-i "\$interface" -d $T_SOCK 2>>$T_DIR/legacy.err)
	echo "\$reason \$new_ip_address \$legacy_t \$(ip -4 -o addr show dev "\$interface" | wc -l)" >>$T_DIR/legacy.log
	;;
esac
EOF
live() { sqlite3 "$T_DB" "SELECT count(*) FROM leases WHERE alive=1 AND address='$1'"; }
three() { [ "$(hk_rule_count "$1")" = 3 ]; }
no_lease() { [ "$(live "$1")" = 0 ]; }
# The clients in the host namespace, whatever name they were run by.
clients() {
	local p exe
	exe=$(readlink -f "$RTALLOC")
	for p in $(ip netns pids "$HK_H"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] && echo "$p"
	done
}

# BOUND: the client runs while up1 has no address yet.
t_check "dhclient up1 gets a lease" hk_dhclient up1
a1=$(hk_addr up1)
read -r reason addr t1 naddr <<<"$(tail -n 1 "$T_DIR/legacy.log")"
t_eq "BOUND: the hook ran the client for $a1 before the address was there" "BOUND $a1 0" \
	"$reason $addr $naddr"
t_check "BOUND: it printed a table ('$t1')" test "${t1:-0}" -gt 255
t_check "BOUND: the rules of table $t1 came with the address" t_wait 3 three "$t1"
t_eq "BOUND: the lease is live" 1 "$(live "$a1")"
t_check "BOUND: a client holds it" test -n "$(clients)"

# TIMEOUT with the router answering: dhclient is gone (reboot), so is the
# address; ISP1's DHCP server no longer answers; the recorded lease is used.
hk_kill_dhclients
t_wait 5 bash -c "! kill -0 $(cat "$T_DIR/dhclient.up1.pid") 2>/dev/null"
ip -n "$HK_H" addr flush dev up1
t_check "address flushed: rtalloc removes the rules" t_wait 5 hk_no_rules "$t1"
t_check "address flushed: lease released" t_wait 5 no_lease "$a1"
kill "$(cat "$T_DIR/isp1.pid")"
t_wait 5 bash -c "! ip netns exec '$HK_I1' ss -Hlun 'sport = :67' | grep -q ."
sed 's/^timeout .*/timeout 3;/' "$HK_ETC/dhcp/dhclient.conf" >"$HK_ETC/dhcp/timeout.conf"
hk_timeout() {
	hk_run timeout 60 dhclient -1 -v -sf /sbin/dhclient-script -cf /etc/dhcp/timeout.conf \
		-lf "$T_DIR/dhclient.up1.leases" -pf "$T_DIR/dhclient.up1.pid" up1 >"$T_DIR/timeout.log" 2>&1
}
if command -v ping >/dev/null; then
	t_check "TIMEOUT, router answers: dhclient uses the recorded lease" hk_timeout
	read -r reason addr t2 naddr <<<"$(tail -n 1 "$T_DIR/legacy.log")"
	t_eq "TIMEOUT: the hook ran the client before the address was there" "TIMEOUT $a1 0" \
		"$reason $addr $naddr"
	t_check "TIMEOUT: a table printed ('$t2')" test "${t2:-0}" -gt 255
	t_eq "TIMEOUT: the address is back" "$a1" "$(hk_addr up1)"
	t_check "TIMEOUT: the rules of table $t2 are in place" t_wait 3 three "$t2"
	t_eq "TIMEOUT: the lease is live" 1 "$(live "$a1")"
	hk_kill_dhclients
	t_wait 5 bash -c "! kill -0 $(cat "$T_DIR/dhclient.up1.pid") 2>/dev/null"
	ip -n "$HK_H" addr flush dev up1
	t_check "flushed again: no rule, no lease" t_wait 5 bash -c \
		"[ \"\$(ip -n $HK_H rule show | grep -c 'lookup $t2 ')\" = 0 ] && [ \"\$(sqlite3 $T_DB \"SELECT count(*) FROM leases WHERE alive=1 AND address='$a1'\")\" = 0 ]"
else
	echo "# no ping: dhclient-script takes every router as down; TIMEOUT with a router is not tested"
fi

# TIMEOUT with the router silent: dhclient-script adds the recorded address,
# its ping fails, it flushes the address again.
ip -n "$HK_I1" link set lan1 down
hk_timeout; rc=$?
t_check "TIMEOUT, router silent: dhclient gives up (exit $rc)" test "$rc" != 0
read -r reason addr t3 naddr <<<"$(tail -n 1 "$T_DIR/legacy.log")"
t_eq "TIMEOUT, router silent: the hook ran the client first" "TIMEOUT $a1 0" "$reason $addr $naddr"
t_eq "TIMEOUT, router silent: the address is gone" "" "$(hk_addr up1)"
t_check "TIMEOUT, router silent: no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_check "TIMEOUT, router silent: the lease is released" t_wait 12 no_lease "$a1"
t_eq "TIMEOUT, router silent: no client left running" "" "$(clients)"
t_done
