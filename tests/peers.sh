# shellcheck shell=bash
# tests/peers.sh: a multihomed host whose uplinks are configured by the real
# tools (systemd-networkd, dhcpcd, the kernel's own SLAAC), for the
# rtalloc-agent tests.  Source after tests/lib.sh, then call pr_start.
#
#   PR_H (host)                  PR_I0 (isp0)                     PR_F (far)
#   wan0 ======= lan0  10.100.0.1/24  2001:db8:100::1/64  core0 ==== far0
#   wan1 ======= lan1  10.101.0.1/24  2001:db8:101::1/64  core1 ==== far1
#   wan2 ======= lan2  10.102.0.1/24  2001:db8:102::1/64  core2 ==== far2
#                                     (core N: 10.20N.0.1/24, far N: .9)
#
# wan0 and wan1 are configured by systemd-networkd (DHCPv4 and SLAAC: networkd
# handles the router advertisements itself), wan2 by dhcpcd (DHCPv4, --noarp)
# and, for IPv6, by the kernel (accept_ra).  Each ISP N runs dnsmasq (DHCPv4,
# router .1) and radvd (prefix 2001:db8:10N::/64 and a default route) on lanN.
# The far host has PR_FAR4 (198.18.0.9) and PR_FAR6 (2001:db8:ff::9) behind
# every ISP and routes each ISP's customer prefixes back through that ISP.
# ISP1 and ISP2 also hand out a DHCP classless route, 10.25N.0.0/24.
# Each ISP forwards from lanN only what comes from the prefixes it assigned
# (policy rules: from its prefixes lookup main, anything else from lanN
# blackhole; strict rp_filter for IPv4 as well) and has no route to the other
# ISPs.  So a packet from address A reaches the far host (and its answer
# comes back) only if it left by A's own uplink: `pr_reaches A` is the check.
#
# Every program runs in the host's or an ISP's namespace and in a private
# mount namespace in which what it writes is a tmpfs or a test file; the
# machine's /etc, /run/systemd, hostname and network namespace are never
# touched.  Programs are stopped (and waited for) on exit.

PR_FAR4=198.18.0.9
PR_FAR6=2001:db8:ff::9
PR_NETWORKD=${PR_NETWORKD:-/lib/systemd/systemd-networkd}
AGENT=${RTALLOC_AGENT:-$BUILD/rtalloc-agent}
# networkd's defaults give both uplinks' RA default routes metric 1024, and
# the kernel makes them ONE multipath route in main (nexthops via wan0 and
# wan1), which the agent must split per link (agent_peers_multipath.sh).  A
# test that is not about that sets PR_RA_METRICS=distinct before pr_start:
# then wan0's are metric 1020, wan1's 1021, two plain routes.
PR_RA_METRICS=${PR_RA_METRICS:-same}
PR_PIDS=()

