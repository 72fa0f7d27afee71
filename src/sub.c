// SPDX-License-Identifier: MIT
/*
 * Subscribers: attach, the read path (the reader's half of the seqlock in
 * pub.c's table), laps, epochs, waiting and waking, and the reliable
 * subscriber's half of the gating table in pub.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>

#include "barrier.h"
#include "compiler.h"
#include "copy.h"
#include "local.h"
#include "map.h"
#include "sub.h"

/* Sleepers wake on their own this often (by default) to check the lease. */
#define RC_LIVENESS_NS 250000000ull
/* ... and probe the lease at most this often while they have caught up. */
#define RC_PROBE_NS 100000000ull
/* Read-only readers cannot set wake bits: they poll this often. */
#define RC_RDONLY_POLL_NS 1000000ull
#define RC_DEFAULT_SPIN_NS 20000ull
/* Longest liveness interval or spin: an hour. */
#define RC_WAIT_MAX_NS 3600000000000ull
/* Skips of filtered-out events before the wait loop gets a look in. */
#define RC_SKIP_BUDGET 4096u
/* A claimed, uncommitted sequence pending this long: look for its owner. */
#define RC_HOLE_NS 2000000ull
/* Resubscribers poll an abandoned ring with backoff from 1 ms to 250 ms. */
#define RC_BACKOFF_MIN_NS 1000000ull

/*
 * The reader's half of the seqlock in pub.c's table, written once, as the
 * kernel's read_seqcount_begin() and read_seqcount_retry() are:
 *
 *	s1 = rc_slot_read_begin(s);
 *	if (s1 != seq + 1) ... not (or not yet, or no longer) event seq
 *	read the slot's fields, copy its payload (racing with a writer)
 *	if (rc_slot_read_retry(s, s1)) ... discard what was read
 *
 * rc_slot_read_end() is the retry's load, for callers that classify the
 * stamp found.  [B] and [C] pair with [D] and [A] (pub.c's table).
 */
static inline uint64_t rc_slot_read_begin(struct rc_slot *s)
{
	/* [B]: pairs with smp_store_release() [D] in rc_slot_end(). */
	return smp_load_acquire(&s->stamp);
}

static inline uint64_t rc_slot_read_end(struct rc_slot *s)
{
	/* [C]: pairs with smp_wmb() [A] in rc_slot_begin(). */
	smp_rmb();
	return READ_ONCE(s->stamp);
}

static inline bool rc_slot_read_retry(struct rc_slot *s, uint64_t s1)
{
	return unlikely(rc_slot_read_end(s) != s1);
}

/* Set or clear one of the RC_SUB_* bits (sub.h). */
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
 * Register a reliable subscriber that wants to start at *start, and raise
 * *start to where nothing can be overwritten before it reads it: the
 * joiner's half of the gating table in pub.c.
 */
static int rc_sub_join(struct ringcast_sub *sub, struct rc_join *j,
		       uint64_t *start)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t lim, floor, head;

	if (!sub->m.writable) {
		rc_set_detail("a reliable subscriber needs write access to "
			      "ring '%s'",
			      sub->m.name);
		return -EACCES;
	}
	j->state = RC_ENTRY_RELIABLE;
	j->cursor = *start;
	sub->entry = rc_table_join(&sub->m, j);
	if (sub->entry < 0) {
		int r = sub->entry;

		sub->entry = -1;
		if (r == -EUSERS)
			rc_set_detail("the subscriber table of ring '%s' is "
				      "full (%u entries)",
				      sub->m.name, sub->m.table_cap);
		return r;
	}
	/* [J]: pairs with smp_mb() [H] in rc_pub_scan(). */
	smp_mb();
	lim = READ_ONCE(hdr->limit);
	floor = lim > sub->m.slot_count ? lim - sub->m.slot_count : 0;
	/*
	 * A limit is at most a ring ahead of the head when it is stored, and
	 * the head read after it is no lower: a floor past it was never
	 * stored by a publisher (a corrupted header).  Start at the head.
	 */
	head = smp_load_acquire(&hdr->head);
	if (floor > head)
		floor = head;
	if (floor > *start)
		*start = floor;
	return 0;
}

