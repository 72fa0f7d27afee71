// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge in --durable NAME --stream STREAM: frames out of a
 * JetStream stream through a durable pull consumer into the ring, every
 * event once, in the stream's order, across restarts of this bridge, of
 * the server and of the out bridge.
 *
 * What is published is known by its origin: (host, incarnation of the
 * origin ring = its created_ns, origin sequence), never by the out
 * bridge's session.  The state file ringcast-bridge.durable.NAME beside
 * the ring (struct js_state, mapped shared) holds, per origin, the next
 * origin sequence expected (all below are in the ring), the stream
 * sequence expected next, and a write-ahead intent:
 *
 *   1. intent = { ring sequence S, the batch's origin sequences }; valid
 *   2. publish the batch into the ring (ringcast_pub_publish_batch())
 *   3. origin's next = after the batch; stream's next; intent invalid
 *   4. acknowledge the message to the server
 *
 * Stores into a MAP_SHARED file survive a SIGKILL of the process (the
 * file is the kernel's page cache; the compiler orders them, a release
 * fence between the steps).  A bridge that starts takes the ring over:
 * its head follows the last event committed (a slot reserved and not
 * committed is overwritten, no hole: src/pub.c), so head - S events of a
 * valid intent landed, a prefix of the batch.  It sets the origin's next
 * after them; a redelivered message's events below an origin's next are
 * skipped (duplicates), so none is published twice, and one acknowledged
 * is never missing.  The ring must have no other publisher.
 *
 * Order.  After a restart the server may deliver later messages before it
 * redelivers those the dead bridge held (after the ack wait): a message
 * past the stream sequence expected is refused with a short delay (NAK)
 * unless the stream's first sequence is past it (retention dropped them:
 * a gap).  Events are thus published in the stream's order, which is the
 * origin's.  An origin sequence that jumps is a gap (retention, or the out
 * bridge lost events before they were stored), counted and reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barrier.h"
#include "frame.h"
#include "js.h"
#include "ringpath.h"

#define JS_STATE_PREFIX "ringcast-bridge.durable."
#define JS_STATE_MAGIC 0x31656c6261727564ull /* "durable1" */
#define JS_STATE_VERSION 1u
#define JS_ORIGINS 64u
#define JS_KEY_MAX 256u
/* Events of one intent at most: a larger frame goes in several. */
#define JS_BATCH 4096u
/* A message out of order comes again after this long. */
#define JS_NAK_DELAY_MS 100

struct js_origin_rec {
	_Atomic uint64_t used; /* written last */
	_Atomic uint64_t incarnation;
	_Atomic uint64_t next; /* every origin sequence below is in the ring */
	uint64_t pad;
	char host[JS_KEY_MAX]; /* NUL-terminated, within bounds */
	char subj[JS_KEY_MAX]; /* the subject less its last token */
};

/* The state file: its layout is this program's alone, of one version. */
struct js_state {
	_Atomic uint64_t magic;
	_Atomic uint64_t version;
	_Atomic uint64_t ring_created; /* the receiving ring's incarnation */
	_Atomic uint64_t stream_created; /* the stream's, as the server says */
	_Atomic uint64_t next_sseq; /* stream sequence expected; 0: any */
	/* The intent. */
	_Atomic uint64_t i_valid;
	_Atomic uint64_t i_origin;
	_Atomic uint64_t i_ring; /* the ring sequence of seqs[0] */
	_Atomic uint64_t i_n;
	_Atomic uint64_t i_sseq; /* the message */
	_Atomic uint64_t i_whole; /* the batch ends the message */
	uint64_t pad[5];
	struct js_origin_rec origins[JS_ORIGINS];
	_Atomic uint64_t i_seqs[JS_BATCH];
};

struct jsi {
	struct bridge *b;
	struct ringcast_pub *pub;
	uint64_t max_event;
	uint64_t ring_created;
	jsCtx *js;
	natsSubscription *sub;
	struct js_state *st;
	char state_path[PATH_MAX];
	struct ringcast_msg msgs[JS_BATCH];
	uint64_t seqs[JS_BATCH];

	uint64_t received;
	uint64_t published;
	uint64_t duplicates;
	uint64_t refused;
	uint64_t malformed;
	uint64_t gaps;
	uint64_t gap_events;
	uint64_t stream_gaps; /* messages retention dropped */
	uint64_t out_of_order;
	uint64_t recovered;
	uint64_t status_ns;
};

