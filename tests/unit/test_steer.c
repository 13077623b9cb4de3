/* Unit tests for rtalloc-track's steering rules (track/steer.c) over the
 * fake kernel: the rule sets of failover and balance, a switch to another
 * uplink (the new rules in before the old go, and none lost when the kernel
 * refuses), their removal, and everyone else's rules left alone; balance's
 * default route (one uplink, several with their weights, none); balance's
 * resilient nexthop group (members, group, the route through it; an uplink
 * leaving and coming back; removal; the kernel refusing); discovery of the
 * uplinks (discover_uplinks) and of the LANs (discover_forward) from the
 * kernel's rules, addresses, links and routes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "kernel_fake.h"
#include "kmsg.h"
#include "balance.h"
#include "discover.h"
#include "steer.h"

static const char fwd[1][IFNAMSIZ] = { "lan0" };

/* How many of k's rules are family's, at pref, into table (0: any), ours. */
static size_t count(const struct kernel *k, int family, uint32_t pref, uint32_t table)
{
	const struct krule_set *s = kfake_rules(k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].family == family && s->v[i].pref == pref &&
		     (!table || s->v[i].table == table) && s->v[i].proto == RTPROT_RTALLOC;
	return n;
}

static struct kernel *setup_kernel(void)
{
	struct kernel *k;
	/* Not ours: a lease's rule, someone's rule at steer's pref with
	 * another protocol, and rtalloc-track's IPv6 rule. */
	struct krule lease = { .family = AF_INET, .pref = KPREF_IIF, .table = 10000, .iif = "lo",
			       .proto = RTPROT_RTALLOC };
	struct krule other = { .family = AF_INET, .pref = KPREF_TRACK_LOCAL, .table = 77, .iif = "lo",
			       .proto = 4 };
	struct krule v6 = { .family = AF_INET6, .pref = KPREF_TRACK_LOCAL, .table = 10005, .iif = "lo",
			    .proto = RTPROT_RTALLOC };

	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_rule(k, &lease, false), 0);
	assert_int_equal(kfake_rule(k, &other, false), 0);
	assert_int_equal(kfake_rule(k, &v6, false), 0);
	return k;
}

static void assert_others_kept(const struct kernel *k)
{
	const struct krule_set *s = kfake_rules(k);
	size_t lease = 0, other = 0, v6 = 0;

	for (size_t i = 0; i < s->n; i++) {
		lease += s->v[i].pref == KPREF_IIF && s->v[i].table == 10000;
		other += s->v[i].proto == 4;
		v6 += s->v[i].family == AF_INET6;
	}
	assert_int_equal(lease, 1);
	assert_int_equal(other, 1);
	assert_int_equal(v6, 1);
}

/* Failover: the chosen uplink's table for local and forwarded traffic,
 * main's more specific routes first; again: nothing to do. */
static void test_failover_set(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;
	unsigned long before;

	(void)state;
	steer_build(&want, AF_INET, 10000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 3);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 254), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 10000), 1);
	assert_others_kept(k);
	before = kfake_changes(k);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(kfake_changes(k), before);
	kernel_close(k);
}

/* The other uplink takes over: its rules in, the old ones out; main's
 * rule stays as it is. */
static void test_switch(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 10000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	steer_build(&want, AF_INET, 10001, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 4);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 0), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10001), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 10001), 1);
	assert_others_kept(k);
	kernel_close(k);
}

/* The kernel refuses a new rule: the old ones stay (unbound traffic keeps
 * an uplink), and the next pass finishes the switch. */
static void test_switch_refused(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 10000, NULL, 0);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	steer_build(&want, AF_INET, 10001, NULL, 0);
	kfake_fail(k, -ENOMEM, 1);
	assert_int_equal(steer_apply(k, &want, &changed), -ENOMEM);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10001), 1);
	kernel_close(k);
}

/* Balance points the rules at rtalloc-track's own table; at exit (or with
 * no uplink) every steering rule of the family goes, copies someone made
 * too, and nobody else's. */
static void test_balance_and_removal(void **state)
{
	struct kernel *k = setup_kernel();
	struct krule copy;
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 30000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 30000), 1);
	copy = want.r[2];
	assert_int_equal(kfake_rule(k, &copy, false), 0);
	steer_build(&want, AF_INET, 0, NULL, 0);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 0), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 0), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 0), 0);
	assert_others_kept(k);
	kernel_close(k);
}

