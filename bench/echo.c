/* echo: the floor for `make bench`.  A datagram server on an abstract unix
 * socket that stores nothing and answers every request with a fixed reply,
 * served the way rtallocd serves (epoll, SO_PASSCRED, recvmmsg of up to 128,
 * one sendmmsg per batch), so the gap to rtallocd is what rtallocd does per
 * request: parse, ledger, SQLite commit, format.
 *   echo NAME
 * Only the request's "seq" is copied into the reply, because the load
 * generator drops replies whose seq is not the one in flight. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

#define BATCH 128	/* SERVER_BATCH in allocator-server/server.h */

struct slot {
	struct sockaddr_un peer;
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cmsg;
	char in[4096];
	char out[160];
};

static struct slot slots[BATCH];

static unsigned long seq_of(const char *buf, size_t len)
{
	const char *p = memmem(buf, len, "\"seq\":", 6);

	return p ? strtoul(p + 6, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, ep, one = 1, size = 4 << 20;
	size_t n;

	if (argc != 2 || (n = strlen(argv[1])) + 1 >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: echo NAME\n");
		return 1;
	}
	memcpy(sa.sun_path + 1, argv[1], n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = fd;
	if (fd < 0 || ep < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("echo");
		return 1;
	}
	for (;;) {
		struct mmsghdr in[BATCH], out[BATCH];
		struct iovec iov[BATCH], oiov[BATCH];
		int got, nout = 0;

		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("echo: epoll_wait");
			return 1;
		}
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = slots[i].in, .iov_len = sizeof(slots[i].in) };
			in[i].msg_hdr = (struct msghdr){
				.msg_name = &slots[i].peer, .msg_namelen = sizeof(slots[i].peer),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = slots[i].cmsg.buf, .msg_controllen = sizeof(slots[i].cmsg.buf),
			};
		}
		got = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < got; i++) {
			struct slot *sl = &slots[i];
			int len = snprintf(sl->out, sizeof(sl->out),
					   "{\"version\":%d,\"cmd\":%d,\"table\":10000,\"lease_expires\":4102444800,"
					   "\"lease_seconds\":3600,\"seq\":%lu}", PROTO_VERSION_2, PROTO_CMD_REPLY, seq_of(sl->in, in[i].msg_len));

			oiov[nout] = (struct iovec){ .iov_base = sl->out, .iov_len = (size_t)len };
			out[nout].msg_hdr = (struct msghdr){
				.msg_name = &sl->peer, .msg_namelen = in[i].msg_hdr.msg_namelen,
				.msg_iov = &oiov[nout], .msg_iovlen = 1,
			};
			nout++;
		}
		for (int sent = 0; sent < nout;) {
			int r = sendmmsg(fd, out + sent, (unsigned)(nout - sent), MSG_DONTWAIT | MSG_NOSIGNAL);

			sent += r < 0 ? 1 : r;
		}
	}
}
