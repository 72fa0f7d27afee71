// SPDX-License-Identifier: MIT
/*
 * memory - what a ring's memory holds of a stream of mixed-size events
 * (docs/benchmarks.md, "Memory of mixed sizes").
 *
 * The stream is the mixed workload of ringcast-bench (harness.h): sizes
 * log-uniform from 16 B to 64 KiB, drawn from a seed.  For a ring, the
 * window is the newest events it retains after a long stream; its bytes
 * in use are slots * slot_size + data_size.  Printed per geometry: the
 * events retained and their payload bytes, and the ring's bytes over
 * that payload.  Two ways for ringcast's rings with a data area:
 *
 *   model    the layout of docs/design.md: an event of at most the
 *            slot's capacity stays inline; a larger one takes a slot and
 *            roundup(16 + len, 64) bytes of the data area, never across
 *            its end (the rest of a lap is skipped); the window is the
 *            newest events whose slots and data bytes are not yet
 *            overwritten, averaged over many points of the stream
 *   library  the same stream published into a real ring (no subscriber),
 *            then ringcast_ring_get_stats(): head - oldest, what the
 *            ring promises a reader that joins then (it gives up data
 *            in quarters of the data area, so a little less)
 *
 * and for fixed slots (RINGCAST_CREATE_NO_DATA), the fixed-slot answer of
 * before: every event takes one slot of the size that holds the largest
 * (128 KiB for 64 KiB events), and the window is the ring's slot count.
 *
 * Usage: memory [--seed S] [--events N]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define DEFAULT_EVENTS 300000ull
#define SAMPLES 1000u

struct geom {
	const char *what;
	uint32_t slots, slot_size;
	uint64_t data_size; /* 0: none */
};

static uint64_t footprint(uint32_t len)
{
	return ((uint64_t)len + 16 + 63) & ~63ull;
}

/*
 * Model: the data position where each event's record starts (UINT64_MAX
 * inline) and the end of the data written after each event.
 */
static void model(const struct geom *g, uint64_t n, double *events,
		  double *payload)
{
	uint32_t cap = g->slot_size - RINGCAST_SLOT_HEADER;
	uint64_t *start = malloc(n * sizeof(*start));
	uint64_t i, pos = 0, step = n / 2 / SAMPLES, taken = 0;
	double ev = 0, pay = 0;

	if (!start) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		uint32_t len = bench_mix_sizes[i & (MIX_LEN - 1)];
		uint64_t f, off;

		if (len <= cap || !g->data_size) {
			start[i] = UINT64_MAX;
			continue;
		}
		f = footprint(len);
		off = pos & (g->data_size - 1);
		if (off + f > g->data_size)
			pos += g->data_size - off; /* a fill record */
		start[i] = pos;
		pos += f;
		/* After a stream of half the events, sample. */
		if (i >= n / 2 && taken < SAMPLES && !(i % (step ? step : 1))) {
			uint64_t e, k = 0;
			double p = 0;

			/* The newest events whose slot and data are intact. */
			for (e = i + 1; e-- > 0 && k < g->slots; k++) {
				if (start[e] != UINT64_MAX &&
				    start[e] + g->data_size < pos)
					break;
				p += bench_mix_sizes[e & (MIX_LEN - 1)];
			}
			ev += (double)k;
			pay += p;
			taken++;
		}
	}
	free(start);
	*events = taken ? ev / taken : 0;
	*payload = taken ? pay / taken : 0;
}

