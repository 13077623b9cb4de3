/* Unit tests for config: defaults, every key's wrong type / range message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static char err[512];

static int parse(const char *s, struct config *c)
{
	config_defaults(c);
	err[0] = '\0';
	return config_parse(c, s, strlen(s), err, sizeof(err));
}

static void bad(const char *s, const char *want)
{
	struct config c;

	assert_int_equal(parse(s, &c), -EINVAL);
	if (!strstr(err, want))
		fail_msg("config %s: error `%s' does not mention `%s'", s, err, want);
	assert_null(strchr(err, '\n'));
}

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse("{}", &c), 0);
	assert_string_equal(c.socket_path, "rtallocd");
	assert_int_equal(c.table_offset, 10000);
	assert_int_equal(c.num_tables, 1000);
	assert_string_equal(c.db_path, "/var/lib/rtalloc/leases.db");
	assert_true(c.af_inet && c.af_inet6 && c.af_unspec);
}

static void test_all_keys(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse("{\"socket_path\":\"ta\",\"table_offset\":1000,\"num_tables\":20,"
			       "\"table_timeout\":30,\"db_path\":\"/tmp/x.db\",\"do_syslog\":1,"
			       "\"log_path\":\"\",\"addr_families\":{\"inet\":true,\"inet6\":false},"
			       "\"allowed_uids\":[1000,1001],\"allowed_gids\":[27]}", &c), 0);
	assert_string_equal(c.socket_path, "ta");
	assert_int_equal(c.table_offset, 1000);
	assert_int_equal(c.num_tables, 20);
	assert_int_equal(c.table_timeout, 30);
	assert_true(c.do_syslog);
	assert_false(c.af_inet6);
	assert_int_equal(c.n_uids, 2);
	assert_int_equal(c.allowed_uids[1], 1001);
	assert_int_equal(c.n_gids, 1);
}

static void test_errors(void **state)
{
	(void)state;
	bad("", "config: not valid JSON");
	bad("{", "config: not valid JSON");
	bad("[]", "config: must be a JSON object");
	bad("{\"socket_path\":5}", "socket_path: must be a string");
	bad("{\"socket_path\":\"\"}", "socket_path: must not be empty");
	bad("{\"socket_path\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    "socket_path: longer than 107 bytes");
	bad("{\"table_offset\":\"1\"}", "table_offset: must be an integer");
	bad("{\"table_offset\":0}", "table_offset: must be 1..4294967295, got 0");
	bad("{\"table_offset\":250,\"num_tables\":10}", "table_offset: tables 250..259 overlap the kernel's tables");
	bad("{\"table_offset\":4294967295,\"num_tables\":2}", "num_tables: table_offset 4294967295");
	bad("{\"num_tables\":0}", "num_tables: must be 1..1000000, got 0");
	bad("{\"num_tables\":99999999999999999999}", "num_tables: must be 1..1000000");
	bad("{\"num_tables\":1.5}", "num_tables: must be an integer");
	bad("{\"table_timeout\":-1}", "table_timeout: must be 1..");
	bad("{\"table_timeout\":null}", "table_timeout: must be an integer");
	bad("{\"db_path\":[]}", "db_path: must be a string");
	bad("{\"do_syslog\":\"yes\"}", "do_syslog: must be a boolean");
	bad("{\"do_syslog\":2}", "do_syslog: must be true, false, 0 or 1");
	bad("{\"log_path\":1}", "log_path: must be a string");
	bad("{\"addr_families\":true}", "addr_families: must be an object");
	bad("{\"addr_families\":{\"ipx\":true}}", "addr_families: unknown family \"ipx\"");
	bad("{\"addr_families\":{\"inet\":\"y\"}}", "addr_families.inet: must be a boolean");
	bad("{\"addr_families\":{\"inet\":false,\"inet6\":false,\"unspec\":false}}", "every family is disabled");
	bad("{\"allowed_uids\":5}", "allowed_uids: must be an array");
	bad("{\"allowed_uids\":[\"root\"]}", "allowed_uids[0]: must be an integer");
	bad("{\"allowed_gids\":[1,-3]}", "allowed_gids[1]: must be 0..4294967294, got -3");
}

/* The original ignores keys it does not know; we warn (one line each, see
 * server_config.sh) and go on, but a known key's bad value stays fatal. */
