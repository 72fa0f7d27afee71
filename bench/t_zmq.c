// SPDX-License-Identifier: MIT
/*
 * t_zmq.c - ZeroMQ PUB/SUB over ipc:// (the zeromq peer executable).
 *
 * The publisher's XPUB socket binds an ipc:// endpoint in /tmp; each
 * subscriber's SUB socket connects to it (retrying every millisecond until
 * it is bound) and subscribes to everything.  Before the first message the
 * publisher waits until it has received every subscription (XPUB_VERBOSE),
 * so that no message is dropped by a slow join.  (The other way round, SUB
 * binding and XPUB connecting, a SUB whose thread is busy elsewhere never
 * sends its subscription: a socket handles a new connection only when its
 * own thread calls it.)  High-water marks are 0 (unlimited) on both sides, so PUB/SUB does
 * not drop messages: the comparison is lossless, as for pipes.  One
 * zmq_send() per message (ZeroMQ batches internally); the end of the stream
 * is an empty message.  Busy readers poll with ZMQ_DONTWAIT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"

struct zmq_link {
	const struct bench_cfg *cfg;
	unsigned int n;
	char ep[96];
	void *ctx;
	void *pub;
	void *sub;
	zmq_msg_t msg;
	bool have_msg;
};

/*
 * Every subscriber process is a ZeroMQ context with its I/O thread: 1024
 * of them did not finish a run within its 60 s timeout on two CPUs.
 */
#define ZMQ_SUBS_MAX 256u

static const char *zmq_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if (cfg->nsubs > ZMQ_SUBS_MAX) {
		snprintf(buf, len,
			 "above %u subscriber processes (a context and an I/O "
			 "thread each; 1024 timed out)",
			 ZMQ_SUBS_MAX);
		return buf;
	}
	return NULL;
}

static int zmq_create(void **lp, const struct bench_cfg *cfg, const char *tag,
		      unsigned int nsubs)
{
	struct zmq_link *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	l->n = nsubs;
	snprintf(l->ep, sizeof(l->ep), "ipc:///tmp/%s.ipc", tag);
	*lp = l;
	return 0;
}

static int zerr(void)
{
	return errno ? -errno : -EIO;
}

static int zmq_sub_open(void *lp, unsigned int idx)
{
	struct zmq_link *l = lp;
	int zero = 0, ivl = 1;

	l->ctx = zmq_ctx_new();
	if (!l->ctx)
		return zerr();
	l->sub = zmq_socket(l->ctx, ZMQ_SUB);
	if (!l->sub)
		return zerr();
	if (zmq_setsockopt(l->sub, ZMQ_RCVHWM, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(l->sub, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(l->sub, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) < 0 ||
	    zmq_setsockopt(l->sub, ZMQ_SUBSCRIBE, "", 0) < 0 ||
	    zmq_connect(l->sub, l->ep) < 0)
		return zerr();
	return 0;
}

static int zmq_pub_open(void *lp)
{
	struct zmq_link *l = lp;
	int zero = 0, one = 1, tmo = 10000;

	l->ctx = zmq_ctx_new();
	if (!l->ctx)
		return zerr();
	l->pub = zmq_socket(l->ctx, ZMQ_XPUB);
	if (!l->pub)
		return zerr();
	if (zmq_setsockopt(l->pub, ZMQ_SNDHWM, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(l->pub, ZMQ_XPUB_VERBOSE, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(l->pub, ZMQ_RCVTIMEO, &tmo, sizeof(tmo)) < 0 ||
	    zmq_bind(l->pub, l->ep) < 0)
		return zerr();
	return 0;
}

/* Every subscriber's subscription has reached the publisher. */
static int zmq_pub_sync(void *lp)
{
	struct zmq_link *l = lp;
	unsigned int k;
	char buf[16];

	for (k = 0; k < l->n; k++) {
		int r = zmq_recv(l->pub, buf, sizeof(buf), 0);

		if (r < 0)
			return zerr();
		if (r < 1 || buf[0] != 1)
			k--; /* not a subscription */
	}
	return 0;
}

static int zmq_send_msgs(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct zmq_link *l = lp;
	unsigned int i;

	for (i = 0; i < n; i++)
		while (zmq_send(l->pub, msgs[i].data, msgs[i].len, 0) < 0)
			if (errno != EINTR)
				return zerr();
	return 0;
}

static int zmq_recv_msg(void *lp, unsigned int idx, struct rx *m)
{
	struct zmq_link *l = lp;
	int flags = l->cfg->busy ? ZMQ_DONTWAIT : 0;

	if (l->have_msg)
		zmq_msg_close(&l->msg);
	zmq_msg_init(&l->msg);
	l->have_msg = true;
	while (zmq_msg_recv(&l->msg, l->sub, flags) < 0) {
		if (errno == EAGAIN)
			cpu_relax();
		else if (errno != EINTR)
			return zerr();
	}
	if (!zmq_msg_size(&l->msg))
		return -EPIPE;
	m->data = zmq_msg_data(&l->msg);
	m->len = zmq_msg_size(&l->msg);
	return 0;
}

static int zmq_pub_close(void *lp)
{
	struct zmq_link *l = lp;

	if (!l->pub)
		return 0;
	if (zmq_send(l->pub, "", 0, 0) < 0)
		return zerr();
	return 0;
}

static void zmq_sub_close(void *lp, unsigned int idx)
{
	struct zmq_link *l = lp;

	if (l->have_msg)
		zmq_msg_close(&l->msg);
	l->have_msg = false;
}

static void zmq_destroy(void *lp, bool creator)
{
	struct zmq_link *l = lp;

	if (l->have_msg)
		zmq_msg_close(&l->msg);
	if (l->sub)
		zmq_close(l->sub);
	if (l->pub)
		zmq_close(l->pub); /* lingers until the end is delivered */
	if (l->ctx)
		zmq_ctx_term(l->ctx);
	if (creator)
		unlink(l->ep + strlen("ipc://"));
	free(l);
}

const struct transport t_zeromq = {
	.name = "zeromq",
	.flags = 0,
	.skip = zmq_skip,
	.create = zmq_create,
	.sub_open = zmq_sub_open,
	.pub_open = zmq_pub_open,
	.pub_sync = zmq_pub_sync,
	.send = zmq_send_msgs,
	.recv = zmq_recv_msg,
	.pub_close = zmq_pub_close,
	.sub_close = zmq_sub_close,
	.destroy = zmq_destroy,
};
