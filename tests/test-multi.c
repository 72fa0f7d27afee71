// SPDX-License-Identifier: MIT
/*
 * Multi-publisher rings: several publishing processes (and threads) on one
 * ring, reliable subscribers gating all of them, publishers killed between
 * claim and commit, and how the stream ends.
 *
 * Every payload says which publisher wrote it and its own running count, so
 * a subscriber checks per-publisher order and exactly-once delivery; global
 * order is the sequence.  RINGCAST_MULTI_EVENTS sets the events per
 * publisher of the big test (250000 by default: 10^6 in all).
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"

#define MAX_PUBS 16

struct mp_msg {
	uint32_t pubno;
	uint32_t check; /* pubno * 2654435761 ^ n, truncated */
	uint64_t n;
};

static uint32_t mp_check(uint32_t pubno, uint64_t n)
{
	return (uint32_t)(pubno * 2654435761u ^ n ^ (n >> 32));
}

static const char *mp_ring(const char *tag, uint32_t slots)
{
	struct ringcast_ring_opts o = { .slots = slots, .slot_size = 64 };

	return t_ring_opts(tag, &o, RINGCAST_CREATE_MULTI_PUB);
}

struct mp_reader {
	const char *name;
	unsigned int npubs;
	uint64_t per_pub; /* events each publisher sends */
	uint64_t aborted; /* holes expected */
	int end; /* the end code expected */
};

/*
 * A reliable subscriber from the oldest event: every publisher's events
 * exactly once and in its order (a killed publisher's stop where it died),
 * in increasing sequence, until the end code.
 */
