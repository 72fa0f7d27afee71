/* SPDX-License-Identifier: MIT */
/*
 * Reliable gating on a multi-publisher ring: the shared limit as several
 * publishers store it, and a reliable subscriber joining against them
 * (docs/design.md §3; src/gate.c, gating table [H]/[J]/[K], rc_pub_scan's
 * multi-publisher branch, rc_pub_init_limit; src/publish.c, rc_mpub_claim;
 * src/sub_attach.c, rc_sub_join; src/table.c, rc_table_join, rc_table_leave).
 *
 * Two publishers share the ring; each attaches at any moment (reads the
 * head, then the shared limit, and clamps its private copy to head + N,
 * storing nothing), then claims K0 (K1) sequences one at a time.  A claim
 * reads the head c; when c + 1 is past what its last scan allowed, it
 * scans (rc_pub_scan with base c, want c + 1): lim = want + quarter, at
 * most base + N, at least its previous lim; a read-modify-write of the
 * shared limit to max(limit, lim), always, even when the limit is already
 * as high; smp_mb() [H]; table_gen, the reliable entries when it changed,
 * their cursors [K], and the other publisher's announced claim not yet
 * committed (claim_seq, claim_end: a claim is a cursor too, see below);
 * allowed = min(lim, lowest of those + N).  Without room it waits until
 * table_gen, the cursor or the announcement it saw changes and scans
 * again.  With room it announces the claim (claim_end, then claim_seq),
 * CASes the head from c to c + 1 (lost: it withdraws the announcement and
 * reads the head again), commits the slot, clears the announcement
 * (claim_seq = claim_end, release) and fences [F].  One reliable
 * subscriber joins at any moment wanting the oldest retained event: it
 * stores its cursor, claims its entry (CAS of the state), bumps table_gen
 * (seq-cst), fences [J], loads the limit L and starts at max(want, L -
 * N); it reads on, storing its cursor (release) after each event, and may
 * leave at any step (frees its entry, bumps table_gen).  Proves:
 *   - no promised event is overwritten: when a publisher starts writing
 *     sequence S, a joined subscriber whose first is at or below S - N
 *     has read S - N; and when the joiner fixes its first, nothing at or
 *     above it has been overwritten (issued, by either publisher);
 *   - a slot never goes back: no commit lands on a newer event;
 *   - the subscriber never sees a lap at its cursor;
 *   - nothing waits for ever (invalid end states otherwise).
 *
 * Memory: x86-TSO, as gate.pml: each process's plain stores enter its
 * own FIFO store buffer of 3, drained to memory by a separate process; a
 * load sees its own newest buffered store, else memory; smp_mb() and a
 * locked RMW (CAS, fetch_add, the limit's max) wait for the buffer to
 * empty, and a locked RMW is one step.  TSO cannot show issue 17's item
 * 5: on x86 a publisher that made no store of the limit before [H]
 * (the limit already as high) is still safe, because the other
 * publisher's store is visible to every CPU at once.  On a CPU that is
 * not multi-copy atomic (C11's model) it is not: the argument that the
 * joiner's [J] sees the limit rests on the publisher's own RMW of the
 * limit before its own [H], which this model performs but cannot prove
 * necessary.  That proof is the comment beside [H] in rc_pub_scan().
 *
 * Atomic steps, matching the C code: one load; one store entering or
 * leaving a buffer; one locked RMW.  A slot's write is its commit stamp
 * alone (the BUSY mark and the payload are seqlock.pml's: the subscriber
 * here takes only the committed stamp it waits for).  The quarter is 1
 * for N < 4 and N/4 otherwise.  K0 and K1 are the publishers' claims.
 *
 * The claim floor.  The design as issue 17 states it gives a claim room
 * by the limit and the reliable cursors alone.  Then a publisher that
 * claimed sequence S and has not committed it yet does not hold back
 * another publisher: that one may claim and commit S + N into the same
 * slot, and the late commit of S overwrites it (NO_CLAIM_FLOOR: a newer
 * event lost for every reader; a reliable subscriber whose floor is past
 * S waits for it for ever).  So the scan here also loads the other
 * publisher's announcement after [H] and counts claim_seq as a cursor
 * while claim_end > claim_seq: a claim announced before the scan's [H]
 * is seen (the announcement precedes the claim's CAS, a locked RMW), and
 * a claim made after it is at or above the head the scan read (its
 * base), while the scan allows nothing at or above base + N: it never
 * laps that claim.  A withdrawn or cleared announcement (claim_seq =
 * claim_end) holds nothing back.
 *
 * Not modelled: sleeping and waking (gate.pml, wake.pml: here a
 * publisher without room waits for a cursor or table_gen to change,
 * which is what a wake or its timer re-scan amounts to), deaths and
 * the reclaim that aborts a dead publisher's claim (multi.pml), demotion (demote.pml), the
 * joiner's clamp of its floor to the head (a limit is never more than a
 * ring ahead of the head: it only matters for a corrupted header), lossy
 * entries, takeover (mtakeover.pml).
 *
 * Not a mutant, the design as issue 17 states it:
 *   NO_CLAIM_FLOOR  the scan does not count the other publisher's claim
 *               not yet committed (see above)
 *
 * Mutants:
 *   ATTACH_LOWERS  the code before: a publisher attaching to a multi-
 *               publisher ring whose limit is more than a ring ahead of
 *               the head it read stores limit = that head + N, a plain
 *               store that can lower a limit the other publisher stored
 *               after its scan: the joiner starts too low
 *   PLAIN_LIMIT the scan stores its lim with a plain store (the single-
 *               publisher rule) instead of a max by RMW: a publisher whose
 *               scan is behind lowers the limit the same way
 */

