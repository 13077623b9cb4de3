/* proto: the wire protocol between rtalloc and rtallocd (docs/protocol.md).
 * Parsing goes through json-c (any bytes in, a typed struct or a one-line
 * reason out), but for requests of the plain shape nearly all clients send,
 * which a scanner of its own reads (flat_parse()); formatting is done by hand into the caller's buffer, because
 * it is on the server's per-request path and needs no allocation. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "errbuf.h"
#include "addr.h"
#include "proto.h"

/* Deep nesting is never valid here; a low limit keeps hostile input cheap. */
#define PROTO_JSON_DEPTH 8

/* Peer strings go into log lines: keep them short and printable. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* Refuses empty input, oversized input and NUL bytes inside; *len loses
 * trailing NULs. */
static int datagram_check(const char *p, size_t *len, char *err, size_t errlen)
{
	const char *nul;

	/* Some old clients send the C string's terminating NUL along. */
	while (*len > 0 && p[*len - 1] == '\0')
		(*len)--;
	if (*len == 0)
		return errbuf_fail(err, errlen, "empty datagram");
	if (*len > PROTO_MAX_DATAGRAM)
		return errbuf_fail(err, errlen, "datagram larger than %d bytes", PROTO_MAX_DATAGRAM);
	nul = memchr(p, '\0', *len);
	if (nul)
		return errbuf_fail(err, errlen, "NUL byte inside the datagram at offset %zu",
			    (size_t)(nul - p));
	return 0;
}

/* A checked datagram into a JSON object: refuses non-JSON, trailing bytes
 * and anything that is not an object. */
static int json_tree(const char *p, size_t len, struct json_object **out,
		     char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	bool consumed_all = false;
	int ret = 0;

	*out = NULL;
	tok = json_tokener_new_ex(PROTO_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, p, (int)len);
	/* A bare number may continue in the next chunk: a NUL ends it. */
	if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, "", 1);
		consumed_all = true;
	}
	if (!obj) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (e == json_tokener_continue)
			ret = errbuf_fail(err, errlen, "not JSON: unexpected end of data");
		else if (e == json_tokener_success)	/* the literal null */
			ret = errbuf_fail(err, errlen, "not a JSON object");
		else
			ret = errbuf_fail(err, errlen, "not JSON: %s at offset %zu",
				   json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
		goto cleanup;
	}
	for (size_t i = json_tokener_get_parse_end(tok); !consumed_all && i < len; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
			ret = errbuf_fail(err, errlen, "trailing data after the JSON value at offset %zu", i);
			goto cleanup;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		ret = errbuf_fail(err, errlen, "not a JSON object");
		goto cleanup;
	}
	*out = obj;
	obj = NULL;
cleanup:
	json_object_put(obj);
	json_tokener_free(tok);
	return ret;
}

/* The datagram into a JSON object (datagram_check(), json_tree()). */
static int json_edge(const void *buf, size_t len, struct json_object **out,
		     char *err, size_t errlen)
{
	int ret;

	*out = NULL;
	ret = datagram_check(buf, &len, err, errlen);
	return ret < 0 ? ret : json_tree(buf, len, out, err, errlen);
}

/* The fast path for requests, nearly all of which are one flat object of
 * integers and plain strings: json-c builds a tree of allocated objects for
 * them, a third of rtallocd's instructions per request.  flat_parse() takes
 * only the subset whose meaning is beyond doubt (no escapes, no bytes
 * outside printable ASCII, no duplicate keys, integers of at most 18 digits
 * without leading zeros, fraction or exponent, values that are strings or
 * such integers) and leaves everything else, errors included, to json-c:
 * both accept the same requests with the same values, and the checks after
 * them (get_int(), get_str()) are shared, so refusals read the same. */
#define FLAT_MAX 16

struct flat_member {
	const char *key, *str;
	size_t klen, slen;
	int64_t num;
	bool is_str;
};

