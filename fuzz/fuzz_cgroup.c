/* fuzz_cgroup: cgmark_path_parse (/proc/PID/cgroup) and cgmark_mount_find
 * (/proc/self/mountinfo), the way packetmark's cgroup helper chains them.
 * Input: the cgroup file, a NUL, the mountinfo text; each gets a heap copy
 * of its own so ASan sees reads before or past either.  An accepted path is
 * absolute, one line, from the input and fits the buffer; a found mount is
 * terminated inside its buffer and leaves in rel a suffix of the cgroup
 * path that is empty or starts with '/'; a smaller buffer changes nothing
 * but a clean -ENAMETOOLONG. */
#include <errno.h>

#include "cgmark.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What packetmark's helper gives them (cgmark.c setup()). */
#define CG_LEN 2048
#define MNT_LEN 2048

static void check_mount(const char *mountinfo, const char *cg, size_t small)
{
	char mnt[MNT_LEN], mnt2[MNT_LEN];
	const char *rel = NULL, *rel2 = NULL;
	size_t cglen = strlen(cg), m;
	int r, r2;

	r = cgmark_mount_find(mountinfo, cg, mnt, sizeof(mnt), &rel);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
	r2 = cgmark_mount_find(mountinfo, cg, mnt2, small, &rel2);
	if (r < 0) {
		FUZZ_CHECK(r2 == r);
		return;
	}
	m = strnlen(mnt, sizeof(mnt));
	FUZZ_CHECK(m < sizeof(mnt));
	FUZZ_CHECK(rel >= cg && rel <= cg + cglen);
	FUZZ_CHECK(rel[0] == '\0' || rel[0] == '/');
	if (m < small) {
		FUZZ_CHECK(r2 == 0 && strcmp(mnt2, mnt) == 0 && rel2 == rel);
	} else {
		FUZZ_CHECK(r2 == -ENAMETOOLONG);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t clen = nul ? (size_t)(nul - data) : size;
	char *cgroup = fuzz_cstr(data, clen);
	char *mountinfo = nul ? fuzz_cstr(nul + 1, size - clen - 1) : fuzz_cstr(data, 0);
	char cg[CG_LEN], cg2[CG_LEN];
	/* A second, smaller buffer, sized by the input. */
	size_t small = 1 + size % 64, n;
	int r, r2;

	r = cgmark_path_parse(cgroup, cg, sizeof(cg));
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
	r2 = cgmark_path_parse(cgroup, cg2, small);
	if (r == 0) {
		n = strnlen(cg, sizeof(cg));
		FUZZ_CHECK(n < sizeof(cg) && cg[0] == '/' && !strchr(cg, '\n'));
		FUZZ_CHECK(strstr(cgroup, cg) != NULL);
		if (n < small)
			FUZZ_CHECK(r2 == 0 && strcmp(cg2, cg) == 0);
		else
			FUZZ_CHECK(r2 == -ENAMETOOLONG);
		check_mount(mountinfo, cg, small);
	} else {
		FUZZ_CHECK(r2 == r);
		/* The mount parser gets its turn all the same. */
		check_mount(mountinfo, "/", small);
	}
	free(cgroup);
	free(mountinfo);
	return 0;
}
