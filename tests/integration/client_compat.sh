#!/bin/bash
# rtalloc as a drop-in for the 2017 table_allocator client (issue 13):
# - its long options (--address --netmask --ifname --destination --syslog
#   --log_path --tag --release --foreground) lease and release as the short
#   ones; -s logs to stderr too;
# - its hook order: the client runs before the address is on the interface
#   (dhclient TIMEOUT): the table is printed at once, the rules come with the
#   address; an address that never comes leaves no rule and no lease;
# - -a ID without -4/-6: an unspec lease, no rules, released by -r;
# - run as table_allocator_client, "no lease" exits 0 (printed 0), as the
#   original's scripts expect; as rtalloc, 2.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host -4
t_server "$H" || exit 1

rules_of() { ip -n "$H" -4 rule show | grep "lookup $1 proto 122"; }
nrules() { rules_of "$1" | wc -l; }
live() { t_rows "SELECT count(*) FROM leases WHERE alive=1 AND address='$1'"; }
no_lease() { [ "$(live "$1")" = 0 ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
three_rules() { [ "$(nrules "$1")" = 3 ]; }

# 1. The original's long options.
T=$(ip netns exec "$H" "$RTALLOC" -4 --address 192.0.2.7 --netmask 255.255.255.0 --ifname up0 \
	--destination "$T_SOCK" --tag wan --syslog 2>"$T_DIR/err"); rc=$?
t_eq "long options: exit 0" 0 "$rc"
t_check "long options: a table ('$T')" test "${T:-0}" -gt 255
t_eq "long options: three rules for table $T" 3 "$(nrules "$T")"
t_eq "long options: the lease, with its tag" "$T wan" \
	"$(t_rows "SELECT tbl, tag FROM leases WHERE alive=1 AND address='192.0.2.7'" | tr '|' ' ')"
t_check "--syslog: the log line is on stderr too" grep -q "192.0.2.7 on up0: table $T, 3 rules" "$T_DIR/err"
if command -v strace >/dev/null; then
	# ... and to syslog: the message goes to /dev/log (absent here: tried).
	# (LeakSanitizer cannot run under ptrace: off for this one run.)
	ASAN_OPTIONS="detect_leaks=0:$ASAN_OPTIONS" strace -f -e trace=connect -o "$T_DIR/strace" ip netns exec "$H" "$RTALLOC" -4 -a 192.0.2.99 -n 24 \
		-i up0 --address-wait 0 -s 2>"$T_DIR/err2" >/dev/null
	t_check "-s: syslog is written to (/dev/log)" grep -q 'sun_path="/dev/log"' "$T_DIR/strace"
	t_check "-s: and stderr" grep -q "192.0.2.99 is not an address of up0" "$T_DIR/err2"
fi
ip netns exec "$H" "$RTALLOC" -4 --address 192.0.2.7 --ifname up0 --destination "$T_SOCK" --release; rc=$?
t_eq "--release: exit 0" 0 "$rc"
t_eq "--release: no rule left" 0 "$(nrules "$T")"
t_check "--release: lease released" t_wait 3 no_lease 192.0.2.7

# -6 without -n, as the original allowed: the address is its own /128.
ip -n "$H" addr add 2001:db8:1::9/64 dev up0 nodad
T6=$(rtalloc -6 -a 2001:db8:1::9 -i up0)
t_check "-6 without -n: the to-rule is the /128" \
	grep -q "^20000:	from all to 2001:db8:1::9 lookup $T6 proto 122" <<<"$(ip -n "$H" -6 rule show)"
rtalloc -6 -a 2001:db8:1::9 -i up0 -r

# 2. The original hook order: rtalloc first, the address 2 s later.
start=$(date +%s)
T=$(rtalloc -4 -a 192.0.2.50 -n 24 -i up0 -l "$T_DIR/wait.log"); rc=$?
took=$(($(date +%s) - start))
t_eq "address not there yet: exit 0" 0 "$rc"
t_check "address not there yet: a table printed at once ('$T', ${took}s)" \
	test "${T:-0}" -gt 255 -a "$took" -le 3
P=$(t_daemons "$H" 192.0.2.50)
t_check "address not there yet: a daemon waits ($P)" test -n "$P"
t_eq "address not there yet: no rule" 0 "$(nrules "$T")"
t_eq "address not there yet: the lease is held" 1 "$(live 192.0.2.50)"
t_eq "a second run meanwhile prints the same table" "$T" "$(rtalloc -4 -a 192.0.2.50 -n 24 -i up0)"
sleep 2
ip -n "$H" addr add 192.0.2.50/24 dev up0
t_check "address added: the three rules of table $T follow" t_wait 3 three_rules "$T"
t_check "address added: logged" grep -q "192.0.2.50 appeared on up0" "$T_DIR/wait.log"
ip -n "$H" route add 198.51.100.0/24 dev up0 src 192.0.2.50 table "$T"
t_check "address added: traffic from it uses table $T" \
	grep -q " table $T " <<<"$(ip -n "$H" route get 198.51.100.1 from 192.0.2.50 2>&1)"
ip -n "$H" addr del 192.0.2.50/24 dev up0
t_check "address deleted again: the daemon exits" t_wait 3 gone "$P"
t_eq "address deleted again: no rule" 0 "$(nrules "$T")"
t_check "address deleted again: lease released" t_wait 3 no_lease 192.0.2.50

# 3. An address that never comes: no rule, no lease after the wait, a log line.
T=$(rtalloc -4 -a 192.0.2.60 -n 24 -i up0 --address-wait 3 -l "$T_DIR/never.log")
P=$(t_daemons "$H" 192.0.2.60)
t_check "never added: a table printed ('$T') and a daemon waits" test "${T:-0}" -gt 255 -a -n "$P"
t_eq "never added: the lease is held meanwhile" 1 "$(live 192.0.2.60)"
t_check "never added: the daemon gives up after 3 s" t_wait 6 gone "$P"
t_eq "never added: no lease" 0 "$(live 192.0.2.60)"
t_eq "never added: no rule" 0 "$(nrules "$T")"
t_check "never added: says so" \
	grep -q "192.0.2.60 did not appear on up0 within 3 s: releasing table $T" "$T_DIR/never.log"
# -r while the address is still awaited: lease released, no rule, no daemon.
T=$(rtalloc -4 -a 192.0.2.62 -n 24 -i up0)
P=$(t_daemons "$H" 192.0.2.62)
rtalloc -4 -a 192.0.2.62 -i up0 -r; rc=$?
t_eq "-r while waiting: exit 0" 0 "$rc"
t_check "-r while waiting: the daemon exits" t_wait 3 gone "$P"
t_eq "-r while waiting: no lease" 0 "$(live 192.0.2.62)"
ip -n "$H" addr add 192.0.2.62/24 dev up0
sleep 0.5
t_eq "-r while waiting: the address coming later gets no rule" 0 "$(nrules "$T")"
# --address-wait 0: refused at once, as before.
out=$(rtalloc -4 -a 192.0.2.61 -n 24 -i up0 --address-wait 0 2>/dev/null); rc=$?
t_eq "--address-wait 0: exit 3, printed 0" "3 0" "$rc $out"
t_eq "--address-wait 0: no lease" 0 "$(live 192.0.2.61)"

# 4. unspec: -a ID without -4/-6 leases a table and installs nothing.
before=$(ip -n "$H" rule show; ip -n "$H" -6 rule show)
U=$(rtalloc -a 10.9.9.9 -i up0 -t vpn); rc=$?
t_eq "unspec: exit 0" 0 "$rc"
t_check "unspec: a table ('$U')" test "${U:-0}" -gt 255
t_eq "unspec: the lease, family 0" "0 $U" \
	"$(t_rows "SELECT family, tbl FROM leases WHERE alive=1 AND address='10.9.9.9'" | tr '|' ' ')"
t_eq "unspec: no rule added" "$before" "$(ip -n "$H" rule show; ip -n "$H" -6 rule show)"
P=$(t_daemons "$H" 10.9.9.9)
t_check "unspec: a daemon holds it ($P)" test -n "$P"
t_eq "unspec: a second run prints the same table" "$U" "$(rtalloc -a 10.9.9.9 -i up0)"
out=$(rtalloc --status); rc=$?
t_eq "unspec: --status counts a lease without rules as consistent" \
	"0 consistent: 1 lease, 0 rules (proto 122)" "$rc $out"
rtalloc -a 10.9.9.9 -i up0 -r; rc=$?
t_eq "unspec -r: exit 0" 0 "$rc"
t_check "unspec -r: the daemon exits" t_wait 3 gone "$P"
t_eq "unspec -r: lease released" 0 "$(live 10.9.9.9)"
# An identifier that is no address, as the original allowed.
N=$(rtalloc -a myuplink -i up0 2>/dev/null)
t_check "unspec ID 'myuplink': a table ('$N')" test "${N:-0}" -gt 255
t_eq "unspec ID 'myuplink': leased in the database" "0 $N" \
	"$(t_rows "SELECT family, tbl FROM leases WHERE alive=1 AND address='myuplink'" | tr '|' ' ')"
rtalloc -a myuplink -i up0 -r
t_check "unspec ID 'myuplink': released" t_wait 3 no_lease myuplink
t_eq "unspec: still no rule of ours" "" "$(ip -n "$H" rule show | grep 'proto 122')"

# 5. Exit status without a lease: 0 as table_allocator_client, 2 as rtalloc.
ln -s "$RTALLOC" "$T_DIR/table_allocator_client"
noserver() { ip netns exec "$H" "$1" -4 -a 192.0.2.7 -n 24 -i up0 -d "$T_ID-none" --retries 1 --retry-interval 1 -s; }
out=$(noserver "$T_DIR/table_allocator_client" 2>/dev/null); rc=$?
t_eq "table_allocator_client, no server: prints 0, exit 0" "0 0" "$out $rc"
out=$(noserver "$RTALLOC" 2>/dev/null); rc=$?
t_eq "rtalloc, no server: prints 0, exit 2" "0 2" "$out $rc"
t_eq "no server: no rule" "" "$(ip -n "$H" rule show | grep 'proto 122')"
ip netns exec "$H" "$T_DIR/table_allocator_client" -4 -a 192.0.2.7 -i up0 2>/dev/null; rc=$?
t_eq "table_allocator_client, invalid arguments: exit 1" 1 "$rc"
T=$(ip netns exec "$H" "$T_DIR/table_allocator_client" -4 -a 192.0.2.7 -n 24 -i up0 -d "$T_SOCK" -s 2>/dev/null); rc=$?
t_check "table_allocator_client leases ('$T', exit $rc)" test "${T:-0}" -gt 255 -a "$rc" = 0
t_eq "table_allocator_client: three rules" 3 "$(nrules "$T")"
ip netns exec "$H" "$T_DIR/table_allocator_client" -4 -a 192.0.2.7 -i up0 -d "$T_SOCK" -r
t_eq "table_allocator_client -r: no rule" 0 "$(nrules "$T")"
t_done
