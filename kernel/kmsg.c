/* kmsg: every rtnetlink message rtalloc builds or reads, in one place:
 * links, addresses, routes and policy rules parsed into their kobj.h
 * types, and routes and rules written from them.  kernel.c sends and
 * receives them; programs that keep a socket of their own (rtalloc's
 * per-address run, rtalloc-track, rtallocd's lost-state check) build and
 * parse through here too, so a field of a rule is added in one place. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include "kmsg.h"

/* ---- parsing: one message, one typed struct ---- */

static void copy_addr(struct inet_addr *a, uint8_t family, const struct nlattr *attr)
{
	size_t len = addr_len(family);

	if (mnl_attr_get_payload_len(attr) != len)
		return;
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, mnl_attr_get_payload(attr), len);
}

static bool link_parse(const struct nlmsghdr *nlh, struct klink *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return false;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(attr) == IFLA_IFNAME)
			snprintf(l->name, sizeof(l->name), "%.*s", (int)mnl_attr_get_payload_len(attr),
				 (const char *)mnl_attr_get_payload(attr));
	return l->ifindex > 0;
}

static bool addr_parse_msg(const struct nlmsghdr *nlh, struct kaddr *a)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return false;
	memset(a, 0, sizeof(*a));
	a->family = ifa->ifa_family;
	a->ifindex = (int)ifa->ifa_index;
	a->prefixlen = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(attr)) {
		case IFA_LOCAL:
			local = attr;
			break;
		case IFA_ADDRESS:
			address = attr;
			break;
		case IFA_FLAGS:
			if (mnl_attr_get_payload_len(attr) == 4)
				a->flags = mnl_attr_get_u32(attr);
			break;
		}
	}
	/* IFA_ADDRESS is the peer on point-to-point IPv4 links. */
	if (local)
		copy_addr(&a->addr, a->family, local);
	else if (address)
		copy_addr(&a->addr, a->family, address);
	return a->addr.family != 0;
}

/* The route of the message; *mp: its RTA_MULTIPATH, NULL when none. */
static bool route_parse(const struct nlmsghdr *nlh, struct kroute *r, const struct nlattr **mp)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	*mp = NULL;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return false;
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->table = rtm->rtm_table;
	r->type = rtm->rtm_type;
	r->proto = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	r->cloned = rtm->rtm_flags & RTM_F_CLONED;
	r->dst.family = r->family;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case RTA_TABLE:
			if (plen == 4)
				r->table = mnl_attr_get_u32(attr);
			break;
		case RTA_DST:
			copy_addr(&r->dst, r->family, attr);
			break;
		case RTA_GATEWAY:
			copy_addr(&r->gw, r->family, attr);
			break;
		case RTA_PREFSRC:
			copy_addr(&r->src, r->family, attr);
			break;
		case RTA_OIF:
			if (plen == 4)
				r->oif = (int)mnl_attr_get_u32(attr);
			break;
		case RTA_PRIORITY:
			if (plen == 4)
				r->metric = mnl_attr_get_u32(attr);
			break;
		case RTA_MULTIPATH:
			r->multipath = true;
			*mp = attr;
			break;
		}
	}
	r->dst.family = r->family;
	if (r->dst_len > addr_len(r->family) * 8)
		return false;
	addr_mask(&r->dst, r->dst_len);
	return true;
}

/* Calls cb once per nexthop of the RTA_MULTIPATH route ev->route: each a
 * route of its own, through the nexthop's device and gateway, with its
 * flags (kernel.h).  A nexthop that is not a plain gateway on a device
 * (RTA_VIA, RTA_ENCAP...) is not a route rtalloc can copy: left out. */
