/* sockdiag: the host's own sockets of an uplink's address, through
 * NETLINK_SOCK_DIAG.
 *  - reset_local: TCP and connected UDP sockets whose source is the address
 *    are destroyed (SOCK_DESTROY), so programs see an error and reconnect
 *    from the address of the uplink that now carries unbound traffic.
 *  - metered uplinks: whether TCP sockets from the address had data
 *    acknowledged since the last look (tcp_info's bytes_acked grew, or a
 *    socket not seen before has data acked and an ACK within the round):
 *    proof the uplink works, so no probe is needed.  Only established
 *    connections count (a closing probe of our own does not). */
#ifndef RTALLOC_SOCKDIAG_H
#define RTALLOC_SOCKDIAG_H

#include <stdint.h>

#include "addr.h"

#define SOCKDIAG_SEEN_MAX 64

/* *tcp, *udp: sockets destroyed.  0, or -errno (-EOPNOTSUPP: the kernel
 * has no SOCK_DESTROY, CONFIG_INET_DIAG_DESTROY). */
int sockdiag_destroy(const struct inet_addr *src, unsigned *tcp, unsigned *udp);

struct sockdiag_seen {
	uint64_t cookie[SOCKDIAG_SEEN_MAX];
	uint64_t acked[SOCKDIAG_SEEN_MAX];
	size_t n;
};
/* 1 when src's TCP traffic proves the path since the last call (seen keeps
 * what was read, round to round; since_ms: time since the last call), 0
 * when not, -errno when sock_diag cannot tell (then: probe). */
int sockdiag_proof(const struct inet_addr *src, struct sockdiag_seen *seen, uint32_t since_ms);

#endif