static bool rc_sub_wants(const struct ringcast_sub *sub, uint32_t type)
{
	uint32_t lo = 0, hi = sub->ntypes;

	if (!sub->ntypes)
		return true;
	if (!(sub->interest & rc_type_bit(type)))
		return false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sub->types[mid] == type)
			return true;
		if (sub->types[mid] < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int rc_sub_corrupt_slot(struct ringcast_sub *sub, uint64_t seq,
			       const char *what)
{
	rc_set_detail("corrupted: slot of sequence %llu: %s",
		      (unsigned long long)seq, what);
	return -EBADMSG;
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
	if (sub->reliable && ((c ^ sub->synced) >> sub->quarter_shift))
		rc_pub_wake(sub->m.hdr);
	sub->synced = c;
}

/*
 * Were we demoted to lossy by a publisher we held back too long?  Then
 * -ESTALE is owed to the caller: rc_sub_get() or release returns it, once,
 * before anything else (a peek by wait-any or a descriptor leaves it).
 */
static bool rc_sub_demoted(struct ringcast_sub *sub)
{
	/*
	 * Orders the stamp we found overwritten (a relaxed load, in a lap)
	 * before this load: pairs with the smp_mb() [H] of the publisher's
	 * scan after its demotion CAS, which comes before any overwrite.
	 */
	smp_rmb();
	if (likely(RC_ENTRY_KIND(READ_ONCE(sub->e->state)) ==
		   RC_ENTRY_RELIABLE))
		return false;
	sub->reliable = false;
	sub->st.demoted++;
	sub->slow |= RC_SUB_STALE;
	return true;
}

/*
 * The slot of c holds event xs > c: the subscriber was lapped.  Resume
 * half a ring behind the newest event known, not at the oldest slot,
 * which is the next one to be overwritten.
 */
static int rc_sub_lapped(struct ringcast_sub *sub, uint64_t c, uint64_t xs,
			 struct ringcast_event *ev)
{
	/* Pairs with [E] in rc_pub_advance(). */
	uint64_t h = smp_load_acquire(&sub->m.hdr->head);
	uint64_t top, r, lost;

	/* A head that does not fit what the slot says is not trusted. */
	top = (h > xs && h - xs <= sub->m.slot_count) ? h : xs + 1;
	r = top - sub->m.slot_count / 2;
	/* xs >= c + slot_count, so r > c: always progress. */
	lost = r - c;
	sub->cursor = r;
	if (unlikely(sub->reliable)) {
		/*
		 * A publisher overwrites nothing a reliable subscriber has
		 * not read, unless it demoted it: tell that first, the loss
		 * on the next call.
		 */
		if (!rc_sub_demoted(sub)) {
			sub->cursor = c;
			return rc_sub_corrupt_slot(sub, c,
						   "overwritten "
						   "before a reliable "
						   "subscriber read it");
		}
		rc_sub_owe_lost(sub, lost);
		return -ESTALE;
	}
	sub->st.lost += lost;
	sub->st.laps++;
	ev->lost = lost;
	return -EOVERFLOW;
}

/*
 * Classify a stamp that is not c + 1: 0 when the slot holds an older event
 * (or ours being written), 1 with *xs set when it holds a later one (event
 * c was overwritten), -EBADMSG when it cannot be a stamp of this slot.
 */
static int rc_stamp_later(struct ringcast_sub *sub, uint64_t c, uint64_t stamp,
			  uint64_t *xs)
{
	uint64_t x = stamp & ~RC_STAMP_FLAGS;

	if (!x)
		return 0; /* never written */
	x--;
	if ((x & sub->m.mask) != (c & sub->m.mask))
		return rc_sub_corrupt_slot(sub, c, "stamp of another slot");
	if (x <= c)
		return 0;
	if (x > RC_SEQ_MAX)
		return rc_sub_corrupt_slot(sub, c, "stamp out of range");
	*xs = x;
	return 1;
}

/* A stamp that is not c + 1 at the cursor: -EAGAIN, -EOVERFLOW, -EBADMSG. */
static int rc_sub_stamp(struct ringcast_sub *sub, uint64_t c, uint64_t stamp,
			struct ringcast_event *ev)
{
	uint64_t xs;
	int r = rc_stamp_later(sub, c, stamp, &xs);

	if (r <= 0)
		return r ? r : -EAGAIN;
	return rc_sub_lapped(sub, c, xs, ev);
}

/*
 * The epoch we follow was taken over: how did it end?  Closed (and
 * reopened) is end of stream; anything else, or an ending older than the
 * header remembers, is the publisher's death.
 */
static int rc_sub_end_code(struct ringcast_sub *sub)
{
	struct rc_hdr *hdr = sub->m.hdr;
	unsigned int i;

	for (i = 0; i < RC_ENDED_MAX; i++)
		if (READ_ONCE(hdr->ended[i].tag) == sub->ep_tag)
			return READ_ONCE(hdr->ended[i].state) ==
					       RINGCAST_STATE_CLOSED ?
				       -EPIPE :
				       -EOWNERDEAD;
	return -EOWNERDEAD;
}

static void rc_sub_adopt(struct ringcast_sub *sub, uint32_t tag, uint64_t start)
{
	sub->ep_tag = tag;
	sub->ep_start = start;
	sub->ep_known = true;
	sub->backoff_ns = 0;
}

/*
 * Event c was written in another epoch than the one we follow, and it is
 * not history from before our epoch: a new publisher took over.
 */
static int rc_sub_epoch(struct ringcast_sub *sub, uint64_t c, uint32_t tag)
{
	if (!sub->ep_known || (sub->flags & RINGCAST_SUB_RESUBSCRIBE)) {
		rc_sub_adopt(sub, tag, c);
		return 0;
	}
	return rc_sub_end_code(sub);
}

/* A loss owed (a lap, or FROM_SEQ below the oldest): report it now. */
static int rc_sub_report_lost(struct ringcast_sub *sub,
			      struct ringcast_event *ev)
{
	ev->lost = sub->pending_lost;
	sub->st.lost += sub->pending_lost;
	sub->st.laps++;
	rc_sub_owe_lost(sub, 0);
	return -EOVERFLOW;
}

/* Event c, delivered after a timed-out wait: was the wake-up lost? */
static void rc_sub_count_lost_wake(struct ringcast_sub *sub, uint64_t c)
{
	if (c < sub->lost_check)
		sub->lost_wakes++;
	rc_sub_lost_check(sub, 0);
}

/*
 * One attempt at the event at the cursor, skipping filtered-out events.
 * Returns 0 with an event, -EAGAIN when none is there, -EINPROGRESS when
 * the skip budget ran out, or an error.  Longer than a screen: one pass
 * of the seqlock over a slot, whose reads stay between its begin and its
 * retry, then what the slot held decides; split, the fields read would
 * travel through a structure.
 */
static int rc_sub_try(struct ringcast_sub *sub, struct ringcast_event *ev,
		      int how)
{
	struct rc_map *m = &sub->m;
	unsigned int budget = RC_SKIP_BUDGET;
	int r;

	ev->lost = 0;
	if (unlikely(sub->pending_lost))
		return rc_sub_report_lost(sub, ev);
	for (;;) {
		uint64_t c = sub->cursor, s1, s2, ts;
		struct rc_slot *s = rc_slot_at(m, c);
		uint32_t type, len, tag, pid;
		bool wanted;

		s1 = rc_slot_read_begin(s);
		if (s1 != c + 1) {
			if (s1 != ((c + 1) | RC_STAMP_ABORTED))
				return rc_sub_stamp(sub, c, s1, ev);
			/* A dead publisher's hole (rc_claim_abort()). */
			sub->cursor++;
			sub->st.aborted++;
			if (!--budget)
				return -EINPROGRESS;
			continue;
		}
		type = READ_ONCE(s->type);
		len = READ_ONCE(s->len);
		ts = READ_ONCE(s->ts);
		tag = READ_ONCE(s->epoch);
		pid = READ_ONCE(s->pub_id);
		wanted = rc_sub_wants(sub, type);
		/*
		 * The copy races with a publisher overwriting the slot: the
		 * seqlock's documented data race, detected by s2 below.
		 */
		if (wanted && how == RC_COPY && len <= m->capacity)
			rc_copy_out(sub->buf, s->data, len);
		s2 = rc_slot_read_end(s);
		if (unlikely(s2 != s1)) {
			r = rc_sub_stamp(sub, c, s2, ev);
			if (r == -EAGAIN)
				return rc_sub_corrupt_slot(sub, c,
							   "stamp went back");
			return r;
		}
		if (unlikely(len > m->capacity))
			return rc_sub_corrupt_slot(sub, c,
						   "length over capacity");
		if (unlikely(tag != sub->ep_tag && c >= sub->ep_start)) {
			r = rc_sub_epoch(sub, c, tag);
			if (r < 0)
				return r;
		}
		if (!wanted) {
			sub->cursor++;
			sub->st.skipped++;
			if (!--budget)
				return -EINPROGRESS;
			continue;
		}
		ev->seq = c;
		ev->ts = ts;
		ev->type = type;
		ev->len = len;
		ev->epoch = tag;
		ev->publisher = pid;
		if (how == RC_COPY) {
			ev->data = sub->buf;
			sub->cursor++;
			sub->st.delivered++;
		} else if (how == RC_BORROW) {
			ev->data = s->data;
			sub->slow |= RC_SUB_BORROWED;
			sub->borrow_stamp = s1;
		} else {
			ev->data = NULL; /* a peek: left where it is */
			return 0;
		}
		if (unlikely(sub->lost_check))
			rc_sub_count_lost_wake(sub, c);
		return 0;
	}
}

/*
 * Does the head say what is committed?  On a single-publisher ring the
 * publisher stores it once per publish call, after its commits, so a
 * reader that has caught up polls that one header line and leaves alone
 * the slot the publisher is filling (polling that slot's stamp pulls its
 * line away from the writer once per store, and chases a batch slot by
 * slot).  Only while the last look saw the ring live: a reader that saw
 * the publisher dead, or the ring closed, drains along the stamps at once,
 * since a publisher that died between a commit and its head store left
 * events only they show (and a read-only reader cannot mark the ring
 * abandoned for the others).  On a multi-publisher ring the head counts
 * claims: the stamps always decide there.
 */
static inline bool rc_sub_gated(const struct ringcast_sub *sub)
{
	return !sub->m.multi && !sub->past_head &&
	       RC_LIFE_STATE(sub->seen_life) == RINGCAST_STATE_LIVE;
}

/*
 * rc_sub_try() where a reader waits for the next event: the head first,
 * where it says (rc_sub_gated()).  The head is a hint and the stamps
 * decide: a head that says an event is committed where its stamp says it
 * is not was scribbled high, and is forgotten; one scribbled low is looked
 * past once per probe interval (rc_sub_idle()), and a reader that finds an
 * event there reads along the stamps until it has caught up, so such a
 * head holds no reader, nor a publisher blocked on that reader that would
 * store it again.
 */
static inline int rc_sub_poll(struct ringcast_sub *sub,
			      struct ringcast_event *ev, int how)
{
	int r;

	/*
	 * The head is loaded whatever the gate says: what it shows committed
	 * is what rc_sub_fast() reads, also for a reader that has not waited
	 * since it attached, before the publisher did.
	 */
	if (!sub->m.multi && sub->cursor >= sub->avail &&
	    likely(!sub->pending_lost)) {
		/* Pairs with [E] in rc_pub_advance(). */
		sub->avail = smp_load_acquire(&sub->m.hdr->head);
		if (sub->cursor >= sub->avail && rc_sub_gated(sub)) {
			ev->lost = 0;
			return -EAGAIN;
		}
	}
	r = rc_sub_try(sub, ev, how);
	if (unlikely(r == -EAGAIN)) {
		/* Caught up along the stamps: the head decides again. */
		sub->past_head = false;
		if (sub->cursor < sub->avail)
			sub->avail = sub->cursor;
	}
	return r;
}

/*
 * A multi-publisher ring: is the sequence at the cursor claimed but not
 * committed (a publisher is writing it, or died with it)?  Then it is
 * waited for, whatever the state, and once it has been pending for
 * RC_HOLE_NS we look for dead claimers: reclaiming their entries turns
 * their claims into holes (rc_claim_abort()).  A read-only subscriber
 * cannot reclaim: it waits for one that can.
 */
static bool rc_sub_claimed(struct ringcast_sub *sub)
{
	uint64_t c = sub->cursor, now;

	if (!sub->m.multi)
		return false;
	/* Seq-cst: pairs with the claim's compare-and-swap in pub.c. */
	if (atomic_load(&sub->m.hdr->head) <= c) {
		sub->hole_seq = UINT64_MAX;
		return false;
	}
	now = rc_coarse_ns();
	if (sub->hole_seq != c) {
		sub->hole_seq = c;
		sub->hole_since = now;
		return true;
	}
	if (now - sub->hole_since >= RC_HOLE_NS && sub->m.writable &&
	    sub->m.lock_fd >= 0) {
		sub->hole_since = now;
		rc_table_publishers(&sub->m);
	}
	return true;
}

/*
 * The life word as an idle check sees it (also in sub->seen_life): a live
 * ring's lease is probed once per interval, or at once after a wake of
 * all (*probed set), and marked abandoned if its publisher died.
 */
static int rc_sub_look(struct ringcast_sub *sub, uint64_t *lifep, bool *probed)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t life, now;
	uint32_t wa;
	bool woken;
	int r;

	/*
	 * Pairs with the release CAS of life in ringcast_pub_close(),
	 * ringcast_ring_close() and ringcast_pub_attach(): every commit
	 * before the state change is visible to the re-check in
	 * rc_sub_idle().
	 */
	life = smp_load_acquire(&hdr->life);
	r = rc_life_check(life);
	if (r < 0)
		return r;
	/*
	 * A wake of all since we last looked (a publisher left, say): probe
	 * now, whatever the rate limit.  Seq-cst, as the increment in
	 * rc_wake_all(), which comes after the lease was dropped: a probe
	 * after this load sees it free.
	 */
	wa = atomic_load(&hdr->wake_all_seq);
	woken = wa != sub->seen_wake_all;
	sub->seen_wake_all = wa;
	if (RC_LIFE_STATE(life) == RINGCAST_STATE_LIVE) {
		now = rc_coarse_ns();
		if (woken || now - sub->last_probe_ns >= RC_PROBE_NS) {
			sub->last_probe_ns = now;
			life = rc_check_abandoned(&sub->m, life);
			*probed = true;
		}
	}
	sub->seen_life = life;
	*lifep = life;
	return 0;
}

