/* ledger: leases in memory (in slabs; hash by key, heap by expiry, owner by
 * table; one copy of each ifname). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ledger.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *c = p; n--; c++)
		h = (h ^ *c) * 1099511628211ull;
	return h;
}

/* addr_family AF_UNSPEC: ident names the key, not addr. */
static uint64_t key_hash(int family, const char *ifname, int addr_family, const uint8_t *addr,
			 const char *ident)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)family;

	h = fnv(h, ifname, strlen(ifname) + 1);		/* the NUL ends the name */
	if (addr_family == AF_UNSPEC)
		return fnv(h, ident, strlen(ident));
	h = fnv(h ^ (uint64_t)addr_family, addr, addr_len(addr_family));
	return h;
}

static uint64_t lease_hash(const struct lease *le)
{
	return key_hash(le->family, le->ifname, le->addr_family, le->addr, le->ident);
}

/* One counted copy of an ifname or identifier; s[] holds at least
 * IFNAMSIZ bytes, NUL-padded (callers copy ifnames IFNAMSIZ at a time). */
struct name {
	uint32_t refs;
	char s[];
};

static struct name *name_of(const char *s)
{
	return (struct name *)(void *)((char *)(uintptr_t)s - offsetof(struct name, s));
}

int ledger_init(struct ledger *l, uint32_t offset, uint32_t n)
{
	int ret;

	memset(l, 0, sizeof(*l));
	if (n > UINT32_MAX / 2)
		return -EINVAL;	/* the heap's 2 * n places must fit heap_idx */
	ret = pool_init(&l->pool, offset, n);
	if (ret < 0)
		return ret;
	l->nbuckets = 1024;
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	l->names_cap = 64;
	l->names = calloc(l->names_cap, sizeof(*l->names));
	/* Each live lease holds a table in at least one family. */
	l->heap = calloc(2 * (size_t)n, sizeof(*l->heap));
	l->owner[0] = calloc(n, sizeof(*l->owner[0]));
	l->owner[1] = calloc(n, sizeof(*l->owner[1]));
	if (!l->buckets || !l->names || !l->heap || !l->owner[0] || !l->owner[1]) {
		ledger_free(l);
		return -ENOMEM;
	}
	return 0;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->slabs[i / LEDGER_SLAB][i % LEDGER_SLAB].tag);
	for (size_t i = 0; i < l->nslabs; i++)
		free(l->slabs[i]);
	free(l->slabs);
	free(l->buckets);
	for (size_t i = 0; l->names && i < l->names_cap; i++)
		free(l->names[i]);	/* whatever leases still named */
	free(l->names);
	free(l->heap);
	free(l->owner[0]);
	free(l->owner[1]);
	pool_free(&l->pool);
	memset(l, 0, sizeof(*l));
}

static struct lease *find(struct ledger *l, int family, const char *ifname, int addr_family,
			  const uint8_t *addr, const char *ident)
{
	struct lease *le = l->buckets[key_hash(family, ifname, addr_family, addr, ident) & (l->nbuckets - 1)];

	for (; le; le = le->hnext) {
		if (le->family != family || le->addr_family != addr_family || strcmp(le->ifname, ifname))
			continue;
		if (addr_family == AF_UNSPEC ? !strcmp(le->ident, ident) :
		    !memcmp(le->addr, addr, addr_len(addr_family)))
			return le;
	}
	return NULL;
}

struct lease *ledger_find(struct ledger *l, int family, const char *ifname, const struct inet_addr *a)
{
	return find(l, family, ifname, a->family, a->bytes, NULL);
}

struct lease *ledger_find_id(struct ledger *l, const char *ifname, const char *ident)
{
	return find(l, AF_UNSPEC, ifname, AF_UNSPEC, NULL, ident);
}

