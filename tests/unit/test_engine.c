/* Unit tests for the engine over the fake kernel: an address gets its
 * rules and a copy of main's routes, follows main, survives a link flap,
 * a deleted rule, lost events and a restart, and leaves nothing behind. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"
#include "kernel_fake.h"
#include "settle.h"

struct world {
	struct kernel *k;
	struct engine e;
	struct uplink *last_new;
	unsigned news, gones;
	uint32_t next_table;
	uint32_t grant;		/* the server's answer when not 0, whatever was adopted */
	uint64_t now;
};

static bool manage(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	(void)e;
	(void)family;
	(void)pol;
	return fnmatch("wan*", ifname, 0) == 0;
}

static bool uplink_new(struct engine *e, struct uplink *u)
{
	struct world *w = e->owner;

	w->news++;
	w->last_new = u;
	/* the lease: the adopted table back, else the next one */
	engine_set_table(e, u, w->grant ? w->grant : u->adopt ? u->adopt : w->next_table++);
	return true;
}

static void uplink_gone(struct engine *e, struct uplink *u)
{
	struct world *w = e->owner;

	(void)u;
	w->gones++;
}

static const struct engine_ops ops = { .manage = manage, .uplink_new = uplink_new, .uplink_gone = uplink_gone };

static struct kaddr addr4(const char *a, uint8_t len, int ifindex)
{
	struct kaddr x = { .family = AF_INET, .ifindex = ifindex, .prefixlen = len };

	addr_parse(AF_INET, a, &x.addr);
	return x;
}

static struct kroute main4(const char *dst, uint8_t len, const char *gw, int oif)
{
	struct kroute r = { .family = AF_INET, .table = KTABLE_MAIN, .dst_len = len, .oif = oif,
			    .type = RTN_UNICAST, .proto = RTPROT_BOOT, .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK };

	addr_parse(AF_INET, dst, &r.dst);
	if (gw)
		addr_parse(AF_INET, gw, &r.gw);
	return r;
}

/* What the engine does between event bursts. */
static void settle(struct world *w)
{
	engine_settle(&w->e, &w->now);
}

static size_t rules_of(const struct world *w, uint32_t table)
{
	return kfake_rules_in(w->k, table);
}

static size_t routes_of(const struct world *w, uint32_t table)
{
	const struct kroute_set *s = kfake_routes(w->k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table) {
			assert_int_equal(s->v[i].proto, RTPROT_RTALLOC);
			assert_int_equal(s->v[i].src.family, AF_INET);
			n++;
		}
	return n;
}

static void world_up(struct world *w)
{
	struct kaddr a = addr4("192.0.2.7", 24, 2);
	struct kroute net = main4("192.0.2.0", 24, NULL, 2), def = main4("0.0.0.0", 0, "192.0.2.1", 2);

	memset(w, 0, sizeof(*w));
	w->next_table = 10000;
	assert_int_equal(kernel_fake_open(&w->k), 0);
	assert_int_equal(kfake_link(w->k, 1, "lo", true), 0);
	assert_int_equal(kfake_link(w->k, 2, "wan0", true), 0);
	assert_int_equal(kfake_link(w->k, 3, "lan0", true), 0);
	assert_int_equal(kfake_addr(w->k, &a, false), 0);
	assert_int_equal(kfake_route(w->k, &net, false), 0);
	assert_int_equal(kfake_route(w->k, &def, false), 0);
	engine_init(&w->e, w->k, &ops, w, "agent");
	assert_int_equal(engine_load(&w->e), 0);
	settle(w);
}

static void world_down(struct world *w)
{
	engine_free(&w->e);
	kernel_close(w->k);
}

static void test_address_gets_rules_and_routes(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	assert_int_equal(w.news, 1);
	assert_string_equal(w.last_new->key.ifname, "wan0");
	assert_string_equal(w.last_new->key.tag, "agent");
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(routes_of(&w, 10000), 2);
	/* main is the configuring tool's: untouched */
	assert_int_equal(kfake_routes(w.k)->n, 4);
	world_down(&w);
}

static void test_unmanaged_and_tentative_are_left_alone(void **state)
{
	struct world w;
	struct kaddr lan = addr4("10.0.0.1", 24, 3);
	struct kaddr v6 = { .family = AF_INET6, .ifindex = 2, .prefixlen = 64, .flags = IFA_F_TENTATIVE };
	struct kaddr ll = { .family = AF_INET6, .ifindex = 2, .prefixlen = 64, .scope = RT_SCOPE_LINK };

	(void)state;
	world_up(&w);
	addr_parse(AF_INET6, "2001:db8::7", &v6.addr);
	addr_parse(AF_INET6, "fe80::7", &ll.addr);
	kfake_addr(w.k, &lan, false);
	kfake_addr(w.k, &v6, false);
	kfake_addr(w.k, &ll, false);
	settle(&w);
	assert_int_equal(w.news, 1);
	/* DAD done: now it is an uplink */
	v6.flags = 0;
	kfake_addr(w.k, &v6, false);
	settle(&w);
	assert_int_equal(w.news, 2);
	assert_int_equal(rules_of(&w, 10001), 3);
	world_down(&w);
}

static void test_main_is_followed(void **state)
{
	struct world w;
	struct kroute extra = main4("198.51.100.0", 24, "192.0.2.254", 2);
	struct kroute def = main4("0.0.0.0", 0, "192.0.2.1", 2);

	(void)state;
	world_up(&w);
	kfake_route(w.k, &extra, false);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 3);
	kfake_route(w.k, &def, true);
	kfake_route(w.k, &extra, true);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 1);
	world_down(&w);
}

/* Is "default via gw dev #oif" a single-path route of table? */
static bool has_default(const struct world *w, uint32_t table, const char *gw, int oif)
{
	const struct kroute_set *s = kfake_routes(w->k);
	struct inet_addr g;

	addr_parse(AF_INET, gw, &g);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table && !s->v[i].dst_len && s->v[i].oif == oif && !s->v[i].multipath &&
		    !memcmp(s->v[i].gw.bytes, g.bytes, 4))
			return true;
	return false;
}

/* main's multipath default (wan0 and wan1): each link's table gets its
 * own nexthop as a single-path default, through a reload too; a nexthop
 * leaving the route leaves its table, deleting the route empties both. */
static void test_multipath_is_split_per_nexthop(void **state)
{
	struct world w;
	struct kaddr a1 = addr4("198.51.100.7", 24, 4);
	struct kroute net1 = main4("198.51.100.0", 24, NULL, 4);
	struct kroute def = main4("0.0.0.0", 0, "192.0.2.1", 2);
	struct kroute nh[2] = { main4("0.0.0.0", 0, "192.0.2.1", 2), main4("0.0.0.0", 0, "198.51.100.1", 4) };

	(void)state;
	world_up(&w);
	assert_int_equal(kfake_link(w.k, 4, "wan1", true), 0);
	assert_int_equal(kfake_addr(w.k, &a1, false), 0);
	assert_int_equal(kfake_route(w.k, &net1, false), 0);
	assert_int_equal(kfake_route(w.k, &def, true), 0);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 1);
	assert_int_equal(routes_of(&w, 10001), 1);
	assert_int_equal(kfake_multipath(w.k, nh, 2, false), 0);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_true(has_default(&w, 10001, "198.51.100.1", 4));
	assert_int_equal(routes_of(&w, 10000), 2);
	assert_int_equal(routes_of(&w, 10001), 2);
	/* the same from a dump */
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_true(has_default(&w, 10001, "198.51.100.1", 4));
	/* wan1 flaps: its nexthop comes back without an event */
	assert_int_equal(kfake_link(w.k, 4, "wan1", false), 0);
	settle(&w);
	assert_false(has_default(&w, 10001, "198.51.100.1", 4));
	assert_int_equal(kfake_link(w.k, 4, "wan1", true), 0);
	assert_int_equal(kfake_route(w.k, &net1, false), 0);
	settle(&w);
	assert_true(has_default(&w, 10001, "198.51.100.1", 4));
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	/* wan0's nexthop leaves the route (replaced by one of wan1 only) */
	assert_int_equal(kfake_multipath(w.k, &nh[1], 1, false), 0);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 1);
	assert_true(has_default(&w, 10001, "198.51.100.1", 4));
	/* and comes back */
	assert_int_equal(kfake_multipath(w.k, nh, 2, false), 0);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	/* a single-path route replaces the multipath one (IPv4: same key) */
	assert_int_equal(kfake_route(w.k, &def, false), 0);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_int_equal(routes_of(&w, 10001), 1);
	/* deleted: no default left in either table */
	assert_int_equal(kfake_route(w.k, &def, true), 0);
	assert_int_equal(kfake_multipath(w.k, nh, 2, false), 0);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 2);
	assert_int_equal(kfake_multipath(w.k, nh, 2, true), 0);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 1);
	assert_int_equal(routes_of(&w, 10001), 1);
	world_down(&w);
}

