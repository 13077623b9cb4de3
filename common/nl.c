/* nl: libmnl helpers for requests with checked ACKs, dumps and events. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nl.h"

/* Large enough that a burst of events (an `ip rule flush`, an interface
 * going down with many addresses) does not overflow at once; ENOBUFS is
 * still handled by a re-dump. */
#define NL_EVENT_RCVBUF (1 << 20)
/* libmnl's MNL_SOCKET_DUMP_SIZE (newer libmnl only): a dump page never
 * exceeds it, so no message is truncated. */
#define NL_RECV_SIZE 32768
/* The kernel answers a request at once; a reply lost to an overrun (ENOBUFS)
 * never comes, so no wait is longer than this. */
#define NL_REPLY_WAIT_MS 5000

int nl_open(struct nl *nl, const unsigned *groups, size_t n)
{
	int ret = 0;

	memset(nl, 0, sizeof(*nl));
	nl->buflen = NL_RECV_SIZE;
	nl->buf = malloc(nl->buflen);
	if (!nl->buf)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | (n ? SOCK_NONBLOCK : 0));
	if (!nl->sock) {
		ret = -errno;
		goto cleanup;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto cleanup;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->events = n > 0;
	nl->seq = (uint32_t)time(NULL);
	/* Errors reported with the offending message's header only. */
	{
		int one = 1;

		mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	if (n) {
		int size = NL_EVENT_RCVBUF;

		/* SO_RCVBUFFORCE works as root; fall back to what we may get. */
		if (setsockopt(nl_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(nl_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	for (size_t i = 0; i < n; i++) {
		int g = (int)groups[i];

		if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
			ret = -errno;
			goto cleanup;
		}
	}
cleanup:
	if (ret < 0)
		nl_close(nl);
	return ret;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	nl->sock = NULL;
	nl->buf = NULL;
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

struct nlmsghdr *nl_batch_add(struct nl *nl, struct nl_batch *b, uint16_t type,
			      uint16_t flags, size_t extra_len)
{
	struct nlmsghdr *nlh;

	if (b->n >= NL_BATCH_MAX || b->len + MNL_ALIGN(sizeof(*nlh) + extra_len) + 256 > sizeof(b->buf))
		return NULL;
	nlh = mnl_nlmsg_put_header(b->buf + b->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	mnl_nlmsg_put_extra_header(nlh, extra_len);
	return nlh;
}

void nl_batch_commit(struct nl_batch *b, struct nlmsghdr *nlh)
{
	b->seq[b->n++] = nlh->nlmsg_seq;
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

static int batch_index(const struct nl_batch *b, uint32_t seq)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->seq[i] == seq)
			return (int)i;
	return -1;
}

int nl_batch_run(struct nl *nl, struct nl_batch *b, int *errs)
{
	size_t acked = 0;
	bool seen[NL_BATCH_MAX] = { false };

	if (!b->n)
		return 0;
	nl_drain(nl);
	if (mnl_socket_sendto(nl->sock, b->buf, b->len) < 0)
		return -errno;
	while (acked < b->n) {
		ssize_t len = nl_recv(nl);
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0)
			return (int)len;
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			int i;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != nl->portid)
				continue;
			i = batch_index(b, nlh->nlmsg_seq);
			if (i < 0 || seen[i])
				continue;	/* a late ACK of an earlier exchange */
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(nlh);
			errs[i] = e->error;
			seen[i] = true;
			acked++;
		}
	}
	return 0;
}

void nl_drain(struct nl *nl)
{
	/* Bounded: a dump left unread ends with its NLMSG_DONE, and nothing
	 * else is sent to a request socket unasked. */
	for (int i = 0; !nl->events && i < 1 << 16; i++) {
		ssize_t len = recv(nl_fd(nl), nl->buf, nl->buflen, MSG_DONTWAIT);

		if (len < 0 && errno != EINTR && errno != ENOBUFS)
			return;
	}
}

ssize_t nl_recv(struct nl *nl)
{
	struct pollfd p = { .fd = nl_fd(nl), .events = POLLIN };

	for (;;) {
		ssize_t len;
		int n = poll(&p, 1, NL_REPLY_WAIT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		len = recv(p.fd, nl->buf, nl->buflen, MSG_DONTWAIT);
		if (len >= 0)
			return len;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* Sends req and reads its answer to its end: NLMSG_DONE for a dump, the
 * ACK (NLMSG_ERROR) for a request with NLM_F_ACK. */
static int exchange(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = ++nl->seq;
	bool interrupted = false, calling = true;
	int ret, err = 0;

	req->nlmsg_seq = seq;
	/* Whatever an exchange that gave up left (the rest of a dump, late
	 * ACKs) is not this dump's: read and dropped before it starts. */
	nl_drain(nl);
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	/* Every message up to our NLMSG_DONE is read, whatever happens on
	 * the way, so the next request starts clean.  Messages of another
	 * sequence number or port are skipped, never taken for ours. */
	for (;;) {
		ssize_t len = nl_recv(nl);
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0) {
			/* An overrun lost part of the dump: repeat it. */
			if (len == -ENOBUFS) {
				interrupted = true;
				continue;
			}
			return (int)len;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *e = mnl_nlmsg_get_payload(nlh);

				if (!err && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && *e < 0)
					err = *e;
				if (err)
					return err;
				return interrupted ? -EINTR : 0;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				/* An error ends a dump: no NLMSG_DONE follows.  The
				 * ACK (error 0) ends a request's answer, which an
				 * overrun may have cut. */
				if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
					return -EBADMSG;
				if (e->error)
					return e->error;
				return err ? err : interrupted ? -EINTR : 0;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !calling)
				continue;
			ret = cb(nlh, data);
			if (ret <= MNL_CB_STOP)
				calling = false;	/* the rest is drained */
			if (ret == MNL_CB_ERROR && !err)
				err = errno > 0 ? -errno : -EIO;
		}
	}
}

int nl_dump(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	req->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return exchange(nl, req, cb, data);
}

int nl_request(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	req->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	return exchange(nl, req, cb, data);
}

int nl_events(struct nl *nl, mnl_cb_t cb, void *data)
{
	ssize_t len = recv(nl_fd(nl), nl->buf, nl->buflen, MSG_DONTWAIT);

	if (len < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	/* Events carry seq 0 and portid 0: mnl_cb_run checks neither then. */
	if (mnl_cb_run(nl->buf, (size_t)len, 0, 0, cb, data) < 0)
		return -errno;
	return 1;
}
