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
 *   latency-pingpong   RTT/2 through two channels, busy readers, 64 B
 *   latency-oneway-pX  one-way latency at a fixed rate (--rate) with each
 *                      transport's own readers (sleeping ones but for the
 *                      busy rows), TSC-timed: p50, p90, p99, p99.9, max
 *   fanout             1 publisher -> N subscriber processes, 64 B,
 *                      sleeping readers (busy ones only while N + 1 fits
 *                      the CPUs): deliveries/s in total
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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_REPS 50
#define MAX_SIZES 16
#define MAX_NS 16
#define ROUDI_SOCKET "/tmp/roudi"

/* ----------------------------------------------------------------------
 * Transports, in table order
 */

struct tp {
	const char *name;
	const struct transport *t; /* built in, or NULL: a peer */
	const char *peer; /* the peer executable's name */
	const char *why_missing; /* peer: what the build did not find */
	bool ringcast; /* a ringcast row: compared with a bare ring */
	bool adaptive; /* busy readers where they fit the CPUs */
	const char *unavailable; /* set at run time: skipped, why */
	char peer_path[PATH_MAX + 64];
};

#define BUILTIN(n, tr, ...)                      \
	{                                        \
		.name = n, .t = &tr, __VA_ARGS__ \
	}
#define PEER(n, exe, why)                                  \
	{                                                  \
		.name = n, .peer = exe, .why_missing = why \
	}

static struct tp tps[] = {
	BUILTIN("physical-limit", t_physical_limit),
	BUILTIN("bare-ring", t_bare_ring),
	BUILTIN("bare-ring-futex", t_bare_ring_futex),
	BUILTIN("ringcast-lossy-busy", t_ringcast_lossy_busy, .ringcast = true),
	BUILTIN("ringcast-lossy-sleep", t_ringcast_lossy_sleep,
		.ringcast = true),
	BUILTIN("ringcast-reliable", t_ringcast_reliable, .ringcast = true,
		.adaptive = true),
	BUILTIN("ringcast-zero-copy", t_ringcast_zero_copy, .ringcast = true,
		.adaptive = true),
	BUILTIN("pipe", t_pipe),
	BUILTIN("unix-stream", t_unix_stream),
	BUILTIN("unix-seqpacket", t_unix_seqpacket),
	BUILTIN("mq", t_mq),
	BUILTIN("eventfd", t_eventfd),
	PEER("zeromq", "ringcast-bench-zeromq",
	     "no ringcast-bench-zeromq next to ringcast-bench (it is built "
	     "only where libzmq is found)"),
	PEER("iceoryx", "ringcast-bench-iceoryx",
	     "no ringcast-bench-iceoryx next to ringcast-bench (it is built "
	     "only where the iceoryx C binding is found)"),
};

#define NTP (sizeof(tps) / sizeof(tps[0]))

static int tp_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < NTP; i++)
		if (!strcmp(tps[i].name, name))
			return (int)i;
	return -1;
}

/* A peer's flags are its executable's: none that the driver reads. */
static unsigned int tp_flags(const struct tp *tp)
{
	return tp->t ? tp->t->flags : 0;
}

/* ----------------------------------------------------------------------
 * Options
 */

struct options {
	bool quick, json, verbose, mlock;
	bool idle_poll; /* hold /dev/cpu_dma_latency at 0 while running */
	int pin; /* -1 auto, 0 off, 1 on */
	const char *plot_dir;
	bool want[NTP];
	bool metrics[METRIC_COUNT];
	uint32_t sizes[MAX_SIZES];
	unsigned int nsizes;
	uint32_t ns[MAX_NS];
	unsigned int nns;
	unsigned int reps;
	double run_time; /* seconds per measured run */
	double oneway_time;
	uint32_t rate;
	uint32_t batch;
	uint64_t count; /* fixed messages per run (no sizing run) */
	uint32_t timeout_s;
};

static const char *const metric_names[METRIC_COUNT] = {
	[METRIC_THROUGHPUT] = "throughput",
	[METRIC_PINGPONG] = "pingpong",
	[METRIC_ONEWAY] = "oneway",
	[METRIC_FANOUT] = "fanout",
};

static void __attribute__((noreturn)) usage(const char *prog, int status)
{
	FILE *f = status ? stderr : stdout;
	unsigned int i;

	fprintf(f,
		"Usage: %s [--quick] [--json] [--plot DIR] [--transports LIST]\n"
		"       [--sizes LIST] [--subscribers LIST] [options]\n"
		"Benchmark ringcast against other IPC transports; a table on "
		"stdout, progress on stderr.\n\n"
		"  --quick              64 B only, fan-out N in {1, 8}, 3 "
		"repetitions, short runs (< 60 s)\n"
		"  --json               one JSON document instead of the table\n"
		"  --plot DIR           PNG charts (gnuplot) and their data in "
		"DIR\n"
		"  --transports LIST    comma-separated names (default: all)\n"
		"  --sizes LIST         throughput payload sizes in bytes "
		"(default 8,64,256,1024,4096,65536)\n"
		"  --subscribers LIST   fan-out subscriber counts (default "
		"1,2,4,8,16)\n"
		"  --metrics LIST       throughput,pingpong,oneway,fanout "
		"(default: all)\n"
		"  --repetitions R      interleaved repetitions (default 5, "
		"quick 3)\n"
		"  --time S             seconds per measured run (default 0.3, "
		"quick 0.05)\n"
		"  --count N            messages per run, fixed (no sizing run)\n"
		"  --rate R             one-way messages per second (default "
		"10000)\n"
		"  --batch B            messages per send call for rings that "
		"batch (default 32)\n"
		"  --pin auto|on|off    one CPU per process (auto: when they "
		"fit)\n"
		"  --mlock              mlockall() in every process "
		"(prefault and lock)\n"
		"  --idle system|poll   poll: idle CPUs poll instead of "
		"halting while the\n"
		"                       harness runs (holds /dev/cpu_dma_latency "
		"at 0; root)\n"
		"  --timeout S          give up a run after S seconds "
		"(default 60, quick 20)\n"
		"  --verbose            print every run on stderr\n\n"
		"The ZeroMQ and iceoryx peers are executables of their own, "
		"looked for next to\nthis one; iceoryx needs /usr/bin/iox-roudi, "
		"which is started and stopped here.\nTransports:",
		prog);
	for (i = 0; i < NTP; i++)
		fprintf(f, " %s", tps[i].name);
	fprintf(f, "\n");
	exit(status);
}

