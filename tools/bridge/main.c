// SPDX-License-Identifier: MIT
/*
 * ringcast-bridge - forward rings across hosts over NATS.
 *
 *   ringcast-bridge out NAME --nats URL [--subject PREFIX] [options]
 *   ringcast-bridge in NAME --nats URL [--subject PATTERN] [options]
 *   ringcast-bridge stat NAME
 *
 * A program of its own, installed under LIBEXECDIR/ringcast, so that the
 * ringcast tool does not link the NATS client; `ringcast bridge out|in`
 * runs it with the same arguments.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "js.h"
#include "parse.h"
#include "ringpath.h"

/* The rings' directory: --dir, else $RINGCAST_DIR, else /dev/shm. */
static const char *ring_dir;

static const char usage_text[] =
	"Usage: ringcast-bridge out NAME [--nats URL] [--subject PREFIX]\n"
	"                           [--hold SECONDS|forever]\n"
	"                           [--from newest|oldest] [--wait]\n"
	"                           [--frame-events N] [--frame-bytes BYTES]\n"
	"                           [--frame-us MICROSECONDS]\n"
	"                           [--frame-order ring|type]\n"
	"                           [--frame-idle send|wait]\n"
	"                           [--jetstream STREAM]\n"
	"       ringcast-bridge in NAME [--nats URL] [--subject PATTERN]\n"
	"                          [--slots N] [--slot-size BYTES]\n"
	"                          [--data-size BYTES]\n"
	"                          [--any-owner]\n"
	"                          [--durable NAME --stream STREAM\n"
	"                           [--ack-wait SECONDS]]\n"
	"       ringcast-bridge stat [--dir DIR] NAME\n"
	"Common options: [--host NAME] [--max-backoff SECONDS] [--dir DIR]\n"
	"\n"
	"out: subscribe to ring NAME (reliably) and publish every event to\n"
	"NATS on PREFIX.NAME.TYPE (PREFIX 'ringcast' by default; a '.' in\n"
	"NAME is written %2E), in frames of events of one type: one NATS\n"
	"message, versioned, carries many events, each with its sequence,\n"
	"timestamp, per-type count and payload (docs/bridge.md).\n"
	"  --hold SECONDS  while NATS is unreachable, hold the ring's\n"
	"                  publisher back at most this long (default 2),\n"
	"                  then let it go and count what could not be sent;\n"
	"                  0: a lossy subscriber; forever: never let go\n"
	"  --from WHERE    newest (default) or oldest retained event\n"
	"  --wait          wait for the ring to be created\n"
	"  --frame-events N, --frame-bytes BYTES, --frame-us MICROSECONDS\n"
	"                  events go in frames, each sent when it holds N\n"
	"                  events (default 4096), BYTES (default 256k,\n"
	"                  never above the server's maximum payload), or\n"
	"                  when its first event is that old (default 1000)\n"
	"  --frame-idle HOW\n"
	"                  send (default): frames go as soon as the ring\n"
	"                  has nothing more to read; wait: they wait for\n"
	"                  N, BYTES or MICROSECONDS (fewer, fuller frames)\n"
	"  --frame-order ORDER\n"
	"                  ring (default): events keep the ring's order\n"
	"                  across types, a frame is a run of one type;\n"
	"                  type: a frame open per type, events keep their\n"
	"                  order within each type only (interleaved types\n"
	"                  fill frames)\n"
	"  --jetstream STREAM\n"
	"                  durable: frames of events into the JetStream\n"
	"                  stream STREAM (created if missing, file\n"
	"                  storage, subject PREFIX.NAME.js), each held in\n"
	"                  the ring until the server acknowledged it; a\n"
	"                  restart goes on after what the stream stored\n"
	"Events larger than the server's maximum payload are refused and\n"
	"counted.  At the ring's end of stream it flushes and exits 0.\n"
	"\n"
	"in: create ring NAME if it is missing, subscribe to PATTERN\n"
	"(default ringcast.NAME.*; ringcast.NAME.7 for type 7 only) and\n"
	"publish every event of the frames it receives into the ring with\n"
	"its type tag (also messages of one event each, as out bridges of\n"
	"earlier versions send them).  A frame of an unknown version, or\n"
	"malformed, is refused whole, reported and counted.  Gaps are\n"
	"detected per origin and type, reported on stderr and counted.\n"
	"  --slots N, --slot-size BYTES, --data-size BYTES\n"
	"                  geometry of a ring it creates, as 'ringcast\n"
	"                  create' takes it (--data-size 0: no data area)\n"
	"  --any-owner     publish into the ring even when it belongs to\n"
	"                  another user (who reads whatever is published)\n"
	"  --durable NAME --stream STREAM\n"
	"                  durable: read the JetStream stream STREAM\n"
	"                  through the durable consumer NAME; every event\n"
	"                  once, in order, across restarts (the state is\n"
	"                  in ringcast-bridge.durable.NAME beside the ring)\n"
	"  --ack-wait SECONDS\n"
	"                  the consumer's ack wait (default 5)\n"
	"Messages larger than the ring's largest event are refused and\n"
	"counted.\n"
	"\n"
	"  --nats URL      the server (default nats://127.0.0.1:4222); the\n"
	"                  first connection and later ones are retried for\n"
	"                  ever, backing off from 50 ms to --max-backoff\n"
	"                  (default 2 s)\n"
	"  --host NAME     the host name announced (default: hostname)\n"
	"\n"
	"  --dir DIR       the ring is NAME in directory DIR (default\n"
	"                  $RINGCAST_DIR, else /dev/shm); DIR/NAME says so\n"
	"                  too.  On NATS the ring is NAME.\n"
	"\n"
	"Each bridge keeps its counters in ringcast-bridge.out.NAME or\n"
	"ringcast-bridge.in.NAME beside its ring (in /dev/shm or DIR);\n"
	"'stat NAME' prints them.  SIGINT, SIGTERM, SIGHUP stop it cleanly.\n"
	"Exit status: 0 stopped or end of stream, 1 error, 2 usage.\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "%s: %s\n", BRIDGE_PROG, why);
	fputs(usage_text, stderr);
	return 2;
}

