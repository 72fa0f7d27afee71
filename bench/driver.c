// SPDX-License-Identifier: MIT
/*
 * ringcast-bench - ringcast against pipes, Unix sockets, POSIX message
 * queues, eventfd-notified shared memory, ZeroMQ and iceoryx, next to the
 * machine's physical limit and a bare ring: one table, one command.
 *
 * Metrics (one harness each, every transport plugged in; harness.h):
 *
 *   throughput         1 publisher -> 1 subscriber process, per payload
 *                      size: messages/s (and MB/s)
 *   latency-pingpong   RTT/2 through two channels, busy readers, per
 *                      payload size up to 1 KiB
 *   latency-oneway-pX  one-way latency at a fixed rate (--rate) with each
 *                      transport's own readers (sleeping ones but for the
 *                      busy rows), TSC-timed: p50, p90, p99, p99.9, max
 *   fanout             1 publisher -> N subscriber processes, 64 B,
 *                      sleeping readers (busy ones only while N + 1 fits
 *                      the CPUs): deliveries/s in total
 *
 * Workloads: the sizes above ("fixed"), and in throughput and fan-out
 * "mixed" and "mixed-small": one seeded sequence of log-uniform sizes
 * (16 B to 64 KiB, or to 1 KiB) that every transport replays (harness.h),
 * reported in events/s and bytes/s.
 *
 * Method.  Each measured run is a fresh set of processes: a runner (the
 * publisher) forked from here, or the peer executable for ZeroMQ and
 * iceoryx, found next to this program.  Repetitions are interleaved: one
 * repetition runs every configuration with every transport, then the next
 * one starts, so that a change in the machine's load hits every row alike;
 * ratios are taken pair by pair within a repetition, then summarised as
 * median and min-max.  Before the first repetition every row runs once to
 * warm up and to size its runs (about --time seconds each); that run is
 * not counted.  Every message is verified (harness.h): a row that lost
 * messages says so, and its rate counts delivered messages only; a row
 * that corrupted or reordered one fails.  Before each repetition the
 * harness samples the CPU use of the rest of the machine for a moment
 * (/proc/stat while it runs nothing) and prints it, with what the rest of
 * the machine used during the repetition.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"

/*
 * What a run leaves behind when it dies before its own clean-up (killed at
 * its deadline, or by a signal that reached every process): the names of
 * its rings, queues and sockets, all derived from the run's tag.  They are
 * worked out before the run starts, so that the signal handler only has
 * to call unlink() and mq_unlink().
 */
#define CLEAN_MAX (3 * (3 + MAX_SUBS))

static char clean_name[CLEAN_MAX][128];
static bool clean_is_mq[CLEAN_MAX];
static unsigned int clean_n;
static volatile pid_t run_pid;

static char *clean_add(bool mq)
{
	clean_is_mq[clean_n] = mq;
	return clean_name[clean_n++];
}

static void clean_prepare(const char *tag, unsigned int nsubs)
{
	static const char *const sfx[] = { "", "-f", "-b" };
	const size_t len = sizeof(clean_name[0]);
	char t[80];
	unsigned int i, k;

	clean_n = 0;
	for (i = 0; i < 3; i++) {
		snprintf(t, sizeof(t), "%s%s", tag, sfx[i]);
		snprintf(clean_add(false), len, "/dev/shm/ringcast.%s", t);
		snprintf(clean_add(false), len, "/dev/shm/ringcast-lock.%s", t);
		snprintf(clean_add(false), len, "/tmp/%s.ipc", t);
		for (k = 0; k < nsubs && k < MAX_SUBS; k++)
			snprintf(clean_add(true), len, "/%s-%u", t, k);
	}
}

/* Async-signal-safe: unlink() and mq_unlink() of names made beforehand. */
static void clean_run(void)
{
	unsigned int i;

	for (i = 0; i < clean_n; i++) {
		if (clean_is_mq[i])
			mq_unlink(clean_name[i]);
		else
			unlink(clean_name[i]);
	}
}

