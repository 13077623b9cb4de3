#!/bin/bash
# rtalloc-agent behind the real peers (tests/peers.sh) while the uplinks
# change: an address added by hand beside networkd's gets its table, rules
# and routes and its traffic goes out by its uplink; removed, its rules and
# routes go and its lease is released within 1 s.  wan1 going down (the
# kernel drops its routes and IPv6 addresses, networkd its DHCP address) and
# up again (networkd and the RAs configure it anew) leaves, at each step,
# exactly the rules and routes of the addresses there are (a static address
# that stays keeps its rules and table, empty while the link is down), and
# traffic from wan1's addresses goes by wan1 again.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
# (networkd's multipath IPv6 default route is agent_peers_multipath.sh's.)
PR_RA_METRICS=distinct
pr_agent_start
H=$PR_H
pr_check_state "start: every address has its table, rules and routes" 5
leased() { t_rows "SELECT count(*) FROM leases WHERE address = '$1' AND alive != 0"; }

# An address added beside networkd's, IPv4 and IPv6.
x4=10.100.0.77 x6=2001:db8:100::77
ip -n "$H" addr add "$x4/24" dev wan0
ip -n "$H" addr add "$x6/64" dev wan0 nodad
has_table() { [ -n "$(pr_table "$1")" ]; }
t_check "added $x4: it gets a table within 1 s" pr_within 1 has_table "$x4"
t_check "added $x6: it gets a table within 1 s" pr_within 1 has_table "$x6"
pr_check_state "added: exactly the rules and routes of every address" 2
t_check "$x4 reaches the far host" pr_reaches "$x4"
t_check "$x6 reaches the far host" pr_reaches "$x6"
t_eq "$x4 is leased" 1 "$(leased "$x4")"
t4=$(pr_table "$x4") t6=$(pr_table "$x6")

# Removed: rules, routes and lease go within 1 s.
ip -n "$H" addr del "$x4/24" dev wan0
ip -n "$H" addr del "$x6/64" dev wan0
no_rules() { ! { ip -n "$H" -4 rule show; ip -n "$H" -6 rule show; } | grep -qE "from ($x4|$x6) "; }
released() { [ "$(leased "$x4")" = 0 ] && [ "$(leased "$x6")" = 0 ]; }
t_check "removed: their rules are gone within 1 s" pr_within 1 no_rules
t_check "removed: their leases are released within 1 s" pr_within 1 released
t_eq "removed: $x4's table $t4 is empty" "" "$(pr_table_routes "$t4" 4)"
t_eq "removed: $x6's table $t6 is empty" "" "$(pr_table_routes "$t6" 6)"
pr_check_state "removed: exactly the rules and routes of the other addresses" 2
for a in $(pr_all_addrs); do
	t_check "removed: $a still reaches the far host" pr_reaches "$a"
done

# wan1 goes down and comes back.  A static address there stays through it
# (networkd's go): its rules stay, its table empties (the kernel drops
# routes through a down link) and fills again.
s4=10.101.0.78
ip -n "$H" addr add "$s4/24" dev wan1
t_check "static $s4 on wan1: it gets a table" pr_within 1 has_table "$s4"
ts4=$(pr_table "$s4")
pr_check_state "static $s4 on wan1: exactly the rules and routes of every address" 2
a4=$(pr_addr wan1 4) a6=$(pr_addr wan1 6)
t14=$(pr_table "$a4")
ip -n "$H" link set wan1 down
down_done() { [ -z "$(pr_addrs wan1 6)" ] && [ -z "$(pr_main_routes wan1 4)" ]; }
t_wait 5 down_done
echo "# wan1 down: addresses now: $(pr_addrs wan1 4 | tr '\n' ' ')"
pr_check_state "wan1 down: exactly the rules and routes of the addresses left" 2
t_eq "wan1 down: $a6's rules are gone" "" "$(ip -n "$H" -6 rule show | grep "from $a6 ")"
t_eq "wan1 down: $s4 keeps its table" "$ts4" "$(pr_table "$s4")"
t_eq "wan1 down: table $ts4 has no routes" "" "$(pr_table_routes "$ts4" 4)"
t_check "wan1 down: wan0's IPv4 address still reaches the far host" pr_reaches "$(pr_addr wan0 4)"
ip -n "$H" link set wan1 up
t_check "wan1 up: networkd and the RAs configure it again" t_wait 30 pr_configured
pr_check_state "wan1 up: every address has its table, rules and routes" 3
t_eq "wan1 up: $a4 is back with its table" "$t14" \
	"$(pr_table "$(pr_addrs wan1 4 | sed 's|/.*||' | grep -vx "$s4")")"
t_eq "wan1 up: $s4 still has its table" "$ts4" "$(pr_table "$s4")"
t_check "wan1 up: table $ts4 has wan1's default route again" \
	grep -qx "default via 10.101.0.1 dev wan1" <<<"$(pr_table_routes "$ts4" 4)"
for a in $(pr_all_addrs); do
	t_check "wan1 up: $a reaches the far host" pr_reaches "$a"
done
t_check "the agent still runs" kill -0 "$PR_AGENT_PID"
t_done
