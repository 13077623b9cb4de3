/* agentstatus: routes missing from the agent's tables, for --status. */
#include <errno.h>
#include <string.h>

#include "agent.h"
#include "agentstatus.h"

static const char *fam(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

int agentstatus_lease(const struct engine *e, const struct proto_lease *l, struct kroute_set *want,
		      struct kroute_set *missing)
{
	struct krule_set rules = { 0 };
	const struct kaddr *a;
	const struct elink *link;
	const struct etable *t;
	struct uplink u;
	struct inet_addr ia;
	int ret = 0;

	want->n = missing->n = 0;
	if (addr_parse(l->family, l->address, &ia) < 0)
		return -EINVAL;
	a = engine_addr(e, &ia);
	link = a ? engine_link(e, a->ifindex) : NULL;
	if (!a || !link || strcmp(link->l.name, l->ifname))
		return -ENOENT;
	memset(&u, 0, sizeof(u));
	u.key.family = (uint8_t)l->family;
	u.key.addr = ia;
	snprintf(u.key.ifname, sizeof(u.key.ifname), "%s", l->ifname);
	u.ifindex = a->ifindex;
	u.prefixlen = a->prefixlen;
	u.table = l->table;
	if (engine_desired(e, &u, &rules, want) < 0) {
		ret = -ENOMEM;
		goto cleanup;
	}
	t = engine_table(e, u.key.family, u.table);
	for (size_t j = 0; j < want->n && !ret; j++) {
		bool have = false;

		for (size_t k = 0; t && k < t->routes.n && !have; k++)
			have = kroute_equal(&t->routes.v[k], &want->v[j]);
		if (!have)
			ret = kroute_set_add(missing, &want->v[j]);
	}
cleanup:
	krule_set_free(&rules);
	return ret;
}

size_t agentstatus_compare(const struct engine *e, const struct proto_lease *leases, size_t n,
			   FILE *out)
{
	struct kroute_set want = { 0 }, miss = { 0 };
	size_t missing = 0;
	char buf[200];

	for (size_t i = 0; i < n; i++) {
		const struct proto_lease *l = &leases[i];
		int ret;

		if (strcmp(l->tag, AGENT_TAG) || (l->family != AF_INET && l->family != AF_INET6))
			continue;
		ret = agentstatus_lease(e, l, &want, &miss);
		if (ret == -EINVAL)
			continue;
		if (ret == -ENOENT) {
			/* Gone: the agent releases it; --status's rule check
			 * names what is left of it. */
			fprintf(out, "agent uplink: %s %s on %s, table %u: address not on the interface\n",
				fam(l->family), l->address, l->ifname, l->table);
			continue;
		}
		if (ret < 0) {
			fprintf(out, "out of memory\n");
			missing++;
			break;
		}
		fprintf(out, "agent uplink: %s %s on %s, table %u: %zu route%s to copy\n", fam(l->family),
			l->address, l->ifname, l->table, want.n, want.n == 1 ? "" : "s");
		/* A never-default uplink nobody gave a gateway: its own
		 * traffic has nowhere to go but its link. */
		{
			const struct etable *t = engine_table(e, (uint8_t)l->family, l->table);
			bool dflt = false;

			for (size_t k = 0; t && k < t->routes.n && !dflt; k++)
				dflt = !t->routes.v[k].dst_len;
			if (!dflt)
				fprintf(out, "agent uplink: %s %s on %s, table %u: no default route "
					"(main has none through %s and no hint or router says where: "
					"rtalloc hint %s --gateway GW)\n", fam(l->family), l->address,
					l->ifname, l->table, l->ifname, l->ifname);
		}
		for (size_t j = 0; j < miss.n; j++)
			fprintf(out, "missing route: %s %s on %s, table %u: no `%s` (dev %s)\n",
				fam(l->family), l->address, l->ifname, l->table,
				kroute_str(&miss.v[j], buf, sizeof(buf)), l->ifname);
		missing += miss.n;
	}
	kroute_set_free(&want);
	kroute_set_free(&miss);
	return missing;
}

static bool manage_none(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	(void)e;
	(void)family;
	(void)ifname;
	(void)pol;
	return false;
}

static const struct engine_ops status_ops = { .manage = manage_none };

int agentstatus_load(struct kernel **k, struct engine *e)
{
	int ret = kernel_netlink_open(k, 0);

	if (ret < 0)
		return ret;
	engine_init(e, *k, &status_ops, NULL, AGENT_TAG);
	ret = engine_load(e);
	if (ret < 0) {
		engine_free(e);
		kernel_close(*k);
		*k = NULL;
	}
	return ret;
}

size_t agentstatus_routes(const struct proto_lease *leases, size_t n, FILE *out)
{
	struct kernel *k = NULL;
	struct engine e;
	size_t missing = 0;
	bool any = false;
	int ret;

	for (size_t i = 0; i < n && !any; i++)
		any = !strcmp(leases[i].tag, AGENT_TAG);
	if (!any)
		return 0;	/* no agent uplinks: nothing to read */
	ret = agentstatus_load(&k, &e);
	if (ret < 0) {
		fprintf(out, "cannot read the routes: %s\n", strerror(-ret));
		return 1;
	}
	missing = agentstatus_compare(&e, leases, n, out);
	engine_free(&e);
	kernel_close(k);
	return missing;
}
