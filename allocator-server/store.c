/* store: SQLite lease database.  WAL with synchronous=NORMAL: a commit is in
 * the OS page cache when sqlite3_step() returns, so it survives the process
 * being killed at any moment.  It may not survive power loss, but power loss
 * is a reboot, and a reboot clears every policy rule the leases stood for.
 *
 * The only fsync of synchronous=NORMAL is a checkpoint's (copying the WAL
 * back into the database file), and run by the writer it stalled the batch
 * that ran it by tens of milliseconds.  So the writer never checkpoints: a
 * thread with a connection of its own runs PASSIVE checkpoints, which copy
 * frames while the writer goes on appending to the WAL.  The thread touches
 * nothing but that connection and the few fields under `mu`. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

/* A checkpoint is asked for once the WAL holds this many pages (4 MiB)... */
#define CHECKPOINT_PAGES	1000
/* ...and the writer runs one itself, stalling, only past this many: the
 * thread is not keeping up, and the WAL must not grow without bound. */
#define CHECKPOINT_PAGES_MAX	(16 * CHECKPOINT_PAGES)

struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, stop;	/* under mu */
	atomic_int rc;		/* the last checkpoint's SQLite result */
	/* Main thread only: */
	int said;		/* the last result logged */
	int next;		/* WAL pages at which to ask for the next one */
	int last;		/* WAL pages at the last commit */
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *put, *begin, *commit, *rollback;
	char *path;
	dev_t dev;		/* the file opened: a commit into a file that was */
	ino_t ino;		/* deleted or replaced would be lost at restart */
	bool gone;		/* said so once */
	bool created;		/* the file had no leases table before this start */
	bool rttables;		/* ... but the original's RtTables */
	int64_t mtime;		/* the file's, before we opened it; 0: none */
	struct checkpointer ck;
};

/* Version 2: one row per (tbl, family) slot, keyed by slot = tbl * 256 +
 * family, so that a new lease appends to the end of one B-tree instead of
 * landing in a random page of it and of an index (version 1 keyed rows by
 * their (family, ifname, address) text and indexed tbl: the two random
 * page writes per lease were most of a lease's cost).  The boot that
 * wrote the live rows is said once, in meta. */
static const char schema[] =
	"CREATE TABLE leases ("
	" slot INTEGER PRIMARY KEY,"	/* tbl * 256 + family */
	" family INTEGER NOT NULL,"
	" ifname TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" tag TEXT NOT NULL DEFAULT '',"
	" tbl INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"	/* unix seconds (wall clock) */
	" uid INTEGER NOT NULL,"
	" alive INTEGER NOT NULL);"
	"CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), boot_id TEXT NOT NULL);";

/* Version 1 to 2: of the rows of one slot, the live one or else the latest
 * is kept (OR REPLACE in that order); rows of another boot are not alive.
 * meta is written first: the SELECT compares with it. */
static const char upgrade_v1[] =
	"DROP INDEX IF EXISTS leases_tbl;"
	"ALTER TABLE leases RENAME TO leases_v1;"
	"%s"			/* schema */
	"INSERT INTO meta (id, boot_id) VALUES (1, %Q);"
	"INSERT OR REPLACE INTO leases (slot, family, ifname, address, tag, tbl, expires, uid, alive)"
	" SELECT tbl * 256 + family, family, ifname, address, tag, tbl, expires, uid,"
	" alive != 0 AND boot_id = (SELECT boot_id FROM meta) AS live"
	" FROM leases_v1 WHERE family BETWEEN 0 AND 255 AND tbl BETWEEN 0 AND 4294967295"
	" ORDER BY live, expires;"
	"DROP TABLE leases_v1;";

/* The 2017 table_allocator's database: table RtTables (RtTable,
 * AddrFamily, Ifname, Addr, LeaseExpires, Tag), LeaseExpires in
 * CLOCK_MONOTONIC_RAW seconds of the boot that wrote it.  Rows become ours
 * in one transaction, RtTables goes in it too: a crash leaves either file.
 * Of one slot's rows the live one, else the latest, is kept.  %s: schema;
 * then the boot_id; then, computed by adopt_times(): the live condition's
 * "this boot" (0/1), raw now, the latest possible expiry; the wall clock's
 * now, raw now again; and the end of a dead row. */
static const char adopt_v0[] =
	"%s"
	"INSERT INTO meta (id, boot_id) VALUES (1, %Q);"
	"INSERT OR REPLACE INTO leases (slot, family, ifname, address, tag, tbl, expires, uid, alive)"
	" SELECT RtTable * 256 + AddrFamily, AddrFamily, Ifname, Addr, coalesce(Tag, ''), RtTable,"
	"  CASE WHEN live THEN %lld + (LeaseExpires - %lld) ELSE %s END, 0, live"
	" FROM (SELECT *, (%d AND LeaseExpires > %lld AND LeaseExpires <= %lld) AS live FROM RtTables"
	"  WHERE AddrFamily IN (0, 2, 10) AND typeof(RtTable) = 'integer'"
	"  AND RtTable BETWEEN 1 AND 4294967295 AND typeof(Ifname) = 'text'"
	"  AND typeof(Addr) = 'text' AND typeof(LeaseExpires) = 'integer')"
	" ORDER BY live, LeaseExpires;"
	"DROP TABLE RtTables;";

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

