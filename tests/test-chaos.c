// SPDX-License-Identifier: MIT
/*
 * Chaos: kill -9 the publisher and subscribers at random moments, restart
 * them, and check after every round that nothing was lost or leaked.
 *
 * One ring of 64 slots of 64 bytes, with a small data area (16 KiB: the
 * largest event 4 KiB), lives through every round, and the publisher
 * writes events of mixed sizes: most inline, a quarter spilled into the
 * data area, up to the largest (docs/design.md §8), published alone, in
 * batches that mix both, or reserved (in the data area, and committed
 * there or, shorter, into the slot).  A round starts a
 * publisher, two reliable subscribers (one of them slow, so the publisher
 * blocks on it), a lossy one and a churner that attaches and detaches in a
 * loop; then, for a random time, it SIGKILLs random ones of them at random
 * moments (each says in shared memory what it is doing: inside a reserve
 * before its commit, publishing, either of them with a spilled event,
 * waiting for an event, attaching, detaching) and starts a replacement at
 * once: a new publisher takes the
 * abandoned ring over, new subscribers attach (RINGCAST_SUB_RESUBSCRIBE:
 * they follow every takeover).  At the end of the round a publisher closes
 * the ring, every subscriber reads to the end of the stream, and the round
 * checks:
 *
 *   - no process hangs: each ends within T_CHILD_MS of being told to (a
 *     hang bound, not a timing claim);
 *   - reliable subscribers lost nothing: every event from their first on,
 *     in order, each payload, whatever its size, made of its sequence and
 *     length byte by byte (a torn or misplaced one fails), up to the
 *     head the closing publisher reported, which is at least every head a
 *     killed publisher had reported committed;
 *   - lossy subscribers: delivered + lost = cursor - first (no filter, so
 *     nothing skipped), through laps of the slots and of the data area,
 *     and they too reach the final head;
 *   - spilled events were published and read in the run;
 *   - no table entry leaks: ringcast_ring_get_subscribers() and
 *     ringcast_ring_stats.subscribers are back to 0 once every process is
 *     gone;
 *   - and, after the last round, nothing is left in /dev/shm.
 *
 * It prints the rounds run and the faults injected by kind.  CI runs about
 * RINGCAST_CHAOS_SECONDS (default 45) seconds; RINGCAST_CHAOS_ROUNDS=N
 * runs N rounds whatever the time (docs/operations.md, "Longer runs");
 * RINGCAST_CHAOS_SEED replays a run.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define SLOTS 64u
#define SLOT_SIZE 64u
#define CAPACITY (SLOT_SIZE - RINGCAST_SLOT_HEADER)
#define DATA (16u * 1024)
#define MAX_EVENT (DATA / 4)
/*
 * A reserved batch of 8, a fill record before it included, spans at most
 * half the data area (or the reservation is refused).
 */
#define RESERVE_MAX 800u

/* What a process is doing, for the fault tally. */
enum phase {
	PH_IDLE,
	PH_ATTACH,
	PH_PUBLISH, /* in a publish call: maybe blocked on a reliable one */
	PH_PUBLISH_SPILL, /* the same, of events of which one spills */
	PH_RESERVED, /* between reserve and commit */
	PH_RESERVED_SPILL, /* the same, reserved in the data area */
	PH_READ, /* in a read: maybe asleep in the wait */
	PH_DETACH,
	PH_NPHASES,
};

static const char *const phase_names[] = {
	"idle",	    "attach",
	"publish",  "publish (spilled)",
	"reserved", "reserved (spilled)",
	"read",	    "detach",
};

enum role {
	R_PUB,
	R_REL, /* reliable */
	R_SLOW, /* reliable, slow: the publisher blocks on it */
	R_LOSSY,
	R_CHURN, /* attaches and detaches in a loop */
	R_NROLES,
};

static const char *const role_names[] = {
	"publisher", "reliable", "slow reliable", "lossy", "churner",
};

