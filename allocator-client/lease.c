/* lease: requests, renewals, releases and listings to rtallocd. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "log.h"
#include "loop.h"

/* Replies are small; LIST pages are at most PROTO_MAX_DATAGRAM. */
#define LEASE_REPLY_MAX 4096

int lease_open(struct lease_client *lc, const char *sockname)
{
	struct sockaddr_un self = { .sun_family = AF_UNIX };
	size_t len = strlen(sockname);
	int ret = 0;

	memset(lc, 0, sizeof(*lc));
	lc->fd = -1;
	if (len + 1 > sizeof(lc->server.sun_path))
		return -ENAMETOOLONG;
	lc->server.sun_family = AF_UNIX;
	memcpy(lc->server.sun_path + 1, sockname, len);	/* abstract: leading NUL */
	lc->server_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	/* seq starts somewhere random-ish so a late reply to an earlier process
	 * using the same autobound name cannot be taken for ours. */
	lc->seq = (uint32_t)getpid() << 16 ^ (uint32_t)loop_now_ms();

	lc->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lc->fd < 0)
		return -errno;
	/* Autobind: the server needs an address to answer to. */
	if (bind(lc->fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0) {
		ret = -errno;
		lease_close(lc);
	}
	return ret;
}

void lease_close(struct lease_client *lc)
{
	if (lc && lc->fd >= 0) {
		close(lc->fd);
		lc->fd = -1;
	}
}

int lease_send_req(struct lease_client *lc, const struct proto_request *req)
{
	char buf[512];
	int len = proto_request_format(req, buf, sizeof(buf));

	if (len < 0)
		return len;
	if (sendto(lc->fd, buf, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&lc->server,
		   lc->server_len) < 0)
		return -errno;
	return 0;
}

int lease_send(struct lease_client *lc, const struct cli_opts *o, uint8_t cmd)
{
	struct proto_request req = {
		.version = PROTO_VERSION_2,
		.cmd = cmd,
		.family = (uint8_t)o->family,
		.seq = ++lc->seq,
		.held_table = cmd == PROTO_CMD_REQUEST ? lc->held_table : 0,
	};

	addr_str(&o->addr, req.address, sizeof(req.address));
	snprintf(req.ifname, sizeof(req.ifname), "%s", o->ifname);
	snprintf(req.tag, sizeof(req.tag), "%s", o->tag);
	return lease_send_req(lc, &req);
}

int lease_recv_any(struct lease_client *lc, struct proto_reply *rep)
{
	char buf[LEASE_REPLY_MAX], err[PROTO_ERROR_MAX + 64];
	ssize_t len = recv(lc->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (len < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (proto_reply_parse(buf, (size_t)len, rep, err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "server: bad reply: %s", err);
		return 0;
	}
	return 1;
}

int lease_recv(struct lease_client *lc, struct proto_reply *rep)
{
	int ret = lease_recv_any(lc, rep);

	if (ret <= 0)
		return ret;
	if (rep->seq && rep->seq != lc->seq) {
		log_msg(LOG_DEBUG, "server: reply to an earlier request (seq %u), ignored", rep->seq);
		return 0;
	}
	return 1;
}

static int wait_readable(int fd, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = loop_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (now >= deadline_ms)
			return 0;
		r = poll(&p, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : r;
	}
}

int lease_exchange(struct lease_client *lc, const struct cli_opts *o, uint8_t cmd,
		   unsigned tries, unsigned interval_ms, struct proto_reply *rep)
{
	int ret;

	for (unsigned i = 0; i < tries; i++) {
		uint64_t deadline = loop_now_ms() + interval_ms;

		ret = lease_send(lc, o, cmd);
		if (ret < 0)
			log_msg(i + 1 < tries ? LOG_DEBUG : LOG_WARNING, "server @%s: %s",
				lc->server.sun_path + 1, strerror(-ret));
		/* Waiting out the interval even when sendto failed at once (no
		 * server yet): the retry budget is in time, not in syscalls. */
		while ((ret = wait_readable(lc->fd, deadline)) > 0) {
			ret = lease_recv(lc, rep);
			if (ret < 0)
				break;
			if (ret == 1)
				return 0;
		}
		if (ret < 0 && ret != -ECONNREFUSED)
			return ret;
	}
	return -ETIMEDOUT;
}

int lease_list(struct lease_client *lc, unsigned timeout_ms, struct proto_lease **leases,
	       size_t *n, char *err, size_t errlen)
{
	struct proto_lease *all = NULL;
	size_t count = 0;
	uint32_t offset = 0;
	char *buf = malloc(PROTO_MAX_DATAGRAM);
	int ret = 0;

	*leases = NULL;
	*n = 0;
	err[0] = '\0';
	if (!buf)
		return -ENOMEM;
	do {
		struct proto_request req = {
			.version = PROTO_VERSION_2,
			.cmd = PROTO_CMD_LIST,
			.seq = ++lc->seq,
			.offset = offset,
		};
		struct proto_list_reply page = { 0 };
		uint64_t deadline = loop_now_ms() + timeout_ms;
		bool got = false;

		ret = lease_send_req(lc, &req);
		if (ret < 0) {
			snprintf(err, errlen, "server @%s: %s", lc->server.sun_path + 1, strerror(-ret));
			goto cleanup;
		}
		while (!got && (ret = wait_readable(lc->fd, deadline)) > 0) {
			ssize_t len = recv(lc->fd, buf, PROTO_MAX_DATAGRAM, MSG_DONTWAIT);

			if (len < 0)
				continue;
			if (proto_list_parse(buf, (size_t)len, &page, err, errlen) < 0) {
				ret = -EBADMSG;
				goto cleanup;
			}
			if (page.seq && page.seq != req.seq) {
				proto_list_free(&page);
				continue;
			}
			got = true;
		}
		if (!got) {
			ret = ret < 0 ? ret : -ETIMEDOUT;
			snprintf(err, errlen, "server @%s: no answer", lc->server.sun_path + 1);
			goto cleanup;
		}
		if (page.n) {
			struct proto_lease *grown = realloc(all, (count + page.n) * sizeof(*all));

			if (!grown) {
				proto_list_free(&page);
				ret = -ENOMEM;
				goto cleanup;
			}
			all = grown;
			memcpy(all + count, page.leases, page.n * sizeof(*all));
			count += page.n;
		}
		/* next must move forward, or a confused server would loop us. */
		offset = page.next > offset ? page.next : 0;
		proto_list_free(&page);
	} while (offset);
	ret = 0;
cleanup:
	free(buf);
	if (ret < 0) {
		free(all);
		return ret;
	}
	*leases = all;
	*n = count;
	return 0;
}
