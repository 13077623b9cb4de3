/* Unit tests for mark.c: the strict mark and MARK/MASK parsers.
 * mark.c is not part of any library the unit tests link (the shim and
 * packetmark compile it themselves), so it is compiled in here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mark.c"

static void good(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeef;
	const char *why = NULL;

	if (mark_parse(s, &v, &why) != 0)
		fail_msg("mark_parse(\"%s\") refused: %s", s, why);
	assert_int_equal(v, want);
}

static void bad(const char *s, const char *want_why)
{
	uint32_t v = 0x12345678;
	const char *why = NULL;

	if (mark_parse(s, &v, &why) != -EINVAL)
		fail_msg("mark_parse(\"%s\") accepted it as %#x", s, v);
	assert_non_null(why);
	if (want_why)
		assert_string_equal(why, want_why);
	assert_int_equal(v, 0x12345678);	/* untouched on error */
}

static void test_valid(void **state)
{
	(void)state;
	good("0", 0);
	good("1", 1);
	good("4096", 4096);
	good("4294967295", UINT32_MAX);
	good("0x0", 0);
	good("0x1000", 0x1000);
	good("0X1f", 0x1f);
	good("0xffffffff", UINT32_MAX);
	good("0xFFFFFFFF", UINT32_MAX);
	good("0x00000000ffffffff", UINT32_MAX);	/* leading zeros add nothing */
}

static void test_invalid(void **state)
{
	(void)state;
	bad("", "empty");
	bad("1abc", "not a decimal or 0x-hex number");
	bad("-1", "not a decimal or 0x-hex number");
	bad("+1", "not a decimal or 0x-hex number");
	bad(" 1", "not a decimal or 0x-hex number");
	bad("1 ", "not a decimal or 0x-hex number");
	bad("1\n", "not a decimal or 0x-hex number");
	bad("\t", "not a decimal or 0x-hex number");
	bad("4294967296", "larger than 4294967295");
	bad("99999999999999999999999", "larger than 4294967295");
	bad("0x100000000", "larger than 0xffffffff");
	bad("0x", "no hex digits after 0x");
	bad("0xg", "not a hex digit after 0x");
	bad("0x-1", "not a hex digit after 0x");
	bad("010", "leading zero (octal?); write decimal or 0x-hex");
	bad("00", "leading zero (octal?); write decimal or 0x-hex");
	bad("1.5", NULL);
	bad("1e3", NULL);
	bad("x10", NULL);
	bad("0b1", NULL);
	bad("0x1/0xf", NULL);	/* a mask is not a mark */
}

static void test_null(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(mark_parse(NULL, &v, NULL), -EINVAL);
	assert_int_equal(mark_parse("1x", &v, NULL), -EINVAL);	/* why may be NULL */
	assert_int_equal(mark_mask_parse(NULL, &v, &v, NULL), -EINVAL);
}

static void mask_good(const char *s, uint32_t want_mark, uint32_t want_mask)
{
	uint32_t m = 1, k = 1;
	const char *why = NULL;

	if (mark_mask_parse(s, &m, &k, &why) != 0)
		fail_msg("mark_mask_parse(\"%s\") refused: %s", s, why);
	assert_int_equal(m, want_mark);
	assert_int_equal(k, want_mask);
}

static void mask_bad(const char *s, const char *want_why)
{
	uint32_t m = 7, k = 7;
	const char *why = NULL;

	if (mark_mask_parse(s, &m, &k, &why) != -EINVAL)
		fail_msg("mark_mask_parse(\"%s\") accepted it as %#x/%#x", s, m, k);
	assert_non_null(why);
	if (want_why)
		assert_string_equal(why, want_why);
	assert_int_equal(m, 7);
	assert_int_equal(k, 7);
}

static void test_mask(void **state)
{
	(void)state;
	mask_good("0x1000", 0x1000, UINT32_MAX);
	mask_good("0x1000/0xf000", 0x1000, 0xf000);
	mask_good("1/1", 1, 1);
	mask_good("0/0x1", 0, 1);
	mask_good("4096/61440", 0x1000, 0xf000);
	mask_bad("", "empty");
	mask_bad("/0xff", "empty");
	mask_bad("0x10/", "mask after '/' is not a 32-bit decimal or 0x-hex number");
	mask_bad("0x10/0xfg", "mask after '/' is not a 32-bit decimal or 0x-hex number");
	mask_bad("0x10/0x100000000", "mask after '/' is not a 32-bit decimal or 0x-hex number");
	mask_bad("0x10/0xf0/0xf", "mask after '/' is not a 32-bit decimal or 0x-hex number");
	mask_bad("0x10/0", "mask 0 would match every packet");
	mask_bad("0x11/0xf0", "mark has bits outside the mask");
	mask_bad("1abc/0xff", "not a decimal or 0x-hex number");
	mask_bad("-1/0xff", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
