// SPDX-License-Identifier: MIT
/*
 * Publishing and subscribing, across processes: fan-out with and without
 * laps, start positions, end of stream, publisher death and takeover, type
 * filters, read_at, borrow/release, batches, reserve/commit and fork().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

static void publish_range(struct ringcast_pub *pub, uint64_t from, uint64_t to)
{
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t i;

	for (i = from; i < to; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
}

/* ----------------------------------------------------------------------
 * Fan-out: one publisher process, several subscriber processes
 */

struct fanout {
	const char *name;
	uint64_t events;
	bool lossless;
	unsigned int wait;
	struct t_gate ready;
};

static int fanout_sub(void *arg)
{
	struct fanout *f = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = f->wait,
	};
	struct ringcast_sub *sub = NULL;
	struct t_tally t = { 0 };

	CHILD_ASSERT_EQ(ringcast_sub_attach(f->name, &so, &sub, &t.first), 0);
	CHILD_ASSERT_EQ(t.first, 0);
	t_gate_post(&f->ready);
	if (t_read_stream(sub, -EPIPE, &t))
		return 1;
	CHILD_ASSERT_EQ(t.cursor, f->events);
	CHILD_ASSERT_EQ(t.delivered + t.lost, f->events);
	if (f->lossless) {
		CHILD_ASSERT_EQ(t.lost, 0);
		CHILD_ASSERT_EQ(t.laps, 0);
	}
	ringcast_sub_detach(sub);
	return 0;
}

static int fanout_pub(void *arg)
{
	struct fanout *f = arg;
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_pub *pub = NULL;
	uint64_t i;
	int ret;

	CHILD_ASSERT_EQ(ringcast_pub_attach(f->name, 0, &pub), 0);
	for (i = 0; i < f->events; i++) {
		t_payload(i, buf);
		ret = ringcast_pub_publish(pub, 1 + (uint32_t)(i % 7), buf,
					   sizeof(buf));
		CHILD_ASSERT(ret >= 0);
	}
	CHILD_ASSERT_EQ(ringcast_pub_head(pub), f->events);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

static void run_fanout(const char *name, uint64_t events, bool lossless,
		       unsigned int nsubs)
{
	struct fanout f = { .name = name,
			    .events = events,
			    .lossless = lossless };
	struct ringcast_ring_stats info;
	uint32_t registered;
	pid_t subs[8], pub;
	unsigned int i;

	ck_assert_uint_le(nsubs, 8);
	t_gate_init(&f.ready);
	for (i = 0; i < nsubs; i++) {
		/* Every wait strategy, busy only once: we have two cores. */
		f.wait = i == 1 ? RINGCAST_WAIT_BUSY :
			 i % 2	? RINGCAST_WAIT_SLEEP :
				  RINGCAST_WAIT_SPIN;
		subs[i] = t_fork(fanout_sub, &f);
	}
	ck_assert_int_eq(t_gate_wait(&f.ready, (int)nsubs, T_CHILD_MS), 0);
	t_stat(name, &info);
	registered = info.subscribers;
	pub = t_fork(fanout_pub, &f);
	t_child_ok(pub);
	for (i = 0; i < nsubs; i++)
		t_child_ok(subs[i]);
	/* Every subscriber with write access is in the table. */
	ck_assert_uint_eq(registered, nsubs);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.head, events);
	ck_assert_uint_eq(info.published, events);
	t_gate_close(&f.ready);
	t_assert_clean();
}

START_TEST(test_fanout_lossy)
{
	/* 1024 slots, 200000 events: the ring wraps 195 times. */
	run_fanout(t_ring("fanout-lossy", 1024, 64), 200000, false, 4);
}
END_TEST

START_TEST(test_fanout_lossless)
{
	run_fanout(t_ring("fanout-lossless", 131072, 64), 100000, true, 4);
}
END_TEST

/* Attach with "newest" while the publisher runs: exactly the events >= S. */
static int newest_race_pub(void *arg)
{
	struct fanout *f = arg;
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_pub *pub = NULL;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(f->name, 0, &pub), 0);
	for (i = 0; i < f->events; i++) {
		if (i == 1000)
			t_gate_post(&f->ready);
		t_payload(i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

START_TEST(test_start_newest_race)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_NEWEST };
	struct fanout f = { .events = 100000 };
	struct ringcast_sub *sub;
	struct t_tally t = { 0 };
	pid_t pub;

	f.name = t_ring("newest-race", 131072, 64);
	t_gate_init(&f.ready);
	pub = t_fork(newest_race_pub, &f);
	ck_assert_int_eq(t_gate_wait(&f.ready, 1, T_CHILD_MS), 0);
	sub = t_sub(f.name, &so, &t.first);
	ck_assert_uint_ge(t.first, 1000);
	ck_assert_uint_le(t.first, f.events);
	ck_assert_int_eq(t_read_stream(sub, -EPIPE, &t), 0);
	ck_assert_uint_eq(t.cursor, f.events);
	ck_assert_uint_eq(t.lost, 0);
	ck_assert_uint_eq(t.delivered, f.events - t.first);
	t_child_ok(pub);
	ringcast_sub_detach(sub);
	t_gate_close(&f.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Start positions, on an idle publisher
 */

/* A ring of 16 slots with events 0..39 published and the publisher kept. */
static const char *ring40(const char *tag, struct ringcast_pub **pubp)
{
	const char *name = t_ring(tag, 16, 64);

	*pubp = t_pub(name, 0);
	publish_range(*pubp, 0, 40);
	return name;
}

static void expect_events(struct ringcast_sub *sub, uint64_t from, uint64_t to)
{
	struct ringcast_event ev;
	uint64_t i;

	for (i = from; i < to; i++) {
		int ret = ringcast_sub_next(sub, &ev, 0);

		ck_assert_msg(ret == 0, "seq %llu: %s", (unsigned long long)i,
			      ringcast_strerror(ret));
		ck_assert_uint_eq(ev.seq, i);
		ck_assert(t_payload_ok(&ev));
		ck_assert_uint_eq(ev.lost, 0);
	}
}

START_TEST(test_start_newest)
{
	struct ringcast_pub *pub;
	const char *name = ring40("newest", &pub);
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first = 12345;

	sub = t_sub(name, NULL, &first);
	ck_assert_uint_eq(first, 40);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	publish_range(pub, 40, 45);
	expect_events(sub, 40, 45);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_start_oldest)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_pub *pub;
	const char *name = ring40("oldest", &pub);
	struct ringcast_ring_stats info;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first;

	t_stat(name, &info);
	sub = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, info.oldest);
	ck_assert_uint_ge(first, 40 - 16);
	ck_assert_uint_lt(first, 40);
	expect_events(sub, first, 40);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.first, first);
	ck_assert_uint_eq(st.cursor, 40);
	ck_assert_uint_eq(st.delivered, 40 - first);
	ck_assert_uint_eq(st.lost, 0);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_start_seq)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ, .seq = 30 };
	struct ringcast_pub *pub;
	const char *name = ring40("fromseq", &pub);
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first;

	sub = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 30);
	expect_events(sub, 30, 40);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);

	/* The head itself: nothing yet. */
	so.seq = 40;
	sub = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 40);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_start_below_oldest)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ, .seq = 5 };
	struct ringcast_pub *pub;
	const char *name = ring40("below", &pub);
	struct ringcast_ring_stats info;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first;
	int ret;

	t_stat(name, &info);
	ck_assert_uint_gt(info.oldest, 5);
	sub = t_sub(name, &so, &first);
	ck_assert_msg(first == 5 || first == info.oldest, "first %llu",
		      (unsigned long long)first);

	memset(&ev, 0, sizeof(ev));
	ret = ringcast_sub_next(sub, &ev, 0);
	ck_assert_msg(ret == -EOVERFLOW, "first read: %s",
		      ringcast_strerror(ret));
	ck_assert_uint_eq(ev.lost, info.oldest - 5);
	expect_events(sub, info.oldest, 40);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.lost, info.oldest - 5);
	ck_assert_uint_eq(st.laps, 1);
	ck_assert_uint_eq(st.delivered, 40 - info.oldest);
	ck_assert_uint_eq(st.cursor, 40);
	ck_assert_uint_eq(st.delivered + st.skipped + st.lost,
			  st.cursor - st.first);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_start_ahead)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ, .seq = 43 };
	struct ringcast_pub *pub;
	const char *name = ring40("ahead", &pub);
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t first;

	sub = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 43);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	/* 40, 41, 42 come before its start: it keeps waiting. */
	publish_range(pub, 40, 43);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	publish_range(pub, 43, 45);
	expect_events(sub, 43, 45);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.first, 43);
	ck_assert_uint_eq(st.delivered, 2);
	ck_assert_uint_eq(st.lost, 0);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

