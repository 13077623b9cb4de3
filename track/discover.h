/* discover: the uplinks rtalloc manages, as the kernel shows them: each
 * `from ADDRESS lookup TABLE` rule (IPv4 or IPv6) of protocol 122 at pref
 * 10000 (installed
 * by rtalloc for the hooks, or by the agent), the interface holding ADDRESS,
 * and the default route of TABLE (for balance mode). */
#ifndef RTALLOC_DISCOVER_H
#define RTALLOC_DISCOVER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "nl.h"

#define DISCOVER_PREF_FROM 10000

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

/* Fills out (up to max) and *n.  0 or -errno. */
int discover_uplinks(struct nl *nl, struct uplink_info *out, size_t max, size_t *n);

#endif
