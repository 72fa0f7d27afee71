// SPDX-License-Identifier: MIT
/*
 * ringcast top: watch rings and their subscribers live, like top(1).
 *
 * Each refresh takes a sample of every ring (a snapshot, its subscriber
 * table, the rates since the last sample) and renders it into lines; on a
 * terminal a window of those lines is shown, with a line above and below
 * saying what is off screen, and keys scroll, sort and show the help
 * without taking a new sample.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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
	"                    [--iterations N] [--sort KEY] [--json]\n"
	"\n"
	"Show the rings (all of them, or those named) like top(1),\n"
	"refreshed every second: each ring's state, publisher (pid and\n"
	"process name), head, publish rate (events/s), its data area\n"
	"(size, largest event, bytes/s written into it), times the\n"
	"publisher was blocked by a reliable subscriber and for how long\n"
	"(BLOCKED and the time so far while it is), demotions; and each\n"
	"subscriber's pid, process name, mode, lag, rate and counts.\n"
	"On a terminal it redraws in place, with keys ('?' lists them);\n"
	"otherwise it prints one snapshot after another, separated by a\n"
	"blank line.\n"
	"\n"
	"  --interval SECONDS  time between refreshes (default 1,\n"
	"                      fractions allowed, at least 0.01)\n"
	"  --iterations N      stop after N snapshots (default: until\n"
	"                      'q' or a signal)\n"
	"  --sort KEY          name (default), lag (the largest lag of a\n"
	"                      subscriber), rate (events published per\n"
	"                      second) or loss (events its subscribers\n"
	"                      lost); subscribers are sorted by the same\n"
	"                      key within their ring\n"
	"  --json              one JSON document per snapshot, a line\n"
	"                      each, never redrawn (for scripts)\n"
	"\n"
	"Keys: q quit, ? help, j/k or Up/Down scroll a line, PgUp/PgDn\n"
	"(b/space) a page, g/G or Home/End the top/bottom, s the next\n"
	"sort key, n l r o sort by name, lag, rate, loss.\n"
	"\n"
	"Rates need two snapshots: the first shows '-' (null in JSON).\n"
	"Process names are those of /proc/PID/comm: right only for\n"
	"processes of our PID namespace.\n"
	"Exit status: 0, 1 error (also: a named ring that does not\n"
	"exist), 2 usage.\n";

/* The keys' help screen, shown by '?'. */
static const char top_keys[] =
	"Keys of ringcast top\n"
	"\n"
	"  q            quit\n"
	"  ? h          this help; again: back\n"
	"  j k Down Up  scroll a line\n"
	"  space b      scroll a page (PgDn PgUp)\n"
	"  g G          top, bottom (Home End)\n"
	"  s            next sort key: name lag rate loss\n"
	"  n l r o      sort by name, lag, rate, loss\n"
	"\n"
	"lag: a ring's largest subscriber lag; rate: events\n"
	"published per second; loss: events its subscribers\n"
	"lost.  BLOCKED: a publisher waits for a reliable\n"
	"subscriber now, for that long so far.\n";

enum top_sort { TOP_BY_NAME, TOP_BY_LAG, TOP_BY_RATE, TOP_BY_LOSS, TOP_NSORT };

static const char *const top_sort_name[TOP_NSORT] = { "name", "lag", "rate",
						      "loss" };

/* One ring as the last sample saw it, for the rates of the next. */
struct top_sample {
	char *name;
	int64_t t;
	uint64_t head;
	uint64_t data_written;
	struct ringcast_ring_subscriber *subs;
	int nsubs;
	bool seen; /* in the current sample */
};

/* A process name: /proc/PID/comm is at most 15 characters. */
struct top_comm {
	char s[16];
};

/* A subscriber as shown. */
struct top_sub {
	struct ringcast_ring_subscriber si;
	double rate; /* events delivered per second; < 0: not known yet */
	struct top_comm comm;
};

