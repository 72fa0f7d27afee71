// SPDX-License-Identifier: MIT
/*
 * What the subcommands of the ringcast tool share: the signal state, the
 * messages and exit statuses, option parsing, JSON output, and the reads
 * of a ring's snapshot, its subscriber table and the list of rings.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fwrite_unlocked() and friends */
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* ----------------------------------------------------------------------
 * Signals: the only state shared with a handler.
 */

volatile sig_atomic_t caught_signal;
/* The subscriber or publisher whose wait a signal interrupts, if any. */
_Atomic(struct ringcast_sub *) signal_sub;
_Atomic(struct ringcast_pub *) signal_pub;

static void on_signal(int sig)
{
	struct ringcast_sub *sub = atomic_load(&signal_sub);
	struct ringcast_pub *pub = atomic_load(&signal_pub);

	caught_signal = sig;
	/* Async-signal-safe: make the current or next wait return -EINTR. */
	if (sub)
		ringcast_sub_interrupt(sub);
	if (pub)
		ringcast_pub_interrupt(pub);
}

/*
 * Catch SIGINT, SIGTERM and SIGHUP once (a second one kills), except those
 * that were ignored when the program started, as in a background job.
 * Without @restart, a read(2) they interrupt fails with EINTR.
 */
void catch_signals(bool restart)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = {
		.sa_handler = on_signal,
		.sa_flags = (restart ? SA_RESTART : 0) | SA_RESETHAND,
	};
	struct sigaction old;
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* Die by the signal that stopped us, so that shells see it; else 128+sig. */
int exit_by_signal(int sig)
{
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

/* ----------------------------------------------------------------------
 * Messages
 */

int __attribute__((format(printf, 2, 3)))
usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ringcast: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ringcast %s --help')\n", cmd->name);
	return EXIT_USAGE;
}

