// SPDX-License-Identifier: MIT
/*
 * Events of any size: the data area (docs/design.md §8).  Events larger
 * than their slot go into the ring's data area and keep one sequence with
 * the others; these tests check them byte by byte, across processes, in
 * laps of the data area, with reliable, lossy, joining, type-filtered and
 * borrowing readers, publishers killed in the middle of a large event and
 * takeovers in the middle of the data area.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* A small data area, so that tests lap it quickly. */
#define T_DATA (64u * 1024)
#define T_MAX_EVENT (T_DATA / 4)

/* The payload of (seq, len): checkable byte by byte by any reader. */
static void t_fill(uint64_t seq, uint32_t len, unsigned char *buf)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + len;
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static bool t_check(const struct ringcast_event *ev, unsigned char *scratch)
{
	t_fill(ev->seq, ev->len, scratch);
	return !memcmp(ev->data, scratch, ev->len);
}

/* Log-uniform lengths from 1 to max, the same for the same seed. */
static uint32_t t_len(uint64_t *st, uint32_t max)
{
	uint32_t bits = 0, b, lo, len;

	while ((1u << (bits + 1)) <= max)
		bits++;
	b = (uint32_t)(t_rand(st) % (bits + 1));
	lo = 1u << b;
	len = lo + (uint32_t)(t_rand(st) % lo);
	return len > max ? max : len;
}

static const char *t_data_ring(const char *tag, uint32_t slots,
			       uint32_t slot_size, uint64_t data_size)
{
	struct ringcast_ring_opts o = {
		.slots = slots,
		.slot_size = slot_size,
		.data_size = data_size,
	};

	return t_ring_opts(tag, &o, 0);
}

/* ----------------------------------------------------------------------
 * Geometry and limits
 */

START_TEST(test_defaults)
{
	const char *name = t_ring("defaults", 0, 0);
	struct ringcast_ring_stats info;
	struct ringcast_ring_opts o = { .data_size = 3000 };

	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, RINGCAST_DEFAULT_DATA_SIZE);
	ck_assert_uint_ge(info.max_event, 64 * 1024);
	ck_assert_uint_eq(info.max_event, RINGCAST_DEFAULT_DATA_SIZE / 4);
	ck_assert_uint_eq(info.data_written, 0);

	/* Not a power of two, too small, too large: refused. */
	ck_assert_int_eq(ringcast_ring_create(t_name("odd"), &o, 0), -EINVAL);
	o.data_size = 2048;
	ck_assert_int_eq(ringcast_ring_create(t_name("small"), &o, 0), -EINVAL);
	o.data_size = RINGCAST_MAX_DATA_SIZE * 2;
	ck_assert_int_eq(ringcast_ring_create(t_name("large"), &o, 0), -EINVAL);
	/* A multi-publisher ring has none, and cannot be given one. */
	o.data_size = T_DATA;
	ck_assert_int_eq(ringcast_ring_create(t_name("multi"), &o,
					      RINGCAST_CREATE_MULTI_PUB),
			 -EINVAL);
	name = t_ring_opts("multi-none", NULL, RINGCAST_CREATE_MULTI_PUB);
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 0);
	ck_assert_uint_eq(info.max_event, info.capacity);
	name = t_ring_opts("none", NULL, RINGCAST_CREATE_NO_DATA);
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 0);
	ck_assert_uint_eq(info.max_event, info.capacity);
	t_assert_clean();
}
END_TEST

START_TEST(test_too_large)
{
	const char *name = t_data_ring("too-large", 16, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char big[T_MAX_EVENT + 1], chk[T_MAX_EVENT];
	struct ringcast_msg msgs[2];
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	void *buf;

	t_fill(0, T_MAX_EVENT + 1, big);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, big, T_MAX_EVENT + 1),
			 -EMSGSIZE);
	ck_assert_int_eq(ringcast_pub_reserve(pub, T_MAX_EVENT + 1, &buf),
			 -EMSGSIZE);
	msgs[0] = (struct ringcast_msg){ .type = 1, .len = 10, .data = big };
	msgs[1] = (struct ringcast_msg){ .type = 1,
					 .len = T_MAX_EVENT + 1,
					 .data = big };
	ck_assert_int_eq(ringcast_pub_publish_batch(pub, msgs, 2), -EMSGSIZE);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 0);
	ck_assert_uint_eq(info.data_written, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);

	/* The largest fits, and comes back whole. */
	t_fill(0, T_MAX_EVENT, big);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, big, T_MAX_EVENT), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.len, T_MAX_EVENT);
	ck_assert(t_check(&ev, chk));
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * One process: every way in and out, sizes across the slot's capacity
 */

