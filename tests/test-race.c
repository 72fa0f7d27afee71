// SPDX-License-Identifier: MIT
/*
 * Races of publishers with each other and with the ring's life: several
 * publishers attaching at once to a multi-publisher ring, the shared limit
 * as publishers that join later see it, a takeover whose compare-and-swap
 * is retried, and the claim generation that keeps a demotion off a fresh
 * subscriber.
 *
 * This executable links the static library with rc_random64() and
 * rc_table_count() wrapped (-Wl,--wrap): a publisher taking a ring over
 * draws its epoch between its look at the life word and its
 * compare-and-swap of it, and an attach counts the table between its read
 * of the head and its read of the limit, so the wrappers can act there,
 * on cue: change the life word, or publish from another handle.
 * RINGCAST_RACE_TRIES sets the tries of the attach race (300).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common.h"
#include "layout.h"
#include "map.h"

/* ------------------------------------------------- the rc_random64 wrap */

uint64_t __real_rc_random64(void);
uint64_t __wrap_rc_random64(void);

/* Close this ring at the next epoch drawn (a takeover's), once. */
static const char *close_at_draw;

uint64_t __wrap_rc_random64(void)
{
	const char *name = close_at_draw;

	if (name) {
		close_at_draw = NULL;
		ck_assert_int_eq(ringcast_ring_close(name), 0);
	}
	return __real_rc_random64();
}

/* ------------------------------------------- concurrent attach, 300 tries */

struct mp_msg {
	uint32_t pubno;
	uint32_t pad;
	uint64_t n;
};

#define RACE_EVENTS 1000u

struct race {
	const char *name;
	struct t_gate go; /* both publishers attach on it */
	struct t_gate attached; /* each publisher has published */
	struct t_gate publish; /* both have: finish */
	struct t_gate ready; /* the reader is subscribed */
	uint32_t pubno;
};

static int race_read(void *arg)
{
	struct race *rc = arg;
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	uint64_t next[2] = { 0, 0 }, first, seq = 0, total = 0;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	int r;

	CHILD_ASSERT_EQ(ringcast_sub_attach(rc->name, &o, &sub, &first), 0);
	CHILD_ASSERT_EQ(first, 0);
	t_gate_post(&rc->ready);
	for (;;) {
		struct mp_msg m;

		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (r < 0)
			break;
		/* Every sequence once, in order: none reused, none lost. */
		CHILD_ASSERT_EQ(ev.seq, seq);
		seq++;
		CHILD_ASSERT_EQ(ev.len, sizeof(m));
		memcpy(&m, ev.data, sizeof(m));
		CHILD_ASSERT(m.pubno < 2);
		CHILD_ASSERT_EQ(m.n, next[m.pubno]);
		next[m.pubno]++;
		total++;
	}
	CHILD_ASSERT_EQ(r, -EPIPE);
	CHILD_ASSERT_EQ(next[0], RACE_EVENTS);
	CHILD_ASSERT_EQ(next[1], RACE_EVENTS);
	CHILD_ASSERT_EQ(total, 2 * RACE_EVENTS);
	ringcast_sub_detach(sub);
	return 0;
}

static int race_write(void *arg)
{
	struct race *rc = arg;
	struct ringcast_pub *pub;
	uint64_t i;

	CHILD_ASSERT_EQ(t_gate_wait(&rc->go, 1, T_CHILD_MS), 0);
	CHILD_ASSERT_EQ(ringcast_pub_attach(rc->name, 0, &pub), 0);
	for (i = 0; i < RACE_EVENTS; i++) {
		struct mp_msg m = { .pubno = rc->pubno, .n = i };

		CHILD_ASSERT(ringcast_pub_publish(pub, 1, &m, sizeof(m)) >= 0);
	}
	/* Neither finishes (and closes the ring) before both attached. */
	t_gate_post(&rc->attached);
	CHILD_ASSERT_EQ(t_gate_wait(&rc->publish, 1, T_CHILD_MS), 0);
	CHILD_ASSERT(ringcast_pub_finish(pub) >= 0);
	return 0;
}

