/* fuzz_route: route_arg_parse (rtalloc --route) and route_arg_msg_parse
 * (the "routes" control message a later run sends the daemon).  The first
 * input byte picks the family.  An accepted route has no host bits past
 * its prefix, prints canonically and re-parses to the same route; an
 * accepted message formats and re-parses to the same routes; a refusal
 * always says why. */
#include "fuzz.h"
#include "routearg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_arg r, again, rs[ROUTEARG_MAX], rs2[ROUTEARG_MAX];
	char err[256], text[ROUTEARG_LEN], msg[ROUTEARG_MSG_MAX];
	int family;
	size_t n, n2;
	char *s;

	if (!size)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	s = fuzz_cstr(data + 1, size - 1);
	err[0] = '\0';
	if (route_arg_parse(family, s, &r, err, sizeof(err)) == 0) {
		struct inet_addr m = r.dst;

		addr_mask(&m, r.dst_len);
		FUZZ_CHECK(!memcmp(m.bytes, r.dst.bytes, addr_len(family)));
		FUZZ_CHECK(r.dst_len <= addr_len(family) * 8);
		route_arg_str(&r, text, sizeof(text));
		FUZZ_CHECK(route_arg_parse(family, text, &again, err, sizeof(err)) == 0);
		FUZZ_CHECK(route_arg_equal(&r, &again));
	} else {
		fuzz_check_err(err, sizeof(err));
	}
	err[0] = '\0';
	if (route_arg_msg_parse(family, s, rs, &n, err, sizeof(err)) == 0) {
		FUZZ_CHECK(n <= ROUTEARG_MAX);
		route_arg_msg(rs, n, msg, sizeof(msg));
		FUZZ_CHECK(!strncmp(msg, "routes", 6));
		FUZZ_CHECK(route_arg_msg_parse(family, msg[6] ? msg + 7 : msg + 6, rs2, &n2, err,
					       sizeof(err)) == 0);
		FUZZ_CHECK(n2 == n);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(route_arg_equal(&rs[i], &rs2[i]));
	} else {
		fuzz_check_err(err, sizeof(err));
	}
	free(s);
	return 0;
}