static _Atomic(struct ringcast_pub *) signal_pub;

static void jsi_interrupt(void)
{
	struct ringcast_pub *pub = atomic_load(&signal_pub);

	if (pub)
		ringcast_pub_interrupt(pub);
}

static void jsi_status(struct jsi *in, uint64_t now)
{
	struct bridge *b = in->b;
	struct bridge_conn c;
	char buf[2048];
	int n;

	bridge_conn_state(b, &c);
	n = snprintf(buf, sizeof(buf),
		     "pid %d\ndirection in\nring %s\nnats %s\nsubject %s\n"
		     "stream %s\ndurable %s\nhost %s\nconnected %d\n"
		     "disconnects %" PRIu64 "\nreconnects %" PRIu64
		     "\nreceived %" PRIu64 "\npublished %" PRIu64
		     "\nduplicates %" PRIu64 "\nrefused %" PRIu64
		     "\nmalformed %" PRIu64 "\ngaps %" PRIu64
		     "\ngap_events %" PRIu64 "\nlost %" PRIu64
		     "\nstream_gaps %" PRIu64 "\nout_of_order %" PRIu64
		     "\nrecovered %" PRIu64 "\nstream_next %" PRIu64 "\n",
		     (int)getpid(), b->name, b->url,
		     b->subject ? b->subject : "-", b->stream, b->durable,
		     b->host, c.connected, c.disconnects, c.reconnects,
		     in->received, in->published, in->duplicates, in->refused,
		     in->malformed, in->gaps, in->gap_events, in->gap_events,
		     in->stream_gaps, in->out_of_order, in->recovered,
		     (uint64_t)READ_ONCE(in->st->next_sseq));
	if (n > 0 && (size_t)n < sizeof(buf))
		bridge_status_write(b, buf, (size_t)n);
	in->status_ns = now;
}

static void jsi_periodic(struct jsi *in, bool force)
{
	uint64_t now = bridge_now_ns();

	if (force || now - in->status_ns >= BRIDGE_STATUS_NS)
		jsi_status(in, now);
}

/* A fresh state for this ring: nothing of it was published from a stream. */
static void jsi_state_reset(struct jsi *in)
{
	struct js_state *st = in->st;

	memset(st, 0, sizeof(*st));
	WRITE_ONCE(st->version, JS_STATE_VERSION);
	WRITE_ONCE(st->ring_created, in->ring_created);
	/* Pairs with nothing: read by a later process, after our death. */
	smp_wmb();
	WRITE_ONCE(st->magic, JS_STATE_MAGIC);
}

