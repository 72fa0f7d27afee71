/* SPDX-License-Identifier: MIT */
#ifndef RINGCAST_COMPILER_H
#define RINGCAST_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHELINE 64
#define __cacheline_aligned __attribute__((aligned(CACHELINE)))

static inline int is_pow2_u64(unsigned long long x)
{
	return x && !(x & (x - 1));
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
