/* engine: uplinks (address -> lease -> rules + routes) kept in step with
 * the kernel through a mirror of it fed by events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"
#include "leftover.h"

/* Fight-loop brake: an uplink changed by more than FIX_MAX passes within
 * FIX_WINDOW_MS is left alone for FIX_HOLD_MS (someone keeps undoing us). */
#define FIX_MAX 10
#define FIX_WINDOW_MS 5000
#define FIX_HOLD_MS 5000
/* A change the kernel refused sends no event that would bring another
 * pass: the uplink is tried again after RETRY_MIN_MS, the wait doubling up
 * to RETRY_MAX_MS while the kernel keeps refusing. */
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

void engine_init(struct engine *e, struct kernel *k, const struct engine_ops *ops, void *owner,
		 const char *tag)
{
	memset(e, 0, sizeof(*e));
	e->k = k;
	e->ops = ops;
	e->owner = owner;
	e->prefs = (struct engine_prefs){ .from = KPREF_FROM, .to = KPREF_TO, .iif = KPREF_IIF,
					  .fwmark = KPREF_FWMARK, .guard = KPREF_GUARD };
	snprintf(e->tag, sizeof(e->tag), "%s", tag ? tag : "");
	e->rl = (struct ratelimit)RATELIMIT_INIT(2000, 10);
}

static void table_free(struct etable *t)
{
	krule_set_free(&t->rules);
	kroute_set_free(&t->routes);
	free(t);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nup; i++)
		free(e->up[i]);
	free(e->up);
	free(e->uindex);
	for (size_t i = 0; i < e->nlinks; i++)
		kroute_set_free(&e->links[i].main);
	free(e->links);
	free(e->addrs);
	for (size_t i = 0; i < e->captables; i++)
		for (struct etable *t = e->tables[i], *next; t; t = next) {
			next = t->next;
			table_free(t);
		}
	free(e->tables);
	free(e->stale);
	free(e->claims);
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

/* ---- indexes: a thousand uplinks cost what one does per event ---- */

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u;	/* FNV-1a's prime */
	return h ^ (h >> 15);
}

static size_t table_slot(const struct engine *e, uint8_t family, uint32_t table)
{
	return mix(mix(0x811c9dc5u, family), table) & (e->captables - 1);
}

static struct etable *table_find(const struct engine *e, uint8_t family, uint32_t table)
{
	if (!e->captables)
		return NULL;
	for (struct etable *t = e->tables[table_slot(e, family, table)]; t; t = t->next)
		if (t->table == table && t->family == family)
			return t;
	return NULL;
}

/* Doubles the buckets when they are as many as the entries. */
static int tables_grow(struct engine *e)
{
	struct etable **old = e->tables;
	size_t oldcap = e->captables, cap = oldcap ? oldcap * 2 : 64;

	if (e->ntables < oldcap)
		return 0;
	e->tables = calloc(cap, sizeof(*e->tables));
	if (!e->tables) {
		e->tables = old;
		return oldcap ? 0 : -ENOMEM;	/* longer chains, still right */
	}
	e->captables = cap;
	for (size_t i = 0; i < oldcap; i++)
		for (struct etable *t = old[i], *next; t; t = next) {
			size_t s = table_slot(e, t->family, t->table);

			next = t->next;
			t->next = e->tables[s];
			e->tables[s] = t;
		}
	free(old);
	return 0;
}

static struct etable *table_get(struct engine *e, uint8_t family, uint32_t table)
{
	struct etable *t = table_find(e, family, table);
	size_t s;

	if (t)
		return t;
	if (tables_grow(e) < 0 || !(t = calloc(1, sizeof(*t))))
		return NULL;
	t->family = family;
	t->table = table;
	s = table_slot(e, family, table);
	t->next = e->tables[s];
	e->tables[s] = t;
	e->ntables++;
	return t;
}

/* Frees t when nothing is left in it or of it. */
static void table_put(struct engine *e, struct etable *t)
{
	struct etable **pp;

	if (!t || t->rules.n || t->routes.n || t->users || t->stale)
		return;
	for (pp = &e->tables[table_slot(e, t->family, t->table)]; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			e->ntables--;
			table_free(t);
			return;
		}
}

static size_t uplink_slot(const struct engine *e, uint8_t family, int ifindex,
			  const struct inet_addr *a)
{
	uint32_t h = mix(mix(0x811c9dc5u, family), (uint32_t)ifindex);
	size_t len = addr_len(family);

	for (size_t i = 0; i < len; i += 4)
		h = mix(h, (uint32_t)a->bytes[i] << 24 | (uint32_t)a->bytes[i + 1] << 16 |
			   (uint32_t)a->bytes[i + 2] << 8 | a->bytes[i + 3]);
	return h & (e->capuindex - 1);
}

static void uindex_put(struct engine *e, struct uplink *u)
{
	size_t s = uplink_slot(e, u->key.family, u->ifindex, &u->key.addr);

	u->hnext = e->uindex[s];
	e->uindex[s] = u;
}

static int uindex_grow(struct engine *e)
{
	size_t cap = e->capuindex ? e->capuindex * 2 : 64;
	struct uplink **v;

	if (e->nup < e->capuindex)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return e->capuindex ? 0 : -ENOMEM;
	free(e->uindex);
	e->uindex = v;
	e->capuindex = cap;
	for (size_t i = 0; i < e->nup; i++)
		uindex_put(e, e->up[i]);
	return 0;
}

static void uindex_del(struct engine *e, struct uplink *u)
{
	struct uplink **pp = &e->uindex[uplink_slot(e, u->key.family, u->ifindex, &u->key.addr)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == u) {
			*pp = u->hnext;
			return;
		}
}

static struct uplink *uplink_find(const struct engine *e, uint8_t family, int ifindex,
				  const struct inet_addr *a)
{
	if (!e->capuindex)
		return NULL;
	for (struct uplink *u = e->uindex[uplink_slot(e, family, ifindex, a)]; u; u = u->hnext)
		if (u->key.family == family && u->ifindex == ifindex &&
		    !memcmp(u->key.addr.bytes, a->bytes, addr_len(family)))
			return u;
	return NULL;
}

/* u is no longer among its table's holders (u->table stays as it was). */
static void table_unhold(struct engine *e, struct uplink *u)
{
	struct etable *t = u->table ? table_find(e, u->key.family, u->table) : NULL;

	if (!t)
		return;
	for (struct uplink **pp = &t->users; *pp; pp = &(*pp)->tnext)
		if (*pp == u) {
			*pp = u->tnext;
			break;
		}
	u->tnext = NULL;
	table_put(e, t);
}

/* u holds table (0: none). */
static void table_hold(struct engine *e, struct uplink *u, uint32_t table)
{
	struct etable *t;

	table_unhold(e, u);
	u->table = table;
	if (table && (t = table_get(e, u->key.family, table))) {
		u->tnext = t->users;
		t->users = u;
	}
}

/* ---- the mirror ---- */

static struct elink *link_find(const struct engine *e, int ifindex)
{
	for (size_t i = 0; i < e->nlinks; i++)
		if (e->links[i].l.ifindex == ifindex)
			return &e->links[i];
	return NULL;
}

static int fam_ix(int family)
{
	return family == AF_INET6;
}

/* Is l managed for family?  Asks the owner once per name. */
static bool link_managed(struct engine *e, struct elink *l, int family, struct uplink_policy *pol)
{
	int f = fam_ix(family);

	if (l->managed[f] < 0) {
		memset(&l->pol[f], 0, sizeof(l->pol[f]));
		l->managed[f] = e->ops->manage(e, family, l->l.name, &l->pol[f]) ? 1 : 0;
	}
	*pol = l->pol[f];
	return l->managed[f] == 1;
}

