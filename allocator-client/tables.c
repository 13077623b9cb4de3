/* tables: --status's checks of the leased tables' routes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "addr.h"
#include "cli.h"
#include "kernel.h"
#include "owner.h"
#include "tables.h"

static const char *fam(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

static const char *link_name(const struct table_view *k, int ifindex)
{
	for (size_t i = 0; i < k->nlinks; i++)
		if (k->links[i].ifindex == ifindex)
			return k->links[i].name;
	return NULL;
}

static bool from_rule_installed(const struct table_view *k, int family, const struct inet_addr *a,
				uint32_t table)
{
	size_t len = addr_len(family);

	for (size_t i = 0; i < k->nrules; i++) {
		const struct krule *r = &k->rules[i];

		if (r->family == family && r->table == table && r->src_len == len * 8 &&
		    !r->dst_len && !r->iif[0] && !r->has_fwmark && !memcmp(r->src.bytes, a->bytes, len))
			return true;
	}
	return false;
}

/* `ip route`-like text of a route of the table, naming the device. */
static const char *route_text(const struct table_view *k, const struct kroute *r, char *buf, size_t len)
{
	char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
	const char *dev = link_name(k, r->oif);
	int n;

	if (r->dst_len)
		n = snprintf(buf, len, "%s/%u", addr_str(&r->dst, d, sizeof(d)), r->dst_len);
	else
		n = snprintf(buf, len, "default");
	if (r->gw.family && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " via %s", addr_str(&r->gw, g, sizeof(g)));
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " dev %s", dev ? dev : r->oif ? "?" : "(none)");
	if (r->src.family && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " src %s", addr_str(&r->src, s, sizeof(s)));
	return buf;
}

static bool want_found(const struct table_view *k, int family, uint32_t table, const char *ifname,
		       const struct route_arg *w)
{
	size_t len = addr_len(family);
	uint32_t metric = family == AF_INET6 && !w->metric ? 1024 : w->metric;

	for (size_t i = 0; i < k->nroutes; i++) {
		const struct kroute *r = &k->routes[i];
		const char *dev = link_name(k, r->oif);

		if (r->family == family && r->table == table && r->dst_len == w->dst_len &&
		    r->metric == metric && !memcmp(r->dst.bytes, w->dst.bytes, len) && dev &&
		    !strcmp(dev, ifname) && (bool)r->gw.family == w->has_gw &&
		    (!w->has_gw || !memcmp(r->gw.bytes, w->gw.bytes, len)))
			return true;
	}
	return false;
}

/* Another address's `from` rule of ours that selects the lease's table:
 * two uplinks resolve to one table (a table leased twice, e.g. after the
 * server lost its database), and one of them leaves by the other's link. */
static size_t check_shared_rules(const struct proto_lease *l, int family, const struct inet_addr *a,
				 const struct table_view *k, FILE *out)
{
	size_t diffs = 0, len = addr_len(family);
	char buf[160];

	for (size_t i = 0; i < k->nrules; i++) {
		const struct krule *r = &k->rules[i];

		if (r->family != family || r->table != l->table || r->src_len != len * 8 ||
		    r->dst_len || r->iif[0] || r->has_fwmark || !memcmp(r->src.bytes, a->bytes, len))
			continue;
		fprintf(out, "shared table: %s %s on %s, table %u is also selected by `%s`\n",
			fam(family), l->address, l->ifname, l->table, krule_str(r, buf, sizeof(buf)));
		diffs++;
	}
	return diffs;
}

static size_t check_one(const struct proto_lease *l, int family, const struct table_want *w,
			const struct table_view *k, FILE *out)
{
	size_t diffs = 0, nroutes = 0, len = addr_len(family);
	struct inet_addr a;
	char buf[256];

	if (addr_parse(family, l->address, &a) < 0)
		return 0;	/* status.c says "bad lease" */
	diffs += check_shared_rules(l, family, &a, k, out);
	/* An unspec lease (rtalloc -a ID, a 2017 client's) has no rules of
	 * rtalloc's and its table's routes are its caller's alone. */
	if (l->family == AF_UNSPEC)
		return diffs;
	for (size_t i = 0; i < k->nroutes; i++) {
		const struct kroute *r = &k->routes[i];
		const char *dev;

		if (r->family != family || r->table != l->table)
			continue;
		nroutes++;
		dev = link_name(k, r->oif);
		if (r->oif && (!dev || strcmp(dev, l->ifname))) {
			fprintf(out, "foreign route: %s %s on %s, table %u holds `%s`: another device\n",
				fam(family), l->address, l->ifname, l->table, route_text(k, r, buf, sizeof(buf)));
			diffs++;
		} else if (r->src.family && memcmp(r->src.bytes, a.bytes, len)) {
			fprintf(out, "foreign route: %s %s on %s, table %u holds `%s`: another source\n",
				fam(family), l->address, l->ifname, l->table, route_text(k, r, buf, sizeof(buf)));
			diffs++;
		}
	}
	if (!from_rule_installed(k, family, &a, l->table))
		return diffs;	/* status.c reports the missing rules */
	if (!nroutes) {
		fprintf(out, "empty table: %s %s on %s, table %u: its rules are installed, the table has no route\n",
			fam(family), l->address, l->ifname, l->table);
		return diffs + 1;
	}
	for (size_t i = 0; w && w->known && i < w->n; i++)
		if (!want_found(k, family, l->table, l->ifname, &w->r[i])) {
			fprintf(out, "missing route: %s %s on %s, table %u: no `%s`\n", fam(family),
				l->address, l->ifname, l->table, route_arg_str(&w->r[i], buf, sizeof(buf)));
			diffs++;
		}
	return diffs;
}

