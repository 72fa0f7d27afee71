// SPDX-License-Identifier: MIT
/*
 * Waiting across processes: every wait strategy is woken by a publish and
 * by a close, a filtered sleeper is woken for its type only, and a stress
 * test of sparse events against sleeping subscribers finds no lost
 * wake-up (a wait that timed out although an event was there).
 *
 * RINGCAST_STRESS_EVENTS sets the number of events of the stress test
 * (default 20000; docs/operations.md documents a run with 100000).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

static const char *const wait_names[] = { "spin", "busy", "sleep" };

struct wake_ctx {
	const char *name;
	unsigned int wait;
	uint32_t want_type;
	uint64_t want_seq;
	uint64_t want_skipped;
	struct t_gate ready;
};

static int wake_child(void *arg)
{
	struct wake_ctx *w = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_NEWEST,
		.wait = w->wait,
		.ntypes = w->want_type ? 1 : 0,
		.types = &w->want_type,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	uint64_t first;
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(w->name, &so, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&w->ready);
	ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
	if (ret)
		fprintf(stderr, "%s waiter: %s\n", wait_names[w->wait],
			ringcast_strerror(ret));
	CHILD_ASSERT_EQ(ret, 0);
	CHILD_ASSERT_EQ(ev.seq, w->want_seq);
	if (w->want_type)
		CHILD_ASSERT_EQ(ev.type, w->want_type);
	/* Now asleep (or spinning) until the close. */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.delivered, 1);
	CHILD_ASSERT_EQ(st.skipped, w->want_skipped);
	CHILD_ASSERT_EQ(t_lost_wakes(sub), 0);
	ringcast_sub_detach(sub);
	return 0;
}

/* A waiter of each strategy is woken by one publish, then by the close. */
START_TEST(test_wake_strategy)
{
	struct wake_ctx w = { .wait = (unsigned int)_i };
	struct ringcast_pub *pub;
	pid_t pid;

	w.name = t_ring(wait_names[_i], 64, 64);
	pub = t_pub(w.name, 0);
	t_gate_init(&w.ready);
	pid = t_fork(wake_child, &w);
	ck_assert_int_eq(t_gate_wait(&w.ready, 1, T_CHILD_MS), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "wake", 4), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid);
	t_gate_close(&w.ready);
	t_assert_clean();
}
END_TEST

/* A sleeper filtered to type 2 sleeps through type 1 and wakes for 2. */
START_TEST(test_wake_filtered)
{
	struct wake_ctx w = {
		.wait = RINGCAST_WAIT_SLEEP,
		.want_type = 2,
		.want_seq = 50,
		.want_skipped = 55, /* 50 before it, 5 after */
	};
	struct ringcast_pub *pub;
	unsigned int i;
	pid_t pid;

	w.name = t_ring("filtered", 256, 64);
	pub = t_pub(w.name, 0);
	t_gate_init(&w.ready);
	pid = t_fork(wake_child, &w);
	ck_assert_int_eq(t_gate_wait(&w.ready, 1, T_CHILD_MS), 0);
	for (i = 0; i < 50; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, "one", 3), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 2, "two", 3), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, 3, "three", 5), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid);
	t_gate_close(&w.ready);
	t_assert_clean();
}
END_TEST

#define CROWD_EVENTS 3000u

static int crowd_child(void *arg)
{
	struct wake_ctx *w = arg;
	struct ringcast_sub_opts so = {
		.flags = RINGCAST_SUB_RELIABLE,
		.wait = RINGCAST_WAIT_SPIN,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_sub_attach(w->name, &so, &sub, NULL), 0);
	t_gate_post(&w->ready);
	for (i = 0; i < CROWD_EVENTS; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
		CHILD_ASSERT_EQ(ev.type, (uint32_t)(i % 7) + 1);
	}
	/* Asleep until the close, which a crowd's sleep also sees. */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.delivered, CROWD_EVENTS);
	CHILD_ASSERT_EQ(st.lost, 0);
	CHILD_ASSERT_EQ(t_lost_wakes(sub), 0);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * Far more subscribers than CPUs (a crowd: its readers sleep on a timer,
 * not woken per publish call, and do not spin): a reliable reader of the
 * crowd still gets every event in order through a ring it fills many
 * times over, in bursts with pauses between (the publisher waits for it,
 * and it sleeps both ways), and the close.
 */