static void test_link_flap(void **state)
{
	struct world w;
	struct kroute net = main4("192.0.2.0", 24, NULL, 2), def = main4("0.0.0.0", 0, "192.0.2.1", 2);

	(void)state;
	world_up(&w);
	kfake_link(w.k, 2, "wan0", false);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(rules_of(&w, 10000), 3);
	kfake_link(w.k, 2, "wan0", true);
	kfake_route(w.k, &net, false);
	kfake_route(w.k, &def, false);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 2);
	world_down(&w);
}

static void test_deleted_rule_comes_back(void **state)
{
	struct world w;
	struct krule victim;

	(void)state;
	world_up(&w);
	/* One of the uplink's own rules (not the guard, which is main's). */
	for (size_t i = 0; i < kfake_rules(w.k)->n; i++)
		if (kfake_rules(w.k)->v[i].table == 10000)
			victim = kfake_rules(w.k)->v[i];
	kfake_rule(w.k, &victim, true);
	assert_int_equal(rules_of(&w, 10000), 2);
	settle(&w);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(w.e.stats.restored, 1);
	/* The guard ahead of the `to` rule comes back too. */
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 1);
	victim = kfake_rules(w.k)->v[0];
	for (size_t i = 0; i < kfake_rules(w.k)->n; i++)
		if (kfake_rules(w.k)->v[i].table == KTABLE_MAIN)
			victim = kfake_rules(w.k)->v[i];
	kfake_rule(w.k, &victim, true);
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 0);
	settle(&w);
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 1);
	world_down(&w);
}

static void test_lost_events_are_reread(void **state)
{
	struct world w;
	struct krule victim;

	(void)state;
	world_up(&w);
	victim = kfake_rules(w.k)->v[1];
	kfake_rule(w.k, &victim, true);
	kfake_overflow(w.k);
	settle(&w);
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

static void test_address_gone_leaves_nothing(void **state)
{
	struct world w;
	struct kaddr a = addr4("192.0.2.7", 24, 2);

	(void)state;
	world_up(&w);
	kfake_addr(w.k, &a, true);
	settle(&w);
	assert_int_equal(w.gones, 1);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(w.e.nup, 0);
	world_down(&w);
}

static void test_restart_adopts_without_a_change(void **state)
{
	struct world w;
	struct engine again;
	unsigned long before;

	(void)state;
	world_up(&w);
	before = kfake_changes(w.k);
	/* kill -9: the engine is gone, the kernel keeps its work */
	engine_free(&w.e);
	w.news = 0;
	engine_init(&again, w.k, &ops, &w, "agent");
	w.e = again;
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_int_equal(w.news, 1);
	assert_int_equal(w.last_new->adopt, 10000);
	assert_int_equal(kfake_changes(w.k), before);
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

/* kill -9, and the engine starts again over the kernel its run left. */
static void world_restart(struct world *w)
{
	struct engine again;

	engine_free(&w->e);
	w->news = 0;
	engine_init(&again, w->k, &ops, w, "agent");
	w->e = again;
	assert_int_equal(engine_load(&w->e), 0);
	settle(w);
}

/* Is `from ADDR lookup table` in the kernel? */
static bool has_from(const struct world *w, const char *addr, uint32_t table)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct inet_addr a;

	addr_parse(AF_INET, addr, &a);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table && s->v[i].pref == KPREF_FROM && s->v[i].src_len == 32 &&
		    !memcmp(s->v[i].src.bytes, a.bytes, 4))
			return true;
	return false;
}

/* A crashed run's table 10000 is adopted, but the server grants 10001 (it
 * lost the lease, or gave 10000 away): the table moves, and nothing of
 * 10000 stays, or its `from A` rule (first at its pref) would keep A's
 * traffic in a table nobody follows. */
static void test_restart_granted_another_table(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	w.grant = 10001;
	world_restart(&w);
	assert_int_equal(w.news, 1);
	assert_int_equal(w.last_new->table, 10001);
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_int_equal(routes_of(&w, 10001), 2);
	assert_false(has_from(&w, "192.0.2.7", 10000));
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	/* 192.0.2.0/24's guard: 10001's `to` rule needs it */
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 1);
	settle(&w);
	assert_int_equal(w.e.stats.restored, 0);
	world_down(&w);
}

/* The same, but the server gave 10000 to 192.0.2.8 meanwhile, whose
 * rtalloc added its `from` rule (its `to` and `iif lo` rules are the same
 * as ours): only our `from` rule goes; its table, rules and routes stay. */
static void test_restart_granted_another_table_shared(void **state)
{
	struct world w;
	struct krule other = { .family = AF_INET, .pref = KPREF_FROM, .table = 10000, .src_len = 32,
			       .proto = RTPROT_RTALLOC };

	(void)state;
	world_up(&w);
	addr_parse(AF_INET, "192.0.2.8", &other.src);
	other.dst.family = AF_INET;
	assert_int_equal(kfake_rule(w.k, &other, false), 0);
	w.grant = 10001;
	world_restart(&w);
	assert_int_equal(w.last_new->table, 10001);
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_false(has_from(&w, "192.0.2.7", 10000));
	assert_true(has_from(&w, "192.0.2.8", 10000));
	assert_int_equal(rules_of(&w, 10000), 3);	/* from 192.0.2.8, to, iif lo */
	assert_int_equal(routes_of(&w, 10000), 2);
	settle(&w);
	assert_true(has_from(&w, "192.0.2.8", 10000));
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

/* Is there a guard of ours for net/len in main? */
static bool has_guard(const struct world *w, const char *net, uint8_t len)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct inet_addr a;

	addr_parse(AF_INET, net, &a);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == KTABLE_MAIN && s->v[i].pref == KPREF_GUARD && s->v[i].dst_len == len &&
		    !memcmp(s->v[i].dst.bytes, a.bytes, 4))
			return true;
	return false;
}

/* The crashed run had a /24, the address is a /16 now: the old `to` rule
 * goes with its table, and its guard with it, unless another address's
 * `to` rule (an rtalloc's, table 10008) still needs the guard. */
