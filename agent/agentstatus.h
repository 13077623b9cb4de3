/* agentstatus: the agent's part of `rtalloc --status`.  For every lease
 * tagged rtalloc-agent (an uplink of the agent) it reads the kernel through
 * the engine's seam and names the routes the agent would copy into the
 * lease's table that the table lacks. */
#ifndef RTALLOC_AGENTSTATUS_H
#define RTALLOC_AGENTSTATUS_H

#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "proto.h"

/* Over an engine loaded from the kernel: prints one line per agent uplink
 * ("agent uplink: ..."), one more for an uplink whose table has no default
 * route ("...: no default route (...)"), and one per missing route
 * ("missing route: ...");
 * returns the number of missing routes.  Pure over e: unit-testable with
 * the fake kernel. */
size_t agentstatus_compare(const struct engine *e, const struct proto_lease *leases, size_t n,
			   FILE *out);
/* One agent lease l over e: the routes its table should hold (want) and
 * those of them it lacks (missing); both sets are emptied first.  0,
 * -EINVAL (not an address), -ENOENT (the address is not on l's
 * interface) or -ENOMEM. */
int agentstatus_lease(const struct engine *e, const struct proto_lease *l, struct kroute_set *want,
		      struct kroute_set *missing);
/* An engine over the real kernel that manages nothing, loaded (for
 * reading): 0, or -errno with nothing left open.  engine_free(e) and
 * kernel_close(*k) when done. */
int agentstatus_load(struct kernel **k, struct engine *e);
/* The same over the real kernel; a kernel that cannot be read counts as
 * one difference, with a line saying why. */
size_t agentstatus_routes(const struct proto_lease *leases, size_t n, FILE *out);

#endif
