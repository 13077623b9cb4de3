#!/bin/bash
# rtalloc-agent's configuration: an unknown key, a bad glob or a bad value
# (an fwmark inside rtallocd's mark_mask too) is one line naming it and exit
# 1, with nothing installed; SIGHUP reloads
# (a bad reload keeps the running configuration) without touching the
# uplinks whose settings did not change.
. "$(dirname "$0")/../lib.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent
t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" wan1 "$ISP" isp1
t_server "$H" || exit 1
CONF=$T_DIR/agent.json

# bad BODY WANT: the agent refuses the config with exactly the line WANT.
bad() {
	local out rc
	printf '%s\n' "$1" >"$CONF"
	out=$(t_in "$H" timeout 5 "$AGENT" -c "$CONF" 2>&1); rc=$?
	t_eq "refused: $1" "1|rtalloc-agent: error: $2" "$rc|$out"
}
bad '{ "interfaces": ["wan*"], "colour": "blue" }' 'colour: unknown key'
bad '{ "interfaces": ["wan["] }' "interfaces[0]: bad glob or interface name: \`wan['"
bad '{ "interfaces": ["wan*"], "exclude": ["a b"] }' "exclude[0]: bad glob or interface name: \`a b'"
bad '{ "interfaces": "wan0" }' 'interfaces: must be an array of interface names or globs, got "wan0"'
bad '{ "socket_path": "x" }' 'interfaces: missing: name the uplinks to manage, e.g. ["wan*"], or [] for those hooks announce'
bad '{ "interfaces": ["wan*"], "families": ["ipx"] }' 'families[0]: must be "inet" or "inet6", got "ipx"'
bad '{ "interfaces": ["wan*"], "fwmark": { "wan0": "0x100/0" } }' 'fwmark.wan0: mask 0 would match every packet: `0x100/0'"'"
bad "{ \"socket_path\": \"$T_SOCK\", \"interfaces\": [\"wan*\"], \"fwmark\": { \"wan0\": \"0x100\", \"wan1\": \"0x20000000/0xf0000000\" } }" \
	"fwmark.wan1: 0x20000000/0xf0000000 overlaps rtallocd's mark_mask 0xf0000000 (the marks it leases to exec users and bindings): choose a mark outside it"
bad '{ "interfaces": ["wan*"], "forward_from": ["lan/0"] }' "forward_from[0]: not an interface name: \`lan/0'"
bad '{ "interfaces": ["wan*"] ' 'config: not valid JSON: unexpected end of data at offset 26'
out=$(t_in "$H" "$AGENT" 2>&1); rc=$?
t_eq "no -c: exit 64" 64 "$rc"
t_eq "nothing was installed by a refused start" "" "$(ip -n "$H" rule | grep 'proto 122')"

ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" addr add 198.51.100.7/24 dev wan1
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "families": ["inet"] }
EOC
t_bg_ready rtalloc-agent "$H" "$AGENT" -c "$CONF" 2>"$T_DIR/agent.log" || exit 1
PID=$T_LAST_PID
t_eq "both uplinks managed" 2 "$(ip -n "$H" rule | grep -c 'from [0-9].* proto 122')"

t_in "$H" ip monitor rule >"$T_DIR/monitor" 2>&1 &
MON=$!
sleep 0.2
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "families": ["inet"], "fwmark": { "wan1": "0x100/0xff00" } }
EOC
kill -HUP "$PID"
has_mark() { ip -n "$H" rule | grep -q 'fwmark 0x100/0xff00 lookup .* proto 122'; }
t_check "reload: wan1 gets its fwmark rule" t_wait 2 has_mark
echo '{ "interfaces": ["wan*"], "bogus": 1 }' >"$CONF"
kill -HUP "$PID"
sleep 0.5
t_check "a bad reload keeps the agent running" kill -0 "$PID"
t_check "and the running configuration" has_mark
# An fwmark value inside rtallocd's leased-mark pool (mark_mask, default
# 0xf0000000): refused in one line, the running configuration kept.
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "families": ["inet"], "fwmark": { "wan1": "0x100/0xff00", "wan0": "0x30000000/0xf0000000" } }
EOC
kill -HUP "$PID"
t_check "reload: an fwmark in mark_mask is refused, naming it" t_wait 2 grep -qx \
	"rtalloc-agent: error: reload: fwmark.wan0: 0x30000000/0xf0000000 overlaps rtallocd's mark_mask 0xf0000000 (the marks it leases to exec users and bindings): choose a mark outside it (keeping the running configuration)" \
	"$T_DIR/agent.log"
t_check "and the running configuration is kept" has_mark
t_eq "no rule for the refused mark" "" "$(ip -n "$H" rule | grep 'fwmark 0x30000000')"
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan*"], "exclude": ["wan1"], "families": ["inet"] }
EOC
kill -HUP "$PID"
t_check "reload with wan1 excluded: its rules go" \
	t_wait 2 bash -c "! ip -n $H rule | grep -q 'from 198.51.100.7'"
sleep 0.3
kill "$MON"; wait "$MON" 2>/dev/null
t_eq "wan0's rules were never touched by the reloads" "" "$(grep -i 'from 192.0.2.7\|to 192.0.2.0' "$T_DIR/monitor")"
kill "$PID"; wait "$PID"
t_eq "SIGTERM: exit status 0" 0 "$?"
t_eq "SIGTERM: no rule of the agent is left" "" "$(ip -n "$H" rule | grep 'proto 122')"
t_eq "SIGTERM: no route of the agent is left" "" "$(ip -n "$H" route show table all | grep 'proto 122')"
t_eq "SIGTERM: its leases are released" 0 "$(t_rows "SELECT count(*) FROM leases WHERE alive=1")"
t_done