static int mp_read(void *arg)
{
	const struct mp_reader *rd = arg;
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	uint64_t next[MAX_PUBS] = { 0 }, first, total = 0, want = 0, seq = 0;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	unsigned int i;
	int r;

	CHILD_ASSERT_EQ(ringcast_sub_attach(rd->name, &o, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	for (;;) {
		struct mp_msg m;

		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (r < 0)
			break;
		CHILD_ASSERT(ev.seq >= seq);
		seq = ev.seq + 1;
		CHILD_ASSERT_EQ(ev.len, sizeof(m));
		memcpy(&m, ev.data, sizeof(m));
		CHILD_ASSERT(m.pubno < rd->npubs);
		CHILD_ASSERT_EQ(m.check, mp_check(m.pubno, m.n));
		CHILD_ASSERT_EQ(m.n, next[m.pubno]);
		CHILD_ASSERT(ev.publisher != RINGCAST_PUBLISHER_LEASE);
		next[m.pubno]++;
		total++;
	}
	CHILD_ASSERT_EQ(r, rd->end);
	ringcast_sub_get_stats(sub, &st);
	fprintf(stderr, "# subscriber %d: %llu events, %llu aborted\n",
		(int)getpid(), (unsigned long long)total,
		(unsigned long long)st.aborted);
	CHILD_ASSERT_EQ(st.lost, 0);
	CHILD_ASSERT_EQ(st.aborted, rd->aborted);
	CHILD_ASSERT_EQ(st.delivered + st.aborted, st.cursor - st.first);
	for (i = 0; i < rd->npubs; i++)
		want += next[i];
	CHILD_ASSERT_EQ(total, want);
	if (!rd->aborted)
		for (i = 0; i < rd->npubs; i++)
			CHILD_ASSERT_EQ(next[i], rd->per_pub);
	ringcast_sub_detach(sub);
	return 0;
}

struct mp_writer {
	const char *name;
	uint32_t pubno;
	uint64_t count;
	uint64_t die_at; /* reserve this one and SIGKILL ourselves; ~0: never */
	unsigned int wait_subs;
	bool finish; /* ringcast_pub_finish() at the end, else detach */
	struct t_gate *attached; /* posted once attached, if set */
	struct t_gate *go; /* publishes once posted, if set */
};

static int mp_write(void *arg)
{
	const struct mp_writer *w = arg;
	struct ringcast_pub *pub;
	uint64_t i;
	void *slot;
	int r;

	CHILD_ASSERT_EQ(ringcast_pub_attach(w->name, 0, &pub), 0);
	if (w->attached)
		t_gate_post(w->attached);
	if (w->go)
		CHILD_ASSERT_EQ(t_gate_wait(w->go, 1, T_CHILD_MS), 0);
	if (w->wait_subs)
		CHILD_ASSERT(ringcast_pub_wait_subscribers(pub, w->wait_subs,
							   T_WAIT_NS) >=
			     (int)w->wait_subs);
	for (i = 0; i < w->count; i++) {
		struct mp_msg m = { w->pubno, mp_check(w->pubno, i), i };

		if (i == w->die_at) {
			/* Claimed, half written, never committed. */
			CHILD_ASSERT_EQ(
				ringcast_pub_reserve(pub, sizeof(m), &slot), 0);
			memset(slot, 0xee, sizeof(m) / 2);
			raise(SIGKILL);
		}
		r = ringcast_pub_publish(pub, 7, &m, sizeof(m));
		CHILD_ASSERT(r >= 0);
	}
	if (w->finish)
		CHILD_ASSERT(ringcast_pub_finish(pub) >= 0);
	else
		ringcast_pub_detach(pub);
	return 0;
}

/* 4 publisher processes x 250000 events, 3 reliable subscribers. */
START_TEST(test_multi_four_publishers)
{
	uint64_t per = t_env_u64("RINGCAST_MULTI_EVENTS", 250000);
	const char *name = mp_ring("multi-four", 1024);
	struct mp_reader rd = { name, 4, per, 0, -EPIPE };
	struct mp_writer w[4];
	struct ringcast_ring_stats info;
	pid_t subs[3], pubs[4];
	unsigned int i;

	for (i = 0; i < 3; i++)
		subs[i] = t_fork(mp_read, &rd);
	for (i = 0; i < 4; i++) {
		w[i] = (struct mp_writer){ name, i,    per,  UINT64_MAX,
					   3,	 true, NULL, NULL };
		pubs[i] = t_fork(mp_write, &w[i]);
	}
	for (i = 0; i < 4; i++)
		t_child_ok(pubs[i]);
	for (i = 0; i < 3; i++)
		t_child_ok(subs[i]);
	t_stat(name, &info);
	ck_assert_uint_eq(info.features & RINGCAST_FEAT_MULTI_PUB,
			  RINGCAST_FEAT_MULTI_PUB);
	ck_assert_uint_eq(info.head, 4 * per);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_uint_eq(info.publishers, 0);
	t_assert_clean();
}
END_TEST

/*
 * A publisher that dies between claim and commit, round after round: no
 * subscriber hangs, each reports every hole once, everything else
 * arrives.  This process publishes all along and closes at the end.
 */
START_TEST(test_multi_kill_between_claim_and_commit)
{
	const unsigned int rounds = 12;
	const uint64_t per = 2000;
	const char *name = mp_ring("multi-kill", 64);
	struct mp_reader rd = { name, rounds + 1, per, rounds, -EPIPE };
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	uint64_t n = 0, k;
	pid_t subs[2];
	unsigned int i;

	for (i = 0; i < 2; i++)
		subs[i] = t_fork(mp_read, &rd);
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_wait_subscribers(pub, 2, T_WAIT_NS), 2);
	for (i = 0; i < rounds; i++) {
		struct mp_writer w = { name, i,	    per,  per / 2,
				       0,    false, NULL, NULL };
		pid_t killer = t_fork(mp_write, &w);

		/* Publish while the other one claims, writes and dies. */
		for (k = 0; k < per; k++, n++) {
			struct mp_msg m = { rounds, mp_check(rounds, n), n };

			ck_assert_int_ge(
				ringcast_pub_publish(pub, 7, &m, sizeof(m)), 2);
		}
		/* Round i: the publisher dies as planned. */
		t_child_killed(killer, SIGKILL);
	}
	ck_assert_int_eq(ringcast_pub_finish(pub), 1);
	for (i = 0; i < 2; i++)
		t_child_ok(subs[i]);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, n + rounds * (per / 2 + 1));
	ck_assert_uint_eq(info.publishers, 0);
	t_assert_clean();
}
END_TEST

