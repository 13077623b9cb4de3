/* discover: uplinks from the kernel's rules, addresses and routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "discover.h"
#include "rules.h"

struct disc_ctx {
	struct uplink_info *u;
	size_t n, max;
	int family;
	const struct proto_lease *leases;
	size_t nleases;
};

bool discover_lease_addr(const struct proto_lease *l, struct inet_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (l->family != AF_INET && l->family != AF_INET6)
		return false;
	if (inet_pton(l->family, l->address, a->bytes) != 1)
		return false;
	a->family = l->family;
	return true;
}

/* A lease of rtallocd for address src (of family) and table. */
static bool leased(const struct disc_ctx *c, const struct inet_addr *src, uint32_t table)
{
	struct inet_addr a;

	for (size_t i = 0; i < c->nleases; i++)
		if (c->leases[i].table == table && discover_lease_addr(&c->leases[i], &a) &&
		    a.family == c->family && !memcmp(a.bytes, src->bytes, addr_len(c->family)))
			return true;
	return false;
}

bool discover_lease_matched(const struct proto_lease *l, const struct uplink_info *u, size_t n)
{
	struct inet_addr a;

	if (!discover_lease_addr(l, &a))
		return true;
	for (size_t i = 0; i < n; i++)
		if (u[i].addr.family == a.family && u[i].table == l->table &&
		    !memcmp(u[i].addr.bytes, a.bytes, addr_len(a.family)))
			return true;
	return false;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct disc_ctx *c = data;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	if (r.proto != RTPROT_RTALLOC || r.family != c->family ||
	    r.src_len != addr_len(c->family) * 8 || r.dst_len || r.iif[0] || r.has_fwmark ||
	    c->n >= c->max)
		return MNL_CB_OK;
	r.src.family = c->family;
	if (r.pref != DISCOVER_PREF_FROM && !leased(c, &r.src, r.table))
		return MNL_CB_OK;
	for (size_t i = 0; i < c->n; i++)
		if (c->u[i].addr.family == c->family &&
		    !memcmp(c->u[i].addr.bytes, r.src.bytes, addr_len(c->family)))
			return MNL_CB_OK;
	memset(&c->u[c->n], 0, sizeof(c->u[c->n]));
	c->u[c->n].addr = r.src;
	c->u[c->n].addr.family = c->family;
	c->u[c->n].table = r.table;
	c->n++;
	return MNL_CB_OK;
}

struct fwd_ctx {
	char (*out)[IFNAMSIZ];
	size_t max, *n;
};

static int fwd_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fwd_ctx *c = data;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	if (r.proto != RTPROT_RTALLOC || r.pref != DISCOVER_PREF_IIF || !r.iif[0] ||
	    !strcmp(r.iif, "lo") || r.src_len || r.dst_len || r.has_fwmark || *c->n >= c->max)
		return MNL_CB_OK;
	for (size_t i = 0; i < *c->n; i++)
		if (!strcmp(c->out[i], r.iif))
			return MNL_CB_OK;
	memcpy(c->out[(*c->n)++], r.iif, IFNAMSIZ);
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct disc_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	const void *local = NULL, *address = NULL;
	size_t alen = addr_len(c->family);

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    ifa->ifa_family != c->family)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(attr) != alen)
			continue;
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = mnl_attr_get_payload(attr);
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = mnl_attr_get_payload(attr);
	}
	if (!local)
		local = address;
	if (!local)
		return MNL_CB_OK;
	for (size_t i = 0; i < c->n; i++)
		if (!c->u[i].ifindex && c->u[i].addr.family == c->family &&
		    !memcmp(c->u[i].addr.bytes, local, alen))
			c->u[i].ifindex = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct disc_ctx *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	uint32_t table;
	const void *gw = NULL;
	size_t alen = addr_len(c->family);
	int oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    rtm->rtm_family != c->family || rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	table = rtm->rtm_table;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		uint16_t plen = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case RTA_TABLE:
			if (plen == 4)
				table = mnl_attr_get_u32(attr);
			break;
		case RTA_GATEWAY:
			if (plen == alen)
				gw = mnl_attr_get_payload(attr);
			break;
		case RTA_OIF:
			if (plen == 4)
				oif = (int)mnl_attr_get_u32(attr);
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < c->n; i++) {
		struct uplink_info *u = &c->u[i];

		if (u->addr.family != c->family || u->table != table || u->has_default || !oif)
			continue;
		u->has_default = true;
		u->oif = oif;
		if (gw) {
			u->has_gw = true;
			u->gw.family = c->family;
			memcpy(u->gw.bytes, gw, alen);
		}
	}
	return MNL_CB_OK;
}

static int dump(struct nl *nl, uint16_t type, size_t hdrlen, int family, mnl_cb_t cb, void *data)
{
	char buf[MNL_NLMSG_HDRLEN + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t *fam;
	int ret, tries = 0;

	nlh->nlmsg_type = type;
	fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*fam = (uint8_t)family;	/* first byte of fib_rule_hdr, ifaddrmsg and rtmsg */
	do
		ret = nl_dump(nl, nlh, cb, data);
	while (ret == -EINTR && ++tries < 5);
	return ret;
}

int discover_forward(struct nl *nl, char (*out)[IFNAMSIZ], size_t max, size_t *n)
{
	struct fwd_ctx fc = { .out = out, .max = max, .n = n };
	int ret = dump(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), AF_INET, fwd_cb, &fc);

	if (ret >= 0)
		ret = dump(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), AF_INET6, fwd_cb, &fc);
	return ret < 0 ? ret : 0;
}

int discover_uplinks(struct nl *nl, const struct proto_lease *leases, size_t nleases,
		     struct uplink_info *out, size_t max, size_t *n)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct uplink_info tmp[64];
	struct disc_ctx c = { .u = tmp, .max = 64, .leases = leases, .nleases = leases ? nleases : 0 };
	int ret;

	*n = 0;
	for (size_t f = 0; f < 2; f++) {
		size_t before = c.n;

		c.family = families[f];
		ret = dump(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), c.family, rule_cb, &c);
		if (ret < 0)
			return ret;
		if (c.n == before)
			continue;
		ret = dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), c.family, addr_cb, &c);
		if (ret < 0)
			return ret;
		ret = dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), c.family, route_cb, &c);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < c.n && *n < max; i++) {
		if (!c.u[i].ifindex || !if_indextoname((unsigned)c.u[i].ifindex, c.u[i].ifname))
			continue;	/* a rule whose address is gone: not an uplink now */
		out[(*n)++] = c.u[i];
	}
	return 0;
}
