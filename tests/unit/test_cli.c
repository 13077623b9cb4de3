/* Unit tests for cli: the original's flags, the long options, defaults, and
 * the exact one-line message for every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cli.h"

static char err[256];

/* Parses a NULL-terminated argument list (argv[0] is added). */
static int parse_v(struct cli_opts *o, va_list ap)
{
	char *argv[32] = { "rtalloc" };
	int argc = 1;
	char *a;

	while ((a = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = a;
	argv[argc] = NULL;
	return cli_parse(argc, argv, o, err, sizeof(err));
}

static int parse(struct cli_opts *o, ...)
{
	va_list ap;
	int ret;

	va_start(ap, o);
	ret = parse_v(o, ap);
	va_end(ap);
	return ret;
}

/* Expects a refusal with exactly this message. */
static void bad(const char *want, ...)
{
	struct cli_opts o;
	va_list ap;
	int ret;

	va_start(ap, want);
	ret = parse_v(&o, ap);
	va_end(ap);
	if (ret != -EINVAL)
		fail_msg("expected a refusal `%s', got %d", want, ret);
	if (strcmp(err, want))
		fail_msg("error `%s', expected `%s'", err, want);
	assert_null(strchr(err, '\n'));
}

static void test_original_flags(void **state)
{
	struct cli_opts o;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "255.255.255.0", "-i", "eth0",
			       "-d", "table_allocator_socket", "-t", "wan a", "-f", "-s", NULL), 0);
	assert_int_equal(o.family, AF_INET);
	assert_string_equal(addr_str(&o.addr, buf, sizeof(buf)), "192.0.2.7");
	assert_int_equal(o.prefixlen, 24);
	assert_true(o.have_prefix);
	assert_string_equal(o.ifname, "eth0");
	assert_string_equal(o.socket, "table_allocator_socket");
	assert_string_equal(o.tag, "wan a");
	assert_true(o.foreground);
	assert_int_equal(o.log, LOG_TO_SYSLOG_STDERR);
	assert_false(o.release);
	assert_false(o.list);

	/* Defaults. */
	assert_int_equal(parse(&o, "-6", "-a", "2001:db8::7", "-n", "64", "-i", "wwan0", NULL), 0);
	assert_int_equal(o.family, AF_INET6);
	assert_int_equal(o.prefixlen, 64);
	assert_string_equal(o.socket, PROTO_DEFAULT_SOCKET);
	assert_string_equal(o.tag, "");
	assert_int_equal(o.pref_from, 10000);
	assert_int_equal(o.pref_to, 20000);
	assert_int_equal(o.pref_iif, 91000);
	assert_int_equal(o.fwmark_pref, 9000);
	assert_false(o.have_fwmark);
	assert_int_equal(o.retries, 5);
	assert_int_equal(o.retry_interval, 2);
	assert_int_equal(o.log, LOG_TO_STDERR);
	assert_int_equal(o.log_max, LOG_INFO);
	assert_false(o.foreground);
	assert_int_equal(o.address_wait, 10);
	assert_int_equal(o.table_min, 1);
	assert_int_equal(o.table_max, 4294967295u);

	/* -6 without -n, as the original allowed: the address alone. */
	assert_int_equal(parse(&o, "-6", "-a", "2001:db8::7", "-i", "wwan0", NULL), 0);
	assert_true(o.have_prefix);
	assert_int_equal(o.prefixlen, 128);

	/* -r needs no netmask; -l and -v. */
	assert_int_equal(parse(&o, "-r", "-4", "-a", "192.0.2.7", "-i", "eth0", "-l", "/tmp/x.log",
			       "-v", NULL), 0);
	assert_true(o.release);
	assert_false(o.have_prefix);
	assert_int_equal(o.log, LOG_TO_FILE);
	assert_string_equal(o.logfile, "/tmp/x.log");
	assert_int_equal(o.log_max, LOG_DEBUG);

	/* Order does not matter: the family may come last. */
	assert_int_equal(parse(&o, "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "-4", NULL), 0);
	assert_int_equal(o.family, AF_INET);

	assert_int_equal(parse(&o, "-h", NULL), 0);
	assert_true(o.help);
}

static void test_long_options(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
			       "--pref-from", "100", "--pref-to", "200", "--pref-iif", "300",
			       "--fwmark", "0x100/0xff00", "--fwmark-pref", "50",
			       "--retries", "2", "--retry-interval", "1", NULL), 0);
	assert_int_equal(o.pref_from, 100);
	assert_int_equal(o.pref_to, 200);
	assert_int_equal(o.pref_iif, 300);
	assert_true(o.have_fwmark);
	assert_int_equal(o.fwmark, 0x100);
	assert_int_equal(o.fwmask, 0xff00);
	assert_int_equal(o.fwmark_pref, 50);
	assert_int_equal(o.retries, 2);
	assert_int_equal(o.retry_interval, 1);

	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
			       "--fwmark=42", "--pref-from=4294967295", NULL), 0);
	assert_int_equal(o.fwmark, 42);
	assert_int_equal(o.fwmask, 0xffffffff);
	assert_int_equal(o.pref_from, 4294967295u);

	assert_int_equal(parse(&o, "--list", NULL), 0);
	assert_true(o.list);
	assert_false(o.json);
	assert_int_equal(parse(&o, "--list", "--json", "-d", "other", NULL), 0);
	assert_true(o.json);
	assert_string_equal(o.socket, "other");
	assert_int_equal(parse(&o, "--status", "--json", NULL), 0);
	assert_true(o.json && o.status);
}

