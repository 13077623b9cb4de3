/* show: `rtalloc show [UPLINK] [--json]`, the agent's uplinks by name, as
 * `networkctl status` or `wg show` show theirs: link, addresses with their
 * tables, gateways, the routes of their tables (missing ones named), DNS
 * servers, rtalloc-track's health and unbound choice, bindings and exec
 * users with their marks (the agent's control socket), MPTCP endpoints;
 * then the server's leases.
 *
 * Uplinks are the interfaces of the agent's leases (tag rtalloc-agent) and
 * the kernel's links agent.json names.  Exit status as --status: 0 when
 * the kernel is as rtalloc wants it (whatever the health), 6 when not. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agentcfg.h"
#include "agentstatus.h"
#include "cli.h"
#include "exec.h"
#include "health.h"
#include "kmptcp.h"
#include "lease.h"
#include "mark.h"
#include "owner.h"
#include "show.h"
#include "status.h"

#define SHOW_DNS_MAX 8
#define USERS_WAIT_MS 1000	/* the agent answers "users" */

/* An exec user or a cgroup binding as the agent has it ("users"). */
struct show_user {
	bool exec;			/* else a cgroup binding */
	bool strict;
	char ifname[IFNAMSIZ];
	uint32_t mark, mask;
	int pid;			/* exec */
	unsigned uid;			/* exec */
	char cgroup[BINDING_CGROUP_MAX];	/* binding */
};

struct show_addr {
	struct kaddr a;
	uint32_t table;			/* the agent's lease, 0: none */
};

struct show_uplink {
	char ifname[IFNAMSIZ];
	const struct elink *link;	/* NULL: no such link */
	struct show_addr *addrs;
	size_t naddrs;
	struct kroute_set gws;		/* main's default routes through it */
	size_t routes;			/* in its addresses' tables */
	struct kroute_set missing;
	struct inet_addr dns[SHOW_DNS_MAX];
	size_t ndns;
	struct health_view health;
	bool tracked;
	const struct binding *bind[BINDINGS_MAX];
	size_t nbind;
	const struct show_user **users;	/* of s->users, this uplink's */
	size_t nusers;
	struct mptcp_ep eps[MPTCP_ENDPOINTS_MAX];
	size_t neps;
	size_t diffs;			/* differences of its leases' rules and routes */
};

struct show {
	struct proto_lease *leases;
	size_t nleases;
	struct krule *rules;
	size_t nrules;
	struct engine e;
	struct kernel *k;
	struct agentcfg cfg;
	bool have_cfg;
	struct show_uplink *up;
	size_t nup;
	int64_t free_inet, free_inet6;
	struct show_user *users;	/* the agent's exec users and cgroup bindings */
	size_t nusers;
	bool users_known;		/* the agent told them ("end"): else exec is null */
	struct mptcp_ep eps[MPTCP_ENDPOINTS_MAX];	/* the kernel's MPTCP endpoints */
	size_t neps;
	size_t diffs;			/* the whole comparison's */
	bool colour;
	FILE *devnull;			/* the comparisons' lines go there */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc show [-d SOCKET] [-c AGENT_CONFIG] [--json] [UPLINK]\n"
		"Shows each uplink of rtalloc-agent (or UPLINK): link, addresses and their\n"
		"tables, gateways, routes, DNS servers, health, unbound traffic, bindings\n"
		"and exec users with their marks and policy, MPTCP endpoints; then the leases.  Exit 0 when the kernel is as rtalloc\n"
		"wants it, 6 when something differs (see rtalloc --status).\n");
}

static const char *fam(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

static struct show_uplink *uplink_get(struct show *s, const char *ifname)
{
	struct show_uplink *u;

	for (size_t i = 0; i < s->nup; i++)
		if (!strcmp(s->up[i].ifname, ifname))
			return &s->up[i];
	u = realloc(s->up, (s->nup + 1) * sizeof(*u));
	if (!u)
		return NULL;
	s->up = u;
	u = &s->up[s->nup++];
	memset(u, 0, sizeof(*u));
	snprintf(u->ifname, sizeof(u->ifname), "%s", ifname);
	return u;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct show_uplink *)a)->ifname, ((const struct show_uplink *)b)->ifname);
}

/* The servers-file the hooks (and the agent) keep for dnsmasq: lines
 * `server=DNS@IFACE[@SOURCE]`. */
