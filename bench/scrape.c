// SPDX-License-Identifier: MIT
/*
 * scrape: what a Prometheus scrape of ringcast costs.
 *
 *  1. The CPU time of one scrape of R rings of S registered subscribers
 *     each, as ringcast-exporter makes it: the monitors opened once, then
 *     per scrape each ring's stats and subscribers and the whole text
 *     (tools/promfmt.c) into memory.  Median and spread of --scrapes.
 *  2. A publisher's throughput on one of those rings with a scraper
 *     thread scraping every --period ms against without, over --pairs
 *     interleaved pairs of --window ms runs (the order within a pair
 *     alternates): medians, spreads, and the median of the per-pair
 *     ratios.
 *
 * The subscribers are lossy handles of this process that never read
 * (they are table entries to report, and never gate the publisher).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "promfmt.h"
#include "ringcast.h"

static unsigned int nrings = 64, nsubs = 64, nscrapes = 50, npairs = 20;
static unsigned int window_ms = 500, period_ms = 100;

static char (*names)[64];
static struct ringcast_mon **mons;
static struct ringcast_ring_subscriber *subbuf;

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned int ncreated;

static void die(const char *what, int err)
{
	unsigned int i;

	fprintf(stderr, "scrape: %s: %s (%s)\n", what, ringcast_strerror(err),
		ringcast_errdetail());
	/* Leave nothing in /dev/shm. */
	for (i = 0; i < ncreated; i++)
		ringcast_ring_remove_force(names[i]);
	exit(1);
}

