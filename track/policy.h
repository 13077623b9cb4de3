/* policy: the pure part of rtalloc-track: an uplink's health from its
 * rounds (hysteresis: `down` bad rounds to go offline, `up` good ones to come
 * back; with quality thresholds, a window's loss or median RTT above max_*
 * makes an online uplink degraded until both are back under clear_*), and
 * which uplinks carry unbound traffic.  No clock, no sockets: the daemon,
 * the unit tests and the benchmark's simulator all drive it. */
#ifndef RTALLOC_POLICY_H
#define RTALLOC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* portal: it answers, but not as the probe expects (a captive portal's
 * 200 or 302 to an HTTP probe); never carries unbound traffic. */
enum health { HEALTH_UNKNOWN, HEALTH_ONLINE, HEALTH_DEGRADED, HEALTH_OFFLINE, HEALTH_PORTAL };

/* Rounds kept: the window (or, without one, the last HEALTH_DEFAULT_ROUNDS)
 * is judged from them. */
#define HEALTH_HISTORY 256
#define HEALTH_DEFAULT_ROUNDS 10
/* Probes a window needs before its loss can make an uplink degraded, and
 * answered rounds before its median RTT can. */
#define HEALTH_MIN_SENT 10
#define HEALTH_MIN_RTTS 3

/* Quality thresholds; a zero max_* is off (today's up/down only). */
struct health_quality {
	double max_loss, clear_loss;	/* percent */
	uint32_t max_rtt_us, clear_rtt_us;
	uint32_t window_ms;		/* 0: the last HEALTH_DEFAULT_ROUNDS rounds */
};

struct health_state {
	enum health state;		/* what is published: life, portal, quality */
	enum health life;		/* UNKNOWN, ONLINE or OFFLINE: the up/down hysteresis */
	bool degraded, portal;
	unsigned good_run, bad_run;	/* consecutive good / bad rounds */
	unsigned plain_run;		/* consecutive good rounds without a portal's answer */
	uint64_t rounds;		/* evaluated since the last change */
	uint64_t changed_ms;		/* caller's clock at the last change */
	uint64_t hist_ms[HEALTH_HISTORY];
	uint8_t hist_sent[HEALTH_HISTORY], hist_ok[HEALTH_HISTORY];
	uint32_t hist_rtt_us[HEALTH_HISTORY];	/* best reply of the round; 0: none */
	size_t hist_n, hist_pos;
	unsigned last_ok, last_sent;
};

/* The window's figures. */
struct health_figures {
	double loss;		/* percent of probes */
	uint32_t rtt_us;	/* median of the rounds' best RTTs; 0: none */
	uint32_t jitter_us;	/* mean difference of consecutive RTTs */
	unsigned sent, rtts;	/* probes, and rounds with an RTT, in the window */
};

const char *health_name(enum health h);
void health_reset(struct health_state *h, uint64_t now_ms);
/* One finished round: answered targets answered of sent probes (a target's
 * retry counts as a probe: loss is of packets), best RTT rtt_us; good when
 * answered >= k.  Returns true when the state changed. */
bool health_round(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		  unsigned down, unsigned up, uint32_t rtt_us, uint64_t now_ms);
/* The same with quality thresholds q (NULL: none) and portal: some target
 * answered, but not as expected (counts as alive; `up` plain rounds clear
 * it).  A round with sent 0 and answered >= k is proven by the uplink's
 * own traffic (metered): good, and no sample in the window. */
bool health_round_q(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		    unsigned down, unsigned up, uint32_t rtt_us, bool portal,
		    const struct health_quality *q, uint64_t now_ms);
/* Over the history (the last HEALTH_DEFAULT_ROUNDS rounds): loss in
 * percent, median RTT in microseconds (0: none). */
double health_loss(const struct health_state *h);
uint32_t health_rtt_median(const struct health_state *h);
/* The figures of the window of q (NULL or no window: the last
 * HEALTH_DEFAULT_ROUNDS rounds) ending at now_ms. */
void health_figures(const struct health_state *h, const struct health_quality *q, uint64_t now_ms,
		    struct health_figures *f);

struct policy_uplink {
	bool usable;		/* has an address and a table now */
	enum health state;
	uint32_t priority;
	uint32_t weight;
};

/* Failover: the lowest priority among online uplinks, else among unknown
 * ones, else among degraded ones, else among offline ones (no blackhole);
 * a portal never.  Index, or -1 when none is usable.  Ties go to the
 * earlier index. */
int policy_pick(const struct policy_uplink *u, size_t n);
/* Balance: chosen[i] for every online uplink; when none is online, every
 * degraded one; when none is either, the pick alone.  Returns how many were
 * chosen. */
size_t policy_balance(const struct policy_uplink *u, size_t n, bool *chosen);
/* "weight": "auto": 1..10 from the window's loss and median RTT against
 * the best median among the uplinks (best_rtt_us; 0: none known). */
uint32_t policy_auto_weight(double loss, uint32_t rtt_us, uint32_t best_rtt_us);

#endif
