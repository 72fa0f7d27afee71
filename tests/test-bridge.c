// SPDX-License-Identifier: MIT
/*
 * The NATS bridge (ringcast-bridge, RINGCAST_BRIDGE names it), end to end
 * on one host: publisher -> ring A -> bridge out -> nats-server -> bridge
 * in -> ring B -> subscriber, each test with its own nats-server on a free
 * port of 127.0.0.1, its own rings and its own subject prefix.
 *
 * - every event arrives in order with the same bytes and type, across a
 *   takeover of ring A (the new epoch is announced);
 * - a subject filter (one type) delivers that type only, and is not
 *   mistaken for loss;
 * - events over the server's maximum payload are refused and counted,
 *   the connection survives, and the receiver counts the same gap;
 * - events larger than a slot cross whole (through both data areas);
 *   those above ring B's largest event (bridge in --data-size) are
 *   refused and counted there;
 * - the server killed and restarted in the middle: both bridges
 *   reconnect, the out side lets the publisher go after --hold, and the
 *   loss the receiver reports is exactly what the subscriber missed.
 *
 * - frames: events of many sizes, up to 64 KiB, in frames cut by count,
 *   by bytes and by the event that does not fit, each type in its order;
 *   a lone event sent without more traffic, by an idle ring or by its
 *   age (--frame-idle wait); frames of an unknown version and malformed
 *   ones refused whole and counted, the bridge going on, and messages of
 *   the per-event format still taken;
 * - the cases above that carry several types run with both frame orders
 *   (--frame-order ring: the ring's order across types; type: a frame
 *   per type, each type in its order, gaps counted inside frames);
 *
 * - `ringcast stat` shows the counters of the bridges attached to a ring,
 *   in text and JSON, and a killed bridge's counters as no longer alive.
 *
 * Skipped (with the reason) when nats-server is not installed or the
 * bridge was not built.  Every process is started with PR_SET_PDEATHSIG,
 * so none outlives a test that crashed or timed out, and is stopped by
 * its pid.  Waits poll the bridges' status files, each bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>

#include "common.h"
#include "../tools/bridge/frame.h"

static const char *bridge_bin;
static const char *nats_bin = "nats-server";
static const char *ringcast_bin; /* the tool, for 'ringcast stat' */

/* bridge out --frame-order: loop tests run with each. */
static const char *const orders[] = { "ring", "type" };
static const char *frame_order = "ring";

static bool by_type(void)
{
	return !strcmp(frame_order, "type");
}

#define WAIT_MS (30 * 1000)
#define NTYPES 5u

/* ----------------------------------------------------------------------
 * Processes
 */

static pid_t spawn(const char *log, const char *const argv[])
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Stop a process by its pid; return its exit status (-1: killed). */
static int stop(pid_t pid)
{
	int st;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	st = t_wait(pid, WAIT_MS);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* ----------------------------------------------------------------------
 * A world: a server, two rings, two bridges
 */

struct world {
	char dir[128];
	char prefix[32];
	char url[64];
	char conf[160];
	char ns_log[160];
	char in_log[160];
	char out_log[160];
	int port;
	pid_t ns;
	pid_t in;
	pid_t out;
	const char *a; /* the origin ring */
	const char *b; /* the ring bridge in writes */
};

static void server_start(struct world *w)
{
	char port[16];
	const char *argv[] = { nats_bin, "-a", "127.0.0.1",
			       "-p",	 port, w->conf[0] ? "-c" : NULL,
			       w->conf,	 NULL };
	uint64_t end = t_now_ns() + (uint64_t)WAIT_MS * 1000000;

	snprintf(port, sizeof(port), "%d", w->port);
	w->ns = spawn(w->ns_log, argv);
	while (!port_open(w->port)) {
		ck_assert_msg(t_now_ns() < end, "nats-server did not start");
		ck_assert_msg(waitpid(w->ns, NULL, WNOHANG) == 0,
			      "nats-server exited; see %s", w->ns_log);
		sleep_ms(5);
	}
}

static void server_kill(struct world *w)
{
	kill(w->ns, SIGKILL);
	t_wait(w->ns, WAIT_MS);
	w->ns = 0;
}

static void world_init(struct world *w, const char *tag, int max_payload)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/rc-bridge-%d", (int)t_root_pid);
	mkdir(w->dir, 0700);
	snprintf(w->dir, sizeof(w->dir), "/tmp/rc-bridge-%d/%s.XXXXXX",
		 (int)t_root_pid, tag);
	ck_assert_ptr_nonnull(mkdtemp(w->dir));
	snprintf(w->prefix, sizeof(w->prefix), "t%d", (int)getpid());
	w->port = free_port();
	snprintf(w->url, sizeof(w->url), "nats://127.0.0.1:%d", w->port);
	snprintf(w->ns_log, sizeof(w->ns_log), "%s/nats.log", w->dir);
	snprintf(w->in_log, sizeof(w->in_log), "%s/in.log", w->dir);
	snprintf(w->out_log, sizeof(w->out_log), "%s/out.log", w->dir);
	if (max_payload) {
		FILE *f;

		snprintf(w->conf, sizeof(w->conf), "%s/nats.conf", w->dir);
		f = fopen(w->conf, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "max_payload: %d\n", max_payload);
		fclose(f);
	}
	w->a = t_name("a");
	w->b = t_name("b");
	server_start(w);
}

