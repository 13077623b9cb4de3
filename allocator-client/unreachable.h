/* unreachable: `rtalloc unreachable add|del --fwmark MARK[/MASK] --pref PREF`
 * (allocator-client/unreachable.c). */
#ifndef RTALLOC_UNREACHABLE_H
#define RTALLOC_UNREACHABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The pref range: 0 is the kernel's `local` rule, 32766 its `main`; a
 * rule after main would never stop anything. */
#define UNREACHABLE_PREF_MAX 32765u

/* What a run asks for: the rule `pref PREF fwmark MARK/MASK unreachable`
 * added (after every copy of it went) or removed, in IPv4 and IPv6. */
struct unreachable_req {
	bool add;
	uint32_t fwmark, fwmask;
	uint32_t pref;
};

/* argv[0] is "unreachable".  0 with r filled, 1 for --help, or -EINVAL
 * with one line in err (without the program's name). */
int unreachable_parse(int argc, char **argv, struct unreachable_req *r, char *err, size_t errlen);
/* argv[0] is "unreachable"; returns the exit status. */
int unreachable_main(int argc, char **argv);

#endif
