/* SPDX-License-Identifier: MIT */
/*
 * Multi-publisher attach and takeover: two publishers attach at once to a
 * multi-publisher ring that is not live, one takes it over, the other
 * joins its epoch, and both claim sequences (src/pub.c,
 * ringcast_pub_attach's multi-publisher path, rc_pub_record_end;
 * src/publish.c, rc_mpub_claim; src/lease.c, rc_lease_share,
 * rc_check_abandoned;
 * src/ring.c, ringcast_ring_close; lock byte RC_LOCK_TAKEOVER).
 *
 * Each publisher takes a share of the lease and its table entry, then
 * reads the life word.  LIVE: it joins the epoch and writes nothing
 * shared.  Otherwise it takes the takeover lock (blocking; the kernel
 * drops it if the holder dies) and reads the life word again: LIVE now,
 * it drops the lock and joins.  Else, holding the lock, it reads the
 * head (on a multi-publisher ring only claims move it: it is never
 * stored back), writes epoch_start, records how the old epoch ended
 * (one record per takeover), writes pub_pid and pub_start, and CASes the
 * life word from the value it read to its new epoch, LIVE, with release.
 * A failed CAS (a ring_close, or a subscriber marking a dead epoch
 * abandoned) re-reads the life word and retries, still holding the lock:
 * LIVE, it joins; otherwise it tries again, rewriting the same ending
 * record with the state it now replaces (never a second record).  Then
 * each publisher makes K claims of one sequence: it checks the life word
 * is still its own (rc_pub_check; -EPIPE otherwise) and CASes the head
 * from c to c + 1.  A reader loads the life word (acquire) at any moment
 * and, once it sees a new epoch, loads epoch_start, pub_pid and the
 * ending history.
 *
 * Configurations: the ring starts CREATED (default); ABANDON: abandoned
 * by a dead epoch-1 publisher after one event; DEAD: still LIVE in epoch
 * 1 with its publisher dead, and a subscriber that may mark it abandoned
 * (rc_check_abandoned: it probes the lease free, then CASes LIVE to
 * ABANDONED; its probe may come before a new publisher's share); CLOSE:
 * ringcast_ring_close() may close the ring once, at any moment, and the
 * publishers attach with RINGCAST_PUB_REOPEN (so a takeover's CAS can
 * fail and be retried, and a second takeover follow a close).
 * Proves:
 *   - every sequence below the final head is claimed by exactly one
 *     publisher (claimed once: the head never moves back);
 *   - a reader that sees an epoch in the life word (and the same word
 *     again after its loads) reads the epoch_start and pub_pid its
 *     taker wrote, and finds the epoch it replaced recorded exactly once
 *     in the ending history, with the state the CAS replaced;
 *   - no epoch is ever recorded twice in the ending history.
 *
 * Memory: sequentially consistent.  The fields a taker writes before its
 * release CAS of the life word are read after the acquire load of it;
 * the takeover lock and the lease are kernel locks (a taker's stores
 * precede its unlock, which precedes the next locker's loads); the head
 * is only moved by seq-cst CASes.  So every order the properties rest on
 * is one an SC interleaving also has.  Each load, store and CAS is one
 * step; taking a lock is one step (it blocks while held).
 *
 * Not modelled: publisher deaths (the kernel drops the takeover lock and
 * the share; multi.pml covers claims of dead publishers, and the claim
 * announcements, which only a reclaim reads); the slots, their commits and
 * epoch tags (takeover.pml, multi.pml); room and gating (mgate.pml,
 * gate.pml); a reader's end codes.
 *
 * Mutant:
 *   NO_TAKEOVER_LOCK  the code before: no takeover lock; every attacher
 *               that saw the ring not LIVE writes epoch_start, a new
 *               ending record and pub_pid, stores the head it read back
 *               (store-release), then CASes the life word; the loser
 *               retries, finds LIVE and joins, after its stale head has
 *               overwritten the winner's claims
 *   RECORD_EACH_TRY  with the lock, but a retried CAS appends a second
 *               ending record (issue 17, item 6; fails with CLOSE)
 */

#ifndef K
#define K 2		/* claims per publisher */
#endif

#define CREATED 0
#define LIVE 1
#define ABANDONED 2
#define CLOSED 3
#define LIFE(ep, st) ((ep) * 4 + (st))
#define EPOCH(l) ((l) / 4)
#define STATE(l) ((l) % 4)

#if defined(ABANDON)
#define LIFE0 LIFE(1, ABANDONED)
#define H0 1
#elif defined(DEAD)
#define LIFE0 LIFE(1, LIVE)
#define H0 1
#else
#define LIFE0 LIFE(0, CREATED)
#define H0 0
#endif

#define NE 3		/* ending records */
#define NS (H0 + 2 * K)	/* sequences */
#define NEP 4		/* epochs: 0 or 1 at first, then 2 + p */

/* Shared memory. */
byte life = LIFE0;
byte head = H0;
byte epoch_start;
byte pub_pid;
byte ended_tag[NE], ended_state[NE], ended_next;
byte shares;		/* publishers holding a share of the lease */
bit tlock;		/* RC_LOCK_TAKEOVER held */

/* Ghosts. */
byte gclaim[NS];	/* publishers that claimed sequence s */
byte gstart[NEP];	/* what the taker of epoch e wrote */
byte gpid[NEP];
byte gold[NEP];		/* the life word epoch e's CAS replaced */
byte gdone;		/* publishers finished */