/* The mode comes from the flags' table (mode_flags[]): the first given of
 * --status, --list, -r; none: a lease.  --status and --list take no
 * address and no later mode's flag. */
static void test_modes(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", NULL), 0);
	assert_int_equal(o.mode, CLI_MODE_LEASE);
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "-r", NULL), 0);
	assert_int_equal(o.mode, CLI_MODE_RELEASE);
	assert_int_equal(parse(&o, "-a", "vpn1", "-i", "eth0", "-r", NULL), 0);
	assert_int_equal(o.mode, CLI_MODE_RELEASE);
	assert_int_equal(parse(&o, "--list", "--json", NULL), 0);
	assert_int_equal(o.mode, CLI_MODE_LIST);
	assert_int_equal(parse(&o, "--status", NULL), 0);
	assert_int_equal(o.mode, CLI_MODE_STATUS);
	bad("--status takes only -d, --json and logging options", "--status", "--list", NULL);
	bad("--status takes only -d, --json and logging options", "--list", "--status", NULL);
	bad("--status takes only -d, --json and logging options", "--status", "-r", NULL);
	bad("--status takes only -d, --json and logging options", "--status", "-i", "eth0", NULL);
	bad("--list takes only -d, --json and logging options", "--list", "-r", NULL);
	bad("--list takes only -d, --json and logging options", "--list", "-a", "vpn1", NULL);
}

/* The 2017 client's long names map onto the short flags. */
static void test_original_long_options(void **state)
{
	struct cli_opts o;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse(&o, "-4", "--address", "192.0.2.7", "--netmask", "255.255.255.0",
			       "--ifname", "eth0", "--destination", "tas_socket", "--tag", "wan",
			       "--syslog", "--foreground", NULL), 0);
	assert_int_equal(o.family, AF_INET);
	assert_string_equal(addr_str(&o.addr, buf, sizeof(buf)), "192.0.2.7");
	assert_int_equal(o.prefixlen, 24);
	assert_string_equal(o.ifname, "eth0");
	assert_string_equal(o.socket, "tas_socket");
	assert_string_equal(o.tag, "wan");
	assert_int_equal(o.log, LOG_TO_SYSLOG_STDERR);
	assert_true(o.foreground);
	assert_int_equal(parse(&o, "-4", "--address=192.0.2.7", "--ifname=eth0", "--release",
			       "--log_path", "/tmp/x.log", NULL), 0);
	assert_true(o.release);
	assert_int_equal(o.log, LOG_TO_FILE);
	assert_string_equal(o.logfile, "/tmp/x.log");
}