bool store_created(const struct store *s)
{
	return s->created;
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

	sqlite3_bind_int64(st, 1, (int64_t)r->table * 256 + r->family);
	sqlite3_bind_int(st, 2, r->family);
	sqlite3_bind_text(st, 3, r->ifname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->table);
	sqlite3_bind_int64(st, 7, r->expires);
	sqlite3_bind_int64(st, 8, r->uid);
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

/* exec() of SQL made with sqlite3_mprintf()'s %Q; NULL (out of memory) is
 * an error like any other. */
static int execf(struct store *s, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int ret;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (!sql) {
		snprintf(err, errlen, "database %s: out of memory", s->path);
		return -ENOMEM;
	}
	ret = exec(s, sql, err, errlen);
	sqlite3_free(sql);
	return ret;
}

/* The boot_id in meta, into buf ("" when there is none). */
static int stored_boot(struct store *s, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT boot_id FROM meta WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(buf, len, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int64_t clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec;
}

static bool has_rttables(struct store *s)
{
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'RtTables'",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* The original stored no boot id, and CLOCK_MONOTONIC_RAW starts again at
 * every boot.  Its LeaseExpires are of this boot when the file was last
 * written after this boot began (its mtime, read before we opened it) and
 * end at most STORE_V0_MAX_LEASE from now; otherwise a reboot took their
 * rules, and they are preferences only. */
#define STORE_V0_MAX_LEASE (365 * 86400LL)

static int adopt(struct store *s, const char *boot_id, char *err, size_t errlen)
{
	int64_t raw = clock_s(CLOCK_MONOTONIC_RAW), wall = clock_s(CLOCK_REALTIME);
	int64_t boot_start = wall - clock_s(CLOCK_BOOTTIME);
	bool this_boot = s->mtime >= boot_start;
	char dead[96];

	if (this_boot)	/* when it ended, if before now */
		snprintf(dead, sizeof(dead), "min(%lld, %lld + (LeaseExpires - %lld))", (long long)wall,
			 (long long)wall, (long long)raw);
	else
		snprintf(dead, sizeof(dead), "%lld", (long long)s->mtime);
	return execf(s, err, errlen, adopt_v0, schema, boot_id, (long long)wall, (long long)raw, dead,
		     this_boot, (long long)raw, (long long)(raw + STORE_V0_MAX_LEASE));
}

/* One line of what was taken over from the original's file. */
static void adopt_log(struct store *s)
{
	sqlite3_stmt *st;
	int live = 0, dead = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT sum(alive), sum(alive = 0) FROM leases", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		live = sqlite3_column_int(st, 0);
		dead = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	log_msg(LOG_NOTICE, "database %s: took over table_allocator's RtTables: %d live leases of this"
		" boot, %d kept as preferred tables of their keys", s->path, live, dead);
}

/* Brings the file to this version's schema and boot, in one transaction:
 * creates it (version 0), upgrades it (1), or, when the boot changed, ends
 * the leases of the boot before.  A current file of this boot is only
 * read: one whose pages are damaged is left as it is for the operator. */
static int migrate(struct store *s, int v, const char *boot_id, char *err, size_t errlen)
{
	char old[STORE_BOOT_ID_MAX];
	int ret;

	if (v == STORE_SCHEMA_VERSION) {
		if (stored_boot(s, old, sizeof(old)) < 0) {
			snprintf(err, errlen, "database %s: %s", s->path, sqlite3_errmsg(s->db));
			return -EIO;
		}
		if (!strcmp(old, boot_id))
			return 0;
	}
	ret = exec(s, "BEGIN IMMEDIATE", err, errlen);
	if (ret < 0)
		return ret;
	if (v == 0 && s->rttables)
		ret = adopt(s, boot_id, err, errlen);
	else if (v == 0)
		ret = execf(s, err, errlen, "%s INSERT INTO meta (id, boot_id) VALUES (1, %Q);",
			    schema, boot_id);
	else if (v == 1)
		ret = execf(s, err, errlen, upgrade_v1, schema, boot_id);
	else
		ret = execf(s, err, errlen, "UPDATE leases SET alive = 0 WHERE alive != 0;"
			    " INSERT OR REPLACE INTO meta (id, boot_id) VALUES (1, %Q);", boot_id);
	if (ret == 0)
		ret = execf(s, err, errlen, "PRAGMA user_version=%d; COMMIT;", STORE_SCHEMA_VERSION);
	if (ret < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (v == 1)
		log_msg(LOG_NOTICE, "database %s: upgraded from schema version 1 to %d", s->path,
			STORE_SCHEMA_VERSION);
	if (v == 0 && s->rttables)
		adopt_log(s);
	return 0;
}

static void *checkpoint_main(void *arg)
{
	struct checkpointer *ck = arg;

	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (!ck->want && !ck->stop)
			pthread_cond_wait(&ck->cv, &ck->mu);
		if (ck->stop)
			break;
		ck->want = false;
		pthread_mutex_unlock(&ck->mu);
		atomic_store(&ck->rc, sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
								NULL, NULL));
		pthread_mutex_lock(&ck->mu);
	}
	pthread_mutex_unlock(&ck->mu);
	return NULL;
}

/* SQLite calls this after every commit with the WAL's size in pages;
 * being a WAL hook, it also turns off the writer's own autocheckpoint. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;
	struct checkpointer *ck = &s->ck;
	int rc = atomic_load(&ck->rc);

	if (rc != ck->said) {
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_msg(LOG_WARNING, "database %s: checkpoint: %s", s->path, sqlite3_errstr(rc));
		ck->said = rc;
	}
	/* Under steady load the WAL does not restart (that needs every frame
	 * copied at the start of a write), so it stays above CHECKPOINT_PAGES:
	 * ask again only as it grows by another quarter of that, not at every
	 * commit, which kept the thread syncing and contending for SQLite's
	 * file mutex with the writer. */
	if (pages < ck->last)
		ck->next = CHECKPOINT_PAGES;	/* the WAL restarted */
	ck->last = pages;
	if (pages >= CHECKPOINT_PAGES_MAX || (pages >= CHECKPOINT_PAGES && !ck->running)) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= ck->next) {
		ck->next = pages + CHECKPOINT_PAGES / 4;
		pthread_mutex_lock(&ck->mu);
		ck->want = true;
		pthread_cond_signal(&ck->cv);
		pthread_mutex_unlock(&ck->mu);
	}
	return SQLITE_OK;
}