/* One line: "ringcast: CMD: ring 'NAME': MESSAGE" (no ring: no NAME). */
void __attribute__((format(printf, 3, 4)))
note(const struct command *cmd, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ringcast: %s: ", cmd->name);
	if (name)
		fprintf(stderr, "ring '%s': ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a library error, with the detail of the ring's validation. */
int ring_error(const struct command *cmd, const char *name, int err)
{
	char detail[256] = "";

	/* Only these codes set the detail; others would show a stale one. */
	if (err == -EPROTO || err == -EBADMSG || err == -EINVAL ||
	    err == -ENOENT || err == -EACCES)
		snprintf(detail, sizeof(detail), "%s", ringcast_errdetail());
	/* A refusal says why: an unsafe directory, another's lock object. */
	if (detail[0] && err == -EACCES)
		return fail(cmd, name, "%s: %s", ringcast_strerror(err),
			    detail);
	/* The detail says what is wrong in full ("corrupted: ..."). */
	if (detail[0])
		return fail(cmd, name, "%s", detail);
	return fail(cmd, name, "%s", ringcast_strerror(err));
}

/* A write to stdout failed with @err (an errno); a gone reader is fine. */
int output_error(const struct command *cmd, int err)
{
	if (err == EPIPE)
		return EXIT_SUCCESS;
	return fail(cmd, NULL, "writing standard output: %s", strerror(err));
}

int finish_output(const struct command *cmd)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return output_error(cmd, errno);
	return EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * Argument parsing
 */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/*
 * Parse the value of option @opt into @out, within [@min, @max], a power of
 * two if @pow2.  Return: 0, or EXIT_USAGE after saying what is wrong.
 */
int opt_u32(const struct command *cmd, const char *opt, const char *arg,
	    uint32_t min, uint32_t max, bool pow2, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(arg, max, pow2, &v) || v < min)
		return usage_error(cmd,
				   "--%s: '%s' is not a number from %u to %u",
				   opt, arg, min, max);
	if (pow2 && !is_pow2(v))
		return usage_error(cmd, "--%s: %s is not a power of two", opt,
				   arg);
	*out = (uint32_t)v;
	return 0;
}

/*
 * Parse the SECONDS value of option @opt into @ns, at least @min_ns; @what
 * ends the message.  Return: 0, or EXIT_USAGE after saying what is wrong.
 */
int opt_seconds(const struct command *cmd, const char *opt, const char *arg,
		int64_t min_ns, const char *what, int64_t *ns)
{
	int64_t v;

	if (parse_seconds(arg, &v) || v < min_ns)
		return usage_error(cmd, "--%s: '%s' is not %s", opt, arg, what);
	*ns = v;
	return 0;
}

/*
 * The ring directory: --dir (before the command or among its options),
 * else $RINGCAST_DIR, else NULL for /dev/shm.
 */
const char *ring_dir;

#define OPT_DIR 0x7264 /* --dir, which every command takes */
#define MAX_LONGOPTS 64

/* A command's long options and --dir: one table, made once. */
static const struct option *with_dir(const struct option *longopts)
{
	static const struct option *made_for;
	static struct option all[MAX_LONGOPTS + 2];
	size_t n = 0;

	if (made_for == longopts && all[0].name)
		return all;
	while (longopts && longopts[n].name && n < MAX_LONGOPTS) {
		all[n] = longopts[n];
		n++;
	}
	all[n++] = (struct option){ "dir", required_argument, NULL, OPT_DIR };
	all[n] = (struct option){ 0 };
	made_for = longopts;
	return all;
}

/*
 * getopt_long() with our own messages; 'h' (--help, which every command
 * takes) prints the command's help; --dir sets ring_dir.  Return: the
 * option, 0 at the end, OPT_HELP after the help or OPT_BAD after a usage
 * error was printed.
 */
int next_opt(const struct command *cmd, int argc, char **argv,
	     const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	do {
		c = getopt_long(argc, argv, shortopts, with_dir(longopts),
				NULL);
		if (c == OPT_DIR)
			ring_dir = *optarg ? optarg : NULL;
	} while (c == OPT_DIR);
	switch (c) {
	case -1:
		return 0;
	case 'h':
		print_help(cmd, stdout);
		return OPT_HELP;
	case ':':
		usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return OPT_BAD;
	case '?':
		if (optopt && optopt < 128)
			usage_error(cmd, "unknown option '-%c'", optopt);
		else
			usage_error(cmd, "unknown option '%s'",
				    argv[optind - 1]);
		return OPT_BAD;
	}
	return c;
}

/*
 * The one positional NAME after the options, in the ring directory (a
 * name with a '/' has its own).  Return: the ring's name, or NULL.
 */
const char *one_name(const struct command *cmd, int argc, char **argv)
{
	static char path[PATH_MAX];
	const char *name;

	if (optind >= argc) {
		usage_error(cmd, "missing ring name");
		return NULL;
	}
	if (optind + 1 < argc) {
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
		return NULL;
	}
	name = ring_in_dir(ring_dir, argv[optind], path, sizeof(path));
	if (!name)
		usage_error(cmd, "--dir: '%s' is too long", ring_dir);
	return name;
}

/* @name in the ring directory, in @buf of PATH_MAX bytes (or @name). */
const char *ring_at(const char *name, char *buf)
{
	const char *r = ring_in_dir(ring_dir, name, buf, PATH_MAX);

	return r ? r : name;
}

int no_args(const struct command *cmd, int argc, char **argv)
{
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind]);
	return 0;
}

void print_help(const struct command *cmd, FILE *f)
{
	fputs(cmd->help, f);
}

/*
 * A ring's geometry and settings, the options of create that pub shares:
 * option @c's value @arg into @geo and the creation flags @cflags (--data-size
 * 0: RINGCAST_CREATE_NO_DATA).  Return: 0, or EXIT_USAGE after saying what
 * is wrong.
 */
int opt_geometry(const struct command *cmd, int c, const char *arg,
		 struct ringcast_ring_opts *geo, unsigned int *cflags)
{
	int64_t ns;
	uint64_t v;
	int err;

