/* mptcp: the agent's MPTCP endpoints (mptcp.h), through kernel/kmptcp.h. */
#include <errno.h>
#include <linux/mptcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "health.h"
#include "log.h"
#include "mptcp.h"

#define SUBFLOWS_MAX 8			/* the kernel's MPTCP_PM_ADDR_MAX */

int mptcp_open(struct mptcp *m)
{
	memset(m, 0, sizeof(*m));
	return kmptcp_open(&m->k);
}

/* ---- sync ---- */

static bool same_addr(const struct inet_addr *a, const struct inet_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, addr_len(a->family));
}

static uint32_t flags_of(enum mptcp_mode mode, bool offline)
{
	uint32_t f = MPTCP_PM_ADDR_FLAG_SUBFLOW;

	if (mode == MPTCP_FULLMESH)
		f |= MPTCP_PM_ADDR_FLAG_FULLMESH;
	if (mode == MPTCP_BACKUP || offline)
		f |= MPTCP_PM_ADDR_FLAG_BACKUP;
	return f;
}

static void drop_ours(struct mptcp *m, size_t i)
{
	m->ours[i] = m->ours[--m->nours];
}

static void told_once(struct mptcp *m, const struct mptcp_ep *k, const char *ifname)
{
	char s[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < m->ntold; i++)
		if (same_addr(&m->told[i], &k->addr))
			return;
	if (m->ntold < MPTCP_ENDPOINTS_MAX)
		m->told[m->ntold++] = k->addr;
	log_msg(LOG_NOTICE, "mptcp: %s on %s already has endpoint %u (not ours): left as it is",
		addr_str(&k->addr, s, sizeof(s)), ifname, k->id);
}

void mptcp_sync(struct mptcp *m, const struct engine *e, const struct mptcp_cfg *c)
{
	struct mptcp_ep k[MPTCP_ENDPOINTS_MAX];
	size_t nk = 0, total;
	bool changed = false;
	char s[INET6_ADDRSTRLEN];
	int ret;

	if (!m->k.nl || (!c->n && !m->nours))
		return;
	ret = kmptcp_dump(&m->k, k, MPTCP_ENDPOINTS_MAX, &nk);
	if (ret < 0) {
		if (!m->failed)
			log_msg(LOG_ERR, "mptcp: reading the endpoints: %s", strerror(-ret));
		m->failed = true;
		return;
	}
	/* Ours the kernel lost (flushed by someone): forgotten, re-added. */
	for (size_t i = 0; i < m->nours;) {
		bool have = false;

		for (size_t j = 0; j < nk && !have; j++)
			have = k[j].id == m->ours[i].id && same_addr(&k[j].addr, &m->ours[i].addr);
		if (have)
			i++;
		else
			drop_ours(m, i);
	}
	/* Ours whose address went, whose uplink is off, or whose flags
	 * changed: removed (and re-added below with the new flags). */
	for (size_t i = 0; i < m->nours;) {
		const struct mptcp_ep *o = &m->ours[i];
		const struct uplink *u = NULL;
		uint32_t want = 0;

		for (size_t j = 0; j < e->nup && !u; j++)
			if (same_addr(&e->up[j]->key.addr, &o->addr) && e->up[j]->ifindex == o->ifindex)
				u = e->up[j];
		if (u && mptcp_cfg_mode(c, u->key.ifname) != MPTCP_OFF)
			want = flags_of(mptcp_cfg_mode(c, u->key.ifname), health_offline(u->key.ifname, u->key.family));
		if (want == o->flags) {
			i++;
			continue;
		}
		/* Backup or not (track's health): the subflows stay, the
		 * peer is told (MP_PRIO). */
		if (want && (want & ~MPTCP_PM_ADDR_FLAG_BACKUP) == (o->flags & ~MPTCP_PM_ADDR_FLAG_BACKUP)) {
			struct mptcp_ep n = *o;

			n.flags = want;
			ret = kmptcp_set_flags(&m->k, &n);
			if (ret == 0) {
				log_msg(LOG_INFO, "mptcp: %s on %s: endpoint %u %s", addr_str(&o->addr, s, sizeof(s)),
					u->key.ifname, o->id, want & MPTCP_PM_ADDR_FLAG_BACKUP ?
					"backup (rtalloc-track: offline)" : "back from backup");
				m->ours[i].flags = want;
				i++;
				continue;
			}
		}
		ret = kmptcp_del(&m->k, o);
		if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
			log_msg(LOG_WARNING, "mptcp: removing endpoint %u (%s): %s", o->id,
				addr_str(&o->addr, s, sizeof(s)), strerror(-ret));
		for (size_t j = 0; j < nk; j++)
			if (k[j].id == o->id)
				k[j] = k[--nk];
		drop_ours(m, i);
		changed = true;
	}
	for (size_t i = 0; i < e->nup && m->nours < MPTCP_ENDPOINTS_MAX; i++) {
		const struct uplink *u = e->up[i];
		enum mptcp_mode mode = mptcp_cfg_mode(c, u->key.ifname);
		struct mptcp_ep ep = { .addr = u->key.addr, .ifindex = u->ifindex };
		bool have = false;

		if (mode == MPTCP_OFF || u->foreign)
			continue;
		for (size_t j = 0; j < nk && !have; j++) {
			if (!same_addr(&k[j].addr, &u->key.addr))
				continue;
			have = true;
			for (size_t o = 0; o < m->nours; o++)
				if (m->ours[o].id == k[j].id)
					goto next;
			told_once(m, &k[j], u->key.ifname);
		}
		if (have)
			continue;
		/* The lowest id nobody uses. */
		for (ep.id = 1; ep.id < 255; ep.id++) {
			bool used = false;

			for (size_t j = 0; j < nk && !used; j++)
				used = k[j].id == ep.id;
			if (!used)
				break;
		}
		ep.addr.family = u->key.family;
		ep.flags = flags_of(mode, health_offline(u->key.ifname, u->key.family));
		ret = kmptcp_add(&m->k, &ep);
		if (ret < 0) {
			log_msg(LOG_WARNING, "mptcp: endpoint for %s on %s: %s", addr_str(&ep.addr, s, sizeof(s)),
				u->key.ifname, strerror(-ret));
			continue;
		}
		log_msg(LOG_INFO, "mptcp: %s on %s: endpoint %u (%s%s)", addr_str(&ep.addr, s, sizeof(s)),
			u->key.ifname, ep.id, mptcp_mode_name(mode),
			ep.flags & MPTCP_PM_ADDR_FLAG_BACKUP && mode != MPTCP_BACKUP ? ", backup: offline" : "");
		m->ours[m->nours++] = ep;
		if (nk < MPTCP_ENDPOINTS_MAX)
			k[nk++] = ep;
		changed = true;
next:;
	}
	if (!changed)
		return;
	total = nk < SUBFLOWS_MAX ? nk : SUBFLOWS_MAX;
	ret = kmptcp_set_limits(&m->k, (uint32_t)total);
	if (ret < 0)
		log_msg(LOG_WARNING, "mptcp: setting the limits to %zu subflows: %s", total, strerror(-ret));
}

void mptcp_close(struct mptcp *m)
{
	if (!m->k.nl)
		return;
	for (size_t i = 0; i < m->nours; i++)
		kmptcp_del(&m->k, &m->ours[i]);
	m->nours = 0;
	kmptcp_close(&m->k);
}
