// SPDX-License-Identifier: MIT
/*
 * ringcast sub: print the events of a ring, in one of the forms of
 * common.h (text, nul, json, raw).
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

/* How often sub --wait looks for the ring to appear. */
#define ATTACH_POLL_NS (10 * NSEC_PER_MSEC)
/* sub's stdout buffer. */
#define SUB_OUT_BUF (1u << 18)

const char sub_help[] =
	"Usage: ringcast sub NAME [--from oldest|newest|SEQ]\n"
	"                         [--types T1,T2,...] [--count N]\n"
	"                         [--timeout SECONDS] [--wait | --follow]\n"
	"                         [--strategy busy|spin|sleep]\n"
	"                         [--format text|nul|json|raw]\n"
	"                         [--reliable [--demote-after SECONDS]]\n"
	"                         [--fail-on-loss] [--archive PATH]\n"
	"\n"
	"Print the events until the end of the stream.\n"
	"\n"
	"  --from WHERE       the oldest retained event, the newest (the\n"
	"                     default: events published from now on), or\n"
	"                     a sequence number\n"
	"  --types LIST       only these type tags (comma-separated)\n"
	"  --count N          stop after N events\n"
	"  --timeout SECONDS  give up when no event came for that long\n"
	"                     (fractions allowed); also bounds --wait\n"
	"  --wait             wait for the ring to be created\n"
	"  --follow           --wait, and follow the ring across publisher\n"
	"                     restarts: a publisher that dies is not the\n"
	"                     end, the next one's events follow; it ends\n"
	"                     when the ring is closed (or removed)\n"
	"  --strategy HOW     when caught up: spin a little then sleep\n"
	"                     (spin, the default), spin only (busy), or\n"
	"                     sleep at once (sleep)\n"
	"  --format FMT       text: the payload as is, then a newline;\n"
	"                     nul: the payload, then a NUL byte;\n"
	"                     json: one object per line with seq, type,\n"
	"                     ts, len, epoch and data, or data_base64 when\n"
	"                     the payload is not valid UTF-8;\n"
	"                     raw: a frame per event, the payload's length\n"
	"                     and its type (little-endian u32 each), then\n"
	"                     the payload ('ringcast pub' reads them all)\n"
	"  --reliable         gate the publisher: it waits rather than\n"
	"                     overwrite an event this subscriber has not\n"
	"                     read, so none is lost (a slow reader slows\n"
	"                     the publisher)\n"
	"  --demote-after SECONDS\n"
	"                     with --reliable: if it keeps the publisher\n"
	"                     blocked this long, become lossy (when\n"
	"                     shorter than the ring's own limit)\n"
	"  --archive PATH     the ring's recording (ringcast record): read\n"
	"                     the events the ring no longer holds from it,\n"
	"                     then the ring, every sequence once and in\n"
	"                     order (with --from SEQ or oldest: the\n"
	"                     recording's first event)\n"
	"  --fail-on-loss     exit status 3, not 0, when the stream ended\n"
	"                     but events were lost or the subscriber was\n"
	"                     demoted\n"
	"\n"
	"Events lost when the subscriber is lapped are reported on\n"
	"standard error as 'lost N events'; reading goes on.  A reliable\n"
	"subscriber that is demoted says 'demoted to lossy' there once\n"
	"and goes on.\n"
	"Exit status: 0 end of stream, --count reached, or the reader of\n"
	"the output went away; 1 timeout, publisher died (without\n"
	"--follow), or error; 2 usage; 3 as 0, but with --fail-on-loss\n"
	"events were lost.  SIGINT, SIGTERM and SIGHUP stop it after\n"
	"flushing the output; it then dies by that signal (status 130\n"
	"for Ctrl-C).\n";

struct sub_args {
	const char *name;
	struct ringcast_sub_opts opts;
	uint32_t types[RINGCAST_MAX_TYPES];
	uint64_t count;
	bool have_count;
	int64_t timeout_ns; /* < 0: none */
	const char *timeout; /* as given, for messages */
	bool wait;
	bool fail_on_loss;
	enum ev_format fmt;
	const char *archive; /* a recording to read before the ring */
};

/* What a stream lost: for --fail-on-loss. */
struct sub_losses {
	uint64_t lost; /* events lost in laps */
	bool demoted;
};

/*
 * Return: 0 to go on, -1 after the help was printed, or the exit status
 * of a usage error.
 */
