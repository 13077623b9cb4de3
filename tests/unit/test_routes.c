/* Unit tests for the hook path's routes: --route parsing (routearg), the
 * engine run routes-only with the routes a hook gave (what hold.c does in
 * a per-address rtalloc, over the fake kernel), and --status's table checks
 * (tables_compare). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "engine.h"
#include "kernel_fake.h"
#include "settle.h"
#include "routearg.h"
#include "tables.h"

/* ---- routearg ---- */

static void test_route_arg_good(void **state)
{
	struct route_arg r;
	char err[200], buf[ROUTEARG_LEN];

	(void)state;
	assert_int_equal(route_arg_parse(AF_INET, "default,via 192.0.2.1,metric 3", &r, err, sizeof(err)), 0);
	assert_int_equal(r.dst_len, 0);
	assert_true(r.has_gw);
	assert_int_equal(r.metric, 3);
	assert_string_equal(route_arg_str(&r, buf, sizeof(buf)), "default,via 192.0.2.1,metric 3");
	assert_int_equal(route_arg_parse(AF_INET, "10.250.0.0/24,via 0.0.0.0", &r, err, sizeof(err)), 0);
	assert_false(r.has_gw);	/* RFC 3442: on-link */
	assert_string_equal(route_arg_str(&r, buf, sizeof(buf)), "10.250.0.0/24,metric 0");
	assert_int_equal(route_arg_parse(AF_INET, "192.0.2.9", &r, err, sizeof(err)), 0);
	assert_int_equal(r.dst_len, 32);
	assert_int_equal(route_arg_parse(AF_INET6, "2001:db8::/64,via fe80::1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.dst_len, 64);
	assert_true(r.has_gw);
}

static void test_route_arg_bad(void **state)
{
	static const struct {
		int family;
		const char *arg, *why;
	} bad[] = {
		{ AF_INET, "", "empty" },
		{ AF_INET, "10.0.0.1/24", "host bits set past /24: '10.0.0.1/24'" },
		{ AF_INET, "10.0.0.0/33", "not a prefix length 0..32" },
		{ AF_INET, "2001:db8::/64", "not an IPv4 destination" },
		{ AF_INET, "default,via 2001:db8::1", "not an IPv4 gateway: '2001:db8::1'" },
		{ AF_INET, "default,metric -1", "not a metric" },
		{ AF_INET, "default,metric 4294967296", "not a metric" },
		{ AF_INET, "default,dev eth0", "'dev eth0' is not via GW or metric N" },
		{ AF_INET, "default,via 192.0.2.1,via 192.0.2.2", "once each" },
		{ AF_INET, "default,", "empty part" },
		{ AF_INET6, "default,via 192.0.2.1", "not an IPv6 gateway" },
	};
	struct route_arg r;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(route_arg_parse(bad[i].family, bad[i].arg, &r, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].arg, err, bad[i].why);
		assert_non_null(strstr(err, "--route: "));
	}
}

static void test_route_msg_round_trip(void **state)
{
	struct route_arg in[3], out[ROUTEARG_MAX];
	char msg[ROUTEARG_MSG_MAX], err[200];
	size_t n, len;

	(void)state;
	assert_int_equal(route_arg_parse(AF_INET, "192.0.2.0/24", &in[0], err, sizeof(err)), 0);
	assert_int_equal(route_arg_parse(AF_INET, "default,via 192.0.2.1", &in[1], err, sizeof(err)), 0);
	assert_int_equal(route_arg_parse(AF_INET, "default,via 192.0.2.2,metric 1", &in[2], err, sizeof(err)), 0);
	len = route_arg_msg(in, 3, msg, sizeof(msg));
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(msg, "routes\n", 7);
	assert_int_equal(route_arg_msg_parse(AF_INET, msg + 7, out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(route_arg_equal(&in[i], &out[i]));
	assert_int_equal(route_arg_msg_parse(AF_INET, "default\nnonsense", out, &n, err, sizeof(err)), -EINVAL);
}

/* ---- the engine routes-only, as hold.c runs it ---- */

struct world {
	struct kernel *k;
	struct engine e;
	struct kroute_set given;
	struct uplink *u;
	uint32_t table;
	uint64_t now;
};

static bool manage(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	(void)e;
	(void)pol;
	return family == AF_INET && !strcmp(ifname, "wan0");
}

static bool uplink_new(struct engine *e, struct uplink *u)
{
	struct world *w = e->owner;
	struct inet_addr ours;

	addr_parse(AF_INET, "192.0.2.7", &ours);
	if (memcmp(u->key.addr.bytes, ours.bytes, 4))
		return false;	/* another address on the link: not ours */
	w->u = u;
	u->given = &w->given;
	engine_set_table(e, u, w->table);
	return true;
}

static void uplink_gone(struct engine *e, struct uplink *u)
{
	struct world *w = e->owner;

	if (w->u == u)
		w->u = NULL;
}

static const struct engine_ops ops = { .manage = manage, .uplink_new = uplink_new, .uplink_gone = uplink_gone };

static struct kroute route4(uint32_t table, const char *dst, uint8_t len, const char *gw, int oif)
{
	struct kroute r = { .family = AF_INET, .table = table, .dst_len = len, .oif = oif,
			    .type = RTN_UNICAST, .proto = RTPROT_RTALLOC,
			    .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, .onlink = gw != NULL };

	addr_parse(AF_INET, dst, &r.dst);
	if (gw)
		addr_parse(AF_INET, gw, &r.gw);
	return r;
}

static void settle(struct world *w)
{
	engine_settle(&w->e, &w->now);
}

static size_t routes_of(const struct world *w, uint32_t table)
{
	const struct kroute_set *s = kfake_routes(w->k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == table) {
			assert_int_equal(s->v[i].proto, RTPROT_RTALLOC);
			n++;
		}
	return n;
}

static size_t rules_of(const struct world *w, uint32_t table)
{
	return kfake_rules_in(w->k, table);
}

/* A host with 192.0.2.7/24 and 192.0.2.8/24 on wan0, main's default
 * through wan0 (not to be copied), a rule of the daemon's rules.c for
 * table 10000, and the hook's routes: prefix and default. */
static void world_up(struct world *w)
{
	struct kaddr a = { .family = AF_INET, .ifindex = 2, .prefixlen = 24 }, b = a;
	struct kroute mdef = route4(KTABLE_MAIN, "0.0.0.0", 0, "192.0.2.254", 2);
	struct kroute net = route4(0, "192.0.2.0", 24, NULL, 2), def = route4(0, "0.0.0.0", 0, "192.0.2.1", 2);
	struct krule from = { .family = AF_INET, .pref = 10000, .table = 10000, .src_len = 32,
			      .proto = RTPROT_RTALLOC };

	memset(w, 0, sizeof(*w));
	w->table = 10000;
	addr_parse(AF_INET, "192.0.2.7", &a.addr);
	addr_parse(AF_INET, "192.0.2.8", &b.addr);
	addr_parse(AF_INET, "192.0.2.7", &from.src);
	mdef.proto = RTPROT_BOOT;
	assert_int_equal(kernel_fake_open(&w->k), 0);
	assert_int_equal(kfake_link(w->k, 2, "wan0", true), 0);
	assert_int_equal(kfake_addr(w->k, &a, false), 0);
	assert_int_equal(kfake_addr(w->k, &b, false), 0);
	assert_int_equal(kfake_route(w->k, &mdef, false), 0);
	assert_int_equal(kfake_rule(w->k, &from, false), 0);
	assert_int_equal(kroute_set_add(&w->given, &net), 0);
	assert_int_equal(kroute_set_add(&w->given, &def), 0);
	engine_init(&w->e, w->k, &ops, w, "");
	w->e.routes_only = true;
	assert_int_equal(engine_load(&w->e), 0);
	settle(w);
}

static void world_down(struct world *w)
{
	engine_free(&w->e);
	kernel_close(w->k);
	kroute_set_free(&w->given);
}

static void test_given_routes_fill_the_table_rules_untouched(void **state)
{
	struct world w;
	const struct kroute_set *s;

	(void)state;
	world_up(&w);
	assert_non_null(w.u);
	assert_int_equal(routes_of(&w, 10000), 2);	/* the hook's, not main's */
	assert_int_equal(rules_of(&w, 10000), 1);	/* rules.c's rule, as it was */
	s = kfake_routes(w.k);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == 10000) {
			char a[INET6_ADDRSTRLEN];

			assert_string_equal(addr_str(&s->v[i].src, a, sizeof(a)), "192.0.2.7");
		}
	world_down(&w);
}

static void test_deleted_route_and_link_flap_come_back(void **state)
{
	struct world w;
	struct kroute def = route4(10000, "0.0.0.0", 0, "192.0.2.1", 2);

	(void)state;
	world_up(&w);
	addr_parse(AF_INET, "192.0.2.7", &def.src);
	assert_int_equal(kfake_route(w.k, &def, true), 0);
	assert_int_equal(routes_of(&w, 10000), 1);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 2);
	kfake_link(w.k, 2, "wan0", false);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 0);
	kfake_link(w.k, 2, "wan0", true);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 2);
	world_down(&w);
}