struct ahead_child {
	const char *name;
	struct t_gate ready;
};

static int ahead_child(void *arg)
{
	struct ahead_child *a = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ,
					.seq = 43,
					.wait = RINGCAST_WAIT_SLEEP };
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;

	CHILD_ASSERT_EQ(ringcast_sub_attach(a->name, &so, &sub, NULL), 0);
	t_gate_post(&a->ready);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	CHILD_ASSERT_EQ(ev.seq, 43);
	CHILD_ASSERT(t_payload_ok(&ev));
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_start_ahead_blocking)
{
	struct ahead_child a;
	struct ringcast_pub *pub;
	pid_t pid;

	a.name = ring40("ahead-block", &pub);
	t_gate_init(&a.ready);
	pid = t_fork(ahead_child, &a);
	ck_assert_int_eq(t_gate_wait(&a.ready, 1, T_CHILD_MS), 0);
	publish_range(pub, 40, 44);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid);
	t_gate_close(&a.ready);
	t_assert_clean();
}
END_TEST

START_TEST(test_sub_opts_invalid)
{
	const char *name = t_ring("badopts", 16, 64);
	uint32_t dup[2] = { 3, 3 };
	uint32_t many[RINGCAST_MAX_TYPES + 1];
	struct ringcast_sub_opts so;
	struct ringcast_sub *sub = NULL;
	unsigned int i;

	for (i = 0; i <= RINGCAST_MAX_TYPES; i++)
		many[i] = i + 1;

	memset(&so, 0, sizeof(so));
	so.from = 7;
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), -EINVAL);
	memset(&so, 0, sizeof(so));
	so.wait = 9;
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), -EINVAL);
	memset(&so, 0, sizeof(so));
	so.ntypes = 2;
	so.types = dup;
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), -EINVAL);
	so.ntypes = 1;
	so.types = NULL;
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), -EINVAL);
	so.ntypes = RINGCAST_MAX_TYPES + 1;
	so.types = many;
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), -EINVAL);
	ck_assert_int_eq(ringcast_sub_attach(name, NULL, NULL, NULL), -EINVAL);

	so.ntypes = RINGCAST_MAX_TYPES;
	sub = t_sub(name, &so, NULL);
	ringcast_sub_detach(sub);
	ringcast_sub_detach(NULL);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * End of stream
 */

struct eos_child {
	const char *name;
	uint64_t events;
	struct t_gate ready;
};

static int eos_child(void *arg)
{
	struct eos_child *e = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.wait = RINGCAST_WAIT_SLEEP };
	struct ringcast_sub *sub = NULL;
	struct t_tally t = { 0 };

	CHILD_ASSERT_EQ(ringcast_sub_attach(e->name, &so, &sub, &t.first), 0);
	t_gate_post(&e->ready);
	if (t_read_stream(sub, -EPIPE, &t))
		return 1;
	CHILD_ASSERT_EQ(t.cursor, e->events);
	CHILD_ASSERT_EQ(t.delivered, e->events - t.first);
	ringcast_sub_detach(sub);
	return 0;
}

/* Sleeping subscribers are woken by close, drain, then get -EPIPE. */
START_TEST(test_eos_pub_close)
{
	struct eos_child e = { .events = 10 };
	struct ringcast_pub *pub;
	pid_t pid[2];

	e.name = t_ring("eos", 64, 64);
	pub = t_pub(e.name, 0);
	t_gate_init(&e.ready);
	pid[0] = t_fork(eos_child, &e);
	pid[1] = t_fork(eos_child, &e);
	ck_assert_int_eq(t_gate_wait(&e.ready, 2, T_CHILD_MS), 0);
	publish_range(pub, 0, 10);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid[0]);
	t_child_ok(pid[1]);
	t_gate_close(&e.ready);
	t_assert_clean();
}
END_TEST

