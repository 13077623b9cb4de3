/* discover: uplinks from the kernel's rules, addresses and routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "discover.h"
#include "kmsg.h"

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

static void rule_cb(const struct kevent *ev, void *data)
{
	struct disc_ctx *c = data;
	const struct krule *r = &ev->rule;

	if (!kevent_rule_ours(ev) || r->family != c->family ||
	    r->src_len != addr_len(c->family) * 8 || r->dst_len || r->iif[0] || r->has_fwmark ||
	    c->n >= c->max)
		return;
	if (r->pref != KPREF_FROM && !leased(c, &r->src, r->table))
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->u[i].addr.family == c->family &&
		    !memcmp(c->u[i].addr.bytes, r->src.bytes, addr_len(c->family)))
			return;
	memset(&c->u[c->n], 0, sizeof(c->u[c->n]));
	c->u[c->n].addr = r->src;
	c->u[c->n].addr.family = c->family;
	c->u[c->n].table = r->table;
	c->n++;
}

struct fwd_ctx {
	char (*out)[IFNAMSIZ];
	size_t max, *n;
};

static void fwd_cb(const struct kevent *ev, void *data)
{
	struct fwd_ctx *c = data;
	const struct krule *r = &ev->rule;

	if (!kevent_rule_ours(ev) || r->pref != DISCOVER_PREF_IIF || !r->iif[0] ||
	    !strcmp(r->iif, "lo") || r->src_len || r->dst_len || r->has_fwmark || *c->n >= c->max)
		return;
	for (size_t i = 0; i < *c->n; i++)
		if (!strcmp(c->out[i], r->iif))
			return;
	memcpy(c->out[(*c->n)++], r->iif, IFNAMSIZ);
}

static void addr_cb(const struct kevent *ev, void *data)
{
	struct disc_ctx *c = data;

	if (ev->del || ev->addr.family != c->family)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (!c->u[i].ifindex && c->u[i].addr.family == c->family &&
		    !memcmp(c->u[i].addr.bytes, ev->addr.addr.bytes, addr_len(c->family)))
			c->u[i].ifindex = ev->addr.ifindex;
}

/* A plain default route (not one nexthop of a multipath route) in an
 * uplink's table: its gateway and device. */
static void route_cb(const struct kevent *ev, void *data)
{
	struct disc_ctx *c = data;
	const struct kroute *rt = &ev->route;

	if (ev->del || rt->family != c->family || rt->dst_len || rt->type != RTN_UNICAST ||
	    rt->multipath || !rt->oif)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct uplink_info *u = &c->u[i];

		if (u->addr.family != c->family || u->table != rt->table || u->has_default)
			continue;
		u->has_default = true;
		u->oif = rt->oif;
		if (rt->gw.family) {
			u->has_gw = true;
			u->gw = rt->gw;
		}
	}
}

static int dump(struct kernel *k, enum kobj_type type, int family, kernel_cb cb, void *data)
{
	struct kfilter f = { .family = family };

	return kernel_dump(k, type, &f, cb, data);
}

/* The name of link ifindex, asked for by its index. */
struct name_ctx {
	int ifindex;
	char *name;
	bool found;
};

static void link_cb(const struct kevent *ev, void *data)
{
	struct name_ctx *c = data;

	if (ev->del || ev->link.ifindex != c->ifindex || !ev->link.name[0])
		return;
	memcpy(c->name, ev->link.name, IFNAMSIZ);
	c->name[IFNAMSIZ - 1] = '\0';
	c->found = true;
}

int discover_forward(struct kernel *k, char (*out)[IFNAMSIZ], size_t max, size_t *n)
{
	struct fwd_ctx fc = { .out = out, .max = max, .n = n };
	int ret = dump(k, KOBJ_RULE, AF_INET, fwd_cb, &fc);

	if (ret >= 0)
		ret = dump(k, KOBJ_RULE, AF_INET6, fwd_cb, &fc);
	return ret < 0 ? ret : 0;
}

int discover_uplinks(struct kernel *k, const struct proto_lease *leases, size_t nleases,
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
		ret = dump(k, KOBJ_RULE, c.family, rule_cb, &c);
		if (ret < 0)
			return ret;
		if (c.n == before)
			continue;
		ret = dump(k, KOBJ_ADDR, c.family, addr_cb, &c);
		if (ret < 0)
			return ret;
		ret = dump(k, KOBJ_ROUTE, c.family, route_cb, &c);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < c.n && *n < max; i++) {
		struct kfilter lf = { .ifindex = c.u[i].ifindex };
		struct name_ctx nc = { .ifindex = c.u[i].ifindex, .name = c.u[i].ifname };

		if (!c.u[i].ifindex)
			continue;	/* a rule whose address is gone: not an uplink now */
		ret = kernel_dump(k, KOBJ_LINK, &lf, link_cb, &nc);
		if (ret < 0)
			return ret;
		if (!nc.found)
			continue;	/* its link went meanwhile */
		out[(*n)++] = c.u[i];
	}
	return 0;
}
