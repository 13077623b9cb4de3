/* steer: the rules (and, in balance mode, the route) that send unbound
 * traffic to the chosen uplink(s).  All carry protocol 122 and sit between
 * rtalloc's `to NETWORK` rules (20000) and main (32766), so bound traffic
 * (10000) and traffic to an uplink's own network (20000) never see them:
 *   30000  from all lookup main suppress_prefixlength 0
 *          (main's more specific routes -- the LAN, a VPN -- keep working;
 *          only its default routes are overridden)
 *   30001  from all iif lo lookup TABLE         (unbound local traffic)
 *   30002  from all iif LAN lookup TABLE        (each forward_from interface)
 * TABLE is the chosen uplink's table (failover) or rtalloc-track's own table
 * holding a multipath default route (balance).  steer owns exactly the
 * protocol-122 rules at these prefs. */
#ifndef RTALLOC_STEER_H
#define RTALLOC_STEER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "kernel.h"
#include "kobj.h"
#include "trackconf.h"

#define STEER_PREF_MAIN    KPREF_TRACK_MAIN
#define STEER_PREF_LOCAL   KPREF_TRACK_LOCAL
#define STEER_PREF_FORWARD KPREF_TRACK_FORWARD
#define STEER_RULES_MAX (2 + TRACK_FORWARD_MAX)

struct steer_set {
	int family;		/* AF_INET or AF_INET6: one set per family */
	size_t n;
	struct krule r[STEER_RULES_MAX];
};

/* Is a rule at pref with protocol proto one of steer's? */
bool steer_owns(uint32_t pref, uint8_t proto);
/* The rules of family for unbound traffic to table (0: none at all). */
void steer_build(struct steer_set *s, int family, uint32_t table, const char (*fwd)[IFNAMSIZ],
		 size_t nfwd);
/* Makes the kernel's rules of ours (family's, at steer's prefs) equal want
 * through the kernel seam: adds the missing ones first, then deletes the
 * others (never a moment without a rule).  *changed counts rules added or
 * deleted.  0 or -errno. */
int steer_apply(struct kernel *k, const struct steer_set *want, unsigned *changed);

struct steer_hop {
	uint32_t key;		/* balance: the uplink's slot, naming its nexthop object */
	int ifindex;
	bool has_gw;
	struct inet_addr gw;
	uint32_t weight;	/* 1..256 */
};
#define STEER_HOPS_MAX TRACK_UPLINKS_MAX
/* The default route of table (protocol 122) that sends unbound traffic
 * over the n hops: one hop, r itself through its device and gateway; more,
 * r without either and nh[0..n) with their weights (RTA_MULTIPATH, nh
 * holds n); none, r bare (to delete it or point it at a nexthop object). */
void steer_route_build(int family, uint32_t table, const struct steer_hop *hops, size_t n,
		       struct kroute *r, struct knexthop *nh);
/* Replaces family's default route of table with a multipath route over
 * hops (one hop: a plain route) through the kernel seam; n 0 deletes it
 * (gone already counts as deleted).  0 or -errno. */
int steer_route(struct kernel *k, int family, uint32_t table, const struct steer_hop *hops, size_t n);

#endif
