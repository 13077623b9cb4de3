#!/bin/bash
# rtalloc installs exactly its rules (IPv4 and IPv6, proto 122, the masked
# network, tables above 255 included), traffic from the address uses the
# leased table, a second run (a DHCP renewal) adds no daemon and no rule,
# --fwmark adds one more rule, bad arguments and foreign addresses install
# nothing.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
ip -n "$ISP" addr add 192.0.2.1/24 dev isp0
ip -n "$ISP" addr add 2001:db8:1::1/64 dev isp0 nodad
t_server "$H" || exit 1

our_rules() { ip -n "$H" "$1" rule show | grep ' proto 122' ; }
daemons() { t_daemons "$H" | wc -l; }	# rtalloc processes in the host namespace
two_daemons() { [ "$(daemons)" = 2 ]; }	# re-counted on every t_wait poll

# Before: traffic from the address has no route (no default anywhere).
t_check "no route from 192.0.2.7 before rtalloc" \
	bash -c "! ip -n $H route get 198.51.100.1 from 192.0.2.7 >/dev/null 2>&1"

T4=$(rtalloc -4 -a 192.0.2.7 -n 255.255.255.0 -i up0 -t uplink-a); rc=$?
t_eq "IPv4: exit status 0" 0 "$rc"
t_check "IPv4: a table number above 255 is printed ('$T4')" test "${T4:-0}" -gt 255
t_eq "IPv4: exactly our three rules and the network's guard" \
"10000:	from 192.0.2.7 lookup $T4 proto 122
19999:	from all to 192.0.2.0/24 lookup main suppress_prefixlength 24 proto 122
20000:	from all to 192.0.2.0/24 lookup $T4 proto 122
91000:	from all iif lo lookup $T4 proto 122" "$(our_rules -4)"
t_eq "IPv4: one daemon" 1 "$(daemons)"

ip -n "$H" route add 198.51.100.0/24 via 192.0.2.1 dev up0 table "$T4"
t_check "IPv4: traffic from 192.0.2.7 is routed by table $T4" \
	grep -q "via 192.0.2.1 dev up0 table $T4" <<<"$(ip -n "$H" route get 198.51.100.1 from 192.0.2.7)"

T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0); rc=$?
t_eq "IPv6: exit status 0" 0 "$rc"
# (IPv4 and IPv6 tables are separate in the kernel: the number may repeat.)
t_check "IPv6: a table number above 255 is printed ('$T6')" test "${T6:-0}" -gt 255
t_eq "IPv6: exactly our three rules and the network's guard" \
"10000:	from 2001:db8:1::7 lookup $T6 proto 122
19999:	from all to 2001:db8:1::/64 lookup main suppress_prefixlength 64 proto 122
20000:	from all to 2001:db8:1::/64 lookup $T6 proto 122
91000:	from all iif lo lookup $T6 proto 122" "$(our_rules -6)"
ip -n "$H" -6 route add 2001:db8:ff::/64 via 2001:db8:1::1 dev up0 table "$T6"
t_check "IPv6: traffic from 2001:db8:1::7 is routed by table $T6" \
	grep -q "via 2001:db8:1::1 dev up0 .*table $T6" <<<"$(ip -n "$H" -6 route get 2001:db8:ff::1 from 2001:db8:1::7)"

t_check "the server lists both leases" \
	grep -q "192.0.2.7 .* $T4 .*uplink-a" <<<"$(rtalloc --list)"
t_check "--list --json shows the IPv6 lease" \
	grep -q "\"address\":\"2001:db8:1::7\",\"table\":$T6" <<<"$(rtalloc --list --json)"

# Every DHCP renewal runs the hook again: same table, nothing added.
before=$(ip -n "$H" -4 rule show)
T4b=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0); rc=$?
t_eq "second run: exit status 0" 0 "$rc"
t_eq "second run: same table" "$T4" "$T4b"
t_eq "second run: no new daemon" 2 "$(daemons)"
t_eq "second run: rules unchanged" "$before" "$(ip -n "$H" -4 rule show)"

