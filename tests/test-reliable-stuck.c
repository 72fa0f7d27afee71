// SPDX-License-Identifier: MIT
/*
 * A reliable subscriber that blocks the publisher (suite reliable, case
 * stuck): killed, stopped and demoted, demoted at random moments, holding
 * a borrow too long, or detached; a ring closed under a blocked publish;
 * the start of the wait that monitors see (blocked_since_ns).
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
 * SIGKILL of a reliable subscriber that blocks the publisher
 */

struct victim_ctx {
	const char *name;
	uint64_t sub_demote_ns;
	struct t_gate *ready;
	struct t_gate *go; /* the victim reads once this is posted */
};

/* Attaches reliable from oldest (0), then reads nothing until @go. */
static int victim_child(void *arg)
{
	struct victim_ctx *v = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.demote_ns = v->sub_demote_ns,
	};
	struct ringcast_sub *sub = NULL;
	uint64_t first = 1;

	CHILD_ASSERT_EQ(ringcast_sub_attach(v->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(v->ready);
	/* Killed while it waits here. */
	t_gate_wait(v->go, 1, T_CHILD_MS);
	return 3;
}

START_TEST(test_kill_blocking_subscriber)
{
	const char *name = rel_ring("kill-sub", 16, 0, 0);
	struct t_gate ready, go;
	struct victim_ctx v = { .name = name, .ready = &ready, .go = &go };
	struct reader_ctx r = {
		.name = name,
		.events = 160,
		.end = -EPIPE,
		.ready = &ready,
	};
	struct count_pub_ctx c = {
		.name = name,
		.events = r.events,
		.first_ret = 3,
		.last_ret = 2,
	};
	struct ringcast_ring_stats info;
	pid_t victim, readers[2], pub;
	uint64_t t;

	t_gate_init(&ready);
	t_gate_init(&go);
	victim = t_fork(victim_child, &v);
	readers[0] = t_fork(reader_child, &r);
	r.wait = RINGCAST_WAIT_SLEEP;
	readers[1] = t_fork(reader_child, &r);
	ck_assert_int_eq(t_gate_wait(&ready, 3, T_CHILD_MS), 0);
	pub = t_fork(count_pub, &c);

	/* The victim's cursor is 0: the publisher stops at 16. */
	wait_blocked_at(name, 16);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	t = wait_head_above(name, 16, RESUME_MAX_NS);
	fprintf(stderr, "# the publisher resumed %llu ms after the kill\n",
		(unsigned long long)(t / MS));
	t_child_killed(victim, SIGKILL);
	t_child_ok(pub);
	t_child_ok(readers[0]);
	t_child_ok(readers[1]);
	t_stat(name, &info);
	ck_assert_uint_eq(info.demotions, 0);
	assert_table_empty(name);
	t_gate_close(&ready);
	t_gate_close(&go);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * SIGSTOP of a reliable subscriber under a demotion limit
 */

enum demote_case {
	DEMOTE_RING, /* the ring's limit, 200 ms */
	DEMOTE_OWN, /* no ring limit, the subscriber's own 100 ms */
	DEMOTE_OWN_SHORTER, /* ring 5 s, the subscriber's own 100 ms */
	DEMOTE_OWN_LONGER, /* ring 100 ms, the subscriber's own 5 s */
};

struct stopped_ctx {
	const char *name;
	uint64_t events;
	uint64_t sub_demote_ns;
	struct t_gate ready, go;
	uint64_t *max_wait_ns; /* shared: the publisher's longest publish */
};

/* Stopped before the publisher starts; reads after SIGCONT and @go. */
static int stopped_child(void *arg)
{
	struct stopped_ctx *s = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.demote_ns = s->sub_demote_ns,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	uint64_t first = 1, cursor, delivered = 0, lost = 0, laps = 0;
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(s->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.reliable, 1);
	t_gate_post(&s->ready);
	CHILD_ASSERT_EQ(t_gate_wait(&s->go, 1, T_CHILD_MS), 0);

	/* Told once, before anything else. */
	ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
	if (ret != -ESTALE)
		fprintf(stderr, "first read after the stop: %s\n",
			ringcast_strerror(ret));
	CHILD_ASSERT_EQ(ret, -ESTALE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.demoted, 1);
	CHILD_ASSERT_EQ(st.reliable, 0);

	/* Then a lossy subscriber: laps allowed, every event checked. */
	cursor = first;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret == 0) {
			CHILD_ASSERT_EQ(ev.seq, cursor);
			CHILD_ASSERT(t_payload_ok(&ev));
			cursor++;
			delivered++;
		} else if (ret == -EOVERFLOW) {
			CHILD_ASSERT(ev.lost > 0);
			cursor += ev.lost;
			lost += ev.lost;
			laps++;
		} else {
			break;
		}
	}
	if (ret != -EPIPE)
		fprintf(stderr, "demoted reader at %llu: %s\n",
			(unsigned long long)cursor, ringcast_strerror(ret));
	CHILD_ASSERT_EQ(ret, -EPIPE);
	CHILD_ASSERT_EQ(cursor, s->events);
	/* 160 events went by a stopped reader of 16 slots: it was lapped. */
	CHILD_ASSERT(laps >= 1);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.cursor, cursor);
	CHILD_ASSERT_EQ(st.delivered, delivered);
	CHILD_ASSERT_EQ(st.lost, lost);
	CHILD_ASSERT_EQ(st.laps, laps);
	CHILD_ASSERT_EQ(st.demoted, 1);
	CHILD_ASSERT_EQ(st.reliable, 0);
	CHILD_ASSERT_EQ(st.delivered + st.skipped + st.lost,
			st.cursor - st.first);
	ringcast_sub_detach(sub);
	return 0;
}

