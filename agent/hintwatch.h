/* hintwatch: the agent's side of the hints (agenthint.h): its directory
 * watched with inotify in the agent's loop, every file read again when one
 * changes, one log line per interface whose hint changed. */
#ifndef RTALLOC_HINTWATCH_H
#define RTALLOC_HINTWATCH_H

#include <stddef.h>

#include "agenthint.h"
#include "agentneigh.h"
#include "engine.h"

struct hintwatch {
	int fd;				/* inotify */
	char dir[256];
	struct hint *v;
	size_t n;
	bool touched;			/* the last read saw a hint file's event */
};

/* Makes the directory (root's, 0700) for socket_path, watches it, reads
 * the hints a previous run left: 0 or -errno. */
int hintwatch_open(struct hintwatch *w, const char *socket_path);
void hintwatch_close(struct hintwatch *w);
/* Drains the inotify events and reads the hints again: 1 when any
 * changed, 0, or -errno. */
int hintwatch_read(struct hintwatch *w);
/* After the pass that followed a read that saw a hint file's event: stamps
 * HINT_APPLIED with the time, which `rtalloc hint` waits for. */
void hintwatch_ack(const struct hintwatch *w);
const struct hint *hintwatch_find(const struct hintwatch *w, const char *ifname);
/* The routes u's table gets beyond main's copy (engine_ops.extra_routes):
 * the hint's routes of u's family; and, when main has no default route
 * through u's link (a never-default uplink), one default via each of the
 * hint's gateways of that family (the first preferred: metric 0, 1, ...;
 * IPv6 1024, 1025, ...) or, without any, for IPv6 one via the router the
 * kernel knows on the link
 * (nb; NULL where main had a default through the link that went: the
 * router is gone, its neighbour entry says nothing of that). */
int hintwatch_routes(const struct hint *h, const struct neighbours *nb, const struct uplink *u,
		     bool main_default, struct kroute_set *out);

#endif
