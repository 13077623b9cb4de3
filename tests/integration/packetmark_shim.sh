#!/bin/bash
# libpacketmark.so and packetmark: every IPv4/IPv6 socket kind gets the mark
# (v4/v6, UDP/TCP/raw, SOCK_NONBLOCK/SOCK_CLOEXEC, decimal and hex), unix
# sockets do not, the application's own SO_MARK wins, accepted and fork+exec'd
# sockets keep it; a malformed LIBPACKETMARK_MARK or a missing capability makes
# socket() fail with one message naming the cause; packetmark's own errors and
# exit codes; and the documented limit that glibc's resolver socket is not
# interposable.  All of this is `packetmark --preload` (the shim alone); next
# to it, what the default (cgroup) does differently: marks without the
# command's capability, no environment, set-ID commands and glibc's resolver
# socket marked too (packetmark_bypass.sh has the rest).  Sockets are only created (and traffic sent) inside throwaway
# namespaces.
. "$(dirname "$0")/../lib.sh"
t_require_root
PM=$BUILD/packetmark
SHIM=$(realpath "$BUILD/libpacketmark.so")
SM=$BUILD/tools/sockmark
for f in "$PM" "$SHIM" "$SM"; do [ -x "$f" ] || t_skip "$f not built (make tests)"; done
# Under SANITIZE=1 sockmark carries ASan, which insists on being first in the
# library list; the shim (never ASan) goes first here on purpose.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0
unset LIBPACKETMARK_MARK LD_PRELOAD PACKETMARK_SHIM

t_netns s; NS=$T_NS
KINDS="inet-udp inet-tcp inet6-udp inet6-tcp inet-raw
 inet-udp+nonblock inet6-tcp+nonblock inet-tcp+cloexec inet6-udp+cloexec
 inet-tcp+nonblock+cloexec inet6-udp+nonblock+cloexec"
# shellcheck disable=SC2086
expect_all() { for k in $KINDS; do echo "$k mark=$1"; done; }

# shellcheck disable=SC2086
out=$(t_in "$NS" "$PM" --preload 0x1000 -- "$SM" $KINDS 2>"$T_DIR/err")
t_eq "hex mark on every inet/inet6 kind and flag" "$(expect_all 0x1000)" "$out"
t_eq "no message when all is well" "" "$(cat "$T_DIR/err")"
# shellcheck disable=SC2086
out=$(t_in "$NS" "$PM" --preload 4096 "$SM" $KINDS)
t_eq "decimal mark, no -- separator" "$(expect_all 0x1000)" "$out"
out=$(t_in "$NS" env LD_PRELOAD="$SHIM" LIBPACKETMARK_MARK=0xffffffff "$SM" inet6-udp)
t_eq "the shim alone, largest mark" "inet6-udp mark=0xffffffff" "$out"

out=$(t_in "$NS" "$PM" --preload 0x1000 "$SM" unix-stream unix-dgram+cloexec)
t_eq "unix sockets untouched" "unix-stream mark=0
unix-dgram+cloexec mark=0" "$out"
out=$(t_in "$NS" "$PM" --preload 0x1000 "$SM" own=0x5)
t_eq "application's own SO_MARK kept" "own mark=0x5" "$out"
out=$(t_in "$NS" "$PM" --preload 0x1000 "$SM" accept)
t_eq "accepted socket inherits the listener's mark" "accept mark=0x1000" "$out"
# shellcheck disable=SC2016
out=$(t_in "$NS" "$PM" --preload 0x1000 sh -c '"$0" inet-udp & wait' "$SM")
t_eq "forked and exec'd child still marked" "inet-udp mark=0x1000" "$out"
out=$(t_in "$NS" env LD_PRELOAD="$SHIM" "$SM" inet-udp 2>&1)
t_eq "LIBPACKETMARK_MARK unset: pass-through" "inet-udp mark=0" "$out"

# Malformed values: inet sockets fail with EINVAL, unix sockets still work,
# and the reason names the variable exactly once per process.
for v in 1abc -1 4294967296 "" " " " 1" "1 " 0x 0x100000000 010 1.0 0x10/0xff; do
	out=$(t_in "$NS" env LD_PRELOAD="$SHIM" LIBPACKETMARK_MARK="$v" "$SM" inet-udp inet6-tcp+nonblock unix-stream 2>"$T_DIR/err")
	t_eq "LIBPACKETMARK_MARK='$v': inet sockets fail, unix untouched" \
		"inet-udp error=Invalid argument (EINVAL)
