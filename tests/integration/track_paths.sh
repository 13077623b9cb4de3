#!/bin/bash
# rtalloc-track's probes test the path the uplink's traffic takes
# (tests/track-topology.sh):
#  - probes leave through the uplink's own table with its source address,
#    not bound to its device: when up1's table loses its default route (ISP 1
#    answers ARP for anything, so a device-bound probe still got through "on
#    link"), up1 is not online and unbound traffic moves to up2;
#  - an HTTP probe (method "http", a URL with an IP literal, expect 204)
#    whose answer is a captive portal's 302 (ISP 1 redirects port 8080 to
#    its own server) makes up1 `portal`, and a portal carries no unbound
#    traffic; without the portal up1 is online again.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
t_in "$TK_I1" sysctl -qw net.ipv4.conf.h0.proxy_arp=1

# http_server NS ADDRESS PORT STATUS: answers every GET with STATUS.
http_server() {
	t_bg "$1" "$PY" -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(sys.argv[3]))
        if sys.argv[3] == "302": self.send_header("Location", "http://10.1.0.1:8081/login")
        self.send_header("Content-Length", "0")
        self.end_headers()
        open(sys.argv[4], "a").write("%s %s\n" % (self.headers.get("Host"), self.path))
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()' "$2" "$3" "$4" "$T_DIR/http-$4.log"
}
http_server "$TK_F" 198.51.100.1 8080 204
http_server "$TK_I1" 10.1.0.1 8081 302

tk_start '"interval": 0.3, "timeout": 0.25, "down": 2, "up": 2,
  "uplinks": [ { "interface": "up1", "priority": 1, "method": "http",
                 "url": "http://198.51.100.1:8080/generate_204", "host": "check.example" },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1"] } ]'
t_check "both online (up1 by HTTP 204)" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_check "the far host saw the probe's Host and path" grep -q "^check.example /generate_204$" "$T_DIR/http-204.log"
t_eq "unbound traffic on up1" 10001 "$(tk_rule)"

# Path: up1's table loses its default route.
ip -n "$TK_H" route del default table 10001
t_check "with ISP 1's proxy ARP a device-bound ping still gets through" \
	tk_ping "$TK_H" 198.51.100.1 -I up1
t_check "up1's table has no default route: up1 offline" t_wait 10 tk_is up1 offline
t_check "logged as such" grep -q "up1: offline .*; its table has no default route" "$TK_LOG"
t_check "unbound traffic moves to up2" t_wait 3 tk_rule_is 10002
ip -n "$TK_H" route add default via 10.1.0.1 dev up1 table 10001
t_check "default route back: up1 online, unbound traffic back" \
	t_wait 10 eval 'tk_is up1 online && tk_rule_is 10001'

# Portal: ISP 1 sends port 8080 to its own server, which answers 302.
t_in "$TK_I1" nft -f - <<'EON'
table ip portal {
	chain pre { type nat hook prerouting priority -100; iifname "h0" tcp dport 8080 dnat to 10.1.0.1:8081; }
}
EON
t_check "ISP 1's portal answers 302: up1 is portal" t_wait 10 tk_is up1 portal
t_check "one log line" grep -q "up1: portal (" "$TK_LOG"
t_check "the portal saw the probe" test -s "$T_DIR/http-302.log"
t_check "a portal carries no unbound traffic (up2 does)" t_wait 3 tk_rule_is 10002
t_eq "unbound TCP leaves by up2" 10.2.0.2 "$(tk_src)"
sleep 2
t_eq "it stays portal while the portal answers" portal "$(tk_state up1)"
t_in "$TK_I1" nft delete table ip portal
t_check "portal gone: up1 online and carrying unbound traffic again" \
	t_wait 10 eval 'tk_is up1 online && tk_rule_is 10001'
t_done
