/* server: the datagram socket, credentials, group commit and expiry. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "groups.h"
#include "sockowner.h"
#include "ruleuse.h"
#include "sdnotify.h"
#include "server.h"

struct server_slot {
	int fd;				/* the socket it came in on, and is answered on */
	struct sockaddr_un peer;
	socklen_t peerlen;
	union {			/* CMSG_* need cmsghdr alignment */
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cmsg;
	char in[PROTO_MAX_DATAGRAM];
	char out[512];
	struct proto_reply rep;
	int reply_fd;			/* of the nth reply (a separate array of the batch) */
	bool answer;			/* send rep */
	bool granted;			/* rep depends on the commit */
	bool list;			/* send a LIST page instead */
	uint32_t list_offset;
};

static int64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* Leases run on CLOCK_BOOTTIME: it never jumps (an NTP step of the wall
 * clock ended every lease at once while clients renew on their monotonic
 * clock) and it counts a suspend, as the clients' leases do from the
 * server's side.  The wall clock is only for the database, across
 * restarts: see wall_offset(). */
static int64_t boot_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec;
}

/* Add to a CLOCK_BOOTTIME second to get the wall clock's, as of now. */
static int64_t wall_offset(void)
{
	return wall_now() - boot_now();
}

/* v1 clients read lease_expires on this clock (the 2017 original's). */
static int64_t raw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec;
}

void server_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "unknown");
	buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static const char *family_name(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

static bool family_enabled(const struct config *c, int family)
{
	return family == AF_INET ? c->af_inet : family == AF_INET6 ? c->af_inet6 : c->af_unspec;
}

/* Peers' mistakes are logged, but never faster than the rate limit. */
static void peer_log(struct server *s, const struct ucred *cr, const char *what)
{
	if (!ratelimit_ok(&s->rl, loop_now_ms()))
		return;
	if (s->rl.suppressed) {
		log_msg(LOG_WARNING, "%llu similar messages suppressed",
			(unsigned long long)s->rl.suppressed);
		s->rl.suppressed = 0;
	}
	if (cr)
		log_msg(LOG_WARNING, "pid %d uid %u: %s", (int)cr->pid, cr->uid, what);
	else
		log_msg(LOG_WARNING, "peer without credentials: %s", what);
}

/* The ledger le belongs to. */
static struct ledger *ledger_of(struct server *s, const struct lease *le)
{
	return le->mark ? &s->marks : &s->ledger;
}

static void mark_dirty(struct server *s, struct lease *le)
{
	if (le->dirty)
		return;
	le->dirty = true;
	le->dnext = s->dirty;
	s->dirty = le;
}

/* The expiry a lease's row gets.  A live row is written with one more
 * table_timeout than was acked, so that renewals within that slack need no
 * write (do_request()): the row's expiry stays >= every expiry acked for
 * it.  A crash then can only make a lease outlive its ack, never end it
 * early; and since a later grant of the table is written with a later
 * expiry still, a restart that finds two live rows for one table keeps the
 * later one (store_load() reads the latest first). */
static int64_t row_expires(const struct server *s, const struct lease *le)
{
	return le->alive ? le->expires + s->cfg->table_timeout : le->expires;
}

/* Writes every dirty lease in one transaction.  On failure memory keeps
 * the change (a superset of the database: never a table leased twice) and
 * the caller withholds the grants.  A row is a (table, family) slot, and a
 * batch may end one lease of a table and grant it to another key: the
 * rows that end leases go first, so the slot's last row is the live one. */
static int flush(struct server *s)
{
	struct store_row r;
	struct lease *le;
	bool unwritten = s->unwritten;
	int64_t off = wall_offset();
	int ret;

	s->unwritten = false;
	/* Renewals acked on the strength of rows already written: those rows
	 * must still be in the file a restart will read. */
	if (!s->dirty)
		return unwritten ? store_check(s->store) : 0;
	ret = store_begin(s->store);
	for (int live = 0; live < 2; live++)
		for (le = s->dirty; ret == 0 && le; le = le->dnext) {
			if (le->alive != live)
				continue;
			memset(&r, 0, sizeof(r));
			r.family = le->mark ? STORE_FAMILY_MARK : le->family;
			memcpy(r.ifname, le->ifname, sizeof(r.ifname));
			ledger_addr_str(le, r.address, sizeof(r.address));
			/* r is zeroed; tags are at most PROTO_TAG_MAX by construction */
			memcpy(r.tag, ledger_tag(le), strnlen(ledger_tag(le), sizeof(r.tag) - 1));
			r.table = le->mark ? pool_mark_value(s->cfg->mark_mask, le->table) : le->table;
			r.expires = row_expires(s, le) + off;	/* the wall clock's */
			r.uid = le->uid;
			r.alive = le->alive;
			ret = store_put(s->store, &r);
		}
	if (ret == 0)
		ret = store_commit(s->store);
	if (ret < 0)
		store_rollback(s->store);
	for (le = s->dirty; le; le = s->dirty) {
		s->dirty = le->dnext;
		le->dnext = NULL;
		le->dirty = false;
		if (ret == 0)	/* else the rows are as they were */
			le->stored = le->alive ? row_expires(s, le) : 0;
		if (le->forgotten)	/* its row is written: its memory is free */
			ledger_recycle(ledger_of(s, le), le);
	}
	return ret;
}

/* The live lease, table or mark, that expires first, or NULL. */
static struct lease *next_expiry(const struct server *s)
{
	struct lease *t = ledger_next_expiry(&s->ledger), *m = ledger_next_expiry(&s->marks);

	return !m || (t && t->expires <= m->expires) ? t : m;
}

static void arm_expiry(struct server *s)
{
	struct lease *next = next_expiry(s);
	int64_t now;

	if (!next) {
		if (s->armed_for)
			loop_timer_set(&s->expiry, 0);
		s->armed_for = 0;
		return;
	}
	if (next->expires == s->armed_for)
		return;
	now = boot_now();
	s->armed_for = next->expires;
	/* +1 ms: 0 would disarm; a lease is over once its second has passed */
	loop_timer_set(&s->expiry, next->expires > now ? (uint64_t)(next->expires - now) * 1000 + 1 : 1);
}

/* A wake-up more than a lease time after a lease was due means rtallocd
 * did not run (stopped, frozen, the host suspended with its clients, whose
 * renewal timers stood still too): its clients had no chance to renew.
 * The leases due are then kept for a grace period, not ended at once. */
static void catch_up(struct server *s, int64_t now)
{
	uint32_t grace = config_grace(s->cfg);
	unsigned n = 0;
	struct lease *le;

	if (!s->armed_for || now - s->armed_for <= (int64_t)s->cfg->table_timeout)
		return;
	while ((le = next_expiry(s)) && le->expires <= now) {
		ledger_grant(ledger_of(s, le), le, now + grace);
		mark_dirty(s, le);
		n++;
	}
	log_msg(LOG_WARNING, "rtallocd did not run for %lld s (stopped or suspended); %u leases due"
		" meanwhile are kept %u s more for their holders to renew", (long long)(now - s->armed_for),
		n, grace);
	s->armed_for = 0;
}

static void expiry_fired(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, expiry);
	int64_t now = boot_now();
	char addr[INET6_ADDRSTRLEN];
	struct lease *le;

	catch_up(s, now);
	s->armed_for = 0;
	while ((le = next_expiry(s)) && le->expires <= now) {
		log_msg(LOG_INFO, "lease expired: %s %#x %s %s on %s", le->mark ? "mark" : "table",
			le->mark ? pool_mark_value(s->cfg->mark_mask, le->table) : le->table,
			family_name(le->family), ledger_addr_str(le, addr, sizeof(addr)), le->ifname);
		ledger_drop(ledger_of(s, le), le);
		mark_dirty(s, le);
	}
	if (flush(s) < 0)
		log_msg(LOG_ERR, "could not record expired leases; they stay free in memory");
	arm_expiry(s);
}

