/* SPDX-License-Identifier: MIT */
/*
 * The number syntax of the command-line programs (ringcast and
 * ringcast-bridge), so that a size or a number of seconds means the same
 * to both.  Header-only: each program includes it (tools/cli/ and
 * tools/bridge/).
 */
#ifndef RINGCAST_TOOLS_PARSE_H
#define RINGCAST_TOOLS_PARSE_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringcast.h"

#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL

/*
 * Decimal, with an optional binary suffix (k, M, G) when @suffix; no sign,
 * no leading space.  Return: 0, -EINVAL or -ERANGE (above @max).
 */
static inline int parse_u64(const char *s, uint64_t max, bool suffix,
			    uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (suffix && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1ull << 10;
			break;
		case 'm':
		case 'M':
			mult = 1ull << 20;
			break;
		case 'g':
		case 'G':
			mult = 1ull << 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (v > max / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/*
 * The bytes of a ring's data area (struct ringcast_ring_opts.data_size):
 * a power of two from 4 KiB to 4 GiB, with an optional suffix; 0 asks for
 * no data area (RINGCAST_CREATE_NO_DATA).  Return: 0, -EINVAL (not a
 * size), -ERANGE (out of range) or -EDOM (not a power of two).
 */
#define DATA_SIZE_MIN ((uint64_t)RINGCAST_MIN_DATA_SIZE)
#define DATA_SIZE_MAX ((uint64_t)RINGCAST_MAX_DATA_SIZE)

static inline int parse_data_size(const char *s, uint64_t *out)
{
	uint64_t v;
	int err = parse_u64(s, DATA_SIZE_MAX, true, &v);

	if (err)
		return err;
	if (v && v < DATA_SIZE_MIN)
		return -ERANGE;
	if (v & (v - 1))
		return -EDOM;
	*out = v;
	return 0;
}

/*
 * Seconds, fractions allowed, at most 10^9, into nanoseconds (rounded).
 * Return: 0 or -EINVAL.
 */
static inline int parse_seconds(const char *s, int64_t *ns)
{
	double v;
	char *end;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*ns = (int64_t)(v * NSEC_PER_SEC + 0.5);
	return 0;
}

/*
 * A duration: seconds, or a number with a unit, s, m, h or d (fractions
 * allowed), at most 10^9 seconds, into nanoseconds (rounded).  Return: 0
 * or -EINVAL.
 */
static inline int parse_duration(const char *s, int64_t *ns)
{
	size_t digits = strspn(s, "0123456789.");
	double v, unit = 1;
	char *end;

	if (!digits)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	/* Decimal only: no exponent, no hexadecimal. */
	if (errno || end != s + digits)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 's':
		end++;
		break;
	case 'm':
		unit = 60;
		end++;
		break;
	case 'h':
		unit = 3600;
		end++;
		break;
	case 'd':
		unit = 86400;
		end++;
		break;
	default:
		return -EINVAL;
	}
	v *= unit;
	if (*end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*ns = (int64_t)(v * NSEC_PER_SEC + 0.5);
	return 0;
}

#endif
