// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge out: a subscriber of the ring that publishes its events
 * to NATS in frames (frame.h), on PREFIX.NAME.TYPE.
 *
 * Frames.  A frame holds events of one type, so that subscriptions to
 * PREFIX.NAME.TYPE filter types at the server.  --frame-order ring (the
 * default) keeps the ring's order across types: one frame is open, and
 * an event of another type sends it first, so a frame is a run of
 * consecutive events of one type.  --frame-order type keeps a frame open
 * per type (up to OUT_FRAMES_MAX types at once; a new type beyond those
 * flushes the frame open longest): interleaved types fill frames too,
 * and events keep their order within each type only.  A frame is sent
 * when it holds --frame-events events,
 * when it reaches --frame-bytes, when its first event was read
 * --frame-us ago, and (unless --frame-idle wait) as soon as the ring has
 * nothing more to read: a slow stream sends each event at once, a fast
 * one fills frames.  An event
 * that does not fit in what is left of its frame flushes it first; one
 * that does not fit in an empty frame below the server's maximum payload
 * is refused.
 *
 * Holding the publisher back.  The subscriber is reliable, with the
 * ring's demotion limit shortened to --hold: while NATS is unreachable the
 * bridge stops reading, so the ring's publisher waits for it (nothing is
 * lost) until it has waited --hold, when the library demotes the bridge
 * to lossy and the publisher goes on.  Once NATS is back, the bridge reads
 * again: it is told it was demoted (-ESTALE), subscribes reliably again
 * from where it was, and learns exactly how many events it lost
 * (-EOVERFLOW): it counts them (dropped), reports them, and tells the
 * receivers in Ringcast-Dropped, since their types are unknown.  --hold 0
 * makes it a lossy subscriber from the start; "forever" never lets go.
 *
 * Events larger than the server's maximum payload (headers included) are
 * refused: counted, reported, never truncated; their per-type count is
 * still taken, so receivers see the gap too.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "frame.h"
#include "ringpath.h"

/* Frames open at once, one per type. */
#define OUT_FRAMES_MAX 64u
/* Events read between two looks at the connection and the clock. */
#define OUT_BATCH 256u

/* The NATS headers of a frame: "NATS/1.0\r\n", two keys, "\r\n". */
#define OUT_FRAME_NATS_HDR                                                   \
	(10 + sizeof(BRIDGE_FRAME_HEADER) - 1 + 4 + 3 + sizeof(H_TYPE) - 1 + \
	 4 + sizeof(BRIDGE_FRAME_TYPE_VALUE) - 1 + 2)

/* One type's open frame. */
struct out_frame {
	uint32_t type;
	bool open; /* holds at least one event */
	uint64_t first_ns; /* when its first event was read */
	uint64_t first_seq;
	struct bridge_frame_writer w;
	uint8_t *buf;
	size_t cap;
};

/* A report that may come in floods: the first at once, then once a second. */
struct note {
	uint64_t last_ns;
	uint64_t pending;
};

struct out {
	struct bridge *b;
	struct ringcast_sub *sub;
	struct u64map counts; /* type -> events of that type read */
	char subj[BRIDGE_SUBJECT_MAX];
	size_t subj_len; /* of "PREFIX.NAME." */
	char session[17];
	uint64_t conn_gen;

	uint64_t read;
	uint64_t sent;
	uint64_t refused;
	uint64_t dropped;
	uint64_t demotions;
	uint64_t epoch; /* its low 32 bits are the events' epoch */
	bool epoch_known;
	uint64_t last_seq;

	struct out_frame frames[OUT_FRAMES_MAX];
	unsigned int nframes; /* slots in use (open or not) */
	unsigned int nopen;
	unsigned int last_frame; /* the slot of the last event's type */
	size_t frame_cap; /* a frame's bytes at most: the server's limit */
	size_t host_len;
	size_t frame_bytes; /* flush at this many bytes */
	char frame_version[8];
	uint64_t frames_sent;
	uint64_t flush_full; /* --frame-events or --frame-bytes reached */
	uint64_t flush_time; /* --frame-us */
	uint64_t flush_idle; /* the ring had nothing more */
	uint64_t flush_other; /* another type, a new epoch, the end... */
	uint64_t unsent; /* events read and never sent (stopped) */

	struct note refused_note;
	struct note dropped_note;
	uint64_t status_ns;
	bool dirty;
};

static _Atomic(struct ringcast_sub *) signal_sub;

