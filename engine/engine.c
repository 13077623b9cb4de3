/* engine: uplinks (address -> lease -> rules + routes) kept in step with
 * the kernel through a mirror of it fed by events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"

/* Fight-loop brake: an uplink changed by more than FIX_MAX passes within
 * FIX_WINDOW_MS is left alone for FIX_HOLD_MS (someone keeps undoing us). */
#define FIX_MAX 10
#define FIX_WINDOW_MS 5000
#define FIX_HOLD_MS 5000

void engine_init(struct engine *e, struct kernel *k, const struct engine_ops *ops, void *owner,
		 const char *tag)
{
	memset(e, 0, sizeof(*e));
	e->k = k;
	e->ops = ops;
	e->owner = owner;
	e->prefs = (struct engine_prefs){ .from = 10000, .to = 20000, .iif = 91000, .fwmark = 9000 };
	snprintf(e->tag, sizeof(e->tag), "%s", tag ? tag : "");
	e->rl = (struct ratelimit)RATELIMIT_INIT(2000, 10);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nup; i++)
		free(e->up[i]);
	free(e->up);
	free(e->links);
	free(e->addrs);
	free(e->stale);
	kroute_set_free(&e->routes);
	krule_set_free(&e->rules);
	kplan_free(&e->plan);
	memset(e, 0, sizeof(*e));
}

int engine_set_forward(struct engine *e, const char (*ifnames)[IFNAMSIZ], size_t n)
{
	if (n > ENGINE_FORWARD_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		snprintf(e->forward[i], IFNAMSIZ, "%s", ifnames[i]);
	e->nforward = n;
	e->all_dirty = true;
	for (size_t i = 0; i < e->nup; i++)
		e->up[i]->installed = false;
	return 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*v, ncap * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* ---- the mirror ---- */

static struct klink *link_find(const struct engine *e, int ifindex)
{
	for (size_t i = 0; i < e->nlinks; i++)
		if (e->links[i].ifindex == ifindex)
			return &e->links[i];
	return NULL;
}

/* Routes the mirror keeps: main's through one link, and ours anywhere. */
static bool route_kept(const struct kroute *r)
{
	if (r->cloned)
		return false;
	if (r->proto == RTPROT_RTALLOC && r->table != KTABLE_MAIN)
		return true;
	return r->table == KTABLE_MAIN && r->oif > 0 && !r->multipath;
}

static void mark_ifindex(struct engine *e, int ifindex)
{
	for (size_t i = 0; i < e->nup; i++)
		if (e->up[i]->ifindex == ifindex)
			e->up[i]->dirty = true;
}

static bool mark_table(struct engine *e, uint8_t family, uint32_t table)
{
	bool any = false;

	for (size_t i = 0; i < e->nup; i++)
		if (e->up[i]->table == table && e->up[i]->key.family == family) {
			e->up[i]->dirty = true;
			any = true;
		}
	for (size_t i = 0; i < e->nstale; i++)
		if (e->stale[i].table == table && e->stale[i].family == family)
			any = true;
	return any;
}

/* Kernel drops routes through a link going down, IPv4's without a word. */
static void routes_drop_oif(struct engine *e, int ifindex)
{
	for (size_t i = 0; i < e->routes.n;)
		if (e->routes.v[i].oif == ifindex)
			kroute_set_del_at(&e->routes, i);
		else
			i++;
}

/* Applies one object to the mirror: true when it changed something. */
static bool mirror_route(struct engine *e, const struct kroute *r, bool del)
{
	size_t i;

	for (i = 0; i < e->routes.n && !kroute_same_key(&e->routes.v[i], r); i++)
		;
	if (del) {
		if (i == e->routes.n)
			return false;
		kroute_set_del_at(&e->routes, i);
		return true;
	}
	if (i < e->routes.n) {
		if (kroute_equal(&e->routes.v[i], r))
			return false;
		e->routes.v[i] = *r;
		return true;
	}
	return kroute_set_add(&e->routes, r) == 0;
}

static bool mirror_rule(struct engine *e, const struct krule *r, bool del)
{
	size_t i;

	for (i = 0; i < e->rules.n && !krule_equal(&e->rules.v[i], r); i++)
		;
	if (del) {
		if (i == e->rules.n)
			return false;
		krule_set_del_at(&e->rules, i);
		return true;
	}
	if (i < e->rules.n)
		return false;
	return krule_set_add(&e->rules, r) == 0;
}

static bool addr_eligible(const struct kaddr *a)
{
	if (a->scope != RT_SCOPE_UNIVERSE)
		return false;
	/* IPv6: only once DAD is done; never a failed or optimistic one. */
	return !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_OPTIMISTIC));
}

