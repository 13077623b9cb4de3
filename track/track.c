/* rtalloc-track: probes each uplink rtalloc manages from its own address and
 * keeps unbound traffic (and traffic forwarded from LAN interfaces) on the
 * best working one; see man rtalloc-track(8).
 *   rtalloc-track [-c FILE] [-v] [--check]
 * Exit status: 0 stopped by a signal (rules removed) or --check passed;
 * 1 bad arguments or configuration (one line on stderr); 2 a system call
 * failed at start. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "cmdline.h"
#include "conntrack.h"
#include "discover.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "probe.h"
#include "safefile.h"
#include "sockdiag.h"
#include "steer.h"
#include "trackconf.h"

extern char **environ;

/* One per interface and family: an interface with an IPv4 and an IPv6
 * address of rtalloc's is two uplinks, each probing its family's targets. */
struct uplink {
	time_t changed_wall;
	uint64_t probe_bytes;		/* since started_ms, both ways */
	uint64_t started_ms;
	uint64_t looked_ms;		/* metered: the last look at its sockets */
	struct health_figures fig;	/* the window's, at the last round */
	struct track_uplink_conf conf;	/* targets: this family's only */
	struct prober probe;
	struct sockdiag_seen seen;	/* metered: its TCP sockets at the last look */
	struct health_state health;
	int family;
	uint32_t weight;		/* in use: configured, or "auto"'s */
	unsigned skipped;		/* metered: rounds proven by its own traffic */
	struct uplink_info info;
	bool present;		/* found in the kernel this round */
	bool probing;		/* prober open for info.addr */
	bool carrying;		/* unbound traffic uses it */
	bool proven;		/* metered: this round needs no probe */
};

struct track {
	struct loop loop;
	struct loop_timer round, deadline, retry;
	unsigned retries;	/* retry timer fired this round */
	struct loop_signal sig;
	struct kernel *k;		/* discovery and steering, through the seam */
	struct track_conf conf;
	struct uplink up[TRACK_UPLINKS_MAX];
	size_t n;
	uint32_t steered[2];	/* per family (fam_idx): table the rules point at; 0: none */
	char hops_key[2][256];	/* balance: the route installed, as text */
	int nexthops;		/* balance: 1 nexthop objects work, -1 they do not (plain route), 0 unknown */
	bool no_destroy;	/* reset_local: the kernel has no SOCK_DESTROY (said once) */
	struct balance_hash hash;
	const char *conf_path;
	int rtallocd;		/* its lease list: 1 answered last time, -1 did not, 0 not asked */
	/* Leases without a from-rule, logged once each (address and table). */
	struct inet_addr norule[TRACK_UPLINKS_MAX];
	uint32_t norule_table[TRACK_UPLINKS_MAX];
	size_t nnorule;
	/* forward_from plus the LANs of the agent's and rtalloc's rules
	 * (discover_forward), as of the last refresh. */
	char fwd[TRACK_FORWARD_MAX][IFNAMSIZ];
	size_t nfwd;
};

static const int families[2] = { AF_INET, AF_INET6 };
static size_t fam_idx(int family)
{
	return family == AF_INET6;
}
/* " inet6" after an IPv6 uplink's name in logs; IPv4 ones go bare. */
static const char *fam_tag(int family)
{
	return family == AF_INET6 ? " inet6" : "";
}

/* How long a round waits for rtallocd's lease list. */
#define TRACK_LIST_TIMEOUT_MS 300

/* rtallocd's leases (*l, free()), or NULL when it does not answer: then
 * the kernel's rules alone say what the uplinks are (one line per change). */
static struct proto_lease *fetch_leases(struct track *t, size_t *n)
{
	struct lease_client lc;
	struct proto_lease *l = NULL;
	char err[160] = "";
	int ret;

	*n = 0;
	ret = lease_open(&lc, t->conf.socket_path);
	if (ret == 0) {
		ret = lease_list(&lc, TRACK_LIST_TIMEOUT_MS, &l, n, err, sizeof(err));
		lease_close(&lc);
	}
	if (ret < 0) {
		free(l);
		*n = 0;
		if (t->rtallocd >= 0)
			log_msg(LOG_WARNING, "rtallocd (@%s): no lease list (%s); uplinks from the kernel's "
				"rules at pref %u only", t->conf.socket_path, err[0] ? err : strerror(-ret),
				KPREF_FROM);
		t->rtallocd = -1;
		return NULL;
	}
	if (t->rtallocd < 0)
		log_msg(LOG_INFO, "rtallocd (@%s): lease list read again", t->conf.socket_path);
	t->rtallocd = 1;
	return l ? l : calloc(1, sizeof(*l));	/* no leases: still an answer */
}

/* A lease whose address has no from-rule of its table in the kernel cannot
 * be probed through that table: one line per lease, not tracked. */
