/* Unit tests for agentcfg: the agent's configuration, parsed at the edge;
 * which interfaces it manages and with which fwmark. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agentcfg.h"

static int parse(const char *text, struct agentcfg *c, char *err)
{
	agentcfg_defaults(c);
	return agentcfg_parse(c, text, strlen(text), err, 256);
}

static void test_globs(void **state)
{
	(void)state;
	assert_true(agentcfg_glob_valid("wan*"));
	assert_true(agentcfg_glob_valid("enp1s0"));
	assert_true(agentcfg_glob_valid("wwan[0-9]"));
	assert_true(agentcfg_glob_valid("eth?"));
	assert_false(agentcfg_glob_valid(""));
	assert_false(agentcfg_glob_valid("wan["));
	assert_false(agentcfg_glob_valid("wan[]"));
	assert_false(agentcfg_glob_valid("wan]"));
	assert_false(agentcfg_glob_valid("a b"));
	assert_false(agentcfg_glob_valid("a/b"));
	assert_false(agentcfg_glob_valid("a\\*"));
	assert_false(agentcfg_glob_valid("averyverylongname0"));	/* no wildcard: an ifname */
}

static void test_manages(void **state)
{
	struct agentcfg c;
	struct uplink_policy pol;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\", \"enp1s0\"], \"exclude\": [\"wan9\"],"
			       " \"families\": [\"inet6\"], \"fwmark\": { \"wan1\": \"0x100/0xff00\" },"
			       " \"forward_from\": [\"lan0\"], \"socket_path\": \"x\" }", &c, err), 0);
	assert_string_equal(c.socket_path, "x");
	assert_int_equal(c.nforward, 1);
	assert_true(agentcfg_manages(&c, AF_INET6, "wan0", &pol));
	assert_false(pol.has_fwmark);
	assert_true(agentcfg_manages(&c, AF_INET6, "wan1", &pol));
	assert_true(pol.has_fwmark);
	assert_int_equal(pol.fwmark, 0x100);
	assert_int_equal(pol.fwmask, 0xff00);
	assert_true(agentcfg_manages(&c, AF_INET6, "enp1s0", &pol));
	assert_false(agentcfg_manages(&c, AF_INET6, "wan9", &pol));
	assert_false(agentcfg_manages(&c, AF_INET6, "lan0", &pol));
	assert_false(agentcfg_manages(&c, AF_INET, "wan0", &pol));	/* families */
}

static void test_refusals_name_the_key(void **state)
{
	struct agentcfg c;
	char err[256];

	(void)state;
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"x\": 1 }", &c, err), -EINVAL);
	assert_string_equal(err, "x: unknown key");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"socket_path\": 5 }", &c, err), -EINVAL);
	assert_string_equal(err, "socket_path: must be a string, got 5");
	assert_int_equal(parse("{ }", &c, err), -EINVAL);
	assert_non_null(strstr(err, "interfaces: missing"));
	assert_int_equal(parse("[1]", &c, err), -EINVAL);
	assert_string_equal(err, "config: must be a JSON object");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"families\": [] }", &c, err), -EINVAL);
	assert_string_equal(err, "families: empty: no address would be managed");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"metrics_textfile\": \"rtalloc.prom\" }", &c, err),
			 -EINVAL);
	assert_string_equal(err, "metrics_textfile: must be an absolute path, got `rtalloc.prom'");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"metrics_textfile\": \"/var/lib/x/rtalloc.txt\" }",
			       &c, err), -EINVAL);
	assert_non_null(strstr(err, "metrics_textfile: must name a *.prom file"));
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"metrics_textfile\": \"/d/.prom\" }", &c, err),
			 -EINVAL);
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"metrics_textfile\": \"/d/rtalloc.prom\" }", &c, err),
			 0);
	assert_string_equal(c.metrics_textfile, "/d/rtalloc.prom");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_manages),
		cmocka_unit_test(test_refusals_name_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
