// SPDX-License-Identifier: MIT
/*
 * Helpers of the reliable-subscriber tests (reliable.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reliable.h"

const char *rel_ring(const char *tag, uint32_t slots, uint32_t max_subscribers,
		     uint64_t demote_ns)
{
	struct ringcast_ring_opts o = {
		.slots = slots,
		.slot_size = 64,
		.max_subscribers = max_subscribers,
		.demote_ns = demote_ns,
	};

	return t_ring_opts(tag, &o, 0);
}

void sleep_us(unsigned int us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int publish_seq(struct ringcast_pub *pub, uint64_t seq, uint32_t type)
{
	unsigned char buf[T_PAYLOAD_LEN];

	t_payload(seq, buf);
	return ringcast_pub_publish(pub, type, buf, sizeof(buf));
}

struct ringcast_sub *reliable_sub(const char *name, uint32_t from,
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
void wait_blocked_at(const char *name, uint64_t head)
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
uint64_t wait_head_above(const char *name, uint64_t head, uint64_t limit_ns)
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
void stop_child(pid_t pid)
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
uint64_t read_reliable(struct ringcast_sub *sub, uint64_t first, uint64_t stop,
		       unsigned int delay_us, int *end)
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

int reader_child(void *arg)
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
void read_range(struct ringcast_sub *sub, uint64_t from, uint64_t to,
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

void assert_table_empty(const char *name)
{
	struct ringcast_ring_stats info;

	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_uint_eq(info.reliable, 0);
}

/* Publishes @events; the count returned never grows, first to last. */
int count_pub(void *arg)
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

TCase *reliable_case(const char *name)
{
	TCase *tc = tcase_create(name);

	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	return tc;
}
