// SPDX-License-Identifier: MIT
/*
 * TypeMux: one reader of a ring per mux delivers each event to the local
 * subscriptions registered for its type (callbacks, or bounded queues
 * drained with ringcast_mux_next()).  This file: open, start, stop and
 * close, the dispatcher and its deliveries; mux_sub.c: the subscriptions
 * and their queues; mux.h: the handles.
 *
 * Who waits for whom.  The read-side section only looks subscriptions
 * up: nothing waits inside it and no user code runs inside it, so that a
 * grace period (the process's, shared by every mux) never waits for a
 * callback or for room in a queue.
 *
 *   dispatcher (thread or caller)          stop / unsubscribe / scope close
 *   rc_read_lock()                         under s->lock: closed = 1    [MC]
 *   if load_acquire(stopped): leave  [MT]  stopped = 1 (seq-cst)        [MS]
 *   if t->gen != snapshot's:               rc_registry_del()
 *     copy t, s->refs++ for each entry     defer the handle's put (call_rcu)
 *   rc_read_unlock()
 *   (the old snapshot's refs--)
 *   for each s of ev->type in the          waiters++; rc_mb_slow()      [MB]
 *   snapshot, not closed:                  wait while mux->cur == s
 *     queue: under s->lock, if !closed,
 *            copy (or wait for room)
 *     callback: store_release(cur, s);
 *            rc_mb_fast()            [MB]
 *            if !closed: fn()
 *            mux->cur = NULL
 *
 * Memory: a subscription holds a reference for its handle, dropped a
 * grace period after ringcast_mux_sub_free() took it out of the table.
 * The dispatcher keeps a private copy of the registry's table, the
 * snapshot, and a reference to every subscription in it, taken inside
 * its read-side section (so before that grace period ends); it makes a
 * new one when the table changed (its generation), and drops the old
 * one's references then, or when the mux is closed.  Whoever drops the
 * last frees it.  So a delivery takes no reference of its own: per
 * event, the snapshot costs one generation compare.  (Without memory
 * for a snapshot, a delivery takes references to at most RC_MUX_GRAB
 * subscriptions at a time inside the section, and drops them after.)
 *
 * No delivery after unsubscribe: a queue copy checks closed under
 * s->lock, which [MC] is stored under.  A callback: the dispatcher stores
 * mux->cur = s, then reads s->closed; unsubscribe stores closed, then
 * reads mux->cur (a store, a fence, then a load on each side: the Dekker
 * pattern, with the asymmetric fences rc_mb_fast() and rc_mb_slow()
 * below), so either the dispatcher sees closed and skips, or
 * unsubscribe sees cur == s and waits for the callback to end.  Waking
 * the waiter is the same pattern on mux->cur = NULL and mux->waiters.
 * [MT] pairs with [MS] and only saves work: closed is what guarantees.
 *
 * Lock order: mux->stop_lock, then mux->lock, then s->lock.  No lock is
 * held across a callback; s->lock is held across a queue copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "barrier.h"
#include "compiler.h"
#include "local.h"
#include "map.h"
#include "mux.h"
#include "sub.h"

#define RC_MUX_QUEUE_LEN 256u
#define RC_MUX_QUEUE_MAX (1u << 20)
/* The most bytes of a queue's budget (queue_bytes). */
#define RC_MUX_QUEUE_BYTES_MAX (1ull << 32)
/* Events one ringcast_mux_dispatch() call delivers at most. */
#define RC_MUX_BATCH 1024u
/* Subscriptions one pass of a delivery takes out of the read side. */
#define RC_MUX_GRAB 32u

#define RC_MUX_FLAGS                                                       \
	(RINGCAST_MUX_RELIABLE | RINGCAST_MUX_MANUAL | RINGCAST_MUX_POST | \
	 RINGCAST_MUX_POST_ONLY | RINGCAST_MUX_PAUSED)

/*
 * The fences of [MB], asymmetric: a dispatcher pays a compiler barrier per
 * callback, a thread that waits for it (unsubscribe, stop) a membarrier()
 * system call, which runs a full barrier on every thread of the process
 * that runs at that moment (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED;
 * registered at each ringcast_mux_open(), for the process that calls it).
 * Where membarrier() is refused, and under ThreadSanitizer (which does
 * not see it), both sides are seq-cst fences.
 */
