// SPDX-License-Identifier: MIT
/*
 * The in-process layer: TypeMux, its local registry (liburcu), scopes,
 * waiting on many rings and the epoll-able descriptor.
 *
 * Case 'threads' (suite 'threads', what the TSan build runs) has no fork;
 * case 'process' forks.  CK_RUN_CASE picks one (tests/meson.build).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define TYPE_A 10u
#define TYPE_B 11u
#define TYPE_C 12u

static struct ringcast_mux *open_mux(const char *name, uint32_t flags,
				     uint32_t qlen)
{
	struct ringcast_mux_opts o = { .flags = flags, .queue_len = qlen };
	struct ringcast_mux *mux;
	int r = ringcast_mux_open(name, &o, &mux);

	ck_assert_msg(r == 0, "ringcast_mux_open: %s", ringcast_strerror(r));
	return mux;
}

/* Wait (bounded) until *v >= n. */
static bool wait_for(_Atomic uint64_t *v, uint64_t n)
{
	uint64_t end = t_now_ns() + (uint64_t)T_WAIT_NS;
	struct timespec ts = { 0, 100000 };

	while (atomic_load(v) < n) {
		if (t_now_ns() > end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ------------------------------------------------ handlers from threads */

#define CHURN_THREADS 4
#define CHURN_ROUNDS 300
#define CHURN_TYPES 8u

enum { H_NEW, H_LIVE, H_DEAD };

struct handler {
	_Atomic int state;
	uint32_t type;
	_Atomic uint64_t calls;
	_Atomic uint64_t *bad;
};

static void churn_fn(const struct ringcast_event *ev, void *arg)
{
	struct handler *h = arg;

	/* A delivery to a handler that is not registered is a bug. */
	if (atomic_load(&h->state) != H_LIVE || ev->type != h->type)
		atomic_fetch_add(h->bad, 1);
	atomic_fetch_add(&h->calls, 1);
}

struct churn_arg {
	struct ringcast_mux *mux;
	_Atomic int *done;
	_Atomic uint64_t *bad;
	_Atomic uint64_t calls;
	uint64_t seed;
	int fail;
};

static void *churn_thread(void *arg)
{
	struct churn_arg *c = arg;
	struct ringcast_mux_sub *subs[4] = { 0 };
	struct handler *hs[4] = { 0 };
	unsigned int i, k;

	/* At least CHURN_ROUNDS, and until the poster is done. */
	for (i = 0; i < CHURN_ROUNDS || !atomic_load(c->done); i++) {
		k = (unsigned int)(t_rand(&c->seed) % 4);
		if (subs[k]) {
			if (ringcast_mux_unsubscribe(subs[k]) != 0)
				c->fail = 1;
			/* No delivery to it from here on: poison, then free. */
			atomic_store(&hs[k]->state, H_DEAD);
			atomic_fetch_add(&c->calls, atomic_load(&hs[k]->calls));
			ringcast_mux_sub_free(subs[k]);
			free(hs[k]);
			subs[k] = NULL;
			continue;
		}
		hs[k] = calloc(1, sizeof(*hs[k]));
		hs[k]->type = (uint32_t)(t_rand(&c->seed) % CHURN_TYPES);
		hs[k]->bad = c->bad;
		atomic_store(&hs[k]->state, H_LIVE);
		if (ringcast_mux_handle(c->mux, &hs[k]->type, 1, churn_fn,
					hs[k], &subs[k]) != 0)
			c->fail = 1;
	}
	for (k = 0; k < 4; k++) {
		if (!subs[k])
			continue;
		ringcast_mux_unsubscribe(subs[k]);
		atomic_store(&hs[k]->state, H_DEAD);
		atomic_fetch_add(&c->calls, atomic_load(&hs[k]->calls));
		ringcast_mux_sub_free(subs[k]);
		free(hs[k]);
	}
	return NULL;
}

#define CHURN_EVENTS 100000u

struct post_arg {
	struct ringcast_mux *mux;
	_Atomic int done;
	uint64_t posted;
	int fail;
};

static void *post_thread(void *arg)
{
	struct post_arg *p = arg;
	unsigned char buf[T_PAYLOAD_LEN];

	while (p->posted < CHURN_EVENTS) {
		t_payload(p->posted, buf);
		if (ringcast_mux_post(p->mux,
				      (uint32_t)(p->posted % CHURN_TYPES), buf,
				      sizeof(buf)) < 0)
			p->fail = 1;
		p->posted++;
	}
	atomic_store(&p->done, 1);
	return NULL;
}

START_TEST(test_mux_handler_churn)
{
	const char *name = t_ring("churn", 1024, 0);
	/* Reliable: posts go at the speed of dispatch, never past it. */
	struct ringcast_mux *mux =
		open_mux(name, RINGCAST_MUX_POST | RINGCAST_MUX_RELIABLE, 0);
	struct churn_arg c[CHURN_THREADS];
	struct post_arg p = { .mux = mux };
	struct ringcast_ring_stats info;
	_Atomic uint64_t bad = 0;
	pthread_t pt, ct[CHURN_THREADS];
	uint64_t calls = 0;
	unsigned int i;

	ck_assert_int_eq(pthread_create(&pt, NULL, post_thread, &p), 0);
	for (i = 0; i < CHURN_THREADS; i++) {
		c[i] = (struct churn_arg){ .mux = mux,
					   .done = &p.done,
					   .bad = &bad,
					   .seed = 0x9e3779b97f4a7c15ull *
						   (i + 1) };
		ck_assert_int_eq(
			pthread_create(&ct[i], NULL, churn_thread, &c[i]), 0);
	}
	for (i = 0; i < CHURN_THREADS; i++) {
		pthread_join(ct[i], NULL);
		ck_assert_int_eq(c[i].fail, 0);
		calls += atomic_load(&c[i].calls);
	}
	pthread_join(pt, NULL);
	ck_assert_int_eq(p.fail, 0);
	ck_assert_uint_eq(atomic_load(&bad), 0);
	/* Every post reached the ring (p.posted only counts the calls). */
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, p.posted);
	ck_assert_uint_gt(p.posted, 0);
	ck_assert_uint_gt(calls, 0);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------- stopping */

struct slow {
	_Atomic uint64_t entered;
	_Atomic uint64_t left;
	_Atomic uint64_t after_stop;
	_Atomic int stopped;
	struct ringcast_mux *mux;
	int stop_from_inside;
};

static void slow_fn(const struct ringcast_event *ev, void *arg)
{
	struct slow *s = arg;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	if (atomic_load(&s->stopped))
		atomic_fetch_add(&s->after_stop, 1);
	atomic_fetch_add(&s->entered, 1);
	/* Slow, so that stop finds it running. */
	nanosleep(&ts, NULL);
	s->stop_from_inside = ringcast_mux_stop(s->mux);
	atomic_fetch_add(&s->left, 1);
}

START_TEST(test_mux_stop_waits)
{
	const char *name = t_ring("stop", 64, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_POST, 0);
	struct ringcast_mux_sub *h;
	struct slow s = { .mux = mux };
	uint32_t t = TYPE_A;
	uint64_t entered;
	int i;

	ck_assert_int_eq(ringcast_mux_handle(mux, &t, 1, slow_fn, &s, &h), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_ge(ringcast_mux_post(mux, TYPE_A, NULL, 0), 0);
	ck_assert(wait_for(&s.entered, 1));
	ck_assert_int_eq(ringcast_mux_stop(mux), 0);
	atomic_store(&s.stopped, 1);
	entered = atomic_load(&s.entered);
	/* Stop waited for the handler that was running... */
	ck_assert_uint_eq(entered, atomic_load(&s.left));
	ck_assert_int_eq(s.stop_from_inside, -EDEADLK);
	ck_assert_uint_lt(entered, 5);

	/* The documented errors after stop. */
	ck_assert_int_eq(ringcast_mux_post(mux, TYPE_A, NULL, 0), -ESHUTDOWN);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &h), -ESHUTDOWN);
	ck_assert_int_eq(ringcast_mux_unsubscribe(h), 0);
	ck_assert_int_eq(ringcast_mux_unsubscribe(h), 0);
	ck_assert_int_eq(ringcast_mux_stop(mux), 0);
	/*
	 * ...and nothing ran after it: checked at the end, not at once,
	 * so that a dispatch that wrongly went on had a window to show.
	 */
	ck_assert_uint_eq(atomic_load(&s.entered), entered);
	ck_assert_uint_eq(atomic_load(&s.after_stop), 0);
	ringcast_mux_sub_free(h);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

struct self_unsub {
	struct ringcast_mux_sub *sub;
	_Atomic uint64_t calls;
	int r;
};

static void self_unsub_fn(const struct ringcast_event *ev, void *arg)
{
	struct self_unsub *u = arg;

	atomic_fetch_add(&u->calls, 1);
	u->r = ringcast_mux_unsubscribe(u->sub);
}

static void count_fn(const struct ringcast_event *ev, void *arg)
{
	atomic_fetch_add((_Atomic uint64_t *)arg, 1);
}

START_TEST(test_mux_errors)
{
	const char *name = t_ring("errors", 64, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_POST, 0);
	struct ringcast_mux_sub *q, *c;
	struct ringcast_event ev;
	struct self_unsub u = { 0 };
	_Atomic uint64_t n = 0;
	uint32_t dup[] = { TYPE_A, TYPE_B, TYPE_A }, t = TYPE_B;
	int i;

	ck_assert_int_eq(ringcast_mux_subscribe(mux, dup, 3, &q), -EINVAL);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, dup, 0, &q), -EINVAL);
	ck_assert_int_eq(ringcast_mux_dispatch(mux, 0), -EINVAL);

	/* A handler that unsubscribes itself runs once. */
	ck_assert_int_eq(
		ringcast_mux_handle(mux, dup, 1, self_unsub_fn, &u, &u.sub), 0);
	ck_assert_int_eq(ringcast_mux_handle(mux, &t, 1, count_fn, &n, &c), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, dup, 2, &q), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(ringcast_mux_post(mux, TYPE_A, NULL, 0), 0);
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_B, "b", 1), 0);
	ck_assert(wait_for(&n, 1));
	ck_assert_uint_eq(atomic_load(&u.calls), 1);
	ck_assert_int_eq(u.r, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ringcast_mux_next(q, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.type, TYPE_A);
	}
	ck_assert_int_eq(ringcast_mux_next(q, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.type, TYPE_B);
	ck_assert_uint_eq(ev.len, 1);
	ck_assert_int_eq(memcmp(ev.data, "b", 1), 0);
	ck_assert_uint_gt(ev.ts, 0);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 1000000), -ETIMEDOUT);
	ringcast_mux_interrupt(q);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, -1), -EINTR);
	ck_assert_int_eq(ringcast_mux_next(c, &ev, 0), -EINVAL);

	ck_assert_int_eq(ringcast_mux_unsubscribe(q), 0);
	ck_assert_int_eq(ringcast_mux_unsubscribe(q), 0);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, -1), -ECANCELED);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	/* After stop: closed, and unsubscribe still harmless. */
	ck_assert_int_eq(ringcast_mux_next(q, &ev, -1), -ECANCELED);
	ck_assert_int_eq(ringcast_mux_unsubscribe(c), 0);
	ck_assert_int_eq(ringcast_mux_unsubscribe(c), 0);
	ringcast_mux_sub_free(q);
	ringcast_mux_sub_free(c);
	ringcast_mux_sub_free(u.sub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------- full queues */

START_TEST(test_mux_lossy_queue)
{
	const char *name = t_ring("lossy", 256, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_POST, 2);
	struct ringcast_mux_sub *slow, *fast;
	struct ringcast_mux_sub_stats st;
	struct ringcast_event ev;
	_Atomic uint64_t n = 0;
	uint32_t t = TYPE_A;
	unsigned char buf[T_PAYLOAD_LEN];
	uint64_t i;

	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &slow), 0);
	ck_assert_int_eq(ringcast_mux_handle(mux, &t, 1, count_fn, &n, &fast),
			 0);
	for (i = 0; i < 100; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(
			ringcast_mux_post(mux, TYPE_A, buf, sizeof(buf)), 0);
	}
	/* The slow queue did not stall the callback. */
	ck_assert(wait_for(&n, 100));
	ck_assert_int_eq(ringcast_mux_next(slow, &ev, T_WAIT_NS), -EOVERFLOW);
	ck_assert_uint_eq(ev.lost, 98);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ringcast_mux_next(slow, &ev, 0), 0);
		ck_assert(t_payload_ok(&ev));
	}
	ck_assert_int_eq(ringcast_mux_next(slow, &ev, 0), -EAGAIN);
	ringcast_mux_sub_get_stats(slow, &st);
	ck_assert_uint_eq(st.dropped, 98);
	ck_assert_uint_eq(st.lost, 98);
	ck_assert_uint_eq(st.delivered, 2);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ringcast_mux_sub_free(slow);
	ringcast_mux_sub_free(fast);
	t_assert_clean();
}
END_TEST

