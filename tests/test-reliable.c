// SPDX-License-Identifier: MIT
/*
 * Reliable subscribers across processes (issue 3): a slow subscriber gates
 * the publisher and loses nothing; reliable and lossy subscribers share a
 * ring; a subscriber killed, stopped (and demoted) or detached while it
 * blocks the publisher; publishes that cannot or may not wait; joins racing
 * a publisher; churn of the subscriber table; a full table; fork(); the
 * publisher's death and takeover with reliable subscribers; a filtered
 * reliable subscriber; the table as ringcast_ring_get_subscribers() lists it.
 *
 * Every wait is bounded: a bug fails a test, it never hangs one.  The only
 * time bounds asserted are generous ones (seconds where the library's
 * intervals are 100 ms) and lower bounds the library sets itself (a
 * demotion limit).
 *
 * RINGCAST_RELIABLE_EVENTS sets the events of the mixed fan-out (200000;
 * the join race publishes half as many); RINGCAST_RELIABLE_CYCLES the
 * attach/read/detach cycles of each churning process (400).
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

#include "common.h"

#define MS (1000ull * 1000)
/* How long a blocked publisher may take to notice what freed it. */
#define RESUME_MAX_NS (3000 * MS)

/* ----------------------------------------------------------------------
 * Helpers
 */

static const char *rel_ring(const char *tag, uint32_t slots,
			    uint32_t max_subscribers, uint64_t demote_ns)
{
	struct ringcast_ring_opts o = {
		.slots = slots,
		.slot_size = 64,
		.max_subscribers = max_subscribers,
		.demote_ns = demote_ns,
	};

	return t_ring_opts(tag, &o, 0);
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int publish_seq(struct ringcast_pub *pub, uint64_t seq, uint32_t type)
{
	unsigned char buf[T_PAYLOAD_LEN];

	t_payload(seq, buf);
	return ringcast_pub_publish(pub, type, buf, sizeof(buf));
}

static struct ringcast_sub *reliable_sub(const char *name, uint32_t from,
					 uint64_t *first)
{
	struct ringcast_sub_opts so = {
		.from = from,
		.flags = RINGCAST_SUB_RELIABLE,
	};

	return t_sub(name, &so, first);
}

/*
 * Poll the ring until its publisher is held at @head (a reliable
 * subscriber's cursor is a whole ring behind it) and has blocked.  Polling
 * the snapshot is the observation itself, not a sleep to synchronise.
 */
static void wait_blocked_at(const char *name, uint64_t head)
{
	uint64_t deadline = t_now_ns() + T_WAIT_NS;
	struct ringcast_ring_stats info;

	for (;;) {
		t_stat(name, &info);
		if (info.head == head && info.blocked > 0)
			return;
		ck_assert_msg(t_now_ns() < deadline,
			      "the publisher never blocked at %llu (head %llu, "
			      "blocked %llu)",
			      (unsigned long long)head,
			      (unsigned long long)info.head,
			      (unsigned long long)info.blocked);
		sleep_us(200);
	}
}

/* Poll until the head passes @head: the time that took, in ns. */
static uint64_t wait_head_above(const char *name, uint64_t head,
				uint64_t limit_ns)
{
	uint64_t start = t_now_ns();
	struct ringcast_ring_stats info;

	for (;;) {
		t_stat(name, &info);
		if (info.head > head)
			return t_now_ns() - start;
		ck_assert_msg(t_now_ns() - start < limit_ns,
			      "the publisher did not resume within %llu ms "
			      "(head %llu)",
			      (unsigned long long)(limit_ns / MS),
			      (unsigned long long)info.head);
		sleep_us(200);
	}
}

/* Stop a child and make sure it is stopped before going on. */
static void stop_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert(WIFSTOPPED(status));
}

/*
 * Read a reliable, unfiltered subscription from @first: every event the
 * next one with its own payload, never a lap or a demotion, @delay_us
 * between events, until @stop events were read (0: no limit) or an end
 * code (returned in *end, 0 if stopped).  Then the subscriber's own stats
 * must agree.  Return: the next sequence expected, or UINT64_MAX after
 * printing what went wrong.
 */
