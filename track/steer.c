/* steer: unbound traffic's rules and balance route, reconciled via netlink. */
#include <errno.h>
#include <stdio.h>
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
	struct steer_set have;
	bool overflow;
	int family;
};

static void have_cb(const struct kevent *ev, void *data)
{
	struct have_ctx *c = data;

	if (!kevent_rule_ours(ev) || ev->rule.family != c->family || !krule_is_track(&ev->rule))
		return;
	if (c->have.n >= STEER_RULES_MAX) {
		c->overflow = true;
		return;
	}
	c->have.r[c->have.n++] = ev->rule;
}

/* Sends rules (add or delete); -EEXIST on add and -ENOENT on delete are
 * what we wanted anyway. */
static int rules_send(struct nl *nl, const struct krule *const *rs, size_t n,
		      bool add, unsigned *changed)
{
	int errs[STEER_RULES_MAX] = { 0 };
	char buf[128];
	int ret = krules_send(nl, rs, n, add, errs);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] == (add ? -EEXIST : -ENOENT))
			continue;
		if (errs[i] < 0) {
			log_msg(LOG_ERR, "cannot %s rule %s: %s", add ? "add" : "delete",
				krule_str(rs[i], buf, sizeof(buf)), strerror(-errs[i]));
			return errs[i];
		}
		(*changed)++;
	}
	return 0;
}

int steer_apply(struct nl *nl, const struct steer_set *want, unsigned *changed)
{
	struct kfilter f = { .family = want->family };
	struct have_ctx c;
	const struct krule *add[STEER_RULES_MAX], *del[STEER_RULES_MAX];
	size_t nadd = 0, ndel = 0;
	int ret, tries = 0;

	*changed = 0;
	do {
		memset(&c, 0, sizeof(c));
		c.family = want->family;
		ret = kmsg_dump(nl, KOBJ_RULE, &f, have_cb, &c);
	} while (ret == -EINTR && ++tries < 5);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < want->n; i++) {
		bool found = false;

		for (size_t j = 0; j < c.have.n && !found; j++)
			found = krule_equal(&want->r[i], &c.have.r[j]);
		if (!found)
			add[nadd++] = &want->r[i];
	}
	for (size_t j = 0; j < c.have.n; j++) {
		bool found = false;

		for (size_t i = 0; i < want->n && !found; i++)
			found = krule_equal(&want->r[i], &c.have.r[j]);
		if (!found)
			del[ndel++] = &c.have.r[j];
	}
	ret = rules_send(nl, add, nadd, true, changed);
	if (ret < 0)
		return ret;
	ret = rules_send(nl, del, ndel, false, changed);
	if (ret < 0)
		return ret;
	/* More of ours than fit in one set (someone added copies): another
	 * pass deletes the rest. */
	if (c.overflow)
		return steer_apply(nl, want, changed);
	return 0;
}

int steer_route(struct nl *nl, int family, uint32_t table, const struct steer_hop *hops, size_t n)
{
	struct kroute r = {
		.family = (uint8_t)family,
		.table = table,
		.proto = RTPROT_RTALLOC,
		.scope = RT_SCOPE_UNIVERSE,
		.type = RTN_UNICAST,
	};
	struct knexthop nh[STEER_HOPS_MAX];
	struct nl_batch b = { .len = 0 };
	int errs[1] = { 0 };
	struct nlmsghdr *nlh;
	int ret;

	if (n > STEER_HOPS_MAX)
		return -E2BIG;
	nlh = nl_batch_add(nl, &b, n ? RTM_NEWROUTE : RTM_DELROUTE, n ? NLM_F_CREATE | NLM_F_REPLACE : 0, 0);
	if (n == 1) {
		r.oif = hops[0].ifindex;
		if (hops[0].has_gw) {
			r.gw = hops[0].gw;
			r.gw.family = (uint8_t)family;
		}
	}
	if (n > 1) {
		for (size_t i = 0; i < n; i++) {
			memset(&nh[i], 0, sizeof(nh[i]));
			nh[i].ifindex = hops[i].ifindex;
			nh[i].weight = hops[i].weight;
			if (hops[i].has_gw) {
				nh[i].gw = hops[i].gw;
				nh[i].gw.family = (uint8_t)family;
			}
		}
		kroute_put_multipath(nlh, &r, nh, n);
	} else {
		/* Deleting (n 0): scope NOWHERE matches the route whatever its scope. */
		kroute_put(nlh, &r, n != 0);
	}
	nl_batch_commit(&b, nlh);
	ret = nl_batch_run(nl, &b, errs);
	if (ret < 0)
		return ret;
	if (!n && errs[0] == -ESRCH)
		return 0;
	return errs[0];
}
