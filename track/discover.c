/* discover: uplinks from the kernel's rules, addresses and routes. */
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
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct disc_ctx *c = data;
	struct rule r;

	if (nlh->nlmsg_type != RTM_NEWRULE || !rule_parse(nlh, &r))
		return MNL_CB_OK;
	if (r.proto != RTPROT_RTALLOC || r.family != AF_INET || r.pref != DISCOVER_PREF_FROM ||
	    r.src_len != 32 || r.dst_len || r.iif[0] || r.has_fwmark || c->n >= c->max)
		return MNL_CB_OK;
	for (size_t i = 0; i < c->n; i++)
		if (c->u[i].addr.v4.s_addr == r.src.v4.s_addr)
			return MNL_CB_OK;
	memset(&c->u[c->n], 0, sizeof(c->u[c->n]));
	c->u[c->n].addr = r.src;
	c->u[c->n].addr.family = AF_INET;
	c->u[c->n].table = r.table;
	c->n++;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct disc_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	const void *local = NULL, *address = NULL;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(attr) != 4)
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
		if (!c->u[i].ifindex && !memcmp(&c->u[i].addr.v4, local, 4))
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
	int oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    rtm->rtm_family != AF_INET || rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST)
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
			if (plen == 4)
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

		if (u->table != table || u->has_default || !oif)
			continue;
		u->has_default = true;
		u->oif = oif;
		if (gw) {
			u->has_gw = true;
			memcpy(&u->gw, gw, 4);
		}
	}
	return MNL_CB_OK;
}

static int dump(struct nl *nl, uint16_t type, size_t hdrlen, mnl_cb_t cb, struct disc_ctx *c)
{
	char buf[MNL_NLMSG_HDRLEN + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t *fam;
	int ret, tries = 0;

	nlh->nlmsg_type = type;
	fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*fam = AF_INET;		/* first byte of fib_rule_hdr, ifaddrmsg and rtmsg */
	do
		ret = nl_dump(nl, nlh, cb, c);
	while (ret == -EINTR && ++tries < 5);
	return ret;
}

int discover_uplinks(struct nl *nl, struct uplink_info *out, size_t max, size_t *n)
{
	struct uplink_info tmp[64];
	struct disc_ctx c = { .u = tmp, .max = 64 };
	int ret;

	*n = 0;
	ret = dump(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), rule_cb, &c);
	if (ret < 0 || !c.n)
		return ret;
	ret = dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_cb, &c);
	if (ret < 0)
		return ret;
	ret = dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), route_cb, &c);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < c.n && *n < max; i++) {
		if (!c.u[i].ifindex || !if_indextoname((unsigned)c.u[i].ifindex, c.u[i].ifname))
			continue;	/* a rule whose address is gone: not an uplink now */
		out[(*n)++] = c.u[i];
	}
	return 0;
}
