/* Unit tests for reconcile(): the plan that turns the kernel's rules and
 * routes of a table into the wanted ones, in an order that keeps traffic
 * routed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile.h"

static struct krule rule(uint32_t pref, uint32_t table, const char *from)
{
	struct krule r = { .family = AF_INET, .pref = pref, .table = table, .proto = RTPROT_RTALLOC };

	if (from) {
		addr_parse(AF_INET, from, &r.src);
		r.src_len = 32;
	} else {
		strcpy(r.iif, "lo");
	}
	return r;
}

static struct kroute route(int family, const char *dst, uint8_t len, const char *gw, uint32_t metric)
{
	struct kroute r = { .family = (uint8_t)family, .table = 10000, .dst_len = len, .oif = 2,
			    .metric = metric, .type = 1, .proto = RTPROT_RTALLOC };

	addr_parse(family, dst, &r.dst);
	if (gw)
		addr_parse(family, gw, &r.gw);
	return r;
}

static void test_empty_kernel_gets_all_routes_first(void **state)
{
	struct krule_set wr = { 0 }, hr = { 0 };
	struct kroute_set wt = { 0 }, ht = { 0 };
	struct kplan p = { 0 };
	struct krule r1 = rule(10000, 10000, "192.0.2.7"), r2 = rule(91000, 10000, NULL);
	struct kroute t1 = route(AF_INET, "192.0.2.0", 24, NULL, 0), t2 = route(AF_INET, "0.0.0.0", 0, "192.0.2.1", 0);

	(void)state;
	krule_set_add(&wr, &r1);
	krule_set_add(&wr, &r2);
	kroute_set_add(&wt, &t1);
	kroute_set_add(&wt, &t2);
	assert_int_equal(reconcile(&wr, &wt, &hr, &ht, &p), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.adds, 4);
	/* the table is filled before a rule selects it */
	assert_int_equal(p.v[0].type, KOBJ_ROUTE);
	assert_int_equal(p.v[1].type, KOBJ_ROUTE);
	assert_int_equal(p.v[2].type, KOBJ_RULE);
	assert_int_equal(p.v[3].type, KOBJ_RULE);

	/* what is there already costs nothing */
	kplan_reset(&p);
	assert_int_equal(reconcile(&wr, &wt, &wr, &wt, &p), 0);
	assert_int_equal(p.n, 0);
	kplan_free(&p);
	krule_set_free(&wr);
	kroute_set_free(&wt);
}

static void test_stale_goes_after_new_is_in(void **state)
{
	struct krule_set wr = { 0 }, hr = { 0 };
	struct kroute_set wt = { 0 }, ht = { 0 };
	struct kplan p = { 0 };
	struct krule now = rule(10000, 10001, "192.0.2.7"), old = rule(10000, 10000, "192.0.2.7");
	struct kroute rnew = route(AF_INET, "0.0.0.0", 0, "192.0.2.1", 0);
	struct kroute rold = route(AF_INET, "198.51.100.0", 24, "192.0.2.1", 0);

	(void)state;
	krule_set_add(&wr, &now);
	krule_set_add(&hr, &old);
	kroute_set_add(&wt, &rnew);
	kroute_set_add(&ht, &rold);
	assert_int_equal(reconcile(&wr, &wt, &hr, &ht, &p), 0);
	assert_int_equal(p.n, 4);
	assert_true(p.v[0].add && p.v[0].type == KOBJ_ROUTE);
	assert_true(p.v[1].add && p.v[1].type == KOBJ_RULE && p.v[1].rule.table == 10001);
	assert_true(!p.v[2].add && p.v[2].type == KOBJ_RULE && p.v[2].rule.table == 10000);
	assert_true(!p.v[3].add && p.v[3].type == KOBJ_ROUTE);
	assert_int_equal(p.dels, 2);
	kplan_free(&p);
	krule_set_free(&wr);
	krule_set_free(&hr);
	kroute_set_free(&wt);
	kroute_set_free(&ht);
}

static void test_ipv4_changed_route_is_replaced_not_deleted(void **state)
{
	struct krule_set none = { 0 };
	struct kroute_set wt = { 0 }, ht = { 0 };
	struct kplan p = { 0 };
	struct kroute want = route(AF_INET, "0.0.0.0", 0, "192.0.2.1", 0);
	struct kroute have = route(AF_INET, "0.0.0.0", 0, "192.0.2.254", 0);

	(void)state;
	kroute_set_add(&wt, &want);
	kroute_set_add(&ht, &have);
	assert_int_equal(reconcile(&none, &wt, &none, &ht, &p), 0);
	/* the addition (a replace, same key) is all: a deletion naming the
	 * old gateway would find nothing, one naming only what both share
	 * would take the new route */
	assert_int_equal(p.n, 1);
	assert_true(p.v[0].add);
	assert_int_equal(p.dels, 0);
	/* another metric is another key: the old one goes, after */
	kplan_reset(&p);
	ht.v[0].metric = 100;
	assert_int_equal(reconcile(&none, &wt, &none, &ht, &p), 0);
	assert_int_equal(p.n, 2);
	assert_true(p.v[0].add);
	assert_false(p.v[1].add);
	assert_int_equal(p.v[1].route.metric, 100);
	kplan_free(&p);
	kroute_set_free(&wt);
	kroute_set_free(&ht);
}

static void test_ipv6_same_key_deleted_first(void **state)
{
	struct krule_set none = { 0 };
	struct kroute_set wt = { 0 }, ht = { 0 };
	struct kplan p = { 0 };
	struct kroute want = route(AF_INET6, "::", 0, "fe80::1", 1024);
	struct kroute have = want;

	(void)state;
	addr_parse(AF_INET6, "2001:db8::7", &want.src);
	addr_parse(AF_INET6, "2001:db8::8", &have.src);
	kroute_set_add(&wt, &want);
	kroute_set_add(&ht, &have);
	assert_int_equal(reconcile(&none, &wt, &none, &ht, &p), 0);
	/* IPv6 would keep both as siblings: the old one goes first */
	assert_int_equal(p.n, 2);
	assert_false(p.v[0].add);
	assert_true(p.v[1].add);
	kplan_free(&p);
	kroute_set_free(&wt);
	kroute_set_free(&ht);
}

static void test_nothing_wanted_removes_everything(void **state)
{
	struct krule_set none = { 0 }, hr = { 0 };
	struct kroute_set nort = { 0 }, ht = { 0 };
	struct kplan p = { 0 };
	struct krule r = rule(10000, 10000, "192.0.2.7");
	struct kroute t = route(AF_INET, "192.0.2.0", 24, NULL, 0);

	(void)state;
	krule_set_add(&hr, &r);
	kroute_set_add(&ht, &t);
	assert_int_equal(reconcile(&none, &nort, &hr, &ht, &p), 0);
	assert_int_equal(p.n, 2);
	/* rules first: traffic never selects a table being emptied */
	assert_int_equal(p.v[0].type, KOBJ_RULE);
	assert_int_equal(p.v[1].type, KOBJ_ROUTE);
	kplan_free(&p);
	krule_set_free(&hr);
	kroute_set_free(&ht);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_kernel_gets_all_routes_first),
		cmocka_unit_test(test_stale_goes_after_new_is_in),
		cmocka_unit_test(test_ipv4_changed_route_is_replaced_not_deleted),
		cmocka_unit_test(test_ipv6_same_key_deleted_first),
		cmocka_unit_test(test_nothing_wanted_removes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
