/* SPDX-License-Identifier: MIT */
/*
 * Multi-publisher rings: claim, commit and abort (docs/design.md §3;
 * src/publish.c, rc_mpub_claim, rc_pub_advance's multi branch; src/pub.c,
 * ringcast_pub_detach; src/table.c, rc_table_publishers, rc_entry_reclaim,
 * rc_claim_abort, rc_live_claims, rc_table_leave; src/sub.c, rc_sub_try's
 * aborted-stamp skip; src/sub_wait.c, rc_sub_claimed, rc_sub_arrived).
 *
 * P publishers, on table entries 0..P-1, each make K claims of one
 * sequence (with BATCH, publisher 0 claims two at a time) in a ring of N
 * slots read by R reliable readers; at most DEATHS publishers die, at any
 * step (a death stops the process; the kernel drops its entry's lock).  A
 * publisher waits for room (every reader's cursor above c + n - N), stores
 * its announcement (claim_end, then claim_seq), CASes the head from c to
 * c + n, and on failure withdraws the announcement and retries from the
 * head the CAS returned; having won, it writes each slot (BUSY stamp,
 * data, commit stamp), then clears the announcement (claim_seq =
 * claim_end), and in the end detaches (frees its entry, then drops its
 * lock).  A reader at cursor c takes a committed stamp, skips an aborted
 * one, and otherwise, when the head is past c, waits for the stamp to
 * change; while an entry whose owner died is not yet freed, its hole
 * timer (RC_HOLE_NS) may fire instead, and it reclaims every dead
 * publisher entry, aborting their claims with rc_claim_abort().  A reader
 * stops once every publisher has detached or died and its cursor is at the
 * head.  Defaults: N = 2, P = 2, K = 2, R = 1, DEATHS = 1 (the ring laps,
 * so room is waited for).  Proves:
 *   - every sequence below the head is committed once or aborted once,
 *     never both: a commit never lands on an aborted slot (a reader may
 *     have skipped it), an abort never overwrites a committed stamp;
 *   - every reader takes each sequence below the final head exactly as it
 *     ended: committed ones read (none skipped), aborted ones skipped, so
 *     readers agree; each reads the event claimed at that sequence, and
 *     each publisher's events in the order it published them;
 *   - no reader waits for ever at a hole whose claimer died, and no
 *     publisher for room (invalid end states otherwise).
 *
 * Memory: sequentially consistent.  The protocol orders itself by
 * release/acquire pairs and seq-cst atomics that give exactly the orders
 * an SC interleaving has where they are used: the announcement (claim_end
 * relaxed, then claim_seq release) precedes the seq-cst CAS of the head,
 * and rc_claim_abort() loads the head (seq-cst; it reads from that CAS or
 * a later RMW of its release sequence) before it loads claim_seq
 * (acquire) then claim_end, so a claim it counts below the head comes with
 * its announcement; the clear (claim_seq release) follows the commits
 * (stamp release), and a reclaimer that reads the cleared claim_seq
 * (acquire) then loads the stamps (acquire); a dead owner's stores all
 * precede the kernel's release of its lock, which precedes the
 * reclaimer's lock and its loads; the abort's CAS and a commit's store are
 * on one location, ordered by coherence.  The stamp/data seqlock against
 * an overwriting writer is seqlock.pml's: here readers are reliable, so
 * nothing they still need is overwritten (asserted: a reader never sees a
 * later stamp).  Sleep and wake are wake.pml's: a waiting reader here
 * blocks until the stamp at its cursor changes (what rc_sub_arrived()
 * tests after FUTEX_WAIT), or its hole timer fires.
 *
 * Atomic steps, matching the C code: one load or store (the head, a
 * stamp, the data, claim_seq, claim_end, a cursor, an entry's state); the
 * CAS of the head and the CAS of a stamp (locked RMWs); an OFD lock taken
 * (rc_lock_try), probed (rc_lock_probe), dropped, or lost at death (kernel
 * operations).  Two pieces of the reclaimer are one step each: loading
 * the dead entry's own claim_seq and claim_end (its owner is dead and we
 * hold its lock: nobody writes them), and the scan for room, which looks
 * at every reader's cursor at once (cursors only grow, so a scan that
 * reads them one by one finds no more room than this one).  Not modelled:
 * a spurious failure of the weak CAS (a lost CAS, withdrawn the same
 * way), publishers joining later (rc_table_join reclaims as the timer
 * does), entries reused, lossy readers, the limit word and gating wakes
 * (gate.pml), the wake calls after a commit or an abort (wake.pml).
 *
 * Mutants:
 *   ANNOUNCE_AFTER  the claim is announced after the CAS of the head, not
 *                   before
 *   NO_LIVE     rc_claim_abort() does not leave the sequences that a live
 *               publisher's announcement covers
 *   NO_HEAD     rc_claim_abort() does not stop at the head (aborts
 *               announced sequences nobody claimed yet)
 *   CLEAR_FIRST the announcement is cleared before the commits
 *   NO_HOLE_WAIT  a reader that finds the head past its cursor and the slot
 *               not committed skips it as a hole at once, without waiting
 *               for its claimer to commit or to be found dead
 *
 * Not a mutant, the code as it is:
 *   DETACH_RESERVED  a publisher holding a reservation (ringcast_pub_
 *               reserve(), its BUSY stamp written) detaches or closes
 *               before ringcast_pub_commit(): rc_table_leave() frees its
 *               entry without aborting the claim, so no reclaim ever finds
 *               it, and readers wait at the hole for ever.
 */

