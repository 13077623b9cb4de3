/* daemon: the lease holder's life: lock, check, lease, rules, loop, cleanup. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "hold.h"
#include "sockowner.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "nl.h"
#include "owner.h"
#include "rules.h"
#include "watch.h"

#define RENEW_BACKOFF_MAX_MS	60000	/* server gone: ask at least once a minute */
#define FIX_INTERVAL_MS		1000	/* restore deleted rules at most once a second */
#define FIX_DELAY_MS		100	/* let an `ip rule flush` finish first */
#define RELEASE_DEADLINE_MS	4000	/* at exit: deliver the release within this */
#define RELEASE_WAIT_MS		250	/* first wait for its answer; doubles */
#define PREFIX_ASK_MS		2000	/* then ask an old holder for its table only */
#define ADDR_POLL_MS		100	/* how often an awaited address is looked for */

struct daemon {
	struct loop loop;
	const struct cli_opts *o;	/* &opts */
	struct cli_opts opts;		/* the run's, with the prefix it has now */
	struct nl nl;			/* requests and dumps */
	struct watch watch;		/* events */
	struct lease_client lc;
	struct loop_fd lease_h;
	struct loop_timer lease_timer;	/* renewal, or retry while waiting */
	bool waiting;			/* a request is unanswered */
	bool grace_told;		/* the server's grace period was logged */
	uint64_t backoff_ms;
	struct loop_timer fix_timer;
	uint64_t last_fix_ms;
	struct loop_signal sig;
	int addr_fd;			/* holds the address's name (addr_lock) */
	struct ctl ctl;			/* the key's control names (the lock too) */
	int ifindex;
	uint32_t table;
	uint32_t lease_seconds;
	struct ruleset rules;
	struct hold hold;		/* the table's routes, when the hook gave them */
	bool have_rules;		/* rules is in the kernel */
	/* The address is not on the interface yet (the 2017 hooks ran the
	 * client before adding it): the lease is held, the rules wait. */
	bool pending;
	uint64_t pending_until_ms;
	struct loop_timer addr_timer;
	const char *reason;		/* why the loop ended */
	struct ratelimit rl;
};

/* ---- the address's prefix ----
 * A DHCP server may change a live address's mask: the address gets a second
 * entry with the new prefix and the old one goes.  The next run for the key
 * tells the holder the prefix it was given ("prefix LEN"), and the holder
 * moves its `to NET` rule; the old entry going is then no reason to stop. */

/* Moves the rules to o's address with prefix len: the new ones first, so
 * traffic is never unrouted.  0 or -errno. */
static int prefix_move(struct daemon *d, uint8_t len)
{
	struct cli_opts next_o = d->opts;
	struct ruleset next, add = { 0 }, del = { 0 };
	const struct krule *failed = NULL;
	char buf[160];
	int ret;

	if (d->opts.have_prefix && d->opts.prefixlen == len)
		return 0;
	next_o.prefixlen = len;
	next_o.have_prefix = true;
	if (!d->have_rules) {
		/* The address is still awaited: its rules will use this. */
		d->opts = next_o;
		return 0;
	}
	rules_build(&next_o, d->table, &next);
	for (size_t i = 0; i < next.n; i++)
		if (!krule_in(&next.r[i], d->rules.r, d->rules.n))
			add.r[add.n++] = next.r[i];
	for (size_t j = 0; j < d->rules.n; j++)
		if (!krule_in(&d->rules.r[j], next.r, next.n))
			del.r[del.n++] = d->rules.r[j];
	ret = add.n ? rules_add(&d->nl, &add, &failed) : 0;
	if (ret < 0) {
		log_msg(LOG_ERR, "prefix /%u: kernel refused rule '%s': %s", len,
			failed ? krule_str(failed, buf, sizeof(buf)) : "batch", strerror(-ret));
		return ret;
	}
	if (del.n) {
		ret = rules_del(&d->nl, &del);
		if (ret < 0)
			log_msg(LOG_WARNING, "prefix /%u: removing the old rules: %s", len, strerror(-ret));
	}
	log_msg(LOG_NOTICE, "%s on %s: prefix /%u now, its `to` rule moved",
		addr_str(&d->opts.addr, buf, sizeof(buf)), d->opts.ifname, len);
	d->rules = next;
	d->opts = next_o;
	return 0;
}

/* ---- what the control sockets ask of the run ---- */

static uint32_t ctl_table(struct ctl *c)
{
	return container_of(c, struct daemon, ctl)->table;
}

static void ctl_prefix(struct ctl *c, uint8_t len)
{
	prefix_move(container_of(c, struct daemon, ctl), len);
}

static size_t ctl_routes_msg(struct ctl *c, char *buf, size_t len)
{
	return hold_msg(&container_of(c, struct daemon, ctl)->hold, buf, len);
}

