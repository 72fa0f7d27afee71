// SPDX-License-Identifier: MIT
/*
 * Reliable subscribers gate the publisher (suite reliable, case gating): a
 * slow one loses nothing; reliable and lossy ones share a ring; publishes
 * that may not wait, or not for long, or are interrupted; borrows,
 * reservations and batches; a start at a given sequence; the accounting
 * of losses; waiting for subscribers; a filtered reliable subscriber.
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
 * A slow reliable subscriber gates the publisher and loses nothing
 */

START_TEST(test_slow_subscriber)
{
	const char *name = rel_ring("slow", 16, 0, 0);
	struct t_gate ready;
	struct reader_ctx r = {
		.name = name,
		.events = 160, /* ten rings */
		.end = -EPIPE,
		.delay_us = 1000,
		.ready = &ready,
	};
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	uint64_t i;
	pid_t child;

	t_gate_init(&ready);
	child = t_fork(reader_child, &r);
	ck_assert_int_eq(t_gate_wait(&ready, 1, T_CHILD_MS), 0);
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < r.events; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(child);

	t_stat(name, &info);
	fprintf(stderr, "# the publisher blocked %llu times, %llu ms\n",
		(unsigned long long)info.blocked,
		(unsigned long long)(info.blocked_ns / MS));
	ck_assert_uint_gt(info.blocked, 0);
	ck_assert_uint_gt(info.blocked_ns, 0);
	ck_assert_uint_eq(info.published, r.events);
	ck_assert_uint_eq(info.demotions, 0);
	assert_table_empty(name);
	t_gate_close(&ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Reliable and lossy subscribers on one ring, a fast publisher
 */

struct mixed_ctx {
	const char *name;
	uint64_t events;
	int registered; /* what every publish must return */
	bool reliable;
	unsigned int wait;
	struct t_gate ready;
};

static int mixed_sub(void *arg)
{
	struct mixed_ctx *m = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = m->wait,
		.flags = m->reliable ? RINGCAST_SUB_RELIABLE : 0,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct t_tally t = { 0 };

	CHILD_ASSERT_EQ(ringcast_sub_attach(m->name, &so, &sub, &t.first), 0);
	CHILD_ASSERT_EQ(t.first, 0);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT(st.entry >= 0);
	CHILD_ASSERT_EQ(st.reliable, m->reliable);
	t_gate_post(&m->ready);
	/* Checks sequences, payloads, and the stats against what it saw. */
	if (t_read_stream(sub, -EPIPE, &t))
		return 1;
	CHILD_ASSERT_EQ(t.cursor, m->events);
	CHILD_ASSERT_EQ(t.delivered + t.lost, m->events);
	if (m->reliable) {
		CHILD_ASSERT_EQ(t.lost, 0);
		CHILD_ASSERT_EQ(t.laps, 0);
		CHILD_ASSERT_EQ(t.delivered, m->events);
	}
	fprintf(stderr, "# %s subscriber %d: %llu delivered, %llu lost\n",
		m->reliable ? "reliable" : "lossy", (int)getpid(),
		(unsigned long long)t.delivered, (unsigned long long)t.lost);
	ringcast_sub_detach(sub);
	return 0;
}

static int mixed_pub(void *arg)
{
	struct mixed_ctx *m = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t i;
	int ret;

	CHILD_ASSERT_EQ(ringcast_pub_attach(m->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < m->events; i++) {
		ret = publish_seq(pub, i, 1);
		if (ret != m->registered)
			fprintf(stderr, "publish %llu: %d\n",
				(unsigned long long)i, ret);
		CHILD_ASSERT_EQ(ret, m->registered);
	}
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

START_TEST(test_mixed_fanout)
{
	struct mixed_ctx m = {
		.events = t_env_u64("RINGCAST_RELIABLE_EVENTS", 200000),
		.registered = 5,
	};
	struct ringcast_ring_stats info;
	pid_t subs[5], pub;
	unsigned int i;

	m.name = rel_ring("mixed", 256, 0, 0);
	t_gate_init(&m.ready);
	for (i = 0; i < 5; i++) {
		m.reliable = i < 3;
		m.wait = i == 1 ? RINGCAST_WAIT_SLEEP : RINGCAST_WAIT_SPIN;
		subs[i] = t_fork(mixed_sub, &m);
	}
	ck_assert_int_eq(t_gate_wait(&m.ready, 5, T_CHILD_MS), 0);
	t_stat(m.name, &info);
	ck_assert_uint_eq(info.subscribers, 5);
	ck_assert_uint_eq(info.reliable, 3);
	pub = t_fork(mixed_pub, &m);
	t_child_ok(pub);
	for (i = 0; i < 5; i++)
		t_child_ok(subs[i]);
	t_stat(m.name, &info);
	ck_assert_uint_eq(info.published, m.events);
	ck_assert_uint_eq(info.demotions, 0);
	ck_assert_uint_ge(info.table_hwm, 5);
	fprintf(stderr, "# the publisher blocked %llu times\n",
		(unsigned long long)info.blocked);
	assert_table_empty(m.name);
	t_gate_close(&m.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Publishes that may not wait, or not for long, or are interrupted
 */

struct intr_ctx {
	const char *name;
	struct ringcast_pub *pub;
	uint64_t blocked0;
	int fail;
};

/* Interrupt the publisher once the ring shows it blocked again. */
static void *interrupter(void *arg)
{
	struct intr_ctx *x = arg;
	uint64_t deadline = t_now_ns() + T_WAIT_NS;
	struct ringcast_ring_stats info;

	for (;;) {
		if (ringcast_ring_get_stats(x->name, &info) != 0) {
			x->fail = 1;
			break;
		}
		if (info.blocked > x->blocked0)
			break;
		if (t_now_ns() > deadline) {
			x->fail = 2;
			break;
		}
		sleep_us(200);
	}
	/* Let it get from the spin into the sleep, most of the time. */
	sleep_us(2000);
	ringcast_pub_interrupt(x->pub);
	return NULL;
}

START_TEST(test_publish_no_room)
{
	const char *name = rel_ring("no-room", 16, 0, 0);
	struct intr_ctx x = { .name = name };
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct ringcast_msg msg;
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t first = 1, i, t0, dt;
	pthread_t th;

	sub = reliable_sub(name, RINGCAST_FROM_OLDEST, &first);
	ck_assert_uint_eq(first, 0);
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);

	/* Non-blocking: -EAGAIN, nothing written. */
	ck_assert_int_eq(publish_seq(pub, 16, 1), -EAGAIN);
	t_payload(16, buf);
	msg = (struct ringcast_msg){ .type = 1,
				     .len = T_PAYLOAD_LEN,
				     .data = buf };
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, &msg, 1), -EAGAIN);
	ck_assert_uint_eq(ringcast_pub_head(pub), 16);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 16);
	ck_assert_uint_eq(info.published, 16);

	/* Timed: -ETIMEDOUT after the timeout, nothing written. */
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 50 * MS), 0);
	t0 = t_now_ns();
	ck_assert_int_eq(publish_seq(pub, 16, 1), -ETIMEDOUT);
	dt = t_now_ns() - t0;
	ck_assert_uint_ge(dt, 50 * MS);
	ck_assert_uint_lt(dt, RESUME_MAX_NS);
	ck_assert_uint_eq(ringcast_pub_head(pub), 16);

	/* Interrupted before the wait: the next wait returns -EINTR. */
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	ringcast_pub_interrupt(pub);
	ck_assert_int_eq(publish_seq(pub, 16, 1), -EINTR);
	/* Consumed: this one times out. */
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 10 * MS), 0);
	ck_assert_int_eq(publish_seq(pub, 16, 1), -ETIMEDOUT);

	/* Interrupted from another thread while it waits. */
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	t_stat(name, &info);
	x.pub = pub;
	x.blocked0 = info.blocked;
	ck_assert_int_eq(pthread_create(&th, NULL, interrupter, &x), 0);
	ck_assert_int_eq(publish_seq(pub, 16, 1), -EINTR);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(x.fail, 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 16);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 16);
	ck_assert_uint_eq(info.published, 16);

	/* The subscriber reads exactly the 16 events, nothing after. */
	read_range(sub, 0, 16, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	/* Room again: a publish that may not wait succeeds. */
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	ck_assert_int_eq(publish_seq(pub, 16, 1), 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 16);
	ck_assert(t_payload_ok(&ev));

	/* An interrupt with no wait in progress waits for the next wait. */
	ringcast_pub_interrupt(pub);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	ck_assert_int_eq(publish_seq(pub, 17, 1), 1);
	for (i = 18; i < 33; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);
	ck_assert_int_eq(publish_seq(pub, 33, 1), -EINTR);
	ck_assert_uint_eq(ringcast_pub_head(pub), 33);

	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * A borrowed event is not overwritten; a reservation, a batch and a
 * reserved batch wait for room like a publish, and a batch that fits in
 * one part is all or nothing.
 */
START_TEST(test_borrow_reserve_batch)
{
	const char *name = rel_ring("borrow", 16, 0, 0);
	unsigned char buf[3][T_PAYLOAD_LEN];
	struct ringcast_msg msgs[3];
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t first = 1, i;
	void *slot, *bufs[3];

	sub = reliable_sub(name, RINGCAST_FROM_OLDEST, &first);
	ck_assert_uint_eq(first, 0);
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);

	/* Event 0 borrowed in place: slot 0 is not free. */
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert_int_eq(publish_seq(pub, 16, 1), -EAGAIN);
	/* A reservation waits for room as a publish does: none here. */
	ck_assert_int_eq(ringcast_pub_reserve(pub, T_PAYLOAD_LEN, &slot),
			 -EAGAIN);
	ck_assert(t_payload_ok(&ev));
	ck_assert_int_eq(ringcast_sub_release(sub, &ev), 0);

	/* Released: one slot free.  Nothing was left reserved. */
	ck_assert_int_eq(ringcast_pub_reserve(pub, T_PAYLOAD_LEN, &slot), 0);
	t_payload(16, slot);
	ck_assert_int_eq(ringcast_pub_commit(pub, 1, T_PAYLOAD_LEN), 1);
	ck_assert_int_eq(publish_seq(pub, 17, 1), -EAGAIN);

	/* Two more read: room for two; a batch of three writes nothing. */
	for (i = 1; i < 3; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
	}
	t_payload_batch(msgs, buf, 17, 3);
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, msgs, 3), -EAGAIN);
	ck_assert_uint_eq(ringcast_pub_head(pub), 17);
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, msgs, 2), 1);
	ck_assert_uint_eq(ringcast_pub_head(pub), 19);

	/* A reserved batch waits for room for all of it, like a batch. */
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 1, T_PAYLOAD_LEN,
						    bufs),
			 -EAGAIN);
	read_range(sub, 3, 5, 0);
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 3, T_PAYLOAD_LEN,
						    bufs),
			 -EAGAIN);
	/* Nothing was left reserved: a batch of two fits. */
	ck_assert_int_eq(
		ringcast_pub_reserve_batch(pub, 2, T_PAYLOAD_LEN, bufs), 0);
	for (i = 0; i < 2; i++) {
		t_payload(19 + i, bufs[i]);
		msgs[i] = (struct ringcast_msg){ .type = 1,
						 .len = T_PAYLOAD_LEN };
	}
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 2), 1);
	ck_assert_uint_eq(ringcast_pub_head(pub), 21);

	read_range(sub, 5, 21, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * Reliable subscribers that start at a given sequence: ahead of the head
 * (they wait for it, and hold nothing back meanwhile), and below the
 * oldest retained event (what they cannot have is reported lost, once).
 */
START_TEST(test_reliable_from_seq)
{
	const char *name = rel_ring("from-seq", 16, 0, 0);
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_SEQ,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct ringcast_sub *ahead, *behind;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	uint64_t first = 1, i, lost;

	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 0);

	so.seq = 50;
	ahead = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 50);
	ck_assert_int_eq(ringcast_sub_next(ahead, &ev, 0), -EAGAIN);
	/* It holds nothing back up to a ring past its first sequence. */
	for (i = 40; i < 66; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 1);
	ck_assert_int_eq(publish_seq(pub, 66, 1), -EAGAIN);
	read_range(ahead, 50, 66, 0);
	ringcast_sub_get_stats(ahead, &st);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.first, 50);

	/*
	 * Oldest retained is 50: asking for 45 loses 45..49 at least, and
	 * more if the publisher was licensed to overwrite them already.
	 */
	so.seq = 45;
	behind = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 45);
	ck_assert_int_eq(ringcast_sub_next(behind, &ev, 0), -EOVERFLOW);
	ck_assert_uint_ge(ev.lost, 5);
	ck_assert_uint_le(ev.lost, 21);
	lost = ev.lost;
	read_range(behind, 45 + lost, 66, 0);
	ck_assert_int_eq(ringcast_sub_next(behind, &ev, 0), -EAGAIN);
	ringcast_sub_get_stats(behind, &st);
	ck_assert_uint_eq(st.lost, lost);
	ck_assert_uint_eq(st.laps, 1);
	ck_assert_uint_eq(st.reliable, 1);
	ck_assert_uint_eq(st.delivered, 21 - lost);
	ck_assert_int_eq(publish_seq(pub, 66, 1), 2);

	ringcast_sub_detach(ahead);
	ringcast_sub_detach(behind);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * The accounting holds at every moment, not only after the loss has been
 * reported: delivered + skipped + lost = cursor - first, in the
 * subscriber's stats and in its table entry alike.
 */