/* The same with nothing published: the sleepers only hear the close. */
START_TEST(test_eos_empty)
{
	struct eos_child e = { .events = 0 };
	struct ringcast_pub *pub;
	pid_t pid;

	e.name = t_ring("eos-empty", 64, 64);
	pub = t_pub(e.name, 0);
	t_gate_init(&e.ready);
	pid = t_fork(eos_child, &e);
	ck_assert_int_eq(t_gate_wait(&e.ready, 1, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid);
	t_gate_close(&e.ready);
	t_assert_clean();
}
END_TEST

/* Closed from outside: readers drain; the publisher is refused. */
START_TEST(test_eos_ring_close)
{
	struct eos_child e = { .events = 7 };
	unsigned char buf[T_PAYLOAD_LEN] = { 0 };
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	void *slot;
	pid_t pid;

	e.name = t_ring("eos-outside", 64, 64);
	pub = t_pub(e.name, 0);
	t_gate_init(&e.ready);
	pid = t_fork(eos_child, &e);
	ck_assert_int_eq(t_gate_wait(&e.ready, 1, T_CHILD_MS), 0);
	publish_range(pub, 0, 7);
	ck_assert_int_eq(ringcast_ring_close(e.name), 0);
	t_child_ok(pid);

	ck_assert_int_eq(ringcast_ring_close(e.name), -EPIPE);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
			 -EPIPE);
	ck_assert_int_eq(ringcast_pub_reserve(pub, 8, &slot), -EPIPE);
	ck_assert_uint_eq(ringcast_pub_head(pub), 7);
	t_stat(e.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.head, 7);
	ck_assert_uint_ge(info.refused, 1);
	ck_assert_int_eq(ringcast_pub_close(pub), -EPIPE);
	t_gate_close(&e.ready);
	t_assert_clean();
}
END_TEST

START_TEST(test_attach_after_close)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	const char *name = t_ring("after-close", 64, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	struct t_tally t = { 0 };
	uint64_t first;

	publish_range(pub, 0, 10);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);

	sub = t_sub(name, &so, &t.first);
	ck_assert_uint_eq(t.first, 0);
	ck_assert_int_eq(t_read_stream(sub, -EPIPE, &t), 0);
	ck_assert_uint_eq(t.delivered, 10);
	ringcast_sub_detach(sub);

	/* Newest: nothing retained after its start, end of stream at once. */
	sub = t_sub(name, NULL, &first);
	ck_assert_uint_eq(first, 10);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EPIPE);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

START_TEST(test_reopen)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	const char *name = t_ring("reopen", 64, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_ring_stats before, after;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	struct ringcast_pub *pub2 = NULL;

	publish_range(pub, 0, 10);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_stat(name, &before);
	ck_assert_uint_eq(before.state, RINGCAST_STATE_CLOSED);

	ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub2), -EPIPE);
	pub = t_pub(name, RINGCAST_PUB_REOPEN);
	ck_assert_uint_eq(ringcast_pub_head(pub), 10);
	t_stat(name, &after);
	ck_assert_uint_eq(after.state, RINGCAST_STATE_LIVE);
	ck_assert_uint_ne(after.epoch, before.epoch);
	ck_assert_uint_eq(after.epoch_start, 10);
	ck_assert_uint_eq(after.head, 10);

	publish_range(pub, 10, 12);
	sub = t_sub(name, &so, NULL);
	expect_events(sub, 0, 1);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 9, &ev), 0);
	ck_assert_uint_eq(ev.epoch, (uint32_t)before.epoch);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 10, &ev), 0);
	ck_assert_uint_eq(ev.seq, 10);
	ck_assert(t_payload_ok(&ev));
	ck_assert_uint_eq(ev.epoch, (uint32_t)after.epoch);
	ck_assert_uint_ne(ev.epoch, (uint32_t)before.epoch);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Publisher errors
 */

START_TEST(test_emsgsize)
{
	/* A ring without a data area: every event fits its slot. */
	struct ringcast_ring_opts ro = { .slots = 16, .slot_size = 128 };
	const char *name =
		t_ring_opts("emsgsize", &ro, RINGCAST_CREATE_NO_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	unsigned char big[256];
	struct ringcast_msg msgs[3];
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	void *slot;
	size_t cap = 128 - RINGCAST_SLOT_HEADER, i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 1);
	pub = t_pub(name, 0);
	sub = t_sub(name, &so, NULL);

	ck_assert_int_eq(ringcast_pub_publish(pub, 1, big, cap + 1), -EMSGSIZE);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, big, sizeof(big)),
			 -EMSGSIZE);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, big, (size_t)-1),
			 -EMSGSIZE);
	ck_assert_int_eq(ringcast_pub_reserve(pub, cap + 1, &slot), -EMSGSIZE);
	ck_assert_uint_eq(ringcast_pub_head(pub), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 0);
	ck_assert_uint_eq(info.published, 0);
	ck_assert_uint_ge(info.refused, 3);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	/* One too large: the whole batch is refused. */
	msgs[0] = (struct ringcast_msg){ .type = 1, .len = 4, .data = big };
	msgs[1] = (struct ringcast_msg){ .type = 2,
					 .len = (uint32_t)cap + 1,
					 .data = big };
	msgs[2] = (struct ringcast_msg){ .type = 3, .len = 4, .data = big };
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, msgs, 3), -EMSGSIZE);
	ck_assert_uint_eq(ringcast_pub_head(pub), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	/* Exactly the capacity fits, and comes back intact. */
	ck_assert_int_ge(ringcast_pub_publish(pub, 5, big, cap), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 6, NULL, 0), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 2);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert_uint_eq(ev.type, 5);
	ck_assert_uint_eq(ev.len, cap);
	ck_assert_int_eq(memcmp(ev.data, big, cap), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 1);
	ck_assert_uint_eq(ev.type, 6);
	ck_assert_uint_eq(ev.len, 0);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

static int second_pub_child(void *arg)
{
	struct ringcast_pub *pub = NULL;

	CHILD_ASSERT_EQ(ringcast_pub_attach(arg, 0, &pub), -EBUSY);
	CHILD_ASSERT_EQ(ringcast_pub_attach(arg, RINGCAST_PUB_REOPEN, &pub),
			-EBUSY);
	return 0;
}

START_TEST(test_second_publisher)
{
	const char *name = t_ring("busy", 16, 64);
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_pub *pub2 = NULL;

	/* Another handle in this process... */
	ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub2), -EBUSY);
	/* ...and another process. */
	t_child_ok(t_fork(second_pub_child, (void *)name));
	publish_range(pub, 0, 3);
	t_stat(name, &info);
	ck_assert_int_eq(info.publisher_pid, getpid());
	ck_assert_uint_eq(info.head, 3);

	/* Once it is detached the ring can be taken over. */
	ringcast_pub_detach(pub);
	pub = t_pub(name, 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 3);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * Every publish call returns the number of subscribers in the table:
 * every subscriber with write access registers, lossy ones too.
 */
