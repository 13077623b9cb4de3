/* kmsg: the one builder and parser of rtnetlink messages (rules, routes,
 * addresses, links and their events), over kobj.h's types.  kernel.c
 * carries them for the engine; a program with a netlink socket of its own
 * (common/nl.h) fills and reads its messages only through these. */
#ifndef RTALLOC_KMSG_H
#define RTALLOC_KMSG_H

#include <stdbool.h>

#include <libmnl/libmnl.h>

#include "kernel.h"
#include "nl.h"

/* An RTM_NEWRULE/RTM_DELRULE message -> r (any protocol: callers that
 * want only rtalloc's check r->proto == RTPROT_RTALLOC).  false when it is
 * truncated or of another family than IPv4/IPv6. */
bool krule_parse(const struct nlmsghdr *nlh, struct krule *r);
/* An RTM_NEWRULE of rtalloc's (protocol 122) -> r; false for anything else. */
bool krule_parse_ours(const struct nlmsghdr *nlh, struct krule *r);
/* A dumped rule or a new rule's event of rtalloc's (protocol 122). */
static inline bool kevent_rule_ours(const struct kevent *ev)
{
	return ev->type == KOBJ_RULE && !ev->del && ev->rule.proto == RTPROT_RTALLOC;
}
/* nlh's type and flags (added to its NLM_F_REQUEST | NLM_F_ACK) for a
 * change of a rule, a route or a nexthop object (type KOBJ_RULE,
 * KOBJ_ROUTE or KOBJ_NEXTHOP): add, with NLM_F_CREATE and, for a rule,
 * NLM_F_EXCL (one that exists: -EEXIST), for a route with replace,
 * NLM_F_REPLACE (whatever route of its key was there goes), for a nexthop
 * object always NLM_F_REPLACE (the object of its id is replaced); else a
 * deletion.  Its payload follows (krule_put, kroute_put, knhobj_put...). */
void kmsg_change_head(struct nlmsghdr *nlh, enum kobj_type type, bool add, bool replace);
/* Appends r's fib_rule_hdr and attributes to nlh (its type and flags are
 * the caller's; nothing of the payload written yet). */
void krule_put(struct nlmsghdr *nlh, const struct krule *r);
/* The same for a route; add false: a deletion (scope NOWHERE matches any).
 * Added with r->nh_id, the route goes through that nexthop object. */
void kroute_put(struct nlmsghdr *nlh, const struct kroute *r, bool add);
/* r (its oif and gw unset) with an RTA_MULTIPATH of the n nexthops. */
void kroute_put_multipath(struct nlmsghdr *nlh, const struct kroute *r, const struct knexthop *nh,
			  size_t n);
/* r (its oif and gw unset) through nexthop object id (RTA_NH_ID). */
void kroute_put_nhobj(struct nlmsghdr *nlh, const struct kroute *r, uint32_t id);
/* A nexthop object o (a device's or a group) to nlh; add false: a
 * deletion, its header bare and only o->id. */
void knhobj_put(struct nlmsghdr *nlh, const struct knhobj *o, bool add);
/* An RTM_NEWNEXTHOP -> o, its group's members (up to max) into m.  false
 * when it is truncated or has no id. */
bool knhobj_parse(const struct nlmsghdr *nlh, struct knhobj *o, struct knhmember *m, size_t max);
/* An RTM_NEWNEIGH / RTM_DELNEIGH with a destination -> n; false for
 * anything else. */
bool kneigh_parse(const struct nlmsghdr *nlh, struct kneigh *n);
/* An RTM_GETNEIGH dump request of family's neighbours into nlh (a bare
 * header: mnl_nlmsg_put_header). */
void kneigh_dump_put(struct nlmsghdr *nlh, int family);
/* An RTM_NEWNDUSEROPT of IPv6 whose options fit the message -> u. */
bool kuseropt_parse(const struct nlmsghdr *nlh, struct kuseropt *u);
/* Each recursive DNS server of the RDNSS options (RFC 8106) among the ND
 * options opt[0..len) -> cb with its lifetime in seconds (0: withdrawn).
 * The walk stops at an option of length 0 or past the end. */
void knd_rdnss_each(const uint8_t *opt, size_t len,
		    void (*cb)(const struct inet_addr *a, uint32_t life_s, void *data), void *data);
/* Adds (NLM_F_CREATE | NLM_F_EXCL) or deletes the n rules through nl, in
 * batches of NL_BATCH_MAX, each ACKed: errs[i] is 0 or -errno of rule i
 * (-EEXIST on add and -ENOENT on delete included: the caller decides).
 * 0, or -errno when an exchange itself failed. */
int krules_send(struct nl *nl, const struct krule *const *r, size_t n, bool add, int *errs);
/* Any message of a link, address, route or rule -> cb as kevent(s): one, or
 * one per nexthop of a multipath route.  type: only that kobj_type (-1: any). */
void kmsg_emit(const struct nlmsghdr *nlh, int type, kernel_cb cb, void *data);

/* The request of a dump of type's objects as f asks (struct kfilter,
 * kernel.h) into nlh (a bare header: mnl_nlmsg_put_header), its flags
 * set: NLM_F_DUMP, or for a link with an ifindex an RTM_GETLINK of that
 * index with NLM_F_ACK (no dump).  true when the kernel must check it
 * strictly (NETLINK_GET_STRICT_CHK) to filter. */
bool kmsg_dump_put(struct nlmsghdr *nlh, enum kobj_type type, const struct kfilter *f);
/* One dump of type's objects through nl (kmsg_dump_put's request), each
 * message through kmsg_emit to cb; what f leaves out never reaches cb.  A
 * link, or a route table, that the kernel does not have: nothing, 0.
 * 0 or -errno; -EINTR when the kernel's state changed meanwhile
 * (the caller repeats it, its cb then sees objects again). */
int kmsg_dump(struct nl *nl, enum kobj_type type, const struct kfilter *f, kernel_cb cb, void *data);
/* kmsg_dump, begun again while the kernel's state changes under it
 * (-EINTR, 5 tries at most).  restart, when not NULL, gets data before
 * each new try, to forget what cb collected from the interrupted one (a cb
 * that keeps objects by key, or only marks what it saw, needs none). */
int kmsg_dump_stable(struct nl *nl, enum kobj_type type, const struct kfilter *f, kernel_cb cb, void *data,
		     void (*restart)(void *data));

#endif
