/* agentra: RAs' RDNSS from a raw ICMPv6 socket (agentra.h). */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentra.h"

int ra_open(void)
{
	struct icmp6_filter f;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6), one = 1;

	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int ra_read(int fd, struct agentdns *d, uint64_t now_ms)
{
	int changed = 0;

	for (;;) {
		uint8_t buf[2048];
		char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct sockaddr_in6 from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		int ifindex = 0, hops = 0;
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? changed : -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != IPPROTO_IPV6)
				continue;
			if (c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				ifindex = (int)pi.ipi6_ifindex;
			} else if (c->cmsg_type == IPV6_HOPLIMIT) {
				memcpy(&hops, CMSG_DATA(c), sizeof(hops));
			}
		}
		/* RFC 4861 6.1.2: from a link-local source, hop limit 255. */
		if (n < (ssize_t)sizeof(struct nd_router_advert) || buf[0] != ND_ROUTER_ADVERT ||
		    hops != 255 || !ifindex || !IN6_IS_ADDR_LINKLOCAL(&from.sin6_addr))
			continue;
		changed |= agentdns_ra_options(d, ifindex, buf + sizeof(struct nd_router_advert),
					       (size_t)n - sizeof(struct nd_router_advert), now_ms);
	}
}
