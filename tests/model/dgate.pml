/* SPDX-License-Identifier: MIT */
/*
 * Gating of the data area by reliable subscribers, with a reliable joiner
 * (docs/design.md §8; src/gate.c, data gating table, rc_pub_droom,
 * rc_pub_walk, rc_pub_scan, rc_pub_block; src/publish.c, rc_data_room,
 * rc_data_put; src/sub_attach.c, rc_sub_join, rc_sub_set_cursor;
 * src/map.h, rc_oldest; src/sub.h, rc_sub_sync, rc_sub_dcross;
 * src/sub_wait.c, rc_sub_sleep's "told"; src/wait.c, rc_pub_wake [P]/[S]).
 *
 * A publisher writes E events into a ring of N slots and a data area of D
 * units; an event is spilled, one record of 1 or 2 units at a free-running
 * position (a FILL record first when it would cross the end of the data
 * area), or with INLINE also inline (no record).  R reliable subscribers
 * are there from the start at sequence 0; J join at any moment (R + J at
 * most 2), wanting the oldest retained event (rc_oldest(): max(head - N,
 * dfloor)).  Before the publisher writes data up to position q past what
 * its last scan allowed, it rounds q - D up to a multiple b of DQ (the
 * code's quarter of the data area), walks its records below b and takes X
 * = the sequence after the last event whose record starts below b (its
 * walk cursor wseq), stores dfloor = X if higher, fences [H], reads the
 * cursors [K], and writes only when every cursor is at X or past it; then
 * everything below b + D is writable without another scan.  Each wait
 * (slots or data) sleeps on pub_wait with the [P]/[S] handshake.  A
 * subscriber stores its cursor (release) after each event and wakes a
 * sleeping publisher when the cursor crosses a quarter of the slots, when
 * the event read is spilled and starts in another quarter of the data
 * area than the last spilled one it read, and before it sleeps at a
 * cursor it has not told.  The joiner stores its cursor, claims its entry,
 * bumps table_gen, fences [J], loads the limit L and dfloor F and starts at
 * max(want, L - N, F), at most the head.  Proves:
 *   - no reliable subscriber reads overwritten data or slots: when the
 *     publisher issues a write of a data unit (a record's or a FILL's) it
 *     destroys no unit of an event a promised subscriber has not read,
 *     nor a slot whose event it has not read; and when the joiner fixes its
 *     first, no event at or above it has lost a slot or a data unit;
 *   - a reliable subscriber never sees a lap at its cursor;
 *   - no lost wake-up: without IDLE every subscriber reads to the end, so
 *     a publisher asleep for ever is an invalid end state; with IDLE a
 *     subscriber may stop for ever between two events, and a monitor checks
 *     at Spin's timeout that a sleeping publisher waits on data and that
 *     some idle subscriber has not read the event that would have woken it
 *     (the first spilled event at or past b; see "Idle" below).
 *
 * Memory: x86-TSO, as gate.pml.  Each process's plain stores (WRITE_ONCE,
 * smp_store_release) enter its own FIFO store buffer of 3, drained to
 * memory by a separate process; a load sees its own newest buffered store,
 * else memory; smp_mb() waits for the buffer to empty; a locked RMW (CAS,
 * fetch_or, fetch_add) empties it first and is one atomic step.  Store
 * buffering is what [H]/[J] and [P]/[S] are for; the intent and the lossy
 * read are data.pml's.
 *
 * Atomic steps, matching the C code: one load; a store entering or
 * leaving a buffer; one locked RMW; FUTEX_WAIT's compare-and-sleep and
 * FUTEX_WAKE.  The publisher's write of an event (FILL, record, payload,
 * descriptor, commit stamp, head) enters its buffer in one step: it loads
 * nothing in between, and only the stamp and the head are read by others
 * here (a reliable subscriber reads the descriptor of a slot nobody
 * overwrites: the publisher's record of it).  Data units are ghosts: the
 * check is at the moment a write is issued, before it can be seen.  The
 * walk reads the publisher's private copy of its records.  The data scan
 * passes want = head to the same rc_pub_scan() as the slots' (it stores
 * the limit too).
 *
 * Simplified from gate.pml: no deaths, timer, reap, leave, demotion or
 * NEWEST join (gate.pml covers them for the slots; the data floor changes
 * none of them).  The subscriber's rc_sub_sync() runs after each event.
 * With D = 4 and DQ = 2 (defaults) the rounding is to half the data area,
 * not a quarter, and footprints reach half of it (the code: a quarter):
 * laps come in few events; the argument needs only that b is at most the
 * data head, which holds here too.
 *
 * Idle.  A subscriber that stops between two events without sleeping (a
 * slow consumer) is not woken for: having read event X - 1 (cursor X,
 * enough for the publisher) it wakes nobody until it reads the next spilled
 * event, which starts at or past b (or until it sleeps); the publisher's
 * timer covers the time between, as for a subscriber that stops between
 * two quarters of the slots (gate.pml -DIDLE -DN=8).  The IDLE monitor
 * allows exactly that and nothing more.  Run IDLE with N = 8: slots never
 * hold the publisher back, and their quarter (2) is larger than one
 * event, so the slot wakes do not hide a missing data wake.
 *
 * Mutants (each must make Spin report a violation):
 *   NO_DFLOOR          the joiner starts at max(want, L - N): no dfloor
 *   FLOOR_AFTER_FENCE  dfloor is stored after [H], while the cursors are
 *                      read
 *   SLOT_SHORTCUT      no walk for the room: the data of events below the
 *                      slowest cursor c is free, and the room is read from
 *                      the descriptor in c's slot; at c = head that slot
 *                      holds the descriptor of c - N, a lap ago, so the
 *                      publisher waits for room it has (dfloor still from
 *                      the walk)
 *   NO_QUARTER_ROUND   b = q - D: the publisher waits for X of q - D, whose
 *                      event may start in the quarter of the last spilled
 *                      event read, so reading it wakes nobody (IDLE)
 *   NO_DATA_WAKE       subscribers wake the publisher at quarters of the
 *                      slots and before they sleep only (IDLE)
 */