struct flat {
	struct flat_member m[FLAT_MAX];
	size_t n;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* "..." of printable ASCII but backslash: past the closing quote, or NULL. */
static const char *flat_str(const char *p, const char *end, const char **s, size_t *n)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	for (q = ++p; q < end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return NULL;
	if (q >= end)
		return NULL;
	*s = p;
	*n = (size_t)(q - p);
	return q + 1;
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* -?(0|[1-9][0-9]{0,17}), not followed by a fraction or exponent. */
static const char *flat_num(const char *p, const char *end, int64_t *v)
{
	bool neg = p < end && *p == '-';
	int64_t x = 0;
	int digits = 0;

	if (neg)
		p++;
	if (!is_digit(p, end) || (*p == '0' && (neg || is_digit(p + 1, end))))
		return NULL;
	for (; is_digit(p, end); p++) {
		if (++digits > 18)
			return NULL;
		x = x * 10 + (*p - '0');
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return NULL;
	*v = neg ? -x : x;
	return p;
}

/* true when p[len] is one such object, then in f; false: ask json-c. */
static bool flat_parse(const char *p, size_t len, struct flat *f)
{
	const char *end = p + len;

	f->n = 0;
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end;
	for (;;) {
		struct flat_member *m = &f->m[f->n];

		if (f->n == FLAT_MAX)
			return false;
		p = flat_str(p, end, &m->key, &m->klen);
		if (!p)
			return false;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return false;
		p = skip_ws(p + 1, end);
		m->is_str = p < end && *p == '"';
		p = m->is_str ? flat_str(p, end, &m->str, &m->slen) : flat_num(p, end, &m->num);
		if (!p)
			return false;
		for (size_t i = 0; i < f->n; i++)
			if (f->m[i].klen == m->klen && !memcmp(f->m[i].key, m->key, m->klen))
				return false;
		f->n++;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end;
		return false;
	}
}

static const struct flat_member *flat_get(const struct flat *f, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < f->n; i++)
		if (f->m[i].klen == n && !memcmp(f->m[i].key, key, n))
			return &f->m[i];
	return NULL;
}

/* An object to read members from: a json-c one, or a flat one. */
struct obj {
	struct json_object *j;
	const struct flat *f;
};

/* A member that is not there: -EINVAL with "KEY: missing" if required,
 * else -ENOENT with no error text. */
static int missing(const char *key, bool required, char *err, size_t errlen)
{
	return required ? errbuf_fail(err, errlen, "%s: missing", key) : -ENOENT;
}

/* An integer member in [min, max].  Missing: -ENOENT (no error text) unless
 * required. */
static int get_int(const struct obj *o, const char *key, int64_t min, int64_t max,
		   bool required, int64_t *out, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t x;

	if (o->f) {
		const struct flat_member *m = flat_get(o->f, key);

		if (!m)
			return missing(key, required, err, errlen);
		if (m->is_str)
			return errbuf_fail(err, errlen, "%s: must be an integer", key);
		if (m->num < min || m->num > max)
			return errbuf_fail(err, errlen, "%s: must be %lld..%lld, got %lld", key, (long long)min,
				    (long long)max, (long long)m->num);
		*out = m->num;
		return 0;
	}
	if (!json_object_object_get_ex(o->j, key, &v) || !v)
		return missing(key, required, err, errlen);
	if (!json_object_is_type(v, json_type_int))
		return errbuf_fail(err, errlen, "%s: must be an integer", key);
	x = json_object_get_int64(v);
	/* json-c keeps values above INT64_MAX as uint64; get_int64 clamps them. */
	if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return errbuf_fail(err, errlen, "%s: must be %lld..%lld, got %s", key, (long long)min,
			    (long long)max, json_object_to_json_string(v));
	*out = x;
	return 0;
}

/* A string member copied into out[size].  Missing: -ENOENT unless required. */
static int get_str(const struct obj *o, const char *key, bool required, char *out,
		   size_t size, char *err, size_t errlen)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (o->f) {
		const struct flat_member *m = flat_get(o->f, key);

		if (!m)
			return missing(key, required, err, errlen);
		if (!m->is_str)
			return errbuf_fail(err, errlen, "%s: must be a string", key);
		if (m->slen >= size)
			return errbuf_fail(err, errlen, "%s: longer than %zu bytes", key, size - 1);
		memcpy(out, m->str, m->slen);
		out[m->slen] = '\0';
		return 0;
	}
	if (!json_object_object_get_ex(o->j, key, &v) || !v)
		return missing(key, required, err, errlen);
	if (!json_object_is_type(v, json_type_string))
		return errbuf_fail(err, errlen, "%s: must be a string", key);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n))		/* "\u0000" inside the JSON string */
		return errbuf_fail(err, errlen, "%s: contains a NUL character", key);
	if (n >= size)
		return errbuf_fail(err, errlen, "%s: longer than %zu bytes", key, size - 1);
	memcpy(out, s, n + 1);
	return 0;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IP";
}

