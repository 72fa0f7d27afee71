// SPDX-License-Identifier: MIT
/*
 * Recordings (ringcast_rec(3), ringcast-recording(5)): the checksum, a
 * round trip across rotated segments, the index, the sequence rules, a
 * continued recording and its torn tail, another incarnation, damaged
 * records found with their place, retention, the fsync policy, the files'
 * mode whatever the umask; and `ringcast record` killed 100 times and
 * restarted (RINGCAST_BIN).
 *
 * Linked with the static library: the checksum and the format's offsets
 * (src/rec.h) are reached directly, to damage files on purpose.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "rec.h"

extern char **environ;

static char t_dir[128];

/* A fresh directory for the case, removed in teardown. */
static void dir_setup(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/t-rec-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(t_dir));
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static void dir_teardown(void)
{
	if (getenv("T_REC_KEEP"))
		return;
	rm_tree(t_dir);
}

static const char *rec_path(const char *sub)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", t_dir, sub);
	return p;
}

/* The payload of sequence @seq: its length varies, its bytes are known. */
static uint32_t pay_len(uint64_t seq)
{
	return (uint32_t)((seq * 2654435761u) % 3000);
}

static void pay_fill(uint64_t seq, unsigned char *b)
{
	uint32_t i, n = pay_len(seq);

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(seq * 31 + i);
}

static struct ringcast_rec *writer(const char *path,
				   const struct ringcast_rec_opts *o0,
				   uint64_t *next, int want)
{
	struct ringcast_rec_opts o = { .name = "ring-a", .created_ns = 42 };
	struct ringcast_rec *w;

	if (o0)
		o = *o0;
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w, next), want);
	return w;
}

static void put_event(struct ringcast_rec *w, uint64_t seq)
{
	static unsigned char b[4096];
	struct ringcast_rec_entry e = { .kind = RINGCAST_REC_EVENT };

	pay_fill(seq, b);
	e.ev.seq = seq;
	e.ev.ts = 1000 + seq;
	e.ev.type = (uint32_t)(seq % 7);
	e.ev.epoch = 3;
	e.ev.publisher = RINGCAST_PUBLISHER_LEASE;
	e.ev.len = pay_len(seq);
	e.ev.data = b;
	ck_assert_int_eq(ringcast_rec_append(w, &e), 0);
}

static void put_gap(struct ringcast_rec *w, uint32_t kind, uint64_t seq,
		    uint64_t count)
{
	struct ringcast_rec_entry e = { .kind = kind, .count = count };

	e.ev.seq = seq;
	ck_assert_int_eq(ringcast_rec_append(w, &e), 0);
}

static void check_event(const struct ringcast_rec_entry *e, uint64_t seq)
{
	unsigned char b[4096];

	ck_assert_uint_eq(e->kind, RINGCAST_REC_EVENT);
	ck_assert_uint_eq(e->ev.seq, seq);
	ck_assert_uint_eq(e->ev.ts, 1000 + seq);
	ck_assert_uint_eq(e->ev.type, seq % 7);
	ck_assert_uint_eq(e->ev.epoch, 3);
	ck_assert_uint_eq(e->ev.publisher, RINGCAST_PUBLISHER_LEASE);
	ck_assert_uint_eq(e->ev.len, pay_len(seq));
	pay_fill(seq, b);
	ck_assert(!memcmp(e->ev.data, b, e->ev.len));
}

static int count_files(const char *path, const char *ext)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > strlen(ext) &&
		    !strcmp(e->d_name + l - strlen(ext), ext))
			n++;
	}
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------------- */

