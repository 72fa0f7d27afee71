// SPDX-License-Identifier: MIT
/*
 * Rings as Prometheus metrics (promfmt.h): one table per kind of series
 * (ring, subscriber, bridge), written family by family as both formats
 * want, every family with its HELP and TYPE lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "promfmt.h"
#include "ringpath.h"

/* ---------------------------------------------------------------- output */

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			putc(*s, f);
	}
}

enum prom_type { GAUGE, COUNTER };

/*
 * The HELP and TYPE lines of a family.  OpenMetrics names a counter's
 * family without the _total of its samples; the text format names it as
 * its samples.
 */
static void put_family(FILE *f, enum prom_format fmt, const char *name,
		       enum prom_type type, const char *help)
{
	const char *suffix = type == COUNTER && fmt == PROM_TEXT ? "_total" :
								   "";

	fprintf(f, "# HELP %s%s %s\n", name, suffix, help);
	fprintf(f, "# TYPE %s%s %s\n", name, suffix,
		type == COUNTER ? "counter" : "gauge");
}

/* The start of a sample, up to its labels' opening brace. */
static void put_sample(FILE *f, const char *name, enum prom_type type,
		       const char *ring)
{
	fprintf(f, "%s%s{ring=\"", name, type == COUNTER ? "_total" : "");
	put_label(f, ring);
	putc('"', f);
}

/* A value: an integer, or nanoseconds as seconds. */
struct prom_val {
	uint64_t u;
	int64_t i;
	bool is_signed, ns;
};

static void put_value(FILE *f, struct prom_val v)
{
	if (v.ns)
		fprintf(f, "} %" PRIu64 ".%09" PRIu64 "\n", v.u / 1000000000u,
			v.u % 1000000000u);
	else if (v.is_signed)
		fprintf(f, "} %" PRId64 "\n", v.i);
	else
		fprintf(f, "} %" PRIu64 "\n", v.u);
}

#define U(x) ((struct prom_val){ .u = (x) })
#define I(x) ((struct prom_val){ .i = (x), .is_signed = true })
#define NS(x) ((struct prom_val){ .u = (x), .ns = true })

/* ---------------------------------------------------------------- rings */

static const char *const state_names[] = {
	[RINGCAST_STATE_CREATED] = "created",
	[RINGCAST_STATE_LIVE] = "live",
	[RINGCAST_STATE_CLOSED] = "closed",
	[RINGCAST_STATE_ABANDONED] = "abandoned",
	[RINGCAST_STATE_REMOVED] = "removed",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

struct ring_family {
	const char *name;
	enum prom_type type;
	const char *help;
	struct prom_val (*get)(const struct ringcast_ring_stats *st);
};

#define RING_GET(field, conv)                         \
	static struct prom_val get_##field(           \
		const struct ringcast_ring_stats *st) \
	{                                             \
		return conv(st->field);               \
	}

RING_GET(head, U)
RING_GET(published, U)
RING_GET(refused, U)
RING_GET(wakes, U)
RING_GET(blocked, U)
RING_GET(blocked_ns, NS)
RING_GET(demotions, U)
RING_GET(subscribers, U)
RING_GET(reliable, U)
RING_GET(max_subscribers, U)
RING_GET(table_hwm, U)
RING_GET(size, U)
RING_GET(slots, U)
RING_GET(slot_size, U)
RING_GET(demote_ns, NS)
RING_GET(publisher_alive, I)
RING_GET(publishers, U)
RING_GET(data_size, U)
RING_GET(data_written, U)

static struct prom_val get_max_event(const struct ringcast_ring_stats *st)
{
	/* A ring that does not say: its events fit a slot. */
	return U(st->max_event ? st->max_event : st->capacity);
}

static struct prom_val get_retained(const struct ringcast_ring_stats *st)
{
	/* Fields read one by one: do not trust their order. */
	return U(st->head > st->oldest ? st->head - st->oldest : 0);
}

