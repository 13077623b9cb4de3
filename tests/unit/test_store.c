/* Unit tests for store: rows survive a reopen; the schema version is set and
 * a newer one is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

static char dir[] = "/tmp/test_store.XXXXXX";
static char path[128];
static char err[256];

static int collect(void *ctx, const struct store_row *r)
{
	struct store_row *rows = ctx;

	for (int i = 0; i < 4; i++)
		if (!rows[i].table) {
			rows[i] = *r;
			return 0;
		}
	return -ENOSPC;
}

static void test_reopen(void **state)
{
	struct store *s;
	struct store_row r = { .family = AF_INET, .ifname = "eth0", .address = "10.0.0.1",
			       .tag = "wan", .table = 10007, .expires = 1700000000, .uid = 0,
			       .boot_id = "b1", .alive = true };
	struct store_row rows[4] = { 0 };

	(void)state;
	assert_int_equal(store_open(&s, path, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put(s, &r), 0);
	r.alive = false;	/* same key: replaced, not added */
	r.table = 10008;
	assert_int_equal(store_put(s, &r), 0);
	snprintf(r.address, sizeof(r.address), "10.0.0.2");
	r.alive = true;
	assert_int_equal(store_put(s, &r), 0);
	assert_int_equal(store_commit(s), 0);
	/* a rolled back write is gone */
	assert_int_equal(store_begin(s), 0);
	snprintf(r.address, sizeof(r.address), "10.0.0.3");
	assert_int_equal(store_put(s, &r), 0);
	store_rollback(s);
	store_close(s);

	assert_int_equal(store_open(&s, path, err, sizeof(err)), 0);
	assert_int_equal(store_load(s, collect, rows), 0);
	store_close(s);
	assert_int_equal(rows[0].table, 10008);	/* live rows first */
	assert_string_equal(rows[0].address, "10.0.0.2");
	assert_true(rows[0].alive);
	assert_string_equal(rows[1].address, "10.0.0.1");
	assert_false(rows[1].alive);
	assert_string_equal(rows[1].tag, "wan");
	assert_string_equal(rows[1].boot_id, "b1");
	assert_int_equal(rows[1].expires, 1700000000);
	assert_int_equal(rows[2].table, 0);
}

static void test_newer_schema(void **state)
{
	struct store *s;
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_newer_schema),
	};
	char cmd[160];
	int rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/leases.db", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