/* Every publisher dies: the ring is abandoned; readers drain, then end. */
START_TEST(test_multi_all_die)
{
	const char *name = mp_ring("multi-all-die", 64);
	struct mp_reader rd = { name, 2, 1000, 2, -EOWNERDEAD };
	struct mp_writer w[2];
	struct t_gate attached, go;
	pid_t sub, pw[2];
	unsigned int i;

	/*
	 * Both attached before either dies: a publisher that attached after
	 * the first died might find the ring abandoned (and take it over)
	 * or not, as the reader noticed the death or not.
	 */
	t_gate_init(&attached);
	t_gate_init(&go);
	sub = t_fork(mp_read, &rd);
	for (i = 0; i < 2; i++) {
		w[i] = (struct mp_writer){ name, i,	1000,	   300 + i,
					   1,	 false, &attached, &go };
		pw[i] = t_fork(mp_write, &w[i]);
	}
	ck_assert_int_eq(t_gate_wait(&attached, 2, T_CHILD_MS), 0);
	t_gate_post_n(&go, 2);
	/* Killed by itself, not by t_wait() or a crash. */
	for (i = 0; i < 2; i++)
		t_child_killed(pw[i], SIGKILL);
	t_child_ok(sub);
	t_gate_close(&attached);
	t_gate_close(&go);
	t_assert_clean();
}
END_TEST

/* finish: the first of two detaches, the last closes; close ends all. */
START_TEST(test_multi_finish_and_close)
{
	const char *name = mp_ring("multi-finish", 64);
	struct ringcast_pub *a, *b, *c;
	struct ringcast_ring_stats info;
	uint64_t x = 1;

	a = t_pub(name, 0);
	b = t_pub(name, 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.publishers, 2);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_int_ge(ringcast_pub_publish(a, 1, &x, sizeof(x)), 0);
	ck_assert_int_ge(ringcast_pub_publish(b, 1, &x, sizeof(x)), 0);
	ck_assert_int_eq(ringcast_pub_finish(a), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_uint_eq(info.publishers, 1);
	ck_assert_int_eq(ringcast_pub_finish(b), 1);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.head, 2);

	/* Reopened by one, joined by another; one's close ends it for both. */
	ck_assert_int_eq(ringcast_pub_attach(name, RINGCAST_PUB_REOPEN, &a), 0);
	b = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_attach(name, 0, &c), 0);
	ck_assert_int_eq(ringcast_pub_close(c), 0);
	ck_assert_int_eq(ringcast_pub_publish(a, 1, &x, sizeof(x)), -EPIPE);
	ck_assert_int_eq(ringcast_pub_publish(b, 1, &x, sizeof(x)), -EPIPE);
	ringcast_pub_detach(a);
	ringcast_pub_detach(b);
	t_assert_clean();
}
END_TEST

/*
 * A read-only reader of a multi-publisher ring: the first publisher, the
 * one that took the ring over (its pid is the header's), finishes while
 * the second goes on.
 */
#define RO_FIRST 5
#define RO_SECOND 40

struct ro_ctx {
	const char *name;
	struct t_gate a_ready, a_go, r_ready, r_go, r_probed;
};

static int ro_first_pub(void *arg)
{
	struct ro_ctx *c = arg;
	struct ringcast_pub *pub;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(c->name, 0, &pub), 0);
	for (i = 0; i < RO_FIRST; i++) {
		struct mp_msg m = { 0, mp_check(0, i), i };

		CHILD_ASSERT(ringcast_pub_publish(pub, 7, &m, sizeof(m)) >= 0);
	}
	t_gate_post(&c->a_ready);
	CHILD_ASSERT_EQ(t_gate_wait(&c->a_go, 1, T_CHILD_MS), 0);
	/* The other publisher goes on: a detach, not a close. */
	CHILD_ASSERT_EQ(ringcast_pub_finish(pub), 0);
	return 0;
}

