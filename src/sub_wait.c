// SPDX-License-Identifier: MIT
/*
 * A subscriber with nothing to read: has the stream ended (rc_sub_idle()),
 * spinning, and sleeping on the ring's futex word, the sleeper's half of
 * the wake table in publish.c.
 */
#include <errno.h>
#include <linux/futex.h>

#include "sub.h"

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
	/* Seq-cst: pairs with the claim's compare-and-swap in publish.c. */
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
int rc_sub_idle(struct ringcast_sub *sub, struct ringcast_event *ev, int how)
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
	/*
	 * A claim in progress: its commit (or its abort) comes, whatever
	 * the state.
	 */
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
void rc_sub_spin(struct ringcast_sub *sub, unsigned int n)
{
	uint64_t c = sub->cursor;

	while (n--) {
		if (rc_sub_arrived(sub, c) || READ_ONCE(sub->intr))
			return;
		cpu_relax();
	}
}

/*
 * Far more readers than CPUs?  The entries in use as the publisher last
 * counted them (only a hint: shared memory; 0 from an older library)
 * against the CPUs online when we attached.
 */
bool rc_sub_crowded(const struct ringcast_sub *sub)
{
	return READ_ONCE(sub->m.hdr->entries) > RC_CROWD_PER_CPU * sub->ncpus;
}

/*
 * How long a reader of a crowd sleeps without a wake (0: it sleeps as
 * any reader does).  Woken after every publish call, the readers of a
 * crowd would each pay a context switch for the few events of that call,
 * and a wake makes them all runnable at once, more than the CPUs can run:
 * events are not late by less than a round of them.  So while the stream
 * flows (the cursor moved since the last sleep ended), sleep for about a
 * round, RC_CROWD_NS per reader per CPU, and read what came meanwhile; a
 * sleep after which nothing came means the stream paused, and the next
 * sleep is the ordinary one, woken by the first event.  Shorter when the
 * last one let more than a quarter ring come (a small ring, a fast
 * stream): at that rate, a quarter ring's time, so that a lossy reader is
 * not lapped and a reliable one does not hold the publisher long.
 */
static int64_t rc_sub_crowd_ns(const struct ringcast_sub *sub)
{
	uint32_t n = READ_ONCE(sub->m.hdr->entries);
	uint64_t came = sub->cursor - sub->slept_at, ns, q;

	if (n <= RC_CROWD_PER_CPU * sub->ncpus || !came)
		return 0;
	if (n > sub->m.table_cap)
		n = sub->m.table_cap; /* scribbled */
	ns = RC_CROWD_NS * n / sub->ncpus;
	q = 1ull << sub->quarter_shift;
	/* crowd_ns is at most a few crowds' rounds: no overflow. */
	if (sub->crowd_ns && came > q && sub->crowd_ns * q / came < ns)
		ns = sub->crowd_ns * q / came;
	return (int64_t)(ns ? ns : 1);
}

/*
 * A crowd's sleep (rc_sub_crowd_ns()): no wake bits, so no publisher wakes
 * us for events; the timer does.  A reliable reader tells a sleeping
 * publisher how far it got first, as rc_sub_arm() does.  Ring-wide wakes
 * (rc_wake_all(): a close, a publisher leaving) and interrupts bump
 * wake_seq, and those after our load of it make FUTEX_WAIT return at
 * once; those before, the re-checks below see.  Woken early by a wake of
 * a bucket of ours for another reader: harmless.
 */
static void rc_sub_crowd_sleep(struct ringcast_sub *sub, uint32_t bits,
			       int64_t t)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint32_t g;

	rc_sub_sync(sub);
	if (sub->reliable && sub->cursor != sub->told) {
		sub->told = sub->cursor;
		rc_pub_wake(hdr);
	}
	/* Seq-cst, as in rc_sub_arm(): wakers bump wake_all_seq first. */
	g = atomic_load(&hdr->wake_seq);
	if (smp_load_acquire(&hdr->life) != sub->seen_life ||
	    atomic_load(&hdr->wake_all_seq) != sub->seen_wake_all ||
	    atomic_load(&sub->intr))
		return;
	sub->st.sleeps++;
	rc_futex_wait(&hdr->wake_seq, g, bits, t);
}

/*
 * Set our wake bits and re-check, as every sleep does (see the wake table
 * in publish.c); 1 when we must not sleep.  Also the first half of a wait on
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
	/* Seq-cst, before the fetch_or: see the wake table in publish.c. */
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
 * < 0 for none).  See the wake table in publish.c.
 */
void rc_sub_sleep(struct ringcast_sub *sub, int64_t rem)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t c = sub->cursor, h;
	uint32_t bits = sub->interest, g, w;
	int64_t t = (int64_t)sub->liveness_ns, crowd;
	_Atomic uint32_t *word;
	int r;

	if (!sub->m.writable) {
		/*
		 * Cannot set bits: short timed waits, interruptible.  Pairs
		 * with the seq-cst increment in ringcast_sub_interrupt().
		 */
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
	/* A claim pending at the cursor: come back soon for its owner. */
	if (sub->hole_seq == c && t > (int64_t)RC_HOLE_NS)
		t = (int64_t)RC_HOLE_NS;
	if (rem >= 0 && rem < t)
		t = rem;
	/* A filtered reliable sleeper is also woken by its gate bit. */
	if (sub->reliable && sub->ntypes)
		bits |= RC_WAKE_GATE;

	crowd = rc_sub_crowd_ns(sub);
	sub->crowd_ns = (uint64_t)crowd;
	sub->slept_at = sub->cursor;
	if (crowd) {
		rc_sub_crowd_sleep(sub, bits, crowd < t ? crowd : t);
		return;
	}
	if (rc_sub_arm(sub, &word, &g))
		return;
	rc_sub_lost_check(sub, 0);
	sub->st.sleeps++;
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
