/* mainmove: routes taken out of main and put back (mainmove.h). */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "mainmove.h"
#include "safefile.h"

void mainmove_init(struct mainmove *m)
{
	memset(m, 0, sizeof(*m));
	m->rl = (struct ratelimit)RATELIMIT_INIT(10000, 5);
}

void mainmove_free(struct mainmove *m)
{
	kroute_set_free(&m->moved);
}

/* The prefix route the kernel added to main for an IPv4 address of the
 * link (`10.0.0.0/24 dev up1 proto kernel scope link src 10.0.0.7`), or
 * for a static global IPv6 one (permanent: no router advertisement or
 * DHCPv6 lifetime brings the route back behind our back; never fe80::). */
static bool prefix_of_link(const struct engine *e, const struct kroute *r)
{
	for (size_t i = 0; i < e->naddrs; i++) {
		const struct kaddr *ad = &e->addrs[i];
		struct inet_addr net = ad->addr;

		if (ad->family != r->family || ad->ifindex != r->oif || ad->prefixlen != r->dst_len)
			continue;
		if (ad->family == AF_INET6 &&
		    (!(ad->flags & IFA_F_PERMANENT) || ad->scope != RT_SCOPE_UNIVERSE))
			continue;
		addr_mask(&net, ad->prefixlen);
		if (!memcmp(net.bytes, r->dst.bytes, addr_len(r->family)))
			return true;
	}
	return false;
}

/* A default route the link can still carry: it has an address of the
 * family (for IPv6 a link-local one will do: routers are reached by
 * theirs), and the route's preferred source, if it names one.  Without
 * them the tool took the uplink down and the kernel dropped its routes. */
static bool default_of_link(const struct engine *e, const struct kroute *r)
{
	bool any = false, src = !r->src.family;

	for (size_t i = 0; i < e->naddrs; i++) {
		const struct kaddr *ad = &e->addrs[i];

		if (ad->family != r->family || ad->ifindex != r->oif)
			continue;
		any = true;
		if (r->src.family && !memcmp(ad->addr.bytes, r->src.bytes, addr_len(r->family)))
			src = true;
	}
	return any && src;
}

static bool live(const struct engine *e, const struct kroute *r)
{
	if (!engine_link(e, r->oif))
		return false;
	return r->dst_len ? prefix_of_link(e, r) : default_of_link(e, r);
}

static bool is_out(const struct engine *e, int ifindex, int family, mainmove_out_fn out, void *data)
{
	const struct elink *l = engine_link(e, ifindex);

	return l && out(data, l, family);
}

/* What is taken out of main (mainmove.h). */
static bool movable(const struct engine *e, const struct kroute *r, int ifindex, mainmove_out_fn out,
		    void *data)
{
	if (r->table != KTABLE_MAIN || r->type != RTN_UNICAST || r->oif != ifindex || r->multipath ||
	    r->cloned || !is_out(e, ifindex, r->family, out, data))
		return false;
	if (!r->dst_len)
		return r->proto != RTPROT_RA;
	return r->proto == RTPROT_KERNEL && prefix_of_link(e, r);
}

static bool same_dst(const struct kroute *a, const struct kroute *b)
{
	return a->oif == b->oif && a->family == b->family && a->dst_len == b->dst_len &&
	       !memcmp(a->dst.bytes, b->dst.bytes, addr_len(a->family));
}

static bool put_back(struct mainmove *m, struct engine *e, const struct kroute *r, const char *why)
{
	const struct elink *l = engine_link(e, r->oif);
	struct kchange c = { .type = KOBJ_ROUTE, .add = true, .route = *r };
	char buf[200];
	int err = 0;

	if (kernel_apply(e->k, &c, 1, &err) < 0 || err) {
		if (ratelimit_ok(&m->rl, loop_now_ms()))
			log_msg(LOG_WARNING, "%s: cannot put %s back into main: %s", l ? l->l.name : "?",
				kroute_str(r, buf, sizeof(buf)), strerror(err ? -err : EIO));
		return false;
	}
	log_msg(LOG_INFO, "%s: %s back into main (%s)", l ? l->l.name : "?", kroute_str(r, buf, sizeof(buf)),
		why);
	return true;
}

