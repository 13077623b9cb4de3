/* Unit tests for the engine over one uplink (a per-address rtalloc's
 * scope, engine_set_scope) over the fake kernel: what it reads of a host
 * with a thousand other tables and addresses, and that the agent's
 * default, no scope, still reads everything; the per-address daemon's
 * ways: the owner's prefix (engine_set_prefix), rules on a tentative
 * address (early_rules), and a guard that goes only once the rules were
 * read; and the per-address daemon's hold (allocator-client/hold.c), whose
 * engine reads that part only. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"
#include "hold.h"
#include "kernel_fake.h"
#include "settle.h"

#define FOREIGN 1000		/* other tables, and other addresses */
#define FOREIGN_TABLE 20000	/* the first of them */
#define TABLE 10000		/* ours */

struct world {
	struct kernel *k;
	struct engine e;
	const struct kroute_set *given;	/* the owner's routes; NULL: copy main */
	unsigned news;
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

	u->given = w->given;
	engine_set_table(e, u, TABLE + w->news++);
	return true;
}

static const struct engine_ops ops = { .manage = manage, .uplink_new = uplink_new };

static struct kaddr addr4(const char *a, uint8_t len, int ifindex)
{
	struct kaddr x = { .family = AF_INET, .ifindex = ifindex, .prefixlen = len };

	assert_int_equal(addr_parse(AF_INET, a, &x.addr), 0);
	return x;
}

static struct kroute route4(uint32_t table, const char *dst, uint8_t len, const char *gw, int oif)
{
	struct kroute r = { .family = AF_INET, .table = table, .dst_len = len, .oif = oif,
			    .type = RTN_UNICAST, .proto = table == KTABLE_MAIN ? RTPROT_BOOT : RTPROT_RTALLOC,
			    .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK };

	assert_int_equal(addr_parse(AF_INET, dst, &r.dst), 0);
	if (gw)
		assert_int_equal(addr_parse(AF_INET, gw, &r.gw), 0);
	return r;
}

static struct krule rule4(uint32_t pref, uint32_t table)
{
	return (struct krule){ .family = AF_INET, .pref = pref, .table = table, .proto = RTPROT_RTALLOC,
			       .src.family = AF_INET, .dst.family = AF_INET };
}

static void drop_cb(const struct kevent *ev, void *data)
{
	(void)ev;
	(void)data;
}

/* A busy host: wan0 (2) with our address 192.0.2.7/24 and a second one
 * (192.0.2.8), lan1 (3) with FOREIGN addresses, wan1 (4), and FOREIGN
 * tables of other rtallocs (3 rules and a route each, through wan1). */
static void host_up(struct world *w)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2), other = addr4("192.0.2.8", 24, 2);
	struct kroute net = route4(KTABLE_MAIN, "192.0.2.0", 24, NULL, 2),
		      def = route4(KTABLE_MAIN, "0.0.0.0", 0, "192.0.2.1", 2),
		      net1 = route4(KTABLE_MAIN, "198.51.100.0", 24, NULL, 4);

	memset(w, 0, sizeof(*w));
	assert_int_equal(kernel_fake_open(&w->k), 0);
	assert_int_equal(kfake_link(w->k, 1, "lo", true), 0);
	assert_int_equal(kfake_link(w->k, 2, "wan0", true), 0);
	assert_int_equal(kfake_link(w->k, 3, "lan1", true), 0);
	assert_int_equal(kfake_link(w->k, 4, "wan1", true), 0);
	assert_int_equal(kfake_addr(w->k, &ours, false), 0);
	assert_int_equal(kfake_addr(w->k, &other, false), 0);
	assert_int_equal(kfake_route(w->k, &net, false), 0);
	assert_int_equal(kfake_route(w->k, &def, false), 0);
	assert_int_equal(kfake_route(w->k, &net1, false), 0);
	for (unsigned i = 0; i < FOREIGN; i++) {
		char a[INET_ADDRSTRLEN];
		struct kaddr lan;
		struct kroute r = route4(FOREIGN_TABLE + i, "0.0.0.0", 0, "198.51.100.1", 4);
		struct krule from = rule4(KPREF_FROM, FOREIGN_TABLE + i), iif = rule4(KPREF_IIF, FOREIGN_TABLE + i),
			     to = rule4(KPREF_TO, FOREIGN_TABLE + i);

		snprintf(a, sizeof(a), "10.%u.%u.1", i / 250, i % 250);
		lan = addr4(a, 24, 3);
		assert_int_equal(kfake_addr(w->k, &lan, false), 0);
		from.src = lan.addr;
		from.src_len = 32;
		snprintf(iif.iif, sizeof(iif.iif), "lo");
		to.dst = lan.addr;
		to.dst.bytes[3] = 0;
		to.dst_len = 24;
		assert_int_equal(kfake_rule(w->k, &from, false), 0);
		assert_int_equal(kfake_rule(w->k, &iif, false), 0);
		assert_int_equal(kfake_rule(w->k, &to, false), 0);
		assert_int_equal(kfake_route(w->k, &r, false), 0);
	}
	/* What was made before the engine came is no event to it. */
	while (kernel_events(w->k, drop_cb, NULL) == -ENOBUFS)
		;
	engine_init(&w->e, w->k, &ops, w, "rtalloc");
}

