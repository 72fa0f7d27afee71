// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge out: a subscriber of the ring that publishes every event
 * to NATS, on PREFIX.NAME.TYPE with the headers of bridge.h.
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
#include "ringpath.h"

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
	size_t hdr_fixed; /* header bytes that are the same for every event */
	uint64_t conn_gen;

	uint64_t read;
	uint64_t sent;
	uint64_t refused;
	uint64_t dropped;
	uint64_t demotions;
	uint64_t epoch; /* its low 32 bits are the events' epoch */
	char epoch_hex[17];
	bool epoch_known;
	uint64_t last_seq;
	bool pending; /* an event read and not sent yet */

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
		     "\nlast_seq %" PRIu64 "\n",
		     (int)getpid(), b->name, b->url, b->subject, b->host,
		     o->session, c.connected, c.disconnects, c.reconnects,
		     (long long)b->max_payload, (long long)b->hold_ns,
		     b->hold_ns != 0, o->read, o->sent, o->refused, o->dropped,
		     o->demotions, o->epoch, o->last_seq);
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
	snprintf(o->epoch_hex, sizeof(o->epoch_hex), "%016" PRIx64, epoch);
	o->epoch_known = true;
	o->dirty = true;
}

/* The bytes of "Key: value\r\n", less those of the value. */
#define HDR_LEN(key) (sizeof(key) - 1 + 4)

/*
 * The header bytes that are the same for every event (the epoch's only
 * change with a new publisher, never its length): "NATS/1.0\r\n", the
 * keys, the values of the epoch, session and host, the final "\r\n", and
 * two bytes to spare (the count this check always had).
 */
static size_t out_hdr_fixed(const struct out *o)
{
	return 10 + 2 + HDR_LEN(H_SEQ) + HDR_LEN(H_COUNT) + HDR_LEN(H_TYPE) +
	       HDR_LEN(H_TS) + HDR_LEN(H_EPOCH) + 16 + HDR_LEN(H_SESSION) + 16 +
	       HDR_LEN(H_HOST) + strlen(o->b->host) + 2;
}

/*
 * Publish one event.  Return: 0 sent; -EMSGSIZE too large for the server;
 * -EAGAIN not now (disconnected, reconnect buffer full); -EPIPE the
 * connection is closed for good; -ENOMEM.
 */
