// SPDX-License-Identifier: MIT
/*
 * t_iceoryx.c - iceoryx 2.0 through its C binding (the iceoryx peer
 * executable); needs the iox-roudi daemon, which ringcast-bench starts.
 *
 * iceoryx is zero-copy: the publisher loans a chunk, fills it in place and
 * publishes it; a subscriber takes the chunk, reads it in place and
 * releases it.  Lossless: the publisher waits for a full subscriber queue
 * (ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER, QueueFullPolicy_BLOCK_PRODUCER),
 * queues of up to 256 chunks (the most iceoryx allows; fewer for large
 * payloads, see queue_for()); a publisher that finds
 * RouDi's pool empty yields until readers release chunks.  Sleeping readers wait
 * on a WaitSet (HAS_DATA); busy readers poll iox_sub_take_chunk().
 * Subscribers count themselves in a shared counter once iceoryx reports
 * them subscribed; the publisher starts when all are.  The end of the
 * stream is a chunk whose index word is all ones.  Every process
 * registers with RouDi under its own name and ends with exit(), so that it
 * is unregistered.  Mixed sizes (harness.h): each chunk is loaned at the
 * message's size, with a user header that carries that size (the C
 * binding does not tell a subscriber the size of a chunk's payload).
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The binding's headers declare "void f()": not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "iceoryx_binding_c/chunk.h"
#include "iceoryx_binding_c/enums.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"
#include "iceoryx_binding_c/subscriber.h"
#include "iceoryx_binding_c/types.h"
#include "iceoryx_binding_c/wait_set.h"
#pragma GCC diagnostic pop

#include "harness.h"

#define IOX_SYNC_NS (20ull * 1000 * 1000 * 1000)
#define IOX_END UINT64_MAX
/* iceoryx 2.0's build default (iceoryx_posh_deployment.hpp). */
#define IOX_SUBS_MAX 256u

struct iox_link {
	const struct bench_cfg *cfg;
	unsigned int n;
	char instance[64];
	_Atomic uint32_t *subscribed; /* shared: subscribers connected */
	iox_pub_storage_t pub_st;
	iox_pub_t pub;
	iox_sub_storage_t sub_st;
	iox_sub_t sub;
	iox_ws_storage_t ws_st;
	iox_ws_t ws;
	void *loaned;
	const void *taken;
};

static void runtime_init(void)
{
	static bool done;
	char name[64];

	if (done)
		return;
	snprintf(name, sizeof(name), "ringcast-bench-%d", (int)getpid());
	iox_runtime_init(name);
	done = true;
}

static const char *iox_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if (access("/tmp/roudi", F_OK) < 0) {
		snprintf(buf, len, "the iox-roudi daemon is not running");
		return buf;
	}
	if (cfg->size > (4u << 20)) {
		snprintf(buf, len, "payload above RouDi's largest chunk");
		return buf;
	}
	if (cfg->nsubs > IOX_SUBS_MAX) {
		snprintf(buf, len,
			 "above iceoryx's %u subscribers per publisher "
			 "(IOX_MAX_SUBSCRIBERS_PER_PUBLISHER)",
			 IOX_SUBS_MAX);
		return buf;
	}
	return NULL;
}

static int iox_create(void **lp, const struct bench_cfg *cfg, const char *tag,
		      unsigned int nsubs)
{
	struct iox_link *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->subscribed = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->subscribed == MAP_FAILED) {
		free(l);
		return -ENOMEM;
	}
	l->cfg = cfg;
	l->n = nsubs;
	snprintf(l->instance, sizeof(l->instance), "%s", tag);
	*lp = l;
	return 0;
}

/*
 * A subscriber queue that RouDi's default pool can fill: 10000 chunks up
 * to 128 B, 5000 to 1 KiB, 1000 to 16 KiB, 200 to 128 KiB, 50 to 512 KiB,
 * 30 to 1 MiB (each with a 40-byte header).  Half the pool at most, so
 * that the publisher finds a chunk without waiting.
 */
static uint64_t queue_for(uint32_t size)
{
	if (size <= 16384 - 64)
		return 256;
	if (size <= 131072 - 64)
		return 100;
	if (size <= 524288 - 64)
		return 25;
	return 15;
}

static int iox_sub_open(void *lp, unsigned int idx)
{
	struct iox_link *l = lp;
	iox_sub_options_t o;

	runtime_init();
	iox_sub_options_init(&o);
	o.queueCapacity = queue_for(l->cfg->size);
	o.historyRequest = 0;
	o.subscribeOnCreate = true;
	o.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	l->sub = iox_sub_init(&l->sub_st, "ringcast-bench", l->instance,
			      "events", &o);
	if (!l->sub)
		return -EIO;
	if (!l->cfg->busy) {
		l->ws = iox_ws_init(&l->ws_st);
		if (!l->ws)
			return -EIO;
		if (iox_ws_attach_subscriber_state(
			    l->ws, l->sub, SubscriberState_HAS_DATA, 0, NULL) !=
		    WaitSetResult_SUCCESS)
			return -EIO;
	}
	return 0;
}