static void nexthops_emit(struct kevent *ev, const struct nlattr *mp, kernel_cb cb, void *data)
{
	const struct kroute base = ev->route;
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	int left = mnl_attr_get_payload_len(mp);
	bool first = true;

	while (RTNH_OK(nh, left)) {
		const struct nlattr *attrs = (const void *)((const char *)nh + RTNH_LENGTH(0));
		size_t attrs_len = nh->rtnh_len - RTNH_LENGTH(0);
		const struct nlattr *attr;
		bool plain = nh->rtnh_ifindex > 0;

		ev->route = base;
		ev->route.oif = nh->rtnh_ifindex;
		ev->route.onlink = nh->rtnh_flags & RTNH_F_ONLINK;
		memset(&ev->route.gw, 0, sizeof(ev->route.gw));
		mnl_attr_for_each_payload(attrs, attrs_len) {
			uint16_t type = mnl_attr_get_type(attr);

			if (type == RTA_GATEWAY)
				copy_addr(&ev->route.gw, base.family, attr);
			else if (type == RTA_VIA || type == RTA_ENCAP || type == RTA_ENCAP_TYPE)
				plain = false;
		}
		if (plain) {
			ev->nh_first = first;
			first = false;
			cb(ev, data);
		}
		left -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
}

bool krule_parse(const struct nlmsghdr *nlh, struct krule *r)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)) ||
	    (frh->family != AF_INET && frh->family != AF_INET6))
		return false;
	memset(r, 0, sizeof(*r));
	r->family = frh->family;
	r->src_len = frh->src_len;
	r->dst_len = frh->dst_len;
	r->table = frh->table;
	r->unreachable = frh->action == FR_ACT_UNREACHABLE;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
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
			copy_addr(&r->src, r->family, attr);
			break;
		case FRA_DST:
			copy_addr(&r->dst, r->family, attr);
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
	if (r->unreachable)
		r->table = 0;
	/* A fwmark without a mask: the kernel's default, the whole mark. */
	if (r->has_fwmark && !r->fwmask)
		r->fwmask = 0xffffffffu;
	return true;
}

bool krule_parse_ours(const struct nlmsghdr *nlh, struct krule *r)
{
	return nlh->nlmsg_type == RTM_NEWRULE && krule_parse(nlh, r) && r->proto == RTPROT_RTALLOC;
}

/* Any rtnetlink message we follow -> kevent.  false for the rest.  *mp:
 * the RTA_MULTIPATH of a route, to be split by kevent_emit. */
static bool kevent_parse(const struct nlmsghdr *nlh, struct kevent *ev, const struct nlattr **mp)
{
	*mp = NULL;
	memset(ev, 0, sizeof(*ev));
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		ev->type = KOBJ_LINK;
		ev->del = nlh->nlmsg_type == RTM_DELLINK;
		return link_parse(nlh, &ev->link);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ev->type = KOBJ_ADDR;
		ev->del = nlh->nlmsg_type == RTM_DELADDR;
		return addr_parse_msg(nlh, &ev->addr);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		ev->type = KOBJ_ROUTE;
		ev->del = nlh->nlmsg_type == RTM_DELROUTE;
		return route_parse(nlh, &ev->route, mp);
	case RTM_NEWRULE:
	case RTM_DELRULE:
		ev->type = KOBJ_RULE;
		ev->del = nlh->nlmsg_type == RTM_DELRULE;
		return krule_parse(nlh, &ev->rule);
	}
	return false;
}

void kmsg_emit(const struct nlmsghdr *nlh, int type, kernel_cb cb, void *data)
{
	const struct nlattr *mp;
	struct kevent ev;

	if (!kevent_parse(nlh, &ev, &mp) || (type >= 0 && (int)ev.type != type))
		return;
	if (mp)
		nexthops_emit(&ev, mp, cb, data);
	else
		cb(&ev, data);
}

/* ---- building: one typed struct, one message ---- */

void kroute_put(struct nlmsghdr *nlh, const struct kroute *r, bool add)
{
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t alen = addr_len(r->family);

	rtm->rtm_family = r->family;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->proto;
	rtm->rtm_scope = add ? r->scope : RT_SCOPE_NOWHERE;
	rtm->rtm_type = r->type;
	rtm->rtm_flags = r->onlink ? RTNH_F_ONLINK : 0;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->dst_len)
		mnl_attr_put(nlh, RTA_DST, alen, r->dst.bytes);
	if (r->gw.family)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, r->gw.bytes);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (r->src.family)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, r->src.bytes);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	if (add && r->nh_id)
		mnl_attr_put_u32(nlh, RTA_NH_ID, r->nh_id);
}