/*
 * Nothing at the cursor: has the stream ended?  Returns -EAGAIN to keep
 * waiting, or what the caller should return (an event found on the drain
 * re-check, -EPIPE, -EOWNERDEAD, -EBADMSG).
 */
static int rc_sub_idle(struct ringcast_sub *sub, struct ringcast_event *ev,
		       int how)
{
	struct rc_hdr *hdr = sub->m.hdr;
	bool probed = false;
	uint64_t life;
	uint32_t state;
	int r;

	r = rc_sub_look(sub, &life, &probed);
	if (r < 0)
		return r;
	state = RC_LIFE_STATE(life);
	if (state == RINGCAST_STATE_CREATED)
		return -EAGAIN;
	if (!sub->ep_known)
		rc_sub_adopt(sub, (uint32_t)RC_LIFE_EPOCH(life),
			     READ_ONCE(hdr->epoch_start));
	if ((uint32_t)RC_LIFE_EPOCH(life) != sub->ep_tag) {
		/*
		 * Our epoch ended and a new publisher took over.  Drain
		 * first: what our epoch committed before the takeover is
		 * visible after the acquire above, and rc_sub_try() stops at
		 * the new epoch's first event by itself.
		 */
		if (!(sub->flags & RINGCAST_SUB_RESUBSCRIBE)) {
			r = rc_sub_try(sub, ev, how);
			return r != -EAGAIN ? r : rc_sub_end_code(sub);
		}
		rc_sub_adopt(sub, (uint32_t)RC_LIFE_EPOCH(life),
			     READ_ONCE(hdr->epoch_start));
		return rc_sub_try(sub, ev, how);
	}
	/* A claim in progress: its commit (or its abort) comes, whatever the state. */
	if (rc_sub_claimed(sub))
		return -EAGAIN;
	/*
	 * Live: once per probe interval look at the slot itself, past a head
	 * that may lie; an event there, and we read along the stamps until
	 * caught up (rc_sub_poll()).
	 */
	if (state == RINGCAST_STATE_LIVE) {
		if (!probed)
			return -EAGAIN;
		r = rc_sub_try(sub, ev, how);
		if (r != -EAGAIN)
			sub->past_head = true;
		return r;
	}
	/* Closed, abandoned or removed: drain what was committed before. */
	r = rc_sub_try(sub, ev, how);
	if (r != -EAGAIN)
		return r;
	if (state == RINGCAST_STATE_CLOSED)
		return -EPIPE;
	if (state == RINGCAST_STATE_REMOVED)
		return -EIDRM;
	if (sub->flags & RINGCAST_SUB_RESUBSCRIBE)
		return -EAGAIN;
	return -EOWNERDEAD;
}