/* Routes the mirror keeps: main's through one link, and ours anywhere. */
static bool route_kept(const struct kroute *r)
{
	if (r->cloned)
		return false;
	if (r->proto == RTPROT_RTALLOC && r->table != KTABLE_MAIN)
		return true;
	return r->table == KTABLE_MAIN && r->oif > 0;
}

static void mark_table_users(struct etable *t)
{
	for (struct uplink *u = t ? t->users : NULL; u; u = u->tnext)
		u->dirty = true;
}

static bool mark_table(struct engine *e, uint8_t family, uint32_t table)
{
	struct etable *t = table_find(e, family, table);

	mark_table_users(t);
	return t && (t->users || t->stale);
}

static void drop_oif(struct kroute_set *s, int ifindex)
{
	for (size_t i = 0; i < s->n;)
		if (s->v[i].oif == ifindex)
			kroute_set_del_at(s, i);
		else
			i++;
}

/* Kernel drops routes through a link going down, IPv4's without a word. */
static void routes_drop_oif(struct engine *e, struct elink *l)
{
	l->main.n = 0;
	for (size_t i = 0; i < e->captables; i++)
		for (struct etable *t = e->tables[i]; t; t = t->next)
			drop_oif(&t->routes, l->l.ifindex);
}

static bool set_route(struct kroute_set *s, const struct kroute *r, bool del)
{
	size_t i;

	for (i = 0; i < s->n && !kroute_same_key(&s->v[i], r); i++)
		;
	if (del) {
		if (i == s->n)
			return false;
		kroute_set_del_at(s, i);
		return true;
	}
	if (i < s->n) {
		if (kroute_equal(&s->v[i], r))
			return false;
		s->v[i] = *r;
		return true;
	}
	return kroute_set_add(s, r) == 0;
}

/* A new route in main is a whole route (kernel.h): the nexthops of a
 * multipath route of its destination and metric that main held before,
 * through any link, are gone unless its events bring them back.  IPv6
 * keeps routes apart by gateway and device, so there only a multipath
 * route replaces nexthops.  Marks the links that lost one. */
static bool forget_nexthops(struct engine *e, const struct kevent *ev)
{
	const struct kroute *r = &ev->route;
	size_t len = addr_len(r->family);
	bool changed = false;

	if (ev->del || r->table != KTABLE_MAIN || (r->multipath ? !ev->nh_first : r->family != AF_INET))
		return false;
	for (size_t i = 0; i < e->nlinks; i++) {
		struct elink *l = &e->links[i];

		for (size_t j = 0; j < l->main.n;) {
			const struct kroute *o = &l->main.v[j];

			if (o->multipath && o->family == r->family && o->dst_len == r->dst_len &&
			    o->metric == r->metric && !memcmp(o->dst.bytes, r->dst.bytes, len)) {
				kroute_set_del_at(&l->main, j);
				l->dirty = changed = true;
			} else {
				j++;
			}
		}
	}
	return changed;
}

/* Applies one object to the mirror: true when it changed something. */
static bool mirror_route(struct engine *e, const struct kroute *r, bool del)
{
	struct etable *t;
	bool changed;

	if (r->table == KTABLE_MAIN) {
		struct elink *l = link_find(e, r->oif);

		return l && set_route(&l->main, r, del);
	}
	t = del ? table_find(e, r->family, r->table) : table_get(e, r->family, r->table);
	if (!t)
		return false;
	changed = set_route(&t->routes, r, del);
	table_put(e, t);
	return changed;
}

static bool mirror_rule(struct engine *e, const struct krule *r, bool del)
{
	struct etable *t = del ? table_find(e, r->family, r->table) : table_get(e, r->family, r->table);
	bool changed = false;
	size_t i;

	if (!t)
		return false;
	for (i = 0; i < t->rules.n && !krule_equal(&t->rules.v[i], r); i++)
		;
	if (del && i < t->rules.n) {
		krule_set_del_at(&t->rules, i);
		changed = true;
	} else if (!del && i == t->rules.n) {
		changed = krule_set_add(&t->rules, r) == 0;
	}
	table_put(e, t);
	return changed;
}

static bool addr_eligible(const struct kaddr *a)
{
	if (a->scope != RT_SCOPE_UNIVERSE)
		return false;
	/* IPv6: only once DAD is done; never a failed or optimistic one. */
	return !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_OPTIMISTIC));
}

/* Scoped with early_rules, an address whose DAD is under way makes an
 * uplink too: its rules go in, its routes wait (addr_ready). */
static bool addr_usable(const struct engine *e, const struct kaddr *a)
{
	if (addr_eligible(a))
		return true;
	return e->scope.family != AF_UNSPEC && e->scope.early_rules && a->scope == RT_SCOPE_UNIVERSE &&
	       !(a->flags & IFA_F_DADFAILED);
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
		bool was = addr_eligible(&e->addrs[i]), was_usable = addr_usable(e, &e->addrs[i]);

		e->addrs[i] = *a;
		return was != addr_eligible(a) || was_usable != addr_usable(e, a);
	}
	if (kobj_grow((void **)&e->addrs, &e->capaddrs, e->naddrs, sizeof(*e->addrs)) < 0)
		return false;
	e->addrs[e->naddrs++] = *a;
	return true;
}

static bool mirror_link(struct engine *e, const struct klink *k, bool del)
{
	struct elink *l = link_find(e, k->ifindex);

	if (del) {
		if (!l)
			return false;
		routes_drop_oif(e, l);
		kroute_set_free(&l->main);
		*l = e->links[--e->nlinks];
		e->scan = true;
		return true;
	}
	if (!l) {
		if (kobj_grow((void **)&e->links, &e->caplinks, e->nlinks, sizeof(*e->links)) < 0)
			return false;
		l = &e->links[e->nlinks++];
		memset(l, 0, sizeof(*l));
		l->l = *k;
		l->managed[0] = l->managed[1] = -1;
		e->scan = true;
		return true;
	}
	if (!strcmp(l->l.name, k->name) && l->l.up == k->up)
		return false;
	if (strcmp(l->l.name, k->name)) {
		l->managed[0] = l->managed[1] = -1;
		e->scan = true;
	}
	if (l->l.up != k->up) {
		if (!k->up)
			routes_drop_oif(e, l);
		/* Its nexthops of main's multipath routes come back with it
		 * without a word from the kernel, and what went down with it
		 * went without one: read the kernel again. */
		else
			e->resync = true;
		l->dirty = true;
	}
	l->l = *k;
	return true;
}

static bool is_guard(const struct engine *e, const struct krule *r);

/* ---- the scope: one uplink's part of the kernel (engine_set_scope) ---- */

void engine_set_scope(struct engine *e, const struct engine_scope *s)
{
	e->scope = *s;
}

static bool scoped(const struct engine *e)
{
	return e->scope.family != AF_UNSPEC;
}

static bool early(const struct engine *e)
{
	return scoped(e) && e->scope.early_rules;
}

/* The prefix of an uplink of entry a: the owner's when it gave one. */
static uint8_t prefix_of(const struct engine *e, const struct kaddr *a)
{
	return scoped(e) && e->scope.prefixlen ? e->scope.prefixlen : a->prefixlen;
}

/* scan() gives the uplink the new prefix. */
void engine_set_prefix(struct engine *e, uint8_t prefixlen)
{
	if (!scoped(e) || e->scope.prefixlen == prefixlen)
		return;
	e->scope.prefixlen = prefixlen;
	e->scan = true;
}

/* Has an entry of the address the owner's prefix?  (Scoped, the mirror
 * holds the scope's address's entries only.) */
static bool prefix_held(const struct engine *e)
{
	if (!scoped(e) || !e->scope.prefixlen)
		return false;
	for (size_t i = 0; i < e->naddrs; i++)
		if (e->addrs[i].prefixlen == e->scope.prefixlen)
			return true;
	return false;
}

