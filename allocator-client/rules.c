/* rules: desired policy rules and their reconciliation with the kernel.
 * Only rules carrying FRA_PROTOCOL RTPROT_RTALLOC are ever touched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "cli.h"
#include "log.h"
#include "rules.h"

void rules_build(const struct cli_opts *o, uint32_t table, struct ruleset *rs)
{
	uint8_t max = (uint8_t)(addr_len(o->family) * 8);
	struct rule *r;

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

bool rule_equal(const struct rule *a, const struct rule *b)
{
	size_t len = addr_len(a->family);

	return a->family == b->family && a->pref == b->pref && a->table == b->table &&
	       a->proto == b->proto && a->src_len == b->src_len && a->dst_len == b->dst_len &&
	       (!a->src_len || !memcmp(a->src.bytes, b->src.bytes, len)) &&
	       (!a->dst_len || !memcmp(a->dst.bytes, b->dst.bytes, len)) &&
	       !strcmp(a->iif, b->iif) && a->has_fwmark == b->has_fwmark &&
	       (!a->has_fwmark || (a->fwmark == b->fwmark && a->fwmask == b->fwmask)) &&
	       a->has_suppress == b->has_suppress && (!a->has_suppress || a->suppress == b->suppress);
}

bool rule_is_guard(const struct rule *r, uint32_t pref_to)
{
	return r->table == RT_TABLE_MAIN && r->pref + 1 == pref_to && r->has_suppress && r->dst_len &&
	       !r->src_len && !r->iif[0] && !r->has_fwmark;
}

const char *rule_str(const struct rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n = snprintf(buf, len, "pref %u", r->pref);

	if (r->src_len && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " from %s/%u", addr_str(&r->src, a, sizeof(a)), r->src_len);
	if (r->dst_len && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " to %s/%u", addr_str(&r->dst, a, sizeof(a)), r->dst_len);
	if (r->iif[0] && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " iif %s", r->iif);
	if (r->has_fwmark && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " fwmark 0x%x/0x%x", r->fwmark, r->fwmask);
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " lookup %u", r->table);
	if (r->has_suppress && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " suppress_prefixlength %u", r->suppress);
	return buf;
}

static void rule_put(struct nlmsghdr *nlh, const struct rule *r)
{
	struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	size_t alen = addr_len(r->family);

	frh->family = r->family;
	frh->action = FR_ACT_TO_TBL;
	frh->src_len = r->src_len;
	frh->dst_len = r->dst_len;
	/* rtm_table is 8 bits: larger tables only fit in FRA_TABLE. */
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->pref);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, r->proto);
	if (r->src_len)
		mnl_attr_put(nlh, FRA_SRC, alen, r->src.bytes);
	if (r->dst_len)
		mnl_attr_put(nlh, FRA_DST, alen, r->dst.bytes);
	if (r->iif[0])
		mnl_attr_put_strz(nlh, FRA_IIFNAME, r->iif);
	if (r->has_fwmark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, r->fwmask);
	}
	if (r->has_suppress)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, r->suppress);
}

/* One batch of RTM_NEWRULE or RTM_DELRULE for rules[0..n-1]. */
static int rules_batch(struct nl *nl, const struct rule *const *rules, size_t n, bool add, int *errs)
{
	struct nl_batch b;

	memset(&b, 0, sizeof(b));
	for (size_t i = 0; i < n; i++) {
		struct nlmsghdr *nlh = nl_batch_add(nl, &b, add ? RTM_NEWRULE : RTM_DELRULE,
						    add ? NLM_F_CREATE | NLM_F_EXCL : 0,
						    sizeof(struct fib_rule_hdr));

		if (!nlh)
			return -E2BIG;
		rule_put(nlh, rules[i]);
		nl_batch_commit(&b, nlh);
	}
	return nl_batch_run(nl, &b, errs);
}

static int rules_add_some(struct nl *nl, const struct rule *const *rules, size_t n,
			  const struct rule **failed)
{
	int errs[RULES_MAX] = { 0 };
	const struct rule *added[RULES_MAX];
	size_t nadded = 0;
	int ret, first = 0;
	char buf[160];

	ret = rules_batch(nl, rules, n, true, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] == 0 || errs[i] == -EEXIST) {
			added[nadded++] = rules[i];
			log_msg(LOG_DEBUG, "rule %s: %s", errs[i] ? "present" : "added",
				rule_str(rules[i], buf, sizeof(buf)));
		} else if (!first) {
			first = errs[i];
			if (failed)
				*failed = rules[i];
		}
	}
	if (first && nadded) {
		int dummy[RULES_MAX];

		/* All or nothing: half the rules would route half the traffic. */
		rules_batch(nl, added, nadded, false, dummy);
	}
	return first;
}

