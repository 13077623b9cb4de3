/* status: `rtalloc --status` compares what the server says is leased with
 * the rules in the kernel, and names every difference, so an admin sees at
 * once whether a client died without cleaning up, a rule was deleted by hand
 * (or by a network manager that removes foreign rules), or the server lost
 * its leases.  Only our rules (proto 122) are looked at. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "health.h"
#include "kmsg.h"
#include "lease.h"
#include "status.h"
#include "tables.h"

static const char *family_name(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

static bool is_from_rule(const struct krule *r, const struct inet_addr *a)
{
	size_t len = addr_len(r->family);

	return r->src_len == len * 8 && !memcmp(r->src.bytes, a->bytes, len) &&
	       !r->dst_len && !r->iif[0] && !r->has_fwmark;
}

/* Checks one lease against the rules of one family; marks the rules it
 * explains in used[]. */
static size_t compare_one(const struct proto_lease *l, int family, const struct inet_addr *a,
			  const struct krule *rules, size_t nrules, bool *used, FILE *out)
{
	bool from = false, to = false, iif = false, any = false;
	size_t diffs = 0;
	char buf[160];

	for (size_t i = 0; i < nrules; i++) {
		const struct krule *r = &rules[i];

		if (r->family != family)
			continue;
		if (is_from_rule(r, a) && r->table != l->table) {
			fprintf(out, "different table: %s %s on %s leases table %u, but the kernel has `%s`\n",
				family_name(l->family), l->address, l->ifname, l->table,
				krule_str(r, buf, sizeof(buf)));
			used[i] = true;
			diffs++;
			continue;
		}
		if (r->table != l->table)
			continue;
		used[i] = any = true;
		if (is_from_rule(r, a))
			from = true;
		else if (r->dst_len && !r->iif[0])
			to = true;
		else if (!strcmp(r->iif, "lo"))
			iif = true;
	}
	if (!any) {
		/* rtalloc -a ID (unspec) installs no rule: none is no difference. */
		if (!diffs && l->family == AF_UNSPEC)
			return 0;
		if (!diffs)
			fprintf(out, "lease without rules: %s %s on %s, table %u\n",
				family_name(l->family), l->address, l->ifname, l->table);
		return diffs + !diffs;
	}
	/* The `to NETWORK` rule's prefix is the client's business: any `to`
	 * rule into the table counts. */
	if (!from)
		fprintf(out, "missing rule: %s %s on %s, table %u: no `from %s lookup %u`\n",
			family_name(l->family), l->address, l->ifname, l->table, l->address, l->table);
	if (!to)
		fprintf(out, "missing rule: %s %s on %s, table %u: no `to NETWORK lookup %u`\n",
			family_name(l->family), l->address, l->ifname, l->table, l->table);
	if (!iif)
		fprintf(out, "missing rule: %s %s on %s, table %u: no `iif lo lookup %u`\n",
			family_name(l->family), l->address, l->ifname, l->table, l->table);
	return diffs + !from + !to + !iif;
}

size_t status_compare(const struct proto_lease *leases, size_t nleases,
		      const struct krule *rules, size_t nrules, FILE *out)
{
	bool *used = calloc(nrules ? nrules : 1, sizeof(*used));
	size_t diffs = 0;
	char buf[160];

	if (!used) {
		fprintf(out, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < nleases; i++) {
		const struct proto_lease *l = &leases[i];
		struct inet_addr a;
		int family = l->family;

		/* An unspec lease has no rules of rtalloc's (rtalloc -a ID);
		 * rules that name its table are checked in its address's own
		 * family, and one whose key is no address has none to check. */
		if (family == AF_UNSPEC) {
			if (addr_parse(AF_UNSPEC, l->address, &a) < 0)
				continue;
			family = a.family;
		}
		if (addr_parse(family, l->address, &a) < 0) {
			fprintf(out, "bad lease: %s %s on %s: not an address\n", family_name(l->family),
				l->address, l->ifname);
			diffs++;
			continue;
		}
		diffs += compare_one(l, family, &a, rules, nrules, used, out);
	}
	for (size_t i = 0; i < nrules; i++)
		if (!used[i]) {
			fprintf(out, "rule without lease: %s %s\n", family_name(rules[i].family),
				krule_str(&rules[i], buf, sizeof(buf)));
			diffs++;
		}
	free(used);
	return diffs;
}

struct rule_list {
	struct krule *r;
	size_t n, cap;
	size_t start;		/* n before this family's dump */
	int err;
};

/* An interrupted dump restarts from scratch for this family. */
static void dump_restart(void *data)
{
	struct rule_list *rl = data;

	rl->n = rl->start;
}

/* Ours only (FRA_PROTOCOL), not rtalloc-track's. */
static void dump_cb(const struct kevent *ev, void *data)
{
	struct rule_list *rl = data;

	/* Guards (rules_build) look up main, no lease's table; exec rules
	 * (agent/control.c) are no lease's either. */
	if (!kevent_rule_ours(ev) || krule_is_track(&ev->rule) || rule_is_guard(&ev->rule, ev->rule.pref + 1) ||
	    KPREF_IS_EXEC(ev->rule.pref) || rl->err)
		return;
	if (kobj_grow((void **)&rl->r, &rl->cap, rl->n, sizeof(*rl->r)) < 0) {
		rl->err = -ENOMEM;
		return;
	}
	rl->r[rl->n++] = ev->rule;
}

int status_dump_rules(struct nl *nl, struct krule **rules, size_t *n)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct rule_list rl = { 0 };
	int ret = 0;

	for (size_t f = 0; f < 2; f++) {
		struct kfilter kf = { .family = families[f] };

		rl.start = rl.n;
		ret = kmsg_dump_stable(nl, KOBJ_RULE, &kf, dump_cb, &rl, dump_restart);
		if (rl.err)
			ret = rl.err;
		if (ret < 0)
			goto cleanup;
	}
	*rules = rl.r;
	*n = rl.n;
	rl.r = NULL;
cleanup:
	free(rl.r);
	return ret;
}

