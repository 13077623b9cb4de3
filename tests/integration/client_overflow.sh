#!/bin/bash
# When the daemon's netlink event socket overflows (ENOBUFS), the events in it
# are lost: a rule deletion or the deletion of its own address among them must
# still be noticed, by re-reading the kernel's state.  A stopped daemon with a
# tiny buffer (RTALLOC_TEST_NL_RCVBUF, a test-only hook) and a storm of
# events make the overflow certain.  The kernel drops the events that do
# not concern the daemon before they reach its buffer (nlfilter), so the
# storm is one of deletions of its own table's rules (extra ones, at prefs
# it does not use).
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host -4
t_server "$H" || exit 1
LOG=$T_DIR/rtalloc.log

rules_of() { ip -n "$H" rule show | grep "lookup $1 proto 122"; }
has_rule() { rules_of "$T" | grep -q "^$1:"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
absent() { ! "$@"; }
logged() { grep -q "$1" "$LOG"; }
storm() {	# 300 deletions of extra proto 122 rules of the daemon's table
	local i
	for i in $(seq 300); do echo "rule add pref $((40000 + i)) from 10.77.$((i / 250)).$((i % 250 + 1)) lookup $T proto 122"; done >"$T_DIR/storm"
	for i in $(seq 300); do echo "rule del pref $((40000 + i))"; done >>"$T_DIR/storm"
	ip -n "$H" -batch "$T_DIR/storm"
}

T=$(RTALLOC_TEST_NL_RCVBUF=4096 ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" -l "$LOG" -4 -a 192.0.2.7 -n 24 -i up0)
t_check "leased ($T)" test "${T:-0}" -gt 0
P=$(ip netns pids "$H" | while read -r p; do [ "$(cat "/proc/$p/comm")" = rtalloc ] && echo "$p"; done)
t_check "daemon running ($P)" test -n "$P"
t_check "the test hook shrank the buffer" logged "RTALLOC_TEST_NL_RCVBUF"
t_eq "three rules" 3 "$(rules_of "$T" | wc -l)"

# 1. A rule deleted while events overflow is restored.
kill -STOP "$P"
storm
ip -n "$H" rule del pref 20000 to 192.0.2.0/24 lookup "$T"
storm
kill -CONT "$P"
t_check "overflow logged" t_wait 5 logged "netlink events lost (ENOBUFS)"
t_check "rule deleted during the overflow is restored" t_wait 5 has_rule 20000
t_eq "three rules again" 3 "$(rules_of "$T" | wc -l)"
t_check "daemon still runs" kill -0 "$P"

# 2. The address deleted while events overflow: the daemon exits and cleans up.
kill -STOP "$P"
storm
ip -n "$H" addr del 192.0.2.7/24 dev up0
storm
kill -CONT "$P"
t_check "address gone: daemon exits" t_wait 5 gone "$P"
t_check "address gone: found through the re-read after the overflow" \
	logged "address gone (found after event overflow)"
t_check "address gone: rules removed" t_wait 3 absent rules_of "$T"
t_check "address gone: lease released" \
	t_wait 3 absent sh -c "ip netns exec '$H' '$RTALLOC' -d '$T_SOCK' --list | grep -q ' 192.0.2.7 '"
t_done
