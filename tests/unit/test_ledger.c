/* Unit tests for ledger: keys (the address in binary, with its own family),
 * table preference, drop, restore, the expiry heap, and many leases across
 * slabs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "addr.h"
#include "ledger.h"

/* s parsed as the server parses a request's address; returns a. */
static const struct inet_addr *ip(int family, const char *s, struct inet_addr *a)
{
	assert_int_equal(addr_parse(family, s, a), 0);
	return a;
}

/* The small tests' ledger: tables 10000..10003.  Freed by teardown() even
 * when a test fails half-way. */
static int setup(void **state)
{
	static struct ledger l;

	*state = &l;
	return ledger_init(&l, 10000, 4);
}

static int teardown(void **state)
{
	ledger_free(*state);
	return 0;
}

static void test_keys(void **state)
{
	struct ledger *l = *state;
	struct inet_addr a;
	struct lease *v4, *v6, *u4, *u6;
	char buf[INET6_ADDRSTRLEN];

	/* One chain for every key: only the comparison tells them apart. */
	l->nbuckets = 1;
	v4 = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "1.2.3.4", &a));
	v6 = ledger_add(l, AF_INET6, "eth0", ip(AF_INET6, "102:304::", &a));
	u4 = ledger_add(l, AF_UNSPEC, "eth0", ip(AF_UNSPEC, "1.2.3.4", &a));
	assert_non_null(v4);
	assert_non_null(v6);
	assert_non_null(u4);
	/* 102:304:: starts with the bytes of 1.2.3.4: another key all the same */
	assert_null(ledger_find(l, AF_UNSPEC, "eth0", ip(AF_UNSPEC, "102:304::", &a)));
	u6 = ledger_add(l, AF_UNSPEC, "eth0", &a);
	assert_non_null(u6);
	assert_ptr_not_equal(u6, u4);

	assert_ptr_equal(ledger_find(l, AF_INET, "eth0", ip(AF_INET, "1.2.3.4", &a)), v4);
	assert_ptr_equal(ledger_find(l, AF_UNSPEC, "eth0", &a), u4);
	assert_ptr_equal(ledger_find(l, AF_INET6, "eth0", ip(AF_INET6, "102:304::", &a)), v6);
	assert_ptr_equal(ledger_find(l, AF_UNSPEC, "eth0", &a), u6);
	/* another device or another address: no such key */
	assert_null(ledger_find(l, AF_INET, "eth1", ip(AF_INET, "1.2.3.4", &a)));
	assert_null(ledger_find(l, AF_INET, "eth0", ip(AF_INET, "1.2.3.5", &a)));
	assert_null(ledger_find(l, AF_INET6, "eth0", ip(AF_INET6, "102:304::1", &a)));

	assert_string_equal(ledger_addr_str(v4, buf, sizeof(buf)), "1.2.3.4");
	assert_string_equal(ledger_addr_str(u6, buf, sizeof(buf)), "102:304::");
	/* any spelling parses to the key; its text is the canonical one */
	assert_ptr_equal(ledger_find(l, AF_INET6, "eth0", ip(AF_INET6, "0102:0304:0::0", &a)), v6);
	assert_string_equal(ledger_addr_str(v6, buf, sizeof(buf)), "102:304::");
	assert_int_equal(v4->family, AF_INET);
	assert_int_equal(u6->family, AF_UNSPEC);
}

