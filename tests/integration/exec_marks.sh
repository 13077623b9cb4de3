#!/bin/bash
# Marks are leased, not chosen: two `rtalloc exec` users (up1 and up2) get
# distinct marks from rtallocd, inside its mark_mask (set to 0x00f00000
# here, so the marks cannot be the old fixed (slot+1)<<24); the agent's
# rules match them under the mask; rtallocd's database holds them; after a
# restart of rtallocd (kill -9) the agent renews the same marks and the
# traffic still leaves by each uplink; the users gone, the marks are
# released in the database.  agent.json's fwmark entry outside the mask
# keeps working (one inside it is refused: agent_config.sh).  A 2017 (v1)
# server leases no marks: the agent
# falls back to the fixed (slot+1)<<24/0xff000000 and gives back the table
# the v1 server took the request for.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
MASK=$((0x00f00000))
SRV='"table_timeout": 4, "mark_mask": "0x00f00000"'
# the agent's log lines, besides the test's own stderr
exec 2> >(tee -a "$T_DIR/stderr" >&2)
UP_SERVER_EXTRA=$SRV up_start '"fwmark": {"up1": "0x70000/0xf0000"}'
rx() { t_in "$H" "$RTALLOC" exec -d "$T_SOCK" "$@"; }
v4() { socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null; }
export -f v4
# every 0.5 s, the source the far host sees, for 12 s
# shellcheck disable=SC2016
loop='for i in $(seq 24); do v4; sleep 0.5; done'
rx up1 -- bash -c "$loop" >"$T_DIR/up1.out" 2>/dev/null &
X1=$!
rx up2 -- bash -c "$loop" >"$T_DIR/up2.out" 2>/dev/null &
X2=$!
marks() { ip -n "$H" rule show pref 9100 | sed -n 's/.*fwmark \(0x[0-9a-f]*\)\/\(0x[0-9a-f]*\) .*/\1\/\2/p' | sort -u; }
two() { [ "$(marks | wc -l)" = 2 ]; }
t_check "two exec users: two fwmark rules" t_wait 5 two
m=$(marks)
m1=$(($(sed -n 1p <<<"$m" | cut -d/ -f1))) m2=$(($(sed -n 2p <<<"$m" | cut -d/ -f1)))
t_eq "the rules match under rtallocd's mark_mask" "0xf00000 0xf00000" \
	"$(sed -n 1p <<<"$m" | cut -d/ -f2) $(sed -n 2p <<<"$m" | cut -d/ -f2)"
t_check "distinct marks ($m1, $m2)" test "$m1" -ne "$m2"
t_eq "both inside mark_mask, neither 0" "0 0" "$((m1 & ~MASK)) $((m2 & ~MASK))"
t_check "neither 0" test "$m1" -ne 0 -a "$m2" -ne 0
t_eq "agent.json's fwmark outside the mask: no warning" 0 \
	"$(grep -c 'fwmark.up1: .* overlaps' "$T_DIR/stderr")"
t_check "and its rule is there" grep -q "fwmark 0x70000/0xf0000 lookup" <<<"$(ip -n "$H" rule show pref 9000)"
t_eq "rtallocd's database holds both, alive" "$(printf '%s\n%s' "$m1" "$m2" | sort -n)" \
	"$(t_rows 'SELECT tbl FROM leases WHERE family=255 AND alive=1' | sort -n)"

kill -9 "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
t_server "$H" "$SRV" || exit 1
# the agent renews at half of the 4 s lease
sleep 3
t_eq "after an rtallocd restart the rules keep the marks" "$m" "$(marks)"
t_eq "and the database holds them" "$(printf '%s\n%s' "$m1" "$m2" | sort -n)" \
	"$(t_rows 'SELECT tbl FROM leases WHERE family=255 AND alive=1' | sort -n)"
wait "$X1" "$X2"
t_check "up1's user left by up1 all along" test "$(sort -u "$T_DIR/up1.out")" = 10.1.0.2
t_check "up2's user left by up2 all along" test "$(sort -u "$T_DIR/up2.out")" = 10.2.0.2
released() { [ "$(t_rows 'SELECT count(*) FROM leases WHERE family=255 AND alive=1')" = 0 ]; }
t_check "the users gone, the marks are released" t_wait 3 released
t_eq "and their rules are gone" "" "$(marks)"

# mark_mask changed in rtallocd.json under a running command: the agent
# says so in one line (not at every renewal) and keeps the mark.
rx up2 -- sleep 9 &
X4=$!
t_check "a long user: its rule" t_wait 5 eval '[ -n "$(marks)" ]'
m=$(marks)
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
t_server "$H" '"table_timeout": 2, "mark_mask": "0x0f000000"' || exit 1
outside() { grep -c "exec: mark $m on up2 is outside rtallocd's mark_mask 0xf000000 now" "$T_DIR/stderr"; }
t_check "mark_mask changed: the agent warns about the mark outside it" t_wait 5 eval '[ "$(outside)" -ge 1 ]'
sleep 3	# renewals at half of the 2 s lease
t_eq "mark_mask changed: one line, not one per renewal" 1 "$(outside)"
t_eq "mark_mask changed: the running command keeps its mark" "$m" "$(marks)"
wait "$X4"

kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
t_bg "$H" sh -c "exec '$BUILD/tools/v1peer' server -o 20000 -l 60 '$T_SOCK' >'$T_DIR/v1s.out' 2>&1"
V1=$T_LAST_PID
t_on_exit "kill $V1 2>/dev/null"
sleep 0.3
rx up2 -- bash -c "$loop" >"$T_DIR/v1.out" 2>/dev/null &
X3=$!
t_check "a v1 server: the fixed mark's rule" t_wait 5 eval '[ "$(marks)" = 0x1000000/0xff000000 ]'
t_check "the v1 server's table for the mark request was released" t_wait 3 \
	grep -q '^cmd 1 up2 exec-[0-9]*-0 0 -> 2000' "$T_DIR/v1s.out"
wait "$X3"
t_check "and up2's user left by up2" test "$(sort -u "$T_DIR/v1.out")" = 10.2.0.2
t_done
