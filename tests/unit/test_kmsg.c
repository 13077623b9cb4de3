/* Unit tests for kmsg, the one builder and parser of rtnetlink messages:
 * every kind of rule rtalloc writes (a lease's from/to/iif/fwmark rules,
 * rtalloc-track's steering rules, the agent's exec rules) comes back from its own message as it
 * went in, and a filtered dump gets only what it asked for.  So do
 * rtalloc-track's nexthop objects and resilient groups, and the agent's
 * neighbours (routers) and RAs' RDNSS options parse as the kernel sends
 * them.  No root: the
 * dump reads the test's own namespace's addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
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

/* The attribute type's u32 in a rule message, or has = false. */
static uint32_t rule_attr(const struct nlmsghdr *nlh, uint16_t type, bool *has)
{
	const struct nlattr *a;

	*has = false;
	mnl_attr_for_each(a, nlh, sizeof(struct fib_rule_hdr))
		if (mnl_attr_get_type(a) == type) {
			*has = true;
			return mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a) :
			       mnl_attr_get_payload_len(a) == 1 ? mnl_attr_get_u8(a) : 0;
		}
	return 0;
}

/* `rtalloc exec` and bindings (agent/control.c): `fwmark M/K lookup T`
 * and the strict policy's `fwmark M/K unreachable`, which has no table:
 * the message says FR_ACT_UNREACHABLE and carries no FRA_TABLE. */
static void test_exec_rules(void **state)
{
	struct krule lookup = { .family = AF_INET6, .pref = KPREF_EXEC, .table = 10002, .has_fwmark = true,
				.fwmark = 0x200, .fwmask = 0xff00, .proto = RTPROT_RTALLOC };
	struct krule strict = { .family = AF_INET, .pref = KPREF_EXEC_STRICT, .unreachable = true,
				.has_fwmark = true, .fwmark = 0x200, .fwmask = 0xff00, .proto = RTPROT_RTALLOC };
	char buf[512] = { 0 }, s[160];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct fib_rule_hdr *frh;
	bool has;

	(void)state;
	roundtrip(&lookup);
	roundtrip(&strict);
	assert_string_equal(krule_str(&strict, s, sizeof(s)), "pref 9101 fwmark 0x200/0xff00 unreachable");

	nlh->nlmsg_type = RTM_NEWRULE;
	krule_put(nlh, &strict);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->action, FR_ACT_UNREACHABLE);
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	rule_attr(nlh, FRA_TABLE, &has);
	assert_false(has);
	assert_int_equal(rule_attr(nlh, FRA_PRIORITY, &has), KPREF_EXEC_STRICT);
	assert_int_equal(rule_attr(nlh, FRA_FWMARK, &has), 0x200);
	assert_int_equal(rule_attr(nlh, FRA_FWMASK, &has), 0xff00);
	assert_int_equal(rule_attr(nlh, FRA_PROTOCOL, &has), RTPROT_RTALLOC);

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWRULE;
	krule_put(nlh, &lookup);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(rule_attr(nlh, FRA_TABLE, &has), 10002);
	assert_true(has);
}

/* The one place a change's type and flags are chosen: a rule is added
 * only when it is not there (EXCL: rtalloc tells its own from a clash), a
 * route replaces its key's when asked (IPv4, balance's route), a deletion
 * carries no create flags. */
