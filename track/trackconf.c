/* trackconf: rtalloc-track's configuration file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonconf.h"
#include "trackconf.h"

static const char *js(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

const char *track_method_name(enum track_method m)
{
	return m == TRACK_TCP ? "tcp" : m == TRACK_HTTP ? "http" : "icmp";
}

/* Unset clear levels (negative, UINT32_MAX) until opts_finish. */
static void opts_defaults(struct track_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->q.clear_loss = -1;
	o->q.clear_rtt_us = UINT32_MAX;
	snprintf(o->http_path, sizeof(o->http_path), "/");
	o->http_expect = 204;
}

void trackconf_defaults(struct track_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "rtallocd");
	c->interval_ms = 5000;
	c->down = 3;
	c->up = 3;
	c->mode = TRACK_FAILOVER;
	c->table = TRACK_DEFAULT_TABLE;
	c->method = TRACK_ICMP;
	c->k = 1;
	opts_defaults(&c->o);
	snprintf(c->state_file, sizeof(c->state_file), "%s", TRACK_DEFAULT_STATE);
	snprintf(c->hook_dir, sizeof(c->hook_dir), "%s", TRACK_DEFAULT_HOOKS);
}

static int get_uint(struct json_object *v, const char *key, uint32_t min, uint32_t max,
		    uint32_t *out, char *err, size_t errlen)
{
	return jsonconf_u32(v, key, min, max, JSON_C_TO_STRING_PLAIN, out, err, errlen);
}

/* Seconds, fractions allowed, into ms. */
static int get_seconds(struct json_object *v, const char *key, double min, double max,
		       uint32_t *ms, char *err, size_t errlen)
{
	double x;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return jsonconf_bad(err, errlen, "%s: must be a number of seconds, got %s", key, js(v));
	x = json_object_get_double(v);
	if (!isfinite(x) || x < min || x > max)
		return jsonconf_bad(err, errlen, "%s: must be %g..%g seconds, got %s", key, min, max, js(v));
	*ms = (uint32_t)lround(x * 1000);
	return 0;
}

static int get_str(struct json_object *v, const char *key, char *out, size_t size,
		   char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_string))
		return jsonconf_bad(err, errlen, "%s: must be a string, got %s", key, js(v));
	if ((size_t)json_object_get_string_len(v) >= size || !json_object_get_string_len(v) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return jsonconf_bad(err, errlen, "%s: must be 1..%zu bytes without NUL, got %.64s", key, size - 1,
			   js(v));
	snprintf(out, size, "%s", json_object_get_string(v));
	return 0;
}

static int get_ifname(struct json_object *v, const char *key, char *out, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_string) || !ifname_valid(json_object_get_string(v)) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return jsonconf_bad(err, errlen, "%s: not an interface name: %.64s", key, js(v));
	snprintf(out, IFNAMSIZ, "%s", json_object_get_string(v));
	return 0;
}

static int get_method(struct json_object *v, const char *key, enum track_method *m,
		      char *err, size_t errlen)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	if (!strcmp(s, "icmp"))
		*m = TRACK_ICMP;
	else if (!strcmp(s, "tcp"))
		*m = TRACK_TCP;
	else if (!strcmp(s, "http"))
		*m = TRACK_HTTP;
	else
		return jsonconf_bad(err, errlen, "%s: must be \"icmp\", \"tcp\" or \"http\", got %.64s", key,
				    js(v));
	return 0;
}

/* "192.0.2.1", "2001:db8::1" or, with a port (for tcp), "192.0.2.1:443",
 * "[2001:db8::1]:443". */
static int parse_target(const char *s, struct track_target *t)
{
	char host[64];
	const char *port_s = NULL, *colon = strchr(s, ':');
	char *end;
	unsigned long port = 80;

	if (strlen(s) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%s", s);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
		if (rb[1] == ':')
			port_s = rb + 2;
	} else if (colon && !strchr(colon + 1, ':')) {
		host[colon - s] = '\0';
		port_s = colon + 1;
	}
	if (port_s) {
		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (errno || *end || end == port_s || port < 1 || port > 65535)
			return -EINVAL;
	}
	if (addr_parse(AF_UNSPEC, host, &t->addr) < 0)
		return -EINVAL;
	t->port = (uint16_t)port;
	return 0;
}

