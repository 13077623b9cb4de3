/* Unit tests for pool (bitmaps; the ledger's are in test_ledger.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "pool.h"

static void test_first_fit(void **state)
{
	struct pool p;

	(void)state;
	assert_int_equal(pool_init(&p, 10000, 130), 0);
	assert_int_equal(pool_first_free(&p, AF_INET), 10000);
	assert_int_equal(pool_take(&p, AF_INET, 10000), 0);
	assert_int_equal(pool_take(&p, AF_INET, 10000), -EBUSY);
	assert_int_equal(pool_take(&p, AF_INET, 9999), -ERANGE);
	assert_int_equal(pool_take(&p, AF_INET, 10130), -ERANGE);
	assert_int_equal(pool_first_free(&p, AF_INET), 10001);
	/* inet6 is a separate FIB: the same table is still free there */
	assert_int_equal(pool_first_free(&p, AF_INET6), 10000);
	pool_free(&p);
}

/* Skipping the tables a mask sets, across words and in both families. */
static void test_next_free_except(void **state)
{
	uint64_t except[3] = { ~UINT64_C(0), UINT64_C(1) << 1, 0 };
	struct pool p;

	(void)state;
	assert_int_equal(pool_init(&p, 10000, 130), 0);
	assert_int_equal(pool_next_free_except(&p, AF_INET, 10000, NULL), 10000);
	assert_int_equal(pool_next_free_except(&p, AF_INET, 0, except), 10064);
	assert_int_equal(pool_take(&p, AF_INET, 10064), 0);
	/* 10065 masked, 10066 the next */
	assert_int_equal(pool_next_free_except(&p, AF_INET, 10000, except), 10066);
	assert_int_equal(pool_next_free_except(&p, AF_INET6, 10000, except), 10064);
	assert_int_equal(pool_next_free_except(&p, AF_UNSPEC, 10000, except), 10066);
	assert_int_equal(pool_next_free_except(&p, AF_INET, 10129, except), 10129);
	except[2] = ~UINT64_C(0);
	assert_int_equal(pool_next_free_except(&p, AF_INET, 10128, except), 0);
	assert_int_equal(pool_next_free_except(&p, AF_INET, 10130, NULL), 0);
	/* pool_next_free() is the same without a mask */
	assert_int_equal(pool_next_free(&p, AF_INET, 10064), 10065);
	assert_int_equal(pool_next_free(&p, AF_INET, 0), 10000);
	pool_free(&p);
}

/* First fit against a plain model, over random takes and puts in every
 * family: the low-word hints must never skip a free table. */
static void test_first_fit_model(void **state)
{
	enum { N = 700 };
	static const int fams[] = { AF_INET, AF_INET6, AF_UNSPEC };
	bool used[2][N] = { { false } };
	struct pool p;
	uint32_t seed = 12345;

	(void)state;
	assert_int_equal(pool_init(&p, 1, N), 0);
	for (int step = 0; step < 20000; step++) {
		int fam = fams[((seed = seed * 1103515245 + 12345) >> 16) % 3];
		uint32_t t = (seed >> 8) % N, want = 0;
		bool in4 = fam != AF_INET6, in6 = fam != AF_INET;

		for (uint32_t i = 0; i < N && !want; i++)
			if ((!in4 || !used[0][i]) && (!in6 || !used[1][i]))
				want = i + 1;
		assert_int_equal(pool_first_free(&p, fam), want);
		if (step % 3 == 2) {		/* a put of a random table */
			if ((!in4 || used[0][t]) && (!in6 || used[1][t])) {
				pool_put(&p, fam, t + 1);
				if (in4)
					used[0][t] = false;
				if (in6)
					used[1][t] = false;
			}
		} else if (want) {		/* a first-fit take */
			assert_int_equal(pool_take(&p, fam, want), 0);
			if (in4)
				used[0][want - 1] = true;
			if (in6)
				used[1][want - 1] = true;
		}
	}
	pool_free(&p);
}

static void test_full_and_release(void **state)
{
	struct pool p;

	(void)state;
	assert_int_equal(pool_init(&p, 500, 130), 0);	/* crosses word edges */
	for (uint32_t i = 0; i < 130; i++) {
		uint32_t t = pool_first_free(&p, AF_INET6);

		assert_int_equal(t, 500 + i);
		assert_int_equal(pool_take(&p, AF_INET6, t), 0);
	}
	assert_int_equal(pool_first_free(&p, AF_INET6), 0);
	assert_int_equal(pool_used(&p, AF_INET6), 130);
	pool_put(&p, AF_INET6, 570);
	assert_int_equal(pool_first_free(&p, AF_INET6), 570);
	assert_int_equal(pool_used(&p, AF_INET), 0);
	pool_free(&p);
	assert_int_equal(pool_init(&p, 0, 10), -EINVAL);
	assert_int_equal(pool_init(&p, 1, 0), -EINVAL);
}

static void test_unspec_spans_both(void **state)
{
	struct pool p;

	(void)state;
	assert_int_equal(pool_init(&p, 100, 4), 0);
	assert_int_equal(pool_take(&p, AF_INET, 100), 0);
	assert_int_equal(pool_take(&p, AF_INET6, 101), 0);
	/* free for unspec = free in both */
	assert_int_equal(pool_first_free(&p, AF_UNSPEC), 102);
	assert_int_equal(pool_take(&p, AF_UNSPEC, 100), -EBUSY);
	assert_int_equal(pool_take(&p, AF_UNSPEC, 102), 0);
	assert_false(pool_is_free(&p, AF_INET, 102));
	assert_false(pool_is_free(&p, AF_INET6, 102));
	pool_put(&p, AF_UNSPEC, 102);
	assert_true(pool_is_free(&p, AF_INET, 102));
	assert_true(pool_is_free(&p, AF_INET6, 102));
	pool_free(&p);
}

/* Mark pools: index i <-> the mark whose bits under the mask are i's. */
static void test_marks(void **state)
{
	(void)state;
	assert_int_equal(pool_mark_count(0xf0000000u), 15);
	assert_int_equal(pool_mark_count(0x1u), 1);
	assert_int_equal(pool_mark_count(0xffff0000u), 65535);
	assert_int_equal(pool_mark_value(0xf0000000u, 1), 0x10000000u);
	assert_int_equal(pool_mark_value(0xf0000000u, 15), 0xf0000000u);
	assert_int_equal(pool_mark_index(0xf0000000u, 0x30000000u), 3);
	/* a mask of scattered bits: index bits fill them low to high */
	assert_int_equal(pool_mark_value(0x00c0001eu, 0x3f), 0x00c0001eu);
	assert_int_equal(pool_mark_value(0x00c0001eu, 0x10), 0x00400000u);
	assert_int_equal(pool_mark_index(0x00c0001eu, 0x00400002u), 0x11);
	/* outside the mask, or none: no index */
	assert_int_equal(pool_mark_index(0xf0000000u, 0x10000001u), 0);
	assert_int_equal(pool_mark_index(0xf0000000u, 0), 0);
	for (uint32_t i = 1; i <= pool_mark_count(0x0f0f0000u); i++)
		assert_int_equal(pool_mark_index(0x0f0f0000u, pool_mark_value(0x0f0f0000u, i)), i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_fit),
		cmocka_unit_test(test_next_free_except),
		cmocka_unit_test(test_first_fit_model),
		cmocka_unit_test(test_full_and_release),
		cmocka_unit_test(test_unspec_spans_both),
		cmocka_unit_test(test_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
