/* metrics: rtalloc-agent's figures in the Prometheus text format, written
 * as a textfile for node_exporter's textfile collector (agent.json
 * `metrics_textfile`): per uplink whether it is up, its addresses and
 * health (from rtalloc-track), rtallocd's pool per family, and what the
 * engine restored.  Names and meanings: rtalloc-agent(8), METRICS. */
#ifndef RTALLOC_METRICS_H
#define RTALLOC_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>

#include "lease.h"
#include "loop.h"

struct engine;

/* rtallocd's pool, from the "pool" of its LIST replies ([0] inet, [1] inet6). */
struct metrics_pool {
	bool known;
	uint32_t used[2], free[2];
};

/* The whole textfile for e (and pool) into out.  0 or -errno. */
int metrics_format(FILE *out, const struct engine *e, const struct metrics_pool *pool);
/* Writes it to path atomically (common/safefile: a new file beside it, mode
 * 0644) renamed over path, so the collector never reads half a file and a
 * link planted in the directory is never followed.  0 or -errno. */
int metrics_write(const char *path, const struct engine *e, const struct metrics_pool *pool);

/* The running writer: every METRICS_INTERVAL_MS it asks rtallocd for its
 * pool (a LIST page past the end: no leases, just the figures; answered on
 * its own socket, never blocking the loop) and rewrites the file. */
#define METRICS_INTERVAL_MS 5000
#define METRICS_SOON_MS 1000	/* after a change: at most one write a second */

struct metrics {
	struct loop *loop;
	const struct engine *e;
	char path[PATH_MAX];
	struct loop_timer timer;
	struct lease_client lc;
	struct loop_fd h;
	struct metrics_pool pool;
	uint32_t seq;
	char *buf;
	bool failing;			/* the last write failed (logged once) */
	bool soon;			/* the timer is set to METRICS_SOON_MS */
};

/* Starts writing path ("" or NULL: does nothing).  0 or -errno. */
int metrics_start(struct metrics *m, struct loop *l, const struct engine *e, const char *path,
		  const char *socket_path);
/* Writes once more now. */
void metrics_update(struct metrics *m);
/* Something changed (a pass changed the kernel): write within
 * METRICS_SOON_MS rather than at the next interval. */
void metrics_soon(struct metrics *m);
/* Stops; the file is removed (stale figures would read as live).  NULL ok. */
void metrics_stop(struct metrics *m);

#endif