/* The events the seam reads back from a route message. */
struct got {
	struct kroute r[4];
	size_t n;
};

static void got_cb(const struct kevent *ev, void *data)
{
	struct got *g = data;

	assert_int_equal(ev->type, KOBJ_ROUTE);
	assert_true(g->n < 4);
	g->r[g->n++] = ev->route;
}

/* Balance's route for unbound traffic: one uplink, a plain default route
 * through it; two, one multipath route with each uplink's weight, as the
 * kernel reads the message back; none, the bare route to delete.  All in
 * rtalloc-track's table, protocol 122. */
static void test_balance_route(void **state)
{
	struct steer_hop hops[2] = {
		{ .key = 0, .ifindex = 3, .has_gw = true, .weight = 3 },
		{ .key = 1, .ifindex = 4, .has_gw = false, .weight = 1 },
	};
	struct knexthop nh[2];
	struct kroute r;
	struct got g = { .n = 0 };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_addr gw;

	(void)state;
	assert_int_equal(addr_parse(AF_INET, "192.0.2.1", &gw), 0);
	hops[0].gw = gw;
	hops[0].gw.family = 0;	/* the family is steer's to set */

	steer_route_build(AF_INET, 30000, hops, 1, &r, nh);
	assert_int_equal(r.table, 30000);
	assert_int_equal(r.proto, RTPROT_RTALLOC);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.oif, 3);
	assert_int_equal(r.gw.family, AF_INET);
	assert_memory_equal(r.gw.bytes, gw.bytes, 4);

	steer_route_build(AF_INET, 30000, hops, 2, &r, nh);
	assert_int_equal(r.oif, 0);
	assert_int_equal(r.gw.family, 0);
	assert_int_equal(nh[0].ifindex, 3);
	assert_int_equal(nh[0].weight, 3);
	assert_int_equal(nh[0].gw.family, AF_INET);
	assert_int_equal(nh[1].ifindex, 4);
	assert_int_equal(nh[1].weight, 1);
	assert_int_equal(nh[1].gw.family, 0);
	nlh->nlmsg_type = RTM_NEWROUTE;
	kroute_put_multipath(nlh, &r, nh, 2);
	kmsg_emit(nlh, KOBJ_ROUTE, got_cb, &g);
	assert_int_equal(g.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(g.r[i].multipath);
		assert_int_equal(g.r[i].table, 30000);
		assert_int_equal(g.r[i].proto, RTPROT_RTALLOC);
		assert_int_equal(g.r[i].dst_len, 0);
	}
	assert_int_equal(g.r[0].oif, 3);
	assert_int_equal(g.r[0].gw.family, AF_INET);
	assert_memory_equal(g.r[0].gw.bytes, gw.bytes, 4);
	assert_int_equal(g.r[1].oif, 4);
	assert_int_equal(g.r[1].gw.family, 0);

	steer_route_build(AF_INET6, 30000, NULL, 0, &r, NULL);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.table, 30000);
	assert_int_equal(r.oif, 0);
	assert_int_equal(r.gw.family, 0);
}

/* balance_group's objects of family (balance.h's ids). */
#define GROUP4 BALANCE_NH_BASE
#define GROUP6 (BALANCE_NH_BASE + 256)
static uint32_t member(uint32_t group, uint32_t key, unsigned twin)
{
	return group + 1 + key * 2 + twin;
}

static struct kernel *balance_kernel(void)
{
	struct kernel *k = setup_kernel();

	assert_int_equal(kfake_link(k, 3, "up1", true), 0);
	assert_int_equal(kfake_link(k, 4, "up2", true), 0);
	assert_int_equal(kfake_link(k, 5, "up3", true), 0);
	return k;
}

static void hops_init(struct steer_hop *hops, int family)
{
	static const char *const gw4[] = { "10.1.0.1", "10.2.0.1", "10.3.0.1" };
	static const char *const gw6[] = { "fe80::1", "fe80::2", "fe80::3" };

	for (size_t i = 0; i < 3; i++) {
		memset(&hops[i], 0, sizeof(hops[i]));
		hops[i].key = (uint32_t)i;
		hops[i].ifindex = 3 + (int)i;
		hops[i].has_gw = true;
		hops[i].weight = (uint32_t)(1 + 2 * i);
		assert_int_equal(addr_parse(family, family == AF_INET ? gw4[i] : gw6[i], &hops[i].gw), 0);
		hops[i].gw.family = 0;	/* the family is balance's to set */
	}
}