static int poll_until(bool (*done)(struct iox_link *), struct iox_link *l)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	uint64_t end = now_ns() + IOX_SYNC_NS;

	while (!done(l)) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static bool sub_is_subscribed(struct iox_link *l)
{
	return iox_sub_get_subscription_state(l->sub) ==
	       SubscribeState_SUBSCRIBED;
}

static bool all_subscribed(struct iox_link *l)
{
	return atomic_load(l->subscribed) >= l->n;
}

static int iox_sub_sync(void *lp, unsigned int idx)
{
	struct iox_link *l = lp;
	int ret = poll_until(sub_is_subscribed, l);

	if (!ret)
		atomic_fetch_add(l->subscribed, 1);
	return ret;
}

static int iox_pub_open(void *lp)
{
	struct iox_link *l = lp;
	iox_pub_options_t o;

	runtime_init();
	iox_pub_options_init(&o);
	o.historyCapacity = 0;
	o.offerOnCreate = true;
	o.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	l->pub = iox_pub_init(&l->pub_st, "ringcast-bench", l->instance,
			      "events", &o);
	return l->pub ? 0 : -EIO;
}

static int iox_pub_sync(void *lp)
{
	return poll_until(all_subscribed, lp);
}

static int iox_reserve(void *lp, size_t len, void **buf)
{
	struct iox_link *l = lp;
	enum iox_AllocationResult r;

	/*
	 * RouDi's pool of large chunks is smaller than a subscriber queue
	 * (200 chunks of 128 KiB by default): wait for readers to release.
	 */
	for (;;) {
		if (l->cfg->mix)
			r = iox_pub_loan_aligned_chunk_with_user_header(
				l->pub, &l->loaned, (uint32_t)len, 8,
				sizeof(uint32_t), sizeof(uint32_t));
		else
			r = iox_pub_loan_chunk(l->pub, &l->loaned,
					       (uint32_t)len);
		if (r != AllocationResult_RUNNING_OUT_OF_CHUNKS)
			break;
		sched_yield();
	}
	if (r != AllocationResult_SUCCESS)
		return -ENOBUFS;
	if (l->cfg->mix) {
		uint32_t n = (uint32_t)len;

		memcpy(iox_chunk_header_to_user_header(
			       iox_chunk_header_from_user_payload(l->loaned)),
		       &n, sizeof(n));
	}
	*buf = l->loaned;
	return 0;
}

static int iox_commit(void *lp, size_t len)
{
	struct iox_link *l = lp;

	iox_pub_publish_chunk(l->pub, l->loaned);
	l->loaned = NULL;
	return 0;
}

static int iox_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct iox_link *l = lp;
	iox_notification_info_t info[1];
	uint64_t missed, first;

	for (;;) {
		enum iox_ChunkReceiveResult r =
			iox_sub_take_chunk(l->sub, &l->taken);

		if (r == ChunkReceiveResult_SUCCESS)
			break;
		if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE)
			return -EIO;
		if (l->ws)
			iox_ws_wait(l->ws, info, 1, &missed);
		else
			cpu_relax();
	}
	memcpy(&first, l->taken, sizeof(first));
	if (first == IOX_END) {
		iox_sub_release_chunk(l->sub, l->taken);
		l->taken = NULL;
		return -EPIPE;
	}
	m->data = l->taken;
	m->len = l->cfg->size;
	if (l->cfg->mix) {
		uint32_t n;

		memcpy(&n,
		       iox_chunk_header_to_user_header_const(
			       iox_chunk_header_from_user_payload_const(
				       l->taken)),
		       sizeof(n));
		m->len = n;
	}
	return 0;
}

static int iox_release(void *lp, unsigned int idx, struct rx *m)
{
	struct iox_link *l = lp;

	iox_sub_release_chunk(l->sub, l->taken);
	l->taken = NULL;
	return 0;
}

static int iox_pub_close(void *lp)
{
	struct iox_link *l = lp;
	uint64_t end = IOX_END;
	void *p;
	int ret;

	if (!l->pub)
		return 0;
	ret = iox_reserve(l, l->cfg->size, &p);
	if (ret < 0)
		return ret;
	memcpy(p, &end, sizeof(end));
	return iox_commit(l, l->cfg->size);
}

static void iox_sub_close(void *lp, unsigned int idx)
{
}

static void iox_destroy(void *lp, bool creator)
{
	struct iox_link *l = lp;

	if (l->ws)
		iox_ws_deinit(l->ws);
	if (l->sub)
		iox_sub_deinit(l->sub);
	if (l->pub)
		iox_pub_deinit(l->pub);
	munmap((void *)l->subscribed, 4096);
	free(l);
}

const struct transport t_iceoryx = {
	.name = "iceoryx",
	.flags = T_EXIT,
	.skip = iox_skip,
	.create = iox_create,
	.sub_open = iox_sub_open,
	.sub_sync = iox_sub_sync,
	.pub_open = iox_pub_open,
	.pub_sync = iox_pub_sync,
	.reserve = iox_reserve,
	.commit = iox_commit,
	.recv = iox_recv,
	.release = iox_release,
	.pub_close = iox_pub_close,
	.sub_close = iox_sub_close,
	.destroy = iox_destroy,
};
