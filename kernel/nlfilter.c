/* nlfilter: classic BPF for rtnetlink events (see nlfilter.h).
 * Classic BPF loads words and halfwords in network byte order, so host-order
 * netlink fields are compared with htonl() of the value, and the message
 * type (a host-order u16 below 256) is read byte by byte.  Attributes are
 * found by the kernel's own walk (SKF_AD_NLATTR: A = offset of the first
 * attribute of type X at or after offset A, 0 when none). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/filter.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nlfilter.h"

#define PROG_MAX	160
#define PASS		0xffffffffu
#define DROP		0u

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TYPE_LO		(offsetof(struct nlmsghdr, nlmsg_type))
#define TYPE_HI		(offsetof(struct nlmsghdr, nlmsg_type) + 1)
#else
#define TYPE_LO		(offsetof(struct nlmsghdr, nlmsg_type) + 1)
#define TYPE_HI		(offsetof(struct nlmsghdr, nlmsg_type))
#endif
#define HDR		NLMSG_HDRLEN
#define IFI_INDEX	(HDR + offsetof(struct ifinfomsg, ifi_index))
#define IFA_FAMILY	(HDR + offsetof(struct ifaddrmsg, ifa_family))
#define IFA_INDEX	(HDR + offsetof(struct ifaddrmsg, ifa_index))
#define IFA_ATTRS	(HDR + NLMSG_ALIGN(sizeof(struct ifaddrmsg)))
#define FRH_FAMILY	(HDR + offsetof(struct fib_rule_hdr, family))
#define FRH_ATTRS	(HDR + NLMSG_ALIGN(sizeof(struct fib_rule_hdr)))
#define RTM_FAMILY	(HDR + offsetof(struct rtmsg, rtm_family))
#define RTM_ATTRS	(HDR + NLMSG_ALIGN(sizeof(struct rtmsg)))
#define NLA_PAYLOAD	NLA_HDRLEN

/* A program under construction; jumps name labels, resolved at the end. */
enum label { L_LINK, L_ADDR, L_RULE, L_ADDR2, L_ROUTE, L_MAX };

struct prog {
	struct sock_filter f[PROG_MAX];
	unsigned n;
	int at[L_MAX];			/* instruction of each label, -1: not yet */
	struct fixup { unsigned insn; enum label l; } fix[12];
	unsigned nfix;
	bool full;
};

static void put(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n >= PROG_MAX) {
		p->full = true;
		return;
	}
	p->f[p->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

static void put_ret(struct prog *p, uint32_t v) { put(p, BPF_RET | BPF_K, 0, 0, v); }

/* A == k: go on; else return v. */
static void need(struct prog *p, uint32_t k, uint32_t v)
{
	put(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, k);
	put_ret(p, v);
}

/* A == k: jump to label l; else go on. */
static void jeq_to(struct prog *p, uint32_t k, enum label l)
{
	if (p->nfix < sizeof(p->fix) / sizeof(p->fix[0]))
		p->fix[p->nfix++] = (struct fixup){ p->n, l };
	else
		p->full = true;
	put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, k);
}

static void label(struct prog *p, enum label l) { p->at[l] = (int)p->n; }

/* A = offset of attribute type at or after start, 0 when none. */
static void find_attr(struct prog *p, uint32_t start, uint16_t type)
{
	put(p, BPF_LD | BPF_IMM, 0, 0, start);
	put(p, BPF_LDX | BPF_IMM, 0, 0, type);
	put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_NLATTR));
}

/* With A the offset of an attribute: its payload equals addr's bytes, or
 * return DROP. */
static void need_payload(struct prog *p, int family, const struct inet_addr *a)
{
	put(p, BPF_MISC | BPF_TAX, 0, 0, 0);
	for (size_t i = 0; i < addr_len(family); i += 4) {
		uint32_t w;

		memcpy(&w, a->bytes + i, 4);
		put(p, BPF_LD | BPF_W | BPF_IND, 0, 0, (uint32_t)(NLA_PAYLOAD + i));
		need(p, ntohl(w), DROP);
	}
}

/* Returns PASS when the message's table (the u32 attribute type, found
 * from start) is one of f's, when it has no such attribute (the caller
 * judges) and when f means every table; else DROP.  Every jump here is
 * over the one instruction after it, whatever the list's length. */
