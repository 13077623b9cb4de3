/* cli: rtalloc's options.  The 2017 table_allocator client's flags, short
 * (-4 -6 -a -n -i -d -t -r -f -s -l -h) and long (--address --netmask
 * --ifname --destination --syslog --log_path --tag --release --foreground
 * --help), keep their meaning, -a without -4/-6 included (an unspec lease);
 * the rest are long options.  Every value is checked here so nothing later
 * re-validates. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "errbuf.h"
#include "cli.h"
#include "kobj.h"
#include "mark.h"

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
	OPT_ADDRESS_WAIT,
	OPT_TABLES,
	OPT_VERSION,
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
	{ "address-wait", required_argument, NULL, OPT_ADDRESS_WAIT },
	{ "tables", required_argument, NULL, OPT_TABLES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	/* The 2017 client's long names.  --destination was its name for the
	 * server's socket (-d); its --foreground took an argument that -f never
	 * did: here neither does. */
	{ "address", required_argument, NULL, 'a' },
	{ "netmask", required_argument, NULL, 'n' },
	{ "ifname", required_argument, NULL, 'i' },
	{ "destination", required_argument, NULL, 'd' },
	{ "syslog", no_argument, NULL, 's' },
	{ "log_path", required_argument, NULL, 'l' },
	{ "tag", required_argument, NULL, 't' },
	{ "release", no_argument, NULL, 'r' },
	{ "foreground", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc -4|-6 -a ADDRESS -n NETMASK -i IFNAME [-d SOCKET] [-t TAG]\n"
		"               [-r] [-f] [-s | -l LOGFILE] [-v] [options]\n"
		"       rtalloc -a ID -i IFNAME [-d SOCKET] [-t TAG] [-r] [-f] [-s | -l LOGFILE]\n"
		"       rtalloc --list [--json] [-d SOCKET]\n"
		"       rtalloc --status [--json] [-d SOCKET]\n"
		"Leases a routing table for ADDRESS from rtallocd, installs the policy rules\n"
		"that select it, prints the table and stays in the background until the\n"
		"address or the interface goes away (then removes the rules, releases the\n"
		"lease and exits).  A second run for the same address prints the same table.\n"
		"An address not (yet) on the interface is waited for (--address-wait): the\n"
		"table is printed at once, the rules follow the address; an address that\n"
		"never comes leaves no rules and no lease.  Without -4/-6, -a ID leases a\n"
		"table for ID (unspec: no rules; the caller uses the table) and keeps it\n"
		"until -r.\n"
		"  -4, -6             address family\n"
		"  -a, --address ADDRESS  the interface's address (or an ID without -4/-6)\n"
		"  -n, --netmask NETMASK  dotted netmask or prefix length (prefix length for\n"
		"                     -6, default 128 there; ignored without -4/-6)\n"
		"  -i, --ifname IFNAME    the interface\n"
		"  -d, --destination SOCKET  rtallocd's abstract socket name (default %s)\n"
		"  -t, --tag TAG      free text stored with the lease\n"
		"  -r, --release      release: stop the daemon for this address (or remove its\n"
		"                     rules and release the lease directly)\n"
		"  -f, --foreground   stay in the foreground\n"
		"  -s, --syslog       log to syslog and stderr\n"
		"  -l, --log_path LOGFILE  log to a file\n"
		"  -v                 info and debug messages\n"
		"  --pref-from N      pref of `from ADDRESS lookup T` (default %u)\n"
		"  --pref-to N        pref of `to NETWORK lookup T` (default %u)\n"
		"  --pref-iif N       pref of `iif lo lookup T` (default %u)\n"
		"  --fwmark MARK[/MASK]  also add `fwmark MARK/MASK lookup T`\n"
		"  --fwmark-pref N    its pref (default %u)\n"
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
		"  --address-wait S   how long an address not on the interface is waited\n"
		"                     for (default %d; 0: refuse it at once, exit 3)\n"
		"  --tables FIRST-LAST  the server's range: any other table (and 0, 253,\n"
		"                     254, 255, always) is refused, never printed or used\n"
		"  --list [--json]    list the server's leases\n"
		"  --status [--json]  compare the server's leases with the rules in the\n"
		"                     kernel and name every difference\n"
		"  -h, --help         this help\n"
		"  --version          the version\n"
		"Rules are marked `proto 122` (0x7a): rtalloc only ever touches those.\n"
		"Exit status: 0 table printed (leased, already running) or released;\n"
		"2 no lease (printed 0); 3 address not on the interface (printed 0);\n"
		"4 the kernel refused the rules (printed 0); 5 system error (printed 0);\n"
		"6 --status found differences; 7 no such interface (printed 0);\n"
		"64 invalid arguments.\n"
		"Run as %s (the 2017 client's name), every run that\n"
		"printed a table or 0 exits 0, and invalid arguments exit 1, as the\n"
		"original did.\n",
		PROTO_DEFAULT_SOCKET, KPREF_FROM, KPREF_TO, KPREF_IIF, KPREF_FWMARK, CLI_FORWARD_MAX, ROUTEARG_MAX, CLI_ADDRESS_WAIT_DEFAULT, CLI_COMPAT_NAME);
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

