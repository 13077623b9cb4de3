#!/bin/bash
# rtallocd and rtalloc run clean under valgrind: no invalid reads or writes,
# no use of uninitialized memory, no definite or indirect leaks, on the paths
# peers and the kernel drive (valid and broken datagrams, list, release,
# SIGTERM; a lease held in the foreground until its address goes away).
# ASan-instrumented binaries (SANITIZE=1) cannot run under valgrind: skipped,
# that pass has ASan check the same paths.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v valgrind >/dev/null || t_skip "no valgrind"
nm "$RTALLOCD" 2>/dev/null | grep -q __asan_init && t_skip "ASan build: valgrind cannot run it"
nm "$RTALLOC" 2>/dev/null | grep -q __asan_init && t_skip "ASan build: valgrind cannot run it"
DGRAM=$BUILD/tools/dgram
[ -x "$DGRAM" ] || t_skip "no $DGRAM (make tests)"

VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no -q)

t_uplink_host

T_SOCK=rtallocd-$T_ID
cat >"$T_DIR/rtallocd.json" <<EOC
{ "socket_path": "$T_SOCK", "db_path": "$T_DIR/leases.db", "table_offset": 10000,
  "num_tables": 100, "table_timeout": 60 }
EOC
T_READY_WAIT=60 t_check "rtallocd under valgrind is ready on @$T_SOCK" \
	t_bg_ready rtallocd "$H" "${VG[@]}" --log-file="$T_DIR/vg-server.log" "$RTALLOCD" -c "$T_DIR/rtallocd.json" -f
SERVER=$T_LAST_PID

send() { ip netns exec "$H" "$DGRAM" -t 5000 "$T_SOCK" "$@"; }
t_check "v2 request leased" bash -c '[[ $1 == *'"'"'"table":100'"'"'* ]]' x \
	"$(send '{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","tag":"vg","seq":1}')"
send '{"version":1,"cmd":0,"addr_family":10,"address":"2001:DB8::0001","ifname":"eth1"}' >/dev/null
send '{"version":2,"cmd":0,"addr_family":0,"address":"::ffff:10.0.0.9","ifname":"wwan0"}' >/dev/null
# Garbage of every kind: each must be refused, none may hurt the server.
for bad in '' 'not json' '{' '[1,2]' 'null' '{"version":9}' '{"version":2,"cmd":7}' \
	'{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.300","ifname":"eth0"}' \
	'{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"a/b"}' \
	'{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","tag":"\u0001"}' \
	'{"version":2,"cmd":0,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","seq":-1}' \
	'{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}' \
	'{"version":2,"cmd":3,"offset":4294967296}'; do
	send "$bad" >/dev/null 2>&1
done
printf '{"version":2,"cmd":0}\0trailing' | ip netns exec "$H" "$DGRAM" -t 5000 -f - "$T_SOCK" >/dev/null 2>&1
head -c 70000 /dev/zero | tr '\0' ' ' | ip netns exec "$H" "$DGRAM" -t 2000 -f - "$T_SOCK" >/dev/null 2>&1
t_check "list shows the leases" bash -c '[[ $1 == *10.0.0.1* && $1 == *2001:db8::1* ]]' x \
	"$(send '{"version":2,"cmd":3,"seq":2}')"
send '{"version":2,"cmd":1,"addr_family":2,"address":"10.0.0.1","ifname":"eth0","seq":3}' >/dev/null
t_check "server still answers after the garbage" \
	bash -c '[[ $1 == *'"'"'"cmd":4'"'"'* ]]' x "$(send '{"version":2,"cmd":3,"seq":4}')"

# The client, in the foreground, until its address is deleted.
ip netns exec "$H" "${VG[@]}" --log-file="$T_DIR/vg-client.log" \
	"$RTALLOC" -f -d "$T_SOCK" -4 -a 192.0.2.7 -n 24 -i up0 >"$T_DIR/client.out" 2>"$T_DIR/client.err" &
CLIENT=$!
T_PIDS+=("$CLIENT")
has_rules() { ip -n "$H" rule show | grep -q 'proto 122'; }
t_check "rtalloc under valgrind installs its rules" t_wait 30 has_rules
t_check "rtalloc printed a table" t_wait 5 grep -q '^100' "$T_DIR/client.out"
ip -n "$H" addr del 192.0.2.7/24 dev up0
gone() { ! kill -0 "$1" 2>/dev/null; }
t_check "rtalloc exits once its address is gone" t_wait 30 gone "$CLIENT"
wait "$CLIENT"; rc=$?
t_eq "rtalloc: exit 0, no valgrind errors or leaks" 0 "$rc"
[ "$rc" = 0 ] || { cat "$T_DIR/client.err"; cat "$T_DIR/vg-client.log"; }
t_check "rtalloc removed its rules" bash -c '! ip -n "$1" rule show | grep -q "proto 122"' x "$H"

kill -TERM "$SERVER"
t_check "rtallocd exits on SIGTERM" t_wait 30 gone "$SERVER"
wait "$SERVER"; rc=$?
t_eq "rtallocd: exit 0, no valgrind errors or leaks" 0 "$rc"
[ "$rc" = 0 ] && [ ! -s "$T_DIR/vg-server.log" ] || cat "$T_DIR/vg-server.log"
t_done