/* Without the thread (no memory for it), the writer checkpoints itself. */
static void checkpointer_start(struct store *s)
{
	struct checkpointer *ck = &s->ck;

	ck->next = CHECKPOINT_PAGES;
	sqlite3_wal_hook(s->db, wal_hook, s);
	/* A connection finds out the file is in WAL mode at its first read;
	 * until then its checkpoints do nothing. */
	if (sqlite3_open_v2(s->path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(ck->db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64;"
			 " SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL) != SQLITE_OK ||
	    pthread_create(&ck->thread, NULL, checkpoint_main, ck) != 0) {
		log_msg(LOG_WARNING, "database %s: no checkpoint thread; commits will run checkpoints",
			s->path);
		sqlite3_close(ck->db);
		ck->db = NULL;
		return;
	}
	ck->running = true;
}

static void checkpointer_stop(struct checkpointer *ck)
{
	if (ck->running) {
		pthread_mutex_lock(&ck->mu);
		ck->stop = true;
		pthread_cond_signal(&ck->cv);
		pthread_mutex_unlock(&ck->mu);
		pthread_join(ck->thread, NULL);
		ck->running = false;
	}
	sqlite3_close(ck->db);
	ck->db = NULL;
}

int store_open(struct store **out, const char *path, const char *boot_id, char *err, size_t errlen)
{
	struct store *s;
	struct stat st;
	int ret, v;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->ck.mu, NULL);
	pthread_cond_init(&s->ck.cv, NULL);
	s->path = strdup(path);
	if (!s->path) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* Before SQLite touches it: the original's file tells its boot by it. */
	if (stat(path, &st) == 0)
		s->mtime = st.st_mtim.tv_sec;
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
	/* New leases append to one B-tree and nothing else reads the file
	 * while running: 512 KiB of page cache instead of SQLite's 2 MiB does
	 * as well and is 1.5 MiB of rtallocd's memory less.  A WAL that grew
	 * in a burst is cut back to its usual size when it restarts. */
	ret = execf(s, err, errlen, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		    " PRAGMA cache_size=-512; PRAGMA journal_size_limit=%d;", CHECKPOINT_PAGES * 4096);
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
	s->rttables = v == 0 && has_rttables(s);
	s->created = v == 0 && !s->rttables;
	ret = migrate(s, v, boot_id, err, errlen);
	if (ret == 0)
		ret = prepare(s, "INSERT OR REPLACE INTO leases (slot, family, ifname, address, tag, tbl,"
			      " expires, uid, alive) VALUES (?,?,?,?,?,?,?,?,?)", &s->put, err, errlen);
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
	checkpointer_start(s);
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
	checkpointer_stop(&s->ck);
	pthread_mutex_destroy(&s->ck.mu);
	pthread_cond_destroy(&s->ck.cv);
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
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
			       " alive FROM leases ORDER BY alive DESC, expires DESC",
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
		r.alive = sqlite3_column_int(st, 7) != 0;
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
