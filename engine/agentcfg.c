/* agentcfg: the agent's configuration keys (man/rtalloc-agent.8). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agentcfg.h"
#include "jsonconf.h"
#include "mark.h"
#include "proto.h"

void agentcfg_defaults(struct agentcfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", PROTO_DEFAULT_SOCKET);
	c->inet = c->inet6 = true;
}

bool agentcfg_glob_valid(const char *s)
{
	size_t n = strlen(s);
	bool wild = false;

	if (n == 0 || n >= AGENTCFG_PATTERN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch >= 0x7f || ch == '/' || ch == ':' || ch == '\\')
			return false;
		if (ch == '*' || ch == '?')
			wild = true;
		if (ch == '[') {
			size_t j = i + 1;

			if (j < n && (s[j] == '!' || s[j] == '^'))
				j++;
			if (j < n && s[j] == ']')
				j++;	/* a literal ] first */
			while (j < n && s[j] != ']')
				j++;
			if (j >= n || j == i + 1)
				return false;
			wild = true;
			i = j;
		} else if (ch == ']') {
			return false;
		}
	}
	return wild || ifname_valid(s);
}

static int get_string(struct json_object *v, const char *key, char *out, size_t size,
		      char *err, size_t errlen)
{
	return jsonconf_string(v, key, out, size, false, 64, err, errlen);
}

static int get_globs(struct json_object *v, const char *key, char (*out)[AGENTCFG_PATTERN_MAX],
		     size_t *n, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "%s: must be an array of interface names or globs, got %.64s", key,
			   json_object_to_json_string(v));
	len = json_object_array_length(v);
	if (len > AGENTCFG_PATTERNS_MAX)
		return jsonconf_bad(err, errlen, "%s: at most %d entries, got %zu", key, AGENTCFG_PATTERNS_MAX, len);
	for (size_t i = 0; i < len; i++) {
		char name[64];
		int ret;

		snprintf(name, sizeof(name), "%s[%zu]", key, i);
		ret = get_string(json_object_array_get_idx(v, i), name, out[i], AGENTCFG_PATTERN_MAX, err, errlen);
		if (ret < 0)
			return ret;
		if (!agentcfg_glob_valid(out[i]))
			return jsonconf_bad(err, errlen, "%s: bad glob or interface name: `%s'", name, out[i]);
	}
	*n = len;
	return 0;
}

static int get_families(struct json_object *v, struct agentcfg *c, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "families: must be an array like [\"inet\", \"inet6\"], got %.64s",
			   json_object_to_json_string(v));
	len = json_object_array_length(v);
	c->inet = c->inet6 = false;
	for (size_t i = 0; i < len; i++) {
		struct json_object *f = json_object_array_get_idx(v, i);
		const char *s = json_object_is_type(f, json_type_string) ? json_object_get_string(f) : NULL;

		if (s && !strcmp(s, "inet"))
			c->inet = true;
		else if (s && !strcmp(s, "inet6"))
			c->inet6 = true;
		else
			return jsonconf_bad(err, errlen, "families[%zu]: must be \"inet\" or \"inet6\", got %.64s", i,
				   json_object_to_json_string(f));
	}
	if (!c->inet && !c->inet6)
		return jsonconf_bad(err, errlen, "families: empty: no address would be managed");
	return 0;
}

static int get_fwmarks(struct json_object *v, struct agentcfg *c, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return jsonconf_bad(err, errlen, "fwmark: must be an object like {\"wan0\": \"0x100/0xff00\"}, got %.64s",
			   json_object_to_json_string(v));
	json_object_object_foreach(v, key, val) {
		struct agentcfg_mark *m;
		const char *why = NULL;
		char mark[64];
		char name[96];
		int ret;

		snprintf(name, sizeof(name), "fwmark.%.64s", key);
		if (c->nfwmark == AGENTCFG_PATTERNS_MAX)
			return jsonconf_bad(err, errlen, "fwmark: at most %d entries", AGENTCFG_PATTERNS_MAX);
		m = &c->fwmark[c->nfwmark];
		if (strlen(key) >= sizeof(m->pattern) || !agentcfg_glob_valid(key))
			return jsonconf_bad(err, errlen, "%s: bad glob or interface name: `%.64s'", name, key);
		snprintf(m->pattern, sizeof(m->pattern), "%s", key);
		ret = get_string(val, name, mark, sizeof(mark), err, errlen);
		if (ret < 0)
			return ret;
		if (mark_mask_parse(mark, &m->mark, &m->mask, &why) < 0)
			return jsonconf_bad(err, errlen, "%s: %s: `%s'", name, why ? why : "not MARK[/MASK]", mark);
		c->nfwmark++;
	}
	return 0;
}