static void test_new_routes_replace_old(void **state)
{
	struct world w;
	struct kroute cl = route4(0, "10.250.0.0", 24, "192.0.2.1", 2);

	(void)state;
	world_up(&w);
	kroute_set_del_at(&w.given, 1);		/* the default goes */
	assert_int_equal(kroute_set_add(&w.given, &cl), 0);
	engine_set_given(&w.e, w.u, &w.given);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 2);
	for (size_t i = 0; i < kfake_routes(w.k)->n; i++)
		if (kfake_routes(w.k)->v[i].table == 10000)
			assert_int_not_equal(kfake_routes(w.k)->v[i].dst_len, 0);
	world_down(&w);
}

static void test_move_keeps_old_until_claimed(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	engine_set_table(&w.e, w.u, 10001);
	engine_keep_table(&w.e, AF_INET, 10000);
	settle(&w);
	assert_int_equal(routes_of(&w, 10001), 2);	/* the new one filled */
	assert_int_equal(routes_of(&w, 10000), 2);	/* the old kept: rules still select it */
	engine_claim_table(&w.e, AF_INET, 10000);
	settle(&w);
	assert_int_equal(routes_of(&w, 10000), 0);
	assert_int_equal(rules_of(&w, 10000), 1);	/* rules are rules.c's */
	world_down(&w);
}

