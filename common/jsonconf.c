/* jsonconf: shared JSON configuration helpers (see jsonconf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "jsonconf.h"

int jsonconf_bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vfail(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int jsonconf_parse(const char *text, size_t len, bool offset_in_text, struct json_object **root,
		   char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	size_t at;
	int ret = 0;

	*root = NULL;
	if (len > INT32_MAX)
		return jsonconf_bad(err, errlen, "config: file too large");
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	*root = json_tokener_parse_ex(tok, text, (int)len);
	at = json_tokener_get_parse_end(tok);
	if (!*root && json_tokener_get_error(tok) == json_tokener_continue)
		*root = json_tokener_parse_ex(tok, "", 1);
	if (!offset_in_text)
		at = json_tokener_get_parse_end(tok);
	if (!*root) {
		ret = jsonconf_bad(err, errlen, "config: not valid JSON: %s at offset %zu",
				   json_tokener_error_desc(json_tokener_get_error(tok)), at);
		goto cleanup;
	}
	if (!json_object_is_type(*root, json_type_object)) {
		ret = jsonconf_bad(err, errlen, "config: must be a JSON object");
		json_object_put(*root);
		*root = NULL;
		goto cleanup;
	}
cleanup:
	json_tokener_free(tok);
	return ret;
}

int jsonconf_read(FILE *f, size_t max, char **text, size_t *len, bool *more)
{
	char *buf = NULL;
	size_t n;
	int ret = 0;

	*text = NULL;
	*len = 0;
	*more = false;
	buf = malloc(max + 2);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		ret = -EIO;
		goto cleanup;
	}
	if (n > max) {
		*more = true;
		n = max;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	return ret;
}

int jsonconf_load(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = NULL;
	bool more = false;
	int ret = 0;

	*text = NULL;
	*len = 0;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "config: cannot open %s: %s", path, strerror(errno));
		goto cleanup;
	}
	ret = jsonconf_read(f, max, text, len, &more);
	if (ret == -EIO)
		snprintf(err, errlen, "config: cannot read %s", path);
	if (ret < 0)
		goto cleanup;
	if (more) {
		free(*text);
		*text = NULL;
		*len = 0;
		ret = jsonconf_bad(err, errlen, "config: %s is larger than 1 MiB", path);
		goto cleanup;
	}
cleanup:
	if (f)
		fclose(f);
	return ret;
}

int jsonconf_u32(struct json_object *v, const char *key, uint32_t min, uint32_t max, int jflags,
		 uint32_t *out, char *err, size_t errlen)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return jsonconf_bad(err, errlen, "%s: must be an integer, got %s", key,
				    json_object_to_json_string_ext(v, jflags));
	x = json_object_get_int64(v);
	/* get_int64 clamps larger numbers to INT64_MAX */
	if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return jsonconf_bad(err, errlen, "%s: must be %u..%u, got %s", key, min, max,
				    json_object_to_json_string_ext(v, jflags));
	*out = (uint32_t)x;
	return 0;
}

int jsonconf_string(struct json_object *v, const char *key, char *out, size_t size, bool may_be_empty,
		    int shown, char *err, size_t errlen)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return jsonconf_bad(err, errlen, "%s: must be a string, got %.*s", key, shown,
				    json_object_to_json_string(v));
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n))
		return jsonconf_bad(err, errlen, "%s: contains a NUL character", key);
	if (n == 0 && !may_be_empty)
		return jsonconf_bad(err, errlen, "%s: must not be empty", key);
	if (n >= size)
		return jsonconf_bad(err, errlen, "%s: longer than %zu bytes", key, size - 1);
	memcpy(out, s, n + 1);
	return 0;
}

int jsonconf_unknown(const char *key, char *err, size_t errlen)
{
	return jsonconf_bad(err, errlen, "%.64s: unknown key", key);
}