	switch (c) {
	case 'd':
		err = parse_data_size(arg, &v);
		if (err == -EDOM)
			return usage_error(
				cmd, "--data-size: %s is not a power of two",
				arg);
		if (err)
			return usage_error(
				cmd,
				"--data-size: '%s' is not 0 (none) or a size "
				"from 4k to 4G",
				arg);
		geo->data_size = v;
		if (v)
			*cflags &= ~RINGCAST_CREATE_NO_DATA;
		else
			*cflags |= RINGCAST_CREATE_NO_DATA;
		return 0;
	case 's':
		return opt_u32(cmd, "slots", arg, RINGCAST_MIN_SLOTS,
			       RINGCAST_MAX_SLOTS, true, &geo->slots);
	case 'z':
		return opt_u32(cmd, "slot-size", arg, RINGCAST_MIN_SLOT_SIZE,
			       RINGCAST_MAX_SLOT_SIZE, true, &geo->slot_size);
	case 'S':
		return opt_u32(cmd, "max-subscribers", arg, 1,
			       RINGCAST_MAX_SUBSCRIBERS, false,
			       &geo->max_subscribers);
	case 'D':
		if (opt_seconds(cmd, "demote-after", arg, 0,
				"a number of seconds", &ns))
			return EXIT_USAGE;
		geo->demote_ns = (uint64_t)ns;
		return 0;
	case 'm':
		if (!*arg || strspn(arg, "01234567") != strlen(arg) ||
		    strlen(arg) > 4)
			return usage_error(cmd, "--mode: '%s' is not octal",
					   arg);
		v = strtoul(arg, NULL, 8);
		if (v == 0 || v > 0777)
			return usage_error(
				cmd, "--mode: %s is not from 1 to 0777", arg);
		geo->mode = (uint32_t)v;
		return 0;
	}
	return EXIT_USAGE;
}

uint64_t largest_event(const struct ringcast_ring_stats *info)
{
	return info->max_event ? info->max_event : info->capacity;
}

/* ----------------------------------------------------------------------
 * JSON and base64 output, on stdout
 */

/* Valid UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < more)
			return false;
		/* The first continuation byte has the narrowed range. */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k <= more; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += more + 1;
	}
	return true;
}

/* Write @s (valid UTF-8) as the contents of a JSON string. */
void json_chars(const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		char esc;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fwrite_unlocked(s + run, 1, i - run, stdout);
		run = i + 1;
		switch (c) {
		case '"':
			esc = '"';
			break;
		case '\\':
			esc = '\\';
			break;
		case '\b':
			esc = 'b';
			break;
		case '\f':
			esc = 'f';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\t':
			esc = 't';
			break;
		default:
			esc = 0;
			break;
		}
		if (esc) {
			putc_unlocked('\\', stdout);
			putc_unlocked(esc, stdout);
		} else {
			fputs_unlocked("\\u00", stdout);
			putc_unlocked(hex[c >> 4], stdout);
			putc_unlocked(hex[c & 0xf], stdout);
		}
	}
	fwrite_unlocked(s + run, 1, n - run, stdout);
}

/* A string that is not known to be UTF-8 (a ring name from /dev/shm). */
void json_string(const char *s)
{
	size_t n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	putc_unlocked('"', stdout);
	if (utf8_valid(p, n)) {
		json_chars(p, n);
	} else {
		/* Keep the document valid: a '?' for each non-ASCII byte. */
		for (i = 0; i < n; i++)
			json_chars(p[i] < 0x80 ? p + i : (const void *)"?", 1);
	}
	putc_unlocked('"', stdout);
}

void base64(const unsigned char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
			     s[i + 2];

		putc_unlocked(b64[v >> 18], stdout);
		putc_unlocked(b64[(v >> 12) & 63], stdout);
		putc_unlocked(b64[(v >> 6) & 63], stdout);
		putc_unlocked(b64[v & 63], stdout);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		putc_unlocked(b64[v >> 18], stdout);
		putc_unlocked(b64[(v >> 12) & 63], stdout);
		fputs_unlocked("==", stdout);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		putc_unlocked(b64[v >> 18], stdout);
		putc_unlocked(b64[(v >> 12) & 63], stdout);
		putc_unlocked(b64[(v >> 6) & 63], stdout);
		putc_unlocked('=', stdout);
	}
}

