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
 * The `from ADDR` rule is the only one that names our address, so it is what
 * marks a leftover: its table T' is the old run's.  `to NET` and `iif lo`
 * rules have the same shape in every daemon, so one of those with table T' is
 * only ours when no other address's `from` rule uses T' (the server may have
 * given T' to another key after our old lease expired); for `to NET`, no
 * other address inside NET. */

/* One batch; a couple of crashed runs' worth. */
#define STALE_MAX NL_BATCH_MAX

struct stale_ctx {
	const struct cli_opts *o;
	uint32_t table;			/* ours now, never stale (0: none) */
	uint32_t tables[STALE_MAX];	/* of our address's stale `from` rules */
	bool full[STALE_MAX];		/* more owners than `others` holds */
	size_t ntables;
	struct krule found[STALE_MAX];
	size_t nfound;
	struct krule others[STALE_MAX];	/* other addresses' `from` rules there */
	size_t nothers;
};

static bool rule_is_from(const struct krule *r, uint32_t pref)
{
	return r->pref == pref && r->src_len == addr_len(r->family) * 8 && !r->dst_len &&
	       !r->iif[0] && !r->has_fwmark;
}

/* r is a `to NET` rule whose network holds a. */
static bool rule_to_holds(const struct krule *r, const struct inet_addr *a)
{
	struct inet_addr net = *a;

	addr_mask(&net, r->dst_len);
	return !memcmp(net.bytes, r->dst.bytes, addr_len(r->family));
}

static bool rule_is_shared(const struct krule *r, const struct cli_opts *o)
{
	if (r->src_len)
		return false;
	/* iif lo, or a --forward-iif of the old run (whatever it was). */
	if (r->pref == o->pref_iif)
		return r->iif[0] && !r->dst_len && !r->has_fwmark;
	if (r->pref == o->fwmark_pref)
		return r->has_fwmark && !r->dst_len && !r->iif[0];
	if (r->pref != o->pref_to || !r->dst_len || r->iif[0] || r->has_fwmark)
		return false;
	/* Any network holding our address: the old run may have had another
	 * prefix length. */
	return rule_to_holds(r, &o->addr);
}

/* Does another address's live `from` rule need r (same table; for a `to NET`
 * rule, an address inside NET)? */
static bool rule_owned(const struct stale_ctx *ctx, const struct krule *r)
{
	for (size_t j = 0; j < ctx->ntables; j++)
		if (ctx->tables[j] == r->table && ctx->full[j])
			return true;
	for (size_t j = 0; j < ctx->nothers; j++)
		if (ctx->others[j].table == r->table &&
		    (!r->dst_len || rule_to_holds(r, &ctx->others[j].src)))
			return true;
	return false;
}

/* One of our address's `from` rules into another table than ours: the
 * table of a run that died. */
static void stale_from(struct stale_ctx *ctx, const struct krule *r)
{
	if (rule_is_from(r, ctx->o->pref_from) && r->table != ctx->table &&
	    !memcmp(r->src.bytes, ctx->o->addr.bytes, addr_len(r->family)) && ctx->ntables < STALE_MAX) {
		ctx->tables[ctx->ntables++] = r->table;
		ctx->found[ctx->nfound++] = *r;
	}
}

/* In one of those tables: another address's `from` rule (it owns the
 * table's shared rules), or a shared rule (a leftover unless owned). */
static void stale_shared(struct stale_ctx *ctx, const struct krule *r)
{
	size_t i;

	for (i = 0; i < ctx->ntables && ctx->tables[i] != r->table; i++)
		;
	if (i == ctx->ntables)
		return;
	if (rule_is_from(r, ctx->o->pref_from)) {
		if (!memcmp(r->src.bytes, ctx->o->addr.bytes, addr_len(r->family)))
			return;
		if (ctx->nothers < STALE_MAX)
			ctx->others[ctx->nothers++] = *r;
		else
			ctx->full[i] = true;
	} else if (rule_is_shared(r, ctx->o) && ctx->nfound < STALE_MAX) {
		ctx->found[ctx->nfound++] = *r;
	}
}

size_t rules_stale(const struct cli_opts *o, uint32_t table, const struct krule *rules, size_t n,
		   struct krule *del, size_t max)
{
	struct stale_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t ndel = 0;

	if (!ctx)
		return 0;
	ctx->o = o;
	ctx->table = table;
	for (size_t i = 0; i < n; i++)
		if (rules[i].family == o->family && rules[i].proto == RTPROT_RTALLOC)
			stale_from(ctx, &rules[i]);
	for (size_t i = 0; ctx->ntables && i < n; i++)
		if (rules[i].family == o->family && rules[i].proto == RTPROT_RTALLOC)
			stale_shared(ctx, &rules[i]);
	for (size_t i = 0; i < ctx->nfound && ndel < max; i++) {
		const struct krule *r = &ctx->found[i];

		if (rule_is_from(r, o->pref_from) || !rule_owned(ctx, r))
			del[ndel++] = *r;
	}
	free(ctx);
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