/* FIRST-LAST, both decimal, FIRST <= LAST, no table 0. */
static int tables_parse(const char *s, uint32_t *min, uint32_t *max)
{
	const char *dash = strchr(s, '-');
	char first[16];

	if (!dash || (size_t)(dash - s) >= sizeof(first))
		return -EINVAL;
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (uint_parse(first, 1, UINT32_MAX, min) < 0 || uint_parse(dash + 1, 1, UINT32_MAX, max) < 0 ||
	    *min > *max)
		return -EINVAL;
	return 0;
}

bool cli_table_ok(const struct cli_opts *o, uint32_t t)
{
	if (t == 0 || (t >= 253 && t <= 255))
		return false;
	return t >= o->table_min && t <= o->table_max;
}

const char *cli_key_str(const struct cli_opts *o, char *buf, size_t len)
{
	if (o->family == AF_UNSPEC) {
		snprintf(buf, len, "%s", o->id);
		return buf;
	}
	return addr_str(&o->addr, buf, len);
}

struct proto_request cli_lease_key(const struct cli_opts *o)
{
	struct proto_request key = { .family = (uint8_t)o->family };

	cli_key_str(o, key.address, sizeof(key.address));
	snprintf(key.ifname, sizeof(key.ifname), "%s", o->ifname);
	snprintf(key.tag, sizeof(key.tag), "%s", o->tag);
	return key;
}

/* The original leased a table for any text it was given without -4/-6.
 * Printable, no blanks: it names the lease in logs and --list; no '"' or
 * '\\', which rtallocd refuses in an identifier. */
