/* agentneigh: IPv6 routers from the kernel's neighbour table (agentneigh.h). */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "agentneigh.h"
#include "kmsg.h"

static bool linklocal(const struct inet_addr *a)
{
	return a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

static int router_ix(const struct neighbours *nb, int ifindex)
{
	for (size_t i = 0; i < nb->n; i++)
		if (nb->v[i].ifindex == ifindex)
			return (int)i;
	return -1;
}

/* One neighbour message: 1 when the link's router changed. */
static int neigh_msg(struct neighbours *nb, const struct nlmsghdr *nlh)
{
	struct kneigh ne;
	const struct inet_addr *a = &ne.addr;
	bool router;
	int i;

	if (!kneigh_parse(nlh, &ne) || ne.family != AF_INET6)
		return 0;
	router = kneigh_is_router(&ne);
	i = router_ix(nb, ne.ifindex);
	if (!router) {
		/* A deletion (link down, garbage collection) says nothing of
		 * the router; a router that says it no longer is one, or that
		 * stopped answering, does. */
		if (ne.del || i < 0 || memcmp(nb->v[i].addr.bytes, a->bytes, 16))
			return 0;
		nb->v[i] = nb->v[--nb->n];
		return 1;
	}
	if (i >= 0) {
		if (!memcmp(nb->v[i].addr.bytes, a->bytes, 16))
			return 0;
		/* A link-local router (an RA's source) beats a global
		 * address of the router that answered with the flag. */
		if (linklocal(&nb->v[i].addr) && !linklocal(a))
			return 0;
		nb->v[i].addr = *a;
		return 1;
	}
	if (kobj_grow((void **)&nb->v, &nb->cap, nb->n, sizeof(*nb->v)) < 0)
		return 0;
	nb->v[nb->n++] = (struct neigh_router){ .ifindex = ne.ifindex, .addr = *a };
	return 1;
}

struct read_ctx {
	struct neighbours *nb;
	int changed;
};

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;

	if (nlh->nlmsg_type == RTM_NEWNEIGH || nlh->nlmsg_type == RTM_DELNEIGH)
		c->changed |= neigh_msg(c->nb, nlh);
	else if (nlh->nlmsg_type == RTM_NEWNDUSEROPT && c->nb->useropt)
		c->nb->useropt(c->nb->data, nlh);
	return MNL_CB_OK;
}

int neigh_reload(struct neighbours *nb)
{
	struct nl d;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct read_ctx c = { .nb = nb };
	int ret;

	ret = nl_open(&d, NULL, 0);
	if (ret < 0)
		return ret;
	kneigh_dump_put(nlh, AF_INET6);
	nb->n = 0;
	do
		ret = nl_dump(&d, nlh, msg_cb, &c);
	while (ret == -EINTR);
	nl_close(&d);
	return ret;
}

int neigh_open(struct neighbours *nb)
{
	static const unsigned groups[] = { RTNLGRP_NEIGH, RTNLGRP_ND_USEROPT };
	int ret;

	ret = nl_open(&nb->ev, groups, 2);
	if (ret < 0)
		return ret;
	ret = neigh_reload(nb);
	if (ret < 0)
		neigh_close(nb);
	return ret;
}

void neigh_close(struct neighbours *nb)
{
	if (nb->ev.sock)
		nl_close(&nb->ev);
	free(nb->v);
	memset(nb, 0, sizeof(*nb));
}

int neigh_fd(const struct neighbours *nb)
{
	return nl_fd(&nb->ev);
}

int neigh_read(struct neighbours *nb)
{
	struct read_ctx c = { .nb = nb };
	int ret;

	while ((ret = nl_events(&nb->ev, msg_cb, &c)) > 0)
		;
	if (ret < 0)
		return ret;
	return c.changed;
}

const struct inet_addr *neigh_router(const struct neighbours *nb, int ifindex)
{
	int i = router_ix(nb, ifindex);

	return i < 0 ? NULL : &nb->v[i].addr;
}
