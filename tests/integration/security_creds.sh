#!/bin/bash
# Who may do what.  The abstract socket has no file permissions: any process
# in the namespace can send, so the kernel's SCM_CREDENTIALS decide.  An
# unprivileged uid is tried against every command; uid/pid/gid fields in the
# JSON never change who the server thinks sent a datagram; nobody cannot make
# a root rtalloc daemon release; the client works as a non-root uid with only
# CAP_NET_ADMIN; the server works as nobody.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
DGRAM=$BUILD/tools/dgram
NOBODY=65534	# not allowed to lease
MEMBER=65533	# in allowed_uids

t_uplink_host -4
t_veth "$H" up1 "$ISP" isp1
ip -n "$H" addr add 198.51.100.7/24 dev up1
# the binaries and the test dir must be reachable by the unprivileged uids
chmod 711 "$T_DIR"
t_server "$H" "\"allowed_uids\": [$MEMBER]" || exit 1

as() {	# as UID JSON: one datagram from UID, prints the reply
	local uid=$1; shift
	t_in "$H" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$DGRAM" -t 3000 "$T_SOCK" "$1"
}
rq() { printf '{"version":%s,"cmd":%s,"addr_family":2,"address":"%s","ifname":"%s"%s}' "$@"; }
rows() { sqlite3 "$T_DB" "$1"; }
snapshot() { rows 'SELECT family,ifname,address,tbl,alive,expires,uid FROM leases ORDER BY 1,2,3'; }
refused() { grep -q "\"table\":0,.*\"error\":\"$2" <<<"$1"; }

r=$(as 0 "$(rq 1 0 10.0.0.1 eth0 '')")
t_check "root leases ($r)" grep -q '"table":10000,' <<<"$r"
before=$(snapshot)

# 1. nobody against every command
r=$(as $NOBODY "$(rq 1 0 10.9.9.9 eth9 '')")
t_check "nobody: request v1 refused ($r)" refused "$r" "permission denied: uid $NOBODY may not lease"
r=$(as $NOBODY "$(rq 2 0 10.9.9.9 eth9 ',"seq":5')")
t_check "nobody: request v2 refused ($r)" refused "$r" "permission denied: uid $NOBODY may not lease"
r=$(as $NOBODY "$(rq 1 0 10.0.0.1 eth0 '')")
t_check "nobody: renewal of root's lease refused ($r)" refused "$r" "permission denied"
r=$(as $NOBODY "$(rq 1 1 10.0.0.1 eth0 '')")
t_check "nobody: release of root's lease refused ($r)" refused "$r" "permission denied"
r=$(as $NOBODY "$(rq 2 1 10.0.0.1 eth0 '')")
t_check "nobody: v2 release of root's lease refused ($r)" refused "$r" "permission denied"
r=$(as $NOBODY '{"version":2,"cmd":3,"seq":1}')
t_check "nobody: list refused, no leases shown ($r)" refused "$r" "permission denied"
t_check "nobody: the list reply names no address" eval '! grep -q 10.0.0.1 <<<"$r"'
r=$(as $NOBODY '{"version":2,"cmd":9,"seq":1}')
t_check "nobody: unknown command refused ($r)" refused "$r" "cmd: unknown command 9"
# spoofed identity fields: ignored as unknown keys, never trusted
for spoof in ',"uid":0' ',"uid":0,"gid":0,"pid":1' ',"uid":"0"' ',"cred":{"uid":0}'; do
	r=$(as $NOBODY "$(rq 1 1 10.0.0.1 eth0 "$spoof")")
	t_check "nobody: release with $spoof refused ($r)" refused "$r" "permission denied"
	r=$(as $NOBODY "$(rq 1 0 10.9.9.9 eth9 "$spoof")")
	t_check "nobody: request with $spoof refused as uid $NOBODY" refused "$r" "permission denied: uid $NOBODY"
done
t_eq "nobody changed nothing in the database" "$before" "$(snapshot)"

# 2. an allowed uid: its own leases only
r=$(as $MEMBER "$(rq 1 0 10.0.0.2 eth1 ',"uid":0')")
t_check "allowed uid leases ($r)" grep -q '"table":10001,' <<<"$r"
t_eq "its lease is recorded under its real uid, not the JSON's uid 0" $MEMBER \
	"$(rows "SELECT uid FROM leases WHERE address='10.0.0.2'")"
r=$(as 0 "$(rq 1 0 10.0.0.3 eth2 ",\"uid\":$MEMBER")")
t_eq "root's lease with a spoofed uid is recorded as uid 0" 0 \
	"$(rows "SELECT uid FROM leases WHERE address='10.0.0.3'")"
r=$(as $MEMBER "$(rq 1 1 10.0.0.1 eth0 ',"uid":0')")
t_check "allowed uid: release of root's lease refused ($r)" refused "$r" "permission denied: the lease belongs to uid 0"
r=$(as $MEMBER "$(rq 1 0 10.0.0.1 eth0 '')")
t_check "allowed uid: renewal of root's lease refused ($r)" refused "$r" "permission denied: the lease belongs to uid 0"
r=$(as $NOBODY "$(rq 1 1 10.0.0.2 eth1 ",\"uid\":$MEMBER")")
t_check "nobody: release of the allowed uid's lease refused" refused "$r" "permission denied"
r=$(as $MEMBER '{"version":2,"cmd":3,"seq":2}')
t_check "allowed uid: list works" grep -q '"total":3' <<<"$r"
r=$(as $MEMBER "$(rq 1 1 10.0.0.2 eth1 '')")
t_check "allowed uid: release of its own lease works ($r)" grep -q '"table":10001,' <<<"$r"
t_eq "root's lease is still alive with its table" "10000|1|0" \
	"$(rows "SELECT tbl,alive,uid FROM leases WHERE address='10.0.0.1'")"

