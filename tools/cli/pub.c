// SPDX-License-Identifier: MIT
/*
 * ringcast pub: publish each line of standard input as an event.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/* Lines published per ringcast_pub_publish_batch() call. */
#define PUB_BATCH 64
/* pub's first input buffer; it grows up to the longest line and more. */
#define PUB_BUF_MIN (1u << 20)
/* The most bytes of a line too long that are read to tell its length. */
#define PUB_COUNT_MAX (1ull << 30)

const char pub_help[] =
	"Usage: ringcast pub NAME [--type T | --typed] [--reopen]\n"
	"                         [--slots N] [--slot-size BYTES]\n"
	"                         [--data-size BYTES]\n"
	"                         [--wait-subscribers N] [--timeout SECONDS]\n"
	"                         [--any-owner]\n"
	"\n"
	"Publish each line of standard input, without its newline, as\n"
	"one event; at the end of the input close the ring (end of\n"
	"stream).  On a multi-publisher ring it publishes beside the\n"
	"others, and at the end of its input closes the ring only if it\n"
	"is the last publisher attached (else it just leaves).  The ring\n"
	"is created if it does not exist; if it does, --slots,\n"
	"--slot-size and --data-size, when given, must match it.\n"
	"\n"
	"  --type T           the events' type tag (default 0)\n"
	"  --typed            each line is 'TYPE PAYLOAD': a decimal type\n"
	"                     tag, one space or tab, then the payload\n"
	"  --reopen           publish on a closed ring again (a takeover)\n"
	"  --slots N, --slot-size BYTES, --data-size BYTES\n"
	"                     geometry of a new ring, as for 'ringcast\n"
	"                     create' (--data-size 0: no data area)\n"
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
	"A line may be as long as the ring's largest event (max_event\n"
	"in 'ringcast stat').  A longer line, or a timeout, is an error:\n"
	"the lines before it are published, nothing of it, the ring is\n"
	"closed, the status is 1.  A publisher killed by a signal does\n"
	"not close the ring: subscribers are told that it died.  SIGINT,\n"
	"SIGTERM and SIGHUP, also while it waits, make it leave the ring\n"
	"that way, then die by that signal.\n"
	"Exit status: 0 all published, 1 error, 2 usage.\n";

struct pub_args {
	const char *name;
	uint32_t type;
	unsigned int flags;
	bool typed;
	struct ringcast_ring_opts geo; /* zero fields were not given */
	unsigned int cflags; /* RINGCAST_CREATE_NO_DATA: --data-size 0 */
	uint32_t wait_subs; /* subscribers to wait for; 0: none */
	int64_t timeout_ns; /* < 0: wait for ever */
	const char *timeout; /* as given, for messages */
};

/*
 * stdin, read with read(2) so that lines go out as soon as they come; the
 * buffer grows while a line does not fit, up to @limit.
 */
struct line_reader {
	char *buf;
	size_t size;
	size_t limit; /* the longest line, its newline, and room to read */
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
	bool data = geo->data_size || (a->cflags & RINGCAST_CREATE_NO_DATA);
	struct ringcast_ring_stats info;
	int tries, err;

	for (tries = 0; tries < 2; tries++) {
		err = ringcast_ring_get_stats(a->name, &info);
		if (err == 0) {
			if ((geo->slots && geo->slots != info.slots) ||
			    (geo->slot_size &&
			     geo->slot_size != info.slot_size) ||
			    (data && geo->data_size != info.data_size))
				return fail(
					cmd, a->name,
					"exists with a different geometry (%u slots of %u bytes, a data area of %" PRIu64
					" bytes)",
					info.slots, info.slot_size,
					info.data_size);
			return EXIT_SUCCESS;
		}
		if (err != -ENOENT)
			return ring_error(cmd, a->name, err);

		err = ringcast_ring_create(a->name, geo, a->cflags);
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
 * The length of a line too long to publish, of which @have bytes were
 * read: the rest is read up to its newline (or the end of the input) and
 * counted, at most PUB_COUNT_MAX bytes; *@more says that it goes on past
 * those, or that reading failed.
 */
static uint64_t line_length(struct line_reader *in, uint64_t have, bool *more)
{
	uint64_t len = have;
	ssize_t r;
	char *nl;

	*more = false;
	if (in->eof)
		return len;
	for (;;) {
		if (caught_signal || len - have > PUB_COUNT_MAX) {
			*more = true;
			return len;
		}
		r = read(STDIN_FILENO, in->buf, in->size);
		if (r < 0 && errno == EINTR)
			continue; /* caught_signal is looked at first */
		if (r <= 0) {
			*more = r < 0;
			return len;
		}
		nl = memchr(in->buf, '\n', (size_t)r);
		if (nl)
			return len + (uint64_t)(nl - in->buf);
		len += (uint64_t)r;
	}
}

/*
 * Publish every line of stdin; @cap: the ring's largest event.  Return:
 * an exit status, after saying what went wrong.  The caller closes the ring in every case, so that readers
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
	uint64_t bad_len = 0; /* the line refused: its length */
	bool malformed = false, more = false, payload = false;
	int ret = EXIT_FAILURE;
	unsigned int n;
	int err;

	/* At most room for the longest line and its newline, and to read. */
	in.limit = max_line + 2 + PUB_BUF_MIN / 2;
	in.size = PUB_BUF_MIN < in.limit ? PUB_BUF_MIN : in.limit;
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
			bad_len = len;
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
			bad_len = msgs[n].len;
			payload = a->typed;
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
		if (len > max_line) {
			/* Nothing of it was published: tell its length. */
			bad_len = line_length(&in, len, &more);
			goto bad_line;
		}
		memmove(in.buf, in.buf + in.start, len);
		in.start = 0;
		in.end = len;
		/* The buffer is all one line: grow it (n is 0: no msgs). */
		if (in.end == in.size) {
			size_t size = in.size < in.limit / 2 ? 2 * in.size :
							       in.limit;
			char *buf = realloc(in.buf, size);

			if (!buf) {
				ret = fail(cmd, NULL, "%s", strerror(ENOMEM));
				goto err_free;
			}
			in.buf = buf;
			in.size = size;
		}
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
			   "line %" PRIu64 "%s is %s%" PRIu64
			   " bytes long, above the largest event of %zu bytes: "
			   "not published",
			   lineno + n + 1, payload ? "'s payload" : "",
			   more ? "more than " : "", bad_len, cap);
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

		note(cmd, a->name,
		     "waiting for %" PRIu32 " subscribers (%d attached)",
		     a->wait_subs, now < 0 ? 0 : now);
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

int cmd_pub(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "typed", no_argument, NULL, 'T' },
		{ "reopen", no_argument, NULL, 'r' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'z' },
		{ "data-size", required_argument, NULL, 'd' },
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

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		switch (c) {
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
		case 'd':
			if (opt_geometry(cmd, c, optarg, &a.geo, &a.cflags))
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
		}
	}
	if (c)
		return opt_status(c);
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
	/* The largest event, which the publisher handle does not tell. */
	err = ringcast_ring_get_stats(a.name, &info);
	if (err < 0) {
		ret = ring_error(cmd, a.name, err);
		goto out_close;
	}

	ret = a.wait_subs ? pub_wait_subs(cmd, &a, pub) : EXIT_SUCCESS;
	if (ret == EXIT_SUCCESS)
		ret = pub_lines(cmd, &a, pub, largest_event(&info));

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
