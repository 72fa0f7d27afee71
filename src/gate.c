// SPDX-License-Identifier: MIT
/*
 * Gating by reliable subscribers: how far a publisher may write, what it
 * does when it may not (wait, reclaim the dead, demote the stuck), and
 * on a multi-publisher ring the other publishers' claims.
 *
 * The gating table (docs/design.md §3), with sub_attach.c's reliable join:
 *
 *   publisher (rc_pub_scan)               joiner (rc_sub_join)
 *   store(limit, L)                       cursor = want; state = RELIABLE
 *   smp_mb()                         [H]  table_gen++ (seq-cst)
 *   gen = table_gen: list the reliable    smp_mb()                     [J]
 *   low = min(load_acquire(cursor))  [K]  L = load(limit)
 *   write below min(L, low + slots)       cursor = max(want, L - slots)
 *
 * [H] pairs with [J] (a store-buffering pattern): either the scan sees the
 * joiner's generation bump and entry, and so its cursor, which only moves
 * up from there, or the joiner sees L; the publisher writes nothing at or
 * above L without storing a higher limit and scanning again, so starting
 * at L - slots or later, nothing the joiner is promised is overwritten.
 * The limits stored never go down (a takeover starts from the last one),
 * so a joiner that reads an older limit starts later, never earlier, than
 * one that reads a newer.  A limit is at most the head plus a ring, so a
 * joiner never starts past the head.  [K], the acquire load of a cursor,
 * pairs with the subscriber's release store of it after reading the
 * events below it: those reads happen before the overwrite.
 *
 * The data area (docs/design.md §8) is gated in sequences, through the
 * same handshake: the publisher alone knows, from its records, which
 * events' data a write destroys (rc_pub_walk()), and it destroys the data
 * of no event at or above dfloor without storing a higher one first:
 *
 *   publisher (rc_pub_scan)               joiner (rc_sub_join)
 *   store(dfloor, X)                      cursor = want; table_gen++
 *   smp_mb()                         [H]  smp_mb()                     [J]
 *   low = min(load_acquire(cursor))  [K]  F = load(dfloor)
 *   destroy data of events below          cursor = max(want, L - slots, F)
 *   min(X, low) only
 *
 * As for the limit: either the scan sees the joiner, or the joiner sees X
 * and starts at or after every event whose data may go without another
 * scan.  dfloor only rises.
 *
 * A publisher waiting for room sleeps on hdr->pub_wait; see rc_pub_wake()
 * in wait.c for its handshake [P]/[S] with the subscribers that wake it.
 */
#include <errno.h>
#include <linux/futex.h>

#include "pub.h"

/* A publisher waiting for room spins this long before it sleeps ... */
#define RC_PUB_SPIN_NS 20000ull
/* ... and probes the liveness of the subscriber it waits for this often. */
#define RC_PUB_PROBE_NS 100000000ull

/* Limits never go down, also across publishers (the table above). */
void rc_pub_init_limit(struct ringcast_pub *pub, uint64_t head)
{
	struct rc_hdr *hdr = pub->m.hdr;

	pub->limit = READ_ONCE(hdr->limit);
	if (pub->multi) {
		/*
		 * Every limit a publisher stores is at most the head it
		 * read plus a ring, so at most the head read after it plus
		 * a ring: one above that was never stored by a publisher
		 * (the memory was scribbled on).  Bring it down from that
		 * very value only: a compare-and-swap, which fails if a
		 * publisher raised the limit since.
		 */
		uint64_t h = atomic_load(&hdr->head), lim = pub->limit;

		if (h <= RC_SEQ_MAX - pub->m.slot_count &&
		    lim > h + pub->m.slot_count) {
			pub->limit = h + pub->m.slot_count;
			atomic_compare_exchange_strong(&hdr->limit, &lim,
						       pub->limit);
		}
	} else if (pub->limit > head + pub->m.slot_count) {
		/* Ours alone: a limit more than a ring ahead was scribbled. */
		pub->limit = head + pub->m.slot_count;
		WRITE_ONCE(hdr->limit, pub->limit);
	}
}

