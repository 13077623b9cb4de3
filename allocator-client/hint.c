/* rtalloc hint IFACE ...: tells rtalloc-agent what the kernel cannot know of
 * an uplink (rtalloc(8)): the hooks' one call, usable from any tool's own
 * scripts (a pppd ip-up, a WireGuard PostUp).  The hint is a file in the
 * agent's runtime directory (agenthint.c); the agent watches it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"
#include "agenthint.h"
#include "cli.h"
#include "hint.h"
#include "log.h"
#include "proto.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc hint IFACE [-4 | -6] [--gateway ADDR]... [--route DEST[/LEN][,via GW]]...\n"
		"                    [--dns ADDR]... [--primary | --out-of-main]\n"
		"                    [--fwmark MARK[/MASK]] [--forward-iif IF]... [--down]\n"
		"                    [-d SOCKET]\n"
		"       rtalloc hint --check [-d SOCKET]\n"
		"  -4, -6          the hint is of that family only: it replaces (with\n"
		"                  --down: removes) that family's part of the uplink's\n"
		"                  hint, the other family's stays (dhclient -4 and -6)\n"
		"  --gateway ADDR  the uplink's router where the tool keeps it out of main\n"
		"                  (never-default), the first preferred; 0.0.0.0 and ::\n"
		"                  are ignored\n"
		"  --route R       a route of the uplink kept out of main (DHCP classless)\n"
		"  --dns ADDR      a DNS server of the uplink (the agent's servers-file)\n"
		"  --primary       the uplink is the primary one: its routes stay in main\n"
		"                  (never taken out, whatever a -4 or -6 hint asked)\n"
		"  --out-of-main   the agent takes the uplink's default routes and IPv4\n"
		"                  prefix routes (IPv6: of static addresses) out of main\n"
		"                  into its tables (back into main without it, with\n"
		"                  --primary or --down, and when the agent stops)\n"
		"  --fwmark M[/K]  packets marked M (under mask K) also take the uplink's\n"
		"                  table (`fwmark M/K lookup TABLE`, the agent's fwmark pref)\n"
		"  --forward-iif IF  traffic forwarded from IF takes the uplinks' tables\n"
		"                  (`iif IF lookup TABLE`, as agent.json's forward_from)\n"
		"  --down          the uplink went down or was released: its hint goes\n"
		"  --check         exit 0 if an rtalloc-agent takes hints, 2 if not\n"
		"  -d SOCKET       rtallocd's socket the agent serves (%s)\n"
		"It waits (up to %d s) until the agent has acted on it.  Without a running\n"
		"rtalloc-agent, one line is logged and nothing changes.\n",
		PROTO_DEFAULT_SOCKET, HINT_WAIT_MS / 1000);
}

static bool later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Waits (<= HINT_WAIT_MS) until the agent stamped HINT_APPLIED later than
 * `written`, taken just before the hint was put in place (after, the agent
 * may already have acted): it read it and its pass ran, so what the caller
 * asserts next (a table's routes, the servers-file) is already so. */
static bool wait_applied(const char *dir, const struct timespec *written)
{
	char path[320];
	struct timespec start, now;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &start);
	snprintf(path, sizeof(path), "%s/%s", dir, HINT_APPLIED);
	for (;;) {
		if (stat(path, &st) == 0 && later(&st.st_mtim, written))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= HINT_WAIT_MS)
			return false;
		usleep(20 * 1000);
	}
}

/* Only a root agent's name counts (the kernel's word). */
static bool agent_serves(const char *sock)
{
	struct ucred cred = { 0 };

	return owner_agent_cred(sock, &cred) == 0 && cred.uid == 0;
}

/* --check: whether a hint would be taken, in one line; 0 or 2, as the
 * hooks test it before giving up on an uplink. */
static int check_agent(const char *sock)
{
	if (!agent_serves(sock)) {
		log_msg(LOG_WARNING, "no rtalloc-agent serves rtallocd @%s here: hints are not taken", sock);
		return EXIT_NO_LEASE;
	}
	printf("rtalloc-agent serves rtallocd @%s: hints are taken\n", sock);
	return EXIT_LEASED;
}

/* A per-family hint (-4, -6): merged into the uplink's file under a lock
 * of the directory, since dhclient -4 and -6 may run at once. */