/* The entry of the owner's prefix went: with none left, an entry left has
 * the address's prefix now.  Before one was there (the owner gave the
 * prefix first), or while one is, the owner's prefix holds. */
static void prefix_follow(struct engine *e)
{
	char a[INET6_ADDRSTRLEN];

	if (!scoped(e) || !e->scope.prefixlen || !e->naddrs || prefix_held(e))
		return;
	log_msg(LOG_NOTICE, "%s: no entry of prefix /%u left: following the kernel's /%u",
		addr_str(&e->scope.addr, a, sizeof(a)), e->scope.prefixlen, e->addrs[0].prefixlen);
	engine_set_prefix(e, e->addrs[0].prefixlen);
}

/* Has an entry of u's address done DAD?  Only early rules make an uplink
 * of one that has not, and its routes wait: the kernel refuses a route
 * whose source is a tentative address. */
static bool addr_ready(const struct engine *e, const struct uplink *u)
{
	if (!early(e))
		return true;
	for (size_t i = 0; i < e->naddrs; i++) {
		const struct kaddr *a = &e->addrs[i];

		if (a->family == u->key.family && a->ifindex == u->ifindex && addr_eligible(a) &&
		    !memcmp(a->addr.bytes, u->key.addr.bytes, addr_len(a->family)))
			return true;
	}
	return false;
}

/* A guard an uplink of the scope's address could need: its network holds
 * the address.  Other networks' guards are other rtallocs' business. */
static bool guard_in_scope(const struct engine *e, const struct krule *r)
{
	struct inet_addr net = e->scope.addr, dst = r->dst;

	if (!is_guard(e, r))
		return false;
	addr_mask(&net, r->dst_len);
	addr_mask(&dst, r->dst_len);
	return !memcmp(net.bytes, dst.bytes, addr_len(r->family));
}

/* A table the engine holds or empties. */
static bool table_ours(const struct engine *e, uint8_t family, uint32_t table)
{
	const struct etable *t = table_find(e, family, table);

	return t && (t->users || t->stale);
}

/* Is ev's object one the mirror keeps?  Unscoped, every one.  Main's
 * routes through other links need no check here: the mirror has no such
 * link (and a multipath route's first nexthop through one must still make
 * forget_nexthops() run). */
static bool in_scope(const struct engine *e, const struct kevent *ev)
{
	const struct engine_scope *s = &e->scope;

	if (!scoped(e))
		return true;
	switch (ev->type) {
	case KOBJ_LINK:
		return ev->link.ifindex == s->ifindex;
	case KOBJ_ADDR:
		return ev->addr.family == s->family && ev->addr.ifindex == s->ifindex &&
		       !memcmp(ev->addr.addr.bytes, s->addr.bytes, addr_len(s->family));
	case KOBJ_ROUTE:
		if (ev->route.family != s->family)
			return false;
		if (ev->route.table == KTABLE_MAIN)
			return s->copy_main;
		return table_ours(e, ev->route.family, ev->route.table);
	case KOBJ_RULE:
		/* main's: the guards, shared by every uplink of a network */
		return ev->rule.family == s->family &&
		       (s->rules_known || guard_in_scope(e, &ev->rule) ||
			table_ours(e, ev->rule.family, ev->rule.table));
	case KOBJ_NEXTHOP:	/* never an event */
		break;
	}
	return false;
}

/* Returns true when a pass is due. */
static bool mirror_event(struct engine *e, const struct kevent *ev)
{
	if (!in_scope(e, ev))
		return false;
	switch (ev->type) {
	case KOBJ_LINK:
		return mirror_link(e, &ev->link, ev->del);
	case KOBJ_ADDR: {
		struct elink *l;
		struct uplink_policy pol;

		if (!mirror_addr(e, &ev->addr, ev->del))
			return false;
		if (ev->del && ev->addr.prefixlen == e->scope.prefixlen)
			prefix_follow(e);
		/* Early rules: an address whose DAD failed loses them. */
		if (!addr_usable(e, &ev->addr)) {
			if (!early(e))
				return false;
			e->scan = true;
			return true;
		}
		/* An address of a link we do not manage costs no pass. */
		l = link_find(e, ev->addr.ifindex);
		if (l && !link_managed(e, l, ev->addr.family, &pol))
			return false;
		/* Early rules: DAD done brings the routes. */
		if (l && early(e))
			l->dirty = true;
		e->scan = true;
		/* An address deleted and added again (NetworkManager does so
		 * within milliseconds) has had the routes using it flushed
		 * without a word: what the tables hold is read again. */
		if (ev->del) {
			e->gone_addrs[e->ngone_addrs++ % ENGINE_GONE_ADDRS] = ev->addr;
		} else {
			for (unsigned i = 0; i < ENGINE_GONE_ADDRS && i < e->ngone_addrs; i++)
				if (kaddr_same(&e->gone_addrs[i], &ev->addr))
					e->resync = true;
		}
		return true;
	}
	case KOBJ_ROUTE: {
		bool forgot = forget_nexthops(e, ev);

		if (!route_kept(&ev->route) || !mirror_route(e, &ev->route, ev->del))
			return forgot;
		if (ev->route.table == KTABLE_MAIN) {
			struct elink *l = link_find(e, ev->route.oif);

			if (!l)
				return forgot;
			l->dirty = true;
			if (!ev->del && !ev->route.dst_len && ev->route.type == RTN_UNICAST)
				l->had_default[fam_ix(ev->route.family)] = true;
			return true;
		}
		return mark_table(e, ev->route.family, ev->route.table) || forgot;
	}
	case KOBJ_RULE:
		/* rtalloc-track's rules for unbound traffic point into our
		 * tables but are its own (kobj.h's pref partition): not
		 * mirrored, so never taken for strays of the table. */
		if (ev->rule.proto != RTPROT_RTALLOC || krule_is_track(&ev->rule) ||
		    KPREF_IS_EXEC(ev->rule.pref) ||
		    !mirror_rule(e, &ev->rule, ev->del))
			return false;
		/* A guard deleted by hand is put back at once. */
		if (ev->del && is_guard(e, &ev->rule))
			return true;
		return mark_table(e, ev->rule.family, ev->rule.table);
	case KOBJ_NEXTHOP:	/* never an event */
		break;
	}
	return false;
}

static void load_cb(const struct kevent *ev, void *data)
{
	mirror_event(data, ev);
}

/* Scoped: the routes of each table the engine holds or empties, one
 * filtered dump per table; all: every such table, else those not read yet
 * (a table that entered since the last pass). */
static int load_tables(struct engine *e, bool all)
{
	struct engine_table *want = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!scoped(e))
		return 0;
	/* Listed first: a dump must not walk the hash it fills. */
	for (size_t b = 0; b < e->captables; b++)
		for (struct etable *t = e->tables[b]; t; t = t->next) {
			if (!(t->users || t->stale) || (t->loaded && !all))
				continue;
			if (kobj_grow((void **)&want, &cap, n, sizeof(*want)) < 0) {
				free(want);
				return -ENOMEM;
			}
			want[n++] = (struct engine_table){ .family = t->family, .table = t->table };
		}
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct kfilter f = { .family = want[i].family, .table = want[i].table };
		struct etable *t;

		ret = kernel_dump(e->k, KOBJ_ROUTE, &f, load_cb, e);
		t = table_find(e, want[i].family, want[i].table);
		if (ret == 0 && t)
			t->loaded = true;
	}
	free(want);
	return ret;
}

/* Scoped: the link, the addresses of family on it, main's routes through
 * it (copy_main), our tables' routes, and rules when known or resyncing. */
