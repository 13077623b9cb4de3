/* Unit tests for packetmark's readers of what the kernel shows it:
 * shebang.c (the "#!" line, as fs/binfmt_script.c reads it) and the pure
 * parsers of cgmark.c (/proc/PID/cgroup, /proc/PID/mountinfo).  Neither is
 * in a library the unit tests link (only packetmark uses them), so they are
 * compiled in here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shebang.c"
#include "cgmark.c"

static void sb_good(const char *line, const char *interp, const char *arg)
{
	struct shebang sb;
	const char *why = NULL;
	int r = shebang_parse(line, strlen(line), &sb, &why);

	if (r != 1)
		fail_msg("shebang_parse(\"%s\") = %d (%s)", line, r, why ? why : "");
	assert_string_equal(sb.interp, interp);
	assert_string_equal(sb.arg, arg);
}

static void sb_bad(const char *line, size_t len, const char *want_why)
{
	struct shebang sb;
	const char *why = NULL;

	assert_int_equal(shebang_parse(line, len, &sb, &why), -ENOEXEC);
	assert_string_equal(why, want_why);
}

static void test_shebang(void **state)
{
	(void)state;
	sb_good("#!/bin/sh\necho hi\n", "/bin/sh", "");
	sb_good("#!/bin/sh", "/bin/sh", "");			/* whole file, no newline */
	sb_good("#! /usr/bin/python3 -u\n", "/usr/bin/python3", "-u");
	sb_good("#!\t/bin/bash\t-e -x  \t\nrest", "/bin/bash", "-e -x");	/* one argument */
	sb_good("#!/usr/bin/env python3\n", "/usr/bin/env", "python3");
	sb_good("#!/bin/sh\r\n", "/bin/sh\r", "");		/* the kernel keeps the CR */
	sb_good("#!rel/interp\n", "rel/interp", "");
	sb_bad("#!\n", 3, "\"#!\" without an interpreter");
	sb_bad("#!   \t\n/bin/sh\n", 9, "\"#!\" without an interpreter");
}

static void test_not_shebang(void **state)
{
	struct shebang sb;

	(void)state;
	assert_int_equal(shebang_parse("", 0, &sb, NULL), 0);
	assert_int_equal(shebang_parse("#", 1, &sb, NULL), 0);
	assert_int_equal(shebang_parse("\177ELF\2\1\1", 7, &sb, NULL), 0);
	assert_int_equal(shebang_parse(" #!/bin/sh\n", 11, &sb, NULL), 0);
	/* a NUL ends the line for the kernel too */
	assert_int_equal(shebang_parse("#!/a b\0/c d\n", 13, &sb, NULL), 1);
	assert_string_equal(sb.interp, "/a");
	assert_string_equal(sb.arg, "b");
	assert_int_equal(shebang_parse("echo hi\n", 8, &sb, NULL), 0);
}

/* The kernel reads SHEBANG_BUF bytes: a name running to the end of them may
 * be longer in the file, so it is refused, as the kernel refuses it; a
 * long argument is only cut. */
static void test_shebang_limit(void **state)
{
	char buf[SHEBANG_BUF + 50];
	struct shebang sb;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "#!/", 3);
	sb_bad(buf, sizeof(buf), "\"#!\" interpreter path longer than the kernel reads");
	memcpy(buf, "#!/bin/sh ", 10);
	assert_int_equal(shebang_parse(buf, sizeof(buf), &sb, NULL), 1);
	assert_string_equal(sb.interp, "/bin/sh");
	assert_int_equal(strlen(sb.arg), SHEBANG_BUF - 10);
	buf[100] = '\n';
	assert_int_equal(shebang_parse(buf, sizeof(buf), &sb, NULL), 1);
	assert_int_equal(strlen(sb.arg), 100 - 10);
}

static const char *env_target(const char *line)
{
	static struct shebang sb;

	assert_int_equal(shebang_parse(line, strlen(line), &sb, NULL), 1);
	return shebang_env_target(&sb);
}