#ifndef N
#define N 2
#endif
#ifndef P
#define P 2
#endif
#ifndef K
#define K 2
#endif
#ifndef R
#define R 1
#endif
#ifndef DEATHS
#define DEATHS 1
#endif

#ifdef BATCH
#define NCLAIM(p) ((p) == 0 -> 2 : 1)
#define TOTAL (P * K + K)
#else
#define NCLAIM(p) 1
#define TOTAL (P * K)
#endif

#define BUSY 128
#define ABORTED 64
#define SEQ(st) ((st) & 63)	/* S + 1, without the flags */
/* Event e (from 0) of publisher p, as its slot's data says. */
#define TAG(p, e) ((p) * 16 + (e) + 1)

#if R == 1
#define MINC cursor[0]
#else
#define MINC (cursor[0] < cursor[1] -> cursor[0] : cursor[1])
#endif

/* Shared memory. */
byte head;
byte stamp[N];
byte data[N];
byte cursor[R];
byte claim_seq[P], claim_end[P];
bit used[P] = 1;	/* entry state: PUBLISHER (1) or FREE (0) */
bit lock[P] = 1;	/* entry lock held: by its owner, or by a reclaimer */

/* Ghosts. */
byte gst[TOTAL];	/* 0 undecided, 1 committed, 2 aborted */
byte gtag[TOTAL];	/* the event claimed at each sequence */
byte rd[R * TOTAL];	/* how reader r took sequence s: 1 read, 2 skipped */
byte deaths;
byte gone;		/* publishers detached or dead */

/* A death may come after any step. */
#define DIE \
	if \
	:: skip \
	:: atomic { deaths < DEATHS -> deaths++ }; goto die \
	fi

active [P] proctype pub()
{
	byte p = _pid, n = NCLAIM(_pid), e, c, s;
	bit won;

	do
	:: e < K * n ->
		/* rc_mpub_claim(). */
		c = head;
		DIE;
retry:
		/* Room (rc_pub_scan, rc_pub_block): a wait, or death in it. */
		if
		:: c + n <= MINC + N
		:: atomic { deaths < DEATHS -> deaths++ }; goto die
		fi;
#ifndef ANNOUNCE_AFTER
		claim_end[p] = c + n;
		DIE;
		claim_seq[p] = c;
		DIE;
#endif
		atomic {
			if
			:: head == c ->
				head = c + n;
				s = 0;
				do
				:: s < n -> gtag[c + s] = TAG(p, e + s); s++
				:: else -> break
				od;
				won = 1
			:: else ->
				c = head;
				won = 0
			fi
		};
		DIE;
		if
		:: !won ->
#ifndef ANNOUNCE_AFTER
			/* Withdrawn at once. */
			claim_seq[p] = claim_end[p];
			DIE;
#endif
			goto retry
		:: else
		fi;
#ifdef ANNOUNCE_AFTER
		claim_end[p] = c + n;
		DIE;
		claim_seq[p] = c;
		DIE;
#endif
#ifdef CLEAR_FIRST
		claim_seq[p] = c + n;
		DIE;
#endif
		/* rc_slot_begin(), the payload, rc_slot_end(). */
		s = c;
		do
		:: s < c + n ->
			stamp[s % N] = (s + 1) | BUSY;
#ifdef DETACH_RESERVED
			/* ringcast_pub_detach() with the slot reserved. */
			if
			:: skip
			:: goto leave
			fi;
#endif
			DIE;
			data[s % N] = gtag[s];
			DIE;
			d_step {
				/* Never committed twice, never over an abort. */
				assert(gst[s] == 0);
				gst[s] = 1;
				stamp[s % N] = s + 1
			};
			DIE;
			s++
		:: else -> break
		od;
		/* rc_pub_advance(): the claim is committed, clear it. */
#ifndef CLEAR_FIRST
		claim_seq[p] = c + n;
		DIE;
#endif
		e = e + n
	:: else -> break
	od;
leave:
	/* rc_table_leave(): free the entry, then drop its lock. */
	used[p] = 0;
	atomic { lock[p] = 0; gone++ };
	goto end;
die:
	/* The kernel drops a dead process's locks. */
	atomic { lock[p] = 0; gone++ };
end:
	skip
}

/*
 * rc_table_publishers(): rc_entry_reclaim() of every publisher entry, with
 * rc_claim_abort() and rc_live_claims() inline.
 */