static int stopped_pub(void *arg)
{
	struct stopped_ctx *s = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t i, t0, dt, max = 0;

	CHILD_ASSERT_EQ(ringcast_pub_attach(s->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < s->events; i++) {
		t0 = t_now_ns();
		CHILD_ASSERT(publish_seq(pub, i, 1) >= 0);
		dt = t_now_ns() - t0;
		if (dt > max)
			max = dt;
	}
	*s->max_wait_ns = max;
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

START_TEST(test_stopped_subscriber_demoted)
{
	static const uint64_t ring_limit[] = { 200 * MS, 0, 5000 * MS,
					       100 * MS };
	static const uint64_t own_limit[] = { 0, 100 * MS, 100 * MS,
					      5000 * MS };
	struct stopped_ctx s = { .events = 160 };
	struct reader_ctx r = { .events = 160, .end = -EPIPE };
	struct ringcast_ring_subscriber si[8];
	struct ringcast_ring_stats info;
	pid_t victim, healthy, pub;
	uint64_t limit;
	int n, i, found = 0;

	s.name = rel_ring("stopped", 16, 0, ring_limit[_i]);
	s.sub_demote_ns = own_limit[_i];
	s.max_wait_ns = t_shared_alloc(sizeof(uint64_t));
	/* The subscriber's own limit counts only when it is shorter. */
	limit = ring_limit[_i];
	if (s.sub_demote_ns && (!limit || s.sub_demote_ns < limit))
		limit = s.sub_demote_ns;
	r.name = s.name;
	r.ready = &s.ready;
	t_gate_init(&s.ready);
	t_gate_init(&s.go);
	t_stat(s.name, &info);
	ck_assert_uint_eq(info.demote_ns, ring_limit[_i]);

	victim = t_fork(stopped_child, &s);
	healthy = t_fork(reader_child, &r);
	ck_assert_int_eq(t_gate_wait(&s.ready, 2, T_CHILD_MS), 0);
	stop_child(victim);
	t_gate_post(&s.go); /* read by the victim once it is continued */
	pub = t_fork(stopped_pub, &s);
	t_child_ok(pub);
	fprintf(stderr, "# limit %llu ms: the longest publish took %llu ms\n",
		(unsigned long long)(limit / MS),
		(unsigned long long)(*s.max_wait_ns / MS));
	/* It waited the limit out (its own clock), and not much longer. */
	ck_assert_uint_ge(*s.max_wait_ns, limit);
	ck_assert_uint_lt(*s.max_wait_ns, limit + RESUME_MAX_NS);

	t_stat(s.name, &info);
	ck_assert_uint_eq(info.demotions, 1);
	/* The stopped victim is listed, alive, demoted, no longer gating. */
	n = ringcast_ring_get_subscribers(s.name, si, 8);
	ck_assert_int_ge(n, 1);
	for (i = 0; i < n && i < 8; i++) {
		if (si[i].pid != victim)
			continue;
		found++;
		ck_assert_int_eq(si[i].alive, 1);
		ck_assert_uint_eq(si[i].flags & RINGCAST_SUBSCRIBER_DEMOTED,
				  RINGCAST_SUBSCRIBER_DEMOTED);
		ck_assert_uint_eq(si[i].flags & RINGCAST_SUBSCRIBER_RELIABLE,
				  0);
		ck_assert_uint_eq(si[i].cursor, 0);
		ck_assert_uint_eq(si[i].lag, s.events);
	}
	ck_assert_int_eq(found, 1);

	ck_assert_int_eq(kill(victim, SIGCONT), 0);
	t_child_ok(victim);
	t_child_ok(healthy);
	t_stat(s.name, &info);
	ck_assert_uint_eq(info.demotions, 1);
	assert_table_empty(s.name);
	t_gate_close(&s.ready);
	t_gate_close(&s.go);
	munmap(s.max_wait_ns, sizeof(uint64_t));
	t_assert_clean();
}
END_TEST

/*
 * Demotions at random moments: readers that pause at random for longer
 * than a 2 ms limit, so that the publisher demotes them wherever they are
 * (mid-copy included).  Each is told at most once, loses nothing before
 * it is told, and the ring counts exactly the demotions they were told of.
 */
#define RACERS 3

struct demote_race_ctx {
	const char *name;
	uint64_t events;
	unsigned int index;
	struct t_gate ready;
	uint64_t *told; /* shared: -ESTALE seen, per reader */
};

static int demote_racer(void *arg)
{
	struct demote_race_ctx *d = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.wait = d->index % 2 ? RINGCAST_WAIT_SLEEP : RINGCAST_WAIT_SPIN,
	};
	uint64_t rng = 0x853c49e6748fea9bull ^ (uint64_t)getpid();
	uint64_t first = 1, cursor = 0, delivered = 0, lost = 0;
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	bool borrow;
	int ret, stale = 0;

	CHILD_ASSERT_EQ(ringcast_sub_attach(d->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&d->ready);
	for (;;) {
		borrow = t_rand(&rng) % 2;
		memset(&ev, 0, sizeof(ev));
		ret = borrow ? ringcast_sub_borrow(sub, &ev, T_WAIT_NS) :
			       ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret == 0 && borrow) {
			bool ok = t_payload_ok(&ev);
			uint64_t seq = ev.seq;

			/* Sometimes past the limit, with the slot held. */
			if (t_rand(&rng) % 8 == 0)
				sleep_us((unsigned int)(t_rand(&rng) % 4000));
			ret = ringcast_sub_release(sub, &ev);
			if (ret == 0) {
				CHILD_ASSERT(ok);
				CHILD_ASSERT_EQ(seq, cursor);
				cursor++;
				delivered++;
				continue;
			}
			/* Overwritten while held: only once demoted. */
			CHILD_ASSERT(ret == -ESTALE ||
				     (stale && ret == -EOVERFLOW));
		}
		if (ret == 0) {
			CHILD_ASSERT_EQ(ev.seq, cursor);
			CHILD_ASSERT(t_payload_ok(&ev));
			cursor++;
			delivered++;
			if (t_rand(&rng) % 8 == 0)
				sleep_us((unsigned int)(t_rand(&rng) % 4000));
		} else if (ret == -ESTALE) {
			stale++;
			CHILD_ASSERT_EQ(stale, 1);
		} else if (ret == -EOVERFLOW) {
			/* Laps come only after the demotion was told. */
			CHILD_ASSERT_EQ(stale, 1);
			CHILD_ASSERT(ev.lost > 0);
			cursor += ev.lost;
			lost += ev.lost;
		} else {
			break;
		}
	}
	if (ret != -EPIPE)
		fprintf(stderr, "racer at %llu: %s\n",
			(unsigned long long)cursor, ringcast_strerror(ret));
	CHILD_ASSERT_EQ(ret, -EPIPE);
	CHILD_ASSERT_EQ(cursor, d->events);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.demoted, (uint64_t)stale);
	CHILD_ASSERT_EQ(st.delivered, delivered);
	CHILD_ASSERT_EQ(st.lost, lost);
	CHILD_ASSERT_EQ(st.cursor, cursor);
	d->told[d->index] = (uint64_t)stale;
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_demote_race)
{
	struct demote_race_ctx d = {
		.name = rel_ring("demote-race", 16, 0, 2 * MS),
		.events = 3000,
	};
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	pid_t racers[RACERS];
	uint64_t i, told = 0;

	d.told = t_shared_alloc(RACERS * sizeof(uint64_t));
	t_gate_init(&d.ready);
	for (i = 0; i < RACERS; i++) {
		d.index = (unsigned int)i;
		racers[i] = t_fork(demote_racer, &d);
	}
	ck_assert_int_eq(t_gate_wait(&d.ready, RACERS, T_CHILD_MS), 0);
	pub = t_pub(d.name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < d.events; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), RACERS);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	for (i = 0; i < RACERS; i++)
		t_child_ok(racers[i]);
	for (i = 0; i < RACERS; i++)
		told += d.told[i];
	t_stat(d.name, &info);
	fprintf(stderr, "# %llu of %d readers demoted\n",
		(unsigned long long)told, RACERS);
	ck_assert_uint_eq(info.demotions, told);
	assert_table_empty(d.name);
	t_gate_close(&d.ready);
	munmap(d.told, RACERS * sizeof(uint64_t));
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * A borrow held past the demotion limit; a ring closed under a publish
 * that waits for room
 */

