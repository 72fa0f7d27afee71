// SPDX-License-Identifier: MIT
/*
 * The command-line tool, run as a separate program (RINGCAST_BIN): exit
 * statuses (0 success, 1 runtime error, 2 usage), its messages about bad
 * rings, a pipeline of 'ringcast pub' into 'ringcast sub', reliable
 * subscribers and the deaths of publishers and subscribers, and the
 * observability and housekeeping commands (stat, top, gc).
 *
 * Every process a test starts is recorded until it is reaped; one still
 * running when a test process exits (a failed assertion) is killed, so
 * that nothing outlives a failed test.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

extern char **environ;

/* A command that should end at once: generous for loaded machines. */
#define CLI_MS (30 * 1000)

static const char *ringcast_bin;

/* Processes started and not reaped yet, by the process that started them. */
#define MAX_TRACKED 64
static pid_t tracked[MAX_TRACKED];
static pid_t tracked_owner;

static void track(pid_t pid)
{
	unsigned int i;

	if (tracked_owner != getpid()) {
		memset(tracked, 0, sizeof(tracked));
		tracked_owner = getpid();
	}
	for (i = 0; i < MAX_TRACKED; i++) {
		if (!tracked[i]) {
			tracked[i] = pid;
			return;
		}
	}
	ck_abort_msg("more than %d processes at once", MAX_TRACKED);
}

