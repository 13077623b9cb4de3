#!/bin/bash
# rtalloc-track in failover mode, with real traffic (tests/track-topology.sh):
# unbound traffic leaves by the priority uplink; when that ISP's upstream dies
# (its link and gateway stay up) it moves to the other uplink after `down`
# rounds while traffic bound to the dead uplink's address keeps its own
# table; it comes back after `up` rounds; with both upstreams dead it stays
# on the priority uplink and recovers by itself when one comes back; a state
# change is one log line and runs the hooks; on SIGTERM its rules go and
# rtalloc's stay.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
tk_topology

t_eq "without rtalloc-track unbound traffic leaves by up2 (its 91000 rule came first)" \
	10.2.0.2 "$(tk_src)"

mkdir -p "$T_DIR/hooks"
cat >"$T_DIR/hooks/10-log" <<EOF2
#!/bin/sh
echo "\$RTALLOC_UPLINK \$RTALLOC_STATE \$RTALLOC_ADDRESS \$RTALLOC_TABLE" >>"$T_DIR/hook.log"
EOF2
chmod +x "$T_DIR/hooks/10-log"
CONF='"interval": 0.3, "timeout": 0.2, "down": 3, "up": 3,
  "uplinks": [ { "interface": "up1", "priority": 1, "targets": ["198.51.100.1", "198.51.100.3"] },
               { "interface": "up2", "priority": 2, "targets": ["198.51.100.1", "198.51.100.2"] } ]'
tk_start "$CONF"

t_eq "from the start unbound traffic uses up1's table (30001 iif lo lookup 10001)" 10001 "$(tk_rule)"
t_check "main's more specific routes stay in use (30000 lookup main suppress_prefixlength 0)" \
	grep -q "^30000:.*lookup main suppress_prefixlength 0 proto 122" <<<"$(ip -n "$TK_H" -4 rule)"
t_eq "unbound TCP leaves by up1" 10.1.0.2 "$(tk_src)"
ip -n "$TK_H" route add 198.51.100.77/32 via 10.2.0.1 dev up2
t_eq "a more specific route in main still wins (to .77 by up2)" 10.2.0.2 "$(tk_src 198.51.100.77)"
ip -n "$TK_H" route del 198.51.100.77/32 via 10.2.0.1 dev up2
t_check "unbound ping gets through" tk_ping "$TK_H" 198.51.100.1
t_check "both uplinks come online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'

# 20% random loss towards the far host on ISP 1, for 40 rounds: with two
# targets and a second echo to a silent one, no state change.
n0=$(wc -l <"$TK_LOG")
tk_cut 20 1 ip daddr 198.51.100.0/24
t_check "the loss is real" eval 't_in "$TK_I1" nft list chain inet tk cut | grep -q "numgen random mod 100 < 20"'
sleep 12
t_check "the probes saw the loss (up1's loss over the last rounds > 0)" python3 -c '
import json, sys
u = {x["interface"]: x for x in json.load(open(sys.argv[1]))["uplinks"]}
assert u["up1"]["loss"] > 0, u["up1"]' "$TK_STATE"
tk_cut 0 1
t_eq "20% loss on ISP 1: no state change" "" "$(tail -n +"$((n0 + 1))" "$TK_LOG" | grep -E 'up[12]: (offline|online)')"
t_eq "20% loss on ISP 1: unbound traffic stayed on up1" 10001 "$(tk_rule)"

# Upstream of ISP 1 dies: its link, address and gateway stay up.
tk_cut 100 1
t_check "ISP 1 still answers on its link" tk_ping "$TK_H" 10.1.0.1
t_check "unbound traffic moves to up2 (rule -> 10002)" t_wait 10 tk_rule_is 10002
t_check "log: up1: offline (0/2 targets, 3 rounds)" grep -q "up1: offline (0/2 targets, 3 rounds)" "$TK_LOG"
t_eq "unbound TCP now leaves by up2 and works" 10.2.0.2 "$(tk_src)"
t_check "bound traffic still uses up1's own table" \
	grep -q "via 10.1.0.1 dev up1 table 10001" <<<"$(ip -n "$TK_H" route get 198.51.100.1 from 10.1.0.2)"
