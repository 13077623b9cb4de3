/* policy: the pure part of rtalloc-track: an uplink's health from its
 * rounds (hysteresis: `down` bad rounds to go offline, `up` good ones to come
 * back), and which uplinks carry unbound traffic.  No clock, no sockets: the
 * daemon, the unit tests and the benchmark's simulator all drive it. */
#ifndef RTALLOC_POLICY_H
#define RTALLOC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum health { HEALTH_UNKNOWN, HEALTH_ONLINE, HEALTH_OFFLINE };

/* Rounds kept for loss and median RTT. */
#define HEALTH_HISTORY 10

struct health_state {
	enum health state;
	unsigned good_run, bad_run;	/* consecutive good / bad rounds */
	uint64_t rounds;		/* evaluated since the last change */
	uint64_t changed_ms;		/* caller's clock at the last change */
	uint8_t hist_sent[HEALTH_HISTORY], hist_ok[HEALTH_HISTORY];
	uint32_t hist_rtt_us[HEALTH_HISTORY];	/* best reply of the round; 0: none */
	size_t hist_n, hist_pos;
	unsigned last_ok, last_sent;
};

const char *health_name(enum health h);
void health_reset(struct health_state *h, uint64_t now_ms);
/* One finished round: answered targets answered of sent probes (a target's
 * retry counts as a probe: loss is of packets), best RTT rtt_us; good when
 * answered >= k.  Returns true when the state changed. */
bool health_round(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		  unsigned down, unsigned up, uint32_t rtt_us, uint64_t now_ms);
/* Over the history: loss in percent, median RTT in microseconds (0: none). */
double health_loss(const struct health_state *h);
uint32_t health_rtt_median(const struct health_state *h);

struct policy_uplink {
	bool usable;		/* has an address and a table now */
	enum health state;
	uint32_t priority;
	uint32_t weight;
};

/* Failover: the lowest priority among online uplinks, else among unknown
 * ones, else among offline ones (no blackhole).  Index, or -1 when none is
 * usable.  Ties go to the earlier index. */
int policy_pick(const struct policy_uplink *u, size_t n);
/* Balance: chosen[i] for every online uplink; when none is online, the pick
 * alone.  Returns how many were chosen. */
size_t policy_balance(const struct policy_uplink *u, size_t n, bool *chosen);

#endif