START_TEST(test_roundtrip)
{
	const char *name = t_data_ring("roundtrip", 64, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	static unsigned char buf[T_MAX_EVENT], chk[T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event ev;
	uint64_t st = 7, seq;
	uint32_t len, cap = 128 - RINGCAST_SLOT_HEADER;
	int spilled = 0;

	/* Ten laps of the data area, one event at a time. */
	for (seq = 0; seq < 2000; seq++) {
		len = t_len(&st, T_MAX_EVENT);
		if (seq % 3 == 0)
			len = cap + (uint32_t)(seq % 3); /* around the edge */
		spilled += len > cap;
		t_fill(seq, len, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 2, buf, len), 1);
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, seq);
		ck_assert_uint_eq(ev.len, len);
		ck_assert_uint_eq(ev.type, 2);
		ck_assert(t_check(&ev, chk));
	}
	ck_assert_int_gt(spilled, 500);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_batch_mixed)
{
	const char *name = t_data_ring("batch-mixed", 64, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	static unsigned char buf[40][T_MAX_EVENT], chk[T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_msg msgs[40];
	struct ringcast_event ev;
	uint64_t st = 11, seq = 0, round;
	unsigned int i;

	for (round = 0; round < 30; round++) {
		for (i = 0; i < 40; i++) {
			/* Small enough not to wait for ourselves. */
			uint32_t len = t_len(&st, 1024);

			t_fill(seq + i, len, buf[i]);
			msgs[i] = (struct ringcast_msg){ .type = i,
							 .len = len,
							 .data = buf[i] };
		}
		/* Over half the area: parts of at most half of it. */
		ck_assert_int_ge(ringcast_pub_publish_batch(pub, msgs, 40), 1);
		for (i = 0; i < 40; i++, seq++) {
			ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS),
					 0);
			ck_assert_uint_eq(ev.seq, seq);
			ck_assert_uint_eq(ev.len, msgs[i].len);
			ck_assert_uint_eq(ev.type, i);
			ck_assert(t_check(&ev, chk));
		}
	}
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_reserve_borrow)
{
	const char *name = t_data_ring("reserve-borrow", 16, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char chk[T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_msg msgs[3];
	struct ringcast_event ev;
	void *bufs[3];
	unsigned int i;

	/* Reserve 3 x 5000 in the data area; commit 5000, 50 and 0 bytes. */
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 3, 5000, bufs), 0);
	t_fill(0, 5000, bufs[0]);
	t_fill(1, 50, bufs[1]);
	msgs[0] = (struct ringcast_msg){ .type = 1, .len = 5000 };
	msgs[1] = (struct ringcast_msg){ .type = 2, .len = 50 };
	msgs[2] = (struct ringcast_msg){ .type = 3, .len = 0 };
	ck_assert_int_ge(ringcast_pub_commit_batch(pub, msgs, 3), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_uint_eq(ev.len, msgs[i].len);
		ck_assert(t_check(&ev, chk));
		ck_assert_int_eq(ringcast_sub_release(sub, &ev), 0);
	}
	/* Reserving past half the data area at once is refused. */
	ck_assert_int_eq(ringcast_pub_reserve_batch(pub, 3, T_MAX_EVENT, bufs),
			 -EINVAL);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_read_at_overwritten)
{
	const char *name = t_data_ring("read-at", 1024, 128, T_DATA);
	static unsigned char buf[8000], chk[T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, NULL, NULL);
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	uint64_t seq;

	/* 40 events of 8000 bytes: the data area holds 8, the slots all. */
	for (seq = 0; seq < 40; seq++) {
		t_fill(seq, sizeof(buf), buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	ck_assert_int_eq(ringcast_sub_read_at(sub, 0, &ev), -ERANGE);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 39, &ev), 0);
	ck_assert_uint_eq(ev.len, sizeof(buf));
	ck_assert(t_check(&ev, chk));
	/* The oldest retained is no older than what the data area holds. */
	t_stat(name, &info);
	ck_assert_uint_gt(info.oldest, 20);
	ck_assert_int_eq(ringcast_sub_read_at(sub, info.oldest, &ev), 0);
	ck_assert(t_check(&ev, chk));
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* A type filter skips spilled events without touching the data area. */
START_TEST(test_filter_skips)
{
	const char *name = t_data_ring("filter", 64, 128, T_DATA);
	static const uint32_t types[] = { 2 };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE,
					.types = types,
					.ntypes = 1 };
	static unsigned char buf[T_MAX_EVENT], chk[T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_sub_stats sst;
	struct ringcast_event ev;
	uint64_t st = 3, seq;

	for (seq = 0; seq < 600; seq++) {
		/* Four skipped ones fit a quarter: we never wait for us. */
		uint32_t len = t_len(&st, 4096);

		t_fill(seq, len, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, seq % 5 ? 1 : 2, buf,
						      len),
				 1);
		if (seq % 5)
			continue;
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, seq);
		ck_assert(t_check(&ev, chk));
	}
	ringcast_sub_get_stats(sub, &sst);
	ck_assert_uint_eq(sst.delivered, 120);
	ck_assert_uint_ge(sst.skipped, 475);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Processes
 */