START_TEST(test_publish_returns_subscribers)
{
	const char *name = t_ring("count", 16, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_msg msg = { .type = 1, .len = 1, .data = "x" };
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub[3];
	void *slot;
	int i;

	ck_assert_int_eq(ringcast_pub_publish(pub, 1, "x", 1), 0);
	for (i = 0; i < 3; i++) {
		sub[i] = t_sub(name, NULL, NULL);
		t_stat(name, &info);
		ck_assert_uint_eq(info.subscribers, (uint32_t)i + 1);
		ck_assert_int_eq(ringcast_pub_publish(pub, 1, "x", 1), i + 1);
	}
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, &msg, 1), 3);
	ck_assert_int_eq(ringcast_pub_reserve(pub, 1, &slot), 0);
	ck_assert_int_eq(ringcast_pub_commit(pub, 1, 1), 3);
	for (i = 0; i < 3; i++) {
		ringcast_sub_detach(sub[i]);
		ck_assert_int_eq(ringcast_pub_publish(pub, 1, "x", 1), 2 - i);
	}
	t_stat(name, &info);
	ck_assert_uint_eq(info.subscribers, 0);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Publisher death
 */

enum death {
	DEATH_AFTER_PUBLISH, /* kill -9 itself after K events */
	DEATH_MID_RESERVE, /* kill -9 itself with a slot reserved */
	DEATH_KILLED, /* killed by the test while idle */
	DEATH_DETACH, /* ringcast_pub_detach(): looks the same */
	DEATH_MID_RESERVE_BATCH, /* kill -9 itself with 5 slots reserved */
};

struct death_ctx {
	const char *name;
	uint64_t events;
	int how;
	struct t_gate ready; /* subscribers attached */
	struct t_gate done; /* publisher published */
	struct t_gate hold; /* publisher waits here to be killed */
};

static int death_pub(void *arg)
{
	struct death_ctx *d = arg;
	struct ringcast_pub *pub = NULL;
	unsigned char buf[T_PAYLOAD_LEN];
	void *slot;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(d->name, 0, &pub), 0);
	for (i = 0; i < d->events; i++) {
		t_payload(i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	switch (d->how) {
	case DEATH_MID_RESERVE_BATCH: {
		void *bufs[5];

		CHILD_ASSERT_EQ(ringcast_pub_reserve_batch(pub, 5,
							   T_PAYLOAD_LEN, bufs),
				0);
		for (i = 0; i < 5; i++)
			memset(bufs[i], 0xab, T_PAYLOAD_LEN);
		kill(getpid(), SIGKILL);
		break;
	}
	case DEATH_MID_RESERVE:
		CHILD_ASSERT_EQ(ringcast_pub_reserve(pub, T_PAYLOAD_LEN, &slot),
				0);
		memset(slot, 0xab, T_PAYLOAD_LEN);
		/* fall through */
	case DEATH_AFTER_PUBLISH:
		kill(getpid(), SIGKILL);
		break;
	case DEATH_KILLED:
		t_gate_post(&d->done);
		/* Blocks until the test kills us (or goes away). */
		t_gate_wait(&d->hold, 1, T_CHILD_MS);
		break;
	case DEATH_DETACH:
		ringcast_pub_detach(pub);
		return 0;
	}
	return 3;
}

static int death_sub(void *arg)
{
	struct death_ctx *d = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub = NULL;
	struct t_tally t = { 0 };

	so.wait = d->how % 2 ? RINGCAST_WAIT_SLEEP : RINGCAST_WAIT_SPIN;
	CHILD_ASSERT_EQ(ringcast_sub_attach(d->name, &so, &sub, &t.first), 0);
	t_gate_post(&d->ready);
	if (t_read_stream(sub, -EOWNERDEAD, &t))
		return 1;
	CHILD_ASSERT_EQ(t.first, 0);
	CHILD_ASSERT_EQ(t.cursor, d->events);
	CHILD_ASSERT_EQ(t.delivered, d->events);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_publisher_death)
{
	struct death_ctx d = { .events = 1000, .how = _i };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_ring_stats dead, info;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	pid_t subs[2], p;
	int status;
	char why[64];

	d.name = t_ring("death", 4096, 64);
	t_gate_init(&d.ready);
	t_gate_init(&d.done);
	t_gate_init(&d.hold);
	subs[0] = t_fork(death_sub, &d);
	subs[1] = t_fork(death_sub, &d);
	ck_assert_int_eq(t_gate_wait(&d.ready, 2, T_CHILD_MS), 0);
	p = t_fork(death_pub, &d);
	if (d.how == DEATH_KILLED) {
		ck_assert_int_eq(t_gate_wait(&d.done, 1, T_CHILD_MS), 0);
		kill(p, SIGKILL);
	}
	status = t_wait(p, T_CHILD_MS);
	if (d.how == DEATH_DETACH)
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "publisher: %s",
			      t_describe_status(status, why, sizeof(why)));
	else
		ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
			      "publisher: %s",
			      t_describe_status(status, why, sizeof(why)));
	t_child_ok(subs[0]);
	t_child_ok(subs[1]);

	/* The subscribers marked it abandoned. */
	t_stat(d.name, &dead);
	ck_assert_uint_eq(dead.state, RINGCAST_STATE_ABANDONED);
	ck_assert_int_eq(dead.publisher_alive, 0);
	ck_assert_uint_eq(dead.published, d.events);

	/* A late subscriber drains what is there, then hears of the death. */
	sub = t_sub(d.name, &so, NULL);
	expect_events(sub, 0, d.events);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EOWNERDEAD);
	ringcast_sub_detach(sub);

	/* Takeover: the sequence goes on, in a new epoch. */
	pub = t_pub(d.name, 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), d.events);
	t_stat(d.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_uint_ne(info.epoch, dead.epoch);
	ck_assert_uint_eq(info.epoch_start, d.events);
	ck_assert_int_eq(info.publisher_pid, getpid());
	publish_range(pub, d.events, d.events + 3);

	so.from = RINGCAST_FROM_SEQ;
	so.seq = d.events - 1;
	sub = t_sub(d.name, &so, NULL);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, d.events - 1);
	ck_assert_uint_eq(ev.epoch, (uint32_t)dead.epoch);
	/* Event K is the new publisher's, never a reserved slot. */
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, d.events);
	ck_assert(t_payload_ok(&ev));
	ck_assert_uint_eq(ev.epoch, (uint32_t)info.epoch);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);

	t_gate_close(&d.ready);
	t_gate_close(&d.done);
	t_gate_close(&d.hold);
	t_assert_clean();
}
END_TEST