/*
 * Has something arrived at sequence c since we found nothing there?  On a
 * multi-publisher ring the head counts claims, so the slot's own stamp
 * says it: committed, aborted, or overwritten by a later event.  On a
 * single-publisher ring the head says so first (stored after the commits),
 * so a waiting reader leaves alone the slot being written; but the head
 * is a hint and the stamps decide (rc_sub_poll()): a head past c whose
 * stamp does not agree was scribbled high, and believing it would turn
 * every wait into a spin until the timeout.  The stamp is read only once
 * the head says c is done, when the publisher has left that slot.
 */
static bool rc_sub_arrived(struct ringcast_sub *sub, uint64_t c)
{
	uint64_t st;

	/* Pairs with [E] in rc_pub_advance(). */
	if (!sub->m.multi && smp_load_acquire(&sub->m.hdr->head) <= c)
		return false;
	/*
	 * Pairs with [D] in rc_slot_end() and the CAS in rc_claim_abort().
	 * On a single-publisher ring the stamp was stored before the head
	 * we saw: a head not scribbled shows it here.
	 */
	st = smp_load_acquire(&rc_slot_at(&sub->m, c)->stamp);
	return st == c + 1 || st == ((c + 1) | RC_STAMP_ABORTED) ||
	       (st & ~RC_STAMP_FLAGS) > c + 1;
}

/*
 * Spin until something arrived at the cursor (rc_sub_arrived(): the head on
 * a single-publisher ring, so that a waiting reader leaves alone the slot
 * being written), an interrupt, or n rounds.
 */
static void rc_sub_spin(struct ringcast_sub *sub, unsigned int n)
{
	uint64_t c = sub->cursor;

	while (n--) {
		if (rc_sub_arrived(sub, c) || READ_ONCE(sub->intr))
			return;
		cpu_relax();
	}
}

/*
 * Set our wake bits and re-check, as every sleep does (see the wake table
 * in pub.c); 1 when we must not sleep.  Also the first half of a wait on
 * many rings (waitv.c, subfd.c).
 */
int rc_sub_arm(struct ringcast_sub *sub, _Atomic uint32_t **word, uint32_t *val)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t c = sub->cursor;
	uint32_t g;

	if (!sub->m.writable)
		return 1;
	/* A publisher must see how far we skipped before we sleep. */
	rc_sub_sync(sub);
	/* Seq-cst, before the fetch_or: see the wake table in pub.c. */
	g = atomic_load(&hdr->wake_seq);
	atomic_fetch_or(&hdr->wake_bits, sub->interest);
	/* [G]: pairs with smp_mb() [F] in rc_pub_advance(). */
	smp_mb();
	/*
	 * A wake of all since the last idle check (rc_sub_idle()) must be
	 * looked at: the waker bumped wake_all_seq before wake_seq, which
	 * we read above.
	 */
	if (rc_sub_arrived(sub, c) ||
	    smp_load_acquire(&hdr->life) != sub->seen_life ||
	    atomic_load(&hdr->wake_all_seq) != sub->seen_wake_all ||
	    atomic_load(&sub->intr))
		return 1;
	/*
	 * A reliable reader whose last moves crossed no quarter boundary
	 * has not told a sleeping publisher: do it before it sleeps itself
	 * (one barrier per sleep, which [G] just paid for).
	 */
	if (sub->reliable && c != sub->told) {
		sub->told = c;
		rc_pub_wake(hdr);
	}
	*word = &hdr->wake_seq;
	*val = g;
	return 0;
}

