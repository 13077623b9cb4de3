/* What an engine's owner does between event bursts, for the unit tests
 * over the fake kernel: read the events, pass, until a pass is not due
 * (at most 10 rounds of 100 ms).  Include after cmocka.h and engine.h. */
#ifndef RTALLOC_TEST_SETTLE_H
#define RTALLOC_TEST_SETTLE_H

static inline void engine_settle(struct engine *e, uint64_t *now)
{
	for (int i = 0; i < 10; i++) {
		int due = engine_read_events(e);

		assert_true(due >= 0);
		*now += 100;
		assert_int_equal(engine_pass(e, *now), 0);
		if (!due && i)
			break;
	}
}

#endif