static void host_down(struct world *w)
{
	engine_free(&w->e);
	kernel_close(w->k);
}

/* What the owner does between event bursts. */
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
	return kfake_routes_in(w->k, table);
}

/* s's options over 192.0.2.7 on wan0. */
static void scope_with(struct world *w, struct engine_scope s)
{
	s.family = AF_INET;
	s.ifindex = 2;
	assert_int_equal(addr_parse(AF_INET, "192.0.2.7", &s.addr), 0);
	engine_set_scope(&w->e, &s);
}

static void set_scope_main(struct world *w, bool rules_known, bool copy_main)
{
	scope_with(w, (struct engine_scope){ .rules_known = rules_known, .copy_main = copy_main });
}

static void set_scope(struct world *w, bool rules_known)
{
	set_scope_main(w, rules_known, true);
}

/* The speed target as a unit test: load plus the first pass read one
 * link, one address, main's two routes through it, and no rule. */
static void test_load_is_scoped(void **state)
{
	struct world w;
	struct inet_addr other, lan;

	(void)state;
	host_up(&w);
	set_scope(&w, false);
	assert_int_equal(engine_load(&w.e), 0);
	w.now += 100;
	assert_int_equal(engine_pass(&w.e, w.now), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_LINK), 1);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ADDR), 2);	/* the kernel filters by link only */
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	/* main's 2 through wan0, and our table (empty before the pass) */
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 2);
	/* one uplink, ours: the other address of wan0 is not mirrored */
	assert_int_equal(w.news, 1);
	assert_int_equal(w.e.nup, 1);
	assert_int_equal(w.e.naddrs, 1);
	assert_int_equal(addr_parse(AF_INET, "192.0.2.8", &other), 0);
	assert_int_equal(addr_parse(AF_INET, "10.0.0.1", &lan), 0);
	assert_null(engine_addr(&w.e, &other));
	assert_null(engine_addr(&w.e, &lan));
	assert_int_equal(w.e.nlinks, 1);
	assert_int_equal(w.e.ntables, 2);	/* ours, and main's (the guard) */
	/* and it works: rules, guard and main's copy in our table */
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(routes_of(&w, TABLE), 2);
	settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 2);
	/* the others' are untouched */
	assert_int_equal(rules_of(&w, FOREIGN_TABLE + 7), 3);
	assert_int_equal(routes_of(&w, FOREIGN_TABLE + 7), 1);
	host_down(&w);
}

/* rules_known: the family's rules are read once, the others' tables'
 * routes still are not. */
static void test_rules_known_reads_rules(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	set_scope(&w, true);
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 3 * FOREIGN);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 2);
	assert_int_equal(kfake_dumped(w.k, KOBJ_LINK), 1);
	assert_int_equal(w.news, 1);
	assert_int_equal(rules_of(&w, TABLE), 3);
	host_down(&w);
}

/* A table that enters later (a lease) is read at the next pass, with its
 * table filter: a leftover route in it is known, and goes. */
static void test_new_table_is_read_at_the_pass(void **state)
{
	struct world w;
	struct kroute left = route4(TABLE + 1, "203.0.113.0", 24, "192.0.2.1", 2);

	(void)state;
	host_up(&w);
	set_scope(&w, false);
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_int_equal(kfake_route(w.k, &left, false), 0);
	while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
		;
	engine_set_table(&w.e, w.e.up[0], TABLE + 1);
	settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 2 + 1);
	assert_int_equal(routes_of(&w, TABLE + 1), 2);
	assert_int_equal(rules_of(&w, TABLE + 1), 3);
	assert_int_equal(rules_of(&w, TABLE), 0);
	assert_int_equal(routes_of(&w, TABLE), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	host_down(&w);
}

