/* shim: libpacketmark.so, an LD_PRELOAD library that puts SO_MARK on every
 * AF_INET and AF_INET6 socket a process creates, before its first packet.
 *
 * Why a shim: marking in iptables happens after the route and the source
 * address were chosen, so a re-routed packet leaves with the wrong source.
 * With the mark on the socket, `ip rule fwmark` picks the table up front.
 *
 * Policy (docs/packetmark.md):
 *  - LIBPACKETMARK_MARK unset: pass-through, the library does nothing.
 *  - set but malformed: every AF_INET/AF_INET6 socket() fails with EINVAL.
 *  - setsockopt(SO_MARK) refused (no CAP_NET_ADMIN/CAP_NET_RAW): socket()
 *    closes the fd and fails with that errno.
 * Either way the reason is printed once per process on stderr: traffic never
 * leaves unmarked without a word (Gluon's shim used atoi() and ignored the
 * result of setsockopt).
 *
 * Only socket() is interposed.  setsockopt() is not, so an application's own
 * SO_MARK simply overrides ours; accept()ed sockets inherit the listener's
 * mark in the kernel; socketpair() is AF_UNIX only. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mark.h"

#define ENV_MARK "LIBPACKETMARK_MARK"
#define EXPORT __attribute__((visibility("default")))

typedef int (*socket_fn)(int, int, int);

static socket_fn real_socket;
/* Filled in by the constructor, before main() and before any thread. */
static enum { PM_OFF, PM_ON, PM_BAD } state = PM_OFF;
static uint32_t mark;
static const char *bad_value, *bad_why;
static atomic_bool warned;

/* Writes one line to stderr, once per process, keeping errno: the caller
 * reports the failure through errno, not through this line. */
static void warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_once(const char *fmt, ...)
{
	char buf[512];
	int saved = errno, n;
	va_list ap;

	if (atomic_exchange(&warned, true))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0) {
		if ((size_t)n >= sizeof(buf))
			n = sizeof(buf) - 1;
		/* One write(2) so lines of several processes do not interleave;
		 * stdio might not be usable this early or in a signal handler. */
		if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
			/* Nowhere left to complain to. */
		}
	}
	errno = saved;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *v = getenv(ENV_MARK);

	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	if (!v)
		return;
	if (mark_parse(v, &mark, &bad_why) < 0) {
		bad_value = v;
		state = PM_BAD;
		return;
	}
	state = PM_ON;
}

EXPORT int socket(int domain, int type, int protocol)
{
	int fd, err;

	if (!real_socket) {
		/* Only if dlsym failed: nothing sane to call. */
		errno = ENOSYS;
		return -1;
	}
	if (state == PM_OFF || (domain != AF_INET && domain != AF_INET6))
		return real_socket(domain, type, protocol);
	if (state == PM_BAD) {
		warn_once("libpacketmark: " ENV_MARK "=\"%s\": %s; refusing to create "
			  "unmarked sockets\n", bad_value, bad_why);
		errno = EINVAL;
		return -1;
	}
	fd = real_socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	warn_once("libpacketmark: cannot set SO_MARK %#x (" ENV_MARK "): %s%s; "
		  "refusing to create unmarked sockets\n", (unsigned)mark, strerror(err),
		  err == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "");
	errno = err;
	return -1;
}
