#!/bin/bash
# rtalloc exec UPLINK -- COMMAND: two uplinks of rtalloc-agent (up1 carries
# unbound traffic; the ISPs drop sources they did not assign).  `rtalloc
# exec up2` reaches the far host with up2's source over IPv4 and IPv6, its
# children too, while unbound traffic goes by up1; the agent's fwmark rules
# exist while a command runs and go with the last one; a member of
# exec_gids may use it, another user may not.  With up2's link down,
# --strict fails at once (network unreachable), the default policy follows
# up1.  A command running through an agent restart keeps its uplink.
# rtalloc becomes COMMAND (exec in place): the agent follows it by its pid
# after rtalloc hangs up, so its rules stay while it runs.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uplinks.sh"
t_require_root
export RTALLOC_TRACK_STATE=$T_DIR/track-state.json	# tk_start's TK_STATE
up_start '"exec_gids": [4242]'
T2=$(up_table 10.2.0.2) T26=$(up_table 2001:db8:2::2)
# rx ARGS... -- CMD...: rtalloc exec ARGS in the host.
rx() { t_in "$H" "$RTALLOC" exec -d "$T_SOCK" "$@"; }
v4() { socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null; }
norm6() { python3 -c 'import ipaddress, sys
s = sys.stdin.read().strip().strip("[]")
print(ipaddress.ip_address(s) if s else "")'; }
export -f v4

t_eq "unbound traffic leaves by up1" 10.1.0.2 "$(tk_src)"
t_eq "exec up2: the far host sees up2's source" 10.2.0.2 "$(rx up2 -- socat -T2 - TCP:198.51.100.1:7 </dev/null)"
t_eq "exec up2: IPv6 too" 2001:db8:2::2 \
	"$(rx up2 -- socat -T2 - 'TCP6:[2001:db8:ff::1]:7' </dev/null | norm6)"
t_eq "exec up2: a child's child too" 10.2.0.2 "$(rx up2 -- bash -c '(v4)')"
t_eq "exec up1: up1's source" 10.1.0.2 "$(rx up1 -- bash -c v4)"
t_eq "meanwhile unbound traffic still leaves by up1" 10.1.0.2 "$(tk_src)"

# Not through rx or t_in: $! of a function is a subshell's; this is rtalloc's.
ip netns exec "$H" "$RTALLOC" exec -d "$T_SOCK" up2 -- sleep 4 &
XP=$!
sleep 0.5
t_check "while it runs: fwmark rule into up2's IPv4 table" \
	grep -q "^9100:.*fwmark 0x[0-9a-f]*/0xf0000000 lookup $T2 proto 122" <<<"$(ip -n "$H" rule show pref 9100)"
t_check "while it runs: into up2's IPv6 table" \
	grep -q "^9100:.*fwmark 0x[0-9a-f]*/0xf0000000 lookup $T26 proto 122" <<<"$(ip -n "$H" -6 rule show pref 9100)"
t_check "--status: the exec rules are no difference" t_in "$H" "$RTALLOC" -d "$T_SOCK" --status
t_check "show up2 --json: the exec user with its leased mark and policy" python3 -c '
import json, sys
u = json.load(sys.stdin)["uplinks"][0]
x = u["exec"]
assert len(x) == 1 and x[0]["policy"] == "default" and x[0]["uid"] == 0, x
assert x[0]["mark_mask"] == 0xf0000000 and x[0]["mark"] and x[0]["mark"] & ~0xf0000000 == 0, x
assert isinstance(x[0]["pid"], int) and x[0]["pid"] == int(sys.argv[1]), (x, sys.argv)' "$XP" <<<"$(up_show up2 --json)"
t_check "show up2: Exec: the user, its policy and mark" grep -Eq \
	"^ +Exec: pid $XP uid 0 \\(default, mark 0x[1-9a-e]0000000/0xf0000000\\)$" <<<"$(up_show up2)"
t_check "show up1: no exec user" grep -Eq "^ +Exec: -$" <<<"$(up_show up1)"
ip -n "$H" rule del pref 9100 lookup "$T2"
t_check "a deleted exec rule is restored" t_wait 3 eval \
	"ip -n '$H' rule show pref 9100 | grep -q 'lookup $T2 proto 122'"
wait "$XP"
no_rules() { [ -z "$(ip -n "$H" rule show pref 9100)$(ip -n "$H" -6 rule show pref 9100)" ]; }
t_check "the last user gone, the rules go" t_wait 2 no_rules
# The protocol's other client: one that keeps its connection after
# "detach" (docs/protocol.md) is a user while connected, and after hanging
# up while its process runs (past the 200 ms linger both times).
# shellcheck disable=SC2016
out=$(t_in "$H" python3 -c '
import socket, subprocess, sys, time
def rules():
    out = subprocess.run(["ip", "rule", "show", "pref", "9100"], capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if "proto 122" in l])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0rtalloc-agent/%s/control" % sys.argv[1])
s.sendall(b"exec up2 default\n")
print(s.recv(100).decode().split()[2])
time.sleep(0.5)
print("connected", rules())
s.close()
time.sleep(0.5)
print("hung up", rules())' "$T_SOCK")
t_eq "a client that keeps its connection: granted with detach, rules while connected and after" \
	"detach connected 1 hung up 1" "${out//$'\n'/ }"
t_check "it ended: the rules go" t_wait 2 no_rules
# The command's cgroup (the agent's, marking its sockets) goes once empty.
cg=$(rx up2 -- cat /proc/self/cgroup | sed -n 's/^0:://p')
t_check "the command ran in a cgroup of its own ($cg)" grep -Eq '/packetmark-[0-9]+$' <<<"$cg"
# shellcheck disable=SC2016
cg_gone() { t_in "$H" sh -c 'mount -t cgroup2 none /sys/fs/cgroup && ! test -d "/sys/fs/cgroup$0"' "$cg"; }
t_check "its cgroup is removed once empty" t_wait 3 cg_gone

# A command still running when the agent restarts keeps its uplink: the
# new agent takes it over (/run/rtalloc-agent: its mark, its rules into
# up2's tables of now) and removes them when it ends.
GO=$T_DIR/go OUT=$T_DIR/out
ip netns exec "$H" "$RTALLOC" exec -d "$T_SOCK" up2 -- \
	bash -c "until [ -e '$GO' ]; do sleep 0.1; done; v4 >'$OUT'" &
XP=$!
mark_of() { ip -n "$H" rule show pref 9100 | grep -o 'fwmark 0x[0-9a-f]*' | sort -u; }
t_check "before the restart: the command's rule" t_wait 3 eval '[ -n "$(mark_of)" ]'
m=$(mark_of)
kill -TERM "$UP_AGENT_PID"; wait "$UP_AGENT_PID" 2>/dev/null
t_eq "the agent stopped: its rules went" "" "$(mark_of)"
up_agent || exit 1
t_wait 5 up_tables
t2=$(up_table 10.2.0.2)
t_check "restarted: the running command's rule is back, into up2's table $t2" t_wait 3 eval \
	"ip -n '$H' rule show pref 9100 | grep -q '$m/0xf0000000 lookup $t2 proto 122'"
t_eq "restarted: with the same mark" "$m" "$(mark_of)"
t_check "restarted: rtalloc show lists it under up2" grep -Eq "^ +Exec: pid $XP uid 0 " <<<"$(up_show up2)"
touch "$GO"
wait "$XP"
t_eq "restarted: the running command still leaves by up2" 10.2.0.2 "$(cat "$OUT")"
t_check "it ended: its rules go" t_wait 3 no_rules

out=$(t_in "$H" setpriv --reuid 4242 --regid 4242 --clear-groups "$RTALLOC" exec -d "$T_SOCK" up2 -- bash -c v4 2>&1)
t_eq "exec_gids member: up2's source" 10.2.0.2 "$out"
out=$(t_in "$H" setpriv --reuid 4243 --regid 4243 --groups 4242 "$RTALLOC" exec -d "$T_SOCK" up2 -- bash -c v4 2>&1)
t_eq "exec_gids as a supplementary group: up2's source" 10.2.0.2 "$out"
out=$(t_in "$H" setpriv --reuid 4243 --regid 4243 --clear-groups "$RTALLOC" exec -d "$T_SOCK" up2 -- bash -c v4 2>&1); rc=$?
t_eq "another user: exit 125" 125 "$rc"
t_check "another user: refused in one line ($out)" grep -qx "rtalloc: exec: permission denied: uid 4243 is neither root nor in agent.json's exec_gids" <<<"$out"
out=$(rx lo -- true 2>&1); rc=$?
t_eq "exec of no uplink: exit 125" 125 "$rc"
t_check "exec of no uplink: one line" grep -qx "rtalloc: exec: lo is no uplink of rtalloc-agent (not in agent.json's interfaces)" <<<"$out"
out=$(rx up2 -- /nonexistent/cmd 2>&1); rc=$?
t_eq "a COMMAND not found: exit 127" 127 "$rc"
t_check "a COMMAND not found: one line ($out)" grep -qx "rtalloc: exec: /nonexistent/cmd: No such file or directory" <<<"$out"
printf 'x\n' >"$T_DIR/notexec"; chmod 644 "$T_DIR/notexec"
out=$(rx up2 -- "$T_DIR/notexec" 2>&1); rc=$?
t_eq "a COMMAND not runnable: exit 126" 126 "$rc"
t_check "a COMMAND not runnable: one line ($out)" grep -qx "rtalloc: exec: $T_DIR/notexec: Permission denied" <<<"$out"
t_eq "a COMMAND's own status is rtalloc's" 3 "$(rx up2 -- sh -c 'exit 3'; echo $?)"

# Other tools' marks: Tailscale's and Firezone's rules leave ours alone; a
# rule whose mask overlaps rtallocd's mark_mask (0xf0000000) makes the agent
# refuse, naming it.
ip -n "$H" rule add pref 5270 fwmark 0x80000/0xff0000 lookup 52
ip -n "$H" rule add pref 5271 fwmark 0xfd002021 lookup 51820
t_eq "Tailscale's and Firezone's marks: exec still works" 10.2.0.2 "$(rx up2 -- bash -c v4)"
ip -n "$H" rule add pref 5000 fwmark 0x30000000/0x3f000000 lookup 77
out=$(rx up2 -- bash -c v4 2>&1); rc=$?
t_eq "a rule catching our marks: exit 125" 125 "$rc"
t_check "a rule catching our marks: refused, naming it ($out)" grep -q \
	"^rtalloc: exec: the exec marks .* overlap another rule in the kernel: \`inet 5000: fwmark 0x30000000/0x3f000000 lookup 77'" <<<"$out"
ip -n "$H" rule del pref 5000

# rtalloc-track has up2 offline (ISP2 drops everything): --strict refused
# at once, the default follows unbound traffic; back online, up2 again.
tk_start '"interval": 0.3, "timeout": 0.3, "down": 2, "up": 2, "targets": ["198.51.100.1"]'
t_check "track: up2 online" t_wait 10 tk_is up2 online
ip netns exec "$H" "$RTALLOC" exec -d "$T_SOCK" up2 -- sleep 30 &
XP=$!
tk_cut 100 2
t_check "track: up2 offline" t_wait 10 tk_is up2 offline
out=$(rx --strict up2 -- socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>&1)
t_check "up2 offline, --strict: network unreachable ($out)" grep -q "Network is unreachable" <<<"$out"
t_check "up2 offline, default policy: follows unbound traffic (up1)" t_wait 3 eval '[ "$(rx up2 -- bash -c v4)" = 10.1.0.2 ]'
tk_cut 0 2
t_check "up2 online again: exec up2 leaves by up2" t_wait 5 eval '[ "$(rx up2 -- bash -c v4)" = 10.2.0.2 ]'
t_eq "rtalloc became its command (exec in place: no parent waiting)" sleep "$(cat "/proc/$XP/comm")"
kill "$XP"; wait "$XP" 2>/dev/null
t_check "the killed exec's sleep is gone, not left running" t_wait 2 eval "! kill -0 $XP 2>/dev/null"
kill "$TK_PID"; wait "$TK_PID" 2>/dev/null

ip -n "$H" link set up2 down
t_in "$H" nft -f - <<'EON'
table inet count {
	chain out { type filter hook postrouting priority 0; oifname "up1" tcp dport 7 counter name up1; }
	counter up1 { }
}
EON
sent1() { t_in "$H" nft list counter inet count up1 | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
n1=$(sent1)
t_check "an nftables counter of packets to the far host by up1 ($n1)" test -n "$n1"
start=$(date +%s%N)
out=$(rx --strict up2 -- socat -T2 - TCP:198.51.100.1:7,connect-timeout=2 </dev/null 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
t_check "up2 down, --strict: network unreachable ($out)" grep -q "Network is unreachable" <<<"$out"
t_check "up2 down, --strict: nothing reached the far host" eval '! grep -q "10\.[12]\.0\.2" <<<"$out"'
t_check "up2 down, --strict: at once ($ms ms)" test "$ms" -lt 1500
t_eq "up2 down, --strict: not one packet left by up1" "$n1" "$(sent1)"
out=$(rx --strict up2 -- socat -T2 - 'TCP6:[2001:db8:ff::1]:7,connect-timeout=2' </dev/null 2>&1)
t_check "up2 down, --strict, IPv6: network unreachable ($out)" grep -q "Network is unreachable" <<<"$out"
t_eq "up2 down, default policy: follows unbound traffic (up1)" 10.1.0.2 "$(rx up2 -- bash -c v4)"
t_done
