# shellcheck shell=bash
# tests/nm.sh: a laptop with two uplinks managed by the real NetworkManager
# 1.42 (Debian's network-manager), for the agent's and the hooks' tests.
# Source after tests/lib.sh (it sources tests/peers.sh for pr_private,
# pr_kill and the far host's checks), then call nm_start.
#
#   PR_H (host)                 NM_I0 (isp0)                      PR_F (far)
#   wan0 ======= lan0  10.100.0.1/24  2001:db8:100::1/64  core0 ==== far0
#   wan1 ======= lan1  10.101.0.1/24  2001:db8:101::1/64  core1 ==== far1
#
# NetworkManager runs in the host namespace the way a laptop runs it, with
# what it needs there (found by trying): a private mount and UTS namespace;
# tmpfs over /run, /var/lib/NetworkManager and /etc/NetworkManager, with a
# NetworkManager.conf (`no-auto-default=*`, other devices unmanaged, no DNS
# or hostname handling) and keyfiles for wan0 and wan1 only; its own system
# dbus-daemon (socket in the private /run) on which nm-dispatcher is started
# by D-Bus activation from a service directory of the test's; a read-only
# /sys (or it waits for udev and leaves the devices unmanaged); accept_ra
# off on the uplinks before it starts (or it adopts them as configured and
# never runs DHCP).  Both profiles: DHCPv4 + SLAAC; wan1's is never-default
# (NM_NEVER_DEFAULT, default "wan1"), the usual profile of a second uplink.
#
# Each ISP N runs one dnsmasq: DHCPv4 (router .1, DNS 10.20N.0.53) and RA
# (prefix 2001:db8:10N::/64, RDNSS 2001:db8:20N::53), and drops what comes
# from sources it did not assign.  The far host (PR_FAR4, PR_FAR6) is
# reachable through both: `pr_reaches ADDR` holds only for traffic that left
# by ADDR's own uplink.  Dispatcher scripts: NM_DISPATCH (files copied into
# /etc/NetworkManager/dispatcher.d), their environment /etc/default/rtalloc
# from NM_DEFAULT.  Nothing of the machine (its netns, /etc, hostname) is
# touched.
. "$TOP/tests/peers.sh"

NM_BIN=${NM_BIN:-/usr/sbin/NetworkManager}
NM_DISPATCHER=${NM_DISPATCHER:-/usr/lib/NetworkManager/nm-dispatcher}
NM_NEVER_DEFAULT=${NM_NEVER_DEFAULT:-wan1}
NM_DISPATCH=${NM_DISPATCH:-}
NM_DEFAULT=${NM_DEFAULT:-}

# nm_isp N: ISP N's namespace, links, filter and dnsmasq (DHCPv4 + RA).
nm_isp() {
	local n=$1 i
	pr_isp_links "$n" || return 1
	i=$T_NS
	eval "NM_I$n=\$i"
	PR_MOUNTS='mount -t tmpfs tmpfs /var/lib/misc 2>/dev/null; :'
	pr_private "$i" dnsmasq -k --port=0 --interface="lan$n" --bind-interfaces \
		--dhcp-range="10.10$n.0.100,10.10$n.0.150,255.255.255.0,10m" \
		--dhcp-option=option:router,"10.10$n.0.1" \
		--dhcp-option=option:dns-server,"10.20$n.0.53" \
		--enable-ra --ra-param="lan$n,3,600" \
		--dhcp-range="2001:db8:10$n::,ra-only,64,1h" \
		--dhcp-option=option6:dns-server,"[2001:db8:20$n::53]" \
		--dhcp-leasefile="$T_DIR/isp$n.leases" --pid-file="$T_DIR/isp$n.dnsmasq.pid" \
		--log-facility="$T_DIR/isp$n.dnsmasq.log" --log-dhcp
}

