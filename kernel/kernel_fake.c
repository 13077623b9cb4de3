/* kernel_fake: an in-memory kernel behind kernel.h, for unit tests. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "kernel_fake.h"

#define FAKE_LINKS 64
#define FAKE_NH_MEMBERS 256

/* A nexthop object, its group's members its own (m: o.group is set only
 * when handed out, the array moves). */
struct fnh {
	struct knhobj o;
	struct knhmember m[FAKE_NH_MEMBERS];
};

struct kfake {
	struct kernel k;
	struct klink links[FAKE_LINKS];
	size_t nlinks;
	struct kaddr *addrs;
	size_t naddrs, capaddrs;
	struct krule_set rules;
	struct kroute_set routes;
	struct fnh *nhs;
	size_t nnhs, capnhs;
	struct kevent *queue;
	size_t nq, capq;
	bool overflow;
	int fail_err, fail_del_err;
	unsigned fail_n, fail_del_n;
	unsigned long changes;
	unsigned long dumped[KOBJ_NEXTHOP + 1];
};

static struct kfake *kf(const struct kernel *k)
{
	return (struct kfake *)(void *)(uintptr_t)k;
}

static void queue(struct kfake *f, const struct kevent *ev)
{
	if (kobj_grow((void **)&f->queue, &f->capq, f->nq, sizeof(*f->queue)) < 0) {
		f->overflow = true;	/* as the kernel would: lost */
		return;
	}
	f->queue[f->nq++] = *ev;
}

static struct klink *find_link(struct kfake *f, int ifindex)
{
	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].ifindex == ifindex)
			return &f->links[i];
	return NULL;
}

/* Can something go out through link ifindex: 0, -ENODEV (none) or
 * -ENETDOWN (down), as the kernel answers a route or nexthop through it. */
static int link_ready(struct kfake *f, int ifindex)
{
	const struct klink *l = find_link(f, ifindex);

	return !l ? -ENODEV : !l->up ? -ENETDOWN : 0;
}

static void route_event(struct kfake *f, const struct kroute *r, bool del)
{
	struct kevent ev = { .type = KOBJ_ROUTE, .del = del, .route = *r };

	queue(f, &ev);
}

static struct fnh *nh_find(struct kfake *f, uint32_t id)
{
	for (size_t i = 0; i < f->nnhs; i++)
		if (f->nhs[i].o.id == id)
			return &f->nhs[i];
	return NULL;
}

/* Object id goes, as in the kernel: the routes through it, and it leaves
 * every group; a group left empty goes too.  -ENOENT when there is none. */
