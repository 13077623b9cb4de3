/* groups: a datagram sender's supplementary groups, from the kernel. */
#ifndef RTALLOC_GROUPS_H
#define RTALLOC_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Whether the process cr names (SCM_CREDENTIALS) is in one of gids[n] by its
 * supplementary groups, read from /proc/PID/status now.  That file must
 * also show cr's uid and gid, so a pid reused by a process of another user
 * (the sender gone) is not taken for the sender; a pid reused by a process
 * of the same uid and gid between the send and this read is (the residual
 * race, documented in SECURITY.md).  false when the process is gone. */
bool groups_match(const struct ucred *cr, const uint32_t *gids, size_t n);

#endif
