/* SPDX-License-Identifier: MIT */
/*
 * Reliable gating: the publisher's limit and rescan, the reliable join,
 * the reliable reader's cursor and the publisher's sleep on pub_wait
 * (docs/design.md §3, §5; src/gate.c, gating table [H]/[J]/[K],
 * rc_pub_scan, rc_pub_block, rc_pub_reap; src/sub_attach.c, rc_sub_join,
 * ringcast_sub_attach; src/sub.h, rc_sub_sync; src/wait.c, rc_pub_wake
 * [P]/[S]; src/table.c,
 * rc_table_join, rc_entry_free, rc_entry_reclaim).
 *
 * A publisher writes E events one at a time into a ring of N slots while
 * SUBS reliable subscribers, each on table entry i, join at any moment
 * (wanting the oldest retained event, or with NEWEST also the head), read,
 * and may leave or die (at most DEATHS of them) at any step.  Proves:
 *   - no promised event is overwritten: when the publisher starts writing
 *     sequence S, every subscriber that was promised S - N (its first is
 *     at or below it, and it has not begun to leave or died) has read it;
 *     and when a joiner fixes its first sequence, nothing at or above it
 *     has been overwritten (issued, in the publisher's program order);
 *   - a reliable subscriber never sees a lap: the stamp at its cursor never
 *     names a later event;
 *   - no lost wake-up of the publisher: it never sleeps for ever on
 *     pub_wait while it has room (an invalid end state otherwise).  Its
 *     100 ms timer is absent unless an entry's owner is dead and its entry
 *     not yet freed: the handshake alone must wake it for live
 *     subscribers, and a subscriber that leaves frees it; one that dies is
 *     found by the timer's liveness probe (its lock gone) and reclaimed;
 *   - every subscriber reads everything from its first to the end.
 *
 * Memory: x86-TSO.  Each process's plain stores (WRITE_ONCE,
 * smp_store_release: limit, stamps, head, cursor, state) enter its own
 * FIFO store buffer, drained to memory by a separate process; a load
 * sees the process's own newest buffered store to that location, else
 * memory; smp_mb() waits for the buffer to empty; a locked RMW (CAS,
 * fetch_or/_and/_add) empties the buffer first and is one atomic step.  On
 * x86 the joiner's seq-cst fetch_add of table_gen already orders its later
 * load of the limit, so smp_mb() [J] orders nothing more there; what [J]
 * forbids elsewhere (C11 lets a later relaxed load pass a seq-cst RMW's
 * store) is modelled by NO_J hoisting the load above the RMWs.  The same
 * holds for the publisher's fetch_or [P], which is why no mutant removes a
 * fence there.
 *
 * Atomic steps, matching the C code: one load; one store entering or
 * leaving a buffer; one locked RMW; the kernel's FUTEX_WAIT compare-and-
 * sleep and FUTEX_WAKE; an OFD lock taken, dropped, or lost at death.
 * The ring's quarter is 1 for N < 4 and N/4 otherwise, as in the code.
 * Store buffers hold 3 stores; a process whose buffer is full waits for a
 * drain (a bound on the reorderings explored, not a behaviour added).
 * Not modelled: demotion of a stuck subscriber, ringcast_pub_interrupt,
 * batches (one event per publish), lossy entries (they never gate).
 *
 * Mutants:
 *   NO_H        smp_mb() [H] removed: the publisher reads table_gen and the
 *               cursors while its new limit is still in its store buffer
 *   NO_J        smp_mb() [J] removed: the joiner's load of the limit is
 *               satisfied before its claim and table_gen bump are visible
 *   NO_S        smp_mb() [S] removed from rc_pub_wake(): a subscriber reads
 *               pub_wait while its new cursor is still in its store buffer
 *   NO_FLOOR    the joiner does not raise its first to limit - N
 *   NO_RESCAN   the publisher sets its sleeping bit and waits without
 *               re-reading the cursors after it
 *   NO_BUMP     a waker calls FUTEX_WAKE without changing pub_wait
 *   LEAVE_NO_WAKE  a leaving reliable subscriber does not wake the publisher
 *   NO_TIMER    the publisher's wait has no timer: a dead subscriber's
 *               entry is never probed
 */

#ifndef N
#define N 2
#endif
#ifndef E
#define E 3
#endif
#ifndef SUBS
#define SUBS 2
#endif
#ifndef DEATHS
#define DEATHS 0
#endif
#if N >= 4
#define Q (N / 4)
#else
#define Q 1
#endif