static void test_restart_leftover_guard(void **state)
{
	struct world w;
	struct kaddr a24 = addr4("192.0.2.7", 24, 2), a16 = addr4("192.0.2.7", 16, 2);
	struct krule to = { .family = AF_INET, .pref = KPREF_TO, .table = 10008, .dst_len = 24,
			    .proto = RTPROT_RTALLOC };

	(void)state;
	for (int shared = 0; shared < 2; shared++) {
		world_up(&w);
		if (shared) {
			addr_parse(AF_INET, "192.0.2.0", &to.dst);
			to.src.family = AF_INET;
			assert_int_equal(kfake_rule(w.k, &to, false), 0);
		}
		kfake_addr(w.k, &a24, true);
		kfake_addr(w.k, &a16, false);
		w.grant = 10001;
		world_restart(&w);
		assert_int_equal(w.last_new->table, 10001);
		assert_int_equal(rules_of(&w, 10001), 3);
		assert_int_equal(rules_of(&w, 10000), 0);
		assert_true(has_guard(&w, "192.0.0.0", 16));
		assert_true(has_guard(&w, "192.0.2.0", 24) == (bool)shared);
		world_down(&w);
	}
}

static void test_new_table_moves_rules_and_routes(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	engine_set_table(&w.e, w.e.up[0], 10005);
	settle(&w);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(routes_of(&w, 10005), 2);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	world_down(&w);
}

/* Rules in the kernel that is() picks, counted through its events: the
 * fewest there were while a pass applied its changes. */
struct rule_count {
	bool (*is)(const struct krule *r);
	size_t now, least;
};

struct rule_counts {
	struct rule_count *v;
	size_t n;
};

static bool is_from_a(const struct krule *r)
{
	struct inet_addr a;

	addr_parse(AF_INET, "192.0.2.7", &a);
	return r->pref == KPREF_FROM && r->src_len == 32 && !memcmp(r->src.bytes, a.bytes, 4);
}

static void count_rules(const struct kevent *ev, void *data)
{
	struct rule_counts *cs = data;

	for (size_t i = 0; ev->type == KOBJ_RULE && i < cs->n; i++) {
		struct rule_count *c = &cs->v[i];

		if (!c->is(&ev->rule))
			continue;
		if (ev->del)
			c->now--;
		else
			c->now++;
		if (c->now < c->least)
			c->least = c->now;
	}
}

/* One pass with its changes' events read here, in order (the engine's own
 * changes are in its mirror already), counting the n kinds of rules v[]. */
static void pass_counting(struct world *w, struct rule_count *v, size_t n)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct rule_counts cs = { .v = v, .n = n };

	assert_true(engine_read_events(&w->e) >= 0);
	for (size_t i = 0; i < n; i++) {
		v[i].now = 0;
		for (size_t j = 0; j < s->n; j++)
			v[i].now += v[i].is(&s->v[j]);
		v[i].least = v[i].now;
	}
	w->now += 100;
	assert_int_equal(engine_pass(&w->e, w->now), 0);
	assert_true(kernel_events(w->k, count_rules, &cs) >= 0);
}

/* `from 192.0.2.7` rules through one pass. */
static struct rule_count pass_counting_from(struct world *w)
{
	struct rule_count c = { .is = is_from_a };

	pass_counting(w, &c, 1);
	return c;
}

/* A move to a table the kernel refuses keeps the old table whole: the
 * address always has a table.  The next pass that gets the new table in
 * finishes the move, and the new table is selected before the old one
 * goes: never a moment with no `from A` rule. */
static void test_refused_new_table_keeps_the_old(void **state)
{
	struct world w;
	struct rule_count c;

	(void)state;
	world_up(&w);
	c = pass_counting_from(&w);
	assert_int_equal(c.now, 1);
	engine_set_table(&w.e, w.e.up[0], 10005);
	/* the plan adds the 2 routes first: the third addition is a rule */
	kfake_fail(w.k, -EPERM, 3);
	c = pass_counting_from(&w);
	assert_int_equal(rules_of(&w, 10005), 0);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(routes_of(&w, 10000), 2);
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 1);	/* the guard */
	assert_int_equal(c.least, 1);
	/* refused no more: the move is done in one pass, new table first */
	c = pass_counting_from(&w);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(routes_of(&w, 10005), 2);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(c.least, 1);
	assert_int_equal(c.now, 1);
	settle(&w);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(rules_of(&w, 10000), 0);
	/* a move nothing refuses: the same order */
	engine_set_table(&w.e, w.e.up[0], 10006);
	c = pass_counting_from(&w);
	assert_int_equal(rules_of(&w, 10006), 3);
	assert_int_equal(rules_of(&w, 10005), 0);
	assert_int_equal(routes_of(&w, 10005), 0);
	assert_int_equal(c.least, 1);
	world_down(&w);
}

/* `to 192.0.2.0/N lookup T` rules, whatever N and T. */
static bool is_to_net(const struct krule *r)
{
	struct inet_addr n;

	addr_parse(AF_INET, "192.0.2.0", &n);
	return r->pref == KPREF_TO && r->table != KTABLE_MAIN && !memcmp(r->dst.bytes, n.bytes, 4);
}

/* Is there a `to 192.0.2.0/len` rule into table? */
static bool has_to(const struct world *w, uint32_t table, uint8_t len)
{
	const struct krule_set *s = kfake_rules(w->k);

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table && s->v[i].dst_len == len && is_to_net(&s->v[i]))
			return true;
	return false;
}

/* A new prefix (/24 -> /25) replaces the `to` rule, make before break:
 * the /25 goes in before the /24 goes, and a /25 the kernel refuses
 * (with its guard) keeps the /24 and its guard until the retry gets the
 * /25 in.  The network is never without a `to` rule, the address never
 * without its `from` rule. */