/*
 * The library's rule for ring names (rc_name_check(), not exported): the
 * name is checked before it goes into a status file's path.
 */
static bool valid_name(const char *s)
{
	size_t n, i;

	s = ring_base(s); /* DIR/NAME: the library checks DIR */
	n = strlen(s);

	if (!n || n > RINGCAST_NAME_MAX || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/*
 * A JetStream stream or consumer name: printable, no '.', '*', '>', white
 * space or path separators (the server's rule), at most 64 bytes.
 */
static bool valid_js_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || strchr(".*>/\\", s[i]))
			return false;
	return true;
}

static int cmd_stat(const char *arg)
{
	static const char *const dirs[] = { "out", "in" };
	char path[PATH_MAX], ring[PATH_MAX], buf[4096];
	const char *name;
	int found = 0;
	size_t i;

	if (!valid_name(arg))
		return usage("bad ring name");
	name = ring_in_dir(ring_dir, arg, ring, sizeof(ring));
	if (!name)
		return usage("--dir too long");
	for (i = 0; i < 2; i++) {
		FILE *f;
		size_t n;

		if (bridge_status_path(path, sizeof(path), dirs[i], name))
			continue;
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (found++)
			putchar('\n');
		fwrite(buf, 1, n, stdout);
	}
	if (!found) {
		fprintf(stderr, "%s: no bridge of ring %s\n", BRIDGE_PROG,
			name);
		return 1;
	}
	return 0;
}

enum {
	OPT_NATS = 1,
	OPT_SUBJECT,
	OPT_HOLD,
	OPT_FROM,
	OPT_WAIT,
	OPT_SLOTS,
	OPT_SLOT_SIZE,
	OPT_DATA_SIZE,
	OPT_HOST,
	OPT_BACKOFF,
	OPT_ANY_OWNER,
	OPT_DIR,
	OPT_FRAME_EVENTS,
	OPT_FRAME_BYTES,
	OPT_FRAME_US,
	OPT_FRAME_ORDER,
	OPT_FRAME_IDLE,
	OPT_JETSTREAM,
	OPT_DURABLE,
	OPT_STREAM,
	OPT_ACK_WAIT,
	OPT_HELP,
};

