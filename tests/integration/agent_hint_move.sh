#!/bin/bash
# `rtalloc hint --out-of-main` and `--check` (#21 item 2): what the
# dhclient and ifupdown hooks did in shell, moving an uplink's default route
# out of main into its table, the agent does for the hint; and a hook can
# ask whether an agent takes hints at all.  Two uplinks with a default route
# each in main (as DHCP clients add them), an agent that manages only what
# hooks announce (empty `interfaces`).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../track-topology.sh
. "$TOP/tests/track-topology.sh"
t_require_root
[ -x "$BUILD/rtalloc-agent" ] || t_skip "rtalloc-agent not built (make tests)"
tk_agent_topology
t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
hint() { ip netns exec "$H" "$RTALLOC" hint -d "$T_SOCK" "$@"; }
main4() { ip -n "$H" route show table main default | sed "s/ *$//"; }
table_of() { ip -n "$H" rule show pref 10000 | awk -v a="$1" '$3 == a { print $5 }'; }

out=$(hint --check 2>"$T_DIR/err"); rc=$?
t_eq "--check without an agent: exit 2" 2 "$rc"
t_eq "--check without an agent: nothing on stdout" "" "$out"
t_eq "--check without an agent: one line on stderr" 1 "$(wc -l <"$T_DIR/err")"
hint up1 --out-of-main 2>/dev/null
t_eq "a hint without an agent changes nothing in main" \
	"default via 10.1.0.1 dev up1 metric 100
default via 10.2.0.1 dev up2 metric 200" "$(main4)"

t_agent "$H" '"interfaces": []' || exit 1
t_eq "--check with an agent: one line, exit 0" "1 0" \
	"$(hint --check 2>/dev/null | wc -l) $(hint --check >/dev/null 2>&1; echo $?)"
hint up1 --primary --out-of-main 2>/dev/null
t_eq "--primary with --out-of-main: usage error" 64 $?

# up1 without --gateway: the table gets main's own default route.
hint up1 --out-of-main
t1=$(table_of 10.1.0.2)
t_check "up1 has a table" test -n "$t1"
t_eq "main: up1's default route is gone, up2's stays" \
	"default via 10.2.0.1 dev up2 metric 200" "$(main4)"
t_eq "main: up1's prefix route is gone too, up2's stays" "10.2.0.0/24" \
	"$(ip -n "$H" route show table main | awk '$1 ~ /^10\.[12]\.0\.0/ { print $1 }')"
t_check "table $t1: up1's prefix route, from up1's address" \
	grep -q "^10.1.0.0/24 dev up1 .*src 10.1.0.2" <(ip -n "$H" route show table "${t1:-none}")
t_check "table $t1: the default route taken from main, from up1's address" \
	grep -q "^default via 10.1.0.1 dev up1 .*src 10.1.0.2 metric 100" \
	<(ip -n "$H" route show table "${t1:-none}")
t_eq "up1's rules (from, to, iif lo)" 3 \
	"$(ip -n "$H" rule show | grep -c "lookup ${t1:-none} proto 122")"
t_eq "from up1's address the far host sees up1's address" 10.1.0.2 "$(tk_src 198.51.100.1 bind=10.1.0.2)"
t_check "the agent logged the move" grep -q "up1: default via 10.1.0.1 .*taken out of main" "$T_AGENT_LOG"

t_eq "up1's own subnet is reached by up1 from any source" up1 \
	"$(ip -n "$H" route get 10.1.0.1 | grep -o 'dev [^ ]*' | cut -d' ' -f2)"

# up2 with a --gateway: the hinted gateway's route, metric 0.
hint up2 --gateway 10.2.0.1 --out-of-main
t2=$(table_of 10.2.0.2)
t_eq "main: no default route left" "" "$(main4)"
t_check "table $t2: default via the hinted gateway" \
	grep -q "^default via 10.2.0.1 dev up2 .*src 10.2.0.2" <(ip -n "$H" route show table "${t2:-none}")
src=$(tk_src)
t_check "unbound traffic follows the iif lo rules out by an uplink ($src)" \
	test "$src" = 10.1.0.2 -o "$src" = 10.2.0.2

# The tool adds the default route again (a renewal): it is moved again.
ip -n "$H" route add default via 10.1.0.1 dev up1 metric 100
# shellcheck disable=SC2016 # eval expands it, each try
t_check "a default route put back into main is taken out again" \
	t_wait 5 eval '[ -z "$(main4)" ]'
