/* mptcp: the agent's MPTCP endpoints over generic netlink (mptcp.h). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "health.h"
#include "log.h"
#include "mptcp.h"

#define SUBFLOWS_MAX 8			/* the kernel's MPTCP_PM_ADDR_MAX */

/* ---- generic netlink ---- */

struct req {
	char buf[1024];
	struct nlmsghdr *nlh;
};

static void req_init(struct mptcp *m, struct req *q, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr *g;

	q->nlh = mnl_nlmsg_put_header(q->buf);
	q->nlh->nlmsg_type = type;
	q->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->nlh->nlmsg_seq = ++m->seq;
	g = mnl_nlmsg_put_extra_header(q->nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = MPTCP_PM_VER;	/* 1, as the controller's too */
}

static int run(struct mptcp *m, struct req *q, mnl_cb_t cb, void *data)
{
	static char buf[32768];
	int ret;

	if (mnl_socket_sendto(m->nl, q->nlh, q->nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(m->nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, q->nlh->nlmsg_seq, m->portid, cb, data);
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

int mptcp_open(struct mptcp *m)
{
	struct req q;
	int ret;

	memset(m, 0, sizeof(*m));
	m->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!m->nl)
		return -errno;
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	m->portid = mnl_socket_get_portid(m->nl);
	m->seq = (uint32_t)time(NULL);
	req_init(m, &q, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(q.nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	ret = run(m, &q, family_cb, &m->family);
	if (ret == 0 && !m->family)
		ret = -ENOENT;
	if (ret < 0)
		goto fail;
	return 0;
fail:
	mnl_socket_close(m->nl);
	m->nl = NULL;
	return ret;
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

static int dump(struct mptcp *m, struct mptcp_ep *eps, size_t max, size_t *n)
{
	struct eplist l = { .v = eps, .max = max };
	struct req q;
	int ret;

	req_init(m, &q, m->family, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
	ret = run(m, &q, ep_cb, &l);
	*n = l.n;
	return ret;
}

int mptcp_dump(struct mptcp_ep *eps, size_t max, size_t *n)
{
	struct mptcp m;
	int ret = mptcp_open(&m);

	*n = 0;
	if (ret < 0)
		return ret;
	ret = dump(&m, eps, max, n);
	mnl_socket_close(m.nl);
	return ret;
}

static int ep_req(struct mptcp *m, uint8_t cmd, const struct mptcp_ep *ep)
{
	struct nlattr *nest;
	struct req q;

	req_init(m, &q, m->family, cmd, 0);
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
	return run(m, &q, NULL, NULL);
}

static int set_limits(struct mptcp *m, uint32_t subflows)
{
	struct req q;

	req_init(m, &q, m->family, MPTCP_PM_CMD_SET_LIMITS, 0);
	mnl_attr_put_u32(q.nlh, MPTCP_PM_ATTR_SUBFLOWS, subflows);
	mnl_attr_put_u32(q.nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, subflows);
	return run(m, &q, NULL, NULL);
}

/* ---- sync ---- */

static bool same_addr(const struct inet_addr *a, const struct inet_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, addr_len(a->family));
}

static uint32_t flags_of(enum mptcp_mode mode, bool offline)
{
	uint32_t f = MPTCP_PM_ADDR_FLAG_SUBFLOW;

	if (mode == MPTCP_FULLMESH)
		f |= MPTCP_PM_ADDR_FLAG_FULLMESH;
	if (mode == MPTCP_BACKUP || offline)
		f |= MPTCP_PM_ADDR_FLAG_BACKUP;
	return f;
}

static void drop_ours(struct mptcp *m, size_t i)
{
	m->ours[i] = m->ours[--m->nours];
}

static void told_once(struct mptcp *m, const struct mptcp_ep *k, const char *ifname)
{
	char s[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < m->ntold; i++)
		if (same_addr(&m->told[i], &k->addr))
			return;
	if (m->ntold < MPTCP_ENDPOINTS_MAX)
		m->told[m->ntold++] = k->addr;
	log_msg(LOG_NOTICE, "mptcp: %s on %s already has endpoint %u (not ours): left as it is",
		addr_str(&k->addr, s, sizeof(s)), ifname, k->id);
}

void mptcp_sync(struct mptcp *m, const struct engine *e, const struct mptcp_cfg *c)
{
	struct mptcp_ep k[MPTCP_ENDPOINTS_MAX];
	size_t nk = 0, total;
	bool changed = false;
	char s[INET6_ADDRSTRLEN];
	int ret;

	if (!m->nl || (!c->n && !m->nours))
		return;
	ret = dump(m, k, MPTCP_ENDPOINTS_MAX, &nk);
	if (ret < 0) {
		if (!m->failed)
			log_msg(LOG_ERR, "mptcp: reading the endpoints: %s", strerror(-ret));
		m->failed = true;
		return;
	}
	/* Ours the kernel lost (flushed by someone): forgotten, re-added. */
	for (size_t i = 0; i < m->nours;) {
		bool have = false;

		for (size_t j = 0; j < nk && !have; j++)
			have = k[j].id == m->ours[i].id && same_addr(&k[j].addr, &m->ours[i].addr);
		if (have)
			i++;
		else
			drop_ours(m, i);
	}
	/* Ours whose address went, whose uplink is off, or whose flags
	 * changed: removed (and re-added below with the new flags). */
	for (size_t i = 0; i < m->nours;) {
		const struct mptcp_ep *o = &m->ours[i];
		const struct uplink *u = NULL;
		uint32_t want = 0;

		for (size_t j = 0; j < e->nup && !u; j++)
			if (same_addr(&e->up[j]->key.addr, &o->addr) && e->up[j]->ifindex == o->ifindex)
				u = e->up[j];
		if (u && mptcp_cfg_mode(c, u->key.ifname) != MPTCP_OFF)
			want = flags_of(mptcp_cfg_mode(c, u->key.ifname), health_offline(u->key.ifname, u->key.family));
		if (want == o->flags) {
			i++;
			continue;
		}
		/* Backup or not (track's health): the subflows stay, the
		 * peer is told (MP_PRIO). */
		if (want && (want & ~MPTCP_PM_ADDR_FLAG_BACKUP) == (o->flags & ~MPTCP_PM_ADDR_FLAG_BACKUP)) {
			struct mptcp_ep n = *o;

			n.flags = want;
			ret = ep_req(m, MPTCP_PM_CMD_SET_FLAGS, &n);
			if (ret == 0) {
				log_msg(LOG_INFO, "mptcp: %s on %s: endpoint %u %s", addr_str(&o->addr, s, sizeof(s)),
					u->key.ifname, o->id, want & MPTCP_PM_ADDR_FLAG_BACKUP ?
					"backup (rtalloc-track: offline)" : "back from backup");
				m->ours[i].flags = want;
				i++;
				continue;
			}
		}
		ret = ep_req(m, MPTCP_PM_CMD_DEL_ADDR, o);
		if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
			log_msg(LOG_WARNING, "mptcp: removing endpoint %u (%s): %s", o->id,
				addr_str(&o->addr, s, sizeof(s)), strerror(-ret));
		for (size_t j = 0; j < nk; j++)
			if (k[j].id == o->id)
				k[j] = k[--nk];
		drop_ours(m, i);
		changed = true;
	}
	for (size_t i = 0; i < e->nup && m->nours < MPTCP_ENDPOINTS_MAX; i++) {
		const struct uplink *u = e->up[i];
		enum mptcp_mode mode = mptcp_cfg_mode(c, u->key.ifname);
		struct mptcp_ep ep = { .addr = u->key.addr, .ifindex = u->ifindex };
		bool have = false;

		if (mode == MPTCP_OFF || u->foreign)
			continue;
		for (size_t j = 0; j < nk && !have; j++) {
			if (!same_addr(&k[j].addr, &u->key.addr))
				continue;
			have = true;
			for (size_t o = 0; o < m->nours; o++)
				if (m->ours[o].id == k[j].id)
					goto next;
			told_once(m, &k[j], u->key.ifname);
		}
		if (have)
			continue;
		/* The lowest id nobody uses. */
		for (ep.id = 1; ep.id < 255; ep.id++) {
			bool used = false;

			for (size_t j = 0; j < nk && !used; j++)
				used = k[j].id == ep.id;
			if (!used)
				break;
		}
		ep.addr.family = u->key.family;
		ep.flags = flags_of(mode, health_offline(u->key.ifname, u->key.family));
		ret = ep_req(m, MPTCP_PM_CMD_ADD_ADDR, &ep);
		if (ret < 0) {
			log_msg(LOG_WARNING, "mptcp: endpoint for %s on %s: %s", addr_str(&ep.addr, s, sizeof(s)),
				u->key.ifname, strerror(-ret));
			continue;
		}
		log_msg(LOG_INFO, "mptcp: %s on %s: endpoint %u (%s%s)", addr_str(&ep.addr, s, sizeof(s)),
			u->key.ifname, ep.id, mptcp_mode_name(mode),
			ep.flags & MPTCP_PM_ADDR_FLAG_BACKUP && mode != MPTCP_BACKUP ? ", backup: offline" : "");
		m->ours[m->nours++] = ep;
		if (nk < MPTCP_ENDPOINTS_MAX)
			k[nk++] = ep;
		changed = true;
next:;
	}
	if (!changed)
		return;
	total = nk < SUBFLOWS_MAX ? nk : SUBFLOWS_MAX;
	ret = set_limits(m, (uint32_t)total);
	if (ret < 0)
		log_msg(LOG_WARNING, "mptcp: setting the limits to %zu subflows: %s", total, strerror(-ret));
}

void mptcp_close(struct mptcp *m)
{
	if (!m->nl)
		return;
	for (size_t i = 0; i < m->nours; i++)
		ep_req(m, MPTCP_PM_CMD_DEL_ADDR, &m->ours[i]);
	m->nours = 0;
	mnl_socket_close(m->nl);
	m->nl = NULL;
}