#if defined(__SANITIZE_THREAD__)
#define RC_MUX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_MUX_TSAN 1
#endif
#endif
#ifndef RC_MUX_TSAN
#define RC_MUX_TSAN 0
#endif

static pthread_mutex_t rc_mb_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t rc_mb_pid; /* the process registered, under rc_mb_lock */
static _Atomic bool rc_mb_ok; /* set before any mux of the process runs */

static void rc_mb_register(void)
{
	pthread_mutex_lock(&rc_mb_lock);
	if (rc_mb_pid != getpid()) {
		rc_mb_pid = getpid();
		atomic_store(
			&rc_mb_ok,
			!RC_MUX_TSAN &&
				syscall(__NR_membarrier,
					MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
					0, 0) == 0);
	}
	pthread_mutex_unlock(&rc_mb_lock);
}

/*
 * The order of the dispatcher's accesses of [MB]: seq-cst under
 * ThreadSanitizer (its happens-before edges; fences it does not model),
 * else relaxed between the fences.
 */
#define RC_MB_ORDER (RC_MUX_TSAN ? memory_order_seq_cst : memory_order_relaxed)

/* The dispatcher's side of [MB]: between its store and its loads. */
static inline void rc_mb_fast(void)
{
	if (likely(atomic_load_explicit(&rc_mb_ok, memory_order_relaxed)))
		atomic_signal_fence(memory_order_seq_cst);
	else
		smp_mb();
}

/* A waiter's side of [MB]: between its stores and its load of cur. */
static void rc_mb_slow(void)
{
	if (atomic_load_explicit(&rc_mb_ok, memory_order_relaxed) &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) ==
		    0)
		return;
	smp_mb();
}

/* The mux whose handler this thread runs, for -EDEADLK. */
static __thread struct ringcast_mux *rc_delivering;

void rc_mux_put(struct ringcast_mux *mux)
{
	if (atomic_fetch_sub(&mux->refs, 1) != 1)
		return;
	rc_registry_free(mux->reg);
	pthread_mutex_destroy(&mux->post_lock);
	pthread_mutex_destroy(&mux->stop_lock);
	pthread_mutex_destroy(&mux->lock);
	pthread_cond_destroy(&mux->idle);
	free(mux);
}

/*
 * Wait until no callback of s runs (of any subscription of mux when s
 * is NULL).  The subscriptions waited for are closed already: see [MB].
 */
static void rc_mux_wait_idle(struct ringcast_mux *mux,
			     const struct ringcast_mux_sub *s)
{
	struct ringcast_mux_sub *c;

	pthread_mutex_lock(&mux->lock);
	/* Before reading cur: pairs with rc_mux_set_cur(). */
	atomic_fetch_add(&mux->waiters, 1);
	/*
	 * [MB]: after closed (or stopped) was stored and waiters counted,
	 * before cur is read; pairs with rc_mb_fast() in rc_mux_set_cur().
	 */
	rc_mb_slow();
	while ((c = atomic_load(&mux->cur)) && (!s || c == s))
		pthread_cond_wait(&mux->idle, &mux->lock);
	atomic_fetch_sub(&mux->waiters, 1);
	pthread_mutex_unlock(&mux->lock);
}

void rc_msub_quiesce(struct ringcast_mux_sub *s)
{
	/* From inside a delivery or a read-side section: never wait. */
	if (!s->fn || rc_delivering || rc_read_ongoing())
		return;
	rc_mux_wait_idle(s->mux, s);
}

/*
 * Make s the subscription whose callback runs now (NULL: none), and wake
 * the threads waiting for the one before.  Consecutive callbacks of a
 * pass move cur from one to the next directly: one seq-cst store each.
 */
