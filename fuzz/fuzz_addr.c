/* fuzz_addr: the client's edge parsers, addr_parse, netmask_parse and
 * ifname_valid.  The first byte picks the family, the rest is the string.
 * An accepted address prints canonically and re-parses to the same bytes;
 * an accepted netmask is within the family's width; an accepted ifname
 * obeys the kernel's rules. */
#include <ctype.h>
#include <sys/socket.h>

#include "addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int families[] = { AF_INET, AF_INET6, AF_UNSPEC, AF_UNIX };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inet_addr a, b;
	char canon[INET6_ADDRSTRLEN];
	uint8_t plen = 0xff;
	int family;
	char *s;

	if (size < 1)
		return 0;
	family = families[data[0] % 4];
	s = fuzz_cstr(data + 1, size - 1);

	if (addr_parse(family, s, &a) == 0) {
		FUZZ_CHECK(a.family == AF_INET || a.family == AF_INET6);
		FUZZ_CHECK(family == AF_UNSPEC || a.family == family);
		addr_str(&a, canon, sizeof(canon));
		FUZZ_CHECK(addr_parse(a.family, canon, &b) == 0);
		FUZZ_CHECK(a.family == b.family && !memcmp(a.bytes, b.bytes, addr_len(a.family)));
		/* canonical: printing the re-parsed address gives the same text */
		char again[INET6_ADDRSTRLEN];
		FUZZ_CHECK(!strcmp(addr_str(&b, again, sizeof(again)), canon));
		addr_mask(&b, (uint8_t)(data[0] >> 2));
	}

	if (netmask_parse(family, s, &plen) == 0) {
		FUZZ_CHECK(family == AF_INET || family == AF_INET6);
		FUZZ_CHECK(plen <= (family == AF_INET ? 32 : 128));
	}

	if (ifname_valid(s)) {
		size_t len = strlen(s);

		FUZZ_CHECK(len >= 1 && len < IFNAMSIZ);
		FUZZ_CHECK(strcmp(s, ".") && strcmp(s, ".."));
		for (const char *p = s; *p; p++)
			FUZZ_CHECK(*p != '/' && *p != ':' && isgraph((unsigned char)*p));
	}
	free(s);
	return 0;
}
