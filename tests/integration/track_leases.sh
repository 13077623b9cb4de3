#!/bin/bash
# rtalloc-track learns the uplinks from rtallocd's leases (socket_path) as
# well as the kernel's rules: an uplink whose `from` rule rtalloc installed
# at another pref (--pref-from) is tracked because rtallocd lists its lease,
# and shows in `rtalloc --status`; a lease without a from-rule is logged once
# and not tracked; with rtallocd gone it keeps the uplinks the kernel's
# pref-10000 rules show, with one line saying so, and one when it is back.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
TK_NO_RULES=1 tk_topology
H=$TK_H
t_server "$H" || exit 1
T1=$(rtalloc -4 -a 10.1.0.2 -n 24 -i up1)
T2=$(rtalloc -4 -a 10.2.0.2 -n 24 -i up2 --pref-from 10500)
t_check "rtalloc leased tables for up1 ($T1) and up2 ($T2)" test "${T1:-0}" -gt 0 -a "${T2:-0}" -gt 0
t_check "up2's from-rule is at pref 10500" eval \
	'ip -n "$H" rule show pref 10500 | grep -q "from 10.2.0.2 lookup $T2"'
for i in 1 2; do
	tbl=$T1; [ "$i" = 2 ] && tbl=$T2
	ip -n "$H" route add "10.$i.0.0/24" dev "up$i" src "10.$i.0.2" table "$tbl"
	ip -n "$H" route add default via "10.$i.0.1" dev "up$i" table "$tbl"
done
# A lease with no from-rule anywhere: leased by hand through the protocol.
out=$(t_req '{"version":2,"cmd":0,"addr_family":2,"address":"10.9.0.2","ifname":"up9","tag":"t","seq":7}')
T9=$(t_field table <<<"$out")
t_check "a lease for 10.9.0.2 without rules ($T9)" test "${T9:-0}" -gt 0

tk_start "\"socket_path\": \"$T_SOCK\", \"interval\": 0.3, \"timeout\": 0.3, \"down\": 2, \"up\": 2, \"targets\": [\"198.51.100.1\"]"
t_check "it tracks up1 (pref 10000 rule)" t_wait 10 tk_is up1 online
t_check "it tracks up2 (leased, its rule at pref 10500)" t_wait 10 tk_is up2 online
t_eq "the unruled lease is logged once" 1 \
	"$(grep -c "up9: leased 10.9.0.2 (table $T9) but no from-rule" "$TK_LOG")"
t_check "and not tracked" eval '[ -z "$(tk_state up9)" ]'
export RTALLOC_TRACK_STATE=$TK_STATE
out=$(rtalloc --status)
echo "$out" | sed 's/^/    /'
t_check "--status: up2's health line" grep -Eq "^up2 +10.2.0.2 +online " <<<"$out"

kill "$T_SERVER_PID"; t_wait 5 eval '! kill -0 '"$T_SERVER_PID"
t_check "rtallocd gone: one line" t_wait 5 eval \
	'[ "$(grep -c "rtallocd (@$T_SOCK): no lease list" "$TK_LOG")" = 1 ]'
sleep 1.5
t_eq "and only one" 1 "$(grep -c "rtallocd (@$T_SOCK): no lease list" "$TK_LOG")"
t_check "up1 (pref 10000) still tracked and online" tk_is up1 online
t_check "rtalloc-track still runs" kill -0 "$TK_PID"
t_check "up2 (pref 10500) is not probed without the lease list" tk_is up2 absent
t_server "$H" || exit 1
t_check "rtallocd back: one line" t_wait 5 grep -q "rtallocd (@$T_SOCK): lease list read again" "$TK_LOG"
t_check "up2 (leased, pref 10500) tracked again" t_wait 10 tk_is up2 online
t_done
