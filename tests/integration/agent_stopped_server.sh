#!/bin/bash
# rtalloc-agent and a lease whose address goes before the answer comes
# (issue 19, finding 5): rtallocd is stopped (SIGSTOP), one address is
# added and deleted at once (its request in flight), another is deleted
# after its request timed out; rtallocd resumes and grants both requests
# from its queue.  Neither lease may stay: the agent releases them.  (The
# server grants both: without the release, both leases stay alive.)
. "$(dirname "$0")/../lib.sh"
t_require_root

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_server "$H" || exit 1
t_agent "$H" '"interfaces": ["wan*"], "families": ["inet"]' || exit 1
LOG=$T_AGENT_LOG
alive() { t_rows "SELECT count(*) FROM leases WHERE address='$1' AND alive=1"; }
has_from() { ip -n "$H" -4 rule show pref 10000 | grep -q "from $1 lookup .* proto 122"; }

kill -STOP "$T_SERVER_PID"
t_on_exit "kill -CONT $T_SERVER_PID"
ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" addr add 192.0.2.8/24 dev wan0
sleep 0.3
ip -n "$H" addr del 192.0.2.8/24 dev wan0	# its request in flight
t_check "192.0.2.7's request timed out (the server is stopped)" \
	t_wait 5 grep -q "192.0.2.7 on wan0: no table: no answer from rtallocd" "$LOG"
ip -n "$H" addr del 192.0.2.7/24 dev wan0	# after its request timed out
sleep 0.5
kill -CONT "$T_SERVER_PID"
# A later address's answer comes after everything queued before it.
ip -n "$H" addr add 192.0.2.9/24 dev wan0
t_check "the server answers again: 192.0.2.9 gets its rules" t_wait 10 has_from 192.0.2.9
t_check "no lease of 192.0.2.7 is left" t_wait 3 test "$(alive 192.0.2.7)" = 0
t_check "no lease of 192.0.2.8 is left" t_wait 3 test "$(alive 192.0.2.8)" = 0
t_eq "no rule for either" "" "$(ip -n "$H" rule show | grep 'from 192.0.2.[78] ')"
t_eq "192.0.2.9 holds the only lease" "192.0.2.9" \
	"$(t_rows "SELECT address FROM leases WHERE tag='rtalloc-agent' AND alive=1")"
t_done