static void out_interrupt(void)
{
	struct ringcast_sub *sub = atomic_load(&signal_sub);

	if (sub)
		ringcast_sub_interrupt(sub);
}

/* Signals blocked while the subscriber the handler may use changes. */
static void set_signal_sub(struct ringcast_sub *sub)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	atomic_store(&signal_sub, sub);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int out_attach(struct out *o, uint32_t from, uint64_t seq,
		      uint64_t *first)
{
	struct bridge *b = o->b;
	struct ringcast_sub_opts so = {
		.from = from,
		.seq = seq,
		.flags = RINGCAST_SUB_RESUBSCRIBE,
	};
	bool told = false;
	int r;

	if (b->hold_ns) {
		so.flags |= RINGCAST_SUB_RELIABLE;
		if (b->hold_ns > 0)
			so.demote_ns = (uint64_t)b->hold_ns;
	}
	for (;;) {
		r = ringcast_sub_attach(b->name, &so, &o->sub, first);
		if (r != -ENOENT || !b->wait_ring || bridge_stop)
			break;
		if (!told) {
			bridge_log(b, "waiting for the ring to be created");
			told = true;
		}
		usleep(50 * 1000);
	}
	if (r) {
		const char *d = ringcast_errdetail();

		bridge_log(b, "cannot subscribe to the ring: %s%s%s",
			   ringcast_strerror(r), *d ? ": " : "", d);
		return r;
	}
	set_signal_sub(o->sub);
	return 0;
}

/* Demoted: subscribe reliably again from where we were. */
static int out_reattach(struct out *o)
{
	struct ringcast_sub_stats st;
	uint64_t first;
	int r;

	ringcast_sub_get_stats(o->sub, &st);
	set_signal_sub(NULL);
	ringcast_sub_detach(o->sub);
	o->sub = NULL;
	r = out_attach(o, RINGCAST_FROM_SEQ, st.cursor, &first);
	if (!r)
		bridge_log(o->b, "reliable again from sequence %" PRIu64,
			   st.cursor);
	o->dirty = true;
	return r;
}

/*
 * Count @n more of a flood report.  Return: true when it may be said now,
 * else it is left for note_flush().
 */
static bool note_take(struct note *nt, uint64_t n)
{
	uint64_t now = bridge_now_ns();

	if (now - nt->last_ns < 1000000000ull) {
		nt->pending += n;
		return false;
	}
	nt->last_ns = now;
	return true;
}

static void note_flush(struct out *o, struct note *n, const char *what,
		       uint64_t now, bool force)
{
	if (!n->pending || (!force && now - n->last_ns < 1000000000ull))
		return;
	bridge_log(o->b, "%" PRIu64 " more events %s", n->pending, what);
	n->pending = 0;
	n->last_ns = now;
}

static void out_status(struct out *o, uint64_t now)
{
	struct bridge *b = o->b;
	struct bridge_conn c;
	char buf[2048];
	int n;

	bridge_conn_state(b, &c);
	n = snprintf(buf, sizeof(buf),
		     "pid %d\ndirection out\nring %s\nnats %s\nsubject %s\n"
		     "host %s\nsession %s\nconnected %d\ndisconnects %" PRIu64
		     "\nreconnects %" PRIu64 "\nmax_payload %lld\n"
		     "hold_ns %lld\nreliable %d\nread %" PRIu64
		     "\nsent %" PRIu64 "\nrefused %" PRIu64 "\ndropped %" PRIu64
		     "\ndemotions %" PRIu64 "\nepoch %016" PRIx64
		     "\nlast_seq %" PRIu64 "\nframe_version %d\nframes %" PRIu64
		     "\nframe_events %u\nframe_bytes %zu\nframe_us %" PRIu64
		     "\nflush_full %" PRIu64 "\nflush_time %" PRIu64
		     "\nflush_idle %" PRIu64 "\nflush_other %" PRIu64
		     "\nopen_frames %u\nframe_order %s\nframe_idle %s\n",
		     (int)getpid(), b->name, b->url, b->subject, b->host,
		     o->session, c.connected, c.disconnects, c.reconnects,
		     (long long)b->max_payload, (long long)b->hold_ns,
		     b->hold_ns != 0, o->read, o->sent, o->refused, o->dropped,
		     o->demotions, o->epoch, o->last_seq, BRIDGE_FRAME_VERSION,
		     o->frames_sent, b->frame_events, o->frame_bytes,
		     b->frame_ns / 1000, o->flush_full, o->flush_time,
		     o->flush_idle, o->flush_other, o->nopen,
		     b->frame_by_type ? "type" : "ring",
		     b->frame_idle_wait ? "wait" : "send");
	if (n > 0 && (size_t)n < sizeof(buf))
		bridge_status_write(b, buf, (size_t)n);
	o->status_ns = now;
	o->dirty = false;
}

