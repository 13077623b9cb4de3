#!/bin/bash
# Releases are delivered in a burst: 200 addresses flushed at once end 200
# daemons at once, and the server's datagram queue holds 10 (the kernel's
# default, per network namespace, where systemd did not raise it).  Each
# daemon blocks (with a deadline) on the full queue and resends until the
# server answers, so 5 s later no lease is live and no rule is left.
. "$(dirname "$0")/../lib.sh"
t_require_root
N=200
t_uplink_host -4
ip netns exec "$H" sysctl -qw net.unix.max_dgram_qlen=10 || t_skip "no net.unix.max_dgram_qlen"
t_eq "queue length in the test's namespace" 10 "$(ip netns exec "$H" sysctl -n net.unix.max_dgram_qlen)"
t_server "$H" '"num_tables": 1000, "table_timeout": 600' || exit 1

addr() { echo "10.77.$(($1 / 200)).$(($1 % 200 + 1))"; }
for ((i = 0; i < N; i++)); do echo "addr add $(addr $i)/16 dev up0"; done | ip -n "$H" -batch -
for ((i = 0; i < N; i++)); do
	rtalloc -4 -a "$(addr $i)" -n 16 -i up0 --retries 3 --retry-interval 1 >>"$T_DIR/tables" 2>>"$T_DIR/runs.log"
done
live() { rtalloc --list | grep -c ' 10\.77\.' || true; }
rules() { ip -n "$H" rule show | grep -c 'proto 122' || true; }
t_eq "$N leases" "$N" "$(live)"
t_eq "$N tables printed, all different" "$N" "$(grep -v '^0$' "$T_DIR/tables" | sort -u | wc -l)"
t_eq "$N daemons" "$N" "$(t_daemons "$H" | wc -l)"
t_eq "3 rules each, and their /16's one guard" $((3 * N + 1)) "$(rules)"

ip -n "$H" addr flush dev up0
sleep 5
t_eq "5 s after the flush: no live lease" 0 "$(live)"
t_eq "no live lease in the database either" 0 \
	"$(t_rows "SELECT count(*) FROM leases WHERE address LIKE '10.77.%' AND expires > strftime('%s','now')")"
t_eq "no rule left" 0 "$(rules)"
t_check "every daemon exited" t_wait 5 test -z "$(t_daemons "$H")"
t_done