/* Lost events while scoped: the resync reads the family's rules (a rule
 * deleted meanwhile comes back), still only our link and tables. */
static void test_resync_reads_rules(void **state)
{
	struct world w;
	struct krule from = rule4(KPREF_FROM, TABLE);

	(void)state;
	host_up(&w);
	set_scope(&w, false);
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_int_equal(addr_parse(AF_INET, "192.0.2.7", &from.src), 0);
	from.src_len = 32;
	kfake_overflow(w.k);
	assert_int_equal(kfake_rule(w.k, &from, true), 0);
	assert_int_equal(rules_of(&w, TABLE), 2);
	settle(&w);
	assert_int_equal(rules_of(&w, TABLE), 3);
	/* the others', our 2 left and the guard */
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 3 * FOREIGN + 2 + 1);
	assert_int_equal(kfake_dumped(w.k, KOBJ_LINK), 2);
	assert_int_equal(w.e.nlinks, 1);
	assert_int_equal(w.e.naddrs, 1);
	host_down(&w);
}

/* The owner gives the routes (copy_main off): main is neither read nor
 * followed, only the given routes go in. */
static void test_given_routes_skip_main(void **state)
{
	struct world w;
	struct kroute_set given = { 0 };
	struct kroute def = route4(KTABLE_MAIN, "0.0.0.0", 0, "192.0.2.1", 2),
		      more = route4(KTABLE_MAIN, "203.0.113.0", 24, "192.0.2.254", 2);

	(void)state;
	assert_int_equal(kroute_set_add(&given, &def), 0);
	host_up(&w);
	w.given = &given;
	set_scope_main(&w, false, false);
	assert_int_equal(engine_load(&w.e), 0);
	settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	assert_int_equal(routes_of(&w, TABLE), 1);
	assert_int_equal(rules_of(&w, TABLE), 3);
	/* a route main gains through the link is not mirrored */
	assert_int_equal(kfake_route(w.k, &more, false), 0);
	settle(&w);
	assert_non_null(engine_link(&w.e, 2));
	assert_int_equal(engine_link(&w.e, 2)->main.n, 0);
	assert_int_equal(routes_of(&w, TABLE), 1);
	host_down(&w);
	kroute_set_free(&given);
}

/* The agent's default: no scope reads every link, address, route and
 * rule, and every managed address is an uplink. */
static void test_unscoped_reads_everything(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	assert_int_equal(engine_load(&w.e), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_LINK), 4);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ADDR), 2 + FOREIGN);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 3 + FOREIGN);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 3 * FOREIGN);
	assert_int_equal(w.e.naddrs, 2 + FOREIGN);
	assert_int_equal(w.e.nlinks, 4);
	settle(&w);
	assert_int_equal(w.news, 2);	/* both of wan0's */
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(rules_of(&w, TABLE + 1), 3);
	host_down(&w);
}

/* ---- the per-address daemon's ways ---- */

#define OTHER 30000		/* another rtalloc's table */

/* The fewest `to` rules of TABLE the kernel held after any one change
 * since spy_on() (SIZE_MAX: none made): the fake's apply, one change at
 * a time. */
static const struct kernel_ops *fake_ops;
static struct kernel_ops spy_ops;
static size_t spy_min_to;

static size_t to_rules(const struct kernel *k)
{
	const struct krule_set *s = kfake_rules(k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == TABLE && s->v[i].pref == KPREF_TO)
			n++;
	return n;
}

static int spy_apply(struct kernel *k, const struct kchange *c, size_t n, int *errs)
{
	for (size_t i = 0; i < n; i++) {
		int ret = fake_ops->apply(k, &c[i], 1, &errs[i]);

		if (ret < 0)
			return ret;
		if (to_rules(k) < spy_min_to)
			spy_min_to = to_rules(k);
	}
	return 0;
}

static void spy_on(struct world *w)
{
	fake_ops = w->k->ops;
	spy_ops = *fake_ops;
	spy_ops.apply = spy_apply;
	w->k->ops = &spy_ops;
	spy_min_to = SIZE_MAX;
}

/* The prefix of our `to` rule, of 192.0.2.0 (0: none; two fail). */
static uint8_t to_len(const struct world *w)
{
	const struct krule_set *s = kfake_rules(w->k);
	struct inet_addr net;
	uint8_t len = 0;

	assert_int_equal(addr_parse(AF_INET, "192.0.2.0", &net), 0);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == TABLE && s->v[i].pref == KPREF_TO) {
			assert_int_equal(len, 0);
			assert_memory_equal(s->v[i].dst.bytes, net.bytes, 4);
			len = s->v[i].dst_len;
		}
	return len;
}

