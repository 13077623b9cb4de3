#!/bin/bash
# A live address whose prefix changes (the DHCP server changed the mask):
# the address gets a second entry with the new prefix, the hook runs for it,
# then the old entry goes.  The running daemon moves its `to NET` rule to
# the new prefix when the hook's run tells it, and the old entry's removal
# does not end it: only the last entry of the address going does.  Checked
# by the rules, the table and traffic to ISP1's far host (ISPs drop sources
# they did not assign).  Then without a second run: the daemon follows the
# entry that is left by itself.
. "$(dirname "$0")/../lib.sh"
# The per-address daemon is driven by the per-address hooks of before #21.
HK_HOOKS=$TOP/tests/hooks-2017
. "$TOP/tests/hooks-topology.sh"
hk_start ifup dnsmasq dig ping
cat >"$HK_ETC/network/interfaces" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1
EOC
A=10.101.0.10 FAR=10.201.0.53
ifupdown() { hk_run timeout 60 "$@" -v -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }
ours() { rt rule show | grep 'proto 122' | sed 's/[[:space:]]*proto 122//' | sort; }
set_of() { printf '%s\n' "10000:	from $1 lookup $3" \
	"19999:	from all to $2 lookup main suppress_prefixlength ${2#*/}" "20000:	from all to $2 lookup $3" \
	"91000:	from all iif lo lookup $3"; }
reaches() { ip netns exec "$HK_H" ping -q -c 1 -W 2 -I "$A" "$FAR" >/dev/null && [ "$(hk_resolve "$A" "$FAR")" = "$FAR" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

t_check "ifup up1 ($A/24)" ifupdown ifup up1
T1=$(hk_table "$A") P=$(t_daemons "$HK_H" "$A")
t_eq "to-rule of the /24" "$(set_of "$A" 10.101.0.0/24 "$T1")" "$(ours)"

# The mask changes to /25: a second entry, and the hook runs for it.
rt addr add "$A/25" dev up1
hk_run env MODE=start PHASE=post-up METHOD=static ADDRFAM=inet IFACE=up1 LOGICAL=up1 \
	IF_ADDRESS="$A/25" IF_GATEWAY=10.101.0.1 /etc/network/if-up.d/rtalloc
t_eq "the run for /25 moved the to-rule, same table" "$(set_of "$A" 10.101.0.0/25 "$T1")" "$(ours)"
t_check "table $T1 has the /25 prefix route" grep -q "^10.101.0.0/25 dev up1 .*src $A" <(rt route show table "$T1")
t_check "table $T1 has no /24 prefix route" bash -c "! ip -n $HK_H route show table $T1 | grep -q '^10.101.0.0/24'"
t_check "unbound traffic to 10.101.0.100 uses table $T1 (to-rule /25)" \
	grep -q "dev up1 table $T1" <(rt route get 10.101.0.100)
t_check "$A reaches ISP1's far host" reaches

rt addr del "$A/24" dev up1
sleep 2
t_check "the old entry's removal did not end the daemon" alive "$P"
t_eq "rules unchanged" "$(set_of "$A" 10.101.0.0/25 "$T1")" "$(ours)"
t_check "$A still reaches ISP1's far host" reaches

rt addr del "$A/25" dev up1
t_check "the last entry's removal ends the daemon" t_wait 5 gone "$P"
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules

# Without a second run: the daemon has /24, the /24 entry goes, /26 stays.
B=10.102.0.10
rt addr add "$B/24" dev up2
rt addr add "$B/26" dev up2
T2=$(ip netns exec "$HK_H" "$RTALLOC" -4 -a "$B" -n 24 -i up2 -d "$T_SOCK" 2>/dev/null)
P2=$(t_daemons "$HK_H" "$B")
t_eq "up2: to-rule of the /24" "$(set_of "$B" 10.102.0.0/24 "$T2")" "$(ours)"
rt addr del "$B/24" dev up2
sleep 2
t_check "up2: the /24 entry's removal did not end the daemon" alive "$P2"
t_eq "up2: the to-rule follows the entry left (/26)" "$(set_of "$B" 10.102.0.0/26 "$T2")" "$(ours)"
rt addr del "$B/26" dev up2
t_check "up2: the last entry's removal ends the daemon" t_wait 5 gone "$P2"
t_check "no rtalloc rule left" t_wait 5 hk_no_rtalloc_rules
t_done
