/* Unit tests for rtalloc-track's steering rules (track/steer.c) over the
 * fake kernel: the rule sets of failover and balance, a switch to another
 * uplink (the new rules in before the old go, and none lost when the kernel
 * refuses), their removal, and everyone else's rules left alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "kernel_fake.h"
#include "steer.h"

static const char fwd[1][IFNAMSIZ] = { "lan0" };

/* How many of k's rules are family's, at pref, into table (0: any), ours. */
static size_t count(const struct kernel *k, int family, uint32_t pref, uint32_t table)
{
	const struct krule_set *s = kfake_rules(k);
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].family == family && s->v[i].pref == pref &&
		     (!table || s->v[i].table == table) && s->v[i].proto == RTPROT_RTALLOC;
	return n;
}

static struct kernel *setup_kernel(void)
{
	struct kernel *k;
	/* Not ours: a lease's rule, someone's rule at steer's pref with
	 * another protocol, and rtalloc-track's IPv6 rule. */
	struct krule lease = { .family = AF_INET, .pref = KPREF_IIF, .table = 10000, .iif = "lo",
			       .proto = RTPROT_RTALLOC };
	struct krule other = { .family = AF_INET, .pref = KPREF_TRACK_LOCAL, .table = 77, .iif = "lo",
			       .proto = 4 };
	struct krule v6 = { .family = AF_INET6, .pref = KPREF_TRACK_LOCAL, .table = 10005, .iif = "lo",
			    .proto = RTPROT_RTALLOC };

	assert_int_equal(kernel_fake_open(&k), 0);
	assert_int_equal(kfake_rule(k, &lease, false), 0);
	assert_int_equal(kfake_rule(k, &other, false), 0);
	assert_int_equal(kfake_rule(k, &v6, false), 0);
	return k;
}

static void assert_others_kept(const struct kernel *k)
{
	const struct krule_set *s = kfake_rules(k);
	size_t lease = 0, other = 0, v6 = 0;

	for (size_t i = 0; i < s->n; i++) {
		lease += s->v[i].pref == KPREF_IIF && s->v[i].table == 10000;
		other += s->v[i].proto == 4;
		v6 += s->v[i].family == AF_INET6;
	}
	assert_int_equal(lease, 1);
	assert_int_equal(other, 1);
	assert_int_equal(v6, 1);
}

/* Failover: the chosen uplink's table for local and forwarded traffic,
 * main's more specific routes first; again: nothing to do. */
static void test_failover_set(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;
	unsigned long before;

	(void)state;
	steer_build(&want, AF_INET, 10000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 3);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 254), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 10000), 1);
	assert_others_kept(k);
	before = kfake_changes(k);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(kfake_changes(k), before);
	kernel_close(k);
}

/* The other uplink takes over: its rules in, the old ones out; main's
 * rule stays as it is. */
static void test_switch(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 10000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	steer_build(&want, AF_INET, 10001, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(changed, 4);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 0), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10001), 1);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 10001), 1);
	assert_others_kept(k);
	kernel_close(k);
}

/* The kernel refuses a new rule: the old ones stay (unbound traffic keeps
 * an uplink), and the next pass finishes the switch. */
static void test_switch_refused(void **state)
{
	struct kernel *k = setup_kernel();
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 10000, NULL, 0);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	steer_build(&want, AF_INET, 10001, NULL, 0);
	kfake_fail(k, -ENOMEM, 1);
	assert_int_equal(steer_apply(k, &want, &changed), -ENOMEM);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10000), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 10001), 1);
	kernel_close(k);
}

/* Balance points the rules at rtalloc-track's own table; at exit (or with
 * no uplink) every steering rule of the family goes, copies someone made
 * too, and nobody else's. */
static void test_balance_and_removal(void **state)
{
	struct kernel *k = setup_kernel();
	struct krule copy;
	struct steer_set want;
	unsigned changed;

	(void)state;
	steer_build(&want, AF_INET, 30000, fwd, 1);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 30000), 1);
	copy = want.r[2];
	assert_int_equal(kfake_rule(k, &copy, false), 0);
	steer_build(&want, AF_INET, 0, NULL, 0);
	assert_int_equal(steer_apply(k, &want, &changed), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_MAIN, 0), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_LOCAL, 0), 0);
	assert_int_equal(count(k, AF_INET, KPREF_TRACK_FORWARD, 0), 0);
	assert_others_kept(k);
	kernel_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover_set),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_switch_refused),
		cmocka_unit_test(test_balance_and_removal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