static void test_change_head(void **state)
{
	static const struct {
		enum kobj_type type;
		bool add, replace;
		uint16_t msg, flags;
	} want[] = {
		{ KOBJ_RULE, true, true, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL },
		{ KOBJ_RULE, false, false, RTM_DELRULE, 0 },
		{ KOBJ_ROUTE, true, true, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE },
		{ KOBJ_ROUTE, true, false, RTM_NEWROUTE, NLM_F_CREATE },
		{ KOBJ_ROUTE, false, true, RTM_DELROUTE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char buf[64] = { 0 };
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

		kmsg_change_head(nlh, want[i].type, want[i].add, want[i].replace);
		assert_int_equal(nlh->nlmsg_type, want[i].msg);
		assert_int_equal(nlh->nlmsg_flags, want[i].flags);
	}
}

/* Another tool's `fwmark 0x10` without a mask means the whole mark, as
 * the kernel takes it: the exec marks are checked against that (a mask
 * of 0 would clash with every mark). */
static void test_fwmark_default_mask(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	struct krule r;

	(void)state;
	nlh->nlmsg_type = RTM_NEWRULE;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	frh->table = 100;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, 500);
	mnl_attr_put_u32(nlh, FRA_FWMARK, 0x10);
	assert_true(krule_parse(nlh, &r));
	assert_false(krule_parse_ours(nlh, &r));
	assert_true(r.has_fwmark);
	assert_int_equal(r.fwmark, 0x10);
	assert_int_equal(r.fwmask, 0xffffffffu);
	assert_int_equal(r.table, 100);
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

/* The attribute type of nlh (past hdrlen) or NULL. */
static const struct nlattr *attr_of(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, hdrlen)
		if (mnl_attr_get_type(attr) == type)
			return attr;
	return NULL;
}

/* One link is asked for by its index (RTM_GETLINK, no dump: the kernel
 * answers that link and an ACK), not by a dump of every link. */
static void test_getlink_by_index(void **state)
{
	char buf[256] = { 0 }, want[256] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf), *w = (struct nlmsghdr *)want;
	struct ifinfomsg *ifi = (struct ifinfomsg *)(want + NLMSG_HDRLEN);

	(void)state;
	assert_false(kmsg_dump_put(nlh, KOBJ_LINK, &(struct kfilter){ .ifindex = 7 }));
	w->nlmsg_len = NLMSG_HDRLEN + sizeof(*ifi);
	w->nlmsg_type = RTM_GETLINK;
	w->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 7;
	assert_int_equal(nlh->nlmsg_len, w->nlmsg_len);
	assert_memory_equal(buf, want, sizeof(want));

	/* No index: the dump of them all, as before. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	assert_false(kmsg_dump_put(nlh, KOBJ_LINK, &(struct kfilter){ .family = AF_UNSPEC }));
	w->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi->ifi_index = 0;
	assert_memory_equal(buf, want, sizeof(want));
}

/* A route dump of one table and device carries both for the kernel's
 * strict check. */
static void test_route_dump_request(void **state)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct rtmsg *rtm;
	const struct nlattr *a;

	(void)state;
	assert_true(kmsg_dump_put(nlh, KOBJ_ROUTE, &(struct kfilter){ .family = AF_INET6, .ifindex = 4, .table = 100 }));
	assert_int_equal(nlh->nlmsg_type, RTM_GETROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	a = attr_of(nlh, sizeof(*rtm), RTA_TABLE);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_u32(a), 100);
	a = attr_of(nlh, sizeof(*rtm), RTA_OIF);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_u32(a), 4);
	/* Unfiltered: no attribute, no strict check. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	assert_false(kmsg_dump_put(nlh, KOBJ_ROUTE, &(struct kfilter){ .family = AF_INET }));
	assert_int_equal(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(struct rtmsg)));
}

struct link_ctx {
	size_t n;
	struct klink last;
};

static void link_cb(const struct kevent *ev, void *data)
{
	struct link_ctx *c = data;

	assert_int_equal(ev->type, KOBJ_LINK);
	c->n++;
	c->last = ev->link;
}

/* Asked by its index, lo comes alone; an index nobody has gives nothing
 * and no error. */
static void test_dump_link_by_index(void **state)
{
	struct link_ctx c = { 0 }, none = { 0 };
	struct nl nl;
	int ret;

	(void)state;
	if (nl_open(&nl, NULL, 0) < 0)
		skip();
	ret = kmsg_dump(&nl, KOBJ_LINK, &(struct kfilter){ .ifindex = 1 }, link_cb, &c);
	if (ret == 0)
		ret = kmsg_dump(&nl, KOBJ_LINK, &(struct kfilter){ .ifindex = 0x7ffffff0 }, link_cb, &none);
	nl_close(&nl);
	assert_int_equal(ret, 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last.ifindex, 1);
	assert_string_equal(c.last.name, "lo");
	assert_int_equal(none.n, 0);
}

/* Routes of table (RTA_TABLE, else rtm_table) counted in and out, as the
 * kernel sends them: before kmsg's own filter. */