/* `to net/len lookup main suppress_prefixlength len` */
static struct krule guard4(const char *net, uint8_t len)
{
	struct krule g = rule4(KPREF_GUARD, KTABLE_MAIN);

	assert_int_equal(addr_parse(AF_INET, net, &g.dst), 0);
	g.dst_len = len;
	g.has_suppress = true;
	g.suppress = len;
	return g;
}

static bool has_guard(const struct world *w, const char *net, uint8_t len)
{
	const struct krule g = guard4(net, len);
	const struct krule_set *s = kfake_rules(w->k);

	return krule_in(&g, s->v, s->n);
}

/* Another rtalloc's `to net/len lookup OTHER` and its guard. */
static void other_rtalloc(struct world *w, const char *net, uint8_t len)
{
	struct krule to = rule4(KPREF_TO, OTHER), g = guard4(net, len);

	assert_int_equal(addr_parse(AF_INET, net, &to.dst), 0);
	to.dst_len = len;
	assert_int_equal(kfake_rule(w->k, &g, false), 0);
	assert_int_equal(kfake_rule(w->k, &to, false), 0);
}

static void load_settle(struct world *w)
{
	assert_int_equal(engine_load(&w->e), 0);
	settle(w);
}

/* The owner's prefix (-n 25) is used, not the kernel's entry's (/24),
 * and still after another entry (/26) came and went, or events were lost:
 * no /25 entry went. */
static void test_prefix_given_is_used(void **state)
{
	struct kaddr narrow = addr4("192.0.2.7", 26, 2);
	struct world w;

	(void)state;
	host_up(&w);
	scope_with(&w, (struct engine_scope){ .copy_main = true, .prefixlen = 25 });
	load_settle(&w);
	assert_int_equal(to_len(&w), 25);
	assert_true(has_guard(&w, "192.0.2.0", 25));
	assert_false(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(routes_of(&w, TABLE), 2);
	assert_int_equal(kfake_addr(w.k, &narrow, false), 0);
	settle(&w);
	assert_int_equal(kfake_addr(w.k, &narrow, true), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 25);
	kfake_overflow(w.k);
	settle(&w);
	assert_int_equal(w.e.stats.resyncs, 1);
	assert_int_equal(to_len(&w), 25);
	host_down(&w);
}

/* The address has a second entry (/16, listed first) and the owner's
 * (/24): the owner's prefix holds, and a third entry coming and going
 * changes nothing while the owner's is there. */
static void test_prefix_other_entries_change_nothing(void **state)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2), wide = addr4("192.0.2.7", 16, 2),
		     narrow = addr4("192.0.2.7", 26, 2);
	struct world w;
	unsigned long changes;

	(void)state;
	host_up(&w);
	assert_int_equal(kfake_addr(w.k, &ours, true), 0);
	assert_int_equal(kfake_addr(w.k, &wide, false), 0);
	assert_int_equal(kfake_addr(w.k, &ours, false), 0);
	while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
		;
	scope_with(&w, (struct engine_scope){ .copy_main = true, .prefixlen = 24 });
	load_settle(&w);
	assert_int_equal(to_len(&w), 24);
	changes = kfake_changes(w.k);
	assert_int_equal(kfake_addr(w.k, &narrow, false), 0);
	settle(&w);
	assert_int_equal(kfake_addr(w.k, &narrow, true), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 24);
	assert_int_equal(kfake_changes(w.k), changes);
	host_down(&w);
}

/* The owner's entry (/24) goes, a /26 one is left (a DHCP server changed
 * the mask): the `to` rule and guard follow it, the new `to` rule in
 * before the old one goes; /26 is the owner's prefix from then on. */
static void test_prefix_follows_the_entry_left(void **state)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2), narrow = addr4("192.0.2.7", 26, 2);
	struct world w;

	(void)state;
	host_up(&w);
	scope_with(&w, (struct engine_scope){ .copy_main = true, .prefixlen = 24 });
	load_settle(&w);
	spy_on(&w);
	assert_int_equal(kfake_addr(w.k, &narrow, false), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 24);
	assert_int_equal(kfake_addr(w.k, &ours, true), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 26);
	assert_int_equal(spy_min_to, 1);
	assert_true(has_guard(&w, "192.0.2.0", 26));
	assert_false(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(w.e.stats.restored, 0);
	assert_int_equal(kfake_addr(w.k, &ours, false), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 26);
	host_down(&w);
}

