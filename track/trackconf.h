/* trackconf: rtalloc-track's JSON configuration (man rtalloc-track(8) lists
 * the keys), parsed at the edge into typed structs. */
#ifndef RTALLOC_TRACKCONF_H
#define RTALLOC_TRACKCONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "policy.h"

#define TRACK_UPLINKS_MAX 32
#define TRACK_TARGETS_MAX 8
#define TRACK_FORWARD_MAX 16
#define TRACK_DEFAULT_CONF "/etc/rtalloc/track.json"
#define TRACK_DEFAULT_STATE "/run/rtalloc-track/track.json"
#define TRACK_DEFAULT_HOOKS "/etc/rtalloc/track.d"
/* The table of the multipath default route in balance mode: outside
 * rtallocd's default range (10000..10999). */
#define TRACK_DEFAULT_TABLE 30000

enum track_method { TRACK_ICMP, TRACK_TCP, TRACK_HTTP };
enum track_mode { TRACK_FAILOVER, TRACK_BALANCE };

struct track_target {
	struct inet_addr addr;
	uint16_t port;		/* TCP: default 80 */
};

/* What an uplink inherits from the top level besides method, targets and
 * k: quality thresholds, metered, the HTTP probe's request. */
struct track_opts {
	struct health_quality q;
	bool metered;		/* probe only when its own traffic proves nothing */
	char http_path[256];	/* "url"'s path ("/" by default) */
	char http_host[128];	/* "host": the Host header (default: the target) */
	uint16_t http_expect;	/* "expect": the status a working uplink answers (204) */
};

struct track_uplink_conf {
	char ifname[IFNAMSIZ];
	uint32_t priority;	/* lower wins */
	uint32_t weight;	/* 1..256, balance mode */
	enum track_method method;
	struct track_target targets[TRACK_TARGETS_MAX];
	size_t ntargets;
	unsigned k;		/* targets that must answer for a good round */
	bool weight_auto;	/* "weight": "auto": by the window's loss and RTT */
	struct track_opts o;
};

struct track_conf {
	char socket_path[108];
	uint32_t interval_ms, timeout_ms;
	unsigned down, up;
	enum track_mode mode;
	uint32_t table;
	/* Defaults for uplinks found in the kernel (no "uplinks" key). */
	enum track_method method;
	struct track_target targets[TRACK_TARGETS_MAX];
	size_t ntargets;
	unsigned k;
	struct track_opts o;
	bool reset_local;	/* destroy local sockets of an uplink that stops carrying */
	struct track_uplink_conf uplinks[TRACK_UPLINKS_MAX];
	size_t nuplinks;
	char forward_from[TRACK_FORWARD_MAX][IFNAMSIZ];
	size_t nforward;
	char state_file[PATH_MAX];
	char hook_dir[PATH_MAX];
};

void trackconf_defaults(struct track_conf *c);
/* 0, or -EINVAL with one line in err naming the key and value. */
int trackconf_parse(struct track_conf *c, const char *text, size_t len, char *err, size_t errlen);
int trackconf_load(struct track_conf *c, const char *path, char *err, size_t errlen);
/* Every interface named (uplinks, forward_from) exists now. */
int trackconf_check_interfaces(const struct track_conf *c, char *err, size_t errlen);

const char *track_method_name(enum track_method m);

/* --check: one warning line on out per target in a documentation range
 * (addr_documentation()): it never answers, so the uplink would be down. */
void trackconf_warn_documentation(const struct track_conf *c, FILE *out);

#endif