#ifndef N
#define N 4		/* slots */
#endif
#ifndef D
#define D 4		/* units of data area */
#endif
#ifndef DQ
#define DQ 2		/* what q - D is rounded up to (the code: D / 4) */
#endif
#ifndef E
#define E 4
#endif
#ifndef FMAX
#define FMAX 2		/* the largest footprint, in units */
#endif
#ifndef R
#define R 1		/* reliable subscribers there from the start */
#endif
#ifndef J
#define J 1		/* reliable joiners */
#endif
#define SUBS (R + J)
#if N >= 4
#define QS (N / 4)	/* the publisher's quarter ring */
#else
#define QS 1
#endif

#define INF 255
#define FREE 0
#define RELIABLE 2

/* Shared memory. */
#define A_LIMIT		0
#define A_HEAD		1
#define A_GEN		2	/* table_gen */
#define A_PUBWAIT	3	/* bit 0: the publisher sleeps */
#define A_FLOOR		4	/* dfloor */
#define A_STAMP(s)	(5 + (s))
#define A_CUR(i)	(5 + N + (i))
#define A_STATE(i)	(5 + N + SUBS + (i))
#define MEMSZ		(5 + N + 2 * SUBS)
byte mem[MEMSZ];

bit pub_sleeps;		/* the publisher is in FUTEX_WAIT on pub_wait */
bit ready;		/* the table holds the subscribers there from the start */

