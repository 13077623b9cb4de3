/* addr: parsing of addresses, netmasks and interface names (the edge). */
#ifndef RTALLOC_ADDR_H
#define RTALLOC_ADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inet_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* family AF_UNSPEC accepts either.  0 or -EINVAL. */
int addr_parse(int family, const char *s, struct inet_addr *out);
/* Canonical text (inet_ntop); buf must hold INET6_ADDRSTRLEN. */
const char *addr_str(const struct inet_addr *a, char *buf, size_t len);
size_t addr_len(int family);
/* Netmask: a prefix length ("24", "64") or, for IPv4, a dotted contiguous
 * netmask ("255.255.255.0").  0 or -EINVAL. */
int netmask_parse(int family, const char *s, uint8_t *prefixlen);
/* Zero the host bits: 192.0.2.7/24 -> 192.0.2.0. */
void addr_mask(struct inet_addr *a, uint8_t prefixlen);
/* The kernel's rules for a device name: 1..15 bytes, no '/', ':' or white
 * space, not "." or "..". */
bool ifname_valid(const char *s);

/* The documentation range a holds (RFC 5737's 192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, RFC 3849's 2001:db8::/32), as text, or
 * NULL: an address there never answers a probe. */
const char *addr_documentation(const struct inet_addr *a);

#endif