/* The routes of table: how many, and (when one) it. */
static size_t routes_of(const struct kernel *k, int family, uint32_t table, struct kroute *one)
{
	const struct kroute_set *s = kfake_routes(k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].family == family && s->v[i].table == table) {
			if (one)
				*one = s->v[i];
			n++;
		}
	return n;
}

/* Is key's uplink in group, both twins, with its device, gateway and weight? */
static bool in_group(const struct kernel *k, uint32_t group, const struct steer_hop *h, int family)
{
	const struct knhobj *g = kfake_nexthop(k, group);
	unsigned found = 0;

	assert_non_null(g);
	for (unsigned twin = 0; twin < 2; twin++) {
		const struct knhobj *o = kfake_nexthop(k, member(group, h->key, twin));

		if (!o)
			return false;
		assert_int_equal(o->ngroup, 0);
		assert_int_equal(o->oif, h->ifindex);
		assert_int_equal(o->proto, RTPROT_RTALLOC);
		assert_int_equal(o->gw.family, family);
		assert_memory_equal(o->gw.bytes, h->gw.bytes, addr_len(family));
		for (size_t i = 0; i < g->ngroup; i++)
			if (g->group[i].id == o->id) {
				assert_int_equal(g->group[i].weight, h->weight);
				found++;
			}
	}
	return found == 2;
}

/* The route of table goes through the group, and nothing else is there. */
static void assert_route_via(const struct kernel *k, int family, uint32_t table, uint32_t group)
{
	struct kroute r;

	assert_int_equal(routes_of(k, family, table, &r), 1);
	assert_int_equal(r.nh_id, group);
	assert_int_equal(r.oif, 0);
	assert_int_equal(r.gw.family, 0);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.proto, RTPROT_RTALLOC);
	assert_false(r.multipath);
}

/* Two uplinks: four members (twins), one resilient group of them with
 * their weights, the default route of rtalloc-track's table through it.
 * One uplink fails: its members leave the group and go, the route stays
 * on the group.  It comes back: in again.  Again with nothing changed:
 * the same objects. */
static void test_balance_group(void **state)
{
	struct kernel *k = balance_kernel();
	struct steer_hop hops[3];
	const struct knhobj *g;

	(void)state;
	hops_init(hops, AF_INET);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 2), 0);
	g = kfake_nexthop(k, GROUP4);
	assert_non_null(g);
	assert_int_equal(g->ngroup, 4);
	assert_int_equal(g->buckets, BALANCE_BUCKETS);
	assert_int_equal(g->idle_s, BALANCE_IDLE_S);
	assert_int_equal(g->proto, RTPROT_RTALLOC);
	assert_true(in_group(k, GROUP4, &hops[0], AF_INET));
	assert_true(in_group(k, GROUP4, &hops[1], AF_INET));
	assert_int_equal(kfake_nexthops(k), 5);
	assert_route_via(k, AF_INET, 30500, GROUP4);

	/* up1 fails: only up2 is chosen. */
	assert_int_equal(balance_group(k, AF_INET, 30500, &hops[1], 1), 0);
	g = kfake_nexthop(k, GROUP4);
	assert_non_null(g);
	assert_int_equal(g->ngroup, 2);
	assert_true(in_group(k, GROUP4, &hops[1], AF_INET));
	assert_null(kfake_nexthop(k, member(GROUP4, 0, 0)));
	assert_null(kfake_nexthop(k, member(GROUP4, 0, 1)));
	assert_int_equal(kfake_nexthops(k), 3);
	assert_route_via(k, AF_INET, 30500, GROUP4);

	/* up1 is back, up3 too. */
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 3), 0);
	assert_int_equal(kfake_nexthop(k, GROUP4)->ngroup, 6);
	for (size_t i = 0; i < 3; i++)
		assert_true(in_group(k, GROUP4, &hops[i], AF_INET));
	assert_int_equal(kfake_nexthops(k), 7);
	assert_route_via(k, AF_INET, 30500, GROUP4);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 3), 0);
	assert_int_equal(kfake_nexthops(k), 7);
	assert_route_via(k, AF_INET, 30500, GROUP4);
	assert_others_kept(k);
	kernel_close(k);
}