static void world_dump(const struct world *w)
{
	const char *logs[] = { w->in_log, w->out_log };
	char line[512];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(logs[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			fprintf(stderr, "# %s", line);
		fclose(f);
	}
}

static void world_end(struct world *w)
{
	char path[300];

	ck_assert_int_eq(stop(w->out), 0);
	ck_assert_int_eq(stop(w->in), 0);
	w->out = w->in = 0;
	if (w->ns)
		stop(w->ns);
	w->ns = 0;
	if (getenv("BRIDGE_TEST_VERBOSE"))
		world_dump(w);
	snprintf(path, sizeof(path), "rm -rf '%s'", w->dir);
	if (system(path))
		fprintf(stderr, "# could not remove %s\n", w->dir);
	*strrchr(w->dir, '/') = '\0';
	rmdir(w->dir);
	t_assert_clean();
}

/* Status files */

static bool status_get(const char *dir, const char *ring, const char *key,
		       uint64_t *v)
{
	char path[512], buf[4096], pat[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/ringcast-bridge.%s.%s", dir,
		 ring);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "\n%s ", key);
	if (!strncmp(buf, pat + 1, strlen(pat + 1)))
		p = buf + strlen(pat + 1);
	else if ((p = strstr(buf, pat)))
		p += strlen(pat);
	else
		return false;
	*v = strtoull(p, NULL, 10);
	return true;
}

static uint64_t status_of(const char *dir, const char *ring, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(status_get(dir, ring, key, &v), "no %s in %s status", key,
		      dir);
	return v;
}

/* Wait until the status says key >= min (or == min when exact). */
static void status_wait(const struct world *w, const char *dir,
			const char *ring, const char *key, uint64_t min,
			bool exact)
{
	uint64_t end = t_now_ns() + (uint64_t)WAIT_MS * 1000000, v = 0;

	for (;;) {
		if (status_get(dir, ring, key, &v) &&
		    (exact ? v == min : v >= min))
			return;
		if (t_now_ns() > end) {
			world_dump(w);
			ck_abort_msg("%s bridge: %s is %" PRIu64
				     ", waited for %s%" PRIu64,
				     dir, key, v, exact ? "" : ">= ", min);
		}
		sleep_ms(5);
	}
}

static void bridge_in(struct world *w, const char *subject, const char *extra)
{
	const char *argv[] = {
		bridge_bin,  "in",    w->b,	 "--nats", w->url,
		"--subject", subject, "--slots", "16384",  "--max-backoff",
		"0.2",	     extra,   NULL
	};

	w->in = spawn(w->in_log, argv);
	status_wait(w, "in", w->b, "ready", 1, true);
}

/* bridge out, with up to 8 more arguments in @extra (NULL-terminated). */
static void bridge_out_args(struct world *w, const char *hold,
			    const char *const *extra)
{
	const char *argv[24] = { bridge_bin,	  "out",    w->a,
				 "--nats",	  w->url,   "--subject",
				 w->prefix,	  "--hold", hold,
				 "--max-backoff", "0.2",    "--frame-order",
				 frame_order };
	size_t n = 13, i;

	for (i = 0; extra && extra[i]; i++) {
		ck_assert_uint_lt(n, 23);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	w->out = spawn(w->out_log, argv);
	status_wait(w, "out", w->a, "connected", 1, true);
}

static void bridge_out(struct world *w, const char *hold)
{
	bridge_out_args(w, hold, NULL);
}

/* The subject pattern of all types of ring A, or of one. */
static const char *pattern(const struct world *w, const char *type)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), "%s.%s.%s", w->prefix, w->a, type);
	return buf;
}

/* ----------------------------------------------------------------------
 * Events: event i has type i % NTYPES and a payload derived from i, of
 * 8 to 64 bytes (or @big bytes when big_every divides i + 1)
 */

static uint32_t ev_type(uint64_t i)
{
	return (uint32_t)(i % NTYPES);
}

static size_t ev_make(uint64_t i, uint8_t *buf, size_t big, uint64_t every)
{
	size_t len = 8 + (size_t)((i * 7) % 57), k;

	if (every && (i + 1) % every == 0)
		len = big;
	memcpy(buf, &i, 8);
	for (k = 8; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k * 17); /* zeros, newlines too */
	return len;
}

static void publish(struct ringcast_pub *pub, uint64_t from, uint64_t to,
		    size_t big, uint64_t every)
{
	static uint8_t buf[4096];
	uint64_t i;

	for (i = from; i < to; i++) {
		size_t len = ev_make(i, buf, big, every);
		int r = ringcast_pub_publish(pub, ev_type(i), buf, len);

		ck_assert_msg(r >= 0, "publish %" PRIu64 ": %s", i,
			      ringcast_strerror(r));
	}
}

/*
 * Read ring B until event @last and the last of each type before it:
 * each must be the one it claims to be, in increasing order (with
 * --frame-order type, in increasing order within its type).  Return: how
 * many arrived; *missing counts those skipped that @wanted would have
 * taken.
 */
