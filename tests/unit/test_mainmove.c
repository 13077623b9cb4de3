/* Unit tests for mainmove over the fake kernel: an uplink out of main has
 * its default and prefix routes taken out of main into its table; once it
 * is no longer out of main (a hint withdrawn, --primary) or its owner
 * stops, they are back in main, the prefix route first, unless the
 * address went (the kernel took its routes along: nothing to put back). */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"
#include "kernel_fake.h"
#include "mainmove.h"
#include "settle.h"

#define WAN 2

struct world {
	struct kernel *k;
	struct engine e;
	struct mainmove mm;
	unsigned out;		/* families out of main: 1 IPv4, 2 IPv6 */
	uint64_t now;
	struct kaddr a;
	struct kroute net, def;
};

static bool manage(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	(void)e;
	(void)family;
	(void)pol;
	return fnmatch("wan*", ifname, 0) == 0;
}

static bool uplink_new(struct engine *e, struct uplink *u)
{
	engine_set_table(e, u, 10000);
	return true;
}

static void uplink_gone(struct engine *e, struct uplink *u)
{
	(void)e;
	(void)u;
}

/* As the agent's: what was taken out of main goes into the table. */
static int extra(const struct engine *e, const struct uplink *u, bool main_default, bool main_had,
		 struct kroute_set *out)
{
	const struct world *w = e->owner;

	(void)main_default;
	(void)main_had;
	if (mainmove_routes(&w->mm, u, false, out) < 0)
		return -ENOMEM;
	return mainmove_routes(&w->mm, u, true, out);
}

static const struct engine_ops ops = {
	.manage = manage, .uplink_new = uplink_new, .uplink_gone = uplink_gone, .extra_routes = extra,
};

static bool out(void *data, const struct elink *l, int family)
{
	const struct world *w = data;

	return l->l.ifindex == WAN && (w->out & (family == AF_INET ? 1u : 2u));
}

static struct kroute main4(const char *dst, uint8_t len, const char *gw, uint8_t proto)
{
	struct kroute r = { .family = AF_INET, .table = KTABLE_MAIN, .dst_len = len, .oif = WAN,
			    .type = RTN_UNICAST, .proto = proto, .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK };

	addr_parse(AF_INET, dst, &r.dst);
	if (gw)
		addr_parse(AF_INET, gw, &r.gw);
	return r;
}

/* What the agent does for a hint: the move, then the engine's pass. */
static void move_pass(struct world *w)
{
	mainmove_sync(&w->mm, &w->e, out, w);
	engine_settle(&w->e, &w->now);
}

static void world_up(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->a = (struct kaddr){ .family = AF_INET, .ifindex = WAN, .prefixlen = 24 };
	addr_parse(AF_INET, "192.0.2.7", &w->a.addr);
	/* As the kernel adds it for the address, and as a DHCP client adds
	 * the default route. */
	w->net = main4("192.0.2.0", 24, NULL, RTPROT_KERNEL);
	w->net.src = w->a.addr;
	w->def = main4("0.0.0.0", 0, "192.0.2.1", RTPROT_DHCP);
	w->def.metric = 100;
	assert_int_equal(kernel_fake_open(&w->k), 0);
	assert_int_equal(kfake_link(w->k, 1, "lo", true), 0);
	assert_int_equal(kfake_link(w->k, WAN, "wan0", true), 0);
	assert_int_equal(kfake_addr(w->k, &w->a, false), 0);
	assert_int_equal(kfake_route(w->k, &w->net, false), 0);
	assert_int_equal(kfake_route(w->k, &w->def, false), 0);
	mainmove_init(&w->mm);
	engine_init(&w->e, w->k, &ops, w, "agent");
	assert_int_equal(engine_load(&w->e), 0);
	move_pass(w);
}

static void world_down(struct world *w)
{
	engine_free(&w->e);
	mainmove_free(&w->mm);
	kernel_close(w->k);
}

/* Where r is in the kernel's main table (its index among the routes),
 * -1 when it is not there. */
static int in_main(const struct world *w, const struct kroute *r)
{
	const struct kroute_set *s = kfake_routes(w->k);

	for (size_t i = 0; i < s->n; i++)
		if (kroute_equal(&s->v[i], r))
			return (int)i;
	return -1;
}

static bool table_has_default(const struct world *w)
{
	const struct kroute_set *s = kfake_routes(w->k);

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].table == 10000 && !s->v[i].dst_len && s->v[i].gw.family == AF_INET)
			return true;
	return false;
}

static void out_of_main(struct world *w)
{
	w->out = 1;
	assert_int_equal(mainmove_sync(&w->mm, &w->e, out, w), 2);
	engine_settle(&w->e, &w->now);
	assert_int_equal(in_main(w, &w->def), -1);
	assert_int_equal(in_main(w, &w->net), -1);
	assert_true(table_has_default(w));
	assert_int_equal(w->mm.moved.n, 2);
}

