// SPDX-License-Identifier: MIT
/*
 * The publisher: the lease, takeover, and the publish path.
 *
 * Publishing event S into slot S & mask is a seqlock with a declared
 * intent.  The parties and their barriers:
 *
 *   publisher (rc_slot_begin/_end)        reader (sub.c: rc_slot_read_*)
 *   ------------------------------        -------------------------------
 *   stamp = (S + 1) | BUSY                s1 = load_acquire(stamp)     [B]
 *   smp_wmb()                        [A]  read type, len, payload
 *   write type, len, ts, payload          smp_rmb()                    [C]
 *   store_release(stamp, S + 1)      [D]  s2 = READ_ONCE(stamp)
 *   store_release(head, S + 1)       [E]  accept only if s2 == s1 == S + 1
 *
 * [D] pairs with [B]: a reader that sees S + 1 sees the whole event.
 * [A] pairs with [C]: a reader whose copy saw any byte of a later write
 * into the slot sees that write's BUSY mark (or a later stamp) in s2, so
 * a torn copy is always discarded.  Storing the new stamp last is not
 * enough on its own: without the BUSY mark a reader that re-checks before
 * it lands would accept a torn copy.
 *
 * Waking (docs/design.md §4), with sub.c's rc_sub_sleep():
 *
 *   publisher                             sleeper
 *                                         g = wake_seq
 *   store_release(head)                   fetch_or(wake_bits, mine)
 *   smp_mb()                         [F]  smp_mb()                     [G]
 *   if (READ_ONCE(wake_bits) & bit)       if (head > cursor) don't sleep
 *     fetch_and(wake_bits, ~bit)          FUTEX_WAIT(wake_seq, g, mine)
 *     wake_seq++; FUTEX_WAKE(bit)
 *
 * [F] pairs with [G] (a store-buffering pattern): either the sleeper sees
 * the new head, or the publisher sees the sleeper's bit.  In the second
 * case the sleeper read g before its fetch_or, which came before the
 * publisher's fetch_and and so before its increment: a sleeper that set its
 * bit but has not yet entered FUTEX_WAIT finds wake_seq != g and does not
 * sleep.  The sleepers wait on wake_seq, not on the bitmap, because the
 * bitmap can return to a value a sleeper expects (a bit cleared by one
 * wake and set again by another sleeper of the bucket).
 *
 * Gating by reliable subscribers (docs/design.md §3), with sub.c's reliable join:
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
 * A publisher waiting for room sleeps on hdr->pub_wait; see rc_pub_wake()
 * in wait.c for its handshake [P]/[S] with the subscribers that wake it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#include "barrier.h"
#include "compiler.h"
#include "copy.h"
#include "map.h"

#define RC_PUB_ID_LEASE 0xffffffffu
/* A publisher waiting for room spins this long before it sleeps ... */
#define RC_PUB_SPIN_NS 20000ull
/* ... and probes the liveness of the subscriber it waits for this often. */
#define RC_PUB_PROBE_NS 100000000ull

/* A reliable entry as the publisher's last scan listed it. */
struct rc_gate {
	uint32_t idx;
	uint32_t wake; /* its interest if it is type-filtered, else 0 */
	uint32_t word; /* its state word: RELIABLE and its claim generation */
};

struct ringcast_pub {
	struct rc_map m;
	uint64_t head; /* next sequence to write; ours alone */
	uint64_t life; /* the life word while we hold the ring */
	uint32_t epoch_tag;
	uint32_t flags;
	uint32_t table_gen; /* table generation last counted */
	uint32_t registered; /* entries in use at that generation */
	size_t reserved; /* bytes reserved per slot, or 0 */
	unsigned int reserved_n; /* slots reserved from head on */
	bool reserving;

	/* Reliable gating: see the gating table above. */
	uint64_t allowed; /* may write below this without a scan */
	uint64_t limit; /* the last limit stored in the header */
	uint64_t quarter; /* a quarter ring, at least 1 */
	uint64_t low; /* lowest reliable cursor at the last scan */
	int slowest; /* its entry, or -1 when none */
	uint64_t gate_woke_low; /* its cursor at our last gate wake */
	uint64_t gate_woke_ns; /* and when that was (coarse clock) */
	uint32_t gate_gen; /* table generation the list was made at */
	uint32_t ngates;
	struct rc_gate *gates; /* table_cap of them */
	/* A multi-publisher ring: the other publishers' entries, listed
	 * with the gates; their uncommitted claims gate us too. */
	uint32_t npeers;
	uint32_t *peers; /* table_cap of them */
	uint64_t claim_low; /* lowest such claim at the last scan */
	int64_t timeout_ns; /* < 0: for ever */
	_Atomic uint32_t intr;

