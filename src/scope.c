// SPDX-License-Identifier: MIT
/*
 * Scopes: sets of mux subscriptions closed together (a Go
 * event.SubscriptionScope).  A scope's mutex guards its set; a tracked
 * subscription points back at its scope (the link), so that
 * unsubscribing it takes it out (the count stays exact).
 *
 *   close                                unsubscribe(s) (another thread)
 *   lock(sc)                             x = exchange(s->link, NULL)
 *   closed = true                        if x: forget(x, s):
 *   for s: get(s); cancel(s);                lock(x); remove s; unlock(x)
 *          if exchange(s->link, NULL):       put(x)
 *                  put(sc)               cancel(s); wait for its callback
 *   unlock(sc)
 *   for s: wait for its callback; put(s)
 *
 * Lifetime of the scope: it holds a reference for its handle and one for
 * each link; whoever clears a link with the exchange owns that link's
 * reference and drops it once done with the scope.  So an unsubscribe
 * that took the link before close could is still allowed to lock the
 * scope after ringcast_scope_free() returned: the memory goes with the
 * last reference.  Lifetime of a subscription: close takes a reference
 * to each (it is tracked, so its handle's is still held) and so may wait
 * for its callbacks after unlocking, while its owner frees it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "local.h"

struct ringcast_scope {
	pthread_mutex_t lock;
	_Atomic unsigned int refs; /* the handle, and each link */
	bool closed;
	unsigned int n, cap;
	struct ringcast_mux_sub **subs;
};

RINGCAST_API int ringcast_scope_new(struct ringcast_scope **scp)
{
	struct ringcast_scope *sc;

	if (!scp)
		return -EINVAL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	pthread_mutex_init(&sc->lock, NULL);
	atomic_init(&sc->refs, 1);
	*scp = sc;
	return 0;
}

RINGCAST_API int ringcast_scope_track(struct ringcast_scope *sc,
				      struct ringcast_mux_sub *sub)
{
	struct ringcast_mux_sub **subs;
	int r = 0;

	if (!sc || !sub)
		return -EINVAL;
	pthread_mutex_lock(&sc->lock);
	if (sc->closed) {
		r = -ECANCELED;
		goto out;
	}
	if (sc->n == sc->cap) {
		unsigned int cap = sc->cap ? sc->cap * 2 : 8;

		subs = realloc(sc->subs, cap * sizeof(*subs));
		if (!subs) {
			r = -ENOMEM;
			goto out;
		}
		sc->subs = subs;
		sc->cap = cap;
	}
	/* The link's reference, before the link can be taken. */
	atomic_fetch_add_explicit(&sc->refs, 1, memory_order_relaxed);
	r = rc_msub_set_scope(sub, sc);
	if (r < 0) {
		/* Not the last: the caller's handle holds one. */
		atomic_fetch_sub_explicit(&sc->refs, 1, memory_order_relaxed);
		goto out;
	}
	sc->subs[sc->n++] = sub;
out:
	pthread_mutex_unlock(&sc->lock);
	return r;
}

static void rc_scope_put(struct ringcast_scope *sc)
{
	/* Acq-rel: every use of sc happens before the free. */
	if (atomic_fetch_sub_explicit(&sc->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_destroy(&sc->lock);
	free(sc->subs);
	free(sc);
}

void rc_scope_forget(struct ringcast_scope *sc, struct ringcast_mux_sub *s)
{
	unsigned int i;

	pthread_mutex_lock(&sc->lock);
	for (i = 0; i < sc->n; i++) {
		if (sc->subs[i] == s) {
			sc->subs[i] = sc->subs[--sc->n];
			break;
		}
	}
	pthread_mutex_unlock(&sc->lock);
	rc_scope_put(sc); /* the link's */
}

RINGCAST_API int ringcast_scope_count(struct ringcast_scope *sc)
{
	int n;

	if (!sc)
		return -EINVAL;
	pthread_mutex_lock(&sc->lock);
	n = (int)sc->n;
	pthread_mutex_unlock(&sc->lock);
	return n;
}

RINGCAST_API int ringcast_scope_close(struct ringcast_scope *sc)
{
	struct ringcast_mux_sub **subs;
	unsigned int i, n;

	if (!sc)
		return -EINVAL;
	pthread_mutex_lock(&sc->lock);
	if (sc->closed) {
		pthread_mutex_unlock(&sc->lock);
		return 0;
	}
	sc->closed = true;
	n = sc->n;
	subs = sc->subs;
	for (i = 0; i < n; i++) {
		struct ringcast_mux_sub *s = subs[i];

		rc_msub_get(s);
		rc_msub_cancel(s);
		/*
		 * NULL: an unsubscribe took the link and drops its reference
		 * after forgetting (it waits for our unlock); else it is ours.
		 * Not the last: the caller's handle holds one.
		 */
		if (rc_msub_take_scope(s))
			atomic_fetch_sub_explicit(&sc->refs, 1,
						  memory_order_relaxed);
	}
	sc->n = 0;
	sc->subs = NULL;
	sc->cap = 0;
	pthread_mutex_unlock(&sc->lock);
	/* Outside the lock: a callback may use the scope. */
	for (i = 0; i < n; i++) {
		rc_msub_quiesce(subs[i]);
		rc_msub_put(subs[i]);
	}
	free(subs);
	return (int)n;
}

RINGCAST_API void ringcast_scope_free(struct ringcast_scope *sc)
{
	if (!sc)
		return;
	ringcast_scope_close(sc);
	/* Unsubscribes that hold a link may still lock it: the last frees. */
	rc_scope_put(sc);
}
