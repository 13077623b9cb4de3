# tests/hooks-topology.sh: a multihomed host behind two ISPs, for the hook
# tests and the demo.  Source after tests/lib.sh, then call hk_topology.
#
#   HK_H (host)  up1 ====== lan1  HK_I1 (isp1)  core1 ==== eth0  HK_D1 (dns1)
#   10.101.0.0/24, 2001:db8:101::/64             10.201.0.0/24       .53
#                up2 ====== lan2  HK_I2 (isp2)  core2 ==== eth0  HK_D2 (dns2)
#   10.102.0.0/24                                10.202.0.0/24       .53
#
# Each ISP router (.1 on its LAN) runs a real dnsmasq DHCP server that hands
# out its resolver (behind the router, not on the link); ISP2 also hands out
# a classless static route (10.250.0.0/24 plus default) and MTU 1400.  The
# routers have strict rp_filter and no route to the other ISP's networks, so
# a packet that arrives by the wrong uplink or with the other uplink's source
# is dropped.  Each resolver answers whoami.test with its own address
# (10.201.0.53 / 10.202.0.53) and logs the source of every query.
#
# hk_run CMD... runs CMD in HK_H inside a private mount namespace in which
# /etc/dhcp, /etc/network, /etc/default and /etc/resolv.conf are test
# directories (HK_ETC/...), so real dhclient/ifup/ifdown and the hooks run at
# their real paths while the machine's /etc is never touched.

HK_ETC=$T_DIR/etc
# The dhclient and ifupdown hooks (and their library) hk_topology installs:
# the tree's, or the per-address ones of tests/hooks-2017 for the tests of
# the per-address rtalloc daemon (set before hk_start).
HK_HOOKS=${HK_HOOKS:-$TOP/hooks}
HK_SERVERS=$T_DIR/run/dnsmasq-servers.conf
HK_DNSMASQ_PID=$T_DIR/run/host-dnsmasq.pid

# hk_router N: ISP N's namespace, its resolver's, links and DHCP server.
hk_router() {
	local n=$1 i d
	t_netns "isp$n"; i=$T_NS
	t_netns "dns$n"; d=$T_NS
	t_veth "$HK_H" "up$n" "$i" "lan$n" || return 1
	t_veth "$i" "core$n" "$d" eth0 || return 1
	ip -n "$i" addr add "10.10$n.0.1/24" dev "lan$n"
	ip -n "$i" addr add "10.20$n.0.1/24" dev "core$n"
	ip -n "$d" addr add "10.20$n.0.53/24" dev eth0
	ip -n "$d" route add default via "10.20$n.0.1"
	ip netns exec "$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 \
		"net.ipv4.conf.lan$n.rp_filter=1" net.ipv4.conf.default.rp_filter=1
	# The ISP's own network for the classless route test.
	ip -n "$i" addr add "10.250.0.1/24" dev lo
	local extra=()
	if [ "$n" = 2 ]; then
		extra=(--dhcp-option=option:classless-static-route,10.250.0.0/24,10.102.0.1,0.0.0.0/0,10.102.0.1
			--dhcp-option=option:mtu,1400)
	fi
	t_bg "$i" dnsmasq -k --port=0 --interface="lan$n" --bind-interfaces \
		--dhcp-range="10.10$n.0.100,10.10$n.0.150,255.255.255.0,10m" \
		--dhcp-option=option:router,"10.10$n.0.1" \
		--dhcp-option=option:dns-server,"10.20$n.0.53" \
		--dhcp-leasefile="$T_DIR/isp$n.leases" --pid-file="$T_DIR/isp$n.pid" \
		--log-facility="$T_DIR/isp$n.log" --log-dhcp "${extra[@]}"
	t_bg "$d" dnsmasq -k --no-resolv --no-hosts --listen-address="10.20$n.0.53" \
		--bind-interfaces --address=/whoami.test/"10.20$n.0.53" --log-queries \
		--log-facility="$T_DIR/dns$n.log" --pid-file="$T_DIR/dns$n.pid"
	eval "HK_I$n=\$i HK_D$n=\$d"
}

# hk_start TOOL...: the start of every hook test: skip without root, without
# one of TOOLs or without the built programs; then the topology and the
# server in the host namespace.
hk_start() {
	local p
	t_require_root
	for p in "$@"; do command -v "$p" >/dev/null || t_skip "no $p"; done
	[ -x "$RTALLOCD" ] && [ -x "$RTALLOC" ] || t_skip "build rtallocd and rtalloc first"
	hk_topology || exit 1
	t_server "$HK_H" || exit 1
}

