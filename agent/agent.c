/* agent: the engine over the real kernel, leases from rtallocd, one loop. */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "agentcfg.h"
#include "agentdns.h"
#include "agentra.h"
#include "control.h"
#include "engine.h"
#include "hintwatch.h"
#include "kernel.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "mainmove.h"
#include "metrics.h"
#include "mptcp.h"
#include "owner.h"
#include "sdnotify.h"

#define PASS_DELAY_MS	20	/* events of one burst: one pass */
#define REPLY_WAIT_MS	1000	/* then the request is sent again */
#define BACKOFF_MAX_MS	60000
#define INFLIGHT_MAX	64	/* requests awaiting an answer; a full server
				 * queue (EAGAIN) holds the rest back too */
#define READY_MAX_MS	5000	/* READY=1 even if rtallocd never answers */
#define RELEASE_TRIES	3
#define HOLDER_ASK_MS	500	/* a hook rtalloc answers its control name */
#define FWMARK_CHECK_MS	1000	/* rtallocd says its mark_mask (fwmark map) */

/* An uplink's lease at rtallocd: its requests, their queue and backoff. */
struct uplink_lease {
	struct uplink *u;
	struct uplink_lease *qprev, *qnext;	/* in agent.queue: due, not sent yet */
	bool queued;
	uint32_t seq;			/* of the request in flight, 0: none */
	uint64_t due_ms;		/* next request (first, retry or renewal) */
	uint64_t backoff_ms;
	bool answered;			/* granted or refused once */
	bool asked;			/* a request went out: the server may
					 * grant it whenever it reads it */
	bool failing;			/* its trouble was logged */
};

struct release {
	struct proto_request req;
	uint64_t due_ms;
	unsigned tries;
};

struct agent {
	struct loop loop;
	struct agentcfg cfg;
	const char *path;
	struct kernel *k;
	struct engine e;
	struct loop_fd kh;
	struct loop_timer pass_timer;
	bool pass_for_due;		/* pass_timer waits for e.next_due_ms
					 * (a retry, a hold), not for a burst
					 * or a resync: events still pass now */
	struct loop_timer lease_timer;
	struct lease_client lc;
	struct loop_fd lh;
	struct loop_signal sig;
	struct loop_fd named;		/* bound to AGENT_NAME_FMT */
	struct control ctl;		/* rtalloc exec's socket and rules */
	struct mptcp mp;		/* MPTCP endpoints of the uplinks */
	struct loop_timer mp_timer;	/* track's health, every second */
	struct metrics metrics;		/* cfg.metrics_textfile's writer */
	uint32_t seq;
	struct uplink_lease *fl[INFLIGHT_MAX];	/* requests in flight */
	unsigned inflight;
	struct uplink_lease *qhead, *qtail;	/* due requests, oldest first */
	uint64_t lease_armed_ms;	/* lease_timer's expiry, 0: not armed */
	struct release *rel;
	size_t nrel, caprel;
	bool ready;
	bool started;			/* requests go out (after the start's sweep) */
	uint64_t started_ms;
	uint64_t last_pass_ms;
	struct ratelimit rl;
	struct hintwatch hw;		/* uplinks hooks announced */
	struct neighbours nb;		/* IPv6 routers on each link */
	struct loop_fd hwh, nbh;
	struct agentdns dns;		/* the servers-file */
	struct loop_timer dns_timer;
	struct loop_fd rah;		/* router advertisements (RDNSS) */
	/* Routes taken out of main for a hint's --out-of-main: the link's
	 * tables keep them. */
	struct mainmove mm;
};

/* ---- one owner per address ---- */

/* Does a per-address rtalloc daemon (the hook path) hold u's address?
 * Asked as rtalloc's own runs ask it (owner_ask): root's file name under
 * /run/rtalloc-clients first, then the abstract rtalloc/4|6/IF/ADDR, whose
 * answer counts only from our uid.  A process of another uid squatting the
 * abstract name is logged (uid, pid) and does not keep us off the address. */
static bool held_by_daemon(const struct uplink *u)
{
	struct proto_request k = { .family = u->key.family };
	char reply[64];

	addr_str(&u->key.addr, k.address, sizeof(k.address));
	snprintf(k.ifname, sizeof(k.ifname), "%s", u->key.ifname);
	return owner_ask(&k, "table", HOLDER_ASK_MS, reply, sizeof(reply)) == 0;
}

/* ---- leases ---- */

static void request_of(struct agent *a, const struct lease_key *key, uint8_t cmd, struct proto_request *req)
{
	memset(req, 0, sizeof(*req));
	req->version = PROTO_VERSION_2;
	req->cmd = cmd;
	req->family = key->family;
	req->seq = ++a->seq ? a->seq : ++a->seq;
	addr_str(&key->addr, req->address, sizeof(req->address));
	snprintf(req->ifname, sizeof(req->ifname), "%s", key->ifname);
	snprintf(req->tag, sizeof(req->tag), "%s", key->tag);
}

static bool lease_key_is(const struct proto_request *req, const struct lease_key *key)
{
	char s[INET6_ADDRSTRLEN];

	return req->family == key->family && !strcmp(req->ifname, key->ifname) &&
	       !strcmp(req->tag, key->tag) && !strcmp(req->address, addr_str(&key->addr, s, sizeof(s)));
}

