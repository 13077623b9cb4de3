# tests/lib.sh: helpers for root integration tests.  Source it first thing:
#   . "$(dirname "$0")/../lib.sh"
# Every namespace, process and mount made through these helpers is removed on
# exit, pass or fail.  Names are unique per test run (rt<pid>...), so tests may
# run side by side.  Checks print "ok - ..." or "not ok - ..."; a test fails if
# any check failed (exit 1) and is skipped with t_skip (exit 77).
set -u
TOP=${RTALLOC_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
RTALLOCD=$BUILD/rtallocd
RTALLOC=$BUILD/rtalloc
T_ID="rt$$"
T_DIR=$(mktemp -d "/tmp/$T_ID.XXXXXX")
T_NETNS=()
T_PIDS=()
T_CLEANUP=()
T_FAILED=0
T_REC=""
T_READY_N=0
export LC_ALL=C
# A NOTIFY_SOCKET from the caller's environment (a systemd unit running the
# tests) is not for the daemons under test; t_bg_ready sets its own.
unset NOTIFY_SOCKET
# Sanitizer reports of backgrounded daemons (whose stderr is /dev/null) go to
# files; t_cleanup fails the test if any appear.
T_SAN=$T_DIR/sanitizer
export ASAN_OPTIONS="log_path=$T_SAN:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$T_SAN:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# Tests read the server's database while it runs.  Right after a restart
# (kill -9 tests) the server may hold SQLite's recovery lock, and the CLI
# without a busy timeout then prints nothing but an error, which a test would
# read as "no leases": wait for the lock like the server itself does.
sqlite3() { command sqlite3 -cmd '.timeout 10000' "$@"; }

t_skip() { echo "skipped: $*"; exit 77; }
t_ok() { echo "ok - $*"; }
t_fail() { echo "not ok - $*"; T_FAILED=1; }
# t_check DESCRIPTION CMD...: ok when CMD succeeds.
t_check() { local d=$1; shift; if "$@"; then t_ok "$d"; else t_fail "$d"; fi; }
# t_eq DESCRIPTION EXPECTED ACTUAL
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else
		t_fail "$1"; printf '    expected: %s\n    actual:   %s\n' "$2" "$3"; fi
}
# t_wait SECONDS CMD...: poll every 0.1 s until CMD succeeds; 1 on timeout.
t_wait() {
	local limit=$(( $1 * 10 )) i=0; shift
	while ! "$@" 2>/dev/null; do
		i=$((i + 1)); [ $i -ge $limit ] && return 1; sleep 0.1
	done
}
t_done() { [ $T_FAILED = 0 ] && exit 0; exit 1; }

t_require_root() {
	[ "$(id -u)" = 0 ] || t_skip "needs root"
	ip netns add "${T_ID}probe" 2>/dev/null || t_skip "cannot create network namespaces"
	ip netns del "${T_ID}probe"
}

# A test killed with SIGKILL (tests/run's timeout -k) runs no EXIT trap, and
# its namespaces would stay.  So each one is listed, once made, in the record
# $T_REG/$T_ID.START (START: this shell's start time, so a record is never
# shared with a later test that gets the same pid), and tests/run's sweep
# removes what the record of a test whose pid is gone lists.  Lines:
# "pidns ID" (liveness is only judged in the same pid namespace), "dir
# T_DIR", then "netns NAME" per namespace.  t_cleanup removes the record.
T_REG=/run/rtalloc-tests
# t_start_time PID: start time of PID in clock ticks since boot (field 22
# of /proc/PID/stat); 1 when there is no such process.
t_start_time() {
	local s f
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	read -ra f <<<"${s##*) }"
	echo "${f[19]}"
}
t_record() {
	if [ -z "$T_REC" ]; then
		mkdir -p "$T_REG" || return 1
		T_REC=$T_REG/$T_ID.$(t_start_time $$)
		printf 'pidns %s\ndir %s\n' "$(readlink /proc/$$/ns/pid)" "$T_DIR" >"$T_REC"
	fi
	echo "netns $1" >>"$T_REC"
}