struct drain_arg {
	struct ringcast_mux_sub *sub;
	uint64_t want;
	int fail;
};

static void *drain_thread(void *arg)
{
	struct drain_arg *d = arg;
	struct ringcast_event ev;
	uint64_t i;

	for (i = 0; i < d->want; i++) {
		if (ringcast_mux_next(d->sub, &ev, T_WAIT_NS) != 0 ||
		    !t_payload_ok(&ev) || ev.seq != i) {
			d->fail = 1;
			return NULL;
		}
	}
	return NULL;
}

START_TEST(test_mux_reliable_queue)
{
	const char *name = t_ring("reliable", 16, 0);
	struct ringcast_mux *mux =
		open_mux(name, RINGCAST_MUX_POST | RINGCAST_MUX_RELIABLE, 4);
	struct drain_arg d = { .want = 2000 };
	struct ringcast_mux_sub_stats st;
	unsigned char buf[T_PAYLOAD_LEN];
	uint32_t t = TYPE_A;
	pthread_t th;
	uint64_t i;

	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &d.sub), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, drain_thread, &d), 0);
	for (i = 0; i < d.want; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(
			ringcast_mux_post(mux, TYPE_A, buf, sizeof(buf)), 0);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(d.fail, 0);
	ringcast_mux_sub_get_stats(d.sub, &st);
	ck_assert_uint_eq(st.delivered, d.want);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ringcast_mux_sub_free(d.sub);
	t_assert_clean();
}
END_TEST

/* Wait (bounded) until a subscription's dispatcher waited for room. */
static bool wait_full(struct ringcast_mux_sub *s)
{
	uint64_t end = t_now_ns() + (uint64_t)T_WAIT_NS;
	struct timespec ts = { 0, 100000 };
	struct ringcast_mux_sub_stats st;

	for (;;) {
		ringcast_mux_sub_get_stats(s, &st);
		if (st.full_waits)
			return true;
		if (t_now_ns() > end)
			return false;
		nanosleep(&ts, NULL);
	}
}

/*
 * A reliable mux whose dispatcher waits for room in a queue nobody drains
 * holds up no other mux: unsubscribe, scope close and stop of a lossy mux
 * return while that queue stays full (before, they waited for a grace
 * period that the blocked dispatcher's read-side section held open: a
 * hang, here the case's timeout).
 */
