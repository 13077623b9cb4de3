/* sockowner: who holds a unix socket name.  An abstract name has no owner in
 * the file system, so when a bind fails with EADDRINUSE the kernel's tables
 * (/proc/net/unix, /proc/PID/fd) say which process has it: used to name a
 * squatter in the log instead of obeying it. */
#ifndef RTALLOC_SOCKOWNER_H
#define RTALLOC_SOCKOWNER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct sockowner {
	pid_t pid;
	uid_t uid;
	char comm[16];			/* /proc/PID/comm, "" if unreadable */
};

/* The first process with a socket bound to exactly (sa, len) in this
 * network namespace: 0 and *h, or -ENOENT (none found, or /proc hides it). */
int sockowner_find(const struct sockaddr_un *sa, socklen_t len, struct sockowner *h);
/* A socket bound to (sa, len) exists in this network namespace.  A file
 * socket is reachable from every namespace; this says whether its holder
 * shares ours (and so our routing tables). */
bool sockowner_here(const struct sockaddr_un *sa, socklen_t len);
/* Where /proc hides other users' processes (hidepid, systemd's
 * ProtectProc=): sends msg to (sa, len) from a SO_PASSCRED socket
 * connected to it and takes the kernel's credentials of its answer within
 * timeout_ms.  0 and *h, or -errno (-ETIMEDOUT: it did not answer). */
int sockowner_probe(const struct sockaddr_un *sa, socklen_t len, const char *msg, unsigned timeout_ms,
		    struct sockowner *h);
/* "uid U pid P (COMM)" from sockowner_find(), else from sockowner_probe() with
 * probe (when not NULL), else "a process this one cannot see". */
const char *sockowner_str(const struct sockaddr_un *sa, socklen_t len, const char *probe, char *buf,
			  size_t buflen);

#endif
