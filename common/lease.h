/* lease: the client side of the protocol with rtallocd (rtalloc, the
 * agent and rtalloc-track use it) (docs/protocol.md).
 * One datagram socket bound to a padded name of its own (so a 2017 v1
 * server can answer too), connected to the server's address (so the kernel
 * drops datagrams from anyone else), with SO_PASSCRED: a datagram counts
 * only if the kernel says it came from the server's uid at the server's
 * address.  Each request carries a fresh seq and only its answer is taken. */
#ifndef RTALLOC_LEASE_H
#define RTALLOC_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "log.h"
#include "proto.h"

/* Where rtallocd's file socket is looked for: DIR/NAME.sock for -d NAME.
 * Its owner (if no one else may write in it) is the server's uid. */
#define LEASE_SOCKET_DIR	"/run/rtalloc"
/* A lease longer than this is refused: no server of ours grants it (see
 * table_timeout), so it is a forgery meant to stop renewals. */
#define LEASE_SECONDS_MAX	(7u * 86400)
/* The 2017 server reads requests into a buffer of this many bytes. */
#define LEASE_V1_REQUEST_MAX	254

enum lease_target {
	LEASE_TARGET_FILE,		/* LEASE_SOCKET_DIR/NAME.sock, v2 */
	LEASE_TARGET_EXACT,		/* @NAME, v2 */
	LEASE_TARGET_PADDED,		/* @NAME padded to the whole sun_path, v1 */
	LEASE_TARGETS
};

struct lease_client {
	int fd;				/* non-blocking */
	struct sockaddr_un server;	/* the address spoken to now */
	socklen_t server_len;
	uint32_t seq;			/* of the request in flight */
	/* The table the caller holds (0: none), sent as "table" so a server
	 * that lost its state gives it back (docs/protocol.md). */
	uint32_t held_table;
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* -d, the abstract name */
	enum lease_target target;
	bool have_file;			/* LEASE_TARGET_FILE exists */
	uint8_t version;		/* spoken to the target: 2, or 1 to a padded name */
	uid_t server_uid;		/* accepted besides 0 */
	uint64_t send_deadline_ms;	/* a full server queue: wait for room until then; 0 never */
	bool told;			/* the version spoken has been logged */
	struct ratelimit rl;		/* for lines about dropped datagrams */
	int64_t free_inet, free_inet6;	/* lease_list: tables free per family, -1 unknown */
	/* lease_list: also the mark leases (proto_lease.mark) when set; the
	 * mark pool when the server sent it (mark_mask 0: it leases none). */
	bool want_marks;
	uint32_t mark_mask, marks_used, marks_free;
};

/* Binds the client's name and picks the server's: the file socket when
 * it exists, else @sockname.  0 or -errno. */
int lease_open(struct lease_client *lc, const char *sockname);
/* Speaks to the next of the server's names (file, exact, padded v1). */
void lease_next_target(struct lease_client *lc);
void lease_close(struct lease_client *lc);

/* Sends a v2 REQUEST or RELEASE for key's lease (its family, address,
 * ifname and tag; the rest is filled here).  0 or -errno (-ECONNREFUSED:
 * no server bound to the name). */
int lease_send(struct lease_client *lc, const struct proto_request *key, uint8_t cmd);
/* Sends req as it is (the caller sets seq): for callers with many requests
 * in flight on one socket, such as the agent.  0 or -errno. */
int lease_send_req(struct lease_client *lc, const struct proto_request *req);
/* Reads one pending datagram from the server: 1 and *rep whatever its seq
 * (the caller matches it), 0 when nothing usable was pending, -errno.
 * Datagrams not from the server's uid and address, v2 replies without seq,
 * tables 253..255 and leases beyond LEASE_SECONDS_MAX are dropped with a
 * (rate-limited) log line.  A v1 reply's lease_expires (CLOCK_MONOTONIC_RAW)
 * comes back in wall-clock seconds like a v2 one's. */
int lease_recv_any(struct lease_client *lc, struct proto_reply *rep);
/* Reads one pending datagram: 1 and *rep when it answers the request in
 * flight (a v1 reply without seq counts), 0 when it was something else or
 * nothing was pending, -errno on failure. */
int lease_recv(struct lease_client *lc, struct proto_reply *rep);
/* A refusal that will pass (rtallocd's grace period): ask again in
 * rep->retry_after seconds. */
bool lease_must_wait(const struct proto_reply *rep);
/* Blocking exchange used before the daemon has a loop: up to tries requests,
 * interval_ms apart; a try without an answer moves to the server's next
 * name (so a v1 server is found on its padded name); a grace-period answer
 * (lease_must_wait()) is logged once and asked again at the next try.  0
 * with *rep (granted or refused: rep->table 0), or
 * -ETIMEDOUT when the server never answered. */
int lease_exchange(struct lease_client *lc, const struct proto_request *key, uint8_t cmd,
		   unsigned tries, unsigned interval_ms, struct proto_reply *rep);
/* Reads one pending LIST reply (nonblocking): 1 and *rep (free with
 * proto_list_free), 0 when nothing usable was pending, -EACCES with the
 * server's reason in err when it refused the list ("permission denied"),
 * -EBADMSG with the reason in err when the server's datagram is no list
 * reply. */
int lease_recv_list(struct lease_client *lc, char *buf, size_t size, struct proto_list_reply *rep,
		    char *err, size_t errlen);
/* All the server's leases, page by page: *leases (free()) and *n. */
int lease_list(struct lease_client *lc, unsigned timeout_ms, struct proto_lease **leases,
	       size_t *n, char *err, size_t errlen);
/* The mark_mask of the server at sockname (asked with a list on a client
 * of its own): 0 with *mask (0: it leases no marks), or -errno with err. */
int lease_mark_mask(const char *sockname, unsigned timeout_ms, uint32_t *mask, char *err, size_t errlen);

#endif
