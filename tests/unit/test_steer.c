/* Unit tests for rtalloc-track's steering rules (track/steer.c) over the
 * fake kernel: the rule sets of failover and balance, a switch to another
 * uplink (the new rules in before the old go, and none lost when the kernel
 * refuses), their removal, and everyone else's rules left alone; balance's
 * default route (one uplink, several with their weights, none). */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover_set),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_switch_refused),
		cmocka_unit_test(test_balance_and_removal),
		cmocka_unit_test(test_balance_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
