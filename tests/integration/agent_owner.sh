#!/bin/bash
# One owner per address, the first holder keeps it: an address whose
# per-address rtalloc daemon (the hook path) is running is left to it by
# rtalloc-agent, which takes the others on the same interface (a process of
# another uid squatting an address's control name does not count); a hook run
# for an address the agent holds is refused with one line (prints 0, exit
# 2) and changes nothing.  A second agent for the same rtallocd is refused.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_server "$H" || exit 1
ip -n "$H" addr add 192.0.2.7/24 dev wan0
ip -n "$H" addr add 192.0.2.8/24 dev wan0
T=$(t_in "$H" "$RTALLOC" -d "$T_SOCK" -4 -a 192.0.2.7 -n 24 -i wan0)
t_check "the hook path's rtalloc leased a table" test "${T:-0}" -gt 0
cat >"$T_DIR/agent.json" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["wan0"], "families": ["inet"] }
EOC
# uid 65534 squats 192.0.2.9's abstract control name before the agent
# starts, and even answers as a holder would: only root's file name, or an
# answer from root, counts; the agent takes the address and names the
# squatter.
ip -n "$H" addr add 192.0.2.9/24 dev wan0
t_bg "$H" setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0rtalloc/4/wan0/192.0.2.9")
s.settimeout(60)
try:
    while True:
        m, a = s.recvfrom(256)
        if a: s.sendto(b"table 77", a)
except socket.timeout:
    pass'
SQUAT_PID=$T_LAST_PID
t_wait 5 bash -c "ip netns exec $H cat /proc/net/unix | grep -q '@rtalloc/4/wan0/192.0.2.9'"
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent1.log" || exit 1
AGENT_PID=$T_LAST_PID
t_wait 5 bash -c "ip -n $H rule | grep -q 'from 192.0.2.9 lookup .* proto 122'"
t_check "a squatted control name: the agent still installs 192.0.2.9's rules" \
	bash -c "ip -n $H rule | grep -q '^10000:.*from 192.0.2.9 lookup .* proto 122'"
t_eq "and holds its lease" 1 \
	"$(t_rows "SELECT count(*) FROM leases WHERE address='192.0.2.9' AND tag='rtalloc-agent' AND alive=1")"
t_eq "with one line naming the squatter" 1 \
	"$(grep -c "rtalloc/4/wan0/192.0.2.9 is held by uid 65534 pid $SQUAT_PID " "$T_DIR/agent1.log")"
kill "$SQUAT_PID"; wait "$SQUAT_PID" 2>/dev/null
t_eq "192.0.2.7 keeps the daemon's one from rule" "10000:	from 192.0.2.7 lookup $T proto 122" \
	"$(ip -n "$H" rule | grep 'from 192.0.2.7')"
t_eq "the agent holds no lease for it" 0 \
	"$(t_rows "SELECT count(*) FROM leases WHERE address='192.0.2.7' AND tag='rtalloc-agent'")"
t_eq "the agent took 192.0.2.8" 1 \
	"$(t_rows "SELECT count(*) FROM leases WHERE address='192.0.2.8' AND tag='rtalloc-agent' AND alive=1")"
t_check "with its rules" bash -c "ip -n $H rule | grep -q 'from 192.0.2.8 lookup .* proto 122'"

before=$(ip -n "$H" rule; ip -n "$H" route show table all | grep 'proto 122')
out=$(t_in "$H" "$RTALLOC" -d "$T_SOCK" -4 -a 192.0.2.8 -n 24 -i wan0 2>"$T_DIR/hook.err"); rc=$?
t_eq "a hook run for the agent's address prints 0, exit 2" "0 2" "$out $rc"
t_eq "with one line saying why" 1 "$(grep -c '192.0.2.8 on wan0 is held by rtalloc-agent' "$T_DIR/hook.err")"
t_eq "no rtalloc daemon for it" "" "$(t_daemons "$H" 192.0.2.8)"
sleep 0.5
t_eq "rules and routes unchanged" "$before" "$(ip -n "$H" rule; ip -n "$H" route show table all | grep 'proto 122')"
t_eq "the lease is still the agent's" "rtalloc-agent|1" \
	"$(t_rows "SELECT tag,alive FROM leases WHERE address='192.0.2.8'")"
out=$(t_in "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>&1); rc=$?
t_eq "a second agent for the same rtallocd: exit 1" 1 "$rc"
t_check "naming why ($out)" grep -q "another rtalloc-agent serves rtallocd @$T_SOCK here" <<<"$out"

# An unprivileged process squatting the agent's name neither stops an
# agent from starting nor makes rtalloc believe one runs.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
t_bg "$H" setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0rtalloc-agent/" + sys.argv[1]); s.listen(4); time.sleep(60)' "$T_SOCK"
t_wait 5 bash -c "ip netns exec $H cat /proc/net/unix | grep -q '@rtalloc-agent/$T_SOCK'"
t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_DIR/agent2.log"; rc=$?
t_eq "a squatted name: the agent still starts" 0 "$rc"
t_check "and says who squats it" grep -q "held by uid 65534 pid [0-9]*, not root" "$T_DIR/agent2.log"
# Killed -9: its lease of 192.0.2.8 stays live and tagged rtalloc-agent;
# a name held by uid 65534 does not make a hook run believe an agent runs.
kill -9 "$T_LAST_PID"; wait "$T_LAST_PID" 2>/dev/null
t_eq "the dead agent's lease is still live" "rtalloc-agent|1" \
	"$(t_rows "SELECT tag,alive FROM leases WHERE address='192.0.2.8'")"
T8=$(t_in "$H" "$RTALLOC" -d "$T_SOCK" -4 -a 192.0.2.8 -n 24 -i wan0 2>/dev/null); rc=$?
t_eq "a hook run is not refused by a squatter's name" "0" "$rc"
t_check "and prints its table ($T8)" test "${T8:-0}" -gt 0
t_done
