/* pool: free-table bitmaps (64-bit words, find-first-set). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pool.h"

int pool_init(struct pool *p, uint32_t offset, uint32_t n)
{
	memset(p, 0, sizeof(*p));
	if (n == 0 || offset == 0 || (uint64_t)offset + n - 1 > UINT32_MAX)
		return -EINVAL;
	p->offset = offset;
	p->n = n;
	p->words = (n + 63) / 64;
	for (int f = 0; f < 2; f++) {
		p->free[f] = malloc(p->words * sizeof(uint64_t));
		if (!p->free[f]) {
			pool_free(p);
			return -ENOMEM;
		}
		memset(p->free[f], 0xff, p->words * sizeof(uint64_t));
		/* bits past the end are never free */
		if (n % 64)
			p->free[f][p->words - 1] = (UINT64_C(1) << (n % 64)) - 1;
	}
	return 0;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	free(p->free[0]);
	free(p->free[1]);
	p->free[0] = p->free[1] = NULL;
}

bool pool_contains(const struct pool *p, uint32_t table)
{
	return table >= p->offset && table - p->offset < p->n;
}

static uint64_t word(const struct pool *p, int family, size_t i)
{
	if (family == AF_INET)
		return p->free[0][i];
	if (family == AF_INET6)
		return p->free[1][i];
	return p->free[0][i] & p->free[1][i];
}

bool pool_is_free(const struct pool *p, int family, uint32_t table)
{
	uint32_t i = table - p->offset;

	if (!pool_contains(p, table))
		return false;
	return word(p, family, i / 64) & (UINT64_C(1) << (i % 64));
}

uint32_t pool_first_free(const struct pool *p, int family)
{
	size_t start = family == AF_INET ? p->low[0] : family == AF_INET6 ? p->low[1] :
		       (p->low[0] > p->low[1] ? p->low[0] : p->low[1]);

	for (size_t i = start; i < p->words; i++) {
		uint64_t w = word(p, family, i);

		if (w)
			return p->offset + (uint32_t)(i * 64) + (uint32_t)__builtin_ctzll(w);
	}
	return 0;
}

uint32_t pool_next_free_except(const struct pool *p, int family, uint32_t table, const uint64_t *except)
{
	uint32_t i;
	uint64_t w;

	if (table < p->offset)
		table = p->offset;
	if (!pool_contains(p, table))
		return 0;
	i = table - p->offset;
	w = word(p, family, i / 64) & (~UINT64_C(0) << (i % 64));
	for (size_t k = i / 64;;) {
		if (except)
			w &= ~except[k];
		if (w)
			return p->offset + (uint32_t)(k * 64) + (uint32_t)__builtin_ctzll(w);
		if (++k >= p->words)
			return 0;
		w = word(p, family, k);
	}
}

uint32_t pool_next_free(const struct pool *p, int family, uint32_t table)
{
	if (table < p->offset)
		return pool_first_free(p, family);
	return pool_next_free_except(p, family, table, NULL);
}

int pool_take(struct pool *p, int family, uint32_t table)
{
	uint32_t i = table - p->offset;
	uint64_t bit = UINT64_C(1) << (i % 64);

	if (!pool_contains(p, table))
		return -ERANGE;
	if (!pool_is_free(p, family, table))
		return -EBUSY;
	for (int f = 0; f < 2; f++) {
		if (family == (f ? AF_INET : AF_INET6))
			continue;
		p->free[f][i / 64] &= ~bit;
		while (p->low[f] < p->words && !p->free[f][p->low[f]])
			p->low[f]++;
	}
	return 0;
}

void pool_put(struct pool *p, int family, uint32_t table)
{
	uint32_t i = table - p->offset;
	uint64_t bit = UINT64_C(1) << (i % 64);

	if (!pool_contains(p, table))
		return;
	for (int f = 0; f < 2; f++) {
		if (family == (f ? AF_INET : AF_INET6))
			continue;
		p->free[f][i / 64] |= bit;
		if (i / 64 < p->low[f])
			p->low[f] = i / 64;
	}
}

uint32_t pool_used(const struct pool *p, int family)
{
	uint32_t freebits = 0;

	for (size_t i = 0; i < p->words; i++) {
		uint64_t w = family == AF_UNSPEC ? (p->free[0][i] & p->free[1][i]) : word(p, family, i);

		freebits += (uint32_t)__builtin_popcountll(w);
	}
	return p->n - freebits;
}

uint32_t pool_mark_count(uint32_t mask)
{
	int bits = __builtin_popcount(mask);

	return bits >= 32 ? UINT32_MAX : (UINT32_C(1) << bits) - 1;
}

uint32_t pool_mark_value(uint32_t mask, uint32_t idx)
{
	uint32_t v = 0;

	for (uint32_t bit = 1; mask && idx; bit <<= 1) {
		if (!(mask & bit))
			continue;
		if (idx & 1)
			v |= bit;
		idx >>= 1;
		mask &= ~bit;
	}
	return v;
}

uint32_t pool_mark_index(uint32_t mask, uint32_t mark)
{
	uint32_t idx = 0;
	int k = 0;

	if (mark & ~mask)
		return 0;
	for (uint32_t bit = 1; mask; bit <<= 1) {
		if (!(mask & bit))
			continue;
		if (mark & bit)
			idx |= UINT32_C(1) << k;
		k++;
		mask &= ~bit;
	}
	return idx;
}