/* Shared with the children (MAP_SHARED | MAP_ANONYMOUS). */
struct report {
	_Atomic int phase;
	_Atomic uint64_t committed; /* publisher: head after its last commit */
	_Atomic int stop; /* set by the test: finish the round */
	_Atomic int ready; /* publisher: attached */
	/* Events it published, or read, that spilled into the data area. */
	_Atomic uint64_t spilled;
	/* A subscriber's result, written before it exits 0. */
	uint64_t first, cursor, delivered, lost;
};

struct shared {
	struct report r[R_NROLES];
};

static struct shared *sh;
static const char *ring;
static uint64_t rng;

static void set_phase(enum role role, enum phase p)
{
	atomic_store_explicit(&sh->r[role].phase, p, memory_order_relaxed);
}

static void spin_us(unsigned int us)
{
	uint64_t end = t_now_ns() + us * 1000ull;

	while (t_now_ns() < end)
		;
}

/*
 * The payload of event seq, of len bytes: every byte a function of both,
 * so that a reader checks any size byte by byte.
 */
static void fill(uint64_t seq, uint32_t len, unsigned char *buf)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + len;
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static bool payload_ok(const struct ringcast_event *ev)
{
	unsigned char want[MAX_EVENT];

	if (ev->len < 1 || ev->len > MAX_EVENT || !ev->data)
		return false;
	fill(ev->seq, ev->len, want);
	return !memcmp(ev->data, want, ev->len);
}

/*
 * A length: inline (1 to the capacity) three times in four, else spilled,
 * log-uniform from just past the capacity to max.
 */
static uint32_t pick_len(uint64_t *seed, uint32_t max)
{
	uint64_t x = t_rand(seed);
	uint32_t b, lo, len, top = 31 - (uint32_t)__builtin_clz(max);

	if (x % 4)
		return 1 + (uint32_t)(x >> 8) % CAPACITY;
	/* Around 2^b, b from 6 to log2(max). */
	b = 6 + (uint32_t)(x >> 8) % (top - 5);
	lo = 1u << b;
	len = lo / 2 + (uint32_t)(x >> 16) % lo;
	if (len <= CAPACITY)
		len = CAPACITY + 1;
	return len > max ? max : len;
}

/* ---------------------------------------------------------------- children */

