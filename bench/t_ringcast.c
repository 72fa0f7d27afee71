// SPDX-License-Identifier: MIT
/*
 * t_ringcast.c - ringcast as the harness sees it, four ways:
 *
 *   ringcast-lossy-busy   lossy subscribers, RINGCAST_WAIT_BUSY
 *   ringcast-lossy-sleep  lossy subscribers, the default wait (spin about
 *                         20 us, then sleep on the futex)
 *   ringcast-reliable     RINGCAST_SUB_RELIABLE: lossless, the publisher is
 *                         gated; busy where the harness asks for busy
 *                         readers, the default wait elsewhere; the
 *                         churn metric's row (rc_churn())
 *   ringcast-zero-copy    reliable, filled in place (reserve/commit, or
 *                         reserve_batch/commit_batch) and read in place
 *                         (borrow/release)
 *   ringcast-nodata       reliable as ringcast-reliable, on a ring created
 *                         with RINGCAST_CREATE_NO_DATA: the fixed-slot
 *                         ring, paired with ringcast-reliable to show what
 *                         the data area costs events that stay inline
 *   ringcast-data         reliable as ringcast-reliable, on the default
 *                         slots (4096 of 256 bytes) and a data area of
 *                         bench_data_geometry(): fixed payloads from
 *                         DATA_MIN on, every one spilled, in throughput;
 *                         paired with bare-varring
 *
 * Publishers send in batches of the harness's --batch
 * (ringcast_pub_publish_batch(), or a reserved batch for zero-copy: at
 * most half the ring); timestamps stay on (the default coarse clock).
 * Geometry: bench_ring_geometry(), the bare rings' too, and the default
 * data area.  Mixed workloads (harness.h) run on the default ring (4096
 * slots of 256 bytes, a data area of MIX_DATA_BYTES); ringcast-nodata
 * then has slots that hold the largest event (bench_ring_geometry() of
 * it): today's fixed-slot answer.  A reserved batch has one length, so
 * zero-copy publishers of mixed sizes reserve one event at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcast.h"
#include "harness.h"

_Static_assert(sizeof(struct txmsg) == sizeof(struct ringcast_msg) &&
		       offsetof(struct txmsg, len) ==
			       offsetof(struct ringcast_msg, len) &&
		       offsetof(struct txmsg, data) ==
			       offsetof(struct ringcast_msg, data),
	       "struct txmsg has the layout of struct ringcast_msg");
_Static_assert(RINGCAST_MIN_SLOT_SIZE == 64 && RINGCAST_SLOT_HEADER == 32,
	       "bench_ring_geometry() sizes ringcast's slots");
_Static_assert(DATA_MIN ==
		       RINGCAST_DEFAULT_SLOT_SIZE - RINGCAST_SLOT_HEADER + 1,
	       "DATA_MIN spills from the default slot");
_Static_assert(MIX_DATA_BYTES == RINGCAST_DEFAULT_DATA_SIZE,
	       "the mixed workloads run on the default data area");

enum rc_mode {
	RC_LOSSY_BUSY,
	RC_LOSSY_SLEEP,
	RC_RELIABLE,
	RC_ZERO_COPY,
	RC_NODATA,
	RC_DATA,
};

struct rc_link {
	const struct bench_cfg *cfg;
	enum rc_mode mode;
	unsigned int nsubs;
	bool made;
	char name[64];
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	double wakes;
};

static const char *rc_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if ((uint64_t)cfg->size + RINGCAST_SLOT_HEADER >
	    RINGCAST_MAX_SLOT_SIZE) {
		snprintf(buf, len, "payload above the largest slot");
		return buf;
	}
	return NULL;
}

static const char *rc_skip_nodata(const struct bench_cfg *cfg, char *buf,
				  size_t len)
{
	if (cfg->metric == METRIC_PINGPONG || cfg->metric == METRIC_ONEWAY) {
		snprintf(buf, len,
			 "paired with ringcast-reliable in "
			 "throughput and fan-out only");
		return buf;
	}
	return rc_skip(cfg, buf, len);
}

static const char *rc_skip_data(const struct bench_cfg *cfg, char *buf,
				size_t len)
{
	if (cfg->metric != METRIC_THROUGHPUT || cfg->mix) {
		snprintf(buf, len,
			 "fixed sizes in throughput only (the mixed "
			 "workloads' data-area row is ringcast-reliable)");
		return buf;
	}
	if (cfg->size < DATA_MIN) {
		snprintf(buf, len,
			 "payload inline in the default slot: no data area");
		return buf;
	}
	if (cfg->size > bench_data_geometry(cfg->mix, cfg->size) / 4) {
		snprintf(buf, len, "payload above a quarter of the data area");
		return buf;
	}
	return NULL;
}

static int rc_create(void **lp, const struct bench_cfg *cfg, const char *tag,
		     enum rc_mode mode, unsigned int nsubs)
{
	/* A table entry for every subscriber, churners' included. */
	struct ringcast_ring_opts ro = {
		.max_subscribers =
			nsubs + 2 +
			(cfg->metric == METRIC_CHURN ? CHURN_PROCS : 0),
		.mode = 0600,
	};
	unsigned int flags = RINGCAST_CREATE_EXCL;
	struct rc_link *l;
	int ret;

	if ((cfg->mix && mode != RC_NODATA) || mode == RC_DATA) {
		ro.slots = RINGCAST_DEFAULT_SLOTS;
		ro.slot_size = RINGCAST_DEFAULT_SLOT_SIZE;
		ro.data_size = bench_data_geometry(cfg->mix, cfg->size);
	} else {
		ro.slots = bench_ring_geometry(cfg->metric, cfg->size,
					       &ro.slot_size);
	}
	if (mode == RC_NODATA)
		flags |= RINGCAST_CREATE_NO_DATA;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	l->mode = mode;
	l->nsubs = nsubs;
	l->wakes = -1;
	snprintf(l->name, sizeof(l->name), "%s", tag);
	ret = ringcast_ring_create(l->name, &ro, flags);
	if (ret < 0) {
		free(l);
		return ret;
	}
	l->made = true;
	*lp = l;
	return 0;
}