/* Resubscription: one subscriber follows the new publisher, one stops. */
struct resub_ctx {
	const char *name;
	uint64_t first_run, second_run;
	struct t_gate ready;
};

static int resub_pub(void *arg)
{
	struct resub_ctx *r = arg;
	struct ringcast_pub *pub = NULL;
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(r->name, 0, &pub), 0);
	for (i = 0; i < r->first_run; i++) {
		t_payload(i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	kill(getpid(), SIGKILL);
	return 3;
}

static int resub_stopper(void *arg)
{
	struct resub_ctx *r = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub = NULL;
	struct t_tally t = { 0 };

	CHILD_ASSERT_EQ(ringcast_sub_attach(r->name, &so, &sub, &t.first), 0);
	t_gate_post(&r->ready);
	if (t_read_stream(sub, -EOWNERDEAD, &t))
		return 1;
	CHILD_ASSERT_EQ(t.cursor, r->first_run);
	ringcast_sub_detach(sub);
	return 0;
}

static int resub_follower(void *arg)
{
	struct resub_ctx *r = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RESUBSCRIBE,
		.wait = RINGCAST_WAIT_SLEEP,
	};
	uint64_t total = r->first_run + r->second_run;
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	uint32_t epoch0 = 0;
	struct t_tally t = { 0 };
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(r->name, &so, &sub, &t.first), 0);
	t_gate_post(&r->ready);
	while (t.cursor < total) {
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret != 0)
			fprintf(stderr, "follower at %llu: %s\n",
				(unsigned long long)t.cursor,
				ringcast_strerror(ret));
		CHILD_ASSERT_EQ(ret, 0);
		CHILD_ASSERT_EQ(ev.seq, t.cursor);
		CHILD_ASSERT(t_payload_ok(&ev));
		if (ev.seq == 0)
			epoch0 = ev.epoch;
		if (ev.seq < r->first_run)
			CHILD_ASSERT_EQ(ev.epoch, epoch0);
		else
			CHILD_ASSERT(ev.epoch != epoch0);
		t.cursor++;
	}
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_resubscribe)
{
	struct resub_ctx r = { .first_run = 100, .second_run = 50 };
	struct ringcast_pub *pub;
	pid_t follower, stopper, p;
	int status;

	r.name = t_ring("resub", 1024, 64);
	t_gate_init(&r.ready);
	follower = t_fork(resub_follower, &r);
	stopper = t_fork(resub_stopper, &r);
	ck_assert_int_eq(t_gate_wait(&r.ready, 2, T_CHILD_MS), 0);
	p = t_fork(resub_pub, &r);
	status = t_wait(p, T_CHILD_MS);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Once the stopper has seen the death, take over. */
	t_child_ok(stopper);
	pub = t_pub(r.name, 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), r.first_run);
	publish_range(pub, r.first_run, r.first_run + r.second_run);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(follower);
	t_gate_close(&r.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Type filter, read_at, borrow/release
 */

static void check_filter(const char *name, const uint32_t *types,
			 uint32_t ntypes, uint64_t events)
{
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.ntypes = ntypes,
		.types = types,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	uint64_t i, want = 0, got = 0;
	uint32_t k;

	for (i = 0; i < events; i++) {
		uint32_t type = (uint32_t)(i % 4) + 1;
		bool wanted = false;

		for (k = 0; k < ntypes; k++)
			wanted |= types[k] == type;
		if (!wanted)
			continue;
		want++;
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_uint_eq(ev.type, type);
		ck_assert(t_payload_ok(&ev));
		got++;
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.delivered, want);
	ck_assert_uint_eq(st.skipped, events - want);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.cursor, events);
	ck_assert_uint_eq(st.delivered + st.skipped + st.lost,
			  st.cursor - st.first);
	ck_assert_uint_eq(got, want);
	ringcast_sub_detach(sub);
}

START_TEST(test_type_filter)
{
	static const uint32_t two[] = { 2 };
	static const uint32_t two_four[] = { 4, 2 };
	static const uint32_t none[] = { 99 };
	const char *name = t_ring("filter", 256, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t i;

	for (i = 0; i < 100; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub,
						      (uint32_t)(i % 4) + 1,
						      buf, sizeof(buf)),
				 0);
	}
	check_filter(name, two, 1, 100);
	check_filter(name, two_four, 2, 100);
	check_filter(name, none, 1, 100);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_read_at)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ, .seq = 38 };
	struct ringcast_pub *pub;
	const char *name = ring40("read-at", &pub);
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub *sub;

	t_stat(name, &info);
	sub = t_sub(name, &so, NULL);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 39, &ev), 0);
	ck_assert_uint_eq(ev.seq, 39);
	ck_assert(t_payload_ok(&ev));
	ck_assert_int_eq(ringcast_sub_read_at(sub, info.oldest, &ev), 0);
	ck_assert_uint_eq(ev.seq, info.oldest);
	ck_assert(t_payload_ok(&ev));
	ck_assert_int_eq(ringcast_sub_read_at(sub, 30, &ev), 0);
	ck_assert(t_payload_ok(&ev));

	/* Overwritten. */
	ck_assert_int_eq(ringcast_sub_read_at(sub, 10, &ev), -ERANGE);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 0, &ev), -ERANGE);
	ck_assert_int_eq(ringcast_sub_read_at(sub, info.oldest - 1, &ev),
			 -ERANGE);
	/* Not yet. */
	ck_assert_int_eq(ringcast_sub_read_at(sub, 40, &ev), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 1000, &ev), -EAGAIN);

	/* The cursor did not move. */
	expect_events(sub, 38, 40);
	publish_range(pub, 40, 41);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 40, &ev), 0);
	ck_assert(t_payload_ok(&ev));
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_borrow_release)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	const char *name = t_ring("borrow", 8, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	int ret;

	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_release(sub, &ev), -EINVAL);
	publish_range(pub, 0, 2);

	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert(t_payload_ok(&ev));
	ck_assert_int_eq(ringcast_sub_release(sub, &ev), 0);
	ck_assert_int_eq(ringcast_sub_release(sub, &ev), -EINVAL);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 1);

	/* A borrow held while the publisher laps the slot. */
	publish_range(pub, 2, 3);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 2);
	publish_range(pub, 3, 3 + 16);
	memset(&ev, 0, sizeof(ev));
	ret = ringcast_sub_release(sub, &ev);
	ck_assert_msg(ret == -EOVERFLOW, "release: %s", ringcast_strerror(ret));
	ck_assert_uint_gt(ev.lost, 0);

	/* It goes on, with the accounting intact. */
	ret = ringcast_sub_next(sub, &ev, 0);
	ck_assert_msg(ret == 0 || ret == -EOVERFLOW, "%s",
		      ringcast_strerror(ret));
	while (ret == 0 || ret == -EOVERFLOW) {
		if (ret == 0)
			ck_assert(t_payload_ok(&ev));
		ret = ringcast_sub_next(sub, &ev, 0);
	}
	ck_assert_int_eq(ret, -EAGAIN);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.cursor, 19);
	ck_assert_uint_ge(st.lost, 1);
	ck_assert_uint_eq(st.delivered + st.skipped + st.lost,
			  st.cursor - st.first);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Batches and reserve/commit
 */

