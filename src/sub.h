/* SPDX-License-Identifier: MIT */
/*
 * The subscriber handle, shared between sub.c (the read path),
 * sub_wait.c (waiting for an event), sub_attach.c (attach, the reliable
 * join, detach) and the in-process layer built on it (waiting on many
 * rings, descriptors).
 */
#ifndef RINGCAST_SUB_H
#define RINGCAST_SUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "barrier.h"
#include "compiler.h"
#include "map.h"

/* Sleepers wake on their own this often (by default) to check the lease. */
#define RC_LIVENESS_NS 250000000ull
/* ... and probe the lease at most this often while they have caught up. */
#define RC_PROBE_NS 100000000ull
/* Read-only readers cannot set wake bits: they poll this often. */
#define RC_RDONLY_POLL_NS 1000000ull
#define RC_DEFAULT_SPIN_NS 20000ull
/*
 * A crowd: more table entries in use (as the publisher last counted them,
 * hdr->entries) than this many per online CPU.  Its sleeping readers neither spin nor
 * take a wake per publish call (rc_sub_crowd_ns()) ...
 */
#define RC_CROWD_PER_CPU 16u
/* ... but sleep for this long per reader per CPU, a round of the crowd. */
#define RC_CROWD_NS 20000ull
/* Longest liveness interval or spin: an hour. */
#define RC_WAIT_MAX_NS 3600000000000ull
/* Skips of filtered-out events before the wait loop gets a look in. */
#define RC_SKIP_BUDGET 4096u
/* A claimed, uncommitted sequence pending this long: look for its owner. */
#define RC_HOLE_NS 2000000ull
/* Resubscribers poll an abandoned ring with backoff from 1 ms to 250 ms. */
#define RC_BACKOFF_MIN_NS 1000000ull

/* What a read does with the event it finds. */
enum rc_how {
	RC_COPY, /* copy it out and move on */
	RC_BORROW, /* lend it in place until release */
	RC_PEEK, /* only say whether there is one */
};

/*
 * Why a read must take the long way (rc_sub_get()), in one word that the
 * fast path (rc_sub_fast()) tests at once, as the kernel tests its thread
 * flags: each bit is set and cleared where its condition changes, and is
 * rarely set.  What varies from call to call (the cursor against the head
 * seen, the entry last synced, a fork, a demotion) is tested beside it.
 */
enum {
	RC_SUB_UNREG = 1u << 0, /* no table entry (attach) */
	RC_SUB_FILTERED = 1u << 1, /* a type filter (attach) */
	RC_SUB_BORROWED = 1u << 2, /* an event is lent, until release */
	RC_SUB_STALE = 1u << 3, /* demoted, and not told yet (-ESTALE) */
	RC_SUB_LOSS_OWED = 1u << 4, /* pending_lost != 0 */
	RC_SUB_LOST_CHECK = 1u << 5, /* lost_check != 0 */
};

struct ringcast_sub {
	struct rc_map m;

	/* The read position, and what the fast path needs beside it. */
	uint64_t cursor;
	/*
	 * A single-publisher ring: the head last loaded.  Events below it
	 * are committed: rc_sub_fast() reads them, and a reader that has
	 * caught up polls the head, not a slot the publisher is writing
	 * (rc_sub_poll()).
	 */
	uint64_t avail;
	uint32_t slow; /* RC_SUB_* */
	bool past_head; /* found an event the head did not show */
	unsigned char *buf; /* where events are copied out */
	uint64_t borrow_stamp; /* the stamp of the event lent */

	/* Losses owed to the caller, reported on the next read. */
	uint64_t pending_lost; /* FROM_SEQ below the oldest, or a lap */
	uint64_t lost_check; /* see rc_sub_sleep() */

	/* The epoch (publisher) followed. */
	uint64_t ep_start; /* first sequence of the epoch we follow */
	uint32_t ep_tag; /* low 32 bits of that epoch */
	bool ep_known;

	/* The table entry, and gating the publisher. */
	int entry; /* table entry, or -1 when unregistered */
	struct rc_entry *e; /* that entry, or NULL */
	bool reliable; /* gates the publisher (until demoted) */
	uint64_t synced; /* the cursor last stored in the entry */
	uint64_t synced_lost; /* the loss count last stored in the entry */
	int quarter_shift; /* log2 of the publisher's quarter ring */
	uint64_t told; /* the cursor a sleeping publisher was last told of */
	/*
	 * The data area: the quarter of it where the last spilled event we
	 * read began, and whether one that began in another is read since:
	 * then rc_sub_sync() wakes a publisher waiting for data room.
	 */
	int dquarter_shift;
	uint64_t dquarter;
	bool dwake;
	uint64_t borrow_pos; /* a spilled event lent: its record */
	uint32_t borrow_len; /* its length; 0 for an event in its slot */

	/* The options, fixed at attach. */
	uint32_t wait;
	uint32_t flags;
	uint32_t interest; /* wake buckets wanted */
	uint32_t ntypes;
	uint32_t *types; /* sorted */
	uint64_t spin_ns;
	uint64_t liveness_ns;
	uint32_t ncpus; /* online at attach, at least 1 */