/* Map the state file, create it, or start it over when it is not ours. */
static int jsi_state_open(struct jsi *in)
{
	struct bridge *b = in->b;
	struct stat sb;
	void *p;
	int fd;

	if (ring_file_path(in->state_path, sizeof(in->state_path), b->name,
			   JS_STATE_PREFIX))
		return -ENAMETOOLONG;
	fd = open(in->state_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || fstat(fd, &sb) ||
	    (sb.st_size != sizeof(struct js_state) &&
	     ftruncate(fd, sizeof(struct js_state)))) {
		int e = errno;

		bridge_log(b, "cannot open the state file %s: %s",
			   in->state_path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	p = mmap(NULL, sizeof(struct js_state), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		bridge_log(b, "cannot map %s: %s", in->state_path,
			   strerror(errno));
		return -ENOMEM;
	}
	in->st = p;
	if (READ_ONCE(in->st->magic) != JS_STATE_MAGIC ||
	    READ_ONCE(in->st->version) != JS_STATE_VERSION ||
	    READ_ONCE(in->st->ring_created) != in->ring_created) {
		if (READ_ONCE(in->st->magic))
			bridge_log(b,
				   "%s is of another ring or version: "
				   "starting over",
				   in->state_path);
		jsi_state_reset(in);
	}
	return 0;
}

/*
 * Finish what a dead bridge was publishing: the ring's head (we took it
 * over) says how much of the intent landed.
 */
static void jsi_recover(struct jsi *in)
{
	struct js_state *st = in->st;
	uint64_t head = ringcast_pub_head(in->pub), ring, n, landed, oi;

	if (!READ_ONCE(st->i_valid))
		return;
	ring = READ_ONCE(st->i_ring);
	n = READ_ONCE(st->i_n);
	oi = READ_ONCE(st->i_origin);
	if (n > JS_BATCH || oi >= JS_ORIGINS) {
		bridge_log(in->b, "a damaged intent in %s: ignored",
			   in->state_path);
		WRITE_ONCE(st->i_valid, 0);
		return;
	}
	landed = head < ring ? 0 : head - ring;
	if (landed > n)
		landed = n;
	if (landed) {
		struct js_origin_rec *o = &st->origins[oi];
		uint64_t next = READ_ONCE(st->i_seqs[landed - 1]) + 1;

		if (next > READ_ONCE(o->next))
			WRITE_ONCE(o->next, next);
		if (landed == n && READ_ONCE(st->i_whole))
			WRITE_ONCE(st->next_sseq, READ_ONCE(st->i_sseq) + 1);
	}
	/* Pairs with nothing: orders our own stores for a later process. */
	smp_wmb();
	WRITE_ONCE(st->i_valid, 0);
	in->recovered += landed;
	bridge_log(in->b,
		   "recovered: %" PRIu64 " of the %" PRIu64 " events being "
		   "published when the last bridge stopped are in the ring",
		   landed, n);
}

/* A bounded, NUL-terminated copy of a string of the state file. */
static bool key_is(const char *rec, const char *s, size_t len)
{
	return len < JS_KEY_MAX && !memcmp(rec, s, len) && !rec[len];
}

/*
 * The origin (host, subject less its last token): its record, new or
 * found; a new incarnation of its ring starts it over.  NULL: full.
 */
static struct js_origin_rec *jsi_origin(struct jsi *in,
					const struct bridge_frame_hdr *h,
					const char *subj, size_t subj_len,
					bool *fresh)
{
	struct js_state *st = in->st;
	struct js_origin_rec *o, *free_rec = NULL;
	uint32_t i;

	*fresh = false;
	if (h->host_len >= JS_KEY_MAX || subj_len >= JS_KEY_MAX)
		return NULL;
	for (i = 0; i < JS_ORIGINS; i++) {
		o = &st->origins[i];
		if (!READ_ONCE(o->used)) {
			if (!free_rec)
				free_rec = o;
			continue;
		}
		if (!key_is(o->host, h->host, h->host_len) ||
		    !key_is(o->subj, subj, subj_len))
			continue;
		if (READ_ONCE(o->incarnation) != h->incarnation) {
			bridge_log(in->b,
				   "%.*s on host %.*s: a new incarnation of "
				   "the ring (%016" PRIx64 ")",
				   (int)subj_len, subj, (int)h->host_len,
				   h->host, h->incarnation);
			WRITE_ONCE(o->next, 0);
			WRITE_ONCE(o->incarnation, h->incarnation);
			*fresh = true;
		}
		return o;
	}
	if (!free_rec)
		return NULL;
	o = free_rec;
	memset(o->host, 0, sizeof(o->host));
	memset(o->subj, 0, sizeof(o->subj));
	memcpy(o->host, h->host, h->host_len);
	memcpy(o->subj, subj, subj_len);
	WRITE_ONCE(o->incarnation, h->incarnation);
	WRITE_ONCE(o->next, 0);
	smp_wmb(); /* for a later process: the key before "used" */
	WRITE_ONCE(o->used, 1);
	*fresh = true;
	bridge_log(in->b,
		   "receiving %.*s from host %.*s (incarnation %016" PRIx64 ")",
		   (int)subj_len, subj, (int)h->host_len, h->host,
		   h->incarnation);
	return o;
}

/*
 * Publish in->msgs[0..n) (origin sequences in->seqs) under an intent.
 * Return: 0 all of them in the ring; < 0 an error (the prefix that landed
 * is accounted).
 */
static int jsi_publish(struct jsi *in, struct js_origin_rec *o, uint32_t n,
		       uint64_t sseq, bool whole)
{
	struct js_state *st = in->st;
	uint64_t ring = ringcast_pub_head(in->pub), landed;
	uint32_t i;
	int r = 0;

	for (i = 0; i < n; i++)
		WRITE_ONCE(st->i_seqs[i], in->seqs[i]);
	WRITE_ONCE(st->i_origin, (uint64_t)(o - st->origins));
	WRITE_ONCE(st->i_ring, ring);
	WRITE_ONCE(st->i_n, n);
	WRITE_ONCE(st->i_sseq, sseq);
	WRITE_ONCE(st->i_whole, whole);
	/* The intent whole before it is valid (for a later process). */
	smp_wmb();
	WRITE_ONCE(st->i_valid, 1);
	/* Valid before the ring has any of it. */
	smp_mb();
	if (n) {
		do {
			r = ringcast_pub_publish_batch(in->pub, in->msgs, n);
		} while (r == -EINTR && !bridge_stop &&
			 ringcast_pub_head(in->pub) == ring);
	}
	landed = ringcast_pub_head(in->pub) - ring;
	if (landed > n)
		landed = n;
	if (landed) {
		WRITE_ONCE(o->next, in->seqs[landed - 1] + 1);
		in->published += landed;
	}
	if (landed == n && whole)
		WRITE_ONCE(st->next_sseq, sseq + 1);
	/* The outcome before the intent goes (for a later process). */
	smp_wmb();
	WRITE_ONCE(st->i_valid, 0);
	if (landed == n)
		return 0;
	return r < 0 ? r : -EIO;
}

/*
 * Are the stream's messages from @expect on gone (retention)?  Then they
 * are a gap, and the stream's first message is the one expected.
 * Return: true when @sseq is that one.
 */
static bool jsi_retention_dropped(struct jsi *in, uint64_t expect,
				  uint64_t sseq)
{
	jsStreamInfo *si = NULL;
	uint64_t first;

	if (js_stream_ensure(in->b, in->js, NULL, false, &si))
		return false;
	first = si->State.FirstSeq;
	jsStreamInfo_Destroy(si);
	if (first <= expect)
		return false;
	in->stream_gaps += first - expect;
	bridge_log(in->b,
		   "the stream no longer holds its messages %" PRIu64
		   " to %" PRIu64 " (retention): a gap",
		   expect, first - 1);
	WRITE_ONCE(in->st->next_sseq, first);
	return sseq == first;
}

static void jsi_gap(struct jsi *in, const char *subj, size_t subj_len,
		    const struct bridge_frame_hdr *h, uint64_t from,
		    uint64_t to)
{
	in->gaps++;
	in->gap_events += to - from;
	bridge_log(in->b,
		   "gap of %" PRIu64 " events from %.*s on host %.*s "
		   "(origin sequences %" PRIu64 " to %" PRIu64 ")",
		   to - from, (int)subj_len, subj, (int)h->host_len, h->host,
		   from, to - 1);
}

/* One message.  Return: 0, or < 0 to stop. */
static int jsi_msg(struct jsi *in, natsMsg *m)
{
	struct bridge *b = in->b;
	struct js_state *st = in->st;
	struct bridge_frame_reader rdr;
	struct bridge_frame_event ev;
	struct bridge_frame_hdr h;
	struct js_origin_rec *o;
	jsMsgMetaData *meta = NULL;
	const char *subj = natsMsg_GetSubject(m), *dot;
	uint64_t sseq, expect, next;
	size_t subj_len;
	uint32_t n = 0;
	bool fresh;
	int r;

	in->received++;
	if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
		in->malformed++;
		bridge_log(b, "a message on %s without JetStream metadata",
			   subj);
		natsMsg_Term(m, NULL);
		return 0;
	}
	sseq = meta->Sequence.Stream;
	jsMsgMetaData_Destroy(meta);

	expect = READ_ONCE(st->next_sseq);
	if (expect && sseq < expect) {
		/* Published before; its acknowledgement was lost. */
		in->duplicates++;
		natsMsg_Ack(m, NULL);
		return 0;
	}
	if (expect && sseq > expect &&
	    !jsi_retention_dropped(in, expect, sseq)) {
		/* The one expected is redelivered later: keep the order. */
		in->out_of_order++;
		natsMsg_NakWithDelay(m, JS_NAK_DELAY_MS, NULL);
		return 0;
	}

	r = bridge_frame_open(&rdr, natsMsg_GetData(m),
			      (size_t)natsMsg_GetDataLength(m), &h);
	if (r) {
		in->malformed++;
		if (r == -EPROTONOSUPPORT)
			bridge_log(b,
				   "message %" PRIu64 " of the stream is a "
				   "frame of version %" PRIu32 ", which this "
				   "bridge does not know (it knows %d): "
				   "skipped",
				   sseq, h.version, BRIDGE_FRAME_VERSION);
		else
			bridge_log(b,
				   "message %" PRIu64 " of the stream is not "
				   "a valid frame: skipped",
				   sseq);
		WRITE_ONCE(st->next_sseq, sseq + 1);
		natsMsg_Term(m, NULL);
		return 0;
	}
	dot = strrchr(subj, '.');
	subj_len = dot ? (size_t)(dot - subj) : strlen(subj);
	o = jsi_origin(in, &h, subj, subj_len, &fresh);
	if (!o) {
		in->malformed++;
		bridge_log(b,
			   "too many origins (%u): message %" PRIu64 " skipped",
			   JS_ORIGINS, sseq);
		WRITE_ONCE(st->next_sseq, sseq + 1);
		natsMsg_Term(m, NULL);
		return 0;
	}

	next = READ_ONCE(o->next);
	while (bridge_frame_next(&rdr, &ev) == 1) {
		if (!fresh && ev.seq < next) {
			in->duplicates++;
			continue;
		}
		if (!fresh && ev.seq > next)
			jsi_gap(in, subj, subj_len, &h, next, ev.seq);
		fresh = false;
		next = ev.seq + 1;
		if (ev.len > in->max_event) {
			in->refused++;
			bridge_log(b,
				   "event %" PRIu64 " of %" PRIu32 " bytes is "
				   "larger than the ring's largest (%" PRIu64
				   "): refused",
				   ev.seq, ev.len, in->max_event);
			continue;
		}
		in->msgs[n] = (struct ringcast_msg){ .type = ev.type,
						     .len = ev.len,
						     .data = ev.len ? ev.data :
								      NULL };
		in->seqs[n] = ev.seq;
		if (++n == JS_BATCH) {
			r = jsi_publish(in, o, n, sseq, false);
			if (r)
				goto err;
			n = 0;
		}
	}
	r = jsi_publish(in, o, n, sseq, true);
	if (r)
		goto err;
	/* Refused events at the end still count as handled. */
	if (next > READ_ONCE(o->next))
		WRITE_ONCE(o->next, next);
	/* In the ring: now the server may forget it. */
	natsMsg_Ack(m, NULL);
	return 0;
err:
	if (r == -EINTR)
		return 0;
	if (r == -EPIPE)
		bridge_log(b, "the ring was closed: stopping");
	else
		bridge_log(b, "publishing into the ring: %s",
			   ringcast_strerror(r));
	return r;
}

static int jsi_open_ring(struct jsi *in)
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

		bridge_log(b, "cannot publish into the ring: %s%s%s",
			   ringcast_strerror(r), *d ? ": " : "", d);
		return r;
	}
	atomic_store(&signal_pub, in->pub);
	r = ringcast_ring_get_stats(b->name, &st);
	if (r) {
		bridge_log(b, "cannot read the ring: %s", ringcast_strerror(r));
		return r;
	}
	in->max_event = st.max_event ? st.max_event : st.capacity;
	in->ring_created = st.created_ns;
	return 0;
}