/*
 * Sleep on the ring's futex word until an event of a wanted type, a state
 * change, an interrupt, the liveness timer or the caller's timeout (rem,
 * < 0 for none).  See the wake table in pub.c.
 */
static void rc_sub_sleep(struct ringcast_sub *sub, int64_t rem)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t c = sub->cursor, h;
	uint32_t bits = sub->interest, g, w;
	int64_t t = (int64_t)sub->liveness_ns;
	_Atomic uint32_t *word;
	int r;

	if (!sub->m.writable) {
		/* Cannot set bits: short timed waits, interruptible. */
		/* Pairs with the seq-cst increment in ringcast_sub_interrupt(). */
		w = smp_load_acquire(&sub->intr_word);
		if (READ_ONCE(sub->intr))
			return;
		t = RC_RDONLY_POLL_NS;
		if (rem >= 0 && rem < t)
			t = rem;
		rc_futex_wait(&sub->intr_word, w, FUTEX_BITSET_MATCH_ANY, t);
		return;
	}
	if (RC_LIFE_STATE(sub->seen_life) == RINGCAST_STATE_ABANDONED) {
		/* A resubscriber waiting for a new publisher. */
		sub->backoff_ns = sub->backoff_ns ? sub->backoff_ns * 2 :
						    RC_BACKOFF_MIN_NS;
		if (sub->backoff_ns > sub->liveness_ns)
			sub->backoff_ns = sub->liveness_ns;
		t = (int64_t)sub->backoff_ns;
	}
	/* A claim pending at the cursor: come back soon to look for its owner. */
	if (sub->hole_seq == c && t > (int64_t)RC_HOLE_NS)
		t = (int64_t)RC_HOLE_NS;
	if (rem >= 0 && rem < t)
		t = rem;

	if (rc_sub_arm(sub, &word, &g))
		return;
	rc_sub_lost_check(sub, 0);
	sub->st.sleeps++;
	/* A filtered reliable sleeper is also woken by its gate bit. */
	if (sub->reliable && sub->ntypes)
		bits |= RC_WAKE_GATE;
	r = rc_futex_wait(word, g, bits, t);
	if (r != -ETIMEDOUT)
		return;
	sub->st.timed_wakes++;
	/*
	 * A lost wake-up the timer hid: events were published while we
	 * slept (we re-checked the head after setting our bits, so they came
	 * after), yet no waker bumped wake_seq, so no publisher saw our bits.
	 * rc_sub_try() counts it if one of those events is one we want.  The
	 * head is read first: a publisher bumps wake_seq just after storing
	 * the head, so only that instant could be miscounted.  The stamp at
	 * the cursor confirms it: a head scribbled high is no event.
	 */
	h = smp_load_acquire(&hdr->head);
	if (h > c && atomic_load(&hdr->wake_seq) == g && rc_sub_arrived(sub, c))
		rc_sub_lost_check(sub, h);
}

int rc_sub_ready(struct ringcast_sub *sub)
{
	struct ringcast_event ev;
	int r;

	if (sub->slow & RC_SUB_BORROWED)
		return 1; /* the caller holds an event */
	do {
		r = rc_sub_poll(sub, &ev, RC_PEEK);
		if (r == -EAGAIN)
			r = rc_sub_idle(sub, &ev, RC_PEEK);
	} while (r == -EINPROGRESS);
	rc_sub_sync(sub);
	return r != -EAGAIN;
}

static int rc_sub_wait(struct ringcast_sub *sub, struct ringcast_event *ev,
		       int64_t timeout_ns, int how)
{
	uint64_t now, deadline = 0, spin_start = 0;
	int64_t rem;
	int r;

	/* The clock is read only once there is something to wait for. */
	for (;;) {
		r = rc_sub_poll(sub, ev, how);
		if (likely(r != -EAGAIN && r != -EINPROGRESS))
			return r;
		if (r == -EAGAIN) {
			r = rc_sub_idle(sub, ev, how);
			if (r != -EAGAIN && r != -EINPROGRESS)
				return r;
		}
		if (atomic_exchange(&sub->intr, 0))
			return -EINTR;
		/* Filtered-out events still to skip: not "nothing ready". */
		if (r == -EINPROGRESS && timeout_ns <= 0)
			continue;
		if (timeout_ns == 0)
			return -EAGAIN;
		now = rc_now_ns();
		rem = rc_time_left(&deadline, timeout_ns, now);
		if (!rem)
			return -ETIMEDOUT;
		if (r == -EINPROGRESS)
			continue;
		/*
		 * Skipped events (filtered out, or holes) moved the cursor:
		 * a publisher must see it before we spin, or it may wait
		 * for us while we wait for it.
		 */
		rc_sub_sync(sub);
		switch (sub->wait) {
		case RINGCAST_WAIT_BUSY:
			rc_sub_spin(sub, 256);
			break;
		case RINGCAST_WAIT_SPIN:
			if (!spin_start)
				spin_start = now;
			if (now - spin_start < sub->spin_ns) {
				rc_sub_spin(sub, 64);
				break;
			}
			rc_sub_sleep(sub, rem);
			spin_start = 0;
			break;
		default:
			rc_sub_sleep(sub, rem);
			break;
		}
	}
}

/*
 * What an error returned to the caller changes: an -ESTALE is told; at
 * the end of the stream a reliable subscriber stops gating, so that a
 * later publisher of the ring is not held back by a reader that is done.
 */