static void untrack(pid_t pid)
{
	unsigned int i;

	for (i = 0; tracked_owner == getpid() && i < MAX_TRACKED; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
}

/* At exit: kill and reap what this process started and did not reap. */
static void kill_tracked(void)
{
	unsigned int i;

	for (i = 0; tracked_owner == getpid() && i < MAX_TRACKED; i++) {
		if (!tracked[i])
			continue;
		kill(tracked[i], SIGKILL);
		waitpid(tracked[i], NULL, 0);
		tracked[i] = 0;
	}
}

/*
 * struct proc - a running 'ringcast' with pipes on its standard streams
 */
struct proc {
	pid_t pid;
	int in, out, err;
	char *obuf, *ebuf;
	size_t olen, elen;
	int status; /* wait status, or -1: killed after a timeout */
};

static void proc_start(struct proc *p, const char *const *args)
{
	const char *argv[16];
	posix_spawn_file_actions_t fa;
	int in[2], out[2], err[2];
	unsigned int i;

	argv[0] = ringcast_bin;
	for (i = 0; args[i]; i++) {
		ck_assert_uint_lt(i + 2, 16);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	ck_assert_int_eq(posix_spawn(&p->pid, ringcast_bin, &fa, NULL,
				     (char *const *)argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	track(p->pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in = in[1];
	p->out = out[0];
	p->err = err[0];
	p->obuf = calloc(1, 1);
	p->ebuf = calloc(1, 1);
	p->olen = 0;
	p->elen = 0;
	p->status = 0;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * pump() - move data between us and the child until @until (in its
 * stdout) or @until_err (in its stderr) says stop or both its output pipes
 * are at end of file, at most until @deadline
 *
 * Return: true if it stopped for @until or EOF, false on the deadline.
 */
static bool pump(struct proc *p, const char **input, size_t *inlen,
		 uint64_t deadline, const char *until, const char *until_err)
{
	for (;;) {
		struct pollfd fds[3];
		uint64_t now = t_now_ns();
		nfds_t n = 0;
		int ret;
		nfds_t i;

		if (until && strstr(p->obuf, until))
			return true;
		if (until_err && strstr(p->ebuf, until_err))
			return true;
		if (p->out < 0 && p->err < 0)
			return true;
		if (now >= deadline)
			return false;
		if (p->out >= 0)
			fds[n++] = (struct pollfd){ .fd = p->out,
						    .events = POLLIN };
		if (p->err >= 0)
			fds[n++] = (struct pollfd){ .fd = p->err,
						    .events = POLLIN };
		if (p->in >= 0 && input && *inlen)
			fds[n++] = (struct pollfd){ .fd = p->in,
						    .events = POLLOUT };
		ret = poll(fds, n, (int)((deadline - now) / 1000000) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(ret, 0);
		for (i = 0; i < n; i++) {
			char buf[4096];
			ssize_t r;

			if (!fds[i].revents)
				continue;
			if (fds[i].fd == p->in) {
				r = write(p->in, *input, *inlen);
				if (r < 0 && errno != EINTR &&
				    errno != EAGAIN) {
					/* It went away: no more input. */
					*inlen = 0;
				} else if (r > 0) {
					*input += r;
					*inlen -= (size_t)r;
				}
				if (!*inlen) {
					close(p->in);
					p->in = -1;
				}
				continue;
			}
			r = read(fds[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(fds[i].fd);
				if (fds[i].fd == p->out)
					p->out = -1;
				else
					p->err = -1;
				continue;
			}
			if (fds[i].fd == p->out)
				append(&p->obuf, &p->olen, buf, (size_t)r);
			else
				append(&p->ebuf, &p->elen, buf, (size_t)r);
		}
	}
}

/* Read the child's stdout until it holds @needle; false after @ms. */
static bool proc_wait_output(struct proc *p, const char *needle, int ms)
{
	return pump(p, NULL, NULL, t_now_ns() + (uint64_t)ms * 1000000, needle,
		    NULL);
}

/* Read the child's stderr until it holds @needle; false after @ms. */
static bool proc_wait_error(struct proc *p, const char *needle, int ms)
{
	return pump(p, NULL, NULL, t_now_ns() + (uint64_t)ms * 1000000, NULL,
		    needle);
}

/*
 * proc_finish() - feed @input (then end of file), collect the output and
 * reap the child; kill it if it is not done after @ms
 *
 * Return: the wait status, or -1 if it had to be killed.
 */
static int proc_finish(struct proc *p, const char *input, int ms)
{
	uint64_t deadline = t_now_ns() + (uint64_t)ms * 1000000;
	size_t inlen = input ? strlen(input) : 0;
	bool done;

	if (!inlen && p->in >= 0) {
		close(p->in);
		p->in = -1;
	}
	done = pump(p, &input, &inlen, deadline, NULL, NULL);
	if (!done) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &p->status, 0);
		p->status = -1;
	} else {
		uint64_t now = t_now_ns();
		int left = 1;

		if (now < deadline)
			left += (int)((deadline - now) / 1000000);
		p->status = t_wait(p->pid, left);
	}
	untrack(p->pid);
	if (p->in >= 0)
		close(p->in);
	if (p->out >= 0)
		close(p->out);
	if (p->err >= 0)
		close(p->err);
	p->in = p->out = p->err = -1;
	return p->status;
}

static void proc_free(struct proc *p)
{
	free(p->obuf);
	free(p->ebuf);
	p->obuf = p->ebuf = NULL;
}

/* Run a command to its end: its exit code, or -1 for a signal/timeout. */
static int run(struct proc *p, const char *input, int ms,
	       const char *const *args)
{
	int status;

	proc_start(p, args);
	status = proc_finish(p, input, ms);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#define RUN(p, input, ...) \
	run(p, input, CLI_MS, (const char *const[]){ __VA_ARGS__, NULL })

/* Run, check the exit code, and free the output. */
#define EXPECT_EXIT(code, ...)                                                \
	do {                                                                  \
		struct proc p_;                                               \
		int c_ = RUN(&p_, NULL, __VA_ARGS__);                         \
		ck_assert_msg(c_ == (code),                                   \
			      "exit %d, expected %d; stderr: %s", c_, (code), \
			      p_.ebuf);                                       \
		proc_free(&p_);                                               \
	} while (0)

static int ck_multiplier(void)
{
	uint64_t m = t_env_u64("CK_TIMEOUT_MULTIPLIER", 1);

	return m ? (int)m : 1;
}

/* A file in memory holding @content, at offset 0: a child's stdin. */
static int memfile(const char *content, size_t len)
{
	int fd = memfd_create("ringcast-test", MFD_CLOEXEC);
	size_t done = 0;

	ck_assert_int_ge(fd, 0);
	while (done < len) {
		ssize_t r = write(fd, content + done, len - done);

		ck_assert_int_gt(r, 0);
		done += (size_t)r;
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* What a memory file (a child's stderr) holds, as a malloc'd string. */
static char *memfile_read(int fd)
{
	char *buf = NULL;
	size_t len = 0;
	char chunk[4096];
	ssize_t r;
	off_t off = 0;

	buf = calloc(1, 1);
	while ((r = pread(fd, chunk, sizeof(chunk), off)) > 0) {
		append(&buf, &len, chunk, (size_t)r);
		off += r;
	}
	return buf;
}

/* "1\n2\n...n\n", malloc'd; its length in *@len. */
static char *seq_lines(uint64_t n, size_t *len)
{
	char *s = malloc(n * 21 + 1);
	size_t m = 0;
	uint64_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 1; i <= n; i++)
		m += (size_t)sprintf(s + m, "%llu\n", (unsigned long long)i);
	*len = m;
	return s;
}

/*
 * spawn() - start the tool with its standard streams on @in, @out, @err
 * (-1: the test's own)
 */
static pid_t spawn(const char *const *args, int in, int out, int err)
{
	const char *argv[16];
	posix_spawn_file_actions_t fa;
	unsigned int i;
	pid_t pid;

	argv[0] = ringcast_bin;
	for (i = 0; args[i]; i++) {
		ck_assert_uint_lt(i + 2, 16);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (err >= 0)
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	ck_assert_int_eq(posix_spawn(&pid, ringcast_bin, &fa, NULL,
				     (char *const *)argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	track(pid);
	return pid;
}

/* Reap a started process: its wait status, or -1 (killed) after @ms. */
static int reap(pid_t pid, int ms)
{
	int status = t_wait(pid, ms);

	untrack(pid);
	return status;
}

static bool exited(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/*
 * Poll a ring's snapshot (every millisecond) until @pred holds, at most
 * T_WAIT_NS: a bounded wait for a state, not a sleep to synchronise.
 */
static bool wait_ring(const char *name,
		      bool (*pred)(const struct ringcast_ring_stats *info,
				   uint64_t arg),
		      uint64_t arg)
{
	uint64_t deadline = t_now_ns() + T_WAIT_NS * (uint64_t)ck_multiplier();
	struct timespec ms = { .tv_nsec = 1000000 };
	struct ringcast_ring_stats info;

	for (;;) {
		if (ringcast_ring_get_stats(name, &info) == 0 &&
		    pred(&info, arg))
			return true;
		if (t_now_ns() > deadline)
			return false;
		nanosleep(&ms, NULL);
	}
}

static bool subscribers_at_least(const struct ringcast_ring_stats *info,
				 uint64_t n)
{
	return info->subscribers >= n;
}

/* The publisher waits for room at @head: a reliable one is a ring behind. */
static bool blocked_at(const struct ringcast_ring_stats *info, uint64_t head)
{
	return info->head == head && info->blocked > 0;
}

/*
 * struct lines_check - a reader of a subscriber's output, in a child: it
 * must be exactly "1\n2\n...n\n"; with @slow it sleeps 1 ms every 1000
 * lines, a deliberately slow consumer
 */
struct lines_check {
	int fd;
	uint64_t n;
	bool slow;
};

static int check_lines(void *arg)
{
	const struct lines_check *c = arg;
	struct timespec ms = { .tv_nsec = 1000000 };
	char buf[65536], num[24];
	uint64_t want = 1;
	size_t nl = 0;
	ssize_t r, i;

	/* Hold no other pipe: their readers must see their end of file. */
	if (c->fd > 3)
		close_range(3, (unsigned int)c->fd - 1, 0);
	close_range((unsigned int)c->fd + 1, ~0u, 0);
	while ((r = read(c->fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		CHILD_ASSERT(r > 0);
		for (i = 0; i < r; i++) {
			char exp[24];

			if (buf[i] != '\n') {
				CHILD_ASSERT(nl < sizeof(num) - 1);
				num[nl++] = buf[i];
				continue;
			}
			num[nl] = '\0';
			nl = 0;
			snprintf(exp, sizeof(exp), "%llu",
				 (unsigned long long)want);
			if (strcmp(num, exp)) {
				fprintf(stderr, "line %llu is '%s'\n",
					(unsigned long long)want, num);
				return 1;
			}
			if (c->slow && want % 1000 == 0)
				nanosleep(&ms, NULL);
			want++;
		}
	}
	CHILD_ASSERT_EQ(nl, 0);
	CHILD_ASSERT_EQ(want - 1, c->n);
	return 0;
}

/* ---------------------------------------------------------------------- */

START_TEST(test_cli_usage)
{
	EXPECT_EXIT(2, "no-such-command");
	EXPECT_EXIT(2, "create");
	EXPECT_EXIT(2, "create", t_name("bogus"), "--bogus");
	EXPECT_EXIT(2, "create", t_name("slots"), "--slots", "3");
	EXPECT_EXIT(2, "create", t_name("slots"), "--slots", "many");
	EXPECT_EXIT(2, "sub", t_name("from"), "--from", "sideways");
	EXPECT_EXIT(2, "stat");
	EXPECT_EXIT(2, "rm", "a", "b");
	EXPECT_EXIT(0, "--help");
	EXPECT_EXIT(0, "--version");
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_create)
{
	const char *name = t_name("cli-create");
	struct ringcast_ring_stats info;
	struct proc p;
	int code;

	EXPECT_EXIT(0, "create", name, "--slots", "64", "--slot-size", "128");
	t_stat(name, &info);
	ck_assert_uint_eq(info.slots, 64);
	ck_assert_uint_eq(info.slot_size, 128);
	/* Twice: it exists. */
	code = RUN(&p, NULL, "create", name);
	ck_assert_int_eq(code, 1);
	ck_assert_uint_gt(p.elen, 0);
	proc_free(&p);

	/* A bad name: a runtime or a usage error, never success. */
	code = RUN(&p, NULL, "create", "bad/name");
	ck_assert_msg(code == 1 || code == 2, "exit %d", code);
	ck_assert_uint_gt(p.elen, 0);
	proc_free(&p);
	code = RUN(&p, NULL, "create", ".hidden");
	ck_assert_msg(code == 1 || code == 2, "exit %d", code);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_sub_missing)
{
	struct proc p;

	ck_assert_int_eq(RUN(&p, NULL, "sub", t_name("missing")), 1);
	ck_assert_uint_gt(p.elen, 0);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "stat", t_name("missing")), 1);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "rm", t_name("missing")), 1);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------------- */

enum damage { DAMAGE_SUM, DAMAGE_TRUNCATED, DAMAGE_FOREIGN, DAMAGE_VERSION };

static const char *const damage_words[] = {
	[DAMAGE_SUM] = "corrupt",
	[DAMAGE_TRUNCATED] = "truncat",
	[DAMAGE_FOREIGN] = "not a ringcast",
	[DAMAGE_VERSION] = "version",
};

START_TEST(test_cli_sub_bad_ring)
{
	const char *name = t_ring("cli-bad", 64, 64);
	char path[512];
	uint64_t t0, ms;
	struct proc p;
	int fd, code;

	t_shm_path(path, sizeof(path), name);
	switch (_i) {
	case DAMAGE_SUM: {
		uint64_t sum;

		t_peek(name, offsetof(struct rc_hdr, checksum), &sum,
		       sizeof(sum));
		sum ^= 0xff;
		t_poke(name, offsetof(struct rc_hdr, checksum), &sum,
		       sizeof(sum));
		break;
	}
	case DAMAGE_TRUNCATED:
		ck_assert_int_eq(truncate(path, 4096), 0);
		break;
	case DAMAGE_FOREIGN:
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "hello world\n", 12), 12);
		close(fd);
		break;
	case DAMAGE_VERSION: {
		uint32_t v = 77;

		t_poke(name, offsetof(struct rc_hdr, abi_version), &v,
		       sizeof(v));
		break;
	}
	}

	t0 = t_now_ns();
	proc_start(&p, (const char *const[]){ "sub", name, NULL });
	code = proc_finish(&p, NULL, 2000 * ck_multiplier());
	ms = (t_now_ns() - t0) / 1000000;
	ck_assert_msg(code != -1,
		      "sub on a bad ring still running after %llu ms",
		      (unsigned long long)ms);
	ck_assert_msg(WIFEXITED(code) && WEXITSTATUS(code) == 1,
		      "sub on a bad ring: status %#x", code);
	ck_assert_msg(strcasestr(p.ebuf, damage_words[_i]), "'%s' not in: %s",
		      damage_words[_i], p.ebuf);
	proc_free(&p);

	code = RUN(&p, NULL, "stat", name);
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strcasestr(p.ebuf, damage_words[_i]), "'%s' not in: %s",
		      damage_words[_i], p.ebuf);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------------- */

START_TEST(test_cli_pub_long_line)
{
	const char *name = t_name("cli-long");
	struct ringcast_ring_stats info;
	struct proc p;
	int code;

	/* No data area: the largest event is a slot's 32 bytes. */
	EXPECT_EXIT(0, "create", name, "--slot-size", "64", "--data-size", "0");
	code = RUN(&p,
		   "short\n"
		   "this line is longer than thirty-two bytes, by far\n"
		   "after\n",
		   "pub", name);
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strstr(p.ebuf, "line 2 is 49 bytes long, above the "
				     "largest event of 32 bytes"),
		      "stderr: %s", p.ebuf);
	proc_free(&p);

	/* The line before it was published, and the ring closed. */
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 1);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	code = RUN(&p, NULL, "sub", name, "--from", "oldest");
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(p.obuf, "short\n");
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/*
 * --data-size: a power of two from 4k to 4G, or 0 for none; not on a
 * multi-publisher ring.  What create and pub make of it, as stat says.
 */
START_TEST(test_cli_data_size)
{
	const char *name = t_name("cli-data-size");
	struct ringcast_ring_stats info;
	struct proc p;

	EXPECT_EXIT(2, "create", name, "--data-size", "3k");
	EXPECT_EXIT(2, "create", name, "--data-size", "5000");
	EXPECT_EXIT(2, "create", name, "--data-size", "8G");
	EXPECT_EXIT(2, "create", name, "--data-size", "-4096");
	EXPECT_EXIT(2, "create", name, "--data-size", "64X");
	EXPECT_EXIT(2, "create", name, "--data-size");
	EXPECT_EXIT(2, "create", name, "--multi-publisher", "--data-size",
		    "64k");
	EXPECT_EXIT(2, "pub", name, "--data-size", "1000");
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -ENOENT);

	/* The default: a data area of 4 MiB, events up to 1 MiB. */
	EXPECT_EXIT(0, "create", name);
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 4u << 20);
	ck_assert_uint_eq(info.max_event, 1u << 20);
	EXPECT_EXIT(0, "rm", name);

	EXPECT_EXIT(0, "create", name, "--data-size", "4k");
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 4096);
	ck_assert_uint_eq(info.max_event, 1024);
	EXPECT_EXIT(0, "rm", name);

	EXPECT_EXIT(0, "create", name, "--data-size", "0", "--slot-size",
		    "128");
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 0);
	ck_assert_uint_eq(info.max_event, 96);
	/* pub: an existing ring must match a --data-size given. */
	ck_assert_int_eq(RUN(&p, "a\n", "pub", name, "--data-size", "64k"), 1);
	ck_assert_msg(strstr(p.ebuf, "different geometry"), "stderr: %s",
		      p.ebuf);
	proc_free(&p);
	EXPECT_EXIT(0, "rm", name);

	/* pub creates the ring with it. */
	ck_assert_int_eq(RUN(&p, "a\n", "pub", name, "--data-size", "1M"), 0);
	proc_free(&p);
	t_stat(name, &info);
	ck_assert_uint_eq(info.data_size, 1u << 20);
	ck_assert_uint_eq(info.published, 1);
	t_assert_clean();
}
END_TEST

/* stat shows the data area (text, JSON, Prometheus) after a large event. */
START_TEST(test_cli_stat_data)
{
	const char *name = t_name("cli-stat-data");
	char want[RINGCAST_NAME_MAX + 128], *line;
	struct ringcast_ring_stats info;
	struct proc p;
	size_t len = 100000;

	EXPECT_EXIT(0, "create", name, "--data-size", "1M");
	line = malloc(len + 2);
	ck_assert_ptr_nonnull(line);
	memset(line, 'x', len);
	strcpy(line + len, "\n");
	ck_assert_int_eq(RUN(&p, line, "pub", name), 0);
	proc_free(&p);
	free(line);
	t_stat(name, &info);
	ck_assert_uint_ge(info.data_written, len);

	ck_assert_int_eq(RUN(&p, NULL, "stat", name), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\ndata_size: 1048576\n"));
	ck_assert_ptr_nonnull(strstr(p.obuf, "\nmax_event: 262144\n"));
	snprintf(want, sizeof(want), "\ndata_written: %" PRIu64 "\n",
		 info.data_written);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	proc_free(&p);

	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"data_size\":1048576,"));
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"max_event\":262144,"));
	snprintf(want, sizeof(want), "\"data_written\":%" PRIu64 ",",
		 info.data_written);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	proc_free(&p);

	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--format", "prometheus"),
			 0);
	snprintf(want, sizeof(want),
		 "\nringcast_ring_data_size_bytes{ring=\"%s\"} 1048576\n",
		 name);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	snprintf(want, sizeof(want),
		 "\nringcast_ring_max_event_bytes{ring=\"%s\"} 262144\n", name);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	snprintf(want, sizeof(want),
		 "\nringcast_ring_data_written_bytes_total{ring=\"%s\"} "
		 "%" PRIu64 "\n",
		 name, info.data_written);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_pipeline)
{
	const char *name = t_name("cli-pipe");
	struct proc sub, pub;
	char *input, *want;
	size_t n = 0, m = 0;
	int i, code;

	input = malloc(8 * 1000 + 1);
	want = malloc(8 * 1000 + 1);
	for (i = 1; i <= 1000; i++) {
		n += (size_t)sprintf(input + n, "%d\n", i);
		m += (size_t)sprintf(want + m, "%d\n", i);
	}
	EXPECT_EXIT(0, "create", name);
	proc_start(&sub, (const char *const[]){ "sub", name, "--from", "oldest",
						NULL });
	code = run(&pub, input, CLI_MS,
		   (const char *const[]){ "pub", name, NULL });
	ck_assert_msg(code == 0, "pub: exit %d: %s", code, pub.ebuf);
	code = proc_finish(&sub, NULL, CLI_MS);
	ck_assert_msg(code != -1 && WIFEXITED(code) && WEXITSTATUS(code) == 0,
		      "sub: status %#x: %s", code, sub.ebuf);
	ck_assert_uint_eq(sub.olen, m);
	ck_assert_msg(!strcmp(sub.obuf, want), "sub printed something else");
	proc_free(&sub);
	proc_free(&pub);
	free(input);
	free(want);
	t_assert_clean();
}
END_TEST

static bool publishers_at_least(const struct ringcast_ring_stats *info,
				uint64_t n)
{
	return info->publishers >= n;
}

/*
 * Two `ringcast pub` on a multi-publisher ring: the first to reach the end
 * of its input leaves, the last closes; a JSON subscriber sees both
 * streams, each in its order, with the writer's table entry.
 */
START_TEST(test_cli_multi_publisher)
{
	const char *name = t_name("cli-multi");
	struct proc sub, a, b, st;
	char *input_a, *input_b, *line, *save = NULL;
	unsigned int next_a = 1, next_b = 1, i;
	size_t n = 0, m = 0;
	int code;

	input_a = malloc(16 * 300 + 1);
	input_b = malloc(16 * 300 + 1);
	for (i = 1; i <= 300; i++) {
		n += (size_t)sprintf(input_a + n, "a%u\n", i);
		m += (size_t)sprintf(input_b + m, "b%u\n", i);
	}
	EXPECT_EXIT(0, "create", name, "--multi-publisher");
	ck_assert_int_eq(RUN(&st, NULL, "stat", name), 0);
	ck_assert_ptr_nonnull(strstr(st.obuf, "multi_publisher: yes"));
	proc_free(&st);
	proc_start(&sub, (const char *const[]){ "sub", name, "--from", "oldest",
						"--format", "json", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	/* b attaches and waits on its standard input. */
	proc_start(&b, (const char *const[]){ "pub", name, NULL });
	ck_assert(wait_ring(name, publishers_at_least, 1));
	code = run(&a, input_a, CLI_MS,
		   (const char *const[]){ "pub", name, NULL });
	ck_assert_msg(code == 0, "pub a: exit %d: %s", code, a.ebuf);
	/* a left; b is still there, so the ring is live. */
	ck_assert_int_eq(RUN(&st, NULL, "stat", name), 0);
	ck_assert_ptr_nonnull(strstr(st.obuf, "state: live"));
	proc_free(&st);
	code = proc_finish(&b, input_b, CLI_MS);
	ck_assert_msg(exited(code, 0), "pub b: status %#x: %s", code, b.ebuf);
	code = proc_finish(&sub, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "sub: status %#x: %s", code, sub.ebuf);
	for (line = strtok_r(sub.obuf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char want[32];

		ck_assert_ptr_nonnull(strstr(line, "\"publisher\":"));
		if (strstr(line, "\"data\":\"a")) {
			snprintf(want, sizeof(want), "\"data\":\"a%u\"",
				 next_a++);
		} else {
			snprintf(want, sizeof(want), "\"data\":\"b%u\"",
				 next_b++);
		}
		ck_assert_msg(strstr(line, want), "%s: expected %s", line,
			      want);
	}
	ck_assert_uint_eq(next_a, 301);
	ck_assert_uint_eq(next_b, 301);
	proc_free(&sub);
	proc_free(&a);
	proc_free(&b);
	free(input_a);
	free(input_b);
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_sub_count)
{
	const char *name = t_name("cli-count");
	struct proc p;

	ck_assert_int_eq(RUN(&p, "a\nb\nc\nd\ne\n", "pub", name), 0);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "sub", name, "--from", "oldest",
			     "--count", "3"),
			 0);
	ck_assert_str_eq(p.obuf, "a\nb\nc\n");
	proc_free(&p);
	ck_assert_int_eq(
		RUN(&p, NULL, "sub", name, "--from", "1", "--count", "2"), 0);
	ck_assert_str_eq(p.obuf, "b\nc\n");
	proc_free(&p);
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_sub_timeout)
{
	const char *name = t_name("cli-idle");
	struct proc p;

	EXPECT_EXIT(0, "create", name);
	ck_assert_int_eq(RUN(&p, NULL, "sub", name, "--timeout", "0.2"), 1);
	ck_assert_uint_eq(p.olen, 0);
	ck_assert_uint_gt(p.elen, 0);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/* A publisher killed with SIGKILL: the subscriber says so and fails. */
START_TEST(test_cli_publisher_killed)
{
	const char *name = t_name("cli-killed");
	struct proc sub, pub;
	int code;

	EXPECT_EXIT(0, "create", name);
	proc_start(&sub, (const char *const[]){ "sub", name, "--from", "oldest",
						NULL });
	proc_start(&pub, (const char *const[]){ "pub", name, NULL });
	ck_assert_int_eq(write(pub.in, "alive\n", 6), 6);
	ck_assert_msg(proc_wait_output(&sub, "alive\n", CLI_MS),
		      "the line did not arrive: %s", sub.ebuf);
	kill(pub.pid, SIGKILL);
	code = proc_finish(&pub, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code));
	code = proc_finish(&sub, NULL, CLI_MS);
	ck_assert_msg(code != -1 && WIFEXITED(code) && WEXITSTATUS(code) == 1,
		      "sub: status %#x", code);
	ck_assert_str_eq(sub.obuf, "alive\n");
	ck_assert_msg(strstr(sub.ebuf, "died"), "stderr: %s", sub.ebuf);
	proc_free(&sub);
	proc_free(&pub);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------------- */

START_TEST(test_cli_stat_json)
{
	const char *name = t_name("cli-json");
	struct proc p;
	const char *s, *e;
	int depth = 0;

	EXPECT_EXIT(0, "create", name, "--slots", "32");
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	for (s = p.obuf; *s == ' ' || *s == '\n'; s++)
		;
	for (e = p.obuf + p.olen; e > s && (e[-1] == ' ' || e[-1] == '\n'); e--)
		;
	ck_assert_msg(e > s && *s == '{' && e[-1] == '}', "not an object: %s",
		      p.obuf);
	/* One object: the first '{' closes at the very end. */
	for (; s < e; s++) {
		if (*s == '"') {
			for (s++; s < e && *s != '"'; s++)
				if (*s == '\\')
					s++;
			continue;
		}
		if (*s == '{' || *s == '[')
			depth++;
		if (*s == '}' || *s == ']')
			depth--;
		ck_assert_msg(depth > 0 || s == e - 1,
			      "more than one value: %s", p.obuf);
	}
	ck_assert_int_eq(depth, 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"slots\""));
	ck_assert_ptr_nonnull(strstr(p.obuf, "32"));
	proc_free(&p);

	/* Plain text too. */
	ck_assert_int_eq(RUN(&p, NULL, "stat", name), 0);
	ck_assert_uint_gt(p.olen, 0);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/* stat --format: json as --json, prometheus with a counter's value. */
START_TEST(test_cli_stat_format)
{
	const char *name = t_name("cli-stat-format");
	char want[RINGCAST_NAME_MAX + 64], *json;
	struct proc p;

	EXPECT_EXIT(0, "create", name, "--slots", "32");
	ck_assert_int_eq(RUN(&p, "a\n", "pub", name), 0);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	json = strdup(p.obuf);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--format", "json"), 0);
	ck_assert_str_eq(p.obuf, json);
	free(json);
	proc_free(&p);

	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--format", "prometheus"),
			 0);
	snprintf(want, sizeof(want),
		 "\nringcast_ring_published_total{ring=\"%s\"} 1\n", name);
	ck_assert_msg(strstr(p.obuf, want), "no '%s' in: %s", want, p.obuf);
	ck_assert_ptr_nonnull(strstr(
		p.obuf, "# TYPE ringcast_ring_published_total counter\n"));
	proc_free(&p);
	EXPECT_EXIT(2, "stat", name, "--format", "xml");
	EXPECT_EXIT(0, "stat", name, "--format", "text");
	t_assert_clean();
}
END_TEST

/*
 * The objects of the array "subscribers" of 'stat --json', each as a
 * string of its own (malloc'd, NULL-terminated list).
 */
static char **json_subscribers(const char *json)
{
	const char *s = strstr(json, "\"subscribers\":[");
	char **objs = calloc(1, sizeof(*objs));
	size_t n = 0;

	ck_assert_msg(s, "no subscribers array in: %s", json);
	s += strlen("\"subscribers\":[");
	while (*s == '{') {
		const char *e = strchr(s, '}');

		ck_assert_ptr_nonnull(e);
		objs = realloc(objs, (n + 2) * sizeof(*objs));
		objs[n++] = strndup(s, (size_t)(e - s + 1));
		objs[n] = NULL;
		s = e + 1;
		if (*s == ',')
			s++;
	}
	ck_assert_msg(*s == ']', "subscribers array not closed: %s", json);
	return objs;
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* The entry of @v that holds @needle, or NULL. */
static const char *strv_find(char **v, const char *needle)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (strstr(v[i], needle))
			return v[i];
	return NULL;
}

/* stat lists the table: a reliable and a filtered lossy 'ringcast sub'. */
START_TEST(test_cli_stat_subscribers)
{
	const char *name = t_ring("cli-stat-subs", 64, 0);
	struct proc rel, lossy, p;
	char want_pid[32], **objs;
	const char *o;
	int code;

	proc_start(&rel,
		   (const char *const[]){ "sub", name, "--reliable", NULL });
	proc_start(&lossy,
		   (const char *const[]){ "sub", name, "--types", "3", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 2));

	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"reliable\":1,"));
	objs = json_subscribers(p.obuf);
	ck_assert_uint_eq(strv_len(objs), 2);
	o = strv_find(objs, "\"mode\":\"reliable\"");
	ck_assert_msg(o, "no reliable subscriber: %s", p.obuf);
	snprintf(want_pid, sizeof(want_pid), "\"pid\":%d,", (int)rel.pid);
	ck_assert_msg(strstr(o, want_pid), "not %s: %s", want_pid, o);
	ck_assert_ptr_nonnull(strstr(o, "\"alive\":true"));
	ck_assert_ptr_nonnull(strstr(o, "\"reliable\":true"));
	ck_assert_ptr_nonnull(strstr(o, "\"demoted\":false"));
	ck_assert_ptr_nonnull(strstr(o, "\"filtered\":false"));
	o = strv_find(objs, "\"mode\":\"lossy\"");
	ck_assert_msg(o, "no lossy subscriber: %s", p.obuf);
	snprintf(want_pid, sizeof(want_pid), "\"pid\":%d,", (int)lossy.pid);
	ck_assert_msg(strstr(o, want_pid), "not %s: %s", want_pid, o);
	ck_assert_ptr_nonnull(strstr(o, "\"alive\":true"));
	ck_assert_ptr_nonnull(strstr(o, "\"reliable\":false"));
	ck_assert_ptr_nonnull(strstr(o, "\"demoted\":false"));
	ck_assert_ptr_nonnull(strstr(o, "\"filtered\":true"));
	free_strv(objs);
	proc_free(&p);

	/* The text table: a row per subscriber. */
	ck_assert_int_eq(RUN(&p, NULL, "stat", name), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\nreliable: 1\n"));
	ck_assert_ptr_nonnull(strstr(p.obuf, " reliable "));
	ck_assert_ptr_nonnull(strstr(p.obuf, " lossy "));
	proc_free(&p);

	/* Stopped by a signal, they leave the table. */
	kill(rel.pid, SIGTERM);
	kill(lossy.pid, SIGTERM);
	code = proc_finish(&rel, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code));
	code = proc_finish(&lossy, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code));
	proc_free(&rel);
	proc_free(&lossy);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_msg(strstr(p.obuf, "\"subscribers\":[]"), "%s", p.obuf);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

