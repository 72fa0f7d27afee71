// SPDX-License-Identifier: MIT
/*
 * dispatch - what a TypeMux costs per event, by the number of registered
 * handlers.
 *
 * A manual mux (RINGCAST_MUX_MANUAL) reads a ring in this process; the
 * events are published beforehand (not timed), then ringcast_mux_dispatch()
 * is timed until every event was delivered.  The handler only counts.
 * Rows:
 *   none    no handler: the ring read and the registry lookup alone
 *   same    N handlers all on the events' type: each event runs N handlers
 *   spread  N handlers on N types, events cycling over them: each event
 *           runs one handler, looked up among N entries
 * The figure is the median over the runs of (time / events), in ns.
 *
 * Usage: dispatch [--events K] [--runs R]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define MAX_HANDLERS 64

static void count_fn(const struct ringcast_event *ev, void *arg)
{
	(*(uint64_t *)arg)++;
}

/* One configuration: n handlers, spread over types or not. */
static int run(const char *ring, unsigned int n, int spread, uint32_t events,
	       unsigned int runs, double *median)
{
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_MANUAL |
						RINGCAST_MUX_POST };
	struct ringcast_mux_sub *subs[MAX_HANDLERS];
	double ns[64];
	struct ringcast_mux *mux;
	uint64_t calls = 0, done, t0;
	unsigned int i, k;
	uint32_t type;
	int r;

	r = ringcast_mux_open(ring, &o, &mux);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		type = spread ? i : 0;
		r = ringcast_mux_handle(mux, &type, 1, count_fn, &calls,
					&subs[i]);
		if (r < 0)
			return r;
	}
	for (k = 0; k < runs; k++) {
		for (i = 0; i < events; i++) {
			type = spread && n ? i % n : 0;
			r = ringcast_mux_post(mux, type, &i, sizeof(i));
			if (r < 0)
				return r;
		}
		done = 0;
		t0 = now_ns();
		while (done < events) {
			r = ringcast_mux_dispatch(mux, 0);
			if (r < 0)
				return r;
			done += (uint64_t)r;
		}
		ns[k] = (double)(now_ns() - t0) / events;
	}
	*median = bench_median(ns, runs);
	for (i = 0; i < n; i++)
		ringcast_mux_sub_free(subs[i]);
	/* Every handler ran once per event of its type. */
	if (n && calls != (uint64_t)events * runs * (spread ? 1 : n))
		return -EBADMSG;
	return ringcast_mux_close(mux);
}

int main(int argc, char **argv)
{
	static const unsigned int counts[] = { 1, 8, 64 };
	struct ringcast_ring_opts ro = { .slots = 1u << 18, .slot_size = 64 };
	uint32_t events = 100000;
	unsigned int runs = 7, i;
	char ring[64];
	double med;
	int r, spread, a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--events") && a + 1 < argc) {
			events = (uint32_t)strtoul(argv[++a], NULL, 0);
		} else if (!strcmp(argv[a], "--runs") && a + 1 < argc) {
			runs = (unsigned int)strtoul(argv[++a], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--events K] [--runs R]\n",
				argv[0]);
			return a == 1 && !strcmp(argv[a], "--help") ? 0 : 2;
		}
	}
	if (!events || events > ro.slots / 2 || !runs || runs > 64) {
		fprintf(stderr, "dispatch: events 1..%u, runs 1..64\n",
			ro.slots / 2);
		return 2;
	}
	snprintf(ring, sizeof(ring), "bench-dispatch-%d", (int)getpid());
	r = ringcast_ring_create(ring, &ro, RINGCAST_CREATE_EXCL);
	if (r < 0) {
		fprintf(stderr, "dispatch: %s\n", ringcast_strerror(r));
		return 1;
	}
	printf("# %u events of 4 bytes per run, %u runs, median ns per event\n",
	       events, runs);
	printf("%-8s %8s %12s\n", "mode", "handlers", "ns/event");
	r = run(ring, 0, 0, events, runs, &med);
	if (r < 0)
		goto fail;
	printf("%-8s %8u %12.1f\n", "none", 0u, med);
	for (spread = 0; spread < 2; spread++) {
		for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			r = run(ring, counts[i], spread, events, runs, &med);
			if (r < 0)
				goto fail;
			printf("%-8s %8u %12.1f\n", spread ? "spread" : "same",
			       counts[i], med);
		}
	}
	ringcast_ring_remove_force(ring);
	return 0;
fail:
	fprintf(stderr, "dispatch: %s\n", ringcast_strerror(r));
	ringcast_ring_remove_force(ring);
	return 1;
}
