// SPDX-License-Identifier: MIT
/*
 * ringcast pub: publish each record of standard input as an event: a
 * line, a NUL-ended record, a JSON object or a length-prefixed frame.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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
/* pub's first input buffer; it grows up to the longest record and more. */
#define PUB_BUF_MIN (1u << 20)
/*
 * The most bytes of a record too long that are read to tell its length
 * (with --on-error skip, all of it is read: the next record follows).
 */
#define PUB_COUNT_MAX (1ull << 30)
/* --format json: room for the members besides the payload. */
#define PUB_JSON_SLACK 4096

const char pub_help[] =
	"Usage: ringcast pub NAME [--type T | --typed] [--reopen]\n"
	"                         [--format text|nul|json|raw]\n"
	"                         [--on-error fail|skip]\n"
	"                         [--slots N] [--slot-size BYTES]\n"
	"                         [--data-size BYTES]\n"
	"                         [--wait-subscribers N] [--timeout SECONDS]\n"
	"                         [--any-owner]\n"
	"\n"
	"Publish each record of standard input as one event: each line,\n"
	"without its newline, unless --format says otherwise.  At the\n"
	"end of the input close the ring (end of stream).  On a\n"
	"multi-publisher ring it publishes beside the others, and at the\n"
	"end of its input closes the ring only if it is the last\n"
	"publisher attached (else it just leaves).  The ring is created\n"
	"if it does not exist; if it does, --slots, --slot-size and\n"
	"--data-size, when given, must match it.\n"
	"\n"
	"  --format FMT       text: a line per event (the default);\n"
	"                     nul: records ended by a NUL byte;\n"
	"                     json: an object per line, as 'ringcast sub\n"
	"                     --format json' writes: its type, and data or\n"
	"                     data_base64 (len, when there, must match;\n"
	"                     other members are ignored);\n"
	"                     raw: frames of the payload's length and its\n"
	"                     type (little-endian u32 each), then the\n"
	"                     payload, as 'ringcast sub --format raw' writes\n"
	"  --type T           the events' type tag (default 0); in json,\n"
	"                     that of an object without one\n"
	"  --typed            text and nul: each record is 'TYPE PAYLOAD':\n"
	"                     a decimal type tag, one space or tab, then\n"
	"                     the payload\n"
	"  --on-error HOW     a record that cannot be published (malformed,\n"
	"                     or above the largest event): fail (the\n"
	"                     default) stops there, an error; skip says so\n"
	"                     and goes on with the next record\n"
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
	"A payload may be as long as the ring's largest event (max_event\n"
	"in 'ringcast stat').  A record that cannot be published (longer,\n"
	"or malformed) is counted in the ring's refused counter and named\n"
	"on standard error by its number.  With --on-error fail it is an\n"
	"error, as a timeout is: the records before it are published,\n"
	"nothing of it, the ring is closed, the status is 1.  With skip\n"
	"the records after it are published too, and the status is 3.\n"
	"A publisher killed by a signal does not close the ring:\n"
	"subscribers are told that it died.  SIGINT, SIGTERM and SIGHUP,\n"
	"also while it waits, make it leave the ring that way, then die\n"
	"by that signal.\n"
	"Exit status: 0 all published, 1 error, 2 usage, 3 records\n"
	"skipped (--on-error skip).\n";

struct pub_args {
	const char *name;
	uint32_t type;
	unsigned int flags;
	bool typed;
	bool skip; /* --on-error skip */
	enum ev_format fmt;
	struct ringcast_ring_opts geo; /* zero fields were not given */
	unsigned int cflags; /* RINGCAST_CREATE_NO_DATA: --data-size 0 */
	uint32_t wait_subs; /* subscribers to wait for; 0: none */
	int64_t timeout_ns; /* < 0: wait for ever */
	const char *timeout; /* as given, for messages */
};

/*
 * stdin, read with read(2) so that records go out as soon as they come;
 * the buffer grows while a record does not fit, up to @limit.
 */
struct pub_in {
	char *buf;
	size_t size;
	size_t limit; /* the longest record, its end, and room to read */
	size_t start; /* the first byte not consumed */
	size_t end; /* the end of what was read */
	bool eof;
	int err; /* an errno of reading: the input ends there */
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
	char path[PATH_MAX + 32];
	struct passwd *pw;
	struct stat st;

