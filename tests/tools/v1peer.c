/* v1peer: a version 1 peer (MONROE's 2017 table_allocator protocol) for
 * the compatibility tests, written from what docs/protocol.md and issue 13
 * say of it, with no code of the original:
 *   - abstract names are bound and sent to padded with NULs to the whole
 *     sun_path (address length = sizeof(struct sockaddr_un));
 *   - the client binds an explicit name, IFNAME-ADDRESS-FAMILY;
 *   - request {"address","ifname","addr_family","cmd","version"} (+ "tag"),
 *     cmd 0 request, 1 release; reply {"version","cmd":2,"table",
 *     "lease_expires"}, lease_expires in CLOCK_MONOTONIC_RAW seconds;
 *   - the server reads 254 bytes and answers at the padded form of the
 *     name it sees; the client renews at half of lease_expires - now.
 *
 *   v1peer client [-d SECONDS] [-t TAG] SERVER IFNAME ADDRESS FAMILY
 *     leases, renews for SECONDS (default 0), releases; one line per reply:
 *     "lease TABLE EXPIRES_IN" / "release TABLE".  Exit 0, 2 when a reply
 *     never came or the table changed.
 *   v1peer server [-o OFFSET] [-n NUM] [-l LEASE] NAME
 *     leases tables OFFSET.. (one per key) for LEASE seconds; runs until
 *     killed, one line per request on stdout. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define V1_BUF 254	/* the original server's receive buffer */
#define MAX_KEYS 64

static long long raw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* @name padded with NULs to the whole sun_path */
static void padded(struct sockaddr_un *sa, const char *name, size_t n)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n > sizeof(sa->sun_path) - 1)
		n = sizeof(sa->sun_path) - 1;
	memcpy(sa->sun_path + 1, name, n);
}

/* The value of "key" in flat JSON: an integer, or a string into out. */
static int json_int(const char *js, const char *key, long long *v)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	*v = strtoll(p + strlen(pat), NULL, 10);
	return 0;
}

static int json_str(const char *js, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= len)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

/* ---- client ---- */

static int exchange(int fd, const struct sockaddr_un *srv, const char *req, long long *table,
		    long long *expires)
{
	char buf[1024];

	/* like the original: a few tries, a couple of seconds each */
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (sendto(fd, req, strlen(req), 0, (const struct sockaddr *)srv, sizeof(*srv)) < 0) {
			sleep(1);
			continue;
		}
		if (poll(&p, 1, 2000) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (json_int(buf, "table", table) < 0)
			continue;
		if (json_int(buf, "lease_expires", expires) < 0)
			*expires = 0;
		return 0;
	}
	return -1;
}

static int client(int argc, char **argv)
{
	struct sockaddr_un self, srv;
	const char *tag = NULL;
	char name[128], req[V1_BUF + 1];
	long long duration = 0, table = 0, t, expires, end;
	int opt, fd, family, rc = 0;

	while ((opt = getopt(argc, argv, "d:t:")) != -1) {
		if (opt == 'd')
			duration = atoll(optarg);
		else if (opt == 't')
			tag = optarg;
		else
			return 1;
	}
	if (argc - optind != 4) {
		fprintf(stderr, "usage: v1peer client [-d SECONDS] [-t TAG] SERVER IFNAME ADDRESS FAMILY\n");
		return 1;
	}
	family = atoi(argv[optind + 3]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(name, sizeof(name), "%s-%s-%d", argv[optind + 1], argv[optind + 2], family);
	padded(&self, name, strlen(name));
	if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		perror("v1peer: bind");
		return 1;
	}
	padded(&srv, argv[optind], strlen(argv[optind]));
	end = ms_now() + duration * 1000;
	for (;;) {
		long long left;

		snprintf(req, sizeof(req),
			 "{\"address\":\"%s\",\"ifname\":\"%s\",\"addr_family\":%d,\"cmd\":0,\"version\":1%s%s%s}",
			 argv[optind + 2], argv[optind + 1], family, tag ? ",\"tag\":\"" : "", tag ? tag : "",
			 tag ? "\"" : "");
		if (exchange(fd, &srv, req, &t, &expires) < 0) {
			printf("noanswer\n");
			rc = 2;
			break;
		}
		left = expires - raw_now();
		printf("lease %lld %lld\n", t, left);
		fflush(stdout);
		if (!t || (table && t != table)) {
			rc = 2;
			break;
		}
		table = t;
		/* renew at half of the time left, on CLOCK_MONOTONIC_RAW */
		left = left / 2 > 0 ? left / 2 : 1;
		if (ms_now() + left * 1000 > end)
			break;
		sleep((unsigned)left);
	}
	if (table) {
		snprintf(req, sizeof(req),
			 "{\"address\":\"%s\",\"ifname\":\"%s\",\"addr_family\":%d,\"cmd\":1,\"version\":1}",
			 argv[optind + 2], argv[optind + 1], family);
		if (exchange(fd, &srv, req, &t, &expires) == 0)
			printf("release %lld\n", t);
		else
			printf("release noanswer\n");
	}
	close(fd);
	return rc;
}

