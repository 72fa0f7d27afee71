// SPDX-License-Identifier: MIT
/*
 * What both durable directions share: errors and the stream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "js.h"

const char *js_err_text(natsStatus s, jsErrCode code, char *buf, size_t size)
{
	const char *last = nats_GetLastError(NULL);

	if (code)
		snprintf(buf, size, "%s (JetStream error %d)",
			 last && *last ? last : natsStatus_GetText(s),
			 (int)code);
	else
		snprintf(buf, size, "%s", natsStatus_GetText(s));
	return buf;
}

int js_stream_ensure(struct bridge *b, jsCtx *js, const char *subj, bool create,
		     jsStreamInfo **si)
{
	const char *subjects[] = { subj };
	jsStreamConfig cfg;
	jsErrCode code = 0;
	natsStatus s;
	char err[256];

	*si = NULL;
	s = js_GetStreamInfo(si, js, b->stream, NULL, &code);
	if (s == NATS_OK)
		return 0;
	if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
	    s == NATS_CONNECTION_DISCONNECTED)
		return -EAGAIN;
	if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
		bridge_log(b, "stream %s: %s", b->stream,
			   js_err_text(s, code, err, sizeof(err)));
		return -EIO;
	}
	if (!create)
		return -ENOENT;
	/*
	 * File storage: what the server acknowledged survives its restart.
	 * The limits are the server's defaults (none): retention is the
	 * operator's to set, and what it drops is a gap on the in side.
	 */
	jsStreamConfig_Init(&cfg);
	cfg.Name = b->stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	code = 0;
	s = js_AddStream(si, js, &cfg, NULL, &code);
	if (s == NATS_OK) {
		bridge_log(b, "created the stream %s (subject %s)", b->stream,
			   subj);
		return 0;
	}
	if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS)
		return -EAGAIN;
	bridge_log(b, "cannot create the stream %s: %s", b->stream,
		   js_err_text(s, code, err, sizeof(err)));
	return -EIO;
}