/* Balance stops (or no uplink is left) in one family: its route, group
 * and members go; the other family's stay; twice is fine. */
static void test_balance_group_removal(void **state)
{
	struct kernel *k = balance_kernel();
	struct steer_hop hops4[3], hops6[3];

	(void)state;
	hops_init(hops4, AF_INET);
	hops_init(hops6, AF_INET6);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops4, 2), 0);
	assert_int_equal(balance_group(k, AF_INET6, 30500, hops6, 3), 0);
	assert_int_equal(kfake_nexthops(k), 5 + 7);
	assert_true(in_group(k, GROUP6, &hops6[2], AF_INET6));
	assert_route_via(k, AF_INET6, 30500, GROUP6);

	assert_int_equal(balance_group(k, AF_INET, 30500, NULL, 0), 0);
	assert_int_equal(routes_of(k, AF_INET, 30500, NULL), 0);
	assert_null(kfake_nexthop(k, GROUP4));
	for (uint32_t key = 0; key < 3; key++)
		assert_null(kfake_nexthop(k, member(GROUP4, key, 0)));
	assert_int_equal(kfake_nexthops(k), 7);
	assert_route_via(k, AF_INET6, 30500, GROUP6);
	assert_int_equal(balance_group(k, AF_INET, 30500, NULL, 0), 0);

	assert_int_equal(balance_group(k, AF_INET6, 30500, NULL, 0), 0);
	assert_int_equal(kfake_nexthops(k), 0);
	assert_int_equal(routes_of(k, AF_INET6, 30500, NULL), 0);
	assert_others_kept(k);
	kernel_close(k);
}

/* The kernel refuses: a new member (the group as it was keeps carrying
 * traffic, the route still on it, and the next pass makes the change),
 * or every nexthop object (no nexthop objects here: balance_group fails
 * and the caller's plain multipath route replaces the route, IPv6 too,
 * no sibling left of the old one). */
static void test_balance_group_refused(void **state)
{
	struct kernel *k = balance_kernel();
	struct steer_hop hops[3];
	struct steer_hop hops6[3];

	(void)state;
	hops_init(hops, AF_INET);
	hops_init(hops6, AF_INET6);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 2), 0);
	kfake_fail(k, -ENOMEM, 1);
	assert_int_equal(balance_group(k, AF_INET, 30500, &hops[1], 2), -ENOMEM);
	assert_int_equal(kfake_nexthop(k, GROUP4)->ngroup, 4);
	assert_true(in_group(k, GROUP4, &hops[0], AF_INET));
	assert_true(in_group(k, GROUP4, &hops[1], AF_INET));
	assert_route_via(k, AF_INET, 30500, GROUP4);
	assert_int_equal(balance_group(k, AF_INET, 30500, &hops[1], 2), 0);
	assert_int_equal(kfake_nexthop(k, GROUP4)->ngroup, 4);
	assert_true(in_group(k, GROUP4, &hops[2], AF_INET));
	assert_null(kfake_nexthop(k, member(GROUP4, 0, 0)));
	assert_route_via(k, AF_INET, 30500, GROUP4);

	/* A device that is down: its member is refused. */
	assert_int_equal(kfake_link(k, 3, "up1", false), 0);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 1), -ENETDOWN);
	assert_route_via(k, AF_INET, 30500, GROUP4);
	assert_int_equal(kfake_link(k, 3, "up1", true), 0);

	/* IPv6 through its group, then no nexthop objects at all. */
	assert_int_equal(balance_group(k, AF_INET6, 30500, hops6, 2), 0);
	assert_route_via(k, AF_INET6, 30500, GROUP6);
	assert_int_equal(balance_group(k, AF_INET6, 30500, NULL, 0), 0);
	kfake_fail(k, -EOPNOTSUPP, 2 * 2);
	assert_int_equal(balance_group(k, AF_INET6, 30500, hops6, 2), -EOPNOTSUPP);
	assert_null(kfake_nexthop(k, GROUP6));
	assert_int_equal(steer_route(k, AF_INET6, 30500, hops6, 2), 0);
	assert_int_equal(routes_of(k, AF_INET6, 30500, NULL), 2);
	kernel_close(k);
}