#define BUSY 128
#define INF 255
#define FREE 0
#define RELIABLE 2

/* Shared memory. */
#define A_LIMIT		0
#define A_HEAD		1
#define A_GEN		2	/* table_gen */
#define A_PUBWAIT	3	/* bit 0: the publisher sleeps */
#define A_STAMP(s)	(4 + (s))
#define A_CUR(i)	(4 + N + (i))
#define A_STATE(i)	(4 + N + SUBS + (i))
#define MEMSZ		(4 + N + 2 * SUBS)
byte mem[MEMSZ];

bit lock[SUBS];		/* OFD lock of entry i (byte 1 + i) held */
bit pub_sleeps;		/* the publisher is in FUTEX_WAIT on pub_wait */

/* Ghosts. */
byte phead;		/* sequences below it have been issued for writing */
bit promised[SUBS];
byte gfirst[SUBS];
byte gread[SUBS];	/* events below it read by subscriber i */
bit dead[SUBS];
byte deaths;
byte gwant;		/* the publisher's want */



/* Store buffers: process 0 is the publisher, 1 + i subscriber i. */
#define NP (1 + SUBS)
#define B 3
typedef sbuf {
	byte a[B];
	byte v[B];
	byte n
};
sbuf sb[NP];

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
#if SUBS > 1
	:: drain(2)
#endif
#if SUBS > 2
	:: drain(3)
#endif
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

/*
 * rc_pub_wake(): a subscriber (or the publisher freeing an entry) moved a
 * cursor on or freed an entry; wake the publisher if it sleeps.
 */
inline pub_wake(p)
{
	/* [S] smp_mb() (a guard: no effect of its own), then the load. */
	atomic {
#ifndef NO_S
		MB(p) ->
#endif
		load(p, A_PUBWAIT, w);
		printf("MSC: process %d reads pub_wait = %d\n", p, w)
	};
	if
	:: w & 1 ->
#ifdef NO_BUMP
		atomic { MB(p) -> pub_sleeps = 0 }
#else
		/* CAS(pub_wait, w, w + 1), then FUTEX_WAKE. */
		atomic {
			MB(p) ->
			if
			:: mem[A_PUBWAIT] == w ->
				mem[A_PUBWAIT] = w + 1;
				w = 1
			:: else -> w = 0
			fi
		};
		if
		:: w -> pub_sleeps = 0
		:: else
		fi
#endif
	:: else
	fi;
	w = 0
}

/* The publisher's rc_pub_scan(): sets ok when want <= allowed. */
inline scan()
{
	lim = want + Q;
	if
	:: lim > head + N -> lim = head + N
	:: else
	fi;
	if
	:: lim < plimit -> lim = plimit
	:: else
	fi;
	plimit = lim;
	store(0, A_LIMIT, lim);
	/* [H] smp_mb() (a guard), then table_gen. */
	atomic {
#ifndef NO_H
		MB(0) ->
#endif
		load(0, A_GEN, gen)
	};
	if
	:: gen != gate_gen ->
		/* rc_pub_list_gates(). */
		gate_gen = gen;
		gates = 0;
		i = 0;
		do
		:: i < SUBS ->
			load(0, A_STATE(i), c);
			if
			:: c == RELIABLE -> gates = gates | (1 << i)
			:: else
			fi;
			i++
		:: else -> break
		od
	:: else
	fi;
	low = INF;
	i = 0;
	do
	:: i < SUBS ->
		if
		:: gates & (1 << i) ->
			load(0, A_CUR(i), c);	/* [K] */
			if
			:: c < low -> low = c
			:: else
			fi
		:: else
		fi;
		i++
	:: else -> break
	od;
	atomic {
		if
		:: low != INF && low + N < lim -> allowed = low + N
		:: else -> allowed = lim
		fi;
		ok = (want <= allowed);
		printf("MSC: publisher scans for %d: limit %d, low %d, allowed %d\n",
		       want, lim, low, allowed);
		i = 0; c = 0; gen = 0; low = 0
	}
}

/* rc_entry_free() of entry e, by process p holding its lock. */
inline entry_free(p, e)
{
	load(p, A_STATE(e), st);
	if
	:: st != FREE ->
		store(p, A_STATE(e), FREE);		/* release */
		atomic { MB(p) -> mem[A_GEN]++ };	/* seq-cst */
		if
		:: st == RELIABLE ->
#ifndef LEAVE_NO_WAKE
			pub_wake(p)
#else
			if
			:: p == 0 -> pub_wake(p)
			:: else
			fi
#endif
		:: else
		fi
	:: else
	fi;
	st = 0
}

