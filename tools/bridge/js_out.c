// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge out --jetstream STREAM: frames of the ring's events into
 * a JetStream stream, each acknowledged by the server before the ring may
 * drop its events.
 *
 * Two subscribers of the ring:
 *
 *   hold  reliable: its cursor is the first event the server has not
 *         acknowledged yet, so the ring's publisher cannot overwrite an
 *         event before the stream has it (for --hold; "forever": never);
 *         durable, so it goes on holding if the bridge dies, and the
 *         bridge restarted takes it over (jso_key())
 *   rd    lossy: reads ahead of hold into frames; it cannot be lapped
 *         while hold gates the publisher
 *
 * The acknowledgements come on a NATS thread (js_ack()); they move
 * "acked" (every origin sequence below it is stored), and the main thread
 * moves hold's cursor up to it.  Each publish expects the stream's last
 * sequence to be the one its predecessor got; a failure (an error, an
 * acknowledgement that did not come in time, a server restarted without
 * the last messages) fails every later publish too, so the stream is never
 * reordered.  Then the bridge waits for what is in flight, asks the server
 * for the stream's last message, and goes on after the origin sequence it
 * ends with (resync): what was never stored is sent again, from the ring,
 * which still holds it since hold did not pass it.  A restarted bridge
 * does the same first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "js.h"
#include "ringpath.h"

struct jso {
	struct bridge *b;
	struct ringcast_sub *hold;
	struct ringcast_sub *rd;
	jsCtx *js;
	char subj[BRIDGE_SUBJECT_MAX];
	struct u64map counts; /* type -> events of it in frames, this session */
	uint64_t incarnation; /* the ring's created_ns */
	uint64_t epoch;
	uint64_t from_seq; /* where a stream without our events starts */
	uint64_t next; /* the next origin sequence to read into a frame */
	uint64_t sseq; /* the stream's last sequence, as the next expects */
	bool synced;
	bool eos; /* rd reached the end of the stream */
	bool idle; /* rd had nothing more: send the open frame */
	uint64_t conn_gen;

	/* The open frame. */
	uint8_t *buf;
	size_t cap;
	struct bridge_frame_writer w;
	uint64_t frame_first;
	uint64_t frame_ns;
	struct ringcast_event ev; /* read, not in a frame yet */
	bool have_ev;

	/* Shared with js_ack(), under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t acked;
	int inflight;
	bool failed;
	natsStatus fail_st;
	jsErrCode fail_code;

	uint64_t frames;
	uint64_t events;
	uint64_t resyncs;
	uint64_t dropped;
	uint64_t refused;
	uint64_t status_ns;
};

static _Atomic(struct ringcast_sub *) signal_rd;

static void jso_interrupt(void)
{
	struct ringcast_sub *sub = atomic_load(&signal_rd);

	if (sub)
		ringcast_sub_interrupt(sub);
}

static bool hdr_u64(natsMsg *m, const char *key, uint64_t *v)
{
	const char *s = NULL;
	char *end;

	if (natsMsgHeader_Get(m, key, &s) != NATS_OK || !s || !*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* On a NATS thread: a publish was acknowledged, or failed. */
static void js_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	struct jso *o = closure;
	uint64_t first = 0, n = 0;

	pthread_mutex_lock(&o->lock);
	if (pa && !pae && hdr_u64(m, H_SEQ, &first) &&
	    hdr_u64(m, H_EVENTS, &n)) {
		/*
		 * Stored: with the expected last sequence, so was every
		 * message before it; a message that failed before it was
		 * stored after all.
		 */
		if (first + n > o->acked)
			o->acked = first + n;
	} else if (!o->failed) {
		o->failed = true;
		o->fail_st = pae ? pae->Err : NATS_ERR;
		o->fail_code = pae ? pae->ErrCode : 0;
	}
	o->inflight--;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
	natsMsg_Destroy(m);
}