static void dns_read(struct show_uplink *u)
{
	const char *path = getenv("RTALLOC_DNSMASQ_SERVERS");
	char line[256];
	FILE *f;

	f = fopen(path && path[0] ? path : "/run/rtalloc/dnsmasq-servers.conf", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && u->ndns < SHOW_DNS_MAX) {
		char *at, *dev, *end;
		struct inet_addr a;

		if (strncmp(line, "server=", 7))
			continue;
		at = strchr(line + 7, '@');
		if (!at)
			continue;
		*at = 0;
		dev = at + 1;
		end = dev + strcspn(dev, "@\n");
		*end = 0;
		if (strcmp(dev, u->ifname) || addr_parse(AF_UNSPEC, line + 7, &a) < 0)
			continue;
		u->dns[u->ndns++] = a;
	}
	fclose(f);
}

static uint32_t lease_table(const struct show *s, const struct show_uplink *u, const struct kaddr *a)
{
	char buf[INET6_ADDRSTRLEN];

	addr_str(&a->addr, buf, sizeof(buf));
	for (size_t i = 0; i < s->nleases; i++) {
		const struct proto_lease *l = &s->leases[i];

		if (l->family == a->family && !strcmp(l->tag, AGENT_TAG) && !strcmp(l->ifname, u->ifname) &&
		    !strcmp(l->address, buf))
			return l->table;
	}
	return 0;
}

/* This uplink's part of the comparison: its leases against the rules of
 * their tables, and the routes missing from them. */
static int uplink_compare(struct show *s, struct show_uplink *u)
{
	struct proto_lease *mine = calloc(s->nleases + 1, sizeof(*mine));
	struct krule *rules = calloc(s->nrules + 1, sizeof(*rules));
	struct kroute_set want = { 0 }, miss = { 0 };
	size_t n = 0, nr = 0;
	int ret = 0;

	if (!mine || !rules) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < s->nleases; i++)
		if (!strcmp(s->leases[i].ifname, u->ifname) && !strcmp(s->leases[i].tag, AGENT_TAG))
			mine[n++] = s->leases[i];
	for (size_t i = 0; i < s->nrules; i++)
		for (size_t j = 0; j < n; j++)
			if (s->rules[i].table == mine[j].table && s->rules[i].family == mine[j].family) {
				rules[nr++] = s->rules[i];
				break;
			}
	u->diffs = status_compare(mine, n, rules, nr, s->devnull);
	for (size_t i = 0; i < n && ret >= 0; i++) {
		ret = agentstatus_lease(&s->e, &mine[i], &want, &miss);
		if (ret == -ENOENT || ret == -EINVAL) {
			ret = 0;
			continue;
		}
		for (size_t j = 0; j < miss.n && ret >= 0; j++)
			ret = kroute_set_add(&u->missing, &miss.v[j]);
	}
	u->diffs += u->missing.n;
cleanup:
	kroute_set_free(&want);
	kroute_set_free(&miss);
	free(mine);
	free(rules);
	return ret;
}

