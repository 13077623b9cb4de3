/* nlquery: one-shot netlink dumps and ACKed batches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nlquery.h"

#define NLQ_BUF ((size_t)64 * 1024)

static struct mnl_socket *open_bus(int bus, uint32_t *portid)
{
	struct mnl_socket *s = mnl_socket_open2(bus, SOCK_CLOEXEC);

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(s);
		errno = e;
		return NULL;
	}
	*portid = mnl_socket_get_portid(s);
	return s;
}

int nlq_dump(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t portid, seq = (uint32_t)time(NULL);
	struct mnl_socket *s = open_bus(bus, &portid);
	char *buf;
	int ret;

	if (!s)
		return -errno;
	buf = malloc(NLQ_BUF);
	if (!buf) {
		mnl_socket_close(s);
		return -ENOMEM;
	}
	req->nlmsg_seq = seq;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	if (mnl_socket_sendto(s, req, req->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(s, buf, NLQ_BUF);

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	ret = ret < 0 ? -errno : 0;
out:
	free(buf);
	mnl_socket_close(s);
	return ret;
}

int nlq_batch(int bus, void *reqs, size_t len, size_t n, int *errs)
{
	uint32_t portid, seq = (uint32_t)time(NULL) ^ 0x5a5a0000u;
	struct mnl_socket *s = open_bus(bus, &portid);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t off = 0, got = 0;
	int ret = 0;

	if (!s)
		return -errno;
	for (size_t i = 0; i < n && off < len; i++) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)reqs + off);

		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = seq + (uint32_t)i;
		errs[i] = 0;
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	if (mnl_socket_sendto(s, reqs, len) < 0) {
		ret = -errno;
		goto out;
	}
	while (got < n) {
		ssize_t r = mnl_socket_recvfrom(s, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left;

		if (r < 0) {
			ret = -errno;
			goto out;
		}
		left = (int)r;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			uint32_t i = nlh->nlmsg_seq - seq;

			if (nlh->nlmsg_type != NLMSG_ERROR || i >= n)
				continue;
			errs[i] = e->error;
			got++;
		}
	}
out:
	mnl_socket_close(s);
	return ret;
}