#define RC_CREATE(fn, mode)                                                    \
	static int fn(void **lp, const struct bench_cfg *cfg, const char *tag, \
		      unsigned int nsubs)                                      \
	{                                                                      \
		return rc_create(lp, cfg, tag, mode, nsubs);                   \
	}
RC_CREATE(rc_create_lossy_busy, RC_LOSSY_BUSY)
RC_CREATE(rc_create_lossy_sleep, RC_LOSSY_SLEEP)
RC_CREATE(rc_create_reliable, RC_RELIABLE)
RC_CREATE(rc_create_zero_copy, RC_ZERO_COPY)
RC_CREATE(rc_create_nodata, RC_NODATA)
RC_CREATE(rc_create_data, RC_DATA)

static int rc_sub_open(void *lp, unsigned int idx)
{
	struct rc_link *l = lp;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };

	switch (l->mode) {
	case RC_LOSSY_BUSY:
		so.wait = RINGCAST_WAIT_BUSY;
		break;
	case RC_LOSSY_SLEEP:
		so.wait = RINGCAST_WAIT_SPIN;
		break;
	case RC_RELIABLE:
	case RC_ZERO_COPY:
	case RC_NODATA:
	case RC_DATA:
		so.flags = RINGCAST_SUB_RELIABLE;
		so.wait = l->cfg->busy ? RINGCAST_WAIT_BUSY :
					 RINGCAST_WAIT_SPIN;
		break;
	}
	return ringcast_sub_attach(l->name, &so, &l->sub, NULL);
}

/*
 * The churn metric: attach a subscriber, reliable and lossy in turn, look
 * for an event without waiting, detach.  A churner's own handle, never
 * l->sub (a churner is a process of its own, forked from the runner).
 */
static int rc_churn(void *lp, unsigned int round)
{
	struct rc_link *l = lp;
	struct ringcast_sub_opts so = {
		.flags = round % 2 ? 0 : RINGCAST_SUB_RELIABLE,
		.from = RINGCAST_FROM_NEWEST,
	};
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	int ret;

	ret = ringcast_sub_attach(l->name, &so, &sub, NULL);
	if (ret < 0)
		return ret;
	ret = ringcast_sub_next(sub, &ev, 0);
	ringcast_sub_detach(sub);
	/* -EPIPE: the run ended, the ring closed under us. */
	if (ret == -EAGAIN || ret == -EOVERFLOW || ret == -EPIPE)
		return 0;
	return ret < 0 ? ret : 0;
}

static int rc_pub_open(void *lp)
{
	struct rc_link *l = lp;

	return ringcast_pub_attach(l->name, 0, &l->pub);
}

static int rc_pub_sync(void *lp)
{
	struct rc_link *l = lp;
	int ret;

	ret = ringcast_pub_wait_subscribers(l->pub, l->nsubs,
					    10ll * 1000 * 1000 * 1000);
	return ret < 0 ? ret : 0;
}

static int rc_send(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct rc_link *l = lp;
	int ret;

	if (n == 1)
		ret = ringcast_pub_publish(l->pub, msgs[0].type, msgs[0].data,
					   msgs[0].len);
	else
		ret = ringcast_pub_publish_batch(
			l->pub, (const struct ringcast_msg *)msgs, n);
	return ret < 0 ? ret : 0;
}

static int rc_reserve(void *lp, size_t len, void **buf)
{
	struct rc_link *l = lp;

	return ringcast_pub_reserve(l->pub, len, buf);
}

static int rc_commit(void *lp, size_t len)
{
	struct rc_link *l = lp;
	int ret = ringcast_pub_commit(l->pub, 1, len);

	return ret < 0 ? ret : 0;
}

