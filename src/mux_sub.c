// SPDX-License-Identifier: MIT
/*
 * TypeMux subscriptions: making and listing them (subscribe, handle),
 * taking them out (unsubscribe, free), their references, and the bounded
 * queues of those without a callback: the dispatcher's copy in
 * rc_msub_enqueue(), the reader's in ringcast_mux_next().  Who waits for
 * whom, the labels [M*] and the lock order are at the top of mux.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list.h"
#include "local.h"
#include "map.h"
#include "mux.h"

/* ------------------------------------------------------------ memory */

static void rc_msub_free_mem(struct ringcast_mux_sub *s)
{
	free(s->types);
	free(s->ring);
	free(s->held);
	free(s->spare);
	free(s);
}

static void rc_msub_free_now(struct ringcast_mux_sub *s)
{
	struct ringcast_mux *mux = s->mux;

	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->avail);
	pthread_cond_destroy(&s->space);
	rc_msub_free_mem(s);
	rc_mux_put(mux);
}

/* Free a subscription never listed, which holds no reference to its mux. */
static void rc_msub_discard(struct ringcast_mux_sub *s)
{
	atomic_fetch_add(&s->mux->refs, 1); /* rc_msub_free_now() drops one */
	rc_msub_free_now(s);
}

void rc_msub_get(struct ringcast_mux_sub *s)
{
	/* Relaxed: the caller holds a reference, or the read side. */
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void rc_msub_put(struct ringcast_mux_sub *s)
{
	/* Acq-rel: every use of s happens before the free. */
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		rc_msub_free_now(s);
}

/* -------------------------------------------------------------- queues */

/*
 * A queue is a byte ring of records (struct rc_qent, then the payload,
 * rounded up to RC_QREC_ALIGN), under s->lock.  A record never wraps: one
 * that does not fit before the end starts again at offset 0, after a pad
 * record that covers the rest.  The record ringcast_mux_next() returned
 * last stays where it is (ev->data points into it) until the next call
 * releases it: its bytes count (qused), not as an event queued.
 *
 * An event is taken when fewer than qlen events are queued and its record
 * fits the contiguous room left with qused, pad included, at most qbudget;
 * or when the queue is empty (nothing queued, nothing held), whatever its
 * size: the memory then grows to fit that record once, and stays (so that
 * steady large events allocate nothing).  When nothing is queued but the
 * record returned last is held and the new one does not fit beside it, its
 * reader keeps up: the queue moves to other memory (a spare, kept from the
 * move before, so that steady large events allocate nothing either) and the
 * held record's memory goes at its release.  Otherwise the queue is full.
 */

/*
 * Where a record of f bytes goes: its offset, and *pad the bytes skipped
 * at the end before it; false when it does not fit now.  Under s->lock.
 */
static bool rc_msub_fit(const struct ringcast_mux_sub *s, size_t f, size_t *at,
			size_t *pad)
{
	*pad = 0;
	if (!s->qused) {
		*at = 0; /* empty: from the start, any size */
		return true;
	}
	if (s->qtail - s->qhead >= s->qlen)
		return false;
	if (s->qw > s->qr) {
		if (f <= s->qsize - s->qw) {
			*at = s->qw;
		} else if (f <= s->qr) {
			*pad = s->qsize - s->qw;
			*at = 0;
		} else {
			return false;
		}
	} else if (s->qw < s->qr && f <= s->qr - s->qw) {
		*at = s->qw;
	} else {
		return false; /* qw == qr with qused > 0: all of it used */
	}
	return s->qused + *pad + f <= s->qbudget;
}

/* Make the memory of an empty queue hold a record of f bytes. */
static int rc_msub_grow(struct ringcast_mux_sub *s, size_t f)
{
	unsigned char *ring;

	if (f <= s->qsize)
		return 0;
	ring = malloc(f);
	if (!ring)
		return -ENOMEM;
	free(s->ring);
	s->ring = ring;
	s->qsize = f;
	return 0;
}

/*
 * Nothing queued, the record returned last held, and a record of f bytes
 * that does not fit beside it: move the queue to the spare memory (grown to
 * f), empty; the held record's memory is kept until its release.  Under
 * s->lock; -ENOMEM.
 */
static int rc_msub_move(struct ringcast_mux_sub *s, size_t f)
{
	unsigned char *mem = s->spare;
	size_t size = s->spare_size;

	if (!mem || size < f) {
		size = f > s->qsize ? f : s->qsize;
		mem = malloc(size);
		if (!mem)
			return -ENOMEM;
		free(s->spare);
	}
	s->spare = NULL;
	s->spare_size = 0;
	s->held = s->ring;
	s->held_size = s->qsize;
	s->ring = mem;
	s->qsize = size;
	s->qr = s->qw = 0;
	s->qused = 0;
	return 0;
}

/* Release the record ringcast_mux_next() returned last; under s->lock. */
static void rc_msub_release(struct ringcast_mux_sub *s)
{
	if (!s->qheld)
		return;
	if (s->held) {
		/* The queue moved on: the held memory becomes the spare. */
		s->spare = s->held;
		s->spare_size = s->held_size;
		s->held = NULL;
		s->qheld = 0;
		return;
	}
	s->qr += s->qheld;
	if (s->qr == s->qsize)
		s->qr = 0;
	s->qused -= s->qheld;
	s->qheld = 0;
	if (!s->qused)
		s->qr = s->qw = 0;
	if (s->space_wait)
		pthread_cond_signal(&s->space);
}

/* Close a subscription: its waits return code.  Under no lock. */
void rc_msub_close(struct ringcast_mux_sub *s, int code)
{
	pthread_mutex_lock(&s->lock);
	if (!atomic_load(&s->closed)) {
		s->code = code;
		/* [MC]: seq-cst, read by the dispatcher before it delivers. */
		atomic_store(&s->closed, 1);
	}
	pthread_cond_broadcast(&s->avail);
	pthread_cond_broadcast(&s->space);
	pthread_mutex_unlock(&s->lock);
}

/* A queue drops ev, counted; under s->lock. */
static void rc_msub_drop(struct ringcast_mux_sub *s)
{
	s->lost_pending++;
	s->st.dropped++;
	pthread_cond_signal(&s->avail);
}

void rc_msub_enqueue(struct ringcast_mux *mux, struct ringcast_mux_sub *s,
		     const struct ringcast_event *ev)
{
	size_t f = rc_qrec_size(ev->len), at, pad;
	struct rc_qent *q;

	pthread_mutex_lock(&s->lock);
	while (!rc_msub_fit(s, f, &at, &pad)) {
		if (atomic_load(&s->closed))
			goto out;
		if (s->qtail == s->qhead && s->qheld && !s->held &&
		    rc_msub_move(s, f) == 0)
			continue; /* empty now: it fits */
		if (!(mux->flags & RINGCAST_MUX_RELIABLE)) {
			/* Lossy: drop and count; other queues go on. */
			rc_msub_drop(s);
			goto out;
		}
		/* Reliable: the dispatcher waits, and so the publisher. */
		s->st.full_waits++;
		s->space_wait = true;
		pthread_cond_wait(&s->space, &s->lock);
		s->space_wait = false;
	}
	if (atomic_load(&s->closed))
		goto out;
	if (!s->qused) {
		s->qr = s->qw = 0;
		if (rc_msub_grow(s, f) < 0) {
			/* No memory for a record that large: a loss. */
			rc_msub_drop(s);
			goto out;
		}
	}
	if (pad) {
		q = (struct rc_qent *)(s->ring + s->qw);
		q->len = RC_QENT_PAD;
	}
	q = (struct rc_qent *)(s->ring + at);
	*q = (struct rc_qent){
		.seq = ev->seq,
		.ts = ev->ts,
		.type = ev->type,
		.len = ev->len,
		.epoch = ev->epoch,
		.publisher = ev->publisher,
	};
	if (ev->len)
		memcpy(q + 1, ev->data, ev->len);
	s->qw = at + f == s->qsize ? 0 : at + f;
	s->qused += pad + f;
	if (s->qtail++ == s->qhead)
		pthread_cond_signal(&s->avail);
out:
	pthread_mutex_unlock(&s->lock);
}

/* ----------------------------------------------------- subscriptions */

/*
 * A new subscription of mux, not listed yet: its handlers, sorted types
 * and, without a callback, its queue.  Freed again on failure.
 */
static int rc_msub_new(struct ringcast_mux *mux, const uint32_t *types,
		       unsigned int ntypes,
		       void (*fn)(const struct ringcast_event *ev, void *arg),
		       void (*status)(int code, uint64_t lost, void *arg),
		       void *arg, struct ringcast_mux_sub **sp)
{
	pthread_condattr_t ca;
	struct ringcast_mux_sub *s;
	uint32_t dup;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mux = mux;
	s->fn = fn;
	s->status = status;
	s->arg = arg;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->avail, &ca);
	pthread_cond_init(&s->space, &ca);
	pthread_condattr_destroy(&ca);
	r = rc_types_sorted(types, ntypes, &s->types, &dup);
	if (r < 0)
		goto err_free; /* -EINVAL: a duplicate type */
	s->ntypes = ntypes;
	if (!fn) {
		s->qlen = mux->queue_len;
		s->qbudget = mux->queue_bytes;
		s->qsize = mux->queue_bytes;
		s->ring = malloc(s->qsize);
		if (!s->ring) {
			r = -ENOMEM;
			goto err_free;
		}
	}
	*sp = s;
	return 0;

err_free:
	rc_msub_discard(s);
	return r;
}

