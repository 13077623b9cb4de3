#!/bin/bash
# make install / make uninstall: with DESTDIR every file lands where its tool
# looks (Debian paths, byte for byte the sources), the 2017 table_allocator's
# program names are links to ours and work, an existing config is
# kept, and uninstall leaves nothing of what install put there.  With a
# PREFIX of its own, the installed files point at that prefix: packetmark
# finds the installed shim, the units pass systemd-analyze verify, the
# installed rtallocd starts from the commented example config, the man pages
# render without warnings.  Never touches the machine's own / or /etc.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v systemd-analyze >/dev/null || t_skip "systemd-analyze missing (package systemd)"
command -v groff >/dev/null || t_skip "groff missing (package groff-base)"

# Own build dirs: a PREFIX compiles into packetmark (SHIMDIR), and changing
# the flags of the suite's build dir would rebuild it under the other tests.
# MAKEFLAGS cleared so `make check SANITIZE=1` does not leak in.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TOP" -s -j2 "$@"; }
STAGE=$T_DIR/stage P=$T_DIR/prefix
mk BUILD="$T_DIR/b1" install DESTDIR="$STAGE" >"$T_DIR/i1.log" 2>&1 & j1=$!
mk BUILD="$T_DIR/b2" PREFIX="$P/usr" SYSCONFDIR="$P/etc" install >"$T_DIR/i2.log" 2>&1 & j2=$!
wait $j1; rc1=$?; wait $j2; rc2=$?
t_eq "make install DESTDIR=...: exit 0" 0 "$rc1"
t_eq "make install PREFIX=...: exit 0" 0 "$rc2"
[ "$rc1$rc2" = 00 ] || { cat "$T_DIR/i1.log" "$T_DIR/i2.log"; t_done; }

expected="./etc/NetworkManager/dispatcher.d/90-rtalloc 755
./etc/default/rtalloc 644
./etc/dhcp/dhclient-enter-hooks.d/rtalloc 644
./etc/network/if-post-down.d/rtalloc 755
./etc/network/if-up.d/rtalloc 755
./etc/rtalloc/agent.json 644
./etc/rtalloc/rtallocd.json 644
./etc/rtalloc/track.json 644
./lib/udev/rules.d/90-rtalloc.rules 644
./usr/bin/packetmark 755
./usr/lib/dhcpcd/dhcpcd-hooks/90-rtalloc 644
./usr/lib/rtalloc/libpacketmark.so 644
./usr/lib/rtalloc/rtalloc-hook.sh 644
./usr/lib/rtalloc/rtalloc-udev-remove 755
./usr/lib/systemd/system/rtalloc-agent.service 644
./usr/lib/systemd/system/rtalloc-track.service 644
./usr/lib/systemd/system/rtalloc-wan-dnsmasq.service 644
./usr/lib/systemd/system/rtallocd.service 644
./usr/lib/sysusers.d/rtalloc.conf 644
./usr/sbin/rtalloc 755
./usr/sbin/rtalloc-agent 755
./usr/sbin/rtalloc-track 755
./usr/sbin/rtalloc-wan-dnsmasq 755
./usr/sbin/rtallocd 755"
t_eq "DESTDIR: the files and modes (docs and man pages aside)" "$expected" \
	"$(cd "$STAGE" && find . -type f ! -path './usr/share/*' -printf '%p %m\n' | sort)"
t_eq "DESTDIR: six man pages" \
	"man1/packetmark.1 man8/rtalloc-agent.8 man8/rtalloc-hooks.8 man8/rtalloc-track.8 man8/rtalloc.8 man8/rtallocd.8" \
	"$(cd "$STAGE/usr/share/man" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "DESTDIR: the 2017 names link to ours, and their man pages" \
	"./usr/sbin/table_allocator_client -> rtalloc ./usr/sbin/table_allocator_server -> rtallocd ./usr/share/man/man8/rtalloc-wan-dnsmasq.8 -> rtalloc-hooks.8 ./usr/share/man/man8/table_allocator_client.8 -> rtalloc.8 ./usr/share/man/man8/table_allocator_server.8 -> rtallocd.8" \
	"$(cd "$STAGE" && find . -type l -printf '%p -> %l\n' | sort | tr '\n' ' ' | sed 's/ $//')"
t_check "DESTDIR: table_allocator_client -h is rtalloc's usage" \
	grep -q "^usage: rtalloc " <<<"$("$STAGE/usr/sbin/table_allocator_client" -h)"
