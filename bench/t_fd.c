// SPDX-License-Identifier: MIT
/*
 * t_fd.c - the kernel's byte and packet channels, one per subscriber:
 *
 *   pipe            pipe2(): one write(2) per message and subscriber, the
 *                   reader reads exactly one message (looping on short reads)
 *   unix-stream     socketpair(AF_UNIX, SOCK_STREAM), the same way
 *   unix-seqpacket  socketpair(AF_UNIX, SOCK_SEQPACKET): one send(2) and
 *                   one recv(2) per message, boundaries kept by the kernel
 *
 * Fan-out writes each message to every subscriber's channel in turn, as a
 * user would.  Busy readers (ping-pong) poll with O_NONBLOCK.
 *
 * Mixed sizes (harness.h): over a pipe or a stream socket each message is
 * framed by its length (4 bytes, native order) and written with one
 * writev(2); the reader reads as much as there is into a buffer and takes
 * the messages out of it in place (a buffered reader, the way a user
 * reads framed messages from a stream).  A sequenced-packet socket keeps
 * the boundaries itself: nothing changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"

enum fd_kind { FD_PIPE, FD_STREAM, FD_SEQPACKET };

struct fd_link {
	const struct bench_cfg *cfg;
	enum fd_kind kind;
	unsigned int n;
	int rfd[MAX_SUBS];
	int wfd[MAX_SUBS];
	unsigned char *buf;
	/* Framed (mixed sizes): the buffered reader's state. */
	bool framed;
	size_t buflen, rpos, rend;
};

#define FD_FRAME 4u
/* A framed reader's buffer holds the largest message and this much more. */
#define FD_READ_AHEAD 65536u

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Descriptors of the runner beside its channels (pipes, the shm, stdio). */
#define FD_SPARE 64u

static const char *fd_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	uint64_t lim = bench_raise_nofile(); /* bench_run() raised it */

	if (2ull * cfg->nsubs + FD_SPARE > lim) {
		snprintf(buf, len,
			 "%u subscribers need %u descriptors, RLIMIT_NOFILE "
			 "allows %llu",
			 cfg->nsubs, 2 * cfg->nsubs + FD_SPARE,
			 (unsigned long long)lim);
		return buf;
	}
	return NULL;
}

static int fd_create(void **lp, const struct bench_cfg *cfg, enum fd_kind kind,
		     unsigned int nsubs)
{
	struct fd_link *l;
	unsigned int k;
	int ret = 0;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	l->kind = kind;
	l->framed = cfg->mix && kind != FD_SEQPACKET;
	for (k = 0; k < MAX_SUBS; k++)
		l->rfd[k] = l->wfd[k] = -1;
	for (k = 0; k < nsubs; k++) {
		int fds[2];

		if (kind == FD_PIPE)
			ret = pipe2(fds, O_CLOEXEC);
		else
			ret = socketpair(AF_UNIX,
					 (kind == FD_STREAM ? SOCK_STREAM :
							      SOCK_SEQPACKET) |
						 SOCK_CLOEXEC,
					 0, fds);
		if (ret < 0) {
			ret = -errno;
			goto err_close;
		}
		l->rfd[k] = fds[0];
		l->wfd[k] = fds[1];
		l->n = k + 1;
	}
	*lp = l;
	return 0;

err_close:
	for (k = 0; k < l->n; k++) {
		close_fd(&l->rfd[k]);
		close_fd(&l->wfd[k]);
	}
	free(l);
	return ret;
}

static int fd_create_pipe(void **lp, const struct bench_cfg *cfg,
			  const char *tag, unsigned int nsubs)
{
	return fd_create(lp, cfg, FD_PIPE, nsubs);
}

static int fd_create_stream(void **lp, const struct bench_cfg *cfg,
			    const char *tag, unsigned int nsubs)
{
	return fd_create(lp, cfg, FD_STREAM, nsubs);
}

static int fd_create_seqpacket(void **lp, const struct bench_cfg *cfg,
			       const char *tag, unsigned int nsubs)
{
	return fd_create(lp, cfg, FD_SEQPACKET, nsubs);
}

