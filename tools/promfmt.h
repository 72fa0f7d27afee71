/* SPDX-License-Identifier: MIT */
/*
 * Rings as Prometheus metrics: the text exposition format (0.0.4) or
 * OpenMetrics 1.0, written by 'ringcast stat --format prometheus' (for
 * node_exporter's textfile collector) and by ringcast-exporter.
 *
 * Names: ringcast_ring_* per ring (label ring), ringcast_subscriber_*
 * per table entry (labels ring, id, pid, process, mode), and
 * ringcast_bridge_* per NATS bridge of a ring (labels ring, direction).
 * Counters end in _total, times are in seconds.  Cardinality is bounded:
 * a ring's series are a fixed set, its subscribers' at most its table's
 * entries, its bridges' at most two; no label takes a sequence, a type
 * or an event's value.
 */
#ifndef RINGCAST_PROMFMT_H
#define RINGCAST_PROMFMT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcast.h"

enum prom_format {
	PROM_TEXT, /* text/plain; version=0.0.4 */
	PROM_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

#define PROM_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define PROM_CONTENT_TYPE_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/* The counters a NATS bridge keeps in its status file (bridge.h). */
#define PROM_BRIDGE_KEYS 20

/* One bridge of a ring: what its status file said. */
struct prom_bridge {
	bool present;
	uint64_t val[PROM_BRIDGE_KEYS];
	bool has[PROM_BRIDGE_KEYS];
};

/* One ring, as the caller found it. */
struct prom_ring {
	const char *name;
	int err; /* 0: st and subs are a snapshot; else why there is none */
	struct ringcast_ring_stats st;
	const struct ringcast_ring_subscriber *subs;
	int nsubs; /* entries of subs */
	struct prom_bridge bridge[2]; /* out, in */
};

/* Read the status files of the bridges of ring name into r->bridge. */
void prom_read_bridges(const char *name, struct prom_ring *r);

/*
 * Write the metrics of rings[0..n) to f, family by family; OpenMetrics
 * ends with "# EOF".  The process names are read from /proc/PID/comm.
 */
void prom_write(FILE *f, enum prom_format fmt, const struct prom_ring *rings,
		size_t n);

#endif
