/* config: rtallocd's JSON configuration, validated into a typed struct.
 * Keys of MONROE's table_allocator are accepted unchanged. */
#ifndef RTALLOC_CONFIG_H
#define RTALLOC_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_IDS		64
#define CONFIG_DEFAULT_OFFSET	10000
#define CONFIG_DEFAULT_TABLES	1000
#define CONFIG_DEFAULT_TIMEOUT	3600
#define CONFIG_DEFAULT_DB	"/var/lib/rtalloc/leases.db"
#define CONFIG_MAX_TABLES	1000000
#define CONFIG_MAX_TIMEOUT	(365 * 86400)
/* Marks rtallocd leases (docs/protocol.md, Marks): the top nibble, clear of
 * the marks other tools hard-code: Tailscale's 0xff0000, mwan3's 0x3f00,
 * Gluon's 0x1; Firezone's single mark 0xfd002021 shares these bits, so its
 * value under the mask (0xf0000000) is never leased. */
#define CONFIG_DEFAULT_MARK_MASK	0xf0000000u
#define CONFIG_MAX_MARK_BITS	16
#define CONFIG_SOCKET_DIR	"/run/rtalloc"	/* where clients look for socket_file */

struct config {
	char socket_path[108];		/* abstract name, without the leading NUL */
	/* Filesystem socket only a privileged process can bind; "" = none.
	 * Default CONFIG_SOCKET_DIR/<socket_path>.sock (socket_file_set false). */
	char socket_file[108];
	bool socket_file_set;
	uint32_t table_offset;
	uint32_t num_tables;
	uint32_t table_timeout;		/* seconds */
	char db_path[PATH_MAX];
	bool do_syslog;
	char log_path[PATH_MAX];	/* "" = no log file */
	bool af_inet, af_inet6, af_unspec;
	uint32_t allowed_uids[CONFIG_MAX_IDS];
	size_t n_uids;
	uint32_t allowed_gids[CONFIG_MAX_IDS];
	size_t n_gids;
	/* May list leases (rtalloc --list, --status, show) but not lease. */
	uint32_t read_uids[CONFIG_MAX_IDS];
	size_t n_read_uids;
	uint32_t read_gids[CONFIG_MAX_IDS];
	size_t n_read_gids;
	/* After a start with lost or stale state, how long tables that a live
	 * client may still hold are kept for it (0: one renewal interval,
	 * config_grace()). */
	uint32_t grace_seconds;
	/* The bits of the marks leased (1..2^bits - 1 under them). */
	uint32_t mark_mask;
	unsigned n_unknown;		/* unknown keys seen (each logged) */
};

void config_defaults(struct config *c);
/* Parse JSON text over the defaults.  0 or -EINVAL with a one-line reason
 * naming the key ("num_tables: must be 1..1000000, got 0").  An unknown key
 * is not an error: one warning line names it (log_msg). */
int config_parse(struct config *c, const char *text, size_t len, char *err, size_t errlen);
/* The grace period in seconds: grace_seconds, or by default the longest a
 * live rtalloc takes to ask again: half a lease (its renewal interval), or
 * its retry back-off of at most 60 s when the server was away, plus 5 s. */
uint32_t config_grace(const struct config *c);
/* The filesystem socket to bind: socket_file, or by default
 * CONFIG_SOCKET_DIR/<socket_path>.sock (where rtalloc looks for it); "" when
 * off or when the default would not fit a sun_path. */
void config_socket_file(const struct config *c, char *buf, size_t len);
/* Read and parse a file: -errno when unreadable (err says so). */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

#endif
