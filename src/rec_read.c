// SPDX-License-Identifier: MIT
/*
 * The reader of a recording: segments in the order of their names, the
 * records of each through a read window, also while a writer appends.
 *
 * The end of what is there is -EAGAIN, not an error: a recording being
 * written grows.  A record cut short at the end of the last segment is
 * the writer's next one, still being written, while a writer holds the
 * lock; with none, it is a torn record, reported as damaged.  A damaged
 * record is reported once, with its place; the next call looks for the
 * next whole record, 8 bytes at a time, then in the next segment.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "rec.h"

/* Whether a writer holds the recording's lock now. */
static bool rec_writer_alive(struct ringcast_rec *rec)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (rec->lockfd < 0)
		rec->lockfd = openat(rec->dirfd, "lock",
				     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (rec->lockfd < 0)
		return false;
	if (fcntl(rec->lockfd, F_OFD_GETLK, &fl))
		return false;
	return fl.l_type != F_UNLCK;
}

static void rec_leave(struct ringcast_rec *rec)
{
	if (rec->rfd >= 0)
		close(rec->rfd);
	rec->rfd = -1;
	rc_win_drop(rec);
}

/*
 * Enter segment @first: 0; -EAGAIN (shorter than its header: being
 * created), -EBADMSG (its header is damaged or of another recording),
 * -ENOENT (removed meanwhile), -errno.
 */
static int rec_enter(struct ringcast_rec *rec, uint64_t first)
{
	struct rc_seg_hdr h;
	int fd, r;

	rec_leave(rec);
	rec->rfirst = first;
	rec->roff = RC_SEG_HDR;
	rec->resync = false;
	rc_seg_name(rec->rname, sizeof(rec->rname), first, "seg");
	fd = openat(rec->dirfd, rec->rname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = rc_seg_hdr_read(fd, &h);
	if (!r && (h.first != first || strcmp(h.name, rec->name) ||
		   h.ring_created != rec->created_ns))
		r = -EBADMSG;
	if (r) {
		close(fd);
		return r;
	}
	rec->rfd = fd;
	rec->st.segments++;
	return 0;
}

/* The first segment after @first in a fresh listing: 0, or -ENOENT. */
static int rec_after(struct ringcast_rec *rec, uint64_t first, uint64_t *out)
{
	size_t i;
	int r;

	r = rc_seg_list(rec->dirfd, &rec->segs);
	if (r)
		return r;
	for (i = 0; i < rec->segs.n; i++) {
		if (rec->segs.first[i] > first) {
			*out = rec->segs.first[i];
			return 0;
		}
	}
	return -ENOENT;
}

static int rec_damaged(struct ringcast_rec *rec, struct ringcast_rec_entry *e,
		       uint64_t off)
{
	memset(e, 0, sizeof(*e));
	e->segment = rec->rname;
	e->offset = off;
	rec->st.damaged++;
	return -EBADMSG;
}

/*
 * Move on to the segment after the current one.  Return: 0 (entered),
 * -EAGAIN (none yet), -EBADMSG (its header is damaged: reported, and the
 * next call moves past it), -errno.
 */
static int rec_move_on(struct ringcast_rec *rec, struct ringcast_rec_entry *e)
{
	uint64_t nextf;
	int r;

	r = rec_after(rec, rec->rfirst, &nextf);
	if (r == -ENOENT)
		return -EAGAIN;
	if (r)
		return r;
	r = rec_enter(rec, nextf);
	if (r == -EBADMSG || (r == -EAGAIN && !rec_after(rec, nextf, &nextf)))
		return rec_damaged(rec, e, 0);
	if (r == -ENOENT)
		return 0; /* removed meanwhile: the caller looks again */
	return r;
}

/* Whether a segment follows the current one. */
static bool rec_has_next(struct ringcast_rec *rec)
{
	uint64_t f;

	return !rec_after(rec, rec->rfirst, &f);
}

/* The record's sequences [seq, seq + count) are all before the seek. */
static bool rec_before_seek(const struct ringcast_rec *rec,
			    const struct rc_frec_hdr *h, uint64_t count)
{
	if (!rec->seeking)
		return false;
	if (!count)
		return h->seq < rec->seek_seq;
	return h->seq + count <= rec->seek_seq;
}

RINGCAST_API int ringcast_rec_next(struct ringcast_rec *rec,
				   struct ringcast_rec_entry *e)
{
	/* Every turn moves forward in a file or to a later segment. */
	for (;;) {
		struct rc_frec_hdr h;
		const unsigned char *p;
		uint64_t count;
		struct stat sb;
		int r;

		if (!rec || rec->writer || !e)
			return -EINVAL;
		if (rec->rfd < 0) {
			/* The segment was damaged, being created or removed. */
			r = rec_enter(rec, rec->rfirst);
			if (r == -EAGAIN && !rec_has_next(rec))
				return -EAGAIN;
			if (r) {
				r = rec_move_on(rec, e);
				if (r == -EBADMSG)
					rec->rfd = -1;
				if (r)
					return r;
				continue;
			}
		}
		if (rec->resync) {
			/* The next whole record after a damaged one. */
			rec->roff += 8;
			r = rc_frec_at(rec, rec->rfd, rec->roff, &h, &p);
			if (r == -EBADMSG)
				continue;
			if (r && r != -EAGAIN)
				return r;
			if (r == -EAGAIN) {
				if (fstat(rec->rfd, &sb))
					return -errno;
				if (rec->roff < (uint64_t)sb.st_size)
					continue;
				rec->resync = false;
				r = rec_move_on(rec, e);
				if (r)
					return r;
				continue;
			}
			rec->resync = false;
		}
		r = rc_frec_at(rec, rec->rfd, rec->roff, &h, &p);
		if (r == -EBADMSG && !rec_has_next(rec) &&
		    rec_writer_alive(rec)) {
			/* Maybe a write in progress: look once more. */
			rc_win_drop(rec);
			r = rc_frec_at(rec, rec->rfd, rec->roff, &h, &p);
		}
		if (r == -EBADMSG) {
			rec->resync = true;
			return rec_damaged(rec, e, rec->roff);
		}
		if (r == -EAGAIN) {
			/* The file as it is now: it may have grown. */
			rc_win_drop(rec);
			r = rc_frec_at(rec, rec->rfd, rec->roff, &h, &p);
			if (r == -EBADMSG) {
				rec->resync = true;
				return rec_damaged(rec, e, rec->roff);
			}
		}
		if (r == -EAGAIN) {
			if (fstat(rec->rfd, &sb))
				return -errno;
			if (rec->roff < (uint64_t)sb.st_size &&
			    (rec_has_next(rec) || !rec_writer_alive(rec))) {
				/*
				 * Cut short (a torn or truncated segment), or
				 * a length that is wrong: look further.
				 */
				rec->resync = true;
				return rec_damaged(rec, e, rec->roff);
			}
			if (!rec_has_next(rec))
				return -EAGAIN;
			r = rec_move_on(rec, e);
			if (r)
				return r;
			continue;
		}
		if (r)
			return r;
		count = rc_frec_count(&h, p);
		rec->roff += rc_frec_size(h.len);
		if (rec_before_seek(rec, &h, count))
			continue;
		rec->seeking = false;
		memset(e, 0, sizeof(*e));
		e->kind = h.kind;
		e->count = count;
		e->ev.seq = h.seq;
		e->ev.ts = h.ts;
		e->ev.type = h.type;
		e->ev.epoch = h.epoch;
		e->ev.publisher = h.publisher;
		if (h.kind == RINGCAST_REC_EVENT) {
			e->ev.len = h.len;
			e->ev.data = p + RC_REC_HDR;
		}
		e->segment = rec->rname;
		e->offset = rec->roff - rc_frec_size(h.len);
		rec->st.records++;
		rec->st.bytes += rc_frec_size(h.len);
		rec->st.next = h.seq + count;
		return 0;
	}
}

RINGCAST_API int ringcast_rec_seek(struct ringcast_rec *rec, uint64_t seq)
{
	uint64_t off = 0, first;
	struct rc_frec_hdr h;
	const unsigned char *p;
	size_t lo, hi;
	int r, ret = 0;

	if (!rec || rec->writer)
		return -EINVAL;
	r = rc_seg_list(rec->dirfd, &rec->segs);
	if (r)
		return r;
	if (!rec->segs.n)
		return -ENODATA;
	/* The last segment whose first sequence is at most @seq. */
	lo = 0;
	hi = rec->segs.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->segs.first[mid] <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0) {
		ret = 1;
		lo = 1;
	}
	first = rec->segs.first[lo - 1];
	r = rec_enter(rec, first);
	if (r == -EAGAIN) {
		/* Being created: read it once it is. */
		rec->seeking = !ret;
		rec->seek_seq = seq;
		return ret;
	}
	if (r)
		return r;
	rec->seeking = !ret;
	rec->seek_seq = seq;
	if (ret)
		return ret;
	/* From the index's nearest entry, if the record there holds. */
	rc_idx_find(rec->dirfd, first, seq, &off, NULL);
	if (off && !rc_frec_at(rec, rec->rfd, off, &h, &p) && h.seq <= seq)
		rec->roff = off;
	return 0;
}