/* What the fake kernel does with nexthop objects, as the kernel does and
 * balance relies on: a group of an object that is not there, and a route
 * through a group that is not there, are refused; a link that goes down
 * takes its objects out of the group; the group left empty goes, and the
 * route through it too.  balance_group then builds it all again. */
static void test_fake_nexthops(void **state)
{
	struct kernel *k = balance_kernel();
	struct knhmember m = { .id = 7, .weight = 1 };
	struct kchange c = { .type = KOBJ_NEXTHOP, .add = true,
			     .nh = { .id = 9, .group = &m, .ngroup = 1 } };
	struct steer_hop hops[3];
	int err = 0;

	(void)state;
	assert_int_equal(kernel_apply(k, &c, 1, &err), 0);
	assert_int_equal(err, -EINVAL);
	c = (struct kchange){ .type = KOBJ_ROUTE, .add = true, .whole = true };
	steer_route_build(AF_INET, 30500, NULL, 0, &c.route, NULL);
	c.route.nh_id = GROUP4;
	assert_int_equal(kernel_apply(k, &c, 1, &err), 0);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(kfake_nexthops(k), 0);

	hops_init(hops, AF_INET);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 2), 0);
	assert_int_equal(kfake_link(k, 3, "up1", false), 0);
	assert_int_equal(kfake_nexthop(k, GROUP4)->ngroup, 2);
	assert_true(in_group(k, GROUP4, &hops[1], AF_INET));
	assert_route_via(k, AF_INET, 30500, GROUP4);
	assert_int_equal(kfake_link(k, 4, "up2", false), 0);
	assert_null(kfake_nexthop(k, GROUP4));
	assert_int_equal(kfake_nexthops(k), 0);
	assert_int_equal(routes_of(k, AF_INET, 30500, NULL), 0);
	assert_int_equal(kfake_link(k, 3, "up1", true), 0);
	assert_int_equal(balance_group(k, AF_INET, 30500, hops, 1), 0);
	assert_true(in_group(k, GROUP4, &hops[0], AF_INET));
	assert_route_via(k, AF_INET, 30500, GROUP4);
	kernel_close(k);
}

/* The plain balance route through the seam: two uplinks, one multipath
 * route (one entry per nexthop) that replaces what the table had, the
 * route through the group included, IPv6 too; one, a plain route through
 * its device and gateway; none, gone, and gone again is no error. */
static void test_steer_route(void **state)
{
	struct kernel *k = balance_kernel();
	const struct kroute_set *s = kfake_routes(k);
	struct steer_hop hops[3];
	struct kroute r;
	int seen = 0;

	(void)state;
	for (int fi = 0; fi < 2; fi++) {
		int family = fi ? AF_INET6 : AF_INET;

		hops_init(hops, family);
		assert_int_equal(balance_group(k, family, 30500, hops, 2), 0);
		assert_int_equal(steer_route(k, family, 30500, hops, 2), 0);
		assert_int_equal(routes_of(k, family, 30500, NULL), 2);
		seen = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].family == family && s->v[i].table == 30500) {
				assert_true(s->v[i].multipath);
				assert_int_equal(s->v[i].nh_id, 0);
				assert_int_equal(s->v[i].proto, RTPROT_RTALLOC);
				assert_int_equal(s->v[i].gw.family, family);
				seen |= 1 << (s->v[i].oif - 3);
			}
		assert_int_equal(seen, 3);
		assert_int_equal(steer_route(k, family, 30500, &hops[1], 1), 0);
		assert_int_equal(routes_of(k, family, 30500, &r), 1);
		assert_false(r.multipath);
		assert_int_equal(r.oif, 4);
		assert_int_equal(r.gw.family, family);
		assert_memory_equal(r.gw.bytes, hops[1].gw.bytes, addr_len(family));
		assert_int_equal(steer_route(k, family, 30500, NULL, 0), 0);
		assert_int_equal(routes_of(k, family, 30500, NULL), 0);
		assert_int_equal(steer_route(k, family, 30500, NULL, 0), 0);
	}
	assert_others_kept(k);
	kernel_close(k);
}

