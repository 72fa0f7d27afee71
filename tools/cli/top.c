// SPDX-License-Identifier: MIT
/*
 * ringcast top: watch rings and their subscribers live, like top(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

const char top_help[] =
	"Usage: ringcast top [NAME...] [--interval SECONDS]\n"
	"                    [--iterations N]\n"
	"\n"
	"Show the rings (all of them, or those named) like top(1),\n"
	"refreshed every second: each ring's state, publisher, head,\n"
	"publish rate (events/s), times the publisher was blocked by a\n"
	"reliable subscriber and for how long, demotions; and each\n"
	"subscriber's pid, mode, lag, rate and counts.  On a terminal\n"
	"it redraws in place and 'q' quits; otherwise it prints one\n"
	"snapshot after another, separated by a blank line.\n"
	"\n"
	"  --interval SECONDS  time between refreshes (default 1,\n"
	"                      fractions allowed, at least 0.01)\n"
	"  --iterations N      stop after N snapshots (default: until\n"
	"                      'q' or a signal)\n"
	"\n"
	"Rates need two snapshots: the first shows '-'.\n"
	"Exit status: 0, 1 error, 2 usage.\n";

/* One ring as the last frame saw it, for the rates of the next. */
struct top_sample {
	char *name;
	int64_t t;
	uint64_t head;
	struct ringcast_ring_subscriber *subs;
	int nsubs;
	bool seen; /* in the current frame */
};

struct top {
	struct top_sample *v;
	size_t n, cap;
	int64_t interval_ns;
	bool tty; /* stdout is a terminal: redraw in place */
	bool keys; /* stdin is a terminal in raw mode: 'q' quits */
	unsigned short rows, cols;
};

static struct termios top_saved_tio;
static bool top_raw;
static volatile sig_atomic_t top_winch;

static void top_on_winch(int sig)
{
	top_winch = 1;
}

/* Restore the terminal: echo, line mode, the cursor.  Also at exit. */
static void top_restore(void)
{
	if (top_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved_tio);
		top_raw = false;
	}
}

static void top_cursor_back(void)
{
	fputs("\033[?25h", stdout);
	fflush(stdout);
}

/* Keys one at a time, no echo; signals from keys (Ctrl-C) still work. */
static bool top_raw_mode(void)
{
	struct termios tio;

	if (tcgetattr(STDIN_FILENO, &top_saved_tio))
		return false;
	tio = top_saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio))
		return false;
	top_raw = true;
	atexit(top_restore);
	return true;
}

static void top_winsize(struct top *t)
{
	struct winsize ws;

	t->rows = 24;
	t->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
}

/* "987", "12.3k", "4.56M": at most 6 characters for a rate or a count. */
static const char *human(char *buf, size_t size, double v)
{
	static const char units[] = " kMGTPE";
	unsigned int u = 0;

	if (v < 10000) {
		snprintf(buf, size, "%.0f", v);
		return buf;
	}
	while (v >= 1000 && u < sizeof(units) - 2) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size,
		 v < 10	 ? "%.2f%c" :
		 v < 100 ? "%.1f%c" :
			   "%.0f%c",
		 v, units[u]);
	return buf;
}

