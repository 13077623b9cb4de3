/* control: the agent's control socket and the exec rules (control.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentcfg.h"
#include "cgmark.h"
#include "control.h"
#include "engine.h"
#include "health.h"
#include "kmsg.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "safefile.h"

#define TICK_MS 1000
/* How long one of rtallocd's names has to answer a mark request. */
#define MARK_WAIT_MS 300
#define REQUEST_MAX 128
#define CLIENTS_MAX 1024
/* The state file: a line per exec user and strict cgroup binding. */
#define STATE_MAX (CLIENTS_MAX * 96 + BINDINGS_MAX * (BINDING_CGROUP_MAX + 64))

struct control_client {
	struct loop_fd h;
	struct control *c;
	struct control_client *next;
	struct ucred cred;
	int slot;			/* -1 until its request was granted */
	int pidfd;			/* granted "detach": the caller, followed once it hangs up */
	char buf[REQUEST_MAX];
	size_t len;
};

/* The exec and binding rules, ours in the kernel or wanted there (each
 * protocol 122 at KPREF_EXEC_LOCAL..KPREF_EXEC_STRICT), or the fwmark
 * rules of others.  Built and parsed by the kernel seam (kmsg.h). */
static int rules_add(struct krule_set *s, const struct krule *r)
{
	return krule_in(r, s->v, s->n) ? 0 : krule_set_add(s, r);
}

/* Does slot sl keep its mark and rules: users, or its linger after the
 * last one (not while closing: then only the running commands count). */
static bool slot_live(const struct control *c, const struct control_slot *sl)
{
	return sl->users || (!c->closing && sl->linger_ms && loop_now_ms() < sl->linger_ms);
}

/* ---- the kernel ---- */

/* What dump_rule collects: our exec rules, or (others) every other rule
 * with a fwmark. */
struct dump_ctx {
	struct krule_set *rules;
	size_t start;			/* rules' length before this family */
	bool others;
	int err;
};

/* An interrupted dump: its rules go, it begins again. */
static void dump_restart(void *data)
{
	struct dump_ctx *d = data;

	d->rules->n = d->start;
	d->err = 0;
}

static void dump_rule(const struct kevent *ev, void *data)
{
	struct dump_ctx *d = data;
	const struct krule *r = &ev->rule;
	bool ours = kevent_rule_ours(ev) && KPREF_IS_EXEC(r->pref);

	if (ev->del || d->err || ours == d->others || (d->others && !r->has_fwmark))
		return;
	d->err = rules_add(d->rules, r);
}