struct t_mixed {
	const char *name;
	uint64_t n; /* events */
	uint64_t seed;
	uint32_t max; /* largest length */
	uint64_t delay_ns; /* a reader's time per event */
	int reliable;
};

static int t_mixed_pub(void *arg)
{
	const struct t_mixed *m = arg;
	static unsigned char buf[T_MAX_EVENT];
	struct ringcast_pub *pub;
	uint64_t st = m->seed, seq;

	CHILD_ASSERT(ringcast_pub_attach(m->name, 0, &pub) == 0);
	for (seq = 0; seq < m->n; seq++) {
		uint32_t len = t_len(&st, m->max);

		t_fill(seq, len, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, (uint32_t)seq, buf,
						  len) >= 0);
	}
	CHILD_ASSERT(ringcast_pub_close(pub) == 0);
	return 0;
}

/*
 * Read to the end: every event delivered is checked byte by byte and has
 * the length the publisher drew for its sequence; delivered + lost is
 * every event published (the accounting identity).
 */
static int t_mixed_sub(void *arg)
{
	const struct t_mixed *m = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char chk[T_MAX_EVENT];
	static uint32_t lens[200000];
	struct ringcast_sub_stats sst;
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	uint64_t st = m->seed, seq, delivered = 0, lost = 0, next = 0;
	uint64_t first;
	int r;

	CHILD_ASSERT(m->n <= 200000);
	for (seq = 0; seq < m->n; seq++)
		lens[seq] = t_len(&st, m->max);
	if (m->reliable)
		so.flags = RINGCAST_SUB_RELIABLE;
	CHILD_ASSERT(ringcast_sub_attach(m->name, &so, &sub, &first) == 0);
	CHILD_ASSERT_EQ(first, 0);
	for (;;) {
		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (r == -EOVERFLOW) {
			CHILD_ASSERT(!m->reliable);
			CHILD_ASSERT(ev.lost > 0);
			lost += ev.lost;
			next += ev.lost;
			continue;
		}
		if (r == -EPIPE)
			break;
		CHILD_ASSERT_EQ(r, 0);
		CHILD_ASSERT_EQ(ev.seq, next);
		CHILD_ASSERT_EQ(ev.len, lens[ev.seq]);
		CHILD_ASSERT(t_check(&ev, chk));
		next++;
		delivered++;
		if (m->delay_ns) {
			struct timespec ts = { 0, (long)m->delay_ns };

			nanosleep(&ts, NULL);
		}
	}
	CHILD_ASSERT_EQ(next, m->n);
	CHILD_ASSERT_EQ(delivered + lost, m->n);
	if (m->reliable)
		CHILD_ASSERT_EQ(lost, 0);
	ringcast_sub_get_stats(sub, &sst);
	CHILD_ASSERT_EQ(sst.delivered, delivered);
	CHILD_ASSERT_EQ(sst.lost, lost);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * A fast mixed-size publisher and lossy readers of a small data area:
 * laps of the data area (far sooner than of the slots), every delivered
 * event whole, and delivered + lost = published.
 */
START_TEST(test_lossy_accounting)
{
	struct t_mixed m = {
		.name = t_data_ring("lossy", 4096, 128, 16384),
		.n = 60000,
		.seed = 5,
		.max = 4096,
	};
	pid_t r1, r2, p;

	r1 = t_fork(t_mixed_sub, &m);
	r2 = t_fork(t_mixed_sub, &m);
	/* Attached once the table counts them: then publish. */
	for (;;) {
		struct ringcast_ring_stats info;

		t_stat(m.name, &info);
		if (info.subscribers == 2)
			break;
		usleep(1000);
	}
	p = t_fork(t_mixed_pub, &m);
	t_child_ok(p);
	t_child_ok(r1);
	t_child_ok(r2);
	t_assert_clean();
}
END_TEST

/*
 * A reliable reader taking 1 ms per event over 10 data areas' worth of
 * mixed sizes, and a fast reliable one: neither loses anything, and the
 * publisher waits for them (the data area gates it, not the slots).
 */
START_TEST(test_reliable_slow)
{
	struct t_mixed slow = {
		.name = t_data_ring("reliable-slow", 4096, 128, 65536),
		.n = 400,
		.seed = 9,
		.max = T_MAX_EVENT,
		.delay_ns = 1000000,
		.reliable = 1,
	};
	struct t_mixed fast = slow;
	struct ringcast_ring_stats info;
	pid_t r1, r2, p;

	fast.delay_ns = 0;
	r1 = t_fork(t_mixed_sub, &slow);
	r2 = t_fork(t_mixed_sub, &fast);
	for (;;) {
		t_stat(slow.name, &info);
		if (info.reliable == 2)
			break;
		usleep(1000);
	}
	p = t_fork(t_mixed_pub, &slow);
	t_child_ok(p);
	t_child_ok(r1);
	t_child_ok(r2);
	t_stat(slow.name, &info);
	/* 300 events averaging kilobytes: many laps of 64 KiB. */
	ck_assert_uint_ge(info.data_written, 10 * 65536ull);
	ck_assert_uint_gt(info.blocked, 0);
	t_assert_clean();
}
END_TEST

/*
 * A reliable subscriber joins at the oldest while the publisher laps the
 * data area: it starts where no data it is promised can be overwritten,
 * and reads every event from there, whole.
 */
static int t_joiner(void *arg)
{
	const struct t_mixed *m = arg;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	static unsigned char chk[T_MAX_EVENT];
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	uint64_t first, next;
	int r, k;

	for (k = 0; k < 50; k++) {
		CHILD_ASSERT(ringcast_sub_attach(m->name, &so, &sub, &first) ==
			     0);
		next = first;
		for (;;) {
			r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
			if (r == -EPIPE)
				break;
			CHILD_ASSERT_EQ(r, 0);
			CHILD_ASSERT_EQ(ev.seq, next);
			CHILD_ASSERT(t_check(&ev, chk));
			next++;
			if (next - first > 200)
				break;
		}
		ringcast_sub_detach(sub);
		if (r == -EPIPE)
			break;
	}
	return 0;
}

START_TEST(test_reliable_joiners)
{
	struct t_mixed m = {
		.name = t_data_ring("joiners", 1024, 128, 16384),
		.n = 40000,
		.seed = 13,
		.max = 4096,
	};
	pid_t j1, j2, p;

	p = t_fork(t_mixed_pub, &m);
	j1 = t_fork(t_joiner, &m);
	j2 = t_fork(t_joiner, &m);
	t_child_ok(j1);
	t_child_ok(j2);
	t_child_ok(p);
	t_assert_clean();
}
END_TEST

/*
 * SIGKILL of the publisher while it writes a large event (reserved, half
 * filled): readers never see a part of it; they get every event before,
 * then the publisher's death.  A new publisher takes the ring over in the
 * middle of the data area, and a resubscribing reader reads on, whole.
 */
static int t_dying_pub(void *arg)
{
	const struct t_mixed *m = arg;
	static unsigned char buf[T_MAX_EVENT];
	struct ringcast_pub *pub;
	uint64_t seq;
	void *res;

	CHILD_ASSERT(ringcast_pub_attach(m->name, RINGCAST_PUB_REOPEN, &pub) ==
		     0);
	for (seq = ringcast_pub_head(pub); seq < m->n; seq++) {
		uint32_t len = 100 + (uint32_t)(seq * 997 % 9000);

		t_fill(seq, len, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, len) >= 0);
	}
	CHILD_ASSERT(ringcast_pub_reserve(pub, 12000, &res) == 0);
	t_fill(ringcast_pub_head(pub), 12000, buf);
	memcpy(res, buf, 6000);
	raise(SIGKILL);
	return 1;
}

