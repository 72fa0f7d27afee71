// SPDX-License-Identifier: MIT
/*
 * ringcast - the command-line tool of the ringcast library.
 *
 * One binary, a table of subcommands.  Exit status: 0 on success, 1 on a
 * runtime error (one line on stderr naming the problem), 2 on a usage
 * error.  A subscriber stopped by SIGINT, SIGTERM or SIGHUP flushes what it
 * printed and then dies by the same signal, so its shell sees 128 + signal.
 *
 * Standard output is written with a large buffer.  SIGPIPE is ignored: a
 * reader that goes away (ringcast sub X | head -1) ends the command quietly
 * with status 0, as if it had asked for no more.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fwrite_unlocked() and friends */
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ringcast.h"
#include "parse.h"

#define EXIT_USAGE 2

/* How often sub --wait looks for the ring to appear. */
#define ATTACH_POLL_NS (10 * NSEC_PER_MSEC)
/* Lines published per ringcast_pub_publish_batch() call. */
#define PUB_BATCH 64
/* The least size of pub's input buffer; it also holds one whole line. */
#define PUB_BUF_MIN (1u << 20)
/* sub's stdout buffer. */
#define SUB_OUT_BUF (1u << 18)

struct command {
	const char *name;
	const char *summary;
	const char *help;
	int (*run)(const struct command *cmd, int argc, char **argv);
};

/* ----------------------------------------------------------------------
 * Signals: the only state shared with a handler.
 */

static volatile sig_atomic_t caught_signal;
/* The subscriber or publisher whose wait a signal interrupts, if any. */
static _Atomic(struct ringcast_sub *) signal_sub;
static _Atomic(struct ringcast_pub *) signal_pub;

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
static void catch_signals(bool restart)
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

/* ----------------------------------------------------------------------
 * Messages
 */

static int __attribute__((format(printf, 2, 3)))
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