START_TEST(test_cli_create_demote_after)
{
	const char *name = t_name("cli-demote-opt");
	struct ringcast_ring_stats info;
	struct proc p;

	EXPECT_EXIT(2, "create", name, "--demote-after", "soon");
	EXPECT_EXIT(2, "create", name, "--demote-after", "-1");
	EXPECT_EXIT(2, "sub", name, "--demote-after", "1");
	EXPECT_EXIT(2, "sub", name, "--reliable", "--demote-after", "0");
	EXPECT_EXIT(2, "pub", name, "--wait-subscribers", "x");
	EXPECT_EXIT(2, "pub", name, "--timeout", "x");

	EXPECT_EXIT(0, "create", name, "--demote-after", "2.5");
	t_stat(name, &info);
	ck_assert_uint_eq(info.demote_ns, 2500000000ull);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name), 0);
	ck_assert_msg(strstr(p.obuf, "\ndemote_ns: 2500000000\n"), "%s",
		      p.obuf);
	proc_free(&p);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_msg(strstr(p.obuf, "\"demote_ns\":2500000000,"), "%s",
		      p.obuf);
	proc_free(&p);

	/* Absent: never demote. */
	name = t_name("cli-demote-none");
	EXPECT_EXIT(0, "create", name);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name), 0);
	ck_assert_msg(strstr(p.obuf, "\ndemote_ns: 0\n"), "%s", p.obuf);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/* pub --wait-subscribers 2 publishes nothing before two have attached. */
