/* SPDX-License-Identifier: MIT */
/*
 * The in-process layer: the local registry (registry.c, the only file that
 * includes liburcu), TypeMux (mux.c, mux_sub.c), scopes (scope.c),
 * waiting on many rings (waitv.c) and descriptors (subfd.c).
 */
#ifndef RINGCAST_LOCAL_H
#define RINGCAST_LOCAL_H

#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringcast.h"

struct ringcast_mux_sub;
struct ringcast_scope;
struct ringcast_sub;

/*
 * A registry maps type tags to items (the subscriptions of one mux).  Its
 * table is immutable once published: writers (serialised by the
 * registry's mutex, never blocking a reader) build a new sorted copy,
 * publish it with a release store and free the old one after a grace
 * period (call_rcu).  Readers look a type up by binary search inside a
 * read-side section, with no lock and no store to shared lines.
 */
struct rc_reg_ent {
	uint32_t type;
	void *item;
};

struct rc_reg_table {
	uint64_t gen; /* of the registry's tables: one more each change */
	uint32_t n;
	struct rc_reg_ent ent[]; /* sorted by type, then by insertion */
};

struct rc_registry;

int rc_registry_new(struct rc_registry **regp);
/* Frees the registry and its table after a grace period. */
void rc_registry_free(struct rc_registry *reg);
/* Adds item under each of types[0..n); never waits for readers. */
int rc_registry_add(struct rc_registry *reg, const uint32_t *types, uint32_t n,
		    void *item);
/* Removes every entry of item; never waits for readers. */
void rc_registry_del(struct rc_registry *reg, void *item);
/* The current table; only inside rc_read_lock() .. rc_read_unlock(). */
const struct rc_reg_table *rc_registry_table(struct rc_registry *reg);
/*
 * The entries of type in t: returns the index of the first and sets *n
 * to their number (0 when none).
 */
uint32_t rc_registry_find(const struct rc_reg_table *t, uint32_t type,
			  uint32_t *n);

/* The read side, and grace periods (liburcu urcu-bp, per process). */
void rc_read_lock(void);
void rc_read_unlock(void);
/* Inside a read-side section of this thread (then never synchronise). */
bool rc_read_ongoing(void);
/* Waits until every read-side section begun before it has ended. */
void rc_synchronize(void);
/* Calls fn(p) after a grace period, on liburcu's worker thread. */
int rc_defer_free(void *p, void (*fn)(void *p));

/* liburcu's fork handlers, for the library's one (ring.c). */
void rc_local_fork_prepare(void);
void rc_local_fork_parent(void);
void rc_local_fork_child(void);

/* mux_sub.c (rc_msub_quiesce(): mux.c), for scope.c */
/*
 * Take s out of its mux (registry and list) and close it (-ECANCELED),
 * without waiting for deliveries in flight.  Returns whether it was in.
 */
bool rc_msub_cancel(struct ringcast_mux_sub *s);
/*
 * Wait until no callback of s (closed already) runs, unless this thread
 * is in a delivery or a read-side section.  Waits for no grace period.
 */
void rc_msub_quiesce(struct ringcast_mux_sub *s);
/* A reference that keeps s's memory: the caller holds one already. */
void rc_msub_get(struct ringcast_mux_sub *s);
/* Drop it; the last frees s. */
void rc_msub_put(struct ringcast_mux_sub *s);
/* Set the scope that tracks s (-EINVAL: one does already). */
int rc_msub_set_scope(struct ringcast_mux_sub *s, struct ringcast_scope *sc);
/* Clear it: returns the scope that tracked s, whose link the caller now owns. */
struct ringcast_scope *rc_msub_take_scope(struct ringcast_mux_sub *s);

/*
 * scope.c: a subscription whose link to sc was taken with
 * rc_msub_take_scope() leaves it; drops the link's reference to sc.
 */
void rc_scope_forget(struct ringcast_scope *sc, struct ringcast_mux_sub *s);

/* waitv.c: futex_waitv(), at most RC_WAITV_MAX words per call. */
#define RC_WAITV_MAX 128u
/* 0 woken (or a value differed), -ETIMEDOUT, -EINTR, -ENOSYS, -EFAULT. */
int rc_futex_waitv(struct futex_waitv *w, unsigned int n, int64_t timeout_ns);
/* futex_waitv(), or without it a 1 ms wait on the first word. */
void rc_wait_words(struct futex_waitv *w, unsigned int n, int64_t timeout_ns);

/* subfd.c: the subscriber's descriptor, from sub.c. */
void rc_subfd_idle(struct ringcast_sub *sub);
void rc_subfd_drop(struct ringcast_sub *sub);
/* The fork handler's part for the descriptors' helper thread (ring.c). */
void rc_subfd_fork_child(void);

#endif