/* lease_timer fires at due_ms or earlier. */
static void lease_arm(struct agent *a, uint64_t due_ms)
{
	uint64_t now = loop_now_ms();

	if (a->lease_armed_ms && a->lease_armed_ms <= due_ms && a->lease_timer.armed)
		return;
	a->lease_armed_ms = due_ms;
	loop_timer_set(&a->lease_timer, due_ms > now ? due_ms - now : 1);
}

static void lease_schedule(struct agent *a)
{
	uint64_t next = 0;

	for (size_t i = 0; i < a->e.nup; i++) {
		struct uplink_lease *h = a->e.up[i]->owner;

		if (h && !h->queued && (!next || h->due_ms < next))
			next = h->due_ms;
	}
	for (size_t i = 0; i < a->nrel; i++)
		if (!next || a->rel[i].due_ms < next)
			next = a->rel[i].due_ms;
	a->lease_armed_ms = 0;
	if (next)
		lease_arm(a, next);
}

static void queue_add(struct agent *a, struct uplink_lease *h)
{
	if (h->queued || h->seq)
		return;
	h->queued = true;
	h->qnext = NULL;
	h->qprev = a->qtail;
	if (a->qtail)
		a->qtail->qnext = h;
	else
		a->qhead = h;
	a->qtail = h;
}

static void queue_del(struct agent *a, struct uplink_lease *h)
{
	if (!h->queued)
		return;
	if (h->qprev)
		h->qprev->qnext = h->qnext;
	else
		a->qhead = h->qnext;
	if (h->qnext)
		h->qnext->qprev = h->qprev;
	else
		a->qtail = h->qprev;
	h->qprev = h->qnext = NULL;
	h->queued = false;
}

static void inflight_del(struct agent *a, struct uplink_lease *h)
{
	for (unsigned i = 0; i < a->inflight; i++)
		if (a->fl[i] == h) {
			a->fl[i] = a->fl[--a->inflight];
			break;
		}
	h->seq = 0;
}

static struct uplink_lease *inflight_find(const struct agent *a, uint32_t seq)
{
	for (unsigned i = 0; i < a->inflight; i++)
		if (a->fl[i]->seq == seq)
			return a->fl[i];
	return NULL;
}

static void send_release(struct agent *a, struct release *r)
{
	int ret = lease_send_req(&a->lc, &r->req);

	r->tries++;
	r->due_ms = loop_now_ms() + (ret == -EAGAIN ? 10 : 300);
	if (ret == -EAGAIN)
		r->tries--;
}

static void release_key(struct agent *a, const struct lease_key *key)
{
	struct release *r;

	if (a->nrel == a->caprel) {
		size_t cap = a->caprel ? a->caprel * 2 : 16;
		struct release *p = realloc(a->rel, cap * sizeof(*p));

		if (!p)
			return;	/* the lease then expires on its own */
		a->rel = p;
		a->caprel = cap;
	}
	r = &a->rel[a->nrel++];
	memset(r, 0, sizeof(*r));
	request_of(a, key, PROTO_CMD_RELEASE, &r->req);
	send_release(a, r);
	lease_arm(a, r->due_ms);
}

/* retry_ms: when the server said to ask again (its grace period), else 0
 * for the backoff; at most BACKOFF_MAX_MS either way. */
static void uplink_lease_fail(struct agent *a, struct uplink_lease *h, const char *why,
			      uint64_t retry_ms)
{
	char s[INET6_ADDRSTRLEN];

	h->backoff_ms = h->backoff_ms ? h->backoff_ms * 2 : 1000;
	if (retry_ms)
		h->backoff_ms = retry_ms;
	if (h->backoff_ms > BACKOFF_MAX_MS)
		h->backoff_ms = BACKOFF_MAX_MS;
	h->due_ms = loop_now_ms() + h->backoff_ms;
	h->answered = true;
	/* One line per address, not per retry. */
	if (!h->failing)
		log_msg(LOG_WARNING, "%s on %s: no table: %s; %s",
			addr_str(&h->u->key.addr, s, sizeof(s)), h->u->key.ifname, why,
			retry_ms ? "asking again when told" : "retrying with backoff");
	h->failing = true;
	lease_arm(a, h->due_ms);
}

/* Sends the queued requests while fewer than INFLIGHT_MAX wait for an
 * answer and the server's queue takes them. */
static void lease_pump(struct agent *a)
{
	uint64_t now = loop_now_ms();

	/* At start, the sweep's list exchange comes first on the socket. */
	if (!a->started)
		return;
	while (a->qhead && a->inflight < INFLIGHT_MAX) {
		struct uplink_lease *h = a->qhead;
		struct proto_request req;
		int ret;

		request_of(a, &h->u->key, PROTO_CMD_REQUEST, &req);
		/* The table we hold (or found in the kernel at start): a
		 * server that lost its state gives it back. */
		req.held_table = h->u->table ? h->u->table : h->u->adopt;
		ret = lease_send_req(&a->lc, &req);
		if (ret == -EAGAIN) {
			/* The server's queue is full: the next answer makes
			 * room; with none to come, try again shortly. */
			if (!a->inflight)
				lease_arm(a, now + 10);
			return;
		}
		queue_del(a, h);
		if (ret < 0) {
			uplink_lease_fail(a, h, ret == -ECONNREFUSED ? "rtallocd is not running" : strerror(-ret),
					  0);
			continue;
		}
		h->seq = req.seq;
		h->asked = true;
		a->fl[a->inflight++] = h;
		h->due_ms = now + REPLY_WAIT_MS;
		lease_arm(a, h->due_ms);
	}
}