/* Status and deferred reports, about every BRIDGE_STATUS_NS. */
static void out_periodic(struct out *o, bool force)
{
	uint64_t now = bridge_now_ns();

	if (!force && now - o->status_ns < BRIDGE_STATUS_NS)
		return;
	note_flush(o, &o->refused_note,
		   "refused: larger than the server's maximum payload", now,
		   force);
	note_flush(o, &o->dropped_note, "lost before they could be read", now,
		   force);
	out_status(o, now);
}

static void out_refused(struct out *o, uint64_t seq, uint32_t type,
			uint64_t len, uint64_t n)
{
	o->refused += n;
	o->dirty = true;
	if (!note_take(&o->refused_note, n))
		return;
	bridge_log(o->b,
		   "event %" PRIu64 " (type %" PRIu32 ", %" PRIu64
		   " bytes) is larger than the server's maximum payload "
		   "(%lld bytes with the frame's headers): refused",
		   seq, type, len, (long long)o->b->max_payload);
}

/*
 * Publish one finished frame of @f.  Return: 0 sent; -EMSGSIZE refused by
 * the library (the server's limit changed); -EAGAIN not now
 * (disconnected, reconnect buffer full); -EPIPE the connection is closed
 * for good; -ENOMEM.
 */
static int out_publish(struct out *o, struct out_frame *f, size_t len)
{
	struct bridge *b = o->b;
	natsMsg *m = NULL;
	natsStatus s;
	int n;

	n = snprintf(o->subj + o->subj_len, sizeof(o->subj) - o->subj_len,
		     "%" PRIu32, f->type);
	if (n < 0 || (size_t)n >= sizeof(o->subj) - o->subj_len)
		return -ENAMETOOLONG;
	s = natsMsg_Create(&m, o->subj, NULL, (const char *)f->buf, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, BRIDGE_FRAME_HEADER, o->frame_version);
	/* Not a number: a receiver of single events refuses the frame. */
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, H_TYPE, BRIDGE_FRAME_TYPE_VALUE);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(b->nc, m);
	natsMsg_Destroy(m);
	switch (s) {
	case NATS_OK:
		return 0;
	case NATS_MAX_PAYLOAD:
		return -EMSGSIZE;
	case NATS_CONNECTION_CLOSED:
		return -EPIPE;
	case NATS_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EAGAIN;
	}
}

/*
 * Send @f's frame, waiting (the ring's publisher is held back meanwhile)
 * while NATS cannot take it.  Return: 0 (sent, or refused and counted);
 * -EINTR stopped; -EPIPE, -ENOMEM, -ENAMETOOLONG.
 */
static int out_flush(struct out *o, struct out_frame *f, uint64_t *reason)
{
	struct bridge *b = o->b;
	uint32_t nevents = f->w.nevents;
	size_t len;
	int r;

	if (!f->open)
		return 0;
	/* The frame says every loss known when it leaves. */
	bridge_frame_set_dropped(&f->w, o->dropped);
	len = bridge_frame_finish(&f->w);
	for (;;) {
		struct bridge_conn c;

		r = out_publish(o, f, len);
		if (r != -EAGAIN)
			break;
		if (bridge_stop)
			return -EINTR;
		bridge_conn_state(b, &c);
		if (c.closed)
			return -EPIPE;
		/* Hold: what is not read stays in the ring. */
		o->dirty = true;
		bridge_wait_connected(b, 20);
		out_periodic(o, false);
	}
	if (r == -EMSGSIZE) {
		out_refused(o, f->first_seq, f->type, len, nevents);
		r = 0;
	} else if (!r) {
		o->sent += nevents;
		o->frames_sent++;
		(*reason)++;
	}
	if (r)
		return r;
	f->open = false;
	o->nopen--;
	o->dirty = true;
	return 0;
}

static int out_flush_all(struct out *o, uint64_t *reason)
{
	unsigned int i;
	int r;

	for (i = 0; i < o->nframes && o->nopen; i++) {
		r = out_flush(o, &o->frames[i], reason);
		if (r)
			return r;
	}
	return 0;
}