START_TEST(test_kill_mid_event)
{
	struct t_mixed m = {
		.name = t_data_ring("kill-mid", 256, 128, T_DATA),
		.n = 500,
	};
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE |
						 RINGCAST_SUB_RESUBSCRIBE };
	static unsigned char chk[T_MAX_EVENT];
	struct ringcast_sub *sub, *lossy;
	struct ringcast_event ev;
	uint64_t next = 0;
	int r, deaths = 0;
	pid_t p;

	sub = t_sub(m.name, &so, NULL);
	so.flags = RINGCAST_SUB_RESUBSCRIBE;
	so.from = RINGCAST_FROM_NEWEST;
	lossy = t_sub(m.name, &so, NULL);
	while (deaths < 3) {
		p = t_fork(t_dying_pub, &m);
		/* The reliable reader reads all of it, then not the half. */
		while (next < m.n) {
			ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS),
					 0);
			ck_assert_uint_eq(ev.seq, next);
			ck_assert(t_check(&ev, chk));
			next++;
		}
		t_child_killed(p, SIGKILL);
		deaths++;
		r = ringcast_sub_next(sub, &ev, 0);
		ck_assert(r == -EAGAIN || r == -EOWNERDEAD);
		for (;;) {
			r = ringcast_sub_next(lossy, &ev, 0);
			if (r == -EAGAIN || r == -EOWNERDEAD)
				break;
			if (r == -EOVERFLOW)
				continue;
			ck_assert_int_eq(r, 0);
			ck_assert_uint_ne(ev.len, 12000);
			ck_assert(t_check(&ev, chk));
		}
		m.n += 300;
	}
	/* The takeovers continued the sequence where the dead ones left. */
	ck_assert_uint_eq(next, m.n - 300);
	ringcast_sub_detach(lossy);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

