// SPDX-License-Identifier: MIT
/*
 * The writer of a recording: one at a time (an OFD write lock on
 * PATH/lock, released by the kernel when its process dies), appending
 * records to the newest segment through a buffer, rotating to a new
 * segment past the segment size and removing old ones as the retention
 * says.
 *
 * Order of writes, what a crash leaves:
 *   - a segment is created with its header written at once; a reader
 *     sees it shorter than a header only while it is being created;
 *   - records are written before the index entries that point to them:
 *     an index may lack its last entries, never point past the data;
 *   - a writer killed in the middle of a write leaves a torn record at
 *     the end of the last segment, which the next writer cuts away
 *     (ringcast_rec_create()), with the index entries beyond it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compiler.h"
#include "rec.h"

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int rec_do_sync(struct ringcast_rec *rec)
{
	if (rec->fd >= 0 && fdatasync(rec->fd))
		return -errno;
	if (rec->idxfd >= 0 && fdatasync(rec->idxfd))
		return -errno;
	rec->st.syncs++;
	rec->dirty = false;
	rec->last_sync_ns = rc_monotonic_ns();
	return 0;
}

/* The directory's entries to disk: a segment created or removed. */
static void rec_sync_dir(struct ringcast_rec *rec)
{
	if (rec->opts.sync != RINGCAST_REC_SYNC_NONE && !fsync(rec->dirfd))
		rec->st.syncs++;
}

/* Write the buffered records, then the index entries that point to them. */
static int rec_write_out(struct ringcast_rec *rec)
{
	int r;

	if (rec->wlen) {
		r = pwrite_all(rec->fd, rec->wbuf, rec->wlen,
			       rec->seg_off - rec->wlen);
		if (r)
			return r;
		rec->wlen = 0;
		rec->dirty = true;
	}
	if (rec->ilen) {
		struct stat sb;

		if (fstat(rec->idxfd, &sb))
			return -errno;
		r = pwrite_all(rec->idxfd, rec->ibuf, rec->ilen,
			       (uint64_t)sb.st_size);
		if (r)
			return r;
		rec->ilen = 0;
	}
	return 0;
}

/*
 * A new file with @hdr; @excl for a segment, whose name must be new.  An
 * index without its segment is what a writer killed between the two
 * creations left: it is made again.
 */
static int rec_create_file(struct ringcast_rec *rec, const char *name,
			   const void *hdr, size_t len, bool excl)
{
	int fd, r;

	fd = openat(rec->dirfd, name,
		    O_RDWR | O_CREAT | (excl ? O_EXCL : O_TRUNC) | O_CLOEXEC |
			    O_NOFOLLOW,
		    rec->opts.mode);
	if (fd < 0)
		return -errno;
	/* The ring's mode, whatever the umask. */
	if (fchmod(fd, rec->opts.mode)) {
		r = -errno;
		goto err_unlink;
	}
	r = pwrite_all(fd, hdr, len, 0);
	if (r)
		goto err_unlink;
	return fd;
err_unlink:
	unlinkat(rec->dirfd, name, 0);
	close(fd);
	return r;
}

static int seglist_add(struct rc_seglist *l, uint64_t first)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		uint64_t *p = realloc(l->first, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->first = p;
		l->cap = cap;
	}
	l->first[l->n++] = first;
	return 0;
}

