#!/bin/bash
# The servers-files under concurrent hooks: 20 fake uplinks' hooks write at
# once and no line is lost; half of them leave at once; a rerun with the same
# servers neither rewrites the file nor signals dnsmasq; WAN uplinks also
# land in the WAN servers-file.  Needs no namespaces: only files.
. "$(dirname "$0")/../lib.sh"
command -v flock >/dev/null || t_skip "no flock"
LIB=$TOP/hooks/lib/rtalloc-hook.sh
export RTALLOC_DNSMASQ_SERVERS=$T_DIR/run/servers.conf
export RTALLOC_DNSMASQ_PIDFILE=$T_DIR/run/dnsmasq.pid
export RTALLOC_WAN_SERVERS=$T_DIR/run/wan.conf
export RTALLOC_WAN_PIDFILE=$T_DIR/run/wan.pid
export RTALLOC_WAN_IFACES="fake3 fake13"

# A stand-in dnsmasq that counts its SIGHUPs: bash under the name dnsmasq,
# as the hooks signal only what /proc/PID/exe says is dnsmasq.
mkdir -p "$T_DIR/run" "$T_DIR/bin"
cp "$(command -v bash)" "$T_DIR/bin/dnsmasq"
# shellcheck disable=SC2016 # expanded by the inner bash
"$T_DIR/bin/dnsmasq" -c 'trap "echo hup >>\"$1\"" HUP; while :; do sleep 0.2; done' x "$T_DIR/hups" &
hup_pid=$!
T_PIDS+=("$hup_pid")
echo "$hup_pid" >"$RTALLOC_DNSMASQ_PIDFILE"
hups() { [ -f "$T_DIR/hups" ] && wc -l <"$T_DIR/hups" || echo 0; }

dns() {	# IFNAME SRC SERVERS: one hook run, in its own sh as a hook would be
	sh -c '. "$0"; rth_defaults; rth_dns 4 "$1" "$2" "$3"' "$LIB" "$@"
}
pids=()
for i in $(seq 1 20); do
	dns "fake$i" "10.9.$i.2" "10.8.$i.1 10.8.$i.2" &
	pids+=($!)
done
wait "${pids[@]}"
t_eq "40 lines after 20 concurrent uplinks" 40 "$(wc -l <"$RTALLOC_DNSMASQ_SERVERS")"
t_check "fake7's lines, bound to its interface and address" \
	grep -qx "server=10.8.7.2@fake7@10.9.7.2" "$RTALLOC_DNSMASQ_SERVERS"
t_eq "no temp file left" "" "$(ls "$T_DIR/run" | grep -v -e '\.conf$' -e '\.lock$' -e '\.pid$')"
t_eq "WAN file: only the WAN uplinks" "server=10.8.13.1@fake13@10.9.13.2
server=10.8.13.2@fake13@10.9.13.2
server=10.8.3.1@fake3@10.9.3.2
server=10.8.3.2@fake3@10.9.3.2" "$(cat "$RTALLOC_WAN_SERVERS")"
sleep 0.5
t_check "dnsmasq was signalled" test "$(hups)" -ge 1

# The same servers again: no rewrite (same inode), no signal.
n=$(hups) ino=$(stat -c %i "$RTALLOC_DNSMASQ_SERVERS")
pids=()
for i in $(seq 1 20); do dns "fake$i" "10.9.$i.2" "10.8.$i.1 10.8.$i.2" & pids+=($!); done
wait "${pids[@]}"
sleep 0.5
t_eq "unchanged servers: file not rewritten" "$ino" "$(stat -c %i "$RTALLOC_DNSMASQ_SERVERS")"
t_eq "unchanged servers: no SIGHUP" "$n" "$(hups)"

# fake1 is not fake10..fake19; the even ones leave at once.
pids=()
for i in $(seq 2 2 20); do dns "fake$i" "10.9.$i.2" "" & pids+=($!); done
dns fake1 "" "" & pids+=($!)
wait "${pids[@]}"
t_eq "18 lines left" 18 "$(wc -l <"$RTALLOC_DNSMASQ_SERVERS")"
t_check "fake11's lines stay when fake1 leaves" grep -q "@fake11@" "$RTALLOC_DNSMASQ_SERVERS"
t_check "fake1's lines are gone" bash -c "! grep -q '@fake1@' '$RTALLOC_DNSMASQ_SERVERS'"

# A DHCP server's garbage never becomes a config line.
dns fake30 10.9.30.2 "10.8.30.1 1.2.3.4/rev-server=x addr"
t_eq "only the valid server of fake30" "server=10.8.30.1@fake30@10.9.30.2" \
	"$(grep @fake30@ "$RTALLOC_DNSMASQ_SERVERS")"
# dnsmasq itself accepts the file.
if command -v dnsmasq >/dev/null; then
	t_check "dnsmasq --test accepts the servers-file" \
		dnsmasq --test --conf-file=/dev/null --servers-file="$RTALLOC_DNSMASQ_SERVERS"
fi
t_done