/* One line: "ringcast: CMD: ring 'NAME': MESSAGE". */
static int __attribute__((format(printf, 3, 4)))
fail(const struct command *cmd, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ringcast: %s: ", cmd->name);
	if (name)
		fprintf(stderr, "ring '%s': ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/* Report a library error, with the detail of the ring's validation. */
static int ring_error(const struct command *cmd, const char *name, int err)
{
	char detail[256] = "";

	/* Only these codes set the detail; others would show a stale one. */
	if (err == -EPROTO || err == -EBADMSG || err == -EINVAL ||
	    err == -ENOENT)
		snprintf(detail, sizeof(detail), "%s", ringcast_errdetail());
	/* The detail says what is wrong in full ("corrupted: ..."). */
	if (detail[0])
		return fail(cmd, name, "%s", detail);
	return fail(cmd, name, "%s", ringcast_strerror(err));
}

/* A write to stdout failed with @err (an errno); a gone reader is fine. */
static int output_error(const struct command *cmd, int err)
{
	if (err == EPIPE)
		return EXIT_SUCCESS;
	return fail(cmd, NULL, "writing standard output: %s", strerror(err));
}

static int finish_output(const struct command *cmd)
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
static int opt_u32(const struct command *cmd, const char *opt, const char *arg,
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
static int opt_seconds(const struct command *cmd, const char *opt,
		       const char *arg, int64_t min_ns, const char *what,
		       int64_t *ns)
{
	int64_t v;

	if (parse_seconds(arg, &v) || v < min_ns)
		return usage_error(cmd, "--%s: '%s' is not %s", opt, arg, what);
	*ns = v;
	return 0;
}

/*
 * getopt_long() with our own messages.  Return: the option, -1 at the end,
 * or '?' after a usage error was printed.
 */
static int next_opt(const struct command *cmd, int argc, char **argv,
		    const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == ':') {
		usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt && optopt < 128)
			usage_error(cmd, "unknown option '-%c'", optopt);
		else
			usage_error(cmd, "unknown option '%s'",
				    argv[optind - 1]);
		return '?';
	}
	return c;
}

/* The one positional NAME after the options.  Return: it, or NULL. */
static const char *one_name(const struct command *cmd, int argc, char **argv)
{
	if (optind >= argc) {
		usage_error(cmd, "missing ring name");
		return NULL;
	}
	if (optind + 1 < argc) {
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

static int no_args(const struct command *cmd, int argc, char **argv)
{
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind]);
	return 0;
}

static void print_help(const struct command *cmd, FILE *f)
{
	fputs(cmd->help, f);
}

/* ----------------------------------------------------------------------
 * JSON and base64 output, on stdout
 */

/* Valid UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
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
static void json_chars(const unsigned char *s, size_t n)
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
static void json_string(const char *s)
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

static void base64(const unsigned char *s, size_t n)
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

/* Die by the signal that stopped us, so that shells see it; else 128+sig. */
static int exit_by_signal(int sig)
{
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

/* ----------------------------------------------------------------------
 * create
 */

static int opt_geometry(const struct command *cmd, int c, const char *arg,
			struct ringcast_ring_opts *geo)
{
	int64_t ns;
	uint64_t v;

	switch (c) {
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

static int cmd_create(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'z' },
		{ "max-subscribers", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "demote-after", required_argument, NULL, 'D' },
		{ "multi-publisher", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ringcast_ring_opts geo = { 0 };
	unsigned int flags = RINGCAST_CREATE_EXCL;
	const char *name;
	int c, err;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		if (c == 'h') {
			print_help(cmd, stdout);
			return EXIT_SUCCESS;
		}
		if (c == 'M') {
			flags |= RINGCAST_CREATE_MULTI_PUB;
			continue;
		}
		if (c == '?' || opt_geometry(cmd, c, optarg, &geo))
			return EXIT_USAGE;
	}
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;

	err = ringcast_ring_create(name, &geo, flags);
	if (err < 0)
		return ring_error(cmd, name, err);
	return EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * pub
 */

struct pub_args {
	const char *name;
	uint32_t type;
	unsigned int flags;
	bool typed;
	struct ringcast_ring_opts geo; /* zero fields were not given */
	uint32_t wait_subs; /* subscribers to wait for; 0: none */
	int64_t timeout_ns; /* < 0: wait for ever */
	const char *timeout; /* as given, for messages */
};

/* stdin, read with read(2) so that lines go out as soon as they come. */
struct line_reader {
	char *buf;
	size_t size;
	size_t start; /* the first byte not consumed */
	size_t end; /* the end of what was read */
	bool eof;
};

/*
 * Make sure the ring exists with the geometry asked for.  Without geometry
 * options any existing ring will do.
 */
static int pub_prepare(const struct command *cmd, const struct pub_args *a)
{
	const struct ringcast_ring_opts *geo = &a->geo;
	struct ringcast_ring_stats info;
	int tries, err;

	for (tries = 0; tries < 2; tries++) {
		err = ringcast_ring_get_stats(a->name, &info);
		if (err == 0) {
			if ((geo->slots && geo->slots != info.slots) ||
			    (geo->slot_size &&
			     geo->slot_size != info.slot_size))
				return fail(
					cmd, a->name,
					"exists with a different geometry (%u slots of %u bytes)",
					info.slots, info.slot_size);
			return EXIT_SUCCESS;
		}
		if (err != -ENOENT)
			return ring_error(cmd, a->name, err);

		err = ringcast_ring_create(a->name, geo, 0);
		if (err >= 0)
			return EXIT_SUCCESS;
		/* Created meanwhile by someone else: look at it again. */
		if (err != -EEXIST)
			return ring_error(cmd, a->name, err);
	}
	return ring_error(cmd, a->name, err);
}

/*
 * -EACCES from attaching a publisher: when the ring belongs to another
 * user, name that user (whoever owns the ring reads what is published).
 */
static int foreign_error(const struct command *cmd, const char *name, int err)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct passwd *pw;
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/ringcast.%s", name);
	if (stat(path, &st) < 0 || st.st_uid == geteuid())
		return ring_error(cmd, name, err);
	pw = getpwuid(st.st_uid);
	return fail(cmd, name,
		    "belongs to user %s (uid %u), not to you: it reads "
		    "whatever is published; --any-owner publishes into it "
		    "if you trust that user",
		    pw ? pw->pw_name : "?", (unsigned int)st.st_uid);
}

static int pub_error(const struct command *cmd, const struct pub_args *a,
		     int err)
{
	switch (err) {
	case -EPIPE:
		return fail(cmd, a->name, "closed while publishing");
	case -EIDRM:
		return fail(cmd, a->name, "removed while publishing");
	case -EAGAIN:
		return fail(cmd, a->name,
			    "no room: a reliable subscriber is a whole ring "
			    "behind (--timeout 0)");
	case -ETIMEDOUT:
		return fail(cmd, a->name,
			    "no room within %s seconds: a reliable subscriber "
			    "is a whole ring behind",
			    a->timeout);
	}
	return ring_error(cmd, a->name, err);
}

/* Split "TYPE PAYLOAD" (one space or tab); false if it is not that. */
static bool split_typed(struct ringcast_msg *msg, const char *line, size_t len)
{
	uint64_t type = 0;
	size_t i;

	for (i = 0; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		type = type * 10 + (uint64_t)(line[i] - '0');
		if (type > UINT32_MAX)
			return false;
	}
	if (i == 0 || (i < len && line[i] != ' ' && line[i] != '\t'))
		return false;
	if (i < len)
		i++;
	msg->type = (uint32_t)type;
	msg->data = line + i;
	msg->len = (uint32_t)(len - i);
	return true;
}

/*
 * Publish every line of stdin.  Return: an exit status, after saying what
 * went wrong.  The caller closes the ring in every case, so that readers
 * see the end of the stream after the last line published.
 */
static int pub_lines(const struct command *cmd, const struct pub_args *a,
		     struct ringcast_pub *pub, size_t cap)
{
	/* The longest line: a typed one also has "4294967295 ". */
	size_t max_line = cap + (a->typed ? 11 : 0);
	struct ringcast_msg msgs[PUB_BATCH];
	struct line_reader in = { 0 };
	uint64_t lineno = 0; /* lines published */
	bool malformed = false;
	int ret = EXIT_FAILURE;
	unsigned int n;
	int err;

	/* Room for the longest line and its newline, and more to read. */
	in.size = max_line + 2 > PUB_BUF_MIN / 2 ?
			  max_line + 2 + PUB_BUF_MIN / 2 :
			  PUB_BUF_MIN;
	in.buf = malloc(in.size);
	if (!in.buf)
		return fail(cmd, NULL, "%s", strerror(ENOMEM));

	for (;;) {
		char *line, *nl;
		size_t len;
		ssize_t r;

		/* Stopped by a signal: the caller says nothing more. */
		if (caught_signal)
			goto err_free;
		/* The complete lines in the buffer, a batch at a time. */
		n = 0;
		while (n < PUB_BATCH) {
			line = in.buf + in.start;
			nl = memchr(line, '\n', in.end - in.start);
			if (!nl) {
				if (!in.eof || in.start == in.end)
					break;
				/* The last line has no newline. */
				nl = in.buf + in.end;
			}
			len = (size_t)(nl - line);
			if (len > max_line)
				goto bad_line;
			if (!a->typed) {
				msgs[n].type = a->type;
				msgs[n].data = line;
				msgs[n].len = (uint32_t)len;
			} else if (!split_typed(&msgs[n], line, len)) {
				malformed = true;
				goto bad_line;
			}
			if (msgs[n].len > cap)
				goto bad_line;
			n++;
			in.start =
				(size_t)(nl - in.buf) + (nl < in.buf + in.end);
		}
		if (n) {
			err = ringcast_pub_publish_batch(pub, msgs, n);
			if (err < 0)
				goto err_ring;
			lineno += n;
			continue;
		}
		if (in.eof)
			break;

		/* No complete line left: keep the partial one, read more. */
		len = in.end - in.start;
		if (len > max_line)
			goto bad_line;
		memmove(in.buf, in.buf + in.start, len);
		in.start = 0;
		in.end = len;
		r = read(STDIN_FILENO, in.buf + in.end, in.size - in.end);
		if (r < 0) {
			if (errno == EINTR)
				continue; /* caught_signal is looked at first */
			ret = fail(cmd, NULL, "reading standard input: %s",
				   strerror(errno));
			goto err_free;
		}
		if (r == 0)
			in.eof = true;
		in.end += (size_t)r;
	}
	free(in.buf);
	return EXIT_SUCCESS;

bad_line:
	/* Publish the lines before it, then say what is wrong with it. */
	err = n ? ringcast_pub_publish_batch(pub, msgs, n) : 0;
	if (err < 0)
		goto err_ring;
	if (malformed)
		ret = fail(cmd, a->name,
			   "line %" PRIu64 " is not 'TYPE PAYLOAD'",
			   lineno + n + 1);
	else
		ret = fail(cmd, a->name,
			   "line %" PRIu64
			   " is longer than the capacity of %zu bytes",
			   lineno + n + 1, cap);
	goto err_free;
err_ring:
	/* Interrupted by a signal: nothing to say, the caller dies by it. */
	if (err != -EINTR || !caught_signal)
		ret = pub_error(cmd, a, err);
err_free:
	free(in.buf);
	return ret;
}

/*
 * --wait-subscribers: say once that we wait, then wait (as long as
 * --timeout allows).  Return: an exit status; EXIT_FAILURE without a word
 * when a signal interrupted it.
 */
static int pub_wait_subs(const struct command *cmd, const struct pub_args *a,
			 struct ringcast_pub *pub)
{
	int err;

	err = ringcast_pub_wait_subscribers(pub, a->wait_subs, 0);
	if (err == -EAGAIN && a->timeout_ns != 0) {
		int now = ringcast_pub_subscribers(pub);

		fprintf(stderr,
			"ringcast: %s: ring '%s': waiting for %" PRIu32
			" subscribers (%d attached)\n",
			cmd->name, a->name, a->wait_subs, now < 0 ? 0 : now);
		err = ringcast_pub_wait_subscribers(pub, a->wait_subs,
						    a->timeout_ns);
	}
	if (err >= 0)
		return EXIT_SUCCESS;
	if (err == -EINTR && caught_signal)
		return EXIT_FAILURE;
	if (err == -EAGAIN || err == -ETIMEDOUT)
		return fail(cmd, a->name,
			    "fewer than %" PRIu32
			    " subscribers attached within %s seconds",
			    a->wait_subs, a->timeout);
	if (err == -EPIPE)
		return fail(cmd, a->name,
			    "closed while waiting for subscribers");
	return pub_error(cmd, a, err);
}

static int cmd_pub(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "typed", no_argument, NULL, 'T' },
		{ "reopen", no_argument, NULL, 'r' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'z' },
		{ "wait-subscribers", required_argument, NULL, 'W' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "any-owner", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pub_args a = { .timeout_ns = -1 };
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	int c, err, ret;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return EXIT_SUCCESS;
		case 't':
			if (opt_u32(cmd, "type", optarg, 0, UINT32_MAX, false,
				    &a.type))
				return EXIT_USAGE;
			break;
		case 'T':
			a.typed = true;
			break;
		case 'r':
			a.flags |= RINGCAST_PUB_REOPEN;
			break;
		case 'A':
			a.flags |= RINGCAST_PUB_ANY_OWNER;
			break;
		case 's':
		case 'z':
			if (opt_geometry(cmd, c, optarg, &a.geo))
				return EXIT_USAGE;
			break;
		case 'W':
			if (opt_u32(cmd, "wait-subscribers", optarg, 0,
				    RINGCAST_MAX_SUBSCRIBERS, false,
				    &a.wait_subs))
				return EXIT_USAGE;
			break;
		case 'o':
			if (opt_seconds(cmd, "timeout", optarg, 0,
					"a number of seconds", &a.timeout_ns))
				return EXIT_USAGE;
			a.timeout = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	a.name = one_name(cmd, argc, argv);
	if (!a.name)
		return EXIT_USAGE;

	ret = pub_prepare(cmd, &a);
	if (ret)
		return ret;
	err = ringcast_pub_attach(a.name, a.flags, &pub);
	if (err == -EPIPE)
		return fail(cmd, a.name,
			    "closed (--reopen publishes on it again)");
	if (err == -EACCES && !(a.flags & RINGCAST_PUB_ANY_OWNER))
		return foreign_error(cmd, a.name, err);
	if (err < 0)
		return ring_error(cmd, a.name, err);
	/*
	 * From here a signal interrupts a wait for room or for subscribers,
	 * and a read of stdin; a signal that came before is seen by the
	 * first check of caught_signal.
	 */
	atomic_store(&signal_pub, pub);
	catch_signals(false);
	ringcast_pub_set_timeout(pub, a.timeout_ns);
	/* The capacity, which the publisher handle does not tell. */
	err = ringcast_ring_get_stats(a.name, &info);
	if (err < 0) {
		ret = ring_error(cmd, a.name, err);
		goto out_close;
	}

	ret = a.wait_subs ? pub_wait_subs(cmd, &a, pub) : EXIT_SUCCESS;
	if (ret == EXIT_SUCCESS)
		ret = pub_lines(cmd, &a, pub, info.capacity);

out_close:
	atomic_store(&signal_pub, NULL);
	if (caught_signal) {
		/* As if killed: subscribers are told that we died. */
		ringcast_pub_detach(pub);
		return exit_by_signal(caught_signal);
	}
	/* The last publisher of a multi-publisher ring closes it. */
	err = ringcast_pub_finish(pub);
	if (err < 0 && ret == EXIT_SUCCESS)
		ret = pub_error(cmd, &a, err);
	return ret;
}

/* ----------------------------------------------------------------------
 * sub
 */

struct sub_args {
	const char *name;
	struct ringcast_sub_opts opts;
	uint32_t types[RINGCAST_MAX_TYPES];
	uint64_t count;
	bool have_count;
	int64_t timeout_ns; /* < 0: none */
	const char *timeout; /* as given, for messages */
	bool wait;
	bool json;
};

static int parse_types(const struct command *cmd, const char *arg,
		       struct sub_args *a)
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
		for (i = 0; i < a->opts.ntypes; i++)
			if (a->types[i] == v)
				break;
		if (i == a->opts.ntypes) {
			if (i == RINGCAST_MAX_TYPES)
				return usage_error(
					cmd, "--types: more than %u types",
					RINGCAST_MAX_TYPES);
			a->types[a->opts.ntypes++] = v;
		}
		p += len;
		if (!*p)
			return 0;
		p++;
	}
}

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
		{ "reliable", no_argument, NULL, 'R' },
		{ "demote-after", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ns;
	int c;

	a->opts.from = RINGCAST_FROM_NEWEST;
	a->opts.wait = RINGCAST_WAIT_SPIN;
	a->opts.types = a->types;
	a->timeout_ns = -1;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return -1;
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
			if (parse_types(cmd, optarg, a))
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
			if (!strcmp(optarg, "json"))
				a->json = true;
			else if (!strcmp(optarg, "text"))
				a->json = false;
			else
				return usage_error(
					cmd,
					"--format: '%s' is not text or json",
					optarg);
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
		default:
			return EXIT_USAGE;
		}
	}
	if (a->opts.demote_ns && !(a->opts.flags & RINGCAST_SUB_RELIABLE))
		return usage_error(cmd, "--demote-after needs --reliable");
	a->name = one_name(cmd, argc, argv);
	if (!a->name)
		return EXIT_USAGE;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
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

