/* SPDX-License-Identifier: MIT */
/*
 * The subscriber handle, shared between sub.c (the read path) and the
 * in-process layer built on it (waiting on many rings, descriptors).
 */
#ifndef RINGCAST_SUB_H
#define RINGCAST_SUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "map.h"

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

	/* The options, fixed at attach. */
	uint32_t wait;
	uint32_t flags;
	uint32_t interest; /* wake buckets wanted */
	uint32_t ntypes;
	uint32_t *types; /* sorted */
	uint64_t spin_ns;
	uint64_t liveness_ns;

	/* Waiting: what the last idle check saw, holes, backoff. */
	uint64_t seen_life; /* the life word the last idle check saw */
	uint64_t last_probe_ns;
	uint32_t seen_wake_all; /* hdr->wake_all_seq at the last idle check */
	uint64_t backoff_ns;
	uint64_t hole_seq; /* a claimed sequence pending at the cursor */
	uint64_t hole_since;

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

#endif
