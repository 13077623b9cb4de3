/* nlquery: one-shot requests on the other netlink buses rtalloc-track
 * uses (NETLINK_NETFILTER for conntrack, NETLINK_SOCK_DIAG for sockets):
 * a socket per call, for events that come once a switch (hand-off) or
 * once a round (metered uplinks).  rtnetlink stays with common/nl. */
#ifndef RTALLOC_NLQUERY_H
#define RTALLOC_NLQUERY_H

#include <libmnl/libmnl.h>

/* Sends req (NLM_F_DUMP set by the caller) and calls cb for each message
 * until the dump ends.  0 or -errno. */
int nlq_dump(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/* A batch of requests over one socket, each ACKed: *errs (n) gets each
 * one's 0 or -errno.  reqs: n messages back to back in buf (len bytes).
 * 0 or -errno when the exchange failed. */
int nlq_batch(int bus, void *buf, size_t len, size_t n, int *errs);

#endif