static int publisher(void *arg)
{
	struct report *me = &sh->r[R_PUB];
	uint64_t seed = (uint64_t)(uintptr_t)arg;
	struct ringcast_pub *pub = NULL;
	static unsigned char buf[8][MAX_EVENT];
	int r, tries;

	set_phase(R_PUB, PH_ATTACH);
	/* The lease of a killed publisher goes with its last descriptor. */
	for (tries = 0;; tries++) {
		r = ringcast_pub_attach(ring, RINGCAST_PUB_REOPEN, &pub);
		if (r != -EBUSY || tries > 20000)
			break;
		usleep(500);
	}
	CHILD_ASSERT_EQ(r, 0);
	atomic_store(&me->committed, ringcast_pub_head(pub));
	atomic_store(&me->ready, 1);
	while (!atomic_load(&me->stop)) {
		uint64_t head = ringcast_pub_head(pub), x = t_rand(&seed);
		struct ringcast_msg m[8];
		unsigned int i, n, spilled = 0;

		switch (x % 4) {
		case 0:
			/* A batch: inline and spilled events mixed. */
			n = 1 + (unsigned int)(x >> 8) % 8;
			for (i = 0; i < n; i++) {
				m[i] = (struct ringcast_msg){
					.type = 1,
					.len = pick_len(&seed, MAX_EVENT),
					.data = buf[i],
				};
				fill(head + i, m[i].len, buf[i]);
				spilled += m[i].len > CAPACITY;
			}
			set_phase(R_PUB,
				  spilled ? PH_PUBLISH_SPILL : PH_PUBLISH);
			r = ringcast_pub_publish_batch(pub, m, n);
			break;
		case 1: {
			/*
			 * A reserved event, or a reserved batch of up to 8,
			 * inline or in the data area; committed as long as
			 * reserved, or shorter (one reserved in the data area
			 * then goes into its slot if it fits).
			 */
			uint32_t len = pick_len(&seed, RESERVE_MAX);
			bool spill = len > CAPACITY;
			void *p[8];

			n = x & 0x200 ? 1 + (unsigned int)(x >> 24) % 8 : 1;
			set_phase(R_PUB, spill ? PH_PUBLISH_SPILL : PH_PUBLISH);
			r = n == 1 ? ringcast_pub_reserve(pub, len, p) :
				     ringcast_pub_reserve_batch(pub, n, len, p);
			if (r < 0)
				break;
			set_phase(R_PUB,
				  spill ? PH_RESERVED_SPILL : PH_RESERVED);
			for (i = 0; i < n; i++) {
				uint32_t l =
					x & 0x400 ?
						1 + (uint32_t)(x >> (i + 32)) %
								len :
						len;

				fill(head + i, l, p[i]);
				m[i] = (struct ringcast_msg){ .type = 1,
							      .len = l };
				spilled += l > CAPACITY;
			}
			/*
			 * Linger between reserve and commit now and then, and
			 * always in the data area, rarer: so that kills land
			 * there too.
			 */
			if ((x & 0x100) || spill)
				spin_us(50);
			r = n == 1 ? ringcast_pub_commit(pub, 1, m[0].len) :
				     ringcast_pub_commit_batch(pub, m, n);
			break;
		}
		default:
			m[0].len = pick_len(&seed, MAX_EVENT);
			spilled = m[0].len > CAPACITY;
			fill(head, m[0].len, buf[0]);
			set_phase(R_PUB,
				  spilled ? PH_PUBLISH_SPILL : PH_PUBLISH);
			r = ringcast_pub_publish(pub, 1, buf[0], m[0].len);
			break;
		}
		set_phase(R_PUB, PH_IDLE);
		CHILD_ASSERT(r >= 0);
		atomic_store(&me->committed, ringcast_pub_head(pub));
		atomic_fetch_add(&me->spilled, spilled);
		if ((x >> 16) % 64 == 0)
			usleep(200);
	}
	/* The end of the round: close at what was committed. */
	atomic_store(&me->committed, ringcast_pub_head(pub));
	me->cursor = ringcast_pub_head(pub);
	CHILD_ASSERT_EQ(ringcast_pub_close(pub), 0);
	return 0;
}

/* A reader of the whole round: reliable, slow reliable or lossy. */
static int reader(void *arg)
{
	enum role role = (enum role)(uintptr_t)arg;
	struct report *me = &sh->r[role];
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RESUBSCRIBE,
		.liveness_ns = 20 * 1000 * 1000,
	};
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t cursor, delivered = 0, lost = 0, first;
	int r;

	if (role != R_LOSSY)
		o.flags |= RINGCAST_SUB_RELIABLE;
	set_phase(role, PH_ATTACH);
	r = ringcast_sub_attach(ring, &o, &sub, &first);
	CHILD_ASSERT_EQ(r, 0);
	cursor = first;
	for (;;) {
		set_phase(role, PH_READ);
		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		set_phase(role, PH_IDLE);
		if (r == -EOVERFLOW) {
			CHILD_ASSERT(role == R_LOSSY);
			CHILD_ASSERT(ev.lost > 0);
			cursor += ev.lost;
			lost += ev.lost;
			continue;
		}
		if (r < 0)
			break;
		if (ev.seq != cursor || !payload_ok(&ev)) {
			fprintf(stderr,
				"%s %d: seq %llu (expected %llu), %u bytes, "
				"payload %s\n",
				role_names[role], (int)getpid(),
				(unsigned long long)ev.seq,
				(unsigned long long)cursor, ev.len,
				payload_ok(&ev) ? "ok" : "bad");
			_exit(1);
		}
		if (ev.len > CAPACITY)
			atomic_fetch_add(&me->spilled, 1);
		cursor++;
		delivered++;
		if (role == R_SLOW && ev.seq % 16 == 0)
			usleep(300);
	}
	/* Only the closing publisher ends a round: end of stream. */
	if (r != -EPIPE) {
		fprintf(stderr, "%s %d: stream ended with %s at %llu\n",
			role_names[role], (int)getpid(), ringcast_strerror(r),
			(unsigned long long)cursor);
		_exit(1);
	}
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.cursor, cursor);
	CHILD_ASSERT_EQ(st.delivered, delivered);
	CHILD_ASSERT_EQ(st.lost, lost);
	CHILD_ASSERT_EQ(st.skipped, 0);
	CHILD_ASSERT_EQ(st.delivered + st.lost, st.cursor - st.first);
	me->first = st.first;
	me->cursor = st.cursor;
	me->delivered = st.delivered;
	me->lost = st.lost;
	set_phase(role, PH_DETACH);
	ringcast_sub_detach(sub);
	return 0;
}