	if (ring_file_path(path, sizeof(path), name, "ringcast.") ||
	    stat(path, &st) < 0 || st.st_uid == geteuid())
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

/* What next_record() found at the start of the input left. */
enum rec_kind {
	REC_MORE, /* no whole record yet: read more */
	REC_END, /* the end of the input */
	REC_OK, /* a record */
	REC_LONG, /* longer than any event can be */
	REC_TRUNC, /* raw: a frame cut short by the end of the input */
	REC_BAD, /* malformed (pub_parse() says why) */
	REC_BIG, /* its payload is above the largest event */
};

struct rec {
	char *p; /* the line without its end, or a frame's payload */
	size_t len;
	uint32_t type; /* raw: the frame's type */
	/*
	 * REC_LONG: its length (raw: the payload's), so far when @open;
	 * REC_TRUNC: the bytes there; REC_BIG: the payload's length.
	 */
	uint64_t size;
	uint64_t rest; /* raw, REC_LONG and @open: payload bytes unread */
	bool open; /* REC_LONG: the rest of it is still to be read */
	size_t next; /* where the next record starts, unless @open */
};

static uint32_t get_le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	       (uint32_t)u[3] << 24;
}

/*
 * The record at in->start: a line (text, json), a record up to a NUL (nul)
 * of at most @max bytes, or a frame (raw) of at most @cap bytes of payload.
 * The last line or record may lack its end.
 */
static enum rec_kind next_record(const struct pub_in *in, enum ev_format fmt,
				 size_t max, size_t cap, struct rec *rec)
{
	char *p = in->buf + in->start, *q;
	size_t avail = in->end - in->start;
	uint32_t len;

	rec->open = false;
	if (fmt == FMT_RAW) {
		if (avail < RAW_HDR) {
			if (!in->eof)
				return REC_MORE;
			if (!avail)
				return REC_END;
			rec->size = avail;
			rec->next = in->end;
			return REC_TRUNC;
		}
		len = get_le32(p);
		rec->type = get_le32(p + 4);
		if (len > cap) {
			/* What is there of it is dropped, and the rest. */
			rec->size = len;
			rec->next = in->start + RAW_HDR + len;
			if (avail - RAW_HDR < len) {
				rec->rest = len - (avail - RAW_HDR);
				rec->open = true;
			}
			return REC_LONG;
		}
		if (avail - RAW_HDR < len) {
			if (!in->eof)
				return REC_MORE;
			rec->size = avail;
			rec->next = in->end;
			return REC_TRUNC;
		}
		rec->p = p + RAW_HDR;
		rec->len = len;
		rec->next = in->start + RAW_HDR + len;
		return REC_OK;
	}
	q = memchr(p, fmt == FMT_NUL ? '\0' : '\n', avail);
	if (!q) {
		if (avail > max) {
			rec->size = avail;
			rec->open = true;
			return REC_LONG;
		}
		if (!in->eof)
			return REC_MORE;
		if (!avail)
			return REC_END;
		q = p + avail;
	}
	rec->size = (uint64_t)(q - p);
	rec->next = (size_t)(q - in->buf) + (q < in->buf + in->end);
	if (rec->size > max)
		return REC_LONG;
	rec->p = p;
	rec->len = (size_t)(q - p);
	return REC_OK;
}

/*
 * Read and drop the rest of a record too long to keep: up to the next
 * separator @sep (text, nul, json), or @rest more bytes (raw: @sep < 0).
 * What follows it stays in the buffer.  Return: the bytes dropped;
 * *@more says that it stopped short of the end of the record (past
 * PUB_COUNT_MAX with @bounded, at a signal, or at an error of reading,
 * left in in->err).
 */
