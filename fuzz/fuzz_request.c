/* fuzz_request: proto_request_parse on any datagram.  A request it accepts
 * is valid (canonical address of its family, or an unspec identifier;
 * valid ifname, printable tag),
 * and formats and re-parses to the same struct: the client's formatter and
 * the server's parser agree.  Differential too: the fast path for flat
 * requests and the json-c path give the same verdict, struct and error. */
#include <sys/socket.h>

#include "addr.h"
#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: canonicalizing an address in place leaves bytes of the
 * longer input behind its NUL, which memcmp would see. */
static int request_equal(const struct proto_request *a, const struct proto_request *b)
{
	return a->version == b->version && a->cmd == b->cmd && a->family == b->family &&
	       !strcmp(a->address, b->address) && !strcmp(a->ifname, b->ifname) &&
	       !strcmp(a->tag, b->tag) && a->seq == b->seq && a->offset == b->offset &&
	       a->held_table == b->held_table;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PROTO_MAX_DATAGRAM];
	struct proto_request req, again, slow;
	struct inet_addr a;
	char err[256], slow_err[256], canon[INET6_ADDRSTRLEN];
	int n, ret;

	ret = proto_request_parse(data, size, &req, err, sizeof(err));
	FUZZ_CHECK(proto_request_parse_json(data, size, &slow, slow_err, sizeof(slow_err)) == ret);
	if (ret < 0) {
		FUZZ_CHECK(!strcmp(err, slow_err));
		fuzz_check_err(err, sizeof(err));
		return 0;
	}
	FUZZ_CHECK(request_equal(&req, &slow));
	FUZZ_CHECK(req.version == PROTO_VERSION_1 || req.version == PROTO_VERSION_2);
	FUZZ_CHECK(req.cmd == PROTO_CMD_REQUEST || req.cmd == PROTO_CMD_RELEASE ||
		   req.cmd == PROTO_CMD_LIST);
	if (req.cmd != PROTO_CMD_LIST) {
		FUZZ_CHECK(req.family == AF_INET || req.family == AF_INET6 || req.family == AF_UNSPEC);
		if (req.family == AF_UNSPEC && addr_parse(req.family, req.address, &a) < 0) {
			FUZZ_CHECK(proto_ident_valid(req.address));
		} else {
			FUZZ_CHECK(addr_parse(req.family, req.address, &a) == 0);
			FUZZ_CHECK(!strcmp(addr_str(&a, canon, sizeof(canon)), req.address));
		}
		FUZZ_CHECK(ifname_valid(req.ifname));
		for (const unsigned char *p = (const unsigned char *)req.tag; *p; p++)
			FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
	}
	n = proto_request_format(&req, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
	FUZZ_CHECK(proto_request_parse(buf, (size_t)n, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(request_equal(&req, &again));
	return 0;
}