/* The durable consumer, created on first use; retried until it works. */
static int jsi_subscribe(struct jsi *in)
{
	struct bridge *b = in->b;
	jsStreamInfo *si = NULL;
	jsSubOptions so;
	jsErrCode code;
	natsStatus s;
	char err[256];
	bool told = false;
	int r;

	for (;;) {
		if (bridge_stop)
			return -EINTR;
		r = js_stream_ensure(b, in->js, NULL, false, &si);
		if (r == -ENOENT && !told) {
			bridge_log(b, "waiting for the stream %s", b->stream);
			told = true;
		}
		if (!r)
			break;
		nats_Sleep(200);
	}
	if (!b->subject) {
		if (!si->Config || si->Config->SubjectsLen < 1 ||
		    strlen(si->Config->Subjects[0]) >= sizeof(b->subj_buf)) {
			bridge_log(b, "the stream %s has no subject",
				   b->stream);
			jsStreamInfo_Destroy(si);
			return -EINVAL;
		}
		strcpy(b->subj_buf, si->Config->Subjects[0]);
		b->subject = b->subj_buf;
	}
	if (READ_ONCE(in->st->stream_created) != (uint64_t)si->Created) {
		/* Another stream (or the first): its sequences are new. */
		WRITE_ONCE(in->st->next_sseq, 0);
		WRITE_ONCE(in->st->stream_created, (uint64_t)si->Created);
	}
	jsStreamInfo_Destroy(si);

	jsSubOptions_Init(&so);
	so.Stream = b->stream;
	so.Config.Durable = b->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckWait = b->ack_wait_ns;
	so.Config.MaxAckPending = JS_FETCH * 4;
	for (;;) {
		code = 0;
		s = js_PullSubscribe(&in->sub, in->js, b->subject, b->durable,
				     NULL, &so, &code);
		if (s == NATS_OK)
			break;
		if (bridge_stop)
			return -EINTR;
		if (s != NATS_TIMEOUT && s != NATS_NO_RESPONDERS &&
		    s != NATS_CONNECTION_DISCONNECTED) {
			bridge_log(b, "cannot read %s through %s: %s",
				   b->stream, b->durable,
				   js_err_text(s, code, err, sizeof(err)));
			return -EINVAL;
		}
		nats_Sleep(200);
	}
	bridge_log(b, "reading stream %s (%s) through the durable consumer %s",
		   b->stream, b->subject, b->durable);
	return 0;
}

