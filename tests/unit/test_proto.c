/* Unit tests for proto: every field, every malformed case, round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "proto.h"

static char err[256];

static int req(const char *s, struct proto_request *r)
{
	return proto_request_parse(s, strlen(s), r, err, sizeof(err));
}

/* Parses s, expects a refusal whose reason contains want. */
static void bad(const char *s, const char *want)
{
	struct proto_request r;

	assert_int_equal(req(s, &r), -EINVAL);
	if (!strstr(err, want))
		fail_msg("input %s: error `%s' does not mention `%s'", s, err, want);
}

static void test_request_v1(void **state)
{
	struct proto_request r;

	(void)state;
	assert_int_equal(req("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"192.0.2.1\","
			     "\"ifname\":\"eth0\",\"tag\":\"wan\"}", &r), 0);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.cmd, PROTO_CMD_REQUEST);
	assert_int_equal(r.family, AF_INET);
	assert_string_equal(r.address, "192.0.2.1");
	assert_string_equal(r.ifname, "eth0");
	assert_string_equal(r.tag, "wan");
	assert_int_equal(r.seq, 0);
	/* tag is optional; release; IPv6 canonicalized */
	assert_int_equal(req("{\"version\":1,\"cmd\":1,\"addr_family\":10,\"address\":\"2001:DB8:0:0::1\","
			     "\"ifname\":\"wlan0\"}", &r), 0);
	assert_int_equal(r.cmd, PROTO_CMD_RELEASE);
	assert_string_equal(r.address, "2001:db8::1");
	assert_string_equal(r.tag, "");
	/* unspec takes either family */
	assert_int_equal(req("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"::1\",\"ifname\":\"lo\"}", &r), 0);
	assert_int_equal(r.family, AF_UNSPEC);
	/* a trailing NUL, as C clients send, and white space around */
	const char s[] = " {\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"10.0.0.1\",\"ifname\":\"lo\"}\n";
	assert_int_equal(proto_request_parse(s, sizeof(s), &r, err, sizeof(err)), 0);
}

static void test_request_v2(void **state)
{
	struct proto_request r;

	(void)state;
	assert_int_equal(req("{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.1.2.3\","
			     "\"ifname\":\"eth1\",\"seq\":4294967295}", &r), 0);
	assert_int_equal(r.seq, 4294967295u);
	assert_int_equal(req("{\"version\":2,\"cmd\":3,\"offset\":17,\"seq\":5}", &r), 0);
	assert_int_equal(r.cmd, PROTO_CMD_LIST);
	assert_int_equal(r.offset, 17);
	assert_int_equal(r.seq, 5);
}

/* "table": the table a renewing client holds; unspec identifiers. */
static void test_request_held_ident(void **state)
{
	struct proto_request r, j;
	const char *ok[] = {
		"{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.1.2.3\",\"ifname\":\"eth1\",\"seq\":1,\"table\":10007}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"myuplink\",\"ifname\":\"eth1\"}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"a-b_c.d:e/f@9\",\"ifname\":\"eth1\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(req(ok[i], &r), 0);
		assert_int_equal(proto_request_parse_json(ok[i], strlen(ok[i]), &j, err, sizeof(err)), 0);
		assert_memory_equal(&r, &j, sizeof(r));
	}
	assert_int_equal(req(ok[0], &r), 0);
	assert_int_equal(r.held_table, 10007);
	assert_int_equal(req(ok[1], &r), 0);
	assert_int_equal(r.held_table, 0);
	assert_int_equal(r.family, AF_UNSPEC);
	assert_string_equal(r.address, "myuplink");
	/* an unspec address is still canonicalized */
	assert_int_equal(req("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"2001:DB8::1\",\"ifname\":\"e\"}", &r), 0);
	assert_string_equal(r.address, "2001:db8::1");
	bad("{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.1.2.3\",\"ifname\":\"e\",\"table\":-1}",
	    "table: must be 0..4294967295, got -1");
	bad("{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.1.2.3\",\"ifname\":\"e\",\"table\":\"1\"}",
	    "table: must be an integer");
	/* identifiers only for unspec */
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"myuplink\",\"ifname\":\"e\"}",
	    "address: not an IPv4 address");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"my uplink\",\"ifname\":\"e\"}",
	    "address: not an IP address or identifier: `my uplink'");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"a\\\"b\",\"ifname\":\"e\"}",
	    "address: not an IP address or identifier");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"\",\"ifname\":\"e\"}",
	    "address: not an IP address or identifier");
	assert_true(proto_ident_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));	/* 45 */
	assert_false(proto_ident_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(proto_ident_valid("a\x01"));
}