static int get_targets(struct json_object *v, const char *key, struct track_target *t,
		       size_t *n, char *err, size_t errlen)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "%s: must be a list of addresses, got %.64s", key, js(v));
	len = json_object_array_length(v);
	if (len < 1 || len > TRACK_TARGETS_MAX)
		return jsonconf_bad(err, errlen, "%s: must list 1..%d targets, got %zu", key, TRACK_TARGETS_MAX, len);
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) || parse_target(json_object_get_string(e), &t[i]) < 0)
			return jsonconf_bad(err, errlen, "%s[%zu]: not an IP address (or ADDRESS:PORT, [ADDRESS]:PORT): %.64s",
				   key, i, js(e));
	}
	*n = len;
	return 0;
}

static int get_number(struct json_object *v, const char *key, double min, double max, const char *unit,
		      double *out, char *err, size_t errlen)
{
	double x;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return jsonconf_bad(err, errlen, "%s: must be a number (%s), got %.64s", key, unit, js(v));
	x = json_object_get_double(v);
	if (!isfinite(x) || x < min || x > max)
		return jsonconf_bad(err, errlen, "%s: must be %g..%g %s, got %.64s", key, min, max, unit, js(v));
	*out = x;
	return 0;
}

static int get_bool(struct json_object *v, const char *key, bool *out, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_boolean))
		return jsonconf_bad(err, errlen, "%s: must be true or false, got %.64s", key, js(v));
	*out = json_object_get_boolean(v);
	return 0;
}

/* "http://ADDRESS[:PORT][/PATH]", ADDRESS an IP literal ([...] for IPv6). */
static int get_url(struct json_object *v, const char *key, struct track_target *t, size_t *nt,
		   struct track_opts *o, char *err, size_t errlen)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	const char *host, *slash;
	char hp[80];

	if (strncmp(s, "http://", 7) || strlen(s) != (size_t)json_object_get_string_len(v))
		return jsonconf_bad(err, errlen, "%s: must be http://ADDRESS[:PORT]/PATH, got %.64s", key, js(v));
	host = s + 7;	/* only past the check: "" has no 8th byte */
	slash = strchr(host, '/');
	if (!slash)
		slash = host + strlen(host);
	if ((size_t)(slash - host) >= sizeof(hp) || strlen(slash) >= sizeof(o->http_path) ||
	    strpbrk(slash, " \r\n"))
		return jsonconf_bad(err, errlen, "%s: must be http://ADDRESS[:PORT]/PATH, got %.64s", key, js(v));
	snprintf(hp, sizeof(hp), "%.*s", (int)(slash - host), host);
	if (parse_target(hp, t) < 0)
		return jsonconf_bad(err, errlen, "%s: not an IP address (a name is not looked up): %.64s", key,
				    js(v));
	snprintf(o->http_path, sizeof(o->http_path), "%s", slash[0] ? slash : "/");
	*nt = 1;
	return 0;
}

/* A key of struct track_opts (or "url"), top level or an uplink's: 1 when
 * it was one (ret in *ret), 0 when not. */
static int opts_key(const char *key, struct json_object *v, const char *name, struct track_opts *o,
		    struct track_target *t, size_t *nt, int *ret, char *err, size_t errlen)
{
	double x = 0;

	*ret = 0;
	if (!strcmp(key, "max_loss") || !strcmp(key, "clear_loss")) {
		*ret = get_number(v, name, 0, 100, "percent", &x, err, errlen);
		if (!*ret)
			*(key[0] == 'm' ? &o->q.max_loss : &o->q.clear_loss) = x;
	} else if (!strcmp(key, "max_rtt") || !strcmp(key, "clear_rtt")) {
		*ret = get_number(v, name, 0.001, 60000, "ms", &x, err, errlen);
		if (!*ret)
			*(key[0] == 'm' ? &o->q.max_rtt_us : &o->q.clear_rtt_us) = (uint32_t)lround(x * 1000);
	} else if (!strcmp(key, "window")) {
		*ret = get_seconds(v, name, 1, 3600, &o->q.window_ms, err, errlen);
	} else if (!strcmp(key, "metered")) {
		*ret = get_bool(v, name, &o->metered, err, errlen);
	} else if (!strcmp(key, "url")) {
		*ret = get_url(v, name, t, nt, o, err, errlen);
	} else if (!strcmp(key, "host")) {
		*ret = get_str(v, name, o->http_host, sizeof(o->http_host), err, errlen);
		if (!*ret && strpbrk(o->http_host, " \r\n"))
			*ret = jsonconf_bad(err, errlen, "%s: no spaces or line breaks in a Host header", name);
	} else if (!strcmp(key, "expect")) {
		uint32_t code = 0;

		*ret = get_uint(v, name, 100, 599, &code, err, errlen);
		o->http_expect = (uint16_t)code;
	} else {
		return 0;
	}
	return 1;
}

