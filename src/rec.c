// SPDX-License-Identifier: MIT
/*
 * Recordings: what the writer (rec_write.c) and the reader (rec_read.c)
 * share: segment names and listing, the segment header, a record's header
 * and its check, the index lookup, the accounting and the close.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "rec.h"

uint64_t rc_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rc_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "<first, 20 digits>.<ext>" */
void rc_seg_name(char *buf, size_t size, uint64_t first, const char *ext)
{
	snprintf(buf, size, "%020" PRIu64 ".%s", first, ext);
}

/* The first sequence named by a segment's file name; false if not one. */
static bool seg_parse_name(const char *s, uint64_t *first)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 20; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9)
			return false;
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (strcmp(s + 20, ".seg"))
		return false;
	*first = v;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments in @dirfd now, sorted: 0; -ENOMEM, -EIO, ... */
int rc_seg_list(int dirfd, struct rc_seglist *l)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	l->n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		int err = -errno;

		close(fd);
		return err;
	}
	while ((d = readdir(dir))) {
		uint64_t first;

		if (!seg_parse_name(d->d_name, &first))
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			uint64_t *p = realloc(l->first, cap * sizeof(*p));

			if (!p) {
				closedir(dir);
				return -ENOMEM;
			}
			l->first = p;
			l->cap = cap;
		}
		l->first[l->n++] = first;
	}
	closedir(dir);
	/* qsort() wants a non-NULL base, even for none. */
	if (l->n)
		qsort(l->first, l->n, sizeof(*l->first), cmp_u64);
	return 0;
}

/*
 * Read and check a segment's header: 0; -EAGAIN (the file is shorter
 * than a header: being created, or cut short), -EBADMSG, -EIO.
 */
int rc_seg_hdr_read(int fd, struct rc_seg_hdr *h)
{
	unsigned char b[RC_SEG_HDR];
	uint32_t name_len;
	ssize_t n;

	n = pread(fd, b, sizeof(b), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(b))
		return -EAGAIN;
	if (memcmp(b, RC_SEG_MAGIC, 8))
		return -EBADMSG;
	if (rc_crc32c(0, b, RC_SEG_OFF_CRC) != rc_get32(b + RC_SEG_OFF_CRC))
		return -EBADMSG;
	if (rc_get32(b + RC_SEG_OFF_VERSION) != RC_REC_VERSION ||
	    rc_get32(b + RC_SEG_OFF_HDR_SIZE) != RC_SEG_HDR)
		return -EBADMSG;
	name_len = rc_get32(b + RC_SEG_OFF_NAME_LEN);
	if (name_len > RINGCAST_NAME_MAX)
		return -EBADMSG;
	h->first = rc_get64(b + RC_SEG_OFF_FIRST);
	h->ring_created = rc_get64(b + RC_SEG_OFF_RING_CREATED);
	h->seg_created = rc_get64(b + RC_SEG_OFF_SEG_CREATED);
	memcpy(h->name, b + RC_SEG_OFF_NAME, name_len);
	h->name[name_len] = '\0';
	return 0;
}

void rc_frec_decode(const unsigned char *p, struct rc_frec_hdr *h)
{
	h->crc = rc_get32(p + RC_REC_OFF_CRC);
	h->len = rc_get32(p + RC_REC_OFF_LEN);
	h->seq = rc_get64(p + RC_REC_OFF_SEQ);
	h->ts = rc_get64(p + RC_REC_OFF_TS);
	h->type = rc_get32(p + RC_REC_OFF_TYPE);
	h->epoch = rc_get32(p + RC_REC_OFF_EPOCH);
	h->kind = rc_get16(p + RC_REC_OFF_KIND);
	h->flags = rc_get16(p + RC_REC_OFF_FLAGS);
	h->publisher = rc_get32(p + RC_REC_OFF_PUBLISHER);
}

/*
 * Whether the record at @p (its header, then h->len bytes of payload) is
 * whole: its checksum, its kind and the shape its kind asks for.
 */
bool rc_frec_check(const struct rc_frec_hdr *h, const unsigned char *p)
{
	uint32_t crc;

	if (h->len > RC_REC_MAX_LEN || h->flags)
		return false;
	if (rc_frec_count(h, p) > UINT64_MAX - h->seq)
		return false;
	switch (h->kind) {
	case RINGCAST_REC_EVENT:
		break;
	case RINGCAST_REC_GAP:
	case RINGCAST_REC_HOLE:
		if (h->len != 8 || !rc_get64(p + RC_REC_HDR))
			return false;
		break;
	case RINGCAST_REC_TAKEOVER:
		if (h->len)
			return false;
		break;
	default:
		return false;
	}
	crc = rc_crc32c(0, p + 4, RC_REC_HDR - 4);
	crc = rc_crc32c(crc, p + RC_REC_HDR, h->len);
	return crc == h->crc;
}

/*
 * The offset of the last index entry of segment @first whose sequence is
 * at most @seq, in *@off (0 if none); *@nentries, the entries there are
 * (when not NULL).  An index that is missing, damaged or out of order is
 * no index: the caller scans from the segment's start.
 */
