/* ctl: a per-address run's control sockets.  It holds its key's control
 * names (common/owner.h: root's file name, then the abstract one), which
 * make it the key's one run, and answers later runs for the key over them,
 * only for root or its own uid (the kernel's SCM_CREDENTIALS):
 *   "table"         -> "table N"
 *   "prefix LEN"    -> moves the `to NET` rule to LEN; "table N"
 *   "routes?"       -> "routes\n..." (what it owns; hold_msg)
 *   "routes\n..."   -> they replace its routes; "table N"
 *   "release"       -> the run ends, cleans up, then "released"
 * The run decides what each means (struct ctl_ops); this module only
 * receives, checks, parses and answers. */
#ifndef RTALLOC_CTL_H
#define RTALLOC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "loop.h"
#include "owner.h"
#include "routearg.h"

/* The longest answer but a routes message. */
#define CTL_MSG_MAX 64

struct ctl;

struct ctl_ops {
	uint32_t (*table)(struct ctl *c);	/* the table held now */
	void (*prefix)(struct ctl *c, uint8_t len);	/* 1..host length */
	size_t (*routes_msg)(struct ctl *c, char *buf, size_t len);
	void (*routes_set)(struct ctl *c, const struct route_arg *r, size_t n);
	void (*release)(struct ctl *c);		/* answered by ctl_close() */
};

struct ctl {
	const struct ctl_ops *ops;
	int family;
	struct ratelimit *rl;		/* the run's, for lines about bad requests */
	int fd;				/* the abstract name, -1 if a squatter has it */
	struct loop_fd h;
	struct owner_file file;		/* root's file name (fd -1: none) */
	struct loop_fd file_h;
	struct sockaddr_un release_peer;	/* who asked for "release" */
	socklen_t release_peer_len;
	int release_fd;			/* the socket it asked on */
};

/* Nothing held yet; ops may be NULL for a run that never serves (-r). */
void ctl_init(struct ctl *c, const struct ctl_ops *ops, int family, struct ratelimit *rl);
/* Becomes key's holder: root's file name, then the abstract one.  0 (held;
 * a squatter on the abstract name is logged and left alone), -EADDRINUSE
 * (an rtalloc holds the key: ask it, owner_ask), or -errno. */
int ctl_lock(struct ctl *c, const struct proto_request *key);
/* Serves the names held in l.  0 or -errno. */
int ctl_start(struct ctl *c, struct loop *l);
/* Lets go of the names: a new run for the key may hold them from now on;
 * then tells the asker of "release" (if any) "released".  Accepts a ctl
 * that holds nothing. */
void ctl_close(struct ctl *c);

#endif
