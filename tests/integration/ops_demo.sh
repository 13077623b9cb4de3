#!/bin/bash
# make demo shows the product and installs only what it needs: tests/demo
# (what `make demo` runs after `scripts/deps demo` and `make all`) ends with
# exit 0 having shown two uplinks configured by systemd-networkd with an
# IPv4 and an IPv6 address each, each address with its own table and its
# traffic leaving by its own uplink, rtalloc-track moving unbound traffic
# (both families) to wan1 when ISP0's upstream died and back, and the
# dhclient hooks; `scripts/deps demo` asks for none of the test tools.
# About a minute: the real-peer scenario of the README's first command.
. "$(dirname "$0")/../lib.sh"
t_require_root
for p in "$BUILD/rtalloc-agent" "$BUILD/rtalloc-track"; do [ -x "$p" ] || t_skip "$p not built"; done

demo_pkgs=$(sed -n '/^DEMO="/,/"$/p' "$TOP/scripts/deps")
for p in clang valgrind cppcheck clang-tidy libcmocka-dev shellcheck; do
	# shellcheck disable=SC2016 # expanded by the inner bash
	t_check "scripts/deps demo does not install $p" bash -c '! grep -qw -- "$1" <<<"$2"' _ "$p" "$demo_pkgs"
done
t_check "make demo installs with scripts/deps demo" \
	grep -q 'scripts/deps demo' <(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TOP" -n demo 2>/dev/null)

out=$(BUILD=$BUILD timeout 240 "$TOP/tests/demo" 2>&1); rc=$?
t_eq "tests/demo: exit 0" 0 "$rc" || tail -n 40 <<<"$out"
t_check "networkd configured wan0 and wan1 (IPv4 and IPv6 each)" \
	test "$(grep -cE '^wan[01]@\S+ +UP +10\.10[01]\.0\.[0-9]+/24 .* 2001:db8:10[01]:' <<<"$out")" = 2
t_eq "four addresses, each leaving by its own uplink and answered" 4 \
	"$(grep -cE '^  from (10\.100|2001:db8:100).* -> dev wan0 +ping far host: answers$|^  from (10\.101|2001:db8:101).* -> dev wan1 +ping far host: answers$' <<<"$out")"
t_check "rtalloc-track: unbound traffic on wan0 first" grep -qx '  unbound IPv4 -> dev wan0, unbound IPv6 -> dev wan0' <<<"$out"
t_check "then on wan1 once ISP0's upstream died" grep -qx '  unbound IPv4 -> dev wan1, unbound IPv6 -> dev wan1' <<<"$out"
t_check "and back" grep -q '^  back after [0-9]* s' <<<"$out"
t_check "the hooks part: dhclient's uplinks got their tables" \
	grep -qE '^up1 got 10\.101\.0\.[0-9]+ -> table [0-9]+; up2 got 10\.102\.0\.[0-9]+ -> table [0-9]+$' <<<"$out"
t_check "the hooks part: a resolver answers only from its own uplink" grep -q 'no answer (dropped by the ISP)' <<<"$out"
t_done
