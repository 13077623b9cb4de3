/* fuzz_cli: rtalloc's cli_parse on an argv made of the input's NUL-separated
 * pieces.  Accepted options are complete and valid: a family with an address
 * of that family, a valid ifname, a netmask (unless -r), a tag without
 * control characters; or, without a family (unspec), a printable identifier
 * of 1..45 bytes and a valid ifname; --list, --status and --version alone.  Tables 0
 * and 253..255 are never acceptable, whatever --tables says. */
#include <sys/socket.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2];
	struct cli_opts o;
	char err[512];
	char *s, *p, *end;
	int argc = 0;

	s = fuzz_cstr(data, size);
	argv[argc++] = "rtalloc";
	for (p = s, end = s + size; p <= end && argc < MAX_ARGS + 1; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err));
		goto cleanup;
	}
	FUZZ_CHECK(o.table_min >= 1 && o.table_min <= o.table_max);
	FUZZ_CHECK(!cli_table_ok(&o, 0) && !cli_table_ok(&o, 253) && !cli_table_ok(&o, 254) &&
		   !cli_table_ok(&o, 255));
	/* The listing modes and --version take no address. */
	if (o.help || o.version || o.list || o.status)
		goto cleanup;
	if (o.family == AF_UNSPEC) {
		size_t n = strlen(o.id);

		FUZZ_CHECK(n >= 1 && n <= CLI_ID_MAX);
		for (const unsigned char *t = (const unsigned char *)o.id; *t; t++)
			FUZZ_CHECK(*t > 0x20 && *t < 0x7f && *t != '"' && *t != '\\');
		FUZZ_CHECK(ifname_valid(o.ifname));
		FUZZ_CHECK(!o.have_fwmark);
		goto cleanup;
	}
	FUZZ_CHECK(o.family == AF_INET || o.family == AF_INET6);
	FUZZ_CHECK(o.addr.family == o.family);
	FUZZ_CHECK(ifname_valid(o.ifname));
	FUZZ_CHECK(o.have_prefix || o.release);
	FUZZ_CHECK(!o.have_prefix || (o.prefixlen >= 1 && o.prefixlen <= (o.family == AF_INET ? 32 : 128)));
	FUZZ_CHECK(o.socket[0] && memchr(o.socket, '\0', sizeof(o.socket)));
	for (const unsigned char *t = (const unsigned char *)o.tag; *t; t++)
		FUZZ_CHECK(*t >= 0x20 && *t != 0x7f);
	FUZZ_CHECK(o.retries >= 1 && o.retry_interval >= 1);
	FUZZ_CHECK(!o.have_fwmark || (o.fwmask && !(o.fwmark & ~o.fwmask)));
cleanup:
	free(s);
	return 0;
}
