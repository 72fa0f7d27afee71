// SPDX-License-Identifier: MIT
/*
 * A descriptor per subscriber, readable while events are available, for
 * epoll, poll and libuv.  A futex cannot be polled: one helper thread per
 * process waits with futex_waitv() on the wake words of every armed
 * descriptor and makes a descriptor (an eventfd) readable when its word
 * changes.
 *
 *   owner thread (a read found nothing)     helper thread
 *   drain the eventfd                       lock(hl)
 *   rc_sub_arm(): bits, mb, re-check  [G]   for each armed f:
 *   lock(hl); f->word, f->val; armed         if *f->word != f->val or
 *   bump hl_ctl; unlock; wake helper           its timer ran out:
 *                                              write(f->efd, 1); disarm
 *                                           unlock
 *                                           futex_waitv(hl_ctl + words)
 *
 * The owner arms before it hands the word over, so an event published
 * after the arm changes the word (its publisher saw the bits: [G] pairs
 * with [F] in rc_pub_advance()), and the helper's compare, under hl or in
 * futex_waitv(), sees the change: no wake-up is lost.  The descriptor
 * stays readable until a read of its owner finds nothing
 * (ringcast_sub_next() returning -EAGAIN or -ETIMEDOUT calls
 * rc_subfd_idle()), which gives level semantics: readable while events
 * (or an end of stream, an error, an interrupt) are there to be read.
 *
 * The helper also makes an armed descriptor readable when its timer runs
 * out: every liveness interval (so that the owner's next read probes the
 * publisher's lease) and, for read-only subscribers, which cannot arm,
 * every millisecond.  Words past the 127 one futex_waitv() takes are
 * polled every millisecond.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "list.h"
#include "local.h"
#include "map.h"
#include "sub.h"

#define RC_FD_POLL_NS 1000000ull

struct rc_subfd {
	int efd;
	bool armed; /* under hl */
	_Atomic uint32_t *word; /* NULL: a timer only (read-only) */
	uint32_t val;
	uint64_t deadline;
	struct rc_subfd *next, *prev; /* hl_armed, under hl */
};

static pthread_mutex_t hl = PTHREAD_MUTEX_INITIALIZER;
static struct rc_subfd *hl_armed;
static _Atomic uint32_t hl_ctl;
static bool hl_running;

static void rc_subfd_fire(struct rc_subfd *f)
{
	uint64_t one = 1;

	if (write(f->efd, &one, sizeof(one)) < 0) {
		/* The counter is full: it is readable anyway. */
	}
}

static void rc_subfd_unlink(struct rc_subfd *f)
{
	if (!f->armed)
		return;
	rc_list_del(&hl_armed, f);
	f->armed = false;
}

static void *rc_subfd_helper(void *arg)
{
	struct futex_waitv w[RC_WAITV_MAX];
	struct rc_subfd *f, *next;
	uint64_t now, first;
	unsigned int n;
	int64_t t;

	pthread_mutex_lock(&hl);
	for (;;) {
		now = rc_now_ns();
		first = UINT64_MAX;
		n = 1;
		w[0].uaddr = (uint64_t)(uintptr_t)&hl_ctl;
		w[0].val = atomic_load(&hl_ctl);
		w[0].flags = FUTEX_32;
		w[0].__reserved = 0;
		for (f = hl_armed; f; f = next) {
			next = f->next;
			if (now >= f->deadline ||
			    (f->word && atomic_load(f->word) != f->val)) {
				rc_subfd_fire(f);
				rc_subfd_unlink(f);
				continue;
			}
			if (f->deadline < first)
				first = f->deadline;
			if (!f->word)
				continue;
			if (n == RC_WAITV_MAX) {
				/* More than one call takes: poll the rest. */
				if (now + RC_FD_POLL_NS < first)
					first = now + RC_FD_POLL_NS;
				continue;
			}
			w[n].uaddr = (uint64_t)(uintptr_t)f->word;
			w[n].val = f->val;
			w[n].flags = FUTEX_32;
			w[n].__reserved = 0;
			n++;
		}
		t = first == UINT64_MAX ? -1 : (int64_t)(first - now);
		pthread_mutex_unlock(&hl);
		/*
		 * A word may be unmapped meanwhile (its subscriber detached,
		 * taking its entry out under hl first): -EFAULT, look again.
		 */
		rc_wait_words(w, n, t);
		pthread_mutex_lock(&hl);
	}
	return NULL;
}

/* Forget the parent's helper and armed list in a child of fork(). */
void rc_subfd_fork_child(void)
{
	pthread_mutex_init(&hl, NULL);
	hl_armed = NULL;
	hl_running = false;
}

/* Called with hl held. */
static int rc_subfd_start(void)
{
	pthread_attr_t a;
	pthread_t th;
	int r;

	if (hl_running)
		return 0;
	pthread_attr_init(&a);
	/* It needs little stack: a waitv array and a few locals. */
	pthread_attr_setstacksize(&a, 64 * 1024);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &a, rc_subfd_helper, NULL);
	pthread_attr_destroy(&a);
	if (r)
		return -r;
	hl_running = true;
	return 0;
}

void rc_subfd_idle(struct ringcast_sub *sub)
{
	struct rc_subfd *f = sub->fdw;
	_Atomic uint32_t *word = NULL;
	uint64_t x;
	uint32_t val = 0;
	bool armed;

	pthread_mutex_lock(&hl);
	armed = f->armed;
	pthread_mutex_unlock(&hl);
	if (armed)
		return; /* waiting already, and not readable */
	/* Not readable any more, unless the arm below finds otherwise. */
	if (read(f->efd, &x, sizeof(x)) < 0) {
		/* EAGAIN: it was not readable. */
	}
	if (rc_sub_arm(sub, &word, &val)) {
		if (sub->m.writable) {
			rc_subfd_fire(f); /* something came meanwhile */
			return;
		}
		word = NULL; /* read-only: a timer */
	}
	pthread_mutex_lock(&hl);
	f->word = word;
	f->val = val;
	f->deadline = rc_now_ns() + (word ? sub->liveness_ns : RC_FD_POLL_NS);
	f->armed = true;
	rc_list_push(&hl_armed, f);
	atomic_fetch_add(&hl_ctl, 1);
	pthread_mutex_unlock(&hl);
	rc_futex_wake(&hl_ctl, FUTEX_BITSET_MATCH_ANY);
}

void rc_subfd_drop(struct ringcast_sub *sub)
{
	struct rc_subfd *f = sub->fdw;

	if (!f)
		return;
	sub->fdw = NULL;
	pthread_mutex_lock(&hl);
	/* In a child, the parent's list was forgotten already. */
	if (!rc_map_forked(&sub->m))
		rc_subfd_unlink(f);
	pthread_mutex_unlock(&hl);
	close(f->efd);
	free(f);
}

RINGCAST_API int ringcast_sub_fd(struct ringcast_sub *sub)
{
	struct rc_subfd *f;
	int r;

	if (!sub)
		return -EINVAL;
	if (rc_map_forked(&sub->m))
		return -ECHILD;
	if (sub->fdw)
		return sub->fdw->efd;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0) {
		r = -errno;
		goto err_free;
	}
	pthread_mutex_lock(&hl);
	r = rc_subfd_start();
	pthread_mutex_unlock(&hl);
	if (r < 0)
		goto err_close;
	sub->fdw = f;
	if (rc_sub_ready(sub))
		rc_subfd_fire(f);
	else
		rc_subfd_idle(sub);
	return f->efd;

err_close:
	close(f->efd);
err_free:
	free(f);
	return r;
}