static uint64_t read_reliable(struct ringcast_sub *sub, uint64_t first,
			      uint64_t stop, unsigned int delay_us, int *end)
{
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	uint64_t cursor = first, n = 0;
	int ret;

	*end = 0;
	while (!stop || n < stop) {
		memset(&ev, 0, sizeof(ev));
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret < 0) {
			*end = ret;
			break;
		}
		if (ev.seq != cursor || !t_payload_ok(&ev)) {
			fprintf(stderr,
				"%d: got seq %llu (payload %s), expected "
				"%llu\n",
				(int)getpid(), (unsigned long long)ev.seq,
				t_payload_ok(&ev) ? "ok" : "bad",
				(unsigned long long)cursor);
			return UINT64_MAX;
		}
		cursor++;
		n++;
		if (delay_us)
			sleep_us(delay_us);
	}
	if (*end && *end != -EPIPE && *end != -EOWNERDEAD) {
		fprintf(stderr, "%d: reliable read at %llu: %s\n",
			(int)getpid(), (unsigned long long)cursor,
			ringcast_strerror(*end));
		return UINT64_MAX;
	}
	ringcast_sub_get_stats(sub, &st);
	/*
	 * Only while it reads does it gate the publisher: at the end of the
	 * stream it may stop (and the library's does), so that a later
	 * publisher is not held back by a reader that is done.
	 */
	if (st.first != first || st.cursor != cursor || st.delivered != n ||
	    st.lost || st.laps || st.skipped || (!*end && !st.reliable) ||
	    st.demoted || st.entry < 0) {
		fprintf(stderr,
			"%d: stats first %llu cursor %llu delivered %llu lost "
			"%llu laps %llu skipped %llu reliable %u demoted %llu "
			"entry %d; read %llu from %llu to %llu\n",
			(int)getpid(), (unsigned long long)st.first,
			(unsigned long long)st.cursor,
			(unsigned long long)st.delivered,
			(unsigned long long)st.lost,
			(unsigned long long)st.laps,
			(unsigned long long)st.skipped, st.reliable,
			(unsigned long long)st.demoted, st.entry,
			(unsigned long long)n, (unsigned long long)first,
			(unsigned long long)cursor);
		return UINT64_MAX;
	}
	return cursor;
}

/* A reliable reader child: from oldest (0), every event, then @end. */
struct reader_ctx {
	const char *name;
	uint64_t events; /* what it must read; UINT64_MAX: the final head */
	int end; /* how the stream must end */
	unsigned int delay_us; /* per event */
	unsigned int wait; /* enum ringcast_wait */
	struct t_gate *ready;
};

static int reader_child(void *arg)
{
	struct reader_ctx *r = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = r->wait,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct ringcast_sub *sub = NULL;
	uint64_t first = 1, cursor;
	int end;

	CHILD_ASSERT_EQ(ringcast_sub_attach(r->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(r->ready);
	cursor = read_reliable(sub, 0, 0, r->delay_us, &end);
	CHILD_ASSERT(cursor != UINT64_MAX);
	CHILD_ASSERT_EQ(end, r->end);
	if (r->events == UINT64_MAX) {
		/*
		 * As many as were published, whatever that was; closed from
		 * outside, the event being written at that moment may or may
		 * not be delivered (ringcast_ring_close()).
		 */
		struct ringcast_ring_stats info;

		CHILD_ASSERT_EQ(ringcast_ring_get_stats(r->name, &info), 0);
		CHILD_ASSERT(cursor <= info.head && cursor + 1 >= info.head);
	} else {
		CHILD_ASSERT_EQ(cursor, r->events);
	}
	ringcast_sub_detach(sub);
	return 0;
}

/* Read @from..@to - 1 in order, each with its own payload. */
static void read_range(struct ringcast_sub *sub, uint64_t from, uint64_t to,
		       int64_t timeout_ns)
{
	struct ringcast_event ev;
	uint64_t i;

	for (i = from; i < to; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, timeout_ns), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert(t_payload_ok(&ev));
	}
}

static void assert_table_empty(const char *name)
{
	struct ringcast_ring_stats info;

	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_uint_eq(info.reliable, 0);
}

/* ----------------------------------------------------------------------
 * 1. A slow reliable subscriber gates the publisher and loses nothing
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
 * 2. Reliable and lossy subscribers on one ring, a fast publisher
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
 * 3. SIGKILL of a reliable subscriber that blocks the publisher
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

struct count_pub_ctx {
	const char *name;
	uint64_t events;
	int first_ret, last_ret; /* what the first and last publish return */
};

