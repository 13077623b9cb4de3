#!/bin/bash
# One command line for every program (issue 24, items 5 and 10): --help and
# --version exit 0, bad usage exits 64 with one line "PROGRAM: ..." (the
# 2017 names keep the original's status), rtalloc names a missing interface
# as such (exit 7, not 3: the address is not on it), an unreachable server
# is said at once with how long rtalloc retries, --check validates a config
# without starting (unknown keys fail, documentation-range targets warned),
# and the bash completion offers every option each program's --help lists,
# and rtalloc's subcommands.
# shellcheck disable=SC2016 # bash -c '...' gets its words as "$1"...
. "$(dirname "$0")/../lib.sh"
t_require_root
t_netns cli; NS=$T_NS
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.77.0.1/24 dev lo
PROGS=(rtallocd rtalloc rtalloc-agent rtalloc-track packetmark)
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$TOP/debian/changelog")

for p in "${PROGS[@]}"; do
	out=$("$BUILD/$p" --help 2>&1); rc=$?
	t_eq "$p --help: exit 0" 0 "$rc"
	t_check "$p --help: usage" grep -q "^usage: $p " <<<"$out"
	t_check "$p --help: lists --version" grep -q -- "--version" <<<"$out"
	out=$("$BUILD/$p" --version 2>&1); rc=$?
	t_eq "$p --version" "0 $p $version" "$rc $out"
	out=$("$BUILD/$p" --no-such-option 2>&1 >/dev/null); rc=$?
	t_eq "$p --no-such-option: exit 64" 64 "$rc"
	t_eq "$p --no-such-option: one line" 1 "$(wc -l <<<"$out")"
	t_check "$p --no-such-option: '$p: ' and the option ($out)" \
		grep -q "^$p: .*--no-such-option" <<<"$out"
	out=$("$BUILD/$p" -Z 2>&1 >/dev/null); rc=$?
	t_eq "$p -Z: exit 64" 64 "$rc"
	t_check "$p -Z: '$p: ' ($out)" grep -q "^$p: " <<<"$out"
done
out=$("$BUILD/rtalloc-agent" 2>&1); rc=$?
t_eq "rtalloc-agent without -c: exit 64" 64 "$rc"
t_check "rtalloc-agent without -c: says so ($out)" grep -q "^rtalloc-agent: -c FILE is required" <<<"$out"
t_eq "rtallocd with an argument: exit 64" 64 "$("$BUILD/rtallocd" stray >/dev/null 2>&1; echo $?)"

# The 2017 names keep the original's status for bad usage.
ln -s "$BUILD/rtalloc" "$T_DIR/table_allocator_client"
ln -s "$BUILD/rtallocd" "$T_DIR/table_allocator_server"
t_eq "table_allocator_client, bad option: exit 1" 1 "$("$T_DIR/table_allocator_client" -Z >/dev/null 2>&1; echo $?)"
t_eq "table_allocator_server, bad option: exit 2" 2 "$("$T_DIR/table_allocator_server" -Z >/dev/null 2>&1; echo $?)"

# A missing interface is not a missing address.
out=$(t_in "$NS" "$RTALLOC" -4 -a 10.77.0.1 -n 24 -i nosuchif 2>"$T_DIR/err"); rc=$?
t_eq "-i nosuchif: prints 0, exit 7" "0 7" "$out $rc"
t_check "-i nosuchif: says 'no such interface'" grep -q "^rtalloc: error: -i: no such interface" "$T_DIR/err"
out=$(t_in "$NS" "$RTALLOC" -4 -a 10.77.0.9 -n 24 -i lo --address-wait 0 2>"$T_DIR/err"); rc=$?
t_eq "address not on lo: exit 3" "0 3" "$out $rc"
t_eq "table_allocator_client -i nosuchif: exit 0 as the original" 0 \
	"$(t_in "$NS" "$T_DIR/table_allocator_client" -4 -a 10.77.0.1 -n 24 -i nosuchif 2>/dev/null >&2; echo $?)"

# An unreachable server: said at once (before the first retry), with how
# long rtalloc goes on.
t_in "$NS" "$RTALLOC" -4 -a 10.77.0.1 -n 24 -i lo -d "$T_ID-none" --retries 4 --retry-interval 2 \
	>/dev/null 2>"$T_DIR/unreach" &
