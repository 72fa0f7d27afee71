/* SPDX-License-Identifier: MIT */
/*
 * Demotion of a stuck reliable subscriber racing with its death, the
 * reclaim of its entry and a new claim of it (src/gate.c, rc_pub_block's
 * stuck detection, rc_pub_list_gates, rc_pub_demote; src/table.c,
 * rc_table_join, rc_entry_reclaim, rc_entry_free).
 *
 * A table entry's state word is kind | generation << 8 (here << 2):
 * kind FREE, LOSSY, RELIABLE or PUBLISHER, and a generation that every
 * claim increments (FREE|g becomes kind|g+1); a free keeps it (kind|g
 * becomes FREE|g).  The entry starts claimed by a reliable subscriber
 * (RELIABLE|1) at cursor 0.  That owner may move its cursor on once, die
 * at any step (the kernel drops its entry lock), or stay stuck.  A
 * reclaimer (an attacher, stat, or a publisher's reap: anyone) takes the
 * lock of a dead owner's entry, frees it (FREE|g, table_gen++) and drops
 * the lock.  A new reliable subscriber claims a free entry under its lock
 * at cursor 0 or 1, the old owner's cursor included (cursor first, then
 * the CAS FREE|g -> RELIABLE|g+1, then table_gen++), and may die in turn,
 * up to CLAIMS claims.  The publisher, up to TRIES times: when table_gen
 * changed it lists the entry (acquire load of the whole state word w);
 * if w is RELIABLE it loads the cursor c (the slowest, stuck there); its
 * demotion limit passes (at any moment); it checks the cursor is still c,
 * then CASes the state from exactly w to LOSSY|gen(w); if that fails it
 * lists again.  Proves:
 *   - a demotion lands only on the claim the publisher saw stuck: a fresh
 *     claim is never demoted by a decision about its predecessor;
 *   - nothing waits for ever (invalid end states otherwise).
 *
 * Memory: sequentially consistent.  What is proved is the atomicity of
 * the decision: the CAS on the whole word is one locked RMW on one
 * location, ordered by coherence against the claim's CAS and the free's
 * store; the claim's cursor store precedes its release CAS, read by the
 * publisher's acquire loads of the state (listing) before the cursor.
 * The gating that demotion unblocks is gate.pml's.  Each load, store and
 * CAS is one step; taking, dropping or losing (at death) a lock is one
 * step.
 * Not modelled: the demotion clock (the limit may pass at any moment, so
 * every timing is covered), several entries (each is decided alone), the
 * DEMOTED flag, counters and table_gen bump after a demotion, the
 * subscriber's reaction to being demoted (rc_sub_demoted).
 *
 * Mutant:
 *   DEMOTE_KIND_ONLY  the code before: check table_gen is the one listed
 *               at and the cursor is still c, then CAS the state from
 *               RELIABLE (the kind alone) to LOSSY: the owner can die, be
 *               reclaimed and a new subscriber claim the entry between
 *               the checks and the CAS, and the fresh claim is demoted
 */

#ifndef CLAIMS
#define CLAIMS 2	/* claims by new subscribers */
#endif
#ifndef TRIES
#define TRIES 2		/* the publisher's demotion attempts */
#endif

#define FREE 0
#define LOSSY 1
#define RELIABLE 2
#define WORD(kind, gen) ((gen) * 4 + (kind))
#define KIND(w) ((w) % 4)
#define GEN(w) ((w) / 4)

/* Shared memory. */
byte state = WORD(RELIABLE, 1);
byte cursor;
byte table_gen = 1;
bit lock = 1;		/* the entry's lock: held by its owner */

/* Ghosts. */
byte gclaim = 1;	/* the current claim (1: the first owner) */
bit dead;		/* the current claim's owner died */
byte claims;

/* The first owner: reads on once, dies, or stays stuck. */
active proctype owner()
{
	if
	:: cursor = 1
	:: skip
	fi;
	if
	:: atomic { dead = 1; lock = 0 }	/* killed */
	:: skip					/* stuck, alive */
	fi
}

/* Anyone reclaiming a dead owner's entry (rc_entry_reclaim). */
active proctype reclaimer()
{
	byte st;

end:
	do
	:: atomic { dead && lock == 0 && KIND(state) != FREE -> lock = 1 };
		/* rc_entry_free(), under the dead owner's lock. */
		st = state;
		state = WORD(FREE, GEN(st));		/* release */
		table_gen++;				/* seq-cst */
		atomic { dead = 0; lock = 0 };
		st = 0
	od
}

/* New reliable subscribers claiming the entry (rc_table_join). */
active proctype joiner()
{
	byte w;

end:
	do
	:: claims < CLAIMS && KIND(state) == FREE ->
		atomic { lock == 0 -> lock = 1 };
		w = state;
		if
		:: KIND(w) == FREE ->
			if
			:: cursor = 0
			:: cursor = 1
			fi;
			/* CAS(state, FREE|g, RELIABLE|g+1), release. */
			atomic {
				if
				:: state == w ->
					state = WORD(RELIABLE, GEN(w) + 1);
					gclaim++;
					claims++
				:: else
				fi
			};
			table_gen++;
			/* The new owner may be killed too. */
			if
			:: atomic { dead = 1; lock = 0 }
			:: skip
			fi
		:: else -> lock = 0
		fi;
		w = 0
	od
}

/* The publisher blocked on the entry: demote it when stuck too long. */
active proctype publisher()
{
	byte tries, gen, gate_gen, w, c, seen;

	do
	:: tries < TRIES ->
		gen = table_gen;
		if
		:: gen != gate_gen ->
			/* rc_pub_list_gates(): the whole word, acquire. */
			atomic { w = state; seen = gclaim };
			gate_gen = gen
		:: else
		fi;
		if
		:: KIND(w) == RELIABLE ->
			/* The scan: the slowest cursor, stuck from now on. */
			c = cursor;
			/* The demotion limit passes: rc_pub_demote(). */
#ifdef DEMOTE_KIND_ONLY
			if
			:: table_gen != gate_gen -> gate_gen = 0
			:: else ->
				if
				:: cursor == c
				:: else -> gate_gen = 0; goto next
				fi;
				atomic {
					if
					:: KIND(state) == RELIABLE ->
						/* Only the claim seen stuck. */
						assert(gclaim == seen);
						state = WORD(LOSSY, GEN(state))
					:: else -> gate_gen = 0
					fi
				}
			fi;
#else
			if
			:: cursor == c ->
				atomic {
					if
					:: state == w ->
						/* Only the claim seen stuck. */
						assert(gclaim == seen);
						state = WORD(LOSSY, GEN(w))
					:: else -> gate_gen = 0
					fi
				}
			:: else -> gate_gen = 0
			fi;
#endif
next:
			c = 0
		:: else
		fi;
		tries++
	:: else -> break
	od
}
