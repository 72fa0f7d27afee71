// SPDX-License-Identifier: MIT
/*
 * ringcast-bench: the results as a table (with the targets) or as one
 * JSON document.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"

/* One-way rows: quantile indexes of p50, p90, p99, p99.9, max. */
static const int ow_q[5] = { 6, 10, 13, 15, 17 };

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

static void json_targets(FILE *f, const struct options *o);
static void print_scale_targets(const struct options *o, bool *any);
static void json_scale_targets(FILE *f, const struct options *o, bool first);

/* How many repetitions the probe put in each placement, and its rule. */
static void print_placements(FILE *f, const struct options *o)
{
	unsigned int n[PLACE_COUNT] = { 0 }, r, p;

	for (r = 0; r < o->reps; r++)
		n[placement_of(line_before[r])]++;
	fprintf(f,
		"# placement of the CPUs by that transfer (below %d ns one "
		"core, below %d ns one L3, above two dies), repetitions:",
		PLACE_CORE_NS, PLACE_L3_NS);
	for (p = 0; p < PLACE_COUNT; p++)
		if (n[p] || p != PLACE_NONE)
			fprintf(f, "%s %s %u", p ? ";" : "", placement_names[p],
				n[p]);
	fprintf(f, "\n");
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
	print_placements(f, o);
}

