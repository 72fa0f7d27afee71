/* SPDX-License-Identifier: MIT */
/*
 * TypeMux's handles, shared by mux.c (open, start, stop and close, the
 * dispatcher and its deliveries) and mux_sub.c (subscriptions and their
 * queues).  The labels [M*] are those of the table at the top of mux.c.
 */
#ifndef RINGCAST_MUX_H
#define RINGCAST_MUX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "local.h"
#include "map.h"
#include "ringcast.h"

/*
 * A queue's record: this header, then the payload, the whole rounded up to
 * RC_QREC_ALIGN bytes.  len == RC_QENT_PAD marks the unused end of the
 * queue's memory, skipped to its start (a record never wraps).
 */
struct rc_qent {
	uint64_t seq;
	uint64_t ts;
	uint32_t type;
	uint32_t len;
	uint32_t epoch;
	uint32_t publisher;
};

#define RC_QREC_ALIGN 32u
#define RC_QENT_PAD UINT32_MAX

_Static_assert(sizeof(struct rc_qent) == RC_QREC_ALIGN,
	       "a record header is one alignment unit: a pad always fits");

/* The bytes a record of a len-byte payload takes in a queue. */
static inline size_t rc_qrec_size(size_t len)
{
	return (sizeof(struct rc_qent) + len + RC_QREC_ALIGN - 1) &
	       ~(size_t)(RC_QREC_ALIGN - 1);
}

struct ringcast_mux_sub {
	struct ringcast_mux *mux;
	void (*fn)(const struct ringcast_event *ev, void *arg);
	void (*status)(int code, uint64_t lost, void *arg);
	void *arg;
	uint32_t ntypes;
	uint32_t *types;
	_Atomic uint32_t closed; /* [MC] */
	_Atomic int refs; /* the handle, and each dispatcher or scope using it */
	_Atomic uint64_t calls; /* callback deliveries */
	uint64_t mark; /* the dispatcher's last pass that took it */
	bool listed; /* in mux->subs and the registry */
	bool end_told; /* status() learned the end; under mux->lock */
	struct ringcast_mux_sub *next, *prev; /* mux->subs, under mux->lock */
	struct ringcast_scope *_Atomic scope;

	pthread_mutex_t lock; /* the rest, for queue subscriptions */
	pthread_cond_t avail; /* an event, a loss, a close, an interrupt */
	pthread_cond_t space; /* room in the queue (reliable mux) */
	int code; /* what next() returns once closed or ended */
	bool intr;
	bool space_wait; /* the dispatcher waits on space */
	uint32_t qlen; /* the most events queued */
	uint64_t qhead, qtail; /* events taken, queued: free-running */
	/*
	 * The queue: records in ring, a byte ring of qsize bytes, from the
	 * oldest at offset qr (the one next() returned last, while qheld
	 * says its size) to offset qw; qused bytes, pads included, at most
	 * qbudget unless one record alone is larger.  See mux_sub.c.
	 */
	size_t qbudget, qsize;
	size_t qr, qw, qused, qheld;
	unsigned char *ring;
	/*
	 * held: the memory of the record next() returned last, when the
	 * queue moved to other memory since (ring is then the queue's);
	 * spare: a former ring kept for the next move.
	 */
	unsigned char *held, *spare;
	size_t held_size, spare_size;
	uint64_t lost_pending;
	struct ringcast_mux_sub_stats st;
};

struct ringcast_mux {
	struct ringcast_sub *reader; /* NULL for a post-only mux */
	struct ringcast_pub *pub; /* NULL without RINGCAST_MUX_POST */
	struct rc_registry *reg;
	uint32_t flags;
	uint32_t queue_len;
	size_t queue_bytes; /* each queue's budget */
	unsigned int gen; /* rc_fork_gen when made */
	_Atomic uint32_t stopped; /* [MS] */
	_Atomic int refs; /* the handle, and every subscription */
	struct ringcast_mux_sub *_Atomic cur; /* whose callback runs [MB] */
	_Atomic uint32_t waiters; /* threads waiting for cur to change */
	pthread_cond_t idle; /* cur changed; with lock */
	uint64_t pass; /* the dispatcher's, numbers its passes */
	struct rc_reg_table *snap; /* the dispatcher's copy; refs held */
	bool thread_running; /* under stop_lock */
	pthread_t thread;
	pthread_mutex_t post_lock; /* the publisher is one thread at a time */
	pthread_mutex_t stop_lock;
	pthread_mutex_t lock; /* subs, end */
	struct ringcast_mux_sub *subs;
	int end; /* the ring's end (-EPIPE, -EOWNERDEAD, ...), or 0 */
	_Atomic uint64_t ring_lost;
};

static inline bool rc_mux_forked(const struct ringcast_mux *mux)
{
	return mux->gen != rc_fork_gen;
}

/* mux.c: drop a reference to mux; the last frees it. */
void rc_mux_put(struct ringcast_mux *mux);

/* mux_sub.c: close s, its waits return code ([MC]); under no lock. */
void rc_msub_close(struct ringcast_mux_sub *s, int code);
/* Copy ev into s's queue, waiting for room when the mux is reliable. */
void rc_msub_enqueue(struct ringcast_mux *mux, struct ringcast_mux_sub *s,
		     const struct ringcast_event *ev);

#endif
