#!/bin/bash
# agent.json "bindings": a cgroup (as a systemd service's) bound to up2
# sends its processes' traffic out of up2 while the host's unbound traffic
# leaves by up1; a container network (a namespace behind the host's
# docker0, masqueraded by the test's own nftables, as Docker does) bound by
# its source prefix leaves by up2 as well, and so does a LAN bound by its
# incoming interface.  Both survive an agent restart
# and a table move (rtallocd restarted with another pool: every uplink gets
# another table at its next renewal).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
CG=rtalloc-test-$T_ID.slice/backup.service
up_cgroups "$CG"
UP_CGROUP=1 UP_SERVER_EXTRA='"table_timeout": 4'
up_start "\"bindings\": [{\"uplink\": \"up2\", \"cgroup\": \"$CG\"}, {\"uplink\": \"up2\", \"from\": \"172.17.0.0/16\", \"policy\": \"strict\"}, {\"uplink\": \"up2\", \"iif\": \"lan0\"}]"

# The container network: C behind docker0, masqueraded out of the uplinks;
# a LAN behind the host's lan0, bound by its incoming interface.
up_container docker0 172.17
up_lan

# svc: the far host's word of a connection from a process of the cgroup.
# shellcheck disable=SC2016
svc() { up_cg sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec socat -T2 - TCP:198.51.100.1:7' "$CG" </dev/null 2>/dev/null; }
ctr() { t_in "$C" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>/dev/null; }
check() {	# check WHEN
	t_eq "$1: unbound traffic leaves by up1" 10.1.0.2 "$(tk_src)"
	t_eq "$1: the bound cgroup's traffic leaves by up2" 10.2.0.2 "$(svc)"
	t_eq "$1: the container network's leaves by up2" 10.2.0.2 "$(ctr)"
	t_check "$1: the container still reaches the host, and the host answers it" \
		t_in "$C" ping -c 1 -W 2 172.17.0.1
	t_eq "$1: the LAN's (iif lan0) leaves by up2" 10.2.0.2 \
		"$(t_in "$L" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>/dev/null)"
}
check "bound"
t_check "show up2 --json: its bindings" python3 -c '
import json, sys
u = json.loads(sys.stdin.read())["uplinks"][0]
b = u["bindings"]
m = b[0]["mark"]
assert b == [{"cgroup": sys.argv[1], "policy": "default", "mark": m, "mark_mask": 0xf0000000},
             {"from": "172.17.0.0/16", "policy": "strict", "mark": None, "mark_mask": None},
             {"iif": "lan0", "policy": "default", "mark": None, "mark_mask": None}], b
assert isinstance(m, int) and m and m & ~0xf0000000 == 0, m
assert u["exec"] == [], u' "$CG" <<<"$(up_show up2 --json)"
t_check "show up2: the cgroup binding with its leased mark and policy" grep -Eq \
	"^ +Bindings: cgroup $CG \\(default, mark 0x[1-9a-e]0000000/0xf0000000\\)$" <<<"$(up_show up2)"
t_check "show up2: the source binding with its policy" grep -Eq \
	"^ +from 172.17.0.0/16 \\(strict\\)$" <<<"$(up_show up2)"

kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "agent stopped: the cgroup's traffic follows unbound traffic" 10.1.0.2 "$(svc)"
up_agent || exit 1
t_wait 5 up_tables
check "after an agent restart"

t2=$(up_table 10.2.0.2)
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
T_DB=$T_DIR/other.db
t_server "$H" '"table_timeout": 4, "table_offset": 10050' || exit 1
moved() { local n; n=$(up_table 10.2.0.2); [ -n "$n" ] && [ "$n" != "$t2" ] && [ "$n" -ge 10050 ]; }
t_check "up2 moved to a new table" t_wait 10 moved
n2=$(up_table 10.2.0.2)
t_check "the bindings' rules follow to table $n2" t_wait 3 eval \
	"ip -n '$H' rule show pref 9100 | grep -q 'from 172.17.0.0/16 lookup $n2'"
check "after a table move"
t_done