	/* Waiting: what the last idle check saw, holes, backoff. */
	uint64_t seen_life; /* the life word the last idle check saw */
	uint64_t last_probe_ns;
	uint32_t seen_wake_all; /* hdr->wake_all_seq at the last idle check */
	uint64_t backoff_ns;
	uint64_t hole_seq; /* a claimed sequence pending at the cursor */
	uint64_t hole_since;
	uint64_t slept_at; /* the cursor when the last sleep began */
	uint64_t crowd_ns; /* how long it was, a crowd's (or 0) */

	/* ringcast_sub_interrupt(), from any thread. */
	_Atomic uint32_t intr;
	_Atomic uint32_t intr_word;

	/* Accounting. */
	struct ringcast_sub_stats st;
	/*
	 * Lost wake-ups the timer hid: timed-out waits during which a wanted
	 * event was published and no waker bumped the ring's wake sequence.
	 * Always 0 unless the wake protocol is broken: a self-test of the
	 * protocol, read by the tests (t_lost_wakes()), not an API.
	 */
	uint64_t lost_wakes;

	struct rc_subfd *fdw; /* its descriptor (subfd.c), or NULL */
};

/*
 * 1 when a call of ringcast_sub_next() would return at once (an event of
 * a wanted type, a lap, an end of stream, an error), 0 when it would wait.
 * Skips unwanted events on the way (the cursor moves, nothing is lost).
 */
int rc_sub_ready(struct ringcast_sub *sub);

/*
 * Prepare to sleep on the subscriber's futex word, as rc_sub_sleep() does:
 * sets the subscriber's wake bits, then re-checks.  Returns 1 when it must
 * not sleep (something is ready, or it cannot arm: a read-only mapping);
 * 0 with *word and *val set to the futex word and the value to wait on
 * (FUTEX_WAIT or futex_waitv; any waker bumps it).
 */
int rc_sub_arm(struct ringcast_sub *sub, _Atomic uint32_t **word,
	       uint32_t *val);

/* Inline helpers of the read path, used by its three files. */

/* Set or clear one of the RC_SUB_* bits (above). */
static inline void rc_sub_slow(struct ringcast_sub *sub, uint32_t bit, bool on)
{
	if (on)
		sub->slow |= bit;
	else
		sub->slow &= ~bit;
}

/* The losses owed, and the lost wake-up to check, with their bits. */
static inline void rc_sub_owe_lost(struct ringcast_sub *sub, uint64_t lost)
{
	sub->pending_lost = lost;
	rc_sub_slow(sub, RC_SUB_LOSS_OWED, lost);
}

static inline void rc_sub_lost_check(struct ringcast_sub *sub, uint64_t head)
{
	sub->lost_check = head;
	rc_sub_slow(sub, RC_SUB_LOST_CHECK, head);
}

/*
 * Our entry's cursor follows ours, so a publisher sees how far we read.
 * Release: the reads of the events below the cursor happen before a
 * publisher that sees it (its acquire [K] in rc_pub_scan()) overwrites
 * them.  A reliable subscriber whose cursor crosses a quarter-ring boundary
 * wakes a publisher sleeping for room (rc_pub_wake(): [S]); the publisher
 * waits for at most three quarters of a ring at a time, so the cursor it
 * waits for is always followed by such a boundary before the head.
 */
static inline void rc_sub_sync(struct ringcast_sub *sub)
{
	struct rc_entry *e = sub->e;
	uint64_t c = sub->cursor;
	/* A loss not reported yet is a loss already (stat's delivered). */
	uint64_t lost = sub->st.lost + sub->pending_lost;

	if (!e || (c == sub->synced && lost == sub->synced_lost))
		return;
	sub->synced_lost = lost;
	WRITE_ONCE(e->skipped, sub->st.skipped);
	WRITE_ONCE(e->lost, lost);
	WRITE_ONCE(e->aborted, sub->st.aborted);
	/* Pairs with smp_load_acquire() [K] in rc_pub_scan(). */
	smp_store_release(&e->cursor, c);
	if (sub->reliable &&
	    (((c ^ sub->synced) >> sub->quarter_shift) || sub->dwake))
		rc_pub_wake(sub->m.hdr);
	sub->dwake = false;
	sub->synced = c;
}

/*
 * A spilled event at data position pos read or skipped: crossing into
 * another quarter of the data area, a publisher waiting for data room may
 * wait for us (gate.c, rc_pub_droom()): rc_sub_sync() wakes it.
 */
static inline void rc_sub_dcross(struct ringcast_sub *sub, uint64_t pos)
{
	uint64_t q = pos >> sub->dquarter_shift;

	if (q != sub->dquarter) {
		sub->dquarter = q;
		sub->dwake = true;
	}
}

static inline void rc_sub_adopt(struct ringcast_sub *sub, uint32_t tag,
				uint64_t start)
{
	sub->ep_tag = tag;
	sub->ep_start = start;
	sub->ep_known = true;
	sub->backoff_ns = 0;
}

/* sub.c: one attempt at the cursor's event; how an epoch ended. */
int rc_sub_try(struct ringcast_sub *sub, struct ringcast_event *ev, int how);
int rc_sub_end_code(struct ringcast_sub *sub);

/* sub_wait.c: nothing at the cursor (has the stream ended?), spin, sleep. */
int rc_sub_idle(struct ringcast_sub *sub, struct ringcast_event *ev, int how);
void rc_sub_spin(struct ringcast_sub *sub, unsigned int n);
bool rc_sub_crowded(const struct ringcast_sub *sub);
void rc_sub_sleep(struct ringcast_sub *sub, int64_t rem);

#endif
