/* agentra: router advertisements as they arrive (a raw ICMPv6 socket), for
 * their RDNSS where a tool handles RAs itself (NetworkManager, networkd,
 * dhcpcd turn the kernel's accept_ra off, and the kernel then passes no ND
 * user option): NetworkManager's dispatcher sends no event for what comes
 * after "up".  Only RAs with hop limit 255 (from the link) count. */
#ifndef RTALLOC_AGENTRA_H
#define RTALLOC_AGENTRA_H

#include <stdint.h>

#include "agentdns.h"

/* The socket (non-blocking), or -errno. */
int ra_open(void);
/* Reads pending RAs into d: 1 when its servers changed, 0, -errno. */
int ra_read(int fd, struct agentdns *d, uint64_t now_ms);

#endif