/*
 * Two processes attach at the same moment to a fresh multi-publisher ring
 * and publish 1000 events each: a reliable reader gets every one of the
 * 2000 sequences exactly once, every time.  Both attachers see the ring
 * CREATED; only one may take it over, and the head never moves back.
 */
START_TEST(attach_race)
{
	uint64_t tries = t_env_u64("RINGCAST_RACE_TRIES", 300), k;
	struct ringcast_ring_opts o = { .slots = 4096, .slot_size = 64 };
	const char *name = t_ring_opts("attach", &o, RINGCAST_CREATE_MULTI_PUB);

	for (k = 0; k < tries; k++) {
		struct race rc = { .name = name };
		struct ringcast_ring_stats info;
		pid_t rd, w0, w1;

		/* A fresh ring each time, under the one name. */
		if (k)
			ck_assert_int_eq(ringcast_ring_create(
						 name, &o,
						 RINGCAST_CREATE_MULTI_PUB |
							 RINGCAST_CREATE_EXCL),
					 0);
		t_gate_init(&rc.go);
		t_gate_init(&rc.attached);
		t_gate_init(&rc.publish);
		t_gate_init(&rc.ready);
		rd = t_fork(race_read, &rc);
		ck_assert_int_eq(t_gate_wait(&rc.ready, 1, T_CHILD_MS), 0);
		rc.pubno = 0;
		w0 = t_fork(race_write, &rc);
		rc.pubno = 1;
		w1 = t_fork(race_write, &rc);
		t_gate_post_n(&rc.go, 2);
		ck_assert_int_eq(t_gate_wait(&rc.attached, 2, T_CHILD_MS), 0);
		t_gate_post_n(&rc.publish, 2);
		t_child_ok(w0);
		t_child_ok(w1);
		t_child_ok(rd);
		t_stat(rc.name, &info);
		ck_assert_msg(info.head == 2 * RACE_EVENTS,
			      "try %llu: head %llu", (unsigned long long)k,
			      (unsigned long long)info.head);
		t_gate_close(&rc.go);
		t_gate_close(&rc.attached);
		t_gate_close(&rc.publish);
		t_gate_close(&rc.ready);
		ck_assert_int_eq(ringcast_ring_remove(rc.name), 0);
	}
}
END_TEST

/* ----------------------------------------------- the limit, never lowered */

/*
 * A publisher joining a multi-publisher ring reads the head, and then,
 * after another publisher moved on and scanned, the limit: more than a
 * ring above the head it read.  It must not store its own, lower, value:
 * a reliable subscriber may have started from the higher one.  The other
 * publisher publishes between the two reads, from the wrapped
 * rc_table_count() that the attach calls there.
 */
static struct ringcast_pub *count_pub;

uint32_t __real_rc_table_count(const struct rc_map *m);
uint32_t __wrap_rc_table_count(const struct rc_map *m);

uint32_t __wrap_rc_table_count(const struct rc_map *m)
{
	struct ringcast_pub *pub = count_pub;
	uint64_t i;

	if (pub) {
		count_pub = NULL;
		for (i = 0; i < 100; i++)
			ck_assert_int_ge(
				ringcast_pub_publish(pub, 1, &i, sizeof(i)), 0);
	}
	return __real_rc_table_count(m);
}