static void test_out_and_back(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	assert_true(in_main(&w, &w.def) >= 0);
	out_of_main(&w);
	/* Put back by the tool (a renewal): taken out again. */
	assert_int_equal(kfake_route(w.k, &w.def, false), 0);
	engine_settle(&w.e, &w.now);
	move_pass(&w);
	assert_int_equal(in_main(&w, &w.def), -1);
	assert_int_equal(w.mm.moved.n, 2);
	/* No longer out of main (--down with the address still there,
	 * --primary, the hint removed): both back, the prefix route first,
	 * as main held them; the table keeps a copy of main's. */
	w.out = 0;
	assert_int_equal(mainmove_sync(&w.mm, &w.e, out, &w), 2);
	engine_settle(&w.e, &w.now);
	assert_true(in_main(&w, &w.net) >= 0);
	assert_true(in_main(&w, &w.def) > in_main(&w, &w.net));
	assert_int_equal(w.mm.moved.n, 0);
	assert_true(table_has_default(&w));
	/* Nothing more to do. */
	assert_int_equal(mainmove_sync(&w.mm, &w.e, out, &w), 0);
	world_down(&w);
}

/* Out of main for IPv6 only: IPv4's routes stay. */
static void test_other_family_stays(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	w.out = 2;
	assert_int_equal(mainmove_sync(&w.mm, &w.e, out, &w), 0);
	assert_true(in_main(&w, &w.def) >= 0);
	assert_true(in_main(&w, &w.net) >= 0);
	world_down(&w);
}

/* The tool removed the address first (a release): the kernel dropped the
 * routes through it; nothing is put back, nothing is left remembered. */
static void test_address_gone(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	out_of_main(&w);
	assert_int_equal(kfake_addr(w.k, &w.a, true), 0);
	engine_settle(&w.e, &w.now);
	w.out = 0;
	assert_int_equal(mainmove_sync(&w.mm, &w.e, out, &w), 0);
	engine_settle(&w.e, &w.now);
	assert_int_equal(in_main(&w, &w.def), -1);
	assert_int_equal(in_main(&w, &w.net), -1);
	assert_int_equal(w.mm.moved.n, 0);
	world_down(&w);
}

/* The owner stops (the agent's SIGTERM): main gets everything back,
 * though the hint still says out of main. */
static void test_restore_on_stop(void **state)
{
	struct world w;

	(void)state;
	world_up(&w);
	out_of_main(&w);
	assert_int_equal(mainmove_restore(&w.mm, &w.e), 2);
	assert_true(in_main(&w, &w.net) >= 0);
	assert_true(in_main(&w, &w.def) > in_main(&w, &w.net));
	assert_int_equal(w.mm.moved.n, 0);
	assert_int_equal(mainmove_restore(&w.mm, &w.e), 0);
	world_down(&w);
}

/* The owner is killed (kill -9) with routes out of main: the next run
 * reads what was out of main and puts it back when asked; a link renamed
 * meanwhile is another link: nothing of it is taken over.  Nothing out of
 * main, no file. */
static void test_saved_for_the_next_run(void **state)
{
	char path[] = "/tmp/test_mainmove.XXXXXX";
	struct mainmove next;
	struct world w;
	unsigned line;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	world_up(&w);
	out_of_main(&w);
	assert_int_equal(mainmove_save(&w.mm, &w.e, path), 0);
	assert_false(w.mm.dirty);
	mainmove_init(&next);
	assert_int_equal(mainmove_load(&next, &w.e, path, &line), 0);
	assert_int_equal(next.moved.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_true(kroute_equal(&next.moved.v[i], &w.mm.moved.v[i]));
	assert_int_equal(mainmove_restore(&next, &w.e), 2);
	assert_true(in_main(&w, &w.def) > in_main(&w, &w.net));
	mainmove_free(&next);
	/* renamed */
	assert_int_equal(kfake_link(w.k, WAN, "wan9", true), 0);
	engine_settle(&w.e, &w.now);
	mainmove_init(&next);
	assert_int_equal(mainmove_load(&next, &w.e, path, &line), 0);
	assert_int_equal(next.moved.n, 0);
	mainmove_free(&next);
	/* nothing out of main: the file goes */
	assert_int_equal(mainmove_restore(&w.mm, &w.e), 2);
	assert_int_equal(mainmove_save(&w.mm, &w.e, path), 0);
	assert_int_equal(access(path, F_OK), -1);
	mainmove_init(&next);
	assert_int_equal(mainmove_load(&next, &w.e, path, &line), 0);
	assert_int_equal(next.moved.n, 0);
	/* what is not a route: nothing taken over, the line said */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("wan9 2 192.0.2.0/24 - 192.0.2.7 0 2 253 1 0\nwan9 2 0.0.0.0/99 - - 0 2 0 1 0\n", f);
		fclose(f);
	}
	assert_int_equal(mainmove_load(&next, &w.e, path, &line), -EINVAL);
	assert_int_equal(line, 2);
	assert_int_equal(next.moved.n, 0);
	mainmove_free(&next);
	unlink(path);
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_and_back),
		cmocka_unit_test(test_other_family_stays),
		cmocka_unit_test(test_address_gone),
		cmocka_unit_test(test_restore_on_stop),
		cmocka_unit_test(test_saved_for_the_next_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