static void test_unknown(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse("{\"bogus\":1,\"num_tables\":7,\"other\":{\"x\":[1]}}", &c), 0);
	assert_int_equal(c.n_unknown, 2);
	assert_int_equal(c.num_tables, 7);
	bad("{\"bogus\":1,\"num_tables\":0}", "num_tables: must be 1..1000000, got 0");
	assert_int_equal(parse("{\"unspec\":false}", &c), 0);
	assert_false(c.af_unspec);
	assert_true(c.af_inet);
	bad("{\"unspec\":\"no\"}", "unspec: must be a boolean");
	bad("{\"unspec\":false,\"addr_families\":{\"inet\":false,\"inet6\":false}}",
	    "every family is disabled");
	assert_int_equal(parse("{\"table_timeout\":600}", &c), 0);
	assert_int_equal(config_grace(&c), 305);
	assert_int_equal(parse("{\"table_timeout\":10}", &c), 0);
	assert_int_equal(config_grace(&c), 65);
	assert_int_equal(parse("{\"grace_seconds\":7}", &c), 0);
	assert_int_equal(config_grace(&c), 7);
	bad("{\"grace_seconds\":-1}", "grace_seconds: must be 0..");
}

static void test_socket_file(void **state)
{
	struct config c;
	char path[108];

	(void)state;
	assert_int_equal(parse("{}", &c), 0);
	config_socket_file(&c, path, sizeof(path));
	assert_string_equal(path, "/run/rtalloc/rtallocd.sock");
	assert_int_equal(parse("{\"socket_path\":\"ta\"}", &c), 0);
	config_socket_file(&c, path, sizeof(path));
	assert_string_equal(path, "/run/rtalloc/ta.sock");
	assert_int_equal(parse("{\"socket_file\":\"/run/x/s.sock\"}", &c), 0);
	config_socket_file(&c, path, sizeof(path));
	assert_string_equal(path, "/run/x/s.sock");
	assert_int_equal(parse("{\"socket_file\":\"\"}", &c), 0);
	config_socket_file(&c, path, sizeof(path));
	assert_string_equal(path, "");
	/* a name whose default file would not fit: the abstract names only */
	assert_int_equal(parse("{\"socket_path\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", &c), 0);
	config_socket_file(&c, path, sizeof(path));
	assert_string_equal(path, "");
	bad("{\"socket_file\":\"run/x.sock\"}", "socket_file: must be an absolute path");
	bad("{\"socket_file\":7}", "socket_file: must be a string");
	bad("{\"socket_file\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    "socket_file: longer than 107 bytes");
}

static void test_load(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_true(config_load(&c, "/nonexistent/rtallocd.json", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "config: cannot open /nonexistent/rtallocd.json"));
}

static void test_mark_mask(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse("{}", &c), 0);
	assert_int_equal(c.mark_mask, 0xf0000000u);
	assert_int_equal(parse("{\"mark_mask\":\"0x0f000000\"}", &c), 0);
	assert_int_equal(c.mark_mask, 0x0f000000u);
	assert_int_equal(parse("{\"mark_mask\":4026531840}", &c), 0);
	assert_int_equal(c.mark_mask, 0xf0000000u);
	bad("{\"mark_mask\":0}", "mark_mask: must have 1..16 bits set, got 0x0");
	bad("{\"mark_mask\":\"0xffffffff\"}", "mark_mask: must have 1..16 bits set");
	bad("{\"mark_mask\":\"0x1zz\"}", "mark_mask: not a 32-bit number: `0x1zz'");
	bad("{\"mark_mask\":\"0x100000000\"}", "mark_mask: not a 32-bit number");
	bad("{\"mark_mask\":\"-1\"}", "mark_mask: not a 32-bit number");
	bad("{\"mark_mask\":\"\"}", "mark_mask: not a 32-bit number");
	bad("{\"mark_mask\":-1}", "mark_mask: must be 0..");
	bad("{\"mark_mask\":true}", "mark_mask:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_mark_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
