/* control: rtalloc-agent's control socket, for `rtalloc exec UPLINK`.
 *
 * An abstract stream socket (CONTROL_NAME_FMT with rtallocd's socket name).
 * A caller the kernel vouches for (SO_PEERCRED: root, or a member of
 * agent.json's exec_gids) sends one line, `exec UPLINK default|strict`;
 * the agent moves the caller's process into a cgroup whose BPF program
 * marks every inet socket its processes create (packetmark's cgmark), and
 * answers `ok MARK` (or `error WHY`).  The connection held open is a user
 * of the mark: while an uplink's mark has users the agent keeps, per
 * family, `fwmark MARK/MASK lookup T` for each table T of the uplink
 * (KPREF_EXEC), and for strict users `fwmark MARK/MASK unreachable`
 * (KPREF_EXEC_STRICT), in step with table moves, new addresses, rules
 * deleted by others and rtalloc-track's health (an offline uplink's lookup
 * rules go: its traffic follows unbound traffic, or is refused when
 * strict).  The last user gone, the rules go (after CONTROL_LINGER_MS,
 * which a next user of the same uplink and policy takes over as they are:
 * no lease, no rule dump for each command of a loop).  When the agent stops,
 * the unreachable rules of strict commands still running and of strict
 * bindings stay, and a strict cgroup binding's program with them (their
 * traffic never leaks out of another uplink while no agent runs). */
#ifndef RTALLOC_CONTROL_H
#define RTALLOC_CONTROL_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "bindings.h"
#include "lease.h"
#include "loop.h"
#include "nl.h"
#include "owner.h"	/* CONTROL_NAME_FMT */

/* The marks of exec slots are leased from rtallocd's mark_mask (a v2
 * request with "mark":1, docs/protocol.md, Marks), one per slot in use,
 * renewed while it is, released when it is not.  Only a server that leases
 * no marks (the 2017 one, v1) leaves the fixed (slot + 1) << 24 under this
 * mask (Tailscale 0xff0000, mwan3 0x3f00, Gluon 0x1 are clear of it;
 * Firezone's 0xfd002021 is never a slot's, slots end at 0x7f). */
#define CONTROL_MARK_MASK 0xff000000u
#define CONTROL_SLOTS_MAX 127
/* How long a slot's mark and rules outlive its last user. */
#define CONTROL_LINGER_MS 200
/* The name of the program bindings attach to a cgroup (bpftool shows it). */
#define CONTROL_BIND_PROG "rtalloc_bind"

struct engine;
struct agentcfg;
struct control_client;

struct control_slot {
	char ifname[IFNAMSIZ];
	bool strict;
	unsigned users;
	/* Its mark under mask (0: none yet); leased: from rtallocd, for
	 * the key (exec-NETNS-SLOT, leased_ifname), renewed at renew_ms. */
	uint32_t mark, mask;
	bool leased;
	char leased_ifname[IFNAMSIZ];
	uint64_t renew_ms;
	bool outside;			/* said: the mark is outside rtallocd's mark_mask now */
	/* Its last user gone: its mark and rules are kept until then (0:
	 * not lingering), for the next user of a loop of `rtalloc exec`. */
	uint64_t linger_ms;
};

/* A cgroup binding with its program, holding a user of its slot. */
struct control_bound {
	int slot;
	char cgroup[BINDING_CGROUP_MAX];
};

struct control {
	struct loop *loop;
	struct engine *e;
	const struct agentcfg *cfg;
	struct loop_fd listen;
	struct loop_timer tick;
	struct nl nl;
	struct control_slot slots[CONTROL_SLOTS_MAX];
	struct control_client *clients;
	size_t nclients;
	struct control_bound bound[BINDINGS_MAX];	/* cgroup bindings with their program */
	size_t nbound;
	bool open;
	char sockname[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* rtallocd's */
	struct lease_client lc;		/* for marks; fd -1 until the first */
	unsigned long netns;		/* our network namespace's inode: in keys */
	bool fixed;			/* the server leases no marks (logged once) */
	uint32_t warned_mask;		/* fwmark map checked against this mask */
	/* The exec users, for a restarted agent to take over: CONTROL_STATE_DIR
	 * /exec-NETNS-SOCKET.state (control.c, state_write()). */
	char state_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	bool closing;			/* control_close(): the state stays */
	bool in_step;			/* the last control_sync() put every wanted rule in */
	uint64_t tick_due;		/* loop_now_ms() of the armed tick, 0: none */
};

/* Root's alone: rtallocd's user owns /run/rtalloc and could plant users. */
#define CONTROL_STATE_DIR "/run/rtalloc-agent"

/* The fixed mark of a slot, for a server that leases none. */
static inline uint32_t control_fixed_mark(unsigned slot)
{
	return (uint32_t)(slot + 1) << 24;
}

/* Binds the socket for socket_path and joins the loop; cfg is read at each
 * request (the agent's, reloads included).  0 or -errno. */
int control_open(struct control *c, struct loop *loop, struct engine *e,
		 const struct agentcfg *cfg, const char *socket_path);
/* Brings the exec rules in step with the engine's uplinks and track's
 * health (after every pass, and every second while any exist). */
void control_sync(struct control *c);
/* (Re)binds the cgroups of the configuration's bindings (at start and
 * after a reload); those bound before that it no longer names (a previous
 * run's strict ones included) are unbound. */
void control_bindings(struct control *c);
/* Drops every client and removes the exec and binding rules but the
 * unreachable ones of strict commands still running and strict bindings
 * (and a strict cgroup binding's program); their marks stay leased
 * (state_recover() of the next agent renews them before it binds any
 * cgroup). */
void control_close(struct control *c);

#endif
