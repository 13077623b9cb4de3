/* policy: hysteresis and the choice of uplinks for unbound traffic. */
#include <stdlib.h>
#include <string.h>

#include "policy.h"

const char *health_name(enum health h)
{
	return h == HEALTH_ONLINE ? "online" : h == HEALTH_OFFLINE ? "offline" : "unknown";
}

void health_reset(struct health_state *h, uint64_t now_ms)
{
	memset(h, 0, sizeof(*h));
	h->state = HEALTH_UNKNOWN;
	h->changed_ms = now_ms;
}

bool health_round(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		  unsigned down, unsigned up, uint32_t rtt_us, uint64_t now_ms)
{
	bool good = sent && answered >= k;
	enum health next = h->state;

	h->hist_sent[h->hist_pos] = (uint8_t)(sent > 255 ? 255 : sent);
	h->hist_ok[h->hist_pos] = (uint8_t)(answered > 255 ? 255 : answered);
	h->hist_rtt_us[h->hist_pos] = answered ? rtt_us : 0;
	h->hist_pos = (h->hist_pos + 1) % HEALTH_HISTORY;
	if (h->hist_n < HEALTH_HISTORY)
		h->hist_n++;
	h->last_ok = answered;
	h->last_sent = sent;
	h->rounds++;
	if (good) {
		h->good_run++;
		h->bad_run = 0;
		if (h->state != HEALTH_ONLINE && h->good_run >= up)
			next = HEALTH_ONLINE;
	} else {
		h->bad_run++;
		h->good_run = 0;
		if (h->state != HEALTH_OFFLINE && h->bad_run >= down)
			next = HEALTH_OFFLINE;
	}
	if (next == h->state)
		return false;
	h->state = next;
	h->changed_ms = now_ms;
	h->rounds = 0;
	return true;
}

double health_loss(const struct health_state *h)
{
	unsigned sent = 0, ok = 0;

	for (size_t i = 0; i < h->hist_n; i++) {
		sent += h->hist_sent[i];
		ok += h->hist_ok[i];
	}
	return sent ? 100.0 * (sent - ok) / sent : 0.0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t health_rtt_median(const struct health_state *h)
{
	uint32_t v[HEALTH_HISTORY];
	size_t n = 0;

	for (size_t i = 0; i < h->hist_n; i++)
		if (h->hist_rtt_us[i])
			v[n++] = h->hist_rtt_us[i];
	if (!n)
		return 0;
	qsort(v, n, sizeof(v[0]), cmp_u32);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int rank(enum health h)
{
	return h == HEALTH_ONLINE ? 0 : h == HEALTH_UNKNOWN ? 1 : 2;
}

int policy_pick(const struct policy_uplink *u, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!u[i].usable)
			continue;
		if (best < 0 || rank(u[i].state) < rank(u[best].state) ||
		    (rank(u[i].state) == rank(u[best].state) && u[i].priority < u[best].priority))
			best = (int)i;
	}
	return best;
}

size_t policy_balance(const struct policy_uplink *u, size_t n, bool *chosen)
{
	size_t k = 0;
	int pick;

	for (size_t i = 0; i < n; i++) {
		chosen[i] = u[i].usable && u[i].state == HEALTH_ONLINE;
		k += chosen[i];
	}
	if (k)
		return k;
	pick = policy_pick(u, n);
	if (pick < 0)
		return 0;
	chosen[pick] = true;
	return 1;
}
