// SPDX-License-Identifier: MIT
/*
 * t_mq.c - POSIX message queues, one per subscriber (mq_send/mq_receive
 * of one message each).  A queue holds the system's msg_max messages (10
 * by default) of exactly the payload size; payloads above msgsize_max
 * (/proc/sys/fs/mqueue, 8192 by default) are skipped with that reason: the
 * harness does not change system settings.  The soft RLIMIT_MSGQUEUE is
 * raised to the hard one for many subscribers.  The end of the stream is
 * an empty message.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

struct mq_link {
	const struct bench_cfg *cfg;
	unsigned int n;
	mqd_t q[MAX_SUBS];
	char names[MAX_SUBS][64];
	char *buf;
	size_t buflen;
};

static long read_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/*
 * The queues of a run against the system's limits: queues_max (for all
 * users, unless the runner has CAP_SYS_RESOURCE: tried by the create) and
 * the bytes of RLIMIT_MSGQUEUE (its hard limit; the kernel charges each
 * queue msg_max * (msgsize + about 90 bytes of bookkeeping)).
 */
static bool mq_too_many(const struct bench_cfg *cfg, char *buf, size_t len)
{
	long qmax = read_long("/proc/sys/fs/mqueue/queues_max", 256);
	long mmax = read_long("/proc/sys/fs/mqueue/msg_max", 10);
	uint64_t bytes = (uint64_t)cfg->nsubs * (uint64_t)mmax *
			 ((uint64_t)cfg->size + 96);
	struct rlimit rl;

	if (geteuid() && cfg->nsubs > qmax) {
		snprintf(buf, len,
			 "%u queues, above the system's mq queues_max (%ld)",
			 cfg->nsubs, qmax);
		return true;
	}
	if (!getrlimit(RLIMIT_MSGQUEUE, &rl) && rl.rlim_max != RLIM_INFINITY &&
	    bytes > rl.rlim_max) {
		snprintf(buf, len,
			 "%u queues of %ld messages need about %llu bytes, "
			 "RLIMIT_MSGQUEUE allows %llu",
			 cfg->nsubs, mmax, (unsigned long long)bytes,
			 (unsigned long long)rl.rlim_max);
		return true;
	}
	return false;
}

static const char *mq_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	long max = read_long("/proc/sys/fs/mqueue/msgsize_max", 8192);

	if (cfg->size > max) {
		snprintf(buf, len,
			 "payload above the system's mq msgsize_max (%ld)",
			 max);
		return buf;
	}
	if (mq_too_many(cfg, buf, len))
		return buf;
	return NULL;
}

static int mq_create(void **lp, const struct bench_cfg *cfg, const char *tag,
		     unsigned int nsubs)
{
	struct mq_attr attr = {
		.mq_maxmsg = read_long("/proc/sys/fs/mqueue/msg_max", 10),
		.mq_msgsize = cfg->size,
	};
	struct rlimit rl;
	struct mq_link *l;
	unsigned int k;
	int ret;

	if (!getrlimit(RLIMIT_MSGQUEUE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	for (k = 0; k < nsubs; k++) {
		snprintf(l->names[k], sizeof(l->names[k]), "/%s-%u", tag, k);
		l->q[k] = mq_open(l->names[k],
				  O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
				  &attr);
		if (l->q[k] == (mqd_t)-1) {
			ret = -errno;
			goto err_close;
		}
		l->n = k + 1;
	}
	l->buflen = (size_t)attr.mq_msgsize;
	*lp = l;
	return 0;

err_close:
	for (k = 0; k < l->n; k++) {
		mq_close(l->q[k]);
		mq_unlink(l->names[k]);
	}
	free(l);
	return ret;
}

static int mq_sub_open(void *lp, unsigned int idx)
{
	struct mq_link *l = lp;
	unsigned int k;

	for (k = 0; k < l->n; k++) {
		if (k != idx) {
			mq_close(l->q[k]);
			l->q[k] = (mqd_t)-1;
		}
	}
	l->buf = malloc(l->buflen);
	if (!l->buf)
		return -ENOMEM;
	if (l->cfg->busy) {
		struct mq_attr a = { .mq_flags = O_NONBLOCK };

		if (mq_setattr(l->q[idx], &a, NULL) < 0)
			return -errno;
	}
	return 0;
}

static int mq_pub_open(void *lp)
{
	return 0;
}

static int mq_send_all(struct mq_link *l, const void *data, size_t len)
{
	unsigned int k;

	for (k = 0; k < l->n; k++)
		while (mq_send(l->q[k], data, len, 0) < 0) {
			/* A busy reader made the shared description
			 * non-blocking. */
			if (errno == EAGAIN)
				cpu_relax();
			else if (errno != EINTR)
				return -errno;
		}
	return 0;
}

static int mq_send_msgs(void *lp, const struct txmsg *msgs, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = mq_send_all(lp, msgs[i].data, msgs[i].len);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int mq_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct mq_link *l = lp;
	ssize_t r;

	for (;;) {
		r = mq_receive(l->q[idx], l->buf, l->buflen, NULL);
		if (r >= 0)
			break;
		if (errno == EAGAIN)
			cpu_relax();
		else if (errno != EINTR)
			return -errno;
	}
	if (r == 0)
		return -EPIPE;
	m->data = l->buf;
	m->len = (size_t)r;
	return 0;
}

static int mq_pub_close(void *lp)
{
	return mq_send_all(lp, "", 0);
}

static void mq_sub_close(void *lp, unsigned int idx)
{
}

static void mq_destroy(void *lp, bool creator)
{
	struct mq_link *l = lp;
	unsigned int k;

	for (k = 0; k < l->n; k++) {
		if (l->q[k] != (mqd_t)-1)
			mq_close(l->q[k]);
		if (creator)
			mq_unlink(l->names[k]);
	}
	free(l->buf);
	free(l);
}

const struct transport t_mq = {
	.name = "mq",
	.skip = mq_skip,
	.create = mq_create,
	.sub_open = mq_sub_open,
	.pub_open = mq_pub_open,
	.send = mq_send_msgs,
	.recv = mq_recv,
	.pub_close = mq_pub_close,
	.sub_close = mq_sub_close,
	.destroy = mq_destroy,
};