/* Library: publish the stream into a real ring, then ask what it holds. */
static int library(const struct geom *g, uint64_t n, double *events,
		   double *payload)
{
	struct ringcast_ring_opts ro = {
		.slots = g->slots,
		.slot_size = g->slot_size,
		.data_size = g->data_size,
	};
	struct ringcast_ring_stats st;
	struct ringcast_pub *pub;
	char name[64];
	unsigned char *buf;
	uint64_t i;
	int ret;

	snprintf(name, sizeof(name), "rcb-memory-%d", (int)getpid());
	buf = calloc(1, MIX_MAX);
	if (!buf)
		return -ENOMEM;
	ret = ringcast_ring_create(
		name, &ro,
		RINGCAST_CREATE_EXCL |
			(g->data_size ? 0 : RINGCAST_CREATE_NO_DATA));
	if (ret < 0)
		goto out_free;
	ret = ringcast_pub_attach(name, 0, &pub);
	if (ret < 0)
		goto out_remove;
	for (i = 0; i < n; i++) {
		ret = ringcast_pub_publish(pub, 1, buf,
					   bench_mix_sizes[i & (MIX_LEN - 1)]);
		if (ret < 0)
			goto out_detach;
	}
	ret = ringcast_ring_get_stats(name, &st);
	if (ret < 0)
		goto out_detach;
	*events = (double)(st.head - st.oldest);
	*payload = 0;
	for (i = st.oldest; i < st.head; i++)
		*payload += bench_mix_sizes[i & (MIX_LEN - 1)];
	ret = 0;
out_detach:
	ringcast_pub_detach(pub);
out_remove:
	ringcast_ring_remove_force(name);
out_free:
	free(buf);
	return ret;
}

static void print_row(const char *how, const struct geom *g, double events,
		      double payload)
{
	double bytes = (double)g->slots * g->slot_size + (double)g->data_size;

	printf("%-34s %-8s %6u x %-7u %8.0f KiB %9.0f %11.0f KiB %8.2f\n",
	       g->what, how, g->slots, g->slot_size,
	       (double)g->data_size / 1024, events, payload / 1024,
	       payload > 0 ? bytes / payload : 0);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const struct geom data[] = {
		{ "default ring (data area)", RINGCAST_DEFAULT_SLOTS,
		  RINGCAST_DEFAULT_SLOT_SIZE, 4u << 20 },
		{ "1024 slots, 1 MiB data area", 1024,
		  RINGCAST_DEFAULT_SLOT_SIZE, 1u << 20 },
		{ "16384 slots, 16 MiB data area", 16384,
		  RINGCAST_DEFAULT_SLOT_SIZE, 16u << 20 },
	};
	uint32_t seed = MIX_SEED;
	uint64_t n = DEFAULT_EVENTS;
	double ev, pay;
	unsigned int i;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's')
			seed = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'n')
			n = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	if (n < 4 * MIX_LEN || bench_mix_init(MIX_MIXED, seed) < 0) {
		fprintf(stderr, "usage: memory [--seed S] [--events N >= %u]\n",
			4 * MIX_LEN);
		return 2;
	}
	printf("# memory: sizes log-uniform %u B to %u B, seed %u, mean %.0f "
	       "B; %llu events published\n",
	       MIX_MIN, MIX_MAX, seed, bench_mix_mean(0, MIX_LEN),
	       (unsigned long long)n);
	printf("# ring bytes = slots x slot_size + data area; x payload = "
	       "ring bytes / payload bytes of the events it retains\n");
	printf("%-34s %-8s %16s %12s %9s %15s %8s\n", "ring", "how",
	       "slots x size", "data area", "events", "payload", "x payload");
	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		model(&data[i], n, &ev, &pay);
		print_row("model", &data[i], ev, pay);
		ret = library(&data[i], n, &ev, &pay);
		if (ret < 0) {
			printf("%-34s library: %s\n", data[i].what,
			       ringcast_strerror(ret));
			continue;
		}
		print_row("library", &data[i], ev, pay);
	}
	/* Fixed slots holding the largest event, as many slots as the
	 * default ring retains events, and the 64 KiB slots of the issue. */
	{
		struct geom fixed[] = {
			{ "fixed slots (no data area)", 512, 128u << 10, 0 },
			{ "fixed slots (no data area)", 1024, 128u << 10, 0 },
			{ "64 KiB slots (events < 64 KiB)", 1024, 64u << 10,
			  0 },
		};

		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			double p = bench_mix_mean(0, MIX_LEN) * fixed[i].slots;

			print_row("mean", &fixed[i], fixed[i].slots, p);
		}
		printf("# fixed slots: every event takes a slot, so the window "
		       "is the slot count and its payload the mean size times "
		       "it (64 KiB slots carry up to %u B: the sizes above "
		       "are cut there)\n",
		       (64u << 10) - RINGCAST_SLOT_HEADER);
	}
	return 0;
}