#ifndef N
#define N 2
#endif
#ifndef K0
#define K0 2		/* claims of publisher 0 */
#endif
#ifndef K1
#define K1 2		/* claims of publisher 1 */
#endif
#if N >= 4
#define Q (N / 4)
#else
#define Q 1
#endif

#define TOTAL (K0 + K1)
#define BUSY 128
#define INF 255
#define FREE 0
#define RELIABLE 2

/* Shared memory. */
#define A_LIMIT		0
#define A_HEAD		1
#define A_GEN		2	/* table_gen */
#define A_CUR		3	/* the subscriber's entry: cursor */
#define A_STATE		4	/* and state */
#define A_CSEQ(p)	(5 + (p))	/* publisher p's claim_seq */
#define A_CEND(p)	(7 + (p))	/* and claim_end */
#define A_STAMP(s)	(9 + (s))
#define MEMSZ		(9 + N)
byte mem[MEMSZ];

/* Ghosts. */
byte phead;		/* the highest sequence whose write began, + 1 */
bit promised;
byte gfirst;
byte gread;		/* events below it read by the subscriber */
byte gslot[N];		/* the newest sequence written to slot i, + 1 */

/* Store buffers: publishers 0 and 1, the subscriber 2. */
#define B 3
typedef sbuf {
	byte a[B];
	byte v[B];
	byte n
};
sbuf sb[3];

inline drain(p)
{
	d_step {
		sb[p].n > 0 ->
		mem[sb[p].a[0]] = sb[p].v[0];
		sb[p].a[0] = sb[p].a[1]; sb[p].v[0] = sb[p].v[1];
		sb[p].a[1] = sb[p].a[2]; sb[p].v[1] = sb[p].v[2];
		sb[p].a[2] = 0; sb[p].v[2] = 0;
		sb[p].n--
	}
}

active proctype drainer()
{
end:
	do
	:: drain(0)
	:: drain(1)
	:: drain(2)
	od
}

inline store(p, addr, val)
{
	atomic {
		sb[p].n < B ->
		sb[p].a[sb[p].n] = addr;
		sb[p].v[sb[p].n] = val;
		sb[p].n++
	}
}

/* A load: the newest own buffered store to addr, else memory. */
inline load(p, addr, dst)
{
	atomic {
		dst = mem[addr];
		k = sb[p].n;
		do
		:: k > 0 ->
			k--;
			if
			:: sb[p].a[k] == addr ->
				dst = sb[p].v[k];
				break
			:: else
			fi
		:: else -> break
		od;
		k = 0
	}
}

#define MB(p)	(sb[p].n == 0)

/* rc_pub_scan(p, base, want): sets ok when want <= allowed. */
inline scan(p)
{
	lim = want + Q;
	if
	:: lim > base + N -> lim = base + N
	:: else
	fi;
	if
	:: lim < plimit -> lim = plimit
	:: else
	fi;
	plimit = lim;
#ifdef PLAIN_LIMIT
	store(p, A_LIMIT, lim);
#else
	/* The shared limit is the publishers' maximum: always an RMW. */
	atomic {
		MB(p) ->
		if
		:: mem[A_LIMIT] < lim -> mem[A_LIMIT] = lim
		:: else
		fi
	};
#endif
	/* [H] smp_mb() (a guard), then table_gen. */
	atomic { MB(p) -> load(p, A_GEN, gen) };
	if
	:: gen != gate_gen ->
		/* rc_pub_list_gates(). */
		gate_gen = gen;
		load(p, A_STATE, c);
		gated = (c == RELIABLE);
		c = 0
	:: else
	fi;
	low = INF;
	if
	:: gated -> load(p, A_CUR, low)		/* [K] */
	:: else
	fi;
	seencur = low;
#ifndef NO_CLAIM_FLOOR
	/* The other publisher's claim not yet committed is a cursor too. */
	load(p, A_CSEQ(1 - p), cs);
	load(p, A_CEND(1 - p), c);
	seencs = cs;
	if
	:: c > cs && cs < low -> low = cs
	:: else
	fi;
	cs = 0; c = 0;
#endif
	d_step {
		if
		:: low != INF && low + N < lim -> allowed = low + N
		:: else -> allowed = lim
		fi;
		ok = (want <= allowed);
		gen = 0
	}
}

