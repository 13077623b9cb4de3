/* routearg: a route the hook hands rtalloc for its table, from `--route
 * DEST[/LEN][,via GW][,metric M]` (DEST may be `default`), parsed at the
 * edge into a typed route.  The same text travels to a running daemon in
 * its "routes" control message, so both go through one parser. */
#ifndef RTALLOC_ROUTEARG_H
#define RTALLOC_ROUTEARG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* A DHCP lease's classless routes plus its prefix fit many times over. */
#define ROUTEARG_MAX 32
/* The longest argument: an IPv6 destination, gateway and metric. */
#define ROUTEARG_LEN 128

struct route_arg {
	struct inet_addr dst;		/* zeroed past dst_len */
	uint8_t dst_len;
	bool has_gw;			/* false: on-link (no gateway) */
	struct inet_addr gw;
	uint32_t metric;
};

/* 0, or -EINVAL with the reason in err ("--route: not an IPv4 gateway:
 * 'x' in 'default,via x'").  Host bits set under LEN are refused, as the
 * kernel would; `via 0.0.0.0` / `via ::` means on-link (RFC 3442). */
int route_arg_parse(int family, const char *s, struct route_arg *r, char *err, size_t errlen);
/* The canonical text of r (what route_arg_parse reads back): buf must hold
 * ROUTEARG_LEN. */
const char *route_arg_str(const struct route_arg *r, char *buf, size_t len);
bool route_arg_equal(const struct route_arg *a, const struct route_arg *b);

/* The "routes" message a later run sends the running daemon for its key:
 * "routes\nROUTE\nROUTE...", each line route_arg_str()'s text. */
#define ROUTEARG_MSG_MAX (sizeof("routes") + (size_t)ROUTEARG_MAX * (ROUTEARG_LEN + 1))
/* Writes the message into buf (ROUTEARG_MSG_MAX bytes): its length. */
size_t route_arg_msg(const struct route_arg *r, size_t n, char *buf, size_t len);
/* Parses what follows "routes\n" into r (ROUTEARG_MAX of them), *n set.
 * 0 or -EINVAL with the reason in err. */
int route_arg_msg_parse(int family, const char *s, struct route_arg *r, size_t *n, char *err,
			size_t errlen);

#endif
