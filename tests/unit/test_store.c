/* Unit tests for store: one row per (table, family) slot survives a reopen;
 * a new boot ends the live rows; a version 1 file is upgraded; a newer
 * schema is refused; checkpoints keep the WAL bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

#define MAX_ROWS 8

static char dir[] = "/tmp/test_store.XXXXXX";
static char path[128];
static char err[256];

struct rows {
	struct store_row r[MAX_ROWS];
	int n;
};

static int collect(void *ctx, const struct store_row *r)
{
	struct rows *rows = ctx;

	if (rows->n == MAX_ROWS)
		return -ENOSPC;
	rows->r[rows->n++] = *r;
	return 0;
}

static void load(const char *boot, struct rows *rows)
{
	struct store *s;

	memset(rows, 0, sizeof(*rows));
	assert_int_equal(store_open(&s, path, boot, err, sizeof(err)), 0);
	assert_int_equal(store_load(s, collect, rows), 0);
	store_close(s);
}

static void sql(const char *q)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int setup(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_slots(void **state)
{
	struct store *s;
	struct store_row r = { .family = AF_INET, .ifname = "eth0", .address = "10.0.0.1",
			       .tag = "wan", .table = 10007, .expires = 1700000000, .uid = 0,
			       .alive = false };
	struct rows rows;

	(void)state;
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put(s, &r), 0);
	/* another key in the same slot replaces the row: the slot's lease */
	snprintf(r.address, sizeof(r.address), "10.0.0.2");
	r.alive = true;
	r.expires = 1700000100;
	assert_int_equal(store_put(s, &r), 0);
	/* the same table for inet6 is another slot */
	r.family = AF_INET6;
	snprintf(r.address, sizeof(r.address), "2001:db8::1");
	r.alive = false;
	assert_int_equal(store_put(s, &r), 0);
	assert_int_equal(store_commit(s), 0);
	/* a rolled back write is gone */
	assert_int_equal(store_begin(s), 0);
	r.table = 10009;
	assert_int_equal(store_put(s, &r), 0);
	store_rollback(s);
	store_close(s);

	load("b1", &rows);
	assert_int_equal(rows.n, 2);
	assert_true(rows.r[0].alive);		/* live rows first */
	assert_int_equal(rows.r[0].family, AF_INET);
	assert_int_equal(rows.r[0].table, 10007);
	assert_string_equal(rows.r[0].address, "10.0.0.2");
	assert_string_equal(rows.r[0].ifname, "eth0");
	assert_string_equal(rows.r[0].tag, "wan");
	assert_int_equal(rows.r[0].expires, 1700000100);
	assert_false(rows.r[1].alive);
	assert_int_equal(rows.r[1].family, AF_INET6);
	assert_string_equal(rows.r[1].address, "2001:db8::1");
}