/* Clear levels default to half the loss and three quarters of the RTT
 * threshold; a clear level above its threshold is an error. */
static int opts_finish(struct track_opts *o, const char *where, uint32_t interval_ms, char *err,
		       size_t errlen)
{
	if (o->q.clear_loss < 0)
		o->q.clear_loss = o->q.max_loss / 2;
	if (o->q.clear_rtt_us == UINT32_MAX)
		o->q.clear_rtt_us = o->q.max_rtt_us / 4 * 3;
	if (o->q.max_loss > 0 && o->q.clear_loss > o->q.max_loss)
		return jsonconf_bad(err, errlen, "%sclear_loss: %g%% is above max_loss (%g%%)", where,
				    o->q.clear_loss, o->q.max_loss);
	if (o->q.max_rtt_us && o->q.clear_rtt_us > o->q.max_rtt_us)
		return jsonconf_bad(err, errlen, "%sclear_rtt: %g ms is above max_rtt (%g ms)", where,
				    o->q.clear_rtt_us / 1000.0, o->q.max_rtt_us / 1000.0);
	if (o->q.window_ms / interval_ms > HEALTH_HISTORY)
		return jsonconf_bad(err, errlen, "%swindow: %g s holds more than %d rounds of interval %g s",
				    where, o->q.window_ms / 1000.0, HEALTH_HISTORY, interval_ms / 1000.0);
	return 0;
}

static int get_uplink(struct json_object *v, size_t idx, const struct track_conf *c,
		      struct track_uplink_conf *u, char *err, size_t errlen)
{
	char name[64];
	bool have_k = false;
	int ret = 0;

	if (!json_object_is_type(v, json_type_object))
		return jsonconf_bad(err, errlen, "uplinks[%zu]: must be an object, got %.64s", idx, js(v));
	memset(u, 0, sizeof(*u));
	u->priority = (uint32_t)idx + 1;
	u->weight = 1;
	u->method = c->method;
	u->k = c->k;
	u->o = c->o;
	json_object_object_foreach(v, key, val) {
		snprintf(name, sizeof(name), "uplinks[%zu].%.32s", idx, key);
		if (opts_key(key, val, name, &u->o, u->targets, &u->ntargets, &ret, err, errlen))
			;
		else if (!strcmp(key, "interface"))
			ret = get_ifname(val, name, u->ifname, err, errlen);
		else if (!strcmp(key, "priority"))
			ret = get_uint(val, name, 0, 1000000, &u->priority, err, errlen);
		else if (!strcmp(key, "weight") && json_object_is_type(val, json_type_string) &&
			 !strcmp(json_object_get_string(val), "auto"))
			u->weight_auto = true;
		else if (!strcmp(key, "weight"))
			ret = get_uint(val, name, 1, 256, &u->weight, err, errlen);
		else if (!strcmp(key, "method"))
			ret = get_method(val, name, &u->method, err, errlen);
		else if (!strcmp(key, "targets"))
			ret = get_targets(val, name, u->targets, &u->ntargets, err, errlen);
		else if (!strcmp(key, "k")) {
			ret = get_uint(val, name, 1, TRACK_TARGETS_MAX, &u->k, err, errlen);
			have_k = true;
		} else
			ret = jsonconf_bad(err, errlen, "%s: unknown key", name);
		if (ret < 0)
			return ret;
	}
	if (!u->ifname[0])
		return jsonconf_bad(err, errlen, "uplinks[%zu].interface: missing", idx);
	if (!u->ntargets) {
		if (!c->ntargets)
			return jsonconf_bad(err, errlen, "uplinks[%zu].targets: missing (and no top-level targets)", idx);
		memcpy(u->targets, c->targets, sizeof(u->targets));
		u->ntargets = c->ntargets;
	}
	snprintf(name, sizeof(name), "uplinks[%zu].", idx);
	ret = opts_finish(&u->o, name, c->interval_ms, err, errlen);
	if (ret < 0)
		return ret;
	if (u->k > u->ntargets) {
		if (have_k)
			return jsonconf_bad(err, errlen, "uplinks[%zu].k: %u of %zu targets", idx, u->k, u->ntargets);
		u->k = (unsigned)u->ntargets;
	}
	return 0;
}