t_check "the hook ran with uplink, state, address and table" \
	t_wait 5 grep -qx "up1 offline 10.1.0.2 10001" "$T_DIR/hook.log"
t_check "the state file says up1 is offline and up2 carries unbound traffic" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
u = {x["interface"]: x for x in s["uplinks"]}
assert u["up1"]["state"] == "offline" and u["up1"]["loss"] > 0, u
assert s["unbound"] == ["up2"] and u["up2"]["unbound"] and not u["up1"]["unbound"], s' "$TK_STATE"

# Restored: back after `up` good rounds.
tk_cut 0 1
t_check "unbound traffic comes back to up1" t_wait 10 tk_rule_is 10001
t_check "log, after the offline line: up1: online (2/2 targets, 3 rounds)" \
	grep -q "up1: online (2/2 targets, 3 rounds)" <<<"$(sed -n '/up1: offline/,$p' "$TK_LOG")"
t_eq "unbound TCP leaves by up1 again" 10.1.0.2 "$(tk_src)"

# Both upstreams die: no blackhole, the priority uplink keeps unbound traffic.
tk_cut 100 1; tk_cut 100 2
t_check "both go offline" t_wait 10 eval 'tk_is up1 offline && tk_is up2 offline'
t_eq "with both offline unbound traffic stays on up1" 10001 "$(tk_rule)"
# One comes back: recovery without a restart.
tk_cut 0 2
t_check "up2 comes back and carries unbound traffic" t_wait 10 tk_rule_is 10002
t_eq "unbound TCP leaves by up2" 10.2.0.2 "$(tk_src)"
tk_cut 0 1
t_check "up1 comes back too and takes unbound traffic back" t_wait 10 tk_rule_is 10001
t_check "still the same rtalloc-track process" kill -0 "$TK_PID"

# SIGHUP: a new configuration without a restart; a bad one is kept out.
printf '{ "bogus": 1 }\n' >"$TK_CONF.new"; cp "$TK_CONF" "$TK_CONF.good"; mv "$TK_CONF.new" "$TK_CONF"
kill -HUP "$TK_PID"
t_check "SIGHUP with a bad config: one line, the running one kept" \
	t_wait 5 grep -q "reload: bogus: unknown key; keeping the running configuration" "$TK_LOG"
t_eq "SIGHUP with a bad config: unbound traffic still on up1" 10001 "$(tk_rule)"
sed 's/"priority": 1/"priority": 3/' "$TK_CONF.good" >"$TK_CONF"
kill -HUP "$TK_PID"
t_check "SIGHUP: up2 now has the priority and takes unbound traffic" t_wait 5 tk_rule_is 10002
t_check "SIGHUP: up1 kept its health (online) across the reload" tk_is up1 online
t_check "SIGHUP: the same process" kill -0 "$TK_PID"
cp "$TK_CONF.good" "$TK_CONF"
kill -HUP "$TK_PID"
t_check "SIGHUP: back to the first configuration" t_wait 5 tk_rule_is 10001

# kill -9 and a restart: the rules are taken over, not doubled.
kill -9 "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "after kill -9 its rules stay (unbound traffic keeps working)" 10001 "$(tk_rule)"
ip -n "$TK_H" rule add iif lo lookup 10002 pref 30001 proto 122
tk_start "$CONF"
t_eq "restarted: one rule per pref, the stray one removed" "30000 30001" \
	"$(ip -n "$TK_H" -4 rule | grep -E '^3000[0-2]:' | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//')"
t_eq "restarted: unbound traffic on up1" 10001 "$(tk_rule)"

# Stop: its rules go, rtalloc's stay.
kill "$TK_PID"
t_check "rtalloc-track exits on SIGTERM" t_wait 5 eval '! kill -0 '"$TK_PID"
t_eq "no rule of rtalloc-track is left (prefs 30000-30002)" "" \
	"$(ip -n "$TK_H" -4 rule | grep -E '^3000[0-2]:')"
t_eq "rtalloc's rules are untouched (2 from, 2 to, 2 iif lo)" 6 \
	"$(ip -n "$TK_H" -4 rule | grep -c 'proto 122')"
t_check "the state file is removed" test ! -e "$TK_STATE"
t_done
