/* holders: rtalloc's rules into our tables, counted (and which tables they
 * use) from a rule dump. */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "holders.h"
#include "nl.h"

/* FRA_PROTOCOL of rtalloc's rules (RTPROT_RTALLOC in allocator-client/rules.h). */
#define HOLDERS_PROTO 122

struct holders_ctx {
	uint32_t lo, hi;
	uint64_t *held;		/* bit table - lo per table a rule uses; NULL */
	int n;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct holders_ctx *c = data;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	uint32_t table;
	int proto = -1;

	if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return MNL_CB_OK;
	table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		if (mnl_attr_get_type(attr) == FRA_TABLE && mnl_attr_get_payload_len(attr) == 4)
			table = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == FRA_PROTOCOL && mnl_attr_get_payload_len(attr) == 1)
			proto = mnl_attr_get_u8(attr);
	}
	if (proto == HOLDERS_PROTO && table >= c->lo && table <= c->hi) {
		c->n++;
		if (c->held)
			c->held[(table - c->lo) / 64] |= 1ULL << ((table - c->lo) % 64);
	}
	return MNL_CB_OK;
}

int holders_count(uint32_t lo, uint32_t hi)
{
	return holders_scan(lo, hi, NULL);
}

int holders_scan(uint32_t lo, uint32_t hi, uint64_t *held)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct fib_rule_hdr))];
	struct holders_ctx c = { .lo = lo, .hi = hi, .held = held };
	struct nl nl;
	int ret = nl_open(&nl, NULL, 0);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct fib_rule_hdr *frh;
		int tries = 0;

		nlh->nlmsg_type = RTM_GETRULE;
		frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
		frh->family = (uint8_t)families[i];
		do {
			int before = c.n;

			ret = nl_dump(&nl, nlh, rule_cb, &c);
			if (ret == -EINTR)
				c.n = before;	/* counted again */
		} while (ret == -EINTR && ++tries < 5);
		/* no IPv6 in this kernel: no IPv6 rules either */
		if (ret == -EAFNOSUPPORT && families[i] == AF_INET6)
			ret = 0;
		if (ret < 0)
			break;
	}
	nl_close(&nl);
	return ret < 0 ? ret : c.n;
}
