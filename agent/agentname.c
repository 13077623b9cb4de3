/* agentname: the name a running rtalloc-agent holds (AGENT_NAME_FMT), a
 * listening abstract stream socket, so that whoever connects learns from
 * the kernel (SO_PEERCRED) which uid holds it: only root's counts. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"

static socklen_t name_of(const char *socket_path, struct sockaddr_un *sa)
{
	int n;

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, AGENT_NAME_FMT, socket_path);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		n = (int)sizeof(sa->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int agent_name_bind(const char *socket_path)
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

int agent_name_owner(const char *socket_path, struct ucred *cred)
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
