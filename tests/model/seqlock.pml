/* SPDX-License-Identifier: MIT */
/*
 * Publish and lossy read: the seqlock with a declared intent (docs/design.md §3;
 * src/publish.c, table [A]-[E], rc_slot_begin/rc_slot_end/rc_pub_advance;
 * src/sub.c, rc_sub_try, rc_stamp_later, rc_sub_lapped).
 *
 * Proves, for a ring of N slots, E events and READERS lossy readers that
 * start at sequence 0 or at the head they sample:
 *   - a reader never accepts a record overwritten during its copy: every
 *     record it accepts holds the payload of the event its stamp names;
 *   - its loss count is exact: delivered + lost = E - start when it ends;
 *   - a lap always moves the cursor forward (rc_sub_lapped: "r > c").
 *
 * Memory.  Spin interleaves steps sequentially consistently, so the weaker
 * hardware the fences exist for is modelled explicitly, as a multi-copy-
 * atomic CPU with ARMv8's freedoms:
 *   - the publisher's stores go into a buffer and reach memory in any
 *     order (a separate drainer process), except that a store never passes
 *     an earlier store to the same location (coherence), a store issued
 *     after smp_wmb() [A] never passes one issued before it, and a release
 *     store ([D], [E]) never passes any earlier store;
 *   - a reader's loads are performed in program order except where the
 *     C code lets the CPU satisfy one early: without smp_rmb() [C] the
 *     second stamp load may be satisfied before the payload load.  Loads
 *     after the acquire load [B] of the stamp are never satisfied before it.
 *
 * Atomic steps, each matching one access of the C code:
 *   - a publisher store entering its buffer (WRITE_ONCE/smp_store_release);
 *   - a store leaving the buffer for memory (the drainer);
 *   - one load by a reader (smp_load_acquire/READ_ONCE), together with the
 *     purely local computation that follows it.
 * The payload is one word per slot holding S + 1 for event S; a record
 * accepted for sequence c must hold c + 1.  The slot's other fields (type,
 * len, ts, epoch) are written and read like the payload and would add
 * states, not behaviours.
 *
 * Mutants (each must make Spin report a violation):
 *   NO_RECHECK  the reader accepts without its second stamp load (check removed)
 *   NO_BUSY     the publisher declares no intent: no BUSY stamp before the
 *               payload (docs/design.md §3: "storing the new sequence last is not enough")
 *   NO_WMB      smp_wmb() [A] removed: the payload may reach memory before
 *               the BUSY stamp
 *   NO_RMB      smp_rmb() [C] removed: the second stamp load may be
 *               satisfied before the payload load
 *   BAD_LOSS    a lap counts the loss up to the overwriting event rather
 *               than up to where the reader resumes
 */

#ifndef N
#define N 2		/* slots */
#endif
#ifndef E
#define E 4		/* events published */
#endif
#ifndef READERS
#define READERS 2
#endif

#define BUSY 128	/* RC_STAMP_BUSY, scaled down: stamps are S + 1 < 128 */

/* Shared memory: stamps, then payload words, then the head. */
#define A_STAMP(s)	(s)
#define A_DATA(s)	(N + (s))
#define A_HEAD		(2 * N)
byte mem[2 * N + 1];

/*
 * The publisher's store buffer, in issue order.  b_bar[i]: a fence (or the
 * release of entry i itself) orders entry i after every earlier entry.
 */
#define B 4
byte b_addr[B];
byte b_val[B];
bit b_bar[B];
byte bn;

/* Entry i may reach memory now. */
#define CAN(i) (bn > (i) && \
	((i) < 1 || (!b_bar[1] && b_addr[0] != b_addr[i])) && \
	((i) < 2 || (!b_bar[2] && b_addr[1] != b_addr[i])) && \
	((i) < 3 || (!b_bar[3] && b_addr[2] != b_addr[i])))

inline drain(i)
{
	d_step {
		CAN(i) ->
		k = i;
		mem[b_addr[k]] = b_val[k];
		printf("MSC: mem[%d] = %d (stamps 0..%d, payload, head)\n",
		       b_addr[k], b_val[k], N - 1);
		do
		:: k + 1 < bn ->
			b_addr[k] = b_addr[k + 1];
			b_val[k] = b_val[k + 1];
			b_bar[k] = b_bar[k + 1];
			k++
		:: else -> break
		od;
		bn--;
		b_addr[bn] = 0;
		b_val[bn] = 0;
		b_bar[bn] = 0;
		b_bar[0] = 0;
		k = 0
	}
}

