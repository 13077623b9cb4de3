/* agent: rtalloc-agent's run: the engine over the real kernel, leases from
 * rtallocd for its uplinks (many requests in flight on one socket), one
 * loop, SIGHUP reload, readiness. */
#ifndef RTALLOC_AGENT_H
#define RTALLOC_AGENT_H

#include "owner.h"	/* AGENT_TAG, the agent's name */

/* Runs until SIGTERM or SIGINT; returns the exit status (0, or 1 when the
 * configuration or a start-up step failed, with one line logged). */
int agent_run(const char *config_path);

#endif
