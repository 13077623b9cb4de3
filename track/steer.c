/* steer: unbound traffic's rules and balance route, reconciled via netlink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "rules.h"
#include "steer.h"

bool steer_owns(uint32_t pref, uint8_t proto)
{
	return proto == RTPROT_RTALLOC && pref >= STEER_PREF_MAIN && pref <= STEER_PREF_FORWARD;
}

void steer_build(struct steer_set *s, int family, uint32_t table, const char (*fwd)[IFNAMSIZ],
		 size_t nfwd)
{
	struct steer_rule *r;

	memset(s, 0, sizeof(*s));
	s->family = family;
	if (!table)
		return;
	r = &s->r[s->n++];
	r->pref = STEER_PREF_MAIN;
	r->table = RT_TABLE_MAIN;
	r->suppress = true;
	r = &s->r[s->n++];
	r->pref = STEER_PREF_LOCAL;
	r->table = table;
	snprintf(r->iif, sizeof(r->iif), "lo");
	for (size_t i = 0; i < nfwd && s->n < STEER_RULES_MAX; i++) {
		r = &s->r[s->n++];
		r->pref = STEER_PREF_FORWARD;
		r->table = table;
		snprintf(r->iif, sizeof(r->iif), "%s", fwd[i]);
	}
}

static bool steer_equal(const struct steer_rule *a, const struct steer_rule *b)
{
	return a->pref == b->pref && a->table == b->table && a->suppress == b->suppress &&
	       !strcmp(a->iif, b->iif);
}

static const char *steer_str(const struct steer_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "pref %u%s%s lookup %u%s", r->pref, r->iif[0] ? " iif " : "", r->iif,
		 r->table, r->suppress ? " suppress_prefixlength 0" : "");
	return buf;
}

struct have_ctx {
	struct steer_set have;
	bool overflow;
	int family;
};

static int have_cb(const struct nlmsghdr *nlh, void *data)
{
	struct have_ctx *c = data;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct steer_rule r = { 0 };
	uint8_t proto = 0;
	bool pref_seen = false;

	if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)) ||
	    frh->family != c->family)
		return MNL_CB_OK;
	r.table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case FRA_TABLE:
			if (plen == 4)
				r.table = mnl_attr_get_u32(attr);
			break;
		case FRA_PRIORITY:
			if (plen == 4) {
				r.pref = mnl_attr_get_u32(attr);
				pref_seen = true;
			}
			break;
		case FRA_PROTOCOL:
			if (plen == 1)
				proto = mnl_attr_get_u8(attr);
			break;
		case FRA_IIFNAME:
			snprintf(r.iif, sizeof(r.iif), "%.*s", (int)plen, (const char *)mnl_attr_get_payload(attr));
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			if (plen == 4 && mnl_attr_get_u32(attr) == 0)
				r.suppress = true;
			break;
		default:
			break;
		}
	}
	if (!pref_seen || !steer_owns(r.pref, proto))
		return MNL_CB_OK;
	if (c->have.n >= STEER_RULES_MAX) {
		c->overflow = true;
		return MNL_CB_OK;
	}
	c->have.r[c->have.n++] = r;
	return MNL_CB_OK;
}

static void rule_msg(struct nl *nl, struct nl_batch *b, int family, const struct steer_rule *r, bool add)
{
	struct nlmsghdr *nlh = nl_batch_add(nl, b, add ? RTM_NEWRULE : RTM_DELRULE,
					    add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(struct fib_rule_hdr));
	struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);

	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->pref);
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, RTPROT_RTALLOC);
	if (r->iif[0])
		mnl_attr_put_strz(nlh, FRA_IIFNAME, r->iif);
	if (r->suppress)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	nl_batch_commit(b, nlh);
}

/* Sends rules (add or delete) in batches; -EEXIST on add and -ENOENT on
 * delete are what we wanted anyway. */