static void put_live(const char *boot, uint32_t table)
{
	struct store *s;
	struct store_row r = { .family = AF_INET, .ifname = "eth1", .address = "10.0.1.1",
			       .table = table, .expires = 1700000000, .alive = true };

	assert_int_equal(store_open(&s, path, boot, err, sizeof(err)), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put(s, &r), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
}

static void test_boot(void **state)
{
	struct rows rows;

	(void)state;
	put_live("b1", 10001);
	load("b1", &rows);
	assert_int_equal(rows.n, 1);
	assert_true(rows.r[0].alive);		/* same boot: still live */
	load("b2", &rows);
	assert_int_equal(rows.n, 1);
	assert_false(rows.r[0].alive);		/* a reboot ended it ... */
	assert_int_equal(rows.r[0].table, 10001); /* ... and kept the preference */
	put_live("b2", 10002);
	load("b2", &rows);
	assert_int_equal(rows.n, 2);
	assert_true(rows.r[0].alive);
	assert_int_equal(rows.r[0].table, 10002);
}

static void test_upgrade_v1(void **state)
{
	struct rows rows;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	sql("CREATE TABLE leases (family INTEGER NOT NULL, ifname TEXT NOT NULL,"
	    " address TEXT NOT NULL, tag TEXT NOT NULL DEFAULT '', tbl INTEGER NOT NULL,"
	    " expires INTEGER NOT NULL, uid INTEGER NOT NULL, boot_id TEXT NOT NULL,"
	    " alive INTEGER NOT NULL, PRIMARY KEY (family, ifname, address)) WITHOUT ROWID;"
	    "CREATE INDEX leases_tbl ON leases (tbl) WHERE alive = 1;"
	    /* table 10000: a dead row, then a live one of this boot */
	    "INSERT INTO leases VALUES (2, 'eth0', '10.0.0.1', 'old', 10000, 100, 0, 'b1', 0);"
	    "INSERT INTO leases VALUES (2, 'eth0', '10.0.0.2', 'new', 10000, 50, 7, 'b1', 1);"
	    /* table 10001: two dead rows, the later one wins */
	    "INSERT INTO leases VALUES (2, 'eth1', '10.0.1.1', '', 10001, 300, 0, 'b0', 0);"
	    "INSERT INTO leases VALUES (2, 'eth1', '10.0.1.2', '', 10001, 200, 0, 'b0', 0);"
	    /* table 10002 for inet6: live, but of another boot */
	    "INSERT INTO leases VALUES (10, 'eth2', '2001:db8::2', '', 10002, 400, 0, 'b0', 1);"
	    "PRAGMA user_version=1;");
	load("b1", &rows);
	assert_int_equal(rows.n, 3);
	assert_true(rows.r[0].alive);
	assert_string_equal(rows.r[0].address, "10.0.0.2");
	assert_string_equal(rows.r[0].tag, "new");
	assert_int_equal(rows.r[0].uid, 7);
	assert_false(rows.r[1].alive);
	assert_string_equal(rows.r[1].address, "2001:db8::2");
	assert_false(rows.r[2].alive);
	assert_string_equal(rows.r[2].address, "10.0.1.1");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE"
					   " name IN ('leases_v1', 'leases_tbl')), (SELECT slot FROM leases"
					   " WHERE tbl = 10002), (SELECT user_version FROM pragma_user_version)", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);		/* the old table is gone */
	assert_int_equal(sqlite3_column_int64(st, 1), 10002 * 256 + AF_INET6);
	assert_int_equal(sqlite3_column_int(st, 2), STORE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The 2017 original's RtTables: live leases of this boot (the file written
 * now, LeaseExpires ahead on CLOCK_MONOTONIC_RAW) stay live with their
 * time; the rest are preferences; store_created() is false. */
static void test_adopt_rttables(void **state)
{
	struct rows rows;
	struct store *s;
	struct timespec raw, wall;
	char q[1024];

	(void)state;
	clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(q, sizeof(q),
		 "CREATE TABLE RtTables (RtTable INTEGER, AddrFamily INTEGER, Ifname TEXT, Addr TEXT,"
		 " LeaseExpires INTEGER, Tag TEXT);"
		 "INSERT INTO RtTables VALUES (10000, 2, 'eth0', '10.0.0.1', %lld, 'wan');"
		 "INSERT INTO RtTables VALUES (10001, 0, 'eth0', 'myid', %lld, NULL);"
		 "INSERT INTO RtTables VALUES (10002, 7, 'eth0', '10.0.0.2', %lld, NULL);"
		 "INSERT INTO RtTables VALUES (10003, 2, 'eth0', NULL, %lld, NULL);",
		 (long long)raw.tv_sec + 100, (long long)raw.tv_sec - 100, (long long)raw.tv_sec + 100,
		 (long long)raw.tv_sec + 100);
	sql(q);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), 0);
	assert_false(store_created(s));
	assert_int_equal(store_load(s, collect, &rows), 0);
	store_close(s);
	assert_int_equal(rows.n, 2);	/* family 7 and a NULL Addr: left out */
	assert_true(rows.r[0].alive);
	assert_string_equal(rows.r[0].address, "10.0.0.1");
	assert_string_equal(rows.r[0].tag, "wan");
	assert_int_equal(rows.r[0].uid, 0);
	assert_true(rows.r[0].expires >= wall.tv_sec + 99 && rows.r[0].expires <= wall.tv_sec + 101);
	assert_false(rows.r[1].alive);
	assert_string_equal(rows.r[1].address, "myid");
	assert_int_equal(rows.r[1].family, AF_UNSPEC);
	assert_true(rows.r[1].expires <= wall.tv_sec - 99);
	/* a second start finds our schema: nothing to take over again */
	load("b1", &rows);
	assert_int_equal(rows.n, 2);
	/* a file created now is created */
	unlink(path);
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), 0);
	assert_true(store_created(s));
	store_close(s);
}

