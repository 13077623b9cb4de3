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

/* FRA_PROTOCOL / rtm_protocol of every rule and route rtalloc installs
 * (`ip rule` shows `proto 122`).  It is how rtalloc knows its own: it never
 * adds, deletes or restores a rule without it, and finds a crashed run's
 * leftovers by it. */
#define RTPROT_RTALLOC 0x7a

/* The pref partition of rtalloc's rules (every one protocol 122):
 *   10000  from ADDR lookup T          (a lease's own address)
 *   19999  to NET lookup main suppress_prefixlength P  (the engine's guard)
 *   20000  to NETWORK lookup T         (its network)
 *   30000  lookup main suppress_prefixlength 0    \
 *   30001  iif lo lookup T_unbound                  } rtalloc-track's steering
 *   30002  iif LAN lookup T_unbound               /
 *   91000  iif lo lookup T / iif FWD lookup T      (a lease's local and forwarded)
 * fwmark rules have a pref of the user's (--fwmark-pref, default 9000). */
#define KPREF_FWMARK		9000u
#define KPREF_FROM		10000u
#define KPREF_GUARD		19999u	/* just before KPREF_TO */
#define KPREF_TO		20000u
#define KPREF_IIF		91000u
#define KPREF_TRACK_MAIN	30000u
#define KPREF_TRACK_LOCAL	30001u
#define KPREF_TRACK_FORWARD	30002u

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
	uint32_t nh_id;			/* through nexthop object nh_id (RTA_NH_ID; oif and
					 * gw unset), 0: none.  Written, not parsed. */
};

/* One nexthop of a multipath route to be written (kroute_put_multipath). */
struct knexthop {
	int ifindex;
	struct inet_addr gw;		/* family 0: no gateway */
	uint32_t weight;		/* 1..256 */
};

/* A nexthop object (`ip nexthop`, RTM_NEWNEXTHOP): one device and
 * gateway, or (ngroup > 0) a group of other objects, resilient when
 * buckets > 0 (`type resilient buckets N idle_timer S`). */
struct knhmember {
	uint32_t id;
	uint32_t weight;		/* 1..256 */
};
struct knhobj {
	uint32_t id;
	uint8_t family;			/* of a device's gateway; AF_UNSPEC: a group */
	uint8_t proto;
	int oif;
	struct inet_addr gw;		/* family 0: no gateway */
	const struct knhmember *group;
	size_t ngroup;
	uint16_t buckets;		/* 0: a plain (mpath) group */
	uint32_t idle_s;		/* a resilient group's idle timer, seconds */
};

/* A neighbour (RTM_NEWNEIGH / RTM_DELNEIGH). */
struct kneigh {
	uint8_t family;
	int ifindex;
	struct inet_addr addr;		/* NDA_DST */
	uint16_t state;			/* NUD_* */
	uint8_t flags;			/* NTF_* */
	bool del;
};
/* A router by the kernel's word: a new neighbour flagged NTF_ROUTER (from
 * its RA or its answers) that is not failed or unresolved. */
bool kneigh_is_router(const struct kneigh *n);

/* The ND options of an IPv6 router advertisement the kernel passes on
 * (RTM_NEWNDUSEROPT: RDNSS, DNSSL...), pointing into the message. */
struct kuseropt {
	int ifindex;
	const uint8_t *opt;
	size_t len;
};

struct krule {
	uint8_t family;
	uint32_t pref;
	uint32_t table;			/* 0 when unreachable */
	bool unreachable;		/* FR_ACT_UNREACHABLE (the exec strict policy's) */
	struct inet_addr src, dst;	/* meaningful up to src_len / dst_len */
	uint8_t src_len, dst_len;
	char iif[IFNAMSIZ];		/* "" when not set */
	bool has_fwmark;
	uint32_t fwmark, fwmask;
	uint8_t proto;
	bool has_suppress;		/* suppress_prefixlength suppress */
	uint8_t suppress;
};

/* One of rtalloc-track's steering rules (protocol 122, prefs 30000-30002),
 * not a lease's. */
bool krule_is_track(const struct krule *r);

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
/* Is a rule equal to r among v[0..n)? */
bool krule_in(const struct krule *r, const struct krule *v, size_t n);
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