static unsigned int parse_list(const char *prog, const char *opt, const char *s,
			       uint32_t *out, unsigned int max, uint32_t lo,
			       uint32_t hi)
{
	unsigned int n = 0;
	char *end;

	while (*s) {
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || v < lo || v > hi || n == max ||
		    (*end && *end != ',')) {
			fprintf(stderr,
				"%s: --%s: expected up to %u numbers from %u "
				"to %u, comma-separated\n",
				prog, opt, max, lo, hi);
			exit(2);
		}
		out[n++] = (uint32_t)v;
		s = *end ? end + 1 : end;
	}
	if (!n) {
		fprintf(stderr, "%s: --%s: empty list\n", prog, opt);
		exit(2);
	}
	return n;
}

static double parse_num(const char *prog, const char *opt, const char *s,
			double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "%s: --%s: expected a number from %g to %g\n",
			prog, opt, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_names(const char *prog, const char *s, bool *want)
{
	char buf[1024], *tok, *save;
	unsigned int i;
	int k;

	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; i < NTP; i++)
		want[i] = false;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		k = tp_index(tok);
		if (k < 0) {
			fprintf(stderr, "%s: --transports: unknown '%s'\n",
				prog, tok);
			exit(2);
		}
		want[k] = true;
	}
}

static void parse_metrics(const char *prog, const char *s, bool *want)
{
	char buf[256], *tok, *save;
	unsigned int i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; i < METRIC_COUNT; i++)
		want[i] = false;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < METRIC_COUNT; i++)
			if (!strcmp(tok, metric_names[i]))
				break;
		if (i == METRIC_COUNT) {
			fprintf(stderr, "%s: --metrics: unknown '%s'\n", prog,
				tok);
			exit(2);
		}
		want[i] = true;
	}
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "transports", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "subscribers", required_argument, NULL, 'n' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'R' },
		{ "batch", required_argument, NULL, 'b' },
		{ "pin", required_argument, NULL, 'P' },
		{ "mlock", no_argument, NULL, 'L' },
		{ "idle", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	bool sizes = false, ns = false, reps = false, tm = false, tmo = false;
	unsigned int i;
	int c;

	memset(o, 0, sizeof(*o));
	o->pin = -1;
	o->rate = 10000;
	o->batch = 32;
	for (i = 0; i < NTP; i++)
		o->want[i] = true;
	for (i = 0; i < METRIC_COUNT; i++)
		o->metrics[i] = true;

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quick = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'p':
			o->plot_dir = optarg;
			break;
		case 't':
			parse_names(prog, optarg, o->want);
			break;
		case 's':
			o->nsizes = parse_list(prog, "sizes", optarg, o->sizes,
					       MAX_SIZES, 8, 4u << 20);
			sizes = true;
			break;
		case 'n':
			o->nns = parse_list(prog, "subscribers", optarg, o->ns,
					    MAX_NS, 1, MAX_SUBS - 2);
			ns = true;
			break;
		case 'm':
			parse_metrics(prog, optarg, o->metrics);
			break;
		case 'r':
			o->reps = (unsigned int)parse_num(prog, "repetitions",
							  optarg, 1, MAX_REPS);
			reps = true;
			break;
		case 'T':
			o->run_time =
				parse_num(prog, "time", optarg, 0.001, 100);
			tm = true;
			break;
		case 'c':
			o->count = (uint64_t)parse_num(prog, "count", optarg,
						       10, 1e9);
			break;
		case 'R':
			o->rate = (uint32_t)parse_num(prog, "rate", optarg, 1,
						      1e6);
			break;
		case 'b':
			o->batch = (uint32_t)parse_num(prog, "batch", optarg, 1,
						       MAX_BATCH);
			break;
		case 'P':
			if (!strcmp(optarg, "auto"))
				o->pin = -1;
			else if (!strcmp(optarg, "on"))
				o->pin = 1;
			else if (!strcmp(optarg, "off"))
				o->pin = 0;
			else
				usage(prog, 2);
			break;
		case 'L':
			o->mlock = true;
			break;
		case 'I':
			if (!strcmp(optarg, "system"))
				o->idle_poll = false;
			else if (!strcmp(optarg, "poll"))
				o->idle_poll = true;
			else
				usage(prog, 2);
			break;
		case 'O':
			o->timeout_s = (uint32_t)parse_num(prog, "timeout",
							   optarg, 1, 3600);
			tmo = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(prog, 0);
		default:
			usage(prog, 2);
		}
	}
	if (optind != argc)
		usage(prog, 2);
	if (!sizes) {
		static const uint32_t full[] = { 8, 64, 256, 1024, 4096, 65536 };

		if (o->quick) {
			o->sizes[0] = 64;
			o->nsizes = 1;
		} else {
			memcpy(o->sizes, full, sizeof(full));
			o->nsizes = 6;
		}
	}
	if (!ns) {
		static const uint32_t full[] = { 1, 2, 4, 8, 16 };

		if (o->quick) {
			o->ns[0] = 1;
			o->ns[1] = 8;
			o->nns = 2;
		} else {
			memcpy(o->ns, full, sizeof(full));
			o->nns = 5;
		}
	}
	if (!reps)
		o->reps = o->quick ? 3 : 5;
	if (!tm)
		o->run_time = o->quick ? 0.05 : 0.3;
	o->oneway_time = o->quick ? 0.1 : 1.0;
	if (o->count)
		o->oneway_time = (double)o->count / o->rate;
	if (!tmo)
		o->timeout_s = o->quick ? 20 : 60;
}

/* ----------------------------------------------------------------------
 * The machine and its load
 */

struct cpu_sample {
	uint64_t busy, total; /* clock ticks, all CPUs */
	uint64_t ours_us; /* CPU time of this process and its children */
};

static unsigned int ncpu;
static double tsc_per_ns;
static double start_load; /* foreign load at start, in CPUs */
#define PIN_MAX_LOAD 0.5
/* Targets are judged on runs whose foreign load stayed below this. */
#define QUIET_MAX_LOAD 0.1