static void rc_sub_after(struct ringcast_sub *sub, int r)
{
	uint32_t st;

	if (r == -ESTALE)
		sub->slow &= ~RC_SUB_STALE;
	if ((r != -EPIPE && r != -EOWNERDEAD && r != -EIDRM) || !sub->reliable)
		return;
	sub->reliable = false;
	/* Our own entry: only a demotion changes its word under us. */
	st = RC_ENTRY_WORD(RC_ENTRY_RELIABLE,
			   RC_ENTRY_GEN(READ_ONCE(sub->e->state)));
	/* Release: our reads happen before a publisher sees us lossy. */
	if (atomic_compare_exchange_strong_explicit(
		    &sub->e->state, &st,
		    RC_ENTRY_WORD(RC_ENTRY_LOSSY, RC_ENTRY_GEN(st)),
		    memory_order_acq_rel, memory_order_acquire)) {
		/* Seq-cst: the publisher lists its gates again. */
		atomic_fetch_add(&sub->m.hdr->table_gen, 1);
		rc_pub_wake(sub->m.hdr);
	}
}

/*
 * The common read, kept short: a single-publisher ring whose head we have
 * seen past the cursor (rc_sub_poll()), a registered subscriber with no
 * type filter, an event of the epoch it follows, nothing owed to the
 * caller (no RC_SUB_* bit set: sub.h), an entry in step.  Returns 0 with
 * the event, copied out (RC_COPY) or lent (RC_BORROW); or 1, having
 * changed nothing but fields of the caller's event (filled only on
 * success, as the header says), for rc_sub_get() to take the long way: a
 * filter, a lap, a loss or a demotion to report, an epoch change, a forked
 * or unregistered handle, or no event known to be there.  The same
 * barriers as rc_sub_try() and rc_sub_sync(), in the same order.
 */
static inline int rc_sub_fast(struct ringcast_sub *sub,
			      struct ringcast_event *ev, int how)
{
	struct rc_map *m = &sub->m;
	uint64_t c = sub->cursor, s1;
	struct rc_entry *e = sub->e;
	struct rc_slot *s;
	uint32_t len, tag;

	if (c >= sub->avail || sub->slow || sub->synced != c ||
	    sub->st.lost != sub->synced_lost || rc_map_forked(m))
		return 1;
	/* As rc_sub_demoted(): pairs with the smp_mb() [H] of a demotion. */
	smp_rmb();
	if (sub->reliable &&
	    RC_ENTRY_KIND(READ_ONCE(e->state)) != RC_ENTRY_RELIABLE)
		return 1;
	s = rc_slot_at(m, c);
	s1 = rc_slot_read_begin(s);
	if (unlikely(s1 != c + 1))
		return 1;
	/*
	 * Straight into the caller's event, which the long way fills again
	 * if a check below fails: the fields then need no saved registers
	 * across the copy's call.
	 */
	ev->len = len = READ_ONCE(s->len);
	ev->epoch = tag = READ_ONCE(s->epoch);
	if (unlikely(len > m->capacity || tag != sub->ep_tag))
		return 1;
	ev->seq = c;
	ev->ts = READ_ONCE(s->ts);
	ev->type = READ_ONCE(s->type);
	ev->publisher = READ_ONCE(s->pub_id);
	ev->lost = 0;
	if (how == RC_COPY)
		rc_copy_out(sub->buf, s->data, len); /* the seqlock's race */
	if (rc_slot_read_retry(s, s1))
		return 1;
	if (how == RC_BORROW) {
		ev->data = s->data;
		sub->slow |= RC_SUB_BORROWED;
		sub->borrow_stamp = s1;
		return 0;
	}
	ev->data = sub->buf;
	sub->cursor = c + 1;
	sub->st.delivered++;
	/*
	 * rc_sub_sync() with nothing but the cursor to store: the counters
	 * did not move since the entry was last synced (synced == c).
	 * Pairs with smp_load_acquire() [K] in rc_pub_scan().
	 */
	smp_store_release(&e->cursor, c + 1);
	if (sub->reliable && (((c + 1) ^ c) >> sub->quarter_shift))
		rc_pub_wake(m->hdr);
	sub->synced = c + 1;
	return 0;
}

static int rc_sub_get(struct ringcast_sub *sub, struct ringcast_event *ev,
		      int64_t timeout_ns, int how)
{
	int r;

	if (!sub || !ev)
		return -EINVAL;
	if (unlikely(rc_map_forked(&sub->m)))
		return -ECHILD;
	if (unlikely(sub->slow & RC_SUB_BORROWED))
		return -EINVAL;
	if (unlikely(sub->reliable))
		rc_sub_demoted(sub);
	if (unlikely(sub->slow & RC_SUB_STALE)) {
		sub->slow &= ~RC_SUB_STALE;
		ev->lost = 0;
		return -ESTALE;
	}
	r = rc_sub_wait(sub, ev, timeout_ns, how);
	if (unlikely(r < 0))
		rc_sub_after(sub, r);
	rc_sub_sync(sub);
	/* Nothing to read: its descriptor (if any) stops being readable. */
	if (unlikely(sub->fdw) && (r == -EAGAIN || r == -ETIMEDOUT))
		rc_subfd_idle(sub);
	return r;
}

RINGCAST_API int ringcast_sub_next(struct ringcast_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns)
{
	if (likely(sub && ev) && likely(!rc_sub_fast(sub, ev, RC_COPY)))
		return 0;
	return rc_sub_get(sub, ev, timeout_ns, RC_COPY);
}

RINGCAST_API int ringcast_sub_borrow(struct ringcast_sub *sub,
				     struct ringcast_event *ev,
				     int64_t timeout_ns)
{
	if (likely(sub && ev) && likely(!rc_sub_fast(sub, ev, RC_BORROW)))
		return 0;
	return rc_sub_get(sub, ev, timeout_ns, RC_BORROW);
}

RINGCAST_API int ringcast_sub_release(struct ringcast_sub *sub,
				      struct ringcast_event *ev)
{
	struct ringcast_event dummy;
	uint64_t s2;
	int r;

	if (!sub || !(sub->slow & RC_SUB_BORROWED))
		return -EINVAL;
	if (!ev)
		ev = &dummy;
	sub->slow &= ~RC_SUB_BORROWED;
	ev->lost = 0;
	/* The second half of the read that lent the event. */
	s2 = rc_slot_read_end(rc_slot_at(&sub->m, sub->cursor));
	if (s2 == sub->borrow_stamp) {
		sub->cursor++;
		sub->st.delivered++;
		rc_sub_sync(sub);
		return 0;
	}
	r = rc_sub_stamp(sub, sub->cursor, s2, ev);
	rc_sub_after(sub, r);
	rc_sub_sync(sub);
	return r == -EAGAIN ? rc_sub_corrupt_slot(sub, sub->cursor,
						  "stamp went back") :
			      r;
}

