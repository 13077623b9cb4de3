/* health: rtalloc-track's view of the uplinks, for `rtalloc --status` and
 * `--list`: read from the state file rtalloc-track writes every round
 * ($RTALLOC_TRACK_STATE, default /run/rtalloc-track/track.json, the
 * runtime directory of rtalloc-track.service, which only root can write). */
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

/* The human block: which uplink carries unbound traffic, then one line per
 * uplink.  Prints nothing when there is no state file. */
void health_print(FILE *out);
/* For --status --json: rtalloc-track's state (a new reference, with
 * "running"), or NULL when there is none. */
struct json_object *health_json(void);
/* For --list --json: `,"health":{...}` for the lease of ifname/address when
 * rtalloc-track tracks it; nothing otherwise. */
void health_lease_json(FILE *out, const char *ifname, const char *address);

/* One uplink of rtalloc-track's state, typed: what every program (rtalloc
 * --status/--list/show, the agent's metrics) reads of it, through here. */
struct health_uplink {
	char interface[16];
	int family;			/* AF_INET, AF_INET6 */
	char address[48];		/* "" when absent */
	char state[16];			/* online, degraded, offline, portal, unknown, absent */
	char method[8];			/* icmp, tcp, http */
	long long since;		/* unix seconds of the last change */
	double loss;			/* percent of probes, over track's window */
	double rtt_ms, jitter_ms;	/* the window's median RTT and jitter */
	double window_s;
	unsigned table, priority, weight;	/* weight: in use ("auto"'s too) */
	bool weight_auto, metered;
	bool unbound;			/* carries unbound traffic */
	unsigned long long probe_bytes;	/* IP bytes of probes, both ways, since tracked */
	unsigned long long probe_bytes_day;	/* at that rate */
	unsigned rounds_proven;		/* metered: rounds its own traffic proved */
};
/* Reads rtalloc-track's state file afresh (every call): *ups (free()) and
 * *n, 0; -ENOENT when there is none or track is not running. */
int health_read(struct health_uplink **ups, size_t *n);

/* One uplink's health as `rtalloc show` shows it. */
struct health_view {
	bool tracked;			/* rtalloc-track has it */
	bool running;			/* rtalloc-track runs (else state "unknown") */
	char state[16];			/* online, offline, unknown, absent... */
	long long since;		/* unix seconds of the last change */
	double loss, rtt_ms;
	bool unbound4, unbound6;	/* it carries unbound traffic */
};
/* ifname's entry of family (AF_UNSPEC: the first), and whether it carries
 * unbound traffic: 0, or -ENOENT when rtalloc-track does not track it
 * (unbound4/6 are still filled).  The state file is read once per run. */
int health_view_get(const char *ifname, int family, struct health_view *h);
/* Read afresh: does a running rtalloc-track have ifname (family) offline? */
bool health_offline(const char *ifname, int family);

#endif
