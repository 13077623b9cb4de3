/* Unit tests for agentstatus_compare(), the agent's part of `rtalloc
 * --status`: over the fake kernel, a route of main's that the agent's
 * uplink's table lacks is named, and only the agent's leases are looked at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "agent.h"
#include "agentstatus.h"
#include "kernel_fake.h"

static bool manage_none(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	(void)e;
	(void)family;
	(void)ifname;
	(void)pol;
	return false;
}

static const struct engine_ops ops = { .manage = manage_none };

static struct kroute route4(uint32_t table, const char *dst, uint8_t len, const char *gw)
{
	struct kroute r = { .family = AF_INET, .table = table, .dst_len = len, .oif = 2,
			    .type = RTN_UNICAST, .proto = table == KTABLE_MAIN ? RTPROT_BOOT : RTPROT_RTALLOC,
			    .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK };

	addr_parse(AF_INET, dst, &r.dst);
	if (gw)
		addr_parse(AF_INET, gw, &r.gw);
	if (table != KTABLE_MAIN)
		addr_parse(AF_INET, "192.0.2.7", &r.src);
	return r;
}

/* Runs the comparison; its output in out (a static buffer). */
static size_t compare(const struct proto_lease *l, size_t n, char *out, size_t outlen)
{
	struct kernel *k;
	struct engine e;
	struct kaddr a = { .family = AF_INET, .ifindex = 2, .prefixlen = 24 };
	struct kroute net = route4(KTABLE_MAIN, "192.0.2.0", 24, NULL);
	struct kroute def = route4(KTABLE_MAIN, "0.0.0.0", 0, "192.0.2.1");
	struct kroute copy = route4(10000, "192.0.2.0", 24, NULL);
	FILE *f = fmemopen(out, outlen, "w");
	size_t missing;

	assert_non_null(f);
	addr_parse(AF_INET, "192.0.2.7", &a.addr);
	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_link(k, 2, "wan0", true), 0);
	assert_int_equal(kfake_addr(k, &a, false), 0);
	assert_int_equal(kfake_route(k, &net, false), 0);
	assert_int_equal(kfake_route(k, &def, false), 0);
	assert_int_equal(kfake_route(k, &copy, false), 0);	/* the default was not copied */
	engine_init(&e, k, &ops, NULL, AGENT_TAG);
	assert_int_equal(engine_load(&e), 0);
	missing = agentstatus_compare(&e, l, n, f);
	fclose(f);
	engine_free(&e);
	kernel_close(k);
	return missing;
}

static void test_missing_default_is_named(void **state)
{
	struct proto_lease l = { .family = AF_INET, .address = "192.0.2.7", .ifname = "wan0",
				 .tag = AGENT_TAG, .table = 10000, .seconds_left = 60 };
	static char out[1024];

	(void)state;
	assert_int_equal(compare(&l, 1, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "agent uplink: inet 192.0.2.7 on wan0, table 10000: 2 routes to copy"));
	assert_non_null(strstr(out, "missing route: inet 192.0.2.7 on wan0, table 10000: no `default via 192.0.2.1"));
	assert_null(strstr(out, "no `192.0.2.0/24"));
}

static void test_hook_leases_are_not_looked_at(void **state)
{
	struct proto_lease l = { .family = AF_INET, .address = "192.0.2.7", .ifname = "wan0",
				 .tag = "", .table = 10000, .seconds_left = 60 };
	static char out[1024];

	(void)state;
	assert_int_equal(compare(&l, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_default_is_named),
		cmocka_unit_test(test_hook_leases_are_not_looked_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