RINGCAST_API int ringcast_sub_read_at(struct ringcast_sub *sub, uint64_t seq,
				      struct ringcast_event *ev)
{
	struct rc_slot *s;
	uint64_t s1, xs;
	uint32_t len;
	int r;

	if (!sub || !ev || seq > RC_SEQ_MAX)
		return -EINVAL;
	if (rc_map_forked(&sub->m))
		return -ECHILD;
	s = rc_slot_at(&sub->m, seq);
	s1 = rc_slot_read_begin(s);
	if (s1 != seq + 1) {
		if (s1 == ((seq + 1) | RC_STAMP_ABORTED))
			return -ERANGE; /* a dead publisher's hole */
		r = rc_stamp_later(sub, seq, s1, &xs);
		if (r < 0)
			return r;
		return r ? -ERANGE : -EAGAIN;
	}
	len = READ_ONCE(s->len);
	ev->type = READ_ONCE(s->type);
	ev->ts = READ_ONCE(s->ts);
	ev->epoch = READ_ONCE(s->epoch);
	if (len <= sub->m.capacity)
		rc_copy_out(sub->buf, s->data, len);
	if (rc_slot_read_retry(s, s1))
		return -ERANGE;
	if (len > sub->m.capacity)
		return rc_sub_corrupt_slot(sub, seq, "length over capacity");
	ev->seq = seq;
	ev->len = len;
	ev->lost = 0;
	ev->publisher = READ_ONCE(s->pub_id);
	ev->data = sub->buf;
	return 0;
}

RINGCAST_API void ringcast_sub_interrupt(struct ringcast_sub *sub)
{
	uint32_t bits;

	if (!sub)
		return;
	/* Seq-cst: ordered before the fetch_and below, see rc_sub_sleep(). */
	atomic_store(&sub->intr, 1);
	atomic_fetch_add(&sub->intr_word, 1);
	rc_futex_wake(&sub->intr_word, FUTEX_BITSET_MATCH_ANY);
	if (!sub->m.writable || rc_map_forked(&sub->m))
		return;
	/*
	 * Clear our bits and bump wake_seq, as a publisher does, so a
	 * sleeper between its re-check and FUTEX_WAIT does not sleep (pairs
	 * with [G] in rc_sub_sleep()); other sleepers of these buckets wake,
	 * find nothing and sleep again.
	 */
	bits = sub->interest;
	atomic_fetch_and(&sub->m.hdr->wake_bits, ~bits);
	rc_wake_seq(sub->m.hdr, bits);
}

RINGCAST_API void ringcast_sub_get_stats(const struct ringcast_sub *sub,
				     struct ringcast_sub_stats *st)
{
	if (!sub || !st)
		return;
	*st = sub->st;
	st->cursor = sub->cursor;
	st->entry = sub->entry;
	st->reliable = sub->reliable;
	/* The cursor is past them already: lost, reported or not. */
	st->lost += sub->pending_lost;
}

static bool rc_sub_opts_valid(const struct ringcast_sub_opts *o)
{
	return o->from <= RINGCAST_FROM_SEQ && o->wait <= RINGCAST_WAIT_SLEEP &&
	       !(o->flags &
		 ~(RINGCAST_SUB_RESUBSCRIBE | RINGCAST_SUB_RELIABLE)) &&
	       o->ntypes <= RINGCAST_MAX_TYPES && (!o->ntypes || o->types) &&
	       (o->from != RINGCAST_FROM_SEQ || o->seq <= RC_SEQ_MAX);
}

/* The options that need no ring, copied into sub. */
static void rc_sub_set_opts(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o)
{
	sub->entry = -1;
	sub->reliable = o->flags & RINGCAST_SUB_RELIABLE;
	sub->hole_seq = UINT64_MAX;
	sub->wait = o->wait;
	sub->flags = o->flags;
	sub->spin_ns = o->spin_ns ? o->spin_ns : RC_DEFAULT_SPIN_NS;
	sub->liveness_ns = o->liveness_ns ? o->liveness_ns : RC_LIVENESS_NS;
	if (sub->liveness_ns < RC_BACKOFF_MIN_NS)
		sub->liveness_ns = RC_BACKOFF_MIN_NS;
	/* Both are used as signed times: keep them sane. */
	if (sub->liveness_ns > RC_WAIT_MAX_NS)
		sub->liveness_ns = RC_WAIT_MAX_NS;
	if (sub->spin_ns > RC_WAIT_MAX_NS)
		sub->spin_ns = RC_WAIT_MAX_NS;
	sub->interest = o->ntypes ? 0 : RC_WAKE_ANY;
}

/* The type filter: sorted, for rc_sub_wants(), and its wake buckets. */
static int rc_sub_set_types(struct ringcast_sub *sub, const uint32_t *types,
			    uint32_t ntypes)
{
	uint32_t i, dup;
	int r;

	r = rc_types_sorted(types, ntypes, &sub->types, &dup);
	if (r == -EINVAL)
		rc_set_detail("type %u appears twice", dup);
	if (r < 0)
		return r;
	for (i = 0; i < ntypes; i++)
		sub->interest |= rc_type_bit(sub->types[i]);
	sub->ntypes = ntypes;
	sub->slow |= RC_SUB_FILTERED;
	return 0;
}

