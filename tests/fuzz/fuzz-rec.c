// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: read a recording whose files are arbitrary bytes.
 *
 * The input becomes a recording directory (ringcast-recording(5)), then
 * every way in is tried on it: ringcast_rec_open() and ringcast_rec_next()
 * to the end, seeks to sequences the input names, each followed by reads,
 * and ringcast_rec_create() over it (the writer's recovery of a torn
 * tail) with an append, then a read again.  Everything must return 0 or
 * one of its documented errors, every read must end (-EAGAIN) within a
 * bound, and an event's payload must be readable whole: never a crash, a
 * hang or an out-of-bounds access.
 *
 * Input: chunks of [u8 kind][u16 length, little-endian][bytes]:
 *   kind & 1 == 0  a segment file, named by the first sequence its bytes
 *                  16-23 say (as a writer names it), or by its rank
 *   kind & 1 == 1  the index of the segment before it
 *   kind & 2       (the first chunk) also run the writer's recovery
 * tests/fuzz/pack-rec-seed.py packs a recording directory this way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "rec.h"
#include "ringcast.h"

/* More calls than records an input of 64 KiB can hold, many times over. */
#define FZ_MAX_CALLS 200000

static const int open_ok[] = { -ENODATA, -EBADMSG, 0 };
static const int next_ok[] = { -EAGAIN, -EBADMSG, 0 };
static const int seek_ok[] = { -ENODATA, -EBADMSG, -ENOENT, 0 };
static const int create_ok[] = { -EXDEV, -EBADMSG, -EEXIST, 0 };
static const int append_ok[] = { -EINVAL, 0 };

static void rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static void write_file(const char *dir, const char *name, const uint8_t *b,
		       size_t n)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fz_fail("open %s: %s", p, strerror(errno));
	if (n && write(fd, b, n) != (ssize_t)n)
		fz_fail("write %s", p);
	close(fd);
}

/* Where payload bytes go, so that reading them is not optimised away. */
static volatile unsigned char sink;

/* Read to the end; every payload touched whole. */
static void read_all(struct ringcast_rec *rec)
{
	struct ringcast_rec_entry e;
	int i, r;

	for (i = 0; i < FZ_MAX_CALLS; i++) {
		uint32_t k;

		r = ringcast_rec_next(rec, &e);
		fz_expect("ringcast_rec_next", r, 0, next_ok);
		if (r == -EAGAIN)
			return;
		if (r == -EBADMSG) {
			if (!e.segment)
				fz_fail("a damaged record without its place");
			continue;
		}
		if (e.kind > RINGCAST_REC_TAKEOVER || !e.segment)
			fz_fail("record of kind %u", e.kind);
		if (e.kind == RINGCAST_REC_EVENT && e.count != 1)
			fz_fail("an event covering %" PRIu64, e.count);
		if (e.ev.len > RC_REC_MAX_LEN)
			fz_fail("a payload of %u bytes", e.ev.len);
		for (k = 0; k < e.ev.len; k++)
			sink ^= ((const unsigned char *)e.ev.data)[k];
	}
	fz_fail("no end after %d calls", FZ_MAX_CALLS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[64], name[32];
	struct ringcast_rec *rec;
	struct ringcast_rec_stats st;
	uint64_t seeks[4] = { 0, 1, 1000, UINT64_MAX };
	uint64_t last_first = 0, next;
	size_t off = 0, nseg = 0;
	bool recover = size && (data[0] & 2);
	int r, i;

	snprintf(dir, sizeof(dir), "/tmp/fz-rec-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(dir))
		fz_fail("mkdtemp: %s", strerror(errno));
	while (off + 3 <= size && nseg < 16) {
		uint8_t kind = data[off];
		size_t n = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		const uint8_t *b = data + off + 3;

		off += 3;
		if (n > size - off)
			n = size - off;
		off += n;
		if (kind & 1) {
			snprintf(name, sizeof(name), "%020" PRIu64 ".idx",
				 last_first);
		} else {
			last_first = n >= 24 ? rc_get64(b + 16) : nseg;
			snprintf(name, sizeof(name), "%020" PRIu64 ".seg",
				 last_first);
			if (nseg < 3)
				seeks[nseg] = last_first + (n & 15);
			nseg++;
		}
		write_file(dir, name, b, n);
	}

	r = ringcast_rec_open(dir, 0, &rec);
	fz_expect("ringcast_rec_open", r, 0, open_ok);
	if (!r) {
		read_all(rec);
		for (i = 0; i < 4; i++) {
			r = ringcast_rec_seek(rec, seeks[i]);
			if (r != 1)
				fz_expect("ringcast_rec_seek", r, 0, seek_ok);
			if (r >= 0)
				read_all(rec);
		}
		ringcast_rec_get_stats(rec, &st);
		ringcast_rec_close(rec);

		if (recover) {
			struct ringcast_rec_opts o = {
				.name = st.name[0] ? st.name : "x",
				.created_ns = st.created_ns,
				.segment_size = 64 << 10,
			};
			struct ringcast_rec_entry e = { 0 };

			r = ringcast_rec_create(dir, &o, &rec, &next);
			fz_expect("ringcast_rec_create", r, 1, create_ok);
			if (r >= 0) {
				e.ev.seq = r ? next : 7;
				e.ev.len = 3;
				e.ev.data = "abc";
				fz_expect("ringcast_rec_append",
					  ringcast_rec_append(rec, &e), 0,
					  append_ok);
				ringcast_rec_close(rec);
				r = ringcast_rec_open(dir, 0, &rec);
				fz_expect("ringcast_rec_open", r, 0, open_ok);
				if (!r) {
					read_all(rec);
					ringcast_rec_close(rec);
				}
			}
		}
	}
	rm_dir(dir);
	return 0;
}
