/* kmptcp: the kernel's MPTCP endpoints over generic netlink (mptcp_pm):
 * every message rtalloc sends to the path manager is built here and every
 * reply parsed here.  The agent decides which endpoints it wants
 * (agent/mptcp.c); rtalloc show lists them (mptcp_dump). */
#ifndef RTALLOC_KMPTCP_H
#define RTALLOC_KMPTCP_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MPTCP_ENDPOINTS_MAX 64

struct mnl_socket;

/* One endpoint; flags are MPTCP_PM_ADDR_FLAG_* (linux/mptcp.h). */
struct mptcp_ep {
	uint8_t id;
	struct inet_addr addr;
	int ifindex;
	uint32_t flags;
};

/* A generic netlink socket that knows mptcp_pm's family id. */
struct kmptcp {
	struct mnl_socket *nl;
	uint16_t family;		/* generic netlink id of mptcp_pm */
	uint32_t seq, portid;
};

/* 0, or -errno (-ENOENT: the kernel has no MPTCP); k->nl stays NULL on
 * failure. */
int kmptcp_open(struct kmptcp *k);
/* Closes (NULL socket: nothing). */
void kmptcp_close(struct kmptcp *k);
/* The kernel's endpoints: up to max in eps, *n of them.  0 or -errno. */
int kmptcp_dump(struct kmptcp *k, struct mptcp_ep *eps, size_t max, size_t *n);
/* Adds ep (id, address, flags, interface).  0 or -errno. */
int kmptcp_add(struct kmptcp *k, const struct mptcp_ep *ep);
/* Removes endpoint ep->id.  0 or -errno. */
int kmptcp_del(struct kmptcp *k, const struct mptcp_ep *ep);
/* Changes ep's flags (backup or not: the peer is told).  0 or -errno. */
int kmptcp_set_flags(struct kmptcp *k, const struct mptcp_ep *ep);
/* The subflow and accepted ADD_ADDR limits.  0 or -errno. */
int kmptcp_set_limits(struct kmptcp *k, uint32_t subflows);

/* The kernel's endpoints over a socket of its own (for rtalloc show): up
 * to max in eps, *n of them.  0 or -errno. */
int mptcp_dump(struct mptcp_ep *eps, size_t max, size_t *n);

#endif
