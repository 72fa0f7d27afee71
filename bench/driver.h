/* SPDX-License-Identifier: MIT */
/*
 * ringcast-bench's own parts, private to it: the transports' table and the
 * options (options.c), the machine and its load (probe.c), iceoryx's
 * daemon (roudi.c), the plan and its runs (driver.c), their statistics
 * (stats.c), the table and JSON (report.c) and the charts (plot.c).
 */
#ifndef RINGCAST_BENCH_DRIVER_H
#define RINGCAST_BENCH_DRIVER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "harness.h"

#define MAX_REPS 50
#define MAX_SIZES 16
/* Ping-pong rows: the sizes of --sizes up to this. */
#define PINGPONG_MAX_SIZE 1024u
#define MAX_NS 16
#define ROUDI_SOCKET "/tmp/roudi"

/* Transports, in table order (options.c) */

struct tp {
	const char *name;
	const struct transport *t; /* built in, or NULL: a peer */
	const char *peer; /* the peer executable's name */
	const char *why_missing; /* peer: what the build did not find */
	bool ringcast; /* a ringcast row: compared with a bare ring */
	bool adaptive; /* busy readers where they fit the CPUs */
	bool data; /* through a data area: compared with a bare varring */
	const char *unavailable; /* set at run time: skipped, why */
	char peer_path[PATH_MAX + 64];
};

#define NTP 18 /* entries of tps[] */
extern struct tp tps[];

int tp_index(const char *name);
unsigned int tp_flags(const struct tp *tp);

/* Options (options.c) */

struct options {
	bool quick, json, verbose, mlock;
	bool idle_poll; /* hold /dev/cpu_dma_latency at 0 while running */
	int pin; /* -1 auto, 0 off, 1 on */
	const char *plot_dir;
	bool want[NTP];
	bool metrics[METRIC_COUNT];
	bool workloads[MIX_COUNT]; /* enum bench_mix */
	uint32_t seed; /* of the mixed workloads' sizes */
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

extern const char *const metric_names[METRIC_COUNT];

void parse_options(int argc, char **argv, struct options *o);

/* The machine and its load (probe.c) */

struct cpu_sample {
	uint64_t busy, total; /* clock ticks, all CPUs */
	uint64_t ours_us; /* CPU time of this process and its children */
};

struct machine {
	char cpu[128];
	char kernel[256];
	char compiler[64];
	char tsc[64];
	char idle[160];
	double loadavg;
};

extern unsigned int ncpu;
extern double tsc_per_ns;
extern double start_load; /* foreign load at start, in CPUs */
#define PIN_MAX_LOAD 0.5
/* Targets are judged on runs whose foreign load stayed below this. */
#define QUIET_MAX_LOAD 0.1

void cpu_sample(struct cpu_sample *s);
double foreign_cpus(const struct cpu_sample *a, const struct cpu_sample *b);
double sample_idle_load(unsigned int ms);
void idle_hold(void);
void idle_describe(struct machine *m);
void machine_describe(struct machine *m);
double line_probe(const struct options *o);

/*
 * Where the probe found the two CPUs before a repetition (RTT/2 of a
 * cache line, ns): two threads of one core (below 25 ns), two cores of
 * one L3 (below 100 ns), two dies (above), or not probed.  Ratios are
 * also summarised per placement: every spinning row follows it.
 */
enum placement { PLACE_CORE, PLACE_L3, PLACE_DIES, PLACE_NONE, PLACE_COUNT };
/*
 * Where the line probe (probe.c) puts the two CPUs, by its RTT/2: below
 * PLACE_CORE_NS two threads of one core, below PLACE_L3_NS two cores of
 * one L3, above that two dies (or sockets).
 */
#define PLACE_CORE_NS 25
#define PLACE_L3_NS 100

extern const char *const placement_names[PLACE_COUNT];
unsigned int placement_of(double line_ns);

/* RouDi, iceoryx's daemon (roudi.c) */

extern pid_t roudi_pid;

const char *roudi_start(void);
void roudi_stop(void);

/* Plan: configurations x transports x repetitions (driver.c) */

struct config {
	uint32_t metric, size, nsubs;
	uint32_t mix; /* enum bench_mix; size is then its largest */
};

struct row {
	struct config cf;
	unsigned int tp;
	bool busy, pin;
	uint64_t count, warm;
	double mean_size; /* payload bytes per timed message, on average */
	int status; /* RES_OK (measured), RES_SKIP, RES_FAIL */
	char reason[240];
	struct bench_result res[MAX_REPS];
	bool valid[MAX_REPS];
};

extern struct config configs[64];
extern unsigned int nconfigs;
extern struct row *rows;
extern unsigned int nrows;
extern double load_before[MAX_REPS], load_during[MAX_REPS];
/* A cache line's transfer between two CPUs (RTT/2, ns) before each one. */
extern double line_before[MAX_REPS];

void run_one(const struct options *o, struct row *rw, uint64_t count,
	     uint64_t warm, struct bench_result *res);

/* Statistics (stats.c) */

struct stat3 {
	unsigned int n;
	double med, min, max;
};

void stat3(double *v, unsigned int n, struct stat3 *s);
void load_stats(const struct options *o, struct stat3 *s);
double row_value(const struct row *rw, unsigned int r, int qi);
void row_stats(const struct row *rw, unsigned int reps, int qi,
	       struct stat3 *s);
struct row *find_row(const struct config *cf, const char *name);
void paired(const struct row *a, const struct row *b, unsigned int reps, int qi,
	    struct stat3 *s);
/* Ratios of repetitions at @place only (PLACE_COUNT: all); of bytes/s
 * with @bytes (the same as of events/s for fixed sizes). */
void paired_at(const struct row *a, const struct row *b, unsigned int reps,
	       int qi, unsigned int place, bool bytes, struct stat3 *s);
const char *workload_label(const struct config *cf, char *buf, size_t len);
const char *ref_of(const struct row *rw);
const char *metric_label(const struct row *rw, int qi);
const char *unit_of(const struct row *rw);
uint64_t row_lost(const struct row *rw, unsigned int reps, uint64_t *declared);
double row_wakes(const struct row *rw, unsigned int reps);

/* Output (report.c, plot.c) */

void print_table(const struct options *o, const struct machine *m, int argc,
		 char **argv);
void print_targets(const struct options *o);
void print_json(const struct options *o, const struct machine *m, int argc,
		char **argv);
int write_plots(const struct options *o);

#endif