START_TEST(crc32c_vectors)
{
	unsigned char z[32] = { 0 }, f[32], inc[32], big[1000];
	size_t i;

	memset(f, 0xff, sizeof(f));
	for (i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	/* RFC 3720, B.4, and the classic check value. */
	ck_assert_uint_eq(rc_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(rc_crc32c_soft(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(rc_crc32c(0, z, 32), 0x8a9136aau);
	ck_assert_uint_eq(rc_crc32c_soft(0, z, 32), 0x8a9136aau);
	ck_assert_uint_eq(rc_crc32c(0, f, 32), 0x62a8ab43u);
	ck_assert_uint_eq(rc_crc32c_soft(0, f, 32), 0x62a8ab43u);
	ck_assert_uint_eq(rc_crc32c(0, inc, 32), 0x46dd794eu);
	ck_assert_uint_eq(rc_crc32c_soft(0, inc, 32), 0x46dd794eu);
	/* Continued, unaligned: the same as in one go, on both paths. */
	for (i = 0; i < 40; i++) {
		uint32_t one = rc_crc32c_soft(0, big + i, sizeof(big) - i);

		ck_assert_uint_eq(rc_crc32c(0, big + i, sizeof(big) - i), one);
		ck_assert_uint_eq(rc_crc32c(rc_crc32c(0, big + i, 13),
					    big + i + 13, sizeof(big) - i - 13),
				  one);
	}
}
END_TEST

/* Events of 0 to 3000 bytes, gaps, holes and a takeover, across segments. */
START_TEST(round_trip_rotation)
{
	const char *path = rec_path("r");
	struct ringcast_rec_opts o = { .name = "ring-a",
				       .created_ns = 42,
				       .segment_size = 64 << 10 };
	struct ringcast_rec *w, *r;
	struct ringcast_rec_entry e;
	struct ringcast_rec_stats st;
	uint64_t seq, n = 2000;
	DIR *d;
	struct dirent *de;

	w = writer(path, &o, NULL, 0);
	for (seq = 0; seq < n; seq++) {
		if (seq == 500) {
			put_gap(w, RINGCAST_REC_GAP, 500, 10);
			seq += 10;
		}
		if (seq == 900) {
			put_gap(w, RINGCAST_REC_HOLE, 900, 1);
			seq++;
			e = (struct ringcast_rec_entry){
				.kind = RINGCAST_REC_TAKEOVER,
				.ev = { .seq = seq, .epoch = 4 },
			};
			ck_assert_int_eq(ringcast_rec_append(w, &e), 0);
		}
		put_event(w, seq);
	}
	ringcast_rec_get_stats(w, &st);
	ck_assert_uint_eq(st.next, n);
	ck_assert_uint_gt(st.segments, 10);
	ck_assert_int_eq(ringcast_rec_close(w), 0);

	/* Rotation: every segment within the size (no event is larger). */
	d = opendir(path);
	while ((de = readdir(d))) {
		struct stat sb;
		char p[1024];

		if (!strstr(de->d_name, ".seg"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		ck_assert_int_eq(stat(p, &sb), 0);
		ck_assert_int_le(sb.st_size, 64 << 10);
	}
	closedir(d);
	ck_assert_int_eq(count_files(path, ".seg"), (int)st.segments);

	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (seq = 0; seq < n; seq++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		if (seq == 500) {
			ck_assert_uint_eq(e.kind, RINGCAST_REC_GAP);
			ck_assert_uint_eq(e.count, 10);
			seq += 10;
			ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		}
		if (seq == 900) {
			ck_assert_uint_eq(e.kind, RINGCAST_REC_HOLE);
			ck_assert_uint_eq(e.ev.seq, 900);
			ck_assert_uint_eq(e.count, 1);
			ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
			ck_assert_uint_eq(e.kind, RINGCAST_REC_TAKEOVER);
			ck_assert_uint_eq(e.ev.seq, 901);
			ck_assert_uint_eq(e.ev.epoch, 4);
			ck_assert_uint_eq(e.count, 0);
			seq++;
			ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		}
		check_event(&e, seq);
	}
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EAGAIN);
	ringcast_rec_get_stats(r, &st);
	ck_assert_str_eq(st.name, "ring-a");
	ck_assert_uint_eq(st.created_ns, 42);
	ck_assert_uint_eq(st.damaged, 0);
	ck_assert_int_eq(ringcast_rec_close(r), 0);
}
END_TEST

/* Events of @len bytes from 0 to @n - 1, in segments of @seg bytes. */
static void fill(const char *path, uint64_t n, uint64_t seg)
{
	struct ringcast_rec_opts o = { .name = "ring-a",
				       .created_ns = 42,
				       .segment_size = seg };
	struct ringcast_rec *w = writer(path, &o, NULL, 0);
	uint64_t s;

	for (s = 0; s < n; s++)
		put_event(w, s);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
}

/* Seek to every sequence, before the start, past the end, into a gap. */
START_TEST(seek_index)
{
	const char *path = rec_path("s");
	struct ringcast_rec *r, *w;
	struct ringcast_rec_entry e;
	uint64_t s, n = 3000, next;
	char p[1024];
	struct stat sb;

	fill(path, n, 1 << 20);
	/* The index has entries: a segment of ~4.5 MB, one per 64 KiB. */
	snprintf(p, sizeof(p), "%s/%020d.idx", path, 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_ge(sb.st_size, RC_IDX_HDR + 3 * RC_IDX_ENTRY);
	w = writer(path, NULL, &next, 1);
	ck_assert_uint_eq(next, n);
	put_gap(w, RINGCAST_REC_GAP, n, 100);
	put_event(w, n + 100);
	ck_assert_int_eq(ringcast_rec_close(w), 0);

	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < n; s += 1 + s % 5) {
		ck_assert_int_eq(ringcast_rec_seek(r, s), 0);
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, s);
	}
	/* Backwards too. */
	ck_assert_int_eq(ringcast_rec_seek(r, 7), 0);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	check_event(&e, 7);
	/* Into the gap: the gap that covers it. */
	ck_assert_int_eq(ringcast_rec_seek(r, n + 50), 0);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	ck_assert_uint_eq(e.kind, RINGCAST_REC_GAP);
	ck_assert_uint_eq(e.ev.seq, n);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	check_event(&e, n + 100);
	/* Past the end: nothing yet. */
	ck_assert_int_eq(ringcast_rec_seek(r, n + 500), 0);
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EAGAIN);
	ringcast_rec_close(r);
}
END_TEST

/*
 * The seek goes by the index, not by a scan: a damaged record early in
 * the segment is not met by a seek to a sequence far after it.
 */
START_TEST(seek_skips_by_index)
{
	const char *path = rec_path("x");
	struct ringcast_rec *r;
	struct ringcast_rec_entry e;
	uint64_t off = 0;
	char p[1024];
	int fd;

	fill(path, 3000, 64 << 20);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	ck_assert_int_eq(ringcast_rec_seek(r, 10), 0);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	off = e.offset;
	ringcast_rec_close(r);
	snprintf(p, sizeof(p), "%s/%020d.seg", path, 0);
	fd = open(p, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff\xff\xff\xff", 4,
				(off_t)off + RC_REC_OFF_SEQ),
			 4);
	close(fd);

	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	ck_assert_int_eq(ringcast_rec_seek(r, 2900), 0);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	check_event(&e, 2900);
	/* From the start, the damage is met, at its place. */
	ck_assert_int_eq(ringcast_rec_seek(r, 0), 0);
	for (;;) {
		int err = ringcast_rec_next(r, &e);

		if (err == -EBADMSG)
			break;
		ck_assert_int_eq(err, 0);
		ck_assert_uint_lt(e.ev.seq, 10);
	}
	ck_assert_str_eq(e.segment, "00000000000000000000.seg");
	ck_assert_uint_eq(e.offset, off);
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	check_event(&e, 11);
	ringcast_rec_close(r);
}
END_TEST

START_TEST(append_rules)
{
	const char *path = rec_path("a");
	struct ringcast_rec *w, *w2, *r;
	struct ringcast_rec_entry e = { .kind = RINGCAST_REC_EVENT };
	struct ringcast_rec_opts o = { .name = "ring-a", .created_ns = 42 };
	uint64_t next;

	w = writer(path, NULL, NULL, 0);
	put_event(w, 5); /* a recording starts anywhere */
	e.ev.seq = 5;
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EINVAL); /* again */
	e.ev.seq = 7;
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EINVAL); /* a skip */
	e.ev.seq = 6;
	e.kind = RINGCAST_REC_GAP;
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EINVAL); /* count 0 */
	e.kind = 9;
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EINVAL);
	e.kind = RINGCAST_REC_EVENT;
	e.ev.len = 1;
	e.ev.data = NULL;
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EINVAL);
	e.ev.len = RC_REC_MAX_LEN + 1;
	e.ev.data = "x";
	ck_assert_int_eq(ringcast_rec_append(w, &e), -EMSGSIZE);
	/* One writer at a time. */
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w2, &next), -EBUSY);
	/* A reader is no writer, and the other way round. */
	ck_assert_int_eq(ringcast_rec_flush(w), 0);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	ck_assert_int_eq(ringcast_rec_append(r, &e), -EINVAL);
	ck_assert_int_eq(ringcast_rec_next(w, &e), -EINVAL);
	ck_assert_int_eq(ringcast_rec_seek(w, 0), -EINVAL);
	ringcast_rec_close(r);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
	/* Bad options. */
	o.segment_size = 1000;
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w2, NULL), -EINVAL);
	o.segment_size = 0;
	o.name = NULL;
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w2, NULL), -EINVAL);
	ck_assert_int_eq(ringcast_rec_open(rec_path("none"), 0, &r), -ENOENT);
	ck_assert_int_eq(ringcast_rec_open(t_dir, 0, &r), -ENODATA);
	ck_assert_int_eq(ringcast_rec_open(path, 1, &r), -EINVAL);
}
END_TEST

