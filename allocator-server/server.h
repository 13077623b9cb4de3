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
#define SERVER_FIREZONE_MARK	0xfd002021u	/* never leased (config.h) */

/* The names rtallocd listens on (docs/protocol.md, Transport).  The file
 * socket comes first: only a privileged process can bind it, and it is
 * drained before the abstract names, which anyone can flood. */
enum server_sock {
	SERVER_SOCK_FILE,		/* socket_file, e.g. /run/rtalloc/rtallocd.sock */
	SERVER_SOCK_EXACT,		/* @socket_path, its exact length (v2 clients) */
	SERVER_SOCK_PADDED,		/* @socket_path NUL-padded to the whole sun_path (v1) */
	SERVER_SOCKS
};

struct server_slot;
struct server;

struct server_listener {
	struct loop_fd h;		/* fd -1: not bound */
	struct server *s;
};

struct server {
	struct loop *loop;
	const struct config *cfg;
	struct store *store;
	struct ledger ledger;
	/* Marks under cfg->mark_mask, AF_UNSPEC keys, table = mark index
	 * (pool_mark_value()); written as STORE_FAMILY_MARK rows. */
	struct ledger marks;
	char boot_id[STORE_BOOT_ID_MAX];
	uid_t self_uid;
	struct server_listener socks[SERVER_SOCKS];
	char sock_file[108];		/* the file bound, "" none */
	ino_t sock_file_ino;		/* so exit unlinks only our own */
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

/* Binds the names, opens the database, restores leases.  err gets a
 * one-line reason.  0 or -errno. */
int server_init(struct server *s, struct loop *l, const struct config *cfg,
		char *err, size_t errlen);
void server_free(struct server *s);
/* /proc/sys/kernel/random/boot_id, or "unknown". */
void server_boot_id(char *buf, size_t len);

#endif