static void rc_mux_set_cur(struct ringcast_mux *mux, struct ringcast_mux_sub *s)
{
	/*
	 * [MB]: store of cur, fence, then (rc_msub_run()) load of closed;
	 * pairs with the store of closed [MC], the fence rc_mb_slow(), then
	 * the load of cur, in rc_mux_wait_idle() (the Dekker pattern, with
	 * asymmetric fences).  And store of cur, fence, load of waiters;
	 * pairs with the increment of waiters, the fence, then the load of
	 * cur, there: either it sees cur moved on or we see it waiting.
	 */
	/*
	 * Release: the callback before, and the uses of the subscription,
	 * happen before a waiter that reads the new cur frees it.
	 */
	atomic_store_explicit(&mux->cur, s,
			      RC_MUX_TSAN ? memory_order_seq_cst :
					    memory_order_release);
	rc_mb_fast();
	if (atomic_load_explicit(&mux->waiters, RC_MB_ORDER)) {
		pthread_mutex_lock(&mux->lock);
		pthread_cond_broadcast(&mux->idle);
		pthread_mutex_unlock(&mux->lock);
	}
}

/*
 * Run a callback of s, which is mux->cur (outside any read-side section
 * and any lock): the event handler with ev, else the status handler
 * with code and lost.  The caller set rc_delivering to mux.
 */
static void rc_msub_run(struct ringcast_mux_sub *s,
			const struct ringcast_event *ev, int code,
			uint64_t lost)
{
	/* [MB]: after the store of cur and rc_mb_fast() in rc_mux_set_cur(). */
	if (atomic_load_explicit(&s->closed, RC_MB_ORDER))
		return;
	if (ev) {
		/* Relaxed, no lock: the dispatcher is the only writer. */
		atomic_store_explicit(
			&s->calls,
			atomic_load_explicit(&s->calls, memory_order_relaxed) +
				1,
			memory_order_relaxed);
		s->fn(ev, s->arg);
	} else {
		s->status(code, lost, s->arg);
	}
}

/* rc_msub_run(), with rc_delivering set around it. */
static void rc_msub_call(struct ringcast_mux *mux, struct ringcast_mux_sub *s,
			 const struct ringcast_event *ev, int code,
			 uint64_t lost)
{
	struct ringcast_mux *outer = rc_delivering;

	rc_delivering = mux;
	rc_msub_run(s, ev, code, lost);
	rc_delivering = outer;
}

/*
 * Enter the read-side section, unless the mux was stopped: false then,
 * outside the section.
 */
static inline bool rc_mux_read_lock(struct ringcast_mux *mux)
{
	rc_read_lock();
	/* [MT]: pairs with the store [MS] in ringcast_mux_stop(). */
	if (likely(!atomic_load_explicit(&mux->stopped, memory_order_acquire)))
		return true;
	rc_read_unlock();
	return false;
}

/*
 * Deliver ev to s, the next subscription of a pass, rc_delivering set to
 * mux: a callback runs as mux->cur; a queue copy, which may wait for room,
 * with cur cleared.  *busy says whether cur is set.
 */
static inline void rc_mux_deliver_one(struct ringcast_mux *mux,
				      struct ringcast_mux_sub *s,
				      const struct ringcast_event *ev,
				      bool *busy)
{
	if (s->fn) {
		rc_mux_set_cur(mux, s);
		rc_msub_run(s, ev, 0, 0);
		*busy = true;
		return;
	}
	/* A queue may wait for room: no callback runs. */
	if (*busy)
		rc_mux_set_cur(mux, NULL);
	*busy = false;
	rc_msub_enqueue(mux, s, ev);
}

/*
 * Deliver one event to every subscription of its type: take references
 * to up to RC_MUX_GRAB of them inside a read-side section, leave it, then
 * deliver (a callback, or a copy that may wait for room) and drop them;
 * again while a pass filled up.  s->mark says which took it already.
 */