START_TEST(test_batch)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	const char *name = t_ring("batch", 16, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	static const char *const text[] = { "", "a", "hello", "0123456789",
					    "the capacity is 32 bytes here!!" };
	struct ringcast_msg msgs[5];
	struct ringcast_event ev;
	uint64_t ts = 0;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		msgs[i].type = 10 + i;
		msgs[i].len = (uint32_t)strlen(text[i]);
		msgs[i].data = text[i];
	}
	ck_assert_uint_eq(msgs[4].len, 64 - RINGCAST_SLOT_HEADER - 1);
	ck_assert_int_ge(ringcast_pub_publish_batch(pub, msgs, 5), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 5);
	ck_assert_int_ge(ringcast_pub_publish_batch(pub, msgs + 1, 2), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 7);

	for (i = 0; i < 7; i++) {
		unsigned int k = i < 5 ? i : i - 4;

		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_uint_eq(ev.type, 10 + k);
		ck_assert_uint_eq(ev.len, strlen(text[k]));
		ck_assert_int_eq(memcmp(ev.data, text[k], ev.len), 0);
		/* One timestamp per batch. */
		if (i == 0 || i == 5)
			ts = ev.ts;
		ck_assert_uint_eq(ev.ts, ts);
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/*
 * The head is a waiting reader's hint, the stamps decide: a head scribbled
 * low must hold neither a reliable reader nor the publisher it gates,
 * which stores the head again as soon as it may publish.
 */
START_TEST(test_head_scribbled_low)
{
	const char *name = t_ring("lowhead", 64, 0);
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST,
				       .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub *sub = t_sub(name, &o, NULL);
	struct ringcast_pub *pub = t_pub(name, 0);
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_event ev;
	struct rc_hdr *h;
	uint64_t t0;
	size_t size;
	int i;

	for (i = 0; i < 64; i++) {
		t_payload((uint64_t)i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
			 -EAGAIN);
	h = t_map(name, &size);
	atomic_store(&h->head, 0);
	t0 = t_now_ns();
	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, (uint64_t)i);
		ck_assert(t_payload_ok(&ev));
	}
	/* One look past the head per probe interval (100 ms), not per event. */
	ck_assert_uint_lt(t_now_ns() - t0, 3000000000ull);
	t_payload(64, buf);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(atomic_load(&h->head), 65);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.seq, 64);
	ck_assert(t_payload_ok(&ev));
	t_unmap(h, size);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* CPU time this process has used, user and system, in nanoseconds. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	CHILD_ASSERT(getrusage(RUSAGE_SELF, &ru) == 0);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

struct high_head {
	const char *name;
	struct t_gate caught_up, scribbled, timed_out;
};

static int high_head_reader(void *arg)
{
	struct high_head *hh = arg;
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	uint64_t t0, used;
	int i;

	CHILD_ASSERT_EQ(ringcast_sub_attach(hh->name, &o, &sub, NULL), 0);
	for (i = 0; i < 3; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
	}
	t_gate_post(&hh->caught_up);
	CHILD_ASSERT_EQ(t_gate_wait(&hh->scribbled, 1, T_CHILD_MS), 0);
	t0 = cpu_ns();
	/* Nothing comes for a second: a wait, not a spinning CPU. */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, 1000000000), -ETIMEDOUT);
	used = cpu_ns() - t0;
	fprintf(stderr, "# a second's wait under a high head: %llu us of CPU\n",
		(unsigned long long)(used / 1000));
	CHILD_ASSERT(used < 200000000ull);
	t_gate_post(&hh->timed_out);
	/* The publisher's next store of the head heals it. */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	CHILD_ASSERT_EQ(ev.seq, 3);
	CHILD_ASSERT(t_payload_ok(&ev));
	/* Nor did the scribbled head pass for a lost wake-up. */
	CHILD_ASSERT_EQ(t_lost_wakes(sub), 0);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * A head scribbled far above what is committed: a reader that has caught
 * up waits (and wakes for the next event), it does not spin on the head
 * until its timeout.
 */
