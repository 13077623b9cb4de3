/* leftover: a dead run's rules of one address (leftover.h), moved here
 * from rtalloc's rules.c so the engine decides them too. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "leftover.h"

struct ctx {
	const struct engine_prefs *p;
	const struct inet_addr *a;
	uint32_t keep;			/* A's now, never a leftover (0: none) */
	uint32_t tables[LEFTOVER_MAX];	/* of A's stale `from` rules */
	bool full[LEFTOVER_MAX];	/* more owners than `others` holds */
	size_t ntables;
	struct krule found[LEFTOVER_MAX];
	size_t nfound;
	struct krule others[LEFTOVER_MAX];	/* other addresses' `from` rules there */
	size_t nothers;
};

bool leftover_is_from(const struct engine_prefs *p, const struct krule *r)
{
	return r->pref == p->from && r->src_len == addr_len(r->family) * 8 && !r->dst_len && !r->iif[0] &&
	       !r->has_fwmark;
}

/* r is a `to NET` rule whose network holds a. */
static bool to_holds(const struct krule *r, const struct inet_addr *a)
{
	struct inet_addr net = *a;

	addr_mask(&net, r->dst_len);
	return !memcmp(net.bytes, r->dst.bytes, addr_len(r->family));
}

static bool is_shared(const struct ctx *c, const struct krule *r)
{
	if (r->src_len)
		return false;
	/* iif lo, or a forwarded interface of the old run (whatever it was). */
	if (r->pref == c->p->iif)
		return r->iif[0] && !r->dst_len && !r->has_fwmark;
	if (r->pref == c->p->fwmark)
		return r->has_fwmark && !r->dst_len && !r->iif[0];
	if (r->pref != c->p->to || !r->dst_len || r->iif[0] || r->has_fwmark)
		return false;
	/* Any network holding A: the old run may have had another prefix
	 * length. */
	return to_holds(r, c->a);
}

static bool is_a(const struct ctx *c, const struct krule *r)
{
	return !memcmp(r->src.bytes, c->a->bytes, addr_len(r->family));
}

/* Does another address's `from` rule use table (full: too many to tell)? */
static bool table_used(const struct ctx *c, size_t j)
{
	if (c->full[j])
		return true;
	for (size_t i = 0; i < c->nothers; i++)
		if (c->others[i].table == c->tables[j])
			return true;
	return false;
}

/* Does another address's live `from` rule need r (same table; for a `to
 * NET` rule, an address inside NET)? */
static bool owned(const struct ctx *c, const struct krule *r)
{
	for (size_t j = 0; j < c->ntables; j++)
		if (c->tables[j] == r->table && c->full[j])
			return true;
	for (size_t j = 0; j < c->nothers; j++)
		if (c->others[j].table == r->table && (!r->dst_len || to_holds(r, &c->others[j].src)))
			return true;
	return false;
}

/* One of A's `from` rules into another table than A's: the table of a run
 * that died. */
static void stale_from(struct ctx *c, const struct krule *r)
{
	if (leftover_is_from(c->p, r) && r->table != c->keep && is_a(c, r) && c->ntables < LEFTOVER_MAX) {
		c->tables[c->ntables++] = r->table;
		c->found[c->nfound++] = *r;
	}
}

/* In one of those tables: another address's `from` rule (it owns the
 * table's shared rules), or a shared rule (a leftover unless owned). */
static void stale_shared(struct ctx *c, const struct krule *r)
{
	size_t i;

	for (i = 0; i < c->ntables && c->tables[i] != r->table; i++)
		;
	if (i == c->ntables)
		return;
	if (leftover_is_from(c->p, r)) {
		if (is_a(c, r))
			return;
		if (c->nothers < LEFTOVER_MAX)
			c->others[c->nothers++] = *r;
		else
			c->full[i] = true;
	} else if (is_shared(c, r) && c->nfound < LEFTOVER_MAX) {
		c->found[c->nfound++] = *r;
	}
}

static bool ours(int family, const struct krule *r)
{
	return r->family == family && r->proto == RTPROT_RTALLOC;
}

int leftover_find(const struct engine_prefs *prefs, int family, const struct inet_addr *a,
		  uint32_t keep, const struct krule *rules, size_t n, struct leftover *out)
{
	struct ctx *c = calloc(1, sizeof(*c));

	out->ndel = out->nwhole = 0;
	if (!c)
		return -ENOMEM;
	c->p = prefs;
	c->a = a;
	c->keep = keep;
	for (size_t i = 0; i < n; i++)
		if (ours(family, &rules[i]))
			stale_from(c, &rules[i]);
	for (size_t i = 0; c->ntables && i < n; i++)
		if (ours(family, &rules[i]))
			stale_shared(c, &rules[i]);
	for (size_t i = 0; i < c->nfound && out->ndel < LEFTOVER_MAX; i++) {
		const struct krule *r = &c->found[i];

		if (leftover_is_from(prefs, r) || !owned(c, r))
			out->del[out->ndel++] = *r;
	}
	for (size_t j = 0; j < c->ntables; j++) {
		size_t k;

		for (k = 0; k < out->nwhole && out->whole[k] != c->tables[j]; k++)
			;
		if (k == out->nwhole && !table_used(c, j))
			out->whole[out->nwhole++] = c->tables[j];
	}
	free(c);
	return 0;
}
