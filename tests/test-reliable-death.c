// SPDX-License-Identifier: MIT
/*
 * The publisher's death with reliable subscribers (suite reliable, case
 * publisher-death), and takeovers that they resubscribe after.
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
 * The publisher's death with reliable subscribers
 */

enum pub_death {
	PDEATH_AFTER_PUBLISH, /* kill -9 itself after K events */
	PDEATH_MID_RESERVE, /* kill -9 itself with a slot reserved */
	PDEATH_BLOCKED, /* killed by the test while blocked */
};

struct pdeath_ctx {
	const char *name;
	int how;
	uint64_t events; /* what it publishes before its death */
	int role; /* of the next subscriber forked: 0 reads, 1 holds */
	struct t_gate ready;
	struct t_gate go; /* the holding subscriber reads after this */
	uint64_t *times; /* shared: [0] the death, [1] -EOWNERDEAD seen */
};

static int pdeath_pub(void *arg)
{
	struct pdeath_ctx *d = arg;
	struct ringcast_pub *pub = NULL;
	void *slot;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(d->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < d->events; i++)
		CHILD_ASSERT(publish_seq(pub, i, 1) >= 0);
	if (d->how == PDEATH_MID_RESERVE) {
		CHILD_ASSERT_EQ(ringcast_pub_reserve(pub, T_PAYLOAD_LEN, &slot),
				0);
		memset(slot, 0xab, T_PAYLOAD_LEN);
	}
	d->times[0] = t_now_ns();
	kill(getpid(), SIGKILL);
	return 3;
}

