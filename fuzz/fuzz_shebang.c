/* fuzz_shebang: shebang_parse and shebang_env_target (packetmark reads the
 * first bytes of COMMAND, which anyone may have written).  A "#!" line that
 * is accepted has a non-empty interpreter without blanks, an argument
 * without blanks at either end, neither holding a newline or crossing the
 * kernel's SHEBANG_BUF, and "#!INTERP ARG" re-parses to the same pair; a
 * file without "#!" is never taken for a script; a refusal says why; an
 * env target is the argument of an interpreter named env. */
#include <errno.h>

#include "fuzz.h"
#include "shebang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *why = NULL, *target, *base;
	struct shebang sb, again;
	char line[2 * SHEBANG_BUF + 4];
	size_t ilen, alen;
	int r;

	/* data is exactly size bytes on the heap: ASan sees any read past it. */
	r = shebang_parse(buf, size, &sb, &why);
	if (size < 2 || buf[0] != '#' || buf[1] != '!') {
		FUZZ_CHECK(r == 0);
		return 0;
	}
	if (r < 0) {
		FUZZ_CHECK(r == -ENOEXEC);
		FUZZ_CHECK(why != NULL && why[0]);
		return 0;
	}
	FUZZ_CHECK(r == 1);
	ilen = strnlen(sb.interp, sizeof(sb.interp));
	alen = strnlen(sb.arg, sizeof(sb.arg));
	FUZZ_CHECK(ilen > 0 && ilen < sizeof(sb.interp) && alen < sizeof(sb.arg));
	/* Both were read from the first SHEBANG_BUF bytes, after the "#!". */
	FUZZ_CHECK(2 + ilen + alen <= SHEBANG_BUF);
	FUZZ_CHECK(!strpbrk(sb.interp, " \t\n") && !strchr(sb.arg, '\n'));
	FUZZ_CHECK(!alen || (!blank(sb.arg[0]) && !blank(sb.arg[alen - 1])));
	FUZZ_CHECK(memmem(buf, size < SHEBANG_BUF ? size : SHEBANG_BUF, sb.interp, ilen) != NULL);

	/* The same line, blanks normalized, reads the same. */
	r = snprintf(line, sizeof(line), "#!%s%s%s", sb.interp, alen ? " " : "", sb.arg);
	FUZZ_CHECK(r > 0 && (size_t)r <= SHEBANG_BUF);
	FUZZ_CHECK(shebang_parse(line, (size_t)r, &again, NULL) == 1);
	FUZZ_CHECK(strcmp(again.interp, sb.interp) == 0 && strcmp(again.arg, sb.arg) == 0);

	target = shebang_env_target(&sb);
	if (target) {
		base = strrchr(sb.interp, '/');
		FUZZ_CHECK(strcmp(base ? base + 1 : sb.interp, "env") == 0);
		FUZZ_CHECK(target == sb.arg && target[0] && target[0] != '-');
		FUZZ_CHECK(!strpbrk(target, " \t="));
	}
	return 0;
}