static void test_newer_schema(void **state)
{
	struct store *s;

	(void)state;
	sql("PRAGMA user_version=99");
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_null(s);
}

static off_t wal_size(void)
{
	char wal[160];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(stat(wal, &st), 0);
	return st.st_size;
}

/* commits transactions of rows scattered over the tree (a few pages each):
 * the largest WAL seen. */
static off_t scatter(struct store *s, uint32_t commits, uint32_t rows)
{
	static uint32_t seq;
	struct store_row r = { .family = AF_INET, .ifname = "eth0", .tag = "x", .alive = true };
	off_t most = 0;

	for (uint32_t i = 0; i < commits; i++, seq++) {
		assert_int_equal(store_begin(s), 0);
		for (uint32_t j = 0; j < rows; j++) {
			r.table = (seq * 7919 + j * 104729) % 1000000;
			snprintf(r.address, sizeof(r.address), "10.%u.%u.%u", seq % 200, j, seq / 200 % 250);
			assert_int_equal(store_put(s, &r), 0);
		}
		assert_int_equal(store_commit(s), 0);
		if (wal_size() > most)
			most = wal_size();
	}
	return most;
}

/* The writer never checkpoints itself below 16,000 WAL pages: a WAL that
 * grew past 1,000 goes back under 1,000 (journal_size_limit) only because
 * the checkpoint thread copied it while the writer paused. */
static void test_wal_checkpointed(void **state)
{
	struct store *s;
	off_t most;
	int i;

	(void)state;
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), 0);
	most = scatter(s, 150, 25);
	print_message("WAL after the burst: %lld pages\n", (long long)most / 4096);
	assert_true(most > 1500 * 4096);
	for (i = 0; i < 1500 && wal_size() > 1001 * 4096; i++) {
		usleep(20000);
		scatter(s, 1, 1);	/* a restart happens at a commit */
	}
	print_message("WAL after %d quiet commits: %lld pages\n", i, (long long)wal_size() / 4096);
	assert_true(wal_size() <= 1001 * 4096);
	store_close(s);
}

/* Writes faster than any checkpoint can follow still leave a bounded WAL:
 * past 16,000 pages the writer checkpoints itself. */
static void test_wal_bounded(void **state)
{
	struct store *s;
	off_t most;

	(void)state;
	assert_int_equal(store_open(&s, path, "b1", err, sizeof(err)), 0);
	most = scatter(s, 1500, 25);
	print_message("largest WAL: %lld pages\n", (long long)most / 4096);
	assert_true(most < 24000 * 4096);	/* 16,000 and what comes during a checkpoint */
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_slots, setup),
		cmocka_unit_test_setup(test_boot, setup),
		cmocka_unit_test_setup(test_upgrade_v1, setup),
		cmocka_unit_test_setup(test_adopt_rttables, setup),
		cmocka_unit_test_setup(test_newer_schema, setup),
		cmocka_unit_test_setup(test_wal_checkpointed, setup),
		cmocka_unit_test_setup(test_wal_bounded, setup),
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