static bool mirror_addr(struct engine *e, const struct kaddr *a, bool del)
{
	size_t i;

	for (i = 0; i < e->naddrs && !kaddr_same(&e->addrs[i], a); i++)
		;
	if (del) {
		if (i == e->naddrs)
			return false;
		e->addrs[i] = e->addrs[--e->naddrs];
		return true;
	}
	if (i < e->naddrs) {
		bool was = addr_eligible(&e->addrs[i]);

		e->addrs[i] = *a;
		return was != addr_eligible(a);
	}
	if (grow((void **)&e->addrs, &e->capaddrs, e->naddrs, sizeof(*e->addrs)) < 0)
		return false;
	e->addrs[e->naddrs++] = *a;
	return true;
}

/* Returns true when a pass is due. */
static bool mirror_event(struct engine *e, const struct kevent *ev)
{
	switch (ev->type) {
	case KOBJ_LINK: {
		struct klink *l = link_find(e, ev->link.ifindex);

		if (ev->del) {
			if (!l)
				return false;
			routes_drop_oif(e, l->ifindex);
			*l = e->links[--e->nlinks];
			e->scan = true;
			return true;
		}
		if (!l) {
			if (grow((void **)&e->links, &e->caplinks, e->nlinks, sizeof(*e->links)) < 0)
				return false;
			e->links[e->nlinks++] = ev->link;
			e->scan = true;
			return true;
		}
		if (!strcmp(l->name, ev->link.name) && l->up == ev->link.up)
			return false;
		if (strcmp(l->name, ev->link.name))
			e->scan = true;
		if (l->up != ev->link.up) {
			if (!ev->link.up)
				routes_drop_oif(e, l->ifindex);
			mark_ifindex(e, l->ifindex);
		}
		*l = ev->link;
		return true;
	}
	case KOBJ_ADDR:
		if (!mirror_addr(e, &ev->addr, ev->del))
			return false;
		if (!addr_eligible(&ev->addr))
			return false;
		e->scan = true;
		return true;
	case KOBJ_ROUTE:
		if (!route_kept(&ev->route) || !mirror_route(e, &ev->route, ev->del))
			return false;
		if (ev->route.table == KTABLE_MAIN) {
			for (size_t i = 0; i < e->nup; i++)
				if (e->up[i]->ifindex == ev->route.oif) {
					mark_ifindex(e, ev->route.oif);
					return true;
				}
			return false;
		}
		return mark_table(e, ev->route.family, ev->route.table);
	case KOBJ_RULE:
		if (ev->rule.proto != RTPROT_RTALLOC || !mirror_rule(e, &ev->rule, ev->del))
			return false;
		return mark_table(e, ev->rule.family, ev->rule.table);
	}
	return false;
}

static void load_cb(const struct kevent *ev, void *data)
{
	mirror_event(data, ev);
}

int engine_load(struct engine *e)
{
	static const enum kobj_type order[] = { KOBJ_LINK, KOBJ_ADDR, KOBJ_ROUTE, KOBJ_RULE };
	int ret;

	e->nlinks = e->naddrs = 0;
	e->routes.n = e->rules.n = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		ret = kernel_dump(e->k, order[i], load_cb, e);
		if (ret < 0)
			return ret;
	}
	e->resync = false;
	e->scan = true;
	e->all_dirty = true;
	return 0;
}

struct read_ctx {
	struct engine *e;
	bool due;
};

static void event_cb(const struct kevent *ev, void *data)
{
	struct read_ctx *ctx = data;

	ctx->e->stats.events++;
	if (mirror_event(ctx->e, ev)) {
		ctx->due = true;
		ctx->e->stats.relevant++;
	}
}

int engine_read_events(struct engine *e)
{
	struct read_ctx ctx = { .e = e };
	int ret = kernel_events(e->k, event_cb, &ctx);

	if (ret == -ENOBUFS) {
		log_msg(LOG_WARNING, "netlink events lost (ENOBUFS): re-reading the kernel's state");
		e->resync = true;
		return 1;
	}
	if (ret < 0)
		return ret;
	return ctx.due;
}

/* ---- desired state ---- */

static void rule_base(const struct uplink *u, uint32_t pref, struct krule *r)
{
	memset(r, 0, sizeof(*r));
	r->family = u->key.family;
	r->pref = pref;
	r->table = u->table;
	r->proto = RTPROT_RTALLOC;
	r->src.family = r->dst.family = u->key.family;
}

