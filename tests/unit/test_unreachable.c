/* Unit tests for `rtalloc unreachable`'s command line: what it accepts,
 * and the exact one-line message for every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unreachable.h"

static char err[256];

/* Parses a NULL-terminated argument list (argv[0] "unreachable" added). */
static int parse_v(struct unreachable_req *r, va_list ap)
{
	char *argv[16] = { "unreachable" };
	int argc = 1;
	char *a;

	while ((a = va_arg(ap, char *)) && argc < 15)
		argv[argc++] = a;
	argv[argc] = NULL;
	err[0] = '\0';
	return unreachable_parse(argc, argv, r, err, sizeof(err));
}

static int parse(struct unreachable_req *r, ...)
{
	va_list ap;
	int ret;

	va_start(ap, r);
	ret = parse_v(r, ap);
	va_end(ap);
	return ret;
}

/* Expects a refusal with exactly this message. */
static void bad(const char *want, ...)
{
	struct unreachable_req r;
	va_list ap;
	int ret;

	va_start(ap, want);
	ret = parse_v(&r, ap);
	va_end(ap);
	if (ret != -EINVAL)
		fail_msg("expected a refusal `%s', got %d", want, ret);
	if (strcmp(err, want))
		fail_msg("error `%s', expected `%s'", err, want);
}

static void test_accepted(void **state)
{
	struct unreachable_req r;

	(void)state;
	assert_int_equal(parse(&r, "add", "--fwmark", "0x1000", "--pref", "9001", NULL), 0);
	assert_true(r.add);
	assert_int_equal(r.fwmark, 0x1000);
	assert_int_equal(r.fwmask, 0xffffffffu);	/* a bare mark: all its bits */
	assert_int_equal(r.pref, 9001);

	/* Options before the action, a mask, the range's ends. */
	assert_int_equal(parse(&r, "--pref=1", "--fwmark=16/0xff", "del", NULL), 0);
	assert_false(r.add);
	assert_int_equal(r.fwmark, 16);
	assert_int_equal(r.fwmask, 0xff);
	assert_int_equal(r.pref, 1);
	assert_int_equal(parse(&r, "del", "--fwmark", "0xffffffff", "--pref", "32765", NULL), 0);
	assert_int_equal(r.pref, 32765);

	assert_int_equal(parse(&r, "--help", NULL), 1);
	assert_int_equal(parse(&r, "add", "-h", NULL), 1);
}

static void test_refused(void **state)
{
	(void)state;
	bad("add or del is required", "--fwmark", "1", "--pref", "9001", NULL);
	bad("`insert': want add or del", "insert", "--fwmark", "1", "--pref", "9001", NULL);
	bad("one action only, got `del' after `add'", "add", "del", "--fwmark", "1", "--pref", "9001", NULL);
	bad("--fwmark MARK is required", "add", "--pref", "9001", NULL);
	bad("--pref PREF is required", "add", "--fwmark", "1", NULL);
	/* The mark: common/mark's reasons, and 0 (every unmarked packet). */
	bad("--fwmark: `010': leading zero (octal?); write decimal or 0x-hex (want MARK[/MASK], decimal or 0x-hex)",
	    "add", "--fwmark", "010", "--pref", "9001", NULL);
	bad("--fwmark: `0x1g': not a hex digit after 0x (want MARK[/MASK], decimal or 0x-hex)",
	    "add", "--fwmark", "0x1g", "--pref", "9001", NULL);
	bad("--fwmark: `0': mark 0 matches unmarked packets: they would all be unreachable",
	    "add", "--fwmark", "0", "--pref", "9001", NULL);
	bad("--fwmark: `0/0xff': mark 0 matches unmarked packets: they would all be unreachable",
	    "add", "--fwmark", "0/0xff", "--pref", "9001", NULL);
	/* The pref: before main (32766), never the local rule's 0. */
	bad("--pref: must be 1..32765 (before main), got `0'", "add", "--fwmark", "1", "--pref", "0", NULL);
	bad("--pref: must be 1..32765 (before main), got `32766'", "add", "--fwmark", "1", "--pref", "32766", NULL);
	bad("--pref: must be 1..32765 (before main), got `09001'", "add", "--fwmark", "1", "--pref", "09001", NULL);
	bad("--pref: must be 1..32765 (before main), got `100000'", "add", "--fwmark", "1", "--pref", "100000", NULL);
	bad("--pref: must be 1..32765 (before main), got `9001x'", "add", "--fwmark", "1", "--pref", "9001x", NULL);
	bad("--pref: must be 1..32765 (before main), got `'", "add", "--fwmark", "1", "--pref", "", NULL);
	/* getopt's errors, in the conventions' words. */
	bad("--pref: missing argument", "add", "--fwmark", "1", "--pref", NULL);
	bad("--bogus: unknown option", "add", "--bogus", NULL);
	bad("-Z: unknown option", "add", "-Z", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
