/* loadgen: N concurrent clients against rtallocd, one epoll loop, one socket
 * per client.  Client c asks for leases of distinct addresses (10.x.y.z on
 * ifname "lg<c>"), one outstanding request at a time, retrying after a
 * timeout.  Every granted lease is printed as
 *   ACK <table> <family> <ifname> <address>
 * the moment the reply arrives (stdout is flushed per line, so a test that
 * kills the server mid-run has every acknowledged lease on record).
 *   loadgen [-n COUNT] [-c CLIENTS] [-r RENEWALS] [-6] [-i] [-q] [-s] [-d SECONDS] NAME
 * -i gives every key an interface name of its own ("i<key in hex>").
 * -n total distinct keys, -c concurrency, -r how many times each key is
 * asked for (renewals), -q prints no ACK lines (bench), -s prints one line
 *   STATS replies=N secs=S rps=R p50_us=U p99_us=U max_us=U
 * on stdout at the end (bench: latency from the first send of a request to
 * its reply, retries included, so a lost reply shows up in the tail), -d
 * gives up after that many seconds.  The summary goes to stderr.  Exit 0
 * when every key was granted, 3 when some were refused, 2 on deadline. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

struct client {
	int fd;
	uint32_t key;		/* index of the key in flight */
	uint32_t round;		/* renewal round of that key */
	uint32_t seq;
	uint64_t sent_ms;
	uint64_t first_ns;	/* first send of this request (latency) */
	int busy;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sockaddr_un srv;
static socklen_t srvlen;
static int family = 2;
static uint32_t next_key, total = 1000, renewals = 1, nclients = 8;
static uint64_t acked, refused, replies;
static int quiet, stats, distinct_ifnames;
static uint32_t *lat_us;	/* -s: one latency per reply */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies. */
static uint32_t pct(const uint32_t *v, uint64_t n, unsigned p)
{
	uint64_t i = (n * p + 99) / 100;

	return n ? v[i ? i - 1 : 0] : 0;
}

static struct client *clients;

/* The request for key: ifname names the key's home client, so the same key
 * is always the same (family, ifname, address). */
static void fill(uint32_t key, struct client *c, struct proto_request *r)
{
	memset(r, 0, sizeof(*r));
	r->version = PROTO_VERSION_2;
	r->cmd = PROTO_CMD_REQUEST;
	r->family = (uint8_t)family;
	r->seq = c->seq;
	if (distinct_ifnames)
		snprintf(r->ifname, sizeof(r->ifname), "i%x", key);
	else
		snprintf(r->ifname, sizeof(r->ifname), "lg%u", key % nclients);
	if (family == 10)
		snprintf(r->address, sizeof(r->address), "fd00::%x:%x", key >> 16, key & 0xffff);
	else
		snprintf(r->address, sizeof(r->address), "10.%u.%u.%u", (key >> 16) & 255,
			 (key >> 8) & 255, key & 255);
}

static void send_req(struct client *c)
{
	struct proto_request r;
	char buf[512];
	int n;

	fill(c->key, c, &r);
	n = proto_request_format(&r, buf, sizeof(buf));
	if (n > 0)
		sendto(c->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&srv, srvlen);
	c->sent_ms = now_ms();
}

static int start_next(struct client *c)
{
	if (next_key >= total * renewals) {
		c->busy = 0;
		return 0;
	}
	/* renewal rounds walk all keys again, so the same keys come back */
	c->key = next_key % total;
	c->round = next_key / total;
	next_key++;
	c->seq++;
	c->busy = 1;
	c->first_ns = now_ns();
	send_req(c);
	return 1;
}

