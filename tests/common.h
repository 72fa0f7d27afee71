/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the test suites.
 *
 * Names.  Every ring a test makes is called t-<root>-<pid>-<n>-<tag>, where
 * <root> is the pid of the test runner (the process that ran main()), <pid>
 * the process that made the name and <n> a counter of that process.  Names
 * are recorded in a per-process registry and removed at exit; the runner
 * removes whatever is left under its own prefix in an unchecked teardown
 * (which also runs when a forked test crashed or timed out).
 *
 * Children.  A ck_assert in a process that a test forked itself is lost:
 * children check with CHILD_ASSERT*(), which prints the failure to stderr
 * and exits with status 1; the test waits for them with t_child_ok().
 * Children never write to stdout (it carries the TAP stream).
 *
 * Waiting.  No sleep is used to synchronise: processes meet on pipes
 * (struct t_gate) or on the ring itself, and every wait is bounded so that
 * a bug fails a test instead of hanging it.
 */
#ifndef RINGCAST_TESTS_COMMON_H
#define RINGCAST_TESTS_COMMON_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ringcast.h"

/* A wait that is expected to succeed: generous, for loaded machines. */
#define T_WAIT_NS (10LL * 1000 * 1000 * 1000)
/* How long a test waits for a child process, in milliseconds. */
#define T_CHILD_MS (90 * 1000)
/* Check's per-test timeout for cases that fork or run threads, seconds. */
#define T_CASE_TIMEOUT 120

extern pid_t t_root_pid;

/* ----------------------------------------------------------------------
 * Rings
 */

/*
 * t_name() - make a unique ring name and register it for removal
 * @tag: a short description ([A-Za-z0-9_-], truncated to 40 characters)
 *
 * Return: the name, valid until the process exits.
 */
const char *t_name(const char *tag);

/*
 * t_ring() - create a ring under a fresh name (asserts success)
 * @tag:       as for t_name()
 * @slots:     0 for the default
 * @slot_size: 0 for the default
 */
const char *t_ring(const char *tag, uint32_t slots, uint32_t slot_size);

/*
 * t_ring_opts() - create a ring with every option under a fresh name
 * (asserts success)
 * @tag:   as for t_name()
 * @o:     the options (NULL: the defaults)
 * @flags: RINGCAST_CREATE_* besides RINGCAST_CREATE_EXCL, which is implied
 */
const char *t_ring_opts(const char *tag, const struct ringcast_ring_opts *o,
			unsigned int flags);

/* t_cleanup() - remove every ring this process registered */
void t_cleanup(void);

/*
 * t_assert_clean() - remove this process's rings, then assert that nothing
 * named ringcast.t-<root>-<pid>-* or ringcast-lock.t-<root>-<pid>-* is left
 * in /dev/shm
 */
void t_assert_clean(void);

/* t_shm_path() - /dev/shm/ringcast.NAME */
void t_shm_path(char *buf, size_t size, const char *name);

/* t_shm_exists() - whether /dev/shm/<file> exists */
bool t_shm_exists(const char *file);

/* t_poke() - overwrite bytes of a ring's object (asserts success) */
void t_poke(const char *name, off_t off, const void *buf, size_t len);

/* t_peek() - read bytes of a ring's object (asserts success) */
void t_peek(const char *name, off_t off, void *buf, size_t len);

/* t_map() - map a ring's object read-write; t_unmap() undoes it */
void *t_map(const char *name, size_t *sizep);
void t_unmap(void *p, size_t size);

/* t_stat() - ringcast_ring_get_stats() that asserts success */
void t_stat(const char *name, struct ringcast_ring_stats *info);

/* t_pub() - ringcast_pub_attach() that asserts success */
struct ringcast_pub *t_pub(const char *name, unsigned int flags);

/* t_sub() - ringcast_sub_attach() that asserts success */
struct ringcast_sub *
t_sub(const char *name, const struct ringcast_sub_opts *opts, uint64_t *first);

/* ----------------------------------------------------------------------
 * Payloads: 16 bytes derived from the sequence, checkable by any reader
 */

#define T_PAYLOAD_LEN 16u

void t_payload(uint64_t seq, void *buf);
bool t_payload_ok(const struct ringcast_event *ev);

/*
 * t_payload_batch() - @n events of type 1 for ringcast_pub_publish_batch():
 * @msgs[i] carries @buf[i], the payload of sequence @seq + i.
 */
void t_payload_batch(struct ringcast_msg *msgs,
		     unsigned char (*buf)[T_PAYLOAD_LEN], uint64_t seq,
		     unsigned int n);

/*
 * struct t_tally - what t_read_stream() saw
 * @first:     the subscription's first sequence (from attach)
 * @cursor:    the next sequence expected
 * @delivered: events returned
 * @lost:      sum of ev.lost over -EOVERFLOW returns
 * @laps:      -EOVERFLOW returns
 * @end:       the code that ended the stream
 */
