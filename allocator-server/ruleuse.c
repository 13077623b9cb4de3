/* ruleuse: rtalloc's rules into our tables, counted (and which tables they
 * use) from a rule dump. */
#include <errno.h>
#include <sys/socket.h>

#include "ruleuse.h"
#include "kmsg.h"

struct ruleuse_ctx {
	uint32_t lo, hi;
	uint64_t *held;		/* bit table - lo per table a rule uses; NULL */
	int n;
	int start;		/* n before this family's dump */
};

/* An interrupted dump: its rules are counted again (held's bits are set
 * again, the same). */
static void rule_restart(void *data)
{
	struct ruleuse_ctx *c = data;

	c->n = c->start;
}

static void rule_cb(const struct kevent *ev, void *data)
{
	struct ruleuse_ctx *c = data;
	uint32_t table = ev->rule.table;

	if (kevent_rule_ours(ev) && table >= c->lo && table <= c->hi) {
		c->n++;
		if (c->held)
			c->held[(table - c->lo) / 64] |= 1ULL << ((table - c->lo) % 64);
	}
}

int ruleuse_count(uint32_t lo, uint32_t hi)
{
	return ruleuse_scan(lo, hi, NULL);
}

int ruleuse_scan(uint32_t lo, uint32_t hi, uint64_t *held)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct ruleuse_ctx c = { .lo = lo, .hi = hi, .held = held };
	struct nl nl;
	int ret = nl_open(&nl, NULL, 0);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct kfilter f = { .family = families[i] };

		c.start = c.n;
		ret = kmsg_dump_stable(&nl, KOBJ_RULE, &f, rule_cb, &c, rule_restart);
		/* no IPv6 in this kernel: no IPv6 rules either */
		if (ret == -EAFNOSUPPORT && families[i] == AF_INET6)
			ret = 0;
		if (ret < 0)
			break;
	}
	nl_close(&nl);
	return ret < 0 ? ret : c.n;
}
