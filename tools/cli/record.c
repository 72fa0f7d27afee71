// SPDX-License-Identifier: MIT
/*
 * ringcast record, cat, replay: a ring's events into a recording
 * (ringcast-recording(5)), a recording printed as sub prints a ring, and
 * a recording published into a ring again.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fwrite_unlocked() and friends */
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* How often record --wait looks for the ring to appear. */
#define RECORD_POLL_NS (10 * NSEC_PER_MSEC)
#define CAT_OUT_BUF (1u << 18)

/* ----------------------------------------------------------------------
 * record
 */

const char record_help[] =
	"Usage: ringcast record NAME PATH [--lossy] [--from oldest|newest|SEQ]\n"
	"                       [--segment-size BYTES] [--retain-size BYTES]\n"
	"                       [--retain-age SECONDS]\n"
	"                       [--fsync none|segment|interval]\n"
	"                       [--fsync-interval SECONDS] [--wait]\n"
	"\n"
	"Append every event of ring NAME to the recording in directory PATH\n"
	"(created with the ring's mode) until the end of the stream.\n"
	"\n"
	"  --lossy            do not gate the publisher: events it\n"
	"                     overwrites before they are recorded are\n"
	"                     recorded as a gap (default: reliable)\n"
	"  --from WHERE       where a new recording starts (default:\n"
	"                     oldest); a recording that holds events\n"
	"                     continues after its last one\n"
	"  --segment-size BYTES\n"
	"                     start a new segment file past this size\n"
	"                     (k, M, G suffixes; default 64M; at least 64k)\n"
	"  --retain-size BYTES\n"
	"                     remove the oldest segments beyond this size\n"
	"  --retain-age SECONDS\n"
	"                     remove segments last written longer ago\n"
	"  --fsync POLICY     none (the default: the page cache decides),\n"
	"                     segment (each segment once complete), or\n"
	"                     interval (at most --fsync-interval apart)\n"
	"  --fsync-interval SECONDS\n"
	"                     with --fsync interval (default 1)\n"
	"  --wait             wait for the ring to be created\n"
	"\n"
	"Gaps (events lost, or no longer in the ring when a recording\n"
	"continues), holes (aborted claims of a multi-publisher ring) and\n"
	"takeovers are recorded as such; gaps are also reported on\n"
	"standard error.  A recording belongs to one incarnation of its\n"
	"ring: a ring created again needs a new recording.\n"
	"Exit status: 0 end of stream; 1 publisher died, or error;\n"
	"2 usage.  SIGINT, SIGTERM and SIGHUP stop it after writing out\n"
	"what it buffered.\n";

struct record_args {
	const char *name, *path;
	struct ringcast_rec_opts ro;
	struct ringcast_sub_opts so;
	bool wait;
};

static int parse_size_opt(const struct command *cmd, const char *opt,
			  const char *arg, uint64_t min, uint64_t *out)
{
	if (parse_u64(arg, UINT64_MAX, true, out) || *out < min)
		return usage_error(
			cmd, "--%s: '%s' is not a size of at least %" PRIu64,
			opt, arg, min);
	return 0;
}

