/* SPDX-License-Identifier: MIT */
/*
 * The data area and lossy readers: the declared intent and the lap check
 * (docs/design.md §8; src/publish.c, data table [A'], rc_data_intent,
 * rc_data_put, rc_data_room; src/pub.h, rc_data_place; src/gate.c,
 * rc_pub_droom, rc_pub_walk; src/sub.c, rc_spill_at, rc_spill_check,
 * rc_sub_data_lapped, rc_sub_lapped).
 *
 * A publisher writes E spilled events into a ring of N slots and a data
 * area of D units (a unit stands for RC_REC_ALIGN bytes).  Each event has
 * a footprint of 1 or 2 units, chosen at each publish, and is one record
 * at a free-running position: one that would cross the end of the data
 * area starts at the next lap, after a FILL record over the rest of the
 * lap.  Its slot holds the descriptor (position, footprint).  READERS
 * lossy readers start at sequence 0 or at the head they sample.  Proves:
 *   - a reader never accepts a torn or foreign copy: every data unit of an
 *     event it accepts holds that event's own mark, so no unit of a later
 *     record (or FILL) written during or before its copy, and the
 *     descriptor is the event's own;
 *   - a confirmed descriptor is never reported corrupted: it lies inside
 *     the data area (rc_spill_at) and below the intent read after it
 *     (rc_spill_check's "record past the data area's intent");
 *   - a lap, of the slots or of the data area, always moves the cursor
 *     forward, and the loss count is exact: delivered + lost = E - start;
 *   - the publisher destroys the data of no event at or above its dfloor
 *     (rc_pub_walk: the floor a lossy lap resumes from and a reliable
 *     joiner starts at; dgate.pml proves the joiner's side).
 *
 * Memory: as seqlock.pml, a multi-copy-atomic CPU with ARMv8's freedoms.
 * The publisher's stores enter a buffer of B and reach memory in any
 * order (a separate drainer process) except that a store never passes an
 * earlier one to the same location, a store issued after smp_wmb() ([A'],
 * [A]) never passes one issued before it, and a release store ([D], [E])
 * never passes any earlier store; smp_mb() [H] waits for the buffer to
 * empty.  A reader's loads are performed in program order: after the
 * acquire [B] of the stamp, and with smp_rmb() [C] between the copy and
 * the loads of the stamp and the intent that judge it.
 *
 * Atomic steps, each matching one access of the C code: a store entering
 * the buffer; a store leaving it; one load by a reader, with the local
 * computation after it.  A data unit holds S + 1 for a unit of event S's
 * record, FILL | (S + 1) for one of the FILL record before it: a copy is
 * torn iff one of its units is not c + 1.  The descriptor (position and
 * length, two fields in the C code) is one word here: a torn pair is
 * caught by the stamp re-check exactly as a torn word is (seqlock.pml).
 * The publisher's walk reads its own records; here it reads its private
 * copy of them (what it stored, so what it would read back).
 *
 * Simplified: every event is spilled (inline events are seqlock.pml's);
 * footprints of 2 units in a data area of 4 are half of it, where the code
 * allows a quarter (max_event = D / 4): the check does not depend on the
 * bound, and a FILL then comes in 4 events.  No reliable subscriber: the
 * walk's floor is stored, the scan finds no cursor (dgate.pml).
 *
 * Mutants (each must make Spin report a violation):
 *   INTENT_AFTER_DATA  the intent is stored after the data units, not
 *                      before them
 *   NO_INTENT_CHECK    the reader accepts on an unchanged stamp alone
 *   INTENT_CHECK_BEFORE_COPY  the intent is loaded before the copy, not
 *                      after [C]
 *   OFF_BY_LAP         the lap test is off by one unit: accept while the
 *                      intent is at most a lap and one unit past the record
 *   MASKED             the lap test on masked offsets, which cannot tell a
 *                      lap: lapped only while the intent lies inside the
 *                      record a lap later ((I - pos) mod D < footprint); a
 *                      writer that has passed the record whole goes unseen
 */

#ifndef N
#define N 2		/* slots */
#endif
#ifndef D
#define D 4		/* units of data area */
#endif
#ifndef E
#define E 4		/* events published */
#endif
#ifndef READERS
#define READERS 1
#endif
#ifndef B
#define B 4		/* the publisher's store buffer */
#endif