	/* A publisher of a multi-publisher ring. */
	bool multi;
	int entry; /* its table entry */
	struct rc_entry *e;
	uint32_t id; /* what its slots say wrote them */
};

static uint64_t rc_pub_ts(const struct ringcast_pub *pub)
{
	struct timespec ts;

	clock_gettime(pub->flags & RINGCAST_PUB_PRECISE ?
			      CLOCK_MONOTONIC :
			      CLOCK_MONOTONIC_COARSE,
		      &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Find the sequence that follows the last committed event: the head may
 * lag a slot committed just before the previous publisher died, so scan
 * forward from it along the slots' own stamps (at most one ring).
 */
static uint64_t rc_pub_find_head(struct rc_map *m)
{
	uint64_t h = smp_load_acquire(&m->hdr->head);
	uint32_t i;

	if (h > RC_SEQ_MAX - m->slot_count)
		return UINT64_MAX;
	for (i = 0; i < m->slot_count; i++) {
		/* Pairs with [D] of the previous publisher. */
		if (smp_load_acquire(&rc_slot_at(m, h)->stamp) != h + 1)
			break;
		h++;
	}
	return h;
}

/*
 * Remember how the epoch we take over ended (see rc_sub_end_code()): one
 * record per epoch, since a reader takes the first match.  A takeover
 * that recorded the epoch and then failed (its compare-and-swap lost to a
 * close or an abandonment, or it died before it) left a record of it with
 * a state that is no longer true: rewrite that one.  Writers are one at a
 * time (the lease, or the takeover lock).  Readers look only once they
 * see the new epoch, after our release compare-and-swap, so a rewrite is
 * never seen half done.
 */
static void rc_pub_record_end(struct rc_hdr *hdr, uint64_t life)
{
	uint32_t i, tag = (uint32_t)RC_LIFE_EPOCH(life);

	for (i = 0; i < RC_ENDED_MAX; i++)
		if (READ_ONCE(hdr->ended[i].tag) == tag)
			break;
	if (i == RC_ENDED_MAX) {
		i = READ_ONCE(hdr->ended_next) % RC_ENDED_MAX;
		WRITE_ONCE(hdr->ended[i].tag, tag);
		WRITE_ONCE(hdr->ended_next, i + 1);
	}
	WRITE_ONCE(hdr->ended[i].state, RC_LIFE_STATE(life));
}

/*
 * The takeover of a multi-publisher ring is one publisher's: the lock
 * byte RC_LOCK_TAKEOVER, held across the stores of the takeover and the
 * compare-and-swap of the life word, and dropped by the kernel if its
 * holder dies.  Held for a few stores, so a short wait; its cap only
 * bounds a holder stopped by a signal or a debugger.
 */
#define RC_TAKEOVER_WAIT_NS 2000000000ull

static int rc_takeover_lock(struct rc_map *m)
{
	struct timespec nap = { .tv_nsec = 50000 };
	uint64_t start = rc_now_ns();
	int r;

	for (;;) {
		r = rc_lock_try(m, RC_LOCK_TAKEOVER);
		if (r != -EBUSY)
			return r;
		if (rc_now_ns() - start >= RC_TAKEOVER_WAIT_NS)
			return -EBUSY;
		nanosleep(&nap, NULL);
	}
}

/*
 * Lock first, then touch the ring.  The publishers of a multi-publisher
 * ring share the lease (read locks: a prober sees it held while any of
 * them lives) and each holds a table entry, where it announces its
 * claims.  On failure nothing is left held.
 */
static int rc_pub_lock(struct ringcast_pub *pub, const char *name)
{
	struct rc_join j = { .state = RC_ENTRY_PUBLISHER };
	int r;

	pub->entry = -1;
	pub->id = RC_PUB_ID_LEASE;
	if (!pub->m.multi) {
		r = rc_lease_take(&pub->m);
		if (r == -EBUSY)
			rc_set_detail("ring '%s' has a live publisher", name);
		return r < 0 ? r : 0;
	}
	r = rc_lease_share(&pub->m);
	if (r < 0)
		return r;
	/* Reclaims dead publishers' entries: their claims become holes. */
	r = rc_table_join(&pub->m, &j);
	if (r < 0) {
		if (r == -EUSERS)
			rc_set_detail("the table of ring '%s' is full", name);
		rc_lease_drop(&pub->m);
		return r;
	}
	pub->entry = r;
	pub->e = &pub->m.table[r];
	pub->id = (uint32_t)r;
	pub->multi = true;
	return 0;
}

/* 0 when the life word lets a publisher in, else why not. */
static int rc_pub_refused(uint64_t life, unsigned int flags, const char *name)
{
	uint32_t state = RC_LIFE_STATE(life);
	int r = rc_life_check(life);

	if (r < 0)
		return r;
	if (state == RINGCAST_STATE_CLOSED && !(flags & RINGCAST_PUB_REOPEN)) {
		rc_set_detail("ring '%s' is closed", name);
		return -EPIPE;
	}
	if (state == RINGCAST_STATE_REMOVED) {
		rc_set_detail("ring '%s' was removed", name);
		return -EIDRM;
	}
	return 0;
}

/*
 * Take the ring over from the life word *life: a new epoch, starting at
 * the head.  Returns 1 when the ring is ours, with *headp and *epochp set;
 * 0 when the compare-and-swap of the life word lost (*life is then the
 * word found: look again); or a negative errno.
 */
static int rc_pub_takeover(struct ringcast_pub *pub, uint64_t *life,
			   uint64_t *headp, uint64_t *epochp)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t head, epoch;

	/*
	 * A multi-publisher ring's head is its claims: never stored
	 * here, so it never moves back under a claim another
	 * publisher made.  A single publisher's head may lag a slot
	 * committed just before its predecessor died: found along
	 * the stamps, and stored (we hold the lease alone).
	 */
	head = pub->multi ? atomic_load(&hdr->head) : rc_pub_find_head(&pub->m);
	if (head > RC_SEQ_MAX - pub->m.slot_count)
		head = UINT64_MAX;
	if (head == UINT64_MAX) {
		rc_set_detail("corrupted: head out of range");
		return -EBADMSG;
	}
	do {
		epoch = rc_random64() >> 8;
	} while (!(uint32_t)epoch ||
		 (uint32_t)epoch == (uint32_t)RC_LIFE_EPOCH(*life));

	/*
	 * A reserved-but-uncommitted slot at head (stamp head + 1 with
	 * BUSY) needs nothing: the next publish marks it busy again
	 * and overwrites it, and readers wait at head meanwhile.
	 */
	WRITE_ONCE(hdr->epoch_start, head);
	if (RC_LIFE_STATE(*life) != RINGCAST_STATE_CREATED)
		rc_pub_record_end(hdr, *life);
	WRITE_ONCE(hdr->pub_pid, (int32_t)getpid());
	WRITE_ONCE(hdr->pub_start, rc_proc_start_time(getpid()));
	if (!pub->multi)
		smp_store_release(&hdr->head, head);
	pub->life = RC_LIFE(epoch, RINGCAST_STATE_LIVE);
	*headp = head;
	*epochp = epoch;
	/*
	 * Release: the fields above (and ended[]) are visible to a
	 * reader that sees the new epoch (its smp_load_acquire() of
	 * life, or of a stamp this epoch commits).  We are the only
	 * publisher here (the lease, or the takeover lock); only a
	 * subscriber marking the ring abandoned and
	 * ringcast_ring_close() race with us: then look again.
	 */
	return atomic_compare_exchange_strong_explicit(&hdr->life, life,
						       pub->life,
						       memory_order_acq_rel,
						       memory_order_acquire);
}

/*
 * Start publishing, the lease (or its share) held: join the live epoch
 * of a multi-publisher ring, or take the ring over (rc_pub_takeover()).
 * Returns 0 with *headp and *epochp set, or a negative errno.
 */
static int rc_pub_start(struct ringcast_pub *pub, const char *name,
			uint64_t *headp, uint64_t *epochp)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t life = smp_load_acquire(&hdr->life);
	bool locked = false;
	int r, tries;

	for (tries = 0;; tries++) {
		r = rc_pub_refused(life, pub->flags, name);
		if (r < 0)
			break;
		if (pub->multi && RC_LIFE_STATE(life) == RINGCAST_STATE_LIVE) {
			/*
			 * Join the live epoch: we hold a share of the lease,
			 * so a subscriber that probes it from now on finds it
			 * held.  One that probed it free before our share may
			 * still mark the epoch abandoned: our publishes then
			 * fail with -EPIPE, and nothing is lost.
			 * The acquire load of life that saw it live pairs
			 * with the release CAS of whoever took it over: its
			 * epoch_start and ended[] come with it.
			 */
			pub->life = life;
			*epochp = RC_LIFE_EPOCH(life);
			*headp = atomic_load(&hdr->head);
			break;
		}
		if (pub->multi && !locked) {
			/*
			 * Only one publisher takes a multi-publisher ring
			 * over: the others wait here, then find it live and
			 * join.  Look at the life word again under the lock.
			 */
			r = rc_takeover_lock(&pub->m);
			if (r < 0) {
				if (r == -EBUSY)
					rc_set_detail("another publisher of "
						      "'%s' is stuck taking "
						      "it over",
						      name);
				break;
			}
			locked = true;
			life = smp_load_acquire(&hdr->life);
			continue;
		}
		r = rc_pub_takeover(pub, &life, headp, epochp);
		if (r != 0)
			break;
		if (tries > 16) {
			r = -EBUSY;
			break;
		}
	}
	if (locked)
		rc_lock_drop(&pub->m, RC_LOCK_TAKEOVER);
	return r < 0 ? r : 0;
}

