/* agenthint: the hint files of rtalloc-agent (agenthint.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "agenthint.h"
#include "mark.h"
#include "log.h"

int hint_dir(const char *socket_path, char *buf, size_t len)
{
	int n = snprintf(buf, len, HINT_ROOT "/%s", socket_path);
	char *p;

	if (n < 0 || (size_t)n >= len || !*socket_path)
		return -ENAMETOOLONG;
	for (p = buf + sizeof(HINT_ROOT); *p; p++)
		if (*p == '/')
			*p = '_';
	return 0;
}

static bool same(const struct inet_addr *a, const struct inet_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, addr_len(a->family));
}

/* A unicast address of either family: never 0.0.0.0 or :: (what tools
 * write for "no gateway"), nor multicast or broadcast. */
static int unicast_parse(const char *s, struct inet_addr *a)
{
	static const uint8_t zero[16];

	if (addr_parse(AF_UNSPEC, s, a) < 0)
		return -EINVAL;
	if (!memcmp(a->bytes, zero, addr_len(a->family)))
		return -EINVAL;
	if (a->family == AF_INET && (a->bytes[0] >= 224))
		return -EINVAL;
	if (a->family == AF_INET6 && a->bytes[0] == 0xff)
		return -EINVAL;
	return 0;
}

int hint_add_gateway(struct hint *h, const char *s, char *err, size_t errlen)
{
	if (h->ngw == HINT_GW_MAX)
		return errbuf_fail(err, errlen, "--gateway: more than %d", HINT_GW_MAX);
	if (unicast_parse(s, &h->gw[h->ngw]) < 0)
		return errbuf_fail(err, errlen, "--gateway: not a unicast address: `%s'", s);
	for (size_t i = 0; i < h->ngw; i++)
		if (same(&h->gw[i], &h->gw[h->ngw]))
			return 0;	/* NetworkManager's IP4_GATEWAY is in DHCP4_ROUTERS */
	h->ngw++;
	return 0;
}

int hint_add_dns(struct hint *h, const char *s, char *err, size_t errlen)
{
	if (h->ndns == HINT_DNS_MAX)
		return errbuf_fail(err, errlen, "--dns: more than %d", HINT_DNS_MAX);
	if (unicast_parse(s, &h->dns[h->ndns]) < 0)
		return errbuf_fail(err, errlen, "--dns: not a unicast address: `%s'", s);
	for (size_t i = 0; i < h->ndns; i++)
		if (same(&h->dns[i], &h->dns[h->ndns]))
			return 0;
	h->ndns++;
	return 0;
}

int hint_add_route(struct hint *h, const char *s, char *err, size_t errlen)
{
	char e4[160];

	if (h->nroutes == ROUTEARG_MAX)
		return errbuf_fail(err, errlen, "--route: more than %d", ROUTEARG_MAX);
	if (route_arg_parse(AF_INET, s, &h->routes[h->nroutes], e4, sizeof(e4)) < 0 &&
	    route_arg_parse(AF_INET6, s, &h->routes[h->nroutes], err, errlen) < 0) {
		if (!strchr(s, ':'))
			snprintf(err, errlen, "%s", e4);
		return -EINVAL;
	}
	h->nroutes++;
	return 0;
}

int hint_add_forward(struct hint *h, const char *s, char *err, size_t errlen)
{
	if (!ifname_valid(s))
		return errbuf_fail(err, errlen, "--forward-iif: not an interface name: `%.40s'", s);
	for (size_t i = 0; i < h->nforward; i++)
		if (!strcmp(h->forward[i], s))
			return 0;
	if (h->nforward == HINT_FORWARD_MAX)
		return errbuf_fail(err, errlen, "--forward-iif: more than %d", HINT_FORWARD_MAX);
	snprintf(h->forward[h->nforward++], IFNAMSIZ, "%s", s);
	return 0;
}