START_TEST(test_cli_pub_wait_subscribers)
{
	const char *name = t_name("cli-wait-subs");
	struct ringcast_ring_stats info;
	struct proc pub, s1, s2;
	int code;

	EXPECT_EXIT(0, "create", name);
	proc_start(&pub,
		   (const char *const[]){ "pub", name, "--wait-subscribers",
					  "2", NULL });
	ck_assert_int_eq(write(pub.in, "a\nb\n", 4), 4);
	close(pub.in);
	pub.in = -1;
	ck_assert_msg(proc_wait_error(&pub, "waiting for 2 subscribers",
				      CLI_MS),
		      "stderr: %s", pub.ebuf);

	proc_start(&s1, (const char *const[]){ "sub", name, "--from", "oldest",
					       NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	/* One is not enough (not a proof: the publisher may be slow). */
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 0);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);

	proc_start(&s2, (const char *const[]){ "sub", name, "--from", "oldest",
					       "--reliable", NULL });
	code = proc_finish(&pub, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "pub: status %#x: %s", code, pub.ebuf);
	code = proc_finish(&s1, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "sub: status %#x: %s", code, s1.ebuf);
	ck_assert_str_eq(s1.obuf, "a\nb\n");
	code = proc_finish(&s2, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "sub: status %#x: %s", code, s2.ebuf);
	ck_assert_str_eq(s2.obuf, "a\nb\n");
	proc_free(&pub);
	proc_free(&s1);
	proc_free(&s2);

	/* With --timeout: gives up, status 1. */
	name = t_name("cli-wait-subs-timeout");
	EXPECT_EXIT(0, "create", name);
	code = RUN(&pub, "x\n", "pub", name, "--wait-subscribers", "1",
		   "--timeout", "0.1");
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strstr(pub.ebuf, "fewer than 1 subscribers"), "%s",
		      pub.ebuf);
	proc_free(&pub);
	t_assert_clean();
}
END_TEST