/* Limits never go down, also across publishers (gating table). */
static void rc_pub_init_limit(struct ringcast_pub *pub, uint64_t head)
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

RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp)
{
	struct ringcast_pub *pub;
	uint64_t epoch = 0, head = 0;
	int r;

	rc_set_detail("%s", "");
	if (!pubp || (flags & ~(RINGCAST_PUB_REOPEN | RINGCAST_PUB_PRECISE |
				RINGCAST_PUB_ANY_OWNER)))
		return -EINVAL;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->flags = flags;
	r = rc_map_open(name, true, &pub->m);
	if (r < 0)
		goto err_free;
	/* Its owner reads whatever we write (SECURITY.md). */
	if (!(flags & RINGCAST_PUB_ANY_OWNER)) {
		r = rc_map_owner_check(&pub->m);
		if (r < 0)
			goto err_unmap;
	}
	pub->gates = calloc(pub->m.table_cap, sizeof(*pub->gates));
	pub->peers = calloc(pub->m.table_cap, sizeof(*pub->peers));
	if (!pub->gates || !pub->peers) {
		r = -ENOMEM;
		goto err_unmap;
	}
	r = rc_pub_lock(pub, name);
	if (r < 0)
		goto err_unmap;
	r = rc_pub_start(pub, name, &head, &epoch);
	if (r < 0)
		goto err_drop;
	pub->head = head;
	pub->epoch_tag = (uint32_t)epoch;
	pub->table_gen = READ_ONCE(pub->m.hdr->table_gen);
	pub->registered = rc_table_count(&pub->m);
	rc_pub_init_limit(pub, head);
	pub->allowed = 0; /* the first publish scans */
	pub->quarter = pub->m.slot_count >= 4 ? pub->m.slot_count / 4 : 1;
	pub->slowest = -1;
	pub->gate_gen = READ_ONCE(pub->m.hdr->table_gen) - 1; /* list at once */
	pub->timeout_ns = -1;
	*pubp = pub;
	return 0;

err_drop:
	if (pub->entry >= 0)
		rc_table_leave(&pub->m, pub->entry);
	rc_lease_drop(&pub->m);
err_unmap:
	rc_map_close(&pub->m);
err_free:
	free(pub->peers);
	free(pub->gates);
	free(pub);
	return r;
}