int hint_set_fwmark(struct hint *h, const char *s, char *err, size_t errlen)
{
	const char *why = NULL;

	if (mark_mask_parse(s, &h->fwmark, &h->fwmask, &why) < 0)
		return errbuf_fail(err, errlen, "--fwmark: %s: `%.40s'", why ? why : "not MARK[/MASK]", s);
	h->has_fwmark = true;
	return 0;
}

int hint_format(const struct hint *h, char *buf, size_t len)
{
	char s[ROUTEARG_LEN];
	size_t off = 0;
	int n;

#define PUT(...) do { \
		n = snprintf(buf + off, len - off, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= len - off) \
			return -ENOSPC; \
		off += (size_t)n; \
	} while (0)
	buf[0] = 0;
	for (size_t i = 0; i < h->ngw; i++)
		PUT("gateway %s\n", addr_str(&h->gw[i], s, sizeof(s)));
	for (size_t i = 0; i < h->nroutes; i++)
		PUT("route %s\n", route_arg_str(&h->routes[i], s, sizeof(s)));
	for (size_t i = 0; i < h->ndns; i++)
		PUT("dns %s\n", addr_str(&h->dns[i], s, sizeof(s)));
	if (h->primary)
		PUT("primary\n");
	if (h->out_of_main == HINT_FAM_ALL)
		PUT("out-of-main\n");
	else if (h->out_of_main)
		PUT("out-of-main %c\n", h->out_of_main == HINT_FAM_4 ? '4' : '6');
	if (h->families & HINT_FAM_4)
		PUT("family 4\n");
	if (h->families & HINT_FAM_6)
		PUT("family 6\n");
	if (h->has_fwmark)
		PUT("fwmark 0x%x/0x%x\n", (unsigned)h->fwmark, (unsigned)h->fwmask);
	for (size_t i = 0; i < h->nforward; i++)
		PUT("forward-iif %s\n", h->forward[i]);
#undef PUT
	return 0;
}

