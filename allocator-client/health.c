/* health: uplink health from rtalloc-track's state file. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <json-c/json.h>

#include "health.h"

bool health_track_rule(const struct rule *r)
{
	return r->proto == RTPROT_RTALLOC && r->pref >= HEALTH_TRACK_PREF_MIN &&
	       r->pref <= HEALTH_TRACK_PREF_MAX;
}

/* The state file as it is now (a new reference), or NULL. */
static struct json_object *state_load(void)
{
	const char *path = getenv("RTALLOC_TRACK_STATE");
	struct json_object *st = json_object_from_file(path && path[0] ? path : "/run/rtalloc-track/track.json");

	if (st && !json_object_is_type(st, json_type_object)) {
		json_object_put(st);
		st = NULL;
	}
	return st;
}

/* Parsed once per run; NULL when there is no (usable) state file. */
static struct json_object *state(void)
{
	static struct json_object *st;
	static bool loaded;

	if (!loaded) {
		loaded = true;
		st = state_load();
	}
	return st;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "";
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static struct json_object *uplinks(struct json_object *st)
{
	struct json_object *v;

	return json_object_object_get_ex(st, "uplinks", &v) && json_object_is_type(v, json_type_array) ?
	       v : NULL;
}

static bool running(struct json_object *st)
{
	pid_t pid = (pid_t)num(st, "pid");

	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void copy_str(char *dst, size_t size, struct json_object *o, const char *key)
{
	snprintf(dst, size, "%s", str(o, key));
}

static bool boolean(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void parse_uplink(struct json_object *u, struct health_uplink *h)
{
	memset(h, 0, sizeof(*h));
	copy_str(h->interface, sizeof(h->interface), u, "interface");
	h->family = strcmp(str(u, "family"), "inet6") ? AF_INET : AF_INET6;
	copy_str(h->address, sizeof(h->address), u, "address");
	copy_str(h->state, sizeof(h->state), u, "state");
	copy_str(h->method, sizeof(h->method), u, "method");
	h->since = (long long)num(u, "since");
	h->loss = num(u, "loss");
	h->rtt_ms = num(u, "rtt_ms");
	h->jitter_ms = num(u, "jitter_ms");
	h->window_s = num(u, "window_s");
	h->table = (unsigned)num(u, "table");
	h->priority = (unsigned)num(u, "priority");
	h->weight = (unsigned)num(u, "weight");
	h->weight_auto = boolean(u, "weight_auto");
	h->metered = boolean(u, "metered");
	h->unbound = boolean(u, "unbound");
	h->probe_bytes = (unsigned long long)num(u, "probe_bytes");
	h->probe_bytes_day = (unsigned long long)num(u, "probe_bytes_day");
	h->rounds_proven = (unsigned)num(u, "rounds_proven");
}

/* rtalloc-track lists a configured uplink once per family; the family the
 * uplink has no address in is "absent".  Shown only when the interface has
 * no other row, so a v4-only uplink is one line, not two. */
static bool row_shown(struct json_object *ups, size_t i)
{
	struct json_object *u = json_object_array_get_idx(ups, i);
	size_t n = json_object_array_length(ups);

	if (strcmp(str(u, "state"), "absent"))
		return true;
	for (size_t j = 0; j < n; j++) {
		struct json_object *o = json_object_array_get_idx(ups, j);

		if (j != i && !strcmp(str(o, "interface"), str(u, "interface")) && strcmp(str(o, "state"), "absent"))
			return false;
	}
	/* wholly absent: its first row only */
	for (size_t j = 0; j < i; j++)
		if (!strcmp(str(json_object_array_get_idx(ups, j), "interface"), str(u, "interface")))
			return false;
	return true;
}

void health_print(FILE *out)
{
	struct json_object *st = state(), *ups, *unb;
	char since[32];
	size_t n;

	if (!st || !(ups = uplinks(st)))
		return;
	n = json_object_array_length(ups);
	/* IPv6's line only when rtalloc-track tracks an IPv6 uplink. */
	for (size_t f = 0; f < 2; f++) {
		bool any = !f;

		for (size_t i = 0; i < n && !any; i++)
			any = !strcmp(str(json_object_array_get_idx(ups, i), "family"), "inet6") &&
			      strcmp(str(json_object_array_get_idx(ups, i), "state"), "absent");
		if (!any)
			continue;
		fprintf(out, "unbound%s traffic:", f ? " IPv6" : "");
		if (json_object_object_get_ex(st, f ? "unbound6" : "unbound", &unb) &&
		    json_object_is_type(unb, json_type_array) && json_object_array_length(unb)) {
			for (size_t i = 0; i < json_object_array_length(unb); i++)
				fprintf(out, "%s%s", i ? "," : " ",
					json_object_get_string(json_object_array_get_idx(unb, i)));
		} else {
			fprintf(out, " no uplink");
		}
		fprintf(out, " (rtalloc-track, %s%s)\n", str(st, "mode"), running(st) ? "" : ", NOT RUNNING: last state");
	}
	fprintf(out, "%-15s %-25s %-8s %-19s %6s %10s %10s\n", "uplink", "address", "health", "since", "loss",
		"median", "jitter");
	for (size_t i = 0; i < n; i++) {
		struct health_uplink h;
		time_t t;
		struct tm tm;

		if (!row_shown(ups, i))
			continue;
		parse_uplink(json_object_array_get_idx(ups, i), &h);
		t = (time_t)h.since;
		if (!localtime_r(&t, &tm) || !strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(since, sizeof(since), "-");
		fprintf(out, "%-15s %-25s %-8s %-19s %5.1f%% %7.3f ms %7.3f ms%s", h.interface,
			h.address[0] ? h.address : "-", h.state, since, h.loss, h.rtt_ms, h.jitter_ms,
			h.unbound ? "  carries unbound traffic" : "");
		if (h.metered)
			fprintf(out, "  metered, probes %llu bytes/day", h.probe_bytes_day);
		fputc('\n', out);
	}
}

struct json_object *health_json(void)
{
	struct json_object *st = state();

	if (!st)
		return NULL;
	json_object_object_add(st, "running", json_object_new_boolean(running(st)));
	return json_object_get(st);
}

void health_lease_json(FILE *out, const char *ifname, const char *address)
{
	struct json_object *st = state(), *ups;

	if (!st || !(ups = uplinks(st)))
		return;
	for (size_t i = 0; i < json_object_array_length(ups); i++) {
		struct health_uplink h;

		parse_uplink(json_object_array_get_idx(ups, i), &h);
		if (strcmp(h.interface, ifname) || strcmp(h.address, address))
			continue;
		fprintf(out, ",\"health\":{\"state\":\"%s\",\"since\":%lld,\"loss\":%.1f,\"rtt_ms\":%.3f,"
			"\"jitter_ms\":%.3f,\"probe_bytes_day\":%llu,\"unbound\":%s,\"running\":%s}",
			running(st) ? h.state : "unknown", h.since, h.loss, h.rtt_ms, h.jitter_ms,
			h.probe_bytes_day, h.unbound ? "true" : "false", running(st) ? "true" : "false");
		return;
	}
}

int health_read(struct health_uplink **out, size_t *n)
{
	struct json_object *st = state_load(), *ups;
	struct health_uplink *v = NULL;
	size_t count;
	int ret = -ENOENT;

	*out = NULL;
	*n = 0;
	if (!st || !running(st) || !(ups = uplinks(st)))
		goto cleanup;
	count = json_object_array_length(ups);
	v = calloc(count ? count : 1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < count; i++)
		parse_uplink(json_object_array_get_idx(ups, i), &v[i]);
	*out = v;
	*n = count;
	v = NULL;
	ret = 0;
cleanup:
	free(v);
	json_object_put(st);
	return ret;
}

int health_view_get(const char *ifname, int family, struct health_view *h)
{
	struct json_object *st = state(), *ups, *unb;

	memset(h, 0, sizeof(*h));
	if (!st || !(ups = uplinks(st)))
		return -ENOENT;
	h->running = running(st);
	for (size_t f = 0; f < 2; f++) {
		if (!json_object_object_get_ex(st, f ? "unbound6" : "unbound", &unb) ||
		    !json_object_is_type(unb, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(unb); i++)
			if (!strcmp(json_object_get_string(json_object_array_get_idx(unb, i)), ifname)) {
				if (f)
					h->unbound6 = true;
				else
					h->unbound4 = true;
			}
	}
	for (size_t i = 0; i < json_object_array_length(ups); i++) {
		struct json_object *u = json_object_array_get_idx(ups, i);
		int fam = !strcmp(str(u, "family"), "inet6") ? AF_INET6 : AF_INET;

		if (strcmp(str(u, "interface"), ifname) || (family != AF_UNSPEC && fam != family))
			continue;
		h->tracked = true;
		snprintf(h->state, sizeof(h->state), "%s", h->running ? str(u, "state") : "unknown");
		h->since = (long long)num(u, "since");
		h->loss = num(u, "loss");
		h->rtt_ms = num(u, "rtt_ms");
		return 0;
	}
	return -ENOENT;
}

bool health_offline(const char *ifname, int family)
{
	struct health_uplink *ups = NULL;
	size_t n = 0;
	bool off = false;

	if (health_read(&ups, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		off = off || (ups[i].family == family && !strcmp(ups[i].interface, ifname) &&
			      !strcmp(ups[i].state, "offline"));
	free(ups);
	return off;
}