/* Subscribers registered: recounted only when the table changed. */
static int rc_pub_registered(struct ringcast_pub *pub)
{
	/* Pairs with the seq-cst increments of table_gen in table.c. */
	uint32_t gen = smp_load_acquire(&pub->m.hdr->table_gen);

	if (unlikely(gen != pub->table_gen)) {
		pub->table_gen = gen;
		pub->registered = rc_table_count(&pub->m);
	}
	return (int)pub->registered;
}

static int rc_pub_refuse(struct ringcast_pub *pub, int err)
{
	atomic_fetch_add(&pub->m.hdr->refused, 1);
	return err;
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
	    (low + n / 2 > base && want <= pub->allowed))
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
static bool rc_pub_scan(struct ringcast_pub *pub, uint64_t base, uint64_t want)
{
	struct rc_map *m = &pub->m;
	struct rc_hdr *hdr = m->hdr;
	uint64_t n = m->slot_count, lim, low = UINT64_MAX;
	uint32_t gen, i;
	int slowest = -1;

	lim = rc_pub_raise_limit(pub, base, want);
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
		/* [K]: pairs with smp_store_release() of the cursor in sub.c. */
		uint64_t c = smp_load_acquire(&e->cursor);

		if (c < low) {
			low = c;
			slowest = (int)i;
		}
	}
	pub->slowest = slowest < 0 ? -1 : (int)pub->gates[slowest].idx;
	pub->low = low;
	pub->claim_low = rc_pub_claims_low(pub);
	if (pub->claim_low < low)
		low = pub->claim_low;
	if (low > RC_SEQ_MAX)
		low = RC_SEQ_MAX; /* none, or a cursor no sequence reaches */
	pub->allowed = low + n < lim ? low + n : lim;
	rc_pub_gate_wake(pub, slowest, low, base, want);
	return want <= pub->allowed;
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

		if (c + n >= want)
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
	uint64_t cursor; /* its cursor */
	uint64_t since; /* when it was last seen to move */
};

