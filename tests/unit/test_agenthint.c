/* Unit tests for agenthint: the hint files `rtalloc hint` writes and the
 * agent reads, and the routes a hint gives an uplink's table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "agenthint.h"
#include "hintwatch.h"

static void test_roundtrip(void **state)
{
	struct hint h, back;
	char err[200] = "", text[HINT_FILE_MAX];

	(void)state;
	memset(&h, 0, sizeof(h));
	snprintf(h.ifname, sizeof(h.ifname), "wan1");
	assert_int_equal(hint_add_gateway(&h, "10.101.0.1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_gateway(&h, "10.101.0.1", err, sizeof(err)), 0);	/* once */
	assert_int_equal(hint_add_gateway(&h, "fe80::1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_route(&h, "10.250.0.0/24,via 10.101.0.1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_route(&h, "2001:db8:5::/48", err, sizeof(err)), 0);
	assert_int_equal(hint_add_dns(&h, "2001:db8:201::53", err, sizeof(err)), 0);
	h.primary = true;
	h.out_of_main = HINT_FAM_ALL;
	assert_int_equal(hint_set_fwmark(&h, "0x1000/0xff00", err, sizeof(err)), 0);
	assert_int_equal(hint_add_forward(&h, "lan0", err, sizeof(err)), 0);
	assert_int_equal(hint_add_forward(&h, "lan0", err, sizeof(err)), 0);	/* once */
	assert_int_equal(hint_add_forward(&h, "br-vms", err, sizeof(err)), 0);
	assert_int_equal(hint_add_forward(&h, "a/b", err, sizeof(err)), -EINVAL);
	assert_int_equal(h.ngw, 2);
	assert_int_equal(hint_format(&h, text, sizeof(text)), 0);
	assert_int_equal(hint_parse(&back, "wan1", text, err, sizeof(err)), 0);
	assert_int_equal(back.ngw, 2);
	assert_int_equal(back.nroutes, 2);
	assert_int_equal(back.ndns, 1);
	assert_true(back.primary);
	assert_int_equal(back.out_of_main, HINT_FAM_ALL);
	assert_int_equal(back.families, 0);
	assert_true(back.has_fwmark);
	assert_int_equal(back.fwmark, 0x1000);
	assert_int_equal(back.fwmask, 0xff00);
	assert_int_equal(back.nforward, 2);
	assert_string_equal(back.forward[1], "br-vms");
	assert_int_equal(back.routes[0].dst_len, 24);
	assert_true(back.routes[0].has_gw);
	assert_false(back.routes[1].has_gw);
}