static bool linklocal6(const struct kroute *r)
{
	return r->family == AF_INET6 && r->dst_len >= 10 && r->dst.bytes[0] == 0xfe &&
	       (r->dst.bytes[1] & 0xc0) == 0x80;
}

int engine_desired(const struct engine *e, const struct uplink *u, struct krule_set *rules,
		   struct kroute_set *routes)
{
	uint8_t max = (uint8_t)(addr_len(u->key.family) * 8);
	const struct klink *l = link_find(e, u->ifindex);
	struct krule r;
	int ret = 0;

	rules->n = routes->n = 0;
	if (!u->table)
		return 0;
	if (e->routes_only)
		goto routes;
	rule_base(u, e->prefs.from, &r);
	r.src = u->key.addr;
	r.src_len = max;
	ret |= krule_set_add(rules, &r);
	rule_base(u, e->prefs.to, &r);
	r.dst = u->key.addr;
	addr_mask(&r.dst, u->prefixlen);
	r.dst_len = u->prefixlen;
	ret |= krule_set_add(rules, &r);
	rule_base(u, e->prefs.iif, &r);
	snprintf(r.iif, sizeof(r.iif), "lo");
	ret |= krule_set_add(rules, &r);
	for (size_t i = 0; i < e->nforward; i++) {
		rule_base(u, e->prefs.iif, &r);
		snprintf(r.iif, sizeof(r.iif), "%s", e->forward[i]);
		ret |= krule_set_add(rules, &r);
	}
	if (u->pol.has_fwmark) {
		rule_base(u, e->prefs.fwmark, &r);
		r.has_fwmark = true;
		r.fwmark = u->pol.fwmark;
		r.fwmask = u->pol.fwmask;
		ret |= krule_set_add(rules, &r);
	}
routes:
	/* A link that is down holds no routes: the kernel refuses them. */
	if (!l || !l->up)
		return ret ? -ENOMEM : 0;
	const struct kroute *src = u->given ? u->given->v : e->routes.v;
	size_t n = u->given ? u->given->n : e->routes.n;

	for (size_t i = 0; i < n; i++) {
		struct kroute c = src[i];
		bool dup = false;

		if (c.family != u->key.family || c.oif != u->ifindex || c.multipath || c.cloned)
			continue;
		if (!u->given && (c.table != KTABLE_MAIN || c.type != RTN_UNICAST))
			continue;
		c.table = u->table;
		c.proto = RTPROT_RTALLOC;
		memset(&c.src, 0, sizeof(c.src));
		if (!linklocal6(&c))
			c.src = u->key.addr;
		/* Two of main's routes may become one here (they differed in
		 * src only): the first one wins, as the kernel would keep. */
		for (size_t j = 0; j < routes->n && !dup; j++)
			dup = kroute_same_key(&routes->v[j], &c);
		if (!dup)
			ret |= kroute_set_add(routes, &c);
	}
	return ret ? -ENOMEM : 0;
}

/* ---- uplinks ---- */

static struct uplink *uplink_find(const struct engine *e, uint8_t family, int ifindex,
				  const struct inet_addr *a)
{
	for (size_t i = 0; i < e->nup; i++) {
		struct uplink *u = e->up[i];

		if (u->key.family == family && u->ifindex == ifindex &&
		    !memcmp(u->key.addr.bytes, a->bytes, addr_len(family)))
			return u;
	}
	return NULL;
}

static int stale_add(struct engine *e, uint8_t family, uint32_t table)
{
	int ret;

	if (!table)
		return 0;
	for (size_t i = 0; i < e->nstale; i++)
		if (e->stale[i].table == table && e->stale[i].family == family)
			return 0;
	ret = grow((void **)&e->stale, &e->capstale, e->nstale, sizeof(*e->stale));
	if (ret < 0)
		return ret;
	e->stale[e->nstale++] = (struct engine_table){ .family = family, .table = table };
	return 0;
}

int engine_claim_table(struct engine *e, uint8_t family, uint32_t table)
{
	for (size_t i = 0; i < e->nup; i++)
		if (e->up[i]->table == table && e->up[i]->key.family == family)
			return 0;
	return stale_add(e, family, table);
}

void engine_keep_table(struct engine *e, uint8_t family, uint32_t table)
{
	for (size_t i = 0; i < e->nstale;)
		if (e->stale[i].table == table && e->stale[i].family == family)
			e->stale[i] = e->stale[--e->nstale];
		else
			i++;
}