static int nh_remove(struct kfake *f, uint32_t id)
{
	struct fnh *o = nh_find(f, id);

	if (!o)
		return -ENOENT;
	*o = f->nhs[--f->nnhs];
	for (size_t i = 0; i < f->routes.n;) {
		if (f->routes.v[i].nh_id == id) {
			route_event(f, &f->routes.v[i], true);
			kroute_set_del_at(&f->routes, i);
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < f->nnhs; i++) {
		struct fnh *g = &f->nhs[i];
		size_t kept = 0;

		if (!g->o.ngroup)
			continue;
		for (size_t j = 0; j < g->o.ngroup; j++)
			if (g->m[j].id != id)
				g->m[kept++] = g->m[j];
		g->o.ngroup = kept;
		if (!kept) {
			nh_remove(f, g->o.id);
			i = (size_t)-1;	/* the array moved: again from the start */
		}
	}
	return 0;
}

/* Adds nexthop object o or replaces the one of its id.  A group names
 * existing objects that are no groups; a device must be there and up; an
 * object does not turn from a device into a group or back. */
static int nh_add(struct kfake *f, const struct knhobj *o)
{
	struct fnh *old = nh_find(f, o->id);

	if (!o->id || o->ngroup > FAKE_NH_MEMBERS || (old && !old->o.ngroup != !o->ngroup))
		return -EINVAL;
	if (o->ngroup) {
		for (size_t i = 0; i < o->ngroup; i++) {
			struct fnh *m = nh_find(f, o->group[i].id);

			if (!m || m->o.ngroup || o->group[i].id == o->id)
				return -EINVAL;
		}
	} else {
		int ret = link_ready(f, o->oif);

		if (ret < 0)
			return ret;
	}
	if (!old) {
		if (kobj_grow((void **)&f->nhs, &f->capnhs, f->nnhs, sizeof(*f->nhs)) < 0)
			return -ENOMEM;
		old = &f->nhs[f->nnhs++];
	}
	old->o = *o;
	old->o.group = old->m;
	for (size_t i = 0; i < o->ngroup; i++)
		old->m[i] = o->group[i];
	return 1;
}

/* The kernel drops routes through a link that goes down (IPv4 silently);
 * a nexthop of a multipath route stays, dead until the link is back.
 * Nexthop objects through it go (and leave their groups). */
static void flush_oif(struct kfake *f, int ifindex)
{
	for (size_t i = 0; i < f->nnhs;) {
		if (!f->nhs[i].o.ngroup && f->nhs[i].o.oif == ifindex) {
			nh_remove(f, f->nhs[i].o.id);
			i = 0;
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < f->routes.n;) {
		if (f->routes.v[i].oif == ifindex && !f->routes.v[i].multipath) {
			if (f->routes.v[i].family == AF_INET6)
				route_event(f, &f->routes.v[i], true);
			kroute_set_del_at(&f->routes, i);
		} else {
			i++;
		}
	}
}

int kfake_link(struct kernel *k, int ifindex, const char *name, bool up)
{
	struct kfake *f = kf(k);
	struct klink *l = find_link(f, ifindex);
	struct kevent ev = { .type = KOBJ_LINK };

	if (!l) {
		if (f->nlinks == FAKE_LINKS)
			return -ENOSPC;
		l = &f->links[f->nlinks++];
	}
	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->up = up;
	if (!up)
		flush_oif(f, ifindex);
	ev.link = *l;
	queue(f, &ev);
	return 0;
}

int kfake_link_del(struct kernel *k, int ifindex)
{
	struct kfake *f = kf(k);
	struct klink *l = find_link(f, ifindex);
	struct kevent ev = { .type = KOBJ_LINK, .del = true };

	if (!l)
		return -ENODEV;
	flush_oif(f, ifindex);
	for (size_t i = 0; i < f->naddrs;) {
		if (f->addrs[i].ifindex == ifindex) {
			struct kevent a = { .type = KOBJ_ADDR, .del = true, .addr = f->addrs[i] };

			queue(f, &a);
			f->addrs[i] = f->addrs[--f->naddrs];
		} else {
			i++;
		}
	}
	ev.link = *l;
	*l = f->links[--f->nlinks];
	queue(f, &ev);
	return 0;
}

int kfake_addr(struct kernel *k, const struct kaddr *a, bool del)
{
	struct kfake *f = kf(k);
	struct kevent ev = { .type = KOBJ_ADDR, .del = del, .addr = *a };
	size_t i;

	for (i = 0; i < f->naddrs && !kaddr_same(&f->addrs[i], a); i++)
		;
	if (del) {
		if (i == f->naddrs)
			return -EADDRNOTAVAIL;
		f->addrs[i] = f->addrs[--f->naddrs];
	} else if (i < f->naddrs) {
		f->addrs[i] = *a;
	} else {
		if (kobj_grow((void **)&f->addrs, &f->capaddrs, f->naddrs, sizeof(*f->addrs)) < 0)
			return -ENOMEM;
		f->addrs[f->naddrs++] = *a;
	}
	queue(f, &ev);
	return 0;
}

/* One nexthop of a multipath route, or another route. */
static bool same_nexthop(const struct kroute *a, const struct kroute *b)
{
	return kroute_same_key(a, b) && a->multipath == b->multipath &&
	       (!a->multipath || (a->oif == b->oif && a->gw.family == b->gw.family &&
				  !memcmp(a->gw.bytes, b->gw.bytes, sizeof(a->gw.bytes))));
}

/* Does single-path IPv4 route a answer delete request r as the kernel's
 * fib_table_delete() has it: a's key (table, dst; tos is never set) and
 * every field r gives (metric, type, protocol, prefsrc, device,
 * gateway) equal, a field r does not give matching anything (a scope is
 * never compared: kroute_put() asks a deletion's as RT_SCOPE_NOWHERE).
 * A route through a nexthop object answers a request that names no
 * device nor gateway. */
static bool del4_match(const struct kroute *a, const struct kroute *r)
{
	if (a->family != AF_INET || a->multipath || a->table != r->table || a->dst_len != r->dst_len ||
	    memcmp(a->dst.bytes, r->dst.bytes, 4))
		return false;
	if ((r->metric && a->metric != r->metric) || (r->type && a->type != r->type) ||
	    (r->proto && a->proto != r->proto) ||
	    (r->src.family && (!a->src.family || memcmp(a->src.bytes, r->src.bytes, 4))))
		return false;
	if (a->nh_id)
		return !r->oif && !r->gw.family;
	return (!r->oif || a->oif == r->oif) &&
	       (!r->gw.family || (a->gw.family == r->gw.family && !memcmp(a->gw.bytes, r->gw.bytes, 4)));
}

/* The route delete request r takes: IPv4's single path as del4_match(),
 * the one of the lowest metric first (the kernel's order); else the one
 * of its key (a multipath route's: its nexthop).  f->routes.n: none. */
static size_t del_find(const struct kfake *f, const struct kroute *r)
{
	size_t best = f->routes.n;

	if (r->family != AF_INET || r->multipath) {
		for (best = 0; best < f->routes.n && !same_nexthop(&f->routes.v[best], r); best++)
			;
		return best;
	}
	for (size_t i = 0; i < f->routes.n; i++)
		if (del4_match(&f->routes.v[i], r) &&
		    (best == f->routes.n || f->routes.v[i].metric < f->routes.v[best].metric))
			best = i;
	return best;
}

static int route_change(struct kfake *f, const struct kroute *r, bool del)
{
	size_t i;

	if (del) {
		i = del_find(f, r);
		if (i == f->routes.n)
			return -ESRCH;
		route_event(f, &f->routes.v[i], true);
		kroute_set_del_at(&f->routes, i);
		return 1;
	}
	for (i = 0; i < f->routes.n && !same_nexthop(&f->routes.v[i], r); i++)
		;
	if (r->nh_id && !nh_find(f, r->nh_id))
		return -EINVAL;
	if (r->oif) {
		int ret = link_ready(f, r->oif);

		if (ret < 0)
			return ret;
	}
	if (i < f->routes.n) {
		if (kroute_equal(&f->routes.v[i], r))
			return 0;
		f->routes.v[i] = *r;
	} else if (kroute_set_add(&f->routes, r) < 0) {
		return -ENOMEM;
	}
	route_event(f, r, false);
	return 1;
}

/* Does a have b's destination (table, dst, metric), whatever its nexthops? */
static bool same_dest(const struct kroute *a, const struct kroute *b)
{
	/* dst is zeroed past dst_len (kobj.h). */
	return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
	       a->metric == b->metric && !memcmp(a->dst.bytes, b->dst.bytes, addr_len(a->family));
}

/* A route written whole (kchange.whole): added, it takes the place of
 * every route of its destination, through its device, its nexthop object
 * or (nmp > 1) its nexthops mp[]; deleted, every route of its destination
 * goes (the kernel's bare delete). */
static int route_whole(struct kfake *f, const struct kchange *c)
{
	const struct kroute *r = &c->route;
	bool mp = c->nmp > 1 && !r->nh_id;
	bool gone = false;

	if (c->add) {
		if (r->nh_id && !nh_find(f, r->nh_id))
			return -EINVAL;
		int ret = 0;

		for (size_t i = 0; i < (mp ? c->nmp : 0) && ret == 0; i++)
			ret = link_ready(f, c->mp[i].ifindex);
		if (!mp && !r->nh_id && r->oif)
			ret = link_ready(f, r->oif);
		if (ret < 0)
			return ret;
	}
	/* Replaced: the old one goes without a word, as in the kernel. */
	for (size_t i = 0; i < f->routes.n;) {
		if (same_dest(&f->routes.v[i], r)) {
			if (!c->add)
				route_event(f, &f->routes.v[i], true);
			kroute_set_del_at(&f->routes, i);
			gone = true;
		} else {
			i++;
		}
	}
	if (!c->add)
		return gone ? 1 : -ESRCH;
	for (size_t i = 0; i < (mp ? c->nmp : 1); i++) {
		struct kevent ev = { .type = KOBJ_ROUTE, .route = *r, .nh_first = mp && i == 0 };

		if (mp) {
			ev.route.multipath = true;
			ev.route.oif = c->mp[i].ifindex;
			ev.route.gw = c->mp[i].gw;
		}
		if (kroute_set_add(&f->routes, &ev.route) < 0)
			return -ENOMEM;
		queue(f, &ev);
	}
	return 1;
}

static int rule_change(struct kfake *f, const struct krule *r, bool del)
{
	struct kevent ev = { .type = KOBJ_RULE, .del = del, .rule = *r };
	size_t i;

	for (i = 0; i < f->rules.n && !krule_equal(&f->rules.v[i], r); i++)
		;
	if (del) {
		if (i == f->rules.n)
			return -ENOENT;
		krule_set_del_at(&f->rules, i);
	} else {
		if (i < f->rules.n)
			return 0;
		if (krule_set_add(&f->rules, r) < 0)
			return -ENOMEM;
	}
	queue(f, &ev);
	return 1;
}

int kfake_multipath(struct kernel *k, const struct kroute *nh, size_t n, bool del)
{
	struct kfake *f = kf(k);

	/* The route it replaces goes without a word, as in the kernel. */
	for (size_t i = 0; i < f->routes.n;)
		if (n && kroute_same_key(&f->routes.v[i], &nh[0]) && f->routes.v[i].multipath)
			kroute_set_del_at(&f->routes, i);
		else
			i++;
	for (size_t i = 0; i < n; i++) {
		struct kevent ev = { .type = KOBJ_ROUTE, .del = del, .route = nh[i], .nh_first = i == 0 };

		ev.route.multipath = true;
		if (!del && kroute_set_add(&f->routes, &ev.route) < 0)
			return -ENOMEM;
		queue(f, &ev);
	}
	return 0;
}

int kfake_route(struct kernel *k, const struct kroute *r, bool del)
{
	int ret = route_change(kf(k), r, del);

	return ret < 0 ? ret : 0;
}

int kfake_rule(struct kernel *k, const struct krule *r, bool del)
{
	int ret = rule_change(kf(k), r, del);

	return ret < 0 ? ret : 0;
}

void kfake_overflow(struct kernel *k)
{
	kf(k)->overflow = true;
}

void kfake_fail(struct kernel *k, int err, unsigned n)
{
	kf(k)->fail_err = err;
	kf(k)->fail_n = n;
}

void kfake_fail_del(struct kernel *k, int err, unsigned n)
{
	kf(k)->fail_del_err = err;
	kf(k)->fail_del_n = n;
}

const struct krule_set *kfake_rules(const struct kernel *k)
{
	return &kf(k)->rules;
}

const struct kroute_set *kfake_routes(const struct kernel *k)
{
	return &kf(k)->routes;
}

size_t kfake_rules_in(const struct kernel *k, uint32_t table)
{
	const struct krule_set *s = &kf(k)->rules;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].table == table;
	return n;
}

size_t kfake_routes_in(const struct kernel *k, uint32_t table)
{
	const struct kroute_set *s = &kf(k)->routes;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].table == table;
	return n;
}