static int rc_reserve_batch(void *lp, unsigned int n, size_t len, void **bufs)
{
	struct rc_link *l = lp;

	return ringcast_pub_reserve_batch(l->pub, n, len, bufs);
}

static int rc_commit_batch(void *lp, unsigned int n, size_t len)
{
	struct rc_link *l = lp;
	struct ringcast_msg msgs[MAX_BATCH];
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++)
		msgs[i] = (struct ringcast_msg){ .type = 1,
						 .len = (uint32_t)len };
	ret = ringcast_pub_commit_batch(l->pub, msgs, n);
	return ret < 0 ? ret : 0;
}

static int rc_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct rc_link *l = lp;
	struct ringcast_event ev;
	int ret;

	if (l->mode == RC_ZERO_COPY)
		ret = ringcast_sub_borrow(l->sub, &ev, -1);
	else
		ret = ringcast_sub_next(l->sub, &ev, -1);
	if (ret == -EOVERFLOW)
		m->lost = ev.lost;
	if (ret < 0)
		return ret;
	m->data = ev.data;
	m->len = ev.len;
	return 0;
}

static int rc_release(void *lp, unsigned int idx, struct rx *m)
{
	struct rc_link *l = lp;
	struct ringcast_event ev = { 0 };
	int ret = ringcast_sub_release(l->sub, &ev);

	if (ret == -EOVERFLOW)
		m->lost = ev.lost;
	return ret;
}

static int rc_pub_close(void *lp)
{
	struct rc_link *l = lp;
	struct ringcast_ring_stats info;
	int ret;

	if (!l->pub)
		return 0;
	if (!ringcast_ring_get_stats(l->name, &info) && info.published)
		l->wakes = (double)info.wakes / (double)info.published;
	ret = ringcast_pub_close(l->pub);
	l->pub = NULL;
	return ret;
}

static void rc_sub_close(void *lp, unsigned int idx)
{
	struct rc_link *l = lp;

	ringcast_sub_detach(l->sub);
	l->sub = NULL;
}

static void rc_destroy(void *lp, bool creator)
{
	struct rc_link *l = lp;

	if (l->pub)
		ringcast_pub_detach(l->pub);
	ringcast_sub_detach(l->sub);
	if (creator && l->made)
		ringcast_ring_remove_force(l->name);
	free(l);
}

static void rc_stats(void *lp, struct bench_result *res)
{
	struct rc_link *l = lp;

	res->wakes_per_event = l->wakes;
}

#define RC_COMMON                                                            \
	.skip = rc_skip, .sub_open = rc_sub_open, .pub_open = rc_pub_open,   \
	.pub_sync = rc_pub_sync, .recv = rc_recv, .pub_close = rc_pub_close, \
	.sub_close = rc_sub_close, .destroy = rc_destroy, .stats = rc_stats

const struct transport t_ringcast_lossy_busy = {
	.name = "ringcast-lossy-busy",
	.flags = T_BUSY | T_RING,
	.create = rc_create_lossy_busy,
	.send = rc_send,
	RC_COMMON,
};

const struct transport t_ringcast_lossy_sleep = {
	.name = "ringcast-lossy-sleep",
	.flags = T_SLEEP | T_RING,
	.create = rc_create_lossy_sleep,
	.send = rc_send,
	RC_COMMON,
};

const struct transport t_ringcast_reliable = {
	.name = "ringcast-reliable",
	.flags = T_RING,
	.create = rc_create_reliable,
	.send = rc_send,
	.churn = rc_churn,
	RC_COMMON,
};

const struct transport t_ringcast_zero_copy = {
	.name = "ringcast-zero-copy",
	.flags = T_RING,
	.create = rc_create_zero_copy,
	.reserve = rc_reserve,
	.commit = rc_commit,
	.reserve_batch = rc_reserve_batch,
	.commit_batch = rc_commit_batch,
	.release = rc_release,
	RC_COMMON,
};

const struct transport t_ringcast_nodata = {
	.name = "ringcast-nodata",
	.flags = T_RING,
	.create = rc_create_nodata,
	.skip = rc_skip_nodata,
	.sub_open = rc_sub_open,
	.pub_open = rc_pub_open,
	.pub_sync = rc_pub_sync,
	.send = rc_send,
	.recv = rc_recv,
	.pub_close = rc_pub_close,
	.sub_close = rc_sub_close,
	.destroy = rc_destroy,
	.stats = rc_stats,
};

const struct transport t_ringcast_data = {
	.name = "ringcast-data",
	.flags = T_RING,
	.create = rc_create_data,
	.skip = rc_skip_data,
	.sub_open = rc_sub_open,
	.pub_open = rc_pub_open,
	.pub_sync = rc_pub_sync,
	.send = rc_send,
	.recv = rc_recv,
	.pub_close = rc_pub_close,
	.sub_close = rc_sub_close,
	.destroy = rc_destroy,
	.stats = rc_stats,
};