static const struct option longopts[] = {
	{ "nats", required_argument, NULL, OPT_NATS },
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "slots", required_argument, NULL, OPT_SLOTS },
	{ "slot-size", required_argument, NULL, OPT_SLOT_SIZE },
	{ "data-size", required_argument, NULL, OPT_DATA_SIZE },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "max-backoff", required_argument, NULL, OPT_BACKOFF },
	{ "any-owner", no_argument, NULL, OPT_ANY_OWNER },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "frame-events", required_argument, NULL, OPT_FRAME_EVENTS },
	{ "frame-bytes", required_argument, NULL, OPT_FRAME_BYTES },
	{ "frame-us", required_argument, NULL, OPT_FRAME_US },
	{ "frame-order", required_argument, NULL, OPT_FRAME_ORDER },
	{ "frame-idle", required_argument, NULL, OPT_FRAME_IDLE },
	{ "jetstream", required_argument, NULL, OPT_JETSTREAM },
	{ "durable", required_argument, NULL, OPT_DURABLE },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "ack-wait", required_argument, NULL, OPT_ACK_WAIT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* A geometry option: a number with an optional k, M or G suffix. */
static int parse_size(const char *s, uint32_t *v)
{
	uint64_t x;
	int r = parse_u64(s, UINT32_MAX, true, &x);

	if (!r)
		*v = (uint32_t)x;
	return r;
}

static int parse(struct bridge *b, int argc, char **argv)
{
	bool out = !strcmp(b->dir, "out");
	int64_t ns;
	uint32_t u32;
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_NATS:
			b->url = optarg;
			break;
		case OPT_SUBJECT:
			if (!*optarg)
				return usage("empty --subject");
			b->subject = optarg;
			break;
		case OPT_HOLD:
			if (!out)
				return usage("bad --hold");
			if (!strcmp(optarg, "forever") || !strcmp(optarg, "-1"))
				b->hold_ns = -1;
			else if (parse_seconds(optarg, &b->hold_ns))
				return usage("bad --hold");
			break;
		case OPT_FROM:
			if (!out)
				return usage("--from is for out");
			if (!strcmp(optarg, "newest"))
				b->from = RINGCAST_FROM_NEWEST;
			else if (!strcmp(optarg, "oldest"))
				b->from = RINGCAST_FROM_OLDEST;
			else
				return usage("bad --from");
			break;
		case OPT_WAIT:
			if (!out)
				return usage("--wait is for out");
			b->wait_ring = true;
			break;
		case OPT_SLOTS:
			if (out || parse_size(optarg, &b->geo.slots))
				return usage("bad --slots");
			break;
		case OPT_SLOT_SIZE:
			if (out || parse_size(optarg, &b->geo.slot_size))
				return usage("bad --slot-size");
			break;
		case OPT_DATA_SIZE:
			if (out || parse_data_size(optarg, &b->geo.data_size))
				return usage("bad --data-size");
			if (b->geo.data_size)
				b->create_flags &= ~RINGCAST_CREATE_NO_DATA;
			else
				b->create_flags |= RINGCAST_CREATE_NO_DATA;
			break;
		case OPT_HOST:
			if (!*optarg || strlen(optarg) >= sizeof(b->host))
				return usage("bad --host");
			strcpy(b->host, optarg);
			break;
		case OPT_BACKOFF:
			if (parse_seconds(optarg, &ns) || ns < NSEC_PER_MSEC)
				return usage("bad --max-backoff");
			b->backoff_max_ms = ns / NSEC_PER_MSEC;
			break;
		case OPT_ANY_OWNER:
			if (out)
				return usage("--any-owner is for in");
			b->pub_flags |= RINGCAST_PUB_ANY_OWNER;
			break;
		case OPT_DIR:
			ring_dir = *optarg ? optarg : NULL;
			break;
		case OPT_FRAME_EVENTS:
			if (!out || parse_size(optarg, &b->frame_events) ||
			    !b->frame_events)
				return usage("bad --frame-events");
			break;
		case OPT_FRAME_BYTES:
			if (!out || parse_size(optarg, &u32) || !u32)
				return usage("bad --frame-bytes");
			b->frame_bytes = u32;
			break;
		case OPT_FRAME_US:
			if (!out || parse_size(optarg, &u32))
				return usage("bad --frame-us");
			b->frame_ns = (uint64_t)u32 * 1000;
			break;
		case OPT_FRAME_ORDER:
			if (out && !strcmp(optarg, "ring"))
				b->frame_by_type = false;
			else if (out && !strcmp(optarg, "type"))
				b->frame_by_type = true;
			else
				return usage("bad --frame-order");
			break;
		case OPT_FRAME_IDLE:
			if (out && !strcmp(optarg, "send"))
				b->frame_idle_wait = false;
			else if (out && !strcmp(optarg, "wait"))
				b->frame_idle_wait = true;
			else
				return usage("bad --frame-idle");
			break;
		case OPT_JETSTREAM:
			if (!out || !valid_js_name(optarg))
				return usage("bad --jetstream");
			b->stream = optarg;
			break;
		case OPT_STREAM:
			if (out || !valid_js_name(optarg))
				return usage("bad --stream");
			b->stream = optarg;
			break;
		case OPT_DURABLE:
			if (out || !valid_js_name(optarg))
				return usage("bad --durable");
			b->durable = optarg;
			break;
		case OPT_ACK_WAIT:
			if (out || parse_seconds(optarg, &b->ack_wait_ns) ||
			    b->ack_wait_ns < NSEC_PER_MSEC)
				return usage("bad --ack-wait");
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		default:
			return usage(NULL);
		}
	}
	if (!out && !b->durable != !b->stream)
		return usage("--durable and --stream go together");
	if (!out && b->ack_wait_ns && !b->durable)
		return usage("--ack-wait is for --durable");
	if (optind != argc - 1)
		return usage("one ring NAME expected");
	if (!valid_name(argv[optind]))
		return usage("bad ring name");
	b->name = ring_in_dir(ring_dir, argv[optind], b->name_buf,
			      sizeof(b->name_buf));
	if (!b->name)
		return usage("--dir too long");
	return 0;
}

