// SPDX-License-Identifier: MIT
/*
 * Waiting on many subscribers, on different rings, at once: one
 * futex_waitv() (Linux 5.16 and later) over the rings' wake words.
 *
 * Each subscriber is armed as for a sleep (rc_sub_arm(): its wake bits
 * set, a full barrier, a re-check: the sleeper's half of the wake table in
 * publish.c); futex_waitv() then sleeps while every word still holds the value
 * its arm saw, so a publish after an arm changes a word (its waker bumps
 * wake_seq) and the call does not sleep, or wakes.  futex_waitv() waiters
 * match every bitset, so any wake of those words wakes them: spurious
 * wake-ups only cost a re-check.
 *
 * Subscribers of one ring share a word: it is waited on once.  A call
 * takes at most 128 words: with more distinct rings the first 128 are
 * waited on and the rest are polled, the wait being cut to 1 ms.  Where
 * futex_waitv() does not exist (ENOSYS: kernels before 5.16, or valgrind
 * 3.19) every wait is a 1 ms timed FUTEX_WAIT on the first word, and the
 * others are polled: up to 1 ms of added latency.  Read-only subscribers
 * cannot arm: they are polled too.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "local.h"
#include "map.h"
#include "sub.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif

#define RC_POLL_NS 1000000ll
/* Sleep at most this long, so that a dead publisher is noticed. */
#define RC_WAITV_LIVENESS_NS 250000000ll

/* 1: futex_waitv works, -1: ENOSYS, 0: not tried yet. */
static _Atomic int rc_waitv_works;

int rc_futex_waitv(struct futex_waitv *w, unsigned int n, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	uint64_t t;
	long r;

	if (atomic_load_explicit(&rc_waitv_works, memory_order_relaxed) < 0)
		return -ENOSYS;
	if (timeout_ns >= 0) {
		/* An absolute CLOCK_MONOTONIC time. */
		t = rc_now_ns() + (uint64_t)timeout_ns;
		ts.tv_sec = (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		tsp = &ts;
	}
	r = syscall(SYS_futex_waitv, w, n, 0, tsp, CLOCK_MONOTONIC);
	if (r < 0 && errno == ENOSYS) {
		atomic_store_explicit(&rc_waitv_works, -1,
				      memory_order_relaxed);
		return -ENOSYS;
	}
	return r < 0 ? -errno : 0;
}

/*
 * Sleep until one of the armed words changes, or timeout_ns: futex_waitv,
 * or where it is missing a short FUTEX_WAIT on the first.
 */
void rc_wait_words(struct futex_waitv *w, unsigned int n, int64_t timeout_ns)
{
	struct timespec ts = { 0, 0 };

	if (n && rc_futex_waitv(w, n, timeout_ns) != -ENOSYS)
		return;
	if (timeout_ns < 0 || timeout_ns > RC_POLL_NS)
		timeout_ns = RC_POLL_NS;
	if (n) {
		rc_futex_wait((_Atomic uint32_t *)(uintptr_t)w[0].uaddr,
			      (uint32_t)w[0].val, FUTEX_BITSET_MATCH_ANY,
			      timeout_ns);
		return;
	}
	ts.tv_nsec = (long)timeout_ns;
	nanosleep(&ts, NULL);
}

/*
 * Arm every subscriber of subs into w[0..*nw); a word shared by several is
 * waited on once.  Returns true when something came (look again).  *poll
 * is set when one cannot be waited on (read-only, or more words than one
 * call takes): the wait is then short.
 */
static bool rc_waitv_arm(struct ringcast_sub *const *subs, unsigned int n,
			 struct futex_waitv *w, unsigned int *nw, bool *poll)
{
	_Atomic uint32_t *word;
	unsigned int i, j;
	uint32_t val;

	*nw = 0;
	*poll = false;
	for (i = 0; i < n; i++) {
		if (rc_sub_arm(subs[i], &word, &val)) {
			if (!subs[i]->m.writable) {
				*poll = true;
				continue;
			}
			return true;
		}
		for (j = 0; j < *nw; j++)
			if (w[j].uaddr == (uint64_t)(uintptr_t)word)
				break;
		if (j < *nw)
			continue;
		if (*nw == RC_WAITV_MAX) {
			*poll = true; /* more rings than one call takes */
			continue;
		}
		w[*nw].uaddr = (uint64_t)(uintptr_t)word;
		w[*nw].val = val;
		w[*nw].flags = FUTEX_32;
		w[*nw].__reserved = 0;
		(*nw)++;
	}
	return false;
}

RINGCAST_API int ringcast_sub_wait_any(struct ringcast_sub *const *subs,
				       unsigned int n, int64_t timeout_ns)
{
	struct futex_waitv w[RC_WAITV_MAX];
	uint64_t deadline = 0;
	unsigned int i, nw;
	int64_t t;
	bool poll;

	if (!subs || !n || n > RINGCAST_WAIT_ANY_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!subs[i])
			return -EINVAL;
		if (rc_map_forked(&subs[i]->m))
			return -ECHILD;
	}
	for (;;) {
		for (i = 0; i < n; i++)
			if (atomic_exchange(&subs[i]->intr, 0))
				return -EINTR;
		for (i = 0; i < n; i++)
			if (rc_sub_ready(subs[i]))
				return (int)i;
		if (timeout_ns == 0)
			return -EAGAIN;
		t = rc_time_left(&deadline, timeout_ns, rc_now_ns());
		if (!t)
			return -ETIMEDOUT;
		if (t < 0 || t > RC_WAITV_LIVENESS_NS)
			t = RC_WAITV_LIVENESS_NS;
		if (rc_waitv_arm(subs, n, w, &nw, &poll))
			continue; /* something came: look again */
		if (poll && t > RC_POLL_NS)
			t = RC_POLL_NS;
		rc_wait_words(w, nw, t);
	}
}
