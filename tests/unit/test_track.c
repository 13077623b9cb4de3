/* Unit tests for rtalloc-track's pure parts: hysteresis (policy), the choice
 * of uplinks, its configuration parser and the rule set it wants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "health.h"
#include "policy.h"
#include "steer.h"
#include "trackconf.h"

static bool rnd(struct health_state *h, bool good)
{
	return health_round(h, good ? 1 : 0, 1, 1, 3, 3, 1000, 0);
}

static void test_hysteresis(void **state)
{
	struct health_state h;

	(void)state;
	health_reset(&h, 0);
	assert_int_equal(h.state, HEALTH_UNKNOWN);
	assert_false(rnd(&h, true));
	assert_false(rnd(&h, true));
	assert_true(rnd(&h, true));
	assert_int_equal(h.state, HEALTH_ONLINE);
	/* Two bad rounds, a good one: the count starts over. */
	assert_false(rnd(&h, false));
	assert_false(rnd(&h, false));
	assert_false(rnd(&h, true));
	assert_false(rnd(&h, false));
	assert_false(rnd(&h, false));
	assert_true(rnd(&h, false));
	assert_int_equal(h.state, HEALTH_OFFLINE);
	assert_false(rnd(&h, true));
	assert_false(rnd(&h, false));
	assert_false(rnd(&h, true));
	assert_false(rnd(&h, true));
	assert_true(rnd(&h, true));
	assert_int_equal(h.state, HEALTH_ONLINE);
}

static void test_k_of_n(void **state)
{
	struct health_state h;

	(void)state;
	health_reset(&h, 0);
	/* k 2 of 3: one answer is a bad round. */
	for (int i = 0; i < 3; i++)
		health_round(&h, 1, 3, 2, 3, 3, 500, 0);
	assert_int_equal(h.state, HEALTH_OFFLINE);
	for (int i = 0; i < 3; i++)
		health_round(&h, 2, 3, 2, 3, 3, 500, 0);
	assert_int_equal(h.state, HEALTH_ONLINE);
}

static void test_loss_rtt(void **state)
{
	struct health_state h;

	(void)state;
	health_reset(&h, 0);
	health_round(&h, 2, 2, 1, 3, 3, 1000, 0);
	health_round(&h, 1, 2, 1, 3, 3, 3000, 0);
	health_round(&h, 0, 2, 1, 3, 3, 0, 0);
	health_round(&h, 2, 2, 1, 3, 3, 2000, 0);
	assert_true(health_loss(&h) > 37.4 && health_loss(&h) < 37.6);
	assert_int_equal(health_rtt_median(&h), 2000);
}

/* Quality: 30% loss over the window makes an online uplink degraded, 5%
 * does not; it clears under clear_loss; RTT likewise; a portal's answer
 * shows at once and goes after `up` plain rounds; a proven round (metered:
 * no probe) is good and adds no sample. */
static void test_quality(void **state)
{
	struct health_quality q = { .max_loss = 20, .clear_loss = 10, .max_rtt_us = 500000,
				    .clear_rtt_us = 300000, .window_ms = 10000 };
	struct health_state h;
	struct health_figures f;
	uint64_t now = 0;
	bool deg = false;

	(void)state;
	health_reset(&h, 0);
	for (int i = 0; i < 50; i++, now += 200)	/* 5%: every 20th lost */
		health_round_q(&h, i % 20 ? 1 : 0, 1, 1, 3, 3, 1000, false, &q, now);
	assert_int_equal(h.state, HEALTH_ONLINE);
	for (int i = 0; i < 50 && !deg; i++, now += 200) {	/* 30% */
		health_round_q(&h, i % 10 < 3 ? 0 : 1, 1, 1, 3, 3, 1000, false, &q, now);
		deg = h.state == HEALTH_DEGRADED;
	}
	assert_true(deg);
	health_figures(&h, &q, now, &f);
	assert_true(f.loss > 20);
	for (int i = 0; i < 60; i++, now += 200)
		health_round_q(&h, 1, 1, 1, 3, 3, 1000, false, &q, now);
	assert_int_equal(h.state, HEALTH_ONLINE);
	/* RTT: a window of 600 ms medians degrades it, 200 ms clears it; jitter 0 when steady. */
	for (int i = 0; i < 30; i++, now += 200)
		health_round_q(&h, 1, 1, 1, 3, 3, 600000, false, &q, now);
	assert_int_equal(h.state, HEALTH_DEGRADED);
	for (int i = 0; i < 60; i++, now += 200)
		health_round_q(&h, 1, 1, 1, 3, 3, 200000, false, &q, now);
	assert_int_equal(h.state, HEALTH_ONLINE);
	health_figures(&h, &q, now, &f);
	assert_int_equal(f.rtt_us, 200000);
	assert_int_equal(f.jitter_us, 0);
	/* Portal at once, gone after 3 plain rounds. */
	health_round_q(&h, 1, 1, 1, 3, 3, 1000, true, &q, now += 200);
	assert_int_equal(h.state, HEALTH_PORTAL);
	for (int i = 0; i < 3; i++)
		health_round_q(&h, 1, 1, 1, 3, 3, 1000, false, &q, now += 200);
	assert_int_equal(h.state, HEALTH_ONLINE);
	/* Proven rounds keep it online and add no probes to the window. */
	health_figures(&h, &q, now, &f);
	for (int i = 0; i < 100; i++)
		health_round_q(&h, 1, 0, 1, 3, 3, 0, false, &q, now += 200);
	assert_int_equal(h.state, HEALTH_ONLINE);
	health_figures(&h, &q, now, &f);
	assert_int_equal(f.sent, 0);
	/* Without thresholds nothing is ever degraded. */
	health_reset(&h, 0);
	for (int i = 0; i < 50; i++)
		health_round_q(&h, i % 2, 2, 1, 3, 3, 900000, false, NULL, (uint64_t)i * 200);
	assert_true(h.state != HEALTH_DEGRADED);
	assert_int_equal(policy_auto_weight(0, 1000, 1000), 10);
	assert_int_equal(policy_auto_weight(50, 1000, 1000), 5);
	assert_int_equal(policy_auto_weight(0, 4000, 1000), 3);
	assert_int_equal(policy_auto_weight(100, 4000, 1000), 1);
}

