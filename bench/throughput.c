// SPDX-License-Identifier: MIT
/*
 * throughput - one publisher process to one subscriber process: messages
 * per second, ringcast and a pipe side by side in the same run.
 *
 * Rows (one per configuration):
 *
 *   ringcast-busy  ringcast_pub_publish_batch() in batches of --batch,
 *                  a RINGCAST_WAIT_BUSY subscriber (the main row)
 *   ringcast-spin  the same with the default spin-then-sleep subscriber
 *   ringcast-paced the busy row with flow control added by the benchmark
 *                  (not by the library): the subscriber acknowledges its
 *                  position every ACK_EVERY events in a shared counter and
 *                  the publisher never gets more than half a ring ahead of
 *                  it, so nothing is lost
 *   pipe           write(2) of one fixed-size record per message, read(2)
 *                  of exactly one record per call (looping on short reads)
 *
 * Runs are interleaved (busy, spin, paced, pipe, busy, ...) so that a
 * change in the machine's load hits every row alike; each row reports the
 * median, min and max over the runs.
 *
 * Measurement.  The receiving child is forked first and says it is ready
 * through a pipe; only then does the parent attach and send.  The receiver
 * reads CLOCK_MONOTONIC after its first message and after its last one, and
 * nowhere in between; the rate is the messages received after the first
 * over that interval.  Every message carries its index in its first 8
 * bytes, which the receiver checks.
 *
 * Losses.  ringcast subscribers are lossy: a publisher that laps the
 * subscriber overwrites events it has not read (the subscriber is told how
 * many).  Nothing here slows the publisher down, so "lost" is reported next
 * to the rate, and the rate counts delivered events only.  The ring is
 * large (65536 slots by default) to make laps rare; the paced row shows the
 * rate without any.
 *
 * Cleanup.  The ring (bench-PID) is removed after every run, at exit, and
 * from the handler of SIGINT, SIGTERM and SIGHUP, which also kills the
 * child.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define DEFAULT_MESSAGES 5000000ull
#define DEFAULT_SIZE 64u
#define DEFAULT_RUNS 5u
#define DEFAULT_BATCH 32u
#define DEFAULT_SLOTS 65536u
#define TP_MAX_BATCH 1024u
#define MAX_RING_BYTES (256ull << 20)
#define MAX_RUNS 1000u
#define TYPE_BENCH 1u
#define DRAIN_TIMEOUT_NS (10ll * 1000 * 1000 * 1000)
#define ACK_EVERY 256u

enum row {
	ROW_RC_BUSY,
	ROW_RC_SPIN,
	ROW_RC_PACED,
	ROW_PIPE,
	ROW_COUNT,
};

static const char *const row_names[ROW_COUNT] = {
	[ROW_RC_BUSY] = "ringcast-busy",
	[ROW_RC_SPIN] = "ringcast-spin",
	[ROW_RC_PACED] = "ringcast-paced",
	[ROW_PIPE] = "pipe",
};

struct options {
	uint64_t messages;
	uint32_t size;
	uint32_t runs;
	uint32_t batch;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t ack_every; /* paced row: the subscriber's ack interval */
	bool verbose;
	bool rows[ROW_COUNT];
};

/* What the receiving child sends back to the parent. */
struct report {
	uint64_t delivered;
	uint64_t lost;
	uint64_t ns; /* from the first message received to the last */
	uint64_t sleeps; /* futex waits (ringcast) */
	int32_t err; /* 0, or the negative errno that stopped the child */
	uint32_t bad; /* messages with a wrong length or index */
};

struct sample {
	double rate; /* delivered messages per second */
	uint64_t lost;
	uint64_t sleeps;
};

/* State the exit and signal handlers need. */
static char ring_name[64];
static volatile sig_atomic_t ring_made;
static volatile sig_atomic_t child_pid;
static pid_t main_pid;
/* The pipe's write end, which the forked reader must not keep open. */
static int pipe_write_fd = -1;

/*
 * The paced row's flow control, in a shared anonymous mapping: the
 * subscriber's position (delivered + lost), stored every ack_every events.
 * Alone on its cache line.
 */
struct flow {
	_Alignas(64) _Atomic uint64_t acked;
	char pad[56];
};
static struct flow *flow;

static void remove_ring(void)
{
	if (ring_made && getpid() == main_pid) {
		ringcast_ring_remove_force(ring_name);
		ring_made = 0;
	}
}