static int rc_mux_deliver_grab(struct ringcast_mux *mux,
			       const struct ringcast_event *ev)
{
	struct ringcast_mux_sub *got[RC_MUX_GRAB];
	const struct rc_reg_table *t;
	struct ringcast_mux *outer;
	uint64_t pass = ++mux->pass;
	uint32_t i, n, k, j;
	bool busy;

	do {
		if (unlikely(!rc_mux_read_lock(mux)))
			return -ESHUTDOWN;
		t = rc_registry_table(mux->reg);
		i = rc_registry_find(t, ev->type, &n);
		for (k = 0, n += i; i < n && k < RC_MUX_GRAB; i++) {
			struct ringcast_mux_sub *s = t->ent[i].item;

			/* Relaxed: closed is checked again before delivery. */
			if (s->mark == pass ||
			    atomic_load_explicit(&s->closed,
						 memory_order_relaxed))
				continue;
			s->mark = pass;
			rc_msub_get(s);
			got[k++] = s;
		}
		rc_read_unlock();
		outer = rc_delivering;
		rc_delivering = mux;
		for (busy = false, j = 0; j < k; j++)
			rc_mux_deliver_one(mux, got[j], ev, &busy);
		if (busy)
			rc_mux_set_cur(mux, NULL);
		rc_delivering = outer;
		/* After cur moved on: no waiter compares a freed pointer. */
		for (j = 0; j < k; j++)
			rc_msub_put(got[j]);
	} while (k == RC_MUX_GRAB);
	return 0;
}

/* Drop the snapshot's references (its subscriptions may be freed). */
static void rc_mux_snap_drop(struct rc_reg_table *snap)
{
	uint32_t i;

	if (!snap)
		return;
	for (i = 0; i < snap->n; i++)
		rc_msub_put(snap->ent[i].item);
	free(snap);
}

/*
 * Deliver one event to every subscription of its type, from the
 * dispatcher's snapshot of the registry's table (see the table at the
 * top), made anew when the table changed.
 */
static int rc_mux_deliver(struct ringcast_mux *mux,
			  const struct ringcast_event *ev)
{
	struct rc_reg_table *snap = mux->snap, *old = NULL;
	struct ringcast_mux *outer;
	const struct rc_reg_table *t;
	uint64_t pass = ++mux->pass;
	uint32_t i, n;
	bool busy = false;

	if (unlikely(!rc_mux_read_lock(mux)))
		return -ESHUTDOWN;
	t = rc_registry_table(mux->reg);
	if (unlikely(!snap || snap->gen != t->gen)) {
		snap = malloc(sizeof(*snap) + t->n * sizeof(snap->ent[0]));
		if (!snap) {
			rc_read_unlock();
			return rc_mux_deliver_grab(mux, ev);
		}
		snap->gen = t->gen;
		snap->n = t->n;
		memcpy(snap->ent, t->ent, t->n * sizeof(snap->ent[0]));
		/* Inside the section: every entry is alive. */
		for (i = 0; i < snap->n; i++)
			rc_msub_get(snap->ent[i].item);
		old = mux->snap;
		mux->snap = snap;
	}
	rc_read_unlock();
	rc_mux_snap_drop(old);
	i = rc_registry_find(snap, ev->type, &n);
	if (!n)
		return 0;
	/*
	 * Set once for the whole event (a thread-local of a shared library
	 * costs a call each time): between the callbacks this thread runs
	 * no user code, and a queue's wait for room is not a delivery
	 * either way.
	 */
	outer = rc_delivering;
	rc_delivering = mux;
	for (n += i; i < n; i++) {
		struct ringcast_mux_sub *s = snap->ent[i].item;

		/* Relaxed: closed is checked again before delivery. */
		if (s->mark == pass ||
		    atomic_load_explicit(&s->closed, memory_order_relaxed))
			continue;
		s->mark = pass;
		rc_mux_deliver_one(mux, s, ev, &busy);
	}
	if (busy)
		rc_mux_set_cur(mux, NULL);
	rc_delivering = outer;
	return 0;
}

/*
 * Tell the status handlers a loss (-EOVERFLOW with lost) or the end
 * (code, once each), RC_MUX_GRAB at a time, outside mux->lock.
 */