int rules_add(struct nl *nl, const struct ruleset *rs, const struct rule **failed)
{
	const struct rule *p[RULES_MAX];

	for (size_t i = 0; i < rs->n; i++)
		p[i] = &rs->r[i];
	return rules_add_some(nl, p, rs->n, failed);
}

static int rules_dump(struct nl *nl, int family, mnl_cb_t cb, void *ctx);

struct guard_ctx {
	const struct rule *guard;
	uint32_t pref_to;
	bool used;
};

static int guard_used_cb(const struct nlmsghdr *nlh, void *data)
{
	struct guard_ctx *ctx = data;
	const struct rule *g = ctx->guard;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	if (r.pref == ctx->pref_to && r.table != RT_TABLE_MAIN && r.dst_len == g->dst_len && !r.src_len &&
	    !memcmp(r.dst.bytes, g->dst.bytes, addr_len(g->family)))
		ctx->used = true;
	return MNL_CB_OK;
}

/* Deletes the guard g when no `to` rule of ours (another address's, the
 * agent's) needs it any more. */
static int guard_release(struct nl *nl, const struct rule *g)
{
	struct guard_ctx ctx = { .guard = g, .pref_to = g->pref + 1 };
	int err = 0, ret = rules_dump(nl, g->family, guard_used_cb, &ctx);

	if (ret < 0 || ctx.used)
		return ret;
	ret = rules_batch(nl, &g, 1, false, &err);
	if (ret < 0)
		return ret;
	return err == -ENOENT ? 0 : err;
}

int rules_del(struct nl *nl, const struct ruleset *rs)
{
	const struct rule *p[RULES_MAX] = { 0 }, *guard = NULL;
	int errs[RULES_MAX] = { 0 };
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < rs->n; i++)
		if (rule_is_guard(&rs->r[i], rs->r[i].pref + 1))
			guard = &rs->r[i];
		else
			p[n++] = &rs->r[i];
	ret = rules_batch(nl, p, n, false, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (errs[i] && errs[i] != -ENOENT)
			return errs[i];
	return guard ? guard_release(nl, guard) : 0;
}

bool rule_parse(const struct nlmsghdr *nlh, struct rule *r)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return false;
	memset(r, 0, sizeof(*r));
	r->family = frh->family;
	r->src_len = frh->src_len;
	r->dst_len = frh->dst_len;
	r->table = frh->table;
	alen = addr_len(frh->family);
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		uint16_t type = mnl_attr_get_type(attr);
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (type) {
		case FRA_TABLE:
			if (plen == 4)
				r->table = mnl_attr_get_u32(attr);
			break;
		case FRA_PRIORITY:
			if (plen == 4)
				r->pref = mnl_attr_get_u32(attr);
			break;
		case FRA_PROTOCOL:
			if (plen == 1)
				r->proto = mnl_attr_get_u8(attr);
			break;
		case FRA_SRC:
			if (plen == alen)
				memcpy(r->src.bytes, mnl_attr_get_payload(attr), alen);
			break;
		case FRA_DST:
			if (plen == alen)
				memcpy(r->dst.bytes, mnl_attr_get_payload(attr), alen);
			break;
		case FRA_IIFNAME:
			snprintf(r->iif, sizeof(r->iif), "%.*s", (int)plen, (const char *)mnl_attr_get_payload(attr));
			break;
		case FRA_FWMARK:
			if (plen == 4) {
				r->fwmark = mnl_attr_get_u32(attr);
				r->has_fwmark = true;
			}
			break;
		case FRA_FWMASK:
			if (plen == 4)
				r->fwmask = mnl_attr_get_u32(attr);
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			/* The kernel's "none" is -1 (not sent by it). */
			if (plen == 4 && mnl_attr_get_u32(attr) <= 128) {
				r->has_suppress = true;
				r->suppress = (uint8_t)mnl_attr_get_u32(attr);
			}
			break;
		}
	}
	r->src.family = r->dst.family = r->family;
	return r->proto == RTPROT_RTALLOC;
}

struct dump_ctx {
	const struct ruleset *rs;
	bool present[RULES_MAX];
};

