// SPDX-License-Identifier: MIT
/*
 * harness.c - processes, clocks, verification and reports of one
 * measurement (see harness.h), shared by ringcast-bench and its peers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const double bench_quantiles[NQ] = {
	0.0, 0.05, 0.1,	 0.2,  0.3,  0.4,   0.5,   0.6,	   0.7,
	0.8, 0.9,  0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1.0,
};

/* What a subscriber process sends back; smaller than PIPE_BUF. */
struct sub_report {
	int32_t err;
	uint32_t idx;
	uint64_t received;
	uint64_t timed; /* received after the first timed message */
	uint64_t gaps;
	uint64_t declared;
	uint64_t bad;
	uint64_t t0, t1;
	double q[NQ];
	char msg[160];
};

_Static_assert(sizeof(struct sub_report) < 512, "report fits PIPE_BUF");

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* TSC ticks per nanosecond, over 20 ms of CLOCK_MONOTONIC. */
double tsc_calibrate(void)
{
	uint64_t c0, c1, t0, t1;

	t0 = now_ns();
	c0 = rdtsc();
	do
		t1 = now_ns();
	while (t1 - t0 < 20000000ull);
	c1 = rdtsc();
	return (double)(c1 - c0) / (double)(t1 - t0);
}

int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void bench_fail(struct bench_result *res, int status, const char *fmt, ...)
{
	va_list ap;

	if (res->status != RES_OK)
		return; /* the first reason is the one that counts */
	res->status = status;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

int pin_to_cpu(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	return 0;
}

uint64_t bench_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 &&
		    getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 1024;
	}
	return rl.rlim_cur;
}

static void child_setup(const struct bench_cfg *cfg, unsigned int cpu)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (cfg->pin)
		pin_to_cpu(cpu);
	if (cfg->mlock)
		mlockall(MCL_CURRENT | MCL_FUTURE);
}

static void __attribute__((noreturn))
child_exit(const struct transport *t, int status)
{
	if (t->flags & T_EXIT)
		exit(status);
	_exit(status);
}

/* ----------------------------------------------------------------------
 * Mixed workloads
 */

uint32_t *bench_mix_sizes;

uint32_t bench_mix_max(uint32_t mix)
{
	return mix == MIX_SMALL ? MIX_SMALL_MAX : MIX_MAX;
}

const char *bench_mix_name(uint32_t mix)
{
	return mix == MIX_MIXED ? "mixed" :
	       mix == MIX_SMALL ? "mixed-small" :
				  "fixed";
}

/* splitmix64: a seeded stream that is the same on every machine. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int bench_mix_init(uint32_t mix, uint32_t seed)
{
	double lo = MIX_MIN, span = log2((bench_mix_max(mix) + 1.0) / lo);
	uint64_t x = ((uint64_t)mix << 32) | seed;
	unsigned int i;

	if (!bench_mix_sizes) {
		bench_mix_sizes = malloc(MIX_LEN * sizeof(*bench_mix_sizes));
		if (!bench_mix_sizes)
			return -ENOMEM;
	}
	for (i = 0; i < MIX_LEN; i++) {
		/* u uniform in [0, 1): lo * 2^(u * span) in [lo, max + 1) */
		double u = (double)(splitmix64(&x) >> 11) * 0x1p-53;
		uint32_t len = (uint32_t)(lo * exp2(u * span));

		bench_mix_sizes[i] =
			len > bench_mix_max(mix) ? bench_mix_max(mix) : len;
	}
	return 0;
}

double bench_mix_mean(uint64_t from, uint64_t n)
{
	uint64_t i, lap = 0, part = 0, r = n % MIX_LEN;

	if (!n || !bench_mix_sizes)
		return 0;
	/* n = q laps of the sequence and r more, from @from on */
	for (i = 0; i < MIX_LEN; i++) {
		uint64_t len = bench_mix_sizes[(from + i) & (MIX_LEN - 1)];

		lap += len;
		if (i < r)
			part += len;
	}
	return ((double)lap * (double)(n / MIX_LEN) + (double)part) / (double)n;
}

/* ----------------------------------------------------------------------
 * Messages
 */

static void fill(void *buf, uint32_t size, uint64_t idx, uint64_t tsc)
{
	unsigned char *p = buf;
	uint64_t tail = idx ^ TAIL_MAGIC;

	memcpy(p, &idx, sizeof(idx));
	if (size >= 16)
		memcpy(p + 8, &tsc, sizeof(tsc));
	if (size >= 24)
		memcpy(p + size - 8, &tail, sizeof(tail));
}

