/* rules: desired policy rules and their reconciliation with the kernel.
 * Only rules carrying FRA_PROTOCOL RTPROT_RTALLOC are ever touched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "cli.h"
#include "kmsg.h"
#include "leftover.h"
#include "log.h"
#include "rules.h"

void rules_build(const struct cli_opts *o, uint32_t table, struct ruleset *rs)
{
	uint8_t max = (uint8_t)(addr_len(o->family) * 8);
	struct krule *r;

	memset(rs, 0, sizeof(*rs));
	r = &rs->r[rs->n++];
	r->family = (uint8_t)o->family;
	r->pref = o->pref_from;
	r->table = table;
	r->src = o->addr;
	r->src_len = max;
	r->proto = RTPROT_RTALLOC;

	/* A /0 would take every destination ahead of main: no `to` rule.
	 * The guard goes in before the `to` rule (one batch, in order). */
	if (o->have_prefix && o->prefixlen && o->prefixlen < max && o->pref_to > 0) {
		r = &rs->r[rs->n++];
		r->family = (uint8_t)o->family;
		r->pref = o->pref_to - 1;
		r->table = RT_TABLE_MAIN;
		r->dst = o->addr;
		addr_mask(&r->dst, o->prefixlen);
		r->dst_len = o->prefixlen;
		r->has_suppress = true;
		r->suppress = o->prefixlen;
		r->proto = RTPROT_RTALLOC;
	}
	if (o->have_prefix && o->prefixlen) {
		r = &rs->r[rs->n++];
		r->family = (uint8_t)o->family;
		r->pref = o->pref_to;
		r->table = table;
		r->dst = o->addr;
		addr_mask(&r->dst, o->prefixlen);
		r->dst_len = o->prefixlen;
		r->proto = RTPROT_RTALLOC;
	}

	/* Locally generated traffic that no earlier rule matched. */
	r = &rs->r[rs->n++];
	r->family = (uint8_t)o->family;
	r->pref = o->pref_iif;
	r->table = table;
	snprintf(r->iif, sizeof(r->iif), "lo");
	r->proto = RTPROT_RTALLOC;

	/* Traffic forwarded from these interfaces: as local traffic, after
	 * every `from` and `to` rule. */
	for (size_t i = 0; i < o->n_forward && rs->n < RULES_MAX; i++) {
		r = &rs->r[rs->n++];
		r->family = (uint8_t)o->family;
		r->pref = o->pref_iif;
		r->table = table;
		snprintf(r->iif, sizeof(r->iif), "%s", o->forward_iif[i]);
		r->proto = RTPROT_RTALLOC;
	}

	if (o->have_fwmark) {
		r = &rs->r[rs->n++];
		r->family = (uint8_t)o->family;
		r->pref = o->fwmark_pref;
		r->table = table;
		r->has_fwmark = true;
		r->fwmark = o->fwmark;
		r->fwmask = o->fwmask;
		r->proto = RTPROT_RTALLOC;
	}
}

bool rule_is_guard(const struct krule *r, uint32_t pref_to)
{
	return r->table == RT_TABLE_MAIN && r->pref + 1 == pref_to && r->has_suppress && r->dst_len &&
	       !r->src_len && !r->iif[0] && !r->has_fwmark;
}

static int rules_add_some(struct nl *nl, const struct krule *const *rules, size_t n,
			  const struct krule **failed)
{
	int errs[RULES_MAX] = { 0 };
	const struct krule *added[RULES_MAX];
	size_t nadded = 0;
	int ret, first = 0;
	char buf[160];

	ret = krules_send(nl, rules, n, true, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] == 0 || errs[i] == -EEXIST) {
			added[nadded++] = rules[i];
			log_msg(LOG_DEBUG, "rule %s: %s", errs[i] ? "present" : "added",
				krule_str(rules[i], buf, sizeof(buf)));
		} else if (!first) {
			first = errs[i];
			if (failed)
				*failed = rules[i];
		}
	}
	if (first && nadded) {
		int dummy[RULES_MAX];

		/* All or nothing: half the rules would route half the traffic. */
		krules_send(nl, added, nadded, false, dummy);
	}
	return first;
}

int rules_add(struct nl *nl, const struct ruleset *rs, const struct krule **failed)
{
	const struct krule *p[RULES_MAX];

	for (size_t i = 0; i < rs->n; i++)
		p[i] = &rs->r[i];
	return rules_add_some(nl, p, rs->n, failed);
}

static int rules_dump(struct nl *nl, int family, kernel_cb cb, void *ctx);

struct guard_ctx {
	const struct krule *guard;
	uint32_t pref_to;
	bool used;
};

static void guard_used_cb(const struct kevent *ev, void *data)
{
	struct guard_ctx *ctx = data;
	const struct krule *g = ctx->guard;
	const struct krule *r = &ev->rule;

	if (!kevent_rule_ours(ev))
		return;
	if (r->pref == ctx->pref_to && r->table != RT_TABLE_MAIN && r->dst_len == g->dst_len && !r->src_len &&
	    !memcmp(r->dst.bytes, g->dst.bytes, addr_len(g->family)))
		ctx->used = true;
}

/* Deletes the guard g when no `to` rule of ours (another address's, the
 * agent's) needs it any more. */
