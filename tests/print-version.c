// SPDX-License-Identifier: MIT
/*
 * print-version - print the version macros of ringcast.h, as the compiler
 * sees them, for test-version.sh: RINGCAST_VERSION on the first line,
 * MAJOR.MINOR.PATCH on the second.
 */
#include <stdio.h>

#include "ringcast.h"

int main(void)
{
	printf("%s\n%d.%d.%d\n", RINGCAST_VERSION, RINGCAST_VERSION_MAJOR,
	       RINGCAST_VERSION_MINOR, RINGCAST_VERSION_PATCH);
	return 0;
}
