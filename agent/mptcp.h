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

#define MPTCP_PATTERNS_MAX 32
#define MPTCP_ENDPOINTS_MAX 64

struct json_object;
struct engine;
struct mnl_socket;

enum mptcp_mode { MPTCP_OFF, MPTCP_SUBFLOW, MPTCP_FULLMESH, MPTCP_BACKUP };

struct mptcp_rule {
	char pattern[64];
	enum mptcp_mode mode;
};

struct mptcp_cfg {
	struct mptcp_rule r[MPTCP_PATTERNS_MAX];
	size_t n;
};

/* "mptcp": {"wan*": "subflow", "lte0": "backup"}: 0, or -EINVAL with one
 * line in err. */
int mptcp_cfg_parse(struct json_object *v, struct mptcp_cfg *c, char *err, size_t errlen);
/* The first matching entry's mode (MPTCP_OFF when none). */
enum mptcp_mode mptcp_cfg_mode(const struct mptcp_cfg *c, const char *ifname);
const char *mptcp_mode_name(enum mptcp_mode m);

struct mptcp_ep {
	uint8_t id;
	struct inet_addr addr;
	int ifindex;
	uint32_t flags;
};

struct mptcp {
	struct mnl_socket *nl;
	uint16_t family;		/* generic netlink id of mptcp_pm */
	uint32_t seq, portid;
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

/* The kernel's endpoints (for rtalloc show): up to max in eps, *n of them.
 * 0 or -errno. */
int mptcp_dump(struct mptcp_ep *eps, size_t max, size_t *n);

#endif
