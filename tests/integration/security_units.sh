#!/bin/bash
# The units' sandboxing (#19.3), as SECURITY.md gives it: the exposure
# `systemd-analyze security --offline=true` finds in each unit stays at or
# below the figure there, and root's runtime files have directories of
# their own, never rtallocd's /run/rtalloc.  Offline: PID 1 is not systemd
# here, so the units are analyzed, not started (security_rootfiles.sh runs
# the programs as the units would).
. "$(dirname "$0")/../lib.sh"
command -v systemd-analyze >/dev/null || t_skip "systemd-analyze missing (package systemd)"
# exposure UNIT MAX: MAX in tenths, as SECURITY.md's table (1.4 -> 14)
# shellcheck disable=SC2317 # called through t_check
exposure() {
	systemd-analyze security --offline=true --no-pager --threshold="$2" "$TOP/$1" >"$T_DIR/out" 2>&1 ||
		{ tail -1 "$T_DIR/out"; return 1; }
}
t_check "rtallocd.service: exposure <= 1.4" exposure systemd/rtallocd.service 14
t_check "rtalloc-agent.service: exposure <= 2.2" exposure systemd/rtalloc-agent.service 22
t_check "rtalloc-track.service: exposure <= 2.7" exposure systemd/rtalloc-track.service 27
t_check "rtalloc-wan-dnsmasq.service: exposure <= 6.3" exposure hooks/wan-dnsmasq/rtalloc-wan-dnsmasq.service 63
t_check "rtalloc-track.service: RuntimeDirectory=rtalloc-track" \
	grep -qx "RuntimeDirectory=rtalloc-track" "$TOP/systemd/rtalloc-track.service"
t_check "rtalloc-wan-dnsmasq.service: RuntimeDirectory=rtalloc-wan-dnsmasq" \
	grep -qx "RuntimeDirectory=rtalloc-wan-dnsmasq" "$TOP/hooks/wan-dnsmasq/rtalloc-wan-dnsmasq.service"
t_check "rtalloc-agent.service: RuntimeDirectory=rtalloc-agent, kept over a restart (exec take-over)" \
	grep -qx "RuntimeDirectoryPreserve=yes" "$TOP/systemd/rtalloc-agent.service"
t_check "rtalloc-agent.service: RuntimeDirectory=rtalloc-agent" \
	grep -qx "RuntimeDirectory=rtalloc-agent" "$TOP/systemd/rtalloc-agent.service"
t_eq "only rtallocd.service has RuntimeDirectory=rtalloc" "$TOP/systemd/rtallocd.service" \
	"$(grep -lx "RuntimeDirectory=rtalloc" "$TOP"/systemd/*.service "$TOP"/hooks/*/*.service)"
t_done