static int load_scope(struct engine *e)
{
	const struct engine_scope *s = &e->scope;
	struct kfilter link = { .ifindex = s->ifindex },
		       addrs = { .family = s->family, .ifindex = s->ifindex },
		       main = { .family = s->family, .ifindex = s->ifindex, .table = KTABLE_MAIN },
		       rules = { .family = s->family };
	int ret = kernel_dump(e->k, KOBJ_LINK, &link, load_cb, e);

	if (ret == 0)
		ret = kernel_dump(e->k, KOBJ_ADDR, &addrs, load_cb, e);
	if (ret == 0 && s->copy_main)
		ret = kernel_dump(e->k, KOBJ_ROUTE, &main, load_cb, e);
	if (ret == 0)
		ret = load_tables(e, true);
	if (ret == 0 && (s->rules_known || e->resync))
		ret = kernel_dump(e->k, KOBJ_RULE, &rules, load_cb, e);
	return ret;
}

int engine_load(struct engine *e)
{
	static const enum kobj_type order[] = { KOBJ_LINK, KOBJ_ADDR, KOBJ_ROUTE, KOBJ_RULE };
	struct elink *old = e->nlinks ? malloc(e->nlinks * sizeof(*old)) : NULL;
	size_t nold = old ? e->nlinks : 0;
	bool held = prefix_held(e);
	int ret;

	/* What main had through a link is history the dump cannot tell. */
	if (old)
		memcpy(old, e->links, nold * sizeof(*old));
	for (size_t i = 0; i < e->nlinks; i++)
		kroute_set_free(&e->links[i].main);
	e->nlinks = e->naddrs = 0;
	for (size_t i = 0; i < e->captables; i++)
		for (struct etable *t = e->tables[i]; t; t = t->next) {
			t->rules.n = t->routes.n = 0;
			t->loaded = false;
		}
	if (scoped(e)) {
		ret = load_scope(e);
		if (ret < 0) {
			free(old);
			return ret;
		}
	}
	for (size_t i = 0; !scoped(e) && i < sizeof(order) / sizeof(order[0]); i++) {
		ret = kernel_dump(e->k, order[i], NULL, load_cb, e);
		if (ret < 0) {
			free(old);
			return ret;
		}
	}
	for (size_t i = 0; i < nold; i++) {
		struct elink *l = link_find(e, old[i].l.ifindex);

		for (int f = 0; l && f < 2; f++)
			l->had_default[f] |= old[i].had_default[f];
	}
	free(old);
	for (size_t i = 0; i < e->captables; i++)
		for (struct etable *t = e->tables[i], *next; t; t = next) {
			next = t->next;
			table_put(e, t);
		}
	/* The deletion of the owner's entry may be among the events lost. */
	if (held)
		prefix_follow(e);
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
		e->stats.resyncs++;
		return 1;
	}
	if (ret < 0)
		return ret;
	return ctx.due;
}

const struct elink *engine_link(const struct engine *e, int ifindex)
{
	return link_find(e, ifindex);
}

const struct etable *engine_table(const struct engine *e, uint8_t family, uint32_t table)
{
	return table_find(e, family, table);
}

