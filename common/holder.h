/* holder: who holds a unix socket name.  An abstract name has no owner in
 * the file system, so when a bind fails with EADDRINUSE the kernel's tables
 * (/proc/net/unix, /proc/PID/fd) say which process has it: used to name a
 * squatter in the log instead of obeying it. */
#ifndef RTALLOC_HOLDER_H
#define RTALLOC_HOLDER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct holder {
	pid_t pid;
	uid_t uid;
	char comm[16];			/* /proc/PID/comm, "" if unreadable */
};

/* The first process with a socket bound to exactly (sa, len) in this
 * network namespace: 0 and *h, or -ENOENT (none found, or /proc hides it). */
int holder_find(const struct sockaddr_un *sa, socklen_t len, struct holder *h);
/* A socket bound to (sa, len) exists in this network namespace.  A file
 * socket is reachable from every namespace; this says whether its holder
 * shares ours (and so our routing tables). */
bool holder_here(const struct sockaddr_un *sa, socklen_t len);
/* "uid U pid P (COMM)" or "an unknown process" into buf, for log lines. */
const char *holder_str(const struct sockaddr_un *sa, socklen_t len, char *buf, size_t buflen);

#endif
