/* lease: requests, renewals, releases and listings to rtallocd. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sockowner.h"
#include "lease.h"
#include "log.h"
#include "loop.h"

/* Replies are small; LIST pages are at most PROTO_MAX_DATAGRAM. */
#define LEASE_REPLY_MAX 4096
#define LEASE_BIND_TRIES 64

static const char *const target_name[LEASE_TARGETS] = { "file", "exact", "padded" };

static int64_t clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec;
}

/* The server's uid: root, or the owner of LEASE_SOCKET_DIR when no one
 * else may write in it (only root can create it under /run, and the
 * server's unit makes it the server user's). */
static uid_t server_uid(bool *trusted)
{
	struct stat st;

	*trusted = lstat(LEASE_SOCKET_DIR, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 022);
	return *trusted ? st.st_uid : 0;
}

/* A padded abstract name of our own: a v1 server answers at the padded
 * form of the name it sees, and an explicit name is also what it needs. */
static int bind_self(int fd)
{
	static unsigned n;
	struct sockaddr_un self = { .sun_family = AF_UNIX };

	for (int i = 0; i < LEASE_BIND_TRIES; i++) {
		memset(self.sun_path, 0, sizeof(self.sun_path));
		snprintf(self.sun_path + 1, sizeof(self.sun_path) - 1, "rtalloc-c/%d/%u", (int)getpid(), n++);
		if (bind(fd, (struct sockaddr *)&self, sizeof(self)) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -errno;
	}
	/* Every name taken (by someone guessing them): autobind still serves
	 * v2 servers. */
	log_msg(LOG_WARNING, "client names @rtalloc-c/%d/* are taken; a v1 server cannot answer", (int)getpid());
	return bind(fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0 ? -errno : 0;
}

static void set_target(struct lease_client *lc, enum lease_target t)
{
	size_t n = strlen(lc->name);

	lc->target = t;
	memset(&lc->server, 0, sizeof(lc->server));
	lc->server.sun_family = AF_UNIX;
	lc->version = t == LEASE_TARGET_PADDED ? PROTO_VERSION_1 : PROTO_VERSION_2;
	if (t == LEASE_TARGET_FILE) {
		char path[sizeof(lc->server.sun_path) + sizeof(LEASE_SOCKET_DIR) + 8];

		/* lease_open() checked that it fits */
		snprintf(path, sizeof(path), "%s/%s.sock", LEASE_SOCKET_DIR, lc->name);
		memcpy(lc->server.sun_path, path, strnlen(path, sizeof(lc->server.sun_path) - 1));
		lc->server_len = sizeof(lc->server);
		return;
	}
	memcpy(lc->server.sun_path + 1, lc->name, n);	/* abstract: leading NUL */
	lc->server_len = t == LEASE_TARGET_PADDED ? (socklen_t)sizeof(lc->server) :
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

void lease_next_target(struct lease_client *lc)
{
	enum lease_target t = lc->target;

	do
		t = (enum lease_target)((t + 1) % LEASE_TARGETS);
	while (t == LEASE_TARGET_FILE && !lc->have_file);
	set_target(lc, t);
	log_msg(LOG_DEBUG, "server: trying %s name %s%s (version %u)", target_name[t],
		t == LEASE_TARGET_FILE ? "" : "@", t == LEASE_TARGET_FILE ? lc->server.sun_path : lc->name,
		lc->version);
}

int lease_open(struct lease_client *lc, const char *sockname)
{
	size_t len = strlen(sockname);
	char path[sizeof(lc->server.sun_path) + 16];
	struct stat st;
	bool trusted;
	int one = 1, ret = 0;

	memset(lc, 0, sizeof(*lc));
	lc->fd = -1;
	lc->free_inet = lc->free_inet6 = -1;
	lc->rl = (struct ratelimit)RATELIMIT_INIT(10000, 5);
	if (len + 1 > sizeof(lc->server.sun_path))
		return -ENAMETOOLONG;
	memcpy(lc->name, sockname, len);
	lc->server_uid = server_uid(&trusted);
	snprintf(path, sizeof(path), "%s/%s.sock", LEASE_SOCKET_DIR, sockname);
	/* Only root (or the server's user) can have made it: it is the
	 * server's, and no flood on the abstract names reaches it. */
	lc->have_file = trusted && strlen(path) < sizeof(lc->server.sun_path) && !strchr(sockname, '/') &&
			lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == lc->server_uid;
	set_target(lc, LEASE_TARGET_FILE);
	/* A file socket reaches across network namespaces: only a server in
	 * ours leases tables for our routing. */
	lc->have_file = lc->have_file && sockowner_here(&lc->server, lc->server_len);
	set_target(lc, lc->have_file ? LEASE_TARGET_FILE : LEASE_TARGET_EXACT);
	/* seq starts somewhere random-ish so a late reply to an earlier process
	 * using the same name cannot be taken for ours; never 0 (no seq). */
	lc->seq = (uint32_t)getpid() << 16 ^ (uint32_t)loop_now_ms();

	lc->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lc->fd < 0)
		return -errno;
	if (setsockopt(lc->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		ret = -errno;
	if (ret == 0)
		ret = bind_self(lc->fd);
	if (ret < 0)
		lease_close(lc);
	return ret;
}

void lease_close(struct lease_client *lc)
{
	if (lc && lc->fd >= 0) {
		close(lc->fd);
		lc->fd = -1;
	}
}

/* Wait until fd has any of events or deadline_ms (loop clock) passes:
 * 1 ready, 0 deadline reached, -errno on poll failure. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = loop_now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (now >= deadline_ms)
			return 0;
		r = poll(&p, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : r;
	}
}

int lease_send_req(struct lease_client *lc, const struct proto_request *req)
{
	struct proto_request r = *req;
	char buf[512];
	int len;

	if (!r.seq)
		r.seq = ++lc->seq ? lc->seq : ++lc->seq;
	if (lc->version == PROTO_VERSION_1 && r.cmd != PROTO_CMD_LIST) {
		r.version = PROTO_VERSION_1;
		r.held_table = 0;	/* a v2 field; v1 requests keep the original's shape */
	}
	len = proto_request_format(&r, buf, sizeof(buf));
	/* The 2017 server reads 254 bytes: without seq (rtallocd echoes it,
	 * the original does not), and failing that, not at all. */
	if (len > LEASE_V1_REQUEST_MAX && r.version == PROTO_VERSION_1) {
		r.seq = 0;
		len = proto_request_format(&r, buf, sizeof(buf));
		if (len > LEASE_V1_REQUEST_MAX)
			return -EMSGSIZE;
	}
	if (len < 0)
		return len;
	/* Connected: the kernel then refuses datagrams to us from anyone but
	 * the server's socket.  Again each time, as the server may have been
	 * restarted (a new socket) since. */
	if (connect(lc->fd, (struct sockaddr *)&lc->server, lc->server_len) < 0)
		return -errno;
	for (;;) {
		int ret;

		if (send(lc->fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return 0;
		if (errno != EAGAIN || !lc->send_deadline_ms)
			return -errno;
		/* The server's queue is full (a flood): wait for room, as a
		 * blocking send would, but only until the deadline. */
		ret = wait_fd(lc->fd, POLLOUT, lc->send_deadline_ms);
		if (ret <= 0)
			return ret < 0 ? ret : -EAGAIN;
	}
}

int lease_send(struct lease_client *lc, const struct proto_request *key, uint8_t cmd)
{
	struct proto_request req = *key;

	req.version = lc->version;
	req.cmd = cmd;
	req.seq = ++lc->seq ? lc->seq : ++lc->seq;
	req.held_table = cmd == PROTO_CMD_REQUEST ? lc->held_table : 0;
	return lease_send_req(lc, &req);
}

static bool addr_same(const struct sockaddr_un *a, socklen_t alen, const struct sockaddr_un *b,
		      socklen_t blen)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);

	if (alen <= off || blen <= off)
		return false;
	if (b->sun_path[0])	/* a file: the kernel's length may count the NUL or not */
		return a->sun_path[0] && !strncmp(a->sun_path, b->sun_path, sizeof(a->sun_path));
	return alen == blen && !memcmp(a->sun_path, b->sun_path, alen - off);
}

static void dropped(struct lease_client *lc, const struct ucred *cr, const char *why)
{
	if (!ratelimit_ok(&lc->rl, loop_now_ms()))
		return;
	if (cr)
		log_msg(LOG_WARNING, "server socket: datagram from uid %u pid %d dropped: %s",
			(unsigned)cr->uid, (int)cr->pid, why);
	else
		log_msg(LOG_WARNING, "server socket: datagram dropped: %s", why);
}

/* One datagram from the server's uid at the server's address, into buf:
 * its length, 0 when nothing (usable) was pending, or -errno. */
static ssize_t recv_server(struct lease_client *lc, char *buf, size_t size, struct ucred *cred,
			   const struct ucred **crp)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cmsg;
	struct sockaddr_un peer;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = {
		.msg_name = &peer, .msg_namelen = sizeof(peer),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf),
	};
	const struct ucred *cr = NULL;
	struct cmsghdr *c;
	ssize_t len = recvmsg(lc->fd, &mh, MSG_DONTWAIT);

	*crp = NULL;
	if (len < 0)
		return errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED ? 0 : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(cred, CMSG_DATA(c), sizeof(*cred));
			cr = cred;
		}
	*crp = cr;
	if (!cr) {
		dropped(lc, NULL, "no credentials");
		return 0;
	}
	if (cr->uid != 0 && cr->uid != lc->server_uid) {
		dropped(lc, cr, "not the server's uid");
		return 0;
	}
	if (!addr_same(&peer, mh.msg_namelen, &lc->server, lc->server_len)) {
		dropped(lc, cr, "not from the server's address");
		return 0;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		dropped(lc, cr, "too long");
		return 0;
	}
	return len;
}