static int family_check(int64_t f, char *err, size_t errlen)
{
	if (f != AF_INET && f != AF_INET6 && f != AF_UNSPEC)
		return errbuf_fail(err, errlen, "addr_family: must be 2 (inet), 10 (inet6) or 0 (unspec), got %lld",
			    (long long)f);
	return 0;
}

bool proto_ident_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= INET6_ADDRSTRLEN)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Canonicalizes the address in place (inet_ntop form) after checking it
 * belongs to family; an unspec one may be an identifier instead. */
static int address_check(int family, char *address, char *err, size_t errlen)
{
	struct inet_addr a;
	char show[48];

	if (family == AF_UNSPEC && addr_parse(family, address, &a) < 0) {
		if (proto_ident_valid(address))
			return 0;
		return errbuf_fail(err, errlen, "address: not an IP address or identifier: `%s'",
			    shown(address, show, sizeof(show)));
	}
	if (addr_parse(family, address, &a) < 0)
		return errbuf_fail(err, errlen, "address: not an %s address: `%s'", family_name(family),
			    shown(address, show, sizeof(show)));
	addr_str(&a, address, INET6_ADDRSTRLEN);
	return 0;
}

static int ifname_check(const char *ifname, char *err, size_t errlen)
{
	char show[24];

	if (!ifname_valid(ifname))
		return errbuf_fail(err, errlen, "ifname: not a valid interface name: `%s'",
			    shown(ifname, show, sizeof(show)));
	return 0;
}

/* Tags end up in logs and in `rtalloc --list`: no control characters. */
static int tag_check(const char *tag, char *err, size_t errlen)
{
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return errbuf_fail(err, errlen, "tag: contains a control character");
	return 0;
}

/* The key of a lease, shared by requests and LIST entries: family, address
 * (canonicalized in place), ifname and an optional tag.  The buffers are the
 * proto_request/proto_lease fields of the same sizes. */
