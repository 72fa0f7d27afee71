// SPDX-License-Identifier: MIT
/*
 * Scopes: sets of mux subscriptions closed together (a Go
 * event.SubscriptionScope).  A scope's mutex guards its set; a tracked
 * subscription points back at its scope, so that unsubscribing it takes
 * it out (the count stays exact).
 *
 *   close                                unsubscribe(s) (another thread)
 *   lock(sc)                             x = exchange(s->scope, NULL)
 *   closed = true                        if x: forget(x, s): lock(x) ...
 *   for s: cancel(s); s->scope = NULL
 *   unlock(sc)
 *   wait for deliveries in flight
 *
 * A subscription freed while the scope closes: its unsubscribe either
 * finds the scope pointer (then it waits on the scope's mutex until close
 * is done with it) or finds NULL, which close stores only after its last
 * access to the subscription.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "local.h"

struct ringcast_scope {
	pthread_mutex_t lock;
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
	r = rc_msub_set_scope(sub, sc);
	if (r < 0)
		goto out;
	sc->subs[sc->n++] = sub;
out:
	pthread_mutex_unlock(&sc->lock);
	return r;
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
	unsigned int i, n;
	bool any = false;

	if (!sc)
		return -EINVAL;
	pthread_mutex_lock(&sc->lock);
	if (sc->closed) {
		pthread_mutex_unlock(&sc->lock);
		return 0;
	}
	sc->closed = true;
	n = sc->n;
	for (i = 0; i < n; i++) {
		struct ringcast_mux_sub *s = sc->subs[i];

		any |= rc_msub_cancel(s);
		/* Close's last access to s: see the table above. */
		rc_msub_set_scope(s, NULL);
	}
	sc->n = 0;
	free(sc->subs);
	sc->subs = NULL;
	sc->cap = 0;
	pthread_mutex_unlock(&sc->lock);
	if (any)
		rc_mux_quiesce();
	return (int)n;
}

RINGCAST_API void ringcast_scope_free(struct ringcast_scope *sc)
{
	if (!sc)
		return;
	ringcast_scope_close(sc);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
