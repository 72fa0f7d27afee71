// SPDX-License-Identifier: MIT
/*
 * ringcast-bench --plot: charts drawn by gnuplot, and their data.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

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

			if (configs[c].metric != metric || configs[c].mix)
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

int write_plots(const struct options *o)
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