/* ----------------------------------------------------------------------
 * The forms of a stream of events
 */

/* --types LIST: comma-separated type tags, each once (sub, cat). */
int opt_types(const struct command *cmd, const char *arg, uint32_t *types,
	      uint32_t *ntypes)
{
	const char *p = arg;

	for (;;) {
		char num[24];
		size_t len = strcspn(p, ",");
		uint32_t i, v = 0;

		if (len == 0 || len >= sizeof(num))
			return usage_error(cmd, "--types: bad list '%s'", arg);
		memcpy(num, p, len);
		num[len] = '\0';
		if (opt_u32(cmd, "types", num, 0, UINT32_MAX, false, &v))
			return EXIT_USAGE;
		for (i = 0; i < *ntypes; i++)
			if (types[i] == v)
				break;
		if (i == *ntypes) {
			if (i == RINGCAST_MAX_TYPES)
				return usage_error(
					cmd, "--types: more than %u types",
					RINGCAST_MAX_TYPES);
			types[(*ntypes)++] = v;
		}
		p += len;
		if (!*p)
			return 0;
		p++;
	}
}

int opt_ev_format(const struct command *cmd, const char *arg,
		  enum ev_format *fmt)
{
	static const char *const names[] = {
		[FMT_TEXT] = "text",
		[FMT_NUL] = "nul",
		[FMT_JSON] = "json",
		[FMT_RAW] = "raw",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*fmt = (enum ev_format)i;
			return 0;
		}
	}
	return usage_error(cmd, "--format: '%s' is not text, nul, json or raw",
			   arg);
}

static void put_le32(uint32_t v)
{
	putc_unlocked((int)(v & 0xff), stdout);
	putc_unlocked((int)((v >> 8) & 0xff), stdout);
	putc_unlocked((int)((v >> 16) & 0xff), stdout);
	putc_unlocked((int)(v >> 24), stdout);
}

void write_event(const struct ringcast_event *ev, enum ev_format fmt)
{
	const unsigned char *data = ev->data;

	switch (fmt) {
	case FMT_TEXT:
	case FMT_NUL:
		fwrite_unlocked(data, 1, ev->len, stdout);
		putc_unlocked(fmt == FMT_NUL ? '\0' : '\n', stdout);
		return;
	case FMT_RAW:
		put_le32(ev->len);
		put_le32(ev->type);
		fwrite_unlocked(data, 1, ev->len, stdout);
		return;
	case FMT_JSON:
		break;
	}
	fprintf(stdout,
		"{\"seq\":%" PRIu64 ",\"type\":%" PRIu32 ",\"ts\":%" PRIu64
		",\"len\":%" PRIu32 ",\"epoch\":%" PRIu32 ",",
		ev->seq, ev->type, ev->ts, ev->len, ev->epoch);
	/* The writer's table entry on a multi-publisher ring. */
	if (ev->publisher != RINGCAST_PUBLISHER_LEASE)
		fprintf(stdout, "\"publisher\":%" PRIu32 ",", ev->publisher);
	if (utf8_valid(data, ev->len)) {
		fputs_unlocked("\"data\":\"", stdout);
		json_chars(data, ev->len);
	} else {
		fputs_unlocked("\"data_base64\":\"", stdout);
		base64(data, ev->len);
	}
	fputs_unlocked("\"}\n", stdout);
}

/* CLOCK_MONOTONIC in nanoseconds: deadlines and rates. */
int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* ----------------------------------------------------------------------
 * Rings: a snapshot, the subscriber table, the list
 */

const char *state_name(uint32_t state)
{
	switch (state) {
	case RINGCAST_STATE_CREATED:
		return "created";
	case RINGCAST_STATE_LIVE:
		return "live";
	case RINGCAST_STATE_CLOSED:
		return "closed";
	case RINGCAST_STATE_ABANDONED:
		return "abandoned";
	case RINGCAST_STATE_REMOVED:
		return "removed";
	}
	return "unknown";
}