/*
 * On a fatal signal: kill the child, remove the ring, die of the signal.
 * ringcast_ring_remove_force() takes no lock and allocates nothing.
 */
static void on_signal(int sig)
{
	if (getpid() == main_pid) {
		if (child_pid > 0)
			kill(child_pid, SIGKILL);
		remove_ring();
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *errname(int err)
{
	return ringcast_strerror(err);
}

/* In the child: send the report, exit 0 only if there was no error. */
static void __attribute__((noreturn))
child_finish(int report_fd, const struct report *rep)
{
	int ret = write_full(report_fd, rep, sizeof(*rep));

	_exit(ret == 0 && rep->err == 0 && rep->bad == 0 ? 0 : 1);
}

/* ----------------------------------------------------------------------
 * ringcast
 */

static void __attribute__((noreturn))
rc_subscriber(const struct options *o, uint32_t row, int ready_fd,
	      int report_fd)
{
	struct ringcast_sub_opts so = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = row == ROW_RC_SPIN ? RINGCAST_WAIT_SPIN :
					     RINGCAST_WAIT_BUSY,
	};
	bool paced = row == ROW_RC_PACED;
	struct ringcast_sub_stats st;
	struct report rep = { 0 };
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t t0, t1, idx;
	int ret;

	ret = ringcast_sub_attach(ring_name, &so, &sub, NULL);
	if (ret < 0) {
		fprintf(stderr, "subscriber: attach: %s %s\n", errname(ret),
			ringcast_errdetail());
		rep.err = ret;
		child_finish(report_fd, &rep);
	}
	if (write_full(ready_fd, "r", 1) < 0)
		_exit(1);
	close(ready_fd);

	/* The first event starts the clock. */
	for (;;) {
		ret = ringcast_sub_next(sub, &ev, -1);
		if (ret == 0)
			break;
		if (ret != -EOVERFLOW)
			goto fail;
		rep.lost += ev.lost;
	}
	t0 = now_ns();
	rep.delivered = 1;
	if (ev.len != o->size)
		rep.bad++;

	while (rep.delivered + rep.lost < o->messages) {
		ret = ringcast_sub_next(sub, &ev, -1);
		if (ret == -EOVERFLOW) {
			rep.lost += ev.lost;
			continue;
		}
		if (ret < 0)
			goto fail;
		rep.delivered++;
		memcpy(&idx, ev.data, sizeof(idx));
		if (ev.len != o->size || idx != ev.seq)
			rep.bad++;
		/*
		 * The payload was copied out before: pairs with the
		 * acquire load in rc_publish_all().
		 */
		if (paced && !(rep.delivered % o->ack_every))
			atomic_store_explicit(&flow->acked,
					      rep.delivered + rep.lost,
					      memory_order_release);
	}
	t1 = now_ns();
	rep.ns = t1 - t0;

	/* The publisher closes the ring after its last event. */
	ret = ringcast_sub_next(sub, &ev, DRAIN_TIMEOUT_NS);
	if (ret != -EPIPE) {
		fprintf(stderr,
			"subscriber: expected the end of stream, got %s\n",
			ret == 0 ? "an event" : errname(ret));
		rep.err = ret == 0 ? -EBADMSG : ret;
	}
	ringcast_sub_get_stats(sub, &st);
	rep.sleeps = st.sleeps;
	if (st.lost != rep.lost || st.delivered != rep.delivered) {
		fprintf(stderr,
			"subscriber: stats say %" PRIu64 " delivered, %" PRIu64
			" lost; counted %" PRIu64 ", %" PRIu64 "\n",
			st.delivered, st.lost, rep.delivered, rep.lost);
		rep.err = -EBADMSG;
	}
	if (rep.bad)
		fprintf(stderr, "subscriber: %u bad events\n", rep.bad);
	ringcast_sub_detach(sub);
	child_finish(report_fd, &rep);

fail:
	fprintf(stderr, "subscriber: next after %" PRIu64 " events: %s\n",
		rep.delivered + rep.lost, errname(ret));
	rep.err = ret;
	ringcast_sub_detach(sub);
	child_finish(report_fd, &rep);
}

static int rc_publish_all(const struct options *o, struct ringcast_pub *pub,
			  bool paced)
{
	/* Half a ring: more than ack_every + a batch (parse_options()). */
	uint64_t window = o->slots / 2;
	struct ringcast_msg msgs[TP_MAX_BATCH];
	unsigned char *bufs;
	uint64_t i = 0;
	uint32_t k;
	int ret = 0;

	bufs = calloc(o->batch, o->size);
	if (!bufs)
		return -ENOMEM;
	for (k = 0; k < o->batch; k++) {
		msgs[k].type = TYPE_BENCH;
		msgs[k].len = o->size;
		msgs[k].data = bufs + (size_t)k * o->size;
	}

	while (i < o->messages) {
		uint64_t left = o->messages - i;
		uint32_t n = left < o->batch ? (uint32_t)left : o->batch;

		/* Pairs with the release store in rc_subscriber(). */
		while (paced && i + n -
						atomic_load_explicit(
							&flow->acked,
							memory_order_acquire) >
					window)
			cpu_relax();
		for (k = 0; k < n; k++) {
			uint64_t idx = i + k;

			memcpy(bufs + (size_t)k * o->size, &idx, sizeof(idx));
		}
		if (o->batch == 1)
			ret = ringcast_pub_publish(pub, TYPE_BENCH, bufs,
						   o->size);
		else
			ret = ringcast_pub_publish_batch(pub, msgs, n);
		if (ret < 0)
			break;
		i += n;
	}
	free(bufs);
	return ret < 0 ? ret : 0;
}

/* Collects the child: 0 if it exited with status 0. */
static int reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", what,
				strerror(errno));
			return -1;
		}
	}
	child_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "%s: child exited with status %d\n", what,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "%s: child killed by signal %d (%s)\n", what,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		fprintf(stderr, "%s: child ended with status 0x%x\n", what,
			status);
	return -1;
}