void kroute_put_multipath(struct nlmsghdr *nlh, const struct kroute *r, const struct knexthop *nh,
			  size_t n)
{
	size_t alen = addr_len(r->family);
	struct nlattr *mp;

	kroute_put(nlh, r, true);
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (size_t i = 0; i < n; i++) {
		struct rtnexthop *rtnh = (struct rtnexthop *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
		size_t start = nlh->nlmsg_len;

		nlh->nlmsg_len += MNL_ALIGN(sizeof(*rtnh));
		memset(rtnh, 0, sizeof(*rtnh));
		rtnh->rtnh_ifindex = nh[i].ifindex;
		rtnh->rtnh_hops = (unsigned char)(nh[i].weight - 1);
		if (nh[i].gw.family)
			mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[i].gw.bytes);
		rtnh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
	}
	mnl_attr_nest_end(nlh, mp);
}

void krule_put(struct nlmsghdr *nlh, const struct krule *r)
{
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	size_t alen = addr_len(r->family);

	frh->family = r->family;
	frh->action = r->unreachable ? FR_ACT_UNREACHABLE : FR_ACT_TO_TBL;
	frh->src_len = r->src_len;
	frh->dst_len = r->dst_len;
	/* rtm_table is 8 bits: larger tables only fit in FRA_TABLE.  An
	 * unreachable rule has no table. */
	frh->table = r->table < 256 && !r->unreachable ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (!r->unreachable)
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

void kroute_put_nhobj(struct nlmsghdr *nlh, const struct kroute *r, uint32_t id)
{
	struct kroute through = *r;

	through.nh_id = id;
	kroute_put(nlh, &through, true);
}

void kmsg_change_head(struct nlmsghdr *nlh, enum kobj_type type, bool add, bool replace)
{
	bool route = type == KOBJ_ROUTE;

	if (type == KOBJ_NEXTHOP) {
		/* An object added replaces the one of its id. */
		nlh->nlmsg_type = add ? RTM_NEWNEXTHOP : RTM_DELNEXTHOP;
		if (add)
			nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
		return;
	}
	if (!add) {
		nlh->nlmsg_type = route ? RTM_DELROUTE : RTM_DELRULE;
		return;
	}
	nlh->nlmsg_type = route ? RTM_NEWROUTE : RTM_NEWRULE;
	nlh->nlmsg_flags |= NLM_F_CREATE;
	if (!route)
		nlh->nlmsg_flags |= NLM_F_EXCL;
	else if (replace)
		nlh->nlmsg_flags |= NLM_F_REPLACE;
}

/* USER_HZ: the unit of a resilient group's timers. */
#define KNH_CLOCK_HZ 100

void knhobj_put(struct nlmsghdr *nlh, const struct knhobj *o, bool add)
{
	struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	struct nexthop_grp grp[256];
	struct nlattr *res;
	size_t n = o->ngroup < 256 ? o->ngroup : 256;

	mnl_attr_put_u32(nlh, NHA_ID, o->id);
	/* A delete's header must be bare. */
	if (!add)
		return;
	nhm->nh_family = o->ngroup ? AF_UNSPEC : o->family;
	nhm->nh_protocol = o->proto;
	if (!o->ngroup) {
		mnl_attr_put_u32(nlh, NHA_OIF, (uint32_t)o->oif);
		if (o->gw.family)
			mnl_attr_put(nlh, NHA_GATEWAY, addr_len(o->family), o->gw.bytes);
		return;
	}
	memset(grp, 0, sizeof(grp));
	for (size_t i = 0; i < n; i++) {
		grp[i].id = o->group[i].id;
		grp[i].weight = (uint8_t)((o->group[i].weight ? o->group[i].weight : 1) - 1);
	}
	mnl_attr_put(nlh, NHA_GROUP, n * sizeof(grp[0]), grp);
	if (!o->buckets)
		return;
	mnl_attr_put_u16(nlh, NHA_GROUP_TYPE, NEXTHOP_GRP_TYPE_RES);
	res = mnl_attr_nest_start(nlh, NHA_RES_GROUP);
	mnl_attr_put_u16(nlh, NHA_RES_GROUP_BUCKETS, o->buckets);
	mnl_attr_put_u32(nlh, NHA_RES_GROUP_IDLE_TIMER, o->idle_s * KNH_CLOCK_HZ);
	mnl_attr_nest_end(nlh, res);
}

bool knhobj_parse(const struct nlmsghdr *nlh, struct knhobj *o, struct knhmember *m, size_t max)
{
	const struct nhmsg *nhm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *in;
	bool have_id = false;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nhm)))
		return false;
	memset(o, 0, sizeof(*o));
	o->family = nhm->nh_family;
	o->proto = nhm->nh_protocol;
	o->group = m;
	mnl_attr_for_each(attr, nlh, sizeof(*nhm)) {
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case NHA_ID:
			if (plen == 4) {
				o->id = mnl_attr_get_u32(attr);
				have_id = true;
			}
			break;
		case NHA_OIF:
			if (plen == 4)
				o->oif = (int)mnl_attr_get_u32(attr);
			break;
		case NHA_GATEWAY:
			copy_addr(&o->gw, o->family, attr);
			break;
		case NHA_GROUP: {
			const struct nexthop_grp *g = mnl_attr_get_payload(attr);

			for (size_t i = 0; i < plen / sizeof(*g) && o->ngroup < max; i++)
				m[o->ngroup++] = (struct knhmember){ .id = g[i].id, .weight = g[i].weight + 1u };
			break;
		}
		case NHA_RES_GROUP:
			mnl_attr_for_each_nested(in, attr) {
				if (mnl_attr_get_type(in) == NHA_RES_GROUP_BUCKETS &&
				    mnl_attr_get_payload_len(in) == 2)
					o->buckets = mnl_attr_get_u16(in);
				else if (mnl_attr_get_type(in) == NHA_RES_GROUP_IDLE_TIMER &&
					 mnl_attr_get_payload_len(in) == 4)
					o->idle_s = mnl_attr_get_u32(in) / KNH_CLOCK_HZ;
			}
			break;
		}
	}
	return have_id;
}