/* The index of a message, or UINT64_MAX if it is not intact. */
static uint64_t check(const struct bench_cfg *cfg, const struct rx *m)
{
	const unsigned char *p = m->data;
	uint64_t idx, tail;
	size_t len;

	if (m->len < sizeof(idx) || m->len > cfg->size)
		return UINT64_MAX;
	memcpy(&idx, p, sizeof(idx));
	len = bench_msg_len(cfg, idx);
	if (m->len != len)
		return UINT64_MAX;
	if (len >= 24) {
		memcpy(&tail, p + len - 8, sizeof(tail));
		if (tail != (idx ^ TAIL_MAGIC))
			return UINT64_MAX;
	}
	return idx;
}

static uint64_t msg_tsc(const struct rx *m)
{
	uint64_t tsc;

	memcpy(&tsc, (const unsigned char *)m->data + 8, sizeof(tsc));
	return tsc;
}

/* Send message @idx alone (ping-pong, one-way). */
static int send_one(const struct transport *t, void *l,
		    const struct bench_cfg *cfg, void *buf, uint64_t idx)
{
	uint32_t len = bench_msg_len(cfg, idx);
	struct txmsg msg = { .type = 1, .len = len, .data = buf };
	/* Only one-way latency reads a clock per message. */
	uint64_t tsc = cfg->metric == METRIC_ONEWAY ? rdtsc() : 0;
	void *p;
	int ret;

	if (t->reserve) {
		ret = t->reserve(l, len, &p);
		if (ret < 0)
			return ret;
		fill(p, len, idx, tsc);
		return t->commit(l, len);
	}
	fill(buf, len, idx, tsc);
	return t->send(l, &msg, 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void quantiles(uint64_t *lat, uint64_t n, double tsc_per_ns, double *q)
{
	unsigned int i;

	if (!n)
		return;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	for (i = 0; i < NQ; i++) {
		uint64_t k =
			(uint64_t)(bench_quantiles[i] * (double)(n - 1) + 0.5);

		q[i] = (double)lat[k] / tsc_per_ns;
	}
}

/* ----------------------------------------------------------------------
 * Streams: throughput, fan-out, one-way latency
 */

static void __attribute__((noreturn))
sub_main(const struct transport *t, void *l, const struct bench_cfg *cfg,
	 unsigned int idx, int ready_fd, int report_fd, int hold_fd)
{
	uint64_t total = cfg->warm + cfg->count, expect = 0, *lat = NULL;
	bool oneway = cfg->metric == METRIC_ONEWAY, timing = false;
	struct sub_report rep = { .idx = idx };
	uint64_t nlat = 0;
	struct rx m;
	int ret;

	if (oneway) {
		lat = calloc(cfg->count ? cfg->count : 1, sizeof(*lat));
		if (!lat) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	ret = t->sub_open(l, idx);
	if (ret < 0) {
		snprintf(rep.msg, sizeof(rep.msg), "subscriber open: %s",
			 strerror(-ret));
		goto fail;
	}
	if (write_full(ready_fd, "R", 1) < 0)
		child_exit(t, 1);
	if (t->sub_sync) {
		ret = t->sub_sync(l, idx);
		if (ret < 0) {
			snprintf(rep.msg, sizeof(rep.msg),
				 "subscriber sync: %s", strerror(-ret));
			goto fail;
		}
	}

	for (;;) {
		uint64_t i, rx_tsc = 0;

		ret = t->recv(l, idx, &m);
		/* A clock read per message in one-way latency runs only. */
		if (oneway)
			rx_tsc = rdtsc();
		if (ret == -EPIPE)
			break;
		if (ret == -EOVERFLOW) {
			rep.declared += m.lost;
			continue;
		}
		if (ret < 0) {
			snprintf(rep.msg, sizeof(rep.msg),
				 "receive after %" PRIu64 " messages: %s",
				 rep.received, strerror(-ret));
			goto fail;
		}
		i = check(cfg, &m);
		if (oneway && i != UINT64_MAX && i >= cfg->warm &&
		    nlat < cfg->count)
			lat[nlat] = rx_tsc - msg_tsc(&m);
		if (t->release) {
			ret = t->release(l, idx, &m);
			if (ret == -EOVERFLOW) {
				/* Overwritten while we looked: discard. */
				rep.declared += m.lost;
				continue;
			}
			if (ret < 0) {
				snprintf(rep.msg, sizeof(rep.msg),
					 "release: %s", strerror(-ret));
				goto fail;
			}
		}
		if (i == UINT64_MAX || i < expect || i >= total) {
			rep.bad++;
			continue;
		}
		if (oneway && i >= cfg->warm && nlat < cfg->count)
			nlat++;
		rep.gaps += i - expect;
		expect = i + 1;
		rep.received++;
		if (timing) {
			rep.timed++;
			if (i == total - 1)
				rep.t1 = now_ns();
		} else if (i >= cfg->warm) {
			rep.t0 = now_ns();
			rep.t1 = rep.t0;
			timing = true;
		}
	}
	if (timing && expect < total)
		rep.t1 = now_ns(); /* the last ones were lost */
	rep.gaps += total - expect;
	if (oneway)
		quantiles(lat, nlat, cfg->tsc_per_ns, rep.q);
	/*
	 * Report, then stay until every subscriber has reported: a reader
	 * that is done must not detach and exit while others still read,
	 * or the run times process teardown with the deliveries (at
	 * N = 1024 on two CPUs, most of the run).
	 */
	write_full(report_fd, &rep, sizeof(rep));
	while (read(hold_fd, &rep, 1) < 0 && errno == EINTR)
		;
	t->sub_close(l, idx);
	t->destroy(l, false);
	free(lat);
	child_exit(t, 0);

fail:
	rep.err = ret < 0 ? ret : -EIO;
	if (!rep.msg[0])
		snprintf(rep.msg, sizeof(rep.msg), "%s", strerror(-rep.err));
	write_full(report_fd, &rep, sizeof(rep));
	child_exit(t, 1);
}

/* Wait up to @ms for @fd to be readable; -ETIMEDOUT or 0. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do
		ret = poll(&p, 1, ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

static void reap_all(pid_t *pids, unsigned int n, bool kill_them)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		if (pids[k] <= 0)
			continue;
		if (kill_them)
			kill(pids[k], SIGKILL);
		while (waitpid(pids[k], NULL, 0) < 0 && errno == EINTR)
			;
		pids[k] = 0;
	}
}

static int publish_stream(const struct transport *t, void *l,
			  const struct bench_cfg *cfg)
{
	uint64_t total = cfg->warm + cfg->count, i = 0, next;
	struct txmsg msgs[MAX_BATCH];
	uint32_t batch = cfg->batch ? cfg->batch : 1, k;
	unsigned char *bufs;
	uint64_t interval = 0;
	int ret = 0;

	/* A reserved batch has one length: mixed sizes reserve one by one. */
	if (cfg->metric == METRIC_ONEWAY ||
	    (t->reserve && (!t->reserve_batch || cfg->mix)))
		batch = 1;
	if (batch > MAX_BATCH)
		batch = MAX_BATCH;
	if (t->reserve_batch && batch > 1) {
		/* A reservation is at most three quarters of the ring. */
		uint32_t slot_size, slots = bench_ring_geometry(
					    cfg->metric, cfg->size, &slot_size);

		if (batch > slots / 2)
			batch = slots / 2;
	}
	bufs = calloc(batch, cfg->size);
	if (!bufs)
		return -ENOMEM;
	for (k = 0; k < batch; k++)
		msgs[k] =
			(struct txmsg){ .type = 1,
					.len = cfg->size,
					.data = bufs + (size_t)k * cfg->size };
	if (cfg->metric == METRIC_ONEWAY && cfg->rate)
		interval = 1000000000ull / cfg->rate;
	next = now_ns();

	while (i < total) {
		uint32_t n = total - i < batch ? (uint32_t)(total - i) : batch;

		if (interval) {
			struct timespec ts;

			next += interval;
			ts.tv_sec = (time_t)(next / 1000000000ull);
			ts.tv_nsec = (long)(next % 1000000000ull);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					       &ts, NULL) == EINTR)
				;
		}
		if (n == 1) {
			ret = send_one(t, l, cfg, bufs, i);
		} else if (t->reserve_batch) {
			void *p[MAX_BATCH];

			ret = t->reserve_batch(l, n, cfg->size, p);
			if (ret < 0)
				break;
			for (k = 0; k < n; k++)
				fill(p[k], cfg->size, i + k, 0);
			ret = t->commit_batch(l, n, cfg->size);
		} else {
			for (k = 0; k < n; k++) {
				msgs[k].len = bench_msg_len(cfg, i + k);
				fill(bufs + (size_t)k * cfg->size, msgs[k].len,
				     i + k, 0);
			}
			ret = t->send(l, msgs, n);
		}
		if (ret < 0)
			break;
		i += n;
	}
	free(bufs);
	return ret;
}