static bool id_in(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* cr's uid in uids, or its group or a supplementary one in gids. */
static bool ids_match(const struct ucred *cr, const uint32_t *uids, size_t nu, const uint32_t *gids,
		      size_t ng)
{
	if (id_in(uids, nu, cr->uid))
		return true;
	if (!ng)
		return false;
	if (id_in(gids, ng, cr->gid))
		return true;
	/* Supplementary groups are not in the credentials: the kernel says
	 * them in /proc/PID/status (groups.c). */
	return groups_match(cr, gids, ng);
}

static bool allowed(const struct server *s, const struct ucred *cr)
{
	if (cr->uid == 0 || cr->uid == s->self_uid)
		return true;
	return ids_match(cr, s->cfg->allowed_uids, s->cfg->n_uids, s->cfg->allowed_gids, s->cfg->n_gids);
}

/* read_uids, read_gids: the lease list, never a lease. */
static bool may_read(const struct server *s, const struct ucred *cr)
{
	return ids_match(cr, s->cfg->read_uids, s->cfg->n_read_uids, s->cfg->read_gids, s->cfg->n_read_gids);
}

static void refuse(struct server_slot *sl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct server_slot *sl, const char *fmt, ...)
{
	va_list ap;

	sl->rep.table = 0;
	sl->rep.lease_expires = 0;
	sl->rep.lease_seconds = 0;
	va_start(ap, fmt);
	vsnprintf(sl->rep.error, sizeof(sl->rep.error), fmt, ap);
	va_end(ap);
}

static void grace_end(struct server *s)
{
	s->grace_closed = false;
	free(s->grace_held);
	s->grace_held = NULL;
	log_msg(LOG_NOTICE, "grace period over; %u new keys got tables no rule used, %u requests of"
		" new keys had to wait", s->grace_granted, s->grace_waiting);
}

/* The lease of req's key, or NULL; *ident whether it is an identifier. */
static struct lease *key_find(struct ledger *l, const struct proto_request *req, bool *ident,
			      struct inet_addr *a)
{
	/* proto_request_parse() checked it: an address of the family, or an
	 * unspec identifier */
	*ident = addr_parse(req->family, req->address, a) < 0;
	if (*ident && (req->family != AF_UNSPEC || !proto_ident_valid(req->address)))
		return NULL;
	return *ident ? ledger_find_id(l, req->ifname, req->address) :
			ledger_find(l, req->family, req->ifname, a);
}

/* le (a table's or a mark's) was granted until expires: its holder, its
 * tag, its row (none for a renewal the row covers, "same"), the reply. */
static void grant_reply(struct server *s, struct server_slot *sl, struct lease *le, const struct ucred *cr,
			const char *tag, bool same, int64_t expires)
{
	le->uid = cr->uid;
	if (ledger_set_tag(le, tag) < 0)
		log_msg(LOG_WARNING, "out of memory: %s %u keeps its old tag", le->mark ? "mark index" : "table",
			le->table);
	if (same)
		s->unwritten = true;
	else
		mark_dirty(s, le);
	sl->rep.table = le->mark ? pool_mark_value(s->cfg->mark_mask, le->table) : le->table;
	sl->rep.mark_mask = le->mark ? s->cfg->mark_mask : 0;
	sl->rep.lease_expires = expires + wall_offset();	/* v2: the wall clock's */
	sl->rep.lease_seconds = s->cfg->table_timeout;
	sl->granted = true;
}

static void do_request(struct server *s, struct server_slot *sl, const struct proto_request *req,
		       const struct ucred *cr, int64_t now)
{
	int64_t expires = now + s->cfg->table_timeout;
	uint32_t claim = req->held_table;
	struct inet_addr a;
	struct lease *le, *added = NULL;
	bool same, ident;

	le = key_find(&s->ledger, req, &ident, &a);
	if (ident && req->family != AF_UNSPEC) {
		refuse(sl, "address: not an %s address: `%s'", family_name(req->family), req->address);
		return;
	}
	/* Grace after lost state: a table a live client holds may look free.
	 * The tables rtalloc's rules use (grace_if_lost()) are held back for
	 * their holders to reclaim, as NFS servers make new locks wait for
	 * reclaims; keys that hold none get another free table at once, or
	 * when there is none wait: a v2 client is told so and when to ask
	 * again (NFS's "grace" error), a v1 client is not answered (the 2017
	 * client knows no such reply and would take it for a refusal). */
	if (s->grace_closed && (!le || !le->alive) &&
	    (!claim || !pool_is_free(&s->ledger.pool, req->family, claim))) {
		if (now < s->grace_until) {
			claim = s->grace_held ? ledger_free_unheld(&s->ledger, req->family, le,
								   s->grace_held) : 0;
			if (!claim) {
				s->grace_waiting++;
				if (req->version < PROTO_VERSION_2) {
					sl->answer = false;
					return;
				}
				refuse(sl, "grace period: rtallocd lost its leases and holds the tables"
				       " in use for their holders; retry after %lld s",
				       (long long)(s->grace_until - now));
				sl->rep.retry_after = (uint32_t)(s->grace_until - now);
				return;
			}
			s->grace_granted++;
		} else {
			grace_end(s);
		}
	}
	if (le && le->alive && le->uid != cr->uid && cr->uid != 0) {
		refuse(sl, "permission denied: the lease belongs to uid %u", le->uid);
		return;
	}
	/* A new key against a full pool is refused before it costs anything
	 * (not even its names): floods of new keys must not churn memory. */
	if (!le && !pool_first_free(&s->ledger.pool, req->family)) {
		refuse(sl, "no free table: all %u %s tables are leased", s->cfg->num_tables,
		       family_name(req->family));
		return;
	}
	if (!le && !(le = added = ident ? ledger_add_id(&s->ledger, req->ifname, req->address) :
				  ledger_add(&s->ledger, req->family, req->ifname, &a))) {
		refuse(sl, "server out of memory");
		return;
	}
	/* A renewal whose row already outlasts the new expiry (row_expires())
	 * and says the same owner and tag is not written again. */
	same = le->alive && le->stored >= expires && le->uid == cr->uid &&
	       !strcmp(ledger_tag(le), req->tag);
	/* A key whose lease ended is preferred for its table over newcomers
	 * for one lease time (sticky); a client saying which table it holds
	 * gets it back while it is free. */
	if (ledger_claim(&s->ledger, le, expires, claim, now - s->cfg->table_timeout) < 0) {
		refuse(sl, "no free table: all %u %s tables are leased", s->cfg->num_tables,
		       family_name(req->family));
		/* a key refused at once leaves nothing behind: requests for
		 * ever new keys against a full pool must not grow memory */
		if (added)
			ledger_forget(&s->ledger, added);
		return;
	}
	grant_reply(s, sl, le, cr, req->tag, same, expires);
}

/* A mark lease (v2 "mark": 1): the key, always AF_UNSPEC (a mark holds
 * for both families), gets a mark under mark_mask.  Like a table: renewed
 * by the same key, released by its holder, ended by its expiry, and a key
 * that held one gets it back while it is free. */
static void do_mark_request(struct server *s, struct server_slot *sl, const struct proto_request *req,
			    const struct ucred *cr, int64_t now)
{
	int64_t expires = now + s->cfg->table_timeout;
	uint32_t claim = pool_mark_index(s->cfg->mark_mask, req->held_table);
	struct inet_addr a;
	struct lease *le, *added = NULL;
	bool same, ident;

	le = key_find(&s->marks, req, &ident, &a);
	if (le && le->alive && le->uid != cr->uid && cr->uid != 0) {
		refuse(sl, "permission denied: the lease belongs to uid %u", le->uid);
		return;
	}
	if (!le && !pool_first_free(&s->marks.pool, AF_UNSPEC)) {
		refuse(sl, "no free mark: every mark under mark_mask 0x%x is leased", s->cfg->mark_mask);
		return;
	}
	if (!le && !(le = added = ident ? ledger_add_id(&s->marks, req->ifname, req->address) :
				  ledger_add(&s->marks, AF_UNSPEC, req->ifname, &a))) {
		refuse(sl, "server out of memory");
		return;
	}
	le->mark = true;
	same = le->alive && le->stored >= expires && le->uid == cr->uid &&
	       !strcmp(ledger_tag(le), req->tag);
	if (ledger_claim(&s->marks, le, expires, claim, now - s->cfg->table_timeout) < 0) {
		refuse(sl, "no free mark: every mark under mark_mask 0x%x is leased", s->cfg->mark_mask);
		if (added)
			ledger_forget(&s->marks, added);
		return;
	}
	grant_reply(s, sl, le, cr, req->tag, same, expires);
}

static void do_release(struct server *s, struct server_slot *sl, const struct proto_request *req,
		       const struct ucred *cr, int64_t now)
{
	char addr[INET6_ADDRSTRLEN];
	struct inet_addr a;
	bool ident;
	struct ledger *l = req->mark ? &s->marks : &s->ledger;
	struct lease *le = key_find(l, req, &ident, &a);

	if (!le || !le->alive) {
		refuse(sl, "no lease for %s %s on %s", family_name(req->family), req->address, req->ifname);
		return;
	}
	if (le->uid != cr->uid && cr->uid != 0) {
		refuse(sl, "permission denied: the lease belongs to uid %u", le->uid);
		return;
	}
	ledger_drop(l, le);
	le->expires = now;
	le->released = true;
	mark_dirty(s, le);
	log_msg(LOG_DEBUG, "released %s %u %s %s on %s", le->mark ? "mark index" : "table", le->table,
		family_name(le->family), ledger_addr_str(le, addr, sizeof(addr)), le->ifname);
	sl->rep.table = le->mark ? pool_mark_value(s->cfg->mark_mask, le->table) : le->table;
	sl->rep.mark_mask = le->mark ? s->cfg->mark_mask : 0;
	sl->rep.lease_expires = now + wall_offset();
	sl->granted = true;
}

/* One datagram: credentials, parse, apply.  Fills sl->rep. */
static void handle(struct server *s, struct server_slot *sl, struct msghdr *mh, size_t len, int64_t now)
{
	const struct ucred *cr = NULL;
	struct proto_request req;
	char err[PROTO_ERROR_MAX];
	struct cmsghdr *c;

	memset(&sl->rep, 0, sizeof(sl->rep));
	sl->rep.version = PROTO_VERSION_1;
	sl->rep.cmd = PROTO_CMD_REPLY;
	sl->peerlen = mh->msg_namelen;
	sl->answer = mh->msg_namelen > offsetof(struct sockaddr_un, sun_path);
	sl->granted = sl->list = false;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
			cr = (const struct ucred *)(void *)CMSG_DATA(c);
	if (!cr) {
		refuse(sl, "no credentials");
		peer_log(s, NULL, sl->rep.error);
		return;
	}
	if (mh->msg_flags & MSG_TRUNC) {
		refuse(sl, "datagram larger than %d bytes", PROTO_MAX_DATAGRAM);
		peer_log(s, cr, sl->rep.error);
		return;
	}
	if (proto_request_parse(sl->in, len, &req, err, sizeof(err)) < 0) {
		refuse(sl, "%s", err);
		peer_log(s, cr, err);
		return;
	}
	sl->rep.version = req.version;
	sl->rep.seq = req.seq;
	if (req.cmd == PROTO_CMD_LIST && !allowed(s, cr) && !may_read(s, cr)) {
		refuse(sl, "permission denied: uid %u may not list leases (read_uids, read_gids)", cr->uid);
		peer_log(s, cr, sl->rep.error);
		return;
	}
	if (req.cmd != PROTO_CMD_LIST && !allowed(s, cr)) {
		refuse(sl, "permission denied: uid %u may not lease tables", cr->uid);
		peer_log(s, cr, sl->rep.error);
		return;
	}
	if (req.cmd == PROTO_CMD_LIST) {
		sl->list = true;
		sl->list_offset = req.offset;
		return;
	}
	/* a mark is keyed for both families, as an unspec table */
	if (req.mark)
		req.family = AF_UNSPEC;
	if (!req.mark && !family_enabled(s->cfg, req.family)) {
		refuse(sl, "addr_family: %s leases are disabled on this server", family_name(req.family));
		return;
	}
	if (req.cmd == PROTO_CMD_REQUEST && req.mark)
		do_mark_request(s, sl, &req, cr, now);
	else if (req.cmd == PROTO_CMD_REQUEST)
		do_request(s, sl, &req, cr, now);
	else
		do_release(s, sl, &req, cr, now);
	/* A v1 client renews at half of lease_expires - now on its
	 * CLOCK_MONOTONIC_RAW: the same moment on that clock. */
	if (req.version == PROTO_VERSION_1 && sl->rep.lease_expires)
		sl->rep.lease_expires = sl->rep.lease_expires - wall_now() + raw_now();
}

/* One live lease of s, tables first then marks, into p. */
static bool list_entry(struct server *s, size_t i, int64_t now, struct proto_lease *p)
{
	size_t tables = ledger_live(&s->ledger);
	bool mark = i >= tables;
	struct lease *le = mark ? ledger_nth_live(&s->marks, i - tables) : ledger_nth_live(&s->ledger, i);

	if (!le)
		return false;
	memset(p, 0, sizeof(*p));
	p->family = mark ? AF_UNSPEC : le->family;
	p->mark = mark;
	ledger_addr_str(le, p->address, sizeof(p->address));
	memcpy(p->ifname, le->ifname, sizeof(p->ifname));
	snprintf(p->tag, sizeof(p->tag), "%s", ledger_tag(le));
	p->table = mark ? pool_mark_value(s->cfg->mark_mask, le->table) : le->table;
	/* A lease restored from its row keeps the row's expiry, up to one
	 * table_timeout later than any ack (row_expires()); no ack reaches
	 * further than now + table_timeout. */
	p->seconds_left = le->expires > now ? (uint32_t)(le->expires - now) : 0;
	if (p->seconds_left > s->cfg->table_timeout)
		p->seconds_left = s->cfg->table_timeout;
	p->uid = le->uid;
	return true;
}

static void send_list(struct server *s, struct server_slot *sl, int seq_version)
{
	enum { PAGE = 64 };
	struct proto_lease page[PAGE];
	struct proto_list_reply rep = { .version = (uint8_t)seq_version, .seq = sl->rep.seq };
	size_t total = ledger_live(&s->ledger) + ledger_live(&s->marks), fitted;
	int64_t now = boot_now();
	int n;

	rep.total = (uint32_t)total;
	rep.has_pool = true;
	for (int f = 0; f < 2; f++) {
		rep.pool_used[f] = pool_used(&s->ledger.pool, f ? AF_INET6 : AF_INET);
		rep.pool_free[f] = s->ledger.pool.n - rep.pool_used[f];
	}
	rep.has_marks = true;
	rep.mark_mask = s->cfg->mark_mask;
	rep.marks_used = (uint32_t)ledger_live(&s->marks);
	rep.marks_free = s->marks.pool.n - pool_used(&s->marks.pool, AF_UNSPEC);
	for (size_t i = sl->list_offset; i < total && rep.n < PAGE; i++)
		if (list_entry(s, i, now, &page[rep.n]))
			rep.n++;
		else
			break;
	rep.leases = page;
	rep.next = sl->list_offset + rep.n < total ? sl->list_offset + (uint32_t)rep.n : 0;
	n = proto_list_format(&rep, s->listbuf, PROTO_MAX_DATAGRAM / 2, &fitted);
	if (n < 0)
		return;
	sendto(sl->fd, s->listbuf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (struct sockaddr *)&sl->peer, sl->peerlen);
}

/* Reads up to max datagrams of one socket into slots[first..]. */
static int drain(struct server *s, int which, struct mmsghdr *in, struct iovec *iov, int first, int max)
{
	int fd = s->socks[which].h.fd, n;

	if (fd < 0 || max <= 0)
		return 0;
	for (int i = first; i < first + max; i++) {
		struct server_slot *sl = &s->slots[i];

		sl->fd = fd;
		iov[i] = (struct iovec){ .iov_base = sl->in, .iov_len = sizeof(sl->in) };
		in[i].msg_hdr = (struct msghdr){
			.msg_name = &sl->peer, .msg_namelen = sizeof(sl->peer),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = sl->cmsg.buf, .msg_controllen = sizeof(sl->cmsg.buf),
		};
		in[i].msg_len = 0;
	}
	n = recvmmsg(fd, in + first, (unsigned)max, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_msg(LOG_ERR, "recvmmsg: %s", strerror(errno));
		return 0;
	}
	return n;
}

/* Any socket readable: one batch from all of them.  The file socket (only
 * privileged clients can be behind it) first and whole; the rest shared
 * between the two abstract names, so a flood on one leaves half the batch
 * to the other. */
static void sock_ready(struct loop_fd *h, uint32_t events)
{
	struct server *s = container_of(h, struct server_listener, h)->s;
	struct mmsghdr in[SERVER_BATCH], out[SERVER_BATCH];
	struct iovec iov[SERVER_BATCH], oiov[SERVER_BATCH];
	int64_t now;
	int n, nout = 0;
	bool committed;

	(void)events;
	n = drain(s, SERVER_SOCK_FILE, in, iov, 0, SERVER_BATCH);
	n += drain(s, SERVER_SOCK_EXACT, in, iov, n, (SERVER_BATCH - n) / 2);
	n += drain(s, SERVER_SOCK_PADDED, in, iov, n, SERVER_BATCH - n);
	n += drain(s, SERVER_SOCK_EXACT, in, iov, n, SERVER_BATCH - n);
	if (n <= 0)
		return;
	now = boot_now();
	catch_up(s, now);
	for (int i = 0; i < n; i++)
		handle(s, &s->slots[i], &in[i].msg_hdr, in[i].msg_len, now);
	/* Group commit: every change of the batch in one transaction, and no
	 * grant leaves before it is on disk. */
	committed = flush(s) == 0;
	for (int i = 0; i < n; i++) {
		struct server_slot *sl = &s->slots[i];
		int len;

		if (!sl->answer)
			continue;
		if (sl->list) {
			send_list(s, sl, sl->rep.version);
			continue;
		}
		if (sl->granted && !committed)
			refuse(sl, "database write failed; try again");
		len = proto_reply_format(&sl->rep, sl->out, sizeof(sl->out));
		if (len < 0)
			continue;
		oiov[nout] = (struct iovec){ .iov_base = sl->out, .iov_len = (size_t)len };
		out[nout].msg_hdr = (struct msghdr){
			.msg_name = &sl->peer, .msg_namelen = sl->peerlen,
			.msg_iov = &oiov[nout], .msg_iovlen = 1,
		};
		s->slots[nout].reply_fd = sl->fd;
		nout++;
	}
	/* Each reply leaves by the socket its request came in on, at the
	 * address it came from (slots of one socket are adjacent).  A peer
	 * whose queue is full loses its reply and retries: never block. */
	for (int sent = 0; sent < nout;) {
		int fd = s->slots[sent].reply_fd, run = 1, r;

		while (sent + run < nout && s->slots[sent + run].reply_fd == fd)
			run++;
		r = sendmmsg(fd, out + sent, (unsigned)run, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0)
			r = 1;	/* skip the datagram that failed (EAGAIN, ECONNREFUSED) */
		sent += r;
	}
	arm_expiry(s);
}

struct load_ctx {
	struct server *s;
	int64_t now;			/* CLOCK_BOOTTIME */
	int64_t off;			/* wall_offset() */
	unsigned live, dead, bad, lapsed;
};

static int restore_row(void *ctx, const struct store_row *r)
{
	struct load_ctx *lc = ctx;
	struct server *s = lc->s;
	struct inet_addr a;
	char canon[INET6_ADDRSTRLEN];
	struct lease *le;
	bool mark = r->family == STORE_FAMILY_MARK;
	struct ledger *l = mark ? &s->marks : &s->ledger;
	int family = mark ? AF_UNSPEC : r->family;
	uint32_t table = mark ? pool_mark_index(s->cfg->mark_mask, r->table) : r->table;

	bool ident = family == AF_UNSPEC && addr_parse(AF_UNSPEC, r->address, &a) < 0 &&
		     proto_ident_valid(r->address);
	int64_t expires = r->expires - lc->off;	/* this boot's clock */

	if ((family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) ||
	    !ifname_valid(r->ifname) ||
	    (!ident && (addr_parse(family, r->address, &a) < 0 ||
			strcmp(addr_str(&a, canon, sizeof(canon)), r->address)))) {
		lc->bad++;
		return 0;
	}
	/* An older row of a key already read (live first, latest first): an
	 * unspec lease moved tables while an inet one held its old one. */
	if (ident ? ledger_find_id(l, r->ifname, r->address) :
		    ledger_find(l, family, r->ifname, &a))
		return 0;
	le = ident ? ledger_add_id(l, r->ifname, r->address) :
		     ledger_add(l, family, r->ifname, &a);
	if (!le)
		return -ENOMEM;
	le->mark = mark;
	if (ledger_set_tag(le, r->tag) < 0)
		return -ENOMEM;
	le->uid = r->uid;
	le->expires = expires;	/* the row's, which may exceed the acked one */
	/* a mark outside today's mark_mask is no lease any more */
	le->table = pool_contains(&l->pool, table) ? table : 0;
	/* Live only if its table is still ours (rows of another boot were
	 * ended by store_open()); otherwise a preference.  A live row whose
	 * time ran out while rtallocd was not running (or whose wall-clock
	 * expiry a clock step moved) was never seen to end: its holder may
	 * have been asking all along, so it is kept for the grace period. */
	if (r->alive && le->table && (mark || family_enabled(s->cfg, family))) {
		bool lapsed = expires <= lc->now;

		if (lapsed)
			expires = lc->now + config_grace(s->cfg);
		if (ledger_restore(l, le, expires) == 0) {
			le->stored = lapsed ? 0 : expires;
			if (lapsed)
				mark_dirty(s, le);	/* its row gets the grace */
			lc->live++;
			lc->lapsed += lapsed;
			return 0;
		}
		le->expires = r->expires - lc->off;
	}
	if (r->alive)
		mark_dirty(s, le);	/* record that it is over */
	ledger_restore_dead(l, le);
	if (!le->table)
		le->table = table;	/* keep it in the database as it was */
	lc->dead++;
	return 0;
}

/* A database created at this start, while rtalloc rules in this network
 * namespace point into our tables: the leases were lost (file deleted,
 * disk replaced) while their holders live.  Until they have renewed,
 * saying which table they hold, the tables those rules use are theirs
 * alone; new keys get the others.  A new database with no such rules is a
 * first start: nothing to wait for. */
static void grace_if_lost(struct server *s, int64_t now)
{
	uint32_t lo = s->cfg->table_offset, hi = lo + s->cfg->num_tables - 1;
	uint32_t words = s->cfg->num_tables / 64 + 1, tables = 0;
	int held;

	if (!store_created(s->store))
		return;
	/* Without the set every table is held back (do_request()): new keys
	 * wait for the whole grace period. */
	s->grace_held = calloc(words, sizeof(uint64_t));
	held = ruleuse_scan(lo, hi, s->grace_held);
	if (held < 0)
		log_msg(LOG_WARNING, "cannot read the kernel's rules (%s); assuming a first start",
			strerror(-held));
	if (held <= 0)
		goto cleanup;
	for (uint32_t i = 0; s->grace_held && i < words; i++)
		tables += (uint32_t)__builtin_popcountll(s->grace_held[i]);
	if (!s->grace_held) {
		tables = s->cfg->num_tables;
		log_msg(LOG_WARNING, "out of memory: every table is held back in the grace period");
	}
	s->grace_closed = true;
	s->grace_until = now + config_grace(s->cfg);
	log_msg(LOG_WARNING, "database %s is new but %d rtalloc rules use tables %u..%u: leases were"
		" lost; the %u tables they use wait %u s for their holders to reclaim them (grace"
		" period), new keys get others", s->cfg->db_path, held, lo, hi, tables, config_grace(s->cfg));
cleanup:
	if (!s->grace_closed) {
		free(s->grace_held);
		s->grace_held = NULL;
	}
}

/* Asked of a holder /proc does not show: a server (or an impostor) answers
 * a list request, and the kernel tells us who answered. */
#define SERVER_PROBE "{\"version\":2,\"cmd\":3,\"seq\":1}"

static int sock_new(struct server *s, int which, char *err, size_t errlen)
{
	int one = 1, size = 4 << 20, fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	s->socks[which].h.fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "SO_PASSCRED: %s", strerror(errno));
		return -errno;
	}
	/* A deep queue lets bursts of clients wait in the kernel, not retry. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

/* @socket_path, exact or padded to the whole sun_path (the 2017 form).  A
 * name someone else holds is fatal, and the log names the holder. */
