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

/* exec_gids, bindings and mptcp (issue 23): typed, one line per refusal. */
static void test_uplinks_by_name(void **state)
{
	struct agentcfg c;
	char err[256];

	(void)state;
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"exec_gids\": [4242, 100],"
			       " \"mptcp\": {\"wan*\": \"subflow\", \"lte0\": \"backup\"},"
			       " \"bindings\": [{\"uplink\": \"lte0\", \"cgroup\": \"system.slice/b.service\","
			       " \"policy\": \"strict\"}, {\"uplink\": \"wan2\", \"from\": \"172.17.0.0/16\"},"
			       " {\"uplink\": \"wan2\", \"iif\": \"docker0\"}] }", &c, err), 0);
	assert_int_equal(c.nexec_gids, 2);
	assert_int_equal(c.exec_gids[0], 4242);
	assert_int_equal(mptcp_cfg_mode(&c.mptcp, "wan3"), MPTCP_SUBFLOW);
	assert_int_equal(mptcp_cfg_mode(&c.mptcp, "lte0"), MPTCP_BACKUP);
	assert_int_equal(mptcp_cfg_mode(&c.mptcp, "eth0"), MPTCP_OFF);
	assert_int_equal(c.nbindings, 3);
	assert_int_equal(c.bindings[0].kind, BINDING_CGROUP);
	assert_true(c.bindings[0].strict);
	assert_string_equal(c.bindings[0].cgroup, "system.slice/b.service");
	assert_int_equal(c.bindings[1].kind, BINDING_FROM);
	assert_int_equal(c.bindings[1].from_len, 16);
	assert_false(c.bindings[1].strict);
	assert_int_equal(c.bindings[2].kind, BINDING_IIF);
	assert_string_equal(c.bindings[2].iif, "docker0");

	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"mptcp\": {\"wan*\": \"both\"} }", &c, err), -EINVAL);
	assert_string_equal(err, "mptcp.wan*: must be \"subflow\", \"fullmesh\", \"backup\" or \"off\", got `both'");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"exec_gids\": [-1] }", &c, err), -EINVAL);
	assert_non_null(strstr(err, "exec_gids[0]"));
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"bindings\": [{\"uplink\": \"wan2\","
			       " \"from\": \"172.17.0.1/16\"}] }", &c, err), -EINVAL);
	assert_string_equal(err, "bindings[0].from: not an address prefix like 172.17.0.0/16: `172.17.0.1/16'");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"bindings\": [{\"uplink\": \"wan2\","
			       " \"cgroup\": \"../x\"}] }", &c, err), -EINVAL);
	assert_non_null(strstr(err, "bindings[0].cgroup: not a cgroup path"));
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"bindings\": [{\"uplink\": \"wan2\","
			       " \"from\": \"10.0.0.0/8\", \"iif\": \"lan0\"}] }", &c, err), -EINVAL);
	assert_string_equal(err, "bindings[0]: needs exactly one of \"cgroup\", \"from\", \"iif\"");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"bindings\": [{\"iif\": \"lan0\"}] }", &c, err),
			 -EINVAL);
	assert_string_equal(err, "bindings[0].uplink: missing: name the uplink to bind to");
	assert_int_equal(parse("{ \"interfaces\": [\"wan*\"], \"bindings\": [{\"uplink\": \"wan2\","
			       " \"iif\": \"lan0\", \"policy\": \"hard\"}] }", &c, err), -EINVAL);
	assert_string_equal(err, "bindings[0].policy: must be \"default\" or \"strict\", got `hard'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_manages),
		cmocka_unit_test(test_refusals_name_the_key),
		cmocka_unit_test(test_uplinks_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