START_TEST(test_wake_crowd)
{
	struct wake_ctx w = { 0 };
	struct ringcast_ring_opts ro = { .slots = 64 };
	struct ringcast_sub_opts lo = { .from = RINGCAST_FROM_NEWEST };
	struct ringcast_sub **crowd;
	struct ringcast_pub *pub;
	uint32_t i, n;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pid;

	ck_assert_int_gt(cpus, 0);
	n = 16 * (uint32_t)cpus + 1; /* past RC_CROWD_PER_CPU */
	ck_assert_uint_le(n + 2, 4096);
	ro.max_subscribers = n + 2;
	w.name = t_ring_opts("crowd", &ro, 0);
	pub = t_pub(w.name, 0);
	crowd = calloc(n, sizeof(*crowd));
	ck_assert_ptr_nonnull(crowd);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(
			ringcast_sub_attach(w.name, &lo, &crowd[i], NULL), 0);
	t_gate_init(&w.ready);
	pid = t_fork(crowd_child, &w);
	ck_assert_int_eq(t_gate_wait(&w.ready, 1, T_CHILD_MS), 0);
	for (i = 0; i < CROWD_EVENTS; i++) {
		ck_assert_int_ge(
			ringcast_pub_publish(pub, i % 7 + 1, &i, sizeof(i)), 0);
		if (i % 500 == 499) /* a pause: the reader's sleep times out */
			usleep(20000);
	}
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_child_ok(pid);
	for (i = 0; i < n; i++)
		ringcast_sub_detach(crowd[i]);
	free(crowd);
	t_gate_close(&w.ready);
	t_assert_clean();
}
END_TEST

/* The liveness timer of the detach test, and the longest wait it allows. */
#define DETACH_LIVENESS_NS (20LL * 1000 * 1000 * 1000)
#define DETACH_WAIT_NS (5LL * 1000 * 1000 * 1000)

static int detach_child(void *arg)
{
	struct wake_ctx *w = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_NEWEST,
		.wait = RINGCAST_WAIT_SLEEP,
		.liveness_ns = DETACH_LIVENESS_NS,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(w->name, &so, &sub, NULL), 0);
	t_gate_post(&w->ready);
	/*
	 * Probes the lease (the publisher lives) and sleeps at once: the
	 * detach comes well inside the probe rate limit, and the liveness
	 * timer is longer than the wait.
	 */
	ret = ringcast_sub_next(sub, &ev, DETACH_WAIT_NS);
	if (ret != -EOWNERDEAD)
		fprintf(stderr, "sleeper: %s\n", ringcast_strerror(ret));
	CHILD_ASSERT_EQ(ret, -EOWNERDEAD);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT(st.sleeps > 0);
	/* Told by the detach's wake, not by a timer running out. */
	CHILD_ASSERT_EQ(st.timed_wakes, 0);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * A publisher that detaches wakes every sleeper, and a sleeper that probed
 * the lease just before learns of it then, not at its liveness timer (nor
 * at its timeout here, which comes first).
 */