void engine_rescan(struct engine *e)
{
	e->scan = true;
	e->all_dirty = true;
}

void engine_set_table(struct engine *e, struct uplink *u, uint32_t table)
{
	if (u->table == table)
		return;
	if (u->table)
		stale_add(e, u->key.family, u->table);
	/* A table we were given is no longer stale. */
	for (size_t i = 0; i < e->nstale;)
		if (e->stale[i].table == table && e->stale[i].family == u->key.family)
			e->stale[i] = e->stale[--e->nstale];
		else
			i++;
	u->table = table;
	u->dirty = true;
	u->installed = false;
}

void engine_set_given(struct engine *e, struct uplink *u, const struct kroute_set *given)
{
	(void)e;
	u->given = given;
	u->dirty = true;
	u->installed = false;	/* new routes are no restoration */
}

/* Member by member: memcmp would also compare the padding after has_fwmark. */
static bool policy_equal(const struct uplink_policy *a, const struct uplink_policy *b)
{
	return a->has_fwmark == b->has_fwmark && a->fwmark == b->fwmark && a->fwmask == b->fwmask;
}

void engine_set_policy(struct engine *e, struct uplink *u, const struct uplink_policy *pol)
{
	(void)e;
	if (!policy_equal(&u->pol, pol)) {
		u->pol = *pol;
		u->dirty = true;
		u->installed = false;	/* new rules are no restoration */
	}
}

/* The table of our `from A` rule in the kernel, if there is one. */
static uint32_t adopt_table(const struct engine *e, const struct uplink *u)
{
	size_t len = addr_len(u->key.family);

	for (size_t i = 0; i < e->rules.n; i++) {
		const struct krule *r = &e->rules.v[i];

		if (r->family == u->key.family && r->pref == e->prefs.from &&
		    r->src_len == len * 8 && !r->dst_len && !r->iif[0] && !r->has_fwmark &&
		    !memcmp(r->src.bytes, u->key.addr.bytes, len))
			return r->table;
	}
	return 0;
}

static int uplink_add(struct engine *e, const struct kaddr *a, const struct klink *l,
		      const struct uplink_policy *pol)
{
	struct uplink *u;
	int ret = grow((void **)&e->up, &e->capup, e->nup, sizeof(*e->up));

	if (ret < 0)
		return ret;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->key.family = a->family;
	u->key.addr = a->addr;
	snprintf(u->key.ifname, sizeof(u->key.ifname), "%s", l->name);
	snprintf(u->key.tag, sizeof(u->key.tag), "%s", e->tag);
	u->ifindex = a->ifindex;
	u->prefixlen = a->prefixlen;
	u->pol = *pol;
	u->seen = true;
	u->dirty = true;
	u->adopt = adopt_table(e, u);
	e->up[e->nup++] = u;
	if (e->ops->uplink_new && !e->ops->uplink_new(e, u))
		u->foreign = true;
	return 0;
}

/* Addresses -> uplinks: new ones are announced, gone ones collected. */
static int scan(struct engine *e, struct uplink ***gone, size_t *ngone)
{
	size_t capgone = 0;
	bool renamed = false;
	int ret = 0;

	for (size_t i = 0; i < e->nup; i++)
		e->up[i]->seen = false;
	for (size_t i = 0; i < e->naddrs; i++) {
		const struct kaddr *a = &e->addrs[i];
		const struct klink *l;
		struct uplink_policy pol = { 0 };
		struct uplink *u;

		if (!addr_eligible(a) || !(l = link_find(e, a->ifindex)) ||
		    !e->ops->manage(e, a->family, l->name, &pol))
			continue;
		u = uplink_find(e, a->family, a->ifindex, &a->addr);
		if (u && strcmp(u->key.ifname, l->name)) {
			/* Renamed: the lease key names the link.  Let the
			 * old uplink go and start over under the new name. */
			renamed = true;
			continue;
		}
		if (u) {
			/* One uplink per address; the newest entry's prefix. */
			if (!u->seen && u->prefixlen != a->prefixlen) {
				u->prefixlen = a->prefixlen;
				u->dirty = true;
			}
			u->seen = true;
			engine_set_policy(e, u, &pol);
			continue;
		}
		ret = uplink_add(e, a, l, &pol);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < e->nup;) {
		struct uplink *u = e->up[i];

		if (u->seen) {
			i++;
			continue;
		}
		if (grow((void **)gone, &capgone, *ngone, sizeof(**gone)) < 0)
			return -ENOMEM;
		(*gone)[(*ngone)++] = u;
		if (u->table && !u->foreign)
			stale_add(e, u->key.family, u->table);
		e->up[i] = e->up[--e->nup];
	}
	e->scan = renamed;
	return 0;
}