/* Flush the frames whose first event was read --frame-us ago. */
static int out_flush_expired(struct out *o, uint64_t now)
{
	unsigned int i;
	int r;

	for (i = 0; i < o->nframes && o->nopen; i++) {
		struct out_frame *f = &o->frames[i];

		if (!f->open || now - f->first_ns < o->b->frame_ns)
			continue;
		r = out_flush(o, f, &o->flush_time);
		if (r)
			return r;
	}
	return 0;
}

/* The frame slot of @type, a new one or the one open longest. */
static struct out_frame *out_frame_of(struct out *o, uint32_t type)
{
	struct out_frame *f = &o->frames[o->last_frame], *oldest = NULL;
	unsigned int i;

	if (o->last_frame < o->nframes && f->type == type)
		return f;
	for (i = 0; i < o->nframes; i++) {
		f = &o->frames[i];
		if (f->type == type)
			goto found;
	}
	if (o->nframes < OUT_FRAMES_MAX) {
		i = o->nframes++;
		f = &o->frames[i];
		*f = (struct out_frame){ .type = type };
		goto found;
	}
	/* Every slot taken: reuse an empty one, else the oldest. */
	for (i = 0; i < o->nframes; i++) {
		f = &o->frames[i];
		if (!f->open)
			break;
		if (!oldest || f->first_ns < oldest->first_ns)
			oldest = f;
	}
	if (i == o->nframes)
		f = oldest;
	i = (unsigned int)(f - o->frames);
	/* out_add() flushes it if it holds another type's events. */
found:
	o->last_frame = i;
	return f;
}

/*
 * Put one event into its type's frame, flushing what must go first.
 * Return: 0 (added, or refused and counted); else as out_flush().
 */
static int out_add(struct out *o, const struct ringcast_event *ev,
		   uint64_t count, uint64_t now)
{
	struct bridge *b = o->b;
	struct bridge_frame_event fe = {
		.seq = ev->seq,
		.ts = ev->ts,
		.count = count,
		.type = ev->type,
		.len = ev->len,
		.data = ev->data,
	};
	size_t hdr = bridge_frame_hdr_size(o->host_len);
	struct out_frame *f;
	int r;

	if (hdr + bridge_frame_event_size(ev->len) > o->frame_cap) {
		/* Its per-type count is taken: receivers see the gap. */
		out_refused(o, ev->seq, ev->type, ev->len, 1);
		return 0;
	}
	if (b->frame_by_type) {
		f = out_frame_of(o, ev->type);
	} else {
		/* The ring's order: another type sends the open frame. */
		f = &o->frames[0];
		o->nframes = 1;
	}
	if (f->type != ev->type) {
		/* A slot taken over from another type. */
		r = out_flush(o, f, &o->flush_other);
		if (r)
			return r;
		f->type = ev->type;
	}
	if (f->open) {
		r = bridge_frame_add(&f->w, &fe);
		if (!r)
			goto added;
		r = out_flush(o, f, &o->flush_full);
		if (r)
			return r;
	}
	if (f->cap != o->frame_cap) {
		free(f->buf);
		f->buf = malloc(o->frame_cap);
		f->cap = f->buf ? o->frame_cap : 0;
		if (!f->buf)
			return -ENOMEM;
	}
	{
		struct bridge_frame_hdr h = {
			.epoch = o->epoch,
			.session = b->session,
			.dropped = o->dropped,
			.host = b->host,
			.host_len = o->host_len,
		};

		r = bridge_frame_begin(&f->w, f->buf, f->cap, &h);
	}
	if (!r)
		r = bridge_frame_add(&f->w, &fe);
	if (r)
		return r; /* cannot be: checked against frame_cap above */
	f->open = true;
	f->first_ns = now;
	f->first_seq = ev->seq;
	o->nopen++;
added:
	if (f->w.nevents >= b->frame_events || f->w.len >= o->frame_bytes)
		return out_flush(o, f, &o->flush_full);
	return 0;
}

static void out_dropped(struct out *o, uint64_t lost)
{
	o->dropped += lost;
	o->dirty = true;
	if (!note_take(&o->dropped_note, lost))
		return;
	bridge_log(o->b,
		   "lost %" PRIu64 " events of the ring before reading them "
		   "(%" PRIu64 " in all): the publisher was let go",
		   lost, o->dropped);
}

