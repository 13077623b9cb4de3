/* pool: which routing tables are free, one bitmap per address family.
 * IPv4 and IPv6 have separate FIBs in Linux, so inet and inet6 lease the same
 * range independently; an AF_UNSPEC lease holds its table in both. */
#ifndef RTALLOC_POOL_H
#define RTALLOC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool {
	uint32_t offset;	/* first table */
	uint32_t n;		/* number of tables */
	size_t words;
	uint64_t *free[2];	/* bit set = table free; [0] inet, [1] inet6 */
	/* Every word of free[f] below low[f] is 0 (all taken): first fit
	 * starts there instead of scanning the tables leased since 0. */
	size_t low[2];
};

int pool_init(struct pool *p, uint32_t offset, uint32_t n);
void pool_free(struct pool *p);
bool pool_contains(const struct pool *p, uint32_t table);
/* family: AF_INET, AF_INET6 or AF_UNSPEC (free in both). */
bool pool_is_free(const struct pool *p, int family, uint32_t table);
/* The lowest free table, or 0 when none is. */
uint32_t pool_first_free(const struct pool *p, int family);
/* The lowest free table >= table, or 0 when none is. */
uint32_t pool_next_free(const struct pool *p, int family, uint32_t table);
/* The same skipping tables whose bit (table - offset) except sets (at
 * least (n + 63) / 64 words; NULL: none): a word at a time. */
uint32_t pool_next_free_except(const struct pool *p, int family, uint32_t table, const uint64_t *except);
/* 0, -ERANGE (not in the pool) or -EBUSY (already taken in a family). */
int pool_take(struct pool *p, int family, uint32_t table);
void pool_put(struct pool *p, int family, uint32_t table);
/* How many tables are taken in family (AF_UNSPEC: in either). */
uint32_t pool_used(const struct pool *p, int family);

/* Marks: a mark pool is a pool of indices 1..2^bits(mask) - 1, index i
 * the mark whose bits under mask are i's bits in order (bit k of i at the
 * k-th set bit of mask). */
uint32_t pool_mark_count(uint32_t mask);
uint32_t pool_mark_value(uint32_t mask, uint32_t idx);
/* The index of mark, or 0 when mark is 0 or has bits outside mask. */
uint32_t pool_mark_index(uint32_t mask, uint32_t mark);

#endif
