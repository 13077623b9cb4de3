#!/bin/bash
# rtalloc-agent behind the real peers (tests/peers.sh) when the peers or the
# agent restart.  systemd-networkd restarting deletes every foreign policy
# rule, the agent's included: they are back within 2 s, with a log line, and
# then exactly as before; so are a route and a rule deleted by hand.  The
# agent killed with -9 and started again adopts what it finds: every address
# keeps its table, no rule of a live address is deleted on the way (`ip
# monitor rule` sees none go), and what belonged to an address removed while
# it was dead goes (rules, routes, lease).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/peers.sh"
# (networkd's multipath IPv6 default route is agent_peers_multipath.sh's.)
PR_RA_METRICS=distinct
pr_agent_start
H=$PR_H
pr_check_state "start: every address has its table, rules and routes" 5
rules() { pr_our_rules 4; pr_our_rules 6; }

# networkd restarts (and deletes foreign rules as it configures each link,
# so maybe more than once): `ip monitor rule` times every deletion of ours
# and its repair.
before=$(rules)
t_eq "the agent's rules are there (6 addresses)" 18 "$(wc -l <<<"$before")"
# (One per family: the text of an `iif lo` rule does not say which.)
ip -n "$H" -4 -ts monitor rule >"$T_DIR/monitor.networkd4" 2>&1 &
mon4=$!
ip -n "$H" -6 -ts monitor rule >"$T_DIR/monitor.networkd6" 2>&1 &
mon6=$!
ip -n "$H" -ts monitor address >"$T_DIR/monitor.addr" 2>&1 &
mona=$!
pr_networkd_stop
: >"$PR_NETWORKD_LOG"
pr_networkd
deleted() { grep -q "Removing foreign routing policy rule.* table: 100[0-9][0-9]" "$PR_NETWORKD_LOG"; }
t_check "networkd restarted: it deletes the agent's rules as foreign" t_wait 20 deleted
same_rules() { [ "$(rules)" = "$before" ]; }
t_check "networkd restarted: the rules come back" t_wait 10 same_rules
t_check "the agent logs the repair" grep -q "restored" "$PR_AGENT_LOG"
sleep 1
kill "$mon4" "$mon6" "$mona"; wait "$mon4" "$mon6" "$mona" 2>/dev/null
# repairs RULE-MONITOR ADDRESS-MONITOR: for each deletion of a rule of ours,
# the seconds until it was back ("never" if it was not), counted from the
# deletion or, when its address was gone or tentative then (networkd deletes
# the addresses it finds on its links at start and configures them anew), from
# the moment the address was back and usable; then the rule.
repairs() {
	/usr/bin/python3 -c '
import re, sys
from datetime import datetime
ts = lambda s: datetime.fromisoformat(s)
rules, table_addr = [], {}
for line in open(sys.argv[1]):
    m = re.match(r"\[([0-9T:.-]+)\]\s*(Deleted )?(\d+:\s.*proto 122)\s*$", line)
    if not m:
        continue
    rule = m.group(3).strip()
    rules.append((ts(m.group(1)), bool(m.group(2)), rule))
    f = re.match(r"10000:\s+from (\S+) lookup (\d+)", rule)
    if f:
        table_addr[f.group(2)] = f.group(1)
addr_ev = []
for line in open(sys.argv[2]):
    m = re.match(r"\[([0-9T:.-]+)\]\s*(Deleted )?\d+: \S+\s+inet6? ([^/ ]+)/\d+ (.*)$", line)
    if m:
        usable = not m.group(2) and "tentative" not in m.group(4)
        addr_ev.append((ts(m.group(1)), m.group(3), usable))
def ready(addr, t):
    state = True
    for t2, a, usable in addr_ev:
        if a != addr:
            continue
        if t2 <= t:
            state = usable
        elif not state and usable:
            return t2
        else:
            state = usable
    return t if state else None
for i, (t, dele, rule) in enumerate(rules):
    if not dele:
        continue
    table = re.search(r"lookup (\d+)", rule).group(1)
    since = ready(table_addr.get(table), t) or t
    back = [t2 for t2, d2, r2 in rules[i + 1:] if not d2 and r2 == rule and t2 >= t]
    print("%s %s" % ("%.2f" % max(0, (back[0] - since).total_seconds()) if back else "never", rule))
' "$1" "$2"
}
rep=$(repairs "$T_DIR/monitor.networkd4" "$T_DIR/monitor.addr"
	repairs "$T_DIR/monitor.networkd6" "$T_DIR/monitor.addr")
