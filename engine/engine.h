/* engine: owns uplinks.  An uplink is a global address on a managed link:
 * address -> lease (the owner gets it) -> rules + routes, reconciled with
 * the kernel.  The engine keeps a mirror of the kernel (links, addresses,
 * main's routes of the links, and what is ours: proto 122), fed by events;
 * a pass turns what changed into one plan per table and applies it.
 *
 * Desired state of an uplink with table T, address A/P on link L:
 *   rules   pref from:    from A lookup T
 *           pref guard:   to NET(A/P) lookup main suppress_prefixlength P
 *                         (0 < P < host length; shared by the uplinks of
 *                         NET/P): main's routes more specific than P, the
 *                         LAN's and a VPN's on other links, beat the `to`
 *                         rule, whatever prefix a peer hands out
 *           pref to:      to NET(A/P) lookup T (none for a /0)
 *           pref iif:     iif lo lookup T, and iif F lookup T per forward_from F
 *           pref fwmark:  fwmark M/K lookup T (when the policy has one)
 *   routes  while L is up: a copy of main's routes through L (prefix and
 *           link-scoped routes, defaults with their gateways, classless
 *           routes), src A except towards IPv6 link-local destinations; or,
 *           when the owner gives routes (the hook path), those.
 * Ours in the kernel: proto 122 rules and routes of the tables of our
 * uplinks; nothing else is ever touched. */
#ifndef RTALLOC_ENGINE_H
#define RTALLOC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "log.h"
#include "reconcile.h"

#define ENGINE_FORWARD_MAX 16

struct engine_prefs {
	uint32_t from, to, iif, fwmark;		/* KPREF_FROM, _TO, _IIF, _FWMARK */
	uint32_t guard;				/* KPREF_GUARD: just before `to` */
};

struct uplink_policy {
	bool has_fwmark;
	uint32_t fwmark, fwmask;
};

struct uplink {
	struct lease_key key;		/* family, address, ifname, tag */
	int ifindex;
	uint8_t prefixlen;
	uint32_t table;			/* 0 until the owner sets one */
	uint32_t adopt;			/* our `from A` rule's table found in the kernel */
	struct uplink_policy pol;
	const struct kroute_set *given;	/* routes given by the owner; NULL: copy main */
	bool foreign;			/* another process owns the address: hands off */
	void *owner;			/* the owner's per-uplink state */
	/* engine-private */
	bool seen, dirty, installed;
	bool new_prefix;		/* installed, its prefix changed since: the
					 * rules its plan adds are no restoration */
	bool second;			/* the address is another link's uplink's
					 * (foreign too): it takes over when that
					 * one goes */
	uint64_t hold_until_ms;		/* fight-loop brake */
	uint64_t window_ms;
	unsigned fixes;
	uint64_t retry_ms;		/* wait after the last refusal (0: none) */
	struct uplink *hnext;		/* in the (family, ifindex, address) index */
	struct uplink *tnext;		/* among its table's holders */
};

/* A link of the mirror, with main's routes through it and what the owner
 * said of it (manage(), asked once per name). */
struct elink {
	struct klink l;
	struct kroute_set main;
	int8_t managed[2];		/* IPv4, IPv6: -1 not asked yet, 0, 1 */
	struct uplink_policy pol[2];
	bool dirty;			/* its uplinks want a pass */
	bool had_default[2];		/* main had a default route through it */
};

/* One table of ours (per family): our rules and routes in the kernel that
 * select or fill it, and the uplinks holding it. */
struct etable {
	struct etable *next;		/* hash chain */
	uint8_t family;
	uint32_t table;
	struct krule_set rules;
	struct kroute_set routes;
	struct uplink *users;
	bool stale;			/* in engine.stale */
	uint64_t retry_ms;		/* stale: wait after the kernel last
					 * refused to empty it (0: none) */
	bool loaded;			/* scoped: its routes were read */
};

/* What of the kernel an engine over one uplink (a per-address rtalloc)
 * reads and mirrors; family AF_UNSPEC (the default, the agent's) is
 * everything.  Scoped, the engine reads the one link and the addresses of
 * family on it, and mirrors only the entries of addr (a thousand other
 * addresses on the link cost no memory); routes table by table (the
 * kernel filters them), only those of the tables it holds or empties
 * (a table that enters through engine_set_table or engine_claim_table is
 * read at the next pass), and main's routes through the link only with
 * copy_main; rules of family only with rules_known, or on a resync (after
 * lost events), else only its tables' rules and the guards of networks
 * holding addr that it sees come and go.  Objects out of scope that events
 * bring are not mirrored.  Rules not known, a guard the mirror finds
 * unused may still be another rtalloc's: one dump of the family's rules
 * decides before it goes (a guard found needed is forgotten, not kept
 * asking about). */
