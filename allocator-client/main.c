/* rtalloc: leases a routing table for an address from rtallocd and owns the
 * policy rules that select it (see `rtalloc -h`).  A drop-in for the MONROE
 * table_allocator client.
 *
 * Exit status (hooks depend on it; also in `rtalloc -h`, enum rtalloc_exit):
 *   0  table printed: leased now, or by the daemon already running for the
 *      address; with -r, released; --list printed
 *   64 invalid arguments (EX_USAGE): one line on stderr, nothing installed
 *   2  no lease from the server (printed 0: use the main table)
 *   3  the address is not on the interface (printed 0)
 *   4  the kernel refused the rules (printed 0, lease released)
 *   5  a system call failed (printed 0)
 *   6  --status: the leases and the rules differ
 *   7  no such interface (printed 0)
 * Run as table_allocator_client (the 2017 client's installed name), 2..5
 * and 7 become 0: the original exited 0 after printing 0, and its scripts
 * rely on the printed number alone; invalid arguments exit 1 as there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentstatus.h"
#include "cli.h"
#include "cmdline.h"
#include "daemon.h"
#include "exec.h"
#include "health.h"
#include "hint.h"
#include "lease.h"
#include "log.h"
#include "owner.h"
#include "show.h"
#include "status.h"
#include "unreachable.h"

static void print_json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* The mark pool and its leases, below the tables: `rtalloc --list`. */
static void print_marks(const struct lease_client *lc, const struct proto_lease *leases, size_t n)
{
	printf("marks under mark_mask 0x%08x: %u leased, %u free\n", lc->mark_mask, lc->marks_used,
	       lc->marks_free);
	if (!lc->marks_used)
		return;
	printf("%-10s %-15s %-29s %8s  %s\n", "mark", "interface", "holder", "seconds", "tag");
	for (size_t i = 0; i < n; i++)
		if (leases[i].mark)
			printf("0x%08x %-15s %-29s %8u  %s\n", leases[i].table, leases[i].ifname,
			       leases[i].address, leases[i].seconds_left, leases[i].tag);
}

static int list(const struct cli_opts *o)
{
	struct lease_client lc;
	struct proto_lease *leases = NULL;
	size_t n = 0, agent = 0;
	char err[256];
	int ret;

	ret = lease_open(&lc, o->socket);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --list: %s\n", strerror(-ret));
		return EXIT_SYSTEM;
	}
	lc.want_marks = true;
	ret = lease_list(&lc, o->retry_interval * 1000, &leases, &n, err, sizeof(err));
	lease_close(&lc);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: --list: %s\n", err[0] ? err : strerror(-ret));
		return EXIT_NO_LEASE;
	}
	/* Never show a table that cannot be a lease (0, the kernel's
	 * 253..255, outside --tables): someone else answered. */
	for (size_t i = 0; i < n;) {
		if (leases[i].mark ? lc.mark_mask && (leases[i].table & ~lc.mark_mask) == 0 && leases[i].table
				   : cli_table_ok(o, leases[i].table)) {
			i++;
			continue;
		}
		log_msg(LOG_WARNING, "--list: dropped an entry with %s %u, which is never leased",
			leases[i].mark ? "mark" : "table", leases[i].table);
		memmove(&leases[i], &leases[i + 1], (n - i - 1) * sizeof(*leases));
		n--;
	}
	if (o->json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			const struct proto_lease *l = &leases[i];

			printf("%s{\"family\":%s,\"ifname\":", i ? "," : "",
			       l->mark ? "\"mark\"" : l->family == AF_INET ? "\"inet\"" : "\"inet6\"");
			print_json_str(l->ifname);
			printf(",\"address\":");
			print_json_str(l->address);
			if (l->mark)
				printf(",\"mark\":%u,\"mark_mask\":%u,\"marks_used\":%u,\"marks_free\":%u",
				       l->table, lc.mark_mask, lc.marks_used, lc.marks_free);
			else
				printf(",\"table\":%u", l->table);
			printf(",\"seconds_left\":%u,\"tag\":", l->seconds_left);
			print_json_str(l->tag);
			if (!l->mark)
				health_lease_json(stdout, l->ifname, l->address);
			printf("}");
		}
		printf("]\n");
	} else {
		printf("%-6s %-15s %-39s %8s %8s  %s\n", "family", "interface", "address", "table",
		       "seconds", "tag");
		for (size_t i = 0; i < n; i++) {
			const struct proto_lease *l = &leases[i];

			if (l->mark)
				continue;
			printf("%-6s %-15s %-39s %8u %8u  %s\n", l->family == AF_INET ? "inet" : "inet6",
			       l->ifname, l->address, l->table, l->seconds_left, l->tag);
			agent += !strcmp(l->tag, AGENT_TAG);
		}
		if (agent)
			printf("%zu of them: uplinks of rtalloc-agent (tag %s)\n", agent, AGENT_TAG);
		if (lc.mark_mask)
			print_marks(&lc, leases, n);
		health_print(stdout);
	}
	free(leases);
	return EXIT_LEASED;
}

/* The first holder keeps an address: when an rtalloc-agent serving this
 * rtallocd runs here (root holds @rtalloc-agent/SOCKET, by the kernel's
 * word) and holds a live lease for o's address, the hook path leaves the
 * address to it. */