/* Puts back the routes of m->moved that keep(), prefix routes first, and
 * forgets them and those the link can no longer carry. */
static unsigned give_back(struct mainmove *m, struct engine *e, mainmove_out_fn out, void *data)
{
	unsigned n = 0;

	for (int dflt = 0; dflt < 2; dflt++) {
		for (size_t i = 0; i < m->moved.n;) {
			const struct kroute *r = &m->moved.v[i];
			bool alive = live(e, r);

			if ((r->dst_len == 0) != dflt || (alive && out && is_out(e, r->oif, r->family, out, data))) {
				i++;
				continue;
			}
			if (alive && put_back(m, e, r, out ? "no longer out of main" : "stopping"))
				n++;
			kroute_set_del_at(&m->moved, i);
			m->dirty = true;
		}
	}
	return n;
}

unsigned mainmove_sync(struct mainmove *m, struct engine *e, mainmove_out_fn out, void *data)
{
	struct kroute_set now = { 0 };
	unsigned changes = give_back(m, e, out, data);

	for (size_t i = 0; i < e->nlinks; i++) {
		const struct elink *l = &e->links[i];
		struct kchange c = { .type = KOBJ_ROUTE, .add = false };
		char buf[200];
		int err;

		if (!out(data, l, AF_INET) && !out(data, l, AF_INET6))
			continue;
		now.n = 0;
		for (size_t j = 0; j < l->main.n; j++)
			if (movable(e, &l->main.v[j], l->l.ifindex, out, data) &&
			    kroute_set_add(&now, &l->main.v[j]) < 0)
				break;
		/* What the tool set last to a destination replaces what it
		 * set before (a renewal's new router). */
		for (size_t k = 0; k < m->moved.n;) {
			bool again = false;

			for (size_t j = 0; j < now.n && !again; j++)
				again = same_dst(&m->moved.v[k], &now.v[j]);
			if (again) {
				kroute_set_del_at(&m->moved, k);
				m->dirty = true;
			} else
				k++;
		}
		for (size_t j = 0; j < now.n; j++) {
			const struct kroute *r = &now.v[j];

			c.route = *r;
			if (kernel_apply(e->k, &c, 1, &err) < 0 || (err && err != -ESRCH)) {
				if (ratelimit_ok(&m->rl, loop_now_ms()))
					log_msg(LOG_ERR, "%s: cannot take %s out of main: %s", l->l.name,
						kroute_str(r, buf, sizeof(buf)), strerror(err ? -err : EIO));
				continue;
			}
			log_msg(LOG_INFO, "%s: %s taken out of main into its tables (hint --out-of-main)",
				l->l.name, kroute_str(r, buf, sizeof(buf)));
			changes++;
			m->dirty = true;
			if (kroute_set_add(&m->moved, r) < 0)
				log_msg(LOG_ERR, "%s: out of memory: %s is out of main but not in its tables",
					l->l.name, kroute_str(r, buf, sizeof(buf)));
		}
	}
	kroute_set_free(&now);
	return changes;
}

unsigned mainmove_restore(struct mainmove *m, struct engine *e)
{
	return give_back(m, e, NULL, NULL);
}