static const struct ring_family ring_families[] = {
	{ "ringcast_ring_head", GAUGE,
	  "The next sequence the ring's publisher writes.", get_head },
	{ "ringcast_ring_published", COUNTER,
	  "Events committed to the ring, all epochs.", get_published },
	{ "ringcast_ring_refused", COUNTER,
	  "Publishes refused (too large, ring closed).", get_refused },
	{ "ringcast_ring_wakes", COUNTER,
	  "FUTEX_WAKE calls made by the ring's publishers.", get_wakes },
	{ "ringcast_ring_blocked", COUNTER,
	  "Times a publisher waited for a reliable subscriber.", get_blocked },
	{ "ringcast_ring_blocked_seconds", COUNTER,
	  "Time publishers spent waiting for reliable subscribers.",
	  get_blocked_ns },
	{ "ringcast_ring_demotions", COUNTER,
	  "Reliable subscribers demoted to lossy by a publisher.",
	  get_demotions },
	{ "ringcast_ring_subscribers", GAUGE,
	  "Subscriber table entries in use (dead owners' until reclaimed).",
	  get_subscribers },
	{ "ringcast_ring_reliable_subscribers", GAUGE,
	  "Subscriber table entries of reliable subscribers.", get_reliable },
	{ "ringcast_ring_table_entries", GAUGE,
	  "Entries of the ring's subscriber table (its capacity).",
	  get_max_subscribers },
	{ "ringcast_ring_table_entries_max_used", GAUGE,
	  "The most subscriber table entries ever in use at once.",
	  get_table_hwm },
	{ "ringcast_ring_size_bytes", GAUGE,
	  "Bytes of the ring's shared-memory object.", get_size },
	{ "ringcast_ring_slots", GAUGE, "Slots of the ring.", get_slots },
	{ "ringcast_ring_slot_size_bytes", GAUGE,
	  "Bytes of each slot, its event header included.", get_slot_size },
	{ "ringcast_ring_data_size_bytes", GAUGE,
	  "Bytes of the ring's data area, where events too large for a "
	  "slot go; 0: none.",
	  get_data_size },
	{ "ringcast_ring_data_written_bytes", COUNTER,
	  "Bytes written into the ring's data area, the skips at its end "
	  "included.",
	  get_data_written },
	{ "ringcast_ring_max_event_bytes", GAUGE,
	  "The largest event payload the ring takes.", get_max_event },
	{ "ringcast_ring_retained_events", GAUGE,
	  "Events the ring holds now (head - oldest).", get_retained },
	{ "ringcast_ring_demote_seconds", GAUGE,
	  "The ring's demotion limit for stuck reliable subscribers; 0: "
	  "never.",
	  get_demote_ns },
	{ "ringcast_ring_publisher_alive", GAUGE,
	  "1 the publisher runs, 0 it does not (none, closed or dead), "
	  "-1 cannot tell. A read-only observer (this one) judges by the "
	  "pid and start time the publisher stored, in its own PID "
	  "namespace.",
	  get_publisher_alive },
	{ "ringcast_ring_publishers", GAUGE,
	  "Publishers attached and alive (several on a multi-publisher "
	  "ring).",
	  get_publishers },
};

static bool ring_corrupted(const struct prom_ring *r)
{
	return r->err == -EBADMSG || r->err == -EPROTO;
}

static void write_rings(FILE *f, enum prom_format fmt,
			const struct prom_ring *rings, size_t n)
{
	size_t i, j, k;

	put_family(f, fmt, "ringcast_ring_up", GAUGE,
		   "1 when the ring could be read at this scrape, else 0.");
	for (i = 0; i < n; i++) {
		put_sample(f, "ringcast_ring_up", GAUGE, rings[i].name);
		put_value(f, U(rings[i].err == 0));
	}
	put_family(f, fmt, "ringcast_ring_corrupted", GAUGE,
		   "1 when the ring failed validation (corrupted header, "
		   "table, or not a ring of this ABI), else 0.");
	for (i = 0; i < n; i++) {
		put_sample(f, "ringcast_ring_corrupted", GAUGE, rings[i].name);
		put_value(f, U(ring_corrupted(&rings[i])));
	}
	put_family(f, fmt, "ringcast_ring_state", GAUGE,
		   "The ring's state: 1 for the one it is in, 0 for the "
		   "others.");
	for (i = 0; i < n; i++) {
		if (rings[i].err)
			continue;
		for (k = 0; k < NSTATES; k++) {
			put_sample(f, "ringcast_ring_state", GAUGE,
				   rings[i].name);
			fprintf(f, ",state=\"%s\"", state_names[k]);
			put_value(f, U(rings[i].st.state == k));
		}
	}
	for (j = 0; j < sizeof(ring_families) / sizeof(ring_families[0]); j++) {
		const struct ring_family *fam = &ring_families[j];

		put_family(f, fmt, fam->name, fam->type, fam->help);
		for (i = 0; i < n; i++) {
			if (rings[i].err)
				continue;
			put_sample(f, fam->name, fam->type, rings[i].name);
			put_value(f, fam->get(&rings[i].st));
		}
	}
}

/* ---------------------------------------------------------------- subscribers */

/* Process names by pid, read once per scrape: an open-addressed table. */
struct comm_cache {
	struct comm_ent {
		int32_t pid; /* 0: free */
		char comm[17];
	} * ent;
	size_t mask;
};

static void comm_read(int32_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	comm[0] = '\0';
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	else
		comm[0] = '\0';
	fclose(f);
}

