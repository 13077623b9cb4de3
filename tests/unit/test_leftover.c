/* Unit tests for leftover_find(), what a run for address A that died
 * (kill -9) left: that run's `from A` rule and the shared-shape rules of
 * its table (`to NET`, `iif lo`, forwarded interfaces, the fwmark rule),
 * unless another live address's `from` rule still uses that table; never
 * the table A keeps, nobody else's.  A table no other `from` rule uses is
 * A's whole (its routes go too).  test_rules.c's cases, through the
 * engine's module and rule shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "leftover.h"

static const struct engine_prefs prefs = { .from = KPREF_FROM, .to = KPREF_TO, .iif = KPREF_IIF,
					   .fwmark = KPREF_FWMARK, .guard = KPREF_GUARD };

static struct inet_addr ip(const char *s)
{
	struct inet_addr a;

	assert_int_equal(addr_parse(AF_INET, s, &a), 0);
	return a;
}

static struct krule base(uint32_t pref, uint32_t table)
{
	struct krule r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.src.family = r.dst.family = AF_INET;
	r.pref = pref;
	r.table = table;
	r.proto = RTPROT_RTALLOC;
	return r;
}

/* The rules an uplink for addr/len installs into table (engine.h): from,
 * guard, to, iif lo. */
static size_t run_rules(const char *addr, uint8_t len, uint32_t table, struct krule *out)
{
	struct inet_addr a = ip(addr);
	size_t n = 0;

	out[n] = base(KPREF_FROM, table);
	out[n].src = a;
	out[n++].src_len = 32;
	out[n] = base(KPREF_GUARD, KTABLE_MAIN);
	out[n].dst = a;
	addr_mask(&out[n].dst, len);
	out[n].dst_len = len;
	out[n].has_suppress = true;
	out[n++].suppress = len;
	out[n] = base(KPREF_TO, table);
	out[n].dst = a;
	addr_mask(&out[n].dst, len);
	out[n++].dst_len = len;
	out[n] = base(KPREF_IIF, table);
	snprintf(out[n++].iif, IFNAMSIZ, "lo");
	return n;
}

static bool has(const struct leftover *lo, uint32_t pref, uint32_t table)
{
	for (size_t i = 0; i < lo->ndel; i++)
		if (lo->del[i].pref == pref && lo->del[i].table == table)
			return true;
	return false;
}

static bool whole(const struct leftover *lo, uint32_t table)
{
	for (size_t i = 0; i < lo->nwhole; i++)
		if (lo->whole[i] == table)
			return true;
	return false;
}

static void find(const char *a, uint32_t keep, const struct krule *k, size_t n, struct leftover *lo)
{
	struct inet_addr x = ip(a);

	assert_int_equal(leftover_find(&prefs, AF_INET, &x, keep, k, n, lo), 0);
}

/* A crashed run's table 10001; A keeps 10002 now: all of 10001 goes,
 * whole, none of 10002. */
static void test_crashed_run(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0, first;

	(void)state;
	n += first = run_rules("192.0.2.7", 24, 10001, k + n);
	n += run_rules("192.0.2.7", 24, 10002, k + n);
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 3);
	assert_true(has(&lo, KPREF_FROM, 10001));
	assert_true(has(&lo, KPREF_TO, 10001));
	assert_true(has(&lo, KPREF_IIF, 10001));
	/* The guard (in main, shared by the network's addresses) is no
	 * table's leftover: it goes when no `to` rule needs it. */
	assert_false(has(&lo, KPREF_GUARD, KTABLE_MAIN));
	assert_int_equal(lo.nwhole, 1);
	assert_true(whole(&lo, 10001));
	/* Nothing left over: nothing to do. */
	find("192.0.2.7", 10002, k + first, n - first, &lo);
	assert_int_equal(lo.ndel, 0);
	assert_int_equal(lo.nwhole, 0);
	/* -r with no daemon (keep 0): every table of A is a leftover. */
	find("192.0.2.7", 0, k + first, n - first, &lo);
	assert_int_equal(lo.ndel, 3);
	assert_true(whole(&lo, 10002));
}

