/* sockdiag: destroy or judge an address's local sockets (sock_diag). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include "nlquery.h"
#include "sockdiag.h"

#define DESTROY_MAX 256
#define TCPF_ESTABLISHED (1U << 1)	/* TCP_ESTABLISHED */
#define TCPF_CLOSE_WAIT (1U << 8)	/* TCP_CLOSE_WAIT */
#define TCPF_TIME_WAIT (1U << 6)	/* TCP_TIME_WAIT */
#define TCPF_CLOSE (1U << 7)		/* TCP_CLOSE */
#define TCPF_LISTEN (1U << 10)		/* TCP_LISTEN */

struct found {
	const struct inet_addr *src;
	int proto;
	struct inet_diag_sockid ids[DESTROY_MAX];
	size_t n;
	/* proof */
	struct sockdiag_seen *seen, next;
	uint32_t since_ms;
	bool proof;
};

static void req_init(struct nlmsghdr *nlh, uint16_t type, int family, int proto, uint32_t states,
		     uint8_t ext, const struct inet_diag_sockid *id)
{
	struct inet_diag_req_v2 *r;

	nlh->nlmsg_type = type;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = (uint8_t)proto;
	r->idiag_states = states;
	r->idiag_ext = ext;
	if (id)
		r->id = *id;
}

static bool from_src(const struct inet_diag_msg *m, const struct inet_addr *src)
{
	return m->idiag_family == src->family && !memcmp(m->id.idiag_src, src->bytes, addr_len(src->family));
}

static int destroy_cb(const struct nlmsghdr *nlh, void *data)
{
	struct found *f = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)) ||
	    !from_src(m, f->src) || f->n >= DESTROY_MAX)
		return MNL_CB_OK;
	/* UDP: connected sockets only (a bound one may serve anyone). */
	if (f->proto == IPPROTO_UDP && !m->id.idiag_dport)
		return MNL_CB_OK;
	f->ids[f->n++] = m->id;
	return MNL_CB_OK;
}

static int destroy_proto(const struct inet_addr *src, int proto, unsigned *count)
{
	static struct found f;
	static char buf[DESTROY_MAX * MNL_ALIGN(MNL_NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2))]
		__attribute__((aligned(8)));
	char req[MNL_NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2)] __attribute__((aligned(8)));
	uint32_t states = proto == IPPROTO_TCP ? ~(TCPF_LISTEN | TCPF_TIME_WAIT | TCPF_CLOSE) : ~0U;
	int errs[DESTROY_MAX];
	size_t len = 0;
	int ret;

	memset(&f, 0, sizeof(f));
	f.src = src;
	f.proto = proto;
	req_init(mnl_nlmsg_put_header(req), SOCK_DIAG_BY_FAMILY, src->family, proto, states, 0, NULL);
	ret = nlq_dump(NETLINK_SOCK_DIAG, (struct nlmsghdr *)req, destroy_cb, &f);
	if (ret < 0 || !f.n)
		return ret;
	for (size_t i = 0; i < f.n; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);

		req_init(nlh, SOCK_DESTROY, src->family, proto, ~0U, 0, &f.ids[i]);
		len += MNL_ALIGN(nlh->nlmsg_len);
	}
	ret = nlq_batch(NETLINK_SOCK_DIAG, buf, len, f.n, errs);
	for (size_t i = 0; ret == 0 && i < f.n; i++) {
		if (errs[i] == -EOPNOTSUPP)
			return -EOPNOTSUPP;
		*count += errs[i] == 0;
	}
	return ret;
}

int sockdiag_destroy(const struct inet_addr *src, unsigned *tcp, unsigned *udp)
{
	int ret;

	*tcp = *udp = 0;
	ret = destroy_proto(src, IPPROTO_TCP, tcp);
	if (ret < 0)
		return ret;
	return destroy_proto(src, IPPROTO_UDP, udp);
}

static int proof_cb(const struct nlmsghdr *nlh, void *data)
{
	struct found *f = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct tcp_info ti;
	uint64_t cookie;
	bool known = false;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)) ||
	    !from_src(m, f->src))
		return MNL_CB_OK;
	memset(&ti, 0, sizeof(ti));
	mnl_attr_for_each(a, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(a) == INET_DIAG_INFO) {
			size_t n = mnl_attr_get_payload_len(a);

			memcpy(&ti, mnl_attr_get_payload(a), n < sizeof(ti) ? n : sizeof(ti));
		}
	}
	memcpy(&cookie, m->id.idiag_cookie, sizeof(cookie));
	for (size_t i = 0; i < f->seen->n && !known; i++) {
		if (f->seen->cookie[i] != cookie)
			continue;
		known = true;
		if (ti.tcpi_bytes_acked > f->seen->acked[i])
			f->proof = true;
	}
	/* New since the last look: its data was acked within the round when
	 * an ACK came in that time (bytes_acked counts the SYN as 1). */
	if (!known && ti.tcpi_bytes_acked > 1 && ti.tcpi_last_ack_recv <= f->since_ms)
		f->proof = true;
	if (f->next.n < SOCKDIAG_SEEN_MAX) {
		f->next.cookie[f->next.n] = cookie;
		f->next.acked[f->next.n++] = ti.tcpi_bytes_acked;
	}
	return MNL_CB_OK;
}

int sockdiag_proof(const struct inet_addr *src, struct sockdiag_seen *seen, uint32_t since_ms)
{
	static struct found f;
	char req[MNL_NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2)] __attribute__((aligned(8)));
	int ret;

	memset(&f, 0, sizeof(f));
	f.src = src;
	f.proto = IPPROTO_TCP;
	f.seen = seen;
	f.since_ms = since_ms;
	req_init(mnl_nlmsg_put_header(req), SOCK_DIAG_BY_FAMILY, src->family, IPPROTO_TCP,
		 TCPF_ESTABLISHED | TCPF_CLOSE_WAIT, 1 << (INET_DIAG_INFO - 1), NULL);
	ret = nlq_dump(NETLINK_SOCK_DIAG, (struct nlmsghdr *)req, proof_cb, &f);
	if (ret < 0)
		return ret;
	*seen = f.next;
	return f.proof;
}
