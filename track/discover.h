/* discover: the uplinks rtalloc manages, as the kernel shows them: each
 * `from ADDRESS lookup TABLE` rule (IPv4 or IPv6) of protocol 122 at pref
 * 10000 (installed
 * by rtalloc for the hooks, or by the agent), the interface holding ADDRESS,
 * and the default route of TABLE (for balance mode).  With rtallocd's
 * leases at hand, a leased ADDRESS's `from ADDRESS lookup TABLE` rule of
 * protocol 122 counts at any pref (rtalloc --pref-from). */
#ifndef RTALLOC_DISCOVER_H
#define RTALLOC_DISCOVER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "kernel.h"
#include "kobj.h"
#include "proto.h"

struct uplink_info {
	char ifname[IFNAMSIZ];
	int ifindex;
	struct inet_addr addr;
	uint32_t table;
	bool has_default;	/* TABLE has a default route */
	bool has_gw;
	struct inet_addr gw;	/* its gateway, when it has one */
	int oif;		/* its device */
};

/* Fills out (up to max) and *n.  leases (nleases; NULL when rtallocd did
 * not answer) widen the rules taken as above.  0 or -errno. */
int discover_uplinks(struct kernel *k, const struct proto_lease *leases, size_t nleases,
		     struct uplink_info *out, size_t max, size_t *n);
/* The LANs: the interfaces of the protocol-122 `iif IF lookup TABLE` rules
 * at pref DISCOVER_PREF_IIF other than lo (rtalloc --forward-iif, the
 * agent's forward_from), both families, each once; added to out (*n of
 * max taken already).  0 or -errno. */
#define DISCOVER_PREF_IIF KPREF_IIF
int discover_forward(struct kernel *k, char (*out)[IFNAMSIZ], size_t max, size_t *n);
/* Whether lease l (inet or inet6) names address and table of some uplink in
 * u (n).  Leases of other kinds (an AF_UNSPEC name) count as matched. */
bool discover_lease_matched(const struct proto_lease *l, const struct uplink_info *u, size_t n);
/* l's address parsed into *a: true when l is an inet/inet6 lease. */
bool discover_lease_addr(const struct proto_lease *l, struct inet_addr *a);

#endif
