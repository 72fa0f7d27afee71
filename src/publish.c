// SPDX-License-Identifier: MIT
/*
 * The publish path: room for the events, the slot's seqlock, the head and
 * the wake-ups.  How far a publisher may write is gate.c's.
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
 * An event too large for its slot is a record of the data area (§8): its
 * slot holds the record's position, and the data area has its own
 * declared intent, as Agrona's broadcast buffer has (rc_data_intent()):
 *
 *   publisher                             reader (sub.c: rc_spill_check)
 *   store(dintent, end of what follows)   s1 = load_acquire(stamp)     [B]
 *   smp_wmb()                       [A']  read len, position; copy payload
 *   write fill, record, payload           smp_rmb()                    [C]
 *   slot as above, [A] ... [D]            s2 = stamp; I = READ_ONCE(dintent)
 *                                         accept only if s2 == s1 and
 *                                         I <= position + data size
 *
 * [A'] pairs with [C]: a reader whose copy saw any byte of a later lap's
 * write sees its intent in I, past the position by more than a lap.
 *
 * Waking (docs/design.md §4), with sub_wait.c's rc_sub_sleep():
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
 */
#include <errno.h>
#include <time.h>
#include <linux/futex.h>

#include "copy.h"
#include "pub.h"

static uint64_t rc_pub_ts(const struct ringcast_pub *pub)
{
	struct timespec ts;

	clock_gettime(pub->flags & RINGCAST_PUB_PRECISE ?
			      CLOCK_MONOTONIC :
			      CLOCK_MONOTONIC_COARSE,
		      &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Subscribers registered: recounted only when the table changed. */
static int rc_pub_registered(struct ringcast_pub *pub)
{
	/* Pairs with the seq-cst increments of table_gen in table.c. */
	uint32_t gen = smp_load_acquire(&pub->m.hdr->table_gen);

	if (unlikely(gen != pub->table_gen)) {
		pub->table_gen = gen;
		pub->registered = rc_table_count(&pub->m);
		WRITE_ONCE(pub->m.hdr->entries, pub->registered);
	}
	return (int)pub->registered;
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

/* Declare the intent to write the data area below q: [A'] in the table. */
static inline void rc_data_intent(struct ringcast_pub *pub, uint64_t q)
{
	WRITE_ONCE(pub->m.hdr->dintent, q);
	/* [A']: pairs with smp_rmb() [C] in rc_slot_read_end() (sub.c). */
	smp_wmb();
}

/*
 * The record of event seq, of len bytes, at our data head (after a fill
 * record if it would wrap), described in its slot s, begun: its payload
 * area.  Room was made and the intent declared for it.
 */
static unsigned char *rc_data_put(struct ringcast_pub *pub, struct rc_slot *s,
				  uint64_t seq, uint32_t len)
{
	struct rc_map *m = &pub->m;
	uint64_t p = pub->dhead, at = rc_data_place(m, p, len);
	struct rc_rec *rec;

	if (at != p) {
		rec = rc_rec_at(m, p);
		WRITE_ONCE(rec->seq, seq);
		WRITE_ONCE(rec->len, (uint32_t)(at - p - sizeof(*rec)));
		WRITE_ONCE(rec->kind, RC_REC_FILL);
	}
	rec = rc_rec_at(m, at);
	WRITE_ONCE(rec->seq, seq);
	WRITE_ONCE(rec->len, len);
	WRITE_ONCE(rec->kind, RC_REC_EVENT);
	pub->dhead = at + rc_rec_size(len);
	WRITE_ONCE(((struct rc_desc *)s->data)->pos, at);
	return (unsigned char *)(rec + 1);
}

/* Room in the data area for what follows our data head up to q. */
static int rc_data_room(struct ringcast_pub *pub, uint64_t q)
{
	int r;

	if (q == pub->dhead)
		return 0;
	r = rc_pub_droom(pub, q);
	if (r < 0)
		return r;
	rc_data_intent(pub, q);
	return 0;
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

/* An event larger than its slot: a record of the data area. */
static int rc_pub_publish_spilled(struct ringcast_pub *pub, uint32_t type,
				  const void *data, uint32_t len)
{
	struct rc_slot *s;
	int r;

	r = rc_pub_take(pub, 1);
	if (unlikely(r < 0))
		return r;
	r = rc_data_room(pub, rc_data_after(&pub->m, pub->dhead, len));
	if (unlikely(r < 0))
		return r;
	s = rc_slot_begin(pub, pub->head);
	rc_copy_in(rc_data_put(pub, s, pub->head, len), data, len);
	rc_slot_end(pub, s, pub->head, type, len, rc_pub_ts(pub));
	rc_pub_advance(pub, 1, rc_type_bit(type) | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
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
	if (unlikely(len > pub->m.capacity)) {
		if (len > pub->m.max_event)
			return rc_pub_refuse(pub, -EMSGSIZE);
		return rc_pub_publish_spilled(pub, type, data, (uint32_t)len);
	}
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

/*
 * How many of the k events of a part of a batch go in it: a part's
 * records span at most half the data area (one record alone may span more),
 * so the room it waits for lies wholly below what earlier parts published
 * (rc_pub_droom()).  *q: the data head after them.
 */
static unsigned int rc_pub_part_data(const struct ringcast_pub *pub,
				     const struct ringcast_msg *msgs,
				     unsigned int k, uint64_t *q)
{
	const struct rc_map *m = &pub->m;
	uint64_t p = pub->dhead, next;
	unsigned int i;

	for (i = 0; i < k; i++) {
		if (msgs[i].len <= m->capacity)
			continue;
		next = rc_data_after(m, p, msgs[i].len);
		if (i && next - pub->dhead > m->data_size / 2)
			break;
		p = next;
	}
	*q = p;
	return i;
}

/*
 * Within a part, the head is published every RC_STREAM_BYTES of payload
 * too (single-publisher rings): a reader waits for the head, so a part of
 * a few large events would leave it idle while the part is written, and
 * then the publisher idle while it waits for the reader to copy the part
 * (on 16 slots of 128 KiB, parts of 12 events of 64 KiB ran at 0.4-0.6
 * of a ring that overlaps the two).  Room was made for the whole part
 * before, so it stays all or nothing; a head store and a look for
 * sleepers per 32 KiB cost nothing beside the copy.  A multi-publisher
 * ring commits its claim whole.
 */
#define RC_STREAM_BYTES (32u << 10)

/* Write the k events of a part, for which room was made, and publish them. */
static void rc_pub_write_part(struct ringcast_pub *pub,
			      const struct ringcast_msg *msgs, unsigned int k,
			      uint64_t ts)
{
	uint64_t base = pub->head, bytes = 0;
	unsigned int i, from = 0;
	uint32_t bits = 0;

	for (i = 0; i < k; i++) {
		const struct ringcast_msg *msg = &msgs[i];
		uint64_t seq = base + i;
		struct rc_slot *s = rc_slot_begin(pub, seq);
		unsigned char *to = s->data;

		if (msg->len > pub->m.capacity)
			to = rc_data_put(pub, s, seq, msg->len);
		if (msg->len)
			rc_copy_in(to, msg->data, msg->len);
		rc_slot_end(pub, s, seq, msg->type, msg->len, ts);
		bits |= rc_type_bit(msg->type);
		bytes += msg->len;
		if (bytes >= RC_STREAM_BYTES && i + 1 < k && !pub->multi) {
			rc_pub_advance(pub, i + 1 - from, bits | RC_WAKE_ANY);
			from = i + 1;
			bits = 0;
			bytes = 0;
		}
	}
	rc_pub_advance(pub, k - from, bits | RC_WAKE_ANY);
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
		if (msgs[i].len > pub->m.max_event)
			return rc_pub_refuse(pub, -EMSGSIZE);
		if (msgs[i].len && !msgs[i].data)
			return -EINVAL;
	}
	if (!n)
		return (int)rc_pub_registered(pub);
	ts = rc_pub_ts(pub);
	/*
	 * In parts of at most three quarters of a ring: each part waits for
	 * room whole and publishes the head at its end (and as it goes for
	 * large events: rc_pub_write_part()), never past it, so a takeover's
	 * scan from the head (at most one ring long) always finds where a
	 * dead publisher stopped; and the room a part waits for is always reached at a
	 * quarter-ring boundary of the slowest cursor, where subscribers
	 * wake a sleeping publisher (sub.h: rc_sub_sync()), as long as the
	 * subscriber reads on; one that stops reading short of it is found
	 * by the publisher's re-scans (rc_pub_block()).
	 */
	for (done = 0; done < n; done += k) {
		uint64_t q;

		k = n - done;
		if (k > pub->m.slot_count - pub->quarter)
			k = (unsigned int)(pub->m.slot_count - pub->quarter);
		k = rc_pub_part_data(pub, msgs + done, k, &q);
		r = rc_pub_take(pub, k);
		if (unlikely(r < 0))
			return r;
		r = rc_data_room(pub, q);
		if (unlikely(r < 0))
			return r;
		rc_pub_write_part(pub, msgs + done, k, ts);
	}
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_reserve_batch(struct ringcast_pub *pub,
					    unsigned int n, size_t len,
					    void **bufs)
{
	unsigned int i;
	uint64_t q;
	bool spill;
	int r;

	if (!pub || !bufs || !n)
		return -EINVAL;
	r = rc_pub_check(pub);
	if (r < 0)
		return r;
	if (len > pub->m.max_event)
		return rc_pub_refuse(pub, -EMSGSIZE);
	/* All or nothing: what one part of a batch may be (publish_batch). */
	if (n > pub->m.slot_count - pub->quarter) {
		rc_set_detail("%u slots: a reservation is at most %u", n,
			      (unsigned int)(pub->m.slot_count - pub->quarter));
		return -EINVAL;
	}
	spill = len > pub->m.capacity;
	q = pub->dhead;
	for (i = 0; spill && i < n; i++)
		q = rc_data_after(&pub->m, q, len);
	if (n > 1 && q - pub->dhead > pub->m.data_size / 2) {
		rc_set_detail("%u events of %zu bytes: a reservation spans at "
			      "most half the data area",
			      n, len);
		return -EINVAL;
	}
	r = rc_pub_take(pub, n);
	if (r < 0)
		return r;
	r = rc_data_room(pub, q);
	if (r < 0)
		return r;
	pub->reserved_pos = pub->dhead;
	for (i = 0; i < n; i++) {
		struct rc_slot *s = rc_slot_begin(pub, pub->head + i);

		bufs[i] = spill ? rc_data_put(pub, s, pub->head + i,
					      (uint32_t)len) :
				  s->data;
	}
	pub->reserved_spill = spill;
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
	uint64_t ts, p;

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
	/*
	 * Where the reservation's records lie: from our own data head, not
	 * from the descriptors in shared memory, which a scribble could have
	 * sent anywhere.
	 */
	p = pub->reserved_pos;
	for (i = 0; i < n; i++) {
		uint64_t seq = pub->head + i;
		struct rc_slot *s = rc_slot_at(&pub->m, seq);

		/*
		 * Reserved in the data area, and small enough for its slot
		 * after all: into the slot, whose descriptor it replaces
		 * (the record stays, unreferenced, its length as reserved).
		 */
		if (pub->reserved_spill) {
			uint64_t at = rc_data_place(&pub->m, p, pub->reserved);

			p = at + rc_rec_size(pub->reserved);
			if (msgs[i].len <= pub->m.capacity && msgs[i].len)
				rc_copy_in(s->data, rc_rec_at(&pub->m, at) + 1,
					   msgs[i].len);
		}
		rc_slot_end(pub, s, seq, msgs[i].type, msgs[i].len, ts);
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