/* Ghosts. */
byte epos[E];		/* record position of event S; INF: inline */
byte own[D];		/* S + 1 when unit x (masked) holds event S's data */
byte phead;		/* slots below it have been issued for writing */
byte gdestr;		/* events below it have lost data units */
bit promised[SUBS];
byte gfirst[SUBS];
byte gread[SUBS];	/* events below it read by subscriber i */
bit idle[SUBS];
bit dwaiting;		/* the publisher waits for data room */
byte gx = INF;		/* ... and reading event gx must wake it */

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
#if SUBS > 0
	:: drain(1)
#endif
#if SUBS > 1
	:: drain(2)
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

/* rc_pub_wake(): wake the publisher if it sleeps ([S], then CAS + wake). */
inline pub_wake(p)
{
	atomic {
		MB(p) ->	/* [S] smp_mb() */
		load(p, A_PUBWAIT, w)
	};
	if
	:: w & 1 ->
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
	:: else
	fi;
	w = 0
}

/*
 * rc_pub_scan(): store the limit (and dfloor), [H], the cursors [K]; ok
 * when want is allowed and every cursor is at dneed or past it.
 */
inline scan()
{
	lim = want + QS;
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
#ifndef FLOOR_AFTER_FENCE
	if
	:: dneed > dfl -> dfl = dneed; store(0, A_FLOOR, dfl)
	:: else
	fi;
#endif
	/* [H] smp_mb() (a guard), then table_gen. */
	atomic { MB(0) -> load(0, A_GEN, gen) };
#ifdef FLOOR_AFTER_FENCE
	if
	:: dneed > dfl -> dfl = dneed; store(0, A_FLOOR, dfl)
	:: else
	fi;
#endif
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
#ifdef SLOT_SHORTCUT
		/* The descriptor in the slowest cursor's slot. */
		ok = (want <= allowed &&
		      (!dwaiting || low == INF || slotpos[low % N] + D >= q));
#else
		ok = (want <= allowed && dneed <= low);
#endif
		printf("MSC: publisher scans for %d, data %d: limit %d low %d\n",
		       want, dneed, lim, low);
		i = 0; c = 0; gen = 0; low = 0
	}
}

/*
 * rc_pub_scan(), and rc_pub_block() when it says no: sleep on pub_wait
 * until a scan says ok.  One scan in a loop (sl: 0 before [P], 1 after
 * it, 2 after a wake) keeps a single copy of it in the model: scan, then
 * ([P], scan, FUTEX_WAIT, scan) until ok.
 */
inline room()
{
	do
	:: true ->
		scan();
		if
		:: ok -> break
		:: else
		fi;
		if
		:: sl != 1 ->
			/* [P] w = fetch_or(pub_wait, SLEEPING) | SLEEPING. */
			atomic {
				MB(0) ->
				mem[A_PUBWAIT] = mem[A_PUBWAIT] | 1;
				w = mem[A_PUBWAIT];
				sl = 1
			}
		:: else ->
			/* FUTEX_WAIT(pub_wait, w). */
			if
			:: atomic {
				mem[A_PUBWAIT] == w ->
				pub_sleeps = 1;
				printf("MSC: publisher sleeps for %d, data %d\n",
				       want, dneed)
			   };
#ifdef IDLE
end_sleep:
#endif
				!pub_sleeps
			:: else
			fi;
			w = 0;
			sl = 2
		fi
	od;
	if
	:: sl ->
		atomic { MB(0) -> mem[A_PUBWAIT] = mem[A_PUBWAIT] & ~1 };
		sl = 0
	:: else
	fi
}