int hint_parse(struct hint *h, const char *ifname, const char *text, char *err, size_t errlen)
{
	char line[256];
	unsigned no = 0;

	memset(h, 0, sizeof(*h));
	if (!ifname_valid(ifname))
		return errbuf_fail(err, errlen, "not an interface name: `%s'", ifname);
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		char e[160];
		int ret = 0;

		no++;
		if (n >= sizeof(line))
			return errbuf_fail(err, errlen, "line %u: too long", no);
		memcpy(line, text, n);
		line[n] = 0;
		text += n + (nl ? 1 : 0);
		if (!line[0])
			continue;
		if (!strncmp(line, "gateway ", 8))
			ret = hint_add_gateway(h, line + 8, e, sizeof(e));
		else if (!strncmp(line, "route ", 6))
			ret = hint_add_route(h, line + 6, e, sizeof(e));
		else if (!strncmp(line, "dns ", 4))
			ret = hint_add_dns(h, line + 4, e, sizeof(e));
		else if (!strcmp(line, "primary"))
			h->primary = true;
		else if (!strcmp(line, "out-of-main"))
			h->out_of_main = HINT_FAM_ALL;
		else if (!strcmp(line, "out-of-main 4"))
			h->out_of_main |= HINT_FAM_4;
		else if (!strcmp(line, "out-of-main 6"))
			h->out_of_main |= HINT_FAM_6;
		else if (!strcmp(line, "family 4"))
			h->families |= HINT_FAM_4;
		else if (!strcmp(line, "family 6"))
			h->families |= HINT_FAM_6;
		else if (!strncmp(line, "fwmark ", 7))
			ret = hint_set_fwmark(h, line + 7, e, sizeof(e));
		else if (!strncmp(line, "forward-iif ", 12))
			ret = hint_add_forward(h, line + 12, e, sizeof(e));
		else
			ret = errbuf_fail(e, sizeof(e), "unknown item `%.40s'", line);
		if (ret < 0)
			return errbuf_fail(err, errlen, "line %u: %s", no, e);
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char p[256];

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hint_dir_make(const char *dir)
{
	struct stat st;
	int ret = mkdir_p(dir);

	if (ret < 0)
		return ret;
	/* The directory is root's alone: a hint is not anyone's to forge. */
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int hint_write(const char *dir, const struct hint *h)
{
	char text[HINT_FILE_MAX], tmp[320], path[320];
	size_t len;
	int fd, ret;

	ret = hint_format(h, text, sizeof(text));
	if (ret < 0)
		return ret;
	ret = hint_dir_make(dir);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, h->ifname);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", dir, h->ifname, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	len = strlen(text);
	ret = write(fd, text, len) == (ssize_t)len ? 0 : (errno ? -errno : -EIO);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

unsigned hint_fam(int family)
{
	return family == AF_INET ? HINT_FAM_4 : family == AF_INET6 ? HINT_FAM_6 : 0;
}

unsigned hint_out_of_main(const struct hint *h)
{
	return h && !h->primary ? h->out_of_main & HINT_FAM_ALL : 0;
}

unsigned hint_merge(struct hint *old, const struct hint *h, bool down)
{
	unsigned f = h->families & HINT_FAM_ALL;
	size_t n = 0;

	/* A whole-uplink hint holds both families' parts. */
	if (!old->families)
		old->families = HINT_FAM_ALL;
	for (size_t i = 0; i < old->ngw; i++)
		if (!(hint_fam(old->gw[i].family) & f))
			old->gw[n++] = old->gw[i];
	old->ngw = n;
	n = 0;
	for (size_t i = 0; i < old->nroutes; i++)
		if (!(hint_fam(old->routes[i].dst.family) & f))
			old->routes[n++] = old->routes[i];
	old->nroutes = n;
	n = 0;
	for (size_t i = 0; i < old->ndns; i++)
		if (!(hint_fam(old->dns[i].family) & f))
			old->dns[n++] = old->dns[i];
	old->ndns = n;
	old->out_of_main &= (uint8_t)~f;
	if (down) {
		old->families &= (uint8_t)~f;
		return old->families;
	}
	old->families |= (uint8_t)f;
	for (size_t i = 0; i < h->ngw && old->ngw < HINT_GW_MAX; i++)
		old->gw[old->ngw++] = h->gw[i];
	for (size_t i = 0; i < h->nroutes && old->nroutes < ROUTEARG_MAX; i++)
		old->routes[old->nroutes++] = h->routes[i];
	for (size_t i = 0; i < h->ndns && old->ndns < HINT_DNS_MAX; i++)
		old->dns[old->ndns++] = h->dns[i];
	if (h->out_of_main)
		old->out_of_main |= (uint8_t)f;
	old->primary = h->primary;
	old->has_fwmark = h->has_fwmark;
	old->fwmark = h->fwmark;
	old->fwmask = h->fwmask;
	memcpy(old->forward, h->forward, sizeof(old->forward));
	old->nforward = h->nforward;
	return old->families;
}

int hint_remove(const char *dir, const char *ifname)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", dir, ifname);
	return unlink(path) < 0 ? -errno : 0;
}

static int read_file(int dfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n == len - 1)
		return -EFBIG;
	buf[n] = 0;
	return 0;
}

int hint_read(const char *dir, const char *ifname, struct hint *h)
{
	char text[HINT_FILE_MAX], err[200];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (dfd < 0)
		return -errno;
	ret = read_file(dfd, ifname, text, sizeof(text));
	close(dfd);
	if (ret < 0)
		return ret;
	return hint_parse(h, ifname, text, err, sizeof(err));
}

int hint_load_all(const char *dir, struct hint **v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char text[HINT_FILE_MAX], err[200];
		struct hint h, *p;
		int ret;

		if (de->d_name[0] == '.')
			continue;	/* ., .., and temporary files */
		text[0] = 0;
		ret = read_file(dirfd(d), de->d_name, text, sizeof(text));
		if (ret == 0)
			ret = hint_parse(&h, de->d_name, text, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		if (ret < 0) {
			log_msg(LOG_WARNING, "hint %s/%s: %s: ignored", dir, de->d_name, err);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			p = realloc(*v, cap * sizeof(*p));
			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			*v = p;
		}
		(*v)[(*n)++] = h;
	}
	closedir(d);
	return 0;
}