static uint64_t drop_rest(struct pub_in *in, int sep, uint64_t rest,
			  bool bounded, bool *more)
{
	uint64_t n = 0;
	size_t take;
	ssize_t r;
	char *q;

	*more = false;
	in->start = in->end = 0;
	while (!in->eof) {
		if (caught_signal || (bounded && n > PUB_COUNT_MAX)) {
			*more = true;
			return n;
		}
		r = read(STDIN_FILENO, in->buf, in->size);
		if (r < 0 && errno == EINTR)
			continue; /* caught_signal is looked at first */
		if (r < 0) {
			in->err = errno;
			in->eof = true;
			*more = true;
			return n;
		}
		if (r == 0) {
			in->eof = true;
			break;
		}
		if (sep >= 0) {
			q = memchr(in->buf, sep, (size_t)r);
			take = q ? (size_t)(q - in->buf) : (size_t)r;
			n += take;
			if (q) {
				in->start = take + 1;
				in->end = (size_t)r;
				return n;
			}
		} else {
			take = rest - n < (uint64_t)r ? (size_t)(rest - n) :
							(size_t)r;
			n += take;
			if (n == rest) {
				in->start = take;
				in->end = (size_t)r;
				return n;
			}
		}
	}
	return n;
}

/* Split "TYPE PAYLOAD" (one space or tab); false if it is not that. */
static bool split_typed(struct ringcast_msg *msg, const char *line, size_t len,
			size_t *plen)
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
	*plen = len - i;
	return true;
}

/* ----------------------------------------------------------------------
 * --format json: an object that 'ringcast sub --format json' wrote
 *
 * Decoded in place (an escape or base64 is never shorter than what it
 * stands for), strictly: a line that is not one JSON object is refused.
 */

/* How deep a member pub does not know may nest. */
#define JSON_DEPTH 32

struct jp {
	unsigned char *p, *end;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static bool jp_eat(struct jp *j, char c)
{
	jp_ws(j);
	if (j->p == j->end || *j->p != (unsigned char)c)
		return false;
	j->p++;
	jp_ws(j);
	return true;
}

static bool jp_hex4(struct jp *j, uint32_t *v)
{
	int i;

	*v = 0;
	if (j->end - j->p < 4)
		return false;
	for (i = 0; i < 4; i++) {
		unsigned char c = *j->p++;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return false;
	}
	return true;
}

static unsigned char *utf8_put(unsigned char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*w++ = (unsigned char)(0xc0 | cp >> 6);
		*w++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (unsigned char)(0xe0 | cp >> 12);
		*w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (unsigned char)(0xf0 | cp >> 18);
		*w++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * The string at j->p, decoded where it lies: *@s and *@n say where its
 * bytes are.  False if it is not a JSON string.
 */
static bool jp_string(struct jp *j, unsigned char **s, size_t *n)
{
	unsigned char *w;
	uint32_t cp, lo;

	if (j->p == j->end || *j->p != '"')
		return false;
	w = *s = ++j->p;
	while (j->p < j->end) {
		unsigned char c = *j->p++;

		if (c == '"') {
			*n = (size_t)(w - *s);
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			*w++ = c;
			continue;
		}
		if (j->p == j->end)
			return false;
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*w++ = c;
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'u':
			if (!jp_hex4(j, &cp) || (cp >= 0xdc00 && cp <= 0xdfff))
				return false;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A surrogate pair: the low half follows. */
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return false;
				j->p += 2;
				if (!jp_hex4(j, &lo) || lo < 0xdc00 ||
				    lo > 0xdfff)
					return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			w = utf8_put(w, cp);
			break;
		default:
			return false;
		}
	}
	return false;
}

/* A number without sign, fraction or exponent, at most @max. */
static bool jp_uint(struct jp *j, uint64_t max, uint64_t *v)
{
	unsigned char *start = j->p;

	*v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		uint64_t d = (uint64_t)(*j->p - '0');

		if (*v > (max - d) / 10)
			return false;
		*v = *v * 10 + d;
		j->p++;
	}
	if (j->p == start || (*start == '0' && j->p - start > 1))
		return false;
	/* Not the start of a fraction or an exponent. */
	return j->p == j->end || (*j->p != '.' && *j->p != 'e' && *j->p != 'E');
}

static bool jp_digits(struct jp *j)
{
	unsigned char *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static bool jp_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jp_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jp_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jp_digits(j))
			return false;
	}
	return true;
}

static bool jp_word(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return false;
	j->p += n;
	return true;
}

