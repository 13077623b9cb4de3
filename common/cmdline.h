/* cmdline: what every rtalloc program's command line has in common:
 * --help and --version exit 0, bad usage exits 64 (EX_USAGE) with one line
 * "PROGRAM: what was wrong" on stderr. */
#ifndef RTALLOC_CMDLINE_H
#define RTALLOC_CMDLINE_H

#include <stddef.h>
#include <stdio.h>

#define CMDLINE_EX_USAGE 64	/* sysexits.h EX_USAGE */

#ifndef RTALLOC_VERSION
#define RTALLOC_VERSION "unknown"
#endif

/* argv[0] without its directory ("" when absent). */
const char *cmdline_self(const char *argv0);
/* "PROGRAM VERSION" on stdout; returns 0 (the exit status). */
int cmdline_version(const char *prog);
/* One line "PROGRAM: MESSAGE" on stderr; returns CMDLINE_EX_USAGE. */
int cmdline_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt's error ('?' or ':' with opterr = 0, optstring starting with ':')
 * worded as "-x: unknown option", "--foo: unknown option", "-c: missing
 * argument"; returns CMDLINE_EX_USAGE. */
int cmdline_bad_option(const char *prog, int c, char **argv);
/* The same words for a parser that leaves its reason in err (errbuf.h):
 * -EINVAL. */
int cmdline_option_fail(int c, char **argv, char *err, size_t errlen);

#endif