struct engine_scope {
	uint8_t family;
	int ifindex;
	struct inet_addr addr;
	bool rules_known;		/* read every rule of family at load */
	bool copy_main;			/* mirror main's routes through the link */
	/* The owner's prefix (-n; engine_set_prefix); 0: the kernel's entry's */
	uint8_t prefixlen;
	/* Rules on a tentative address (IPv6 DAD under way, not failed),
	 * routes once DAD is done (the kernel refuses a tentative source);
	 * unset: nothing until DAD is done.  DAD failed: nothing. */
	bool early_rules;
};

struct engine;

struct engine_ops {
	/* Is the link named ifname managed for family?  Fills its policy. */
	bool (*manage)(struct engine *e, int family, const char *ifname, struct uplink_policy *pol);
	/* A new uplink (u->adopt may name the table it had).  Return false
	 * when another process owns the address (u->foreign).  One address
	 * has one owner: the same address on a second link is refused (one
	 * log line) and announced here only once the first link's is gone. */
	bool (*uplink_new)(struct engine *e, struct uplink *u);
	/* u's address is gone and its rules and routes were removed (release
	 * its lease now); u is freed right after. */
	void (*uplink_gone)(struct engine *e, struct uplink *u);
	/* Optional: routes of u's link that main does not hold (a
	 * never-default uplink's gateway, a hint's routes), added to its
	 * copy of main: dst, dst_len, gw, oif, type; main_default: main has
	 * a default route of u's family through the link; main_had: it had
	 * one since the link appeared (its tool gives it defaults, and took
	 * this one away: the router went).  0 or -errno. */
	int (*extra_routes)(const struct engine *e, const struct uplink *u, bool main_default,
			    bool main_had, struct kroute_set *out);
};

struct engine_table {
	uint8_t family;			/* table numbers are per family */
	uint32_t table;
};

/* An address whose dead runs' leftovers go (engine_claim_leftovers). */
struct engine_claim {
	uint8_t family;
	struct inet_addr addr;
	uint32_t keep;			/* its table now (0: none) */
	uint64_t retry_ms;		/* wait after the kernel last refused
					 * its deletions (0: none) */
};

struct engine_stats {
	unsigned long passes, changes, restored, events, relevant, resyncs;
	unsigned long routes_added;	/* to tables already installed */
};

struct engine {
	struct kernel *k;
	const struct engine_ops *ops;
	void *owner;
	struct engine_prefs prefs;
	char tag[PROTO_TAG_MAX + 1];
	char forward[ENGINE_FORWARD_MAX][IFNAMSIZ];
	size_t nforward;

	/* the mirror: links (with main's routes through them), addresses,
	 * and our tables (proto 122 rules and routes), hashed */
	struct elink *links;
	size_t nlinks, caplinks;
	struct kaddr *addrs;
	size_t naddrs, capaddrs;
	struct etable **tables;
	size_t ntables, captables;	/* entries, buckets */

	struct uplink **up;
	size_t nup, capup;
	struct uplink **uindex;		/* by family, ifindex, address */
	size_t capuindex;
	struct engine_table *stale;	/* tables to empty: moved from, claimed */
	size_t nstale, capstale;
	struct engine_claim *claims;	/* addresses' leftovers to remove */
	size_t nclaims, capclaims;

	/* Addresses of managed links deleted lately: one coming back has
	 * had the routes using it flushed by the kernel without events. */
#define ENGINE_GONE_ADDRS 32
	struct kaddr gone_addrs[ENGINE_GONE_ADDRS];
	unsigned ngone_addrs;		/* written so far (a ring) */
	bool scan, resync, all_dirty;
	/* Routes only: the owner installs the rules itself (a per-address
	 * rtalloc, whose rules.c predates the engine); the engine never adds
	 * or removes a rule then. */
	bool routes_only;
	uint64_t next_due_ms;		/* a held uplink wants a pass then (0: none) */
	struct engine_scope scope;	/* engine_set_scope(); zero: everything */
	struct kplan plan;
	struct ratelimit rl;
	uint64_t pass_ms;		/* now_ms of the pass running, rl's clock */
	uint64_t unguard_retry_ms;	/* wait after an unused guard's removal
					 * was refused (0: none) */
	struct engine_stats stats;
};