/* A `from ADDRESS lookup TABLE` rule of family at pref, of protocol proto. */
static void from_rule(struct kernel *k, int family, const char *addr, uint8_t len, uint32_t table,
		      uint32_t pref, uint8_t proto)
{
	struct krule r = { .family = (uint8_t)family, .pref = pref, .table = table, .src_len = len,
			   .proto = proto };

	assert_int_equal(addr_parse(family, addr, &r.src), 0);
	assert_int_equal(kfake_rule(k, &r, false), 0);
}

static void add_addr(struct kernel *k, int family, const char *addr, int ifindex)
{
	struct kaddr a = { .family = (uint8_t)family, .ifindex = ifindex,
			   .prefixlen = family == AF_INET ? 24 : 64 };

	assert_int_equal(addr_parse(family, addr, &a.addr), 0);
	assert_int_equal(kfake_addr(k, &a, false), 0);
}

static void default_route(struct kernel *k, int family, uint32_t table, int oif, const char *gw)
{
	struct kroute r = { .family = (uint8_t)family, .table = table, .oif = oif, .type = RTN_UNICAST,
			    .proto = RTPROT_STATIC, .scope = RT_SCOPE_UNIVERSE };

	if (gw)
		assert_int_equal(addr_parse(family, gw, &r.gw), 0);
	assert_int_equal(kfake_route(k, &r, false), 0);
}

static void assert_uplink(const struct uplink_info *u, const char *ifname, int ifindex, int family,
			  const char *addr, uint32_t table, int oif, const char *gw)
{
	struct inet_addr a;

	assert_string_equal(u->ifname, ifname);
	assert_int_equal(u->ifindex, ifindex);
	assert_int_equal(u->addr.family, family);
	assert_int_equal(addr_parse(family, addr, &a), 0);
	assert_memory_equal(u->addr.bytes, a.bytes, addr_len(family));
	assert_int_equal(u->table, table);
	assert_int_equal(u->has_default, oif != 0);
	assert_int_equal(u->oif, oif);
	assert_int_equal(u->has_gw, gw != NULL);
	if (gw) {
		assert_int_equal(addr_parse(family, gw, &a), 0);
		assert_int_equal(u->gw.family, family);
		assert_memory_equal(u->gw.bytes, a.bytes, addr_len(family));
	}
}

/* The uplinks are the addresses of rtalloc's `from` rules at pref 10000
 * (a leased address's at any pref), with the link holding each and its
 * table's default route; not someone else's rule, a subnet's, one whose
 * address is gone, nor a leased address's rule into another table. */
