/* SPDX-License-Identifier: MIT */
/*
 * Recordings: a ring's events appended to segment files in a directory,
 * each record checksummed (crc32c), each segment named by its first
 * sequence and given a sparse index.  The format, version 1, is
 * ringcast-recording(5); this header is its definition in code.  All
 * integers on disk are little-endian.
 *
 *   PATH/lock                  held (an OFD write lock) by the writer
 *   PATH/<first:%020u>.seg     a segment: a 256-byte header, then records
 *   PATH/<first:%020u>.idx     its index: a 32-byte header, then entries
 *
 * A recording's files are untrusted input: every length and offset read
 * from them is checked against the file's size before use.
 */
#ifndef RINGCAST_REC_H
#define RINGCAST_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcast.h"

#define RC_REC_VERSION 1u

/* The segment header. */
#define RC_SEG_MAGIC "RCRECSEG"
#define RC_SEG_HDR 256u
#define RC_SEG_OFF_VERSION 8
#define RC_SEG_OFF_HDR_SIZE 12
#define RC_SEG_OFF_FIRST 16
#define RC_SEG_OFF_RING_CREATED 24
#define RC_SEG_OFF_SEG_CREATED 32
#define RC_SEG_OFF_NAME_LEN 40
#define RC_SEG_OFF_FLAGS 44
#define RC_SEG_OFF_NAME 48 /* RINGCAST_NAME_MAX bytes, NUL-padded */
#define RC_SEG_OFF_CRC 252 /* crc32c of bytes [0, 252) */

/* A record: this header, the payload, zeros up to a multiple of 8. */
#define RC_REC_HDR 40u
#define RC_REC_OFF_CRC 0 /* crc32c of bytes [4, 40) and of the payload */
#define RC_REC_OFF_LEN 4
#define RC_REC_OFF_SEQ 8
#define RC_REC_OFF_TS 16
#define RC_REC_OFF_TYPE 24
#define RC_REC_OFF_EPOCH 28
#define RC_REC_OFF_KIND 32 /* u16 */
#define RC_REC_OFF_FLAGS 34 /* u16, 0 */
#define RC_REC_OFF_PUBLISHER 36
/* The longest payload a record may hold (the largest event of a ring). */
#define RC_REC_MAX_LEN (1u << 30)

/* The index file: a header, then entries of (seq, offset), both u64. */
#define RC_IDX_MAGIC "RCRECIDX"
#define RC_IDX_HDR 32u
#define RC_IDX_OFF_VERSION 8
#define RC_IDX_OFF_ENTRY_SIZE 12
#define RC_IDX_OFF_FIRST 16
#define RC_IDX_OFF_CRC 28 /* crc32c of bytes [0, 28) */
#define RC_IDX_ENTRY 16u
/* An entry for the first record at or past every this many bytes. */
#define RC_IDX_STRIDE (64u << 10)

/* Defaults and limits of struct ringcast_rec_opts. */
#define RC_REC_DEFAULT_SEGMENT (64ull << 20)
#define RC_REC_MIN_SEGMENT (64ull << 10)
#define RC_REC_DEFAULT_INTERVAL 1000000000ull
#define RC_REC_WBUF (1u << 20)
#define RC_RBUF (256u << 10)

/* crc32c (Castagnoli), as iSCSI and ext4 use it: rec_crc.c. */
uint32_t rc_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t rc_crc32c_soft(uint32_t crc, const void *buf, size_t len);

/* Little-endian fields. */
static inline uint16_t rc_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rc_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t rc_get64(const unsigned char *p)
{
	return (uint64_t)rc_get32(p) | (uint64_t)rc_get32(p + 4) << 32;
}

static inline void rc_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void rc_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void rc_put64(unsigned char *p, uint64_t v)
{
	rc_put32(p, (uint32_t)v);
	rc_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t rc_frec_size(uint32_t len)
{
	return RC_REC_HDR + (((uint64_t)len + 7) & ~7ull);
}

/* A segment header, decoded. */
struct rc_seg_hdr {
	uint64_t first;
	uint64_t ring_created;
	uint64_t seg_created;
	char name[RINGCAST_NAME_MAX + 1];
};

/* The segments of a recording: their first sequences, sorted. */
struct rc_seglist {
	uint64_t *first;
	size_t n, cap;
};

/*
 * A record's header, decoded and checked against what is around it: the
 * payload is checked by rc_frec_check().
 */
struct rc_frec_hdr {
	uint32_t crc, len;
	uint64_t seq, ts;
	uint32_t type, epoch, publisher;
	uint16_t kind, flags;
};

struct ringcast_rec {
	bool writer;
	int dirfd;
	int lockfd;
	char name[RINGCAST_NAME_MAX + 1];
	uint64_t created_ns;
	struct rc_seglist segs;
	struct ringcast_rec_stats st;

	/* The writer. */
	struct ringcast_rec_opts opts;
	int fd, idxfd; /* the segment appended to, and its index */
	uint64_t seg_first; /* its first sequence */
	uint64_t seg_off; /* its bytes, those in @wbuf included */
	uint64_t seg_advanced; /* records in it that advance the sequence */
	uint64_t last_idx_off; /* offset of its last index entry */
	uint64_t next; /* the next sequence to record */
	bool have_next; /* false until the first record */
	unsigned char *wbuf; /* bytes not yet written to @fd */
	size_t wlen;
	unsigned char *ibuf; /* index entries not yet written to @idxfd */
	size_t ilen, icap;
	uint64_t last_sync_ns;
	bool dirty; /* written since the last fdatasync */

	/* The reader. */
	int rfd; /* the segment read, -1 if none */
	uint64_t rfirst; /* its first sequence */
	uint64_t rsize; /* its size when last looked at */
	uint64_t roff; /* the offset of the next record */
	char rname[32]; /* its file name */
	unsigned char *rbuf; /* bytes [rbuf_off, rbuf_off + rbuf_len) */
	size_t rbuf_cap, rbuf_len;
	uint64_t rbuf_off;
	bool resync; /* after a damaged record: look for the next one */
	uint64_t seek_seq; /* skip records wholly before it */
	bool seeking;
};

/* rec.c: what the writer and the reader share. */
void rc_seg_name(char *buf, size_t size, uint64_t first, const char *ext);
int rc_seg_list(int dirfd, struct rc_seglist *l);
int rc_seg_hdr_read(int fd, struct rc_seg_hdr *h);
void rc_frec_decode(const unsigned char *p, struct rc_frec_hdr *h);
bool rc_frec_check(const struct rc_frec_hdr *h, const unsigned char *p);
uint64_t rc_realtime_ns(void);
uint64_t rc_monotonic_ns(void);
uint64_t rc_frec_count(const struct rc_frec_hdr *h, const unsigned char *p);
int rc_win(struct ringcast_rec *rec, int fd, uint64_t off, size_t len,
	   const unsigned char **p);
void rc_win_drop(struct ringcast_rec *rec);
int rc_frec_at(struct ringcast_rec *rec, int fd, uint64_t off,
	       struct rc_frec_hdr *h, const unsigned char **p);
/* error.c */
void rc_set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* rec_write.c */
int rc_rec_writer_close(struct ringcast_rec *rec);
int rc_idx_find(int dirfd, uint64_t first, uint64_t seq, uint64_t *off,
		uint64_t *nentries);

#endif