static void test_ifnames(void **state)
{
	struct ledger *l = *state;
	struct inet_addr a;
	struct lease *x, *y, *z;
	char name[IFNAMSIZ] = "eth0";
	char longest[IFNAMSIZ] = "abcdefghijklmno";

	x = ledger_add(l, AF_INET, name, ip(AF_INET, "10.0.0.1", &a));
	y = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.2", &a));
	z = ledger_add(l, AF_INET, longest, &a);
	/* a copy, not the caller's buffer; one copy for both leases */
	name[0] = 'X';
	assert_string_equal(x->ifname, "eth0");
	assert_ptr_equal(x->ifname, y->ifname);
	assert_ptr_equal(ledger_find(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &a)), x);
	assert_null(ledger_find(l, AF_INET, name, &a));
	/* IFNAMSIZ bytes, NUL-padded: the server copies it like an array */
	assert_memory_equal(z->ifname, longest, IFNAMSIZ);
	assert_memory_equal(x->ifname, "eth0\0\0\0\0\0\0\0\0\0\0\0", IFNAMSIZ);
	assert_ptr_equal(ledger_find(l, AF_INET, "abcdefghijklmno", ip(AF_INET, "10.0.0.2", &a)), z);
}

/* Names are counted: the last lease of a name takes it along (refused
 * and forgotten keys must not leave names behind); identifiers too. */
static void test_names_counted(void **state)
{
	struct ledger *l = *state;
	struct inet_addr a;
	struct lease *x, *y, *u;
	char name[IFNAMSIZ], buf[INET6_ADDRSTRLEN];

	(void)state;
	x = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &a));
	y = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.2", &a));
	u = ledger_add_id(l, "eth0", "myuplink");
	assert_non_null(u);
	assert_int_equal(ledger_names(l), 2);
	assert_ptr_equal(ledger_find_id(l, "eth0", "myuplink"), u);
	assert_null(ledger_find_id(l, "eth1", "myuplink"));
	assert_null(ledger_find(l, AF_UNSPEC, "eth0", ip(AF_UNSPEC, "10.0.0.1", &a)));
	assert_string_equal(ledger_addr_str(u, buf, sizeof(buf)), "myuplink");
	ledger_forget(l, x);
	assert_int_equal(ledger_names(l), 2);
	assert_string_equal(y->ifname, "eth0");
	ledger_forget(l, y);
	ledger_forget(l, u);
	assert_int_equal(ledger_names(l), 0);
	assert_int_equal(ledger_keys(l), 0);
	/* many names come and go: the table stays small and findable (the
	 * backward-shift deletion keeps every probe sequence whole) */
	for (int round = 0; round < 3; round++) {
		struct lease *le[200];

		for (int i = 0; i < 200; i++) {
			snprintf(name, sizeof(name), "n%d", i * 7 + round);
			le[i] = ledger_add(l, AF_INET, name, ip(AF_INET, "10.0.0.1", &a));
			assert_non_null(le[i]);
		}
		for (int i = 0; i < 200; i += 2)
			ledger_forget(l, le[i]);
		for (int i = 1; i < 200; i += 2) {
			snprintf(name, sizeof(name), "n%d", i * 7 + round);
			assert_ptr_equal(ledger_find(l, AF_INET, name, &a), le[i]);
			ledger_forget(l, le[i]);
		}
		assert_int_equal(ledger_names(l), 0);
	}
	assert_true(l->names_cap <= 512);
}

/* A dead key saying which table it holds gets it while free; a newcomer
 * passes over other keys' recent preferences. */