static void out_epoch(struct out *o, uint32_t low)
{
	struct ringcast_ring_stats info;
	uint64_t epoch = low;

	if (!ringcast_ring_get_stats(o->b->name, &info) &&
	    (uint32_t)info.epoch == low)
		epoch = info.epoch;
	if (o->epoch_known)
		bridge_log(o->b,
			   "the ring's epoch changed from %016" PRIx64
			   " to %016" PRIx64 " (a new publisher)",
			   o->epoch, epoch);
	o->epoch = epoch;
	o->epoch_known = true;
	o->dirty = true;
}

/* The server's limit, known at each (re)connection, bounds the frames. */
static int out_limits(struct out *o)
{
	struct bridge *b = o->b;
	int64_t cap;
	int r;

	b->max_payload = natsConnection_GetMaxPayload(b->nc);
	cap = b->max_payload - (int64_t)OUT_FRAME_NATS_HDR;
	if (cap < (int64_t)bridge_frame_hdr_size(strlen(b->host)) +
			  BRIDGE_FRAME_EVENT_HDR) {
		bridge_log(b,
			   "the server's maximum payload (%lld bytes) "
			   "cannot hold a frame",
			   (long long)b->max_payload);
		return -EMSGSIZE;
	}
	if ((size_t)cap < o->frame_cap) {
		/* Smaller than what is open: send that at once. */
		r = out_flush_all(o, &o->flush_other);
		if (r)
			return r;
	}
	o->frame_cap = (size_t)cap;
	o->frame_bytes = b->frame_bytes < o->frame_cap ? b->frame_bytes :
							 o->frame_cap;
	return 0;
}

/*
 * How long to wait for the next event: with frames open, not at all (they
 * go as soon as the ring has nothing more), or with --frame-idle wait
 * until the first is --frame-us old; else a while, to refresh the status.
 */
static int64_t out_wait_ns(const struct out *o, uint64_t now)
{
	int64_t wait = 100 * 1000 * 1000;
	unsigned int i;

	if (!o->nopen)
		return wait;
	if (!o->b->frame_idle_wait)
		return 0;
	for (i = 0; i < o->nframes; i++) {
		const struct out_frame *f = &o->frames[i];
		uint64_t age = now - f->first_ns;

		if (!f->open)
			continue;
		if (age >= o->b->frame_ns)
			return 0;
		if ((int64_t)(o->b->frame_ns - age) < wait)
			wait = (int64_t)(o->b->frame_ns - age);
	}
	return wait;
}

/* One event read: its epoch, its count, its frame. */
static int out_event(struct out *o, const struct ringcast_event *ev,
		     uint64_t now)
{
	uint64_t *count;
	bool created;
	int r;

	if (!o->epoch_known || ev->epoch != (uint32_t)o->epoch) {
		/* A frame has one epoch: what is open goes first. */
		r = out_flush_all(o, &o->flush_other);
		if (r)
			return r;
		out_epoch(o, ev->epoch);
	}
	count = u64map_get(&o->counts, ev->type, &created);
	if (!count) {
		bridge_log(o->b, "too many types");
		return -ENOMEM;
	}
	++*count;
	o->read++;
	o->last_seq = ev->seq;
	return out_add(o, ev, *count, now);
}

/*
 * The main loop.  The connection, the clock and the frames' ages are
 * looked at once per OUT_BATCH events at most: at a million events a
 * second they cost more than the events.
 *
 * Return: 0 at end of stream or when stopped, or < 0.
 */