inline reclaim()
{
	i = 0;
	do
	:: i < P ->
		if
		:: used[i] ->
			/* rc_lock_try(): -EBUSY while its owner lives. */
			atomic {
				if
				:: !lock[i] -> lock[i] = 1; got = 1
				:: else -> got = 0
				fi
			};
			if
			:: got && used[i] ->
				/* rc_claim_abort(i). */
				done = 1;
				d_step { aseq = claim_seq[i]; aend = claim_end[i] };
				if
				:: aend <= aseq || aend - aseq > N -> goto out
				:: else
				fi;
				h = head;
				/* rc_live_claims(). */
				nl = 0;
#ifndef NO_LIVE
				j = 0;
				do
				:: j < P ->
					if
					:: j != i && used[j] ->
						ls = claim_seq[j];
						le = claim_end[j];
						if
						:: le > ls && lock[j] ->
							lseq[nl] = ls;
							lend[nl] = le;
							nl++
						:: else	/* none, or dead */
						fi
					:: else
					fi;
					j++
				:: else -> break
				od;
#endif
				do
#ifdef NO_HEAD
				:: aseq < aend ->
#else
				:: aseq < aend && aseq < h ->
#endif
					d_step {
						covered = 0;
						j = 0;
						do
						:: j < nl ->
							if
							:: aseq >= lseq[j] && aseq < lend[j] ->
								covered = 1
							:: else
							fi;
							j++
						:: else -> break
						od;
						j = 0
					};
					if
					:: covered -> done = 0
					:: else ->
						st = stamp[aseq % N];
						if
						:: st == aseq + 1 || SEQ(st) > aseq + 1 ||
						   st == ((aseq + 1) | ABORTED)
						:: else ->
							atomic {
								if
								:: stamp[aseq % N] == st ->
									/* Never over a commit. */
									assert(gst[aseq] == 0);
									gst[aseq] = 2;
									stamp[aseq % N] = (aseq + 1) | ABORTED
								:: else
								fi
							}
						fi
					fi;
					aseq++
				:: else -> break
				od;
				if
				:: done ->
out:
					claim_seq[i] = aend;
					/* rc_entry_free(). */
					used[i] = 0
				:: else
				fi;
				lock[i] = 0
			:: got && !used[i] -> lock[i] = 0
			:: else
			fi
		:: else
		fi;
		d_step {
			i++;
			got = 0; done = 0; aseq = 0; aend = 0; h = 0; nl = 0;
			ls = 0; le = 0; st = 0; covered = 0;
			lseq[0] = 0; lend[0] = 0;
#if P > 2
			lseq[1] = 0; lend[1] = 0;
#endif
		}
	:: else -> break
	od;
	i = 0
}

/* A dead owner's entry not yet freed (and not being reclaimed). */
#if P == 2
#define DEAD_ENTRY ((used[0] && !lock[0]) || (used[1] && !lock[1]))
#else
#define DEAD_ENTRY ((used[0] && !lock[0]) || (used[1] && !lock[1]) || \
		    (used[2] && !lock[2]))
#endif

active [R] proctype reader()
{
	byte r = _pid - P, c, s, t, last[P];
	/* The reclaimer's. */
	byte i, j, aseq, aend, h, nl, ls, le, st, lseq[P - 1], lend[P - 1];
	bit got, done, covered;

	do
	:: s = stamp[c % N];
		/* A reliable reader is never lapped. */
		assert(SEQ(s) <= c + 1);
		if
		:: s == c + 1 ->
			t = data[c % N];
			d_step {
				/* The event claimed here; its publisher's order. */
				assert(t == gtag[c]);
				assert((t - 1) % 16 >= last[(t - 1) / 16]);
				last[(t - 1) / 16] = (t - 1) % 16 + 1;
				rd[r * TOTAL + c] = 1;
				c++;
				s = 0; t = 0
			};
			cursor[r] = c
		:: s == ((c + 1) | ABORTED) ->
			/* A dead publisher's hole. */
			d_step { rd[r * TOTAL + c] = 2; c++; s = 0 };
			cursor[r] = c
		:: else ->
			/* rc_sub_claimed(). */
			h = head;
			if
			:: h > c ->
				h = 0;
#ifdef NO_HOLE_WAIT
				d_step { rd[r * TOTAL + c] = 2; c++; s = 0 };
				cursor[r] = c
#else
				/* Wait for the stamp, or the hole timer. */
				if
				:: stamp[c % N] != s -> s = 0
				:: DEAD_ENTRY -> s = 0; reclaim()
				fi
#endif
			:: else ->
				/* Nothing claimed at c: a claim, or the end. */
				h = 0; s = 0;
				if
				:: head > c
				:: gone == P && head <= c -> break
				fi
			fi
		fi
	od;
	/* Every sequence below the head, taken as it ended. */
	atomic {
		i = 0;
		do
		:: i < head ->
			assert(gst[i] != 0 && rd[r * TOTAL + i] == gst[i]);
			i++
		:: else -> break
		od
	}
}