static int get_forward(struct json_object *v, struct agentcfg *c, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "forward_from: must be an array of interface names, got %.64s",
			   json_object_to_json_string(v));
	len = json_object_array_length(v);
	if (len > ENGINE_FORWARD_MAX)
		return jsonconf_bad(err, errlen, "forward_from: at most %d interfaces, got %zu", ENGINE_FORWARD_MAX, len);
	for (size_t i = 0; i < len; i++) {
		char name[64];
		int ret;

		snprintf(name, sizeof(name), "forward_from[%zu]", i);
		ret = get_string(json_object_array_get_idx(v, i), name, c->forward_from[i], IFNAMSIZ, err, errlen);
		if (ret < 0)
			return ret;
		if (!ifname_valid(c->forward_from[i]))
			return jsonconf_bad(err, errlen, "%s: not an interface name: `%s'", name, c->forward_from[i]);
	}
	c->nforward = len;
	return 0;
}

static int get_gids(struct json_object *v, struct agentcfg *c, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "exec_gids: must be an array of group ids, got %.64s",
				    json_object_to_json_string(v));
	len = json_object_array_length(v);
	if (len > AGENTCFG_PATTERNS_MAX)
		return jsonconf_bad(err, errlen, "exec_gids: at most %d entries, got %zu", AGENTCFG_PATTERNS_MAX, len);
	for (size_t i = 0; i < len; i++) {
		char name[64];
		int ret;

		snprintf(name, sizeof(name), "exec_gids[%zu]", i);
		/* (gid_t)-1 means "no change" to the kernel: never a real id */
		ret = jsonconf_u32(json_object_array_get_idx(v, i), name, 0, UINT32_MAX - 1, 0,
				   &c->exec_gids[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	c->nexec_gids = len;
	return 0;
}

/* An absolute path whose name ends in .prom (node_exporter's textfile
 * collector reads only those); "" turns the metrics off. */
static int get_textfile(struct json_object *v, struct agentcfg *c, char *err, size_t errlen)
{
	const char *key = "metrics_textfile";
	size_t len;
	int ret = get_string(v, key, c->metrics_textfile, sizeof(c->metrics_textfile), err, errlen);

	if (ret < 0 || !c->metrics_textfile[0])
		return ret;
	len = strlen(c->metrics_textfile);
	if (c->metrics_textfile[0] != '/')
		return jsonconf_bad(err, errlen, "%s: must be an absolute path, got `%s'", key, c->metrics_textfile);
	if (len < 6 || strcmp(c->metrics_textfile + len - 5, ".prom") || c->metrics_textfile[len - 6] == '/')
		return jsonconf_bad(err, errlen, "%s: must name a *.prom file (node_exporter reads only those), got `%s'",
				    key, c->metrics_textfile);
	return 0;
}

int agentcfg_parse(struct agentcfg *c, const char *text, size_t len, char *err, size_t errlen)
{
	struct json_object *root = NULL;
	bool have_interfaces = false;
	int ret;

	ret = jsonconf_parse(text, len, true, &root, err, errlen);
	if (ret < 0)
		goto cleanup;
	json_object_object_foreach(root, key, v) {
		if (!strcmp(key, "socket_path")) {
			ret = get_string(v, key, c->socket_path, sizeof(c->socket_path) - 1, err, errlen);
		} else if (!strcmp(key, "interfaces")) {
			ret = get_globs(v, key, c->interfaces, &c->ninterfaces, err, errlen);
			have_interfaces = true;
		} else if (!strcmp(key, "exclude")) {
			ret = get_globs(v, key, c->exclude, &c->nexclude, err, errlen);
		} else if (!strcmp(key, "families")) {
			ret = get_families(v, c, err, errlen);
		} else if (!strcmp(key, "fwmark")) {
			ret = get_fwmarks(v, c, err, errlen);
		} else if (!strcmp(key, "forward_from")) {
			ret = get_forward(v, c, err, errlen);
		} else if (!strcmp(key, "dns_servers_file") || !strcmp(key, "dnsmasq_pidfile")) {
			char *dst = !strcmp(key, "dns_servers_file") ? c->dns_servers_file : c->dnsmasq_pidfile;

			ret = get_string(v, key, dst, sizeof(c->dns_servers_file) - 1, err, errlen);
			if (ret == 0 && dst[0] && dst[0] != '/')
				ret = jsonconf_bad(err, errlen, "%s: not an absolute path: `%s'", key, dst);
		} else if (!strcmp(key, "exec_gids")) {
			ret = get_gids(v, c, err, errlen);
		} else if (!strcmp(key, "mptcp")) {
			ret = mptcp_cfg_parse(v, &c->mptcp, err, errlen);
		} else if (!strcmp(key, "bindings")) {
			ret = bindings_parse(v, c->bindings, &c->nbindings, err, errlen);
		} else if (!strcmp(key, "metrics_textfile")) {
			ret = get_textfile(v, c, err, errlen);
		} else {
			ret = jsonconf_unknown(key, err, errlen);
		}
		if (ret < 0)
			goto cleanup;
	}
	/* Empty: the uplinks are those hooks announce (rtalloc hint). */
	if (!have_interfaces)
		ret = jsonconf_bad(err, errlen, "interfaces: missing: name the uplinks to manage, e.g. [\"wan*\"], or [] for those hooks announce");
cleanup:
	json_object_put(root);
	return ret;
}

int agentcfg_load(struct agentcfg *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = jsonconf_load(path, (1 << 20) - 1, &text, &len, err, errlen);
	if (ret == -EIO)
		ret = -EINVAL;	/* what agentcfg_load returned for a read error */
	if (ret < 0)
		goto cleanup;
	ret = agentcfg_parse(c, text, len, err, errlen);
cleanup:
	free(text);
	return ret;
}

static bool manages(const struct agentcfg *c, int family, const char *ifname, bool in,
		    struct uplink_policy *pol)
{
	if ((family == AF_INET && !c->inet) || (family == AF_INET6 && !c->inet6))
		return false;
	for (size_t i = 0; i < c->ninterfaces && !in; i++)
		in = fnmatch(c->interfaces[i], ifname, 0) == 0;
	for (size_t i = 0; i < c->nexclude && in; i++)
		in = fnmatch(c->exclude[i], ifname, 0) != 0;
	if (!in)
		return false;
	memset(pol, 0, sizeof(*pol));
	for (size_t i = 0; i < c->nfwmark; i++) {
		if (fnmatch(c->fwmark[i].pattern, ifname, 0) == 0) {
			pol->has_fwmark = true;
			pol->fwmark = c->fwmark[i].mark;
			pol->fwmask = c->fwmark[i].mask;
			break;
		}
	}
	return true;
}

int agentcfg_fwmark_check(const struct agentcfg *c, uint32_t mark_mask, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nfwmark; i++)
		if (c->fwmark[i].mark & c->fwmark[i].mask & mark_mask) {
			snprintf(err, errlen,
				 "fwmark.%s: 0x%x/0x%x overlaps rtallocd's mark_mask 0x%x (the marks it leases"
				 " to exec users and bindings): choose a mark outside it",
				 c->fwmark[i].pattern, c->fwmark[i].mark, c->fwmark[i].mask, mark_mask);
			return -EEXIST;
		}
	return 0;
}

bool agentcfg_manages(const struct agentcfg *c, int family, const char *ifname,
		      struct uplink_policy *pol)
{
	return manages(c, family, ifname, false, pol);
}

bool agentcfg_manages_hinted(const struct agentcfg *c, int family, const char *ifname,
			     struct uplink_policy *pol)
{
	return manages(c, family, ifname, true, pol);
}