static void test_pick(void **state)
{
	struct policy_uplink u[3] = {
		{ .usable = true, .state = HEALTH_ONLINE, .priority = 2, .weight = 1 },
		{ .usable = true, .state = HEALTH_ONLINE, .priority = 1, .weight = 1 },
		{ .usable = true, .state = HEALTH_ONLINE, .priority = 3, .weight = 1 },
	};
	bool chosen[3];

	(void)state;
	assert_int_equal(policy_pick(u, 3), 1);
	u[1].state = HEALTH_OFFLINE;
	assert_int_equal(policy_pick(u, 3), 0);
	/* All offline: the highest priority, not none. */
	u[0].state = u[2].state = HEALTH_OFFLINE;
	assert_int_equal(policy_pick(u, 3), 1);
	/* Unknown beats offline. */
	u[2].state = HEALTH_UNKNOWN;
	assert_int_equal(policy_pick(u, 3), 2);
	u[2].usable = false;
	assert_int_equal(policy_pick(u, 3), 1);
	u[0].usable = u[1].usable = false;
	assert_int_equal(policy_pick(u, 3), -1);

	u[0].usable = u[1].usable = u[2].usable = true;
	u[0].state = u[2].state = HEALTH_ONLINE;
	u[1].state = HEALTH_OFFLINE;
	assert_int_equal(policy_balance(u, 3, chosen), 2);
	assert_true(chosen[0] && !chosen[1] && chosen[2]);
	u[0].state = u[2].state = HEALTH_OFFLINE;
	assert_int_equal(policy_balance(u, 3, chosen), 1);
	assert_true(!chosen[0] && chosen[1] && !chosen[2]);

	/* online > unknown > degraded > offline; a portal never. */
	u[0].state = HEALTH_DEGRADED;
	u[1].state = HEALTH_OFFLINE;
	u[2].state = HEALTH_PORTAL;
	assert_int_equal(policy_pick(u, 3), 0);
	u[1].state = HEALTH_ONLINE;
	assert_int_equal(policy_pick(u, 3), 1);
	u[1].state = HEALTH_DEGRADED;
	u[0].state = HEALTH_PORTAL;
	assert_int_equal(policy_pick(u, 3), 1);
	u[1].state = HEALTH_PORTAL;
	assert_int_equal(policy_pick(u, 3), -1);
	u[0].state = u[1].state = HEALTH_DEGRADED;
	u[2].state = HEALTH_OFFLINE;
	assert_int_equal(policy_balance(u, 3, chosen), 2);
	assert_true(chosen[0] && chosen[1] && !chosen[2]);
}

static int parse(struct track_conf *c, const char *text, char *err, size_t len)
{
	trackconf_defaults(c);
	return trackconf_parse(c, text, strlen(text), err, len);
}