const struct knhobj *kfake_nexthop(const struct kernel *k, uint32_t id)
{
	struct fnh *o = nh_find(kf(k), id);

	if (!o)
		return NULL;
	o->o.group = o->m;	/* the array moves (grown, or a deletion) */
	return &o->o;
}

size_t kfake_nexthops(const struct kernel *k)
{
	return kf(k)->nnhs;
}

unsigned long kfake_changes(const struct kernel *k)
{
	return kf(k)->changes;
}

unsigned long kfake_dumped(const struct kernel *k, enum kobj_type type)
{
	return kf(k)->dumped[type];
}

/* ---- the ops ---- */

/* Hands ev to cb when f lets it through, and counts it. */
static void dump_out(struct kfake *fk, const struct kevent *ev, const struct kfilter *f, kernel_cb cb,
		     void *data)
{
	if (!kfilter_match(f, ev))
		return;
	fk->dumped[ev->type]++;
	cb(ev, data);
}

static int fake_dump(struct kernel *k, enum kobj_type type, const struct kfilter *flt, kernel_cb cb,
		     void *data)
{
	struct kfake *f = kf(k);
	struct kevent ev = { .type = type };

	switch (type) {
	case KOBJ_LINK:
		for (size_t i = 0; i < f->nlinks; i++) {
			ev.link = f->links[i];
			dump_out(f, &ev, flt, cb, data);
		}
		break;
	case KOBJ_ADDR:
		for (size_t i = 0; i < f->naddrs; i++) {
			ev.addr = f->addrs[i];
			dump_out(f, &ev, flt, cb, data);
		}
		break;
	case KOBJ_ROUTE:
		for (size_t i = 0; i < f->routes.n; i++) {
			ev.route = f->routes.v[i];
			dump_out(f, &ev, flt, cb, data);
		}
		break;
	case KOBJ_RULE:
		for (size_t i = 0; i < f->rules.n; i++) {
			ev.rule = f->rules.v[i];
			dump_out(f, &ev, flt, cb, data);
		}
		break;
	case KOBJ_NEXTHOP:
		return -EOPNOTSUPP;	/* as kernel.c: kfake_nexthop() shows them */
	}
	return 0;
}