/* Start segment @first: its file and its index, each with its header. */
static int rec_new_segment(struct ringcast_rec *rec, uint64_t first)
{
	unsigned char h[RC_SEG_HDR] = { 0 }, ih[RC_IDX_HDR] = { 0 };
	char name[32];
	size_t nlen = strlen(rec->name);
	int fd, r;

	r = seglist_add(&rec->segs, first);
	if (r)
		return r;
	memcpy(h, RC_SEG_MAGIC, 8);
	rc_put32(h + RC_SEG_OFF_VERSION, RC_REC_VERSION);
	rc_put32(h + RC_SEG_OFF_HDR_SIZE, RC_SEG_HDR);
	rc_put64(h + RC_SEG_OFF_FIRST, first);
	rc_put64(h + RC_SEG_OFF_RING_CREATED, rec->created_ns);
	rc_put64(h + RC_SEG_OFF_SEG_CREATED, rc_realtime_ns());
	rc_put32(h + RC_SEG_OFF_NAME_LEN, (uint32_t)nlen);
	memcpy(h + RC_SEG_OFF_NAME, rec->name, nlen);
	rc_put32(h + RC_SEG_OFF_CRC, rc_crc32c(0, h, RC_SEG_OFF_CRC));

	memcpy(ih, RC_IDX_MAGIC, 8);
	rc_put32(ih + RC_IDX_OFF_VERSION, RC_REC_VERSION);
	rc_put32(ih + RC_IDX_OFF_ENTRY_SIZE, RC_IDX_ENTRY);
	rc_put64(ih + RC_IDX_OFF_FIRST, first);
	rc_put32(ih + RC_IDX_OFF_CRC, rc_crc32c(0, ih, RC_IDX_OFF_CRC));

	/* The index first: a segment without one is scanned, not wrong. */
	rc_seg_name(name, sizeof(name), first, "idx");
	fd = rec_create_file(rec, name, ih, sizeof(ih), false);
	if (fd < 0) {
		r = fd;
		goto err_list;
	}
	rec->idxfd = fd;
	rc_seg_name(name, sizeof(name), first, "seg");
	fd = rec_create_file(rec, name, h, sizeof(h), true);
	if (fd < 0) {
		r = fd;
		goto err_idx;
	}
	rec->fd = fd;
	rec->seg_first = first;
	rec->seg_off = RC_SEG_HDR;
	rec->seg_advanced = 0;
	rec->last_idx_off = RC_SEG_HDR;
	rec->st.segments++;
	rec_sync_dir(rec);
	return 0;
err_idx:
	rc_seg_name(name, sizeof(name), first, "idx");
	unlinkat(rec->dirfd, name, 0);
	close(rec->idxfd);
	rec->idxfd = -1;
err_list:
	rec->segs.n--;
	return r;
}

/* Write out and close the segment appended to; sync it unless told not. */
static int rec_end_segment(struct ringcast_rec *rec)
{
	int r;

	if (rec->fd < 0)
		return 0;
	r = rec_write_out(rec);
	if (!r && rec->opts.sync != RINGCAST_REC_SYNC_NONE && rec->dirty)
		r = rec_do_sync(rec);
	close(rec->fd);
	close(rec->idxfd);
	rec->fd = -1;
	rec->idxfd = -1;
	return r;
}

static void rec_unlink_segment(struct ringcast_rec *rec, uint64_t first)
{
	char name[32];

	rc_seg_name(name, sizeof(name), first, "idx");
	unlinkat(rec->dirfd, name, 0);
	rc_seg_name(name, sizeof(name), first, "seg");
	unlinkat(rec->dirfd, name, 0);
}

/*
 * Remove the oldest segments, never the one appended to, while the
 * recording is larger than retain_bytes or they are older than retain_ns
 * (their last write).
 */