/* The family whose tables a lease's table number names: an unspec lease
 * (a 2017 client's) the family of its address; 0 for a bad one. */
static int lease_family(const struct proto_lease *l)
{
	struct inet_addr a;

	if (l->family == AF_INET || l->family == AF_INET6)
		return l->family;
	if (addr_parse(AF_INET, l->address, &a) == 0)
		return AF_INET;
	if (addr_parse(AF_INET6, l->address, &a) == 0)
		return AF_INET6;
	return 0;
}

size_t tables_compare(const struct proto_lease *leases, size_t nleases,
		      const struct table_want *want, const struct table_view *k, FILE *out)
{
	size_t diffs = 0;

	for (size_t i = 0; i < nleases; i++) {
		const struct proto_lease *l = &leases[i];
		int family = lease_family(l);

		if (!family)
			continue;
		for (size_t j = i + 1; j < nleases; j++)
			if (lease_family(&leases[j]) == family && leases[j].table == l->table) {
				fprintf(out, "shared table: %s %s on %s and %s on %s both lease table %u\n",
					fam(family), l->address, l->ifname, leases[j].address,
					leases[j].ifname, l->table);
				diffs++;
			}
		diffs += check_one(l, family, want ? &want[i] : NULL, k, out);
	}
	return diffs;
}

/* ---- reading the kernel and the daemons ---- */

struct collect {
	struct kroute_set routes;
	struct klink *links;
	size_t nlinks, cap;
	int err;
};

static void collect_cb(const struct kevent *ev, void *data)
{
	struct collect *c = data;

	if (ev->type == KOBJ_ROUTE) {
		const struct kroute *r = &ev->route;

		/* Numbered tables only: never default, main or local. */
		if (r->cloned || !r->table || r->table == 253 || r->table == 254 || r->table == 255)
			return;
		if (kroute_set_add(&c->routes, r) < 0)
			c->err = -ENOMEM;
	} else if (ev->type == KOBJ_LINK) {
		if (c->nlinks == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			struct klink *p = realloc(c->links, cap * sizeof(*p));

			if (!p) {
				c->err = -ENOMEM;
				return;
			}
			c->links = p;
			c->cap = cap;
		}
		c->links[c->nlinks++] = ev->link;
	}
}

/* Asks the daemon holding l ("rtalloc/4/IFNAME/ADDR", daemon.c) for its
 * routes over its authenticated control path: "routes?" -> "routes\n...",
 * a bare "routes" when it owns none.  Nothing known then, nor when nobody
 * of our uid (or root) answers within 500 ms (no daemon: the agent's
 * lease; an rtalloc from before --route). */
static void want_ask(const struct proto_lease *l, struct table_want *w)
{
	struct cli_opts o = { .family = l->family };
	struct proto_request key;
	char reply[ROUTEARG_MSG_MAX], err[200];
	size_t n;

	w->known = false;
	if (strlen(l->ifname) >= sizeof(o.ifname) || addr_parse(l->family, l->address, &o.addr) < 0)
		return;
	memcpy(o.ifname, l->ifname, strlen(l->ifname) + 1);
	key = cli_lease_key(&o);
	if (owner_ask(&key, "routes?", 500, reply, sizeof(reply)) < 0)
		return;
	n = strlen(reply);
	if (n < 7 || memcmp(reply, "routes\n", 7))
		return;
	if (route_arg_msg_parse(l->family, reply + 7, w->r, &w->n, err, sizeof(err)) == 0)
		w->known = true;
}

size_t tables_check(const struct proto_lease *leases, size_t nleases,
		    const struct krule *rules, size_t nrules, FILE *out)
{
	struct collect c = { 0 };
	struct table_want *want = NULL;
	struct kernel *k = NULL;
	struct table_view v;
	size_t diffs = 0;
	int ret;

	ret = kernel_netlink_open(&k, 0);
	if (ret == 0)
		ret = kernel_dump(k, KOBJ_LINK, NULL, collect_cb, &c);
	if (ret == 0)
		ret = kernel_dump(k, KOBJ_ROUTE, NULL, collect_cb, &c);
	if (ret == 0)
		ret = c.err;
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --status: cannot read the routes: %s\n", strerror(-ret));
		diffs = 1;
		goto cleanup;
	}
	want = calloc(nleases ? nleases : 1, sizeof(*want));
	if (!want) {
		diffs = 1;
		goto cleanup;
	}
	for (size_t i = 0; i < nleases; i++)
		if (leases[i].family == AF_INET || leases[i].family == AF_INET6)
			want_ask(&leases[i], &want[i]);
	v = (struct table_view){ .rules = rules, .nrules = nrules, .routes = c.routes.v,
				 .nroutes = c.routes.n, .links = c.links, .nlinks = c.nlinks };
	diffs = tables_compare(leases, nleases, want, &v, out);
cleanup:
	free(want);
	free(c.links);
	kroute_set_free(&c.routes);
	kernel_close(k);
	return diffs;
}