/* The churners' shared words: what they are to do, and what they did. */
struct churn_ctl {
	_Atomic uint32_t cmd; /* CHURN_OFF, CHURN_ON, CHURN_STOP */
	_Atomic uint32_t failed;
	_Atomic uint64_t cycles;
	char msg[160];
};

enum { CHURN_OFF, CHURN_ON, CHURN_STOP };

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/*
 * A churner: while told to, attach and detach a subscriber every
 * CHURN_EVERY_NS; otherwise look again every tenth of that.
 */
static void __attribute__((noreturn))
churner(const struct transport *t, void *l, struct churn_ctl *ctl)
{
	uint64_t next = now_ns();
	unsigned int round = 0;
	uint32_t cmd;
	int ret;

	while ((cmd = atomic_load(&ctl->cmd)) != CHURN_STOP) {
		if (cmd == CHURN_OFF) {
			next = now_ns() + CHURN_EVERY_NS / 10;
			sleep_until(next);
			continue;
		}
		ret = t->churn(l, round++);
		if (ret < 0) {
			if (!atomic_exchange(&ctl->failed, 1))
				snprintf(ctl->msg, sizeof(ctl->msg),
					 "churn: %s", strerror(-ret));
			child_exit(t, 1);
		}
		atomic_fetch_add(&ctl->cycles, 1);
		next += CHURN_EVERY_NS;
		sleep_until(next);
	}
	child_exit(t, 0);
}

