/* Unit tests for status_compare(), the heart of `rtalloc --status`: made-up
 * leases against made-up rules, and the lines an operator reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "addr.h"
#include "status.h"

static struct krule from(int family, const char *addr, uint32_t table)
{
	struct krule r = { .family = (uint8_t)family, .pref = 10000, .table = table, .proto = 122 };

	assert_int_equal(addr_parse(family, addr, &r.src), 0);
	r.src_len = (uint8_t)(addr_len(family) * 8);
	return r;
}

static struct krule to(int family, const char *net, uint8_t len, uint32_t table)
{
	struct krule r = { .family = (uint8_t)family, .pref = 20000, .table = table, .proto = 122 };

	assert_int_equal(addr_parse(family, net, &r.dst), 0);
	r.dst_len = len;
	return r;
}

static struct krule iif_lo(int family, uint32_t table)
{
	struct krule r = { .family = (uint8_t)family, .pref = 91000, .table = table, .proto = 122 };

	strcpy(r.iif, "lo");
	return r;
}

static struct proto_lease lease(int family, const char *addr, const char *ifname, uint32_t table)
{
	struct proto_lease l = { .family = (uint8_t)family, .table = table, .seconds_left = 60 };

	snprintf(l.address, sizeof(l.address), "%s", addr);
	snprintf(l.ifname, sizeof(l.ifname), "%s", ifname);
	return l;
}

/* status_compare() of the arguments; its output in out (static). */
static size_t compare(const struct proto_lease *l, size_t nl, const struct krule *r, size_t nr,
		      char **out)
{
	static char buf[4096];
	FILE *f;
	size_t n;

	memset(buf, 0, sizeof(buf));	/* nothing written: "", not the last output */
	f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	n = status_compare(l, nl, r, nr, f);
	fclose(f);
	*out = buf;
	return n;
}

static void test_consistent(void **state)
{
	struct proto_lease l[] = { lease(AF_INET, "192.0.2.7", "eth0", 10000),
				   lease(AF_INET6, "2001:db8::7", "eth1", 10000) };
	struct krule r[] = { from(AF_INET, "192.0.2.7", 10000), to(AF_INET, "192.0.2.0", 24, 10000),
			    iif_lo(AF_INET, 10000), from(AF_INET6, "2001:db8::7", 10000),
			    to(AF_INET6, "2001:db8::", 64, 10000), iif_lo(AF_INET6, 10000) };
	char *out;

	(void)state;
	assert_int_equal(compare(l, 2, r, 6, &out), 0);
	assert_string_equal(out, "");
	assert_int_equal(compare(NULL, 0, NULL, 0, &out), 0);
}

static void test_lease_without_rules(void **state)
{
	struct proto_lease l[] = { lease(AF_INET, "192.0.2.7", "eth0", 10001) };
	/* the same table in the other family explains nothing */
	struct krule r[] = { iif_lo(AF_INET6, 10001) };
	char *out;

	(void)state;
	assert_int_equal(compare(l, 1, r, 1, &out), 2);
	assert_non_null(strstr(out, "lease without rules: inet 192.0.2.7 on eth0, table 10001\n"));
	assert_non_null(strstr(out, "rule without lease: inet6 "));
}

static void test_missing_rules(void **state)
{
	struct proto_lease l[] = { lease(AF_INET, "192.0.2.7", "eth0", 10000) };
	struct krule r[] = { from(AF_INET, "192.0.2.7", 10000) };
	char *out;

	(void)state;
	assert_int_equal(compare(l, 1, r, 1, &out), 2);
	assert_non_null(strstr(out, "missing rule: inet 192.0.2.7 on eth0, table 10000: no `to NETWORK lookup 10000`\n"));
	assert_non_null(strstr(out, "missing rule: inet 192.0.2.7 on eth0, table 10000: no `iif lo lookup 10000`\n"));
	assert_null(strstr(out, "no `from"));
}

static void test_different_table(void **state)
{
	struct proto_lease l[] = { lease(AF_INET, "192.0.2.7", "eth0", 10000) };
	struct krule r[] = { from(AF_INET, "192.0.2.7", 10005), to(AF_INET, "192.0.2.0", 24, 10000),
			    iif_lo(AF_INET, 10000) };
	char *out;

	(void)state;
	/* the from rule looks elsewhere, and the lease lacks its own */
	assert_int_equal(compare(l, 1, r, 3, &out), 2);
	assert_non_null(strstr(out, "different table: inet 192.0.2.7 on eth0 leases table 10000, but the kernel has `"));
	assert_non_null(strstr(out, "no `from 192.0.2.7 lookup 10000`"));
	assert_null(strstr(out, "rule without lease"));	/* explained above */
}

static void test_rule_without_lease(void **state)
{
	struct krule r[] = { from(AF_INET6, "2001:db8::9", 10009), iif_lo(AF_INET, 10009) };
	char *out;

	(void)state;
	assert_int_equal(compare(NULL, 0, r, 2, &out), 2);
	assert_non_null(strstr(out, "rule without lease: inet6 "));
	assert_non_null(strstr(out, "rule without lease: inet "));
}

static void test_unspec_and_bad(void **state)
{
	/* an unspec lease is checked in its address's family */
	struct proto_lease l[] = { lease(AF_UNSPEC, "2001:db8::5", "eth2", 10002),
				   lease(AF_INET, "not-an-address", "eth3", 10003) };
	struct krule r[] = { from(AF_INET6, "2001:db8::5", 10002), to(AF_INET6, "2001:db8::", 64, 10002),
			    iif_lo(AF_INET6, 10002) };
	char *out;

	(void)state;
	assert_int_equal(compare(l, 2, r, 3, &out), 1);
	assert_string_equal(out, "bad lease: inet not-an-address on eth3: not an address\n");
}

/* rtalloc -a ID without -4/-6 holds an unspec lease and installs no rule:
 * neither an identifier nor an address without rules is a difference. */
static void test_unspec_without_rules(void **state)
{
	struct proto_lease l[] = { lease(AF_UNSPEC, "myuplink", "eth2", 10002),
				   lease(AF_UNSPEC, "10.9.9.9", "eth2", 10004) };
	char *out;

	(void)state;
	assert_int_equal(compare(l, 2, NULL, 0, &out), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consistent),
		cmocka_unit_test(test_lease_without_rules),
		cmocka_unit_test(test_missing_rules),
		cmocka_unit_test(test_different_table),
		cmocka_unit_test(test_rule_without_lease),
		cmocka_unit_test(test_unspec_and_bad),
		cmocka_unit_test(test_unspec_without_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