/* A reliable subscriber needs a table entry: a full table is an error. */
START_TEST(test_cli_reliable_table_full)
{
	const char *name = t_name("cli-table-full");
	struct proc first, p;
	int code;

	EXPECT_EXIT(0, "create", name, "--max-subscribers", "1");
	proc_start(&first,
		   (const char *const[]){ "sub", name, "--reliable", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	ck_assert_int_eq(RUN(&p, NULL, "sub", name, "--reliable"), 1);
	ck_assert_msg(strstr(p.ebuf, "subscriber table is full"), "%s", p.ebuf);
	proc_free(&p);
	kill(first.pid, SIGTERM);
	code = proc_finish(&first, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code));
	proc_free(&first);
	t_assert_clean();
}
END_TEST

/*
 * The scenario: three reliable 'ringcast sub' of a 64-slot ring,
 * one of them read by a deliberately slow consumer, then 'seq 1 N |
 * ringcast pub X --wait-subscribers 3': each prints exactly the N lines,
 * in order.  N is RINGCAST_CLI_LINES, by default the 1000000 (a
 * few seconds here, 17 s for the whole suite beside four busy loops on
 * two cores).
 */
START_TEST(test_cli_reliable_three)
{
	const char *name = t_name("cli-reliable-3");
	uint64_t n = t_env_u64("RINGCAST_CLI_LINES", 1000000);
	struct lines_check chk[3];
	pid_t sub[3], checker[3], pub;
	int err[4], in, i, status;
	size_t len;
	char *lines, *msg;

	EXPECT_EXIT(0, "create", name, "--slots", "64");
	for (i = 0; i < 3; i++) {
		int p[2];

		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		err[i] = memfile("", 0);
		sub[i] =
			spawn((const char *const[]){ "sub", name, "--reliable",
						     "--from", "oldest", NULL },
			      -1, p[1], err[i]);
		close(p[1]);
		chk[i] = (struct lines_check){ .fd = p[0],
					       .n = n,
					       .slow = i == 2 };
		checker[i] = t_fork(check_lines, &chk[i]);
		close(p[0]);
	}
	lines = seq_lines(n, &len);
	in = memfile(lines, len);
	free(lines);
	err[3] = memfile("", 0);
	pub = spawn((const char *const[]){ "pub", name, "--wait-subscribers",
					   "3", NULL },
		    in, -1, err[3]);
	close(in);

	status = reap(pub, T_CHILD_MS);
	msg = memfile_read(err[3]);
	ck_assert_msg(exited(status, 0), "pub: status %#x: %s", status, msg);
	free(msg);
	for (i = 0; i < 3; i++) {
		status = reap(sub[i], T_CHILD_MS);
		msg = memfile_read(err[i]);
		ck_assert_msg(exited(status, 0), "sub %d: status %#x: %s", i,
			      status, msg);
		ck_assert_msg(!*msg, "sub %d said: %s", i, msg);
		free(msg);
		t_child_ok(checker[i]);
	}
	for (i = 0; i < 4; i++)
		close(err[i]);
	t_assert_clean();
}
END_TEST

/*
 * kill -9 of the publisher: every 'ringcast sub', reliable or not, exits 1
 * within 2 seconds, saying that the publisher died.
 */
START_TEST(test_cli_publisher_killed_subs)
{
	const char *name = t_name("cli-pub-killed");
	struct proc sub[3], pub;
	uint64_t t0, ms;
	int i, code;

	EXPECT_EXIT(0, "create", name, "--slots", "64");
	for (i = 0; i < 3; i++)
		proc_start(&sub[i],
			   (const char *const[]){
				   "sub", name, "--from", "oldest",
				   i < 2 ? "--reliable" : "--strategy=spin",
				   NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 3));
	proc_start(&pub, (const char *const[]){ "pub", name, NULL });
	ck_assert_int_eq(write(pub.in, "alive\n", 6), 6);
	for (i = 0; i < 3; i++)
		ck_assert_msg(proc_wait_output(&sub[i], "alive\n", CLI_MS),
			      "the line did not arrive: %s", sub[i].ebuf);

	kill(pub.pid, SIGKILL);
	t0 = t_now_ns();
	for (i = 0; i < 3; i++) {
		code = proc_finish(&sub[i], NULL, CLI_MS);
		ck_assert_msg(exited(code, 1), "sub %d: status %#x", i, code);
		ck_assert_str_eq(sub[i].obuf, "alive\n");
		ck_assert_msg(strstr(sub[i].ebuf, "publisher died"),
			      "stderr: %s", sub[i].ebuf);
	}
	ms = (t_now_ns() - t0) / 1000000;
	ck_assert_msg(ms <= 2000u * (unsigned int)ck_multiplier(),
		      "the subscribers took %llu ms to see the death",
		      (unsigned long long)ms);
	code = proc_finish(&pub, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code));
	for (i = 0; i < 3; i++)
		proc_free(&sub[i]);
	proc_free(&pub);
	t_assert_clean();
}
END_TEST

