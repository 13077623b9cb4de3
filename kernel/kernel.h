/* kernel: the engine's one seam to the kernel (netifd's system.h).  Dumps
 * and events hand over typed objects (kobj.h), parsed once; changes go in
 * batches, every one ACKed.  kernel.c is the netlink implementation,
 * kernel_fake.c an in-memory twin for unit tests that need no root. */
#ifndef RTALLOC_KERNEL_H
#define RTALLOC_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kobj.h"

enum kobj_type {
	KOBJ_LINK,
	KOBJ_ADDR,
	KOBJ_ROUTE,
	KOBJ_RULE,
	KOBJ_NEXTHOP,	/* a nexthop object: changed (kchange), never dumped nor an event */
};

/* One object from a dump or an event; del: it is gone (RTM_DEL*). */
struct kevent {
	enum kobj_type type;
	bool del;
	union {
		struct klink link;
		struct kaddr addr;
		struct kroute route;
		struct krule rule;
	};
	/* A route with RTA_MULTIPATH comes as one event per nexthop: route
	 * is that nexthop's own route (route.multipath set; oif, gw and
	 * onlink of the nexthop), nh_first set on the first.  A new
	 * multipath route is the whole route: nexthops of it that were
	 * known before and are not among its events are gone. */
	bool nh_first;
};

typedef void (*kernel_cb)(const struct kevent *ev, void *data);

/* One change to make: add (or replace) or delete a route, a rule or a
 * nexthop object. */
struct kchange {
	enum kobj_type type;		/* KOBJ_ROUTE, KOBJ_RULE or KOBJ_NEXTHOP */
	bool add;
	union {
		struct kroute route;	/* route.nh_id: through a nexthop object */
		struct krule rule;
		/* Added: creates or replaces the object of its id (a group
		 * keeps its routes); deleted: only its id counts, and it
		 * leaves every group, a group left empty goes, and so do the
		 * routes through what went.  nh.group is the caller's. */
		struct knhobj nh;
	};
	/* A route written whole (rtalloc-track's balance route): added, it
	 * replaces whatever route of its key (table, dst, metric) was there,
	 * IPv6 too and multipath included, and carries the nmp nexthops mp[]
	 * (RTA_MULTIPATH; route's oif and gw unset) when nmp > 1; deleted
	 * bare (no oif, no gw), it takes every nexthop of it.  Without whole,
	 * an IPv6 add adds a sibling (the engine deletes first). */
	bool whole;
	const struct knexthop *mp;
	size_t nmp;
};

/* What a dump asks the kernel for; a NULL filter is everything.  family:
 * AF_INET/AF_INET6, or AF_UNSPEC for both (links have none).  ifindex
 * (links: that one link; addresses, routes: their device) and table
 * (routes), 0 for any, are filtered by the kernel itself: a link by an
 * RTM_GETLINK of its index, addresses and routes with strict checking
 * (NETLINK_GET_STRICT_CHK, Linux >= 5.0; an older kernel sends everything
 * and the dump drops the rest, so callers see the same either way).  The
 * kernel cannot filter rule dumps: rules go by family only. */
struct kfilter {
	int family;
	int ifindex;
	uint32_t table;
};

/* Does f (NULL: everything) let ev through?  What the kernel filters,
 * for a kernel that sends more (no strict checking) and for the fake. */
static inline bool kfilter_match(const struct kfilter *f, const struct kevent *ev)
{
	if (!f)
		return true;
	switch (ev->type) {
	case KOBJ_LINK:
		return !f->ifindex || ev->link.ifindex == f->ifindex;
	case KOBJ_ADDR:
		return (!f->family || ev->addr.family == f->family) &&
		       (!f->ifindex || ev->addr.ifindex == f->ifindex);
	case KOBJ_ROUTE:
		return (!f->family || ev->route.family == f->family) &&
		       (!f->ifindex || ev->route.oif == f->ifindex) && (!f->table || ev->route.table == f->table);
	case KOBJ_RULE:
		return !f->family || ev->rule.family == f->family;
	case KOBJ_NEXTHOP:	/* never dumped */
		break;
	}
	return false;
}

struct kernel;

struct kernel_ops {
	/* Every object of type that f lets through (NULL: all of both
	 * families), through cb.  0 or -errno. */
	int (*dump)(struct kernel *k, enum kobj_type type, const struct kfilter *f, kernel_cb cb,
		    void *data);
	/* Makes the n changes in as few round trips as it can; errs[i] is
	 * 0 or -errno for change i.  Adding what exists counts as done,
	 * deleting what is gone too.  Returns 0, or -errno when the exchange
	 * itself failed (errs then mean nothing). */
	int (*apply)(struct kernel *k, const struct kchange *c, size_t n, int *errs);
	/* Reads every pending event through cb: the number read, or -ENOBUFS
	 * when the kernel dropped some (re-dump everything), or -errno. */
	int (*events)(struct kernel *k, kernel_cb cb, void *data);
	/* The fd that becomes readable when events wait; -1 for none. */
	int (*fd)(const struct kernel *k);
	void (*close)(struct kernel *k);
};

struct kernel {
	const struct kernel_ops *ops;
};

/* The real kernel: a request socket and an event socket subscribed to
 * links, addresses, routes and rules of both families.  ev_rcvbuf: the
 * event socket's receive buffer in bytes (0: 8 MiB; tests force ENOBUFS
 * with a small one).  0 or -errno. */
int kernel_netlink_open(struct kernel **k, int ev_rcvbuf);
/* The same, its event socket subscribed to the n rtnetlink multicast
 * groups (RTNLGRP_*) only: an owner that needs fewer events is not woken
 * for the others (n 0: no event socket at all, kernel_fd() -1, for an
 * owner that only dumps and changes, such as rtalloc-track's steering).  Its kernel_fd() is that event socket, which carries
 * events only (dumps and changes go on the other socket, one message per
 * datagram): a socket filter attached to it (SO_ATTACH_FILTER) judges
 * every event, e.g. kernel/nlfilter.h's. */
int kernel_netlink_open_groups(struct kernel **k, int ev_rcvbuf, const unsigned *groups, size_t n);
/* An empty in-memory kernel (kernel_fake.h adds the test controls). */
int kernel_fake_open(struct kernel **k);

static inline int kernel_dump(struct kernel *k, enum kobj_type t, const struct kfilter *f, kernel_cb cb,
			      void *data)
{
	return k->ops->dump(k, t, f, cb, data);
}
static inline int kernel_apply(struct kernel *k, const struct kchange *c, size_t n, int *errs)
{
	return k->ops->apply(k, c, n, errs);
}
static inline int kernel_events(struct kernel *k, kernel_cb cb, void *data)
{
	return k->ops->events(k, cb, data);
}
static inline int kernel_fd(const struct kernel *k)
{
	return k->ops->fd(k);
}
static inline void kernel_close(struct kernel *k)
{
	if (k)
		k->ops->close(k);
}

#endif