# t_netns NAME: creates namespace $T_ID$NAME with lo up; its full name is left
# in T_NS (not printed: a $(...) subshell would lose the cleanup entry).
t_netns() {
	T_NS="$T_ID$1"
	ip netns add "$T_NS" || { echo "cannot add netns $T_NS" >&2; exit 1; }
	T_NETNS+=("$T_NS")
	t_record "$T_NS"
	ip -n "$T_NS" link set lo up
}
t_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# t_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
t_veth() {
	ip link add "$T_ID-tmp" type veth peer name "$T_ID-tmq" || return 1
	ip link set "$T_ID-tmp" netns "$1" && ip -n "$1" link set "$T_ID-tmp" name "$2" &&
	ip link set "$T_ID-tmq" netns "$3" && ip -n "$3" link set "$T_ID-tmq" name "$4" &&
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}
# t_bg NS CMD...: runs CMD in NS in the background; its pid in T_LAST_PID.
t_bg() {
	local ns=$1; shift
	ip netns exec "$ns" "$@" &
	T_LAST_PID=$!
	T_PIDS+=("$T_LAST_PID")
}
t_on_exit() { T_CLEANUP+=("$*"); }

# A daemon that binds its socket before it loads its state (rtallocd binds,
# then opens and loads its database) is not ready when the socket shows up;
# it says when it is with READY=1 to NOTIFY_SOCKET, as under systemd.
# t_bg_ready NAME NS CMD...: t_bg of CMD with NOTIFY_SOCKET set to an
# abstract socket in NS that a listener holds; waits up to T_READY_WAIT
# (default 20) seconds for READY=1.  1, with "NAME did not become ready: ..."
# on stderr, when CMD exits first or the time passes.  A NOTIFY_SOCKET the
# caller sets gets each datagram relayed, so a test can watch the real one.
T_READY_PY='
import socket, sys
name, got, relay = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name)
while True:
    m = s.recv(4096)
    if relay:
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(
                m, "\0" + relay[1:] if relay[0] == "@" else relay)
        except OSError as e:
            print("relay to NOTIFY_SOCKET=%s: %s" % (relay, e), file=sys.stderr)
    if b"READY=1" in m.split(b"\n"):
        open(got, "w").write("READY=1\n")
        break
'
t_bg_ready() {
	local what=$1 ns=$2 wait=${T_READY_WAIT:-20} sock got lpid pid i=0 rc=0 py=python3
	shift 2
	T_READY_N=$((T_READY_N + 1))
	sock=$T_ID-ready$T_READY_N
	got=$T_DIR/ready$T_READY_N
	# Debian's python3 (scripts/deps) where there is one: a pyenv shim
	# first in PATH costs most of a second per start.
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	t_bg "$ns" "$py" -c "$T_READY_PY" "$sock" "$got" "${NOTIFY_SOCKET:-}"
	lpid=$T_LAST_PID
	if ! t_wait 10 t_socket_bound "$ns" "$sock"; then
		echo "$what did not become ready: no READY=1 listener on @$sock (python3?)" >&2
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
		return 1
	fi
	t_bg "$ns" env NOTIFY_SOCKET="@$sock" "$@"
	pid=$T_LAST_PID
	until grep -qx READY=1 "$got" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			# READY=1 may have come just before it exited.
			grep -qx READY=1 "$got" 2>/dev/null && break
			wait "$pid"; rc=$?
			echo "$what did not become ready: it exited with status $rc before READY=1" >&2
			rc=1; break
		fi
		if [ $((i += 1)) -gt $((wait * 10)) ]; then
			echo "$what did not become ready: no READY=1 on @$sock within $wait s" >&2
			rc=1; break
		fi
		sleep 0.1
	done
	kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
	T_LAST_PID=$pid
	return $rc
}

# t_server NS [CONFIG-JSON-BODY]: writes a config (socket rtallocd-$T_ID,
# db in T_DIR) and starts rtallocd -f in NS; waits until it is ready (READY=1,
# sent after its database is loaded), up to T_READY_WAIT seconds.
# Sets T_SOCK, T_DB, T_SERVER_PID, T_CONF.
t_server() {
	local ns=$1 extra=${2:-}
	T_SOCK=${T_SOCK:-rtallocd-$T_ID}
	T_DB=${T_DB:-$T_DIR/leases.db}
	T_CONF=$T_DIR/rtallocd.json
	cat >"$T_CONF" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$T_DB", "table_offset": 10000,
  "num_tables": 100, "table_timeout": 60${extra:+, $extra} }
