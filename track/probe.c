/* probe: ICMP echo and TCP connect probes from an uplink's address. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "probe.h"

#define PROBE_PAYLOAD 16
/* From <linux/icmp.h>, which clashes with <netinet/ip_icmp.h>. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static socklen_t sa_of(const struct inet_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->v6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->v4;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
}

/* The address of a received datagram, when it is of our family. */
static bool sa_addr(const struct sockaddr_storage *ss, socklen_t len, int family, struct inet_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == AF_INET6 && ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		a->v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		return true;
	}
	if (family == AF_INET && ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		a->v4 = ((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	return false;
}

/* IP header sizes, for the byte counts. */
static size_t ip_hdr(const struct prober *p)
{
	return p->src.family == AF_INET6 ? 40 : 20;
}

/* Bound to the uplink's address, not to its device: the address picks its
 * table (the from-rule at KPREF_FROM), as for the uplink's own traffic.  A device
 * binding would reach a target "on link" (through a gateway's proxy ARP)
 * while the table has no route at all. */
static int bind_uplink(int fd, const struct prober *p, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	len = sa_of(&p->src, port, &ss);
	return bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

/* ICMP and ICMPv6 echo messages share their layout: type, code, checksum,
 * identifier, sequence. */
static void icmp_reply(struct prober *p, const uint8_t *buf, size_t len, const struct inet_addr *from)
{
	const struct icmphdr *ih;
	uint64_t t = now_us();
	bool v6 = p->src.family == AF_INET6;

	/* Raw IPv4 sockets see the IP header; IPv6 ones never do. */
	if (p->kind == PROBE_RAW && !v6) {
		const struct iphdr *ip = (const struct iphdr *)buf;
		size_t hl;

		if (len < sizeof(*ip))
			return;
		hl = (size_t)ip->ihl * 4;
		if (hl < sizeof(*ip) || len < hl)
			return;
		buf += hl;
		len -= hl;
	}
	if (len < sizeof(*ih))
		return;
	ih = (const struct icmphdr *)buf;
	if (ih->type != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) || ih->code != 0)
		return;
	if (ih->un.echo.id != p->ident) {
		p->rejected++;
		return;
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_slot *s = &p->slot[i];

		uint16_t seq = ntohs(ih->un.echo.sequence);
		size_t try = PROBE_TRIES;

		for (size_t j = 0; j < s->tries && try == PROBE_TRIES; j++)
			if (s->seq[j] == seq)
				try = j;
		if (!s->pending || s->answered || try == PROBE_TRIES)
			continue;
		if (memcmp(from->bytes, p->targets[i].addr.bytes, addr_len(p->src.family)))
			continue;
		s->answered = true;
		s->rtt_us = (uint32_t)(t - s->sent_at[try]);
		s->won = (uint8_t)try;
		if (!s->rtt_us)
			s->rtt_us = 1;
		p->replies++;
		p->bytes += ip_hdr(p) + sizeof(*ih) + PROBE_PAYLOAD;
		return;
	}
	p->rejected++;
}

static void icmp_readable(struct loop_fd *h, uint32_t events)
{
	struct prober *p = container_of(h, struct prober, icmp);
	uint8_t buf[1500];

	(void)events;
	for (int n = 0; n < 64; n++) {
		struct sockaddr_storage from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(h->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		struct inet_addr a;

		if (len < 0)
			break;	/* EAGAIN, or an ICMP error queued: nothing to count */
		if (!sa_addr(&from, fl, p->src.family, &a))
			continue;
		icmp_reply(p, buf, (size_t)len, &a);
	}
}

static int icmp_open(struct prober *p)
{
	union {
		struct sockaddr_storage ss;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} sa;
	socklen_t sl = sizeof(sa);
	bool v6 = p->src.family == AF_INET6;
	int family = v6 ? AF_INET6 : AF_INET, proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd >= 0) {
		p->kind = PROBE_DGRAM;
	} else {
		fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (fd < 0)
			return -errno;
		p->kind = PROBE_RAW;
		/* Only echo replies reach us.  The kernel computes ICMPv6
		 * checksums on raw sockets by itself. */
		if (v6) {
			struct icmp6_filter f6;

			ICMP6_FILTER_SETBLOCKALL(&f6);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
			setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6));
		} else {
			/* ICMP_FILTER: set bits are blocked. */
			uint32_t filt = ~(1U << ICMP_ECHOREPLY);

			setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt));
		}
	}
	ret = bind_uplink(fd, p, 0);
	if (ret < 0)
		goto fail;
	if (p->kind == PROBE_DGRAM) {
		/* The kernel picked our identifier (the socket's "port") and
		 * delivers only replies carrying it. */
		memset(&sa, 0, sizeof(sa));
		if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
			ret = -errno;
			goto fail;
		}
		p->ident = v6 ? sa.sin6.sin6_port : sa.sin.sin_port;
	} else {
		uint16_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint16_t)(now_us() ^ (uint64_t)getpid());
		p->ident = r;
	}
	p->icmp.fd = fd;
	p->icmp.events = EPOLLIN;
	p->icmp.cb = icmp_readable;
	ret = loop_fd_add(p->loop, &p->icmp);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	close(fd);
	p->icmp.fd = -1;
	return ret;
}