static uint64_t receive(struct ringcast_sub *sub, uint64_t last,
			bool (*wanted)(uint64_t i), uint64_t *missing,
			size_t big, uint64_t every)
{
	static uint8_t want[4096];
	uint64_t next = 0, got = 0, i, j, tnext[NTYPES] = { 0 };
	uint64_t tlast[NTYPES] = { 0 };
	bool tdone[NTYPES], done = false;
	struct ringcast_event ev;
	uint32_t t;

	/* The last wanted event of each type, up to @last. */
	for (t = 0; t < NTYPES; t++) {
		tdone[t] = true;
		for (j = last + 1; j-- > 0;) {
			if (ev_type(j) == t && wanted(j)) {
				tlast[t] = j;
				tdone[t] = false;
				break;
			}
		}
	}
	*missing = 0;
	while (!done) {
		size_t len;
		int r = ringcast_sub_next(sub, &ev, T_WAIT_NS);

		ck_assert_msg(r == 0,
			      "reading ring B after %" PRIu64 " events: %s",
			      got, ringcast_strerror(r));
		ck_assert_uint_ge(ev.len, 8);
		memcpy(&i, ev.data, 8);
		ck_assert_msg(i <= last, "event %" PRIu64 " after the last", i);
		t = ev_type(i);
		ck_assert_uint_eq(ev.type, t);
		/* The ring's order, or (--frame-order type) its type's. */
		if (!by_type())
			ck_assert_msg(i >= next,
				      "event %" PRIu64 " after %" PRIu64, i,
				      next);
		ck_assert_msg(i >= tnext[t],
			      "event %" PRIu64 " after %" PRIu64
			      " of type %" PRIu32,
			      i, tnext[t], t);
		for (j = tnext[t]; j < i; j++)
			if (ev_type(j) == t && wanted(j))
				(*missing)++;
		ck_assert_msg(wanted(i), "event %" PRIu64 " is not wanted", i);
		len = ev_make(i, want, big, every);
		ck_assert_uint_eq(ev.len, len);
		ck_assert_msg(!memcmp(ev.data, want, len),
			      "event %" PRIu64 ": other bytes", i);
		next = i + 1;
		tnext[t] = i + 1;
		if (i == tlast[t])
			tdone[t] = true;
		got++;
		done = true;
		for (t = 0; t < NTYPES; t++)
			done = done && tdone[t];
	}
	return got;
}

static bool all(uint64_t i)
{
	return true;
}

static bool type2(uint64_t i)
{
	return ev_type(i) == 2;
}

static struct ringcast_sub *sub_b(const struct world *w)
{
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.flags = RINGCAST_SUB_RELIABLE,
	};

	return t_sub(w->b, &o, NULL);
}

/*
 * The usual world: ring A created, bridged in (types @types) to B, read
 * there by *subp, bridged out, and a publisher of A that waits for the
 * bridge's subscriber.
 */
static struct ringcast_pub *world_bridged(struct world *w, const char *tag,
					  const char *types,
					  struct ringcast_sub **subp)
{
	struct ringcast_pub *pub;

	world_init(w, tag, 0);
	ck_assert_int_eq(ringcast_ring_create(w->a, NULL, 0), 0);
	bridge_in(w, pattern(w, types), NULL);
	*subp = sub_b(w);
	bridge_out(w, "5");
	pub = t_pub(w->a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	return pub;
}

/* Sum of the numbers after @what in the lines of @log. */
static uint64_t log_sum(const char *log, const char *what)
{
	char line[1024];
	uint64_t sum = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, what);

		if (p)
			sum += strtoull(p + strlen(what), NULL, 10);
	}
	fclose(f);
	return sum;
}

static bool log_has(const char *log, const char *what)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(log, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/* ----------------------------------------------------------------------
 * Tests
 */

/* Every event, in order, same bytes and type; a takeover of A on the way. */
START_TEST(test_bridge_end_to_end)
{
	const uint64_t n = 4000;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing;

	frame_order = orders[_i];

	pub = world_bridged(&w, "e2e", "*", &sub);
	publish(pub, 0, n / 2, 0, 0);
	/* A new publisher takes ring A over: a new epoch. */
	ringcast_pub_detach(pub);
	pub = t_pub(w.a, 0);
	publish(pub, n / 2, n, 0, 0);
	ck_assert_uint_eq(receive(sub, n - 1, all, &missing, 0, 0), n);
	ck_assert_uint_eq(missing, 0);

	status_wait(&w, "in", w.b, "published", n, true);
	ck_assert_uint_eq(status_of("in", w.b, "received"), n);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), 0);
	ck_assert_uint_eq(status_of("in", w.b, "reorders"), 0);
	status_wait(&w, "in", w.b, "epoch_changes", 1, true);
	status_wait(&w, "out", w.a, "sent", n, true);
	ck_assert_uint_eq(status_of("out", w.a, "dropped"), 0);
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	/* At the end of stream bridge out flushes and exits 0 by itself. */
	ck_assert_int_eq(t_wait(w.out, WAIT_MS), 0);
	w.out = 0;
	ck_assert(log_has(w.in_log, "a new publisher took the ring over"));
	world_end(&w);
}
END_TEST

/* One type through the subject: nothing else crosses, nothing is a gap. */
START_TEST(test_bridge_filter)
{
	const uint64_t n = 2000;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing, last = n - 1;

	frame_order = orders[_i];

	pub = world_bridged(&w, "filter", "2", &sub);
	publish(pub, 0, n, 0, 0);
	while (!type2(last))
		last--;
	ck_assert_uint_eq(receive(sub, last, type2, &missing, 0, 0),
			  n / NTYPES);
	ck_assert_uint_eq(missing, 0);
	status_wait(&w, "in", w.b, "published", n / NTYPES, true);
	ck_assert_uint_eq(status_of("in", w.b, "received"), n / NTYPES);
	ck_assert_uint_eq(status_of("in", w.b, "gaps"), 0);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), 0);
	/* Every event went out; only type 2 came in. */
	status_wait(&w, "out", w.a, "sent", n, true);
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	world_end(&w);
}
END_TEST

