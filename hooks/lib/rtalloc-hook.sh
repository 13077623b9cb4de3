# rtalloc-hook.sh: the shared part of the rtalloc hooks (dhclient, ifupdown,
# NetworkManager, udev).  Installed as /usr/lib/rtalloc/rtalloc-hook.sh and
# sourced, never run.  POSIX sh: the dhclient hook is sourced into
# dhclient-script (dash), so nothing here may exit, set -e or take a name
# dhclient-script uses: functions are rth_*, variables rth_* / RTALLOC_*.
#
# The hooks only gather what their caller knows (address, prefix, gateways,
# routes, DNS servers) and call rth_up / rth_down; rtalloc does the leasing,
# the policy rules and the leased table's routes (given as --route: it
# restores them, moves them with the lease and removes them with the
# address).  This file only edits main (as its caller asks) and keeps the
# dnsmasq servers-files.

# rth_log MESSAGE: one line to syslog and stderr (dhclient -v, ifup -v and
# NetworkManager's journal all show stderr).
rth_log() {
	logger -t rtalloc-hook -p daemon.notice -- "$*" 2>/dev/null
	printf 'rtalloc-hook: %s\n' "$*" >&2
}

# rth_defaults: fills in every setting the defaults file left unset.
# The hooks source the defaults file themselves (RTALLOC_LIBDIR in it tells
# where this file is), see rth_source_defaults.
rth_defaults() {
	: "${RTALLOC:=/usr/sbin/rtalloc}"
	: "${RTALLOC_SOCKET:=rtallocd}"
	: "${RTALLOC_ARGS:=}"
	# FIRST-LAST: the server's tables (rtallocd.json table_offset ..
	# table_offset + num_tables - 1); any other is refused.  Empty: any but
	# 0, 253, 254 and 255.
	: "${RTALLOC_TABLES:=}"
	# Set but empty turns DNS handling off, so only fill in when unset.
	# The servers-files live in a directory only root can write
	# (rth_root_dir): /run/rtalloc belongs to rtallocd's user.
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

# rth_mask2len MASK: prints the prefix length of a dotted netmask, or MASK
# itself when it already is a length.  Returns 1 for anything else.
rth_mask2len() {
	case $1 in
	*.*.*.*) ;;
	'' | *[!0-9]*) return 1 ;;
	*) echo "$1"; return 0 ;;
	esac
	rth_len=0
	rth_rest=$1.
	rth_zero=0
	while [ -n "$rth_rest" ]; do
		rth_o=${rth_rest%%.*}
		rth_rest=${rth_rest#*.}
		case $rth_o in
		255) [ $rth_zero = 0 ] || return 1; rth_len=$((rth_len + 8)) ;;
		254 | 252 | 248 | 240 | 224 | 192 | 128)
			[ $rth_zero = 0 ] || return 1
			rth_zero=1
			case $rth_o in
			254) rth_len=$((rth_len + 7)) ;; 252) rth_len=$((rth_len + 6)) ;;
			248) rth_len=$((rth_len + 5)) ;; 240) rth_len=$((rth_len + 4)) ;;
			224) rth_len=$((rth_len + 3)) ;; 192) rth_len=$((rth_len + 2)) ;;
			128) rth_len=$((rth_len + 1)) ;;
			esac ;;
		0) rth_zero=1 ;;
		*) return 1 ;;
		esac
	done
	echo "$rth_len"
}