static int reconcile_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	for (size_t i = 0; i < ctx->rs->n; i++)
		if (rule_equal(&ctx->rs->r[i], &r))
			ctx->present[i] = true;
	return MNL_CB_OK;
}

static int rules_dump(struct nl *nl, int family, mnl_cb_t cb, void *ctx)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct fib_rule_hdr))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	int ret, tries = 0;

	nlh->nlmsg_type = RTM_GETRULE;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)family;
	do
		ret = nl_dump(nl, nlh, cb, ctx);
	while (ret == -EINTR && ++tries < 5);
	return ret;
}

int rules_reconcile(struct nl *nl, const struct ruleset *rs, unsigned *restored)
{
	struct dump_ctx ctx = { .rs = rs };
	const struct rule *missing[RULES_MAX];
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
	struct rule found[STALE_MAX];
	size_t nfound;
	struct rule others[STALE_MAX];	/* other addresses' `from` rules there */
	size_t nothers;
};

static bool rule_is_from(const struct rule *r, uint32_t pref)
{
	return r->pref == pref && r->src_len == addr_len(r->family) * 8 && !r->dst_len &&
	       !r->iif[0] && !r->has_fwmark;
}

/* r is a `to NET` rule whose network holds a. */
static bool rule_to_holds(const struct rule *r, const struct inet_addr *a)
{
	struct inet_addr net = *a;

	addr_mask(&net, r->dst_len);
	return !memcmp(net.bytes, r->dst.bytes, addr_len(r->family));
}

static bool rule_is_shared(const struct rule *r, const struct cli_opts *o)
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
static bool rule_owned(const struct stale_ctx *ctx, const struct rule *r)
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

static int stale_from_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stale_ctx *ctx = data;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	if (rule_is_from(&r, ctx->o->pref_from) && r.table != ctx->table &&
	    !memcmp(r.src.bytes, ctx->o->addr.bytes, addr_len(r.family)) && ctx->ntables < STALE_MAX) {
		ctx->tables[ctx->ntables++] = r.table;
		ctx->found[ctx->nfound++] = r;
	}
	return MNL_CB_OK;
}

static int stale_shared_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stale_ctx *ctx = data;
	struct rule r;
	size_t i;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	for (i = 0; i < ctx->ntables && ctx->tables[i] != r.table; i++)
		;
	if (i == ctx->ntables)
		return MNL_CB_OK;
	if (rule_is_from(&r, ctx->o->pref_from)) {
		if (!memcmp(r.src.bytes, ctx->o->addr.bytes, addr_len(r.family)))
			return MNL_CB_OK;
		if (ctx->nothers < STALE_MAX)
			ctx->others[ctx->nothers++] = r;
		else
			ctx->full[i] = true;
	} else if (rule_is_shared(&r, ctx->o) && ctx->nfound < STALE_MAX) {
		ctx->found[ctx->nfound++] = r;
	}
	return MNL_CB_OK;
}

int rules_clear_stale(struct nl *nl, const struct cli_opts *o, uint32_t table, unsigned *removed)
{
	struct stale_ctx ctx = { .o = o, .table = table };
	const struct rule *del[STALE_MAX] = { NULL };
	int errs[STALE_MAX] = { 0 };
	size_t n = 0;
	char buf[160];
	int ret;

	*removed = 0;
	ret = rules_dump(nl, o->family, stale_from_cb, &ctx);
	if (ret < 0 || !ctx.ntables)
		return ret;	/* the usual case: one dump, nothing left over */
	ret = rules_dump(nl, o->family, stale_shared_cb, &ctx);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < ctx.nfound; i++) {
		const struct rule *r = &ctx.found[i];

		if (rule_is_from(r, o->pref_from) || !rule_owned(&ctx, r))
			del[n++] = r;
	}
	ret = rules_batch(nl, del, n, false, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] && errs[i] != -ENOENT)
			return errs[i];
		if (!errs[i]) {
			(*removed)++;
			log_msg(LOG_NOTICE, "removed leftover rule of a previous run: %s",
				rule_str(del[i], buf, sizeof(buf)));
		}
		/* Its `to` rule's guard, unless another `to` rule needs it. */
		if (del[i]->pref == o->pref_to && del[i]->dst_len && o->pref_to > 0) {
			struct rule g = *del[i];

			g.pref = o->pref_to - 1;
			g.table = RT_TABLE_MAIN;
			g.has_suppress = true;
			g.suppress = g.dst_len;
			guard_release(nl, &g);
		}
	}
	return 0;
}