/* Publishes @events; the count returned never grows, first to last. */
static int count_pub(void *arg)
{
	struct count_pub_ctx *c = arg;
	struct ringcast_pub *pub = NULL;
	int ret, prev = 0;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(c->name, 0, &pub), 0);
	CHILD_ASSERT_EQ(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	for (i = 0; i < c->events; i++) {
		ret = publish_seq(pub, i, 1);
		if (ret < 0)
			fprintf(stderr, "publish %llu: %s\n",
				(unsigned long long)i, ringcast_strerror(ret));
		CHILD_ASSERT(ret >= 0);
		if (i == 0)
			CHILD_ASSERT_EQ(ret, c->first_ret);
		else
			CHILD_ASSERT(ret <= prev);
		prev = ret;
	}
	CHILD_ASSERT_EQ(prev, c->last_ret);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
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
 * 4. SIGSTOP of a reliable subscriber under a demotion limit
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
		ck_assert_uint_eq(si[i].flags & RINGCAST_SUBINFO_DEMOTED,
				  RINGCAST_SUBINFO_DEMOTED);
		ck_assert_uint_eq(si[i].flags & RINGCAST_SUBINFO_RELIABLE, 0);
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
 * 5. Publishes that may not wait, or not for long, or are interrupted
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
	for (i = 0; i < 3; i++) {
		t_payload(17 + i, buf[i]);
		msgs[i] = (struct ringcast_msg){ .type = 1,
						 .len = T_PAYLOAD_LEN,
						 .data = buf[i] };
	}
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

/* Waiting for subscribers before the first event. */
struct late_ctx {
	const char *name;
	struct t_gate go, hold;
};

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
 * 6. Detaching the subscriber that blocks the publisher wakes it
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
 * 7. Reliable subscribers joining a publisher that runs flat out
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
		unsigned int k, n = (unsigned int)(t_rand(&rng) % 40) + 1;
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
			for (k = 0; k < n; k++) {
				t_payload(i + k, buf[k]);
				msgs[k] = (struct ringcast_msg){
					.type = 1,
					.len = T_PAYLOAD_LEN,
					.data = buf[k],
				};
			}
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
 * 8. Thousands of attach/read/detach cycles while publishing
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
 * 9. A full table
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
 * 10. A forked child that outlives its killed parent
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
	ck_assert_uint_eq(si.flags, RINGCAST_SUBINFO_RELIABLE);
	if (_i == ORPHAN_BLOCKING) {
		pub = t_fork(count_pub, &c);
		wait_blocked_at(o.name, 16);
	}
	ck_assert_int_eq(kill(parent, SIGKILL), 0);
	t_child_killed(parent, SIGKILL);
	/* The grandchild is alive: it holds its end of @hold open. */

	switch (_i) {
	case ORPHAN_LISTED:
		ck_assert_int_eq(ringcast_ring_get_subscribers(o.name, NULL, 0), 0);
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
 * 11. The publisher's death with reliable subscribers
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
 * 12. Takeovers with reliable subscribers that resubscribe
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

/* ----------------------------------------------------------------------
 * 13. A filtered reliable subscriber does not hold the publisher back
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
	ck_assert_uint_eq(si.flags, RINGCAST_SUBINFO_RELIABLE |
					    RINGCAST_SUBINFO_FILTERED);
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

/* ----------------------------------------------------------------------
 * 14. The table as ringcast_ring_get_subscribers() lists it
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
	check_entry(si, n, a, RINGCAST_SUBINFO_RELIABLE, 30);
	check_entry(si, n, b,
		    RINGCAST_SUBINFO_RELIABLE | RINGCAST_SUBINFO_FILTERED, 30);
	check_entry(si, n, c, 0, 30);
	for (i = 0; i < (uint64_t)n; i++) {
		if (si[i].pid != holder)
			continue;
		ck_assert(!seen);
		seen = true;
		ck_assert_int_eq(si[i].alive, 1);
		ck_assert_uint_eq(si[i].flags, RINGCAST_SUBINFO_RELIABLE);
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

static Suite *reliable_suite(void)
{
	Suite *s = suite_create("reliable");
	TCase *tc;

	tc = tcase_create("gating");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_slow_subscriber);
	tcase_add_test(tc, test_mixed_fanout);
	tcase_add_test(tc, test_filtered_reliable);
	tcase_add_test(tc, test_publish_no_room);
	tcase_add_test(tc, test_borrow_reserve_batch);
	tcase_add_test(tc, test_reliable_from_seq);
	tcase_add_loop_test(tc, test_accounting_pending_loss, 0, 2);
	tcase_add_test(tc, test_wait_subscribers);
	suite_add_tcase(s, tc);

	tc = tcase_create("stuck");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_kill_blocking_subscriber);
	tcase_add_loop_test(tc, test_stopped_subscriber_demoted, DEMOTE_RING,
			    DEMOTE_OWN_LONGER + 1);
	tcase_add_test(tc, test_demote_race);
	tcase_add_test(tc, test_borrow_demoted);
	tcase_add_test(tc, test_detach_wakes_publisher);
	tcase_add_test(tc, test_close_wakes_publisher);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_join_race);
	tcase_add_test(tc, test_churn);
	tcase_add_test(tc, test_full_table);
	tcase_add_test(tc, test_full_of_dead);
	tcase_add_loop_test(tc, test_fork_orphan, ORPHAN_LISTED,
			    ORPHAN_BLOCKING + 1);
	tcase_add_test(tc, test_subscriber_listing);
	suite_add_tcase(s, tc);

	tc = tcase_create("publisher-death");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_loop_test(tc, test_publisher_death, PDEATH_AFTER_PUBLISH,
			    PDEATH_BLOCKED + 1);
	tcase_add_test(tc, test_takeover_resubscribe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(reliable_suite());
}
