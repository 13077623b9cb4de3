/* kobj: the engine's domain types.  What the kernel holds (links,
 * addresses, routes, policy rules), each parsed once from netlink into a
 * typed struct, the lease key of an uplink, and growable sets of them.
 * Nothing here talks to the kernel: kernel.c and kernel_fake.c do. */
#ifndef RTALLOC_KOBJ_H
#define RTALLOC_KOBJ_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "proto.h"

/* FRA_PROTOCOL / rtm_protocol of everything rtalloc installs (proto 122);
 * the same value as allocator-client/rules.h. */
#ifndef RTPROT_RTALLOC
#define RTPROT_RTALLOC 0x7a
#endif

#define KTABLE_MAIN 254u

/* The rules of `rtalloc exec` and bindings (agent/control.c): `fwmark M/K
 * lookup T` of an uplink's tables at KPREF_EXEC, and `fwmark M/K
 * unreachable` at KPREF_EXEC_STRICT for the strict policy.  Proto 122 but
 * no lease's rules: the engine and --status leave them to their owner. */
#define KPREF_EXEC_LOCAL	9099u	/* a from binding's `iif lo lookup main` */
#define KPREF_EXEC		9100u
#define KPREF_EXEC_STRICT	9101u
#define KPREF_IS_EXEC(pref)	((pref) >= KPREF_EXEC_LOCAL && (pref) <= KPREF_EXEC_STRICT)

/* What identifies a lease at rtallocd. */
struct lease_key {
	uint8_t family;
	struct inet_addr addr;
	char ifname[IFNAMSIZ];
	char tag[PROTO_TAG_MAX + 1];
};

struct klink {
	int ifindex;
	char name[IFNAMSIZ];
	bool up;			/* IFF_UP: the kernel keeps routes through it */
};

struct kaddr {
	uint8_t family;
	int ifindex;
	struct inet_addr addr;		/* IFA_LOCAL (v4), IFA_ADDRESS (v6) */
	uint8_t prefixlen;
	uint8_t scope;			/* RT_SCOPE_* */
	uint32_t flags;			/* IFA_F_*, from IFA_FLAGS when present */
};

struct kroute {
	uint8_t family;
	uint32_t table;
	struct inet_addr dst;		/* zeroed past dst_len */
	uint8_t dst_len;
	struct inet_addr gw;		/* family 0: no gateway */
	int oif;			/* 0: none (blackhole...) */
	struct inet_addr src;		/* family 0: no RTA_PREFSRC */
	uint32_t metric;
	uint8_t type;			/* RTN_* */
	uint8_t proto;			/* RTPROT_* */
	uint8_t scope;
	bool onlink;
	bool multipath;			/* one nexthop of an RTA_MULTIPATH route */
	bool cloned;			/* RTM_F_CLONED: a cache entry, never ours */
};

struct krule {
	uint8_t family;
	uint32_t pref;
	uint32_t table;
	struct inet_addr src, dst;	/* meaningful up to src_len / dst_len */
	uint8_t src_len, dst_len;
	char iif[IFNAMSIZ];		/* "" when not set */
	bool has_fwmark;
	uint32_t fwmark, fwmask;
	uint8_t proto;
	bool has_suppress;		/* suppress_prefixlength suppress */
	uint8_t suppress;
};

/* Growable arrays.  Order is not kept by deletions (swap with the last). */
struct krule_set {
	struct krule *v;
	size_t n, cap;
};
struct kroute_set {
	struct kroute *v;
	size_t n, cap;
};

int krule_set_add(struct krule_set *s, const struct krule *r);
void krule_set_del_at(struct krule_set *s, size_t i);
void krule_set_free(struct krule_set *s);
int kroute_set_add(struct kroute_set *s, const struct kroute *r);
void kroute_set_del_at(struct kroute_set *s, size_t i);
void kroute_set_free(struct kroute_set *s);

bool krule_equal(const struct krule *a, const struct krule *b);
/* Every field the engine installs: what decides "already as we want". */
bool kroute_equal(const struct kroute *a, const struct kroute *b);
/* The kernel's identity of a route: a second route with the same key
 * replaces the first (IPv4: table, dst, metric; IPv6 also gateway and
 * device, since it keeps siblings apart by them). */
bool kroute_same_key(const struct kroute *a, const struct kroute *b);
bool kaddr_same(const struct kaddr *a, const struct kaddr *b);

/* For logs: "pref 10000 from 192.0.2.7/32 lookup 10000",
 * "default via 192.0.2.1 dev #3 src 192.0.2.7 metric 0 table 10000". */
const char *krule_str(const struct krule *r, char *buf, size_t len);
const char *kroute_str(const struct kroute *r, char *buf, size_t len);

/* Makes room for one more of n elements of size elem in *v (capacity
 * *cap), doubling from 16.  0 or -ENOMEM (*v unchanged). */
int kobj_grow(void **v, size_t *cap, size_t n, size_t elem);

#endif
