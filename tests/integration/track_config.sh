#!/bin/bash
# rtalloc-track's configuration: each bad key, value, target or interface
# gets one line on stderr naming it, exit status 1, and no rule installed.
. "$(dirname "$0")/../lib.sh"
t_require_root
TRACK=$BUILD/rtalloc-track
[ -x "$TRACK" ] || t_skip "$TRACK not built (make tests)"
t_netns h; H=$T_NS
t_veth "$H" wan1 "$H" wan1p

# bad BODY EXPECTED-SUBSTRING
bad() {
	local out rc
	printf '%s\n' "$1" >"$T_DIR/c.json"
	out=$(t_in "$H" "$TRACK" -c "$T_DIR/c.json" 2>&1); rc=$?
	t_eq "exit 1 for: $1" 1 "$rc"
	t_eq "one line for: $1" 1 "$(printf '%s\n' "$out" | wc -l)"
	t_check "names it ($2): $out" grep -qF -- "$2" <<<"$out"
}
bad '{ "interval": 1, "bogus": 2, "targets": ["192.0.2.1"] }' 'bogus: unknown key'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.300"] } ] }' \
	"uplinks[0].targets[0]: not an IP address (or ADDRESS:PORT, [ADDRESS]:PORT): \"192.0.2.300\""
bad '{ "uplinks": [ { "interface": "wan1", "method": "tcp", "targets": ["192.0.2.1:99999"] } ] }' \
	'uplinks[0].targets[0]: not an IP address'
bad '{ "uplinks": [ { "interface": "wan9", "targets": ["192.0.2.1"] } ] }' \
	'uplinks[0].interface: no such interface: wan9'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1"], "colour": 1 } ] }' \
	'uplinks[0].colour: unknown key'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1"], "method": "dns" } ] }' \
	'uplinks[0].method: must be "icmp", "tcp" or "http", got "dns"'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1"], "weight": 0 } ] }' \
	'uplinks[0].weight: must be 1..256, got 0'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1"], "weight": "fast" } ] }' \
	'uplinks[0].weight: must be an integer, got "fast"'
bad '{ "targets": ["192.0.2.1"], "max_loss": 120 }' 'max_loss: must be 0..100 percent, got 120'
bad '{ "targets": ["192.0.2.1"], "max_loss": 20, "clear_loss": 30 }' 'clear_loss: 30% is above max_loss (20%)'
bad '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1"], "max_rtt": 100, "clear_rtt": 200 } ] }' \
	'uplinks[0].clear_rtt: 200 ms is above max_rtt (100 ms)'
bad '{ "targets": ["192.0.2.1"], "interval": 1, "window": 600 }' \
	'window: 600 s holds more than 256 rounds of interval 1 s'
bad '{ "method": "http", "url": "http://portal.example/generate_204" }' \
	'url: not an IP address (a name is not looked up): "http:\/\/portal.example\/generate_204"'
bad '{ "method": "http", "url": "https://192.0.2.1/" }' 'url: must be http://ADDRESS[:PORT]/PATH'
bad '{ "targets": ["192.0.2.1"], "expect": 999 }' 'expect: must be 100..599'
bad '{ "targets": ["192.0.2.1"], "metered": "yes" }' 'metered: must be true or false, got "yes"'
bad '{ "targets": ["192.0.2.1"], "reset_local": 1 }' 'reset_local: must be true or false, got 1'
bad '{ "targets": ["192.0.2.1"], "forward_from": ["lan7"] }' 'forward_from[0]: no such interface: lan7'
bad '{ "targets": ["192.0.2.1"], "mode": "roundrobin" }' 'mode: must be "failover" or "balance"'
bad '{ "targets": ["192.0.2.1"], "interval": 0 }' 'interval: must be 0.1..3600 seconds, got 0'
bad '{ "targets": ["192.0.2.1"], "interval": 1, "timeout": 2 }' 'timeout: 2 s is longer than interval (1 s)'
bad '{ "targets": ["192.0.2.1"], "down": "3" }' 'down: must be an integer, got "3"'
bad '{ "targets": ["192.0.2.1"], "table": 254 }' "table: 254 is the kernel's"
bad '{ "interval": 1 }' 'targets: needed when no uplinks are listed'
bad '{ "targets": ["192.0.2.1"], ' 'config: not valid JSON'
bad '[1]' 'config: must be a JSON object'
t_eq "no rule was installed" "" "$(ip -n "$H" -4 rule | grep 'proto 122')"

printf '%s\n' '{ "uplinks": [ { "interface": "wan1", "targets": ["192.0.2.1", "192.0.2.2:443"], "k": 2 } ] }' \
	>"$T_DIR/ok.json"
t_check "a good config passes --check" t_in "$H" "$TRACK" --check -c "$T_DIR/ok.json"
printf '%s\n' '{ "max_loss": 20, "max_rtt": 500, "window": 30, "reset_local": true, "mode": "balance",
  "uplinks": [ { "interface": "wan1", "weight": "auto", "metered": true, "method": "http",
                 "url": "http://192.0.2.1:8080/generate_204", "host": "example.net", "expect": 204,
                 "clear_loss": 5, "clear_rtt": 300 } ] }' >"$T_DIR/ok2.json"
t_check "quality, auto weight, metered and an HTTP probe pass --check" \
	t_in "$H" "$TRACK" --check -c "$T_DIR/ok2.json"
t_check "the example config parses (its interfaces aside)" \
	eval 't_in "$H" "$TRACK" --check -c "$TOP/etc/track.json" 2>&1 | grep -q "uplinks\[1\].interface: no such interface: lte0"'
t_done