static int pdeath_sub(void *arg)
{
	struct pdeath_ctx *d = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.wait = d->role ? RINGCAST_WAIT_SPIN : RINGCAST_WAIT_SLEEP,
	};
	struct ringcast_sub *sub = NULL;
	struct t_tally t = { 0 };

	CHILD_ASSERT_EQ(ringcast_sub_attach(d->name, &so, &sub, &t.first), 0);
	CHILD_ASSERT_EQ(t.first, 0);
	t_gate_post(&d->ready);
	if (d->role)
		CHILD_ASSERT_EQ(t_gate_wait(&d->go, 1, T_CHILD_MS), 0);
	/* Every event with its own payload: nothing half-written. */
	if (t_read_stream(sub, -EOWNERDEAD, &t))
		return 1;
	if (!d->role)
		d->times[1] = t_now_ns();
	CHILD_ASSERT_EQ(t.cursor, d->events);
	CHILD_ASSERT_EQ(t.delivered, d->events);
	CHILD_ASSERT_EQ(t.lost, 0);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_publisher_death)
{
	struct pdeath_ctx d = { .how = _i, .events = 100 };
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	pid_t subs[2], pub;
	uint64_t first = 1;

	d.name = rel_ring("pub-death", 16, 0, 0);
	d.times = t_shared_alloc(2 * sizeof(uint64_t));
	t_gate_init(&d.ready);
	t_gate_init(&d.go);
	if (d.how == PDEATH_BLOCKED)
		d.events = 16; /* where the holding subscriber stops it */
	subs[0] = t_fork(pdeath_sub, &d);
	d.role = d.how == PDEATH_BLOCKED;
	subs[1] = t_fork(pdeath_sub, &d);
	ck_assert_int_eq(t_gate_wait(&d.ready, 2, T_CHILD_MS), 0);
	if (d.how == PDEATH_BLOCKED) {
		/* It would publish 1000 if it could. */
		d.events = 1000;
		pub = t_fork(pdeath_pub, &d);
		d.events = 16;
		wait_blocked_at(d.name, 16);
		d.times[0] = t_now_ns();
		ck_assert_int_eq(kill(pub, SIGKILL), 0);
		t_gate_post(&d.go);
	} else {
		pub = t_fork(pdeath_pub, &d);
	}
	t_child_killed(pub, SIGKILL);
	t_child_ok(subs[0]);
	t_child_ok(subs[1]);
	fprintf(stderr, "# -EOWNERDEAD %llu ms after the death\n",
		(unsigned long long)((d.times[1] - d.times[0]) / MS));
	ck_assert_uint_ge(d.times[1], d.times[0]);
	ck_assert_uint_lt(d.times[1] - d.times[0], RESUME_MAX_NS);

	t_stat(d.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	ck_assert_uint_eq(info.published, d.events);
	/* A late reliable subscriber drains, then hears of the death. */
	sub = reliable_sub(d.name, RINGCAST_FROM_OLDEST, &first);
	ck_assert_uint_le(first, d.events);
	read_range(sub, first, d.events, T_WAIT_NS);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EOWNERDEAD);
	ringcast_sub_detach(sub);
	assert_table_empty(d.name);
	t_gate_close(&d.ready);
	t_gate_close(&d.go);
	munmap(d.times, 2 * sizeof(uint64_t));
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Takeovers with reliable subscribers that resubscribe
 */

#define RUN_EVENTS 100

struct takeover_ctx {
	const char *name;
	unsigned int run; /* which publisher: 0, 1, 2 */
	struct t_gate ready;
	/* shared: timed wakes of the resubscriber across each gap */
	uint64_t *gap_wakes;
};

static int takeover_pub(void *arg)
{
	struct takeover_ctx *k = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t from = (uint64_t)k->run * RUN_EVENTS, i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(k->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_head(pub), from);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = from; i < from + RUN_EVENTS; i++)
		CHILD_ASSERT(publish_seq(pub, i, 1) >= 0);
	if (k->run < 2)
		kill(getpid(), SIGKILL);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

static int resubscriber(void *arg)
{
	struct takeover_ctx *k = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE | RINGCAST_SUB_RESUBSCRIBE,
		/* The default liveness, 250 ms, caps the backoff. */
		.wait = RINGCAST_WAIT_SLEEP,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	uint32_t epochs[3] = { 0 };
	uint64_t first = 1, c, wakes = 0;
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(k->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&k->ready);
	for (c = 0; c < 3 * RUN_EVENTS; c++) {
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret)
			fprintf(stderr, "resubscriber at %llu: %s\n",
				(unsigned long long)c, ringcast_strerror(ret));
		CHILD_ASSERT_EQ(ret, 0);
		CHILD_ASSERT_EQ(ev.seq, c);
		CHILD_ASSERT(t_payload_ok(&ev));
		/* Slow: every publisher, the new ones too, waits for us. */
		sleep_us(300);
		if (c % RUN_EVENTS == 0) {
			epochs[c / RUN_EVENTS] = ev.epoch;
			ringcast_sub_get_stats(sub, &st);
			if (c)
				k->gap_wakes[c / RUN_EVENTS - 1] =
					st.timed_wakes - wakes;
		}
		CHILD_ASSERT_EQ(ev.epoch, epochs[c / RUN_EVENTS]);
		if (c % RUN_EVENTS == RUN_EVENTS - 1) {
			ringcast_sub_get_stats(sub, &st);
			wakes = st.timed_wakes;
		}
	}
	CHILD_ASSERT(epochs[0] != epochs[1]);
	CHILD_ASSERT(epochs[1] != epochs[2]);
	CHILD_ASSERT(epochs[0] != epochs[2]);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.reliable, 1);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.lost, 0);
	CHILD_ASSERT_EQ(st.delivered, 3 * RUN_EVENTS);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_takeover_resubscribe)
{
	/* 16 slots: every publisher, old and new, is held back by them. */
	struct takeover_ctx k = { .name = rel_ring("takeover", 16, 0, 0) };
	struct t_gate ready;
	struct reader_ctx stopper = {
		.name = k.name,
		.events = RUN_EVENTS,
		.end = -EOWNERDEAD,
		.ready = &ready,
	};
	struct ringcast_ring_stats info;
	pid_t follower, stop, pub;
	unsigned int run;

	k.gap_wakes = t_shared_alloc(2 * sizeof(uint64_t));
	t_gate_init(&k.ready);
	t_gate_init(&ready);
	follower = t_fork(resubscriber, &k);
	stop = t_fork(reader_child, &stopper);
	ck_assert_int_eq(t_gate_wait(&k.ready, 1, T_CHILD_MS), 0);
	ck_assert_int_eq(t_gate_wait(&ready, 1, T_CHILD_MS), 0);
	for (run = 0; run < 3; run++) {
		k.run = run;
		pub = t_fork(takeover_pub, &k);
		if (run == 2) {
			t_child_ok(pub);
			break;
		}
		t_child_killed(pub, SIGKILL);
		if (run == 0)
			/* It hears of the death, and leaves. */
			t_child_ok(stop);
		/*
		 * Leave the ring abandoned for a while, so that the
		 * resubscriber's backoff climbs to its cap: a window, not
		 * a synchronisation.
		 */
		sleep_us(800 * 1000);
		t_stat(k.name, &info);
		ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
		ck_assert_uint_eq(info.head, (run + 1) * RUN_EVENTS);
	}
	t_child_ok(follower);
	fprintf(stderr, "# timed wakes across the gaps: %llu, %llu\n",
		(unsigned long long)k.gap_wakes[0],
		(unsigned long long)k.gap_wakes[1]);
	/*
	 * Live, it wakes every 250 ms; abandoned, after 1, 2, 4, ... 128 ms,
	 * then every 250 ms: about 10 in the window (3 without a backoff,
	 * hundreds polling every millisecond).
	 */
	for (run = 0; run < 2; run++) {
		ck_assert_uint_ge(k.gap_wakes[run], 5);
		ck_assert_uint_le(k.gap_wakes[run], 100);
	}
	t_stat(k.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.published, 3 * RUN_EVENTS);
	assert_table_empty(k.name);
	t_gate_close(&k.ready);
	t_gate_close(&ready);
	munmap(k.gap_wakes, 2 * sizeof(uint64_t));
	t_assert_clean();
}
END_TEST

TCase *reliable_death_case(void)
{
	TCase *tc = reliable_case("publisher-death");

	tcase_add_loop_test(tc, test_publisher_death, PDEATH_AFTER_PUBLISH,
			    PDEATH_BLOCKED + 1);
	tcase_add_test(tc, test_takeover_resubscribe);
	return tc;
}