# pr_kill PID...: SIGTERM, then wait (up to 5 s, then SIGKILL) until each
# process is gone.  Works for processes that are not this shell's children.
pr_kill() {
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		i=0
		while [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; do
			i=$((i + 1))
			[ $i = 50 ] && kill -9 "$p" 2>/dev/null
			[ $i -gt 100 ] && break
			sleep 0.1
		done
		wait "$p" 2>/dev/null
	done
	return 0
}
pr_stop_all() {
	local i
	for ((i = ${#PR_PIDS[@]} - 1; i >= 0; i--)); do pr_kill "${PR_PIDS[i]}"; done
}

# pr_private NS CMD...: CMD in NS in the background, in a private mount
# namespace (and UTS namespace); the program's own pid in T_LAST_PID.  The
# shell in between execs CMD, so that pid is CMD's.  PR_MOUNTS (a shell
# snippet) runs first, inside the new mount namespace, with $D = T_DIR.
pr_private() {
	local ns=$1; shift
	# shellcheck disable=SC2016
	t_bg "$ns" unshare -m -u sh -c 'D=$0 M=$1; shift; mount --make-rprivate / || exit 99
		eval "$M" || { echo "pr_private: mounts failed: $M" >&2; exit 99; }
		exec "$@"' "$T_DIR" "$PR_MOUNTS" "$@"
	PR_PIDS+=("$T_LAST_PID")
}

# pr_isp_links N: ISP N's namespace (PR_IN, and left in T_NS), its link to
# the host's wanN (down) and to the far host, addresses, routes and filter.
pr_isp_links() {
	local n=$1 i
	t_netns "isp$n"; i=$T_NS
	eval "PR_I$n=\$i"
	t_veth "$PR_H" "wan$n" "$i" "lan$n" || return 1
	t_veth "$i" "core$n" "$PR_F" "far$n" || return 1
	# The host's side is brought up by whoever configures it.
	ip -n "$PR_H" link set "wan$n" down
	ip netns exec "$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
		"net.ipv4.conf.lan$n.rp_filter=1" "net.ipv6.conf.lan$n.accept_dad=0" \
		"net.ipv6.conf.core$n.accept_dad=0"
	ip netns exec "$PR_F" sysctl -qw "net.ipv6.conf.far$n.accept_dad=0"
	ip -n "$i" addr add "10.10$n.0.1/24" dev "lan$n"
	ip -n "$i" addr add "2001:db8:10$n::1/64" dev "lan$n" nodad
	ip -n "$i" addr add "10.20$n.0.1/24" dev "core$n"
	ip -n "$i" addr add "2001:db8:20$n::1/64" dev "core$n" nodad
	ip -n "$PR_F" addr add "10.20$n.0.9/24" dev "far$n"
	ip -n "$PR_F" addr add "2001:db8:20$n::9/64" dev "far$n" nodad
	ip -n "$i" route add "$PR_FAR4/32" via "10.20$n.0.9" dev "core$n"
	ip -n "$i" route add "$PR_FAR6/128" via "2001:db8:20$n::9" dev "core$n"
	ip -n "$PR_F" route add "10.10$n.0.0/24" via "10.20$n.0.1" dev "far$n"
	ip -n "$PR_F" route add "2001:db8:10$n::/64" via "2001:db8:20$n::1" dev "far$n"
	# What comes in from the customer link is forwarded only from the
	# prefixes assigned there.  (The local table at pref 0 still delivers
	# what is for the ISP itself: DHCP, router solicitations, ping.)
	ip -n "$i" -4 rule add pref 100 iif "lan$n" from "10.10$n.0.0/24" lookup main
	ip -n "$i" -4 rule add pref 101 iif "lan$n" blackhole
	ip -n "$i" -6 rule add pref 100 iif "lan$n" from "2001:db8:10$n::/64" lookup main
	ip -n "$i" -6 rule add pref 101 iif "lan$n" blackhole
}

# pr_isp N: pr_isp_links, then ISP N's dnsmasq (DHCPv4) and radvd.
pr_isp() {
	local n=$1 i
	pr_isp_links "$n" || return 1
	i=$T_NS
	# ISP1 and ISP2 hand out a classless static route (option 121) too:
	# 10.25N.0.0/24 via their router, and the default route with it.
	local extra=()
	[ "$n" = 0 ] || extra=(--dhcp-option=option:classless-static-route,"10.25$n.0.0/24,10.10$n.0.1,0.0.0.0/0,10.10$n.0.1")
	PR_MOUNTS='mount -t tmpfs tmpfs /var/lib/misc 2>/dev/null; :'
	pr_private "$i" dnsmasq -k --port=0 --interface="lan$n" --bind-interfaces \
		--dhcp-range="10.10$n.0.100,10.10$n.0.150,255.255.255.0,10m" \
		--dhcp-option=option:router,"10.10$n.0.1" "${extra[@]}" \
		--dhcp-option=option:dns-server,"10.20$n.0.53" \
		--dhcp-leasefile="$T_DIR/isp$n.leases" --pid-file="$T_DIR/isp$n.dnsmasq.pid" \
		--log-facility="$T_DIR/isp$n.dnsmasq.log" --log-dhcp
	cat >"$T_DIR/isp$n.radvd.conf" <<EOF
interface lan$n {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 10;
	AdvDefaultLifetime 600;
	prefix 2001:db8:10$n::/64 {
		AdvOnLink on;
		AdvAutonomous on;
		AdvValidLifetime 3600;
		AdvPreferredLifetime 1800;
	};
	RDNSS 2001:db8:20$n::53 {
		AdvRDNSSLifetime 600;
	};
};
EOF
	PR_MOUNTS=:
	pr_private "$i" radvd -n -C "$T_DIR/isp$n.radvd.conf" -p "$T_DIR/isp$n.radvd.pid" \
		-m logfile -l "$T_DIR/isp$n.radvd.log"
}

# pr_topology: the namespaces, links, ISPs and their servers (no host-side
# configuration yet).
pr_topology() {
	t_netns host; PR_H=$T_NS
	t_netns far; PR_F=$T_NS
	ip -n "$PR_F" addr add "$PR_FAR4/32" dev lo
	ip -n "$PR_F" addr add "$PR_FAR6/128" dev lo
	pr_isp 0 && pr_isp 1 && pr_isp 2 || return 1
	# The host accepts answers whichever way they come; what the ISPs
	# accept is the point.
	ip netns exec "$PR_H" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	t_on_exit pr_stop_all
}

# pr_networkd: systemd-networkd in the host namespace managing wan0 and wan1
# (DHCPv4 and IPv6 router advertisements); its log in PR_NETWORKD_LOG, its
# pid in PR_NETWORKD_PID.  It runs with a tmpfs on /run/systemd (the .network
# files in /run/systemd/network, netif owned by systemd-network), empty
# /etc/systemd/network, a networkd.conf that says the defaults this depends
# on (foreign rules and routes are managed), and no D-Bus.  There is no udev
# in a test namespace: a udev database on a tmpfs /run/udev says every link
# there is initialized.  (A read-only /sys also keeps networkd from waiting
# for udev, but then it configures each link in the middle of its start-up
# enumeration, before it has read the policy rules, and never deletes the
# foreign ones as it does on a real host; with the database it asks the
# kernel for each link once more, as with udev, after the enumeration.)
pr_networkd() {
	local n
	# netif (networkd's state files) is a test directory, so the agent
	# can read it (RTALLOC_NETWORKD_LINKS=$PR_NETWORKD_LINKS).
	mkdir -p "$T_DIR/networkd/network" "$T_DIR/networkd/etc" "$T_DIR/networkd/empty" "$T_DIR/networkd/netif"
	PR_NETWORKD_LINKS=$T_DIR/networkd/netif/links
	for n in 0 1; do
		cat >"$T_DIR/networkd/network/10-wan$n.network" <<EOF
[Match]
Name=wan$n

[Network]
DHCP=ipv4
IPv6AcceptRA=yes
LinkLocalAddressing=ipv6

[DHCPv4]
ClientIdentifier=mac
EOF
		[ "$PR_RA_METRICS" = same ] ||
			printf '\n[IPv6AcceptRA]\nRouteMetric=102%s\n' "$n" \
				>>"$T_DIR/networkd/network/10-wan$n.network"
	done
	if [ -n "${PR_NETWORKD_CONF:-}" ]; then
		# A test's own networkd.conf (a shipped example's drop-in).
		cp "$PR_NETWORKD_CONF" "$T_DIR/networkd/networkd.conf"
	else
		cat >"$T_DIR/networkd/networkd.conf" <<EOF
[Network]
ManageForeignRoutingPolicyRules=yes
ManageForeignRoutes=yes
EOF
	fi
	PR_NETWORKD_LOG=$T_DIR/networkd.log
	# shellcheck disable=SC2016
	PR_MOUNTS='mount -t tmpfs -o mode=755 tmpfs /run/systemd &&
		mkdir -p /run/systemd/netif /run/systemd/network &&
		mount --bind "$D/networkd/netif" /run/systemd/netif &&
		chown systemd-network:systemd-network /run/systemd/netif &&
		cp "$D"/networkd/network/*.network /run/systemd/network/ &&
		mount --bind "$D/networkd/empty" /etc/systemd/network &&
		mount --bind "$D/networkd/networkd.conf" /etc/systemd/networkd.conf &&
		{ [ ! -d /etc/systemd/networkd.conf.d ] ||
			mount --bind "$D/networkd/empty" /etc/systemd/networkd.conf.d; } &&
		{ [ ! -d /var/lib/systemd/network ] ||
			mount -t tmpfs tmpfs /var/lib/systemd/network; } &&
		{ [ ! -d /run/dbus ] || mount -t tmpfs tmpfs /run/dbus; } &&
		mkdir -p /run/udev && mount -t tmpfs tmpfs /run/udev && mkdir /run/udev/data &&
		for i in /sys/class/net/*/ifindex; do
			echo "I:1" >"/run/udev/data/n$(cat "$i")" || exit 1
		done'
	pr_private "$PR_H" env SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console \
		sh -c 'exec "$0" >>"$1" 2>&1' "$PR_NETWORKD" "$PR_NETWORKD_LOG"
	PR_NETWORKD_PID=$T_LAST_PID
}
# pr_networkd_stop: SIGTERM to networkd, as systemctl stop does; waits.
pr_networkd_stop() { pr_kill "$PR_NETWORKD_PID"; }

# pr_dhcpcd IFNAME: dhcpcd for DHCPv4 only on IFNAME, in the foreground,
# without ARP probing, without hook scripts (so no resolv.conf or hostname
# is written), its state on tmpfs.  Pid in PR_DHCPCD_PID, log PR_DHCPCD_LOG.
pr_dhcpcd() {
	local ifn=$1
	PR_DHCPCD_LOG=$T_DIR/dhcpcd.$ifn.log
	printf 'noipv6\nnoipv6rs\nnohook resolv.conf\nclientid\noption classless_static_routes\n' >"$T_DIR/dhcpcd.conf"
	PR_MOUNTS='mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/dhcpcd &&
		mount --bind "$D/dhcpcd.conf" /etc/dhcpcd.conf 2>/dev/null; [ -d /var/lib/dhcpcd ]'
	# shellcheck disable=SC2016
	pr_private "$PR_H" sh -c 'exec "$@" >>"$0" 2>&1' "$PR_DHCPCD_LOG" \
		dhcpcd -B -d -4 --noarp -f "$T_DIR/dhcpcd.conf" -c /bin/true -t 30 "$ifn"
	PR_DHCPCD_PID=$T_LAST_PID
}

# pr_start [TOOL...]: the start of every peers test: skip without root or
# without one of the programs (or TOOLs); then the topology, networkd on
# wan0/wan1, dhcpcd on wan2, and a wait (up to 30 s) until every uplink has
# its addresses and default routes (pr_configured).
pr_start() {
	local p
	t_require_root
	for p in dnsmasq radvd dhcpcd ping unshare "$@"; do
		command -v "$p" >/dev/null || t_skip "no $p"
	done
	[ -x "$PR_NETWORKD" ] || t_skip "no $PR_NETWORKD (systemd)"
	id systemd-network >/dev/null 2>&1 || t_skip "no user systemd-network"
	pr_topology || exit 1
	pr_networkd
	# networkd adds its RA default routes (metric 1024) with NLM_F_REPLACE,
	# which would replace the kernel's own one on wan2 of the same metric.
	ip netns exec "$PR_H" sysctl -qw net.ipv6.conf.wan2.ra_defrtr_metric=2048
	pr_dhcpcd wan2
	if ! t_wait 30 pr_configured; then
		echo "# the peers did not configure the host within 30 s:"
		ip -n "$PR_H" addr; ip -n "$PR_H" route; ip -n "$PR_H" -6 route
		tail -n 30 "$PR_NETWORKD_LOG" "$PR_DHCPCD_LOG"
		return 1
	fi
}

# pr_addrs IFNAME 4|6: the interface's global addresses (with /prefix), one
# per line; IPv6 ones only once DAD is done.
pr_addrs() {
	ip -n "$PR_H" -"$2" -o addr show dev "$1" scope global 2>/dev/null |
		grep -v -e tentative -e dadfailed | awk '{ print $4 }'
}
# pr_addr IFNAME 4|6: the interface's first global address, without prefix.
pr_addr() { pr_addrs "$1" "$2" | sed -n '1s|/.*||p'; }
# pr_default IFNAME 4|6: main's default route(s) through IFNAME, as
# "default via GW dev IFNAME" (pr_routes_norm).
pr_default() { pr_main_routes "$1" "$2" | grep '^default '; }
# pr_configured: what the peers configure is all there: on wan0 and wan1 an
# IPv4 and an IPv6 address and a default route of each family, on wan2 an
# IPv4 address and default route (and the kernel's SLAAC address and RA
# default route).
pr_configured() {
	local n f
	for n in 0 1 2; do
		for f in 4 6; do
			[ -n "$(pr_addr "wan$n" $f)" ] && [ -n "$(pr_default "wan$n" $f)" ] || return 1
		done
	done
}
# pr_all_addrs: every managed address (no prefix), IPv4 first.
pr_all_addrs() {
	local n f
	for f in 4 6; do for n in 0 1 2; do pr_addrs "wan$n" $f; done; done | sed 's|/.*||'
}

# pr_reaches ADDR: a ping from ADDR reaches the far host (and its answer
# comes back).  By the ISPs' filters it can only have left by ADDR's uplink.
pr_reaches() { ip netns exec "$PR_H" ping -c 1 -W 2 -I "$1" "${2:-$(pr_far "$1")}" >/dev/null 2>&1; }
pr_far() { case $1 in *:*) echo "$PR_FAR6" ;; *) echo "$PR_FAR4" ;; esac; }
# pr_route_dev ADDR: the interface the host's routing picks for traffic from
# ADDR to the far host.
pr_route_dev() {
	ip -n "$PR_H" route get "$(pr_far "$1")" from "$1" 2>/dev/null | grep -o ' dev [^ ]*' | cut -d' ' -f3
}
pr_fam() { case $1 in *:*) echo 6 ;; *) echo 4 ;; esac; }