/* List the reliable entries (the table changed since the last list). */
static void rc_pub_list_gates(struct ringcast_pub *pub, uint32_t gen)
{
	struct rc_map *m = &pub->m;
	uint32_t i, n = 0, np = 0;

	pub->gate_gen = gen;
	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];
		/*
		 * Acquire: pairs with the release CAS of a claim in
		 * rc_table_join(), so the cursor read after is the joiner's.
		 */
		uint32_t w = smp_load_acquire(&e->state);

		if (RC_ENTRY_KIND(w) == RC_ENTRY_PUBLISHER && pub->multi &&
		    (int)i != pub->entry)
			pub->peers[np++] = i;
		if (RC_ENTRY_KIND(w) != RC_ENTRY_RELIABLE)
			continue;
		pub->gates[n].idx = i;
		pub->gates[n].word = w;
		pub->gates[n].wake = READ_ONCE(e->flags) & RC_EF_FILTERED ?
					     READ_ONCE(e->interest) :
					     0;
		n++;
	}
	pub->ngates = n;
	pub->npeers = np;
}

/*
 * License a quarter ring more than needed, at most a ring ahead, and
 * store it: the limit rc_pub_scan() publishes before its [H].
 */
static uint64_t rc_pub_raise_limit(struct ringcast_pub *pub, uint64_t base,
				   uint64_t want)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t lim = want + pub->quarter;

	if (lim > base + pub->m.slot_count)
		lim = base + pub->m.slot_count;
	if (lim < want)
		lim = want;
	if (lim < pub->limit)
		lim = pub->limit;
	pub->limit = lim;
	if (!pub->multi) {
		WRITE_ONCE(hdr->limit, lim);
	} else {
		/*
		 * Several publishers: the shared limit is their maximum,
		 * and every write of it is this read-modify-write, so it
		 * only moves up.  An RMW even when the limit is already high
		 * enough (it then writes back what it read): see [H].
		 */
		uint64_t old = READ_ONCE(hdr->limit), nv;

		do {
			nv = old > lim ? old : lim;
		} while (!atomic_compare_exchange_weak(&hdr->limit, &old, nv));
	}
	return lim;
}

/*
 * The other publishers' claims not yet committed gate us like
 * cursors: a sequence S claimed and not committed keeps S + N, its
 * slot's next event, out of our reach, or S's late commit would
 * land on it.  A claim we must respect was announced before its
 * claimer's seq-cst CAS of the head, which came before our load of
 * the head (base): the announcement is visible to these loads.  An
 * announcement may cover sequences its owner never won (a lost CAS,
 * withdrawn at once): only more caution.
 */
static uint64_t rc_pub_claims_low(struct ringcast_pub *pub)
{
	uint64_t low = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < pub->npeers; i++) {
		const struct rc_entry *e = &pub->m.table[pub->peers[i]];
		/*
		 * Acquire: pairs with the release store of claim_seq in
		 * rc_mpub_claim() and rc_pub_advance().
		 */
		uint64_t cs = smp_load_acquire(&e->claim_seq);
		uint64_t ce = READ_ONCE(e->claim_end);

		if (ce > cs && cs < low)
			low = cs;
	}
	return low;
}

/*
 * The slowest is type-filtered and half a ring behind (or in our
 * way): events of other types do not wake it, so if it sleeps (its
 * bits are set), wake its gate bit, and it skips them.  A sleeper
 * that sets its bits after this load re-checks the head and does not
 * sleep; on a multi-publisher ring it re-checks a slot another
 * publisher may still be committing, so there the bits are not
 * looked at.  At most one such wake per move of the slowest cursor,
 * or per millisecond.
 */
static void rc_pub_gate_wake(struct ringcast_pub *pub, int slowest,
			     uint64_t low, uint64_t base, uint64_t want)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t n = pub->m.slot_count, t;

	if (slowest < 0 || !pub->gates[slowest].wake ||
	    (low + n / 2 > base && want <= pub->allowed && low >= pub->dneed))
		return;
	if (!pub->multi &&
	    !(READ_ONCE(hdr->wake_bits) & pub->gates[slowest].wake))
		return;
	t = rc_coarse_ns();
	if (low == pub->gate_woke_low && t - pub->gate_woke_ns < 1000000)
		return;
	pub->gate_woke_low = low;
	pub->gate_woke_ns = t;
	rc_wake_seq(hdr, RC_WAKE_GATE);
}

/*
 * Store a new limit, then find how far we may write: returns true when
 * sequences below want may be written.  See the gating table above.
 */
