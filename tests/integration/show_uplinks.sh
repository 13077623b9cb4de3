#!/bin/bash
# rtalloc show: two uplinks of rtalloc-agent (up1, up2; the ISPs drop
# sources they did not assign) with rtalloc-track probing them: human and
# --json output list both with their addresses and tables, gateways, routes,
# DNS servers, health and which carries unbound traffic; exit 0.  A route
# deleted from up2's table (the agent stopped, so it cannot restore it) is
# named, up2's state is "differs" and the exit status 6, up1 alone still 0.
# --status --json: no free text in "differences" while consistent.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
up_start
T1=$(up_table 10.1.0.2) T2=$(up_table 10.2.0.2) T16=$(up_table 2001:db8:1::2)
tk_start '"interval": 0.3, "timeout": 0.3, "down": 2, "up": 2, "targets": ["198.51.100.1"]'
export RTALLOC_TRACK_STATE=$TK_STATE
t_check "track: both online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
printf 'server=10.1.0.53@up1@10.1.0.2\nserver=10.2.0.53@up2@10.2.0.2\nserver=2001:db8:2::53@up2\n' \
	>"$T_DIR/servers.conf"
export RTALLOC_DNSMASQ_SERVERS=$T_DIR/servers.conf

out=$(up_show); rc=$?
echo "$out" | sed 's/^/    /'
t_eq "show: exit 0" 0 "$rc"
t_check "show: no colour when not on a tty" eval '! grep -q $'"'"'\033'"'"' <<<"$out"'
t_check "show: up1 up, configured" grep -q "^● up1 (up, configured)" <<<"$out"
t_check "show: up2 up, configured" grep -q "^● up2 (up, configured)" <<<"$out"
t_check "show: up1's address and table" grep -Eq "Addresses: 10.1.0.2/24 +table $T1\$" <<<"$out"
t_check "show: up1's IPv6 address and table" grep -Eq "^ +2001:db8:1::2/64 +table $T16\$" <<<"$out"
t_check "show: gateways" grep -Eq "Gateways: (10.1.0.1|2001:db8:1::1)\$" <<<"$out"
t_check "show: up2's DNS servers" grep -A1 -E "DNS: 10.2.0.53\$" <<<"$out"
t_check "show: health online" grep -Eq "Health: online since .* loss 0.0%" <<<"$out"
t_check "show: up1 carries unbound IPv4 traffic" grep -Eq "Unbound: inet\$" <<<"$out"
t_check "show: the leases" grep -Eq "^Leases: 4 used, 98 inet and 98 inet6 tables free\$" <<<"$out"

