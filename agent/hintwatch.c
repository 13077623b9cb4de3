/* hintwatch: the agent's hint directory, watched (hintwatch.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hintwatch.h"
#include "log.h"

static void describe(const struct hint *h, char *buf, size_t len)
{
	char text[HINT_FILE_MAX];

	if (hint_format(h, text, sizeof(text)) < 0)
		text[0] = 0;
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ',' : 0;
	snprintf(buf, len, "%s", text[0] ? text : "(nothing but the interface)");
}

static bool hint_same(const struct hint *a, const struct hint *b)
{
	char x[HINT_FILE_MAX], y[HINT_FILE_MAX];

	return hint_format(a, x, sizeof(x)) == 0 && hint_format(b, y, sizeof(y)) == 0 &&
	       !strcmp(a->ifname, b->ifname) && !strcmp(x, y);
}

static const struct hint *find_in(const struct hint *v, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].ifname, ifname))
			return &v[i];
	return NULL;
}

/* Reads every hint again; logs what changed; 1 when anything did. */
static int reload(struct hintwatch *w)
{
	struct hint *v;
	size_t n;
	char d[512];
	int ret = hint_load_all(w->dir, &v, &n), changed = 0;

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct hint *old = find_in(w->v, w->n, v[i].ifname);

		if (old && hint_same(old, &v[i]))
			continue;
		describe(&v[i], d, sizeof(d));
		log_msg(LOG_INFO, "hint: %s: %s", v[i].ifname, d);
		changed = 1;
	}
	for (size_t i = 0; i < w->n; i++)
		if (!find_in(v, n, w->v[i].ifname)) {
			log_msg(LOG_INFO, "hint: %s: down (its hint was withdrawn)", w->v[i].ifname);
			changed = 1;
		}
	free(w->v);
	w->v = v;
	w->n = n;
	return changed;
}

int hintwatch_open(struct hintwatch *w, const char *socket_path)
{
	struct hint none = { .ifname = "lo" };
	struct stat st;
	int ret;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	ret = hint_dir(socket_path, w->dir, sizeof(w->dir));
	if (ret < 0)
		return ret;
	/* hint_write makes the directory (root's, 0700) and checks it; a
	 * lone probe file says it can. */
	snprintf(none.ifname, sizeof(none.ifname), ".probe");
	ret = hint_write(w->dir, &none);
	if (ret == 0)
		hint_remove(w->dir, none.ifname);
	if (ret < 0 && (lstat(w->dir, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)))
		return ret;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (inotify_add_watch(w->fd, w->dir, IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE |
				     IN_DELETE_SELF | IN_ONLYDIR) < 0) {
		ret = -errno;
		hintwatch_close(w);
		return ret;
	}
	ret = reload(w);
	return ret < 0 ? ret : 0;
}

void hintwatch_close(struct hintwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

int hintwatch_read(struct hintwatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	w->touched = false;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			/* Dot files are temp files and the agent's own
			 * HINT_APPLIED: no hint changed. */
			if (!ev->len || ev->name[0] != '.')
				w->touched = true;
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
	if (n < 0 && errno != EAGAIN)
		return -errno;
	return w->touched ? reload(w) : 0;
}

void hintwatch_ack(const struct hintwatch *w)
{
	char path[320];
	struct timespec now[2];
	int fd;

	if (!w->touched)
		return;
	snprintf(path, sizeof(path), "%s/%s", w->dir, HINT_APPLIED);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	/* The real clock's nanoseconds, not the file system's coarse one:
	 * `rtalloc hint` compares them with the time it wrote its hint. */
	clock_gettime(CLOCK_REALTIME, &now[0]);
	now[1] = now[0];
	futimens(fd, now);
	close(fd);
}

const struct hint *hintwatch_find(const struct hintwatch *w, const char *ifname)
{
	return find_in(w->v, w->n, ifname);
}

static int add_route(struct kroute_set *out, const struct uplink *u, const struct inet_addr *dst,
		     uint8_t dst_len, const struct inet_addr *gw, uint32_t pref)
{
	struct kroute r;

	memset(&r, 0, sizeof(r));
	r.family = (uint8_t)u->key.family;
	if (dst)
		r.dst = *dst;
	r.dst.family = u->key.family;
	r.dst_len = dst_len;
	if (gw)
		r.gw = *gw;
	r.oif = u->ifindex;
	r.type = RTN_UNICAST;
	r.scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	/* The kernel's metric for an IPv6 route given none: the mirror
	 * then sees the route it asked for. */
	r.metric = (r.family == AF_INET6 ? 1024 : 0) + pref;
	return kroute_set_add(out, &r);
}

int hintwatch_routes(const struct hint *h, const struct neighbours *nb, const struct uplink *u,
		     bool main_default, struct kroute_set *out)
{
	const struct inet_addr *gw = NULL;
	uint32_t npref = 0;

	for (size_t i = 0; h && i < h->nroutes; i++) {
		const struct route_arg *r = &h->routes[i];

		if (r->dst.family == u->key.family &&
		    add_route(out, u, &r->dst, r->dst_len, r->has_gw ? &r->gw : NULL, 0) < 0)
			return -ENOMEM;
	}
	if (main_default)
		return 0;
	/* Every gateway of the family, the first preferred (metric +0, +1,
	 * ...), as a DHCP server's routers option lists them. */
	for (size_t i = 0; h && i < h->ngw; i++) {
		if (h->gw[i].family != u->key.family)
			continue;
		if (add_route(out, u, NULL, 0, &h->gw[i], npref++) < 0)
			return -ENOMEM;
	}
	if (!npref && u->key.family == AF_INET6 && nb)
		gw = neigh_router(nb, u->ifindex);
	if (gw && add_route(out, u, NULL, 0, gw, 0) < 0)
		return -ENOMEM;
	return 0;
}
