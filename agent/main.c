/* rtalloc-agent: every global address on a managed interface gets a table
 * from rtallocd, its policy rules and a copy of its link's routes, whoever
 * configured it (rtalloc-agent(8)).  Always in the foreground. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc-agent -c FILE [-v] [-h]\n"
		"  -c FILE  JSON configuration (/etc/rtalloc/agent.json)\n"
		"  -v       log debug messages\n"
		"  -h       this help\n");
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	int opt, rc;
	bool verbose = false;

	while ((opt = getopt(argc, argv, "c:vh")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rtalloc-agent: unexpected argument `%s'\n", argv[optind]);
		return 1;
	}
	if (!conf) {
		fprintf(stderr, "rtalloc-agent: -c FILE is required\n");
		usage(stderr);
		return 1;
	}
	log_open("rtalloc-agent", LOG_TO_STDERR, NULL);
	log_set_max(verbose ? LOG_DEBUG : LOG_INFO);
	rc = agent_run(conf);
	log_close();
	return rc;
}