static void test_refusals(void **state)
{
	struct hint h;
	char err[200] = "";

	(void)state;
	memset(&h, 0, sizeof(h));
	/* What tools write for "no gateway" is never one. */
	assert_int_equal(hint_add_gateway(&h, "0.0.0.0", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--gateway: not a unicast address: `0.0.0.0'");
	assert_int_equal(hint_add_gateway(&h, "::", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_add_gateway(&h, "224.0.0.1", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_add_dns(&h, "ff02::1", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_add_route(&h, "10.0.0.1/8", err, sizeof(err)), -EINVAL);
	assert_int_equal(h.ngw + h.ndns + h.nroutes, 0);
	assert_int_equal(hint_parse(&h, "wan0", "gateway 10.0.0.1\ncolour blue\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: unknown item `colour blue'");
	assert_int_equal(hint_parse(&h, "wan0", "fwmark 0x1000/0", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_parse(&h, "wan0", "fwmark 010", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_parse(&h, "a/b", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(hint_parse(&h, "wan0", "gateway 0.0.0.0", err, sizeof(err)), -EINVAL);
}

static void test_routes(void **state)
{
	struct hint h;
	struct uplink u;
	struct kroute_set out = { 0 };
	char err[200] = "";

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(&u, 0, sizeof(u));
	u.key.family = AF_INET;
	u.ifindex = 7;
	assert_int_equal(hint_add_gateway(&h, "10.101.0.1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_gateway(&h, "fe80::1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_route(&h, "10.250.0.0/24,via 10.101.0.1", err, sizeof(err)), 0);
	/* main has a default through the link: only the route main lacks */
	assert_int_equal(hintwatch_routes(&h, NULL, &u, true, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].dst_len, 24);
	/* never-default: the IPv4 gateway's default too, nothing of IPv6 */
	out.n = 0;
	assert_int_equal(hintwatch_routes(&h, NULL, &u, false, &out), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[1].dst_len, 0);
	assert_int_equal(out.v[1].gw.family, AF_INET);
	assert_int_equal(out.v[1].oif, 7);
	/* every IPv4 router, the first preferred (dhclient's new_routers) */
	assert_int_equal(hint_add_gateway(&h, "10.101.0.9", err, sizeof(err)), 0);
	out.n = 0;
	assert_int_equal(hintwatch_routes(&h, NULL, &u, false, &out), 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[1].metric, 0);
	assert_int_equal(out.v[2].dst_len, 0);
	assert_int_equal(out.v[2].metric, 1);
	assert_memory_not_equal(&out.v[1].gw, &out.v[2].gw, sizeof(out.v[1].gw));
	/* IPv6: from the kernel's own 1024, the second gateway 1025 */
	assert_int_equal(hint_add_gateway(&h, "fe80::2", err, sizeof(err)), 0);
	u.key.family = AF_INET6;
	out.n = 0;
	assert_int_equal(hintwatch_routes(&h, NULL, &u, false, &out), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[0].metric, 1024);
	assert_int_equal(out.v[1].metric, 1025);
	assert_int_equal(out.v[1].gw.family, AF_INET6);
	u.key.family = AF_INET;
	/* no hint, no router: nothing */
	out.n = 0;
	assert_int_equal(hintwatch_routes(NULL, NULL, &u, false, &out), 0);
	assert_int_equal(out.n, 0);
	kroute_set_free(&out);
}

/* dhclient -4 and -6 hint one uplink in turns: each replaces its family's
 * part only, and a family's --down leaves the other's. */
static void test_merge(void **state)
{
	struct hint f, v4, v6, back;
	char err[200] = "", text[HINT_FILE_MAX];

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	snprintf(f.ifname, sizeof(f.ifname), "wan1");
	v4.families = HINT_FAM_4;
	v4.out_of_main = HINT_FAM_ALL;
	assert_int_equal(hint_add_gateway(&v4, "10.101.0.1", err, sizeof(err)), 0);
	assert_int_equal(hint_add_dns(&v4, "10.201.0.53", err, sizeof(err)), 0);
	assert_int_equal(hint_add_route(&v4, "10.250.0.0/24,via 10.101.0.1", err, sizeof(err)), 0);
	v6.families = HINT_FAM_6;
	assert_int_equal(hint_add_dns(&v6, "2001:db8:201::53", err, sizeof(err)), 0);
	f.families = HINT_FAM_4;
	assert_int_equal(hint_merge(&f, &v4, false), HINT_FAM_4);
	assert_int_equal(hint_merge(&f, &v6, false), HINT_FAM_ALL);
	assert_int_equal(f.ndns, 2);
	assert_int_equal(f.ngw, 1);
	assert_int_equal(f.out_of_main, HINT_FAM_4);	/* -6 did not ask */
	/* through the file */
	assert_int_equal(hint_format(&f, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "out-of-main 4\nfamily 4\nfamily 6\n"));
	assert_int_equal(hint_parse(&back, "wan1", text, err, sizeof(err)), 0);
	assert_int_equal(back.families, HINT_FAM_ALL);
	assert_int_equal(back.out_of_main, HINT_FAM_4);
	/* a renewal with another server replaces IPv4's only */
	v4.ndns = 0;
	assert_int_equal(hint_add_dns(&v4, "10.201.0.54", err, sizeof(err)), 0);
	assert_int_equal(hint_merge(&back, &v4, false), HINT_FAM_ALL);
	assert_int_equal(back.ndns, 2);
	assert_int_equal(back.dns[0].family, AF_INET6);
	assert_int_equal(back.dns[1].bytes[3], 54);
	/* IPv6 released: IPv4's part stays */
	assert_int_equal(hint_merge(&back, &v6, true), HINT_FAM_4);
	assert_int_equal(back.ndns, 1);
	assert_int_equal(back.dns[0].family, AF_INET);
	assert_int_equal(back.nroutes, 1);
	assert_int_equal(back.out_of_main, HINT_FAM_4);
	/* then IPv4: nothing left */
	assert_int_equal(hint_merge(&back, &v4, true), 0);
	assert_int_equal(back.ngw + back.ndns + back.nroutes + back.out_of_main, 0);
}

/* What is taken out of main: what --out-of-main says, and nothing of a
 * primary uplink, even when another family's hint asked (dhclient -6
 * --out-of-main, then -4 --primary), nor with no hint at all. */
static void test_out_of_main(void **state)
{
	struct hint f, v4, v6;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	snprintf(f.ifname, sizeof(f.ifname), "wan1");
	assert_int_equal(hint_out_of_main(NULL), 0);
	f.out_of_main = HINT_FAM_ALL;
	assert_int_equal(hint_out_of_main(&f), HINT_FAM_ALL);
	f.primary = true;
	assert_int_equal(hint_out_of_main(&f), 0);
	memset(&f, 0, sizeof(f));
	v6.families = HINT_FAM_6;
	v6.out_of_main = HINT_FAM_ALL;
	v4.families = HINT_FAM_4;
	v4.primary = true;
	hint_merge(&f, &v6, false);
	assert_int_equal(hint_out_of_main(&f), HINT_FAM_6);
	hint_merge(&f, &v4, false);
	assert_int_equal(hint_out_of_main(&f), 0);
	/* no longer the primary (the next -4 hint says nothing of it) */
	v4.primary = false;
	hint_merge(&f, &v4, false);
	assert_int_equal(hint_out_of_main(&f), HINT_FAM_6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_out_of_main),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
