/* ruleuse: how many rtalloc rules in this network namespace point into a
 * range of tables: the kernel's word that clients hold leases there, for a
 * server that finds its database gone. */
#ifndef RTALLOC_RULEUSE_H
#define RTALLOC_RULEUSE_H

#include <stdint.h>

/* rtalloc's rules (protocol 122) of both families with a table in lo..hi:
 * their number, or -errno. */
int ruleuse_count(uint32_t lo, uint32_t hi);
/* The same, and sets bit (table - lo) of held (zeroed by the caller,
 * (hi - lo) / 64 + 1 words; NULL: count only) for each table such a rule
 * uses.  A dump retried after EINTR may keep a bit of a rule deleted
 * meanwhile: a table held back longer, never one given away early. */
int ruleuse_scan(uint32_t lo, uint32_t hi, uint64_t *held);

#endif
