#!/bin/bash
# rtalloc-agent's metrics (agent.json `metrics_textfile`), scraped the way a
# user scrapes them: through the real prometheus-node-exporter's textfile
# collector, over HTTP, with the real rtalloc-track judging the uplinks.
# Uplinks up and down, addresses, rtallocd's pool per family, a restored
# rule, health as track changes it; a link planted in the textfile
# directory is not followed, and the file goes when the agent stops.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/track-topology.sh"
t_require_root
AGENT=$BUILD/rtalloc-agent
NE=$(command -v prometheus-node-exporter) || t_skip "prometheus-node-exporter is not installed (scripts/deps installs it)"

TK_V6=1 tk_agent_topology
TEXT=$T_DIR/textfile
mkdir -p "$TEXT"
CONF=$T_DIR/agent.json
cat >"$CONF" <<EOC
{ "socket_path": "$T_SOCK", "interfaces": ["up*"], "metrics_textfile": "$TEXT/rtalloc.prom" }
EOC
# A root file that a link planted in the textfile directory points at.
echo secret >"$T_DIR/victim"
ln -s "$T_DIR/victim" "$TEXT/rtalloc.prom.tmp"
TK_STATE=$T_DIR/track-state.json
start_agent() {
	t_bg_ready rtalloc-agent "$H" env RTALLOC_TRACK_STATE="$TK_STATE" "$AGENT" -c "$CONF" || exit 1
	AGENT_PID=$T_LAST_PID
}
start_agent
t_bg "$H" "$NE" --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$TEXT" --web.listen-address=127.0.0.1:9100

# scrape: node_exporter's /metrics, rtalloc's lines only.
scrape() {
	ip netns exec "$H" python3 -c '
import urllib.request
body = urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=2).read().decode()
print("\n".join(l for l in body.splitlines() if l.startswith("rtalloc_")))'
}
has() { local s; s=$(scrape) && grep -qxF "$1" <<<"$s"; }
has_re() { local s; s=$(scrape) && grep -qx "$1" <<<"$s"; }
no_health() { local s; s=$(scrape) && ! grep -q rtalloc_uplink_health <<<"$s"; }
t_check "node_exporter serves rtalloc_uplink_up for up1" t_wait 10 has 'rtalloc_uplink_up{interface="up1"} 1'
t_check "and for up2" has 'rtalloc_uplink_up{interface="up2"} 1'
t_check "up1 has an IPv4 address" has 'rtalloc_uplink_addresses{family="inet",interface="up1"} 1'
t_check "and an IPv6 one" has 'rtalloc_uplink_addresses{family="inet6",interface="up1"} 1'
t_check "rtallocd's pool: 2 IPv4 tables used" t_wait 10 has 'rtalloc_leases_used{family="inet"} 2'
t_check "2 IPv6 tables used" has 'rtalloc_leases_used{family="inet6"} 2'
t_check "free IPv4 tables: the pool less the used ones" has_re 'rtalloc_leases_free{family="inet"} [1-9][0-9]*'
t_check "no health lines without rtalloc-track" no_health
t_eq "the planted link's target is untouched" "secret" "$(cat "$T_DIR/victim")"

T=$(ip -n "$H" rule show | awk '$3 == "10.1.0.2" && / proto 122/ { for (i = 1; i < NF; i++) if ($i == "lookup") print $(i + 1) }')
ip -n "$H" rule del pref 10000 from 10.1.0.2 lookup "$T"
t_check "a rule deleted by hand and restored is counted" t_wait 10 has 'rtalloc_rules_restored_total 1'

tk_start '"interval": 0.3, "timeout": 0.3, "down": 2, "up": 2, "targets": ["198.51.100.1"]'
t_check "rtalloc-track: up1 online" t_wait 10 tk_is up1 online
t_check "health: up1 online" t_wait 10 has 'rtalloc_uplink_health{family="inet",interface="up1",state="online"} 1'
t_check "health: a state up1 is not in reads 0" has 'rtalloc_uplink_health{family="inet",interface="up1",state="offline"} 0'
t_check "up1 carries unbound IPv4 traffic" has 'rtalloc_uplink_unbound{family="inet",interface="up1"} 1'
t_check "loss is a ratio" has_re 'rtalloc_uplink_loss_ratio{family="inet",interface="up1"} 0'
t_check "rtt in seconds" has_re 'rtalloc_uplink_rtt_seconds{family="inet",interface="up1"} [0-9.e-]*'
t_check "jitter in seconds" has_re 'rtalloc_uplink_jitter_seconds{family="inet",interface="up1"} [0-9.e-]*'
t_check "probe bytes per day" has_re 'rtalloc_uplink_probe_bytes_per_day{family="inet",interface="up1"} [1-9][0-9.e+]*'
tk_cut 100 1 ip saddr 10.1.0.2
t_check "up1 cut off: offline" t_wait 10 has 'rtalloc_uplink_health{family="inet",interface="up1",state="offline"} 1'
t_check "and up2 carries unbound IPv4 traffic" t_wait 10 has 'rtalloc_uplink_unbound{family="inet",interface="up2"} 1'

ip -n "$H" addr del 10.2.0.2/24 dev up2
ip -n "$H" addr del 2001:db8:2::2/64 dev up2
t_check "up2 without an address is down" t_wait 10 has 'rtalloc_uplink_up{interface="up2"} 0'
t_check "its leases are back in the pool" t_wait 10 has 'rtalloc_leases_used{family="inet"} 1'

kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
t_check "the file goes with the agent (no stale figures)" t_wait 5 test ! -e "$TEXT/rtalloc.prom"
t_done