static status_check_fn extra_check;

void status_set_check(status_check_fn fn)
{
	extra_check = fn;
}

size_t status_differences(const struct proto_lease *leases, size_t nleases,
			  const struct krule *rules, size_t nrules, FILE *out)
{
	size_t n = status_compare(leases, nleases, rules, nrules, out);

	n += tables_check(leases, nleases, rules, nrules, out);
	if (extra_check)
		n += extra_check(leases, nleases, out);
	return n;
}

/* The lines of status_differences() that are differences: the agent's
 * check also says what each uplink's table should hold ("agent uplink:
 * ..."), which is no difference. */
static bool is_difference(const char *line)
{
	return strncmp(line, "agent uplink: ", 14) != 0;
}

/* --status --json: {"consistent", "leases", "rules", "differences": [the
 * difference lines of the human form, empty when consistent], "track":
 * rtalloc-track's state or null}. */
static int status_json(const struct proto_lease *leases, size_t nleases, const struct krule *rules,
		       size_t nrules)
{
	struct json_object *root = json_object_new_object(), *diffs = json_object_new_array();
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, n;
	FILE *mem = open_memstream(&buf, &len);
	int rc = EXIT_SYSTEM;

	if (!root || !diffs || !mem) {
		fprintf(stderr, "rtalloc: --status: out of memory\n");
		if (mem)
			fclose(mem);
		goto cleanup;
	}
	n = status_differences(leases, nleases, rules, nrules, mem);
	fclose(mem);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (is_difference(line))
			json_object_array_add(diffs, json_object_new_string(line));
	json_object_object_add(root, "consistent", json_object_new_boolean(!n));
	json_object_object_add(root, "leases", json_object_new_int64((int64_t)nleases));
	json_object_object_add(root, "rules", json_object_new_int64((int64_t)nrules));
	json_object_object_add(root, "differences", diffs);
	diffs = NULL;
	json_object_object_add(root, "track", health_json());
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	rc = n ? EXIT_INCONSISTENT : EXIT_LEASED;
cleanup:
	json_object_put(diffs);
	json_object_put(root);
	free(buf);
	return rc;
}

int status_run(const struct cli_opts *o)
{
	struct lease_client lc;
	struct proto_lease *leases = NULL;
	struct krule *rules = NULL;
	size_t nleases = 0, nrules = 0, diffs;
	struct nl nl = { 0 };
	char err[256];
	int ret, rc;

	ret = lease_open(&lc, o->socket);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --status: %s\n", strerror(-ret));
		return EXIT_SYSTEM;
	}
	ret = lease_list(&lc, o->retry_interval * 1000, &leases, &nleases, err, sizeof(err));
	lease_close(&lc);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --status: no lease list from @%s: %s\n", o->socket,
			err[0] ? err : strerror(-ret));
		return EXIT_NO_LEASE;
	}
	ret = nl_open(&nl, NULL, 0);
	if (ret >= 0)
		ret = status_dump_rules(&nl, &rules, &nrules);
	nl_close(&nl);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --status: cannot read the policy rules: %s\n", strerror(-ret));
		rc = EXIT_SYSTEM;
		goto cleanup;
	}
	if (o->json) {
		rc = status_json(leases, nleases, rules, nrules);
		goto cleanup;
	}
	diffs = status_differences(leases, nleases, rules, nrules, stdout);
	if (diffs) {
		printf("%zu difference%s between %zu lease%s and %zu rule%s (proto 122)\n", diffs,
		       diffs == 1 ? "" : "s", nleases, nleases == 1 ? "" : "s", nrules, nrules == 1 ? "" : "s");
		rc = EXIT_INCONSISTENT;
	} else {
		printf("consistent: %zu lease%s, %zu rule%s (proto 122)\n", nleases, nleases == 1 ? "" : "s",
		       nrules, nrules == 1 ? "" : "s");
		rc = EXIT_LEASED;
	}
	health_print(stdout);
cleanup:
	free(leases);
	free(rules);
	return rc;
}
