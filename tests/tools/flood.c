/* flood: an unprivileged flooder for the flood tests.
 *   flood [-p] [-s SECONDS] NAME
 * Blocking sendto of a well-formed request (refused for want of rights) to
 * @NAME (-p: the padded form) for SECONDS (default 10) from an autobound
 * socket whose replies it never reads, so the server's queue stays full
 * and its replies to us are dropped.  Prints the number sent. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char req[] =
		"{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.99.0.1\",\"ifname\":\"flood0\",\"seq\":1}";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	socklen_t len;
	long seconds = 10, sent = 0;
	int opt, fd, pad = 0;
	time_t end;
	size_t n;

	while ((opt = getopt(argc, argv, "ps:")) != -1) {
		if (opt == 'p')
			pad = 1;
		else if (opt == 's')
			seconds = atol(optarg);
		else
			return 1;
	}
	if (optind != argc - 1 || (n = strlen(argv[optind])) >= sizeof(sa.sun_path) - 1) {
		fprintf(stderr, "usage: flood [-p] [-s SECONDS] NAME\n");
		return 1;
	}
	memcpy(sa.sun_path + 1, argv[optind], n);
	len = pad ? (socklen_t)sizeof(sa) : (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0) {
		perror("flood");
		return 1;
	}
	/* blocking, but wake once a second to look at the clock */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		if (sendto(fd, req, sizeof(req) - 1, 0, (struct sockaddr *)&sa, len) == (ssize_t)sizeof(req) - 1)
			sent++;
		else if (errno != EAGAIN && errno != EINTR)
			usleep(1000);	/* no server yet */
	}
	printf("%ld\n", sent);
	return 0;
}