static int parse_record_args(const struct command *cmd, int argc, char **argv,
			     struct record_args *a)
{
	static const struct option longopts[] = {
		{ "lossy", no_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'f' },
		{ "segment-size", required_argument, NULL, 'g' },
		{ "retain-size", required_argument, NULL, 'r' },
		{ "retain-age", required_argument, NULL, 'a' },
		{ "fsync", required_argument, NULL, 'y' },
		{ "fsync-interval", required_argument, NULL, 'i' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ns;
	int c;

	a->so.from = RINGCAST_FROM_OLDEST;
	a->so.flags = RINGCAST_SUB_RELIABLE | RINGCAST_SUB_RESUBSCRIBE;
	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
		case 'l':
			a->so.flags &= ~RINGCAST_SUB_RELIABLE;
			break;
		case 'f':
			if (!strcmp(optarg, "oldest"))
				a->so.from = RINGCAST_FROM_OLDEST;
			else if (!strcmp(optarg, "newest"))
				a->so.from = RINGCAST_FROM_NEWEST;
			else if (!parse_u64(optarg, UINT64_MAX, false,
					    &a->so.seq))
				a->so.from = RINGCAST_FROM_SEQ;
			else
				return usage_error(
					cmd,
					"--from: '%s' is not oldest, newest or a sequence",
					optarg);
			break;
		case 'g':
			if (parse_size_opt(cmd, "segment-size", optarg,
					   64 << 10, &a->ro.segment_size))
				return EXIT_USAGE;
			break;
		case 'r':
			if (parse_size_opt(cmd, "retain-size", optarg, 1,
					   &a->ro.retain_bytes))
				return EXIT_USAGE;
			break;
		case 'a':
			if (opt_seconds(cmd, "retain-age", optarg, 1,
					"a positive number of seconds", &ns))
				return EXIT_USAGE;
			a->ro.retain_ns = (uint64_t)ns;
			break;
		case 'y':
			if (!strcmp(optarg, "none"))
				a->ro.sync = RINGCAST_REC_SYNC_NONE;
			else if (!strcmp(optarg, "segment"))
				a->ro.sync = RINGCAST_REC_SYNC_SEGMENT;
			else if (!strcmp(optarg, "interval"))
				a->ro.sync = RINGCAST_REC_SYNC_INTERVAL;
			else
				return usage_error(
					cmd,
					"--fsync: '%s' is not none, segment or interval",
					optarg);
			break;
		case 'i':
			if (opt_seconds(cmd, "fsync-interval", optarg, 1,
					"a positive number of seconds", &ns))
				return EXIT_USAGE;
			a->ro.sync_interval_ns = (uint64_t)ns;
			break;
		case 'w':
			a->wait = true;
			break;
		}
	}
	if (c)
		return c == OPT_HELP ? -1 : EXIT_USAGE;
	if (optind + 2 != argc)
		return usage_error(cmd, "expected NAME and PATH");
	a->name = argv[optind];
	a->path = argv[optind + 1];
	return 0;
}

static int record_stats(const struct record_args *a,
			struct ringcast_ring_stats *info)
{
	for (;;) {
		struct timespec ts = { 0, RECORD_POLL_NS };
		int err = ringcast_ring_get_stats(a->name, info);

		if (err != -ENOENT || !a->wait)
			return err;
		if (caught_signal)
			return -EINTR;
		nanosleep(&ts, NULL);
	}
}

struct recorder {
	const struct command *cmd;
	const struct record_args *a;
	struct ringcast_rec *rec;
	struct ringcast_sub *sub;
	uint64_t next; /* the next sequence to record */
	bool have_next;
	uint64_t lost_owed; /* reported by -EOVERFLOW, not yet recorded */
	uint64_t aborted; /* the subscriber's count when last looked at */
	uint32_t epoch;
	bool have_epoch;
	uint64_t gaps, holes;
	bool rec_failed; /* the error is the recording's, not the ring's */
};

static int record_gap(struct recorder *r, uint32_t kind, uint64_t count,
		      uint64_t ts)
{
	struct ringcast_rec_entry e = {
		.kind = kind,
		.count = count,
		.ev = { .seq = r->next, .ts = ts },
	};
	int err;

	if (kind == RINGCAST_REC_GAP) {
		note(r->cmd, r->a->name,
		     "gap: %" PRIu64 " events lost (%" PRIu64 " to %" PRIu64
		     "), recorded as such",
		     count, r->next, r->next + count - 1);
		r->gaps += count;
	} else {
		r->holes += count;
	}
	err = ringcast_rec_append(r->rec, &e);
	if (err)
		return err;
	r->next += count;
	/* Out now: a restart would find it again, and report it again. */
	return kind == RINGCAST_REC_GAP ? ringcast_rec_flush(r->rec) : 0;
}

