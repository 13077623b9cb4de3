/* cli: rtalloc's options.  The 2017 table_allocator client's short flags
 * (-4 -6 -a -n -i -d -t -r -f -s -l -h) keep their meaning; the rest are
 * long options.  Every value is checked here so nothing later re-validates. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "packetmark/mark.h"

enum {
	OPT_PREF_FROM = 256,
	OPT_PREF_TO,
	OPT_PREF_IIF,
	OPT_RETRIES,
	OPT_RETRY_INTERVAL,
	OPT_FWMARK,
	OPT_FWMARK_PREF,
	OPT_LIST,
	OPT_JSON,
	OPT_STATUS,
	OPT_FORWARD_IIF,
	OPT_ROUTE,
};

static const struct option long_opts[] = {
	{ "pref-from", required_argument, NULL, OPT_PREF_FROM },
	{ "pref-to", required_argument, NULL, OPT_PREF_TO },
	{ "pref-iif", required_argument, NULL, OPT_PREF_IIF },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-interval", required_argument, NULL, OPT_RETRY_INTERVAL },
	{ "fwmark", required_argument, NULL, OPT_FWMARK },
	{ "fwmark-pref", required_argument, NULL, OPT_FWMARK_PREF },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "forward-iif", required_argument, NULL, OPT_FORWARD_IIF },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc -4|-6 -a ADDRESS -n NETMASK -i IFNAME [-d SOCKET] [-t TAG]\n"
		"               [-r] [-f] [-s | -l LOGFILE] [-v] [options]\n"
		"       rtalloc --list [--json] [-d SOCKET]\n"
		"       rtalloc --status [--json] [-d SOCKET]\n"
		"Leases a routing table for ADDRESS from rtallocd, installs the policy rules\n"
		"that select it, prints the table and stays in the background until the\n"
		"address or the interface goes away (then removes the rules, releases the\n"
		"lease and exits).  A second run for the same address prints the same table.\n"
		"  -4, -6             address family\n"
		"  -a ADDRESS         the interface's address\n"
		"  -n NETMASK         dotted netmask or prefix length (prefix length for -6)\n"
		"  -i IFNAME          the interface\n"
		"  -d SOCKET          rtallocd's abstract socket name (default %s)\n"
		"  -t TAG             free text stored with the lease\n"
		"  -r                 release: stop the daemon for this address (or remove its\n"
		"                     rules and release the lease directly)\n"
		"  -f                 stay in the foreground\n"
		"  -s                 log to syslog\n"
		"  -l LOGFILE         log to a file\n"
		"  -v                 debug messages\n"
		"  --pref-from N      pref of `from ADDRESS lookup T` (default 10000)\n"
		"  --pref-to N        pref of `to NETWORK lookup T` (default 20000)\n"
		"  --pref-iif N       pref of `iif lo lookup T` (default 91000)\n"
		"  --fwmark MARK[/MASK]  also add `fwmark MARK/MASK lookup T`\n"
		"  --fwmark-pref N    its pref (default 9000)\n"
		"  --forward-iif IF   also add `iif IF lookup T` at the iif lo pref, so traffic\n"
		"                     forwarded from IF (a LAN, containers) uses the table;\n"
		"                     repeatable, up to %d\n"
		"  --route DEST[/LEN][,via GW][,metric M]\n"
		"                     a route of the table (DEST may be `default`): given\n"
		"                     any, rtalloc owns the table's routes (proto 122): it\n"
		"                     restores them, moves them with the lease, removes them\n"
		"                     at the end; a later run's replace them; up to %d\n"
		"  --retries N        requests before giving up (default 5)\n"
		"  --retry-interval S seconds between them (default 2)\n"
		"  --list [--json]    list the server's leases\n"
		"  --status [--json]  compare the server's leases with the rules in the\n"
		"                     kernel and name every difference\n"
		"Rules are marked `proto 122` (0x7a): rtalloc only ever touches those.\n"
		"Exit status: 0 table printed (leased, already running) or released;\n"
		"1 invalid arguments; 2 no lease (printed 0); 3 address not on the\n"
		"interface (printed 0); 4 the kernel refused the rules (printed 0);\n"
		"5 system error (printed 0); 6 --status found differences.\n",
		PROTO_DEFAULT_SOCKET, CLI_FORWARD_MAX, ROUTEARG_MAX);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal number in [min, max]: no sign, no spaces, nothing after. */
