/* SPDX-License-Identifier: MIT */
/*
 * The durable mode of the bridge: JetStream (docs/bridge.md, "Durable
 * across hosts").
 *
 *   bridge out NAME --jetstream STREAM   frames into a stream, acknowledged
 *   bridge in NAME --durable D --stream STREAM
 *                                        frames out of it through a durable
 *                                        pull consumer, each event once
 *
 * Every message of the stream is one frame (frame.h) of consecutive events
 * of one origin ring, on the subject PREFIX.NAME.js, with the headers
 * Ringcast-Frame (the version), Ringcast-Type "frame", Ringcast-Seq (its
 * first event's origin sequence) and Ringcast-Events (how many).  One out
 * bridge writes a stream: each publish expects the stream's last sequence
 * to be the one before it, so a lost or late message cannot reorder it.
 */
#ifndef RINGCAST_BRIDGE_JS_H
#define RINGCAST_BRIDGE_JS_H

#include "bridge.h"

/* The last token of the subject frames go to in a stream. */
#define JS_SUBJECT_TOKEN "js"
#define H_EVENTS "Ringcast-Events"

/* Out: messages published and not yet acknowledged, at most. */
#define JS_MAX_PENDING 64
/* Out: an acknowledgement not back after this long fails the publish. */
#define JS_PUB_WAIT_MS 2000
/* In: the consumer's ack wait by default; messages fetched at once. */
#define JS_ACK_WAIT_NS (5LL * 1000 * 1000 * 1000)
#define JS_FETCH 256

/* The JetStream error of a failed call, or 0; its text into @buf. */
const char *js_err_text(natsStatus s, jsErrCode code, char *buf, size_t size);

/*
 * js_stream_ensure() - the stream's information, creating the stream (file
 * storage, subject @subj) when @create and it is missing
 *
 * Return: 0 with *@si; -ENOENT missing (and not created); -EAGAIN the
 * server did not answer (retry); -EIO any other error (said on stderr).
 */
int js_stream_ensure(struct bridge *b, jsCtx *js, const char *subj, bool create,
		     jsStreamInfo **si);

int bridge_js_out(struct bridge *b);
int bridge_js_in(struct bridge *b);

#endif
