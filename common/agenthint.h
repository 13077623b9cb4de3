/* agenthint: what a hook (or anyone's script) tells rtalloc-agent of an
 * uplink that the kernel cannot know: its gateways and routes when the tool
 * keeps them out of main, its DNS servers, whether it is the primary
 * uplink.  A hint travels as one file per interface in the agent's
 * root-only runtime directory (written atomically: O_EXCL temp + rename),
 * which the agent watches; so hints survive an agent restart.  This module
 * alone knows the directory and the file's format:
 *   gateway ADDR
 *   route DEST/LEN[,via GW]       (route_arg_str's text)
 *   dns ADDR
 *   primary                        (its routes stay in main)
 *   out-of-main [4|6]              (the agent moves the link's default
 *                                   routes from main into its tables; of
 *                                   one family only with 4 or 6)
 *   family 4|6                     (the hint is the sum of per-family
 *                                   ones: `rtalloc hint -4`/`-6`, each
 *                                   replacing only its family's part)
 *   fwmark MARK/MASK               (hex)
 *   forward-iif IFNAME
 * one item a line.  `rtalloc hint --down` removes the file. */
#ifndef RTALLOC_AGENTHINT_H
#define RTALLOC_AGENTHINT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "routearg.h"

#define HINT_ROOT "/run/rtalloc/hints"
/* In the directory: its mtime is when the agent last acted on the hints
 * (after the pass that read them); `rtalloc hint` waits for it. */
#define HINT_APPLIED ".applied"
#define HINT_WAIT_MS 5000
#define HINT_GW_MAX 8
#define HINT_DNS_MAX 8
#define HINT_FORWARD_MAX 4
#define HINT_FILE_MAX 8192
#define HINT_FAM_4 1
#define HINT_FAM_6 2
#define HINT_FAM_ALL (HINT_FAM_4 | HINT_FAM_6)

struct hint {
	char ifname[IFNAMSIZ];
	struct inet_addr gw[HINT_GW_MAX];	/* never 0.0.0.0, ::, multicast */
	size_t ngw;
	struct route_arg routes[ROUTEARG_MAX];
	size_t nroutes;
	struct inet_addr dns[HINT_DNS_MAX];
	size_t ndns;
	bool primary;			/* its routes stay in main (hint_out_of_main) */
	/* HINT_FAM_* bits: the families whose part per-family hints
	 * (`rtalloc hint -4`, `-6`) gave; 0: a hint of the whole uplink. */
	uint8_t families;
	/* HINT_FAM_* bits.  The agent takes the link's default routes out of main (the ones
	 * the tool put there, not the kernel's router-advertised ones) into
	 * the link's tables: a second uplink's `ip route add default` then
	 * finds none in the way, and unbound traffic follows the rules. */
	uint8_t out_of_main;
	bool has_fwmark;		/* the uplink's table also gets
					 * `fwmark MARK/MASK lookup T` */
	uint32_t fwmark, fwmask;
	/* Interfaces whose forwarded traffic takes the uplinks' tables
	 * (`iif IF lookup T`, as agent.json's forward_from). */
	char forward[HINT_FORWARD_MAX][IFNAMSIZ];
	size_t nforward;
};

/* The agent's hint directory for rtallocd's socket_path (one agent per
 * server socket): HINT_ROOT/NAME, NAME with '/' made '_'. */
int hint_dir(const char *socket_path, char *buf, size_t len);
/* Adds a gateway (0, or -EINVAL: unspecified, multicast, or full),
 * a DNS server (same), from text. */
int hint_add_gateway(struct hint *h, const char *s, char *err, size_t errlen);
int hint_add_dns(struct hint *h, const char *s, char *err, size_t errlen);
int hint_add_route(struct hint *h, const char *s, char *err, size_t errlen);
/* An interface name for forward (0, or -EINVAL: not a name, or full). */
int hint_add_forward(struct hint *h, const char *s, char *err, size_t errlen);
/* MARK[/MASK] (mark_mask_parse): 0 or -EINVAL. */
int hint_set_fwmark(struct hint *h, const char *s, char *err, size_t errlen);
/* The file's text; 0 or -ENOSPC. */
int hint_format(const struct hint *h, char *buf, size_t len);
/* Parses a file's text: 0, or -EINVAL with one line in err. */
int hint_parse(struct hint *h, const char *ifname, const char *text, char *err, size_t errlen);
/* Reads IFNAME's file of dir: 0, -ENOENT, -errno, -EINVAL (bad text). */
int hint_read(const char *dir, const char *ifname, struct hint *h);
/* Makes dir (0700) if missing; -EPERM unless it is ours alone. */
int hint_dir_make(const char *dir);
/* Writes h's file in dir atomically (dir made 0700 if missing); 0/-errno. */
int hint_write(const char *dir, const struct hint *h);
/* HINT_FAM_4 or HINT_FAM_6 for AF_INET / AF_INET6, else 0. */
unsigned hint_fam(int family);
/* The HINT_FAM_* families whose routes the agent takes out of main for h
 * (NULL: none): out_of_main's, none for a primary uplink, whose routes
 * stay in main whatever another family's hint said. */
unsigned hint_out_of_main(const struct hint *h);
/* A per-family hint (h->families one HINT_FAM_* bit) merged into what
 * *old holds: old's items of that family are replaced by h's, the other
 * family's kept; primary, fwmark and forward interfaces are h's.  With
 * down, h's family's part is taken out instead.  Returns the families
 * *old still holds (0: nothing left, the file is to go). */
unsigned hint_merge(struct hint *old, const struct hint *h, bool down);
/* Removes IFNAME's file: 0, -ENOENT, -errno. */
int hint_remove(const char *dir, const char *ifname);
/* Every valid hint file of dir (others are logged once and skipped): 0 and
 * *v (malloc'ed, may be NULL) / *n, or -errno (-ENOENT: no directory). */
int hint_load_all(const char *dir, struct hint **v, size_t *n);

#endif
