/* reconcile: desired rules and routes against the kernel's, as a plan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

void kplan_reset(struct kplan *p)
{
	p->n = p->adds = p->dels = 0;
}

void kplan_free(struct kplan *p)
{
	if (!p)
		return;
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int push(struct kplan *p, const struct kchange *c)
{
	if (kobj_grow((void **)&p->v, &p->cap, p->n, sizeof(*p->v)) < 0)
		return -ENOMEM;
	p->v[p->n++] = *c;
	if (c->add)
		p->adds++;
	else
		p->dels++;
	return 0;
}

static bool route_in(const struct kroute_set *s, const struct kroute *r)
{
	for (size_t i = 0; i < s->n; i++)
		if (kroute_equal(&s->v[i], r))
			return true;
	return false;
}

/* A stale route whose place a wanted route of its key takes. */
static bool route_displaced(const struct kroute_set *want, const struct kroute *r)
{
	for (size_t i = 0; i < want->n; i++)
		if (kroute_same_key(&want->v[i], r))
			return true;
	return false;
}

int reconcile(const struct krule_set *want_rules, const struct kroute_set *want_routes,
	      const struct krule_set *have_rules, const struct kroute_set *have_routes,
	      struct kplan *plan)
{
	struct kchange c;
	int ret;

	for (size_t i = 0; i < have_routes->n; i++) {
		const struct kroute *r = &have_routes->v[i];

		if (r->family == AF_INET6 && !route_in(want_routes, r) && route_displaced(want_routes, r)) {
			c = (struct kchange){ .type = KOBJ_ROUTE, .add = false, .route = *r };
			if ((ret = push(plan, &c)) < 0)
				return ret;
		}
	}
	for (size_t i = 0; i < want_routes->n; i++) {
		if (route_in(have_routes, &want_routes->v[i]))
			continue;
		c = (struct kchange){ .type = KOBJ_ROUTE, .add = true, .route = want_routes->v[i] };
		if ((ret = push(plan, &c)) < 0)
			return ret;
	}
	for (size_t i = 0; i < want_rules->n; i++) {
		if (krule_in(&want_rules->v[i], have_rules->v, have_rules->n))
			continue;
		c = (struct kchange){ .type = KOBJ_RULE, .add = true, .rule = want_rules->v[i] };
		if ((ret = push(plan, &c)) < 0)
			return ret;
	}
	for (size_t i = 0; i < have_rules->n; i++) {
		if (krule_in(&have_rules->v[i], want_rules->v, want_rules->n))
			continue;
		c = (struct kchange){ .type = KOBJ_RULE, .add = false, .rule = have_rules->v[i] };
		if ((ret = push(plan, &c)) < 0)
			return ret;
	}
	/* IPv6's displaced went first; IPv4's the addition replaced. */
	for (size_t i = 0; i < have_routes->n; i++) {
		const struct kroute *r = &have_routes->v[i];

		if (route_in(want_routes, r) || route_displaced(want_routes, r))
			continue;
		c = (struct kchange){ .type = KOBJ_ROUTE, .add = false, .route = *r };
		if ((ret = push(plan, &c)) < 0)
			return ret;
	}
	return 0;
}