static int key_parse(const struct obj *o, uint8_t *family,
		     char address[INET6_ADDRSTRLEN], char ifname[IFNAMSIZ],
		     char tag[PROTO_TAG_MAX + 1], char *err, size_t errlen)
{
	int64_t v = 0;	/* set by get_int(); clang-analyzer cannot see that */
	int ret;

	ret = get_int(o, "addr_family", INT64_MIN, INT64_MAX, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	ret = family_check(v, err, errlen);
	if (ret < 0)
		return ret;
	*family = (uint8_t)v;
	ret = get_str(o, "address", true, address, INET6_ADDRSTRLEN, err, errlen);
	if (ret < 0)
		return ret;
	ret = address_check(*family, address, err, errlen);
	if (ret < 0)
		return ret;
	ret = get_str(o, "ifname", true, ifname, IFNAMSIZ, err, errlen);
	if (ret < 0)
		return ret;
	ret = ifname_check(ifname, err, errlen);
	if (ret < 0)
		return ret;
	ret = get_str(o, "tag", false, tag, PROTO_TAG_MAX + 1, err, errlen);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	return tag_check(tag, err, errlen);
}

static int request_parse(const void *buf, size_t len, struct proto_request *req,
			 bool fast, char *err, size_t errlen)
{
	struct json_object *j = NULL;
	struct flat f;
	struct obj in = { 0 };
	struct obj *o = &in;
	int64_t v;
	int ret;

	memset(req, 0, sizeof(*req));
	if (err && errlen)
		err[0] = '\0';
	ret = datagram_check(buf, &len, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (fast && flat_parse(buf, len, &f))
		in.f = &f;
	else
		ret = json_tree(buf, len, &j, err, errlen);
	in.j = j;
	if (ret < 0)
		goto cleanup;
	ret = get_int(o, "version", INT64_MIN, INT64_MAX, true, &v, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (v != PROTO_VERSION_1 && v != PROTO_VERSION_2) {
		ret = errbuf_fail(err, errlen, "version: unsupported version %lld (this server speaks 1 and 2)",
			   (long long)v);
		goto cleanup;
	}
	req->version = (uint8_t)v;
	ret = get_int(o, "cmd", INT64_MIN, INT64_MAX, true, &v, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (v != PROTO_CMD_REQUEST && v != PROTO_CMD_RELEASE && v != PROTO_CMD_LIST) {
		ret = errbuf_fail(err, errlen, "cmd: unknown command %lld", (long long)v);
		goto cleanup;
	}
	req->cmd = (uint8_t)v;
	ret = get_int(o, "seq", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		req->seq = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;

	if (req->cmd == PROTO_CMD_LIST) {
		if (req->version < PROTO_VERSION_2) {
			ret = errbuf_fail(err, errlen, "cmd: list (3) needs version 2");
			goto cleanup;
		}
		ret = get_int(o, "offset", 0, UINT32_MAX, false, &v, err, errlen);
		if (ret == 0)
			req->offset = (uint32_t)v;
		else if (ret != -ENOENT)
			goto cleanup;
		ret = 0;
		goto cleanup;
	}

	ret = get_int(o, "table", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		req->held_table = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(o, "mark", 0, 1, false, &v, err, errlen);
	if (ret == 0 && v && req->version < PROTO_VERSION_2) {
		ret = errbuf_fail(err, errlen, "mark: a mark lease needs version 2");
		goto cleanup;
	}
	if (ret == 0)
		req->mark = v == 1;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = key_parse(o, &req->family, req->address, req->ifname, req->tag, err, errlen);
cleanup:
	json_object_put(j);
	return ret;
}

int proto_request_parse(const void *buf, size_t len, struct proto_request *req,
			char *err, size_t errlen)
{
	return request_parse(buf, len, req, true, err, errlen);
}

int proto_request_parse_json(const void *buf, size_t len, struct proto_request *req,
			     char *err, size_t errlen)
{
	return request_parse(buf, len, req, false, err, errlen);
}

/* The head of a server's answer: a version we speak and the cmd expected. */
static int answer_header(struct obj *in, int cmd, const char *what, uint8_t *version,
			 char *err, size_t errlen)
{
	int64_t v = 0;	/* set by get_int(); clang-analyzer cannot see that */
	int ret;

	ret = get_int(in, "version", PROTO_VERSION_1, PROTO_VERSION_2, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	*version = (uint8_t)v;
	ret = get_int(in, "cmd", INT64_MIN, INT64_MAX, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	if (v != cmd)
		return errbuf_fail(err, errlen, "cmd: expected %d (%s), got %lld", cmd, what, (long long)v);
	return 0;
}

int proto_reply_parse(const void *buf, size_t len, struct proto_reply *rep,
		      char *err, size_t errlen)
{
	struct json_object *o = NULL;
	int64_t v;
	struct obj in = { 0 };
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (err && errlen)
		err[0] = '\0';
	ret = json_edge(buf, len, &o, err, errlen);
	if (ret < 0)
		goto cleanup;
	in.j = o;
	ret = answer_header(&in, PROTO_CMD_REPLY, "reply", &rep->version, err, errlen);
	if (ret < 0)
		goto cleanup;
	rep->cmd = PROTO_CMD_REPLY;
	ret = get_int(&in, "table", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		goto cleanup;
	rep->table = (uint32_t)v;
	/* A v1 refusal from the original server carries only table 0. */
	ret = get_int(&in, "lease_expires", INT64_MIN, INT64_MAX, rep->table != 0, &v, err, errlen);
	if (ret == 0)
		rep->lease_expires = v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(&in, "lease_seconds", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		rep->lease_seconds = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(&in, "seq", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		rep->seq = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(&in, "retry_after", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		rep->retry_after = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(&in, "mark_mask", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		rep->mark_mask = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_str(&in, "error", false, rep->error, sizeof(rep->error), err, errlen);
	if (ret == -EINVAL && err && strstr(err, "longer than")) {
		/* A longer explanation is still an explanation: keep its start. */
		snprintf(rep->error, sizeof(rep->error), "%s",
			 json_object_get_string(json_object_object_get(o, "error")));
		ret = 0;
		err[0] = '\0';
	}
	if (ret == -ENOENT)
		ret = 0;
cleanup:
	json_object_put(o);
	return ret;
}

/* A bounded writer: once it runs out of room it stays out of room. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
};

static void put(struct out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->pos, w->len - w->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->len - w->pos) {
		w->full = true;
		return;
	}
	w->pos += (size_t)n;
}

static void put_char(struct out *w, char c)
{
	if (w->full || w->pos + 1 >= w->len) {
		w->full = true;
		return;
	}
	w->buf[w->pos++] = c;
	w->buf[w->pos] = '\0';
}

/* put() without a format, for the per-request reply: vfprintf cost as
 * much as the rest of formatting and sending a reply. */
static void put_mem(struct out *w, const char *s, size_t n)
{
	if (w->full || n >= w->len - w->pos) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->pos, s, n);
	w->pos += n;
	w->buf[w->pos] = '\0';
}

#define put_lit(w, s) put_mem((w), (s), sizeof(s) - 1)

/* put(w, "%lld", v) */
static void put_int(struct out *w, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put_mem(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* "key":"escaped string" (with a leading comma unless first). */
static void put_str(struct out *w, const char *key, const char *s)
{
	put_lit(w, ",\"");
	put_mem(w, key, strlen(key));
	put_lit(w, "\":\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			put_char(w, '\\');
			put_char(w, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			put(w, "\\u%04x", *p);
		} else {
			put_char(w, (char)*p);
		}
	}
	put_char(w, '"');
}

static int out_end(struct out *w)
{
	if (w->full || w->pos > (size_t)INT32_MAX)
		return -ENOSPC;
	return (int)w->pos;
}

int proto_request_format(const struct proto_request *req, char *buf, size_t len)
{
	struct out w = { .buf = buf, .len = len };

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	put(&w, "{\"version\":%u,\"cmd\":%u", req->version, req->cmd);
	if (req->cmd == PROTO_CMD_LIST) {
		put(&w, ",\"seq\":%u,\"offset\":%u}", req->seq, req->offset);
		return out_end(&w);
	}
	put(&w, ",\"addr_family\":%u", req->family);
	put_str(&w, "address", req->address);
	put_str(&w, "ifname", req->ifname);
	if (req->tag[0])
		put_str(&w, "tag", req->tag);
	/* The parser takes seq in v1 too: drop it only when there is none, as
	 * proto_reply_format does, so a request survives format and parse. */
	if (req->version >= PROTO_VERSION_2 || req->seq)
		put(&w, ",\"seq\":%u", req->seq);
	if (req->held_table)
		put(&w, ",\"table\":%u", req->held_table);
	if (req->mark)
		put_lit(&w, ",\"mark\":1");
	put_char(&w, '}');
	return out_end(&w);
}

int proto_reply_format(const struct proto_reply *rep, char *buf, size_t len)
{
	struct out w = { .buf = buf, .len = len };

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	/* v1 clients read only table and lease_expires; the rest costs them
	 * nothing, so every reply carries it. */
	put_lit(&w, "{\"version\":");
	put_int(&w, rep->version);
	put_lit(&w, ",\"cmd\":");
	put_int(&w, PROTO_CMD_REPLY);
	put_lit(&w, ",\"table\":");
	put_int(&w, rep->table);
	put_lit(&w, ",\"lease_expires\":");
	put_int(&w, rep->lease_expires);
	put_lit(&w, ",\"lease_seconds\":");
	put_int(&w, rep->lease_seconds);
	if (rep->version >= PROTO_VERSION_2 || rep->seq) {
		put_lit(&w, ",\"seq\":");
		put_int(&w, rep->seq);
	}
	if (rep->retry_after) {
		put_lit(&w, ",\"retry_after\":");
		put_int(&w, rep->retry_after);
	}
	if (rep->mark_mask) {
		put_lit(&w, ",\"mark_mask\":");
		put_int(&w, rep->mark_mask);
	}
	if (rep->error[0])
		put_str(&w, "error", rep->error);
	put_char(&w, '}');
	return out_end(&w);
}

static void put_lease(struct out *w, const struct proto_lease *l)
{
	put(w, "{\"addr_family\":%u", l->family);
	put_str(w, "address", l->address);
	put_str(w, "ifname", l->ifname);
	put_str(w, "tag", l->tag);
	put(w, ",\"table\":%u,\"seconds_left\":%u,\"uid\":%u%s}", l->table, l->seconds_left, l->uid,
	    l->mark ? ",\"mark\":1" : "");
}

int proto_list_format(const struct proto_list_reply *rep, char *buf, size_t len,
		      size_t *fitted)
{
	/* Room kept for the closing part: ],"total":N,"next":N,"pool":{...},"marks":{...}} */
	const size_t tail = 224;
	struct out w = { .buf = buf, .len = len > tail ? len - tail : 0 };
	uint32_t first, next = rep->next;
	size_t i;

	*fitted = 0;
	if (w.len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	put(&w, "{\"version\":%u,\"cmd\":%u,\"seq\":%u,\"leases\":[", rep->version,
	    PROTO_CMD_LIST_REPLY, rep->seq);
	if (w.full)
		return -ENOSPC;
	for (i = 0; i < rep->n; i++) {
		size_t mark = w.pos;

		if (i)
			put_char(&w, ',');
		put_lease(&w, &rep->leases[i]);
		if (w.full) {
			w.full = false;
			w.pos = mark;
			buf[mark] = '\0';
			break;
		}
	}
	*fitted = i;
	if (i < rep->n) {
		/* The caller's next assumed the whole page fits: move it back. */
		first = (rep->next ? rep->next : rep->total) - (uint32_t)rep->n;
		next = first + (uint32_t)i;
	}
	w.len = len;
	put(&w, "],\"total\":%u,\"next\":%u", rep->total, next);
	if (rep->has_pool)
		put(&w, ",\"pool\":{\"inet\":{\"used\":%u,\"free\":%u},\"inet6\":{\"used\":%u,\"free\":%u}}",
		    rep->pool_used[0], rep->pool_free[0], rep->pool_used[1], rep->pool_free[1]);
	if (rep->has_marks)
		put(&w, ",\"marks\":{\"mask\":%u,\"used\":%u,\"free\":%u}", rep->mark_mask, rep->marks_used,
		    rep->marks_free);
	put_char(&w, '}');
	return out_end(&w);
}

static int lease_parse(struct json_object *o, struct proto_lease *l, char *err, size_t errlen)
{
	int64_t v = 0;	/* set by get_int(); clang-analyzer cannot see that */
	const struct obj in = { .j = o };
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return errbuf_fail(err, errlen, "leases: entry is not an object");
	ret = key_parse(&in, &l->family, l->address, l->ifname, l->tag, err, errlen);
	if (ret < 0)
		return ret;
	ret = get_int(&in, "table", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	l->table = (uint32_t)v;
	ret = get_int(&in, "seconds_left", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	l->seconds_left = (uint32_t)v;
	ret = get_int(&in, "uid", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		return ret;
	l->uid = (uint32_t)v;
	ret = get_int(&in, "mark", 0, 1, false, &v, err, errlen);
	if (ret == 0)
		l->mark = v == 1;
	else if (ret != -ENOENT)
		return ret;
	if (l->mark && l->family != AF_UNSPEC)
		return errbuf_fail(err, errlen, "leases: a mark lease has addr_family 0");
	return 0;
}

/* "pool": {"inet": {"used": N, "free": N}, "inet6": {...}}; optional. */
static int pool_parse(struct json_object *o, struct proto_list_reply *rep, char *err, size_t errlen)
{
	static const char *const fam[2] = { "inet", "inet6" };
	struct json_object *p, *f;
	int64_t v = 0;
	int ret;

	if (!json_object_object_get_ex(o, "pool", &p))
		return 0;
	if (!json_object_is_type(p, json_type_object))
		return errbuf_fail(err, errlen, "pool: must be an object");
	for (int i = 0; i < 2; i++) {
		struct obj in;

		if (!json_object_object_get_ex(p, fam[i], &f) || !json_object_is_type(f, json_type_object))
			return errbuf_fail(err, errlen, "pool: %s: missing or not an object", fam[i]);
		in = (struct obj){ .j = f };
		if ((ret = get_int(&in, "used", 0, UINT32_MAX, true, &v, err, errlen)) < 0)
			return ret;
		rep->pool_used[i] = (uint32_t)v;
		if ((ret = get_int(&in, "free", 0, UINT32_MAX, true, &v, err, errlen)) < 0)
			return ret;
		rep->pool_free[i] = (uint32_t)v;
	}
	rep->has_pool = true;
	return 0;
}

/* "marks": {"mask": M, "used": N, "free": N}; optional. */
static int marks_parse(struct json_object *o, struct proto_list_reply *rep, char *err, size_t errlen)
{
	struct json_object *p;
	struct obj in;
	int64_t v = 0;
	int ret;

	if (!json_object_object_get_ex(o, "marks", &p))
		return 0;
	if (!json_object_is_type(p, json_type_object))
		return errbuf_fail(err, errlen, "marks: must be an object");
	in = (struct obj){ .j = p };
	if ((ret = get_int(&in, "mask", 1, UINT32_MAX, true, &v, err, errlen)) < 0)
		return ret;
	rep->mark_mask = (uint32_t)v;
	if ((ret = get_int(&in, "used", 0, UINT32_MAX, true, &v, err, errlen)) < 0)
		return ret;
	rep->marks_used = (uint32_t)v;
	if ((ret = get_int(&in, "free", 0, UINT32_MAX, true, &v, err, errlen)) < 0)
		return ret;
	rep->marks_free = (uint32_t)v;
	rep->has_marks = true;
	return 0;
}

int proto_list_parse(const void *buf, size_t len, struct proto_list_reply *rep,
		     char *err, size_t errlen)
{
	struct json_object *o = NULL, *arr;
	int64_t v = 0;	/* as in lease_parse() */
	size_t n;
	struct obj in = { 0 };
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (err && errlen)
		err[0] = '\0';
	ret = json_edge(buf, len, &o, err, errlen);
	if (ret < 0)
		goto cleanup;
	in.j = o;
	ret = answer_header(&in, PROTO_CMD_LIST_REPLY, "list reply", &rep->version, err, errlen);
	if (ret < 0)
		goto cleanup;
	ret = get_int(&in, "seq", 0, UINT32_MAX, false, &v, err, errlen);
	if (ret == 0)
		rep->seq = (uint32_t)v;
	else if (ret != -ENOENT)
		goto cleanup;
	ret = get_int(&in, "total", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		goto cleanup;
	rep->total = (uint32_t)v;
	ret = get_int(&in, "next", 0, UINT32_MAX, true, &v, err, errlen);
	if (ret < 0)
		goto cleanup;
	rep->next = (uint32_t)v;
	ret = pool_parse(o, rep, err, errlen);
	if (ret < 0)
		goto cleanup;
	ret = marks_parse(o, rep, err, errlen);
	if (ret < 0)
		goto cleanup;
	if (!json_object_object_get_ex(o, "leases", &arr) || !arr) {
		ret = errbuf_fail(err, errlen, "leases: missing");
		goto cleanup;
	}
	if (!json_object_is_type(arr, json_type_array)) {
		ret = errbuf_fail(err, errlen, "leases: must be an array");
		goto cleanup;
	}
	n = json_object_array_length(arr);
	if (n) {
		rep->leases = calloc(n, sizeof(*rep->leases));
		if (!rep->leases) {
			ret = -ENOMEM;
			goto cleanup;
		}
	}
	for (size_t i = 0; i < n; i++) {
		ret = lease_parse(json_object_array_get_idx(arr, i), &rep->leases[i], err, errlen);
		if (ret < 0)
			goto cleanup;
		rep->n = i + 1;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		proto_list_free(rep);
	json_object_put(o);
	return ret;
}

void proto_list_free(struct proto_list_reply *rep)
{
	if (!rep)
		return;
	free(rep->leases);
	rep->leases = NULL;
	rep->n = 0;
}
