/* track_sim: rtalloc-track's decisions under random loss, with a fake clock
 * and a fake prober: each round every target's probe is lost with
 * probability LOSS and, as the daemon does, a lost one is sent again halfway
 * through the timeout and at 2/3 and 5/6 of it (each lost with LOSS too); the
 * real policy code
 * (track/policy.c) judges the round.  Prints, per target count, how many simulated windows of SECONDS
 * (starting online) saw a state change.
 *   track_sim [-l LOSS] [-s SECONDS] [-w WINDOWS] [-i INTERVAL] [-d DOWN] [-u UP]
 * With -D RUNS it measures detection instead: an uplink online for a full
 * window of good rounds (RTT 20 ms) meets LOSS (per packet, the retry as
 * above) and replies RTT ms late (-r); quality thresholds -m MAX_LOSS
 * (percent), -R MAX_RTT (ms), -W WINDOW (s); prints the median and the
 * maximum time to degraded (or offline) over RUNS, with random phases. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policy.h"

/* xorshift64*: reproducible and cheap. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int detect(unsigned runs, double loss, double rtt_ms, double interval, unsigned down, unsigned up,
		  const struct health_quality *q)
{
	double *t = calloc(runs, sizeof(*t));
	unsigned missed = 0;

	if (!t)
		return 1;
	for (unsigned r = 0; r < runs; r++) {
		struct health_state h;
		uint64_t now = 0, step = (uint64_t)(interval * 1000);
		unsigned warm = (unsigned)(q->window_ms / step) + up + 1;
		double start;

		health_reset(&h, 0);
		for (unsigned i = 0; i < warm; i++)
			health_round_q(&h, 1, 1, 1, down, up, 20000, false, q, now += step);
		/* The trouble starts at a random phase of the round. */
		start = (double)now + uniform() * (double)step;
		t[r] = -1;
		for (unsigned i = 0; i < 100000 && t[r] < 0; i++) {
			unsigned tries = 1;
			bool ok = uniform() >= loss;

			while (!ok && tries < 4) {
				tries++;
				ok = uniform() >= loss;
			}
			now += step;
			health_round_q(&h, ok, tries, 1, down, up, (uint32_t)(rtt_ms * 1000), false, q, now);
			if (h.state == HEALTH_DEGRADED || h.state == HEALTH_OFFLINE)
				t[r] = ((double)now - start) / 1000.0;
		}
		missed += t[r] < 0;
	}
	qsort(t, runs, sizeof(*t), cmp_d);
	printf("detect loss=%.2f rtt_ms=%.0f runs=%u missed=%u median_s=%.1f max_s=%.1f\n", loss, rtt_ms, runs,
	       missed, t[runs / 2], t[runs - 1]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	double loss = 0.2, interval = 5, rtt_ms = 20;
	unsigned seconds = 300, windows = 100000, down = 3, up = 3, runs = 0;
	struct health_quality q = { .max_loss = 20, .clear_loss = 10, .max_rtt_us = 500000,
				    .clear_rtt_us = 300000, .window_ms = 60000 };
	int c;

	while ((c = getopt(argc, argv, "l:s:w:i:d:u:D:r:m:R:W:")) != -1) {
		switch (c) {
		case 'D': runs = (unsigned)atoi(optarg); break;
		case 'r': rtt_ms = atof(optarg); break;
		case 'm': q.max_loss = atof(optarg); q.clear_loss = q.max_loss / 2; break;
		case 'R': q.max_rtt_us = (uint32_t)(atof(optarg) * 1000); q.clear_rtt_us = q.max_rtt_us / 4 * 3; break;
		case 'W': q.window_ms = (uint32_t)(atof(optarg) * 1000); break;
		case 'l': loss = atof(optarg); break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		case 'w': windows = (unsigned)atoi(optarg); break;
		case 'i': interval = atof(optarg); break;
		case 'd': down = (unsigned)atoi(optarg); break;
		case 'u': up = (unsigned)atoi(optarg); break;
		default: return 1;
		}
	}
	if (runs)
		return detect(runs, loss, rtt_ms, interval, down, up, &q);
	for (unsigned targets = 1; targets <= 3; targets++) {
		unsigned rounds = (unsigned)(seconds / interval), changed = 0;
		uint64_t changes = 0;

		for (unsigned w = 0; w < windows; w++) {
			struct health_state h;
			uint64_t now = 0;
			bool any = false;

			health_reset(&h, now);
			/* Start online, as an uplink that was fine before the loss began. */
			for (unsigned i = 0; i < up; i++)
				health_round(&h, targets, targets, 1, down, up, 1000, now);
			for (unsigned r = 0; r < rounds; r++) {
				unsigned ok = 0;

				now += (uint64_t)(interval * 1000);
				for (unsigned t = 0; t < targets; t++)
					ok += uniform() >= loss || uniform() >= loss || uniform() >= loss ||
					      uniform() >= loss;
				if (health_round(&h, ok, targets, 1, down, up, 1000, now)) {
					any = true;
					changes++;
				}
			}
			changed += any;
		}
		printf("targets=%u windows=%u rounds_per_window=%u windows_with_change=%u "
		       "false_switch_rate=%.6f changes=%llu\n",
		       targets, windows, rounds, changed, (double)changed / windows, (unsigned long long)changes);
	}
	return 0;
}