active proctype publisher()
{
	byte head, allowed, plimit, gate_gen = INF, gates, low, want, lim;
	byte gen, c, i, w, k, x, o, sl;
	byte f, at, q, dhead, dallowed, dneed, b, wpos, wseq, wk, dfl, nrec;
	byte rpos[E];
	byte rlen[E];
	byte rseq[E];
#ifdef SLOT_SHORTCUT
	byte slotpos[N];
#endif
	bit ok;

	d_step {
#if R > 0
		mem[A_STATE(0)] = RELIABLE;
		mem[A_GEN] = 1;
		promised[0] = 1;
#endif
		ready = 1
	};
	do
	:: head < E ->
		if
		:: f = 1
#if FMAX > 1
		:: f = 2
#endif
#ifdef INLINE
		:: f = 0
#endif
		fi;
		/* rc_pub_take(): room in the slots. */
		want = head + 1;
		if
		:: want <= allowed
		:: else -> room()
		fi;
		want = 0;
		/* rc_data_room(): room in the data area below q. */
		d_step {
			at = dhead;
			if
			:: f && (dhead % D) + f > D -> at = dhead + D - dhead % D
			:: else
			fi;
			q = (f -> at + f : dhead);
			if
			:: q > dallowed ->
				/* rc_pub_droom(): round q - D up, walk. */
				b = (q > D -> q - D : 0);
#ifndef NO_QUARTER_ROUND
				b = (b + DQ - 1) / DQ * DQ;
#endif
				do
				:: wpos < b && wpos < dhead ->
					if
					:: rpos[wk] == wpos ->
						wseq = rseq[wk] + 1;
						wpos = wpos + rlen[wk];
						wk++
					:: else ->
						wpos = rpos[wk]	/* a FILL */
					fi
				:: else -> break
				od;
				dneed = wseq;
				gx = (wk < nrec -> rseq[wk] : INF);
				dwaiting = 1
			:: else
			fi
		};
		if
		:: dwaiting ->
			want = head;
			room();
			d_step {
				want = 0;
				dneed = 0;
				dwaiting = 0;
				gx = INF;
#ifdef SLOT_SHORTCUT
				dallowed = q;
#else
				dallowed = b + D;
#endif
				b = 0
			}
		:: else
		fi;
		/*
		 * rc_data_put(), rc_slot_end(), rc_pub_advance(): nothing a
		 * promised subscriber has not read is overwritten.
		 */
		atomic {
			sb[0].n < 2 ->
			i = 0;
			do
			:: i < SUBS ->
				assert(!(promised[i] && head >= N &&
					 gfirst[i] <= head - N &&
					 gread[i] <= head - N));
				i++
			:: else -> break
			od;
			phead = head + 1;
			x = dhead;
			do
			:: x < q ->
				if
				:: own[x % D] ->
					o = own[x % D] - 1;
					i = 0;
					do
					:: i < SUBS ->
						assert(!(promised[i] &&
							 gfirst[i] <= o &&
							 gread[i] <= o));
						i++
					:: else -> break
					od;
					if
					:: o + 1 > gdestr -> gdestr = o + 1
					:: else
					fi
				:: else
				fi;
				own[x % D] = (x >= at -> head + 1 : 0);
				x++
			:: else -> break
			od;
			if
			:: f ->
				epos[head] = at;
				rpos[nrec] = at;
				rlen[nrec] = f;
				rseq[nrec] = head;
				nrec++;
#ifdef SLOT_SHORTCUT
				slotpos[head % N] = at;
#endif
				dhead = q
			:: else -> epos[head] = INF
			fi;
			sb[0].a[sb[0].n] = A_STAMP(head % N);
			sb[0].v[sb[0].n] = head + 1;		/* [D] */
			sb[0].a[sb[0].n + 1] = A_HEAD;
			sb[0].v[sb[0].n + 1] = head + 1;	/* [E] */
			sb[0].n = sb[0].n + 2;
			printf("MSC: publisher writes %d at %d, %d units\n",
			       head, at, f);
			head++;
			i = 0; x = 0; o = 0; f = 0; at = 0; q = 0
		}
	:: else -> break
	od
}

/*
 * Reading from c to the end: rc_sub_try(), rc_sub_dcross(), rc_sub_sync()
 * after each event, rc_sub_sleep()'s wake when caught up.
 */
