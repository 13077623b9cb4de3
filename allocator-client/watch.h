/* watch: rtnetlink events about one address on one interface (address and
 * link deletions) and about our rules (deletions by others).  Subscribed
 * before anything is checked, so no deletion falls into a gap. */
#ifndef RTALLOC_WATCH_H
#define RTALLOC_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "loop.h"
#include "nl.h"

enum watch_event {
	WATCH_GONE,		/* the address or the link went away */
	WATCH_RULE_DELETED,	/* one of rtalloc's rules was deleted */
	WATCH_OVERFLOW,		/* events were lost: re-read the kernel's state */
	WATCH_ADDR_DELETED,	/* an entry of the address went (others may be
				 * left, with other prefixes: watch_addr_find) */
};

struct watch;
typedef void (*watch_cb)(struct watch *w, enum watch_event ev, const char *why);

struct watch {
	struct nl nl;
	struct loop_fd h;
	int family;
	int ifindex;
	uint32_t table;		/* 0: not leased yet */
	struct inet_addr addr;
	watch_cb cb;
};

int watch_open(struct watch *w, int family, const struct inet_addr *addr);
/* Subscribes to address, link and rule events of family, and has the kernel
 * drop (nlfilter) the ones that are not about addr, its interface or our
 * rules.  0 or -errno. */
/* ifindex is known once the interface was looked up: from then on only its
 * events come (check the address after this call, not before). */
void watch_set_ifindex(struct watch *w, int ifindex);
/* The leased table: from then on only deletions of its rules come.  Call it
 * before the table's rules are added (and again when the lease moves). */
void watch_set_table(struct watch *w, uint32_t table);
int watch_start(struct watch *w, struct loop *l, watch_cb cb);
void watch_close(struct watch *w, struct loop *l);
/* Reads every pending event now (the daemon calls it before trusting a
 * check made after subscribing). */
void watch_drain(struct watch *w);

/* Is addr configured on ifindex right now?  1, 0, or -errno.  Uses the
 * request socket nl (dumps do not mix with events). */
int watch_addr_present(struct nl *nl, int family, int ifindex, const struct inet_addr *addr);
/* The same, and the prefix length of an entry of addr in *len: prefer's
 * when an entry has it (0: none preferred), else the first found. */
int watch_addr_find(struct nl *nl, int family, int ifindex, const struct inet_addr *addr,
		    uint8_t prefer, uint8_t *len);

#endif