inet6-tcp+nonblock error=Invalid argument (EINVAL)
unix-stream mark=0" "$out"
	t_eq "LIBPACKETMARK_MARK='$v': one message naming the variable" \
		1 "$(grep -c "LIBPACKETMARK_MARK=\"$v\": .*refusing" "$T_DIR/err")"
done

# Without CAP_NET_ADMIN/CAP_NET_RAW setsockopt(SO_MARK) fails: so does socket().
NOCAPS=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
out=$(t_in "$NS" "$PM" --preload 0x1000 "${NOCAPS[@]}" "$SM" inet-udp inet-tcp unix-stream 2>"$T_DIR/err")
t_eq "no capabilities: inet socket() fails with EPERM" \
	"inet-udp error=Operation not permitted (EPERM)
inet-tcp error=Operation not permitted (EPERM)
unix-stream mark=0" "$out"
t_eq "no capabilities: one message" 1 "$(grep -c 'libpacketmark: cannot set SO_MARK 0x1000 (LIBPACKETMARK_MARK): Operation not permitted (needs CAP_NET_ADMIN or CAP_NET_RAW)' "$T_DIR/err")"
out=$(t_in "$NS" "$PM" --preload 0x1000 setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=+net_admin --ambient-caps=+net_admin "$SM" inet-udp 2>&1)
t_eq "unprivileged with ambient CAP_NET_ADMIN: marked" "inet-udp mark=0x1000" "$out"

# packetmark's default, the cgroup, needs no capability in the command: the
# kernel sets the mark, not the process.
out=$(t_in "$NS" "$PM" 0x1000 "${NOCAPS[@]}" "$SM" inet-udp inet-tcp 2>&1)
t_eq "no capabilities, default (cgroup): marked anyway" "inet-udp mark=0x1000
inet-tcp mark=0x1000" "$out"
t_eq "default (cgroup): no LD_PRELOAD, no LIBPACKETMARK_MARK" "" \
	"$("$PM" 4096 env | grep -E '^(LD_PRELOAD|LIBPACKETMARK_MARK)=')"

# packetmark's environment: the shim first, any existing preload kept, the
# mark in canonical form.
cp "$SHIM" "$T_DIR/other.so"
out=$(LD_PRELOAD=$T_DIR/other.so "$PM" --preload 4096 env | grep -E '^(LD_PRELOAD|LIBPACKETMARK_MARK)=' | sort)
t_eq "packetmark prepends the shim to LD_PRELOAD" "LD_PRELOAD=$SHIM:$T_DIR/other.so
LIBPACKETMARK_MARK=0x1000" "$out"
out=$(PACKETMARK_SHIM=$T_DIR/other.so "$PM" --preload 1 env | grep '^LD_PRELOAD=')
t_eq "PACKETMARK_SHIM chooses the shim" "LD_PRELOAD=$T_DIR/other.so" "$out"

# packetmark's errors: one line naming the problem, env(1)'s exit codes.
pm_err() {	# DESCRIPTION WANT-RC WANT-STDERR-REGEX CMD...
	local d=$1 rc=$2 re=$3 got; shift 3
	"$@" >/dev/null 2>"$T_DIR/err"; got=$?
	t_eq "$d: exit $rc" "$rc" "$got"
	t_check "$d: message" grep -qE "$re" "$T_DIR/err"
	t_eq "$d: one line" 1 "$(wc -l <"$T_DIR/err")"
}
pm_err "bad mark" 64 '^packetmark: error: MARK "1abc": not a decimal' "$PM" --preload 1abc true
pm_err "negative mark" 64 '^packetmark: error: MARK "-1"' "$PM" --preload -1 true
pm_err "too large mark" 64 'MARK "4294967296": larger than' "$PM" --preload 4294967296 true
pm_err "missing command" 64 'no COMMAND after MARK' "$PM" --preload 0x1
pm_err "missing command after --" 64 'no COMMAND after MARK' "$PM" --preload 0x1 --
pm_err "PACKETMARK_SHIM missing" 125 '^packetmark: error: PACKETMARK_SHIM=/nonexistent/x.so: No such file' \
	env PACKETMARK_SHIM=/nonexistent/x.so "$PM" --preload 0x1 true
