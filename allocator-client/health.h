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

/* The human block: which uplink carries unbound traffic, then one line per
 * uplink.  Prints nothing when there is no state file. */
void health_print(FILE *out);
/* For --status --json: rtalloc-track's state (a new reference, with
 * "running"), or NULL when there is none. */
struct json_object *health_json(void);
/* For --list --json: `,"health":{...}` for the lease of ifname/address when
 * rtalloc-track tracks it; nothing otherwise. */
void health_lease_json(FILE *out, const char *ifname, const char *address);

/* One uplink's health (rtalloc show, the agent's exec rules). */
struct health_uplink {
	bool tracked;			/* rtalloc-track has it */
	bool running;			/* rtalloc-track runs (else state "unknown") */
	char state[16];			/* online, offline, unknown, absent... */
	long long since;		/* unix seconds of the last change */
	double loss, rtt_ms;
	bool unbound4, unbound6;	/* it carries unbound traffic */
};
/* ifname's entry of family (AF_UNSPEC: the first), and whether it carries
 * unbound traffic: 0, or -ENOENT when rtalloc-track does not track it
 * (unbound4/6 are still filled). */
int health_uplink_get(const char *ifname, int family, struct health_uplink *h);
/* Re-reads the state file at the next call (long-running readers). */
void health_reload(void);
/* Re-read now: does rtalloc-track have ifname (family) offline? */
bool health_offline(const char *ifname, int family);

#endif