/*
 * The churn metric's publisher: one event per call at cfg->rate, each
 * call timed; churn on in the odd phases of the timed events.
 */
static int publish_churn(const struct transport *t, void *l,
			 const struct bench_cfg *cfg, struct churn_ctl *ctl,
			 struct bench_result *res)
{
	uint64_t total = cfg->warm + cfg->count, i, next, interval;
	uint64_t phase = cfg->count / CHURN_PHASES ? cfg->count / CHURN_PHASES :
						     1;
	uint64_t *lat[2] = { NULL, NULL }, nlat[2] = { 0, 0 };
	double q[2][NQ];
	unsigned char *buf;
	int ret = -ENOMEM;

	buf = calloc(1, cfg->size);
	lat[0] = calloc(cfg->count + 1, sizeof(*lat[0]));
	lat[1] = calloc(cfg->count + 1, sizeof(*lat[1]));
	if (!buf || !lat[0] || !lat[1])
		goto out_free;
	interval = 1000000000ull / (cfg->rate ? cfg->rate : 10000);
	next = now_ns();
	for (i = 0; i < total; i++) {
		bool on = i >= cfg->warm && ((i - cfg->warm) / phase) % 2;
		uint64_t c0;

		atomic_store(&ctl->cmd, on ? CHURN_ON : CHURN_OFF);
		next += interval;
		sleep_until(next);
		c0 = rdtsc();
		ret = send_one(t, l, cfg, buf, i);
		if (ret < 0)
			break;
		if (i >= cfg->warm)
			lat[on][nlat[on]++] = rdtsc() - c0;
	}
	atomic_store(&ctl->cmd, CHURN_STOP);
	if (ret < 0)
		goto out_free;
	memset(q, 0, sizeof(q));
	quantiles(lat[0], nlat[0], cfg->tsc_per_ns, q[0]);
	quantiles(lat[1], nlat[1], cfg->tsc_per_ns, q[1]);
	/* bench_quantiles[13] is 0.99, [6] the median. */
	res->q[CHURN_Q_P99_QUIET] = q[0][13];
	res->q[CHURN_Q_P99_CHURN] = q[1][13];
	res->q[CHURN_Q_P50_QUIET] = q[0][6];
	res->q[CHURN_Q_P50_CHURN] = q[1][6];
	res->value = q[0][13] > 0 ? q[1][13] / q[0][13] : 0;
out_free:
	free(lat[1]);
	free(lat[0]);
	free(buf);
	return ret;
}

static void run_stream(const struct transport *t, const struct bench_cfg *cfg,
		       struct bench_result *res)
{
	unsigned int n = cfg->nsubs, k, ncpu, got = 0;
	int ready[2], report[2], hold[2] = { -1, -1 }, ret;
	uint64_t t0 = UINT64_MAX, t1 = 0, timed = 0;
	pid_t pids[MAX_SUBS + CHURN_PROCS] = { 0 };
	bool churn = cfg->metric == METRIC_CHURN;
	struct churn_ctl *ctl = NULL;
	unsigned int nchurn = churn ? CHURN_PROCS : 0;
	struct sub_report rep;
	char c;
	void *l;