bool kneigh_parse(const struct nlmsghdr *nlh, struct kneigh *n)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nd)) ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6))
		return false;
	memset(n, 0, sizeof(*n));
	n->family = nd->ndm_family;
	n->ifindex = nd->ndm_ifindex;
	n->state = nd->ndm_state;
	n->flags = nd->ndm_flags;
	n->del = nlh->nlmsg_type == RTM_DELNEIGH;
	mnl_attr_for_each(attr, nlh, sizeof(*nd))
		if (mnl_attr_get_type(attr) == NDA_DST)
			copy_addr(&n->addr, n->family, attr);
	return n->addr.family != 0;
}

void kneigh_dump_put(struct nlmsghdr *nlh, int family)
{
	struct ndmsg *nd;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)family;
}

bool kuseropt_parse(const struct nlmsghdr *nlh, struct kuseropt *u)
{
	const struct nduseroptmsg *m = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWNDUSEROPT || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    m->nduseropt_family != AF_INET6 ||
	    NLMSG_LENGTH(sizeof(*m) + m->nduseropt_opts_len) > nlh->nlmsg_len)
		return false;
	u->ifindex = m->nduseropt_ifindex;
	u->opt = (const uint8_t *)(m + 1);
	u->len = m->nduseropt_opts_len;
	return true;
}

/* RFC 8106's option type (glibc's icmp6.h has none). */
#define KND_OPT_RDNSS 25

void knd_rdnss_each(const uint8_t *opt, size_t len,
		    void (*cb)(const struct inet_addr *a, uint32_t life_s, void *data), void *data)
{
	const uint8_t *end = opt + len;

	while (end - opt >= 8) {
		size_t olen = (size_t)opt[1] * 8;
		uint32_t life;

		if (!olen || olen > (size_t)(end - opt))
			break;
		if (opt[0] == KND_OPT_RDNSS && olen >= 24) {
			memcpy(&life, opt + 4, 4);
			life = ntohl(life);
			for (size_t off = 8; off + 16 <= olen; off += 16) {
				struct inet_addr a = { .family = AF_INET6 };

				memcpy(a.bytes, opt + off, 16);
				cb(&a, life, data);
			}
		}
		opt += olen;
	}
}