# --- the agent ---------------------------------------------------------
# pr_agent [JSON-MEMBERS]: rtalloc-agent in the host namespace managing
# wan* (PR_AGENT_IFACES: another JSON array), against the t_server; waits for READY=1.  Pid in PR_AGENT_PID, log
# (stderr) in PR_AGENT_LOG (appended across restarts).
pr_agent() {
	local ifaces=${PR_AGENT_IFACES:-'["wan*"]'}
	PR_AGENT_CONF=$T_DIR/agent.json
	PR_AGENT_LOG=$T_DIR/agent.log
	cat >"$PR_AGENT_CONF" <<EOF
{ "socket_path": "$T_SOCK", "interfaces": $ifaces${1:+, $1} }
EOF
	# shellcheck disable=SC2016
	t_bg_ready rtalloc-agent "$PR_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' \
		"$AGENT" "$PR_AGENT_CONF" "$PR_AGENT_LOG"
	local rc=$?
	PR_AGENT_PID=$T_LAST_PID
	PR_PIDS+=("$PR_AGENT_PID")
	[ $rc = 0 ] || tail -n 20 "$PR_AGENT_LOG"
	return $rc
}
# pr_agent_start: the usual test start with the agent: skip unless it is
# built, the peers, the server, the agent.
pr_agent_start() {
	[ -x "$AGENT" ] || t_skip "$AGENT not built (make build/rtalloc-agent)"
	[ -x "$RTALLOCD" ] || t_skip "$RTALLOCD not built"
	pr_start "$@" || exit 1
	t_server "$PR_H" || exit 1
	pr_agent || exit 1
}