/* Over the server's maximum payload: refused, counted, never truncated. */
START_TEST(test_bridge_max_payload)
{
	const uint64_t n = 1000, every = 10;
	struct ringcast_ring_opts geo = { .slot_size = 4096 };
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing, got;

	frame_order = orders[_i];

	world_init(&w, "maxpl", 1024);
	ck_assert_int_eq(ringcast_ring_create(w.a, &geo, 0), 0);
	bridge_in(&w, pattern(&w, ">"), NULL);
	sub = sub_b(&w);
	bridge_out(&w, "5");
	ck_assert_uint_eq(status_of("out", w.a, "max_payload"), 1024);
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	/*
	 * Every tenth event is 2000 bytes (all of type 4); a gap shows when
	 * the next event of its type comes, so the last 5 are small.
	 */
	publish(pub, 0, n + NTYPES, 2000, every);
	got = receive(sub, n + NTYPES - 1, all, &missing, 2000, every);
	ck_assert_uint_eq(missing, n / every);
	ck_assert_uint_eq(got, n + NTYPES - n / every);
	status_wait(&w, "out", w.a, "refused", n / every, true);
	status_wait(&w, "out", w.a, "sent", got, true);
	/* The receiver sees each as a gap of its type, exactly. */
	status_wait(&w, "in", w.b, "published", got, true);
	ck_assert_uint_eq(status_of("in", w.b, "gap_events"), n / every);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), n / every);
	/* The server never saw an oversized message: no disconnection. */
	ck_assert_uint_eq(status_of("out", w.a, "disconnects"), 0);
	ck_assert(log_has(w.out_log, "larger than the server's maximum"));
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	world_end(&w);
}
END_TEST

/*
 * Events of any size: ring A (default data area) carries events of 8 B to
 * 64 KiB; bridge in creates ring B with a 16 KiB data area (events up to
 * 4 KiB).  Every event goes out; those up to 4 KiB arrive whole, the
 * 64 KiB ones are refused by B and counted, never cut.
 */
#define LARGE_MAX 65536

static size_t large_make(uint64_t i, uint8_t *buf)
{
	static const size_t lens[] = { 9, 300, 3000, 4096, 4097, LARGE_MAX };
	size_t len = lens[i % 6], k;

	memcpy(buf, &i, 8);
	for (k = 8; k < len; k++)
		buf[k] = (uint8_t)(i * 13 + k * 7);
	return len;
}

START_TEST(test_bridge_large)
{
	const uint64_t n = 600, refused = n / 6 * 2;
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint8_t *buf = malloc(LARGE_MAX);
	uint64_t i, got = 0, prev = 0, next[NTYPES] = { 0 };
	size_t len;

	frame_order = orders[_i];

	ck_assert_ptr_nonnull(buf);
	world_init(&w, "large", 0);
	ck_assert_int_eq(ringcast_ring_create(w.a, NULL, 0), 0);
	bridge_in(&w, pattern(&w, "*"), "--data-size=16k");
	t_stat(w.b, &info);
	ck_assert_uint_eq(info.data_size, 16384);
	ck_assert_uint_eq(info.max_event, 4096);
	sub = sub_b(&w);
	bridge_out(&w, "5");
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	for (i = 0; i < n; i++) {
		int r;

		len = large_make(i, buf);
		r = ringcast_pub_publish(pub, ev_type(i), buf, len);
		ck_assert_msg(r >= 0, "publish %" PRIu64 ": %s", i,
			      ringcast_strerror(r));
	}
	/*
	 * What B takes: every event but those above 4 KiB, in order (with
	 * --frame-order type, in order within each type).
	 */
	for (i = 0; i < n - refused; i++) {
		uint64_t j;
		uint32_t t;
		int r;

		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		ck_assert_msg(r == 0, "reading ring B after %" PRIu64 ": %s",
			      got, ringcast_strerror(r));
		ck_assert_uint_ge(ev.len, 8);
		memcpy(&j, ev.data, 8);
		t = ev_type(j);
		ck_assert_uint_eq(ev.type, t);
		/* The next event of its type that B can take. */
		while (large_make(next[t], buf) > 4096 || ev_type(next[t]) != t)
			next[t]++;
		ck_assert_uint_eq(j, next[t]);
		if (!by_type())
			ck_assert_uint_ge(j, prev);
		prev = j;
		len = large_make(j, buf);
		ck_assert_uint_eq(ev.len, len);
		ck_assert_msg(!memcmp(ev.data, buf, len),
			      "event %" PRIu64 ": other bytes", j);
		next[t]++;
		got++;
	}
	ck_assert_uint_eq(got, n - refused);
	status_wait(&w, "out", w.a, "sent", n, true);
	ck_assert_uint_eq(status_of("out", w.a, "refused"), 0);
	status_wait(&w, "in", w.b, "refused", refused, true);
	ck_assert_uint_eq(status_of("in", w.b, "received"), n);
	ck_assert_uint_eq(status_of("in", w.b, "published"), n - refused);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), 0);
	ck_assert(log_has(w.in_log, "larger than the ring's largest event"));
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	free(buf);
	world_end(&w);
}
END_TEST

/*
 * The server killed and restarted between phases.  While it is down
 * bridge out holds the publisher of a 64-slot ring for 0.3 s, then lets
 * go: what it loses is counted, sent on as Ringcast-Dropped, and the
 * receiver's count of lost events equals what the subscriber missed.
 */
