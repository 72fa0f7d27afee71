/* SPDX-License-Identifier: MIT */
/*
 * ringcast-bridge: forward a ring to NATS (out) and NATS to a ring (in).
 *
 * Subjects.  Events of type T of ring NAME go to PREFIX.NAME.T, NAME with
 * every '.' written "%2E" ('%' is not allowed in ring names, so the
 * mapping is one-to-one).
 *
 * Frames.  bridge out sends frames (frame.h): a NATS message with the
 * headers Ringcast-Frame (the version) and Ringcast-Type "frame", whose
 * payload holds many events of one type, each with its sequence, origin
 * timestamp, per-type count and length, and once per frame the host,
 * epoch, session and dropped below.  bridge in still takes a message of
 * one event with these headers, as out bridges sent before frames (all
 * decimal unless said):
 *
 *   Ringcast-Seq      the event's sequence number in the origin ring
 *   Ringcast-Count    how many events of this type the out bridge has read
 *                     (1 for the first), sent or not: a receiver that sees
 *                     it jump by more than one lost exactly the difference
 *                     less one, whatever subjects it filters on
 *   Ringcast-Type     the type tag
 *   Ringcast-Ts       the origin's timestamp (CLOCK_MONOTONIC ns there)
 *   Ringcast-Epoch    the origin ring's epoch, 16 hex digits
 *   Ringcast-Host     the origin host's name (or --host)
 *   Ringcast-Session  the out bridge's random id, 16 hex digits: a new one
 *                     restarts every count
 *   Ringcast-Dropped  (only once non-zero) events the out bridge lost
 *                     before reading them, so of unknown types: laps of
 *                     its subscription once it let the publisher go
 *
 * Status.  Each bridge keeps ringcast-bridge.DIR.NAME (DIR out or in)
 * beside its ring (in /dev/shm, or the ring's directory) up to date, "key
 * value" lines, replaced atomically (rename), removed when it exits;
 * `ringcast-bridge stat NAME` prints them.  A ring DIR/NAME (--dir,
 * $RINGCAST_DIR) is NAME on NATS: its subjects carry NAME alone.
 *
 * Readiness.  Under systemd (Type=notify, built with libsystemd) the
 * bridge says READY=1 once it is connected to NATS and, in, subscribed:
 * units ordered after it start once events can flow.
 */
#ifndef RINGCAST_BRIDGE_H
#define RINGCAST_BRIDGE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>

#include <nats/nats.h>

#include "ringcast.h"

#define BRIDGE_PROG "ringcast-bridge"
#define BRIDGE_STATUS_PREFIX "ringcast-bridge."
#define BRIDGE_DEFAULT_PREFIX "ringcast"
#define BRIDGE_DEFAULT_URL "nats://127.0.0.1:4222"
/* Connection retries: from 50 ms, doubling, up to --max-backoff. */
#define BRIDGE_BACKOFF_MIN_MS 50
#define BRIDGE_BACKOFF_MAX_MS 2000
/* The out side holds the ring's publisher back this long by default. */
#define BRIDGE_HOLD_NS (2LL * 1000 * 1000 * 1000)
/* Frames (frame.h): flushed at N events, B bytes or T, whichever first. */
#define BRIDGE_FRAME_EVENTS 4096u
#define BRIDGE_FRAME_BYTES (256u * 1024)
#define BRIDGE_FRAME_US 1000u
/* Status file refresh while something changes. */
#define BRIDGE_STATUS_NS (200LL * 1000 * 1000)
/* Subjects: PREFIX + '.' + NAME (each '.' three bytes) + '.' + 10 digits. */
#define BRIDGE_SUBJECT_MAX 1024

#define H_SEQ "Ringcast-Seq"
#define H_COUNT "Ringcast-Count"
#define H_TYPE "Ringcast-Type"
#define H_TS "Ringcast-Ts"
#define H_EPOCH "Ringcast-Epoch"
#define H_HOST "Ringcast-Host"
#define H_SESSION "Ringcast-Session"
#define H_DROPPED "Ringcast-Dropped"

/**
 * struct bridge - one bridge process: options and the NATS connection
 *
 * The connection callbacks run on the NATS library's threads and touch
 * only the fields under @lock; everything else belongs to the main thread.
 */