static void ro_expect(struct ringcast_sub *sub, uint64_t seq, uint32_t pubno,
		      uint64_t n)
{
	struct ringcast_event ev;
	struct mp_msg m;
	int r;

	r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
	if (r)
		fprintf(stderr, "read-only reader at %llu: %s\n",
			(unsigned long long)seq, ringcast_strerror(r));
	CHILD_ASSERT_EQ(r, 0);
	CHILD_ASSERT_EQ(ev.seq, seq);
	CHILD_ASSERT_EQ(ev.len, sizeof(m));
	memcpy(&m, ev.data, sizeof(m));
	CHILD_ASSERT_EQ(m.pubno, pubno);
	CHILD_ASSERT_EQ(m.n, n);
	CHILD_ASSERT_EQ(m.check, mp_check(pubno, n));
}

static int ro_reader(void *arg)
{
	struct ro_ctx *c = arg;
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	char path[512];
	uint64_t i;
	int r;

	/* No write access: another user, or the owner of a 0444 object. */
	if (geteuid() == 0) {
		CHILD_ASSERT(setgroups(0, NULL) == 0);
		CHILD_ASSERT(setresgid(65534, 65534, 65534) == 0);
		CHILD_ASSERT(setresuid(65534, 65534, 65534) == 0);
	} else {
		t_shm_path(path, sizeof(path), c->name);
		CHILD_ASSERT(chmod(path, 0444) == 0);
	}
	CHILD_ASSERT_EQ(ringcast_sub_attach(c->name, &o, &sub, NULL), 0);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.entry, -1); /* read-only: unregistered */
	for (i = 0; i < RO_FIRST; i++)
		ro_expect(sub, i, 0, i);
	t_gate_post(&c->r_ready);
	CHILD_ASSERT_EQ(t_gate_wait(&c->r_go, 1, T_CHILD_MS), 0);
	/*
	 * The first publisher is gone, the second lives: a look at the
	 * publishers (the first idle check probes at once) finds one.
	 */
	r = ringcast_sub_next(sub, &ev, 0);
	if (r != -EAGAIN)
		fprintf(stderr, "read-only reader: %s\n", ringcast_strerror(r));
	CHILD_ASSERT_EQ(r, -EAGAIN);
	t_gate_post(&c->r_probed);
	for (i = 0; i < RO_SECOND; i++)
		ro_expect(sub, RO_FIRST + i, 1, i);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.delivered, RO_FIRST + RO_SECOND);
	ringcast_sub_detach(sub);
	return 0;
}

/* Wait for a child's gate; a child that failed fails the test at once. */
static void ro_gate(struct t_gate *g, pid_t pid)
{
	int r = t_gate_wait(g, 1, T_CHILD_MS);

	if (r)
		t_child_ok(pid); /* fails, saying why the child did */
	ck_assert_int_eq(r, 0);
}

START_TEST(test_multi_readonly_reader)
{
	struct ringcast_ring_opts o = { .slots = 64,
					.slot_size = 64,
					.mode = 0644 };
	struct ro_ctx c = { 0 };
	struct ringcast_pub *b;
	char path[512];
	pid_t a, rd;
	uint64_t i;

	c.name = t_ring_opts("multi-ro", &o, RINGCAST_CREATE_MULTI_PUB);
	t_gate_init(&c.a_ready);
	t_gate_init(&c.a_go);
	t_gate_init(&c.r_ready);
	t_gate_init(&c.r_go);
	t_gate_init(&c.r_probed);
	a = t_fork(ro_first_pub, &c);
	close(c.a_ready.wr);
	c.a_ready.wr = -1;
	ro_gate(&c.a_ready, a);
	b = t_pub(c.name, 0);
	rd = t_fork(ro_reader, &c);
	close(c.r_ready.wr);
	close(c.r_probed.wr);
	c.r_ready.wr = c.r_probed.wr = -1;
	ro_gate(&c.r_ready, rd);
	t_gate_post(&c.a_go);
	t_child_ok(a);
	t_gate_post(&c.r_go);
	ro_gate(&c.r_probed, rd);
	for (i = 0; i < RO_SECOND; i++) {
		struct mp_msg m = { 1, mp_check(1, i), i };

		ck_assert_int_ge(ringcast_pub_publish(b, 7, &m, sizeof(m)), 0);
	}
	ck_assert_int_eq(ringcast_pub_finish(b), 1); /* the last: closes */
	t_child_ok(rd);
	t_shm_path(path, sizeof(path), c.name);
	ck_assert_int_eq(chmod(path, 0644), 0);
	t_gate_close(&c.a_ready);
	t_gate_close(&c.a_go);
	t_gate_close(&c.r_ready);
	t_gate_close(&c.r_go);
	t_gate_close(&c.r_probed);
	t_assert_clean();
}
END_TEST

