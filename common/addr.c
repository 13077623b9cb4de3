/* addr: parsing of addresses, netmasks and interface names (the edge). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int addr_parse(int family, const char *s, struct inet_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s || strlen(s) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	if ((family == AF_INET || family == AF_UNSPEC) && inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if ((family == AF_INET6 || family == AF_UNSPEC) && inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *addr_str(const struct inet_addr *a, char *buf, size_t len)
{
	/* glibc's inet_ntop formats IPv4 with sprintf: that was an eighth of
	 * rtallocd's start-up with 100,000 leases (each row's address is
	 * checked for canonical form).  Same output, by hand. */
	if (a->family == AF_INET && len >= INET_ADDRSTRLEN) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			unsigned v = a->bytes[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static int prefix_parse(const char *s, unsigned max, uint8_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

int netmask_parse(int family, const char *s, uint8_t *prefixlen)
{
	struct in_addr mask;
	uint32_t m;

	if (!s || !*s)
		return -EINVAL;
	if (family == AF_INET6)
		return prefix_parse(s, 128, prefixlen);
	if (family != AF_INET)
		return -EINVAL;
	if (!strchr(s, '.'))
		return prefix_parse(s, 32, prefixlen);
	if (inet_pton(AF_INET, s, &mask) != 1)
		return -EINVAL;
	m = ntohl(mask.s_addr);
	/* contiguous: the inverted mask plus one is a power of two */
	if (((~m + 1) & ~m) != 0)
		return -EINVAL;
	*prefixlen = (uint8_t)__builtin_popcount(m);
	return 0;
}

void addr_mask(struct inet_addr *a, uint8_t prefixlen)
{
	size_t len = addr_len(a->family);

	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefixlen > 8 * i ? prefixlen - 8 * i : 0;

		if (bits < 8)
			a->bytes[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

bool ifname_valid(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

const char *addr_documentation(const struct inet_addr *a)
{
	static const struct {
		uint8_t b[4];
		const char *name;
	} v4[] = {
		{ { 192, 0, 2 }, "192.0.2.0/24" },
		{ { 198, 51, 100 }, "198.51.100.0/24" },
		{ { 203, 0, 113 }, "203.0.113.0/24" },
	};

	if (a->family == AF_INET6)
		return a->bytes[0] == 0x20 && a->bytes[1] == 0x01 && a->bytes[2] == 0x0d && a->bytes[3] == 0xb8 ?
			"2001:db8::/32" : NULL;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		if (!memcmp(a->bytes, v4[i].b, 3))
			return v4[i].name;
	return NULL;
}
