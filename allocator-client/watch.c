/* watch: address, link and rule events for one (family, ifindex, address). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "nlfilter.h"
#include "rules.h"
#include "watch.h"

/* The kernel drops, before queueing, every event this daemon would ignore
 * (nlfilter): with 1,000 daemons on a host, an address added elsewhere
 * wakes none of them instead of all.  The filter only ever narrows as the
 * daemon learns its interface and table, and each narrower one replaces
 * the last at once, so no event that matters falls between; events queued
 * before were judged by the broader one.  A filter that cannot be attached
 * costs wake-ups, not events: the daemon judges every event itself too. */
static void watch_filter(struct watch *w)
{
	struct nlfilter f = {
		.family = w->family,
		.ifindex = w->ifindex,
		.have_addr = true,
		.addr = w->addr,
		.rule_proto = RTPROT_RTALLOC,
		.rule_table = w->table,
	};
	int ret = nlfilter_attach(nl_fd(&w->nl), &f);

	if (ret < 0)
		log_msg(LOG_WARNING, "netlink event filter: %s (every event is read)", strerror(-ret));
}

int watch_open(struct watch *w, int family, const struct inet_addr *addr)
{
	const unsigned groups[] = {
		RTNLGRP_LINK,
		family == AF_INET ? RTNLGRP_IPV4_IFADDR : RTNLGRP_IPV6_IFADDR,
		family == AF_INET ? RTNLGRP_IPV4_RULE : RTNLGRP_IPV6_RULE,
	};

	const char *env = getenv("RTALLOC_TEST_NL_RCVBUF");
	int ret;

	memset(w, 0, sizeof(*w));
	w->h.fd = -1;
	w->family = family;
	w->addr = *addr;
	ret = nl_open(&w->nl, groups, sizeof(groups) / sizeof(groups[0]));
	/* Test only (tests/integration/client_overflow.sh): a tiny receive
	 * buffer so an event storm overflows it and the ENOBUFS re-dump runs.
	 * Never set it in production: events would be lost all the time. */
	if (ret == 0 && env) {
		char *end;
		unsigned long size = strtoul(env, &end, 10);

		if (*env && !*end && size > 0 && size <= (1 << 20)) {
			int sz = (int)size;

			setsockopt(nl_fd(&w->nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
			log_msg(LOG_WARNING, "RTALLOC_TEST_NL_RCVBUF: event buffer %d bytes (tests only)", sz);
		}
	}
	/* Until the interface is known: this family's, any interface's. */
	if (ret == 0)
		watch_filter(w);
	return ret;
}

void watch_set_ifindex(struct watch *w, int ifindex)
{
	w->ifindex = ifindex;
	watch_filter(w);
}

void watch_set_table(struct watch *w, uint32_t table)
{
	if (w->table == table)
		return;
	w->table = table;
	if (w->nl.sock)		/* an unspec lease watches nothing */
		watch_filter(w);
}

/* The address an ifaddrmsg is about: IFA_LOCAL for IPv4 (IFA_ADDRESS is the
 * peer on point-to-point links), IFA_ADDRESS for IPv6. */
static bool ifa_matches(const struct nlmsghdr *nlh, int family, int ifindex,
			const struct inet_addr *addr)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	const struct nlattr *use;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) || ifa->ifa_family != family ||
	    (int)ifa->ifa_index != ifindex)
		return false;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	use = local ? local : address;
	return use && mnl_attr_get_payload_len(use) == addr_len(family) &&
	       !memcmp(mnl_attr_get_payload(use), addr->bytes, addr_len(family));
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct watch *w = data;

	switch (nlh->nlmsg_type) {
	case RTM_DELADDR:
		/* One entry of the address: another one may be left (a new
		 * prefix), which only a dump tells. */
		if (ifa_matches(nlh, w->family, w->ifindex, &w->addr))
			w->cb(w, WATCH_ADDR_DELETED, "address deleted");
		break;
	case RTM_DELLINK: {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifi)) && ifi->ifi_index == w->ifindex)
			w->cb(w, WATCH_GONE, "interface deleted");
		break;
	}
	case RTM_DELRULE: {
		const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
		const struct nlattr *attr;

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)) || frh->family != w->family)
			break;
		mnl_attr_for_each(attr, nlh, sizeof(*frh))
			if (mnl_attr_get_type(attr) == FRA_PROTOCOL &&
			    mnl_attr_get_payload_len(attr) == 1 &&
			    mnl_attr_get_u8(attr) == RTPROT_RTALLOC)
				w->cb(w, WATCH_RULE_DELETED, "rule deleted");
		break;
	}
	}
	return MNL_CB_OK;
}

void watch_drain(struct watch *w)
{
	int ret;

	while ((ret = nl_events(&w->nl, event_cb, w)) > 0)
		;
	if (ret == -ENOBUFS)
		w->cb(w, WATCH_OVERFLOW, "netlink events lost (ENOBUFS)");
	else if (ret < 0)
		log_msg(LOG_WARNING, "netlink events: %s", strerror(-ret));
}

static void watch_ready(struct loop_fd *h, uint32_t events)
{
	(void)events;
	watch_drain(container_of(h, struct watch, h));
}

int watch_start(struct watch *w, struct loop *l, watch_cb cb)
{
	w->cb = cb;
	w->h.fd = nl_fd(&w->nl);
	w->h.events = EPOLLIN;
	w->h.cb = watch_ready;
	return loop_fd_add(l, &w->h);
}

void watch_close(struct watch *w, struct loop *l)
{
	if (!w || !w->nl.sock)
		return;
	if (l && w->h.fd >= 0)
		loop_fd_del(l, &w->h);
	nl_close(&w->nl);
	w->h.fd = -1;
}

struct present_ctx {
	int family, ifindex;
	const struct inet_addr *addr;
	bool found;
	uint8_t prefer, len;
};

static int present_cb(const struct nlmsghdr *nlh, void *data)
{
	struct present_ctx *ctx = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWADDR && ifa_matches(nlh, ctx->family, ctx->ifindex, ctx->addr)) {
		if (!ctx->found || ifa->ifa_prefixlen == ctx->prefer)
			ctx->len = ifa->ifa_prefixlen;
		ctx->found = true;
	}
	return MNL_CB_OK;
}

int watch_addr_find(struct nl *nl, int family, int ifindex, const struct inet_addr *addr,
		    uint8_t prefer, uint8_t *len)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifaddrmsg))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct present_ctx ctx = { .family = family, .ifindex = ifindex, .addr = addr, .prefer = prefer };
	struct ifaddrmsg *ifa;
	int ret, tries = 0, on = 1;
	bool strict;

	nlh->nlmsg_type = RTM_GETADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	/* Only the interface's addresses (a kernel >= 5.0 with strict
	 * checking filters the dump by ifa_index; an older one sends all,
	 * and present_cb picks).  Not the whole host's, at every start. */
	ifa->ifa_index = (uint32_t)ifindex;
	strict = setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) == 0;
	do {
		ctx.found = false;
		ret = nl_dump(nl, nlh, present_cb, &ctx);
	} while (ret == -EINTR && ++tries < 5);
	if (strict) {
		/* The socket's other dumps stay as their authors wrote them. */
		on = 0;
		setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
	}
	if (ret < 0)
		return ret;
	*len = ctx.len;
	return ctx.found;
}

int watch_addr_present(struct nl *nl, int family, int ifindex, const struct inet_addr *addr)
{
	uint8_t len;

	return watch_addr_find(nl, family, ifindex, addr, 0, &len);
}
