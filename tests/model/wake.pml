/* SPDX-License-Identifier: MIT */
/*
 * Sleep and wake: the interest bitmap and the wake_seq futex word (docs/design.md
 * §4; src/publish.c, wake table [F]/[G], rc_pub_advance; src/sub_wait.c,
 * rc_sub_sleep; src/wait.c, rc_wake_seq).
 *
 * Proves, for E events of nondeterministic types published to READERS
 * readers (reader 0 and 2 unfiltered, on the any-type bucket; reader 1
 * filtered to type 0, on that type's bucket):
 *   - no lost wake-up: when nothing can move any more, no reader sleeps
 *     while an event it wants is unread (checked by a monitor at Spin's
 *     timeout; a sleeping reader is otherwise a valid end state, since a
 *     filtered reader rightly sleeps through events of other types);
 *   - one wake per sleep episode: the publisher calls FUTEX_WAKE only for
 *     buckets in which a reader made a sleep attempt (its fetch_or) that no
 *     earlier wake call served; so a publisher whose readers never sleep
 *     makes no wake call.  (An attempt that finds an event on its re-check
 *     leaves its bit set: that costs at most one wake call, by design.)
 *
 * Memory: x86-TSO.  Every process's plain stores go through its own FIFO
 * store buffer (only the publisher makes plain stores here: the stamps and
 * the head); a load sees memory (no process here loads a location it has
 * buffered stores to); smp_mb() waits until the buffer is empty; a locked
 * read-modify-write (fetch_or, fetch_and, fetch_add) empties the buffer
 * first and is one atomic step on memory.  On x86 the reader's fetch_or is
 * already a full barrier, so the smp_mb() [G] after it orders nothing more
 * there; what it forbids elsewhere (C11 lets a later non-seq-cst load be
 * satisfied before a seq-cst RMW's store is visible) is modelled by the
 * NO_G mutant hoisting the head load above the fetch_or.
 *
 * Atomic steps, each matching the C code:
 *   - a plain store entering the buffer; a store leaving it (the drainer);
 *   - one load (READ_ONCE/smp_load_acquire/atomic_load);
 *   - one locked RMW (atomic_fetch_or/_and/_add);
 *   - FUTEX_WAIT_BITSET's compare-and-enqueue (atomic in the kernel, under
 *     the futex hash-bucket lock: it returns at once if *word != val);
 *   - FUTEX_WAKE_BITSET, waking every waiter whose bitset meets its bits.
 * Waits have no timeout: the liveness timer is absent, so the handshake
 * alone must wake every sleeper.  Events are read from a per-sequence
 * stamp (the ring never laps here: laps are seqlock.pml's).
 *
 * Mutants:
 *   NO_F        smp_mb() [F] removed: the publisher reads wake_bits while its
 *               head store is still in its store buffer
 *   NO_G        smp_mb() [G] removed: the sleeper's head load is satisfied
 *               before its fetch_or is visible
 *   G_AFTER     the sleeper reads wake_seq after its fetch_or, not before
 *   WAIT_BITS   sleepers wait on the bitmap itself (on the value their
 *               fetch_or made), not on wake_seq; run with SAME_BUCKET
 *               (every reader unfiltered): two sleepers of one bucket
 *   NO_CLEAR    the publisher wakes without clearing the bits (a flag left
 *               set until the sleeper runs)
 *   ALWAYS_WAKE the publisher calls FUTEX_WAKE whether or not a bit is set
 */

#ifndef E
#define E 3
#endif
#ifndef READERS
#define READERS 2
#endif

#define ANY 4			/* RC_WAKE_ANY */
#define TBIT(t) (1 << (t))	/* rc_type_bit(): types 0 and 1 */

/* Shared memory. */
#define A_HEAD E		/* stamps of events 0..E-1, then the head */
byte mem[E + 1];		/* stamp: 0, or 1 + the event's type */
byte wake_bits;
byte wake_seq;
byte waiting[READERS];		/* FUTEX_WAIT_BITSET waiter: its bits, or 0 */

/* Ghosts for the properties. */
byte etype[E];
byte cur[READERS];
byte unserved;	/* buckets of sleep attempts no wake call served yet */

/* The publisher's FIFO store buffer. */
#define B 2
byte b_addr[B];
byte b_val[B];
byte bn;

active proctype drainer()
{
end:
	do
	:: d_step {
		bn > 0 ->
		mem[b_addr[0]] = b_val[0];
		printf("MSC: mem[%d] = %d (stamps, head at %d)\n",
		       b_addr[0], b_val[0], A_HEAD);
		b_addr[0] = b_addr[1];
		b_val[0] = b_val[1];
		b_addr[1] = 0;
		b_val[1] = 0;
		bn--
	   }
	od
}

inline store(a, v)
{
	atomic {
		bn < B ->
		b_addr[bn] = a;
		b_val[bn] = v;
		bn++
	}
}

