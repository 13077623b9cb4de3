/* ctl: a per-address run's control sockets (ctl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "sockowner.h"

void ctl_init(struct ctl *c, const struct ctl_ops *ops, int family, struct ratelimit *rl)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->family = family;
	c->rl = rl;
	c->fd = -1;
	c->file.fd = -1;
	c->release_fd = -1;
	c->h.fd = c->file_h.fd = -1;
}

/* "prefix LEN" from a later run for the key (root or our user, as
 * ctl_serve() checked): LEN is what it was given.  Answered on fd. */
static void ctl_prefix(struct ctl *c, int fd, const char *arg, const struct ucred *cred,
		       const struct sockaddr_un *peer, socklen_t peer_len)
{
	unsigned max = (unsigned)addr_len(c->family) * 8;
	char reply[CTL_MSG_MAX], *end;
	unsigned long v;
	int len;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || errno || *end || v < 1 || v > max) {
		if (ratelimit_ok(c->rl, loop_now_ms()))
			log_msg(LOG_WARNING, "control socket: bad prefix '%.20s'", arg);
		return;
	}
	if (cred && (cred->uid == 0 || cred->uid == geteuid()))
		c->ops->prefix(c, (uint8_t)v);
	else if (ratelimit_ok(c->rl, loop_now_ms()))
		log_msg(LOG_WARNING, "control socket: prefix change refused for uid %d",
			cred ? (int)cred->uid : -1);
	len = snprintf(reply, sizeof(reply), "table %u", c->ops->table(c));
	sendto(fd, reply, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (const struct sockaddr *)peer, peer_len);
}

/* "routes\n..." from a later run for the key (a renewal; root or our
 * user, as ctl_serve() checked): its routes replace ours.  Answered on fd. */
static void ctl_routes(struct ctl *c, int fd, const char *arg, const struct ucred *cred,
		       const struct sockaddr_un *peer, socklen_t peer_len)
{
	struct route_arg r[ROUTEARG_MAX];
	char reply[CTL_MSG_MAX], err[200];
	size_t n;
	int len;

	if (!cred || (cred->uid != 0 && cred->uid != geteuid())) {
		if (ratelimit_ok(c->rl, loop_now_ms()))
			log_msg(LOG_WARNING, "control socket: routes refused for uid %d", cred ? (int)cred->uid : -1);
	} else if (route_arg_msg_parse(c->family, arg, r, &n, err, sizeof(err)) < 0) {
		if (ratelimit_ok(c->rl, loop_now_ms()))
			log_msg(LOG_WARNING, "control socket: routes: %s", err);
	} else {
		c->ops->routes_set(c, r, n);
	}
	len = snprintf(reply, sizeof(reply), "table %u", c->ops->table(c));
	sendto(fd, reply, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (const struct sockaddr *)peer, peer_len);
}