START_TEST(join_keeps_limit)
{
	struct ringcast_ring_opts o = { .slots = 64, .slot_size = 64 };
	const char *name = t_ring_opts("limit", &o, RINGCAST_CREATE_MULTI_PUB);
	struct ringcast_pub *a, *b;
	uint64_t lim, i;
	struct rc_hdr *h;
	size_t size;

	a = t_pub(name, 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_ge(ringcast_pub_publish(a, 1, &i, sizeof(i)), 0);
	h = t_map(name, &size);
	count_pub = a;
	b = t_pub(name, 0);
	ck_assert_ptr_null(count_pub);
	/* What a's last scan stored, from a head past b's plus a ring. */
	lim = atomic_load(&h->limit);
	ck_assert_msg(lim > 10 + 64, "limit %llu lowered by an attach",
		      (unsigned long long)lim);
	ck_assert_int_ge(ringcast_pub_publish(b, 1, &i, sizeof(i)), 0);
	ck_assert_uint_ge(atomic_load(&h->limit), lim);
	t_unmap(h, size);
	ringcast_pub_detach(b);
	ringcast_pub_detach(a);
}
END_TEST

/*
 * A limit more than a ring above the head, read after it, was never
 * stored by a publisher: an attach brings it down to the head plus a
 * ring (or a subscriber joining would start past every event).
 */
START_TEST(scribbled_limit)
{
	struct ringcast_ring_opts o = { .slots = 64, .slot_size = 64 };
	const char *name =
		t_ring_opts("scribble", &o, RINGCAST_CREATE_MULTI_PUB);
	struct ringcast_pub *a;
	struct rc_hdr *h;
	uint64_t i;
	size_t size;

	a = t_pub(name, 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_ge(ringcast_pub_publish(a, 1, &i, sizeof(i)), 0);
	ringcast_pub_detach(a);
	h = t_map(name, &size);
	atomic_store(&h->limit, 1000000);
	a = t_pub(name, 0);
	ck_assert_uint_eq(atomic_load(&h->limit), 10 + 64);
	t_unmap(h, size);
	ringcast_pub_detach(a);
}
END_TEST

/* ------------------------------------------- a retried takeover, recorded */

/*
 * A takeover whose compare-and-swap of the life word fails (the ring was
 * closed between the publisher's look and its swap) records the epoch it
 * ends once, with the state it really ended in: a subscriber of that
 * epoch gets the end code of a close, not of a death.  The publisher
 * before it died (detached without closing): a single-publisher ring is
 * then taken over LIVE; a multi-publisher one is first found abandoned by
 * a subscriber.
 */
static void retried_takeover(unsigned int create_flags, bool fail_first)
{
	bool multi = create_flags & RINGCAST_CREATE_MULTI_PUB;
	struct ringcast_ring_opts o = { .slots = 64, .slot_size = 64 };
	const char *name = t_ring_opts("retry", &o, create_flags);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	uint32_t i, tag, n = 0, state = 0;
	struct rc_hdr *h;
	uint64_t x = 7;
	size_t size;

	pub = t_pub(name, 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 1, &x, sizeof(x)), 0);
	sub = t_sub(name, &so, NULL);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	h = t_map(name, &size);
	tag = (uint32_t)RC_LIFE_EPOCH(atomic_load(&h->life));
	/* The publisher dies: its lease is gone, the life word says LIVE. */
	ringcast_pub_detach(pub);
	if (multi)
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS),
				 -EOWNERDEAD);
	/*
	 * A new one takes it over; the ring is closed at its epoch draw.
	 * Or the first to try fails there, not asked to reopen, and the
	 * next takes the closed ring over.
	 */
	close_at_draw = name;
	if (fail_first) {
		ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub), -EPIPE);
		ck_assert_ptr_null(close_at_draw);
	}
	ck_assert_int_eq(ringcast_pub_attach(name, RINGCAST_PUB_REOPEN, &pub),
			 0);
	ck_assert_ptr_null(close_at_draw);
	for (i = 0; i < RC_ENDED_MAX; i++)
		if (atomic_load(&h->ended[i].tag) == tag) {
			state = atomic_load(&h->ended[i].state);
			n++;
		}
	ck_assert_msg(n == 1, "epoch %08x recorded %u times", tag, n);
	ck_assert_uint_eq(state, RINGCAST_STATE_CLOSED);
	/* The old epoch's reader is told it was closed. */
	if (!multi)
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EPIPE);
	t_unmap(h, size);
	ringcast_sub_detach(sub);
	ringcast_pub_detach(pub);
}

START_TEST(retried_takeover_single)
{
	retried_takeover(0, false);
}
END_TEST

START_TEST(retried_takeover_multi)
{
	retried_takeover(RINGCAST_CREATE_MULTI_PUB, false);
}
END_TEST

/*
 * A takeover that records the epoch it ends and then fails (closed under
 * it, and not asked to reopen) leaves that record; the next takeover
 * rewrites it rather than adding a second one, which a reader of the old
 * epoch would find first.
 */
