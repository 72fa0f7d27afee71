// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the test suites: see common.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "sub.h"

pid_t t_root_pid;

#define T_MAX_NAMES 256

/* The rings this process named; only @owner removes them. */
static struct {
	pid_t owner;
	unsigned int count;
	unsigned int next;
	char names[T_MAX_NAMES][RINGCAST_NAME_MAX + 1];
} registry;

static void registry_reset_if_inherited(void)
{
	if (registry.owner != getpid()) {
		registry.owner = getpid();
		registry.count = 0;
		registry.next = 0;
	}
}

const char *t_name(const char *tag)
{
	char *name;
	size_t n, i;

	registry_reset_if_inherited();
	ck_assert_msg(registry.count < T_MAX_NAMES, "too many rings");
	name = registry.names[registry.count++];
	n = (size_t)snprintf(name, RINGCAST_NAME_MAX + 1, "t-%d-%d-%u-",
			     (int)t_root_pid, (int)getpid(), registry.next++);
	for (i = 0; tag[i] && i < 40; i++) {
		char c = tag[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			c = '_';
		name[n++] = c;
	}
	name[n] = '\0';
	return name;
}

const char *t_ring_opts(const char *tag, const struct ringcast_ring_opts *o,
			unsigned int flags)
{
	const char *name = t_name(tag);
	int ret;

	ret = ringcast_ring_create(name, o, flags | RINGCAST_CREATE_EXCL);
	ck_assert_msg(ret == 0, "create %s: %s (%s)", name,
		      ringcast_strerror(ret), ringcast_errdetail());
	return name;
}

const char *t_ring(const char *tag, uint32_t slots, uint32_t slot_size)
{
	struct ringcast_ring_opts o = {
		.slots = slots,
		.slot_size = slot_size,
	};

	return t_ring_opts(tag, &o, 0);
}

void t_cleanup(void)
{
	unsigned int i;

	if (registry.owner != getpid())
		return;
	for (i = 0; i < registry.count; i++)
		ringcast_ring_remove_force(registry.names[i]);
	registry.count = 0;
}

/*
 * remove_prefixed() - unlink every ringcast object of ours in /dev/shm
 * @prefix: "t-<root>-" or "t-<root>-<pid>-"
 * @report: print each one found on stderr
 *
 * Return: how many were found.
 */
static int remove_prefixed(const char *prefix, bool report)
{
	static const char *const kinds[] = { "ringcast.", "ringcast-lock." };
	char want[2][128];
	struct dirent *de;
	int found = 0;
	unsigned int k;
	DIR *d;

	for (k = 0; k < 2; k++)
		snprintf(want[k], sizeof(want[k]), "%s%s", kinds[k], prefix);
	d = opendir("/dev/shm");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		for (k = 0; k < 2; k++) {
			char path[512];

			if (strncmp(de->d_name, want[k], strlen(want[k])))
				continue;
			found++;
			if (report)
				fprintf(stderr, "# left in /dev/shm: %s\n",
					de->d_name);
			if (k == 0)
				ringcast_ring_remove_force(de->d_name +
							   strlen(kinds[0]));
			snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return found;
}

void t_assert_clean(void)
{
	char prefix[64];
	int left;

	t_cleanup();
	snprintf(prefix, sizeof(prefix), "t-%d-%d-", (int)t_root_pid,
		 (int)getpid());
	left = remove_prefixed(prefix, true);
	ck_assert_msg(left == 0, "%d objects named *%s* were left in /dev/shm",
		      left, prefix);
}

/* The unchecked teardown: runs in the runner, also after a crashed test. */
static void cleanup_all(void)
{
	char prefix[64];

	if (getpid() != t_root_pid)
		return;
	snprintf(prefix, sizeof(prefix), "t-%d-", (int)t_root_pid);
	remove_prefixed(prefix, false);
}

void t_add_cleanup(TCase *tc)
{
	tcase_add_unchecked_fixture(tc, NULL, cleanup_all);
}

void t_shm_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "/dev/shm/ringcast.%s", name);
}

bool t_shm_exists(const char *file)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/%s", file);
	return stat(path, &st) == 0;
}

