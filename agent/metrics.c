/* metrics: the agent's figures as a node_exporter textfile (see metrics.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "engine.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "safefile.h"

/* Every state rtalloc-track publishes, so that a state an uplink is not in
 * reads 0 rather than missing (alerts on `== 1` then see the change). */
static const char *const health_states[] = {
	"online", "degraded", "offline", "portal", "unknown", "absent",
};

/* The per-uplink gauges read from rtalloc-track's state, in base units. */
static double since_s(const struct health_uplink *h) { return (double)h->since; }
static double loss_ratio(const struct health_uplink *h) { return h->loss / 100.0; }
static double rtt_s(const struct health_uplink *h) { return h->rtt_ms / 1000.0; }
static double jitter_s(const struct health_uplink *h) { return h->jitter_ms / 1000.0; }
static double probe_bytes(const struct health_uplink *h) { return (double)h->probe_bytes_day; }
static double unbound(const struct health_uplink *h) { return h->unbound; }

static const struct {
	const char *name, *help;
	double (*get)(const struct health_uplink *h);
} uplink_gauges[] = {
	{ "rtalloc_uplink_health_since_seconds", "Unix time of the uplink's last health state change.",
	  since_s },
	{ "rtalloc_uplink_loss_ratio",
	  "Share of rtalloc-track's probes of the uplink that went unanswered (0..1).", loss_ratio },
	{ "rtalloc_uplink_rtt_seconds", "Median round-trip time of rtalloc-track's probes of the uplink.",
	  rtt_s },
	{ "rtalloc_uplink_jitter_seconds",
	  "Mean difference of consecutive RTTs of rtalloc-track's probes of the uplink.", jitter_s },
	{ "rtalloc_uplink_probe_bytes_per_day",
	  "IP bytes of rtalloc-track's probes of the uplink, both ways, per day at the rate so far.",
	  probe_bytes },
	{ "rtalloc_uplink_unbound", "1 when the uplink carries the host's unbound traffic of the family.",
	  unbound },
};

/* A sample's value: whole numbers (times, byte counts, 0/1) in full, the
 * rest as %g. */
static void value(FILE *out, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		fprintf(out, "%.0f\n", v);
	else
		fprintf(out, "%g\n", v);
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "inet6" : "inet";
}

static void help(FILE *out, const char *name, const char *type, const char *text)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* An uplink of the mirror: a link the agent manages in some family. */
static bool managed(const struct elink *l)
{
	return l->managed[0] == 1 || l->managed[1] == 1;
}

/* The link's addresses with a table whose rules and routes are in (per
 * family); *any_table: some address has at least a table. */
static unsigned link_addresses(const struct engine *e, const struct elink *l, int family,
			       unsigned *installed)
{
	unsigned n = 0;

	for (size_t i = 0; i < e->nup; i++) {
		const struct uplink *u = e->up[i];

		if (u->ifindex != l->l.ifindex || u->key.family != family || u->foreign)
			continue;
		n++;
		*installed += u->table && u->installed;
	}
	return n;
}

int metrics_format(FILE *out, const struct engine *e, const struct metrics_pool *pool)
{
	struct health_uplink *h = NULL;
	size_t nh = 0;

	health_read(&h, &nh);	/* no rtalloc-track: no health lines */

	help(out, "rtalloc_uplink_up", "gauge",
	     "1 when the uplink's link is up and one of its addresses has its table, rules and routes in the kernel.");
	for (size_t i = 0; i < e->nlinks; i++) {
		const struct elink *l = &e->links[i];
		unsigned inst = 0;

		if (!managed(l))
			continue;
		link_addresses(e, l, AF_INET, &inst);
		link_addresses(e, l, AF_INET6, &inst);
		fprintf(out, "rtalloc_uplink_up{interface=\"%s\"} %d\n", l->l.name, l->l.up && inst > 0);
	}
	help(out, "rtalloc_uplink_addresses", "gauge",
	     "Global addresses of the uplink the agent manages, per family.");
	for (size_t i = 0; i < e->nlinks; i++) {
		const struct elink *l = &e->links[i];

		if (!managed(l))
			continue;
		for (int f = 0; f < 2; f++) {
			unsigned inst = 0, n;

			if (l->managed[f] != 1)
				continue;
			n = link_addresses(e, l, f ? AF_INET6 : AF_INET, &inst);
			fprintf(out, "rtalloc_uplink_addresses{interface=\"%s\",family=\"%s\"} %u\n",
				l->l.name, f ? "inet6" : "inet", n);
		}
	}
	if (nh) {
		help(out, "rtalloc_uplink_health", "gauge",
		     "rtalloc-track's judgement of the uplink: 1 for the state it is in, 0 for the others.");
		for (size_t i = 0; i < nh; i++)
			for (size_t s = 0; s < sizeof(health_states) / sizeof(health_states[0]); s++)
				fprintf(out, "rtalloc_uplink_health{interface=\"%s\",family=\"%s\",state=\"%s\"} %d\n",
					h[i].interface, family_name(h[i].family), health_states[s],
					!strcmp(h[i].state, health_states[s]));
		for (size_t g = 0; g < sizeof(uplink_gauges) / sizeof(uplink_gauges[0]); g++) {
			help(out, uplink_gauges[g].name, "gauge", uplink_gauges[g].help);
			for (size_t i = 0; i < nh; i++) {
				fprintf(out, "%s{interface=\"%s\",family=\"%s\"} ", uplink_gauges[g].name,
					h[i].interface, family_name(h[i].family));
				value(out, uplink_gauges[g].get(&h[i]));
			}
		}
	}
	free(h);
	if (pool && pool->known) {
		help(out, "rtalloc_leases_used", "gauge", "Tables rtallocd has leased, per family.");
		for (int f = 0; f < 2; f++)
			fprintf(out, "rtalloc_leases_used{family=\"%s\"} %u\n", f ? "inet6" : "inet", pool->used[f]);
		help(out, "rtalloc_leases_free", "gauge", "Tables rtallocd can still lease, per family.");
		for (int f = 0; f < 2; f++)
			fprintf(out, "rtalloc_leases_free{family=\"%s\"} %u\n", f ? "inet6" : "inet", pool->free[f]);
	}
	help(out, "rtalloc_rules_restored_total", "counter",
	     "Rules of the agent's that someone deleted and the agent put back.");
	fprintf(out, "rtalloc_rules_restored_total %lu\n", e->stats.restored);
	help(out, "rtalloc_table_routes_added_total", "counter",
	     "Routes the agent added to tables already installed: copies of new routes in main, and routes put back after someone deleted them.");
	fprintf(out, "rtalloc_table_routes_added_total %lu\n", e->stats.routes_added);
	help(out, "rtalloc_resyncs_total", "counter",
	     "Full re-reads of the kernel's state after netlink events were lost (ENOBUFS).");
	fprintf(out, "rtalloc_resyncs_total %lu\n", e->stats.resyncs);
	return ferror(out) ? -EIO : 0;
}