START_TEST(test_mux_blocked_reliable_holds_up_nothing)
{
	const char *rname = t_ring("stuck", 64, 0);
	const char *lname = t_ring("free", 64, 0);
	struct ringcast_mux *rel =
		open_mux(rname, RINGCAST_MUX_POST | RINGCAST_MUX_RELIABLE, 1);
	struct ringcast_mux *lossy;
	struct ringcast_mux_sub *stuck, *h, *q, *q2;
	struct ringcast_mux_sub_stats st;
	struct ringcast_scope *sc;
	struct ringcast_event ev;
	_Atomic uint64_t n = 0;
	uint32_t t = TYPE_A;
	int i;

	ck_assert_int_eq(ringcast_mux_subscribe(rel, &t, 1, &stuck), 0);
	/* One event fills the queue; the second makes the dispatcher wait. */
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(ringcast_mux_post(rel, TYPE_A, NULL, 0), 0);
	ck_assert(wait_full(stuck));

	lossy = open_mux(lname, RINGCAST_MUX_POST, 0);
	ck_assert_int_eq(ringcast_mux_handle(lossy, &t, 1, count_fn, &n, &h),
			 0);
	ck_assert_int_eq(ringcast_mux_subscribe(lossy, &t, 1, &q), 0);
	ck_assert_int_ge(ringcast_mux_post(lossy, TYPE_A, NULL, 0), 0);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, T_WAIT_NS), 0);
	ck_assert(wait_for(&n, 1));
	ck_assert_int_eq(ringcast_mux_unsubscribe(h), 0);
	ck_assert_int_eq(ringcast_scope_new(&sc), 0);
	ck_assert_int_eq(ringcast_scope_track(sc, q), 0);
	ck_assert_int_eq(ringcast_scope_close(sc), 1);
	ringcast_scope_free(sc);
	/* Another subscription of the blocked mux may leave, too. */
	ck_assert_int_eq(ringcast_mux_subscribe(rel, &t, 1, &q2), 0);
	ck_assert_int_eq(ringcast_mux_unsubscribe(q2), 0);
	ck_assert_int_eq(ringcast_mux_stop(lossy), 0);

	/* All that while the reliable queue stayed full, its consumer idle. */
	ringcast_mux_sub_get_stats(stuck, &st);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_ge(st.full_waits, 1);
	ck_assert_int_eq(ringcast_mux_close(lossy), 0);
	/* Closing the blocked mux releases its dispatcher. */
	ck_assert_int_eq(ringcast_mux_close(rel), 0);
	ck_assert_int_eq(ringcast_mux_next(stuck, &ev, 0), -ECANCELED);
	ringcast_mux_sub_free(stuck);
	ringcast_mux_sub_free(h);
	ringcast_mux_sub_free(q);
	ringcast_mux_sub_free(q2);
	t_assert_clean();
}
END_TEST

/* --------------------------------------------- queues bounded in bytes */

/* The queue's bytes for an event of len bytes: 32 + len, rounded to 32. */
static size_t qrec(size_t len)
{
	return (32 + len + 31) & ~(size_t)31;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Byte i of the payload of sequence seq. */
static unsigned char mixed_byte(uint64_t seq, size_t i)
{
	return (unsigned char)(seq * 131u + i * 7u + (i >> 8) + (i >> 16));
}

static void mixed_fill(uint64_t seq, unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = mixed_byte(seq, i);
}

static bool mixed_ok(const struct ringcast_event *ev, size_t len)
{
	const unsigned char *p = ev->data;
	size_t i;

	if (ev->len != len)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != mixed_byte(ev->seq, i))
			return false;
	return true;
}

#define MIXED_EVENTS 400u
#define MIXED_BUDGET 8192u

/*
 * struct mixed - a mixed-size stream: sizes log-uniform from 0 to the
 * ring's largest event, with the edges first (empty, a slot's capacity
 * and one more, the largest event, a queue's budget and one more)
 */
struct mixed {
	struct ringcast_mux *mux;
	uint32_t cap, max;
	int fail;
};

static size_t mixed_len(const struct mixed *m, uint64_t seq)
{
	const size_t edge[] = { 0,
				1,
				m->cap,
				m->cap + 1,
				m->max,
				MIXED_BUDGET - 32,
				MIXED_BUDGET - 31,
				m->max - 1 };
	uint64_t h = mix64(seq);
	unsigned int bits;
	size_t len;

	if (seq < sizeof(edge) / sizeof(edge[0]))
		return edge[seq];
	bits = (unsigned int)(h % 20); /* 2^0 .. 2^19 */
	len = (size_t)((h >> 8) & ((1ull << bits) - 1));
	return len < m->max ? len : m->max;
}

/* Every third event is of type B, the others of type A. */
static uint32_t mixed_type(uint64_t seq)
{
	return mix64(seq ^ 0x5eed) % 3 == 0 ? TYPE_B : TYPE_A;
}

static void *mixed_post_thread(void *arg)
{
	struct mixed *m = arg;
	unsigned char *buf = malloc(m->max);
	uint64_t seq;
	size_t len;

	if (!buf) {
		m->fail = 1;
		return NULL;
	}
	for (seq = 0; seq < MIXED_EVENTS; seq++) {
		len = mixed_len(m, seq);
		mixed_fill(seq, buf, len);
		if (ringcast_mux_post(m->mux, mixed_type(seq), buf, len) < 0)
			m->fail = 1;
	}
	free(buf);
	return NULL;
}

struct mixed_drain {
	const struct mixed *m;
	struct ringcast_mux_sub *sub;
	bool only_a; /* subscribed to type A alone */
	uint64_t got;
	int fail;
};

/* Drain one queue: every event of its types, in order, byte-identical. */
static void *mixed_drain_thread(void *arg)
{
	struct mixed_drain *d = arg;
	struct ringcast_event ev;
	uint64_t seq;

	for (seq = 0; seq < MIXED_EVENTS; seq++) {
		if (d->only_a && mixed_type(seq) != TYPE_A)
			continue;
		if (ringcast_mux_next(d->sub, &ev, T_WAIT_NS) != 0 ||
		    ev.seq != seq || ev.type != mixed_type(seq) ||
		    !mixed_ok(&ev, mixed_len(d->m, seq))) {
			d->fail = 1;
			return NULL;
		}
		d->got++;
	}
	return NULL;
}

/* Wait (bounded) until the dispatcher waited for room in a or b. */
static bool wait_full_any(struct ringcast_mux_sub *a,
			  struct ringcast_mux_sub *b)
{
	uint64_t end = t_now_ns() + (uint64_t)T_WAIT_NS;
	struct timespec ts = { 0, 100000 };
	struct ringcast_mux_sub_stats sa, sb;

	for (;;) {
		ringcast_mux_sub_get_stats(a, &sa);
		ringcast_mux_sub_get_stats(b, &sb);
		if (sa.full_waits || sb.full_waits)
			return true;
		if (t_now_ns() > end)
			return false;
		nanosleep(&ts, NULL);
	}
}

/*
 * Events of every size, inline and from the data area up to the ring's
 * largest event, through a reliable mux into two queues of 8 KiB (most
 * events larger than that: each taken alone by an empty queue): each
 * drained queue gets every event of its types, in order, byte-identical,
 * after its dispatcher waited for room.
 */