int rc_idx_find(int dirfd, uint64_t first, uint64_t seq, uint64_t *off,
		uint64_t *nentries)
{
	unsigned char h[RC_IDX_HDR], e[RC_IDX_ENTRY];
	uint64_t lo, hi, n, prev_seq = 0, prev_off = 0;
	char name[32];
	struct stat sb;
	int fd;

	*off = 0;
	if (nentries)
		*nentries = 0;
	rc_seg_name(name, sizeof(name), first, "idx");
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) || sb.st_size < (off_t)RC_IDX_HDR ||
	    pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, RC_IDX_MAGIC, 8) ||
	    rc_crc32c(0, h, RC_IDX_OFF_CRC) != rc_get32(h + RC_IDX_OFF_CRC) ||
	    rc_get32(h + RC_IDX_OFF_VERSION) != RC_REC_VERSION ||
	    rc_get32(h + RC_IDX_OFF_ENTRY_SIZE) != RC_IDX_ENTRY ||
	    rc_get64(h + RC_IDX_OFF_FIRST) != first)
		goto out_close;
	n = ((uint64_t)sb.st_size - RC_IDX_HDR) / RC_IDX_ENTRY;
	if (nentries)
		*nentries = n;
	/* The last entry with a sequence <= @seq: a binary search. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (pread(fd, e, sizeof(e), RC_IDX_HDR + mid * RC_IDX_ENTRY) !=
		    (ssize_t)sizeof(e))
			goto out_close;
		if (rc_get64(e) <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		goto out_close;
	if (pread(fd, e, sizeof(e), RC_IDX_HDR + (lo - 1) * RC_IDX_ENTRY) !=
	    (ssize_t)sizeof(e))
		goto out_close;
	prev_seq = rc_get64(e);
	prev_off = rc_get64(e + 8);
	/* An entry is a hint: the reader checks the record it points to. */
	if (prev_seq >= first && prev_off >= RC_SEG_HDR && !(prev_off & 7))
		*off = prev_off;
out_close:
	close(fd);
	return 0;
}

RINGCAST_API void ringcast_rec_get_stats(const struct ringcast_rec *rec,
					 struct ringcast_rec_stats *st)
{
	if (!st)
		return;
	if (!rec) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = rec->st;
}

RINGCAST_API int ringcast_rec_close(struct ringcast_rec *rec)
{
	int err = 0;

	if (!rec)
		return 0;
	if (rec->writer)
		err = rc_rec_writer_close(rec);
	if (rec->rfd >= 0)
		close(rec->rfd);
	if (rec->lockfd >= 0)
		close(rec->lockfd);
	if (rec->dirfd >= 0)
		close(rec->dirfd);
	free(rec->segs.first);
	free(rec->wbuf);
	free(rec->ibuf);
	free(rec->rbuf);
	free(rec);
	return err;
}

/* The sequences a record covers: 1, a gap's count, 0 for a takeover. */
uint64_t rc_frec_count(const struct rc_frec_hdr *h, const unsigned char *p)
{
	switch (h->kind) {
	case RINGCAST_REC_EVENT:
		return 1;
	case RINGCAST_REC_GAP:
	case RINGCAST_REC_HOLE:
		return h->len == 8 ? rc_get64(p + RC_REC_HDR) : 0;
	default:
		return 0;
	}
}

/*
 * Bytes [@off, @off + @len) of @fd, through the handle's read window:
 * 0 with *@p pointing at them; -EAGAIN (the file ends before them),
 * -ENOMEM, -EIO.
 */
int rc_win(struct ringcast_rec *rec, int fd, uint64_t off, size_t len,
	   const unsigned char **p)
{
	size_t want = len > RC_RBUF ? len : RC_RBUF, got = 0;

	if (off >= rec->rbuf_off && off - rec->rbuf_off <= rec->rbuf_len &&
	    len <= rec->rbuf_len - (off - rec->rbuf_off)) {
		*p = rec->rbuf + (off - rec->rbuf_off);
		return 0;
	}
	/* A length read from the file is untrusted: no buffer past its end. */
	if (len > RC_RBUF) {
		struct stat sb;

		if (fstat(fd, &sb))
			return -errno;
		if ((uint64_t)sb.st_size < off ||
		    len > (uint64_t)sb.st_size - off)
			return -EAGAIN;
	}
	if (want > rec->rbuf_cap) {
		unsigned char *b = realloc(rec->rbuf, want);

		if (!b)
			return -ENOMEM;
		rec->rbuf = b;
		rec->rbuf_cap = want;
	}
	rec->rbuf_off = off;
	rec->rbuf_len = 0;
	while (got < want) {
		ssize_t n = pread(fd, rec->rbuf + got, want - got,
				  (off_t)(off + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rec->rbuf_len = got;
	if (got < len)
		return -EAGAIN;
	*p = rec->rbuf;
	return 0;
}

/* Forget what the window holds: the file changed, or another is read. */
void rc_win_drop(struct ringcast_rec *rec)
{
	rec->rbuf_off = 0;
	rec->rbuf_len = 0;
}

/*
 * The record at @off of @fd: 0 with *@h and *@p (the record's bytes) set;
 * -EAGAIN (the file ends before the record does), -EBADMSG (not a whole
 * record), -ENOMEM, -EIO.
 */
int rc_frec_at(struct ringcast_rec *rec, int fd, uint64_t off,
	       struct rc_frec_hdr *h, const unsigned char **p)
{
	int r;

	r = rc_win(rec, fd, off, RC_REC_HDR, p);
	if (r)
		return r;
	rc_frec_decode(*p, h);
	if (h->len > RC_REC_MAX_LEN || h->kind > RINGCAST_REC_TAKEOVER ||
	    h->flags)
		return -EBADMSG;
	r = rc_win(rec, fd, off, (size_t)rc_frec_size(h->len), p);
	if (r)
		return r;
	return rc_frec_check(h, *p) ? 0 : -EBADMSG;
}
