#!/bin/bash
# Idle means asleep: between renewals the rtalloc daemon makes no system
# call at all (no polling, no periodic timer), and rtallocd with no clients
# and no lease near expiry does not wake either.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v strace >/dev/null || t_skip "needs strace"

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" up0 "$ISP" isp0
ip -n "$H" addr add 192.0.2.7/24 dev up0
# A 10-minute lease: the first renewal is 5 minutes away.
t_server "$H" '"table_timeout": 600' || exit 1
T=$(ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" -4 -a 192.0.2.7 -n 24 -i up0)
t_check "leased a table ($T)" test "${T:-0}" -gt 0
D=$(t_daemons "$H")
t_check "the daemon runs" test -n "$D"

# syscalls PID: what PID's threads do in 3 s, less the call each was already
# sleeping in when strace attached (shown as that call, then <unfinished
# ...>/resumed): epoll_wait for the event loop, futex for rtallocd's
# checkpoint thread, which waits for work on a condition variable.
syscalls() {
	timeout -s INT 3 strace -qq -f -p "$1" -o "$T_DIR/strace.$1" 2>/dev/null
	grep -v -e '\(epoll_wait\|futex\)(.*<\(unfinished\|detached\) \.\.\.>' \
		-e '<\.\.\. \(epoll_wait\|futex\) resumed>' \
		-e '^[0-9]* *+++' -e '^[0-9]* *---' -e 'restart_syscall' "$T_DIR/strace.$1" | grep -c .
}
sleep 1	# let both settle after start-up
t_eq "rtalloc daemon: no system call in 3 s of idle" 0 "$(syscalls "$D")"
t_eq "rtallocd: no system call in 3 s of idle" 0 "$(syscalls "$T_SERVER_PID")"
t_done