echo "$rep" | sed 's/^/# back after /'
t_check "networkd deleted rules of ours ($(grep -c . <<<"$rep"))" test -n "$rep"
t_eq "each was back within 2 s (of its address being back, if it went)" "" \
	"$(awk '$1 == "never" || $1 > 2' <<<"$rep")"
t_check "networkd configures the uplinks again" t_wait 30 pr_configured
pr_check_state "networkd restarted: exactly the rules and routes of every address" 3
t_eq "networkd restarted: the rules are as before" "$before" "$(rules)"
for a in $(pr_all_addrs); do
	t_check "networkd restarted: $a reaches the far host" pr_reaches "$a"
done

# A route and a rule of the agent's deleted by hand (as networkd deletes
# foreign routes on its links): back within 2 s.
a=$(pr_addr wan2 4) a6=$(pr_addr wan0 6)
t=$(pr_table "$a") t6=$(pr_table "$a6")
want=$(pr_table_routes "$t" 4) want6=$(pr_our_rules 6)
ip -n "$H" route del default table "$t"
ip -n "$H" -6 rule del pref 10000 from "$a6" lookup "$t6"
routes_back() { [ "$(pr_table_routes "$t" 4)" = "$want" ]; }
rule_back() { [ "$(pr_our_rules 6)" = "$want6" ]; }
t_check "the default route deleted from $a's table $t is back within 2 s" pr_within 2 routes_back
t_check "$a6's from rule, deleted, is back within 2 s" pr_within 2 rule_back

# The agent killed with -9, an address removed while it is dead, restarted.
x4=10.101.0.77
ip -n "$H" addr add "$x4/24" dev wan1
has_table() { [ -n "$(pr_table "$1")" ]; }
t_check "added $x4: it gets a table" pr_within 2 has_table "$x4"
tx=$(pr_table "$x4")
pr_check_state "added $x4: exactly the rules and routes of every address" 2
kill -9 "$PR_AGENT_PID"
pr_kill "$PR_AGENT_PID"
ip -n "$H" addr del "$x4/24" dev wan1
before=$(rules | grep -v "lookup $tx ")
tables=$(for a in $(pr_all_addrs); do echo "$a $(pr_table "$a")"; done)
ip -n "$H" monitor rule >"$T_DIR/monitor" 2>&1 &
mon=$!
sleep 0.3
pr_agent || exit 1
gone() { ! rules | grep -q "lookup $tx "; }
t_check "restarted: the rules of $x4, removed while the agent was dead, go" pr_within 2 gone
pr_check_state "restarted: exactly the rules and routes of every address" 3
sleep 0.5
kill "$mon"; wait "$mon" 2>/dev/null
t_eq "restarted: every address keeps its table" "$tables" \
	"$(for a in $(pr_all_addrs); do echo "$a $(pr_table "$a")"; done)"
t_eq "restarted: the rules are as before" "$before" "$(rules)"
t_eq "restarted: no rule but $x4's was deleted on the way" "" \
	"$(grep '^Deleted' "$T_DIR/monitor" | grep -v "lookup $tx ")"
t_eq "restarted: no rule was added twice or moved" "" \
	"$(grep -v '^Deleted' "$T_DIR/monitor")"
t_eq "restarted: table $tx is empty" "" "$(pr_table_routes "$tx" 4)"
t_eq "restarted: $x4's lease is released" 0 \
	"$(t_rows "SELECT count(*) FROM leases WHERE address = '$x4' AND alive != 0")"
for a in $(pr_all_addrs); do
	t_check "restarted: $a reaches the far host" pr_reaches "$a"
done
t_done
