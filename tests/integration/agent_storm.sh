#!/bin/bash
# rtalloc-agent after event storms (issue 19, findings 2 and 5): with the
# 4 KiB receive buffer rtalloc-agent(8) offers for tests, one `ip -batch`
# adds 300 addresses on each of two managed links, deletes 150 of them and
# flaps a link; every run must end, within 10 s, with exactly the rules,
# routes and leases of the addresses left: no dump poisoned by a stray
# message (the agent stopped following the kernel with `reconcile: Protocol
# error`), no lease of a deleted address left behind.  Then everything is
# deleted and must be gone again.  RTALLOC_STORM_RUNS runs in a row (default
# 5 in `make check`, about 10 s each; the issue's 20: RTALLOC_STORM_RUNS=20).
. "$(dirname "$0")/../lib.sh"
t_require_root
RUNS=${RTALLOC_STORM_RUNS:-20}
WHY=""

t_netns host; H=$T_NS
t_netns isp; ISP=$T_NS
t_veth "$H" wan0 "$ISP" isp0
t_veth "$H" wan1 "$ISP" isp1
ip -n "$H" addr add 192.0.2.2/24 dev wan0
ip -n "$H" addr add 198.51.100.2/24 dev wan1
t_server "$H" '"num_tables": 1000' || exit 1
RTALLOC_AGENT_RCVBUF=4096 t_agent "$H" '"interfaces": ["wan*"], "families": ["inet"]' || exit 1
LOG=$T_AGENT_LOG

# The storm: 300 on each link, 150 of wan0's deleted, wan1 flapped.
for ((i = 0; i < 300; i++)); do
	echo "address add 10.1.$((i / 200)).$((i % 200 + 1))/32 dev wan0"
	echo "address add 10.2.$((i / 200)).$((i % 200 + 1))/32 dev wan1"
done >"$T_DIR/storm"
for ((i = 0; i < 300; i += 2)); do
	echo "address del 10.1.$((i / 200)).$((i % 200 + 1))/32 dev wan0"
done >>"$T_DIR/storm"
printf 'link set wan1 down\nlink set wan1 up\n' >>"$T_DIR/storm"
# What is left: "ADDRESS DEV", sorted.
{
	for ((i = 1; i < 300; i += 2)); do echo "10.1.$((i / 200)).$((i % 200 + 1)) wan0"; done
	for ((i = 0; i < 300; i++)); do echo "10.2.$((i / 200)).$((i % 200 + 1)) wan1"; done
	echo "192.0.2.2 wan0"; echo "198.51.100.2 wan1"
} | sort >"$T_DIR/want"
# Afterwards only the two base addresses.
printf '192.0.2.2 wan0\n198.51.100.2 wan1\n' >"$T_DIR/base"
grep -vxFf "$T_DIR/base" "$T_DIR/want" | awk '{ print "address del " $1 "/32 dev " $2 }' >"$T_DIR/clear"
# exact WANT-FILE: the kernel and the server hold exactly WANT's uplinks:
# one live lease each (ADDRESS DEV TABLE), `from ADDRESS lookup TABLE`, `to
# NET lookup TABLE` and `iif lo lookup TABLE` for each, a guard for each /24
# and nothing else of ours; each table holds its link's prefix route with
# the address as source, and nothing else.
exact() {
	local want=$1 n leases rules routes
	n=$(grep -c . "$want")
	leases=$(sqlite3 "$T_DB" "SELECT address||' '||ifname||' '||tbl FROM leases
		WHERE tag='rtalloc-agent' AND alive=1" | sort)
	[ "$(cut -d' ' -f1,2 <<<"$leases")" = "$(cat "$want")" ] ||
		{ WHY="leases: $(diff <(cut -d' ' -f1,2 <<<"$leases") "$want" | grep -c '^[<>]') differ"; return 1; }
	rules=$(ip -n "$H" -4 rule show | grep 'proto 122')
	[ "$(grep -c . <<<"$rules")" = $((3 * n + 2)) ] ||
		{ WHY="$(grep -c . <<<"$rules") rules, not $((3 * n + 2))"; return 1; }
	WHY="rules or routes differ from the leases"
	# from rules: ADDRESS TABLE, as the leases say
	[ "$(awk '$1 == "10000:" { print $3, $5 }' <<<"$rules" | sort)" = \
		"$(awk '{ print $1, $3 }' <<<"$leases" | sort)" ] || return 1
	[ "$(awk '$1 == "91000:" && $5 == "lo" { print $7 }' <<<"$rules" | sort)" = \
		"$(awk '{ print $3 }' <<<"$leases" | sort)" ] || return 1
	[ "$(awk '$1 == "20000:" { print $7 }' <<<"$rules" | sort)" = \
		"$(awk '{ print $3 }' <<<"$leases" | sort)" ] || return 1
	# routes: ADDRESS DEV TABLE, one per table
	routes=$(ip -n "$H" -4 route show table all proto 122 |
		awk '{ for (i = 1; i < NF; i++) { if ($i == "src") s = $(i + 1); if ($i == "dev") d = $(i + 1);
			if ($i == "table") t = $(i + 1) } print s, d, t }' | sort)
	[ "$routes" = "$leases" ]
}

start=$SECONDS
for ((run = 1; run <= RUNS; run++)); do
	ip -n "$H" -batch "$T_DIR/storm" || { t_fail "run $run: ip -batch"; break; }
	if ! t_wait 10 exact "$T_DIR/want"; then
		t_fail "run $run: exact rules, routes and leases within 10 s of the storm ($WHY)"
		break
	fi
	ip -n "$H" -batch "$T_DIR/clear"
	if ! t_wait 10 exact "$T_DIR/base"; then
		t_fail "run $run: all deleted: nothing of them left within 10 s ($WHY)"; break
	fi
done
[ "$run" -gt "$RUNS" ] && t_ok "$RUNS storm runs in a row converged exactly ($((SECONDS - start)) s)"
t_check "events were lost (ENOBUFS): the storms did overflow the buffer" grep -q ENOBUFS "$LOG"
t_check "no reconcile error was logged" bash -c "! grep 'reconcile:' $LOG"
t_done