static void test_claim_sticky(void **state)
{
	struct ledger *l = *state;
	struct inet_addr a;
	struct lease *x, *y, *n;

	(void)state;
	x = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &a));
	assert_int_equal(ledger_claim(l, x, 100, 10002, 0), 0);
	assert_int_equal(x->table, 10002);
	y = ledger_add(l, AF_INET, "eth1", ip(AF_INET, "10.0.0.2", &a));
	/* a claim of a taken table: the usual choice */
	assert_int_equal(ledger_claim(l, y, 100, 10002, 0), 0);
	assert_int_equal(y->table, 10000);
	/* y's lease ends at 50 */
	ledger_drop(l, y);
	y->expires = 50;
	n = ledger_add(l, AF_INET, "eth2", ip(AF_INET, "10.0.0.3", &a));
	/* sticky since 40: 10000 ended after it, so a newcomer takes 10001 */
	assert_int_equal(ledger_claim(l, n, 100, 0, 40), 0);
	assert_int_equal(n->table, 10001);
	assert_int_equal(ledger_claim(l, y, 100, 0, 40), 0);
	assert_int_equal(y->table, 10000);
	/* no other table: a recent preference is taken rather than none */
	ledger_drop(l, y);
	y->expires = 50;
	ledger_drop(l, n);
	n->expires = 50;
	x = ledger_add(l, AF_INET, "eth3", ip(AF_INET, "10.0.0.4", &a));
	assert_int_equal(ledger_claim(l, x, 100, 0, 40), 0);
	assert_int_equal(x->table, 10003);
	x = ledger_add(l, AF_INET, "eth4", ip(AF_INET, "10.0.0.5", &a));
	assert_int_equal(ledger_claim(l, x, 100, 0, 40), 0);
	assert_int_equal(x->table, 10000);
	/* y's preference is gone with its table */
	assert_null(ledger_find(l, AF_INET, "eth1", ip(AF_INET, "10.0.0.2", &a)));
	/* a released table is no preference to keep from newcomers */
	ledger_drop(l, x);
	x->expires = 90;
	x->released = true;
	n = ledger_add(l, AF_INET, "eth6", ip(AF_INET, "10.0.0.7", &a));
	assert_int_equal(ledger_claim(l, n, 100, 0, 40), 0);
	assert_int_equal(n->table, 10000);
	/* claims outside the pool are no claims */
	x = ledger_add(l, AF_INET, "eth5", ip(AF_INET, "10.0.0.6", &a));
	assert_int_equal(ledger_claim(l, x, 100, 255, 40), 0);
	assert_int_equal(x->table, 10001);
}

/* The grace period's choice: free tables no rule uses (held) and no other
 * key's lapsed lease prefers; the key's own preference first. */
static void test_free_unheld(void **state)
{
	struct ledger *l = *state;
	uint64_t held[1] = { 1u << 0 | 1u << 2 };	/* 10000, 10002 */
	struct inet_addr a;
	struct lease *x, *y, *u;

	assert_int_equal(ledger_free_unheld(l, AF_INET, NULL, NULL), 10000);
	assert_int_equal(ledger_free_unheld(l, AF_INET, NULL, held), 10001);
	/* 10001 taken: the next unheld one */
	x = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &a));
	assert_int_equal(ledger_claim(l, x, 100, 10001, 0), 0);
	assert_int_equal(ledger_free_unheld(l, AF_INET, NULL, held), 10003);
	/* an inet6 key: 10001 is free in its family */
	assert_int_equal(ledger_free_unheld(l, AF_INET6, NULL, held), 10001);
	/* an unspec key needs both families: 10003 */
	assert_int_equal(ledger_free_unheld(l, AF_UNSPEC, NULL, held), 10003);
	/* x's lease lapsed: its table is its own preference, no newcomer's */
	ledger_drop(l, x);
	x->expires = 50;
	assert_int_equal(ledger_free_unheld(l, AF_INET, x, held), 10001);
	y = ledger_add(l, AF_INET, "eth1", ip(AF_INET, "10.0.0.2", &a));
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, held), 10003);
	/* released: no preference */
	x->released = true;
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, held), 10001);
	/* y's own preference comes first, but never a held one */
	y->table = 10003;
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, held), 10003);
	y->table = 10002;
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, held), 10001);
	y->table = 0;
	/* nothing else free: 0, the key waits */
	u = ledger_add(l, AF_INET, "eth2", ip(AF_INET, "10.0.0.3", &a));
	assert_int_equal(ledger_claim(l, u, 100, 10001, 0), 0);
	x = ledger_add(l, AF_INET, "eth3", ip(AF_INET, "10.0.0.4", &a));
	assert_int_equal(ledger_claim(l, x, 100, 10003, 0), 0);
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, held), 0);
	assert_int_equal(ledger_free_unheld(l, AF_INET, y, NULL), 10000);
}

