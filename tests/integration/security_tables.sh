#!/bin/bash
# No table that is not a lease is ever printed, installed or flushed (issue
# 14): 0 (beyond the "no lease" fallback), 253 (default), 254 (main), 255
# (local), or a table outside --tables / RTALLOC_TABLES.
# - rtalloc against a forged server answering 254/255: prints 0, installs
#   no rule; a renewal answer moving it to 255 is ignored; a squatter on its
#   control name answering "table 255" gets 0 printed;
# - the hooks name no table (they only hint the agent): run with a stub
#   rtalloc printing 255 and a forged proto-122 rule naming 255, main and
#   local keep every route, `ping 127.0.0.1` works, nothing is flushed.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v dash >/dev/null || t_skip "dash missing"

t_uplink_host -4
ip -n "$ISP" addr add 192.0.2.1/24 dev isp0
ip -n "$H" route add default via 192.0.2.1 dev up0
SOCK=$T_ID-forged

# A server that answers every request with the next table of a list (the
# last one repeats), echoing seq, lease_seconds 2.
cat >"$T_DIR/forged.py" <<'EOF'
import json, socket, sys, time
name, tables = sys.argv[1], [int(t) for t in sys.argv[2].split(",")]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name)
n = 0
while True:
    data, peer = s.recvfrom(65536)
    try:
        req = json.loads(data)
    except ValueError:
        continue
    t = tables[min(n, len(tables) - 1)]
    if req.get("cmd") == 3:
        lease = lambda tbl, a: {"addr_family": 2, "address": a, "ifname": "up0", "tag": "",
                                "table": tbl, "seconds_left": 60, "uid": 0}
        rep = {"version": 2, "cmd": 4, "seq": req.get("seq", 0), "total": 2, "next": 0,
               "leases": [lease(255, "192.0.2.55"), lease(10007, "192.0.2.57")]}
        s.sendto(json.dumps(rep).encode(), peer)
        continue
    if req.get("cmd") == 0:
        n += 1
    rep = {"version": req.get("version", 2), "cmd": 2, "table": t,
           "lease_expires": int(time.time()) + 2, "lease_seconds": 2}
    if "seq" in req:
        rep["seq"] = req["seq"]
    if peer:
        s.sendto(json.dumps(rep).encode(), peer)
EOF
forged() {	# TABLES: (re)starts the forged server
	[ -n "${FPID:-}" ] && { kill "$FPID"; wait "$FPID" 2>/dev/null; }
	t_bg "$H" python3 "$T_DIR/forged.py" "$SOCK" "$1"
	FPID=$T_LAST_PID
	t_wait 5 t_socket_bound "$H" "$SOCK"
}
our_rules() { ip -n "$H" -4 rule show | grep ' proto 122'; }
tables() { ip -n "$H" -4 route show table local; ip -n "$H" -4 route show table main; ip -n "$H" -6 route show table local; }
LOCAL_MAIN=$(tables)
ping_lo() { ip netns exec "$H" ping -q -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; }
t_check "before: ping 127.0.0.1" ping_lo

# 1. rtalloc: a forged first answer is refused.
for t in 254 255 253; do
	forged "$t"
	out=$(ip netns exec "$H" "$RTALLOC" -4 -a 192.0.2.7 -n 24 -i up0 -d "$SOCK" --retries 1 \
		2>"$T_DIR/err"); rc=$?
	t_eq "server says $t: prints 0, exit 2" "0 2" "$out $rc"
	# (refused by the daemon, or dropped already by the lease layer)
	t_check "server says $t: says why" \
		grep -qE "names table $t, which is never leased|table $t is the kernel's" "$T_DIR/err"
	t_eq "server says $t: no rule" "" "$(our_rules)"
done
forged 9000
out=$(ip netns exec "$H" "$RTALLOC" -4 -a 192.0.2.7 -n 24 -i up0 -d "$SOCK" --retries 1 \
	--tables 10000-10099 2>/dev/null); rc=$?
t_eq "server says 9000, --tables 10000-10099: prints 0, exit 2" "0 2" "$out $rc"
t_eq "--tables: no rule" "" "$(our_rules)"

# --list shows no table that cannot be a lease.
out=$(ip netns exec "$H" "$RTALLOC" --list -d "$SOCK" 2>"$T_DIR/err")
t_check "--list: the lease on 10007 is shown" grep -q " 192.0.2.57 .* 10007 " <<<"$out"
t_check "--list: the entry with table 255 is not" bash -c "! grep -q 192.0.2.55 <<<'$out'"
t_check "--list: says it dropped one" grep -q "dropped an entry with table 255" "$T_DIR/err"