bool rc_pub_scan(struct ringcast_pub *pub, uint64_t base, uint64_t want)
{
	struct rc_map *m = &pub->m;
	struct rc_hdr *hdr = m->hdr;
	uint64_t n = m->slot_count, lim, low = UINT64_MAX;
	uint32_t gen, i;
	int slowest = -1;

	lim = rc_pub_raise_limit(pub, base, want);
	/*
	 * The data area's floor, stored before [H] as the limit is, and for
	 * the same reason by every scan of a data wait even when it does not
	 * rise: only a write of our own before [H] gives the joiner's [J]
	 * its guarantee, not having read a floor another publisher stored.
	 */
	if (pub->dneed) {
		if (pub->dneed > pub->dfloor)
			pub->dfloor = pub->dneed;
		WRITE_ONCE(hdr->dfloor, pub->dfloor);
	}
	/*
	 * [H]: pairs with smp_mb() [J] in rc_sub_join().  In C11 terms:
	 * our write W of the limit is sequenced before fence [H], the
	 * joiner's load of the limit after fence [J].  If [H] precedes [J]
	 * in the single order of seq-cst fences, that load reads W or a
	 * write after W in the limit's modification order; since every
	 * write of it is a store of the sole publisher or, on a
	 * multi-publisher ring, a max RMW, that is a limit at least ours.
	 * Otherwise our loads after [H] see the joiner's table_gen bump and
	 * its entry.  The argument needs a write of our own before [H]:
	 * having only read a high enough limit that another publisher
	 * stored gives the joiner no such guarantee on a weakly ordered
	 * CPU, hence the RMW in rc_pub_raise_limit() even when it changes
	 * nothing.
	 */
	smp_mb();
	gen = smp_load_acquire(&hdr->table_gen);
	if (gen != pub->gate_gen)
		rc_pub_list_gates(pub, gen);
	for (i = 0; i < pub->ngates; i++) {
		const struct rc_entry *e = &m->table[pub->gates[i].idx];
		/* [K]: pairs with the release of a cursor (rc_sub_sync()). */
		uint64_t c = smp_load_acquire(&e->cursor);

		if (c < low) {
			low = c;
			slowest = (int)i;
		}
	}
	pub->slowest = slowest < 0 ? -1 : (int)pub->gates[slowest].idx;
	pub->slowest_word = slowest < 0 ? 0 : pub->gates[slowest].word;
	pub->low = low;
	pub->claim_low = rc_pub_claims_low(pub);
	if (pub->claim_low < low)
		low = pub->claim_low;
	if (low > RC_SEQ_MAX)
		low = RC_SEQ_MAX; /* none, or a cursor no sequence reaches */
	pub->allowed = low + n < lim ? low + n : lim;
	rc_pub_gate_wake(pub, slowest, low, base, want);
	return want <= pub->allowed && pub->dneed <= low;
}

/* Does a reliable cursor c keep want, or the data wait's need, away? */
static inline bool rc_pub_in_way(const struct ringcast_pub *pub, uint64_t c,
				 uint64_t want)
{
	return c + pub->m.slot_count < want || c < pub->dneed;
}

/*
 * A ring of ours begins its data area where the last publisher's intent
 * ended, and walks from there: what lies below is data of events before
 * our head, which it may destroy only once every reliable cursor is at
 * our head (docs/design.md §8: conservative, for one lap).
 */
void rc_pub_data_init(struct ringcast_pub *pub)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t i;

	if (!pub->m.data)
		return;
	i = READ_ONCE(hdr->dintent);
	if (i > UINT64_MAX / 2)
		i = 0; /* scribbled: positions take centuries to get there */
	pub->dhead = (i + RC_REC_ALIGN - 1) & ~(uint64_t)(RC_REC_ALIGN - 1);
	pub->wpos = pub->dhead;
	pub->wseq = pub->head;
	pub->dallowed = 0; /* the first spilled event scans */
	pub->dfloor = READ_ONCE(hdr->dfloor);
	pub->dneed = 0;
}

/*
 * Walk our records up to position b (or our data head): returns the
 * sequence every reliable cursor must reach before the data below b may
 * be destroyed.  The records are ours, but in shared memory: one that
 * cannot be what we wrote (a scribble) ends the walk at our data head,
 * whose answer, our head, is always safe.
 */
