/* store: the lease database (SQLite, WAL).  One row per (table, family)
 * slot: the lease that holds it, or (alive=0) the last one that did, kept as
 * that key's preferred table.  Expiry is wall-clock unix seconds, never a
 * monotonic value.  Checkpoints run on a thread of their own, off the path
 * of the commits that acknowledge leases. */
#ifndef RTALLOC_STORE_H
#define RTALLOC_STORE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define STORE_SCHEMA_VERSION	2
#define STORE_BOOT_ID_MAX	40

/* A row of a mark lease (rtallocd's second pool): family 255, tbl the
 * mark value itself (what `ip rule' shows), never a table's family. */
#define STORE_FAMILY_MARK	255

struct store_row {
	uint8_t family;
	char ifname[IFNAMSIZ];
	char address[INET6_ADDRSTRLEN];
	char tag[PROTO_TAG_MAX + 1];
	uint32_t table;
	int64_t expires;		/* unix seconds */
	uint32_t uid;
	bool alive;
};

struct store;

/* Creates the file and schema if needed, upgrades an older one, refuses a
 * newer one.  Rows written under another boot_id are no longer alive: a
 * reboot took their policy rules. */
int store_open(struct store **out, const char *path, const char *boot_id, char *err, size_t errlen);
void store_close(struct store *s);
int store_schema_version(struct store *s);
/* Whether store_open() created the database (no file, or one without our
 * schema or the original's): the leases, if there were any, are lost. */
bool store_created(const struct store *s);
/* 0, or -ESTALE when the file opened was deleted or replaced since. */
int store_check(struct store *s);
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* Insert or replace the row of r's (table, family) slot. */
int store_put(struct store *s, const struct store_row *r);
/* SQLite's message for the last failure. */
const char *store_error(struct store *s);
/* Calls cb for every row; stops at cb's first error (-EIO: see store_error). */
int store_load(struct store *s, int (*cb)(void *ctx, const struct store_row *r), void *ctx);

#endif