static void jso_status(struct jso *o, uint64_t now)
{
	struct bridge *b = o->b;
	struct bridge_conn c;
	uint64_t acked;
	int inflight;
	char buf[2048];
	int n;

	pthread_mutex_lock(&o->lock);
	acked = o->acked;
	inflight = o->inflight;
	pthread_mutex_unlock(&o->lock);
	bridge_conn_state(b, &c);
	n = snprintf(buf, sizeof(buf),
		     "pid %d\ndirection out\nring %s\nnats %s\nsubject %s\n"
		     "stream %s\nhost %s\nincarnation %016" PRIx64
		     "\nconnected %d\nsynced %d\ndisconnects %" PRIu64
		     "\nreconnects %" PRIu64 "\nhold_ns %lld\nnext %" PRIu64
		     "\nacked %" PRIu64 "\nstream_seq %" PRIu64
		     "\ninflight %d\nframes %" PRIu64 "\nsent %" PRIu64
		     "\nresyncs %" PRIu64 "\nrefused %" PRIu64
		     "\ndropped %" PRIu64 "\n",
		     (int)getpid(), b->name, b->url, o->subj, b->stream,
		     b->host, o->incarnation, c.connected, o->synced,
		     c.disconnects, c.reconnects, (long long)b->hold_ns,
		     o->next, acked, o->sseq, inflight, o->frames, o->events,
		     o->resyncs, o->refused, o->dropped);
	if (n > 0 && (size_t)n < sizeof(buf))
		bridge_status_write(b, buf, (size_t)n);
	o->status_ns = now;
}

static void jso_periodic(struct jso *o, bool force)
{
	uint64_t now = bridge_now_ns();

	if (force || now - o->status_ns >= BRIDGE_STATUS_NS)
		jso_status(o, now);
}

/*
 * hold's key: the stream and the ring's name (as given), so that an out
 * bridge restarted after its death adopts the hold it left, which kept
 * the publisher from overwriting what the stream had not stored yet.
 */
static uint64_t jso_key(const struct bridge *b)
{
	const char *parts[] = { "ringcast-bridge out", b->stream, b->name };
	uint64_t x = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const unsigned char *p = (const unsigned char *)parts[i];

		do {
			x ^= *p;
			x *= 0x100000001b3ull;
		} while (*p++);
	}
	return x ? x : 1;
}

static int jso_sub(struct jso *o, bool reliable, uint32_t from, uint64_t seq,
		   struct ringcast_sub **subp, uint64_t *first)
{
	struct bridge *b = o->b;
	struct ringcast_sub_opts so = {
		.from = from,
		.seq = seq,
		.flags = RINGCAST_SUB_RESUBSCRIBE,
	};
	bool told = false;
	int r;

	if (reliable) {
		so.flags |= RINGCAST_SUB_RELIABLE;
		if (b->hold_ns > 0)
			so.demote_ns = (uint64_t)b->hold_ns;
	}
	for (;;) {
		if (reliable)
			r = ringcast_sub_attach_durable(b->name, jso_key(b),
							&so, subp, first);
		else
			r = ringcast_sub_attach(b->name, &so, subp, first);
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
	}
	return r;
}

/* rd from @seq on: the events below it are stored, or given up. */
static int jso_read_from(struct jso *o, uint64_t seq)
{
	struct ringcast_sub *rd = NULL;
	int r;

	r = jso_sub(o, false, RINGCAST_FROM_SEQ, seq, &rd, NULL);
	if (r)
		return r;
	atomic_store(&signal_rd, rd);
	ringcast_sub_detach(o->rd);
	o->rd = rd;
	o->next = seq;
	o->have_ev = false;
	o->eos = false;
	return 0;
}

/*
 * Move hold's cursor up to @to: the publisher may overwrite what is below.
 * A demoted hold (--hold passed) subscribes reliably again where it was.
 */
