#!/bin/bash
# allowed_gids counts supplementary groups, read from the kernel
# (/proc/PID/status of the sender SCM_CREDENTIALS names) when the request
# comes, never from the datagram: uid 65534 whose only allowed group is a
# supplementary one leases; the same process without it, or claiming it in
# the JSON, is refused.  And an AF_UNSPEC identifier (the original's
# `-a myuplink`) leases a table in both families unless "unspec": false.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns srv; NS=$T_NS
G=4242
t_server "$NS" "\"allowed_gids\": [$G]" || exit 1
as() {	# as SETPRIV-GROUP-ARGS JSON: the reply to JSON sent as uid 65534
	local groups=$1
	t_in "$NS" setpriv --reuid=65534 --regid=65534 $groups "$BUILD/tools/dgram" -t 3000 "$T_SOCK" "$2"
}
req='{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","seq":1}'
r=$(as "--groups=$G" "$req")
t_check "a member by a supplementary group leases ($r)" grep -q '"table":10000' <<<"$r"
t_eq "the lease is recorded for uid 65534" "65534|10000" "$(t_rows 'SELECT uid, tbl FROM leases WHERE alive = 1')"
r=$(as --clear-groups '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.2","ifname":"eth0","seq":2,"gid":4242,"groups":[4242]}')
t_check "without the group it is refused, whatever the datagram says ($r)" \
	grep -q '"table":0,.*permission denied: uid 65534 may not lease tables' <<<"$r"
r=$(as "--groups=$((G + 1)),$((G + 2))" '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.3","ifname":"eth0","seq":3}')
t_check "other supplementary groups are refused ($r)" grep -q '"table":0,' <<<"$r"
t_eq "only the member's lease is in the database" 1 "$(t_rows 'SELECT count(*) FROM leases')"

# Unspec identifiers.
r=$(t_req '{"version":1,"cmd":0,"addr_family":0,"address":"myuplink","ifname":"eth1"}')
t_check "an unspec identifier leases ($r)" grep -q '"table":10001' <<<"$r"
t_req '{"version":2,"cmd":0,"addr_family":10,"address":"2001:db8::1","ifname":"eth0","seq":4}' >/dev/null
t_eq "in both families: inet6 leases go past its table" 10002 \
	"$(t_req '{"version":2,"cmd":0,"addr_family":10,"address":"2001:db8::2","ifname":"eth0","seq":5}' | t_field table)"
t_eq "the identifier is in the database as it was sent" "0|myuplink|eth1|10001" \
	"$(t_rows "SELECT family, address, ifname, tbl FROM leases WHERE family = 0")"
r=$(t_req '{"version":1,"cmd":0,"addr_family":0,"address":"my uplink","ifname":"eth1"}')
t_check "an identifier with a space is refused ($r)" grep -q 'address: not an IP address or identifier' <<<"$r"
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
T_DB=$T_DIR/nounspec.db
t_server "$NS" '"unspec": false' || exit 1
r=$(t_req '{"version":1,"cmd":0,"addr_family":0,"address":"myuplink","ifname":"eth1"}')
t_check "\"unspec\": false refuses them ($r)" grep -q '"table":0,.*unspec leases are disabled' <<<"$r"
t_done