static int parse_sub_args(const struct command *cmd, int argc, char **argv,
			  struct sub_args *a)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "types", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "wait", no_argument, NULL, 'w' },
		{ "strategy", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'F' },
		{ "follow", no_argument, NULL, 'L' },
		{ "fail-on-loss", no_argument, NULL, 'X' },
		{ "reliable", no_argument, NULL, 'R' },
		{ "demote-after", required_argument, NULL, 'D' },
		{ "archive", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ns;
	int c;

	a->opts.from = RINGCAST_FROM_NEWEST;
	a->opts.wait = RINGCAST_WAIT_SPIN;
	a->opts.types = a->types;
	a->timeout_ns = -1;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "oldest")) {
				a->opts.from = RINGCAST_FROM_OLDEST;
			} else if (!strcmp(optarg, "newest")) {
				a->opts.from = RINGCAST_FROM_NEWEST;
			} else if (!parse_u64(optarg, UINT64_MAX, false,
					      &a->opts.seq)) {
				a->opts.from = RINGCAST_FROM_SEQ;
			} else {
				return usage_error(
					cmd,
					"--from: '%s' is not oldest, newest or a sequence",
					optarg);
			}
			break;
		case 't':
			if (opt_types(cmd, optarg, a->types, &a->opts.ntypes))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_u64(optarg, UINT64_MAX, false, &a->count))
				return usage_error(
					cmd, "--count: '%s' is not a number",
					optarg);
			a->have_count = true;
			break;
		case 'T':
			if (opt_seconds(cmd, "timeout", optarg, 0,
					"a number of seconds", &a->timeout_ns))
				return EXIT_USAGE;
			a->timeout = optarg;
			break;
		case 'w':
			a->wait = true;
			break;
		case 's':
			if (!strcmp(optarg, "busy"))
				a->opts.wait = RINGCAST_WAIT_BUSY;
			else if (!strcmp(optarg, "spin"))
				a->opts.wait = RINGCAST_WAIT_SPIN;
			else if (!strcmp(optarg, "sleep"))
				a->opts.wait = RINGCAST_WAIT_SLEEP;
			else
				return usage_error(
					cmd,
					"--strategy: '%s' is not busy, spin or sleep",
					optarg);
			break;
		case 'F':
			if (opt_ev_format(cmd, optarg, &a->fmt))
				return EXIT_USAGE;
			break;
		case 'L':
			/* Across takeovers; the ring may not exist yet. */
			a->opts.flags |= RINGCAST_SUB_RESUBSCRIBE;
			a->wait = true;
			break;
		case 'X':
			a->fail_on_loss = true;
			break;
		case 'A':
			a->archive = optarg;
			break;
		case 'R':
			a->opts.flags |= RINGCAST_SUB_RELIABLE;
			break;
		case 'D':
			if (opt_seconds(cmd, "demote-after", optarg, 1,
					"a positive number of seconds", &ns))
				return EXIT_USAGE;
			a->opts.demote_ns = (uint64_t)ns;
			break;
		}
	}
	if (c)
		return c == OPT_HELP ? -1 : EXIT_USAGE;
	if (a->opts.demote_ns && !(a->opts.flags & RINGCAST_SUB_RELIABLE))
		return usage_error(cmd, "--demote-after needs --reliable");
	if (a->archive && a->opts.from == RINGCAST_FROM_NEWEST)
		return usage_error(cmd, "--archive needs --from SEQ or oldest");
	a->name = one_name(cmd, argc, argv);
	if (!a->name)
		return EXIT_USAGE;
	return 0;
}

