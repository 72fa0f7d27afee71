// SPDX-License-Identifier: MIT
/*
 * ringcast-bench: the transports, in table order, and the options that
 * choose among them.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* ----------------------------------------------------------------------
 * Transports, in table order
 */

#define BUILTIN(n, tr, ...)                      \
	{                                        \
		.name = n, .t = &tr, __VA_ARGS__ \
	}
#define PEER(n, exe, why)                                  \
	{                                                  \
		.name = n, .peer = exe, .why_missing = why \
	}

struct tp tps[] = {
	BUILTIN("physical-limit", t_physical_limit),
	BUILTIN("bare-ring", t_bare_ring),
	BUILTIN("bare-ring-futex", t_bare_ring_futex),
	BUILTIN("bare-varring", t_bare_varring),
	BUILTIN("bare-varring-futex", t_bare_varring_futex),
	BUILTIN("ringcast-lossy-busy", t_ringcast_lossy_busy, .ringcast = true),
	BUILTIN("ringcast-lossy-sleep", t_ringcast_lossy_sleep,
		.ringcast = true),
	BUILTIN("ringcast-reliable", t_ringcast_reliable, .ringcast = true,
		.adaptive = true),
	BUILTIN("ringcast-zero-copy", t_ringcast_zero_copy, .ringcast = true,
		.adaptive = true),
	BUILTIN("ringcast-nodata", t_ringcast_nodata, .ringcast = true,
		.adaptive = true),
	BUILTIN("ringcast-data", t_ringcast_data, .ringcast = true,
		.adaptive = true, .data = true),
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

static_assert(sizeof(tps) / sizeof(tps[0]) == NTP, "NTP counts tps[]");

int tp_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < NTP; i++)
		if (!strcmp(tps[i].name, name))
			return (int)i;
	return -1;
}

/* A peer's flags are its executable's: none that the driver reads. */
unsigned int tp_flags(const struct tp *tp)
{
	return tp->t ? tp->t->flags : 0;
}

/* ----------------------------------------------------------------------
 * Options
 */

const char *const metric_names[METRIC_COUNT] = {
	[METRIC_THROUGHPUT] = "throughput", [METRIC_PINGPONG] = "pingpong",
	[METRIC_ONEWAY] = "oneway",	    [METRIC_FANOUT] = "fanout",
	[METRIC_CHURN] = "churn",
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
		"(default 8,64,256,1024,4096,65536);\n"
		"                       ping-pong runs those up to 1024\n"
		"  --subscribers LIST   fan-out subscriber counts, up to %u "
		"(default 1,2,4,8,16)\n"
		"  --metrics LIST       throughput,pingpong,oneway,fanout,churn "
		"(default: all)\n"
		"                       churn: ringcast-reliable to the largest "
		"N at %u events/s,\n"
		"                       its publish p99 with and without %u "
		"processes attaching\n"
		"                       and detaching subscribers (1000/s "
		"each)\n"
		"  --workloads LIST     fixed,mixed,mixed-small (default: all; "
		"quick: fixed)\n"
		"                       mixed: sizes log-uniform from 16 B to "
		"64 KiB, mixed-small\n"
		"                       to 1 KiB, in throughput and fan-out\n"
		"  --seed S             of the mixed sizes' sequence (default "
		"1)\n"
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
		prog, MAX_SUBS, CHURN_RATE, CHURN_PROCS);
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

static void parse_workloads(const char *prog, const char *s, bool *want)
{
	char buf[256], *tok, *save;
	unsigned int i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; i < MIX_COUNT; i++)
		want[i] = false;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < MIX_COUNT; i++)
			if (!strcmp(tok, bench_mix_name(i)))
				break;
		if (i == MIX_COUNT) {
			fprintf(stderr, "%s: --workloads: unknown '%s'\n", prog,
				tok);
			exit(2);
		}
		want[i] = true;
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

void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "transports", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "subscribers", required_argument, NULL, 'n' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "workloads", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 'S' },
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
	bool wl = false;
	unsigned int i;
	int c;

	memset(o, 0, sizeof(*o));
	o->pin = -1;
	o->rate = 10000;
	o->batch = 32;
	o->seed = MIX_SEED;
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
					    MAX_NS, 1, MAX_SUBS);
			ns = true;
			break;
		case 'm':
			parse_metrics(prog, optarg, o->metrics);
			break;
		case 'W':
			parse_workloads(prog, optarg, o->workloads);
			wl = true;
			break;
		case 'S':
			o->seed = (uint32_t)parse_num(prog, "seed", optarg, 0,
						      UINT32_MAX);
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
	if (!wl)
		for (i = 0; i < MIX_COUNT; i++)
			o->workloads[i] = i == MIX_NONE || !o->quick;
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