# nm_files: NetworkManager.conf, the keyfiles, the D-Bus configuration and
# the dispatcher's activation file, under $T_DIR/nm.
nm_files() {
	local d=$T_DIR/nm n nd f
	mkdir -p "$d/etc/system-connections" "$d/etc/dispatcher.d" "$d/etc/conf.d" "$d/services" "$d/default"
	cat >"$d/etc/NetworkManager.conf" <<EOF
[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged
hostname-mode=none

[keyfile]
unmanaged-devices=except:interface-name:wan0;except:interface-name:wan1

[logging]
level=INFO
EOF
	for n in 0 1; do
		nd=false
		[ "wan$n" = "$NM_NEVER_DEFAULT" ] && nd=true
		f=$d/etc/system-connections/wan$n.nmconnection
		cat >"$f" <<EOF
[connection]
id=wan$n
uuid=6f1e3a52-1c3e-4b8e-9a0c-00000000000$n
type=ethernet
interface-name=wan$n
autoconnect=true

[ethernet]

[ipv4]
method=auto
never-default=$nd

[ipv6]
method=auto
addr-gen-mode=eui64
ip6-privacy=0
never-default=$nd
EOF
		chmod 600 "$f"
	done
	for f in $NM_DISPATCH; do
		install -m 755 "$f" "$d/etc/dispatcher.d/"
	done
	# /etc/default as the machine has it, with the hooks' settings.
	cp -a /etc/default/. "$d/default/"
	printf '%s\n' "$NM_DEFAULT" >"$d/default/rtalloc"
	cat >"$d/services/org.freedesktop.nm_dispatcher.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.nm_dispatcher
Exec=$NM_DISPATCHER
User=root
EOF
	cat >"$d/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$d/services</servicedir>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
}

# nm_daemons: dbus-daemon and NetworkManager in one private mount and UTS
# namespace of the host's network namespace; NetworkManager's pid in
# NM_PID, the namespace's holder (dbus-daemon) in NM_DBUS_PID.  Commands
# run in that namespace by nm_in.
nm_daemons() {
	NM_LOG=$T_DIR/nm.log
	# The holder: a shell in the namespace that mounts, starts the bus,
	# then waits; everything else enters its namespaces (nsenter).
	# shellcheck disable=SC2016
	# /run/rtalloc stays the machine's (the hooks' hints go to the agent
	# there, as on a laptop, where /run is one).
	mkdir -p /run/rtalloc "$T_DIR/nm/rtalloc-run"
	PR_MOUNTS='mount --bind /run/rtalloc "$D/nm/rtalloc-run" &&
		mount -t tmpfs -o mode=755 tmpfs /run &&
		mkdir -p /run/dbus /run/NetworkManager /run/netns /run/rtalloc &&
		mount --move "$D/nm/rtalloc-run" /run/rtalloc &&
		mount -t tmpfs tmpfs /var/lib/NetworkManager &&
		mount -t tmpfs -o mode=755 tmpfs /etc/NetworkManager &&
		cp -a "$D"/nm/etc/. /etc/NetworkManager/ &&
		mount --bind "$D/nm/default" /etc/default &&
		umount -l /sys 2>/dev/null; mount -t sysfs -o ro sysfs /sys && hostname nm-laptop'
	# shellcheck disable=SC2016
	pr_private "$PR_H" sh -c 'exec "$0" --nofork --nopidfile --config-file="$1" 2>>"$2"' \
		dbus-daemon "$T_DIR/nm/dbus.conf" "$T_DIR/dbus.log"
	NM_DBUS_PID=$T_LAST_PID
	t_wait 10 nm_in test -S /run/dbus/system_bus_socket || { echo "# no system bus" >&2; return 1; }
	nm_nm_start
}
# nm_in CMD...: CMD in NetworkManager's namespaces (net, mount, UTS).
nm_in() { nsenter -t "$NM_DBUS_PID" -n -m -u "$@"; }
# nm_nm_start: NetworkManager (again) in the namespace; pid in NM_PID.
nm_nm_start() {
	# shellcheck disable=SC2016
	nm_in sh -c 'exec "$0" --no-daemon >>"$1" 2>&1' "$NM_BIN" "$NM_LOG" &
	NM_PID=$!
	PR_PIDS+=("$NM_PID")
}
# nm_restart: NetworkManager stopped (SIGTERM, as systemctl stop) and started.
nm_restart() { pr_kill "$NM_PID"; nm_nm_start; }
nmcli() { nm_in /usr/bin/nmcli "$@"; }

# nm_configured: both uplinks have an IPv4 and a (DAD-done) global IPv6
# address, and wan0 (the default uplink) its default routes in main.
nm_configured() {
	local n f
	for n in 0 1; do
		for f in 4 6; do
			[ -n "$(pr_addr "wan$n" $f)" ] || return 1
		done
	done
	[ -n "$(pr_default wan0 4)" ] && [ -n "$(pr_default wan0 6)" ]
}

# nm_start [TOOL...]: skip without root or the programs; the topology, the
# ISPs, NetworkManager; waits (up to 40 s) until both uplinks are configured.
nm_start() {
	local p
	t_require_root
	for p in dnsmasq dbus-daemon nsenter unshare ping "$@"; do
		command -v "$p" >/dev/null || t_skip "no $p"
	done
	if [ ! -x "$NM_BIN" ] || [ ! -x "$NM_DISPATCHER" ]; then
		t_skip "no NetworkManager (apt-get install --no-install-recommends network-manager)"
	fi
	t_netns host; PR_H=$T_NS
	t_netns far; PR_F=$T_NS
	ip -n "$PR_F" addr add "$PR_FAR4/32" dev lo
	ip -n "$PR_F" addr add "$PR_FAR6/128" dev lo
	t_on_exit pr_stop_all
	nm_isp 0 && nm_isp 1 || return 1
	ip netns exec "$PR_H" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.wan0.accept_ra=0 net.ipv6.conf.wan1.accept_ra=0
	nm_files
	# NM_BEFORE: a command run before NetworkManager starts (the agent).
	[ -z "${NM_BEFORE:-}" ] || $NM_BEFORE || return 1
	nm_daemons || return 1
	if ! t_wait 40 nm_configured; then
		echo "# NetworkManager did not configure the host within 40 s:"
		ip -n "$PR_H" addr; ip -n "$PR_H" route; ip -n "$PR_H" -6 route
		tail -n 40 "$NM_LOG"
		return 1
	fi
}

# nm_addrs: every global address of wan0 and wan1 (no prefix), IPv4 first.
nm_addrs() {
	local n f
	for f in 4 6; do for n in 0 1; do pr_addrs "wan$n" $f; done; done | sed 's|/.*||'
}

# nm_state: prints what differs between the host and what the agent must
# have made of it (nothing when all is right): exactly the three rules of
# every global address of wan0/wan1, none for a link-local one; each
# address's table holds main's routes of its link and, where main has no
# default route through the link (never-default), exactly one default route
# through it; no table without rules holds routes; no lease for fe80::.
nm_state() {
	local f n a t want got
	for f in 4 6; do
		want=$(pr_expected_rules $f) got=$(pr_our_rules $f)
		[ "$want" = "$got" ] || printf 'IPv%s rules:\n  expected:\n%s\n  actual:\n%s\n' \
			"$f" "$(sed 's/^/    /' <<<"$want")" "$(sed 's/^/    /' <<<"$got")"
		for n in 0 1; do
			for a in $(pr_addrs "wan$n" $f | sed 's|/.*||'); do
				t=$(pr_table "$a")
				[ -n "$t" ] || continue
				want=$(pr_main_routes "wan$n" $f) got=$(pr_table_routes "$t" $f)
				if ! grep -q '^default ' <<<"$want"; then
					[ "$(grep -c "^default via .* dev wan$n\$" <<<"$got")" = 1 ] ||
						printf '%s (table %s): not one default route via wan%s:\n%s\n' \
							"$a" "$t" "$n" "$(sed 's/^/    /' <<<"$got")"
					got=$(grep -v '^default ' <<<"$got")
				fi
				[ "$want" = "$got" ] || printf '%s (table %s) routes:\n  expected:\n%s\n  actual:\n%s\n' \
					"$a" "$t" "$(sed 's/^/    /' <<<"$want")" "$(sed 's/^/    /' <<<"$got")"
			done
		done
		for t in $(ip -n "$PR_H" -$f route show table all |
			awk '{ for (i = 1; i < NF; i++) if ($i == "table" && $(i + 1) ~ /^100[0-9][0-9]$/) print $(i + 1) }' |
			sort -u); do
			pr_our_rules $f | grep -q "lookup $t " && continue
			printf 'IPv%s table %s has no rule but routes\n' "$f" "$t"
		done
	done
	# Anchored on from/to: a SLAAC address's EUI-64 part can hold "fe80:"
	# too (2001:db8:100:0:74a3:89ff:fe80:f7bc, a MAC whose 4th byte is 0x80).
	ip -n "$PR_H" -6 rule show | grep -Eq '(from|to) fe80:' && echo "a rule for a link-local address"
	[ -z "$(t_rows "SELECT address FROM leases WHERE address LIKE 'fe80:%'" 2>/dev/null)" ] ||
		echo "a lease for a link-local address"
}
nm_state_ok() { [ -z "$(nm_state)" ]; }
# nm_check_state DESCRIPTION [SECONDS]: ok when nm_state finds nothing wrong
# within SECONDS (default 5); else prints what is wrong.
nm_check_state() {
	if pr_within "${2:-5}" nm_state_ok; then t_ok "$1"; else
		t_fail "$1"; nm_state | sed 's/^/    /'; fi
}
# nm_check_traffic WHEN: every global address reaches the far host by its
# own uplink (up to 5 s each: an IPv6 router is learned from its next RA).
nm_check_traffic() {
	local a
	for a in $(nm_addrs); do
		t_check "$1: $a reaches the far host by its own uplink" pr_within 5 pr_reaches "$a"
	done
}

# nm_agent JSON-MEMBERS: pr_agent, and the agent's hint directory removed
# at exit.
nm_agent() {
	t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
	pr_agent "$1"
}

# nm_servers: the servers-file the agent must write: each uplink's DHCPv4
# and RA DNS servers (ISP N's 10.20N.0.53, 2001:db8:20N::53), with that
# uplink's address of the family.
nm_servers() {
	local n
	for n in 0 1; do
		printf 'server=10.20%s.0.53@wan%s@%s\n' "$n" "$n" "$(pr_addr "wan$n" 4)"
		printf 'server=2001:db8:20%s::53@wan%s@%s\n' "$n" "$n" "$(pr_addr "wan$n" 6)"
	done | sort
}

# nm_scenario SERVERS-FILE: issue #21's scenario once NetworkManager runs
# and the agent is up: state and traffic at start, after `nmcli con down` /
# `up` of the never-default uplink, `nmcli dev reapply` of the other, and a
# NetworkManager restart; the servers-file against NM_SERVERS_WANT (a
# function printing what it must hold) after each.
nm_servers_ok() { [ "$($NM_SERVERS_WANT)" = "$(cat "$NM_SERVERS_FILE" 2>/dev/null)" ]; }
nm_up() { nmcli -t -f STATE,DEVICE dev | grep -qx 'connected:wan1'; }
# nm_round WHEN: state, traffic and servers-file checks.
nm_round() {
	nm_check_state "$1: every global address: its table, exactly its rules, main's routes and a default" 10
	nm_check_traffic "$1"
	t_check "$1: the servers-file holds each uplink's DNS servers with its address" pr_within 5 nm_servers_ok
}
nm_scenario() {
	local when
	NM_SERVERS_FILE=$1
	nm_round "at start"
	nmcli con down wan1 >/dev/null
	t_check "nmcli con down wan1: its addresses go" pr_within 10 test -z "$(pr_addr wan1 4)"
	nm_check_state "after con down: wan0's uplinks alone"
	nmcli con up wan1 >/dev/null
	t_check "nmcli con up wan1: configured again" t_wait 30 nm_configured
	nm_round "after con down/up"
	nmcli dev reapply wan0 >/dev/null
	sleep 1
	t_check "nmcli dev reapply wan0: configured again" t_wait 30 nm_configured
	nm_round "after dev reapply"
	nm_restart
	t_check "NetworkManager restarted: wan1 connected again" t_wait 30 nm_up
	t_check "configured again after the restart" t_wait 30 nm_configured
	nm_round "after a NetworkManager restart"
	t_check "the agent still runs" kill -0 "$PR_AGENT_PID"
	when=$(t_rows "SELECT count(*) FROM leases WHERE address LIKE 'fe80:%'" 2>/dev/null)
	t_eq "no lease for a link-local address, ever" 0 "${when:-0}"
	[ $T_FAILED = 0 ] || { cat "$NM_SERVERS_FILE"; tail -n 30 "$PR_AGENT_LOG"; }
}