static void rec_retain(struct ringcast_rec *rec)
{
	uint64_t total = 0, now = rc_realtime_ns();
	size_t i, drop = 0;
	uint64_t *sizes;

	if (!rec->opts.retain_bytes && !rec->opts.retain_ns)
		return;
	if (rec->segs.n < 2)
		return;
	sizes = calloc(rec->segs.n, sizeof(*sizes));
	if (!sizes)
		return;
	for (i = 0; i < rec->segs.n; i++) {
		char name[32];
		struct stat sb;

		rc_seg_name(name, sizeof(name), rec->segs.first[i], "seg");
		if (fstatat(rec->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		sizes[i] = (uint64_t)sb.st_size;
		total += sizes[i];
		if (i + 1 == rec->segs.n)
			break;
		if (i == drop && rec->opts.retain_ns &&
		    (uint64_t)sb.st_mtim.tv_sec * 1000000000ull +
				    (uint64_t)sb.st_mtim.tv_nsec <
			    now - rec->opts.retain_ns)
			drop = i + 1;
	}
	while (drop + 1 < rec->segs.n && rec->opts.retain_bytes &&
	       total > rec->opts.retain_bytes) {
		total -= sizes[drop];
		drop++;
	}
	free(sizes);
	if (!drop)
		return;
	for (i = 0; i < drop; i++)
		rec_unlink_segment(rec, rec->segs.first[i]);
	rec->st.removed += drop;
	memmove(rec->segs.first, rec->segs.first + drop,
		(rec->segs.n - drop) * sizeof(*rec->segs.first));
	rec->segs.n -= drop;
	rec->st.first = rec->segs.first[0];
	rec_sync_dir(rec);
}

static int rec_add_index(struct ringcast_rec *rec, uint64_t seq)
{
	if (rec->ilen + RC_IDX_ENTRY > rec->icap) {
		size_t cap = rec->icap ? rec->icap * 2 : 64 * RC_IDX_ENTRY;
		unsigned char *p = realloc(rec->ibuf, cap);

		if (!p)
			return -ENOMEM;
		rec->ibuf = p;
		rec->icap = cap;
	}
	rc_put64(rec->ibuf + rec->ilen, seq);
	rc_put64(rec->ibuf + rec->ilen + 8, rec->seg_off);
	rec->ilen += RC_IDX_ENTRY;
	rec->last_idx_off = rec->seg_off;
	return 0;
}

/* A record's header at @p, its checksum left for the caller. */
static void rec_put_header(unsigned char *p, const struct ringcast_rec_entry *e,
			   uint32_t len, uint64_t count)
{
	rc_put32(p + RC_REC_OFF_LEN, len);
	rc_put64(p + RC_REC_OFF_SEQ, e->ev.seq);
	rc_put64(p + RC_REC_OFF_TS, e->ev.ts);
	rc_put32(p + RC_REC_OFF_TYPE, e->ev.type);
	rc_put32(p + RC_REC_OFF_EPOCH, e->ev.epoch);
	rc_put16(p + RC_REC_OFF_KIND, (uint16_t)e->kind);
	rc_put16(p + RC_REC_OFF_FLAGS, 0);
	rc_put32(p + RC_REC_OFF_PUBLISHER, e->ev.publisher);
	/* A gap's payload is its count. */
	if (e->kind == RINGCAST_REC_GAP || e->kind == RINGCAST_REC_HOLE)
		rc_put64(p + RC_REC_HDR, count);
}

RINGCAST_API int ringcast_rec_append(struct ringcast_rec *rec,
				     const struct ringcast_rec_entry *e)
{
	static const unsigned char zeros[8];
	unsigned char h[RC_REC_HDR + 8], *p;
	uint64_t count, size, seq;
	uint32_t len;
	size_t hlen;
	int r;

	if (!rec || !rec->writer || !e)
		return -EINVAL;
	seq = e->ev.seq;
	switch (e->kind) {
	case RINGCAST_REC_EVENT:
		if (e->count > 1)
			return -EINVAL;
		count = 1;
		if (e->ev.len > RC_REC_MAX_LEN)
			return -EMSGSIZE;
		if (e->ev.len && !e->ev.data)
			return -EINVAL;
		len = e->ev.len;
		break;
	case RINGCAST_REC_GAP:
	case RINGCAST_REC_HOLE:
		count = e->count;
		if (!count)
			return -EINVAL;
		len = 8;
		break;
	case RINGCAST_REC_TAKEOVER:
		if (e->count)
			return -EINVAL;
		count = 0;
		len = 0;
		break;
	default:
		return -EINVAL;
	}
	if (count > UINT64_MAX - seq)
		return -EINVAL;
	/* Neither a repeat nor a silent skip. */
	if (rec->have_next && seq != rec->next)
		return -EINVAL;
	size = rc_frec_size(len);

	if (rec->fd >= 0 && rec->seg_advanced &&
	    rec->seg_off + size > rec->opts.segment_size) {
		r = rec_end_segment(rec);
		if (r)
			return r;
		r = rec_new_segment(rec, seq);
		if (r)
			return r;
		rec_retain(rec);
	} else if (rec->fd < 0) {
		r = rec_new_segment(rec, seq);
		if (r)
			return r;
		if (!rec->have_next)
			rec->st.first = seq;
	}

	if (rec->seg_off - rec->last_idx_off >= RC_IDX_STRIDE) {
		r = rec_add_index(rec, seq);
		if (r)
			return r;
	}
	if (rec->wlen + size > RC_REC_WBUF) {
		r = rec_write_out(rec);
		if (r)
			return r;
	}
	/* In the buffer, or on the stack for one larger than it. */
	p = size > RC_REC_WBUF ? h : rec->wbuf + rec->wlen;
	hlen = e->kind == RINGCAST_REC_EVENT ? RC_REC_HDR : RC_REC_HDR + 8;
	rec_put_header(p, e, len, count);
	if (size <= RC_REC_WBUF) {
		/* Copied, then checksummed while it is in the cache. */
		if (e->kind == RINGCAST_REC_EVENT && len)
			memcpy(p + RC_REC_HDR, e->ev.data, len);
		if (size > hlen + len)
			memset(p + hlen + len, 0, (size_t)(size - hlen - len));
		rc_put32(p + RC_REC_OFF_CRC,
			 rc_crc32c(0, p + 4, RC_REC_HDR - 4 + len));
		rec->wlen += (size_t)size;
	} else {
		/* Larger than the buffer: straight to the file. */
		struct iovec iov[3] = {
			{ h, hlen },
			{ (void *)e->ev.data, len },
			{ (void *)zeros, (size_t)(size - hlen - len) },
		};
		uint64_t off = rec->seg_off, want = size;
		int i = 0;

		rc_put32(h + RC_REC_OFF_CRC,
			 rc_crc32c(rc_crc32c(0, h + 4, RC_REC_HDR - 4),
				   e->ev.data, len));
		while (want) {
			ssize_t n =
				pwritev(rec->fd, iov + i, 3 - i, (off_t)off);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			off += (uint64_t)n;
			want -= (uint64_t)n;
			while (i < 3 && (size_t)n >= iov[i].iov_len) {
				n -= (ssize_t)iov[i].iov_len;
				i++;
			}
			if (i < 3) {
				iov[i].iov_base = (char *)iov[i].iov_base + n;
				iov[i].iov_len -= (size_t)n;
			}
		}
		rec->dirty = true;
	}
	rec->seg_off += size;
	if (count)
		rec->seg_advanced++;
	rec->next = seq + count;
	rec->have_next = true;
	rec->st.next = rec->next;
	rec->st.records++;
	rec->st.bytes += size;
	return 0;
}

RINGCAST_API int ringcast_rec_flush(struct ringcast_rec *rec)
{
	int r;

	if (!rec || !rec->writer)
		return -EINVAL;
	if (rec->fd < 0)
		return 0;
	r = rec_write_out(rec);
	if (r)
		return r;
	if (rec->opts.sync == RINGCAST_REC_SYNC_INTERVAL && rec->dirty &&
	    rc_monotonic_ns() - rec->last_sync_ns >= rec->opts.sync_interval_ns)
		return rec_do_sync(rec);
	return 0;
}

RINGCAST_API int ringcast_rec_sync(struct ringcast_rec *rec)
{
	int r;

	if (!rec || !rec->writer)
		return -EINVAL;
	if (rec->fd < 0)
		return 0;
	r = rec_write_out(rec);
	if (r)
		return r;
	return rec_do_sync(rec);
}

int rc_rec_writer_close(struct ringcast_rec *rec)
{
	int r = rec_end_segment(rec);

	/* Closing the lock's descriptor releases the lock. */
	return r;
}

/*
 * Recover segment @first, the last: find the end of its last whole record
 * (from its last index entry on, else from its start), cut what follows,
 * and make it the segment appended to.  Return: 1 (it holds records), 0
 * (it holds none: the caller removes it), -EXDEV, -EBADMSG, -errno.
 */
static int rec_recover(struct ringcast_rec *rec, uint64_t first)
{
	uint64_t off, start, size, nidx, next = 0, nrec = 0;
	unsigned char ih[RC_IDX_HDR] = { 0 };
	struct rc_seg_hdr sh;
	struct rc_frec_hdr h;
	const unsigned char *p;
	char name[32];
	struct stat sb;
	int fd, r;

	rc_seg_name(name, sizeof(name), first, "seg");
	fd = openat(rec->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = rc_seg_hdr_read(fd, &sh);
	/* Shorter than a header: killed while creating it. */
	if (r == -EAGAIN) {
		close(fd);
		return 0;
	}
	if (r)
		goto err_close;
	r = -EBADMSG;
	if (sh.first != first)
		goto err_close;
	if (strcmp(sh.name, rec->name) || sh.ring_created != rec->created_ns) {
		rc_set_detail("%s holds ring '%s' created at %llu ns, not "
			      "'%s' created at %llu ns",
			      name, sh.name,
			      (unsigned long long)sh.ring_created, rec->name,
			      (unsigned long long)rec->created_ns);
		r = -EXDEV;
		goto err_close;
	}
	if (fstat(fd, &sb)) {
		r = -errno;
		goto err_close;
	}
	size = (uint64_t)sb.st_size;
	rc_win_drop(rec);

	/* From the last index entry whose record holds, else the start. */
	rc_idx_find(rec->dirfd, first, UINT64_MAX, &start, &nidx);
	if (start && (start >= size || rc_frec_at(rec, fd, start, &h, &p)))
		start = 0;
	off = start ? start : RC_SEG_HDR;
	for (;;) {
		r = rc_frec_at(rec, fd, off, &h, &p);
		if (r == -ENOMEM || (r < 0 && r != -EAGAIN && r != -EBADMSG))
			goto err_close;
		if (r)
			break;
		if (nrec ? h.seq != next : (!start && h.seq != first))
			break;
		next = h.seq + rc_frec_count(&h, p);
		nrec++;
		off += rc_frec_size(h.len);
	}
	rc_win_drop(rec);
	if (!nrec) {
		close(fd);
		return 0;
	}
	if (off < size) {
		if (ftruncate(fd, (off_t)off)) {
			r = -errno;
			goto err_close;
		}
		rec->st.truncated += size - off;
	}

	/* The index: entries that point past the end go. */
	rc_seg_name(name, sizeof(name), first, "idx");
	rec->idxfd = openat(rec->dirfd, name,
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			    rec->opts.mode);
	if (rec->idxfd < 0) {
		r = -errno;
		goto err_close;
	}
	if (fchmod(rec->idxfd, rec->opts.mode)) {
		r = -errno;
		goto err_idx;
	}
	rec->last_idx_off = RC_SEG_HDR;
	if (nidx) {
		unsigned char e[RC_IDX_ENTRY];

		while (nidx) {
			if (pread(rec->idxfd, e, sizeof(e),
				  RC_IDX_HDR + (nidx - 1) * RC_IDX_ENTRY) !=
			    (ssize_t)sizeof(e))
				break;
			if (rc_get64(e + 8) < off) {
				rec->last_idx_off = rc_get64(e + 8);
				break;
			}
			nidx--;
		}
	} else {
		/* Missing or damaged: a fresh one. */
		memcpy(ih, RC_IDX_MAGIC, 8);
		rc_put32(ih + RC_IDX_OFF_VERSION, RC_REC_VERSION);
		rc_put32(ih + RC_IDX_OFF_ENTRY_SIZE, RC_IDX_ENTRY);
		rc_put64(ih + RC_IDX_OFF_FIRST, first);
		rc_put32(ih + RC_IDX_OFF_CRC, rc_crc32c(0, ih, RC_IDX_OFF_CRC));
		if (pwrite_all(rec->idxfd, ih, sizeof(ih), 0)) {
			r = -EIO;
			goto err_idx;
		}
	}
	if (ftruncate(rec->idxfd, (off_t)(RC_IDX_HDR + nidx * RC_IDX_ENTRY))) {
		r = -errno;
		goto err_idx;
	}
	rec->fd = fd;
	rec->seg_first = first;
	rec->seg_off = off;
	rec->seg_advanced = nrec;
	rec->next = next;
	rec->have_next = true;
	return 1;
err_idx:
	close(rec->idxfd);
	rec->idxfd = -1;
err_close:
	close(fd);
	return r;
}

/* Take PATH/lock, an OFD write lock: -EBUSY while another writer holds it. */
static int rec_lock(struct ringcast_rec *rec)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, r;

	fd = openat(rec->dirfd, "lock",
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, rec->opts.mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, rec->opts.mode)) {
		r = -errno;
		goto err_close;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl)) {
		r = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
		goto err_close;
	}
	rec->lockfd = fd;
	return 0;
err_close:
	close(fd);
	return r;
}