/* Continued by a new writer; another incarnation or ring refused. */
START_TEST(continue_and_incarnation)
{
	const char *path = rec_path("c");
	struct ringcast_rec_opts o = { .name = "ring-a", .created_ns = 42 };
	struct ringcast_rec *w, *r;
	struct ringcast_rec_entry e;
	uint64_t next = 0, s;

	w = writer(path, NULL, &next, 0);
	for (s = 0; s < 100; s++)
		put_event(w, s);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
	w = writer(path, NULL, &next, 1);
	ck_assert_uint_eq(next, 100);
	for (s = 100; s < 200; s++)
		put_event(w, s);
	ck_assert_int_eq(ringcast_rec_close(w), 0);

	o.created_ns = 43;
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w, &next), -EXDEV);
	ck_assert_ptr_nonnull(strstr(ringcast_errdetail(), "created at 42"));
	o.created_ns = 42;
	o.name = "ring-b";
	ck_assert_int_eq(ringcast_rec_create(path, &o, &w, &next), -EXDEV);

	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < 200; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, s);
	}
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EAGAIN);
	ringcast_rec_close(r);
}
END_TEST

static char *seg0(const char *path)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s/%020d.seg", path, 0);
	return p;
}

/* A torn last record: damage to a reader; cut away by the next writer. */
START_TEST(torn_tail)
{
	const char *path = rec_path("t");
	struct ringcast_rec *w, *r;
	struct ringcast_rec_entry e;
	struct ringcast_rec_stats st;
	uint64_t next, s, last_off = 0;
	struct stat sb;

	fill(path, 50, 64 << 20);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < 50; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		last_off = e.offset;
	}
	ringcast_rec_close(r);
	ck_assert_int_eq(stat(seg0(path), &sb), 0);
	/* Seq 49 has pay_len(49) > 5 bytes: cut 5 of them. */
	ck_assert_uint_gt(pay_len(49), 5);
	ck_assert_int_eq(truncate(seg0(path),
				  sb.st_size - 5 -
					  (off_t)(rc_frec_size(pay_len(49)) -
						  RC_REC_HDR - pay_len(49))),
			 0);

	/* No writer holds it: the cut record is damage, at its place. */
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < 49; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, s);
	}
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EBADMSG);
	ck_assert_uint_eq(e.offset, last_off);
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EAGAIN);
	ringcast_rec_close(r);

	w = writer(path, NULL, &next, 1);
	ck_assert_uint_eq(next, 49);
	ringcast_rec_get_stats(w, &st);
	ck_assert_uint_gt(st.truncated, 0);
	/* Cut at the end of the last whole record, before the torn one. */
	ck_assert_int_eq(stat(seg0(path), &sb), 0);
	ck_assert_uint_eq((uint64_t)sb.st_size, last_off);
	put_event(w, 49);
	put_event(w, 50);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s <= 50; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, s);
	}
	ck_assert_int_eq(ringcast_rec_next(r, &e), -EAGAIN);
	ringcast_rec_get_stats(r, &st);
	ck_assert_uint_eq(st.damaged, 0);
	ringcast_rec_close(r);
}
END_TEST