/* Record @ev, after what its sequence says was skipped. */
static int record_event(struct recorder *r, const struct ringcast_event *ev)
{
	struct ringcast_rec_entry e = { .kind = RINGCAST_REC_EVENT };
	int err;

	if (r->have_next && ev->seq < r->next)
		return 0; /* recorded already */
	if (!r->have_next) {
		r->next = ev->seq;
		r->have_next = true;
	}
	if (ev->seq > r->next) {
		struct ringcast_sub_stats st;
		uint64_t skip = ev->seq - r->next, lost, ab;

		ringcast_sub_get_stats(r->sub, &st);
		ab = st.aborted - r->aborted;
		r->aborted = st.aborted;
		/* Laps first, then holes; what neither explains is lost. */
		lost = r->lost_owed < skip ? r->lost_owed : skip;
		if (ab > skip - lost)
			ab = skip - lost;
		lost = skip - ab;
		r->lost_owed = 0;
		if (lost &&
		    (err = record_gap(r, RINGCAST_REC_GAP, lost, ev->ts)))
			return err;
		if (ab && (err = record_gap(r, RINGCAST_REC_HOLE, ab, ev->ts)))
			return err;
	}
	if (r->have_epoch && ev->epoch != r->epoch) {
		struct ringcast_rec_entry t = {
			.kind = RINGCAST_REC_TAKEOVER,
			.ev = { .seq = ev->seq,
				.ts = ev->ts,
				.epoch = ev->epoch },
		};

		err = ringcast_rec_append(r->rec, &t);
		if (err)
			return err;
	}
	r->epoch = ev->epoch;
	r->have_epoch = true;
	e.ev = *ev;
	e.ev.lost = 0;
	err = ringcast_rec_append(r->rec, &e);
	if (!err)
		r->next = ev->seq + 1;
	return err;
}

static int record_loop(struct recorder *r)
{
	int64_t wait_ns = -1;
	struct ringcast_event ev;
	int err;

	/* Wake up now and then to sync, with --fsync interval. */
	if (r->a->ro.sync == RINGCAST_REC_SYNC_INTERVAL)
		wait_ns = r->a->ro.sync_interval_ns ?
				  (int64_t)r->a->ro.sync_interval_ns :
				  NSEC_PER_SEC;
	for (;;) {
		if (caught_signal)
			return -EINTR;
		err = ringcast_sub_next(r->sub, &ev, 0);
		if (err == -EAGAIN) {
			/* About to block: what is buffered goes out. */
			err = ringcast_rec_flush(r->rec);
			if (err) {
				r->rec_failed = true;
				return err;
			}
			err = ringcast_sub_next(r->sub, &ev, wait_ns);
			if (err == -EAGAIN || err == -ETIMEDOUT)
				continue;
		}
		if (err == -EOVERFLOW) {
			r->lost_owed += ev.lost;
			continue;
		}
		if (err == -ESTALE) {
			note(r->cmd, r->a->name,
			     "demoted to lossy: events may now be lost (and "
			     "recorded as a gap)");
			continue;
		}
		if (err == -EINTR && !caught_signal)
			continue;
		if (err < 0)
			return err;
		err = record_event(r, &ev);
		if (err) {
			r->rec_failed = true;
			return err;
		}
	}
}