START_TEST(test_mux_mixed_sizes)
{
	struct ringcast_ring_opts ro = { .data_size = 1u << 20 };
	const char *name = t_ring_opts("mixed", &ro, 0);
	struct ringcast_mux_opts o = {
		.flags = RINGCAST_MUX_POST | RINGCAST_MUX_RELIABLE,
		.queue_bytes = MIXED_BUDGET,
	};
	uint32_t ta = TYPE_A, tab[] = { TYPE_A, TYPE_B };
	struct mixed_drain da = { .only_a = true }, dab = { 0 };
	struct ringcast_mux_sub_stats st;
	struct ringcast_ring_stats info;
	struct mixed m = { 0 };
	pthread_t tp, ta_th, tab_th;
	uint64_t seq, want_a = 0;

	t_stat(name, &info);
	ck_assert_uint_eq(info.max_event, ro.data_size / 4);
	m.cap = info.capacity;
	m.max = info.max_event;
	ck_assert_int_eq(ringcast_mux_open(name, &o, &m.mux), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(m.mux, &ta, 1, &da.sub), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(m.mux, tab, 2, &dab.sub), 0);
	da.m = dab.m = &m;
	for (seq = 0; seq < MIXED_EVENTS; seq++)
		want_a += mixed_type(seq) == TYPE_A;

	ck_assert_int_eq(pthread_create(&tp, NULL, mixed_post_thread, &m), 0);
	/* Nobody drains yet: a queue fills and the dispatcher waits. */
	ck_assert(wait_full_any(da.sub, dab.sub));
	ck_assert_int_eq(pthread_create(&ta_th, NULL, mixed_drain_thread, &da),
			 0);
	ck_assert_int_eq(
		pthread_create(&tab_th, NULL, mixed_drain_thread, &dab), 0);
	pthread_join(tp, NULL);
	pthread_join(ta_th, NULL);
	pthread_join(tab_th, NULL);
	ck_assert_int_eq(m.fail, 0);
	ck_assert_int_eq(da.fail, 0);
	ck_assert_int_eq(dab.fail, 0);
	ck_assert_uint_eq(da.got, want_a);
	ck_assert_uint_eq(dab.got, MIXED_EVENTS);
	ringcast_mux_sub_get_stats(da.sub, &st);
	ck_assert_uint_eq(st.delivered, want_a);
	ck_assert_uint_eq(st.dropped + st.lost, 0);
	ringcast_mux_sub_get_stats(dab.sub, &st);
	ck_assert_uint_eq(st.delivered, MIXED_EVENTS);
	ck_assert_uint_eq(st.dropped + st.lost, 0);
	ck_assert_int_eq(ringcast_mux_close(m.mux), 0);
	ringcast_mux_sub_free(da.sub);
	ringcast_mux_sub_free(dab.sub);
	t_assert_clean();
}
END_TEST

#define BOUND_BUDGET 4096u
#define BOUND_EVENTS 64u

/*
 * Post the events of lens[] (type A, their payloads of their sequence)
 * through mux, then one of type B that *n counts: when it is counted,
 * the dispatcher has delivered every one of type A.
 */
static void post_and_settle(struct ringcast_mux *mux, const size_t *lens,
			    unsigned int k, _Atomic uint64_t *n, uint64_t *seq)
{
	unsigned char *buf = malloc(1u << 18);
	uint64_t want = atomic_load(n) + 1;
	unsigned int i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < k; i++, (*seq)++) {
		ck_assert_uint_le(lens[i], 1u << 18);
		mixed_fill(*seq, buf, lens[i]);
		ck_assert_int_ge(ringcast_mux_post(mux, TYPE_A, buf, lens[i]),
				 0);
	}
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_B, NULL, 0), 0);
	(*seq)++;
	free(buf);
	ck_assert(wait_for(n, want));
}

/*
 * BOUND_EVENTS events of mixed sizes (0 to 1499 bytes) into q's empty
 * queue, nothing drained: it keeps those whose bytes fit what is left of
 * its budget, whatever its length in events, and drops the others,
 * counted; then drain it.  *seq: the next sequence, moved on.
 */
static void bound_batch(struct ringcast_mux *mux, struct ringcast_mux_sub *q,
			_Atomic uint64_t *n, uint64_t *seq)
{
	size_t lens[BOUND_EVENTS], used = 0;
	struct ringcast_mux_sub_stats st0, st;
	bool in[BOUND_EVENTS];
	struct ringcast_event ev;
	uint64_t kept = 0, first = *seq;
	unsigned int i;

	for (i = 0; i < BOUND_EVENTS; i++) {
		lens[i] = (size_t)(mix64(i) % 1500);
		in[i] = used + qrec(lens[i]) <= BOUND_BUDGET;
		if (in[i]) {
			used += qrec(lens[i]);
			kept++;
		}
	}
	ck_assert_uint_lt(kept, BOUND_EVENTS); /* the budget, not the length */
	ringcast_mux_sub_get_stats(q, &st0);
	post_and_settle(mux, lens, BOUND_EVENTS, n, seq);
	ringcast_mux_sub_get_stats(q, &st);
	ck_assert_uint_eq(st.queued, kept);
	ck_assert_uint_eq(st.dropped - st0.dropped, BOUND_EVENTS - kept);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EOVERFLOW);
	ck_assert_uint_eq(ev.lost, BOUND_EVENTS - kept);
	for (i = 0; i < BOUND_EVENTS; i++) {
		if (!in[i])
			continue;
		ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
		ck_assert_uint_eq(ev.seq, first + i);
		ck_assert(mixed_ok(&ev, lens[i]));
	}
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EAGAIN);
}

/*
 * A lossy queue bounded in bytes holds events while their bytes (32 +
 * len, rounded up to 32) stay within its budget, each contiguous in its
 * memory; the others are dropped and counted, as a full queue's always
 * were.  An empty queue takes one event larger than its budget, and then
 * nothing more until it is drained; the budget still bounds it after.
 */
START_TEST(test_mux_queue_bytes_bound)
{
	struct ringcast_ring_opts ro = { .data_size = 1u << 20 };
	const char *name = t_ring_opts("bound", &ro, 0);
	struct ringcast_mux_opts o = {
		.flags = RINGCAST_MUX_POST,
		.queue_len = 1000,
		.queue_bytes = BOUND_BUDGET,
	};
	uint32_t ta = TYPE_A, tb = TYPE_B;
	struct ringcast_mux_sub *q, *h;
	struct ringcast_mux_sub_stats st;
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	_Atomic uint64_t n = 0;
	struct mixed m = { 0 };
	uint64_t seq = 0, s0;
	size_t lens[3];

	t_stat(name, &info);
	m.max = info.max_event;
	ck_assert_uint_eq(m.max, 1u << 18);
	ck_assert_int_eq(ringcast_mux_open(name, &o, &m.mux), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(m.mux, &ta, 1, &q), 0);
	ck_assert_int_eq(ringcast_mux_handle(m.mux, &tb, 1, count_fn, &n, &h),
			 0);
	bound_batch(m.mux, q, &n, &seq);

	/*
	 * Round the end of its memory: three records of 1056 bytes, two
	 * taken (the second held); 1536 bytes fit neither before the end
	 * (928 left) nor before the held one (1056): dropped; 960 go at the
	 * start, the end skipped.
	 */
	lens[0] = lens[1] = lens[2] = 1000;
	s0 = seq;
	post_and_settle(m.mux, lens, 3, &n, &seq);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0 + 1);
	lens[0] = 1500;
	lens[1] = 900;
	post_and_settle(m.mux, lens, 2, &n, &seq);
	ringcast_mux_sub_get_stats(q, &st);
	ck_assert_uint_eq(st.queued, 2);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EOVERFLOW);
	ck_assert_uint_eq(ev.lost, 1);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0 + 2);
	ck_assert(mixed_ok(&ev, 1000));
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0 + 5);
	ck_assert(mixed_ok(&ev, 900));
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EAGAIN);

	/*
	 * Larger than the budget, and than a slot: the empty queue takes
	 * the first; nothing fits beside it.
	 */
	lens[0] = 100000;
	lens[1] = 10;
	lens[2] = 200000;
	s0 = seq;
	post_and_settle(m.mux, lens, 3, &n, &seq);
	ringcast_mux_sub_get_stats(q, &st);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EOVERFLOW);
	ck_assert_uint_eq(ev.lost, 2);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0);
	ck_assert(mixed_ok(&ev, 100000));
	/*
	 * Returned, it is held until the next call, but nothing is queued:
	 * its reader keeps up, and the queue moves to other memory for the
	 * next event, of any size.
	 */
	lens[0] = 150000;
	s0 = seq;
	post_and_settle(m.mux, lens, 1, &n, &seq);
	ringcast_mux_sub_get_stats(q, &st);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0);
	ck_assert(mixed_ok(&ev, 150000));
	/*
	 * That one held and a small one queued: one larger than the budget
	 * is dropped again.
	 */
	lens[0] = 10;
	lens[1] = 100000;
	post_and_settle(m.mux, lens, 2, &n, &seq);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EOVERFLOW);
	ck_assert_uint_eq(ev.lost, 1);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert(mixed_ok(&ev, 10));
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EAGAIN);
	/* Released: the empty queue takes the largest event. */
	lens[0] = m.max;
	s0 = seq;
	post_and_settle(m.mux, lens, 1, &n, &seq);
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, s0);
	ck_assert(mixed_ok(&ev, m.max));
	ck_assert_int_eq(ringcast_mux_next(q, &ev, 0), -EAGAIN);
	/* Its memory grew for that event; its budget did not. */
	bound_batch(m.mux, q, &n, &seq);
	ringcast_mux_sub_get_stats(q, &st);
	ck_assert_uint_eq(st.lost, st.dropped);

	ck_assert_int_eq(ringcast_mux_close(m.mux), 0);
	ringcast_mux_sub_free(q);
	ringcast_mux_sub_free(h);
	t_assert_clean();
}
END_TEST