/*
 * Follow the slowest gate of the last scan: stuck means no progress, and
 * the clock restarts when it moves.  Returns when it is to be demoted,
 * UINT64_MAX for never.
 */
static uint64_t rc_pub_stuck(struct ringcast_pub *pub, struct rc_stuck *st,
			     uint64_t now, uint64_t want)
{
	uint64_t d;

	if (pub->slowest != st->idx || pub->low != st->cursor) {
		st->idx = pub->slowest;
		st->cursor = pub->low;
		st->since = now;
	}
	/* Only a reliable subscriber in our way is demoted. */
	if (st->idx < 0 || st->cursor + pub->m.slot_count >= want)
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
 * Wait until sequences below want may be written: spin, then sleep on
 * hdr->pub_wait; probe the liveness of what we wait for, demote what is
 * stuck past its limit.  0, or -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE.
 */
static int rc_pub_block(struct ringcast_pub *pub, uint64_t base, uint64_t want)
{
	struct rc_hdr *hdr = pub->m.hdr;
	struct rc_stuck stuck = { .idx = -1 };
	uint64_t start, now, probe_at, demote_at, nap = 0;
	bool sleeping = false;
	int r;

	if (pub->timeout_ns == 0)
		return -EAGAIN;
	start = now = rc_now_ns();
	probe_at = now; /* a dead subscriber is freed at once */
	stuck.since = now;
	atomic_fetch_add(&hdr->blocked, 1);
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
	atomic_fetch_add(&hdr->blocked_ns, rc_now_ns() - start);
	return r;
}

/*
 * A multi-publisher ring: claim n sequences (at most a ring) that have
 * room, into pub->head.  The claim is announced in our entry first
 * (claim_end, then claim_seq: a reader of the two sees a superset of it,
 * never less), and the seq-cst compare-and-swap of the head makes the
 * announcement visible to whoever sees the claim (rc_claim_abort() loads
 * the head, then the announcements).  Room is made sure of before the
 * claim, so a publish that cannot wait claims nothing, and a claim never
 * has to be given back.
 */
static int rc_mpub_claim(struct ringcast_pub *pub, uint64_t n)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t c = atomic_load(&hdr->head);
	int r;

	for (;;) {
		if (unlikely(c > RC_SEQ_MAX - n)) {
			rc_set_detail("corrupted: head out of range");
			return -EBADMSG;
		}
		if (c + n > pub->allowed && !rc_pub_scan(pub, c, c + n)) {
			r = rc_pub_block(pub, c, c + n);
			if (r < 0)
				return r;
			c = atomic_load(&hdr->head);
			continue;
		}
		WRITE_ONCE(pub->e->claim_end, c + n);
		smp_store_release(&pub->e->claim_seq, c);
		if (atomic_compare_exchange_weak(&hdr->head, &c, c + n)) {
			pub->head = c;
			return 0;
		}
		/*
		 * Lost: withdraw the announcement at once, so it never
		 * covers, while we wait for room, a sequence another
		 * publisher won and died with (rc_claim_abort() leaves a
		 * sequence a live announcement covers).
		 */
		smp_store_release(&pub->e->claim_seq,
				  READ_ONCE(pub->e->claim_end));
	}
}

/* Room for sequences below pub->head + n (n at most a ring)? */
static inline int rc_pub_room(struct ringcast_pub *pub, uint64_t n)
{
	uint64_t want = pub->head + n;

	if (likely(want <= pub->allowed))
		return 0;
	if (rc_pub_scan(pub, pub->head, want))
		return 0;
	return rc_pub_block(pub, pub->head, want);
}

/* Room for n sequences from pub->head on: ours, or claimed. */
static inline int rc_pub_take(struct ringcast_pub *pub, uint64_t n)
{
	if (likely(!pub->multi))
		return rc_pub_room(pub, n);
	return rc_mpub_claim(pub, n);
}

/* Checks shared by every publish call; 0 when publishing may go on. */
static int rc_pub_check(struct ringcast_pub *pub)
{
	if (unlikely(rc_map_forked(&pub->m)))
		return -ECHILD;
	if (unlikely(pub->reserving))
		return -EBUSY;
	/* Closed or removed from outside?  A cached line. */
	if (unlikely(READ_ONCE(pub->m.hdr->life) != pub->life))
		return rc_pub_refuse(pub,
				     rc_life_end(READ_ONCE(pub->m.hdr->life)));
	return 0;
}

