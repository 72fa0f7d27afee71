/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the reliable-subscriber tests (test-reliable*.c): rings with a
 * demotion limit, reliable readers that check every event, and polls of
 * the ring's state that stand for the observation itself.
 */
#ifndef RINGCAST_TESTS_RELIABLE_H
#define RINGCAST_TESTS_RELIABLE_H

#include "common.h"

#define MS (1000ull * 1000)
/* How long a blocked publisher may take to notice what freed it. */
#define RESUME_MAX_NS (3000 * MS)

const char *rel_ring(const char *tag, uint32_t slots, uint32_t max_subscribers,
		     uint64_t demote_ns);
void sleep_us(unsigned int us);
int publish_seq(struct ringcast_pub *pub, uint64_t seq, uint32_t type);
struct ringcast_sub *reliable_sub(const char *name, uint32_t from,
				  uint64_t *first);
void wait_blocked_at(const char *name, uint64_t head);
uint64_t wait_head_above(const char *name, uint64_t head, uint64_t limit_ns);
void stop_child(pid_t pid);
uint64_t read_reliable(struct ringcast_sub *sub, uint64_t first, uint64_t stop,
		       unsigned int delay_us, int *end);

/* A reliable reader child: from oldest (0), every event, then @end. */
struct reader_ctx {
	const char *name;
	uint64_t events; /* what it must read; UINT64_MAX: the final head */
	int end; /* how the stream must end */
	unsigned int delay_us; /* per event */
	unsigned int wait; /* enum ringcast_wait */
	struct t_gate *ready;
};

int reader_child(void *arg);
void read_range(struct ringcast_sub *sub, uint64_t from, uint64_t to,
		int64_t timeout_ns);
void assert_table_empty(const char *name);

/* A subscriber child's ring, and the gates it posts and waits on. */
struct late_ctx {
	const char *name;
	struct t_gate go, hold;
};

/* A publisher child: @events publishes, each count returned no larger. */
struct count_pub_ctx {
	const char *name;
	uint64_t events;
	int first_ret, last_ret; /* what the first and last publish return */
};

int count_pub(void *arg);

/* A case of the suite, with the cleanup and timeout every case has. */
TCase *reliable_case(const char *name);

TCase *reliable_gating_case(void);
TCase *reliable_stuck_case(void);
TCase *reliable_table_case(void);
TCase *reliable_death_case(void);
TCase *reliable_durable_case(void);

#endif