/* rc_pub_reap(): reclaim the dead owners of entries that keep want away. */
inline reap()
{
	freed = 0;
	e = 0;
	do
	:: e < SUBS ->
		if
		:: gates & (1 << e) ->
			load(0, A_CUR(e), c);
			if
			:: c + N < want ->
				/* rc_entry_reclaim(). */
				load(0, A_STATE(e), st);
				if
				:: st == FREE -> freed = 1
				:: else ->
					if
					:: atomic { !lock[e] -> lock[e] = 1 } ->
						entry_free(0, e);
						lock[e] = 0;
						freed = 1
					:: else	/* -EBUSY: alive */
					fi
				fi
			:: else
			fi
		:: else
		fi;
		c = 0; st = 0;
		e++
	:: else -> break
	od;
	e = 0
}

/* The timer may fire: an owner died and its entry is not freed yet. */
#if SUBS > 2
#define TIMER_DUE ((dead[0] && mem[A_STATE(0)] != FREE) || \
		   (dead[1] && mem[A_STATE(1)] != FREE) || \
		   (dead[2] && mem[A_STATE(2)] != FREE))
#elif SUBS > 1
#define TIMER_DUE ((dead[0] && mem[A_STATE(0)] != FREE) || \
		   (dead[1] && mem[A_STATE(1)] != FREE))
#else
#define TIMER_DUE (dead[0] && mem[A_STATE(0)] != FREE)
#endif

/* rc_pub_block(): wait until want <= allowed. */
inline block()
{
	sleeping = 0;
	probe = 1;		/* probe_at = now: a dead owner is freed at once */
	do
	:: probe ->
		probe = 0;
		reap();
		if
		:: freed ->
			scan();
			if
			:: ok -> break
			:: else
			fi
		:: else
		fi
	:: else ->
		/* [P] w = fetch_or(pub_wait, SLEEPING) | SLEEPING. */
		atomic {
			MB(0) ->
			mem[A_PUBWAIT] = mem[A_PUBWAIT] | 1;
			w = mem[A_PUBWAIT]
		};
		sleeping = 1;
#ifndef NO_RESCAN
		scan();
		if
		:: ok -> break
		:: else
		fi;
#endif
		/* FUTEX_WAIT(pub_wait, w). */
		if
		:: atomic {
			mem[A_PUBWAIT] == w ->
			pub_sleeps = 1;
			printf("MSC: publisher sleeps for %d\n", want)
		   };
#ifdef IDLE
end_sleep:
#endif
			if
			:: !pub_sleeps
#ifndef NO_TIMER
			:: atomic { pub_sleeps && TIMER_DUE ->
				pub_sleeps = 0;
				probe = 1;
				printf("MSC: publisher's timer\n")
			   }
#endif
			fi
		:: else
		fi;
		w = 0;
		scan();
		if
		:: ok -> break
		:: else
		fi
	od;
	if
	:: sleeping ->
		atomic { MB(0) -> mem[A_PUBWAIT] = mem[A_PUBWAIT] & ~1 }
	:: else
	fi;
	sleeping = 0; freed = 0
}

active proctype publisher()
{
	byte head, allowed, plimit, gate_gen = INF, gates, low, want, lim;
	byte gen, c, i, e, st, w, k;
	bit ok, sleeping, probe, freed;

	do
	:: head < E ->
		want = head + 1;
		gwant = want;
		if
		:: want <= allowed
		:: else ->
			scan();
			if
			:: ok
			:: else -> block()
			fi
		fi;
		/*
		 * rc_slot_begin(): nothing promised is overwritten.  The three
		 * stores enter the buffer in one step: entering its own buffer
		 * is invisible to other processes, and the publisher loads
		 * nothing in between.  They reach memory one by one.
		 */
		atomic {
			sb[0].n == 0 ->	/* room for three: the buffer is bounded */
			phead = head + 1;
			i = 0;
			do
			:: i < SUBS ->
				assert(!(promised[i] && head >= N &&
					 gfirst[i] <= head - N &&
					 gread[i] <= head - N));
				i++
			:: else -> break
			od;
			i = 0;
			sb[0].a[0] = A_STAMP(head % N);
			sb[0].v[0] = (head + 1) | BUSY;
			sb[0].a[1] = A_STAMP(head % N);
			sb[0].v[1] = head + 1;			/* [D] */
			sb[0].a[2] = A_HEAD;
			sb[0].v[2] = head + 1;			/* [E] */
			sb[0].n = 3;
			printf("MSC: publisher writes %d\n", head);
			head++;
			want = 0; ok = 0
		}
	:: else -> break
	od
}