/* The same when the deletion's event was lost: the resync follows. */
static void test_prefix_follows_after_lost_events(void **state)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2), narrow = addr4("192.0.2.7", 26, 2);
	struct world w;

	(void)state;
	host_up(&w);
	scope_with(&w, (struct engine_scope){ .copy_main = true, .prefixlen = 24 });
	load_settle(&w);
	assert_int_equal(kfake_addr(w.k, &narrow, false), 0);
	settle(&w);
	kfake_overflow(w.k);
	assert_int_equal(kfake_addr(w.k, &ours, true), 0);
	settle(&w);
	assert_int_equal(to_len(&w), 26);
	assert_int_equal(w.e.nup, 1);
	host_down(&w);
}

/* A later run gives /25 (engine_set_prefix): the `to` rule and guard move,
 * never leaving the address without a `to` rule; the old guard, needed by
 * no one, goes after one dump of the rules (they are not known). */
static void test_set_prefix_moves_the_to_rule(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	scope_with(&w, (struct engine_scope){ .copy_main = true, .prefixlen = 24 });
	load_settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	spy_on(&w);
	engine_set_prefix(&w.e, 25);
	settle(&w);
	assert_int_equal(to_len(&w), 25);
	assert_int_equal(spy_min_to, 1);
	assert_true(has_guard(&w, "192.0.2.0", 25));
	assert_false(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(routes_of(&w, TABLE), 2);
	/* the others', ours (from, to, iif) and both guards: one dump */
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 3 * FOREIGN + 3 + 2);
	assert_int_equal(w.e.stats.restored, 0);
	host_down(&w);
}

/* Rules not known: our address goes, and the guard another rtalloc's `to`
 * rule of the same network needs stays (one dump told), and is not asked
 * about again. */
static void test_guard_another_needs_stays(void **state)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2);
	struct world w;
	unsigned long dumped;

	(void)state;
	host_up(&w);
	other_rtalloc(&w, "192.0.2.0", 24);
	while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
		;
	set_scope(&w, false);
	load_settle(&w);
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	assert_int_equal(kfake_addr(w.k, &ours, true), 0);
	settle(&w);
	assert_int_equal(rules_of(&w, TABLE), 0);
	assert_true(has_guard(&w, "192.0.2.0", 24));
	dumped = kfake_dumped(w.k, KOBJ_RULE);
	assert_int_equal(dumped, 3 * FOREIGN + 2);
	settle(&w);
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), dumped);
	host_down(&w);
}

/* Another network's guard that comes is another rtalloc's: neither
 * deleted nor a reason to read the rules. */
static void test_other_network_guard_is_not_ours(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	set_scope(&w, false);
	load_settle(&w);
	other_rtalloc(&w, "203.0.113.0", 24);
	settle(&w);
	assert_true(has_guard(&w, "203.0.113.0", 24));
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	host_down(&w);
}

/* Our address with flags (IPv6 DAD: the engine reads the flags only). */
static void flags_set(struct world *w, uint32_t flags)
{
	struct kaddr ours = addr4("192.0.2.7", 24, 2);

	ours.flags = flags;
	assert_int_equal(kfake_addr(w->k, &ours, false), 0);
}

/* early_rules: rules (and guard) on a tentative address, its routes once
 * DAD is done. */
