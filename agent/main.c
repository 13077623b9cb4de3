/* rtalloc-agent: every global address on a managed interface gets a table
 * from rtallocd, its policy rules and a copy of its link's routes, whoever
 * configured it (rtalloc-agent(8)).  Always in the foreground. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "agentcfg.h"
#include "cmdline.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rtalloc-agent -c FILE [-v] [--check] [-h] [--version]\n"
		"  -c, --config FILE  JSON configuration (/etc/rtalloc/agent.json)\n"
		"  -v, --verbose      log debug messages (and info lines on a terminal)\n"
		"  --check            check the configuration, then exit\n"
		"  -h, --help         this help\n"
		"  --version          the version\n"
		"SIGHUP reloads the configuration.\n"
		"Exit status: 0 stopped by a signal or --check passed; 1 bad configuration\n"
		"or the agent failed; 64 bad usage.\n");
}

static int check(const char *path)
{
	static struct agentcfg cfg;
	char err[256];

	agentcfg_defaults(&cfg);
	if (agentcfg_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtalloc-agent: %s\n", err);
		return 1;
	}
	printf("%s: ok\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL;
	int opt, rc;
	bool verbose = false, do_check = false;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
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
		case 'V':
			return cmdline_version("rtalloc-agent");
		case 'C':
			do_check = true;
			break;
		default:
			return cmdline_bad_option("rtalloc-agent", opt, argv);
		}
	}
	if (optind < argc)
		return cmdline_usage_error("rtalloc-agent", "unexpected argument: '%s'", argv[optind]);
	if (!conf)
		return cmdline_usage_error("rtalloc-agent", "-c FILE is required (see rtalloc-agent --help)");
	if (do_check)
		return check(conf);
	log_open("rtalloc-agent", LOG_TO_STDERR, NULL);
	log_set_verbose(verbose);
	rc = agent_run(conf);
	log_close();
	return rc;
}