static void check_accounting(const char *name, struct ringcast_sub *sub,
			     const char *when)
{
	struct ringcast_ring_subscriber si[8];
	struct ringcast_sub_stats st;
	int n, i;

	ringcast_sub_get_stats(sub, &st);
	ck_assert_msg(
		st.delivered + st.skipped + st.lost == st.cursor - st.first,
		"%s: stats: delivered %llu + skipped %llu + lost %llu "
		"!= cursor %llu - first %llu",
		when, (unsigned long long)st.delivered,
		(unsigned long long)st.skipped, (unsigned long long)st.lost,
		(unsigned long long)st.cursor, (unsigned long long)st.first);
	n = ringcast_ring_get_subscribers(name, si, 8);
	for (i = 0; i < n && i < 8; i++) {
		if ((int32_t)si[i].id != st.entry)
			continue;
		ck_assert_msg(si[i].delivered == st.delivered &&
				      si[i].lost == st.lost &&
				      si[i].cursor == st.cursor &&
				      si[i].first == st.first,
			      "%s: entry: delivered %llu lost %llu cursor "
			      "%llu first %llu; stats: delivered %llu lost "
			      "%llu cursor %llu first %llu",
			      when, (unsigned long long)si[i].delivered,
			      (unsigned long long)si[i].lost,
			      (unsigned long long)si[i].cursor,
			      (unsigned long long)si[i].first,
			      (unsigned long long)st.delivered,
			      (unsigned long long)st.lost,
			      (unsigned long long)st.cursor,
			      (unsigned long long)st.first);
		return;
	}
	ck_abort_msg("%s: entry %d not listed", when, st.entry);
}