static void print_event(const struct ringcast_event *ev, bool json)
{
	const unsigned char *data = ev->data;

	if (!json) {
		fwrite_unlocked(data, 1, ev->len, stdout);
		putc_unlocked('\n', stdout);
		return;
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

/*
 * Read events until the end of the stream or --count.  Return: 0 or a
 * negative errno that ended it; *@werr is set to an errno if writing
 * stdout failed.
 */
static int sub_loop(const struct command *cmd, const struct sub_args *a,
		    struct ringcast_sub *sub, int *werr)
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
		err = ringcast_sub_next(sub, &ev, 0);
		if (err == -EAGAIN) {
			if (fflush(stdout) == EOF) {
				*werr = errno;
				return 0;
			}
			err = ringcast_sub_next(sub, &ev, a->timeout_ns);
			if (err == -EAGAIN)
				err = -ETIMEDOUT;
		}
		if (err == -EOVERFLOW) {
			fflush(stdout);
			fprintf(stderr,
				"ringcast: %s: ring '%s': lost %" PRIu64
				" events\n",
				cmd->name, a->name, ev.lost);
			continue;
		}
		if (err == -ESTALE) {
			fflush(stdout);
			fprintf(stderr,
				"ringcast: %s: ring '%s': demoted to lossy: "
				"stuck past the demotion limit; events may "
				"now be lost\n",
				cmd->name, a->name);
			continue;
		}
		if (err == -EINTR && !caught_signal)
			continue;
		if (err < 0)
			return err;
		print_event(&ev, a->json);
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

static int cmd_sub(const struct command *cmd, int argc, char **argv)
{
	struct sub_args a = { 0 };
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

	err = sub_attach(&a, &sub);
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
	err = sub_loop(cmd, &a, sub, &werr);
	atomic_store(&signal_sub, NULL);
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
		return output_error(cmd, werr);
	if (fflush(stdout) == EOF)
		return ret == EXIT_SUCCESS ? output_error(cmd, errno) : ret;
	return ret;
}

/* ----------------------------------------------------------------------
 * close, rm
 */

static int cmd_name_only(const struct command *cmd, int argc, char **argv,
			 int (*fn)(const char *name))
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name;
	int c, err;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		if (c != 'h')
			return EXIT_USAGE;
		print_help(cmd, stdout);
		return EXIT_SUCCESS;
	}
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;
	err = fn(name);
	if (err == -EPIPE)
		return fail(cmd, name, "already closed");
	if (err < 0)
		return ring_error(cmd, name, err);
	return EXIT_SUCCESS;
}