static int sock_abstract(struct server *s, int which, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(s->cfg->socket_path);
	socklen_t len = which == SERVER_SOCK_PADDED ? (socklen_t)sizeof(sa) :
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	const char *form = which == SERVER_SOCK_PADDED ? " (padded)" : "";
	char who[64];
	int fd = sock_new(s, which, err, errlen);

	if (fd < 0)
		return fd;
	memcpy(sa.sun_path + 1, s->cfg->socket_path, n);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;

		if (e == EADDRINUSE)
			snprintf(err, errlen, "socket @%s%s is already in use by %s", s->cfg->socket_path,
				 form, sockowner_str(&sa, len, SERVER_PROBE, who, sizeof(who)));
		else
			snprintf(err, errlen, "socket @%s%s: %s", s->cfg->socket_path, form, strerror(e));
		return -e;
	}
	return 0;
}

/* The directory of the socket file: made if missing (0755), and only used
 * if root or we own it and no one else may write in it, as clients check
 * (only then does the name prove who bound it). */
static int sock_dir(const char *path, uid_t self, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		snprintf(err, errlen, "socket_file %s: must be in a directory of its own", path);
		return -EINVAL;
	}
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "socket_file: cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "socket_file: %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != self) || (st.st_mode & 022)) {
		snprintf(err, errlen, "socket_file: %s must be a directory owned by root or uid %u "
			 "that no one else may write to", dir, (unsigned)self);
		return -EPERM;
	}
	return 0;
}