static void test_conf(void **state)
{
	static struct track_conf c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, "{\"targets\":[\"192.0.2.1\"]}", err, sizeof(err)), 0);
	assert_int_equal(c.interval_ms, 5000);
	assert_int_equal(c.timeout_ms, 2000);
	assert_int_equal(c.down, 3);
	assert_int_equal(c.up, 3);
	assert_int_equal(c.mode, TRACK_FAILOVER);
	assert_int_equal(parse(&c, "{\"interval\":0.5,\"method\":\"tcp\",\"targets\":[\"192.0.2.1:443\"],"
			       "\"uplinks\":[{\"interface\":\"wan1\"},{\"interface\":\"lte0\",\"method\":\"icmp\","
			       "\"targets\":[\"192.0.2.9\",\"192.0.2.10\"],\"weight\":3,\"priority\":7}]}",
			       err, sizeof(err)), 0);
	assert_int_equal(c.interval_ms, 500);
	assert_int_equal(c.timeout_ms, 250);
	assert_int_equal(c.nuplinks, 2);
	assert_int_equal(c.uplinks[0].method, TRACK_TCP);
	assert_int_equal(c.uplinks[0].targets[0].port, 443);
	assert_int_equal(c.uplinks[0].priority, 1);
	assert_int_equal(c.uplinks[1].method, TRACK_ICMP);
	assert_int_equal(c.uplinks[1].ntargets, 2);
	assert_int_equal(c.uplinks[1].weight, 3);
	assert_int_equal(c.uplinks[1].priority, 7);

	assert_int_equal(parse(&c, "{\"targets\":[\"192.0.2.1\"],\"uplinks\":[{\"interface\":\"a\"},"
			       "{\"interface\":\"a\"}]}", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "uplinks[1].interface: a is listed twice");
	assert_int_equal(parse(&c, "{\"uplinks\":[{\"interface\":\"a\",\"targets\":[\"192.0.2.1\"],\"k\":2}]}",
			       err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "uplinks[0].k: 2 of 1 targets");
	assert_int_equal(parse(&c, "{\"uplinks\":[{\"interface\":\"a/b\",\"targets\":[\"192.0.2.1\"]}]}",
			       err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "uplinks[0].interface: not an interface name: \"a\\/b\"");
	assert_int_equal(parse(&c, "{\"method\":\"tcp\",\"targets\":[\"2001:db8::1\",\"[2001:db8::2]:443\","
			       "\"192.0.2.1:22\"]}", err, sizeof(err)), 0);
	assert_int_equal(c.targets[0].addr.family, AF_INET6);
	assert_int_equal(c.targets[0].port, 80);
	assert_int_equal(c.targets[1].addr.family, AF_INET6);
	assert_int_equal(c.targets[1].port, 443);
	assert_int_equal(c.targets[2].addr.family, AF_INET);
	assert_int_equal(c.targets[2].port, 22);
	assert_int_equal(parse(&c, "{\"targets\":[\"[2001:db8::1]443\"]}", err, sizeof(err)), -EINVAL);
	assert_int_equal(parse(&c, "{\"targets\":[\"[2001:db8::1]:\"]}", err, sizeof(err)), -EINVAL);
	assert_int_equal(parse(&c, "{\"targets\":[\"192.0.2.1:0\"]}", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "targets[0]: not an IP address (or ADDRESS:PORT, [ADDRESS]:PORT): \"192.0.2.1:0\"");
	assert_int_equal(parse(&c, "{\"targets\":[]}", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "targets: must list 1..8 targets, got 0");
}

static void test_steer_build(void **state)
{
	const char fwd[2][IFNAMSIZ] = { "lan0", "lan1" };
	struct steer_set s;

	(void)state;
	steer_build(&s, AF_INET, 0, fwd, 2);
	assert_int_equal(s.n, 0);
	steer_build(&s, AF_INET6, 10001, fwd, 2);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.r[0].pref, STEER_PREF_MAIN);
	assert_true(s.r[0].suppress);
	assert_int_equal(s.r[0].table, 254);
	assert_int_equal(s.r[1].pref, STEER_PREF_LOCAL);
	assert_string_equal(s.r[1].iif, "lo");
	assert_int_equal(s.r[1].table, 10001);
	assert_string_equal(s.r[3].iif, "lan1");
	assert_true(steer_owns(30001, 122));
	assert_false(steer_owns(30001, 4));
	assert_false(steer_owns(10000, 122));
	/* Below main (32766), above rtalloc's `to` rules (20000). */
	assert_true(STEER_PREF_MAIN > 20000 && STEER_PREF_FORWARD < 32766);
	/* rtalloc --status knows them as rtalloc-track's. */
	assert_int_equal(STEER_PREF_MAIN, HEALTH_TRACK_PREF_MIN);
	assert_int_equal(STEER_PREF_FORWARD, HEALTH_TRACK_PREF_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_k_of_n),
		cmocka_unit_test(test_loss_rtt),
		cmocka_unit_test(test_quality),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_steer_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