static int jsi_run(struct jsi *in)
{
	struct bridge *b = in->b;
	bool said = false;
	int r = 0, i;

	while (!bridge_stop) {
		struct bridge_conn c;
		natsMsgList list = { 0 };
		jsErrCode code = 0;
		natsStatus s;

		jsi_periodic(in, false);
		bridge_conn_state(b, &c);
		if (c.closed) {
			bridge_log(b, "the NATS connection was closed");
			return -EPIPE;
		}
		if (!c.connected) {
			bridge_wait_connected(b, 100);
			continue;
		}
		s = natsSubscription_Fetch(&list, in->sub, JS_FETCH, 200,
					   &code);
		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			char err[256];

			if (!said)
				bridge_log(
					b, "fetching from %s: %s (said once)",
					b->stream,
					js_err_text(s, code, err, sizeof(err)));
			said = true;
			nats_Sleep(100);
			continue;
		}
		for (i = 0; i < list.Count && !r; i++)
			r = jsi_msg(in, list.Msgs[i]);
		natsMsgList_Destroy(&list);
		if (r)
			return r;
	}
	return 0;
}

int bridge_js_in(struct bridge *b)
{
	static struct jsi in;
	natsStatus s;
	int r;

	in.b = b;
	bridge_signals(jsi_interrupt);
	r = jsi_open_ring(&in);
	if (r)
		goto out_close;
	r = jsi_state_open(&in);
	if (r)
		goto out_close;
	jsi_recover(&in);
	jsi_periodic(&in, true);
	r = bridge_connect(b);
	if (r)
		goto out_close;
	s = natsConnection_JetStream(&in.js, b->nc, NULL);
	if (s != NATS_OK) {
		r = -ENOMEM;
		goto out_close;
	}
	r = jsi_subscribe(&in);
	if (!r) {
		bridge_notify_ready(b);
		r = jsi_run(&in);
	}
out_close:
	bridge_notify_stopping(b);
	if (r == -EINTR)
		r = 0;
	if (in.st)
		jsi_periodic(&in, true);
	bridge_log(b,
		   "received %" PRIu64 " messages: published %" PRIu64
		   " events, %" PRIu64 " duplicates skipped, %" PRIu64
		   " refused; %" PRIu64 " lost in %" PRIu64 " gaps",
		   in.received, in.published, in.duplicates, in.refused,
		   in.gap_events, in.gaps);
	natsSubscription_Destroy(in.sub);
	jsCtx_Destroy(in.js);
	atomic_store(&signal_pub, NULL);
	if (in.pub)
		ringcast_pub_close(in.pub);
	if (in.st)
		munmap(in.st, sizeof(*in.st));
	bridge_disconnect(b);
	bridge_status_remove(b);
	return r;
}
