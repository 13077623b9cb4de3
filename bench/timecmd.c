/* timecmd: runs commands one after the other and prints the wall time from
 * the first fork to the last exit, in microseconds.  A shell loop around
 * `date` would add its own forks to every sample; this adds none.
 *   timecmd CMD [ARGS...] [';;' CMD [ARGS...]]...
 * The commands' stdout goes to /dev/null, so the time is all that is
 * printed (rtalloc prints its table).
 * Exit 0 when every command exited 0; otherwise 1, after the time. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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
	uint64_t start;
	int rc = 0, i = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: timecmd CMD [ARGS...] [';;' CMD [ARGS...]]...\n");
		return 2;
	}
	start = now_us();
	while (i < argc) {
		int j = i, status;
		pid_t pid;

		while (j < argc && strcmp(argv[j], ";;"))
			j++;
		argv[j < argc ? j : argc] = NULL;	/* argv[argc] is NULL already */
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, STDOUT_FILENO);
			execvp(argv[i], argv + i);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
		i = j + 1;
	}
	printf("%llu\n", (unsigned long long)(now_us() - start));
	return rc;
}
