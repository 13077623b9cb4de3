/* fuzz_list: proto_list_parse on any datagram.  Every accepted lease is
 * valid (as for a request), and the reply formats (all of it fitting in a
 * roomy buffer) and re-parses to the same leases. */
#include <sys/socket.h>

#include "addr.h"
#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: canonicalizing an address in place leaves bytes of the
 * longer input behind its NUL, which memcmp would see. */
static int lease_equal(const struct proto_lease *a, const struct proto_lease *b)
{
	return a->family == b->family && !strcmp(a->address, b->address) &&
	       !strcmp(a->ifname, b->ifname) && !strcmp(a->tag, b->tag) &&
	       a->table == b->table && a->seconds_left == b->seconds_left && a->uid == b->uid;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_list_reply rep, again;
	struct inet_addr a;
	char err[256], canon[INET6_ADDRSTRLEN];
	size_t cap, fitted;
	char *buf;
	int n;

	if (proto_list_parse(data, size, &rep, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err));
		FUZZ_CHECK(rep.leases == NULL && rep.n == 0);
		return 0;
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct proto_lease *l = &rep.leases[i];

		if (l->family == AF_UNSPEC && addr_parse(l->family, l->address, &a) < 0) {
			FUZZ_CHECK(proto_ident_valid(l->address));	/* an identifier */
		} else {
			FUZZ_CHECK(addr_parse(l->family, l->address, &a) == 0);
			FUZZ_CHECK(!strcmp(addr_str(&a, canon, sizeof(canon)), l->address));
		}
		FUZZ_CHECK(ifname_valid(l->ifname));
	}
	/* A formatted lease is at most ~1 KiB (tag escaped 6x), whatever it
	 * looked like on input. */
	cap = 1024 + rep.n * 1024;
	buf = malloc(cap);
	FUZZ_CHECK(buf != NULL);
	n = proto_list_format(&rep, buf, cap, &fitted);
	FUZZ_CHECK(n > 0 && fitted == rep.n);
	FUZZ_CHECK(proto_list_parse(buf, (size_t)n, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(again.version == rep.version && again.seq == rep.seq &&
		   again.total == rep.total && again.next == rep.next && again.n == rep.n);
	for (size_t i = 0; i < rep.n; i++)
		FUZZ_CHECK(lease_equal(&rep.leases[i], &again.leases[i]));
	proto_list_free(&again);
	proto_list_free(&rep);
	free(buf);
	return 0;
}