int lease_recv_any(struct lease_client *lc, struct proto_reply *rep)
{
	char buf[LEASE_REPLY_MAX], err[PROTO_ERROR_MAX + 64];
	struct ucred cred;
	const struct ucred *cr;
	ssize_t len = recv_server(lc, buf, sizeof(buf), &cred, &cr);

	if (len <= 0)
		return (int)len;
	if (proto_reply_parse(buf, (size_t)len, rep, err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "server: bad reply: %s", err);
		return 0;
	}
	if (rep->version >= PROTO_VERSION_2 && !rep->seq) {
		dropped(lc, cr, "a version 2 reply without seq");
		return 0;
	}
	if (rep->table >= 253 && rep->table <= 255) {
		snprintf(err, sizeof(err), "table %u is the kernel's", rep->table);
		dropped(lc, cr, err);
		return 0;
	}
	if (rep->version == PROTO_VERSION_1 && rep->lease_expires) {
		/* v1: seconds of CLOCK_MONOTONIC_RAW on this host */
		int64_t left = rep->lease_expires - clock_s(CLOCK_MONOTONIC_RAW);

		if (!rep->lease_seconds && rep->table)
			rep->lease_seconds = left > 0 ? (uint32_t)(left < UINT32_MAX ? left : UINT32_MAX) : 0;
		rep->lease_expires = clock_s(CLOCK_REALTIME) + left;
	}
	if (rep->lease_seconds > LEASE_SECONDS_MAX) {
		snprintf(err, sizeof(err), "a lease of %u s (more than %u)", rep->lease_seconds,
			 LEASE_SECONDS_MAX);
		dropped(lc, cr, err);
		return 0;
	}
	if (!lc->told) {
		lc->told = true;
		log_msg(LOG_INFO, "speaking protocol version %u with the server at %s%s", rep->version,
			lc->target == LEASE_TARGET_FILE ? "" : "@",
			lc->target == LEASE_TARGET_FILE ? lc->server.sun_path : lc->name);
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

bool lease_must_wait(const struct proto_reply *rep)
{
	return !rep->table && rep->retry_after;
}

int lease_exchange(struct lease_client *lc, const struct proto_request *key, uint8_t cmd,
		   unsigned tries, unsigned interval_ms, struct proto_reply *rep)
{
	bool waited, grace_told = false;
	int ret;

	for (unsigned i = 0; i < tries; i++) {
		uint64_t deadline = loop_now_ms() + interval_ms;

		lc->send_deadline_ms = deadline;
		ret = lease_send(lc, key, cmd);
		if (ret == -ECONNREFUSED || ret == -ENOENT) {
			/* Nothing bound there: the next name now (a v1 server
			 * listens only on the padded one). */
			lease_next_target(lc);
			ret = lease_send(lc, key, cmd);
		}
		lc->send_deadline_ms = 0;
		/* Said at once, with how long it will go on; the tries between
		 * only with -v. */
		if (ret < 0 && i == 0 && tries > 1)
			log_msg(LOG_WARNING, "server %s%s: %s; retrying for %u s",
				lc->target == LEASE_TARGET_FILE ? "" : "@",
				lc->target == LEASE_TARGET_FILE ? lc->server.sun_path : lc->name, strerror(-ret),
				(tries - 1) * interval_ms / 1000);
		else if (ret < 0)
			log_msg(i + 1 < tries ? LOG_DEBUG : LOG_WARNING, "server %s%s: %s",
				lc->target == LEASE_TARGET_FILE ? "" : "@",
				lc->target == LEASE_TARGET_FILE ? lc->server.sun_path : lc->name, strerror(-ret));
		/* Waiting out the interval even when sendto failed at once (no
		 * server yet): the retry budget is in time, not in syscalls. */
		waited = false;
		while ((ret = wait_fd(lc->fd, POLLIN, deadline)) > 0) {
			ret = lease_recv(lc, rep);
			if (ret < 0)
				break;
			if (ret == 1 && !lease_must_wait(rep))
				return 0;
			if (ret == 1) {
				/* The server's grace period: it answers, so this
				 * is its name; ask again at the next try. */
				if (!grace_told)
					log_msg(LOG_NOTICE, "server: %s; asking again", rep->error);
				grace_told = waited = true;
			}
		}
		if (ret < 0 && ret != -ECONNREFUSED)
			return ret;
		if (waited && i + 1 == tries)
			return 0;	/* the caller says it was refused, and why */
		if (i + 1 < tries && !waited)
			lease_next_target(lc);	/* no answer: maybe a v1 server */
	}
	return -ETIMEDOUT;
}

int lease_recv_list(struct lease_client *lc, char *buf, size_t size, struct proto_list_reply *rep,
		    char *err, size_t errlen)
{
	struct ucred cred;
	const struct ucred *cr;
	ssize_t len = recv_server(lc, buf, size, &cred, &cr);

	struct proto_reply no;
	char why[64];

	if (len <= 0)
		return 0;
	if (proto_list_parse(buf, (size_t)len, rep, err, errlen) == 0)
		return 1;
	/* A refusal comes as a lease reply saying why ("permission denied:
	 * ..."). */
	if (proto_reply_parse(buf, (size_t)len, &no, why, sizeof(why)) == 0 && no.error[0] &&
	    (!no.seq || no.seq == lc->seq)) {
		snprintf(err, errlen, "%s", no.error);
		return -EACCES;
	}
	return -EBADMSG;
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
		if (ret == -ECONNREFUSED || ret == -ENOENT) {
			lease_next_target(lc);	/* a stale file: the abstract name */
			ret = lease_send_req(lc, &req);
		}
		if (ret < 0) {
			snprintf(err, errlen, "server @%s: %s", lc->name, strerror(-ret));
			goto cleanup;
		}
		while (!got && (ret = wait_fd(lc->fd, POLLIN, deadline)) > 0) {
			int got_one = lease_recv_list(lc, buf, PROTO_MAX_DATAGRAM, &page, err, errlen);

			if (got_one < 0) {
				ret = got_one;
				goto cleanup;
			}
			if (!got_one)
				continue;
			if (page.seq != req.seq) {
				proto_list_free(&page);
				continue;
			}
			got = true;
		}
		if (!got) {
			ret = ret < 0 ? ret : -ETIMEDOUT;
			snprintf(err, errlen, "server @%s: no answer", lc->name);
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
			for (size_t i = 0; i < page.n; i++)
				if (lc->want_marks || !page.leases[i].mark)
					all[count++] = page.leases[i];
		}
		lc->mark_mask = page.has_marks ? page.mark_mask : 0;
		lc->marks_used = page.marks_used;
		lc->marks_free = page.marks_free;
		lc->free_inet = page.has_pool ? (int64_t)page.pool_free[0] : -1;
		lc->free_inet6 = page.has_pool ? (int64_t)page.pool_free[1] : -1;
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

int lease_mark_mask(const char *sockname, unsigned timeout_ms, uint32_t *mask, char *err, size_t errlen)
{
	struct lease_client lc;
	struct proto_lease *l = NULL;
	size_t n = 0;
	int ret = lease_open(&lc, sockname);

	*mask = 0;
	err[0] = '\0';
	if (ret < 0) {
		snprintf(err, errlen, "server @%s: %s", sockname, strerror(-ret));
		return ret;
	}
	ret = lease_list(&lc, timeout_ms, &l, &n, err, errlen);
	if (ret == 0)
		*mask = lc.mark_mask;
	free(l);
	lease_close(&lc);
	return ret;
}