static void rehash(struct ledger *l)
{
	size_t n = l->nbuckets * 2;
	struct lease **b = calloc(n, sizeof(*b));

	if (!b)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < l->nbuckets; i++) {
		struct lease *le = l->buckets[i], *next;

		for (; le; le = next) {
			size_t h = lease_hash(le) & (n - 1);

			next = le->hnext;
			le->hnext = b[h];
			b[h] = le;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = n;
}

/* --- names: one counted copy each, shared by their leases ---
 * Linear probing; a name goes when its last lease does (refused and
 * forgotten keys must not leave their names behind: 200,000 distinct
 * ifnames were 10 MB). */
static size_t name_home(const struct ledger *l, const char *s)
{
	return fnv(1469598103934665603ull, s, strlen(s)) & (l->names_cap - 1);
}

static size_t name_slot(const struct ledger *l, const char *s)
{
	size_t mask = l->names_cap - 1, i = name_home(l, s);

	while (l->names[i] && strcmp(l->names[i]->s, s))
		i = (i + 1) & mask;
	return i;
}

static int names_grow(struct ledger *l)
{
	struct name **old = l->names;
	size_t old_cap = l->names_cap;

	l->names = calloc(2 * old_cap, sizeof(*l->names));
	if (!l->names) {
		l->names = old;
		return -ENOMEM;
	}
	l->names_cap = 2 * old_cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			l->names[name_slot(l, old[i]->s)] = old[i];
	free(old);
	return 0;
}

/* A counted reference to the copy of s (made on first use), or NULL when
 * out of memory. */
static const char *name_get(struct ledger *l, const char *s)
{
	size_t i = name_slot(l, s), n = strlen(s);
	struct name *nm;

	if (l->names[i]) {
		l->names[i]->refs++;
		return l->names[i]->s;
	}
	if (2 * (l->nnames + 1) > l->names_cap) {	/* at most half full */
		if (names_grow(l) < 0)
			return NULL;
		i = name_slot(l, s);
	}
	nm = calloc(1, sizeof(*nm) + (n < IFNAMSIZ ? IFNAMSIZ : n + 1));
	if (!nm)
		return NULL;
	memcpy(nm->s, s, n);
	nm->refs = 1;
	l->names[i] = nm;
	l->nnames++;
	return nm->s;
}

/* Drops a reference; the last one frees the copy and closes the gap in
 * its probe sequence (backward shift: no tombstones to pile up). */
static void name_put(struct ledger *l, const char *s)
{
	size_t mask = l->names_cap - 1, i, j;
	struct name *nm;

	if (!s)
		return;
	nm = name_of(s);
	if (--nm->refs)
		return;
	i = name_slot(l, s);
	l->names[i] = NULL;
	l->nnames--;
	free(nm);
	for (j = (i + 1) & mask; l->names[j]; j = (j + 1) & mask) {
		size_t h = name_home(l, l->names[j]->s);

		/* names[j] may move into the gap at i unless its home lies
		 * cyclically in (i, j] */
		if (i <= j ? (h > i && h <= j) : (h > i || h <= j))
			continue;
		l->names[i] = l->names[j];
		l->names[j] = NULL;
		i = j;
	}
}

size_t ledger_names(const struct ledger *l)
{
	return l->nnames;
}

/* A zeroed lease: a forgotten one's place, or the next of the current
 * slab, counted; NULL when out of memory. */
static struct lease *slab_alloc(struct ledger *l)
{
	size_t slab = l->count / LEDGER_SLAB;

	if (l->unused) {
		struct lease *le = l->unused;

		l->unused = le->hnext;
		memset(le, 0, sizeof(*le));
		return le;
	}
	if (slab == l->nslabs) {
		if (l->nslabs == l->slabs_cap) {
			size_t cap = l->slabs_cap ? 2 * l->slabs_cap : 16;
			struct lease **s = realloc(l->slabs, cap * sizeof(*s));

			if (!s)
				return NULL;
			l->slabs = s;
			l->slabs_cap = cap;
		}
		l->slabs[slab] = calloc(LEDGER_SLAB, sizeof(struct lease));
		if (!l->slabs[slab])
			return NULL;
		l->nslabs++;
	}
	return &l->slabs[slab][l->count++ % LEDGER_SLAB];
}

/* le (zeroed but for its key) into the hash. */
static void hash_add(struct ledger *l, struct lease *le)
{
	size_t h;

	if (++l->nkeys > l->nbuckets)
		rehash(l);
	h = lease_hash(le) & (l->nbuckets - 1);
	le->hnext = l->buckets[h];
	l->buckets[h] = le;
}

struct lease *ledger_add(struct ledger *l, int family, const char *ifname, const struct inet_addr *a)
{
	const char *name = name_get(l, ifname);
	struct lease *le = name ? slab_alloc(l) : NULL;

	if (!le) {
		name_put(l, name);
		return NULL;
	}
	le->family = (uint8_t)family;
	le->ifname = name;
	le->addr_family = (uint8_t)a->family;
	memcpy(le->addr, a->bytes, addr_len(a->family));
	hash_add(l, le);
	return le;
}

struct lease *ledger_add_id(struct ledger *l, const char *ifname, const char *ident)
{
	const char *name = name_get(l, ifname);
	const char *id = name ? name_get(l, ident) : NULL;
	struct lease *le = id ? slab_alloc(l) : NULL;

	if (!le) {
		name_put(l, id);
		name_put(l, name);
		return NULL;
	}
	le->family = AF_UNSPEC;
	le->ifname = name;
	le->addr_family = AF_UNSPEC;
	le->ident = id;
	hash_add(l, le);
	return le;
}

const char *ledger_addr_str(const struct lease *le, char *buf, size_t len)
{
	struct inet_addr a = { .family = le->addr_family };

	if (le->addr_family == AF_UNSPEC) {
		snprintf(buf, len, "%s", le->ident);
		return buf;
	}
	memcpy(a.bytes, le->addr, addr_len(le->addr_family));
	return addr_str(&a, buf, len);
}

int ledger_set_tag(struct lease *le, const char *tag)
{
	char *copy = NULL;

	if (!strcmp(ledger_tag(le), tag))
		return 0;	/* a renewal: the same tag again */
	if (*tag && !(copy = strdup(tag)))
		return -ENOMEM;
	free(le->tag);
	le->tag = copy;
	return 0;
}

const char *ledger_tag(const struct lease *le)
{
	return le->tag ? le->tag : "";
}

/* --- the expiry heap --- */
static void heap_set(struct ledger *l, size_t i, struct lease *le)
{
	l->heap[i] = le;
	le->heap_idx = (uint32_t)i;	/* i < 2 * n: see ledger_init() */
}

static void heap_up(struct ledger *l, size_t i)
{
	struct lease *le = l->heap[i];

	while (i > 0 && l->heap[(i - 1) / 2]->expires > le->expires) {
		heap_set(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(l, i, le);
}

static void heap_down(struct ledger *l, size_t i)
{
	struct lease *le = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->expires < l->heap[c]->expires)
			c++;
		if (l->heap[c]->expires >= le->expires)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, le);
}

static void heap_remove(struct ledger *l, struct lease *le)
{
	size_t i = le->heap_idx;
	struct lease *last = l->heap[--l->nheap];

	if (last == le)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->heap_idx);
}

