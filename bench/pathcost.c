// SPDX-License-Identifier: MIT
/*
 * pathcost - what the publish and read paths cost in one process, where
 * nothing waits: meant to run under callgrind, which counts instructions,
 * the same for the same binary whatever else the machine does.
 *
 * A 16384-slot ring of 128-byte slots (ringcast-bench's geometry at
 * 64 bytes), one reliable subscriber; K events of 64 bytes are published
 * in batches of 32 with ringcast_pub_publish_batch() and read back with
 * ringcast_sub_next() after each batch.  Before that, the time to attach
 * a 64 MiB ring (65536 slots of 1 KiB), the median of 5: the page-table
 * fill of a prefaulted mapping.
 *
 * Usage: pathcost [K]      (K: events, default 3200000)
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *           build-bench/bench/pathcost 3200000
 *   callgrind_annotate --inclusive=yes /tmp/cg.out |
 *           grep -E '=>.*ringcast_(sub_next|pub_publish_batch) '
 *
 * and divide each count by K (docs/benchmarks.md, "Path cost").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define BATCH 32u
#define ATTACHES 5u

/* The median time of ATTACHES attaches of a 64 MiB ring, in ms. */
static int attach_ms(const char *name, double *ms)
{
	struct ringcast_ring_opts ro = {
		.slots = 65536,
		.slot_size = 1024,
		.max_subscribers = 4,
		.mode = 0600,
	};
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_NEWEST };
	double t[ATTACHES];
	struct ringcast_sub *sub;
	unsigned int i;
	int r;

	r = ringcast_ring_create(name, &ro, RINGCAST_CREATE_EXCL);
	if (r < 0)
		return r;
	for (i = 0; i < ATTACHES; i++) {
		uint64_t t0 = now_ns();

		r = ringcast_sub_attach(name, &so, &sub, NULL);
		if (r < 0)
			goto out_remove;
		t[i] = (double)(now_ns() - t0) / 1e6;
		ringcast_sub_detach(sub);
	}
	*ms = bench_median(t, ATTACHES);
out_remove:
	ringcast_ring_remove_force(name);
	return r < 0 ? r : 0;
}

/* Publish k events in batches and read each batch back. */
static int stream(const char *name, uint64_t k)
{
	struct ringcast_ring_opts ro = {
		.slots = 16384,
		.slot_size = 128,
		.max_subscribers = 4,
		.mode = 0600,
	};
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE,
					.wait = RINGCAST_WAIT_BUSY };
	static unsigned char buf[BATCH][64];
	struct ringcast_msg msgs[BATCH];
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t i, got = 0;
	unsigned int j;
	int r;

	r = ringcast_ring_create(name, &ro, RINGCAST_CREATE_EXCL);
	if (r < 0)
		return r;
	r = ringcast_sub_attach(name, &so, &sub, NULL);
	if (r < 0)
		goto out_remove;
	r = ringcast_pub_attach(name, 0, &pub);
	if (r < 0)
		goto out_sub;
	for (j = 0; j < BATCH; j++)
		msgs[j] = (struct ringcast_msg){ .type = 1,
						 .len = sizeof(buf[j]),
						 .data = buf[j] };
	for (i = 0; i + BATCH <= k; i += BATCH) {
		r = ringcast_pub_publish_batch(pub, msgs, BATCH);
		if (r < 0)
			goto out_pub;
		for (j = 0; j < BATCH; j++) {
			r = ringcast_sub_next(sub, &ev, -1);
			if (r < 0)
				goto out_pub;
			got += ev.len == sizeof(buf[0]);
		}
	}
	r = got == i ? 0 : -EBADMSG;
	printf("%llu events of 64 bytes published and read\n",
	       (unsigned long long)got);
out_pub:
	ringcast_pub_close(pub);
out_sub:
	ringcast_sub_detach(sub);
out_remove:
	ringcast_ring_remove_force(name);
	return r;
}

int main(int argc, char **argv)
{
	uint64_t k = argc > 1 ? strtoull(argv[1], NULL, 10) : 3200000;
	char name[64];
	double ms;
	int r;

	snprintf(name, sizeof(name), "pathcost-%d", (int)getpid());
	r = attach_ms(name, &ms);
	if (r < 0)
		goto fail;
	printf("attach of a 64 MiB ring: %.1f ms (median of %u)\n", ms,
	       ATTACHES);
	r = stream(name, k);
	if (r < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "pathcost: %s\n", ringcast_strerror(r));
	return 1;
}
