#!/bin/bash
# Issue 15 items 2-3 and issue 12's hook path: rtalloc owns the routes of its
# table (the hook hands them over as --route), so on static uplinks set up
# by the real ifup, behind ISPs that drop sources they did not assign:
#  - a route deleted by hand comes back, with a log line;
#  - a link going down and up gets its table's routes back within 1 s (the
#    kernel deletes every route through a link that goes down);
#  - an address removed by hand (no ifdown) leaves its table empty and its
#    rules gone, IPv6 too (IPv6 routes outlive their source address);
#  - the server losing its database and handing back another table moves
#    the routes with the rules; traffic still leaves by the right uplink
#    without ifup being run again;
#  - rtalloc --status names each of these faults.
# Checked in the kernel's tables and by traffic (hk_resolve: a DNS query from
# the uplink's address to its ISP's resolver, dropped by the other ISP).
. "$(dirname "$0")/../lib.sh"
# The per-address daemon is driven by the per-address hooks of before #21.
HK_HOOKS=$TOP/tests/hooks-2017
. "$TOP/tests/hooks-topology.sh"
t_require_root
for p in ifup dnsmasq dig; do command -v "$p" >/dev/null || t_skip "no $p"; done
[ -x "$RTALLOCD" ] && [ -x "$RTALLOC" ] || t_skip "build rtallocd and rtalloc first"
hk_topology || exit 1
# Short leases: renewals (at half of it) come every 2 s.
t_server "$HK_H" '"table_timeout": 4' || exit 1
hk_host_dnsmasq || exit 1
LOG=$T_DIR/rtalloc.log
sed -i "s|^RTALLOC_ARGS=\"\\(.*\\)\"\$|RTALLOC_ARGS=\"\\1 -l $LOG\"|" "$HK_DEFAULTS"
cat >"$HK_ETC/network/interfaces" <<'EOC'
iface up1 inet static
	address 10.101.0.10/24
	gateway 10.101.0.1

iface up1 inet6 static
	address 2001:db8:101::10/64
	gateway 2001:db8:101::1
	dad-attempts 0

iface up2 inet static
	address 10.102.0.10/24
	gateway 10.102.0.1
EOC
ifupdown() { hk_run timeout 60 "$@" -v -i /etc/network/interfaces --state-dir="$T_DIR/ifstate"; }
rt() { ip -n "$HK_H" "$@"; }

t_check "ifup up1" ifupdown ifup up1
t_check "ifup up2" ifupdown ifup up2
t1=$(hk_table 10.101.0.10) t2=$(hk_table 10.102.0.10)
t6=$(rt -6 rule show pref 10000 | awk '$3 == "2001:db8:101::10" { print $5 }')
echo "# tables: up1 $t1, up2 $t2, up1 inet6 $t6"
t_check "three tables" test -n "$t1" -a -n "$t2" -a -n "$t6"
# has TABLE PATTERN [-6]: TABLE holds a route matching PATTERN (a function:
# t_wait re-reads the table on every poll).
has() { grep -q "$2" <(rt ${3:+-6} route show table "$1" 2>/dev/null); }
empty() { [ -z "$(rt ${2:+-6} route show table "$1" 2>/dev/null)" ]; }
def1="^default via 10.101.0.1 dev up1 proto 122 .*src 10.101.0.10"
net1="^10.101.0.0/24 dev up1 proto 122 .*src 10.101.0.10"
def6="^default via 2001:db8:101::1 dev up1 proto 122 .*src 2001:db8:101::10"
t_check "table $t1: default via ISP1, rtalloc's (proto 122)" has "$t1" "$def1"
t_check "table $t1: prefix, rtalloc's" has "$t1" "$net1"
t_check "inet6 table $t6: default, rtalloc's" has "$t6" "$def6" -6
t_eq "up1's address reaches ISP1's resolver" 10.201.0.53 "$(hk_resolve 10.101.0.10 10.201.0.53)"
t_eq "up2's address reaches ISP2's resolver" 10.202.0.53 "$(hk_resolve 10.102.0.10 10.202.0.53)"

# 1. A route deleted by hand comes back, and the log says so.
rt route del default table "$t1"
t_check "deleted default route of table $t1: back" t_wait 3 has "$t1" "$def1"
t_check "the log says it restored a route" grep -q "table $t1): restored 1 missing route" "$LOG"
rt route flush table "$t1"
t_check "table $t1 flushed: both routes back" t_wait 3 eval "has $t1 '$def1' && has $t1 '$net1'"
t_eq "and traffic leaves by up1" 10.201.0.53 "$(hk_resolve 10.101.0.10 10.201.0.53)"