struct lease *ledger_next_expiry(const struct ledger *l)
{
	return l->nheap ? l->heap[0] : NULL;
}

size_t ledger_keys(const struct ledger *l)
{
	return l->nkeys;
}

/* The owner slots of le's table in le's families: [0] inet, [1] inet6;
 * NULL where le's family has none or its table is not in the pool. */
static void owner_slots(struct ledger *l, const struct lease *le, struct lease ***slot)
{
	bool in = pool_contains(&l->pool, le->table);
	uint32_t i = le->table - l->pool.offset;

	slot[0] = in && le->family != AF_INET6 ? &l->owner[0][i] : NULL;
	slot[1] = in && le->family != AF_INET ? &l->owner[1][i] : NULL;
}

/* Takes le out of the owner slots of its table that still name it. */
static void unown(struct ledger *l, const struct lease *le)
{
	struct lease **slot[2];

	owner_slots(l, le, slot);
	for (int f = 0; f < 2; f++)
		if (slot[f] && *slot[f] == le)
			*slot[f] = NULL;
}

void ledger_recycle(struct ledger *l, struct lease *le)
{
	name_put(l, le->ifname);
	if (le->addr_family == AF_UNSPEC)
		name_put(l, le->ident);
	le->ifname = NULL;
	le->forgotten = false;
	le->hnext = l->unused;
	l->unused = le;
}

void ledger_forget(struct ledger *l, struct lease *le)
{
	struct lease **p = &l->buckets[lease_hash(le) & (l->nbuckets - 1)];

	if (le->alive || le->forgotten)
		return;
	while (*p && *p != le)
		p = &(*p)->hnext;
	if (*p)
		*p = le->hnext;
	l->nkeys--;
	unown(l, le);
	free(le->tag);
	le->tag = NULL;
	le->forgotten = true;
	if (!le->dirty)
		ledger_recycle(l, le);
}

/* Whether an owner slot of le's table names le. */
static bool owned(struct ledger *l, const struct lease *le)
{
	struct lease **slot[2];

	owner_slots(l, le, slot);
	return (slot[0] && *slot[0] == le) || (slot[1] && *slot[1] == le);
}

/* le (live, its table taken in the pool) becomes its table's owner.  The
 * dead leases it displaces that no slot names any more are forgotten: one
 * of le's family had its database row in the slot le's row now takes (an
 * unspec one keeps its row when an inet lease takes its table, but it is
 * forgotten too once both families' slots have moved on: memory stays
 * bounded by the tables; a restart reads it back from its row). */
static void own(struct ledger *l, struct lease *le)
{
	struct lease **slot[2], *gone[2] = { NULL, NULL };

	owner_slots(l, le, slot);
	for (int f = 0; f < 2; f++) {
		if (!slot[f])
			continue;
		if (*slot[f] && *slot[f] != le && !(*slot[f])->alive)
			gone[f] = *slot[f];
		*slot[f] = le;
	}
	for (int f = 0; f < 2; f++)
		if (gone[f] && !(f == 1 && gone[1] == gone[0]) && !owned(l, gone[f]))
			ledger_forget(l, gone[f]);
}