hk_topology() {
	t_netns host; HK_H=$T_NS
	# Answers from the ISPs' resolvers are accepted whichever way they come;
	# what the ISPs accept is the point of the tests.
	ip netns exec "$HK_H" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	hk_router 1 || return 1
	hk_router 2 || return 1
	ip netns exec "$HK_H" sysctl -qw net.ipv6.conf.up1.accept_dad=0 net.ipv6.conf.up2.accept_dad=0
	ip netns exec "$HK_I1" sysctl -qw net.ipv6.conf.lan1.accept_dad=0
	ip -n "$HK_I1" addr add 2001:db8:101::1/64 dev lan1
	mkdir -p "$HK_ETC/dhcp/dhclient-enter-hooks.d" "$HK_ETC/dhcp/dhclient-exit-hooks.d" \
		"$HK_ETC/network/if-up.d" "$HK_ETC/network/if-post-down.d" \
		"$HK_ETC/network/if-pre-up.d" "$HK_ETC/network/if-down.d" \
		"$HK_ETC/default" "$T_DIR/run" "$T_DIR/ifstate" "$T_DIR/lib"
	cp "$HK_HOOKS/dhclient/rtalloc" "$HK_ETC/dhcp/dhclient-enter-hooks.d/rtalloc"
	# Debian's own exit hook: it must not put the classless routes into main.
	[ -f /etc/dhcp/dhclient-exit-hooks.d/rfc3442-classless-routes ] &&
		cp /etc/dhcp/dhclient-exit-hooks.d/rfc3442-classless-routes "$HK_ETC/dhcp/dhclient-exit-hooks.d/"
	cp "$HK_HOOKS/ifupdown/rtalloc" "$HK_ETC/network/if-up.d/rtalloc"
	cp "$HK_HOOKS/ifupdown/rtalloc" "$HK_ETC/network/if-post-down.d/rtalloc"
	cat >"$HK_ETC/dhcp/dhclient.conf" <<'EOF'
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, domain-name-servers,
	interface-mtu, rfc3442-classless-static-routes;
timeout 20;
EOF
	echo "nameserver 127.0.0.1" >"$HK_ETC/resolv.conf"
	# The defaults file at its real path (inside hk_run); the library is
	# taken from the work tree.
	cat >"$HK_ETC/default/rtalloc" <<EOF
RTALLOC_HOOK_IFACES="*"
RTALLOC=$RTALLOC
RTALLOC_SOCKET=${T_SOCK:-rtallocd-$T_ID}
RTALLOC_LIBDIR=$HK_HOOKS/lib
RTALLOC_DNSMASQ_SERVERS=$HK_SERVERS
RTALLOC_DNSMASQ_PIDFILE=$HK_DNSMASQ_PID
RTALLOC_WAN_SERVERS=$T_DIR/run/wan-servers.conf
RTALLOC_WAN_PIDFILE=$T_DIR/run/wan-dnsmasq.pid
RTALLOC_ARGS="--retries 2 --retry-interval 1"
EOF
	HK_DEFAULTS=$HK_ETC/default/rtalloc
	t_on_exit hk_kill_dhclients
}

# hk_host_dnsmasq: the host's resolver on 127.0.0.1:5353 reading the
# servers-file; --all-servers so one query reaches every uplink's resolver;
# as root, since T_DIR is private to root.
hk_host_dnsmasq() {
	: >"$HK_SERVERS"
	t_bg "$HK_H" dnsmasq -k --no-resolv --no-hosts --port=5353 --listen-address=127.0.0.1 \
		--bind-interfaces --servers-file="$HK_SERVERS" --all-servers --user=root \
		--pid-file="$HK_DNSMASQ_PID" --log-queries --log-facility="$T_DIR/host-dnsmasq.log"
	t_wait 5 test -s "$HK_DNSMASQ_PID"
}

# hk_agent: rtalloc-agent in the host namespace for the hooks that only
# hint (hooks only: no interface in agent.json), writing HK_SERVERS and
# signalling the host's dnsmasq; waits for READY=1.  Log in HK_AGENT_LOG.
hk_agent() {
	HK_AGENT_LOG=$T_DIR/agent.log
	printf '{ "socket_path": "%s", "interfaces": [], "dns_servers_file": "%s", "dnsmasq_pidfile": "%s" }\n' \
		"$T_SOCK" "$HK_SERVERS" "$HK_DNSMASQ_PID" >"$T_DIR/agent.json"
	# shellcheck disable=SC2016
	t_bg_ready rtalloc-agent "$HK_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' \
		"$BUILD/rtalloc-agent" "$T_DIR/agent.json" "$HK_AGENT_LOG" || { tail "$HK_AGENT_LOG"; return 1; }
	t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
}