START_TEST(test_accounting_pending_loss)
{
	const char *name = rel_ring("pending-loss", 16, 0, 50 * MS);
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_SEQ,
		.seq = 10,
		.flags = _i ? RINGCAST_SUB_RELIABLE : 0,
	};
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t i;
	int ret;

	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1), 0);
	/* Asks for 10; 24..39 are retained. */
	sub = t_sub(name, &so, NULL);
	check_accounting(name, sub, "attached below the oldest");
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EOVERFLOW);
	check_accounting(name, sub, "after the loss was reported");
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	check_accounting(name, sub, "after a read");
	if (_i) {
		/* Demoted while it borrows: told by the release. */
		ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
		for (i = 40; i < 80; i++)
			ck_assert_int_ge(publish_seq(pub, i, 1), 0);
		ret = ringcast_sub_release(sub, &ev);
		ck_assert_msg(ret == -ESTALE || ret == -EOVERFLOW,
			      "release: %s", ringcast_strerror(ret));
		check_accounting(name, sub, "after the release");
		while ((ret = ringcast_sub_next(sub, &ev, 0)) != -EAGAIN)
			check_accounting(name, sub, "reading on");
	}
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

static int late_sub(void *arg)
{
	struct late_ctx *l = arg;
	struct ringcast_sub *sub = NULL;

	CHILD_ASSERT_EQ(t_gate_wait(&l->go, 1, T_CHILD_MS), 0);
	CHILD_ASSERT_EQ(ringcast_sub_attach(l->name, NULL, &sub, NULL), 0);
	t_gate_wait(&l->hold, 1, T_CHILD_MS);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_wait_subscribers)
{
	struct late_ctx l = { .name = rel_ring("wait-subs", 16, 0, 0) };
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	pid_t child;

	t_gate_init(&l.go);
	t_gate_init(&l.hold);
	pub = t_pub(l.name, 0);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 0);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 0, 0), 0);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 1, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 1, 20 * MS),
			 -ETIMEDOUT);
	ringcast_pub_interrupt(pub);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS),
			 -EINTR);

	sub = reliable_sub(l.name, RINGCAST_FROM_NEWEST, NULL);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 1);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 1, 0), 1);

	/* A second one attaches from another process while we wait. */
	child = t_fork(late_sub, &l);
	t_gate_post(&l.go);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 2, T_WAIT_NS), 2);
	ck_assert_int_eq(publish_seq(pub, 0, 1), 2);
	t_gate_post(&l.hold);
	t_child_ok(child);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 1);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_subscribers(pub), 0);
	/* Closed from outside: nothing to wait for any more. */
	ck_assert_int_eq(ringcast_ring_close(l.name), 0);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS),
			 -EPIPE);
	ck_assert_int_eq(ringcast_pub_close(pub), -EPIPE);
	t_gate_close(&l.go);
	t_gate_close(&l.hold);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * A filtered reliable subscriber does not hold the publisher back
 */