static void test_preference(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	struct lease *a, *b, *c, *d, *e;

	a = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &x));
	b = ledger_add(l, AF_INET, "eth1", ip(AF_INET, "10.0.0.2", &x));
	assert_int_equal(ledger_grant(l, a, 200), 0);
	assert_int_equal(ledger_grant(l, b, 100), 0);
	assert_int_equal(a->table, 10000);
	assert_int_equal(b->table, 10001);
	assert_true(a->alive);
	/* renewal keeps the table and moves the expiry */
	assert_int_equal(ledger_grant(l, b, 300), 0);
	assert_int_equal(b->table, 10001);
	assert_int_equal(b->expires, 300);
	/* released: the key prefers its table again when it is free */
	ledger_drop(l, b);
	assert_int_equal(ledger_grant(l, b, 400), 0);
	assert_int_equal(b->table, 10001);
	ledger_drop(l, a);
	c = ledger_add(l, AF_UNSPEC, "eth2", ip(AF_UNSPEC, "::1", &x));
	assert_int_equal(ledger_grant(l, c, 400), 0);
	assert_int_equal(c->table, 10000);	/* first fit took a's old table */
	/* no table slot names a any more: it is forgotten */
	assert_null(ledger_find(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &x)));
	a = ledger_add(l, AF_INET, "eth0", &x);
	assert_int_equal(ledger_grant(l, a, 500), 0);
	assert_int_equal(a->table, 10002);	/* first free */
	/* a dead lease is its table's preference until a key of its family
	 * takes the table: then its row is gone, and so is it */
	ledger_drop(l, a);
	assert_ptr_equal(ledger_find(l, AF_INET, "eth0", &x), a);
	d = ledger_add(l, AF_INET, "eth3", ip(AF_INET, "10.0.0.4", &x));
	e = ledger_add(l, AF_INET, "eth4", ip(AF_INET, "10.0.0.5", &x));
	assert_int_equal(ledger_grant(l, d, 100), 0);
	assert_int_equal(d->table, 10002);
	assert_int_equal(ledger_grant(l, e, 100), 0);
	assert_int_equal(e->table, 10003);
	assert_null(ledger_find(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &x)));
	assert_int_equal(ledger_keys(l), 4);	/* b, c, d, e */
	/* full */
	a = ledger_add(l, AF_INET, "eth0", &x);
	assert_int_equal(ledger_grant(l, a, 100), -ENOSPC);
	assert_false(a->alive);
}

/* Keys come and go (granted, released, their tables granted to others):
 * the ledger holds no more of them than there are tables and families,
 * and reuses their memory. */
static void test_bounded(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	char addr[INET6_ADDRSTRLEN];
	struct lease *stay = NULL;
	size_t slabs = 0;

	for (uint32_t i = 0; i < 20000; i++) {
		static const int fams[] = { AF_INET, AF_INET6, AF_UNSPEC };
		int fam = fams[i % 3];
		struct lease *le;

		if (fam == AF_INET)
			snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		else
			snprintf(addr, sizeof(addr), "fd00::%x", i);
		le = ledger_add(l, fam, i % 2 ? "eth0" : "wlan0", ip(fam, addr, &x));
		assert_non_null(le);
		assert_int_equal(ledger_grant(l, le, 100 + i), 0);
		if (stay)			/* held one round */
			ledger_drop(l, stay);
		stay = NULL;
		if (i % 7 == 6)
			stay = le;
		else
			ledger_drop(l, le);
		if (i == 1000)
			slabs = l->nslabs;
		assert_true(ledger_keys(l) <= 2 * 4);
	}
	assert_int_equal(l->nslabs, slabs);	/* no new memory after the first 1000 */
}