# 2. --status sees what sends traffic out the wrong link.
status() { t_in "$HK_H" "$RTALLOC" -d "$T_SOCK" --status; }
t_check "--status: consistent to begin with" eval 'status | grep -q "^consistent"'
# Routes of another device and of another source in up1's table (not
# rtalloc's: it leaves them alone, --status names them).
rt route add 10.99.0.0/24 dev up2 table "$t1"
rt route add 10.98.0.0/24 dev up1 src 10.102.0.10 table "$t1"
out=$(status); rc=$?
t_eq "--status: exit 6 with foreign routes" 6 "$rc"
t_check "--status: a route of another device" grep -qF \
	"foreign route: inet 10.101.0.10 on up1, table $t1 holds \`10.99.0.0/24 dev up2" <<<"$out"
t_check "--status: a route of another source" grep -qF \
	"foreign route: inet 10.101.0.10 on up1, table $t1 holds \`10.98.0.0/24 dev up1 src 10.102.0.10\`: another source" <<<"$out"
rt route del 10.99.0.0/24 table "$t1"; rt route del 10.98.0.0/24 table "$t1"
# Another address's rule of ours selecting up1's table (as a table leased
# twice leaves it): two uplinks resolve to one table.
rt rule add pref 10000 from 10.77.0.1 lookup "$t1" proto 122
out=$(status)
t_check "--status: another address's rule selects the table" grep -qF \
	"shared table: inet 10.101.0.10 on up1, table $t1 is also selected by \`pref 10000 from 10.77.0.1/32 lookup $t1\`" <<<"$out"
rt rule del pref 10000 from 10.77.0.1 lookup "$t1"
# A route the kernel refuses stays missing, and --status names it: a gateway
# that is one of our own addresses (a typo in a stanza).
rt addr add 10.101.0.11/24 dev up1 noprefixroute
t11=$(t_in "$HK_H" "$RTALLOC" -d "$T_SOCK" -4 -a 10.101.0.11 -n 24 -i up1 -l "$LOG" \
	--route 10.101.0.0/24 --route "default,via 10.101.0.11")
t_check "a third address: leased ($t11)" test "${t11:-0}" -gt 0
t_check "its refused route is logged" t_wait 2 grep -q "kernel refused adding route default via 10.101.0.11" "$LOG"
out=$(status)
t_check "--status: the missing route" grep -qF \
	"missing route: inet 10.101.0.11 on up1, table $t11: no \`default,via 10.101.0.11,metric 0\`" <<<"$out"
# It is tried again (backoff, no busy loop), and a route deleted while the
# next try is seconds away is back at once, not at that try.
sleep 3
n=$(grep -c "kernel refused adding route default via 10.101.0.11" "$LOG")
t_check "the refused route is tried again, not in a busy loop ($n tries in 3 s)" test "$n" -ge 2 -a "$n" -le 4
rt route del 10.101.0.0/24 table "$t11"
t_check "a route deleted meanwhile is back at once" t_wait 1 has "$t11" "^10.101.0.0/24 dev up1 proto 122 .*src 10.101.0.11"
t_check "rtalloc -r for the third address" t_in "$HK_H" "$RTALLOC" -d "$T_SOCK" -4 -a 10.101.0.11 -n 24 -i up1 -r
rt addr del 10.101.0.11/24 dev up1
t_check "its table is empty after the release" t_wait 2 empty "$t11"
# The daemon stopped (SIGSTOP), so nothing restores: an empty table that the
# installed rules still select.
pid=$(t_daemons "$HK_H" 10.101.0.10)
kill -STOP $pid
rt route flush table "$t1"
out=$(status)
t_check "--status: the empty table" grep -qF \
	"empty table: inet 10.101.0.10 on up1, table $t1: its rules are installed, the table has no route" <<<"$out"
kill -CONT $pid
t_check "daemon woken: table $t1 filled again" t_wait 3 eval "has $t1 '$def1' && has $t1 '$net1'"
t_check "--status: consistent again" t_wait 3 eval 'status | grep -q "^consistent"'

