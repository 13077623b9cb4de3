#!/bin/bash
# Root writes nothing through a name rtallocd's user planted (#19.3).
# rtallocd.service gives /run/rtalloc to the unprivileged `rtalloc` user;
# every file a root program wrote there is planted as a symlink by that user
# (uid 65534 where there is no such user) to a root file or to a name in a
# root-only directory, in a private /run (tmpfs, mount namespace of the
# test): rtalloc-track's state file and its temp file, the hooks'
# servers-files and their lock files, rtalloc-wan-dnsmasq's pid file, its
# temp file and the WAN servers-file, the rtalloc daemons' control
# directory.  The hook is the per-address ifupdown hook of tests/hooks-2017,
# which starts the rtalloc daemon and writes the servers-files through the
# shipped hook library.  The programs run as users run them:
#  A. with the settings that named /run/rtalloc (the old defaults): track
#     warns and writes nothing through the links, the hook and
#     rtalloc-wan-dnsmasq refuse the directory; every root file is
#     untouched, nothing is created in the root-only directory and no root
#     file's content is copied out;
#  B. with the defaults: their files are in root-only directories
#     (/run/rtalloc-track, /run/rtalloc-hooks, /run/rtalloc-wan-dnsmasq,
#     /run/rtalloc-clients), `rtalloc --status` finds track's state there.
. "$(dirname "$0")/../lib.sh"
t_require_root
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
command -v nsenter >/dev/null || t_skip "needs nsenter (util-linux)"
command -v flock >/dev/null || t_skip "no flock"
TRACK=$BUILD/rtalloc-track PM=$BUILD/packetmark
for f in "$TRACK" "$PM"; do [ -x "$f" ] || t_skip "$f not built"; done
U=$(id -u rtalloc 2>/dev/null) || U=65534
G=$(id -g rtalloc 2>/dev/null) || G=65534
t_uplink_host -4
t_server "$H" || exit 1

# The private /run, kept by a sleeping process of the mount namespace.
t_bg "$H" unshare -m --propagation private sh -c \
	'mount -t tmpfs -o mode=755 rtalloc-test /run && touch /run/.ready && exec sleep 300'
MNT=$T_LAST_PID
inrun() { t_in "$H" nsenter -t "$MNT" -m "$@"; }
t_check "a private /run" t_wait 5 inrun test -e /run/.ready

# Root's files: SECRET (0700) holds victims with known contents; names
# that do not exist yet must not be created.
chmod 711 "$T_DIR"
SECRET=$T_DIR/secret
mkdir -m 700 "$SECRET"
i=0
plant() {	# NAME: /run/rtalloc/NAME -> a victim of its own, as uid U
	i=$((i + 1))
	printf 'root secret %s\n' "$i" >"$SECRET/victim$i"
	chmod 600 "$SECRET/victim$i"
	inrun setpriv --reuid="$U" --regid="$G" --clear-groups ln -s "$SECRET/victim$i" "/run/rtalloc/$1"
}
plant_new() {	# NAME: /run/rtalloc/NAME -> a name in SECRET that does not exist
	inrun setpriv --reuid="$U" --regid="$G" --clear-groups ln -s "$SECRET/new-$1" "/run/rtalloc/$1"
}
inrun install -d -o "$U" -g "$G" -m 0755 /run/rtalloc
for n in track.json track.json.tmp dnsmasq-servers.conf wan-dnsmasq.pid wan-dnsmasq.pid.tmp; do plant "$n"; done
for n in dnsmasq-servers.conf.lock wan-servers.conf wan-servers.conf.lock clients; do plant_new "$n"; done
VICTIMS=$i
# shellcheck disable=SC2317 # called through t_check
untouched() {
	local k
	for k in $(seq 1 "$VICTIMS"); do
		[ "$(cat "$SECRET/victim$k")" = "root secret $k" ] || { echo "victim$k: $(cat "$SECRET/victim$k")"; return 1; }
		[ "$(stat -c %a "$SECRET/victim$k")" = 600 ] || { echo "victim$k: mode changed"; return 1; }
	done
	[ -z "$(find "$SECRET" -mindepth 1 ! -name 'victim*')" ] || { echo "created: $(ls "$SECRET")"; return 1; }
	! inrun grep -rqs "root secret" /run || { echo "a root secret was copied into /run"; return 1; }
}
t_check "the planted links are uid $U's" \
	test "$(inrun find /run/rtalloc -type l -user "$U" | wc -l)" = 9

# ---- A. The settings that named /run/rtalloc ----
cat >"$T_DIR/track-old.json" <<EOC
{ "state_file": "/run/rtalloc/track.json", "hook_dir": "$T_DIR/hooks", "socket_path": "$T_SOCK",
  "interval": 0.3, "timeout": 0.3, "targets": ["198.51.100.1"] }
EOC
# shellcheck disable=SC2016 # expanded by the inner sh
t_bg_ready rtalloc-track "$H" nsenter -t "$MNT" -m sh -c 'exec "$0" -c "$1" 2>"$2"' \
	"$TRACK" "$T_DIR/track-old.json" "$T_DIR/track-old.log" || cat "$T_DIR/track-old.log"
TP=$T_LAST_PID
sleep 1
kill "$TP"; wait "$TP" 2>/dev/null
t_check "A: track warned about the directory" \
	grep -q "state file /run/rtalloc/track.json: its directory is not root's alone (owner uid $U)" "$T_DIR/track-old.log"

