/* rules: the policy rules that select a leased table, as desired state, and
 * their reconciliation with the kernel through rtnetlink. */
#ifndef RTALLOC_RULES_H
#define RTALLOC_RULES_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "nl.h"

/* FRA_PROTOCOL of every rule rtalloc installs (`ip rule` shows `proto 122`).
 * It is how rtalloc knows its own rules: it never adds, deletes or restores a
 * rule without it, and finds its leftovers by it after a crash. */
#define RTPROT_RTALLOC 0x7a

struct cli_opts;

struct rule {
	uint8_t family;
	uint32_t pref;
	uint32_t table;
	struct inet_addr src, dst;	/* family 0: not set */
	uint8_t src_len, dst_len;
	char iif[IFNAMSIZ];		/* "" when not set */
	bool has_fwmark;
	uint32_t fwmark, fwmask;
	uint8_t proto;
	bool has_suppress;		/* suppress_prefixlength suppress */
	uint8_t suppress;
};

/* from, guard, to, iif lo, fwmark, and up to CLI_FORWARD_MAX (4) forward
 * iifs: one netlink batch (NL_BATCH_MAX). */
#define RULES_MAX 10

struct ruleset {
	size_t n;
	struct rule r[RULES_MAX];
};

/* The rules for opts' address and table T: from ADDR, to NETWORK/PREFIX
 * (none for a /0) with its guard at pref_to - 1, `to NETWORK/PREFIX lookup
 * main suppress_prefixlength PREFIX` (for 0 < PREFIX < the host length), so
 * main's more specific routes on other links (a LAN, a VPN) come first
 * whatever prefix the network hands out; iif lo, the fwmark rule when asked
 * for, and `iif IF` for each --forward-iif.  The guard is shared by every
 * address of NETWORK/PREFIX: rules_del() removes it with the last `to`
 * rule of ours that needs it. */
void rules_build(const struct cli_opts *o, uint32_t table, struct ruleset *rs);
bool rule_equal(const struct rule *a, const struct rule *b);
/* r is a guard (rules_build) at pref_to - 1. */
bool rule_is_guard(const struct rule *r, uint32_t pref_to);
/* Human-readable, for logs: "pref 10000 from 192.0.2.7/32 lookup 10000". */
const char *rule_str(const struct rule *r, char *buf, size_t len);

/* Parses one RTM_NEWRULE message of ours (FRA_PROTOCOL RTPROT_RTALLOC)
 * into r; false for anyone else's or a truncated one. */
bool rule_parse(const struct nlmsghdr *nlh, struct rule *r);

/* Adds every rule in one batch, each ACKed; one that exists identically
 * counts as added.  On any refusal the ones added are deleted again and the
 * first error is returned (-errno) with the failed rule in *failed. */
int rules_add(struct nl *nl, const struct ruleset *rs, const struct rule **failed);
/* Deletes every rule in one batch; ones already gone are not an error.
 * A guard goes only when no `to` rule of ours (any table) still needs it.
 * Returns 0 or the first other -errno. */
int rules_del(struct nl *nl, const struct ruleset *rs);
/* Dumps the kernel's rules of rs's family and re-adds the ones of rs that are
 * missing.  *restored counts them.  0 or -errno. */
int rules_reconcile(struct nl *nl, const struct ruleset *rs, unsigned *restored);
/* After a run for o's address died (kill -9): deletes our rules that it left,
 * found by o's `from ADDR` rule at pref_from with a table other than table
 * (0: every table is stale, as for -r with no daemon); the `to NET`, `iif lo`
 * and fwmark rules of that table too, unless another address's `from` rule
 * uses the table.  *removed counts the rules deleted.  0 or -errno. */
int rules_clear_stale(struct nl *nl, const struct cli_opts *o, uint32_t table, unsigned *removed);

#endif
