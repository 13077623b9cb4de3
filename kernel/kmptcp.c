/* kmptcp: the kernel's MPTCP endpoints over generic netlink (kmptcp.h). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kmptcp.h"

struct req {
	char buf[1024];
	struct nlmsghdr *nlh;
};

static void req_init(struct kmptcp *k, struct req *q, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr *g;

	q->nlh = mnl_nlmsg_put_header(q->buf);
	q->nlh->nlmsg_type = type;
	q->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->nlh->nlmsg_seq = ++k->seq;
	g = mnl_nlmsg_put_extra_header(q->nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = MPTCP_PM_VER;	/* 1, as the controller's too */
}

static int run(struct kmptcp *k, struct req *q, mnl_cb_t cb, void *data)
{
	static char buf[32768];
	int ret;

	if (mnl_socket_sendto(k->nl, q->nlh, q->nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(k->nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, q->nlh->nlmsg_seq, k->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_get_payload_len(a) == 2)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

int kmptcp_open(struct kmptcp *k)
{
	struct req q;
	int ret;

	memset(k, 0, sizeof(*k));
	k->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!k->nl)
		return -errno;
	if (mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	k->portid = mnl_socket_get_portid(k->nl);
	k->seq = (uint32_t)time(NULL);
	req_init(k, &q, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(q.nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	ret = run(k, &q, family_cb, &k->family);
	if (ret == 0 && !k->family)
		ret = -ENOENT;
	if (ret < 0)
		goto fail;
	return 0;
fail:
	mnl_socket_close(k->nl);
	k->nl = NULL;
	return ret;
}

void kmptcp_close(struct kmptcp *k)
{
	if (!k->nl)
		return;
	mnl_socket_close(k->nl);
	k->nl = NULL;
}

struct eplist {
	struct mptcp_ep *v;
	size_t n, max;
};

static int ep_cb(const struct nlmsghdr *nlh, void *data)
{
	struct eplist *l = data;
	const struct nlattr *a, *b;
	struct mptcp_ep ep;

	memset(&ep, 0, sizeof(ep));
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != MPTCP_PM_ATTR_ADDR)
			continue;
		mnl_attr_for_each_nested(b, a) {
			uint16_t len = mnl_attr_get_payload_len(b);

			switch (mnl_attr_get_type(b)) {
			case MPTCP_PM_ADDR_ATTR_ID:
				if (len >= 1)
					ep.id = mnl_attr_get_u8(b);
				break;
			case MPTCP_PM_ADDR_ATTR_ADDR4:
				if (len == 4) {
					ep.addr.family = AF_INET;
					memcpy(ep.addr.bytes, mnl_attr_get_payload(b), 4);
				}
				break;
			case MPTCP_PM_ADDR_ATTR_ADDR6:
				if (len == 16) {
					ep.addr.family = AF_INET6;
					memcpy(ep.addr.bytes, mnl_attr_get_payload(b), 16);
				}
				break;
			case MPTCP_PM_ADDR_ATTR_FLAGS:
				if (len == 4)
					ep.flags = mnl_attr_get_u32(b);
				break;
			case MPTCP_PM_ADDR_ATTR_IF_IDX:
				if (len == 4)
					ep.ifindex = (int)mnl_attr_get_u32(b);
				break;
			}
		}
	}
	if (ep.addr.family && l->n < l->max)
		l->v[l->n++] = ep;
	return MNL_CB_OK;
}

int kmptcp_dump(struct kmptcp *k, struct mptcp_ep *eps, size_t max, size_t *n)
{
	struct eplist l = { .v = eps, .max = max };
	struct req q;
	int ret;

	req_init(k, &q, k->family, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
	ret = run(k, &q, ep_cb, &l);
	*n = l.n;
	return ret;
}

int mptcp_dump(struct mptcp_ep *eps, size_t max, size_t *n)
{
	struct kmptcp k;
	int ret = kmptcp_open(&k);

	*n = 0;
	if (ret < 0)
		return ret;
	ret = kmptcp_dump(&k, eps, max, n);
	kmptcp_close(&k);
	return ret;
}

static int ep_req(struct kmptcp *k, uint8_t cmd, const struct mptcp_ep *ep)
{
	struct nlattr *nest;
	struct req q;

	req_init(k, &q, k->family, cmd, 0);
	nest = mnl_attr_nest_start(q.nlh, MPTCP_PM_ATTR_ADDR);
	mnl_attr_put_u8(q.nlh, MPTCP_PM_ADDR_ATTR_ID, ep->id);
	if (cmd == MPTCP_PM_CMD_ADD_ADDR || cmd == MPTCP_PM_CMD_SET_FLAGS) {
		mnl_attr_put_u16(q.nlh, MPTCP_PM_ADDR_ATTR_FAMILY, (uint16_t)ep->addr.family);
		mnl_attr_put(q.nlh, ep->addr.family == AF_INET ? MPTCP_PM_ADDR_ATTR_ADDR4 : MPTCP_PM_ADDR_ATTR_ADDR6,
			     addr_len(ep->addr.family), ep->addr.bytes);
		mnl_attr_put_u32(q.nlh, MPTCP_PM_ADDR_ATTR_FLAGS, ep->flags);
		mnl_attr_put_u32(q.nlh, MPTCP_PM_ADDR_ATTR_IF_IDX, (uint32_t)ep->ifindex);
	}
	mnl_attr_nest_end(q.nlh, nest);
	return run(k, &q, NULL, NULL);
}

int kmptcp_add(struct kmptcp *k, const struct mptcp_ep *ep)
{
	return ep_req(k, MPTCP_PM_CMD_ADD_ADDR, ep);
}

int kmptcp_del(struct kmptcp *k, const struct mptcp_ep *ep)
{
	return ep_req(k, MPTCP_PM_CMD_DEL_ADDR, ep);
}

int kmptcp_set_flags(struct kmptcp *k, const struct mptcp_ep *ep)
{
	return ep_req(k, MPTCP_PM_CMD_SET_FLAGS, ep);
}

int kmptcp_set_limits(struct kmptcp *k, uint32_t subflows)
{
	struct req q;

	req_init(k, &q, k->family, MPTCP_PM_CMD_SET_LIMITS, 0);
	mnl_attr_put_u32(q.nlh, MPTCP_PM_ATTR_SUBFLOWS, subflows);
	mnl_attr_put_u32(q.nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, subflows);
	return run(k, &q, NULL, NULL);
}