const struct kaddr *engine_addr(const struct engine *e, const struct inet_addr *a)
{
	for (size_t i = 0; i < e->naddrs; i++)
		if (e->addrs[i].family == a->family &&
		    !memcmp(e->addrs[i].addr.bytes, a->bytes, addr_len(a->family)))
			return &e->addrs[i];
	return NULL;
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

/* The owner's routes for u's link that main lacks, made u's as copies are. */
static int extra_routes(const struct engine *e, const struct uplink *u, const struct elink *l,
			struct kroute_set *routes)
{
	struct kroute_set x = { 0 };
	bool main_default = false;
	size_t nmain = routes->n;	/* the ones taken from main */
	int ret = 0;

	for (size_t i = 0; i < l->main.n && !main_default; i++)
		main_default = l->main.v[i].family == u->key.family && !l->main.v[i].dst_len &&
			       l->main.v[i].oif == u->ifindex && l->main.v[i].type == RTN_UNICAST;
	if (e->ops->extra_routes(e, u, main_default, l->had_default[fam_ix(u->key.family)], &x) < 0) {
		kroute_set_free(&x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < x.n; i++) {
		struct kroute c = x.v[i];
		bool dup = false;

		if (c.family != u->key.family || c.oif != u->ifindex)
			continue;
		c.table = u->table;
		c.proto = RTPROT_RTALLOC;
		c.multipath = c.cloned = false;
		memset(&c.src, 0, sizeof(c.src));
		if (!linklocal6(&c))
			c.src = u->key.addr;
		/* They fill what main lacks: a destination main routes
		 * through the link keeps main's route.  Among themselves,
		 * only the same route twice is one: a second gateway's
		 * default differs by its metric. */
		for (size_t j = 0; j < routes->n && !dup; j++)
			dup = j < nmain ? routes->v[j].dst_len == c.dst_len &&
						  !memcmp(routes->v[j].dst.bytes, c.dst.bytes, addr_len(c.family))
					: kroute_same_key(&routes->v[j], &c);
		if (!dup)
			ret |= kroute_set_add(routes, &c);
	}
	kroute_set_free(&x);
	return ret;
}

int engine_desired(const struct engine *e, const struct uplink *u, struct krule_set *rules,
		   struct kroute_set *routes)
{
	uint8_t max = (uint8_t)(addr_len(u->key.family) * 8);
	const struct elink *l = link_find(e, u->ifindex);
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
	/* A /0 would take every destination, ahead of main: no `to` rule. */
	if (u->prefixlen) {
		rule_base(u, e->prefs.to, &r);
		r.dst = u->key.addr;
		addr_mask(&r.dst, u->prefixlen);
		r.dst_len = u->prefixlen;
		ret |= krule_set_add(rules, &r);
	}
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
	if (!l || !l->l.up || !addr_ready(e, u))
		return ret ? -ENOMEM : 0;
	const struct kroute *src = u->given ? u->given->v : l->main.v;
	size_t n = u->given ? u->given->n : l->main.n;

	for (size_t i = 0; i < n; i++) {
		struct kroute c = src[i];
		bool dup = false;

		/* A nexthop of a multipath route in main is this link's
		 * single-path route in the table. */
		if (c.family != u->key.family || c.oif != u->ifindex || c.cloned)
			continue;
		if (!u->given && (c.table != KTABLE_MAIN || c.type != RTN_UNICAST))
			continue;
		c.table = u->table;
		c.proto = RTPROT_RTALLOC;
		c.multipath = false;
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
	if (!u->given && e->ops->extra_routes && !ret)
		ret = extra_routes(e, u, l, routes);
	return ret ? -ENOMEM : 0;
}

/* ---- uplinks ---- */

static int stale_add(struct engine *e, uint8_t family, uint32_t table)
{
	struct etable *t;
	int ret;

	if (!table)
		return 0;
	t = table_get(e, family, table);
	if (!t)
		return -ENOMEM;
	if (t->stale)
		return 0;
	ret = kobj_grow((void **)&e->stale, &e->capstale, e->nstale, sizeof(*e->stale));
	if (ret < 0) {
		table_put(e, t);
		return ret;
	}
	t->stale = true;
	e->stale[e->nstale++] = (struct engine_table){ .family = family, .table = table };
	return 0;
}

static void stale_del_at(struct engine *e, size_t i)
{
	struct etable *t = table_find(e, e->stale[i].family, e->stale[i].table);

	e->stale[i] = e->stale[--e->nstale];
	if (t) {
		t->stale = false;
		t->retry_ms = 0;
		table_put(e, t);
	}
}

int engine_claim_table(struct engine *e, uint8_t family, uint32_t table)
{
	struct etable *t = table_find(e, family, table);

	if (t && t->users)
		return 0;
	return stale_add(e, family, table);
}

/* Through stale_del_at(): the table's stale mark goes too, or a later
 * engine_claim_table() would take it for still listed and never empty it. */
void engine_keep_table(struct engine *e, uint8_t family, uint32_t table)
{
	for (size_t i = 0; i < e->nstale;)
		if (e->stale[i].table == table && e->stale[i].family == family)
			stale_del_at(e, i);
		else
			i++;
}

void engine_rescan(struct engine *e)
{
	for (size_t i = 0; i < e->nlinks; i++)
		e->links[i].managed[0] = e->links[i].managed[1] = -1;
	e->scan = true;
	e->all_dirty = true;
}

int engine_claim_leftovers(struct engine *e, uint8_t family, const struct inet_addr *addr, uint32_t keep)
{
	size_t i;
	int ret;

	for (i = 0; i < e->nclaims; i++)
		if (e->claims[i].family == family &&
		    !memcmp(e->claims[i].addr.bytes, addr->bytes, addr_len(family)))
			break;
	if (i == e->nclaims) {
		ret = kobj_grow((void **)&e->claims, &e->capclaims, e->nclaims, sizeof(*e->claims));
		if (ret < 0)
			return ret;
		e->nclaims++;
	}
	e->claims[i] = (struct engine_claim){ .family = family, .addr = *addr, .keep = keep };
	return 0;
}

void engine_set_table(struct engine *e, struct uplink *u, uint32_t table)
{
	if (u->table == table)
		return;
	/* The crashed run's table was not given back: its `from A` rule,
	 * first at its pref, would keep A's traffic there. */
	if (!u->table && table && u->adopt && table != u->adopt && !e->routes_only) {
		engine_claim_leftovers(e, u->key.family, &u->key.addr, table);
		u->adopt = 0;
	}
	if (u->table)
		stale_add(e, u->key.family, u->table);
	/* A table we were given is no longer stale. */
	for (size_t i = 0; i < e->nstale;)
		if (e->stale[i].table == table && e->stale[i].family == u->key.family)
			stale_del_at(e, i);
		else
			i++;
	table_hold(e, u, table);
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

	for (size_t b = 0; b < e->captables; b++)
		for (const struct etable *t = e->tables[b]; t; t = t->next) {
			if (t->family != u->key.family)
				continue;
			for (size_t i = 0; i < t->rules.n; i++) {
				const struct krule *r = &t->rules.v[i];

				if (r->pref == e->prefs.from && r->src_len == len * 8 && !r->dst_len &&
				    !r->iif[0] && !r->has_fwmark &&
				    !memcmp(r->src.bytes, u->key.addr.bytes, len))
					return r->table;
			}
		}
	return 0;
}

/* The uplink of u's address on another link, that is not itself waiting
 * for it: the address's owner. */
static const struct uplink *owner_elsewhere(const struct engine *e, const struct uplink *u)
{
	for (size_t i = 0; i < e->nup; i++) {
		const struct uplink *o = e->up[i];

		if (o != u && !o->second && o->key.family == u->key.family && o->ifindex != u->ifindex &&
		    !memcmp(o->key.addr.bytes, u->key.addr.bytes, addr_len(u->key.family)))
			return o;
	}
	return NULL;
}

/* u's address is its own now: announced to the owner. */
static void uplink_announce(struct engine *e, struct uplink *u)
{
	u->second = false;
	u->foreign = false;
	u->dirty = true;
	if (e->ops->uplink_new && !e->ops->uplink_new(e, u))
		u->foreign = true;
}

static int uplink_add(struct engine *e, const struct kaddr *a, const struct klink *l,
		      const struct uplink_policy *pol)
{
	const struct uplink *first;
	char s[INET6_ADDRSTRLEN];
	struct uplink *u;
	int ret = kobj_grow((void **)&e->up, &e->capup, e->nup, sizeof(*e->up));

	if (ret == 0)
		ret = uindex_grow(e);
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
	u->prefixlen = prefix_of(e, a);
	u->pol = *pol;
	u->seen = true;
	u->dirty = true;
	u->adopt = adopt_table(e, u);
	e->up[e->nup++] = u;
	uindex_put(e, u);
	first = owner_elsewhere(e, u);
	if (first) {
		/* Two leases and two `from A` rules would fight over A's
		 * traffic: the first link keeps it. */
		u->second = u->foreign = true;
		u->adopt = 0;
		log_msg(LOG_WARNING, "%s on %s: already on %s, which keeps it: refused until it goes there",
			addr_str(&u->key.addr, s, sizeof(s)), u->key.ifname, first->key.ifname);
		return 0;
	}
	uplink_announce(e, u);
	return 0;
}

static int scan_gone(struct engine *e, struct uplink ***gone, size_t *ngone, size_t *capgone);

/* Addresses -> uplinks: new ones are announced, gone ones collected. */
static int scan(struct engine *e, struct uplink ***gone, size_t *ngone)
{
	size_t capgone = 0;
	bool renamed = false;
	int ret = 0;

	for (size_t i = 0; i < e->nup; i++)
		e->up[i]->seen = false;
	/* Twice: uplinks that stay are marked first, and the gone ones are
	 * dropped before new ones come, so an address that moves to another
	 * link in one burst is that link's at once (one owner per address). */
	for (int add = 0; add < 2; add++) {
		for (size_t i = 0; i < e->naddrs; i++) {
			const struct kaddr *a = &e->addrs[i];
			struct elink *l;
			struct uplink_policy pol = { 0 };
			struct uplink *u;

			if (!addr_usable(e, a) || !(l = link_find(e, a->ifindex)) ||
			    !link_managed(e, l, a->family, &pol))
				continue;
			u = uplink_find(e, a->family, a->ifindex, &a->addr);
			if (u && strcmp(u->key.ifname, l->l.name)) {
				/* Renamed: the lease key names the link.  Let
				 * the old uplink go and start over under the
				 * new name. */
				renamed = true;
				continue;
			}
			if (u && !add) {
				/* One uplink per address; the newest entry's
				 * prefix. */
				if (!u->seen && u->prefixlen != prefix_of(e, a)) {
					u->prefixlen = prefix_of(e, a);
					u->dirty = true;
					u->new_prefix = true;
				}
				u->seen = true;
				engine_set_policy(e, u, &pol);
			} else if (!u && add) {
				ret = uplink_add(e, a, &l->l, &pol);
				if (ret < 0)
					return ret;
			}
		}
		if (!add)
			ret = scan_gone(e, gone, ngone, &capgone);
		if (ret < 0)
			return ret;
	}
	/* The first link's address went: the second's takes over. */
	for (size_t i = 0; i < e->nup; i++) {
		struct uplink *u = e->up[i];
		char s[INET6_ADDRSTRLEN];

		if (!u->second || owner_elsewhere(e, u))
			continue;
		log_msg(LOG_NOTICE, "%s on %s: no longer on another link: taking it over",
			addr_str(&u->key.addr, s, sizeof(s)), u->key.ifname);
		uplink_announce(e, u);
	}
	e->scan = renamed;
	return 0;
}

/* The uplinks scan() did not see: to *gone, out of the indexes. */
static int scan_gone(struct engine *e, struct uplink ***gone, size_t *ngone, size_t *capgone)
{
	for (size_t i = 0; i < e->nup;) {
		struct uplink *u = e->up[i];

		if (u->seen) {
			i++;
			continue;
		}
		if (kobj_grow((void **)gone, capgone, *ngone, sizeof(**gone)) < 0)
			return -ENOMEM;
		(*gone)[(*ngone)++] = u;
		if (u->table && !u->foreign)
			stale_add(e, u->key.family, u->table);
		uindex_del(e, u);
		table_unhold(e, u);
		e->up[i] = e->up[--e->nup];
	}
	return 0;
}

/* ---- applying ---- */

static const struct krule_set no_rules;
static const struct kroute_set no_routes;

/* Ours in the kernel for a table (a table number is per family). */
static void have_of(const struct engine *e, uint8_t family, uint32_t table,
		    const struct krule_set **rules, const struct kroute_set **routes)
{
	const struct etable *t = table_find(e, family, table);

	*rules = t && !e->routes_only ? &t->rules : &no_rules;
	*routes = t ? &t->routes : &no_routes;
}

/* One exchange of changes v[0, n): the mirror learns each change made,
 * each refusal is told (rate-limited) and the first one's -errno kept in
 * *first.  0, or the exchange's -errno (errs then mean nothing). */
static int apply_batch(struct engine *e, const char *what, const struct kchange *v, size_t n,
		       int *errs, int *first)
{
	char buf[200];
	int ret = kernel_apply(e->k, v, n, errs);

	if (ret < 0) {
		e->resync = true;
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		const struct kchange *c = &v[i];

		if (errs[i]) {
			if (!*first)
				*first = errs[i];
			if (ratelimit_ok(&e->rl, e->pass_ms))
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
	return 0;
}

/* Do a and b route one destination (whatever their gateways, metrics)? */
static bool same_dest(const struct kroute *a, const struct kroute *b)
{
	return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
	       !memcmp(a->dst.bytes, b->dst.bytes, addr_len(a->family));
}

/* Does an addition of v[0, n) the kernel refused (errs) keep deletion d
 * for now?  Every rule, while the rules that replace them are not all in;
 * a route, while the one for its destination (a new gateway or metric)
 * is not. */
static bool kept_for_now(const struct kchange *v, size_t n, const int *errs, const struct kchange *d)
{
	for (size_t i = 0; i < n; i++) {
		if (!errs[i] || !v[i].add || v[i].type != d->type)
			continue;
		if (d->type == KOBJ_RULE || same_dest(&v[i].route, &d->route))
			return true;
	}
	return false;
}

/* Applies e->plan; the mirror learns each change made.  Make before
 * break: the deletions after the plan's last addition (reconcile.h's
 * order: the old rules, then the old routes) go in a second exchange,
 * once the first one told what the kernel took.  A refused rule undoes
 * the rules added with it (half the rules route half the traffic) and
 * keeps the old ones (a prefix's new `to` rule refused keeps its old
 * one); a refused route keeps the old routes of its destination.  What
 * is kept goes with the retry that gets the new ones in.  Returns 0, the
 * first refusal's -errno, or the exchange's. */
static int plan_apply(struct engine *e, const char *what)
{
	struct kplan *p = &e->plan;
	struct kchange *brk = NULL;
	int *errs = NULL, ret = 0, first = 0;
	size_t split = p->n, nbrk = 0;

	if (!p->n)
		return 0;
	while (split && !p->v[split - 1].add)
		split--;
	if (!split)
		split = p->n;	/* deletions only: nothing to wait for */
	errs = calloc(p->n, sizeof(*errs));
	brk = calloc(p->n - split + 1, sizeof(*brk));
	if (!errs || !brk) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = apply_batch(e, what, p->v, split, errs, &first);
	if (ret < 0)
		goto cleanup;
	for (size_t i = 0; i < split && first; i++) {
		const struct kchange *c = &p->v[i];

		if (c->type == KOBJ_RULE && c->add && errs[i] && c->rule.pref) {
			/* undo this table's rule additions */
			struct kchange undo;
			int err;

			for (size_t j = 0; j < split; j++) {
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
	for (size_t i = split; i < p->n; i++)
		if (!kept_for_now(p->v, split, errs, &p->v[i]))
			brk[nbrk++] = p->v[i];
	if (nbrk)
		ret = apply_batch(e, what, brk, nbrk, errs + split, &first);
	if (ret == 0)
		ret = first;
cleanup:
	free(errs);
	free(brk);
	return ret;
}

/* The owner's loop calls engine_pass again at the earliest due time. */
static void due_at(struct engine *e, uint64_t at)
{
	if (!e->next_due_ms || at < e->next_due_ms)
		e->next_due_ms = at;
}

/* The kernel refused what *retry_ms waits for: a pass is due after 1 s,
 * the wait doubling up to 30 s while the kernel keeps refusing. */
static void retry_later(struct engine *e, uint64_t *retry_ms, uint64_t now)
{
	*retry_ms = *retry_ms ? *retry_ms * 2 : RETRY_MIN_MS;
	if (*retry_ms > RETRY_MAX_MS)
		*retry_ms = RETRY_MAX_MS;
	due_at(e, now + *retry_ms);
}

static bool guard_missing(const struct engine *e, const struct uplink *u);

/* u's guard not in (the kernel refused it), its `to` rule would send the
 * traffic to its network that main routes through another link (a more
 * specific route) to u's table: a `to` rule not in yet waits for the
 * guard, and those in stay (a new prefix's old one), so the change waits
 * whole.  Its other rules and its routes do not wait.  *held: one waits
 * (engine_pass() retries u with its backoff).  0 or -ENOMEM. */
static int to_waits(const struct engine *e, const struct uplink *u, struct krule_set *want,
		    const struct krule_set *have, bool *held)
{
	size_t kept = 0;

	*held = false;
	if (!guard_missing(e, u))
		return 0;
	for (size_t i = 0; i < want->n; i++) {
		if (want->v[i].pref == e->prefs.to && !krule_in(&want->v[i], have->v, have->n))
			*held = true;
		else
			want->v[kept++] = want->v[i];
	}
	want->n = kept;
	for (size_t i = 0; *held && i < have->n; i++)
		if (have->v[i].pref == e->prefs.to && !krule_in(&have->v[i], want->v, want->n) &&
		    krule_set_add(want, &have->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int reconcile_uplink(struct engine *e, struct uplink *u, uint64_t now,
			    struct krule_set *want_r, struct kroute_set *want_rt)
{
	const struct krule_set *have_r;
	const struct kroute_set *have_rt;
	char a[INET6_ADDRSTRLEN], what[96];
	size_t rule_adds = 0, route_adds = 0;
	bool held;
	int ret;

	if (u->hold_until_ms > now) {
		u->dirty = true;
		due_at(e, u->hold_until_ms);
		return 0;
	}
	u->dirty = false;
	ret = engine_desired(e, u, want_r, want_rt);
	if (ret < 0)
		return ret;
	have_of(e, u->key.family, u->table, &have_r, &have_rt);
	ret = to_waits(e, u, want_r, have_r, &held);
	if (ret < 0)
		return ret;
	kplan_reset(&e->plan);
	ret = reconcile(want_r, want_rt, have_r, have_rt, &e->plan);
	if (ret < 0 || !e->plan.n) {
		/* what waits is not installed: its `to` rule, once in, is
		 * no restoration */
		if (ret == 0 && !held) {
			u->installed = true;
			u->new_prefix = false;
		}
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
	/* A retry of what the kernel refused is nobody undoing our work. */
	if (!u->retry_ms && ++u->fixes > FIX_MAX) {
		u->hold_until_ms = now + FIX_HOLD_MS;
		u->dirty = true;
		log_msg(LOG_WARNING, "%s: changed %u times in %u s, someone keeps undoing it: waiting %u s",
			what, u->fixes - 1, FIX_WINDOW_MS / 1000, FIX_HOLD_MS / 1000);
		u->fixes = 0;
		due_at(e, u->hold_until_ms);
		return 0;
	}
	ret = plan_apply(e, what);
	/* Refused: its lines said what, engine_pass tries again later;
	 * nothing restored to count or tell. */
	if (ret < 0)
		return ret;
	if (u->installed)
		e->stats.routes_added += route_adds;
	if (u->installed && rule_adds && !u->new_prefix) {
		e->stats.restored += rule_adds;
		if (ratelimit_ok(&e->rl, now))
			log_msg(LOG_NOTICE, "%s: restored %zu deleted rule(s)", what, rule_adds);
	} else if (u->installed && route_adds && e->routes_only) {
		/* Deleted by hand, or dropped by the kernel with a link that
		 * went down and came back. */
		if (ratelimit_ok(&e->rl, now))
			log_msg(LOG_NOTICE, "%s: restored %zu missing route(s)", what, route_adds);
	} else if (!u->installed && e->routes_only) {
		log_msg(LOG_INFO, "%s: %zu routes", what, want_rt->n);
	} else if (!u->installed) {
		log_msg(LOG_INFO, "%s: %zu rules, %zu routes", what, want_r->n, want_rt->n);
	} else if (u->installed && ratelimit_ok(&e->rl, now)) {
		log_msg(LOG_INFO, "%s: %zu change(s) to follow the kernel", what, e->plan.n);
	}
	if (!held) {
		u->installed = true;
		u->new_prefix = false;
	}
	return 0;
}

static int empty_table(struct engine *e, struct engine_table t, struct krule_set *want_r,
		       struct kroute_set *want_rt)
{
	const struct krule_set *have_r;
	const struct kroute_set *have_rt;
	const struct etable *et;
	char what[48];
	int ret;

	want_r->n = want_rt->n = 0;
	have_of(e, t.family, t.table, &have_r, &have_rt);
	kplan_reset(&e->plan);
	ret = reconcile(want_r, want_rt, have_r, have_rt, &e->plan);
	if (ret < 0 || !e->plan.n)
		return ret;
	snprintf(what, sizeof(what), "IPv%d table %u", t.family == AF_INET ? 4 : 6, t.table);
	/* told once, not at each retry of what the kernel refused */
	et = table_find(e, t.family, t.table);
	if (!et || !et->retry_ms)
		log_msg(LOG_INFO, "%s: removing %zu rule(s) and route(s) no address needs", what,
			e->plan.n);
	return plan_apply(e, what);
}

/* u's guard ahead of its `to` rule (engine.h); false when it needs none:
 * no `to` rule (a /0), or nothing in main can be more specific (a host
 * address). */
static bool guard_of(const struct engine *e, const struct uplink *u, struct krule *r)
{
	if (!u->prefixlen || u->prefixlen >= addr_len(u->key.family) * 8)
		return false;
	memset(r, 0, sizeof(*r));
	r->family = u->key.family;
	r->pref = e->prefs.guard;
	r->table = KTABLE_MAIN;
	r->proto = RTPROT_RTALLOC;
	r->dst = u->key.addr;
	addr_mask(&r->dst, u->prefixlen);
	r->dst_len = u->prefixlen;
	r->src.family = r->dst.family = u->key.family;
	r->has_suppress = true;
	r->suppress = u->prefixlen;
	return true;
}

static bool is_guard(const struct engine *e, const struct krule *r)
{
	return r->table == KTABLE_MAIN && r->pref == e->prefs.guard && r->has_suppress && r->dst_len;
}

/* Is guard g in the kernel (the mirror of main's rules)? */
static bool guard_held(const struct engine *e, const struct krule *g)
{
	const struct etable *t = table_find(e, g->family, KTABLE_MAIN);

	for (size_t j = 0; t && j < t->rules.n; j++)
		if (krule_equal(&t->rules.v[j], g))
			return true;
	return false;
}

/* u wants a guard that guards_pass() could not put in (refused). */
static bool guard_missing(const struct engine *e, const struct uplink *u)
{
	struct krule g;

	return !e->routes_only && !u->foreign && u->table && guard_of(e, u, &g) && !guard_held(e, &g);
}

/* Is r a `to` rule of ours that sends guard g's network to a table? */
static bool guard_needs(const struct engine *e, const struct krule *g, const struct krule *r)
{
	return r->family == g->family && r->table != KTABLE_MAIN && r->pref == e->prefs.to &&
	       r->dst_len == g->dst_len && !r->src_len && !r->iif[0] &&
	       !memcmp(r->dst.bytes, g->dst.bytes, addr_len(g->family));
}

/* Does a `to` rule of ours (any table: the agent's or an rtalloc's) send
 * guard g's network to a table? */
static bool guard_used(const struct engine *e, const struct krule *g)
{
	for (size_t b = 0; b < e->captables; b++)
		for (const struct etable *t = e->tables[b]; t; t = t->next)
			for (size_t i = 0; t->family == g->family && i < t->rules.n; i++)
				if (guard_needs(e, g, &t->rules.v[i]))
					return true;
	return false;
}

struct guard_dump {
	const struct engine *e;
	struct krule_set *sel;
	bool *used;
};

static void guard_dump_cb(const struct kevent *ev, void *data)
{
	const struct guard_dump *d = data;

	if (ev->rule.proto != RTPROT_RTALLOC || krule_is_track(&ev->rule))
		return;
	for (size_t i = 0; i < d->sel->n; i++)
		if (guard_needs(d->e, &d->sel->v[i], &ev->rule))
			d->used[i] = true;
}

/* Scoped without rules_known, the mirror lacks other rtallocs' `to`
 * rules: a guard it finds unused (in sel) may be one of theirs.  One dump
 * of the family's rules tells; the guards still needed leave sel and the
 * mirror (another's to keep), so the next pass does not ask again. */
static int guards_known(struct engine *e, struct krule_set *sel)
{
	struct kfilter f = { .family = e->scope.family };
	bool *used = calloc(sel->n, sizeof(*used));
	struct guard_dump d = { .e = e, .sel = sel, .used = used };
	int ret = used ? kernel_dump(e->k, KOBJ_RULE, &f, guard_dump_cb, &d) : -ENOMEM;

	for (size_t i = sel->n; ret == 0 && i-- > 0;)
		if (used[i]) {
			mirror_rule(e, &sel->v[i], true);
			krule_set_del_at(sel, i);
		}
	free(used);
	return ret;
}

/* Guards in step with the uplinks: add, before any `to` rule goes in, the
 * guard of every uplink with a table; remove, after the `to` rules went,
 * the guards no `to` rule of ours needs any more (one an rtalloc's rules
 * share is kept).  Guards are shared, so kept here, not per table. */
static int guards_pass(struct engine *e, bool add)
{
	struct krule_set sel = { 0 };
	int ret = 0;

	if (e->routes_only)
		return 0;
	kplan_reset(&e->plan);
	for (size_t i = 0; add && i < e->nup; i++) {
		const struct uplink *u = e->up[i];
		struct krule g;
		bool have = false;

		if (u->foreign || !u->table || !guard_of(e, u, &g))
			continue;
		for (size_t j = 0; j < sel.n && !have; j++)
			have = krule_equal(&sel.v[j], &g);
		if (have || guard_held(e, &g))
			continue;
		if (krule_set_add(&sel, &g) < 0) {
			ret = -ENOMEM;
			break;
		}
	}
	for (int f = 0; !add && f < 2; f++) {
		const struct etable *t = table_find(e, f ? AF_INET6 : AF_INET, KTABLE_MAIN);

		for (size_t j = 0; t && j < t->rules.n; j++) {
			const struct krule *g = &t->rules.v[j];

			if (!is_guard(e, g) || guard_used(e, g))
				continue;
			if (krule_set_add(&sel, g) < 0) {
				ret = -ENOMEM;
				break;
			}
		}
	}
	if (ret == 0 && !add && sel.n && scoped(e) && !e->scope.rules_known)
		ret = guards_known(e, &sel);
	if (ret == 0 && sel.n)
		ret = reconcile(add ? &sel : &no_rules, &no_routes, add ? &no_rules : &sel, &no_routes,
				&e->plan);
	krule_set_free(&sel);
	if (ret == 0 && e->plan.n)
		ret = plan_apply(e, add ? "guards" : "unused guards");
	return ret;
}

/* The uplink that owns address a of family (not a foreign one) and has a
 * table it is not installed in yet: a move, or a first table, under way.
 * NULL when there is none. */
static const struct uplink *moving(const struct engine *e, uint8_t family, const struct inet_addr *a)
{
	for (size_t i = 0; i < e->nup; i++) {
		const struct uplink *u = e->up[i];

		if (!u->foreign && u->table && !u->installed && u->key.family == family &&
		    !memcmp(u->key.addr.bytes, a->bytes, addr_len(family)))
			return u;
	}
	return NULL;
}

/* Is s the table an uplink moved from, not yet installed in its new one?
 * Its `from A` rule still routes A's traffic: s keeps it until the move is
 * done, at a later pass, so A is never left without a working table.  The
 * rule, not a note made by engine_set_table, tells: a table claimed with
 * A's leftovers waits for A's new table just the same. */
static bool move_pending(const struct engine *e, struct engine_table s)
{
	const struct etable *t = table_find(e, s.family, s.table);
	size_t len = addr_len(s.family);

	for (size_t i = 0; t && i < t->rules.n; i++) {
		const struct krule *r = &t->rules.v[i];
		const struct uplink *u;

		if (r->pref != e->prefs.from || r->src_len != len * 8)
			continue;
		u = moving(e, s.family, &r->src);
		if (u && u->table != s.table)
			return true;
	}
	return false;
}

/* A claim waits while its address's uplink with the kept table is not
 * installed: the new table is selected before the old one goes. */
static bool claim_waits(const struct engine *e, const struct engine_claim *c)
{
	const struct uplink *u = c->keep ? moving(e, c->family, &c->addr) : NULL;

	return u && u->table == c->keep;
}

/* c's leftovers (leftover.h) out of the kernel: whole tables join the stale
 * ones (emptied in this pass), the other rules go now.  In a table one of
 * our uplinks holds, only c's `from` rules go: the holder's rules may just
 * not be in place yet. */
static int claim_apply(struct engine *e, const struct engine_claim *c)
{
	struct krule_set ours = { 0 }, sel = { 0 };
	struct leftover *lo = malloc(sizeof(*lo));
	char a[INET6_ADDRSTRLEN], what[96];
	size_t nwhole = 0;
	int ret = lo ? 0 : -ENOMEM;

	addr_str(&c->addr, a, sizeof(a));
	for (size_t b = 0; ret == 0 && b < e->captables; b++)
		for (const struct etable *t = e->tables[b]; ret == 0 && t; t = t->next)
			for (size_t i = 0; t->family == c->family && ret == 0 && i < t->rules.n; i++)
				ret = krule_set_add(&ours, &t->rules.v[i]);
	if (ret == 0)
		ret = leftover_find(&e->prefs, c->family, &c->addr, c->keep, ours.v, ours.n, lo);
	for (size_t i = 0; ret == 0 && i < lo->nwhole; i++) {
		const struct etable *t = table_find(e, c->family, lo->whole[i]);

		if (t && t->users)
			continue;
		ret = stale_add(e, c->family, lo->whole[i]);
		nwhole++;
	}
	for (size_t i = 0; ret == 0 && i < lo->ndel; i++) {
		const struct krule *r = &lo->del[i];
		const struct etable *t = table_find(e, c->family, r->table);

		if (t && t->stale)
			continue;	/* emptied whole */
		if (t && t->users && !leftover_is_from(&e->prefs, r))
			continue;
		ret = krule_set_add(&sel, r);
	}
	/* told once, not at each retry of what the kernel refused */
	if (ret == 0 && (sel.n || nwhole) && !c->retry_ms)
		log_msg(LOG_NOTICE,
			"%s: a previous run's leftovers: emptying %zu table(s), deleting %zu rule(s)", a,
			nwhole, sel.n);
	kplan_reset(&e->plan);
	if (ret == 0 && sel.n)
		ret = reconcile(&no_rules, &no_routes, &sel, &no_routes, &e->plan);
	if (ret == 0 && e->plan.n) {
		snprintf(what, sizeof(what), "leftovers of %s", a);
		ret = plan_apply(e, what);
	}
	krule_set_free(&ours);
	krule_set_free(&sel);
	free(lo);
	return ret;
}

static int claims_pass(struct engine *e, uint64_t now)
{
	int ret, first = 0;

	for (size_t i = 0; i < e->nclaims;) {
		if (claim_waits(e, &e->claims[i])) {
			i++;
			continue;
		}
		ret = claim_apply(e, &e->claims[i]);
		if (ret < 0 && !first)
			first = ret;
		/* One the kernel refused stays, tried again with the backoff
		 * (after a failed exchange: the resync's pass): a dead run's
		 * `from A` rule left in would steer A's traffic for ever. */
		if (ret < 0) {
			retry_later(e, &e->claims[i].retry_ms, now);
			i++;
		} else {
			e->claims[i] = e->claims[--e->nclaims];
		}
	}
	return first;
}

static void drop_cb(const struct kevent *ev, void *data)
{
	(void)ev;
	(void)data;
}

int engine_pass(struct engine *e, uint64_t now)
{
	struct krule_set want_r = { 0 };
	struct kroute_set want_rt = { 0 };
	struct uplink **gone = NULL;
	size_t ngone = 0;
	int ret = 0, gret = 0;

	e->stats.passes++;
	e->pass_ms = now;
	e->next_due_ms = 0;
	if (e->resync) {
		/* Events queued before the dump are older than it: dropped. */
		for (int i = 0; i < 4 && kernel_events(e->k, drop_cb, NULL) == -ENOBUFS; i++)
			;
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
	/* Scoped: tables that came in since the last pass are read first. */
	ret = load_tables(e, false);
	if (ret < 0)
		goto cleanup;
	/* A refused guard is a refusal of the uplinks that want it (their
	 * new `to` rules wait for it, to_waits()): tried again with their
	 * backoff. */
	gret = guards_pass(e, true);
	for (size_t i = 0; i < e->nup; i++) {
		struct uplink *u = e->up[i];
		bool refused;

		if (u->foreign || !u->table)
			continue;
		refused = gret < 0 && guard_missing(e, u);
		if (!(u->dirty || e->all_dirty || refused)) {
			const struct elink *l = link_find(e, u->ifindex);

			if (!l || !l->dirty)
				continue;
		}
		if (reconcile_uplink(e, u, now, &want_r, &want_rt) < 0 || refused) {
			/* refused (or out of memory): again later, even
			 * if no event comes */
			u->dirty = true;
			retry_later(e, &u->retry_ms, now);
		} else if (!u->dirty) {
			u->retry_ms = 0;	/* in: the next refusal starts over */
		}
	}
	e->all_dirty = false;
	for (size_t i = 0; i < e->nlinks; i++)
		e->links[i].dirty = false;
	if (!e->routes_only)
		claims_pass(e, now);
	for (size_t i = 0; i < e->nstale;) {
		struct etable *t;

		/* A table moved from waits for its uplink's new one; one
		 * the kernel did not empty stays, tried again with the
		 * backoff (after a failed exchange: the resync's pass). */
		if (move_pending(e, e->stale[i])) {
			i++;
		} else if (empty_table(e, e->stale[i], &want_r, &want_rt) == 0) {
			stale_del_at(e, i);
		} else {
			t = table_find(e, e->stale[i].family, e->stale[i].table);
			if (t)
				retry_later(e, &t->retry_ms, now);
			i++;
		}
	}
	/* Unused guards the kernel kept: again with the same backoff. */
	if (guards_pass(e, false) < 0)
		retry_later(e, &e->unguard_retry_ms, now);
	else
		e->unguard_retry_ms = 0;
cleanup:
	for (size_t i = 0; i < ngone; i++) {
		if (!gone[i]->foreign && e->ops->uplink_gone)
			e->ops->uplink_gone(e, gone[i]);
		free(gone[i]);
	}
	free(gone);
	krule_set_free(&want_r);
	kroute_set_free(&want_rt);
	return ret;
}