/* A callback subscription counts its deliveries. */
START_TEST(test_mux_handler_stats)
{
	const char *name = t_ring("hstats", 64, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_POST, 0);
	struct ringcast_mux_sub *h, *other;
	struct ringcast_mux_sub_stats st;
	_Atomic uint64_t n = 0, m = 0;
	uint32_t t = TYPE_A, u = TYPE_B;
	int i;

	ck_assert_int_eq(ringcast_mux_handle(mux, &t, 1, count_fn, &n, &h), 0);
	ck_assert_int_eq(ringcast_mux_handle(mux, &u, 1, count_fn, &m, &other),
			 0);
	for (i = 0; i < 40; i++)
		ck_assert_int_ge(ringcast_mux_post(mux, i % 4 ? TYPE_A : TYPE_B,
						   NULL, 0),
				 0);
	ck_assert(wait_for(&n, 30));
	ck_assert(wait_for(&m, 10));
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ringcast_mux_sub_get_stats(h, &st);
	ck_assert_uint_eq(st.delivered, atomic_load(&n));
	ck_assert_uint_eq(st.delivered, 30);
	ck_assert_uint_eq(st.queued, 0);
	ringcast_mux_sub_get_stats(other, &st);
	ck_assert_uint_eq(st.delivered, 10);
	ringcast_mux_sub_free(h);
	ringcast_mux_sub_free(other);
	t_assert_clean();
}
END_TEST

/* ------------------------------------------- paused; status handlers */

#define PAUSED_EVENTS 2400u

struct seq_handler {
	_Atomic uint64_t calls;
	uint64_t next; /* the sequence expected next */
	uint64_t step;
	_Atomic uint64_t bad;
	/* Status: */
	_Atomic uint64_t statuses;
	_Atomic uint64_t ended;
	int code; /* the last status code */
	uint64_t lost; /* the sum of the losses reported */
	uint64_t calls_at_end; /* calls when the end was reported */
	uint64_t after_end; /* calls or statuses after the end */
};

static void seq_fn(const struct ringcast_event *ev, void *arg)
{
	struct seq_handler *h = arg;

	/* In order, none lost unannounced, none after the end. */
	if (ev->seq != h->next || (h->code && h->code != -EOVERFLOW))
		atomic_fetch_add(&h->bad, 1);
	h->next = ev->seq + h->step;
	atomic_fetch_add(&h->calls, 1);
}

static void seq_status(int code, uint64_t lost, void *arg)
{
	struct seq_handler *h = arg;

	if (h->code && h->code != -EOVERFLOW)
		h->after_end++;
	h->code = code;
	if (code == -EOVERFLOW) {
		/* The next event comes after the lost ones. */
		h->lost += lost;
		h->next += lost * h->step;
	} else {
		h->calls_at_end = atomic_load(&h->calls);
		atomic_fetch_add(&h->ended, 1);
	}
	atomic_fetch_add(&h->statuses, 1);
}

/*
 * Handlers subscribed to a paused mux see every event, from the oldest,
 * once it starts (before, a dispatcher thread that ran at once could
 * read some before the handlers were in: 2394 of 2400).
 */
START_TEST(test_mux_paused_start)
{
	const char *name = t_ring("paused", 4096, 0);
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_RELIABLE |
						RINGCAST_MUX_PAUSED,
				       .from = RINGCAST_FROM_OLDEST };
	struct ringcast_pub *pub = t_pub(name, 0);
	struct seq_handler ha = { .next = 0, .step = 2 },
			   hb = { .next = 1, .step = 2 };
	struct ringcast_mux_sub *a, *b;
	struct ringcast_mux_sub_stats st;
	struct ringcast_mux *mux;
	uint32_t ta = TYPE_A, tb = TYPE_B;
	unsigned int i;

	for (i = 0; i < PAUSED_EVENTS; i++)
		ck_assert_int_ge(ringcast_pub_publish(
					 pub, i % 2 ? TYPE_B : TYPE_A, NULL, 0),
				 0);
	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), 0);
	/* A program doing other things before it subscribes. */
	for (i = 0; i < 100; i++)
		sched_yield();
	ck_assert_int_eq(ringcast_mux_handle(mux, &ta, 1, seq_fn, &ha, &a), 0);
	ck_assert_int_eq(ringcast_mux_handle(mux, &tb, 1, seq_fn, &hb, &b), 0);
	ck_assert_int_eq(ringcast_mux_start(mux), 0);
	ck_assert_int_eq(ringcast_mux_start(mux), 0);
	ck_assert(wait_for(&ha.calls, PAUSED_EVENTS / 2));
	ck_assert(wait_for(&hb.calls, PAUSED_EVENTS / 2));
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ck_assert_uint_eq(atomic_load(&ha.calls), PAUSED_EVENTS / 2);
	ck_assert_uint_eq(atomic_load(&hb.calls), PAUSED_EVENTS / 2);
	ck_assert_uint_eq(atomic_load(&ha.bad), 0);
	ck_assert_uint_eq(atomic_load(&hb.bad), 0);
	ringcast_mux_sub_get_stats(a, &st);
	ck_assert_uint_eq(st.delivered, PAUSED_EVENTS / 2);
	ck_assert_int_eq(ringcast_mux_start(NULL), -EINVAL);
	ringcast_mux_sub_free(a);
	ringcast_mux_sub_free(b);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_mux_paused_errors)
{
	const char *name = t_ring("pausederr", 64, 0);
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_PAUSED |
						RINGCAST_MUX_MANUAL };
	struct ringcast_mux *mux;

	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), -EINVAL);
	o.flags = RINGCAST_MUX_PAUSED | RINGCAST_MUX_POST_ONLY;
	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), -EINVAL);
	mux = open_mux(name, RINGCAST_MUX_MANUAL, 0);
	ck_assert_int_eq(ringcast_mux_start(mux), -EINVAL);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	mux = open_mux(name, RINGCAST_MUX_POST_ONLY, 0);
	ck_assert_int_eq(ringcast_mux_start(mux), -EINVAL);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	/* Not paused: it runs already. */
	mux = open_mux(name, 0, 0);
	ck_assert_int_eq(ringcast_mux_start(mux), 0);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	/* Paused, never started: closes; after a stop, no start. */
	mux = open_mux(name, RINGCAST_MUX_PAUSED, 0);
	ck_assert_int_eq(ringcast_mux_stop(mux), 0);
	ck_assert_int_eq(ringcast_mux_start(mux), -ESHUTDOWN);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