t_check "table $t1 still has it" \
	grep -q "^default via 10.1.0.1 dev up1 .*src 10.1.0.2" <(ip -n "$H" route show table "${t1:-none}")

# A hint without --out-of-main: main gets the prefix route back and keeps
# what the tool adds.
hint up2 --gateway 10.2.0.1
t_check "up2 hinted without --out-of-main: its prefix route is back in main" \
	grep -q "^10.2.0.0/24 dev up2 proto kernel" <(ip -n "$H" route show table main)
ip -n "$H" route add default via 10.2.0.1 dev up2 metric 200
sleep 0.5
t_eq "up2 hinted without --out-of-main: its default route stays in main" \
	"default via 10.2.0.1 dev up2 metric 200" "$(main4)"

# Per-family hints (-4, -6), as dhclient -4 and -6 send them apart: each
# replaces only its own family's part, --down withdraws only it.
hf=/run/rtalloc/hints/$T_SOCK/up2
hint up2 -4 --gateway 10.2.0.1 --dns 10.2.0.53
hint up2 -6 --dns 2001:db8:2::53
t_check "a -6 hint keeps the -4 one's DNS server" grep -qx "dns 10.2.0.53" "$hf"
t_check "and adds its own" grep -qx "dns 2001:db8:2::53" "$hf"
hint up2 -6 --down
t_check "-6 --down keeps IPv4's part" grep -qx "gateway 10.2.0.1" "$hf"
t_check "-6 --down drops IPv6's" sh -c "! grep -q 2001:db8:2::53 '$hf'"
t_check "up2 keeps its table" test -n "$(table_of 10.2.0.2)"
hint up2 -4 --down
t_check "-4 --down after it: the hint is gone" test ! -e "$hf"

# Once up1 is no longer out of main, main has its routes back: a primary
# uplink's routes stay in main, whatever another family's hint said (-4
# --out-of-main, then the uplink is made the primary by a -6 hint); the
# uplink went down with its address still there (--down); the agent stops.
up1_main() { ip -n "$H" route show table main dev up1 | sed "s/ *$//"; }
up1_all="default via 10.1.0.1 metric 100
10.1.0.0/24 proto kernel scope link src 10.1.0.2"
hint up1 -4 --out-of-main
t_eq "up1 hinted -4 --out-of-main: nothing of up1 in main" "" "$(up1_main)"
hint up1 -6 --primary
t_eq "then -6 --primary: up1's default and prefix routes are back in main" "$up1_all" "$(up1_main)"
hint up1 -4 --out-of-main
t_eq "then -4 --out-of-main (no longer the primary): out of main again" "" "$(up1_main)"
hint up1 --down
t_eq "then --down with the address still there: back in main" "$up1_all" "$(up1_main)"
hint up1 --out-of-main
t_eq "hinted --out-of-main again: out of main" "" "$(up1_main)"
kill "$T_AGENT_PID"; wait "$T_AGENT_PID" 2>/dev/null
t_eq "the agent stopped (SIGTERM): up1's routes are back in main" "$up1_all" "$(up1_main)"
# Started again, the hint (kept) takes them out again; killed (-9), it
# cannot put them back, and the next run takes over what it took out.
# shellcheck disable=SC2317 # run by t_wait and t_check
up1_out() { [ -z "$(up1_main)" ]; }
# shellcheck disable=SC2317
up1_table_default() {
	ip -n "$H" route show table "$(table_of 10.1.0.2)" 2>/dev/null |
		grep -q "^default via 10.1.0.1 dev up1 .*src 10.1.0.2 metric 100"
}
t_agent "$H" '"interfaces": []' || exit 1
t_check "the agent started again: up1 out of main again" t_wait 5 up1_out
kill -9 "$T_AGENT_PID"; wait "$T_AGENT_PID" 2>/dev/null
t_agent "$H" '"interfaces": []' || exit 1
sleep 0.3	# a pass that would wrongly empty the table has run
t_check "after a kill -9 and a start: up1's table keeps its default route" t_wait 5 up1_table_default
t_check "and main still has none of up1" up1_out
kill "$T_AGENT_PID"; wait "$T_AGENT_PID" 2>/dev/null
t_eq "then SIGTERM: up1's routes are back in main" "$up1_all" "$(up1_main)"
t_done
