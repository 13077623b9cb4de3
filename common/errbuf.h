/* errbuf: the one way a parser leaves its reason for a rejection: one
 * printf-formatted line in the caller's err buffer, and -EINVAL. */
#ifndef RTALLOC_ERRBUF_H
#define RTALLOC_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* printf into err (NULL or errlen 0: nothing written); always -EINVAL. */
int errbuf_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int errbuf_vfail(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#endif
