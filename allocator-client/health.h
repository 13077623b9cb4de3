/* health: rtalloc-track's view of the uplinks, for `rtalloc --status` and
 * `--list`: read from the state file rtalloc-track writes every round
 * ($RTALLOC_TRACK_STATE, default /run/rtalloc/track.json). */
#ifndef RTALLOC_HEALTH_H
#define RTALLOC_HEALTH_H

#include <stdbool.h>
#include <stdio.h>

#include "rules.h"

struct json_object;

/* rtalloc-track's rules for unbound traffic (protocol 122 at prefs
 * 30000..30002; track/steer.h): not a lease's, so --status leaves them out. */
#define HEALTH_TRACK_PREF_MIN 30000
#define HEALTH_TRACK_PREF_MAX 30002
bool health_track_rule(const struct rule *r);

/* One uplink of rtalloc-track's published state: the one reader of its
 * file for every program (rtalloc --status/--list/show, the agent). */
struct health_uplink {
	char interface[16];
	char family[8];		/* "inet" or "inet6" */
	char address[48];	/* "" when absent */
	char state[12];		/* online, degraded, offline, portal, unknown, absent */
	char method[8];		/* icmp, tcp, http */
	long long since;	/* wall clock of the last state change */
	double loss;		/* percent of probes lost in the window */
	double rtt_ms, jitter_ms;	/* the window's median RTT and jitter */
	double window_s;
	unsigned table, priority, weight;
	bool weight_auto, metered, unbound;
	unsigned long long probe_bytes, probe_bytes_day;
};

/* rtalloc-track's uplinks, up to max, into out (*n of them); *running: the
 * daemon that wrote the file still runs.  0, or -ENOENT when there is no
 * (usable) state file. */
int health_uplinks(struct health_uplink *out, size_t max, size_t *n, bool *running);

/* The human block: which uplink carries unbound traffic, then one line per
 * uplink.  Prints nothing when there is no state file. */
void health_print(FILE *out);
/* For --status --json: rtalloc-track's state (a new reference, with
 * "running"), or NULL when there is none. */
struct json_object *health_json(void);
/* For --list --json: `,"health":{...}` for the lease of ifname/address when
 * rtalloc-track tracks it; nothing otherwise. */
void health_lease_json(FILE *out, const char *ifname, const char *address);

#endif
