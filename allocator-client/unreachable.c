/* rtalloc unreachable add|del --fwmark MARK[/MASK] --pref PREF: the rule
 * `pref PREF fwmark MARK/MASK unreachable` in IPv4 and IPv6, for a program
 * whose marked sockets must fail rather than fall through to main when the
 * table its mark looks up (an earlier `fwmark MARK lookup T`) has no route:
 * rtalloc-wan-dnsmasq's resolver.  Its lifetime is that program's (from
 * before any hook ran, while rtalloc-agent is stopped), so no daemon of
 * rtalloc's owns it and it is not protocol 122: the agent, the engine,
 * rtallocd's lost-state check and rtalloc-track count or clean up protocol
 * 122 rules (and a user's --fwmark-pref may be this pref), and this one
 * must outlive them.  It is made as `ip rule add` makes it (no protocol),
 * so a rule added by an older rtalloc-wan-dnsmasq is removed the same way. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "cmdline.h"
#include "errbuf.h"
#include "kmsg.h"
#include "log.h"
#include "mark.h"
#include "nl.h"
#include "unreachable.h"

/* More copies than this of one rule are not the kernel's (it refuses an
 * equal rule on add): stop deleting rather than loop. */
#define DEL_MAX 64

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc unreachable add|del --fwmark MARK[/MASK] --pref PREF\n"
		"  add             remove every `pref PREF fwmark MARK/MASK unreachable'\n"
		"                  rule, then add one, in IPv4 and IPv6: marked packets\n"
		"                  that no earlier rule routed fail instead of taking main\n"
		"  del             remove every such rule\n"
		"  --fwmark M[/K]  the mark (decimal or 0x-hex; the mask defaults to\n"
		"                  0xffffffff); never 0, which unmarked packets carry\n"
		"  --pref PREF     the rule's preference, 1..%u (before main)\n"
		"IPv4 must work (else exit 4); IPv6 failing (disabled) is one warning.\n",
		UNREACHABLE_PREF_MAX);
}

/* A decimal 1..UNREACHABLE_PREF_MAX without a leading zero (iproute2
 * reads one as octal). */
static bool pref_parse(const char *s, uint32_t *pref)
{
	uint32_t v = 0;

	if (s[0] < '1' || s[0] > '9')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 5)
			return false;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	if (v > UNREACHABLE_PREF_MAX)
		return false;
	*pref = v;
	return true;
}

int unreachable_parse(int argc, char **argv, struct unreachable_req *r, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "fwmark", required_argument, NULL, 'm' },
		{ "pref", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool mark = false, pref = false;
	const char *why, *action;
	int c;

	memset(r, 0, sizeof(*r));
	optind = 0;	/* glibc: begin afresh (a test parses many times) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (mark_mask_parse(optarg, &r->fwmark, &r->fwmask, &why) < 0)
				return errbuf_fail(err, errlen, "--fwmark: `%s': %s (want MARK[/MASK], decimal or 0x-hex)",
						   optarg, why);
			if (r->fwmark == 0)
				return errbuf_fail(err, errlen, "--fwmark: `%s': mark 0 matches unmarked packets: "
						   "they would all be unreachable", optarg);
			mark = true;
			break;
		case 'p':
			if (!pref_parse(optarg, &r->pref))
				return errbuf_fail(err, errlen, "--pref: must be 1..%u (before main), got `%s'",
						   UNREACHABLE_PREF_MAX, optarg);
			pref = true;
			break;
		case 'h':
			return 1;
		default:	/* '?' or ':' */
			return cmdline_option_fail(c, argv, err, errlen);
		}
	}
	if (optind >= argc)
		return errbuf_fail(err, errlen, "add or del is required");
	action = argv[optind];
	if (!strcmp(action, "add"))
		r->add = true;
	else if (strcmp(action, "del"))
		return errbuf_fail(err, errlen, "`%s': want add or del", action);
	if (optind + 1 < argc)
		return errbuf_fail(err, errlen, "one action only, got `%s' after `%s'", argv[optind + 1], action);
	if (!mark)
		return errbuf_fail(err, errlen, "--fwmark MARK is required");
	if (!pref)
		return errbuf_fail(err, errlen, "--pref PREF is required");
	return 0;
}

/* One change of k: 0 or the kernel's -errno; *sys set when the exchange
 * itself failed (its -errno returned). */
static int send_one(struct nl *nl, const struct krule *k, bool add, bool *sys)
{
	const struct krule *one[1] = { k };
	int err = 0, ret;

	ret = krules_send(nl, one, 1, add, &err);
	if (ret < 0) {
		*sys = true;
		return ret;
	}
	return err;
}

/* Every copy of k goes (a crashed run's, an older script's), then, for
 * add, k is added: 0 or -errno (*sys as send_one).  A family the kernel
 * lacks (IPv6 disabled) has nothing to delete. */
static int apply(struct nl *nl, const struct krule *k, bool add, bool *sys)
{
	int ret;

	for (int i = 0; i < DEL_MAX; i++) {
		ret = send_one(nl, k, false, sys);
		if (ret == -ENOENT || ret == -EAFNOSUPPORT)
			break;
		if (ret < 0)
			return ret;
	}
	if (!add)
		return 0;
	ret = send_one(nl, k, true, sys);
	return ret == -EEXIST ? 0 : ret;
}

int unreachable_main(int argc, char **argv)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct unreachable_req r;
	struct nl nl;
	char err[256], s[160];
	int ret, status = EXIT_LEASED;

	ret = unreachable_parse(argc, argv, &r, err, sizeof(err));
	if (ret > 0) {
		usage(stdout);
		return EXIT_LEASED;
	}
	if (ret < 0) {
		fprintf(stderr, "rtalloc unreachable: %s\n", err);
		return EXIT_USAGE;
	}
	log_open("rtalloc", LOG_TO_STDERR, NULL);
	ret = nl_open(&nl, NULL, 0);
	if (ret < 0) {
		log_msg(LOG_ERR, "unreachable: netlink: %s", strerror(-ret));
		log_close();
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct krule k = {
			.family = (uint8_t)families[i],
			.pref = r.pref,
			.unreachable = true,
			.has_fwmark = true,
			.fwmark = r.fwmark,
			.fwmask = r.fwmask,
		};
		bool sys = false;

		ret = apply(&nl, &k, r.add, &sys);
		if (!ret)
			continue;
		krule_str(&k, s, sizeof(s));
		if (sys) {
			log_msg(LOG_ERR, "unreachable: netlink: %s", strerror(-ret));
			status = EXIT_SYSTEM;
			break;
		}
		if (k.family == AF_INET) {
			log_msg(LOG_ERR, "unreachable: the kernel refused to %s the IPv4 rule %s: %s",
				r.add ? "add" : "remove", s, strerror(-ret));
			status = EXIT_KERNEL;
			break;
		}
		if (r.add)
			log_msg(LOG_WARNING, "unreachable: no IPv6 rule %s: %s (IPv6 disabled?)", s, strerror(-ret));
		else
			log_msg(LOG_WARNING, "unreachable: IPv6 rule %s not removed: %s", s, strerror(-ret));
	}
	nl_close(&nl);
	log_close();
	return status;
}