static int get_forward(struct json_object *v, struct track_conf *c, char *err, size_t errlen)
{
	char name[32];
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "forward_from: must be a list of interfaces, got %.64s", js(v));
	len = json_object_array_length(v);
	if (len > TRACK_FORWARD_MAX)
		return jsonconf_bad(err, errlen, "forward_from: at most %d interfaces, got %zu", TRACK_FORWARD_MAX, len);
	for (size_t i = 0; i < len; i++) {
		snprintf(name, sizeof(name), "forward_from[%zu]", i);
		if (get_ifname(json_object_array_get_idx(v, i), name, c->forward_from[i], err, errlen) < 0)
			return -EINVAL;
	}
	c->nforward = len;
	return 0;
}

int trackconf_parse(struct track_conf *c, const char *text, size_t len, char *err, size_t errlen)
{
	struct json_object *root = NULL, *uplinks = NULL;
	bool have_timeout = false;
	int ret;

	ret = jsonconf_parse(text, len, false, &root, err, errlen);
	if (ret < 0)
		goto cleanup;
	/* Top-level defaults first: uplinks inherit them whatever the order. */
	json_object_object_foreach(root, key, v) {
		if (opts_key(key, v, key, &c->o, c->targets, &c->ntargets, &ret, err, errlen))
			;
		else if (!strcmp(key, "reset_local"))
			ret = get_bool(v, key, &c->reset_local, err, errlen);
		else if (!strcmp(key, "socket_path"))
			ret = get_str(v, key, c->socket_path, sizeof(c->socket_path), err, errlen);
		else if (!strcmp(key, "interval"))
			ret = get_seconds(v, key, 0.1, 3600, &c->interval_ms, err, errlen);
		else if (!strcmp(key, "timeout")) {
			ret = get_seconds(v, key, 0.05, 3600, &c->timeout_ms, err, errlen);
			have_timeout = true;
		} else if (!strcmp(key, "down"))
			ret = get_uint(v, key, 1, 1000, &c->down, err, errlen);
		else if (!strcmp(key, "up"))
			ret = get_uint(v, key, 1, 1000, &c->up, err, errlen);
		else if (!strcmp(key, "mode")) {
			const char *m = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

			if (!strcmp(m, "failover"))
				c->mode = TRACK_FAILOVER;
			else if (!strcmp(m, "balance"))
				c->mode = TRACK_BALANCE;
			else
				ret = jsonconf_bad(err, errlen, "mode: must be \"failover\" or \"balance\", got %.64s", js(v));
		} else if (!strcmp(key, "table")) {
			ret = get_uint(v, key, 1, UINT32_MAX, &c->table, err, errlen);
			if (!ret && (c->table >= 253 && c->table <= 255))
				ret = jsonconf_bad(err, errlen, "table: %u is the kernel's (253..255)", c->table);
		} else if (!strcmp(key, "method"))
			ret = get_method(v, key, &c->method, err, errlen);
		else if (!strcmp(key, "targets"))
			ret = get_targets(v, key, c->targets, &c->ntargets, err, errlen);
		else if (!strcmp(key, "k"))
			ret = get_uint(v, key, 1, TRACK_TARGETS_MAX, &c->k, err, errlen);
		else if (!strcmp(key, "uplinks")) {
			if (!json_object_is_type(v, json_type_array))
				ret = jsonconf_bad(err, errlen, "uplinks: must be a list of objects, got %.64s", js(v));
			else if (json_object_array_length(v) > TRACK_UPLINKS_MAX)
				ret = jsonconf_bad(err, errlen, "uplinks: at most %d, got %zu", TRACK_UPLINKS_MAX,
					  json_object_array_length(v));
			uplinks = v;
		} else if (!strcmp(key, "forward_from"))
			ret = get_forward(v, c, err, errlen);
		else if (!strcmp(key, "state_file"))
			ret = get_str(v, key, c->state_file, sizeof(c->state_file), err, errlen);
		else if (!strcmp(key, "hook_dir"))
			ret = get_str(v, key, c->hook_dir, sizeof(c->hook_dir), err, errlen);
		else
			ret = jsonconf_unknown(key, err, errlen);
		if (ret < 0)
			goto cleanup;
	}
	if (c->k > c->ntargets && c->ntargets)
		c->k = (unsigned)c->ntargets;
	if (uplinks) {
		for (size_t i = 0; i < json_object_array_length(uplinks); i++) {
			ret = get_uplink(json_object_array_get_idx(uplinks, i), i, c, &c->uplinks[i], err, errlen);
			if (ret < 0)
				goto cleanup;
			for (size_t j = 0; j < i; j++)
				if (!strcmp(c->uplinks[j].ifname, c->uplinks[i].ifname)) {
					ret = jsonconf_bad(err, errlen, "uplinks[%zu].interface: %s is listed twice", i,
						  c->uplinks[i].ifname);
					goto cleanup;
				}
			c->nuplinks = i + 1;
		}
	} else if (!c->ntargets) {
		ret = jsonconf_bad(err, errlen, "targets: needed when no uplinks are listed");
		goto cleanup;
	}
	ret = opts_finish(&c->o, "", c->interval_ms, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (!have_timeout)
		c->timeout_ms = c->interval_ms / 2 < 2000 ? c->interval_ms / 2 : 2000;
	if (c->timeout_ms > c->interval_ms) {
		ret = jsonconf_bad(err, errlen, "timeout: %.3g s is longer than interval (%.3g s)",
			  c->timeout_ms / 1000.0, c->interval_ms / 1000.0);
		goto cleanup;
	}
cleanup:
	json_object_put(root);
	return ret;
}

int trackconf_load(struct track_conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;
	bool more = false;
	int ret = 0;

	trackconf_defaults(c);
	if (!f)
		return jsonconf_bad(err, errlen, "%s: %s", path, strerror(errno));
	/* as before: a longer file is read only up to 1 MiB - 1 */
	ret = jsonconf_read(f, (1 << 20) - 1, &buf, &n, &more);
	if (ret == -EIO)
		ret = jsonconf_bad(err, errlen, "%s: %s", path, strerror(EIO));
	if (ret < 0)
		goto cleanup;
	ret = trackconf_parse(c, buf, n, err, errlen);
cleanup:
	free(buf);
	fclose(f);
	return ret;
}

int trackconf_check_interfaces(const struct track_conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nuplinks; i++)
		if (!if_nametoindex(c->uplinks[i].ifname))
			return jsonconf_bad(err, errlen, "uplinks[%zu].interface: no such interface: %s", i,
				   c->uplinks[i].ifname);
	for (size_t i = 0; i < c->nforward; i++)
		if (!if_nametoindex(c->forward_from[i]))
			return jsonconf_bad(err, errlen, "forward_from[%zu]: no such interface: %s", i, c->forward_from[i]);
	return 0;
}

static void warn_targets(const char *where, const struct track_target *t, size_t n, FILE *out)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		const char *range = addr_documentation(&t[i].addr);

		if (range)
			fprintf(out, "rtalloc-track: warning: %s: %s is in the documentation range %s: "
				"it never answers a probe\n", where, addr_str(&t[i].addr, a, sizeof(a)), range);
	}
}

void trackconf_warn_documentation(const struct track_conf *c, FILE *out)
{
	char where[64];

	warn_targets("targets", c->targets, c->ntargets, out);
	for (size_t i = 0; i < c->nuplinks; i++) {
		/* an uplink without targets of its own has the top-level ones */
		if (c->uplinks[i].ntargets == c->ntargets &&
		    !memcmp(c->uplinks[i].targets, c->targets, c->ntargets * sizeof(c->targets[0])))
			continue;
		snprintf(where, sizeof(where), "uplinks[%zu] (%s) targets", i, c->uplinks[i].ifname);
		warn_targets(where, c->uplinks[i].targets, c->uplinks[i].ntargets, out);
	}
}