active [2] proctype pub()
{
	byte p = _pid, my = 2 + _pid, l, h, c, k, rec = 255, mylife;

	/* rc_lease_share(), rc_table_join(): a share of the lease. */
	shares++;
	l = life;
	if
	:: STATE(l) == LIVE -> goto join
	:: else
	fi;
#ifndef NO_TAKEOVER_LOCK
	/* Blocking; released by the kernel if we die. */
	atomic { tlock == 0 -> tlock = 1 };
	l = life;
	if
	:: STATE(l) == LIVE -> tlock = 0; goto join
	:: else
	fi;
	/* Never stored back: only claims move the head. */
	h = head;
	epoch_start = h;
retry:
	/* rc_pub_record_end(): one record per takeover. */
	if
	:: STATE(l) != CREATED ->
		if
#ifndef RECORD_EACH_TRY
		:: rec != 255 -> skip
#endif
		:: else -> rec = ended_next % NE; ended_next = rec + 1
		fi;
		ended_tag[rec] = EPOCH(l);
		ended_state[rec] = STATE(l)
	:: else
	fi;
	pub_pid = p + 1;
	/* Release CAS of the life word. */
	atomic {
		if
		:: life == l ->
			life = LIFE(my, LIVE);
			gstart[my] = h;
			gpid[my] = p + 1;
			gold[my] = l
		:: else -> l = life; goto lost
		fi
	};
	tlock = 0;
	goto taken;
lost:
	if
	:: STATE(l) == LIVE -> tlock = 0; goto join
	:: else -> goto retry
	fi;
#else
retry:
	h = head;
	epoch_start = h;
	if
	:: STATE(l) != CREATED ->
		rec = ended_next % NE;
		ended_tag[rec] = EPOCH(l);
		ended_state[rec] = STATE(l);
		ended_next = rec + 1
	:: else
	fi;
	pub_pid = p + 1;
	head = h;		/* store-release of the head read above */
	atomic {
		if
		:: life == l ->
			life = LIFE(my, LIVE);
			gstart[my] = h;
			gpid[my] = p + 1;
			gold[my] = l
		:: else -> l = life; goto lost
		fi
	};
	goto taken;
lost:
	if
	:: STATE(l) == LIVE -> goto join
	:: else -> goto retry
	fi;
#endif
join:
	mylife = l;
	goto claims;
taken:
	mylife = LIFE(my, LIVE);
claims:
	/* rc_mpub_claim(), K times. */
	do
	:: k < K ->
		/* rc_pub_check(): closed from outside? */
		if
		:: life != mylife -> break
		:: else
		fi;
		c = head;
		do
		:: atomic {
			if
			:: head == c ->
				head = c + 1;
				/* Never claimed twice. */
				assert(gclaim[c] == 0);
				gclaim[c]++;
				break
			:: else -> c = head
			fi
		   }
		od;
		k++
	:: else -> break
	od;
	gdone++
}

/* A reader: the fields that go with the epoch it sees. */
active proctype reader()
{
	byte l, l2, s, ppid, e, i, n, first;

	do
	:: gdone == 2 -> break
	:: l = life;
		if
		:: EPOCH(l) >= 2 && STATE(l) == LIVE ->
			e = EPOCH(l);
			s = epoch_start;
			ppid = pub_pid;
			/* The ending history, read record by record. */
			n = 0;
			first = 255;
			i = 0;
			do
			:: i < NE ->
				if
				:: ended_tag[i] == EPOCH(gold[e]) && i < ended_next ->
					n++;
					if
					:: first == 255 -> first = ended_state[i]
					:: else
					fi
				:: else
				fi;
				i++
			:: else -> break
			od;
			l2 = life;
			if
			:: l2 == l ->
				d_step {
					assert(s == gstart[e] && ppid == gpid[e]);
					assert(STATE(gold[e]) == CREATED ||
					       (n == 1 && first == STATE(gold[e])))
				};
				break
			:: else	/* another takeover meanwhile: look again */
			fi
		:: else
		fi;
		l2 = 0; s = 0; ppid = 0; n = 0; first = 0; i = 0
	od
}

#ifdef DEAD
/* rc_check_abandoned() by a subscriber of the dead epoch. */
active proctype abandoner()
{
	byte l = life;

	if
	:: STATE(l) == LIVE && shares == 0 ->	/* the lease probed free */
		atomic {
			if
			:: life == l -> life = LIFE(EPOCH(l), ABANDONED)
			:: else
			fi
		}
	:: else
	fi
}
#endif

#ifdef CLOSE
/* ringcast_ring_close(), once, at any moment. */
active proctype closer()
{
	byte l = life;

	if
	:: STATE(l) != CLOSED ->
		atomic {
			if
			:: life == l -> life = LIFE(EPOCH(l), CLOSED)
			:: else
			fi
		}
	:: else
	fi
}
#endif

/* Once both publishers are done: each sequence claimed exactly once. */
active proctype final()
{
	byte s, i, j;

	gdone == 2;
	d_step {
		s = H0;
		do
		:: s < head -> assert(gclaim[s] == 1); s++
		:: else -> break
		od;
		/* No epoch recorded twice. */
		i = 0;
		do
		:: i < ended_next && i < NE ->
			j = i + 1;
			do
			:: j < ended_next && j < NE ->
				assert(ended_tag[i] != ended_tag[j]);
				j++
			:: else -> break
			od;
			i++
		:: else -> break
		od
	}
}