static void test_env_target(void **state)
{
	(void)state;
	assert_string_equal(env_target("#!/usr/bin/env python3\n"), "python3");
	assert_string_equal(env_target("#!/bin/env sh\n"), "sh");
	assert_string_equal(env_target("#!env ./x\n"), "./x");
	assert_null(env_target("#!/usr/bin/env -S python3 -u\n"));	/* options: cannot follow */
	assert_null(env_target("#!/usr/bin/env A=1 python3\n"));
	assert_null(env_target("#!/usr/bin/env\n"));
	assert_null(env_target("#!/usr/bin/envy python3\n"));
	assert_null(env_target("#!/bin/sh env\n"));
}

static void test_cgroup_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(cgmark_path_parse("0::/\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	/* hybrid: v1 lines first */
	assert_int_equal(cgmark_path_parse("9:name=systemd:/x\n4:memory:/m/1\n0::/user.slice/a b\n",
					   out, sizeof(out)), 0);
	assert_string_equal(out, "/user.slice/a b");
	assert_int_equal(cgmark_path_parse("0::/system.slice/x.service", out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/x.service");
	assert_int_equal(cgmark_path_parse("1:name=systemd:/\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgmark_path_parse("", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgmark_path_parse("0::\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgmark_path_parse("0::/0123456789", out, 8), -ENAMETOOLONG);
}

#define HYBRID \
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" \
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" \
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"

static void test_mount_find(void **state)
{
	const char *rel = NULL;
	char out[128];

	(void)state;
	assert_int_equal(cgmark_mount_find(HYBRID, "/a/b", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_string_equal(rel, "/a/b");
	/* pure v2 */
	assert_int_equal(cgmark_mount_find("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
					   "/", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_string_equal(rel, "/");
	/* a mount of a subtree: our cgroup must be below its root */
	assert_int_equal(cgmark_mount_find("50 1 0:26 /lxc/c1 /mnt/cg rw - cgroup2 cgroup2 rw\n",
					   "/lxc/c1/svc", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/mnt/cg");
	assert_string_equal(rel, "/svc");
	assert_int_equal(cgmark_mount_find("50 1 0:26 /lxc/c1 /mnt/cg rw - cgroup2 cgroup2 rw\n",
					   "/lxc/c10", out, sizeof(out), &rel), -ENOENT);
	/* octal escapes in the mount point */
	assert_int_equal(cgmark_mount_find("50 1 0:26 / /mnt/my\\040cg rw - cgroup2 none rw\n",
					   "/x", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/mnt/my cg");
	/* no NUL out of "\000": it would cut the path (fuzz_cgroup) */
	assert_int_equal(cgmark_mount_find("50 1 0:26 / /mnt/a\\000b rw - cgroup2 none rw\n",
					   "/x", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/mnt/a\\000b");
	assert_int_equal(cgmark_mount_find("50 1 0:26 /lxc\\000x /mnt/cg rw - cgroup2 none rw\n",
					   "/lxc/c1", out, sizeof(out), &rel), -ENOENT);
	/* v1 only, or nothing */
	assert_int_equal(cgmark_mount_find("40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw\n",
					   "/", out, sizeof(out), &rel), -ENOENT);
	assert_int_equal(cgmark_mount_find("", "/", out, sizeof(out), &rel), -ENOENT);
	/* an empty first line is skipped, not read before the text (fuzz_cgroup) */
	assert_int_equal(cgmark_mount_find("\n30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
					   "/", out, sizeof(out), &rel), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(cgmark_mount_find(HYBRID, "/", out, 8, &rel), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shebang),
		cmocka_unit_test(test_not_shebang),
		cmocka_unit_test(test_shebang_limit),
		cmocka_unit_test(test_env_target),
		cmocka_unit_test(test_cgroup_path),
		cmocka_unit_test(test_mount_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