static int rules_send(struct nl *nl, int family, const struct steer_rule *const *rs, size_t n,
		      bool add, unsigned *changed)
{
	char buf[128];

	for (size_t off = 0; off < n; off += NL_BATCH_MAX) {
		struct nl_batch b = { .len = 0 };
		int errs[NL_BATCH_MAX] = { 0 };
		size_t m = n - off;
		int ret;

		if (m > NL_BATCH_MAX)
			m = NL_BATCH_MAX;
		for (size_t i = 0; i < m; i++)
			rule_msg(nl, &b, family, rs[off + i], add);
		ret = nl_batch_run(nl, &b, errs);
		if (ret < 0)
			return ret;
		for (size_t i = 0; i < m; i++) {
			if (errs[i] == (add ? -EEXIST : -ENOENT))
				continue;
			if (errs[i] < 0) {
				log_msg(LOG_ERR, "cannot %s rule %s: %s", add ? "add" : "delete",
					steer_str(rs[off + i], buf, sizeof(buf)), strerror(-errs[i]));
				return errs[i];
			}
			(*changed)++;
		}
	}
	return 0;
}

int steer_apply(struct nl *nl, const struct steer_set *want, unsigned *changed)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct fib_rule_hdr))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	struct have_ctx c;
	const struct steer_rule *add[STEER_RULES_MAX], *del[STEER_RULES_MAX];
	size_t nadd = 0, ndel = 0;
	int ret, tries = 0;

	*changed = 0;
	nlh->nlmsg_type = RTM_GETRULE;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)want->family;
	do {
		memset(&c, 0, sizeof(c));
		c.family = want->family;
		ret = nl_dump(nl, nlh, have_cb, &c);
	} while (ret == -EINTR && ++tries < 5);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < want->n; i++) {
		bool found = false;

		for (size_t j = 0; j < c.have.n && !found; j++)
			found = steer_equal(&want->r[i], &c.have.r[j]);
		if (!found)
			add[nadd++] = &want->r[i];
	}
	for (size_t j = 0; j < c.have.n; j++) {
		bool found = false;

		for (size_t i = 0; i < want->n && !found; i++)
			found = steer_equal(&want->r[i], &c.have.r[j]);
		if (!found)
			del[ndel++] = &c.have.r[j];
	}
	ret = rules_send(nl, want->family, add, nadd, true, changed);
	if (ret < 0)
		return ret;
	ret = rules_send(nl, want->family, del, ndel, false, changed);
	if (ret < 0)
		return ret;
	/* More of ours than fit in one set (someone added copies): another
	 * pass deletes the rest. */
	if (c.overflow)
		return steer_apply(nl, want, changed);
	return 0;
}

struct nlmsghdr *steer_route_msg(struct nl *nl, struct nl_batch *b, int family, uint32_t table, bool add)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_batch_add(nl, b, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
			   sizeof(*rtm));
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_RTALLOC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

int steer_route(struct nl *nl, int family, uint32_t table, const struct steer_hop *hops, size_t n)
{
	uint16_t alen = (uint16_t)addr_len(family);
	struct nl_batch b = { .len = 0 };
	int errs[1] = { 0 };
	struct nlmsghdr *nlh = steer_route_msg(nl, &b, family, table, n > 0);
	int ret;

	if (n == 1) {
		if (hops[0].has_gw)
			mnl_attr_put(nlh, RTA_GATEWAY, alen, hops[0].gw.bytes);
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)hops[0].ifindex);
	} else if (n > 1) {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (size_t i = 0; i < n; i++) {
			struct rtnexthop *rtnh = (struct rtnexthop *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
			size_t start = nlh->nlmsg_len;

			nlh->nlmsg_len += MNL_ALIGN(sizeof(*rtnh));
			memset(rtnh, 0, sizeof(*rtnh));
			rtnh->rtnh_ifindex = hops[i].ifindex;
			rtnh->rtnh_hops = (unsigned char)(hops[i].weight - 1);
			if (hops[i].has_gw)
				mnl_attr_put(nlh, RTA_GATEWAY, alen, hops[i].gw.bytes);
			rtnh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	nl_batch_commit(&b, nlh);
	ret = nl_batch_run(nl, &b, errs);
	if (ret < 0)
		return ret;
	if (!n && errs[0] == -ESRCH)
		return 0;
	return errs[0];
}