static int jso_release(struct jso *o, uint64_t to)
{
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	int r, i;

	for (i = 0; i < 1 << 16; i++) {
		ringcast_sub_get_stats(o->hold, &st);
		if (st.cursor >= to)
			return 0;
		r = ringcast_sub_borrow(o->hold, &ev, 0);
		if (r == 0) {
			ringcast_sub_release(o->hold, &ev);
			continue;
		}
		if (r == -EOVERFLOW)
			continue; /* rd counts what is lost */
		if (r == -ESTALE) {
			struct ringcast_sub *h = NULL;

			bridge_log(o->b,
				   "let the publisher go after holding it "
				   "back %.3f s",
				   (double)o->b->hold_ns / 1e9);
			r = jso_sub(o, true, RINGCAST_FROM_SEQ, st.cursor, &h,
				    NULL);
			if (r)
				return r;
			ringcast_sub_detach(o->hold);
			o->hold = h;
			continue;
		}
		/* Not published yet, or the end: nothing more to let go. */
		if (r == -EAGAIN || r == -EPIPE || r == -EINTR ||
		    r == -ETIMEDOUT || r == -EOWNERDEAD)
			return 0;
		bridge_log(o->b, "reading the ring: %s", ringcast_strerror(r));
		return r;
	}
	return 0;
}

/* The origin sequence the stream's message @m ends before, if it is ours. */
static bool jso_ends(struct jso *o, natsMsg *m, uint64_t *end)
{
	struct bridge_frame_reader rdr;
	struct bridge_frame_hdr h;
	uint64_t first, n;

	if (!hdr_u64(m, H_SEQ, &first) || !hdr_u64(m, H_EVENTS, &n) ||
	    bridge_frame_open(&rdr, natsMsg_GetData(m),
			      (size_t)natsMsg_GetDataLength(m), &h))
		return false;
	if (h.nevents != n || h.incarnation != o->incarnation ||
	    h.host_len != strlen(o->b->host) ||
	    memcmp(h.host, o->b->host, h.host_len))
		return false;
	*end = first + n;
	return true;
}

/*
 * Learn where the stream ends: nothing in flight, then the last message.
 * Return: 0; -EAGAIN (not now: retry); < 0 an error to stop on.
 */
static int jso_resync(struct jso *o)
{
	struct bridge *b = o->b;
	jsStreamInfo *si = NULL;
	jsPubOptions po;
	natsMsg *m = NULL;
	jsErrCode code = 0;
	uint64_t last, resume = o->from_seq, end;
	natsStatus s;
	char err[256];
	int r;

	jsPubOptions_Init(&po);
	po.MaxWait = JS_PUB_WAIT_MS;
	s = js_PublishAsyncComplete(o->js, &po);
	if (s != NATS_OK)
		return -EAGAIN;
	r = js_stream_ensure(b, o->js, o->subj, true, &si);
	if (r)
		return r == -EIO ? -EAGAIN : r;
	last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	if (last) {
		s = js_GetMsg(&m, o->js, b->stream, last, NULL, &code);
		if (s != NATS_OK) {
			bridge_log(b, "reading message %" PRIu64 " of %s: %s",
				   last, b->stream,
				   js_err_text(s, code, err, sizeof(err)));
			return -EAGAIN;
		}
		if (jso_ends(o, m, &end))
			resume = end;
		else
			bridge_log(b,
				   "the stream's last message is not of this "
				   "ring (host, incarnation): starting at "
				   "sequence %" PRIu64,
				   resume);
		natsMsg_Destroy(m);
	}
	pthread_mutex_lock(&o->lock);
	o->acked = resume;
	o->failed = false;
	pthread_mutex_unlock(&o->lock);
	o->sseq = last;
	o->w.len = 0; /* the open frame goes: it is read again */
	/*
	 * Events may be sent again: a new session, whose per-type counts
	 * start over, so that a plain bridge in reading the subject takes
	 * them for a restart, not for duplicates.
	 */
	u64map_clear(&o->counts);
	b->session = bridge_random64();
	o->frame_first = 0;
	r = jso_read_from(o, resume);
	if (r)
		return r;
	r = jso_release(o, resume);
	if (r)
		return r;
	o->synced = true;
	o->resyncs++;
	bridge_log(b,
		   "stream %s ends at its sequence %" PRIu64 ": sending from "
		   "origin sequence %" PRIu64,
		   b->stream, last, resume);
	jso_periodic(o, true);
	return 0;
}