static void rc_mux_tell(struct ringcast_mux *mux, int code, uint64_t lost)
{
	struct ringcast_mux_sub *got[RC_MUX_GRAB], *s;
	uint64_t pass = ++mux->pass;
	unsigned int k, j;

	do {
		pthread_mutex_lock(&mux->lock);
		for (k = 0, s = mux->subs; s && k < RC_MUX_GRAB; s = s->next) {
			if (!s->status || s->mark == pass)
				continue;
			if (code != -EOVERFLOW) {
				if (s->end_told)
					continue;
				s->end_told = true;
			}
			s->mark = pass;
			rc_msub_get(s);
			got[k++] = s;
		}
		pthread_mutex_unlock(&mux->lock);
		for (j = 0; j < k; j++) {
			if (lost) {
				pthread_mutex_lock(&got[j]->lock);
				got[j]->st.lost += lost;
				pthread_mutex_unlock(&got[j]->lock);
			}
			rc_mux_set_cur(mux, got[j]);
			rc_msub_call(mux, got[j], NULL, code, lost);
			rc_mux_set_cur(mux, NULL);
			rc_msub_put(got[j]);
		}
	} while (k == RC_MUX_GRAB);
}

/* The reader was lapped: every subscription learns the count. */
static void rc_mux_lost(struct ringcast_mux *mux, uint64_t lost)
{
	struct ringcast_mux_sub *s;

	if (!lost)
		return;
	atomic_fetch_add(&mux->ring_lost, lost);
	pthread_mutex_lock(&mux->lock);
	for (s = mux->subs; s; s = s->next) {
		pthread_mutex_lock(&s->lock);
		if (!s->fn)
			s->lost_pending += lost; /* for ringcast_mux_next() */
		s->st.ring_lost += lost;
		pthread_cond_signal(&s->avail);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&mux->lock);
	rc_mux_tell(mux, -EOVERFLOW, lost);
}

/* The ring ended (end of stream, publisher died, corruption). */
static void rc_mux_end(struct ringcast_mux *mux, int code)
{
	struct ringcast_mux_sub *s;

	pthread_mutex_lock(&mux->lock);
	if (!mux->end)
		mux->end = code;
	for (s = mux->subs; s; s = s->next) {
		pthread_mutex_lock(&s->lock);
		if (!s->code)
			s->code = code;
		pthread_cond_broadcast(&s->avail);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&mux->lock);
	rc_mux_tell(mux, code, 0);
}

/*
 * Read and deliver events: wait up to timeout_ns for the first, then take
 * what is ready, at most max.  Returns the number delivered, or the
 * reader's end, or -ESHUTDOWN, -EINTR.
 */
static int rc_mux_pump(struct ringcast_mux *mux, int64_t timeout_ns,
		       unsigned int max)
{
	struct ringcast_event ev;
	unsigned int done = 0;
	int r;

	while (done < max) {
		if (atomic_load(&mux->stopped))
			return done ? (int)done : -ESHUTDOWN;
		r = ringcast_sub_next(mux->reader, &ev, done ? 0 : timeout_ns);
		if (r == -EOVERFLOW) {
			rc_mux_lost(mux, ev.lost);
			continue;
		}
		if (r == -ESTALE)
			continue; /* demoted: it goes on as a lossy reader */
		if (r == -EAGAIN || r == -ETIMEDOUT)
			return done ? (int)done : r;
		if (r == -EINTR)
			return done			  ? (int)done :
			       atomic_load(&mux->stopped) ? -ESHUTDOWN :
							    -EINTR;
		if (r < 0) {
			rc_mux_end(mux, r);
			return done ? (int)done : r;
		}
		r = rc_mux_deliver(mux, &ev);
		if (r < 0)
			return done ? (int)done : r;
		done++;
	}
	return (int)done;
}

static void *rc_mux_thread(void *arg)
{
	struct ringcast_mux *mux = arg;
	int r;

	for (;;) {
		r = rc_mux_pump(mux, -1, RC_MUX_BATCH);
		if (r == -ESHUTDOWN)
			break;
		if (r < 0 && r != -EINTR && r != -ETIMEDOUT && r != -EAGAIN)
			break; /* the ring ended: subscriptions were told */
	}
	return NULL;
}

/* --------------------------------------------------------------- API */

static bool rc_mux_opts_valid(const struct ringcast_mux_opts *o)
{
	return !(o->flags & ~RC_MUX_FLAGS) &&
	       o->queue_len <= RC_MUX_QUEUE_MAX &&
	       o->queue_bytes <= RC_MUX_QUEUE_BYTES_MAX &&
	       !((o->flags & RINGCAST_MUX_POST_ONLY) &&
		 (o->flags & ~(RINGCAST_MUX_POST_ONLY | RINGCAST_MUX_POST))) &&
	       !((o->flags & RINGCAST_MUX_PAUSED) &&
		 (o->flags & RINGCAST_MUX_MANUAL));
}