RINGCAST_API int ringcast_rec_open(const char *path, unsigned int flags,
				   struct ringcast_rec **recp)
{
	struct ringcast_rec *rec;
	struct rc_seg_hdr h;
	char name[32];
	int fd, r;

	if (!path || !recp || flags)
		return -EINVAL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->dirfd = rec->lockfd = rec->fd = rec->idxfd = rec->rfd = -1;
	rec->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rec->dirfd < 0) {
		r = -errno;
		goto err_free;
	}
	r = rc_seg_list(rec->dirfd, &rec->segs);
	if (r)
		goto err_free;
	r = -ENODATA;
	if (!rec->segs.n)
		goto err_free;
	/* The recording's ring, from its first segment. */
	rc_seg_name(name, sizeof(name), rec->segs.first[0], "seg");
	fd = openat(rec->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		goto err_free;
	}
	r = rc_seg_hdr_read(fd, &h);
	close(fd);
	if (r == -EAGAIN && rec->segs.n == 1)
		r = -ENODATA;
	else if (r == -EAGAIN)
		r = -EBADMSG;
	if (r)
		goto err_free;
	strcpy(rec->name, h.name);
	strcpy(rec->st.name, h.name);
	rec->created_ns = h.ring_created;
	rec->st.created_ns = h.ring_created;
	rec->st.first = rec->segs.first[0];
	r = rec_enter(rec, rec->segs.first[0]);
	if (r)
		goto err_free;
	*recp = rec;
	return 0;
err_free:
	ringcast_rec_close(rec);
	return r;
}