# 2b. The routes control messages are root's or the daemon's uid's alone:
# nobody neither learns table $t1's routes nor replaces them with none.
ctl() {	# ctl UID MSG: MSG to up1's daemon from UID, prints its answer (1 s)
	printf '%b' "$2" | t_in "$HK_H" setpriv --reuid="$1" --regid="$1" --clear-groups \
		socat -t 1 - "ABSTRACT-SENDTO:rtalloc/4/up1/10.101.0.10,bind=rtalloc-t/$$/$1" 2>/dev/null
}
if command -v setpriv >/dev/null && command -v socat >/dev/null; then
	t_check "root: 'routes?' answers table $t1's routes" eval 'ctl 0 "routes?" | grep -q "^default,via 10.101.0.1,"'
	t_eq "nobody: 'routes?' gets no answer" "" "$(ctl 65534 'routes?')"
	ctl 65534 'routes\n' >/dev/null
	sleep 0.5
	t_check "nobody: 'routes' with none left table $t1 full" eval "has $t1 '$def1' && has $t1 '$net1'"
	t_check "nobody: both refusals logged" eval \
		'grep -q "refused .routes?. from uid 65534" "$LOG" && grep -q "refused .routes. from uid 65534" "$LOG"'
fi

# 3. A link down and up: the kernel drops every route through it; the
# daemon knows them and puts them back within 1 s of the link coming up.
rt link set up2 down
t_check "up2 down: the kernel emptied table $t2" t_wait 2 empty "$t2"
rt link set up2 up
t_check "up2 up: table $t2's routes back within 1 s" \
	t_wait 1 eval "has $t2 '^default via 10.102.0.1 dev up2 proto 122' && has $t2 '^10.102.0.0/24 dev up2 proto 122'"
t_check "up2 up: its address reaches ISP2's resolver again" \
	t_wait 5 eval '[ "$(hk_resolve 10.102.0.10 10.202.0.53)" = 10.202.0.53 ]'

# 4. The server loses its database and, restarted with another pool, hands
# every holder another table at its next renewal: the routes move with
# the rules, and the static uplinks go on without ifup running again.
kill -TERM "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
T_DB=$T_DIR/other.db
t_server "$HK_H" '"table_timeout": 4, "table_offset": 10050' || exit 1
moved() {	# moved ADDR OLD: ADDR's from rule looks up a table of the new pool
	local n
	n=$(hk_table "$1")
	[ -n "$n" ] && [ "$n" != "$2" ] && [ "$n" -ge 10050 ]
}
t_check "up1: its rules moved to a new table" t_wait 10 moved 10.101.0.10 "$t1"
t_check "up2: its rules moved to a new table" t_wait 10 moved 10.102.0.10 "$t2"
n1=$(hk_table 10.101.0.10) n2=$(hk_table 10.102.0.10)
echo "# new tables: up1 $n1, up2 $n2"
t_check "new table $n1: default via ISP1 and prefix" eval "has $n1 '$def1' && has $n1 '$net1'"
t_check "new table $n2: default via ISP2" has "$n2" "^default via 10.102.0.1 dev up2 proto 122"
t_check "old tables $t1 and $t2 are empty" t_wait 2 eval "empty $t1 && empty $t2"
# The daemon's event filter followed the lease: a route deleted from the
# new table comes back.
rt route del default table "$n1"
t_check "new table $n1: its deleted default route is back" t_wait 3 has "$n1" "$def1"
t_eq "after the move: up1's address reaches ISP1's resolver" 10.201.0.53 "$(hk_resolve 10.101.0.10 10.201.0.53)"
t_eq "after the move: up2's address reaches ISP2's resolver" 10.202.0.53 "$(hk_resolve 10.102.0.10 10.202.0.53)"
t_eq "a route lookup from up1's address picks the new table" "dev up1 table $n1" \
	"$(rt route get 10.201.0.53 from 10.101.0.10 | grep -o "dev up1 table [0-9]*")"

# 5. Addresses removed by hand (no ifdown): the table is emptied, the rules go.
n6=$(rt -6 rule show pref 10000 | awk '$3 == "2001:db8:101::10" { print $5 }')
rt -6 addr del 2001:db8:101::10/64 dev up1
# (Table numbers are per family: up1's IPv4 table may have the same number.)
no_rules6() { ! rt -6 rule show | grep -qE "lookup $1( |\$)"; }
t_check "inet6 address gone: its rules are gone" t_wait 3 no_rules6 "$n6"
t_check "inet6 address gone: table $n6 is empty" t_wait 3 empty "$n6" -6
rt addr del 10.102.0.10/24 dev up2
t_check "up2's address gone: its rules are gone" t_wait 3 hk_no_rules "$n2"
t_check "up2's address gone: table $n2 is empty" t_wait 3 empty "$n2"
t_eq "up1 still routes" 10.201.0.53 "$(hk_resolve 10.101.0.10 10.201.0.53)"
t_done
