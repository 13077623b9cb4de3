/* agentcfg: rtalloc-agent's JSON configuration (/etc/rtalloc/agent.json),
 * parsed at the edge into a typed struct; every rejection is one line
 * naming the key and the value. */
#ifndef RTALLOC_AGENTCFG_H
#define RTALLOC_AGENTCFG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "bindings.h"
#include "engine.h"
#include "mptcpcfg.h"

#define AGENTCFG_PATTERNS_MAX 64
#define AGENTCFG_PATTERN_MAX 64		/* bytes of a glob, with the NUL */

struct agentcfg_mark {
	char pattern[AGENTCFG_PATTERN_MAX];
	uint32_t mark, mask;
};

struct agentcfg {
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char interfaces[AGENTCFG_PATTERNS_MAX][AGENTCFG_PATTERN_MAX];
	size_t ninterfaces;
	char exclude[AGENTCFG_PATTERNS_MAX][AGENTCFG_PATTERN_MAX];
	size_t nexclude;
	bool inet, inet6;
	struct agentcfg_mark fwmark[AGENTCFG_PATTERNS_MAX];
	size_t nfwmark;
	char forward_from[ENGINE_FORWARD_MAX][IFNAMSIZ];
	size_t nforward;
	char dns_servers_file[256];	/* "": no servers-file */
	char dnsmasq_pidfile[256];	/* "": nobody signalled */
	uint32_t exec_gids[AGENTCFG_PATTERNS_MAX];	/* may use `rtalloc exec` */
	size_t nexec_gids;
	struct binding bindings[BINDINGS_MAX];
	size_t nbindings;
	struct mptcp_cfg mptcp;
	/* node_exporter textfile the agent writes its metrics to; "" none */
	char metrics_textfile[256];
};

void agentcfg_defaults(struct agentcfg *c);
/* 0, or -EINVAL with one line in err: "interfaces[1]: bad glob: `wan['". */
int agentcfg_parse(struct agentcfg *c, const char *text, size_t len, char *err, size_t errlen);
int agentcfg_load(struct agentcfg *c, const char *path, char *err, size_t errlen);
/* Is ifname managed for family (in interfaces, not in exclude)?  Its
 * fwmark, the first matching entry's, goes into pol. */
bool agentcfg_manages(const struct agentcfg *c, int family, const char *ifname,
		      struct uplink_policy *pol);
/* The same for an interface a hook announced: managed unless excluded. */
bool agentcfg_manages_hinted(const struct agentcfg *c, int family, const char *ifname,
			     struct uplink_policy *pol);
/* The fwmark map against rtallocd's leased-mark pool (mark_mask; 0: it
 * leases none): 0, or -EEXIST with one line in err naming the first entry
 * whose value has bits in the pool. */
int agentcfg_fwmark_check(const struct agentcfg *c, uint32_t mark_mask, char *err, size_t errlen);
/* A glob as the config takes it: 1..63 bytes, no white space, '/' or ':',
 * brackets closed; without wildcards, a valid interface name. */
bool agentcfg_glob_valid(const char *s);

#endif