const char *alive_name(int32_t alive, bool json)
{
	if (alive < 0)
		return json ? "null" : "unknown";
	if (alive)
		return json ? "true" : "yes";
	return json ? "false" : "no";
}

/*
 * What a table entry is: it gates (and outlives its owner: durable), was
 * demoted, or never gated.
 */
const char *sub_mode(const struct ringcast_ring_subscriber *si)
{
	if ((si->flags & RINGCAST_SUBSCRIBER_RELIABLE) &&
	    (si->flags & RINGCAST_SUBSCRIBER_DURABLE))
		return "durable";
	if (si->flags & RINGCAST_SUBSCRIBER_RELIABLE)
		return "reliable";
	if (si->flags & RINGCAST_SUBSCRIBER_DEMOTED)
		return "demoted";
	return "lossy";
}

/*
 * The ring's subscriber table, into *@subsp (freed by the caller, NULL
 * when empty).  Return: the number of entries, or a negative errno.
 */
int get_subscribers(const char *name, uint32_t hint,
		    struct ringcast_ring_subscriber **subsp)
{
	struct ringcast_ring_subscriber *subs = NULL;
	unsigned int cap = hint ? hint : 1;
	char path[PATH_MAX];
	int tries, n = 0;

	*subsp = NULL;
	/* Entries may be taken between two calls: a few tries, then less. */
	for (tries = 0; tries < 4; tries++) {
		struct ringcast_ring_subscriber *p;

		p = realloc(subs, cap * sizeof(*subs));
		if (!p) {
			free(subs);
			return -ENOMEM;
		}
		subs = p;
		n = ringcast_ring_get_subscribers(ring_at(name, path), subs,
						  cap);
		if (n < 0) {
			free(subs);
			return n;
		}
		if ((unsigned int)n <= cap)
			break;
		cap = (unsigned int)n;
	}
	if ((unsigned int)n > cap)
		n = (int)cap;
	if (n == 0) {
		free(subs);
		subs = NULL;
	}
	*subsp = subs;
	return n;
}

/* A ring's snapshot and its table.  Return: 0 or a negative errno. */
int get_ring(const char *name, struct ringcast_ring_stats *info,
	     struct ringcast_ring_subscriber **subsp, int *nsubsp)
{
	char path[PATH_MAX];
	int err;

	*subsp = NULL;
	*nsubsp = 0;
	err = ringcast_ring_get_stats(ring_at(name, path), info);
	if (err < 0)
		return err;
	err = get_subscribers(name, info->max_subscribers, subsp);
	if (err < 0)
		return err;
	*nsubsp = err;
	return 0;
}

static int collect_name(const char *name, void *arg)
{
	struct name_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **names = realloc(l->names, cap * sizeof(*names));

		if (!names)
			return -ENOMEM;
		l->names = names;
		l->cap = cap;
	}
	l->names[l->n] = strdup(name);
	if (!l->names[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void free_names(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	l->names = NULL;
	l->n = l->cap = 0;
}

/* list_rings() failed with @err: say where, and why.  EXIT_FAILURE. */
int list_error(const struct command *cmd, int err)
{
	const char *d = err == -EACCES || err == -ENOENT || err == -EINVAL ?
				ringcast_errdetail() :
				"";

	return fail(cmd, NULL, "listing rings in %s: %s%s%s",
		    ring_dir ? ring_dir : RING_SHM_DIR, ringcast_strerror(err),
		    *d ? ": " : "", d);
}

/*
 * Every ring's name in the ring directory (its NAME alone), sorted.
 * Return: 0 or a negative errno.
 */
int list_rings(struct name_list *l)
{
	int err = ringcast_ring_list_dir(ring_dir, collect_name, l);

	if (err < 0) {
		free_names(l);
		return err;
	}
	if (l->n)
		qsort(l->names, l->n, sizeof(*l->names), compare_names);
	return 0;
}