static struct top_sample *top_find(struct top *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

/* The same subscription in the last frame: same entry, owner and start. */
static const struct ringcast_ring_subscriber *
top_find_sub(const struct top_sample *s,
	     const struct ringcast_ring_subscriber *si)
{
	int i;

	for (i = 0; s && i < s->nsubs; i++)
		if (s->subs[i].id == si->id && s->subs[i].pid == si->pid &&
		    s->subs[i].first == si->first)
			return &s->subs[i];
	return NULL;
}

/* Events per second between @then and @now, "-" when there is no then. */
static const char *top_rate(char *buf, size_t size, bool have, uint64_t then,
			    uint64_t now, int64_t dt)
{
	if (!have || now < then || dt <= 0)
		return "-";
	return human(buf, size, (double)(now - then) * NSEC_PER_SEC / dt);
}

static void top_ring(FILE *f, struct top *t, const char *name, int64_t now)
{
	struct top_sample *prev = top_find(t, name);
	struct ringcast_ring_stats info;
	struct ringcast_ring_subscriber *subs;
	char b1[16], b2[16], b3[16];
	int64_t dt = prev ? now - prev->t : 0;
	int i, nsubs, err;

	err = get_ring(name, &info, &subs, &nsubs);
	if (err < 0) {
		fprintf(f, "%s: %s\n\n", name, ringcast_strerror(err));
		return;
	}
	fprintf(f, "%s: %s, publisher ", name, state_name(info.state));
	if (info.publisher_pid > 0)
		fprintf(f, "%" PRId32 " (%s)", info.publisher_pid,
			info.publisher_alive > 0  ? "alive" :
			info.publisher_alive == 0 ? "dead" :
						    "alive?");
	else
		fputs("none", f);
	fprintf(f, ", %" PRIu32 " slots of %" PRIu32 " B", info.slots,
		info.slot_size);
	if (info.demote_ns)
		fprintf(f, ", demote after %g s",
			(double)info.demote_ns / NSEC_PER_SEC);
	fprintf(f,
		"\n  head %" PRIu64 "  %s ev/s  blocked %s (%.1f s)"
		"  demotions %" PRIu64 "  subscribers %d (%" PRIu32
		" reliable)\n",
		info.head,
		top_rate(b1, sizeof(b1), prev, prev ? prev->head : 0, info.head,
			 dt),
		human(b2, sizeof(b2), (double)info.blocked),
		(double)info.blocked_ns / NSEC_PER_SEC, info.demotions, nsubs,
		info.reliable);
	if (nsubs)
		fprintf(f, "  %4s %7s %-5s %-8s %10s %8s %10s %8s\n", "ID",
			"PID", "ALIVE", "MODE", "LAG", "EV/S", "DELIVERED",
			"LOST");
	for (i = 0; i < nsubs; i++) {
		const struct ringcast_ring_subscriber *si = &subs[i];
		const struct ringcast_ring_subscriber *ps =
			top_find_sub(prev, si);

		fprintf(f,
			"  %4" PRIu32 " %7" PRId32 " %-5s %-8s %10" PRIu64
			" %8s %10" PRIu64 " %8" PRIu64 "%s\n",
			si->id, si->pid, alive_name(si->alive, false),
			sub_mode(si), si->lag,
			top_rate(b3, sizeof(b3), ps, ps ? ps->delivered : 0,
				 si->delivered, dt),
			si->delivered, si->lost,
			/* A whole ring behind: the publisher waits for it. */
			(si->flags & RINGCAST_SUBSCRIBER_RELIABLE) &&
					si->lag >= info.slots ?
				"  holds the publisher" :
				"");
	}
	fputc('\n', f);

	/* Keep this sample for the next frame's rates. */
	if (!prev) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 16;
			struct top_sample *v = realloc(t->v, cap * sizeof(*v));

			if (!v)
				goto out_free;
			t->v = v;
			t->cap = cap;
		}
		prev = &t->v[t->n];
		*prev = (struct top_sample){ .name = strdup(name) };
		if (!prev->name)
			goto out_free;
		t->n++;
	}
	free(prev->subs);
	prev->t = now;
	prev->head = info.head;
	prev->subs = subs;
	prev->nsubs = nsubs;
	prev->seen = true;
	return;
out_free:
	free(subs);
}

/* Forget the rings the frame did not show (removed). */
static void top_sweep(struct top *t)
{
	size_t i = 0;

	while (i < t->n) {
		if (t->v[i].seen) {
			t->v[i++].seen = false;
			continue;
		}
		free(t->v[i].name);
		free(t->v[i].subs);
		t->v[i] = t->v[--t->n];
	}
}

/* Write the frame: in place on a terminal, cut to its size. */
static void top_show(struct top *t, const char *frame, size_t len)
{
	const char *p = frame, *end = frame + len;
	unsigned int row = 0;

	if (!t->tty) {
		fwrite(frame, 1, len, stdout);
		fflush(stdout);
		return;
	}
	top_winsize(t);
	fputs("\033[H\033[2J", stdout);
	while (p < end && row + 1 < t->rows) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		fwrite(p, 1, n < t->cols ? n : t->cols, stdout);
		p += n + (nl != NULL);
		/* The terminal's output processing adds the \r. */
		if (p < end && row + 2 < t->rows)
			fputc('\n', stdout);
		row++;
	}
	fflush(stdout);
}