START_TEST(test_bridge_restart)
{
	const uint64_t n1 = 1000, n2 = 600, n3 = 1000, n = n1 + n2 + n3;
	struct ringcast_ring_opts geo = { .slots = 64 };
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing, got, lost, dropped;

	world_init(&w, "restart", 0);
	ck_assert_int_eq(ringcast_ring_create(w.a, &geo, 0), 0);
	bridge_in(&w, pattern(&w, "*"), NULL);
	sub = sub_b(&w);
	bridge_out(&w, "0.3");
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	publish(pub, 0, n1, 0, 0);
	status_wait(&w, "in", w.b, "published", n1, true);

	server_kill(&w);
	status_wait(&w, "out", w.a, "connected", 0, true);
	status_wait(&w, "in", w.b, "connected", 0, true);
	/* Blocks 0.3 s once the ring is full, then the bridge is let go. */
	publish(pub, n1, n1 + n2, 0, 0);
	server_start(&w);
	status_wait(&w, "out", w.a, "reconnects", 1, false);
	status_wait(&w, "in", w.b, "reconnects", 1, false);
	status_wait(&w, "in", w.b, "ready", 1, true);
	status_wait(&w, "out", w.a, "reliable", 1, true);
	publish(pub, n1 + n2, n, 0, 0);

	got = receive(sub, n - 1, all, &missing, 0, 0);
	ck_assert_uint_eq(got + missing, n);
	status_wait(&w, "in", w.b, "published", got, true);
	lost = status_of("in", w.b, "lost");
	/* Its counters are final once it shows the last event read. */
	status_wait(&w, "out", w.a, "last_seq", n - 1, true);
	dropped = status_of("out", w.a, "dropped");
	ck_assert_msg(lost == missing,
		      "bridge in reports %" PRIu64 " lost, %" PRIu64
		      " are missing",
		      lost, missing);
	/* Held, then let go: the ring's publisher lapped the bridge. */
	ck_assert_uint_ge(status_of("out", w.a, "demotions"), 1);
	ck_assert_uint_gt(dropped, 0);
	ck_assert_uint_eq(status_of("in", w.b, "origin_dropped"), dropped);
	/* stderr says the same, gap by gap. */
	ck_assert_uint_eq(log_sum(w.in_log, "gap of ") +
				  log_sum(w.in_log, ": lost "),
			  missing);
	ck_assert(log_has(w.out_log, "reconnected to NATS"));
	ck_assert(log_has(w.in_log, "reconnected to NATS"));
	ck_assert(log_has(w.out_log, "let the publisher go"));
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	world_end(&w);
}
END_TEST

/* Bridges started before the server keep trying, and say so. */
START_TEST(test_bridge_server_late)
{
	const uint64_t n = 100;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing;
	const char *in_argv[] = {
		bridge_bin,	 "in",	NULL, "--nats", NULL, "--subject", NULL,
		"--max-backoff", "0.2", NULL
	};
	const char *out_argv[] = {
		bridge_bin, "out",	     NULL,  "--nats", NULL, "--subject",
		NULL,	    "--max-backoff", "0.2", NULL
	};
	uint64_t end;

	world_init(&w, "late", 0);
	server_kill(&w);
	ck_assert_int_eq(ringcast_ring_create(w.a, NULL, 0), 0);
	in_argv[2] = w.b;
	in_argv[4] = out_argv[4] = w.url;
	in_argv[6] = pattern(&w, "*");
	out_argv[2] = w.a;
	out_argv[6] = w.prefix;
	w.in = spawn(w.in_log, in_argv);
	w.out = spawn(w.out_log, out_argv);
	status_wait(&w, "out", w.a, "connected", 0, true);
	status_wait(&w, "in", w.b, "connected", 0, true);
	sub = sub_b(&w);
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	/* Wait until both have said they are retrying. */
	end = t_now_ns() + (uint64_t)WAIT_MS * 1000000;
	while (!log_has(w.in_log, "unreachable") ||
	       !log_has(w.out_log, "unreachable")) {
		ck_assert_msg(t_now_ns() < end, "no retry reported");
		sleep_ms(5);
	}
	server_start(&w);
	status_wait(&w, "in", w.b, "ready", 1, true);
	status_wait(&w, "out", w.a, "connected", 1, true);
	publish(pub, 0, n, 0, 0);
	ck_assert_uint_eq(receive(sub, n - 1, all, &missing, 0, 0), n);
	ck_assert_uint_eq(missing, 0);
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	world_end(&w);
}
END_TEST

/* ----------------------------------------------------------------------
 * Frames
 */

/*
 * Sizes across the limits of test_bridge_frames' frames: 7 events, 3000
 * bytes, and the server's maximum payload, where 65536 bytes fit alone
 * and not after the 1000 before them.
 */
static const size_t frame_lens[] = { 0,	   1,	 7,	8,    31,    64,
				     65,   1000, 65536, 2900, 2967,  2968,
				     2969, 3000, 4096,	5000, 20000, 12 };
#define FRAME_LENS (sizeof(frame_lens) / sizeof(frame_lens[0]))
#define FRAME_TYPES 3u

static size_t frame_make(uint64_t i, uint8_t *buf)
{
	size_t len = frame_lens[(i / FRAME_TYPES) % FRAME_LENS], k;

	for (k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 29 + k * 11 + (k >> 8));
	return len;
}

/* The frames of one type that bridge out must cut (see below). */
static uint64_t frames_expected(uint64_t nper, size_t hdr, size_t cap)
{
	uint64_t frames = 0, i;
	size_t len = 0, n = 0;

	for (i = 0; i < nper; i++) {
		size_t ev = BRIDGE_FRAME_EVENT_HDR + frame_lens[i % FRAME_LENS];

		if (n && len + ev > cap) {
			frames++; /* does not fit: the frame goes first */
			n = 0;
		}
		if (!n)
			len = hdr;
		len += ev;
		if (++n == 7 || len >= 3000) {
			frames++;
			n = 0;
		}
	}
	return frames + (n > 0); /* the end of stream sends the last */
}

/*
 * Events of 0 to 64 KiB, of three interleaved types, through frames of at
 * most 7 events and 3000 bytes, one open per type, under a server's
 * maximum payload of 66000 bytes.  Frames wait for those limits alone
 * (--frame-idle wait, --frame-us a minute) and the end of stream sends
 * the last ones, so bridge out cuts exactly the frames computed here.
 * Every event arrives whole, each type in its order, none lost, no gap.
 */
