/* mainmove: an uplink's routes taken out of main into its tables (a hint's
 * --out-of-main), and put back into main when the uplink stops being out
 * of main or its owner stops.  What is out of main is the owner's word
 * (mainmove_out_fn, e.g. the agent's hints); what is moved and put back is
 * decided here, over the engine's mirror and through its kernel:
 *  - taken out: a default route the link's tool put into main (not the
 *    kernel's from a router advertisement: it would add it back at the
 *    next one), and the prefix route the kernel added for an IPv4 address
 *    of the link or for a static global IPv6 one; never a nexthop of a
 *    multipath route;
 *  - put back, prefix routes before default routes (a gateway must be
 *    on-link in main when its route is added): when the link is no longer
 *    out of main for the family, and all of them at mainmove_restore();
 *    only what the link can still carry (the prefix route of an address
 *    still there, a default route while the link has an address of its
 *    family): when the tool removed the address, the kernel removed those
 *    routes too, and there is nothing to put back. */
#ifndef RTALLOC_MAINMOVE_H
#define RTALLOC_MAINMOVE_H

#include <stdbool.h>

#include "engine.h"
#include "kobj.h"

/* Whether link l is out of main for family (AF_INET, AF_INET6). */
typedef bool (*mainmove_out_fn)(void *data, const struct elink *l, int family);

struct mainmove {
	struct kroute_set moved;	/* out of main, as main held them (oif: the link) */
	bool dirty;			/* moved changed since mainmove_save() */
	struct ratelimit rl;
};

void mainmove_init(struct mainmove *m);
void mainmove_free(struct mainmove *m);
/* Takes the routes of every link out of main for a family out of main and
 * remembers them; puts back those of links no longer so; forgets prefix
 * routes of addresses that went.  Before an engine pass: the deletions'
 * events are then in the mirror when it runs.  How many changes it made
 * in main. */
unsigned mainmove_sync(struct mainmove *m, struct engine *e, mainmove_out_fn out, void *data);
/* Puts every route taken out back into main (the owner stops) and forgets
 * them.  How many went back. */
unsigned mainmove_restore(struct mainmove *m, struct engine *e);
/* The routes taken out of main for u's link and family: the prefix
 * routes (dflt false) or the default routes (true), added to out.  0 or
 * -ENOMEM. */
int mainmove_routes(const struct mainmove *m, const struct uplink *u, bool dflt, struct kroute_set *out);

/* What is out of main, kept in a file (path) for a run that follows a
 * crash or a kill -9: it takes over what this one took out, which main and
 * the kernel no longer show as main's.  Written (replaced whole) when it
 * changed since the last save; removed when nothing is out of main.
 * 0 or -errno. */
int mainmove_save(struct mainmove *m, const struct engine *e, const char *path);
/* Reads it back at start, after engine_load: routes of a link that is gone
 * or was renamed meanwhile are dropped.  0 (also when there is no file),
 * -EINVAL with the line's number in *line, -errno. */
int mainmove_load(struct mainmove *m, const struct engine *e, const char *path, unsigned *line);

#endif
