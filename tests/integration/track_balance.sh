#!/bin/bash
# rtalloc-track in balance mode: its own table holds a multipath default
# route (a resilient nexthop group: its members print as `nexthop` lines)
# over the online uplinks with their weights, and 200 unbound TCP
# connections (to 200 addresses of the far host) spread over both uplinks by
# weight (1:3), each through its own ISP; an uplink whose upstream dies
# leaves the route; traffic forwarded from a forward_from interface follows
# the same choice; on SIGTERM the route and the rules go.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# A LAN behind the host, masqueraded to the address of the uplink its
# traffic leaves by (as a router does).
tk_lan masquerade; L=$TK_L
lan_src() { t_in "$L" timeout 3 socat -T 2 - TCP:198.51.100.1:7 </dev/null 2>/dev/null; }

tk_start '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2, "mode": "balance", "table": 30500,
  "forward_from": ["lan0"],
  "uplinks": [ { "interface": "up1", "priority": 1, "weight": 1, "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "weight": 3, "targets": ["198.51.100.1"] } ]'
t_check "both uplinks come online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_check "table 30500 holds a multipath default route with weights 1 and 3" t_wait 5 eval '
	r=$(ip -n "$TK_H" route show table 30500)
	grep -q "nexthop via 10.1.0.1 dev up1 weight 1" <<<"$r" && grep -q "nexthop via 10.2.0.1 dev up2 weight 3" <<<"$r"'
t_eq "unbound traffic looks up table 30500" 30500 "$(tk_rule)"
t_check "traffic forwarded from lan0 looks up table 30500 (30002 iif lan0)" \
	grep -q "^30002:.*iif lan0 lookup 30500 proto 122" <<<"$(ip -n "$TK_H" -4 rule)"

# conns N: N unbound TCP connections to 198.51.100.1..N; prints one line per
# connection: the local address and the source the far host saw.
conns() {
	t_in "$TK_H" "$PY" -c '
import socket, sys
for i in range(1, int(sys.argv[1]) + 1):
    s = socket.create_connection(("198.51.100.%d" % i, 7), timeout=3)
    print(s.getsockname()[0], s.makefile().readline().strip())
    s.close()' "$1"
}
out=$(conns 200)
n1=$(grep -c '^10.1.0.2 10.1.0.2$' <<<"$out")
n2=$(grep -c '^10.2.0.2 10.2.0.2$' <<<"$out")
echo "    200 connections: $n1 by up1 (weight 1), $n2 by up2 (weight 3)"
t_eq "all 200 connections got through, each by the uplink of its source" 200 "$((n1 + n2))"
t_check "up1 carried about a quarter (20..80 of 200: $n1)" test "$n1" -ge 20 -a "$n1" -le 80
t_check "up2 carried about three quarters (120..180 of 200: $n2)" test "$n2" -ge 120 -a "$n2" -le 180

t_check "a host on lan0 reaches the far host through the host" \
	tk_ping "$L" 198.51.100.1

tk_cut 100 1
t_check "up1's dead upstream takes it out of the route" t_wait 10 eval '
	r=$(ip -n "$TK_H" route show table 30500)
	grep -q "via 10.2.0.1 dev up2" <<<"$r" && ! grep -q up1 <<<"$r"'
out=$(conns 40)
t_eq "then all 40 connections leave by up2" 40 "$(grep -c '^10.2.0.2 10.2.0.2$' <<<"$out")"
t_eq "forwarded TCP from lan0 leaves by up2" 10.2.0.2 "$(lan_src)"
tk_cut 0 1
t_check "up1 comes back into the route" t_wait 10 eval '
	ip -n "$TK_H" route show table 30500 | grep -q "nexthop via 10.1.0.1 dev up1 weight 1"'

kill "$TK_PID"
t_check "rtalloc-track exits on SIGTERM" t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "its route is gone" "" "$(ip -n "$TK_H" route show table 30500 2>/dev/null)"
t_eq "its rules are gone" "" "$(ip -n "$TK_H" -4 rule | grep -E '^3000[0-2]:')"
t_done