/* Attach; with --wait, poll until the ring exists or --timeout passes. */
static int sub_attach(const struct sub_args *a, struct ringcast_sub **subp)
{
	int64_t deadline = a->timeout_ns >= 0 ? now_ns() + a->timeout_ns : 0;

	for (;;) {
		struct timespec ts;
		int64_t left = ATTACH_POLL_NS;
		int err;

		err = ringcast_sub_attach(a->name, &a->opts, subp, NULL);
		if (err != -ENOENT || !a->wait)
			return err;
		if (caught_signal)
			return -EINTR;
		if (a->timeout_ns >= 0) {
			left = deadline - now_ns();
			if (left <= 0)
				return -ETIMEDOUT;
			if (left > ATTACH_POLL_NS)
				left = ATTACH_POLL_NS;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

/*
 * The next event: from the ring, or with --archive from the recording
 * then the ring; a wait for ever is cut in slices there, so that a
 * signal is seen while the recorder has not come far enough.
 */
static int sub_next(struct ringcast_sub *sub, struct ringcast_archive *ar,
		    struct ringcast_event *ev, int64_t timeout_ns)
{
	int err;

	if (!ar)
		return ringcast_sub_next(sub, ev, timeout_ns);
	if (timeout_ns >= 0)
		return ringcast_archive_next(ar, ev, timeout_ns);
	do
		err = ringcast_archive_next(ar, ev, 100 * NSEC_PER_MSEC);
	while (err == -ETIMEDOUT && !caught_signal);
	return err == -ETIMEDOUT ? -EINTR : err;
}

/*
 * Read events until the end of the stream or --count.  Return: 0 or a
 * negative errno that ended it; *@werr is set to an errno if writing
 * stdout failed.
 */
static int sub_loop(const struct command *cmd, const struct sub_args *a,
		    struct ringcast_sub *sub, struct ringcast_archive *ar,
		    int *werr, struct sub_losses *loss)
{
	struct ringcast_event ev;
	uint64_t seen = 0;
	int err;

	for (;;) {
		if (a->have_count && seen == a->count)
			return 0;
		if (caught_signal)
			return -EINTR;
		/* Flush only when about to block: prompt yet fast. */
		err = sub_next(sub, ar, &ev, 0);
		if (err == -EAGAIN) {
			if (fflush(stdout) == EOF) {
				*werr = errno;
				return 0;
			}
			err = sub_next(sub, ar, &ev, a->timeout_ns);
			if (err == -EAGAIN)
				err = -ETIMEDOUT;
		}
		if (err == -EOVERFLOW) {
			fflush(stdout);
			note(cmd, a->name, "lost %" PRIu64 " events", ev.lost);
			loss->lost += ev.lost;
			continue;
		}
		if (err == -ESTALE) {
			fflush(stdout);
			note(cmd, a->name,
			     "demoted to lossy: stuck past the demotion "
			     "limit; events may now be lost");
			loss->demoted = true;
			continue;
		}
		if (err == -EINTR && !caught_signal)
			continue;
		if (err < 0)
			return err;
		write_event(&ev, a->fmt);
		if (ferror_unlocked(stdout)) {
			*werr = errno;
			return 0;
		}
		seen++;
	}
}

/*
 * The publisher died: say so, with its pid while the ring is still marked
 * abandoned (after a takeover the pid would be the new publisher's).
 */
static int owner_dead(const struct command *cmd, const char *name)
{
	struct ringcast_ring_stats info;

	fflush(stdout);
	if (ringcast_ring_get_stats(name, &info) == 0 &&
	    info.state == RINGCAST_STATE_ABANDONED && info.publisher_pid > 0 &&
	    !(info.features & RINGCAST_FEAT_MULTI_PUB))
		return fail(cmd, name,
			    "publisher died (pid %" PRId32
			    ") without closing the ring",
			    info.publisher_pid);
	return fail(cmd, name, "publisher died without closing the ring");
}

int cmd_sub(const struct command *cmd, int argc, char **argv)
{
	struct sub_args a = { 0 };
	struct sub_losses loss = { 0 };
	struct ringcast_archive *ar = NULL;
	struct ringcast_sub *sub;
	int err, werr = 0, ret;
	char *outbuf;

	ret = parse_sub_args(cmd, argc, argv, &a);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;

	/* Lives until exit, when stdio flushes it for the last time. */
	outbuf = malloc(SUB_OUT_BUF);
	if (outbuf)
		setvbuf(stdout, outbuf, _IOFBF, SUB_OUT_BUF);
	catch_signals(true);

	if (a.archive) {
		err = ringcast_archive_open(a.name, a.archive, &a.opts, &ar);
		if (err == -ENODATA)
			return fail(cmd, a.archive, "nothing recorded yet");
		if (err < 0 && err != -EUSERS && err != -EACCES)
			return ring_error(cmd, a.archive, err);
		sub = ringcast_archive_sub(ar);
	} else {
		err = sub_attach(&a, &sub);
	}
	if (err == -EINTR)
		return exit_by_signal(caught_signal);
	if (err == -ETIMEDOUT)
		return fail(cmd, a.name, "did not appear within %s seconds",
			    a.timeout);
	/* What a reliable subscriber needs that a lossy one does not. */
	if (err == -EACCES && (a.opts.flags & RINGCAST_SUB_RELIABLE))
		return fail(cmd, a.name,
			    "--reliable needs write permission on the ring");
	if (err == -EUSERS)
		return fail(
			cmd, a.name,
			"the subscriber table is full (--reliable needs "
			"an entry; see 'ringcast create --max-subscribers')");
	if (err < 0)
		return ring_error(cmd, a.name, err);

	atomic_store(&signal_sub, sub);
	/* A signal that came before is seen by sub_loop()'s first check. */
	err = sub_loop(cmd, &a, sub, ar, &werr, &loss);
	atomic_store(&signal_sub, NULL);
	if (ar)
		ringcast_archive_close(ar);
	else
		ringcast_sub_detach(sub);

	switch (err) {
	case 0:
	case -EPIPE:
		ret = EXIT_SUCCESS;
		break;
	case -EINTR:
		return exit_by_signal(caught_signal);
	case -ETIMEDOUT:
		ret = fail(cmd, a.name, "no event within %s seconds",
			   a.timeout);
		break;
	case -EOWNERDEAD:
		ret = owner_dead(cmd, a.name);
		break;
	default:
		ret = ring_error(cmd, a.name, err);
		break;
	}
	if (werr)
		ret = output_error(cmd, werr);
	else if (fflush(stdout) == EOF && ret == EXIT_SUCCESS)
		ret = output_error(cmd, errno);
	/* The stream ended as it should, but not all of it was read. */
	if (ret == EXIT_SUCCESS && a.fail_on_loss &&
	    (loss.lost || loss.demoted)) {
		if (loss.demoted)
			note(cmd, a.name,
			     "demoted to lossy, %" PRIu64
			     " events lost in all (--fail-on-loss)",
			     loss.lost);
		else
			note(cmd, a.name,
			     "%" PRIu64 " events lost in all (--fail-on-loss)",
			     loss.lost);
		ret = EXIT_PARTIAL;
	}
	return ret;
}