# rth_v4net ADDR LEN: prints the network NET/LEN that ADDR/LEN is on.
rth_v4net() {
	rth_ip=$1
	rth_n=0
	for rth_i in 1 2 3 4; do
		rth_n=$(((rth_n << 8) + ${rth_ip%%.*}))
		rth_ip=${rth_ip#*.}
	done
	if [ "$2" -eq 0 ]; then rth_n=0; else
		rth_n=$((rth_n & ((0xffffffff << (32 - $2)) & 0xffffffff)))
	fi
	echo "$((rth_n >> 24 & 255)).$((rth_n >> 16 & 255)).$((rth_n >> 8 & 255)).$((rth_n & 255))/$2"
}

# rth_prefix FAMILY IFNAME ADDR LEN: prints the on-link prefix of ADDR/LEN.
# IPv6 arithmetic in sh is not worth it: the kernel already computed the
# prefix route when the address was added (in main, or in the table after a
# previous run moved it); a /128 is its own prefix.
rth_prefix() {
	if [ "$1" = 4 ]; then rth_v4net "$3" "$4"; return; fi
	if [ "$4" = 128 ]; then echo "$3/128"; return; fi
	rth_p=$(ip -6 route show table all match "$3" dev "$2" 2>/dev/null |
		awk -v len="$4" '$1 ~ ("/" len "$") { print $1; exit }')
	[ -n "$rth_p" ] || return 1
	echo "$rth_p"
}

# rth_wait_dad IFNAME ADDR: an IPv6 address is unusable as a route's src
# while it is tentative; wait for duplicate address detection (<= 5 s).
rth_wait_dad() {
	rth_i=0
	while [ -n "$(ip -6 addr show dev "$1" to "$2" tentative 2>/dev/null)" ]; do
		rth_i=$((rth_i + 1))
		[ $rth_i -le 50 ] || { rth_log "$1: $2 still tentative after 5 s"; return 1; }
		sleep 0.1
	done
}

# rth_table_valid T: T can be a leased table: a decimal number 1..4294967295
# without leading zeros (ip(8) reads 0254 as octal), never the kernel's 253
# (default), 254 (main) or 255 (local), and inside RTALLOC_TABLES when set.
# Checked before anything is put into or flushed from a table, whatever
# rtalloc or a rule said: a forged answer must not empty main or local.
rth_table_valid() {
	case $1 in '' | 0* | *[!0-9]*) return 1 ;; esac
	[ ${#1} -le 10 ] && [ "$1" -le 4294967295 ] || return 1
	[ "$1" -ge 253 ] && [ "$1" -le 255 ] && return 1
	if [ -n "$RTALLOC_TABLES" ]; then
		case $RTALLOC_TABLES in
		*-*) rth_lo=${RTALLOC_TABLES%%-*} rth_hi=${RTALLOC_TABLES#*-} ;;
		*) rth_lo=x rth_hi=x ;;
		esac
		case $rth_lo$rth_hi in '' | *[!0-9]*)
			rth_log "RTALLOC_TABLES '$RTALLOC_TABLES' is not FIRST-LAST: no table is used"
			return 1 ;;
		esac
		[ "$1" -ge "$rth_lo" ] && [ "$1" -le "$rth_hi" ] || return 1
	fi
	return 0
}

# rth_lease FAMILY IFNAME ADDR LEN [OPTION...]: asks rtalloc for the
# address's table and prints it; 0 when there is no lease (rtalloc said so,
# or could not run, or named a table that is never leased).
rth_lease() {
	if [ ! -x "$RTALLOC" ]; then
		rth_log "$2: $RTALLOC is not executable; routing $3 via the main table"
		echo 0
		return
	fi
	rth_t=$(rth_rtalloc "$@")
	case $rth_t in
	'' | *[!0-9]*)
		rth_log "$2: rtalloc gave no table for $3 ('$rth_t'); routing via the main table"
		rth_t=0 ;;
	0) ;;
	*)
		rth_table_valid "$rth_t" || {
			rth_log "$2: rtalloc named table $rth_t for $3, which is never leased; routing via the main table"
			rth_t=0
		} ;;
	esac
	echo "$rth_t"
}

# rth_release FAMILY IFNAME ADDR LEN: hands the lease back now instead of
# waiting for the client to notice the address is gone.  Best effort.
rth_release() {
	[ -x "$RTALLOC" ] || return 0
	rth_rtalloc "$@" -r >/dev/null 2>&1 || true
}

# rth_rtalloc FAMILY IFNAME ADDR LEN [OPTION...]: runs rtalloc for the
# address with the options of the settings.  A WAN uplink's table also gets
# the traffic marked RTALLOC_WAN_MARK (`fwmark MARK lookup TABLE`, pref
# 9000): rtalloc-wan-dnsmasq's queries carry that mark, and its `fwmark MARK
# unreachable` rule (9001) comes before every `from ADDR` rule (10000).
# Each interface of RTALLOC_FORWARD_IFACES (a LAN, a bridge of containers or
# VMs) becomes --forward-iif: rtalloc then owns an `iif IF lookup TABLE` rule
# beside `iif lo`, so traffic forwarded from IF leaves by an uplink.
rth_rtalloc() {
	rth_fw=
	rth_in_list "$2" "$RTALLOC_WAN_IFACES" && rth_fw=$RTALLOC_WAN_MARK
	rth_fwd=
	for rth_f in $RTALLOC_FORWARD_IFACES; do
		[ "$rth_f" = "$2" ] && continue
		if rth_valid_ifname "$rth_f"; then
			rth_fwd="$rth_fwd --forward-iif $rth_f"
		else
			rth_log "RTALLOC_FORWARD_IFACES: ignoring '$rth_f'"
		fi
	done
	rth_rf=$1 rth_ri=$2 rth_ra=$3 rth_rn=$4
	shift 4
	# RTALLOC_ARGS is a list of extra options (e.g. "--retries 2"): split on
	# purpose.  stdin from /dev/null: the backgrounded client must not hold
	# our caller's terminal or pipe.
	# shellcheck disable=SC2086 # rth_fwd: checked names, split on purpose
	"$RTALLOC" "-$rth_rf" -a "$rth_ra" -n "$rth_rn" -i "$rth_ri" -d "$RTALLOC_SOCKET" -s \
		${rth_fw:+--fwmark "$rth_fw"} $rth_fwd ${RTALLOC_TABLES:+--tables "$RTALLOC_TABLES"} \
		"$@" $RTALLOC_ARGS </dev/null
}

