# tests/hooks-2017/lib/rtalloc-hook.sh: the hook library of the per-address
# hooks of before issue 21 (README here): the shipped library, plus the
# functions that leased a table per address through the per-address rtalloc
# daemon and edited main, which the shipped hooks no longer have.  A test
# fixture only.  RTALLOC_LIBDIR is this directory.
# shellcheck source=../../../hooks/lib/rtalloc-hook.sh
. "$RTALLOC_LIBDIR/../../../hooks/lib/rtalloc-hook.sh"

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