START_TEST(test_head_scribbled_high)
{
	struct high_head hh = { .name = t_ring("highhead", 64, 0) };
	struct ringcast_pub *pub = t_pub(hh.name, 0);
	uint64_t high = 1000;
	pid_t pid;
	int r;

	t_gate_init(&hh.caught_up);
	t_gate_init(&hh.scribbled);
	t_gate_init(&hh.timed_out);
	publish_range(pub, 0, 3);
	pid = t_fork(high_head_reader, &hh);
	/* The child's gates: a child that failed gives -EPIPE, not a wait. */
	close(hh.caught_up.wr);
	close(hh.timed_out.wr);
	hh.caught_up.wr = hh.timed_out.wr = -1;
	r = t_gate_wait(&hh.caught_up, 1, T_CHILD_MS);
	if (r)
		t_child_ok(pid); /* fails, saying why the child did */
	ck_assert_int_eq(r, 0);
	t_poke(hh.name, offsetof(struct rc_hdr, head), &high, sizeof(high));
	t_gate_post(&hh.scribbled);
	r = t_gate_wait(&hh.timed_out, 1, T_CHILD_MS);
	if (r)
		t_child_ok(pid); /* fails, saying why the child did */
	ck_assert_int_eq(r, 0);
	publish_range(pub, 3, 4);
	t_child_ok(pid);
	t_gate_close(&hh.caught_up);
	t_gate_close(&hh.scribbled);
	t_gate_close(&hh.timed_out);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* A batch longer than the ring: every event still goes out, in order. */
START_TEST(test_batch_wraps)
{
	const char *name = t_ring("batch-wrap", 8, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	unsigned char payload[20][T_PAYLOAD_LEN];
	struct ringcast_msg msgs[20];
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_SEQ, .seq = 12 };
	struct ringcast_sub *sub;

	t_payload_batch(msgs, payload, 0, 20);
	ck_assert_int_ge(ringcast_pub_publish_batch(pub, msgs, 20), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 20);
	sub = t_sub(name, &so, NULL);
	expect_events(sub, 12, 20);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

START_TEST(test_reserve_commit)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	const char *name = t_ring("reserve", 16, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event ev;
	void *slot, *slot2;

	ck_assert_int_eq(ringcast_pub_commit(pub, 1, 0), -EINVAL);
	ck_assert_int_eq(ringcast_pub_reserve(pub, 20, &slot), 0);
	ck_assert_ptr_nonnull(slot);
	memcpy(slot, "reserved in place!!!", 20);
	/* Not visible until committed. */
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 0, &ev), -EAGAIN);
	ck_assert_int_eq(ringcast_pub_reserve(pub, 4, &slot2), -EBUSY);
	ck_assert_int_eq(ringcast_pub_commit(pub, 7, 21), -EINVAL);
	ck_assert_int_ge(ringcast_pub_commit(pub, 7, 11), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 1);
	ck_assert_int_eq(ringcast_pub_commit(pub, 7, 11), -EINVAL);

	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert_uint_eq(ev.type, 7);
	ck_assert_uint_eq(ev.len, 11);
	ck_assert_int_eq(memcmp(ev.data, "reserved in", 11), 0);

	/* The full capacity, in place. */
	ck_assert_int_eq(ringcast_pub_reserve(pub, 32, &slot), 0);
	memset(slot, 'z', 32);
	ck_assert_int_ge(ringcast_pub_commit(pub, 8, 32), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 1);
	ck_assert_uint_eq(ev.len, 32);
	ck_assert_int_eq(((const char *)ev.data)[31], 'z');
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/*
 * A reserved batch: all or nothing, invisible until committed, then
 * readable at once, in order, with the types and lengths committed.
 */
START_TEST(test_reserve_batch)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_ring_opts ro = { .slots = 16, .slot_size = 64 };
	const char *name =
		t_ring_opts("reserve-batch", &ro, RINGCAST_CREATE_NO_DATA);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_msg msgs[12];
	struct ringcast_event ev;
	uint64_t ts = 0;
	void *bufs[13], *slot;
	uint32_t i;

	/* 0 slots, more than three quarters of 16, more than the capacity. */
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 0, 8, bufs), -EINVAL);
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 13, 8, bufs), -EINVAL);
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 2, 33, bufs),
			 -EMSGSIZE);
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 2, 8, NULL), -EINVAL);
	ck_assert_uint_eq(ringcast_pub_head(pub), 0);

	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 5, 8, bufs), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_ptr_nonnull(bufs[i]);
		if (i)
			ck_assert_ptr_ne(bufs[i], bufs[i - 1]);
		memset(bufs[i], 'a' + (int)i, 8);
		msgs[i] = (struct ringcast_msg){ .type = 10 + i, .len = i + 1 };
	}
	/* Nothing readable, nothing else publishable, until the commit. */
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 0, &ev), -EAGAIN);
	ck_assert_int_eq(ringcast_pub_reserve(pub, 4, &slot), -EBUSY);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, "x", 1), -EBUSY);
	/* The wrong count, the single commit, a length too large: -EINVAL. */
	ck_assert_int_eq(ringcast_pub_commit(pub, 1, 1), -EINVAL);
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 4), -EINVAL);
	msgs[3].len = 9;
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 5), -EINVAL);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	msgs[3].len = 4;
	ck_assert_int_ge(ringcast_pub_commit_batch(pub, msgs, 5), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 5);
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 5), -EINVAL);

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_uint_eq(ev.type, 10 + i);
		ck_assert_uint_eq(ev.len, i + 1);
		ck_assert_int_eq(((const char *)ev.data)[0], 'a' + (int)i);
		if (i)
			ck_assert_uint_eq(ev.ts, ts);
		ts = ev.ts;
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	/* Three quarters of the ring, across the wrap, full capacity. */
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 12, 32, bufs), 0);
	for (i = 0; i < 12; i++) {
		memset(bufs[i], 'A' + (int)i, 32);
		msgs[i] = (struct ringcast_msg){ .type = 1, .len = 32 };
	}
	ck_assert_int_ge(ringcast_pub_commit_batch(pub, msgs, 12), 0);
	ck_assert_uint_eq(ringcast_pub_head(pub), 17);
	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, 5 + i);
		ck_assert_uint_eq(ev.len, 32);
		ck_assert_int_eq(((const char *)ev.data)[31], 'A' + (int)i);
	}
	/* ringcast_pub_reserve() is a batch of one. */
	ck_assert_int_eq(ringcast_pub_reserve(pub, 8, &slot), 0);
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 1), -EINVAL);
	msgs[0].len = 8;
	ck_assert_int_eq(ringcast_pub_commit_batch(pub, msgs, 1), 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 17);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * fork()
 */

struct fork_ctx {
	const char *name;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
};

static int fork_child(void *arg)
{
	struct fork_ctx *f = arg;
	struct ringcast_msg msg = { .type = 1, .len = 1, .data = "x" };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *mine = NULL;
	struct ringcast_pub *pub2 = NULL;
	struct ringcast_event ev;
	void *slot;

	CHILD_ASSERT_EQ(ringcast_pub_publish(f->pub, 1, "x", 1), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_pub_publish_batch(f->pub, &msg, 1), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_pub_reserve(f->pub, 1, &slot), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_sub_next(f->sub, &ev, 0), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_sub_next(f->sub, &ev, T_WAIT_NS), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_sub_borrow(f->sub, &ev, 0), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_sub_read_at(f->sub, 0, &ev), -ECHILD);

	/* The parent is alive: its lease is still held. */
	CHILD_ASSERT_EQ(ringcast_pub_attach(f->name, 0, &pub2), -EBUSY);

	/* A subscriber of our own works. */
	CHILD_ASSERT_EQ(ringcast_sub_attach(f->name, &so, &mine, NULL), 0);
	CHILD_ASSERT_EQ(ringcast_sub_next(mine, &ev, 0), 0);
	CHILD_ASSERT_EQ(ev.seq, 0);
	CHILD_ASSERT(t_payload_ok(&ev));
	ringcast_sub_detach(mine);

	CHILD_ASSERT_EQ(ringcast_pub_close(f->pub), -ECHILD);
	ringcast_sub_detach(f->sub);
	return 0;
}

