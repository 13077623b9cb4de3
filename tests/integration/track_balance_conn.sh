#!/bin/bash
# rtalloc-track's balance mode per connection, with real traffic
# (tests/track-topology.sh): 200 unbound TCP connections to ONE far address
# spread by weight (1:1, then 1:3: each side within 40 % of its share), as
# the L4 multipath hash (set while balance mode runs, the previous value
# restored when it stops, both logged) and a resilient nexthop group do;
# forwarded flows (a LAN host, masqueraded) that use up2 keep using it when
# up1 comes back into the group.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tk_lan masquerade; L=$TK_L
# The far host's port 9: the source it saw, then an echo.
t_bg "$TK_F" socat TCP-LISTEN:9,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR; cat'

# one_dest N: N unbound TCP connections to 198.51.100.1 (one address, one
# port); "N1 N2": how many the far host saw from up1's and up2's address.
one_dest() {
	t_in "$TK_H" "$PY" -c '
import socket, sys
n = {"10.1.0.2": 0, "10.2.0.2": 0}
for i in range(int(sys.argv[1])):
    s = socket.create_connection(("198.51.100.1", 7), timeout=3)
    seen = s.makefile().readline().strip()
    if seen == s.getsockname()[0]:
        n[seen] = n.get(seen, 0) + 1
    s.close()
print(n["10.1.0.2"], n["10.2.0.2"])' "$1"
}
hash_policy() { t_in "$TK_H" cat /proc/sys/net/ipv4/fib_multipath_hash_policy /proc/sys/net/ipv6/fib_multipath_hash_policy | tr '\n' ' '; }
conf() {
	echo '"interval": 0.3, "timeout": 0.2, "down": 2, "up": 2, "mode": "balance", "table": 30500,
  "forward_from": ["lan0"],
  "uplinks": [ { "interface": "up1", "priority": 1, "weight": '"$1"', "targets": ["198.51.100.1"] },
               { "interface": "up2", "priority": 2, "weight": '"$2"', "targets": ["198.51.100.1"] } ]'
}
in_group() { ip -n "$TK_H" route show table 30500 | grep -q "nexthop via 10.1.0.1 dev up1 weight $1" &&
	ip -n "$TK_H" route show table 30500 | grep -q "nexthop via 10.2.0.1 dev up2 weight $2"; }

t_eq "the namespace's multipath hash is L3 (0) before" "0 0 " "$(hash_policy)"
tk_start "$(conf 1 1)"
t_check "both uplinks come online, both in the route" t_wait 10 in_group 1 1
t_eq "L4 multipath hash (1) for IPv4 and IPv6 while balance mode runs" "1 1 " "$(hash_policy)"
t_check "logged, with the values before" \
	grep -q "multipath hash policy 1 (L4: ports too) for IPv4 and IPv6 (was 0 and 0)" "$TK_LOG"
t_check "the route is a resilient nexthop group" eval '
	ip -n "$TK_H" route show table 30500 | grep -q "^default nhid" &&
	ip -n "$TK_H" nexthop show | grep -q "type resilient"'
read -r n1 n2 <<<"$(one_dest 200)"
echo "    weights 1:1, 200 connections to 198.51.100.1:7: $n1 by up1, $n2 by up2"
t_eq "all 200 got through by the uplink of their source" 200 "$((n1 + n2))"
t_check "1:1: each side within 40% of 100 ($n1, $n2)" test "$n1" -ge 60 -a "$n1" -le 140 -a "$n2" -ge 60

kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "stopped: the hash policy is back (0 0)" "0 0 " "$(hash_policy)"
t_check "logged" grep -q "balance stopped: multipath hash policy 0 for IPv4 and 0 for IPv6 again" "$TK_LOG"
t_eq "stopped: no nexthop object of ours is left" "" "$(ip -n "$TK_H" nexthop show proto 122 2>/dev/null)"

tk_start "$(conf 1 3)"
t_check "weights 1:3 in the route" t_wait 10 in_group 1 3
read -r n1 n2 <<<"$(one_dest 200)"
echo "    weights 1:3, 200 connections to 198.51.100.1:7: $n1 by up1, $n2 by up2"
t_eq "all 200 got through by the uplink of their source" 200 "$((n1 + n2))"
t_check "1:3: up1 within 40% of 50 ($n1)" test "$n1" -ge 30 -a "$n1" -le 70
t_check "1:3: up2 within 40% of 150 ($n2)" test "$n2" -ge 90 -a "$n2" -le 210

# Forwarded flows keep their uplink when another one comes: 20 LAN
# connections opened while up1 is out all use up2, and still work after
# up1 is back in the group (a plain multipath route would move about half
# of them to up1, with up2's address, and ISP 1 drops those).
tk_cut 100 1
t_check "up1 leaves the route" t_wait 10 eval '! ip -n "$TK_H" route show table 30500 | grep -q up1'
t_bg "$L" "$PY" -c '
import socket, sys, os, time
conns = [socket.create_connection(("198.51.100.1", 9), timeout=3) for i in range(20)]
files = [c.makefile("rw") for c in conns]
print(" ".join(f.readline().strip() for f in files), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
ok = 0
for f in files:
    try:
        f.write("ping\n"); f.flush()
        ok += f.readline().strip() == "ping"
    except OSError:
        pass
print(ok, flush=True)' "$T_DIR/go" >"$T_DIR/lan.out"
t_check "20 LAN connections open" t_wait 10 eval '[ "$(head -n 1 "$T_DIR/lan.out" | wc -w)" = 20 ]'
t_eq "all 20 masqueraded to up2's address" 20 "$(head -n 1 "$T_DIR/lan.out" | tr ' ' '\n' | grep -c '^10.2.0.2$')"
tk_cut 0 1
t_check "up1 comes back into the group" t_wait 10 in_group 1 3
touch "$T_DIR/go"
t_check "the LAN client finished" t_wait 15 eval '[ "$(wc -l <"$T_DIR/lan.out")" = 2 ]'
t_eq "all 20 forwarded flows still work through up2" 20 "$(sed -n 2p "$T_DIR/lan.out")"

kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "stopped again: hash policy 0 0" "0 0 " "$(hash_policy)"
t_done
