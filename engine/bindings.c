/* bindings: agent.json's "bindings" (bindings.h, man/rtalloc-agent.8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bindings.h"
#include "jsonconf.h"

/* A cgroup path as systemd names them (bindings.h). */
bool binding_cgroup_valid(const char *s)
{
	const char *p = s;

	if (!*s || *s == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
				return false;
		p += n;
		if (*p == '/' && !*++p)
			return false;
	}
	return true;
}

/* "172.17.0.0/16", "2001:db8::/64": 0 (host bits must be 0) or -EINVAL. */
static int prefix_parse(const char *s, struct inet_addr *a, uint8_t *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct inet_addr net;
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (addr_parse(AF_UNSPEC, buf, a) < 0 || netmask_parse(a->family, slash + 1, len) < 0)
		return -EINVAL;
	net = *a;
	addr_mask(&net, *len);
	return memcmp(net.bytes, a->bytes, addr_len(a->family)) ? -EINVAL : 0;
}

static int one(struct json_object *o, const char *name, struct binding *b, char *err, size_t errlen)
{
	int what = 0, ret = 0;
	char key[96], s[BINDING_CGROUP_MAX];

	if (!json_object_is_type(o, json_type_object))
		return jsonconf_bad(err, errlen, "%s: must be an object like {\"uplink\": \"lte0\", "
				    "\"cgroup\": \"system.slice/x.service\"}", name);
	memset(b, 0, sizeof(*b));
	json_object_object_foreach(o, k, v) {
		snprintf(key, sizeof(key), "%s.%.32s", name, k);
		if (!strcmp(k, "uplink")) {
			ret = jsonconf_string(v, key, b->uplink, sizeof(b->uplink), false, 64, err, errlen);
			if (ret == 0 && !ifname_valid(b->uplink))
				ret = jsonconf_bad(err, errlen, "%s: not an interface name: `%s'", key, b->uplink);
		} else if (!strcmp(k, "policy")) {
			ret = jsonconf_string(v, key, s, sizeof(s), false, 64, err, errlen);
			if (ret == 0 && strcmp(s, "strict") && strcmp(s, "default"))
				ret = jsonconf_bad(err, errlen, "%s: must be \"default\" or \"strict\", got `%.32s'", key, s);
			b->strict = ret == 0 && !strcmp(s, "strict");
		} else if (!strcmp(k, "cgroup")) {
			b->kind = BINDING_CGROUP;
			what++;
			ret = jsonconf_string(v, key, b->cgroup, sizeof(b->cgroup), false, 64, err, errlen);
			if (ret == 0 && !binding_cgroup_valid(b->cgroup))
				ret = jsonconf_bad(err, errlen, "%s: not a cgroup path below the root like "
						   "\"system.slice/x.service\": `%.64s'", key, b->cgroup);
		} else if (!strcmp(k, "from")) {
			b->kind = BINDING_FROM;
			what++;
			ret = jsonconf_string(v, key, s, sizeof(s), false, 64, err, errlen);
			if (ret == 0 && prefix_parse(s, &b->from, &b->from_len) < 0)
				ret = jsonconf_bad(err, errlen, "%s: not an address prefix like 172.17.0.0/16: `%.64s'",
						   key, s);
		} else if (!strcmp(k, "iif")) {
			b->kind = BINDING_IIF;
			what++;
			ret = jsonconf_string(v, key, b->iif, sizeof(b->iif), false, 64, err, errlen);
			if (ret == 0 && !ifname_valid(b->iif))
				ret = jsonconf_bad(err, errlen, "%s: not an interface name: `%s'", key, b->iif);
		} else {
			ret = jsonconf_unknown(key, err, errlen);
		}
		if (ret < 0)
			return ret;
	}
	if (!b->uplink[0])
		return jsonconf_bad(err, errlen, "%s.uplink: missing: name the uplink to bind to", name);
	if (what != 1)
		return jsonconf_bad(err, errlen, "%s: needs exactly one of \"cgroup\", \"from\", \"iif\"", name);
	return 0;
}

int bindings_parse(struct json_object *v, struct binding *out, size_t *n, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "bindings: must be an array of objects like "
				    "{\"uplink\": \"lte0\", \"cgroup\": \"system.slice/x.service\"}");
	len = json_object_array_length(v);
	if (len > BINDINGS_MAX)
		return jsonconf_bad(err, errlen, "bindings: at most %d entries, got %zu", BINDINGS_MAX, len);
	for (size_t i = 0; i < len; i++) {
		char name[32];
		int ret;

		snprintf(name, sizeof(name), "bindings[%zu]", i);
		ret = one(json_object_array_get_idx(v, i), name, &out[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	*n = len;
	return 0;
}
