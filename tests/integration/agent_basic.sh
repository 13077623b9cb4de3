#!/bin/bash
# rtalloc-agent follows the kernel: an address added by `ip addr add` gets a
# table, its three rules and a copy of its link's routes from main; a route
# added to main is mirrored; a link flap, a deleted rule and a kill -9 are
# repaired without a flap; the address going takes its rules, routes and
# lease with it.  Interfaces outside `interfaces` are left alone.
. "$(dirname "$0")/../lib.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" lan0 "$ISP" isp1
t_server "$H" || exit 1
CONF=$T_DIR/agent.json
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "forward_from": ["lan0"] }
EOC
start_agent() {
	t_bg_ready rtalloc-agent "$H" "$AGENT" -c "$CONF" || return 1
	AGENT_PID=$T_LAST_PID
}

ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" route add default via 192.0.2.1 dev wan0
ip -n "$H" addr add 10.9.0.1/24 dev lan0
start_agent || exit 1

ours() { ip -n "$H" "$1" rule show | grep ' proto 122'; }
table_of() { ip -n "$H" "$1" rule show | awk -v a="$2" '$3 == a && / proto 122/ { for (i = 1; i < NF; i++) if ($i == "lookup") print $(i + 1) }'; }
has_rule() { ip -n "$H" "$1" rule show | grep -q "^$2:.*$3.* proto 122"; }
T=$(table_of -4 192.0.2.7)
t_check "192.0.2.7 has a leased table" test -n "$T"
t_eq "three rules for it and the forward_from one" 4 "$(ours -4 | grep -c "lookup $T ")"
t_check "iif lan0 rule beside iif lo" has_rule -4 91000 "iif lan0 lookup $T"
t_eq "the prefix and default routes copied, with src" \
	"default via 192.0.2.1 dev wan0 proto 122 src 192.0.2.7 
192.0.2.0/24 dev wan0 proto 122 scope link src 192.0.2.7 " \
	"$(ip -n "$H" route show table "$T")"
t_eq "the lease is the agent's in the database" "rtalloc-agent|$T|1" \
	"$(t_rows "SELECT tag,tbl,alive FROM leases WHERE address='192.0.2.7'")"
t_eq "lan0 (not in interfaces) has no rules" "" "$(ours -4 | grep 'from 10.9.0.1')"
t_eq "main is left as it was" "default via 192.0.2.1 
192.0.2.0/24 proto kernel scope link src 192.0.2.7 " "$(ip -n "$H" -4 route show dev wan0)"
t_check "traffic from 192.0.2.7 is routed by its table" \
	bash -c "ip -n $H route get 198.51.100.1 from 192.0.2.7 | grep -q 'table $T'"

in_table() { ip -n "$H" "$1" route show table "$2" | grep -q "$3"; }
ip -n "$H" route add 198.51.100.0/24 via 192.0.2.254 dev wan0
t_check "a route added to main is in the table within 1 s" \
	t_wait 1 in_table -4 "$T" "198.51.100.0/24 via 192.0.2.254 dev wan0 proto 122 src 192.0.2.7"
ip -n "$H" route del 198.51.100.0/24 via 192.0.2.254 dev wan0
t_check "and goes with it" t_wait 1 bash -c "! ip -n $H route show table $T | grep -q 198.51.100"

ip -n "$H" addr add 2001:db8:1::7/64 dev wan0 nodad
ip -n "$H" -6 route add default via fe80::1 dev wan0
t_check "an IPv6 address gets its rules" t_wait 2 bash -c "ip -n $H -6 rule | grep -q 'from 2001:db8:1::7 lookup .* proto 122'"
T6=$(table_of -6 2001:db8:1::7)
t_check "RA-style default via the link-local router is copied" \
	t_wait 1 in_table -6 "$T6" "default via fe80::1 dev wan0 proto 122"
t_check "the IPv6 prefix route is copied with src" \
	t_wait 1 in_table -6 "$T6" "2001:db8:1::/64 dev wan0 proto 122 src 2001:db8:1::7"

ip -n "$H" rule del pref 10000 from 192.0.2.7 lookup "$T"
t_check "a rule deleted by someone comes back within 2 s" t_wait 2 has_rule -4 10000 "from 192.0.2.7 lookup $T"

ip -n "$H" link set wan0 down
t_check "a link that is down keeps no routes in the table" \
	t_wait 1 bash -c "[ -z \"\$(ip -n $H route show table $T)\" ]"
t_check "but keeps its rules" has_rule -4 10000 "from 192.0.2.7 lookup $T"
ip -n "$H" link set wan0 up
ip -n "$H" route add default via 192.0.2.1 dev wan0
t_check "up again: the prefix route is back" t_wait 1 in_table -4 "$T" "192.0.2.0/24 dev wan0 proto 122"
t_check "up again: the default route is back" t_wait 1 in_table -4 "$T" "default via 192.0.2.1"

# kill -9 and a restart: the same rules and routes, none deleted meanwhile.
before=$(ours -4; ip -n "$H" route show table "$T")
t_in "$H" ip monitor rule route >"$T_DIR/monitor" 2>&1 &
MON=$!
sleep 0.2
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
start_agent || exit 1
sleep 0.5
kill "$MON"; wait "$MON" 2>/dev/null
t_eq "after kill -9 and a restart: the same rules and routes" "$before" "$(ours -4; ip -n "$H" route show table "$T")"
t_eq "nothing of ours was deleted or re-added during the restart" "" "$(grep 'proto 122' "$T_DIR/monitor")"

# An address gone while the agent was dead: its rules go at the next start.
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
ip -n "$H" -6 addr del 2001:db8:1::7/64 dev wan0
start_agent || exit 1
t_check "a previous run's rules of an address gone are removed" \
	t_wait 2 bash -c "! ip -n $H -6 rule | grep -q 'lookup $T6 proto 122'"
t_eq "and its lease released" 0 "$(t_rows "SELECT alive FROM leases WHERE address='2001:db8:1::7'")"

ip -n "$H" addr del 192.0.2.7/24 dev wan0
t_check "address removed: its rules go within 1 s" t_wait 1 bash -c "! ip -n $H rule | grep -q 'lookup $T proto 122'"
t_check "and its table's routes" t_wait 1 bash -c "[ -z \"\$(ip -n $H route show table $T)\" ]"
t_check "and its lease is released" t_wait 1 \
	bash -c "[ \"\$(sqlite3 -cmd '.timeout 1000' $T_DB \"SELECT alive FROM leases WHERE address='192.0.2.7'\")\" = 0 ]"
kill "$AGENT_PID"; wait "$AGENT_PID"
t_eq "SIGTERM: a clean exit" 0 "$?"
t_done
