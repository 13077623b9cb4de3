# shellcheck shell=bash
# tests/uplinks.sh: rtalloc-agent over the two uplinks of track-topology.sh,
# for the tests of uplinks by name (rtalloc show, rtalloc exec, bindings).
# Source after tests/lib.sh, then call up_start [AGENT.JSON-EXTRA].
#
# tk_topology with TK_NO_RULES (the agent makes the rules) and IPv6; main
# has the uplinks' default routes as DHCP and RAs would leave them: up1's
# first (metric 100), up2's second (200), so unbound traffic leaves by up1.
# rtallocd and rtalloc-agent (interfaces up*) run in the host; H is the host.
# shellcheck source=tests/track-topology.sh
. "$TOP/tests/track-topology.sh"

up_start() {
	local i
	TK_NO_RULES=1 TK_V6=1 tk_topology
	H=$TK_H
	for i in 1 2; do
		ip -n "$H" route add default via "10.$i.0.1" dev "up$i" metric "${i}00"
		ip -n "$H" -6 route add default via "2001:db8:$i::1" dev "up$i" metric "${i}00"
	done
	t_server "$H" "${UP_SERVER_EXTRA:-}" || exit 1
	UP_CONF=$T_DIR/agent.json
	cat >"$UP_CONF" <<-EOC
	{ "socket_path": "$T_SOCK", "interfaces": ["up*"]${1:+, $1} }
	EOC
	up_agent || exit 1
	t_wait 5 up_tables || { echo "the agent did not lease both uplinks' tables" >&2; exit 1; }
}
# With UP_CGROUP set, the agent sees cgroup2 on /sys/fs/cgroup (ip netns exec
# mounts a fresh /sys without it), as on a systemd host.
up_agent() {
	if [ -n "${UP_CGROUP:-}" ]; then
		# shellcheck disable=SC2016  # for the inner shell
		t_bg_ready rtalloc-agent "$H" sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"' \
			"$BUILD/rtalloc-agent" -c "$UP_CONF" || return 1
	else
		t_bg_ready rtalloc-agent "$H" "$BUILD/rtalloc-agent" -c "$UP_CONF" || return 1
	fi
	# shellcheck disable=SC2034  # for the tests
	UP_AGENT_PID=$T_LAST_PID
}
# up_cgroups CG...: cgroups of the machine's cgroup2 hierarchy (as a systemd
# service's), made here and removed on exit with their parent slice; the
# test is skipped where cgroup2 cannot be mounted.
up_cgroups() {
	local ns d rm=
	t_netns cg; ns=$T_NS
	# shellcheck disable=SC2016
	t_in "$ns" sh -c 'mount -t cgroup2 none /sys/fs/cgroup && cd /sys/fs/cgroup && mkdir -p "$@"' sh "$@" ||
		t_skip "cannot make a cgroup2 cgroup"
	for d in "$@"; do rm="$rm /sys/fs/cgroup/$d"; done
	t_on_exit "ip netns exec $ns sh -c 'mount -t cgroup2 none /sys/fs/cgroup && rmdir$rm /sys/fs/cgroup/${1%%/*}'"
}
# up_container BRIDGE NET: a container network as Docker makes one: C, a
# namespace behind the host's BRIDGE with NET.0.2/16 (the host NET.0.1),
# forwarded and masqueraded (with all it forwards: a LAN too) out of the
# uplinks by the test's own nftables.
up_container() {
	t_netns c; C=$T_NS
	t_veth "$H" "$1" "$C" eth0 || exit 1
	ip -n "$H" addr add "$2.0.1/16" dev "$1"
	ip -n "$C" addr add "$2.0.2/16" dev eth0
	ip -n "$C" route add default via "$2.0.1"
	t_in "$H" sysctl -qw net.ipv4.ip_forward=1
	t_in "$H" nft -f - <<-EON
	table ip docker {
		chain post {
			type nat hook postrouting priority 100;
			oifname "up*" masquerade
		}
	}
	EON
}
# up_lan: L, a LAN namespace (192.168.50.2/24) behind the host's lan0.
up_lan() {
	t_netns lan; L=$T_NS
	t_veth "$H" lan0 "$L" eth0 || exit 1
	ip -n "$H" addr add 192.168.50.1/24 dev lan0
	ip -n "$L" addr add 192.168.50.2/24 dev eth0
	ip -n "$L" route add default via 192.168.50.1
}
# up_cg CMD...: CMD in the host's namespace with cgroup2 on /sys/fs/cgroup.
up_cg() {
	# shellcheck disable=SC2016
	t_in "$H" sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"
}
# up_table ADDR: the table of ADDR's `from` rule (either family).
up_table() {
	case $1 in
	*:*) ip -n "$H" -6 rule show pref 10000 | awk -v a="$1" '$3 == a { print $5 }' ;;
	*) ip -n "$H" rule show pref 10000 | awk -v a="$1" '$3 == a { print $5 }' ;;
	esac
}
up_tables() { [ -n "$(up_table 10.1.0.2)" ] && [ -n "$(up_table 10.2.0.2)" ]; }
# up_show ARGS...: rtalloc show in the host against the test's rtallocd.
up_show() { t_in "$H" "$RTALLOC" show -d "$T_SOCK" -c "$UP_CONF" "$@"; }
# up_mptcp_sink ADDR FILE: on the far host, an MPTCP listener on ADDR:8000
# that writes the bytes it got so far to FILE (a temporary file renamed
# over it: a reader never sees it empty or half written).
up_mptcp_sink() {
	t_bg "$TK_F" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8000)); s.listen(8)
c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
    with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(n))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
' "$1" "$2"
}
# up_mptcp_send SECONDS: from the host, an MPTCP connection to
# 198.51.100.1:8000 sending 16 KiB every 50 ms for SECONDS (T_LAST_PID).
up_mptcp_send() {
	t_bg "$H" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect(("198.51.100.1", 8000))
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.sendall(b"x" * 16384); time.sleep(0.05)
' "$1"
}