int krules_send(struct nl *nl, const struct krule *const *r, size_t n, bool add, int *errs)
{
	for (size_t off = 0; off < n; off += NL_BATCH_MAX) {
		struct nl_batch b = { .len = 0 };
		size_t m = n - off;
		int ret;

		if (m > NL_BATCH_MAX)
			m = NL_BATCH_MAX;
		for (size_t i = 0; i < m; i++) {
			struct nlmsghdr *nlh = nl_batch_add(nl, &b, 0, 0, 0);

			if (!nlh)
				return -E2BIG;
			kmsg_change_head(nlh, KOBJ_RULE, add, false);
			krule_put(nlh, r[off + i]);
			nl_batch_commit(&b, nlh);
		}
		ret = nl_batch_run(nl, &b, errs + off);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- dumps ---- */

struct dump_ctx {
	enum kobj_type type;
	const struct kfilter *f;
	kernel_cb cb;
	void *data;
};

/* The filter, applied again to what a kernel without strict checking
 * sends. */
static void dump_one(const struct kevent *ev, void *data)
{
	const struct dump_ctx *ctx = data;

	if (kfilter_match(ctx->f, ev))
		ctx->cb(ev, ctx->data);
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;

	kmsg_emit(nlh, (int)ctx->type, dump_one, ctx);
	return MNL_CB_OK;
}

bool kmsg_dump_put(struct nlmsghdr *nlh, enum kobj_type type, const struct kfilter *f)
{
	uint8_t family = (uint8_t)f->family;
	bool strict = false;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	switch (type) {
	case KOBJ_LINK: {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		nlh->nlmsg_type = RTM_GETLINK;
		ifi->ifi_family = family;
		/* One link: asked by its index, not a dump of them all. */
		if (f->ifindex) {
			ifi->ifi_index = f->ifindex;
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		}
		break;
	}
	case KOBJ_ADDR: {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		nlh->nlmsg_type = RTM_GETADDR;
		ifa->ifa_family = family;
		ifa->ifa_index = (uint32_t)f->ifindex;
		strict = f->ifindex != 0;
		break;
	}
	case KOBJ_ROUTE: {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		nlh->nlmsg_type = RTM_GETROUTE;
		rtm->rtm_family = family;
		if (f->table)
			mnl_attr_put_u32(nlh, RTA_TABLE, f->table);
		if (f->ifindex)
			mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)f->ifindex);
		strict = f->table || f->ifindex;
		break;
	}
	case KOBJ_RULE: {
		struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

		nlh->nlmsg_type = RTM_GETRULE;
		frh->family = family;
		break;
	}
	case KOBJ_NEXTHOP:	/* changed only: kmsg_dump refuses it */
		break;
	}
	return strict;
}

int kmsg_dump(struct nl *nl, enum kobj_type type, const struct kfilter *f, kernel_cb cb, void *data)
{
	struct dump_ctx ctx = { .type = type, .f = f, .cb = cb, .data = data };
	char buf[MNL_NLMSG_HDRLEN + 64];
	struct nlmsghdr *nlh;
	bool strict;
	int ret, on = 1;

	if (type == KOBJ_NEXTHOP)
		return -EOPNOTSUPP;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	strict = kmsg_dump_put(nlh, type, f);
	/* Strict checking only for the dump that asks for it: the socket's
	 * other requests stay as they were. */
	if (strict)
		strict = setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) == 0;
	if (nlh->nlmsg_flags & NLM_F_DUMP)
		ret = nl_dump(nl, nlh, dump_cb, &ctx);
	else
		ret = nl_request(nl, nlh, dump_cb, &ctx);
	/* A table, or a link, the kernel does not have: nothing in it. */
	if ((ret == -ENOENT && type == KOBJ_ROUTE && f->table) || (ret == -ENODEV && type == KOBJ_LINK && f->ifindex))
		ret = 0;
	if (strict) {
		on = 0;
		setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
	}
	return ret;
}

int kmsg_dump_stable(struct nl *nl, enum kobj_type type, const struct kfilter *f, kernel_cb cb, void *data,
		     void (*restart)(void *data))
{
	int ret, tries = 0;

	while ((ret = kmsg_dump(nl, type, f, cb, data)) == -EINTR && ++tries < 5)
		if (restart)
			restart(data);
	return ret;
}