struct table_ctx {
	uint32_t table;
	size_t in, out;
};

static int table_raw_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_ctx *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a = attr_of(nlh, sizeof(*rtm), RTA_TABLE);
	uint32_t table = a ? mnl_attr_get_u32(a) : rtm->rtm_table;

	if (table == c->table)
		c->in++;
	else
		c->out++;
	return MNL_CB_OK;
}

static int raw_route_dump(struct nl *nl, const struct kfilter *f, struct table_ctx *c)
{
	char buf[MNL_NLMSG_HDRLEN + 64] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	int on = 1, ret;

	if (kmsg_dump_put(nlh, KOBJ_ROUTE, f) &&
	    setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) < 0)
		return -EOPNOTSUPP;
	ret = nl_dump(nl, nlh, table_raw_cb, c);
	on = 0;
	setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
	return ret;
}

static void route_cb(const struct kevent *ev, void *data)
{
	struct table_ctx *c = data;

	if (ev->route.table == c->table)
		c->in++;
	else
		c->out++;
}

/* The kernel itself sends only the table asked for (the local table's
 * routes of lo, which every namespace with lo up has), and kmsg_dump
 * hands over the same. */
static void test_dump_route_table(void **state)
{
	const struct kfilter all = { .family = AF_INET }, local = { .family = AF_INET, .table = RT_TABLE_LOCAL };
	struct table_ctx whole = { .table = RT_TABLE_LOCAL }, raw = whole, got = whole;
	struct nl nl;
	int ret;

	(void)state;
	if (nl_open(&nl, NULL, 0) < 0)
		skip();
	ret = raw_route_dump(&nl, &all, &whole);
	if (ret == 0 && (!whole.in || !whole.out)) {
		nl_close(&nl);
		skip();		/* lo down, or no other table: nothing to tell apart */
	}
	if (ret == 0)
		ret = raw_route_dump(&nl, &local, &raw);
	if (ret == -EOPNOTSUPP) {
		nl_close(&nl);
		skip();		/* Linux < 5.0: no strict checking */
	}
	if (ret == 0)
		ret = kmsg_dump(&nl, KOBJ_ROUTE, &local, route_cb, &got);
	nl_close(&nl);
	assert_int_equal(ret, 0);
	assert_int_equal(raw.out, 0);
	assert_int_equal(raw.in, whole.in);
	assert_int_equal(got.out, 0);
	assert_int_equal(got.in, whole.in);
}

struct fam_ctx {
	size_t n, other_family, other_table, links;
};

static void fam_cb(const struct kevent *ev, void *data)
{
	struct fam_ctx *c = data;

	if (ev->type == KOBJ_LINK) {
		c->links += ev->link.ifindex == 1;
		c->other_table += ev->link.ifindex != 1;
		return;
	}
	c->n++;
	c->other_family += ev->route.family != AF_INET;
	c->other_table += ev->route.table != RT_TABLE_LOCAL;
}

/* struct kernel's netlink dump passes the filter on: one family when one
 * is asked (both otherwise), one table, one link. */
static void test_kernel_dump_filter(void **state)
{
	const struct kfilter local = { .family = AF_INET, .table = RT_TABLE_LOCAL };
	struct fam_ctx c = { 0 }, l = { 0 }, nh = { 0 };
	struct kernel *k;
	int ret, nhret;

	(void)state;
	if (kernel_netlink_open_groups(&k, 0, NULL, 0) < 0)
		skip();
	ret = kernel_dump(k, KOBJ_ROUTE, &local, fam_cb, &c);
	if (ret == 0)
		ret = kernel_dump(k, KOBJ_LINK, &(struct kfilter){ .ifindex = 1 }, fam_cb, &l);
	/* Nexthop objects are changed, never dumped: refused, nothing sent. */
	nhret = kernel_dump(k, KOBJ_NEXTHOP, NULL, fam_cb, &nh);
	kernel_close(k);
	assert_int_equal(ret, 0);
	assert_int_equal(nhret, -EOPNOTSUPP);
	assert_int_equal(nh.n + nh.links, 0);
	if (!c.n)
		skip();		/* lo down: no local routes */
	assert_int_equal(c.other_family, 0);
	assert_int_equal(c.other_table, 0);
	assert_int_equal(l.links, 1);
	assert_int_equal(l.other_table, 0);
}

