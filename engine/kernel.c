/* kernel: the engine's seam over rtnetlink (libmnl, common/nl.c).  One
 * socket for requests and dumps, one subscribed to events; each message is
 * parsed here, once, into a kobj.h struct. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "kernel.h"
#include "log.h"
#include "nl.h"

/* Messages per sendmsg: the ACKs of one batch must fit the request
 * socket's receive buffer (an ACK costs the kernel ~1 KiB of it). */
#define KBATCH_MAX 64
#define KMSG_MAX 256

struct knl {
	struct kernel k;
	struct nl req;
	struct nl ev;
};

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

static bool rule_parse_msg(const struct nlmsghdr *nlh, struct krule *r)
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
	return true;
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
		return rule_parse_msg(nlh, &ev->rule);
	}
	return false;
}

/* Hands the message to cb as kevent(s): one, or one per nexthop. */
static void kevent_emit(const struct nlmsghdr *nlh, int type, kernel_cb cb, void *data)
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

/* ---- formatting ---- */

static void route_put(struct nlmsghdr *nlh, const struct kroute *r, bool add)
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
}

static void rule_put(struct nlmsghdr *nlh, const struct krule *r)
{
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
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

/* ---- the ops ---- */

struct dump_ctx {
	enum kobj_type type;
	kernel_cb cb;
	void *data;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;

	kevent_emit(nlh, (int)ctx->type, ctx->cb, ctx->data);
	return MNL_CB_OK;
}

static int knl_dump(struct kernel *k, enum kobj_type type, kernel_cb cb, void *data)
{
	struct knl *n = (struct knl *)k;
	static const uint8_t fams[] = { AF_INET, AF_INET6 };
	struct dump_ctx ctx = { .type = type, .cb = cb, .data = data };
	char buf[MNL_NLMSG_HDRLEN + 64];
	int ret = 0;

	for (size_t i = 0; i < (type == KOBJ_LINK ? 1u : 2u); i++) {
		struct nlmsghdr *nlh;
		int tries = 0;

		do {
			memset(buf, 0, sizeof(buf));
			nlh = mnl_nlmsg_put_header(buf);
			switch (type) {
			case KOBJ_LINK: {
				struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

				nlh->nlmsg_type = RTM_GETLINK;
				ifi->ifi_family = AF_UNSPEC;
				break;
			}
			case KOBJ_ADDR: {
				struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

				nlh->nlmsg_type = RTM_GETADDR;
				ifa->ifa_family = fams[i];
				break;
			}
			case KOBJ_ROUTE: {
				struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

				nlh->nlmsg_type = RTM_GETROUTE;
				rtm->rtm_family = fams[i];
				break;
			}
			case KOBJ_RULE: {
				struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

				nlh->nlmsg_type = RTM_GETRULE;
				frh->family = fams[i];
				break;
			}
			}
			/* An interrupted dump is repeated from the start; the
			 * callers' sets replace entries by key, so twice is fine. */
			ret = nl_dump(&n->req, nlh, dump_cb, &ctx);
		} while (ret == -EINTR && ++tries < 5);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Sends changes [0, n) (n <= KBATCH_MAX) in one sendmsg, waits for every
 * ACK.  errs as in kernel_ops.apply. */
static int knl_batch(struct knl *kn, const struct kchange *c, size_t n, int *errs)
{
	struct nl *nl = &kn->req;
	char *buf = NULL;
	uint32_t first = nl->seq + 1;
	size_t len = 0, acked = 0;
	bool seen[KBATCH_MAX] = { false };
	int ret = 0;

	buf = malloc(n * KMSG_MAX);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);
		bool route = c[i].type == KOBJ_ROUTE;

		nlh->nlmsg_seq = ++nl->seq;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		if (c[i].add) {
			nlh->nlmsg_type = route ? RTM_NEWROUTE : RTM_NEWRULE;
			nlh->nlmsg_flags |= NLM_F_CREATE;
			/* IPv4 keeps one route per key: replace it.  IPv6
			 * would replace a sibling; the engine deletes first. */
			if (route && c[i].route.family == AF_INET)
				nlh->nlmsg_flags |= NLM_F_REPLACE;
			else if (!route)
				nlh->nlmsg_flags |= NLM_F_EXCL;
		} else {
			nlh->nlmsg_type = route ? RTM_DELROUTE : RTM_DELRULE;
		}
		if (route)
			route_put(nlh, &c[i].route, c[i].add);
		else
			rule_put(nlh, &c[i].rule);
		len += MNL_ALIGN(nlh->nlmsg_len);
		errs[i] = 0;
	}
	/* What an earlier exchange that gave up left is not ours. */
	nl_drain(nl);
	if (mnl_socket_sendto(nl->sock, buf, len) < 0) {
		ret = -errno;
		goto cleanup;
	}
	while (acked < n) {
		ssize_t got = nl_recv(nl);
		const struct nlmsghdr *nlh;
		int left;

		if (got < 0) {
			ret = (int)got;
			goto cleanup;
		}
		left = (int)got;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			uint32_t i = nlh->nlmsg_seq - first;
			int err;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != nl->portid ||
			    i >= n || seen[i])
				continue;	/* a late ACK of an earlier exchange */
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				ret = -EBADMSG;
				goto cleanup;
			}
			e = mnl_nlmsg_get_payload(nlh);
			err = e->error;
			if (c[i].add && err == -EEXIST)
				err = 0;
			if (!c[i].add && (err == -ENOENT || err == -ESRCH))
				err = 0;
			errs[i] = err;
			seen[i] = true;
			acked++;
		}
	}
