/* status: `rtalloc --status`, the server's leases compared with the policy
 * rules rtalloc owns in the kernel (FRA_PROTOCOL RTPROT_RTALLOC). */
#ifndef RTALLOC_STATUS_H
#define RTALLOC_STATUS_H

#include <stddef.h>
#include <stdio.h>

#include "proto.h"
#include "rules.h"

struct cli_opts;

/* Prints one line per difference to out and returns how many there were:
 *   lease without rules   a live lease and none of our rules for it
 *   missing rule          a lease with some of its rules (from, to, iif lo)
 *   different table       our `from ADDRESS` rule looks up another table
 *   rule without lease    one of our rules whose table nobody leases
 * Pure: the unit tests feed it made-up leases and rules. */
size_t status_compare(const struct proto_lease *leases, size_t nleases,
		      const struct rule *rules, size_t nrules, FILE *out);

/* Our rules of both families, in a malloc'ed array (*rules, *n).  0 or -errno. */
int status_dump_rules(struct nl *nl, struct rule **rules, size_t *n);

/* A further check of the leases (rtalloc sets the agent's: routes missing
 * from its uplinks' tables); prints its lines and returns its differences. */
typedef size_t (*status_check_fn)(const struct proto_lease *leases, size_t nleases, FILE *out);
void status_set_check(status_check_fn fn);

/* Everything --status compares (rules, tables, the check set above): the
 * number of differences, lines on out. */
size_t status_differences(const struct proto_lease *leases, size_t nleases,
			  const struct rule *rules, size_t nrules, FILE *out);

/* The whole of --status; returns the exit status (enum rtalloc_exit). */
int status_run(const struct cli_opts *o);

#endif