static void lease_due(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, lease_timer);
	uint64_t now = loop_now_ms();

	a->lease_armed_ms = 0;
	for (size_t i = 0; i < a->e.nup; i++) {
		struct uplink_lease *h = a->e.up[i]->owner;

		if (!h || h->queued || h->due_ms > now)
			continue;
		if (h->seq) {	/* no answer in time */
			inflight_del(a, h);
			uplink_lease_fail(a, h, "no answer from rtallocd", 0);
			continue;
		}
		queue_add(a, h);
	}
	for (size_t i = 0; i < a->nrel;) {
		struct release *r = &a->rel[i];

		if (r->due_ms <= now) {
			if (r->tries >= RELEASE_TRIES) {
				a->rel[i] = a->rel[--a->nrel];
				continue;
			}
			send_release(a, r);
		}
		i++;
	}
	lease_pump(a);
	lease_schedule(a);
}

static void pass_now(struct agent *a);

static void lease_ready(struct loop_fd *fd, uint32_t events)
{
	struct agent *a = container_of(fd, struct agent, lh);
	struct proto_reply rep;
	bool granted = false;
	int ret;

	(void)events;
	while ((ret = lease_recv_any(&a->lc, &rep)) > 0) {
		struct uplink_lease *h = NULL;
		char s[INET6_ADDRSTRLEN];

		if (!rep.seq)
			continue;
		for (size_t i = 0; i < a->nrel; i++)
			if (a->rel[i].req.seq == rep.seq) {
				a->rel[i] = a->rel[--a->nrel];
				break;
			}
		h = inflight_find(a, rep.seq);
		if (!h)
			continue;	/* late, or a release's answer */
		inflight_del(a, h);
		if (!rep.table) {
			uplink_lease_fail(a, h, rep.error[0] ? rep.error : "refused",
					  lease_must_wait(&rep) ? rep.retry_after * 1000ull : 0);
			continue;
		}
		if (h->failing)
			log_msg(LOG_NOTICE, "%s on %s: table %u after all",
				addr_str(&h->u->key.addr, s, sizeof(s)), h->u->key.ifname, rep.table);
		h->failing = false;
		h->answered = true;
		h->backoff_ms = 0;
		engine_set_table(&a->e, h->u, rep.table);
		h->due_ms = loop_now_ms() + (rep.lease_seconds > 2 ? rep.lease_seconds * 500ull : 1000);
		lease_arm(a, h->due_ms);
		granted = true;
	}
	if (ret < 0 && ratelimit_ok(&a->rl, loop_now_ms()))
		log_msg(LOG_WARNING, "server socket: %s", strerror(-ret));
	lease_pump(a);
	if (granted)
		pass_now(a);	/* rules in place as soon as the table is known */
}

/* ---- engine callbacks ---- */

/* The engine's forward interfaces: agent.json's forward_from and every
 * hint's --forward-iif, once each; set only when they changed. */
static void forward_sync(struct agent *a, const struct agentcfg *cfg)
{
	char v[ENGINE_FORWARD_MAX][IFNAMSIZ];
	size_t n = 0;
	bool over = false;

	for (size_t i = 0; i < cfg->nforward && n < ENGINE_FORWARD_MAX; i++)
		snprintf(v[n++], IFNAMSIZ, "%s", cfg->forward_from[i]);
	for (size_t i = 0; i < a->hw.n; i++) {
		for (size_t j = 0; j < a->hw.v[i].nforward; j++) {
			const char *f = a->hw.v[i].forward[j];
			size_t k = 0;

			while (k < n && strcmp(v[k], f))
				k++;
			if (k < n)
				continue;
			if (n == ENGINE_FORWARD_MAX) {
				over = true;
				continue;
			}
			snprintf(v[n++], IFNAMSIZ, "%s", f);
		}
	}
	if (over)
		log_msg(LOG_WARNING, "hints: more than %d forward interfaces; the rest ignored",
			ENGINE_FORWARD_MAX);
	if (n == a->e.nforward && !memcmp(v, a->e.forward, n * sizeof(v[0])))
		return;
	engine_set_forward(&a->e, (const char (*)[IFNAMSIZ])v, n);
}

/* A hint's --fwmark where agent.json's fwmark names none for the link. */
static bool hinted_policy(const struct hint *h, struct uplink_policy *pol)
{
	if (h && h->has_fwmark && !pol->has_fwmark) {
		pol->has_fwmark = true;
		pol->fwmark = h->fwmark;
		pol->fwmask = h->fwmask;
	}
	return true;
}

