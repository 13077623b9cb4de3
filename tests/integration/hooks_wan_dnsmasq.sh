#!/bin/bash
# The WAN-only resolver fed by the hooks, end to end: up2 is the WAN uplink
# (RTALLOC_WAN_IFACES), up1 is not.  rtalloc-wan-dnsmasq (dnsmasq as nobody
# under packetmark, `fwmark MARK unreachable` behind the WAN rule) starts on
# an empty WAN servers-file and refuses queries; real dhclients get both
# leases through the dhclient hook, which writes up2's server into the WAN
# file and sends SIGHUP through the pid file.  A query to 127.0.0.1:54 is
# then answered by ISP2's resolver, which sees it from up2's address (ISP2
# drops anything else: strict rp_filter, no route to ISP1's networks), and
# ISP1's resolver sees nothing of it.  When up2's lease is released the line
# goes, and the WAN resolver refuses again instead of asking anyone else.
# Its unreachable rule (`rtalloc unreachable`) is there once per family,
# stays when rtalloc-agent stops and goes with `rtalloc-wan-dnsmasq stop`.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
PM=$BUILD/packetmark
WAN=$TOP/hooks/wan-dnsmasq/rtalloc-wan-dnsmasq
for f in "$PM" "$BUILD/libpacketmark.so"; do [ -x "$f" ] || t_skip "$f not built"; done
id -u nobody >/dev/null 2>&1 || t_skip "no user nobody"
hk_start dhclient dnsmasq dig setpriv
hk_agent || exit 1
AGENT=$T_LAST_PID
MARK=0x1000
WAN_SERVERS=$T_DIR/run/wan-servers.conf WAN_PID=$T_DIR/run/wan-dnsmasq.pid
cat >>"$HK_DEFAULTS" <<EOF
RTALLOC_WAN_IFACES=up2
RTALLOC_WAN_MARK=$MARK
RTALLOC_PACKETMARK=$PM
RTALLOC_WAN_DNSMASQ_ARGS="--log-queries --log-facility=-"
EOF
# dnsmasq runs as nobody and reads the hooks' file, as in /run/rtalloc.
chmod 711 "$T_DIR"
chmod 755 "$T_DIR/run"

t_on_exit "ip netns exec '$HK_H' env RTALLOC_DEFAULTS='$HK_DEFAULTS' '$WAN' stop"
# shellcheck disable=SC2016
t_bg "$HK_H" env RTALLOC_DEFAULTS="$HK_DEFAULTS" sh -c 'exec "$0" run 2>"$1"' "$WAN" "$T_DIR/wan.log"
WAN_DNSMASQ=$T_LAST_PID
listening() { ip netns exec "$HK_H" ss -Hlun 'sport = :54' | grep -q 127.0.0.1; }
t_check "the WAN resolver listens on 127.0.0.1:54" t_wait 5 listening
# Its `fwmark MARK unreachable` (pref 9001), made by `rtalloc unreachable`,
# once in each family and without protocol 122 (no program of rtalloc's
# owns it); a second add (a run after a crash) leaves one.
wan_rules() { ip -n "$HK_H" "$1" rule show pref 9001 | grep -cE "^9001:\s+from all fwmark $MARK unreachable\s*\$"; }
t_eq "the unreachable rule: once in IPv4 and IPv6" "1 1" "$(wan_rules -4) $(wan_rules -6)"
t_check "a second add (a run after a crash)" t_in "$HK_H" "$RTALLOC" unreachable add --fwmark "$MARK" --pref 9001
t_eq "the unreachable rule: still once in each family" "1 1" "$(wan_rules -4) $(wan_rules -6)"
wan_dig() { ip netns exec "$HK_H" dig +time=2 +tries=1 -p 54 @127.0.0.1 whoami.test 2>&1; }
refused() { wan_dig | grep -q 'status: REFUSED'; }
t_check "no WAN servers yet: refused" refused

t_check "dhclient up1 gets a lease" hk_dhclient up1
t_check "dhclient up2 (WAN) gets a lease" hk_dhclient up2
a1=$(hk_addr up1) a2=$(hk_addr up2) t2=$(hk_wait_table "$(hk_addr up2)")
echo "# up1 $a1, up2 $a2 table $t2"
t_eq "WAN servers-file: up2's resolver, bound to up2 and its address" \
	"server=10.202.0.53@up2@$a2" "$(cat "$WAN_SERVERS")"
t_check "the hook's SIGHUP made dnsmasq read it" \
	t_wait 5 grep -q "using nameserver 10.202.0.53#53" "$T_DIR/wan.log"
t_check "the WAN uplink's table is what the mark looks up" \
	grep -q "^9000:.*fwmark $MARK lookup $t2 " <(ip -n "$HK_H" rule show)
t_eq "the WAN resolver answers from ISP2's resolver" 10.202.0.53 \
	"$(ip netns exec "$HK_H" dig +short +time=2 +tries=1 -p 54 @127.0.0.1 whoami.test)"
t_check "ISP2's resolver saw the query from up2's address" \
	t_wait 3 grep -q "query\[A\] whoami.test from $a2\$" "$T_DIR/dns2.log"
t_eq "ISP1's resolver saw nothing" "" "$(cat "$T_DIR/dns1.log" 2>/dev/null | grep 'query\[')"

# The lease goes: the line goes, and the WAN resolver asks nobody.
n2=$(grep -c 'query\[' "$T_DIR/dns2.log")
t_check "dhclient -r up2" hk_run timeout 30 dhclient -r -v -sf /sbin/dhclient-script \
	-cf /etc/dhcp/dhclient.conf -lf "$T_DIR/dhclient.up2.leases" -pf "$T_DIR/dhclient.up2.pid" up2
t_eq "WAN servers-file is empty" "" "$(cat "$WAN_SERVERS")"
t_check "no WAN server: refused (the hook's SIGHUP made dnsmasq re-read the file)" t_wait 5 refused
t_eq "ISP2's resolver got no further query" "$n2" "$(grep -c 'query\[' "$T_DIR/dns2.log")"
t_eq "ISP1's resolver still saw nothing" "" "$(cat "$T_DIR/dns1.log" 2>/dev/null | grep 'query\[')"
t_check "the WAN resolver still runs" kill -0 "$WAN_DNSMASQ"

# The rule is the resolver's: rtalloc-agent's stop leaves it; the
# resolver's stop (ExecStopPost) removes it from both families.
kill "$AGENT"; wait "$AGENT" 2>/dev/null
t_eq "rtalloc-agent stopped: the unreachable rule stays" "1 1" "$(wan_rules -4) $(wan_rules -6)"
t_check "rtalloc-wan-dnsmasq stop" ip netns exec "$HK_H" env RTALLOC_DEFAULTS="$HK_DEFAULTS" "$WAN" stop
t_eq "stopped: no unreachable rule in either family" "0 0" "$(wan_rules -4) $(wan_rules -6)"
t_done