static int kernel_rules(struct control *c, struct krule_set *out, bool others)
{
	struct dump_ctx d = { .rules = out, .others = others };
	static const uint8_t families[] = { AF_INET, AF_INET6 };

	for (size_t f = 0; f < 2; f++) {
		struct kfilter filter = { .family = families[f] };
		int ret;

		d.start = out->n;
		ret = kmsg_dump_stable(&c->nl, KOBJ_RULE, &filter, dump_rule, &d, dump_restart);
		if (ret == 0)
			ret = d.err;
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Adds (or deletes) the rules of s that other lacks, in batches; returns
 * how many the kernel took. */
static size_t apply(struct control *c, const struct krule_set *s, const struct krule_set *other, bool add)
{
	const struct krule **in = calloc(s->n + 1, sizeof(*in));
	int *errs = calloc(s->n + 1, sizeof(*errs));
	size_t done = 0, n = 0;
	char buf[160];
	int ret;

	if (!in || !errs) {
		log_msg(LOG_ERR, "exec rules: %s", strerror(ENOMEM));
		goto cleanup;
	}
	for (size_t i = 0; i < s->n; i++)
		if (!krule_in(&s->v[i], other->v, other->n))
			in[n++] = &s->v[i];
	/* A batch krules_send() did not reach keeps 1: not sent. */
	for (size_t i = 0; i < n; i++)
		errs[i] = 1;
	ret = n ? krules_send(&c->nl, in, n, add, errs) : 0;
	if (ret < 0)
		log_msg(LOG_ERR, "exec rules: netlink: %s", strerror(-ret));
	for (size_t j = 0; j < n; j++) {
		if (errs[j] > 0)
			continue;
		if (errs[j] && !(add && errs[j] == -EEXIST) && !(!add && errs[j] == -ENOENT))
			log_msg(LOG_WARNING, "exec rule %s %s (%s): %s", add ? "add" : "del",
				krule_str(in[j], buf, sizeof(buf)), in[j]->family == AF_INET ? "inet" : "inet6",
				strerror(-errs[j]));
		else
			done++;
	}
cleanup:
	free(in);
	free(errs);
	return done;
}

/* Would a rule of another tool (or agent.json's fwmark map) r catch
 * packets of mark v under m, or would our rule for v catch its marked
 * packets? */
static bool mark_clashes(const struct krule *r, uint32_t v, uint32_t m)
{
	if ((v & r->fwmask) == (r->fwmark & r->fwmask))
		return true;
	/* Its packets caught by ours: where its mask covers ours, the bits
	 * are known (Firezone's whole-mark 0xfd002021 is no mark of ours);
	 * where it covers part of ours, they may be. */
	if ((r->fwmask & m) == m)
		return (r->fwmark & m) == v;
	return (r->fwmask & m) != 0;
}

/* Is the mark of slot (and of every other slot in use) clear of the
 * fwmark rules of other tools in the kernel?  Else false, with the rule
 * named in why. */
static bool marks_free(struct control *c, unsigned slot, char *why, size_t len)
{
	struct krule_set others = { 0 };
	bool ok = true;

	if (kernel_rules(c, &others, true) < 0) {
		krule_set_free(&others);
		return true;	/* cannot tell: the next request asks again */
	}
	for (size_t i = 0; i < others.n && ok; i++) {
		const struct krule *r = &others.v[i];
		const struct control_slot *sl = &c->slots[slot];

		for (unsigned s = 0; s < CONTROL_SLOTS_MAX && ok; s++)
			if (s == slot || slot_live(c, &c->slots[s]))
				ok = !c->slots[s].mark || !mark_clashes(r, c->slots[s].mark, c->slots[s].mask);
		if (!ok)
			snprintf(why, len, "the exec marks (0x%x/0x%x%s) overlap another rule in the "
				 "kernel: `%s %u: fwmark 0x%x/0x%x%s%.0u' (another tool's, or agent.json's fwmark)",
				 sl->mark, sl->mask, sl->leased ? ", rtallocd's mark_mask" : "",
				 r->family == AF_INET ? "inet" : "inet6", r->pref, r->fwmark, r->fwmask,
				 r->table ? " lookup " : "", r->table);
	}
	krule_set_free(&others);
	return ok;
}

/* ---- marks from rtallocd ---- */

/* One mark request (cmd REQUEST or RELEASE) for slot's key on ifname,
 * trying the server's names in turn: 1 and *rep when answered, 0 when no
 * name answered, -errno. */
static int mark_ask(struct control *c, unsigned slot, const char *ifname, uint8_t cmd,
		    struct proto_reply *rep)
{
	struct proto_request req = { .version = PROTO_VERSION_2, .cmd = cmd, .family = AF_UNSPEC,
				     .mark = true };
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (c->lc.fd < 0 && (ret = lease_open(&c->lc, c->sockname)) < 0)
		return ret;
	snprintf(req.address, sizeof(req.address), "exec-%lu-%u", c->netns, slot);
	snprintf(req.ifname, sizeof(req.ifname), "%s", ifname);
	req.held_table = c->slots[slot].leased ? c->slots[slot].mark : 0;
	for (int t = 0; t < LEASE_TARGETS; t++, lease_next_target(&c->lc)) {
		uint64_t end = loop_now_ms() + MARK_WAIT_MS;
		struct pollfd pfd = { .fd = c->lc.fd, .events = POLLIN };

		ret = lease_send_req(&c->lc, &req);
		if (ret < 0)
			continue;
		for (uint64_t now; (now = loop_now_ms()) < end;) {
			if (poll(&pfd, 1, (int)(end - now)) <= 0)
				continue;
			ret = lease_recv(&c->lc, rep);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

static void mark_release(struct control *c, unsigned slot)
{
	struct control_slot *sl = &c->slots[slot];
	struct proto_reply rep;

	if (sl->leased && mark_ask(c, slot, sl->leased_ifname, PROTO_CMD_RELEASE, &rep) <= 0)
		log_msg(LOG_WARNING, "exec: mark 0x%x: rtallocd did not answer its release; it expires",
			sl->mark);
	sl->leased = false;
	sl->mark = sl->mask = 0;
}

/* agent.json's fwmark map against the mask marks are leased from: one
 * line per mask (the agent refused such a map at start and reload, but
 * rtallocd's mask may have changed since). */
static void fwmark_check(struct control *c, uint32_t mask)
{
	char err[256];

	if (c->warned_mask == mask)
		return;
	c->warned_mask = mask;
	if (agentcfg_fwmark_check(c->cfg, mask, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "agent.json: %s", err);
}

/* Gives slot (just taken for its ifname) a mark: leased from rtallocd,
 * renewed when it already holds one; the fixed one when the server leases
 * none (a 2017 server).  0, or -1 with why. */
static int slot_mark(struct control *c, unsigned slot, char *why, size_t len)
{
	struct control_slot *sl = &c->slots[slot];
	struct proto_reply rep;
	int ret;

	if (sl->leased && strcmp(sl->leased_ifname, sl->ifname))
		mark_release(c, slot);
	if (c->fixed) {
		sl->mark = control_fixed_mark(slot);
		sl->mask = CONTROL_MARK_MASK;
		return 0;
	}
	ret = mark_ask(c, slot, sl->ifname, PROTO_CMD_REQUEST, &rep);
	if (ret <= 0) {
		snprintf(why, len, "rtallocd (@%s) did not answer a mark request%s%s", c->sockname,
			 ret < 0 ? ": " : "", ret < 0 ? strerror(-ret) : "");
		return -1;
	}
	if (rep.table && rep.mark_mask) {
		sl->mark = rep.table;
		sl->mask = rep.mark_mask;
		sl->leased = true;
		memcpy(sl->leased_ifname, sl->ifname, sizeof(sl->leased_ifname));
		sl->renew_ms = loop_now_ms() + (uint64_t)rep.lease_seconds * 500;
		fwmark_check(c, sl->mask);
		return 0;
	}
	if (rep.version >= PROTO_VERSION_2 && !rep.table) {
		snprintf(why, len, "rtallocd: %s", rep.error[0] ? rep.error : "no mark");
		return -1;
	}
	/* A server that knows no marks: the 2017 one (v1), which took the
	 * request for a table lease, or refused it. */
	if (rep.table) {
		struct proto_request req = { .version = PROTO_VERSION_2, .cmd = PROTO_CMD_RELEASE,
					     .family = AF_UNSPEC };

		snprintf(req.address, sizeof(req.address), "exec-%lu-%u", c->netns, slot);
		snprintf(req.ifname, sizeof(req.ifname), "%s", sl->ifname);
		lease_send_req(&c->lc, &req);
	}
	log_msg(LOG_WARNING, "exec: rtallocd (@%s) leases no marks (a version 1 server): exec and binding"
		" marks are fixed, (slot + 1) << 24 under 0x%x", c->sockname, CONTROL_MARK_MASK);
	c->fixed = true;
	sl->mark = control_fixed_mark(slot);
	sl->mask = CONTROL_MARK_MASK;
	return 0;
}

/* Renews the leased marks due, releases those of slots no one uses. */
static void marks_sync(struct control *c)
{
	uint64_t now = loop_now_ms();

	for (unsigned s = 0; s < CONTROL_SLOTS_MAX; s++) {
		struct control_slot *sl = &c->slots[s];
		struct proto_reply rep;

		if (!slot_live(c, sl)) {
			if (sl->leased)
				mark_release(c, s);
			sl->mark = sl->mask = 0;
			sl->outside = false;
			sl->linger_ms = 0;
			continue;
		}
		if (!sl->leased || now < sl->renew_ms)
			continue;
		if (mark_ask(c, s, sl->leased_ifname, PROTO_CMD_REQUEST, &rep) > 0 && rep.table == sl->mark &&
		    rep.mark_mask == sl->mask) {
			sl->renew_ms = now + (uint64_t)rep.lease_seconds * 500;
			continue;
		}
		/* rtallocd's mark_mask changed under a mark in use: the
		 * sockets carry it still, so it stays until its users end;
		 * said once, not every 10 s. */
		if (rep.table && rep.mark_mask && (sl->mark & ~rep.mark_mask)) {
			if (!sl->outside)
				log_msg(LOG_WARNING, "exec: mark 0x%x/0x%x on %s is outside rtallocd's mark_mask "
					"0x%x now: kept until its commands and bindings end", sl->mark, sl->mask,
					sl->ifname, rep.mark_mask);
			sl->outside = true;
			sl->renew_ms = now + (uint64_t)rep.lease_seconds * 500;
			continue;
		}
		log_msg(LOG_WARNING, "exec: mark 0x%x on %s was not renewed (%s); asking again in 10 s",
			sl->mark, sl->ifname, rep.error[0] ? rep.error : "no answer or another mark");
		sl->renew_ms = now + 10000;
	}
}

/* ---- what is wanted ---- */

static int slot_get(struct control *c, const char *ifname, bool strict);
static void state_write(struct control *c);

/* The rules of one selector r (its family, fwmark, src or iif set) for
 * uplink ifname: a lookup of each of its tables of that family, unless
 * rtalloc-track has it offline (its traffic then follows unbound traffic,
 * or, strict, is refused by the unreachable rule after them). */
static int wanted_one(const struct control *c, struct krule r, const char *ifname, bool strict,
		      struct krule_set *out)
{
	int ret;

	if (!health_offline(ifname, r.family)) {
		for (size_t i = 0; i < c->e->nup; i++) {
			const struct uplink *u = c->e->up[i];

			if (u->key.family != r.family || !u->table || u->foreign || strcmp(u->key.ifname, ifname))
				continue;
			r.pref = KPREF_EXEC;
			r.table = u->table;
			if ((ret = rules_add(out, &r)) < 0)
				return ret;
		}
	}
	if (!strict)
		return 0;
	r.pref = KPREF_EXEC_STRICT;
	r.table = 0;
	r.unreachable = true;
	return rules_add(out, &r);
}

static int wanted(const struct control *c, struct krule_set *out)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	int ret;

	for (unsigned s = 0; s < CONTROL_SLOTS_MAX; s++) {
		const struct control_slot *sl = &c->slots[s];

		if (!slot_live(c, sl) || !sl->mark)
			continue;
		for (size_t f = 0; f < 2; f++) {
			struct krule r = { .family = families[f], .proto = RTPROT_RTALLOC, .has_fwmark = true,
					   .fwmark = sl->mark, .fwmask = sl->mask };

			/* Closing, the commands outlive us: a strict one's
			 * traffic stays refused, never leaks out of another
			 * uplink (the next agent takes it over); a default
			 * one's follows unbound traffic. */
			if (c->closing) {
				r.pref = KPREF_EXEC_STRICT;
				r.unreachable = true;
				if (sl->strict && (ret = rules_add(out, &r)) < 0)
					return ret;
				continue;
			}
			if ((ret = wanted_one(c, r, sl->ifname, sl->strict, out)) < 0)
				return ret;
		}
	}
	for (size_t i = 0; i < c->cfg->nbindings; i++) {
		const struct binding *b = &c->cfg->bindings[i];

		/* Closing, a default binding's traffic follows unbound
		 * traffic; a strict one's stays refused until the next agent
		 * (its local rule kept: the host still answers the prefix). */
		if (c->closing && !b->strict)
			continue;
		for (size_t f = 0; f < 2; f++) {
			struct krule r = { .family = families[f], .proto = RTPROT_RTALLOC };

			if (b->kind == BINDING_FROM) {
				struct krule local;

				if (b->from.family != families[f])
					continue;
				r.src = b->from;
				r.src_len = b->from_len;
				/* The host's own packets from the prefix (its
				 * address on the bridge answering a container)
				 * are no forwarded traffic: main routes them. */
				local = r;
				local.pref = KPREF_EXEC_LOCAL;
				snprintf(local.iif, sizeof(local.iif), "lo");
				local.table = KTABLE_MAIN;
				if ((ret = rules_add(out, &local)) < 0)
					return ret;
			} else if (b->kind == BINDING_IIF) {
				snprintf(r.iif, sizeof(r.iif), "%s", b->iif);
			} else {
				continue;	/* a cgroup's: its slot's */
			}
			if (c->closing) {
				r.pref = KPREF_EXEC_STRICT;
				r.unreachable = true;
				ret = rules_add(out, &r);
			} else {
				ret = wanted_one(c, r, b->uplink, b->strict, out);
			}
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* The cgroup bindings: each holds its uplink's slot (so the mark of its
 * sockets is the one exec uses), and its cgroup gets the program, a
 * previous run's replaced.  Called at start and after a reload.  The
 * bindings bound before (this run's, or the strict ones a previous run
 * left, state_recover()) hold their slots until the new ones are bound, so
 * a binding that stays keeps its mark and its cgroup is never without a
 * program; the cgroups no binding names now are unbound after. */
void control_bindings(struct control *c)
{
	char root[2048], dir[2048 + BINDING_CGROUP_MAX + 2], why[512];
	bool have_root = cgmark_root(root, sizeof(root)) == 0;
	static struct control_bound old[BINDINGS_MAX];
	size_t nold = c->nbound;

	memcpy(old, c->bound, sizeof(old));
	c->nbound = 0;
	for (size_t i = 0; i < c->cfg->nbindings; i++) {
		const struct binding *b = &c->cfg->bindings[i];
		int slot;

		if (b->kind != BINDING_CGROUP)
			continue;
		if (!have_root) {
			log_msg(LOG_ERR, "bindings[%zu]: no cgroup2 mount here: %s not bound", i, b->cgroup);
			continue;
		}
		slot = slot_get(c, b->uplink, b->strict);
		if (slot < 0) {
			log_msg(LOG_ERR, "bindings[%zu]: all %d marks are in use: %s not bound", i,
				CONTROL_SLOTS_MAX, b->cgroup);
			continue;
		}
		if (!c->slots[slot].users && slot_mark(c, (unsigned)slot, why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "bindings[%zu]: %s: %s not bound", i, why, b->cgroup);
			continue;
		}
		if (!marks_free(c, (unsigned)slot, why, sizeof(why))) {
			log_msg(LOG_ERR, "bindings[%zu]: %s: %s not bound", i, why, b->cgroup);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s", root, b->cgroup);
		if (cgmark_bind(dir, CONTROL_BIND_PROG, c->slots[slot].mark, why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "bindings[%zu]: %s", i, why);
			continue;
		}
		c->slots[slot].users++;
		c->bound[c->nbound].slot = slot;
		snprintf(c->bound[c->nbound].cgroup, sizeof(c->bound[0].cgroup), "%s", b->cgroup);
		c->nbound++;
		log_msg(LOG_INFO, "bindings[%zu]: %s out of %s (%s, mark 0x%x)", i, b->cgroup, b->uplink,
			b->strict ? "strict" : "default", c->slots[slot].mark);
	}
	for (size_t i = 0; i < nold; i++) {
		struct control_slot *sl = &c->slots[old[i].slot];
		bool still = false;

		if (sl->users)
			sl->users--;
		for (size_t j = 0; j < c->nbound && !still; j++)
			still = !strcmp(c->bound[j].cgroup, old[i].cgroup);
		if (have_root && !still) {
			snprintf(dir, sizeof(dir), "%s/%s", root, old[i].cgroup);
			cgmark_bind(dir, CONTROL_BIND_PROG, 0, why, sizeof(why));
		}
	}
	state_write(c);
	control_sync(c);
}

void control_sync(struct control *c)
{
	struct krule_set want = { 0 }, have = { 0 };
	uint64_t wake = TICK_MS, now = loop_now_ms();
	size_t missing = 0, added;
	bool any = false;
	int ret;

	if (!c->open)
		return;
	c->in_step = false;
	marks_sync(c);
	ret = wanted(c, &want);
	if (ret == 0)
		ret = kernel_rules(c, &have, false);
	if (ret < 0) {
		log_msg(LOG_ERR, "exec rules: %s", strerror(-ret));
		goto cleanup;
	}
	apply(c, &have, &want, false);
	for (size_t i = 0; i < want.n; i++)
		missing += !krule_in(&want.v[i], have.v, have.n);
	added = apply(c, &want, &have, true);
	if (added && have.n)
		log_msg(LOG_NOTICE, "exec rules: restored or followed the uplinks");
	c->in_step = added == missing;
	any = want.n || have.n;
cleanup:
	/* Track's health and rules others delete are noticed by the tick,
	 * and a linger's end right when it comes. */
	for (unsigned s = 0; s < CONTROL_SLOTS_MAX; s++) {
		const struct control_slot *sl = &c->slots[s];

		if (!sl->users && sl->linger_ms > now && sl->linger_ms - now < wake) {
			wake = sl->linger_ms - now;
			any = true;
		}
	}
	if (any && loop_timer_set(&c->tick, wake) == 0)
		c->tick_due = now + wake;
	krule_set_free(&want);
	krule_set_free(&have);
}

static void cgwatch_expire(struct control *c);

static void tick(struct loop_timer *t)
{
	struct control *c = container_of(t, struct control, tick);

	c->tick_due = 0;
	control_sync(c);
	cgwatch_expire(c);
}

/* The tick in ms at the latest (an earlier one stays). */
static void tick_within(struct control *c, uint64_t ms)
{
	uint64_t at = loop_now_ms() + ms;

	if (c->tick_due && c->tick_due <= at)
		return;
	if (loop_timer_set(&c->tick, ms) == 0)
		c->tick_due = at;
}

/* ---- clients ---- */

static bool in_group(const struct ucred *cred, const struct agentcfg *cfg)
{
	char path[64], line[4096];
	bool member = false;
	FILE *f;

	for (size_t i = 0; i < cfg->nexec_gids; i++)
		if (cfg->exec_gids[i] == cred->gid)
			return true;
	if (!cfg->nexec_gids)
		return false;
	/* Supplementary groups: the kernel's word through /proc (the
	 * credentials' pid, checked to be the credentials' uid). */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cred->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		unsigned long uid;

		if (!strncmp(line, "Uid:", 4)) {
			uid = strtoul(line + 4, &end, 10);
			if (uid != cred->uid)
				break;
		}
		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7; *p; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			for (size_t i = 0; i < cfg->nexec_gids; i++)
				member = member || cfg->exec_gids[i] == g;
		}
	}
	fclose(f);
	return member;
}

/* ---- the exec users across a restart ---- */

/* The number in s (decimal, or 0x-hex) up to max, else -1. */
static long long field_num(const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	return errno || *end || v > max || v > (unsigned long long)LLONG_MAX ? -1 : (long long)v;
}

/* Splits line at spaces into at most max fields: how many. */
static size_t fields(char *line, char **v, size_t max)
{
	char *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		v[n++] = t;
	return n;
}

/* The kernel's start time of pid (/proc/PID/stat, field 22), 0 when gone:
 * with the pid, it names one process for good. */
static unsigned long long proc_start(int pid)
{
	char path[64], buf[1024], *p, *v[20] = { NULL };
	long long start;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* after the command name, which may hold anything */
	/* fields 3 (state) .. 22 (starttime) */
	if (!p || fields(p + 1, v, 20) != 20 || (start = field_num(v[19], ULLONG_MAX)) < 0)
		return 0;
	return (unsigned long long)start;
}

/* Writes the exec users (slot, uplink, policy, mark, pid, uid, the pid's
 * start) to state_path, or removes it when there are none: a restarted
 * agent takes them over (state_recover()).  Not while closing: the
 * commands outlive us. */
static void state_write(struct control *c)
{
	static char buf[STATE_MAX];
	struct safefile sf = { .dirfd = -1 };
	size_t len = 0;

	if (c->closing || !c->state_path[0])
		return;
	for (const struct control_client *u = c->clients; u; u = u->next) {
		const struct control_slot *sl = u->slot >= 0 ? &c->slots[u->slot] : NULL;
		int n;

		if (!sl)
			continue;
		n = snprintf(buf + len, sizeof(buf) - len, "exec %d %s %s 0x%x 0x%x %d %d %u %llu\n", u->slot,
			     sl->ifname, sl->strict ? "strict" : "default", sl->mark, sl->mask, sl->leased,
			     (int)u->cred.pid, (unsigned)u->cred.uid, proc_start((int)u->cred.pid));
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			break;
		len += (size_t)n;
	}
	/* The strict cgroup bindings: their cgroups keep the program and
	 * their slots the mark when the agent stops. */
	for (size_t i = 0; i < c->nbound; i++) {
		const struct control_slot *sl = &c->slots[c->bound[i].slot];
		int n;

		if (!sl->strict)
			continue;
		n = snprintf(buf + len, sizeof(buf) - len, "cgroup %d %s strict 0x%x 0x%x %d %s\n",
			     c->bound[i].slot, sl->ifname, sl->mark, sl->mask, sl->leased, c->bound[i].cgroup);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			break;
		len += (size_t)n;
	}
	if (!len) {
		unlink(c->state_path);
		return;
	}
	if (safefile_begin(&sf, c->state_path, 0600) < 0 || fwrite(buf, 1, len, sf.f) != len ||
	    safefile_commit(&sf) < 0) {
		safefile_abort(&sf);
		log_msg(LOG_WARNING, "exec: %s: cannot write it: a restarted agent will not know the running "
			"commands", c->state_path);
	}
}

static void recovered_ready(struct loop_fd *h, uint32_t events);

/* cl is a process followed by its pidfd from now on (a taken-over command,
 * or a detached caller that hung up): it leaves when that ends.  0 or
 * -errno (not in the loop). */
static int follow_pid(struct control_client *cl, int pidfd)
{
	cl->h = (struct loop_fd){ .fd = pidfd, .events = EPOLLIN, .cb = recovered_ready };
	return loop_fd_add(cl->c->loop, &cl->h);
}

/* A previous run's slot taken over as it was: its mark (still leased: an
 * agent leaves the marks of what it keeps refused) is renewed, asked back,
 * at the first sync. */
static void slot_adopt(struct control *c, struct control_slot *sl, const char *ifname, bool strict,
		       uint32_t mark, uint32_t mask, bool leased)
{
	snprintf(sl->ifname, sizeof(sl->ifname), "%s", ifname);
	sl->strict = strict;
	sl->mark = mark;
	sl->mask = mask;
	sl->leased = leased;
	c->fixed = c->fixed || !leased;
	memcpy(sl->leased_ifname, sl->ifname, sizeof(sl->leased_ifname));
	sl->renew_ms = 0;
}

/* A previous run's strict cgroup binding (its cgroup kept the program, its
 * rules stayed): bound again, holding its slot and mark, until
 * control_bindings() binds the configuration's (and unbinds it when the
 * configuration no longer names it). */
static void state_bound(struct control *c, char **v)
{
	long long slot, mark, mask, leased;
	struct control_slot *sl;

	if ((slot = field_num(v[1], CONTROL_SLOTS_MAX - 1)) < 0 || !ifname_valid(v[2]) || strcmp(v[3], "strict") ||
	    (mark = field_num(v[4], UINT32_MAX)) <= 0 || (mask = field_num(v[5], UINT32_MAX)) <= 0 ||
	    (leased = field_num(v[6], 1)) < 0 || !binding_cgroup_valid(v[7]) ||
	    strlen(v[7]) >= BINDING_CGROUP_MAX || c->nbound >= BINDINGS_MAX)
		return;
	sl = &c->slots[slot];
	if (sl->users && (sl->mark != (uint32_t)mark || !sl->strict || strcmp(sl->ifname, v[2])))
		return;
	if (!sl->users)
		slot_adopt(c, sl, v[2], true, (uint32_t)mark, (uint32_t)mask, leased);
	sl->users++;
	c->bound[c->nbound].slot = (int)slot;
	snprintf(c->bound[c->nbound].cgroup, sizeof(c->bound[0].cgroup), "%s", v[7]);
	c->nbound++;
	log_msg(LOG_NOTICE, "bindings: %s stayed strict out of %s (mark 0x%llx) while no agent ran: taken over",
		v[7], v[2], mark);
}

/* One line of a previous run's state: its command, if still running (the
 * same pid and start), is a user of its slot again, watched by a pidfd. */
static void state_line(struct control *c, const char *line)
{
	char copy[BINDING_CGROUP_MAX + 128], *v[10] = { NULL };
	const char *ifname;
	size_t nv;
	long long slot, mark, mask, leased, pid, uid, start;
	struct control_client *cl;
	struct control_slot *sl;
	int pfd;

	snprintf(copy, sizeof(copy), "%s", line);
	nv = fields(copy, v, 10);
	if (nv == 8 && !strcmp(v[0], "cgroup")) {
		state_bound(c, v);
		return;
	}
	if (nv != 10 || strcmp(v[0], "exec") ||
	    (slot = field_num(v[1], CONTROL_SLOTS_MAX - 1)) < 0 || !ifname_valid(v[2]) ||
	    (strcmp(v[3], "default") && strcmp(v[3], "strict")) || (mark = field_num(v[4], UINT32_MAX)) <= 0 ||
	    (mask = field_num(v[5], UINT32_MAX)) <= 0 || (leased = field_num(v[6], 1)) < 0 ||
	    (pid = field_num(v[7], INT32_MAX)) <= 0 || (uid = field_num(v[8], UINT32_MAX)) < 0 ||
	    (start = field_num(v[9], LLONG_MAX)) <= 0)
		return;
	ifname = v[2];
	/* The start read after the pidfd: a pid reused since is another. */
	pfd = (int)syscall(SYS_pidfd_open, (int)pid, 0);
	sl = &c->slots[slot];
	if (!sl->users) {
		/* Its mark (still leased: an agent leaves the marks of running
		 * commands) is released at the first sync if no command of the
		 * slot runs. */
		sl->mark = (uint32_t)mark;
		sl->mask = (uint32_t)mask;
		sl->leased = leased;
		snprintf(sl->leased_ifname, sizeof(sl->leased_ifname), "%s", ifname);
	}
	if (pfd < 0 || proc_start((int)pid) != (unsigned long long)start || c->nclients >= CLIENTS_MAX ||
	    !(cl = calloc(1, sizeof(*cl)))) {
		if (pfd >= 0)
			close(pfd);
		return;
	}
	if (!sl->users) {
		slot_adopt(c, sl, ifname, !strcmp(v[3], "strict"), (uint32_t)mark, (uint32_t)mask, leased);
	} else if (sl->mark != (uint32_t)mark || strcmp(sl->ifname, ifname)) {
		free(cl);
		close(pfd);
		return;
	}
	cl->c = c;
	cl->slot = slot;
	cl->pidfd = -1;
	cl->cred = (struct ucred){ .pid = (pid_t)pid, .uid = (uid_t)uid, .gid = 0 };
	if (follow_pid(cl, pfd) < 0) {
		free(cl);
		close(pfd);
		return;
	}
	sl->users++;
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	log_msg(LOG_NOTICE, "exec: pid %lld (uid %lld) still runs out of %s (%s, mark 0x%llx): taken over", pid,
		uid, ifname, sl->strict ? "strict" : "default", mark);
}

/* The exec users a previous run left running (state_write()). */
static void state_recover(struct control *c)
{
	static char text[STATE_MAX + 1];
	char *save = NULL;
	struct stat st;
	ssize_t n;
	int fd = open(c->state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	/* Ours only: root's, written by root alone. */
	n = fstat(fd, &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022) && S_ISREG(st.st_mode) ?
		    read(fd, text, sizeof(text) - 1) : -1;
	close(fd);
	if (n < 0)
		return;
	text[n] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		state_line(c, line);
	state_write(c);	/* without those that ended meanwhile */
	/* Renewed (and those of commands that ended released) before the
	 * bindings ask for theirs: rtallocd cannot hand a binding a mark
	 * the running commands' sockets carry. */
	marks_sync(c);
}

static void client_free(struct control_client *cl)
{
	struct control *c = cl->c;

	for (struct control_client **p = &c->clients; *p; p = &(*p)->next)
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	c->nclients--;
	loop_fd_del(c->loop, &cl->h);
	close(cl->h.fd);
	if (cl->pidfd >= 0)
		close(cl->pidfd);
	if (cl->slot >= 0 && c->slots[cl->slot].users && !--c->slots[cl->slot].users) {
		log_msg(LOG_INFO, "exec: %s (%s): no user left, removing its rules in %d ms",
			c->slots[cl->slot].ifname, c->slots[cl->slot].strict ? "strict" : "default",
			CONTROL_LINGER_MS);
		c->slots[cl->slot].linger_ms = loop_now_ms() + CONTROL_LINGER_MS;
	}
	if (cl->slot >= 0)
		state_write(c);
	free(cl);
}

/* A user ended: while its slot has users or lingers its rules stay as
 * they are (the tick ends the linger); else they go now. */
static void client_leave(struct control_client *cl)
{
	struct control *c = cl->c;
	int slot = cl->slot;

	client_free(cl);
	if (slot < 0 || c->slots[slot].users)
		return;
	if (slot_live(c, &c->slots[slot]))
		tick_within(c, CONTROL_LINGER_MS);
	else
		control_sync(c);
}

/* A followed process ended (its pidfd is readable: follow_pid()). */
static void recovered_ready(struct loop_fd *h, uint32_t events)
{
	(void)events;
	client_leave(container_of(h, struct control_client, h));
}

static void reply(struct control_client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct control_client *cl, const char *fmt, ...)
{
	char buf[BINDING_CGROUP_MAX + 100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (send(cl->h.fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the client is gone: its EOF comes next */
	}
}

/* The slot for ifname and policy: the one in use or lingering (its
 * linger_ms set: it holds its mark and rules), else a free one, else one
 * that lingers for another uplink (its rules follow the new one). */
static int slot_get(struct control *c, const char *ifname, bool strict)
{
	int free_slot = -1, lingering = -1;

	for (int i = 0; i < CONTROL_SLOTS_MAX; i++) {
		const struct control_slot *sl = &c->slots[i];
		bool live = slot_live(c, sl);

		if (live && sl->strict == strict && !strcmp(sl->ifname, ifname))
			return i;
		if (!live && free_slot < 0)
			free_slot = i;
		if (live && !sl->users && lingering < 0)
			lingering = i;
	}
	if (free_slot < 0)
		free_slot = lingering;
	if (free_slot >= 0) {
		snprintf(c->slots[free_slot].ifname, IFNAMSIZ, "%.*s", IFNAMSIZ - 1, ifname);
		c->slots[free_slot].strict = strict;
		c->slots[free_slot].linger_ms = 0;
	}
	return free_slot;
}

/* ---- the callers' cgroups ---- */

/* The cgroups of exec callers (cgmark_make_at), watched here: no helper
 * process per command.  Empty, one lingers CONTROL_LINGER_MS for the next
 * command of the same cgroup and mark (a loop of `rtalloc exec`), then is
 * removed.  One left when the agent stops is removed by a later request's
 * sweep. */
struct cgwatch {
	struct loop_fd h;
	struct control *c;
	struct cgmark_cg cg;
	uint64_t idle_until;		/* empty: removed then; 0 while in use */
	bool used;
};
static struct cgwatch cgwatches[CLIENTS_MAX];
static int cgroot = -1;		/* the cgroup2 root; -2: none, the helper's way */

static void cgwatch_end(struct cgwatch *w)
{
	cgmark_cg_remove(&w->cg);
	loop_fd_del(w->c->loop, &w->h);
	cgmark_cg_close(&w->cg);
	w->used = false;
}

static void cgwatch_ready(struct loop_fd *h, uint32_t events)
{
	struct cgwatch *w = container_of(h, struct cgwatch, h);
	int r = cgmark_cg_populated(&w->cg);

	(void)events;
	if (r > 0) {
		w->idle_until = 0;
	} else if (r < 0 || w->c->closing) {
		cgwatch_end(w);
	} else if (!w->idle_until) {
		w->idle_until = loop_now_ms() + CONTROL_LINGER_MS;
		tick_within(w->c, CONTROL_LINGER_MS);
	}
}

/* The empty cgroups whose linger ended go. */
static void cgwatch_expire(struct control *c)
{
	uint64_t now = loop_now_ms();

	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct cgwatch *w = &cgwatches[i];

		if (w->used && w->idle_until && w->idle_until <= now && w->c == c)
			cgwatch_end(w);
		else if (w->used && w->idle_until && w->c == c)
			tick_within(c, w->idle_until - now);
	}
}

/* Moves pid into a cgroup marking its sockets with mark: one of its
 * cgroup's for mark lingering, else a new one, made (and watched) here:
 * 1; or where that cannot be (no cgroup2 root, every watch in use, a
 * failure), by cgmark_attach's helper, held by hold: 0 (the caller must
 * keep its connection: the helper's cue).  -errno with why. */
static int caller_attach(struct control *c, pid_t pid, uint32_t mark, int hold, char *why, size_t len)
{
	struct cgwatch *w = NULL;
	struct stat st;
	int parent, r;

	if (cgroot == -1 && (cgroot = cgmark_root_open(why, len)) < 0) {
		log_msg(LOG_INFO, "exec: %s: a helper process per command makes the cgroups", why);
		cgroot = -2;
	}
	if (cgroot < 0 || (parent = cgmark_parent_at(cgroot, pid, why, len)) < 0)
		return cgmark_attach(pid, mark, hold, why, len);
	if (fstat(parent, &st) < 0)
		st.st_ino = 0;
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct cgwatch *o = &cgwatches[i];

		if (!o->used) {
			w = w ? w : o;
			continue;
		}
		if (o->cg.mark != mark || !st.st_ino || st.st_ino != o->cg.parent_ino)
			continue;
		/* Emptied before its event came (the kernel tells a moment
		 * later): as good as lingering. */
		if (!o->idle_until && cgmark_cg_populated(&o->cg) != 0)
			continue;
		if (cgmark_cg_enter(&o->cg, pid) == 0) {
			close(parent);
			o->idle_until = 0;
			return 1;
		}
		cgwatch_end(o);	/* removed meanwhile (another's sweep) */
	}
	if (!w) {
		close(parent);
		return cgmark_attach(pid, mark, hold, why, len);
	}
	r = cgmark_make_at(parent, pid, mark, &w->cg, why, len);
	if (r < 0)
		return cgmark_attach(pid, mark, hold, why, len);
	if (r > 0)
		return 1;
	w->c = c;
	w->idle_until = 0;
	w->h = (struct loop_fd){ .fd = w->cg.events, .events = EPOLLPRI, .cb = cgwatch_ready };
	if (loop_fd_add(c->loop, &w->h) < 0) {
		cgmark_cg_close(&w->cg);	/* marked still; a sweep removes it */
		return 1;
	}
	w->used = true;
	cgwatch_ready(&w->h, 0);	/* empty already: pid is gone */
	return 1;
}

/* "users": one line per exec user and cgroup binding with its slot's
 * uplink, policy and mark, then "end" (rtalloc show):
 *   exec IFNAME default|strict MARK MASK PID UID
 *   cgroup IFNAME default|strict MARK MASK CGROUP */
static void users(struct control_client *cl)
{
	struct control *c = cl->c;

	for (const struct control_client *u = c->clients; u; u = u->next) {
		const struct control_slot *sl = u->slot >= 0 ? &c->slots[u->slot] : NULL;

		if (sl)
			reply(cl, "exec %s %s 0x%x 0x%x %d %u", sl->ifname, sl->strict ? "strict" : "default",
			      sl->mark, sl->mask, (int)u->cred.pid, (unsigned)u->cred.uid);
	}
	for (size_t i = 0; i < c->nbound; i++) {
		const struct control_slot *sl = &c->slots[c->bound[i].slot];

		reply(cl, "cgroup %s %s 0x%x 0x%x %s", sl->ifname, sl->strict ? "strict" : "default", sl->mark,
		      sl->mask, c->bound[i].cgroup);
	}
	reply(cl, "end");
}

/* "exec IFNAME default|strict": granted (and the caller marked), or an
 * error line; "users": users(). */
static void request(struct control_client *cl, char *line)
{
	struct control *c = cl->c;
	struct uplink_policy pol;
	char ifname[IFNAMSIZ + 1], policy[16], why[512];
	int slot, ret;
	bool strict, held;

	if (cl->cred.uid != 0 && !in_group(&cl->cred, c->cfg)) {
		log_msg(LOG_WARNING, "exec: uid %d pid %d is neither root nor in exec_gids: refused",
			(int)cl->cred.uid, (int)cl->cred.pid);
		reply(cl, "error permission denied: uid %d is neither root nor in agent.json's exec_gids",
		      (int)cl->cred.uid);
		return;
	}
	if (!strcmp(line, "users")) {
		users(cl);
		return;
	}
	if (sscanf(line, "exec %16s %15s", ifname, policy) != 2 || !ifname_valid(ifname) ||
	    (strcmp(policy, "default") && strcmp(policy, "strict"))) {
		reply(cl, "error bad request: want `exec UPLINK default|strict'");
		return;
	}
	strict = !strcmp(policy, "strict");
	if (!agentcfg_manages(c->cfg, AF_INET, ifname, &pol) && !agentcfg_manages(c->cfg, AF_INET6, ifname, &pol)) {
		reply(cl, "error %s is no uplink of rtalloc-agent (not in agent.json's interfaces)", ifname);
		return;
	}
	slot = slot_get(c, ifname, strict);
	if (slot < 0) {
		reply(cl, "error all %d exec marks are in use", CONTROL_SLOTS_MAX);
		return;
	}
	/* A slot in use or lingering has its mark and (in_step) its rules;
	 * whether another tool's rule catches it now is asked each time. */
	held = c->slots[slot].users || c->slots[slot].linger_ms;
	if ((!held && slot_mark(c, (unsigned)slot, why, sizeof(why)) < 0) ||
	    !marks_free(c, (unsigned)slot, why, sizeof(why))) {
		log_msg(LOG_ERR, "exec: %s: refused", why);
		reply(cl, "error %s", why);
		if (!c->slots[slot].users)
			marks_sync(c);
		return;
	}
	/* The rules first: the caller's first socket already finds them. */
	c->slots[slot].users++;
	c->slots[slot].linger_ms = 0;
	cl->slot = slot;
	if (!held || !c->in_step)
		control_sync(c);
	ret = caller_attach(c, cl->cred.pid, c->slots[slot].mark, cl->h.fd, why, sizeof(why));
	/* In a cgroup of ours, the caller may hang up and become its command
	 * (exec in place: no fork, no waiting parent): from then on it is
	 * followed by its pid, as a taken-over command is.  The pidfd now,
	 * while the caller waits for the answer: its pid is not reused. */
	if (ret > 0)
		cl->pidfd = (int)syscall(SYS_pidfd_open, (int)cl->cred.pid, 0);
	if (ret < 0) {
		log_msg(LOG_WARNING, "exec: pid %d on %s: %s", (int)cl->cred.pid, ifname, why);
		reply(cl, "error cannot mark the caller's sockets: %s", why);
		if (!--c->slots[slot].users)
			control_sync(c);
		cl->slot = -1;
		return;
	}
	/* The caller waits for the answer alone: the log line and the state
	 * (for a restarted agent) after it. */
	reply(cl, "ok 0x%x%s", c->slots[slot].mark, cl->pidfd >= 0 ? " detach" : "");
	log_msg(LOG_INFO, "exec: uid %d pid %d out of %s (%s, mark 0x%x)", (int)cl->cred.uid,
		(int)cl->cred.pid, ifname, policy, c->slots[slot].mark);
	state_write(c);
}

static void client_ready(struct loop_fd *h, uint32_t events)
{
	struct control_client *cl = container_of(h, struct control_client, h);
	ssize_t n;
	int ret;

	(void)events;
	n = recv(h->fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 && cl->slot >= 0 && cl->pidfd >= 0) {
		/* A detached caller hung up: it is its command now, followed
		 * by its pidfd until it ends. */
		loop_fd_del(cl->c->loop, h);
		close(h->fd);
		ret = follow_pid(cl, cl->pidfd);
		cl->pidfd = -1;
		if (ret < 0)
			client_leave(cl);
		return;
	}
	if (n <= 0 || cl->slot >= 0) {
		/* EOF: the command is done; anything after the request is a
		 * protocol error and ends it too. */
		client_leave(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	if (!strchr(cl->buf, '\n')) {
		if (cl->len + 1 >= sizeof(cl->buf)) {
			reply(cl, "error request too long");
			client_free(cl);
		}
		return;
	}
	*strchr(cl->buf, '\n') = '\0';
	request(cl, cl->buf);
	if (cl->slot < 0)
		client_free(cl);
}

static void listen_ready(struct loop_fd *h, uint32_t events)
{
	struct control *c = container_of(h, struct control, listen);
	int fd;

	(void)events;
	while ((fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct control_client *cl = calloc(1, sizeof(*cl));
		socklen_t len = sizeof(cl ? cl->cred : (struct ucred){ 0 });

		if (!cl || c->nclients >= CLIENTS_MAX ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0) {
			free(cl);
			close(fd);
			continue;
		}
		cl->c = c;
		cl->slot = -1;
		cl->pidfd = -1;
		cl->h = (struct loop_fd){ .fd = fd, .events = EPOLLIN, .cb = client_ready };
		if (loop_fd_add(c->loop, &cl->h) < 0) {
			free(cl);
			close(fd);
			continue;
		}
		cl->next = c->clients;
		c->clients = cl;
		c->nclients++;
	}
}

int control_open(struct control *c, struct loop *loop, struct engine *e,
		 const struct agentcfg *cfg, const char *socket_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n, fd, ret;

	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->e = e;
	c->cfg = cfg;
	c->listen.fd = c->tick.h.fd = -1;
	c->lc.fd = -1;
	snprintf(c->sockname, sizeof(c->sockname), "%s", socket_path);
	{
		struct stat st;

		c->netns = stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
	}
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, CONTROL_NAME_FMT, socket_path);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1)
		return -ENAMETOOLONG;
	ret = nl_open(&c->nl, NULL, 0);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0 ||
	    listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	c->listen = (struct loop_fd){ .fd = fd, .events = EPOLLIN, .cb = listen_ready };
	ret = loop_timer_init(loop, &c->tick, tick);
	if (ret == 0)
		ret = loop_fd_add(loop, &c->listen);
	if (ret < 0) {
		close(fd);
		c->listen.fd = -1;
		loop_timer_free(loop, &c->tick);
		goto fail;
	}
	c->open = true;
	/* The commands a previous run served that still run are users
	 * again (their sockets carry their marks still); its other rules
	 * (killed with -9) have no user now, but its bindings are bound
	 * again. */
	if (snprintf(c->state_path, sizeof(c->state_path), CONTROL_STATE_DIR "/exec-%lu-%s.state", c->netns,
		     socket_path) >= (int)sizeof(c->state_path) || strchr(socket_path, '/'))
		c->state_path[0] = '\0';	/* a name with '/' is no file name: no take-over */
	else
		state_recover(c);
	control_bindings(c);
	return 0;
fail:
	nl_close(&c->nl);
	return ret;
}

/* The cgroups of default bindings lose their programs: sockets made while
 * the agent is away carry no mark (what they send follows unbound
 * traffic).  Strict ones keep theirs and, through running, their slot and
 * its unreachable rules: refused, never out of another uplink, until the
 * next agent takes them over (state_recover()). */
static void control_bindings_drop(struct control *c, bool *running)
{
	char root[2048], dir[2048 + BINDING_CGROUP_MAX + 2], why[512];
	bool have_root = cgmark_root(root, sizeof(root)) == 0;

	for (size_t i = 0; i < c->nbound; i++) {
		if (c->slots[c->bound[i].slot].strict) {
			running[c->bound[i].slot] = true;
			continue;
		}
		if (!have_root)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, c->bound[i].cgroup);
		cgmark_bind(dir, CONTROL_BIND_PROG, 0, why, sizeof(why));
	}
	c->nbound = 0;
}

void control_close(struct control *c)
{
	if (!c->open)
		return;
	bool running[CONTROL_SLOTS_MAX] = { false };

	c->closing = true;
	for (struct control_client *cl = c->clients, *next; cl; cl = next) {
		next = cl->next;
		if (cl->slot >= 0)
			running[cl->slot] = true;
		client_free(cl);
	}
	control_bindings_drop(c, running);
	/* The slots of running commands and strict bindings keep their
	 * leased marks (the next agent renews them, state_recover()) and,
	 * strict, their unreachable rules; the others' marks and rules go. */
	for (unsigned s = 0; s < CONTROL_SLOTS_MAX; s++)
		c->slots[s].users = running[s];
	control_sync(c);
	memset(c->slots, 0, sizeof(c->slots));
	if (c->lc.fd >= 0)
		lease_close(&c->lc);
	loop_fd_del(c->loop, &c->listen);
	close(c->listen.fd);
	loop_timer_free(c->loop, &c->tick);
	nl_close(&c->nl);
	c->open = false;
}
