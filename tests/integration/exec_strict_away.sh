#!/bin/bash
# `rtalloc exec --strict up2 -- CMD` while the agent is stopped: the
# strict command's unreachable rule stays, so its connects still fail at
# once ("Network is unreachable") and nothing of it leaves by up1 (an
# nftables counter on up1 counts its packets); a default command's rules
# go (its traffic follows unbound traffic).  Restarted, the agent takes the
# command over: it leaves by up2 again.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
up_start
v4() { socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null; }
v6() { socat -T2 - 'TCP6:[2001:db8:ff::1]:7,connect-timeout=2' </dev/null; }
export -f v4 v6
# packets to the far host's echo port leaving by each uplink
t_in "$H" nft -f - <<'EON'
table inet count {
	chain out {
		type filter hook postrouting priority 0;
		oifname "up1" tcp dport 7 counter name up1
		oifname "up2" tcp dport 7 counter name up2
	}
	counter up1 { }
	counter up2 { }
}
EON
sent() { t_in "$H" nft list counter inet count "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

# The command runs a connect (v4, then v6) each time the test asks (GO.N)
# and writes what it got, and how long it took in ms, to OUT.N.
cmd='for n in 1 2 3; do
	until [ -e "$0.$n" ]; do sleep 0.05; done
	s=$(date +%s%N); { v4; v6; } >"$1.$n" 2>&1; echo "ms $((($(date +%s%N) - s) / 1000000))" >>"$1.$n"
done'
GO=$T_DIR/go OUT=$T_DIR/out
ip netns exec "$H" "$RTALLOC" exec -d "$T_SOCK" --strict up2 -- bash -c "$cmd" "$GO" "$OUT" &
XP=$!
strict() { ip -n "$H" rule show pref 9101; ip -n "$H" -6 rule show pref 9101; }
t_check "the strict command's unreachable rules" t_wait 3 eval '[ "$(strict | grep -c "unreachable")" = 2 ]'
touch "$GO.1"; t_wait 5 grep -q '^ms' "$OUT.1"
t_eq "agent running: the strict command leaves by up2" "10.2.0.2 2001:0db8:0002:0000:0000:0000:0000:0002" \
	"$(grep -v '^ms' "$OUT.1" | tr -d '[]' | xargs)"

kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_check "agent stopped: the strict command's unreachable rules stay (IPv4 and IPv6)" \
	test "$(strict | grep -c 'unreachable')" = 2
t_eq "agent stopped: its lookup rules went" "" "$(ip -n "$H" rule show pref 9100)$(ip -n "$H" -6 rule show pref 9100)"
n1=$(sent up1)
touch "$GO.2"; t_wait 5 grep -q '^ms' "$OUT.2"
out=$(cat "$OUT.2")
t_eq "agent stopped: both connects fail, network unreachable ($out)" 2 "$(grep -c 'Network is unreachable' <<<"$out")"
t_check "agent stopped: nothing reached the far host" eval '! grep -q "10\.[12]\.0\.2\|2001:db8:[12]::2" <<<"$out"'
ms=$(sed -n 's/^ms //p' <<<"$out")
t_check "agent stopped: at once ($ms ms)" test "$ms" -lt 1500
t_eq "agent stopped: not one packet of it left by up1" "$n1" "$(sent up1)"
t_eq "meanwhile unbound traffic still leaves by up1" 10.1.0.2 "$(tk_src)"

up_agent || exit 1
t_wait 5 up_tables
t_check "restarted: the command's lookup rules are back (IPv4 and IPv6)" t_wait 3 eval \
	"ip -n '$H' rule show pref 9100 | grep -q 'lookup $(up_table 10.2.0.2) proto 122' &&
	 ip -n '$H' -6 rule show pref 9100 | grep -q 'lookup $(up_table 2001:db8:2::2) proto 122'"
touch "$GO.3"; t_wait 5 grep -q '^ms' "$OUT.3"
t_eq "restarted: the strict command leaves by up2 again" "10.2.0.2 2001:0db8:0002:0000:0000:0000:0000:0002" \
	"$(grep -v '^ms' "$OUT.3" | tr -d '[]' | xargs)"
wait "$XP"
t_check "it ended: its unreachable rules go" t_wait 3 eval '[ -z "$(strict)" ]'
t_done
