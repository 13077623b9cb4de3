/* nl: thin helpers over libmnl for rtnetlink: one socket type for requests
 * (batched, every message ACKed and checked) and dumps, and the same type
 * subscribed to multicast groups for events.  One receive buffer per socket,
 * sized for dumps; nothing else is allocated. */
#ifndef RTALLOC_NL_H
#define RTALLOC_NL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *buf;		/* 32 KiB, for recv */
	size_t buflen;
	bool events;		/* joined groups: nl_drain() leaves it alone */
};

/* Opens a NETLINK_ROUTE socket; groups (RTNLGRP_* values, n of them) are
 * joined before anything else happens, so no event after this call is
 * missed.  Event sockets are non-blocking and get a large receive buffer. */
int nl_open(struct nl *nl, const unsigned *groups, size_t n);
void nl_close(struct nl *nl);
int nl_fd(const struct nl *nl);

/* A batch of requests sent in one sendmsg; each gets NLM_F_ACK and its own
 * seq.  nl_batch_add() returns the message to fill (header zeroed, type and
 * flags set), or NULL when the batch is full. */
#define NL_BATCH_MAX 10
struct nl_batch {
	char buf[NL_BATCH_MAX * 512];
	size_t len;
	size_t n;
	uint32_t seq[NL_BATCH_MAX];
};
struct nlmsghdr *nl_batch_add(struct nl *nl, struct nl_batch *b, uint16_t type,
			      uint16_t flags, size_t extra_len);
/* Finishes the message nl_batch_add() returned (after attributes). */
void nl_batch_commit(struct nl_batch *b, struct nlmsghdr *nlh);
/* Sends the batch and waits for every ACK: errs[i] is 0 or -errno for the
 * i-th message.  Returns 0 when all were ACKed (whatever their result), or
 * -errno when the exchange itself failed. */
int nl_batch_run(struct nl *nl, struct nl_batch *b, int *errs);

/* Sends a dump request (NLM_F_DUMP added) and calls cb for each message of
 * it.  Returns 0 or -errno (-EINTR when the dump was interrupted by a change
 * or an overrun: the caller retries).  Whatever the outcome, the dump is
 * read to its end and stray messages (another request's, late ACKs) are
 * skipped: no exchange leaves anything behind for the next one. */
int nl_dump(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);
/* The same for a request that is not a dump (one object asked by its key,
 * e.g. RTM_GETLINK of an index): NLM_F_ACK added, whose ACK ends the
 * answer.  0 or -errno (the kernel's error, e.g. -ENODEV). */
int nl_request(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/* Reads and drops whatever waits on a request socket (what an exchange
 * that gave up left); every request calls it before it sends.  A socket
 * that joined groups is left alone: its events are its owner's. */
void nl_drain(struct nl *nl);
/* One datagram into nl->buf: its length, -ETIMEDOUT when the kernel sent
 * nothing for 5 s (an answer lost to an overrun), or -errno. */
ssize_t nl_recv(struct nl *nl);

/* Reads one datagram of events and calls cb for each message: 1 when one was
 * read, 0 when none is pending, -ENOBUFS when the kernel dropped events (the
 * caller must re-read the kernel's state), other -errno on failure. */
int nl_events(struct nl *nl, mnl_cb_t cb, void *data);

#endif