static void test_address_gone_empties_the_table(void **state)
{
	struct world w;
	struct kaddr a = { .family = AF_INET, .ifindex = 2, .prefixlen = 24 };

	(void)state;
	world_up(&w);
	addr_parse(AF_INET, "192.0.2.7", &a.addr);
	assert_int_equal(kfake_addr(w.k, &a, true), 0);
	settle(&w);
	assert_null(w.u);
	assert_int_equal(routes_of(&w, 10000), 0);
	world_down(&w);
}

/* ---- tables_compare ---- */

static char *compare(const struct proto_lease *l, size_t n, const struct table_want *want,
		     const struct table_view *k, size_t *diffs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*diffs = tables_compare(l, n, want, k, f);
	fclose(f);
	return buf;
}

static void test_tables_compare(void **state)
{
	struct proto_lease l[2] = {
		{ .family = AF_INET, .address = "192.0.2.7", .ifname = "wan0", .table = 10000 },
		{ .family = AF_INET, .address = "198.51.100.7", .ifname = "wan1", .table = 10001 },
	};
	struct klink links[2] = { { .ifindex = 2, .name = "wan0", .up = true },
				  { .ifindex = 3, .name = "wan1", .up = true } };
	struct krule rules[2] = {
		{ .family = AF_INET, .pref = 10000, .table = 10000, .src_len = 32, .proto = RTPROT_RTALLOC },
		{ .family = AF_INET, .pref = 10000, .table = 10001, .src_len = 32, .proto = RTPROT_RTALLOC },
	};
	struct kroute routes[3] = {
		route4(10000, "192.0.2.0", 24, NULL, 2),
		route4(10000, "0.0.0.0", 0, "192.0.2.1", 2),
		route4(10000, "10.9.0.0", 16, NULL, 3),	/* wan1's, in wan0's table */
	};
	struct table_want want[2] = { { .known = true }, { 0 } };
	struct table_view k = { .rules = rules, .nrules = 2, .routes = routes, .nroutes = 2,
				.links = links, .nlinks = 2 };
	char err[200], *out;
	size_t diffs;

	(void)state;
	addr_parse(AF_INET, "192.0.2.7", &rules[0].src);
	addr_parse(AF_INET, "198.51.100.7", &rules[1].src);
	for (size_t i = 0; i < 3; i++)
		addr_parse(AF_INET, "192.0.2.7", &routes[i].src);
	assert_int_equal(route_arg_parse(AF_INET, "192.0.2.0/24", &want[0].r[0], err, sizeof(err)), 0);
	assert_int_equal(route_arg_parse(AF_INET, "default,via 192.0.2.1", &want[0].r[1], err, sizeof(err)), 0);
	want[0].n = 2;

	/* wan0 as its daemon wants it; wan1's rules select an empty table */
	out = compare(l, 2, want, &k, &diffs);
	assert_string_equal(out, "empty table: inet 198.51.100.7 on wan1, table 10001: its rules are "
				 "installed, the table has no route\n");
	assert_int_equal(diffs, 1);
	free(out);

	/* a route missing, one of another device, one of another source */
	routes[1] = routes[2];
	addr_parse(AF_INET, "192.0.2.0", &routes[0].dst);
	addr_parse(AF_INET, "198.51.100.7", &routes[0].src);
	k.nroutes = 2;
	out = compare(l, 1, want, &k, &diffs);
	assert_non_null(strstr(out, "foreign route: inet 192.0.2.7 on wan0, table 10000 holds "
				    "`192.0.2.0/24 dev wan0 src 198.51.100.7`: another source\n"));
	assert_non_null(strstr(out, "foreign route: inet 192.0.2.7 on wan0, table 10000 holds "
				    "`10.9.0.0/16 dev wan1 src 192.0.2.7`: another device\n"));
	assert_non_null(strstr(out, "missing route: inet 192.0.2.7 on wan0, table 10000: no "
				    "`default,via 192.0.2.1,metric 0`\n"));
	assert_int_equal(diffs, 3);
	free(out);

	/* two leases of one table */
	l[1].table = 10000;
	k.nroutes = 0;
	k.nrules = 0;
	out = compare(l, 2, NULL, &k, &diffs);
	assert_string_equal(out, "shared table: inet 192.0.2.7 on wan0 and 198.51.100.7 on wan1 both "
				 "lease table 10000\n");
	assert_int_equal(diffs, 1);
	free(out);

	/* an unspec lease (a 2017 client's) names the table of its address's family */
	l[1].family = AF_UNSPEC;
	out = compare(l, 2, NULL, &k, &diffs);
	assert_non_null(strstr(out, "shared table: inet 192.0.2.7 on wan0 and 198.51.100.7 on wan1"));
	free(out);
	/* ...but its table's routes are its caller's: none is foreign */
	l[0].family = AF_UNSPEC;
	k.routes = routes;
	k.nroutes = 1;
	addr_parse(AF_INET, "203.0.113.9", &routes[0].src);
	routes[0].table = 10000;
	routes[0].family = AF_INET;
	out = compare(l, 1, NULL, &k, &diffs);
	assert_string_equal(out, "");
	assert_int_equal(diffs, 0);
	free(out);
	l[0].family = AF_INET;
	out = compare(l, 1, NULL, &k, &diffs);
	assert_non_null(strstr(out, "another source"));
	free(out);
	k.nroutes = 0;

	/* another address's `from` rule selects the lease's table */
	rules[1].table = 10000;
	k.nrules = 2;
	k.routes = routes;
	k.nroutes = 1;
	addr_parse(AF_INET, "192.0.2.7", &routes[0].src);
	out = compare(l, 1, NULL, &k, &diffs);
	assert_string_equal(out, "shared table: inet 192.0.2.7 on wan0, table 10000 is also selected by "
				 "`pref 10000 from 198.51.100.7/32 lookup 10000`\n");
	assert_int_equal(diffs, 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_arg_good),
		cmocka_unit_test(test_route_arg_bad),
		cmocka_unit_test(test_route_msg_round_trip),
		cmocka_unit_test(test_given_routes_fill_the_table_rules_untouched),
		cmocka_unit_test(test_deleted_route_and_link_flap_come_back),
		cmocka_unit_test(test_new_routes_replace_old),
		cmocka_unit_test(test_move_keeps_old_until_claimed),
		cmocka_unit_test(test_address_gone_empties_the_table),
		cmocka_unit_test(test_tables_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