static int out_run(struct out *o)
{
	struct bridge *b = o->b;
	struct ringcast_event ev;
	unsigned int k;
	uint64_t now;
	int r;

	while (!bridge_stop) {
		struct bridge_conn c;

		if (o->dirty)
			out_periodic(o, false);
		bridge_conn_state(b, &c);
		if (c.closed) {
			bridge_log(b, "the NATS connection was closed");
			return -EPIPE;
		}
		if (!c.connected) {
			/* Hold: what is not read stays in the ring. */
			o->dirty = true;
			bridge_wait_connected(b, 100);
			continue;
		}
		if (c.gen != o->conn_gen) {
			o->conn_gen = c.gen;
			r = out_limits(o);
			if (r)
				return r;
			o->dirty = true;
		}
		now = bridge_now_ns();
		if (o->nopen) {
			r = out_flush_expired(o, now);
			if (r)
				return r;
		}
		/* The first may wait; the others are what is there. */
		r = ringcast_sub_next(o->sub, &ev, out_wait_ns(o, now));
		for (k = 0; !r && k < OUT_BATCH && !bridge_stop; k++) {
			r = out_event(o, &ev, now);
			if (r)
				return r;
			r = ringcast_sub_next(o->sub, &ev, 0);
		}
		switch (r) {
		case 0:
			/* Read and not handled yet: the next batch's first. */
			r = out_event(o, &ev, now);
			if (r)
				return r;
			continue;
		case -EAGAIN:
		case -ETIMEDOUT:
			/* The ring has nothing more: what is open goes. */
			if (!b->frame_idle_wait) {
				r = out_flush_all(o, &o->flush_idle);
				if (r)
					return r;
			}
			out_periodic(o, false);
			continue;
		case -EINTR:
			out_periodic(o, false);
			continue;
		case -EOVERFLOW:
			out_dropped(o, ev.lost);
			continue;
		case -ESTALE:
			o->demotions++;
			bridge_log(b,
				   "let the publisher go after holding "
				   "it back %.3f s",
				   (double)b->hold_ns / 1e9);
			r = out_reattach(o);
			if (r)
				return r;
			continue;
		case -EPIPE:
			bridge_log(b, "end of stream");
			return out_flush_all(o, &o->flush_other);
		default:
			bridge_log(b, "reading the ring: %s",
				   ringcast_strerror(r));
			return r;
		}
	}
	return 0;
}

int bridge_out(struct bridge *b)
{
	struct out o = { .b = b };
	char enc[BRIDGE_SUBJECT_MAX];
	uint64_t first = 0;
	unsigned int i;
	int n, r;

	r = bridge_encode_name(ring_base(b->name), enc, sizeof(enc));
	if (r)
		return r;
	n = snprintf(o.subj, sizeof(o.subj), "%s.%s.", b->subject, enc);
	if (n < 0 || (size_t)n + 11 >= sizeof(o.subj))
		return -ENAMETOOLONG;
	o.subj_len = (size_t)n;
	snprintf(o.session, sizeof(o.session), "%016" PRIx64, b->session);
	snprintf(o.frame_version, sizeof(o.frame_version), "%d",
		 BRIDGE_FRAME_VERSION);
	o.host_len = strlen(b->host);
	if (o.host_len > BRIDGE_FRAME_HOST_MAX) {
		bridge_log(b, "the host name is longer than %d bytes",
			   BRIDGE_FRAME_HOST_MAX);
		return -ENAMETOOLONG;
	}

	bridge_signals(out_interrupt);
	r = out_attach(&o, b->from, 0, &first);
	if (r)
		return r;
	bridge_log(b,
		   "%s subscriber from sequence %" PRIu64 "; publishing to %s*",
		   b->hold_ns ? "reliable" : "lossy", first, o.subj);
	out_periodic(&o, true);

	r = bridge_connect(b);
	if (!r) {
		out_periodic(&o, true);
		/* Subscribed to the ring and connected: events flow. */
		bridge_notify_ready(b);
		r = out_run(&o);
	}
	bridge_notify_stopping(b);
	if (r == -EINTR)
		r = 0;
	/* Stopped: what is open still goes, unless NATS is away. */
	if (o.nopen && b->nc) {
		struct bridge_conn c;

		bridge_conn_state(b, &c);
		if (c.connected)
			out_flush_all(&o, &o.flush_other);
	}
	for (i = 0; i < o.nframes; i++)
		if (o.frames[i].open)
			o.unsent += o.frames[i].w.nevents;
	if (o.unsent)
		bridge_log(b, "%" PRIu64 " events were read and never sent",
			   o.unsent);
	if (b->nc && natsConnection_FlushTimeout(b->nc, 2000) != NATS_OK &&
	    o.sent)
		bridge_log(b, "could not flush the last events to NATS");
	out_periodic(&o, true);
	bridge_log(b,
		   "read %" PRIu64 " events: sent %" PRIu64 " in %" PRIu64
		   " frames, refused %" PRIu64 "; dropped %" PRIu64 " unread",
		   o.read, o.sent, o.frames_sent, o.refused, o.dropped);
	set_signal_sub(NULL);
	ringcast_sub_detach(o.sub);
	for (i = 0; i < o.nframes; i++)
		free(o.frames[i].buf);
	u64map_free(&o.counts);
	bridge_disconnect(b);
	bridge_status_remove(b);
	return r;
}
