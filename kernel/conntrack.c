/* conntrack: remove forwarded flows NATed to an address (ctnetlink). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "conntrack.h"
#include "nlquery.h"

/* Deleted per batch; a batch buffer holds this many copies of a tuple. */
#define CT_BATCH 32
#define CT_TUPLE_MAX 160

struct ct_found {
	char (*tuples)[CT_TUPLE_MAX];	/* CTA_TUPLE_ORIG attributes, copied whole */
	uint16_t *zone;
	size_t n, cap;
	const struct inet_addr *addr;
};

/* The address of a CTA_TUPLE_* nest's CTA_TUPLE_IP, src or dst. */
static bool tuple_ip(const struct nlattr *tuple, bool src, int family, struct inet_addr *out)
{
	const struct nlattr *ip, *a;
	uint16_t want = family == AF_INET6 ? (src ? CTA_IP_V6_SRC : CTA_IP_V6_DST) :
					     (src ? CTA_IP_V4_SRC : CTA_IP_V4_DST);

	mnl_attr_for_each_nested(ip, tuple) {
		if (mnl_attr_get_type(ip) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(a, ip) {
			if (mnl_attr_get_type(a) == want && mnl_attr_get_payload_len(a) == addr_len(family)) {
				memset(out, 0, sizeof(*out));
				out->family = family;
				memcpy(out->bytes, mnl_attr_get_payload(a), addr_len(family));
				return true;
			}
		}
	}
	return false;
}

static int found_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_found *f = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *orig = NULL, *reply = NULL;
	struct inet_addr osrc, rdst;
	uint16_t zone = 0;
	size_t alen = addr_len(f->addr->family);

	if (nfg->nfgen_family != f->addr->family)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_ORIG: orig = a; break;
		case CTA_TUPLE_REPLY: reply = a; break;
		case CTA_ZONE:
			if (mnl_attr_get_payload_len(a) == 2)
				zone = mnl_attr_get_u16(a);
			break;
		default: break;
		}
	}
	if (!orig || !reply || orig->nla_len > CT_TUPLE_MAX ||
	    !tuple_ip(orig, true, f->addr->family, &osrc) || !tuple_ip(reply, false, f->addr->family, &rdst))
		return MNL_CB_OK;
	/* NATed to addr (replies come to it), from another host (forwarded). */
	if (memcmp(rdst.bytes, f->addr->bytes, alen) || !memcmp(osrc.bytes, f->addr->bytes, alen))
		return MNL_CB_OK;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		void *t = realloc(f->tuples, cap * sizeof(*f->tuples)), *z;

		if (!t)
			return MNL_CB_ERROR;
		f->tuples = t;
		z = realloc(f->zone, cap * sizeof(*f->zone));
		if (!z)
			return MNL_CB_ERROR;
		f->zone = z;
		f->cap = cap;
	}
	memcpy(f->tuples[f->n], orig, orig->nla_len);
	f->zone[f->n++] = zone;
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_msg(void *buf, uint16_t type, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/* Deletes tuples (m of them, with their zones) in one batch. */
static int delete_batch(int family, char (*tuples)[CT_TUPLE_MAX], const uint16_t *zone, size_t m,
			unsigned *removed)
{
	static char buf[CT_BATCH * (MNL_NLMSG_HDRLEN + 16 + CT_TUPLE_MAX + 8)] __attribute__((aligned(8)));
	int errs[CT_BATCH];
	size_t len = 0;
	int ret;

	for (size_t i = 0; i < m; i++) {
		struct nlmsghdr *nlh = ct_msg(buf + len, IPCTNL_MSG_CT_DELETE, family);
		const struct nlattr *t = (const struct nlattr *)tuples[i];

		/* The tuple as the kernel sent it (its nest flag too). */
		mnl_attr_put(nlh, t->nla_type, mnl_attr_get_payload_len(t), mnl_attr_get_payload(t));
		if (zone[i])	/* as sent: network order */
			mnl_attr_put_u16(nlh, CTA_ZONE, zone[i]);
		len += MNL_ALIGN(nlh->nlmsg_len);
	}
	ret = nlq_batch(NETLINK_NETFILTER, buf, len, m, errs);
	for (size_t i = 0; ret == 0 && i < m; i++)
		*removed += errs[i] == 0;
	return ret;
}

int conntrack_flush_nat(const struct inet_addr *addr, unsigned *removed)
{
	char req[MNL_NLMSG_HDRLEN + 16] __attribute__((aligned(8)));
	struct ct_found f = { .addr = addr };
	int ret;

	*removed = 0;
	ret = nlq_dump(NETLINK_NETFILTER, ct_msg(req, IPCTNL_MSG_CT_GET, addr->family), found_cb, &f);
	for (size_t off = 0; ret == 0 && off < f.n; off += CT_BATCH)
		ret = delete_batch(addr->family, f.tuples + off, f.zone + off,
				   f.n - off < CT_BATCH ? f.n - off : CT_BATCH, removed);
	free(f.tuples);
	free(f.zone);
	return ret;
}