static uint64_t rc_pub_walk(struct ringcast_pub *pub, uint64_t b)
{
	struct rc_map *m = &pub->m;

	while (pub->wpos < b && pub->wpos < pub->dhead) {
		const struct rc_rec *rec = rc_rec_at(m, pub->wpos);
		uint64_t off = pub->wpos & m->data_mask;
		uint32_t kind = READ_ONCE(rec->kind);
		uint64_t len = READ_ONCE(rec->len), seq = READ_ONCE(rec->seq);

		if (off + rc_rec_size(len) > m->data_size ||
		    (kind == RC_REC_EVENT &&
		     (seq < pub->wseq || seq >= pub->head)) ||
		    (kind != RC_REC_EVENT && kind != RC_REC_FILL) ||
		    (kind == RC_REC_FILL &&
		     off + rc_rec_size(len) != m->data_size)) {
			pub->wpos = pub->dhead;
			pub->wseq = pub->head;
			break;
		}
		if (kind == RC_REC_EVENT)
			pub->wseq = seq + 1;
		pub->wpos += rc_rec_size(len);
	}
	return pub->wseq;
}

/*
 * Room in the data area below position q (at most D/2 past our data head):
 * the data of every event that starts below q - D must be consumed by the
 * reliable subscribers.  Rounded up to a quarter of the data area, so a
 * publisher that waits needs a cursor that reads an event starting in a
 * new quarter, where subscribers wake it (rc_sub_sync()), or the head.
 * 0, or what rc_pub_block() returns.
 */
int rc_pub_droom(struct ringcast_pub *pub, uint64_t q)
{
	uint64_t d = pub->m.data_size, quarter = d / 4, need, b;
	int r = 0;

	if (likely(q <= pub->dallowed))
		return 0;
	/* Below one lap nothing is overwritten: no event to wait for. */
	if (q <= d) {
		pub->dallowed = d;
		return 0;
	}
	need = q - d;
	b = (need + quarter - 1) & ~(quarter - 1);
	pub->dneed = rc_pub_walk(pub, b);
	if (!rc_pub_scan(pub, pub->head, pub->head))
		r = rc_pub_block(pub, pub->head, pub->head);
	pub->dneed = 0;
	if (r < 0)
		return r;
	pub->dallowed = b + d;
	return 0;
}

/* The demotion limit for entry e: the ring's, or its own shorter one. */
static uint64_t rc_pub_demote_ns(const struct ringcast_pub *pub,
				 const struct rc_entry *e)
{
	uint64_t own = READ_ONCE(e->demote_ns), ring = pub->m.demote_ns;

	if (own && (!ring || own < ring))
		return own;
	return ring;
}

/*
 * The entries that keep want out of reach: reclaim the dead ones.  Returns
 * true when one was reclaimed.
 */
static bool rc_pub_reap(struct ringcast_pub *pub, uint64_t want)
{
	struct rc_map *m = &pub->m;
	uint64_t n = m->slot_count;
	bool freed = false;
	uint32_t i;

	for (i = 0; i < pub->ngates; i++) {
		uint32_t idx = pub->gates[i].idx;
		uint64_t c = READ_ONCE(m->table[idx].cursor);

		if (!rc_pub_in_way(pub, c, want))
			continue;
		if (rc_entry_reclaim(m, idx) == 1)
			freed = true;
	}
	/* A dead publisher's claim: its reclaim makes it a hole. */
	for (i = 0; i < pub->npeers; i++) {
		const struct rc_entry *e = &m->table[pub->peers[i]];
		uint64_t cs = READ_ONCE(e->claim_seq);

		if (READ_ONCE(e->claim_end) <= cs || cs + n >= want)
			continue;
		if (rc_entry_reclaim(m, pub->peers[i]) == 1)
			freed = true;
	}
	return freed;
}

/*
 * Demote the reliable entry idx to lossy: it stayed at cursor for too long.
 * Only the claim our list saw stuck, in one atomic step: a compare-and-swap
 * from the exact state word we listed (its claim generation included), so
 * that an entry whose stuck owner died and which a new subscriber claimed
 * since, at whatever cursor, is not demoted.  The cursor is looked at
 * first only to spare a subscriber that moved at the last moment.  The
 * subscriber learns it from its state (rc_sub_demoted()); the smp_mb() [H]
 * of the scan that follows, before any overwrite, publishes it.
 */
