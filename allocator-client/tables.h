/* tables: what `rtalloc --status` checks in the leased tables themselves,
 * beside the rules (status.c): routes a daemon owns that are missing, a
 * table holding routes of another device or source (a previous holder's),
 * an empty table that installed rules select, and two leases of one
 * table (issue 15: each sends an uplink's traffic out the wrong link). */
#ifndef RTALLOC_TABLES_H
#define RTALLOC_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kobj.h"
#include "proto.h"
#include "routearg.h"
#include "rules.h"

/* What the daemon holding a lease says its table's routes are. */
struct table_want {
	bool known;			/* a daemon with routes answered */
	struct route_arg r[ROUTEARG_MAX];
	size_t n;
};

/* The kernel's side: our rules, the routes of numbered tables, the links
 * (for their names). */
struct table_view {
	const struct krule *rules;
	size_t nrules;
	const struct kroute *routes;
	size_t nroutes;
	const struct klink *links;
	size_t nlinks;
};

/* Prints one line per difference and returns how many (pure: the unit
 * tests feed it made-up state).  want is parallel to leases (NULL: none
 * known):
 *   shared table     two live leases of one family resolve to one table,
 *                    or another address's `from` rule selects the table
 *   empty table      a lease's rules are installed, its table has no route
 *   foreign route    the table holds a route of another device or source
 *   missing route    a route the lease's daemon owns is not in its table */
size_t tables_compare(const struct proto_lease *leases, size_t nleases,
		      const struct table_want *want, const struct table_view *k, FILE *out);

/* Reads the kernel and asks each lease's daemon, then tables_compare().
 * Returns the differences; a kernel that cannot be read is one line on
 * stderr and counts as one. */
size_t tables_check(const struct proto_lease *leases, size_t nleases,
		    const struct krule *rules, size_t nrules, FILE *out);

#endif