/* At most DEATHS subscribers die, each at any step from here on. */
#define MAYDIE \
	if \
	:: skip \
	:: atomic { deaths < DEATHS -> deaths++; goto die } \
	fi

active [SUBS] proctype sub()
{
	byte me = _pid - 2;	/* drainer and publisher come first */
	byte p = me + 1;
	byte desired, lim, first, c, synced, s, st, w, k;
	bit got;

	/* rc_table_join(): lock first, then claim. */
	atomic { !lock[me] -> lock[me] = 1 };
	load(p, A_HEAD, c);
	desired = (c > N -> c - N : 0);		/* RINGCAST_FROM_OLDEST */
#ifdef NEWEST
	if
	:: skip
	:: desired = c				/* RINGCAST_FROM_NEWEST */
	fi;
#endif
	c = 0;
	store(p, A_CUR(me), desired);
	MAYDIE;
#ifdef NO_J
	load(p, A_LIMIT, lim);		/* satisfied early */
#endif
	/* CAS(state, FREE, RELIABLE), release. */
	atomic { MB(p) -> mem[A_STATE(me)] = RELIABLE };
	MAYDIE;
	atomic { MB(p) -> mem[A_GEN]++ };	/* seq-cst */
	MAYDIE;
	/* rc_sub_join(): [J] smp_mb(), then the limit. */
#ifndef NO_J
	atomic { MB(p) -> load(p, A_LIMIT, lim) };
#endif
	d_step {
		first = desired;
#ifndef NO_FLOOR
		if
		:: lim > N && lim - N > first -> first = lim - N
		:: else
		fi;
#endif
		/* Nothing at or above first has been overwritten. */
		assert(phead <= first + N);
		promised[me] = 1;
		gfirst[me] = first;
		gread[me] = first;
		printf("MSC: subscriber %d joins at %d (limit %d)\n", me, first, lim);
		lim = 0; desired = 0
	};
	MAYDIE;
	/* ringcast_sub_attach(): publish the first, wake the publisher. */
	store(p, A_CUR(me), first);
	pub_wake(p);
	c = first;
	synced = first;
	do
	:: c >= E -> break
	:: c < E ->
		MAYDIE;
		/* rc_sub_try(): [B] the stamp at the cursor. */
		/*
		 * [B] the stamp at the cursor; when it is ours, rc_sub_sync()'s
		 * release store of the cursor enters the buffer in the same
		 * step (invisible to others: it only reaches memory later).
		 */
		atomic {
			sb[p].n < B ->
			load(p, A_STAMP(c % N), s);
			if
			:: s == c + 1 ->
				got = 1;
				printf("MSC: subscriber %d reads %d\n", me, c);
				gread[me] = c + 1;
				c++;
				s = 0;
				sb[p].a[sb[p].n] = A_CUR(me);
				sb[p].v[sb[p].n] = c;
				sb[p].n++
			:: else
			fi
		};
		if
		:: got ->
			got = 0;
			if
			:: (c / Q) != (synced / Q) -> pub_wake(p)
			:: else
			fi;
			synced = c
		:: else ->
			/* Never a later event: the publisher waited for us. */
			assert((s & (BUSY - 1)) <= c + 1);
			/* Not written yet: wait for the stamp to change. */
			(mem[A_STAMP(c % N)] != s);
			s = 0
		fi
	:: break		/* leave early */
#ifdef IDLE
	:: c < E ->		/* stop reading, stay attached and alive */
end_idle:
		false
#endif
	od;
	/* ringcast_sub_detach(): rc_table_leave(). */
	promised[me] = 0;
	entry_free(p, me);
	lock[me] = 0;
	goto end;
die:
	/* The kernel drops the lock; buffered stores still drain. */
	promised[me] = 0;
	dead[me] = 1;
	lock[me] = 0;
end:
	skip
}

#ifdef IDLE
/*
 * With IDLE, a subscriber may stop reading for ever, so a sleeping
 * publisher may be a rightly blocked one: once nothing can move, it must
 * not be asleep while it has room.
 */
active proctype monitor()
{
	byte i;

	timeout ->
	d_step {
		i = 0;
		do
		:: i < SUBS ->
			assert(!pub_sleeps || mem[A_STATE(i)] != RELIABLE ||
			       gwant > mem[A_CUR(i)] + N);
			i++
		:: else -> break
		od
	}
}
#endif
