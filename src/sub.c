// SPDX-License-Identifier: MIT
/*
 * Subscribers: the read path (the reader's half of the seqlock in
 * publish.c's table), laps and epochs.  Waiting for an event is
 * sub_wait.c's; attaching, and the reliable subscriber's half of the
 * gating table in gate.c, sub_attach.c's.
 */
#include <errno.h>

#include "copy.h"
#include "local.h"
#include "sub.h"

/*
 * The reader's half of the seqlock in publish.c's table, written once, as the
 * kernel's read_seqcount_begin() and read_seqcount_retry() are:
 *
 *	s1 = rc_slot_read_begin(s);
 *	if (s1 != seq + 1) ... not (or not yet, or no longer) event seq
 *	read the slot's fields, copy its payload (racing with a writer)
 *	if (rc_slot_read_retry(s, s1)) ... discard what was read
 *
 * rc_slot_read_end() is the retry's load, for callers that classify the
 * stamp found.  [B] and [C] pair with [D] and [A] (publish.c's table).
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

static int rc_sub_corrupt_slot(struct ringcast_sub *sub, uint64_t seq,
			       const char *what);

/*
 * A spilled event's payload in the data area, from the descriptor in its
 * slot s (read between the seqlock's begin and retry, so what it says is
 * trusted only once the retry passed): its address, and *pos its record's
 * position; NULL when it cannot be a record of this ring.  Every access
 * stays inside the data area, whatever the descriptor says.
 */
static inline const unsigned char *rc_spill_at(const struct rc_map *m,
					       const struct rc_slot *s,
					       uint32_t len, uint64_t *pos)
{
	uint64_t p = READ_ONCE(((const struct rc_desc *)s->data)->pos);

	*pos = p;
	if (unlikely(!m->data || len > m->max_event ||
		     (p & (RC_REC_ALIGN - 1)) ||
		     (p & m->data_mask) + sizeof(struct rc_rec) + len >
			     m->data_size))
		return NULL;
	return m->data + (p & m->data_mask) + sizeof(struct rc_rec);
}

/*
 * After the seqlock's retry, whose smp_rmb() [C] orders the copy before
 * this load (publish.c's table, [A']): 0 when the record of len bytes at
 * pos was whole while it was read, 1 when a later lap began to overwrite
 * it, -EBADMSG when it lies past what the publisher declared.
 */
