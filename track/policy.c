/* policy: hysteresis, quality and the choice of uplinks for unbound traffic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

const char *health_name(enum health h)
{
	switch (h) {
	case HEALTH_ONLINE: return "online";
	case HEALTH_DEGRADED: return "degraded";
	case HEALTH_OFFLINE: return "offline";
	case HEALTH_PORTAL: return "portal";
	default: return "unknown";
	}
}

void health_reset(struct health_state *h, uint64_t now_ms)
{
	memset(h, 0, sizeof(*h));
	h->state = h->life = HEALTH_UNKNOWN;
	h->changed_ms = now_ms;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void health_figures(const struct health_state *h, const struct health_quality *q, uint64_t now_ms,
		    struct health_figures *f)
{
	uint32_t v[HEALTH_HISTORY];
	unsigned ok = 0;
	uint64_t diff = 0;
	size_t nd = 0;
	uint32_t prev = 0, window_ms = q ? q->window_ms : 0;

	memset(f, 0, sizeof(*f));
	/* Oldest first, so consecutive RTTs are neighbours in time. */
	for (size_t k = h->hist_n; k > 0; k--) {
		size_t i = (h->hist_pos + HEALTH_HISTORY - k) % HEALTH_HISTORY;

		if (window_ms ? h->hist_ms[i] + window_ms < now_ms : k > HEALTH_DEFAULT_ROUNDS)
			continue;
		f->sent += h->hist_sent[i];
		ok += h->hist_ok[i];
		if (!h->hist_rtt_us[i])
			continue;
		if (prev) {
			diff += h->hist_rtt_us[i] > prev ? h->hist_rtt_us[i] - prev : prev - h->hist_rtt_us[i];
			nd++;
		}
		prev = h->hist_rtt_us[i];
		v[f->rtts++] = h->hist_rtt_us[i];
	}
	f->loss = f->sent ? 100.0 * (f->sent - (ok > f->sent ? f->sent : ok)) / f->sent : 0.0;
	if (f->rtts) {
		qsort(v, f->rtts, sizeof(v[0]), cmp_u32);
		f->rtt_us = f->rtts % 2 ? v[f->rtts / 2] : (v[f->rtts / 2 - 1] + v[f->rtts / 2]) / 2;
	}
	f->jitter_us = nd ? (uint32_t)(diff / nd) : 0;
}

/* Quality of an alive uplink: degraded above max_*, online again when
 * under clear_* (both that are on). */
static void judge(struct health_state *h, const struct health_quality *q, uint64_t now_ms)
{
	struct health_figures f;
	bool loss_bad, rtt_bad, loss_clear, rtt_clear;

	if (!q || (q->max_loss <= 0 && !q->max_rtt_us)) {
		h->degraded = false;
		return;
	}
	health_figures(h, q, now_ms, &f);
	loss_bad = q->max_loss > 0 && f.sent >= HEALTH_MIN_SENT && f.loss > q->max_loss;
	rtt_bad = q->max_rtt_us && f.rtts >= HEALTH_MIN_RTTS && f.rtt_us > q->max_rtt_us;
	loss_clear = q->max_loss <= 0 || f.loss <= q->clear_loss;
	rtt_clear = !q->max_rtt_us || !f.rtts || f.rtt_us <= q->clear_rtt_us;
	if (!h->degraded && (loss_bad || rtt_bad))
		h->degraded = true;
	else if (h->degraded && loss_clear && rtt_clear)
		h->degraded = false;
}

bool health_round_q(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		    unsigned down, unsigned up, uint32_t rtt_us, bool portal,
		    const struct health_quality *q, uint64_t now_ms)
{
	bool proven = !sent && answered >= k;
	/* A portal's answer is a network that answers: alive, not online. */
	bool good = proven || (sent && (answered >= k || portal));
	enum health next;

	if (!proven) {
		h->hist_ms[h->hist_pos] = now_ms;
		h->hist_sent[h->hist_pos] = (uint8_t)(sent > 255 ? 255 : sent);
		h->hist_ok[h->hist_pos] = (uint8_t)(answered > 255 ? 255 : answered);
		h->hist_rtt_us[h->hist_pos] = answered ? rtt_us : 0;
		h->hist_pos = (h->hist_pos + 1) % HEALTH_HISTORY;
		if (h->hist_n < HEALTH_HISTORY)
			h->hist_n++;
	}
	h->last_ok = answered;
	h->last_sent = sent;
	h->rounds++;
	if (good) {
		h->good_run++;
		h->bad_run = 0;
		if (h->life != HEALTH_ONLINE && h->good_run >= up)
			h->life = HEALTH_ONLINE;
	} else {
		h->bad_run++;
		h->good_run = 0;
		if (h->life != HEALTH_OFFLINE && h->bad_run >= down)
			h->life = HEALTH_OFFLINE;
	}
	/* A portal shows at once (it is no loss to leave it); it goes after
	 * `up` good rounds without its answers. */
	if (portal) {
		h->portal = true;
		h->plain_run = 0;
	} else if (good && ++h->plain_run >= up) {
		h->portal = false;
	}
	judge(h, q, now_ms);
	next = h->life;
	if (next == HEALTH_ONLINE && h->portal)
		next = HEALTH_PORTAL;
	else if (next == HEALTH_ONLINE && h->degraded)
		next = HEALTH_DEGRADED;
	if (next == h->state)
		return false;
	h->state = next;
	h->changed_ms = now_ms;
	h->rounds = 0;
	return true;
}

bool health_round(struct health_state *h, unsigned answered, unsigned sent, unsigned k,
		  unsigned down, unsigned up, uint32_t rtt_us, uint64_t now_ms)
{
	return health_round_q(h, answered, sent, k, down, up, rtt_us, false, NULL, now_ms);
}

double health_loss(const struct health_state *h)
{
	struct health_figures f;

	health_figures(h, NULL, 0, &f);
	return f.loss;
}

uint32_t health_rtt_median(const struct health_state *h)
{
	struct health_figures f;

	health_figures(h, NULL, 0, &f);
	return f.rtt_us;
}

static int rank(enum health h)
{
	switch (h) {
	case HEALTH_ONLINE: return 0;
	case HEALTH_UNKNOWN: return 1;
	case HEALTH_DEGRADED: return 2;
	default: return 3;
	}
}

int policy_pick(const struct policy_uplink *u, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!u[i].usable || u[i].state == HEALTH_PORTAL)
			continue;
		if (best < 0 || rank(u[i].state) < rank(u[best].state) ||
		    (rank(u[i].state) == rank(u[best].state) && u[i].priority < u[best].priority))
			best = (int)i;
	}
	return best;
}

size_t policy_balance(const struct policy_uplink *u, size_t n, bool *chosen)
{
	static const enum health tiers[] = { HEALTH_ONLINE, HEALTH_DEGRADED };
	int pick;

	for (size_t t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			chosen[i] = u[i].usable && u[i].state == tiers[t];
			k += chosen[i];
		}
		if (k)
			return k;
	}
	pick = policy_pick(u, n);
	if (pick < 0)
		return 0;
	chosen[pick] = true;
	return 1;
}

uint32_t policy_auto_weight(double loss, uint32_t rtt_us, uint32_t best_rtt_us)
{
	double w = 10.0 * (1.0 - (loss > 100 ? 100 : loss < 0 ? 0 : loss) / 100.0);

	if (rtt_us && best_rtt_us && rtt_us > best_rtt_us)
		w *= (double)best_rtt_us / rtt_us;
	w = round(w);
	return w < 1 ? 1 : (uint32_t)w;
}