int mainmove_routes(const struct mainmove *m, const struct uplink *u, bool dflt, struct kroute_set *out)
{
	for (size_t i = 0; i < m->moved.n; i++) {
		const struct kroute *r = &m->moved.v[i];

		if (r->oif == u->ifindex && r->family == u->key.family && (r->dst_len == 0) == dflt &&
		    kroute_set_add(out, r) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* One route a line: IFNAME IFINDEX DST/LEN GW SRC METRIC PROTO SCOPE TYPE
 * ONLINK, "-" for no gateway or source. */
int mainmove_save(struct mainmove *m, const struct engine *e, const char *path)
{
	struct safefile sf;
	char dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
	int ret;

	if (!m->dirty)
		return 0;
	if (!m->moved.n) {
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		m->dirty = false;
		return 0;
	}
	ret = safefile_begin(&sf, path, 0600);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < m->moved.n; i++) {
		const struct kroute *r = &m->moved.v[i];
		const struct elink *l = engine_link(e, r->oif);

		if (!l)
			continue;	/* gone: nothing to put back */
		fprintf(sf.f, "%s %d %s/%u %s %s %u %u %u %u %d\n", l->l.name, r->oif,
			addr_str(&r->dst, dst, sizeof(dst)), r->dst_len,
			r->gw.family ? addr_str(&r->gw, gw, sizeof(gw)) : "-",
			r->src.family ? addr_str(&r->src, src, sizeof(src)) : "-", (unsigned)r->metric,
			r->proto, r->scope, r->type, r->onlink);
	}
	ret = safefile_commit(&sf);
	if (ret == 0)
		m->dirty = false;
	return ret;
}

static int num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -EINVAL : 0;
}

/* A line of mainmove_save's into r and ifname (IFNAMSIZ). */
static int parse_line(char *text, struct kroute *r, char *ifname)
{
	enum { NAME, OIF, DST, GW, SRC, METRIC, PROTO, SCOPE, TYPE, ONLINK, NF };
	unsigned long v[NF] = { 0 };
	char *f[NF], *save = NULL, *slash;
	size_t n = 0;

	for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		if (n == NF)
			return -EINVAL;
		f[n++] = t;
	}
	if (n != NF || strlen(f[NAME]) >= IFNAMSIZ)
		return -EINVAL;
	slash = strchr(f[DST], '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	memset(r, 0, sizeof(*r));
	if (num(f[OIF], INT32_MAX, &v[OIF]) < 0 || !v[OIF] || num(slash + 1, 128, &v[DST]) < 0 ||
	    num(f[METRIC], UINT32_MAX, &v[METRIC]) < 0 || num(f[PROTO], 255, &v[PROTO]) < 0 ||
	    num(f[SCOPE], 255, &v[SCOPE]) < 0 || num(f[TYPE], 255, &v[TYPE]) < 0 ||
	    num(f[ONLINK], 1, &v[ONLINK]) < 0 || addr_parse(AF_UNSPEC, f[DST], &r->dst) < 0 ||
	    v[DST] > addr_len(r->dst.family) * 8u)
		return -EINVAL;
	r->family = (uint8_t)r->dst.family;
	if ((strcmp(f[GW], "-") && addr_parse(r->family, f[GW], &r->gw) < 0) ||
	    (strcmp(f[SRC], "-") && addr_parse(r->family, f[SRC], &r->src) < 0))
		return -EINVAL;
	snprintf(ifname, IFNAMSIZ, "%s", f[NAME]);
	r->table = KTABLE_MAIN;
	r->dst_len = (uint8_t)v[DST];
	r->oif = (int)v[OIF];
	r->metric = (uint32_t)v[METRIC];
	r->proto = (uint8_t)v[PROTO];
	r->scope = (uint8_t)v[SCOPE];
	r->type = (uint8_t)v[TYPE];
	r->onlink = v[ONLINK] != 0;
	return 0;
}

int mainmove_load(struct mainmove *m, const struct engine *e, const char *path, unsigned *line)
{
	char text[256], ifname[IFNAMSIZ];
	FILE *f = fopen(path, "re");
	int ret = 0;

	*line = 0;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(text, sizeof(text), f)) {
		const struct elink *l;
		struct kroute r;

		++*line;
		if (parse_line(text, &r, ifname) < 0) {
			ret = -EINVAL;
			break;
		}
		l = engine_link(e, r.oif);
		if (!l || strcmp(l->l.name, ifname))
			continue;
		if (kroute_set_add(&m->moved, &r) < 0) {
			ret = -ENOMEM;
			break;
		}
	}
	fclose(f);
	if (ret < 0)
		m->moved.n = 0;
	return ret;
}