static bool cb_manage(struct engine *e, int family, const char *ifname, struct uplink_policy *pol)
{
	struct agent *a = e->owner;
	const struct hint *h = hintwatch_find(&a->hw, ifname);

	if (agentcfg_manages(&a->cfg, family, ifname, pol))
		return hinted_policy(h, pol);
	if (!h)
		return false;
	if (agentcfg_manages_hinted(&a->cfg, family, ifname, pol))
		return hinted_policy(h, pol);
	log_msg(LOG_INFO, "hint for %s (IPv%d) ignored: excluded by %s", ifname,
		family == AF_INET ? 4 : 6, a->path);
	return false;
}

static int cb_extra(const struct engine *e, const struct uplink *u, bool main_default,
		    bool main_had, struct kroute_set *out)
{
	const struct agent *a = e->owner;

	/* The prefix routes first: a gateway must be on-link in the table
	 * when its route is added.  Then the hint's gateways: a default
	 * route they give wins over the one taken from main. */
	if (mainmove_routes(&a->mm, u, false, out) < 0 ||
	    hintwatch_routes(hintwatch_find(&a->hw, u->key.ifname), main_had ? NULL : &a->nb, u, main_default,
			     out) < 0)
		return -ENOMEM;
	return mainmove_routes(&a->mm, u, true, out);
}

/* ---- --out-of-main ---- */

/* The link is out of main for the family: its hint says --out-of-main
 * and not --primary (hint_out_of_main). */
static bool out_of_main(void *data, const struct elink *l, int family)
{
	const struct agent *a = data;

	return hint_out_of_main(hintwatch_find(&a->hw, l->l.name)) & hint_fam(family);
}

/* Where what is out of main is kept across a kill -9 (mainmove_save):
 * beside the hints, a dot file they ignore.  Without the directory, no
 * hint takes anything out of main. */
#define MOVED_FILE ".moved"

static void moved_save(struct agent *a)
{
	char path[sizeof(a->hw.dir) + sizeof(MOVED_FILE) + 1];
	int ret;

	if (a->hw.fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/" MOVED_FILE, a->hw.dir);
	ret = mainmove_save(&a->mm, &a->e, path);
	if (ret < 0 && ratelimit_ok(&a->rl, loop_now_ms()))
		log_msg(LOG_ERR, "%s: %s (a run after a crash will not know what is out of main)", path,
			strerror(-ret));
}

/* What a run killed before it could put its routes back took out of
 * main: this run takes it over. */
static void moved_load(struct agent *a)
{
	char path[sizeof(a->hw.dir) + sizeof(MOVED_FILE) + 1];
	unsigned line;
	int ret;

	if (a->hw.fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/" MOVED_FILE, a->hw.dir);
	ret = mainmove_load(&a->mm, &a->e, path, &line);
	if (ret == -EINVAL)
		log_msg(LOG_WARNING, "%s: line %u: not a route: ignored", path, line);
	else if (ret < 0)
		log_msg(LOG_WARNING, "%s: %s: ignored", path, strerror(-ret));
	else if (a->mm.moved.n)
		log_msg(LOG_INFO, "%zu route(s) a previous run took out of main: taken over", a->mm.moved.n);
}

static void main_move(struct agent *a)
{
	mainmove_sync(&a->mm, &a->e, out_of_main, a);
	moved_save(a);
}

static bool cb_new(struct engine *e, struct uplink *u)
{
	struct agent *a = e->owner;
	struct uplink_lease *h;
	char s[INET6_ADDRSTRLEN];

	if (held_by_daemon(u)) {
		log_msg(LOG_INFO, "%s on %s: held by an rtalloc daemon (hooks): left to it",
			addr_str(&u->key.addr, s, sizeof(s)), u->key.ifname);
		return false;
	}
	/* The address came back before the release of its lease was
	 * answered: a retry of that release would now free the lease this
	 * uplink asks for.  The request takes the lease over instead. */
	for (size_t i = 0; i < a->nrel;)
		if (lease_key_is(&a->rel[i].req, &u->key))
			a->rel[i] = a->rel[--a->nrel];
		else
			i++;
	h = calloc(1, sizeof(*h));
	if (!h)
		return true;	/* no lease: nothing installed; the next scan won't retry */
	h->u = u;
	h->due_ms = loop_now_ms();
	u->owner = h;
	/* Asked at once: a lone new address waits for no timer. */
	queue_add(a, h);
	lease_pump(a);
	return true;
}

static void cb_gone(struct engine *e, struct uplink *u)
{
	struct agent *a = e->owner;
	struct uplink_lease *h = u->owner;

	if (h) {
		queue_del(a, h);
		inflight_del(a, h);
	}
	/* A request still unanswered (in flight, or timed out while the
	 * server was busy or stopped) may yet be granted: the release goes
	 * after it on the same socket, so the server reads it second. */
	if (u->table || (h && h->asked))
		release_key(a, &u->key);
	free(h);
	u->owner = NULL;
}

static const struct engine_ops agent_ops = {
	.manage = cb_manage,
	.uplink_new = cb_new,
	.uplink_gone = cb_gone,
	.extra_routes = cb_extra,
};

/* ---- readiness ---- */

/* Ready once every uplink found has had its first answer (a table or a
 * refusal) and its rules are in, or after READY_MAX_MS whatever rtallocd
 * does. */
static void ready_check(struct agent *a)
{
	if (a->ready)
		return;
	if (loop_now_ms() - a->started_ms < READY_MAX_MS) {
		for (size_t i = 0; i < a->e.nup; i++) {
			struct uplink_lease *h = a->e.up[i]->owner;

			if (h && !h->answered)
				return;
		}
	}
	a->ready = true;
	log_msg(LOG_INFO, "ready: %zu uplink(s)", a->e.nup);
	if (sdnotify_ready() < 0)
		log_msg(LOG_WARNING, "could not notify NOTIFY_SOCKET=%s", getenv("NOTIFY_SOCKET"));
}

/* ---- passes ---- */

#define DNS_CHECK_MS 2000	/* rtalloc-track's verdicts, RDNSS lifetimes */

static void dns_update(struct agent *a)
{
	int ret = agentdns_update(&a->dns, &a->e, &a->hw, loop_now_ms());

	if (ret < 0 && ratelimit_ok(&a->rl, loop_now_ms()))
		log_msg(LOG_ERR, "dns_servers_file %s: %s", a->dns.path, strerror(-ret));
}

static void dns_due(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, dns_timer);

	dns_update(a);
	loop_timer_set(&a->dns_timer, DNS_CHECK_MS);
}

static void dns_useropt(void *data, const struct nlmsghdr *nlh)
{
	struct agent *a = data;

	if (agentdns_useropt(&a->dns, nlh, loop_now_ms()) > 0)
		dns_update(a);
}

static void ra_ready(struct loop_fd *fd, uint32_t events)
{
	struct agent *a = container_of(fd, struct agent, rah);

	(void)events;
	if (ra_read(fd->fd, &a->dns, loop_now_ms()) > 0)
		dns_update(a);
}

static void pass_now(struct agent *a)
{
	unsigned long changes;
	int ret;

	main_move(a);
	/* Events the grant raced with (the prefix route of a new address)
	 * are in the mirror before the pass. */
	engine_read_events(&a->e);
	a->last_pass_ms = loop_now_ms();
	changes = a->e.stats.changes;
	ret = engine_pass(&a->e, a->last_pass_ms);
	if (a->e.stats.changes != changes)
		metrics_soon(&a->metrics);
	/* A dump the kernel kept interrupting (its state changed under every
	 * try: an event storm) is no fault: the pass runs again in 200 ms. */
	if (ret == -EINTR)
		log_msg(LOG_DEBUG, "the kernel's state changed during every dump; reading again in 200 ms");
	else if (ret < 0 && ratelimit_ok(&a->rl, loop_now_ms()))
		log_msg(LOG_ERR, "reconcile: %s", strerror(-ret));
	a->pass_for_due = false;
	if (a->e.resync || ret < 0) {
		loop_timer_set(&a->pass_timer, 200);
	} else if (a->e.next_due_ms) {
		loop_timer_set(&a->pass_timer, a->e.next_due_ms > loop_now_ms() ?
					       a->e.next_due_ms - loop_now_ms() : 1);
		a->pass_for_due = true;
	}
	control_sync(&a->ctl);
	mptcp_sync(&a->mp, &a->e, &a->cfg.mptcp);
	ready_check(a);
	dns_update(a);
}

static void mptcp_due(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, mp_timer);

	mptcp_sync(&a->mp, &a->e, &a->cfg.mptcp);
	if (a->cfg.mptcp.n)
		loop_timer_set(&a->mp_timer, 1000);
}