/* ---- applying ---- */

/* Ours in the kernel for a table (a table number is per family). */
static void have_of(const struct engine *e, uint8_t family, uint32_t table,
		    struct krule_set *rules, struct kroute_set *routes)
{
	rules->n = routes->n = 0;
	for (size_t i = 0; i < e->rules.n && !e->routes_only; i++) {
		const struct krule *r = &e->rules.v[i];

		if (r->table == table && r->family == family && r->proto == RTPROT_RTALLOC)
			krule_set_add(rules, r);
	}
	for (size_t i = 0; i < e->routes.n; i++) {
		const struct kroute *r = &e->routes.v[i];

		if (r->table == table && r->family == family && r->proto == RTPROT_RTALLOC)
			kroute_set_add(routes, r);
	}
}

/* Applies e->plan; the mirror learns each change made.  A refused rule
 * undoes the rules added with it: half the rules route half the traffic.
 * Returns 0, the first refusal's -errno, or the exchange's. */
static int plan_apply(struct engine *e, const char *what)
{
	struct kplan *p = &e->plan;
	int *errs = NULL, ret = 0, first = 0;
	char buf[200];

	if (!p->n)
		return 0;
	errs = calloc(p->n, sizeof(*errs));
	if (!errs)
		return -ENOMEM;
	ret = kernel_apply(e->k, p->v, p->n, errs);
	if (ret < 0) {
		e->resync = true;
		goto cleanup;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct kchange *c = &p->v[i];

		if (errs[i]) {
			if (!first)
				first = errs[i];
			if (ratelimit_ok(&e->rl, 0))
				log_msg(LOG_ERR, "%s: kernel refused %s %s %s: %s", what,
					c->add ? "adding" : "deleting", c->type == KOBJ_RULE ? "rule" : "route",
					c->type == KOBJ_RULE ? krule_str(&c->rule, buf, sizeof(buf)) :
							       kroute_str(&c->route, buf, sizeof(buf)),
					strerror(-errs[i]));
			continue;
		}
		e->stats.changes++;
		if (c->type == KOBJ_RULE)
			mirror_rule(e, &c->rule, !c->add);
		else
			mirror_route(e, &c->route, !c->add);
	}
	for (size_t i = 0; i < p->n && first; i++) {
		const struct kchange *c = &p->v[i];

		if (c->type == KOBJ_RULE && c->add && errs[i] && c->rule.pref) {
			/* undo this table's rule additions */
			struct kchange undo;
			int err;

			for (size_t j = 0; j < p->n; j++) {
				if (p->v[j].type != KOBJ_RULE || !p->v[j].add || errs[j])
					continue;
				undo = p->v[j];
				undo.add = false;
				if (kernel_apply(e->k, &undo, 1, &err) == 0 && !err)
					mirror_rule(e, &undo.rule, true);
			}
			break;
		}
	}
	ret = first;
cleanup:
	free(errs);
	return ret;
}

static int reconcile_uplink(struct engine *e, struct uplink *u, uint64_t now,
			    struct krule_set *want_r, struct kroute_set *want_rt,
			    struct krule_set *have_r, struct kroute_set *have_rt)
{
	char a[INET6_ADDRSTRLEN], what[96];
	size_t rule_adds = 0, route_adds = 0;
	int ret;

