#!/bin/bash
# packetmark never lets a command run unmarked without a word (issue 14).
# The bypasses of the LD_PRELOAD shim, each tried as uid 65534:
#  - a static program (no loader): root's packetmark marks it through the
#    cgroup/BPF mechanism; a non-root packetmark (no cgroup) refuses it;
#  - an execute-only (0711) static program, which a non-root packetmark
#    cannot read to check: refused, not guessed "dynamic";
#  - a script whose "#!" interpreter (directly, nested, or through
#    /usr/bin/env) is static: followed and refused, or marked by the cgroup;
#  - io_uring's IORING_OP_SOCKET and raw socket(2) syscalls in a dynamic
#    program: marked by the cgroup (the preload cannot see them, as documented);
# plus the cgroup's life (removed once its last process exits, daemonized
# children included), nested packetmarks, --cgroup refused loudly without
# privilege, and the route a marked static program's traffic takes.
. "$(dirname "$0")/../lib.sh"
t_require_root
PM=$BUILD/packetmark
for f in "$PM" "$BUILD/libpacketmark.so" "$BUILD/tools/sockmark" "$BUILD/tools/sockmark-static"; do
	[ -x "$f" ] || t_skip "$f not built (make tests)"
done
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0
unset LIBPACKETMARK_MARK LD_PRELOAD PACKETMARK_SHIM
grep -q '^0::/' /proc/self/cgroup || t_skip "no cgroup v2 here"

