/* fuzz_config: config_parse on any text.  An accepted config keeps the
 * limits rtallocd relies on: a table range inside 1..UINT32_MAX that misses
 * the kernel's tables 253..255, terminated non-empty paths, at most
 * CONFIG_MAX_IDS ids, at least one family. */
#include "config.h"
#include "fuzz.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[256];
	uint64_t last;
	/* Not NUL-terminated on purpose: config_parse takes a length. */
	char *text = malloc(size ? size : 1);

	FUZZ_CHECK(text != NULL);
	/* an unknown key is a warning line: not one per run */
	log_open("fuzz_config", LOG_TO_NONE, NULL);
	memcpy(text, data, size);
	config_defaults(&c);
	if (config_parse(&c, text, size, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err));
		free(text);
		return 0;
	}
	last = (uint64_t)c.table_offset + c.num_tables - 1;
	FUZZ_CHECK(c.table_offset >= 1 && c.num_tables >= 1 && c.num_tables <= CONFIG_MAX_TABLES);
	FUZZ_CHECK(last <= UINT32_MAX);
	FUZZ_CHECK(!(c.table_offset <= 255 && last >= 253));
	FUZZ_CHECK(c.table_timeout >= 1 && c.table_timeout <= CONFIG_MAX_TIMEOUT);
	FUZZ_CHECK(memchr(c.socket_path, '\0', sizeof(c.socket_path)) && c.socket_path[0]);
	FUZZ_CHECK(memchr(c.db_path, '\0', sizeof(c.db_path)) && c.db_path[0]);
	FUZZ_CHECK(memchr(c.log_path, '\0', sizeof(c.log_path)));
	FUZZ_CHECK(c.n_uids <= CONFIG_MAX_IDS && c.n_gids <= CONFIG_MAX_IDS);
	FUZZ_CHECK(c.af_inet || c.af_inet6 || c.af_unspec);
	free(text);
	return 0;
}