START_TEST(test_bridge_frames)
{
	const char *const extra[] = { "--frame-events",
				      "7",
				      "--frame-bytes",
				      "3000",
				      "--frame-idle",
				      "wait",
				      "--frame-us",
				      "60000000",
				      "--host",
				      "test-host",
				      NULL };
	const uint64_t nper = FRAME_LENS * 6, n = nper * FRAME_TYPES;
	uint64_t i, got[FRAME_TYPES] = { 0 }, frames;
	uint8_t *buf = malloc(65536), *want = malloc(65536);
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(want);
	/* The frame's header and its NATS headers (out.c). */
	frames = FRAME_TYPES *
		 frames_expected(nper, bridge_frame_hdr_size(9),
				 66000 - (10 + 14 + 4 + 3 + 13 + 4 + 5 + 2));
	frame_order = "type";
	world_init(&w, "frames", 66000);
	ck_assert_int_eq(ringcast_ring_create(w.a, NULL, 0), 0);
	bridge_in(&w, pattern(&w, "*"), NULL);
	sub = sub_b(&w);
	bridge_out_args(&w, "5", extra);
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	for (i = 0; i < n; i++) {
		size_t len = frame_make(i, buf);
		int r = ringcast_pub_publish(pub, (uint32_t)(i % FRAME_TYPES),
					     buf, len);

		ck_assert_msg(r >= 0, "publish %" PRIu64 ": %s", i,
			      ringcast_strerror(r));
	}
	ringcast_pub_close(pub);
	for (i = 0; i < n; i++) {
		uint64_t j;
		size_t len;
		int r = ringcast_sub_next(sub, &ev, T_WAIT_NS);

		ck_assert_msg(r == 0, "reading ring B after %" PRIu64 ": %s", i,
			      ringcast_strerror(r));
		ck_assert_uint_lt(ev.type, FRAME_TYPES);
		/* The next event of its type. */
		j = got[ev.type]++ * FRAME_TYPES + ev.type;
		len = frame_make(j, want);
		ck_assert_msg(ev.len == len,
			      "event %" PRIu64 " of type %" PRIu32 ": %" PRIu32
			      " bytes, not %zu",
			      j, ev.type, ev.len, len);
		ck_assert_msg(!len || !memcmp(ev.data, want, len),
			      "event %" PRIu64 ": other bytes", j);
	}
	/* At the end of stream bridge out sends what is open and exits. */
	ck_assert_int_eq(t_wait(w.out, WAIT_MS), 0);
	w.out = 0;
	status_wait(&w, "in", w.b, "published", n, true);
	ck_assert_uint_eq(status_of("in", w.b, "frames"), frames);
	ck_assert_uint_eq(status_of("in", w.b, "received"), n);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), 0);
	ck_assert_uint_eq(status_of("in", w.b, "gaps"), 0);
	ck_assert_uint_eq(status_of("in", w.b, "reorders"), 0);
	ck_assert_uint_eq(status_of("in", w.b, "bad_frames"), 0);
	ck_assert(log_has(w.out_log, "refused 0;"));
	ringcast_sub_detach(sub);
	free(buf);
	free(want);
	world_end(&w);
}
END_TEST

/*
 * A lone event goes without more traffic: at once when the ring has no
 * more (--frame-idle send, the default; --frame-us a minute, so that only
 * that sends it), or once its frame is --frame-us old (--frame-idle wait,
 * 50 ms, frames of up to 1000 events).
 */
START_TEST(test_bridge_frame_lone)
{
	const char *const send[] = { "--frame-us", "60000000", NULL };
	const char *const wait[] = {
		"--frame-idle",	  "wait", "--frame-us", "50000",
		"--frame-events", "1000", NULL
	};
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t v = 42;

	world_init(&w, "lone", 0);
	ck_assert_int_eq(ringcast_ring_create(w.a, NULL, 0), 0);
	bridge_in(&w, pattern(&w, "*"), NULL);
	sub = sub_b(&w);
	bridge_out_args(&w, "5", _i ? wait : send);
	pub = t_pub(w.a, 0);
	ck_assert_int_ge(ringcast_pub_wait_subscribers(pub, 1, T_WAIT_NS), 1);
	ck_assert_int_ge(ringcast_pub_publish(pub, 3, &v, sizeof(v)), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	ck_assert_uint_eq(ev.type, 3);
	ck_assert_uint_eq(ev.len, sizeof(v));
	ck_assert_mem_eq(ev.data, &v, sizeof(v));
	status_wait(&w, "out", w.a, "frames", 1, true);
	/* Which rule sent it. */
	ck_assert_uint_eq(status_of("out", w.a, "flush_idle"), _i ? 0 : 1);
	ck_assert_uint_eq(status_of("out", w.a, "flush_time"), _i ? 1 : 0);
	ck_assert_uint_eq(status_of("out", w.a, "flush_full"), 0);
	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	world_end(&w);
}
END_TEST

/* A client of the NATS protocol, enough to publish what the test makes. */
static int nats_open(const struct world *w)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static const char connect_line[] =
		"CONNECT {\"verbose\":false,\"pedantic\":false,"
		"\"headers\":true,\"protocol\":1}\r\n";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char c;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)w->port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	/* The server's INFO line. */
	do
		ck_assert_int_eq(read(fd, &c, 1), 1);
	while (c != '\n');
	ck_assert_int_eq(write(fd, connect_line, strlen(connect_line)),
			 (ssize_t)strlen(connect_line));
	return fd;
}

static void nats_write(int fd, const void *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		ck_assert_int_gt(k, 0);
		p = (const char *)p + k;
		len -= (size_t)k;
	}
}