/* Control requests: answered only for root or our own uid. */
static void ctl_serve(struct ctl *c, int fd)
{
	char buf[ROUTEARG_MSG_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cbuf;
	struct sockaddr_un peer;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_name = &peer, .msg_namelen = sizeof(peer),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	while ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) >= 0) {
		const struct ucred *cred = NULL;
		struct cmsghdr *cm;
		char reply[CTL_MSG_MAX];
		bool ours;

		buf[n] = '\0';
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
				cred = (const struct ucred *)(void *)CMSG_DATA(cm);
		ours = cred && (cred->uid == 0 || cred->uid == geteuid());
		if (ours && !strcmp(buf, "table")) {
			int len = snprintf(reply, sizeof(reply), "table %u", c->ops->table(c));

			sendto(fd, reply, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
			       (struct sockaddr *)&peer, msg.msg_namelen);
		} else if (ours && !strncmp(buf, "prefix ", 7)) {
			ctl_prefix(c, fd, buf + 7, cred, &peer, msg.msg_namelen);
		} else if (ours && !strcmp(buf, "routes?")) {
			char routes[ROUTEARG_MSG_MAX];
			size_t len = c->ops->routes_msg(c, routes, sizeof(routes));

			sendto(fd, routes, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			       (struct sockaddr *)&peer, msg.msg_namelen);
		} else if (ours && !strncmp(buf, "routes\n", 7)) {
			ctl_routes(c, fd, buf + 7, cred, &peer, msg.msg_namelen);
		} else if (ours && !strcmp(buf, "release")) {
			c->release_peer = peer;
			c->release_peer_len = msg.msg_namelen;
			c->release_fd = fd;
			c->ops->release(c);
		} else if (ratelimit_ok(c->rl, loop_now_ms())) {
			/* Up to the first control byte: "routes\n..." is one line. */
			int shown = 0;

			while (shown < 20 && (unsigned char)buf[shown] >= 0x20 && buf[shown] != 0x7f)
				shown++;
			log_msg(LOG_WARNING, "control socket: refused '%.*s' from uid %d pid %d", shown, buf,
				cred ? (int)cred->uid : -1, cred ? (int)cred->pid : 0);
		}
		msg.msg_namelen = sizeof(peer);
		msg.msg_controllen = sizeof(cbuf.buf);
	}
}

static void ctl_ready(struct loop_fd *h, uint32_t events)
{
	(void)events;
	ctl_serve(container_of(h, struct ctl, h), h->fd);
}

static void ctl_file_ready(struct loop_fd *h, uint32_t events)
{
	(void)events;
	ctl_serve(container_of(h, struct ctl, file_h), h->fd);
}

/* Becomes the key's holder: root's file name, then the abstract one.  0
 * (held; a squatter on the abstract name is logged and left alone),
 * -EADDRINUSE (an rtalloc holds the key: ask it), or -errno. */
int ctl_lock(struct ctl *c, const struct proto_request *key)
{
	struct sockaddr_un sa;
	socklen_t salen = owner_name(key, &sa);
	struct sockowner h;
	int ret = owner_file_bind(key, &c->file);

	if (ret == -EADDRINUSE)
		return ret;
	ret = owner_bind(key, &c->fd);
	if (ret == 0 || (ret != -EADDRINUSE && c->file.fd < 0))
		return ret;
	if (sockowner_find(&sa, salen, &h) == 0 && (h.uid != geteuid() || c->file.fd >= 0)) {
		/* An rtalloc of ours holding the key would hold the file name. */
		log_msg(LOG_WARNING, "control name @%s is held by uid %u pid %d (%s), not by an rtalloc "
			"of uid %u: not asked, not obeyed; this run holds the key without it",
			sa.sun_path + 1, (unsigned)h.uid, (int)h.pid, h.comm, (unsigned)geteuid());
		return 0;
	}
	if (c->file.fd >= 0)
		return 0;	/* the file name is the lock; whoever that is, not asked */
	return -EADDRINUSE;
}

int ctl_start(struct ctl *c, struct loop *l)
{
	int ret;

	if (c->file.fd >= 0) {
		c->file_h = (struct loop_fd){ .fd = c->file.fd, .events = EPOLLIN, .cb = ctl_file_ready };
		ret = loop_fd_add(l, &c->file_h);
		if (ret < 0)
			return ret;
	}
	if (c->fd < 0)
		return 0;
	c->h = (struct loop_fd){ .fd = c->fd, .events = EPOLLIN, .cb = ctl_ready };
	return loop_fd_add(l, &c->h);
}

void ctl_close(struct ctl *c)
{
	/* Only now may a new run for this key become the holder.  The asker
	 * of "release" is connected to the socket it asked on: answer from
	 * that. */
	owner_file_drop_name(&c->file);
	if (c->release_peer_len && c->release_fd >= 0)
		sendto(c->release_fd, "released", 8, MSG_DONTWAIT | MSG_NOSIGNAL,
		       (struct sockaddr *)&c->release_peer, c->release_peer_len);
	owner_file_drop(&c->file);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
