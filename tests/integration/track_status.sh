#!/bin/bash
# rtalloc-track with the real rtalloc and rtallocd: it finds the uplinks by
# the proto-122 `from` rules rtalloc installed (no uplinks in its config),
# and `rtalloc --status` and `--list` (human and --json) show each uplink's
# health and which one carries unbound traffic; rtalloc-track's own rules
# are not reported as differences.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
TK_NO_RULES=1 tk_topology
H=$TK_H
t_server "$H" || exit 1
for i in 1 2; do
	tbl=$(rtalloc -4 -a "10.$i.0.2" -n 24 -i "up$i")
	t_check "rtalloc leased a table for up$i ($tbl)" test "${tbl:-0}" -gt 0
	ip -n "$H" route add "10.$i.0.0/24" dev "up$i" src "10.$i.0.2" table "$tbl"
	ip -n "$H" route add default via "10.$i.0.1" dev "up$i" table "$tbl"
	eval "T$i=$tbl"
done

# timeout == interval: a round is judged before the next one starts.
tk_start '"interval": 0.3, "timeout": 0.3, "down": 2, "up": 2, "targets": ["198.51.100.1"]'
t_check "it found up1 in the kernel" grep -q "up1: tracking (found in the kernel, table $T1)" "$TK_LOG"
t_check "it found up2 in the kernel" grep -q "up2: tracking (found in the kernel, table $T2)" "$TK_LOG"
t_check "both come online" t_wait 10 eval 'tk_is up1 online && tk_is up2 online'
t_eq "unbound traffic uses the first leased table" "$T1" "$(tk_rule)"
t_eq "unbound TCP leaves by up1" 10.1.0.2 "$(tk_src)"

export RTALLOC_TRACK_STATE=$TK_STATE
out=$(rtalloc --status); rc=$?
echo "$out" | sed 's/^/    /'
t_eq "--status: consistent (rtalloc-track's rules are not differences)" 0 "$rc"
t_check "--status: up1 carries unbound traffic" grep -q "^unbound traffic: up1 (rtalloc-track, failover)" <<<"$out"
t_check "--status: up1's line" grep -Eq "^up1 +10.1.0.2 +online .* 0.0% .* ms  carries unbound traffic" <<<"$out"
t_check "--status: up2's line" grep -Eq "^up2 +10.2.0.2 +online " <<<"$out"
t_check "--status: loss, median and jitter columns" grep -Eq "^uplink +address +health +since +loss +median +jitter$" <<<"$out"
t_check "--status: up1's median and jitter" grep -Eq "^up1 +10.1.0.2 +online .* 0.0% +[0-9]+\.[0-9]{3} ms +[0-9]+\.[0-9]{3} ms  carries" <<<"$out"
t_check "--status --json: consistent, up1 carries unbound traffic, both online" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["consistent"] is True and s["differences"] == [] and s["leases"] == 2, s
t = s["track"]
assert t["running"] is True and t["unbound"] == ["up1"], t
assert sorted(u["state"] for u in t["uplinks"]) == ["online", "online"], t' <<<"$(rtalloc --status --json)"

tk_cut 100 1
t_check "up1 goes offline" t_wait 10 tk_is up1 offline
t_check "unbound traffic moves to up2" t_wait 5 tk_rule_is "$T2"
out=$(rtalloc --list)
t_check "--list: up2 carries unbound traffic" grep -q "^unbound traffic: up2 (rtalloc-track, failover)" <<<"$out"
t_check "--list: up1 offline with loss" grep -Eq "^up1 +10.1.0.2 +offline .* [1-9][0-9.]*% " <<<"$out"
t_check "--list: its lease table is still there" grep -Eq "^inet +up1 +10.1.0.2 +$T1 " <<<"$out"
t_check "--list --json: health per lease" python3 -c '
import json, sys
l = {x["ifname"]: x for x in json.loads(sys.stdin.read())}
assert l["up1"]["health"]["state"] == "offline" and not l["up1"]["health"]["unbound"], l
assert l["up2"]["health"]["state"] == "online" and l["up2"]["health"]["unbound"], l
assert l["up2"]["health"]["running"] is True, l
assert "jitter_ms" in l["up2"]["health"] and "probe_bytes_day" in l["up2"]["health"], l' <<<"$(rtalloc --list --json)"

kill "$TK_PID"; t_wait 5 eval '! kill -0 '"$TK_PID"
out=$(rtalloc --status); rc=$?
t_eq "--status after rtalloc-track stopped: consistent, no health block" "0 " \
	"$rc $(grep -c '^unbound traffic' <<<"$out" | grep -v '^0$')"
t_check "--status --json after it stopped: track is null" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["consistent"] is True and s["track"] is None, s' <<<"$(rtalloc --status --json)"
t_done
