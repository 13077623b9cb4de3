/* shebang: the kernel's reading of a "#!" line; see shebang.h.
 *
 * Like fs/binfmt_script.c: the line ends at the first '\n' (a '\r' is part
 * of the name, as the kernel sees it), blanks are ' ' and '\t', the
 * interpreter runs to the first blank and everything after the following
 * blanks, trailing blanks cut, is one argument. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shebang.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

int shebang_parse(const char *buf, size_t len, struct shebang *sb, const char **why)
{
	const char *dummy, *end, *p, *q;
	bool cut;

	if (!why)
		why = &dummy;
	if (len > SHEBANG_BUF)
		len = SHEBANG_BUF;
	if (len < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	end = memchr(buf, '\n', len);
	/* Without a newline in a full buffer the line may go on in the file. */
	cut = !end && len == SHEBANG_BUF;
	if (!end)
		end = buf + len;
	/* A NUL ends the line for the kernel too (it works on C strings). */
	p = memchr(buf, '\0', (size_t)(end - buf));
	if (p)
		end = p, cut = false;
	for (p = buf + 2; p < end && blank(*p); p++)
		;
	for (q = p; q < end && !blank(*q); q++)
		;
	if (q == p) {
		*why = "\"#!\" without an interpreter";
		return -ENOEXEC;
	}
	if (cut && q == end) {
		/* The name may go on beyond what the kernel reads. */
		*why = "\"#!\" interpreter path longer than the kernel reads";
		return -ENOEXEC;
	}
	memcpy(sb->interp, p, (size_t)(q - p));
	sb->interp[q - p] = '\0';
	for (p = q; p < end && blank(*p); p++)
		;
	while (end > p && blank(end[-1]))
		end--;
	memcpy(sb->arg, p, (size_t)(end - p));
	sb->arg[end - p] = '\0';
	return 1;
}

const char *shebang_env_target(const struct shebang *sb)
{
	const char *base = strrchr(sb->interp, '/');

	base = base ? base + 1 : sb->interp;
	if (strcmp(base, "env") != 0 || !sb->arg[0] || sb->arg[0] == '-' ||
	    strchr(sb->arg, '=') || strpbrk(sb->arg, " \t"))
		return NULL;
	return sb->arg;
}
