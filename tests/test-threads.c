// SPDX-License-Identifier: MIT
/*
 * A publisher thread and subscriber threads sharing one process and one
 * mapping: what ThreadSanitizer checks (suite 'threads').  10^5 events go
 * through a small ring; lossy readers check every payload against its
 * sequence and the accounting at the end; reliable readers, which gate the
 * publisher through a 16-slot ring, must lose nothing.
 *
 * RINGCAST_THREADS_EVENTS overrides the number of events.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define NSUBS 3

enum pub_mode {
	PUB_ONE, /* ringcast_pub_publish() */
	PUB_BATCH, /* ringcast_pub_publish_batch(), 16 at a time */
	PUB_RESERVE, /* ringcast_pub_reserve() + commit */
};

struct pub_arg {
	struct ringcast_pub *pub;
	uint64_t events;
	int mode;
	int fail;
};

struct sub_arg {
	struct ringcast_sub *sub;
	struct t_tally t;
	int fail;
};

/*
 * Write a reserved slot in place.  A lapped reader may be copying the same
 * slot at that moment (and will discard the copy): the seqlock's benign
 * race.  The library copies with relaxed atomics under TSan; a writer in
 * place must do the same for TSan to stay quiet, so this one always does.
 */
static void fill_in_place(void *slot, uint64_t seq)
{
	unsigned char buf[T_PAYLOAD_LEN];
	_Atomic unsigned char *d = slot;
	unsigned int i;

	t_payload(seq, buf);
	for (i = 0; i < T_PAYLOAD_LEN; i++)
		atomic_store_explicit(&d[i], buf[i], memory_order_relaxed);
}

static void *pub_thread(void *arg)
{
	struct pub_arg *p = arg;
	unsigned char buf[16][T_PAYLOAD_LEN];
	struct ringcast_msg msgs[16];
	uint64_t i = 0;
	void *slot;
	unsigned int n;

	while (i < p->events) {
		switch (p->mode) {
		case PUB_ONE:
			t_payload(i, buf[0]);
			if (ringcast_pub_publish(p->pub, 1, buf[0],
						 T_PAYLOAD_LEN) < 0)
				p->fail = 1;
			i++;
			break;
		case PUB_BATCH:
			n = p->events - i < 16 ? (unsigned int)(p->events - i) :
						 16;
			t_payload_batch(msgs, buf, i, n);
			if (ringcast_pub_publish_batch(p->pub, msgs, n) < 0)
				p->fail = 1;
			i += n;
			break;
		case PUB_RESERVE:
			if (ringcast_pub_reserve(p->pub, T_PAYLOAD_LEN,
						 &slot) != 0) {
				p->fail = 1;
				break;
			}
			fill_in_place(slot, i);
			if (ringcast_pub_commit(p->pub, 1, T_PAYLOAD_LEN) < 0)
				p->fail = 1;
			i++;
			break;
		}
		if (p->fail)
			break;
	}
	if (ringcast_pub_head(p->pub) != p->events)
		p->fail = 1;
	if (ringcast_pub_close(p->pub) != 0)
		p->fail = 1;
	return NULL;
}

static void *sub_thread(void *arg)
{
	struct sub_arg *s = arg;

	s->fail = t_read_stream(s->sub, -EPIPE, &s->t);
	return NULL;
}

/* How many of the NSUBS subscribers are reliable (the first ones). */
static void run_threads(const char *name, uint64_t events, int mode,
			bool lossless, unsigned int reliable)
{
	static const unsigned int waits[NSUBS] = {
		RINGCAST_WAIT_SPIN,
		RINGCAST_WAIT_SLEEP,
		RINGCAST_WAIT_SPIN,
	};
	struct sub_arg subs[NSUBS];
	struct pub_arg p = { .events = events, .mode = mode };
	pthread_t pt, st[NSUBS];
	unsigned int i;

	memset(subs, 0, sizeof(subs));
	/* Everyone attached before the first event. */
	for (i = 0; i < NSUBS; i++) {
		struct ringcast_sub_opts so = {
			.from = RINGCAST_FROM_OLDEST,
			.wait = waits[i],
			.flags = i < reliable ? RINGCAST_SUB_RELIABLE : 0,
		};

		subs[i].sub = t_sub(name, &so, &subs[i].t.first);
		ck_assert_uint_eq(subs[i].t.first, 0);
	}
	p.pub = t_pub(name, 0);
	for (i = 0; i < NSUBS; i++)
		ck_assert_int_eq(
			pthread_create(&st[i], NULL, sub_thread, &subs[i]), 0);
	ck_assert_int_eq(pthread_create(&pt, NULL, pub_thread, &p), 0);
	ck_assert_int_eq(pthread_join(pt, NULL), 0);
	for (i = 0; i < NSUBS; i++)
		ck_assert_int_eq(pthread_join(st[i], NULL), 0);

	ck_assert_msg(!p.fail, "the publisher failed");
	for (i = 0; i < NSUBS; i++) {
		struct t_tally *t = &subs[i].t;

		ck_assert_msg(!subs[i].fail, "subscriber %u failed", i);
		fprintf(stderr,
			"# subscriber %u: %llu delivered, %llu lost "
			"in %llu laps\n",
			i, (unsigned long long)t->delivered,
			(unsigned long long)t->lost,
			(unsigned long long)t->laps);
		ck_assert_uint_eq(t->cursor, events);
		ck_assert_uint_eq(t->delivered + t->lost, events);
		if (lossless || i < reliable)
			ck_assert_uint_eq(t->lost, 0);
		ringcast_sub_detach(subs[i].sub);
	}
	if (reliable) {
		struct ringcast_ring_stats info;

		t_stat(name, &info);
		fprintf(stderr, "# the publisher waited %llu times\n",
			(unsigned long long)info.blocked);
		ck_assert_uint_eq(info.subscribers, 0);
	}
	t_assert_clean();
}

START_TEST(test_threads_lossy)
{
	uint64_t n = t_env_u64("RINGCAST_THREADS_EVENTS", 100000);

	run_threads(t_ring("threads-lossy", 256, 64), n, _i, false, 0);
}
END_TEST

/* Two reliable readers and a lossy one through 16 slots, every mode. */
START_TEST(test_threads_reliable)
{
	uint64_t n = t_env_u64("RINGCAST_THREADS_EVENTS", 100000);

	run_threads(t_ring("threads-reliable", 16, 64), n, _i, false, 2);
}
END_TEST

START_TEST(test_threads_lossless)
{
	uint64_t n = t_env_u64("RINGCAST_THREADS_EVENTS", 100000);
	uint32_t slots = 1024;

	while (slots < n && slots < (1u << 22))
		slots <<= 1;
	run_threads(t_ring("threads-lossless", slots, 64), n, PUB_ONE, true, 0);
}
END_TEST

static Suite *threads_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc;

	tc = tcase_create("pubsub");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_loop_test(tc, test_threads_lossy, PUB_ONE, PUB_RESERVE + 1);
	tcase_add_test(tc, test_threads_lossless);
	tcase_add_loop_test(tc, test_threads_reliable, PUB_ONE,
			    PUB_RESERVE + 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(threads_suite());
}