static void ctl_routes_set(struct ctl *c, const struct route_arg *r, size_t n)
{
	struct daemon *d = container_of(c, struct daemon, ctl);

	if (hold_set_routes(&d->hold, r, n) < 0)
		log_msg(LOG_ERR, "table %u: cannot take the new routes", d->table);
}

static void ctl_release(struct ctl *c)
{
	struct daemon *d = container_of(c, struct daemon, ctl);

	d->reason = "release requested";
	loop_quit(&d->loop);
}

static const struct ctl_ops daemon_ctl_ops = {
	.table = ctl_table,
	.prefix = ctl_prefix,
	.routes_msg = ctl_routes_msg,
	.routes_set = ctl_routes_set,
	.release = ctl_release,
};

/* ---- one holder per address ----
 * The key (and so the control socket) includes the interface, but an
 * address's `from ADDR` rule does not: two daemons for one address on two
 * links would fight over it (the second would take the first's live rules
 * for leftovers).  So a daemon also holds an abstract name per (family,
 * address): the first holder keeps the address, a run for it on another
 * interface is refused.  The kernel frees the name when its holder dies, so
 * a bound name is a live holder. */

/* 0, -EADDRINUSE (an rtalloc of ours holds the address), or -errno.  A
 * process of another uid on the name is a squatter: logged, and the run
 * goes on without the lock (0, *fd -1). */
static int addr_lock(const struct cli_opts *o, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char a[INET6_ADDRSTRLEN];
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "rtalloc-addr/%d/%s",
			 o->family == AF_INET ? 4 : 6, addr_str(&o->addr, a, sizeof(a)));
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	struct sockowner h;

	*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	if (bind(*fd, (struct sockaddr *)&sa, len) < 0) {
		int ret = -errno;

		close(*fd);
		*fd = -1;
		if (ret == -EADDRINUSE && sockowner_find(&sa, len, &h) == 0 && h.uid != geteuid() &&
		    h.uid != 0) {
			log_msg(LOG_WARNING, "address name @%s is held by uid %u pid %d (%s), not by an "
				"rtalloc: ignored", sa.sun_path + 1, (unsigned)h.uid, (int)h.pid, h.comm);
			return 0;
		}
		return ret;
	}
	return 0;
}

/* The interface of the daemon holding o's address elsewhere, from its
 * control socket's name in /proc/net/unix ("@rtalloc/4/IFNAME/ADDR"), for
 * the message only; "another interface" when it cannot be told. */
static void addr_holder(const struct cli_opts *o, char *ifname, size_t len)
{
	char line[512], a[INET6_ADDRSTRLEN], head[16];
	FILE *f = fopen("/proc/net/unix", "re");
	int hl = snprintf(head, sizeof(head), "@rtalloc/%d/", o->family == AF_INET ? 4 : 6);

	snprintf(ifname, len, "another interface");
	addr_str(&o->addr, a, sizeof(a));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, head), *slash, *end;

		if (!p)
			continue;
		p += hl;
		slash = strchr(p, '/');
		if (!slash || (size_t)(slash - p) >= IFNAMSIZ)
			continue;
		end = slash + 1 + strcspn(slash + 1, "@\n");	/* padded names show NULs as @ */
		if ((size_t)(end - slash - 1) != strlen(a) || strncmp(slash + 1, a, strlen(a)) ||
		    ((size_t)(slash - p) == strlen(o->ifname) && !strncmp(p, o->ifname, (size_t)(slash - p))))
			continue;
		snprintf(ifname, len, "%.*s", (int)(slash - p), p);
		break;
	}
	fclose(f);
}

/* ---- lease renewal ---- */

static uint64_t renew_ms(const struct daemon *d)
{
	uint64_t half = (uint64_t)d->lease_seconds * 1000 / 2;

	return half < 1000 ? 1000 : half;
}

static void lease_granted(struct daemon *d, const struct proto_reply *rep)
{
	d->lc.held_table = d->table;	/* renewals say which table we hold */
	d->lease_seconds = rep->lease_seconds;
	if (!d->lease_seconds && rep->lease_expires) {
		/* A v1 server says only when the lease ends. */
		int64_t left = rep->lease_expires - (int64_t)time(NULL);

		d->lease_seconds = left > 0 ? (uint32_t)left : 0;
	}
	if (!d->lease_seconds)
		d->lease_seconds = 600;
}

