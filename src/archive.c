// SPDX-License-Identifier: MIT
/*
 * Readers from the first event: a recording up to where the ring still
 * holds events, then the live ring, every sequence once and in order
 * (docs/recordings.md, "Readers from the first event").
 *
 * The subscriber attaches first, at the sequence asked for: the ring
 * starts it at the oldest event it still holds (start), and owes the
 * events before as a loss.  A reliable subscriber holds the ring's events
 * from start on until it reads them.  The recording gives [from, start):
 * its recorder is behind or level with the ring, so the reader waits
 * there for it as long as the caller's timeout allows.  Then the ring
 * from start on, its loss for [from, start) taken back: the recording
 * delivered those events (or said, with its gaps, which were lost).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "local.h"
#include "ringcast.h"

struct ringcast_archive {
	struct ringcast_sub *sub;
	struct ringcast_rec *rec;
	uint64_t next; /* the next sequence to deliver */
	uint64_t start; /* where the ring's subscriber began */
	uint64_t owed; /* the ring's loss for [from, start): not to report */
	uint32_t ntypes;
	uint32_t *types; /* the filter, for the recording's events */
	struct ringcast_rec_entry held; /* read, after a loss reported */
	bool have_held;
};

static bool rc_archive_wants(const struct ringcast_archive *a, uint32_t type)
{
	uint32_t i;

	if (!a->ntypes)
		return true;
	for (i = 0; i < a->ntypes; i++)
		if (a->types[i] == type)
			return true;
	return false;
}

RINGCAST_API int ringcast_archive_open(const char *name, const char *path,
				       const struct ringcast_sub_opts *opts,
				       struct ringcast_archive **ap)
{
	struct ringcast_sub_opts o = { 0 };
	struct ringcast_sub_stats st;
	struct ringcast_archive *a;
	uint64_t first;
	int r;

	if (!name || !path || !ap)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (o.from != RINGCAST_FROM_SEQ && o.from != RINGCAST_FROM_OLDEST)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (o.ntypes) {
		a->types = malloc(o.ntypes * sizeof(*a->types));
		if (!a->types || !o.types) {
			r = o.types ? -ENOMEM : -EINVAL;
			goto err_free;
		}
		memcpy(a->types, o.types, o.ntypes * sizeof(*a->types));
		a->ntypes = o.ntypes;
	}
	r = ringcast_rec_open(path, 0, &a->rec);
	if (r < 0)
		goto err_free;
	if (o.from == RINGCAST_FROM_OLDEST)
		o.seq = 0;
	o.from = RINGCAST_FROM_SEQ;
	r = ringcast_sub_attach(name, &o, &a->sub, &first);
	if (r < 0)
		goto err_rec;
	ringcast_sub_get_stats(a->sub, &st);
	a->start = st.cursor;
	a->next = o.seq;
	a->owed = a->start > o.seq ? a->start - o.seq : 0;
	/* Older than the recording: from its first record, the rest lost. */
	if (a->owed) {
		r = ringcast_rec_seek(a->rec, o.seq);
		if (r < 0)
			goto err_sub;
	}
	*ap = a;
	return 0;

err_sub:
	ringcast_sub_detach(a->sub);
err_rec:
	ringcast_rec_close(a->rec);
err_free:
	free(a->types);
	free(a);
	return r;
}

/* The recording's next record, or the one held back after a loss. */
static int rc_archive_read(struct ringcast_archive *a,
			   struct ringcast_rec_entry *e, int64_t timeout_ns)
{
	struct timespec nap = { 0, 1000000 };
	uint64_t waited = 0;
	int r;

	if (a->have_held) {
		a->have_held = false;
		*e = a->held;
		return 0;
	}
	/* -EAGAIN: the recorder has not come this far yet. */
	while ((r = ringcast_rec_next(a->rec, e)) == -EAGAIN) {
		if (timeout_ns == 0)
			return -EAGAIN;
		if (timeout_ns > 0 && (int64_t)waited >= timeout_ns)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
		waited += (uint64_t)nap.tv_nsec;
	}
	return r;
}

/*
 * The recording's next event below start: 0 with it, 1 when the ring
 * takes over, -EOVERFLOW with what the recording does not hold (a gap
 * recorded as such, or sequences before it began), or an error.
 */
static int rc_archive_rec(struct ringcast_archive *a, struct ringcast_event *ev,
			  int64_t timeout_ns)
{
	struct ringcast_rec_entry e;
	uint64_t end, to;
	int r;

	for (;;) {
		if (a->next >= a->start)
			return 1;
		r = rc_archive_read(a, &e, timeout_ns);
		if (r < 0)
			return r;
		end = e.ev.seq + (e.kind == RINGCAST_REC_EVENT ? 1 : e.count);
		if (end <= a->next)
			continue; /* before where we are */
		if (e.ev.seq > a->next) {
			/* Not recorded: lost; this record comes next. */
			to = e.ev.seq < a->start ? e.ev.seq : a->start;
			ev->lost = to - a->next;
			a->next = to;
			a->held = e;
			a->have_held = true;
			return -EOVERFLOW;
		}
		if (e.kind == RINGCAST_REC_EVENT) {
			a->next = end;
			if (!rc_archive_wants(a, e.ev.type))
				continue;
			*ev = e.ev;
			ev->lost = 0;
			return 0;
		}
		if (e.kind != RINGCAST_REC_GAP && e.kind != RINGCAST_REC_HOLE)
			continue; /* a takeover: the events say their epoch */
		to = end < a->start ? end : a->start;
		ev->lost = to - a->next;
		a->next = to;
		/* Aborted claims are no events: skipped, as a ring does. */
		if (e.kind == RINGCAST_REC_GAP && ev->lost)
			return -EOVERFLOW;
	}
}

RINGCAST_API int ringcast_archive_next(struct ringcast_archive *a,
				       struct ringcast_event *ev,
				       int64_t timeout_ns)
{
	int r;

	if (!a || !ev)
		return -EINVAL;
	if (a->next < a->start) {
		r = rc_archive_rec(a, ev, timeout_ns);
		if (r <= 0)
			return r;
	}
	r = ringcast_sub_next(a->sub, ev, timeout_ns);
	if (r == -EOVERFLOW && a->owed) {
		/* The ring's loss for [from, start): the recording gave it. */
		if (ev->lost <= a->owed) {
			a->owed -= ev->lost;
			return ringcast_archive_next(a, ev, timeout_ns);
		}
		ev->lost -= a->owed;
		a->owed = 0;
	}
	return r;
}

RINGCAST_API struct ringcast_sub *
ringcast_archive_sub(const struct ringcast_archive *a)
{
	return a ? a->sub : NULL;
}

RINGCAST_API void ringcast_archive_close(struct ringcast_archive *a)
{
	if (!a)
		return;
	ringcast_sub_detach(a->sub);
	ringcast_rec_close(a->rec);
	free(a->types);
	free(a);
}