/* Messages about a recording: "ringcast: CMD: recording 'PATH': ...". */
#define rec_note(cmd, path, fmt, ...) \
	note(cmd, NULL, "recording '%s': " fmt, path, ##__VA_ARGS__)
#define rec_fail(cmd, path, ...) \
	(rec_note(cmd, path, __VA_ARGS__), EXIT_FAILURE)

static int rec_error(const struct command *cmd, const char *path, int err)
{
	if (err == -EXDEV)
		return rec_fail(cmd, path,
				"a recording of another ring or of another "
				"incarnation of it (%s): record into a new "
				"directory",
				ringcast_errdetail());
	if (err == -EBUSY)
		return rec_fail(cmd, path, "another recorder writes it");
	if (err == -ENODATA)
		return rec_fail(cmd, path, "no segment: nothing recorded yet");
	if (err == -EBADMSG)
		return rec_fail(cmd, path, "not a recording, or damaged");
	return rec_fail(cmd, path, "%s", strerror(-err));
}

int cmd_record(const struct command *cmd, int argc, char **argv)
{
	struct record_args a = { 0 };
	struct ringcast_ring_stats info;
	struct recorder r = { .cmd = cmd, .a = &a };
	uint64_t next = 0, first = 0;
	int err, ret;

	ret = parse_record_args(cmd, argc, argv, &a);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;
	catch_signals(true);

	err = record_stats(&a, &info);
	if (err == -EINTR)
		return exit_by_signal(caught_signal);
	if (err < 0)
		return ring_error(cmd, a.name, err);
	a.ro.name = a.name;
	a.ro.created_ns = info.created_ns;
	a.ro.mode = info.mode & 0777;
	err = ringcast_rec_create(a.path, &a.ro, &r.rec, &next);
	if (err < 0)
		return rec_error(cmd, a.path, err);
	if (err == 1) {
		/* Continue after the last recorded event. */
		a.so.from = RINGCAST_FROM_SEQ;
		a.so.seq = next;
		r.next = next;
		r.have_next = true;
	}
	err = ringcast_sub_attach(a.name, &a.so, &r.sub, &first);
	if (err < 0) {
		ringcast_rec_close(r.rec);
		if (err == -EACCES && (a.so.flags & RINGCAST_SUB_RELIABLE))
			return fail(cmd, a.name,
				    "recording reliably needs write permission "
				    "on the ring (or --lossy)");
		return ring_error(cmd, a.name, err);
	}
	atomic_store(&signal_sub, r.sub);
	err = record_loop(&r);
	atomic_store(&signal_sub, NULL);
	ringcast_sub_detach(r.sub);
	ret = ringcast_rec_close(r.rec);
	if (r.rec_failed)
		return rec_fail(cmd, a.path, "%s", strerror(-err));
	if (ret < 0)
		return rec_fail(cmd, a.path, "%s", strerror(-ret));
	switch (err) {
	case -EPIPE:
		return EXIT_SUCCESS;
	case -EINTR:
		return exit_by_signal(caught_signal);
	case -EOWNERDEAD:
		return fail(cmd, a.name,
			    "publisher died without closing the ring");
	default:
		return ring_error(cmd, a.name, err);
	}
}

/* ----------------------------------------------------------------------
 * cat
 */

const char cat_help[] =
	"Usage: ringcast cat PATH [--from SEQ] [--types T1,T2,...]\n"
	"                    [--count N] [--format text|nul|json|raw]\n"
	"                    [--on-damage skip|stop]\n"
	"\n"
	"Print the events of the recording in directory PATH, as sub\n"
	"prints those of a ring, up to its end.\n"
	"\n"
	"  --from SEQ         from this sequence (found by the index)\n"
	"  --types LIST       only these type tags (comma-separated)\n"
	"  --count N          stop after N events\n"
	"  --format FMT       as sub: text (or lines), nul, json, raw; in\n"
	"                     json a gap, hole or takeover is an object\n"
	"                     with \"gap\", \"hole\" or \"takeover\"\n"
	"  --on-damage HOW    a damaged record (checksum, length, a segment\n"
	"                     cut short) is reported on standard error with\n"
	"                     its segment file and offset; skip goes on\n"
	"                     with the next whole record (the default),\n"
	"                     stop ends there\n"
	"\n"
	"Gaps and holes are reported on standard error in the text, nul\n"
	"and raw formats.\n"
	"Exit status: 0 the whole recording was read; 1 a damaged record\n"
	"was found (after the rest, with skip), or an error; 2 usage.\n";

struct cat_args {
	const char *path;
	uint64_t from;
	bool have_from;
	uint64_t count;
	bool have_count;
	uint32_t types[RINGCAST_MAX_TYPES];
	uint32_t ntypes;
	enum ev_format format;
	bool stop_on_damage;
};

static int parse_cat_args(const struct command *cmd, int argc, char **argv,
			  struct cat_args *a)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "types", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'F' },
		{ "on-damage", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
		case 'f':
			if (parse_u64(optarg, UINT64_MAX, false, &a->from))
				return usage_error(
					cmd, "--from: '%s' is not a sequence",
					optarg);
			a->have_from = true;
			break;
		case 't':
			if (opt_types(cmd, optarg, a->types, &a->ntypes))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_u64(optarg, UINT64_MAX, false, &a->count))
				return usage_error(
					cmd, "--count: '%s' is not a number",
					optarg);
			a->have_count = true;
			break;
		case 'F':
			/* "lines": what cat first called text. */
			if (!strcmp(optarg, "lines"))
				a->format = FMT_TEXT;
			else if (opt_ev_format(cmd, optarg, &a->format))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!strcmp(optarg, "skip"))
				a->stop_on_damage = false;
			else if (!strcmp(optarg, "stop"))
				a->stop_on_damage = true;
			else
				return usage_error(
					cmd,
					"--on-damage: '%s' is not skip or stop",
					optarg);
			break;
		}
	}
	if (c)
		return c == OPT_HELP ? -1 : EXIT_USAGE;
	a->path = one_name(cmd, argc, argv);
	if (!a->path)
		return EXIT_USAGE;
	return 0;
}