EOC
	# its file socket (/run/rtalloc/NAME.sock) outlives a kill -9
	t_on_exit "rm -f /run/rtalloc/$T_SOCK.sock"
	t_bg_ready rtallocd "$ns" "$RTALLOCD" -c "$T_CONF" -f
	local rc=$?
	T_SERVER_PID=$T_LAST_PID
	T_SERVER_NS=$ns
	return $rc
}
# With a t_server running: t_req JSON sends it one datagram and prints the
# reply, t_field NAME prints an integer member of the JSON on stdin, and
# t_rows SQL queries its database.
t_req() { t_in "$T_SERVER_NS" "$BUILD/tools/dgram" -t 3000 "$T_SOCK" "$1"; }
t_field() { sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p"; }
t_rows() { sqlite3 "$T_DB" "$1"; }
# t_daemons NS [ADDRESS]: the pids of the rtalloc processes in NS (the
# daemons that stay behind), only the one for ADDRESS (-a) when given.
t_daemons() {
	local p
	for p in $(ip netns pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = rtalloc ] || continue
		if [ -z "${2:-}" ] || tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "-a $2 "; then
			echo "$p"
		fi
	done
}
# t_socket_bound NS NAME: the abstract socket @NAME exists in NS.  Bound is
# not ready: see t_bg_ready.
t_socket_bound() { ip netns exec "$1" cat /proc/net/unix | grep -q " @$2\$"; }

# t_uplink_host [-4]: the usual client setup: namespaces host (H) and isp
# (ISP), veth up0 (in H) -- isp0 (in ISP), and on up0 192.0.2.7/24 and,
# unless -4, 2001:db8:1::7/64.  Sets H and ISP (T_NS is left as ISP).
t_uplink_host() {
	t_netns host; H=$T_NS
	t_netns isp; ISP=$T_NS
	t_veth "$H" up0 "$ISP" isp0
	ip -n "$H" addr add 192.0.2.7/24 dev up0
	[ "${1:-}" = -4 ] || ip -n "$H" addr add 2001:db8:1::7/64 dev up0 nodad
}
# rtalloc ARGS...: the client under test, run in H against the server T_SOCK.
rtalloc() { ip netns exec "$H" "$RTALLOC" -d "$T_SOCK" "$@"; }
# t_agent NS CONFIG-JSON-BODY: with a t_server running, writes the agent's
# config (socket_path T_SOCK plus the body) and starts rtalloc-agent in NS,
# its stderr in T_AGENT_LOG, until it is ready; T_AGENT_PID is its pid.
# RTALLOC_AGENT_RCVBUF and the like pass through the environment.
t_agent() {
	T_AGENT_LOG=$T_DIR/agent.log
	printf '{ "socket_path": "%s", %s }\n' "$T_SOCK" "$2" >"$T_DIR/agent.json"
	t_bg_ready rtalloc-agent "$1" "$BUILD/rtalloc-agent" -c "$T_DIR/agent.json" 2>"$T_AGENT_LOG" || return 1
	T_AGENT_PID=$T_LAST_PID
}

t_cleanup() {
	local rc=$? p ns
	set +e
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUP[i]}" >/dev/null 2>&1; done
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# Let them finish exiting before the SIGKILL below: a SANITIZE=1
	# build checks for leaks at exit, and a SIGKILL in the middle of that
	# check leaves a report of its own ("Unable to get registers").
	# At most 5 s; a zombie has exited (the test shell reaps it later).
	for ((i = 0; i < 50; i++)); do
		local busy=0 st
		for p in "${T_PIDS[@]}"; do
			read -r st 2>/dev/null <"/proc/$p/stat" || continue
			st=${st##*) }
			[[ $st == [ZX]* ]] || { busy=1; break; }
		done
		[ $busy = 0 ] && break
		sleep 0.1
	done
	for ns in "${T_NETNS[@]}"; do
		# shellcheck disable=SC2046
		kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
		# control names of the rtalloc daemons killed there (keyed by
		# the namespace's inode)
		p=$(stat -L -c %i "/run/netns/$ns" 2>/dev/null) && rm -f "/run/rtalloc-clients/$p-"*
	done
	sleep 0.1
	local left=0
	for ns in "${T_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
		[ -e "/run/netns/$ns" ] && left=1
	done
	ip link del "$T_ID-tmp" 2>/dev/null
	# Daemons got SIGTERM above; give them a moment to write exit-time
	# (leak) reports before looking.
	sleep 0.3
	if compgen -G "$T_SAN.*" >/dev/null; then
		echo "not ok - sanitizer reports:"
		cat "$T_SAN".*
		rc=1
	fi
	rm -rf "$T_DIR"
	# What could not be removed stays in the record for tests/run's sweep.
	[ -n "$T_REC" ] && [ $left = 0 ] && rm -f "$T_REC"
	exit $rc
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM
