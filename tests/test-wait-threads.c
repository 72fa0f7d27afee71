// SPDX-License-Identifier: MIT
/*
 * Waiting inside one process: timeouts, and ringcast_sub_interrupt() from
 * another thread and from a signal handler, for every wait strategy.  Runs
 * under ThreadSanitizer (suite 'threads').
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

#define MS (1000LL * 1000)

static const char *const wait_names[] = { "spin", "busy", "sleep" };

static struct ringcast_sub *sub_with(const char *name, unsigned int wait)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_NEWEST,
					.wait = wait };

	return t_sub(name, &so, NULL);
}

START_TEST(test_timeout)
{
	const char *name = t_ring(wait_names[_i], 16, 64);
	struct ringcast_sub *sub = sub_with(name, (unsigned int)_i);
	struct ringcast_event ev;
	struct ringcast_pub *pub;

	/* No publisher yet. */
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 20 * MS), -ETIMEDOUT);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, 5 * MS), -ETIMEDOUT);

	/* A live, idle publisher. */
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 1), -ETIMEDOUT);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 30 * MS), -ETIMEDOUT);

	/* Data is there: no wait at all, whatever the timeout. */
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "x", 1), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "y", 1), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 30 * MS), 0);
	ck_assert_uint_eq(ev.seq, 1);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Interrupts
 */

struct waiter {
	struct ringcast_sub *sub;
	int64_t timeout_ns;
	_Atomic int started;
	int ret;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct ringcast_event ev;

	atomic_store(&w->started, 1);
	w->ret = ringcast_sub_next(w->sub, &ev, w->timeout_ns);
	return NULL;
}

/*
 * Wait (by polling, with a bound) until a sleeper shows its interest in
 * the header, so that the interrupt most likely finds it asleep.  It is
 * not an error if it does not: the interrupt must work in any case.
 */
static void until_asleep(const char *name)
{
	uint64_t end = t_now_ns() + 2000 * MS;
	struct rc_hdr *h;
	size_t size;

	h = t_map(name, &size);
	while (t_now_ns() < end &&
	       atomic_load_explicit(&h->wake_bits, memory_order_relaxed) == 0)
		sched_yield();
	t_unmap(h, size);
}

static void join_bounded(pthread_t th, struct waiter *w, const char *name,
			 struct ringcast_pub *pub)
{
	struct timespec ts;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += T_WAIT_NS / (1000 * MS);
	err = pthread_timedjoin_np(th, NULL, &ts);
	if (err == ETIMEDOUT) {
		/* Unstick it before failing, so the process can end. */
		ringcast_ring_close(name);
		if (pub)
			ringcast_pub_publish(pub, 1, "x", 1);
		pthread_join(th, NULL);
		ck_abort_msg("the interrupted waiter did not return");
	}
	ck_assert_int_eq(err, 0);
}

