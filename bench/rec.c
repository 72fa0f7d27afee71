// SPDX-License-Identifier: MIT
/*
 * rec: the recording rate against the ring's rate and the file system's.
 *
 * Usage: rec DIR SIZE COUNT [none|segment|interval]
 *
 * A child publishes COUNT events of SIZE bytes into a fresh ring (batches
 * of 64, a ring of 16384 slots) as fast as a reliable subscriber lets it;
 * the parent reads them, three ways, one after the other, each with a
 * fresh ring and child:
 *
 *   ring     reads and drops them (the ring's own rate)
 *   record   appends each to a recording in DIR/rec (segments of 64 MiB,
 *            the fsync policy given), closed at the end (its last flush
 *            and sync counted)
 *   write    writes as many bytes as the recording holds to DIR/plain,
 *            1 MiB per write(), with the same syncs (segment: one every
 *            64 MiB and at the end; interval: once a second and at the
 *            end): the file system's sequential write rate, same run
 *
 * One row per way: events/s, payload MB/s, file MB/s (bytes written to
 * the file system per second), and for record its ratio to write and to
 * ring.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringcast.h"

#define BATCH 64u
#define SEG (64ull << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "rec: %s: %s\n", what, ringcast_strerror(err));
	exit(1);
}

static void publisher(const char *name, uint32_t size, uint64_t count)
{
	struct ringcast_msg msgs[BATCH];
	struct ringcast_pub *pub;
	unsigned char *buf = malloc(size ? size : 1);
	uint64_t done = 0;
	unsigned int i;
	int r;

	memset(buf, 'x', size);
	r = ringcast_pub_attach(name, 0, &pub);
	if (r)
		die("pub_attach", r);
	r = ringcast_pub_wait_subscribers(pub, 1, 10000000000ll);
	if (r < 0)
		die("wait_subscribers", r);
	for (i = 0; i < BATCH; i++)
		msgs[i] = (struct ringcast_msg){ 1, size, buf };
	while (done < count) {
		unsigned int n = count - done < BATCH ?
					 (unsigned int)(count - done) :
					 BATCH;

		r = ringcast_pub_publish_batch(pub, msgs, n);
		if (r < 0)
			die("publish_batch", r);
		done += n;
	}
	ringcast_pub_close(pub);
	_exit(0);
}

/* 0 ring, 1 record. */
static double run(const char *dir, int way, uint32_t size, uint64_t count,
		  uint32_t sync, uint64_t *file_bytes)
{
	struct ringcast_ring_opts ro = { .slots = 16384,
					 .slot_size = 128,
					 .data_size = 64u << 20 };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_ring_stats info;
	struct ringcast_rec *rec = NULL;
	struct ringcast_sub *sub;
	struct ringcast_event ev;
	char name[64], path[512];
	uint64_t got = 0, t0 = 0, t1;
	pid_t pid;
	int r, st;

	snprintf(name, sizeof(name), "bench-rec-%d-%d", (int)getpid(), way);
	r = ringcast_ring_create(name, &ro, RINGCAST_CREATE_EXCL);
	if (r < 0)
		die("create", r);
	r = ringcast_ring_get_stats(name, &info);
	if (r)
		die("stats", r);
	if (way == 1) {
		struct ringcast_rec_opts o = { .name = name,
					       .created_ns = info.created_ns,
					       .sync = sync,
					       .segment_size = SEG };

		snprintf(path, sizeof(path), "rm -rf '%s/rec'", dir);
		if (system(path))
			exit(1);
		snprintf(path, sizeof(path), "%s/rec", dir);
		r = ringcast_rec_create(path, &o, &rec, NULL);
		if (r < 0)
			die("rec_create", r);
	}
	r = ringcast_sub_attach(name, &so, &sub, NULL);
	if (r)
		die("sub_attach", r);
	pid = fork();
	if (pid == 0)
		publisher(name, size, count);
	for (;;) {
		/* Reliable: the publisher cannot overwrite a borrowed event. */
		r = ringcast_sub_borrow(sub, &ev, -1);
		if (r == -EPIPE)
			break;
		if (r)
			die("sub_next", r);
		if (!got++)
			t0 = now_ns();
		if (rec) {
			struct ringcast_rec_entry e = {
				.kind = RINGCAST_REC_EVENT,
				.ev = ev,
			};

			r = ringcast_rec_append(rec, &e);
			if (r)
				die("rec_append", r);
		}
		r = ringcast_sub_release(sub, &ev);
		if (r)
			die("sub_release", r);
	}
	if (rec) {
		struct ringcast_rec_stats rs;

		ringcast_rec_get_stats(rec, &rs);
		*file_bytes = rs.bytes;
		r = ringcast_rec_close(rec);
		if (r)
			die("rec_close", r);
	}
	t1 = now_ns();
	ringcast_sub_detach(sub);
	waitpid(pid, &st, 0);
	ringcast_ring_remove(name);
	if (got != count) {
		fprintf(stderr, "rec: got %" PRIu64 " of %" PRIu64 "\n", got,
			count);
		exit(1);
	}
	/* The first event starts the clock: count - 1 intervals. */
	return (double)(t1 - t0) / 1e9;
}