/* The mux's publisher (POST) and reader (unless POST_ONLY). */
static int rc_mux_attach(struct ringcast_mux *mux, const char *name,
			 const struct ringcast_mux_opts *o)
{
	struct ringcast_sub_opts so = { 0 };
	int r;

	if (o->flags & RINGCAST_MUX_POST) {
		r = ringcast_pub_attach(name, o->pub_flags, &mux->pub);
		if (r < 0)
			return r;
	}
	if (o->flags & RINGCAST_MUX_POST_ONLY)
		return 0;
	so.from = o->from;
	so.seq = o->seq;
	if (o->flags & RINGCAST_MUX_RELIABLE)
		so.flags = RINGCAST_SUB_RELIABLE;
	r = ringcast_sub_attach(name, &so, &mux->reader, NULL);
	if (r < 0) {
		if (mux->pub)
			ringcast_pub_detach(mux->pub);
		mux->pub = NULL;
		return r;
	}
	/*
	 * A queue's bytes: as asked, else queue_len events of the slot's
	 * capacity, as much as a queue held before it was bounded in bytes
	 * (64 KiB at the defaults: 256 records of 32 + 224 bytes).
	 */
	mux->queue_bytes =
		o->queue_bytes ?
			o->queue_bytes :
			mux->queue_len * rc_qrec_size(mux->reader->m.capacity);
	/* Whole units: a pad record always fits the end. */
	mux->queue_bytes = (mux->queue_bytes + RC_QREC_ALIGN - 1) &
			   ~(size_t)(RC_QREC_ALIGN - 1);
	return 0;
}

RINGCAST_API int ringcast_mux_open(const char *name,
				   const struct ringcast_mux_opts *opts,
				   struct ringcast_mux **muxp)
{
	struct ringcast_mux_opts o = { 0 };
	struct ringcast_mux *mux;
	int r;

	if (!muxp)
		return -EINVAL;
	rc_mb_register();
	if (opts)
		o = *opts;
	if (!rc_mux_opts_valid(&o))
		return -EINVAL;
	if (o.flags & RINGCAST_MUX_POST_ONLY)
		o.flags |= RINGCAST_MUX_POST;
	mux = calloc(1, sizeof(*mux));
	if (!mux)
		return -ENOMEM;
	mux->flags = o.flags;
	mux->queue_len = o.queue_len ? o.queue_len : RC_MUX_QUEUE_LEN;
	mux->gen = rc_fork_gen;
	atomic_init(&mux->refs, 1);
	pthread_mutex_init(&mux->post_lock, NULL);
	pthread_mutex_init(&mux->stop_lock, NULL);
	pthread_mutex_init(&mux->lock, NULL);
	pthread_cond_init(&mux->idle, NULL);
	r = rc_registry_new(&mux->reg);
	if (r < 0)
		goto err_free;
	r = rc_mux_attach(mux, name, &o);
	if (r < 0)
		goto err_free_reg;
	if (mux->reader &&
	    !(o.flags & (RINGCAST_MUX_MANUAL | RINGCAST_MUX_PAUSED))) {
		r = -pthread_create(&mux->thread, NULL, rc_mux_thread, mux);
		if (r < 0)
			goto err_detach_reader;
		mux->thread_running = true;
	}
	*muxp = mux;
	return 0;

err_detach_reader:
	ringcast_sub_detach(mux->reader);
	if (mux->pub)
		ringcast_pub_detach(mux->pub);
err_free_reg:
	rc_registry_free(mux->reg);
err_free:
	pthread_mutex_destroy(&mux->post_lock);
	pthread_mutex_destroy(&mux->stop_lock);
	pthread_mutex_destroy(&mux->lock);
	pthread_cond_destroy(&mux->idle);
	free(mux);
	return r;
}

