/* shebang: the "#!" line of a script, read the way the kernel reads it
 * (fs/binfmt_script.c), so packetmark can follow a script to the program
 * that really runs: an LD_PRELOAD check of the script itself means nothing.
 * No logging, no allocation. */
#ifndef RTALLOC_SHEBANG_H
#define RTALLOC_SHEBANG_H

#include <stddef.h>

/* The kernel reads at most this much of a file to find the #! line. */
#define SHEBANG_BUF 256

struct shebang {
	char interp[SHEBANG_BUF];	/* interpreter path, as written */
	char arg[SHEBANG_BUF];		/* its one optional argument, or "" */
};

/* buf: the first len bytes of a file (only the first SHEBANG_BUF count).
 * Returns 1 with *sb filled for a "#!" file, 0 when buf does not start with
 * "#!", -ENOEXEC with *why set (a static string) for a "#!" line the kernel
 * refuses: no interpreter, or one cut off by the SHEBANG_BUF limit. */
int shebang_parse(const char *buf, size_t len, struct shebang *sb, const char **why);

/* For "#!/usr/bin/env NAME": NAME, the program env(1) will look up in PATH
 * and run; NULL for any other interpreter and for env options (-S, -i...)
 * or assignments, which the caller cannot follow. */
const char *shebang_env_target(const struct shebang *sb);

#endif