static void note_unruled(struct track *t, const struct proto_lease *l, size_t nl,
			 const struct uplink_info *info, size_t n)
{
	size_t keep = 0;

	/* Forget those that got their rule or lost their lease. */
	for (size_t i = 0; i < t->nnorule; i++) {
		bool still = false;
		struct inet_addr a;

		for (size_t j = 0; j < nl && !still; j++)
			still = l[j].table == t->norule_table[i] && discover_lease_addr(&l[j], &a) &&
				a.family == t->norule[i].family &&
				!memcmp(a.bytes, t->norule[i].bytes, addr_len(a.family)) &&
				!discover_lease_matched(&l[j], info, n);
		if (still) {
			t->norule[keep] = t->norule[i];
			t->norule_table[keep++] = t->norule_table[i];
		}
	}
	t->nnorule = keep;
	for (size_t j = 0; j < nl; j++) {
		struct inet_addr a;
		bool told = false;

		if (discover_lease_matched(&l[j], info, n) || !discover_lease_addr(&l[j], &a))
			continue;
		for (size_t i = 0; i < t->nnorule && !told; i++)
			told = t->norule_table[i] == l[j].table && t->norule[i].family == a.family &&
			       !memcmp(t->norule[i].bytes, a.bytes, addr_len(a.family));
		if (told || t->nnorule >= TRACK_UPLINKS_MAX)
			continue;
		t->norule[t->nnorule] = a;
		t->norule_table[t->nnorule++] = l[j].table;
		log_msg(LOG_INFO, "%s%s: leased %s (table %u) but no from-rule of it in the kernel; "
			"not tracked", l[j].ifname[0] ? l[j].ifname : "?", fam_tag(a.family),
			l[j].address, l[j].table);
	}
}

/* An uplink of family from conf c, with c's targets of that family only;
 * false when c has none. */
static bool uplink_init(struct uplink *u, const struct track_uplink_conf *c, int family)
{
	memset(u, 0, sizeof(*u));
	u->conf = *c;
	u->family = family;
	u->conf.ntargets = 0;
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i].addr.family == family)
			u->conf.targets[u->conf.ntargets++] = c->targets[i];
	if (!u->conf.ntargets)
		return false;
	if (u->conf.k > u->conf.ntargets)
		u->conf.k = (unsigned)u->conf.ntargets;
	health_reset(&u->health, loop_now_ms());
	u->changed_wall = time(NULL);
	u->weight = u->conf.weight;
	u->started_ms = loop_now_ms();
	return true;
}

/* systemd's readiness protocol (Type=notify); tests wait on it too. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || !path[0] || strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sun, len) < 0)
		log_msg(LOG_WARNING, "could not notify NOTIFY_SOCKET=%s", path);
	close(fd);
}

static void run_hooks(const struct track *t, const struct uplink *u)
{
	struct dirent **ents = NULL;
	char addr[INET6_ADDRSTRLEN], table[16], path[PATH_MAX + 256];
	char e_up[32], e_state[32], e_addr[64], e_table[32];
	posix_spawnattr_t attr;
	sigset_t none;
	char **env = NULL;
	size_t nenv = 0;
	int n;

	n = scandir(t->conf.hook_dir, &ents, NULL, alphasort);
	if (n <= 0) {
		free(ents);
		return;
	}
	addr_str(&u->info.addr, addr, sizeof(addr));
	snprintf(table, sizeof(table), "%u", u->info.table);
	snprintf(e_up, sizeof(e_up), "RTALLOC_UPLINK=%s", u->conf.ifname);
	snprintf(e_state, sizeof(e_state), "RTALLOC_STATE=%s", health_name(u->health.state));
	snprintf(e_addr, sizeof(e_addr), "RTALLOC_ADDRESS=%s", addr);
	snprintf(e_table, sizeof(e_table), "RTALLOC_TABLE=%s", table);
	while (environ[nenv])
		nenv++;
	env = calloc(nenv + 5, sizeof(*env));
	if (!env)
		goto cleanup;
	memcpy(env, environ, nenv * sizeof(*env));
	env[nenv] = e_up;
	env[nenv + 1] = e_state;
	env[nenv + 2] = e_addr;
	env[nenv + 3] = e_table;
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *argv[2];
		pid_t pid;
		int r;

		if (ents[i]->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->conf.hook_dir, ents[i]->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
			continue;
		argv[0] = path;
		argv[1] = NULL;
		r = posix_spawn(&pid, path, NULL, &attr, argv, env);
		if (r)
			log_msg(LOG_WARNING, "hook %s: %s", path, strerror(r));
	}
	posix_spawnattr_destroy(&attr);
cleanup:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(env);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Probe bytes per day at the rate since the uplink was first tracked. */
static uint64_t bytes_day(const struct uplink *u)
{
	uint64_t ms = loop_now_ms() - u->started_ms;

	return ms ? (uint64_t)((double)u->probe_bytes * 86400000.0 / (double)ms) : 0;
}

