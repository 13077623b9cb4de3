#!/bin/bash
# A renewal whose row already outlasts it is acked without a write (the row
# is written with one table_timeout of slack): after kill -9 and a restart
# the renewed lease is still alive past its first ack's expiry, keeps its
# table, and the table is not leased to anyone else.
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns renew
NS=$T_NS
rq() { printf '{"version":2,"cmd":0,"addr_family":2,"address":"%s","ifname":"%s"}' "$@"; }

t_server "$NS" '"num_tables": 1, "table_timeout": 4' || exit 1
r=$(t_req "$(rq 10.0.0.1 eth0)")
t_eq "A gets the only table" 10000 "$(echo "$r" | t_field table)"
e0=$(echo "$r" | t_field lease_expires)
t_eq "A's row: alive, expiry = ack + table_timeout" "1|$((e0 + 4))" \
	"$(t_rows "SELECT alive, expires FROM leases WHERE address='10.0.0.1'")"
sleep 1.2
r=$(t_req "$(rq 10.0.0.1 eth0)")
t_eq "A's renewal keeps the table" 10000 "$(echo "$r" | t_field table)"
e1=$(echo "$r" | t_field lease_expires)
t_check "the renewal moved the acked expiry ($e0 -> $e1)" test "$e1" -gt "$e0"
stored=$(t_rows "SELECT expires FROM leases WHERE address='10.0.0.1'")
t_eq "the renewal was not written: the row still says" "$((e0 + 4))" "$stored"
t_check "the row's expiry covers the renewal's ($stored >= $e1)" test "$stored" -ge "$e1"

kill -9 "$T_SERVER_PID"
wait "$T_SERVER_PID" 2>/dev/null
t_server "$NS" '"num_tables": 1, "table_timeout": 4' || exit 1
# past the first ack's expiry, within the renewal's
t_wait 10 sh -c "[ \$(date +%s) -gt $e0 ]"
t_check "after kill -9, A is alive past its first expiry" test \
	"$(t_rows "SELECT alive FROM leases WHERE address='10.0.0.1'")" = 1
r=$(t_req "$(rq 10.0.0.2 eth1)")
t_check "B is refused: the table is still A's ($r)" grep -q '"table":0,.*no free table' <<<"$r"
t_eq "A renews and keeps its table" 10000 "$(t_req "$(rq 10.0.0.1 eth0)" | t_field table)"
t_eq "no table is held twice" "" \
	"$(t_rows 'SELECT family, tbl FROM leases WHERE alive=1 GROUP BY family, tbl HAVING count(*) > 1')"
t_done
