#!/bin/bash
# The same address configured on a second link (a confused DHCP server, a
# moved service address), by the real ifup and the ifupdown hook: the first
# holder keeps the address, its rules and its table; the second link's run
# is refused with one line and installs nothing; taking the second link down
# (ifdown, rtalloc -r) leaves the first one's rules and routes alone.  ISP2
# drops sources it did not assign, so traffic by the wrong link would fail.
. "$(dirname "$0")/../lib.sh"
# The per-address daemon is driven by the per-address hooks of before #21.
HK_HOOKS=$TOP/tests/hooks-2017
. "$TOP/tests/hooks-topology.sh"
hk_start ifup dnsmasq dig ping
cat >"$HK_ETC/network/interfaces" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1

iface up2 inet static
	address 10.101.0.10/24
EOC
A=10.101.0.10 FAR=10.201.0.53
ifupdown() { hk_run timeout 60 "$@" -v -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }
ours() { rt rule show | grep 'proto 122' | sed 's/[[:space:]]*proto 122//' | sort; }
set_of() { printf '%s\n' "10000:	from $A lookup $1" \
	"19999:	from all to 10.101.0.0/24 lookup main suppress_prefixlength 24" \
	"20000:	from all to 10.101.0.0/24 lookup $1" "91000:	from all iif lo lookup $1"; }
reaches() { ip netns exec "$HK_H" ping -q -c 1 -W 2 -I "$A" "$FAR" >/dev/null && [ "$(hk_resolve "$A" "$FAR")" = "$FAR" ]; }
by_up1() { rt route get "$FAR" from "$A" | grep -q "dev up1 table $1"; }

t_check "ifup up1" ifupdown ifup up1
T1=$(hk_table "$A")
t_check "up1 leased a table ($T1)" test -n "$T1"
t_check "up1: $A reaches ISP1's far host" reaches
t_check "ifup up2 with the same address" ifupdown ifup up2
t_check "the address is on both links" test -n "$(rt -4 addr show dev up2 to "$A")"
t_eq "only up1's three rules" "$(set_of "$T1")" "$(ours)"
t_check "table $T1 still routes by up1" grep -q "^default via 10.101.0.1 dev up1 .*src $A" <(rt route show table "$T1")
t_check "$A still leaves by up1 (table $T1)" by_up1 "$T1"
t_check "$A still reaches ISP1's far host" reaches
t_eq "one daemon for $A, for up1" "up1" "$(for p in $(t_daemons "$HK_H" "$A"); do
	tr '\0' ' ' <"/proc/$p/cmdline" | sed -n 's/.* -i \([^ ]*\) .*/\1/p'; done)"
sleep 1.5	# a daemon restoring rules someone deleted would have done it now
t_eq "still only up1's rules" "$(set_of "$T1")" "$(ours)"

out=$(ip netns exec "$HK_H" "$RTALLOC" -4 -a "$A" -n 24 -i up2 -d "$T_SOCK" 2>"$T_DIR/direct.err")
rc=$?
t_eq "rtalloc for up2 directly: prints 0" 0 "$out"
t_eq "rtalloc for up2 directly: exit status 2 (no lease)" 2 "$rc"
t_eq "rtalloc for up2 directly: one line naming up1" \
	"rtalloc: error: $A is already routed by the rtalloc for up1; up2 gets no table for it" \
	"$(cat "$T_DIR/direct.err")"
ip netns exec "$HK_H" "$RTALLOC" -4 -a "$A" -n 24 -i up2 -d "$T_SOCK" -r 2>/dev/null
t_eq "rtalloc -r for up2: up1's rules stay" "$(set_of "$T1")" "$(ours)"

t_check "ifdown up2" ifupdown ifdown up2
t_eq "after ifdown up2: up1's rules stay" "$(set_of "$T1")" "$(ours)"
t_check "after ifdown up2: table $T1 keeps its default route" \
	grep -q "^default via 10.101.0.1 dev up1" <(rt route show table "$T1")
t_check "after ifdown up2: $A reaches ISP1's far host" reaches
t_check "ifdown up1" ifupdown ifdown up1
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_done