static int open_ring_file(const char *name, int flags)
{
	char path[512];
	int fd;

	t_shm_path(path, sizeof(path), name);
	fd = open(path, flags | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

void t_poke(const char *name, off_t off, const void *buf, size_t len)
{
	int fd = open_ring_file(name, O_RDWR);

	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

void t_peek(const char *name, off_t off, void *buf, size_t len)
{
	int fd = open_ring_file(name, O_RDONLY);

	ck_assert_int_eq(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

void *t_map(const char *name, size_t *sizep)
{
	int fd = open_ring_file(name, O_RDWR);
	struct stat st;
	void *p;

	ck_assert_int_eq(fstat(fd, &st), 0);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	close(fd);
	*sizep = (size_t)st.st_size;
	return p;
}

void t_unmap(void *p, size_t size)
{
	munmap(p, size);
}

void t_stat(const char *name, struct ringcast_ring_stats *info)
{
	int ret = ringcast_ring_get_stats(name, info);

	ck_assert_msg(ret == 0, "stat %s: %s (%s)", name,
		      ringcast_strerror(ret), ringcast_errdetail());
}

struct ringcast_pub *t_pub(const char *name, unsigned int flags)
{
	struct ringcast_pub *pub = NULL;
	int ret = ringcast_pub_attach(name, flags, &pub);

	ck_assert_msg(ret == 0, "pub_attach %s: %s (%s)", name,
		      ringcast_strerror(ret), ringcast_errdetail());
	ck_assert_ptr_nonnull(pub);
	return pub;
}

struct ringcast_sub *
t_sub(const char *name, const struct ringcast_sub_opts *opts, uint64_t *first)
{
	struct ringcast_sub *sub = NULL;
	int ret = ringcast_sub_attach(name, opts, &sub, first);

	ck_assert_msg(ret == 0, "sub_attach %s: %s (%s)", name,
		      ringcast_strerror(ret), ringcast_errdetail());
	ck_assert_ptr_nonnull(sub);
	return sub;
}

static uint64_t payload_word(uint64_t seq)
{
	return (seq + 0x5bd1e995u) * 0x9e3779b97f4a7c15ull;
}

void t_payload(uint64_t seq, void *buf)
{
	uint64_t w[2] = { seq, payload_word(seq) };

	memcpy(buf, w, sizeof(w));
}

void t_payload_batch(struct ringcast_msg *msgs,
		     unsigned char (*buf)[T_PAYLOAD_LEN], uint64_t seq,
		     unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		t_payload(seq + i, buf[i]);
		msgs[i] = (struct ringcast_msg){
			.type = 1,
			.len = T_PAYLOAD_LEN,
			.data = buf[i],
		};
	}
}

bool t_payload_ok(const struct ringcast_event *ev)
{
	uint64_t w[2];

	if (ev->len != T_PAYLOAD_LEN || !ev->data)
		return false;
	memcpy(w, ev->data, sizeof(w));
	return w[0] == ev->seq && w[1] == payload_word(ev->seq);
}

int t_read_stream(struct ringcast_sub *sub, int end, struct t_tally *t)
{
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	int ret;

	t->cursor = t->first;
	t->delivered = 0;
	t->lost = 0;
	t->laps = 0;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		ret = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (ret == 0) {
			if (ev.seq != t->cursor) {
				fprintf(stderr,
					"%d: got seq %llu, expected %llu\n",
					(int)getpid(),
					(unsigned long long)ev.seq,
					(unsigned long long)t->cursor);
				return 1;
			}
			if (!t_payload_ok(&ev)) {
				fprintf(stderr,
					"%d: bad payload at seq %llu (len %u)\n",
					(int)getpid(),
					(unsigned long long)ev.seq, ev.len);
				return 1;
			}
			t->cursor = ev.seq + 1;
			t->delivered++;
		} else if (ret == -EOVERFLOW) {
			if (ev.lost == 0) {
				fprintf(stderr, "%d: -EOVERFLOW, lost 0\n",
					(int)getpid());
				return 1;
			}
			t->cursor += ev.lost;
			t->lost += ev.lost;
			t->laps++;
		} else {
			t->end = ret;
			break;
		}
	}
	if (t->end != end) {
		fprintf(stderr,
			"%d: stream ended with %s at %llu, expected %s\n",
			(int)getpid(), ringcast_strerror(t->end),
			(unsigned long long)t->cursor, ringcast_strerror(end));
		return 1;
	}
	/* The end is sticky. */
	ret = ringcast_sub_next(sub, &ev, 0);
	if (ret != end) {
		fprintf(stderr, "%d: after the end: %s\n", (int)getpid(),
			ringcast_strerror(ret));
		return 1;
	}
	ringcast_sub_get_stats(sub, &st);
	if (st.first != t->first || st.cursor != t->cursor ||
	    st.delivered != t->delivered || st.lost != t->lost ||
	    st.laps != t->laps || st.skipped != 0 ||
	    st.delivered + st.skipped + st.lost != st.cursor - st.first) {
		fprintf(stderr,
			"%d: stats first %llu cursor %llu delivered %llu "
			"skipped %llu lost %llu laps %llu; seen first %llu "
			"cursor %llu delivered %llu lost %llu laps %llu\n",
			(int)getpid(), (unsigned long long)st.first,
			(unsigned long long)st.cursor,
			(unsigned long long)st.delivered,
			(unsigned long long)st.skipped,
			(unsigned long long)st.lost,
			(unsigned long long)st.laps,
			(unsigned long long)t->first,
			(unsigned long long)t->cursor,
			(unsigned long long)t->delivered,
			(unsigned long long)t->lost,
			(unsigned long long)t->laps);
		return 1;
	}
	return 0;
}

pid_t t_fork(int (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		registry_reset_if_inherited();
		_exit(fn(arg));
	}
	return pid;
}

int t_wait(pid_t pid, int timeout_ms)
{
	int status, pfd;
	pid_t r;

	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int n;

		do {
			n = poll(&p, 1, timeout_ms);
		} while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
	}
	do {
		r = waitpid(pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	ck_assert_msg(r == pid, "waitpid %d: %s", (int)pid, strerror(errno));
	return status;
}

const char *t_describe_status(int status, char *buf, size_t size)
{
	if (status == -1)
		snprintf(buf, size, "timed out (killed)");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status %#x", status);
	return buf;
}

void t_child_ok_at(pid_t pid, const char *file, int line)
{
	int status = t_wait(pid, T_CHILD_MS);
	char buf[64];

	ck_assert_msg(status != -1 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0,
		      "%s:%d: child %d: %s (its stderr says why)", file, line,
		      (int)pid, t_describe_status(status, buf, sizeof(buf)));
}

void t_child_killed_at(pid_t pid, int sig, const char *file, int line)
{
	int status = t_wait(pid, T_CHILD_MS);
	char buf[64];

	ck_assert_msg(
		status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig,
		"%s:%d: child %d: %s, expected signal %d", file, line, (int)pid,
		t_describe_status(status, buf, sizeof(buf)), sig);
}

void t_child_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(),
		file, line, expr);
	_exit(1);
}

void t_child_fail_eq(const char *file, int line, const char *a, const char *b,
		     long long va, long long vb)
{
	fprintf(stderr,
		"child %d: %s:%d: check failed: %s == %s (%lld, %lld)\n",
		(int)getpid(), file, line, a, b, va, vb);
	_exit(1);
}

void t_gate_init(struct t_gate *g)
{
	int fd[2];

	ck_assert_int_eq(pipe2(fd, O_CLOEXEC), 0);
	g->rd = fd[0];
	g->wr = fd[1];
}

void t_gate_post_n(struct t_gate *g, int n)
{
	char c = 'x';

	while (n-- > 0) {
		ssize_t w;

		do {
			w = write(g->wr, &c, 1);
		} while (w < 0 && errno == EINTR);
	}
}

void t_gate_post(struct t_gate *g)
{
	t_gate_post_n(g, 1);
}

int t_gate_wait(struct t_gate *g, int n, int timeout_ms)
{
	uint64_t deadline = t_now_ns() + (uint64_t)timeout_ms * 1000000;

	while (n > 0) {
		struct pollfd p = { .fd = g->rd, .events = POLLIN };
		uint64_t now = t_now_ns();
		char buf[64];
		ssize_t r;
		int ret;

		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return -ETIMEDOUT;
		r = read(g->rd, buf,
			 (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		n -= (int)r;
	}
	return 0;
}

void t_gate_close(struct t_gate *g)
{
	if (g->rd >= 0)
		close(g->rd);
	if (g->wr >= 0)
		close(g->wr);
	g->rd = -1;
	g->wr = -1;
}

uint64_t t_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

uint64_t t_env_u64(const char *var, uint64_t def)
{
	const char *s = getenv(var);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return def;
	return v;
}

void *t_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(p, 0, size);
	return p;
}

uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool shm_usable(void)
{
	return access("/dev/shm", W_OK | X_OK) == 0;
}

int t_main(Suite *s)
{
	SRunner *sr;
	int failed;

	t_root_pid = getpid();
	if (!shm_usable()) {
		printf("1..0 # SKIP /dev/shm is not writable\n");
		return 0;
	}
	/* Tests write to pipes whose readers may have died. */
	signal(SIGPIPE, SIG_IGN);
	atexit(t_cleanup);

	sr = srunner_create(s);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup_all();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

uint64_t t_lost_wakes(const struct ringcast_sub *sub)
{
	return sub->lost_wakes;
}
