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
 * With a workload, mixed or mixed-small (harness.h), the events have its
 * sizes instead, on the default ring (4096 slots of 256 bytes, a data
 * area of MIX_DATA_BYTES: events above 224 bytes go there).
 *
 * Usage: pathcost [K [mixed|mixed-small]]   (K: events, default 3200000)
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
static int stream(const char *name, uint64_t k, uint32_t mix)
{
	struct ringcast_ring_opts ro = {
		.slots = mix ? RINGCAST_DEFAULT_SLOTS : 16384,
		.slot_size = mix ? RINGCAST_DEFAULT_SLOT_SIZE : 128,
		.max_subscribers = 4,
		.mode = 0600,
		.data_size = mix ? MIX_DATA_BYTES : 0,
	};
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE,
					.wait = RINGCAST_WAIT_BUSY };
	static unsigned char buf[BATCH][MIX_MAX];
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
						 .len = 64,
						 .data = buf[j] };
	for (i = 0; i + BATCH <= k; i += BATCH) {
		if (mix)
			for (j = 0; j < BATCH; j++)
				msgs[j].len =
					bench_mix_sizes[(i + j) & (MIX_LEN - 1)];
		r = ringcast_pub_publish_batch(pub, msgs, BATCH);
		if (r < 0)
			goto out_pub;
		for (j = 0; j < BATCH; j++) {
			r = ringcast_sub_next(sub, &ev, -1);
			if (r < 0)
				goto out_pub;
			got += ev.len == msgs[j].len;
		}
	}
	r = got == i ? 0 : -EBADMSG;
	printf("%llu events of %s published and read\n",
	       (unsigned long long)got, mix ? bench_mix_name(mix) : "64 bytes");
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
	uint32_t mix = MIX_NONE;
	char name[64];
	double ms;
	int r;

	if (argc > 2) {
		for (mix = MIX_MIXED; mix < MIX_COUNT; mix++)
			if (!strcmp(argv[2], bench_mix_name(mix)))
				break;
		if (mix == MIX_COUNT || bench_mix_init(mix, MIX_SEED) < 0) {
			fprintf(stderr,
				"usage: pathcost [K [mixed|mixed-small]]\n");
			return 2;
		}
	}
	snprintf(name, sizeof(name), "pathcost-%d", (int)getpid());
	r = attach_ms(name, &ms);
	if (r < 0)
		goto fail;
	printf("attach of a 64 MiB ring: %.1f ms (median of %u)\n", ms,
	       ATTACHES);
	r = stream(name, k, mix);
	if (r < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "pathcost: %s\n", ringcast_strerror(r));
	return 1;
}