/*
 * fork_receiver() - fork the receiving child and wait until it is ready
 * @fn:        runs in the child and never returns
 * @report_fd: set to the read end of the child's report pipe
 *
 * Return: the child's pid, or -1 (the child, if any, reaped).
 */
static pid_t
fork_receiver(const char *what,
	      void (*fn)(const struct options *, uint32_t, int, int),
	      const struct options *o, uint32_t arg, int *report_fd)
{
	int ready[2], report[2];
	pid_t pid;
	char c;
	int ret;

	if (pipe2(ready, O_CLOEXEC) < 0)
		goto err;
	if (pipe2(report, O_CLOEXEC) < 0)
		goto err_close_ready;

	pid = fork();
	if (pid < 0)
		goto err_close_report;
	if (pid == 0) {
		close(ready[0]);
		close(report[0]);
		fn(o, arg, ready[1], report[1]);
		_exit(1);
	}
	child_pid = pid;
	close(ready[1]);
	close(report[1]);

	ret = read_full(ready[0], &c, 1);
	close(ready[0]);
	if (ret < 0) {
		fprintf(stderr, "%s: child did not get ready: %s\n", what,
			strerror(-ret));
		close(report[0]);
		kill(pid, SIGKILL);
		reap(pid, what);
		return -1;
	}
	*report_fd = report[0];
	return pid;

err_close_report:
	close(report[0]);
	close(report[1]);
err_close_ready:
	close(ready[0]);
	close(ready[1]);
err:
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	return -1;
}

/* Receives the child's report and reaps it; 0 if all went well. */
static int finish_receiver(const char *what, pid_t pid, int report_fd,
			   struct report *rep)
{
	int ret = read_full(report_fd, rep, sizeof(*rep));

	close(report_fd);
	if (ret < 0) {
		fprintf(stderr, "%s: no report from the child: %s\n", what,
			strerror(-ret));
		kill(pid, SIGKILL);
	}
	if (reap(pid, what) < 0 || ret < 0)
		return -1;
	if (rep->err || rep->bad)
		return -1;
	return 0;
}

static void rc_subscriber_entry(const struct options *o, uint32_t row,
				int ready_fd, int report_fd)
{
	rc_subscriber(o, row, ready_fd, report_fd);
}

static int run_ringcast(const struct options *o, uint32_t row,
			struct report *rep)
{
	const char *what = row_names[row];
	struct ringcast_ring_opts ro = {
		.slots = o->slots,
		.slot_size = o->slot_size,
		.max_subscribers = 4,
		.mode = 0600,
	};
	struct ringcast_pub *pub;
	int report_fd, ret, pret;
	pid_t pid;

	ret = ringcast_ring_create(ring_name, &ro, RINGCAST_CREATE_EXCL);
	if (ret < 0) {
		fprintf(stderr, "%s: create %s: %s %s\n", what, ring_name,
			errname(ret), ringcast_errdetail());
		return -1;
	}
	ring_made = 1;
	atomic_store_explicit(&flow->acked, 0, memory_order_relaxed);