/* ---- server ---- */

struct key {
	char ifname[32], address[64];
	long long family, table;
};

static int server(int argc, char **argv)
{
	struct key keys[MAX_KEYS];
	struct sockaddr_un self;
	long long offset = 20000, num = 10, lease = 60;
	size_t nkeys = 0;
	int opt, fd;

	memset(keys, 0, sizeof(keys));
	while ((opt = getopt(argc, argv, "o:n:l:")) != -1) {
		if (opt == 'o')
			offset = atoll(optarg);
		else if (opt == 'n')
			num = atoll(optarg);
		else if (opt == 'l')
			lease = atoll(optarg);
		else
			return 1;
	}
	if (argc - optind != 1 || num > MAX_KEYS) {
		fprintf(stderr, "usage: v1peer server [-o OFFSET] [-n NUM<=64] [-l LEASE] NAME\n");
		return 1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	padded(&self, argv[optind], strlen(argv[optind]));
	if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		perror("v1peer: bind");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		char buf[V1_BUF + 1], ifname[32], address[64], out[256];
		struct sockaddr_un peer = { 0 }, to;
		socklen_t plen = sizeof(peer);
		long long cmd = -1, family = -1, version = -1, table = 0;
		ssize_t n = recvfrom(fd, buf, V1_BUF, 0, (struct sockaddr *)&peer, &plen);
		size_t i, namelen;

		if (n < 0 || plen <= offsetof(struct sockaddr_un, sun_path) + 1 || peer.sun_path[0])
			continue;	/* no abstract name to answer at */
		buf[n] = '\0';
		if (json_int(buf, "cmd", &cmd) < 0 || json_int(buf, "addr_family", &family) < 0 ||
		    json_int(buf, "version", &version) < 0 || version != 1 ||
		    json_str(buf, "ifname", ifname, sizeof(ifname)) < 0 ||
		    json_str(buf, "address", address, sizeof(address)) < 0) {
			printf("bad %s\n", buf);
			continue;
		}
		for (i = 0; i < nkeys; i++)
			if (!strcmp(keys[i].ifname, ifname) && !strcmp(keys[i].address, address) &&
			    keys[i].family == family)
				break;
		if (cmd == 0) {
			if (i == nkeys && nkeys < (size_t)num) {
				snprintf(keys[i].ifname, sizeof(keys[i].ifname), "%s", ifname);
				snprintf(keys[i].address, sizeof(keys[i].address), "%s", address);
				keys[i].family = family;
				keys[i].table = offset + (long long)nkeys++;
			}
			table = i < nkeys ? keys[i].table : 0;
		} else if (cmd == 1 && i < nkeys) {
			table = keys[i].table;
		}
		printf("cmd %lld %s %s %lld -> %lld\n", cmd, ifname, address, family, table);
		n = snprintf(out, sizeof(out), "{\"version\":1,\"cmd\":2,\"table\":%lld,\"lease_expires\":%lld}",
			     table, table ? raw_now() + lease : 0);
		/* at the padded form of the name the client bound */
		namelen = strnlen(peer.sun_path + 1, plen - offsetof(struct sockaddr_un, sun_path) - 1);
		if (!namelen)
			continue;
		padded(&to, peer.sun_path + 1, namelen);
		sendto(fd, out, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return server(argc - 1, argv + 1);
	fprintf(stderr, "usage: v1peer client|server ...\n");
	return 1;
}
