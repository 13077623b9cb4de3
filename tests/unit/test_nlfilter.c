/* Unit tests for nlfilter: the BPF program judges rtnetlink messages as the
 * kernel would hand them to a daemon's event socket.  The same classic BPF
 * runs on any socket, so the messages are built here (libmnl) and sent
 * through a unix datagram pair whose receiving end carries the filter: what
 * arrives is what passed.  No root needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "nlfilter.h"

#define PROTO_OURS 122

struct pair { int tx, rx; };

static void pair_open(struct pair *p, const struct nlfilter *f)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	p->tx = sv[0];
	p->rx = sv[1];
	assert_int_equal(nlfilter_attach(p->rx, f), 0);
}

static void pair_close(struct pair *p)
{
	close(p->tx);
	close(p->rx);
}

/* Sends the message and says whether it came through the filter. */
static bool passes(struct pair *p, const struct nlmsghdr *nlh)
{
	char buf[512];

	assert_int_equal(send(p->tx, nlh, nlh->nlmsg_len, 0), (ssize_t)nlh->nlmsg_len);
	return recv(p->rx, buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)nlh->nlmsg_len;
}

static struct nlmsghdr *addr_msg(char *buf, uint16_t type, int family, int ifindex,
				 const char *local, const char *address)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct inet_addr a;

	nlh->nlmsg_type = type;
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa->ifa_index = (uint32_t)ifindex;
	if (address) {
		assert_int_equal(addr_parse(family, address, &a), 0);
		mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), a.bytes);
	}
	if (local) {
		assert_int_equal(addr_parse(family, local, &a), 0);
		mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), a.bytes);
	}
	mnl_attr_put_strz(nlh, IFA_LABEL, "up0");
	return nlh;
}

static struct nlmsghdr *rule_msg(char *buf, uint16_t type, int family, int proto, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

	nlh->nlmsg_type = type;
	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, 10000);
	if (proto >= 0)
		mnl_attr_put_u8(nlh, FRA_PROTOCOL, (uint8_t)proto);
	return nlh;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = type;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "up0");
	return nlh;
}

static struct nlmsghdr *route_msg(char *buf, uint16_t type, int family, uint32_t table, int oif)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = type;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = PROTO_OURS;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	return nlh;
}

static struct nlfilter filter(int family, const char *addr, int ifindex, uint32_t table)
{
	struct nlfilter f = { .family = family, .ifindex = ifindex, .have_addr = true,
			      .rule_proto = PROTO_OURS, .n_tables = table ? 1 : 0, .table = { table } };

	assert_int_equal(addr_parse(family, addr, &f.addr), 0);
	return f;
}

static void test_addresses(void **state)
{
	struct nlfilter f = filter(AF_INET, "192.0.2.7", 7, 10000);
	char buf[512];
	struct pair p;

	(void)state;
	pair_open(&p, &f);
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, "192.0.2.7", "192.0.2.7")));
	/* point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer's */
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, "192.0.2.7", "192.0.2.1")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, "192.0.2.1", "192.0.2.7")));
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, NULL, "192.0.2.7")));
	/* another address, another interface, an addition, another family */
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, "192.0.2.8", "192.0.2.8")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 8, "192.0.2.7", "192.0.2.7")));
	assert_false(passes(&p, addr_msg(buf, RTM_NEWADDR, AF_INET, 7, "192.0.2.7", "192.0.2.7")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 7, NULL, "2001:db8::7")));
	/* neither attribute: the daemon judges */
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET, 7, NULL, NULL)));
	pair_close(&p);

	/* IPv6: all 16 bytes count; before the interface is known, any */
	f = filter(AF_INET6, "2001:db8:1::7", 0, 0);
	pair_open(&p, &f);
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 9, NULL, "2001:db8:1::7")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 9, NULL, "2001:db8:1::8")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 9, NULL, "2001:db8:2::7")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 9, NULL, "3001:db8:1::7")));
	pair_close(&p);
}