/*
 * The frame's buffer: --frame-bytes, or the server's maximum payload when
 * larger (an event of any size the server takes fits a frame alone).
 */
static int jso_grow(struct jso *o)
{
	size_t want = o->b->frame_bytes;
	uint8_t *p;

	if (o->b->max_payload > 0 && (size_t)o->b->max_payload > want)
		want = (size_t)o->b->max_payload;
	if (want <= o->cap)
		return 0;
	p = realloc(o->buf, want);
	if (!p)
		return -ENOMEM;
	o->buf = p;
	o->cap = want;
	return 0;
}

static int jso_open_frame(struct jso *o)
{
	struct bridge_frame_hdr h = {
		.epoch = o->epoch,
		.session = o->b->session,
		.dropped = o->dropped,
		.incarnation = o->incarnation,
		.host = o->b->host,
		.host_len = strlen(o->b->host),
	};
	size_t cap = o->cap;

	/* Room for the headers within the server's maximum payload. */
	if (o->b->max_payload > 1024 && (size_t)o->b->max_payload - 1024 < cap)
		cap = (size_t)o->b->max_payload - 1024;
	o->frame_ns = bridge_now_ns();
	return bridge_frame_begin(&o->w, o->buf, cap, &h);
}

/* Publish the open frame, expecting the stream's last sequence. */
static int jso_flush(struct jso *o)
{
	uint32_t n = o->w.nevents;
	size_t len = bridge_frame_finish(&o->w);
	char seq[24], cnt[16], ver[8];
	jsPubOptions po;
	natsMsg *m = NULL;
	natsStatus s;

	if (!len)
		return 0;
	snprintf(seq, sizeof(seq), "%" PRIu64, o->frame_first);
	snprintf(cnt, sizeof(cnt), "%" PRIu32, n);
	snprintf(ver, sizeof(ver), "%d", BRIDGE_FRAME_VERSION);
	s = natsMsg_Create(&m, o->subj, NULL, (const char *)o->buf, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, BRIDGE_FRAME_HEADER, ver);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, H_TYPE, BRIDGE_FRAME_TYPE_VALUE);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, H_SEQ, seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, H_EVENTS, cnt);
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		return -ENOMEM;
	}
	jsPubOptions_Init(&po);
	po.MaxWait = JS_PUB_WAIT_MS;
	/* 0 for an empty stream: no expectation, nothing to reorder. */
	po.ExpectLastSeq = o->sseq;
	pthread_mutex_lock(&o->lock);
	o->inflight++;
	pthread_mutex_unlock(&o->lock);
	s = js_PublishMsgAsync(o->js, &m, &po);
	o->w.len = 0;
	if (s != NATS_OK) {
		/* Not sent: js_ack() will not hear of it. */
		natsMsg_Destroy(m);
		pthread_mutex_lock(&o->lock);
		o->inflight--;
		o->failed = true;
		o->fail_st = s;
		o->fail_code = 0;
		pthread_mutex_unlock(&o->lock);
		return 0;
	}
	o->sseq++;
	o->frames++;
	o->events += n;
	return 0;
}

static void jso_epoch(struct jso *o, uint32_t low)
{
	struct ringcast_ring_stats info;

	o->epoch = low;
	if (!ringcast_ring_get_stats(o->b->name, &info) &&
	    (uint32_t)info.epoch == low)
		o->epoch = info.epoch;
}

