/* watch: address, link and rule events for one (family, ifindex, address). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "kmsg.h"
#include "log.h"
#include "nlfilter.h"
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
		.n_tables = w->table ? 1 : 0,	/* 0: every table */
		.table = { w->table },
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

/* An entry of addr on ifindex (kmsg: IFA_LOCAL for IPv4, whose
 * IFA_ADDRESS is the peer on point-to-point links; IFA_ADDRESS for IPv6). */
static bool addr_matches(const struct kaddr *a, int family, int ifindex, const struct inet_addr *addr)
{
	return a->family == family && a->ifindex == ifindex &&
	       !memcmp(a->addr.bytes, addr->bytes, addr_len(family));
}

static void event_one(const struct kevent *ev, void *data)
{
	struct watch *w = data;

	if (!ev->del)
		return;
	switch (ev->type) {
	case KOBJ_ADDR:
		/* One entry of the address: another one may be left (a new
		 * prefix), which only a dump tells. */
		if (addr_matches(&ev->addr, w->family, w->ifindex, &w->addr))
			w->cb(w, WATCH_ADDR_DELETED, "address deleted");
		break;
	case KOBJ_LINK:
		if (ev->link.ifindex == w->ifindex)
			w->cb(w, WATCH_GONE, "interface deleted");
		break;
	case KOBJ_RULE:
		if (ev->rule.family == w->family && ev->rule.proto == RTPROT_RTALLOC)
			w->cb(w, WATCH_RULE_DELETED, "rule deleted");
		break;
	case KOBJ_ROUTE:
	case KOBJ_NEXTHOP:
		break;
	}
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	kmsg_emit(nlh, -1, event_one, data);
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

static void present_cb(const struct kevent *ev, void *data)
{
	struct present_ctx *ctx = data;

	if (!ev->del && addr_matches(&ev->addr, ctx->family, ctx->ifindex, ctx->addr)) {
		if (!ctx->found || ev->addr.prefixlen == ctx->prefer)
			ctx->len = ev->addr.prefixlen;
		ctx->found = true;
	}
}

/* An interrupted dump: the address is looked for again from scratch. */
static void present_restart(void *data)
{
	((struct present_ctx *)data)->found = false;
}

int watch_addr_find(struct nl *nl, int family, int ifindex, const struct inet_addr *addr,
		    uint8_t prefer, uint8_t *len)
{
	struct present_ctx ctx = { .family = family, .ifindex = ifindex, .addr = addr, .prefer = prefer };
	/* Only the interface's addresses, not the whole host's, at every start. */
	struct kfilter f = { .family = family, .ifindex = ifindex };
	int ret = kmsg_dump_stable(nl, KOBJ_ADDR, &f, present_cb, &ctx, present_restart);

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
