// SPDX-License-Identifier: MIT
/*
 * Durable reliable subscribers (suite reliable, case durable): killed, they
 * keep holding the publisher until a process attaching with their key
 * adopts them and reads on from their cursor; a live owner's key is taken;
 * adopters racing; a finite demotion limit still applies; a clean detach,
 * or an explicit release, lets go.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "reliable.h"

#define KEY 0x64757261626c65ull /* "durable" */
#define RACERS 8

static struct ringcast_sub *durable_sub(const char *name, uint32_t from,
					uint64_t demote_ns, uint64_t *first)
{
	struct ringcast_sub_opts so = {
		.from = from,
		.flags = RINGCAST_SUB_RELIABLE,
		.demote_ns = demote_ns,
	};
	struct ringcast_sub *sub = NULL;

	ck_assert_int_eq(
		ringcast_sub_attach_durable(name, KEY, &so, &sub, first), 0);
	return sub;
}

struct dead_ctx {
	const char *name;
	uint64_t read; /* events it reads before its death */
	uint64_t first; /* where it must start */
	uint64_t demote_ns; /* its own limit */
	struct t_gate ready;
};

/* Attach durable, read ->read events, then die with SIGKILL. */
static int dead_durable(void *arg)
{
	struct dead_ctx *d = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
		.demote_ns = d->demote_ns,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	uint64_t i, first = 1;

	CHILD_ASSERT_EQ(ringcast_sub_attach_durable(d->name, KEY, &so, &sub,
						    &first),
			0);
	CHILD_ASSERT_EQ(first, d->first);
	for (i = first; i < first + d->read; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
	}
	t_gate_post(&d->ready);
	kill(getpid(), SIGKILL);
	return 3;
}