	pid = fork_receiver(what, rc_subscriber_entry, o, row, &report_fd);
	if (pid < 0)
		goto err_remove;

	ret = ringcast_pub_attach(ring_name, 0, &pub);
	if (ret < 0) {
		fprintf(stderr, "%s: publisher attach: %s %s\n", what,
			errname(ret), ringcast_errdetail());
		/* Closing the ring ends the subscriber's wait. */
		ringcast_ring_close(ring_name);
		finish_receiver(what, pid, report_fd, rep);
		goto err_remove;
	}
	pret = rc_publish_all(o, pub, row == ROW_RC_PACED);
	if (pret < 0)
		fprintf(stderr, "%s: publish: %s\n", what, errname(pret));
	ret = ringcast_pub_close(pub);
	if (ret < 0 && pret == 0) {
		fprintf(stderr, "%s: close: %s\n", what, errname(ret));
		pret = ret;
	}
	ret = finish_receiver(what, pid, report_fd, rep);
	remove_ring();
	return ret < 0 || pret < 0 ? -1 : 0;

err_remove:
	remove_ring();
	return -1;
}

/* ----------------------------------------------------------------------
 * pipe
 */

static void pipe_reader(const struct options *o, uint32_t fd, int ready_fd,
			int report_fd)
{
	struct report rep = { 0 };
	unsigned char *buf;
	uint64_t t0 = 0, t1, i, idx;
	int ret;

	/* Else the reader would hold the writer's end and never see EOF. */
	close(pipe_write_fd);

	buf = malloc(o->size);
	if (!buf) {
		rep.err = -ENOMEM;
		child_finish(report_fd, &rep);
	}
	if (write_full(ready_fd, "r", 1) < 0)
		_exit(1);
	close(ready_fd);

	for (i = 0; i < o->messages; i++) {
		ret = read_full((int)fd, buf, o->size);
		if (ret < 0) {
			fprintf(stderr,
				"pipe reader: read after %" PRIu64
				" records: %s\n",
				i, strerror(-ret));
			rep.err = ret;
			child_finish(report_fd, &rep);
		}
		if (i == 0)
			t0 = now_ns();
		memcpy(&idx, buf, sizeof(idx));
		if (idx != i)
			rep.bad++;
	}
	t1 = now_ns();
	rep.delivered = o->messages;
	rep.ns = t1 - t0;

	/* The writer closes its end after its last record. */
	ret = read_full((int)fd, buf, 1);
	if (ret != -EPIPE) {
		fprintf(stderr, "pipe reader: expected end of file\n");
		rep.err = ret == 0 ? -EBADMSG : ret;
	}
	if (rep.bad)
		fprintf(stderr, "pipe reader: %u bad records\n", rep.bad);
	free(buf);
	child_finish(report_fd, &rep);
}

static int run_pipe(const struct options *o, struct report *rep)
{
	const char *what = row_names[ROW_PIPE];
	unsigned char *buf;
	int data[2], report_fd, ret = 0;
	uint64_t i;
	pid_t pid;

	buf = calloc(1, o->size);
	if (!buf)
		return -1;
	if (pipe2(data, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", what, strerror(errno));
		free(buf);
		return -1;
	}

	pipe_write_fd = data[1];
	pid = fork_receiver(what, pipe_reader, o, (uint32_t)data[0],
			    &report_fd);
	close(data[0]);
	pipe_write_fd = -1;
	if (pid < 0) {
		close(data[1]);
		free(buf);
		return -1;
	}

	for (i = 0; i < o->messages; i++) {
		memcpy(buf, &i, sizeof(i));
		ret = write_full(data[1], buf, o->size);
		if (ret < 0) {
			fprintf(stderr, "%s: write: %s\n", what,
				strerror(-ret));
			break;
		}
	}
	close(data[1]);
	free(buf);
	if (finish_receiver(what, pid, report_fd, rep) < 0 || ret < 0)
		return -1;
	return 0;
}

/* ----------------------------------------------------------------------
 * Driver
 */

static void __attribute__((noreturn)) usage(const char *prog, int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f, "Usage: %s [options]\n", prog);
	fprintf(f, "One publisher process to one subscriber process: "
		   "ringcast and a pipe.\n");
	fprintf(f, "  --messages N   messages per run and row (default %llu)\n",
		DEFAULT_MESSAGES);
	fprintf(f, "  --size BYTES   payload bytes, 8 or more (default %u)\n",
		DEFAULT_SIZE);
	fprintf(f,
		"  --runs R       runs of each row, interleaved "
		"(default %u)\n",
		DEFAULT_RUNS);
	fprintf(f, "  --transport T  ringcast, pipe or all (default all)\n");
	fprintf(f,
		"  --batch B      events per publish call (default %u; "
		"1: one publish per event)\n",
		DEFAULT_BATCH);
	fprintf(f,
		"  --slots S      ring slots, a power of two (default %u, "
		"fewer for large payloads)\n",
		DEFAULT_SLOTS);
	fprintf(f, "  --verbose      print every run\n");
	exit(status);
}

