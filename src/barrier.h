/* SPDX-License-Identifier: MIT */
/*
 * The only way ringcast touches memory that another process writes: C11
 * atomics with explicit orders, named after their kernel counterparts.
 * Every use of an ordered accessor or a fence says which access on the other
 * side it pairs with.
 */
#ifndef RINGCAST_BARRIER_H
#define RINGCAST_BARRIER_H

#include <stdatomic.h>

#define READ_ONCE(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define WRITE_ONCE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define smp_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define smp_store_release(p, v) \
	atomic_store_explicit((p), (v), memory_order_release)
#if defined(__SANITIZE_THREAD__)
/*
 * ThreadSanitizer does not model fences (gcc refuses them under -Werror).
 * In that build every access to a slot is atomic (copy.h), so the fences
 * only order, they never make a race go away; x86 keeps loads and stores
 * in order by itself, and a locked RMW is its full barrier.  This variant
 * is for TSan runs on x86 only.
 */
/*
 * Thread-local: a locked RMW on any word is a full barrier on x86, and one
 * no other thread touches gives TSan no happens-before edge that could hide
 * a race.
 */
static _Thread_local _Atomic unsigned int rc_tsan_fence_word
	__attribute__((unused));
#define smp_mb()                                                 \
	((void)atomic_fetch_add_explicit(&rc_tsan_fence_word, 0, \
					 memory_order_seq_cst))
#define smp_rmb() atomic_signal_fence(memory_order_acquire)
#define smp_wmb() atomic_signal_fence(memory_order_release)
#else
/* Full barrier: orders earlier loads and stores against later ones. */
#define smp_mb() atomic_thread_fence(memory_order_seq_cst)
/* Orders earlier loads against later loads and stores. */
#define smp_rmb() atomic_thread_fence(memory_order_acquire)
/* Orders earlier loads and stores against later stores. */
#define smp_wmb() atomic_thread_fence(memory_order_release)
#endif

#endif