static const char *comm_get(struct comm_cache *c, int32_t pid)
{
	static char one[17];
	size_t i;

	if (!c->ent) {
		comm_read(pid, one, sizeof(one));
		return one;
	}
	for (i = (uint32_t)pid * 0x9e3779b1u & c->mask;;
	     i = (i + 1) & c->mask) {
		struct comm_ent *e = &c->ent[i];

		if (e->pid == pid)
			return e->comm;
		if (e->pid == 0) {
			e->pid = pid;
			comm_read(pid, e->comm, sizeof(e->comm));
			return e->comm;
		}
	}
}

static const char *sub_mode(const struct ringcast_ring_subscriber *si)
{
	if (si->flags & RINGCAST_SUBSCRIBER_RELIABLE)
		return "reliable";
	if (si->flags & RINGCAST_SUBSCRIBER_DEMOTED)
		return "demoted";
	return "lossy";
}

struct sub_family {
	const char *name;
	enum prom_type type;
	const char *help;
	size_t off; /* of a uint64_t of struct ringcast_ring_subscriber */
};

#define SUB_OFF(field) offsetof(struct ringcast_ring_subscriber, field)

static const struct sub_family sub_families[] = {
	{ "ringcast_subscriber_lag", GAUGE,
	  "Events published that the subscriber has not read yet "
	  "(head - cursor).",
	  SUB_OFF(lag) },
	{ "ringcast_subscriber_delivered", COUNTER,
	  "Events the subscriber read.", SUB_OFF(delivered) },
	{ "ringcast_subscriber_skipped", COUNTER,
	  "Events the subscriber's type filter skipped.", SUB_OFF(skipped) },
	{ "ringcast_subscriber_lost", COUNTER,
	  "Events the subscriber lost in laps (lossy, or after a demotion).",
	  SUB_OFF(lost) },
	{ "ringcast_subscriber_aborted", COUNTER,
	  "Holes left by dead publishers that the subscriber skipped.",
	  SUB_OFF(aborted) },
};

static void put_sub_labels(FILE *f, const char *name, enum prom_type type,
			   const struct prom_ring *r,
			   const struct ringcast_ring_subscriber *si,
			   struct comm_cache *cc)
{
	put_sample(f, name, type, r->name);
	fprintf(f, ",id=\"%" PRIu32 "\",pid=\"%" PRId32 "\",process=\"", si->id,
		si->pid);
	put_label(f, comm_get(cc, si->pid));
	fprintf(f, "\",mode=\"%s\"", sub_mode(si));
}

static void write_subscribers(FILE *f, enum prom_format fmt,
			      const struct prom_ring *rings, size_t n)
{
	struct comm_cache cc = { 0 };
	size_t i, j, total = 0, size = 16;
	int k;

	for (i = 0; i < n; i++)
		if (!rings[i].err && rings[i].nsubs > 0)
			total += (size_t)rings[i].nsubs;
	while (size < 2 * total)
		size *= 2;
	cc.ent = calloc(size, sizeof(*cc.ent));
	cc.mask = size - 1;

	put_family(f, fmt, "ringcast_subscriber_alive", GAUGE,
		   "1 the subscriber's process runs, 0 it died (its entry not "
		   "yet reclaimed), -1 cannot tell (judged by pid and start "
		   "time, in this observer's PID namespace).");
	for (i = 0; i < n; i++) {
		const struct prom_ring *r = &rings[i];

		for (k = 0; !r->err && k < r->nsubs; k++) {
			put_sub_labels(f, "ringcast_subscriber_alive", GAUGE, r,
				       &r->subs[k], &cc);
			put_value(f, I(r->subs[k].alive));
		}
	}
	for (j = 0; j < sizeof(sub_families) / sizeof(sub_families[0]); j++) {
		const struct sub_family *fam = &sub_families[j];

		put_family(f, fmt, fam->name, fam->type, fam->help);
		for (i = 0; i < n; i++) {
			const struct prom_ring *r = &rings[i];

			for (k = 0; !r->err && k < r->nsubs; k++) {
				const struct ringcast_ring_subscriber *si =
					&r->subs[k];
				uint64_t v;

				memcpy(&v, (const char *)si + fam->off,
				       sizeof(v));
				put_sub_labels(f, fam->name, fam->type, r, si,
					       &cc);
				put_value(f, U(v));
			}
		}
	}
	free(cc.ent);
}

/* ---------------------------------------------------------------- bridges */

static const char *const bridge_dirs[2] = { "out", "in" };

