// SPDX-License-Identifier: MIT
/*
 * The subscriber table with reliable subscribers (suite reliable, case
 * table): joins racing a publisher that runs flat out; churn; a full
 * table, of live and of dead entries; a forked child that outlives its
 * parent; the table as ringcast_ring_get_subscribers() lists it.
 *
 * RINGCAST_RELIABLE_EVENTS sets the events of the join race (half of it:
 * 100000); RINGCAST_RELIABLE_CYCLES the attach/read/detach cycles of each
 * churning process (400).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reliable.h"

/* ----------------------------------------------------------------------
 * Reliable subscribers joining a publisher that runs flat out
 */

struct join_ctx {
	const char *name;
	uint64_t events;
	unsigned int slots;
	struct t_gate ready;
	uint64_t *joins; /* shared, one per joiner */
};

static int join_pub(void *arg)
{
	struct join_ctx *j = arg;
	uint64_t rng = 0xda942042e4dd58b5ull ^ (uint64_t)getpid(), i;
	unsigned char buf[40][T_PAYLOAD_LEN];
	struct ringcast_msg msgs[40];
	struct ringcast_pub *pub = NULL;

	CHILD_ASSERT_EQ(ringcast_pub_attach(j->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	t_gate_post(&j->ready);
	/*
	 * Single publishes, reservations and batches (whose limit runs
	 * ahead of the head, which the joiners must respect).
	 */
	for (i = 0; i < j->events;) {
		unsigned int n = (unsigned int)(t_rand(&rng) % 40) + 1;
		void *slot;

		if (n > j->events - i)
			n = (unsigned int)(j->events - i);
		switch (t_rand(&rng) % 3) {
		case 0:
			CHILD_ASSERT(publish_seq(pub, i, 1) >= 0);
			i++;
			break;
		case 1:
			CHILD_ASSERT_EQ(ringcast_pub_reserve(pub, T_PAYLOAD_LEN,
							     &slot),
					0);
			t_payload(i, slot);
			CHILD_ASSERT(ringcast_pub_commit(pub, 1,
							 T_PAYLOAD_LEN) >= 0);
			i++;
			break;
		default:
			t_payload_batch(msgs, buf, i, n);
			CHILD_ASSERT(ringcast_pub_publish_batch(pub, msgs, n) >=
				     0);
			i += n;
			break;
		}
	}
	CHILD_ASSERT_EQ(ringcast_pub_head(pub), j->events);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

/* One subscription: attach as @from says, read some, detach. */
static int join_once(struct join_ctx *j, unsigned int from, uint64_t *rng,
		     bool *ended)
{
	struct ringcast_sub_opts so = {
		.from = from,
		.flags = RINGCAST_SUB_RELIABLE,
		.wait = t_rand(rng) % 2 ? RINGCAST_WAIT_SPIN :
					  RINGCAST_WAIT_SLEEP,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_ring_stats info;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	uint64_t first = UINT64_MAX, cursor, n, want, lost = 0, h0;
	int ret;

	CHILD_ASSERT_EQ(ringcast_ring_get_stats(j->name, &info), 0);
	h0 = info.head;
	if (from == RINGCAST_FROM_SEQ) {
		/* Sometimes below the oldest retained event. */
		uint64_t back = t_rand(rng) % (2 * j->slots);

		so.seq = h0 > back ? h0 - back : 0;
	}
	CHILD_ASSERT_EQ(ringcast_sub_attach(j->name, &so, &sub, &first), 0);
	CHILD_ASSERT(first <= j->events);
	if (from == RINGCAST_FROM_NEWEST)
		CHILD_ASSERT(first >= h0);
	if (from == RINGCAST_FROM_SEQ)
		CHILD_ASSERT_EQ(first, so.seq);
	want = 1 + t_rand(rng) % 3000;
	cursor = first;
	for (n = 0; n < want;) {
		memset(&ev, 0, sizeof(ev));
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret == -EOVERFLOW && from == RINGCAST_FROM_SEQ &&
		    cursor == first && !lost) {
			/* What it asked for and cannot have, once. */
			CHILD_ASSERT(ev.lost > 0);
			cursor += ev.lost;
			lost = ev.lost;
			continue;
		}
		if (ret == -EPIPE) {
			*ended = true;
			break;
		}
		if (ret != 0) {
			fprintf(stderr,
				"joiner %d (from %u, first %llu): at %llu: "
				"%s\n",
				(int)getpid(), from, (unsigned long long)first,
				(unsigned long long)cursor,
				ringcast_strerror(ret));
			return 1;
		}
		if (ev.seq != cursor || !t_payload_ok(&ev)) {
			fprintf(stderr,
				"joiner %d (from %u, first %llu): got %llu, "
				"expected %llu\n",
				(int)getpid(), from, (unsigned long long)first,
				(unsigned long long)ev.seq,
				(unsigned long long)cursor);
			return 1;
		}
		cursor++;
		n++;
	}
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.first, first);
	CHILD_ASSERT_EQ(st.cursor, cursor);
	CHILD_ASSERT_EQ(st.delivered, n);
	CHILD_ASSERT_EQ(st.lost, lost);
	CHILD_ASSERT_EQ(st.laps, lost ? 1 : 0);
	CHILD_ASSERT_EQ(st.demoted, 0);
	if (*ended)
		CHILD_ASSERT_EQ(cursor, j->events);
	else
		CHILD_ASSERT_EQ(st.reliable, 1);
	ringcast_sub_detach(sub);
	return 0;
}

static int joiner(void *arg)
{
	struct join_ctx *j = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid(), k;
	static const unsigned int froms[] = {
		RINGCAST_FROM_OLDEST,
		RINGCAST_FROM_NEWEST,
		RINGCAST_FROM_SEQ,
	};
	uint64_t *joins = &j->joins[0];
	bool ended = false;

	for (k = 0; !ended; k++) {
		if (join_once(j, froms[k % 3], &rng, &ended))
			return 1;
		/* A bug that never ends the stream is caught by t_wait(). */
	}
	__atomic_fetch_add(joins, k, __ATOMIC_RELAXED);
	return 0;
}

START_TEST(test_join_race)
{
	struct join_ctx j = {
		.events = t_env_u64("RINGCAST_RELIABLE_EVENTS", 200000) / 2,
		.slots = 64,
	};
	pid_t pub, joiners[3];
	unsigned int i;

	j.name = rel_ring("join", j.slots, 0, 0);
	j.joins = t_shared_alloc(sizeof(uint64_t));
	t_gate_init(&j.ready);
	pub = t_fork(join_pub, &j);
	ck_assert_int_eq(t_gate_wait(&j.ready, 1, T_CHILD_MS), 0);
	for (i = 0; i < 3; i++)
		joiners[i] = t_fork(joiner, &j);
	t_child_ok(pub);
	for (i = 0; i < 3; i++)
		t_child_ok(joiners[i]);
	fprintf(stderr, "# %llu joins\n", (unsigned long long)j.joins[0]);
	ck_assert_uint_ge(j.joins[0], 3);
	assert_table_empty(j.name);
	t_gate_close(&j.ready);
	munmap(j.joins, sizeof(uint64_t));
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Thousands of attach/read/detach cycles while publishing
 */

#define CHURNERS 6

struct churn_ctx {
	const char *name;
	uint64_t cycles;
	struct t_gate ready;
};

/* Publishes until the ring is closed from outside. */
static int churn_pub(void *arg)
{
	struct churn_ctx *c = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t i;
	int ret;

	CHILD_ASSERT_EQ(ringcast_pub_attach(c->name, 0, &pub), 0);
	/* A publish that waits this long is a deadlock. */
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	t_gate_post(&c->ready);
	for (i = 0;; i++) {
		ret = publish_seq(pub, i, 1);
		if (ret == -EPIPE)
			break;
		if (ret < 0 || ret > CHURNERS + 1)
			fprintf(stderr, "churn publish %llu: %d\n",
				(unsigned long long)i, ret);
		CHILD_ASSERT(ret >= 0 && ret <= CHURNERS + 1);
	}
	fprintf(stderr, "# churn: %llu events published\n",
		(unsigned long long)i);
	ringcast_pub_close(pub);
	return 0;
}

static int churner(void *arg)
{
	struct churn_ctx *c = arg;
	uint64_t rng = 0x2545f4914f6cdd1dull ^ (uint64_t)getpid(), k;

	for (k = 0; k < c->cycles; k++) {
		bool reliable = t_rand(&rng) % 2;
		struct ringcast_sub_opts so = {
			.from = t_rand(&rng) % 2 ? RINGCAST_FROM_OLDEST :
						   RINGCAST_FROM_NEWEST,
			.flags = reliable ? RINGCAST_SUB_RELIABLE : 0,
			.wait = RINGCAST_WAIT_SLEEP,
		};
		struct ringcast_sub *sub = NULL;
		struct ringcast_sub_stats st;
		struct ringcast_event ev;
		uint64_t first, cursor, n, want = t_rand(&rng) % 24;
		int ret;

		ret = ringcast_sub_attach(c->name, &so, &sub, &first);
		if (ret)
			fprintf(stderr, "churner %d cycle %llu: attach: %s\n",
				(int)getpid(), (unsigned long long)k,
				ringcast_strerror(ret));
		CHILD_ASSERT_EQ(ret, 0);
		ringcast_sub_get_stats(sub, &st);
		/* Registered: never more than 7 of 8 entries in use. */
		CHILD_ASSERT(st.entry >= 0);
		cursor = first;
		for (n = 0; n < want; n++) {
			ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
			if (ret == -EOVERFLOW && !reliable) {
				cursor += ev.lost;
				continue;
			}
			if (ret)
				fprintf(stderr, "churner %d: read: %s\n",
					(int)getpid(), ringcast_strerror(ret));
			CHILD_ASSERT_EQ(ret, 0);
			CHILD_ASSERT_EQ(ev.seq, cursor);
			CHILD_ASSERT(t_payload_ok(&ev));
			cursor++;
		}
		/* Hold the publisher back a little, then leave. */
		if (reliable && t_rand(&rng) % 4 == 0)
			sleep_us((unsigned int)(t_rand(&rng) % 2000));
		ringcast_sub_detach(sub);
	}
	return 0;
}

START_TEST(test_churn)
{
	struct churn_ctx c = {
		.cycles = t_env_u64("RINGCAST_RELIABLE_CYCLES", 400),
	};
	struct ringcast_ring_stats info;
	struct t_gate ready;
	struct reader_ctx r = { .end = -EPIPE, .ready = &ready };
	pid_t pub, steady, churners[CHURNERS];
	unsigned int i;

	c.name = rel_ring("churn", 32, CHURNERS + 2, 0);
	r.name = c.name;
	t_gate_init(&c.ready);
	t_gate_init(&ready);
	/* The steady reader checks its own count against the head. */
	r.events = UINT64_MAX;
	steady = t_fork(reader_child, &r);
	ck_assert_int_eq(t_gate_wait(&ready, 1, T_CHILD_MS), 0);
	pub = t_fork(churn_pub, &c);
	ck_assert_int_eq(t_gate_wait(&c.ready, 1, T_CHILD_MS), 0);
	for (i = 0; i < CHURNERS; i++)
		churners[i] = t_fork(churner, &c);
	for (i = 0; i < CHURNERS; i++)
		t_child_ok(churners[i]);
	/* End of stream, also for a publisher blocked at that moment. */
	ck_assert_int_eq(ringcast_ring_close(c.name), 0);
	t_child_ok(pub);
	t_child_ok(steady);

	t_stat(c.name, &info);
	fprintf(stderr,
		"# churn: %llu cycles, blocked %llu times, table high-water "
		"%u\n",
		(unsigned long long)(c.cycles * CHURNERS),
		(unsigned long long)info.blocked, info.table_hwm);
	ck_assert_uint_le(info.table_hwm, CHURNERS + 1);
	ck_assert_uint_eq(info.demotions, 0);
	assert_table_empty(c.name);
	t_gate_close(&c.ready);
	t_gate_close(&ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * A full table
 */

START_TEST(test_full_table)
{
	const char *name = rel_ring("full", 16, 2, 0);
	struct ringcast_sub_opts lossy = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub_opts rel = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct ringcast_sub *a, *b, *c, *d = NULL;
	struct ringcast_sub_stats sa, sb, sc, sd;
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub;

	a = t_sub(name, &rel, NULL);
	b = t_sub(name, &lossy, NULL);
	ringcast_sub_get_stats(a, &sa);
	ringcast_sub_get_stats(b, &sb);
	ck_assert_int_ge(sa.entry, 0);
	ck_assert_int_ge(sb.entry, 0);
	ck_assert_int_ne(sa.entry, sb.entry);
	ck_assert_uint_eq(sa.reliable, 1);
	ck_assert_uint_eq(sb.reliable, 0);

	ck_assert_int_eq(ringcast_sub_attach(name, &rel, &d, NULL), -EUSERS);
	ck_assert_ptr_null(d);
	/* A lossy one reads unregistered and uncounted. */
	c = t_sub(name, &lossy, NULL);
	ringcast_sub_get_stats(c, &sc);
	ck_assert_int_eq(sc.entry, -1);
	ck_assert_uint_eq(sc.reliable, 0);
	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 2);
	t_stat(name, &info);
	ck_assert_uint_eq(info.subscribers, 2);
	ck_assert_uint_eq(info.reliable, 1);
	ck_assert_uint_eq(info.table_hwm, 2);

	pub = t_pub(name, 0);
	ck_assert_int_eq(publish_seq(pub, 0, 1), 2);
	ck_assert_int_eq(ringcast_sub_next(c, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert(t_payload_ok(&ev));

	/* An entry freed is an entry for a reliable subscriber. */
	ringcast_sub_detach(b);
	d = t_sub(name, &rel, NULL);
	ringcast_sub_get_stats(d, &sd);
	ck_assert_int_ge(sd.entry, 0);
	ck_assert_uint_eq(sd.reliable, 1);
	ck_assert_int_eq(publish_seq(pub, 1, 1), 2);
	ck_assert_int_eq(ringcast_sub_next(d, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);

	ringcast_sub_detach(a);
	ringcast_sub_detach(c);
	ringcast_sub_detach(d);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	assert_table_empty(name);
	t_assert_clean();
}
END_TEST

/* A table full of dead subscribers' entries is not full. */
struct dead_ctx {
	const char *name;
	unsigned int flags;
	struct t_gate ready, hold;
};

static int dead_sub(void *arg)
{
	struct dead_ctx *x = arg;
	struct ringcast_sub_opts so = { .flags = x->flags };
	struct ringcast_sub *sub = NULL;

	CHILD_ASSERT_EQ(ringcast_sub_attach(x->name, &so, &sub, NULL), 0);
	t_gate_post(&x->ready);
	t_gate_wait(&x->hold, 1, T_CHILD_MS);
	return 3;
}

/*
 * Fill the table of two with subscribers (the first lossy when @mixed,
 * else both reliable) in children, check that @pub counts both, and kill
 * them: their entries are left to be reclaimed.
 */
static void fill_with_dead(struct dead_ctx *x, struct ringcast_pub *pub,
			   bool mixed)
{
	pid_t kids[2];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		x->flags = mixed && !i ? 0 : RINGCAST_SUB_RELIABLE;
		kids[i] = t_fork(dead_sub, x);
	}
	ck_assert_int_eq(t_gate_wait(&x->ready, 2, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(kill(kids[i], SIGKILL), 0);
		t_child_killed(kids[i], SIGKILL);
	}
}

START_TEST(test_full_of_dead)
{
	struct dead_ctx x = { .name = rel_ring("full-dead", 16, 2, 0) };
	struct ringcast_ring_stats info;
	struct ringcast_sub_stats st;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;

	t_gate_init(&x.ready);
	t_gate_init(&x.hold);
	pub = t_pub(x.name, 0);
	fill_with_dead(&x, pub, true);
	/* A snapshot reclaims them (ringcast_pub_publish()'s contract). */
	t_stat(x.name, &info);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_uint_eq(info.reliable, 0);
	/* Again dead, the table full of them... */
	fill_with_dead(&x, pub, false);
	/* ...the attach reclaims them: a reliable subscriber gets an entry. */
	sub = reliable_sub(x.name, RINGCAST_FROM_NEWEST, NULL);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_int_ge(st.entry, 0);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 1);
	ck_assert_int_eq(publish_seq(pub, 0, 1), 1);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 0);

	/* And a publisher's count reclaims them too. */
	fill_with_dead(&x, pub, false);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 0);
	ck_assert_int_eq(publish_seq(pub, 1, 1), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	assert_table_empty(x.name);
	t_gate_close(&x.ready);
	t_gate_close(&x.hold);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * A forked child that outlives its killed parent
 */

enum orphan_case {
	ORPHAN_LISTED, /* reclaimed by ringcast_ring_get_subscribers() */
	ORPHAN_ATTACH, /* reclaimed by the next attach */
	ORPHAN_BLOCKING, /* the parent blocked a publisher: it resumes */
};

struct orphan_ctx {
	const char *name;
	struct t_gate ready; /* parent attached, grandchild checked */
	struct t_gate hold; /* both wait here; the grandchild until EOF */
};

static int orphan_grandchild(struct orphan_ctx *o, struct ringcast_sub *sub)
{
	struct ringcast_event ev;

	/* Its inherited handle is dead to it. */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, 0), -ECHILD);
	close(o->hold.wr);
	o->hold.wr = -1;
	t_gate_post(&o->ready);
	/* Returns at EOF: once the test and the parent are gone from it. */
	t_gate_wait(&o->hold, 1, T_CHILD_MS);
	return 0;
}

static int orphan_parent(void *arg)
{
	struct orphan_ctx *o = arg;
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	uint64_t first = 1;
	pid_t g;

	CHILD_ASSERT_EQ(ringcast_sub_attach(o->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	fflush(stderr);
	g = fork();
	CHILD_ASSERT(g >= 0);
	if (g == 0)
		_exit(orphan_grandchild(o, sub));
	t_gate_post(&o->ready);
	/* Killed while it waits here. */
	t_gate_wait(&o->hold, 1, T_CHILD_MS);
	return 3;
}

START_TEST(test_fork_orphan)
{
	struct orphan_ctx o = { .name = rel_ring("orphan", 16, 0, 0) };
	struct count_pub_ctx c = {
		.name = o.name,
		.events = 32,
		.first_ret = 1,
		.last_ret = 0,
	};
	struct ringcast_ring_stats info;
	struct ringcast_ring_subscriber si;
	struct ringcast_sub_stats st;
	struct ringcast_sub *sub;
	pid_t parent, pub = -1;
	uint64_t t;

	t_gate_init(&o.ready);
	t_gate_init(&o.hold);
	parent = t_fork(orphan_parent, &o);
	ck_assert_int_eq(t_gate_wait(&o.ready, 2, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_ring_get_subscribers(o.name, &si, 1), 1);
	ck_assert_int_eq(si.pid, parent);
	ck_assert_int_eq(si.alive, 1);
	ck_assert_uint_eq(si.flags, RINGCAST_SUBSCRIBER_RELIABLE);
	if (_i == ORPHAN_BLOCKING) {
		pub = t_fork(count_pub, &c);
		wait_blocked_at(o.name, 16);
	}
	ck_assert_int_eq(kill(parent, SIGKILL), 0);
	t_child_killed(parent, SIGKILL);
	/* The grandchild is alive: it holds its end of @hold open. */

	switch (_i) {
	case ORPHAN_LISTED:
		ck_assert_int_eq(ringcast_ring_get_subscribers(o.name, NULL, 0),
				 0);
		break;
	case ORPHAN_ATTACH:
		sub = reliable_sub(o.name, RINGCAST_FROM_OLDEST, NULL);
		t_stat(o.name, &info);
		ck_assert_uint_eq(info.subscribers, 1);
		ck_assert_uint_eq(info.reliable, 1);
		ringcast_sub_get_stats(sub, &st);
		ck_assert_int_ge(st.entry, 0);
		ringcast_sub_detach(sub);
		break;
	case ORPHAN_BLOCKING:
		t = wait_head_above(o.name, 16, RESUME_MAX_NS);
		fprintf(stderr,
			"# the publisher resumed %llu ms after the death\n",
			(unsigned long long)(t / MS));
		t_child_ok(pub);
		break;
	}
	assert_table_empty(o.name);
	/* Let the grandchild go. */
	t_gate_close(&o.hold);
	t_gate_close(&o.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * The table as ringcast_ring_get_subscribers() lists it
 */

static int holder_child(void *arg)
{
	struct late_ctx *l = arg;
	struct ringcast_sub *sub = NULL;
	uint64_t first = 1;

	CHILD_ASSERT_EQ(
		ringcast_sub_attach(l->name,
				    &(struct ringcast_sub_opts){
					    .from = RINGCAST_FROM_OLDEST,
					    .flags = RINGCAST_SUB_RELIABLE,
				    },
				    &sub, &first),
		0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&l->go);
	t_gate_wait(&l->hold, 1, T_CHILD_MS);
	ringcast_sub_detach(sub);
	return 0;
}

static const struct ringcast_ring_subscriber *
find_entry(const struct ringcast_ring_subscriber *si, int n, int32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if ((int32_t)si[i].id == id)
			return &si[i];
	ck_abort_msg("entry %d is not listed", id);
	return NULL;
}

/* The entry of @sub agrees with its own stats. */
static void check_entry(const struct ringcast_ring_subscriber *si, int n,
			struct ringcast_sub *sub, uint32_t flags, uint64_t head)
{
	const struct ringcast_ring_subscriber *e;
	struct ringcast_sub_stats st;

	ringcast_sub_get_stats(sub, &st);
	ck_assert_int_ge(st.entry, 0);
	e = find_entry(si, n, st.entry);
	ck_assert_int_eq(e->pid, getpid());
	ck_assert_int_eq(e->alive, 1);
	ck_assert_uint_eq(e->flags, flags);
	ck_assert_uint_eq(e->first, st.first);
	ck_assert_uint_eq(e->cursor, st.cursor);
	ck_assert_uint_eq(e->lag, head - st.cursor);
	ck_assert_uint_eq(e->delivered, st.delivered);
	ck_assert_uint_eq(e->skipped, st.skipped);
	ck_assert_uint_eq(e->lost, st.lost);
	ck_assert_uint_eq(e->aborted, 0);
}

START_TEST(test_subscriber_listing)
{
	struct late_ctx l = { .name = rel_ring("listing", 64, 8, 0) };
	static const uint32_t two = 2;
	struct ringcast_sub_opts fo = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.ntypes = 1,
		.types = &two,
	};
	struct ringcast_sub_opts lo = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *a, *b, *c;
	struct ringcast_ring_subscriber si[8];
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	uint64_t i, lost = 0;
	pid_t holder;
	int n, ret;
	bool seen = false;

	t_gate_init(&l.go);
	t_gate_init(&l.hold);
	a = reliable_sub(l.name, RINGCAST_FROM_OLDEST, NULL);
	b = t_sub(l.name, &fo, NULL);
	c = t_sub(l.name, &lo, NULL);
	holder = t_fork(holder_child, &l);
	ck_assert_int_eq(t_gate_wait(&l.go, 1, T_CHILD_MS), 0);

	pub = t_pub(l.name, 0);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 4);
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1 + (uint32_t)(i % 2)), 4);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(ringcast_sub_next(a, &ev, 0), 0);
	while (ringcast_sub_next(b, &ev, 0) == 0)
		ck_assert_uint_eq(ev.type, 2);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ringcast_sub_next(c, &ev, 0), 0);

	ck_assert_int_eq(ringcast_ring_get_subscribers(l.name, NULL, 0), 4);
	ck_assert_int_eq(ringcast_ring_get_subscribers(l.name, si, 2), 4);
	n = ringcast_ring_get_subscribers(l.name, si, 8);
	ck_assert_int_eq(n, 4);
	/* In table order. */
	for (i = 1; i < (uint64_t)n; i++)
		ck_assert_uint_lt(si[i - 1].id, si[i].id);
	check_entry(si, n, a, RINGCAST_SUBSCRIBER_RELIABLE, 30);
	check_entry(si, n, b,
		    RINGCAST_SUBSCRIBER_RELIABLE | RINGCAST_SUBSCRIBER_FILTERED,
		    30);
	check_entry(si, n, c, 0, 30);
	for (i = 0; i < (uint64_t)n; i++) {
		if (si[i].pid != holder)
			continue;
		ck_assert(!seen);
		seen = true;
		ck_assert_int_eq(si[i].alive, 1);
		ck_assert_uint_eq(si[i].flags, RINGCAST_SUBSCRIBER_RELIABLE);
		ck_assert_uint_eq(si[i].first, 0);
		ck_assert_uint_eq(si[i].cursor, 0);
		ck_assert_uint_eq(si[i].lag, 30);
		ck_assert_uint_eq(si[i].delivered, 0);
	}
	ck_assert(seen);
	{
		struct ringcast_sub_stats sb;

		ringcast_sub_get_stats(b, &sb);
		ck_assert_uint_eq(sb.delivered, 15);
		ck_assert_uint_eq(sb.skipped, 15);
	}

	t_gate_post(&l.hold);
	t_child_ok(holder);
	ck_assert_int_eq(ringcast_ring_get_subscribers(l.name, NULL, 0), 3);

	/* Only the lossy one left: it is lapped, and the table says so. */
	ringcast_sub_detach(a);
	ringcast_sub_detach(b);
	for (i = 30; i < 230; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);
	for (i = 0; i < 10; i++) {
		ret = ringcast_sub_next(c, &ev, 0);
		if (ret == -EOVERFLOW)
			lost += ev.lost;
		else
			ck_assert_int_eq(ret, 0);
	}
	ck_assert_uint_gt(lost, 0);
	n = ringcast_ring_get_subscribers(l.name, si, 8);
	ck_assert_int_eq(n, 1);
	check_entry(si, n, c, 0, 230);
	ck_assert_uint_eq(si[0].lost, lost);

	ringcast_sub_detach(c);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	assert_table_empty(l.name);
	t_gate_close(&l.go);
	t_gate_close(&l.hold);
	t_assert_clean();
}
END_TEST

TCase *reliable_table_case(void)
{
	TCase *tc = reliable_case("table");

	tcase_add_test(tc, test_join_race);
	tcase_add_test(tc, test_churn);
	tcase_add_test(tc, test_full_table);
	tcase_add_test(tc, test_full_of_dead);
	tcase_add_loop_test(tc, test_fork_orphan, ORPHAN_LISTED,
			    ORPHAN_BLOCKING + 1);
	tcase_add_test(tc, test_subscriber_listing);
	return tc;
}
