/* kernel: the engine's seam over rtnetlink (libmnl, common/nl.c).  One
 * socket for requests and dumps, one subscribed to events; each message is
 * parsed here, once, into a kobj.h struct. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include "kernel.h"
#include "kmsg.h"
#include "log.h"
#include "nl.h"

/* Messages per sendmsg: the ACKs of one batch must fit the request
 * socket's receive buffer (an ACK costs the kernel ~1 KiB of it). */
#define KBATCH_MAX 64
#define KMSG_MAX 256

struct knl {
	struct kernel k;
	struct nl req;
	struct nl ev;
};

/* ---- the ops ---- */

static int knl_dump(struct kernel *k, enum kobj_type type, const struct kfilter *f, kernel_cb cb,
		    void *data)
{
	struct knl *n = (struct knl *)k;
	static const uint8_t fams[] = { AF_INET, AF_INET6 };
	const struct kfilter all = { .family = AF_UNSPEC };

	if (!f)
		f = &all;
	for (size_t i = 0; i < (type == KOBJ_LINK ? 1u : 2u); i++) {
		struct kfilter one = *f;
		int ret;

		/* Links have no family; the others go one family at a time. */
		if (type == KOBJ_LINK)
			one.family = AF_UNSPEC;
		else if (!f->family)
			one.family = fams[i];
		else if (i)
			break;
		/* An interrupted dump is repeated from the start; the
		 * callers' sets replace entries by key, so twice is fine. */
		ret = kmsg_dump_stable(&n->req, type, &one, cb, data, NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Room for change c's message: a nexthop group or a multipath route
 * grows with its members. */
static size_t change_size(const struct kchange *c)
{
	if (c->type == KOBJ_NEXTHOP)
		return KMSG_MAX + c->nh.ngroup * sizeof(struct nexthop_grp);
	if (c->type == KOBJ_ROUTE && c->whole)
		return KMSG_MAX + c->nmp * (sizeof(struct rtnexthop) + MNL_ATTR_HDRLEN + 16);
	return KMSG_MAX;
}

/* Change c into nlh (its header put, seq and flags set), by the one
 * builder of its object. */
static void change_put(struct nlmsghdr *nlh, const struct kchange *c)
{
	switch (c->type) {
	case KOBJ_NEXTHOP:
		kmsg_change_head(nlh, KOBJ_NEXTHOP, c->add, true);
		knhobj_put(nlh, &c->nh, c->add);
		return;
	case KOBJ_ROUTE:
		/* IPv4 keeps one route per key: replace it.  IPv6 would
		 * replace a sibling; the engine deletes first.  A route
		 * written whole replaces in both. */
		kmsg_change_head(nlh, KOBJ_ROUTE, c->add, c->whole || c->route.family == AF_INET);
		if (c->add && c->whole && c->nmp > 1)
			kroute_put_multipath(nlh, &c->route, c->mp, c->nmp);
		else
			kroute_put(nlh, &c->route, c->add);
		return;
	default:
		kmsg_change_head(nlh, KOBJ_RULE, c->add, false);
		krule_put(nlh, &c->rule);
		return;
	}
}

/* Sends changes [0, n) (n <= KBATCH_MAX) in one sendmsg, waits for every
 * ACK.  errs as in kernel_ops.apply. */
static int knl_batch(struct knl *kn, const struct kchange *c, size_t n, int *errs)
{
	struct nl *nl = &kn->req;
	char *buf = NULL;
	uint32_t first = nl->seq + 1;
	size_t len = 0, acked = 0;
	bool seen[KBATCH_MAX] = { false };
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		len += change_size(&c[i]);
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	len = 0;
	for (size_t i = 0; i < n; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);

		nlh->nlmsg_seq = ++nl->seq;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		change_put(nlh, &c[i]);
		len += MNL_ALIGN(nlh->nlmsg_len);
		errs[i] = 0;
	}
	/* What an earlier exchange that gave up left is not ours. */
	nl_drain(nl);
	if (mnl_socket_sendto(nl->sock, buf, len) < 0) {
		ret = -errno;
		goto cleanup;
	}
	while (acked < n) {
		ssize_t got = nl_recv(nl);
		const struct nlmsghdr *nlh;
		int left;

		if (got < 0) {
			ret = (int)got;
			goto cleanup;
		}
		left = (int)got;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			uint32_t i = nlh->nlmsg_seq - first;
			int err;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != nl->portid ||
			    i >= n || seen[i])
				continue;	/* a late ACK of an earlier exchange */
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				ret = -EBADMSG;
				goto cleanup;
			}
			e = mnl_nlmsg_get_payload(nlh);
			err = e->error;
			if (c[i].add && err == -EEXIST)
				err = 0;
			if (!c[i].add && (err == -ENOENT || err == -ESRCH))
				err = 0;
			errs[i] = err;
			seen[i] = true;
			acked++;
		}
	}