struct filtered_ctx {
	const char *name;
	uint64_t others;
	struct t_gate ready;
};

static int filtered_sub(void *arg)
{
	struct filtered_ctx *f = arg;
	static const uint32_t want = 7;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.wait = RINGCAST_WAIT_SLEEP,
		.ntypes = 1,
		.types = &want,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	uint64_t first = 1;

	CHILD_ASSERT_EQ(ringcast_sub_attach(f->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&f->ready);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, 2 * T_WAIT_NS), 0);
	CHILD_ASSERT_EQ(ev.seq, f->others);
	CHILD_ASSERT_EQ(ev.type, want);
	CHILD_ASSERT(t_payload_ok(&ev));
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.reliable, 1);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.skipped, f->others);
	CHILD_ASSERT_EQ(st.delivered, 1);
	CHILD_ASSERT_EQ(st.lost, 0);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_filtered_reliable)
{
	/* 100 rings of other types: 25 s if each waited for the timer. */
	struct filtered_ctx f = {
		.name = rel_ring("filtered", 16, 0, 0),
		.others = 1600,
	};
	struct ringcast_ring_stats info;
	struct ringcast_ring_subscriber si;
	struct ringcast_pub *pub;
	uint64_t i, t0, dt;
	pid_t child;

	t_gate_init(&f.ready);
	child = t_fork(filtered_sub, &f);
	ck_assert_int_eq(t_gate_wait(&f.ready, 1, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_ring_get_subscribers(f.name, &si, 1), 1);
	ck_assert_uint_eq(si.flags, RINGCAST_SUBSCRIBER_RELIABLE |
					    RINGCAST_SUBSCRIBER_FILTERED);
	pub = t_pub(f.name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	t0 = t_now_ns();
	for (i = 0; i < f.others; i++)
		ck_assert_int_eq(publish_seq(pub, i, 1 + (uint32_t)(i % 3)), 1);
	dt = t_now_ns() - t0;
	ck_assert_int_eq(publish_seq(pub, f.others, 7), 1);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(child);
	t_stat(f.name, &info);
	fprintf(stderr,
		"# %llu events of other types in %llu ms, blocked %llu "
		"times\n",
		(unsigned long long)f.others, (unsigned long long)(dt / MS),
		(unsigned long long)info.blocked);
	ck_assert_uint_lt(dt, 5000 * MS);
	assert_table_empty(f.name);
	t_gate_close(&f.ready);
	t_assert_clean();
}
END_TEST

TCase *reliable_gating_case(void)
{
	TCase *tc = reliable_case("gating");

	tcase_add_test(tc, test_slow_subscriber);
	tcase_add_test(tc, test_mixed_fanout);
	tcase_add_test(tc, test_filtered_reliable);
	tcase_add_test(tc, test_publish_no_room);
	tcase_add_test(tc, test_borrow_reserve_batch);
	tcase_add_test(tc, test_reliable_from_seq);
	tcase_add_loop_test(tc, test_accounting_pending_loss, 0, 2);
	tcase_add_test(tc, test_wait_subscribers);
	return tc;
}