/* A member of rtalloc-track's balance group comes back as it went in; its
 * deletion is a bare header and the id. */
static void test_nexthop_member(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct knhobj o = { .id = 0x52540003, .family = AF_INET6, .proto = RTPROT_RTALLOC, .oif = 7 }, back;
	const struct nhmsg *nhm;

	(void)state;
	assert_int_equal(addr_parse(AF_INET6, "fe80::1", &o.gw), 0);
	nlh->nlmsg_type = RTM_NEWNEXTHOP;
	knhobj_put(nlh, &o, true);
	assert_true(knhobj_parse(nlh, &back, NULL, 0));
	assert_int_equal(back.id, o.id);
	assert_int_equal(back.family, AF_INET6);
	assert_int_equal(back.proto, RTPROT_RTALLOC);
	assert_int_equal(back.oif, 7);
	assert_int_equal(back.gw.family, AF_INET6);
	assert_memory_equal(back.gw.bytes, o.gw.bytes, 16);
	assert_int_equal(back.ngroup, 0);

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELNEXTHOP;
	knhobj_put(nlh, &o, false);
	nhm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nhm->nh_family, AF_UNSPEC);
	assert_int_equal(nhm->nh_protocol, 0);
	assert_int_equal(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(*nhm)) + MNL_ATTR_HDRLEN + 4);
	assert_true(knhobj_parse(nlh, &back, NULL, 0));
	assert_int_equal(back.id, o.id);
	assert_null(attr_of(nlh, sizeof(*nhm), NHA_OIF));
}

/* A resilient group: its members with their weights (1..256 on the wire
 * as 0..255), buckets and idle timer. */
static void test_nexthop_group(void **state)
{
	const struct knhmember m[3] = { { 11, 1 }, { 12, 100 }, { 13, 256 } };
	struct knhobj g = { .id = 0x52540000, .proto = RTPROT_RTALLOC, .group = m, .ngroup = 3,
			    .buckets = 512, .idle_s = 30 }, back;
	struct knhmember got[8];
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct nlattr *type;

	(void)state;
	nlh->nlmsg_type = RTM_NEWNEXTHOP;
	knhobj_put(nlh, &g, true);
	type = attr_of(nlh, sizeof(struct nhmsg), NHA_GROUP_TYPE);
	assert_non_null(type);
	assert_int_equal(mnl_attr_get_u16(type), NEXTHOP_GRP_TYPE_RES);
	/* On the wire as the kernel reads it: weight - 1, idle in USER_HZ. */
	assert_int_equal(((const struct nexthop_grp *)mnl_attr_get_payload(
				  attr_of(nlh, sizeof(struct nhmsg), NHA_GROUP)))[2].weight, 255);
	assert_true(knhobj_parse(nlh, &back, got, 8));
	assert_int_equal(back.id, g.id);
	assert_int_equal(back.family, AF_UNSPEC);
	assert_int_equal(back.proto, RTPROT_RTALLOC);
	assert_int_equal(back.ngroup, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(got[i].id, m[i].id);
		assert_int_equal(got[i].weight, m[i].weight);
	}
	assert_int_equal(back.buckets, 512);
	assert_int_equal(back.idle_s, 30);
	/* A group of no type: no resilient attributes. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	g.buckets = 0;
	knhobj_put(nlh, &g, true);
	assert_null(attr_of(nlh, sizeof(struct nhmsg), NHA_GROUP_TYPE));
	assert_null(attr_of(nlh, sizeof(struct nhmsg), NHA_RES_GROUP));
}

/* rtalloc-track's default route through its group: RTA_NH_ID, no device. */
static void test_route_nhobj(void **state)
{
	struct kroute r = { .family = AF_INET, .table = 10002, .proto = RTPROT_RTALLOC,
			    .type = RTN_UNICAST };
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct nlattr *id;

	(void)state;
	nlh->nlmsg_type = RTM_NEWROUTE;
	kroute_put_nhobj(nlh, &r, 0x52540000);
	id = attr_of(nlh, sizeof(struct rtmsg), RTA_NH_ID);
	assert_non_null(id);
	assert_int_equal(mnl_attr_get_u32(id), 0x52540000);
	assert_null(attr_of(nlh, sizeof(struct rtmsg), RTA_OIF));
	assert_int_equal(mnl_attr_get_u32(attr_of(nlh, sizeof(struct rtmsg), RTA_TABLE)), 10002);
}

/* A nexthop object's change: added, it replaces the object of its id
 * (NLM_F_CREATE | NLM_F_REPLACE); deleted, a bare RTM_DELNEXTHOP.  A
 * route through one carries its id (kroute.nh_id) only when added. */
static void test_nexthop_change_head(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct kroute r = { .family = AF_INET6, .table = 30500, .proto = RTPROT_RTALLOC,
			    .type = RTN_UNICAST, .nh_id = 0x52540100 };

	(void)state;
	kmsg_change_head(nlh, KOBJ_NEXTHOP, true, false);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWNEXTHOP);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_EXCL),
			 NLM_F_CREATE | NLM_F_REPLACE);
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	kmsg_change_head(nlh, KOBJ_NEXTHOP, false, false);
	assert_int_equal(nlh->nlmsg_type, RTM_DELNEXTHOP);
	assert_int_equal(nlh->nlmsg_flags, 0);

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	kroute_put(nlh, &r, true);
	assert_non_null(attr_of(nlh, sizeof(struct rtmsg), RTA_NH_ID));
	assert_int_equal(mnl_attr_get_u32(attr_of(nlh, sizeof(struct rtmsg), RTA_NH_ID)), 0x52540100);
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	kroute_put(nlh, &r, false);
	assert_null(attr_of(nlh, sizeof(struct rtmsg), RTA_NH_ID));
}