/* One flipped byte, anywhere in a record: found, with its place. */
START_TEST(flipped_byte)
{
	const char *path = rec_path("f");
	struct ringcast_rec *r;
	struct ringcast_rec_entry e;
	uint64_t offs[40], target = 17, s;
	unsigned int at;
	char p[1024];
	int fd;

	fill(path, 40, 64 << 20);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < 40; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		offs[s] = e.offset;
	}
	ringcast_rec_close(r);
	snprintf(p, sizeof(p), "%s", seg0(path));
	/* Every byte of record 17's header and payload, one at a time. */
	for (at = 0; at < RC_REC_HDR + pay_len(target); at += 1 + at / 16) {
		unsigned char b;

		fd = open(p, O_RDWR);
		ck_assert_int_eq(pread(fd, &b, 1, (off_t)(offs[target] + at)),
				 1);
		b ^= 0x10;
		ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)(offs[target] + at)),
				 1);
		ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
		for (s = 0; s < target; s++) {
			ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
			check_event(&e, s);
		}
		ck_assert_int_eq(ringcast_rec_next(r, &e), -EBADMSG);
		ck_assert_str_eq(e.segment, "00000000000000000000.seg");
		ck_assert_uint_eq(e.offset, offs[target]);
		/* Then on, with the next whole record. */
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, target + 1);
		ringcast_rec_close(r);
		b ^= 0x10;
		ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)(offs[target] + at)),
				 1);
		close(fd);
	}
}
END_TEST