static void print_row_line(const struct options *o, const struct row *rw,
			   int qi)
{
	char med[16], lo[16], hi[16], rp[48], rr[48], notes[320], wl[32];
	const char *ref = ref_of(rw);
	struct stat3 s, sp, sr;
	uint64_t lost, decl;
	double wakes;
	size_t n = 0;

	notes[0] = 0;
	if (rw->status != RES_OK) {
		printf("%-21s %11s %4u %10s %10s %10s %8s %19s %19s  %s: %s\n",
		       tps[rw->tp].name,
		       workload_label(&rw->cf, wl, sizeof(wl)), rw->cf.nsubs,
		       "-", "-", "-", "-", "-", "-",
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
	if (rw->cf.mix && rw->cf.metric == METRIC_FANOUT)
		n += (size_t)snprintf(notes + n, sizeof(notes) - n,
				      "MB/s %.0f ",
				      s.med * rw->mean_size / 1e6);
	if (s.n < o->reps)
		n += (size_t)snprintf(notes + n, sizeof(notes) - n,
				      "%u of %u runs failed: %s ",
				      o->reps - s.n, o->reps, rw->reason);
	if (ref && sr.n)
		snprintf(notes + n, sizeof(notes) - n, "ref %s", ref);
	printf("%-21s %11s %4u %10s %10s %10s", tps[rw->tp].name,
	       workload_label(&rw->cf, wl, sizeof(wl)), rw->cf.nsubs, med, lo,
	       hi);
	if (rw->cf.metric == METRIC_THROUGHPUT)
		printf(" %8.0f", s.med * rw->mean_size / 1e6);
	else if (rw->cf.metric == METRIC_FANOUT)
		printf(" %8s",
		       (fmt_value(lo, sizeof(lo), s.med / rw->cf.nsubs), lo));
	else
		printf(" %8s", "");
	printf(" %19s %19s  %s\n", rp, rr, notes);
}

/* The median of q[@qi] over the good runs of @rw. */
static double q_median(const struct options *o, const struct row *rw, int qi)
{
	double v[MAX_REPS];
	unsigned int r, n = 0;
	struct stat3 s;

	for (r = 0; r < o->reps; r++)
		if (rw->valid[r])
			v[n++] = rw->res[r].q[qi];
	stat3(v, n, &s);
	return n ? s.med : NAN;
}

/* A churn row: the ratio, then the quantiles it comes from. */
static void print_churn_line(const struct options *o, const struct row *rw)
{
	char ratio[48];
	struct stat3 s;

	if (rw->status != RES_OK) {
		printf("%-21s %4u %-19s  %s: %s\n", tps[rw->tp].name,
		       rw->cf.nsubs, "-",
		       rw->status == RES_SKIP ? "skipped" : "FAILED",
		       rw->reason);
		return;
	}
	row_stats(rw, o->reps, -1, &s);
	fmt_ratio(ratio, sizeof(ratio), &s);
	printf("%-21s %4u %-19s %9.0f %9.0f %9.0f %9.0f %9.0f",
	       tps[rw->tp].name, rw->cf.nsubs, ratio,
	       q_median(o, rw, CHURN_Q_P99_QUIET),
	       q_median(o, rw, CHURN_Q_P99_CHURN),
	       q_median(o, rw, CHURN_Q_P50_QUIET),
	       q_median(o, rw, CHURN_Q_P50_CHURN),
	       q_median(o, rw, CHURN_Q_CYCLES));
	if (s.n < o->reps)
		printf("  %u of %u runs failed: %s", o->reps - s.n, o->reps,
		       rw->reason);
	printf("\n");
}

void print_table(const struct options *o, const struct machine *m, int argc,
		 char **argv)
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
		[METRIC_CHURN] = "churn: the publisher's publish latency (ns) "
				 "to N sleeping reliable readers at 1000 "
				 "events/s, "
				 "without and with subscribers attaching "
				 "and detaching",
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
	if (o->workloads[MIX_MIXED] || o->workloads[MIX_SMALL])
		printf("# mixed: sizes log-uniform from %u B to %u B, "
		       "mixed-small: to %u B; one sequence of %u sizes drawn "
		       "from seed %u, replayed by every transport; MB/s from "
		       "the mean size of the timed messages\n",
		       MIX_MIN, MIX_MAX, MIX_SMALL_MAX, MIX_LEN, o->seed);
	for (metric = 0; metric < METRIC_COUNT; metric++) {
		if (!o->metrics[metric])
			continue;
		if (metric == METRIC_CHURN) {
			printf("\n== %s ==\n", titles[metric]);
			printf("%-21s %4s %-19s %9s %9s %9s %9s %9s\n",
			       "transport", "subs", "p99 churn/quiet",
			       "p99 quiet", "p99 churn", "p50 quiet",
			       "p50 churn", "cycles");
			for (i = 0; i < nrows; i++)
				if (rows[i].cf.metric == METRIC_CHURN)
					print_churn_line(o, &rows[i]);
			continue;
		}
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
			printf("%-21s %11s %4s %10s %10s %10s %8s %19s %19s  %s\n",
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
		", \"size\": %u, \"workload\": \"%s\", \"subscribers\": %u, "
		"\"unit\": ",
		rw->cf.size, bench_mix_name(rw->cf.mix), rw->cf.nsubs);
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
	if (rw->cf.metric == METRIC_THROUGHPUT ||
	    rw->cf.metric == METRIC_FANOUT)
		fprintf(f, ", \"mean_size\": %.6g, \"bytes_per_s\": %.6g",
			rw->mean_size, s.med * rw->mean_size);
	if (rw->cf.metric == METRIC_THROUGHPUT)
		fprintf(f, ", \"mb_per_s\": %.6g", s.med * rw->mean_size / 1e6);
	if (rw->cf.metric == METRIC_FANOUT)
		fprintf(f, ", \"per_subscriber\": %.6g", s.med / rw->cf.nsubs);
	if (rw->cf.metric == METRIC_CHURN) {
		fprintf(f, ", \"p99_quiet_ns\": ");
		json_num(f, q_median(o, rw, CHURN_Q_P99_QUIET));
		fprintf(f, ", \"p99_churn_ns\": ");
		json_num(f, q_median(o, rw, CHURN_Q_P99_CHURN));
		fprintf(f, ", \"p50_quiet_ns\": ");
		json_num(f, q_median(o, rw, CHURN_Q_P50_QUIET));
		fprintf(f, ", \"p50_churn_ns\": ");
		json_num(f, q_median(o, rw, CHURN_Q_P50_CHURN));
		fprintf(f, ", \"churn_cycles\": ");
		json_num(f, q_median(o, rw, CHURN_Q_CYCLES));
	}
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

void print_json(const struct options *o, const struct machine *m, int argc,
		char **argv)
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
	fprintf(f,
		"],\n    \"placement_below_ns\": {\"one core\": %d, "
		"\"one L3\": %d}},\n  \"rows\": [",
		PLACE_CORE_NS, PLACE_L3_NS);
	for (i = 0; i < nrows; i++) {
		if (rows[i].cf.metric == METRIC_ONEWAY)
			for (q = 0; q < 5; q++)
				json_row(f, o, &rows[i], q, &first);
		else
			json_row(f, o, &rows[i], -1, &first);
	}
	fprintf(f, "\n  ]");
	json_targets(f, o);
	fprintf(f, "\n}\n");
}

/* The targets of the design, from the paired ratios. */
static const struct config tp64 = { METRIC_THROUGHPUT, 64, 1, MIX_NONE };
static const struct config pp = { METRIC_PINGPONG, 64, 1, MIX_NONE };
/* Events up to 32 B fit one 64-byte slot with their header: one line. */
static const struct config pp8 = { METRIC_PINGPONG, 8, 1, MIX_NONE };
static const struct config pp16 = { METRIC_PINGPONG, 16, 1, MIX_NONE };
static const struct config pp24 = { METRIC_PINGPONG, 24, 1, MIX_NONE };
static const struct config pp32 = { METRIC_PINGPONG, 32, 1, MIX_NONE };
static const struct config f8 = { METRIC_FANOUT, 64, 8, MIX_NONE };
static const struct config tpmix = { METRIC_THROUGHPUT, MIX_MAX, 1, MIX_MIXED };
static const struct config tpsmall = { METRIC_THROUGHPUT, MIX_SMALL_MAX, 1,
				       MIX_SMALL };
/* Large payloads: fixed slots and the data area, each at memory speed. */
static const struct config tp4k = { METRIC_THROUGHPUT, 4096, 1, MIX_NONE };
static const struct config tp64k = { METRIC_THROUGHPUT, 65536, 1, MIX_NONE };
static const struct config tp1m = { METRIC_THROUGHPUT, 1u << 20, 1, MIX_NONE };

static const struct target {
	const struct config *cf;
	const char *a, *b, *goal;
	double min, max;
	bool bytes; /* a ratio of bytes/s */
} targets[] = {
	{ &tp64, "ringcast-lossy-busy", "bare-ring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp64, "ringcast-reliable", "bare-ring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp64, "ringcast-lossy-sleep", "bare-ring-futex", ">= 0.8", 0.8,
	  INFINITY, false },
	{ &f8, "ringcast-reliable", "bare-ring-futex", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &f8, "ringcast-reliable", "pipe", ">= 10", 10, INFINITY, false },
	{ &pp8, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2, false },
	{ &pp8, "ringcast-reliable", "physical-limit", "<= 2", 0, 2, false },
	{ &pp16, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2, false },
	{ &pp16, "ringcast-reliable", "physical-limit", "<= 2", 0, 2, false },
	{ &pp24, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2, false },
	{ &pp24, "ringcast-reliable", "physical-limit", "<= 2", 0, 2, false },
	{ &pp32, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2, false },
	{ &pp32, "ringcast-reliable", "physical-limit", "<= 2", 0, 2, false },
	{ &pp, "ringcast-lossy-busy", "physical-limit", "<= 2", 0, 2, false },
	{ &pp, "ringcast-reliable", "physical-limit", "<= 2", 0, 2, false },
	{ &tp64, "ringcast-reliable", "zeromq", ">= 10", 10, INFINITY, false },
	{ &tp64, "ringcast-zero-copy", "iceoryx", ">= 50", 50, INFINITY,
	  false },
	{ &tp64, "ringcast-reliable", "ringcast-nodata", ">= 0.95", 0.95,
	  INFINITY, false },
	{ &tpmix, "ringcast-reliable", "bare-varring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tpmix, "ringcast-reliable", "bare-varring", ">= 0.8", 0.8, INFINITY,
	  true },
	{ &tpsmall, "ringcast-reliable", "pipe", ">= 10", 10, INFINITY, false },
	{ &tp4k, "ringcast-reliable", "bare-ring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp64k, "ringcast-reliable", "bare-ring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp1m, "ringcast-reliable", "bare-ring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp4k, "ringcast-data", "bare-varring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp64k, "ringcast-data", "bare-varring", ">= 0.8", 0.8, INFINITY,
	  false },
	{ &tp1m, "ringcast-data", "bare-varring", ">= 0.8", 0.8, INFINITY,
	  false },
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static const char *verdict(const struct target *t, const struct stat3 *s)
{
	return !s->n				    ? "n/a" :
	       s->med >= t->min && s->med <= t->max ? "met" :
						      "MISSED";
}

/* Per placement of the CPUs: "one L3 0.83 (0.80-0.85) x7; ..." */
static void placements(const struct options *o, const struct target *t,
		       const struct row *a, const struct row *b, char *buf,
		       size_t len)
{
	unsigned int p;
	size_t n = 0;

	buf[0] = 0;
	for (p = 0; p < PLACE_COUNT && n < len; p++) {
		struct stat3 s;
		char r[64];

		paired_at(a, b, o->reps, -1, p, t->bytes, &s);
		if (!s.n)
			continue;
		fmt_ratio(r, sizeof(r), &s);
		n += (size_t)snprintf(buf + n, len - n, "%s%s %s x%u",
				      n ? "; " : "", placement_names[p], r,
				      s.n);
	}
}

void print_targets(const struct options *o)
{
	unsigned int i;
	bool any = false;

	for (i = 0; i < NTARGETS; i++) {
		const struct target *t = &targets[i];
		struct row *a = find_row(t->cf, t->a);
		struct row *b = find_row(t->cf, t->b);
		char buf[64], wl[32], name[40], pl[320];
		struct stat3 s;

		if (!a || !b)
			continue;
		paired_at(a, b, o->reps, -1, PLACE_COUNT, t->bytes, &s);
		if (!any) {
			struct stat3 ls;

			load_stats(o, &ls);
			printf("\n== targets (paired ratios, median (min-max); "
			       "then by where the probe found the CPUs, x "
			       "repetitions) ==\n");
			if (ls.med > QUIET_MAX_LOAD)
				printf("# the machine was not quiet (foreign "
				       "load %.2f CPUs): not a run to judge "
				       "targets on\n",
				       ls.med);
		}
		any = true;
		fmt_ratio(buf, sizeof(buf), &s);
		snprintf(name, sizeof(name), "%s%s", t->a,
			 t->bytes ? " bytes/s" : "");
		snprintf(wl, sizeof(wl), "%s%s",
			 workload_label(t->cf, pl, sizeof(pl)),
			 t->cf->mix ? "" : "B");
		placements(o, t, a, b, pl, sizeof(pl));
		printf("%-11s %11s N=%-2u %-29s / %-16s %-20s goal %-6s %-6s "
		       "[%s]\n",
		       metric_names[t->cf->metric], wl, t->cf->nsubs, name,
		       t->b, buf, t->goal, verdict(t, &s), pl);
	}
	print_scale_targets(o, &any);
	{
		struct row *a = find_row(&tp64, "ringcast-lossy-sleep");
		double w = a && a->status == RES_OK ? row_wakes(a, o->reps) :
						      -1;

		if (w >= 0)
			printf("throughput          64B N=1  ringcast-lossy-sleep "
			       "futex wakes per event %.4f goal <= 0.01 %s\n",
			       w, w <= 0.01 ? "met" : "MISSED");
	}
}

/* The targets in the JSON document, with the ratios per placement. */
static void json_targets(FILE *f, const struct options *o)
{
	unsigned int i, p;
	bool first = true;

	fprintf(f, ",\n  \"targets\": [");
	for (i = 0; i < NTARGETS; i++) {
		const struct target *t = &targets[i];
		struct row *a = find_row(t->cf, t->a);
		struct row *b = find_row(t->cf, t->b);
		struct stat3 s;

		if (!a || !b)
			continue;
		paired_at(a, b, o->reps, -1, PLACE_COUNT, t->bytes, &s);
		fprintf(f,
			"%s\n    {\"metric\": \"%s\", \"workload\": \"%s\", "
			"\"size\": %u, \"subscribers\": %u, \"a\": \"%s\", "
			"\"b\": \"%s\", \"of\": \"%s\", \"goal\": \"%s\", "
			"\"verdict\": \"%s\"",
			first ? "" : ",", metric_names[t->cf->metric],
			bench_mix_name(t->cf->mix), t->cf->size, t->cf->nsubs,
			t->a, t->b, t->bytes ? "bytes/s" : "events/s", t->goal,
			verdict(t, &s));
		first = false;
		json_stat(f, "ratio", &s);
		fprintf(f, ", \"by_placement\": {");
		for (p = 0; p < PLACE_COUNT; p++) {
			paired_at(a, b, o->reps, -1, p, t->bytes, &s);
			fprintf(f, "%s\"%s\": {\"n\": %u", p ? ", " : "",
				placement_names[p], s.n);
			json_stat(f, "ratio", &s);
			fprintf(f, "}");
		}
		fprintf(f, "}}");
	}
	json_scale_targets(f, o, first);
	fprintf(f, "\n  ]");
}

/*
 * Targets of many readers: one transport against itself at another N, or a
 * row whose value is a ratio already (churn).  Their ratios are paired
 * per repetition too.
 */
static const struct config f16 = { METRIC_FANOUT, 64, 16, MIX_NONE };
static const struct config f1024 = { METRIC_FANOUT, 64, 1024, MIX_NONE };
static const struct config churn1024 = { METRIC_CHURN, 64, 1024, MIX_NONE };

static const struct scale_target {
	const struct config *cf, *cf_b; /* cf_b NULL: the row's own value */
	const char *name, *what, *goal;
	double min, max;
} scale_targets[] = {
	{ &f1024, &f16, "ringcast-reliable", "deliveries/s vs N=16", ">= 0.8",
	  0.8, INFINITY },
	{ &churn1024, NULL, "ringcast-reliable", "p99 with/without churn",
	  "<= 2", 0, 2 },
};

#define NSCALE (sizeof(scale_targets) / sizeof(scale_targets[0]))

static bool scale_stat(const struct options *o, const struct scale_target *t,
		       struct stat3 *s)
{
	struct row *a = find_row(t->cf, t->name);
	struct row *b = t->cf_b ? find_row(t->cf_b, t->name) : NULL;

	if (!a || (t->cf_b && !b))
		return false;
	if (b)
		paired_at(a, b, o->reps, -1, PLACE_COUNT, false, s);
	else if (a->status == RES_OK)
		row_stats(a, o->reps, -1, s);
	else
		memset(s, 0, sizeof(*s));
	return true;
}

static const char *scale_verdict(const struct scale_target *t,
				 const struct stat3 *s)
{
	return !s->n				    ? "n/a" :
	       s->med >= t->min && s->med <= t->max ? "met" :
						      "MISSED";
}

static void print_scale_targets(const struct options *o, bool *any)
{
	unsigned int i;

	for (i = 0; i < NSCALE; i++) {
		const struct scale_target *t = &scale_targets[i];
		char buf[64];
		struct stat3 s;

		if (!scale_stat(o, t, &s))
			continue;
		if (!*any)
			printf("\n== targets (paired ratios, median "
			       "(min-max)) ==\n");
		*any = true;
		fmt_ratio(buf, sizeof(buf), &s);
		printf("%-11s %11s N=%-4u %-29s %-24s %-20s goal %-6s %s\n",
		       metric_names[t->cf->metric], "64B", t->cf->nsubs,
		       t->name, t->what, buf, t->goal, scale_verdict(t, &s));
	}
}

static void json_scale_targets(FILE *f, const struct options *o, bool first)
{
	unsigned int i;

	for (i = 0; i < NSCALE; i++) {
		const struct scale_target *t = &scale_targets[i];
		struct stat3 s;

		if (!scale_stat(o, t, &s))
			continue;
		fprintf(f,
			"%s\n    {\"metric\": \"%s\", \"workload\": \"fixed\", "
			"\"size\": %u, \"subscribers\": %u, \"a\": \"%s\", "
			"\"of\": \"%s\", \"goal\": \"%s\", "
			"\"verdict\": \"%s\"",
			first ? "" : ",", metric_names[t->cf->metric],
			t->cf->size, t->cf->nsubs, t->name, t->what, t->goal,
			scale_verdict(t, &s));
		first = false;
		json_stat(f, "ratio", &s);
		fprintf(f, "}");
	}
}