static void ret_table(struct prog *p, const struct nlfilter *f, uint32_t start, uint16_t type)
{
	if (f->n_tables == 0 || f->n_tables > NLFILTER_TABLES) {
		put_ret(p, PASS);
		return;
	}
	find_attr(p, start, type);
	put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
	put_ret(p, PASS);
	put(p, BPF_MISC | BPF_TAX, 0, 0, 0);
	put(p, BPF_LD | BPF_W | BPF_IND, 0, 0, NLA_PAYLOAD);
	for (size_t i = 0; i < f->n_tables; i++) {
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, htonl(f->table[i]));
		put_ret(p, PASS);
	}
	put_ret(p, DROP);
}

static int build(struct prog *p, const struct nlfilter *f)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < L_MAX; i++)
		p->at[i] = -1;

	/* Netlink's own messages, and any type above 255 (none exists). */
	put(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, TYPE_HI);
	need(p, 0, PASS);
	put(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, TYPE_LO);
	put(p, BPF_JMP | BPF_JGE | BPF_K, 1, 0, NLMSG_MIN_TYPE);
	put_ret(p, PASS);
	jeq_to(p, RTM_DELLINK, L_LINK);
	if (f->link_new)
		jeq_to(p, RTM_NEWLINK, L_LINK);
	jeq_to(p, RTM_DELADDR, L_ADDR);
	if (f->addr_new)
		jeq_to(p, RTM_NEWADDR, L_ADDR);
	if (f->rule_proto)
		jeq_to(p, RTM_DELRULE, L_RULE);
	if (f->routes) {
		jeq_to(p, RTM_NEWROUTE, L_ROUTE);
		jeq_to(p, RTM_DELROUTE, L_ROUTE);
	}
	put_ret(p, DROP);

	label(p, L_LINK);
	if (f->ifindex) {
		put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, IFI_INDEX);
		need(p, htonl((uint32_t)f->ifindex), DROP);
	}
	put_ret(p, PASS);

	label(p, L_ADDR);
	put(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, IFA_FAMILY);
	need(p, (uint32_t)f->family, DROP);
	if (f->ifindex) {
		put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, IFA_INDEX);
		need(p, htonl((uint32_t)f->ifindex), DROP);
	}
	if (f->have_addr) {
		/* IFA_LOCAL when there is one (IFA_ADDRESS is the peer on a
		 * point-to-point link), else IFA_ADDRESS; neither: pass. */
		find_attr(p, IFA_ATTRS, IFA_LOCAL);
		jeq_to(p, 0, L_ADDR2);
		need_payload(p, f->family, &f->addr);
		put_ret(p, PASS);
		label(p, L_ADDR2);
		find_attr(p, IFA_ATTRS, IFA_ADDRESS);
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
		put_ret(p, PASS);
		need_payload(p, f->family, &f->addr);
	}
	put_ret(p, PASS);

	if (f->rule_proto) {
		label(p, L_RULE);
		put(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, FRH_FAMILY);
		need(p, (uint32_t)f->family, DROP);
		find_attr(p, FRH_ATTRS, FRA_PROTOCOL);
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
		put_ret(p, PASS);		/* no protocol attribute: the caller judges */
		put(p, BPF_MISC | BPF_TAX, 0, 0, 0);
		put(p, BPF_LD | BPF_B | BPF_IND, 0, 0, NLA_PAYLOAD);
		need(p, f->rule_proto, DROP);
		ret_table(p, f, FRH_ATTRS, FRA_TABLE);
	}

	if (f->routes) {
		label(p, L_ROUTE);
		put(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, RTM_FAMILY);
		need(p, (uint32_t)f->family, DROP);
		/* The kernel names the table in RTA_TABLE of every route
		 * message (rtm_table holds 8 bits of it only). */
		ret_table(p, f, RTM_ATTRS, RTA_TABLE);
	}

	if (p->full)
		return -E2BIG;
	for (unsigned i = 0; i < p->nfix; i++) {
		int to = p->at[p->fix[i].l];
		int off = to - (int)p->fix[i].insn - 1;

		if (to < 0 || off < 0 || off > 255)
			return -EINVAL;
		p->f[p->fix[i].insn].jt = (uint8_t)off;
	}
	return 0;
}

int nlfilter_attach(int fd, const struct nlfilter *f)
{
	struct prog p;
	struct sock_fprog fp;
	int ret;

	if (f->family != AF_INET && f->family != AF_INET6)
		return -EINVAL;
	ret = build(&p, f);
	if (ret < 0)
		return ret;
	fp.len = (unsigned short)p.n;
	fp.filter = p.f;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
		return -errno;
	return 0;
}
