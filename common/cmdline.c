/* cmdline: the shared command-line conventions (cmdline.h). */
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cmdline.h"
#include "errbuf.h"

const char *cmdline_self(const char *argv0)
{
	const char *slash;

	if (!argv0)
		return "";
	slash = strrchr(argv0, '/');
	return slash ? slash + 1 : argv0;
}

int cmdline_version(const char *prog)
{
	printf("%s %s\n", prog, RTALLOC_VERSION);
	return 0;
}

int cmdline_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CMDLINE_EX_USAGE;
}

int cmdline_option_fail(int c, char **argv, char *err, size_t errlen)
{
	const char *what = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		return errbuf_fail(err, errlen, "%s: missing argument", what);
	if (optopt && optopt < 256)
		return errbuf_fail(err, errlen, "-%c: unknown option", optopt);
	return errbuf_fail(err, errlen, "%s: unknown option", what);
}

int cmdline_bad_option(const char *prog, int c, char **argv)
{
	char msg[160];

	cmdline_option_fail(c, argv, msg, sizeof(msg));
	return cmdline_usage_error(prog, "%s", msg);
}
