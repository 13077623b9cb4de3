/* agentdns: the per-uplink DNS servers-file (agentdns.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentdns.h"
#include "health.h"
#include "kmsg.h"
#include "log.h"

void agentdns_init(struct agentdns *d, const char *path, const char *pidfile)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->pidfile = pidfile;
}

void agentdns_free(struct agentdns *d)
{
	free(d->ra);
	free(d->written);
	d->ra = NULL;
	d->written = NULL;
	d->nra = d->capra = 0;
}

static int ra_set(struct agentdns *d, int ifindex, const struct inet_addr *a, uint64_t until)
{
	for (size_t i = 0; i < d->nra; i++) {
		struct dns_ra *r = &d->ra[i];

		if (r->ifindex != ifindex || memcmp(r->addr.bytes, a->bytes, 16))
			continue;
		if (!until) {
			d->ra[i] = d->ra[--d->nra];
			return 1;
		}
		r->until_ms = until;
		return 0;
	}
	if (!until || kobj_grow((void **)&d->ra, &d->capra, d->nra, sizeof(*d->ra)) < 0)
		return 0;
	d->ra[d->nra++] = (struct dns_ra){ .ifindex = ifindex, .addr = *a, .until_ms = until };
	return 1;
}

int agentdns_useropt(struct agentdns *d, const struct nlmsghdr *nlh, uint64_t now_ms)
{
	struct kuseropt u;

	if (!kuseropt_parse(nlh, &u))
		return 0;
	return agentdns_ra_options(d, u.ifindex, u.opt, u.len, now_ms);
}

struct rdnss_ctx {
	struct agentdns *d;
	int ifindex;
	uint64_t now_ms;
	int changed;
};

static void rdnss_cb(const struct inet_addr *a, uint32_t life_s, void *data)
{
	struct rdnss_ctx *c = data;

	c->changed |= ra_set(c->d, c->ifindex, a, life_s ? c->now_ms + (uint64_t)life_s * 1000 : 0);
}

int agentdns_ra_options(struct agentdns *d, int ifindex, const uint8_t *opt, size_t optlen,
			uint64_t now_ms)
{
	struct rdnss_ctx c = { .d = d, .ifindex = ifindex, .now_ms = now_ms };

	knd_rdnss_each(opt, optlen, rdnss_cb, &c);
	return c.changed;
}

/* systemd-networkd's state of a link: its DNS= line's servers (those of
 * its DHCP leases and RAs as well as configured ones).  A scoped
 * "ADDR%IFINDEX" or "ADDR#NAME" is taken up to the suffix.  0 or -errno. */
static int networkd_dns(int ifindex, struct inet_addr *v, size_t max, size_t *n)
{
	const char *dir = getenv("RTALLOC_NETWORKD_LINKS");
	char path[PATH_MAX], line[1024];
	FILE *f;

	*n = 0;
	snprintf(path, sizeof(path), "%s/%d", dir && dir[0] ? dir : "/run/systemd/netif/links", ifindex);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL;

		if (strncmp(line, "DNS=", 4))
			continue;
		for (char *w = strtok_r(line + 4, " \n", &save); w && *n < max; w = strtok_r(NULL, " \n", &save)) {
			w[strcspn(w, "%#")] = 0;
			if (addr_parse(AF_UNSPEC, w, &v[*n]) == 0)
				(*n)++;
		}
	}
	fclose(f);
	return 0;
}

struct line {
	char s[INET6_ADDRSTRLEN * 2 + IFNAMSIZ + 16];
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->s, ((const struct line *)b)->s);
}

/* The uplink address of family on ifname the queries leave from: the
 * smallest, so the choice is the same at every pass. */
static bool source_of(const struct engine *e, const char *ifname, int family, char *buf, size_t len)
{
	bool found = false;

	for (size_t i = 0; i < e->nup; i++) {
		const struct uplink *u = e->up[i];
		char s[INET6_ADDRSTRLEN];

		if (!u->table || u->foreign || u->key.family != family || strcmp(u->key.ifname, ifname))
			continue;
		addr_str(&u->key.addr, s, sizeof(s));
		if (!found || strcmp(s, buf) < 0)
			snprintf(buf, len, "%s", s);
		found = true;
	}
	return found;
}