#define Q (D / 4)	/* a quarter of the data area */
#define BUSY 128	/* RC_STAMP_BUSY, scaled down */
#define FILL 64		/* a unit of a FILL record */

/* Shared memory. */
#define A_STAMP(s)	(s)
#define A_DESC(s)	(N + (s))
#define A_DATA(x)	(2 * N + (x))
#define A_INTENT	(2 * N + D)
#define A_HEAD		(2 * N + D + 1)
#define A_FLOOR		(2 * N + D + 2)
#define MEMSZ		(2 * N + D + 3)
byte mem[MEMSZ];

/* Ghost: own[x] = S + 1 when unit x (masked) holds event S's data. */
byte own[D];

/*
 * The publisher's store buffer, in issue order.  b_bar[i]: a fence (or
 * the release of entry i itself) orders entry i after every earlier one.
 */
byte b_addr[B];
byte b_val[B];
bit b_bar[B];
byte bn;

/* Entry i may pass entry j < i. */
#define PASS(j, i) ((i) <= (j) || (!b_bar[(j) + 1] && b_addr[j] != b_addr[i]))
#define CAN(i) (bn > (i) && PASS(0, i) && PASS(1, i) && PASS(2, i) && \
		PASS(3, i) && PASS(4, i))

inline drain(i)
{
	d_step {
		CAN(i) ->
		k = i;
		mem[b_addr[k]] = b_val[k];
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

active proctype drainer()
{
	byte k;
end:
	do
	:: drain(0)
	:: drain(1)
	:: drain(2)
	:: drain(3)
#if B > 4
	:: drain(4)
#endif
#if B > 5
	:: drain(5)
#endif
	od
}

/* A store enters the buffer; bar: ordered after every earlier store. */
inline store(a, v, bar)
{
	atomic {
		bn < B ->
		b_addr[bn] = a;
		b_val[bn] = v;
		b_bar[bn] = (bar) && bn > 0;
		bn++
	}
}

/* A data unit of event S (or of its FILL) at position x. */
inline put(x, v)
{
	/* Nothing at or above the floor is destroyed. */
	assert(own[(x) % D] == 0 || own[(x) % D] - 1 < dfl);
	own[(x) % D] = ((v) & FILL -> 0 : (v));
	store(A_DATA((x) % D), v, fence);
	fence = 0
}

active proctype publisher()
{
	byte S, f, at, q, dhead, dallowed, need, b, wpos, wseq, wk, dfl, x;
	byte rpos[E];
	byte rlen[E];
	bit fence;

	do
	:: S < E ->
		if
		:: f = 1
		:: f = 2
		fi;
		d_step {
			/* rc_data_place(): a record never wraps. */
			at = dhead;
			if
			:: (dhead % D) + f > D -> at = dhead + D - dhead % D
			:: else
			fi;
			q = at + f;
			/* rc_pub_droom(): room below q. */
			if
			:: q > dallowed ->
				need = (q > D -> q - D : 0);
				b = (need + Q - 1) / Q * Q;
				/* rc_pub_walk(): the records below b. */
				do
				:: wpos < b && wpos < dhead ->
					if
					:: rpos[wk] == wpos ->
						wseq = wk + 1;
						wpos = wpos + rlen[wk];
						wk++
					:: else ->
						wpos = rpos[wk]	/* a FILL */
					fi
				:: else -> break
				od;
				dallowed = b + D
			:: else -> need = 0
			fi
		};
		/* rc_pub_scan(): the floor, then [H]; no cursor to read. */
		if
		:: need && wseq > dfl ->
			dfl = wseq;
			store(A_FLOOR, dfl, 0);
			bn == 0
		:: else
		fi;
		need = 0; b = 0;
#ifndef INTENT_AFTER_DATA
		/* rc_data_intent(): store(dintent, q); smp_wmb() [A']. */
		store(A_INTENT, q, 0);
		fence = 1;
#endif
		/* rc_slot_begin(): the BUSY stamp; smp_wmb() [A]. */
		store(A_STAMP(S % N), (S + 1) | BUSY, fence);
		fence = 1;
		/* rc_data_put(): FILL, record; the descriptor. */
		x = dhead;
		do
		:: x < at -> put(x, FILL | (S + 1)); x++
		:: x >= at && x < q -> put(x, S + 1); x++
		:: else -> break
		od;
		x = 0;
#ifdef INTENT_AFTER_DATA
		store(A_INTENT, q, 0);
#endif
		store(A_DESC(S % N), at * 4 + f, fence);
		fence = 0;
		/* [D] the stamp, [E] the head: release. */
		store(A_STAMP(S % N), S + 1, 1);
		store(A_HEAD, S + 1, 1);
		d_step {
			rpos[S] = at;
			rlen[S] = f;
			dhead = q;
			S++;
			f = 0; at = 0; q = 0
		}
	:: else -> break
	od
}

inline load(dst, a)
{
	atomic {
		dst = mem[a];
		printf("MSC: reader %d loads mem[%d] = %d\n", _pid, a, dst)
	}
}

/* rc_sub_lapped(): the slot of c holds event x > c. */
inline lapped()
{
	load(h, A_HEAD);	/* smp_load_acquire, pairs with [E] */
	d_step {
		if
		:: h > x && h - x <= N -> top = h
		:: else -> top = x + 1
		fi;
		r = top - N / 2;
		assert(r > c);
		lost = lost + (r - c);
		c = r;
		h = 0; top = 0; r = 0; x = 0
	}
}

/* rc_sub_data_lapped(): event c's data was overwritten while read. */
inline data_lapped()
{
	load(h, A_HEAD);	/* smp_load_acquire, pairs with [E] */
	load(fl, A_FLOOR);
	d_step {
		printf("MSC: reader %d: data of %d lapped (intent %d, pos %d)\n",
		       _pid, c, in, at);
		if
		:: fl > h -> fl = h
		:: else
		fi;
		r = fl + (h - fl) / 2;
		if
		:: h > N / 2 && r < h - N / 2 -> r = h - N / 2
		:: else
		fi;
		if
		:: r <= c -> r = c + 1
		:: else
		fi;
		assert(r > c && r <= E);
		lost = lost + (r - c);
		c = r;
		h = 0; fl = 0; r = 0
	}
}

active [READERS] proctype reader()
{
	byte c, s1, s2, d, at, f, u0, u1, in, h, fl, x, top, r, start;
	byte lost, delivered;
	bit ok;

	/* RINGCAST_FROM_OLDEST before anything is overwritten, or NEWEST. */
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
			load(d, A_DESC(c % N));
			d_step {
				at = d / 4;
				f = d % 4;
				/* rc_spill_at(): inside the data area. */
				ok = (f >= 1 && f <= 2 && at % D + f <= D);
				d = 0
			};
#ifdef INTENT_CHECK_BEFORE_COPY
			load(in, A_INTENT);
#endif
			/* rc_copy_out(). */
			if
			:: ok ->
				load(u0, A_DATA(at % D));
				if
				:: f == 2 -> load(u1, A_DATA(at % D + 1))
				:: else
				fi
			:: else
			fi;
			/* [C] smp_rmb(); s2 = READ_ONCE(s->stamp). */
			load(s2, A_STAMP(c % N));
			if
			:: s2 == s1 ->
				/* A confirmed descriptor is the event's own. */
				assert(ok);
#ifndef INTENT_CHECK_BEFORE_COPY
				/* rc_spill_check(): I = READ_ONCE(dintent). */
				load(in, A_INTENT);
#endif
				assert(at <= in && in - at >= f);
#if defined(NO_INTENT_CHECK)
				if
				:: false -> skip
#elif defined(OFF_BY_LAP)
				if
				:: in - at > D + 1 ->
#elif defined(MASKED)
				if
				:: (in - at) % D < f ->
#else
				if
				:: in - at > D ->
#endif
					data_lapped()
				:: else ->
					d_step {
						/* Accepted: event c's units. */
						printf("MSC: reader %d accepts %d at %d: %d %d\n",
						       _pid, c, at, u0, u1);
						assert(u0 == c + 1 &&
						       (f == 1 || u1 == c + 1));
						delivered++;
						c++
					}
				fi
			:: else ->
				/* rc_stamp_later(): a later event, never older. */
				d_step {
					x = s2 & (BUSY - 1);
					assert(x > c + 1);
					x--
				};
				lapped()
			fi;
			d_step {
				s1 = 0; s2 = 0; at = 0; f = 0; u0 = 0; u1 = 0;
				in = 0; ok = 0
			}
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