static int family_update(const char *dir, const struct hint *h, bool down)
{
	struct hint old;
	int dfd, ret;

	ret = down ? 0 : hint_dir_make(dir);
	if (ret < 0)
		return ret;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (flock(dfd, LOCK_EX) < 0) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	ret = hint_read(dir, h->ifname, &old);
	if (ret == -EINVAL || (ret == -ENOENT && !down)) {
		/* Nothing there, or what cannot be read: h's part alone. */
		memset(&old, 0, sizeof(old));
		snprintf(old.ifname, sizeof(old.ifname), "%s", h->ifname);
		old.families = h->families;
		ret = 0;
	}
	if (ret == 0)
		ret = hint_merge(&old, h, down) ? hint_write(dir, &old) : hint_remove(dir, h->ifname);
	close(dfd);	/* and the lock */
	return ret;
}

int hint_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "route", required_argument, NULL, 'r' },
		{ "dns", required_argument, NULL, 'n' },
		{ "primary", no_argument, NULL, 'p' },
		{ "fwmark", required_argument, NULL, 'm' },
		{ "forward-iif", required_argument, NULL, 'f' },
		{ "out-of-main", no_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'c' },
		{ "down", no_argument, NULL, 'x' },
		{ "socket", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = PROTO_DEFAULT_SOCKET;
	struct hint h;
	struct timespec written;
	char dir[256], err[200] = "";
	bool down = false, check = false;
	int opt, ret;

	memset(&h, 0, sizeof(h));
	log_open("rtalloc", LOG_TO_STDERR, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "46d:h", opts, NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 'g':
			/* What tools write for "no gateway" is not one. */
			if (strcmp(optarg, "0.0.0.0") && strcmp(optarg, "::") && *optarg)
				ret = hint_add_gateway(&h, optarg, err, sizeof(err));
			break;
		case 'r':
			ret = hint_add_route(&h, optarg, err, sizeof(err));
			break;
		case 'n':
			ret = hint_add_dns(&h, optarg, err, sizeof(err));
			break;
		case 'p':
			h.primary = true;
			break;
		case 'm':
			ret = hint_set_fwmark(&h, optarg, err, sizeof(err));
			break;
		case 'f':
			ret = hint_add_forward(&h, optarg, err, sizeof(err));
			break;
		case 'o':
			h.out_of_main = HINT_FAM_ALL;
			break;
		case 'c':
			check = true;
			break;
		case 'x':
			down = true;
			break;
		case 'd':
			sock = optarg;
			break;
		case '4':
			h.families |= HINT_FAM_4;
			break;
		case '6':
			h.families |= HINT_FAM_6;
			break;
		case 'h':
			usage(stdout);
			return EXIT_LEASED;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
		if (ret < 0) {
			fprintf(stderr, "rtalloc hint: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (h.primary && h.out_of_main) {
		fprintf(stderr, "rtalloc hint: --primary keeps the default route in main, --out-of-main takes it out: one of them\n");
		return EXIT_USAGE;
	}
	if (h.families == HINT_FAM_ALL) {
		fprintf(stderr, "rtalloc hint: -4 or -6, not both (neither: the whole uplink)\n");
		return EXIT_USAGE;
	}
	if (check) {
		if (optind != argc) {
			fprintf(stderr, "rtalloc hint: --check takes no interface\n");
			return EXIT_USAGE;
		}
		return check_agent(sock);
	}
	if (optind != argc - 1) {
		fprintf(stderr, "rtalloc hint: %s\n", optind < argc ? "one interface only" : "IFACE is required");
		return EXIT_USAGE;
	}
	if (!ifname_valid(argv[optind])) {
		fprintf(stderr, "rtalloc hint: not an interface name: `%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	snprintf(h.ifname, sizeof(h.ifname), "%s", argv[optind]);
	if (hint_dir(sock, dir, sizeof(dir)) < 0) {
		fprintf(stderr, "rtalloc hint: -d: socket name too long\n");
		return EXIT_USAGE;
	}
	if (!agent_serves(sock)) {
		log_msg(LOG_WARNING, "hint for %s not given: no rtalloc-agent serves rtallocd @%s here",
			h.ifname, sock);
		return EXIT_LEASED;
	}
	clock_gettime(CLOCK_REALTIME, &written);
	if (h.families)
		ret = family_update(dir, &h, down);
	else
		ret = down ? hint_remove(dir, h.ifname) : hint_write(dir, &h);
	if (ret == -ENOENT && down)
		return EXIT_LEASED;	/* nothing was there: nothing to wait for */
	if (ret < 0) {
		log_msg(LOG_ERR, "hint for %s: %s: %s", h.ifname, dir, strerror(-ret));
		return EXIT_SYSTEM;
	}
	if (!wait_applied(dir, &written))
		log_msg(LOG_WARNING, "hint for %s given; rtalloc-agent has not acted on it within %d s",
			h.ifname, HINT_WAIT_MS / 1000);
	return EXIT_LEASED;
}