START_TEST(test_interrupt_waiting)
{
	unsigned int wait = (unsigned int)_i;
	const char *name = t_ring(wait_names[wait], 16, 64);
	struct waiter w = { .timeout_ns = -1 };
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_event ev;
	pthread_t th;

	w.sub = sub_with(name, wait);
	ck_assert_int_eq(pthread_create(&th, NULL, waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		sched_yield();
	if (wait != RINGCAST_WAIT_BUSY)
		until_asleep(name);
	ringcast_sub_interrupt(w.sub);
	join_bounded(th, &w, name, pub);
	ck_assert_msg(w.ret == -EINTR, "%s waiter: %s", wait_names[wait],
		      ringcast_strerror(w.ret));

	/* Consumed: the handle works normally afterwards. */
	ck_assert_int_eq(ringcast_sub_next(w.sub, &ev, 0), -EAGAIN);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "x", 1), 0);
	ck_assert_int_eq(ringcast_sub_next(w.sub, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ringcast_sub_detach(w.sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* Before any wait: the next wait returns -EINTR, and only that one. */
START_TEST(test_interrupt_pending)
{
	unsigned int wait = (unsigned int)_i;
	const char *name = t_ring(wait_names[wait], 16, 64);
	struct ringcast_sub *sub = sub_with(name, wait);
	struct ringcast_sub *other = sub_with(name, wait);
	struct ringcast_event ev;

	ringcast_sub_interrupt(sub);
	/* Handles are independent. */
	ck_assert_int_eq(ringcast_sub_next(other, &ev, 5 * MS), -ETIMEDOUT);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EINTR);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 5 * MS), -ETIMEDOUT);
	ringcast_sub_interrupt(sub);
	ck_assert_int_eq(ringcast_sub_borrow(sub, &ev, T_WAIT_NS), -EINTR);
	ringcast_sub_detach(sub);
	ringcast_sub_detach(other);
	t_assert_clean();
}
END_TEST

/* From a signal handler on the waiting thread itself. */
static struct ringcast_sub *signal_sub;

static void on_sigusr1(int sig)
{
	ringcast_sub_interrupt(signal_sub);
}

START_TEST(test_interrupt_signal)
{
	unsigned int wait = (unsigned int)_i;
	const char *name = t_ring(wait_names[wait], 16, 64);
	struct waiter w = { .timeout_ns = -1 };
	struct sigaction sa;
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);

	w.sub = sub_with(name, wait);
	signal_sub = w.sub;
	ck_assert_int_eq(pthread_create(&th, NULL, waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		sched_yield();
	if (wait != RINGCAST_WAIT_BUSY)
		until_asleep(name);
	ck_assert_int_eq(pthread_kill(th, SIGUSR1), 0);
	join_bounded(th, &w, name, NULL);
	ck_assert_msg(w.ret == -EINTR, "%s waiter: %s", wait_names[wait],
		      ringcast_strerror(w.ret));
	ringcast_sub_detach(w.sub);
	t_assert_clean();
}
END_TEST

/* A signal without an interrupt is not an -EINTR: the wait goes on. */
static void on_sigusr2(int sig)
{
}

START_TEST(test_signal_is_not_interrupt)
{
	const char *name = t_ring("sig-no-intr", 16, 64);
	struct waiter w = { .timeout_ns = T_WAIT_NS };
	struct ringcast_pub *pub = t_pub(name, 0);
	struct sigaction sa;
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr2;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR2, &sa, NULL), 0);

	w.sub = sub_with(name, RINGCAST_WAIT_SLEEP);
	ck_assert_int_eq(pthread_create(&th, NULL, waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		sched_yield();
	until_asleep(name);
	ck_assert_int_eq(pthread_kill(th, SIGUSR2), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "x", 1), 0);
	join_bounded(th, &w, name, pub);
	ck_assert_msg(w.ret == 0, "waiter: %s", ringcast_strerror(w.ret));
	ringcast_sub_detach(w.sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* A publisher thread wakes a sleeping subscriber thread. */
START_TEST(test_wake_thread)
{
	unsigned int wait = (unsigned int)_i;
	const char *name = t_ring(wait_names[wait], 16, 64);
	struct waiter w = { .timeout_ns = T_WAIT_NS };
	struct ringcast_pub *pub = t_pub(name, 0);
	pthread_t th;

	w.sub = sub_with(name, wait);
	ck_assert_int_eq(pthread_create(&th, NULL, waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		sched_yield();
	if (wait != RINGCAST_WAIT_BUSY)
		until_asleep(name);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, "x", 1), 0);
	join_bounded(th, &w, name, pub);
	ck_assert_msg(w.ret == 0, "waiter: %s", ringcast_strerror(w.ret));
	ringcast_sub_detach(w.sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

static Suite *wait_threads_suite(void)
{
	Suite *s = suite_create("wait-threads");
	TCase *tc;

	tc = tcase_create("timeout");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_timeout, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("interrupt");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_interrupt_waiting, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	tcase_add_loop_test(tc, test_interrupt_pending, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	tcase_add_loop_test(tc, test_interrupt_signal, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	tcase_add_test(tc, test_signal_is_not_interrupt);
	tcase_add_loop_test(tc, test_wake_thread, RINGCAST_WAIT_SPIN,
			    RINGCAST_WAIT_SLEEP + 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(wait_threads_suite());
}
