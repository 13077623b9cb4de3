/* balance: what balance mode sets in the kernel besides steer's rules.
 *  - The route: family's default route of rtalloc-track's table points at a
 *    resilient nexthop group (nexthop objects, `ip nexthop`), one member
 *    per chosen uplink with its weight.  An uplink that goes leaves the
 *    group and only its flows move; one that comes takes over buckets only
 *    once they are idle (BALANCE_IDLE_S), so a forwarded flow keeps its
 *    uplink while that one stays.  Kernels without nexthop objects get the
 *    plain multipath route (steer_route), which re-hashes every flow.
 *  - The hash: net.ipv4/ipv6.fib_multipath_hash_policy = 1 (L4: addresses,
 *    protocol and ports), so connections to one server spread by weight;
 *    the previous values are restored when balance mode stops.
 * Object ids: BALANCE_NH_BASE + 256 * (family is IPv6) for the group, + 1 +
 * 2 * the uplink's key (+ 1) for its two members (twins: see balance.c). */
#ifndef RTALLOC_BALANCE_H
#define RTALLOC_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "steer.h"

#define BALANCE_NH_BASE 0x52540000u
#define BALANCE_BUCKETS 512
#define BALANCE_IDLE_S 30

/* Makes family's default route of table go through a resilient group of
 * hops (each hop's key < 63 names its member object) through the kernel
 * seam: members, then the group, then the route, then members no longer
 * in it go; n 0 removes route, group and members.  0 or -errno
 * (-EOPNOTSUPP and the like: no nexthop objects here; the caller falls
 * back to steer_route). */
int balance_group(struct kernel *k, int family, uint32_t table, const struct steer_hop *hops, size_t n);

struct balance_hash {
	bool set;
	char saved[2][16];	/* IPv4's and IPv6's values before */
};
/* Sets both policies to 1, keeping the values before; one log line. */
void balance_hash_set(struct balance_hash *h);
/* Puts the values before back (nothing when not set); one log line. */
void balance_hash_restore(struct balance_hash *h);

#endif
