/* agent: rtalloc-agent's run: the engine over the real kernel, leases from
 * rtallocd for its uplinks (many requests in flight on one socket), one
 * loop, SIGHUP reload, readiness. */
#ifndef RTALLOC_AGENT_H
#define RTALLOC_AGENT_H

/* The tag of every lease the agent holds: it tells the agent's leases
 * from the hooks' in the server's list, after a crash too. */
#define AGENT_TAG "rtalloc-agent"

/* The abstract datagram name a running agent binds, with rtallocd's socket
 * name: one agent per server and network namespace, and `rtalloc` (the hook
 * path) sees that an agent runs before it takes an address the agent holds
 * (the first holder keeps an address). */
#define AGENT_NAME_FMT "rtalloc-agent/%s"

struct ucred;
/* Binds and listens on the name for socket_path: the fd, or -errno
 * (-EADDRINUSE: someone holds it). */
int agent_name_bind(const char *socket_path);
/* Who holds the name (the kernel's word): 0 and *cred, -ECONNREFUSED when
 * nobody does, or -errno. */
int agent_name_owner(const char *socket_path, struct ucred *cred);

/* Runs until SIGTERM or SIGINT; returns the exit status (0, or 1 when the
 * configuration or a start-up step failed, with one line logged). */
int agent_run(const char *config_path);

#endif
