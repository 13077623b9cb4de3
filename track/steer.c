/* steer: unbound traffic's rules and balance route, through the kernel seam. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "log.h"
#include "kmsg.h"
#include "steer.h"

bool steer_owns(uint32_t pref, uint8_t proto)
{
	struct krule r = { .pref = pref, .proto = proto };

	return krule_is_track(&r);
}

static struct krule *steer_add(struct steer_set *s, uint32_t pref, uint32_t table)
{
	struct krule *r = &s->r[s->n++];

	r->family = (uint8_t)s->family;
	r->pref = pref;
	r->table = table;
	r->proto = RTPROT_RTALLOC;
	return r;
}

void steer_build(struct steer_set *s, int family, uint32_t table, const char (*fwd)[IFNAMSIZ],
		 size_t nfwd)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	if (!table)
		return;
	/* suppress_prefixlength 0 (suppress stays 0) */
	steer_add(s, STEER_PREF_MAIN, RT_TABLE_MAIN)->has_suppress = true;
	snprintf(steer_add(s, STEER_PREF_LOCAL, table)->iif, IFNAMSIZ, "lo");
	for (size_t i = 0; i < nfwd && s->n < STEER_RULES_MAX; i++)
		snprintf(steer_add(s, STEER_PREF_FORWARD, table)->iif, IFNAMSIZ, "%s", fwd[i]);
}

struct have_ctx {
	int family;
	struct krule_set have;		/* ours in the kernel */
	int err;
};

static void have_cb(const struct kevent *ev, void *data)
{
	struct have_ctx *c = data;

	if (!kevent_rule_ours(ev) || ev->rule.family != c->family || !krule_is_track(&ev->rule) ||
	    c->err)
		return;
	/* A dump repeated after a change may list a rule twice: deleting
	 * it twice is harmless (gone counts as deleted). */
	c->err = krule_set_add(&c->have, &ev->rule);
}

int steer_apply(struct kernel *k, const struct steer_set *want, unsigned *changed)
{
	struct have_ctx c = { .family = want->family };
	struct kchange *ch = NULL;
	int *errs = NULL;
	size_t n;
	char buf[128];
	int ret;

	*changed = 0;
	ret = kernel_dump(k, KOBJ_RULE, NULL, have_cb, &c);
	if (ret == 0)
		ret = c.err;
	if (ret < 0)
		goto cleanup;
	ch = calloc(want->n + c.have.n + 1, sizeof(*ch));
	errs = calloc(want->n + c.have.n + 1, sizeof(*errs));
	if (!ch || !errs) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* The missing ones first, then (only when they are in) the others
	 * go: never a moment without a rule for unbound traffic. */
	for (int pass = 0; pass < 2 && ret == 0; pass++) {
		n = 0;
		if (pass == 0) {
			for (size_t i = 0; i < want->n; i++)
				if (!krule_in(&want->r[i], c.have.v, c.have.n))
					ch[n++] = (struct kchange){ .type = KOBJ_RULE, .add = true,
								    .rule = want->r[i] };
		} else {
			for (size_t j = 0; j < c.have.n; j++)
				if (!krule_in(&c.have.v[j], want->r, want->n))
					ch[n++] = (struct kchange){ .type = KOBJ_RULE, .add = false,
								    .rule = c.have.v[j] };
		}
		ret = n ? kernel_apply(k, ch, n, errs) : 0;
		for (size_t i = 0; ret == 0 && i < n; i++) {
			if (errs[i] < 0) {
				log_msg(LOG_ERR, "cannot %s rule %s: %s", ch[i].add ? "add" : "delete",
					krule_str(&ch[i].rule, buf, sizeof(buf)), strerror(-errs[i]));
				ret = errs[i];
			} else {
				(*changed)++;
			}
		}
	}
cleanup:
	free(ch);
	free(errs);
	krule_set_free(&c.have);
	return ret;
}

void steer_route_build(int family, uint32_t table, const struct steer_hop *hops, size_t n,
		       struct kroute *r, struct knexthop *nh)
{
	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)family;
	r->table = table;
	r->proto = RTPROT_RTALLOC;
	r->scope = RT_SCOPE_UNIVERSE;
	r->type = RTN_UNICAST;
	if (n == 1) {
		r->oif = hops[0].ifindex;
		if (hops[0].has_gw) {
			r->gw = hops[0].gw;
			r->gw.family = (uint8_t)family;
		}
	}
	for (size_t i = 0; n > 1 && i < n; i++) {
		memset(&nh[i], 0, sizeof(nh[i]));
		nh[i].ifindex = hops[i].ifindex;
		nh[i].weight = hops[i].weight;
		if (hops[i].has_gw) {
			nh[i].gw = hops[i].gw;
			nh[i].gw.family = (uint8_t)family;
		}
	}
}

int steer_route(struct kernel *k, int family, uint32_t table, const struct steer_hop *hops, size_t n)
{
	struct knexthop nh[STEER_HOPS_MAX];
	struct kchange c = { .type = KOBJ_ROUTE, .add = n != 0, .whole = true, .mp = nh };
	int errs[1] = { 0 };
	int ret;

	if (n > STEER_HOPS_MAX)
		return -E2BIG;
	/* Deleting (n 0): the bare route, whatever its nexthops. */
	steer_route_build(family, table, hops, n, &c.route, nh);
	c.nmp = n > 1 ? n : 0;
	ret = kernel_apply(k, &c, 1, errs);
	return ret < 0 ? ret : errs[0];
}
