#!/bin/bash
# rtalloc-track with dual-stack uplinks (tests/track-topology.sh, TK_V6):
# each interface is an IPv4 and an IPv6 uplink, probed with ICMP and ICMPv6
# echo from its own addresses, and each family's unbound traffic has its own
# rules; IPv6's upstream dying on ISP 1 moves unbound IPv6 traffic to up2
# while IPv4 stays on up1, and bound IPv6 traffic keeps its table; on
# SIGTERM both families' rules go.  Balance mode's multipath route works
# in IPv6 too.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
TK_V6=1 tk_topology
t_check "IPv6: the far host answers through up2 from up2's address" \
	t_wait 5 eval '[ "$(tk_src6 "bind=[2001:db8:2::2]")" = 2001:db8:2::2 ]'
t_eq "IPv6 without rtalloc-track: unbound traffic leaves by up2" 2001:db8:2::2 "$(tk_src6)"
ip -n "$TK_H" -6 rule add from 2001:db8:1::2 to 2001:db8:ff::1 lookup 10002 pref 5000
t_eq "ISP 2 drops up1's IPv6 source (so a wrong uplink shows)" "" "$(tk_src6 "bind=[2001:db8:1::2]")"
ip -n "$TK_H" -6 rule del from 2001:db8:1::2 to 2001:db8:ff::1 lookup 10002 pref 5000

tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1", "2001:db8:ff::1"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1", "2001:db8:ff::1"] } ]'
t_check "up1 is probed with ICMPv6 from its IPv6 address" \
	grep -q "up1 inet6: probing 1 target with ICMP echo" "$TK_LOG"
t_check "all four uplinks come online" t_wait 10 eval \
	'tk_is up1 online && tk_is up2 online && tk_is up1 online inet6 && tk_is up2 online inet6'
t_eq "IPv4: unbound traffic uses up1's table" 10001 "$(tk_rule)"
t_eq "IPv6: unbound traffic uses up1's table" 10001 "$(tk_rule -6)"
t_check "IPv6: main's more specific routes stay in use" \
	grep -q "^30000:.*lookup main suppress_prefixlength 0 proto 122" <<<"$(ip -n "$TK_H" -6 rule)"
t_eq "IPv6: unbound TCP leaves by up1" 2001:db8:1::2 "$(tk_src6)"

# Only IPv6 dies on ISP 1.
tk_cut 100 1 meta nfproto ipv6
t_check "IPv6: unbound traffic moves to up2" t_wait 10 tk_rule_is 10002 -6
t_check "log: up1 inet6: offline (0/1 targets, 2 rounds)" grep -q "up1 inet6: offline (0/1 targets, 2 rounds)" "$TK_LOG"
t_eq "IPv6: unbound TCP leaves by up2" 2001:db8:2::2 "$(tk_src6)"
t_eq "IPv4: still up1 (each family decides for itself)" 10001 "$(tk_rule)"
t_eq "IPv4: unbound TCP still leaves by up1" 10.1.0.2 "$(tk_src)"
t_check "IPv6: bound traffic still uses up1's own table" \
	grep -q "via 2001:db8:1::1 dev up1 table 10001" <<<"$(ip -n "$TK_H" -6 route get 2001:db8:ff::1 from 2001:db8:1::2)"
t_check "the state file: unbound6 is up2, unbound is up1" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["unbound"] == ["up1"] and s["unbound6"] == ["up2"], s' "$TK_STATE"
tk_cut 0 1
t_check "IPv6: back to up1" t_wait 10 tk_rule_is 10001 -6

kill "$TK_PID"
t_check "rtalloc-track exits on SIGTERM" t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "no IPv6 rule of rtalloc-track is left" "" "$(ip -n "$TK_H" -6 rule | grep -E '^3000[0-2]:')"
t_eq "no IPv4 rule of rtalloc-track is left" "" "$(ip -n "$TK_H" -4 rule | grep -E '^3000[0-2]:')"

# Balance in IPv6: a multipath default route over both uplinks' gateways.
tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2, "mode": "balance", "table": 30600,
  "uplinks": [ { "interface": "up1", "weight": 1, "targets": ["2001:db8:ff::1"] },
               { "interface": "up2", "weight": 2, "targets": ["2001:db8:ff::1"] } ]'
t_check "balance, IPv6: table 30600 holds both gateways with their weights" t_wait 10 eval '
	r=$(ip -n "$TK_H" -6 route show table 30600)
	grep -q "nexthop via 2001:db8:1::1 dev up1 weight 1" <<<"$r" && grep -q "nexthop via 2001:db8:2::1 dev up2 weight 2" <<<"$r"'
t_eq "balance, IPv6: unbound traffic looks up table 30600" 30600 "$(tk_rule -6)"
t_check "balance, IPv6: unbound TCP gets through" eval '[ -n "$(tk_src6)" ]'
kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "balance, IPv6: the route is gone after SIGTERM" "" "$(ip -n "$TK_H" -6 route show table 30600 2>/dev/null)"
t_done