/* The state for `rtalloc --status/--list`: written whole to a temporary
 * file and renamed, so a reader never sees half of it, and never through
 * a name someone else planted (safefile.h). */
static void write_state(const struct track *t)
{
	static bool warned;
	struct safefile sf;
	char addr[INET6_ADDRSTRLEN];
	bool first;
	FILE *f;
	int ret = safefile_begin(&sf, t->conf.state_file, 0644);

	if (ret < 0) {
		log_msg(LOG_WARNING, "state file %s: %s", t->conf.state_file, strerror(-ret));
		return;
	}
	if (sf.shared && !warned)
		log_msg(LOG_WARNING, "state file %s: its directory is not root's alone (owner uid %u): its"
			" owner can replace it; keep it in a root-only directory (/run/rtalloc-track)",
			t->conf.state_file, (unsigned)sf.dir_uid);
	warned = warned || sf.shared;
	f = sf.f;
	fprintf(f, "{\"pid\":%d,\"mode\":\"%s\",\"updated\":%llu", (int)getpid(),
		t->conf.mode == TRACK_BALANCE ? "balance" : "failover", (unsigned long long)time(NULL));
	for (size_t fi = 0; fi < 2; fi++) {
		fputs(fi ? "],\"unbound6\":[" : ",\"unbound\":[", f);
		first = true;
		for (size_t i = 0; i < t->n; i++) {
			if (!t->up[i].carrying || t->up[i].family != families[fi])
				continue;
			fputs(first ? "" : ",", f);
			json_str(f, t->up[i].conf.ifname);
			first = false;
		}
	}
	fputs("],\"uplinks\":[", f);
	for (size_t i = 0; i < t->n; i++) {
		const struct uplink *u = &t->up[i];

		fputs(i ? "," : "", f);
		fputs("{\"interface\":", f);
		json_str(f, u->conf.ifname);
		fprintf(f, ",\"family\":\"%s\"", u->family == AF_INET6 ? "inet6" : "inet");
		fputs(",\"address\":", f);
		json_str(f, u->present ? addr_str(&u->info.addr, addr, sizeof(addr)) : "");
		fprintf(f, ",\"table\":%u,\"priority\":%u,\"weight\":%u,\"weight_auto\":%s,\"method\":\"%s\","
			"\"state\":\"%s\",\"since\":%lld,\"loss\":%.1f,\"rtt_ms\":%.3f,\"jitter_ms\":%.3f,"
			"\"window_s\":%.3g,\"answered\":%u,\"targets\":%zu,\"metered\":%s,\"probe_bytes\":%llu,"
			"\"probe_bytes_day\":%llu,\"rounds_proven\":%u,\"unbound\":%s}",
			u->present ? u->info.table : 0, u->conf.priority, u->weight,
			u->conf.weight_auto ? "true" : "false", track_method_name(u->conf.method),
			u->present ? health_name(u->health.state) : "absent", (long long)u->changed_wall,
			u->fig.loss, u->fig.rtt_us / 1000.0, u->fig.jitter_us / 1000.0,
			u->conf.o.q.window_ms ? u->conf.o.q.window_ms / 1000.0 :
			HEALTH_DEFAULT_ROUNDS * t->conf.interval_ms / 1000.0,
			u->health.last_ok, u->conf.ntargets, u->conf.o.metered ? "true" : "false",
			(unsigned long long)u->probe_bytes, (unsigned long long)bytes_day(u), u->skipped,
			u->carrying ? "true" : "false");
	}
	fputs("]}\n", f);
	ret = safefile_commit(&sf);
	if (ret < 0)
		log_msg(LOG_WARNING, "state file %s: %s", t->conf.state_file, strerror(-ret));
}

static void uplink_stop_probing(struct uplink *u)
{
	if (u->probing)
		prober_close(&u->probe);
	u->probing = false;
}

/* Brings the uplink list in line with the kernel.  Configured uplinks stay
 * (absent when their interface has no rtalloc address now); found ones are
 * added when no uplinks are configured. */