static void test_request_malformed(void **state)
{
	struct proto_request r;
	char big[300];

	(void)state;
	assert_int_equal(proto_request_parse("", 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty datagram"));
	assert_int_equal(proto_request_parse("\0\0", 2, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(proto_request_parse("{\"version\":1}\0{}", 16, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL byte"));
	bad("hello", "not JSON");
	bad("{\"version\":1", "not JSON");
	bad("[1,2]", "not a JSON object");
	bad("42", "not a JSON object");
	bad("null", "not a JSON object");
	bad("{} {}", "trailing data");
	bad("[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]", "not JSON");
	bad("{}", "version: missing");
	bad("{\"version\":\"1\"}", "version: must be an integer");
	bad("{\"version\":1.0}", "version: must be an integer");
	bad("{\"version\":3,\"cmd\":0}", "unsupported version 3");
	bad("{\"version\":99999999999999999999999,\"cmd\":0}", "version");
	bad("{\"version\":1}", "cmd: missing");
	bad("{\"version\":1,\"cmd\":2}", "cmd: unknown command 2");
	bad("{\"version\":1,\"cmd\":-1}", "cmd: unknown command -1");
	bad("{\"version\":1,\"cmd\":18446744073709551615}", "cmd:");
	bad("{\"version\":1,\"cmd\":true}", "cmd: must be an integer");
	bad("{\"version\":1,\"cmd\":3}", "needs version 2");
	bad("{\"version\":1,\"cmd\":0,\"address\":\"10.0.0.1\",\"ifname\":\"eth0\"}", "addr_family: missing");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":7,\"address\":\"10.0.0.1\",\"ifname\":\"eth0\"}",
	    "addr_family: must be 2 (inet), 10 (inet6) or 0 (unspec), got 7");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":\"inet\",\"address\":\"10.0.0.1\",\"ifname\":\"eth0\"}",
	    "addr_family: must be an integer");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"ifname\":\"eth0\"}", "address: missing");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":17,\"ifname\":\"eth0\"}",
	    "address: must be a string");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.300\",\"ifname\":\"eth0\"}",
	    "address: not an IPv4 address: `10.0.0.300'");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"::1\",\"ifname\":\"eth0\"}",
	    "address: not an IPv4 address");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":10,\"address\":\"10.0.0.1\",\"ifname\":\"eth0\"}",
	    "address: not an IPv6 address");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\\u0000x\",\"ifname\":\"eth0\"}",
	    "address: contains a NUL");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\"}", "ifname: missing");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"a/b\"}",
	    "ifname: not a valid interface name: `a/b'");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"\"}",
	    "ifname: not a valid interface name");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"abcdefghijklmnop\"}",
	    "ifname: longer than 15 bytes");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":[]}",
	    "ifname: must be a string");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"e\",\"tag\":5}",
	    "tag: must be a string");
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"e\",\"tag\":\"a\\nb\"}",
	    "tag: contains a control character");
	memset(big, 'x', sizeof(big));
	snprintf(big, sizeof(big), "{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\","
		 "\"ifname\":\"e\",\"tag\":\"%0200d\"}", 0);
	bad(big, "tag: longer than 127 bytes");
	bad("{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"e\",\"seq\":-1}",
	    "seq: must be 0..4294967295");
	bad("{\"version\":2,\"cmd\":3,\"offset\":\"x\"}", "offset: must be an integer");
	/* a huge datagram of spaces is still refused, not read forever */
	size_t n = PROTO_MAX_DATAGRAM + 10;
	char *huge = malloc(n);
	assert_non_null(huge);
	memset(huge, ' ', n);
	assert_int_equal(proto_request_parse(huge, n, &r, err, sizeof(err)), -EINVAL);
	free(huge);
	/* random bytes never crash */
	srand(1);
	for (int i = 0; i < 2000; i++) {
		unsigned char rnd[64];
		size_t len = (size_t)(rand() % (int)sizeof(rnd));

		for (size_t j = 0; j < len; j++)
			rnd[j] = (unsigned char)rand();
		proto_request_parse(rnd, len, &r, err, sizeof(err));
	}
}