/*
 * A batch of large events: the head moves as they are written, not only
 * at the end of the part (publish.c, rc_pub_write_part()), so a reader
 * copies one while the next is written.  Seen here through a publisher
 * that dies in the copy of the third: the head says the first two were
 * published (readers would find them along the stamps anyway).
 */
#define T_STREAM_LEN 40000u

/* The kernel's SIGSEGV, not a sanitizer's report (as in test-perm.c). */
static void t_default_segv(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

static int t_faulting_batch(void *arg)
{
	const char *name = arg;
	static unsigned char buf[2][T_STREAM_LEN];
	struct ringcast_msg msgs[3];
	struct ringcast_pub *pub;
	unsigned char *none;
	unsigned int i;

	none = mmap(NULL, T_STREAM_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	CHILD_ASSERT(none != MAP_FAILED);
	CHILD_ASSERT_EQ(ringcast_pub_attach(name, 0, &pub), 0);
	for (i = 0; i < 3; i++) {
		if (i < 2)
			t_fill(i, T_STREAM_LEN, buf[i]);
		msgs[i] = (struct ringcast_msg){
			.type = 1,
			.len = T_STREAM_LEN,
			.data = i < 2 ? buf[i] : none,
		};
	}
	t_default_segv();
	ringcast_pub_publish_batch(pub, msgs, 3);
	return 3; /* the third event's copy did not fault */
}

START_TEST(test_batch_streamed)
{
	struct ringcast_ring_opts fixed = { .slots = 16, .slot_size = 65536 };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char chk[T_STREAM_LEN];
	struct ringcast_ring_stats info;
	const char *names[2];
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	unsigned int k, i;
	int r;

	/* In the data area, and in fixed slots. */
	names[0] = t_data_ring("streamed", 16, 128, 256 * 1024);
	names[1] =
		t_ring_opts("streamed-fixed", &fixed, RINGCAST_CREATE_NO_DATA);
	for (k = 0; k < 2; k++) {
		sub = t_sub(names[k], &so, NULL);
		t_child_killed(t_fork(t_faulting_batch, (void *)names[k]),
			       SIGSEGV);
		/* Published as written: the head, not only the stamps. */
		t_stat(names[k], &info);
		ck_assert_uint_eq(info.head, 2);
		for (i = 0; i < 2; i++) {
			ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS),
					 0);
			ck_assert_uint_eq(ev.seq, i);
			ck_assert_uint_eq(ev.len, T_STREAM_LEN);
			ck_assert(t_check(&ev, chk));
		}
		/* The third was begun, never published. */
		r = ringcast_sub_next(sub, &ev, 0);
		ck_assert_msg(r == -EAGAIN || r == -EOWNERDEAD, "%d", r);
		ringcast_sub_detach(sub);
	}
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Corruption
 */

/* A descriptor scribbled out of the data area: -EBADMSG, no access. */
START_TEST(test_descriptor_scribbled)
{
	const char *name = t_data_ring("scribbled", 16, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char buf[5000];
	static const uint64_t bad[] = { 1, 1ull << 40, UINT64_MAX - 63,
					T_DATA - 64 };
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub = t_pub(name, 0);
	unsigned int i;

	t_fill(0, sizeof(buf), buf);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);
	t_stat(name, &info);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ringcast_sub *sub = t_sub(name, &so, NULL);
		uint64_t slots_off = info.size - T_DATA - 16 * 128;

		t_poke(name, (off_t)(slots_off + RINGCAST_SLOT_HEADER), &bad[i],
		       sizeof(bad[i]));
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EBADMSG);
		ck_assert_int_eq(ringcast_sub_read_at(sub, 0, &ev), -EBADMSG);
		ringcast_sub_detach(sub);
	}
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * A reservation in the data area whose descriptor is scribbled on before
 * its commit: committed small enough for the slot, the payload still comes
 * from the record the publisher reserved, never from where the scribble
 * points (the last byte of the area: the bytes past it are off the
 * mapping; or another record).
 */
