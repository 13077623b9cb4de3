/* mptcp: MPTCP endpoints for the agent's uplinks (agent.json "mptcp").
 *
 * Each global address of an uplink whose mode is subflow, fullmesh or
 * backup is an endpoint of the kernel's path manager (generic netlink
 * mptcp_pm) with those flags, so an MPTCP connection opens a subflow from
 * it, which the address's own rules send out of its uplink.  An uplink
 * rtalloc-track has offline is a backup until it is back.  The endpoints'
 * subflow limit follows their number.  Endpoints the agent did not add
 * (NetworkManager 1.40+ adds its own) are left alone: the agent remembers
 * the ids it created; an address that already has one keeps it. */
#ifndef RTALLOC_MPTCP_H
#define RTALLOC_MPTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "kmptcp.h"
#include "mptcpcfg.h"

struct engine;

struct mptcp {
	struct kmptcp k;		/* k.nl: NULL when closed */
	struct mptcp_ep ours[MPTCP_ENDPOINTS_MAX];
	size_t nours;
	struct inet_addr told[MPTCP_ENDPOINTS_MAX];	/* foreign endpoints logged */
	size_t ntold;
	bool failed;			/* its trouble was logged */
};

/* 0, or -errno (-ENOENT: the kernel has no MPTCP). */
int mptcp_open(struct mptcp *m);
/* Brings our endpoints in step with the engine's uplinks, the modes and
 * rtalloc-track's health. */
void mptcp_sync(struct mptcp *m, const struct engine *e, const struct mptcp_cfg *c);
/* Removes our endpoints; closes. */
void mptcp_close(struct mptcp *m);

#endif