START_TEST(failed_takeover)
{
	retried_takeover(0, true);
}
END_TEST

/* ------------------------------------- a claim not committed gates others */

/*
 * A publisher of a multi-publisher ring holds sequence 0 claimed, not
 * committed (a reservation).  Another publisher may write up to a ring
 * past it and no further: sequence 64 shares its slot, and the late
 * commit of 0 would land on it.  Once 0 is committed the other goes on,
 * and a reader gets every event, each once, in order.
 */
START_TEST(claim_gates_peers)
{
	struct ringcast_ring_opts o = { .slots = 64, .slot_size = 64 };
	const char *name =
		t_ring_opts("claimfloor", &o, RINGCAST_CREATE_MULTI_PUB);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_pub *a, *b;
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	uint64_t i, v;
	void *buf;

	a = t_pub(name, 0);
	b = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_reserve(a, sizeof(v), &buf), 0);
	ck_assert_int_eq(ringcast_pub_set_timeout(b, 0), 0);
	for (i = 1; i < 64; i++)
		ck_assert_int_ge(ringcast_pub_publish(b, 2, &i, sizeof(i)), 0);
	ck_assert_int_eq(ringcast_pub_publish(b, 2, &i, sizeof(i)), -EAGAIN);
	v = 0;
	memcpy(buf, &v, sizeof(v));
	ck_assert_int_ge(ringcast_pub_commit(a, 1, sizeof(v)), 0);
	for (; i < 100; i++)
		ck_assert_int_ge(ringcast_pub_publish(b, 2, &i, sizeof(i)), 0);
	/* The newest ring of them is intact: 36 .. 99. */
	so.from = RINGCAST_FROM_SEQ;
	so.seq = 36;
	sub = t_sub(name, &so, NULL);
	for (i = 36; i < 100; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, i);
		memcpy(&v, ev.data, sizeof(v));
		ck_assert_uint_eq(v, i);
	}
	ringcast_sub_detach(sub);
	ringcast_pub_detach(b);
	ringcast_pub_detach(a);
}
END_TEST

/* -------------------------------------------- the claim generation */

/*
 * Every claim of a table entry gives its state word a new generation, so
 * a publisher's demotion, a compare-and-swap from the exact word it saw
 * stuck, cannot land on a subscriber that claimed the entry since.
 */
START_TEST(claim_generation)
{
	const char *name = t_ring("gen", 64, 64);
	struct ringcast_sub_opts o = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub *sub;
	uint32_t w1, w2;
	struct rc_hdr *h;
	struct rc_entry *e;
	size_t size;

	h = t_map(name, &size);
	e = (struct rc_entry *)((char *)h + h->table_off);
	sub = t_sub(name, &o, NULL);
	w1 = atomic_load(&e->state);
	ringcast_sub_detach(sub);
	sub = t_sub(name, &o, NULL);
	w2 = atomic_load(&e->state);
	ck_assert_uint_eq(RC_ENTRY_KIND(w1), RC_ENTRY_RELIABLE);
	ck_assert_uint_eq(RC_ENTRY_KIND(w2), RC_ENTRY_RELIABLE);
	ck_assert_msg(w1 != w2, "entry claimed twice with one state word %x",
		      w1);
	ringcast_sub_detach(sub);
	ck_assert_uint_eq(RC_ENTRY_KIND(atomic_load(&e->state)), RC_ENTRY_FREE);
	t_unmap(h, size);
}
END_TEST

static Suite *race_suite(void)
{
	Suite *s = suite_create("race");
	TCase *tc = tcase_create("race");

	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, attach_race);
	tcase_add_test(tc, join_keeps_limit);
	tcase_add_test(tc, scribbled_limit);
	tcase_add_test(tc, retried_takeover_single);
	tcase_add_test(tc, retried_takeover_multi);
	tcase_add_test(tc, failed_takeover);
	tcase_add_test(tc, claim_gates_peers);
	tcase_add_test(tc, claim_generation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(race_suite());
}
