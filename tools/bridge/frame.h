/* SPDX-License-Identifier: MIT */
/*
 * The bridge's wire format: many events in one NATS message (a frame).
 *
 * A frame travels as the payload of a NATS message that carries the
 * header Ringcast-Frame (the version, decimal) and Ringcast-Type "frame"
 * (not a number: a receiver of the per-event format refuses it as "no
 * type tag" instead of taking the frame for one event).  All integers are
 * little-endian; nothing is aligned.
 *
 *   offset size  frame header (BRIDGE_FRAME_HDR bytes, then the host)
 *        0    4  magic "RCFR"
 *        4    1  version (BRIDGE_FRAME_VERSION)
 *        5    1  flags, 0 (a frame with others set is malformed)
 *        6    2  host_len: bytes of the host's name that follow the header
 *        8    4  nevents: events in the frame (at least 1)
 *       12    4  reserved, 0
 *       16    8  epoch: the origin ring's epoch
 *       24    8  session: the out bridge's random id (a new one restarts
 *                every count)
 *       32    8  dropped: events the out bridge lost before reading them,
 *                in all (of unknown types)
 *       40    8  incarnation: the origin ring's incarnation, 0 unknown
 *       48       host (host_len bytes, no terminating NUL)
 *
 *   then nevents times, back to back:
 *        0    8  seq: the event's sequence in the origin ring
 *        8    8  ts: the origin's timestamp (CLOCK_MONOTONIC ns there)
 *       16    8  count: events of this type the out bridge had read, this
 *                one included (a jump of more than one is a gap)
 *       24    4  type
 *       28    4  len: payload bytes
 *       32  len  payload
 *
 * The frame ends exactly after its last event's payload: trailing bytes,
 * a length past the end, nevents 0, a non-zero flag or reserved field make
 * it malformed (-EBADMSG).  A frame whose magic is right and version is
 * not is refused whole (-EPROTONOSUPPORT): a newer format may lay out
 * everything after the version differently.
 */
#ifndef RINGCAST_BRIDGE_FRAME_H
#define RINGCAST_BRIDGE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BRIDGE_FRAME_VERSION 1
#define BRIDGE_FRAME_MAGIC "RCFR"
/* The frame header's fixed part, and each event's header. */
#define BRIDGE_FRAME_HDR 48
#define BRIDGE_FRAME_EVENT_HDR 32
#define BRIDGE_FRAME_HOST_MAX 255
/* The NATS headers that mark a frame: H_FRAME = version, H_TYPE = "frame". */
#define BRIDGE_FRAME_HEADER "Ringcast-Frame"
#define BRIDGE_FRAME_TYPE_VALUE "frame"

/* The frame-level fields: once per frame. */
struct bridge_frame_hdr {
	uint32_t version; /* decoded: the frame's; encoded: always current */
	uint32_t nevents; /* decoded only */
	uint64_t epoch;
	uint64_t session;
	uint64_t dropped;
	uint64_t incarnation;
	const char *host; /* decoded: points into the frame, not terminated */
	size_t host_len;
};

/* One event of a frame; decoded, @data points into the frame. */
struct bridge_frame_event {
	uint64_t seq;
	uint64_t ts;
	uint64_t count;
	uint32_t type;
	uint32_t len;
	const void *data;
};

/* Encoding into a caller's buffer; no allocation. */
struct bridge_frame_writer {
	uint8_t *buf;
	size_t cap;
	size_t len; /* bytes written so far */
	size_t hdr_len; /* of the header, host included */
	uint32_t nevents;
};

/* The bytes an event of @len payload bytes takes in a frame. */
static inline size_t bridge_frame_event_size(uint32_t len)
{
	return BRIDGE_FRAME_EVENT_HDR + (size_t)len;
}

/* The bytes a frame's header takes with a host of @host_len bytes. */
static inline size_t bridge_frame_hdr_size(size_t host_len)
{
	return BRIDGE_FRAME_HDR + host_len;
}

/*
 * bridge_frame_begin() - start a frame in @buf (@cap bytes), header first
 *
 * Return: 0; -EINVAL a host longer than BRIDGE_FRAME_HOST_MAX; -EMSGSIZE
 * the header does not fit in @cap.
 */
int bridge_frame_begin(struct bridge_frame_writer *w, void *buf, size_t cap,
		       const struct bridge_frame_hdr *h);

/*
 * bridge_frame_add() - append one event
 *
 * Return: 0; -EMSGSIZE it does not fit in what is left of the buffer (the
 * frame is unchanged); -EOVERFLOW the frame holds UINT32_MAX events.
 */
int bridge_frame_add(struct bridge_frame_writer *w,
		     const struct bridge_frame_event *ev);

/*
 * bridge_frame_set_dropped() - rewrite the frame's dropped field (it may
 * grow while the frame is open)
 */
void bridge_frame_set_dropped(struct bridge_frame_writer *w, uint64_t dropped);

/*
 * bridge_frame_finish() - close the frame: write its event count
 *
 * Return: its length in bytes (0 when it holds no event: send nothing).
 */
size_t bridge_frame_finish(struct bridge_frame_writer *w);

/* Decoding: the frame is checked whole before any event is handed out. */
struct bridge_frame_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	uint32_t left;
};

/*
 * bridge_frame_open() - check a whole frame of @len bytes and read its
 * header into @h
 *
 * Every length is checked against the bytes there are before it is used:
 * nothing is read outside [@buf, @buf + @len).
 *
 * Return: 0, and then bridge_frame_next() yields exactly h->nevents events;
 * -EPROTONOSUPPORT the magic is right but the version is not (h->version
 * says which); -EBADMSG malformed (not a frame, truncated, trailing bytes,
 * a length past the end, reserved bits set, no event).
 */
int bridge_frame_open(struct bridge_frame_reader *r, const void *buf,
		      size_t len, struct bridge_frame_hdr *h);

/*
 * bridge_frame_next() - the next event of an opened frame
 *
 * Return: 1 an event in @ev; 0 none left.
 */
int bridge_frame_next(struct bridge_frame_reader *r,
		      struct bridge_frame_event *ev);

#endif