# A hook's $(...) returns as soon as the table is known: the daemon must not
# hold the pipe.  (It would hang here until the timeout otherwise.)
ip -n "$H" addr add 192.0.2.8/24 dev up0
t_check "the daemon does not keep \$(...) open" \
	timeout 10 bash -c "T=\$(ip netns exec $H $RTALLOC -d $T_SOCK -4 -a 192.0.2.8 -n 24 -i up0 --fwmark 0x100/0xff00) && test \"\$T\" -gt 0"
T8=$(rtalloc -4 -a 192.0.2.8 -n 24 -i up0 --fwmark 0x100/0xff00)
t_check "--fwmark: the fwmark rule at pref 9000" \
	grep -qx "9000:	from all fwmark 0x100/0xff00 lookup $T8 proto 122" <<<"$(our_rules -4)"
rtalloc -4 -a 192.0.2.8 -i up0 -r; rc=$?
t_eq "-r: exit status 0" 0 "$rc"
t_check "-r: every rule of table $T8 is gone, fwmark included" \
	bash -c "! ip -n $H -4 rule show | grep -q 'lookup $T8 '"
t_check "-r: the other address keeps its rules" \
	grep -q "from 192.0.2.7 lookup $T4 proto 122" <<<"$(our_rules -4)"
t_check "-r: the daemon is gone within a second or two" t_wait 3 two_daemons
t_check "-r: the lease is released" \
	bash -c "! ip netns exec $H $RTALLOC -d $T_SOCK --list | grep -q ' 192.0.2.8 '"

# An address the interface does not have, with no wait for it
# (client_compat: waited for by default): refused, nothing installed.
before=$(ip -n "$H" rule show; ip -n "$H" -6 rule show)
out=$(rtalloc -4 -a 192.0.2.99 -n 24 -i up0 --address-wait 0 2>"$T_DIR/err"); rc=$?
t_eq "foreign address: exit status 3" 3 "$rc"
t_eq "foreign address: prints 0" 0 "$out"
t_check "foreign address: says why" grep -q "192.0.2.99 is not an address of up0" "$T_DIR/err"
out=$(rtalloc -4 -a 192.0.2.7 -n 24 -i nosuch0 2>"$T_DIR/err"); rc=$?
t_eq "missing interface: exit status 7" 7 "$rc"
t_check "missing interface: says why" grep -q "no interface 'nosuch0'" "$T_DIR/err"

# Invalid arguments: one line naming the problem, status 64, nothing installed.
bad() {	# expected-message args...
	local want=$1 err rc; shift
	err=$(rtalloc "$@" 2>&1 >/dev/null); rc=$?
	t_eq "invalid: $* -> status 64" 64 "$rc"
	t_eq "invalid: $* -> one line" "rtalloc: $want" "$err"
}
bad "-a: not an IPv4 address: '10.0.0.300'" -4 -a 10.0.0.300 -n 24 -i up0
bad "-n: not an IPv4 netmask or prefix length: '255.0.255.0'" -4 -a 192.0.2.7 -n 255.0.255.0 -i up0
bad "-n: not an IPv6 prefix length 0..128: '255.255.255.0'" -6 -a 2001:db8:1::7 -n 255.255.255.0 -i up0
bad "-i: not a valid interface name: 'a-name-far-too-long'" -4 -a 192.0.2.7 -n 24 -i a-name-far-too-long
bad "--fwmark: mask 0 would match every packet: '0x1/0'" -4 -a 192.0.2.7 -n 24 -i up0 --fwmark 0x1/0
bad "--retries: not a number 1..1000: '0'" -4 -a 192.0.2.7 -n 24 -i up0 --retries 0
bad "-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes" -a "my uplink" -i up0
bad "-x: unknown option" -4 -x
t_eq "nothing was installed by refused runs" "$before" "$(ip -n "$H" rule show; ip -n "$H" -6 rule show)"
t_eq "still two daemons" 2 "$(daemons)"
t_done