proctype pub(byte p)
{
	byte plimit, allowed, gate_gen = INF, low, lim, base, want;
	byte h, c, e, gen, k, cs, seencur, seencs;
	bit ok, gated, won;

	/* ringcast_pub_attach(), multi-publisher: the head, then the limit. */
	load(p, A_HEAD, h);
	load(p, A_LIMIT, plimit);
	if
	:: plimit > h + N ->
		plimit = h + N;
#ifdef ATTACH_LOWERS
		store(p, A_LIMIT, plimit)
#endif
	:: else
	fi;
	h = 0;
	do
	:: e < (p == 0 -> K0 : K1) ->
		/* rc_mpub_claim(). */
		load(p, A_HEAD, c);
retry:
		if
		:: c + 1 > allowed ->
			base = c;
			want = c + 1;
			scan(p);
			do
			:: ok -> break
			:: else ->
				/* rc_pub_block(): until something moves. */
				(mem[A_GEN] != gate_gen ||
				 (gated && mem[A_CUR] != seencur)
#ifndef NO_CLAIM_FLOOR
				 || mem[A_CSEQ(1 - p)] != seencs
#endif
				);
				scan(p)
			od;
			load(p, A_HEAD, c);
			if
			:: c + 1 > allowed -> goto retry
			:: else
			fi
		:: else
		fi;
		/* The announcement: claim_end, then claim_seq (release). */
		h = c + 1;
		store(p, A_CEND(p), h);
		store(p, A_CSEQ(p), c);
		/* The CAS of the head: a locked RMW. */
		atomic {
			MB(p) ->
			if
			:: mem[A_HEAD] == c -> mem[A_HEAD] = c + 1; won = 1
			:: else -> c = mem[A_HEAD]; won = 0
			fi
		};
		if
		:: !won ->
			/* Withdrawn at once. */
			store(p, A_CSEQ(p), h);
			goto retry
		:: else
		fi;
		/*
		 * rc_slot_begin(), rc_slot_end(): nothing promised is
		 * overwritten.  Both stamps enter the buffer in one step.
		 */
		atomic {
			sb[p].n == 0 ->
			assert(!(promised && c >= N && gfirst <= c - N &&
				 gread <= c - N));
			/* A slot never goes back to an older event. */
			assert(gslot[c % N] <= c);
			gslot[c % N] = c + 1;
			if
			:: c + 1 > phead -> phead = c + 1
			:: else
			fi;
			sb[p].a[0] = A_STAMP(c % N);
			sb[p].v[0] = c + 1;
			sb[p].n = 1
		};
		/* rc_pub_advance(): clear the claim (release), [F] smp_mb(). */
		store(p, A_CSEQ(p), c + 1);
		MB(p);
		won = 0; base = 0; want = 0; h = 0;
		e++
	:: else -> break
	od
}

init
{
	atomic {
		run pub(0);
		run pub(1);
		run sub()
	}
}

proctype sub()
{
	byte desired, lim, first, c, s, k;
	bit got;

	/* rc_table_join() with the cursor at the oldest retained event. */
	load(2, A_HEAD, c);
	desired = (c > N -> c - N : 0);
	c = 0;
	store(2, A_CUR, desired);
	/* CAS(state, FREE, RELIABLE), release: a locked RMW. */
	atomic { MB(2) -> mem[A_STATE] = RELIABLE };
	atomic { MB(2) -> mem[A_GEN]++ };	/* seq-cst */
	/* rc_sub_join(): [J] smp_mb(), then the limit. */
	atomic { MB(2) -> load(2, A_LIMIT, lim) };
	d_step {
		first = desired;
		if
		:: lim > N && lim - N > first -> first = lim - N
		:: else
		fi;
		/* Nothing at or above first has been overwritten. */
		assert(phead <= first + N);
		promised = 1;
		gfirst = first;
		gread = first;
		lim = 0; desired = 0
	};
	store(2, A_CUR, first);
	c = first;
	do
	:: c >= TOTAL -> break
	:: c < TOTAL ->
		/*
		 * [B] the stamp at the cursor; when it is ours, the release
		 * store of the cursor enters the buffer in the same step.
		 */
		atomic {
			sb[2].n < B ->
			load(2, A_STAMP(c % N), s);
			if
			:: s == c + 1 ->
				got = 1;
				gread = c + 1;
				c++;
				s = 0;
				sb[2].a[sb[2].n] = A_CUR;
				sb[2].v[sb[2].n] = c;
				sb[2].n++
			:: else
			fi
		};
		if
		:: got -> got = 0
		:: else ->
			/* Never a later event: the publishers waited. */
			assert((s & (BUSY - 1)) <= c + 1);
			(mem[A_STAMP(c % N)] != s);
			s = 0
		fi
	:: break		/* leave early */
	od;
	/* rc_table_leave(): free the entry. */
	promised = 0;
	store(2, A_STATE, FREE);		/* release */
	atomic { MB(2) -> mem[A_GEN]++ }	/* seq-cst */
}