cleanup:
	free(buf);
	return ret;
}

static int knl_apply(struct kernel *k, const struct kchange *c, size_t n, int *errs)
{
	struct knl *kn = (struct knl *)k;

	for (size_t i = 0; i < n; i += KBATCH_MAX) {
		size_t m = n - i < KBATCH_MAX ? n - i : KBATCH_MAX;
		int ret = knl_batch(kn, c + i, m, errs + i);

		if (ret < 0)
			return ret;
	}
	return 0;
}

struct ev_ctx {
	kernel_cb cb;
	void *data;
};

static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *ctx = data;

	kmsg_emit(nlh, -1, ctx->cb, ctx->data);
	return MNL_CB_OK;
}

static int knl_events(struct kernel *k, kernel_cb cb, void *data)
{
	struct knl *kn = (struct knl *)k;
	struct ev_ctx ctx = { .cb = cb, .data = data };
	int ret, count = 0;

	if (!kn->ev.sock)
		return 0;	/* opened for requests only */
	while ((ret = nl_events(&kn->ev, ev_cb, &ctx)) > 0)
		count++;
	return ret < 0 ? ret : count;
}

static int knl_fd(const struct kernel *k)
{
	const struct knl *kn = (const struct knl *)k;

	return kn->ev.sock ? nl_fd(&kn->ev) : -1;
}

static void knl_close(struct kernel *k)
{
	struct knl *kn = (struct knl *)k;

	nl_close(&kn->req);
	nl_close(&kn->ev);
	free(kn);
}

static const struct kernel_ops knl_ops = {
	.dump = knl_dump,
	.apply = knl_apply,
	.events = knl_events,
	.fd = knl_fd,
	.close = knl_close,
};

int kernel_netlink_open(struct kernel **k, int ev_rcvbuf)
{
	static const unsigned groups[] = {
		RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	};

	return kernel_netlink_open_groups(k, ev_rcvbuf, groups, sizeof(groups) / sizeof(groups[0]));
}

int kernel_netlink_open_groups(struct kernel **k, int ev_rcvbuf, const unsigned *groups, size_t n)
{
	struct knl *kn = calloc(1, sizeof(*kn));
	int ret, size = 1 << 20;

	*k = NULL;
	if (!kn)
		return -ENOMEM;
	kn->k.ops = &knl_ops;
	/* Events first: nothing after this call is missed.  No groups: a
	 * kernel for requests and dumps only, without an event socket. */
	if (n) {
		ret = nl_open(&kn->ev, groups, n);
		if (ret < 0)
			goto cleanup;
		/* An agent adding rules for a thousand addresses hears each
		 * of them back: room for that burst (ENOBUFS still re-dumps). */
		size = ev_rcvbuf > 0 ? ev_rcvbuf : 8 << 20;
		if (setsockopt(nl_fd(&kn->ev), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(nl_fd(&kn->ev), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	ret = nl_open(&kn->req, NULL, 0);
	if (ret < 0)
		goto cleanup;
	/* Room for a whole batch of ACKs. */
	size = 1 << 20;
	if (setsockopt(nl_fd(&kn->req), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(nl_fd(&kn->req), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*k = &kn->k;
	return 0;
cleanup:
	nl_close(&kn->ev);
	nl_close(&kn->req);
	free(kn);
	return ret;
}
