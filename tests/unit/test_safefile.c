/* Unit tests for safefile: a published file is replaced whole, and names
 * planted in its directory (the file, its temporary file) are replaced,
 * never written through. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "safefile.h"

static char dir[64];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char *get(const char *path)
{
	static char buf[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return "(none)";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *at(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_safefile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	const char *names[] = { "state.json", "state.json.tmp", "victim1", "victim2", "sub/f", "sub" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		remove(at(names[i]));
	rmdir(dir);
	return 0;
}

static void test_planted(void **state)
{
	struct safefile sf;
	struct stat st;

	(void)state;
	put(at("victim1"), "root's 1\n");
	put(at("victim2"), "root's 2\n");
	assert_int_equal(symlink(at("victim1"), at("state.json.tmp")), 0);
	assert_int_equal(symlink(at("victim2"), at("state.json")), 0);
	assert_int_equal(safefile_begin(&sf, at("state.json"), 0644), 0);
	fputs("{\"new\":1}\n", sf.f);
	assert_int_equal(safefile_commit(&sf), 0);
	assert_string_equal(get(at("victim1")), "root's 1\n");
	assert_string_equal(get(at("victim2")), "root's 2\n");
	assert_int_equal(lstat(at("state.json"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_string_equal(get(at("state.json")), "{\"new\":1}\n");
	assert_int_equal(access(at("state.json.tmp"), F_OK), -1);
	/* replaced whole the next time, and an abort leaves the old one */
	assert_int_equal(safefile_begin(&sf, at("state.json"), 0644), 0);
	fputs("half", sf.f);
	safefile_abort(&sf);
	assert_string_equal(get(at("state.json")), "{\"new\":1}\n");
	assert_int_equal(access(at("state.json.tmp"), F_OK), -1);
}

static void test_dir(void **state)
{
	struct safefile sf;

	(void)state;
	/* a missing directory is created; a linked one is refused */
	assert_int_equal(safefile_begin(&sf, at("sub/f"), 0644), 0);
	assert_int_equal(safefile_commit(&sf), 0);
	assert_int_equal(remove(at("sub/f")), 0);
	assert_int_equal(rmdir(at("sub")), 0);
	assert_int_equal(mkdir(at("victim1"), 0755), 0);
	assert_int_equal(symlink(at("victim1"), at("sub")), 0);
	assert_true(safefile_begin(&sf, at("sub/f"), 0644) < 0);	/* ENOTDIR */
	assert_int_equal(access(at("victim1/f"), F_OK), -1);
	assert_int_equal(unlink(at("sub")), 0);
	assert_int_equal(rmdir(at("victim1")), 0);
	assert_int_equal(safefile_begin(&sf, at("sub/"), 0644), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_planted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