# Everything uid 65534 runs lives where it can reach it: packetmark next to
# its shim, sockmark dynamic and static.
chmod 711 "$T_DIR"
B=$T_DIR/bin
mkdir -m 755 "$B"
cp "$PM" "$BUILD/libpacketmark.so" "$BUILD/tools/sockmark" "$BUILD/tools/sockmark-static" "$B/"
PM=$B/packetmark SM=$B/sockmark SS=$B/sockmark-static
# An execute-only static program, and an execute-only dynamic one.
cp "$SS" "$B/xo-static"; chmod 711 "$B/xo-static"
cp "$SM" "$B/xo-dynamic"; chmod 711 "$B/xo-dynamic"
# Scripts: a static interpreter, a script as interpreter of a script, env.
printf '#!%s inet-udp\n' "$SS" >"$B/static.script"
printf '#!%s\n' "$B/static.script" >"$B/nested.script"
printf '#!/usr/bin/env sockmark-static\n' >"$B/env.script"
printf '#!%s inet-udp\n' "$SM" >"$B/dynamic.script"
chmod 755 "$B"/*.script

NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)
# uid 65534 allowed to set SO_MARK itself: so the preload would work for a
# dynamic program, and only the bypass is left to refuse.
NOBODY_NA=("${NOBODY[@]}" --inh-caps=+net_admin --ambient-caps=+net_admin)

t_netns s; NS=$T_NS
ns() { t_in "$NS" "$@"; }

# refused DESCRIPTION STDERR-REGEX CMD...: exit 125 (RC=64: bad usage), one line naming the
# cause, and the command never ran (no output at all).
refused() {
	local d=$1 re=$2 out rc; shift 2
	out=$("$@" 2>"$T_DIR/err"); rc=$?
	t_eq "$d: exit ${RC:-125}" "${RC:-125}" "$rc"
	t_eq "$d: the command did not run" "" "$out"
	t_check "$d: says why" grep -qE "$re" "$T_DIR/err"
	t_eq "$d: one line" 1 "$(wc -l <"$T_DIR/err")"
}

# 1. Static programs.
out=$(ns "$PM" 0x1000 "${NOBODY[@]}" "$SS" inet-udp inet6-tcp+nonblock inet6-udp+cloexec)
t_eq "static, root's packetmark: the cgroup marks every socket" "inet-udp mark=0x1000
inet6-tcp+nonblock mark=0x1000
inet6-udp+cloexec mark=0x1000" "$out"
refused "static, uid 65534's packetmark" \
	"^packetmark: error: $SS is statically linked: LD_PRELOAD would not apply .*no cgroup either \(bpf" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$SS" inet-udp
refused "static, --preload" "$SS is statically linked" ns "$PM" --preload 0x1000 "$SS" inet-udp

# 2. Execute-only: the kernel runs it, uid 65534 cannot read it.
refused "execute-only static, uid 65534's packetmark" \
	"^packetmark: error: $B/xo-static cannot be read to check that LD_PRELOAD applies \(Permission denied; execute-only\?\)" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/xo-static" inet-udp
refused "execute-only dynamic, uid 65534's packetmark (cannot tell it apart)" \
	"$B/xo-dynamic cannot be read" ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/xo-dynamic" inet-udp
out=$(ns "$PM" 0x1000 "${NOBODY[@]}" "$B/xo-static" inet-udp uring-inet-udp)
t_eq "execute-only static under root's packetmark: marked by the cgroup" "inet-udp mark=0x1000
uring-inet-udp mark=0x1000" "$out"

# 3. Scripts are followed to the program that runs.
out=$(ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/dynamic.script" 2>&1)
t_eq "script with a dynamic interpreter, uid 65534: marked by the preload" "inet-udp mark=0x1000" "$out"
refused "script with a static interpreter, uid 65534" \
	"^packetmark: error: $B/static.script -> $SS is statically linked" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/static.script"
refused "script whose interpreter is such a script, uid 65534" \
	"$B/nested.script -> $B/static.script -> $SS is statically linked" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/nested.script"
refused "#!/usr/bin/env of a static program, uid 65534" \
	"$B/env.script -> /usr/bin/env -> $SS is statically linked" \
	ns env PATH="$B:$PATH" "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/env.script"
out=$(ns "$PM" 0x1000 "${NOBODY[@]}" "$B/nested.script")
t_eq "script with a static interpreter under root's packetmark: marked" "inet-udp mark=0x1000" "$out"

# What else the preload's check follows or refuses, as uid 65534.
printf 'exec %s inet-udp\n' "$SM" >"$B/plain.sh"; chmod 755 "$B/plain.sh"
out=$(ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/plain.sh" 2>&1)
t_eq "a script without #! (execvp runs /bin/sh): marked by the preload" "inet-udp mark=0x1000" "$out"
prev=$B/dynamic.script
for n in 1 2 3 4 5 6; do printf '#!%s\n' "$prev" >"$B/deep$n"; chmod 755 "$B/deep$n"; prev=$B/deep$n; done
refused "more than 5 nested #! interpreters" "more than 5 nested #! interpreters" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/deep6"
# An aarch64 (or, on aarch64, x86-64) ELF header: binfmt_misc's business.
m=183; [ "$(uname -m)" = aarch64 ] && m=62
python3 -c 'import struct,sys
h = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 2, int(sys.argv[2]), 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)
open(sys.argv[1], "wb").write(h)' "$B/foreign" "$m"
chmod 755 "$B/foreign"
refused "an ELF program for another machine" "$B/foreign is an ELF program for another machine" \
	ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/foreign"
cp "$SM" "$B/sgid"; chgrp 0 "$B/sgid"; chmod 2755 "$B/sgid"
refused "a set-group-ID program" "$B/sgid is set-group-ID" ns "${NOBODY_NA[@]}" "$PM" 0x1000 "$B/sgid" inet-udp

# 4. io_uring and raw syscalls from a dynamic program.
KINDS="uring-inet-udp uring-inet6-tcp raw-inet-udp raw-inet6-udp+cloexec"
# shellcheck disable=SC2086
out=$(ns "$PM" 0x1000 "${NOBODY[@]}" "$SM" $KINDS)
t_eq "io_uring and raw syscalls, root's packetmark: marked" "uring-inet-udp mark=0x1000
uring-inet6-tcp mark=0x1000
raw-inet-udp mark=0x1000
raw-inet6-udp+cloexec mark=0x1000" "$out"
out=$(ns "$PM" --cgroup 0x1000 "${NOBODY[@]}" "$SM" uring-inet-udp unix-stream)
t_eq "--cgroup: io_uring marked, unix sockets untouched" "uring-inet-udp mark=0x1000
unix-stream mark=0" "$out"
# The documented limit of the preload (why the cgroup is the default).
out=$(ns "$PM" --preload 0x1000 "${NOBODY_NA[@]}" "$SM" inet-udp uring-inet-udp raw-inet-udp)
t_eq "--preload: io_uring and raw syscalls are beyond it (documented)" "inet-udp mark=0x1000
uring-inet-udp mark=0
raw-inet-udp mark=0" "$out"

# 5. --cgroup without the privilege for it: refused, not run.
refused "--cgroup as uid 65534" \
	'^packetmark: error: --cgroup: bpf\(BPF_PROG_LOAD cgroup/sock_create\): Operation not permitted' \
	ns "${NOBODY_NA[@]}" "$PM" --cgroup 0x1000 "$SM" inet-udp
RC=64 refused "unknown option" '^packetmark: error: unknown option --cgroups' ns "$PM" --cgroups 0x1 true

t_eq "the helper's cgroup2 mount is not in COMMAND's mount namespace" 0 \
	"$(ns "$PM" 0x1000 grep -c ' - cgroup2 ' /proc/self/mountinfo)"
out=$(ns "$PM" 0x1000 "$SM" own=0x5)
t_eq "cgroup: the application's own SO_MARK still wins" "own mark=0x5" "$out"
out=$(ns "$PM" 0x1000 env -i "$SM" inet-udp)
t_eq "cgroup: a child with an empty environment is still marked" "inet-udp mark=0x1000" "$out"

# 6. Nested: the inner packetmark's mark wins, in the cgroup as in the preload.
out=$(ns "$PM" 0x1 "$PM" 0x2 "$SS" inet-udp)
t_eq "nested cgroups: the inner mark wins" "inet-udp mark=0x2" "$out"
out=$(ns "$PM" 0x1 "$PM" --preload 0x2 "$SM" inet-udp raw-inet-udp)
t_eq "preload inside a cgroup: the preload's mark, the cgroup's for raw" "inet-udp mark=0x2
raw-inet-udp mark=0x1" "$out"
out=$(ns "$PM" --preload 0x1 "$PM" 0x2 "$SM" inet-udp raw-inet-udp)
t_eq "cgroup inside a preload: the inherited shim does not override it" "inet-udp mark=0x2
raw-inet-udp mark=0x2" "$out"

# 7. The cgroup lives exactly as long as a process in it: here a daemonized
# child outlives packetmark's own command.
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CGP=$(sed -n 's/^0:://p' /proc/self/cgroup); [ "$CGP" = / ] && CGP=
if [ -n "$CG2" ]; then
	# shellcheck disable=SC2016
	ns "$PM" 0x1000 sh -c 'echo $$ >"$0"; sleep 30 >/dev/null 2>&1 & echo $! >"$1"' \
		"$T_DIR/pm.pid" "$T_DIR/bg.pid"
	PMPID=$(cat "$T_DIR/pm.pid") BGPID=$(cat "$T_DIR/bg.pid")
	DIR=$CG2$CGP/packetmark-$PMPID
	t_check "the cgroup stays while a child lives ($DIR)" test -d "$DIR"
	t_eq "the child is in it" "0::$CGP/packetmark-$PMPID" "$(grep '^0::' "/proc/$BGPID/cgroup")"
	HELPER=
	for p in $(ip netns pids "$NS"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = packetmark-cg ] && HELPER=$p
	done
	t_check "its helper runs (packetmark-cg)" test -n "$HELPER"
	# A service stop signals every process at once: the helper stays for
	# the cleanup.
	[ -n "$HELPER" ] && kill -TERM "$HELPER" && kill -INT "$HELPER" && kill -HUP "$HELPER"
	sleep 0.2
	t_check "the helper ignores SIGTERM, SIGINT and SIGHUP" kill -0 "${HELPER:-none}"
	kill "$BGPID"
	t_check "the cgroup is removed once its last process is gone" t_wait 5 test ! -d "$DIR"
	# shellcheck disable=SC2016
	ns "$PM" 0x1000 sh -c 'echo $$ >"$0"' "$T_DIR/pm.pid"
	t_check "a short command's cgroup is removed" \
		t_wait 5 test ! -d "$CG2$CGP/packetmark-$(cat "$T_DIR/pm.pid")"
	# shellcheck disable=SC2016
	out=$("$PM" 0x1000 "${NOBODY[@]}" sh -c 'echo $$ >"$0/cgroup.procs" 2>/dev/null && echo left; grep "^0::" /proc/self/cgroup' "$CG2$CGP")
	t_check "uid 65534 cannot leave packetmark's cgroup ($out)" grep -qx "0::$CGP/packetmark-[0-9]*" <<<"$out"
	# A helper killed with SIGKILL cannot clean up: the next packetmark
	# removes what a dead packetmark left (a nest of them too).
	sh -c 'exit 0' & wait $!; DEAD=$!
	if ! kill -0 "$DEAD" 2>/dev/null; then
		mkdir -p "$CG2$CGP/packetmark-$DEAD/packetmark-$DEAD"
		ns "$PM" 0x1 true
		t_check "a dead packetmark's cgroups are swept by the next one" test ! -d "$CG2$CGP/packetmark-$DEAD"
	fi
	t_eq "the cgroup helper holds no stdout: \$(...) returns at once" "x" \
		"$(timeout 5 ip netns exec "$NS" "$PM" 0x1 echo x)"
else
	t_ok "# no cgroup2 mount in this mount namespace: cgroup life not checked"
fi

# 8. The route: a marked static program's traffic cannot leave where marked
# traffic must not.
t_netns d; D=$T_NS
t_veth "$NS" c0 "$D" d0
ip -n "$NS" addr add 10.77.0.2/24 dev c0
ip -n "$D" addr add 10.77.0.1/24 dev d0
ip -n "$NS" rule add fwmark 0x1000 unreachable pref 100
t_eq "static, unmarked: sends" "connect ok" "$(ns "$SS" connect=10.77.0.1:9)"
t_eq "static under packetmark: its traffic follows the mark's rule" "connect error=ENETUNREACH" \
	"$(ns "$PM" 0x1000 "${NOBODY[@]}" "$SS" connect=10.77.0.1:9)"
t_done
