/* sockmark: creates sockets of the kinds named on the command line and prints
 * each one's SO_MARK, for the packetmark tests.  One line per argument:
 *   KIND mark=0xN      or      KIND error=MESSAGE (errno name)
 * KIND: inet-udp inet-tcp inet6-udp inet6-tcp inet-raw unix-stream unix-dgram,
 *   optionally +nonblock and/or +cloexec (e.g. inet6-tcp+nonblock+cloexec);
 *   own=MARK  sets SO_MARK itself to MARK on an inet-udp socket, then reads it;
 *   accept    a TCP connection over 127.0.0.1, prints the accepted socket's mark;
 *   resolve=NAME  getaddrinfo(NAME), prints the first address or the error;
 *   connect=ADDR:PORT  a UDP socket connected and sent to ADDR, prints errno;
 *   uring-KIND  KIND (inet-udp...) made by io_uring's IORING_OP_SOCKET;
 *   raw-KIND    KIND made by syscall(SYS_socket), bypassing libc's socket().
 * An argument starting with '/' is skipped: the script's path, when sockmark
 * is a "#!" interpreter ("#!/path/sockmark inet-udp").
 * Built also as sockmark-static (-DSOCKMARK_STATIC, without resolve=).
 * Exit status 0 unless an argument is not understood (2). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int getmark(int fd, unsigned *mark)
{
	socklen_t len = sizeof(*mark);

	return getsockopt(fd, SOL_SOCKET, SO_MARK, mark, &len);
}

static void report(const char *what, int fd)
{
	unsigned mark = 0;

	if (fd < 0) {
		printf("%s error=%s (%s)\n", what, strerror(errno), strerrorname_np(errno));
		return;
	}
	if (getmark(fd, &mark) < 0)
		printf("%s getsockopt-error=%s\n", what, strerror(errno));
	else
		printf("%s mark=%#x\n", what, mark);
	close(fd);
}

enum how { HOW_LIBC, HOW_URING, HOW_RAW };

/* One IORING_OP_SOCKET through a ring of our own (no liburing). */
static int uring_socket(int domain, int type, int proto)
{
	struct io_uring_params p = { 0 };
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	unsigned *sq_tail, *sq_array, *cq_head;
	size_t sq_len, cq_len;
	void *sq, *cq;
	int ring, res, err;

	ring = (int)syscall(SYS_io_uring_setup, 1, &p);
	if (ring < 0)
		return -1;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		err = errno;
		close(ring);
		errno = err;
		return -1;
	}
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_SOCKET;
	sqes[0].fd = domain;
	sqes[0].off = (unsigned)type;
	sqes[0].len = (unsigned)proto;
	sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	sq_array[*sq_tail & *(unsigned *)((char *)sq + p.sq_off.ring_mask)] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		err = errno;
		close(ring);
		errno = err;
		return -1;
	}
	cqe = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes) +
	      (*cq_head & *(unsigned *)((char *)cq + p.cq_off.ring_mask));
	res = cqe->res;
	close(ring);
	if (res < 0) {
		errno = -res;
		return -1;
	}
	return res;
}

static int kind_socket(const char *arg)
{
	enum how how = HOW_LIBC;
	char base[64];
	const char *plus, *p;
	int domain, type, proto = 0;

	if (!strncmp(arg, "uring-", 6))
		how = HOW_URING, arg += 6;
	else if (!strncmp(arg, "raw-", 4))
		how = HOW_RAW, arg += 4;
	plus = strchr(arg, '+');
	snprintf(base, sizeof(base), "%.*s", plus ? (int)(plus - arg) : (int)strlen(arg), arg);
	if (!strcmp(base, "inet-udp")) { domain = AF_INET; type = SOCK_DGRAM; }
	else if (!strcmp(base, "inet-tcp")) { domain = AF_INET; type = SOCK_STREAM; }
	else if (!strcmp(base, "inet6-udp")) { domain = AF_INET6; type = SOCK_DGRAM; }
	else if (!strcmp(base, "inet6-tcp")) { domain = AF_INET6; type = SOCK_STREAM; }
	else if (!strcmp(base, "inet-raw")) { domain = AF_INET; type = SOCK_RAW; proto = IPPROTO_ICMP; }
	else if (!strcmp(base, "unix-stream")) { domain = AF_UNIX; type = SOCK_STREAM; }
	else if (!strcmp(base, "unix-dgram")) { domain = AF_UNIX; type = SOCK_DGRAM; }
	else { errno = EPROTONOSUPPORT; return -2; }
	for (p = plus; p; p = strchr(p + 1, '+')) {
		if (!strncmp(p, "+nonblock", 9))
			type |= SOCK_NONBLOCK;
		else if (!strncmp(p, "+cloexec", 8))
			type |= SOCK_CLOEXEC;
		else
			return -2;
	}
	if (how == HOW_URING)
		return uring_socket(domain, type, proto);
	if (how == HOW_RAW)
		return (int)syscall(SYS_socket, domain, type, proto);
	return socket(domain, type, proto);
}

static void do_own(const char *arg)
{
	unsigned mark = (unsigned)strtoul(arg, NULL, 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		printf("own setsockopt-error=%s\n", strerror(errno));
		close(fd);
		return;
	}
	report("own", fd);
}

static void do_accept(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = -1, a = -1;

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) < 0)
		goto fail;
	/* accept() is not interposed: the accepted socket's mark is whatever
	 * the kernel copies from the listener, which is the point of the check. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	a = accept(l, NULL, NULL);
	report("accept", a);
	close(c);
	close(l);
	return;
fail:
	report("accept", -1);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

#ifndef SOCKMARK_STATIC
static void do_resolve(const char *name)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_family = AF_INET }, *res;
	char buf[INET6_ADDRSTRLEN];
	int r = getaddrinfo(name, NULL, &hints, &res);

	if (r) {
		printf("resolve error=%s\n", gai_strerror(r));
		return;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, buf, sizeof(buf));
	printf("resolve %s\n", buf);
	freeaddrinfo(res);
}
#else
static void do_resolve(const char *name)
{
	printf("resolve %s error=not in the static build\n", name);
}
#endif

static void do_connect(const char *arg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(arg, ':');
	int fd;

	if (!colon || colon - arg >= (int)sizeof(host)) {
		printf("connect error=bad ADDR:PORT\n");
		return;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		printf("connect error=bad address\n");
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    send(fd, "x", 1, 0) < 0)
		printf("connect error=%s\n", strerrorname_np(errno));
	else
		printf("connect ok\n");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int i, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '/')
			continue;
		if (!strncmp(a, "own=", 4))
			do_own(a + 4);
		else if (!strcmp(a, "accept"))
			do_accept();
		else if (!strncmp(a, "resolve=", 8))
			do_resolve(a + 8);
		else if (!strncmp(a, "connect=", 8))
			do_connect(a + 8);
		else if ((fd = kind_socket(a)) == -2) {
			fprintf(stderr, "sockmark: unknown kind: %s\n", a);
			return 2;
		} else
			report(a, fd);
	}
	return 0;
}