static int churner(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg;
	struct report *me = &sh->r[R_CHURN];

	while (!atomic_load(&me->stop)) {
		struct ringcast_sub_opts o = {
			.from = (uint32_t)(t_rand(&seed) % 2),
			.flags = t_rand(&seed) % 2 ? RINGCAST_SUB_RELIABLE : 0,
		};
		struct ringcast_event ev;
		struct ringcast_sub *sub;
		int i, r;

		set_phase(R_CHURN, PH_ATTACH);
		r = ringcast_sub_attach(ring, &o, &sub, NULL);
		set_phase(R_CHURN, PH_IDLE);
		CHILD_ASSERT(r == 0 || r == -EUSERS);
		if (r < 0)
			continue;
		for (i = 0; i < 8; i++) {
			set_phase(R_CHURN, PH_READ);
			r = ringcast_sub_next(sub, &ev, 2 * 1000 * 1000);
			set_phase(R_CHURN, PH_IDLE);
			if (r != 0 && r != -EOVERFLOW)
				break;
		}
		set_phase(R_CHURN, PH_DETACH);
		ringcast_sub_detach(sub);
		set_phase(R_CHURN, PH_IDLE);
	}
	return 0;
}

/* ---------------------------------------------------------------- the test */

struct chaos {
	pid_t pid[R_NROLES];
	uint64_t faults[R_NROLES][PH_NPHASES];
	uint64_t nfaults, rounds, violations;
	uint64_t pub_blocked; /* publisher killed in a publish, ring full */
	uint64_t sub_blocking; /* slowest reliable killed, ring full */
	uint64_t killed_committed; /* most a killed publisher reported */
	uint64_t spilled_pub, spilled_read; /* events in the data area */
};

static pid_t start(enum role role)
{
	memset(&sh->r[role], 0, sizeof(sh->r[role]));
	switch (role) {
	case R_PUB:
		return t_fork(publisher, (void *)(uintptr_t)(t_rand(&rng) | 1));
	case R_CHURN:
		return t_fork(churner, (void *)(uintptr_t)(t_rand(&rng) | 1));
	default:
		return t_fork(reader, (void *)(uintptr_t)role);
	}
}

static void violation(struct chaos *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(struct chaos *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "# round %llu: ", (unsigned long long)c->rounds);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	c->violations++;
}

/*
 * Is the ring full, held back by a reliable subscriber (the publisher is
 * blocked, or about to be)?  *slowest is set to its pid.
 */
static bool ring_full(pid_t *slowest)
{
	struct ringcast_ring_subscriber si[16];
	struct ringcast_ring_stats info;
	uint64_t low = UINT64_MAX;
	int i, n;

	*slowest = 0;
	if (ringcast_ring_get_stats(ring, &info) < 0)
		return false;
	n = ringcast_ring_get_subscribers(ring, si, 16);
	for (i = 0; i < n && i < 16; i++) {
		if (!(si[i].flags & RINGCAST_SUBSCRIBER_RELIABLE) ||
		    si[i].cursor >= low)
			continue;
		low = si[i].cursor;
		*slowest = si[i].pid;
	}
	return low != UINT64_MAX && info.head - low >= SLOTS;
}

