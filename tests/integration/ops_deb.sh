#!/bin/bash
# The Debian package: `make deb` builds it with dpkg-buildpackage, it
# installs, creates the rtalloc user, its rtallocd serves root clients while
# running as that user with the packaged config, and `dpkg --purge` removes
# every file it installed.  Opt-in (RTALLOC_TEST_DEB=1): it is slow and
# installs into the real system.
. "$(dirname "$0")/../lib.sh"
[ "${RTALLOC_TEST_DEB:-}" = 1 ] || t_skip "set RTALLOC_TEST_DEB=1 (slow; installs the package into this system)"
t_require_root
command -v dpkg-buildpackage >/dev/null || t_skip "dpkg-buildpackage missing (package dpkg-dev)"
command -v dh >/dev/null || t_skip "dh missing (package debhelper)"
dpkg-query -W -f='${Status}' rtalloc 2>/dev/null | grep -q 'install ok' &&
	t_skip "a package rtalloc is already installed here"

mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TOP" -s "$@"; }
mk BUILD="$T_DIR/b" deb >"$T_DIR/deb.log" 2>&1; rc=$?
t_eq "make deb: exit 0" 0 "$rc"
[ "$rc" = 0 ] || { tail -n 30 "$T_DIR/deb.log"; t_done; }
deb=$(ls "$T_DIR"/b/deb/rtalloc_*.deb)

had_user=no; getent passwd rtalloc >/dev/null && had_user=yes
# Whatever happens below, the system is left without the package (and
# without the user, unless it was there before).
t_on_exit "dpkg --purge rtalloc; [ $had_user = yes ] || { deluser --system rtalloc; delgroup --system rtalloc; }"
out=$(dpkg -i "$deb" 2>&1); rc=$?
t_eq "dpkg -i: exit 0" 0 "$rc" || echo "$out"
t_check "the system user rtalloc exists" getent passwd rtalloc >/dev/null
files=$(dpkg -L rtalloc)
for f in /usr/sbin/rtallocd /usr/sbin/rtalloc /usr/bin/packetmark /usr/lib/rtalloc/libpacketmark.so \
	/usr/lib/rtalloc/rtalloc-hook.sh /etc/dhcp/dhclient-enter-hooks.d/rtalloc \
	/etc/network/if-up.d/rtalloc /etc/network/if-post-down.d/rtalloc \
	/etc/NetworkManager/dispatcher.d/90-rtalloc /usr/lib/dhcpcd/dhcpcd-hooks/90-rtalloc \
	/lib/udev/rules.d/90-rtalloc.rules \
	/lib/systemd/system/rtallocd.service /etc/rtalloc/rtallocd.json /etc/default/rtalloc \
	/usr/share/man/man8/rtalloc.8.gz /usr/sbin/rtalloc-agent /lib/systemd/system/rtalloc-agent.service \
	/etc/rtalloc/agent.json /usr/share/man/man8/rtalloc-agent.8.gz \
	/usr/sbin/table_allocator_client /usr/sbin/table_allocator_server; do
	t_check "package ships $f" grep -qxF "$f" <<<"$files"
done
t_check "configs are conffiles" grep -q /etc/rtalloc/rtallocd.json <<<"$(dpkg-query -W -f='${Conffiles}' rtalloc)"
t_check "rtallocd.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/rtallocd.service
t_check "rtalloc-agent.service is shipped disabled" \
	test ! -e /etc/systemd/system/multi-user.target.wants/rtalloc-agent.service

t_netns srv; NS=$T_NS
if [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm=)" = systemd ]; then
	# systemd's rtallocd lives in the host namespace: ask it there.
	t_check "rtallocd.service is active" t_wait 10 systemctl is-active -q rtallocd.service
	t_check "rtallocd runs as rtalloc" test "$(ps -o user= -p "$(systemctl show -P MainPID rtallocd)")" = rtalloc
	t_check "rtalloc --status talks to it" rtalloc --status
else
	# No systemd here: run it as the unit would (user, state dir, config)
	# inside a namespace of its own.
	install -d -o rtalloc -g rtalloc -m 0750 /var/lib/rtalloc
	# RuntimeDirectory=rtalloc: clients take the owner of /run/rtalloc for
	# the server's uid (docs/protocol.md); given back as it was at exit.
	if [ -d /run/rtalloc ]; then
		t_on_exit "chown $(stat -c %u:%g /run/rtalloc) /run/rtalloc"
	else
		t_on_exit "rmdir /run/rtalloc/clients /run/rtalloc"
	fi
	install -d -o rtalloc -g rtalloc -m 0755 /run/rtalloc
	t_check "packaged rtallocd serves @rtallocd as user rtalloc" t_bg_ready rtallocd "$NS" \
		setpriv --reuid rtalloc --regid rtalloc --init-groups /usr/sbin/rtallocd -c /etc/rtalloc/rtallocd.json
	t_netns peer; t_veth "$NS" up0 "$T_NS" peer0
	ip -n "$NS" addr add 192.0.2.7/24 dev up0
	T=$(t_in "$NS" rtalloc -4 -a 192.0.2.7 -n 24 -i up0 --route 192.0.2.0/24); rc=$?
	t_eq "a root client gets a table from it" "0 10000" "$rc $T"
	out=$(t_in "$NS" rtalloc --status); rc=$?
	t_eq "rtalloc --status: consistent" "0 consistent: 1 lease, 3 rules (proto 122)" "$rc $out"
	t_check "the database belongs to rtalloc" test "$(stat -c %U /var/lib/rtalloc/leases.db)" = rtalloc
	t_in "$NS" rtalloc -4 -a 192.0.2.7 -i up0 -r >/dev/null
	for p in $(ip netns pids "$NS"); do kill "$p"; done
	sleep 0.3
fi

out=$(dpkg --purge rtalloc 2>&1); rc=$?
t_eq "dpkg --purge: exit 0" 0 "$rc" || echo "$out"
left=""
for f in $files; do [ -f "$f" ] && left="$left $f"; done
t_eq "purge leaves none of the package's files" "" "$left"
t_check "purge removes /var/lib/rtalloc" test ! -e /var/lib/rtalloc
t_check "purge removes the enable link" test ! -e /etc/systemd/system/multi-user.target.wants/rtallocd.service
t_done