# rth_up FAMILY IFNAME ADDR LEN GATEWAYS ROUTES MAIN
#   GATEWAYS: blank-separated default gateways, first preferred.
#   ROUTES:   newline-separated "DEST/LEN GW" (GW empty or 0.0.0.0/:: for an
#             on-link route); when given, GATEWAYS is ignored (RFC 3442).
#   MAIN:     what happens to the main table: "move" (remove the uplink's
#             default and prefix routes from it: dhclient, ifupdown), "keep"
#             (leave it as it is: NetworkManager owns it), "add" (make sure
#             it has them: the primary uplink of a dhclient setup).
# The address must already be on IFNAME.  Prints the table used (0 = main).
rth_up() {
	rth_fam=$1 rth_if=$2 rth_addr=$3 rth_plen=$4 rth_gws=$5 rth_routes=$6 rth_main=$7
	if [ "$rth_main" = move ] && [ "$rth_if" = "$RTALLOC_PRIMARY_IFACE" ]; then
		rth_main=add
	fi
	[ "$rth_fam" = 6 ] && rth_wait_dad "$rth_if" "$rth_addr"
	rth_net=$(rth_prefix "$rth_fam" "$rth_if" "$rth_addr" "$rth_plen") || {
		rth_log "$rth_if: cannot find the prefix of $rth_addr/$rth_plen"
		return 1
	}
	# The table's routes, for rtalloc to own: the prefix, then the
	# classless routes or else the gateways (first preferred).
	set -- --route "$rth_net"
	if [ -n "$rth_routes" ]; then
		while read -r rth_dst rth_gw; do
			[ -n "$rth_dst" ] || continue
			set -- "$@" --route "$rth_dst${rth_gw:+,via $rth_gw}"
		done <<EOF
$rth_routes
EOF
	else
		rth_m=0
		for rth_gw in $rth_gws; do
			set -- "$@" --route "default,via $rth_gw,metric $rth_m"
			rth_m=$((rth_m + 1))
		done
	fi
	rth_table=$(rth_lease "$rth_fam" "$rth_if" "$rth_addr" "$rth_plen" "$@")
	if [ "$rth_table" = 0 ]; then
		# No lease: a working, if not policy-correct, setup in main, told
		# apart per uplink by the interface index as metric (as the original).
		rth_metric=$(cat "/sys/class/net/$rth_if/ifindex" 2>/dev/null) || rth_metric=1024
		[ "$rth_main" = keep ] && { echo 0; return 0; }
		rth_routes_into main "$rth_metric"
		echo 0
		return 0
	fi
	case $rth_main in
	move) rth_main_remove ;;
	add) rth_routes_into main "" ;;
	esac
	echo "$rth_table"
}

# rth_routes_into TABLE METRIC: installs the prefix, gateway and extra routes
# described by rth_up's variables into TABLE (only ever main: rtalloc owns
# the leased tables).  "replace", so a renewal adds nothing that is there
# already.
rth_routes_into() {
	rth_ip="ip -$rth_fam route replace"
	$rth_ip "$rth_net" dev "$rth_if" src "$rth_addr" ${2:+metric "$2"} table "$1" ||
		rth_log "$rth_if: cannot add $rth_net to table $1"
	if [ -n "$rth_routes" ]; then
		printf '%s\n' "$rth_routes" | while read -r rth_dst rth_gw; do
			[ -n "$rth_dst" ] || continue
			case $rth_gw in '' | 0.0.0.0 | ::)
				$rth_ip "$rth_dst" dev "$rth_if" src "$rth_addr" ${2:+metric "$2"} table "$1" ;;
			*)
				# onlink: RFC 3442 allows gateways outside the prefix.
				$rth_ip "$rth_dst" via "$rth_gw" dev "$rth_if" onlink src "$rth_addr" \
					${2:+metric "$2"} table "$1" ;;
			esac || rth_log "$rth_if: cannot add $rth_dst via ${rth_gw:-link} to table $1"
		done
		return 0
	fi
	rth_m=${2:-0}
	for rth_gw in $rth_gws; do
		$rth_ip default via "$rth_gw" dev "$rth_if" onlink src "$rth_addr" metric "$rth_m" table "$1" ||
			rth_log "$rth_if: cannot add default via $rth_gw to table $1"
		rth_m=$((rth_m + 1))
	done
}