static uint64_t parse_u64(const char *prog, const char *opt, const char *s,
			  uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr,
			"%s: --%s: expected a number from %" PRIu64
			" to %" PRIu64 ", got '%s'\n",
			prog, opt, min, max, s);
		exit(2);
	}
	return v;
}

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "messages", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "transport", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	uint64_t slots = 0;
	int c;

	*o = (struct options){
		.messages = DEFAULT_MESSAGES,
		.size = DEFAULT_SIZE,
		.runs = DEFAULT_RUNS,
		.batch = DEFAULT_BATCH,
		.rows = { true, true, true, true },
	};

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->messages = parse_u64(prog, "messages", optarg, 2,
						UINT64_MAX / 2);
			break;
		case 's':
			o->size = (uint32_t)parse_u64(
				prog, "size", optarg, sizeof(uint64_t),
				RINGCAST_MAX_SLOT_SIZE - RINGCAST_SLOT_HEADER);
			break;
		case 'r':
			o->runs = (uint32_t)parse_u64(prog, "runs", optarg, 1,
						      MAX_RUNS);
			break;
		case 'b':
			o->batch = (uint32_t)parse_u64(prog, "batch", optarg, 1,
						       TP_MAX_BATCH);
			break;
		case 'S':
			slots = parse_u64(prog, "slots", optarg,
					  RINGCAST_MIN_SLOTS,
					  RINGCAST_MAX_SLOTS);
			if (slots & (slots - 1)) {
				fprintf(stderr,
					"%s: --slots: not a power of two\n",
					prog);
				exit(2);
			}
			break;
		case 't':
			if (!strcmp(optarg, "ringcast")) {
				o->rows[ROW_PIPE] = false;
			} else if (!strcmp(optarg, "pipe")) {
				o->rows[ROW_RC_BUSY] = false;
				o->rows[ROW_RC_SPIN] = false;
				o->rows[ROW_RC_PACED] = false;
			} else if (strcmp(optarg, "all")) {
				fprintf(stderr, "%s: --transport: %s\n", prog,
					"ringcast, pipe or all");
				exit(2);
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(prog, 0);
		default:
			usage(prog, 2);
		}
	}
	if (optind != argc)
		usage(prog, 2);

	o->slot_size = pow2_at_least((uint64_t)o->size + RINGCAST_SLOT_HEADER);
	if (o->slot_size < RINGCAST_MIN_SLOT_SIZE)
		o->slot_size = RINGCAST_MIN_SLOT_SIZE;
	if (!slots) {
		slots = DEFAULT_SLOTS;
		while (slots > RINGCAST_MIN_SLOTS &&
		       slots * o->slot_size > MAX_RING_BYTES)
			slots /= 2;
	}
	o->slots = (uint32_t)slots;

	/* The paced publisher stays within half a ring of the last ack. */
	o->ack_every = o->slots / 4 < ACK_EVERY ? o->slots / 4 : ACK_EVERY;
	if (o->rows[ROW_RC_PACED] &&
	    (!o->ack_every || o->slots / 2 < o->ack_every + o->batch)) {
		fprintf(stderr,
			"%s: %u slots are too few to pace batches of "
			"%u: no %s row\n",
			prog, o->slots, o->batch, row_names[ROW_RC_PACED]);
		o->rows[ROW_RC_PACED] = false;
	}
}