/*
 * List s in mux's registry and list, under mux->lock, unless the mux was
 * stopped.  *end is the end to tell s's status handler at once (0: none).
 */
static int rc_mux_link(struct ringcast_mux *mux, struct ringcast_mux_sub *s,
		       int *end)
{
	int r;

	pthread_mutex_lock(&mux->lock);
	if (atomic_load(&mux->stopped)) {
		r = -ESHUTDOWN;
		goto out;
	}
	r = rc_registry_add(mux->reg, s->types, s->ntypes, s);
	if (r < 0)
		goto out;
	s->code = mux->end;
	if (s->status && mux->end) {
		/* The dispatcher told the others already: tell it here. */
		s->end_told = true;
		*end = mux->end;
	}
	s->listed = true;
	rc_list_push(&mux->subs, s);
	atomic_fetch_add(&mux->refs, 1);
out:
	pthread_mutex_unlock(&mux->lock);
	return r;
}

static int rc_mux_add(struct ringcast_mux *mux, const uint32_t *types,
		      unsigned int ntypes,
		      void (*fn)(const struct ringcast_event *ev, void *arg),
		      void (*status)(int code, uint64_t lost, void *arg),
		      void *arg, struct ringcast_mux_sub **subp)
{
	struct ringcast_mux_sub *s;
	int r, end = 0;

	if (!mux || !subp || !ntypes || !types || ntypes > RINGCAST_MAX_TYPES)
		return -EINVAL;
	if (rc_mux_forked(mux))
		return -ECHILD;
	if (atomic_load(&mux->stopped))
		return -ESHUTDOWN;
	if (!mux->reader)
		return -EINVAL;
	r = rc_msub_new(mux, types, ntypes, fn, status, arg, &s);
	if (r < 0)
		return r;
	r = rc_mux_link(mux, s, &end);
	if (r < 0) {
		rc_msub_discard(s);
		return r;
	}
	*subp = s;
	if (end)
		status(end, 0, arg);
	return 0;
}

