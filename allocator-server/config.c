/* config: rtallocd's JSON configuration (docs/protocol.md lists the keys). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "jsonconf.h"
#include "log.h"
#include "proto.h"

/* One warning line per unknown key; printable, bounded: the file may be
 * anyone's. */
static void config_unknown(struct config *c, const char *key)
{
	char shown[65];
	size_t i;

	for (i = 0; key[i] && i + 1 < sizeof(shown); i++)
		shown[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	shown[i] = '\0';
	c->n_unknown++;
	log_msg(LOG_WARNING, "config: unknown key \"%s\" ignored", shown);
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", PROTO_DEFAULT_SOCKET);
	c->table_offset = CONFIG_DEFAULT_OFFSET;
	c->num_tables = CONFIG_DEFAULT_TABLES;
	c->table_timeout = CONFIG_DEFAULT_TIMEOUT;
	snprintf(c->db_path, sizeof(c->db_path), "%s", CONFIG_DEFAULT_DB);
	c->af_inet = c->af_inet6 = c->af_unspec = true;
	c->mark_mask = CONFIG_DEFAULT_MARK_MASK;
}

static int get_u32(struct json_object *v, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out, char *err, size_t errlen)
{
	return jsonconf_u32(v, key, min, max, JSON_C_TO_STRING_SPACED, out, err, errlen);
}

/* An integer or a "0x..." string (JSON has no hex), 1..16 bits set. */
static int get_mark_mask(struct json_object *v, uint32_t *out, char *err, size_t errlen)
{
	unsigned long long m;
	const char *str;
	char *end;
	int ret;

	if (json_object_is_type(v, json_type_string)) {
		str = json_object_get_string(v);
		errno = 0;
		m = strtoull(str, &end, 0);
		if (!*str || *end || errno || m > UINT32_MAX || *str == '-' || *str == ' ')
			return jsonconf_bad(err, errlen, "mark_mask: not a 32-bit number: `%.40s'", str);
		*out = (uint32_t)m;
	} else {
		ret = get_u32(v, "mark_mask", 0, UINT32_MAX, out, err, errlen);
		if (ret < 0)
			return ret;
	}
	if (!*out || __builtin_popcount(*out) > CONFIG_MAX_MARK_BITS)
		return jsonconf_bad(err, errlen, "mark_mask: must have 1..%d bits set, got 0x%x",
				    CONFIG_MAX_MARK_BITS, *out);
	return 0;
}

static int get_string(struct json_object *v, const char *key, char *out, size_t size,
		      bool may_be_empty, char *err, size_t errlen)
{
	return jsonconf_string(v, key, out, size, may_be_empty, INT_MAX, err, errlen);
}

/* "" turns the filesystem socket off; otherwise an absolute path. */
static int get_socket_file(struct json_object *v, struct config *c, char *err, size_t errlen)
{
	int ret = get_string(v, "socket_file", c->socket_file, sizeof(c->socket_file), true, err, errlen);

	if (ret < 0)
		return ret;
	if (c->socket_file[0] && c->socket_file[0] != '/')
		return jsonconf_bad(err, errlen, "socket_file: must be an absolute path, got `%s'", c->socket_file);
	c->socket_file_set = true;
	return 0;
}

static int get_bool(struct json_object *v, const char *key, bool *out, char *err, size_t errlen)
{
	/* The original read do_syslog as an integer; 0/1 keep working. */
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);

		if (x != 0 && x != 1)
			return jsonconf_bad(err, errlen, "%s: must be true, false, 0 or 1, got %lld", key, (long long)x);
		*out = x;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return jsonconf_bad(err, errlen, "%s: must be a boolean, got %s", key, json_object_to_json_string(v));
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_ids(struct json_object *v, const char *key, uint32_t *ids, size_t *n,
		   char *err, size_t errlen)
{
	char name[64];
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return jsonconf_bad(err, errlen, "%s: must be an array of numbers, got %s", key,
			   json_object_to_json_string(v));
	len = json_object_array_length(v);
	if (len > CONFIG_MAX_IDS)
		return jsonconf_bad(err, errlen, "%s: at most %d entries, got %zu", key, CONFIG_MAX_IDS, len);
	for (size_t i = 0; i < len; i++) {
		snprintf(name, sizeof(name), "%s[%zu]", key, i);
		/* (uid_t)-1 means "no change" to the kernel: never a real id */
		int ret = get_u32(json_object_array_get_idx(v, i), name, 0, UINT32_MAX - 1, &ids[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	*n = len;
	return 0;
}

static int get_families(struct json_object *v, struct config *c, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return jsonconf_bad(err, errlen, "addr_families: must be an object like {\"inet\": true}, got %s",
			   json_object_to_json_string(v));
	json_object_object_foreach(v, key, val) {
		char name[64];
		bool *dst;
		int ret;

		if (!strcmp(key, "inet"))
			dst = &c->af_inet;
		else if (!strcmp(key, "inet6"))
			dst = &c->af_inet6;
		else if (!strcmp(key, "unspec"))
			dst = &c->af_unspec;
		else
			return jsonconf_bad(err, errlen, "addr_families: unknown family \"%.32s\" (inet, inet6, unspec)", key);
		snprintf(name, sizeof(name), "addr_families.%s", key);
		ret = get_bool(val, name, dst, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Tables 0 and 253..255 are the kernel's (unspec, default, main, local). */
static int range_check(const struct config *c, char *err, size_t errlen)
{
	uint64_t last = (uint64_t)c->table_offset + c->num_tables - 1;

	if (last > UINT32_MAX)
		return jsonconf_bad(err, errlen, "num_tables: table_offset %u + num_tables %u runs past table %u",
			   c->table_offset, c->num_tables, UINT32_MAX);
	if (c->table_offset <= 255 && last >= 253)
		return jsonconf_bad(err, errlen, "table_offset: tables %u..%llu overlap the kernel's tables 253..255",
			   c->table_offset, (unsigned long long)last);
	if (!c->af_inet && !c->af_inet6 && !c->af_unspec)
		return jsonconf_bad(err, errlen, "addr_families: every family is disabled");
	return 0;
}

int config_parse(struct config *c, const char *text, size_t len, char *err, size_t errlen)
{
	struct json_object *root = NULL;
	int ret;

	ret = jsonconf_parse(text, len, false, &root, err, errlen);
	if (ret < 0)
		goto cleanup;
	json_object_object_foreach(root, key, v) {
		if (!strcmp(key, "socket_path"))
			ret = get_string(v, key, c->socket_path, sizeof(c->socket_path), false, err, errlen);
		else if (!strcmp(key, "socket_file"))
			ret = get_socket_file(v, c, err, errlen);
		else if (!strcmp(key, "table_offset"))
			ret = get_u32(v, key, 1, UINT32_MAX, &c->table_offset, err, errlen);
		else if (!strcmp(key, "num_tables"))
			ret = get_u32(v, key, 1, CONFIG_MAX_TABLES, &c->num_tables, err, errlen);
		else if (!strcmp(key, "table_timeout"))
			ret = get_u32(v, key, 1, CONFIG_MAX_TIMEOUT, &c->table_timeout, err, errlen);
		else if (!strcmp(key, "db_path"))
			ret = get_string(v, key, c->db_path, sizeof(c->db_path), false, err, errlen);
		else if (!strcmp(key, "do_syslog"))
			ret = get_bool(v, key, &c->do_syslog, err, errlen);
		else if (!strcmp(key, "log_path"))
			ret = get_string(v, key, c->log_path, sizeof(c->log_path), true, err, errlen);
		else if (!strcmp(key, "addr_families"))
			ret = get_families(v, c, err, errlen);
		else if (!strcmp(key, "allowed_uids"))
			ret = get_ids(v, key, c->allowed_uids, &c->n_uids, err, errlen);
		else if (!strcmp(key, "allowed_gids"))
			ret = get_ids(v, key, c->allowed_gids, &c->n_gids, err, errlen);
		else if (!strcmp(key, "read_uids"))
			ret = get_ids(v, key, c->read_uids, &c->n_read_uids, err, errlen);
		else if (!strcmp(key, "read_gids"))
			ret = get_ids(v, key, c->read_gids, &c->n_read_gids, err, errlen);
		else if (!strcmp(key, "unspec"))	/* the same as addr_families.unspec */
			ret = get_bool(v, key, &c->af_unspec, err, errlen);
		else if (!strcmp(key, "mark_mask"))
			ret = get_mark_mask(v, &c->mark_mask, err, errlen);
		else if (!strcmp(key, "grace_seconds"))
			ret = get_u32(v, key, 0, CONFIG_MAX_TIMEOUT, &c->grace_seconds, err, errlen);
		else	/* the original ignores keys it does not know: so do we, aloud */
			config_unknown(c, key);
		if (ret < 0)
			goto cleanup;
	}
	ret = range_check(c, err, errlen);
cleanup:
	json_object_put(root);
	return ret;
}

void config_socket_file(const struct config *c, char *buf, size_t len)
{
	int n;

	if (c->socket_file_set) {
		snprintf(buf, len, "%s", c->socket_file);
		return;
	}
	n = snprintf(buf, len, "%s/%s.sock", CONFIG_SOCKET_DIR, c->socket_path);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(c->socket_file) || strchr(c->socket_path, '/'))
		buf[0] = '\0';
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	/* what the growing buffer this replaced accepted: up to 1 MiB - 4 KiB */
	ret = jsonconf_load(path, (1u << 20) - 4096, &text, &len, err, errlen);
	if (ret < 0)
		goto cleanup;
	ret = config_parse(c, text, len, err, errlen);
cleanup:
	free(text);
	return ret;
}

uint32_t config_grace(const struct config *c)
{
	uint32_t half = c->table_timeout / 2;

	if (c->grace_seconds)
		return c->grace_seconds;
	return (half > 60 ? half : 60) + 5;
}
