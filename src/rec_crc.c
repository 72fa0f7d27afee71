// SPDX-License-Identifier: MIT
/*
 * crc32c (Castagnoli, reflected polynomial 0x82f63b78), the checksum of
 * a recording's records: the SSE4.2 instruction where the CPU has it,
 * else slicing-by-8 over tables built once.  Both give the same values
 * (tests/test-rec.c checks them against the standard's vectors).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"
#include "rec.h"

#define CRC32C_POLY 0x82f63b78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;
/* Set, with release, once the tables are built: the fast path's check. */
static _Atomic bool crc_ready;

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_table[0][i];
		for (j = 1; j < 8; j++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[j][i] = c;
		}
	}
#if defined(__x86_64__) && !defined(RINGCAST_CRC_SOFT)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	/* Pairs with the acquire load in rc_crc32c(). */
	atomic_store_explicit(&crc_ready, true, memory_order_release);
}

/* Slicing-by-8: eight bytes a step, through eight tables. */
static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint32_t lo = crc ^ rc_get32(p), hi = rc_get32(p + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && !defined(RINGCAST_CRC_SOFT)
__attribute__((target("sse4.2"))) static uint32_t
crc_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

/*
 * rc_crc32c() - continue a crc32c over @len bytes
 * @crc: 0 to start, or the value returned for the bytes before
 */
uint32_t rc_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* Pairs with the release store in crc_init(). */
	if (unlikely(!atomic_load_explicit(&crc_ready, memory_order_acquire)))
		pthread_once(&crc_once, crc_init);
	crc = ~crc;
#if defined(__x86_64__) && !defined(RINGCAST_CRC_SOFT)
	if (crc_hw)
		return ~crc_sse42(crc, buf, len);
#endif
	return ~crc_soft(crc, buf, len);
}

/* For the tests: the software path, whatever the CPU. */
uint32_t rc_crc32c_soft(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return ~crc_soft(~crc, buf, len);
}