/* One scrape of every ring, as the exporter does it: bytes written. */
static size_t scrape_once(void)
{
	struct prom_ring *rings = calloc(nrings, sizeof(*rings));
	char *buf = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *f;
	int n;

	if (!rings)
		die("calloc", -ENOMEM);
	for (i = 0; i < nrings; i++) {
		struct prom_ring *r = &rings[i];

		r->name = names[i];
		r->err = ringcast_mon_get_stats(mons[i], &r->st);
		if (r->err)
			continue;
		n = ringcast_mon_get_subscribers(mons[i], subbuf + i * nsubs,
						 nsubs);
		if (n < 0)
			r->err = n;
		r->subs = subbuf + i * nsubs;
		r->nsubs = n > (int)nsubs ? (int)nsubs : n;
		prom_read_bridges(names[i], r);
	}
	f = open_memstream(&buf, &len);
	if (!f)
		die("open_memstream", -ENOMEM);
	prom_write(f, PROM_TEXT, rings, nrings);
	fclose(f);
	free(buf);
	free(rings);
	return len;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- load */

static atomic_bool stop_scraper;
static atomic_uint scrapes_done;

static void *scraper(void *arg)
{
	uint64_t next = ns_of(CLOCK_MONOTONIC);

	while (!atomic_load(&stop_scraper)) {
		struct timespec ts;

		scrape_once();
		atomic_fetch_add(&scrapes_done, 1);
		next += (uint64_t)period_ms * 1000000u;
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return NULL;
}

/* Events per second published in one window, scraped or not. */
static double run_window(struct ringcast_pub *pub, bool scraped)
{
	static const char payload[64];
	uint64_t start, end, n = 0;
	pthread_t th;
	int r;

	atomic_store(&stop_scraper, false);
	if (scraped && pthread_create(&th, NULL, scraper, NULL))
		die("pthread_create", -EAGAIN);
	start = ns_of(CLOCK_MONOTONIC);
	end = start + (uint64_t)window_ms * 1000000u;
	for (;;) {
		unsigned int k;

		for (k = 0; k < 1024; k++) {
			r = ringcast_pub_publish(pub, 1, payload,
						 sizeof(payload));
			if (r < 0)
				die("publish", r);
		}
		n += 1024;
		if (ns_of(CLOCK_MONOTONIC) >= end)
			break;
	}
	end = ns_of(CLOCK_MONOTONIC);
	if (scraped) {
		atomic_store(&stop_scraper, true);
		pthread_join(th, NULL);
	}
	return (double)n * 1e9 / (double)(end - start);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rings", required_argument, NULL, 'r' },
		{ "subscribers", required_argument, NULL, 's' },
		{ "scrapes", required_argument, NULL, 'n' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'w' },
		{ "period", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct ringcast_ring_opts o = { .slots = 1024, .slot_size = 128 };
	struct ringcast_sub_opts so = { 0 };
	struct ringcast_sub **subs;
	struct ringcast_pub *pub;
	double *without, *with, *ratio;
	uint64_t *cpu;
	unsigned int i, j;
	size_t bytes = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned int v =
			(unsigned int)strtoul(optarg ? optarg : "0", NULL, 10);

		switch (c) {
		case 'r':
			nrings = v;
			break;
		case 's':
			nsubs = v;
			break;
		case 'n':
			nscrapes = v;
			break;
		case 'p':
			npairs = v;
			break;
		case 'w':
			window_ms = v;
			break;
		case 'P':
			period_ms = v;
			break;
		default:
			fprintf(stderr,
				"usage: scrape [--rings N] [--subscribers N] "
				"[--scrapes N] [--pairs N] [--window MS] "
				"[--period MS]\n");
			return 2;
		}
	}
	if (!nrings || !nsubs || !nscrapes || !npairs || !window_ms ||
	    !period_ms || nsubs > RINGCAST_MAX_SUBSCRIBERS)
		return 2;
	o.max_subscribers = nsubs;

	names = calloc(nrings, sizeof(*names));
	mons = calloc(nrings, sizeof(*mons));
	subs = calloc((size_t)nrings * nsubs, sizeof(*subs));
	subbuf = calloc((size_t)nrings * nsubs, sizeof(*subbuf));
	cpu = calloc(nscrapes, sizeof(*cpu));
	without = calloc(npairs, sizeof(*without));
	with = calloc(npairs, sizeof(*with));
	ratio = calloc(npairs, sizeof(*ratio));
	if (!names || !mons || !subs || !subbuf || !cpu || !without || !with ||
	    !ratio)
		die("calloc", -ENOMEM);
	for (i = 0; i < nrings; i++) {
		snprintf(names[i], sizeof(names[i]), "bench-scrape-%d-%u",
			 (int)getpid(), i);
		r = ringcast_ring_create(names[i], &o, RINGCAST_CREATE_EXCL);
		if (r < 0)
			die("create", r);
		ncreated++;
		for (j = 0; j < nsubs; j++) {
			r = ringcast_sub_attach(names[i], &so,
						&subs[i * nsubs + j], NULL);
			if (r < 0)
				die("sub_attach", r);
		}
		r = ringcast_mon_open(names[i], &mons[i]);
		if (r < 0)
			die("mon_open", r);
	}
	r = ringcast_pub_attach(names[0], 0, &pub);
	if (r < 0)
		die("pub_attach", r);

	/* 1. A scrape's CPU time, the monitors open already. */
	scrape_once(); /* warm: first touches, /proc pages */
	for (i = 0; i < nscrapes; i++) {
		uint64_t t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);

		bytes = scrape_once();
		cpu[i] = ns_of(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	qsort(cpu, nscrapes, sizeof(*cpu), cmp_u64);
	printf("scrape of %u rings x %u subscribers (%zu bytes of text), "
	       "CPU time over %u scrapes:\n"
	       "  median %.3f ms  min %.3f ms  p25 %.3f ms  p75 %.3f ms  "
	       "max %.3f ms\n",
	       nrings, nsubs, bytes, nscrapes, cpu[nscrapes / 2] / 1e6,
	       cpu[0] / 1e6, cpu[nscrapes / 4] / 1e6,
	       cpu[3 * nscrapes / 4] / 1e6, cpu[nscrapes - 1] / 1e6);

	/* 2. Publish throughput, scraped every period_ms or not. */
	for (i = 0; i < npairs; i++) {
		if (i % 2) {
			with[i] = run_window(pub, true);
			without[i] = run_window(pub, false);
		} else {
			without[i] = run_window(pub, false);
			with[i] = run_window(pub, true);
		}
		ratio[i] = with[i] / without[i];
	}
	printf("publish throughput of 64-byte events on one of the rings, "
	       "%u interleaved pairs of %u ms windows,\n"
	       "scraped every %u ms (%u scrapes in all) or not:\n",
	       npairs, window_ms, period_ms, atomic_load(&scrapes_done));
	qsort(without, npairs, sizeof(*without), cmp_dbl);
	qsort(with, npairs, sizeof(*with), cmp_dbl);
	qsort(ratio, npairs, sizeof(*ratio), cmp_dbl);
	printf("  without scrapes: median %.2f M/s  min %.2f  max %.2f\n",
	       without[npairs / 2] / 1e6, without[0] / 1e6,
	       without[npairs - 1] / 1e6);
	printf("  with scrapes:    median %.2f M/s  min %.2f  max %.2f\n",
	       with[npairs / 2] / 1e6, with[0] / 1e6, with[npairs - 1] / 1e6);
	printf("  with/without per pair: median %.3f  min %.3f  p25 %.3f  "
	       "p75 %.3f  max %.3f\n",
	       ratio[npairs / 2], ratio[0], ratio[npairs / 4],
	       ratio[3 * npairs / 4], ratio[npairs - 1]);

	ringcast_pub_close(pub);
	for (i = 0; i < nrings; i++) {
		for (j = 0; j < nsubs; j++)
			ringcast_sub_detach(subs[i * nsubs + j]);
		ringcast_mon_close(mons[i]);
		ringcast_ring_remove(names[i]);
	}
	free(names);
	free(mons);
	free(subs);
	free(subbuf);
	free(cpu);
	free(without);
	free(with);
	free(ratio);
	return 0;
}
