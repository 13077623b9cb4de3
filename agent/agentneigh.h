/* agentneigh: the IPv6 routers the kernel knows on each link (neighbours it
 * flagged NTF_ROUTER from their router advertisements, which it notes even
 * where a tool turned its own RA handling off: NetworkManager, networkd and
 * dhcpcd all do).  A never-default uplink's table gets its default route
 * via this router when main has none through the link. */
#ifndef RTALLOC_AGENTNEIGH_H
#define RTALLOC_AGENTNEIGH_H

#include <stddef.h>

#include "addr.h"
#include "nl.h"

struct neigh_router {
	int ifindex;
	struct inet_addr addr;
};

struct neighbours {
	struct nl ev;
	/* ND user options (RTM_NEWNDUSEROPT: an RA's RDNSS) go here. */
	void (*useropt)(void *data, const struct nlmsghdr *nlh);
	void *data;
	struct neigh_router *v;
	size_t n, cap;
};

/* Subscribes, then reads the kernel's neighbours: 0 or -errno.  nb zeroed
 * but for useropt and data. */
int neigh_open(struct neighbours *nb);
void neigh_close(struct neighbours *nb);
int neigh_fd(const struct neighbours *nb);
/* Reads pending events: 1 when a link's router changed, 0, or -errno
 * (-ENOBUFS: lost, read again with neigh_reload). */
int neigh_read(struct neighbours *nb);
int neigh_reload(struct neighbours *nb);
/* The link's router (a link-local one preferred), NULL when none. */
const struct inet_addr *neigh_router(const struct neighbours *nb, int ifindex);

#endif