/* The end of the stream reaches a status handler, once, after the events. */
START_TEST(test_mux_status_end)
{
	const char *name = t_ring("statusend", 64, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_PAUSED, 0);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct seq_handler h = { .next = 0, .step = 1 }, late = { 0 };
	struct ringcast_mux_sub *s, *l;
	uint32_t t = TYPE_A;
	int i;

	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, NULL,
						    seq_status, &h, &s),
			 -EINVAL);
	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, seq_fn, NULL,
						    &h, &s),
			 -EINVAL);
	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, seq_fn,
						    seq_status, &h, &s),
			 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, TYPE_A, NULL, 0), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_eq(ringcast_mux_start(mux), 0);
	ck_assert(wait_for(&h.ended, 1));
	ck_assert_int_eq(h.code, -EPIPE);
	ck_assert_uint_eq(h.calls_at_end, 5);
	ck_assert_uint_eq(atomic_load(&h.bad), 0);

	/* Subscribed after the end: told by the call itself. */
	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, seq_fn,
						    seq_status, &late, &l),
			 0);
	ck_assert_uint_eq(atomic_load(&late.statuses), 1);
	ck_assert_int_eq(late.code, -EPIPE);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	/* Once: stop and close report nothing. */
	ck_assert_uint_eq(atomic_load(&h.statuses), 1);
	ck_assert_uint_eq(h.after_end, 0);
	ck_assert_uint_eq(atomic_load(&h.calls), 5);
	ringcast_mux_sub_free(s);
	ringcast_mux_sub_free(l);
	t_assert_clean();
}
END_TEST

/*
 * A lossy mux lapped by the publisher: the status handler hears of each
 * loss before the events after it, with exact counts.
 */
START_TEST(test_mux_status_lost)
{
	const char *name = t_ring("statuslost", 16, 0);
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_PAUSED,
				       .from = RINGCAST_FROM_OLDEST };
	struct ringcast_pub *pub = t_pub(name, 0);
	struct seq_handler h = { .next = 0, .step = 1 };
	struct ringcast_mux_sub_stats st;
	struct ringcast_mux_sub *s;
	struct ringcast_mux *mux;
	uint32_t t = TYPE_A;
	int i;

	ck_assert_int_eq(ringcast_mux_open(name, &o, &mux), 0);
	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, seq_fn,
						    seq_status, &h, &s),
			 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_ge(ringcast_pub_publish(pub, TYPE_A, NULL, 0), 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_eq(ringcast_mux_start(mux), 0);
	ck_assert(wait_for(&h.ended, 1));
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ck_assert_int_eq(h.code, -EPIPE);
	ck_assert_uint_gt(h.lost, 0);
	ck_assert_uint_eq(h.lost + atomic_load(&h.calls), 100);
	ck_assert_uint_eq(h.calls_at_end, atomic_load(&h.calls));
	ck_assert_uint_eq(atomic_load(&h.bad), 0);
	ringcast_mux_sub_get_stats(s, &st);
	ck_assert_uint_eq(st.lost, h.lost);
	ck_assert_uint_eq(st.ring_lost, h.lost);
	ck_assert_uint_eq(st.delivered, atomic_load(&h.calls));
	ringcast_mux_sub_free(s);
	t_assert_clean();
}
END_TEST

/* ------------------------------------------------------------- scopes */

struct blocked {
	struct ringcast_mux_sub *sub;
	int r;
};

static void *blocked_thread(void *arg)
{
	struct blocked *b = arg;
	struct ringcast_event ev;

	b->r = ringcast_mux_next(b->sub, &ev, T_WAIT_NS);
	return NULL;
}

START_TEST(test_scope_basic)
{
	const char *name = t_ring("scope", 64, 0);
	struct ringcast_mux *mux = open_mux(name, 0, 0);
	struct ringcast_mux_sub *s[3], *late;
	struct ringcast_scope *sc;
	struct blocked b;
	_Atomic uint64_t n = 0;
	uint32_t t = TYPE_A;
	pthread_t th;

	ck_assert_int_eq(ringcast_scope_new(&sc), 0);
	ck_assert_int_eq(ringcast_scope_count(sc), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &s[0]), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &s[1]), 0);
	ck_assert_int_eq(ringcast_mux_handle(mux, &t, 1, count_fn, &n, &s[2]),
			 0);
	ck_assert_int_eq(ringcast_scope_track(sc, s[0]), 0);
	ck_assert_int_eq(ringcast_scope_track(sc, s[1]), 0);
	ck_assert_int_eq(ringcast_scope_track(sc, s[2]), 0);
	ck_assert_int_eq(ringcast_scope_track(sc, s[2]), -EINVAL);
	ck_assert_int_eq(ringcast_scope_count(sc), 3);
	ck_assert_int_eq(ringcast_mux_unsubscribe(s[1]), 0);
	ck_assert_int_eq(ringcast_scope_count(sc), 2);

	/* Close wakes a blocked wait. */
	b.sub = s[0];
	ck_assert_int_eq(pthread_create(&th, NULL, blocked_thread, &b), 0);
	ck_assert_int_eq(ringcast_scope_close(sc), 2);
	pthread_join(th, NULL);
	ck_assert_int_eq(b.r, -ECANCELED);
	ck_assert_int_eq(ringcast_scope_count(sc), 0);
	ck_assert_int_eq(ringcast_scope_close(sc), 0);
	ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &late), 0);
	ck_assert_int_eq(ringcast_scope_track(sc, late), -ECANCELED);
	ck_assert_int_eq(ringcast_scope_count(sc), 0);
	ringcast_scope_free(sc);
	ringcast_mux_sub_free(late);
	ringcast_mux_sub_free(s[0]);
	ringcast_mux_sub_free(s[1]);
	ringcast_mux_sub_free(s[2]);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

#define RACE_SUBS 200

struct track_arg {
	struct ringcast_scope *sc;
	struct ringcast_mux_sub *subs[RACE_SUBS];
	int r[RACE_SUBS];
};

static void *track_thread(void *arg)
{
	struct track_arg *a = arg;
	unsigned int i;

	for (i = 0; i < RACE_SUBS; i++)
		a->r[i] = ringcast_scope_track(a->sc, a->subs[i]);
	return NULL;
}

START_TEST(test_scope_close_races_track)
{
	const char *name = t_ring("race", 64, 0);
	struct ringcast_mux *mux = open_mux(name, 0, 4);
	struct track_arg a;
	struct ringcast_event ev;
	uint32_t t = TYPE_A;
	unsigned int i, in = 0, out = 0;
	pthread_t th;
	int closed;

	ck_assert_int_eq(ringcast_scope_new(&a.sc), 0);
	for (i = 0; i < RACE_SUBS; i++)
		ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1, &a.subs[i]),
				 0);
	ck_assert_int_eq(pthread_create(&th, NULL, track_thread, &a), 0);
	closed = ringcast_scope_close(a.sc);
	pthread_join(th, NULL);
	for (i = 0; i < RACE_SUBS; i++) {
		if (a.r[i] == 0) {
			/* Tracked in order: none after a refused one. */
			ck_assert_uint_eq(out, 0);
			/* Tracked before the close: closed with it. */
			in++;
			ck_assert_int_eq(ringcast_mux_next(a.subs[i], &ev, 0),
					 -ECANCELED);
		} else {
			ck_assert_int_eq(a.r[i], -ECANCELED);
			ck_assert_int_eq(ringcast_mux_next(a.subs[i], &ev, 0),
					 -EAGAIN);
			out++;
		}
		ringcast_mux_sub_free(a.subs[i]);
	}
	ck_assert_int_eq((int)in, closed);
	ck_assert_uint_eq(in + out, RACE_SUBS);
	ringcast_scope_free(a.sc);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_assert_clean();
}
END_TEST

