/* leftover: what a run for address A that died (kill -9, a crashed agent)
 * left in the kernel, decided over our rules (proto 122) of A's family.
 * Pure: the caller reads the rules (a dump, the engine's mirror) and
 * removes what this returns.
 *
 * The `from A` rule is the only one that names A, so it is what marks a
 * leftover: its table T' (any table but the one A keeps) is the old run's.
 * `to NET`, `iif lo`, `iif F` and fwmark rules have the same shape in every
 * run, so one of those with table T' is A's only when no other address's
 * `from X lookup T'` uses T' (the server may have given T' to X after A's
 * lease expired); for `to NET`, no such X inside NET.  A table no other
 * `from X` rule uses is A's whole: its routes are A's leftovers too. */
#ifndef RTALLOC_LEFTOVER_H
#define RTALLOC_LEFTOVER_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "nl.h"

/* One netlink batch; a couple of crashed runs' worth. */
#define LEFTOVER_MAX NL_BATCH_MAX

struct leftover {
	struct krule del[LEFTOVER_MAX];	/* rules to delete (the whole
					 * tables' included) */
	size_t ndel;
	uint32_t whole[LEFTOVER_MAX];	/* tables to empty whole: no other
					 * address's `from` rule uses them */
	size_t nwhole;
};

/* A's leftovers among rules (any family, any proto: only family's proto 122
 * rules count), given that A keeps table keep (0: none, every table of A's
 * is a leftover).  prefs: where each shape of rule sits.  0, or -ENOMEM
 * (out then holds nothing). */
int leftover_find(const struct engine_prefs *prefs, int family, const struct inet_addr *a,
		  uint32_t keep, const struct krule *rules, size_t n, struct leftover *out);
/* r is one of our `from ADDR` rules (any address) at prefs->from. */
bool leftover_is_from(const struct engine_prefs *prefs, const struct krule *r);

#endif