/*
 * A borrow held past the demotion limit: the publisher demotes the
 * subscriber and overwrites the slot; the release says the event was not
 * valid, and the subscriber is told of the demotion exactly once.
 */
START_TEST(test_borrow_demoted)
{
	const char *name = rel_ring("borrow-demoted", 16, 0, 50 * MS);
	struct ringcast_ring_stats info;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t first = 1, i, cursor, t0;
	int ret, stale = 0;

	sub = reliable_sub(name, RINGCAST_FROM_OLDEST, &first);
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	/* Waits the limit out, demotes us, and overwrites event 0. */
	t0 = t_now_ns();
	for (i = 16; i < 40; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	ck_assert_uint_ge(t_now_ns() - t0, 50 * MS);
	t_stat(name, &info);
	ck_assert_uint_eq(info.demotions, 1);

	/* Not valid: -ESTALE (the demotion, told first) or -EOVERFLOW. */
	ret = ringcast_sub_release(sub, &ev);
	ck_assert_msg(ret == -ESTALE || ret == -EOVERFLOW,
		      "release of an overwritten borrow: %s",
		      ringcast_strerror(ret));
	stale += ret == -ESTALE;
	cursor = ret == -EOVERFLOW ? ev.lost : 0;
	for (;;) {
		ret = ringcast_sub_next(sub, &ev, 0);
		if (ret == -ESTALE) {
			stale++;
			continue;
		}
		if (ret == -EOVERFLOW) {
			ck_assert_uint_gt(ev.lost, 0);
			cursor += ev.lost;
			continue;
		}
		if (ret == -EAGAIN)
			break;
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(ev.seq, cursor);
		ck_assert(t_payload_ok(&ev));
		cursor++;
	}
	ck_assert_int_eq(stale, 1);
	ck_assert_uint_eq(cursor, 40);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.demoted, 1);
	ck_assert_uint_eq(st.reliable, 0);
	ck_assert_uint_eq(st.cursor, 40);
	ck_assert_uint_eq(st.delivered + st.lost, 40);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* Closing the ring from outside ends a publish blocked for room. */
struct closed_ctx {
	const char *name;
};

static int closed_pub(void *arg)
{
	struct closed_ctx *c = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(c->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < 16; i++)
		CHILD_ASSERT_EQ(publish_seq(pub, i, 1), 1);
	CHILD_ASSERT_EQ(publish_seq(pub, 16, 1), -EPIPE);
	CHILD_ASSERT_EQ(ringcast_pub_head(pub), 16);
	ringcast_pub_close(pub);
	return 0;
}

START_TEST(test_close_wakes_publisher)
{
	struct closed_ctx c = { .name = rel_ring("close-blocked", 16, 0, 0) };
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first = 1;
	pid_t pub;

	sub = reliable_sub(c.name, RINGCAST_FROM_OLDEST, &first);
	pub = t_fork(closed_pub, &c);
	wait_blocked_at(c.name, 16);
	ck_assert_int_eq(ringcast_ring_close(c.name), 0);
	t_child_ok(pub);
	read_range(sub, 0, 16, T_WAIT_NS);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Detaching the subscriber that blocks the publisher wakes it
 */

START_TEST(test_detach_wakes_publisher)
{
	const char *name = rel_ring("detach", 16, 0, 0);
	struct count_pub_ctx c = {
		.name = name,
		.events = 32,
		.first_ret = 1,
		.last_ret = 0,
	};
	struct ringcast_sub *sub;
	uint64_t first = 1, t;
	pid_t pub;

	sub = reliable_sub(name, RINGCAST_FROM_OLDEST, &first);
	ck_assert_uint_eq(first, 0);
	pub = t_fork(count_pub, &c);
	wait_blocked_at(name, 16);
	ringcast_sub_detach(sub);
	t = wait_head_above(name, 16, RESUME_MAX_NS);
	fprintf(stderr, "# the publisher resumed %llu us after the detach\n",
		(unsigned long long)(t / 1000));
	t_child_ok(pub);
	/* Detach is safe on NULL (the handle itself is gone now). */
	ringcast_sub_detach(NULL);
	assert_table_empty(name);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * blocked_since_ns: set while the publisher waits, 0 once it does not
 */

struct since_ctx {
	const char *name;
	struct t_gate done; /* posted once all 17 events are published */
	struct t_gate go; /* the publisher closes once this is posted */
};

/* 17 events in a ring of 16 slots: the last one waits for the reader. */
static int since_pub(void *arg)
{
	struct since_ctx *c = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(c->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < 17; i++)
		CHILD_ASSERT_EQ(publish_seq(pub, i, 1), 1);
	t_gate_post(&c->done);
	CHILD_ASSERT_EQ(t_gate_wait(&c->go, 1, T_CHILD_MS), 0);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

START_TEST(test_blocked_since)
{
	struct since_ctx c = { .name = rel_ring("since", 16, 0, 0) };
	struct ringcast_ring_stats a, b;
	struct ringcast_sub *sub;
	uint64_t first = 1, before, ta, tb;
	pid_t pub;

	t_gate_init(&c.done);
	t_gate_init(&c.go);
	sub = reliable_sub(c.name, RINGCAST_FROM_OLDEST, &first);
	t_stat(c.name, &a);
	ck_assert_uint_eq(a.blocked_since_ns, 0);
	before = t_now_ns();
	pub = t_fork(since_pub, &c);

	/* Blocked at 16: the start of the wait is there, and stays. */
	wait_blocked_at(c.name, 16);
	t_stat(c.name, &a);
	ta = t_now_ns();
	ck_assert_uint_ne(a.blocked_since_ns, 0);
	ck_assert_uint_ge(a.blocked_since_ns, before);
	ck_assert_uint_le(a.blocked_since_ns, ta);
	do {
		sleep_us(200);
		t_stat(c.name, &b);
		tb = t_now_ns();
	} while (tb == ta);
	ck_assert_uint_eq(b.head, 16);
	ck_assert_uint_eq(b.blocked_since_ns, a.blocked_since_ns);
	/* The wait so far grows while it lasts. */
	ck_assert_uint_gt(tb - b.blocked_since_ns, ta - a.blocked_since_ns);

	/* Room made: the wait ends, the publisher lives on unblocked. */
	read_range(sub, 0, 17, T_WAIT_NS);
	ck_assert_int_eq(t_gate_wait(&c.done, 1, T_CHILD_MS), 0);
	t_stat(c.name, &b);
	ck_assert_uint_eq(b.head, 17);
	ck_assert_uint_eq(b.publishers, 1);
	ck_assert_uint_ge(b.blocked, 1);
	ck_assert_uint_eq(b.blocked_since_ns, 0);

	t_gate_post(&c.go);
	t_child_ok(pub);
	ringcast_sub_detach(sub);
	t_gate_close(&c.done);
	t_gate_close(&c.go);
	t_assert_clean();
}
END_TEST

TCase *reliable_stuck_case(void)
{
	TCase *tc = reliable_case("stuck");

	tcase_add_test(tc, test_kill_blocking_subscriber);
	tcase_add_loop_test(tc, test_stopped_subscriber_demoted, DEMOTE_RING,
			    DEMOTE_OWN_LONGER + 1);
	tcase_add_test(tc, test_demote_race);
	tcase_add_test(tc, test_borrow_demoted);
	tcase_add_test(tc, test_detach_wakes_publisher);
	tcase_add_test(tc, test_close_wakes_publisher);
	tcase_add_test(tc, test_blocked_since);
	return tc;
}