/*
 * A reliable subscriber that blocks the publisher (stopped, so it reads
 * nothing) is killed with SIGKILL: the publisher goes on within a second,
 * and another reliable subscriber loses nothing.
 */
START_TEST(test_cli_reliable_sub_killed)
{
	const char *name = t_name("cli-sub-killed");
	struct proc stuck, good, pub, p;
	size_t len;
	char *lines;
	uint64_t t0, ms;
	int code;

	EXPECT_EXIT(0, "create", name, "--slots", "64");
	proc_start(&stuck, (const char *const[]){ "sub", name, "--reliable",
						  "--from", "oldest", NULL });
	proc_start(&good, (const char *const[]){ "sub", name, "--reliable",
						 "--from", "oldest", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 2));
	kill(stuck.pid, SIGSTOP);

	lines = seq_lines(1000, &len);
	proc_start(&pub, (const char *const[]){ "pub", name, NULL });
	/* 1000 short lines fit in the pipe. */
	ck_assert_int_eq(write(pub.in, lines, len), (ssize_t)len);
	close(pub.in);
	pub.in = -1;
	ck_assert_msg(wait_ring(name, blocked_at, 64),
		      "the publisher did not block a ring ahead");
	ck_assert_msg(proc_wait_output(&good, "\n64\n", CLI_MS),
		      "the first 64 did not arrive: %s", good.ebuf);
	/* top points at the one that holds the publisher back. */
	ck_assert_int_eq(RUN(&p, NULL, "top", name, "--iterations", "1"), 0);
	ck_assert_msg(strstr(p.obuf, "holds the publisher"), "%s", p.obuf);
	proc_free(&p);

	kill(stuck.pid, SIGKILL);
	t0 = t_now_ns();
	ck_assert_msg(proc_wait_output(&good, "\n65\n", CLI_MS),
		      "the publisher did not go on: %s", good.ebuf);
	ms = (t_now_ns() - t0) / 1000000;
	ck_assert_msg(ms <= 1000u * (unsigned int)ck_multiplier(),
		      "the publisher was freed after %llu ms",
		      (unsigned long long)ms);

	code = proc_finish(&pub, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "pub: status %#x: %s", code, pub.ebuf);
	code = proc_finish(&good, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "sub: status %#x: %s", code, good.ebuf);
	ck_assert_msg(!strcmp(good.obuf, lines), "the reliable one lost some");
	code = proc_finish(&stuck, NULL, CLI_MS);
	ck_assert(code != -1 && WIFSIGNALED(code) && WTERMSIG(code) == SIGKILL);
	free(lines);
	proc_free(&stuck);
	proc_free(&good);
	proc_free(&pub);
	t_assert_clean();
}
END_TEST

/*
 * A publisher blocked by a stopped reliable subscriber: --timeout gives up
 * (status 1, the ring closed); SIGTERM ends it at once, by that signal,
 * leaving the ring as if it died.
 */
