#!/bin/bash
# Marked sockets reach an uplink the routing tables would not pick.
#
#   resolver A 10.0.10.53 ── ISP A ── a0 10.0.1.2 ┐
#                                                  host   main: default via ISP A
#   resolver B 10.0.20.53 ── ISP B ── b0 10.0.2.2 ┘       table 10000: ISP B
#                        (strict rp_filter)
#
# Resolver B is reachable only through uplink B and only from B's address.
# Unmarked, dig @B fails (it leaves through A); under `packetmark MARK` with
# the `fwmark MARK lookup TABLE` rule of `rtalloc --fwmark MARK` for B's
# address it gets through from 10.0.2.2.  Then the WAN-only
# resolver (hooks/wan-dnsmasq, all paths in the test's directory) answers on
# 127.0.0.1:54 from resolver B while ordinary lookups get resolver A's answer,
# picks up new servers on SIGHUP through its pid file, and fails rather than
# falling back to uplink A when the WAN table loses its route.
. "$(dirname "$0")/../lib.sh"
t_require_root
PM=$BUILD/packetmark
WAN=$TOP/hooks/wan-dnsmasq/rtalloc-wan-dnsmasq
for f in "$PM" "$BUILD/libpacketmark.so"; do [ -x "$f" ] || t_skip "$f not built (make tests)"; done
MARK=0x1000

t_netns h; H=$T_NS
t_netns ia; IA=$T_NS
t_netns ib; IB=$T_NS
t_netns ra; RA=$T_NS
t_netns rb; RB=$T_NS
t_veth "$H" a0 "$IA" h0
t_veth "$H" b0 "$IB" h0
t_veth "$IA" r0 "$RA" eth0
t_veth "$IB" r0 "$RB" eth0
ip -n "$H" addr add 10.0.1.2/24 dev a0
ip -n "$H" addr add 10.0.2.2/24 dev b0
ip -n "$IA" addr add 10.0.1.1/24 dev h0
ip -n "$IB" addr add 10.0.2.1/24 dev h0
ip -n "$IA" addr add 10.0.10.1/24 dev r0
ip -n "$IB" addr add 10.0.20.1/24 dev r0
ip -n "$RA" addr add 10.0.10.53/24 dev eth0
ip -n "$RB" addr add 10.0.20.53/24 dev eth0
ip -n "$RA" route add default via 10.0.10.1
ip -n "$RB" route add default via 10.0.20.1
for ns in "$IA" "$IB"; do t_in "$ns" sysctl -qw net.ipv4.ip_forward=1; done
# ISP B drops what does not come from its customer's subnet (BCP 38).
t_in "$IB" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.h0.rp_filter=1
ip -n "$H" route add default via 10.0.1.1 dev a0