/* The server gave the dead run's table to another address meanwhile (its
 * lease had expired): that address's live run shares the table's `to` and
 * `iif lo` rules; only A's `from` rule goes, and the table is not A's to
 * empty. */
static void test_shared_table(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0;
	struct inet_addr a = ip("192.0.2.7");

	(void)state;
	n += run_rules("192.0.2.7", 24, 10001, k + n);
	n += run_rules("192.0.2.8", 24, 10001, k + n);	/* same shapes: to NET, iif lo */
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 1);
	assert_int_equal(lo.del[0].pref, KPREF_FROM);
	assert_int_equal(memcmp(lo.del[0].src.bytes, a.bytes, 4), 0);
	assert_int_equal(lo.nwhole, 0);
	assert_false(has(&lo, KPREF_IIF, 10001));
}

/* The other address is in another network: A's `to` rule (its network
 * holds only A) goes, the `iif lo` rule stays, the table too. */
static void test_shared_other_network(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0;

	(void)state;
	n += run_rules("192.0.2.7", 24, 10001, k + n);
	n += run_rules("198.51.100.8", 24, 10001, k + n);
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 2);
	assert_true(has(&lo, KPREF_FROM, 10001));
	assert_true(has(&lo, KPREF_TO, 10001));
	assert_false(has(&lo, KPREF_IIF, 10001));
	assert_int_equal(lo.nwhole, 0);
}

/* The prefix changed since (a /16 then, a /24 now): the old `to` rule
 * holds A and goes too. */
static void test_prefix_changed(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0;

	(void)state;
	n += run_rules("192.0.2.7", 16, 10001, k + n);
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 3);
	assert_true(has(&lo, KPREF_TO, 10001));
	assert_true(whole(&lo, 10001));
}

/* Other people's rules, other families' and other prefs': never. */
static void test_not_ours(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0;

	(void)state;
	n += run_rules("192.0.2.7", 24, 10001, k + n);
	for (size_t i = 0; i < n; i++)
		k[i].proto = 4;		/* someone else's, same shapes */
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel + lo.nwhole, 0);
	k[0].proto = RTPROT_RTALLOC;
	k[0].pref = 10500;		/* a `from` rule at another pref */
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel + lo.nwhole, 0);
	k[0].pref = KPREF_FROM;
	k[0].family = AF_INET6;		/* another family's */
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel + lo.nwhole, 0);
}

/* The old run's forwarded interface and fwmark rules are its table's
 * shared shapes: they go with a table that is A's whole, and stay while
 * another address's `from` rule uses the table. */
static void test_forward_and_fwmark(void **state)
{
	struct krule k[32];
	struct leftover lo;
	size_t n = 0;

	(void)state;
	n += run_rules("192.0.2.7", 24, 10001, k + n);
	k[n] = base(KPREF_IIF, 10001);
	snprintf(k[n++].iif, IFNAMSIZ, "lan0");
	k[n] = base(KPREF_FWMARK, 10001);
	k[n].has_fwmark = true;
	k[n].fwmark = 0x100;
	k[n++].fwmask = 0xff00;
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 5);
	assert_true(has(&lo, KPREF_FWMARK, 10001));
	assert_true(whole(&lo, 10001));
	n += run_rules("192.0.2.8", 24, 10001, k + n);
	find("192.0.2.7", 10002, k, n, &lo);
	assert_int_equal(lo.ndel, 1);
	assert_false(has(&lo, KPREF_FWMARK, 10001));
	assert_int_equal(lo.nwhole, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crashed_run),
		cmocka_unit_test(test_shared_table),
		cmocka_unit_test(test_shared_other_network),
		cmocka_unit_test(test_prefix_changed),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_forward_and_fwmark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