/* One event as sub writes it: the one format vocabulary (common.c). */
static void cat_event(const struct ringcast_event *ev, enum ev_format f)
{
	write_event(ev, f);
}

static void cat_mark(const struct command *cmd, const struct cat_args *a,
		     const struct ringcast_rec_entry *e)
{
	static const char *const what[] = { "event", "gap", "hole",
					    "takeover" };

	if (a->format == FMT_JSON) {
		if (e->kind == RINGCAST_REC_TAKEOVER)
			fprintf(stdout,
				"{\"seq\":%" PRIu64 ",\"ts\":%" PRIu64
				",\"takeover\":%" PRIu32 "}\n",
				e->ev.seq, e->ev.ts, e->ev.epoch);
		else
			fprintf(stdout,
				"{\"seq\":%" PRIu64 ",\"ts\":%" PRIu64
				",\"%s\":%" PRIu64 "}\n",
				e->ev.seq, e->ev.ts, what[e->kind], e->count);
		return;
	}
	if (e->kind == RINGCAST_REC_TAKEOVER)
		return;
	fflush(stdout);
	rec_note(cmd, a->path,
		 "%s: %" PRIu64 " events %s (%" PRIu64 " to %" PRIu64 ")",
		 what[e->kind], e->count,
		 e->kind == RINGCAST_REC_GAP ? "lost" : "aborted", e->ev.seq,
		 e->ev.seq + e->count - 1);
}

static bool cat_wanted(const struct cat_args *a, uint32_t type)
{
	unsigned int i;

	if (!a->ntypes)
		return true;
	for (i = 0; i < a->ntypes; i++)
		if (a->types[i] == type)
			return true;
	return false;
}