static bool rc_pub_demote(struct ringcast_pub *pub, uint32_t idx,
			  uint64_t cursor)
{
	struct rc_entry *e = &pub->m.table[idx];
	uint32_t i, st;

	for (i = 0; i < pub->ngates && pub->gates[i].idx != idx; i++)
		;
	if (i == pub->ngates || READ_ONCE(e->cursor) != cursor)
		return false;
	st = pub->gates[i].word;
	if (!atomic_compare_exchange_strong_explicit(
		    &e->state, &st,
		    RC_ENTRY_WORD(RC_ENTRY_LOSSY, RC_ENTRY_GEN(st)),
		    memory_order_acq_rel, memory_order_acquire))
		return false;
	atomic_fetch_or(&e->flags, RC_EF_DEMOTED);
	atomic_fetch_add(&pub->m.hdr->demotions, 1);
	atomic_fetch_add(&pub->m.hdr->table_gen, 1);
	return true;
}

/* Why a publisher waiting for room stops: 0 to go on waiting. */
static int rc_pub_block_end(struct ringcast_pub *pub, uint64_t start,
			    uint64_t now)
{
	struct rc_hdr *hdr = pub->m.hdr;

	if (atomic_exchange(&pub->intr, 0))
		return -EINTR;
	/* Closed from outside while we wait? */
	if (READ_ONCE(hdr->life) != pub->life)
		return rc_pub_refuse(pub, rc_life_end(READ_ONCE(hdr->life)));
	if (pub->timeout_ns > 0 && now - start >= (uint64_t)pub->timeout_ns)
		return -ETIMEDOUT;
	return 0;
}

/* The reliable entry a blocked publisher waits for, and since when. */
struct rc_stuck {
	int idx; /* the entry, or -1 */
	uint32_t word; /* its state word: a new claim is a new subscriber */
	uint64_t cursor; /* its cursor */
	uint64_t since; /* when it was last seen to move */
};

/*
 * Follow the slowest gate of the last scan: stuck means no progress, and
 * the clock restarts when it moves, or when the entry is claimed anew (a
 * durable subscriber adopted at the same cursor is not its dead
 * predecessor: its time starts then).  Returns when it is to be demoted,
 * UINT64_MAX for never.
 */
static uint64_t rc_pub_stuck(struct ringcast_pub *pub, struct rc_stuck *st,
			     uint64_t now, uint64_t want)
{
	uint64_t d;

	if (pub->slowest != st->idx || pub->low != st->cursor ||
	    pub->slowest_word != st->word) {
		st->idx = pub->slowest;
		st->word = pub->slowest_word;
		st->cursor = pub->low;
		st->since = now;
	}
	/* Only a reliable subscriber in our way is demoted. */
	if (st->idx < 0 || !rc_pub_in_way(pub, st->cursor, want))
		return UINT64_MAX;
	d = rc_pub_demote_ns(pub, &pub->m.table[st->idx]);
	if (!d)
		return UINT64_MAX;
	/* Saturating: a huge limit means never. */
	return d < UINT64_MAX - st->since ? st->since + d : UINT64_MAX;
}

/* Demote the stuck entry; if it is not the one we saw, look again. */
static void rc_pub_demote_stuck(struct ringcast_pub *pub, struct rc_stuck *st)
{
	if (rc_pub_demote(pub, (uint32_t)st->idx, st->cursor))
		return;
	/* Not the one we saw: look again, from now. */
	pub->gate_gen = atomic_load(&pub->m.hdr->table_gen) - 1;
	st->idx = -1;
}

/*
 * Sleep on hdr->pub_wait until wake_at at the latest, or the timeout of a
 * wait that began at start: sets our bit, then scans again.  Returns true
 * when that scan found room (no sleep).  *nap is the re-scan interval,
 * doubled at each sleep.
 */