START_TEST(test_wake_detach)
{
	struct wake_ctx w = { .wait = RINGCAST_WAIT_SLEEP };
	struct ringcast_pub *pub;
	struct rc_hdr *h;
	uint64_t deadline;
	size_t size;
	pid_t pid;
	int r;

	w.name = t_ring("detach", 64, 64);
	pub = t_pub(w.name, 0);
	h = t_map(w.name, &size);
	t_gate_init(&w.ready);
	pid = t_fork(detach_child, &w);
	close(w.ready.wr); /* a child that failed gives -EPIPE */
	w.ready.wr = -1;
	r = t_gate_wait(&w.ready, 1, T_CHILD_MS);
	if (r)
		t_child_ok(pid); /* fails, saying why the child did */
	ck_assert_int_eq(r, 0);
	/* Its wake bits are set: it probed and is (about to be) asleep. */
	deadline = t_now_ns() + T_WAIT_NS;
	while (!atomic_load(&h->wake_bits) && t_now_ns() < deadline)
		sched_yield();
	ck_assert_uint_ne(atomic_load(&h->wake_bits), 0);
	ringcast_pub_detach(pub);
	t_child_ok(pid);
	t_unmap(h, size);
	t_gate_close(&w.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * No lost wake-up: sparse events, sleeping subscribers
 */

struct stress {
	const char *name;
	uint64_t events;
	uint64_t seed;
	uint32_t filter; /* 0: every type */
	struct t_gate ready;
};

struct stress_payload {
	uint64_t seq;
	uint64_t check;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The type of event @seq: 1 to 4, the same in every process. */
static uint32_t stress_type(const struct stress *s, uint64_t seq)
{
	return (uint32_t)(splitmix(s->seed ^ seq) % 4) + 1;
}

/* The next sequence >= @seq that a subscriber with @filter wants. */
static uint64_t stress_next_wanted(const struct stress *s, uint64_t seq)
{
	while (seq < s->events && s->filter && stress_type(s, seq) != s->filter)
		seq++;
	return seq;
}

static void busy_wait_ns(uint64_t ns)
{
	uint64_t end = t_now_ns() + ns;

	while (t_now_ns() < end)
		;
}

/* Sleepers wake on their own after STRESS_LIVENESS_NS; pauses outlast it. */
#define STRESS_LIVENESS_NS 2000000
#define STRESS_PAUSE_NS 3000000

static int stress_pub(void *arg)
{
	struct stress *s = arg;
	struct ringcast_pub *pub = NULL;
	uint64_t rng = s->seed | 1, i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(s->name, 0, &pub), 0);
	for (i = 0; i < s->events; i++) {
		struct stress_payload p = { i, splitmix(i) };
		uint64_t r = t_rand(&rng);
		struct timespec ts = { 0, 0 };

		switch (r % 8) {
		case 0:
		case 1:
		case 2:
		case 3:
			busy_wait_ns((r >> 8) % 200000);
			break;
		case 4:
		case 5:
			ts.tv_nsec = (long)((r >> 8) % 100000);
			nanosleep(&ts, NULL);
			break;
		case 6:
			/*
			 * Now and then a pause longer than the subscribers'
			 * liveness timer: a wake-up lost just before it shows
			 * up as a timed-out wait that finds the event, instead
			 * of hiding behind the next event's wake.
			 */
			if (!((r >> 8) % 16)) {
				ts.tv_nsec = STRESS_PAUSE_NS;
				nanosleep(&ts, NULL);
			}
			break;
		default:
			/* Back to back. */
			break;
		}
		CHILD_ASSERT(ringcast_pub_publish(pub, stress_type(s, i), &p,
						  sizeof(p)) >= 0);
	}
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

static int stress_sub(void *arg)
{
	struct stress *s = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = RINGCAST_WAIT_SLEEP,
		.ntypes = s->filter ? 1 : 0,
		.types = &s->filter,
		.liveness_ns = STRESS_LIVENESS_NS,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	uint64_t next, delivered = 0;
	int ret;

	CHILD_ASSERT_EQ(ringcast_sub_attach(s->name, &so, &sub, NULL), 0);
	t_gate_post(&s->ready);
	next = stress_next_wanted(s, 0);
	for (;;) {
		struct stress_payload p;

		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret)
			break;
		if (ev.seq != next) {
			fprintf(stderr, "filter %u: got %llu, expected %llu\n",
				s->filter, (unsigned long long)ev.seq,
				(unsigned long long)next);
			return 1;
		}
		CHILD_ASSERT_EQ(ev.len, sizeof(p));
		memcpy(&p, ev.data, sizeof(p));
		CHILD_ASSERT_EQ(p.seq, ev.seq);
		CHILD_ASSERT(p.check == splitmix(ev.seq));
		CHILD_ASSERT_EQ(ev.type, stress_type(s, ev.seq));
		delivered++;
		next = stress_next_wanted(s, ev.seq + 1);
	}
	if (ret != -EPIPE) {
		fprintf(stderr, "filter %u: ended at %llu with %s\n", s->filter,
			(unsigned long long)next, ringcast_strerror(ret));
		return 1;
	}
	CHILD_ASSERT_EQ(next, s->events);
	ringcast_sub_get_stats(sub, &st);
	fprintf(stderr,
		"# filter %u: %llu delivered, %llu sleeps, %llu timed wakes, "
		"%llu lost wake-ups\n",
		s->filter, (unsigned long long)st.delivered,
		(unsigned long long)st.sleeps,
		(unsigned long long)st.timed_wakes,
		(unsigned long long)t_lost_wakes(sub));
	if (t_lost_wakes(sub) || st.lost || st.laps) {
		fprintf(stderr,
			"filter %u: %llu lost wake-ups (of %llu timed wakes, "
			"%llu sleeps), %llu lost events\n",
			s->filter, (unsigned long long)t_lost_wakes(sub),
			(unsigned long long)st.timed_wakes,
			(unsigned long long)st.sleeps,
			(unsigned long long)st.lost);
		return 1;
	}
	CHILD_ASSERT_EQ(st.delivered, delivered);
	CHILD_ASSERT_EQ(st.delivered + st.skipped, s->events);
	CHILD_ASSERT_EQ(st.cursor, s->events);
	/* They did sleep: this is what is under test. */
	CHILD_ASSERT(st.sleeps > 0);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_no_lost_wakeup)
{
	static const uint32_t filters[] = { 0, 0, 1, 3 };
	struct stress s;
	uint32_t slots = 1024;
	pid_t subs[4], pub;
	unsigned int i;

	s.events = t_env_u64("RINGCAST_STRESS_EVENTS", 20000);
	s.seed = t_env_u64("RINGCAST_STRESS_SEED", 0) ?:
			 (t_now_ns() ^ (uint64_t)getpid() << 32);
	fprintf(stderr, "# stress: %llu events, RINGCAST_STRESS_SEED=%llu\n",
		(unsigned long long)s.events, (unsigned long long)s.seed);
	/* Big enough that no subscriber can be lapped. */
	while (slots < s.events + 16 && slots < (1u << 22))
		slots <<= 1;
	s.name = t_ring("stress", slots, 64);
	t_gate_init(&s.ready);
	for (i = 0; i < 4; i++) {
		s.filter = filters[i];
		subs[i] = t_fork(stress_sub, &s);
	}
	ck_assert_int_eq(t_gate_wait(&s.ready, 4, T_CHILD_MS), 0);
	pub = t_fork(stress_pub, &s);
	t_child_ok(pub);
	for (i = 0; i < 4; i++)
		t_child_ok(subs[i]);
	t_gate_close(&s.ready);
	t_assert_clean();
}
END_TEST

static Suite *wait_suite(void)
{
	Suite *s = suite_create("wait");
	TCase *tc;

	tc = tcase_create("wake");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_loop_test(tc, test_wake_strategy, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	tcase_add_test(tc, test_wake_filtered);
	tcase_add_test(tc, test_wake_detach);
	tcase_add_test(tc, test_wake_crowd);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	t_add_cleanup(tc);
	/* A 10^5 run takes longer: Check's timeout grows with it. */
	tcase_set_timeout(
		tc,
		T_CASE_TIMEOUT +
			(double)t_env_u64("RINGCAST_STRESS_EVENTS", 0) / 1000);
	tcase_add_test(tc, test_no_lost_wakeup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(wait_suite());
}