static void test_drop(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	struct lease *a, *b;

	a = ledger_add(l, AF_UNSPEC, "eth0", ip(AF_UNSPEC, "10.0.0.1", &x));
	b = ledger_add(l, AF_INET6, "eth0", ip(AF_INET6, "fd00::1", &x));
	assert_int_equal(ledger_grant(l, a, 100), 0);
	assert_int_equal(ledger_grant(l, b, 200), 0);
	assert_int_equal(a->table, 10000);	/* unspec: in both families */
	assert_int_equal(b->table, 10001);
	assert_false(pool_is_free(&l->pool, AF_INET, 10000));
	assert_false(pool_is_free(&l->pool, AF_INET6, 10000));
	assert_int_equal(ledger_live(l), 2);
	assert_ptr_equal(ledger_next_expiry(l), a);

	ledger_drop(l, a);
	assert_false(a->alive);
	assert_int_equal(a->table, 10000);
	assert_true(pool_is_free(&l->pool, AF_INET, 10000));
	assert_true(pool_is_free(&l->pool, AF_INET6, 10000));
	assert_int_equal(ledger_live(l), 1);
	assert_ptr_equal(ledger_next_expiry(l), b);
	assert_ptr_equal(ledger_nth_live(l, 0), b);
	assert_null(ledger_nth_live(l, 1));
	ledger_drop(l, a);			/* a dead lease: nothing to put back */
	assert_int_equal(ledger_live(l), 1);
	assert_false(pool_is_free(&l->pool, AF_INET6, 10001));
	/* a dropped lease is still its key's */
	assert_ptr_equal(ledger_find(l, AF_UNSPEC, "eth0", ip(AF_UNSPEC, "10.0.0.1", &x)), a);
	ledger_drop(l, b);
	assert_int_equal(ledger_live(l), 0);
	assert_null(ledger_next_expiry(l));
	assert_int_equal(pool_used(&l->pool, AF_UNSPEC), 0);
}

static void test_restore(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	struct lease *a, *b, *c, *d;

	a = ledger_add(l, AF_INET6, "eth0", ip(AF_INET6, "::4", &x));
	a->table = 10002;
	assert_int_equal(ledger_restore(l, a, 100), 0);
	assert_true(a->alive);
	assert_int_equal(a->table, 10002);
	assert_ptr_equal(ledger_nth_live(l, 0), a);
	/* the same table in the same family: the second row stays dead */
	b = ledger_add(l, AF_INET6, "eth1", ip(AF_INET6, "::5", &x));
	b->table = 10002;
	assert_int_equal(ledger_restore(l, b, 200), -EBUSY);
	assert_false(b->alive);
	/* unspec needs it in both families */
	c = ledger_add(l, AF_UNSPEC, "eth2", ip(AF_UNSPEC, "10.0.0.1", &x));
	c->table = 10002;
	assert_int_equal(ledger_restore(l, c, 200), -EBUSY);
	assert_false(c->alive);
	/* ... while inet has its own FIB */
	d = ledger_add(l, AF_INET, "eth2", ip(AF_INET, "10.0.0.1", &x));
	d->table = 10002;
	assert_int_equal(ledger_restore(l, d, 50), 0);
	assert_ptr_equal(ledger_next_expiry(l), d);
	/* a table the pool no longer has */
	c->table = 10004;
	assert_int_equal(ledger_restore(l, c, 200), -ERANGE);
	assert_false(c->alive);
	assert_int_equal(ledger_live(l), 2);
}

/* A permutation of 0..n-1 with n a power of two: expiries out of order. */
static int64_t scrambled(uint32_t i, uint32_t n)
{
	return (int64_t)((i * 2654435761u) & (n - 1));
}