int prober_open(struct prober *p, struct loop *l, const struct inet_addr *src, const char *ifname,
		enum track_method m, const struct track_target *t, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->loop = l;
	p->icmp.fd = -1;
	p->src = *src;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->method = m;
	p->ntargets = n > TRACK_TARGETS_MAX ? TRACK_TARGETS_MAX : n;
	memcpy(p->targets, t, p->ntargets * sizeof(*t));
	for (size_t i = 0; i < TRACK_TARGETS_MAX; i++) {
		p->slot[i].owner = p;
		p->slot[i].tcp.fd = -1;
	}
	if (getrandom(&p->next_seq, sizeof(p->next_seq), 0) != sizeof(p->next_seq))
		p->next_seq = (uint16_t)now_us();
	if (src->family != AF_INET && src->family != AF_INET6)
		return -EAFNOSUPPORT;
	/* Targets of the other family are not this prober's. */
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].addr.family != src->family)
			return -EAFNOSUPPORT;
	return m == TRACK_ICMP ? icmp_open(p) : 0;
}

static void tcp_close(struct prober *p, struct probe_slot *s)
{
	if (s->tcp.fd < 0)
		return;
	loop_fd_del(p->loop, &s->tcp);
	close(s->tcp.fd);
	s->tcp.fd = -1;
}

void prober_close(struct prober *p)
{
	if (!p || !p->loop)
		return;
	for (size_t i = 0; i < TRACK_TARGETS_MAX; i++)
		tcp_close(p, &p->slot[i]);
	if (p->icmp.fd >= 0) {
		loop_fd_del(p->loop, &p->icmp);
		close(p->icmp.fd);
		p->icmp.fd = -1;
	}
	p->loop = NULL;
}

static void slot_answered(struct probe_slot *s)
{
	s->answered = true;
	s->rtt_us = (uint32_t)(now_us() - s->sent_at[0]);
	if (!s->rtt_us)
		s->rtt_us = 1;
	s->owner->replies++;
}

/* http: the status line's code, or -1 when it is not one (yet). */
static int http_status(const char *buf, size_t len)
{
	unsigned code = 0;

	if (len < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		code = code * 10 + (unsigned)(buf[i] - '0');
	}
	return (int)code;
}

static void http_readable(struct loop_fd *h, uint32_t events)
{
	struct probe_slot *s = container_of(h, struct probe_slot, tcp);
	struct prober *p = s->owner;
	char buf[512];
	ssize_t n;
	int code;

	(void)events;
	n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	code = n > 0 ? http_status(buf, (size_t)n) : -1;
	if (n > 0)
		p->bytes += ip_hdr(p) + 32 + (size_t)n;
	if (code >= 0 && s->pending) {
		if (p->opts && code == p->opts->http_expect)
			slot_answered(s);
		else
			s->portal = true;
		log_msg(LOG_DEBUG, "%s: http probe to target %zu: status %d", p->ifname,
			(size_t)(s - p->slot), code);
	}
	tcp_close(p, s);
}

static void http_request(struct prober *p, struct probe_slot *s)
{
	const struct track_target *t = &p->targets[s - p->slot];
	char req[512], a[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN + 2];
	int len;

	if (t->addr.family == AF_INET6)
		snprintf(host, sizeof(host), "[%s]", addr_str(&t->addr, a, sizeof(a)));
	else
		addr_str(&t->addr, host, sizeof(host));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rtalloc-track\r\n"
		       "Connection: close\r\n\r\n", p->opts ? p->opts->http_path : "/",
		       p->opts && p->opts->http_host[0] ? p->opts->http_host : host);
	if (len < 0 || (size_t)len >= sizeof(req) || send(s->tcp.fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		tcp_close(p, s);
		return;
	}
	p->bytes += ip_hdr(p) + 32 + (size_t)len;
	loop_fd_del(p->loop, &s->tcp);
	s->tcp.events = EPOLLIN;
	s->tcp.cb = http_readable;
	s->state = 1;
	if (loop_fd_add(p->loop, &s->tcp) < 0) {
		close(s->tcp.fd);
		s->tcp.fd = -1;
	}
}

