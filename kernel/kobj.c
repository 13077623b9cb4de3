/* kobj: comparisons, sets and log text of the engine's kernel objects. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "kobj.h"

int kobj_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*v, ncap * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int krule_set_add(struct krule_set *s, const struct krule *r)
{
	int ret = kobj_grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v));

	if (ret < 0)
		return ret;
	s->v[s->n++] = *r;
	return 0;
}

void krule_set_del_at(struct krule_set *s, size_t i)
{
	if (i < s->n)
		s->v[i] = s->v[--s->n];
}

void krule_set_free(struct krule_set *s)
{
	if (!s)
		return;
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int kroute_set_add(struct kroute_set *s, const struct kroute *r)
{
	int ret = kobj_grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v));

	if (ret < 0)
		return ret;
	s->v[s->n++] = *r;
	return 0;
}

void kroute_set_del_at(struct kroute_set *s, size_t i)
{
	if (i < s->n)
		s->v[i] = s->v[--s->n];
}

void kroute_set_free(struct kroute_set *s)
{
	if (!s)
		return;
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool prefix_equal(const struct inet_addr *a, const struct inet_addr *b, uint8_t len, size_t alen)
{
	struct inet_addr x = *a, y = *b;

	if (!len)
		return true;
	addr_mask(&x, len);
	addr_mask(&y, len);
	return !memcmp(x.bytes, y.bytes, alen);
}

static bool opt_addr_equal(const struct inet_addr *a, const struct inet_addr *b, size_t alen)
{
	if (a->family != b->family)
		return false;
	return !a->family || !memcmp(a->bytes, b->bytes, alen);
}

bool krule_equal(const struct krule *a, const struct krule *b)
{
	size_t len = addr_len(a->family);

	return a->family == b->family && a->pref == b->pref && a->table == b->table &&
	       a->unreachable == b->unreachable && a->proto == b->proto && a->src_len == b->src_len && a->dst_len == b->dst_len &&
	       prefix_equal(&a->src, &b->src, a->src_len, len) &&
	       prefix_equal(&a->dst, &b->dst, a->dst_len, len) &&
	       !strcmp(a->iif, b->iif) && a->has_fwmark == b->has_fwmark &&
	       (!a->has_fwmark || (a->fwmark == b->fwmark && a->fwmask == b->fwmask)) &&
	       a->has_suppress == b->has_suppress && (!a->has_suppress || a->suppress == b->suppress);
}

bool krule_in(const struct krule *r, const struct krule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (krule_equal(r, &v[i]))
			return true;
	return false;
}

bool krule_is_track(const struct krule *r)
{
	return r->proto == RTPROT_RTALLOC && r->pref >= KPREF_TRACK_MAIN &&
	       r->pref <= KPREF_TRACK_FORWARD;
}

bool kneigh_is_router(const struct kneigh *n)
{
	return !n->del && (n->flags & NTF_ROUTER) && !(n->state & (NUD_FAILED | NUD_INCOMPLETE));
}

bool kroute_same_key(const struct kroute *a, const struct kroute *b)
{
	size_t len = addr_len(a->family);

	if (a->family != b->family || a->table != b->table || a->dst_len != b->dst_len ||
	    a->metric != b->metric || !prefix_equal(&a->dst, &b->dst, a->dst_len, len))
		return false;
	if (a->family == AF_INET)
		return true;
	return a->oif == b->oif && opt_addr_equal(&a->gw, &b->gw, len);
}

bool kroute_equal(const struct kroute *a, const struct kroute *b)
{
	size_t len = addr_len(a->family);

	return kroute_same_key(a, b) && a->oif == b->oif && opt_addr_equal(&a->gw, &b->gw, len) &&
	       opt_addr_equal(&a->src, &b->src, len) && a->type == b->type && a->proto == b->proto &&
	       a->scope == b->scope && a->onlink == b->onlink;
}

bool kaddr_same(const struct kaddr *a, const struct kaddr *b)
{
	return a->family == b->family && a->ifindex == b->ifindex && a->prefixlen == b->prefixlen &&
	       !memcmp(a->addr.bytes, b->addr.bytes, addr_len(a->family));
}

/* Appends to buf at *n, never past len. */
static void put(char *buf, size_t len, int *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, int *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n < 0 || (size_t)*n >= len)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *n, len - (size_t)*n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += k;
}

const char *krule_str(const struct krule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n = 0;

	buf[0] = '\0';
	put(buf, len, &n, "pref %u", r->pref);
	if (r->src_len)
		put(buf, len, &n, " from %s/%u", addr_str(&r->src, a, sizeof(a)), r->src_len);
	if (r->dst_len)
		put(buf, len, &n, " to %s/%u", addr_str(&r->dst, a, sizeof(a)), r->dst_len);
	if (r->iif[0])
		put(buf, len, &n, " iif %s", r->iif);
	if (r->has_fwmark)
		put(buf, len, &n, " fwmark 0x%x/0x%x", r->fwmark, r->fwmask);
	if (r->unreachable)
		put(buf, len, &n, " unreachable");
	else
		put(buf, len, &n, " lookup %u", r->table);
	if (r->has_suppress)
		put(buf, len, &n, " suppress_prefixlength %u", r->suppress);
	return buf;
}

const char *kroute_str(const struct kroute *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n = 0;

	buf[0] = '\0';
	if (!r->dst_len)
		put(buf, len, &n, "default");
	else
		put(buf, len, &n, "%s/%u", addr_str(&r->dst, a, sizeof(a)), r->dst_len);
	if (r->gw.family)
		put(buf, len, &n, " via %s", addr_str(&r->gw, a, sizeof(a)));
	if (r->oif)
		put(buf, len, &n, " dev #%d", r->oif);
	if (r->src.family)
		put(buf, len, &n, " src %s", addr_str(&r->src, a, sizeof(a)));
	put(buf, len, &n, " metric %u table %u", r->metric, r->table);
	return buf;
}