static void lease_ready(struct loop_fd *h, uint32_t events)
{
	struct daemon *d = container_of(h, struct daemon, lease_h);
	struct proto_reply rep;
	char buf[160];
	int ret;

	(void)events;
	while ((ret = lease_recv(&d->lc, &rep)) > 0) {
		if (!d->waiting)
			continue;	/* a duplicate answer */
		if (lease_must_wait(&rep)) {
			/* Its grace period: once per period, and ask again
			 * when it says (within the backoff's bound). */
			uint64_t ms = rep.retry_after * 1000ull;

			if (!d->grace_told)
				log_msg(LOG_NOTICE, "renewal: server: %s; keeping table %u", rep.error,
					d->table);
			d->grace_told = true;
			loop_timer_set(&d->lease_timer, ms < RENEW_BACKOFF_MAX_MS ? ms : RENEW_BACKOFF_MAX_MS);
			continue;
		}
		if (!rep.table) {
			/* Keep the rules: routing still works, and the server
			 * may change its mind (pool reconfigured, restarted). */
			log_msg(LOG_WARNING, "server refused the renewal: %s",
				rep.error[0] ? rep.error : "no reason given");
			continue;	/* the retry timer stays armed */
		}
		if (rep.table != d->table && !cli_table_ok(d->o, rep.table)) {
			/* 0, 253..255 or outside --tables: never ours, whoever
			 * sent it.  Keep what we have; the retry timer stays. */
			log_msg(LOG_ERR, "renewal answer names table %u, which is never leased; ignored",
				rep.table);
			continue;
		}
		if (rep.table != d->table && !d->have_rules) {
			/* unspec, or the address not there yet: no rules to
			 * move; the routes (if ours) go to the new table. */
			log_msg(LOG_NOTICE, "server moved the lease from table %u to %u", d->table, rep.table);
			hold_move(&d->hold, rep.table);
			hold_drop_table(&d->hold, d->table);
			d->table = rep.table;
		} else if (rep.table != d->table) {
			struct ruleset next;
			const struct krule *failed = NULL;

			/* The routes move with the rules: the new table is
			 * filled, then selected, then the old one emptied. */
			hold_move(&d->hold, rep.table);
			rules_build(d->o, rep.table, &next);
			watch_set_table(&d->watch, 0);	/* both tables' rules matter now */
			ret = rules_add(&d->nl, &next, &failed);
			if (ret < 0) {
				log_msg(LOG_ERR, "cannot move to table %u: %s: %s", rep.table,
					failed ? krule_str(failed, buf, sizeof(buf)) : "batch", strerror(-ret));
				hold_move(&d->hold, d->table);
				hold_drop_table(&d->hold, rep.table);
				watch_set_table(&d->watch, d->table);
				continue;
			}
			/* New rules first, so traffic is never unrouted. */
			watch_set_table(&d->watch, rep.table);
			rules_del(&d->nl, &d->rules);
			hold_drop_table(&d->hold, d->table);
			log_msg(LOG_NOTICE, "server moved the lease from table %u to %u", d->table, rep.table);
			d->rules = next;
			d->table = rep.table;
		}
		lease_granted(d, &rep);
		d->grace_told = false;
		d->waiting = false;
		d->backoff_ms = d->o->retry_interval * 1000ull;
		log_msg(LOG_DEBUG, "lease on table %u renewed for %u s", d->table, d->lease_seconds);
		loop_timer_set(&d->lease_timer, renew_ms(d));
	}
	if (ret < 0)
		log_msg(LOG_WARNING, "server socket: %s", strerror(-ret));
}

static void lease_due(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, lease_timer);
	struct proto_request key;
	int ret;

	if (d->waiting) {
		d->backoff_ms *= 2;
		if (d->backoff_ms > RENEW_BACKOFF_MAX_MS)
			d->backoff_ms = RENEW_BACKOFF_MAX_MS;
	}
	key = cli_lease_key(d->o);
	ret = lease_send(&d->lc, &key, PROTO_CMD_REQUEST);
	if (ret < 0 && ratelimit_ok(&d->rl, loop_now_ms()))
		log_msg(LOG_WARNING, "renewal: server @%s: %s (keeping table %u, retry in %llu s)",
			d->o->socket, strerror(-ret), d->table,
			(unsigned long long)(d->backoff_ms / 1000));
	d->waiting = true;
	loop_timer_set(&d->lease_timer, d->backoff_ms);
}

/* ---- rule restoration ---- */

static void fix_due(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, fix_timer);
	unsigned restored = 0;
	int ret;

	d->last_fix_ms = loop_now_ms();
	ret = rules_reconcile(&d->nl, &d->rules, &restored);
	if (ret < 0)
		log_msg(LOG_ERR, "restoring rules for table %u: %s", d->table, strerror(-ret));
	else if (restored)
		log_msg(LOG_NOTICE, "restored %u deleted rule(s) for table %u", restored, d->table);
}

static void fix_soon(struct daemon *d)
{
	uint64_t now = loop_now_ms(), at = d->last_fix_ms + FIX_INTERVAL_MS;
	uint64_t delay = at > now ? at - now : 0;

	if (d->fix_timer.armed)
		return;
	loop_timer_set(&d->fix_timer, delay > FIX_DELAY_MS ? delay : FIX_DELAY_MS);
}