	ncpu = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	if (churn) {
		ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (ctl == MAP_FAILED) {
			bench_fail(res, RES_FAIL, "mmap: %s", strerror(errno));
			return;
		}
	}
	ret = t->create(&l, cfg, cfg->tag, n);
	if (ret < 0) {
		bench_fail(res, RES_FAIL, "create: %s", strerror(-ret));
		goto out_unmap;
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0 ||
	    pipe2(hold, O_CLOEXEC) < 0) {
		bench_fail(res, RES_FAIL, "pipe: %s", strerror(errno));
		goto out_destroy;
	}
	for (k = 0; k < n; k++) {
		pids[k] = fork();
		if (pids[k] < 0) {
			bench_fail(res, RES_FAIL, "fork: %s", strerror(errno));
			goto out_kill;
		}
		if (pids[k] == 0) {
			close(ready[0]);
			close(report[0]);
			close(hold[1]);
			child_setup(cfg, ncpu > 1 ? 1 + k % (ncpu - 1) : 0);
			sub_main(t, l, cfg, k, ready[1], report[1], hold[0]);
		}
	}
	close(ready[1]);
	close(report[1]);
	ready[1] = report[1] = -1;
	for (k = 0; k < n; k++) {
		ret = wait_readable(ready[0], (int)cfg->timeout_s * 1000);
		if (!ret)
			ret = read_full(ready[0], &c, 1);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		/* A subscriber failed to open: its report says why. */
		if (!wait_readable(report[0], 1000) &&
		    !read_full(report[0], &rep, sizeof(rep)))
			bench_fail(res, RES_FAIL, "%s", rep.msg);
		else
			bench_fail(res, RES_FAIL,
				   "a subscriber never got ready");
		goto out_kill;
	}
	/* The churners: idle until publish_churn() turns them on. */
	for (k = n; k < n + nchurn; k++) {
		pids[k] = fork();
		if (pids[k] < 0) {
			bench_fail(res, RES_FAIL, "fork: %s", strerror(errno));
			goto out_kill;
		}
		if (pids[k] == 0) {
			close(ready[0]);
			close(report[0]);
			close(hold[1]);
			child_setup(cfg, ncpu > 1 ? 1 + k % (ncpu - 1) : 0);
			churner(t, l, ctl);
		}
	}
	if (cfg->pin)
		pin_to_cpu(0);
	ret = t->pub_open(l);
	if (ret < 0) {
		bench_fail(res, RES_FAIL, "publisher open: %s", strerror(-ret));
		goto out_kill;
	}
	if (t->pub_sync) {
		ret = t->pub_sync(l);
		if (ret < 0) {
			bench_fail(res, RES_FAIL, "publisher sync: %s",
				   strerror(-ret));
			goto out_kill;
		}
	}
	ret = churn ? publish_churn(t, l, cfg, ctl, res) :
		      publish_stream(t, l, cfg);
	if (ret < 0) {
		bench_fail(res, RES_FAIL, "publish: %s", strerror(-ret));
		t->pub_close(l);
		goto out_kill;
	}
	ret = t->pub_close(l);
	if (ret < 0 && ret != -EPIPE)
		bench_fail(res, RES_FAIL, "publisher close: %s",
			   strerror(-ret));
	if (t->stats)
		t->stats(l, res);

