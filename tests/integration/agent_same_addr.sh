#!/bin/bash
# rtalloc-agent and one address on two managed links (issue 19, finding 7):
# the first holder keeps it (one lease, one `from` rule, its table); the
# second link's is refused with one log line, however many events follow;
# when the first link's address goes, the second takes over: its own lease,
# rules and table, and nothing of the first is left.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" wan1 "$ISP" isp1
t_server "$H" || exit 1
t_agent "$H" '"interfaces": ["wan*"], "families": ["inet"]' || exit 1
LOG=$T_AGENT_LOG
A=192.0.2.7
froms() { ip -n "$H" -4 rule show pref 10000 | grep "from $A lookup .* proto 122"; }
table_of() { froms | awk '{ print $5 }'; }
lease() { t_rows "SELECT ifname||' '||tbl FROM leases WHERE address='$A' AND alive=1"; }
ours() { ip -n "$H" -4 rule show | grep -c "lookup $1 proto 122"; }

ip -n "$H" addr add "$A/24" dev wan0
t_check "wan0's $A has its rules" t_wait 5 bash -c "ip -n $H -4 rule show pref 10000 | grep -q 'from $A lookup'"
T1=$(table_of)
ip -n "$H" addr add "$A/24" dev wan1
t_check "wan1's $A is refused, once" t_wait 5 grep -q "$A on wan1: already on wan0" "$LOG"
# More events on both links: no second line, no second lease.
ip -n "$H" addr add 192.0.2.8/24 dev wan1
ip -n "$H" addr add 198.51.100.8/24 dev wan0
t_check "the other addresses have their rules" t_wait 5 bash -c \
	"ip -n $H rule | grep -q 'from 192.0.2.8 ' && ip -n $H rule | grep -q 'from 198.51.100.8 '"
t_eq "one \`from $A\` rule: wan0's table" "$T1" "$(table_of)"
t_eq "one lease for $A: wan0's" "wan0 $T1" "$(lease)"
t_eq "one log line for the refusal" 1 "$(grep -c "$A on wan1: already on wan0" "$LOG")"
t_check "traffic from $A leaves by wan0" grep -q "dev wan0 table $T1" <<<"$(ip -n "$H" route get 192.0.2.1 from "$A")"

ip -n "$H" addr del "$A/24" dev wan0
t_check "wan0's $A gone: wan1's takes over" t_wait 5 bash -c "[ \"\$(sqlite3 $T_DB \"SELECT ifname FROM leases WHERE address='$A' AND alive=1\")\" = wan1 ]"
t_check "and has its rules" t_wait 5 bash -c "[ \$(ip -n $H -4 rule show pref 10000 | grep -c 'from $A lookup') = 1 ] && ! ip -n $H -4 rule show pref 10000 | grep -q 'from $A lookup $T1 '"
T2=$(table_of)
t_eq "one lease for $A: wan1's" "wan1 $T2" "$(lease)"
t_eq "three rules into its table" 3 "$(ours "$T2")"
t_check "nothing of wan0's table is left" t_wait 3 test "$(ours "$T1")" = 0
t_check "its table holds wan1's prefix route" t_wait 3 bash -c "ip -n $H route show table $T2 | grep -q '192.0.2.0/24 dev wan1 .*src $A'"
t_check "traffic from $A leaves by wan1" grep -q "dev wan1 table $T2" <<<"$(ip -n "$H" route get 192.0.2.1 from "$A")"
t_eq "the hand-over is logged once" 1 "$(grep -c "$A on wan1: no longer on another link: taking it over" "$LOG")"
t_done
