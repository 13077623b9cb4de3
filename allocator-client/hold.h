/* hold: the routes of a per-address rtalloc's table, owned through the
 * uplink engine (engine/) as rtalloc-agent owns its tables' routes.  The
 * hook gives them (--route); the daemon's rules.c keeps the rules, and the
 * engine runs routes-only, scoped to our uplink (engine_set_scope: our
 * link, our address's entries and our tables are read, not the host's
 * other links, addresses, routes or rules): it fills the table, restores
 * a route deleted by hand or dropped by the kernel with a link that went
 * down (within a second of the link coming up), follows the lease to
 * another table, and empties the table when the address goes or the
 * daemon ends.
 * A run without --route owns no routes (its caller fills the table, as the
 * 2017 hooks did): every call is then a no-op. */
#ifndef RTALLOC_HOLD_H
#define RTALLOC_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "engine.h"
#include "loop.h"
#include "nlfilter.h"
#include "routearg.h"

struct hold {
	bool on;			/* routes were given: we own them */
	struct kernel *k;
	struct engine e;
	struct kroute_set given;	/* the hook's routes, as the engine wants them */
	struct route_arg args[ROUTEARG_MAX];	/* and as given, for --status */
	size_t nargs;
	struct uplink *u;		/* ours, once the engine saw the address */
	int family;
	struct inet_addr addr;
	int ifindex;
	char ifname[IFNAMSIZ];
	uint32_t table;
	uint32_t moved_from;		/* hold_move() until hold_drop_table() */
	struct nlfilter filter;		/* on the engine's event socket */
	bool filtered;
	bool filter_warned;		/* once: attaching it failed */
	struct loop *loop;
	struct loop_fd kh;
	struct loop_timer pass_timer;
	bool pass_for_due;		/* pass_timer waits for e.next_due_ms (a
					 * retry, a hold): events still pass */
	uint64_t last_pass_ms;
};

/* Reads the kernel and puts o's routes (o->routes) into table: done when
 * it returns (a refused route is logged and tried again after 1 s, then
 * 2, 4... up to 30 s).  0 (also when o has no routes: h->on false) or
 * -errno. */
int hold_open(struct hold *h, const struct cli_opts *o, int ifindex, uint32_t table);
/* As hold_open, over k (a fake kernel in the unit tests), owned from now
 * on: closed by hold_close(), or at once when it fails or o has no
 * routes. */
int hold_open_on(struct hold *h, struct kernel *k, const struct cli_opts *o, int ifindex, uint32_t table);
/* Follows the kernel's events from now on, in l. */
int hold_start(struct hold *h, struct loop *l);
/* A later run gave these routes: they replace the old ones. */
int hold_set_routes(struct hold *h, const struct route_arg *r, size_t n);
/* The "routes" message of what we own (for --status): its length; a bare
 * "routes" when we own none. */
size_t hold_msg(const struct hold *h, char *buf, size_t len);
/* The lease moved: table is filled now; the old table keeps its routes
 * until hold_drop_table(), so the caller moves its rules in between. */
void hold_move(struct hold *h, uint32_t table);
void hold_drop_table(struct hold *h, uint32_t table);
/* Empties the table and lets go of everything.  Accepts a hold never
 * opened (zeroed). */
void hold_close(struct hold *h);

#endif