/* HPUB @subj with headers @hdrs ("Key: value\r\n" lines) and @data. */
static void nats_hpub(int fd, const char *subj, const char *hdrs,
		      const void *data, size_t len)
{
	char head[512], h[512];
	int hl = snprintf(h, sizeof(h), "NATS/1.0\r\n%s\r\n", hdrs);
	int n = snprintf(head, sizeof(head), "HPUB %s %d %zu\r\n", subj, hl,
			 (size_t)hl + len);

	nats_write(fd, head, (size_t)n);
	nats_write(fd, h, (size_t)hl);
	nats_write(fd, data, len);
	nats_write(fd, "\r\n", 2);
}

/* A round trip: the server has handled everything sent before. */
static void nats_ping(int fd)
{
	char buf[256];
	ssize_t k;
	size_t n = 0;

	nats_write(fd, "PING\r\n", 6);
	for (;;) {
		k = read(fd, buf + n, sizeof(buf) - 1 - n);
		ck_assert_int_gt(k, 0);
		n += (size_t)k;
		buf[n] = '\0';
		if (strstr(buf, "PONG\r\n"))
			return;
		ck_assert_msg(!strstr(buf, "-ERR"), "server: %s", buf);
		if (n > sizeof(buf) / 2) {
			memmove(buf, buf + n - 8, 8);
			n = 8;
		}
	}
}

/* A frame of @n events of type 5, counts 1.., payloads "ev0", "ev1"... */
static size_t frame_build(uint8_t *buf, size_t cap, uint32_t n)
{
	struct bridge_frame_hdr h = {
		.epoch = 7, .session = 99, .host = "elsewhere", .host_len = 9
	};
	struct bridge_frame_writer wr;
	char data[8];
	uint32_t i;

	ck_assert_int_eq(bridge_frame_begin(&wr, buf, cap, &h), 0);
	for (i = 0; i < n; i++) {
		struct bridge_frame_event ev = {
			.seq = 100 + i,
			.ts = 1000 + i,
			.count = 1 + i,
			.type = 5,
			.len = (uint32_t)snprintf(data, sizeof(data), "ev%u",
						  i),
			.data = data,
		};

		ck_assert_int_eq(bridge_frame_add(&wr, &ev), 0);
	}
	return bridge_frame_finish(&wr);
}

#define H_FRAME_V(v) "Ringcast-Frame: " v "\r\nRingcast-Type: frame\r\n"

/*
 * What another or a broken sender might send: frames of version 2 (in the
 * header, or in the frame only), a cut frame, bytes that are no frame.
 * Each is refused whole, counted and said; then a good frame and an event
 * of the per-event format still arrive, in order.
 */
START_TEST(test_bridge_bad_frames)
{
	uint8_t good[512], bad[512];
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	char subj[300];
	struct world w;
	size_t len;
	unsigned int i;
	int fd;

	world_init(&w, "badframes", 0);
	ck_assert_int_eq(ringcast_ring_create(w.a, NULL, 0), 0);
	bridge_in(&w, pattern(&w, "*"), NULL);
	sub = sub_b(&w);
	fd = nats_open(&w);
	snprintf(subj, sizeof(subj), "%s", pattern(&w, "5"));
	len = frame_build(good, sizeof(good), 3);

	/* Version 2, said by the header; then by the frame itself. */
	nats_hpub(fd, subj, H_FRAME_V("2"), good, len);
	memcpy(bad, good, len);
	bad[4] = 2;
	nats_hpub(fd, subj, H_FRAME_V("1"), bad, len);
	/* Cut short, and not a frame at all. */
	nats_hpub(fd, subj, H_FRAME_V("1"), good, len - 1);
	nats_hpub(fd, subj, H_FRAME_V("1"), "hello", 5);
	/* A good frame, then one event as earlier out bridges sent it. */
	nats_hpub(fd, subj, H_FRAME_V("1"), good, len);
	nats_hpub(fd, pattern(&w, "6"),
		  "Ringcast-Type: 6\r\nRingcast-Count: 1\r\n"
		  "Ringcast-Host: old\r\n",
		  "legacy", 6);
	nats_ping(fd);

	for (i = 0; i < 4; i++) {
		char want[8];

		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		snprintf(want, sizeof(want), i < 3 ? "ev%u" : "legacy", i);
		ck_assert_uint_eq(ev.type, i < 3 ? 5 : 6);
		ck_assert_uint_eq(ev.len, strlen(want));
		ck_assert_mem_eq(ev.data, want, ev.len);
	}
	status_wait(&w, "in", w.b, "published", 4, true);
	ck_assert_uint_eq(status_of("in", w.b, "unknown_version"), 2);
	ck_assert_uint_eq(status_of("in", w.b, "bad_frames"), 2);
	ck_assert_uint_eq(status_of("in", w.b, "frames"), 1);
	ck_assert_uint_eq(status_of("in", w.b, "messages"), 6);
	ck_assert_uint_eq(status_of("in", w.b, "received"), 4);
	ck_assert_uint_eq(status_of("in", w.b, "lost"), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EAGAIN);
	ck_assert(log_has(w.in_log, "a frame of version 2 on"));
	ck_assert(log_has(w.in_log, "reads version 1 only"));
	ck_assert(log_has(w.in_log, "a malformed frame of"));
	close(fd);
	ringcast_sub_detach(sub);
	w.out = 0;
	world_end(&w);
}
END_TEST

/* The output of `ringcast stat RING [--json]`, into a static buffer. */
static const char *stat_of(const char *ring, bool json)
{
	static char buf[65536];
	char cmd[1024];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' stat '%s'%s", ringcast_bin, ring,
		 json ? " --json" : "");
	fflush(NULL);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	return buf;
}

