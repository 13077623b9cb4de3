# rtalloc-hook.sh: the shared part of the rtalloc hooks (dhclient, ifupdown,
# NetworkManager, udev).  Installed as /usr/lib/rtalloc/rtalloc-hook.sh and
# sourced, never run.  POSIX sh: the dhclient hook is sourced into
# dhclient-script (dash), so nothing here may exit, set -e or take a name
# dhclient-script uses: functions are rth_*, variables rth_* / RTALLOC_*.
#
# The hooks only gather what their caller knows (gateways, routes, DNS
# servers, which uplink is the primary one) and hint it to rtalloc-agent
# (`rtalloc hint`), which leases the tables, installs the rules and routes
# and writes the per-uplink DNS servers-file.  No hook leases a table,
# starts a daemon, edits a route or a rule, or parses ip(8)'s output; this
# file only keeps the WAN resolver's servers-file (and drops a removed
# interface's lines for the udev script).

# rth_log MESSAGE: one line to syslog and stderr (dhclient -v, ifup -v and
# NetworkManager's journal all show stderr).
rth_log() {
	logger -t rtalloc-hook -p daemon.notice -- "$*" 2>/dev/null
	printf 'rtalloc-hook: %s\n' "$*" >&2
}

# rth_defaults: fills in every setting the defaults file left unset.
# The hooks source the defaults file themselves (RTALLOC_LIBDIR in it tells
# where this file is).
rth_defaults() {
	: "${RTALLOC:=/usr/sbin/rtalloc}"
	: "${RTALLOC_SOCKET:=rtallocd}"
	# Set but empty: dhclient always keeps resolv.conf; so only fill in
	# when unset.  The servers-files live in a directory only root can
	# write (rth_root_dir): /run/rtalloc belongs to rtallocd's user.
	: "${RTALLOC_DNSMASQ_SERVERS=/run/rtalloc-hooks/dnsmasq-servers.conf}"
	: "${RTALLOC_DNSMASQ_PIDFILE=/run/dnsmasq/dnsmasq.pid}"
	: "${RTALLOC_IGNORE_IFACES:=}"
	: "${RTALLOC_PRIMARY_IFACE:=}"
	: "${RTALLOC_WAN_IFACES:=}"
	: "${RTALLOC_WAN_SERVERS:=/run/rtalloc-hooks/wan-servers.conf}"
	: "${RTALLOC_WAN_PIDFILE:=/run/rtalloc-wan-dnsmasq/wan-dnsmasq.pid}"
	# Set but empty: no fwmark rule (another program routes the mark).
	: "${RTALLOC_WAN_MARK=0x1000}"
	: "${RTALLOC_FORWARD_IFACES:=}"
	# Unset (not set empty) after an upgrade from 0.1, whose hooks acted on
	# every interface: they still do (debian/rtalloc.postinst).
	[ -n "${RTALLOC_HOOK_IFACES+set}" ] || [ ! -e /etc/rtalloc/hooks-legacy ] ||
		RTALLOC_HOOK_IFACES='*'
	: "${RTALLOC_HOOK_IFACES:=}"
	# Where dnsmasq's configuration is read from (dhclient hook, resolv.conf).
	: "${RTALLOC_DNSMASQ_CONF:=/etc/dnsmasq.conf /etc/dnsmasq.d}"
}

# rth_hooked IFNAME: the admin enabled the hooks for IFNAME: it matches a
# name or glob of RTALLOC_HOOK_IFACES.  Empty (the default): the hooks do
# nothing at all, so installing the package changes no route.  Every hook
# asks this first; one info line to syslog says why it did nothing.
rth_hooked() {
	rth_on=1
	case $- in *f*) rth_nf= ;; *) rth_nf=1; set -f ;; esac
	for rth_g in $RTALLOC_HOOK_IFACES; do
		# shellcheck disable=SC2254 # a glob on purpose
		case $1 in $rth_g) rth_on=0; break ;; esac
	done
	[ -z "$rth_nf" ] || set +f
	[ $rth_on = 0 ] || logger -t rtalloc-hook -p daemon.info -- \
		"$1: not in RTALLOC_HOOK_IFACES (/etc/default/rtalloc), doing nothing" 2>/dev/null
	return $rth_on
}