/* Sets up e over k (not owned).  tag goes into every uplink's key. */
void engine_init(struct engine *e, struct kernel *k, const struct engine_ops *ops, void *owner,
		 const char *tag);
void engine_free(struct engine *e);
int engine_set_forward(struct engine *e, const char (*ifnames)[IFNAMSIZ], size_t n);

/* Narrows what the engine reads and mirrors to one uplink (struct
 * engine_scope), before engine_load.  Not called: everything. */
void engine_set_scope(struct engine *e, const struct engine_scope *s);
/* Scoped only: the owner's prefix is now prefixlen (a later run was given
 * it): the uplink's `to` rule and guard move to it at the next pass, the
 * new ones in before the old ones go.  When the entry of the address with
 * the owner's prefix goes (its event, or a resync after lost events), the
 * prefix of an entry left becomes the owner's (a DHCP server changed the
 * mask); other entries coming and going change nothing. */
void engine_set_prefix(struct engine *e, uint8_t prefixlen);
/* Reads the kernel's state, the scope's part of it (start, or after
 * events were lost). */
int engine_load(struct engine *e);
/* Reads pending events into the mirror: 1 when a pass is due, 0 when
 * nothing that matters changed, -errno.  Lost events (ENOBUFS) re-read
 * everything at the next pass. */
int engine_read_events(struct engine *e);
/* Brings every changed uplink to its desired state, removes what gone
 * uplinks left, and calls the owner back.  now_ms: CLOCK_MONOTONIC.  An
 * uplink the brake holds, or a change the kernel refused (an uplink's
 * rules, routes or guard, an unused guard's removal, a stale table's
 * emptying, a claim's deletions), sets e->next_due_ms: the owner passes
 * again then, events or not (a refusal is tried again after 1 s, then 2,
 * 4... up to 30 s, until the kernel takes it); a refusal does not fail the
 * pass. */
int engine_pass(struct engine *e, uint64_t now_ms);

/* The owner's lease for u: table (0: none, the uplink's rules and routes
 * go).  A change of table moves rules and routes at the next pass: the new
 * table is filled and selected before the old one is emptied.  A new table
 * the kernel refuses leaves the old one whole; the pass that gets the new
 * one in empties it.  A first table other than u->adopt (the server did not
 * give the crashed run's back) claims u's address's leftovers
 * (engine_claim_leftovers) and clears u->adopt. */
void engine_set_table(struct engine *e, struct uplink *u, uint32_t table);
/* The owner's routes for u changed (or u->given now points at them):
 * reconcile u at the next pass, as a change, not a restoration. */
void engine_set_given(struct engine *e, struct uplink *u, const struct kroute_set *given);
/* The policy changed (reload): reconcile u at the next pass. */
void engine_set_policy(struct engine *e, struct uplink *u, const struct uplink_policy *pol);
/* A table known to be ours that no uplink holds (a previous run's): its
 * rules and routes are removed at the next pass. */
int engine_claim_table(struct engine *e, uint8_t family, uint32_t table);
/* What dead runs for address addr left (engine/leftover.h): from the next
 * pass on, once addr's uplink holding keep (0: none) is installed, its
 * `from addr` rules into other tables go, with each such table whole
 * (rules and routes) when no other address's `from` rule uses it, else its
 * shared rules that no other address needs.  engine_set_table() claims
 * them itself when the table granted is not the one u adopted.  Needs our
 * rules in the mirror (engine_load).  0 or -ENOMEM. */
int engine_claim_leftovers(struct engine *e, uint8_t family, const struct inet_addr *addr, uint32_t keep);
/* The table u moved from (engine_set_table) keeps its rules and routes
 * until the owner claims it (engine_claim_table): an owner that moves some
 * of them itself (routes_only) does so in between. */
void engine_keep_table(struct engine *e, uint8_t family, uint32_t table);
/* Re-asks manage() for every link at the next pass (configuration reload). */
void engine_rescan(struct engine *e);

/* The mirror, read-only (for --status): a link by index, a table of ours
 * (NULL: nothing of ours in it), an address by family and bytes. */
const struct elink *engine_link(const struct engine *e, int ifindex);
const struct etable *engine_table(const struct engine *e, uint8_t family, uint32_t table);
const struct kaddr *engine_addr(const struct engine *e, const struct inet_addr *a);

/* The desired rules and routes of u (for tests and --status). */
int engine_desired(const struct engine *e, const struct uplink *u, struct krule_set *rules,
		   struct kroute_set *routes);

#endif
