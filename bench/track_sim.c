/* track_sim: rtalloc-track's decisions under random loss, with a fake clock
 * and a fake prober: each round every target's probe is lost with
 * probability LOSS and, as the daemon does, a lost one is sent again halfway
 * through the round (lost with LOSS too); the real policy code
 * (track/policy.c) judges the round.  Prints, per target count, how many simulated windows of SECONDS
 * (starting online) saw a state change.
 *   track_sim [-l LOSS] [-s SECONDS] [-w WINDOWS] [-i INTERVAL] [-d DOWN] [-u UP] */
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

int main(int argc, char **argv)
{
	double loss = 0.2, interval = 5;
	unsigned seconds = 300, windows = 100000, down = 3, up = 3;
	int c;

	while ((c = getopt(argc, argv, "l:s:w:i:d:u:")) != -1) {
		switch (c) {
		case 'l': loss = atof(optarg); break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		case 'w': windows = (unsigned)atoi(optarg); break;
		case 'i': interval = atof(optarg); break;
		case 'd': down = (unsigned)atoi(optarg); break;
		case 'u': up = (unsigned)atoi(optarg); break;
		default: return 1;
		}
	}
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
					ok += uniform() >= loss || uniform() >= loss;
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