/* A segment cut short in the middle of a recording; a damaged header. */
START_TEST(damaged_segments)
{
	const char *path = rec_path("d");
	struct ringcast_rec *r;
	struct ringcast_rec_entry e;
	struct ringcast_rec_stats st;
	uint64_t s, firsts[4] = { 0 }, nf = 0, prev_seg = UINT64_MAX;
	char p[1024];
	int err, bad = 0;

	fill(path, 600, 64 << 10);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	for (s = 0; s < 600; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		if (strtoull(e.segment, NULL, 10) != prev_seg && nf < 4)
			firsts[nf++] = prev_seg = strtoull(e.segment, NULL, 10);
	}
	ringcast_rec_close(r);
	ck_assert_uint_eq(nf, 4);
	/* Segment 2 loses its end; segment 3's header is damaged. */
	snprintf(p, sizeof(p), "%s/%020" PRIu64 ".seg", path, firsts[1]);
	ck_assert_int_eq(truncate(p, 30000), 0);
	snprintf(p, sizeof(p), "%s/%020" PRIu64 ".seg", path, firsts[2]);
	{
		int fd = open(p, O_RDWR);

		ck_assert_int_eq(pwrite(fd, "X", 1, 20), 1);
		close(fd);
	}
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	s = 0;
	while ((err = ringcast_rec_next(r, &e)) != -EAGAIN) {
		if (err == -EBADMSG) {
			bad++;
			continue;
		}
		ck_assert_int_eq(err, 0);
		ck_assert_uint_ge(e.ev.seq, s);
		check_event(&e, e.ev.seq);
		s = e.ev.seq + 1;
	}
	/* Both found, and reading went on to the end. */
	ck_assert_int_eq(bad, 2);
	ck_assert_uint_eq(s, 600);
	ringcast_rec_get_stats(r, &st);
	ck_assert_uint_eq(st.damaged, 2);
	ringcast_rec_close(r);
}
END_TEST