int metrics_write(const char *path, const struct engine *e, const struct metrics_pool *pool)
{
	struct safefile sf;
	int ret = safefile_begin(&sf, path, 0644);

	if (ret < 0)
		return ret;
	ret = metrics_format(sf.f, e, pool);
	if (ret < 0) {
		safefile_abort(&sf);
		return ret;
	}
	return safefile_commit(&sf);
}

/* ---- the running writer ---- */

void metrics_update(struct metrics *m)
{
	int ret;

	if (!m->path[0])
		return;
	ret = metrics_write(m->path, m->e, &m->pool);
	if (ret < 0 && !m->failing)
		log_msg(LOG_WARNING, "metrics_textfile %s: %s", m->path, strerror(-ret));
	else if (ret == 0 && m->failing)
		log_msg(LOG_NOTICE, "metrics_textfile %s: written again", m->path);
	m->failing = ret < 0;
}

static void pool_answer(struct loop_fd *h, uint32_t events)
{
	struct metrics *m = container_of(h, struct metrics, h);
	struct proto_list_reply rep;
	char err[128];
	int ret;

	(void)events;
	while ((ret = lease_recv_list(&m->lc, m->buf, PROTO_MAX_DATAGRAM, &rep, err, sizeof(err))) != 0) {
		if (ret < 0)
			continue;	/* not a list reply: nothing we asked */
		if (rep.seq == m->seq && rep.has_pool) {
			m->pool.known = true;
			memcpy(m->pool.used, rep.pool_used, sizeof(m->pool.used));
			memcpy(m->pool.free, rep.pool_free, sizeof(m->pool.free));
		}
		proto_list_free(&rep);
	}
}

static void tick(struct loop_timer *t)
{
	struct metrics *m = container_of(t, struct metrics, timer);
	struct proto_request req = {
		.version = PROTO_VERSION_2,
		.cmd = PROTO_CMD_LIST,
		.seq = ++m->seq,
		.offset = UINT32_MAX,	/* past every lease: the figures only */
	};

	/* An answer to the previous tick came or not: the figures stay
	 * until a newer one does (a server that stopped answering keeps its
	 * last pool, and the uplink figures go on). */
	if (lease_send_req(&m->lc, &req) == -ECONNREFUSED)
		lease_next_target(&m->lc);
	metrics_update(m);
	m->soon = false;
	loop_timer_set(&m->timer, METRICS_INTERVAL_MS);
}

void metrics_soon(struct metrics *m)
{
	if (!m->path[0] || m->soon)
		return;
	m->soon = true;
	loop_timer_set(&m->timer, METRICS_SOON_MS);
}

int metrics_start(struct metrics *m, struct loop *l, const struct engine *e, const char *path,
		  const char *socket_path)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->lc.fd = m->h.fd = m->timer.h.fd = -1;
	if (!path || !path[0])
		return 0;
	m->loop = l;
	m->e = e;
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->buf = malloc(PROTO_MAX_DATAGRAM);
	if (!m->buf)
		return -ENOMEM;
	m->seq = (uint32_t)getpid() << 20;
	ret = lease_open(&m->lc, socket_path);
	if (ret == 0) {
		m->h = (struct loop_fd){ .fd = m->lc.fd, .events = EPOLLIN, .cb = pool_answer };
		ret = loop_fd_add(l, &m->h);
	}
	if (ret == 0)
		ret = loop_timer_init(l, &m->timer, tick);
	if (ret < 0) {
		metrics_stop(m);
		return ret;
	}
	tick(&m->timer);
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m || !m->loop)
		return;
	if (m->h.fd >= 0)
		loop_fd_del(m->loop, &m->h);
	lease_close(&m->lc);
	loop_timer_free(m->loop, &m->timer);
	if (m->path[0])
		unlink(m->path);
	free(m->buf);
	memset(m, 0, sizeof(*m));
	m->lc.fd = m->h.fd = m->timer.h.fd = -1;
}