# rth_in_list WORD LIST: WORD is one of the blank-separated words of LIST
# (exact match: eth1 is not in "eth10").
rth_in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

# rth_ignored IFNAME: the admin asked us to leave IFNAME alone.
rth_ignored() { rth_in_list "$1" "$RTALLOC_IGNORE_IFACES"; }

# rth_hint_args IFNAME [keep]: the settings' flags of IFNAME's `rtalloc hint`, as
# words: --primary for RTALLOC_PRIMARY_IFACE (its default route stays in
# main), else --out-of-main (the agent takes its default and prefix routes
# out of main into its tables, so main holds no uplink route and the rules
# decide; not with "keep": main's routes are needed a while longer);
# --fwmark RTALLOC_WAN_MARK for RTALLOC_WAN_IFACES (the WAN
# resolver's queries take its table); --forward-iif for each interface of
# RTALLOC_FORWARD_IFACES (its forwarded traffic takes the uplinks' tables).
rth_hint_args() {
	if [ "$1" = "$RTALLOC_PRIMARY_IFACE" ]; then
		printf '%s\n' --primary
	elif [ "${2:-}" != keep ]; then
		printf '%s\n' --out-of-main
	fi
	if [ -n "$RTALLOC_WAN_MARK" ] && rth_in_list "$1" "$RTALLOC_WAN_IFACES"; then
		printf '%s\n' --fwmark "$RTALLOC_WAN_MARK"
	fi
	for rth_f in $RTALLOC_FORWARD_IFACES; do
		[ "$rth_f" = "$1" ] && continue
		if rth_valid_ifname "$rth_f"; then
			printf '%s\n' --forward-iif "$rth_f"
		else
			rth_log "RTALLOC_FORWARD_IFACES: ignoring '$rth_f'"
		fi
	done
}