/* An entry of the address went (or events were lost): stop only when no
 * entry of it is left on the interface; follow the prefix of the one left
 * when ours went.  When the addresses cannot be read, a deletion seen
 * (deleted) still ends the daemon, lost events do not. */
static void addr_recheck(struct daemon *d, const char *why, bool deleted)
{
	uint8_t len = 0;
	int ret = watch_addr_find(&d->nl, d->opts.family, d->ifindex, &d->opts.addr,
				  d->opts.have_prefix ? d->opts.prefixlen : 0, &len);

	if (ret < 0)
		log_msg(LOG_ERR, "reading addresses: %s", strerror(-ret));
	if (ret == 0 || (ret < 0 && deleted)) {
		d->reason = why;
		loop_quit(&d->loop);
		return;
	}
	if (ret < 0) {
		fix_soon(d);
		return;
	}
	if (d->opts.have_prefix && len != d->opts.prefixlen)
		prefix_move(d, len);
	fix_soon(d);
}

static void watched(struct watch *w, enum watch_event ev, const char *why)
{
	struct daemon *d = container_of(w, struct daemon, watch);

	if (d->pending) {
		/* No rules yet; addr_due() looks for the address.  A deletion
		 * of it means it came and went already. */
		if (ev == WATCH_GONE || ev == WATCH_ADDR_DELETED) {
			d->reason = why;
			loop_quit(&d->loop);
		}
		return;
	}
	switch (ev) {
	case WATCH_GONE:
		d->reason = why;
		loop_quit(&d->loop);
		break;
	case WATCH_RULE_DELETED:
		fix_soon(d);
		break;
	case WATCH_ADDR_DELETED:
		addr_recheck(d, why, true);
		break;
	case WATCH_OVERFLOW:
		log_msg(LOG_WARNING, "%s: re-reading addresses and rules", why);
		addr_recheck(d, "address gone (found after event overflow)", false);
		break;
	}
}

static void signalled(struct loop_signal *s, int signo)
{
	struct daemon *d = container_of(s, struct daemon, sig);

	if (signo == SIGHUP)
		return;		/* the hook's session ending is no reason to go */
	d->reason = signo == SIGTERM ? "SIGTERM" : "SIGINT";
	loop_quit(&d->loop);
}

/* ---- the rules ---- */

/* Rules for d->table, all or none; then the ones a dead run for this address
 * left with another table.  0, or -errno (logged). */
static int rules_install(struct daemon *d)
{
	const struct krule *failed = NULL;
	char a[INET6_ADDRSTRLEN], buf[160];
	unsigned removed;
	int ret;

	rules_build(d->o, d->table, &d->rules);
	watch_set_table(&d->watch, d->table);	/* deletions of these come through */
	ret = rules_add(&d->nl, &d->rules, &failed);
	if (ret < 0) {
		log_msg(LOG_ERR, "kernel refused rule '%s': %s",
			failed ? krule_str(failed, buf, sizeof(buf)) : "batch", strerror(-ret));
		return ret;
	}
	d->have_rules = true;
	{
		size_t own = 0;

		/* The guard (rules_build) is the network's, not the table's. */
		for (size_t i = 0; i < d->rules.n; i++)
			own += !rule_is_guard(&d->rules.r[i], d->o->pref_to);
		log_msg(LOG_INFO, "%s on %s: table %u, %zu rules%s", addr_str(&d->o->addr, a, sizeof(a)),
			d->o->ifname, d->table, own, own < d->rules.n ? " and its network's guard" : "");
	}
	/* We hold the key and the address (addr_lock), so no live daemon has
	 * this address: rules for it with another table were left by one that
	 * died.  After ours are in,
	 * so traffic is never unrouted. */
	ret = rules_clear_stale(&d->nl, d->o, d->table, &removed);
	if (ret < 0)
		log_msg(LOG_WARNING, "removing leftover rules: %s", strerror(-ret));
	return 0;
}

/* While pending: is the address there now?  Polled rather than taken from
 * address events, which report only deletions (watch.c); a check costs one
 * small dump, and only for the grace period. */
static void addr_due(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, addr_timer);
	char a[INET6_ADDRSTRLEN];
	int ret;

	addr_str(&d->o->addr, a, sizeof(a));
	ret = watch_addr_present(&d->nl, d->o->family, d->ifindex, &d->o->addr);
	if (ret > 0) {
		d->pending = false;
		log_msg(LOG_INFO, "%s appeared on %s", a, d->o->ifname);
		if (rules_install(d) < 0) {
			d->reason = "the kernel refused the rules";
			loop_quit(&d->loop);
		}
		return;
	}
	if (ret < 0)
		log_msg(LOG_WARNING, "reading addresses: %s", strerror(-ret));
	if (loop_now_ms() >= d->pending_until_ms) {
		log_msg(LOG_WARNING, "%s did not appear on %s within %u s: releasing table %u",
			a, d->o->ifname, d->o->address_wait, d->table);
		d->reason = "address never appeared";
		loop_quit(&d->loop);
		return;
	}
	loop_timer_set(&d->addr_timer, ADDR_POLL_MS);
}