	if (u->hold_until_ms > now) {
		if (!e->next_due_ms || u->hold_until_ms < e->next_due_ms)
			e->next_due_ms = u->hold_until_ms;
		return 0;
	}
	u->dirty = false;
	ret = engine_desired(e, u, want_r, want_rt);
	if (ret < 0)
		return ret;
	have_of(e, u->key.family, u->table, have_r, have_rt);
	kplan_reset(&e->plan);
	ret = reconcile(want_r, want_rt, have_r, have_rt, &e->plan);
	if (ret < 0 || !e->plan.n) {
		if (ret == 0)
			u->installed = true;
		return ret;
	}
	for (size_t i = 0; i < e->plan.n; i++)
		if (e->plan.v[i].type == KOBJ_RULE && e->plan.v[i].add)
			rule_adds++;
		else if (e->plan.v[i].add)
			route_adds++;
	snprintf(what, sizeof(what), "%s on %s (table %u)", addr_str(&u->key.addr, a, sizeof(a)),
		 u->key.ifname, u->table);
	if (now - u->window_ms > FIX_WINDOW_MS) {
		u->window_ms = now;
		u->fixes = 0;
	}
	if (++u->fixes > FIX_MAX) {
		u->hold_until_ms = now + FIX_HOLD_MS;
		u->dirty = true;
		log_msg(LOG_WARNING, "%s: changed %u times in %u s, someone keeps undoing it: waiting %u s",
			what, u->fixes - 1, FIX_WINDOW_MS / 1000, FIX_HOLD_MS / 1000);
		u->fixes = 0;
		if (!e->next_due_ms || u->hold_until_ms < e->next_due_ms)
			e->next_due_ms = u->hold_until_ms;
		return 0;
	}
	ret = plan_apply(e, what);
	if (u->installed && rule_adds) {
		e->stats.restored += rule_adds;
		if (ratelimit_ok(&e->rl, now))
			log_msg(LOG_NOTICE, "%s: restored %zu deleted rule(s)", what, rule_adds);
	} else if (u->installed && route_adds && e->routes_only) {
		/* Deleted by hand, or dropped by the kernel with a link that
		 * went down and came back. */
		if (ratelimit_ok(&e->rl, now))
			log_msg(LOG_NOTICE, "%s: restored %zu missing route(s)", what, route_adds);
	} else if (!u->installed && ret == 0 && e->routes_only) {
		log_msg(LOG_INFO, "%s: %zu routes", what, want_rt->n);
	} else if (!u->installed && ret == 0) {
		log_msg(LOG_INFO, "%s: %zu rules, %zu routes", what, want_r->n, want_rt->n);
	} else if (u->installed && ratelimit_ok(&e->rl, now)) {
		log_msg(LOG_INFO, "%s: %zu change(s) to follow the kernel", what, e->plan.n);
	}
	if (ret == 0)
		u->installed = true;
	else
		u->dirty = true;	/* again at the next pass */
	return ret;
}

static int empty_table(struct engine *e, struct engine_table t, struct krule_set *want_r,
		       struct kroute_set *want_rt, struct krule_set *have_r,
		       struct kroute_set *have_rt)
{
	char what[48];
	int ret;

	want_r->n = want_rt->n = 0;
	have_of(e, t.family, t.table, have_r, have_rt);
	kplan_reset(&e->plan);
	ret = reconcile(want_r, want_rt, have_r, have_rt, &e->plan);
	if (ret < 0 || !e->plan.n)
		return ret;
	snprintf(what, sizeof(what), "IPv%d table %u", t.family == AF_INET ? 4 : 6, t.table);
	log_msg(LOG_INFO, "%s: removing %zu rule(s) and route(s) no address needs", what, e->plan.n);
	return plan_apply(e, what);
}

int engine_pass(struct engine *e, uint64_t now)
{
	struct krule_set want_r = { 0 }, have_r = { 0 };
	struct kroute_set want_rt = { 0 }, have_rt = { 0 };
	struct uplink **gone = NULL;
	size_t ngone = 0;
	int ret = 0;

	e->stats.passes++;
	e->next_due_ms = 0;
	if (e->resync) {
		ret = engine_load(e);
		if (ret < 0) {
			e->resync = true;
			goto cleanup;
		}
	}
	if (e->scan) {
		ret = scan(e, &gone, &ngone);
		if (ret < 0)
			goto cleanup;
	}
	for (size_t i = 0; i < e->nup; i++) {
		struct uplink *u = e->up[i];

		if (u->foreign || !u->table || !(u->dirty || e->all_dirty))
			continue;
		reconcile_uplink(e, u, now, &want_r, &want_rt, &have_r, &have_rt);
	}
	e->all_dirty = false;
	for (size_t i = 0; i < e->nstale;) {
		if (empty_table(e, e->stale[i], &want_r, &want_rt, &have_r, &have_rt) == 0 || !e->resync)
			e->stale[i] = e->stale[--e->nstale];
		else
			i++;
	}
cleanup:
	for (size_t i = 0; i < ngone; i++) {
		if (!gone[i]->foreign && e->ops->uplink_gone)
			e->ops->uplink_gone(e, gone[i]);
		free(gone[i]);
	}
	free(gone);
	krule_set_free(&want_r);
	krule_set_free(&have_r);
	kroute_set_free(&want_rt);
	kroute_set_free(&have_rt);
	return ret;
}