cat >"$T_DIR/defaults" <<EOC
RTALLOC_HOOK_IFACES=up0
RTALLOC=$RTALLOC
RTALLOC_SOCKET=$T_SOCK
RTALLOC_LIBDIR=$TOP/tests/hooks-2017/lib
RTALLOC_ARGS="--retries 2 --retry-interval 1"
RTALLOC_DNSMASQ_PIDFILE=
RTALLOC_WAN_IFACES=up0
EOC
cp "$T_DIR/defaults" "$T_DIR/defaults-old"
cat >>"$T_DIR/defaults-old" <<EOC
RTALLOC_DNSMASQ_SERVERS=/run/rtalloc/dnsmasq-servers.conf
RTALLOC_WAN_SERVERS=/run/rtalloc/wan-servers.conf
RTALLOC_WAN_PIDFILE=/run/rtalloc/wan-dnsmasq.pid
EOC
# ifup's environment for `iface up0 inet static` (address, dns-nameservers)
ifup_hook() {	# DEFAULTS: the ifupdown hook's post-up run
	inrun env RTALLOC_DEFAULTS="$1" MODE=start PHASE=post-up METHOD=static ADDRFAM=inet \
		IFACE=up0 IF_ADDRESS=192.0.2.7/24 IF_DNS_NAMESERVERS=10.8.0.1 \
		"$TOP/tests/hooks-2017/ifupdown/rtalloc" 2>>"$T_DIR/hook.log"
}
ifup_hook "$T_DIR/defaults-old"
t_check "A: the hook leased a table all the same" grep -q "^10000:.*from 192.0.2.7 lookup 10000" <(ip -n "$H" rule show)
t_check "A: the hook refused the servers-file's directory" \
	grep -q "/run/rtalloc/dnsmasq-servers.conf: not written: /run/rtalloc is not root's alone" "$T_DIR/hook.log"

wan() {	# DEFAULTS: rtalloc-wan-dnsmasq run (dnsmasq replaced by true)
	inrun env RTALLOC_DEFAULTS="$1" RTALLOC_PACKETMARK="$PM" RTALLOC_DNSMASQ=true RTALLOC_WAN_USER=root \
		timeout 10 "$TOP/hooks/wan-dnsmasq/rtalloc-wan-dnsmasq" run 2>>"$T_DIR/wan.log"
}
rc=0; wan "$T_DIR/defaults-old" || rc=$?
t_eq "A: rtalloc-wan-dnsmasq refuses the directory (exit 1)" 1 "$rc"
t_check "A: it says why" grep -q "/run/rtalloc is not root's alone" "$T_DIR/wan.log"
t_check "A: every root file is untouched, nothing created, nothing copied" untouched

# ---- B. The defaults ----
cat >"$T_DIR/track.json" <<EOC
{ "hook_dir": "$T_DIR/hooks", "socket_path": "$T_SOCK", "interval": 0.3, "timeout": 0.3,
  "targets": ["198.51.100.1"] }
EOC
# shellcheck disable=SC2016 # expanded by the inner sh
t_bg_ready rtalloc-track "$H" nsenter -t "$MNT" -m sh -c 'exec "$0" -c "$1" 2>"$2"' \
	"$TRACK" "$T_DIR/track.json" "$T_DIR/track.log" || cat "$T_DIR/track.log"
TP=$T_LAST_PID
t_check "B: track's state file is in /run/rtalloc-track" inrun test -f /run/rtalloc-track/track.json
# shellcheck disable=SC2317 # called through t_check
root_alone() { [ "$(inrun stat -c '%u %a' "$1")" = "0 755" ]; }
t_check "B: /run/rtalloc-track is root's alone" root_alone /run/rtalloc-track
t_check "B: rtalloc --status finds it there" python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["track"] is not None and s["track"]["running"] is True, s' \
	<<<"$(inrun env -u RTALLOC_TRACK_STATE "$RTALLOC" -d "$T_SOCK" --status --json)"
kill "$TP"; wait "$TP" 2>/dev/null

ifup_hook "$T_DIR/defaults"
t_check "B: the hook wrote /run/rtalloc-hooks/dnsmasq-servers.conf" \
	inrun grep -q "^server=10.8.0.1@up0@192.0.2.7$" /run/rtalloc-hooks/dnsmasq-servers.conf
t_check "B: and the WAN servers-file" inrun grep -q "^server=10.8.0.1@up0@192.0.2.7$" /run/rtalloc-hooks/wan-servers.conf
t_check "B: /run/rtalloc-hooks is root's alone" root_alone /run/rtalloc-hooks
t_check "B: the rtalloc daemon's control name is in /run/rtalloc-clients" \
	inrun sh -c 'ls /run/rtalloc-clients/*-4-up0-192.0.2.7.sock'
rc=0; wan "$T_DIR/defaults" || rc=$?
t_eq "B: rtalloc-wan-dnsmasq ran (dnsmasq replaced by true)" 0 "$rc"
t_check "B: its pid file is in /run/rtalloc-wan-dnsmasq" inrun grep -qx '[0-9]*' /run/rtalloc-wan-dnsmasq/wan-dnsmasq.pid
t_check "B: every root file is still untouched" untouched
t_done
