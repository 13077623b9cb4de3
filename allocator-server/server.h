/* server: the datagram socket, credentials, and group commit.  A batch of
 * datagrams is applied to the ledger, written in one transaction, and only
 * then answered. */
#ifndef RTALLOC_SERVER_H
#define RTALLOC_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ledger.h"
#include "log.h"
#include "loop.h"
#include "store.h"

#define SERVER_BATCH 128

struct server_slot;

struct server {
	struct loop *loop;
	const struct config *cfg;
	struct store *store;
	struct ledger ledger;
	char boot_id[STORE_BOOT_ID_MAX];
	uid_t self_uid;
	struct loop_fd sock;
	struct loop_timer expiry;
	int64_t armed_for;		/* the expiry the timer is set for; 0 none */
	struct lease *dirty;		/* rows to write in the next commit */
	bool unwritten;			/* renewals acked without a write */
	struct ratelimit rl;
	struct server_slot *slots;	/* SERVER_BATCH receive/reply slots */
	char *listbuf;
	/* Grace after lost state (grace_if_lost()): until grace_until
	 * (CLOCK_BOOTTIME), keys holding no table get none of the tables
	 * rtalloc's rules used at the start (grace_held: bit table - offset;
	 * NULL: all), and are not answered while no other one is free. */
	bool grace_closed;
	int64_t grace_until;
	uint64_t *grace_held;
	unsigned grace_waiting, grace_granted;
};

/* Opens the database, restores leases, binds @socket_path.  err gets a
 * one-line reason.  0 or -errno. */
int server_init(struct server *s, struct loop *l, const struct config *cfg,
		char *err, size_t errlen);
void server_free(struct server *s);
/* /proc/sys/kernel/random/boot_id, or "unknown". */
void server_boot_id(char *buf, size_t len);

#endif
