/* owner: who holds an address, by the names its holder binds.  A running
 * rtalloc-agent holds AGENT_NAME_FMT, a listening abstract stream socket,
 * so that whoever connects learns from the kernel (SO_PEERCRED) which uid
 * holds it: only root's counts.  A per-address rtalloc holds its key's
 * control names (the abstract one, and root's file one), which answer
 * later runs and the agent. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockowner.h"
#include "log.h"
#include "loop.h"
#include "owner.h"

static socklen_t name_of(const char *socket_path, struct sockaddr_un *sa)
{
	int n;

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, AGENT_NAME_FMT, socket_path);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		n = (int)sizeof(sa->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int owner_agent_bind(const char *socket_path)
{
	struct sockaddr_un sa;
	socklen_t len = name_of(socket_path, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), ret;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int owner_agent_cred(const char *socket_path, struct ucred *cred)
{
	struct sockaddr_un sa;
	socklen_t len = name_of(socket_path, &sa), clen = sizeof(*cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), ret = 0;

	if (fd < 0)
		return -errno;
	/* A full backlog (EAGAIN) leaves us unconnected: the kernel then
	 * reports uid -1, which nobody trusts. */
	if ((connect(fd, (struct sockaddr *)&sa, len) < 0 && errno != EAGAIN && errno != EINPROGRESS) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &clen) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- a per-address run's control names ---- */

socklen_t owner_name(const struct proto_request *k, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "rtalloc/%d/%s/%s",
		     k->family == AF_INET ? 4 : k->family == AF_INET6 ? 6 : 0, k->ifname, k->address);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		n = (int)sizeof(sa->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int owner_bind(const struct proto_request *k, int *fd)
{
	struct sockaddr_un sa;
	socklen_t len = owner_name(k, &sa);
	int one = 1;

	*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return -errno;
	/* Credentials on every request: only root or our user may -r. */
	if (setsockopt(*fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(*fd, (struct sockaddr *)&sa, len) < 0) {
		int ret = -errno;

		close(*fd);
		*fd = -1;
		return ret;
	}
	return 0;
}

/* The file form of the control name: only root can create OWNER_DIR (in
 * /run), so whoever holds a name in it is an rtalloc run by root.  Keyed
 * by the network namespace too, as file names are shared by all. */
static int file_name(const struct proto_request *k, struct sockaddr_un *sa)
{
	struct stat st;
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%lu-%d-%s-%s.sock", OWNER_DIR,
		     (unsigned long)st.st_ino, k->family == AF_INET ? 4 : k->family == AF_INET6 ? 6 : 0,
		     k->ifname, k->address);
	return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

static bool dir_trusted(void)
{
	struct stat st;

	return lstat(OWNER_DIR, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022);
}

int owner_file_bind(const struct proto_request *k, struct owner_file *f)
{
	struct sockaddr_un *sa = &f->sa;
	struct stat st = { 0 };
	int fd, one = 1, ret;

	if (geteuid() != 0)
		return -EPERM;
	ret = file_name(k, sa);
	if (ret < 0)
		return ret;
	if (mkdir(OWNER_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (!dir_trusted()) {
		log_msg(LOG_WARNING, "%s is not root's alone: control by abstract name only", OWNER_DIR);
		return -EPERM;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	if (ret == -EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		bool stale = probe >= 0 && connect(probe, (struct sockaddr *)sa, sizeof(*sa)) < 0 &&
			     errno == ECONNREFUSED;

		if (probe >= 0)
			close(probe);
		if (!stale)
			goto fail;
		/* left by an rtalloc killed with -9 */
		unlink(sa->sun_path);
		ret = bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	}
	if (ret == 0 && (chmod(sa->sun_path, 0600) < 0 || lstat(sa->sun_path, &st) < 0))
		ret = -errno;
	if (ret < 0)
		goto fail;
	f->fd = fd;
	f->ino = st.st_ino;
	return 0;
fail:
	close(fd);
	return ret;
}

void owner_file_drop_name(struct owner_file *f)
{
	struct stat st;

	if (f->fd >= 0 && lstat(f->sa.sun_path, &st) == 0 && st.st_ino == f->ino)
		unlink(f->sa.sun_path);
}

void owner_file_drop(struct owner_file *f)
{
	if (f->fd < 0)
		return;
	owner_file_drop_name(f);
	close(f->fd);
	f->fd = -1;
}

/* Asks the holder at (sa, salen); resends every second so a holder that
 * died is noticed (ECONNREFUSED) instead of waited for.  The asking socket
 * is connected to the holder (the kernel drops anyone else's datagrams)
 * and an answer counts only from our own uid.  0 with the reply,
 * -ECONNREFUSED, -EPERM (a process of another uid answered: logged),
 * -ETIMEDOUT or -errno. */
static int ask_at(const struct sockaddr_un *sa, socklen_t salen, const char *what,
		      const char *req, unsigned timeout_ms, char *reply, size_t len)
{
	uint64_t end = loop_now_ms() + timeout_ms;
	int fd, one = 1, ret = -ETIMEDOUT;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    connect(fd, (const struct sockaddr *)sa, salen) < 0) {
		ret = errno == ENOENT ? -ECONNREFUSED : -errno;
		goto cleanup;
	}
	while (loop_now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t left = end - loop_now_ms();
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { .iov_base = reply, .iov_len = len - 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
		};
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
		struct cmsghdr *c;
		ssize_t n;

		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
			ret = -errno;
			goto cleanup;
		}
		if (poll(&p, 1, left < 1000 ? (int)left : 1000) <= 0)
			continue;
		n = recvmsg(fd, &msg, 0);
		if (n < 0)
			continue;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len == CMSG_LEN(sizeof(cred)))
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		if (cred.uid != geteuid()) {
			log_msg(LOG_WARNING, "control name %s answered by uid %d pid %d, not by an rtalloc "
				"of uid %u: ignored", what, (int)cred.uid, (int)cred.pid, (unsigned)geteuid());
			ret = -EPERM;
			goto cleanup;
		}
		reply[n] = '\0';
		ret = 0;
		goto cleanup;
	}
	ret = -ETIMEDOUT;
cleanup:
	close(fd);
	return ret;
}

int owner_ask(const struct proto_request *k, const char *req, unsigned timeout_ms, char *reply,
	      size_t len)
{
	struct sockaddr_un sa;
	socklen_t salen;
	struct sockowner h;
	char name[sizeof(sa.sun_path) + 1];
	int ret;

	if (dir_trusted() && file_name(k, &sa) == 0) {
		ret = ask_at(&sa, sizeof(sa), sa.sun_path, req, timeout_ms, reply, len);
		if (ret != -ECONNREFUSED && ret != -EACCES)
			return ret;
	}
	salen = owner_name(k, &sa);
	snprintf(name, sizeof(name), "@%s", sa.sun_path + 1);
	if (sockowner_find(&sa, salen, &h) == 0 && h.uid != geteuid()) {
		log_msg(LOG_WARNING, "control name %s is held by uid %u pid %d (%s), not by an rtalloc "
			"of uid %u: not asked, not obeyed", name, (unsigned)h.uid, (int)h.pid, h.comm,
			(unsigned)geteuid());
		return -EPERM;
	}
	return ask_at(&sa, salen, name, req, timeout_ms, reply, len);
}
