// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge in: subscribes to NATS subjects and publishes every
 * event of the frames it receives (frame.h) into the local ring, with
 * the type tag each came with, in the frame's order.
 *
 * Frames.  A message with the header Ringcast-Frame is a frame: one of
 * another version than BRIDGE_FRAME_VERSION is refused whole and counted
 * (unknown_version), one that does not decode is refused whole and
 * counted (bad_frames), each said on stderr; nothing of either is
 * published.  A message without it is one event of the per-event format
 * of earlier out bridges (the headers of bridge.h), still accepted so
 * that hosts can be upgraded one at a time.
 *
 * Loss.  For each origin (its host and its subject less the type: the out
 * bridge's PREFIX.NAME) and type, the bridge remembers the last
 * Ringcast-Count: a jump by more than one is a gap of exactly the
 * difference less one, whichever subjects are subscribed (a filtered
 * type never raises the count of another).  A new Ringcast-Session means
 * the out bridge restarted: counts start over, nothing is a gap.  An
 * increase of Ringcast-Dropped is what the out bridge lost before reading
 * (types unknown), counted apart.  A change of Ringcast-Epoch is a new
 * publisher on the origin ring: said on stderr.  Every gap is counted in
 * the status file (gaps, gap_events, origin_dropped, lost) and reported
 * on stderr.
 *
 * The first message of an origin and type sets the baseline: what was
 * sent before this bridge subscribed is not loss.
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

/* Origins tracked at most; messages of more are republished untracked. */
#define IN_ORIGINS_MAX 4096u
/* Lines of gap reports per second at most; the rest are summed. */
#define IN_REPORTS_PER_S 20u

struct origin {
	char *key; /* host, '\x1f', subject less its last token */
	size_t host_len;
	uint32_t idx; /* its part of the count keys; new at a restart */
	uint64_t session;
	uint64_t epoch;
	uint64_t dropped;
};

/* Where the events of a message or a frame come from. */
struct in_from {
	const char *host; /* not terminated */
	size_t host_len;
	uint64_t session;
	uint64_t epoch;
	uint64_t dropped;
};

struct in {
	struct bridge *b;
	struct ringcast_pub *pub;
	uint64_t max_event; /* the ring's largest event */
	natsSubscription *sub;
	struct origin *origins;
	size_t norigins;
	size_t cap;
	uint32_t next_idx;
	struct origin *last;
	struct u64map counts; /* idx << 32 | type -> last count */
	uint64_t conn_gen;
	bool ready;

	uint64_t messages;
	uint64_t frames;
	uint64_t bad_frames;
	uint64_t unknown_version;
	uint64_t received;
	uint64_t published;
	uint64_t refused;
	uint64_t malformed;
	uint64_t untracked;
	uint64_t gaps;
	uint64_t gap_events;
	uint64_t origin_dropped;
	uint64_t reorders;
	uint64_t epoch_changes;
	uint64_t restarts;
	int64_t slow_dropped;

	uint64_t window_ns;
	unsigned int window_lines;
	uint64_t hidden_gaps;
	uint64_t hidden_events;
	uint64_t status_ns;
	bool dirty;
};

static _Atomic(struct ringcast_pub *) signal_pub;

static void in_interrupt(void)
{
	struct ringcast_pub *pub = atomic_load(&signal_pub);

	if (pub)
		ringcast_pub_interrupt(pub);
}

static void in_status(struct in *in, uint64_t now)
{
	struct bridge *b = in->b;
	struct bridge_conn c;
	char buf[2048];
	int64_t dropped = 0;
	int n;

	if (in->sub &&
	    natsSubscription_GetDropped(in->sub, &dropped) == NATS_OK)
		in->slow_dropped = dropped;
	bridge_conn_state(b, &c);
	n = snprintf(buf, sizeof(buf),
		     "pid %d\ndirection in\nring %s\nnats %s\nsubject %s\n"
		     "host %s\nconnected %d\nready %d\ndisconnects %" PRIu64
		     "\nreconnects %" PRIu64 "\nreceived %" PRIu64
		     "\npublished %" PRIu64 "\nrefused %" PRIu64
		     "\nmalformed %" PRIu64 "\norigins %zu\ngaps %" PRIu64
		     "\ngap_events %" PRIu64 "\norigin_dropped %" PRIu64
		     "\nlost %" PRIu64 "\nreorders %" PRIu64
		     "\nepoch_changes %" PRIu64 "\nrestarts %" PRIu64
		     "\nslow_dropped %lld\nmessages %" PRIu64
		     "\nframes %" PRIu64 "\nbad_frames %" PRIu64
		     "\nunknown_version %" PRIu64 "\nframe_version %d\n",
		     (int)getpid(), b->name, b->url, b->subject, b->host,
		     c.connected, in->ready && c.connected, c.disconnects,
		     c.reconnects, in->received, in->published, in->refused,
		     in->malformed, in->norigins, in->gaps, in->gap_events,
		     in->origin_dropped, in->gap_events + in->origin_dropped,
		     in->reorders, in->epoch_changes, in->restarts,
		     (long long)in->slow_dropped, in->messages, in->frames,
		     in->bad_frames, in->unknown_version, BRIDGE_FRAME_VERSION);
	if (n > 0 && (size_t)n < sizeof(buf))
		bridge_status_write(b, buf, (size_t)n);
	in->status_ns = now;
	in->dirty = false;
}

static void in_flush_hidden(struct in *in)
{
	if (!in->hidden_gaps)
		return;
	bridge_log(in->b,
		   "%" PRIu64 " more gaps, %" PRIu64 " events in all (not "
		   "shown one by one)",
		   in->hidden_gaps, in->hidden_events);
	in->hidden_gaps = 0;
	in->hidden_events = 0;
}

static void in_periodic(struct in *in, bool force)
{
	uint64_t now = bridge_now_ns();

	if (!force && now - in->status_ns < BRIDGE_STATUS_NS)
		return;
	if (force || now - in->window_ns >= 1000000000ull)
		in_flush_hidden(in);
	in_status(in, now);
}

/* May a gap report get a line of its own? */
static bool in_may_report(struct in *in)
{
	uint64_t now = bridge_now_ns();

	if (now - in->window_ns >= 1000000000ull) {
		in_flush_hidden(in);
		in->window_ns = now;
		in->window_lines = 0;
	}
	return in->window_lines++ < IN_REPORTS_PER_S;
}

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

static const char *header(natsMsg *m, const char *key)
{
	const char *v = NULL;

	return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

/* Is @o the origin of @host (@hl bytes) and @subj (@subj_len bytes)? */
static bool origin_is(const struct origin *o, const char *host, size_t hl,
		      const char *subj, size_t subj_len)
{
	return o->host_len == hl && !memcmp(o->key, host, hl) &&
	       !strncmp(o->key + hl + 1, subj, subj_len) &&
	       !o->key[hl + 1 + subj_len];
}

static struct origin *in_origin(struct in *in, const char *host, size_t hl,
				const char *subj, size_t subj_len,
				bool *created)
{
	size_t i;
	struct origin *o;
	char *key;

	*created = false;
	if (in->last && origin_is(in->last, host, hl, subj, subj_len))
		return in->last;
	for (i = 0; i < in->norigins; i++)
		if (origin_is(&in->origins[i], host, hl, subj, subj_len))
			return in->last = &in->origins[i];
	if (in->norigins >= IN_ORIGINS_MAX)
		return NULL;
	if (in->norigins == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 4;
		struct origin *n = realloc(in->origins, cap * sizeof(*n));

		if (!n)
			return NULL;
		in->origins = n;
		in->cap = cap;
		in->last = NULL; /* pointed into the old array */
	}
	key = malloc(hl + 1 + subj_len + 1);
	if (!key)
		return NULL;
	memcpy(key, host, hl);
	key[hl] = '\x1f';
	memcpy(key + hl + 1, subj, subj_len);
	key[hl + 1 + subj_len] = '\0';
	o = &in->origins[in->norigins++];
	*o = (struct origin){ .key = key,
			      .host_len = hl,
			      .idx = in->next_idx++ };
	*created = true;
	in->last = o;
	return o;
}

/*
 * The origin of a message or a frame, its restarts, epochs and losses
 * before sending.  Return: NULL when it cannot be tracked (too many).
 */
static struct origin *in_from_origin(struct in *in, const struct in_from *f,
				     const char *subj, size_t subj_len)
{
	struct bridge *b = in->b;
	int hl = (int)f->host_len;
	struct origin *o;
	bool created;

	o = in_origin(in, f->host, f->host_len, subj, subj_len, &created);
	if (!o) {
		if (!in->untracked++)
			bridge_log(b, "too many origins: messages of more are "
				      "not checked for gaps");
		return NULL;
	}
	if (created) {
		o->session = f->session;
		o->epoch = f->epoch;
		o->dropped = f->dropped;
		bridge_log(b,
			   "receiving %.*s from host %.*s (epoch %016" PRIx64
			   ")",
			   (int)subj_len, subj, hl, f->host, f->epoch);
	} else if (f->session != o->session) {
		in->restarts++;
		bridge_log(b,
			   "the out bridge of %.*s on host %.*s restarted: its "
			   "counts start over",
			   (int)subj_len, subj, hl, f->host);
		o->idx = in->next_idx++;
		o->session = f->session;
		o->epoch = f->epoch;
		o->dropped = f->dropped;
	} else {
		if (f->epoch != o->epoch) {
			in->epoch_changes++;
			bridge_log(b,
				   "%.*s on host %.*s: epoch %016" PRIx64
				   " -> %016" PRIx64
				   " (a new publisher took the ring over)",
				   (int)subj_len, subj, hl, f->host, o->epoch,
				   f->epoch);
			o->epoch = f->epoch;
		}
		if (f->dropped > o->dropped) {
			uint64_t d = f->dropped - o->dropped;

			in->origin_dropped += d;
			bridge_log(b,
				   "%.*s on host %.*s: lost %" PRIu64
				   " events before sending them (of any type)",
				   (int)subj_len, subj, hl, f->host, d);
			o->dropped = f->dropped;
		}
	}
	return o;
}

/* The per-type count of one event: a jump is a gap. */
static void in_count(struct in *in, const struct origin *o, const char *subj,
		     size_t subj_len, uint32_t type, uint64_t count)
{
	struct bridge *b = in->b;
	int hl = (int)o->host_len;
	uint64_t *last;
	bool created;

	last = u64map_get(&in->counts, (uint64_t)o->idx << 32 | type, &created);
	if (!last) {
		if (!in->untracked++)
			bridge_log(b, "too many types: some are not checked "
				      "for gaps");
		return;
	}
	if (created) {
		*last = count;
	} else if (count > *last + 1) {
		uint64_t gap = count - *last - 1;

		in->gaps++;
		in->gap_events += gap;
		if (in_may_report(in)) {
			bridge_log(b,
				   "gap of %" PRIu64 " events of type %" PRIu32
				   " from %.*s on host %.*s (count %" PRIu64
				   " after %" PRIu64 ")",
				   gap, type, (int)subj_len, subj, hl, o->key,
				   count, *last);
		} else {
			in->hidden_gaps++;
			in->hidden_events += gap;
		}
		*last = count;
	} else if (count <= *last) {
		in->reorders++;
		if (in_may_report(in))
			bridge_log(b,
				   "type %" PRIu32 " from %.*s on host %.*s: "
				   "count %" PRIu64 " after %" PRIu64
				   " (a duplicate, or out of order)",
				   type, (int)subj_len, subj, hl, o->key, count,
				   *last);
	} else {
		*last = count;
	}
}

/* Publish one event into the ring.  Return: 0, or < 0 to stop. */
static int in_publish(struct in *in, const char *subj, uint32_t type,
		      const void *data, size_t len)
{
	struct bridge *b = in->b;
	int r;

	for (;;) {
		r = ringcast_pub_publish(in->pub, type, data, len);
		if (r != -EINTR || bridge_stop)
			break;
	}
	if (r >= 0) {
		in->published++;
		return 0;
	}
	if (r == -EMSGSIZE) {
		in->refused++;
		if (in_may_report(in))
			bridge_log(b,
				   "an event of %zu bytes on %s is larger "
				   "than the ring's largest event (%" PRIu64
				   " bytes): refused",
				   len, subj, in->max_event);
		return 0;
	}
	if (r == -EINTR)
		return 0;
	if (r == -EPIPE)
		bridge_log(b, "the ring was closed: stopping");
	else
		bridge_log(b, "publishing into the ring: %s",
			   ringcast_strerror(r));
	return r;
}

/* A frame: checked whole, then every event published in its order. */
static int in_frame(struct in *in, natsMsg *m, const char *version,
		    const char *subj, size_t subj_len)
{
	struct bridge *b = in->b;
	struct bridge_frame_reader rd;
	struct bridge_frame_event ev;
	struct bridge_frame_hdr h = { 0 };
	struct in_from f;
	struct origin *o;
	char vs[16];
	uint64_t v = 0;
	int r;

	if (!parse_u64(version, 10, &v) || v != BRIDGE_FRAME_VERSION)
		r = -EPROTONOSUPPORT;
	else
		r = bridge_frame_open(&rd, natsMsg_GetData(m),
				      (size_t)natsMsg_GetDataLength(m), &h);
	if (r == -EPROTONOSUPPORT) {
		/* The header's version, else the frame's own. */
		if (h.version)
			snprintf(vs, sizeof(vs), "%u", h.version);
		else
			snprintf(vs, sizeof(vs), "%.15s", version);
		in->unknown_version++;
		if (in->unknown_version == 1 || in_may_report(in))
			bridge_log(b,
				   "a frame of version %s on %s: this bridge "
				   "reads version %d only (upgrade it): "
				   "refused, %" PRIu64 " so far",
				   vs, subj, BRIDGE_FRAME_VERSION,
				   in->unknown_version);
		return 0;
	}
	if (r) {
		in->bad_frames++;
		if (in->bad_frames == 1 || in_may_report(in))
			bridge_log(b,
				   "a malformed frame of %d bytes on %s: "
				   "refused, %" PRIu64 " so far",
				   natsMsg_GetDataLength(m), subj,
				   in->bad_frames);
		return 0;
	}
	in->frames++;
	in->received += h.nevents;
	f = (struct in_from){ .host = h.host,
			      .host_len = h.host_len,
			      .session = h.session,
			      .epoch = h.epoch,
			      .dropped = h.dropped };
	o = in_from_origin(in, &f, subj, subj_len);
	while (bridge_frame_next(&rd, &ev) == 1) {
		if (o)
			in_count(in, o, subj, subj_len, ev.type, ev.count);
		r = in_publish(in, subj, ev.type, ev.data, ev.len);
		if (r)
			return r;
	}
	return 0;
}

/* Return: 0, or < 0 to stop (-EPIPE: the ring was closed). */
static int in_msg(struct in *in, natsMsg *m)
{
	struct bridge *b = in->b;
	const char *subj = natsMsg_GetSubject(m), *dot, *v;
	uint64_t type = 0, count = 0;
	size_t subj_len;

	in->messages++;
	in->dirty = true;
	dot = strrchr(subj, '.');
	subj_len = dot ? (size_t)(dot - subj) : strlen(subj);
	v = header(m, BRIDGE_FRAME_HEADER);
	if (v)
		return in_frame(in, m, v, subj, subj_len);

	/* One event of the per-event format. */
	in->received++;
	v = header(m, H_TYPE);
	if (!parse_u64(v ? v : (dot ? dot + 1 : NULL), 10, &type) ||
	    type > UINT32_MAX) {
		if (!in->malformed++ || in_may_report(in))
			bridge_log(b,
				   "a message on %s has no type tag: "
				   "not published",
				   subj);
		return 0;
	}
	if (parse_u64(header(m, H_COUNT), 10, &count)) {
		const char *host = header(m, H_HOST);
		struct in_from f = { .host = host ? host : "" };
		struct origin *o;

		f.host_len = strlen(f.host);
		parse_u64(header(m, H_SESSION), 16, &f.session);
		parse_u64(header(m, H_EPOCH), 16, &f.epoch);
		parse_u64(header(m, H_DROPPED), 10, &f.dropped);
		o = in_from_origin(in, &f, subj, subj_len);
		if (o)
			in_count(in, o, subj, subj_len, (uint32_t)type, count);
	}
	return in_publish(in, subj, (uint32_t)type, natsMsg_GetData(m),
			  (size_t)natsMsg_GetDataLength(m));
}

static int in_open_ring(struct in *in)
{
	struct bridge *b = in->b;
	struct ringcast_ring_stats st;
	int r;

	r = ringcast_pub_attach(b->name, RINGCAST_PUB_REOPEN | b->pub_flags,
				&in->pub);
	if (r == -ENOENT) {
		r = ringcast_ring_create(b->name, &b->geo, b->create_flags);
		if (r == 0)
			bridge_log(b, "created the ring");
		if (r >= 0 || r == -EEXIST)
			r = ringcast_pub_attach(
				b->name, RINGCAST_PUB_REOPEN | b->pub_flags,
				&in->pub);
	}
	if (r) {
		const char *d = ringcast_errdetail();

		bridge_log(b, "cannot publish into the ring: %s%s%s%s",
			   ringcast_strerror(r), *d ? ": " : "", d,
			   r == -EACCES && strstr(d, "belongs to uid") ?
				   " (--any-owner trusts its owner)" :
				   "");
		return r;
	}
	atomic_store(&signal_pub, in->pub);
	/* For messages only: the library refuses what is too large. */
	if (ringcast_ring_get_stats(b->name, &st) == 0)
		in->max_event = st.max_event ? st.max_event : st.capacity;
	return 0;
}

static int in_run(struct in *in)
{
	struct bridge *b = in->b;
	int r = 0;

	while (!bridge_stop) {
		struct bridge_conn c;
		natsMsg *m = NULL;
		natsStatus s;

		bridge_conn_state(b, &c);
		if (c.closed) {
			bridge_log(b, "the NATS connection was closed");
			return -EPIPE;
		}
		if (!c.connected && in->ready) {
			in->ready = false;
			in->dirty = true;
		}
		/*
		 * (Re)connected: the library subscribed again; a round trip
		 * makes sure the server has our subscription before we say
		 * we are ready.
		 */
		if (c.connected && c.gen != in->conn_gen &&
		    natsConnection_FlushTimeout(b->nc, 1000) == NATS_OK) {
			in->conn_gen = c.gen;
			in->ready = true;
			in->dirty = true;
			in_periodic(in, true);
			/* The server has our subscription: events flow. */
			bridge_notify_ready(b);
		}
		s = natsSubscription_NextMsg(&m, in->sub, 100);
		if (s == NATS_OK) {
			r = in_msg(in, m);
			natsMsg_Destroy(m);
			if (r)
				return r;
		} else if (s == NATS_CONNECTION_CLOSED ||
			   s == NATS_INVALID_SUBSCRIPTION) {
			bridge_log(b, "the subscription ended: %s",
				   natsStatus_GetText(s));
			return -EPIPE;
		}
		if (in->dirty)
			in_periodic(in, false);
	}
	return 0;
}

int bridge_in(struct bridge *b)
{
	struct in in = { .b = b };
	natsStatus s;
	size_t i;
	int r;

	bridge_signals(in_interrupt);
	r = in_open_ring(&in);
	if (r)
		return r;
	in_periodic(&in, true);
	r = bridge_connect(b);
	if (r)
		goto out_close;
	s = natsConnection_SubscribeSync(&in.sub, b->nc, b->subject);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(in.sub, 1 << 20,
						      512 << 20);
	if (s != NATS_OK) {
		bridge_log(b, "cannot subscribe to %s: %s", b->subject,
			   natsStatus_GetText(s));
		r = -EINVAL;
		goto out_close;
	}
	bridge_log(b, "subscribed to %s", b->subject);
	r = in_run(&in);
out_close:
	bridge_notify_stopping(b);
	if (r == -EINTR)
		r = 0;
	in_periodic(&in, true);
	bridge_log(b,
		   "received %" PRIu64 " messages: published %" PRIu64
		   ", refused %" PRIu64 "; lost %" PRIu64 " (%" PRIu64
		   " in %" PRIu64 " gaps, %" PRIu64 " before sending)",
		   in.received, in.published, in.refused,
		   in.gap_events + in.origin_dropped, in.gap_events, in.gaps,
		   in.origin_dropped);
	natsSubscription_Destroy(in.sub);
	atomic_store(&signal_pub, NULL);
	/* End of stream for the local subscribers; a new bridge reopens. */
	if (in.pub)
		ringcast_pub_close(in.pub);
	for (i = 0; i < in.norigins; i++)
		free(in.origins[i].key);
	free(in.origins);
	u64map_free(&in.counts);
	bridge_disconnect(b);
	bridge_status_remove(b);
	return r;
}