inline read_on()
{
	synced = c;
	dq = INF;
	told = INF;
	do
	:: c >= E -> break
	:: c < E ->
		/*
		 * [B] the stamp at the cursor; when it is ours, the release
		 * store of the cursor enters the buffer in the same step
		 * (invisible to others until it drains).
		 */
		atomic {
			sb[p].n < B ->
			load(p, A_STAMP(c % N), s);
			if
			:: s == c + 1 ->
				got = 1;
				printf("MSC: subscriber %d reads %d\n", me, c);
				gread[me] = c + 1;
#ifndef NO_DATA_WAKE
				if
				:: epos[c] != INF && epos[c] / DQ != dq ->
					dq = epos[c] / DQ;
					dwake = 1
				:: else
				fi;
#endif
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
			:: (c / QS) != (synced / QS) || dwake -> pub_wake(p)
			:: else
			fi;
			dwake = 0;
			synced = c
		:: else ->
			/* Never a later event: the publisher waited for us. */
			assert(s <= c + 1);
			/* Caught up: tell a sleeping publisher, then sleep. */
			if
			:: c != told -> told = c; pub_wake(p)
			:: else
			fi;
			(mem[A_STAMP(c % N)] != s);
			s = 0
		fi
#ifdef IDLE
	:: c < E ->	/* stop reading, stay attached and alive */
		idle[me] = 1;
end_idle:
		false
#endif
	od
}

/*
 * Subscriber i: there from the start for i < R (at sequence 0, its entry
 * in the table before the publisher's first scan), else the joiner.
 */
active [SUBS] proctype sub()
{
	byte me = _pid - 2;	/* drainer and publisher come first */
	byte p = me + 1;
	byte c, synced, dq, told, s, w, k;
	byte want, h, fl, lim, first;
	bit got, dwake;

	ready;
	if
	:: me < R
	:: else ->
		/* rc_sub_start_at(): the oldest, rc_oldest(). */
		load(p, A_HEAD, h);
		load(p, A_FLOOR, fl);
		want = (h > N -> h - N : 0);
		if
		:: fl > want && fl <= h -> want = fl
		:: else
		fi;
		/* rc_table_join(): cursor, CAS of the state (release), table_gen. */
		store(p, A_CUR(me), want);
		atomic { MB(p) -> mem[A_STATE(me)] = RELIABLE };
		atomic { MB(p) -> mem[A_GEN]++ };
		/* rc_sub_join(): [J] smp_mb(), then the limit and dfloor. */
		atomic { MB(p) -> load(p, A_LIMIT, lim) };
		load(p, A_FLOOR, fl);
		load(p, A_HEAD, h);
		d_step {
			first = (lim > N -> lim - N : 0);
#ifndef NO_DFLOOR
			if
			:: fl > first -> first = fl
			:: else
			fi;
#endif
			if
			:: first > h -> first = h
			:: else
			fi;
			if
			:: want > first -> first = want
			:: else
			fi;
			/* Nothing at or above first has lost a slot or data. */
			assert(phead <= first + N && gdestr <= first);
			promised[me] = 1;
			gfirst[me] = first;
			gread[me] = first;
			printf("MSC: joiner starts at %d (limit %d, dfloor %d)\n",
			       first, lim, fl);
			c = first;
			want = 0; h = 0; fl = 0; lim = 0
		};
		/* rc_sub_set_cursor(): the cursor, then wake the publisher. */
		store(p, A_CUR(me), c);
		pub_wake(p);
	fi;
	read_on()
}

#ifdef IDLE
/*
 * Once nothing can move: a sleeping publisher waits for data room, and
 * an idle subscriber has not read the event whose reading wakes it.
 */
active proctype monitor()
{
	byte i;
	bit excused;

	timeout ->
	d_step {
		i = 0;
		do
		:: i < SUBS ->
			if
			:: idle[i] && mem[A_STATE(i)] == RELIABLE &&
			   mem[A_CUR(i)] <= gx -> excused = 1
			:: else
			fi;
			i++
		:: else -> break
		od;
		assert(!pub_sleeps || (dwaiting && excused))
	}
}
#endif