static int fake_apply(struct kernel *k, const struct kchange *c, size_t n, int *errs)
{
	struct kfake *f = kf(k);

	for (size_t i = 0; i < n; i++) {
		int ret;

		if (c[i].add && f->fail_n) {
			f->fail_n--;
			errs[i] = f->fail_err;
			continue;
		}
		if (!c[i].add && f->fail_del_n) {
			f->fail_del_n--;
			errs[i] = f->fail_del_err;
			continue;
		}
		if (c[i].type == KOBJ_NEXTHOP)
			ret = c[i].add ? nh_add(f, &c[i].nh) : nh_remove(f, c[i].nh.id);
		else if (c[i].type == KOBJ_ROUTE && c[i].whole)
			ret = route_whole(f, &c[i]);
		else if (c[i].type == KOBJ_ROUTE)
			ret = route_change(f, &c[i].route, !c[i].add);
		else
			ret = rule_change(f, &c[i].rule, !c[i].add);
		if (!c[i].add && (ret == -ENOENT || ret == -ESRCH))
			ret = 0;
		if (ret > 0)
			f->changes++;
		errs[i] = ret < 0 ? ret : 0;
	}
	return 0;
}

static int fake_events(struct kernel *k, kernel_cb cb, void *data)
{
	struct kfake *f = kf(k);
	int count = 0;

	if (f->overflow) {
		f->overflow = false;
		f->nq = 0;
		return -ENOBUFS;
	}
	/* What the callback causes (the engine applies changes) waits for
	 * the next call, as on a socket. */
	if (f->nq) {
		size_t n = f->nq;
		struct kevent *batch = malloc(n * sizeof(*batch));

		if (!batch)
			return -ENOMEM;
		memcpy(batch, f->queue, n * sizeof(*batch));
		f->nq = 0;
		for (size_t i = 0; i < n; i++)
			cb(&batch[i], data);
		free(batch);
		count = (int)n;
	}
	return count;
}

static int fake_fd(const struct kernel *k)
{
	(void)k;
	return -1;
}

static void fake_close(struct kernel *k)
{
	struct kfake *f = kf(k);

	free(f->addrs);
	krule_set_free(&f->rules);
	kroute_set_free(&f->routes);
	free(f->nhs);
	free(f->queue);
	free(f);
}

static const struct kernel_ops fake_ops = {
	.dump = fake_dump,
	.apply = fake_apply,
	.events = fake_events,
	.fd = fake_fd,
	.close = fake_close,
};

int kernel_fake_open(struct kernel **k)
{
	struct kfake *f = calloc(1, sizeof(*f));

	*k = NULL;
	if (!f)
		return -ENOMEM;
	f->k.ops = &fake_ops;
	*k = &f->k;
	return 0;
}
