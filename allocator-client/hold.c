/* hold: a per-address daemon's table routes through the uplink engine. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "hold.h"
#include "log.h"

#define PASS_DELAY_MS	100	/* let an `ip route flush` or a link flap settle */
#define RESYNC_MS	200

/* Only our interface and family are looked at; every other address on it
 * (a secondary one, another run's) is someone else's. */
static bool cb_manage(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	struct hold *h = e->owner;

	(void)pol;
	return family == h->family && !strcmp(ifname, h->ifname);
}

static bool cb_new(struct engine *e, struct uplink *u)
{
	struct hold *h = e->owner;

	if (h->u || u->ifindex != h->ifindex ||
	    memcmp(u->key.addr.bytes, h->addr.bytes, addr_len(h->family)))
		return false;
	h->u = u;
	u->owner = h;
	u->given = &h->given;
	engine_set_table(e, u, h->table);
	return true;
}

static void cb_gone(struct engine *e, struct uplink *u)
{
	struct hold *h = e->owner;

	if (h->u == u)
		h->u = NULL;
	u->owner = NULL;
}

static const struct engine_ops hold_ops = {
	.manage = cb_manage,
	.uplink_new = cb_new,
	.uplink_gone = cb_gone,
};

/* The hook's routes as the engine installs them: through our interface,
 * on-link when no gateway; gateways onlink, since a DHCP server's
 * classless routes may name one outside the prefix (RFC 3442).  IPv6
 * stores metric 0 as 1024, so that is what we ask for. */