int main(int argc, char **argv)
{
	int opt, ep, busy = 0, rc = 0;
	double deadline_s = 60;
	uint64_t start, deadline;
	const char *name;

	while ((opt = getopt(argc, argv, "n:c:r:6iqsd:")) != -1) {
		switch (opt) {
		case 'n': total = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'c': nclients = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': renewals = (uint32_t)strtoul(optarg, NULL, 10); break;
		case '6': family = 10; break;
		case 'i': distinct_ifnames = 1; break;
		case 'q': quiet = 1; break;
		case 's': stats = 1; break;
		case 'd': deadline_s = atof(optarg); break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || !total || !nclients || !renewals || nclients > 4096)
		goto usage;
	name = argv[optind];
	srv.sun_family = AF_UNIX;
	if (strlen(name) + 1 >= sizeof(srv.sun_path))
		goto usage;
	memcpy(srv.sun_path + 1, name, strlen(name));
	srvlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	clients = calloc(nclients, sizeof(*clients));
	if (stats)
		lat_us = malloc((size_t)total * renewals * sizeof(*lat_us));
	ep = epoll_create1(0);
	if (!clients || ep < 0 || (stats && !lat_us))
		return 1;
	for (uint32_t i = 0; i < nclients; i++) {
		struct sockaddr_un self = { .sun_family = AF_UNIX };
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &clients[i] };

		clients[i].fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (clients[i].fd < 0 || bind(clients[i].fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev) < 0) {
			perror("loadgen: socket");
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = now_ms();
	deadline = start + (uint64_t)(deadline_s * 1000);
	for (uint32_t i = 0; i < nclients; i++)
		busy += start_next(&clients[i]);
	while (busy) {
		struct epoll_event evs[64];
		uint64_t now = now_ms();
		int n;

		if (now >= deadline) {
			rc = 2;
			break;
		}
		n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			struct proto_reply rep;
			char buf[1024], err[128];
			ssize_t len;

			while ((len = recv(c->fd, buf, sizeof(buf), 0)) > 0) {
				struct proto_request r;

				if (proto_reply_parse(buf, (size_t)len, &rep, err, sizeof(err)) < 0 ||
				    rep.seq != c->seq || !c->busy)
					continue;	/* a late reply to a retried request */
				if (stats) {
					uint64_t us = (now_ns() - c->first_ns) / 1000;

					lat_us[replies] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
				}
				replies++;
				fill(c->key, c, &r);
				if (rep.table) {
					if (c->round + 1 == renewals)
						acked++;
					if (!quiet)
						printf("ACK %u %d %s %s\n", rep.table, family, r.ifname, r.address);
				} else {
					refused++;
					if (!quiet)
						printf("REFUSED %s %s %s\n", r.ifname, r.address, rep.error);
				}
				busy -= 1 - start_next(c);
			}
		}
		/* retry requests whose reply was lost (full queue, restart) */
		now = now_ms();
		for (uint32_t i = 0; i < nclients; i++)
			if (clients[i].busy && now - clients[i].sent_ms > 1000)
				send_req(&clients[i]);
	}
	double secs = (double)(now_ms() - start) / 1000.0;
	fprintf(stderr, "loadgen: %llu replies in %.3f s (%.0f/s), %llu keys acked, %llu refused\n",
		(unsigned long long)replies, secs, secs > 0 ? (double)replies / secs : 0.0,
		(unsigned long long)acked, (unsigned long long)refused);
	if (stats) {
		qsort(lat_us, replies, sizeof(*lat_us), cmp_u32);
		printf("STATS replies=%llu secs=%.3f rps=%.0f p50_us=%u p99_us=%u max_us=%u\n",
		       (unsigned long long)replies, secs, secs > 0 ? (double)replies / secs : 0.0,
		       pct(lat_us, replies, 50), pct(lat_us, replies, 99),
		       replies ? lat_us[replies - 1] : 0);
	}
	if (rc == 0 && refused)
		rc = 3;
	return rc;
usage:
	fprintf(stderr, "usage: loadgen [-n COUNT] [-c CLIENTS] [-r RENEWALS] [-6] [-q] [-s] [-d SECONDS] NAME\n");
	return 1;
}