static double plain_write(const char *dir, uint64_t bytes, uint32_t sync)
{
	static unsigned char buf[1 << 20];
	uint64_t done = 0, t0, last_sync, since = 0;
	char path[512];
	int fd;

	memset(buf, 'x', sizeof(buf));
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	t0 = last_sync = now_ns();
	while (done < bytes) {
		size_t n = bytes - done < sizeof(buf) ? (size_t)(bytes - done) :
							sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w <= 0) {
			perror("write");
			exit(1);
		}
		done += (uint64_t)w;
		since += (uint64_t)w;
		if ((sync == RINGCAST_REC_SYNC_SEGMENT && since >= SEG) ||
		    (sync == RINGCAST_REC_SYNC_INTERVAL &&
		     now_ns() - last_sync >= 1000000000ull)) {
			fdatasync(fd);
			since = 0;
			last_sync = now_ns();
		}
	}
	if (sync != RINGCAST_REC_SYNC_NONE)
		fdatasync(fd);
	close(fd);
	unlink(path);
	return (double)(now_ns() - t0) / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const policies[] = { "none", "segment", "interval" };
	uint64_t count, fbytes = 0;
	uint32_t size, sync = 0;
	double tr, tw, tf, pay;

	if (argc < 4) {
		fprintf(stderr,
			"usage: rec DIR SIZE COUNT [none|segment|interval]\n");
		return 2;
	}
	size = (uint32_t)strtoul(argv[2], NULL, 10);
	count = strtoull(argv[3], NULL, 10);
	if (argc > 4) {
		for (sync = 0; sync < 3; sync++)
			if (!strcmp(argv[4], policies[sync]))
				break;
		if (sync == 3)
			return 2;
	}
	pay = (double)size * (double)count;
	tr = run(argv[1], 0, size, count, sync, NULL);
	tw = run(argv[1], 1, size, count, sync, &fbytes);
	tf = plain_write(argv[1], fbytes, sync);
	printf("# size %u B, %" PRIu64 " events, fsync %s, recording %" PRIu64
	       " bytes\n",
	       size, count, policies[sync], fbytes);
	printf("%-8s %12s %10s %10s\n", "way", "events/s", "payload", "file");
	printf("%-8s %12.0f %7.0f MB/s %10s\n", "ring", (double)count / tr,
	       pay / tr / 1e6, "-");
	printf("%-8s %12.0f %7.0f MB/s %5.0f MB/s\n", "record",
	       (double)count / tw, pay / tw / 1e6, (double)fbytes / tw / 1e6);
	printf("%-8s %12s %10s %5.0f MB/s\n", "write", "-", "-",
	       (double)fbytes / tf / 1e6);
	printf("record/write %.2f, record/ring %.2f (events/s)\n", tf / tw,
	       tr / tw);
	return 0;
}