/* Put o->ev into the open frame.  Return: 0, or -EAGAIN flushed first. */
static int jso_add(struct jso *o)
{
	struct bridge_frame_event fe = {
		.seq = o->ev.seq,
		.ts = o->ev.ts,
		.type = o->ev.type,
		.len = o->ev.len,
		.data = o->ev.data,
	};
	int r;

	bool created;
	uint64_t *count;

	if (o->w.len && (uint32_t)o->epoch != o->ev.epoch)
		return jso_flush(o) ?: -EAGAIN;
	if (!o->w.len) {
		if ((uint32_t)o->epoch != o->ev.epoch)
			jso_epoch(o, o->ev.epoch);
		r = jso_open_frame(o);
		if (r)
			return r;
		o->frame_first = o->ev.seq;
	}
	count = u64map_get(&o->counts, o->ev.type, &created);
	if (!count) {
		bridge_log(o->b, "too many types");
		return -ENOMEM;
	}
	fe.count = *count + 1;
	r = bridge_frame_add(&o->w, &fe);
	if (r == -EMSGSIZE && o->w.nevents)
		return jso_flush(o) ?: -EAGAIN;
	*count = fe.count;
	if (r == -EMSGSIZE) {
		/* Larger than a message may be: refused, a gap downstream. */
		o->refused++;
		bridge_log(o->b,
			   "event %" PRIu64 " (%" PRIu32 " bytes) is larger "
			   "than a message of the server may be: refused",
			   o->ev.seq, o->ev.len);
		o->w.len = 0;
	}
	o->next = o->ev.seq + 1;
	o->have_ev = false;
	return 0;
}

/* The main loop.  Return: 0 at the end of the stream or stopped, or < 0. */
static int jso_run(struct jso *o)
{
	struct bridge *b = o->b;
	int r;

	while (!bridge_stop) {
		struct bridge_conn c;
		uint64_t acked, now;
		int inflight;
		bool failed;

		jso_periodic(o, false);
		bridge_conn_state(b, &c);
		if (c.closed) {
			bridge_log(b, "the NATS connection was closed");
			return -EPIPE;
		}
		if (!c.connected) {
			bridge_wait_connected(b, 100);
			continue;
		}
		if (c.gen != o->conn_gen && !o->w.len) {
			o->conn_gen = c.gen;
			b->max_payload = natsConnection_GetMaxPayload(b->nc);
			r = jso_grow(o);
			if (r)
				return r;
		}
		pthread_mutex_lock(&o->lock);
		failed = o->failed;
		if (failed)
			bridge_log(b, "a publish to %s failed: %s", b->stream,
				   natsStatus_GetText(o->fail_st));
		pthread_mutex_unlock(&o->lock);
		if (failed || !o->synced) {
			o->synced = false;
			r = jso_resync(o);
			if (r == -EAGAIN) {
				nats_Sleep(100);
				continue;
			}
			if (r)
				return r;
			continue;
		}
		pthread_mutex_lock(&o->lock);
		acked = o->acked;
		inflight = o->inflight;
		pthread_mutex_unlock(&o->lock);
		r = jso_release(o, acked);
		if (r)
			return r;

		now = bridge_now_ns();
		if (o->w.len &&
		    (o->w.nevents >= b->frame_events ||
		     o->w.len >= b->frame_bytes ||
		     now - o->frame_ns >= b->frame_ns || o->eos || o->idle)) {
			if (inflight >= JS_MAX_PENDING)
				goto wait_acks;
			o->idle = false;
			r = jso_flush(o);
			if (r)
				return r;
			continue;
		}
		if (o->eos) {
			if (!inflight && acked >= o->next) {
				bridge_log(b,
					   "end of stream: all of it stored");
				return 0;
			}
			goto wait_acks;
		}
		if (!o->have_ev) {
			int64_t wait = 100 * 1000 * 1000;

			/* An idle ring sends its frame (--frame-idle). */
			if (o->w.len)
				wait = b->frame_idle_wait ?
					       (int64_t)(o->frame_ns +
							 b->frame_ns - now) :
					       0;
			if (wait < 0)
				wait = 0;
			r = ringcast_sub_next(o->rd, &o->ev, wait);
			switch (r) {
			case 0:
				o->have_ev = true;
				break;
			case -EOVERFLOW:
				o->dropped += o->ev.lost;
				bridge_log(b,
					   "lost %" PRIu64
					   " events of the ring "
					   "before they were stored",
					   o->ev.lost);
				continue;
			case -EPIPE:
				o->eos = true;
				continue;
			case -EAGAIN:
			case -ETIMEDOUT:
				o->idle = o->w.len && !b->frame_idle_wait;
				continue;
			case -EINTR:
				continue;
			default:
				bridge_log(b, "reading the ring: %s",
					   ringcast_strerror(r));
				return r;
			}
		}
		r = jso_add(o);
		if (r && r != -EAGAIN)
			return r;
		continue;
wait_acks:
		pthread_mutex_lock(&o->lock);
		if (o->inflight && !o->failed) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&o->cond, &o->lock, &ts);
		}
		pthread_mutex_unlock(&o->lock);
		/* The end, all sent, nothing in flight, not all acknowledged. */
		if (!inflight && o->eos)
			nats_Sleep(20);
	}
	return 0;
}

