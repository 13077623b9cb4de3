/* startwait: start-up time of a Type=notify daemon.  Binds an abstract
 * NOTIFY_SOCKET, starts the command with it, and prints the microseconds
 * from fork to READY=1; then stops the daemon (SIGTERM) and reaps it.
 * rtallocd binds its socket before it loads the database, so a bound
 * socket in /proc/net/unix would come too early: READY=1 is sent after.
 *   startwait TIMEOUT_S CMD [ARGS...]
 * Exit 0 on READY=1, 1 when the daemon exited or the timeout passed. */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64], buf[256];
	uint64_t start, limit;
	int fd, rc = 1;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: startwait TIMEOUT_S CMD [ARGS...]\n");
		return 2;
	}
	snprintf(name, sizeof(name), "@rtbench-notify-%d", (int)getpid());
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))) < 0) {
		perror("startwait: notify socket");
		return 1;
	}
	setenv("NOTIFY_SOCKET", name, 1);
	limit = (uint64_t)(atof(argv[1]) * 1e6);
	start = now_us();
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0)
		return 1;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_us() - start;
		ssize_t n;

		if (t >= limit || waitpid(pid, NULL, WNOHANG) == pid)
			break;
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "READY=1")) {
				printf("%llu\n", (unsigned long long)(now_us() - start));
				rc = 0;
				break;
			}
		}
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return rc;
}