static void tcp_writable(struct loop_fd *h, uint32_t events)
{
	struct probe_slot *s = container_of(h, struct probe_slot, tcp);
	struct prober *p = s->owner;
	int err = 0;
	socklen_t el = sizeof(err);

	(void)events;
	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err && s->pending) {
		/* SYN-ACK and our ACK; then FIN or RST each way. */
		p->bytes += 2 * (ip_hdr(p) + 32) + 2 * (ip_hdr(p) + 20);
		if (p->method == TRACK_HTTP) {
			http_request(p, s);
			return;
		}
		slot_answered(s);
	}
	tcp_close(p, s);
}

static int tcp_send(struct prober *p, size_t i)
{
	struct probe_slot *s = &p->slot[i];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, ret;

	tcp_close(p, s);
	fd = socket(p->src.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = bind_uplink(fd, p, 0);
	if (ret < 0)
		goto fail;
	len = sa_of(&p->targets[i].addr, p->targets[i].port, &ss);
	s->sent_at[0] = now_us();
	s->state = 0;
	p->bytes += ip_hdr(p) + 40;	/* the SYN */
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		ret = -errno;
		goto fail;
	}
	s->tcp.fd = fd;
	s->tcp.events = EPOLLOUT;
	s->tcp.cb = tcp_writable;
	ret = loop_fd_add(p->loop, &s->tcp);
	if (ret < 0) {
		s->tcp.fd = -1;
		goto fail;
	}
	return 0;
fail:
	close(fd);
	return ret;
}

static int icmp_send(struct prober *p, size_t i, size_t try)
{
	struct probe_slot *s = &p->slot[i];
	uint8_t pkt[sizeof(struct icmphdr) + PROBE_PAYLOAD];
	struct icmphdr *ih = (struct icmphdr *)pkt;
	struct sockaddr_storage ss;
	socklen_t len;
	bool v6 = p->src.family == AF_INET6;

	memset(pkt, 0, sizeof(pkt));
	ih->type = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	ih->un.echo.id = p->ident;
	ih->un.echo.sequence = htons(s->seq[try]);
	s->sent_at[try] = now_us();
	memcpy(pkt + sizeof(*ih), &s->sent_at[try], sizeof(s->sent_at[try]));
	if (!v6)
		ih->checksum = csum(pkt, sizeof(pkt));
	len = sa_of(&p->targets[i].addr, 0, &ss);
	if (sendto(p->icmp.fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	p->bytes += ip_hdr(p) + sizeof(pkt);
	return 0;
}

int prober_send(struct prober *p)
{
	int ret = 0, sent = 0;

	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_slot *s = &p->slot[i];
		int r;

		s->seq[0] = p->next_seq++;
		s->tries = 1;
		s->won = 0;
		s->answered = false;
		s->rtt_us = 0;
		s->portal = false;
		s->pending = true;
		if (p->method != TRACK_ICMP)
			r = tcp_send(p, i);
		else
			r = p->icmp.fd >= 0 ? icmp_send(p, i, 0) : -EBADF;
		if (r < 0) {
			/* ENETUNREACH and friends: a failed probe, not a fault. */
			log_msg(LOG_DEBUG, "%s: probe to target %zu: %s", p->ifname, i, strerror(-r));
			ret = r;
		} else {
			sent++;
			p->sent++;
		}
	}
	return sent ? 0 : ret;
}

unsigned prober_retry(struct prober *p)
{
	unsigned n = 0;

	if (p->method != TRACK_ICMP || p->icmp.fd < 0)
		return 0;
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_slot *s = &p->slot[i];

		if (!s->pending || s->answered || s->tries >= PROBE_TRIES)
			continue;
		s->seq[s->tries] = p->next_seq++;
		if (icmp_send(p, i, s->tries++) == 0) {
			p->sent++;
			n++;
		}
	}
	return n;
}

void prober_set_opts(struct prober *p, const struct track_opts *o)
{
	p->opts = o;
}

void prober_finish(struct prober *p, unsigned *answered, unsigned *probes, uint32_t *best_rtt_us)
{
	prober_finish_portal(p, answered, probes, best_rtt_us, NULL);
}

void prober_finish_portal(struct prober *p, unsigned *answered, unsigned *probes, uint32_t *best_rtt_us,
			  unsigned *portal)
{
	if (portal)
		*portal = 0;
	*answered = 0;
	*probes = 0;
	*best_rtt_us = 0;
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_slot *s = &p->slot[i];

		if (s->pending)
			*probes += s->answered ? s->won + 1u : s->tries;
		if (s->pending && s->portal && portal)
			(*portal)++;
		if (s->pending && s->answered) {
			(*answered)++;
			if (!*best_rtt_us || s->rtt_us < *best_rtt_us)
				*best_rtt_us = s->rtt_us;
		}
		s->pending = false;
		tcp_close(p, s);
	}
}