/* Detaching (or closing) with a reservation pending leaves a hole, not a wait. */
START_TEST(test_multi_detach_reserved)
{
	const char *name = mp_ring("multi-detach-reserved", 64);
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub_stats st;
	struct ringcast_pub *a, *b;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t x = 1;
	void *buf;

	sub = t_sub(name, &o, NULL);
	a = t_pub(name, 0);
	b = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_reserve(a, sizeof(x), &buf), 0);
	ck_assert_int_ge(ringcast_pub_publish(b, 1, &x, sizeof(x)), 0);
	ringcast_pub_detach(a);
	ck_assert_int_ge(ringcast_pub_publish(b, 1, &x, sizeof(x)), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.seq, 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.seq, 2);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.aborted, 1);
	ck_assert_int_eq(ringcast_pub_finish(b), 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

/*
 * Reserved batches of two publishers interleave whole: each claims its
 * sequences at the reservation, readers see each batch in order once the
 * head passes it, and a batch detached uncommitted is one hole per slot.
 */
START_TEST(test_multi_reserve_batch)
{
	const char *name = mp_ring("multi-reserve-batch", 64);
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_msg msgs[3] = { { 1, 8, NULL },
					{ 2, 8, NULL },
					{ 3, 8, NULL } };
	void *abuf[3], *bbuf[2], *cbuf[3];
	struct ringcast_pub *a, *b, *c;
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t v, i;

	sub = t_sub(name, &o, NULL);
	a = t_pub(name, 0);
	b = t_pub(name, 0);
	c = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_reserve_batch(a, 3, 8, abuf), 0);
	ck_assert_int_eq(ringcast_pub_reserve_batch(b, 2, 8, bbuf), 0);
	ck_assert_int_eq(ringcast_pub_reserve_batch(c, 3, 8, cbuf), 0);
	for (i = 0; i < 3; i++) {
		v = 100 + i;
		memcpy(abuf[i], &v, 8);
		v = 300 + i;
		memcpy(cbuf[i], &v, 8);
	}
	for (i = 0; i < 2; i++) {
		v = 200 + i;
		memcpy(bbuf[i], &v, 8);
	}
	/* B's batch (3, 4) waits behind A's uncommitted one. */
	ck_assert_int_ge(ringcast_pub_commit_batch(b, msgs, 2), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_ge(ringcast_pub_commit_batch(a, msgs, 3), 0);
	/* C leaves with its batch (5-7) reserved: three holes. */
	ringcast_pub_detach(c);
	v = 400;
	ck_assert_int_ge(ringcast_pub_publish(b, 9, &v, sizeof(v)), 0);
	for (i = 0; i < 6; i++) {
		uint64_t seq = i < 5 ? i : 8;
		uint64_t want = i < 3 ? 100 + i : i < 5 ? 200 + i - 3 : 400;

		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, seq);
		ck_assert_uint_eq(ev.len, 8);
		memcpy(&v, ev.data, 8);
		ck_assert_uint_eq(v, want);
		ck_assert_uint_eq(ev.type,
				  i < 5 ? msgs[i < 3 ? i : i - 3].type : 9);
	}
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.aborted, 3);
	ringcast_pub_detach(a);
	ck_assert_int_eq(ringcast_pub_finish(b), 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	t_assert_clean();
}
END_TEST