static int uplink_fill(struct show *s, struct show_uplink *u)
{
	for (size_t i = 0; i < s->e.nlinks; i++)
		if (!strcmp(s->e.links[i].l.name, u->ifname))
			u->link = &s->e.links[i];
	if (u->link) {
		for (size_t i = 0; i < s->e.naddrs; i++) {
			const struct kaddr *a = &s->e.addrs[i];
			struct show_addr *p;

			if (a->ifindex != u->link->l.ifindex || a->scope != RT_SCOPE_UNIVERSE)
				continue;
			p = realloc(u->addrs, (u->naddrs + 1) * sizeof(*p));
			if (!p)
				return -ENOMEM;
			u->addrs = p;
			p[u->naddrs].a = *a;
			p[u->naddrs].table = lease_table(s, u, a);
			if (p[u->naddrs].table) {
				const struct etable *et = engine_table(&s->e, a->family, p[u->naddrs].table);

				u->routes += et ? et->routes.n : 0;
			}
			u->naddrs++;
		}
		for (size_t i = 0; i < u->link->main.n; i++) {
			const struct kroute *r = &u->link->main.v[i];

			if (!r->dst_len && r->gw.family && kroute_set_add(&u->gws, r) < 0)
				return -ENOMEM;
		}
	}
	for (size_t i = 0; s->have_cfg && i < s->cfg.nbindings; i++)
		if (!strcmp(s->cfg.bindings[i].uplink, u->ifname))
			u->bind[u->nbind++] = &s->cfg.bindings[i];
	for (size_t i = 0; i < s->nusers; i++) {
		const struct show_user **p;

		if (strcmp(s->users[i].ifname, u->ifname))
			continue;
		p = realloc(u->users, (u->nusers + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		u->users = p;
		u->users[u->nusers++] = &s->users[i];
	}
	for (size_t i = 0; i < s->neps; i++) {
		bool mine = u->link && s->eps[i].ifindex == u->link->l.ifindex;

		for (size_t j = 0; j < u->naddrs && !mine; j++)
			mine = s->eps[i].addr.family == u->addrs[j].a.family &&
			       !memcmp(s->eps[i].addr.bytes, u->addrs[j].a.addr.bytes, addr_len(s->eps[i].addr.family));
		if (mine)
			u->eps[u->neps++] = s->eps[i];
	}
	dns_read(u);
	u->tracked = health_view_get(u->ifname, AF_UNSPEC, &u->health) == 0;
	return uplink_compare(s, u);
}

static void uplink_free(struct show_uplink *u)
{
	free(u->users);
	free(u->addrs);
	kroute_set_free(&u->gws);
	kroute_set_free(&u->missing);
}

static const char *link_state(const struct show_uplink *u)
{
	return !u->link ? "absent" : u->link->l.up ? "up" : "down";
}

static const char *uplink_state(const struct show_uplink *u)
{
	return u->diffs ? "differs" : "configured";
}

/* MPTCP_PM_ADDR_FLAG_* by bit. */
static const char *const ep_flags[] = { "signal", "subflow", "backup", "fullmesh", "implicit" };

static const char *binding_kind(const struct binding *b)
{
	return b->kind == BINDING_CGROUP ? "cgroup" : b->kind == BINDING_FROM ? "from" : "iif";
}

/* The agent's user of cgroup binding b, or NULL. */
static const struct show_user *binding_user(const struct show_uplink *u, const struct binding *b)
{
	for (size_t i = 0; b->kind == BINDING_CGROUP && i < u->nusers; i++)
		if (!u->users[i]->exec && u->users[i]->strict == b->strict && !strcmp(u->users[i]->cgroup, b->cgroup))
			return u->users[i];
	return NULL;
}

static const char *binding_str(const struct binding *b, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (b->kind == BINDING_CGROUP)
		snprintf(buf, len, "%s", b->cgroup);
	else if (b->kind == BINDING_FROM)
		snprintf(buf, len, "%s/%u", addr_str(&b->from, a, sizeof(a)), b->from_len);
	else
		snprintf(buf, len, "%s", b->iif);
	return buf;
}

/* ---- JSON ---- */

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

/* v as a JSON number with at most digits decimals (as the human output
 * shows it: 0.3, not 0.30000000000000004). */
static struct json_object *jround(double v, int digits)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", digits, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static struct json_object *uplink_json(const struct show_uplink *u, bool users_known)
{
	struct json_object *o = json_object_new_object(), *arr, *r, *h, *unb;
	char buf[BINDING_CGROUP_MAX + 8];

	json_object_object_add(o, "interface", jstr(u->ifname));
	json_object_object_add(o, "link", jstr(link_state(u)));
	json_object_object_add(o, "state", jstr(uplink_state(u)));
	arr = json_object_new_array();
	for (size_t i = 0; i < u->naddrs; i++) {
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, "family", jstr(fam(u->addrs[i].a.family)));
		json_object_object_add(a, "address", jstr(addr_str(&u->addrs[i].a.addr, buf, sizeof(buf))));
		json_object_object_add(a, "prefixlen", json_object_new_int(u->addrs[i].a.prefixlen));
		json_object_object_add(a, "table", u->addrs[i].table ?
				       json_object_new_int64(u->addrs[i].table) : NULL);
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "addresses", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < u->gws.n; i++)
		json_object_array_add(arr, jstr(addr_str(&u->gws.v[i].gw, buf, sizeof(buf))));
	json_object_object_add(o, "gateways", arr);
	r = json_object_new_object();
	json_object_object_add(r, "count", json_object_new_int64((int64_t)u->routes));
	arr = json_object_new_array();
	for (size_t i = 0; i < u->missing.n; i++) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "table", json_object_new_int64(u->missing.v[i].table));
		json_object_object_add(m, "route", jstr(kroute_str(&u->missing.v[i], buf, sizeof(buf))));
		json_object_array_add(arr, m);
	}
	json_object_object_add(r, "missing", arr);
	json_object_object_add(o, "routes", r);
	arr = json_object_new_array();
	for (size_t i = 0; i < u->ndns; i++)
		json_object_array_add(arr, jstr(addr_str(&u->dns[i], buf, sizeof(buf))));
	json_object_object_add(o, "dns", arr);
	h = NULL;
	if (u->tracked) {
		h = json_object_new_object();
		json_object_object_add(h, "state", jstr(u->health.state));
		json_object_object_add(h, "since", json_object_new_int64(u->health.since));
		json_object_object_add(h, "loss", jround(u->health.loss, 1));
		json_object_object_add(h, "rtt_ms", jround(u->health.rtt_ms, 3));
	}
	json_object_object_add(o, "health", h);
	unb = json_object_new_object();
	json_object_object_add(unb, "inet", json_object_new_boolean(u->health.unbound4));
	json_object_object_add(unb, "inet6", json_object_new_boolean(u->health.unbound6));
	json_object_object_add(o, "unbound", unb);
	arr = json_object_new_array();
	for (size_t i = 0; i < u->nbind; i++) {
		struct json_object *b = json_object_new_object();

		const struct show_user *us = binding_user(u, u->bind[i]);

		binding_str(u->bind[i], buf, sizeof(buf));
		json_object_object_add(b, binding_kind(u->bind[i]), jstr(buf));
		json_object_object_add(b, "policy", jstr(u->bind[i]->strict ? "strict" : "default"));
		json_object_object_add(b, "mark", us ? json_object_new_int64(us->mark) : NULL);
		json_object_object_add(b, "mark_mask", us ? json_object_new_int64(us->mask) : NULL);
		json_object_array_add(arr, b);
	}
	json_object_object_add(o, "bindings", arr);
	/* null, not [], when the agent did not tell (not running, or the
	 * caller is neither root nor in exec_gids) */
	arr = users_known ? json_object_new_array() : NULL;
	for (size_t i = 0; arr && i < u->nusers; i++) {
		const struct show_user *us = u->users[i];
		struct json_object *x;

		if (!us->exec)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "pid", json_object_new_int(us->pid));
		json_object_object_add(x, "uid", json_object_new_int64(us->uid));
		json_object_object_add(x, "policy", jstr(us->strict ? "strict" : "default"));
		json_object_object_add(x, "mark", json_object_new_int64(us->mark));
		json_object_object_add(x, "mark_mask", json_object_new_int64(us->mask));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "exec", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < u->neps; i++) {
		struct json_object *m = json_object_new_object(), *f = json_object_new_array();

		json_object_object_add(m, "id", json_object_new_int(u->eps[i].id));
		json_object_object_add(m, "address", jstr(addr_str(&u->eps[i].addr, buf, sizeof(buf))));
		for (size_t b = 0; b < sizeof(ep_flags) / sizeof(ep_flags[0]); b++)
			if (u->eps[i].flags & (1u << b))
				json_object_array_add(f, jstr(ep_flags[b]));
		json_object_object_add(m, "flags", f);
		json_object_array_add(arr, m);
	}
	json_object_object_add(o, "mptcp", arr);
	return o;
}