/* Is a live socket bound to path?  A file left by a server killed with -9
 * refuses connections and may be replaced. */
static bool sock_file_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return true;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno != ECONNREFUSED;
	close(fd);
	return live;
}

static int sock_file(struct server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char who[64];
	int fd, ret;

	ret = sock_dir(path, s->self_uid, err, errlen);
	if (ret < 0)
		return ret;
	fd = sock_new(s, SERVER_SOCK_FILE, err, errlen);
	if (fd < 0)
		return fd;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (ret == -EADDRINUSE && !sock_file_live(&sa)) {
		unlink(path);
		ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	}
	if (ret == -EADDRINUSE && !sockowner_here(&sa, sizeof(sa))) {
		/* Clients use a file socket only if it is in their network
		 * namespace, so it is no rival of ours. */
		snprintf(err, errlen, "socket %s is held by a server in another network namespace", path);
		return -EEXIST;
	}
	if (ret == -EADDRINUSE) {
		snprintf(err, errlen, "socket %s is already in use by %s", path,
			 sockowner_str(&sa, sizeof(sa), SERVER_PROBE, who, sizeof(who)));
		return ret;
	}
	if (ret < 0) {
		snprintf(err, errlen, "socket %s: %s", path, strerror(-ret));
		return ret;
	}
	/* Anyone may send (allowed_uids/gids are checked per datagram); only
	 * who can write in the directory could have bound it. */
	if (chmod(path, 0666) < 0 || lstat(path, &st) < 0) {
		snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(s->sock_file, sizeof(s->sock_file), "%s", path);
	s->sock_file_ino = st.st_ino;
	return 0;
}

static int sock_open(struct server *s, char *err, size_t errlen)
{
	char path[sizeof(s->sock_file)];
	int ret;

	ret = sock_abstract(s, SERVER_SOCK_EXACT, err, errlen);
	if (ret == 0)
		ret = sock_abstract(s, SERVER_SOCK_PADDED, err, errlen);
	if (ret < 0)
		return ret;
	config_socket_file(s->cfg, path, sizeof(path));
	if (!path[0])
		return 0;
	ret = sock_file(s, path, err, errlen);
	/* The default place (/run/rtalloc) may be out of reach of a server
	 * started by hand as a user: the abstract names still serve. */
	if (ret < 0 && ret != -EADDRINUSE && !s->cfg->socket_file_set) {
		log_msg(LOG_WARNING, "%s; serving the abstract names only", err);
		if (s->socks[SERVER_SOCK_FILE].h.fd >= 0)
			close(s->socks[SERVER_SOCK_FILE].h.fd);
		s->socks[SERVER_SOCK_FILE].h.fd = -1;
		return 0;
	}
	return ret;
}

int server_init(struct server *s, struct loop *l, const struct config *cfg, char *err, size_t errlen)
{
	struct load_ctx lc = { .s = s, .now = boot_now(), .off = wall_offset() };
	int ret;

	memset(s, 0, sizeof(*s));
	s->loop = l;
	s->cfg = cfg;
	for (int i = 0; i < SERVER_SOCKS; i++)
		s->socks[i] = (struct server_listener){ .h.fd = -1, .s = s };
	s->expiry.h.fd = -1;
	s->self_uid = geteuid();
	s->rl = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	server_boot_id(s->boot_id, sizeof(s->boot_id));
	s->slots = calloc(SERVER_BATCH, sizeof(*s->slots));
	s->listbuf = malloc(PROTO_MAX_DATAGRAM);
	if (!s->slots || !s->listbuf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = ledger_init(&s->ledger, cfg->table_offset, cfg->num_tables);
	if (ret < 0) {
		snprintf(err, errlen, "cannot allocate %u tables: %s", cfg->num_tables, strerror(-ret));
		return ret;
	}
	ret = ledger_init(&s->marks, 1, pool_mark_count(cfg->mark_mask));
	if (ret < 0) {
		snprintf(err, errlen, "cannot allocate the marks of mark_mask 0x%x: %s", cfg->mark_mask,
			 strerror(-ret));
		return ret;
	}
	/* Firezone marks its packets 0xfd002021: a rule for that mark's bits
	 * under our mask would take them (config.h). */
	if (pool_mark_index(cfg->mark_mask, SERVER_FIREZONE_MARK & cfg->mark_mask))
		pool_take(&s->marks.pool, AF_UNSPEC,
			  pool_mark_index(cfg->mark_mask, SERVER_FIREZONE_MARK & cfg->mark_mask));
	/* Bind before touching the database: a second server must fail on the
	 * name without getting to the first one's leases. */
	ret = sock_open(s, err, errlen);
	if (ret < 0)
		return ret;
	ret = store_open(&s->store, cfg->db_path, s->boot_id, err, errlen);
	if (ret < 0)
		return ret;
	ret = store_load(s->store, restore_row, &lc);
	if (ret == 0)
		ret = flush(s);
	if (ret < 0) {
		snprintf(err, errlen, "database %s: cannot load leases: %s", cfg->db_path,
			 ret == -EIO ? store_error(s->store) : strerror(-ret));
		return ret;
	}
	log_msg(LOG_INFO, "%u live leases restored, %u kept as preferences%s", lc.live, lc.dead,
		lc.bad ? ", some invalid rows ignored" : "");
	if (lc.lapsed)
		log_msg(LOG_NOTICE, "%u leases ran out while rtallocd was not running; kept %u s for their"
			" holders to renew (grace period)", lc.lapsed, config_grace(cfg));
	grace_if_lost(s, lc.now);
	ret = loop_timer_init(l, &s->expiry, expiry_fired);
	if (ret < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < SERVER_SOCKS; i++) {
		if (s->socks[i].h.fd < 0)
			continue;
		s->socks[i].h.events = EPOLLIN;
		s->socks[i].h.cb = sock_ready;
		ret = loop_fd_add(l, &s->socks[i].h);
		if (ret < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(-ret));
			return ret;
		}
	}
	arm_expiry(s);
	if (sdnotify_ready() < 0)
		log_msg(LOG_WARNING, "could not notify NOTIFY_SOCKET=%s", getenv("NOTIFY_SOCKET"));
	log_msg(LOG_INFO, "serving tables %u..%u on @%s (exact and padded)%s%s", cfg->table_offset,
		cfg->table_offset + cfg->num_tables - 1, cfg->socket_path,
		s->sock_file[0] ? " and " : "", s->sock_file);
	return 0;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	if (s->expiry.h.fd >= 0)
		loop_timer_free(s->loop, &s->expiry);
	for (int i = 0; i < SERVER_SOCKS; i++) {
		if (s->socks[i].h.fd >= 0)
			close(s->socks[i].h.fd);
		s->socks[i].h.fd = -1;
	}
	/* Only the file we bound: a later server may have replaced it. */
	if (s->sock_file[0]) {
		struct stat st;

		if (lstat(s->sock_file, &st) == 0 && st.st_ino == s->sock_file_ino)
			unlink(s->sock_file);
		s->sock_file[0] = '\0';
	}
	store_close(s->store);
	s->store = NULL;
	ledger_free(&s->ledger);
	ledger_free(&s->marks);
	free(s->slots);
	free(s->listbuf);
	free(s->grace_held);
	s->grace_held = NULL;
	s->slots = NULL;
	s->listbuf = NULL;
}