#define FREE_RACE_ROUNDS 60
#define FREE_RACE_SUBS 128

struct unsub_arg {
	struct ringcast_mux_sub *subs[FREE_RACE_SUBS];
	struct ringcast_scope *sc;
	_Atomic int go;
	_Atomic uint64_t freed;
	int fail;
};

static void *unsub_thread(void *arg)
{
	struct unsub_arg *u = arg;
	unsigned int i;

	while (!atomic_load(&u->go))
		;
	/* From the last: close reaches it last, holding the scope's lock. */
	for (i = FREE_RACE_SUBS; i-- > 0;)
		if (ringcast_mux_unsubscribe(u->subs[i]) != 0)
			u->fail = 1;
	return NULL;
}

static void scope_free_fn(const struct ringcast_event *ev, void *arg)
{
	struct unsub_arg *u = arg;

	atomic_store(&u->go, 1);
	ringcast_scope_free(u->sc);
	atomic_fetch_add(&u->freed, 1);
}

/*
 * Freeing a scope while another thread unsubscribes what it tracks: each
 * unsubscribe leaves the scope, which must stay valid until the last of
 * them is done with it (AddressSanitizer sees a use after free if not).
 * Every other round frees it from a handler, where the close waits for
 * no grace period and so frees at once.
 */
START_TEST(test_scope_free_races_unsubscribe)
{
	const char *name = t_ring("scopefree", 64, 0);
	struct ringcast_mux *mux = open_mux(name, RINGCAST_MUX_POST, 4);
	struct ringcast_mux_sub *h;
	struct ringcast_event ev;
	struct unsub_arg u;
	uint32_t t = TYPE_A, tb = TYPE_B;
	unsigned int round, i;
	pthread_t th;

	ck_assert_int_eq(
		ringcast_mux_handle(mux, &tb, 1, scope_free_fn, &u, &h), 0);
	for (round = 0; round < FREE_RACE_ROUNDS; round++) {
		memset(&u, 0, sizeof(u));
		ck_assert_int_eq(ringcast_scope_new(&u.sc), 0);
		for (i = 0; i < FREE_RACE_SUBS; i++) {
			ck_assert_int_eq(ringcast_mux_subscribe(mux, &t, 1,
								&u.subs[i]),
					 0);
			ck_assert_int_eq(ringcast_scope_track(u.sc, u.subs[i]),
					 0);
		}
		ck_assert_int_eq(pthread_create(&th, NULL, unsub_thread, &u),
				 0);
		if (round % 2) {
			ck_assert_int_ge(
				ringcast_mux_post(mux, TYPE_B, NULL, 0), 0);
			ck_assert(wait_for(&u.freed, 1));
		} else {
			atomic_store(&u.go, 1);
			ringcast_scope_free(u.sc);
		}
		pthread_join(th, NULL);
		ck_assert_int_eq(u.fail, 0);
		for (i = 0; i < FREE_RACE_SUBS; i++) {
			/* Closed by one or the other, and still valid. */
			ck_assert_int_eq(ringcast_mux_next(u.subs[i], &ev, 0),
					 -ECANCELED);
			ringcast_mux_sub_free(u.subs[i]);
		}
	}
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ringcast_mux_sub_free(h);
	t_assert_clean();
}
END_TEST

/* --------------------------------------------- across processes */

struct filter_arg {
	const char *name;
	struct t_gate ready;
};

static int filter_child(void *arg)
{
	struct filter_arg *f = arg;
	uint32_t types[] = { TYPE_A, TYPE_B };
	uint32_t want[] = { TYPE_A, TYPE_A, TYPE_B };
	struct ringcast_mux_opts o = { 0 };
	struct ringcast_mux *mux;
	struct ringcast_mux_sub *s;
	struct ringcast_event ev;
	unsigned int i;

	CHILD_ASSERT_EQ(ringcast_mux_open(f->name, &o, &mux), 0);
	CHILD_ASSERT_EQ(ringcast_mux_subscribe(mux, types, 2, &s), 0);
	t_gate_post(&f->ready);
	for (i = 0; i < 3; i++) {
		CHILD_ASSERT_EQ(ringcast_mux_next(s, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.type, want[i]);
		CHILD_ASSERT_EQ(ev.len, 1);
		CHILD_ASSERT_EQ(((const char *)ev.data)[0], '0' + (int)i);
	}
	/* Then the end of the stream, and nothing of type C before it. */
	CHILD_ASSERT_EQ(ringcast_mux_next(s, &ev, T_WAIT_NS), -EPIPE);
	CHILD_ASSERT_EQ(ringcast_mux_close(mux), 0);
	ringcast_mux_sub_free(s);
	return 0;
}

START_TEST(test_mux_filter_across_processes)
{
	struct filter_arg f = { .name = t_ring("filter", 64, 0) };
	struct ringcast_mux *mux;
	pid_t pid;

	t_gate_init(&f.ready);
	pid = t_fork(filter_child, &f);
	ck_assert_int_eq(t_gate_wait(&f.ready, 1, T_CHILD_MS), 0);
	mux = open_mux(f.name, RINGCAST_MUX_POST_ONLY, 0);
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_A, "0", 1), 0);
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_C, "x", 1), 0);
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_A, "1", 1), 0);
	ck_assert_int_ge(ringcast_mux_post(mux, TYPE_B, "2", 1), 0);
	ck_assert_int_eq(ringcast_ring_close(f.name), 0);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	t_child_ok(pid);
	t_gate_close(&f.ready);
	t_assert_clean();
}
END_TEST

struct dead_arg {
	const char *name;
};

static int dead_pub_child(void *arg)
{
	struct dead_arg *d = arg;
	struct ringcast_pub *pub;
	int i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(d->name, 0, &pub), 0);
	for (i = 0; i < 3; i++)
		CHILD_ASSERT(ringcast_pub_publish(pub, TYPE_A, NULL, 0) >= 0);
	kill(getpid(), SIGKILL);
	return 3;
}

/* The publisher's death reaches a status handler, after its events. */
START_TEST(test_mux_status_owner_dead)
{
	struct dead_arg d = { .name = t_ring("statusdead", 64, 0) };
	struct ringcast_mux *mux = open_mux(d.name, 0, 0);
	struct seq_handler h = { .next = 0, .step = 1 };
	struct ringcast_mux_sub *s;
	uint32_t t = TYPE_A;
	int status;
	pid_t pid;

	ck_assert_int_eq(ringcast_mux_handle_status(mux, &t, 1, seq_fn,
						    seq_status, &h, &s),
			 0);
	pid = t_fork(dead_pub_child, &d);
	status = t_wait(pid, T_CHILD_MS);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert(wait_for(&h.ended, 1));
	ck_assert_int_eq(h.code, -EOWNERDEAD);
	ck_assert_uint_eq(h.calls_at_end, 3);
	ck_assert_uint_eq(atomic_load(&h.bad), 0);
	ck_assert_int_eq(ringcast_mux_close(mux), 0);
	ck_assert_uint_eq(atomic_load(&h.statuses), 1);
	ringcast_mux_sub_free(s);
	t_assert_clean();
}
END_TEST

/* A handle inherited across fork() answers -ECHILD; the child opens anew. */
static int fork_child(void *arg)
{
	struct ringcast_mux *mux = arg;
	struct ringcast_mux_sub *s;
	uint32_t t = TYPE_A;

	CHILD_ASSERT_EQ(ringcast_mux_post(mux, TYPE_A, NULL, 0), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_mux_subscribe(mux, &t, 1, &s), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_mux_stop(mux), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_mux_close(mux), -ECHILD);
	return 0;
}