# pr_table ADDR: the table of ADDR's `from` rule (pref 10000), empty if none.
pr_table() {
	ip -n "$PR_H" -"$(pr_fam "$1")" rule show pref 10000 | awk -v a="$1" '$3 == a { print $5; exit }'
}
# pr_our_rules 4|6: the host's rules at rtalloc's prefs, sorted.
pr_our_rules() {
	ip -n "$PR_H" -"$1" rule show | grep -E '^(10000|20000|91000):' | sort
}
# pr_expected_rules 4|6: the three rules of every current global address of
# the family on a managed link, with the table its `from` rule names (an
# address without one gets table NONE, which no rule can match), sorted.
pr_expected_rules() {
	local f=$1 n a t
	for n in 0 1 2; do
		for a in $(pr_addrs "wan$n" "$f"); do
			t=$(pr_table "${a%/*}")
			echo "$a ${t:-NONE}"
		done
	done | /usr/bin/python3 -c '
import ipaddress, sys
out = []
for line in sys.stdin:
    a, t = line.split()
    i = ipaddress.ip_interface(a)
    out += ["10000:\tfrom %s lookup %s proto 122" % (i.ip, t),
            "20000:\tfrom all to %s lookup %s proto 122" % (i.network, t),
            "91000:\tfrom all iif lo lookup %s proto 122" % t]
sys.stdout.write("\n".join(sorted(out)))'
}
# pr_routes_norm: `ip -o route` lines on stdin reduced to "DST [via GW] dev
# DEV", one line per nexthop of a multipath route (networkd's two IPv6
# default routes of equal metric are one such route in main), sorted; the
# link-local prefix fe80::/64 (the kernel's, on every IPv6 link) left out.
pr_routes_norm() {
	awk '{
		gsub(/\\/, " "); n = 0; via = ""; dev = ""; delete nv; delete nd
		for (i = 2; i < NF; i++) {
			if ($i == "nexthop") n++
			else if ($i == "via") { if (n) nv[n] = $(i + 1); else via = $(i + 1) }
			else if ($i == "dev") { if (n) nd[n] = $(i + 1); else dev = $(i + 1) }
		}
		if ($1 == "fe80::/64") next
		if (n == 0) print $1 (via != "" ? " via " via : "") " dev " dev
		for (k = 1; k <= n; k++) print $1 (nv[k] != "" ? " via " nv[k] : "") " dev " nd[k]
	}' | sort
}
# pr_main_routes IFNAME 4|6: main's routes through IFNAME, normalized: what
# the agent copies into the table of each of the link's addresses.
pr_main_routes() {
	ip -n "$PR_H" -o -"$2" route show table main 2>/dev/null | pr_routes_norm | grep " dev $1\$"
}
# pr_table_routes TABLE 4|6: the table's routes, normalized.
pr_table_routes() { ip -n "$PR_H" -o -"$2" route show table "$1" 2>/dev/null | pr_routes_norm; }
# pr_table_srcs TABLE 4|6: the distinct src of the table's routes
# (fe80::/64 aside), "none" for a route without one.
pr_table_srcs() {
	ip -n "$PR_H" -"$2" route show table "$1" 2>/dev/null | awk '$1 != "fe80::/64" {
		s = "none"; for (i = 1; i < NF; i++) if ($i == "src") s = $(i + 1); print s }' | sort -u
}

