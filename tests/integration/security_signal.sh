#!/bin/bash
# The hooks' SIGHUP goes only to dnsmasq (#19.5): the servers-file changes
# (the hook library as the hooks run it, one sh per hook run) and the pid
# file names
#  A. an unrelated process (a stale or reused pid: a sleep, whose default
#     action on SIGHUP is to die) and rtallocd: neither is signalled, and
#     the hook says why;
#  B. the real dnsmasq (root's pid file): it is signalled and re-reads the
#     servers-file;
#  C. the same real dnsmasq of root's, but the pid file belongs to another
#     uid (the dnsmasq user could write it): not signalled.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v dnsmasq >/dev/null || t_skip "no dnsmasq"
command -v flock >/dev/null || t_skip "no flock"
LIB=$TOP/hooks/lib/rtalloc-hook.sh
OTHER=65534
t_netns h; H=$T_NS
ip -n "$H" link set lo up
mkdir -p "$T_DIR/run"
export RTALLOC_DNSMASQ_SERVERS=$T_DIR/run/servers.conf
export RTALLOC_DNSMASQ_PIDFILE=$T_DIR/run/dnsmasq.pid
export RTALLOC_WAN_SERVERS=

n=0
# dns SERVERS: one hook run that changes up0's servers (stderr to hook.log).
dns() {
	n=$((n + 1))
	# shellcheck disable=SC2016 # expanded by the inner sh
	t_in "$H" sh -c '. "$0"; rth_defaults; rth_dns 4 up0 "$1" "$2"' "$LIB" "192.0.2.$n" "$1" \
		2>>"$T_DIR/hook.log"
}

# A. An unrelated process, then rtallocd.
t_bg "$H" sleep 60; SLEEP=$T_LAST_PID
echo "$SLEEP" >"$RTALLOC_DNSMASQ_PIDFILE"
dns 10.8.0.1
t_check "A: the servers-file changed" grep -q "server=10.8.0.1@up0@" "$RTALLOC_DNSMASQ_SERVERS"
t_check "A: the unrelated process was not signalled" kill -0 "$SLEEP"
t_check "A: the hook says it is not dnsmasq" \
	grep -q "dnsmasq.pid: pid $SLEEP is not dnsmasq (.*sleep); not signalled" "$T_DIR/hook.log"
t_server "$H" || exit 1
echo "$T_SERVER_PID" >"$RTALLOC_DNSMASQ_PIDFILE"
dns 10.8.0.2
t_check "A: rtallocd was not signalled (it runs)" kill -0 "$T_SERVER_PID"
t_check "A: rtallocd still answers" t_req '{"version":2,"cmd":3,"seq":1}'

# B. The real dnsmasq, pid file written by it as root.
t_bg "$H" dnsmasq -k --no-resolv --no-hosts --port=5399 --listen-address=127.0.0.1 \
	--bind-interfaces --servers-file="$RTALLOC_DNSMASQ_SERVERS" --user=root \
	--pid-file="$RTALLOC_DNSMASQ_PIDFILE" --log-facility="$T_DIR/dnsmasq.log"
t_wait 5 grep -q "using nameserver 10.8.0.2#53" "$T_DIR/dnsmasq.log"
t_check "B: dnsmasq wrote its pid file" t_wait 5 grep -qx "$T_LAST_PID" "$RTALLOC_DNSMASQ_PIDFILE"
dns 10.8.0.3
t_check "B: dnsmasq was signalled and read the new server" \
	t_wait 5 grep -q "using nameserver 10.8.0.3#53" "$T_DIR/dnsmasq.log"

# C. The same dnsmasq named by a pid file of another uid.
chown "$OTHER" "$RTALLOC_DNSMASQ_PIDFILE"
dns 10.8.0.4
sleep 1
t_check "C: root's dnsmasq was not signalled by another uid's pid file" \
	sh -c "! grep -q 'using nameserver 10.8.0.4#53' '$T_DIR/dnsmasq.log'"
t_check "C: the hook says why" grep -q "runs as uid 0, the file is uid $OTHER's; not signalled" "$T_DIR/hook.log"
t_done