cleanup:
	free(buf);
	return ret;
}

static int knl_apply(struct kernel *k, const struct kchange *c, size_t n, int *errs)
{
	struct knl *kn = (struct knl *)k;

	for (size_t i = 0; i < n; i += KBATCH_MAX) {
		size_t m = n - i < KBATCH_MAX ? n - i : KBATCH_MAX;
		int ret = knl_batch(kn, c + i, m, errs + i);

		if (ret < 0)
			return ret;
	}
	return 0;
}

struct ev_ctx {
	kernel_cb cb;
	void *data;
};

static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *ctx = data;

	kevent_emit(nlh, -1, ctx->cb, ctx->data);
	return MNL_CB_OK;
}

static int knl_events(struct kernel *k, kernel_cb cb, void *data)
{
	struct knl *kn = (struct knl *)k;
	struct ev_ctx ctx = { .cb = cb, .data = data };
	int ret, count = 0;

	while ((ret = nl_events(&kn->ev, ev_cb, &ctx)) > 0)
		count++;
	return ret < 0 ? ret : count;
}

static int knl_fd(const struct kernel *k)
{
	return nl_fd(&((const struct knl *)k)->ev);
}

static void knl_close(struct kernel *k)
{
	struct knl *kn = (struct knl *)k;

	nl_close(&kn->req);
	nl_close(&kn->ev);
	free(kn);
}

static const struct kernel_ops knl_ops = {
	.dump = knl_dump,
	.apply = knl_apply,
	.events = knl_events,
	.fd = knl_fd,
	.close = knl_close,
};

int kernel_netlink_open(struct kernel **k, int ev_rcvbuf)
{
	static const unsigned groups[] = {
		RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	};

	return kernel_netlink_open_groups(k, ev_rcvbuf, groups, sizeof(groups) / sizeof(groups[0]));
}

int kernel_netlink_open_groups(struct kernel **k, int ev_rcvbuf, const unsigned *groups, size_t n)
{
	struct knl *kn = calloc(1, sizeof(*kn));
	int ret, size = 1 << 20;

	*k = NULL;
	if (!kn)
		return -ENOMEM;
	kn->k.ops = &knl_ops;
	/* Events first: nothing after this call is missed. */
	ret = n ? nl_open(&kn->ev, groups, n) : -EINVAL;
	if (ret < 0)
		goto cleanup;
	/* An agent adding rules for a thousand addresses hears each of them
	 * back: room for that burst (ENOBUFS still re-dumps). */
	size = ev_rcvbuf > 0 ? ev_rcvbuf : 8 << 20;
	if (setsockopt(nl_fd(&kn->ev), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(nl_fd(&kn->ev), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ret = nl_open(&kn->req, NULL, 0);
	if (ret < 0)
		goto cleanup;
	/* Room for a whole batch of ACKs. */
	size = 1 << 20;
	if (setsockopt(nl_fd(&kn->req), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(nl_fd(&kn->req), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*k = &kn->k;
	return 0;
cleanup:
	nl_close(&kn->ev);
	nl_close(&kn->req);
	free(kn);
	return ret;
}
