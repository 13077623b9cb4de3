/* daemon: one rtalloc per (family, interface, address).  Holds the lease and
 * the rules, renews, restores deleted rules, and cleans up when the address
 * or the link goes away.  The single-instance lock is an abstract unix socket
 * named after the key ("rtalloc/4/eth0/192.0.2.7"), which also answers later
 * runs: "table" -> "table N", "release" -> (cleans up) "released". */
#ifndef RTALLOC_DAEMON_H
#define RTALLOC_DAEMON_H

#include "cli.h"

/* The whole run for a lease (steps: lock, subscribe, check, lease, rules,
 * print, background, loop).  Returns an exit status (enum rtalloc_exit). */
int daemon_main(const struct cli_opts *o);
/* -r: asks the running daemon to clean up, or cleans up directly. */
int daemon_release(const struct cli_opts *o);
#endif