/* Map the ring, and what depends on its geometry. */
static int rc_sub_map(struct ringcast_sub *sub, const char *name)
{
	uint64_t q;
	int r;

	r = rc_map_open(name, false, &sub->m);
	if (r < 0)
		return r;
	/*
	 * Subscribers never write a slot: map them read-only, so a write
	 * through a borrowed event's pointer faults in the subscriber instead
	 * of corrupting the ring for everyone.  The slots start on a 4096-byte
	 * boundary: where pages are larger this fails, and the slots stay
	 * writable.  So they do on a multi-publisher ring, where a subscriber
	 * may have to mark a dead publisher's claim aborted (a slot's stamp).
	 */
	if (sub->m.writable && !sub->m.multi)
		(void)mprotect(sub->m.slots,
			       sub->m.size -
				       (size_t)(sub->m.slots -
						(unsigned char *)sub->m.hdr),
			       PROT_READ);
	sub->buf = malloc(sub->m.capacity);
	if (!sub->buf) {
		rc_map_close(&sub->m);
		return -ENOMEM;
	}
	q = sub->m.slot_count >= 4 ? sub->m.slot_count / 4 : 1;
	while ((1ull << sub->quarter_shift) < q)
		sub->quarter_shift++;
	return 0;
}

/*
 * Register, so publishers count us.  A lossy subscriber that finds the
 * table full, or has no write access, reads unregistered.  A reliable one
 * registers later, with *j, once it knows where it starts (rc_sub_join()).
 */
static void rc_sub_register(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o,
			    struct rc_join *j)
{
	j->interest = sub->interest;
	j->flags = o->ntypes ? RC_EF_FILTERED : 0;
	j->demote_ns = o->demote_ns;
	if (sub->reliable)
		return;
	j->state = RC_ENTRY_LOSSY;
	sub->entry = rc_table_join(&sub->m, j);
	if (sub->entry < 0)
		sub->entry = -1;
}

/*
 * The ring as a new subscriber first sees it: the epoch it follows, the
 * life and wake-all words its idle checks compare with, and the head.
 */
static int rc_sub_first_look(struct ringcast_sub *sub, uint64_t *head)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t life;

	/* Pairs with the release CAS of life in ringcast_pub_attach(). */
	life = smp_load_acquire(&hdr->life);
	if (RC_LIFE_STATE(life) != RINGCAST_STATE_CREATED)
		rc_sub_adopt(sub, (uint32_t)RC_LIFE_EPOCH(life),
			     READ_ONCE(hdr->epoch_start));
	sub->seen_life = life;
	sub->seen_wake_all = atomic_load(&hdr->wake_all_seq);
	/* Pairs with [E] in rc_pub_advance(). */
	*head = smp_load_acquire(&hdr->head);
	if (*head > RC_SEQ_MAX) {
		rc_set_detail("corrupted: head out of range");
		return -EBADMSG;
	}
	return 0;
}

/*
 * Where the options say to start, the head seen: *start is the first
 * sequence to read, *acct the one the caller asked for (the sequences
 * between them are lost already).
 */
static void rc_sub_start_at(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o, uint64_t head,
			    uint64_t *start, uint64_t *acct)
{
	uint64_t oldest = head > sub->m.slot_count ? head - sub->m.slot_count :
						     0;

	switch (o->from) {
	case RINGCAST_FROM_NEWEST:
		*start = *acct = head;
		break;
	case RINGCAST_FROM_OLDEST:
		*start = *acct = oldest;
		/* The oldest slot is the next to go: already overwritten? */
		if (oldest < head &&
		    smp_load_acquire(&rc_slot_at(&sub->m, oldest)->stamp) !=
			    oldest + 1)
			*start = *acct = oldest + 1;
		break;
	default:
		*acct = o->seq;
		*start = o->seq < oldest ? oldest : o->seq;
		break;
	}
}

/* The cursor, first and losses of a new subscriber, in its entry too. */
static void rc_sub_set_cursor(struct ringcast_sub *sub, uint64_t start,
			      uint64_t acct)
{
	rc_sub_owe_lost(sub, start - acct);
	sub->cursor = sub->synced = start;
	sub->st.first = acct;
	if (sub->entry < 0) {
		sub->slow |= RC_SUB_UNREG;
		return;
	}
	sub->e = &sub->m.table[sub->entry];
	WRITE_ONCE(sub->e->first, acct);
	/* What it cannot have is lost already, for stat. */
	WRITE_ONCE(sub->e->lost, sub->pending_lost);
	sub->synced_lost = sub->pending_lost;
	/* Pairs with smp_load_acquire() [K] in rc_pub_scan(). */
	smp_store_release(&sub->e->cursor, start);
	/* A publisher may sleep on the lower cursor we joined with. */
	if (sub->reliable)
		rc_pub_wake(sub->m.hdr);
}

RINGCAST_API int ringcast_sub_attach(const char *name,
				     const struct ringcast_sub_opts *opts,
				     struct ringcast_sub **subp,
				     uint64_t *first)
{
	struct ringcast_sub_opts o = { 0 };
	struct rc_join j = { 0 };
	struct ringcast_sub *sub;
	uint64_t head, start, acct;
	int r;

	rc_set_detail("%s", "");
	if (!subp)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (!rc_sub_opts_valid(&o))
		return -EINVAL;
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	rc_sub_set_opts(sub, &o);
	if (o.ntypes) {
		r = rc_sub_set_types(sub, o.types, o.ntypes);
		if (r < 0)
			goto err_free;
	}
	r = rc_sub_map(sub, name);
	if (r < 0)
		goto err_free;
	rc_sub_register(sub, &o, &j);
	r = rc_sub_first_look(sub, &head);
	if (r < 0)
		goto err_leave;
	rc_sub_start_at(sub, &o, head, &start, &acct);
	if (sub->reliable) {
		r = rc_sub_join(sub, &j, &start);
		if (r < 0)
			goto err_unmap;
		if (o.from != RINGCAST_FROM_SEQ)
			acct = start;
	}
	rc_sub_set_cursor(sub, start, acct);
	if (first)
		*first = acct;
	*subp = sub;
	return 0;

err_leave:
	rc_table_leave(&sub->m, sub->entry);
err_unmap:
	rc_map_close(&sub->m);
err_free:
	free(sub->buf);
	free(sub->types);
	free(sub);
	return r;
}

RINGCAST_API void ringcast_sub_detach(struct ringcast_sub *sub)
{
	if (!sub)
		return;
	rc_subfd_drop(sub); /* before the unmap: the helper reads its word */
	/* In a forked child the entry is the parent's. */
	if (!rc_map_forked(&sub->m))
		rc_table_leave(&sub->m, sub->entry);
	rc_map_close(&sub->m);
	free(sub->buf);
	free(sub->types);
	free(sub);
}
