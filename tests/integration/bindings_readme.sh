#!/bin/bash
# The README's agent.json "bindings" example, taken from README.md and run
# as written but for the names of this topology (its uplinks lte0 and wan2
# are both up2 here, so that a bound packet is told from unbound traffic,
# which leaves by up1; its service's cgroup is a test cgroup; br-lan is
# lan0): the service's cgroup leaves by up2, and so does the Docker
# network bound by its source prefix (172.30.0.0/16, a namespace behind
# the host's bridge, masqueraded by the test's own nftables as Docker
# does); unbound traffic still leaves by up1.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
block=$(sed -n '/^    "bindings": \[$/,/^    \]$/p' "$TOP/README.md")
t_check "the README has the bindings example" grep -q '"from": "172.30.0.0/16"' <<<"$block"
CG=rtalloc-test-$T_ID.slice/backup.service
up_cgroups "$CG"
block=$(sed -e 's/"lte0"/"up2"/g' -e 's/"wan2"/"up2"/g' -e "s|system.slice/backup.service|$CG|" \
	-e 's/"br-lan"/"lan0"/' <<<"$block")
UP_CGROUP=1
up_start "$block"
t_check "show up2 --json: the README's three bindings" python3 -c '
import json, sys
b = json.loads(sys.stdin.read())["uplinks"][0]["bindings"]
assert [sorted(x) for x in b] == [["cgroup", "mark", "mark_mask", "policy"], ["from", "mark", "mark_mask", "policy"],
                                  ["iif", "mark", "mark_mask", "policy"]], b
assert b[0]["cgroup"] == sys.argv[1] and b[0]["policy"] == "strict" and b[0]["mark"], b
assert b[1]["from"] == "172.30.0.0/16" and b[1]["policy"] == "default", b' "$CG" <<<"$(up_show up2 --json)"

# The Docker network: C behind the host's bridge, masqueraded out of the uplinks.
up_container br-wan2net 172.30
# shellcheck disable=SC2016
svc() { up_cg sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec socat -T2 - TCP:198.51.100.1:7,connect-timeout=2' "$CG" </dev/null 2>&1; }
t_eq "unbound traffic leaves by up1" 10.1.0.2 "$(tk_src)"
t_eq "the service's cgroup (lte0's binding) leaves by up2" 10.2.0.2 "$(svc)"
t_eq "the Docker network (wan2's binding by source) leaves by up2" 10.2.0.2 \
	"$(t_in "$C" socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>/dev/null)"
ip -n "$H" link set up2 down
t_check "up2 down: the strict service fails at once, network unreachable" \
	grep -q "Network is unreachable" <<<"$(svc)"
t_done