cp "$PM" "$T_DIR/packetmark"
if [ ! -e /usr/lib/rtalloc/libpacketmark.so ]; then
	pm_err "no shim next to the binary nor installed" 125 'cannot find libpacketmark.so .*set PACKETMARK_SHIM' \
		"$T_DIR/packetmark" --preload 0x1 true
fi
pm_err "command not found" 127 'cannot run no-such-command-here: No such file' "$PM" --preload 0x1 no-such-command-here
touch "$T_DIR/notexec"
pm_err "command not executable" 126 'cannot run .*/notexec: Permission denied' "$PM" --preload 0x1 "$T_DIR/notexec"
cp "$SM" "$T_DIR/suid-sockmark"; chmod u+s "$T_DIR/suid-sockmark"
pm_err "set-user-ID command refused" 125 'is set-user-ID: LD_PRELOAD would not apply' "$PM" --preload 0x1 "$T_DIR/suid-sockmark"
cp "$SM" "$T_DIR/cap-sockmark"; setcap cap_net_admin+ep "$T_DIR/cap-sockmark"
pm_err "file-capability command refused" 125 'has file capabilities' "$PM" --preload 0x1 "$T_DIR/cap-sockmark"
# Debian's ldconfig is static-pie: no loader, so no preload.
if file -L /sbin/ldconfig 2>/dev/null | grep -q 'static'; then
	pm_err "static command refused" 125 '/sbin/ldconfig is statically linked' "$PM" --preload 0x1 /sbin/ldconfig -p
fi
out=$(t_in "$NS" "$PM" 0x1000 "$T_DIR/suid-sockmark" inet-udp 2>&1)
t_eq "set-user-ID command, default (cgroup): runs marked" "inet-udp mark=0x1000" "$out"
out=$(t_in "$NS" "$PM" 0x1000 "$T_DIR/cap-sockmark" inet-udp 2>&1)
t_eq "file-capability command, default (cgroup): runs marked" "inet-udp mark=0x1000" "$out"
t_eq "packetmark -h" 0 "$("$PM" -h >/dev/null; echo $?)"

# The documented limit: glibc 2.36 resolves names (getaddrinfo) through a
# socket libc creates with its internal __socket, which no preload can reach.
# A rule makes marked packets unroutable here; dig (its own socket() calls)
# fails marked, getaddrinfo still succeeds, so its socket is not marked.
t_netns c; C=$T_NS
t_netns d; D=$T_NS
t_veth "$C" c0 "$D" d0
ip -n "$C" addr add 10.53.0.2/24 dev c0
ip -n "$D" addr add 10.53.0.1/24 dev d0
ip -n "$C" rule add fwmark 0x7 unreachable pref 100
t_bg "$D" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.53.0.1 --address=/gai.test/192.0.2.7 --pid-file="$T_DIR/d.pid"
echo "nameserver 10.53.0.1" >"$T_DIR/resolv.conf"
t_wait 5 t_in "$C" dig +short +time=1 +tries=1 @10.53.0.1 gai.test >/dev/null
# ip netns exec runs in its own mount namespace: the bind mount stays in there.
# shellcheck disable=SC2016
with_resolv() { t_in "$C" sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T_DIR/resolv.conf" "$@"; }
out=$(with_resolv "$SM" connect=10.53.0.1:53 resolve=gai.test)
t_eq "unmarked: connect and getaddrinfo work" "connect ok
resolve 192.0.2.7" "$out"
out=$(with_resolv "$PM" --preload 0x7 "$SM" connect=10.53.0.1:53 resolve=gai.test)
t_eq "marked: the app's socket is unroutable, glibc's resolver socket is not marked" \
	"connect error=ENETUNREACH
resolve 192.0.2.7" "$out"
out=$(with_resolv "$PM" 0x7 "$SM" connect=10.53.0.1:53 resolve=gai.test)
t_eq "default (cgroup): glibc's resolver socket is marked too" \
	"connect error=ENETUNREACH
resolve error=Temporary failure in name resolution" "$out"
fails() { ! "$@"; }
t_check "marked: dig's own sockets are marked (fails)" \
	fails t_in "$C" "$PM" --preload 0x7 dig +short +time=1 +tries=1 @10.53.0.1 gai.test
t_check "host /etc/resolv.conf untouched" bash -c "! grep -q 10.53.0.1 /etc/resolv.conf"
t_done
