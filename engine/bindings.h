/* bindings: agent.json's "bindings", each a cgroup, a source prefix or an
 * incoming interface bound to an uplink by name, with the default or the
 * strict policy of `rtalloc exec` (control.h keeps their rules). */
#ifndef RTALLOC_BINDINGS_H
#define RTALLOC_BINDINGS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define BINDINGS_MAX 32
#define BINDING_CGROUP_MAX 256

struct json_object;

enum binding_kind {
	BINDING_CGROUP,		/* every socket its processes create (a mark) */
	BINDING_FROM,		/* forwarded traffic from a prefix */
	BINDING_IIF,		/* forwarded traffic coming in on an interface */
};

struct binding {
	char uplink[IFNAMSIZ];
	bool strict;
	enum binding_kind kind;
	char cgroup[BINDING_CGROUP_MAX];	/* below the cgroup2 root, no leading '/' */
	struct inet_addr from;
	uint8_t from_len;
	char iif[IFNAMSIZ];
};

/* "bindings": [{"uplink": "lte0", "cgroup": "system.slice/backup.service",
 * "policy": "strict"}, {"uplink": ..., "from": "172.17.0.0/16"},
 * {"uplink": ..., "iif": "docker0"}].  0, or -EINVAL with one line in err
 * naming the entry and the key. */
int bindings_parse(struct json_object *v, struct binding *out, size_t *n, char *err, size_t errlen);

/* A cgroup path as systemd names them: relative, no "." or ".." part, no
 * empty part, printable. */
bool binding_cgroup_valid(const char *s);

#endif