static int top_frame(struct top *t, char **names, size_t nnames, bool all)
{
	struct name_list list = { 0 };
	char *frame = NULL, when[32] = "";
	size_t len = 0, i;
	int64_t now = now_ns();
	time_t wall = time(NULL);
	struct tm tm;
	FILE *f;
	int err;

	if (all) {
		err = list_rings(&list);
		if (err < 0)
			return err;
		names = list.names;
		nnames = list.n;
	}
	f = open_memstream(&frame, &len);
	if (!f) {
		free_names(&list);
		return -ENOMEM;
	}
	if (localtime_r(&wall, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "ringcast top - %s, %zu ring%s, every %g s%s\n\n", when,
		nnames, nnames == 1 ? "" : "s",
		(double)t->interval_ns / NSEC_PER_SEC,
		t->keys ? ", q quits" : "");
	for (i = 0; i < nnames; i++)
		top_ring(f, t, names[i], now);
	if (fclose(f)) {
		free(frame);
		free_names(&list);
		return -ENOMEM;
	}
	top_sweep(t);
	top_show(t, frame, len);
	free(frame);
	free_names(&list);
	return 0;
}

/*
 * Wait for the next frame: until @deadline, a key, a resize or a signal.
 * Return: 1 to quit ('q'), 0 otherwise.
 */
static int top_wait(struct top *t, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t left = deadline - now_ns();
		char keys[64];
		ssize_t r, i;

		if (caught_signal || top_winch || left <= 0)
			return 0;
		if (poll(&pfd, t->keys ? 1 : 0,
			 (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC)) <=
		    0)
			continue;
		r = read(STDIN_FILENO, keys, sizeof(keys));
		if (r == 0) {
			t->keys = false; /* the terminal went away */
			continue;
		}
		for (i = 0; i < r; i++)
			if (keys[i] == 'q' || keys[i] == 'Q')
				return 1;
	}
}

int cmd_top(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top t = { .interval_ns = NSEC_PER_SEC };
	struct sigaction sa = { .sa_handler = top_on_winch };
	uint64_t iterations = 0, done;
	int c, err, ret = EXIT_SUCCESS;
	size_t i;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, UINT64_MAX, false, &iterations))
				return usage_error(
					cmd,
					"--iterations: '%s' is not a number",
					optarg);
			break;
		case 'i':
			if (opt_seconds(cmd, "interval", optarg,
					10 * NSEC_PER_MSEC,
					"a number of seconds from 0.01",
					&t.interval_ns))
				return EXIT_USAGE;
			break;
		}
	}
	if (c)
		return opt_status(c);
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (strlen(argv[i]) > RINGCAST_NAME_MAX)
			return usage_error(cmd, "'%s' is not a ring name",
					   argv[i]);

	t.tty = isatty(STDOUT_FILENO);
	catch_signals(false);
	if (t.tty) {
		t.keys = isatty(STDIN_FILENO) && top_raw_mode();
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
		fputs("\033[?25l", stdout);
	}
	for (done = 0; !iterations || done < iterations; done++) {
		int64_t start = now_ns();

		top_winch = 0;
		if (done && !t.tty)
			putchar('\n');
		err = top_frame(&t, argv + optind, (size_t)(argc - optind),
				optind == argc);
		if (err < 0) {
			ret = fail(cmd, NULL, "%s", ringcast_strerror(err));
			break;
		}
		if (ferror(stdout)) {
			ret = output_error(cmd, errno);
			break;
		}
		if (iterations && done + 1 == iterations)
			break;
		if (top_wait(&t, start + t.interval_ns) || caught_signal)
			break;
	}
	top_restore();
	if (t.tty) {
		fputc('\n', stdout);
		top_cursor_back();
	}
	for (i = 0; i < t.n; i++) {
		free(t.v[i].name);
		free(t.v[i].subs);
	}
	free(t.v);
	if (caught_signal)
		return exit_by_signal(caught_signal);
	if (ret == EXIT_SUCCESS)
		ret = finish_output(cmd);
	return ret;
}