# rth_main_remove: takes the uplink's default routes and its prefix route out
# of main, so main holds no uplink route and the rules decide (and ifupdown's
# "ip route add default" for the next uplink does not find one in the way).
# Router-advertised IPv6 defaults stay: the kernel would re-add them at the
# next advertisement anyway.
rth_main_remove() {
	ip "-$rth_fam" route show table main default dev "$rth_if" 2>/dev/null |
		awk '!/ proto ra /{ v = ""; m = ""
			for (i = 1; i < NF; i++) { if ($i == "via") v = $(i + 1); if ($i == "metric") m = $(i + 1) }
			print v, m }' |
		while read -r rth_v rth_m; do
			ip "-$rth_fam" route del default ${rth_v:+via "$rth_v"} ${rth_m:+metric "$rth_m"} \
				dev "$rth_if" table main 2>/dev/null
		done
	ip "-$rth_fam" route del "$rth_net" dev "$rth_if" table main 2>/dev/null
	return 0
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

# rth_table_of FAMILY ADDR: the table of rtalloc's "from ADDR" rule, if any:
# known by its protocol (122), not its pref, which --pref-from in
# RTALLOC_ARGS moves.  -N: numbers even where rt_protos names them.
rth_table_of() {
	ip -N "-$1" rule show 2>/dev/null |
		awk -v a="$2" '$2 == "from" && ($3 == a || $3 == a "/32" || $3 == a "/128") {
			t = ""; p = ""
			for (i = 4; i < NF; i++) { if ($i == "lookup") t = $(i + 1); if ($i == "proto") p = $(i + 1) }
			if (p == "122" && t != "") { print t; exit } }'
}

# rth_down FAMILY IFNAME ADDR LEN: the uplink's address is going or gone:
# drop its DNS lines and release the lease (rtalloc empties the table of
# its own routes, proto 122).  Routes a hook from before --route put there
# (proto boot) are IFNAME's to flush, from a table that can be leased only.
rth_down() {
	rth_dns "$1" "$2" "$3" ""
	if [ -n "$3" ]; then
		rth_t=$(rth_table_of "$1" "$3")
		if [ -n "$rth_t" ] && ! rth_table_valid "$rth_t"; then
			rth_log "$2: the rule of $3 looks up table $rth_t, which is never leased; not flushing it"
		elif [ -n "$rth_t" ]; then
			ip "-$1" route flush table "$rth_t" dev "$2" proto boot 2>/dev/null
		fi
		[ -n "$4" ] && rth_release "$1" "$2" "$3" "$4"
	fi
	return 0
}

# rth_flush_stale6 IFNAME: removes IFNAME's IPv6 routes from numbered tables
# that no rule looks up any more, when their source address is gone (the
# kernel keeps IPv6 routes when their source address goes, only dropping
# the src).  After NetworkManager's "down" we do not know which addresses
# and tables the device had, only that such routes are dead.
rth_flush_stale6() {
	rth_used=" $(ip -6 rule show 2>/dev/null | awk '{ for (i = 2; i < NF; i++) if ($i == "lookup") printf "%s ", $(i + 1) }')"
	ip -6 -o route show table all dev "$1" 2>/dev/null |
		awk '{ t = ""; s = "-"
			for (i = 2; i < NF; i++) { if ($i == "table") t = $(i + 1); if ($i == "src") s = $(i + 1) }
			if (t ~ /^[0-9]+$/) print $1, t, s }' |
		while read -r rth_dst rth_t rth_s; do
			rth_table_valid "$rth_t" || continue
			rth_in_list "$rth_t" "$rth_used" && continue
			[ "$rth_s" != - ] && [ -n "$(ip -6 addr show to "$rth_s" 2>/dev/null)" ] && continue
			ip -6 route del "$rth_dst" dev "$1" table "$rth_t" 2>/dev/null
		done
	return 0
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