struct bridge {
	/* Options. */
	const char *dir; /* "out" or "in" */
	const char *name; /* the local ring: NAME, or DIR/NAME */
	char name_buf[PATH_MAX]; /* NAME in --dir or $RINGCAST_DIR */
	const char *url;
	const char *subject; /* out: the prefix; in: the pattern */
	char host[256];
	int64_t hold_ns; /* out: < 0 for ever, 0 lossy */
	uint32_t from; /* out: enum ringcast_from */
	bool wait_ring; /* out: wait for the ring to be created */
	struct ringcast_ring_opts geo; /* in: a new ring's geometry */
	unsigned int create_flags; /* in: RINGCAST_CREATE_NO_DATA */
	unsigned int pub_flags; /* in: RINGCAST_PUB_ANY_OWNER (--any-owner) */
	int64_t backoff_max_ms;
	uint32_t frame_events; /* out: flush a frame at this many events */
	size_t frame_bytes; /* out: ... at this many bytes */
	uint64_t frame_ns; /* out: ... this long after its first event */
	bool frame_by_type; /* out: a frame open per type (--frame-order) */
	bool frame_idle_wait; /* out: an idle ring does not send frames */
	char status_path[PATH_MAX];
	char subj_buf[BRIDGE_SUBJECT_MAX];
	uint64_t session;
	/* The durable mode (js.h): NULL without. */
	const char *stream; /* out --jetstream, in --stream */
	const char *durable; /* in --durable */
	int64_t ack_wait_ns; /* in --ack-wait */

	/* NATS. */
	natsOptions *opts;
	natsConnection *nc;
	int64_t max_payload;

	/* Shared with the NATS callbacks. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool connected;
	bool closed;
	bool closing; /* we close it: no more reports */
	uint64_t conn_gen; /* bumped at every (re)connection */
	uint64_t disconnects;
	uint64_t reconnects;
	bool async_error_said; /* the first asynchronous error was logged */

	/* systemd: READY=1 was sent (main thread). */
	bool notified_ready;
};

extern volatile sig_atomic_t bridge_stop;

void bridge_log(const struct bridge *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* NAME with '.' written %2E, into @buf; -ENAMETOOLONG. */
int bridge_encode_name(const char *name, char *buf, size_t size);

/* Set up signals: SIGINT, SIGTERM, SIGHUP set bridge_stop and call @hook. */
void bridge_signals(void (*hook)(void));

/*
 * bridge_connect() - connect, retrying with capped backoff until it works
 * or bridge_stop; later losses reconnect the same way, for ever.
 *
 * Return: 0, -EINTR (stopped), -ENOMEM, -EINVAL (a bad URL).
 */
int bridge_connect(struct bridge *b);
void bridge_disconnect(struct bridge *b);

/*
 * bridge_wait_connected() - wait until connected, stopped, or @timeout_ms
 *
 * Return: true when connected.
 */
bool bridge_wait_connected(struct bridge *b, int timeout_ms);

/* A snapshot of the connection state, taken under the lock. */
struct bridge_conn {
	bool connected;
	bool closed;
	uint64_t gen;
	uint64_t disconnects;
	uint64_t reconnects;
};
void bridge_conn_state(struct bridge *b, struct bridge_conn *c);

/*
 * Tell systemd (where built with libsystemd and started with
 * $NOTIFY_SOCKET) that the bridge is ready, once; or that it stops.
 */
void bridge_notify_ready(struct bridge *b);
void bridge_notify_stopping(struct bridge *b);

/* Write @text as the status file, atomically; errors are reported once. */
void bridge_status_write(struct bridge *b, const char *text, size_t len);
void bridge_status_remove(struct bridge *b);
int bridge_status_path(char *buf, size_t size, const char *dir,
		       const char *name);

uint64_t bridge_now_ns(void);
uint64_t bridge_random64(void);

/*
 * struct u64map - open addressing, uint64_t keys to uint64_t values
 *
 * Grows by doubling; at most BRIDGE_MAP_MAX entries (-ENOSPC beyond).
 */
#define BRIDGE_MAP_MAX (1u << 22)
struct u64map {
	uint64_t *keys; /* key + 1; 0 is a free slot */
	uint64_t *vals;
	size_t cap;
	size_t n;
};

/* Return: the value's address (0 when new), or NULL: -ENOMEM/-ENOSPC. */
uint64_t *u64map_get(struct u64map *m, uint64_t key, bool *created);
void u64map_clear(struct u64map *m);
void u64map_free(struct u64map *m);

int bridge_out(struct bridge *b);
int bridge_in(struct bridge *b);

#endif