static void test_discover_uplinks(void **state)
{
	struct kernel *k;
	struct uplink_info u[8];
	size_t n = 99;
	struct proto_lease leases[2] = {
		{ .family = AF_INET, .address = "198.51.100.10", .table = 101 },
		{ .family = AF_INET, .address = "203.0.113.10", .table = 999 },
	};
	struct kroute nh = { .family = AF_INET6, .table = 102, .oif = 3, .type = RTN_UNICAST,
			     .proto = RTPROT_STATIC, .multipath = true };

	(void)state;
	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_link(k, 2, "wan0", true), 0);
	assert_int_equal(kfake_link(k, 3, "wan1", true), 0);
	assert_int_equal(kfake_link(k, 4, "wan2", true), 0);
	add_addr(k, AF_INET, "192.0.2.10", 2);
	add_addr(k, AF_INET, "198.51.100.10", 3);
	add_addr(k, AF_INET, "203.0.113.10", 4);
	add_addr(k, AF_INET6, "2001:db8::10", 3);
	from_rule(k, AF_INET, "192.0.2.10", 32, 100, KPREF_FROM, RTPROT_RTALLOC);
	from_rule(k, AF_INET, "198.51.100.10", 32, 101, 12345, RTPROT_RTALLOC);
	from_rule(k, AF_INET, "203.0.113.10", 32, 103, KPREF_FROM, RTPROT_STATIC);
	from_rule(k, AF_INET, "203.0.113.10", 32, 104, 12345, RTPROT_RTALLOC);
	from_rule(k, AF_INET, "203.0.113.0", 24, 105, KPREF_FROM, RTPROT_RTALLOC);
	from_rule(k, AF_INET, "10.9.9.9", 32, 106, KPREF_FROM, RTPROT_RTALLOC);
	from_rule(k, AF_INET6, "2001:db8::10", 128, 102, KPREF_FROM, RTPROT_RTALLOC);
	default_route(k, AF_INET, 100, 2, "192.0.2.1");
	default_route(k, AF_INET, 101, 3, NULL);
	assert_int_equal(addr_parse(AF_INET6, "fe80::1", &nh.gw), 0);
	assert_int_equal(kfake_multipath(k, &nh, 1, false), 0);

	assert_int_equal(discover_uplinks(k, NULL, 0, u, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_uplink(&u[0], "wan0", 2, AF_INET, "192.0.2.10", 100, 2, "192.0.2.1");
	assert_uplink(&u[1], "wan1", 3, AF_INET6, "2001:db8::10", 102, 0, NULL);

	/* A lease widens the rules taken: the leased address at its pref. */
	assert_int_equal(discover_uplinks(k, leases, 2, u, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_uplink(&u[0], "wan0", 2, AF_INET, "192.0.2.10", 100, 2, "192.0.2.1");
	assert_uplink(&u[1], "wan1", 3, AF_INET, "198.51.100.10", 101, 3, NULL);
	assert_uplink(&u[2], "wan1", 3, AF_INET6, "2001:db8::10", 102, 0, NULL);
	assert_true(discover_lease_matched(&leases[0], u, n));
	assert_false(discover_lease_matched(&leases[1], u, n));

	/* No more than max; an uplink whose link went (its addresses with it)
	 * is none. */
	assert_int_equal(discover_uplinks(k, leases, 2, u, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_uplink(&u[0], "wan0", 2, AF_INET, "192.0.2.10", 100, 2, "192.0.2.1");
	assert_int_equal(kfake_link_del(k, 3), 0);
	assert_int_equal(discover_uplinks(k, leases, 2, u, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_uplink(&u[0], "wan0", 2, AF_INET, "192.0.2.10", 100, 2, "192.0.2.1");
	kernel_close(k);
}

/* The LANs are the interfaces of rtalloc's `iif IF` rules at pref 91000,
 * both families, each once and after those already there; not lo, nor
 * another pref's, another protocol's or a rule that also has a source. */
static void test_discover_forward(void **state)
{
	struct kernel *k;
	char out[4][IFNAMSIZ] = { "pre" };
	size_t n = 1;
	const struct krule iifs[] = {
		{ .family = AF_INET, .pref = KPREF_IIF, .table = 100, .iif = "lan0", .proto = RTPROT_RTALLOC },
		{ .family = AF_INET6, .pref = KPREF_IIF, .table = 100, .iif = "lan0", .proto = RTPROT_RTALLOC },
		{ .family = AF_INET6, .pref = KPREF_IIF, .table = 101, .iif = "lan1", .proto = RTPROT_RTALLOC },
		{ .family = AF_INET, .pref = KPREF_IIF, .table = 10000, .iif = "lo", .proto = RTPROT_RTALLOC },
		{ .family = AF_INET, .pref = KPREF_IIF + 1, .table = 100, .iif = "lan2",
		  .proto = RTPROT_RTALLOC },
		{ .family = AF_INET, .pref = KPREF_IIF, .table = 100, .iif = "lan3", .proto = RTPROT_STATIC },
		{ .family = AF_INET, .pref = KPREF_IIF, .table = 100, .iif = "lan4", .src_len = 24,
		  .proto = RTPROT_RTALLOC },
	};

	(void)state;
	assert_int_equal(kernel_fake_open(&k), 0);
	for (size_t i = 0; i < sizeof(iifs) / sizeof(iifs[0]); i++)
		assert_int_equal(kfake_rule(k, &iifs[i], false), 0);
	assert_int_equal(discover_forward(k, out, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0], "pre");
	assert_string_equal(out[1], "lan0");
	assert_string_equal(out[2], "lan1");
	/* No more than max. */
	n = 0;
	assert_int_equal(discover_forward(k, out, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "lan0");
	kernel_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover_set),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_switch_refused),
		cmocka_unit_test(test_balance_and_removal),
		cmocka_unit_test(test_balance_route),
		cmocka_unit_test(test_balance_group),
		cmocka_unit_test(test_balance_group_removal),
		cmocka_unit_test(test_balance_group_refused),
		cmocka_unit_test(test_steer_route),
		cmocka_unit_test(test_fake_nexthops),
		cmocka_unit_test(test_discover_uplinks),
		cmocka_unit_test(test_discover_forward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