int cmd_cat(const struct command *cmd, int argc, char **argv)
{
	struct cat_args a = { 0 };
	struct ringcast_rec *rec;
	struct ringcast_rec_entry e;
	uint64_t seen = 0;
	bool damaged = false;
	char *outbuf;
	int err, ret;

	ret = parse_cat_args(cmd, argc, argv, &a);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;
	outbuf = malloc(CAT_OUT_BUF);
	if (outbuf)
		setvbuf(stdout, outbuf, _IOFBF, CAT_OUT_BUF);
	catch_signals(true);

	err = ringcast_rec_open(a.path, 0, &rec);
	if (err)
		return rec_error(cmd, a.path, err);
	if (a.have_from) {
		err = ringcast_rec_seek(rec, a.from);
		if (err < 0) {
			ringcast_rec_close(rec);
			return rec_error(cmd, a.path, err);
		}
	}
	for (;;) {
		if (a.have_count && seen == a.count)
			break;
		if (caught_signal) {
			ringcast_rec_close(rec);
			return exit_by_signal(caught_signal);
		}
		err = ringcast_rec_next(rec, &e);
		if (err == -EAGAIN)
			break;
		if (err == -EBADMSG) {
			fflush(stdout);
			rec_note(cmd, a.path,
				 "damaged record in %s at offset %" PRIu64 "%s",
				 e.segment, e.offset,
				 a.stop_on_damage ? "" : ": skipped");
			damaged = true;
			if (a.stop_on_damage)
				break;
			continue;
		}
		if (err < 0) {
			ringcast_rec_close(rec);
			fflush(stdout);
			return rec_error(cmd, a.path, err);
		}
		if (e.kind != RINGCAST_REC_EVENT) {
			cat_mark(cmd, &a, &e);
			continue;
		}
		if (!cat_wanted(&a, e.ev.type))
			continue;
		cat_event(&e.ev, a.format);
		if (ferror_unlocked(stdout))
			break;
		seen++;
	}
	ringcast_rec_close(rec);
	ret = finish_output(cmd);
	if (ret)
		return ret;
	return damaged ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * replay
 */

const char replay_help[] =
	"Usage: ringcast replay PATH NAME [--speed X | --max] [--from SEQ]\n"
	"                       [--wait-subscribers N] [--slots N]\n"
	"                       [--slot-size BYTES] [--data-size BYTES]\n"
	"                       [--mode OCTAL]\n"
	"\n"
	"Publish the events of the recording in directory PATH into ring\n"
	"NAME, created if it does not exist, then close the ring.\n"
	"\n"
	"  --speed X          the recorded timing, X times faster (default\n"
	"                     1: as recorded)\n"
	"  --max              as fast as the ring takes them\n"
	"  --from SEQ         from this recorded sequence\n"
	"  --wait-subscribers N\n"
	"                     wait for N subscribers before the first event\n"
	"  --slots N, --slot-size BYTES, --data-size BYTES, --mode OCTAL\n"
	"                     the geometry of a ring it creates, as for\n"
	"                     'ringcast create'\n"
	"\n"
	"The events get the ring's sequences; gaps and holes of the\n"
	"recording are not reproduced.  A damaged record is reported and\n"
	"skipped.\n"
	"Exit status: 0 all published; 1 a damaged record was skipped, or\n"
	"an error; 2 usage.\n";

static void sleep_until(int64_t t)
{
	struct timespec ts = { t / NSEC_PER_SEC, t % NSEC_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
		       EINTR &&
	       !caught_signal)
		;
}

int cmd_replay(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "speed", required_argument, NULL, 'x' },
		{ "max", no_argument, NULL, 'M' },
		{ "from", required_argument, NULL, 'f' },
		{ "wait-subscribers", required_argument, NULL, 'W' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'z' },
		{ "data-size", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ringcast_ring_opts geo = { 0 };
	unsigned int cflags = 0;
	const char *path, *name;
	double speed = 1.0;
	bool max = false, have_speed = false, damaged = false;
	uint64_t from = 0;
	bool have_from = false;
	uint32_t nsubs = 0;
	struct ringcast_rec *rec;
	struct ringcast_pub *pub;
	struct ringcast_rec_entry e;
	int64_t t0 = 0, ts0 = 0;
	bool started = false;
	char *end;
	int c, err, ret = EXIT_SUCCESS;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
		case 'x':
			speed = strtod(optarg, &end);
			if (*end || !(speed > 0) || speed > 1e9)
				return usage_error(
					cmd,
					"--speed: '%s' is not a positive "
					"number",
					optarg);
			have_speed = true;
			break;
		case 'M':
			max = true;
			break;
		case 'f':
			if (parse_u64(optarg, UINT64_MAX, false, &from))
				return usage_error(
					cmd, "--from: '%s' is not a sequence",
					optarg);
			have_from = true;
			break;
		case 'W':
			if (opt_u32(cmd, "wait-subscribers", optarg, 0,
				    RINGCAST_MAX_SUBSCRIBERS, false, &nsubs))
				return EXIT_USAGE;
			break;
		default:
			if (opt_geometry(cmd, c, optarg, &geo, &cflags))
				return EXIT_USAGE;
			break;
		}
	}
	if (c)
		return opt_status(c);
	if (max && have_speed)
		return usage_error(cmd, "--speed and --max exclude each other");
	if (optind + 2 != argc)
		return usage_error(cmd, "expected PATH and NAME");
	path = argv[optind];
	name = argv[optind + 1];
	catch_signals(false);

	err = ringcast_rec_open(path, 0, &rec);
	if (err)
		return rec_error(cmd, path, err);
	if (have_from && (err = ringcast_rec_seek(rec, from)) < 0) {
		ringcast_rec_close(rec);
		return rec_error(cmd, path, err);
	}
	err = ringcast_ring_create(name, &geo, cflags);
	if (err < 0) {
		ringcast_rec_close(rec);
		return ring_error(cmd, name, err);
	}
	err = ringcast_pub_attach(name, 0, &pub);
	if (err < 0) {
		ringcast_rec_close(rec);
		return ring_error(cmd, name, err);
	}
	atomic_store(&signal_pub, pub);
	if (nsubs) {
		err = ringcast_pub_wait_subscribers(pub, nsubs, -1);
		if (err < 0)
			goto out_err;
	}
	for (;;) {
		if (caught_signal)
			break;
		err = ringcast_rec_next(rec, &e);
		if (err == -EAGAIN)
			break;
		if (err == -EBADMSG) {
			rec_note(cmd, path,
				 "damaged record in %s at offset %" PRIu64
				 ": skipped",
				 e.segment, e.offset);
			damaged = true;
			continue;
		}
		if (err < 0) {
			atomic_store(&signal_pub, NULL);
			ringcast_pub_close(pub);
			ringcast_rec_close(rec);
			return rec_error(cmd, path, err);
		}
		if (e.kind != RINGCAST_REC_EVENT)
			continue;
		if (!max) {
			/* The recorded distance from the first event. */
			if (!started) {
				t0 = now_ns();
				ts0 = (int64_t)e.ev.ts;
				started = true;
			} else if ((int64_t)e.ev.ts > ts0) {
				sleep_until(
					t0 +
					(int64_t)((double)((int64_t)e.ev.ts -
							   ts0) /
						  speed));
			}
		}
		err = ringcast_pub_publish(pub, e.ev.type, e.ev.data, e.ev.len);
		if (err == -EMSGSIZE) {
			ret = fail(
				cmd, name,
				"event %" PRIu64 " of %" PRIu32
				" bytes is larger than the ring's largest "
				"event (create it with a larger --data-size)",
				e.ev.seq, e.ev.len);
			break;
		}
		if (err < 0 && !(err == -EINTR && caught_signal))
			goto out_err;
	}
	atomic_store(&signal_pub, NULL);
	ringcast_rec_close(rec);
	err = ringcast_pub_close(pub);
	if (caught_signal)
		return exit_by_signal(caught_signal);
	if (err < 0)
		return ring_error(cmd, name, err);
	return ret == EXIT_SUCCESS && damaged ? EXIT_FAILURE : ret;
out_err:
	atomic_store(&signal_pub, NULL);
	ringcast_pub_close(pub);
	ringcast_rec_close(rec);
	if (err == -EINTR && caught_signal)
		return exit_by_signal(caught_signal);
	return ring_error(cmd, name, err);
}