static void test_refused_new_prefix_keeps_the_old_to_rule(void **state)
{
	struct world w;
	struct kaddr a24 = addr4("192.0.2.7", 24, 2), a25 = addr4("192.0.2.7", 25, 2);
	struct rule_count c[2] = { { .is = is_from_a }, { .is = is_to_net } };

	(void)state;
	world_up(&w);
	assert_true(has_to(&w, 10000, 24));
	assert_int_equal(kfake_addr(w.k, &a24, true), 0);
	assert_int_equal(kfake_addr(w.k, &a25, false), 0);
	/* the pass adds the guard first: refused, the /25 waits for it */
	kfake_fail(w.k, -EPERM, 1);
	pass_counting(&w, c, 2);
	assert_true(has_to(&w, 10000, 24));
	assert_false(has_to(&w, 10000, 25));
	assert_true(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(c[0].least, 1);
	assert_int_equal(c[1].least, 1);
	assert_true(w.e.next_due_ms > w.now);
	/* taken: the /25 in, then the /24 gone, in one pass */
	pass_counting(&w, c, 2);
	assert_true(has_to(&w, 10000, 25));
	assert_false(has_to(&w, 10000, 24));
	assert_true(has_guard(&w, "192.0.2.0", 25));
	assert_false(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(c[0].least, 1);
	assert_int_equal(c[1].least, 1);
	assert_int_equal(c[1].now, 1);
	assert_int_equal(w.e.next_due_ms, 0);
	settle(&w);
	assert_true(has_to(&w, 10000, 25));
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

static void test_refused_rule_leaves_no_half(void **state)
{
	struct world w;
	/* A /32: no guard, so the refusal hits one of its own rules. */
	struct kaddr b = addr4("203.0.113.9", 32, 2);

	(void)state;
	world_up(&w);
	kfake_fail(w.k, -EPERM, 1);
	kfake_addr(w.k, &b, false);
	settle(&w);
	/* the first addition (a rule: no route to copy for it on the
	 * first pass is fine) was refused: none of its rules stayed */
	assert_true(rules_of(&w, 10001) == 0 || rules_of(&w, 10001) == 3);
	settle(&w);
	assert_int_equal(rules_of(&w, 10001), 3);
	world_down(&w);
}

/* One pass at w->now with no kernel event read before it: what the
 * owner's loop does when the engine's due time comes. */
static void pass_at(struct world *w, uint64_t now)
{
	w->now = now;
	assert_int_equal(engine_pass(&w->e, w->now), 0);
}

/* A new prefix the engine follows (/24 -> /25, a new `to` rule) is no
 * restoration: not counted nor told as one; a rule deleted by hand and
 * put back still is. */
static void test_new_prefix_is_no_restoration(void **state)
{
	struct world w;
	struct kaddr a24 = addr4("192.0.2.7", 24, 2), a25 = addr4("192.0.2.7", 25, 2);
	struct krule from;

	(void)state;
	world_up(&w);
	assert_int_equal(kfake_addr(w.k, &a24, true), 0);
	assert_int_equal(kfake_addr(w.k, &a25, false), 0);
	settle(&w);
	assert_true(has_to(&w, 10000, 25));
	assert_false(has_to(&w, 10000, 24));
	assert_int_equal(w.e.stats.restored, 0);
	for (size_t i = 0; i < kfake_rules(w.k)->n; i++)
		if (is_from_a(&kfake_rules(w.k)->v[i]))
			from = kfake_rules(w.k)->v[i];
	assert_int_equal(kfake_rule(w.k, &from, true), 0);
	settle(&w);
	assert_true(has_from(&w, "192.0.2.7", 10000));
	assert_int_equal(w.e.stats.restored, 1);
	world_down(&w);
}

/* Does table hold a default route with metric (any gateway)? */
static bool has_default_metric(const struct world *w, uint32_t table, uint32_t metric)
{
	const struct kroute_set *s = kfake_routes(w->k);

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table && !s->v[i].dst_len && s->v[i].metric == metric)
			return true;
	return false;
}

/* main's default changes (another metric, then another gateway): the
 * table's default follows, and a new one the kernel refuses keeps the old
 * one until the retry gets the new one in: the table is never without a
 * default. */
static void test_refused_new_route_keeps_the_old(void **state)
{
	struct world w;
	struct kroute def = main4("0.0.0.0", 0, "192.0.2.1", 2), def100 = def, gw2;

	(void)state;
	world_up(&w);
	def100.metric = 100;
	assert_int_equal(kfake_route(w.k, &def, true), 0);
	assert_int_equal(kfake_route(w.k, &def100, false), 0);
	assert_true(engine_read_events(&w.e) > 0);
	kfake_fail(w.k, -EPERM, 1);
	pass_at(&w, w.now + 100);
	assert_true(has_default_metric(&w, 10000, 0));
	assert_false(has_default_metric(&w, 10000, 100));
	assert_true(w.e.next_due_ms > w.now);
	pass_at(&w, w.e.next_due_ms);
	assert_true(has_default_metric(&w, 10000, 100));
	assert_false(has_default_metric(&w, 10000, 0));
	assert_int_equal(routes_of(&w, 10000), 2);
	assert_int_equal(w.e.next_due_ms, 0);
	/* another gateway (IPv4: the same key, the addition replaces) */
	gw2 = main4("0.0.0.0", 0, "192.0.2.254", 2);
	gw2.metric = 100;
	assert_int_equal(kfake_route(w.k, &gw2, false), 0);
	assert_true(engine_read_events(&w.e) > 0);
	kfake_fail(w.k, -EPERM, 1);
	pass_at(&w, w.now + 100);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_true(w.e.next_due_ms > w.now);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.254", 2));
	assert_false(has_default(&w, 10000, "192.0.2.1", 2));
	assert_int_equal(routes_of(&w, 10000), 2);
	world_down(&w);
}

/* Is a default of table, through gw, in the engine's mirror? */
static bool mirror_has_default(const struct world *w, uint32_t table, const char *gw)
{
	const struct etable *t = engine_table(&w->e, AF_INET, table);
	struct inet_addr g;

	addr_parse(AF_INET, gw, &g);
	for (size_t i = 0; t && i < t->routes.n; i++)
		if (!t->routes.v[i].dst_len && !memcmp(t->routes.v[i].gw.bytes, g.bytes, 4))
			return true;
	return false;
}

/* main's IPv4 default changes but keeps its key (table, dst, metric):
 * the table's addition replaces its old default, and nothing deletes the
 * old one.  A deletion naming its old fields would take the new route
 * when only its scope or onlink changed (the kernel compares neither),
 * or find nothing when its gateway did, which counted as done dropped the
 * new route from the engine's mirror. */
static void test_ipv4_replaced_route_is_not_deleted(void **state)
{
	struct world w;
	struct kroute onlink = main4("0.0.0.0", 0, "192.0.2.1", 2), gw2 = main4("0.0.0.0", 0, "192.0.2.254", 2);

	(void)state;
	world_up(&w);
	onlink.onlink = true;
	assert_int_equal(kfake_route(w.k, &onlink, false), 0);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_true(mirror_has_default(&w, 10000, "192.0.2.1"));
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.1", 2));
	assert_int_equal(routes_of(&w, 10000), 2);
	assert_int_equal(kfake_routes(w.k)->n, 4);
	/* another gateway: in the kernel and in the mirror at once */
	assert_int_equal(kfake_route(w.k, &gw2, false), 0);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_true(has_default(&w, 10000, "192.0.2.254", 2));
	assert_false(has_default(&w, 10000, "192.0.2.1", 2));
	assert_true(mirror_has_default(&w, 10000, "192.0.2.254"));
	assert_int_equal(w.e.next_due_ms, 0);
	settle(&w);
	assert_true(has_default(&w, 10000, "192.0.2.254", 2));
	assert_int_equal(routes_of(&w, 10000), 2);
	world_down(&w);
}

/* A refusal sends no event: the engine asks for a pass later (a backoff
 * that grows while the kernel keeps refusing), and that pass, with no
 * event before it, installs the uplink; nothing is due once all is in. */
static void test_refused_uplink_is_retried_without_events(void **state)
{
	struct world w;
	/* A /32: no guard, so every refusal is the uplink's own. */
	struct kaddr b = addr4("203.0.113.9", 32, 2);
	uint64_t wait, last = 0;

	(void)state;
	world_up(&w);
	assert_int_equal(w.e.next_due_ms, 0);
	kfake_fail(w.k, -EPERM, 1000);
	kfake_addr(w.k, &b, false);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_int_equal(rules_of(&w, 10001), 0);
	assert_true(w.e.next_due_ms > w.now);
	/* still refused: tried again at each due time, each wait longer
	 * (no busy loop), up to a bound */
	for (int i = 0; i < 10; i++) {
		wait = w.e.next_due_ms - w.now;
		assert_true(wait >= last);
		assert_true(wait <= 60000);
		last = wait;
		pass_at(&w, w.e.next_due_ms);
		assert_int_equal(rules_of(&w, 10001), 0);
		assert_true(w.e.next_due_ms > w.now);
	}
	assert_true(w.e.next_due_ms - w.now > 1000);
	/* the kernel takes it now: the pass at the due time, no event read
	 * since the refusal, puts the uplink in */
	kfake_fail(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(w.e.next_due_ms, 0);
	settle(&w);
	assert_int_equal(w.e.next_due_ms, 0);
	/* the backoff starts again from its first step after a success */
	engine_set_table(&w.e, w.last_new, 10007);
	kfake_fail(w.k, -ENOMEM, 1000);
	pass_at(&w, w.now + 100);
	assert_true(w.e.next_due_ms > w.now);
	assert_true(w.e.next_due_ms - w.now < last);
	kfake_fail(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10007), 3);
	assert_int_equal(rules_of(&w, 10001), 0);
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* A deleted rule whose restoration the kernel refuses is tried again at
 * the due time, and counted as restored (the metric) once, when it is. */
static void test_refused_restoration_counts_once(void **state)
{
	struct world w;
	struct krule victim;

	(void)state;
	world_up(&w);
	for (size_t i = 0; i < kfake_rules(w.k)->n; i++)
		if (kfake_rules(w.k)->v[i].table == 10000)
			victim = kfake_rules(w.k)->v[i];
	kfake_rule(w.k, &victim, true);
	kfake_fail(w.k, -ENOMEM, 1000);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	for (int i = 0; i < 3; i++) {
		assert_true(w.e.next_due_ms > w.now);
		pass_at(&w, w.e.next_due_ms);
	}
	assert_int_equal(rules_of(&w, 10000), 2);
	assert_int_equal(w.e.stats.restored, 0);
	kfake_fail(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(w.e.stats.restored, 1);
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* Lines of the log file path that name a refusal. */
static unsigned refusal_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "kernel refused") != NULL;
	fclose(f);
	return n;
}

/* A refusal that goes on is told at a bounded rate (the engine's ratelimit:
 * a burst, then a line per 2 s), never flooding the log in a burst of
 * passes, and never going silent for good either: the tries minutes later
 * are still told. */
static void test_refusals_are_logged_at_a_bounded_rate(void **state)
{
	struct world w;
	struct kaddr b = addr4("203.0.113.9", 32, 2);
	char path[] = "/tmp/test_engine.log.XXXXXX";
	int fd = mkstemp(path);
	unsigned n, before;
	uint64_t start;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	world_up(&w);
	assert_int_equal(log_open(NULL, LOG_TO_FILE, path), 0);
	kfake_fail(w.k, -EPERM, 100000);
	kfake_addr(w.k, &b, false);
	assert_true(engine_read_events(&w.e) > 0);
	/* a burst of passes, 10 ms apart: each tries the dirty uplink */
	start = w.now;
	for (int i = 0; i < 100; i++)
		pass_at(&w, w.now + 10);
	n = refusal_lines(path);
	assert_true(n >= 1);
	assert_true(n <= 10 + (w.now - start) / 2000 + 1);
	/* then each try at the engine's due time, for 5 minutes */
	while (w.now < start + 300000) {
		before = refusal_lines(path);
		pass_at(&w, w.e.next_due_ms);
	}
	n = refusal_lines(path);
	assert_true(n <= 10 + (w.now - start) / 2000 + 1);
	assert_true(n > before);	/* the last try was told */
	assert_int_equal(rules_of(&w, 10001), 0);
	kfake_fail(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10001), 3);
	log_open(NULL, LOG_TO_STDERR, NULL);
	unlink(path);
	world_down(&w);
}

/* A move whose new rules are refused keeps the old table (0e13290) until a
 * pass gets the new one in: that pass comes at the engine's due time, not
 * at some unrelated kernel event. */
static void test_refused_move_is_retried_without_events(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	engine_set_table(&w.e, w.e.up[0], 10005);
	/* the plan adds the 2 routes first: the third addition is a rule */
	kfake_fail(w.k, -EPERM, 3);
	pass_at(&w, w.now + 100);
	assert_int_equal(rules_of(&w, 10005), 0);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_true(w.e.next_due_ms > w.now);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(routes_of(&w, 10005), 2);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* The wait after a pass at the due time, while the kernel refuses: 1 s,
 * then each wait twice the one before, up to 30 s. */
static uint64_t next_wait(uint64_t last)
{
	return !last ? 1000 : last * 2 > 30000 ? 30000 : last * 2;
}

/* Our guard of net/len as it is in the fake kernel (it must be there). */
static struct krule guard_in_kernel(const struct world *w, const char *net, uint8_t len)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct inet_addr a;

	addr_parse(AF_INET, net, &a);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == KTABLE_MAIN && s->v[i].pref == KPREF_GUARD && s->v[i].dst_len == len &&
		    !memcmp(s->v[i].dst.bytes, a.bytes, 4))
			return s->v[i];
	fail();
	return s->v[0];
}

/* A guard the kernel refuses is a refusal of the uplink that wants it: the
 * pass does not fail (its owner would pass again every 200 ms), it asks
 * for a pass in 1 s, then 2, 4... up to 30 s, like any refused change;
 * once the guard is in, the next refusal waits 1 s again.  An unused
 * guard whose removal is refused waits the same way. */
static void test_refused_guard_is_retried_with_backoff(void **state)
{
	struct world w;
	struct kaddr b = addr4("198.51.100.9", 24, 2);
	struct krule g;
	uint64_t wait = 0;

	(void)state;
	world_up(&w);
	/* the pass puts guards in first: its first addition is the guard */
	kfake_fail(w.k, -EPERM, 1);
	kfake_addr(w.k, &b, false);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_false(has_guard(&w, "198.51.100.0", 24));
	assert_int_equal(rules_of(&w, 10001), 2);	/* from, iif lo: the `to` rule waits */
	for (int i = 0; i < 8; i++) {
		wait = next_wait(wait);
		assert_int_equal(w.e.next_due_ms - w.now, wait);
		kfake_fail(w.k, -EPERM, 1);
		pass_at(&w, w.e.next_due_ms);
		assert_false(has_guard(&w, "198.51.100.0", 24));
		assert_int_equal(rules_of(&w, 10001), 2);
	}
	assert_int_equal(w.e.next_due_ms - w.now, 30000);
	/* taken: in, the `to` rule with it, and nothing due */
	pass_at(&w, w.e.next_due_ms);
	assert_true(has_guard(&w, "198.51.100.0", 24));
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_int_equal(w.e.next_due_ms, 0);
	/* deleted by hand, its restoration refused: 1 s again */
	g = guard_in_kernel(&w, "198.51.100.0", 24);
	assert_int_equal(kfake_rule(w.k, &g, true), 0);
	kfake_fail(w.k, -EPERM, 1);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_false(has_guard(&w, "198.51.100.0", 24));
	assert_int_equal(w.e.next_due_ms - w.now, 1000);
	pass_at(&w, w.e.next_due_ms);
	assert_true(has_guard(&w, "198.51.100.0", 24));
	assert_int_equal(w.e.next_due_ms, 0);
	/* a guard no `to` rule needs (a dead run's) whose removal the
	 * kernel refuses: the same backoff */
	g.dst.bytes[0] = 203;
	g.dst.bytes[1] = 0;
	g.dst.bytes[2] = 113;
	assert_int_equal(kfake_rule(w.k, &g, false), 0);
	assert_true(has_guard(&w, "203.0.113.0", 24));
	assert_true(engine_read_events(&w.e) >= 0);
	wait = 0;
	for (int i = 0; i < 3; i++) {
		kfake_fail_del(w.k, -EPERM, 1);
		pass_at(&w, w.e.next_due_ms ? w.e.next_due_ms : w.now + 100);
		assert_true(has_guard(&w, "203.0.113.0", 24));
		wait = next_wait(wait);
		assert_int_equal(w.e.next_due_ms - w.now, wait);
	}
	pass_at(&w, w.e.next_due_ms);
	assert_false(has_guard(&w, "203.0.113.0", 24));
	assert_true(has_guard(&w, "198.51.100.0", 24));
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* Is `to net/len lookup table` in the kernel? */
static bool has_to_net(const struct world *w, uint32_t table, const char *net, uint8_t len)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct inet_addr a;

	addr_parse(AF_INET, net, &a);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table && s->v[i].pref == KPREF_TO && s->v[i].dst_len == len &&
		    !memcmp(s->v[i].dst.bytes, a.bytes, 4))
			return true;
	return false;
}