static int jso_js(struct jso *o)
{
	jsOptions jo;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = JS_MAX_PENDING;
	jo.PublishAsync.AckHandler = js_ack;
	jo.PublishAsync.AckHandlerClosure = o;
	s = natsConnection_JetStream(&o->js, o->b->nc, &jo);
	return s == NATS_OK ? 0 : -ENOMEM;
}

int bridge_js_out(struct bridge *b)
{
	static struct jso o;
	struct ringcast_ring_stats info;
	pthread_condattr_t ca;
	char enc[BRIDGE_SUBJECT_MAX];
	uint64_t first = 0;
	int n, r;

	o.b = b;
	r = bridge_encode_name(ring_base(b->name), enc, sizeof(enc));
	if (r)
		return r;
	n = snprintf(o.subj, sizeof(o.subj), "%s.%s.%s", b->subject, enc,
		     JS_SUBJECT_TOKEN);
	if (n < 0 || (size_t)n >= sizeof(o.subj))
		return -ENAMETOOLONG;
	pthread_mutex_init(&o.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o.cond, &ca);
	pthread_condattr_destroy(&ca);
	r = jso_grow(&o);
	if (r)
		return r;

	bridge_signals(jso_interrupt);
	/*
	 * Hold the publisher at once, from the oldest event: until the
	 * server says where the stream ends, any of them may be unsent.
	 */
	r = jso_sub(&o, b->hold_ns != 0, RINGCAST_FROM_OLDEST, 0, &o.hold,
		    &first);
	if (r)
		goto out_free;
	r = ringcast_ring_get_stats(b->name, &info);
	if (r) {
		bridge_log(b, "cannot read the ring: %s", ringcast_strerror(r));
		goto out_hold;
	}
	o.incarnation = info.created_ns;
	o.from_seq = b->from == RINGCAST_FROM_OLDEST ? first : info.head;
	if (o.from_seq < first)
		o.from_seq = first;
	bridge_log(b,
		   "holding the ring from sequence %" PRIu64 "; frames to "
		   "stream %s on %s",
		   first, b->stream, o.subj);
	jso_periodic(&o, true);

	r = bridge_connect(b);
	if (!r)
		r = jso_js(&o);
	if (!r) {
		bridge_notify_ready(b);
		r = jso_run(&o);
	}
	bridge_notify_stopping(b);
	if (r == -EINTR)
		r = 0;
	if (o.js) {
		jsPubOptions po;

		jsPubOptions_Init(&po);
		po.MaxWait = JS_PUB_WAIT_MS;
		js_PublishAsyncComplete(o.js, &po);
	}
	jso_periodic(&o, true);
	bridge_log(b,
		   "sent %" PRIu64 " events in %" PRIu64 " frames to %s; "
		   "stored up to origin sequence %" PRIu64 "; %" PRIu64
		   " resyncs",
		   o.events, o.frames, b->stream, o.acked, o.resyncs);
	atomic_store(&signal_rd, NULL);
	ringcast_sub_detach(o.rd);
	u64map_free(&o.counts);
	jsCtx_Destroy(o.js);
	bridge_disconnect(b);
	bridge_status_remove(b);
out_hold:
	ringcast_sub_detach(o.hold);
out_free:
	free(o.buf);
	return r;
}