START_TEST(test_fork_echild)
{
	struct fork_ctx f;
	struct ringcast_ring_stats info;
	struct ringcast_event ev;

	f.name = t_ring("fork", 16, 64);
	f.pub = t_pub(f.name, 0);
	f.sub = t_sub(f.name, NULL, NULL);
	publish_range(f.pub, 0, 1);
	t_child_ok(t_fork(fork_child, &f));

	/* The parent's handles are untouched. */
	t_stat(f.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_int_eq(info.publisher_alive, 1);
	publish_range(f.pub, 1, 2);
	expect_events(f.sub, 0, 2);
	ck_assert_int_eq(ringcast_sub_next(f.sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(f.sub);
	ck_assert_int_eq(ringcast_pub_close(f.pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * A publisher forks a child that outlives it: the child's copy of the
 * lease must not keep the dead publisher looking alive.
 */
struct orphan_ctx {
	const char *name;
	struct t_gate ready;
	struct t_gate hold;
};

static int orphan_grandchild(void *arg)
{
	struct orphan_ctx *o = arg;

	close(o->hold.wr);
	t_gate_post(&o->ready);
	/* Until the test closes its end of the pipe. */
	t_gate_wait(&o->hold, 1, T_CHILD_MS);
	return 0;
}

static int orphan_publisher(void *arg)
{
	struct orphan_ctx *o = arg;
	struct ringcast_pub *pub = NULL;
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(o->name, 0, &pub), 0);
	for (i = 0; i < 5; i++) {
		t_payload(i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	t_fork(orphan_grandchild, o);
	kill(getpid(), SIGKILL);
	return 3;
}

START_TEST(test_fork_dead_parent)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.wait = RINGCAST_WAIT_SLEEP };
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	struct orphan_ctx o;
	int status, ret;
	pid_t p;

	o.name = t_ring("orphan", 16, 64);
	t_gate_init(&o.ready);
	t_gate_init(&o.hold);
	sub = t_sub(o.name, &so, NULL);
	p = t_fork(orphan_publisher, &o);
	status = t_wait(p, T_CHILD_MS);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The grandchild is alive (it posted, and waits on @hold). */
	ck_assert_int_eq(t_gate_wait(&o.ready, 1, T_CHILD_MS), 0);

	expect_events(sub, 0, 5);
	ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
	ck_assert_msg(ret == -EOWNERDEAD, "after the publisher's death: %s",
		      ringcast_strerror(ret));
	t_stat(o.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	ringcast_sub_detach(sub);

	/* Let the grandchild go. */
	close(o.hold.wr);
	o.hold.wr = -1;
	t_gate_close(&o.ready);
	t_gate_close(&o.hold);
	t_assert_clean();
}
END_TEST

/*
 * A subscriber that is still reading an epoch that was closed gets end of
 * stream, not "publisher died", however many takeovers came after it.
 */
START_TEST(test_end_code_after_takeovers)
{
	const char *name = t_ring("endcode", 64, 256);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_NEWEST };
	struct ringcast_pub *pub = NULL;
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	int i, r;

	ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub), 0);
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "a", 1), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	/* Three more epochs, each reopened, published on and closed. */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ringcast_pub_attach(name, RINGCAST_PUB_REOPEN,
						     &pub),
				 0);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, "b", 1), 0);
		ck_assert_int_eq(ringcast_pub_close(pub), 0);
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	r = ringcast_sub_next(sub, &ev, 0);
	ck_assert_msg(r == -EPIPE, "ended with %d, not -EPIPE", r);
	ringcast_sub_detach(sub);
}
END_TEST

/* Absurd liveness and spin times do not make a wait ignore its timeout. */
START_TEST(test_huge_liveness_keeps_timeout)
{
	const char *name = t_ring("liveness", 64, 256);
	struct ringcast_sub_opts so = {
		.wait = RINGCAST_WAIT_SLEEP,
		.liveness_ns = UINT64_MAX,
		.spin_ns = UINT64_MAX,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;

	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 50000000), -ETIMEDOUT);
	ringcast_sub_detach(sub);
}
END_TEST

static Suite *pubsub_suite(void)
{
	Suite *s = suite_create("pubsub");
	TCase *tc;

	tc = tcase_create("fanout");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_fanout_lossy);
	tcase_add_test(tc, test_fanout_lossless);
	tcase_add_test(tc, test_start_newest_race);
	suite_add_tcase(s, tc);

	tc = tcase_create("start");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_start_newest);
	tcase_add_test(tc, test_start_oldest);
	tcase_add_test(tc, test_start_seq);
	tcase_add_test(tc, test_start_below_oldest);
	tcase_add_test(tc, test_start_ahead);
	tcase_add_test(tc, test_start_ahead_blocking);
	tcase_add_test(tc, test_sub_opts_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("end-of-stream");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_eos_pub_close);
	tcase_add_test(tc, test_eos_empty);
	tcase_add_test(tc, test_eos_ring_close);
	tcase_add_test(tc, test_attach_after_close);
	tcase_add_test(tc, test_reopen);
	suite_add_tcase(s, tc);

	tc = tcase_create("publisher");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_emsgsize);
	tcase_add_test(tc, test_second_publisher);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_batch_wraps);
	tcase_add_test(tc, test_head_scribbled_low);
	tcase_add_test(tc, test_head_scribbled_high);
	tcase_add_test(tc, test_reserve_commit);
	tcase_add_test(tc, test_reserve_batch);
	tcase_add_test(tc, test_publish_returns_subscribers);
	suite_add_tcase(s, tc);

	tc = tcase_create("death");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_loop_test(tc, test_publisher_death, DEATH_AFTER_PUBLISH,
			    DEATH_MID_RESERVE_BATCH + 1);
	tcase_add_test(tc, test_resubscribe);
	tcase_add_test(tc, test_end_code_after_takeovers);
	tcase_add_test(tc, test_huge_liveness_keeps_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("reading");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_type_filter);
	tcase_add_test(tc, test_read_at);
	tcase_add_test(tc, test_borrow_release);
	suite_add_tcase(s, tc);

	tc = tcase_create("fork");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_fork_echild);
	tcase_add_test(tc, test_fork_dead_parent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(pubsub_suite());
}