/* A neighbour message as the kernel sends it. */
static struct nlmsghdr *neigh_msg(char *buf, uint16_t type, int family, uint8_t flags, uint16_t nud,
				  const char *dst, size_t dstlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	struct inet_addr a;

	nlh->nlmsg_type = type;
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = 4;
	nd->ndm_flags = flags;
	nd->ndm_state = nud;
	assert_int_equal(addr_parse(family, dst, &a), 0);
	mnl_attr_put(nlh, NDA_DST, dstlen, a.bytes);
	return nlh;
}

static void test_neigh(void **state)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh;
	struct kneigh n;
	struct inet_addr want;

	(void)state;
	assert_int_equal(addr_parse(AF_INET6, "fe80::1", &want), 0);
	nlh = neigh_msg(buf, RTM_NEWNEIGH, AF_INET6, NTF_ROUTER, NUD_REACHABLE, "fe80::1", 16);
	assert_true(kneigh_parse(nlh, &n));
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(n.ifindex, 4);
	assert_memory_equal(n.addr.bytes, want.bytes, 16);
	assert_false(n.del);
	assert_true(kneigh_is_router(&n));
	/* Not flagged, failed, unresolved or deleted: no router. */
	memset(buf, 0, sizeof(buf));
	assert_true(kneigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET6, 0, NUD_REACHABLE, "fe80::1", 16), &n));
	assert_false(kneigh_is_router(&n));
	memset(buf, 0, sizeof(buf));
	assert_true(kneigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET6, NTF_ROUTER, NUD_FAILED, "fe80::1", 16), &n));
	assert_false(kneigh_is_router(&n));
	memset(buf, 0, sizeof(buf));
	assert_true(kneigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET6, NTF_ROUTER, NUD_INCOMPLETE, "fe80::1", 16), &n));
	assert_false(kneigh_is_router(&n));
	memset(buf, 0, sizeof(buf));
	assert_true(kneigh_parse(neigh_msg(buf, RTM_DELNEIGH, AF_INET6, NTF_ROUTER, NUD_REACHABLE, "fe80::1", 16), &n));
	assert_true(n.del);
	assert_false(kneigh_is_router(&n));
	/* A destination of the wrong length, or another message: nothing. */
	memset(buf, 0, sizeof(buf));
	assert_false(kneigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET6, NTF_ROUTER, NUD_REACHABLE, "fe80::1", 4), &n));
	memset(buf, 0, sizeof(buf));
	assert_false(kneigh_parse(neigh_msg(buf, RTM_NEWROUTE, AF_INET6, NTF_ROUTER, NUD_REACHABLE, "fe80::1", 16), &n));
	/* The dump request. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	kneigh_dump_put(nlh, AF_INET6);
	assert_int_equal(nlh->nlmsg_type, RTM_GETNEIGH);
	assert_int_equal(((const struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family, AF_INET6);
}

struct rdnss_ctx {
	size_t n;
	struct inet_addr a[4];
	uint32_t life[4];
};

static void rdnss_cb(const struct inet_addr *a, uint32_t life_s, void *data)
{
	struct rdnss_ctx *c = data;

	assert_true(c->n < 4);
	c->a[c->n] = *a;
	c->life[c->n++] = life_s;
}

/* An RA's options as the kernel passes them on (RTM_NEWNDUSEROPT): the
 * RDNSS option's servers and lifetime, other options skipped, the walk
 * ending at an option of length 0. */
