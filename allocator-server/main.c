/* rtallocd: leases routing-table numbers to rtalloc clients over an abstract
 * unix datagram socket.  Always in the foreground (systemd Type=notify). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "server.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtallocd [-c FILE] [-v] [-f] [-h]\n"
		"  -c FILE  JSON configuration (default: built-in, see docs/protocol.md)\n"
		"  -v       log debug messages\n"
		"  -f       stay in the foreground (accepted; rtallocd always does)\n"
		"  -h       this help\n");
}

/* The signal handle lives in its owner, which knows the loop to stop. */
struct signal_owner {
	struct loop_signal sig;
	struct loop *loop;
};

static void on_signal(struct loop_signal *sig, int signo)
{
	struct signal_owner *so = container_of(sig, struct signal_owner, sig);

	log_msg(LOG_INFO, "signal %d: shutting down", signo);
	loop_quit(so->loop);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct server srv;
	struct loop loop = { .epfd = -1 };
	struct signal_owner so = { .sig.h.fd = -1, .loop = &loop };
	const int signals[] = { SIGTERM, SIGINT };
	const char *conf = NULL;
	char err[512];
	bool verbose = false, started = false;
	int opt, ret, rc = 1;

	while ((opt = getopt(argc, argv, "c:vfh")) != -1) {
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rtallocd: unexpected argument `%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_open("rtallocd", LOG_TO_STDERR, NULL);
	config_defaults(&cfg);
	if (conf && config_load(&cfg, conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	if (cfg.log_path[0]) {
		ret = log_open("rtallocd", LOG_TO_FILE, cfg.log_path);
		if (ret < 0) {
			log_msg(LOG_ERR, "log_path: cannot open %s: %s", cfg.log_path, strerror(-ret));
			return 1;
		}
	} else if (cfg.do_syslog) {
		log_open("rtallocd", LOG_TO_SYSLOG, NULL);
	}
	log_set_max(verbose ? LOG_DEBUG : LOG_INFO);

	ret = loop_init(&loop);
	if (ret < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(-ret));
		goto cleanup;
	}
	ret = loop_signal_init(&loop, &so.sig, signals, 2, on_signal);
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