static void make_live(struct ledger *l, struct lease *le, int64_t expires)
{
	le->alive = true;
	le->released = false;
	le->expires = expires;
	own(l, le);
	heap_set(l, l->nheap++, le);
	heap_up(l, le->heap_idx);
}

/* How many free tables a newcomer looks past for one that is no other
 * key's recent preference: bounded, so a pool of recent preferences costs a
 * grant at most this many probes before first fit. */
#define STICKY_PROBES 64

/* Whether free table t is the preference of a key (not le) whose lease
 * ended after since. */
static bool recent_pref(struct ledger *l, const struct lease *le, uint32_t t, int64_t since)
{
	uint32_t i = t - l->pool.offset;

	for (int f = 0; f < 2; f++) {
		const struct lease *o = l->owner[f][i];

		if (o && o != le && !o->alive && !o->released && o->expires > since &&
		    (f == 0 ? le->family != AF_INET6 : le->family != AF_INET))
			return true;
	}
	return false;
}

int ledger_claim(struct ledger *l, struct lease *le, int64_t expires, uint32_t claim,
		 int64_t sticky_since)
{
	uint32_t t;

	if (le->alive) {
		int64_t old = le->expires;

		le->expires = expires;
		if (expires >= old)
			heap_down(l, le->heap_idx);
		else
			heap_up(l, le->heap_idx);
		return 0;
	}
	t = claim;
	if (!t || !pool_is_free(&l->pool, le->family, t))
		t = le->table;
	if (!t || !pool_is_free(&l->pool, le->family, t)) {
		uint32_t first = pool_first_free(&l->pool, le->family);

		t = first;
		for (int n = 0; t && n < STICKY_PROBES && recent_pref(l, le, t, sticky_since); n++)
			t = t + 1 < t ? 0 : pool_next_free(&l->pool, le->family, t + 1);
		if (!t || recent_pref(l, le, t, sticky_since))
			t = first;
	}
	if (!t)
		return -ENOSPC;
	pool_take(&l->pool, le->family, t);
	if (t != le->table)
		unown(l, le);	/* an unspec one may still be named where free */
	le->table = t;
	make_live(l, le, expires);
	return 0;
}

static bool bit_set(const uint64_t *bits, uint32_t i)
{
	return bits && (bits[i / 64] >> (i % 64) & 1);
}

/* Whether free table t is the preference of another key of family's
 * tables whose lease ended (not by a release), however long ago. */
static bool any_pref(const struct ledger *l, int family, const struct lease *le, uint32_t t)
{
	uint32_t i = t - l->pool.offset;

	for (int f = 0; f < 2; f++) {
		const struct lease *o = l->owner[f][i];

		if (o && o != le && !o->alive && !o->released &&
		    (f == 0 ? family != AF_INET6 : family != AF_INET))
			return true;
	}
	return false;
}

uint32_t ledger_free_unheld(const struct ledger *l, int family, const struct lease *le,
			    const uint64_t *held)
{
	uint32_t t;

	if (le && le->table && pool_is_free(&l->pool, family, le->table) &&
	    !bit_set(held, le->table - l->pool.offset))
		return le->table;
	for (t = pool_next_free_except(&l->pool, family, l->pool.offset, held); t;
	     t = pool_next_free_except(&l->pool, family, t + 1, held)) {
		if (!any_pref(l, family, le, t))
			return t;
		if (t + 1 < t)
			break;
	}
	return 0;
}

int ledger_grant(struct ledger *l, struct lease *le, int64_t expires)
{
	return ledger_claim(l, le, expires, 0, INT64_MAX);
}

int ledger_restore(struct ledger *l, struct lease *le, int64_t expires)
{
	int ret = pool_take(&l->pool, le->family, le->table);

	if (ret < 0)
		return ret;
	make_live(l, le, expires);
	return 0;
}

void ledger_drop(struct ledger *l, struct lease *le)
{
	if (!le->alive)
		return;
	heap_remove(l, le);
	pool_put(&l->pool, le->family, le->table);
	le->alive = false;	/* still its table's owner, now the last one */
}

void ledger_restore_dead(struct ledger *l, struct lease *le)
{
	struct lease **slot[2];

	owner_slots(l, le, slot);
	for (int f = 0; f < 2; f++)
		if (slot[f] && !*slot[f])
			*slot[f] = le;
}

size_t ledger_live(const struct ledger *l)
{
	return l->nheap;
}

struct lease *ledger_nth_live(const struct ledger *l, size_t idx)
{
	for (uint32_t i = 0; i < l->pool.n; i++) {
		struct lease *a = l->owner[0][i], *b = l->owner[1][i];

		if (a && a->alive && idx-- == 0)
			return a;
		if (b && b->alive && b != a && idx-- == 0)
			return b;
	}
	return NULL;
}