# hk_run CMD...: CMD in the host namespace with the test /etc bind-mounted,
# over an overlay of /etc whose writes land in a directory of the test's
# (dhclient-script writes /etc/resolv.conf.dhclient-new.PID next to
# resolv.conf whenever it rewrites it).  One upper directory per call: two
# overlays must not share one.
hk_run() {
	ip netns exec "$HK_H" unshare -m sh -c '
		mount --make-rprivate / &&
		ov=$(mktemp -d "$0/../overlay.XXXXXX") && mkdir "$ov/up" "$ov/work" &&
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$ov/up,workdir=$ov/work" /etc &&
		mount --bind "$0/dhcp" /etc/dhcp &&
		mount --bind "$0/network" /etc/network &&
		mount --bind "$0/default" /etc/default &&
		mount --bind "$0/resolv.conf" /etc/resolv.conf || exit 99
		exec "$@"' "$HK_ETC" "$@"
}

# hk_dhclient IFNAME [ARGS...]: a real dhclient for IFNAME (daemonizes once
# it has a lease; -1: one try, fail if no lease).
hk_dhclient() {
	local ifn=$1; shift
	hk_run timeout 60 dhclient -1 -v -sf /sbin/dhclient-script -cf /etc/dhcp/dhclient.conf \
		-lf "$T_DIR/dhclient.$ifn.leases" -pf "$T_DIR/dhclient.$ifn.pid" "$@" "$ifn"
}

hk_kill_dhclients() {
	local p
	for p in "$T_DIR"/dhclient.*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
}

# hk_addr IFNAME: the interface's first global IPv4 address.
hk_addr() {
	ip -n "$HK_H" -4 -o addr show dev "$1" scope global | awk '{ sub("/.*", "", $4); print $4; exit }'
}
# hk_table ADDR: the table of ADDR's "from" rule (empty if none).
hk_table() {
	ip -n "$HK_H" rule show pref 10000 | awk -v a="$1" '$3 == a { print $5; exit }'
}
# hk_wait_table ADDR: ADDR's table, once the agent has it (it acts on an
# address dhclient-script added in its own time, with rtallocd's answer);
# empty after 5 s without one.
hk_wait_table() {
	local i t
	for i in $(seq 50); do
		t=$(hk_table "$1")
		[ -n "$t" ] && break
		sleep 0.1
	done
	echo "$t"
}
# hk_rule_count TABLE: how many policy rules look TABLE up.
hk_rule_count() {
	local t=$1
	[ -n "$t" ] || { echo 0; return; }
	ip -n "$HK_H" rule show | grep -cE "lookup $t( |\$)"
}
# hk_dig NAME [DIG-ARGS...]: A record via the host's dnsmasq.
hk_dig() {
	local n=$1; shift
	ip netns exec "$HK_H" dig +short +time=2 +tries=1 -p 5353 @127.0.0.1 "$n" "$@" 2>/dev/null
}
# hk_resolve SRC RESOLVER: asks RESOLVER for whoami.test from address SRC
# (dig -b), i.e. by whatever uplink the rules pick for SRC.
hk_resolve() {
	ip netns exec "$HK_H" dig +short +time=1 +tries=1 -b "$1" @"$2" whoami.test 2>/dev/null |
		grep -x "[0-9.]*"
}
# hk_no_rules TABLE...: no IPv4 or IPv6 rule looks up any TABLE.  A function,
# so t_wait re-evaluates it on every poll.
hk_no_rules() {
	local t
	for t in "$@"; do
		[ -n "$t" ] || continue
		{ ip -n "$HK_H" rule show; ip -n "$HK_H" -6 rule show; } | grep -qE "lookup $t( |\$)" && return 1
	done
	return 0
}
# hk_no_rtalloc_rules: no rule at rtalloc's prefs is left, either family.
hk_no_rtalloc_rules() {
	! { ip -n "$HK_H" rule show; ip -n "$HK_H" -6 rule show; } | grep -qE '^(10000|20000|91000):'
}