static int add_line(struct line **v, size_t *n, size_t *cap, const char *ifname,
		    const struct inet_addr *dns, const char *src)
{
	char s[INET6_ADDRSTRLEN];

	/* rtalloc-track has the uplink offline: its servers would only
	 * make the resolver wait. */
	if (health_offline(ifname, dns->family))
		return 0;
	if (kobj_grow((void **)v, cap, *n, sizeof(**v)) < 0)
		return -ENOMEM;
	snprintf((*v)[(*n)++].s, sizeof((*v)[0].s), "server=%s@%s@%s", addr_str(dns, s, sizeof(s)), ifname, src);
	return 0;
}

char *agentdns_text(const struct agentdns *d, const struct engine *e, const struct hintwatch *hw,
		    uint64_t now_ms)
{
	struct line *v = NULL;
	size_t n = 0, cap = 0, len = 1, off = 0;
	char *text;

	for (size_t i = 0; i < e->nup; i++) {
		const struct uplink *u = e->up[i];
		const struct hint *h;
		char src[INET6_ADDRSTRLEN];
		bool first = true;

		/* Each interface once: at its first uplink. */
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(e->up[j]->key.ifname, u->key.ifname) != 0;
		if (!first)
			continue;
		h = hintwatch_find(hw, u->key.ifname);
		for (size_t k = 0; h && k < h->ndns; k++)
			if (source_of(e, u->key.ifname, h->dns[k].family, src, sizeof(src)) &&
			    add_line(&v, &n, &cap, u->key.ifname, &h->dns[k], src) < 0)
				goto fail;
		{
			struct inet_addr nd[16];
			size_t nn = 0;

			networkd_dns(u->ifindex, nd, sizeof(nd) / sizeof(nd[0]), &nn);
			for (size_t k = 0; k < nn; k++)
				if (source_of(e, u->key.ifname, nd[k].family, src, sizeof(src)) &&
				    add_line(&v, &n, &cap, u->key.ifname, &nd[k], src) < 0)
					goto fail;
		}
		for (size_t k = 0; k < d->nra; k++)
			if (d->ra[k].ifindex == u->ifindex && d->ra[k].until_ms > now_ms &&
			    source_of(e, u->key.ifname, AF_INET6, src, sizeof(src)) &&
			    add_line(&v, &n, &cap, u->key.ifname, &d->ra[k].addr, src) < 0)
				goto fail;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_line);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i].s) + 1;
	text = malloc(len);
	if (!text)
		goto fail;
	text[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (!i || strcmp(v[i].s, v[i - 1].s))
			off += (size_t)snprintf(text + off, len - off, "%s\n", v[i].s);
	free(v);
	return text;
fail:
	free(v);
	return NULL;
}

static int write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* SIGHUP to the dnsmasq of the pidfile: through a pidfd taken before the
 * checks, so the pid cannot be reused between them and the signal; the
 * process must be a dnsmasq (/proc/PID/exe) of the pidfile's owner. */
static void signal_dnsmasq(const char *pidfile)
{
	char buf[32], exe[PATH_MAX], proc[64];
	struct stat pst, st;
	ssize_t n;
	long pid;
	int fd, pfd;

	fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;	/* no dnsmasq running: nothing to tell */
	n = fstat(fd, &pst) < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid > INT_MAX)
		return;
	pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0)
		return;
	snprintf(proc, sizeof(proc), "/proc/%ld/exe", pid);
	n = readlink(proc, exe, sizeof(exe) - 1);
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	if (n > 0 && stat(proc, &st) == 0) {
		const char *base;

		exe[n] = 0;
		base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
		if (strcmp(base, "dnsmasq") || (st.st_uid != pst.st_uid && st.st_uid != 0))
			log_msg(LOG_WARNING, "%s: pid %ld is not a dnsmasq of the pidfile's owner: not signalled",
				pidfile, pid);
		else if (syscall(SYS_pidfd_send_signal, pfd, SIGHUP, NULL, 0) < 0)
			log_msg(LOG_WARNING, "SIGHUP to dnsmasq %ld: %s", pid, strerror(errno));
	}
	close(pfd);
}

int agentdns_update(struct agentdns *d, const struct engine *e, const struct hintwatch *hw,
		    uint64_t now_ms)
{
	char *text;
	int ret;

	if (!d->path || !d->path[0])
		return 0;
	text = agentdns_text(d, e, hw, now_ms);
	if (!text)
		return -ENOMEM;
	if (d->written && !strcmp(d->written, text)) {
		free(text);
		return 0;
	}
	ret = write_atomic(d->path, text);
	if (ret < 0) {
		free(text);
		return ret;
	}
	free(d->written);
	d->written = text;
	if (d->pidfile && d->pidfile[0])
		signal_dnsmasq(d->pidfile);
	return 1;
}