/* Declare the intent to overwrite the slot of seq: [A] in the table. */
static struct rc_slot *rc_slot_begin(struct ringcast_pub *pub, uint64_t seq)
{
	struct rc_slot *s = rc_slot_at(&pub->m, seq);

	WRITE_ONCE(s->stamp, (seq + 1) | RC_STAMP_BUSY);
	/* Pairs with smp_rmb() [C] in rc_slot_read_end() (sub.c). */
	smp_wmb();
	return s;
}

static void rc_slot_end(struct ringcast_pub *pub, struct rc_slot *s,
			uint64_t seq, uint32_t type, uint32_t len, uint64_t ts)
{
	WRITE_ONCE(s->type, type);
	WRITE_ONCE(s->len, len);
	WRITE_ONCE(s->ts, ts);
	WRITE_ONCE(s->epoch, pub->epoch_tag);
	WRITE_ONCE(s->pub_id, pub->id);
	/* [D]: pairs with smp_load_acquire() [B] in rc_slot_read_begin(). */
	smp_store_release(&s->stamp, seq + 1);
}

/* Publish the head once for what was committed, then look for sleepers. */
static void rc_pub_advance(struct ringcast_pub *pub, uint64_t n, uint32_t bits)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint32_t w, old;

	pub->head += n;
	if (likely(!pub->multi)) {
		/* [E]: pairs with smp_load_acquire() of head in readers. */
		smp_store_release(&hdr->head, pub->head);
	} else {
		/*
		 * Our claim is committed: clear its announcement.  Release:
		 * pairs with the acquire load in rc_claim_abort(), which then
		 * sees the commits.
		 */
		smp_store_release(&pub->e->claim_seq, pub->head);
	}
	/* [F]: pairs with smp_mb() [G] in rc_sub_sleep(). */
	smp_mb();
	if (pub->multi) {
		/*
		 * A publisher may wait for room behind the claim we just
		 * committed.  [F] is also [S] of rc_pub_wake() here: pairs
		 * with [P] in rc_pub_block(), with our claim_seq in place of
		 * a cursor.
		 */
		w = READ_ONCE(hdr->pub_wait);
		if (unlikely(w & RC_PUB_SLEEPING) &&
		    atomic_compare_exchange_strong(&hdr->pub_wait, &w, w + 1))
			rc_futex_wake(&hdr->pub_wait, FUTEX_BITSET_MATCH_ANY);
	}
	w = READ_ONCE(hdr->wake_bits);
	if (likely(!(w & bits)))
		return;
	/* One wake per sleep episode: whoever clears a bit wakes it. */
	old = atomic_fetch_and(&hdr->wake_bits, ~bits);
	if (old & bits) {
		rc_wake_seq(hdr, old & bits);
		atomic_fetch_add(&hdr->wakes, 1);
	}
}

