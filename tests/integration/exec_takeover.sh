#!/bin/bash
# `rtalloc exec --strict up2 -- CMD` through an agent restart: the marks of
# running commands stay leased while the agent is away (rtallocd's database
# holds them alive), and the new agent renews them before it binds its
# cgroups, so a binding (here, one added to agent.json meanwhile) gets
# another mark; the command's traffic still leaves by up2 afterwards.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
CG=rtalloc-test-$T_ID.slice/backup.service
up_cgroups "$CG"
UP_CGROUP=1
up_start
v4() { socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null; }
export -f v4
marks() { ip -n "$H" rule show pref "$1" | grep -o 'fwmark 0x[0-9a-f]*' | cut -d' ' -f2 | sort -u; }
leases() { t_rows 'SELECT tbl FROM leases WHERE family=255 AND alive=1' | sort -n; }

GO=$T_DIR/go OUT=$T_DIR/out
ip netns exec "$H" "$RTALLOC" exec -d "$T_SOCK" --strict up2 -- \
	bash -c "until [ -e '$GO' ]; do sleep 0.1; done; v4 >'$OUT' 2>&1" &
XP=$!
t_check "the strict command's rules" t_wait 3 eval '[ -n "$(marks 9100)" ] && [ -n "$(marks 9101)" ]'
m=$(marks 9101)
t_eq "its lookup and unreachable rules share its mark" "$m" "$(marks 9100)"
t_eq "rtallocd's database holds its mark" "$((m))" "$(leases)"

kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "agent stopped: the running command's mark stays leased, alive" "$((m))" "$(leases)"
cat >"$UP_CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["up*"],
  "bindings": [{"uplink": "up1", "cgroup": "$CG"}] }
EOC
up_agent || exit 1
t_wait 5 up_tables
t2=$(up_table 10.2.0.2)
t_check "restarted: the command's rule is back, into up2's table $t2" t_wait 3 eval \
	"ip -n '$H' rule show pref 9100 | grep -q '$m/0xf0000000 lookup $t2 proto 122'"
bm=$(up_show up1 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["uplinks"][0]["bindings"][0]["mark"])')
t_check "the new binding got a mark ($bm)" test -n "$bm" -a "$bm" != None
t_check "the binding's mark ($bm) is not the running command's ($((m)))" test "$bm" != "$((m))"
t_eq "rtallocd's database holds both marks, the command's still" \
	"$(printf '%s\n%s' "$((m))" "$bm" | sort -n)" "$(leases)"
t_check "show up2 lists the command with its mark" grep -Eq "^ +Exec: pid $XP uid 0 \\(strict, mark $m/" \
	<<<"$(up_show up2)"
touch "$GO"
wait "$XP"
t_eq "the command's traffic still leaves by up2" 10.2.0.2 "$(cat "$OUT")"
gone() { ! marks 9101 | grep -q . && ! marks 9100 | grep -qx "$m"; }
t_check "it ended: its rules go" t_wait 3 gone
t_check "and its mark is released" t_wait 3 eval '[ "$(leases)" = "$bm" ]'
t_done
