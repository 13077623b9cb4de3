/* rtallocd: leases routing-table numbers to rtalloc clients over an abstract
 * unix datagram socket.  Always in the foreground (systemd Type=notify). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "server.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtallocd [-c FILE] [-v] [-f] [--check] [-h] [--version]\n"
		"  -c, --config FILE  JSON configuration (default: built-in, see docs/protocol.md)\n"
		"  -v, --verbose      log debug messages (and info lines on a terminal)\n"
		"  -f, --foreground   stay in the foreground (accepted; rtallocd always does)\n"
		"  --check            check the configuration (unknown keys fail), then exit\n"
		"  -h, --help         this help\n"
		"  --version          the version\n"
		"SIGHUP reloads the configuration: allowed_uids, allowed_gids, read_uids,\n"
		"read_gids, table_timeout and logging; other keys need a restart.\n"
		"Exit status: 0 stopped by a signal or --check passed; 1 bad configuration\n"
		"or the server failed; 64 bad usage.\n");
}

/* The 2017 server's installed name: its exit status for bad usage stays. */
#define COMPAT_NAME "table_allocator_server"

/* The signal handle lives in its owner, which knows the loop to stop. */
struct signal_owner {
	struct loop_signal sig;
	struct loop *loop;
	struct config *cfg;	/* the server's, changed in place by reload() */
	const char *path;	/* -c, or NULL */
	bool verbose;
};

static int log_setup(const struct config *cfg, bool verbose)
{
	int ret = 0;

	if (cfg->log_path[0])
		ret = log_open("rtallocd", LOG_TO_FILE, cfg->log_path);
	else
		log_open("rtallocd", cfg->do_syslog ? LOG_TO_SYSLOG : LOG_TO_STDERR, NULL);
	log_set_verbose(verbose);
	return ret;
}

/* SIGHUP: what the server reads on every request changes now; the rest
 * (sockets, the database, the tables) is said to need a restart.  A bad
 * file keeps the running configuration. */
static void reload(struct signal_owner *so)
{
	static struct config next;
	struct config *cur = so->cfg;
	char err[512];
	int ret;

	if (!so->path) {
		log_msg(LOG_NOTICE, "SIGHUP: no -c FILE, nothing to reload; log file reopened");
		log_reopen();
		return;
	}
	config_defaults(&next);
	if (config_load(&next, so->path, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "reload: %s; keeping the running configuration", err);
		return;
	}
	if (strcmp(next.socket_path, cur->socket_path) || strcmp(next.socket_file, cur->socket_file) ||
	    next.socket_file_set != cur->socket_file_set || next.table_offset != cur->table_offset ||
	    next.num_tables != cur->num_tables || strcmp(next.db_path, cur->db_path) ||
	    next.af_inet != cur->af_inet || next.af_inet6 != cur->af_inet6 ||
	    next.af_unspec != cur->af_unspec || next.grace_seconds != cur->grace_seconds)
		log_msg(LOG_WARNING, "reload: socket_path, socket_file, table_offset, num_tables, db_path, "
			"addr_families and grace_seconds take effect at the next restart");
	memcpy(cur->allowed_uids, next.allowed_uids, sizeof(cur->allowed_uids));
	cur->n_uids = next.n_uids;
	memcpy(cur->allowed_gids, next.allowed_gids, sizeof(cur->allowed_gids));
	cur->n_gids = next.n_gids;
	memcpy(cur->read_uids, next.read_uids, sizeof(cur->read_uids));
	cur->n_read_uids = next.n_read_uids;
	memcpy(cur->read_gids, next.read_gids, sizeof(cur->read_gids));
	cur->n_read_gids = next.n_read_gids;
	cur->table_timeout = next.table_timeout;
	memcpy(cur->log_path, next.log_path, sizeof(cur->log_path));
	cur->do_syslog = next.do_syslog;
	ret = log_setup(cur, so->verbose);
	if (ret < 0)
		log_msg(LOG_ERR, "log_path: cannot open %s: %s", cur->log_path, strerror(-ret));
	log_msg(LOG_NOTICE, "reloaded %s", so->path);
}

static void on_signal(struct loop_signal *sig, int signo)
{
	struct signal_owner *so = container_of(sig, struct signal_owner, sig);

	if (signo == SIGHUP) {
		reload(so);
		return;
	}
	log_msg(LOG_INFO, "signal %d: shutting down", signo);
	loop_quit(so->loop);
}

/* --check: the file as the server would read it, and stricter: an unknown
 * key (a typo the server would only warn about) fails. */
static int check(const struct config *cfg, const char *path)
{
	if (cfg->n_unknown) {
		fprintf(stderr, "rtallocd: %s: %u unknown key%s (named above)\n", path ? path : "-",
			cfg->n_unknown, cfg->n_unknown == 1 ? "" : "s");
		return 1;
	}
	printf("%s: ok\n", path ? path : "built-in configuration");
	return 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct server srv;
	struct loop loop = { .epfd = -1 };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct signal_owner so = { .sig.h.fd = -1, .loop = &loop, .cfg = &cfg };
	const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	const char *conf = NULL;
	char err[512];
	bool verbose = false, started = false, do_check = false;
	bool compat = !strcmp(cmdline_self(argc > 0 ? argv[0] : NULL), COMPAT_NAME);
	int opt, ret, rc = 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:vfh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'f':
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return cmdline_version("rtallocd");
		case 'C':
			do_check = true;
			break;
		default:
			if (compat) {	/* as the 2017 server: getopt's words, 2 */
				fprintf(stderr, "%s: invalid option\n", COMPAT_NAME);
				usage(stderr);
				return 2;
			}
			return cmdline_bad_option("rtallocd", opt, argv);
		}
	}
	if (optind < argc) {
		if (compat) {
			fprintf(stderr, "%s: unexpected argument `%s'\n", COMPAT_NAME, argv[optind]);
			usage(stderr);
			return 2;
		}
		return cmdline_usage_error("rtallocd", "unexpected argument: '%s'", argv[optind]);
	}
	log_open("rtallocd", LOG_TO_STDERR, NULL);
	config_defaults(&cfg);
	if (conf && config_load(&cfg, conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	if (do_check)
		return check(&cfg, conf);
	so.path = conf;
	so.verbose = verbose;
	ret = log_setup(&cfg, verbose);
	if (ret < 0) {
		log_msg(LOG_ERR, "log_path: cannot open %s: %s", cfg.log_path, strerror(-ret));
		return 1;
	}

	ret = loop_init(&loop);
	if (ret < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(-ret));
		goto cleanup;
	}
	ret = loop_signal_init(&loop, &so.sig, signals, 3, on_signal);
	if (ret < 0) {
		log_msg(LOG_ERR, "signalfd: %s", strerror(-ret));
		goto cleanup;
	}
	started = true;
	ret = server_init(&srv, &loop, &cfg, err, sizeof(err));
	if (ret < 0) {
		log_msg(LOG_ERR, "%s", err);
		goto cleanup;
	}
	ret = loop_run(&loop);
	if (ret < 0) {
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (started)
		server_free(&srv);
	loop_signal_free(&loop, &so.sig);
	loop_free(&loop);
	log_close();
	return rc;
}
