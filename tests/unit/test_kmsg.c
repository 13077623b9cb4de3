/* Unit tests for kmsg, the one builder and parser of rtnetlink messages:
 * every kind of rule rtalloc writes (a lease's from/to/iif/fwmark rules,
 * rtalloc-track's steering rules) comes back from its own message as it
 * went in, and a filtered dump gets only what it asked for.  No root: the
 * dump reads the test's own namespace's addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "kmsg.h"
#include "steer.h"

/* r -> RTM_NEWRULE -> krule_parse(): the same rule. */
static void roundtrip(const struct krule *r)
{
	char buf[512] = { 0 }, a[160], b[160];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct krule back;

	nlh->nlmsg_type = RTM_NEWRULE;
	krule_put(nlh, r);
	assert_true(krule_parse(nlh, &back));
	if (!krule_equal(r, &back))
		fail_msg("sent '%s', parsed '%s'", krule_str(r, a, sizeof(a)), krule_str(&back, b, sizeof(b)));
	assert_true(krule_parse_ours(nlh, &back) == (r->proto == RTPROT_RTALLOC));
}

static void test_lease_rules(void **state)
{
	struct krule from = { .family = AF_INET, .pref = KPREF_FROM, .table = 10000, .src_len = 32,
			      .proto = RTPROT_RTALLOC };
	struct krule to = { .family = AF_INET6, .pref = KPREF_TO, .table = 70000, .dst_len = 64,
			    .proto = RTPROT_RTALLOC };
	struct krule iif = { .family = AF_INET, .pref = KPREF_IIF, .table = 200, .iif = "lo",
			     .proto = RTPROT_RTALLOC };
	struct krule mark = { .family = AF_INET, .pref = 9000, .table = 10001, .has_fwmark = true,
			      .fwmark = 0x10, .fwmask = 0xff, .proto = RTPROT_RTALLOC };
	struct krule foreign = { .family = AF_INET, .pref = 100, .table = 5, .iif = "eth0", .proto = 4 };

	(void)state;
	assert_int_equal(addr_parse(AF_INET, "192.0.2.7", &from.src), 0);
	assert_int_equal(addr_parse(AF_INET6, "2001:db8:1::", &to.dst), 0);
	roundtrip(&from);
	roundtrip(&to);
	roundtrip(&iif);
	roundtrip(&mark);
	roundtrip(&foreign);
	/* A table past 255 only fits FRA_TABLE; a suppress length of 0 is
	 * one (the kernel's "none" is another). */
	to.has_suppress = true;
	to.suppress = 0;
	roundtrip(&to);
}

static void test_steer_rules(void **state)
{
	const char fwd[1][IFNAMSIZ] = { "lan0" };
	struct steer_set s;

	(void)state;
	steer_build(&s, AF_INET6, 10002, fwd, 1);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < s.n; i++) {
		roundtrip(&s.r[i]);
		assert_true(krule_is_track(&s.r[i]));
	}
}

struct addr_ctx {
	size_t n, other;
};

static void addr_cb(const struct kevent *ev, void *data)
{
	struct addr_ctx *c = data;

	assert_int_equal(ev->type, KOBJ_ADDR);
	if (ev->addr.ifindex == 1)
		c->n++;
	else
		c->other++;
}

/* Asked for lo's addresses only, the dump hands over nothing else (the
 * kernel filters with strict checking; kmsg filters what an older one
 * sends). */
static void test_dump_filter(void **state)
{
	struct kfilter f = { .family = AF_INET, .ifindex = 1 }, all = { .family = AF_INET };
	struct addr_ctx c = { 0 }, whole = { 0 };
	struct nl nl;
	int ret;

	(void)state;
	if (nl_open(&nl, NULL, 0) < 0)
		skip();
	ret = kmsg_dump(&nl, KOBJ_ADDR, &all, addr_cb, &whole);
	if (ret == 0)
		ret = kmsg_dump(&nl, KOBJ_ADDR, &f, addr_cb, &c);
	nl_close(&nl);
	assert_int_equal(ret, 0);
	assert_int_equal(c.other, 0);
	/* Every one of lo's, as the whole dump has them. */
	assert_int_equal(c.n, whole.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_rules),
		cmocka_unit_test(test_steer_rules),
		cmocka_unit_test(test_dump_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
