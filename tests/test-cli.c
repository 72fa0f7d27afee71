// SPDX-License-Identifier: MIT
/*
 * The command-line tool, run as a separate program (RINGCAST_BIN): exit
 * statuses (0 success, 1 runtime error, 2 usage), its messages about bad
 * rings, and a pipeline of 'ringcast pub' into 'ringcast sub'.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

extern char **environ;

/* A command that should end at once: generous for loaded machines. */
#define CLI_MS (30 * 1000)

static const char *ringcast_bin;

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
 * pump() - move data between us and the child until @until says stop or
 * both its output pipes are at end of file, at most until @deadline
 *
 * Return: true if it stopped for @until or EOF, false on the deadline.
 */
static bool pump(struct proc *p, const char **input, size_t *inlen,
		 uint64_t deadline, const char *until)
{
	for (;;) {
		struct pollfd fds[3];
		uint64_t now = t_now_ns();
		nfds_t n = 0;
		int ret;
		nfds_t i;

		if (until && strstr(p->obuf, until))
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
	return pump(p, NULL, NULL, t_now_ns() + (uint64_t)ms * 1000000, needle);
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
	done = pump(p, &input, &inlen, deadline, NULL);
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
	struct ringcast_ring_info info;
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
	struct ringcast_ring_info info;
	struct proc p;
	int code;

	EXPECT_EXIT(0, "create", name, "--slot-size", "64");
	code = RUN(&p,
		   "short\n"
		   "this line is longer than thirty-two bytes, by far\n"
		   "after\n",
		   "pub", name);
	ck_assert_int_eq(code, 1);
	ck_assert_msg(strstr(p.ebuf, "line 2"), "stderr: %s", p.ebuf);
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

/* stat lists the table: a reliable and a filtered lossy subscriber. */
START_TEST(test_cli_stat_subscribers)
{
	const char *name = t_ring("cli-stat-subs", 64, 0);
	static const uint32_t types[] = { 3 };
	struct ringcast_sub_opts rel = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub_opts lossy = { .ntypes = 1, .types = types };
	struct ringcast_sub *r, *l;
	char pid[32], **objs;
	const char *o;
	struct proc p;

	r = t_sub(name, &rel, NULL);
	l = t_sub(name, &lossy, NULL);
	snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)getpid());

	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"reliable\":1,"));
	objs = json_subscribers(p.obuf);
	ck_assert_uint_eq(strv_len(objs), 2);
	o = strv_find(objs, "\"mode\":\"reliable\"");
	ck_assert_msg(o, "no reliable subscriber: %s", p.obuf);
	ck_assert_ptr_nonnull(strstr(o, pid));
	ck_assert_ptr_nonnull(strstr(o, "\"alive\":true"));
	ck_assert_ptr_nonnull(strstr(o, "\"reliable\":true"));
	ck_assert_ptr_nonnull(strstr(o, "\"filtered\":false"));
	o = strv_find(objs, "\"mode\":\"lossy\"");
	ck_assert_msg(o, "no lossy subscriber: %s", p.obuf);
	ck_assert_ptr_nonnull(strstr(o, pid));
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

	/* Detached: gone from the table. */
	ringcast_sub_detach(r);
	ringcast_sub_detach(l);
	ck_assert_int_eq(RUN(&p, NULL, "stat", name, "--json"), 0);
	ck_assert_ptr_nonnull(strstr(p.obuf, "\"subscribers\":[]"));
	proc_free(&p);
	t_assert_clean();
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
	tcase_add_test(tc, test_cli_pipeline);
	tcase_add_test(tc, test_cli_sub_count);
	tcase_add_test(tc, test_cli_sub_timeout);
	tcase_add_test(tc, test_cli_publisher_killed);
	tcase_add_test(tc, test_cli_stat_json);
	tcase_add_test(tc, test_cli_stat_subscribers);
	tcase_add_test(tc, test_cli_ls_rm);
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
	return t_main(cli_suite());
}