static void test_expiry_order(void **state)
{
	enum { N = 512 };
	struct ledger l;
	struct inet_addr x;
	struct lease *le[N], *prev = NULL;
	char s[INET6_ADDRSTRLEN];
	int64_t last = -1;

	(void)state;
	assert_int_equal(ledger_init(&l, 1, N), 0);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "fd00::%x", i);
		le[i] = ledger_add(&l, AF_INET6, "eth0", ip(AF_INET6, s, &x));
		assert_int_equal(ledger_grant(&l, le[i], 1000 + scrambled(i, N)), 0);
	}
	/* renewals move leases both ways in the heap */
	assert_int_equal(ledger_grant(&l, le[0], 5000), 0);
	assert_int_equal(ledger_grant(&l, le[N - 1], 1), 0);
	for (uint32_t i = 1; i < N; i += 7)
		ledger_drop(&l, le[i]);
	assert_ptr_equal(ledger_next_expiry(&l), le[N - 1]);
	for (struct lease *e; (e = ledger_next_expiry(&l)); prev = e) {
		assert_true(e->expires >= last);
		last = e->expires;
		ledger_drop(&l, e);
	}
	assert_ptr_equal(prev, le[0]);		/* the latest, 5000 */
	assert_int_equal(ledger_live(&l), 0);
	ledger_free(&l);
}

/* The i-th key of test_many(): every family, both kinds of address for
 * unspec, a few dozen devices.  Returns the family. */
static int many_key(uint32_t i, char ifname[IFNAMSIZ], struct inet_addr *a)
{
	int family = i % 3 == 0 ? AF_INET : i % 3 == 1 ? AF_INET6 : AF_UNSPEC;
	char s[INET6_ADDRSTRLEN];

	snprintf(ifname, IFNAMSIZ, "veth%u", i % 37);
	if (family == AF_INET6 || (family == AF_UNSPEC && i % 2))
		snprintf(s, sizeof(s), "fd00::%x", i);
	else
		snprintf(s, sizeof(s), "10.0.%u.%u", i / 256, i % 256);
	ip(family, s, a);
	return family;
}

/* Many more leases than one slab holds: every one keeps its key, its place
 * and its fields while later slabs and the hash table grow. */
static void test_many(void **state)
{
	enum { N = 10000 };
	static struct lease *le[N];
	static bool seen[N];
	struct ledger l;
	struct inet_addr a;
	char ifname[IFNAMSIZ];
	uint32_t inet = 0, inet6 = 0;

	(void)state;
	assert_true(N > 3 * LEDGER_SLAB);
	assert_int_equal(ledger_init(&l, 10000, N), 0);
	for (uint32_t i = 0; i < N; i++) {
		int family = many_key(i, ifname, &a);

		le[i] = ledger_add(&l, family, ifname, &a);
		assert_non_null(le[i]);
		assert_int_equal(ledger_grant(&l, le[i], 100 + i), 0);
		le[i]->uid = i;
		inet += family != AF_INET6;
		inet6 += family != AF_INET;
	}
	for (uint32_t i = 0; i < N; i++) {
		int family = many_key(i, ifname, &a);

		assert_ptr_equal(ledger_find(&l, family, ifname, &a), le[i]);
		assert_int_equal(le[i]->uid, i);
		assert_int_equal(le[i]->expires, 100 + i);
		assert_true(le[i]->alive);
	}
	assert_int_equal(pool_used(&l.pool, AF_INET), inet);
	assert_int_equal(pool_used(&l.pool, AF_INET6), inet6);
	/* LIST sees each live lease once */
	assert_int_equal(ledger_live(&l), N);
	for (size_t i = 0; i < N; i++) {
		struct lease *e = ledger_nth_live(&l, i);

		assert_non_null(e);
		assert_false(seen[e->uid]);
		seen[e->uid] = true;
	}
	assert_null(ledger_nth_live(&l, N));
	/* the heap holds them all, earliest first */
	for (uint32_t i = 0; i < N; i++) {
		assert_ptr_equal(ledger_next_expiry(&l), le[i]);
		ledger_drop(&l, le[i]);
	}
	ledger_free(&l);
}