static int given_build(struct hold *h, const struct route_arg *r, size_t n)
{
	memcpy(h->args, r, n * sizeof(*r));
	h->nargs = n;
	h->given.n = 0;
	for (size_t i = 0; i < n; i++) {
		struct kroute k = {
			.family = (uint8_t)h->family,
			.dst = r[i].dst,
			.dst_len = r[i].dst_len,
			.oif = h->ifindex,
			.metric = r[i].metric,
			.type = RTN_UNICAST,
			.proto = RTPROT_RTALLOC,
			.scope = r[i].has_gw || h->family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		};

		if (r[i].has_gw) {
			k.gw = r[i].gw;
			k.onlink = true;
		}
		if (h->family == AF_INET6 && !k.metric)
			k.metric = 1024;
		if (kroute_set_add(&h->given, &k) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The kernel drops, before queueing, every event the engine would not act
 * on here (nlfilter), as watch.c does for the rules: with 1,000 daemons
 * on a host, a route or address added elsewhere wakes none of them.
 * Routes-only, with the hook's routes given, the engine looks at our
 * link (up, down, gone), our address (DAD done, gone) and the routes of
 * our tables: the lease's, the one it moved from until dropped, and those
 * it still has to empty; of our family only.  The set is recomputed after
 * each change and the filter replaced at once when it differs (events
 * queued before were judged by the broader or the older one, never lost
 * to a gap).  A filter that cannot be attached costs wake-ups only. */
static void table_add(struct nlfilter *f, uint32_t t)
{
	if (!t || f->n_tables > NLFILTER_TABLES)
		return;		/* none, or every table already */
	for (size_t i = 0; i < f->n_tables; i++)
		if (f->table[i] == t)
			return;
	if (f->n_tables < NLFILTER_TABLES)
		f->table[f->n_tables] = t;
	f->n_tables++;	/* above the max: every table (nlfilter.h) */
}

/* Only the tables change; the rest is compared for the first filter. */
static bool filter_same(const struct nlfilter *a, const struct nlfilter *b)
{
	if (a->family != b->family || a->ifindex != b->ifindex ||
	    memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) ||
	    a->n_tables != b->n_tables)
		return false;
	if (a->n_tables > NLFILTER_TABLES)
		return true;	/* both every table, whatever the first few */
	for (size_t i = 0; i < a->n_tables; i++)
		if (a->table[i] != b->table[i])
			return false;
	return true;
}

static void hold_filter(struct hold *h)
{
	struct nlfilter f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.family = h->family;
	f.ifindex = h->ifindex;
	f.have_addr = true;
	f.addr = h->addr;
	f.link_new = true;
	f.addr_new = true;
	f.routes = true;
	table_add(&f, h->table);
	table_add(&f, h->moved_from);
	for (size_t i = 0; i < h->e.nstale; i++)
		if (h->e.stale[i].family == h->family)
			table_add(&f, h->e.stale[i].table);
	if (h->filtered && filter_same(&f, &h->filter))
		return;
	ret = nlfilter_attach(kernel_fd(h->k), &f);
	if (ret < 0) {
		int zero = 0;

		/* Not the old one either: it may drop the new table's events. */
		setsockopt(kernel_fd(h->k), SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
		h->filtered = false;
		if (!h->filter_warned)
			log_msg(LOG_WARNING, "netlink event filter of the routes: %s (every event is read)",
				strerror(-ret));
		h->filter_warned = true;
		return;
	}
	h->filter = f;
	h->filtered = true;
}

static void pass_now(struct hold *h)
{
	int ret;

	/* A table new to us (a move) is in the filter before we fill it;
	 * one the pass emptied leaves it after. */
	hold_filter(h);
	engine_read_events(&h->e);
	h->last_pass_ms = loop_now_ms();
	ret = engine_pass(&h->e, h->last_pass_ms);
	if (ret < 0)
		log_msg(LOG_ERR, "routes of table %u: %s", h->table, strerror(-ret));
	hold_filter(h);
	if (!h->loop)
		return;
	h->pass_for_due = false;
	if (h->e.resync || ret < 0) {
		loop_timer_set(&h->pass_timer, RESYNC_MS);
	} else if (h->e.next_due_ms) {
		loop_timer_set(&h->pass_timer, h->e.next_due_ms > h->last_pass_ms ?
					       h->e.next_due_ms - h->last_pass_ms : 1);
		h->pass_for_due = true;
	}
}

/* Closed: on false, and no fd to leave alone. */
static void hold_zero(struct hold *h)
{
	memset(h, 0, sizeof(*h));
	h->kh.fd = h->pass_timer.h.fd = -1;
}

int hold_open(struct hold *h, const struct cli_opts *o, int ifindex, uint32_t table)
{
	/* Links, our family's addresses and routes: no rules (the engine
	 * leaves them to rules.c), no other family. */
	const unsigned groups[] = {
		RTNLGRP_LINK,
		o->family == AF_INET ? RTNLGRP_IPV4_IFADDR : RTNLGRP_IPV6_IFADDR,
		o->family == AF_INET ? RTNLGRP_IPV4_ROUTE : RTNLGRP_IPV6_ROUTE,
	};
	struct kernel *k = NULL;
	int ret;

	if (o->n_routes) {
		ret = kernel_netlink_open_groups(&k, 0, groups, sizeof(groups) / sizeof(groups[0]));
		if (ret < 0) {
			hold_zero(h);
			return ret;
		}
	}
	return hold_open_on(h, k, o, ifindex, table);
}

int hold_open_on(struct hold *h, struct kernel *k, const struct cli_opts *o, int ifindex, uint32_t table)
{
	/* The engine over our uplink only: our link, our address's entries
	 * and the tables we hold, not the whole host (1,000 daemons would
	 * each read every link, address and route).  No rules: rules.c keeps
	 * them (routes_only).  Not main's routes: ours are the hook's
	 * (given).  No prefix: rules.c follows it; only rules would use it.
	 * Not early: routes wait for DAD (the kernel refuses a tentative
	 * source). */
	struct engine_scope scope = {
		.family = (uint8_t)o->family,
		.ifindex = ifindex,
		.addr = o->addr,
	};
	int ret;

	hold_zero(h);
	if (!o->n_routes) {
		kernel_close(k);
		return 0;
	}
	h->k = k;
	h->family = o->family;
	h->addr = o->addr;
	h->ifindex = ifindex;
	snprintf(h->ifname, sizeof(h->ifname), "%s", o->ifname);
	h->table = table;
	ret = given_build(h, o->routes, o->n_routes);
	if (ret < 0) {
		kroute_set_free(&h->given);
		kernel_close(k);
		hold_zero(h);
		return ret;
	}
	engine_init(&h->e, h->k, &hold_ops, h, o->tag);
	h->e.routes_only = true;
	engine_set_scope(&h->e, &scope);
	h->on = true;
	/* Before the dump: what it misses comes through this filter. */
	hold_filter(h);
	ret = engine_load(&h->e);
	if (ret < 0)
		goto cleanup;
	pass_now(h);
	if (!h->u)
		log_msg(LOG_WARNING, "table %u: the address is not usable yet (IPv6 DAD?): routes follow",
			table);
	return 0;
cleanup:
	hold_close(h);
	return ret;
}

static void pass_due(struct loop_timer *t)
{
	pass_now(container_of(t, struct hold, pass_timer));
}

static void kernel_ready(struct loop_fd *fd, uint32_t events)
{
	struct hold *h = container_of(fd, struct hold, kh);
	int ret;

	(void)events;
	ret = engine_read_events(&h->e);
	if (ret < 0) {
		log_msg(LOG_ERR, "netlink events: %s", strerror(-ret));
		return;
	}
	/* A timer set for the engine's due time (a retry up to 30 s away)
	 * holds no event back; a burst's or a resync's does. */
	if (ret > 0 && (!h->pass_timer.armed || h->pass_for_due)) {
		loop_timer_set(&h->pass_timer, PASS_DELAY_MS);
		h->pass_for_due = false;
	}
}

int hold_start(struct hold *h, struct loop *l)
{
	int ret;

	if (!h->on)
		return 0;
	ret = loop_timer_init(l, &h->pass_timer, pass_due);
	if (ret < 0)
		return ret;
	h->loop = l;
	h->kh = (struct loop_fd){ .fd = kernel_fd(h->k), .events = EPOLLIN, .cb = kernel_ready };
	ret = loop_fd_add(l, &h->kh);
	if (ret < 0) {
		h->kh.fd = -1;
		return ret;
	}
	/* Events since hold_open() wait in the socket. */
	loop_timer_set(&h->pass_timer, 1);
	return 0;
}

int hold_set_routes(struct hold *h, const struct route_arg *r, size_t n)
{
	int ret;

	if (!h->on)
		return 0;
	if (n == h->nargs) {
		size_t i;

		for (i = 0; i < n && route_arg_equal(&r[i], &h->args[i]); i++)
			;
		if (i == n)
			return 0;	/* a renewal with the same routes */
	}
	ret = given_build(h, r, n);
	if (ret < 0)
		return ret;
	log_msg(LOG_INFO, "table %u: %zu route(s) from a later run", h->table, n);
	if (h->u)
		engine_set_given(&h->e, h->u, &h->given);
	pass_now(h);
	return 0;
}

size_t hold_msg(const struct hold *h, char *buf, size_t len)
{
	return route_arg_msg(h->args, h->on ? h->nargs : 0, buf, len);
}

void hold_move(struct hold *h, uint32_t table)
{
	uint32_t old = h->table;

	if (!h->on || table == old)
		return;
	h->table = table;
	h->moved_from = old;
	if (h->u) {
		engine_set_table(&h->e, h->u, table);
		engine_keep_table(&h->e, (uint8_t)h->family, old);
	}
	pass_now(h);
}

void hold_drop_table(struct hold *h, uint32_t table)
{
	if (!h->on || table == h->table)
		return;
	if (table == h->moved_from)
		h->moved_from = 0;	/* stale now, until emptied */
	engine_claim_table(&h->e, (uint8_t)h->family, table);
	pass_now(h);
}

void hold_close(struct hold *h)
{
	if (!h || !h->on)
		return;
	if (h->u)
		engine_set_table(&h->e, h->u, 0);
	else if (h->table)
		engine_claim_table(&h->e, (uint8_t)h->family, h->table);
	h->table = 0;
	engine_read_events(&h->e);
	engine_pass(&h->e, loop_now_ms());
	if (h->loop) {
		loop_timer_free(h->loop, &h->pass_timer);
		if (h->kh.fd >= 0)
			loop_fd_del(h->loop, &h->kh);
	}
	engine_free(&h->e);
	kernel_close(h->k);
	kroute_set_free(&h->given);
	memset(h, 0, sizeof(*h));
}