static void print_json(const struct show *s)
{
	struct json_object *root = json_object_new_object(), *ups = json_object_new_array(), *l, *f;

	for (size_t i = 0; i < s->nup; i++)
		json_object_array_add(ups, uplink_json(&s->up[i], s->users_known));
	json_object_object_add(root, "uplinks", ups);
	l = json_object_new_object();
	json_object_object_add(l, "used", json_object_new_int64((int64_t)s->nleases));
	f = NULL;
	if (s->free_inet >= 0) {
		f = json_object_new_object();
		json_object_object_add(f, "inet", json_object_new_int64(s->free_inet));
		json_object_object_add(f, "inet6", json_object_new_int64(s->free_inet6));
	}
	json_object_object_add(l, "free", f);
	json_object_object_add(root, "leases", l);
	json_object_object_add(root, "consistent", json_object_new_boolean(!s->diffs));
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/* ---- human ---- */

static const char *col(const struct show *s, const char *c)
{
	return s->colour ? c : "";
}
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define BOLD "\033[1m"
#define OFF "\033[0m"

static void row(const char *label, bool first)
{
	printf("%14s%s ", first ? label : "", first ? ":" : " ");
}

static void print_uplink(const struct show *s, const struct show_uplink *u)
{
	const char *dot = u->diffs ? RED : !u->link || !u->link->l.up ? YELLOW : GREEN;
	char buf[BINDING_CGROUP_MAX + 8], since[32];

	printf("%s●%s %s%s%s (%s, %s)\n", col(s, dot), col(s, OFF), col(s, BOLD), u->ifname, col(s, OFF),
	       link_state(u), uplink_state(u));
	for (size_t i = 0; i < u->naddrs || i == 0; i++) {
		row("Addresses", !i);
		if (!u->naddrs) {
			printf("-\n");
			break;
		}
		snprintf(buf, sizeof(buf), "%s/%u", addr_str(&u->addrs[i].a.addr, since, sizeof(since)),
			 u->addrs[i].a.prefixlen);
		if (u->addrs[i].table)
			printf("%-43s table %u\n", buf, u->addrs[i].table);
		else
			printf("%-43s no table\n", buf);
	}
	for (size_t i = 0; i < u->gws.n || i == 0; i++) {
		row("Gateways", !i);
		printf("%s\n", u->gws.n ? addr_str(&u->gws.v[i].gw, buf, sizeof(buf)) : "-");
	}
	row("Routes", true);
	printf("%zu in its tables", u->routes);
	if (u->missing.n)
		printf(", %s%zu missing%s", col(s, RED), u->missing.n, col(s, OFF));
	printf("\n");
	for (size_t i = 0; i < u->missing.n; i++) {
		row("Missing", !i);
		printf("%s%s%s\n", col(s, RED), kroute_str(&u->missing.v[i], buf, sizeof(buf)), col(s, OFF));
	}
	for (size_t i = 0; i < u->ndns || i == 0; i++) {
		row("DNS", !i);
		printf("%s\n", u->ndns ? addr_str(&u->dns[i], buf, sizeof(buf)) : "-");
	}
	row("Health", true);
	if (u->tracked) {
		time_t t = (time_t)u->health.since;
		struct tm tm;
		const char *c = !strcmp(u->health.state, "online") ? GREEN :
				!strcmp(u->health.state, "offline") ? RED : YELLOW;

		if (!localtime_r(&t, &tm) || !strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(since, sizeof(since), "-");
		printf("%s%s%s since %s, loss %.1f%%, rtt %.3f ms\n", col(s, c), u->health.state, col(s, OFF),
		       since, u->health.loss, u->health.rtt_ms);
	} else {
		printf("not tracked (rtalloc-track)\n");
	}
	row("Unbound", true);
	printf("%s\n", u->health.unbound4 && u->health.unbound6 ? "inet, inet6" :
		       u->health.unbound4 ? "inet" : u->health.unbound6 ? "inet6" : "no");
	for (size_t i = 0; i < u->nbind || i == 0; i++) {
		row("Bindings", !i);
		if (!u->nbind) {
			printf("-\n");
			break;
		}
		const struct show_user *us = binding_user(u, u->bind[i]);

		printf("%s %s (%s", binding_kind(u->bind[i]), binding_str(u->bind[i], buf, sizeof(buf)),
		       u->bind[i]->strict ? "strict" : "default");
		if (us)
			printf(", mark 0x%x/0x%x", us->mark, us->mask);
		printf(")\n");
	}
	for (size_t i = 0, n = 0; i < u->nusers || n == 0; i++) {
		if (i >= u->nusers) {
			row("Exec", true);
			printf("%s\n", s->users_known ? "-" : "? (the agent did not tell)");
			break;
		}
		if (!u->users[i]->exec)
			continue;
		row("Exec", !n++);
		printf("pid %d uid %u (%s, mark 0x%x/0x%x)\n", u->users[i]->pid, u->users[i]->uid,
		       u->users[i]->strict ? "strict" : "default", u->users[i]->mark, u->users[i]->mask);
	}
	for (size_t i = 0; i < u->neps || i == 0; i++) {
		row("MPTCP", !i);
		if (!u->neps) {
			printf("-\n");
			break;
		}
		printf("%s id %u", addr_str(&u->eps[i].addr, buf, sizeof(buf)), u->eps[i].id);
		for (size_t b = 0; b < sizeof(ep_flags) / sizeof(ep_flags[0]); b++)
			if (u->eps[i].flags & (1u << b))
				printf(" %s", ep_flags[b]);
		printf("\n");
	}
}

static void print_human(const struct show *s)
{
	for (size_t i = 0; i < s->nup; i++) {
		print_uplink(s, &s->up[i]);
		printf("\n");
	}
	printf("Leases: %zu used", s->nleases);
	if (s->free_inet >= 0)
		printf(", %lld inet and %lld inet6 tables free", (long long)s->free_inet,
		       (long long)s->free_inet6);
	printf("\n");
	if (s->diffs)
		printf("%s%zu difference%s from what rtalloc wants in the kernel (rtalloc --status names them)%s\n",
		       col(s, RED), s->diffs, s->diffs == 1 ? "" : "s", col(s, OFF));
}

/* ---- gathering ---- */

static int gather(struct show *s, const char *socket, unsigned timeout_ms, char *err, size_t errlen)
{
	struct lease_client lc;
	struct nl nl = { 0 };
	int ret;

	ret = lease_open(&lc, socket);
	if (ret < 0) {
		snprintf(err, errlen, "rtallocd @%s: %s", socket, strerror(-ret));
		return EXIT_SYSTEM;
	}
	ret = lease_list(&lc, timeout_ms, &s->leases, &s->nleases, err, errlen);
	s->free_inet = lc.free_inet;
	s->free_inet6 = lc.free_inet6;
	lease_close(&lc);
	if (ret < 0) {
		if (!err[0])
			snprintf(err, errlen, "no lease list from @%s: %s", socket, strerror(-ret));
		return EXIT_NO_LEASE;
	}
	ret = nl_open(&nl, NULL, 0);
	if (ret >= 0)
		ret = status_dump_rules(&nl, &s->rules, &s->nrules);
	nl_close(&nl);
	if (ret >= 0)
		ret = agentstatus_load(&s->k, &s->e);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the kernel's rules and routes: %s", strerror(-ret));
		return EXIT_SYSTEM;
	}
	s->devnull = fopen("/dev/null", "we");
	if (!s->devnull) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	status_set_check(agentstatus_routes);
	s->diffs = status_differences(s->leases, s->nleases, s->rules, s->nrules, s->devnull);
	return 0;
}

/* A pid or uid of the agent's answer, else -1. */
static long long num(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || *end || *s == '-' || !*s || v > UINT32_MAX ? -1 : (long long)v;
}

/* The agent's exec users and cgroup bindings with their marks, asked on
 * its control socket ("users", agent/control.c); none when it does not
 * answer or refuses (a user who is neither root nor in exec_gids). */
static void users_read(struct show *s, const char *socket)
{
	char buf[16384], err[400], *lsave = NULL;
	size_t got = 0;
	int fd = exec_agent_connect(socket, err, sizeof(err));

	if (fd < 0)
		return;
	if (send(fd, "users\n", 6, MSG_NOSIGNAL) != 6)
		goto out;
	while (got + 1 < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		buf[got] = '\0';
		if (!strncmp(buf, "end\n", 4) || strstr(buf, "\nend\n") || !strncmp(buf, "error ", 6))
			break;
		if (poll(&p, 1, USERS_WAIT_MS) <= 0 || (r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) <= 0)
			goto out;
		got += (size_t)r;
	}
	buf[got] = '\0';
	s->users_known = !strncmp(buf, "end\n", 4) || strstr(buf, "\nend\n");
	for (char *line = strtok_r(buf, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
		struct show_user us = { .exec = !strncmp(line, "exec ", 5) }, *p;
		char *v[7] = { NULL }, *fsave = NULL;
		size_t n = 0;
		long long pid = 0, uid = 0;
		uint32_t mark = 0, mask = 0;

		for (char *t = strtok_r(line, " ", &fsave); t && n < 7; t = strtok_r(NULL, " ", &fsave))
			v[n++] = t;
		if (n != (us.exec ? 7u : 6u) || (!us.exec && strcmp(v[0], "cgroup")) || !ifname_valid(v[1]) ||
		    mark_parse(v[3], &mark, NULL) < 0 || mark_parse(v[4], &mask, NULL) < 0 ||
		    (us.exec && ((pid = num(v[5])) < 0 || (uid = num(v[6])) < 0)))
			continue;
		snprintf(us.ifname, sizeof(us.ifname), "%s", v[1]);
		us.strict = !strcmp(v[2], "strict");
		us.mark = mark;
		us.mask = mask;
		us.pid = (int)pid;
		us.uid = (unsigned)uid;
		if (!us.exec)
			snprintf(us.cgroup, sizeof(us.cgroup), "%s", v[5]);
		p = realloc(s->users, (s->nusers + 1) * sizeof(*p));
		if (!p)
			break;
		s->users = p;
		s->users[s->nusers++] = us;
	}
out:
	close(fd);
}

static int uplinks_find(struct show *s)
{
	for (size_t i = 0; i < s->nleases; i++)
		if (!strcmp(s->leases[i].tag, AGENT_TAG) && !uplink_get(s, s->leases[i].ifname))
			return -ENOMEM;
	if (s->have_cfg) {
		for (size_t i = 0; i < s->e.nlinks; i++) {
			struct uplink_policy pol;
			const char *name = s->e.links[i].l.name;

			if ((agentcfg_manages(&s->cfg, AF_INET, name, &pol) ||
			     agentcfg_manages(&s->cfg, AF_INET6, name, &pol)) && !uplink_get(s, name))
				return -ENOMEM;
		}
	}
	if (s->nup)
		qsort(s->up, s->nup, sizeof(*s->up), by_name);
	return 0;
}

int show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket = PROTO_DEFAULT_SOCKET, *cfgpath = "/etc/rtalloc/agent.json", *only = NULL;
	bool json = false, cfg_given = false;
	const char *no_color;
	struct show s;
	char err[256] = "";
	int c, rc;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((c = getopt_long(argc, argv, "jd:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			socket = optarg;
			break;
		case 'c':
			cfgpath = optarg;
			cfg_given = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_LEASED;
		default:
			fprintf(stderr, "rtalloc: show: see `rtalloc show --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		only = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "rtalloc: show: one UPLINK at most, got also `%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (only && !ifname_valid(only)) {
		fprintf(stderr, "rtalloc: show: not an interface name: `%s'\n", only);
		return EXIT_USAGE;
	}
	if (strlen(socket) >= sizeof(((struct agentcfg *)0)->socket_path)) {
		fprintf(stderr, "rtalloc: show: -d: name too long\n");
		return EXIT_USAGE;
	}
	agentcfg_defaults(&s.cfg);
	if (agentcfg_load(&s.cfg, cfgpath, err, sizeof(err)) == 0) {
		s.have_cfg = true;
	} else if (cfg_given) {
		fprintf(stderr, "rtalloc: show: %s\n", err);
		return EXIT_USAGE;
	}
	err[0] = 0;
	/* no-color.org: only a NO_COLOR that is set and not empty */
	no_color = getenv("NO_COLOR");
	s.colour = !json && isatty(STDOUT_FILENO) && !(no_color && *no_color);
	rc = gather(&s, socket, 3000, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "rtalloc: show: %s\n", err);
		goto cleanup;
	}
	users_read(&s, socket);
	/* No MPTCP in the kernel: none to show. */
	mptcp_dump(s.eps, MPTCP_ENDPOINTS_MAX, &s.neps);
	if (uplinks_find(&s) < 0) {
		fprintf(stderr, "rtalloc: show: out of memory\n");
		rc = EXIT_SYSTEM;
		goto cleanup;
	}
	if (only) {
		size_t keep = s.nup;

		for (size_t i = 0; i < s.nup; i++)
			if (!strcmp(s.up[i].ifname, only))
				keep = i;
		if (keep == s.nup) {
			fprintf(stderr, "rtalloc: show: `%s' is no uplink of rtalloc-agent\n", only);
			rc = EXIT_USAGE;
			goto cleanup;
		}
		s.up[0] = s.up[keep];
		s.nup = 1;
	}
	for (size_t i = 0; i < s.nup; i++)
		if (uplink_fill(&s, &s.up[i]) < 0) {
			fprintf(stderr, "rtalloc: show: out of memory\n");
			rc = EXIT_SYSTEM;
			goto cleanup;
		}
	if (only)
		s.diffs = s.up[0].diffs;
	if (json)
		print_json(&s);
	else
		print_human(&s);
	rc = s.diffs ? EXIT_INCONSISTENT : EXIT_LEASED;
cleanup:
	for (size_t i = 0; i < s.nup; i++)
		uplink_free(&s.up[i]);
	free(s.up);
	free(s.users);
	if (s.k) {
		engine_free(&s.e);
		kernel_close(s.k);
	}
	free(s.leases);
	free(s.rules);
	if (s.devnull)
		fclose(s.devnull);
	return rc;
}
