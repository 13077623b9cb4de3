#!/bin/bash
# The README's quick start "server", with the shipped examples/server files
# as they are (only rtallocd's socket name is the test's): the real
# systemd-networkd configures wan0 and wan1 (DHCPv4 from dnsmasq, SLAAC from
# radvd, the ISPs dropping sources they did not assign) with the networkd
# drop-in, rtalloc-agent runs with agent.json; every global address of wan0
# and wan1 gets a table of its own with its link's routes and its traffic
# leaves by its own ISP; wan2 (dhcpcd, not named) is left alone.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
[ -x "$AGENT" ] || t_skip "$AGENT not built"
PR_NETWORKD_CONF=$TOP/examples/server/networkd-rtalloc.conf
pr_start || exit 1
t_server "$PR_H" || exit 1
sed "s|\"socket_path\": \"rtallocd\"|\"socket_path\": \"$T_SOCK\"|" "$TOP/examples/server/agent.json" >"$T_DIR/agent.json"
t_check "the example names rtallocd's default socket (the only change)" \
	test "$(diff "$TOP/examples/server/agent.json" "$T_DIR/agent.json" | grep -c '^[<>]')" = 2
# shellcheck disable=SC2016
t_bg_ready rtalloc-agent "$PR_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' "$AGENT" "$T_DIR/agent.json" "$T_DIR/agent.log" ||
	{ cat "$T_DIR/agent.log"; exit 1; }

addrs() { for n in 0 1; do pr_addrs "wan$n" 4; pr_addrs "wan$n" 6; done | sed 's|/.*||'; }
all_tabled() { local a; for a in $(addrs); do [ -n "$(pr_table "$a")" ] || return 1; done; }
t_check "every address of wan0 and wan1 has a table" pr_within 10 all_tabled
t_eq "four addresses (IPv4 and IPv6 on each)" 4 "$(addrs | wc -l)"
for a in $(addrs); do
	t=$(pr_table "$a") dev=$(ip -n "$PR_H" -o addr show to "$a" | awk '{ print $2 }')
	f=$(pr_fam "$a")
	t_eq "$a: table $t holds $dev's routes from main" "$(pr_main_routes "$dev" "$f")" "$(pr_table_routes "$t" "$f")"
	t_eq "$a: its traffic leaves by $dev" "$dev" "$(pr_route_dev "$a")"
	t_check "$a: reaches the far host through its own ISP" pr_reaches "$a"
done
t_eq "tables differ per address (in each family)" 4 "$(for a in $(addrs); do echo "$(pr_fam "$a") $(pr_table "$a")"; done | sort -u | wc -l)"
t_eq "wan2 (not in interfaces) has no table" "" \
	"$(for a in $(pr_addrs wan2 4 | sed 's|/.*||'); do pr_table "$a"; done)"
t_check "networkd ran with the drop-in (it left the agent's rules alone)" \
	grep -qx 'ManageForeignRoutingPolicyRules=no' "$T_DIR/networkd/networkd.conf"
t_done
