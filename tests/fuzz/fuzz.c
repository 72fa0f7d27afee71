// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the libFuzzer harnesses: see fuzz.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "ringcast.h"

const char *fz_name(void)
{
	static char name[64];
	static unsigned long n;

	snprintf(name, sizeof(name), "fz-%d-%lu", (int)getpid(), n++);
	return name;
}

void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fz_expect(const char *what, int r, int nonneg, const int *ok)
{
	if (r == 0 || (r > 0 && nonneg))
		return;
	for (; *ok; ok++)
		if (r == *ok)
			return;
	fz_fail("%s: unexpected %d (%s) [%s]", what, r, ringcast_strerror(r),
		ringcast_errdetail());
}
