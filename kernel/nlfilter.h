/* nlfilter: a classic BPF socket filter for an rtnetlink event socket.  The
 * kernel runs it before it queues an event, so an event the filter drops
 * costs the process nothing: no wake-up, no buffer space (and cannot
 * overflow the buffer).  Built from what the caller watches; it errs on the
 * side of passing (a message it cannot judge is passed, and the caller
 * judges it as before), never of dropping what the caller asked for.
 * Netlink's own messages (NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN) always
 * pass, and ENOBUFS is a socket error, not a message: both are untouched.
 * The filter judges a datagram by its first message: fine for events (one
 * message each), not for a socket that also dumps. */
#ifndef RTALLOC_NLFILTER_H
#define RTALLOC_NLFILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define NLFILTER_TABLES	4

/* What passes: RTM_DELLINK of ifindex; RTM_DELADDR of family on ifindex
 * (of addr: its IFA_LOCAL, else its IFA_ADDRESS); RTM_DELRULE of family
 * with FRA_PROTOCOL rule_proto in one of the tables (FRA_TABLE); with
 * link_new RTM_NEWLINK as RTM_DELLINK, with addr_new RTM_NEWADDR as
 * RTM_DELADDR; with routes RTM_NEWROUTE and RTM_DELROUTE of family in one
 * of the tables (RTA_TABLE).  The tables are table[0..n_tables), one list
 * for rules and routes: n_tables 0 (none known yet) or above
 * NLFILTER_TABLES (more than the filter holds) means every table.  A rule
 * or route message without the table attribute passes (the caller judges).
 * Nothing else. */
struct nlfilter {
	int family;		/* AF_INET or AF_INET6 */
	int ifindex;		/* 0: not known yet, every interface */
	bool have_addr;		/* false: every address of the interface */
	struct inet_addr addr;
	uint8_t rule_proto;	/* 0: no rule deletions at all */
	bool link_new;
	bool addr_new;
	bool routes;
	size_t n_tables;	/* 0 or > NLFILTER_TABLES: every table */
	uint32_t table[NLFILTER_TABLES];
};

/* Attaches f's filter to the socket fd, replacing any filter it had (the
 * kernel swaps them at once: no event falls between).  0 or -errno. */
int nlfilter_attach(int fd, const struct nlfilter *f);

#endif
