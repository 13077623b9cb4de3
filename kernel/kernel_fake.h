/* kernel_fake: the test controls of the in-memory kernel (kernel.h's
 * kernel_fake_open).  It behaves as the kernel does where the engine cares:
 * every change, its own or the engine's, is queued as an event; a route
 * through a link that is down is refused and a link going down loses its
 * routes; a deleted link loses its addresses; an IPv4 route deletion
 * takes the route that every field it gives matches (a gateway, device or
 * prefsrc that differs: nothing, -ESRCH), as the kernel's. */
#ifndef RTALLOC_KERNEL_FAKE_H
#define RTALLOC_KERNEL_FAKE_H

#include "kernel.h"

/* Adds the link or changes it (name, up).  0 or -errno. */
int kfake_link(struct kernel *k, int ifindex, const char *name, bool up);
int kfake_link_del(struct kernel *k, int ifindex);
/* Adds (replacing the same entry) or deletes an address. */
int kfake_addr(struct kernel *k, const struct kaddr *a, bool del);
/* Someone else adds or deletes a route or a rule. */
int kfake_route(struct kernel *k, const struct kroute *r, bool del);
int kfake_rule(struct kernel *k, const struct krule *r, bool del);
/* Someone else adds (or replaces) or deletes the multipath route whose n
 * nexthops are nh[] (each with multipath set, its own oif and gw), as the
 * kernel tells it: one event per nexthop (kernel.h). */
int kfake_multipath(struct kernel *k, const struct kroute *nh, size_t n, bool del);
/* The next kernel_events() drops what is queued and returns -ENOBUFS. */
void kfake_overflow(struct kernel *k);
/* The next n additions applied (rules, routes, nexthop objects) fail with
 * err; kfake_fail_del: the next n deletions.  n 0: none (again). */
void kfake_fail(struct kernel *k, int err, unsigned n);
void kfake_fail_del(struct kernel *k, int err, unsigned n);

const struct krule_set *kfake_rules(const struct kernel *k);
/* How many rules, routes (each nexthop of a multipath one) of table. */
size_t kfake_rules_in(const struct kernel *k, uint32_t table);
size_t kfake_routes_in(const struct kernel *k, uint32_t table);
const struct kroute_set *kfake_routes(const struct kernel *k);
/* The nexthop object id (a group's members in ->group), NULL when there is
 * none; how many there are.  They behave as the kernel's: a group names
 * existing devices' objects, an object deleted leaves its groups (an
 * empty group goes) and takes the routes through it along, a link that
 * goes down takes its objects along, a route through an object that is
 * not there is refused (-EINVAL). */
const struct knhobj *kfake_nexthop(const struct kernel *k, uint32_t id);
size_t kfake_nexthops(const struct kernel *k);
/* Changes applied through kernel_apply() that changed something. */
unsigned long kfake_changes(const struct kernel *k);
/* Objects of type handed out by dumps since the kernel was opened (what
 * a dump's filter left out is not counted: the real kernel never sends
 * it). */
unsigned long kfake_dumped(const struct kernel *k, enum kobj_type type);

#endif
