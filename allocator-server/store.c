/* store: SQLite lease database.  WAL with synchronous=NORMAL: a commit is in
 * the OS page cache when sqlite3_step() returns, so it survives the process
 * being killed at any moment.  It may not survive power loss, but power loss
 * is a reboot, and a reboot clears every policy rule the leases stood for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *put, *begin, *commit, *rollback;
	char *path;
	dev_t dev;		/* the file opened: a commit into a file that was */
	ino_t ino;		/* deleted or replaced would be lost at restart */
	bool gone;		/* said so once */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS leases ("
	" family INTEGER NOT NULL,"
	" ifname TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" tag TEXT NOT NULL DEFAULT '',"
	" tbl INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"	/* unix seconds (wall clock) */
	" uid INTEGER NOT NULL,"
	" boot_id TEXT NOT NULL,"
	" alive INTEGER NOT NULL,"
	" PRIMARY KEY (family, ifname, address)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS leases_tbl ON leases (tbl) WHERE alive = 1;";

static int exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", s->path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	struct store *s;
	struct stat st;
	char sql[64];
	int ret, v;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	if (!s->path) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* SQLite would open a file it cannot write read-only, and fail later
	 * with "unable to open database file"; say what is wrong instead. */
	if (access(path, F_OK) == 0 && access(path, W_OK) < 0) {
		ret = -errno;
		snprintf(err, errlen, "database %s: not writable: %s", path, strerror(-ret));
		goto cleanup;
	}
	/* NOMUTEX: one thread uses the connection; SQLite's per-call mutexes
	 * were 2% of the instructions per request. */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		ret = -EIO;
		goto cleanup;
	}
	/* Another process holding the file (the sqlite3 CLI in a test, an
	 * admin) may keep a lock for a moment; wait rather than fail. */
	sqlite3_busy_timeout(s->db, 2000);
	/* A checkpoint (every wal_autocheckpoint pages) is the only fsync of
	 * synchronous=NORMAL and stalls the batch that runs it: 4000 pages
	 * (a 16 MB WAL) instead of 1000 makes those stalls four times rarer;
	 * durability does not depend on them. */
	ret = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		   " PRAGMA wal_autocheckpoint=4000;", err, errlen);
	if (ret < 0)
		goto cleanup;
	v = store_schema_version(s);
	if (v < 0) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(s->db));
		ret = -EIO;
		goto cleanup;
	}
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "database %s: schema version %d is newer than this rtallocd's %d",
			 path, v, STORE_SCHEMA_VERSION);
		ret = -EPROTO;
		goto cleanup;
	}
	/* Only a new (or older) file is written to here: a current one whose
	 * pages are damaged must be left as it is for the operator. */
	ret = v == STORE_SCHEMA_VERSION ? 0 : exec(s, "BEGIN IMMEDIATE", err, errlen);
	if (ret < 0 || v == STORE_SCHEMA_VERSION)
		goto prepare;
	ret = exec(s, schema, err, errlen);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
	if (ret == 0)
		ret = exec(s, sql, err, errlen);
	if (ret == 0)
		ret = exec(s, "COMMIT", err, errlen);
	else
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
prepare:
	if (ret < 0)
		goto cleanup;
	ret = prepare(s, "INSERT OR REPLACE INTO leases (family, ifname, address, tag, tbl, expires,"
		      " uid, boot_id, alive) VALUES (?,?,?,?,?,?,?,?,?)", &s->put, err, errlen);
	if (ret == 0)
		ret = prepare(s, "BEGIN", &s->begin, err, errlen);
	if (ret == 0)
		ret = prepare(s, "COMMIT", &s->commit, err, errlen);
	if (ret == 0)
		ret = prepare(s, "ROLLBACK", &s->rollback, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (stat(path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "database %s: %s", path, strerror(-ret));
		goto cleanup;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	*out = s;
	s = NULL;
cleanup:
	store_close(s);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static int step(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_msg(LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

/* SQLite goes on writing into a deleted file (the inode lives while it is
 * open), and such commits vanish at the next start: refuse to commit rather
 * than acknowledge leases no restart will find.  Said once, not per batch. */
static int check_file(struct store *s)
{
	struct stat st;
	int e = stat(s->path, &st) < 0 ? errno : 0;

	if (!e && st.st_dev == s->dev && st.st_ino == s->ino) {
		if (s->gone)
			log_msg(LOG_NOTICE, "database %s is back; recording leases again", s->path);
		s->gone = false;
		return 0;
	}
	if (!s->gone)
		log_msg(LOG_ERR, "database %s was %s while open; refusing leases until rtallocd is restarted",
			s->path, e ? "deleted" : "replaced");
	s->gone = true;
	return -ESTALE;
}

int store_check(struct store *s)
{
	return check_file(s);
}

int store_begin(struct store *s)
{
	int ret = check_file(s);

	return ret < 0 ? ret : step(s, s->begin);
}

int store_commit(struct store *s)
{
	return step(s, s->commit);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		step(s, s->rollback);
}

int store_put(struct store *s, const struct store_row *r)
{
	sqlite3_stmt *st = s->put;

	sqlite3_bind_int(st, 1, r->family);
	sqlite3_bind_text(st, 2, r->ifname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->table);
	sqlite3_bind_int64(st, 6, r->expires);
	sqlite3_bind_int64(st, 7, r->uid);
	sqlite3_bind_text(st, 8, r->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, r->alive);
	return step(s, st);
}

/* Truncating copy; snprintf("%s") cost a tenth of start-up with 100,000
 * rows (four columns each). */
static void copy_text(char *dst, size_t size, const unsigned char *src)
{
	size_t n = src ? strnlen((const char *)src, size - 1) : 0;

	memcpy(dst, src ? (const char *)src : "", n);
	dst[n] = '\0';
}

const char *store_error(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

int store_load(struct store *s, int (*cb)(void *ctx, const struct store_row *r), void *ctx)
{
	sqlite3_stmt *st = NULL;
	struct store_row r;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT family, ifname, address, tag, tbl, expires, uid,"
			       " boot_id, alive FROM leases ORDER BY alive DESC, expires DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t table = sqlite3_column_int64(st, 4), uid = sqlite3_column_int64(st, 6);
		int family = sqlite3_column_int(st, 0);

		memset(&r, 0, sizeof(r));
		/* Rows are checked like datagrams: the file may have been edited. */
		if (table < 0 || table > UINT32_MAX || uid < 0 || uid > UINT32_MAX ||
		    family < 0 || family > 255) {
			log_msg(LOG_WARNING, "database: ignoring a row with table %lld uid %lld family %d",
				(long long)table, (long long)uid, family);
			continue;
		}
		r.family = (uint8_t)family;
		copy_text(r.ifname, sizeof(r.ifname), sqlite3_column_text(st, 1));
		copy_text(r.address, sizeof(r.address), sqlite3_column_text(st, 2));
		copy_text(r.tag, sizeof(r.tag), sqlite3_column_text(st, 3));
		r.table = (uint32_t)table;
		r.expires = sqlite3_column_int64(st, 5);
		r.uid = (uint32_t)uid;
		copy_text(r.boot_id, sizeof(r.boot_id), sqlite3_column_text(st, 7));
		r.alive = sqlite3_column_int(st, 8) != 0;
		ret = cb(ctx, &r);
		if (ret < 0)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		ret = -EIO;
cleanup:
	sqlite3_finalize(st);
	return ret;
}