int main(int argc, char **argv)
{
	static struct bridge b;
	const char *env;
	pthread_condattr_t ca;
	char enc[BRIDGE_SUBJECT_MAX / 2];
	natsStatus s;
	int r;

	if (argc < 2)
		return usage(NULL);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	env = getenv("RINGCAST_DIR");
	ring_dir = env && *env ? env : NULL;
	if (!strcmp(argv[1], "stat") && argc == 5 &&
	    !strcmp(argv[2], "--dir")) {
		ring_dir = *argv[3] ? argv[3] : NULL;
		argv[2] = argv[4];
		argc = 3;
	}
	if (!strcmp(argv[1], "stat"))
		return argc == 3 ? cmd_stat(argv[2]) : usage("stat NAME");
	if (strcmp(argv[1], "out") && strcmp(argv[1], "in"))
		return usage("out, in or stat expected");

	b.dir = argv[1];
	b.url = BRIDGE_DEFAULT_URL;
	b.hold_ns = BRIDGE_HOLD_NS;
	b.backoff_max_ms = BRIDGE_BACKOFF_MAX_MS;
	b.frame_events = BRIDGE_FRAME_EVENTS;
	b.frame_bytes = BRIDGE_FRAME_BYTES;
	b.frame_ns = (uint64_t)BRIDGE_FRAME_US * 1000;
	r = parse(&b, argc, argv);
	if (r)
		return r;
	if (!b.host[0] && gethostname(b.host, sizeof(b.host) - 1))
		strcpy(b.host, "localhost");
	/* Durable in: the stream's subject, unless --subject says. */
	if (!b.subject && !b.durable) {
		if (!strcmp(b.dir, "out")) {
			b.subject = BRIDGE_DEFAULT_PREFIX;
		} else {
			if (bridge_encode_name(ring_base(b.name), enc,
					       sizeof(enc)))
				return usage("ring name too long");
			snprintf(b.subj_buf, sizeof(b.subj_buf), "%s.%s.*",
				 BRIDGE_DEFAULT_PREFIX, enc);
			b.subject = b.subj_buf;
		}
	}
	if (bridge_status_path(b.status_path, sizeof(b.status_path), b.dir,
			       b.name))
		return usage("ring name too long");
	b.session = bridge_random64();
	pthread_mutex_init(&b.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b.cond, &ca);
	pthread_condattr_destroy(&ca);

	s = nats_Open(-1);
	if (s != NATS_OK) {
		fprintf(stderr, "%s: cannot start the NATS library: %s\n",
			BRIDGE_PROG, natsStatus_GetText(s));
		return 1;
	}
	if (!b.ack_wait_ns)
		b.ack_wait_ns = JS_ACK_WAIT_NS;
	if (!strcmp(b.dir, "out"))
		r = b.stream ? bridge_js_out(&b) : bridge_out(&b);
	else
		r = b.stream ? bridge_js_in(&b) : bridge_in(&b);
	nats_CloseAndWait(2000);
	return r ? 1 : 0;
}
