/* owner: who holds an address (the first holder keeps it).  rtalloc-agent
 * holds one abstract name per rtallocd; a per-address rtalloc holds its
 * key's control names, which answer later runs ("table", "release", ...)
 * and the agent.  Both the holders and those who ask use these, so no
 * program includes another's header to learn who holds what. */
#ifndef RTALLOC_OWNER_H
#define RTALLOC_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "lease.h"
#include "proto.h"

/* The tag of every lease the agent holds: it tells the agent's leases
 * from the hooks' in the server's list, after a crash too. */
#define AGENT_TAG "rtalloc-agent"

/* The abstract stream name a running agent binds, with rtallocd's socket
 * name: one agent per server and network namespace, and `rtalloc` (the hook
 * path) sees that an agent runs before it takes an address the agent holds
 * (the first holder keeps an address). */
#define AGENT_NAME_FMT "rtalloc-agent/%s"
/* The agent's control socket (agent/control.h), which `rtalloc exec` asks. */
#define CONTROL_NAME_FMT "rtalloc-agent/%s/control"

struct ucred;
/* Binds and listens on the agent's name for socket_path: the fd, or
 * -errno (-EADDRINUSE: someone holds it). */
int owner_agent_bind(const char *socket_path);
/* Who holds the agent's name (the kernel's word): 0 and *cred,
 * -ECONNREFUSED when nobody does, or -errno. */
int owner_agent_cred(const char *socket_path, struct ucred *cred);

/* Root's file control names live here: root's alone, in /run; not in
 * /run/rtalloc, whose owner (rtallocd's user) could plant names there. */
#define OWNER_DIR "/run/rtalloc-clients"

/* A per-address run's control names are keyed by k's family, ifname and
 * address (the canonical address, or an unspec lease's identifier). */

/* The abstract name "rtalloc/4|6/IF/KEY": its length. */
socklen_t owner_name(const struct proto_request *k, struct sockaddr_un *sa);
/* Binds the abstract name (SO_PASSCRED): 0 and *fd (we are the holder),
 * -EADDRINUSE (another process is), or -errno. */
int owner_bind(const struct proto_request *k, int *fd);

/* Root's file name OWNER_DIR/NETNS-4-IF-KEY.sock, once bound. */
struct owner_file {
	int fd;				/* -1: none */
	struct sockaddr_un sa;		/* unlinked at exit if still ours */
	ino_t ino;
};
/* Root takes the file name first: 0, -EADDRINUSE (a live rtalloc of
 * root's holds it), or -errno (not root, no /run: the abstract name only). */
int owner_file_bind(const struct proto_request *k, struct owner_file *f);
/* Unlinks the file name if it is still ours (a later run may own it). */
void owner_file_drop_name(struct owner_file *f);
/* The same and closes it; accepts one never bound (fd -1). */
void owner_file_drop(struct owner_file *f);

/* Asks the rtalloc holding k over its authenticated control names (root's
 * file socket, then the abstract one; only an answer from our own uid
 * counts; a process of another uid holding the abstract name is logged and
 * never asked): 0 with the reply, -ECONNREFUSED (nobody holds it), -EPERM
 * (another uid does), -ETIMEDOUT or -errno. */
int owner_ask(const struct proto_request *k, const char *req, unsigned timeout_ms, char *reply,
	      size_t len);

#endif