/* Both parses of s (the fast path and json-c's) agree: result, reason and
 * every field. */
static void same_parse(const char *s, size_t len)
{
	struct proto_request a, b;
	char ea[256], eb[256];
	int ra = proto_request_parse(s, len, &a, ea, sizeof(ea));
	int rb = proto_request_parse_json(s, len, &b, eb, sizeof(eb));

	if (ra != rb || strcmp(ea, eb) ||
	    (ra == 0 && (a.version != b.version || a.cmd != b.cmd || a.family != b.family ||
			 strcmp(a.address, b.address) || strcmp(a.ifname, b.ifname) ||
			 strcmp(a.tag, b.tag) || a.seq != b.seq || a.offset != b.offset)))
		fail_msg("input `%.*s': fast %d `%s', json-c %d `%s'", (int)len, s, ra, ea, rb, eb);
}

static void test_request_fast(void **state)
{
	static const char *const cases[] = {
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\"}",
		" { \"version\" : 2 , \"cmd\" : 1 , \"addr_family\" : 10 , \"address\" : \"2001:DB8::1\" ,"
		" \"ifname\" : \"eth0\" , \"tag\" : \"wan x\" , \"seq\" : 4294967295 }\r\n",
		"{\"version\":2,\"cmd\":3,\"seq\":7,\"offset\":64}",
		"{}", "{ }", "{\"version\":1}", "{\"version\":\"1\"}", "{\"version\":1.0}",
		"{\"version\":1e0}", "{\"version\":-0}", "{\"version\":01}", "{\"version\":-1}",
		"{\"version\":1,\"version\":2}", "{\"version\":1,}", "{\"version\":1 \"cmd\":0}",
		"{\"version\":2,\"cmd\":0,\"seq\":-1}", "{\"version\":2,\"cmd\":0,\"seq\":4294967296}",
		"{\"version\":2,\"cmd\":0,\"seq\":999999999999999999}",
		"{\"version\":2,\"cmd\":0,\"seq\":9999999999999999999999}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\",\"x\":[1]}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\",\"x\":null}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"l\\u0067\"}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"abcdefghijklmnop\"}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\",\"tag\":5}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":\"2\",\"address\":\"10.0.0.1\",\"ifname\":\"lg0\"}",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\"} x",
		"{\"version\":1,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\",\"ifname\":\"lg0\"",
		"[1]", "1", "\"x\"", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,"
		"\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"version\":1}",
	};
	static const char alphabet[] = "{}[]:,\"\\ 0123456789-+.eE\tnulltrue\x01\x7f\xc3";
	const char *base = cases[1];
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_parse(cases[i], strlen(cases[i]));
	/* and mutants of a request: a byte replaced, inserted or dropped */
	srand(2);
	for (int i = 0; i < 20000; i++) {
		size_t n = strlen(base), at;

		memcpy(buf, base, n);
		for (int k = 0; k < 1 + rand() % 3; k++) {
			at = (size_t)rand() % n;
			switch (rand() % 3) {
			case 0:
				buf[at] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
				n++;
				break;
			default:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
		}
		same_parse(buf, n);
	}
}

static void test_request_roundtrip(void **state)
{
	struct proto_request in = {
		.version = 2, .cmd = PROTO_CMD_RELEASE, .family = AF_INET6,
		.address = "2001:db8::7", .ifname = "eth\"0", .tag = "a\\b\"c", .seq = 99,
	}, out;
	char buf[512];
	int n;

	(void)state;
	n = proto_request_format(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_request_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.cmd, PROTO_CMD_RELEASE);
	assert_int_equal(out.family, AF_INET6);
	assert_string_equal(out.address, in.address);
	assert_string_equal(out.ifname, in.ifname);
	assert_string_equal(out.tag, in.tag);
	assert_int_equal(out.seq, 99);
	assert_int_equal(out.held_table, 0);
	assert_null(strstr(buf, "\"table\""));
	in.cmd = PROTO_CMD_REQUEST;
	in.held_table = 4294967295u;
	n = proto_request_format(&in, buf, sizeof(buf));
	assert_int_equal(proto_request_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.held_table, 4294967295u);
	in.cmd = PROTO_CMD_RELEASE;
	in.held_table = 0;
	assert_int_equal(proto_request_format(&in, buf, 20), -ENOSPC);
	in.cmd = PROTO_CMD_LIST;
	in.offset = 5;
	n = proto_request_format(&in, buf, sizeof(buf));
	assert_int_equal(proto_request_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.cmd, PROTO_CMD_LIST);
	assert_int_equal(out.offset, 5);
}

static void test_reply(void **state)
{
	struct proto_reply in = {
		.version = 2, .cmd = PROTO_CMD_REPLY, .table = 10005,
		.lease_expires = 1700000000, .lease_seconds = 3600, .seq = 7,
	}, out;
	char buf[512];
	int n;

	(void)state;
	n = proto_reply_format(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_reply_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.table, 10005);
	assert_int_equal(out.lease_expires, 1700000000);
	assert_int_equal(out.lease_seconds, 3600);
	assert_int_equal(out.seq, 7);
	assert_string_equal(out.error, "");
	/* the exact text, and -ENOSPC in any buffer too short for it */
	in.table = UINT32_MAX;
	in.lease_expires = INT64_MIN;
	in.lease_seconds = 0;
	snprintf(in.error, sizeof(in.error), "a \"b\"");
	const char *want = "{\"version\":2,\"cmd\":2,\"table\":4294967295,"
			   "\"lease_expires\":-9223372036854775808,\"lease_seconds\":0,\"seq\":7,"
			   "\"error\":\"a \\\"b\\\"\"}";
	assert_int_equal(proto_reply_format(&in, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	for (size_t len = 1; len <= strlen(want); len++)
		assert_int_equal(proto_reply_format(&in, buf, len), -ENOSPC);
	in.lease_expires = -5;
	in.seq = 0;
	in.version = 1;
	in.error[0] = '\0';
	n = proto_reply_format(&in, buf, sizeof(buf));
	assert_string_equal(buf, "{\"version\":1,\"cmd\":2,\"table\":4294967295,"
			    "\"lease_expires\":-5,\"lease_seconds\":0}");
	assert_int_equal(n, (int)strlen(buf));
	/* refusal */
	memset(&in, 0, sizeof(in));
	in.version = 1;
	snprintf(in.error, sizeof(in.error), "no free table");
	n = proto_reply_format(&in, buf, sizeof(buf));
	assert_int_equal(proto_reply_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.table, 0);
	assert_string_equal(out.error, "no free table");
	assert_int_equal(out.retry_after, 0);
	/* a grace-period refusal says when to ask again */
	in.version = 2;
	in.seq = 9;
	in.retry_after = 41;
	n = proto_reply_format(&in, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"retry_after\":41,"));
	assert_int_equal(proto_reply_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.retry_after, 41);
	const char *bad_ra = "{\"version\":2,\"cmd\":2,\"table\":0,\"seq\":1,\"retry_after\":-1}";
	assert_int_equal(proto_reply_parse(bad_ra, strlen(bad_ra), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "retry_after:"));
	/* the original server's v1 reply */
	const char *v1 = "{\"version\":1,\"cmd\":2,\"table\":10001,\"lease_expires\":1500000000}";
	assert_int_equal(proto_reply_parse(v1, strlen(v1), &out, err, sizeof(err)), 0);
	assert_int_equal(out.table, 10001);
	const char *bad1 = "{\"version\":1,\"cmd\":0,\"table\":1}";
	assert_int_equal(proto_reply_parse(bad1, strlen(bad1), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cmd: expected 2"));
	const char *bad2 = "{\"version\":1,\"cmd\":2,\"table\":-4}";
	assert_int_equal(proto_reply_parse(bad2, strlen(bad2), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "table:"));
	const char *bad3 = "{\"version\":1,\"cmd\":2,\"table\":5}";
	assert_int_equal(proto_reply_parse(bad3, strlen(bad3), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "lease_expires: missing"));
}

static void test_list(void **state)
{
	struct proto_lease leases[50];
	struct proto_list_reply in = { .version = 2, .seq = 3, .total = 60, .next = 50,
				       .n = 50, .leases = leases }, out;
	char buf[4096];
	size_t fitted;
	int n;

	(void)state;
	for (int i = 0; i < 50; i++) {
		leases[i] = (struct proto_lease){ .family = AF_INET, .table = 10000 + (uint32_t)i,
						  .seconds_left = 30, .uid = 0 };
		snprintf(leases[i].address, sizeof(leases[i].address), "10.0.0.%d", i);
		snprintf(leases[i].ifname, sizeof(leases[i].ifname), "veth%d", i);
		snprintf(leases[i].tag, sizeof(leases[i].tag), "t\"%d", i);
	}
	n = proto_list_format(&in, buf, sizeof(buf), &fitted);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_true(fitted > 0 && fitted < 50);
	assert_int_equal(proto_list_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n, fitted);
	assert_int_equal(out.total, 60);
	assert_int_equal(out.next, fitted);	/* the page started at offset 0 */
	assert_int_equal(out.seq, 3);
	assert_int_equal(out.leases[1].table, 10001);
	assert_string_equal(out.leases[1].tag, "t\"1");
	assert_string_equal(out.leases[1].address, "10.0.0.1");
	proto_list_free(&out);
	/* everything fits */
	in.n = 3;
	in.next = 0;
	in.total = 3;
	n = proto_list_format(&in, buf, sizeof(buf), &fitted);
	assert_int_equal(fitted, 3);
	assert_int_equal(proto_list_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.next, 0);
	assert_int_equal(out.n, 3);
	proto_list_free(&out);
	assert_false(out.has_pool);	/* a server that sends none */
	proto_list_free(&out);
	/* empty, with the server's pool (what the agent's metrics ask for) */
	in.n = 0;
	in.total = 0;
	in.has_pool = true;
	in.pool_used[0] = 7;
	in.pool_free[0] = 993;
	in.pool_used[1] = 4294967295u;
	in.pool_free[1] = 0;
	n = proto_list_format(&in, buf, sizeof(buf), &fitted);
	assert_int_equal(proto_list_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n, 0);
	assert_true(out.has_pool);
	assert_int_equal(out.pool_used[0], 7);
	assert_int_equal(out.pool_free[0], 993);
	assert_int_equal(out.pool_used[1], 4294967295u);
	assert_int_equal(out.pool_free[1], 0);
	proto_list_free(&out);
	/* a mark lease and the mark pool */
	in.n = 1;
	in.total = 1;
	in.has_marks = true;
	in.mark_mask = 0xf0000000u;
	in.marks_used = 1;
	in.marks_free = 13;
	leases[0] = (struct proto_lease){ .family = AF_UNSPEC, .table = 0x10000000u, .seconds_left = 9,
					  .mark = true };
	snprintf(leases[0].address, sizeof(leases[0].address), "exec-1");
	snprintf(leases[0].ifname, sizeof(leases[0].ifname), "wan0");
	n = proto_list_format(&in, buf, sizeof(buf), &fitted);
	assert_int_equal(proto_list_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_true(out.has_marks);
	assert_int_equal(out.mark_mask, 0xf0000000u);
	assert_int_equal(out.marks_used, 1);
	assert_int_equal(out.marks_free, 13);
	assert_int_equal(out.n, 1);
	assert_true(out.leases[0].mark);
	assert_int_equal(out.leases[0].table, 0x10000000u);
	assert_string_equal(out.leases[0].address, "exec-1");
	proto_list_free(&out);
	const char *mk = "{\"version\":2,\"cmd\":4,\"total\":1,\"next\":0,\"leases\":[{\"addr_family\":2,"
			 "\"address\":\"10.0.0.1\",\"ifname\":\"a\",\"table\":1,\"seconds_left\":1,\"uid\":0,\"mark\":1}]}";
	assert_int_equal(proto_list_parse(mk, strlen(mk), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a mark lease has addr_family 0"));
	const char *mp = "{\"version\":2,\"cmd\":4,\"total\":0,\"next\":0,\"leases\":[],\"marks\":{\"mask\":0}}";
	assert_int_equal(proto_list_parse(mp, strlen(mp), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mask: must be"));
	const char *p = "{\"version\":2,\"cmd\":4,\"total\":0,\"next\":0,\"leases\":[],\"pool\":{\"inet\":{\"used\":1}}}";
	assert_int_equal(proto_list_parse(p, strlen(p), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "free: missing"));
	const char *b = "{\"version\":2,\"cmd\":4,\"total\":1,\"next\":0,\"leases\":[{\"addr_family\":2}]}";
	assert_int_equal(proto_list_parse(b, strlen(b), &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "address: missing"));
	assert_null(out.leases);
}

/* v2 "mark": 1 asks for a mark lease; the reply carries mark_mask. */
static void test_mark(void **state)
{
	struct proto_request r, j, out;
	struct proto_reply rep = { .version = 2, .cmd = PROTO_CMD_REPLY, .table = 0x20000000u,
				   .lease_expires = 1700000000, .lease_seconds = 60, .seq = 3,
				   .mark_mask = 0xf0000000u }, rout;
	const char *m = "{\"version\":2,\"cmd\":0,\"addr_family\":0,\"address\":\"exec-1\",\"ifname\":\"wan0\","
			"\"seq\":1,\"mark\":1,\"table\":536870912}";
	char buf[512];
	int n;

	(void)state;
	assert_int_equal(req(m, &r), 0);
	assert_true(r.mark);
	assert_int_equal(r.held_table, 0x20000000u);
	assert_int_equal(proto_request_parse_json(m, strlen(m), &j, err, sizeof(err)), 0);
	assert_memory_equal(&r, &j, sizeof(r));
	n = proto_request_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(req(buf, &out), 0);
	assert_memory_equal(&r, &out, sizeof(r));
	/* absent or 0: a table, as before */
	assert_int_equal(req("{\"version\":2,\"cmd\":0,\"addr_family\":2,\"address\":\"10.0.0.1\","
			     "\"ifname\":\"eth0\",\"mark\":0}", &r), 0);
	assert_false(r.mark);
	bad("{\"version\":1,\"cmd\":0,\"addr_family\":0,\"address\":\"x\",\"ifname\":\"eth0\",\"mark\":1}",
	    "mark: a mark lease needs version 2");
	bad("{\"version\":2,\"cmd\":0,\"addr_family\":0,\"address\":\"x\",\"ifname\":\"eth0\",\"mark\":2}",
	    "mark: must be 0..1, got 2");
	bad("{\"version\":2,\"cmd\":0,\"addr_family\":0,\"address\":\"x\",\"ifname\":\"eth0\",\"mark\":\"1\"}",
	    "mark: must be an integer");
	n = proto_reply_format(&rep, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\"mark_mask\":4026531840"));
	assert_int_equal(proto_reply_parse(buf, (size_t)n, &rout, err, sizeof(err)), 0);
	assert_int_equal(rout.table, 0x20000000u);
	assert_int_equal(rout.mark_mask, 0xf0000000u);
	/* a table reply carries none */
	rep.mark_mask = 0;
	n = proto_reply_format(&rep, buf, sizeof(buf));
	assert_null(strstr(buf, "mark_mask"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_v1),
		cmocka_unit_test(test_request_v2),
		cmocka_unit_test(test_request_held_ident),
		cmocka_unit_test(test_request_malformed),
		cmocka_unit_test(test_request_fast),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_mark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
