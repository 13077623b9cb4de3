/* sockowner: who holds a unix socket name (see sockowner.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sockowner.h"

#define HOLDER_INODES 8

/* The name as /proc/net/unix prints it: an abstract name's NULs as '@'. */
static void proc_name(const struct sockaddr_un *sa, socklen_t len, char *out, size_t outlen)
{
	size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;

	if (n > sizeof(sa->sun_path))
		n = sizeof(sa->sun_path);
	if (n && sa->sun_path[0] != '\0')
		n = strnlen(sa->sun_path, n);
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = sa->sun_path[i] ? sa->sun_path[i] : '@';
	out[n] = '\0';
}

static size_t find_inodes(const char *name, unsigned long *ino, size_t max)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[512];
	size_t n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		unsigned long inode;

		line[strcspn(line, "\n")] = '\0';
		/* Num RefCount Protocol Flags Type St Inode Path */
		for (int field = 0; field < 6 && p; field++) {
			p = strchr(p, ' ');
			p = p ? p + strspn(p, " ") : NULL;
		}
		if (!p)
			continue;
		errno = 0;
		inode = strtoul(p, &end, 10);
		if (errno || end == p || *end != ' ')
			continue;
		if (!strcmp(end + 1, name))
			ino[n++] = inode;
	}
	fclose(f);
	return n;
}

static int pid_has(const char *pid, const unsigned long *ino, size_t n)
{
	char path[300], link[64], want[40];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char fd[600];
		ssize_t l;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
		l = readlink(fd, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		for (size_t i = 0; i < n && !found; i++) {
			snprintf(want, sizeof(want), "socket:[%lu]", ino[i]);
			found = !strcmp(link, want);
		}
	}
	closedir(d);
	return found;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

int sockowner_find(const struct sockaddr_un *sa, socklen_t len, struct sockowner *h)
{
	unsigned long ino[HOLDER_INODES];
	char name[sizeof(sa->sun_path) + 1];
	struct dirent *e;
	size_t n;
	DIR *d;
	int ret = -ENOENT;

	proc_name(sa, len, name, sizeof(name));
	n = find_inodes(name, ino, HOLDER_INODES);
	if (!n)
		return -ENOENT;
	d = opendir("/proc");
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		char path[300], *end;
		long pid = strtol(e->d_name, &end, 10);
		struct stat st;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || pid == (long)getpid())
			continue;
		if (!pid_has(e->d_name, ino, n))
			continue;
		snprintf(path, sizeof(path), "/proc/%s", e->d_name);
		if (stat(path, &st) < 0)
			continue;
		h->pid = (pid_t)pid;
		h->uid = st.st_uid;
		read_comm(h->pid, h->comm, sizeof(h->comm));
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

bool sockowner_here(const struct sockaddr_un *sa, socklen_t len)
{
	unsigned long ino;
	char name[sizeof(sa->sun_path) + 1];

	proc_name(sa, len, name, sizeof(name));
	return find_inodes(name, &ino, 1) > 0;
}


int sockowner_probe(const struct sockaddr_un *sa, socklen_t len, const char *msg, unsigned timeout_ms,
		    struct sockowner *h)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cbuf;
	char reply[512];
	struct iovec iov = { .iov_base = reply, .iov_len = sizeof(reply) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct pollfd p = { .events = POLLIN };
	struct cmsghdr *c;
	int fd, one = 1, ret = -ETIMEDOUT;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* connected: only the holder's socket can answer us */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    connect(fd, (const struct sockaddr *)sa, len) < 0 ||
	    send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		ret = -errno;
		goto cleanup;
	}
	p.fd = fd;
	if (poll(&p, 1, (int)timeout_ms) <= 0 || recvmsg(fd, &mh, MSG_DONTWAIT) < 0)
		goto cleanup;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cr;

			memcpy(&cr, CMSG_DATA(c), sizeof(cr));
			h->pid = cr.pid;
			h->uid = cr.uid;
			read_comm(cr.pid, h->comm, sizeof(h->comm));
			ret = 0;
		}
cleanup:
	close(fd);
	return ret;
}

const char *sockowner_str(const struct sockaddr_un *sa, socklen_t len, const char *probe, char *buf,
			  size_t buflen)
{
	struct sockowner h = { 0 };

	if (sockowner_find(sa, len, &h) == 0 || (probe && sockowner_probe(sa, len, probe, 500, &h) == 0))
		snprintf(buf, buflen, "uid %u pid %d%s%s%s", (unsigned)h.uid, (int)h.pid,
			 h.comm[0] ? " (" : "", h.comm, h.comm[0] ? ")" : "");
	else
		snprintf(buf, buflen, "a process this one cannot see");
	return buf;
}