pid=$!
t_check "unreachable server: said at once" t_wait 1 grep -q "server @$T_ID-none.*: Connection refused; retrying for 6 s" "$T_DIR/unreach"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# --check: validate, never start.
printf '{"socket_path": "%s-chk", "db_path": "%s/chk.db", "table_timeout": 60}\n' "$T_ID" "$T_DIR" >"$T_DIR/good.json"
out=$(t_in "$NS" "$RTALLOCD" --check -c "$T_DIR/good.json" 2>&1); rc=$?
t_eq "rtallocd --check good config: exit 0" 0 "$rc"
t_check "rtallocd --check: did not start (no database, no socket)" test ! -e "$T_DIR/chk.db"
printf '{"socket_path": "%s-chk", "tabel_timeout": 60}\n' "$T_ID" >"$T_DIR/typo.json"
out=$(t_in "$NS" "$RTALLOCD" --check -c "$T_DIR/typo.json" 2>&1); rc=$?
t_eq "rtallocd --check unknown key: exit 1" 1 "$rc"
t_check "rtallocd --check: names the key ($out)" grep -q 'unknown key "tabel_timeout"' <<<"$out"
printf '{"interfaces": ["wan*"]}\n' >"$T_DIR/agent.json"
out=$(t_in "$NS" "$BUILD/rtalloc-agent" --check -c "$T_DIR/agent.json" 2>&1); rc=$?
t_eq "rtalloc-agent --check good config" "0 $T_DIR/agent.json: ok" "$rc $out"
printf '{"interfaces": ["wan*"], "colour": 1}\n' >"$T_DIR/agent-bad.json"
out=$(t_in "$NS" "$BUILD/rtalloc-agent" --check -c "$T_DIR/agent-bad.json" 2>&1); rc=$?
t_eq "rtalloc-agent --check unknown key" "1 rtalloc-agent: colour: unknown key" "$rc $out"
printf '{"targets": ["192.0.2.1", "10.77.0.2", "2001:db8::1", "198.51.100.7:443"]}\n' >"$T_DIR/track.json"
out=$(t_in "$NS" "$BUILD/rtalloc-track" --check -c "$T_DIR/track.json" 2>&1); rc=$?
t_eq "rtalloc-track --check documentation targets: exit 0" 0 "$rc"
t_eq "rtalloc-track --check: one warning per documentation target" 3 "$(grep -c 'warning: targets: .* documentation range' <<<"$out")"
t_check "rtalloc-track --check: names 192.0.2.0/24" grep -q "192.0.2.1 is in the documentation range 192.0.2.0/24" <<<"$out"
t_check "rtalloc-track --check: names 2001:db8::/32" grep -q "2001:db8::1 is in the documentation range 2001:db8::/32" <<<"$out"
t_check "rtalloc-track --check: not 10.77.0.2" bash -c '! grep -q 10.77.0.2 <<<"$1"' x "$out"

# Completion: every option a program's --help lists is offered for its
# prefix, and all of them for "-".  The test reads --help its own way (the
# option column: "  -x, --long ARG  text"); the completion reads all of it.
COMP=$TOP/completion/rtalloc
t_check "completion passes shellcheck" shellcheck -s bash "$COMP"
# complete PROG WORD...: the completion's words for the last WORD.
complete_words() {
	PATH=$BUILD:$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_rtalloc_complete; printf "%s\n" "${COMPREPLY[@]}"' x "$COMP" "$@"
}
for p in "${PROGS[@]}"; do
	t_check "completion is registered for $p" \
		bash -c '. "$1"; complete -p "$2" | grep -q _rtalloc_complete' x "$COMP" "$p"
	opts=$("$BUILD/$p" --help | grep -oE '^ +(-[A-Za-z0-9](, |\|)?)*(--[a-z][a-z0-9_-]*)?' | grep -oE -- '--?[A-Za-z0-9][a-z0-9_-]*' | sort -u)
	n=$(wc -l <<<"$opts")
	t_check "$p --help lists its options ($n)" test "$n" -ge 3
	all=$(complete_words "$p" -)
	missing="" missing_prefix=""
	for o in $opts; do
		grep -qxF -- "$o" <<<"$all" || missing="$missing $o"
		complete_words "$p" "${o:0:${#o}-1}" | grep -qxF -- "$o" || missing_prefix="$missing_prefix $o"
	done
	t_eq "completion of $p -: every option of --help" "" "$missing"
	t_eq "completion of $p: each option from its prefix" "" "$missing_prefix"
done
t_check "completion: -i offers interfaces" bash -c 'grep -qx lo <<<"$1"' x "$(complete_words rtalloc -4 -i l)"
t_check "completion: packetmark's COMMAND is a command" \
	bash -c 'grep -qx true <<<"$1"' x "$(complete_words packetmark 0x1 tru)"
t_check "completion: packetmark -d SOCKET MARK: then the command" \
	bash -c 'grep -qx true <<<"$1"' x "$(complete_words packetmark -d rt0 0x1 tru)"
# rtalloc's subcommands, from the Subcommands line of its --help: a stand-in
# rtalloc with one shows it is read there (no subcommand exists yet here).
cat >"$T_DIR/rtalloc" <<'SH'
#!/bin/sh
case "$1 $2" in
"--help "*) echo "usage: rtalloc [options]"; echo "  --list  leases"; echo "Subcommands (rtalloc SUBCOMMAND --help): show exec" ;;
"show --help") echo "usage: rtalloc show [UPLINK] [--json]"; echo "  --json  as JSON" ;;
esac
SH
chmod +x "$T_DIR/rtalloc"
t_eq "completion: rtalloc's subcommands" "exec show" "$(complete_words "$T_DIR/rtalloc" "" | grep -v -- '^-' | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "completion: a subcommand's options from its own --help" "--json" "$(complete_words "$T_DIR/rtalloc" show --j)"
t_done
