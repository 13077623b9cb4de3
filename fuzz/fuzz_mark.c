/* fuzz_mark: mark_parse and mark_mask_parse (LIBPACKETMARK_MARK, packetmark's
 * MARK, rtalloc --fwmark).  An accepted mark prints in decimal and in hex
 * and re-parses to the same value; an accepted MARK/MASK has a non-zero
 * mask covering the mark; a refusal always says why. */
#include <inttypes.h>

#include "fuzz.h"
#include "mark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const char *why = NULL;
	uint32_t mark, mask, again;
	char text[32];

	if (mark_parse(s, &mark, &why) == 0) {
		snprintf(text, sizeof(text), "%" PRIu32, mark);
		FUZZ_CHECK(mark_parse(text, &again, NULL) == 0 && again == mark);
		snprintf(text, sizeof(text), "0x%" PRIx32, mark);
		FUZZ_CHECK(mark_parse(text, &again, NULL) == 0 && again == mark);
		FUZZ_CHECK(strchr(s, '/') == NULL);
	} else {
		FUZZ_CHECK(why != NULL && why[0]);
	}
	why = NULL;
	if (mark_mask_parse(s, &mark, &mask, &why) == 0) {
		FUZZ_CHECK(mask != 0);
		FUZZ_CHECK((mark & ~mask) == 0);
		if (!strchr(s, '/'))
			FUZZ_CHECK(mask == UINT32_MAX);
	} else {
		FUZZ_CHECK(why != NULL && why[0]);
	}
	free(s);
	return 0;
}