static const struct bridge_key {
	const char *key;
	enum prom_type type;
	const char *help;
} bridge_keys[PROM_BRIDGE_KEYS] = {
	{ "connected", GAUGE, "1 while the bridge is connected to NATS." },
	{ "ready", GAUGE, "1 while an in bridge is subscribed and connected." },
	{ "origins", GAUGE,
	  "Origins (publishing sessions) an in bridge "
	  "tracks." },
	{ "disconnects", COUNTER, "Disconnections from NATS." },
	{ "reconnects", COUNTER, "Reconnections to NATS." },
	{ "read", COUNTER, "Events an out bridge read from its ring." },
	{ "sent", COUNTER, "Events an out bridge sent to NATS." },
	{ "received", COUNTER, "Messages an in bridge received from NATS." },
	{ "published", COUNTER,
	  "Events an in bridge published to its "
	  "ring." },
	{ "refused", COUNTER, "Events refused (too large, ring closed)." },
	{ "dropped", COUNTER,
	  "Events an out bridge lost before reading "
	  "them." },
	{ "demotions", COUNTER,
	  "Times an out bridge's reliable subscriber "
	  "was demoted." },
	{ "malformed", COUNTER, "Malformed messages an in bridge dropped." },
	{ "gaps", COUNTER, "Gaps in the sequences an in bridge received." },
	{ "gap_events", COUNTER, "Events missing in those gaps." },
	{ "origin_dropped", COUNTER,
	  "Events an origin's out bridge "
	  "dropped." },
	{ "lost", COUNTER,
	  "Events lost on the way (gap events and origin "
	  "drops)." },
	{ "reorders", COUNTER, "Messages received out of order." },
	{ "epoch_changes", COUNTER, "Origin epoch changes seen." },
	{ "restarts", COUNTER, "Origin restarts seen." },
};

void prom_read_bridges(const char *name, struct prom_ring *r)
{
	char path[PATH_MAX + 64], prefix[32], line[512];
	unsigned int d, k;
	FILE *f;

	for (d = 0; d < 2; d++) {
		struct prom_bridge *b = &r->bridge[d];
		long pid = 0;

		memset(b, 0, sizeof(*b));
		snprintf(prefix, sizeof(prefix), "ringcast-bridge.%s.",
			 bridge_dirs[d]);
		if (ring_file_path(path, sizeof(path), name, prefix))
			continue;
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *sp = strchr(line, ' '), *end;
			unsigned long long v;

			if (!sp)
				continue;
			*sp++ = '\0';
			errno = 0;
			v = strtoull(sp, &end, 10);
			if (errno || end == sp || (*end && *end != '\n'))
				continue;
			if (!strcmp(line, "pid"))
				pid = (long)v;
			for (k = 0; k < PROM_BRIDGE_KEYS; k++) {
				if (!strcmp(line, bridge_keys[k].key)) {
					b->val[k] = v;
					b->has[k] = true;
				}
			}
		}
		fclose(f);
		/* A file a killed bridge left behind is no bridge. */
		b->present = pid > 0 && pid <= INT32_MAX &&
			     !(kill((pid_t)pid, 0) < 0 && errno == ESRCH);
	}
}

static void put_bridge_sample(FILE *f, const char *name, enum prom_type type,
			      const char *ring, unsigned int d)
{
	put_sample(f, name, type, ring);
	fprintf(f, ",direction=\"%s\"", bridge_dirs[d]);
}

static void write_bridges(FILE *f, enum prom_format fmt,
			  const struct prom_ring *rings, size_t n)
{
	char name[64];
	unsigned int d, k;
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++)
		any |= rings[i].bridge[0].present || rings[i].bridge[1].present;
	if (!any)
		return;
	put_family(f, fmt, "ringcast_bridge_up", GAUGE,
		   "1 for each running NATS bridge of the ring.");
	for (i = 0; i < n; i++)
		for (d = 0; d < 2; d++)
			if (rings[i].bridge[d].present) {
				put_bridge_sample(f, "ringcast_bridge_up",
						  GAUGE, rings[i].name, d);
				put_value(f, U(1));
			}
	for (k = 0; k < PROM_BRIDGE_KEYS; k++) {
		bool fam = false;

		snprintf(name, sizeof(name), "ringcast_bridge_%s",
			 bridge_keys[k].key);
		for (i = 0; i < n; i++) {
			for (d = 0; d < 2; d++) {
				const struct prom_bridge *b =
					&rings[i].bridge[d];

				if (!b->present || !b->has[k])
					continue;
				if (!fam)
					put_family(f, fmt, name,
						   bridge_keys[k].type,
						   bridge_keys[k].help);
				fam = true;
				put_bridge_sample(f, name, bridge_keys[k].type,
						  rings[i].name, d);
				put_value(f, U(b->val[k]));
			}
		}
	}
}

void prom_write(FILE *f, enum prom_format fmt, const struct prom_ring *rings,
		size_t n)
{
	write_rings(f, fmt, rings, n);
	write_subscribers(f, fmt, rings, n);
	write_bridges(f, fmt, rings, n);
	if (fmt == PROM_OPENMETRICS)
		fputs("# EOF\n", f);
}