struct fork_arg {
	const char *name;
	struct ringcast_mux *mux;
};

static int fork_child_attach(void *arg)
{
	struct fork_arg *fa = arg;
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_MANUAL };
	struct ringcast_mux *own;
	struct ringcast_mux_sub *s;
	uint32_t t = TYPE_A;

	CHILD_ASSERT_EQ(fork_child(fa->mux), 0);
	CHILD_ASSERT_EQ(ringcast_mux_open(fa->name, &o, &own), 0);
	CHILD_ASSERT_EQ(ringcast_mux_subscribe(own, &t, 1, &s), 0);
	CHILD_ASSERT_EQ(ringcast_mux_unsubscribe(s), 0);
	ringcast_mux_sub_free(s);
	CHILD_ASSERT_EQ(ringcast_mux_close(own), 0);
	return 0;
}

START_TEST(test_mux_fork)
{
	struct fork_arg fa = { .name = t_ring("fork", 64, 0) };
	struct ringcast_mux_sub *s;
	_Atomic uint64_t n = 0;
	uint32_t t = TYPE_A;
	pid_t pid;
	int i;

	fa.mux =
		open_mux(fa.name, RINGCAST_MUX_POST | RINGCAST_MUX_RELIABLE, 0);
	ck_assert_int_eq(ringcast_mux_handle(fa.mux, &t, 1, count_fn, &n, &s),
			 0);
	/* Fork while dispatch runs. */
	for (i = 0; i < 1000; i++)
		ck_assert_int_ge(ringcast_mux_post(fa.mux, TYPE_A, NULL, 0), 0);
	pid = t_fork(fork_child_attach, &fa);
	t_child_ok(pid);
	ck_assert(wait_for(&n, 1000));
	ck_assert_int_eq(ringcast_mux_close(fa.mux), 0);
	ringcast_mux_sub_free(s);
	t_assert_clean();
}
END_TEST

/* ------------------------------------------------- waiting on many */

struct late_pub {
	struct ringcast_pub *pub;
	struct ringcast_sub *intr;
	unsigned int n;
	int fail;
};

static void *late_pub_thread(void *arg)
{
	struct late_pub *l = arg;
	unsigned char buf[T_PAYLOAD_LEN];
	unsigned int i;

	if (l->intr) {
		ringcast_sub_interrupt(l->intr);
		return NULL;
	}
	for (i = 0; i < l->n; i++) {
		t_payload(i, buf);
		if (ringcast_pub_publish(l->pub, TYPE_A, buf, sizeof(buf)) < 0)
			l->fail = 1;
	}
	return NULL;
}

START_TEST(test_wait_any_three_rings)
{
	const char *names[3];
	struct ringcast_pub *pubs[3];
	struct ringcast_sub *subs[3];
	struct ringcast_event ev;
	struct late_pub l;
	pthread_t th;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		names[i] = t_ring("any", 64, 0);
		pubs[i] = t_pub(names[i], 0);
		subs[i] = t_sub(names[i], NULL, NULL);
	}
	ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, 1000000), -ETIMEDOUT);
	ck_assert_int_eq(ringcast_sub_wait_any(subs, 0, 0), -EINVAL);

	/* Each ring in turn wakes a blocked wait on all three. */
	for (i = 0; i < 3; i++) {
		unsigned int k = (i + 1) % 3;

		l = (struct late_pub){ .pub = pubs[k], .n = 1 };
		ck_assert_int_eq(pthread_create(&th, NULL, late_pub_thread, &l),
				 0);
		ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, T_WAIT_NS),
				 (int)k);
		pthread_join(th, NULL);
		ck_assert_int_eq(l.fail, 0);
		ck_assert_int_eq(ringcast_sub_next(subs[k], &ev, 0), 0);
		ck_assert(t_payload_ok(&ev));
		ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, 0), -EAGAIN);
	}

	/* An interrupt from another thread ends the wait. */
	l = (struct late_pub){ .intr = subs[2] };
	ck_assert_int_eq(pthread_create(&th, NULL, late_pub_thread, &l), 0);
	ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, T_WAIT_NS), -EINTR);
	pthread_join(th, NULL);

	/* End of stream counts as something to read. */
	ck_assert_int_eq(ringcast_pub_close(pubs[0]), 0);
	ck_assert_int_eq(ringcast_sub_wait_any(subs, 3, T_WAIT_NS), 0);
	ck_assert_int_eq(ringcast_sub_next(subs[0], &ev, 0), -EPIPE);
	for (i = 0; i < 3; i++) {
		if (i)
			ringcast_pub_close(pubs[i]);
		ringcast_sub_detach(subs[i]);
	}
	t_assert_clean();
}
END_TEST

START_TEST(test_fd_epoll_loop)
{
	const char *name = t_ring("epoll", 64, 0);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub_opts so = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub *sub = t_sub(name, &so, NULL);
	struct epoll_event ee = { .events = EPOLLIN }, out;
	struct late_pub l = { .pub = pub, .n = 5000 };
	struct ringcast_event ev;
	uint64_t got = 0;
	pthread_t th;
	int fd, ep, r;

	fd = ringcast_sub_fd(sub);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ringcast_sub_fd(sub), fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee), 0);
	ck_assert_int_eq(epoll_wait(ep, &out, 1, 0), 0);

	/* Level: readable while an event waits, however often we look. */
	ck_assert_int_ge(ringcast_pub_publish(pub, TYPE_A, NULL, 0), 0);
	ck_assert_int_eq(epoll_wait(ep, &out, 1, 10000), 1);
	ck_assert_int_eq(epoll_wait(ep, &out, 1, 0), 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(epoll_wait(ep, &out, 1, 0), 0);

	/* An event loop: wait, read until -EAGAIN, wait again. */
	ck_assert_int_eq(pthread_create(&th, NULL, late_pub_thread, &l), 0);
	while (got < l.n) {
		ck_assert_int_eq(epoll_wait(ep, &out, 1, 10000), 1);
		while ((r = ringcast_sub_next(sub, &ev, 0)) == 0) {
			ck_assert_uint_eq(ev.seq, got + 1);
			ck_assert_uint_eq(ev.len, T_PAYLOAD_LEN);
			got++;
		}
		ck_assert_int_eq(r, -EAGAIN);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(l.fail, 0);
	close(ep);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_assert_clean();
}
END_TEST

static Suite *mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc;

	/* Threads only: what the TSan build runs (CK_RUN_CASE=threads). */
	tc = tcase_create("threads");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_mux_handler_churn);
	tcase_add_test(tc, test_mux_stop_waits);
	tcase_add_test(tc, test_mux_errors);
	tcase_add_test(tc, test_mux_lossy_queue);
	tcase_add_test(tc, test_mux_reliable_queue);
	tcase_add_test(tc, test_scope_basic);
	tcase_add_test(tc, test_scope_close_races_track);
	tcase_add_test(tc, test_scope_free_races_unsubscribe);
	tcase_add_test(tc, test_mux_blocked_reliable_holds_up_nothing);
	tcase_add_test(tc, test_mux_handler_stats);
	tcase_add_test(tc, test_mux_mixed_sizes);
	tcase_add_test(tc, test_mux_queue_bytes_bound);
	tcase_add_test(tc, test_mux_paused_start);
	tcase_add_test(tc, test_mux_paused_errors);
	tcase_add_test(tc, test_mux_status_end);
	tcase_add_test(tc, test_mux_status_lost);
	tcase_add_test(tc, test_wait_any_three_rings);
	tcase_add_test(tc, test_fd_epoll_loop);
	suite_add_tcase(s, tc);

	tc = tcase_create("process");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_mux_filter_across_processes);
	tcase_add_test(tc, test_mux_fork);
	tcase_add_test(tc, test_mux_status_owner_dead);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(mux_suite());
}
