/* mark: strict parsing of packet marks; see mark.h for the accepted syntax.
 *
 * Gluon's libpacketmark used atoi(), which turns "1abc" into 1 and "-1" or
 * "0x10" into garbage or 0 without a word: a typo silently sent traffic out
 * unmarked.  Here every byte is checked. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "mark.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses s[0..len) (not NUL-terminated: mark_mask_parse hands in halves). */
static int parse_span(const char *s, size_t len, uint32_t *out, const char **why)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0) {
		*why = "empty";
		return -EINVAL;
	}
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len == 2) {
			*why = "no hex digits after 0x";
			return -EINVAL;
		}
		for (i = 2; i < len; i++) {
			int d = hexval(s[i]);
			if (d < 0) {
				*why = "not a hex digit after 0x";
				return -EINVAL;
			}
			v = v * 16 + (unsigned)d;
			if (v > UINT32_MAX) {
				*why = "larger than 0xffffffff";
				return -EINVAL;
			}
		}
		*out = (uint32_t)v;
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "not a decimal or 0x-hex number";
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT32_MAX) {
			*why = "larger than 4294967295";
			return -EINVAL;
		}
	}
	if (len > 1 && s[0] == '0') {
		*why = "leading zero (octal?); write decimal or 0x-hex";
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int mark_parse(const char *s, uint32_t *mark, const char **why)
{
	const char *dummy;
	uint32_t v;
	int r;

	if (!why)
		why = &dummy;
	if (!s) {
		*why = "missing";
		return -EINVAL;
	}
	r = parse_span(s, strlen(s), &v, why);
	if (r < 0)
		return r;
	*mark = v;
	return 0;
}

int mark_mask_parse(const char *s, uint32_t *mark, uint32_t *mask, const char **why)
{
	const char *dummy, *slash;
	uint32_t m, k = UINT32_MAX;
	int r;

	if (!why)
		why = &dummy;
	if (!s) {
		*why = "missing";
		return -EINVAL;
	}
	slash = strchr(s, '/');
	r = parse_span(s, slash ? (size_t)(slash - s) : strlen(s), &m, why);
	if (r < 0)
		return r;
	if (slash) {
		r = parse_span(slash + 1, strlen(slash + 1), &k, why);
		if (r < 0) {
			/* Say which half was wrong; the detail matters less. */
			*why = "mask after '/' is not a 32-bit decimal or 0x-hex number";
			return r;
		}
		if (k == 0) {
			*why = "mask 0 would match every packet";
			return -EINVAL;
		}
		if (m & ~k) {
			*why = "mark has bits outside the mask";
			return -EINVAL;
		}
	}
	*mark = m;
	*mask = k;
	return 0;
}