/* Any value, passed over (its strings decoded in place: harmless). */
static bool jp_skip(struct jp *j, int depth)
{
	unsigned char *s;
	size_t n;
	char close;

	jp_ws(j);
	if (j->p == j->end)
		return false;
	switch (*j->p) {
	case '"':
		return jp_string(j, &s, &n);
	case 't':
		return jp_word(j, "true");
	case 'f':
		return jp_word(j, "false");
	case 'n':
		return jp_word(j, "null");
	case '{':
	case '[':
		break;
	default:
		return jp_number(j);
	}
	if (depth >= JSON_DEPTH)
		return false;
	close = *j->p == '{' ? '}' : ']';
	j->p++;
	if (jp_eat(j, close))
		return true;
	for (;;) {
		if (close == '}' && (!jp_string(j, &s, &n) || !jp_eat(j, ':')))
			return false;
		if (!jp_skip(j, depth + 1))
			return false;
		if (jp_eat(j, close))
			return true;
		if (!jp_eat(j, ','))
			return false;
	}
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with its padding, decoded in place into *@out bytes. */
static bool b64_decode(unsigned char *s, size_t n, size_t *out)
{
	uint32_t acc = 0;
	size_t i, w = 0, pad = 0;
	int bits = 0, v;

	if (n % 4)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i + 2 < n)
				return false;
			pad++;
			continue;
		}
		v = b64_value(s[i]);
		if (v < 0 || pad)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[w++] = (unsigned char)(acc >> bits);
		}
	}
	*out = w;
	return true;
}

static bool key_is(const unsigned char *k, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(k, name, n);
}

/*
 * The event of a JSON line: "type" (else @type), and "data" or
 * "data_base64"; "len", when there, must be the payload's length.
 * Return: NULL, or what is wrong with it.
 */
static const char *json_event(char *line, size_t len, uint32_t type,
			      struct ringcast_msg *msg, size_t *plen)
{
	struct jp j = { (unsigned char *)line, (unsigned char *)line + len };
	bool have_type = false, have_len = false;
	unsigned char *data = NULL, *k;
	uint64_t v, want = 0;
	size_t n, klen;

	if (!utf8_valid(j.p, len))
		return "not UTF-8";
	if (!jp_eat(&j, '{'))
		return "not a JSON object";
	if (!jp_eat(&j, '}')) {
		for (;;) {
			if (!jp_string(&j, &k, &klen) || !jp_eat(&j, ':'))
				return "not a JSON object";
			if (key_is(k, klen, "type")) {
				if (have_type || !jp_uint(&j, UINT32_MAX, &v))
					return "\"type\" is not one number "
					       "from 0 to 4294967295";
				type = (uint32_t)v;
				have_type = true;
			} else if (key_is(k, klen, "len")) {
				if (have_len || !jp_uint(&j, UINT32_MAX, &want))
					return "\"len\" is not one number "
					       "from 0 to 4294967295";
				have_len = true;
			} else if (key_is(k, klen, "data")) {
				if (data || !jp_string(&j, &data, &n))
					return "not one \"data\" or "
					       "\"data_base64\" string";
				*plen = n;
			} else if (key_is(k, klen, "data_base64")) {
				if (data || !jp_string(&j, &data, &n))
					return "not one \"data\" or "
					       "\"data_base64\" string";
				if (!b64_decode(data, n, plen))
					return "\"data_base64\" is not base64";
			} else if (!jp_skip(&j, 1)) {
				return "not a JSON object";
			}
			if (jp_eat(&j, '}'))
				break;
			if (!jp_eat(&j, ','))
				return "not a JSON object";
		}
	}
	if (j.p != j.end)
		return "more than one JSON object";
	if (!data)
		return "no \"data\" or \"data_base64\"";
	if (have_len && want != *plen)
		return "\"len\" is not the length of the payload";
	msg->type = type;
	msg->data = data;
	return NULL;
}

/* ---------------------------------------------------------------------- */

/* The longest record: @cap bytes of payload in the form of @a. */
static size_t record_max(const struct pub_args *a, size_t cap)
{
	switch (a->fmt) {
	case FMT_RAW:
		return RAW_HDR + cap;
	case FMT_JSON:
		/* Every byte as "\u00XX", and the other members. */
		return 6 * cap + PUB_JSON_SLACK;
	case FMT_TEXT:
	case FMT_NUL:
		break;
	}
	/* A typed one also has "4294967295 ". */
	return cap + (a->typed ? 11 : 0);
}

/*
 * The event of record @rec, into @msg and *@plen (its payload's length).
 * Return: NULL, or what is wrong with it.
 */