static void test_early_rules_before_dad(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	flags_set(&w, IFA_F_TENTATIVE);
	while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
		;
	scope_with(&w, (struct engine_scope){ .copy_main = true, .early_rules = true });
	load_settle(&w);
	assert_int_equal(w.news, 1);
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_true(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(routes_of(&w, TABLE), 0);
	flags_set(&w, 0);
	settle(&w);
	assert_int_equal(routes_of(&w, TABLE), 2);
	assert_int_equal(rules_of(&w, TABLE), 3);
	assert_int_equal(w.news, 1);
	host_down(&w);
}

/* early_rules: DAD failed, the rules go with the uplink. */
static void test_early_rules_dad_failed(void **state)
{
	struct world w;

	(void)state;
	host_up(&w);
	flags_set(&w, IFA_F_TENTATIVE);
	while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
		;
	scope_with(&w, (struct engine_scope){ .copy_main = true, .early_rules = true });
	load_settle(&w);
	assert_int_equal(rules_of(&w, TABLE), 3);
	flags_set(&w, IFA_F_TENTATIVE | IFA_F_DADFAILED);
	settle(&w);
	assert_int_equal(rules_of(&w, TABLE), 0);
	assert_false(has_guard(&w, "192.0.2.0", 24));
	assert_int_equal(w.e.nup, 0);
	host_down(&w);
}

/* Without early_rules, scoped or not: nothing for a tentative address
 * until DAD is done. */
static void test_no_early_rules_waits_for_dad(void **state)
{
	for (int scope = 0; scope < 2; scope++) {
		struct world w;
		struct inet_addr a;

		(void)state;
		host_up(&w);
		flags_set(&w, IFA_F_TENTATIVE);
		while (kernel_events(w.k, drop_cb, NULL) == -ENOBUFS)
			;
		if (scope)
			set_scope(&w, false);
		load_settle(&w);
		/* unscoped: 192.0.2.8 is an uplink, with TABLE */
		assert_int_equal(w.e.nup, scope ? 0 : 1);
		for (size_t i = 0; i < w.e.nup; i++) {
			assert_int_equal(addr_parse(AF_INET, "192.0.2.8", &a), 0);
			assert_memory_equal(w.e.up[i]->key.addr.bytes, a.bytes, 4);
		}
		assert_int_equal(rules_of(&w, TABLE + 1), 0);
		assert_int_equal(rules_of(&w, TABLE), scope ? 0 : 3);
		flags_set(&w, 0);
		settle(&w);
		assert_int_equal(w.e.nup, scope ? 1 : 2);
		assert_int_equal(rules_of(&w, scope ? TABLE : TABLE + 1), 3);
		assert_int_equal(routes_of(&w, scope ? TABLE : TABLE + 1), 2);
		host_down(&w);
	}
}

/* The per-address daemon's routes (hold.c, routes given) on the busy
 * host: its engine reads wan0, its two addresses, our table's routes (a
 * dead run's leftover) and no rule, then fills the table with the given
 * route only. */
static void test_hold_load_is_scoped(void **state)
{
	struct world w;
	struct hold h;
	struct cli_opts o = { .family = AF_INET, .ifname = "wan0", .tag = "rtalloc", .n_routes = 1 };
	struct kroute left = route4(TABLE, "203.0.113.0", 24, NULL, 2);
	char err[128];

	(void)state;
	host_up(&w);
	assert_int_equal(kfake_route(w.k, &left, false), 0);
	assert_int_equal(addr_parse(AF_INET, "192.0.2.7", &o.addr), 0);
	assert_int_equal(route_arg_parse(AF_INET, "default,via 192.0.2.1", &o.routes[0], err, sizeof(err)),
			 0);
	assert_int_equal(hold_open_on(&h, w.k, &o, 2, TABLE), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_LINK), 1);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ADDR), 2);	/* the kernel filters by link only */
	assert_int_equal(kfake_dumped(w.k, KOBJ_RULE), 0);
	assert_int_equal(kfake_dumped(w.k, KOBJ_ROUTE), 1);	/* our table's */
	assert_non_null(h.u);
	assert_int_equal(h.e.nlinks, 1);
	assert_int_equal(h.e.naddrs, 1);
	assert_int_equal(routes_of(&w, TABLE), 1);
	assert_int_equal(rules_of(&w, TABLE), 0);	/* rules.c's */
	assert_int_equal(routes_of(&w, FOREIGN_TABLE + 7), 1);
	hold_close(&h);		/* empties the table, closes w.k */
	engine_free(&w.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_is_scoped),
		cmocka_unit_test(test_rules_known_reads_rules),
		cmocka_unit_test(test_new_table_is_read_at_the_pass),
		cmocka_unit_test(test_resync_reads_rules),
		cmocka_unit_test(test_given_routes_skip_main),
		cmocka_unit_test(test_unscoped_reads_everything),
		cmocka_unit_test(test_prefix_given_is_used),
		cmocka_unit_test(test_prefix_other_entries_change_nothing),
		cmocka_unit_test(test_prefix_follows_the_entry_left),
		cmocka_unit_test(test_prefix_follows_after_lost_events),
		cmocka_unit_test(test_set_prefix_moves_the_to_rule),
		cmocka_unit_test(test_guard_another_needs_stays),
		cmocka_unit_test(test_other_network_guard_is_not_ours),
		cmocka_unit_test(test_early_rules_before_dad),
		cmocka_unit_test(test_early_rules_dad_failed),
		cmocka_unit_test(test_no_early_rules_waits_for_dad),
		cmocka_unit_test(test_hold_load_is_scoped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