RINGCAST_API int ringcast_mux_start(struct ringcast_mux *mux)
{
	int r = 0;

	if (!mux)
		return -EINVAL;
	if (rc_mux_forked(mux))
		return -ECHILD;
	if (!mux->reader || (mux->flags & RINGCAST_MUX_MANUAL))
		return -EINVAL;
	if (rc_delivering == mux)
		return 0; /* its own handler: it runs */
	pthread_mutex_lock(&mux->stop_lock);
	if (atomic_load(&mux->stopped)) {
		r = -ESHUTDOWN;
	} else if (!mux->thread_running) {
		r = -pthread_create(&mux->thread, NULL, rc_mux_thread, mux);
		mux->thread_running = r == 0;
	}
	pthread_mutex_unlock(&mux->stop_lock);
	return r;
}

RINGCAST_API int ringcast_mux_post(struct ringcast_mux *mux, uint32_t type,
				   const void *data, size_t len)
{
	int r;

	if (!mux)
		return -EINVAL;
	if (rc_mux_forked(mux))
		return -ECHILD;
	if (atomic_load(&mux->stopped))
		return -ESHUTDOWN;
	if (!mux->pub)
		return -EINVAL;
	pthread_mutex_lock(&mux->post_lock);
	r = ringcast_pub_publish(mux->pub, type, data, len);
	pthread_mutex_unlock(&mux->post_lock);
	return r;
}

RINGCAST_API int ringcast_mux_dispatch(struct ringcast_mux *mux,
				       int64_t timeout_ns)
{
	if (!mux)
		return -EINVAL;
	if (rc_mux_forked(mux))
		return -ECHILD;
	if (!mux->reader || !(mux->flags & RINGCAST_MUX_MANUAL))
		return -EINVAL;
	if (rc_delivering == mux)
		return -EDEADLK;
	return rc_mux_pump(mux, timeout_ns, RC_MUX_BATCH);
}

RINGCAST_API struct ringcast_sub *ringcast_mux_reader(struct ringcast_mux *mux)
{
	return mux ? mux->reader : NULL;
}

RINGCAST_API int ringcast_mux_stop(struct ringcast_mux *mux)
{
	struct ringcast_mux_sub *s;

	if (!mux)
		return -EINVAL;
	if (rc_mux_forked(mux))
		return -ECHILD;
	if (rc_read_ongoing() || rc_delivering)
		return -EDEADLK;
	pthread_mutex_lock(&mux->stop_lock);
	/*
	 * [MS]: seq-cst, pairs with [MT] in rc_mux_deliver() and
	 * rc_mux_deliver_grab().
	 */
	atomic_store(&mux->stopped, 1);
	/* Every subscription reports closed; a blocked enqueue gives up. */
	pthread_mutex_lock(&mux->lock);
	for (s = mux->subs; s; s = s->next)
		rc_msub_close(s, -ECANCELED);
	pthread_mutex_unlock(&mux->lock);
	if (mux->reader)
		ringcast_sub_interrupt(mux->reader);
	if (mux->thread_running) {
		pthread_join(mux->thread, NULL);
		mux->thread_running = false;
	}
	/* A callback in flight (a caller's own dispatch) ends first. */
	rc_mux_wait_idle(mux, NULL);
	pthread_mutex_unlock(&mux->stop_lock);
	return 0;
}

RINGCAST_API int ringcast_mux_close(struct ringcast_mux *mux)
{
	int r = 0;

	if (!mux)
		return 0;
	if (rc_mux_forked(mux)) {
		/*
		 * The parent's: free the handle's memory, touch nothing
		 * else (its registry's tables are left to the process's
		 * end: the parent's subscriptions may still point at them).
		 */
		ringcast_sub_detach(mux->reader);
		if (mux->pub)
			ringcast_pub_detach(mux->pub);
		free(mux);
		return -ECHILD;
	}
	r = ringcast_mux_stop(mux);
	if (r < 0)
		return r;
	/* Stopped: no dispatcher uses the snapshot any more. */
	rc_mux_snap_drop(mux->snap);
	mux->snap = NULL;
	ringcast_sub_detach(mux->reader);
	mux->reader = NULL;
	if (mux->pub)
		ringcast_pub_detach(mux->pub);
	mux->pub = NULL;
	rc_mux_put(mux);
	return 0;
}