static void print_command(int argc, char **argv)
{
	int i;

	printf("# command:");
	for (i = 0; i < argc; i++) {
		if (argv[i][0] &&
		    !strpbrk(argv[i], " \t\n'\"\\$`*?[]{}();&|<>"))
			printf(" %s", argv[i]);
		else
			printf(" '%s'", argv[i]); /* no ' in our options */
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct sample samples[ROW_COUNT][MAX_RUNS];
	struct options o;
	double med[ROW_COUNT] = { 0 };
	double load[3] = { 0 };
	uint32_t r, row;
	int failed = 0;

	parse_options(argc, argv, &o);

	main_pid = getpid();
	snprintf(ring_name, sizeof(ring_name), "bench-%d", (int)main_pid);
	if (atexit(remove_ring)) {
		fprintf(stderr, "atexit failed\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	/* A reader that died shows up as EPIPE from write(2). */
	signal(SIGPIPE, SIG_IGN);

	flow = mmap(NULL, sizeof(*flow), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (flow == MAP_FAILED) {
		fprintf(stderr, "mmap: %s\n", strerror(errno));
		return 1;
	}

	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("# throughput: 1 publisher process -> 1 subscriber process\n");
	print_command(argc, argv);
	printf("# %" PRIu64 " messages of %u bytes per run, %u runs per row "
	       "(interleaved), %ld CPUs online, load average %.2f\n",
	       o.messages, o.size, o.runs, sysconf(_SC_NPROCESSORS_ONLN),
	       load[0]);
	if (o.rows[ROW_RC_BUSY])
		printf("# ringcast: ring %s, %u slots of %u bytes, "
		       "batches of %u, subscriber from oldest; paced: ack "
		       "every %u, window %u\n",
		       ring_name, o.slots, o.slot_size, o.batch, o.ack_every,
		       o.slots / 2);
	fflush(stdout);

	for (r = 0; r < o.runs; r++) {
		for (row = 0; row < ROW_COUNT; row++) {
			struct report rep = { 0 };
			int ret;

			if (!o.rows[row])
				continue;
			if (row == ROW_PIPE)
				ret = run_pipe(&o, &rep);
			else
				ret = run_ringcast(&o, row, &rep);
			if (ret < 0) {
				fprintf(stderr, "%s: run %u failed\n",
					row_names[row], r + 1);
				failed = 1;
				goto out;
			}
			samples[row][r] = (struct sample){
				.rate = rep.ns ? (double)(rep.delivered - 1) *
							 1e9 / (double)rep.ns :
						 0,
				.lost = rep.lost,
				.sleeps = rep.sleeps,
			};
			if (o.verbose)
				printf("# run %u %-14s %13.0f msg/s, %" PRIu64
				       " lost, %" PRIu64 " sleeps\n",
				       r + 1, row_names[row],
				       samples[row][r].rate, rep.lost,
				       rep.sleeps);
		}
		fflush(stdout);
	}

	printf("%-14s %6s %10s %13s %13s %13s %9s %10s %10s\n", "transport",
	       "size", "messages", "median msg/s", "min msg/s", "max msg/s",
	       "MB/s", "lost", "sleeps");
	for (row = 0; row < ROW_COUNT; row++) {
		double rates[MAX_RUNS], lo, hi;
		uint64_t lost = 0, sleeps = 0;
		char sl[24];

		if (!o.rows[row])
			continue;
		for (r = 0; r < o.runs; r++) {
			rates[r] = samples[row][r].rate;
			lost += samples[row][r].lost;
			sleeps += samples[row][r].sleeps;
		}
		med[row] = bench_median(rates, o.runs);
		lo = rates[0];
		hi = rates[o.runs - 1];
		if (row == ROW_PIPE)
			snprintf(sl, sizeof(sl), "-");
		else
			snprintf(sl, sizeof(sl), "%" PRIu64, sleeps);
		printf("%-14s %6u %10" PRIu64 " %13.0f %13.0f %13.0f %9.1f "
		       "%10" PRIu64 " %10s\n",
		       row_names[row], o.size, o.messages, med[row], lo, hi,
		       med[row] * o.size / 1e6, lost, sl);
	}
	printf("# lost and sleeps: totals over the %u runs; rates count "
	       "delivered messages only\n",
	       o.runs);
	if (o.rows[ROW_RC_BUSY] && o.rows[ROW_PIPE] && med[ROW_PIPE] > 0) {
		printf("ringcast-spin/pipe ratio: %.1fx (median)\n",
		       med[ROW_RC_SPIN] / med[ROW_PIPE]);
		if (o.rows[ROW_RC_PACED])
			printf("ringcast-paced/pipe ratio: %.1fx (median)\n",
			       med[ROW_RC_PACED] / med[ROW_PIPE]);
		printf("ringcast/pipe ratio: %.1fx (median)\n",
		       med[ROW_RC_BUSY] / med[ROW_PIPE]);
	} else {
		printf("ringcast/pipe ratio: n/a (median)\n");
	}
out:
	fflush(stdout);
	return failed;
}