RINGCAST_API int ringcast_mux_subscribe(struct ringcast_mux *mux,
					const uint32_t *types,
					unsigned int ntypes,
					struct ringcast_mux_sub **subp)
{
	return rc_mux_add(mux, types, ntypes, NULL, NULL, NULL, subp);
}

RINGCAST_API int ringcast_mux_handle(struct ringcast_mux *mux,
				     const uint32_t *types, unsigned int ntypes,
				     void (*fn)(const struct ringcast_event *ev,
						void *arg),
				     void *arg, struct ringcast_mux_sub **subp)
{
	if (!fn)
		return -EINVAL;
	return rc_mux_add(mux, types, ntypes, fn, NULL, arg, subp);
}

RINGCAST_API int ringcast_mux_handle_status(
	struct ringcast_mux *mux, const uint32_t *types, unsigned int ntypes,
	void (*fn)(const struct ringcast_event *ev, void *arg),
	void (*status)(int code, uint64_t lost, void *arg), void *arg,
	struct ringcast_mux_sub **subp)
{
	if (!fn || !status)
		return -EINVAL;
	return rc_mux_add(mux, types, ntypes, fn, status, arg, subp);
}

/*
 * Take s out of its mux (registry and list) and close it, without waiting
 * for deliveries in flight.  Returns whether it was in.
 */
bool rc_msub_cancel(struct ringcast_mux_sub *s)
{
	struct ringcast_mux *mux = s->mux;
	bool was;

	pthread_mutex_lock(&mux->lock);
	was = s->listed;
	if (was) {
		s->listed = false;
		rc_list_del(&mux->subs, s);
		rc_registry_del(mux->reg, s);
	}
	pthread_mutex_unlock(&mux->lock);
	rc_msub_close(s, -ECANCELED);
	return was;
}

RINGCAST_API int ringcast_mux_unsubscribe(struct ringcast_mux_sub *s)
{
	struct ringcast_scope *sc;

	if (!s)
		return -EINVAL;
	if (rc_mux_forked(s->mux))
		return -ECHILD;
	sc = rc_msub_take_scope(s);
	if (sc)
		rc_scope_forget(sc, s);
	rc_msub_cancel(s);
	/* Closed: no delivery starts; a callback in flight ends first. */
	rc_msub_quiesce(s);
	return 0;
}