static int fd_sub_open(void *lp, unsigned int idx)
{
	struct fd_link *l = lp;
	unsigned int k;

	/* Only the publisher may hold write ends, or EOF never comes. */
	for (k = 0; k < l->n; k++) {
		close_fd(&l->wfd[k]);
		if (k != idx)
			close_fd(&l->rfd[k]);
	}
	l->buflen = l->framed ? FD_FRAME + l->cfg->size + FD_READ_AHEAD :
				l->cfg->size + 1;
	l->buf = malloc(l->buflen);
	if (!l->buf)
		return -ENOMEM;
	if (l->cfg->busy && fcntl(l->rfd[idx], F_SETFL,
				  fcntl(l->rfd[idx], F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int fd_pub_open(void *lp)
{
	struct fd_link *l = lp;
	unsigned int k;

	for (k = 0; k < l->n; k++)
		close_fd(&l->rfd[k]);
	return 0;
}

/* One framed message: its length, then its bytes, in one writev(2). */
static int fd_send_framed(int fd, const struct txmsg *m)
{
	uint32_t len = m->len;
	struct iovec iov[2] = {
		{ .iov_base = &len, .iov_len = FD_FRAME },
		{ .iov_base = (void *)m->data, .iov_len = m->len },
	};
	size_t total = FD_FRAME + m->len;
	ssize_t w;

	do
		w = writev(fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if ((size_t)w == total)
		return 0;
	/* A short write (a signal): the rest as plain writes. */
	if ((size_t)w < FD_FRAME) {
		int ret =
			write_full(fd, (char *)&len + w, FD_FRAME - (size_t)w);

		if (ret < 0)
			return ret;
		w = FD_FRAME;
	}
	return write_full(fd, (const char *)m->data + (w - FD_FRAME),
			  total - (size_t)w);
}

static int fd_send(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct fd_link *l = lp;
	unsigned int i, k;
	int ret;

	for (i = 0; i < n; i++) {
		for (k = 0; k < l->n; k++) {
			if (l->framed) {
				ret = fd_send_framed(l->wfd[k], &msgs[i]);
				if (ret < 0)
					return ret;
				continue;
			}
			if (l->kind != FD_SEQPACKET) {
				ret = write_full(l->wfd[k], msgs[i].data,
						 msgs[i].len);
				if (ret < 0)
					return ret;
				continue;
			}
			while (send(l->wfd[k], msgs[i].data, msgs[i].len, 0) <
			       0)
				if (errno != EINTR)
					return -errno;
		}
	}
	return 0;
}

/* The next framed message, read in place from the buffer. */
static int fd_recv_framed(struct fd_link *l, int fd, struct rx *m)
{
	uint32_t len;
	ssize_t r;

	for (;;) {
		size_t have = l->rend - l->rpos;

		if (have >= FD_FRAME) {
			memcpy(&len, l->buf + l->rpos, FD_FRAME);
			if (len > l->cfg->size)
				return -EBADMSG;
			if (have >= FD_FRAME + len) {
				m->data = l->buf + l->rpos + FD_FRAME;
				m->len = len;
				l->rpos += FD_FRAME + len;
				return 0;
			}
		}
		/* Too little: move it to the front, and read more. */
		if (l->rpos) {
			memmove(l->buf, l->buf + l->rpos, have);
			l->rpos = 0;
			l->rend = have;
		}
		r = read(fd, l->buf + l->rend, l->buflen - l->rend);
		if (r < 0) {
			if (errno == EAGAIN)
				cpu_relax();
			else if (errno != EINTR)
				return -errno;
			continue;
		}
		if (r == 0)
			return have ? -EBADMSG : -EPIPE;
		l->rend += (size_t)r;
	}
}

static int fd_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct fd_link *l = lp;
	size_t want = l->cfg->size, got = 0;
	int fd = l->rfd[idx];
	ssize_t r;

	if (l->framed)
		return fd_recv_framed(l, fd, m);
	while (got < want) {
		if (l->kind == FD_SEQPACKET)
			r = recv(fd, l->buf, want + 1, 0);
		else
			r = read(fd, l->buf + got, want - got);
		if (r < 0) {
			if (errno == EAGAIN) {
				cpu_relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return got ? -EBADMSG : -EPIPE;
		got += (size_t)r;
		if (l->kind == FD_SEQPACKET)
			break;
	}
	m->data = l->buf;
	m->len = got;
	return 0;
}

static int fd_pub_close(void *lp)
{
	struct fd_link *l = lp;
	unsigned int k;

	for (k = 0; k < l->n; k++)
		close_fd(&l->wfd[k]);
	return 0;
}

static void fd_sub_close(void *lp, unsigned int idx)
{
	struct fd_link *l = lp;

	close_fd(&l->rfd[idx]);
}

static void fd_destroy(void *lp, bool creator)
{
	struct fd_link *l = lp;
	unsigned int k;

	for (k = 0; k < l->n; k++) {
		close_fd(&l->rfd[k]);
		close_fd(&l->wfd[k]);
	}
	free(l->buf);
	free(l);
}

#define FD_COMMON                                                          \
	.skip = fd_skip, .sub_open = fd_sub_open, .pub_open = fd_pub_open, \
	.send = fd_send, .recv = fd_recv, .pub_close = fd_pub_close,       \
	.sub_close = fd_sub_close, .destroy = fd_destroy

const struct transport t_pipe = {
	.name = "pipe",
	.create = fd_create_pipe,
	FD_COMMON,
};

const struct transport t_unix_stream = {
	.name = "unix-stream",
	.create = fd_create_stream,
	FD_COMMON,
};

const struct transport t_unix_seqpacket = {
	.name = "unix-seqpacket",
	.create = fd_create_seqpacket,
	FD_COMMON,
};
