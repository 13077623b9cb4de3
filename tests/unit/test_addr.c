/* Unit tests for addr: addresses, netmasks, masking and interface names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "addr.h"

static const char *canon(int family, const char *s)
{
	static char buf[INET6_ADDRSTRLEN];
	struct inet_addr a;

	if (addr_parse(family, s, &a) < 0)
		return "(refused)";
	return addr_str(&a, buf, sizeof(buf));
}

static void test_addr_parse(void **state)
{
	struct inet_addr a;

	(void)state;
	assert_string_equal(canon(AF_INET, "192.0.2.7"), "192.0.2.7");
	assert_string_equal(canon(AF_INET6, "2001:DB8:0:0::7"), "2001:db8::7");
	assert_string_equal(canon(AF_UNSPEC, "::ffff:192.0.2.1"), "::ffff:192.0.2.1");
	assert_int_equal(addr_parse(AF_UNSPEC, "192.0.2.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(addr_parse(AF_UNSPEC, "fe80::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);

	/* The wrong family, and things inet_aton would take but inet_pton not. */
	assert_int_equal(addr_parse(AF_INET, "2001:db8::7", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET6, "192.0.2.7", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "10.0.0.300", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "10.1", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "0x0a.0.0.1", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, " 10.0.0.1", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "10.0.0.1 ", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, NULL, &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET6, "2001:db8::7%eth0", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET6, "2001:db8:::7", &a), -EINVAL);
	/* Longer than any address: refused before inet_pton sees it. */
	assert_int_equal(addr_parse(AF_INET6, "0000:0000:0000:0000:0000:0000:0000:0000:0000", &a), -EINVAL);
	assert_int_equal(addr_parse(AF_INET, "192.0.2.7", &a), 0);
	assert_int_equal(addr_len(AF_INET), 4);
	assert_int_equal(addr_len(AF_INET6), 16);
}

static int prefix(int family, const char *s)
{
	uint8_t p = 255;

	return netmask_parse(family, s, &p) < 0 ? -1 : p;
}

static void test_netmask(void **state)
{
	(void)state;
	assert_int_equal(prefix(AF_INET, "255.255.255.0"), 24);
	assert_int_equal(prefix(AF_INET, "255.255.255.255"), 32);
	assert_int_equal(prefix(AF_INET, "255.255.255.252"), 30);
	assert_int_equal(prefix(AF_INET, "0.0.0.0"), 0);
	assert_int_equal(prefix(AF_INET, "128.0.0.0"), 1);
	assert_int_equal(prefix(AF_INET, "24"), 24);
	assert_int_equal(prefix(AF_INET, "0"), 0);
	assert_int_equal(prefix(AF_INET, "32"), 32);
	assert_int_equal(prefix(AF_INET6, "64"), 64);
	assert_int_equal(prefix(AF_INET6, "128"), 128);

	/* Holes in the mask, out of range, signs, junk, the wrong family. */
	assert_int_equal(prefix(AF_INET, "255.0.255.0"), -1);
	assert_int_equal(prefix(AF_INET, "0.255.255.255"), -1);
	assert_int_equal(prefix(AF_INET, "255.255.255.1"), -1);
	assert_int_equal(prefix(AF_INET, "33"), -1);
	assert_int_equal(prefix(AF_INET, "-1"), -1);
	assert_int_equal(prefix(AF_INET, "+24"), -1);
	assert_int_equal(prefix(AF_INET, "24 "), -1);
	assert_int_equal(prefix(AF_INET, "24x"), -1);
	assert_int_equal(prefix(AF_INET, "99999999999999999999"), -1);
	assert_int_equal(prefix(AF_INET, ""), -1);
	assert_int_equal(prefix(AF_INET, NULL), -1);
	assert_int_equal(prefix(AF_INET6, "129"), -1);
	assert_int_equal(prefix(AF_INET6, "255.255.255.0"), -1);
	assert_int_equal(prefix(AF_INET6, "ffff:ffff::"), -1);
	assert_int_equal(prefix(AF_UNSPEC, "24"), -1);
}

static const char *masked(int family, const char *s, uint8_t len)
{
	static char buf[INET6_ADDRSTRLEN];
	struct inet_addr a;

	assert_int_equal(addr_parse(family, s, &a), 0);
	addr_mask(&a, len);
	return addr_str(&a, buf, sizeof(buf));
}

static void test_mask(void **state)
{
	(void)state;
	assert_string_equal(masked(AF_INET, "192.0.2.7", 24), "192.0.2.0");
	assert_string_equal(masked(AF_INET, "192.0.2.7", 32), "192.0.2.7");
	assert_string_equal(masked(AF_INET, "192.0.2.7", 0), "0.0.0.0");
	assert_string_equal(masked(AF_INET, "192.0.2.255", 25), "192.0.2.128");
	assert_string_equal(masked(AF_INET, "10.255.255.255", 9), "10.128.0.0");
	assert_string_equal(masked(AF_INET6, "2001:db8:1:2:3:4:5:6", 64), "2001:db8:1:2::");
	assert_string_equal(masked(AF_INET6, "2001:db8:1:2:3:4:5:6", 128), "2001:db8:1:2:3:4:5:6");
	assert_string_equal(masked(AF_INET6, "2001:db8:ffff::1", 36), "2001:db8:f000::");
	assert_string_equal(masked(AF_INET6, "2001:db8::1", 0), "::");
}

static void test_ifname(void **state)
{
	(void)state;
	assert_true(ifname_valid("eth0"));
	assert_true(ifname_valid("a"));
	assert_true(ifname_valid("wwan0.100"));
	assert_true(ifname_valid("abcdefghijklmno"));		/* 15 bytes */
	assert_false(ifname_valid("abcdefghijklmnop"));	/* 16 bytes */
	assert_false(ifname_valid(""));
	assert_false(ifname_valid(NULL));
	assert_false(ifname_valid("."));
	assert_false(ifname_valid(".."));
	assert_false(ifname_valid("eth/0"));
	assert_false(ifname_valid("eth0:1"));
	assert_false(ifname_valid("eth 0"));
	assert_false(ifname_valid("eth\t0"));
	assert_false(ifname_valid("eth\n"));
	assert_false(ifname_valid("eth\x7f"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_netmask),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_ifname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