# Uplink B's table from rtallocd, its rules from `rtalloc --fwmark MARK`
# (pref 10000, 20000, 91000 and the fwmark rule at its default pref 9000);
# the routes in it as the hooks add them.
t_server "$H" || exit 1
TABLE=$(ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" -4 -a 10.0.2.2 -n 24 -i b0 --fwmark "$MARK")
t_check "rtalloc leased a table for uplink B ($TABLE)" test "${TABLE:-0}" -gt 0
t_check "rtalloc installed the fwmark rule" \
	grep -q "^9000:.*fwmark $MARK lookup $TABLE proto 122" <<<"$(ip -n "$H" -4 rule)"
ip -n "$H" route add 10.0.2.0/24 dev b0 src 10.0.2.2 table "$TABLE"
ip -n "$H" route add default via 10.0.2.1 dev b0 src 10.0.2.2 table "$TABLE"

ra_log=$T_DIR/ra.log rb_log=$T_DIR/rb.log
t_bg "$RA" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.0.10.53 --pid-file= --log-queries --log-facility="$ra_log" \
	--address=/wan.test/198.51.100.1 --address=/mesh.test/198.51.100.2
t_bg "$RB" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.0.20.53 --pid-file= --log-queries --log-facility="$rb_log" \
	--address=/wan.test/192.0.2.53
dig_in() { t_in "$H" "$@" +short +time=1 +tries=2; }
t_wait 5 t_in "$RB" dig +short +time=1 @10.0.20.53 wan.test >/dev/null || t_fail "resolver B did not start"
t_wait 5 dig_in dig @10.0.10.53 mesh.test >/dev/null || t_fail "resolver A not reachable from the host"

# What the kernel decides.
rg() { ip -n "$H" route get "$@" 2>&1 | head -n 1; }
t_check "unmarked to resolver B: main, uplink A" grep -q 'via 10.0.1.1 dev a0' <<<"$(rg 10.0.20.53)"
t_check "marked to resolver B: table $TABLE, uplink B, B's address" \
	grep -q "via 10.0.2.1 dev b0 table $TABLE src 10.0.2.2" <<<"$(rg 10.0.20.53 mark "$MARK")"

# ISP B really checks sources: out b0 with A's address gets nowhere.
ip -n "$H" route add 10.0.20.53/32 via 10.0.2.1 dev b0
out=$(dig_in dig -b 10.0.1.2 @10.0.20.53 wan.test 2>&1)
t_check "ISP B drops a wrong source address (rp_filter)" grep -q 'timed out\|no servers' <<<"$out"
ip -n "$H" route del 10.0.20.53/32 via 10.0.2.1 dev b0

out=$(dig_in dig @10.0.20.53 wan.test 2>&1)
t_check "unmarked: resolver B unreachable" grep -q 'no servers could be reached\|timed out\|unreachable' <<<"$out"
t_eq "marked: resolver B answers" 192.0.2.53 "$(dig_in "$PM" "$MARK" -- dig @10.0.20.53 wan.test)"
t_check "marked: resolver B saw B's address" grep -q 'query\[A\] wan.test from 10.0.2.2' "$rb_log"
t_check "resolver B never saw A's address" bash -c "! grep -q 'from 10.0.1.2' '$rb_log'"

# The WAN-only resolver.  dnsmasq runs as nobody: the servers file must be
# readable for it, as it is in /run/rtalloc.
chmod 711 "$T_DIR"
servers=$T_DIR/wan/servers.conf pidfile=$T_DIR/wan/dnsmasq.pid
mkdir -m 755 "$T_DIR/wan"
: >"$servers"; chmod 644 "$servers"
cat >"$T_DIR/defaults" <<EOC
RTALLOC_WAN_MARK=$MARK
RTALLOC_WAN_SERVERS=$servers
RTALLOC_WAN_PIDFILE=$pidfile
RTALLOC_PACKETMARK=$PM
RTALLOC=$RTALLOC
RTALLOC_WAN_DNSMASQ_ARGS="--log-queries --log-facility=-"
EOC
export RTALLOC_DEFAULTS=$T_DIR/defaults
t_on_exit "ip netns exec '$H' '$WAN' stop"
# shellcheck disable=SC2016
t_bg "$H" sh -c 'exec "$0" run 2>"$1"' "$WAN" "$T_DIR/wan.log"
WAN_PID=$T_LAST_PID
t_wait 5 test -s "$pidfile" || t_fail "no pid file"
t_wait 5 t_in "$H" sh -c "ss -Hlun 'sport = :54' | grep -q 127.0.0.1" ||
	t_fail "WAN resolver not listening on 127.0.0.1:54"
t_eq "pid file names the running dnsmasq" "$WAN_PID dnsmasq" \
	"$(cat "$pidfile") $(cat "/proc/$(cat "$pidfile")/comm" 2>&1)"
t_eq "dnsmasq runs as nobody" nobody "$(ps -o user= -p "$WAN_PID")"
t_check "dnsmasq runs in packetmark's cgroup (root's packetmark)" \
	grep -q "^0::.*/packetmark-$WAN_PID\$" "/proc/$WAN_PID/cgroup"
t_check "unreachable rule for the mark (IPv4)" grep -q "^9001:.*fwmark $MARK unreachable" <<<"$(ip -n "$H" -4 rule)"
t_check "unreachable rule for the mark (IPv6)" grep -q "^9001:.*fwmark $MARK unreachable" <<<"$(ip -n "$H" -6 rule)"

# No servers learned yet: it refuses rather than guessing.
out=$(t_in "$H" dig +time=1 +tries=1 -p 54 @127.0.0.1 wan.test 2>&1)
t_check "no WAN servers yet: query refused" grep -q 'status: REFUSED' <<<"$out"
# The hooks write the file and send SIGHUP through the pid file.
echo "server=10.0.20.53" >"$servers"
kill -HUP "$(cat "$pidfile")"
t_wait 5 grep -q 'using nameserver 10.0.20.53' "$T_DIR/wan.log" || t_fail "SIGHUP did not load the servers file"
t_eq "WAN resolver answers from resolver B" 192.0.2.53 "$(dig_in dig -p 54 @127.0.0.1 wan.test)"
t_eq "ordinary lookups use resolver A" 198.51.100.1 "$(dig_in dig @10.0.10.53 wan.test)"
t_check "resolver B saw the WAN resolver from B's address" \
	test "$(grep -c 'query\[A\] wan.test from 10.0.2.2' "$rb_log")" -ge 2
t_check "no libpacketmark complaint (dnsmasq keeps CAP_NET_ADMIN)" bash -c "! grep -q libpacketmark '$T_DIR/wan.log'"

# The WAN table loses its default (uplink B down): marked traffic must fail,
# not fall through to main and leave through uplink A.
ip -n "$H" route del default via 10.0.2.1 dev b0 table "$TABLE"
t_check "marked, WAN route gone: unreachable, not uplink A" \
	grep -qi 'unreachable' <<<"$(rg 10.0.10.53 mark "$MARK")"
out=$(t_in "$H" "$PM" "$MARK" dig +time=1 +tries=1 @10.0.10.53 mesh.test 2>&1)
t_check "marked, WAN route gone: resolver A not reached via uplink A" grep -q 'unreachable' <<<"$out"
t_eq "unmarked lookups still work" 198.51.100.2 "$(dig_in dig @10.0.10.53 mesh.test)"

# stop removes the rules and the pid file.
kill "$WAN_PID"; wait "$WAN_PID" 2>/dev/null
t_in "$H" "$WAN" stop
t_eq "stop removes the unreachable rules" "" "$( (ip -n "$H" -4 rule; ip -n "$H" -6 rule) | grep '^9001:')"
t_check "stop removes the pid file" test ! -e "$pidfile"

# Bad settings are refused before any rule is added, naming the setting.
echo "RTALLOC_WAN_MARK=1abc" >>"$T_DIR/defaults"
out=$(t_in "$H" "$WAN" run 2>&1); rc=$?
t_eq "bad RTALLOC_WAN_MARK: exit 1" 1 "$rc"
t_check "bad RTALLOC_WAN_MARK: named" grep -q 'RTALLOC_WAN_MARK=1abc' <<<"$out"
t_eq "bad RTALLOC_WAN_MARK: no rule added" "" "$(ip -n "$H" -4 rule | grep '^9001:')"
t_done