START_TEST(test_reserve_descriptor_scribbled)
{
	const char *name = t_data_ring("resv-scribbled", 16, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static const uint64_t bad[] = { T_DATA - 1, T_DATA / 2,
					UINT64_MAX - 63 };
	static unsigned char chk[T_MAX_EVENT];
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event ev;
	uint64_t slots_off;
	unsigned int i;
	void *buf;

	t_stat(name, &info);
	slots_off = info.size - T_DATA - 16 * 128;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ringcast_pub_reserve(pub, 5000, &buf), 0);
		t_fill(i, 50, buf);
		t_poke(name,
		       (off_t)(slots_off + i * 128 + RINGCAST_SLOT_HEADER),
		       &bad[i], sizeof(bad[i]));
		ck_assert_int_ge(ringcast_pub_commit(pub, 1, 50), 0);
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_uint_eq(ev.len, 50);
		ck_assert(t_check(&ev, chk));
	}
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Review findings
 */

/*
 * A mux queues every event in entries of the slot's capacity: a spilled
 * event must come out whole (not overflow the queue's buffers).
 */
START_TEST(test_mux_spilled)
{
	const char *name = t_data_ring("mux-spilled", 64, 128, T_DATA);
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_POST,
				       .queue_len = 2 };
	static unsigned char buf[T_MAX_EVENT], chk[T_MAX_EVENT];
	struct ringcast_mux_sub *q;
	struct ringcast_mux *mux;
	struct ringcast_event ev;
	uint32_t t = 5;
	uint64_t seq;

	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &q), 0);
	for (seq = 0; seq < 4; seq++) {
		t_fill(seq, 12000, buf);
		ck_assert_int_ge(ringcast_mux_post(mux, t, buf, 12000), 0);
		ck_assert_int_eq(ringcast_mux_next(q, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, seq);
		ck_assert_uint_eq(ev.len, 12000);
		ck_assert(t_check(&ev, chk));
	}
	ringcast_mux_sub_free(q);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

/*
 * A lossy queue whose reader keeps up (it holds only the event next()
 * returned last) takes the next event of any size: the dispatcher is made
 * to queue it before the reader calls next() again, which used to find
 * the held record filling the queue's budget and drop the new one.
 */
START_TEST(test_mux_held_large)
{
	const char *name = t_data_ring("mux-held", 64, 128, T_DATA);
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_POST,
				       .queue_len = 2 };
	static unsigned char buf[T_MAX_EVENT], chk[T_MAX_EVENT];
	struct ringcast_mux_sub_stats st;
	struct ringcast_mux_sub *q;
	struct ringcast_mux *mux;
	struct ringcast_event ev;
	uint32_t t = 5;
	uint64_t seq;

	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &q), 0);
	for (seq = 0; seq < 8; seq++) {
		uint64_t end = t_now_ns() + T_WAIT_NS;

		t_fill(seq, 12000 + (uint32_t)seq * 500, buf);
		ck_assert_int_ge(ringcast_mux_post(mux, t, buf,
						   12000 + (uint32_t)seq * 500),
				 0);
		/* Until the dispatcher has queued or dropped it. */
		do {
			ringcast_mux_sub_get_stats(q, &st);
			if (st.queued || st.dropped)
				break;
			usleep(200);
		} while (t_now_ns() < end);
		ck_assert_uint_eq(st.dropped, 0);
		ck_assert_int_eq(ringcast_mux_next(q, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, seq);
		ck_assert(t_check(&ev, chk));
	}
	ringcast_mux_sub_free(q);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

/*
 * Slots larger than a quarter of the data area: an event that fits its
 * slot is accepted by publish, so by a batch and a reservation too.
 */
START_TEST(test_inline_over_max_event)
{
	const char *name = t_data_ring("inline-big", 16, 8192, 4096);
	static unsigned char buf[2000];
	struct ringcast_ring_stats info;
	struct ringcast_msg msg = { .type = 1, .len = 2000, .data = buf };
	struct ringcast_pub *pub = t_pub(name, 0);
	void *p;

	t_stat(name, &info);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);
	ck_assert_int_ge(ringcast_pub_publish_batch(pub, &msg, 1), 0);
	ck_assert_int_eq(ringcast_pub_reserve(pub, sizeof(buf), &p), 0);
	ck_assert_int_ge(ringcast_pub_commit(pub, 1, sizeof(buf)), 0);
	/* The largest event is at least what a slot holds. */
	ck_assert_uint_ge(info.max_event, info.capacity);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/* Offsets of the header's words (layout.h). */
#define T_OFF_DFLOOR 168
#define T_OFF_HEAD 192
#define T_OFF_DINTENT 208

/* An intent scribbled below a borrowed record at its release: -EBADMSG. */
START_TEST(test_release_bad_intent)
{
	const char *name = t_data_ring("release-intent", 16, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char buf[5000];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event ev;
	uint64_t zero = 0;

	t_fill(0, sizeof(buf), buf);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), 0);
	t_poke(name, T_OFF_DINTENT, &zero, sizeof(zero));
	ck_assert_int_eq(ringcast_sub_release(sub, &ev), -EBADMSG);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * A lossy reader lapped in the data area while the head was scribbled
 * high: -EBADMSG or a loss no larger than what was published, and it reads
 * on once the publisher stores its head again.
 */
START_TEST(test_data_lap_scribbled_head)
{
	const char *name = t_data_ring("lap-head", 1024, 128, 4096);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char buf[1000];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event ev;
	uint64_t seq, bad = 1ull << 40;
	int r;

	/* Four records a lap: events 0 to 3 are overwritten. */
	for (seq = 0; seq < 8; seq++) {
		t_fill(seq, sizeof(buf), buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	t_poke(name, T_OFF_HEAD, &bad, sizeof(bad));
	r = ringcast_sub_next(sub, &ev, 0);
	ck_assert(r == -EBADMSG || r == -EOVERFLOW);
	if (r == -EOVERFLOW)
		ck_assert_uint_le(ev.lost, 8);
	/* The publisher stores its own head again with its next event. */
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, 10), 0);
	do
		r = ringcast_sub_next(sub, &ev, 0);
	while (r == -EOVERFLOW || r == -EBADMSG);
	ck_assert_int_eq(r, 0);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

/*
 * A publisher taking over a ring whose data area never finished a lap
 * destroys nothing with its first large events: it need not wait for a
 * reliable subscriber still reading the earlier epoch, nor hide that
 * epoch's events from readers that start at the oldest.
 */
START_TEST(test_takeover_first_lap)
{
	const char *name = t_data_ring("takeover-lap", 64, 128, T_DATA);
	const char *name2 = t_data_ring("takeover-oldest", 64, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	static unsigned char buf[1000];
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub = t_pub(name2, 0);
	struct ringcast_sub *sub;
	int i, r;

	/* No reliable subscriber: the oldest stays the earlier epoch's. */
	for (i = 0; i < 10; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, 10), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	pub = t_pub(name2, RINGCAST_PUB_REOPEN);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);
	t_stat(name2, &info);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_uint_eq(info.oldest, 0);

	/* A reliable subscriber that has read none of the ten. */
	pub = t_pub(name, 0);
	sub = t_sub(name, &so, NULL);
	for (i = 0; i < 10; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, 10), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	pub = t_pub(name, RINGCAST_PUB_REOPEN);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 0), 0);
	r = ringcast_pub_publish(pub, 1, buf, sizeof(buf));
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_ge(r, 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Batch reads
 */

/* Mixed sizes in batches: every event once, in order, whole. */
START_TEST(test_batch_read)
{
	const char *name = t_data_ring("batch-read", 64, 128, T_DATA);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	static unsigned char buf[T_MAX_EVENT], chk[T_MAX_EVENT];
	static unsigned char out[3 * T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_event evs[16];
	uint64_t st = 17, seq, next = 0;
	uint32_t lens[40];
	int n, i, calls = 0;

	for (seq = 0; seq < 40; seq++) {
		lens[seq] = t_len(&st, 2000);
		t_fill(seq, lens[seq], buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, lens[seq]),
				 1);
	}
	while (next < 40) {
		n = ringcast_sub_next_batch(sub, evs, 16, out, sizeof(out), 0);
		ck_assert_int_ge(n, 1);
		calls++;
		for (i = 0; i < n; i++, next++) {
			ck_assert_uint_eq(evs[i].seq, next);
			ck_assert_uint_eq(evs[i].len, lens[next]);
			ck_assert((const unsigned char *)evs[i].data >= out);
			ck_assert(t_check(&evs[i], chk));
		}
	}
	ck_assert_int_le(calls, 4);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 16, out, sizeof(out),
						 0),
			 -EAGAIN);

	/* Larger than the buffer: -ENOBUFS, nothing read; then it fits. */
	t_fill(40, 5000, buf);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, 5000), 1);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 16, out, 4999, 0),
			 -ENOBUFS);
	/* Two events, room for the first only: one now, one next. */
	t_fill(41, 3000, buf);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, 3000), 1);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 16, out, 6000, 0),
			 1);
	ck_assert_uint_eq(evs[0].seq, 40);
	ck_assert(t_check(&evs[0], chk));
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 16, out, 6000, 0),
			 1);
	ck_assert_uint_eq(evs[0].seq, 41);
	ck_assert(t_check(&evs[0], chk));

	/* Bad arguments. */
	ck_assert_int_eq(ringcast_sub_next_batch(sub, NULL, 1, out, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 0, out, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 1, NULL, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_eq(ringcast_sub_next_batch(sub, evs, 16, out, 1, 0),
			 -EPIPE);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

/*
 * A lossy reader lapped in the middle of a batch: the events before the
 * lap come now, the loss with the next call, and delivered + lost is
 * every event published.
 */
START_TEST(test_batch_read_lapped)
{
	const char *name = t_data_ring("batch-lapped", 1024, 128, 16384);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	static unsigned char buf[4096], chk[T_MAX_EVENT];
	static unsigned char out[8 * T_MAX_EVENT];
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct ringcast_sub_stats sst;
	struct ringcast_event evs[4];
	uint64_t seq = 0, next = 0, delivered = 0, lost = 0;
	int n, i, laps = 0;

	for (;;) {
		/* Four events, then read two: the ring laps the reader. */
		for (i = 0; i < 4 && seq < 4000; i++, seq++) {
			uint32_t len = seq % 3 ? 64 :
						 1000 + (uint32_t)seq % 3000;

			t_fill(seq, len, buf);
			ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, len),
					 1);
		}
		n = ringcast_sub_next_batch(sub, evs, 2, out, sizeof(out), 0);
		if (n == -EOVERFLOW) {
			ck_assert_uint_gt(evs[0].lost, 0);
			lost += evs[0].lost;
			next += evs[0].lost;
			laps++;
			continue;
		}
		if (n == -EAGAIN && seq == 4000)
			break;
		ck_assert_int_ge(n, 1);
		for (i = 0; i < n; i++, next++, delivered++) {
			ck_assert_uint_eq(evs[i].seq, next);
			ck_assert(t_check(&evs[i], chk));
		}
	}
	ck_assert_int_gt(laps, 10);
	ck_assert_uint_eq(next, 4000);
	ck_assert_uint_eq(delivered + lost, 4000);
	ringcast_sub_get_stats(sub, &sst);
	ck_assert_uint_eq(sst.delivered, delivered);
	ck_assert_uint_eq(sst.lost, lost);
	ck_assert_uint_eq(sst.laps, (uint64_t)laps);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc;

	tc = tcase_create("geometry");
	t_add_cleanup(tc);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_too_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_batch_mixed);
	tcase_add_test(tc, test_reserve_borrow);
	tcase_add_test(tc, test_read_at_overwritten);
	tcase_add_test(tc, test_filter_skips);
	tcase_add_test(tc, test_descriptor_scribbled);
	tcase_add_test(tc, test_reserve_descriptor_scribbled);
	suite_add_tcase(s, tc);

	tc = tcase_create("batch");
	t_add_cleanup(tc);
	tcase_add_test(tc, test_batch_read);
	tcase_add_test(tc, test_batch_read_lapped);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_lossy_accounting);
	tcase_add_test(tc, test_reliable_slow);
	tcase_add_test(tc, test_reliable_joiners);
	tcase_add_test(tc, test_kill_mid_event);
	tcase_add_test(tc, test_batch_streamed);
	suite_add_tcase(s, tc);

	tc = tcase_create("review");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_mux_spilled);
	tcase_add_test(tc, test_mux_held_large);
	tcase_add_test(tc, test_inline_over_max_event);
	tcase_add_test(tc, test_release_bad_intent);
	tcase_add_test(tc, test_data_lap_scribbled_head);
	tcase_add_test(tc, test_takeover_first_lap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(data_suite());
}
