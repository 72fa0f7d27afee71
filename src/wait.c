// SPDX-License-Identifier: MIT
/*
 * Futex and clock helpers.  The futex words live in shared memory mapped by
 * several processes, so every operation here is the non-private one.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "map.h"

static int rc_futex(_Atomic uint32_t *word, int op, uint32_t val,
		    const struct timespec *ts, uint32_t bits)
{
	long r = syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, bits);

	return r < 0 ? -errno : (int)r;
}

/*
 * Sleep while *word == val, for at most timeout_ns (< 0: no limit).
 * Returns 0 when woken (or the value differed), -ETIMEDOUT, or -EINTR for
 * a signal.
 */
int rc_futex_wait(_Atomic uint32_t *word, uint32_t val, uint32_t bits,
		  int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	int r;

	if (timeout_ns >= 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
		uint64_t t = rc_now_ns() + (uint64_t)timeout_ns;

		ts.tv_sec = (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		tsp = &ts;
	}
	r = rc_futex(word, FUTEX_WAIT_BITSET, val, tsp, bits);
	if (r == -EAGAIN)
		return 0;
	return r < 0 ? r : 0;
}

int rc_futex_wake(_Atomic uint32_t *word, uint32_t bits)
{
	return rc_futex(word, FUTEX_WAKE_BITSET, INT_MAX, NULL, bits);
}

uint64_t rc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rc_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Wake the sleepers of the buckets in bits, whose bits the caller has just
 * cleared.  The increment comes after the clear (both seq-cst): a sleeper
 * whose bit the clear saw read wake_seq before it set that bit, so its
 * FUTEX_WAIT finds the value changed, or is woken.
 */
void rc_wake_seq(struct rc_hdr *hdr, uint32_t bits)
{
	atomic_fetch_add(&hdr->wake_seq, 1);
	rc_futex_wake(&hdr->wake_seq, bits);
}

/*
 * Wake every sleeper of the ring (a state change: close, abandonment, a
 * publisher leaving).  Clearing every bit and bumping wake_seq means a
 * reader between its check and its FUTEX_WAIT finds a different value and
 * does not sleep.
 *
 * wake_all_seq is bumped first, and after whatever the caller changed (a
 * lease dropped, a life word swapped), so a woken reader that sees it
 * moved probes now, not at its next probe interval: a detach is visible
 * at once at the cost of one load per wake.  Both increments are seq-cst:
 * a reader that read the new wake_seq in rc_sub_arm() sees the new
 * wake_all_seq in its re-check there, and does not sleep.
 */
void rc_wake_all(struct rc_map *m)
{
	if (!m->writable)
		return;
	atomic_fetch_add(&m->hdr->wake_all_seq, 1);
	/* Pairs with the atomic_fetch_or() + smp_mb() [G] in rc_sub_sleep(). */
	atomic_exchange(&m->hdr->wake_bits, 0);
	rc_wake_seq(m->hdr, FUTEX_BITSET_MATCH_ANY);
	/* And a publisher waiting for room: it sees the new state. */
	atomic_fetch_add(&m->hdr->pub_wait, 2);
	rc_futex_wake(&m->hdr->pub_wait, FUTEX_BITSET_MATCH_ANY);
}

/*
 * A subscriber moved its cursor on (or left): wake the publisher if it
 * sleeps for room.  The caller stored its cursor (or freed its entry)
 * just before.
 *
 *   publisher (rc_pub_block)              subscriber
 *   w = fetch_or(pub_wait, SLEEPING) [P]  store_release(cursor)
 *   read the reliable cursors             smp_mb()                     [S]
 *   FUTEX_WAIT(pub_wait, w | SLEEPING)    w = pub_wait
 *                                         if (w & SLEEPING)
 *                                           CAS(pub_wait, w, w + 1)
 *                                           FUTEX_WAKE(pub_wait)
 *
 * [S] pairs with the seq-cst read-modify-write [P], and with the full
 * barrier [H] of the scan that follows it, which is what orders the
 * publisher's cursor loads after [P] in C11 (a store-buffering pattern):
 * either the publisher's scan sees the new cursor, or this load sees
 * SLEEPING, and then the CAS changes the value the publisher waits on
 * (w + 1 clears the bit).  A failed CAS means another waker changed it.
 */
void rc_pub_wake(struct rc_hdr *hdr)
{
	uint32_t w;

	/* [S]: pairs with [P] in rc_pub_block(). */
	smp_mb();
	w = READ_ONCE(hdr->pub_wait);
	if (likely(!(w & RC_PUB_SLEEPING)))
		return;
	if (atomic_compare_exchange_strong(&hdr->pub_wait, &w, w + 1))
		rc_futex_wake(&hdr->pub_wait, FUTEX_BITSET_MATCH_ANY);
}
