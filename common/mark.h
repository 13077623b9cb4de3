/* mark: strict parsing of packet marks (SO_MARK, ip rule fwmark).
 *
 * Shared by libpacketmark.so (LIBPACKETMARK_MARK), packetmark (its MARK
 * argument) and anything that takes a MARK[/MASK].  No logging and no
 * allocation: the preload shim links it without libcommon. */
#ifndef RTALLOC_MARK_H
#define RTALLOC_MARK_H

#include <stdint.h>

/* A mark is "0" or a decimal number without leading zeros, or 0x/0X and
 * hex digits, with a value of at most 0xffffffff.  Nothing else: no sign, no
 * white space, no trailing characters, no octal (iproute2 reads "010" as 8,
 * so a leading zero is refused as ambiguous).
 * Returns 0, or -EINVAL with *why set to a static reason (why may be NULL). */
int mark_parse(const char *s, uint32_t *mark, const char **why);

/* MARK or MARK/MASK, as `ip rule add fwmark` takes it.  Without a mask the
 * mask is 0xffffffff.  A mask of 0 (matches every packet) and a mark with
 * bits outside its mask (they would be ignored) are refused as mistakes.
 * Returns 0 or -EINVAL with *why as above. */
int mark_mask_parse(const char *s, uint32_t *mark, uint32_t *mask, const char **why);

#endif