START_TEST(test_cli_pub_blocked_ends)
{
	const char *name = t_name("cli-pub-blocked");
	struct ringcast_ring_stats info;
	struct proc stuck, pub;
	size_t len;
	char *lines;
	int code;

	EXPECT_EXIT(0, "create", name, "--slots", "64");
	proc_start(&stuck, (const char *const[]){ "sub", name, "--reliable",
						  "--from", "oldest", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	kill(stuck.pid, SIGSTOP);
	lines = seq_lines(200, &len);

	code = RUN(&pub, lines, "pub", name, "--timeout", "0.2");
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strstr(pub.ebuf, "no room within 0.2 seconds"), "%s",
		      pub.ebuf);
	proc_free(&pub);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.head, 64);

	/* Again, on a ring of its own, stopped by SIGTERM. */
	kill(stuck.pid, SIGKILL);
	proc_finish(&stuck, NULL, CLI_MS);
	proc_free(&stuck);
	name = t_name("cli-pub-sigterm");
	EXPECT_EXIT(0, "create", name, "--slots", "64");
	proc_start(&stuck, (const char *const[]){ "sub", name, "--reliable",
						  "--from", "oldest", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	kill(stuck.pid, SIGSTOP);
	proc_start(&pub, (const char *const[]){ "pub", name, NULL });
	ck_assert_int_eq(write(pub.in, lines, len), (ssize_t)len);
	ck_assert(wait_ring(name, blocked_at, 64));
	kill(pub.pid, SIGTERM);
	code = proc_finish(&pub, NULL, CLI_MS);
	ck_assert_msg(code != -1 && WIFSIGNALED(code) &&
			      WTERMSIG(code) == SIGTERM,
		      "pub: status %#x: %s", code, pub.ebuf);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	ck_assert_int_eq(info.publisher_alive, 0);

	kill(stuck.pid, SIGKILL);
	proc_finish(&stuck, NULL, CLI_MS);
	proc_free(&stuck);
	proc_free(&pub);
	free(lines);
	t_assert_clean();
}
END_TEST

/*
 * create --demote-after (_i 0), or the subscriber's own sub --demote-after
 * (_i 1): a stopped reliable subscriber is demoted, stat shows it, and
 * once it runs again it says so and goes on as lossy.
 */
START_TEST(test_cli_demoted)
{
	const char *name = t_name("cli-demoted");
	struct ringcast_ring_stats info;
	struct proc stuck, pub, p;
	char **objs;
	size_t len;
	char *lines;
	int code;

	if (_i == 0) {
		EXPECT_EXIT(0, "create", name, "--slots", "64",
			    "--demote-after", "0.2");
		proc_start(&stuck,
			   (const char *const[]){ "sub", name, "--reliable",
						  "--from", "oldest", NULL });
	} else {
		EXPECT_EXIT(0, "create", name, "--slots", "64");
		proc_start(&stuck,
			   (const char *const[]){ "sub", name, "--reliable",
						  "--demote-after", "0.2",
						  "--from", "oldest", NULL });
	}
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	kill(stuck.pid, SIGSTOP);

	lines = seq_lines(1000, &len);
	code = RUN(&pub, lines, "pub", name);
	ck_assert_msg(code == 0, "pub: exit %d: %s", code, pub.ebuf);
	proc_free(&pub);
	t_stat(name, &info);
	ck_assert_uint_eq(info.demotions, 1);
	ck_assert_uint_ge(info.blocked, 1);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	objs = json_subscribers(p.obuf);
	ck_assert_uint_eq(strv_len(objs), 1);
	ck_assert_msg(strstr(objs[0], "\"mode\":\"demoted\""), "%s", objs[0]);
	ck_assert_msg(strstr(objs[0], "\"demoted\":true"), "%s", objs[0]);
	free_strv(objs);
	proc_free(&p);

	kill(stuck.pid, SIGCONT);
	code = proc_finish(&stuck, NULL, CLI_MS);
	ck_assert_msg(exited(code, 0), "sub: status %#x: %s", code, stuck.ebuf);
	ck_assert_msg(strstr(stuck.ebuf, "demoted to lossy"), "%s", stuck.ebuf);
	ck_assert_msg(strstr(stuck.ebuf, "lost "), "%s", stuck.ebuf);
	/* It read the last half ring, up to the end. */
	ck_assert_msg(strstr(stuck.obuf, "\n1000\n"), "%s", stuck.obuf);
	proc_free(&stuck);
	free(lines);
	t_assert_clean();
}
END_TEST

/* A snapshot of top, from @s to @end, shows the ring and its subscriber. */
static void check_snapshot(const char *s, const char *end, const char *name)
{
	char *snap = strndup(s, (size_t)(end - s));

	ck_assert_msg(strstr(snap, name), "no ring in: %s", snap);
	ck_assert_msg(strstr(snap, " reliable "), "no subscriber in: %s", snap);
	free(snap);
}

/* top, its output a pipe: N snapshots, plain text, naming the ring. */
START_TEST(test_cli_top_snapshots)
{
	const char *name = t_ring("cli-top", 64, 0);
	const char *s, *frame2;
	struct proc sub, p;
	int code;

	proc_start(&sub,
		   (const char *const[]){ "sub", name, "--reliable", NULL });
	ck_assert(wait_ring(name, subscribers_at_least, 1));
	code = RUN(&p, NULL, "top", name, "--iterations", "2", "--interval",
		   "0.05");
	ck_assert_msg(code == 0, "top: exit %d: %s", code, p.ebuf);
	ck_assert_msg(!strchr(p.obuf, '\033'), "escapes in: %s", p.obuf);
	/* Two snapshots, each naming the ring and its subscriber. */
	s = strstr(p.obuf, "ringcast top");
	ck_assert_msg(s == p.obuf, "%s", p.obuf);
	frame2 = strstr(s + 1, "ringcast top");
	ck_assert_msg(frame2, "one snapshot only: %s", p.obuf);
	ck_assert_ptr_null(strstr(frame2 + 1, "ringcast top"));
	check_snapshot(p.obuf, frame2, name);
	check_snapshot(frame2, p.obuf + p.olen, name);
	proc_free(&p);

	/* A ring named that is not there is an error. */
	code = RUN(&p, NULL, "top", name, t_name("cli-top-missing"),
		   "--iterations", "1");
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strstr(p.ebuf, "cli-top-missing"), "%s", p.ebuf);
	proc_free(&p);
	EXPECT_EXIT(2, "top", "--interval", "0");

	kill(sub.pid, SIGTERM);
	proc_finish(&sub, NULL, CLI_MS);
	proc_free(&sub);
	t_assert_clean();
}
END_TEST

/* In a child: publish one event and die without closing the ring. */
static int publish_and_die(void *arg)
{
	const char *name = arg;
	struct ringcast_pub *pub;

	CHILD_ASSERT(ringcast_pub_attach(name, 0, &pub) == 0);
	CHILD_ASSERT(ringcast_pub_publish(pub, 0, "x", 1) >= 0);
	_exit(0); /* the kernel drops the lease */
}

/* In a child: attach a subscriber and die without detaching. */
static int subscribe_and_die(void *arg)
{
	const char *name = arg;
	struct ringcast_sub *sub;

	CHILD_ASSERT(ringcast_sub_attach(name, NULL, &sub, NULL) == 0);
	_exit(0);
}

static bool ring_exists(const char *name)
{
	char file[256];

	snprintf(file, sizeof(file), "ringcast.%s", name);
	return t_shm_exists(file);
}

/*
 * gc removes a ring whose publisher died and whose subscribers are gone
 * (dead ones too), and keeps a ring that waits for its first publisher, a
 * ring with a live subscriber and a closed ring; --dry-run removes
 * nothing.  gc is given the names: other rings of this machine are none
 * of a test's business.
 */
START_TEST(test_cli_gc)
{
	const char *dead = t_ring("cli-gc-dead", 64, 0);
	const char *created = t_ring("cli-gc-created", 64, 0);
	const char *watched = t_ring("cli-gc-watched", 64, 0);
	const char *closed = t_ring("cli-gc-closed", 64, 0);
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub;
	char line[512];
	struct proc p;

	t_child_ok(t_fork(subscribe_and_die, (void *)dead));
	t_child_ok(t_fork(publish_and_die, (void *)dead));
	t_child_ok(t_fork(publish_and_die, (void *)watched));
	sub = t_sub(watched, NULL, NULL);
	ck_assert_int_eq(RUN(&p, "bye\n", "pub", closed), 0);
	proc_free(&p);
	t_stat(dead, &info);

	ck_assert_int_eq(RUN(&p, NULL, "gc", "--dry-run", dead, created,
			     watched, closed),
			 0);
	snprintf(line, sizeof(line), "would remove %s (", dead);
	ck_assert_msg(strstr(p.obuf, line), "%s", p.obuf);
	snprintf(line, sizeof(line), "%llu bytes",
		 (unsigned long long)info.size);
	ck_assert_msg(strstr(p.obuf, line), "%s", p.obuf);
	ck_assert_msg(strstr(p.obuf, "would remove 1 ring,"), "%s", p.obuf);
	ck_assert_ptr_null(strstr(p.obuf, created));
	ck_assert_ptr_null(strstr(p.obuf, watched));
	ck_assert_ptr_null(strstr(p.obuf, closed));
	proc_free(&p);
	ck_assert(ring_exists(dead));

	ck_assert_int_eq(RUN(&p, NULL, "gc", dead, created, watched, closed),
			 0);
	snprintf(line, sizeof(line), "removed %s (", dead);
	ck_assert_msg(strstr(p.obuf, line), "%s", p.obuf);
	snprintf(line, sizeof(line), "removed 1 ring, %llu bytes freed",
		 (unsigned long long)info.size);
	ck_assert_msg(strstr(p.obuf, line), "%s", p.obuf);
	proc_free(&p);
	ck_assert(!ring_exists(dead));
	ck_assert(ring_exists(created));
	ck_assert(ring_exists(watched));
	ck_assert(ring_exists(closed));

	/* Its last subscriber gone, the abandoned ring is garbage too. */
	ringcast_sub_detach(sub);
	ck_assert_int_eq(RUN(&p, NULL, "gc", watched, created), 0);
	ck_assert_msg(strstr(p.obuf, "removed 1 ring,"), "%s", p.obuf);
	proc_free(&p);
	ck_assert(!ring_exists(watched));
	ck_assert(ring_exists(created));

	/* A ring named that is not there is an error; the others go on. */
	EXPECT_EXIT(1, "gc", dead);
	t_assert_clean();
}
END_TEST

/* In a child: attach a durable subscriber and die without detaching. */
static int durable_and_die(void *arg)
{
	struct ringcast_sub_opts so = { .flags = RINGCAST_SUB_RELIABLE };
	const char *name = arg;
	struct ringcast_sub *sub;

	CHILD_ASSERT(ringcast_sub_attach_durable(name, 42, &so, &sub, NULL) ==
		     0);
	_exit(0);
}

/*
 * A durable subscriber that died: stat shows it (mode durable, dead), gc
 * keeps its ring (it comes back for the events), gc --durable lets go of
 * it first and then removes the ring.
 */
START_TEST(test_cli_gc_durable)
{
	const char *name = t_ring("cli-gc-durable", 64, 0);
	struct proc p;

	t_child_ok(t_fork(publish_and_die, (void *)name));
	t_child_ok(t_fork(durable_and_die, (void *)name));
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_msg(strstr(p.obuf, "\"alive\":false,\"mode\":\"durable\""),
		      "%s", p.obuf);
	proc_free(&p);

	ck_assert_int_eq(RUN(&p, NULL, "gc", name), 0);
	ck_assert_msg(strstr(p.obuf, "removed 0 rings,"), "%s", p.obuf);
	proc_free(&p);
	ck_assert(ring_exists(name));

	ck_assert_int_eq(RUN(&p, NULL, "gc", "--durable", "--dry-run", name),
			 0);
	ck_assert_msg(strstr(p.obuf, "would release 1 durable subscriber of"),
		      "%s", p.obuf);
	ck_assert_msg(strstr(p.obuf, "would remove 1 ring,"), "%s", p.obuf);
	proc_free(&p);
	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 1);

	ck_assert_int_eq(RUN(&p, NULL, "gc", "--durable", name), 0);
	ck_assert_msg(strstr(p.obuf, "released 1 durable subscriber of"), "%s",
		      p.obuf);
	ck_assert_msg(strstr(p.obuf, "removed 1 ring,"), "%s", p.obuf);
	proc_free(&p);
	ck_assert(!ring_exists(name));
	t_assert_clean();
}
END_TEST