/* FUTEX_WAKE_BITSET(word, bits). */
inline futex_wake(wb)
{
	d_step {
		printf("MSC: FUTEX_WAKE bits %d\n", wb);
		/* Only for bits of sleep attempts no earlier wake served. */
		assert((wb) != 0 && taken);
		taken = 0;
		i = 0;
		do
		:: i < READERS ->
			if
			:: waiting[i] & (wb) -> waiting[i] = 0
			:: else
			fi;
			i++
		:: else -> break
		od;
		i = 0
	}
}

active proctype publisher()
{
	byte S, t, w, old, bits, i;
	bit taken;	/* ghost: the bits cleared came from unserved attempts */

	do
	:: S < E ->
		if
		:: t = 0
		:: t = 1
		fi;
		etype[S] = t;
		/* [D] store_release(stamp), [E] store_release(head). */
		store(S, t + 1);
		store(A_HEAD, S + 1);
		/* [F] smp_mb(). */
#ifndef NO_F
		bn == 0;
#endif
		bits = TBIT(t) | ANY;
		w = wake_bits;
		printf("MSC: publisher reads wake_bits = %d\n", w);
#ifdef ALWAYS_WAKE
		taken = ((bits & unserved) == bits);
		futex_wake(bits);
#endif
		if
		:: w & bits ->
			/*
			 * old = atomic_fetch_and(&wake_bits, ~bits).  The
			 * ghost: the bits it takes must come from sleep
			 * attempts no earlier clear took.
			 */
			atomic {
				bn == 0 ->
				old = wake_bits;
#ifndef NO_CLEAR
				wake_bits = wake_bits & ~bits;
#endif
				taken = ((old & bits & unserved) == (old & bits));
				unserved = unserved & ~bits
			};
			if
			:: old & bits ->
				/* rc_wake_seq(): increment, then FUTEX_WAKE. */
#ifdef WAIT_BITS
				futex_wake(old & bits)
#else
				atomic { bn == 0 -> wake_seq++ };
				futex_wake(old & bits)
#endif
			:: else
			fi
		:: else
		fi;
		S++;
		w = 0; old = 0; bits = 0; t = 0
	:: else -> break
	od
}

active [READERS] proctype reader()
{
	byte me = _pid - 2;	/* drainer and publisher come first */
	byte mine, s, g, h;

#ifdef SAME_BUCKET
	mine = ANY;
#else
	mine = (me == 1 -> TBIT(0) : ANY);
#endif
	do
	:: cur[me] >= E -> break
	:: else ->
		/* rc_sub_try(): [B] the stamp of the event at the cursor. */
		s = mem[cur[me]];
		if
		:: s != 0 ->
			/* Delivered, or skipped by the filter. */
			cur[me]++;
			s = 0
		:: else ->
			/* rc_sub_sleep(). */
#ifdef NO_G
			atomic {
				h = mem[A_HEAD];
				printf("MSC: reader %d loads head = %d early\n", me, h)
			};
#endif
#ifndef G_AFTER
			g = wake_seq;	/* seq-cst, before the fetch_or */
#endif
			/* atomic_fetch_or(&wake_bits, mine); counted. */
			d_step {
#ifdef WAIT_BITS
				g = wake_bits | mine;	/* the value it will wait on */
#endif
				wake_bits = wake_bits | mine;
				unserved = unserved | mine;
				printf("MSC: reader %d sets bits %d at cursor %d\n",
				       me, mine, cur[me])
			};
#ifdef G_AFTER
			g = wake_seq;
#endif
			/* [G] smp_mb(), then the re-check of the head. */
#ifndef NO_G
			atomic {
				h = mem[A_HEAD];
				printf("MSC: reader %d re-checks head = %d\n", me, h)
			};
#endif
			if
			:: h > cur[me] -> skip
			:: else ->
				/* FUTEX_WAIT_BITSET(word, g, mine). */
				if
#ifdef WAIT_BITS
				:: atomic { wake_bits == g ->
#else
				:: atomic { wake_seq == g ->
#endif
					waiting[me] = mine;
					printf("MSC: reader %d sleeps at cursor %d\n",
					       me, cur[me])
				   };
end_sleep:
					waiting[me] == 0
				:: else ->
					printf("MSC: reader %d: word changed, no sleep\n", me)
				fi
			fi;
			s = 0; g = 0; h = 0
		fi
	od
}

/* Once nothing can move: no sleeper has a wanted event unread. */
active proctype monitor()
{
	byte i, c;

	timeout ->
	d_step {
		i = 0;
		do
		:: i < READERS ->
			if
			:: waiting[i] ->
				c = cur[i];
				do
				:: c < E ->
					assert(i == 1 && etype[c] != 0);
					c++
				:: else -> break
				od
			:: else
			fi;
			i++
		:: else -> break
		od
	}
}