t_check "DESTDIR: table_allocator_server -h is rtallocd's usage" \
	grep -q "^usage: rtallocd " <<<"$("$STAGE/usr/sbin/table_allocator_server" -h 2>&1)"
same() { cmp -s "$TOP/$1" "$STAGE/$2"; }
t_check "DESTDIR: dhclient hook installed unchanged" same hooks/dhclient/rtalloc etc/dhcp/dhclient-enter-hooks.d/rtalloc
t_check "DESTDIR: dhcpcd hook installed unchanged" same hooks/dhcpcd/rtalloc usr/lib/dhcpcd/dhcpcd-hooks/90-rtalloc
t_check "DESTDIR: hook library unchanged" same hooks/lib/rtalloc-hook.sh usr/lib/rtalloc/rtalloc-hook.sh
t_check "DESTDIR: /etc/default/rtalloc is the example" same hooks/default/rtalloc etc/default/rtalloc
t_check "DESTDIR: rtallocd.service unchanged" same systemd/rtallocd.service usr/lib/systemd/system/rtallocd.service
t_check "DESTDIR: packetmark looks for the shim in /usr/lib/rtalloc" \
	grep -q "/usr/lib/rtalloc/libpacketmark.so" <<<"$("$STAGE/usr/bin/packetmark" -h)"

# An admin's config survives install and uninstall.
echo 'RTALLOC_PRIMARY_IFACE=eth0' >"$STAGE/etc/default/rtalloc"
mk BUILD="$T_DIR/b1" install DESTDIR="$STAGE" >/dev/null 2>&1
t_eq "reinstall keeps an edited /etc/default/rtalloc" "RTALLOC_PRIMARY_IFACE=eth0" "$(cat "$STAGE/etc/default/rtalloc")"
out=$(mk BUILD="$T_DIR/b1" uninstall DESTDIR="$STAGE" 2>&1); rc=$?
t_eq "uninstall: exit 0" 0 "$rc"
t_check "uninstall says it keeps the edited config" grep -q "KEEP.*etc/default/rtalloc (modified" <<<"$out"
t_eq "uninstall: only the edited config is left" "./etc/default/rtalloc" "$(cd "$STAGE" && find . -type f -o -type l)"
t_check "uninstall: /usr/lib/rtalloc and /etc/rtalloc are gone" \
	test ! -e "$STAGE/usr/lib/rtalloc" -a ! -e "$STAGE/etc/rtalloc"
rm "$STAGE/etc/default/rtalloc"
mk BUILD="$T_DIR/b1" install DESTDIR="$STAGE" >/dev/null 2>&1
mk BUILD="$T_DIR/b1" uninstall DESTDIR="$STAGE" >/dev/null 2>&1
t_eq "install + uninstall leaves no file" "" "$(find "$STAGE" -type f -o -type l)"
mk BUILD="$T_DIR/b1" install DESTDIR="$STAGE" COMPAT_NAMES=0 >/dev/null 2>&1
t_eq "COMPAT_NAMES=0: no table_allocator_* names" "" "$(find "$STAGE" -name 'table_allocator_*')"
t_check "an empty /etc/rtalloc/track.d (rtalloc-track's hook_dir)" test -d "$STAGE/etc/rtalloc/track.d"
t_check "README and the examples in the doc directory" \
	test -f "$STAGE/usr/share/doc/rtalloc/README.md" -a -d "$STAGE/usr/share/doc/rtalloc/examples"
mk BUILD="$T_DIR/b1" uninstall DESTDIR="$STAGE" >/dev/null 2>&1

# PREFIX install: everything points into $P.
t_check "PREFIX: hooks find the library under the prefix" \
	grep -q "RTALLOC_LIBDIR:-$P/usr/lib/rtalloc}" "$P/etc/dhcp/dhclient-enter-hooks.d/rtalloc"
t_check "PREFIX: the dhcpcd hook finds the library under the prefix" \
	grep -q "RTALLOC_LIBDIR:-$P/usr/lib/rtalloc}" "$P/usr/lib/dhcpcd/dhcpcd-hooks/90-rtalloc"
t_check "PREFIX: udev rule runs the installed script" \
	grep -q "RUN+=\"$P/usr/lib/rtalloc/rtalloc-udev-remove\"" "$P/usr/lib/udev/rules.d/90-rtalloc.rules"