static int guard_release(struct nl *nl, const struct krule *g)
{
	struct guard_ctx ctx = { .guard = g, .pref_to = g->pref + 1 };
	int err = 0, ret = rules_dump(nl, g->family, guard_used_cb, &ctx);

	if (ret < 0 || ctx.used)
		return ret;
	ret = krules_send(nl, &g, 1, false, &err);
	if (ret < 0)
		return ret;
	return err == -ENOENT ? 0 : err;
}

int rules_del(struct nl *nl, const struct ruleset *rs)
{
	const struct krule *p[RULES_MAX] = { 0 }, *guard = NULL;
	int errs[RULES_MAX] = { 0 };
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < rs->n; i++)
		if (rule_is_guard(&rs->r[i], rs->r[i].pref + 1))
			guard = &rs->r[i];
		else
			p[n++] = &rs->r[i];
	ret = krules_send(nl, p, n, false, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (errs[i] && errs[i] != -ENOENT)
			return errs[i];
	return guard ? guard_release(nl, guard) : 0;
}

struct dump_ctx {
	const struct ruleset *rs;
	bool present[RULES_MAX];
};

static void reconcile_cb(const struct kevent *ev, void *data)
{
	struct dump_ctx *ctx = data;
	struct krule r;

	if (!kevent_rule_ours(ev))
		return;
	r = ev->rule;
	for (size_t i = 0; i < ctx->rs->n; i++)
		if (krule_equal(&ctx->rs->r[i], &r))
			ctx->present[i] = true;
}

/* Both callbacks only mark what they see: an interrupted dump may repeat. */
static int rules_dump(struct nl *nl, int family, kernel_cb cb, void *ctx)
{
	return kmsg_dump_stable(nl, KOBJ_RULE, &(struct kfilter){ .family = family }, cb, ctx, NULL);
}

int rules_reconcile(struct nl *nl, const struct ruleset *rs, unsigned *restored)
{
	struct dump_ctx ctx = { .rs = rs };
	const struct krule *missing[RULES_MAX];
	size_t n = 0;
	int ret;

	*restored = 0;
	if (!rs->n)
		return 0;
	ret = rules_dump(nl, rs->r[0].family, reconcile_cb, &ctx);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < rs->n; i++)
		if (!ctx.present[i])
			missing[n++] = &rs->r[i];
	if (!n)
		return 0;
	ret = rules_add_some(nl, missing, n, NULL);
	if (ret == 0)
		*restored = (unsigned)n;
	return ret;
}

/* ---- leftovers of a run that died (kill -9) ----
 * Decided by engine/leftover.c (its header tells how), over o's prefs. */

/* One batch; a couple of crashed runs' worth. */
#define STALE_MAX NL_BATCH_MAX

size_t rules_stale(const struct cli_opts *o, uint32_t table, const struct krule *rules, size_t n,
		   struct krule *del, size_t max)
{
	const struct engine_prefs prefs = { .from = o->pref_from, .to = o->pref_to, .iif = o->pref_iif,
					    .fwmark = o->fwmark_pref, .guard = o->pref_to - 1 };
	struct leftover *lo = malloc(sizeof(*lo));
	size_t ndel = 0;

	if (!lo)
		return 0;
	if (leftover_find(&prefs, o->family, &o->addr, table, rules, n, lo) == 0)
		for (; ndel < lo->ndel && ndel < max; ndel++)
			del[ndel] = lo->del[ndel];
	free(lo);
	return ndel;
}

static void collect_cb(const struct kevent *ev, void *data)
{
	struct krule_set *s = data;

	/* Ours only; a failed add leaves the set short, as a shorter dump
	 * would: nothing of another run is deleted for it. */
	if (kevent_rule_ours(ev))
		(void)krule_set_add(s, &ev->rule);
}

/* An interrupted dump: what it collected goes. */
static void collect_restart(void *data)
{
	((struct krule_set *)data)->n = 0;
}

int rules_clear_stale(struct nl *nl, const struct cli_opts *o, uint32_t table, unsigned *removed)
{
	struct krule_set ours = { 0 };
	struct krule found[STALE_MAX];
	const struct krule *del[STALE_MAX] = { NULL };
	int errs[STALE_MAX] = { 0 };
	size_t n;
	char buf[160];
	int ret;

	*removed = 0;
	/* One dump: the usual case finds nothing left over in it. */
	ret = kmsg_dump_stable(nl, KOBJ_RULE, &(struct kfilter){ .family = o->family }, collect_cb, &ours,
			       collect_restart);
	n = ret < 0 ? 0 : rules_stale(o, table, ours.v, ours.n, found, STALE_MAX);
	krule_set_free(&ours);
	if (ret < 0 || !n)
		return ret;
	for (size_t i = 0; i < n; i++)
		del[i] = &found[i];
	ret = krules_send(nl, del, n, false, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] && errs[i] != -ENOENT)
			return errs[i];
		if (!errs[i]) {
			(*removed)++;
			log_msg(LOG_NOTICE, "removed leftover rule of a previous run: %s",
				krule_str(del[i], buf, sizeof(buf)));
		}
		/* Its `to` rule's guard, unless another `to` rule needs it. */
		if (del[i]->pref == o->pref_to && del[i]->dst_len && o->pref_to > 0) {
			struct krule g = *del[i];

			g.pref = o->pref_to - 1;
			g.table = RT_TABLE_MAIN;
			g.has_suppress = true;
			g.suppress = g.dst_len;
			guard_release(nl, &g);
		}
	}
	return 0;
}
