/* balance: resilient nexthop groups and the L4 multipath hash. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "balance.h"
#include "log.h"
#include "kmsg.h"

/* Uplinks (keys) in a group.  Each is two members, twins with the same
 * device and gateway: a group of one member is used without a hash, its
 * buckets are never marked busy, and an uplink that comes back would take
 * over busy flows as if idle.  Twins keep the group hashing. */
#define MEMBERS_MAX 63
#define TWINS 2

static uint32_t group_id(int family)
{
	return BALANCE_NH_BASE + (family == AF_INET6 ? 256 : 0);
}

static uint32_t member_id(int family, uint32_t key, unsigned twin)
{
	return group_id(family) + 1 + key * TWINS + twin;
}

/* Makes the n changes; errors other than "already so" (the seam's) fail. */
static int run(struct kernel *k, const struct kchange *c, size_t n, const char *what)
{
	int errs[MEMBERS_MAX * TWINS];
	int ret;

	if (!n)
		return 0;
	ret = kernel_apply(k, c, n, errs);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (errs[i] < 0) {
			log_msg(LOG_DEBUG, "nexthop %s: %s", what, strerror(-errs[i]));
			return errs[i];
		}
	return 0;
}

static struct kchange nh_change(const struct knhobj *o, bool add)
{
	return (struct kchange){ .type = KOBJ_NEXTHOP, .add = add, .nh = *o };
}

/* Deletes the member objects of family not in hops (all when n is 0). */
static int members_prune(struct kernel *k, int family, const struct steer_hop *hops, size_t n)
{
	struct kchange c[MEMBERS_MAX * TWINS];
	size_t m = 0;

	for (uint32_t key = 0; key < MEMBERS_MAX; key++) {
		bool used = false;

		for (size_t i = 0; i < n && !used; i++)
			used = hops[i].key == key;
		for (unsigned twin = 0; twin < TWINS && !used; twin++)
			c[m++] = nh_change(&(struct knhobj){ .id = member_id(family, key, twin) }, false);
	}
	return run(k, c, m, "delete");
}

static int route_change(struct kernel *k, int family, uint32_t table, bool add)
{
	struct kchange c = { .type = KOBJ_ROUTE, .add = add, .whole = true };

	steer_route_build(family, table, NULL, 0, &c.route, NULL);
	if (add)
		c.route.nh_id = group_id(family);
	return run(k, &c, 1, "route");
}

int balance_group(struct kernel *k, int family, uint32_t table, const struct steer_hop *hops, size_t n)
{
	struct knhmember grp[MEMBERS_MAX * TWINS];
	struct kchange c[MEMBERS_MAX * TWINS];
	size_t m = 0;
	int ret;

	if (!n) {
		ret = route_change(k, family, table, false);
		if (ret < 0 && ret != -ENOENT)
			return ret;
		c[0] = nh_change(&(struct knhobj){ .id = group_id(family) }, false);
		ret = run(k, c, 1, "delete group");
		return ret < 0 ? ret : members_prune(k, family, NULL, 0);
	}
	if (n > MEMBERS_MAX)
		n = MEMBERS_MAX;
	/* The members first: a group names existing objects only. */
	memset(grp, 0, sizeof(grp));
	for (size_t i = 0; i < n; i++) {
		if (hops[i].key >= MEMBERS_MAX)
			return -EINVAL;
		for (unsigned twin = 0; twin < TWINS; twin++) {
			struct knhmember *g = &grp[i * TWINS + twin];
			struct knhobj o = { .family = (uint8_t)family, .proto = RTPROT_RTALLOC,
					    .oif = hops[i].ifindex };

			g->id = o.id = member_id(family, hops[i].key, twin);
			g->weight = hops[i].weight ? hops[i].weight : 1;
			if (hops[i].has_gw) {
				o.gw = hops[i].gw;
				o.gw.family = (uint8_t)family;
			}
			c[m++] = nh_change(&o, true);
		}
	}
	ret = run(k, c, m, "member");
	if (ret < 0)
		return ret;
	c[0] = nh_change(&(struct knhobj){ .id = group_id(family), .proto = RTPROT_RTALLOC,
					   .group = grp, .ngroup = n * TWINS,
					   .buckets = BALANCE_BUCKETS, .idle_s = BALANCE_IDLE_S }, true);
	ret = run(k, c, 1, "group");
	if (ret < 0)
		return ret;
	ret = route_change(k, family, table, true);
	if (ret < 0)
		return ret;
	return members_prune(k, family, hops, n);
}

static const char *const hash_path[2] = {
	"/proc/sys/net/ipv4/fib_multipath_hash_policy",
	"/proc/sys/net/ipv6/fib_multipath_hash_policy",
};

static int sysctl_rw(const char *path, char *old, size_t oldlen, const char *val)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = read(fd, old, oldlen - 1);
	if (n < 0)
		ret = -errno;
	else
		old[n] = '\0';
	old[strcspn(old, "\n")] = '\0';
	if (!ret && val && (lseek(fd, 0, SEEK_SET) < 0 || write(fd, val, strlen(val)) < 0))
		ret = -errno;
	close(fd);
	return ret;
}

void balance_hash_set(struct balance_hash *h)
{
	int ret;

	if (h->set)
		return;
	for (size_t i = 0; i < 2; i++) {
		ret = sysctl_rw(hash_path[i], h->saved[i], sizeof(h->saved[i]), "1");
		if (ret < 0) {
			log_msg(LOG_WARNING, "%s: %s; connections to one server all take one uplink",
				hash_path[i] + 10, strerror(-ret));
			snprintf(h->saved[i], sizeof(h->saved[i]), "?");
		}
	}
	h->set = true;
	log_msg(LOG_INFO, "balance: multipath hash policy 1 (L4: ports too) for IPv4 and IPv6 (was %s and %s)",
		h->saved[0], h->saved[1]);
}

void balance_hash_restore(struct balance_hash *h)
{
	char old[16];

	if (!h->set)
		return;
	for (size_t i = 0; i < 2; i++)
		if (strcmp(h->saved[i], "?"))
			sysctl_rw(hash_path[i], old, sizeof(old), h->saved[i]);
	h->set = false;
	log_msg(LOG_INFO, "balance stopped: multipath hash policy %s for IPv4 and %s for IPv6 again",
		h->saved[0], h->saved[1]);
}
