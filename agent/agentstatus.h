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
/* The same over the real kernel; a kernel that cannot be read counts as
 * one difference, with a line saying why. */
size_t agentstatus_routes(const struct proto_lease *leases, size_t n, FILE *out);

#endif