struct t_tally {
	uint64_t first;
	uint64_t cursor;
	uint64_t delivered;
	uint64_t lost;
	uint64_t laps;
	int end;
};

/*
 * t_read_stream() - read an unfiltered subscription to its end, checking
 * @sub:  the subscriber; every event must carry t_payload() of its seq
 * @end:  the code that must end it (-EPIPE, -EOWNERDEAD)
 * @t:    @t->first set by the caller; the rest is filled in
 *
 * Every event must be the one at the cursor (laps move the cursor by
 * exactly ev.lost), and at the end ringcast_sub_get_stats() must agree with
 * what was seen.  Each wait is bounded by T_WAIT_NS.
 *
 * Return: 0, or 1 after printing what went wrong on stderr.
 */
int t_read_stream(struct ringcast_sub *sub, int end, struct t_tally *t);

/* ----------------------------------------------------------------------
 * Processes
 */

/*
 * t_fork() - run @fn(@arg) in a child process
 *
 * The child exits with @fn's return value (0: passed) through _exit(), so
 * it runs none of the parent's exit handlers.
 */
pid_t t_fork(int (*fn)(void *arg), void *arg);

/*
 * t_wait() - wait for a child, at most @timeout_ms
 *
 * Return: its wait status, or -1 if it did not end in time (it is killed
 * with SIGKILL and reaped).
 */
int t_wait(pid_t pid, int timeout_ms);

/* t_child_ok() - assert that a child exits with status 0 in time */
#define t_child_ok(pid) t_child_ok_at(pid, __FILE__, __LINE__)
void t_child_ok_at(pid_t pid, const char *file, int line);

/*
 * t_child_killed() - assert that a child ends by signal @sig in time (not
 * by another signal, not by exiting, not by t_wait()'s own SIGKILL)
 */
#define t_child_killed(pid, sig) t_child_killed_at(pid, sig, __FILE__, __LINE__)
void t_child_killed_at(pid_t pid, int sig, const char *file, int line);

/* t_describe_status() - "exit 1", "signal 9", "timed out" */
const char *t_describe_status(int status, char *buf, size_t size);

/* Assertions for forked children: print to stderr and _exit(1). */
#define CHILD_ASSERT(cond)                                       \
	do {                                                     \
		if (!(cond))                                     \
			t_child_fail(__FILE__, __LINE__, #cond); \
	} while (0)

#define CHILD_ASSERT_EQ(a, b)                                             \
	do {                                                              \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);   \
		if (t_a_ != t_b_)                                         \
			t_child_fail_eq(__FILE__, __LINE__, #a, #b, t_a_, \
					t_b_);                            \
	} while (0)

__attribute__((noreturn)) void t_child_fail(const char *file, int line,
					    const char *expr);
__attribute__((noreturn)) void t_child_fail_eq(const char *file, int line,
					       const char *a, const char *b,
					       long long va, long long vb);

/*
 * struct t_gate - a pipe to meet on
 *
 * t_gate_post() writes one byte; t_gate_wait() reads @n bytes and returns
 * 0, -ETIMEDOUT after @timeout_ms, or -EPIPE when the writing side is gone.
 */
struct t_gate {
	int rd;
	int wr;
};

void t_gate_init(struct t_gate *g);
void t_gate_post(struct t_gate *g);
void t_gate_post_n(struct t_gate *g, int n);
int t_gate_wait(struct t_gate *g, int n, int timeout_ms);
void t_gate_close(struct t_gate *g);

/* ----------------------------------------------------------------------
 * Misc
 */

/* A seeded xorshift generator, so that random tests can be replayed. */
uint64_t t_rand(uint64_t *state);

/* t_env_u64() - an unsigned number from the environment, or @def */
uint64_t t_env_u64(const char *var, uint64_t def);

/*
 * t_shared_alloc() - zeroed memory shared with the children forked after
 * it (results, times); asserts success.  Free with munmap(p, size).
 */
void *t_shared_alloc(size_t size);

/*
 * t_lost_wakes() - the subscriber's lost wake-ups: timed-out waits that
 * found a wanted event no waker announced (0 unless the protocol broke)
 */
uint64_t t_lost_wakes(const struct ringcast_sub *sub);

/* t_now_ns() - CLOCK_MONOTONIC in nanoseconds */
uint64_t t_now_ns(void);

/* t_add_cleanup() - give a test case the unchecked cleanup teardown */
void t_add_cleanup(TCase *tc);

/*
 * t_main() - run a suite with TAP output on stdout
 *
 * Return: the process's exit status (0 when every test passed).
 */
int t_main(Suite *s);

#endif
