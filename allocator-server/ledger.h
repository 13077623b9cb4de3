/* ledger: the leases in memory.  Keys (family, ifname, address) -> lease,
 * a min-heap of live leases by expiry (to arm one timer for the next one),
 * and which lease holds each table.  Dead leases stay as their key's
 * preferred table until another key of their family takes that table, as
 * their row in the database does (one row per table and family): so the
 * leases in memory are bounded by the tables, however many addresses come
 * and go.  No I/O here: the server writes what changed. */
#ifndef RTALLOC_LEDGER_H
#define RTALLOC_LEDGER_H

#include <assert.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "pool.h"
#include "proto.h"

struct lease {
	struct lease *hnext;		/* hash chain */
	struct lease *dnext;		/* server's list of rows to write */
	/* NULL when empty: few leases carry one, and 128 bytes inline were
	 * half of rtallocd's memory with 100,000 leases. */
	char *tag;
	/* The ledger's one copy of the name, at least IFNAMSIZ bytes and
	 * NUL-padded like the array it replaced: a host has a few devices and
	 * many leases, and 16 bytes each were a sixth of a lease.  Counted:
	 * the copy goes with the last lease that names it. */
	const char *ifname;
	/* CLOCK_BOOTTIME seconds, as acked (the server converts to the wall
	 * clock for the database only); while dead: when it ended. */
	int64_t expires;
	/* While live: the expiry of its row in the database (>= expires, see
	 * the server's flush()); 0 when the database holds no live row. */
	int64_t stored;
	union {
		uint8_t addr[16];	/* network order; IPv4 in the first 4 */
		/* addr_family AF_UNSPEC: an identifier, not an address
		 * (proto_ident_valid()), one counted copy like ifname */
		const char *ident;
	};
	uint32_t heap_idx;		/* while live: its place in the heap */
	uint32_t table;			/* while dead: the preferred table */
	uint32_t uid;
	uint8_t family;			/* of the lease: AF_INET, AF_INET6, AF_UNSPEC */
	/* The address's own: an AF_UNSPEC lease may have either, and
	 * 1.2.3.4 and 102:304:: share their first four bytes; AF_UNSPEC for
	 * an identifier. */
	uint8_t addr_family;
	bool dirty : 1;
	bool alive : 1;
	/* Forgotten while dirty: out of the hash and the owners, its memory
	 * waits for ledger_recycle() once the server has written its row. */
	bool forgotten : 1;
	/* Dead by a release, not a lapse: its holder said it is done, so its
	 * table is no preference to keep from newcomers (ledger_claim()). */
	bool released : 1;
	/* Of the server's mark ledger (its table is a mark index). */
	bool mark : 1;
};

/* 100,000 leases are 8 MB at 80 bytes, most of rtallocd's memory: a field
 * that grows the lease should be worth it. */
static_assert(sizeof(struct lease) <= 80, "struct lease grew past 80 bytes");

/* Leases come LEDGER_SLAB at a time from one allocation, freed with the
 * ledger; a forgotten lease's place is reused: no allocator header or
 * rounding per lease. */
#define LEDGER_SLAB 1024

struct ledger {
	struct pool pool;
	struct lease **slabs;		/* count leases, LEDGER_SLAB per slab */
	size_t nslabs, slabs_cap;
	struct lease *unused;		/* forgotten leases' places, by hnext */
	size_t nkeys;			/* leases in the hash */
	struct lease **buckets;
	size_t nbuckets, count;
	/* The leases' ifnames and identifiers, counted (struct name in
	 * ledger.c), open addressing: only names some lease holds. */
	struct name **names;
	size_t names_cap, nnames;
	struct lease **heap;		/* live leases, earliest expiry first */
	size_t nheap;
	/* [family][table - offset]; unspec in both: the live lease that
	 * holds the table, else the dead one that last did (or NULL). */
	struct lease **owner[2];
};

int ledger_init(struct ledger *l, uint32_t offset, uint32_t n);
void ledger_free(struct ledger *l);
/* Keys: family is the lease's; a is an address of that family, or of
 * either for AF_UNSPEC (addr_parse(family, ...) gives such an address);
 * ifname is a device name (ifname_valid()). */
struct lease *ledger_find(struct ledger *l, int family, const char *ifname, const struct inet_addr *a);
/* A new dead lease for the key (no table yet); NULL when out of memory. */
struct lease *ledger_add(struct ledger *l, int family, const char *ifname, const struct inet_addr *a);
/* The same for an AF_UNSPEC key named by an identifier (proto_ident_valid()). */
struct lease *ledger_find_id(struct ledger *l, const char *ifname, const char *ident);
struct lease *ledger_add_id(struct ledger *l, const char *ifname, const char *ident);
/* How many distinct names (ifnames, identifiers) the ledger holds. */
size_t ledger_names(const struct ledger *l);
/* le's address as canonical text (addr_str()); buf holds INET6_ADDRSTRLEN. */
const char *ledger_addr_str(const struct lease *le, char *buf, size_t len);
/* Sets le's tag (a copy; "" frees it): 0 or -ENOMEM, the old tag kept. */
int ledger_set_tag(struct lease *le, const char *tag);
/* le's tag, "" when it has none. */
const char *ledger_tag(const struct lease *le);
/* Make le live until expires: keeps its table when live, else takes its
 * preferred table if free, else the first free one.  0 or -ENOSPC.  A
 * dead lease of le's family whose preferred table le takes is forgotten. */
int ledger_grant(struct ledger *l, struct lease *le, int64_t expires);
/* ledger_grant() for a dead le that may say which table it holds: claim
 * (0: none) if it is free, else its preferred table if free, else the
 * first free table that is no other key's recent preference (one whose
 * lease lapsed, not released, after sticky_since), else the first free
 * one. */
int ledger_claim(struct ledger *l, struct lease *le, int64_t expires, uint32_t claim,
		 int64_t sticky_since);
/* For a key of family (le: its dead lease, or NULL) while tables may be
 * held by clients the ledger does not know: le's preferred table if free
 * and not in held (bit table - offset set), else the first free table not
 * in held that no other key's ended lease prefers (a released one does
 * not); 0 when there is none.  O(tables / 64 + free tables some ended
 * lease prefers): for a grace period only. */
uint32_t ledger_free_unheld(const struct ledger *l, int family, const struct lease *le,
			    const uint64_t *held);
/* Forgets dead le: ledger_find() no longer returns it; its memory is
 * reused at once, or after ledger_recycle() when le is dirty. */
void ledger_forget(struct ledger *l, struct lease *le);
/* The memory of le, forgotten while dirty, is free for new leases. */
void ledger_recycle(struct ledger *l, struct lease *le);
/* How many keys the ledger holds, live and dead. */
size_t ledger_keys(const struct ledger *l);
/* Put back le's table(s); le stays as a preference. */
void ledger_drop(struct ledger *l, struct lease *le);
/* Restore a live lease at start-up: 0, or -EBUSY/-ERANGE when its table
 * cannot be held (it then stays dead). */
int ledger_restore(struct ledger *l, struct lease *le, int64_t expires);
/* A dead lease read at start-up becomes its table's last holder where no
 * lease is yet (so a later grant of the table can forget it). */
void ledger_restore_dead(struct ledger *l, struct lease *le);
/* The live lease that expires first, or NULL. */
struct lease *ledger_next_expiry(const struct ledger *l);
/* Live leases in table order: the idx-th one, or NULL past the end;
 * O(tables): for the rare LIST only. */
size_t ledger_live(const struct ledger *l);
struct lease *ledger_nth_live(const struct ledger *l, size_t idx);

#endif