static void test_nth_live(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	struct lease *u, *v4, *v6;

	v6 = ledger_add(l, AF_INET6, "eth0", ip(AF_INET6, "fd00::1", &x));
	v4 = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &x));
	u = ledger_add(l, AF_UNSPEC, "eth1", ip(AF_UNSPEC, "10.0.0.2", &x));
	v6->table = 10002;
	assert_int_equal(ledger_restore(l, v6, 100), 0);
	v4->table = 10002;
	assert_int_equal(ledger_restore(l, v4, 100), 0);
	assert_int_equal(ledger_grant(l, u, 100), 0);
	assert_int_equal(u->table, 10000);
	/* table order; an unspec lease once although it is in both families;
	 * inet before inet6 in one table */
	assert_int_equal(ledger_live(l), 3);
	assert_ptr_equal(ledger_nth_live(l, 0), u);
	assert_ptr_equal(ledger_nth_live(l, 1), v4);
	assert_ptr_equal(ledger_nth_live(l, 2), v6);
	assert_null(ledger_nth_live(l, 3));
}

static void test_tag(void **state)
{
	struct ledger *l = *state;
	struct inet_addr x;
	struct lease *a;

	a = ledger_add(l, AF_INET, "eth0", ip(AF_INET, "10.0.0.1", &x));
	assert_string_equal(ledger_tag(a), "");
	assert_int_equal(ledger_set_tag(a, "vpn"), 0);
	assert_string_equal(ledger_tag(a), "vpn");
	assert_int_equal(ledger_set_tag(a, ""), 0);
	assert_null(a->tag);
	assert_int_equal(ledger_set_tag(a, "left for ledger_free()"), 0);
	ledger_free(NULL);
}

static void test_init(void **state)
{
	struct ledger l;

	(void)state;
	/* a heap of 2 * n leases must fit heap_idx */
	assert_int_equal(ledger_init(&l, 1, UINT32_MAX / 2 + 1), -EINVAL);
	assert_int_equal(ledger_init(&l, 0, 1), -EINVAL);
	ledger_free(&l);
}

/* rtallocd's mark ledger: indices 1..15 of mask 0xf0000000, keys unspec;
 * two holders get distinct marks, a released one goes back to the pool
 * and its key gets it again. */
static void test_mark_ledger(void **state)
{
	struct ledger l;
	struct lease *a, *b;
	uint32_t ma;

	(void)state;
	assert_int_equal(ledger_init(&l, 1, pool_mark_count(0xf0000000u)), 0);
	a = ledger_add_id(&l, "wan0", "exec-1");
	b = ledger_add_id(&l, "wan1", "binding-1");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(ledger_grant(&l, a, 100), 0);
	assert_int_equal(ledger_grant(&l, b, 100), 0);
	ma = pool_mark_value(0xf0000000u, a->table);
	assert_int_not_equal(ma, pool_mark_value(0xf0000000u, b->table));
	assert_int_equal(ma & ~0xf0000000u, 0);
	assert_int_equal(pool_used(&l.pool, AF_UNSPEC), 2);
	ledger_drop(&l, b);
	assert_int_equal(pool_used(&l.pool, AF_UNSPEC), 1);
	/* all 15 marks leased, the 16th key is refused */
	for (int i = 0; i < 14; i++) {
		char id[16];

		snprintf(id, sizeof(id), "k%d", i);
		b = ledger_add_id(&l, "wan0", id);
		assert_int_equal(ledger_grant(&l, b, 100), 0);
	}
	b = ledger_add_id(&l, "wan0", "one-too-many");
	assert_int_equal(ledger_grant(&l, b, 100), -ENOSPC);
	ledger_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ifnames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_unheld, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test(test_expiry_order),
		cmocka_unit_test(test_many),
		cmocka_unit_test_setup_teardown(test_nth_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag, setup, teardown),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_mark_ledger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
