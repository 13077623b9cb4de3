/* exec: `rtalloc exec [--strict] UPLINK -- COMMAND [ARG...]`: COMMAND and
 * every process it starts send their traffic (IPv4 and IPv6) out of UPLINK.
 *
 * rtalloc asks rtalloc-agent on its control socket (agent/control.h): the
 * agent, root, marks every inet socket of this process and its children in
 * the kernel (a cgroup with packetmark's BPF program) and keeps the rules
 * that send that mark through UPLINK's tables while COMMAND runs.  When
 * the agent follows this process by its pid (it answers "detach": the
 * cgroup is its own), rtalloc hangs up and becomes COMMAND (exec in
 * place: no fork, no parent waiting).  Else (the agent's cgroup helper
 * waits for the hang-up, or an agent that knows no "detach") rtalloc stays
 * COMMAND's parent holding the connection, passes it its signals and exits
 * with its status.
 *
 * Exit status like env(1): 125 rtalloc's own failure (no agent, refused),
 * 126 COMMAND not runnable, 127 not found; else COMMAND's (128+N for a
 * signal N). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "owner.h"
#include "exec.h"
#include "proto.h"

#define EXIT_OWN 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127
#define ANSWER_MS 5000

static pid_t child;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc exec [--strict] [-d SOCKET] UPLINK [--] COMMAND [ARG...]\n"
		"Runs COMMAND so that it and every process it starts send their IPv4 and\n"
		"IPv6 traffic out of UPLINK (asks rtalloc-agent; root or agent.json's\n"
		"exec_gids).  When UPLINK has no address or rtalloc-track has it offline,\n"
		"the traffic follows unbound traffic; with --strict it is refused\n"
		"(network unreachable) and never leaves by another uplink.\n"
		"Exit status: 125 rtalloc failed, 126 COMMAND not runnable, 127 not found,\n"
		"else COMMAND's.\n");
}

int exec_agent_connect(const char *socket_name, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred = { 0 };
	socklen_t clen = sizeof(cred);
	int n, fd;

	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, CONTROL_NAME_FMT, socket_name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1) {
		snprintf(err, errlen, "-d: name too long");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		snprintf(err, errlen, "no rtalloc-agent answers at @%s: %s", sa.sun_path + 1, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
		snprintf(err, errlen, "@%s is held by uid %d pid %d, not root: not asking it", sa.sun_path + 1,
			 (int)cred.uid, (int)cred.pid);
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request and reads the one-line answer: 1 when granted with
 * "detach" (the agent follows the caller by its pid), 0 when granted, else
 * -1 after one line on stderr. */
static int ask(int fd, const char *uplink, bool strict)
{
	char req[64], ans[400] = "";
	size_t got = 0;
	int n = snprintf(req, sizeof(req), "exec %s %s\n", uplink, strict ? "strict" : "default");

	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "rtalloc: exec: sending to rtalloc-agent: %s\n", strerror(errno));
		return -1;
	}
	while (got + 1 < sizeof(ans) && !memchr(ans, '\n', got)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, ANSWER_MS) <= 0) {
			fprintf(stderr, "rtalloc: exec: no answer from rtalloc-agent in %d ms\n", ANSWER_MS);
			return -1;
		}
		r = recv(fd, ans + got, sizeof(ans) - 1 - got, 0);
		if (r <= 0) {
			fprintf(stderr, "rtalloc: exec: rtalloc-agent hung up without an answer\n");
			return -1;
		}
		got += (size_t)r;
	}
	ans[got] = '\0';
	ans[strcspn(ans, "\n")] = '\0';
	if (!strncmp(ans, "ok ", 3)) {
		const char *w = strchr(ans + 3, ' ');

		return w && !strcmp(w, " detach") ? 1 : 0;
	}
	fprintf(stderr, "rtalloc: exec: %s\n", !strncmp(ans, "error ", 6) ? ans + 6 : ans);
	return -1;
}

/* Becomes COMMAND, or exits 127 (not found) or 126 after one line. */
static void __attribute__((noreturn)) run(char **argv)
{
	execvp(argv[0], argv);
	fprintf(stderr, "rtalloc: exec: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "strict", no_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	const char *socket_name = PROTO_DEFAULT_SOCKET, *uplink;
	struct sigaction sa = { .sa_handler = forward };
	char why[400];
	bool strict = false;
	int c, fd, status;

	optind = 1;
	/* '+': options end at UPLINK; COMMAND's own are its own. */
	while ((c = getopt_long(argc, argv, "+sd:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			strict = true;
			break;
		case 'd':
			socket_name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "rtalloc: exec: see `rtalloc exec --help'\n");
			return EXIT_OWN;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "rtalloc: exec: UPLINK missing: rtalloc exec [--strict] UPLINK -- COMMAND\n");
		return EXIT_OWN;
	}
	uplink = argv[optind++];
	if (!ifname_valid(uplink)) {
		fprintf(stderr, "rtalloc: exec: not an interface name: `%s'\n", uplink);
		return EXIT_OWN;
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc) {
		fprintf(stderr, "rtalloc: exec: COMMAND missing: rtalloc exec [--strict] UPLINK -- COMMAND\n");
		return EXIT_OWN;
	}
	fd = exec_agent_connect(socket_name, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "rtalloc: exec: %s\n", why);
		return EXIT_OWN;
	}
	c = ask(fd, uplink, strict);
	if (c < 0) {
		close(fd);
		return EXIT_OWN;
	}
	if (c > 0) {
		close(fd);
		run(argv + optind);
	}
	/* Signals meant for COMMAND (a ^C reaches both: the process group)
	 * are passed on; we exit when it does. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "rtalloc: exec: fork: %s\n", strerror(errno));
		close(fd);
		return EXIT_OWN;
	}
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		close(fd);
		run(argv + optind);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			status = EXIT_OWN << 8;
			break;
		}
	close(fd);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
