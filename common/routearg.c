/* routearg: --route DEST[/LEN][,via GW][,metric M] into a typed route. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "routearg.h"

static const char *fam(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static bool all_zero(const struct inet_addr *a, int family)
{
	for (size_t i = 0; i < addr_len(family); i++)
		if (a->bytes[i])
			return false;
	return true;
}

static int dest_parse(int family, const char *s, const char *whole, struct route_arg *r,
		      char *err, size_t errlen)
{
	unsigned max = (unsigned)addr_len(family) * 8;
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct inet_addr masked;

	if (!strcmp(s, "default")) {
		memset(&r->dst, 0, sizeof(r->dst));
		r->dst.family = family;
		r->dst_len = 0;
		return 0;
	}
	if (alen >= sizeof(a))
		return errbuf_fail(err, errlen, "--route: not an %s destination: '%s'", fam(family), whole);
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (addr_parse(family, a, &r->dst) < 0)
		return errbuf_fail(err, errlen, "--route: not an %s destination: '%s'", fam(family), whole);
	r->dst_len = (uint8_t)max;
	if (slash) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || errno || *end || v > max)
			return errbuf_fail(err, errlen, "--route: not a prefix length 0..%u: '%s'", max, whole);
		r->dst_len = (uint8_t)v;
	}
	masked = r->dst;
	addr_mask(&masked, r->dst_len);
	if (memcmp(masked.bytes, r->dst.bytes, addr_len(family)))
		return errbuf_fail(err, errlen, "--route: host bits set past /%u: '%s'", r->dst_len, whole);
	return 0;
}

int route_arg_parse(int family, const char *s, struct route_arg *r, char *err, size_t errlen)
{
	char buf[ROUTEARG_LEN + 1], *save = NULL, *part;
	bool first = true, via = false, metric = false;

	memset(r, 0, sizeof(*r));
	if (strlen(s) > ROUTEARG_LEN)
		return errbuf_fail(err, errlen, "--route: longer than %d bytes", ROUTEARG_LEN);
	if (!*s)
		return errbuf_fail(err, errlen, "--route: empty");
	snprintf(buf, sizeof(buf), "%s", s);
	for (part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save), first = false) {
		if (first) {
			if (dest_parse(family, part, s, r, err, errlen) < 0)
				return -EINVAL;
		} else if (!strncmp(part, "via ", 4) && !via) {
			via = true;
			if (addr_parse(family, part + 4, &r->gw) < 0)
				return errbuf_fail(err, errlen, "--route: not an %s gateway: '%s' in '%s'", fam(family),
					    part + 4, s);
			r->has_gw = !all_zero(&r->gw, family);
			if (!r->has_gw)
				memset(&r->gw, 0, sizeof(r->gw));
		} else if (!strncmp(part, "metric ", 7) && !metric) {
			char *end;
			unsigned long long v;

			metric = true;
			errno = 0;
			v = strtoull(part + 7, &end, 10);
			if (part[7] < '0' || part[7] > '9' || errno || *end || v > UINT32_MAX)
				return errbuf_fail(err, errlen, "--route: not a metric 0..4294967295: '%s'", s);
			r->metric = (uint32_t)v;
		} else {
			return errbuf_fail(err, errlen, "--route: '%s' is not via GW or metric N (once each): '%s'",
				    part, s);
		}
	}
	if (first || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
		return errbuf_fail(err, errlen, "--route: empty part in '%s'", s);
	return 0;
}

const char *route_arg_str(const struct route_arg *r, char *buf, size_t len)
{
	char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	int n;

	if (!r->dst_len)
		n = snprintf(buf, len, "default");
	else
		n = snprintf(buf, len, "%s/%u", addr_str(&r->dst, d, sizeof(d)), r->dst_len);
	if (n < 0 || (size_t)n >= len)
		return buf;
	if (r->has_gw)
		n += snprintf(buf + n, len - (size_t)n, ",via %s", addr_str(&r->gw, g, sizeof(g)));
	if (n < 0 || (size_t)n >= len)
		return buf;
	snprintf(buf + n, len - (size_t)n, ",metric %u", r->metric);
	return buf;
}

bool route_arg_equal(const struct route_arg *a, const struct route_arg *b)
{
	size_t len = addr_len(a->dst.family);

	return a->dst.family == b->dst.family && a->dst_len == b->dst_len &&
	       !memcmp(a->dst.bytes, b->dst.bytes, len) && a->has_gw == b->has_gw &&
	       (!a->has_gw || !memcmp(a->gw.bytes, b->gw.bytes, len)) && a->metric == b->metric;
}

size_t route_arg_msg(const struct route_arg *r, size_t n, char *buf, size_t len)
{
	char one[ROUTEARG_LEN];
	size_t at = (size_t)snprintf(buf, len, "routes");

	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "\n%s", route_arg_str(&r[i], one, sizeof(one)));
	return at < len ? at : len - 1;
}

int route_arg_msg_parse(int family, const char *s, struct route_arg *r, size_t *n, char *err,
			size_t errlen)
{
	*n = 0;
	while (*s) {
		char line[ROUTEARG_LEN + 1];
		size_t len = strcspn(s, "\n");

		if (*n == ROUTEARG_MAX)
			return errbuf_fail(err, errlen, "--route: at most %d routes", ROUTEARG_MAX);
		if (len > ROUTEARG_LEN)
			return errbuf_fail(err, errlen, "--route: longer than %d bytes", ROUTEARG_LEN);
		memcpy(line, s, len);
		line[len] = '\0';
		if (route_arg_parse(family, line, &r[*n], err, errlen) < 0)
			return -EINVAL;
		(*n)++;
		s += len;
		if (*s == '\n')
			s++;
	}
	return 0;
}
