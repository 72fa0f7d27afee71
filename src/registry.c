// SPDX-License-Identifier: MIT
/*
 * The local registry: the subscriptions and handlers of this process,
 * looked up by type tag on the dispatch path with no lock, protected by
 * userspace RCU (liburcu, the urcu-bp flavour: the threads of a library's
 * callers are not registered, and bp registers them lazily on their first
 * read lock).  This is the only file that includes liburcu: its headers
 * define barrier macros of their own.
 *
 * Why copy-on-write sorted arrays and not an RCU hash table: a type has a
 * handful of handlers, a mux a few dozen types; a binary search over one
 * contiguous array costs a few cache lines, dispatch iterates the handlers
 * of a type without chasing pointers, and a writer (rare: subscribe,
 * unsubscribe) copies n entries.  Readers never store to a shared line.
 *
 *   reader (dispatch)                    writer (add, del)
 *   rc_read_lock()                       lock reg->wlock
 *   t = load_acquire(reg->cur)     [R]   build n, a copy of cur +/- entries
 *   use t->ent[]                         store_release(reg->cur, n)    [W]
 *   rc_read_unlock()                     unlock; call_rcu(free old cur)
 *
 * [R] pairs with [W]: a reader that sees the new table sees it whole.  The
 * grace period of call_rcu() orders every reader that could hold the old
 * table before its free.  Grace periods are per process: nothing here is
 * ever used on the shared ring.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-bp.h>

#include "local.h"

/*
 * ThreadSanitizer does not see liburcu's grace periods (liburcu is not
 * instrumented): tell it that the end of every read-side section happens
 * before whatever a grace period releases, and that a deferred free's
 * argument was handed to the worker thread.  Annotations only; nothing
 * in the ordinary build.
 */
#if defined(__SANITIZE_THREAD__)
#define RC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_TSAN 1
#endif
#endif
#ifdef RC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define rc_tsan_acquire(p) __tsan_acquire(p)
#define rc_tsan_release(p) __tsan_release(p)
#else
#define rc_tsan_acquire(p) ((void)(p))
#define rc_tsan_release(p) ((void)(p))
#endif
/* What a grace period releases, for the annotations. */
static char rc_tsan_gp __attribute__((unused));

struct rc_registry {
	pthread_mutex_t wlock; /* writers only */
	struct rc_reg_table *_Atomic cur;
};

/* ------------------------------------------------------------ read side */

void rc_read_lock(void)
{
	urcu_bp_read_lock();
}

void rc_read_unlock(void)
{
	rc_tsan_release(&rc_tsan_gp);
	urcu_bp_read_unlock();
}

bool rc_read_ongoing(void)
{
	return urcu_bp_read_ongoing();
}

void rc_synchronize(void)
{
	urcu_bp_synchronize_rcu();
	rc_tsan_acquire(&rc_tsan_gp);
}

struct rc_deferred {
	struct rcu_head head;
	void (*fn)(void *p);
	void *p;
};

static void rc_deferred_run(struct rcu_head *head)
{
	struct rc_deferred *d =
		caa_container_of(head, struct rc_deferred, head);

	rc_tsan_acquire(d);
	rc_tsan_acquire(&rc_tsan_gp);
	d->fn(d->p);
	free(d);
}

int rc_defer_free(void *p, void (*fn)(void *p))
{
	struct rc_deferred *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fn = fn;
	d->p = p;
	rc_tsan_release(d);
	urcu_bp_call_rcu(&d->head, rc_deferred_run);
	return 0;
}

/* ----------------------------------------------------------------- fork */

/*
 * liburcu's own fork handlers, run by the library's (ring.c): the
 * grace-period lock is held across fork(), bp forgets the parent's other
 * threads in the child (so a synchronize_rcu() there does not wait for a
 * reader that no longer exists), and the call_rcu worker is paused and
 * re-created in the child.  Where liburcu was never used they take and
 * drop its locks, and find no worker.
 */
void rc_local_fork_prepare(void)
{
	urcu_bp_call_rcu_before_fork();
	urcu_bp_before_fork();
}

void rc_local_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	urcu_bp_call_rcu_after_fork_parent();
}