static void pass_due(struct loop_timer *t)
{
	pass_now(container_of(t, struct agent, pass_timer));
}

static void kernel_ready(struct loop_fd *fd, uint32_t events)
{
	struct agent *a = container_of(fd, struct agent, kh);
	int ret;

	(void)events;
	ret = engine_read_events(&a->e);
	if (ret < 0) {
		if (ratelimit_ok(&a->rl, loop_now_ms()))
			log_msg(LOG_ERR, "netlink events: %s", strerror(-ret));
		return;
	}
	/* A lone change is handled at once; within a burst (a pass less
	 * than PASS_DELAY_MS ago) the pass waits for the rest of it.  A
	 * timer set for the engine's due time (a retry up to 30 s away)
	 * holds no event back. */
	if (ret > 0 && (!a->pass_timer.armed || a->pass_for_due)) {
		if (loop_now_ms() - a->last_pass_ms > PASS_DELAY_MS) {
			pass_now(a);
		} else {
			loop_timer_set(&a->pass_timer, PASS_DELAY_MS);
			a->pass_for_due = false;
		}
	}
}

/* A hint or an IPv6 router changed: every link is asked again. */
static void hints_ready(struct loop_fd *fd, uint32_t events)
{
	struct agent *a = container_of(fd, struct agent, hwh);
	int ret = hintwatch_read(&a->hw);

	(void)events;
	if (ret < 0 && ratelimit_ok(&a->rl, loop_now_ms()))
		log_msg(LOG_ERR, "hints %s: %s", a->hw.dir, strerror(-ret));
	if (ret > 0) {
		forward_sync(a, &a->cfg);
		engine_rescan(&a->e);
		pass_now(a);
	}
	/* Acted on (or unchanged, a renewal): the hook waiting may go on. */
	if (ret >= 0)
		hintwatch_ack(&a->hw);
}