static void refresh(struct track *t)
{
	static struct uplink fresh;
	struct uplink_info info[TRACK_UPLINKS_MAX];
	size_t n = 0, nleases = 0;
	struct proto_lease *leases = fetch_leases(t, &nleases);
	int ret;

	ret = discover_uplinks(t->k, leases, nleases, info, TRACK_UPLINKS_MAX, &n);
	if (ret < 0) {
		free(leases);
		log_msg(LOG_ERR, "cannot read the kernel's rules and addresses: %s", strerror(-ret));
		return;		/* keep what we knew */
	}
	if (leases)
		note_unruled(t, leases, nleases, info, n);
	free(leases);
	/* A router's LAN is named once, where its traffic is first let into
	 * the uplinks' tables (agent.json forward_from, RTALLOC_FORWARD_IFACES);
	 * forward_from here adds to those. */
	memcpy(t->fwd, t->conf.forward_from, sizeof(t->fwd));
	t->nfwd = t->conf.nforward;
	ret = discover_forward(t->k, t->fwd, TRACK_FORWARD_MAX, &t->nfwd);
	if (ret < 0)
		log_msg(LOG_ERR, "cannot read the kernel's forwarding rules: %s", strerror(-ret));
	if (!t->conf.nuplinks) {
		for (size_t j = 0; j < n; j++) {
			struct track_uplink_conf c = { .weight = 1 };
			bool known = false;
			size_t slot = t->n;

			for (size_t i = 0; i < t->n && !known; i++)
				known = !strcmp(t->up[i].conf.ifname, info[j].ifname) &&
					t->up[i].family == info[j].addr.family;
			if (known)
				continue;
			/* Full: the slot of one that is gone (modems come and go). */
			for (size_t i = 0; i < t->n && slot >= TRACK_UPLINKS_MAX; i++)
				if (!t->up[i].present && !t->up[i].probing)
					slot = i;
			if (slot >= TRACK_UPLINKS_MAX)
				continue;
			memcpy(c.ifname, info[j].ifname, IFNAMSIZ);
			/* Found uplinks rank by table: the order rtallocd leased them. */
			c.priority = info[j].table;
			c.method = t->conf.method;
			memcpy(c.targets, t->conf.targets, sizeof(c.targets));
			c.ntargets = t->conf.ntargets;
			c.k = t->conf.k;
			/* Built aside: a slot is only taken by an uplink with targets
			 * of its family.  Nothing of it is in the loop yet. */
			if (!uplink_init(&fresh, &c, info[j].addr.family))
				continue;
			t->up[slot] = fresh;
			if (slot == t->n)
				t->n++;
			log_msg(LOG_INFO, "%s%s: tracking (found in the kernel, table %u)", c.ifname,
				fam_tag(info[j].addr.family), info[j].table);
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		struct uplink *u = &t->up[i];
		const struct uplink_info *found = NULL;

		for (size_t j = 0; j < n && !found; j++)
			if (!strcmp(info[j].ifname, u->conf.ifname) && info[j].addr.family == u->family)
				found = &info[j];
		if (!found) {
			if (u->present)
				log_msg(LOG_INFO, "%s%s: no rtalloc address now; not probed", u->conf.ifname,
					fam_tag(u->family));
			u->present = false;
			uplink_stop_probing(u);
			continue;
		}
		if (u->present && memcmp(u->info.addr.bytes, found->addr.bytes, addr_len(u->family))) {
			uplink_stop_probing(u);
			health_reset(&u->health, loop_now_ms());
			u->changed_wall = time(NULL);
		}
		u->present = true;
		u->info = *found;
		if (!u->probing) {
			ret = prober_open(&u->probe, &t->loop, &u->info.addr, u->conf.ifname, u->conf.method,
					  u->conf.targets, u->conf.ntargets);
			if (ret < 0) {
				log_msg(LOG_ERR, "%s%s: cannot open probe socket: %s", u->conf.ifname,
					fam_tag(u->family), strerror(-ret));
				continue;
			}
			u->probing = true;
			prober_set_opts(&u->probe, &u->conf.o);
			if (u->conf.method == TRACK_ICMP)
				log_msg(LOG_INFO, "%s%s: probing %zu target%s with ICMP echo (%s socket)",
					u->conf.ifname, fam_tag(u->family), u->conf.ntargets,
					u->conf.ntargets == 1 ? "" : "s",
					u->probe.kind == PROBE_DGRAM ? "datagram" : "raw");
			else
				log_msg(LOG_INFO, "%s%s: probing %zu target%s with %s", u->conf.ifname,
					fam_tag(u->family), u->conf.ntargets, u->conf.ntargets == 1 ? "" : "s",
					u->conf.method == TRACK_HTTP ? "HTTP GET" : "TCP connect");
		}
	}
}

static void hops_text(const struct steer_hop *h, size_t n, bool group, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t off = 0;

	snprintf(buf, len, "%s", group ? "group " : "");
	off = strlen(buf);
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%u:%d/%s/%u ", h[i].key, h[i].ifindex,
				 h[i].has_gw ? addr_str(&h[i].gw, a, sizeof(a)) : "-", h[i].weight);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* u stopped carrying unbound and forwarded traffic: its forwarded flows'
 * NAT entries go (their next packet takes the new uplink and its address);
 * with reset_local, when u is not online, the host's own TCP and connected
 * UDP sockets from its address are destroyed so programs reconnect. */
static void handoff(struct track *t, const struct uplink *u)
{
	char a[INET6_ADDRSTRLEN], local[96] = "";
	unsigned flows = 0, tcp = 0, udp = 0;
	int ret;

	addr_str(&u->info.addr, a, sizeof(a));
	ret = conntrack_flush_nat(&u->info.addr, &flows);
	if (ret < 0)
		log_msg(LOG_DEBUG, "%s%s: conntrack: %s", u->conf.ifname, fam_tag(u->family), strerror(-ret));
	if (t->conf.reset_local && u->health.state != HEALTH_ONLINE && !t->no_destroy) {
		ret = sockdiag_destroy(&u->info.addr, &tcp, &udp);
		if (ret == -EOPNOTSUPP) {
			log_msg(LOG_WARNING, "reset_local: this kernel cannot destroy sockets (no "
				"CONFIG_INET_DIAG_DESTROY); local connections keep their source");
			t->no_destroy = true;
		} else if (ret < 0) {
			log_msg(LOG_WARNING, "%s%s: reset_local: %s", u->conf.ifname, fam_tag(u->family),
				strerror(-ret));
		}
		snprintf(local, sizeof(local), ", %u local TCP and %u connected UDP socket%s reset", tcp, udp,
			 udp == 1 ? "" : "s");
	}
	log_msg(LOG_NOTICE, "%s%s: hand-off: %u forwarded flow%s NATed to %s removed%s", u->conf.ifname,
		fam_tag(u->family), flows, flows == 1 ? "" : "s", a, local);
}

/* Points family's unbound traffic at the chosen uplink(s) of that family. */
static void decide_family(struct track *t, int family)
{
	struct policy_uplink pu[TRACK_UPLINKS_MAX];
	size_t idx[TRACK_UPLINKS_MAX] = { 0 }, m = 0, fi = fam_idx(family);
	bool chosen[TRACK_UPLINKS_MAX] = { false };
	struct steer_hop hops[TRACK_UPLINKS_MAX];
	struct steer_set want;
	char names[256] = "", key[256];
	uint32_t table = 0;
	size_t nhops = 0;
	bool group = false;
	unsigned changed = 0;
	struct timespec a, b;
	int ret;

	uint32_t best_rtt = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct uplink *u = &t->up[i];

		if (u->family == family && u->present && u->fig.rtt_us && (!best_rtt || u->fig.rtt_us < best_rtt))
			best_rtt = u->fig.rtt_us;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct uplink *u = &t->up[i];

		if (u->family != family)
			continue;
		u->weight = u->conf.weight_auto ? policy_auto_weight(u->fig.loss, u->fig.rtt_us, best_rtt) :
			    u->conf.weight;
		pu[m].usable = u->present && (t->conf.mode == TRACK_FAILOVER || u->info.has_default);
		pu[m].state = u->health.state;
		pu[m].priority = u->conf.priority;
		pu[m].weight = u->weight;
		idx[m++] = i;
	}
	if (t->conf.mode == TRACK_FAILOVER) {
		int pick = policy_pick(pu, m);

		if (pick >= 0) {
			chosen[pick] = true;
			table = t->up[idx[pick]].info.table;
		}
	} else if (policy_balance(pu, m, chosen)) {
		table = t->conf.table;
	}
	bool was[TRACK_UPLINKS_MAX] = { false };

	for (size_t j = 0; j < m; j++) {
		struct uplink *u = &t->up[idx[j]];
		size_t l = strlen(names);

		was[j] = u->carrying;
		u->carrying = chosen[j];
		if (!chosen[j])
			continue;
		snprintf(names + l, sizeof(names) - l, "%s%s", l ? "," : "", u->conf.ifname);
		/* The group holds uplinks chosen for their health; the last
		 * resort (none online or degraded) gets a plain route. */
		group = group || u->health.state == HEALTH_ONLINE || u->health.state == HEALTH_DEGRADED;
		hops[nhops].key = (uint32_t)idx[j];
		hops[nhops].ifindex = u->info.oif;
		hops[nhops].has_gw = u->info.has_gw;
		hops[nhops].gw = u->info.gw;
		hops[nhops].weight = u->weight;
		nhops++;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (t->conf.mode == TRACK_BALANCE) {
		group = group && nhops && t->nexthops >= 0;
		hops_text(hops, nhops, group, key, sizeof(key));
		if (strcmp(key, t->hops_key[fi])) {
			ret = group ? balance_group(t->k, family, t->conf.table, hops, nhops) : -EAGAIN;
			if (group && ret < 0 && ret != -EAGAIN) {
				log_msg(LOG_WARNING, "balance: no resilient nexthop group (%s): a plain multipath "
					"route, which moves flows when an uplink comes or goes", strerror(-ret));
				t->nexthops = -1;
			} else if (group) {
				t->nexthops = 1;
			}
			if (ret < 0)
				ret = steer_route(t->k, family, t->conf.table, hops, nhops);
			if (ret < 0)
				log_msg(LOG_ERR, "cannot set the balance route in table %u%s: %s",
					t->conf.table, fam_tag(family), strerror(-ret));
			else
				snprintf(t->hops_key[fi], sizeof(t->hops_key[fi]), "%s", key);
		}
	}
	steer_build(&want, family, table, (const char (*)[IFNAMSIZ])t->fwd, t->nfwd);
	ret = steer_apply(t->k, &want, &changed);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (ret < 0) {
		log_msg(LOG_ERR, "cannot set the rules for unbound%s traffic: %s",
			family == AF_INET6 ? " IPv6" : "", strerror(-ret));
		return;
	}
	if (table != t->steered[fi] || changed)
		log_msg(LOG_NOTICE, "unbound%s traffic: %s (table %u; rules in %.3f ms)",
			family == AF_INET6 ? " IPv6" : "", names[0] ? names : "none", table,
			(double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	t->steered[fi] = table;
	/* After the rules: a flow's next packet finds the new uplink. */
	for (size_t j = 0; j < m; j++)
		if (was[j] && !chosen[j] && t->up[idx[j]].present)
			handoff(t, &t->up[idx[j]]);
}

static void decide(struct track *t)
{
	for (size_t fi = 0; fi < 2; fi++)
		decide_family(t, families[fi]);
}

/* The figures after a state change's line: the window's loss, median and
 * jitter, and the threshold crossed when quality made the change. */
static void figures_text(const struct uplink *u, enum health from, char *buf, size_t len)
{
	const struct health_quality *q = &u->conf.o.q;
	const struct health_figures *f = &u->fig;
	char lw[48] = "", rw[48] = "";

	if (u->health.state == HEALTH_DEGRADED) {
		if (q->max_loss > 0 && f->loss > q->max_loss)
			snprintf(lw, sizeof(lw), " > max_loss %g%%", q->max_loss);
		if (q->max_rtt_us && f->rtt_us > q->max_rtt_us)
			snprintf(rw, sizeof(rw), " > max_rtt %g ms", q->max_rtt_us / 1000.0);
	} else if (from == HEALTH_DEGRADED && u->health.state == HEALTH_ONLINE) {
		if (q->max_loss > 0)
			snprintf(lw, sizeof(lw), " <= clear_loss %g%%", q->clear_loss);
		if (q->max_rtt_us)
			snprintf(rw, sizeof(rw), " <= clear_rtt %g ms", q->clear_rtt_us / 1000.0);
	}
	snprintf(buf, len, "loss %.1f%%%s, median %.1f ms%s, jitter %.1f ms over %u probes", f->loss, lw,
		 f->rtt_us / 1000.0, rw, f->jitter_us / 1000.0, f->sent);
}

static void close_round(struct track *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct uplink *u = &t->up[i];
		unsigned answered, probes, portal;
		enum health from = u->health.state;
		char figs[256];
		uint32_t rtt;
		unsigned run;

		if (!u->present || !u->probing)
			continue;
		prober_finish_portal(&u->probe, &answered, &probes, &rtt, &portal);
		u->probe_bytes += u->probe.bytes;
		u->probe.bytes = 0;
		/* Metered: its own traffic proved it this round, no probe went. */
		if (u->proven) {
			answered = u->conf.k;
			probes = 0;
			u->proven = false;
			u->skipped++;
		}
		/* Its table has no default route: its traffic has no way out,
		 * whatever a probe to a nearby target found. */
		if (!u->info.has_default)
			answered = 0;
		run = answered >= u->conf.k ? u->health.good_run + 1 : u->health.bad_run + 1;
		if (health_round_q(&u->health, answered, probes, u->conf.k, t->conf.down, t->conf.up, rtt,
				   portal > 0, &u->conf.o.q, loop_now_ms())) {
			u->changed_wall = time(NULL);
			health_figures(&u->health, &u->conf.o.q, loop_now_ms(), &u->fig);
			figures_text(u, from, figs, sizeof(figs));
			log_msg(LOG_NOTICE, "%s%s: %s (%u/%zu targets, %u round%s) %s%s", u->conf.ifname,
				fam_tag(u->family), health_name(u->health.state), answered, u->conf.ntargets,
				run, run == 1 ? "" : "s", figs,
				u->info.has_default ? "" : "; its table has no default route");
			run_hooks(t, u);
		}
		health_figures(&u->health, &u->conf.o.q, loop_now_ms(), &u->fig);
	}
	decide(t);
	write_state(t);
}

/* A metered uplink that is online needs no probe this round when its own
 * TCP traffic had data acknowledged since the last look; when idle or in
 * doubt (not online, sock_diag silent) it is probed. */
static void metered_look(struct uplink *u)
{
	uint64_t now = loop_now_ms();
	uint32_t since = (uint32_t)(u->looked_ms ? now - u->looked_ms : 0);
	int ret = sockdiag_proof(&u->info.addr, &u->seen, since);

	u->looked_ms = now;
	u->proven = ret == 1 && u->health.state == HEALTH_ONLINE && u->info.has_default;
	if (ret < 0)
		log_msg(LOG_DEBUG, "%s%s: metered: sock_diag: %s; probing", u->conf.ifname, fam_tag(u->family),
			strerror(-ret));
}

static void round_close(struct loop_timer *timer)
{
	close_round(container_of(timer, struct track, deadline));
}

/* At 1/2, 2/3 and 5/6 of the timeout: silent targets are asked again. */
static void round_retry(struct loop_timer *timer)
{
	struct track *t = container_of(timer, struct track, retry);

	for (size_t i = 0; i < t->n; i++)
		if (t->up[i].present && t->up[i].probing)
			prober_retry(&t->up[i].probe);
	if (++t->retries < PROBE_TRIES - 1 && t->conf.timeout_ms >= 6)
		loop_timer_set(&t->retry, t->conf.timeout_ms / 6);
}

static void round_start(struct loop_timer *timer)
{
	struct track *t = container_of(timer, struct track, round);

	/* timeout == interval: both timers fire together, in either order;
	 * the last round is judged before this one's probes replace it. */
	if (t->deadline.armed) {
		loop_timer_set(&t->deadline, 0);
		close_round(t);
	}
	loop_timer_set(&t->round, t->conf.interval_ms);
	refresh(t);
	for (size_t i = 0; i < t->n; i++) {
		struct uplink *u = &t->up[i];

		if (!u->present || !u->probing)
			continue;
		if (u->conf.o.metered)
			metered_look(u);
		if (!u->proven)
			prober_send(&u->probe);
	}
	loop_timer_set(&t->deadline, t->conf.timeout_ms ? t->conf.timeout_ms : 1);
	t->retries = 0;
	if (t->conf.timeout_ms >= 2)
		loop_timer_set(&t->retry, t->conf.timeout_ms / 2);
}

/* Builds the uplinks of t->conf; an uplink that stays (same interface and
 * family) keeps its health. */
static void uplinks_from_conf(struct track *t, const struct uplink *old, size_t nold)
{
	t->n = 0;
	for (size_t i = 0; i < t->conf.nuplinks; i++)
		for (size_t fi = 0; fi < 2; fi++) {
			struct uplink *u = &t->up[t->n];

			if (t->n >= TRACK_UPLINKS_MAX || !uplink_init(u, &t->conf.uplinks[i], families[fi]))
				continue;
			for (size_t j = 0; j < nold; j++)
				if (!strcmp(old[j].conf.ifname, u->conf.ifname) && old[j].family == u->family) {
					u->health = old[j].health;
					u->changed_wall = old[j].changed_wall;
				}
			t->n++;
		}
}

/* Balance mode's route and group in table go (whichever is there). */
static void balance_stop(struct track *t, int family)
{
	steer_route(t->k, family, t->conf.table, NULL, 0);
	balance_group(t->k, family, t->conf.table, NULL, 0);
}

/* SIGHUP: a new configuration, or the old one kept with one line saying why. */
static void reload(struct track *t)
{
	static struct track_conf conf;
	static struct uplink old[TRACK_UPLINKS_MAX];
	size_t nold = t->n;
	char err[512];

	if (trackconf_load(&conf, t->conf_path, err, sizeof(err)) < 0 ||
	    trackconf_check_interfaces(&conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "reload: %s; keeping the running configuration", err);
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		prober_close(&t->up[i].probe);
	memcpy(old, t->up, sizeof(old));
	/* The balance route of the old table goes with the old configuration. */
	if (t->conf.mode == TRACK_BALANCE && (conf.mode != TRACK_BALANCE || conf.table != t->conf.table))
		for (size_t fi = 0; fi < 2; fi++)
			balance_stop(t, families[fi]);
	if (conf.mode == TRACK_BALANCE)
		balance_hash_set(&t->hash);
	else
		balance_hash_restore(&t->hash);
	t->conf = conf;
	memset(t->hops_key, 0, sizeof(t->hops_key));
	if (conf.nuplinks)
		uplinks_from_conf(t, old, nold);
	else
		t->n = 0;	/* found again in the kernel by refresh() */
	for (size_t i = 0; i < t->n; i++)
		t->up[i].probing = false;
	log_msg(LOG_INFO, "reloaded %s: %s mode, %zu uplink%s configured", t->conf_path,
		conf.mode == TRACK_BALANCE ? "balance" : "failover", conf.nuplinks,
		conf.nuplinks == 1 ? "" : "s");
	refresh(t);
	decide(t);
	write_state(t);
	loop_timer_set(&t->deadline, 0);
	round_start(&t->round);
}

static void on_signal(struct loop_signal *s, int signo)
{
	struct track *t = container_of(s, struct track, sig);

	if (signo == SIGCHLD) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		return;
	}
	if (signo == SIGHUP) {
		reload(t);
		return;
	}
	log_msg(LOG_INFO, "signal %d: removing the rules for unbound traffic", signo);
	loop_quit(&t->loop);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rtalloc-track [-c FILE] [-v] [--check] [-h] [--version]\n"
		   "  -c, --config FILE  configuration (default %s)\n"
		   "  -v, --verbose      log debug messages too (and info lines on a terminal)\n"
		   "  --check            check the configuration and the interfaces it names, then exit\n"
		   "  -h, --help         this help\n"
		   "  --version          the version\n"
		   "SIGHUP reloads the configuration.\n"
		   "Exit status: 0 stopped by a signal or --check passed; 1 bad configuration;\n"
		   "2 cannot start; 64 bad usage.\n",
		TRACK_DEFAULT_CONF);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	static struct track t;
	const char *conf = TRACK_DEFAULT_CONF;
	bool check = false, verbose = false;
	struct steer_set none;
	unsigned changed;
	char err[512];
	int c, ret, rc = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'v': verbose = true; break;
		case 'C': check = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': return cmdline_version("rtalloc-track");
		default: return cmdline_bad_option("rtalloc-track", c, argv);
		}
	}
	if (optind < argc)
		return cmdline_usage_error("rtalloc-track", "unexpected argument: %s", argv[optind]);
	if (trackconf_load(&t.conf, conf, err, sizeof(err)) < 0 ||
	    trackconf_check_interfaces(&t.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtalloc-track: %s\n", err);
		return 1;
	}
	if (check) {
		trackconf_warn_documentation(&t.conf, stderr);
		return 0;
	}
	log_open("rtalloc-track", LOG_TO_STDERR, NULL);
	log_set_verbose(verbose);
	t.loop.epfd = -1;
	t.round.h.fd = t.deadline.h.fd = t.retry.h.fd = t.sig.h.fd = -1;
	ret = loop_init(&t.loop);
	if (ret >= 0)
		ret = kernel_netlink_open_groups(&t.k, 0, NULL, 0);
	if (ret >= 0)
		ret = loop_timer_init(&t.loop, &t.round, round_start);
	if (ret >= 0)
		ret = loop_timer_init(&t.loop, &t.deadline, round_close);
	if (ret >= 0)
		ret = loop_timer_init(&t.loop, &t.retry, round_retry);
	if (ret >= 0)
		ret = loop_signal_init(&t.loop, &t.sig, sigs, sizeof(sigs) / sizeof(sigs[0]), on_signal);
	if (ret < 0) {
		log_msg(LOG_ERR, "cannot start: %s", strerror(-ret));
		rc = 2;
		goto cleanup;
	}
	t.conf_path = conf;
	uplinks_from_conf(&t, NULL, 0);
	log_msg(LOG_INFO, "%s mode, every %.3g s (timeout %.3g s, down %u, up %u), %zu uplink%s configured",
		t.conf.mode == TRACK_BALANCE ? "balance" : "failover", t.conf.interval_ms / 1000.0,
		t.conf.timeout_ms / 1000.0, t.conf.down, t.conf.up, t.conf.nuplinks,
		t.conf.nuplinks == 1 ? "" : "s");
	if (t.conf.mode == TRACK_BALANCE)
		balance_hash_set(&t.hash);
	/* First decision before any probe: the priority uplink carries unbound
	 * traffic from the start (its state is unknown, not offline). */
	refresh(&t);
	decide(&t);
	write_state(&t);
	notify_ready();
	round_start(&t.round);
	ret = loop_run(&t.loop);
	if (ret < 0) {
		log_msg(LOG_ERR, "event loop: %s", strerror(-ret));
		rc = 2;
	}
	for (size_t fi = 0; fi < 2; fi++) {
		steer_build(&none, families[fi], 0, NULL, 0);
		ret = steer_apply(t.k, &none, &changed);
		if (ret < 0)
			log_msg(LOG_ERR, "cannot remove the rules for unbound traffic: %s", strerror(-ret));
		if (t.conf.mode == TRACK_BALANCE)
			balance_stop(&t, families[fi]);
	}
	balance_hash_restore(&t.hash);
	unlink(t.conf.state_file);
cleanup:
	for (size_t i = 0; i < t.n; i++)
		uplink_stop_probing(&t.up[i]);
	loop_signal_free(&t.loop, &t.sig);
	loop_timer_free(&t.loop, &t.round);
	loop_timer_free(&t.loop, &t.deadline);
	loop_timer_free(&t.loop, &t.retry);
	kernel_close(t.k);
	loop_free(&t.loop);
	log_close();
	return rc;
}