/* Stores reach memory, one at a time, whenever they may. */
active proctype drainer()
{
	byte k;
end:
	do
	:: drain(0)
	:: drain(1)
	:: drain(2)
	:: drain(3)
	od
}

/* One load by reader _pid, with its trace line. */
inline load(dst, a)
{
	atomic {
		dst = mem[a];
		printf("MSC: reader %d loads mem[%d] = %d\n", _pid, a, dst)
	}
}

/* A store enters the buffer; bar: ordered after every earlier store. */
inline store(a, v, bar)
{
	atomic {
		bn < B ->
		b_addr[bn] = a;
		b_val[bn] = v;
		b_bar[bn] = (bar) && bn > 0;
		bn++;
		printf("MSC: pub issues mem[%d] = %d\n", a, v)
	}
}

active proctype publisher()
{
	byte S, slot;
	bit fence;	/* an smp_wmb() since the last store */

	do
	:: S < E ->
		slot = S % N;
		/* rc_slot_begin(): declare the intent to overwrite. */
#ifndef NO_BUSY
		store(A_STAMP(slot), (S + 1) | BUSY, 0);
#endif
		/* [A] smp_wmb(): later stores stay behind the BUSY stamp. */
#ifndef NO_WMB
		fence = 1;
#endif
		/* rc_copy_in() and the slot header: plain stores. */
		store(A_DATA(slot), S + 1, fence);
		fence = 0;
		/* [D] smp_store_release(&s->stamp, S + 1). */
		store(A_STAMP(slot), S + 1, 1);
		/* [E] smp_store_release(&hdr->head, S + 1). */
		store(A_HEAD, S + 1, 1);
		S++
	:: else -> break
	od
}

/*
 * rc_sub_lapped(): the slot of c holds event x > c.  Resume half a ring
 * behind the newest event known; a head that does not fit the slot is not
 * trusted.
 */
inline lapped()
{
	load(h, A_HEAD);	/* smp_load_acquire, pairs with [E] */
	d_step {
		printf("MSC: reader %d lapped at %d by %d, head %d\n", _pid, c, x, h);
		if
		:: h > x && h - x <= N -> top = h
		:: else -> top = x + 1
		fi;
		r = top - N / 2;
		assert(r > c);
#ifdef BAD_LOSS
		lost = lost + (x - c);
#else
		lost = lost + (r - c);
#endif
		c = r;
		h = 0; top = 0; r = 0; x = 0
	}
}

active [READERS] proctype reader()
{
	byte c, s1, s2, d, h, x, top, r, start, lost, delivered;

	/* RINGCAST_FROM_OLDEST before anything is overwritten, or FROM_NEWEST. */
	if
	:: skip
	:: load(c, A_HEAD)
	fi;
	start = c;
	do
	:: c >= E -> break
	:: else ->
		/* [B] s1 = smp_load_acquire(&s->stamp). */
		load(s1, A_STAMP(c % N));
		if
		:: s1 == c + 1 ->
#ifdef NO_RMB
			/* No [C]: the second stamp load may come first. */
			if
			:: load(d, A_DATA(c % N));
			   load(s2, A_STAMP(c % N))
			:: load(s2, A_STAMP(c % N));
			   load(d, A_DATA(c % N))
			fi;
#else
			load(d, A_DATA(c % N));
			/* [C] smp_rmb(), then s2 = READ_ONCE(s->stamp). */
			load(s2, A_STAMP(c % N));
#endif
#ifdef NO_RECHECK
			s2 = s1;
#endif
			if
			:: s2 == s1 ->
				d_step {
					/* Accepted: the record must be event c's. */
					printf("MSC: reader %d accepts %d: s1 %d payload %d s2 %d\n",
					       _pid, c, s1, d, s2);
					assert(d == c + 1);
					delivered++;
					c++;
					s1 = 0; s2 = 0; d = 0
				}
			:: else ->
				/* rc_sub_stamp(): a later event, never an earlier one. */
				d_step {
					x = s2 & (BUSY - 1);
					assert(x > c + 1);
					x--;
					s1 = 0; s2 = 0; d = 0
				};
				lapped()
			fi
		:: else ->
			x = s1 & (BUSY - 1);
			s1 = 0;
			if
			:: x == 0 || x - 1 <= c ->
				x = 0	/* -EAGAIN: not written yet */
			:: else ->
				x--;
				lapped()
			fi
		fi
	od;
	/* delivered + lost = published since its start. */
	assert(delivered + lost == E - start)
}
