#!/bin/bash
# Every hook passes shellcheck (the sourced dhclient hook and the library as
# POSIX sh, since dhclient-script is dash), and a broken defaults file or a
# missing library costs a log line, not the caller's shell.
. "$(dirname "$0")/../lib.sh"
command -v shellcheck >/dev/null || t_skip "no shellcheck"
cd "$TOP/hooks" || exit 1
t_check "shellcheck lib (sh)" shellcheck -s sh lib/rtalloc-hook.sh
t_check "shellcheck dhclient hook (sh)" shellcheck -x -s sh dhclient/rtalloc
t_check "shellcheck ifupdown hook" shellcheck -x ifupdown/rtalloc
t_check "shellcheck dispatcher" shellcheck -x NetworkManager/90-rtalloc
t_check "shellcheck udev script" shellcheck -x udev/rtalloc-udev-remove
t_check "shellcheck dhcpcd hook (sh)" shellcheck -x -s sh dhcpcd/rtalloc
t_check "defaults example parses" sh -n default/rtalloc
# Every other script under hooks/ and scripts/ (by its #! line), so a new
# one is checked without being listed here.
for f in $(grep -rlE '^#!.*(sh|bash)( |$)' "$TOP/hooks" "$TOP/scripts"); do
	cd "$(dirname "$f")" || exit 1	# -x follows `. ./x` from the script's directory
	t_check "shellcheck ${f#"$TOP"/}" shellcheck -x "$(basename "$f")"
done
cd "$TOP/hooks" || exit 1

# The hooks only hint rtalloc-agent (#21): no ip(8) command (no route or
# rule edited, no output parsed) and no per-address rtalloc run (no lease,
# no daemon) in the dhclient, ifupdown, NetworkManager and dhcpcd hooks nor
# in their library; rtalloc is run for `hint` only.
hint_only=(dhclient/rtalloc ifupdown/rtalloc NetworkManager/90-rtalloc dhcpcd/rtalloc lib/rtalloc-hook.sh)
t_eq "the hooks run no ip command" "" \
	"$(grep -nE '(^|[;&|({[:space:]])ip[[:space:]]+-?[a-zA-Z0-9]' "${hint_only[@]}" | grep -v '^[^:]*:[0-9]*:[[:space:]]*#')"
t_eq "the hooks run rtalloc for hints only" "" \
	"$(grep -nE '"\$RTALLOC"' "${hint_only[@]}" | grep -vE '"\$RTALLOC" (hint|"\$@")' | grep -v '^[^:]*:[0-9]*:[[:space:]]*#')"

# dhclient-script goes on after our hook even with a broken defaults file or
# no library: the line after the hook must still run.
printf 'RTALLOC=(\n' >"$T_DIR/broken"
out=$(RTALLOC_DEFAULTS=$T_DIR/broken RTALLOC_LIBDIR=$TOP/hooks/lib reason=PREINIT interface=up1 \
	dash -c '. ./dhclient/rtalloc; echo still-running' 2>&1)
t_check "broken defaults: logged, caller goes on ($out)" \
	bash -c '[[ $1 == *"syntax error"* && $1 == *still-running* ]]' x "$out"
out=$(RTALLOC_DEFAULTS=/nonexistent RTALLOC_LIBDIR=$T_DIR/none reason=BOUND interface=up1 \
	dash -c '. ./dhclient/rtalloc; echo still-running' 2>&1)
t_check "missing library: logged, caller goes on" \
	bash -c '[[ $1 == *missing* && $1 == *still-running* ]]' x "$out"
out=$(env RTALLOC_DEFAULTS=/nonexistent RTALLOC_LIBDIR=$TOP/hooks/lib reason=BOUND 'interface=up1;x' \
	dash -c '. ./dhclient/rtalloc; echo still-running' 2>&1)
t_check "bad interface name: logged, caller goes on" \
	bash -c '[[ $1 == *"bad interface"* && $1 == *still-running* ]]' x "$out"
t_done