static const char *pub_parse(const struct pub_args *a, const struct rec *rec,
			     struct ringcast_msg *msg, size_t *plen)
{
	switch (a->fmt) {
	case FMT_RAW:
		msg->type = rec->type;
		break;
	case FMT_JSON:
		return json_event(rec->p, rec->len, a->type, msg, plen);
	case FMT_TEXT:
	case FMT_NUL:
		if (a->typed) {
			if (!split_typed(msg, rec->p, rec->len, plen))
				return "is not 'TYPE PAYLOAD'";
			return NULL;
		}
		msg->type = a->type;
		break;
	}
	msg->data = rec->p;
	*plen = rec->len;
	return NULL;
}

/*
 * Count a record that the tool refuses in the ring's refused counter, as
 * the library counts the events it refuses.  The API has no call for that:
 * ask for a reservation above the largest event, which the library
 * refuses (-EMSGSIZE) and counts, writing nothing.  Return: 0, or the
 * error of the publisher (the ring closed or removed meanwhile...).
 */
static int count_refusal(struct ringcast_pub *pub, size_t cap)
{
	void *buf;
	int err = ringcast_pub_reserve(pub, cap + 1, &buf);

	if (err == -EMSGSIZE)
		return 0;
	/* A reservation above the largest event cannot succeed. */
	return err < 0 ? err : -EPROTO;
}

/*
 * Record number @recno, of kind @k, cannot be published: say so and why,
 * count it, and pass over it in the input (@why: a malformed one's
 * reason).  Return: an exit status (EXIT_SUCCESS: skipped, go on).
 */
