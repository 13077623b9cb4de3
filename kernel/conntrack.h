/* conntrack: the hand-off of forwarded flows.  When an uplink stops
 * carrying traffic, the conntrack entries of forwarded flows NATed to its
 * address (reply tuple's destination is the address, the original source
 * is another host's) are removed through ctnetlink, so their next packet
 * is a new flow: routed to the new uplink and NATed to its address.  A
 * fixed `snat` (and a masquerade whose interface did not change) would
 * otherwise keep the old address for as long as the flow sends. */
#ifndef RTALLOC_CONNTRACK_H
#define RTALLOC_CONNTRACK_H

#include "addr.h"

/* *removed: entries deleted.  0, or -errno (-EPROTONOSUPPORT and the like:
 * no conntrack here, nothing to do). */
int conntrack_flush_nat(const struct inet_addr *addr, unsigned *removed);

#endif