static void test_useropt_rdnss(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nduseroptmsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	uint8_t *opt = (uint8_t *)(m + 1);
	struct inet_addr s1, s2;
	struct rdnss_ctx c = { 0 };
	struct kuseropt u;
	uint32_t life = htonl(600);
	size_t len = 0;

	(void)state;
	assert_int_equal(addr_parse(AF_INET6, "2001:db8::53", &s1), 0);
	assert_int_equal(addr_parse(AF_INET6, "2001:db8::54", &s2), 0);
	/* A source link-layer address option (type 1, 8 bytes). */
	opt[len] = 1;
	opt[len + 1] = 1;
	len += 8;
	/* RDNSS (type 25) of two servers: 8 + 2 * 16 bytes. */
	opt[len] = 25;
	opt[len + 1] = 5;
	memcpy(opt + len + 4, &life, 4);
	memcpy(opt + len + 8, s1.bytes, 16);
	memcpy(opt + len + 24, s2.bytes, 16);
	len += 40;
	/* Length 0: the walk stops; the RDNSS after it is not read. */
	opt[len + 1] = 0;
	len += 8;
	opt[len] = 25;
	opt[len + 1] = 3;
	memcpy(opt + len + 8, s1.bytes, 16);
	len += 24;
	nlh->nlmsg_type = RTM_NEWNDUSEROPT;
	m->nduseropt_family = AF_INET6;
	m->nduseropt_ifindex = 9;
	m->nduseropt_opts_len = (uint16_t)len;
	nlh->nlmsg_len += (uint32_t)len;
	assert_true(kuseropt_parse(nlh, &u));
	assert_int_equal(u.ifindex, 9);
	assert_int_equal(u.len, len);
	knd_rdnss_each(u.opt, u.len, rdnss_cb, &c);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.a[0].bytes, s1.bytes, 16);
	assert_memory_equal(c.a[1].bytes, s2.bytes, 16);
	assert_int_equal(c.a[0].family, AF_INET6);
	assert_int_equal(c.life[0], 600);
	assert_int_equal(c.life[1], 600);
	/* Options said to run past the message: refused. */
	m->nduseropt_opts_len = (uint16_t)(len + 8);
	assert_false(kuseropt_parse(nlh, &u));
	m->nduseropt_opts_len = (uint16_t)len;
	m->nduseropt_family = AF_INET;
	assert_false(kuseropt_parse(nlh, &u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_rules),
		cmocka_unit_test(test_exec_rules),
		cmocka_unit_test(test_fwmark_default_mask),
		cmocka_unit_test(test_change_head),
		cmocka_unit_test(test_steer_rules),
		cmocka_unit_test(test_dump_filter),
		cmocka_unit_test(test_nexthop_member),
		cmocka_unit_test(test_nexthop_group),
		cmocka_unit_test(test_route_nhobj),
		cmocka_unit_test(test_nexthop_change_head),
		cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_useropt_rdnss),
		cmocka_unit_test(test_getlink_by_index),
		cmocka_unit_test(test_route_dump_request),
		cmocka_unit_test(test_dump_link_by_index),
		cmocka_unit_test(test_dump_route_table),
		cmocka_unit_test(test_kernel_dump_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