/* ---- the run ---- */

static void background(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Nothing of ours may keep a hook's $(...) pipe open. */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	setsid();
	if (chdir("/") < 0)
		log_msg(LOG_DEBUG, "chdir /: %s", strerror(errno));
}

/* The release at exit.  An interface losing its addresses ends many daemons
 * at once, and the server's queue (net.unix.max_dgram_qlen: 10 where systemd
 * did not raise it) is full at once: a non-blocking datagram is lost there
 * and its lease stays for a whole lease time.  So the socket blocks (bounded
 * by SO_SNDTIMEO) and the release is resent until answered, within
 * deadline_ms.  An answer to any of our sends counts: releasing is
 * idempotent.  No server bound (-ECONNREFUSED) is no reason to linger. */
static int release_deliver(struct lease_client *lc, const struct cli_opts *o, unsigned deadline_ms)
{
	uint64_t end = loop_now_ms() + deadline_ms, wait_ms = RELEASE_WAIT_MS;
	struct proto_request key = cli_lease_key(o);
	uint32_t first = lc->seq + 1;
	int flags = fcntl(lc->fd, F_GETFL);

	if (flags < 0 || fcntl(lc->fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return -errno;
	for (;;) {
		uint64_t now = loop_now_ms(), until;
		struct timeval tv;
		int ret;

		if (now >= end)
			return -ETIMEDOUT;
		tv.tv_sec = (time_t)((end - now) / 1000);
		tv.tv_usec = (suseconds_t)((end - now) % 1000 * 1000);
		if (setsockopt(lc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
			return -errno;
		lc->send_deadline_ms = end;	/* lease_send_req() waits for room */
		ret = lease_send(lc, &key, PROTO_CMD_RELEASE);
		lc->send_deadline_ms = 0;
		if (ret == -ECONNREFUSED || ret == -ENOENT)
			return ret;
		if (ret < 0)
			log_msg(LOG_DEBUG, "release: server @%s: %s", o->socket, strerror(-ret));
		now = loop_now_ms();
		until = now + wait_ms < end ? now + wait_ms : end;
		while (now < until) {
			struct pollfd p = { .fd = lc->fd, .events = POLLIN };
			struct proto_reply rep;

			if (poll(&p, 1, (int)(until - now)) > 0) {
				ret = lease_recv_any(lc, &rep);
				if (ret < 0)
					break;
				if (ret == 1 && (!rep.seq || (rep.seq - first) <= (lc->seq - first)))
					return 0;
			}
			now = loop_now_ms();
		}
		wait_ms *= 2;
	}
}

static void release_lease(struct daemon *d)
{
	int ret = release_deliver(&d->lc, d->o, RELEASE_DEADLINE_MS);

	if (ret < 0)
		log_msg(LOG_WARNING, "release of table %u: no answer from @%s: %s", d->table,
			d->o->socket, strerror(-ret));
}

static void print_table(uint32_t table)
{
	printf("%u\n", table);
	fflush(stdout);
}

static int loop_setup(struct daemon *d)
{
	int ret;

	ret = loop_init(&d->loop);
	if (ret < 0)
		return ret;
	ret = loop_timer_init(&d->loop, &d->lease_timer, lease_due);
	if (ret < 0)
		return ret;
	ret = loop_timer_init(&d->loop, &d->fix_timer, fix_due);
	if (ret < 0)
		return ret;
	ret = loop_timer_init(&d->loop, &d->addr_timer, addr_due);
	if (ret < 0)
		return ret;
	if (d->o->family != AF_UNSPEC) {
		ret = watch_start(&d->watch, &d->loop, watched);
		if (ret < 0)
			return ret;
	}
	d->lease_h = (struct loop_fd){ .fd = d->lc.fd, .events = EPOLLIN, .cb = lease_ready };
	ret = loop_fd_add(&d->loop, &d->lease_h);
	if (ret < 0)
		return ret;
	return ctl_start(&d->ctl, &d->loop);
}

/* The holder's answer to "table": exactly "table N", N a uint32_t in
 * decimal, as ctl.c writes it; anything else is no answer. */
static int ctl_table_parse(const char *reply, uint32_t *table)
{
	static const char prefix[] = "table ";
	const char *s = reply;
	unsigned long v;
	char *end;

	if (strncmp(s, prefix, sizeof(prefix) - 1))
		return -EINVAL;
	s += sizeof(prefix) - 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*table = (uint32_t)v;
	return 0;
}

/* Another process holds the key: print its table.  -ECONNREFUSED when it
 * went away meanwhile (the caller then tries to become the holder), -EPERM
 * when it is not an rtalloc of ours (logged; the caller holds the key
 * without the name). */
static int ask_holder(const struct cli_opts *o, int *status)
{
	struct proto_request key = cli_lease_key(o);
	char reply[CTL_MSG_MAX];
	uint32_t table;
	/* The holder may itself still be waiting for the server. */
	unsigned wait_ms = (o->retries * o->retry_interval + 5) * 1000;
	char req[CTL_MSG_MAX];
	int ret = -ETIMEDOUT;

	/* Our prefix may be new (the DHCP server changed the mask): the holder
	 * moves its `to NET` rule to it (ctl_prefix).  A holder started before
	 * an upgrade ignores "prefix": then only the table is asked for. */
	if (o->have_prefix) {
		snprintf(req, sizeof(req), "prefix %u", o->prefixlen);
		ret = owner_ask(&key, req, PREFIX_ASK_MS, reply, sizeof(reply));
	}
	if (ret == -ETIMEDOUT)
		ret = owner_ask(&key, "table", wait_ms, reply, sizeof(reply));
	/* Our routes (a renewal's routers) replace the holder's. */
	if (ret == 0 && o->n_routes) {
		char msg[ROUTEARG_MSG_MAX], again[CTL_MSG_MAX];

		route_arg_msg(o->routes, o->n_routes, msg, sizeof(msg));
		if (owner_ask(&key, msg, PREFIX_ASK_MS, again, sizeof(again)) == 0)
			memcpy(reply, again, sizeof(reply));
		else
			log_msg(LOG_WARNING, "the rtalloc running for %s took no routes (started before an upgrade?)",
				o->ifname);
	}
	if (ret == -ECONNREFUSED || ret == -EPERM)
		return ret;
	if (ret < 0 || ctl_table_parse(reply, &table) < 0) {
		log_msg(LOG_ERR, "the rtalloc already running for %s did not answer", o->ifname);
		print_table(0);
		*status = EXIT_NO_LEASE;
		return 0;
	}
	if (!cli_table_ok(o, table)) {
		log_msg(LOG_ERR, "the rtalloc running for %s answered table %u, which is never leased; ignored",
			o->ifname, table);
		print_table(0);
		*status = EXIT_NO_LEASE;
		return 0;
	}
	log_msg(LOG_DEBUG, "already running with table %u", table);
	print_table(table);
	*status = EXIT_LEASED;
	return 0;
}

/* Steps 1 and 1b of a run with an address: events, the interface, the
 * address (or the wait for it), the address's lock.  0, or -errno with the
 * exit status in *status (logged). */
static int addr_setup(struct daemon *d, const char *a, int *status)
{
	const struct cli_opts *o = d->o;
	int ret;

	/* 1. Subscribe first, then check: a deletion after the check is an
	 * event waiting in the socket. */
	ret = watch_open(&d->watch, o->family, &o->addr);
	if (ret == 0)
		ret = nl_open(&d->nl, NULL, 0);
	if (ret < 0) {
		log_msg(LOG_ERR, "netlink: %s", strerror(-ret));
		return ret;
	}
	d->ifindex = (int)if_nametoindex(o->ifname);
	if (!d->ifindex) {
		log_msg(LOG_ERR, "-i: no such interface: no interface '%s' here", o->ifname);
		*status = EXIT_NO_INTERFACE;
		return -ENXIO;
	}
	watch_set_ifindex(&d->watch, d->ifindex);
	ret = watch_addr_present(&d->nl, o->family, d->ifindex, &o->addr);
	if (ret < 0 || (ret == 0 && !o->address_wait)) {
		if (ret < 0)
			log_msg(LOG_ERR, "reading addresses: %s", strerror(-ret));
		else
			log_msg(LOG_ERR, "-a: %s is not an address of %s", a, o->ifname);
		*status = ret < 0 ? EXIT_SYSTEM : EXIT_NO_ADDRESS;
		return ret < 0 ? ret : -EADDRNOTAVAIL;
	}
	if (ret == 0) {
		/* The 2017 hooks' order: the client first, the address a moment
		 * later.  Lease and print now, the rules when it comes. */
		log_msg(LOG_INFO, "%s is not on %s yet: waiting up to %u s for it", a, o->ifname,
			o->address_wait);
		d->pending = true;
		d->pending_until_ms = loop_now_ms() + o->address_wait * 1000ull;
	}

	/* One holder per address, whatever the interface (addr_lock). */
	ret = addr_lock(o, &d->addr_fd);
	if (ret == -EADDRINUSE) {
		char other[IFNAMSIZ + 32];

		addr_holder(o, other, sizeof(other));
		log_msg(LOG_ERR, "%s is already routed by the rtalloc for %s; %s gets no table for it",
			a, other, o->ifname);
		*status = EXIT_NO_LEASE;
		return ret;
	}
	if (ret < 0) {
		log_msg(LOG_ERR, "address lock: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int daemon_main(const struct cli_opts *o)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct daemon d = { .o = o, .addr_fd = -1,
			    .rl = RATELIMIT_INIT(10000, 5) };
	struct proto_request key;
	struct proto_reply rep;
	char a[INET6_ADDRSTRLEN];
	int ret, status = EXIT_SYSTEM;
	bool have_lease = false;

	d.opts = *o;
	d.o = &d.opts;
	d.watch.h.fd = -1;
	d.lc.fd = -1;
	d.loop.epfd = -1;
	d.lease_timer.h.fd = d.fix_timer.h.fd = d.addr_timer.h.fd = d.sig.h.fd = -1;
	ctl_init(&d.ctl, &daemon_ctl_ops, o->family, &d.rl);
	cli_key_str(o, a, sizeof(a));

	/* 5. One holder per key; later runs ask it. */
	key = cli_lease_key(o);
	for (int tries = 0;; tries++) {
		ret = ctl_lock(&d.ctl, &key);
		if (ret != -EADDRINUSE)
			break;
		ret = ask_holder(o, &status);
		if (ret == 0)
			return status;
		if (ret == -EPERM) {
			ret = 0;	/* a squatter: logged; go on without the name */
			break;
		}
		if (tries >= 2) {
			log_msg(LOG_ERR, "the rtalloc for %s on %s keeps going away", a, o->ifname);
			print_table(0);
			return EXIT_SYSTEM;
		}
	}
	if (ret < 0) {
		log_msg(LOG_ERR, "control socket: %s", strerror(-ret));
		goto cleanup;
	}

	/* An unspec lease (-a ID) has no address and no rules: it only holds
	 * the table. */
	if (o->family != AF_UNSPEC && addr_setup(&d, a, &status) < 0)
		goto cleanup;

	/* 2. Lease. */
	ret = lease_open(&d.lc, o->socket);
	if (ret < 0) {
		log_msg(LOG_ERR, "server socket: %s", strerror(-ret));
		goto cleanup;
	}
	key = cli_lease_key(o);
	ret = lease_exchange(&d.lc, &key, PROTO_CMD_REQUEST, o->retries, o->retry_interval * 1000, &rep);
	if (ret < 0 || !rep.table) {
		if (ret == -ETIMEDOUT)
			log_msg(LOG_ERR, "no answer from rtallocd @%s after %u tries", o->socket, o->retries);
		else if (ret < 0)
			log_msg(LOG_ERR, "server @%s: %s", o->socket, strerror(-ret));
		else
			log_msg(LOG_ERR, "server refused a table for %s on %s: %s", a, o->ifname,
				rep.error[0] ? rep.error : "no reason given");
		status = EXIT_NO_LEASE;
		goto cleanup;
	}
	have_lease = true;
	d.table = rep.table;
	if (!cli_table_ok(o, d.table)) {
		/* Whoever said so, 254 is main and 255 local: the hooks would
		 * fill or flush them.  Hand back whatever we were given. */
		log_msg(LOG_ERR, "the answer for %s on %s names table %u, which is never leased (%s); refused",
			a, o->ifname, d.table,
			d.table >= 253 && d.table <= 255 ? "the kernel's" : "outside --tables");
		status = EXIT_NO_LEASE;
		goto cleanup;
	}
	lease_granted(&d, &rep);

	/* 3. The table's routes (when the hook gave them), then the rules
	 * that select it, all or none (once the address is there). */
	ret = hold_open(&d.hold, o, d.ifindex, d.table);
	if (ret < 0)
		log_msg(LOG_ERR, "table %u: cannot own its routes: %s", d.table, strerror(-ret));
	if (o->family != AF_UNSPEC && !d.pending && rules_install(&d) < 0) {
		status = EXIT_KERNEL;
		goto cleanup;
	}
	if (o->family == AF_UNSPEC)
		log_msg(LOG_INFO, "%s on %s: table %u (unspec: no rules)", a, o->ifname, d.table);

	ret = loop_setup(&d);
	if (ret == 0)
		ret = hold_start(&d.hold, &d.loop);
	if (ret < 0) {
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
		goto cleanup;
	}
	d.backoff_ms = o->retry_interval * 1000ull;
	loop_timer_set(&d.lease_timer, renew_ms(&d));
	if (d.pending)
		loop_timer_set(&d.addr_timer, ADDR_POLL_MS);

	/* 4. The table is known: tell the hook, then leave it alone. */
	print_table(d.table);
	if (!o->foreground) {
		pid_t pid = fork();

		if (pid < 0) {
			log_msg(LOG_ERR, "fork: %s", strerror(errno));
			status = EXIT_SYSTEM;
			goto cleanup;
		}
		if (pid > 0)
			_exit(EXIT_LEASED);	/* the child holds everything now */
		background();
	}
	/* Signals only now: a signalfd polled through epoll wakes for the
	 * process that added it, so one set up before fork() would never
	 * report the daemon's SIGTERM. */
	ret = loop_signal_init(&d.loop, &d.sig, sigs, 3, signalled);
	if (ret < 0) {
		log_msg(LOG_ERR, "signals: %s", strerror(-ret));
		goto cleanup;
	}

	/* Events that arrived while we leased are in the socket already; a
	 * deletion among them ends the loop at its first turn. */
	ret = loop_run(&d.loop);
	if (ret < 0)
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
	log_msg(LOG_INFO, "%s on %s: %s; %s table %u", a, o->ifname,
		d.reason ? d.reason : "loop ended",
		d.have_rules ? "removing the rules of" : "releasing", d.table);
	status = EXIT_LEASED;

cleanup:
	if (d.have_rules) {
		ret = rules_del(&d.nl, &d.rules);
		if (ret < 0)
			log_msg(LOG_ERR, "removing rules of table %u: %s", d.table, strerror(-ret));
	}
	hold_close(&d.hold);
	if (have_lease)
		release_lease(&d);
	if (status != EXIT_LEASED && status != EXIT_USAGE)
		print_table(0);
	/* Only now may a new run for this key become the holder.  The asker
	 * of -r is connected to the socket it asked on: answer from that. */
	if (d.addr_fd >= 0)
		close(d.addr_fd);
	ctl_close(&d.ctl);
	loop_timer_free(&d.loop, &d.lease_timer);
	loop_timer_free(&d.loop, &d.fix_timer);
	loop_timer_free(&d.loop, &d.addr_timer);
	loop_signal_free(&d.loop, &d.sig);
	watch_close(&d.watch, d.loop.epfd >= 0 ? &d.loop : NULL);
	lease_close(&d.lc);
	nl_close(&d.nl);
	loop_free(&d.loop);
	return status;
}

int daemon_release(const struct cli_opts *o)
{
	struct proto_request key = cli_lease_key(o);
	struct ctl ctl;
	struct lease_client lc = { .fd = -1 };
	struct nl nl = { 0 };
	char reply[CTL_MSG_MAX];
	unsigned removed;
	int lock_fd = -1, ret, status = EXIT_SYSTEM;

	ctl_init(&ctl, NULL, o->family, NULL);
	ret = ctl_lock(&ctl, &key);
	if (ret == -EADDRINUSE) {
		/* The holder removes its rules and releases its lease itself. */
		ret = owner_ask(&key, "release", 10000, reply, sizeof(reply));
		if (ret == 0 && !strcmp(reply, "released"))
			return EXIT_LEASED;
		if (ret != -ECONNREFUSED && ret != -EPERM) {
			log_msg(LOG_ERR, "the running rtalloc for %s did not confirm the release", o->ifname);
			return EXIT_SYSTEM;
		}
		ret = ctl_lock(&ctl, &key);	/* it exited meanwhile */
		if (ret == -EADDRINUSE)
			ret = 0;	/* a squatter (logged): never obeyed */
	}
	if (ret < 0) {
		log_msg(LOG_ERR, "control socket: %s", strerror(-ret));
		goto cleanup;
	}
	/* No holder (it crashed, or never ran here): clean up what it left,
	 * unless a live daemon on another interface holds the address: then
	 * the address's rules are its own.  An unspec lease has no rules. */
	ret = o->family == AF_UNSPEC ? 0 : addr_lock(o, &lock_fd);
	if (ret == -EADDRINUSE)
		log_msg(LOG_INFO, "the address is held on another interface: leaving its rules");
	else if (ret < 0)
		log_msg(LOG_ERR, "address lock: %s", strerror(-ret));
	else if (o->family != AF_UNSPEC)
		ret = nl_open(&nl, NULL, 0);
	if (ret == 0 && o->family != AF_UNSPEC)
		ret = rules_clear_stale(&nl, o, 0, &removed);
	else if (ret == -EADDRINUSE)
		ret = 0;
	if (ret < 0) {
		log_msg(LOG_ERR, "removing leftover rules: %s", strerror(-ret));
		goto cleanup;
	}
	ret = lease_open(&lc, o->socket);
	if (ret == 0)
		ret = release_deliver(&lc, o, RELEASE_DEADLINE_MS);
	if (ret < 0)
		log_msg(LOG_WARNING, "release: no answer from rtallocd @%s", o->socket);
	status = EXIT_LEASED;
cleanup:
	lease_close(&lc);
	nl_close(&nl);
	if (lock_fd >= 0)
		close(lock_fd);
	ctl_close(&ctl);
	return status;
}