START_TEST(retention)
{
	char path[600], path2[600];
	struct ringcast_rec_opts o = { .name = "ring-a",
				       .created_ns = 42,
				       .segment_size = 64 << 10,
				       .retain_bytes = 256 << 10 };
	struct ringcast_rec *w, *r;
	struct ringcast_rec_entry e;
	struct ringcast_rec_stats st;
	uint64_t s;

	snprintf(path, sizeof(path), "%s", rec_path("k"));
	snprintf(path2, sizeof(path2), "%s", rec_path("k2"));
	w = writer(path, &o, NULL, 0);
	for (s = 0; s < 3000; s++)
		put_event(w, s);
	ringcast_rec_get_stats(w, &st);
	ck_assert_uint_gt(st.removed, 10);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
	/* At most the limit and a segment more. */
	ck_assert_int_le(count_files(path, ".seg"), 5);
	ck_assert_int_eq(count_files(path, ".seg"), count_files(path, ".idx"));
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	ck_assert_int_eq(ringcast_rec_seek(r, 0), 1); /* older than it */
	ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
	ck_assert_uint_gt(e.ev.seq, 1000);
	for (s = e.ev.seq + 1; s < 3000; s++) {
		ck_assert_int_eq(ringcast_rec_next(r, &e), 0);
		check_event(&e, s);
	}
	ringcast_rec_close(r);

	/* By age: every complete segment is older than 1 ns. */
	o.retain_bytes = 0;
	o.retain_ns = 1;
	w = writer(path2, &o, NULL, 0);
	for (s = 0; s < 1000; s++)
		put_event(w, s);
	ck_assert_int_eq(ringcast_rec_close(w), 0);
	ck_assert_int_eq(count_files(path2, ".seg"), 1);
}
END_TEST

/* The syncs each policy makes, by the writer's count of fdatasync(). */
START_TEST(fsync_policy)
{
	struct ringcast_rec_opts o = { .name = "ring-a",
				       .created_ns = 42,
				       .segment_size = 64 << 10 };
	static const char *const names[] = { "y0", "y1", "y2", "y3" };
	struct ringcast_rec_stats st[4];
	int i;

	for (i = 0; i < 4; i++) {
		struct ringcast_rec *w;
		uint64_t s;

		o.sync = i < 3 ? (uint32_t)i : RINGCAST_REC_SYNC_INTERVAL;
		o.sync_interval_ns = i == 2 ? 1 : 3600ull * 1000000000;
		w = writer(rec_path(names[i]), &o, NULL, 0);
		for (s = 0; s < 300; s++) {
			put_event(w, s);
			ck_assert_int_eq(ringcast_rec_flush(w), 0);
		}
		ringcast_rec_get_stats(w, &st[i]);
		ck_assert_uint_ge(st[i].segments, 4);
		ck_assert_int_eq(ringcast_rec_close(w), 0);
	}
	/* none: never. */
	ck_assert_uint_eq(st[0].syncs, 0);
	/* segment: each complete segment and the directory, not each flush. */
	ck_assert_uint_ge(st[1].syncs, 2 * (st[1].segments - 1));
	ck_assert_uint_le(st[1].syncs, 2 * st[1].segments);
	/* interval, 1 ns: every flush; 1 h: only the segments' ends. */
	ck_assert_uint_ge(st[2].syncs, 300);
	ck_assert_uint_le(st[3].syncs, 2 * st[3].segments);
	ck_assert_uint_ge(st[3].syncs, 2 * (st[3].segments - 1));
	/* An explicit sync, whatever the policy. */
	{
		struct ringcast_rec *w;
		struct ringcast_rec_stats s2;
		uint64_t next;

		o.sync = RINGCAST_REC_SYNC_NONE;
		w = writer(rec_path(names[0]), &o, &next, 1);
		put_event(w, next);
		ck_assert_int_eq(ringcast_rec_sync(w), 0);
		ringcast_rec_get_stats(w, &s2);
		ck_assert_uint_eq(s2.syncs, 1);
		ck_assert_int_eq(ringcast_rec_close(w), 0);
	}
}
END_TEST