RINGCAST_API int ringcast_rec_create(const char *path,
				     const struct ringcast_rec_opts *opts,
				     struct ringcast_rec **recp, uint64_t *next)
{
	struct ringcast_rec *rec;
	mode_t dmode;
	bool made = false;
	int r;

	if (!path || !*path || !opts || !recp || !opts->name || !*opts->name ||
	    strlen(opts->name) > RINGCAST_NAME_MAX ||
	    opts->sync > RINGCAST_REC_SYNC_INTERVAL ||
	    (opts->segment_size && opts->segment_size < RC_REC_MIN_SEGMENT) ||
	    (opts->mode & ~0777u))
		return -EINVAL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->writer = true;
	rec->dirfd = rec->lockfd = rec->fd = rec->idxfd = rec->rfd = -1;
	rec->opts = *opts;
	rec->opts.name = NULL;
	if (!rec->opts.mode)
		rec->opts.mode = 0600;
	if (!rec->opts.segment_size)
		rec->opts.segment_size = RC_REC_DEFAULT_SEGMENT;
	if (!rec->opts.sync_interval_ns)
		rec->opts.sync_interval_ns = RC_REC_DEFAULT_INTERVAL;
	strcpy(rec->name, opts->name);
	strcpy(rec->st.name, opts->name);
	rec->created_ns = opts->created_ns;
	rec->st.created_ns = opts->created_ns;
	rec->last_sync_ns = rc_monotonic_ns();
	rec->wbuf = malloc(RC_REC_WBUF);
	if (!rec->wbuf) {
		r = -ENOMEM;
		goto err_free;
	}