static int uint_parse(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static const char *family_str(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* --forward-iif IF: a valid name, not lo (it has its rule), once each. */
static int forward_add(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	if (!ifname_valid(arg))
		return fail(err, errlen, "--forward-iif: not a valid interface name: '%s'", arg);
	if (!strcmp(arg, "lo"))
		return fail(err, errlen, "--forward-iif: lo always has its rule");
	for (size_t i = 0; i < o->n_forward; i++)
		if (!strcmp(o->forward_iif[i], arg))
			return fail(err, errlen, "--forward-iif: '%s' given twice", arg);
	if (o->n_forward == CLI_FORWARD_MAX)
		return fail(err, errlen, "--forward-iif: at most %d interfaces", CLI_FORWARD_MAX);
	snprintf(o->forward_iif[o->n_forward++], IFNAMSIZ, "%s", arg);
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	const char *a_arg = NULL, *n_arg = NULL, *route_args[ROUTEARG_MAX];
	size_t n_route_args = 0;
	bool four = false, six = false;
	uint32_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->log = LOG_TO_STDERR;
	o->log_max = LOG_INFO;
	o->pref_from = 10000;
	o->pref_to = 20000;
	o->pref_iif = 91000;
	o->fwmark_pref = 9000;
	o->retries = 5;
	o->retry_interval = 2;
	snprintf(o->socket, sizeof(o->socket), "%s", PROTO_DEFAULT_SOCKET);
	err[0] = '\0';

	optind = 0;	/* full reset of GNU getopt's state */
	opterr = 0;	/* we word the errors */
	while ((c = getopt_long(argc, argv, ":46a:n:i:d:t:rfsl:vh", long_opts, NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case '4': four = true; break;
		case '6': six = true; break;
		case 'a': a_arg = arg; break;
		case 'n': n_arg = arg; break;
		case 'i':
			if (!ifname_valid(arg))
				return fail(err, errlen, "-i: not a valid interface name: '%s'", arg);
			snprintf(o->ifname, sizeof(o->ifname), "%s", arg);
			break;
		case 'd':
			if (!*arg || strlen(arg) > CLI_SOCKET_MAX)
				return fail(err, errlen, "-d: socket name must be 1..%zu bytes: '%s'",
					    CLI_SOCKET_MAX, arg);
			snprintf(o->socket, sizeof(o->socket), "%s", arg);
			break;
		case 't':
			if (strlen(arg) > PROTO_TAG_MAX)
				return fail(err, errlen, "-t: tag longer than %d bytes", PROTO_TAG_MAX);
			for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					return fail(err, errlen, "-t: tag contains a control character");
			snprintf(o->tag, sizeof(o->tag), "%s", arg);
			break;
		case 'r': o->release = true; break;
		case 'f': o->foreground = true; break;
		case 's': o->log = LOG_TO_SYSLOG; break;
		case 'l':
			if (!*arg)
				return fail(err, errlen, "-l: empty file name");
			o->log = LOG_TO_FILE;
			o->logfile = arg;
			break;
		case 'v': o->log_max = LOG_DEBUG; break;
		case 'h': o->help = true; return 0;
		case OPT_PREF_FROM:
		case OPT_PREF_TO:
		case OPT_PREF_IIF:
		case OPT_FWMARK_PREF:
			/* pref 0 is the kernel's `local` rule: never ours. */
			if (uint_parse(arg, 1, UINT32_MAX, &v) < 0)
				return fail(err, errlen, "--%s: not a rule preference 1..4294967295: '%s'",
					    c == OPT_PREF_FROM ? "pref-from" : c == OPT_PREF_TO ? "pref-to" :
					    c == OPT_PREF_IIF ? "pref-iif" : "fwmark-pref", arg);
			if (c == OPT_PREF_FROM)
				o->pref_from = v;
			else if (c == OPT_PREF_TO)
				o->pref_to = v;
			else if (c == OPT_PREF_IIF)
				o->pref_iif = v;
			else
				o->fwmark_pref = v;
			break;
		case OPT_RETRIES:
			if (uint_parse(arg, 1, 1000, &v) < 0)
				return fail(err, errlen, "--retries: not a number 1..1000: '%s'", arg);
			o->retries = v;
			break;
		case OPT_RETRY_INTERVAL:
			if (uint_parse(arg, 1, 3600, &v) < 0)
				return fail(err, errlen, "--retry-interval: not a number of seconds 1..3600: '%s'", arg);
			o->retry_interval = v;
			break;
		case OPT_FWMARK: {
			const char *why = NULL;

			if (mark_mask_parse(arg, &o->fwmark, &o->fwmask, &why) < 0)
				return fail(err, errlen, "--fwmark: %s: '%s'", why ? why : "invalid", arg);
			o->have_fwmark = true;
			break;
		}
		case OPT_FORWARD_IIF:
			if (forward_add(o, arg, err, errlen) < 0)
				return -EINVAL;
			break;
		case OPT_ROUTE:
			if (n_route_args == ROUTEARG_MAX)
				return fail(err, errlen, "--route: at most %d routes", ROUTEARG_MAX);
			route_args[n_route_args++] = arg;
			break;
		case OPT_LIST: o->list = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_STATUS: o->status = true; break;
		case ':':
			return fail(err, errlen, "%s: missing argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return fail(err, errlen, "-%c: unknown option", optopt);
			return fail(err, errlen, "%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument: '%s'", argv[optind]);
	if (o->status) {
		if (o->list || four || six || a_arg || n_arg || o->ifname[0] || o->release)
			return fail(err, errlen, "--status takes only -d, --json and logging options");
		return 0;
	}
	if (o->list) {
		if (four || six || a_arg || n_arg || o->ifname[0] || o->release)
			return fail(err, errlen, "--list takes only -d, --json and logging options");
		return 0;
	}
	if (o->json)
		return fail(err, errlen, "--json: only with --list or --status");
	if (four && six)
		return fail(err, errlen, "-4 and -6: choose one");
	if (!four && !six)
		return fail(err, errlen, "missing -4 or -6");
	o->family = four ? AF_INET : AF_INET6;
	if (!a_arg)
		return fail(err, errlen, "missing -a ADDRESS");
	if (addr_parse(o->family, a_arg, &o->addr) < 0)
		return fail(err, errlen, "-a: not an %s address: '%s'", family_str(o->family), a_arg);
	if (!o->ifname[0])
		return fail(err, errlen, "missing -i IFNAME");
	for (size_t i = 0; i < n_route_args; i++)
		if (route_arg_parse(o->family, route_args[i], &o->routes[o->n_routes++], err, errlen) < 0)
			return -EINVAL;
	if (n_arg) {
		if (netmask_parse(o->family, n_arg, &o->prefixlen) < 0)
			return fail(err, errlen, "-n: not an %s %s: '%s'", family_str(o->family),
				    o->family == AF_INET ? "netmask or prefix length" : "prefix length 0..128",
				    n_arg);
		/* `to 0.0.0.0/0 lookup T` would send all traffic through T. */
		if (o->prefixlen == 0)
			return fail(err, errlen, "-n: a /0 network would route everything through the table: '%s'",
				    n_arg);
		o->have_prefix = true;
	} else if (!o->release) {
		return fail(err, errlen, "missing -n NETMASK");
	}
	return 0;
}
