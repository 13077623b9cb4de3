#!/bin/bash
# rtalloc-agent behind the real peers (tests/peers.sh): networkd's DHCPv4 and
# SLAAC addresses on wan0 and wan1, dhcpcd's on wan2 and the kernel's SLAAC
# address there each get a table of their own, exactly their three rules and
# a copy of their link's routes from main (DHCP classless routes and RA
# default routes via the link-local router included), with src the address;
# and traffic from every address, IPv4 and IPv6, reaches the far host, which
# every ISP only forwards from the addresses it assigned: by the address's
# own uplink.  Main stays as the peers left it.  The servers-file holds the
# DNS servers networkd learnt for wan0 and wan1 (its per-link state files)
# and the RDNSS of wan2's router advertisements (the kernel's SLAAC).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
# (networkd's multipath IPv6 default route is agent_peers_multipath.sh's.)
PR_RA_METRICS=distinct
[ -x "$AGENT" ] || t_skip "$AGENT not built (make build/rtalloc-agent)"
pr_start || exit 1
t_server "$PR_H" || exit 1
# networkd's per-link state files give wan0's and wan1's DNS servers.
export RTALLOC_NETWORKD_LINKS=$PR_NETWORKD_LINKS
pr_agent "\"dns_servers_file\": \"$T_DIR/servers.conf\"" || exit 1
H=$PR_H
main() { { ip -n "$H" -4 route show table main; ip -n "$H" -6 route show table main; } | sed 's/ expires [0-9]*sec//'; }
main_before=$(main)

addrs=$(pr_all_addrs)
t_eq "six addresses: IPv4 and IPv6 on each uplink" 6 "$(wc -l <<<"$addrs")"
pr_check_state "every address: its table, exactly its rules, its link's routes" 5
for a in $addrs; do
	t=$(pr_table "$a")
	t_check "$a has a table of its own ($t)" test -n "$t"
	t_check "$a reaches the far host (by its own uplink: the others drop it)" pr_reaches "$a"
	t_check "its table has a default route" grep -q "^default via " <<<"$(pr_table_routes "${t:-none}" "$(pr_fam "$a")")"
done
for n in 1 2; do
	a=$(pr_addr wan$n 4)
	t_check "$a's table has ISP$n's DHCP classless route" \
		grep -qx "10.25$n.0.0/24 via 10.10$n.0.1 dev wan$n" <<<"$(pr_table_routes "$(pr_table "$a")" 4)"
done
t_eq "the database holds the six leases" 6 "$(t_rows "SELECT count(*) FROM leases WHERE alive = 1" 2>/dev/null ||
	t_rows "SELECT count(*) FROM leases")"
t_eq "main is as the peers left it" "$main_before" "$(main)"
# networkd learnt each ISP's resolver from DHCP; the agent reads its state.
networkd_dns() { grep -qx "server=10.200.0.53@wan0@$(pr_addr wan0 4)" "$T_DIR/servers.conf" &&
	grep -qx "server=10.201.0.53@wan1@$(pr_addr wan1 4)" "$T_DIR/servers.conf"; }
t_check "servers-file: networkd's DNS servers of wan0 and wan1, each with its uplink's address" \
	t_wait 5 networkd_dns
# wan2's IPv6 is the kernel's (accept_ra): its RA's RDNSS.
rdnss() { grep -qx "server=2001:db8:202::53@wan2@$(pr_addr wan2 6)" "$T_DIR/servers.conf"; }
t_check "servers-file: the RDNSS of ISP2's router advertisements, with wan2's SLAAC address" \
	t_wait 15 rdnss
t_check "the agent still runs" kill -0 "$PR_AGENT_PID"
t_done
