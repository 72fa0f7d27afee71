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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
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
	l->buf = malloc(l->cfg->size + 1);
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

static int fd_send(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct fd_link *l = lp;
	unsigned int i, k;
	int ret;

	for (i = 0; i < n; i++) {
		for (k = 0; k < l->n; k++) {
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

static int fd_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct fd_link *l = lp;
	size_t want = l->cfg->size, got = 0;
	int fd = l->rfd[idx];
	ssize_t r;

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

#define FD_COMMON                                                              \
	.sub_open = fd_sub_open, .pub_open = fd_pub_open, .send = fd_send,     \
	.recv = fd_recv, .pub_close = fd_pub_close, .sub_close = fd_sub_close, \
	.destroy = fd_destroy

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