json=$(up_show --json); rc=$?
t_eq "show --json: exit 0" 0 "$rc"
t_check "show --json: both uplinks, typed ($json)" python3 -c '
import json, sys
t1, t2, t16 = (int(x) for x in sys.argv[1:4])
s = json.loads(sys.stdin.read())
u = {x["interface"]: x for x in s["uplinks"]}
assert sorted(u) == ["up1", "up2"], u
a = u["up1"]
assert a["link"] == "up" and a["state"] == "configured", a
assert {"family": "inet", "address": "10.1.0.2", "prefixlen": 24, "table": t1} in a["addresses"], a
assert {"family": "inet6", "address": "2001:db8:1::2", "prefixlen": 64, "table": t16} in a["addresses"], a
assert {"family": "inet", "address": "10.2.0.2", "prefixlen": 24, "table": t2} in u["up2"]["addresses"]
assert "10.1.0.1" in a["gateways"] and "2001:db8:1::1" in a["gateways"], a
assert a["routes"]["count"] >= 4 and a["routes"]["missing"] == [], a
assert u["up2"]["dns"] == ["10.2.0.53", "2001:db8:2::53"], u["up2"]
assert a["health"]["state"] == "online" and isinstance(a["health"]["since"], int), a
assert isinstance(a["health"]["loss"], float) and isinstance(a["health"]["rtt_ms"], float), a
assert a["unbound"] == {"inet": True, "inet6": False}, a
assert u["up2"]["unbound"]["inet"] is False
assert a["bindings"] == [] and a["mptcp"] == [], a
assert a["exec"] == [], a  # the agent answered: no exec user
assert s["leases"] == {"used": 4, "free": {"inet": 98, "inet6": 98}}, s["leases"]
assert s["consistent"] is True
' "$T1" "$T2" "$T16" <<<"$json"
t_check "show --json: loss and rtt_ms rounded as shown (0.1 %, 0.001 ms), no float noise" python3 -c '
import re, sys
j = sys.stdin.read()
l = re.findall(r"\"loss\": *([-0-9.e]+)", j); r = re.findall(r"\"rtt_ms\": *([-0-9.e]+)", j)
assert len(l) == 2 and len(r) == 2, (l, r)
assert all(re.fullmatch(r"[0-9]+\.[0-9]", x) for x in l), l
assert all(re.fullmatch(r"[0-9]+\.[0-9]{3}", x) for x in r), r' <<<"$json"
# On a tty (script(1)): colour unless NO_COLOR is set and not empty (no-color.org).
tty_show() { script -qec "ip netns exec $H $RTALLOC show -d $T_SOCK -c $UP_CONF" /dev/null </dev/null; }
esc=$'\033['
out=$(unset NO_COLOR; tty_show)
t_check "show on a tty, NO_COLOR unset: colour" grep -qF "$esc" <<<"$out"
out=$(NO_COLOR= tty_show)
t_check "show on a tty, NO_COLOR empty: colour still" grep -qF "$esc" <<<"$out"
out=$(NO_COLOR=1 tty_show)
t_check "show on a tty, NO_COLOR=1: no colour" eval '! grep -qF "$esc" <<<"$out"'
t_check "show on a tty, NO_COLOR=1: the output still" grep -q "up1 (up, configured)" <<<"$out"
t_check "show up2 --json: only up2" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert [u["interface"] for u in s["uplinks"]] == ["up2"], s' <<<"$(up_show up2 --json)"
out=$(up_show nosuch 2>&1); rc=$?
t_eq "show nosuch: exit 64 (usage)" 64 "$rc"
t_check "show nosuch: one line naming it" grep -qx "rtalloc: show: \`nosuch' is no uplink of rtalloc-agent" <<<"$out"
t_check "--status --json: consistent, no free text in differences" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["consistent"] is True and s["differences"] == [], s' \
	<<<"$(t_in "$H" "$RTALLOC" -d "$T_SOCK" --status --json)"

kill -STOP "$UP_AGENT_PID"
ip -n "$H" route del default table "$T2"
out=$(up_show); rc=$?
echo "$out" | sed 's/^/    /'
t_eq "show, a route missing: exit 6" 6 "$rc"
t_check "show: up2 differs" grep -q "^● up2 (up, differs)" <<<"$out"
t_check "show: the missing route named" grep -Eq "Missing: default via 10.2.0.1 .* table $T2\$" <<<"$out"
t_check "show --json: up2 differs, the route named" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
u = {x["interface"]: x for x in s["uplinks"]}
assert u["up2"]["state"] == "differs" and u["up1"]["state"] == "configured", u
m = u["up2"]["routes"]["missing"]
assert len(m) == 1 and m[0]["table"] == int(sys.argv[1]) and m[0]["route"].startswith("default via 10.2.0.1"), m
assert s["consistent"] is False
assert u["up1"]["exec"] is None and u["up2"]["exec"] is None, u  # the agent (stopped) did not tell' "$T2" <<<"$(up_show --json)"
t_check "show, the agent not answering: Exec unknown, not none" grep -Eq "^ +Exec: \? \(the agent did not tell\)$" <<<"$(up_show up1)"
up_show up1 >/dev/null; rc=$?
t_eq "show up1: still as rtalloc wants it, exit 0" 0 "$rc"
t_check "--status --json: the difference listed, not consistent" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["consistent"] is False and len(s["differences"]) == 1, s
assert s["differences"][0].startswith("missing route: inet 10.2.0.2 on up2"), s' \
	<<<"$(t_in "$H" "$RTALLOC" -d "$T_SOCK" --status --json)"
kill -CONT "$UP_AGENT_PID"
t_done