	/* The directory: the files' mode, searchable where readable. */
	dmode = rec->opts.mode | ((rec->opts.mode & 0444) >> 2);
	if (!mkdir(path, dmode))
		made = true;
	else if (errno != EEXIST) {
		r = -errno;
		goto err_free;
	}
	rec->dirfd =
		open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rec->dirfd < 0) {
		r = -errno;
		goto err_free;
	}
	if (made && fchmod(rec->dirfd, dmode)) {
		r = -errno;
		goto err_free;
	}
	r = rec_lock(rec);
	if (r)
		goto err_free;
	r = rc_seg_list(rec->dirfd, &rec->segs);
	if (r)
		goto err_free;
	while (rec->segs.n) {
		uint64_t last = rec->segs.first[rec->segs.n - 1];

		r = rec_recover(rec, last);
		if (r < 0)
			goto err_free;
		if (r > 0)
			break;
		/* Nothing whole in it: a writer died as it began. */
		rec_unlink_segment(rec, last);
		rec->segs.n--;
	}
	if (rec->segs.n) {
		rec->st.first = rec->segs.first[0];
		rec->st.next = rec->next;
		if (next)
			*next = rec->next;
		rec_retain(rec);
	}
	*recp = rec;
	return rec->have_next ? 1 : 0;
err_free:
	ringcast_rec_close(rec);
	return r;
}