static void cpu_sample(struct cpu_sample *s)
{
	unsigned long long v[10] = { 0 };
	struct rusage self, kids;
	FILE *f = fopen("/proc/stat", "r");
	int i;

	memset(s, 0, sizeof(*s));
	if (f) {
		if (fscanf(f,
			   "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9]) >= 8) {
			/* user nice system idle iowait irq softirq steal */
			for (i = 0; i < 8; i++)
				s->total += v[i];
			s->busy = s->total - v[3] - v[4];
		}
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	s->ours_us = (uint64_t)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
				kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) *
			     1000000ull +
		     (uint64_t)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
				kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);
}

/*
 * Foreign CPU use between two samples, in CPUs (0 to ncpu): what the
 * machine used less what this process and its children used.
 */
static double foreign_cpus(const struct cpu_sample *a,
			   const struct cpu_sample *b)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	double total_s, busy_s, ours_s;

	if (b->total <= a->total)
		return 0;
	total_s = (double)(b->total - a->total) / hz / ncpu;
	busy_s = (double)(b->busy - a->busy) / hz;
	ours_s = (double)(b->ours_us - a->ours_us) / 1e6;
	if (busy_s < ours_s)
		return 0;
	return (busy_s - ours_s) / total_s;
}

/* Idle-window sample: the rest of the machine's CPU use, in CPUs. */
static double sample_idle_load(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };
	struct cpu_sample a, b;

	cpu_sample(&a);
	nanosleep(&ts, NULL);
	cpu_sample(&b);
	return foreign_cpus(&a, &b);
}

struct machine {
	char cpu[128];
	char kernel[256];
	char compiler[64];
	char tsc[64];
	char idle[160];
	double loadavg;
};

/*
 * How an idle CPU waits for work decides what a sleeping reader's wake-up
 * costs.  A CPU that halts (in a virtual machine, a vCPU that exits to the
 * host) is woken by an interrupt the host delivers: tens of microseconds
 * or a few, depending on whether the host happens to poll for it, which
 * the guest can neither see nor set.  With --idle poll the harness holds a
 * PM QoS request of zero exit latency (/dev/cpu_dma_latency, the interface
 * tuned's latency-performance profile uses) for as long as it runs, so
 * idle CPUs poll and a wake-up costs what the kernel's and the transport's
 * own paths cost.  The request ends when the descriptor closes, at exit.
 */
static int idle_fd = -1;

static void idle_hold(void)
{
	int32_t zero = 0;
	int e;

	idle_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (idle_fd >= 0 &&
	    write(idle_fd, &zero, sizeof(zero)) == (ssize_t)sizeof(zero))
		return;
	e = errno;
	fprintf(stderr,
		"ringcast-bench: --idle poll: /dev/cpu_dma_latency: %s%s\n",
		strerror(e), e == EACCES ? " (it needs root)" : "");
	exit(2);
}

static void idle_describe(struct machine *m)
{
	char drv[64] = "none";
	FILE *f = fopen("/sys/devices/system/cpu/cpuidle/current_driver", "r");

	if (f) {
		if (fgets(drv, sizeof(drv), f))
			drv[strcspn(drv, "\n")] = 0;
		fclose(f);
	}
	snprintf(m->idle, sizeof(m->idle), "%s (cpuidle driver %s)",
		 idle_fd >= 0 ? "poll: /dev/cpu_dma_latency held at 0" :
				"system: as the machine is set",
		 drv);
}

static void machine_describe(struct machine *m)
{
	char line[512];
	struct utsname u;
	bool constant = false, nonstop = false, hv = false;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && p &&
			    !strcmp(m->cpu, "unknown")) {
				p += 2;
				p[strcspn(p, "\n")] = 0;
				snprintf(m->cpu, sizeof(m->cpu), "%s", p);
			}
			if (!strncmp(line, "flags", 5)) {
				constant = strstr(line, " constant_tsc");
				nonstop = strstr(line, " nonstop_tsc");
				hv = strstr(line, " hypervisor");
			}
		}
		fclose(f);
	}
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname,
			 u.release, u.machine);
	snprintf(m->compiler, sizeof(m->compiler), "gcc %s", __VERSION__);
	snprintf(m->tsc, sizeof(m->tsc), "%.3f GHz%s%s%s", tsc_per_ns,
		 constant ? ", constant" : "", nonstop ? ", nonstop" : "",
		 hv ? "; virtual machine" : "");
	{
		double la[1];

		m->loadavg = getloadavg(la, 1) == 1 ? la[0] : -1;
	}
}

/* ----------------------------------------------------------------------
 * RouDi, iceoryx's daemon
 */

static pid_t roudi_pid;

