/* dgram: send one datagram to an abstract unix socket and print the reply.
 *   dgram [-t MS] [-f FILE] NAME [JSON]
 * The payload is JSON from the command line, or the bytes of FILE ("-" for
 * stdin).  Exit 0 with the reply on stdout, 2 on timeout, 1 on error. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			char *t = realloc(buf, cap *= 2);

			if (!t) {
				free(buf);
				buf = NULL;
			}
			buf = t;
		}
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *file = NULL, *name;
	char *payload = NULL, *reply = NULL;
	size_t len = 0, nlen;
	int timeout = 3000, opt, fd = -1, rc = 1, sndbuf = 1 << 21;
	struct pollfd pfd;
	ssize_t n;

	while ((opt = getopt(argc, argv, "t:f:")) != -1) {
		if (opt == 't')
			timeout = atoi(optarg);
		else if (opt == 'f')
			file = optarg;
		else
			goto usage;
	}
	if (optind >= argc || (!file && optind + 1 >= argc))
		goto usage;
	name = argv[optind];
	nlen = strlen(name);
	if (nlen + 1 >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dgram: socket name too long\n");
		return 1;
	}
	if (file) {
		payload = read_all(file, &len);
		if (!payload) {
			fprintf(stderr, "dgram: cannot read %s\n", file);
			return 1;
		}
	} else {
		payload = strdup(argv[optind + 1]);
		len = strlen(payload);
	}
	memcpy(sa.sun_path + 1, name, nlen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* autobind: the server needs an address to answer to */
	struct sockaddr_un self = { .sun_family = AF_UNIX };
	if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0) {
		perror("dgram: socket");
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (sendto(fd, payload, len, 0, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nlen)) < 0) {
		fprintf(stderr, "dgram: send to @%s: %s\n", name, strerror(errno));
		goto cleanup;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, timeout) <= 0) {
		printf("timeout\n");
		rc = 2;
		goto cleanup;
	}
	reply = malloc(1 << 16);
	n = reply ? recv(fd, reply, (1 << 16) - 1, 0) : -1;
	if (n < 0) {
		perror("dgram: recv");
		goto cleanup;
	}
	reply[n] = '\0';
	printf("%s\n", reply);
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	free(payload);
	free(reply);
	return rc;
usage:
	fprintf(stderr, "usage: dgram [-t MS] [-f FILE|-] NAME [JSON]\n");
	return 1;
}
