/* lease: rtalloc's side of the protocol with rtallocd (docs/protocol.md).
 * One unbound-name datagram socket (autobound, so the server can answer);
 * each request carries a fresh seq and only its answer is taken. */
#ifndef RTALLOC_LEASE_H
#define RTALLOC_LEASE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "proto.h"

struct cli_opts;

struct lease_client {
	int fd;				/* non-blocking */
	struct sockaddr_un server;
	socklen_t server_len;
	uint32_t seq;			/* of the request in flight */
	/* The table the caller holds (0: none), sent as "table" so a server
	 * that lost its state gives it back (docs/protocol.md). */
	uint32_t held_table;
};

int lease_open(struct lease_client *lc, const char *sockname);
void lease_close(struct lease_client *lc);

/* Sends a v2 REQUEST or RELEASE for opts' key. 0 or -errno (-ECONNREFUSED:
 * no server bound to the name). */
int lease_send(struct lease_client *lc, const struct cli_opts *o, uint8_t cmd);
/* Sends req as it is (the caller sets seq): for callers with many requests
 * in flight on one socket, such as the agent.  0 or -errno. */
int lease_send_req(struct lease_client *lc, const struct proto_request *req);
/* Reads one pending datagram from the server: 1 and *rep whatever its seq
 * (the caller matches it), 0 when nothing usable was pending, -errno. */
int lease_recv_any(struct lease_client *lc, struct proto_reply *rep);
/* Reads one pending datagram: 1 and *rep when it answers the request in
 * flight (a v1 reply without seq counts), 0 when it was something else or
 * nothing was pending, -errno on failure. */
int lease_recv(struct lease_client *lc, struct proto_reply *rep);
/* Blocking exchange used before the daemon has a loop: up to tries requests,
 * interval_ms apart.  0 with *rep (granted or refused: rep->table 0), or
 * -ETIMEDOUT when the server never answered. */
int lease_exchange(struct lease_client *lc, const struct cli_opts *o, uint8_t cmd,
		   unsigned tries, unsigned interval_ms, struct proto_reply *rep);
/* All the server's leases, page by page: *leases (free()) and *n. */
int lease_list(struct lease_client *lc, unsigned timeout_ms, struct proto_lease **leases,
	       size_t *n, char *err, size_t errlen);

#endif