/* Before its report is reused: the spilled events a process counted. */
static void tally_spilled(struct chaos *c, enum role role)
{
	uint64_t n = atomic_load(&sh->r[role].spilled);

	if (role == R_PUB)
		c->spilled_pub += n;
	else
		c->spilled_read += n;
}

static void kill_one(struct chaos *c, enum role role)
{
	int status;
	enum phase ph = atomic_load(&sh->r[role].phase);
	pid_t slowest;
	bool full = ring_full(&slowest);

	if (full && role == R_PUB && ph == PH_PUBLISH)
		c->pub_blocked++;
	if (full && slowest == c->pid[role])
		c->sub_blocking++;
	kill(c->pid[role], SIGKILL);
	status = t_wait(c->pid[role], T_CHILD_MS);
	c->pid[role] = 0;
	/* It may have ended by itself first (a failure it reported). */
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status)) {
		violation(c, "%s failed before it was killed",
			  role_names[role]);
		return;
	}
	if (role == R_PUB) {
		uint64_t k = atomic_load(&sh->r[R_PUB].committed);

		if (k > c->killed_committed)
			c->killed_committed = k;
	}
	tally_spilled(c, role);
	c->faults[role][ph]++;
	c->nfaults++;
}

static void round_check_sub(struct chaos *c, enum role role, uint64_t head)
{
	struct report *r = &sh->r[role];

	if (r->cursor != head)
		violation(c, "%s ended at %llu, the head is %llu",
			  role_names[role], (unsigned long long)r->cursor,
			  (unsigned long long)head);
	if (role != R_LOSSY && r->lost)
		violation(c, "%s lost %llu events", role_names[role],
			  (unsigned long long)r->lost);
	if (r->delivered + r->lost != r->cursor - r->first)
		violation(c, "%s: delivered %llu + lost %llu != %llu",
			  role_names[role], (unsigned long long)r->delivered,
			  (unsigned long long)r->lost,
			  (unsigned long long)(r->cursor - r->first));
}

/* Wait until the publisher has attached (or died trying). */
static void wait_ready(struct chaos *c)
{
	uint64_t end = t_now_ns() + T_CHILD_MS * 1000000ull;

	while (!atomic_load(&sh->r[R_PUB].ready)) {
		if (t_now_ns() > end ||
		    waitpid(c->pid[R_PUB], NULL, WNOHANG) == c->pid[R_PUB]) {
			violation(c, "the publisher did not attach");
			c->pid[R_PUB] = 0;
			return;
		}
		usleep(100);
	}
}

static void one_round(struct chaos *c)
{
	struct ringcast_ring_stats info;
	uint64_t end_ns, head;
	int role, kills, status, n;
	char buf[64];

	/*
	 * The publisher first, so that no reader starts on the ring the last
	 * round closed (it would find the end of stream at once).
	 */
	c->pid[R_PUB] = start(R_PUB);
	wait_ready(c);
	for (role = R_REL; role < R_NROLES; role++)
		c->pid[role] = start((enum role)role);

	end_ns = t_now_ns() + (20 + t_rand(&rng) % 100) * 1000000ull;
	kills = 1 + (int)(t_rand(&rng) % 3);
	while (kills-- > 0) {
		uint64_t at = t_now_ns() + (t_rand(&rng) % 30000) * 1000ull;

		while (t_now_ns() < at)
			usleep(100);
		role = (int)(t_rand(&rng) % R_NROLES);
		kill_one(c, (enum role)role);
		c->pid[role] = start((enum role)role);
	}
	while (t_now_ns() < end_ns)
		usleep(1000);

	/* Finish: the publisher closes, the readers drain to the end. */
	atomic_store(&sh->r[R_CHURN].stop, 1);
	atomic_store(&sh->r[R_PUB].stop, 1);
	for (role = 0; role < R_NROLES; role++) {
		status = t_wait(c->pid[role], T_CHILD_MS);
		c->pid[role] = 0;
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
			violation(c, "%s: %s", role_names[role],
				  t_describe_status(status, buf, sizeof(buf)));
		tally_spilled(c, (enum role)role);
	}
	head = sh->r[R_PUB].cursor;
	if (head < c->killed_committed)
		violation(c,
			  "closed at %llu, a killed publisher had "
			  "committed up to %llu",
			  (unsigned long long)head,
			  (unsigned long long)c->killed_committed);
	for (role = R_REL; role <= R_LOSSY; role++)
		round_check_sub(c, (enum role)role, head);

	/* Every process is gone: no entry may be left in use. */
	n = ringcast_ring_get_subscribers(ring, NULL, 0);
	if (n != 0)
		violation(c, "%d table entries left in use", n);
	if (ringcast_ring_get_stats(ring, &info) < 0 || info.subscribers ||
	    info.reliable)
		violation(c, "stat: %u subscribers, %u reliable left",
			  info.subscribers, info.reliable);
	c->rounds++;
}