static void neigh_ready(struct loop_fd *fd, uint32_t events)
{
	struct agent *a = container_of(fd, struct agent, nbh);
	int ret = neigh_read(&a->nb);

	(void)events;
	if (ret == -ENOBUFS)
		ret = neigh_reload(&a->nb) < 0 ? 0 : 1;
	if (ret > 0) {
		log_msg(LOG_DEBUG, "IPv6 routers on the links changed: %zu known", a->nb.n);
		engine_rescan(&a->e);
		pass_now(a);
	}
}

/* ---- start, reload, stop ---- */

/* Leases of ours in the server for addresses that are gone (we were
 * killed, they went meanwhile): their tables are emptied and released. */
static void sweep_leases(struct agent *a)
{
	struct proto_lease *l = NULL;
	size_t n = 0;
	char err[256];
	int ret = lease_list(&a->lc, 1000, &l, &n, err, sizeof(err));

	if (ret < 0) {
		log_msg(LOG_WARNING, "listing leases to find a previous run's: %s", err[0] ? err : strerror(-ret));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct lease_key key = { .family = l[i].family };
		bool live = false;

		if (strcmp(l[i].tag, AGENT_TAG) || addr_parse(l[i].family, l[i].address, &key.addr) < 0)
			continue;
		for (size_t j = 0; j < a->e.nup && !live; j++) {
			const struct uplink *u = a->e.up[j];

			live = u->key.family == key.family && !strcmp(u->key.ifname, l[i].ifname) &&
			       !memcmp(u->key.addr.bytes, key.addr.bytes, addr_len(key.family));
		}
		if (live)
			continue;
		log_msg(LOG_INFO, "%s on %s: gone while we were not running: emptying table %u",
			l[i].address, l[i].ifname, l[i].table);
		engine_claim_table(&a->e, l[i].family, l[i].table);
		snprintf(key.ifname, sizeof(key.ifname), "%s", l[i].ifname);
		snprintf(key.tag, sizeof(key.tag), "%s", AGENT_TAG);
		release_key(a, &key);
	}
	free(l);
}

/* agent.json's fwmark map against rtallocd's leased-mark pool: 0, or -1
 * with one line in err.  A server that does not answer leaves it to the
 * check at the first mark lease (control.c). */
static int fwmark_pool_check(const struct agentcfg *c, char *err, size_t errlen)
{
	uint32_t mask = 0;
	char why[256];
	int ret;

	if (!c->nfwmark)
		return 0;
	ret = lease_mark_mask(c->socket_path, FWMARK_CHECK_MS, &mask, why, sizeof(why));
	if (ret < 0) {
		log_msg(LOG_WARNING, "fwmark: cannot check it against rtallocd's mark_mask: %s",
			why[0] ? why : strerror(-ret));
		return 0;
	}
	return agentcfg_fwmark_check(c, mask, err, errlen) < 0 ? -1 : 0;
}

static void reload(struct agent *a)
{
	struct agentcfg next;
	char err[256];

	agentcfg_defaults(&next);
	if (agentcfg_load(&next, a->path, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "reload: %s (keeping the running configuration)", err);
		return;
	}
	if (fwmark_pool_check(&next, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "reload: %s (keeping the running configuration)", err);
		return;
	}
	if (strcmp(next.socket_path, a->cfg.socket_path)) {
		struct lease_client lc;
		int ret = lease_open(&lc, next.socket_path);

		if (ret < 0) {
			log_msg(LOG_ERR, "reload: socket_path %s: %s (keeping the running configuration)",
				next.socket_path, strerror(-ret));
			return;
		}
		loop_fd_del(&a->loop, &a->lh);
		lease_close(&a->lc);
		a->lc = lc;
		a->lh.fd = a->lc.fd;
		loop_fd_add(&a->loop, &a->lh);
	}
	forward_sync(a, &next);
	if (strcmp(next.metrics_textfile, a->cfg.metrics_textfile) ||
	    strcmp(next.socket_path, a->cfg.socket_path)) {
		metrics_stop(&a->metrics);
		if (metrics_start(&a->metrics, &a->loop, &a->e, next.metrics_textfile, next.socket_path) < 0)
			log_msg(LOG_ERR, "reload: metrics_textfile %s: cannot start", next.metrics_textfile);
	}
	a->cfg = next;
	free(a->dns.written);	/* written again, wherever it goes now */
	a->dns.written = NULL;
	control_bindings(&a->ctl);
	if (a->cfg.mptcp.n)
		loop_timer_set(&a->mp_timer, 1000);
	/* Uplinks whose settings are the same plan no change. */
	engine_rescan(&a->e);
	log_msg(LOG_INFO, "reloaded %s", a->path);
	pass_now(a);
}