/* A durable subscriber that read @read of @published events, then died. */
static void kill_durable(struct dead_ctx *d, struct ringcast_pub *pub,
			 uint64_t published)
{
	uint64_t i;
	pid_t pid;

	t_gate_init(&d->ready);
	pid = t_fork(dead_durable, d);
	for (i = 0; i < published; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	ck_assert_int_eq(t_gate_wait(&d->ready, 1, T_CHILD_MS), 0);
	t_child_killed(pid, SIGKILL);
	t_gate_close(&d->ready);
}

/* The table's one entry: durable, its owner dead. */
static void assert_dead_durable(const char *name)
{
	struct ringcast_ring_subscriber si[2];

	ck_assert_int_eq(ringcast_ring_get_subscribers(name, si, 2), 1);
	ck_assert_int_eq(si[0].alive, 0);
	ck_assert_uint_eq(si[0].flags, RINGCAST_SUBSCRIBER_RELIABLE |
					       RINGCAST_SUBSCRIBER_DURABLE);
}

/* Publish until the ring refuses: the head it stops at. */
static uint64_t publish_until_held(struct ringcast_pub *pub, uint64_t from,
				   uint64_t most)
{
	uint64_t i;
	int r = 0;

	for (i = from; i < most; i++) {
		r = publish_seq(pub, i, 1);
		if (r < 0)
			break;
	}
	ck_assert_msg(r == -ETIMEDOUT,
		      "the publisher was not held: %llu published, last %d",
		      (unsigned long long)i, r);
	return i;
}

struct adopt_ctx {
	const char *name;
	uint64_t lo, hi; /* its predecessor's cursor is in [lo, hi] */
	uint64_t head; /* what it reads up to */
};

/* Adopt the dead one's entry and read every event from its cursor on. */
static int adopter(void *arg)
{
	struct adopt_ctx *a = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	uint64_t first = UINT64_MAX, i;

	CHILD_ASSERT_EQ(ringcast_sub_attach_durable(a->name, KEY, &so, &sub,
						    &first),
			0);
	CHILD_ASSERT(first >= a->lo && first <= a->hi);
	for (i = first; i < a->head; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
		CHILD_ASSERT(t_payload_ok(&ev));
	}
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * SIGKILLed after reading 5 events, the durable subscriber still holds the
 * publisher a ring past its cursor (where a dead plain one is reclaimed at
 * once); a new process adopts it and reads every event from there.
 */
START_TEST(test_durable_killed_adopted)
{
	struct dead_ctx d = { .read = 5 };
	struct adopt_ctx a;
	struct ringcast_pub *pub;
	uint64_t head, i;

	d.name = rel_ring("durable", 16, 0, 0);
	pub = t_pub(d.name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 100 * MS), 0);
	kill_durable(&d, pub, 8);
	/* Its cursor is where it last told it: 0 to 5. */
	head = publish_until_held(pub, 8, 200);
	ck_assert_uint_ge(head, 16);
	ck_assert_uint_le(head, 5 + 16);
	assert_dead_durable(d.name);

	a = (struct adopt_ctx){ .name = d.name, .lo = head - 16, .hi = 5 };
	a.head = head;
	t_child_ok(t_fork(adopter, &a));
	/* Its clean detach let go: the publisher is free. */
	for (i = head; i < head + 100; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	assert_table_empty(d.name);
	ringcast_pub_detach(pub);
}
END_TEST

/* One live subscriber per key; a durable one is reliable, its key set. */
START_TEST(test_durable_busy)
{
	struct ringcast_sub_opts so = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub_opts lossy = { 0 };
	struct ringcast_sub *sub, *other = NULL;
	const char *name = rel_ring("durable-busy", 16, 0, 0);

	sub = durable_sub(name, RINGCAST_FROM_NEWEST, 0, NULL);
	ck_assert_int_eq(ringcast_sub_attach_durable(name, KEY, &so, &other,
						     NULL),
			 -EBUSY);
	ck_assert_ptr_null(other);
	ck_assert_int_eq(ringcast_ring_release_durable(name, KEY), -EBUSY);
	ck_assert_int_eq(ringcast_ring_release_durable(name, 0), 0);
	ck_assert_int_eq(ringcast_sub_attach_durable(name, 0, &so, &other,
						     NULL),
			 -EINVAL);
	ck_assert_int_eq(ringcast_sub_attach_durable(name, KEY, &lossy, &other,
						     NULL),
			 -EINVAL);
	/* Another key is another subscription. */
	ck_assert_int_eq(ringcast_sub_attach_durable(name, KEY + 1, &so, &other,
						     NULL),
			 0);
	ringcast_sub_detach(other);
	ringcast_sub_detach(sub);
	assert_table_empty(name);
}
END_TEST

struct race_ctx {
	const char *name;
	struct t_gate go, tried, done;
	int *ret; /* shared: each racer's attach */
	int i;
};

static int racer(void *arg)
{
	struct race_ctx *c = arg;
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	struct ringcast_sub *sub = NULL;

	CHILD_ASSERT_EQ(t_gate_wait(&c->go, 1, T_CHILD_MS), 0);
	c->ret[c->i] =
		ringcast_sub_attach_durable(c->name, KEY, &so, &sub, NULL);
	t_gate_post(&c->tried);
	/* The winner holds its key until every racer tried. */
	CHILD_ASSERT_EQ(t_gate_wait(&c->done, 1, T_CHILD_MS), 0);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * Racers attach with one key at once, to adopt a dead one's entry (0) or
 * with none there (1): one wins, the others get -EBUSY.
 */
START_TEST(test_durable_race)
{
	struct race_ctx c = { 0 };
	struct dead_ctx d = { .read = 0 };
	struct ringcast_pub *pub;
	pid_t pid[RACERS];
	int i, won = 0;

	c.name = d.name = rel_ring("durable-race", 16, 0, 0);
	c.ret = t_shared_alloc(RACERS * sizeof(int));
	pub = t_pub(c.name, 0);
	if (_i == 0)
		kill_durable(&d, pub, 4);
	t_gate_init(&c.go);
	t_gate_init(&c.tried);
	t_gate_init(&c.done);
	for (i = 0; i < RACERS; i++) {
		c.i = i;
		pid[i] = t_fork(racer, &c);
	}
	t_gate_post_n(&c.go, RACERS);
	ck_assert_int_eq(t_gate_wait(&c.tried, RACERS, T_CHILD_MS), 0);
	for (i = 0; i < RACERS; i++) {
		if (c.ret[i] == 0)
			won++;
		else
			ck_assert_int_eq(c.ret[i], -EBUSY);
	}
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(ringcast_ring_get_subscribers(c.name, NULL, 0), 1);
	t_gate_post_n(&c.done, RACERS);
	for (i = 0; i < RACERS; i++)
		t_child_ok(pid[i]);
	assert_table_empty(c.name);
	ringcast_pub_detach(pub);
}
END_TEST

/*
 * A dead durable subscriber with a demotion limit of its own is demoted
 * when it has held the publisher that long, as a stuck one is; then it
 * holds nothing, and its key starts afresh.
 */
START_TEST(test_durable_demoted)
{
	struct dead_ctx d = { .read = 2, .demote_ns = 200 * MS };
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t i, first;

	d.name = rel_ring("durable-demote", 16, 0, 0);
	pub = t_pub(d.name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	kill_durable(&d, pub, 4);
	for (i = 4; i < 100; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	t_stat(d.name, &info);
	ck_assert_uint_eq(info.demotions, 1);
	assert_table_empty(d.name);
	sub = durable_sub(d.name, RINGCAST_FROM_NEWEST, 0, &first);
	ck_assert_uint_eq(first, 100);
	ringcast_sub_detach(sub);
	ringcast_pub_detach(pub);
}
END_TEST

struct adopt_late_ctx {
	const char *name;
	struct t_gate blocked; /* the publisher is about to wait */
};

/*
 * Adopt 1 s into the publisher's wait for the dead entry (limit 2 s), read
 * nothing, and 1.5 s later still be reliable: the adopter's time started
 * at its adoption, not at its predecessor's last move.
 */
static int late_adopter(void *arg)
{
	struct adopt_late_ctx *l = arg;
	struct ringcast_sub_opts so = {
		.flags = RINGCAST_SUB_RELIABLE,
		.demote_ns = 2000 * MS,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	uint64_t first;

	CHILD_ASSERT_EQ(t_gate_wait(&l->blocked, 1, T_CHILD_MS), 0);
	usleep(1000 * 1000);
	CHILD_ASSERT_EQ(ringcast_sub_attach_durable(l->name, KEY, &so, &sub,
						    &first),
			0);
	usleep(1500 * 1000);
	/* Demoted, it would learn it here (-ESTALE). */
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, 0), 0);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_durable_adopted_late)
{
	struct dead_ctx d = { .read = 2, .demote_ns = 2000 * MS };
	struct adopt_late_ctx l;
	struct ringcast_pub *pub;
	uint64_t head;
	pid_t pid;

	d.name = rel_ring("durable-late", 16, 0, 0);
	pub = t_pub(d.name, 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, 100 * MS), 0);
	kill_durable(&d, pub, 4);
	head = publish_until_held(pub, 4, 200);
	l.name = d.name;
	t_gate_init(&l.blocked);
	pid = t_fork(late_adopter, &l);
	ck_assert_int_eq(ringcast_pub_set_timeout(pub, T_WAIT_NS), 0);
	t_gate_post(&l.blocked);
	/* Held by the dead entry, then by its adopter until it detaches. */
	ck_assert_int_ge(publish_seq(pub, head, 1), 0);
	t_child_ok(pid);
	t_gate_close(&l.blocked);
	ringcast_pub_detach(pub);
}
END_TEST

/*
 * A clean detach lets go; so does a release of a dead one's key, and its
 * next attach starts afresh.
 */
START_TEST(test_durable_release)
{
	struct dead_ctx d = { .read = 3 };
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t i, first;

	d.name = rel_ring("durable-release", 16, 0, 0);
	pub = t_pub(d.name, 0);
	sub = durable_sub(d.name, RINGCAST_FROM_NEWEST, 0, NULL);
	ringcast_sub_detach(sub);
	/* No timeout: a publisher held would get -EAGAIN. */
	for (i = 0; i < 100; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	assert_table_empty(d.name);

	ringcast_pub_detach(pub);
	d.name = rel_ring("durable-release2", 16, 0, 0);
	pub = t_pub(d.name, 0);
	d.read = 0;
	kill_durable(&d, pub, 4);
	ck_assert_int_eq(ringcast_ring_release_durable(d.name, KEY + 1), 0);
	assert_dead_durable(d.name);
	ck_assert_int_eq(ringcast_ring_release_durable(d.name, KEY), 1);
	assert_table_empty(d.name);
	for (i = 4; i < 100; i++)
		ck_assert_int_ge(publish_seq(pub, i, 1), 0);
	sub = durable_sub(d.name, RINGCAST_FROM_NEWEST, 0, &first);
	ck_assert_uint_eq(first, 100);
	ringcast_sub_detach(sub);
	ringcast_pub_detach(pub);
}
END_TEST

/*
 * An adopter that asks for a sequence past the dead one's cursor starts
 * there, and nothing is reported lost; one that asks for less starts at
 * the cursor.
 */
START_TEST(test_durable_from_seq)
{
	struct dead_ctx d = { .read = 2 };
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_SEQ,
		.flags = RINGCAST_SUB_RELIABLE,
		.seq = _i ? 10 : 0,
	};
	struct ringcast_sub *sub = NULL;
	struct ringcast_sub_stats st;
	struct ringcast_pub *pub;
	uint64_t first = UINT64_MAX;

	d.name = rel_ring("durable-seq", 16, 0, 0);
	pub = t_pub(d.name, 0);
	kill_durable(&d, pub, 12);
	ck_assert_int_eq(
		ringcast_sub_attach_durable(d.name, KEY, &so, &sub, &first), 0);
	if (_i)
		ck_assert_uint_eq(first, 10);
	else
		ck_assert_uint_le(first, 2);
	read_range(sub, first, 12, T_WAIT_NS);
	ringcast_sub_get_stats(sub, &st);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.first, first);
	ringcast_sub_detach(sub);
	ringcast_pub_detach(pub);
}
END_TEST

/* A durable subscriber that attaches (adopting), then dies. */
static int attach_and_die(void *arg)
{
	struct ringcast_sub_opts so = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub *sub = NULL;
	uint64_t first;

	CHILD_ASSERT_EQ(ringcast_sub_attach_durable((const char *)arg, KEY, &so,
						    &sub, &first),
			0);
	kill(getpid(), SIGKILL);
	return 3;
}

/* Lists the ring's subscribers until killed: its reclaim probes lock. */
static int lister(void *arg)
{
	struct ringcast_ring_subscriber info[4];

	for (;;)
		ringcast_ring_get_subscribers((const char *)arg, info, 4);
	return 0;
}

/*
 * A dead durable entry's lock is taken for moments by whoever looks at
 * it (a listing, a join's reclaim, a blocked publisher's reap): an
 * adoption meanwhile waits for it instead of taking it for a live owner's
 * (-EBUSY).  Each of the rounds adopts its predecessor's entry.
 */
START_TEST(test_durable_adopt_while_listed)
{
	const char *name = rel_ring("durable-listed", 16, 0, 0);
	struct ringcast_pub *pub = t_pub(name, 0);
	pid_t look[2];
	int i;

	look[0] = t_fork(lister, (void *)name);
	look[1] = t_fork(lister, (void *)name);
	for (i = 0; i < 500; i++)
		t_child_killed(t_fork(attach_and_die, (void *)name), SIGKILL);
	kill(look[0], SIGKILL);
	kill(look[1], SIGKILL);
	t_child_killed(look[0], SIGKILL);
	t_child_killed(look[1], SIGKILL);
	ck_assert_int_eq(ringcast_ring_release_durable(name, KEY), 1);
	assert_table_empty(name);
	ringcast_pub_detach(pub);
}
END_TEST

TCase *reliable_durable_case(void)
{
	TCase *tc = reliable_case("durable");

	tcase_add_test(tc, test_durable_killed_adopted);
	tcase_add_test(tc, test_durable_busy);
	tcase_add_loop_test(tc, test_durable_race, 0, 2);
	tcase_add_test(tc, test_durable_demoted);
	tcase_add_test(tc, test_durable_release);
	tcase_add_loop_test(tc, test_durable_from_seq, 0, 2);
	tcase_add_test(tc, test_durable_adopt_while_listed);
	tcase_add_test(tc, test_durable_adopted_late);
	return tc;
}
