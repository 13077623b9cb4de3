/* errbuf: see errbuf.h. */
#include <errno.h>
#include <stdio.h>

#include "errbuf.h"

int errbuf_vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return -EINVAL;
}

int errbuf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vfail(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}