# pr_agent_state: prints what differs between the host and what the agent
# must have made of it; nothing when all is right:
# - the rules at rtalloc's prefs are exactly the three of every managed
#   address (pr_expected_rules), each address with a table of its own;
# - each address's table holds main's routes of its link (pr_main_routes),
#   with src the address, or nothing when the link is down;
# - every table the database leases to no current address is empty.
pr_agent_state() {
	local f n a t want got
	for f in 4 6; do
		want=$(pr_expected_rules $f) got=$(pr_our_rules $f)
		[ "$want" = "$got" ] || printf 'IPv%s rules:\n  expected:\n%s\n  actual:\n%s\n' \
			"$f" "$(sed 's/^/    /' <<<"$want")" "$(sed 's/^/    /' <<<"$got")"
		for n in 0 1 2; do
			for a in $(pr_addrs "wan$n" $f | sed 's|/.*||'); do
				t=$(pr_table "$a")
				[ -n "$t" ] || continue
				want=$(pr_main_routes "wan$n" $f) got=$(pr_table_routes "$t" $f)
				[ "$want" = "$got" ] || printf '%s (table %s) routes:\n  expected:\n%s\n  actual:\n%s\n' \
					"$a" "$t" "$(sed 's/^/    /' <<<"$want")" "$(sed 's/^/    /' <<<"$got")"
				got=$(pr_table_srcs "$t" $f)
				[ -z "$got" ] || [ "$got" = "$a" ] ||
					printf '%s (table %s): routes with src %s\n' "$a" "$t" "$(tr "\n" " " <<<"$got")"
			done
		done
	done
	# Tables of t_server's range that no rule uses must be empty (a gone
	# address's routes went with it).
	for f in 4 6; do
		for t in $(ip -n "$PR_H" -$f route show table all |
			awk '{ for (i = 1; i < NF; i++) if ($i == "table" && $(i + 1) ~ /^100[0-9][0-9]$/) print $(i + 1) }' |
			sort -u); do
			pr_our_rules $f | grep -q "lookup $t " && continue
			printf 'IPv%s table %s has no rule but routes:\n%s\n' "$f" "$t" \
				"$(pr_table_routes "$t" $f | sed 's/^/    /')"
		done
	done
	# Each address its own table (per family).
	for f in 4 6; do
		got=$(pr_our_rules $f | awk '$1 == "10000:" { print $5 }' | sort | uniq -d)
		[ -z "$got" ] || printf 'IPv%s tables shared by addresses: %s\n' "$f" "$got"
	done
}
pr_state_ok() { [ -z "$(pr_agent_state)" ]; }
# pr_within SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 when
# SECONDS of wall-clock time (not polls: CMD may be slow) have passed.
pr_within() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000)); shift
	until "$@" 2>/dev/null; do
		[ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
		sleep 0.1
	done
}
# pr_check_state DESCRIPTION [SECONDS]: ok when pr_agent_state finds nothing
# wrong within SECONDS (default 3); else prints what is wrong.
pr_check_state() {
	if pr_within "${2:-3}" pr_state_ok; then t_ok "$1"; else
		t_fail "$1"; pr_agent_state | sed 's/^/    /'; fi
}
