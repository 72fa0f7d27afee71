/* SPDX-License-Identifier: MIT */
/*
 * Payload copies into and out of slots: the seqlock's one data race.
 *
 * A reader copies a payload that the publisher may be overwriting; the
 * copy is discarded when the stamp says so (publish.c, [A]/[C]).  In C11 terms
 * that is a data race unless both sides use atomics.  The default build
 * uses memcpy() on both sides, the documented exception: it is what every
 * seqlock in the kernel does, and it copies a 4 KiB payload with vector
 * loads (measured faster than the atomic copy: docs/design.md §3).
 * Under ThreadSanitizer (which would rightly report the race) the copies
 * are relaxed atomic word copies instead, so that TSan checks every other
 * access of the library.
 */
#ifndef RINGCAST_COPY_H
#define RINGCAST_COPY_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(RC_ATOMIC_COPY)
/* Asked for by the build (to measure it against memcpy). */
#elif defined(__SANITIZE_THREAD__)
#define RC_ATOMIC_COPY 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_ATOMIC_COPY 1
#endif
#endif

#ifdef RC_ATOMIC_COPY
/* Slot payloads start 8-byte aligned: copy words, then the tail. */
static inline void rc_copy_in(void *slot, const void *src, size_t len)
{
	_Atomic uint64_t *dw = slot;
	const unsigned char *s = src;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		atomic_store_explicit(&dw[i / 8], w, memory_order_relaxed);
	}
	for (; i < len; i++)
		atomic_store_explicit((_Atomic unsigned char *)slot + i, s[i],
				      memory_order_relaxed);
}

static inline void rc_copy_out(void *dst, const void *slot, size_t len)
{
	const _Atomic uint64_t *sw = slot;
	unsigned char *d = dst;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w =
			atomic_load_explicit(&sw[i / 8], memory_order_relaxed);

		memcpy(d + i, &w, 8);
	}
	for (; i < len; i++)
		d[i] = atomic_load_explicit(
			(const _Atomic unsigned char *)slot + i,
			memory_order_relaxed);
}
#else
static inline void rc_copy_in(void *slot, const void *src, size_t len)
{
	memcpy(slot, src, len);
}

static inline void rc_copy_out(void *dst, const void *slot, size_t len)
{
	memcpy(dst, slot, len);
}
#endif

#endif