START_TEST(test_chaos)
{
	uint64_t secs = t_env_u64("RINGCAST_CHAOS_SECONDS", 45);
	uint64_t rounds = t_env_u64("RINGCAST_CHAOS_ROUNDS", 0);
	uint64_t seed = t_env_u64("RINGCAST_CHAOS_SEED", 0);
	uint64_t deadline = t_now_ns() + secs * 1000000000ull;
	struct ringcast_ring_opts ro = {
		.slots = SLOTS,
		.slot_size = SLOT_SIZE,
		.data_size = DATA,
	};
	struct chaos c = { 0 };
	int role, ph;

	if (!seed)
		seed = t_now_ns() ^ (uint64_t)getpid() << 32;
	rng = seed | 1;
	printf("# chaos seed %llu (RINGCAST_CHAOS_SEED replays it)\n",
	       (unsigned long long)seed);
	sh = t_shared_alloc(sizeof(*sh));
	ring = t_ring_opts("chaos", &ro, 0);

	while (rounds ? c.rounds < rounds : t_now_ns() < deadline) {
		one_round(&c);
		if (c.violations)
			break;
	}
	printf("# chaos: %llu rounds, %llu faults injected, %llu violations\n",
	       (unsigned long long)c.rounds, (unsigned long long)c.nfaults,
	       (unsigned long long)c.violations);
	printf("#   of which: publisher killed in a publish on a full ring "
	       "%llu, slowest reliable subscriber killed on a full ring %llu\n",
	       (unsigned long long)c.pub_blocked,
	       (unsigned long long)c.sub_blocking);
	printf("#   spilled events: %llu published, %llu read\n",
	       (unsigned long long)c.spilled_pub,
	       (unsigned long long)c.spilled_read);
	for (role = 0; role < R_NROLES; role++) {
		printf("#   %-14s", role_names[role]);
		for (ph = 0; ph < PH_NPHASES; ph++)
			if (c.faults[role][ph])
				printf(" %s %llu", phase_names[ph],
				       (unsigned long long)c.faults[role][ph]);
		printf("\n");
	}
	fflush(stdout);
	ck_assert_msg(c.violations == 0, "%llu violations (stderr says which)",
		      (unsigned long long)c.violations);
	ck_assert_uint_gt(c.rounds, 0);
	/* Events of every size went through the data area. */
	ck_assert_uint_gt(c.spilled_pub, 0);
	ck_assert_uint_gt(c.spilled_read, 0);
	munmap(sh, sizeof(*sh));
	t_assert_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("chaos");
	uint64_t secs = t_env_u64("RINGCAST_CHAOS_SECONDS", 45);
	uint64_t rounds = t_env_u64("RINGCAST_CHAOS_ROUNDS", 0);

	/* Rounds take a fraction of a second; a round that hangs, minutes. */
	tcase_set_timeout(tc, rounds ? (double)rounds * 2 + 600 :
				       (double)secs + 600);
	t_add_cleanup(tc);
	tcase_add_test(tc, test_chaos);
	suite_add_tcase(s, tc);
	return t_main(s);
}