# 3. the client daemon's control socket: nobody cannot make it release
daemon_of() { t_daemons "$H" "$1"; }	# the pid of the rtalloc daemon for address $1
T=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0)
t_check "root's rtalloc daemon leased ($T)" test "${T:-0}" -gt 0
rules=$(ip -n "$H" rule show)
t_in "$H" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	"$RTALLOC" -d "$T_SOCK" -4 -a 192.0.2.7 -i up0 -r --retries 1 --retry-interval 1 >"$T_DIR/r.out" 2>&1
rc=$?
t_check "nobody: rtalloc -r fails (exit $rc: $(tr '\n' ' ' <"$T_DIR/r.out"))" test $rc -ne 0
t_eq "nobody: the daemon's rules are unchanged" "$rules" "$(ip -n "$H" rule show)"
t_eq "nobody: the daemon's lease is still alive" 1 \
	"$(rows "SELECT alive FROM leases WHERE address='192.0.2.7'")"
t_check "nobody: the daemon still runs" test -n "$(daemon_of 192.0.2.7)"
t_check "root: rtalloc -r still works" rtalloc -4 -a 192.0.2.7 -i up0 -r
gone() { ! ip -n "$H" rule show | grep -q "lookup $T proto 122"; }
t_check "root: the rules are gone" t_wait 3 gone

# 4. the client as a non-root uid with only CAP_NET_ADMIN
capped() {
	t_in "$H" setpriv --reuid=$MEMBER --regid=$MEMBER --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin "$RTALLOC" -d "$T_SOCK" "$@"
}
T=$(capped -4 -a 198.51.100.7 -n 24 -i up1)
t_check "CAP_NET_ADMIN only: leased ($T)" test "${T:-0}" -gt 0
t_eq "CAP_NET_ADMIN only: three rules installed" 3 "$(ip -n "$H" rule show | grep -c "lookup $T proto 122")"
t_eq "CAP_NET_ADMIN only: the lease belongs to uid $MEMBER" $MEMBER \
	"$(rows "SELECT uid FROM leases WHERE address='198.51.100.7' AND alive=1")"
t_check "CAP_NET_ADMIN only: the daemon runs as uid $MEMBER" \
	test "$(ps -o uid= -p "$(daemon_of 198.51.100.7)" | tr -d ' ')" = $MEMBER
t_check "CAP_NET_ADMIN only: release works" capped -4 -a 198.51.100.7 -i up1 -r
gone2() { ! ip -n "$H" rule show | grep -q "lookup $T proto 122"; }
t_check "CAP_NET_ADMIN only: rules removed" t_wait 3 gone2
out=$(t_in "$H" setpriv --reuid=$MEMBER --regid=$MEMBER --clear-groups --inh-caps=-all \
	"$RTALLOC" -d "$T_SOCK" -4 -a 198.51.100.7 -n 24 -i up1 2>&1)
t_check "without CAP_NET_ADMIN: no rules, says so ($out)" eval '! ip -n "$H" rule show | grep -q "198.51.100.7 lookup"'

# 5. the server as nobody, its database in a directory only nobody can write
t_netns srv; S=$T_NS
mkdir "$T_DIR/nobody"; chown $NOBODY:$NOBODY "$T_DIR/nobody"; chmod 700 "$T_DIR/nobody"
cat >"$T_DIR/nobody.json" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$T_DIR/nobody/leases.db", "num_tables": 10 }
EOC
chmod 644 "$T_DIR/nobody.json"
t_check "server as nobody: ready" t_bg_ready rtallocd "$S" \
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --inh-caps=-all "$RTALLOCD" -c "$T_DIR/nobody.json"
NSRV=$T_LAST_PID
r=$(t_in "$S" "$DGRAM" -t 3000 "$T_SOCK" "$(rq 1 0 10.0.0.1 eth0 '')")
t_check "server as nobody: root leases ($r)" grep -q '"table":10000,' <<<"$r"
r=$(t_in "$S" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$DGRAM" -t 3000 "$T_SOCK" "$(rq 1 0 10.0.0.2 eth0 '')")
t_check "server as nobody: its own uid may lease ($r)" grep -q '"table":10001,' <<<"$r"
r=$(t_in "$S" setpriv --reuid=$MEMBER --regid=$MEMBER --clear-groups "$DGRAM" -t 3000 "$T_SOCK" "$(rq 1 0 10.0.0.3 eth0 '')")
t_check "server as nobody: another uid is refused" refused "$r" "permission denied: uid $MEMBER"
t_eq "server as nobody: the database is nobody's" "$NOBODY" "$(stat -c %u "$T_DIR/nobody/leases.db")"
t_eq "server as nobody: runs as uid $NOBODY" "$NOBODY" "$(ps -o uid= -p "$NSRV" | tr -d ' ')"
t_eq "server as nobody: two leases recorded" 2 "$(sqlite3 "$T_DIR/nobody/leases.db" 'SELECT count(*) FROM leases WHERE alive=1')"
t_done