/* The rules added, in the order the kernel took them: 'g' a guard, 't' a
 * `to` rule, '.' another. */
struct rule_order {
	char s[16];
	size_t n;
};

static void rule_order_cb(const struct kevent *ev, void *data)
{
	struct rule_order *o = data;

	if (ev->type != KOBJ_RULE || ev->del || o->n + 1 >= sizeof(o->s))
		return;
	o->s[o->n++] = ev->rule.pref == KPREF_GUARD ? 'g' : ev->rule.pref == KPREF_TO ? 't' : '.';
}

/* Without its guard, an uplink's `to` rule would take the traffic to its
 * network that main routes through another link (198.51.100.128/25 via
 * lan0 here) into the uplink's table.  A refused guard holds the `to`
 * rule back, not the `from` and `iif lo` rules nor the routes; the
 * uplink is retried with its backoff, and once the kernel takes the
 * guard, the `to` rule follows it, in that order, counted as no
 * restoration. */
static void test_refused_guard_holds_the_to_rule(void **state)
{
	struct world w;
	struct kaddr b = addr4("198.51.100.9", 24, 2);
	struct kroute net = main4("198.51.100.0", 24, NULL, 2), half = main4("198.51.100.128", 25, NULL, 3);
	struct rule_order order = { 0 };

	(void)state;
	world_up(&w);
	assert_int_equal(kfake_route(w.k, &net, false), 0);
	assert_int_equal(kfake_route(w.k, &half, false), 0);
	kfake_fail(w.k, -EPERM, 1);	/* the pass's first addition: the guard */
	assert_int_equal(kfake_addr(w.k, &b, false), 0);
	assert_true(engine_read_events(&w.e) > 0);
	pass_at(&w, w.now + 100);
	assert_false(has_guard(&w, "198.51.100.0", 24));
	assert_false(has_to_net(&w, 10001, "198.51.100.0", 24));
	assert_true(has_from(&w, "198.51.100.9", 10001));
	assert_int_equal(rules_of(&w, 10001), 2);	/* from, iif lo */
	assert_true(routes_of(&w, 10001) > 0);
	assert_int_equal(w.e.next_due_ms - w.now, 1000);
	/* a pass the events of what went in bring, the guard refused
	 * again: no `to` rule either */
	kfake_fail(w.k, -EPERM, 1);
	assert_true(engine_read_events(&w.e) >= 0);
	pass_at(&w, w.now + 100);
	assert_false(has_guard(&w, "198.51.100.0", 24));
	assert_false(has_to_net(&w, 10001, "198.51.100.0", 24));
	assert_true(engine_read_events(&w.e) >= 0);
	/* taken: the guard, then the `to` rule */
	pass_at(&w, w.e.next_due_ms);
	assert_true(kernel_events(w.k, rule_order_cb, &order) >= 0);
	assert_string_equal(order.s, "gt");
	assert_true(has_guard(&w, "198.51.100.0", 24));
	assert_true(has_to_net(&w, 10001, "198.51.100.0", 24));
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_int_equal(w.e.stats.restored, 0);
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* A table the kernel will not empty (a move's old one, its deletions
 * refused) stays on the engine's list: tried again at the due time with
 * the backoff, and emptied once the kernel takes the deletions, with no
 * event in between and no resync; nothing of it stays for ever. */
static void test_refused_emptying_is_retried(void **state)
{
	struct world w;
	uint64_t wait = 0;

	(void)state;
	world_up(&w);
	engine_set_table(&w.e, w.e.up[0], 10005);
	kfake_fail_del(w.k, -EPERM, 100000);
	pass_at(&w, w.now + 100);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(routes_of(&w, 10005), 2);
	assert_int_equal(rules_of(&w, 10000), 3);
	assert_int_equal(routes_of(&w, 10000), 2);
	for (int i = 0; i < 7; i++) {
		wait = next_wait(wait);
		assert_int_equal(w.e.next_due_ms - w.now, wait);
		pass_at(&w, w.e.next_due_ms);
		assert_int_equal(rules_of(&w, 10000), 3);
	}
	kfake_fail_del(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(w.e.next_due_ms, 0);
	settle(&w);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(w.e.next_due_ms, 0);
	world_down(&w);
}

/* A crashed run's leftovers whose deletion the kernel refuses (its `from
 * A lookup 10000`, 10000 now 192.0.2.8's) stay claimed: tried again at the
 * due time with the backoff, and gone once the kernel takes the deletion,
 * with no event in between; the dead run's rule does not stay for ever. */
static void test_refused_claim_is_retried(void **state)
{
	struct world w;
	struct krule other = { .family = AF_INET, .pref = KPREF_FROM, .table = 10000, .src_len = 32,
			       .proto = RTPROT_RTALLOC };
	uint64_t wait;

	(void)state;
	world_up(&w);
	addr_parse(AF_INET, "192.0.2.8", &other.src);
	other.dst.family = AF_INET;
	assert_int_equal(kfake_rule(w.k, &other, false), 0);
	w.grant = 10001;
	kfake_fail_del(w.k, -EPERM, 100000);
	world_restart(&w);
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_true(has_from(&w, "192.0.2.7", 10000));
	wait = w.e.next_due_ms - w.now;
	assert_true(wait >= 1000);
	for (int i = 0; i < 4; i++) {
		pass_at(&w, w.e.next_due_ms);
		assert_true(has_from(&w, "192.0.2.7", 10000));
		wait = next_wait(wait);
		assert_int_equal(w.e.next_due_ms - w.now, wait);
	}
	kfake_fail_del(w.k, 0, 0);
	pass_at(&w, w.e.next_due_ms);
	assert_false(has_from(&w, "192.0.2.7", 10000));
	assert_true(has_from(&w, "192.0.2.8", 10000));
	assert_int_equal(rules_of(&w, 10000), 3);	/* from 192.0.2.8, to, iif lo */
	assert_int_equal(w.e.nclaims, 0);
	assert_int_equal(w.e.next_due_ms, 0);
	settle(&w);
	assert_int_equal(rules_of(&w, 10001), 3);
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

/* The brake (an uplink changed more than 10 times in 5 s is left alone
 * for 5 s: someone keeps undoing it) counts our changes, not the retries
 * of one the kernel refused: an uplink refused at 20 passes in a row
 * (others' events bring passes) is in at the first pass the kernel takes
 * it.  Someone deleting its rule again and again is still braked. */
static void test_refusals_do_not_trip_the_brake(void **state)
{
	struct world w;
	struct krule from;

	(void)state;
	world_up(&w);
	w.now += 10000;		/* a window of its own */
	engine_set_table(&w.e, w.e.up[0], 10005);
	kfake_fail(w.k, -EPERM, 100000);
	for (int i = 0; i < 20; i++)
		pass_at(&w, w.now + 100);
	assert_int_equal(rules_of(&w, 10005), 0);
	kfake_fail(w.k, 0, 0);
	pass_at(&w, w.now + 100);
	assert_int_equal(rules_of(&w, 10005), 3);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(w.e.next_due_ms, 0);
	/* someone deletes its `from` rule at every pass: restored, until
	 * the brake holds it */
	for (size_t i = 0; i < kfake_rules(w.k)->n; i++)
		if (kfake_rules(w.k)->v[i].table == 10005 && kfake_rules(w.k)->v[i].pref == KPREF_FROM)
			from = kfake_rules(w.k)->v[i];
	for (int i = 0; i < 15; i++) {
		kfake_rule(w.k, &from, true);
		assert_true(engine_read_events(&w.e) >= 0);
		pass_at(&w, w.now + 100);
	}
	assert_int_equal(rules_of(&w, 10005), 2);
	assert_true(w.e.next_due_ms > w.now);
	pass_at(&w, w.e.next_due_ms);
	assert_int_equal(rules_of(&w, 10005), 3);
	world_down(&w);
}

static void test_forward_from_and_fwmark(void **state)
{
	struct world w;
	const char fwd[][IFNAMSIZ] = { "lan0", "br0" };
	struct uplink_policy pol = { .has_fwmark = true, .fwmark = 0x100, .fwmask = 0xff00 };

	(void)state;
	world_up(&w);
	assert_int_equal(engine_set_forward(&w.e, fwd, 2), 0);
	engine_set_policy(&w.e, w.e.up[0], &pol);
	settle(&w);
	assert_int_equal(rules_of(&w, 10000), 6);
	assert_int_equal(w.e.stats.restored, 0);
	world_down(&w);
}

/* Hundreds of uplinks (the indexes grow and rehash): every one gets its
 * own table's rules, and going leaves nothing. */
static void test_many_uplinks(void **state)
{
	struct world w;
	char buf[32];

	(void)state;
	world_up(&w);
	for (int i = 0; i < 600; i++) {
		struct kaddr a;

		snprintf(buf, sizeof(buf), "10.%d.%d.1", i / 250, i % 250);
		a = addr4(buf, 32, 2);
		kfake_addr(w.k, &a, false);
	}
	settle(&w);
	assert_int_equal(w.e.nup, 601);
	/* and one guard: 192.0.2.7/24's (a /32 needs none) */
	assert_int_equal(kfake_rules(w.k)->n, 601 * 3 + 1);
	for (uint32_t t = 10000; t < 10601; t++)
		assert_int_equal(rules_of(&w, t), 3);
	for (int i = 0; i < 600; i++) {
		struct kaddr a;

		snprintf(buf, sizeof(buf), "10.%d.%d.1", i / 250, i % 250);
		a = addr4(buf, 32, 2);
		kfake_addr(w.k, &a, true);
	}
	settle(&w);
	assert_int_equal(w.e.nup, 1);
	assert_int_equal(w.gones, 600);
	assert_int_equal(kfake_rules(w.k)->n, 3 + 1);
	assert_int_equal(rules_of(&w, 10000), 3);
	world_down(&w);
}

/* Issue 19: a peer's wide prefix never gets ahead of main's more specific
 * routes on other links.  A /1 gets its guard before its `to` rule; a /0 no
 * `to` rule (and no guard); the guard goes with the last uplink of it. */
static void test_wide_prefix_guard(void **state)
{
	struct world w;
	struct kaddr wide = addr4("172.16.0.5", 1, 2), all = addr4("10.9.9.9", 0, 2);
	const struct krule_set *s;
	bool guard = false, to_all = false;

	(void)state;
	world_up(&w);
	kfake_addr(w.k, &wide, false);
	kfake_addr(w.k, &all, false);
	settle(&w);
	s = kfake_rules(w.k);
	for (size_t i = 0; i < s->n; i++) {
		const struct krule *r = &s->v[i];

		if (r->table == KTABLE_MAIN && r->dst_len == 1 && r->has_suppress && r->suppress == 1 &&
		    r->pref == 19999 && r->dst.bytes[0] == 0x80)
			guard = true;
		if (r->table != KTABLE_MAIN && r->pref == 20000 && !r->dst_len)
			to_all = true;
	}
	assert_true(guard);
	assert_false(to_all);
	assert_int_equal(rules_of(&w, 10001), 3);	/* from, to, iif lo */
	assert_int_equal(rules_of(&w, 10002), 2);	/* from, iif lo */
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 2);	/* 192.0.2.0/24's, 128.0.0.0/1's */
	kfake_addr(w.k, &wide, true);
	kfake_addr(w.k, &all, true);
	settle(&w);
	assert_int_equal(rules_of(&w, KTABLE_MAIN), 1);
	world_down(&w);
}

/* Issue 19: one address on two links has one owner, the first; the second
 * gets no lease and no rule until the first's goes, then takes over. */
static void test_one_owner_per_address(void **state)
{
	struct world w;
	struct kaddr first = addr4("192.0.2.7", 24, 2), second = addr4("192.0.2.7", 24, 4);

	(void)state;
	world_up(&w);
	assert_int_equal(kfake_link(w.k, 4, "wan1", true), 0);
	kfake_addr(w.k, &second, false);
	settle(&w);
	assert_int_equal(w.news, 1);
	assert_int_equal(rules_of(&w, 10001), 0);
	kfake_addr(w.k, &first, true);
	settle(&w);
	assert_int_equal(w.gones, 1);
	assert_int_equal(w.news, 2);
	assert_int_equal(w.last_new->ifindex, 4);
	assert_int_equal(rules_of(&w, 10000), 0);
	assert_int_equal(rules_of(&w, 10001), 3);
	world_down(&w);
}

struct seen {
	size_t n[KOBJ_RULE + 1];
	struct kevent last;
};

static void seen_cb(const struct kevent *ev, void *data)
{
	struct seen *s = data;

	s->n[ev->type]++;
	s->last = *ev;
}

/* What one dump of type through f hands out; the fake counts the same. */
static size_t dumped(struct kernel *k, enum kobj_type type, const struct kfilter *f, struct seen *s)
{
	unsigned long before = kfake_dumped(k, type);

	memset(s, 0, sizeof(*s));
	assert_int_equal(kernel_dump(k, type, f, seen_cb, s), 0);
	assert_int_equal(kfake_dumped(k, type) - before, s->n[type]);
	return s->n[type];
}

/* The fake kernel deletes a single-path IPv4 route as the kernel's
 * fib_table_delete() does: the key (table, dst) and each field the
 * request gives (gateway, device, prefsrc, metric, type, protocol) must
 * match, a field not given matches anything, and the lowest metric goes
 * first.  A deletion naming another gateway finds nothing (ESRCH, done
 * for kernel_apply()) and leaves the route. */
static void test_fake_deletes_ipv4_as_the_kernel(void **state)
{
	struct kernel *k;
	struct kroute r = main4("0.0.0.0", 0, "192.0.2.1", 2), r100, q;
	struct kchange c = { .type = KOBJ_ROUTE, .add = false };
	int err = 1;

	(void)state;
	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_link(k, 2, "wan0", true), 0);
	assert_int_equal(kfake_link(k, 3, "wan1", true), 0);
	r.table = 100;
	addr_parse(AF_INET, "192.0.2.7", &r.src);
	r100 = r;
	r100.metric = 100;
	assert_int_equal(kfake_route(k, &r, false), 0);
	assert_int_equal(kfake_route(k, &r100, false), 0);
	assert_int_equal(kfake_routes_in(k, 100), 2);
	/* another gateway, device, prefsrc, metric, type or protocol */
	q = r;
	addr_parse(AF_INET, "192.0.2.254", &q.gw);
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	c.route = q;
	assert_int_equal(kernel_apply(k, &c, 1, &err), 0);
	assert_int_equal(err, 0);
	q = r;
	q.oif = 3;
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	q = r;
	addr_parse(AF_INET, "192.0.2.8", &q.src);
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	q = r;
	q.metric = 50;
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	q = r;
	q.type = RTN_BLACKHOLE;
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	q = r;
	q.proto = RTPROT_STATIC;
	assert_int_equal(kfake_route(k, &q, true), -ESRCH);
	assert_int_equal(kfake_routes_in(k, 100), 2);
	/* the scope is never compared; metric 100 named: that one */
	q = r100;
	q.scope = RT_SCOPE_LINK;
	assert_int_equal(kfake_route(k, &q, true), 0);
	assert_int_equal(kfake_routes_in(k, 100), 1);
	assert_int_equal(kfake_routes(k)->v[0].metric, 0);
	assert_int_equal(kfake_route(k, &r100, false), 0);
	/* nothing but the key (metric 0: any): the lowest metric goes */
	q = (struct kroute){ .family = AF_INET, .table = 100 };
	assert_int_equal(kfake_route(k, &q, true), 0);
	assert_int_equal(kfake_routes_in(k, 100), 1);
	assert_int_equal(kfake_routes(k)->v[0].metric, 100);
	/* every field as it is */
	assert_int_equal(kfake_route(k, &r100, true), 0);
	assert_int_equal(kfake_routes_in(k, 100), 0);
	kernel_close(k);
}

/* The fake kernel's dumps filter as the kernel does (family, ifindex,
 * table; rules by family only) and count only what they hand out, so a
 * test can tell how much of the host a caller read. */
static void test_fake_dump_filters(void **state)
{
	struct kernel *k;
	struct kaddr a1 = addr4("192.0.2.7", 24, 2), a2 = addr4("198.51.100.7", 24, 3),
		     a6 = { .family = AF_INET6, .ifindex = 2, .prefixlen = 64 };
	struct kroute m = main4("192.0.2.0", 24, NULL, 2), t1 = main4("0.0.0.0", 0, "192.0.2.1", 2),
		      t2 = main4("0.0.0.0", 0, "198.51.100.1", 3),
		      r6 = { .family = AF_INET6, .table = 100, .oif = 2, .type = RTN_UNICAST,
			     .scope = RT_SCOPE_LINK };
	struct krule u4 = { .family = AF_INET, .pref = 10000, .table = 100, .proto = RTPROT_RTALLOC },
		     u6 = { .family = AF_INET6, .pref = 10000, .table = 100, .proto = RTPROT_RTALLOC };
	struct seen s;

	(void)state;
	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_link(k, 1, "lo", true), 0);
	assert_int_equal(kfake_link(k, 2, "wan0", true), 0);
	assert_int_equal(kfake_link(k, 3, "wan1", true), 0);
	assert_int_equal(addr_parse(AF_INET6, "2001:db8::7", &a6.addr), 0);
	assert_int_equal(kfake_addr(k, &a1, false), 0);
	assert_int_equal(kfake_addr(k, &a2, false), 0);
	assert_int_equal(kfake_addr(k, &a6, false), 0);
	t1.table = 100;
	t2.table = 200;
	assert_int_equal(kfake_route(k, &m, false), 0);
	assert_int_equal(kfake_route(k, &t1, false), 0);
	assert_int_equal(kfake_route(k, &t2, false), 0);
	assert_int_equal(kfake_route(k, &r6, false), 0);
	assert_int_equal(kfake_rule(k, &u4, false), 0);
	assert_int_equal(kfake_rule(k, &u6, false), 0);

	/* NULL: everything, as before filters. */
	assert_int_equal(dumped(k, KOBJ_LINK, NULL, &s), 3);
	assert_int_equal(dumped(k, KOBJ_ADDR, NULL, &s), 3);
	assert_int_equal(dumped(k, KOBJ_ROUTE, NULL, &s), 4);
	assert_int_equal(dumped(k, KOBJ_RULE, NULL, &s), 2);
	/* One link by its index; one that is not there: nothing. */
	assert_int_equal(dumped(k, KOBJ_LINK, &(struct kfilter){ .ifindex = 3 }, &s), 1);
	assert_string_equal(s.last.link.name, "wan1");
	assert_int_equal(dumped(k, KOBJ_LINK, &(struct kfilter){ .ifindex = 9 }, &s), 0);
	/* Addresses by family and device. */
	assert_int_equal(dumped(k, KOBJ_ADDR, &(struct kfilter){ .family = AF_INET, .ifindex = 2 }, &s), 1);
	assert_int_equal(s.last.addr.ifindex, 2);
	assert_int_equal(s.last.addr.family, AF_INET);
	assert_int_equal(dumped(k, KOBJ_ADDR, &(struct kfilter){ .ifindex = 2 }, &s), 2);
	assert_int_equal(dumped(k, KOBJ_ADDR, &(struct kfilter){ .family = AF_INET6 }, &s), 1);
	/* Routes by table, family and device. */
	assert_int_equal(dumped(k, KOBJ_ROUTE, &(struct kfilter){ .table = 100 }, &s), 2);
	assert_int_equal(dumped(k, KOBJ_ROUTE, &(struct kfilter){ .family = AF_INET, .table = 100 }, &s), 1);
	assert_int_equal(s.last.route.table, 100);
	assert_int_equal(s.last.route.family, AF_INET);
	assert_int_equal(dumped(k, KOBJ_ROUTE, &(struct kfilter){ .family = AF_INET, .ifindex = 3 }, &s), 1);
	assert_int_equal(s.last.route.table, 200);
	assert_int_equal(dumped(k, KOBJ_ROUTE, &(struct kfilter){ .family = AF_INET, .ifindex = 2 }, &s), 2);
	assert_int_equal(dumped(k, KOBJ_ROUTE, &(struct kfilter){ .table = 300 }, &s), 0);
	/* Rules by family only: the kernel cannot filter them by table. */
	assert_int_equal(dumped(k, KOBJ_RULE, &(struct kfilter){ .family = AF_INET6, .table = 999 }, &s), 1);
	assert_int_equal(s.last.rule.family, AF_INET6);
	/* The counts add up over the dumps above. */
	assert_int_equal(kfake_dumped(k, KOBJ_LINK), 3 + 1 + 0);
	assert_int_equal(kfake_dumped(k, KOBJ_ADDR), 3 + 1 + 2 + 1);
	assert_int_equal(kfake_dumped(k, KOBJ_ROUTE), 4 + 2 + 1 + 1 + 2 + 0);
	assert_int_equal(kfake_dumped(k, KOBJ_RULE), 2 + 1);
	kernel_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wide_prefix_guard),
		cmocka_unit_test(test_one_owner_per_address),
		cmocka_unit_test(test_address_gets_rules_and_routes),
		cmocka_unit_test(test_unmanaged_and_tentative_are_left_alone),
		cmocka_unit_test(test_main_is_followed),
		cmocka_unit_test(test_link_flap),
		cmocka_unit_test(test_deleted_rule_comes_back),
		cmocka_unit_test(test_lost_events_are_reread),
		cmocka_unit_test(test_address_gone_leaves_nothing),
		cmocka_unit_test(test_restart_adopts_without_a_change),
		cmocka_unit_test(test_restart_granted_another_table),
		cmocka_unit_test(test_restart_granted_another_table_shared),
		cmocka_unit_test(test_restart_leftover_guard),
		cmocka_unit_test(test_new_table_moves_rules_and_routes),
		cmocka_unit_test(test_refused_rule_leaves_no_half),
		cmocka_unit_test(test_refused_new_table_keeps_the_old),
		cmocka_unit_test(test_refused_new_prefix_keeps_the_old_to_rule),
		cmocka_unit_test(test_new_prefix_is_no_restoration),
		cmocka_unit_test(test_refused_new_route_keeps_the_old),
		cmocka_unit_test(test_ipv4_replaced_route_is_not_deleted),
		cmocka_unit_test(test_refused_uplink_is_retried_without_events),
		cmocka_unit_test(test_refused_move_is_retried_without_events),
		cmocka_unit_test(test_refused_restoration_counts_once),
		cmocka_unit_test(test_refusals_are_logged_at_a_bounded_rate),
		cmocka_unit_test(test_refused_guard_is_retried_with_backoff),
		cmocka_unit_test(test_refused_guard_holds_the_to_rule),
		cmocka_unit_test(test_refused_emptying_is_retried),
		cmocka_unit_test(test_refused_claim_is_retried),
		cmocka_unit_test(test_refusals_do_not_trip_the_brake),
		cmocka_unit_test(test_forward_from_and_fwmark),
		cmocka_unit_test(test_many_uplinks),
		cmocka_unit_test(test_multipath_is_split_per_nexthop),
		cmocka_unit_test(test_fake_dump_filters),
		cmocka_unit_test(test_fake_deletes_ipv4_as_the_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