static void test_rules(void **state)
{
	struct nlfilter f = filter(AF_INET, "192.0.2.7", 7, 10000);
	char buf[512];
	struct pair p;

	(void)state;
	pair_open(&p, &f);
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10000)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10001)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, RTPROT_BOOT, 10000)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, 10000)));
	assert_false(passes(&p, rule_msg(buf, RTM_NEWRULE, AF_INET, PROTO_OURS, 10000)));
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, -1, 10000)));
	pair_close(&p);

	/* no table yet (or moving): every table's */
	f.n_tables = 0;
	pair_open(&p, &f);
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10001)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, RTPROT_BOOT, 10001)));
	pair_close(&p);
}

/* The rules of a list of tables (a lease moving, or tables still to
 * empty): a deletion in any listed table passes, whatever its place in the
 * list; one in another table is dropped; additions never pass. */
static void test_rule_tables(void **state)
{
	const uint32_t tables[NLFILTER_TABLES] = { 10000, 10003, 10005, 10007 };
	struct nlfilter f = filter(AF_INET, "192.0.2.7", 7, 0);
	char buf[512];
	struct pair p;

	(void)state;
	memcpy(f.table, tables, sizeof(tables));
	f.n_tables = NLFILTER_TABLES;
	pair_open(&p, &f);
	for (size_t i = 0; i < NLFILTER_TABLES; i++) {
		assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, tables[i])));
		assert_false(passes(&p, rule_msg(buf, RTM_NEWRULE, AF_INET, PROTO_OURS, tables[i])));
		assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, RTPROT_BOOT, tables[i])));
		assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, tables[i])));
	}
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10001)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10008)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, RT_TABLE_MAIN)));
	/* a rule without a protocol: the daemon judges */
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, -1, 10001)));
	pair_close(&p);

	/* a shorter list: only its entries (the unused slots count for
	 * nothing, not even table 0) */
	memset(f.table, 0, sizeof(f.table));
	f.table[0] = 10007;
	f.table[1] = 10003;
	f.n_tables = 2;
	pair_open(&p, &f);
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10007)));
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10003)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10000)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 0)));
	assert_false(passes(&p, rule_msg(buf, RTM_NEWRULE, AF_INET, PROTO_OURS, 10007)));
	pair_close(&p);

	/* more tables than the filter holds: every table's deletions, still
	 * ours and of the family only, and still no additions */
	memcpy(f.table, tables, sizeof(tables));
	f.n_tables = NLFILTER_TABLES + 1;
	pair_open(&p, &f);
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 10001)));
	assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, PROTO_OURS, 4242)));
	assert_false(passes(&p, rule_msg(buf, RTM_NEWRULE, AF_INET, PROTO_OURS, 10001)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET, RTPROT_BOOT, 10001)));
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, 10001)));
	pair_close(&p);
}

/* The longest program (IPv6 address, every message kind, a full list for
 * rules and routes): each kind still reaches its own checks, the routes'
 * being the farthest jump from the dispatch. */
static void test_everything(void **state)
{
	const uint32_t tables[NLFILTER_TABLES] = { 10000, 10003, 10005, 10007 };
	struct nlfilter f = filter(AF_INET6, "2001:db8:1::7", 7, 0);
	char buf[512];
	struct pair p;

	(void)state;
	f.link_new = f.addr_new = f.routes = true;
	memcpy(f.table, tables, sizeof(tables));
	f.n_tables = NLFILTER_TABLES;
	pair_open(&p, &f);
	assert_true(passes(&p, link_msg(buf, RTM_NEWLINK, 7)));
	assert_false(passes(&p, link_msg(buf, RTM_DELLINK, 8)));
	assert_true(passes(&p, addr_msg(buf, RTM_NEWADDR, AF_INET6, 7, NULL, "2001:db8:1::7")));
	assert_true(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 7, "2001:db8:1::7", "2001:db8:1::1")));
	assert_false(passes(&p, addr_msg(buf, RTM_DELADDR, AF_INET6, 7, NULL, "2001:db8:1::8")));
	for (size_t i = 0; i < NLFILTER_TABLES; i++) {
		assert_true(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, tables[i])));
		assert_true(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, tables[i], 7)));
		assert_true(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET6, tables[i], 7)));
		assert_false(passes(&p, rule_msg(buf, RTM_NEWRULE, AF_INET6, PROTO_OURS, tables[i])));
		assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET, tables[i], 7)));
	}
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, 10001)));
	assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, 10001, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET6, RT_TABLE_MAIN, 7)));
	pair_close(&p);
}