static bool agent_holds(const struct cli_opts *o)
{
	struct ucred cred = { 0 };
	struct lease_client lc;
	struct proto_lease *l = NULL;
	char err[256], a[INET6_ADDRSTRLEN];
	size_t n = 0;
	bool held = false;

	if (o->family == AF_UNSPEC)
		return false;	/* the agent leases addresses, never identifiers */
	if (owner_agent_cred(o->socket, &cred) < 0 || cred.uid != 0)
		return false;	/* no agent: the usual case costs this */
	if (lease_open(&lc, o->socket) < 0)
		return false;
	if (lease_list(&lc, o->retry_interval * 1000, &l, &n, err, sizeof(err)) == 0) {
		addr_str(&o->addr, a, sizeof(a));
		for (size_t i = 0; i < n && !held; i++)
			held = l[i].family == o->family && !strcmp(l[i].address, a) &&
			       !strcmp(l[i].ifname, o->ifname) && !strcmp(l[i].tag, AGENT_TAG) &&
			       l[i].seconds_left > 0;
	}
	lease_close(&lc);
	free(l);
	if (held)
		log_msg(LOG_WARNING, "%s on %s is held by rtalloc-agent (its agent.json manages %s): "
			"left to it, printing 0", a, o->ifname, o->ifname);
	return held;
}

/* ---- the 2017 command line's modes ---- */

static int mode_lease(const struct cli_opts *o)
{
	if (agent_holds(o)) {
		printf("0\n");
		return EXIT_NO_LEASE;
	}
	return daemon_main(o);
}

static int mode_status(const struct cli_opts *o)
{
	status_set_check(agentstatus_routes);	/* the agent's uplinks' routes */
	return status_run(o);
}

/* What a run of the 2017 flags does: one mode (cli_parse picks it from
 * its table of flags), each with its own main. */
struct mode_def {
	int (*run)(const struct cli_opts *o);
	/* It may become the address's daemon, which outlives its caller: it
	 * must not hold the caller's other descriptors (a hook's pipes, a
	 * lock file) for its whole life (unless -f). */
	bool detaches;
	/* As table_allocator_client, its failures exit 0 as the original's
	 * did (compat_status); --list and --status are ours alone. */
	bool compat_exit;
};

static const struct mode_def modes[] = {
	[CLI_MODE_LEASE] = { mode_lease, true, true },
	[CLI_MODE_RELEASE] = { daemon_release, false, true },
	[CLI_MODE_LIST] = { list, false, false },
	[CLI_MODE_STATUS] = { mode_status, false, false },
};

/* Subcommands that speak of uplinks by name (`rtalloc show`, `rtalloc
 * exec`, `rtalloc hint`) or of one rule (`rtalloc unreachable`): argv[1]
 * names one, and its main takes the rest.  Anything else is the 2017
 * command line (flags only), parsed by cli_parse. */
struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand's name */
};

static const struct subcommand subcommands[] = {
	{ "hint", hint_main },
	{ "show", show_main },
	{ "exec", exec_main },
	{ "unreachable", unreachable_main },
	{ NULL, NULL },
};

static const struct subcommand *subcommand_find(int argc, char **argv)
{
	if (argc < 2 || !argv[1])
		return NULL;
	for (const struct subcommand *c = subcommands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c;
	return NULL;
}

/* The 2017 client's exit status: 0 whenever a number was printed. */
static int compat_status(int status)
{
	switch (status) {
	case EXIT_NO_LEASE:
	case EXIT_NO_ADDRESS:
	case EXIT_KERNEL:
	case EXIT_SYSTEM:
	case EXIT_NO_INTERFACE:
		return EXIT_LEASED;
	case EXIT_USAGE:
		return EXIT_USAGE_COMPAT;
	default:
		return status;
	}
}

int main(int argc, char **argv)
{
	const struct mode_def *m;
	struct cli_opts o;
	char err[256];
	const char *self = argc > 0 && argv[0] ? argv[0] : "rtalloc";
	bool compat;
	int ret;

	if (strrchr(self, '/'))
		self = strrchr(self, '/') + 1;
	compat = !strcmp(self, CLI_COMPAT_NAME);
	if (!compat) {
		const struct subcommand *c = subcommand_find(argc, argv);

		if (c)
			return c->run(argc - 1, argv + 1);
	}

	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtalloc: %s\n", err);
		return compat ? EXIT_USAGE_COMPAT : EXIT_USAGE;
	}
	if (o.help) {
		cli_usage(stdout);
		/* The table's names, so `rtalloc --help` (and the completion
		 * reading it) knows every subcommand. */
		if (subcommands[0].name) {
			printf("Subcommands (rtalloc SUBCOMMAND --help):");
			for (const struct subcommand *c = subcommands; c->name; c++)
				printf(" %s", c->name);
			printf("\n");
		}
		return EXIT_LEASED;
	}
	if (o.version)
		return cmdline_version("rtalloc");
	m = &modes[o.mode];
	if (m->detaches && !o.foreground)
		close_range(3, ~0U, 0);
	ret = log_open("rtalloc", o.log, o.logfile);
	if (ret < 0) {
		fprintf(stderr, "rtalloc: -l: cannot open '%s': %s\n", o.logfile, strerror(-ret));
		return compat ? EXIT_USAGE_COMPAT : EXIT_USAGE;
	}
	log_set_verbose(o.log_max == LOG_DEBUG);
	ret = m->run(&o);
	log_close();
	if (compat && m->compat_exit)
		ret = compat_status(ret);
	return ret;
}
