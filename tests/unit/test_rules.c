/* Unit tests for rules_stale(), what a per-address rtalloc removes of a
 * run for its address that died (kill -9): that run's `from ADDR` rule and
 * the shared-shape rules of its table (`to NET`, `iif lo`, forwarded
 * interfaces, the fwmark rule), unless another live address's `from` rule
 * still uses that table; never its own table's, nobody else's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cli.h"
#include "rules.h"

static struct cli_opts opts(const char *addr, uint8_t len)
{
	struct cli_opts o;

	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	assert_int_equal(addr_parse(AF_INET, addr, &o.addr), 0);
	o.prefixlen = len;
	o.have_prefix = true;
	o.pref_from = KPREF_FROM;
	o.pref_to = KPREF_TO;
	o.pref_iif = KPREF_IIF;
	o.fwmark_pref = 9000;
	snprintf(o.ifname, sizeof(o.ifname), "eth0");
	return o;
}

/* The rules a run for o's address (at o's prefix) installs into table. */
static size_t run_rules(const struct cli_opts *o, uint32_t table, struct krule *out)
{
	struct ruleset rs;

	rules_build(o, table, &rs);
	memcpy(out, rs.r, rs.n * sizeof(rs.r[0]));
	return rs.n;
}

static bool has(const struct krule *v, size_t n, uint32_t pref, uint32_t table)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pref == pref && v[i].table == table)
			return true;
	return false;
}

/* A crashed run's table 10001; ours is 10002 now: all of 10001 goes, none
 * of 10002. */
static void test_crashed_run(void **state)
{
	struct cli_opts o = opts("192.0.2.7", 24);
	struct krule k[32], del[16];
	size_t n = 0, ndel, first;

	(void)state;
	n += first = run_rules(&o, 10001, k + n);
	n += run_rules(&o, 10002, k + n);
	ndel = rules_stale(&o, 10002, k, n, del, 16);
	assert_int_equal(ndel, 3);
	assert_true(has(del, ndel, KPREF_FROM, 10001));
	assert_true(has(del, ndel, KPREF_TO, 10001));
	assert_true(has(del, ndel, KPREF_IIF, 10001));
	/* The `to` rule's guard (in main, shared by the network's
	 * addresses) is not a table's leftover: rules_clear_stale() lets it
	 * go only when no `to` rule needs it. */
	assert_false(has(del, ndel, KPREF_TO - 1, 254));
	/* Nothing left over: nothing to do. */
	assert_int_equal(rules_stale(&o, 10002, k + first, n - first, del, 16), 0);
	/* -r with no daemon (table 0): every table of the address is stale. */
	assert_int_equal(rules_stale(&o, 0, k + first, n - first, del, 16), 3);
}

/* The server gave the dead run's table to another address meanwhile (its
 * lease had expired): that address's live run shares the table's `to` and
 * `iif lo` rules; only our `from` rule goes. */
static void test_shared_table(void **state)
{
	struct cli_opts o = opts("192.0.2.7", 24), other = opts("192.0.2.8", 24);
	struct krule k[32], del[16];
	size_t n = 0, ndel;

	(void)state;
	n += run_rules(&o, 10001, k + n);
	n += run_rules(&other, 10001, k + n);	/* same shapes: to NET, iif lo */
	ndel = rules_stale(&o, 10002, k, n, del, 16);
	assert_int_equal(ndel, 1);
	assert_int_equal(del[0].pref, KPREF_FROM);
	assert_int_equal(memcmp(del[0].src.bytes, o.addr.bytes, 4), 0);
}

/* The other address is in another network: the `to` rule of ours (its
 * network holds only our address) goes, the `iif lo` rule stays. */
static void test_shared_other_network(void **state)
{
	struct cli_opts o = opts("192.0.2.7", 24), other = opts("198.51.100.8", 24);
	struct krule k[32], del[16];
	size_t n = 0, ndel;

	(void)state;
	n += run_rules(&o, 10001, k + n);
	n += run_rules(&other, 10001, k + n);
	ndel = rules_stale(&o, 10002, k, n, del, 16);
	assert_int_equal(ndel, 2);
	assert_true(has(del, ndel, KPREF_FROM, 10001));
	assert_true(has(del, ndel, KPREF_TO, 10001));
	assert_false(has(del, ndel, KPREF_IIF, 10001));
}

/* The prefix changed since (a /16 then, a /24 now): the old `to` rule
 * holds our address and goes too. */
static void test_prefix_changed(void **state)
{
	struct cli_opts then = opts("192.0.2.7", 16), now = opts("192.0.2.7", 24);
	struct krule k[32], del[16];
	size_t n = 0, ndel;

	(void)state;
	n += run_rules(&then, 10001, k + n);
	ndel = rules_stale(&now, 10002, k, n, del, 16);
	assert_int_equal(ndel, 3);
	assert_true(has(del, ndel, KPREF_TO, 10001));
}

/* Other people's rules, other families' and other prefs': never. */
static void test_not_ours(void **state)
{
	struct cli_opts o = opts("192.0.2.7", 24);
	struct krule k[32], del[16];
	size_t n = 0;

	(void)state;
	n += run_rules(&o, 10001, k + n);
	for (size_t i = 0; i < n; i++)
		k[i].proto = 4;		/* someone else's, same shapes */
	assert_int_equal(rules_stale(&o, 10002, k, n, del, 16), 0);
	k[0].proto = RTPROT_RTALLOC;
	k[0].pref = 10500;		/* a `from` rule at another pref */
	assert_int_equal(rules_stale(&o, 10002, k, n, del, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crashed_run),
		cmocka_unit_test(test_shared_table),
		cmocka_unit_test(test_shared_other_network),
		cmocka_unit_test(test_prefix_changed),
		cmocka_unit_test(test_not_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