/* A ring as shown. */
struct top_ring {
	char *name;
	int err; /* the snapshot failed: nothing else is set */
	struct ringcast_ring_stats st;
	struct top_sub *subs;
	int nsubs;
	double rate; /* events published per second; < 0: not known yet */
	double data_rate; /* bytes into the data area per second; < 0: idem */
	uint64_t blocked_for; /* ns of the wait going on now; 0: none */
	uint64_t max_lag, lost; /* of its subscribers: sort keys */
	struct top_comm comm; /* the publisher's */
};

struct top {
	struct top_sample *v; /* the last sample of each ring, for rates */
	size_t n, cap;
	struct top_ring *rings; /* the current sample */
	size_t nrings;
	time_t wall; /* when it was taken */
	int64_t interval_ns;
	enum top_sort sort;
	bool json; /* a JSON document per sample */
	bool tty; /* stdout is a terminal: redraw in place */
	bool keys; /* stdin is a terminal in raw mode: keys work */
	bool help; /* the keys' help instead of the rings */
	size_t top, help_top; /* the first line shown of each */
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

/* Bytes: "224 B", "64 KiB", "1.5 MiB". */
static const char *human_bytes(char *buf, size_t size, uint64_t v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double d = (double)v;

	while (d >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, d == (double)(uint64_t)d ? "%.0f %s" : "%.1f %s", d,
		 units[u]);
	return buf;
}

/* A rate, or "-" when not known yet. */
static const char *human_rate(char *buf, size_t size, double rate)
{
	return rate < 0 ? "-" : human(buf, size, rate);
}

/*
 * The name of process @pid, from /proc/PID/comm; empty when there is none
 * (no pid, a dead process whose pid may be another's now) or it cannot be
 * read (gone, hidden).  Printable ASCII only: a process names itself.
 */
static void top_comm(struct top_comm *c, int32_t pid, int32_t alive)
{
	char path[32];
	ssize_t n, i;
	int fd;

	c->s[0] = '\0';
	if (pid <= 0 || alive == 0)
		return;
	snprintf(path, sizeof(path), "/proc/%" PRId32 "/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, c->s, sizeof(c->s) - 1);
	close(fd);
	if (n <= 0) {
		c->s[0] = '\0';
		return;
	}
	if (c->s[n - 1] == '\n')
		n--;
	c->s[n] = '\0';
	for (i = 0; i < n; i++)
		if (c->s[i] <= ' ' || c->s[i] >= 0x7f || c->s[i] == '"' ||
		    c->s[i] == '\\')
			c->s[i] = '?';
}

/* A process name for the text: "-" when not known. */
static const char *top_comm_text(const struct top_comm *c)
{
	return c->s[0] ? c->s : "-";
}

/* A process name in JSON: null when not known. */
static void top_comm_json(const struct top_comm *c)
{
	if (c->s[0])
		json_string(c->s);
	else
		fputs("null", stdout);
}

static struct top_sample *top_find(struct top *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

/* The same subscription in the last sample: same entry, owner and start. */
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

/* Counts per second between @then and @now; -1 when there is no then. */
static double top_rate(bool have, uint64_t then, uint64_t now, int64_t dt)
{
	if (!have || now < then || dt <= 0)
		return -1;
	return (double)(now - then) * NSEC_PER_SEC / (double)dt;
}

/* Remember @subs of ring @name at @now for the next sample's rates. */
static void top_keep(struct top *t, struct top_sample *prev, const char *name,
		     int64_t now, const struct ringcast_ring_stats *st,
		     struct ringcast_ring_subscriber *subs, int nsubs)
{
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
	prev->head = st->head;
	prev->data_written = st->data_written;
	prev->subs = subs;
	prev->nsubs = nsubs;
	prev->seen = true;
	return;
out_free:
	free(subs);
}

/* Sample ring @name into @r.  Return: 0, or -ENOMEM. */
static int top_sample_ring(struct top *t, struct top_ring *r, const char *name,
			   int64_t now)
{
	struct top_sample *prev = top_find(t, name);
	struct ringcast_ring_subscriber *subs;
	int64_t dt = prev ? now - prev->t : 0;
	int i, nsubs;

	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	if (!r->name)
		return -ENOMEM;
	r->err = get_ring(name, &r->st, &subs, &nsubs);
	if (r->err < 0)
		return 0;
	r->rate = top_rate(prev, prev ? prev->head : 0, r->st.head, dt);
	r->data_rate = top_rate(prev, prev ? prev->data_written : 0,
				r->st.data_written, dt);
	top_comm(&r->comm, r->st.publisher_pid, r->st.publisher_alive);
	if (r->st.blocked_since_ns && (uint64_t)now > r->st.blocked_since_ns)
		r->blocked_for = (uint64_t)now - r->st.blocked_since_ns;
	if (nsubs) {
		r->subs = calloc((size_t)nsubs, sizeof(*r->subs));
		if (!r->subs) {
			free(subs);
			return -ENOMEM;
		}
	}
	for (i = 0; i < nsubs; i++) {
		struct top_sub *s = &r->subs[i];
		const struct ringcast_ring_subscriber *ps =
			top_find_sub(prev, &subs[i]);

		s->si = subs[i];
		s->rate = top_rate(ps, ps ? ps->delivered : 0, s->si.delivered,
				   dt);
		top_comm(&s->comm, s->si.pid, s->si.alive);
		if (s->si.lag > r->max_lag)
			r->max_lag = s->si.lag;
		r->lost += s->si.lost;
	}
	r->nsubs = nsubs;
	top_keep(t, prev, name, now, &r->st, subs, nsubs);
	return 0;
}

static void top_free_rings(struct top *t)
{
	size_t i;

	for (i = 0; i < t->nrings; i++) {
		free(t->rings[i].name);
		free(t->rings[i].subs);
	}
	free(t->rings);
	t->rings = NULL;
	t->nrings = 0;
}

/* Forget the rings the sample did not see (removed). */
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

/* Take a sample of the rings named, or of all.  Return: 0 or -errno. */
static int top_sample(struct top *t, char **names, size_t nnames, bool all)
{
	struct name_list list = { 0 };
	int64_t now = now_ns();
	size_t i;
	int err = 0;

	if (all) {
		err = list_rings(&list);
		if (err < 0)
			return err;
		names = list.names;
		nnames = list.n;
	}
	top_free_rings(t);
	t->wall = time(NULL);
	if (nnames) {
		t->rings = calloc(nnames, sizeof(*t->rings));
		if (!t->rings) {
			err = -ENOMEM;
			goto out_free_names;
		}
	}
	for (i = 0; i < nnames; i++) {
		err = top_sample_ring(t, &t->rings[i], names[i], now);
		t->nrings = i + 1;
		if (err < 0)
			goto out_free_names;
	}
	top_sweep(t);
out_free_names:
	free_names(&list);
	return err;
}

/* Larger first, unknown (< 0) last. */
static int top_cmp_desc(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static int top_cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static int top_cmp_ring(const void *pa, const void *pb, void *arg)
{
	const struct top_ring *a = pa, *b = pb;
	enum top_sort by = *(const enum top_sort *)arg;
	int c = 0;

	/* Rings that could not be read last. */
	if ((a->err < 0) != (b->err < 0))
		return a->err < 0 ? 1 : -1;
	if (a->err >= 0) {
		if (by == TOP_BY_LAG)
			c = top_cmp_u64_desc(a->max_lag, b->max_lag);
		else if (by == TOP_BY_RATE)
			c = top_cmp_desc(a->rate, b->rate);
		else if (by == TOP_BY_LOSS)
			c = top_cmp_u64_desc(a->lost, b->lost);
	}
	return c ? c : strcmp(a->name, b->name);
}

static int top_cmp_sub(const void *pa, const void *pb, void *arg)
{
	const struct top_sub *a = pa, *b = pb;
	enum top_sort by = *(const enum top_sort *)arg;
	int c = 0;

	if (by == TOP_BY_LAG)
		c = top_cmp_u64_desc(a->si.lag, b->si.lag);
	else if (by == TOP_BY_RATE)
		c = top_cmp_desc(a->rate, b->rate);
	else if (by == TOP_BY_LOSS)
		c = top_cmp_u64_desc(a->si.lost, b->si.lost);
	return c ? c : a->si.id < b->si.id ? -1 : a->si.id > b->si.id;
}

static void top_sort(struct top *t)
{
	size_t i;

	/* qsort_r()'s base may not be NULL, even for no elements. */
	if (t->nrings > 1)
		qsort_r(t->rings, t->nrings, sizeof(*t->rings), top_cmp_ring,
			&t->sort);
	for (i = 0; i < t->nrings; i++)
		if (t->rings[i].nsubs > 1)
			qsort_r(t->rings[i].subs, (size_t)t->rings[i].nsubs,
				sizeof(*t->rings[i].subs), top_cmp_sub,
				&t->sort);
}

/* The text of one ring, ending with a blank line. */
static void top_text_ring(FILE *f, const struct top_ring *r)
{
	const struct ringcast_ring_stats *info = &r->st;
	char b1[16], b2[16], b3[16], b4[16], b5[16];
	int i;

	if (r->err < 0) {
		fprintf(f, "%s: %s\n\n", r->name, ringcast_strerror(r->err));
		return;
	}
	fprintf(f, "%s: %s, publisher ", r->name, state_name(info->state));
	if (info->publisher_pid > 0)
		fprintf(f, "%" PRId32 " %s (%s)", info->publisher_pid,
			top_comm_text(&r->comm),
			info->publisher_alive > 0  ? "alive" :
			info->publisher_alive == 0 ? "dead" :
						     "alive?");
	else
		fputs("none", f);
	fprintf(f, ", %" PRIu32 " slots of %" PRIu32 " B", info->slots,
		info->slot_size);
	if (info->data_size)
		fprintf(f, ", data %s",
			human_bytes(b1, sizeof(b1), info->data_size));
	fprintf(f, ", events up to %s",
		human_bytes(b1, sizeof(b1), largest_event(info)));
	if (info->demote_ns)
		fprintf(f, ", demote after %g s",
			(double)info->demote_ns / NSEC_PER_SEC);
	fprintf(f, "\n  head %" PRIu64 "  %s ev/s", info->head,
		human_rate(b1, sizeof(b1), r->rate));
	if (info->data_size)
		fprintf(f, "  data %s B/s",
			human_rate(b1, sizeof(b1), r->data_rate));
	/* The wait going on counts in the total already. */
	if (r->blocked_for)
		fprintf(f, "  BLOCKED %.1f s",
			(double)r->blocked_for / NSEC_PER_SEC);
	fprintf(f,
		"  blocked %s (%.1f s)  demotions %" PRIu64
		"  subscribers %d (%" PRIu32 " reliable)\n",
		human(b2, sizeof(b2), (double)info->blocked),
		(double)(info->blocked_ns + r->blocked_for) / NSEC_PER_SEC,
		info->demotions, r->nsubs, info->reliable);
	if (r->nsubs)
		fprintf(f, "  %3s %7s %-8s %-8s %6s %6s %6s %6s\n", "ID", "PID",
			"COMMAND", "MODE", "LAG", "EV/S", "DELIV", "LOST");
	for (i = 0; i < r->nsubs; i++) {
		const struct ringcast_ring_subscriber *si = &r->subs[i].si;

		fprintf(f,
			"  %3" PRIu32 " %7" PRId32 " %-8.8s %-8s %6s %6s %6s"
			" %6s%s%s\n",
			si->id, si->pid, top_comm_text(&r->subs[i].comm),
			sub_mode(si), human(b2, sizeof(b2), (double)si->lag),
			human_rate(b3, sizeof(b3), r->subs[i].rate),
			human(b4, sizeof(b4), (double)si->delivered),
			human(b5, sizeof(b5), (double)si->lost),
			si->alive == 0 ? "  dead" : "",
			/* A whole ring behind: the publisher waits for it. */
			(si->flags & RINGCAST_SUBSCRIBER_RELIABLE) &&
					si->lag >= info->slots ?
				"  holds the publisher" :
				"");
	}
	fputc('\n', f);
}

/* A JSON number for a rate: null when not known yet. */
static void top_json_rate(double rate)
{
	if (rate < 0)
		fputs("null", stdout);
	else
		printf("%.1f", rate);
}

static void top_json_ring(const struct top_ring *r)
{
	const struct ringcast_ring_stats *info = &r->st;
	int i;

	fputs("{\"name\":", stdout);
	json_string(r->name);
	if (r->err < 0) {
		fputs(",\"error\":", stdout);
		json_string(ringcast_strerror(r->err));
		putchar('}');
		return;
	}
	printf(",\"state\":\"%s\",\"publisher_pid\":%" PRId32
	       ",\"publisher_comm\":",
	       state_name(info->state), info->publisher_pid);
	top_comm_json(&r->comm);
	printf(",\"publisher_alive\":%s,\"slots\":%" PRIu32
	       ",\"slot_size\":%" PRIu32 ",\"data_size\":%" PRIu64
	       ",\"max_event\":%" PRIu64 ",\"data_written\":%" PRIu64
	       ",\"head\":%" PRIu64 ",\"rate\":",
	       alive_name(info->publisher_alive, true), info->slots,
	       info->slot_size, info->data_size, largest_event(info),
	       info->data_written, info->head);
	top_json_rate(r->rate);
	fputs(",\"data_rate\":", stdout);
	top_json_rate(r->data_rate);
	printf(",\"blocked\":%" PRIu64 ",\"blocked_ns\":%" PRIu64
	       ",\"blocked_since_ns\":%" PRIu64 ",\"blocked_for_ns\":%" PRIu64
	       ",\"demotions\":%" PRIu64 ",\"reliable\":%" PRIu32
	       ",\"max_lag\":%" PRIu64 ",\"lost\":%" PRIu64
	       ",\"subscribers\":[",
	       info->blocked, info->blocked_ns, info->blocked_since_ns,
	       r->blocked_for, info->demotions, info->reliable, r->max_lag,
	       r->lost);
	for (i = 0; i < r->nsubs; i++) {
		const struct ringcast_ring_subscriber *si = &r->subs[i].si;

		printf("%s{\"id\":%" PRIu32 ",\"pid\":%" PRId32 ",\"comm\":",
		       i ? "," : "", si->id, si->pid);
		top_comm_json(&r->subs[i].comm);
		printf(",\"alive\":%s,\"mode\":\"%s\",\"lag\":%" PRIu64
		       ",\"rate\":",
		       alive_name(si->alive, true), sub_mode(si), si->lag);
		top_json_rate(r->subs[i].rate);
		printf(",\"delivered\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"lost\":%" PRIu64 "}",
		       si->delivered, si->skipped, si->lost);
	}
	fputs("]}", stdout);
}

/* The sample as one JSON document on a line. */
static void top_json(const struct top *t)
{
	size_t i;

	printf("{\"time\":%lld,\"interval\":%g,\"sort\":\"%s\",\"rings\":[",
	       (long long)t->wall, (double)t->interval_ns / NSEC_PER_SEC,
	       top_sort_name[t->sort]);
	for (i = 0; i < t->nrings; i++) {
		if (i)
			putchar(',');
		top_json_ring(&t->rings[i]);
	}
	fputs("]}\n", stdout);
	fflush(stdout);
}

/* The title line, without its newline. */
static void top_title(FILE *f, const struct top *t)
{
	char when[32] = "";
	struct tm tm;

	if (localtime_r(&t->wall, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "ringcast top %s, %zu ring%s, by %s, every %g s%s", when,
		t->nrings, t->nrings == 1 ? "" : "s", top_sort_name[t->sort],
		(double)t->interval_ns / NSEC_PER_SEC,
		t->keys ? ", ? help" : "");
}

/*
 * The body: the rings' lines in @text, each ring's first line's number in
 * @first (t->nrings of them).  Return: the number of lines, or -ENOMEM.
 */
static long top_body(const struct top *t, char **text, size_t **first)
{
	size_t len = 0, i, lines = 0;
	char *p;
	FILE *f;

	*first = calloc(t->nrings + 1, sizeof(**first));
	if (!*first)
		return -ENOMEM;
	f = open_memstream(text, &len);
	if (!f) {
		free(*first);
		return -ENOMEM;
	}
	for (i = 0; i < t->nrings; i++) {
		long at = ftell(f);

		fflush(f);
		(*first)[i] = lines;
		top_text_ring(f, &t->rings[i]);
		fflush(f);
		for (p = *text + at; p < *text + len; p++)
			lines += *p == '\n';
	}
	if (fclose(f)) {
		free(*first);
		free(*text);
		return -ENOMEM;
	}
	return (long)lines;
}

/* Line @n of @text (n lines): its start and length. */
static const char *top_line(const char *text, size_t n, size_t *len)
{
	const char *nl;

	while (n--)
		text = strchr(text, '\n') + 1;
	nl = strchr(text, '\n');
	*len = nl ? (size_t)(nl - text) : strlen(text);
	return text;
}

static void top_put(const struct top *t, const char *s, size_t n)
{
	fwrite(s, 1, n < t->cols ? n : t->cols, stdout);
}

/*
 * Draw on the terminal: the title, a line saying what is above, a window
 * of the body (the rings, or the help), a line saying what is below.
 */
static int top_draw(struct top *t)
{
	char *text = NULL, mark[128];
	size_t *first = NULL, *top = t->help ? &t->help_top : &t->top;
	size_t lines, rows, i, n, above = 0, below = 0;
	long nl;

	top_winsize(t);
	if (t->help) {
		text = strdup(top_keys);
		if (!text)
			return -ENOMEM;
		for (lines = 0, i = 0; text[i]; i++)
			lines += text[i] == '\n';
	} else {
		nl = top_body(t, &text, &first);
		if (nl < 0)
			return (int)nl;
		lines = (size_t)nl;
	}
	rows = t->rows > 3 ? t->rows - 3u : 1;
	if (*top + rows > lines)
		*top = lines > rows ? lines - rows : 0;
	fputs("\033[H\033[2J", stdout);
	if (t->help) {
		fputs("ringcast top - help, ? or h: back, q quits", stdout);
	} else {
		char *title = NULL;
		size_t tlen = 0;
		FILE *f = open_memstream(&title, &tlen);

		if (f) {
			top_title(f, t);
			if (!fclose(f))
				top_put(t, title, tlen);
			free(title);
		}
	}
	/* Rings whose first line is off screen, above and below. */
	for (i = 0; first && i < t->nrings; i++) {
		above += first[i] < *top;
		below += first[i] >= *top + rows;
	}
	fputc('\n', stdout);
	if (*top) {
		n = (size_t)snprintf(mark, sizeof(mark),
				     "^ %zu more line%s above", *top,
				     *top == 1 ? "" : "s");
		if (!t->help)
			n += (size_t)snprintf(mark + n, sizeof(mark) - n,
					      ", %zu ring%s", above,
					      above == 1 ? "" : "s");
		top_put(t, mark, n);
	}
	for (i = *top; i < *top + rows && i < lines; i++) {
		const char *s = top_line(text, i, &n);

		fputc('\n', stdout);
		top_put(t, s, n);
	}
	/* The bottom line, without a newline: the screen must not scroll. */
	if (lines > *top + rows) {
		for (; i < *top + rows; i++)
			fputc('\n', stdout);
		n = lines - *top - rows;
		n = (size_t)snprintf(mark, sizeof(mark),
				     "\nv %zu more line%s below", n,
				     n == 1 ? "" : "s");
		if (!t->help)
			n += (size_t)snprintf(mark + n, sizeof(mark) - n,
					      ", %zu ring%s not shown", below,
					      below == 1 ? "" : "s");
		fputc('\n', stdout);
		top_put(t, mark + 1, n - 1);
	}
	fflush(stdout);
	free(text);
	free(first);
	return 0;
}

/* Print the sample: as text or JSON, or draw it on the terminal. */
static int top_print(struct top *t)
{
	char *text = NULL;
	size_t *first = NULL;
	long nl;

	top_sort(t);
	if (t->json) {
		top_json(t);
		return 0;
	}
	if (t->tty)
		return top_draw(t);
	nl = top_body(t, &text, &first);
	if (nl < 0)
		return (int)nl;
	top_title(stdout, t);
	fputs("\n\n", stdout);
	fputs(text, stdout);
	fflush(stdout);
	free(text);
	free(first);
	return 0;
}

enum top_action { TOP_NEXT, TOP_REDRAW, TOP_QUIT };

/* Apply key @k (an escape sequence's last byte: ESC_* below). */
#define TOP_KEY_UP 0x101
#define TOP_KEY_DOWN 0x102
#define TOP_KEY_PGUP 0x103
#define TOP_KEY_PGDN 0x104
#define TOP_KEY_HOME 0x105
#define TOP_KEY_END 0x106

static enum top_action top_key(struct top *t, int k)
{
	size_t *top = t->help ? &t->help_top : &t->top;
	size_t page = t->rows > 3 ? t->rows - 3u : 1;

	switch (k) {
	case 'q':
	case 'Q':
		return TOP_QUIT;
	case '?':
	case 'h':
		t->help = !t->help;
		t->help_top = 0;
		break;
	case 'j':
	case TOP_KEY_DOWN:
		(*top)++;
		break;
	case 'k':
	case TOP_KEY_UP:
		if (*top)
			(*top)--;
		break;
	case ' ':
	case 'f':
	case 0x06: /* Ctrl-F */
	case TOP_KEY_PGDN:
		*top += page;
		break;
	case 'b':
	case 0x02: /* Ctrl-B */
	case TOP_KEY_PGUP:
		*top = *top > page ? *top - page : 0;
		break;
	case 'g':
	case TOP_KEY_HOME:
		*top = 0;
		break;
	case 'G':
	case TOP_KEY_END:
		*top = SIZE_MAX / 2; /* top_draw() brings it back */
		break;
	case 's':
		t->sort = (t->sort + 1) % TOP_NSORT;
		break;
	case 'n':
		t->sort = TOP_BY_NAME;
		break;
	case 'l':
		t->sort = TOP_BY_LAG;
		break;
	case 'r':
		t->sort = TOP_BY_RATE;
		break;
	case 'o':
		t->sort = TOP_BY_LOSS;
		break;
	default:
		return TOP_NEXT;
	}
	return TOP_REDRAW;
}

/*
 * The keys in @buf (@n bytes): ESC [ or ESC O, then A B (Up Down), H F
 * (Home End), or a number and '~' (1 7 Home, 4 8 End, 5 PgUp, 6 PgDn).
 * Return: the action of the last key that asked for one.
 */
static enum top_action top_keys_in(struct top *t, const char *buf, size_t n)
{
	enum top_action act = TOP_NEXT, a;
	size_t i = 0;

	while (i < n) {
		int k = (unsigned char)buf[i++];

		if (k == 0x1b && i + 1 < n &&
		    (buf[i] == '[' || buf[i] == 'O')) {
			char c = buf[i + 1], num = 0;

			i += 2;
			if (c >= '0' && c <= '9') {
				num = c;
				while (i < n && buf[i] >= '0' && buf[i] <= '9')
					i++;
				c = i < n ? buf[i++] : 0;
				if (c != '~')
					continue;
			}
			k = c == 'A' ? TOP_KEY_UP :
			    c == 'B' ? TOP_KEY_DOWN :
			    c == 'H' || num == '1' || num == '7' ?
				       TOP_KEY_HOME :
			    c == 'F' || num == '4' || num == '8' ? TOP_KEY_END :
			    num == '5' ? TOP_KEY_PGUP :
			    num == '6' ? TOP_KEY_PGDN :
					 0;
			if (!k)
				continue;
		}
		a = top_key(t, k);
		if (a == TOP_QUIT)
			return a;
		if (a == TOP_REDRAW)
			act = a;
	}
	return act;
}

/*
 * Wait for the next sample: until @deadline, a key, a resize or a signal.
 * Return: TOP_QUIT, TOP_REDRAW (a key or a resize: draw the same sample
 * again), TOP_NEXT (time for the next sample, or a signal).
 */
static enum top_action top_wait(struct top *t, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t left = deadline - now_ns();
		enum top_action a;
		char keys[64];
		ssize_t r;

		if (top_winch) {
			top_winch = 0;
			return TOP_REDRAW;
		}
		if (caught_signal || left <= 0)
			return TOP_NEXT;
		if (poll(&pfd, t->keys ? 1 : 0,
			 (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC)) <=
		    0)
			continue;
		r = read(STDIN_FILENO, keys, sizeof(keys));
		if (r == 0) {
			t->keys = false; /* the terminal went away */
			continue;
		}
		if (r < 0)
			continue;
		a = top_keys_in(t, keys, (size_t)r);
		if (a != TOP_NEXT)
			return a;
	}
}

static int top_opt_sort(const struct command *cmd, const char *arg,
			enum top_sort *sort)
{
	int i;

	for (i = 0; i < TOP_NSORT; i++)
		if (!strcmp(arg, top_sort_name[i])) {
			*sort = (enum top_sort)i;
			return 0;
		}
	return usage_error(cmd, "--sort: '%s' is not name, lag, rate or loss",
			   arg);
}

/* A ring named on the command line must exist: else exit 1. */
static int top_check_names(const struct command *cmd, char **names, size_t n)
{
	struct ringcast_ring_stats info;
	char path[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = ringcast_ring_get_stats(ring_at(names[i], path), &info);
		if (err == -ENOENT || err == -EINVAL)
			return ring_error(cmd, names[i], err);
	}
	return EXIT_SUCCESS;
}

int cmd_top(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "sort", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
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
		case 's':
			if (top_opt_sort(cmd, optarg, &t.sort))
				return EXIT_USAGE;
			break;
		case 'j':
			t.json = true;
			break;
		}
	}
	if (c)
		return opt_status(c);
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (strlen(argv[i]) > RINGCAST_NAME_MAX)
			return usage_error(cmd, "'%s' is not a ring name",
					   argv[i]);
	ret = top_check_names(cmd, argv + optind, (size_t)(argc - optind));
	if (ret != EXIT_SUCCESS)
		return ret;

	t.tty = !t.json && isatty(STDOUT_FILENO);
	catch_signals(false);
	if (t.tty) {
		t.keys = isatty(STDIN_FILENO) && top_raw_mode();
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
		fputs("\033[?25l", stdout);
	}
	for (done = 0; !iterations || done < iterations; done++) {
		int64_t start = now_ns();
		enum top_action a;

		top_winch = 0;
		if (done && !t.tty && !t.json)
			putchar('\n');
		err = top_sample(&t, argv + optind, (size_t)(argc - optind),
				 optind == argc);
		if (err >= 0)
			err = top_print(&t);
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
		while ((a = top_wait(&t, start + t.interval_ns)) ==
		       TOP_REDRAW) {
			err = top_print(&t);
			if (err < 0)
				break;
		}
		if (err < 0) {
			ret = fail(cmd, NULL, "%s", ringcast_strerror(err));
			break;
		}
		if (a == TOP_QUIT || caught_signal)
			break;
	}
	top_restore();
	if (t.tty) {
		fputc('\n', stdout);
		top_cursor_back();
	}
	top_free_rings(&t);
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