	for (got = 0; got < n; got++) {
		if (wait_readable(report[0], (int)cfg->timeout_s * 1000) < 0 ||
		    read_full(report[0], &rep, sizeof(rep)) < 0) {
			bench_fail(res, RES_FAIL,
				   "%u of %u subscribers never reported",
				   n - got, n);
			goto out_kill;
		}
		if (rep.err) {
			bench_fail(res, RES_FAIL, "subscriber %u: %s", rep.idx,
				   rep.msg);
			continue;
		}
		res->received += rep.received;
		res->lost += rep.gaps;
		res->declared += rep.declared;
		res->bad += rep.bad;
		timed += rep.timed;
		if (rep.t0 && rep.t0 < t0)
			t0 = rep.t0;
		if (rep.t1 > t1)
			t1 = rep.t1;
		if (cfg->metric == METRIC_ONEWAY)
			memcpy(res->q, rep.q, sizeof(res->q));
	}
	/* Every subscriber reported: let them detach and exit. */
	close(hold[1]);
	hold[1] = -1;
	reap_all(pids, n + nchurn, false);
	if (churn) {
		res->q[CHURN_Q_CYCLES] = (double)atomic_load(&ctl->cycles);
		if (atomic_load(&ctl->failed))
			bench_fail(res, RES_FAIL, "%s", ctl->msg);
	}
	if (res->bad)
		bench_fail(res, RES_FAIL,
			   "%" PRIu64 " messages corrupted or out of order",
			   res->bad);
	if (cfg->metric == METRIC_ONEWAY) {
		res->value = res->q[6]; /* the median */
		if (res->status == RES_OK && res->received <= cfg->warm)
			bench_fail(res, RES_FAIL, "nothing timed");
	} else if (churn) {
		if (res->status == RES_OK && !(res->value > 0))
			bench_fail(res, RES_FAIL, "nothing timed");
	} else if (t1 > t0 && timed) {
		res->value = (double)timed * 1e9 / (double)(t1 - t0);
	} else if (res->status == RES_OK) {
		bench_fail(res, RES_FAIL, "nothing timed (%" PRIu64 " lost)",
			   res->lost);
	}
	goto out_close;

out_kill:
	if (ctl)
		atomic_store(&ctl->cmd, CHURN_STOP);
	reap_all(pids, n + nchurn, true);
out_close:
	close(ready[0]);
	close(report[0]);
	close(hold[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	if (report[1] >= 0)
		close(report[1]);
	if (hold[1] >= 0)
		close(hold[1]);
out_destroy:
	t->destroy(l, true);
out_unmap:
	if (ctl)
		munmap(ctl, sizeof(*ctl));
}

uint32_t bench_ring_geometry(uint32_t metric, uint32_t size,
			     uint32_t *slot_size)
{
	uint32_t slots = metric == METRIC_PINGPONG || metric == METRIC_ONEWAY ?
				 4096 :
				 STREAM_SLOTS;
	uint64_t slot = 64;

	while (slot < (uint64_t)size + 32)
		slot <<= 1;
	while (slots > 16 && slots * slot > RING_BYTES_MAX)
		slots /= 2;
	*slot_size = (uint32_t)slot;
	return slots;
}

uint64_t bench_data_geometry(uint32_t mix, uint32_t size)
{
	uint64_t d = MIX_DATA_BYTES;

	while (!mix && d < 16ull * size)
		d <<= 1;
	return d;
}

/* ----------------------------------------------------------------------
 * Ping-pong: two links, RTT/2
 */

uint64_t pingpong_deadline(const struct bench_cfg *cfg)
{
	if (!cfg->limit_ms)
		return UINT64_MAX;
	return rdtsc() + (uint64_t)(cfg->limit_ms * 1e6 * cfg->tsc_per_ns);
}

double pingpong_value(const struct bench_cfg *cfg, uint64_t trips,
		      uint64_t t_begin, uint64_t t0, uint64_t t1)
{
	/* Stopped by the limit before the warm-up ended: time them all. */
	if (trips <= cfg->warm)
		return trips ? (double)(t1 - t_begin) / (double)trips / 2 : 0;
	return (double)(t1 - t0) / (double)(trips - cfg->warm) / 2;
}

static void __attribute__((noreturn))
ponger(const struct transport *t, void *fwd, void *back,
       const struct bench_cfg *cfg, int ctl)
{
	unsigned char *buf;
	uint64_t expect = 0;
	struct rx m;
	char c;
	int ret;

	buf = calloc(1, cfg->size);
	if (!buf)
		child_exit(t, 1);
	ret = t->sub_open(fwd, 0);
	if (ret < 0 || write_full(ctl, "S", 1) < 0)
		goto fail;
	if (read_full(ctl, &c, 1) < 0)
		goto fail;
	ret = t->pub_open(back);
	if (!ret && t->sub_sync)
		ret = t->sub_sync(fwd, 0);
	if (!ret && t->pub_sync)
		ret = t->pub_sync(back);
	if (ret < 0 || write_full(ctl, "R", 1) < 0)
		goto fail;
	for (;;) {
		uint64_t i;

		ret = t->recv(fwd, 0, &m);
		if (ret == -EPIPE)
			break;
		if (ret < 0)
			goto fail;
		i = check(cfg, &m);
		if (t->release && t->release(fwd, 0, &m) < 0)
			goto fail;
		if (i != expect)
			goto fail;
		expect++;
		ret = send_one(t, back, cfg, buf, i);
		if (ret < 0)
			goto fail;
	}
	t->pub_close(back);
	t->sub_close(fwd, 0);
	t->destroy(fwd, false);
	t->destroy(back, false);
	free(buf);
	child_exit(t, 0);
fail:
	child_exit(t, 1);
}

static void run_pingpong(const struct transport *t, const struct bench_cfg *cfg,
			 struct bench_result *res)
{
	uint64_t total = cfg->warm + cfg->count, i, t0 = 0, t1, t_begin = 0;
	uint64_t deadline;
	void *fwd = NULL, *back = NULL;
	char tag[64], c;
	unsigned char *buf;
	int ctl[2], ret, status;
	struct rx m;
	pid_t pid;

	buf = calloc(1, cfg->size);
	if (!buf) {
		bench_fail(res, RES_FAIL, "out of memory");
		return;
	}
	snprintf(tag, sizeof(tag), "%s-f", cfg->tag);
	ret = t->create(&fwd, cfg, tag, 1);
	if (ret < 0)
		goto err_create;
	snprintf(tag, sizeof(tag), "%s-b", cfg->tag);
	ret = t->create(&back, cfg, tag, 1);
	if (ret < 0)
		goto err_create;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
		bench_fail(res, RES_FAIL, "socketpair: %s", strerror(errno));
		goto out_destroy;
	}
	pid = fork();
	if (pid < 0) {
		bench_fail(res, RES_FAIL, "fork: %s", strerror(errno));
		goto out_ctl;
	}
	if (pid == 0) {
		close(ctl[0]);
		child_setup(cfg, 1);
		ponger(t, fwd, back, cfg, ctl[1]);
	}
	close(ctl[1]);
	ctl[1] = -1;
	if (cfg->pin)
		pin_to_cpu(0);
	if (wait_readable(ctl[0], (int)cfg->timeout_s * 1000) < 0 ||
	    read_full(ctl[0], &c, 1) < 0) {
		bench_fail(res, RES_FAIL, "the ponger never got ready");
		goto out_kill;
	}
	ret = t->sub_open(back, 0);
	if (!ret)
		ret = t->pub_open(fwd);
	if (ret < 0 || write_full(ctl[0], "G", 1) < 0) {
		bench_fail(res, RES_FAIL, "open: %s", strerror(-ret));
		goto out_kill;
	}
	ret = t->sub_sync ? t->sub_sync(back, 0) : 0;
	if (!ret && t->pub_sync)
		ret = t->pub_sync(fwd);
	if (ret < 0 || wait_readable(ctl[0], (int)cfg->timeout_s * 1000) < 0 ||
	    read_full(ctl[0], &c, 1) < 0) {
		bench_fail(res, RES_FAIL, "sync: %s",
			   ret < 0 ? strerror(-ret) : "the ponger failed");
		goto out_kill;
	}

	t_begin = now_ns();
	deadline = pingpong_deadline(cfg);
	for (i = 0; i < total; i++) {
		uint64_t j;

		if (i == cfg->warm)
			t0 = now_ns();
		/* A loaded machine may make trips slow: stop in time. */
		if (!(i & 15) && rdtsc() > deadline)
			break;
		ret = send_one(t, fwd, cfg, buf, i);
		if (ret < 0) {
			bench_fail(res, RES_FAIL, "send %" PRIu64 ": %s", i,
				   strerror(-ret));
			goto out_kill;
		}
		ret = t->recv(back, 0, &m);
		if (ret < 0) {
			bench_fail(res, RES_FAIL, "receive %" PRIu64 ": %s", i,
				   strerror(-ret));
			goto out_kill;
		}
		j = check(cfg, &m);
		if (t->release && t->release(back, 0, &m) < 0)
			j = UINT64_MAX;
		if (j != i) {
			bench_fail(res, RES_FAIL,
				   "reply %" PRIu64
				   " corrupted or out of order",
				   i);
			res->bad++;
			goto out_kill;
		}
		res->received++;
	}
	t1 = now_ns();
	res->value = pingpong_value(cfg, i, t_begin, t0, t1);
	t->pub_close(fwd);
	/* Drain the ponger's end of stream. */
	while ((ret = t->recv(back, 0, &m)) == 0)
		if (t->release)
			t->release(back, 0, &m);
	t->sub_close(back, 0);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bench_fail(res, RES_FAIL, "the ponger failed");
	goto out_ctl;

out_kill:
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out_ctl:
	close(ctl[0]);
	if (ctl[1] >= 0)
		close(ctl[1]);
out_destroy:
	if (back)
		t->destroy(back, true);
	if (fwd)
		t->destroy(fwd, true);
	free(buf);
	return;

err_create:
	bench_fail(res, RES_FAIL, "create: %s", strerror(-ret));
	goto out_destroy;
}

void bench_run(const struct transport *t, const struct bench_cfg *cfg,
	       struct bench_result *res)
{
	char why[200];
	const char *skip;