static void test_links_and_netlink(void **state)
{
	struct nlfilter f = filter(AF_INET, "192.0.2.7", 7, 10000);
	char buf[512];
	struct nlmsghdr *nlh;
	struct pair p;

	(void)state;
	pair_open(&p, &f);
	assert_true(passes(&p, link_msg(buf, RTM_DELLINK, 7)));
	assert_false(passes(&p, link_msg(buf, RTM_DELLINK, 8)));
	assert_false(passes(&p, link_msg(buf, RTM_NEWLINK, 7)));
	/* netlink's own messages always */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct nlmsgerr)) = -ENOBUFS;
	assert_true(passes(&p, nlh));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	assert_true(passes(&p, nlh));
	pair_close(&p);

	f.ifindex = 0;
	pair_open(&p, &f);
	assert_true(passes(&p, link_msg(buf, RTM_DELLINK, 8)));
	pair_close(&p);

	f.family = AF_UNSPEC;
	assert_int_equal(nlfilter_attach(p.rx, &f), -EINVAL);
}

/* A --route daemon's engine socket (hold.c): its link coming and going,
 * its address, its tables' routes; no rules. */
static void test_routes(void **state)
{
	struct nlfilter f = filter(AF_INET6, "2001:db8:1::7", 7, 0);
	char buf[512];
	struct nlmsghdr *nlh;
	struct pair p;

	(void)state;
	f.rule_proto = 0;
	f.link_new = f.addr_new = f.routes = true;
	f.table[0] = 10000;
	f.table[1] = 10007;
	f.n_tables = 2;
	pair_open(&p, &f);
	assert_true(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET6, 10000, 7)));
	assert_true(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, 10000, 7)));
	assert_true(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET6, 10007, 7)));
	/* a foreign route in our table: the engine judges it */
	assert_true(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, 10000, 8)));
	/* main, local, other tables, the other family */
	assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, RT_TABLE_MAIN, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, RT_TABLE_LOCAL, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET6, 10001, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET, 10000, 7)));
	/* no RTA_TABLE: the engine judges */
	nlh = route_msg(buf, RTM_DELROUTE, AF_INET6, 10001, 7);
	nlh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtmsg));
	assert_true(passes(&p, nlh));
	/* its link up or down, its address's DAD done; not others' */
	assert_true(passes(&p, link_msg(buf, RTM_NEWLINK, 7)));
	assert_false(passes(&p, link_msg(buf, RTM_NEWLINK, 8)));
	assert_true(passes(&p, addr_msg(buf, RTM_NEWADDR, AF_INET6, 7, NULL, "2001:db8:1::7")));
	assert_false(passes(&p, addr_msg(buf, RTM_NEWADDR, AF_INET6, 7, NULL, "2001:db8:1::8")));
	assert_false(passes(&p, addr_msg(buf, RTM_NEWADDR, AF_INET6, 8, NULL, "2001:db8:1::7")));
	/* no rules at all */
	assert_false(passes(&p, rule_msg(buf, RTM_DELRULE, AF_INET6, PROTO_OURS, 10000)));
	pair_close(&p);

	/* no table known, or more tables than it holds: every table of
	 * the family */
	f.n_tables = 0;
	pair_open(&p, &f);
	assert_true(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, 10001, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET, 10001, 7)));
	pair_close(&p);
	f.n_tables = NLFILTER_TABLES + 1;
	pair_open(&p, &f);
	assert_true(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET6, 10001, 7)));
	assert_false(passes(&p, route_msg(buf, RTM_NEWROUTE, AF_INET, 10001, 7)));
	pair_close(&p);

	/* without routes, link_new and addr_new: as before */
	f = filter(AF_INET, "192.0.2.7", 7, 10000);
	pair_open(&p, &f);
	assert_false(passes(&p, route_msg(buf, RTM_DELROUTE, AF_INET, 10000, 7)));
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rule_tables),
		cmocka_unit_test(test_links_and_netlink),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
