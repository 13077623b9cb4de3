/* fuzz_agentcfg: agentcfg_parse (rtalloc-agent's config) on any text.  An
 * accepted config keeps what the agent relies on: a terminated, non-empty
 * socket_path; at most AGENTCFG_PATTERNS_MAX valid globs per list; a family
 * enabled; fwmark entries with valid globs and a mask covering the mark;
 * forward_from valid interface names.  agentcfg_manages never crashes. */
#include "agentcfg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_globs(const char (*v)[AGENTCFG_PATTERN_MAX], size_t n)
{
	FUZZ_CHECK(n <= AGENTCFG_PATTERNS_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(memchr(v[i], '\0', AGENTCFG_PATTERN_MAX));
		FUZZ_CHECK(agentcfg_glob_valid(v[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "wan0", "eth1", "lo", "wwan3", "x" };
	struct agentcfg c;
	struct uplink_policy pol;
	char err[256];
	/* Not NUL-terminated on purpose: agentcfg_parse takes a length. */
	char *text = malloc(size ? size : 1);

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	agentcfg_defaults(&c);
	if (agentcfg_parse(&c, text, size, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err));
		free(text);
		return 0;
	}
	FUZZ_CHECK(memchr(c.socket_path, '\0', sizeof(c.socket_path)) && c.socket_path[0]);
	check_globs(c.interfaces, c.ninterfaces);
	check_globs(c.exclude, c.nexclude);
	FUZZ_CHECK(c.inet || c.inet6);
	FUZZ_CHECK(c.nfwmark <= AGENTCFG_PATTERNS_MAX);
	for (size_t i = 0; i < c.nfwmark; i++) {
		FUZZ_CHECK(agentcfg_glob_valid(c.fwmark[i].pattern));
		FUZZ_CHECK(c.fwmark[i].mask && (c.fwmark[i].mark & ~c.fwmark[i].mask) == 0);
	}
	FUZZ_CHECK(c.nforward <= ENGINE_FORWARD_MAX);
	for (size_t i = 0; i < c.nforward; i++)
		FUZZ_CHECK(ifname_valid(c.forward_from[i]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		agentcfg_manages(&c, AF_INET, names[i], &pol);
		agentcfg_manages(&c, AF_INET6, names[i], &pol);
	}
	free(text);
	return 0;
}