/* The mode given, whatever the umask: files, and the directory with x. */
START_TEST(file_modes)
{
	static const struct {
		mode_t umask, mode, dmode;
	} cases[] = {
		{ 077, 0640, 0750 },
		{ 022, 0666, 0777 },
		{ 077, 0604, 0705 },
		{ 0, 0600, 0700 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ringcast_rec_opts o = { .name = "ring-a",
					       .created_ns = 42,
					       .segment_size = 64 << 10,
					       .mode = cases[i].mode };
		struct ringcast_rec *w;
		char path[64], p[1024];
		struct dirent *de;
		struct stat sb;
		mode_t old;
		uint64_t s;
		int files = 0;
		DIR *d;

		snprintf(path, sizeof(path), "m%u", i);
		old = umask(cases[i].umask);
		w = writer(rec_path(path), &o, NULL, 0);
		for (s = 0; s < 100; s++)
			put_event(w, s);
		ck_assert_int_eq(ringcast_rec_close(w), 0);
		umask(old);
		ck_assert_int_eq(stat(rec_path(path), &sb), 0);
		ck_assert_uint_eq(sb.st_mode & 0777, cases[i].dmode);
		d = opendir(rec_path(path));
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", rec_path(path),
				 de->d_name);
			ck_assert_int_eq(stat(p, &sb), 0);
			ck_assert_msg((sb.st_mode & 0777) == cases[i].mode,
				      "%s: %o, not %o", p, sb.st_mode & 0777,
				      cases[i].mode);
			files++;
		}
		closedir(d);
		/* seg and idx of several segments, and the lock. */
		ck_assert_int_ge(files, 5);
	}
}
END_TEST

/* ----------------------------------------------------------------------
 * ringcast record, killed and restarted
 */