t_check "PREFIX: defaults name the installed client" grep -qx "#RTALLOC=$P/usr/sbin/rtalloc" "$P/etc/default/rtalloc"
# The shim is not next to packetmark (bin/ vs lib/rtalloc/): found via SHIMDIR.
# (--preload: as root packetmark would use its cgroup and preload nothing.)
# shellcheck disable=SC2016 # expanded by the inner sh
out=$(env -u PACKETMARK_SHIM "$P/usr/bin/packetmark" --preload 0x10 -- sh -c 'echo "$LD_PRELOAD $LIBPACKETMARK_MARK"' 2>&1)
t_eq "PREFIX: packetmark preloads the installed shim" "$P/usr/lib/rtalloc/libpacketmark.so 0x10" "$out"
t_check "PREFIX: rtallocd.service ExecStart is the installed server" \
	grep -qx "ExecStart=$P/usr/sbin/rtallocd -c $P/etc/rtalloc/rtallocd.json" "$P/usr/lib/systemd/system/rtallocd.service"
# --man=no: the Documentation= man pages are not in the system's MANPATH.
out=$(cd "$P/usr/lib/systemd/system" && systemd-analyze verify --man=no ./rtallocd.service ./rtalloc-wan-dnsmasq.service ./rtalloc-agent.service ./rtalloc-track.service 2>&1); rc=$?
t_eq "PREFIX: systemd-analyze verify passes (exit)" 0 "$rc"
t_eq "PREFIX: systemd-analyze verify has nothing to say" "" "$out"
for m in "$P"/usr/share/man/man*/*; do
	out=$(groff -man -ww -Tutf8 "$m" 2>&1 >/dev/null)
	t_eq "man page $(basename "$m") renders without warnings" "" "$out"
done
t_check "PREFIX: man -w finds rtalloc(8)" test "$(MANPATH=$P/usr/share/man man -w 8 rtalloc)" = "$P/usr/share/man/man8/rtalloc.8"

# The commented example config starts the installed server (C comments are
# accepted), with only the socket and database moved into the test dir.
t_netns srv; NS=$T_NS
sed -e "s|\"rtallocd\"|\"$T_ID-inst\"|" -e "s|/var/lib/rtalloc/leases.db|$T_DIR/leases.db|" \
	"$P/etc/rtalloc/rtallocd.json" >"$T_DIR/conf.json"
t_check "installed rtallocd serves with the example config" \
	t_bg_ready rtallocd "$NS" "$P/usr/sbin/rtallocd" -c "$T_DIR/conf.json"
out=$(t_in "$NS" "$P/usr/sbin/rtalloc" --status -d "$T_ID-inst"); rc=$?
t_eq "installed rtalloc --status: consistent" "0 consistent: 0 leases, 0 rules (proto 122)" "$rc $out"

# The 2017 names, as its scripts call them: the server serves, the client
# leases (an unspec lease: a table for an identifier, no rules) and, without
# a server, prints 0 and exits 0 as the original did.
sed -e "s|\"$T_ID-inst\"|\"$T_ID-old\"|" -e "s|$T_DIR/leases.db|$T_DIR/old.db|" "$T_DIR/conf.json" >"$T_DIR/old.json"
t_check "installed table_allocator_server serves" \
	t_bg_ready table_allocator_server "$NS" "$P/usr/sbin/table_allocator_server" -c "$T_DIR/old.json"
out=$(t_in "$NS" "$P/usr/sbin/table_allocator_client" -a 10.9.9.9 -i lo -d "$T_ID-old" -s 2>/dev/null); rc=$?
t_check "installed table_allocator_client leases a table ('$out', exit $rc)" test "${out:-0}" -gt 0 -a "$rc" = 0
t_eq "the lease is in the server's database" "$out" \
	"$(sqlite3 "$T_DIR/old.db" "SELECT tbl FROM leases WHERE alive=1 AND address='10.9.9.9'")"
t_in "$NS" "$P/usr/sbin/table_allocator_client" -a 10.9.9.9 -i lo -d "$T_ID-old" -r
t_eq "table_allocator_client -r releases it" 0 \
	"$(sqlite3 "$T_DIR/old.db" "SELECT count(*) FROM leases WHERE alive=1 AND address='10.9.9.9'")"
out=$(t_in "$NS" "$P/usr/sbin/table_allocator_client" -4 -a 127.0.0.1 -n 8 -i lo -d "$T_ID-none" \
	--retries 1 --retry-interval 1 2>/dev/null); rc=$?
t_eq "table_allocator_client without a server: prints 0, exit 0" "0 0" "$out $rc"

mk BUILD="$T_DIR/b2" PREFIX="$P/usr" SYSCONFDIR="$P/etc" uninstall >/dev/null 2>&1
t_eq "PREFIX: uninstall leaves no file" "" "$(find "$P" -type f -o -type l)"
t_done