static int pub_bad(const struct command *cmd, const struct pub_args *a,
		   struct ringcast_pub *pub, struct pub_in *in,
		   const struct rec *rec, enum rec_kind k, const char *why,
		   uint64_t recno, size_t cap)
{
	const char *unit = a->fmt == FMT_TEXT || a->fmt == FMT_JSON ? "line" :
								      "record";
	const char *skip = a->skip ? ", skipped" : "";
	uint64_t size = rec->size;
	bool more = false;
	int err;

	/* Its end is still to be read: drop it, telling its length. */
	if (rec->open)
		size += drop_rest(in,
				  a->fmt == FMT_RAW ? -1 :
				  a->fmt == FMT_NUL ? '\0' :
						      '\n',
				  rec->rest, !a->skip, &more);
	else
		in->start = rec->next;
	if (k == REC_LONG && a->fmt == FMT_RAW) {
		/* The frame's header says it all. */
		size = rec->size;
		k = REC_BIG;
	}

	switch (k) {
	case REC_LONG:
		if (a->fmt == FMT_JSON)
			note(cmd, a->name,
			     "line %" PRIu64 " is %s%" PRIu64
			     " bytes long, more than an event of the largest "
			     "size (%zu bytes) takes in JSON: not published%s",
			     recno, more ? "more than " : "", size, cap, skip);
		else
			note(cmd, a->name,
			     "%s %" PRIu64 " is %s%" PRIu64
			     " bytes long, above the largest event of %zu "
			     "bytes: not published%s",
			     unit, recno, more ? "more than " : "", size, cap,
			     skip);
		break;
	case REC_BIG:
		note(cmd, a->name,
		     "%s %" PRIu64 "'s payload is %" PRIu64
		     " bytes long, above the largest event of %zu bytes: not "
		     "published%s",
		     unit, recno, size, cap, skip);
		break;
	case REC_TRUNC:
		note(cmd, a->name,
		     "record %" PRIu64 " is cut short: %" PRIu64
		     " bytes at the end of the input, not a whole frame%s",
		     recno, size, skip);
		break;
	default:
		if (a->fmt == FMT_JSON)
			note(cmd, a->name,
			     "line %" PRIu64 " is not an event in JSON: %s%s",
			     recno, why, skip);
		else
			note(cmd, a->name, "%s %" PRIu64 " %s%s", unit, recno,
			     why, skip);
		break;
	}
	err = count_refusal(pub, cap);
	if (err < 0 && (err != -EINTR || !caught_signal))
		return pub_error(cmd, a, err);
	return a->skip && !err ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * Publish every record of stdin; @cap: the ring's largest event.  Return:
 * an exit status, after saying what went wrong.  The caller closes the
 * ring in every case, so that readers see the end of the stream after the
 * last event published.
 */
static int pub_records(const struct command *cmd, const struct pub_args *a,
		       struct ringcast_pub *pub, size_t cap)
{
	size_t max_rec = record_max(a, cap);
	struct ringcast_msg msgs[PUB_BATCH];
	struct pub_in in = { 0 };
	uint64_t recno = 0; /* records passed: published or refused */
	uint64_t skipped = 0;
	int ret = EXIT_FAILURE;
	unsigned int n;
	int err;

	/* At most room for the longest record and its end, and to read. */
	in.limit = max_rec + 2 + PUB_BUF_MIN / 2;
	in.size = PUB_BUF_MIN < in.limit ? PUB_BUF_MIN : in.limit;
	in.buf = malloc(in.size);
	if (!in.buf)
		return fail(cmd, NULL, "%s", strerror(ENOMEM));

	for (;;) {
		enum rec_kind k = REC_OK;
		const char *why = NULL;
		struct rec rec = { 0 };
		size_t len, plen = 0;
		ssize_t r;

		/* Stopped by a signal: the caller says nothing more. */
		if (caught_signal)
			goto err_free;
		/* The whole records in the buffer, a batch at a time. */
		for (n = 0; n < PUB_BATCH; n++) {
			k = next_record(&in, a->fmt, max_rec, cap, &rec);
			if (k != REC_OK)
				break;
			why = pub_parse(a, &rec, &msgs[n], &plen);
			if (why || plen > cap) {
				k = why ? REC_BAD : REC_BIG;
				rec.size = plen;
				break;
			}
			msgs[n].len = (uint32_t)plen;
			in.start = rec.next;
		}
		/* Those before a bad one first: they stay where they are. */
		if (n) {
			err = ringcast_pub_publish_batch(pub, msgs, n);
			if (err < 0)
				goto err_ring;
			recno += n;
		}
		if (k == REC_OK)
			continue;
		if (k == REC_END)
			break;
		if (k != REC_MORE) {
			ret = pub_bad(cmd, a, pub, &in, &rec, k, why, ++recno,
				      cap);
			if (ret != EXIT_SUCCESS)
				goto err_free;
			ret = EXIT_FAILURE;
			skipped++;
			continue;
		}

		/* No whole record left: keep the partial one, read more. */
		len = in.end - in.start;
		memmove(in.buf, in.buf + in.start, len);
		in.start = 0;
		in.end = len;
		/* The buffer is all one record: grow it. */
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
			in.err = errno;
			break;
		}
		if (r == 0)
			in.eof = true;
		in.end += (size_t)r;
	}
	if (in.err) {
		ret = fail(cmd, NULL, "reading standard input: %s",
			   strerror(in.err));
		goto err_free;
	}
	free(in.buf);
	if (!skipped)
		return EXIT_SUCCESS;
	note(cmd, a->name, "%" PRIu64 " of %" PRIu64 " %ss skipped", skipped,
	     recno,
	     a->fmt == FMT_TEXT || a->fmt == FMT_JSON ? "line" : "record");
	return EXIT_PARTIAL;

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
		{ "format", required_argument, NULL, 'F' },
		{ "on-error", required_argument, NULL, 'E' },
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
		case 'F':
			if (opt_ev_format(cmd, optarg, &a.fmt))
				return EXIT_USAGE;
			break;
		case 'E':
			if (!strcmp(optarg, "skip"))
				a.skip = true;
			else if (!strcmp(optarg, "fail"))
				a.skip = false;
			else
				return usage_error(
					cmd,
					"--on-error: '%s' is not fail or skip",
					optarg);
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
	if (a.typed && (a.fmt == FMT_JSON || a.fmt == FMT_RAW))
		return usage_error(cmd, "--typed: a %s record carries its type",
				   a.fmt == FMT_JSON ? "json" : "raw");
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
		ret = pub_records(cmd, &a, pub, largest_event(&info));

out_close:
	atomic_store(&signal_pub, NULL);
	if (caught_signal) {
		/* As if killed: subscribers are told that we died. */
		ringcast_pub_detach(pub);
		return exit_by_signal(caught_signal);
	}
	/* The last publisher of a multi-publisher ring closes it. */
	err = ringcast_pub_finish(pub);
	if (err < 0 && (ret == EXIT_SUCCESS || ret == EXIT_PARTIAL))
		ret = pub_error(cmd, &a, err);
	return ret;
}