# rth_dnsmasq_reads FILE: a dnsmasq is set up to read FILE as its
# servers-file: a "servers-file=FILE" line in a file of RTALLOC_DNSMASQ_CONF
# (a directory: its files, less dpkg's leftovers, as Debian's dnsmasq reads
# /etc/dnsmasq.d), or --servers-file=FILE in the command line of the dnsmasq
# in RTALLOC_DNSMASQ_PIDFILE.  Asked at every run: the admin may set it up,
# or take it away, at any time.
rth_dnsmasq_reads() {
	[ -n "$1" ] || return 1
	for rth_c in $RTALLOC_DNSMASQ_CONF; do
		if [ -d "$rth_c" ]; then
			for rth_cf in "$rth_c"/*; do
				case $rth_cf in *.dpkg-dist | *.dpkg-old | *.dpkg-new) continue ;; esac
				[ -f "$rth_cf" ] && rth_conf_has "$rth_cf" "$1" && return 0
			done
		elif [ -f "$rth_c" ]; then
			rth_conf_has "$rth_c" "$1" && return 0
		fi
	done
	[ -n "$RTALLOC_DNSMASQ_PIDFILE" ] && [ -r "$RTALLOC_DNSMASQ_PIDFILE" ] || return 1
	read -r rth_pid <"$RTALLOC_DNSMASQ_PIDFILE" 2>/dev/null || return 1
	case $rth_pid in '' | *[!0-9]*) return 1 ;; esac
	tr '\0' '\n' <"/proc/$rth_pid/cmdline" 2>/dev/null |
		awk -v f="$1" '$0 == "--servers-file=" f || (p == "--servers-file" && $0 == f) { found = 1 } { p = $0 }
			END { exit !found }'
}

# rth_conf_has CONF FILE: dnsmasq config CONF has a servers-file=FILE line.
rth_conf_has() {
	awk -v f="$2" '{ sub(/^[ \t]+/, ""); sub(/[ \t\r]+$/, "") } $0 == "servers-file=" f { found = 1 }
		END { exit !found }' "$1" 2>/dev/null
}

# rth_valid_ifname NAME: what the kernel accepts, without shell or dnsmasq
# metacharacters (the name ends up in the servers-file).
rth_valid_ifname() {
	case $1 in '' | *[!A-Za-z0-9_.:-]*) return 1 ;; esac
	[ ${#1} -le 15 ]
}

# rth_valid_addr FAMILY ADDR: looks like an address of FAMILY (4 or 6).
# Only a sanity check: ip(8) and rtalloc validate for real.
rth_valid_addr() {
	case $1 in
	4) case $2 in '' | *[!0-9.]*) return 1 ;; *.*.*.*) return 0 ;; esac ;;
	6) case $2 in '' | *[!0-9A-Fa-f:.]*) return 1 ;; *:*) return 0 ;; esac ;;
	esac
	return 1
}

# rth_rfc3442 "DHCP OPTION 121 BYTES": prints the classless static routes as
# "DEST/LEN GATEWAY" lines (RFC 3442: width octets of destination follow the
# prefix length, then 4 of router).  Prints nothing for a malformed option.
rth_rfc3442() {
	# shellcheck disable=SC2086 # the option is a list of numbers
	set -- $1
	rth_out=
	while [ $# -gt 0 ]; do
		case $1 in '' | *[!0-9]*) return 1 ;; esac
		[ "$1" -le 32 ] || return 1
		rth_w=$((($1 + 7) / 8))
		[ $# -ge $((1 + rth_w + 4)) ] || return 1
		rth_l=$1
		shift
		rth_d=
		for rth_i in 1 2 3 4; do
			if [ "$rth_i" -le "$rth_w" ]; then rth_o=$1; shift; else rth_o=0; fi
			rth_d=${rth_d:+$rth_d.}$rth_o
		done
		rth_out="$rth_out$rth_d/$rth_l $1.$2.$3.$4
"
		shift 4
	done
	printf '%s' "$rth_out"
}

# rth_dns FAMILY IFNAME SRC SERVERS [MATCH]: makes the servers-file(s) hold
# exactly one "server=ADDR@IFNAME@SRC" line per server of SERVERS in place of
# IFNAME's lines that MATCH (default: SRC; see rth_servers_file): dnsmasq
# then sends each query to an uplink's resolver out of that uplink
# (interface) and from its address (source), so the ISP does not drop it.
# Empty SERVERS removes the lines.  An empty SRC means every line of IFNAME.
# MATCH=FAMILY replaces the lines of every FAMILY source of IFNAME, for a
# caller that knows the device's whole FAMILY configuration and not what it
# was before (NetworkManager's dhcp4-change with a new address).
rth_dns() {
	rth_lines=
	for rth_s in $4; do
		rth_valid_addr "$1" "$rth_s" || {
			rth_log "$2: ignoring DNS server '$rth_s'"
			continue
		}
		# A link-local server is only reachable with its scope.
		case $rth_s in [Ff][Ee]80:*) rth_s=$rth_s%$2 ;; esac
		rth_lines="${rth_lines}server=$rth_s@$2@$3
"
	done
	if [ -n "$RTALLOC_DNSMASQ_SERVERS" ]; then
		rth_servers_file "$RTALLOC_DNSMASQ_SERVERS" "$RTALLOC_DNSMASQ_PIDFILE" "$2" "${5-$3}" "$rth_lines"
	fi
	if [ -n "$RTALLOC_WAN_SERVERS" ] && { rth_in_list "$2" "$RTALLOC_WAN_IFACES" || [ -z "$4" ]; }; then
		# Removal also runs for non-WAN interfaces: the setting may have
		# changed while the uplink was up.
		rth_servers_file "$RTALLOC_WAN_SERVERS" "$RTALLOC_WAN_PIDFILE" "$2" "${5-$3}" "$rth_lines"
	fi
	return 0
}

# rth_wan_dns FAMILY IFNAME SRC SERVERS: rth_dns for the WAN resolver's
# servers-file alone (RTALLOC_WAN_SERVERS, hooks/wan-dnsmasq), which the
# dhclient hook keeps: the per-uplink servers-file is rtalloc-agent's.
rth_wan_dns() {
	rth_dns_main=$RTALLOC_DNSMASQ_SERVERS
	RTALLOC_DNSMASQ_SERVERS=
	rth_dns "$@"
	RTALLOC_DNSMASQ_SERVERS=$rth_dns_main
}

# rth_servers_file FILE PIDFILE IFNAME MATCH LINES: replaces IFNAME's lines
# in FILE that MATCH by LINES.  MATCH is a source address (the lines of
# (IFNAME, SRC)), empty (every line of IFNAME), or 4 or 6 (the lines of
# IFNAME whose source is of that family; no address is "4" or "6").
# Hooks of several uplinks run at once, so:
# flock a lock file, write a temp file next to FILE, rename it over FILE
# (readers never see half a file); the file is kept sorted so the same set of
# servers always gives the same bytes, and dnsmasq is sent SIGHUP only when
# the bytes changed.
rth_servers_file() {
	[ -n "$1" ] || return 0
	[ -e "$1" ] || [ -n "$5" ] || return 0
	# 0755 whatever our caller's umask: dnsmasq reads it as its own user.
	(umask 022 && mkdir -p "$(dirname "$1")") 2>/dev/null
	# Root writes, locks and reads FILE: nobody else may plant a name there.
	rth_root_dir "$(dirname "$1")" || {
		rth_log "$1: not written: $(dirname "$1") is not root's alone (a planted link would make root write through it)"
		return 0
	}
	# A subshell: its fd 9 and "exit" stay in there, not in dhclient-script.
	(
		flock -w 10 9 || { rth_log "$1: lock busy for 10 s, not updated"; exit 1; }
		rth_tmp=$(mktemp "$1.XXXXXX") || { rth_log "$1: cannot create a temp file"; exit 1; }
		{
			[ -f "$1" ] && awk -F@ -v ifn="$3" -v m="$4" '!($2 == ifn && (m == "" || $3 == m ||
				(m == "4" && $3 !~ /:/) || (m == "6" && $3 ~ /:/)))' "$1"
			printf '%s' "$5"
		} | sort -u >"$rth_tmp"
		if [ -f "$1" ] && cmp -s "$rth_tmp" "$1"; then
			rm -f "$rth_tmp"
			exit 0
		fi
		chmod 644 "$rth_tmp"
		mv -f "$rth_tmp" "$1" || { rm -f "$rth_tmp"; rth_log "$1: cannot replace"; exit 1; }
		rth_hup "$2"
	) 9>>"$1.lock"
}

# rth_root_dir DIR: DIR is a directory only root can write in (owned by
# root, no group or other write bit).
rth_root_dir() {
	# shellcheck disable=SC2046 # two words: uid and octal mode
	set -- $(stat -L -c '%u %a' "$1" 2>/dev/null) || return 1
	[ "${1-}" = 0 ] && [ -n "${2-}" ] && [ $((0$2 & 022)) = 0 ]
}

# rth_hup PIDFILE: asks the dnsmasq in PIDFILE to re-read its servers-file.
# A pid file names a pid, not a process: the one signalled must be what
# the kernel says is dnsmasq (/proc/PID/exe), and when the file is not
# root's, one of its owner's processes (which that owner may signal anyway):
# a stale, reused or forged pid naming any other process is logged, not
# signalled.
rth_hup() {
	[ -n "$1" ] && [ -r "$1" ] || return 0
	read -r rth_pid <"$1" 2>/dev/null || return 0
	case $rth_pid in '' | 0* | *[!0-9]*) rth_log "$1: no pid in it"; return 0 ;; esac
	rth_exe=$(readlink "/proc/$rth_pid/exe" 2>/dev/null)
	rth_uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$rth_pid/status" 2>/dev/null)
	rth_owner=$(stat -c %u "$1" 2>/dev/null)
	case ${rth_exe% (deleted)} in
	*/dnsmasq) ;;
	*)
		rth_log "$1: pid $rth_pid is not dnsmasq (${rth_exe:-gone}); not signalled"
		return 0 ;;
	esac
	if [ "$rth_owner" != 0 ] && [ "$rth_uid" != "$rth_owner" ]; then
		rth_log "$1: dnsmasq $rth_pid runs as uid $rth_uid, the file is uid $rth_owner's; not signalled"
		return 0
	fi
	kill -HUP "$rth_pid" 2>/dev/null || rth_log "$1: cannot signal $rth_pid"
	return 0
}
