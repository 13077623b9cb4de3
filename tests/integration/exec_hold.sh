#!/bin/bash
# rtalloc exec against an agent that grants without "detach" (docs/protocol.md:
# the rtalloc-agent before exec in place, or one that marks the caller
# through its cgroup helper, which waits for the hang-up): rtalloc stays
# COMMAND's parent, holds its connection until COMMAND has ended, passes
# SIGTERM on and exits with COMMAND's status (128+N for a signal N).
# The agent here is a stand-in speaking that protocol: the real agent takes
# its helper path only on a host without a cgroup2 it can mount, which this
# machine is not, and no older agent is built here.  exec_uplink.sh runs the
# real agent (with "detach").
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns a; H=$T_NS
NAME=rtallocd-$T_ID LOG=$T_DIR/agent.log ENDED=$T_DIR/ended
# shellcheck disable=SC2016
t_bg "$H" python3 -c '
import os, socket, struct, sys
name, log, ended = sys.argv[1:4]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind("\0rtalloc-agent/%s/control" % name)
l.listen(8)
with open(log, "a", buffering=1) as out:
    out.write("listening\n")
    while True:
        c, _ = l.accept()
        pid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
        c.recv(128)
        c.sendall(b"ok 0x10000000\n")
        c.recv(128)	# until the hang-up
        out.write("closed %d %s\n" % (pid, "after" if os.path.exists(ended) else "before"))
        c.close()
' "$NAME" "$LOG" "$ENDED"
t_check "the stand-in agent listens" t_wait 5 grep -q listening "$LOG"

t_in "$H" "$RTALLOC" exec -d "$NAME" up0 -- \
	sh -c "echo \$\$ >'$T_DIR/cmdpid'; sleep 0.3; touch '$ENDED'; exit 3"
t_eq "COMMAND's status is rtalloc's" 3 "$?"
t_check "rtalloc hung up only after COMMAND ended" t_wait 2 grep -q "^closed [0-9]* after$" "$LOG"
rpid=$(sed -n 's/^closed \([0-9]*\) .*/\1/p' "$LOG")
t_check "COMMAND ran as rtalloc's child, not in its place ($rpid, $(cat "$T_DIR/cmdpid"))" \
	test -n "$rpid" -a "$rpid" != "$(cat "$T_DIR/cmdpid")"

# Not through t_in: $! of a function is a subshell's; this is rtalloc's.
ip netns exec "$H" "$RTALLOC" exec -d "$NAME" up0 -- sleep 30 &
XP=$!
sp() { pgrep -x -P "$XP" sleep; }
t_check "sleep runs as rtalloc's child" t_wait 5 eval 'sp >/dev/null'
SP=$(sp)
kill -TERM "$XP"; wait "$XP"
t_eq "SIGTERM: rtalloc exits 128+15" 143 "$?"
t_check "rtalloc passed SIGTERM on: sleep is gone" t_wait 2 eval "! kill -0 ${SP:-0} 2>/dev/null"
# shellcheck disable=SC2016
t_check "then rtalloc hung up" t_wait 2 eval '[ "$(grep -c "^closed" "$LOG")" = 2 ]'
t_done
