/* reconcile: what to change so that the kernel holds what is wanted.  Pure:
 * no kernel, no state; the unit tests call it with made-up sets. */
#ifndef RTALLOC_RECONCILE_H
#define RTALLOC_RECONCILE_H

#include "kernel.h"

/* A list of changes, in the order they must be made. */
struct kplan {
	struct kchange *v;
	size_t n, cap;
	size_t adds, dels;	/* of this plan's changes */
};

void kplan_reset(struct kplan *p);
void kplan_free(struct kplan *p);

/* Appends to plan the changes that turn have (the kernel's rules and routes
 * that are ours, of one table) into want.  Order keeps traffic routed:
 * first IPv6 routes that a wanted route with the same key must replace
 * (the kernel would make them siblings), then route additions (a table is
 * filled before a rule points at it), rule additions, rule deletions, and
 * last route deletions.  An IPv4 route that a wanted route of its key
 * (table, dst, metric) replaces is not deleted: the addition replaces it
 * (kernel.c adds IPv4 routes with NLM_F_REPLACE), and the kernel would
 * take a deletion naming its old fields for one of the new route, or
 * find nothing.  Entries in have that are wanted cost nothing.
 * 0 or -ENOMEM. */
int reconcile(const struct krule_set *want_rules, const struct kroute_set *want_routes,
	      const struct krule_set *have_rules, const struct kroute_set *have_routes,
	      struct kplan *plan);

#endif