	memset(res, 0, sizeof(*res));
	res->wakes_per_event = -1;
	/* A channel per subscriber: two descriptors each (t_fd.c). */
	bench_raise_nofile();
	skip = t->skip ? t->skip(cfg, why, sizeof(why)) : NULL;
	if (skip) {
		bench_fail(res, RES_SKIP, "%s", skip);
		return;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cfg->mlock && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		bench_fail(res, RES_FAIL, "mlockall: %s", strerror(errno));
		return;
	}
	if (t->run) {
		if (cfg->pin)
			pin_to_cpu(0);
		t->run(cfg, res);
		return;
	}
	if (cfg->metric == METRIC_CHURN && !t->churn) {
		bench_fail(res, RES_SKIP,
			   "no subscriber to attach and detach alone");
		return;
	}
	if (cfg->nsubs < 1 || cfg->nsubs > MAX_SUBS || cfg->size < 8 ||
	    (cfg->metric == METRIC_ONEWAY && cfg->size < 16) ||
	    cfg->mix >= MIX_COUNT ||
	    (cfg->mix && (cfg->size != bench_mix_max(cfg->mix) ||
			  cfg->metric == METRIC_PINGPONG ||
			  cfg->metric == METRIC_ONEWAY))) {
		bench_fail(res, RES_SKIP, "unsupported configuration");
		return;
	}
	if (cfg->mix && bench_mix_init(cfg->mix, cfg->seed) < 0) {
		bench_fail(res, RES_FAIL, "out of memory");
		return;
	}
	if (cfg->metric == METRIC_PINGPONG)
		run_pingpong(t, cfg, res);
	else
		run_stream(t, cfg, res);
}

/* ----------------------------------------------------------------------
 * Results and configurations as text (peer <-> driver)
 */

void bench_result_print(const struct bench_result *res, int fd)
{
	char line[1024];
	int n, i;

	n = snprintf(line, sizeof(line),
		     "RESULT status=%d value=%.6g received=%" PRIu64
		     " lost=%" PRIu64 " declared=%" PRIu64 " bad=%" PRIu64
		     " wakes=%.6g q=",
		     res->status, res->value, res->received, res->lost,
		     res->declared, res->bad, res->wakes_per_event);
	for (i = 0; i < NQ; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%.6g",
			      i ? "," : "", res->q[i]);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " reason=%s\n",
		      res->reason);
	if (n >= (int)sizeof(line)) {
		line[sizeof(line) - 2] = '\n';
		n = sizeof(line) - 1;
	}
	write_full(fd, line, (size_t)n);
}