/* bench runs the driver RINGCAST_BENCH names, with every argument. */
START_TEST(test_cli_bench)
{
	static const char echo[] = "/bin/echo";
	struct proc p;

	if (access(echo, X_OK))
		return; /* nothing to stand in for the driver */
	setenv("RINGCAST_BENCH", echo, 1);
	ck_assert_int_eq(RUN(&p, NULL, "bench", "--size", "64", "x"), 0);
	ck_assert_str_eq(p.obuf, "--size 64 x\n");
	proc_free(&p);
	/* (echo alone with --help would print its own help.) */
	ck_assert_int_eq(RUN(&p, NULL, "bench", "--", "--help", "y"), 0);
	ck_assert_str_eq(p.obuf, "--help y\n");
	proc_free(&p);
	/* Its own help, without the driver. */
	ck_assert_int_eq(RUN(&p, NULL, "bench", "--help"), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "RINGCAST_BENCH"));
	proc_free(&p);

	setenv("RINGCAST_BENCH", "/nonexistent/ringcast-bench", 1);
	ck_assert_int_eq(RUN(&p, NULL, "bench"), 1);
	ck_assert_msg(strstr(p.ebuf, "/nonexistent/ringcast-bench"), "%s",
		      p.ebuf);
	proc_free(&p);
	unsetenv("RINGCAST_BENCH");
}
END_TEST

START_TEST(test_cli_ls_rm)
{
	const char *name = t_name("cli-ls");
	char line[256];
	struct proc p;

	EXPECT_EXIT(0, "create", name);
	ck_assert_int_eq(RUN(&p, NULL, "ls"), 0);
	snprintf(line, sizeof(line), "\n%s\n", name);
	ck_assert_msg(strstr(p.obuf, line + 1) == p.obuf ||
			      strstr(p.obuf, line),
		      "%s not listed", name);
	proc_free(&p);

	EXPECT_EXIT(0, "close", name);
	EXPECT_EXIT(1, "close", name);
	EXPECT_EXIT(0, "rm", name);
	EXPECT_EXIT(1, "rm", name);
	EXPECT_EXIT(1, "stat", name);
	ck_assert_int_eq(RUN(&p, NULL, "ls"), 0);
	ck_assert_msg(!(strstr(p.obuf, line + 1) == p.obuf ||
			strstr(p.obuf, line)),
		      "%s still listed", name);
	proc_free(&p);
	t_assert_clean();
}
END_TEST

/*
 * rm of a ring in use is refused, naming the participant; rm --force
 * removes it, and its publishers and subscribers are told (-EIDRM), the
 * tool's ones too.
 */
START_TEST(test_cli_rm_live)
{
	const char *name = t_name("cli-rm-live");
	const char *other = t_name("cli-rm-live-pub");
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct proc p, s, tp;
	char want[64];
	int code, i;

	EXPECT_EXIT(0, "create", name);
	pub = t_pub(name, 0);
	sub = t_sub(name, &so, NULL);
	ck_assert_int_ge(ringcast_pub_publish(pub, 0, "a", 1), 0);
	ck_assert_int_ge(ringcast_pub_publish(pub, 0, "b", 1), 0);
	proc_start(&s, (const char *const[]){ "sub", name, "--from", "oldest",
					      NULL });
	ck_assert_msg(proc_wait_output(&s, "a\nb\n", CLI_MS), "sub: %s",
		      s.ebuf);

	/* Refused, naming this process, the ring untouched. */
	ck_assert_int_eq(RUN(&p, NULL, "rm", name), 1);
	snprintf(want, sizeof(want), "(pid %d)", (int)getpid());
	ck_assert_msg(strstr(p.ebuf, want) && strstr(p.ebuf, "--force"),
		      "rm says: %s", p.ebuf);
	proc_free(&p);
	ck_assert_int_ge(ringcast_pub_publish(pub, 0, "c", 1), 0);

	EXPECT_EXIT(0, "rm", "--force", name);
	EXPECT_EXIT(1, "stat", name);
	ck_assert_int_eq(ringcast_pub_publish(pub, 0, "d", 1), -EIDRM);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, (uint64_t)i);
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EIDRM);
	code = proc_finish(&s, NULL, CLI_MS);
	ck_assert_msg(exited(code, 1), "sub: status %#x: %s", code, s.ebuf);
	ck_assert_str_eq(s.obuf, "a\nb\nc\n");
	ck_assert_msg(strstr(s.ebuf, "removed"), "sub says: %s", s.ebuf);
	proc_free(&s);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), -EIDRM);

	/* The tool's publisher, waiting for subscribers. */
	EXPECT_EXIT(0, "create", other);
	proc_start(&tp,
		   (const char *const[]){ "pub", other, "--wait-subscribers",
					  "1", NULL });
	ck_assert_msg(proc_wait_error(&tp, "waiting for 1 subscribers", CLI_MS),
		      "stderr: %s", tp.ebuf);
	ck_assert_int_eq(RUN(&p, NULL, "rm", other), 1);
	snprintf(want, sizeof(want), "publisher (pid %d)", (int)tp.pid);
	ck_assert_msg(strstr(p.ebuf, want), "rm says: %s", p.ebuf);
	proc_free(&p);
	EXPECT_EXIT(0, "rm", "--force", other);
	code = proc_finish(&tp, NULL, CLI_MS);
	ck_assert_msg(exited(code, 1), "pub: status %#x: %s", code, tp.ebuf);
	ck_assert_msg(strstr(tp.ebuf, "removed"), "pub says: %s", tp.ebuf);
	proc_free(&tp);
	t_assert_clean();
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc;

	tc = tcase_create("cli");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_cli_usage);
	tcase_add_test(tc, test_cli_create);
	tcase_add_test(tc, test_cli_sub_missing);
	tcase_add_loop_test(tc, test_cli_sub_bad_ring, DAMAGE_SUM,
			    DAMAGE_VERSION + 1);
	tcase_add_test(tc, test_cli_pub_long_line);
	tcase_add_test(tc, test_cli_data_size);
	tcase_add_test(tc, test_cli_stat_data);
	tcase_add_test(tc, test_cli_pipeline);
	tcase_add_test(tc, test_cli_multi_publisher);
	tcase_add_test(tc, test_cli_sub_count);
	tcase_add_test(tc, test_cli_sub_timeout);
	tcase_add_test(tc, test_cli_publisher_killed);
	tcase_add_test(tc, test_cli_stat_json);
	tcase_add_test(tc, test_cli_stat_format);
	tcase_add_test(tc, test_cli_stat_subscribers);
	tcase_add_test(tc, test_cli_create_demote_after);
	tcase_add_test(tc, test_cli_pub_wait_subscribers);
	tcase_add_test(tc, test_cli_reliable_table_full);
	tcase_add_test(tc, test_cli_reliable_three);
	tcase_add_test(tc, test_cli_publisher_killed_subs);
	tcase_add_test(tc, test_cli_reliable_sub_killed);
	tcase_add_test(tc, test_cli_pub_blocked_ends);
	tcase_add_loop_test(tc, test_cli_demoted, 0, 2);
	tcase_add_test(tc, test_cli_top_snapshots);
	tcase_add_test(tc, test_cli_gc);
	tcase_add_test(tc, test_cli_gc_durable);
	tcase_add_test(tc, test_cli_bench);
	tcase_add_test(tc, test_cli_ls_rm);
	tcase_add_test(tc, test_cli_rm_live);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ringcast_bin = getenv("RINGCAST_BIN");
	if (!ringcast_bin || access(ringcast_bin, X_OK)) {
		printf("1..0 # SKIP RINGCAST_BIN is not set to the tool\n");
		return 0;
	}
	/* Runs in each forked test process too, when it exits. */
	atexit(kill_tracked);
	return t_main(cli_suite());
}