/* -a without -4/-6: a table for an identifier, no rules. */
static void test_unspec(void **state)
{
	struct cli_opts o;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse(&o, "-a", "myuplink", "-i", "eth0", "-d", "tas", NULL), 0);
	assert_int_equal(o.family, AF_UNSPEC);
	assert_string_equal(o.id, "myuplink");
	assert_string_equal(cli_key_str(&o, buf, sizeof(buf)), "myuplink");
	assert_false(o.have_prefix);
	/* An address is just an identifier there; -n is not needed, and ignored. */
	assert_int_equal(parse(&o, "-a", "192.0.2.7", "-n", "junk", "-i", "eth0", NULL), 0);
	assert_int_equal(o.family, AF_UNSPEC);
	assert_string_equal(o.id, "192.0.2.7");
	assert_int_equal(parse(&o, "-a", "myuplink", "-i", "eth0", "-r", NULL), 0);
	assert_true(o.release);
	/* 45 characters fit the protocol's address member, 46 do not. */
	assert_int_equal(parse(&o, "-a", "123456789012345678901234567890123456789012345", "-i", "e", NULL), 0);
	bad("-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes",
	    "-a", "1234567890123456789012345678901234567890123456", "-i", "eth0", NULL);
	bad("-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes",
	    "-a", "my uplink", "-i", "eth0", NULL);
	bad("-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes",
	    "-a", "", "-i", "eth0", NULL);
	bad("-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes",
	    "-a", "my\"uplink", "-i", "eth0", NULL);
	bad("-a: without -4/-6, an identifier of 1..45 printable characters, no blanks, quotes or backslashes",
	    "-a", "my\\uplink", "-i", "eth0", NULL);
	bad("missing -i IFNAME", "-a", "myuplink", NULL);
	bad("--fwmark: no rules without -4/-6 (unspec lease)", "-a", "x", "-i", "eth0", "--fwmark", "1", NULL);
}

/* Tables never printed, installed or flushed. */
static void test_tables(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", NULL), 0);
	assert_false(cli_table_ok(&o, 0));
	assert_true(cli_table_ok(&o, 1));
	assert_true(cli_table_ok(&o, 252));
	assert_false(cli_table_ok(&o, 253));
	assert_false(cli_table_ok(&o, 254));
	assert_false(cli_table_ok(&o, 255));
	assert_true(cli_table_ok(&o, 256));
	assert_true(cli_table_ok(&o, 4294967295u));
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
			       "--tables", "10000-10099", "--address-wait", "0", NULL), 0);
	assert_int_equal(o.address_wait, 0);
	assert_false(cli_table_ok(&o, 9999));
	assert_true(cli_table_ok(&o, 10000));
	assert_true(cli_table_ok(&o, 10099));
	assert_false(cli_table_ok(&o, 10100));
	assert_false(cli_table_ok(&o, 254));
	/* A range spanning the kernel's tables still excludes them. */
	assert_int_equal(parse(&o, "--list", "--tables", "1-1000", NULL), 0);
	assert_false(cli_table_ok(&o, 255));
	assert_true(cli_table_ok(&o, 256));
	bad("--tables: not FIRST-LAST with 1 <= FIRST <= LAST <= 4294967295: '10-5'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--tables", "10-5", NULL);
	bad("--tables: not FIRST-LAST with 1 <= FIRST <= LAST <= 4294967295: '0-5'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--tables", "0-5", NULL);
	bad("--tables: not FIRST-LAST with 1 <= FIRST <= LAST <= 4294967295: '10000'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--tables", "10000", NULL);
	bad("--tables: not FIRST-LAST with 1 <= FIRST <= LAST <= 4294967295: '1-4294967296'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--tables", "1-4294967296", NULL);
	bad("--address-wait: not a number of seconds 0..3600: '3601'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--address-wait", "3601", NULL);
}

