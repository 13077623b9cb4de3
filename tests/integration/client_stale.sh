#!/bin/bash
# A daemon killed with -9 leaves its rules behind.  The next rtalloc for the
# address removes them when it installs its own, whatever table it gets --
# but never a rule another live daemon needs (`iif lo lookup T` and `to NET
# lookup T` look the same in every daemon).  `rtalloc -r` with no daemon
# removes the leftovers too.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host -4
t_veth "$H" up1 "$ISP" isp1
ip -n "$H" addr add 198.51.100.7/24 dev up1
t_server "$H" || exit 1
DGRAM=$BUILD/tools/dgram

ours() { ip -n "$H" rule show | grep 'proto 122' | sed 's/[[:space:]]*proto 122//' | sort; }
daemon_of() { t_daemons "$H" "$1"; }
absent() { ! "$@"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
crash() {	# kill -9 the daemon of $1; its rules stay
	local p; p=$(daemon_of "$1")
	kill -9 "$p"; t_wait 3 gone "$p"
}
# rq CMD ADDRESS IFNAME: a v1 request (0) or release (1) as root, by hand
rq() { t_in "$H" "$DGRAM" -t 3000 "$T_SOCK" \
	"$(printf '{"version":1,"cmd":%s,"addr_family":2,"address":"%s","ifname":"%s"}' "$@")" >/dev/null; }
set_of() {	# the three rules of 192.0.2.7/24 with table $1, and its network's guard
	printf '%s\n' "10000:	from 192.0.2.7 lookup $1" \
		"19999:	from all to 192.0.2.0/24 lookup main suppress_prefixlength 24" \
		"20000:	from all to 192.0.2.0/24 lookup $1" "91000:	from all iif lo lookup $1"
}
set_b() { printf '%s\n' "10000:	from 198.51.100.7 lookup $1" \
	"19999:	from all to 198.51.100.0/24 lookup main suppress_prefixlength 24" \
	"20000:	from all to 198.51.100.0/24 lookup $1" "91000:	from all iif lo lookup $1"; }
both() { { set_of "$1"; set_b "$2"; } | sort; }

T1=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
t_eq "first run: three rules" "$(set_of "$T1")" "$(ours)"

# 1. Same table: the lease lived on, the server hands it back.
crash 192.0.2.7
t_eq "after kill -9 the rules are left" "$(set_of "$T1")" "$(ours)"
T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
t_eq "same table again" "$T1" "$T"
t_eq "same table: one set of rules" "$(set_of "$T1")" "$(ours)"

# 2. Another table: the old lease was released and its table taken by a key
# with no rules.
crash 192.0.2.7
rq 1 192.0.2.7 up0
rq 0 10.9.9.9 eth9
T2=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
t_check "another table ($T1 -> $T2)" test "$T2" -gt 0 -a "$T2" != "$T1"
t_eq "another table: only the new set is left" "$(set_of "$T2")" "$(ours)"

# 3. The old table now belongs to a live daemon for 198.51.100.7: its iif lo
# rule (the same as our leftover) stays, our from and to rules go.
crash 192.0.2.7
rq 1 192.0.2.7 up0
TB=$(rtalloc -4 -a 198.51.100.7 -n 24 -i up1 -l "$T_DIR/b.log")
t_eq "the other daemon got the old table" "$T2" "$TB"
T3=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
t_check "a third table ($T3)" test "$T3" -gt 0 -a "$T3" != "$T2"
t_eq "shared table: our new set and the other daemon's set, nothing else" \
	"$(both "$T3" "$TB")" "$(ours)"
sleep 1.5	# the other daemon would restore a rule of its own we deleted
t_check "the other daemon restored nothing (we deleted none of its rules)" \
	absent grep -q restored "$T_DIR/b.log"
t_eq "still both sets" "$(both "$T3" "$TB")" "$(ours)"

# 4. rtalloc -r with no daemon left removes the leftovers and nobody else's.
crash 192.0.2.7
rtalloc -4 -a 192.0.2.7 -n 24 -i up0 -r
t_eq "-r of a dead daemon: its rules are gone, the other daemon's stay" \
	"$(set_b "$TB" | sort)" "$(ours)"
t_done