/* Publisher threads of one process (what TSan checks), reliable readers. */
struct mp_thread {
	struct ringcast_pub *pub;
	uint32_t pubno;
	uint64_t count;
	int fail;
};

static void *mp_pub_thread(void *arg)
{
	struct mp_thread *t = arg;
	uint64_t i;

	for (i = 0; i < t->count; i++) {
		struct mp_msg m = { t->pubno, mp_check(t->pubno, i), i };

		if (ringcast_pub_publish(t->pub, 7, &m, sizeof(m)) < 0)
			t->fail = 1;
	}
	return NULL;
}

struct mp_sub_thread {
	struct ringcast_sub *sub;
	uint64_t next[MAX_PUBS];
	uint64_t total;
	int end;
	int fail;
};

static void *mp_sub_thread(void *arg)
{
	struct mp_sub_thread *t = arg;
	struct ringcast_event ev;
	struct mp_msg m;
	int r;

	while ((r = ringcast_sub_next(t->sub, &ev, T_WAIT_NS)) == 0) {
		memcpy(&m, ev.data, sizeof(m));
		if (m.pubno >= MAX_PUBS || m.n != t->next[m.pubno] ||
		    m.check != mp_check(m.pubno, m.n))
			t->fail = 1;
		else
			t->next[m.pubno]++;
		t->total++;
	}
	t->end = r;
	return NULL;
}

START_TEST(test_multi_threads)
{
	uint64_t per = t_env_u64("RINGCAST_THREADS_EVENTS", 100000) / 4;
	const char *name = mp_ring("multi-threads", 32);
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct mp_thread p[3];
	struct mp_sub_thread s[2];
	pthread_t pt[3], st[2];
	struct ringcast_pub *closer;
	unsigned int i, k;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++)
		s[i].sub = t_sub(name, &o, NULL);
	for (i = 0; i < 3; i++) {
		p[i] = (struct mp_thread){ t_pub(name, 0), i, per, 0 };
		ck_assert_int_eq(
			pthread_create(&pt[i], NULL, mp_pub_thread, &p[i]), 0);
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(
			pthread_create(&st[i], NULL, mp_sub_thread, &s[i]), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(pt[i], NULL), 0);
		ck_assert_msg(!p[i].fail, "publisher thread %u failed", i);
	}
	closer = t_pub(name, 0);
	for (i = 0; i < 3; i++)
		ringcast_pub_detach(p[i].pub);
	ck_assert_int_eq(ringcast_pub_finish(closer), 1);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(st[i], NULL), 0);
		ck_assert_msg(!s[i].fail, "subscriber thread %u failed", i);
		ck_assert_int_eq(s[i].end, -EPIPE);
		ck_assert_uint_eq(s[i].total, 3 * per);
		for (k = 0; k < 3; k++)
			ck_assert_uint_eq(s[i].next[k], per);
		ringcast_sub_detach(s[i].sub);
	}
	t_assert_clean();
}
END_TEST

static Suite *multi_suite(void)
{
	Suite *s = suite_create("multi");
	TCase *tc;

	tc = tcase_create("multi");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_multi_four_publishers);
	tcase_add_test(tc, test_multi_kill_between_claim_and_commit);
	tcase_add_test(tc, test_multi_all_die);
	tcase_add_test(tc, test_multi_finish_and_close);
	tcase_add_test(tc, test_multi_readonly_reader);
	tcase_add_test(tc, test_multi_detach_reserved);
	tcase_add_test(tc, test_multi_reserve_batch);
	suite_add_tcase(s, tc);

	/* Alone in the TSan build (CK_RUN_CASE=threads): no fork. */
	tc = tcase_create("threads");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_multi_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(multi_suite());
}