static bool rc_pub_sleep(struct ringcast_pub *pub, uint64_t base, uint64_t want,
			 uint64_t start, uint64_t now, uint64_t wake_at,
			 uint64_t *nap)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint32_t w;

	if (pub->timeout_ns > 0 && start + (uint64_t)pub->timeout_ns < wake_at)
		wake_at = start + (uint64_t)pub->timeout_ns;

	/* [P]: pairs with smp_mb() [S] in rc_pub_wake(). */
	w = atomic_fetch_or(&hdr->pub_wait, RC_PUB_SLEEPING) | RC_PUB_SLEEPING;
	if (rc_pub_scan(pub, base, want))
		return true;
	/*
	 * Subscribers wake us at quarter boundaries and before they sleep;
	 * one that stops reading between two, with room made, is found by a
	 * re-scan: after 1 ms, then doubling up to the probe interval.
	 */
	*nap = *nap ? *nap * 2 : 1000000;
	if (wake_at > now + *nap)
		wake_at = now + *nap;
	if (!atomic_load(&pub->intr))
		rc_futex_wait(&hdr->pub_wait, w, FUTEX_BITSET_MATCH_ANY,
			      wake_at > now ? (int64_t)(wake_at - now) : 0);
	return false;
}

/*
 * hdr->blocked_since: when the wait began, for monitors (ringcast top), 0
 * while no publisher waits.  Of several publishers of a multi-publisher
 * ring that wait at once, the first stores its start (the oldest wait,
 * give or take the clock reads) and only it clears the word, with a
 * compare-and-swap from its own value: another's later store is never
 * wiped out by an earlier wait's end.  Relaxed: a statistic, read alone
 * (ringcast_ring_get_stats()), ordered with nothing; the RMWs make the
 * store-if-zero and clear-if-mine atomic, no barrier is needed.
 * Returns true when @start was stored.
 */
static bool rc_pub_since_set(struct rc_hdr *hdr, uint64_t start)
{
	uint64_t zero = 0;

	return atomic_compare_exchange_strong_explicit(&hdr->blocked_since,
						       &zero, start,
						       memory_order_relaxed,
						       memory_order_relaxed);
}

/* The end of a wait that stored @start in hdr->blocked_since. */
static void rc_pub_since_clear(struct rc_hdr *hdr, uint64_t start)
{
	atomic_compare_exchange_strong_explicit(&hdr->blocked_since, &start, 0,
						memory_order_relaxed,
						memory_order_relaxed);
}

/*
 * Wait until sequences below want may be written: spin, then sleep on
 * hdr->pub_wait; probe the liveness of what we wait for, demote what is
 * stuck past its limit.  0, or -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE.
 */
int rc_pub_block(struct ringcast_pub *pub, uint64_t base, uint64_t want)
{
	struct rc_hdr *hdr = pub->m.hdr;
	struct rc_stuck stuck = { .idx = -1 };
	uint64_t start, now, probe_at, demote_at, nap = 0;
	bool sleeping = false, since_set;
	int r;

	if (pub->timeout_ns == 0)
		return -EAGAIN;
	start = now = rc_now_ns();
	probe_at = now; /* a dead subscriber is freed at once */
	stuck.since = now;
	atomic_fetch_add(&hdr->blocked, 1);
	since_set = rc_pub_since_set(hdr, start);
	for (;;) {
		r = rc_pub_block_end(pub, start, now);
		if (r < 0)
			break;
		if (now >= probe_at) {
			probe_at = now + RC_PUB_PROBE_NS;
			if (rc_pub_reap(pub, want) &&
			    rc_pub_scan(pub, base, want))
				break;
		}
		demote_at = rc_pub_stuck(pub, &stuck, now, want);
		if (now >= demote_at) {
			rc_pub_demote_stuck(pub, &stuck);
			if (rc_pub_scan(pub, base, want))
				break;
			now = rc_now_ns();
			continue;
		}
		if (now - start < RC_PUB_SPIN_NS) {
			unsigned int i;

			for (i = 0; i < 64; i++)
				cpu_relax();
		} else {
			uint64_t wake_at = probe_at < demote_at ? probe_at :
								  demote_at;

			sleeping = true;
			if (rc_pub_sleep(pub, base, want, start, now, wake_at,
					 &nap))
				break;
		}
		if (rc_pub_scan(pub, base, want))
			break;
		now = rc_now_ns();
	}
	/*
	 * Subscribers need not look for us any more; but another publisher
	 * of a multi-publisher ring may sleep there too: leave it set then
	 * (the next waker clears it).
	 */
	if (sleeping && !pub->multi)
		atomic_fetch_and(&hdr->pub_wait, ~RC_PUB_SLEEPING);
	if (since_set)
		rc_pub_since_clear(hdr, start);
	atomic_fetch_add(&hdr->blocked_ns, rc_now_ns() - start);
	return r;
}
