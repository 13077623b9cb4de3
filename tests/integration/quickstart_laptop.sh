#!/bin/bash
# The README's quick start "laptop", as a user follows it, under the real
# NetworkManager 1.42 (tests/nm.sh: wan0 and wan1, DHCPv4 + SLAAC, wan1's
# profile never-default, each ISP dropping sources it did not assign).
# NetworkManager first runs with the package as installed (dispatcher hook,
# the shipped inert /etc/default/rtalloc): nothing routes.  Then the recipe:
# examples/laptop/rtalloc.default as /etc/default/rtalloc, agent.json as the
# agent's configuration, the agent started, `nmcli device reapply` of each
# uplink.  Every global address, v4 and v6, gets its table and exactly its
# rules; its traffic reaches the far host through its own uplink; unbound
# traffic (no -I) still reaches it, v4 and v6; `rtalloc --status` says
# consistent, 4 leases and 12 rules.
# The shipped files are used as they are, except for what differs in a test:
# paths (rtallocd's socket name, where rtalloc and the hook library are,
# appended after the file) and the interface names, which the README says
# to add to RTALLOC_HOOK_IFACES (this host's uplinks are wan0 and wan1).
. "$(dirname "$0")/../lib.sh"
NM_DISPATCH=$TOP/hooks/NetworkManager/90-rtalloc
. "$TOP/tests/nm.sh"
[ -x "$AGENT" ] || t_skip "$AGENT not built"
EX=$TOP/examples/laptop
T_SOCK=rtallocd-$T_ID
paths="RTALLOC=$RTALLOC
RTALLOC_SOCKET=$T_SOCK
RTALLOC_LIBDIR=$TOP/hooks/lib"
# As installed: the package's /etc/default/rtalloc (hooks inert).
NM_DEFAULT="$(cat "$TOP/hooks/default/rtalloc")
$paths"
nm_pre() { t_server "$PR_H" || exit 1; }
NM_BEFORE=nm_pre
nm_start nmcli || exit 1
t_eq "as installed: no rtalloc rule" "" "$(pr_our_rules 4; pr_our_rules 6)"

# cp .../examples/laptop/rtalloc.default /etc/default/rtalloc
sed 's/^RTALLOC_HOOK_IFACES="\(.*\)"$/RTALLOC_HOOK_IFACES="\1 wan0 wan1"/' \
	"$EX/rtalloc.default" >"$T_DIR/nm/default/rtalloc"
printf '%s\n' "$paths" >>"$T_DIR/nm/default/rtalloc"
t_eq "rtalloc.default: only RTALLOC_HOOK_IFACES gained the test's names" 2 \
	"$(diff "$EX/rtalloc.default" <(head -n "$(wc -l <"$EX/rtalloc.default")" "$T_DIR/nm/default/rtalloc") | grep -c '^[<>]')"
# cp .../examples/laptop/agent.json /etc/rtalloc/agent.json;
# systemctl enable --now rtalloc-agent
sed "s|\"socket_path\": \"rtallocd\"|\"socket_path\": \"$T_SOCK\"|" "$EX/agent.json" >"$T_DIR/agent.json"
t_eq "agent.json: only the socket name changed" 2 "$(diff "$EX/agent.json" "$T_DIR/agent.json" | grep -c '^[<>]')"
t_on_exit "rm -rf /run/rtalloc/hints/$T_SOCK"
# shellcheck disable=SC2016
t_bg_ready rtalloc-agent "$PR_H" sh -c 'exec "$0" -c "$1" 2>>"$2"' "$AGENT" "$T_DIR/agent.json" "$T_DIR/agent.log" ||
	{ cat "$T_DIR/agent.log"; exit 1; }
PR_AGENT_PID=$T_LAST_PID PR_AGENT_LOG=$T_DIR/agent.log
PR_PIDS+=("$PR_AGENT_PID")
# nmcli device reapply IFACE, for each uplink
for d in wan0 wan1; do
	t_check "nmcli device reapply $d" nmcli device reapply "$d"
done
t_check "configured again after the reapply" t_wait 30 nm_configured
nm_check_state "every global address: its table, exactly its rules, main's routes and a default" 15
nm_check_traffic "the laptop recipe"
st=$(ip netns exec "$PR_H" "$RTALLOC" --status -d "$T_SOCK" 2>&1)
t_eq "rtalloc --status: consistent, 4 leases, 12 rules" "consistent: 4 leases, 12 rules (proto 122)" \
	"$(grep -o 'consistent: .*' <<<"$st")"
for f in 4 6; do
	far=PR_FAR$f
	t_check "unbound IPv$f traffic reaches the far host" \
		pr_within 5 ip netns exec "$PR_H" ping -c 1 -W 2 "${!far}"
done
[ "$T_FAILED" = 0 ] || { tail -n 20 "$PR_AGENT_LOG"; grep -i rtalloc "$NM_LOG" | tail -n 20; }
t_done