void rc_local_fork_child(void)
{
	urcu_bp_after_fork_child();
	urcu_bp_call_rcu_after_fork_child();
}

/* ------------------------------------------------------------- writers */

int rc_registry_new(struct rc_registry **regp)
{
	struct rc_registry *reg = calloc(1, sizeof(*reg));
	struct rc_reg_table *t = calloc(1, sizeof(*t));

	if (!reg || !t) {
		free(reg);
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&reg->wlock, NULL);
	atomic_init(&reg->cur, t);
	*regp = reg;
	return 0;
}

static void rc_registry_free_now(void *p)
{
	struct rc_registry *reg = p;

	free(atomic_load_explicit(&reg->cur, memory_order_relaxed));
	pthread_mutex_destroy(&reg->wlock);
	free(reg);
}

void rc_registry_free(struct rc_registry *reg)
{
	if (reg && rc_defer_free(reg, rc_registry_free_now) < 0) {
		/* No memory for the deferral: wait here instead. */
		rc_synchronize();
		rc_registry_free_now(reg);
	}
}

/* Publish n as the table and free the old one after a grace period. */
static void rc_registry_swap(struct rc_registry *reg, struct rc_reg_table *n)
{
	struct rc_reg_table *old =
		atomic_load_explicit(&reg->cur, memory_order_relaxed);

	/* [W]: pairs with load_acquire [R] in rc_registry_table(). */
	atomic_store_explicit(&reg->cur, n, memory_order_release);
	if (rc_defer_free(old, free) < 0) {
		/* Inside a read-side section old is simply leaked. */
		if (rc_read_ongoing())
			return;
		rc_synchronize();
		free(old);
	}
}

int rc_registry_add(struct rc_registry *reg, const uint32_t *types, uint32_t n,
		    void *item)
{
	struct rc_reg_table *old, *t;
	uint32_t i, j, k;

	pthread_mutex_lock(&reg->wlock);
	old = atomic_load_explicit(&reg->cur, memory_order_relaxed);
	t = malloc(sizeof(*t) + (size_t)(old->n + n) * sizeof(t->ent[0]));
	if (!t) {
		pthread_mutex_unlock(&reg->wlock);
		return -ENOMEM;
	}
	t->gen = old->gen + 1;
	t->n = old->n + n;
	memcpy(t->ent, old->ent, old->n * sizeof(t->ent[0]));
	/* Insertion sort: a new entry goes after the others of its type. */
	for (i = 0, k = old->n; i < n; i++, k++) {
		for (j = k; j && t->ent[j - 1].type > types[i]; j--)
			t->ent[j] = t->ent[j - 1];
		t->ent[j].type = types[i];
		t->ent[j].item = item;
	}
	rc_registry_swap(reg, t);
	pthread_mutex_unlock(&reg->wlock);
	return 0;
}

void rc_registry_del(struct rc_registry *reg, void *item)
{
	struct rc_reg_table *old, *t;
	uint32_t i, k;

	pthread_mutex_lock(&reg->wlock);
	old = atomic_load_explicit(&reg->cur, memory_order_relaxed);
	t = malloc(sizeof(*t) + old->n * sizeof(t->ent[0]));
	if (!t) {
		/*
		 * No memory for a copy: the entries stay, and the dispatcher
		 * skips them (the item is marked closed by the caller).
		 */
		pthread_mutex_unlock(&reg->wlock);
		return;
	}
	for (i = 0, k = 0; i < old->n; i++)
		if (old->ent[i].item != item)
			t->ent[k++] = old->ent[i];
	t->gen = old->gen + 1;
	t->n = k;
	rc_registry_swap(reg, t);
	pthread_mutex_unlock(&reg->wlock);
}

/* ---------------------------------------------------------- lookups */

const struct rc_reg_table *rc_registry_table(struct rc_registry *reg)
{
	/* [R]: pairs with store_release [W] in rc_registry_swap(). */
	return atomic_load_explicit(&reg->cur, memory_order_acquire);
}

uint32_t rc_registry_find(const struct rc_reg_table *t, uint32_t type,
			  uint32_t *n)
{
	uint32_t lo = 0, hi = t->n, first;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->ent[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < t->n && t->ent[lo].type == type)
		lo++;
	*n = lo - first;
	return first;
}
