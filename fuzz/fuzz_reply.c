/* fuzz_reply: proto_reply_parse on any datagram (what a client reads from a
 * server, or from whoever else sends to its socket).  An accepted reply is
 * a REPLY with a terminated error text, and it formats and re-parses to the
 * same struct. */
#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PROTO_MAX_DATAGRAM];
	struct proto_reply rep, again;
	char err[256];
	int n;

	if (proto_reply_parse(data, size, &rep, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err));
		return 0;
	}
	FUZZ_CHECK(rep.version == PROTO_VERSION_1 || rep.version == PROTO_VERSION_2);
	FUZZ_CHECK(rep.cmd == PROTO_CMD_REPLY);
	FUZZ_CHECK(memchr(rep.error, '\0', sizeof(rep.error)) != NULL);
	n = proto_reply_format(&rep, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
	FUZZ_CHECK(proto_reply_parse(buf, (size_t)n, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(rep.version == again.version && rep.table == again.table &&
		   rep.lease_expires == again.lease_expires &&
		   rep.lease_seconds == again.lease_seconds && rep.seq == again.seq &&
		   !strcmp(rep.error, again.error));
	return 0;
}
