#!/bin/bash
# The server side of a lease: no server -> prints 0 within the retry budget
# and installs nothing; the server restarting mid-lease (same database)
# changes nothing visible, and renewals go on.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host -4

T_SOCK=rtallocd-$T_ID

start=$SECONDS
out=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retries 2 --retry-interval 1 2>"$T_DIR/err"); rc=$?
took=$((SECONDS - start))
t_eq "no server: prints 0" 0 "$out"
t_eq "no server: exit status 2" 2 "$rc"
t_check "no server: gave up within the retry budget (${took}s)" test "$took" -le 4
t_check "no server: says so" grep -q "no answer from rtallocd @$T_SOCK after 2 tries" "$T_DIR/err"
t_eq "no server: no rule installed" "" "$(ip -n "$H" rule show | grep 'proto 122')"
t_eq "no server: no daemon left" "" "$(for p in $(ip netns pids "$H"); do cat "/proc/$p/comm"; done | grep -x rtalloc)"

# A short lease, so renewals (at half of it) happen during the test.
t_server "$H" '"table_timeout": 4' || exit 1
T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --retry-interval 1)
t_check "leased ($T)" test "${T:-0}" -gt 0
rules=$(ip -n "$H" rule show)
seconds_left() { rtalloc --list | awk '$3 == "192.0.2.7" { print $5 }'; }
listed() { [ -n "$(seconds_left)" ]; }	# asked again on every t_wait poll

kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
sleep 3	# a renewal falls into the gap: the daemon must keep its rules
t_eq "server gone: rules unchanged" "$rules" "$(ip -n "$H" rule show)"
t_server "$H" '"table_timeout": 4' || exit 1
# The server's first renewal after the restart comes within the backoff.
t_check "server back: the lease is renewed (listed again)" t_wait 8 listed
sleep 5	# longer than the lease: only renewals keep it listed
t_check "renewals continue: the lease is still live" test "$(seconds_left)" -gt 0
t_eq "server back: rules unchanged" "$rules" "$(ip -n "$H" rule show)"

# A server that lost its database and now hands out another table: the rules
# move to it (new ones first, then the old ones go).
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
T_DB=$T_DIR/other.db
t_server "$H" '"table_timeout": 4, "table_offset": 10050' || exit 1
moved() {
	[ "$(ip -n "$H" rule show | grep -c "lookup 10050 proto 122")" = 3 ] &&
		! ip -n "$H" rule show | grep -q "lookup $T proto 122"
}
t_check "new table from the server: the 3 rules moved to table 10050" t_wait 10 moved
t_check "new table: the lease is listed on the new server" t_wait 3 listed
# The daemon's event filter follows the lease: a rule of the new table
# deleted by hand is noticed and restored.  (After the daemon's own check
# that follows the move, at most a second later, so only the event can
# bring it back.)
sleep 2
ip -n "$H" rule del pref 20000 lookup 10050
t_check "new table: a deleted rule of it is restored" t_wait 3 \
	sh -c "ip -n '$H' rule show | grep -q '^20000:.*lookup 10050 proto 122'"
t_done