# 2. A renewal answer naming 255 does not move the rules (lease 2 s: the
# daemon renews every second).
forged 10005,255
T=$(ip netns exec "$H" "$RTALLOC" -4 -a 192.0.2.7 -n 24 -i up0 -d "$SOCK" -l "$T_DIR/renew.log")
t_eq "first answer 10005: printed" 10005 "$T"
t_check "renewals answered with 255 are refused and logged" \
	t_wait 5 grep -qE "renewal answer names table 255, which is never leased|table 255 is the kernel's" \
	"$T_DIR/renew.log"
t_eq "the rules still look up 10005, none 255 (and the network's guard main)" \
"10000:	from 192.0.2.7 lookup 10005 proto 122
19999:	from all to 192.0.2.0/24 lookup main suppress_prefixlength 24 proto 122
20000:	from all to 192.0.2.0/24 lookup 10005 proto 122
91000:	from all iif lo lookup 10005 proto 122" "$(our_rules)"

# 3. A squatter on the control name of an address answers "table 255".
cat >"$T_DIR/squat.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
while True:
    data, peer = s.recvfrom(64)
    if peer:
        s.sendto(b"table " + sys.argv[2].encode(), peer)
EOF
t_bg "$H" python3 "$T_DIR/squat.py" "rtalloc/4/up0/192.0.2.8" 255
t_wait 5 t_socket_bound "$H" "rtalloc/4/up0/192.0.2.8"
ip -n "$H" addr add 192.0.2.8/24 dev up0
out=$(ip netns exec "$H" "$RTALLOC" -4 -a 192.0.2.8 -n 24 -i up0 -d "$SOCK" 2>"$T_DIR/err"); rc=$?
# Whether the squatter is asked at all is the transport's business; its
# answer is never printed or used.
t_check "squatter says 255: 255 is not printed ('$out', exit $rc)" test "$out" != 255
t_eq "squatter says 255: no rule looks up 255" "" "$(ip -n "$H" -4 rule show | grep 'lookup 255')"

# 4. The hooks name no table at all: they only hint rtalloc-agent.  With a
# stub rtalloc that answers everything with a forged table (and says an
# agent takes hints), a forged rule naming 255, and a default route and a
# local route to lose, the dhclient and ifupdown hooks up and down change
# nothing in local or main and run rtalloc for hints only.
cat >"$T_DIR/stub" <<'EOF'
#!/bin/sh
echo "$*" >>"${0%/*}/stub.args"
echo 255
EOF
chmod +x "$T_DIR/stub"
ip -n "$H" addr add 192.0.2.9/24 dev up0
ip -n "$H" rule add from 192.0.2.9 lookup 255 pref 10000 protocol 122
LOCAL_MAIN=$(tables)
hook() {	# VAR=VALUE... HOOK: runs a hook in H with the stub
	ip netns exec "$H" env RTALLOC_DEFAULTS=/nonexistent RTALLOC_HOOK_IFACES=up0 RTALLOC="$T_DIR/stub" \
		RTALLOC_LIBDIR="$TOP/hooks/lib" RTALLOC_DNSMASQ_SERVERS= RTALLOC_WAN_SERVERS= "$@"
}
ifup=(METHOD=static ADDRFAM=inet IFACE=up0 IF_ADDRESS=192.0.2.9/24 IF_GATEWAY=192.0.2.1)
hook MODE=start PHASE=post-up "${ifup[@]}" "$TOP/hooks/ifupdown/rtalloc"
hook MODE=stop PHASE=post-down "${ifup[@]}" "$TOP/hooks/ifupdown/rtalloc"
dh=(interface=up0 new_ip_address=192.0.2.9 new_subnet_mask=255.255.255.0 new_routers=192.0.2.1)
hook reason=BOUND "${dh[@]}" dash -c '. "$0"' "$TOP/hooks/dhclient/rtalloc"
hook reason=RELEASE old_ip_address=192.0.2.9 "${dh[@]}" dash -c '. "$0"' "$TOP/hooks/dhclient/rtalloc"
t_eq "the hooks ran rtalloc for hints only" "" "$(grep -v '^hint ' "$T_DIR/stub.args")"
t_check "the hooks did run it" test -s "$T_DIR/stub.args"
t_eq "after the hooks: local and main keep every route" "" \
	"$(comm -23 <(sort <<<"$LOCAL_MAIN") <(tables | sort))"
t_eq "after the hooks: the forged rule to 255 is as it was" 1 \
	"$(ip -n "$H" rule show pref 10000 | grep -cE 'from 192.0.2.9 lookup (255|local) ')"
t_check "local still has 127.0.0.1" grep -q "^local 127.0.0.1 dev lo" <<<"$(ip -n "$H" route show table local)"
t_check "at the end: ping 127.0.0.1" ping_lo
t_done
