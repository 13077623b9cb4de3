/* mptcpcfg: agent.json's "mptcp" map, each interface glob with the mode
 * of its addresses' MPTCP endpoints (agent/mptcp.h applies it; rtalloc
 * show reads it). */
#ifndef RTALLOC_MPTCPCFG_H
#define RTALLOC_MPTCPCFG_H

#include <stddef.h>

#define MPTCP_PATTERNS_MAX 32

struct json_object;

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

#endif
