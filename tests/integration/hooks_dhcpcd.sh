#!/bin/bash
# The dhcpcd hook (hooks/dhcpcd/rtalloc, sourced by dhcpcd-run-hooks) under
# a real dhcpcd on up2, with an agent that manages no interface by itself
# (hooks only): the hook hints the lease's router, its classless routes and
# its DNS server; the agent gives the address its table and rules, the
# table ISP2's classless route, and writes the servers-file line for up2
# (dnsmasq signalled: a query from up2's address reaches ISP2's resolver);
# dhcpcd releasing the lease (-k) withdraws the hint and the line.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/hooks-topology.sh"
hk_start dhcpcd dnsmasq dig
[ -x "$BUILD/rtalloc-agent" ] || t_skip "rtalloc-agent not built"
hk_host_dnsmasq || exit 1
hk_agent || exit 1
rt() { ip -n "$HK_H" "$@"; }
# dhcpcd runs its script with the lease in the environment, as
# dhcpcd-run-hooks does before sourcing each hook.
cat >"$T_DIR/run-hooks" <<EOS
#!/bin/sh
RTALLOC_DEFAULTS=$HK_DEFAULTS
. $TOP/hooks/dhcpcd/rtalloc
EOS
chmod 755 "$T_DIR/run-hooks"
printf 'noipv6\nnoipv6rs\nclientid\noption classless_static_routes, domain_name_servers\n' >"$T_DIR/dhcpcd.conf"
mkdir -p /run/rtalloc "$T_DIR/rtalloc-run"
dhcpcd_run() {
	# shellcheck disable=SC2016
	ip netns exec "$HK_H" unshare -m sh -c 'D=$0; mount --make-rprivate / &&
		mount --bind /run/rtalloc "$D/rtalloc-run" && mount -t tmpfs tmpfs /run &&
		mkdir -p /run/rtalloc && mount --move "$D/rtalloc-run" /run/rtalloc &&
		{ [ ! -d /var/lib/dhcpcd ] || mount -t tmpfs tmpfs /var/lib/dhcpcd; } || exit 99
		exec dhcpcd -f "$D/dhcpcd.conf" -c "$D/run-hooks" "$@" >>"$D/dhcpcd.log" 2>&1' "$T_DIR" "$@"
}
# shellcheck disable=SC2046
t_on_exit 'kill $(dpid)'
dhcpcd_run -4 --noarp -t 20 -B up2 &
# (a background function's $! is its subshell's: dhcpcd's own pid is read)
dpid() { for p in $(ip netns pids "$HK_H"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = dhcpcd ] && echo "$p"; done; }
a() { hk_addr up2; }
bound() { [ -n "$(hk_addr up2)" ] && [ -n "$(hk_table "$(hk_addr up2)")" ] && grep -q "@up2@" "$HK_SERVERS"; }
t_check "dhcpcd bound up2; its address has a table and a servers-file line" t_wait 20 bound
A=$(a) T=$(hk_table "$(a)")
t_check "table $T: ISP2's classless route" grep -q "^10.250.0.0/24 via 10.102.0.1 dev up2" <(rt route show table "$T")
t_check "table $T: the default route" grep -q "^default via 10.102.0.1 dev up2" <(rt route show table "$T")
t_eq "servers-file: ISP2's resolver from up2's address" "server=10.202.0.53@up2@$A" "$(cat "$HK_SERVERS")"
t_eq "a query from up2's address reaches ISP2's resolver" 10.202.0.53 "$(hk_resolve "$A" 10.202.0.53)"
# SIGALRM: dhcpcd releases the lease and exits (what `dhcpcd -k` sends).
# shellcheck disable=SC2046
kill -ALRM $(dpid)
gone() { [ ! -s "$HK_SERVERS" ] && [ -z "$(hk_table "$A")" ]; }
t_check "dhcpcd releases (RELEASE, address removed): the line and the rules go" t_wait 10 gone
[ $T_FAILED = 0 ] || { tail -n 20 "$T_DIR/dhcpcd.log" "$HK_AGENT_LOG"; }
t_done
