/* cli: rtalloc's command line, parsed into a typed struct (the edge). */
#ifndef RTALLOC_CLI_H
#define RTALLOC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/un.h>

#include "addr.h"
#include "log.h"
#include "proto.h"
#include "routearg.h"

/* Exit statuses, also listed in `rtalloc -h` (hooks rely on them). */
enum rtalloc_exit {
	EXIT_LEASED = 0,	/* table printed: leased now or by a running daemon; released */
	EXIT_USAGE = 64,	/* invalid arguments (EX_USAGE): one line on stderr, nothing
				 * installed; 1 run as table_allocator_client */
	EXIT_USAGE_COMPAT = 1,
	EXIT_NO_LEASE = 2,	/* no table from the server: printed 0 */
	EXIT_NO_ADDRESS = 3,	/* the address is not on the interface: printed 0 */
	EXIT_KERNEL = 4,	/* the kernel refused the rules: printed 0, lease released */
	EXIT_SYSTEM = 5,	/* a system call failed (netlink, sockets, fork): printed 0 */
	EXIT_INCONSISTENT = 6,	/* --status: leases and rules differ (listed on stdout) */
	EXIT_NO_INTERFACE = 7,	/* -i: no such interface: printed 0 */
};

/* --forward-iif: interfaces whose forwarded traffic also falls through to
 * the table (`iif IF lookup T` beside `iif lo`). */
#define CLI_FORWARD_MAX 4

/* Invoked as the 2017 client (/usr/sbin/table_allocator_client): every run
 * that printed a table or the fallback 0 exits 0, as the original did, so
 * its scripts (`set -e`, `$(...)` then `-eq 0`) behave as before. */
#define CLI_COMPAT_NAME "table_allocator_client"

#define CLI_SOCKET_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
/* An unspec lease's identifier (-a without -4/-6): what the protocol's
 * address member holds, as the original allowed. */
#define CLI_ID_MAX (INET6_ADDRSTRLEN - 1)
#define CLI_ADDRESS_WAIT_DEFAULT 10	/* seconds, --address-wait */

/* What a run of the 2017 flags does: cli_parse picks it from mode_flags[]
 * (cli.c), the first mode whose flag was given; none: a lease. */
enum cli_mode { CLI_MODE_LEASE, CLI_MODE_RELEASE, CLI_MODE_LIST, CLI_MODE_STATUS };

struct cli_opts {
	int family;			/* AF_INET, AF_INET6, or AF_UNSPEC (-a ID:
					 * a table only, no rules) */
	struct inet_addr addr;		/* -a, AF_INET and AF_INET6 */
	char id[CLI_ID_MAX + 1];	/* -a, AF_UNSPEC */
	uint8_t prefixlen;		/* -n */
	bool have_prefix;
	char ifname[IFNAMSIZ];		/* -i */
	char socket[CLI_SOCKET_MAX + 1];	/* -d, abstract name without the NUL */
	char tag[PROTO_TAG_MAX + 1];	/* -t */
	bool release;			/* -r */
	bool foreground;		/* -f */
	bool list;			/* --list */
	bool json;			/* --json */
	bool status;			/* --status */
	enum cli_mode mode;		/* from -r, --list, --status */
	bool help;			/* -h */
	bool version;			/* --version */
	int log_max;			/* LOG_INFO, LOG_DEBUG with -v */
	enum log_backend log;		/* -s, -l */
	const char *logfile;		/* points into argv */
	uint32_t pref_from, pref_to, pref_iif;
	bool have_fwmark;
	uint32_t fwmark, fwmask;
	uint32_t fwmark_pref;
	char forward_iif[CLI_FORWARD_MAX][IFNAMSIZ];	/* --forward-iif, in order */
	size_t n_forward;
	/* --route: the table's routes, owned by the daemon (hold.h); none
	 * given: the caller fills the table itself, as the 2017 hooks did. */
	struct route_arg routes[ROUTEARG_MAX];
	size_t n_routes;
	unsigned retries;		/* tries, >= 1 */
	unsigned retry_interval;	/* seconds, >= 1 */
	unsigned address_wait;		/* seconds an absent address is waited for; 0: refuse */
	uint32_t table_min, table_max;	/* --tables; 1..UINT32_MAX when not given */
};

/* 0 (o filled; o->help means print the usage), or -EINVAL with a one-line
 * reason in err, e.g. "-a: not an IPv4 address: '10.0.0.300'".  Resets
 * getopt, so it may be called more than once per process. */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);
void cli_usage(FILE *out);

/* May rtalloc print, install or flush table t?  Never 0 (the "no lease"
 * fallback is printed on its own), 253 (default), 254 (main) or 255
 * (local), nor anything outside --tables: whatever a server or a control
 * answer says. */
bool cli_table_ok(const struct cli_opts *o, uint32_t t);
/* The lease's key as the protocol carries it: the canonical address, or the
 * unspec identifier.  buf holds INET6_ADDRSTRLEN. */
const char *cli_key_str(const struct cli_opts *o, char *buf, size_t len);
/* The lease's key (family, address, ifname, tag) as lease_send() takes it. */
struct proto_request cli_lease_key(const struct cli_opts *o);

#endif