int bench_result_parse(const char *line, struct bench_result *res)
{
	const char *p = strstr(line, "RESULT ");
	const char *r;
	int i, n;

	memset(res, 0, sizeof(*res));
	if (!p)
		return -EINVAL;
	if (sscanf(p,
		   "RESULT status=%d value=%lg received=%" SCNu64
		   " lost=%" SCNu64 " declared=%" SCNu64 " bad=%" SCNu64
		   " wakes=%lg q=%n",
		   &res->status, &res->value, &res->received, &res->lost,
		   &res->declared, &res->bad, &res->wakes_per_event, &n) != 7)
		return -EINVAL;
	p += n;
	for (i = 0; i < NQ; i++) {
		if (sscanf(p, "%lg%n", &res->q[i], &n) != 1)
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	r = strstr(p, " reason=");
	if (!r)
		return -EINVAL;
	snprintf(res->reason, sizeof(res->reason), "%s", r + 8);
	res->reason[strcspn(res->reason, "\n")] = 0;
	return 0;
}

int bench_cfg_to_args(const struct bench_cfg *cfg, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "metric=%u size=%u nsubs=%u batch=%u count=%" PRIu64
			 " warm=%" PRIu64 " rate=%u busy=%d pin=%d mlock=%d "
			 "tsc=%.9g timeout=%u limit=%u mix=%u seed=%u tag=%s",
			 cfg->metric, cfg->size, cfg->nsubs, cfg->batch,
			 cfg->count, cfg->warm, cfg->rate, cfg->busy, cfg->pin,
			 cfg->mlock, cfg->tsc_per_ns, cfg->timeout_s,
			 cfg->limit_ms, cfg->mix, cfg->seed, cfg->tag);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* argv: transport name, then key=value words as bench_cfg_to_args(). */
int bench_cfg_parse(int argc, char **argv, struct bench_cfg *cfg,
		    const char **transport)
{
	int i, busy = 0, pin = 0, mlk = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (argc < 2)
		return -EINVAL;
	*transport = argv[1];
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (sscanf(a, "metric=%u", &cfg->metric) == 1 ||
		    sscanf(a, "size=%u", &cfg->size) == 1 ||
		    sscanf(a, "nsubs=%u", &cfg->nsubs) == 1 ||
		    sscanf(a, "batch=%u", &cfg->batch) == 1 ||
		    sscanf(a, "count=%" SCNu64, &cfg->count) == 1 ||
		    sscanf(a, "warm=%" SCNu64, &cfg->warm) == 1 ||
		    sscanf(a, "rate=%u", &cfg->rate) == 1 ||
		    sscanf(a, "busy=%d", &busy) == 1 ||
		    sscanf(a, "pin=%d", &pin) == 1 ||
		    sscanf(a, "mlock=%d", &mlk) == 1 ||
		    sscanf(a, "tsc=%lg", &cfg->tsc_per_ns) == 1 ||
		    sscanf(a, "timeout=%u", &cfg->timeout_s) == 1 ||
		    sscanf(a, "limit=%u", &cfg->limit_ms) == 1 ||
		    sscanf(a, "mix=%u", &cfg->mix) == 1 ||
		    sscanf(a, "seed=%u", &cfg->seed) == 1)
			continue;
		if (!strncmp(a, "tag=", 4)) {
			snprintf(cfg->tag, sizeof(cfg->tag), "%s", a + 4);
			continue;
		}
		return -EINVAL;
	}
	cfg->busy = busy;
	cfg->pin = pin;
	cfg->mlock = mlk;
	if (cfg->metric >= METRIC_COUNT || !cfg->tag[0] || !cfg->nsubs ||
	    cfg->tsc_per_ns <= 0)
		return -EINVAL;
	return 0;
}