RINGCAST_API int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
				      const void *data, size_t len)
{
	struct rc_slot *s;
	int r;

	if (unlikely(!pub || (len && !data)))
		return -EINVAL;
	r = rc_pub_check(pub);
	if (unlikely(r < 0))
		return r;
	if (unlikely(len > pub->m.capacity))
		return rc_pub_refuse(pub, -EMSGSIZE);
	r = rc_pub_take(pub, 1);
	if (unlikely(r < 0))
		return r;
	s = rc_slot_begin(pub, pub->head);
	/*
	 * The payload is written with plain stores while readers may copy it:
	 * the seqlock's one documented data race, resolved by [A]/[C].
	 */
	if (len)
		rc_copy_in(s->data, data, len);
	rc_slot_end(pub, s, pub->head, type, (uint32_t)len, rc_pub_ts(pub));
	rc_pub_advance(pub, 1, rc_type_bit(type) | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_publish_batch(struct ringcast_pub *pub,
					    const struct ringcast_msg *msgs,
					    unsigned int n)
{
	unsigned int i, k, done;
	uint64_t ts;
	int r;

	if (unlikely(!pub || (n && !msgs)))
		return -EINVAL;
	r = rc_pub_check(pub);
	if (unlikely(r < 0))
		return r;
	for (i = 0; i < n; i++) {
		if (msgs[i].len > pub->m.capacity)
			return rc_pub_refuse(pub, -EMSGSIZE);
		if (msgs[i].len && !msgs[i].data)
			return -EINVAL;
	}
	if (!n)
		return (int)rc_pub_registered(pub);
	ts = rc_pub_ts(pub);
	/*
	 * In parts of at most three quarters of a ring: each part waits for
	 * room and publishes the head once, so a takeover's scan from the
	 * head (at most one ring long) always finds where a dead publisher
	 * stopped; and the room a part waits for is always reached at a
	 * quarter-ring boundary of the slowest cursor, where subscribers
	 * wake a sleeping publisher (sub.c: rc_sub_sync()), as long as the
	 * subscriber reads on; one that stops reading short of it is found
	 * by the publisher's re-scans (rc_pub_block()).
	 */
	for (done = 0; done < n; done += k) {
		uint32_t bits = 0;

		k = n - done;
		if (k > pub->m.slot_count - pub->quarter)
			k = (unsigned int)(pub->m.slot_count - pub->quarter);
		r = rc_pub_take(pub, k);
		if (unlikely(r < 0))
			return r;
		for (i = 0; i < k; i++) {
			const struct ringcast_msg *msg = &msgs[done + i];
			uint64_t seq = pub->head + i;
			struct rc_slot *s = rc_slot_begin(pub, seq);

			if (msg->len)
				rc_copy_in(s->data, msg->data, msg->len);
			rc_slot_end(pub, s, seq, msg->type, msg->len, ts);
			bits |= rc_type_bit(msg->type);
		}
		rc_pub_advance(pub, k, bits | RC_WAKE_ANY);
	}
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_reserve_batch(struct ringcast_pub *pub,
					    unsigned int n, size_t len,
					    void **bufs)
{
	unsigned int i;
	int r;

	if (!pub || !bufs || !n)
		return -EINVAL;
	r = rc_pub_check(pub);
	if (r < 0)
		return r;
	if (len > pub->m.capacity)
		return rc_pub_refuse(pub, -EMSGSIZE);
	/* All or nothing: what one part of a batch may be (publish_batch). */
	if (n > pub->m.slot_count - pub->quarter) {
		rc_set_detail("%u slots: a reservation is at most %u", n,
			      (unsigned int)(pub->m.slot_count - pub->quarter));
		return -EINVAL;
	}
	r = rc_pub_take(pub, n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		bufs[i] = rc_slot_begin(pub, pub->head + i)->data;
	pub->reserving = true;
	pub->reserved = len;
	pub->reserved_n = n;
	return 0;
}

RINGCAST_API int ringcast_pub_reserve(struct ringcast_pub *pub, size_t len,
				      void **bufp)
{
	return ringcast_pub_reserve_batch(pub, 1, len, bufp);
}

RINGCAST_API int ringcast_pub_commit_batch(struct ringcast_pub *pub,
					   const struct ringcast_msg *msgs,
					   unsigned int n)
{
	uint32_t bits = 0;
	unsigned int i;
	uint64_t ts;

	if (!pub || !msgs)
		return -EINVAL;
	if (rc_map_forked(&pub->m))
		return -ECHILD;
	if (!pub->reserving || n != pub->reserved_n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (msgs[i].len > pub->reserved)
			return -EINVAL;
	pub->reserving = false;
	ts = rc_pub_ts(pub);
	for (i = 0; i < n; i++) {
		uint64_t seq = pub->head + i;

		rc_slot_end(pub, rc_slot_at(&pub->m, seq), seq, msgs[i].type,
			    msgs[i].len, ts);
		bits |= rc_type_bit(msgs[i].type);
	}
	rc_pub_advance(pub, n, bits | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_commit(struct ringcast_pub *pub, uint32_t type,
				     size_t len)
{
	struct ringcast_msg msg = { .type = type, .len = (uint32_t)len };

	if (len > UINT32_MAX)
		return -EINVAL;
	return ringcast_pub_commit_batch(pub, &msg, 1);
}

RINGCAST_API uint64_t ringcast_pub_head(const struct ringcast_pub *pub)
{
	return pub ? pub->head : 0;
}

RINGCAST_API int ringcast_pub_set_timeout(struct ringcast_pub *pub,
					  int64_t timeout_ns)
{
	if (!pub)
		return -EINVAL;
	pub->timeout_ns = timeout_ns < 0 ? -1 : timeout_ns;
	return 0;
}

RINGCAST_API void ringcast_pub_interrupt(struct ringcast_pub *pub)
{
	if (!pub)
		return;
	/* Seq-cst, before the bump: a wait re-checks intr after it. */
	atomic_store(&pub->intr, 1);
	if (rc_map_forked(&pub->m))
		return;
	/* + 2 changes the futex word and leaves RC_PUB_SLEEPING alone. */
	atomic_fetch_add(&pub->m.hdr->pub_wait, 2);
	rc_futex_wake(&pub->m.hdr->pub_wait, FUTEX_BITSET_MATCH_ANY);
}

RINGCAST_API int ringcast_pub_subscribers(struct ringcast_pub *pub)
{
	if (!pub)
		return -EINVAL;
	if (rc_map_forked(&pub->m))
		return -ECHILD;
	return (int)rc_table_live(&pub->m);
}

RINGCAST_API int ringcast_pub_wait_subscribers(struct ringcast_pub *pub,
					       unsigned int n,
					       int64_t timeout_ns)
{
	uint64_t start = rc_now_ns();
	int r;

	if (!pub)
		return -EINVAL;
	for (;;) {
		r = rc_pub_check(pub);
		if (r < 0)
			return r;
		r = (int)rc_table_live(&pub->m);
		if ((unsigned int)r >= n)
			return r;
		if (atomic_exchange(&pub->intr, 0))
			return -EINTR;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (timeout_ns > 0 &&
		    rc_now_ns() - start >= (uint64_t)timeout_ns)
			return -ETIMEDOUT;
		/* Interruptible: ringcast_pub_interrupt() bumps the word. */
		rc_futex_wait(&pub->m.hdr->pub_wait,
			      READ_ONCE(pub->m.hdr->pub_wait),
			      FUTEX_BITSET_MATCH_ANY, 1000000);
	}
}

/* Leave the ring (entry first, then the lease) and free the handle. */
/*
 * A multi-publisher ring's reservation that will never be committed: make
 * it a hole now, or readers would wait at it for ever (a dead publisher's
 * is aborted by whoever reclaims its entry; ours is left by a free).
 */
static void rc_pub_drop_reservation(struct ringcast_pub *pub)
{
	if (pub->reserving && pub->multi && pub->entry >= 0)
		rc_claim_abort(&pub->m, (uint32_t)pub->entry);
	pub->reserving = false;
}

/*
 * Leave the ring (reservation, entry, then the lease), wake every sleeper,
 * so that they see the new state or find the lease free now rather than
 * at their timer, and free the handle.  In a forked child only the memory
 * is freed.
 */
static void rc_pub_free(struct ringcast_pub *pub)
{
	if (!rc_map_forked(&pub->m)) {
		rc_pub_drop_reservation(pub);
		if (pub->entry >= 0)
			rc_table_leave(&pub->m, pub->entry);
		rc_lease_drop(&pub->m);
		rc_wake_all(&pub->m);
	}
	rc_map_close(&pub->m);
	free(pub->peers);
	free(pub->gates);
	free(pub);
}

RINGCAST_API int ringcast_pub_close(struct ringcast_pub *pub)
{
	uint64_t life;
	int r = 0;

	if (!pub)
		return -EINVAL;
	if (rc_map_forked(&pub->m)) {
		rc_pub_free(pub);
		return -ECHILD;
	}
	life = pub->life;
	/*
	 * Release: every commit above is visible to a reader that sees the
	 * closed state (its smp_load_acquire() of life), so draining after
	 * it misses nothing.
	 */
	if (!atomic_compare_exchange_strong_explicit(
		    &pub->m.hdr->life, &life,
		    RC_LIFE(RC_LIFE_EPOCH(pub->life), RINGCAST_STATE_CLOSED),
		    memory_order_acq_rel, memory_order_acquire))
		r = rc_life_end(life);
	rc_pub_free(pub);
	return r;
}

RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub)
{
	if (pub)
		rc_pub_free(pub);
}

RINGCAST_API int ringcast_pub_finish(struct ringcast_pub *pub)
{
	struct rc_map *m;
	uint32_t i, others = 0;

	if (!pub)
		return -EINVAL;
	if (!pub->multi || rc_map_forked(&pub->m)) {
		int r = ringcast_pub_close(pub);

		return r < 0 ? r : 1;
	}
	m = &pub->m;
	/*
	 * Seq-cst, before we look at the others: of two publishers finishing
	 * at once, at least one sees the other leaving (or gone) and closes.
	 */
	atomic_fetch_or(&pub->e->flags, RC_EF_LEAVING);
	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];

		if ((int)i == pub->entry ||
		    RC_ENTRY_KIND(atomic_load(&e->state)) !=
			    RC_ENTRY_PUBLISHER ||
		    (atomic_load(&e->flags) & RC_EF_LEAVING))
			continue;
		if (rc_lock_probe(m, RC_LOCK_ENTRY0 + (int)i) == 0)
			continue; /* dead */
		others++;
	}
	if (others) {
		ringcast_pub_detach(pub);
		return 0;
	}
	ringcast_pub_close(pub); /* -EPIPE: another closed it: as good */
	return 1;
}