#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr(hay, needle), "no '%s' in:\n%s", needle, hay)

/* `ringcast stat` shows the counters of the ring's running bridges. */
START_TEST(test_bridge_stat)
{
	const uint64_t n = 300;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct world w;
	uint64_t missing;
	char want[512], path[512];
	const char *out;
	pid_t in;

	pub = world_bridged(&w, "stat", "*", &sub);
	publish(pub, 0, n, 0, 0);
	ck_assert_uint_eq(receive(sub, n - 1, all, &missing, 0, 0), n);
	status_wait(&w, "out", w.a, "sent", n, true);
	status_wait(&w, "in", w.b, "published", n, true);

	out = stat_of(w.a, true);
	snprintf(want, sizeof(want),
		 ",\"bridges\":[{\"direction\":\"out\",\"pid\":%d,"
		 "\"alive\":true,\"connected\":true,\"nats\":\"%s\","
		 "\"subject\":\"%s\",\"forwarded\":%" PRIu64
		 ",\"dropped\":0,\"gaps\":0,\"status\":{\"pid\":%d,",
		 (int)w.out, w.url, w.prefix, n, (int)w.out);
	ck_assert_has(out, want);
	snprintf(want, sizeof(want), "\"sent\":%" PRIu64 ",", n);
	ck_assert_has(out, want);
	ck_assert_has(out, "}}]}\n");

	out = stat_of(w.b, true);
	snprintf(want, sizeof(want),
		 ",\"bridges\":[{\"direction\":\"in\",\"pid\":%d,"
		 "\"alive\":true,\"connected\":true,\"nats\":\"%s\","
		 "\"subject\":\"%s\",\"forwarded\":%" PRIu64
		 ",\"dropped\":0,\"gaps\":0,",
		 (int)w.in, w.url, pattern(&w, "*"), n);
	ck_assert_has(out, want);
	snprintf(want, sizeof(want), "\"received\":%" PRIu64 ",", n);
	ck_assert_has(out, want);

	out = stat_of(w.a, false);
	snprintf(want, sizeof(want), "\nbridge_out_sent: %" PRIu64 "\n", n);
	ck_assert_has(out, want);
	ck_assert_has(out, "\nbridge_out_alive: yes\n");

	/* Killed, the bridge leaves its counters: shown as not alive. */
	in = w.in;
	w.in = 0;
	ck_assert_int_eq(kill(in, SIGKILL), 0);
	t_wait(in, WAIT_MS);
	out = stat_of(w.b, true);
	snprintf(want, sizeof(want),
		 "{\"direction\":\"in\",\"pid\":%d,\"alive\":false,", (int)in);
	ck_assert_has(out, want);
	ck_assert_has(stat_of(w.b, false), "\nbridge_in_alive: no\n");
	snprintf(path, sizeof(path), "/dev/shm/ringcast-bridge.in.%s", w.b);
	ck_assert_int_eq(unlink(path), 0);

	ringcast_pub_close(pub);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(t_wait(w.out, WAIT_MS), 0);
	w.out = 0;
	world_end(&w);
}
END_TEST

/* Status files of our rings a crashed test may have left. */
static void cleanup_status(void)
{
	char prefix[64], path[512];
	struct dirent *de;
	DIR *d;

	if (getpid() != t_root_pid)
		return;
	snprintf(prefix, sizeof(prefix), "t-%d-", (int)t_root_pid);
	d = opendir("/dev/shm");
	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *p;

		if (strncmp(de->d_name, "ringcast-bridge.", 16))
			continue;
		p = strchr(de->d_name + 16, '.');
		if (!p || strncmp(p + 1, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		unlink(path);
	}
	closedir(d);
	/* The logs of tests that failed before removing theirs. */
	snprintf(path, sizeof(path), "rm -rf /tmp/rc-bridge-%d",
		 (int)t_root_pid);
	if (system(path))
		fprintf(stderr, "# could not remove /tmp/rc-bridge-%d\n",
			(int)t_root_pid);
}

static Suite *bridge_suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("bridge");

	t_add_cleanup(tc);
	tcase_add_unchecked_fixture(tc, NULL, cleanup_status);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_loop_test(tc, test_bridge_end_to_end, 0, 2);
	tcase_add_loop_test(tc, test_bridge_filter, 0, 2);
	tcase_add_loop_test(tc, test_bridge_max_payload, 0, 2);
	tcase_add_loop_test(tc, test_bridge_large, 0, 2);
	tcase_add_test(tc, test_bridge_restart);
	tcase_add_test(tc, test_bridge_server_late);
	tcase_add_test(tc, test_bridge_stat);
	tcase_add_test(tc, test_bridge_frames);
	tcase_add_loop_test(tc, test_bridge_frame_lone, 0, 2);
	tcase_add_test(tc, test_bridge_bad_frames);
	suite_add_tcase(s, tc);
	return s;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += len;
		if (*path)
			path++;
	}
	return false;
}

int main(void)
{
	bridge_bin = getenv("RINGCAST_BRIDGE");
	if (!bridge_bin || !*bridge_bin) {
		printf("1..0 # SKIP ringcast-bridge was not built "
		       "(the NATS C client, libnats-dev, is not installed)\n");
		return 0;
	}
	ringcast_bin = getenv("RINGCAST_BIN");
	if (!ringcast_bin || !*ringcast_bin) {
		printf("1..0 # SKIP RINGCAST_BIN is not set: run me with "
		       "meson test\n");
		return 0;
	}
	if (!in_path(nats_bin)) {
		printf("1..0 # SKIP nats-server is not installed\n");
		return 0;
	}
	return t_main(bridge_suite());
}