static void test_refusals(void **state)
{
	(void)state;
	bad("-a: not an IPv4 address: '10.0.0.300'", "-4", "-a", "10.0.0.300", "-n", "24", "-i", "eth0", NULL);
	bad("-a: not an IPv6 address: '192.0.2.7'", "-6", "-a", "192.0.2.7", "-n", "64", "-i", "eth0", NULL);
	bad("-n: not an IPv4 netmask or prefix length: '255.0.255.0'",
	    "-4", "-a", "192.0.2.7", "-n", "255.0.255.0", "-i", "eth0", NULL);
	bad("-n: not an IPv4 netmask or prefix length: '33'", "-4", "-a", "192.0.2.7", "-n", "33", "-i", "eth0", NULL);
	bad("-n: not an IPv6 prefix length 0..128: '255.255.255.0'",
	    "-6", "-a", "2001:db8::7", "-n", "255.255.255.0", "-i", "eth0", NULL);
	bad("-n: a /0 network would route everything through the table: '0.0.0.0'",
	    "-4", "-a", "192.0.2.7", "-n", "0.0.0.0", "-i", "eth0", NULL);
	bad("-i: not a valid interface name: 'eth0:1'", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0:1", NULL);
	bad("-i: not a valid interface name: 'abcdefghijklmnop'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "abcdefghijklmnop", NULL);
	bad("-d: socket name must be 1..107 bytes: ''", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "-d", "", NULL);
	bad("-t: tag contains a control character", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "-t", "a\nb", NULL);
	bad("--fwmark: mask 0 would match every packet: '0x1/0'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--fwmark", "0x1/0", NULL);
	bad("--fwmark: larger than 0xffffffff: '0x100000000'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--fwmark", "0x100000000", NULL);
	bad("--fwmark: leading zero (octal?); write decimal or 0x-hex: '010'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--fwmark", "010", NULL);
	bad("--pref-from: not a rule preference 1..4294967295: '0'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--pref-from", "0", NULL);
	bad("--pref-iif: not a rule preference 1..4294967295: '4294967296'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--pref-iif", "4294967296", NULL);
	bad("--fwmark-pref: not a rule preference 1..4294967295: '-1'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--fwmark-pref", "-1", NULL);
	bad("--retries: not a number 1..1000: '0'", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--retries", "0", NULL);
	bad("--retry-interval: not a number of seconds 1..3600: '1.5'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--retry-interval", "1.5", NULL);
	bad("-4 and -6: choose one", "-4", "-6", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", NULL);
	bad("missing -a ADDRESS", "-4", "-n", "24", "-i", "eth0", NULL);
	bad("missing -i IFNAME", "-4", "-a", "192.0.2.7", "-n", "24", NULL);
	bad("missing -n NETMASK", "-4", "-a", "192.0.2.7", "-i", "eth0", NULL);
	bad("-x: unknown option", "-4", "-x", NULL);
	bad("--bogus: unknown option", "--bogus", NULL);
	bad("-a: missing argument", "-4", "-a", NULL);
	bad("--fwmark: missing argument", "-4", "--fwmark", NULL);
	bad("unexpected argument: 'extra'", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "extra", NULL);
	bad("--json: only with --list or --status", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--json", NULL);
	bad("--list takes only -d, --json and logging options", "--list", "-4", NULL);
}

static void test_forward_iif(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", NULL), 0);
	assert_int_equal(o.n_forward, 0);
	assert_int_equal(parse(&o, "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
			       "--forward-iif", "lan0", "--forward-iif=br0", NULL), 0);
	assert_int_equal(o.n_forward, 2);
	assert_string_equal(o.forward_iif[0], "lan0");
	assert_string_equal(o.forward_iif[1], "br0");
	bad("--forward-iif: lo always has its rule",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--forward-iif", "lo", NULL);
	bad("--forward-iif: 'lan0' given twice", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
	    "--forward-iif", "lan0", "--forward-iif", "lan0", NULL);
	bad("--forward-iif: not a valid interface name: 'a b'",
	    "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0", "--forward-iif", "a b", NULL);
	bad("--forward-iif: at most 4 interfaces", "-4", "-a", "192.0.2.7", "-n", "24", "-i", "eth0",
	    "--forward-iif", "a0", "--forward-iif", "a1", "--forward-iif", "a2",
	    "--forward-iif", "a3", "--forward-iif", "a4", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_original_flags),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_long_options),
		cmocka_unit_test(test_original_long_options),
		cmocka_unit_test(test_unspec),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_forward_iif),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
