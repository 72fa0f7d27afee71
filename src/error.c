// SPDX-License-Identifier: MIT
/*
 * Error names (docs/design.md §6) and the thread's last validation detail.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "map.h"

static __thread char rc_detail[256];

void rc_set_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rc_detail, sizeof(rc_detail), fmt, ap);
	va_end(ap);
}

RINGCAST_API const char *ringcast_errdetail(void)
{
	return rc_detail;
}

static const struct {
	int err;
	const char *msg;
} rc_errors[] = {
	{ EINVAL, "bad argument or ring name" },
	{ ENOENT, "no such ring" },
	{ EEXIST, "a ring of that name exists" },
	{ EACCES, "permission denied" },
	{ ENOSPC, "no room for the ring in its directory" },
	{ EPROTO, "not a ringcast ring, or an incompatible version" },
	{ EBADMSG, "the ring is corrupted" },
	{ EMSGSIZE, "payload larger than the slot allows" },
	{ EBUSY, "the ring is in use by a live publisher or participant" },
	{ EUSERS, "the subscriber table is full" },
	{ EAGAIN, "nothing ready" },
	{ ETIMEDOUT, "timed out" },
	{ EINTR, "interrupted" },
	{ ECANCELED, "the subscription was closed" },
	{ EOVERFLOW, "events were lost: the subscriber was lapped" },
	{ ESTALE, "the subscriber was demoted to lossy" },
	{ ERANGE, "the sequence is no longer retained" },
	{ EPIPE, "the ring is closed" },
	{ EOWNERDEAD, "the publisher died" },
	{ EIDRM, "the ring was removed" },
	{ ESHUTDOWN, "the TypeMux was stopped" },
	{ EDEADLK, "called from inside a delivery" },
	{ ENOBUFS, "the buffer cannot hold the next event" },
	{ ECHILD, "handle inherited across fork(): attach again" },
	{ ENOMEM, "out of memory" },
	{ EXDEV, "a recording of another ring or incarnation" },
	{ ENODATA, "the recording holds no segment" },
};

RINGCAST_API const char *ringcast_strerror(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(rc_errors); i++)
		if (rc_errors[i].err == err)
			return rc_errors[i].msg;
	return strerror(err);
}
