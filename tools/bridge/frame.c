// SPDX-License-Identifier: MIT
/*
 * The bridge's frames: encoding into a buffer, decoding with every length
 * checked against the bytes there are (frame.h has the layout).  A frame
 * comes from the network: the decoder trusts nothing in it, and checks a
 * frame whole before it hands out its first event, so that a malformed
 * frame is refused whole, never half published.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"

/* Offsets in the frame header and in an event's header (frame.h). */
enum {
	F_MAGIC = 0,
	F_VERSION = 4,
	F_FLAGS = 5,
	F_HOST_LEN = 6,
	F_NEVENTS = 8,
	F_RESERVED = 12,
	F_EPOCH = 16,
	F_SESSION = 24,
	F_DROPPED = 32,
	F_INCARNATION = 40,
	E_SEQ = 0,
	E_TS = 8,
	E_COUNT = 16,
	E_TYPE = 24,
	E_LEN = 28,
};

_Static_assert(F_INCARNATION + 8 == BRIDGE_FRAME_HDR, "frame header size");
_Static_assert(E_LEN + 4 == BRIDGE_FRAME_EVENT_HDR, "event header size");

static inline void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

int bridge_frame_begin(struct bridge_frame_writer *w, void *buf, size_t cap,
		       const struct bridge_frame_hdr *h)
{
	uint8_t *p = buf;
	size_t need;

	if (h->host_len > BRIDGE_FRAME_HOST_MAX)
		return -EINVAL;
	need = bridge_frame_hdr_size(h->host_len);
	if (need > cap)
		return -EMSGSIZE;
	memcpy(p + F_MAGIC, BRIDGE_FRAME_MAGIC, 4);
	p[F_VERSION] = BRIDGE_FRAME_VERSION;
	p[F_FLAGS] = 0;
	put16(p + F_HOST_LEN, (uint16_t)h->host_len);
	put32(p + F_NEVENTS, 0);
	put32(p + F_RESERVED, 0);
	put64(p + F_EPOCH, h->epoch);
	put64(p + F_SESSION, h->session);
	put64(p + F_DROPPED, h->dropped);
	put64(p + F_INCARNATION, h->incarnation);
	if (h->host_len)
		memcpy(p + BRIDGE_FRAME_HDR, h->host, h->host_len);
	w->buf = p;
	w->cap = cap;
	w->len = need;
	w->hdr_len = need;
	w->nevents = 0;
	return 0;
}

int bridge_frame_add(struct bridge_frame_writer *w,
		     const struct bridge_frame_event *ev)
{
	uint8_t *p;

	if (w->nevents == UINT32_MAX)
		return -EOVERFLOW;
	if (bridge_frame_event_size(ev->len) > w->cap - w->len)
		return -EMSGSIZE;
	p = w->buf + w->len;
	put64(p + E_SEQ, ev->seq);
	put64(p + E_TS, ev->ts);
	put64(p + E_COUNT, ev->count);
	put32(p + E_TYPE, ev->type);
	put32(p + E_LEN, ev->len);
	if (ev->len)
		memcpy(p + BRIDGE_FRAME_EVENT_HDR, ev->data, ev->len);
	w->len += bridge_frame_event_size(ev->len);
	w->nevents++;
	return 0;
}

void bridge_frame_set_dropped(struct bridge_frame_writer *w, uint64_t dropped)
{
	put64(w->buf + F_DROPPED, dropped);
}

size_t bridge_frame_finish(struct bridge_frame_writer *w)
{
	if (!w->nevents)
		return 0;
	put32(w->buf + F_NEVENTS, w->nevents);
	return w->len;
}

int bridge_frame_open(struct bridge_frame_reader *r, const void *buf,
		      size_t len, struct bridge_frame_hdr *h)
{
	const uint8_t *p = buf;
	size_t off, host_len;
	uint32_t n, i;

	memset(h, 0, sizeof(*h));
	r->buf = p;
	r->len = len;
	r->off = len;
	r->left = 0;
	/* The magic and the version first: they say how to read the rest. */
	if (len < F_VERSION + 1 || memcmp(p + F_MAGIC, BRIDGE_FRAME_MAGIC, 4))
		return -EBADMSG;
	h->version = p[F_VERSION];
	if (h->version != BRIDGE_FRAME_VERSION)
		return -EPROTONOSUPPORT;
	if (len < BRIDGE_FRAME_HDR || p[F_FLAGS] || get32(p + F_RESERVED))
		return -EBADMSG;
	host_len = get16(p + F_HOST_LEN);
	n = get32(p + F_NEVENTS);
	if (!n || host_len > BRIDGE_FRAME_HOST_MAX ||
	    host_len > len - BRIDGE_FRAME_HDR)
		return -EBADMSG;

	/*
	 * Walk every event's header, each length checked against what is
	 * left before it moves the offset: the loop ends after n steps or at
	 * the first that does not fit.
	 */
	off = BRIDGE_FRAME_HDR + host_len;
	for (i = 0; i < n; i++) {
		uint32_t elen;

		if (len - off < BRIDGE_FRAME_EVENT_HDR)
			return -EBADMSG;
		elen = get32(p + off + E_LEN);
		off += BRIDGE_FRAME_EVENT_HDR;
		if (elen > len - off)
			return -EBADMSG;
		off += elen;
	}
	if (off != len)
		return -EBADMSG;

	h->nevents = n;
	h->epoch = get64(p + F_EPOCH);
	h->session = get64(p + F_SESSION);
	h->dropped = get64(p + F_DROPPED);
	h->incarnation = get64(p + F_INCARNATION);
	h->host = (const char *)p + BRIDGE_FRAME_HDR;
	h->host_len = host_len;
	r->off = BRIDGE_FRAME_HDR + host_len;
	r->left = n;
	return 0;
}

int bridge_frame_next(struct bridge_frame_reader *r,
		      struct bridge_frame_event *ev)
{
	const uint8_t *p;

	/* bridge_frame_open() checked every length; check again, cheaply. */
	if (!r->left || r->len - r->off < BRIDGE_FRAME_EVENT_HDR)
		return 0;
	p = r->buf + r->off;
	ev->seq = get64(p + E_SEQ);
	ev->ts = get64(p + E_TS);
	ev->count = get64(p + E_COUNT);
	ev->type = get32(p + E_TYPE);
	ev->len = get32(p + E_LEN);
	if (ev->len > r->len - r->off - BRIDGE_FRAME_EVENT_HDR) {
		r->left = 0;
		return 0;
	}
	ev->data = p + BRIDGE_FRAME_EVENT_HDR;
	r->off += bridge_frame_event_size(ev->len);
	r->left--;
	return 1;
}