static bool id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CLI_ID_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static const char *family_str(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* --forward-iif IF: a valid name, not lo (it has its rule), once each. */
static int forward_add(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	if (!ifname_valid(arg))
		return errbuf_fail(err, errlen, "--forward-iif: not a valid interface name: '%s'", arg);
	if (!strcmp(arg, "lo"))
		return errbuf_fail(err, errlen, "--forward-iif: lo always has its rule");
	for (size_t i = 0; i < o->n_forward; i++)
		if (!strcmp(o->forward_iif[i], arg))
			return errbuf_fail(err, errlen, "--forward-iif: '%s' given twice", arg);
	if (o->n_forward == CLI_FORWARD_MAX)
		return errbuf_fail(err, errlen, "--forward-iif: at most %d interfaces", CLI_FORWARD_MAX);
	snprintf(o->forward_iif[o->n_forward++], IFNAMSIZ, "%s", arg);
	return 0;
}

/* The 2017 flags' modes, by precedence: the first whose flag was given is
 * the run's (none: a lease).  An exclusive one takes no address, no
 * interface and no later mode's flag. */
struct mode_flag {
	size_t flag;			/* offsetof a bool of struct cli_opts */
	enum cli_mode mode;
	const char *exclusive;		/* its name, or NULL */
};

static const struct mode_flag mode_flags[] = {
	{ offsetof(struct cli_opts, status), CLI_MODE_STATUS, "--status" },
	{ offsetof(struct cli_opts, list), CLI_MODE_LIST, "--list" },
	{ offsetof(struct cli_opts, release), CLI_MODE_RELEASE, NULL },
};
#define MODE_FLAGS (sizeof(mode_flags) / sizeof(mode_flags[0]))

static bool mode_flag_set(const struct cli_opts *o, size_t i)
{
	return *(const bool *)((const char *)o + mode_flags[i].flag);
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
	o->pref_from = KPREF_FROM;
	o->pref_to = KPREF_TO;
	o->pref_iif = KPREF_IIF;
	o->fwmark_pref = KPREF_FWMARK;
	o->retries = 5;
	o->retry_interval = 2;
	o->address_wait = CLI_ADDRESS_WAIT_DEFAULT;
	o->table_min = 1;
	o->table_max = UINT32_MAX;
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
				return errbuf_fail(err, errlen, "-i: not a valid interface name: '%s'", arg);
			snprintf(o->ifname, sizeof(o->ifname), "%s", arg);
			break;
		case 'd':
			if (!*arg || strlen(arg) > CLI_SOCKET_MAX)
				return errbuf_fail(err, errlen, "-d: socket name must be 1..%zu bytes: '%s'",
					    CLI_SOCKET_MAX, arg);
			snprintf(o->socket, sizeof(o->socket), "%s", arg);
			break;
		case 't':
			if (strlen(arg) > PROTO_TAG_MAX)
				return errbuf_fail(err, errlen, "-t: tag longer than %d bytes", PROTO_TAG_MAX);
			for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					return errbuf_fail(err, errlen, "-t: tag contains a control character");
			snprintf(o->tag, sizeof(o->tag), "%s", arg);
			break;
		case 'r': o->release = true; break;
		case 'f': o->foreground = true; break;
		case 's': o->log = LOG_TO_SYSLOG_STDERR; break;
		case 'l':
			if (!*arg)
				return errbuf_fail(err, errlen, "-l: empty file name");
			o->log = LOG_TO_FILE;
			o->logfile = arg;
			break;
		case 'v': o->log_max = LOG_DEBUG; break;
		case 'h': o->help = true; return 0;
		case OPT_VERSION: o->version = true; return 0;
		case OPT_PREF_FROM:
		case OPT_PREF_TO:
		case OPT_PREF_IIF:
		case OPT_FWMARK_PREF:
			/* pref 0 is the kernel's `local` rule: never ours. */
			if (uint_parse(arg, 1, UINT32_MAX, &v) < 0)
				return errbuf_fail(err, errlen, "--%s: not a rule preference 1..4294967295: '%s'",
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
				return errbuf_fail(err, errlen, "--retries: not a number 1..1000: '%s'", arg);
			o->retries = v;
			break;
		case OPT_RETRY_INTERVAL:
			if (uint_parse(arg, 1, 3600, &v) < 0)
				return errbuf_fail(err, errlen, "--retry-interval: not a number of seconds 1..3600: '%s'", arg);
			o->retry_interval = v;
			break;
		case OPT_ADDRESS_WAIT:
			if (uint_parse(arg, 0, 3600, &v) < 0)
				return errbuf_fail(err, errlen, "--address-wait: not a number of seconds 0..3600: '%s'", arg);
			o->address_wait = v;
			break;
		case OPT_TABLES:
			if (tables_parse(arg, &o->table_min, &o->table_max) < 0)
				return errbuf_fail(err, errlen, "--tables: not FIRST-LAST with 1 <= FIRST <= LAST <= 4294967295: '%s'",
					    arg);
			break;
		case OPT_FWMARK: {
			const char *why = NULL;

			if (mark_mask_parse(arg, &o->fwmark, &o->fwmask, &why) < 0)
				return errbuf_fail(err, errlen, "--fwmark: %s: '%s'", why ? why : "invalid", arg);
			o->have_fwmark = true;
			break;
		}
		case OPT_FORWARD_IIF:
			if (forward_add(o, arg, err, errlen) < 0)
				return -EINVAL;
			break;
		case OPT_ROUTE:
			if (n_route_args == ROUTEARG_MAX)
				return errbuf_fail(err, errlen, "--route: at most %d routes", ROUTEARG_MAX);
			route_args[n_route_args++] = arg;
			break;
		case OPT_LIST: o->list = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_STATUS: o->status = true; break;
		default:	/* '?' or ':' */
			return cmdline_option_fail(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return errbuf_fail(err, errlen, "unexpected argument: '%s'", argv[optind]);
	o->mode = CLI_MODE_LEASE;
	for (size_t i = 0; i < MODE_FLAGS; i++) {
		bool later = false;

		if (!mode_flag_set(o, i))
			continue;
		o->mode = mode_flags[i].mode;
		if (!mode_flags[i].exclusive)
			break;
		for (size_t j = i + 1; j < MODE_FLAGS; j++)
			later = later || mode_flag_set(o, j);
		if (later || four || six || a_arg || n_arg || o->ifname[0])
			return errbuf_fail(err, errlen, "%s takes only -d, --json and logging options",
					   mode_flags[i].exclusive);
		return 0;
	}
	if (o->json)
		return errbuf_fail(err, errlen, "--json: only with --list or --status");
	if (four && six)
		return errbuf_fail(err, errlen, "-4 and -6: choose one");
	if (!a_arg)
		return errbuf_fail(err, errlen, "missing -a ADDRESS");
	if (!four && !six) {
		/* unspec: a table for an identifier; no address, no rules. */
		o->family = AF_UNSPEC;
		if (!id_valid(a_arg))
			return errbuf_fail(err, errlen, "-a: without -4/-6, an identifier of 1..%d printable characters, no blanks, quotes or backslashes",
				    CLI_ID_MAX);
		snprintf(o->id, sizeof(o->id), "%s", a_arg);
		if (!o->ifname[0])
			return errbuf_fail(err, errlen, "missing -i IFNAME");
		if (o->have_fwmark)
			return errbuf_fail(err, errlen, "--fwmark: no rules without -4/-6 (unspec lease)");
		if (o->n_forward)
			return errbuf_fail(err, errlen, "--forward-iif: no rules without -4/-6 (unspec lease)");
		if (n_route_args)
			return errbuf_fail(err, errlen, "--route: no routes without -4/-6 (unspec lease)");
		return 0;	/* -n, as the original, is not needed */
	}
	o->family = four ? AF_INET : AF_INET6;
	if (addr_parse(o->family, a_arg, &o->addr) < 0)
		return errbuf_fail(err, errlen, "-a: not an %s address: '%s'", family_str(o->family), a_arg);
	if (!o->ifname[0])
		return errbuf_fail(err, errlen, "missing -i IFNAME");
	for (size_t i = 0; i < n_route_args; i++)
		if (route_arg_parse(o->family, route_args[i], &o->routes[o->n_routes++], err, errlen) < 0)
			return -EINVAL;
	if (n_arg) {
		if (netmask_parse(o->family, n_arg, &o->prefixlen) < 0)
			return errbuf_fail(err, errlen, "-n: not an %s %s: '%s'", family_str(o->family),
				    o->family == AF_INET ? "netmask or prefix length" : "prefix length 0..128",
				    n_arg);
		/* `to 0.0.0.0/0 lookup T` would send all traffic through T. */
		if (o->prefixlen == 0)
			return errbuf_fail(err, errlen, "-n: a /0 network would route everything through the table: '%s'",
				    n_arg);
		o->have_prefix = true;
	} else if (o->family == AF_INET6 && !o->release) {
		/* The original needed no -n with -6: the address alone. */
		o->prefixlen = 128;
		o->have_prefix = true;
	} else if (!o->release) {
		return errbuf_fail(err, errlen, "missing -n NETMASK");
	}
	return 0;
}