static inline int rc_spill_check(struct ringcast_sub *sub, uint64_t seq,
				 uint64_t pos, uint32_t len)
{
	uint64_t i = READ_ONCE(sub->m.hdr->dintent);

	if (unlikely(pos > i || i - pos < sizeof(struct rc_rec) + len))
		return rc_sub_corrupt_slot(sub, seq,
					   "record past the data area's "
					   "intent");
	return unlikely(i - pos > sub->m.data_size);
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
 * The data of event c was overwritten while we read it (a lap of the data
 * area, which can come sooner than a lap of the slots).  Resume half way
 * from the data area's floor to the head, and half a ring of slots behind
 * the head at the most: events from the floor on are whole.
 */
static int rc_sub_data_lapped(struct ringcast_sub *sub, uint64_t c,
			      struct ringcast_event *ev)
{
	/* Pairs with [E] in rc_pub_advance(). */
	uint64_t h = smp_load_acquire(&sub->m.hdr->head);
	uint64_t f = READ_ONCE(sub->m.hdr->dfloor), r, lost;

	/*
	 * Event c was in its slot at the seqlock's retry, so the head was at
	 * most a ring past it: one further was scribbled, as rc_sub_lapped()
	 * says.
	 */
	if (h <= c || h - c > sub->m.slot_count)
		h = c + 1;
	if (f > h)
		f = h;
	r = f + (h - f) / 2;
	if (h > sub->m.slot_count / 2 && r < h - sub->m.slot_count / 2)
		r = h - sub->m.slot_count / 2;
	if (r <= c)
		r = c + 1; /* always progress */
	lost = r - c;
	sub->cursor = r;
	if (unlikely(sub->reliable)) {
		/* As rc_sub_lapped(): only a demoted one is overwritten. */
		if (!rc_sub_demoted(sub)) {
			sub->cursor = c;
			return rc_sub_corrupt_slot(sub, c,
						   "data overwritten before a "
						   "reliable subscriber read "
						   "it");
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
int rc_sub_end_code(struct ringcast_sub *sub)
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
int rc_sub_try(struct ringcast_sub *sub, struct ringcast_event *ev, int how)
{
	struct rc_map *m = &sub->m;
	unsigned int budget = RC_SKIP_BUDGET;
	int r;

	ev->lost = 0;
	if (unlikely(sub->pending_lost))
		return rc_sub_report_lost(sub, ev);
	for (;;) {
		uint64_t c = sub->cursor, s1, s2, ts, pos = 0;
		struct rc_slot *s = rc_slot_at(m, c);
		const unsigned char *src;
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
		/* A spilled event: its position, never its data if skipped. */
		src = len <= m->capacity ? s->data :
					   rc_spill_at(m, s, len, &pos);
		/*
		 * The copy races with a publisher overwriting the slot: the
		 * seqlock's documented data race, detected by s2 below.
		 */
		if (wanted && how == RC_COPY && src)
			rc_copy_out(sub->buf, src, len);
		s2 = rc_slot_read_end(s);
		if (unlikely(s2 != s1)) {
			r = rc_sub_stamp(sub, c, s2, ev);
			if (r == -EAGAIN)
				return rc_sub_corrupt_slot(sub, c,
							   "stamp went back");
			return r;
		}
		if (unlikely(!src))
			return rc_sub_corrupt_slot(sub, c,
						   len > m->max_event ?
							   "length over the "
							   "largest event" :
							   "record outside the "
							   "data area");
		if (unlikely(tag != sub->ep_tag && c >= sub->ep_start)) {
			r = rc_sub_epoch(sub, c, tag);
			if (r < 0)
				return r;
		}
		if (len > m->capacity) {
			if (wanted && how != RC_PEEK) {
				r = rc_spill_check(sub, c, pos, len);
				if (unlikely(r))
					return r < 0 ? r :
						       rc_sub_data_lapped(
							       sub, c, ev);
			}
			/*
			 * Also a peek: the wake it owes waits in sub->dwake
			 * for the cursor to move past the event.
			 */
			rc_sub_dcross(sub, pos);
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
			ev->data = src;
			sub->slow |= RC_SUB_BORROWED;
			sub->borrow_stamp = s1;
			sub->borrow_pos = pos;
			sub->borrow_len = len > m->capacity ? len : 0;
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
			/* A crowd's spin only keeps the others off the CPUs. */
			if (now - spin_start < sub->spin_ns &&
			    !rc_sub_crowded(sub)) {
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
	uint64_t c = sub->cursor, s1, pos = 0;
	struct rc_entry *e = sub->e;
	const unsigned char *src;
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
	if (unlikely(tag != sub->ep_tag))
		return 1;
	src = s->data;
	/* A spilled event: its record, checked as rc_sub_try() does. */
	if (len > m->capacity) {
		src = rc_spill_at(m, s, len, &pos);
		if (unlikely(!src))
			return 1;
	}
	ev->seq = c;
	ev->ts = READ_ONCE(s->ts);
	ev->type = READ_ONCE(s->type);
	ev->publisher = READ_ONCE(s->pub_id);
	ev->lost = 0;
	if (how == RC_COPY)
		rc_copy_out(sub->buf, src, len); /* the seqlock's race */
	if (rc_slot_read_retry(s, s1))
		return 1;
	/* A lap of the data area, or worse: the long way says which. */
	if (len > m->capacity && unlikely(rc_spill_check(sub, c, pos, len)))
		return 1;
	if (how == RC_BORROW) {
		ev->data = src;
		sub->slow |= RC_SUB_BORROWED;
		sub->borrow_stamp = s1;
		sub->borrow_pos = pos;
		sub->borrow_len = len > m->capacity ? len : 0;
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
	if (len > m->capacity)
		rc_sub_dcross(sub, pos);
	if (sub->reliable &&
	    ((((c + 1) ^ c) >> sub->quarter_shift) || sub->dwake))
		rc_pub_wake(m->hdr);
	sub->dwake = false;
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
	r = 0;
	if (s2 == sub->borrow_stamp && sub->borrow_len)
		r = rc_spill_check(sub, sub->cursor, sub->borrow_pos,
				   sub->borrow_len);
	if (r < 0)
		return r;
	if (r) {
		/* Whole when lent (rc_sub_try()): overwritten since. */
		r = rc_sub_data_lapped(sub, sub->cursor, ev);
		rc_sub_after(sub, r);
		rc_sub_sync(sub);
		return r;
	}
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

/*
 * A batch stops at an error after its first event: owe it to the next
 * call as if it had not happened yet.  A lap was counted when it was
 * found: it becomes a loss owed (reported by rc_sub_try()); a demotion's
 * -ESTALE is told again.  The others come back by themselves.
 */
static void rc_sub_defer(struct ringcast_sub *sub, int r,
			 const struct ringcast_event *ev)
{
	if (r == -EOVERFLOW) {
		sub->st.lost -= ev->lost;
		sub->st.laps--;
		rc_sub_owe_lost(sub, sub->pending_lost + ev->lost);
	} else if (r == -ESTALE) {
		sub->slow |= RC_SUB_STALE;
	}
}

RINGCAST_API int ringcast_sub_next_batch(struct ringcast_sub *sub,
					 struct ringcast_event *evs,
					 unsigned int max, void *buf,
					 size_t size, int64_t timeout_ns)
{
	unsigned char *p = buf;
	size_t used = 0;
	unsigned int k;
	int r = 0;

	if (!sub || !evs || !max || (size && !buf))
		return -EINVAL;
	for (k = 0; k < max; k++) {
		struct ringcast_event *ev = &evs[k];

		/* Borrowed, copied, then released: one copy, checked. */
		r = ringcast_sub_borrow(sub, ev, k ? 0 : timeout_ns);
		if (r < 0)
			break;
		if (ev->len > size - used) {
			/* Left where it is: the cursor has not moved. */
			sub->slow &= ~RC_SUB_BORROWED;
			r = -ENOBUFS;
			break;
		}
		/* The seqlock's race for a lossy reader: the release says. */
		rc_copy_out(p + used, ev->data, ev->len);
		ev->data = p + used;
		r = ringcast_sub_release(sub, ev);
		if (r < 0)
			break;
		used += ev->len;
		used = used + 7 < size ? (used + 7) & ~(size_t)7 : size;
	}
	if (!k)
		return r;
	if (r < 0 && r != -EAGAIN && r != -ENOBUFS)
		rc_sub_defer(sub, r, &evs[k]);
	return (int)k;
}

RINGCAST_API int ringcast_sub_read_at(struct ringcast_sub *sub, uint64_t seq,
				      struct ringcast_event *ev)
{
	const unsigned char *src;
	struct rc_slot *s;
	uint64_t s1, xs, pos = 0;
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
	src = len <= sub->m.capacity ? s->data :
				       rc_spill_at(&sub->m, s, len, &pos);
	if (src)
		rc_copy_out(sub->buf, src, len);
	if (rc_slot_read_retry(s, s1))
		return -ERANGE;
	if (!src)
		return rc_sub_corrupt_slot(sub, seq,
					   len > sub->m.max_event ?
						   "length over the largest "
						   "event" :
						   "record outside the data "
						   "area");
	/* Its data overwritten in a lap of the data area: -ERANGE too. */
	if (len > sub->m.capacity) {
		r = rc_spill_check(sub, seq, pos, len);
		if (r)
			return r < 0 ? r : -ERANGE;
	}
	ev->seq = seq;
	ev->len = len;
	ev->lost = 0;
	ev->publisher = READ_ONCE(s->pub_id);
	ev->data = sub->buf;
	return 0;
}