static pid_t spawn_recorder(const char *name, const char *path, int errfd)
{
	const char *bin = getenv("RINGCAST_BIN");
	char *argv[] = { (char *)"ringcast",
			 (char *)"record",
			 (char *)name,
			 (char *)path,
			 (char *)"--segment-size",
			 (char *)"64k",
			 NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	ck_assert_int_eq(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* The ranges "gap: N events lost (A to B)" lines report. */
struct gap_reports {
	uint64_t first[4096], last[4096];
	unsigned int n;
};

static void reported_gaps(const char *file, struct gap_reports *g)
{
	FILE *f = fopen(file, "r");
	char line[512];

	ck_assert_ptr_nonnull(f);
	g->n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long n, a, b;
		const char *p = strstr(line, "gap: ");

		if (!p)
			continue;
		ck_assert_int_eq(sscanf(p,
					"gap: %llu events lost (%llu to %llu)",
					&n, &a, &b),
				 3);
		ck_assert_uint_eq(b - a + 1, n);
		ck_assert_uint_lt(g->n, 4096);
		g->first[g->n] = a;
		g->last[g->n++] = b;
	}
	fclose(f);
}

static bool gap_reported(const struct gap_reports *g, uint64_t seq,
			 uint64_t count)
{
	unsigned int i;

	for (i = 0; i < g->n; i++)
		if (g->first[i] == seq && g->last[i] == seq + count - 1)
			return true;
	return false;
}

/*
 * 100 SIGKILLs of the recorder at random moments of a stream, each
 * followed by a restart; then a last run to the end of the stream.  The
 * recording must hold each sequence once: as an event, with its payload,
 * or (on a ring too small to hold what was published while no recorder
 * ran) inside a gap, reported on stderr.
 */
/*
 * Until the recording at path holds an event: a recorder killed before it
 * wrote the first one leaves nothing that says where the stream began,
 * and the next one starts a recording afresh.
 */
static void wait_recorded(const char *path)
{
	uint64_t until = t_now_ns() + (uint64_t)T_WAIT_NS;
	struct ringcast_rec_entry e;
	struct ringcast_rec *r;

	for (;;) {
		if (ringcast_rec_open(path, 0, &r) == 0) {
			int err = ringcast_rec_next(r, &e);

			ringcast_rec_close(r);
			if (err == 0)
				return;
		}
		ck_assert_msg(t_now_ns() < until, "nothing recorded in %s",
			      path);
		usleep(1000);
	}
}

static void kill_restart(uint32_t slots, bool expect_whole)
{
	struct ringcast_ring_opts ro = { .slots = slots, .slot_size = 64 };
	const char *name = t_ring_opts("rec-kill", &ro, 0);
	char path[600], errs[600];
	struct ringcast_pub *pub;
	struct ringcast_rec *r;
	struct ringcast_rec_entry e;
	struct ringcast_rec_stats st;
	uint64_t rnd = (uint64_t)getpid() * 7919 + (uint64_t)t_now_ns();
	uint64_t expect, gaps = 0, events = 0, head;
	static struct gap_reports rep;
	int k, errfd, status, err;

	fprintf(stderr, "# kill_restart(%u): seed %" PRIu64 "\n", slots, rnd);
	snprintf(path, sizeof(path), "%s", rec_path("rk"));
	snprintf(errs, sizeof(errs), "%s", rec_path("stderr"));
	errfd = open(errs, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(errfd, 0);
	pub = t_pub(name, 0);
	for (k = 0; k < 100; k++) {
		pid_t pid = spawn_recorder(name, path, errfd);
		/* The first run records at least the stream's first event. */
		uint64_t n = t_rand(&rnd) % 300 + (k == 0), i;
		struct timespec d = { 0, (long)(t_rand(&rnd) % 3000000) };

		if (k == 0) {
			/* The recording starts with the stream. */
			struct ringcast_ring_stats info;
			int64_t until = t_now_ns() + T_WAIT_NS;

			do {
				t_stat(name, &info);
				ck_assert_int_lt(t_now_ns(), until);
			} while (!info.subscribers);
		}
		for (i = 0; i < n; i++) {
			unsigned char b[T_PAYLOAD_LEN];

			t_payload(ringcast_pub_head(pub), b);
			err = ringcast_pub_publish(pub, 1, b, sizeof(b));
			ck_assert_int_ge(err, 0);
			if (i == n / 2)
				nanosleep(&d, NULL); /* a random moment */
		}
		if (k == 0)
			wait_recorded(path);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		status = t_wait(pid, T_CHILD_MS);
		ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
			      "recorder run %d: status %#x", k, status);
	}
	head = ringcast_pub_head(pub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	/* The last run reads to the end of the stream and exits 0. */
	t_child_ok(spawn_recorder(name, path, errfd));
	close(errfd);

	reported_gaps(errs, &rep);
	ck_assert_int_eq(ringcast_rec_open(path, 0, &r), 0);
	expect = 0;
	while ((err = ringcast_rec_next(r, &e)) == 0) {
		ck_assert_uint_eq(e.ev.seq, expect);
		if (e.kind == RINGCAST_REC_GAP) {
			/* Each missing one reported, as it was recorded. */
			ck_assert_msg(gap_reported(&rep, e.ev.seq, e.count),
				      "gap of %" PRIu64 " from %" PRIu64
				      " not reported",
				      e.count, e.ev.seq);
			gaps += e.count;
			expect += e.count;
			continue;
		}
		ck_assert_uint_eq(e.kind, RINGCAST_REC_EVENT);
		ck_assert(t_payload_ok(&e.ev));
		expect++;
		events++;
	}
	ck_assert_int_eq(err, -EAGAIN);
	ringcast_rec_get_stats(r, &st);
	ck_assert_uint_eq(st.damaged, 0);
	ringcast_rec_close(r);
	fprintf(stderr,
		"# %" PRIu64 " published, %" PRIu64 " recorded, %" PRIu64
		" in gaps\n",
		head, events, gaps);
	ck_assert_uint_eq(expect, head);
	ck_assert_uint_eq(events + gaps, head);
	if (expect_whole)
		ck_assert_uint_eq(gaps, 0);
}

START_TEST(kill_whole_ring)
{
	kill_restart(32768, true);
}
END_TEST

START_TEST(kill_small_ring)
{
	kill_restart(64, false);
}
END_TEST

static Suite *rec_suite(void)
{
	Suite *s = suite_create("rec");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crc32c_vectors);
	tcase_add_test(tc, round_trip_rotation);
	tcase_add_test(tc, seek_index);
	tcase_add_test(tc, seek_skips_by_index);
	tcase_add_test(tc, append_rules);
	tcase_add_test(tc, continue_and_incarnation);
	tcase_add_test(tc, torn_tail);
	tcase_add_test(tc, flipped_byte);
	tcase_add_test(tc, damaged_segments);
	tcase_add_test(tc, retention);
	tcase_add_test(tc, fsync_policy);
	tcase_add_test(tc, file_modes);
	suite_add_tcase(s, tc);

	tc = tcase_create("recorder");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, kill_whole_ring);
	tcase_add_test(tc, kill_small_ring);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(rec_suite());
}