static void on_signal(int sig)
{
	pid_t pid = run_pid;

	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		clean_run();
	}
	if (roudi_pid > 0)
		kill(roudi_pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ----------------------------------------------------------------------
 * Plan: configurations x transports x repetitions
 */

struct config configs[64];
unsigned int nconfigs;
struct row *rows;
unsigned int nrows;
double load_before[MAX_REPS], load_during[MAX_REPS];
double line_before[MAX_REPS];
static unsigned int run_serial;
static char self_dir[PATH_MAX];

static void add_config(uint32_t metric, uint32_t size, uint32_t nsubs,
		       uint32_t mix)
{
	configs[nconfigs++] = (struct config){ metric, size, nsubs, mix };
}

/* The mean payload of messages @from to @from + @n - 1 of a workload. */
static double mean_size(const struct options *o, const struct config *cf,
			uint64_t from, uint64_t n)
{
	static uint32_t drawn = MIX_NONE;

	if (!cf->mix)
		return cf->size;
	if (drawn != cf->mix) {
		if (bench_mix_init(cf->mix, o->seed) < 0) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		drawn = cf->mix;
	}
	return bench_mix_mean(from, n);
}

static bool is_busy(const struct tp *tp, const struct config *cf)
{
	unsigned int f = tp_flags(tp);

	if (f & T_BUSY)
		return true;
	if (f & T_SLEEP)
		return false;
	if (cf->metric == METRIC_PINGPONG)
		return true;
	return tp->adaptive && cf->metric == METRIC_THROUGHPUT &&
	       cf->nsubs + 1 <= ncpu;
}

static void vlog(const struct options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vlog(const struct options *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Run one measurement in a runner process (or peer); never fails. */
void run_one(const struct options *o, struct row *rw, uint64_t count,
	     uint64_t warm, struct bench_result *res)
{
	struct tp *tp = &tps[rw->tp];
	char out[4096], args[512];
	struct bench_cfg cfg = {
		.metric = rw->cf.metric,
		.size = rw->cf.size,
		.nsubs = rw->cf.nsubs,
		.batch = o->batch,
		.count = count,
		.warm = warm,
		.rate = rw->cf.metric == METRIC_CHURN ? CHURN_RATE : o->rate,
		.busy = rw->busy,
		.pin = rw->pin,
		.mlock = o->mlock,
		.tsc_per_ns = tsc_per_ns,
		.timeout_s = o->timeout_s,
		.limit_ms = (uint32_t)(o->run_time * 4000) + 100,
		.mix = rw->cf.mix,
		.seed = o->seed,
	};
	uint64_t deadline;
	size_t len = 0;
	int fds[2], status;
	char *line, *save;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	snprintf(cfg.tag, sizeof(cfg.tag), "rcb-%d-%u", (int)getpid(),
		 ++run_serial);
	clean_prepare(cfg.tag, cfg.nsubs);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		bench_fail(res, RES_FAIL, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		bench_fail(res, RES_FAIL, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		struct bench_result r;

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (tp->t) {
			bench_run(tp->t, &cfg, &r);
			bench_result_print(&r, fds[1]);
			_exit(0);
		}
		if (bench_cfg_to_args(&cfg, args, sizeof(args)) < 0)
			_exit(126);
		dup2(fds[1], STDOUT_FILENO);
		{
			char *argv[32], *save2, *w;
			int n = 0;

			argv[n++] = tp->peer_path;
			argv[n++] = (char *)tp->name;
			for (w = strtok_r(args, " ", &save2); w && n < 31;
			     w = strtok_r(NULL, " ", &save2))
				argv[n++] = w;
			argv[n] = NULL;
			execv(tp->peer_path, argv);
		}
		_exit(127);
	}
	setpgid(pid, pid);
	run_pid = pid;
	close(fds[1]);
	deadline = now_ns() + (uint64_t)(o->timeout_s + 5) * 1000000000ull;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		uint64_t now = now_ns();
		ssize_t n;
		int r;

		if (now >= deadline) {
			kill(-pid, SIGKILL);
			bench_fail(res, RES_FAIL, "timed out after %u s",
				   o->timeout_s + 5);
			break;
		}
		r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (len + 1 >= sizeof(out)) {
			/* Keep the tail: the RESULT line comes last. */
			memmove(out, out + sizeof(out) / 2,
				len - sizeof(out) / 2);
			len -= sizeof(out) / 2;
		}
		n = read(fds[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = 0;
	close(fds[0]);
	kill(-pid, SIGKILL); /* leftovers of a failed run */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	run_pid = 0;
	clean_run(); /* names a killed run left; none after a good one */
	if (res->status != RES_OK)
		return;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "RESULT ", 7) &&
		    !bench_result_parse(line, res))
			return;
	if (WIFSIGNALED(status))
		bench_fail(res, RES_FAIL, "the runner died of signal %d",
			   WTERMSIG(status));
	else
		bench_fail(res, RES_FAIL,
			   "the runner exited with status %d and no result",
			   WEXITSTATUS(status));
}

/*
 * Fan-out to many subscribers: the share of a run's messages each one
 * gets, so that a run moves about as many bytes in total as one to
 * FAN_BASE subscribers (1 up to FAN_BASE).  A run to 1024 sleeping
 * readers on a few CPUs is otherwise minutes long.
 */
#define FAN_BASE 16u

static double fan_share(const struct row *rw)
{
	if (rw->cf.metric != METRIC_FANOUT || rw->cf.nsubs <= FAN_BASE)
		return 1;
	return (double)FAN_BASE / rw->cf.nsubs;
}

/* Messages (round trips) per run from a first run's figure. */
static uint64_t size_run(const struct options *o, const struct row *rw,
			 double value)
{
	double n, lo = 1000 * fan_share(rw);
	uint64_t cap;

	if (rw->cf.metric == METRIC_PINGPONG)
		n = value > 0 ? o->run_time * 1e9 / (2 * value) : 1000;
	else if (rw->cf.metric == METRIC_FANOUT)
		n = value * o->run_time / rw->cf.nsubs;
	else
		n = value * o->run_time;
	/* At most 1 GiB per subscriber per run (16 GiB in all in fan-out). */
	cap = (uint64_t)((double)(1ull << 30) * fan_share(rw) /
			 mean_size(o, &rw->cf, 0, MIX_LEN));
	if (lo < 100)
		lo = 100;
	if (n < lo)
		n = lo;
	if (n > 50e6)
		n = 50e6;
	return (uint64_t)n < cap ? (uint64_t)n : cap;
}

static uint64_t first_count(const struct options *o, const struct row *rw)
{
	unsigned int f = tp_flags(&tps[rw->tp]);
	uint64_t n, cap = (uint64_t)((double)(256ull << 20) * fan_share(rw) /
				     mean_size(o, &rw->cf, 0, MIX_LEN));

	if (rw->cf.metric == METRIC_PINGPONG)
		n = 5000;
	else if (f & T_RING)
		n = 8 * STREAM_SLOTS; /* a ring ahead is no steady state */
	else
		n = rw->cf.metric == METRIC_FANOUT ? 5000 : 20000;
	n = (uint64_t)((double)n * fan_share(rw));
	if (n > cap)
		n = cap;
	return n < 200 ? 200 : n;
}

static void plan(const struct options *o)
{
	unsigned int i, c, k, mix;

	if (o->workloads[MIX_NONE]) {
		if (o->metrics[METRIC_THROUGHPUT])
			for (i = 0; i < o->nsizes; i++)
				add_config(METRIC_THROUGHPUT, o->sizes[i], 1,
					   MIX_NONE);
		/* Ping-pong: the sizes of --sizes a round trip is about. */
		if (o->metrics[METRIC_PINGPONG])
			for (i = 0; i < o->nsizes; i++)
				if (o->sizes[i] <= PINGPONG_MAX_SIZE)
					add_config(METRIC_PINGPONG, o->sizes[i],
						   1, MIX_NONE);
		if (o->metrics[METRIC_ONEWAY])
			add_config(METRIC_ONEWAY, 64, 1, MIX_NONE);
		if (o->metrics[METRIC_FANOUT])
			for (i = 0; i < o->nns; i++)
				add_config(METRIC_FANOUT, 64, o->ns[i],
					   MIX_NONE);
		if (o->metrics[METRIC_CHURN]) {
			uint32_t top = 0;

			for (i = 0; i < o->nns; i++)
				if (o->ns[i] > top)
					top = o->ns[i];
			add_config(METRIC_CHURN, 64, top, MIX_NONE);
		}
	}
	/* Mixed sizes: throughput and fan-out, after the fixed ones. */
	for (mix = MIX_MIXED; mix < MIX_COUNT; mix++) {
		if (!o->workloads[mix])
			continue;
		if (o->metrics[METRIC_THROUGHPUT])
			add_config(METRIC_THROUGHPUT, bench_mix_max(mix), 1,
				   mix);
		if (o->metrics[METRIC_FANOUT])
			for (i = 0; i < o->nns; i++)
				add_config(METRIC_FANOUT, bench_mix_max(mix),
					   o->ns[i], mix);
	}

	rows = calloc((size_t)nconfigs * NTP, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (c = 0; c < nconfigs; c++) {
		for (k = 0; k < NTP; k++) {
			struct row *rw;
			unsigned int procs;

			if (!o->want[k])
				continue;
			/* Churn: the transports that can, alone. */
			if (configs[c].metric == METRIC_CHURN &&
			    (!tps[k].t || !tps[k].t->churn))
				continue;
			rw = &rows[nrows++];
			rw->cf = configs[c];
			rw->tp = k;
			rw->busy = is_busy(&tps[k], &rw->cf);
			procs = rw->cf.metric == METRIC_PINGPONG ?
					2 :
					rw->cf.nsubs + 1;
			/*
			 * Pinned where every process has a CPU of its own,
			 * unless other processes use the CPUs: then a pinned
			 * process could not move away from them.
			 */
			rw->pin = o->pin == 1 || (o->pin < 0 && procs <= ncpu &&
						  start_load < PIN_MAX_LOAD);
			if (tps[k].unavailable) {
				rw->status = RES_SKIP;
				snprintf(rw->reason, sizeof(rw->reason), "%s",
					 tps[k].unavailable);
			} else if (rw->cf.metric == METRIC_FANOUT && rw->busy &&
				   procs > ncpu) {
				rw->status = RES_SKIP;
				snprintf(rw->reason, sizeof(rw->reason),
					 "busy readers need %u CPUs, %u online",
					 procs, ncpu);
			}
		}
	}
}

static const char *row_label(const struct row *rw, char *buf, size_t len)
{
	char wl[32];

	snprintf(buf, len, "%s %s %s%s N=%u", tps[rw->tp].name,
		 metric_names[rw->cf.metric],
		 workload_label(&rw->cf, wl, sizeof(wl)), rw->cf.mix ? "" : "B",
		 rw->cf.nsubs);
	return buf;
}

/*
 * Messages before the clock starts: a fifth of the run, and for rings at
 * least two rings' worth, so that the timed part starts in the steady
 * state (a publisher a ring ahead of its readers) rather than with a
 * reader catching up at memory speed.  Fan-out to more than FAN_BASE
 * subscribers: two rings' worth of deliveries at N = FAN_BASE, the
 * readers being the bottleneck from the start (two rings would be 33 M
 * deliveries at N = 1024, seconds of warm-up per run).
 */
static uint64_t warm_for(const struct row *rw, uint64_t count)
{
	uint64_t w = count / 5 + 16;
	uint32_t slot_size;
	uint64_t slots =
		bench_ring_geometry(rw->cf.metric, rw->cf.size, &slot_size);

	/* Many readers: two rings' worth of deliveries, not of messages. */
	slots = (uint64_t)((double)slots * fan_share(rw));
	if (rw->cf.metric != METRIC_PINGPONG &&
	    (tp_flags(&tps[rw->tp]) & T_RING) && w < 2 * slots)
		w = 2 * slots;
	return w;
}

/* The sizing run: warms up and fixes the messages per run. */
static void first_run(const struct options *o, struct row *rw)
{
	struct bench_result res;
	char label[128];
	uint64_t n;

	if (rw->cf.metric == METRIC_CHURN) {
		/* Two seconds' worth (quick: 0.2 s), or --count. */
		rw->count = o->count ?
				    o->count :
				    (uint64_t)(CHURN_RATE * 2 * o->oneway_time);
		if (rw->count < 100)
			rw->count = 100;
		rw->warm = 50;
		goto out;
	}
	if (rw->cf.metric == METRIC_ONEWAY) {
		rw->count = (uint64_t)(o->rate * o->oneway_time);
		if (rw->count < 100)
			rw->count = 100;
		rw->warm = 50;
		goto out;
	}
	if (o->count) {
		rw->count = o->count;
		rw->warm = o->count / 5;
		goto out;
	}
	/* (Fixed counts are for smoke tests: no steady state needed.) */
	n = first_count(o, rw);
	/* Many readers: no sizing run, the share of N = FAN_BASE's. */
	if (o->quick || fan_share(rw) < 1) {
		/* Fixed counts, no sizing run (each run warms up). */
		rw->count = n;
		rw->warm = warm_for(rw, n);
		goto out;
	}
	run_one(o, rw, n, warm_for(rw, n), &res);
	vlog(o, "  sizing %s: status %d value %.4g %s\n",
	     row_label(rw, label, sizeof(label)), res.status, res.value,
	     res.reason);
	if (res.status != RES_OK) {
		rw->status = res.status;
		snprintf(rw->reason, sizeof(rw->reason), "%s", res.reason);
		return;
	}
	rw->count = size_run(o, rw, res.value);
	rw->warm = warm_for(rw, rw->count);
out:
	rw->mean_size = mean_size(o, &rw->cf, rw->warm, rw->count);
}

/* ----------------------------------------------------------------------
 * main
 */

static void find_self_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	char *slash;

	if (n <= 0) {
		snprintf(self_dir, sizeof(self_dir), ".");
		return;
	}
	self_dir[n] = 0;
	slash = strrchr(self_dir, '/');
	if (slash)
		*slash = 0;
}

static void find_peers(const struct options *o)
{
	unsigned int k;

	for (k = 0; k < NTP; k++) {
		struct tp *tp = &tps[k];

		if (tp->t || !o->want[k])
			continue;
		snprintf(tp->peer_path, sizeof(tp->peer_path), "%s/%s",
			 self_dir, tp->peer);
		if (access(tp->peer_path, X_OK) < 0)
			tp->unavailable = tp->why_missing;
	}
	k = (unsigned int)tp_index("iceoryx");
	if (o->want[k] && !tps[k].unavailable)
		tps[k].unavailable = roudi_start();
}

int main(int argc, char **argv)
{
	struct machine m;
	struct options o;
	unsigned int r, i, done = 0, total;
	uint64_t t_start = now_ns();
	int failed = 0;

	parse_options(argc, argv, &o);
	ncpu = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	find_self_dir();
	if (o.idle_poll)
		idle_hold();
	tsc_per_ns = tsc_calibrate();
	machine_describe(&m);
	idle_describe(&m);
	start_load = sample_idle_load(300);
	find_peers(&o);
	plan(&o);

	fprintf(stderr,
		"ringcast-bench: %u rows, %u repetitions%s; %s, %u CPUs\n",
		nrows, o.reps, o.quick ? " (quick)" : "", m.cpu, ncpu);
	total = nrows;
	for (i = 0; i < nrows; i++) {
		char label[128];

		if (rows[i].status == RES_OK)
			first_run(&o, &rows[i]);
		fprintf(stderr, "\rsizing runs %u/%u      ", ++done, total);
		if (rows[i].status != RES_OK)
			vlog(&o, "\n  %s: %s\n",
			     row_label(&rows[i], label, sizeof(label)),
			     rows[i].reason);
	}
	fprintf(stderr, "\n");
	for (r = 0; r < o.reps; r++) {
		struct cpu_sample a, b;

		load_before[r] = sample_idle_load(o.quick ? 100 : 300);
		line_before[r] = line_probe(&o);
		cpu_sample(&a);
		fprintf(stderr,
			"repetition %u/%u (foreign load %.2f CPUs, cache-line "
			"transfer %.0f ns) ...",
			r + 1, o.reps, load_before[r], line_before[r]);
		for (i = 0; i < nrows; i++) {
			struct row *rw = &rows[i];
			char label[128];
			uint64_t t_run;

			if (rw->status != RES_OK)
				continue;
			t_run = now_ns();
			run_one(&o, rw, rw->count, rw->warm, &rw->res[r]);
			t_run = now_ns() - t_run;
			rw->valid[r] = rw->res[r].status == RES_OK;
			if (rw->res[r].status == RES_SKIP)
				rw->status = RES_SKIP;
			if (!rw->valid[r])
				snprintf(rw->reason, sizeof(rw->reason), "%s",
					 rw->res[r].reason);
			vlog(&o, "\n  %s: %.4g (%" PRIu64 " msgs, %.2f s)%s%s",
			     row_label(rw, label, sizeof(label)),
			     rw->res[r].value, rw->count, (double)t_run / 1e9,
			     rw->valid[r] ? "" : " FAILED ",
			     rw->valid[r] ? "" : rw->res[r].reason);
		}
		cpu_sample(&b);
		load_during[r] = foreign_cpus(&a, &b);
		fprintf(stderr, " during %.2f\n", load_during[r]);
	}
	/* A row with no good run at all is a failed row. */
	for (i = 0; i < nrows; i++) {
		bool any = false;

		for (r = 0; r < o.reps; r++)
			any |= rows[i].valid[r];
		if (rows[i].status == RES_OK && !any)
			rows[i].status = RES_FAIL;
		if (rows[i].status == RES_FAIL)
			failed = 1;
	}
	roudi_stop();

	if (o.json) {
		print_json(&o, &m, argc, argv);
	} else {
		print_table(&o, &m, argc, argv);
		print_targets(&o);
	}
	if (o.plot_dir && write_plots(&o) < 0)
		failed = 1;
	fprintf(stderr, "ringcast-bench: done in %.1f s\n",
		(double)(now_ns() - t_start) / 1e9);
	return failed;
}
