#!/bin/bash
# The real peers of the agent tests (tests/peers.sh), without the agent:
# systemd-networkd gets wan0's and wan1's DHCPv4 leases and SLAAC addresses
# and puts both uplinks' default routes in main, dhcpcd gets wan2's lease and
# the kernel its SLAAC address; every ISP forwards only the sources it
# assigned, so traffic from an address reaches the far host only by its own
# uplink (and main alone sends one of them by another one); a restarting
# networkd deletes foreign policy rules (what the agent must repair) and
# leaves dhcpcd's link alone; the machine's /etc and hostname are untouched.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
resolv_before=$(md5sum /etc/resolv.conf 2>/dev/null) host_before=$(hostname)
pr_start || exit 1
H=$PR_H

for n in 0 1; do
	a4=$(pr_addr wan$n 4) a6=$(pr_addr wan$n 6)
	echo "# wan$n: $a4 $a6"
	t_check "networkd: wan$n's DHCPv4 address from ISP$n's pool ($a4)" \
		grep -qE "^10\.10$n\.0\.1[0-5][0-9]\$" <<<"$a4"
	t_check "networkd: wan$n's lease is in ISP$n's dnsmasq" grep -q " $a4 " "$T_DIR/isp$n.leases"
	t_check "networkd: wan$n's SLAAC address in 2001:db8:10$n::/64 ($a6)" \
		grep -q "^2001:db8:10$n:0:" <<<"$a6"
	t_check "networkd: main's IPv4 default route via ISP$n" \
		grep -q "^default via 10.10$n.0.1 proto dhcp src $a4 " <<<"$(ip -n "$H" route show default dev wan$n)"
	t_check "networkd: main's IPv6 default route via ISP$n's link-local router" \
		grep -qx "default via fe80::[0-9a-f:]* dev wan$n" <<<"$(pr_default wan$n 6)"
done
a4=$(pr_addr wan2 4) a6=$(pr_addr wan2 6)
echo "# wan2: $a4 $a6"
t_check "dhcpcd: wan2's DHCPv4 address from ISP2's pool ($a4)" grep -qE '^10\.102\.0\.1[0-5][0-9]$' <<<"$a4"
t_check "dhcpcd: it is dhcpcd's lease" grep -q "wan2: leased $a4 " "$PR_DHCPCD_LOG"
t_check "dhcpcd: main's default route via ISP2" \
	grep -q "^default via 10.102.0.1 proto dhcp src $a4 " <<<"$(ip -n "$H" route show default dev wan2)"
t_check "the kernel: wan2's SLAAC address ($a6)" grep -q '^2001:db8:102:0:' <<<"$a6"
t_check "the kernel: main's IPv6 default route via ISP2's router" \
	grep -qx "default via fe80::[0-9a-f:]* dev wan2" <<<"$(pr_default wan2 6)"
t_check "networkd: main has ISP1's classless route" \
	grep -qx "10.251.0.0/24 via 10.101.0.1 dev wan1" <<<"$(pr_main_routes wan1 4)"
t_check "dhcpcd: main has ISP2's classless route" \
	grep -qx "10.252.0.0/24 via 10.102.0.1 dev wan2" <<<"$(pr_main_routes wan2 4)"
t_eq "main has the three IPv4 default routes" 3 "$(ip -n "$H" -4 route show default | wc -l)"
# (networkd's two, of equal metric, are one multipath route in IPv6.)
t_eq "main has the three IPv6 default routes" 3 \
	"$(ip -n "$H" -o -6 route show default | pr_routes_norm | wc -l)"
t_eq "no policy rule but the kernel's" "0:	from all lookup local
32766:	from all lookup main
32767:	from all lookup default" "$(ip -n "$H" -4 rule show)"

# Main alone cannot serve every address: wan2's IPv4 default route (dhcpcd's
# metric) is behind networkd's, so its traffic leaves by wan0 or wan1, whose
# ISP drops it.  (Which of equal routes main picks is up to the kernel.)
a=$(pr_addr wan2 4)
t_check "main sends wan2's $a by another uplink" test "$(pr_route_dev "$a")" != wan2
t_check "so it does not reach the far host" eval '! pr_reaches "$a"'
# Each ISP forwards its own sources only: wan1's addresses by wan0 (policy
# rule + table 500 here) are dropped, by wan1 they go through.
via() {
	ip -n "$H" -"$1" route replace default via "$2" dev "$3" table 500
}
for f in 4 6; do
	a=$(pr_addr wan1 $f)
	ip -n "$H" -$f rule add pref 100 from "$a" lookup 500
	gw0=$(pr_default wan0 $f | awk '{ print $3 }') gw1=$(pr_default wan1 $f | awk '{ print $3 }')
	via $f "$gw0" wan0
	t_check "IPv$f: ISP0 drops wan1's address $a" eval '! pr_reaches "$a"'
	via $f "$gw1" wan1
	t_check "IPv$f: ISP1 forwards it" pr_reaches "$a"
	ip -n "$H" -$f rule del pref 100
	ip -n "$H" -$f route flush table 500
done

# A restarting networkd deletes foreign policy rules, as the agent must
# expect; it configures wan0 and wan1 again and leaves wan2 (dhcpcd's) alone.
a=$(pr_addr wan0 4) a6=$(pr_addr wan0 6)
ip -n "$H" -4 rule add pref 10000 from "$a" lookup 10050 proto 122
ip -n "$H" -6 rule add pref 10000 from "$a6" lookup 10050 proto 122
main_wan2=$(ip -n "$H" route show dev wan2)
pr_networkd_stop
t_check "networkd stopped: the foreign rules are still there" \
	test "$(ip -n "$H" rule show pref 10000; ip -n "$H" -6 rule show pref 10000)" != ""
: >"$PR_NETWORKD_LOG"
pr_networkd
gone() { [ -z "$(ip -n "$H" rule show pref 10000; ip -n "$H" -6 rule show pref 10000)" ]; }
t_check "networkd restarted: it deleted the foreign rules" t_wait 10 gone
t_check "networkd's log says so" grep -q "Removing foreign routing policy rule" "$PR_NETWORKD_LOG"
t_check "networkd restarted: everything configured again" t_wait 30 pr_configured
t_eq "wan0 keeps its address" "$a" "$(pr_addr wan0 4)"
t_eq "dhcpcd's routes on wan2 untouched" "$main_wan2" "$(ip -n "$H" route show dev wan2)"
t_check "dhcpcd still runs" kill -0 "$PR_DHCPCD_PID"

t_eq "the machine's /etc/resolv.conf untouched" "$resolv_before" "$(md5sum /etc/resolv.conf 2>/dev/null)"
t_eq "the machine's hostname untouched" "$host_before" "$(hostname)"
t_done
