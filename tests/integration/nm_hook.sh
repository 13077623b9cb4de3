#!/bin/bash
# rtalloc's NetworkManager dispatcher hook under the real NetworkManager 1.42
# (tests/nm.sh), with an agent whose agent.json names no interface: the hook
# only hints (`rtalloc hint`), the agent owns the uplinks.  Two uplinks with
# DHCPv4 + SLAAC, wan1's profile never-default=yes: NetworkManager sends "up"
# when one family is ready (the SLAAC address comes later, with no event),
# lists fe80:: in IP6_ADDRESS_N, writes IP4_GATEWAY=0.0.0.0 for wan1 and
# still exports its DHCP router in DHCP4_ROUTERS.  Every global address,
# v4 and v6, gets its table and exactly its rules, none for a link-local
# one; wan1's tables get their default (IPv4 via DHCP4_ROUTERS, IPv6 via the
# router the kernel flagged); traffic from every address reaches the far host
# through its own uplink; the agent's servers-file holds each uplink's DNS
# servers; `nmcli con down`/`up`, `nmcli dev reapply` and a NetworkManager
# restart each leave one set of rules and every table complete.
. "$(dirname "$0")/../lib.sh"
NM_DISPATCH=$TOP/hooks/NetworkManager/90-rtalloc
. "$TOP/tests/nm.sh"
[ -x "$AGENT" ] || t_skip "$AGENT not built"
NM_DEFAULT="RTALLOC=$RTALLOC
RTALLOC_SOCKET=rtallocd-$T_ID
RTALLOC_LIBDIR=$TOP/hooks/lib
RTALLOC_HOOK_IFACES=wan*
RTALLOC_DNSMASQ_SERVERS=$T_DIR/hook-servers.conf"
t_require_root
T_SOCK=rtallocd-$T_ID
# The agent runs before NetworkManager, as at boot.
nm_pre() {
	t_server "$PR_H" || exit 1
	PR_AGENT_IFACES='[]' nm_agent "\"dns_servers_file\": \"$T_DIR/servers.conf\"" || exit 1
}
NM_BEFORE=nm_pre
nm_start nmcli || exit 1
NM_SERVERS_WANT=nm_servers
nm_scenario "$T_DIR/servers.conf"
t_done