/* rtalloc's probes connect to our name and learn our uid: dropped. */
static void named_ready(struct loop_fd *fd, uint32_t events)
{
	int c;

	(void)events;
	while ((c = accept4(fd->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

/* Holds @rtalloc-agent/SOCKET.  Another root-owned holder is another
 * agent: -EADDRINUSE.  Anyone else's is a squatter: we run without the
 * name (rtalloc then does not see us) and say so. */
static int name_bind(struct agent *a)
{
	struct ucred cred = { 0 };
	int fd = owner_agent_bind(a->cfg.socket_path);

	if (fd >= 0) {
		a->named = (struct loop_fd){ .fd = fd, .events = EPOLLIN, .cb = named_ready };
		return 0;
	}
	if (fd != -EADDRINUSE)
		return fd;
	if (owner_agent_cred(a->cfg.socket_path, &cred) == 0 && cred.uid == 0)
		return -EADDRINUSE;
	log_msg(LOG_WARNING, "@" AGENT_NAME_FMT " is held by uid %d pid %d, not root: running without it "
		"(hook runs for our addresses are not refused)", a->cfg.socket_path, (int)cred.uid, (int)cred.pid);
	return 0;
}

static void signalled(struct loop_signal *s, int signo)
{
	struct agent *a = container_of(s, struct agent, sig);

	if (signo == SIGHUP) {
		reload(a);
		return;
	}
	log_msg(LOG_INFO, "signal %d: removing %zu uplink(s)' rules and routes", signo, a->e.nup);
	loop_quit(&a->loop);
}

/* Everything ours out of the kernel, every lease released (waiting up to a
 * second for the server's answers). */
static void teardown(struct agent *a)
{
	uint64_t end;

	/* Main as the tools left it, before the tables go: the host keeps
	 * its default route (a restart takes it out again). */
	mainmove_restore(&a->mm, &a->e);
	moved_save(a);
	for (size_t i = 0; i < a->e.nup; i++) {
		struct uplink *u = a->e.up[i];

		if (u->table && !u->foreign)
			release_key(a, &u->key);
		engine_set_table(&a->e, u, 0);
	}
	engine_read_events(&a->e);
	engine_pass(&a->e, loop_now_ms());
	end = loop_now_ms() + 1000;
	while (a->nrel && loop_now_ms() < end) {
		struct proto_reply rep;
		int ret = lease_recv_any(&a->lc, &rep);

		if (ret > 0) {
			for (size_t i = 0; i < a->nrel; i++)
				if (a->rel[i].req.seq == rep.seq) {
					a->rel[i] = a->rel[--a->nrel];
					break;
				}
			continue;
		}
		usleep(10000);
		for (size_t i = 0; i < a->nrel; i++)
			if (a->rel[i].due_ms <= loop_now_ms() && a->rel[i].tries < RELEASE_TRIES)
				send_release(a, &a->rel[i]);
	}
}

int agent_run(const char *path)
{
	static struct agent a;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	char err[256];
	const char *env;
	int ret, rc = 1, rcvbuf = 0;
	bool loaded = false;

	memset(&a, 0, sizeof(a));
	a.path = path;
	a.loop.epfd = -1;
	a.lc.fd = -1;
	a.kh.fd = a.lh.fd = a.named.fd = a.hw.fd = a.rah.fd = -1;
	a.pass_timer.h.fd = a.lease_timer.h.fd = a.sig.h.fd = a.dns_timer.h.fd = a.mp_timer.h.fd = -1;
	a.rl = (struct ratelimit)RATELIMIT_INIT(10000, 5);
	mainmove_init(&a.mm);
	agentcfg_defaults(&a.cfg);
	if (agentcfg_load(&a.cfg, path, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	if (fwmark_pool_check(&a.cfg, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	env = getenv("RTALLOC_AGENT_RCVBUF");
	if (env && *env) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(env, &end, 10);
		if (errno || *end || v < 1024 || v > (1ul << 30)) {
			log_msg(LOG_ERR, "RTALLOC_AGENT_RCVBUF: not a byte count in 1024..2^30: `%s'", env);
			return 1;
		}
		rcvbuf = (int)v;
	}
	a.started_ms = loop_now_ms();
	a.seq = (uint32_t)getpid() << 16;
	ret = loop_init(&a.loop);
	if (ret == 0)
		ret = loop_signal_init(&a.loop, &a.sig, sigs, 3, signalled);
	if (ret == 0)
		ret = loop_timer_init(&a.loop, &a.pass_timer, pass_due);
	if (ret == 0)
		ret = loop_timer_init(&a.loop, &a.lease_timer, lease_due);
	if (ret == 0)
		ret = loop_timer_init(&a.loop, &a.dns_timer, dns_due);
	if (ret == 0)
		ret = loop_timer_init(&a.loop, &a.mp_timer, mptcp_due);
	if (ret < 0) {
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
		goto cleanup;
	}
	ret = kernel_netlink_open(&a.k, rcvbuf);
	if (ret < 0) {
		log_msg(LOG_ERR, "netlink: %s", strerror(-ret));
		goto cleanup;
	}
	ret = lease_open(&a.lc, a.cfg.socket_path);
	if (ret < 0) {
		log_msg(LOG_ERR, "socket_path %s: %s", a.cfg.socket_path, strerror(-ret));
		goto cleanup;
	}
	ret = name_bind(&a);
	if (ret < 0) {
		if (ret == -EADDRINUSE)
			log_msg(LOG_ERR, "another rtalloc-agent serves rtallocd @%s here", a.cfg.socket_path);
		else
			log_msg(LOG_ERR, "binding @" AGENT_NAME_FMT ": %s", a.cfg.socket_path, strerror(-ret));
		goto cleanup;
	}
	/* Without its hint directory the agent still does what agent.json
	 * says: hooks' hints are not seen, and it says so. */
	ret = hintwatch_open(&a.hw, a.cfg.socket_path);
	if (ret < 0)
		log_msg(LOG_WARNING, "hints %s: %s: running without hooks' hints", a.hw.dir, strerror(-ret));
	agentdns_init(&a.dns, a.cfg.dns_servers_file, a.cfg.dnsmasq_pidfile);
	a.nb.useropt = dns_useropt;
	a.nb.data = &a;
	ret = neigh_open(&a.nb);
	if (ret < 0) {
		log_msg(LOG_ERR, "netlink (neighbours): %s", strerror(-ret));
		goto cleanup;
	}
	engine_init(&a.e, a.k, &agent_ops, &a, AGENT_TAG);
	loaded = true;
	forward_sync(&a, &a.cfg);
	/* Subscribed before the dump: nothing falls between. */
	ret = engine_load(&a.e);
	if (ret < 0) {
		log_msg(LOG_ERR, "reading the kernel's state: %s", strerror(-ret));
		goto cleanup;
	}
	moved_load(&a);
	a.kh = (struct loop_fd){ .fd = kernel_fd(a.k), .events = EPOLLIN, .cb = kernel_ready };
	a.lh = (struct loop_fd){ .fd = a.lc.fd, .events = EPOLLIN, .cb = lease_ready };
	a.hwh = (struct loop_fd){ .fd = a.hw.fd, .events = EPOLLIN, .cb = hints_ready };
	a.nbh = (struct loop_fd){ .fd = neigh_fd(&a.nb), .events = EPOLLIN, .cb = neigh_ready };
	/* Without a servers-file, RAs are none of our business. */
	if (a.dns.path[0]) {
		a.rah = (struct loop_fd){ .fd = ra_open(), .events = EPOLLIN, .cb = ra_ready };
		if (a.rah.fd < 0)
			log_msg(LOG_WARNING, "RAs' DNS servers: %s: only hints' and the kernel's",
				strerror(-a.rah.fd));
		else if ((ret = loop_fd_add(&a.loop, &a.rah)) < 0)
			log_msg(LOG_WARNING, "RAs' DNS servers: %s", strerror(-ret));
	}
	if ((ret = loop_fd_add(&a.loop, &a.kh)) < 0 || (ret = loop_fd_add(&a.loop, &a.lh)) < 0 ||
	    (a.hwh.fd >= 0 && (ret = loop_fd_add(&a.loop, &a.hwh)) < 0) ||
	    (ret = loop_fd_add(&a.loop, &a.nbh)) < 0 ||
	    (a.named.fd >= 0 && (ret = loop_fd_add(&a.loop, &a.named)) < 0)) {
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
		goto cleanup;
	}
	ret = control_open(&a.ctl, &a.loop, &a.e, &a.cfg, a.cfg.socket_path);
	if (ret < 0) {
		log_msg(LOG_ERR, "control socket @" CONTROL_NAME_FMT ": %s", a.cfg.socket_path,
			strerror(-ret));
		goto cleanup;
	}
	ret = mptcp_open(&a.mp);
	if (ret < 0 && a.cfg.mptcp.n)
		log_msg(LOG_WARNING, "mptcp: generic netlink mptcp_pm: %s: no MPTCP endpoints", strerror(-ret));
	else if (a.cfg.mptcp.n)
		loop_timer_set(&a.mp_timer, 1000);
	/* Uplinks first (they adopt what they find: nothing is removed
	 * before a table is known), then what a previous run left. */
	engine_pass(&a.e, loop_now_ms());
	sweep_leases(&a);
	a.started = true;
	lease_pump(&a);
	ret = metrics_start(&a.metrics, &a.loop, &a.e, a.cfg.metrics_textfile, a.cfg.socket_path);
	if (ret < 0) {
		log_msg(LOG_ERR, "metrics_textfile %s: %s", a.cfg.metrics_textfile, strerror(-ret));
		goto cleanup;
	}
	log_msg(LOG_INFO, "managing %zu uplink(s); rtallocd @%s", a.e.nup, a.cfg.socket_path);
	lease_schedule(&a);
	pass_now(&a);
	loop_timer_set(&a.dns_timer, DNS_CHECK_MS);
	ret = loop_run(&a.loop);
	if (ret < 0)
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
	control_close(&a.ctl);
	mptcp_close(&a.mp);
	teardown(&a);
	rc = 0;
cleanup:
	control_close(&a.ctl);
	mptcp_close(&a.mp);
	metrics_stop(&a.metrics);
	if (loaded) {
		for (size_t i = 0; i < a.e.nup; i++)
			free(a.e.up[i]->owner);
		engine_free(&a.e);
	}
	kernel_close(a.k);
	hintwatch_close(&a.hw);
	mainmove_free(&a.mm);
	neigh_close(&a.nb);
	agentdns_free(&a.dns);
	if (a.rah.fd >= 0)
		close(a.rah.fd);
	loop_timer_free(&a.loop, &a.dns_timer);
	lease_close(&a.lc);
	if (a.named.fd >= 0)
		close(a.named.fd);
	free(a.rel);
	loop_timer_free(&a.loop, &a.pass_timer);
	loop_timer_free(&a.loop, &a.lease_timer);
	loop_timer_free(&a.loop, &a.mp_timer);
	loop_signal_free(&a.loop, &a.sig);
	loop_free(&a.loop);
	return rc;
}