static int cmd_close(const struct command *cmd, int argc, char **argv)
{
	return cmd_name_only(cmd, argc, argv, ringcast_ring_close);
}

static int cmd_rm(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name;
	bool force = false;
	int c, err;

	while ((c = next_opt(cmd, argc, argv, ":hf", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return EXIT_SUCCESS;
		case 'f':
			force = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;
	err = force ? ringcast_ring_remove_force(name) :
		      ringcast_ring_remove(name);
	if (err == -EBUSY)
		return fail(cmd, name, "in use: %s (--force removes it anyway)",
			    ringcast_errdetail());
	if (err < 0)
		return ring_error(cmd, name, err);
	return EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * stat, ls
 */

static const char *state_name(uint32_t state)
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

static uint64_t retained(const struct ringcast_ring_stats *info)
{
	/* The fields are read one by one: do not trust their order. */
	return info->head > info->oldest ? info->head - info->oldest : 0;
}

static const char *alive_name(int32_t alive, bool json)
{
	if (alive < 0)
		return json ? "null" : "unknown";
	if (alive)
		return json ? "true" : "yes";
	return json ? "false" : "no";
}

/* What a table entry is: it gates, was demoted, or never gated. */
static const char *sub_mode(const struct ringcast_ring_subscriber *si)
{
	if (si->flags & RINGCAST_SUBINFO_RELIABLE)
		return "reliable";
	if (si->flags & RINGCAST_SUBINFO_DEMOTED)
		return "demoted";
	return "lossy";
}

/*
 * The ring's subscriber table, into *@subsp (freed by the caller, NULL
 * when empty).  Return: the number of entries, or a negative errno.
 */
static int get_subscribers(const char *name, uint32_t hint,
			   struct ringcast_ring_subscriber **subsp)
{
	struct ringcast_ring_subscriber *subs = NULL;
	unsigned int cap = hint ? hint : 1;
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
		n = ringcast_ring_get_subscribers(name, subs, cap);
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

/*
 * The counters of a NATS bridge of this ring (ringcast-bridge out|in
 * keeps them in /dev/shm/ringcast-bridge.DIR.NAME, lines 'KEY VALUE'):
 * shown as bridge_DIR_KEY lines, gaps and lost events included.
 */
static void print_bridges_text(const char *name)
{
	static const char *const dirs[] = { "out", "in" };
	char path[RINGCAST_NAME_MAX + 64], line[512];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/dev/shm/ringcast-bridge.%s.%s",
			 dirs[i], name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *sp = strchr(line, ' ');

			if (!sp || !strchr(line, '\n'))
				continue;
			*sp = '\0';
			printf("bridge_%s_%s: %s", dirs[i], line, sp + 1);
		}
		fclose(f);
	}
}

static void print_info_text(const char *name,
			    const struct ringcast_ring_stats *info)
{
	printf("name: %s\n"
	       "state: %s\n"
	       "slots: %" PRIu32 "\n"
	       "slot_size: %" PRIu32 "\n"
	       "capacity: %" PRIu32 "\n"
	       "max_subscribers: %" PRIu32 "\n"
	       "subscribers: %" PRIu32 "\n"
	       "reliable: %" PRIu32 "\n"
	       "table_hwm: %" PRIu32 "\n"
	       "publishers: %" PRIu32 "\n"
	       "mode: 0%03" PRIo32 "\n"
	       "size: %" PRIu64 "\n"
	       "abi_version: %" PRIu32 "\n"
	       "features: 0x%" PRIx32 "\n"
	       "multi_publisher: %s\n"
	       "epoch: 0x%016" PRIx64 "\n"
	       "epoch_start: %" PRIu64 "\n"
	       "head: %" PRIu64 "\n"
	       "oldest: %" PRIu64 "\n"
	       "retained: %" PRIu64 "\n"
	       "published: %" PRIu64 "\n"
	       "refused: %" PRIu64 "\n"
	       "wakes: %" PRIu64 "\n"
	       "demote_ns: %" PRIu64 "\n"
	       "blocked: %" PRIu64 "\n"
	       "blocked_ns: %" PRIu64 "\n"
	       "demotions: %" PRIu64 "\n"
	       "publisher_pid: %" PRId32 "\n"
	       "publisher_alive: %s\n",
	       name, state_name(info->state), info->slots, info->slot_size,
	       info->capacity, info->max_subscribers, info->subscribers,
	       info->reliable, info->table_hwm, info->publishers, info->mode,
	       info->size, info->abi_version, info->features,
	       info->features & RINGCAST_FEAT_MULTI_PUB ? "yes" : "no",
	       info->epoch, info->epoch_start, info->head, info->oldest,
	       retained(info), info->published, info->refused, info->wakes,
	       info->demote_ns, info->blocked, info->blocked_ns,
	       info->demotions, info->publisher_pid,
	       alive_name(info->publisher_alive, false));
}

/*
 * The table, after a blank line: one row per entry, none if empty; the
 * column of aborted records only on multi-publisher rings, which have some.
 */
static void print_subs_text(const struct ringcast_ring_stats *info,
			    const struct ringcast_ring_subscriber *subs, int n)
{
	bool multi = info->features & RINGCAST_FEAT_MULTI_PUB;
	int i;

	if (n <= 0)
		return;
	printf("\n%3s %7s %-5s %-8s %-8s %10s %8s %10s %8s %8s%s\n", "ID",
	       "PID", "ALIVE", "MODE", "FILTERED", "CURSOR", "LAG", "DELIVERED",
	       "SKIPPED", "LOST", multi ? "  ABORTED" : "");
	for (i = 0; i < n; i++) {
		const struct ringcast_ring_subscriber *si = &subs[i];

		printf("%3" PRIu32 " %7" PRId32 " %-5s %-8s %-8s %10" PRIu64
		       " %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64,
		       si->id, si->pid, alive_name(si->alive, false),
		       sub_mode(si),
		       si->flags & RINGCAST_SUBINFO_FILTERED ? "yes" : "no",
		       si->cursor, si->lag, si->delivered, si->skipped,
		       si->lost);
		if (multi)
			printf(" %8" PRIu64, si->aborted);
		putchar('\n');
	}
}

static const char *json_bool(bool b)
{
	return b ? "true" : "false";
}

static void print_subs_json(const struct ringcast_ring_subscriber *subs, int n)
{
	int i;

	putchar('[');
	for (i = 0; i < n; i++) {
		const struct ringcast_ring_subscriber *si = &subs[i];

		printf("%s{\"id\":%" PRIu32 ",\"pid\":%" PRId32
		       ",\"alive\":%s,\"mode\":\"%s\",\"reliable\":%s"
		       ",\"demoted\":%s,\"filtered\":%s,\"first\":%" PRIu64
		       ",\"cursor\":%" PRIu64 ",\"lag\":%" PRIu64
		       ",\"delivered\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"lost\":%" PRIu64 ",\"aborted\":%" PRIu64 "}",
		       i ? "," : "", si->id, si->pid,
		       alive_name(si->alive, true), sub_mode(si),
		       json_bool(si->flags & RINGCAST_SUBINFO_RELIABLE),
		       json_bool(si->flags & RINGCAST_SUBINFO_DEMOTED),
		       json_bool(si->flags & RINGCAST_SUBINFO_FILTERED),
		       si->first, si->cursor, si->lag, si->delivered,
		       si->skipped, si->lost, si->aborted);
	}
	putchar(']');
}

/*
 * One JSON object; the epoch, an identifier, as a hex string; the
 * subscriber table as the array "subscribers".
 */
static void print_info_json(const char *name,
			    const struct ringcast_ring_stats *info,
			    const struct ringcast_ring_subscriber *subs, int nsubs)
{
	fputs("{\"name\":", stdout);
	json_string(name);
	printf(",\"state\":\"%s\""
	       ",\"slots\":%" PRIu32 ",\"slot_size\":%" PRIu32
	       ",\"capacity\":%" PRIu32 ",\"max_subscribers\":%" PRIu32
	       ",\"reliable\":%" PRIu32 ",\"table_hwm\":%" PRIu32
	       ",\"publishers\":%" PRIu32 ",\"mode\":\"0%03" PRIo32 "\""
	       ",\"size\":%" PRIu64 ",\"abi_version\":%" PRIu32
	       ",\"features\":%" PRIu32 ",\"multi_publisher\":%s"
	       ",\"epoch\":\"0x%016" PRIx64 "\""
	       ",\"epoch_start\":%" PRIu64 ",\"head\":%" PRIu64
	       ",\"oldest\":%" PRIu64 ",\"retained\":%" PRIu64
	       ",\"published\":%" PRIu64 ",\"refused\":%" PRIu64
	       ",\"wakes\":%" PRIu64 ",\"demote_ns\":%" PRIu64
	       ",\"blocked\":%" PRIu64 ",\"blocked_ns\":%" PRIu64
	       ",\"demotions\":%" PRIu64 ",\"publisher_pid\":%" PRId32
	       ",\"publisher_alive\":%s,\"subscribers\":",
	       state_name(info->state), info->slots, info->slot_size,
	       info->capacity, info->max_subscribers, info->reliable,
	       info->table_hwm, info->publishers, info->mode, info->size,
	       info->abi_version, info->features,
	       json_bool(info->features & RINGCAST_FEAT_MULTI_PUB), info->epoch,
	       info->epoch_start, info->head, info->oldest, retained(info),
	       info->published, info->refused, info->wakes, info->demote_ns,
	       info->blocked, info->blocked_ns, info->demotions,
	       info->publisher_pid, alive_name(info->publisher_alive, true));
	print_subs_json(subs, nsubs);
	putchar('}');
}

/* A ring's snapshot and its table.  Return: 0 or a negative errno. */
static int get_ring(const char *name, struct ringcast_ring_stats *info,
		    struct ringcast_ring_subscriber **subsp, int *nsubsp)
{
	int err;

	*subsp = NULL;
	*nsubsp = 0;
	err = ringcast_ring_get_stats(name, info);
	if (err < 0)
		return err;
	err = get_subscribers(name, info->max_subscribers, subsp);
	if (err < 0)
		return err;
	*nsubsp = err;
	return 0;
}

static int opt_json(const struct command *cmd, int argc, char **argv,
		    bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return -1;
		case 'j':
			*json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int cmd_stat(const struct command *cmd, int argc, char **argv)
{
	struct ringcast_ring_stats info;
	struct ringcast_ring_subscriber *subs;
	const char *name;
	bool json = false;
	int err, nsubs;

	err = opt_json(cmd, argc, argv, &json);
	if (err)
		return err < 0 ? EXIT_SUCCESS : err;
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;

	err = get_ring(name, &info, &subs, &nsubs);
	if (err < 0)
		return ring_error(cmd, name, err);
	if (json) {
		print_info_json(name, &info, subs, nsubs);
		putchar('\n');
	} else {
		print_info_text(name, &info);
		print_bridges_text(name);
		print_subs_text(&info, subs, nsubs);
	}
	free(subs);
	return finish_output(cmd);
}

struct name_list {
	char **names;
	size_t n, cap;
};

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

static void free_names(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	l->names = NULL;
	l->n = l->cap = 0;
}

/* Every ring's name, sorted.  Return: 0 or a negative errno. */
static int list_rings(struct name_list *l)
{
	int err = ringcast_ring_list(collect_name, l);

	if (err < 0) {
		free_names(l);
		return err;
	}
	if (l->n)
		qsort(l->names, l->n, sizeof(*l->names), compare_names);
	return 0;
}

static int cmd_ls(const struct command *cmd, int argc, char **argv)
{
	struct name_list list = { 0 };
	bool json = false;
	size_t i;
	int err;

	err = opt_json(cmd, argc, argv, &json);
	if (err)
		return err < 0 ? EXIT_SUCCESS : err;
	err = no_args(cmd, argc, argv);
	if (err)
		return err;

	err = list_rings(&list);
	if (err < 0)
		return fail(cmd, NULL, "listing rings: %s",
			    ringcast_strerror(err));

	if (json)
		putchar('[');
	for (i = 0; i < list.n; i++) {
		struct ringcast_ring_stats info;
		struct ringcast_ring_subscriber *subs;
		int nsubs;

		if (!json) {
			puts(list.names[i]);
			continue;
		}
		if (i)
			putchar(',');
		err = get_ring(list.names[i], &info, &subs, &nsubs);
		if (err == 0) {
			print_info_json(list.names[i], &info, subs, nsubs);
			free(subs);
			continue;
		}
		/* Removed meanwhile, unreadable or corrupted: say which. */
		fputs("{\"name\":", stdout);
		json_string(list.names[i]);
		fputs(",\"error\":", stdout);
		json_string(ringcast_strerror(err));
		putchar('}');
	}
	if (json)
		puts("]");
	free_names(&list);
	return finish_output(cmd);
}

/* ----------------------------------------------------------------------
 * top
 */

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
top_find_sub(const struct top_sample *s, const struct ringcast_ring_subscriber *si)
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
		const struct ringcast_ring_subscriber *ps = top_find_sub(prev, si);

		fprintf(f,
			"  %4" PRIu32 " %7" PRId32 " %-5s %-8s %10" PRIu64
			" %8s %10" PRIu64 " %8" PRIu64 "%s\n",
			si->id, si->pid, alive_name(si->alive, false),
			sub_mode(si), si->lag,
			top_rate(b3, sizeof(b3), ps, ps ? ps->delivered : 0,
				 si->delivered, dt),
			si->delivered, si->lost,
			/* A whole ring behind: the publisher waits for it. */
			(si->flags & RINGCAST_SUBINFO_RELIABLE) &&
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

static int cmd_top(const struct command *cmd, int argc, char **argv)
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

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return EXIT_SUCCESS;
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
		default:
			return EXIT_USAGE;
		}
	}
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

/* ----------------------------------------------------------------------
 * gc
 */

/*
 * Is the ring garbage: its publisher died (abandoned, or live with the
 * lease free) and no live subscriber is left in its table?  A ring that
 * waits for its first publisher, a closed ring (a normal end: its events
 * are there to be read) and anything that cannot be told are kept.
 * Return: 1 garbage, 0 keep, or a negative errno; @why says which.
 */
static int gc_check(const char *name, struct ringcast_ring_stats *info,
		    const char **why)
{
	struct ringcast_ring_subscriber *subs;
	int i, n, err, live = 0;

	err = ringcast_ring_get_stats(name, info);
	if (err < 0)
		return err;
	switch (info->state) {
	case RINGCAST_STATE_ABANDONED:
		*why = "abandoned";
		break;
	case RINGCAST_STATE_LIVE:
		if (info->publisher_alive != 0) {
			*why = "live";
			return 0;
		}
		*why = "publisher dead";
		break;
	case RINGCAST_STATE_CREATED:
		*why = "waiting for its first publisher";
		return 0;
	case RINGCAST_STATE_CLOSED:
		*why = "closed";
		return 0;
	default:
		*why = "unknown state";
		return 0;
	}
	n = get_subscribers(name, info->max_subscribers, &subs);
	if (n < 0)
		return n;
	/* Dead entries were reclaimed; alive -1 cannot be told: kept. */
	for (i = 0; i < n; i++)
		if (subs[i].alive != 0)
			live++;
	free(subs);
	if (live) {
		*why = "subscribers alive";
		return 0;
	}
	return 1;
}

static int cmd_gc(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct name_list list = { 0 };
	uint64_t bytes = 0, rings = 0;
	char **names = argv + optind;
	size_t nnames, i;
	bool dry = false, named;
	int c, err, ret = EXIT_SUCCESS;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			print_help(cmd, stdout);
			return EXIT_SUCCESS;
		case 'n':
			dry = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	names = argv + optind;
	nnames = (size_t)(argc - optind);
	named = nnames > 0;
	if (!named) {
		err = list_rings(&list);
		if (err < 0)
			return fail(cmd, NULL, "listing rings: %s",
				    ringcast_strerror(err));
		names = list.names;
		nnames = list.n;
	}

	for (i = 0; i < nnames; i++) {
		struct ringcast_ring_stats info;
		const char *why = "";

		err = gc_check(names[i], &info, &why);
		if (err == 0)
			continue;
		if (err < 0 && named) {
			ret = ring_error(cmd, names[i], err);
			continue;
		}
		/*
		 * Of all the rings: one removed meanwhile, or another user's,
		 * is none of our business; a corrupted one is kept, said.
		 */
		if (err < 0) {
			if (err != -ENOENT && err != -EACCES)
				ring_error(cmd, names[i], err);
			continue;
		}
		if (!dry) {
			err = ringcast_ring_remove(names[i]);
			if (err == -ENOENT)
				continue; /* removed meanwhile */
			if (err < 0) {
				ret = ring_error(cmd, names[i], err);
				continue;
			}
		}
		printf("%s %s (%s, publisher %" PRId32 ", %" PRIu64 " bytes)\n",
		       dry ? "would remove" : "removed", names[i], why,
		       info.publisher_pid, info.size);
		bytes += info.size;
		rings++;
	}
	printf("%s %" PRIu64 " ring%s, %" PRIu64 " bytes%s\n",
	       dry ? "would remove" : "removed", rings, rings == 1 ? "" : "s",
	       bytes, dry ? "" : " freed");
	free_names(&list);
	err = finish_output(cmd);
	return err ? err : ret;
}

/* ----------------------------------------------------------------------
 * bench
 */

#ifndef RINGCAST_LIBEXECDIR
#define RINGCAST_LIBEXECDIR "/usr/local/libexec"
#endif
/* The benchmark driver, installed beside the benchmarks it runs. */
#define BENCH_DRIVER RINGCAST_LIBEXECDIR "/ringcast/ringcast-bench"

/* The NATS bridge, installed where libnats was found at build time. */
#define BRIDGE_PROGRAM RINGCAST_LIBEXECDIR "/ringcast/ringcast-bridge"

/*
 * Run a helper program with our arguments: the environment variable @env,
 * when set, names it (a build tree's), else @installed.  Only --help (or
 * -h) alone is ours; '--' first passes even that on.
 */
static int exec_helper(const struct command *cmd, int argc, char **argv,
		       const char *env, const char *installed, const char *what)
{
	const char *prog = getenv(env);
	char **args;
	int first = 1, i, n = 1, err;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		print_help(cmd, stdout);
		return EXIT_SUCCESS;
	}
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (!prog || !*prog)
		prog = installed;

	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return fail(cmd, NULL, "%s", strerror(ENOMEM));
	args[0] = (char *)prog;
	for (i = first; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	/* An ignored SIGPIPE would be inherited across exec. */
	signal(SIGPIPE, SIG_DFL);
	fflush(NULL);
	execv(prog, args);
	err = errno;
	free(args);
	if (err == ENOENT)
		return fail(cmd, NULL,
			    "no %s at %s (not installed? %s names "
			    "another)",
			    what, prog, env);
	return fail(cmd, NULL, "cannot run %s: %s", prog, strerror(err));
}

static int cmd_bench(const struct command *cmd, int argc, char **argv)
{
	return exec_helper(cmd, argc, argv, "RINGCAST_BENCH", BENCH_DRIVER,
			   "benchmark driver");
}

static int cmd_bridge(const struct command *cmd, int argc, char **argv)
{
	return exec_helper(
		cmd, argc, argv, "RINGCAST_BRIDGE", BRIDGE_PROGRAM,
		"NATS bridge (built where libnats-dev is installed)");
}

/* ----------------------------------------------------------------------
 * The table
 */

static const char create_help[] =
	"Usage: ringcast create NAME [--slots N] [--slot-size BYTES]\n"
	"                            [--max-subscribers N] [--mode OCTAL]\n"
	"                            [--demote-after SECONDS]\n"
	"\n"
	"Create the ring NAME; fail if it exists.\n"
	"\n"
	"  --slots N            slots, a power of two from 2 to 16M\n"
	"                       (default 4096)\n"
	"  --slot-size BYTES    bytes per slot, a power of two from 64 to\n"
	"                       16M (default 256); an event carries up to\n"
	"                       this minus 32 bytes of payload\n"
	"  --max-subscribers N  subscriber table entries, 1 to 4096\n"
	"                       (default 64)\n"
	"  --mode OCTAL         permissions, whatever the umask\n"
	"                       (default 0600)\n"
	"  --demote-after SECONDS\n"
	"                       a reliable subscriber that keeps the\n"
	"                       publisher blocked this long (fractions\n"
	"                       allowed) is demoted to lossy; 0 or absent:\n"
	"                       wait for it for ever\n"
	"  --multi-publisher    any number of processes may publish at\n"
	"                       once ('ringcast pub' on it joins them)\n"
	"\n"
	"Sizes take a k, M or G suffix (powers of 1024).\n"
	"Exit status: 0 created, 1 error (it exists...), 2 usage.\n";

static const char pub_help[] =
	"Usage: ringcast pub NAME [--type T | --typed] [--reopen]\n"
	"                         [--slots N] [--slot-size BYTES]\n"
	"                         [--wait-subscribers N] [--timeout SECONDS]\n"
	"                         [--any-owner]\n"
	"\n"
	"Publish each line of standard input, without its newline, as\n"
	"one event; at the end of the input close the ring (end of\n"
	"stream).  On a multi-publisher ring it publishes beside the\n"
	"others, and at the end of its input closes the ring only if it\n"
	"is the last publisher attached (else it just leaves).  The ring\n"
	"is created if it does not exist; if it does, --slots and\n"
	"--slot-size, when given, must match it.\n"
	"\n"
	"  --type T           the events' type tag (default 0)\n"
	"  --typed            each line is 'TYPE PAYLOAD': a decimal type\n"
	"                     tag, one space or tab, then the payload\n"
	"  --reopen           publish on a closed ring again (a takeover)\n"
	"  --slots N          geometry of a new ring, as for 'ringcast\n"
	"  --slot-size BYTES  create'\n"
	"  --wait-subscribers N\n"
	"                     before the first event, wait until N\n"
	"                     subscribers are attached (saying so on\n"
	"                     standard error)\n"
	"  --timeout SECONDS  give up when a reliable subscriber leaves no\n"
	"                     room for that long (fractions allowed; 0:\n"
	"                     never wait); also bounds --wait-subscribers\n"
	"  --any-owner        publish even into a ring of another user, who\n"
	"                     reads whatever is published: only one you\n"
	"                     trust (without it, such a ring is an error)\n"
	"\n"
	"A line longer than the ring's capacity, or a timeout, is an\n"
	"error: the lines before it are published, the ring is closed,\n"
	"the status is 1.  A publisher killed by a signal does not close\n"
	"the ring: subscribers are told that it died.  SIGINT, SIGTERM\n"
	"and SIGHUP, also while it waits, make it leave the ring that\n"
	"way, then die by that signal.\n"
	"Exit status: 0 all published, 1 error, 2 usage.\n";

static const char sub_help[] =
	"Usage: ringcast sub NAME [--from oldest|newest|SEQ]\n"
	"                         [--types T1,T2,...] [--count N]\n"
	"                         [--timeout SECONDS] [--wait]\n"
	"                         [--strategy busy|spin|sleep]\n"
	"                         [--format text|json]\n"
	"                         [--reliable [--demote-after SECONDS]]\n"
	"\n"
	"Print one line per event until the end of the stream.\n"
	"\n"
	"  --from WHERE       the oldest retained event, the newest (the\n"
	"                     default: events published from now on), or\n"
	"                     a sequence number\n"
	"  --types LIST       only these type tags (comma-separated)\n"
	"  --count N          stop after N events\n"
	"  --timeout SECONDS  give up when no event came for that long\n"
	"                     (fractions allowed); also bounds --wait\n"
	"  --wait             wait for the ring to be created\n"
	"  --strategy HOW     when caught up: spin a little then sleep\n"
	"                     (spin, the default), spin only (busy), or\n"
	"                     sleep at once (sleep)\n"
	"  --format FMT       text: the payload as is, then a newline;\n"
	"                     json: one object per line with seq, type,\n"
	"                     ts, len and data, or data_base64 when the\n"
	"                     payload is not valid UTF-8\n"
	"  --reliable         gate the publisher: it waits rather than\n"
	"                     overwrite an event this subscriber has not\n"
	"                     read, so none is lost (a slow reader slows\n"
	"                     the publisher)\n"
	"  --demote-after SECONDS\n"
	"                     with --reliable: if it keeps the publisher\n"
	"                     blocked this long, become lossy (when\n"
	"                     shorter than the ring's own limit)\n"
	"\n"
	"Events lost when the subscriber is lapped are reported on\n"
	"standard error as 'lost N events'; reading goes on.  A reliable\n"
	"subscriber that is demoted says 'demoted to lossy' there once\n"
	"and goes on.\n"
	"Exit status: 0 end of stream, --count reached, or the reader of\n"
	"the output went away; 1 timeout, publisher died, or error;\n"
	"2 usage.  SIGINT, SIGTERM and SIGHUP stop it after flushing the\n"
	"output; it then dies by that signal (status 130 for Ctrl-C).\n";

static const char close_help[] =
	"Usage: ringcast close NAME\n"
	"\n"
	"Mark the ring closed, whatever publisher holds it: subscribers\n"
	"read what was published, then end.\n"
	"Exit status: 0 closed, 1 error (also: closed already), 2 usage.\n";

static const char stat_help[] =
	"Usage: ringcast stat NAME [--json]\n"
	"\n"
	"Validate the ring and print a snapshot of it: 'key: value'\n"
	"lines, then a table of its registered subscribers (id, pid,\n"
	"alive, mode reliable, lossy or demoted, filtered, cursor, lag,\n"
	"delivered, skipped, lost, aborted); or one JSON object with\n"
	"--json, the table as its array 'subscribers'.  There the epoch\n"
	"(an identifier) is a hex string, the mode an octal string, and\n"
	"alive and publisher_alive true, false or null (cannot tell).\n"
	"Exit status: 0, 1 error (missing, corrupted...), 2 usage.\n";

static const char ls_help[] =
	"Usage: ringcast ls [--json]\n"
	"\n"
	"Print the name of every ring, sorted, one per line; with --json,\n"
	"one JSON array of the objects 'ringcast stat --json' prints\n"
	"(name and error for a ring that cannot be read).\n"
	"Exit status: 0, 1 error, 2 usage.\n";

static const char rm_help[] =
	"Usage: ringcast rm NAME [--force]\n"
	"\n"
	"Remove the ring, unless a publisher or a registered subscriber\n"
	"of it is alive (the error names it and its pid).  New processes\n"
	"do not find it any more.\n"
	"\n"
	"  --force  remove it even while it is in use: its publishers\n"
	"           are refused from then on, and its subscribers read\n"
	"           what was published, then stop; both are told the\n"
	"           ring was removed\n"
	"\n"
	"Exit status: 0 removed, 1 error (no such ring, in use...), 2\n"
	"usage.\n";

static const char top_help[] =
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

static const char gc_help[] =
	"Usage: ringcast gc [NAME...] [--dry-run]\n"
	"\n"
	"Remove the rings (every ring, or those named) whose publisher\n"
	"died without closing them and that have no live subscriber\n"
	"left: they hold their whole size in /dev/shm for nothing.  A\n"
	"ring waiting for its first publisher is kept, and so is a\n"
	"closed ring (a normal end of stream: 'ringcast rm' removes it).\n"
	"Prints a line per ring removed and the bytes freed.\n"
	"\n"
	"  --dry-run  say what would be removed; remove nothing\n"
	"\n"
	"Exit status: 0, 1 a ring named could not be read or a ring\n"
	"could not be removed, 2 usage.\n";

static const char bench_help[] =
	"Usage: ringcast bench [ARGS...]\n"
	"       ringcast bench -- --help\n"
	"\n"
	"Run the benchmark driver (ringcast-bench, installed under\n"
	"LIBEXECDIR/ringcast, or the program the environment variable\n"
	"RINGCAST_BENCH names, for a build tree) with ARGS: it measures\n"
	"ringcast against the other transports installed, one row per\n"
	"configuration.  Every argument is the driver's; its own help\n"
	"is 'ringcast bench -- --help'.\n"
	"Exit status: the driver's; 1 when there is no driver to run.\n";

static const char bridge_help[] =
	"Usage: ringcast bridge out NAME --nats URL [--subject PREFIX] ...\n"
	"       ringcast bridge in NAME --nats URL [--subject PATTERN] ...\n"
	"       ringcast bridge -- --help\n"
	"\n"
	"Forward a ring to NATS (out: a reliable subscriber of NAME\n"
	"publishing each event to PREFIX.NAME.TYPE) or from NATS into a\n"
	"local ring (in), by running ringcast-bridge (installed under\n"
	"LIBEXECDIR/ringcast where the NATS C client was found, or the\n"
	"program the environment variable RINGCAST_BRIDGE names) with\n"
	"ARGS.  Its own help is 'ringcast bridge -- --help'.\n"
	"Exit status: the bridge's; 1 when there is no bridge to run.\n";

static const char help_help[] = "Usage: ringcast help [COMMAND]\n";

static int cmd_help(const struct command *cmd, int argc, char **argv);

static const struct command commands[] = {
	{ "create", "create a ring", create_help, cmd_create },
	{ "pub", "publish each line of standard input", pub_help, cmd_pub },
	{ "sub", "print the events of a ring", sub_help, cmd_sub },
	{ "close", "end the stream of a ring", close_help, cmd_close },
	{ "stat", "show a ring's geometry, state and counters", stat_help,
	  cmd_stat },
	{ "ls", "list the rings", ls_help, cmd_ls },
	{ "top", "watch rings and subscribers live", top_help, cmd_top },
	{ "rm", "remove a ring", rm_help, cmd_rm },
	{ "gc", "remove rings whose publisher and subscribers died", gc_help,
	  cmd_gc },
	{ "bench", "run the benchmarks", bench_help, cmd_bench },
	{ "bridge", "forward rings over NATS", bridge_help, cmd_bridge },
	{ "help", "show the help of a command", help_help, cmd_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	size_t i;

	fputs("Usage: ringcast COMMAND [ARGS...]\n"
	      "       ringcast COMMAND --help\n"
	      "       ringcast --version\n"
	      "\n"
	      "One publisher, many subscribers, one ring in shared memory.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n"
	      "Exit status: 0 success, 1 runtime error, 2 usage error.\n",
	      f);
}

static int cmd_help(const struct command *cmd, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc > 2)
		return usage_error(cmd, "unexpected argument '%s'", argv[2]);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(cmd, stdout);
		return EXIT_SUCCESS;
	}
	c = find_command(argv[1]);
	if (!c)
		return usage_error(cmd, "unknown command '%s'", argv[1]);
	print_help(c, stdout);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ringcast %s\n", RINGCAST_VERSION);
		return EXIT_SUCCESS;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr,
			"ringcast: unknown command '%s' (see 'ringcast --help')\n",
			argv[1]);
		return EXIT_USAGE;
	}
	/* A reader that goes away shows as EPIPE on the next write. */
	signal(SIGPIPE, SIG_IGN);
	return cmd->run(cmd, argc - 1, argv + 1);
}
