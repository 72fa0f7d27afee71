// SPDX-License-Identifier: MIT
/*
 * ringcast-bench: statistics over the repetitions of a row, and the
 * ratios of two rows taken pair by pair.
 */
#include <stdio.h>
#include <string.h>

#include "driver.h"

void stat3(double *v, unsigned int n, struct stat3 *s)
{
	s->n = n;
	if (!n)
		return;
	s->med = bench_median(v, n);
	s->min = v[0];
	s->max = v[n - 1];
}

/* The foreign load before the repetitions, over them. */
void load_stats(const struct options *o, struct stat3 *s)
{
	double v[MAX_REPS];

	memcpy(v, load_before, sizeof(v));
	stat3(v, o->reps, s);
}

/* The value a row reports; one-way rows report quantile @qi. */
double row_value(const struct row *rw, unsigned int r, int qi)
{
	if (rw->cf.metric == METRIC_ONEWAY && qi >= 0)
		return rw->res[r].q[qi];
	return rw->res[r].value;
}

void row_stats(const struct row *rw, unsigned int reps, int qi, struct stat3 *s)
{
	double v[MAX_REPS];
	unsigned int r, n = 0;

	for (r = 0; r < reps; r++)
		if (rw->valid[r])
			v[n++] = row_value(rw, r, qi);
	memset(s, 0, sizeof(*s));
	stat3(v, n, s);
}

struct row *find_row(const struct config *cf, const char *name)
{
	int k = tp_index(name);
	unsigned int i;

	for (i = 0; i < nrows; i++)
		if (rows[i].tp == (unsigned int)k &&
		    rows[i].cf.metric == cf->metric &&
		    rows[i].cf.size == cf->size &&
		    rows[i].cf.nsubs == cf->nsubs && rows[i].cf.mix == cf->mix)
			return &rows[i];
	return NULL;
}

const char *const placement_names[PLACE_COUNT] = {
	[PLACE_CORE] = "one core",
	[PLACE_L3] = "one L3",
	[PLACE_DIES] = "two dies",
	[PLACE_NONE] = "not probed",
};

unsigned int placement_of(double line_ns)
{
	if (!(line_ns > 0))
		return PLACE_NONE;
	return line_ns < PLACE_CORE_NS ? PLACE_CORE :
	       line_ns < PLACE_L3_NS   ? PLACE_L3 :
					 PLACE_DIES;
}

void paired_at(const struct row *a, const struct row *b, unsigned int reps,
	       int qi, unsigned int place, bool bytes, struct stat3 *s)
{
	double v[MAX_REPS], wa = 1, wb = 1;
	unsigned int r, n = 0;

	memset(s, 0, sizeof(*s));
	if (!a || !b)
		return;
	if (bytes) {
		wa = a->mean_size;
		wb = b->mean_size;
	}
	for (r = 0; r < reps; r++) {
		if (place < PLACE_COUNT &&
		    placement_of(line_before[r]) != place)
			continue;
		if (a->valid[r] && b->valid[r] && row_value(b, r, qi) > 0 &&
		    wb > 0)
			v[n++] = row_value(a, r, qi) * wa /
				 (row_value(b, r, qi) * wb);
	}
	stat3(v, n, s);
}

/* Ratios a/b, pair by pair within each repetition. */
void paired(const struct row *a, const struct row *b, unsigned int reps, int qi,
	    struct stat3 *s)
{
	paired_at(a, b, reps, qi, PLACE_COUNT, false, s);
}

const char *workload_label(const struct config *cf, char *buf, size_t len)
{
	if (cf->mix)
		snprintf(buf, len, "%s", bench_mix_name(cf->mix));
	else
		snprintf(buf, len, "%u", cf->size);
	return buf;
}

/* The reference a row is judged against, or NULL. */
const char *ref_of(const struct row *rw)
{
	const struct tp *tp = &tps[rw->tp];

	if (rw->cf.metric == METRIC_CHURN)
		return NULL; /* the row's value is a ratio of its own */
	if (rw->cf.metric == METRIC_PINGPONG)
		return strcmp(tp->name, "physical-limit") ? "physical-limit" :
							    NULL;
	if (!tp->ringcast)
		return NULL;
	if (rw->cf.mix || tp->data)
		return rw->busy ? "bare-varring" : "bare-varring-futex";
	return rw->busy ? "bare-ring" : "bare-ring-futex";
}

const char *metric_label(const struct row *rw, int qi)
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
	case METRIC_CHURN:
		return "churn-p99-ratio";
	default:
		return ow[qi];
	}
}

const char *unit_of(const struct row *rw)
{
	switch (rw->cf.metric) {
	case METRIC_THROUGHPUT:
		return "msg/s";
	case METRIC_FANOUT:
		return "deliveries/s";
	case METRIC_CHURN:
		return "ratio";
	default:
		return "ns";
	}
}

uint64_t row_lost(const struct row *rw, unsigned int reps, uint64_t *declared)
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

double row_wakes(const struct row *rw, unsigned int reps)
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
