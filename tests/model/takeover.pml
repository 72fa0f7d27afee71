/* SPDX-License-Identifier: MIT */
/*
 * Takeover: a publisher dies at any point of a publish; a new one finds
 * the head, sets a new epoch and goes on; subscribers drain, then end or
 * follow (docs/design.md §2; src/pub.c, ringcast_pub_attach, rc_pub_find_head,
 * rc_pub_record_end; src/sub.c, rc_sub_try, rc_sub_epoch, rc_sub_end_code;
 * src/sub_wait.c, rc_sub_idle; src/lease.c, rc_check_abandoned).
 *
 * Publisher 1 (epoch 1) publishes up to E1 events and may die at any step:
 * after the BUSY stamp, after the commit (stamp release) but before the
 * head store, or between events.  Publisher 2 takes the lease once it is
 * free, finds the head, records how epoch 1 ended, stores the head and
 * CASes the life word to epoch 2 (retrying if a subscriber marked the
 * ring abandoned meanwhile), then publishes E2 events.  Subscriber 0 does
 * not resubscribe; subscriber 1 does.  Both start at 0 in epoch 1.
 * Proves:
 *   - nothing committed is skipped and no hole is left: publisher 2 starts
 *     exactly after the last event publisher 1 committed;
 *   - subscriber 0 delivers every event publisher 1 committed, never one
 *     of epoch 2, then gets "publisher died" (never end of stream);
 *   - subscriber 1 delivers every sequence once, in order, each from the
 *     epoch that committed it last, through the end of epoch 2.
 *
 * Memory: sequentially consistent.  Publisher 2 starts only after the
 * kernel released publisher 1's lease, i.e. after publisher 1's process
 * is gone: every store it executed is visible by then, so the handover
 * itself needs no weaker model.  The readers' seqlock against a live
 * writer is seqlock.pml's; here N >= E1 + E2, so nothing laps.  Each load,
 * store and CAS is one step.
 *
 * Mutants:
 *   NO_SCAN     the new publisher starts at hdr->head without scanning the
 *               stamps forward (misses a commit whose head store was lost)
 *   SCAN_BUSY   the scan takes a BUSY stamp for a commit (a hole)
 *   NO_EPOCH    the reader does not compare the slot's epoch with its own
 *   NO_DRAIN    a reader that sees a new epoch in the life word returns its
 *               end code without draining what its epoch committed
 */

#ifndef N
#define N 4
#endif
#ifndef E1
#define E1 2
#endif
#ifndef E2
#define E2 2
#endif

#define BUSY 128
#define LIVE 1
#define ABANDONED 2
#define LIFE(ep, st) ((ep) * 4 + (st))
#define EPOCH(l) ((l) / 4)
#define STATE(l) ((l) % 4)

byte stamp[N], tag[N];
byte head, epoch_start;
byte life = LIFE(1, LIVE);
bit lease = 1;			/* publisher 1 holds it */
byte ended_tag, ended_state;	/* hdr->ended[] (one record suffices) */

/* Ghosts. */
byte committed1;		/* events publisher 1 committed */
byte p2start = 255;
bit p2done;

active proctype pub1()
{
	byte S;

	do
	:: S < E1 ->
		stamp[S % N] = (S + 1) | BUSY;
		if :: skip :: goto die fi;
		atomic { tag[S % N] = 1; stamp[S % N] = S + 1; committed1++ };
		if :: skip :: goto die fi;
		head = S + 1;
		S++;
		if :: skip :: goto die fi
	:: else -> break
	od;
die:
	lease = 0	/* the kernel drops the lock */
}

active proctype pub2()
{
	byte l, h, i, S;

	atomic { lease == 0 -> lease = 1 };
	l = life;
retry:
	/* rc_pub_find_head(). */
	h = head;
#ifndef NO_SCAN
	i = 0;
	do
	:: i < N ->
#ifdef SCAN_BUSY
		if
		:: (stamp[h % N] & ~BUSY) == h + 1 -> h++; i++
		:: else -> break
		fi
#else
		if
		:: stamp[h % N] == h + 1 -> h++; i++
		:: else -> break
		fi
#endif
	:: else -> break
	od;
#endif
	epoch_start = h;
	/* rc_pub_record_end(). */
	ended_tag = EPOCH(l);
	ended_state = STATE(l);
	head = h;
	/* Release CAS of the life word. */
	atomic {
		if
		:: life == l -> life = LIFE(2, LIVE)
		:: else -> l = life; goto retry
		fi
	};
	d_step {
		/* No hole, nothing committed skipped. */
		assert(h == committed1);
		p2start = h
	};
	S = h;
	do
	:: S < h + E2 ->
		stamp[S % N] = (S + 1) | BUSY;
		tag[S % N] = 2;
		stamp[S % N] = S + 1;
		head = S + 1;
		S++
	:: else -> break
	od;
	p2done = 1
}

#define DONE 1
#define EPIPE 2
#define EOWNERDEAD 3

active [2] proctype sub()
{
	bit resub = (_pid == 3);
	byte c, ep = 1, ep_start, s, t, l, r;

	do
	:: r != 0 -> break
	:: r == 0 && resub && p2done && c == p2start + E2 -> r = DONE
	:: else ->
		/* rc_sub_try(). */
		s = stamp[c % N];
		if
		:: s == c + 1 ->
			t = tag[c % N];
#ifndef NO_EPOCH
			if
			:: t != ep && c >= ep_start ->
				if
				:: resub -> ep = t; ep_start = c
				:: else ->
					/* rc_sub_end_code(). */
					r = (ended_tag == ep && ended_state != LIVE &&
					     ended_state != ABANDONED -> EPIPE : EOWNERDEAD)
				fi
			:: else
			fi;
#endif
			if
			:: r == 0 ->
				d_step {
					/* Each event from the epoch that committed it. */
					assert(t == (c < p2start -> 1 : 2));
					assert(resub || t == 1);
					c++
				}
			:: else
			fi
		:: else ->
			/* rc_sub_idle(). */
			l = life;
			if
			:: STATE(l) == LIVE && lease == 0 ->
				/* rc_check_abandoned(): CAS on the whole word. */
				atomic {
					if
					:: life == l -> life = LIFE(EPOCH(l), ABANDONED)
					:: else
					fi;
					l = life
				}
			:: else
			fi;
			if
			:: EPOCH(l) != ep ->
				if
				:: !resub ->
#ifdef NO_DRAIN
					r = EOWNERDEAD
#else
					/* Drain first: one more try. */
					if
					:: stamp[c % N] == c + 1 -> skip
					:: else -> r = EOWNERDEAD
					fi
#endif
				:: else ->
					ep = EPOCH(l);
					ep_start = epoch_start
				fi
			:: STATE(l) == ABANDONED && EPOCH(l) == ep ->
				/* Drain what was committed, then the end code. */
				if
				:: stamp[c % N] == c + 1 -> skip
				:: else ->
					if
					:: !resub -> r = EOWNERDEAD
					:: else
					fi
				fi
			:: else
			fi
		fi;
		s = 0; t = 0; l = 0
	od;
	/* A non-resubscriber ends at "publisher died", having read every
	 * event its epoch committed. */
	assert(resub || (r == EOWNERDEAD && c == committed1))
}