int rc_msub_set_scope(struct ringcast_mux_sub *s, struct ringcast_scope *sc)
{
	struct ringcast_scope *none = NULL;

	if (!atomic_compare_exchange_strong(&s->scope, &none, sc))
		return -EINVAL; /* tracked by a scope already */
	return 0;
}

struct ringcast_scope *rc_msub_take_scope(struct ringcast_mux_sub *s)
{
	return atomic_exchange(&s->scope, NULL);
}

static void rc_msub_put_deferred(void *p)
{
	rc_msub_put(p);
}

RINGCAST_API void ringcast_mux_sub_free(struct ringcast_mux_sub *s)
{
	if (!s)
		return;
	if (rc_mux_forked(s->mux)) {
		/* The parent's: its mux may be gone already. */
		rc_msub_free_mem(s);
		return;
	}
	ringcast_mux_unsubscribe(s);
	/*
	 * A dispatcher may still find it in a table it read before: drop
	 * the handle's reference after a grace period, when each one has
	 * taken its own reference or passed it by.
	 */
	if (rc_defer_free(s, rc_msub_put_deferred) == 0)
		return;
	if (rc_read_ongoing())
		return; /* no memory to defer: leaked */
	rc_synchronize();
	rc_msub_put(s);
}

static void rc_deadline(struct timespec *ts, int64_t timeout_ns)
{
	uint64_t t = rc_now_ns() + (uint64_t)timeout_ns;

	ts->tv_sec = (time_t)(t / 1000000000u);
	ts->tv_nsec = (long)(t % 1000000000u);
}

/*
 * The oldest event of s's queue (not empty, none held) into ev, its data
 * in place: held until the next call; under s->lock.
 */
static void rc_msub_dequeue(struct ringcast_mux_sub *s,
			    struct ringcast_event *ev)
{
	const struct rc_qent *q = (const struct rc_qent *)(s->ring + s->qr);

	if (q->len == RC_QENT_PAD) {
		/* The rest of the memory was skipped: the record is at 0. */
		s->qused -= s->qsize - s->qr;
		s->qr = 0;
		q = (const struct rc_qent *)s->ring;
	}
	*ev = (struct ringcast_event){
		.seq = q->seq,
		.ts = q->ts,
		.type = q->type,
		.len = q->len,
		.epoch = q->epoch,
		.publisher = q->publisher,
		.lost = 0,
		.data = q + 1,
	};
	s->qheld = rc_qrec_size(q->len);
	s->qhead++;
	if (s->space_wait)
		pthread_cond_signal(&s->space);
	s->st.delivered++;
}

RINGCAST_API int ringcast_mux_next(struct ringcast_mux_sub *s,
				   struct ringcast_event *ev,
				   int64_t timeout_ns)
{
	struct timespec dl;
	int r;

	if (!s || !ev || s->fn)
		return -EINVAL;
	if (rc_mux_forked(s->mux))
		return -ECHILD;
	if (timeout_ns > 0)
		rc_deadline(&dl, timeout_ns);
	pthread_mutex_lock(&s->lock);
	/* The event returned last: ev->data was valid until this call. */
	rc_msub_release(s);
	for (;;) {
		if (atomic_load(&s->closed)) {
			r = s->code;
			break;
		}
		if (s->lost_pending) {
			ev->lost = s->lost_pending;
			s->st.lost += s->lost_pending;
			s->lost_pending = 0;
			r = -EOVERFLOW;
			break;
		}
		if (s->qtail != s->qhead) {
			rc_msub_dequeue(s, ev);
			r = 0;
			break;
		}
		if (s->intr) {
			s->intr = false;
			r = -EINTR;
			break;
		}
		if (s->code) {
			r = s->code; /* the ring ended */
			break;
		}
		if (timeout_ns == 0) {
			r = -EAGAIN;
			break;
		}
		if (timeout_ns < 0) {
			pthread_cond_wait(&s->avail, &s->lock);
		} else if (pthread_cond_timedwait(&s->avail, &s->lock, &dl) ==
			   ETIMEDOUT) {
			r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

RINGCAST_API void ringcast_mux_interrupt(struct ringcast_mux_sub *s)
{
	if (!s || s->fn)
		return;
	pthread_mutex_lock(&s->lock);
	s->intr = true;
	pthread_cond_broadcast(&s->avail);
	pthread_mutex_unlock(&s->lock);
}

RINGCAST_API void ringcast_mux_sub_get_stats(struct ringcast_mux_sub *s,
					     struct ringcast_mux_sub_stats *st)
{
	if (!s || !st)
		return;
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->queued = s->qtail - s->qhead;
	if (s->fn)
		st->delivered =
			atomic_load_explicit(&s->calls, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
}