static void roudi_stop(void)
{
	int i;

	if (roudi_pid <= 0)
		return;
	kill(roudi_pid, SIGTERM);
	for (i = 0; i < 1000; i++) {
		struct timespec ts = { .tv_nsec = 10000000 };

		if (waitpid(roudi_pid, NULL, WNOHANG) == roudi_pid) {
			roudi_pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(roudi_pid, SIGKILL);
	waitpid(roudi_pid, NULL, 0);
	roudi_pid = 0;
}

/*
 * A running RouDi holds an flock() on its lock file; a socket left by a
 * RouDi that was killed is not held, and a new one replaces it.
 */
static bool roudi_lock_held(void)
{
	int lock = open(ROUDI_SOCKET ".lock", O_RDONLY | O_CLOEXEC);
	bool held;

	if (lock < 0)
		return false;
	held = flock(lock, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(lock); /* drops our lock, if we took it */
	return held;
}

/* Our RouDi holds its lock file: it has started. */
static bool roudi_ready(void)
{
	return roudi_lock_held() && !access(ROUDI_SOCKET, F_OK);
}

/* Start iox-roudi unless one runs; NULL, or why iceoryx cannot run. */
static const char *roudi_start(void)
{
	static char why[160];
	const char *path = "/usr/bin/iox-roudi";
	int i, status, devnull;

	if (access(path, X_OK) < 0) {
		snprintf(why, sizeof(why), "%s is not installed", path);
		return why;
	}
	if (roudi_lock_held()) {
		snprintf(why, sizeof(why),
			 "another iox-roudi runs (it holds %s.lock)",
			 ROUDI_SOCKET);
		return why;
	}
	roudi_pid = fork();
	if (roudi_pid < 0) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		return why;
	}
	if (roudi_pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		setpgid(0, 0);
		execl(path, path, "-m", "off", "-l", "error", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		struct timespec ts = { .tv_nsec = 10000000 };

		if (roudi_ready())
			return NULL;
		if (waitpid(roudi_pid, &status, WNOHANG) == roudi_pid) {
			roudi_pid = 0;
			snprintf(why, sizeof(why),
				 "iox-roudi exited at start (status 0x%x)",
				 status);
			return why;
		}
		nanosleep(&ts, NULL);
	}
	roudi_stop();
	snprintf(why, sizeof(why), "iox-roudi did not start in 5 s");
	return why;
}

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

struct config {
	uint32_t metric, size, nsubs;
};

struct row {
	struct config cf;
	unsigned int tp;
	bool busy, pin;
	uint64_t count, warm;
	int status; /* RES_OK (measured), RES_SKIP, RES_FAIL */
	char reason[240];
	struct bench_result res[MAX_REPS];
	bool valid[MAX_REPS];
};

static struct config configs[64];
static unsigned int nconfigs;
static struct row *rows;
static unsigned int nrows;
static double load_before[MAX_REPS], load_during[MAX_REPS];
/* A cache line's transfer between two CPUs (RTT/2, ns) before each one. */
static double line_before[MAX_REPS];
static unsigned int run_serial;
static char self_dir[PATH_MAX];

static void add_config(uint32_t metric, uint32_t size, uint32_t nsubs)
{
	configs[nconfigs++] = (struct config){ metric, size, nsubs };
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
static void run_one(const struct options *o, struct row *rw, uint64_t count,
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
		.rate = o->rate,
		.busy = rw->busy,
		.pin = rw->pin,
		.mlock = o->mlock,
		.tsc_per_ns = tsc_per_ns,
		.timeout_s = o->timeout_s,
		.limit_ms = (uint32_t)(o->run_time * 4000) + 100,
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

/* Messages (round trips) per run from a first run's figure. */
static uint64_t size_run(const struct options *o, const struct row *rw,
			 double value)
{
	double n;
	uint64_t cap;

	if (rw->cf.metric == METRIC_PINGPONG)
		n = value > 0 ? o->run_time * 1e9 / (2 * value) : 1000;
	else if (rw->cf.metric == METRIC_FANOUT)
		n = value * o->run_time / rw->cf.nsubs;
	else
		n = value * o->run_time;
	/* At most 1 GiB per subscriber per run. */
	cap = (1ull << 30) / rw->cf.size;
	if (n < 1000)
		n = 1000;
	if (n > 50e6)
		n = 50e6;
	return (uint64_t)n < cap ? (uint64_t)n : cap;
}

static uint64_t first_count(const struct row *rw)
{
	unsigned int f = tp_flags(&tps[rw->tp]);
	uint64_t n, cap = (256ull << 20) / rw->cf.size;

	if (rw->cf.metric == METRIC_PINGPONG)
		n = 5000;
	else if (f & T_RING)
		n = 8 * STREAM_SLOTS; /* a ring ahead is no steady state */
	else
		n = rw->cf.metric == METRIC_FANOUT ? 5000 : 20000;
	if (n > cap)
		n = cap;
	return n < 200 ? 200 : n;
}

static void plan(const struct options *o)
{
	unsigned int i, c, k;

	if (o->metrics[METRIC_THROUGHPUT])
		for (i = 0; i < o->nsizes; i++)
			add_config(METRIC_THROUGHPUT, o->sizes[i], 1);
	if (o->metrics[METRIC_PINGPONG])
		add_config(METRIC_PINGPONG, 64, 1);
	if (o->metrics[METRIC_ONEWAY])
		add_config(METRIC_ONEWAY, 64, 1);
	if (o->metrics[METRIC_FANOUT])
		for (i = 0; i < o->nns; i++)
			add_config(METRIC_FANOUT, 64, o->ns[i]);

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
	snprintf(buf, len, "%s %s %uB N=%u", tps[rw->tp].name,
		 metric_names[rw->cf.metric], rw->cf.size, rw->cf.nsubs);
	return buf;
}

/*
 * Messages before the clock starts: a fifth of the run, and for rings at
 * least two rings' worth, so that the timed part starts in the steady
 * state (a publisher a ring ahead of its readers) rather than with a
 * reader catching up at memory speed.
 */
static uint64_t warm_for(const struct row *rw, uint64_t count)
{
	uint64_t w = count / 5 + 16;
	uint32_t slot_size;
	uint64_t slots =
		bench_ring_geometry(rw->cf.metric, rw->cf.size, &slot_size);

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

	if (rw->cf.metric == METRIC_ONEWAY) {
		rw->count = (uint64_t)(o->rate * o->oneway_time);
		if (rw->count < 100)
			rw->count = 100;
		rw->warm = 50;
		return;
	}
	if (o->count) {
		rw->count = o->count;
		rw->warm = o->count / 5;
		return;
	}
	/* (Fixed counts are for smoke tests: no steady state needed.) */
	n = first_count(rw);
	if (o->quick) {
		/* Quick: fixed counts, no sizing run (each run warms up). */
		rw->count = n;
		rw->warm = warm_for(rw, n);
		return;
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
}

/* ----------------------------------------------------------------------
 * Statistics
 */

struct stat3 {
	unsigned int n;
	double med, min, max;
};

static void stat3(double *v, unsigned int n, struct stat3 *s)
{
	s->n = n;
	if (!n)
		return;
	s->med = bench_median(v, n);
	s->min = v[0];
	s->max = v[n - 1];
}

/* The foreign load before the repetitions, over them. */
static void load_stats(const struct options *o, struct stat3 *s)
{
	double v[MAX_REPS];

	memcpy(v, load_before, sizeof(v));
	stat3(v, o->reps, s);
}

/* The value a row reports; one-way rows report quantile @qi. */
static double row_value(const struct row *rw, unsigned int r, int qi)
{
	if (rw->cf.metric == METRIC_ONEWAY && qi >= 0)
		return rw->res[r].q[qi];
	return rw->res[r].value;
}

static void row_stats(const struct row *rw, unsigned int reps, int qi,
		      struct stat3 *s)
{
	double v[MAX_REPS];
	unsigned int r, n = 0;

	for (r = 0; r < reps; r++)
		if (rw->valid[r])
			v[n++] = row_value(rw, r, qi);
	memset(s, 0, sizeof(*s));
	stat3(v, n, s);
}

static struct row *find_row(const struct config *cf, const char *name)
{
	int k = tp_index(name);
	unsigned int i;

	for (i = 0; i < nrows; i++)
		if (rows[i].tp == (unsigned int)k &&
		    rows[i].cf.metric == cf->metric &&
		    rows[i].cf.size == cf->size &&
		    rows[i].cf.nsubs == cf->nsubs)
			return &rows[i];
	return NULL;
}

/* Ratios a/b, pair by pair within each repetition. */
static void paired(const struct row *a, const struct row *b, unsigned int reps,
		   int qi, struct stat3 *s)
{
	double v[MAX_REPS];
	unsigned int r, n = 0;

	memset(s, 0, sizeof(*s));
	if (!a || !b)
		return;
	for (r = 0; r < reps; r++)
		if (a->valid[r] && b->valid[r] && row_value(b, r, qi) > 0)
			v[n++] = row_value(a, r, qi) / row_value(b, r, qi);
	stat3(v, n, s);
}

/* The reference a row is judged against, or NULL. */
static const char *ref_of(const struct row *rw)
{
	const struct tp *tp = &tps[rw->tp];

	if (rw->cf.metric == METRIC_PINGPONG)
		return strcmp(tp->name, "physical-limit") ? "physical-limit" :
							    NULL;
	if (!tp->ringcast)
		return NULL;
	return rw->busy ? "bare-ring" : "bare-ring-futex";
}

static const char *metric_label(const struct row *rw, int qi)
{
	static const char *const ow[] = { "latency-oneway-p50",
					  "latency-oneway-p90",
					  "latency-oneway-p99",
					  "latency-oneway-p99.9",
					  "latency-oneway-max" };

	switch (rw->cf.metric) {
	case METRIC_THROUGHPUT:
		return "throughput";
	case METRIC_PINGPONG:
		return "latency-pingpong";
	case METRIC_FANOUT:
		return "fanout";
	default:
		return ow[qi];
	}
}

/* One-way rows: quantile indexes of p50, p90, p99, p99.9, max. */
static const int ow_q[5] = { 6, 10, 13, 15, 17 };

static const char *unit_of(const struct row *rw)
{
	switch (rw->cf.metric) {
	case METRIC_THROUGHPUT:
		return "msg/s";
	case METRIC_FANOUT:
		return "deliveries/s";
	default:
		return "ns";
	}
}

static uint64_t row_lost(const struct row *rw, unsigned int reps,
			 uint64_t *declared)
{
	uint64_t lost = 0;
	unsigned int r;

	*declared = 0;
	for (r = 0; r < reps; r++) {
		if (!rw->valid[r])
			continue;
		lost += rw->res[r].lost;
		*declared += rw->res[r].declared;
	}
	return lost;
}

static double row_wakes(const struct row *rw, unsigned int reps)
{
	double v[MAX_REPS];
	unsigned int r, n = 0;
	struct stat3 s;

	for (r = 0; r < reps; r++)
		if (rw->valid[r] && rw->res[r].wakes_per_event >= 0)
			v[n++] = rw->res[r].wakes_per_event;
	if (!n)
		return -1;
	stat3(v, n, &s);
	return s.med;
}

/* ----------------------------------------------------------------------
 * Output
 */

static void fmt_value(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

static void fmt_ratio(char *buf, size_t len, const struct stat3 *s)
{
	if (!s->n)
		snprintf(buf, len, "-");
	else if (s->med >= 100)
		snprintf(buf, len, "%.0f (%.0f-%.0f)", s->med, s->min, s->max);
	else if (s->med >= 0.1)
		snprintf(buf, len, "%.2f (%.2f-%.2f)", s->med, s->min, s->max);
	else
		snprintf(buf, len, "%.3f (%.3f-%.3f)", s->med, s->min, s->max);
}

/*
 * How far apart the two CPUs are now: a short physical-limit ping-pong.  A
 * virtual machine's vCPUs move between the host's cores: two threads of
 * one core pass a line in about 15 ns, two cores of one L3 in 35 ns, two
 * dies in several times that, and every spinning row follows.  Printed
 * before each repetition so that a repetition the host moved is seen.
 */
static double line_probe(const struct options *o)
{
	struct row rw = {
		.cf = { METRIC_PINGPONG, 64, 1 },
		.busy = true,
		.pin = ncpu > 1,
	};
	struct bench_result res;
	int tp = tp_index("physical-limit");

	if (tp < 0 || ncpu < 2)
		return NAN;
	rw.tp = (unsigned int)tp;
	run_one(o, &rw, 20000, 2000, &res);
	return res.status == RES_OK ? res.value : NAN;
}

static void print_load(FILE *f, const struct options *o, const char *pfx)
{
	unsigned int r;

	fprintf(f,
		"%sforeign load (CPUs of %u busy with other processes), "
		"before each repetition:",
		pfx, ncpu);
	for (r = 0; r < o->reps; r++)
		fprintf(f, " %.2f", load_before[r]);
	fprintf(f, "; during:");
	for (r = 0; r < o->reps; r++)
		fprintf(f, " %.2f", load_during[r]);
	fprintf(f, "\n# cache-line transfer between the CPUs (ns, RTT/2 of "
		   "a ping-pong), before each repetition:");
	for (r = 0; r < o->reps; r++)
		fprintf(f, " %.0f", line_before[r]);
	fprintf(f, "\n");
}

static void print_row_line(const struct options *o, const struct row *rw,
			   int qi)
{
	char med[16], lo[16], hi[16], rp[48], rr[48], notes[320];
	const char *ref = ref_of(rw);
	struct stat3 s, sp, sr;
	uint64_t lost, decl;
	double wakes;
	size_t n = 0;

	notes[0] = 0;
	if (rw->status != RES_OK) {
		printf("%-21s %6u %4u %10s %10s %10s %8s %19s %19s  %s: %s\n",
		       tps[rw->tp].name, rw->cf.size, rw->cf.nsubs, "-", "-",
		       "-", "-", "-", "-",
		       rw->status == RES_SKIP ? "skipped" : "FAILED",
		       rw->reason);
		return;
	}
	row_stats(rw, o->reps, qi, &s);
	paired(rw, find_row(&rw->cf, "pipe"), o->reps, qi, &sp);
	paired(rw, ref ? find_row(&rw->cf, ref) : NULL, o->reps, qi, &sr);
	fmt_value(med, sizeof(med), s.med);
	fmt_value(lo, sizeof(lo), s.min);
	fmt_value(hi, sizeof(hi), s.max);
	fmt_ratio(rp, sizeof(rp), &sp);
	fmt_ratio(rr, sizeof(rr), &sr);
	lost = row_lost(rw, o->reps, &decl);
	if (lost)
		n += (size_t)snprintf(notes + n, sizeof(notes) - n,
				      "LOST %" PRIu64 " (%" PRIu64
				      " declared) ",
				      lost, decl);
	wakes = row_wakes(rw, o->reps);
	if (wakes >= 0 && rw->cf.metric != METRIC_ONEWAY &&
	    rw->cf.metric != METRIC_PINGPONG)
		n += (size_t)snprintf(notes + n, sizeof(notes) - n,
				      "wakes/event %.2g ", wakes);
	if (s.n < o->reps)
		n += (size_t)snprintf(notes + n, sizeof(notes) - n,
				      "%u of %u runs failed: %s ",
				      o->reps - s.n, o->reps, rw->reason);
	if (ref && sr.n)
		snprintf(notes + n, sizeof(notes) - n, "ref %s", ref);
	printf("%-21s %6u %4u %10s %10s %10s", tps[rw->tp].name, rw->cf.size,
	       rw->cf.nsubs, med, lo, hi);
	if (rw->cf.metric == METRIC_THROUGHPUT)
		printf(" %8.0f", s.med * rw->cf.size / 1e6);
	else if (rw->cf.metric == METRIC_FANOUT)
		printf(" %8s",
		       (fmt_value(lo, sizeof(lo), s.med / rw->cf.nsubs), lo));
	else
		printf(" %8s", "");
	printf(" %19s %19s  %s\n", rp, rr, notes);
}

static void print_table(const struct options *o, const struct machine *m,
			int argc, char **argv)
{
	static const char *const titles[METRIC_COUNT] = {
		[METRIC_THROUGHPUT] = "throughput: 1 publisher -> 1 subscriber "
				      "process (msg/s; MB/s)",
		[METRIC_PINGPONG] =
			"latency: ping-pong RTT/2 (ns), busy readers",
		[METRIC_ONEWAY] = "latency: one-way (ns)",
		[METRIC_FANOUT] = "fan-out: 1 publisher -> N subscriber "
				  "processes (deliveries/s in total; per "
				  "subscriber)",
	};
	unsigned int c, i, metric;
	int a, q, nq;

	printf("# ringcast-bench:");
	for (a = 1; a < argc; a++)
		printf(" %s", argv[a]);
	printf("\n# machine: %s, %u CPUs online, %s, TSC %s, %s\n", m->cpu,
	       ncpu, m->kernel, m->tsc, m->compiler);
	printf("# idle CPUs: %s\n", m->idle);
	printf("# load average at start %.2f; pinning %s (foreign load at "
	       "start %.2f CPUs)\n# ",
	       m->loadavg,
	       o->pin == 1 ? "on" :
	       o->pin == 0 ? "off" :
	       start_load < PIN_MAX_LOAD ?
			     "auto: on where each process has a CPU" :
			     "auto: off, the machine is loaded",
	       start_load);
	print_load(stdout, o, "");
	printf("# %u repetitions, interleaved; median (min-max) over them; "
	       "x pipe and x ref: ratios within each repetition, median "
	       "(min-max)\n",
	       o->reps);
	for (metric = 0; metric < METRIC_COUNT; metric++) {
		if (!o->metrics[metric])
			continue;
		nq = metric == METRIC_ONEWAY ? 5 : 1;
		for (q = 0; q < nq; q++) {
			printf("\n== %s%s%s ==\n", titles[metric],
			       metric == METRIC_ONEWAY ? ", " : "",
			       metric == METRIC_ONEWAY ?
				       metric_label(
					       &(struct row){ .cf.metric =
								      metric },
					       q) +
					       15 :
				       "");
			printf("%-21s %6s %4s %10s %10s %10s %8s %19s %19s  %s\n",
			       "transport", "size", "subs", "median", "min",
			       "max",
			       metric == METRIC_THROUGHPUT ? "MB/s" :
			       metric == METRIC_FANOUT	   ? "per sub" :
							     "",
			       "x pipe", "x ref", "notes");
			for (c = 0; c < nconfigs; c++) {
				if (configs[c].metric != metric)
					continue;
				for (i = 0; i < nrows; i++)
					if (!memcmp(&rows[i].cf, &configs[c],
						    sizeof(configs[c])))
						print_row_line(
							o, &rows[i],
							metric == METRIC_ONEWAY ?
								ow_q[q] :
								-1);
			}
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fprintf(f, "null");
}

static void json_stat(FILE *f, const char *key, const struct stat3 *s)
{
	static const char *const suffix[3] = { "", "_min", "_max" };
	const double v[3] = { s->med, s->min, s->max };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		fprintf(f, ", \"%s%s\": ", key, suffix[i]);
		if (s->n)
			json_num(f, v[i]);
		else
			fprintf(f, "null");
	}
}

static void json_row(FILE *f, const struct options *o, const struct row *rw,
		     int qi, bool *first)
{
	const char *ref = ref_of(rw);
	struct stat3 s, sp, sr;
	uint64_t lost, decl;
	unsigned int r;
	double wakes;

	fprintf(f, "%s\n    {\"transport\": ", *first ? "" : ",");
	*first = false;
	json_str(f, tps[rw->tp].name);
	fprintf(f, ", \"metric\": ");
	json_str(f, metric_label(rw, qi < 0 ? 0 : qi));
	fprintf(f,
		", \"size\": %u, \"subscribers\": %u, \"unit\": ", rw->cf.size,
		rw->cf.nsubs);
	json_str(f, unit_of(rw));
	if (rw->status != RES_OK) {
		fprintf(f,
			", \"median\": null, \"min\": null, \"max\": null, "
			"\"ratio_to_pipe\": null, \"%s\": ",
			rw->status == RES_SKIP ? "skipped" : "failed");
		json_str(f, rw->reason);
		fprintf(f, "}");
		return;
	}
	row_stats(rw, o->reps, qi >= 0 ? ow_q[qi] : -1, &s);
	paired(rw, find_row(&rw->cf, "pipe"), o->reps, qi >= 0 ? ow_q[qi] : -1,
	       &sp);
	paired(rw, ref ? find_row(&rw->cf, ref) : NULL, o->reps,
	       qi >= 0 ? ow_q[qi] : -1, &sr);
	fprintf(f, ", \"median\": ");
	json_num(f, s.med);
	fprintf(f, ", \"min\": ");
	json_num(f, s.min);
	fprintf(f, ", \"max\": ");
	json_num(f, s.max);
	json_stat(f, "ratio_to_pipe", &sp);
	if (ref) {
		fprintf(f, ", \"ref\": ");
		json_str(f, ref);
		json_stat(f, "ratio_to_ref", &sr);
	}
	if (rw->cf.metric == METRIC_THROUGHPUT)
		fprintf(f, ", \"mb_per_s\": %.6g", s.med * rw->cf.size / 1e6);
	if (rw->cf.metric == METRIC_FANOUT)
		fprintf(f, ", \"per_subscriber\": %.6g", s.med / rw->cf.nsubs);
	lost = row_lost(rw, o->reps, &decl);
	fprintf(f,
		", \"lost\": %" PRIu64 ", \"declared_lost\": %" PRIu64
		", \"runs\": %u, \"messages_per_run\": %" PRIu64
		", \"busy\": %s, \"pinned\": %s",
		lost, decl, s.n, rw->count, rw->busy ? "true" : "false",
		rw->pin ? "true" : "false");
	wakes = row_wakes(rw, o->reps);
	if (wakes >= 0)
		fprintf(f, ", \"wakes_per_event\": %.6g", wakes);
	if (s.n < o->reps) {
		fprintf(f,
			", \"failed_runs\": %u, \"failure\": ", o->reps - s.n);
		json_str(f, rw->reason);
	}
	fprintf(f, ", \"samples\": [");
	for (r = 0; r < o->reps; r++) {
		fprintf(f, "%s", r ? ", " : "");
		if (rw->valid[r])
			json_num(f, row_value(rw, r, qi >= 0 ? ow_q[qi] : -1));
		else
			fprintf(f, "null");
	}
	fprintf(f, "]}");
}

static void print_json(const struct options *o, const struct machine *m,
		       int argc, char **argv)
{
	FILE *f = stdout;
	unsigned int i, r;
	bool first = true;
	struct stat3 s;
	int a, q;

	fprintf(f, "{\n  \"command\": ");
	{
		char cmd[2048];
		size_t n = 0;

		cmd[0] = 0;
		for (a = 0; a < argc && n < sizeof(cmd); a++)
			n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s",
					      a ? " " : "", argv[a]);
		json_str(f, cmd);
	}
	fprintf(f, ",\n  \"quick\": %s,\n  \"repetitions\": %u,\n",
		o->quick ? "true" : "false", o->reps);
	fprintf(f, "  \"machine\": {\"cpu\": ");
	json_str(f, m->cpu);
	fprintf(f, ", \"cores\": %u, \"kernel\": ", ncpu);
	json_str(f, m->kernel);
	fprintf(f, ", \"tsc\": ");
	json_str(f, m->tsc);
	fprintf(f, ", \"compiler\": ");
	json_str(f, m->compiler);
	fprintf(f, ", \"idle\": ");
	json_str(f, m->idle);
	fprintf(f, ", \"load_average\": %.2f, \"foreign_load_at_start\": %.3f",
		m->loadavg, start_load);
	load_stats(o, &s);
	fprintf(f,
		",\n    \"foreign_load\": {\"unit\": \"CPUs\", "
		"\"median\": %.3f, \"max\": %.3f, \"before\": [",
		s.med, s.max);
	for (r = 0; r < o->reps; r++)
		fprintf(f, "%s%.3f", r ? ", " : "", load_before[r]);
	fprintf(f, "], \"during\": [");
	for (r = 0; r < o->reps; r++)
		fprintf(f, "%s%.3f", r ? ", " : "", load_during[r]);
	fprintf(f, "]},\n    \"line_transfer_ns\": [");
	for (r = 0; r < o->reps; r++) {
		if (isnan(line_before[r]))
			fprintf(f, "%snull", r ? ", " : "");
		else
			fprintf(f, "%s%.1f", r ? ", " : "", line_before[r]);
	}
	fprintf(f, "]},\n  \"rows\": [");
	for (i = 0; i < nrows; i++) {
		if (rows[i].cf.metric == METRIC_ONEWAY)
			for (q = 0; q < 5; q++)
				json_row(f, o, &rows[i], q, &first);
		else
			json_row(f, o, &rows[i], -1, &first);
	}
	fprintf(f, "\n  ]\n}\n");
}

/* The targets of the issue, from the paired ratios. */
static void print_targets(const struct options *o)
{
	static const struct config tp64 = { METRIC_THROUGHPUT, 64, 1 };
	static const struct config pp = { METRIC_PINGPONG, 64, 1 };
	static const struct config f8 = { METRIC_FANOUT, 64, 8 };
	static const struct {
		const struct config *cf;
		const char *a, *b, *goal;
		double min, max;
	} t[] = {
		{ &tp64, "ringcast-lossy-busy", "bare-ring", ">= 0.8", 0.8,
		  INFINITY },
		{ &tp64, "ringcast-reliable", "bare-ring", ">= 0.8", 0.8,
		  INFINITY },
		{ &tp64, "ringcast-lossy-sleep", "bare-ring-futex", ">= 0.8",
		  0.8, INFINITY },
		{ &f8, "ringcast-reliable", "bare-ring-futex", ">= 0.8", 0.8,
		  INFINITY },
		{ &f8, "ringcast-reliable", "pipe", ">= 10", 10, INFINITY },
		{ &pp, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2 },
		{ &pp, "ringcast-reliable", "physical-limit", "<= 2", 0, 2 },
		{ &tp64, "ringcast-reliable", "zeromq", ">= 10", 10, INFINITY },
		{ &tp64, "ringcast-zero-copy", "iceoryx", ">= 50", 50,
		  INFINITY },
	};
	unsigned int i;
	bool any = false;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct row *a = find_row(t[i].cf, t[i].a);
		struct row *b = find_row(t[i].cf, t[i].b);
		struct stat3 s;
		char buf[64];

		if (!a || !b)
			continue;
		paired(a, b, o->reps, -1, &s);
		if (!any) {
			struct stat3 ls;

			load_stats(o, &ls);
			printf("\n== targets (paired ratios, median (min-max)) "
			       "==\n");
			if (ls.med > QUIET_MAX_LOAD)
				printf("# the machine was not quiet (foreign "
				       "load %.2f CPUs): not a run to judge "
				       "targets on\n",
				       ls.med);
		}
		any = true;
		fmt_ratio(buf, sizeof(buf), &s);
		printf("%-11s %3uB N=%-2u %-21s / %-16s %-20s goal %-6s %s\n",
		       metric_names[t[i].cf->metric], t[i].cf->size,
		       t[i].cf->nsubs, t[i].a, t[i].b, buf, t[i].goal,
		       !s.n				      ? "n/a" :
		       s.med >= t[i].min && s.med <= t[i].max ? "met" :
								"MISSED");
	}
	{
		struct row *a = find_row(&tp64, "ringcast-lossy-sleep");
		double w = a && a->status == RES_OK ? row_wakes(a, o->reps) :
						      -1;

		if (w >= 0)
			printf("throughput   64B N=1  ringcast-lossy-sleep "
			       "futex wakes per event %.4f goal <= 0.01 %s\n",
			       w, w <= 0.01 ? "met" : "MISSED");
	}
}

/* ----------------------------------------------------------------------
 * Plots
 */

/*
 * One data file per transport and chart (DIR/CHART-TRANSPORT.dat), "x y"
 * per line; a plot clause for each file that has points.
 */
static void plot_series(const struct options *o, FILE *g, const char *chart,
			unsigned int metric, bool *first)
{
	char path[PATH_MAX + 128];
	unsigned int c, k, q, r;

	for (k = 0; k < NTP; k++) {
		unsigned int points = 0;
		FILE *f;

		if (!o->want[k])
			continue;
		snprintf(path, sizeof(path), "%s/%s-%s.dat", o->plot_dir, chart,
			 tps[k].name);
		f = fopen(path, "w");
		if (!f)
			continue;
		for (c = 0; c < nconfigs; c++) {
			struct row *rw;
			struct stat3 s;

			if (configs[c].metric != metric)
				continue;
			rw = find_row(&configs[c], tps[k].name);
			if (!rw || rw->status != RES_OK)
				continue;
			row_stats(rw, o->reps, metric == METRIC_ONEWAY ? 6 : -1,
				  &s);
			if (!s.n)
				continue;
			if (metric != METRIC_ONEWAY) {
				fprintf(f, "%u %g\n",
					metric == METRIC_FANOUT ?
						configs[c].nsubs :
						configs[c].size,
					s.med);
				points++;
				continue;
			}
			/* The repetition whose p50 is nearest the median. */
			{
				unsigned int best = 0;
				double d = INFINITY;

				for (r = 0; r < o->reps; r++)
					if (rw->valid[r] &&
					    fabs(rw->res[r].q[6] - s.med) < d) {
						d = fabs(rw->res[r].q[6] -
							 s.med);
						best = r;
					}
				for (q = 0; q < NQ; q++, points++)
					fprintf(f, "%g %g\n",
						rw->res[best].q[q] > 1 ?
							rw->res[best].q[q] :
							1,
						bench_quantiles[q]);
			}
		}
		fclose(f);
		if (!points)
			unlink(path);
		if (points)
			fprintf(g, "%s'%s-%s.dat' with linespoints title '%s'",
				*first ? "plot " : ", ", chart, tps[k].name,
				tps[k].name);
		*first = *first && !points;
	}
	if (!*first)
		fprintf(g, "\n");
}

static int write_plots(const struct options *o)
{
	char path[PATH_MAX + 64], cmd[PATH_MAX + 128];
	bool first;
	FILE *g;
	int ret;

	if (mkdir(o->plot_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "--plot %s: %s\n", o->plot_dir,
			strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/plots.gp", o->plot_dir);
	g = fopen(path, "w");
	if (!g)
		return -1;
	fprintf(g, "set terminal png size 800,480 font ',9'\n"
		   "set key outside right top\nset grid\n"
		   "set style data linespoints\n");
	if (o->metrics[METRIC_THROUGHPUT]) {
		fprintf(g,
			"set output 'throughput.png'\nset logscale xy\n"
			"set title 'throughput, 1 -> 1 (median messages/s)'\n"
			"set xlabel 'payload bytes'\n"
			"set ylabel 'messages/s'\n");
		first = true;
		plot_series(o, g, "throughput", METRIC_THROUGHPUT, &first);
	}
	if (o->metrics[METRIC_FANOUT]) {
		fprintf(g, "set output 'fanout.png'\nset logscale xy\n"
			   "set title 'fan-out, 64 B (median deliveries/s, all "
			   "subscribers)'\nset xlabel 'subscribers'\n"
			   "set ylabel 'deliveries/s'\n");
		first = true;
		plot_series(o, g, "fanout", METRIC_FANOUT, &first);
	}
	if (o->metrics[METRIC_ONEWAY]) {
		fprintf(g,
			"set output 'latency-cdf.png'\nunset logscale\n"
			"set logscale x\nset title 'one-way latency, 64 B, %u "
			"msg/s (repetition with the median p50)'\n"
			"set xlabel 'ns'\nset ylabel 'fraction of messages'\n"
			"set yrange [0:1]\n",
			o->rate);
		first = true;
		plot_series(o, g, "latency-cdf", METRIC_ONEWAY, &first);
	}
	fclose(g);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && gnuplot plots.gp >/dev/null 2>gnuplot.log",
		 o->plot_dir);
	ret = system(cmd);
	if (ret != 0) {
		fprintf(stderr,
			"ringcast-bench: gnuplot failed (see %s/gnuplot.log)\n",
			o->plot_dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/gnuplot.log", o->plot_dir);
	{
		struct stat st;

		if (!stat(path, &st) && !st.st_size)
			unlink(path);
	}
	fprintf(stderr, "ringcast-bench: plots in %s\n", o->plot_dir);
	return 0;
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