static int out_send(struct out *o, const struct ringcast_event *ev,
		    uint64_t count)
{
	struct bridge *b = o->b;
	char seq[24], cnt[24], type[16], ts[24], dropped[24];
	const char *const h[][2] = {
		{ H_SEQ, seq },
		{ H_COUNT, cnt },
		{ H_TYPE, type },
		{ H_TS, ts },
		{ H_EPOCH, o->epoch_hex },
		{ H_SESSION, o->session },
		{ H_HOST, b->host },
		{ H_DROPPED, dropped }, /* only once non-zero */
	};
	size_t i, nh = o->dropped ? 8 : 7, hdr_len = o->hdr_fixed;
	natsMsg *m = NULL;
	natsStatus s;
	int n;

	n = snprintf(o->subj + o->subj_len, sizeof(o->subj) - o->subj_len,
		     "%" PRIu32, ev->type);
	if (n < 0 || (size_t)n >= sizeof(o->subj) - o->subj_len)
		return -ENAMETOOLONG;
	hdr_len += (size_t)snprintf(seq, sizeof(seq), "%" PRIu64, ev->seq);
	hdr_len += (size_t)snprintf(cnt, sizeof(cnt), "%" PRIu64, count);
	hdr_len += (size_t)snprintf(type, sizeof(type), "%" PRIu32, ev->type);
	hdr_len += (size_t)snprintf(ts, sizeof(ts), "%" PRIu64, ev->ts);
	if (o->dropped)
		hdr_len += HDR_LEN(H_DROPPED) +
			   (size_t)snprintf(dropped, sizeof(dropped),
					    "%" PRIu64, o->dropped);

	/*
	 * The server counts the headers in its maximum payload, and closes
	 * the connection of a client that sends more: check first.
	 */
	if ((int64_t)(hdr_len + ev->len) > b->max_payload)
		return -EMSGSIZE;

	s = natsMsg_Create(&m, o->subj, NULL, (const char *)ev->data,
			   (int)ev->len);
	for (i = 0; s == NATS_OK && i < nh; i++)
		s = natsMsgHeader_Set(m, h[i][0], h[i][1]);
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

static void out_refused(struct out *o, const struct ringcast_event *ev)
{
	o->refused++;
	o->dirty = true;
	if (!note_take(&o->refused_note, 1))
		return;
	bridge_log(o->b,
		   "event %" PRIu64 " (type %" PRIu32 ", %" PRIu32
		   " bytes) is larger than the server's maximum payload "
		   "(%lld bytes with headers): refused",
		   ev->seq, ev->type, ev->len, (long long)o->b->max_payload);
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

/* The main loop.  Return: 0 at end of stream or when stopped, or < 0. */
static int out_run(struct out *o)
{
	struct bridge *b = o->b;
	struct ringcast_event ev;
	uint64_t count = 0;
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
			b->max_payload = natsConnection_GetMaxPayload(b->nc);
			o->dirty = true;
		}
		if (!o->pending) {
			r = ringcast_sub_next(o->sub, &ev, 100 * 1000 * 1000);
			switch (r) {
			case 0:
				break;
			case -EAGAIN:
			case -ETIMEDOUT:
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
				return 0;
			default:
				bridge_log(b, "reading the ring: %s",
					   ringcast_strerror(r));
				return r;
			}
			if (!o->epoch_known || ev.epoch != (uint32_t)o->epoch)
				out_epoch(o, ev.epoch);
			{
				bool created;
				uint64_t *v = u64map_get(&o->counts, ev.type,
							 &created);

				if (!v) {
					bridge_log(b, "too many types");
					return -ENOMEM;
				}
				count = ++*v;
			}
			o->read++;
			o->last_seq = ev.seq;
			o->pending = true;
		}
		r = out_send(o, &ev, count);
		if (!r) {
			o->sent++;
			o->pending = false;
			o->dirty = true;
		} else if (r == -EMSGSIZE) {
			out_refused(o, &ev);
			o->pending = false;
		} else if (r == -EAGAIN) {
			/* Keep it; wait for the connection. */
			bridge_wait_connected(b, 20);
		} else {
			bridge_log(b, "publishing to NATS: %s", strerror(-r));
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
	int n, r;

	r = bridge_encode_name(ring_base(b->name), enc, sizeof(enc));
	if (r)
		return r;
	n = snprintf(o.subj, sizeof(o.subj), "%s.%s.", b->subject, enc);
	if (n < 0 || (size_t)n + 11 >= sizeof(o.subj))
		return -ENAMETOOLONG;
	o.subj_len = (size_t)n;
	snprintf(o.session, sizeof(o.session), "%016" PRIx64, b->session);
	o.hdr_fixed = out_hdr_fixed(&o);

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
	if (o.pending)
		bridge_log(b, "event %" PRIu64 " was read and never sent",
			   o.last_seq);
	if (b->nc && natsConnection_FlushTimeout(b->nc, 2000) != NATS_OK &&
	    o.sent)
		bridge_log(b, "could not flush the last events to NATS");
	out_periodic(&o, true);
	bridge_log(b,
		   "read %" PRIu64 " events: sent %" PRIu64 ", refused %" PRIu64
		   "; dropped %" PRIu64 " unread",
		   o.read, o.sent, o.refused, o.dropped);
	set_signal_sub(NULL);
	ringcast_sub_detach(o.sub);
	u64map_free(&o.counts);
	bridge_disconnect(b);
	bridge_status_remove(b);
	return r;
}
