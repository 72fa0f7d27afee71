// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: the ringcast tool's argument parsing (and the output it
 * prints from what the library returns).
 *
 * The tool's sources (tools/cli/) are compiled into this harness with
 * main() renamed ringcast_main(), and with the calls that could end the
 * process, block or sleep renamed to the fz_cli_*() functions below (see
 * meson.build): exit() and raise() jump back here, poll(), nanosleep() and
 * the clock run on a virtual clock that never waits, and read() reads a
 * standard input taken from the fuzz input.  The library calls with side
 * effects are replaced by cli-stubs.c, which answers from a scenario that
 * the input chooses (errors, events with awkward payloads, table entries),
 * so no ring is ever created, nothing waits, and every error path is
 * reachable.
 * A run that makes more than FZ_CLI_BUDGET such calls is cut short: the
 * tool loops only where it means to (sub follows a ring for ever, top
 * refreshes for ever).  What the tool allocates (malloc(), calloc(),
 * realloc(), strdup(), free() are renamed too) is tracked, and what a run
 * cut short leaves behind is freed after it, so that the harness does not
 * grow.
 *
 * Input: 4 scenario bytes (cli-stubs.c); then the arguments after
 * "ringcast", each ended by a NUL; an empty argument ends them, and what
 * follows is standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

#include "cli-stubs.h"
#include "fuzz.h"

#define FZ_CLI_MAX_ARGS 64
#define FZ_CLI_BUDGET 64

int ringcast_main(int argc, char **argv);
/* The tool's ring directory (tools/cli/common.c). */
extern const char *ring_dir;

/* The renamed calls, as the tool sees them. */
void *fz_cli_malloc(size_t n);
void *fz_cli_calloc(size_t n, size_t size);
void *fz_cli_realloc(void *p, size_t n);
char *fz_cli_strdup(const char *s);
void fz_cli_free(void *p);
__attribute__((noreturn)) void fz_cli_exit(int status);
int fz_cli_raise(int sig);
int fz_cli_setvbuf(FILE *f, char *buf, int mode, size_t size);
int fz_cli_poll(struct pollfd *fds, nfds_t n, int timeout);
int fz_cli_nanosleep(const struct timespec *req, struct timespec *rem);
int fz_cli_clock_gettime(clockid_t clk, struct timespec *ts);
ssize_t fz_cli_read(int fd, void *buf, size_t n);

static jmp_buf fz_cli_jmp;
static bool fz_cli_in_run;
static unsigned long fz_cli_calls;
static uint64_t fz_cli_clock;
static const uint8_t *fz_cli_stdin;
static size_t fz_cli_stdin_len;
static char *fz_cli_outbuf; /* what the tool gave setvbuf(), if anything */
static char fz_cli_static_buf[BUFSIZ];

/*
 * The tool's live allocations: an open-addressing set of pointers (a
 * tombstone marks a removed one).  A run of the tool holds few at once.
 */
#define FZ_CLI_TRACK (1u << 14)
#define FZ_CLI_GONE ((void *)1)
static void *fz_cli_live[FZ_CLI_TRACK];
static unsigned int fz_cli_nlive;

static unsigned int fz_cli_slot(const void *p)
{
	return (unsigned int)(((uintptr_t)p >> 4) * 0x9e3779b1u) &
	       (FZ_CLI_TRACK - 1);
}

static void fz_cli_track(void *p)
{
	unsigned int i = fz_cli_slot(p), n;

	if (!p)
		return;
	/* Over half full: stop tracking (what is left leaks, no harm). */
	if (fz_cli_nlive >= FZ_CLI_TRACK / 2)
		return;
	for (n = 0; n < FZ_CLI_TRACK; n++, i = (i + 1) & (FZ_CLI_TRACK - 1)) {
		if (!fz_cli_live[i] || fz_cli_live[i] == FZ_CLI_GONE) {
			fz_cli_live[i] = p;
			fz_cli_nlive++;
			return;
		}
	}
}

static void fz_cli_untrack(void *p)
{
	unsigned int i = fz_cli_slot(p), n;

	if (!p)
		return;
	for (n = 0; n < FZ_CLI_TRACK && fz_cli_live[i];
	     n++, i = (i + 1) & (FZ_CLI_TRACK - 1)) {
		if (fz_cli_live[i] == p) {
			fz_cli_live[i] = FZ_CLI_GONE;
			fz_cli_nlive--;
			return;
		}
	}
}

/* After a run: free what the tool left (a run cut short leaves much). */
static void fz_cli_free_all(void)
{
	unsigned int i;

	for (i = 0; i < FZ_CLI_TRACK; i++) {
		if (fz_cli_live[i] && fz_cli_live[i] != FZ_CLI_GONE)
			free(fz_cli_live[i]);
		fz_cli_live[i] = NULL;
	}
	fz_cli_nlive = 0;
}

void *fz_cli_malloc(size_t n)
{
	void *p = malloc(n);

	fz_cli_track(p);
	return p;
}

void *fz_cli_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	fz_cli_track(p);
	return p;
}

void *fz_cli_realloc(void *p, size_t n)
{
	void *q;

	/* Untracked first: p is not to be looked at after realloc(). */
	fz_cli_untrack(p);
	q = realloc(p, n);
	fz_cli_track(q); /* on failure the old block leaks, untracked */
	return q;
}

char *fz_cli_strdup(const char *s)
{
	char *p = strdup(s);

	fz_cli_track(p);
	return p;
}

/* Also frees what the C library allocated for the tool (open_memstream). */
void fz_cli_free(void *p)
{
	fz_cli_untrack(p);
	free(p);
}

static void fz_cli_count(void)
{
	if (++fz_cli_calls > FZ_CLI_BUDGET && fz_cli_in_run)
		longjmp(fz_cli_jmp, 2);
}

void fz_cli_exit(int status)
{
	if (!fz_cli_in_run)
		exit(status);
	longjmp(fz_cli_jmp, 1);
}

int fz_cli_raise(int sig)
{
	if (!fz_cli_in_run)
		return raise(sig);
	longjmp(fz_cli_jmp, 1);
}

int fz_cli_setvbuf(FILE *f, char *buf, int mode, size_t size)
{
	/* The tool hands stdout a buffer that lives until exit: keep it. */
	char *old = fz_cli_outbuf;
	int r;

	if (f != stdout || !buf)
		return setvbuf(f, buf, mode, size);
	r = setvbuf(f, buf, mode, size);
	fz_cli_outbuf = buf;
	if (old && old != buf)
		free(old); /* stdout no longer uses it */
	return r;
}

int fz_cli_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nfds_t i;

	fz_cli_count();
	for (i = 0; i < n; i++)
		fds[i].revents = 0;
	if (timeout > 0)
		fz_cli_clock += (uint64_t)timeout * 1000000u;
	return 0;
}

int fz_cli_nanosleep(const struct timespec *req, struct timespec *rem)
{
	fz_cli_count();
	if (req)
		fz_cli_clock += (uint64_t)req->tv_sec * 1000000000u +
				(uint64_t)req->tv_nsec;
	return 0;
}

int fz_cli_clock_gettime(clockid_t clk, struct timespec *ts)
{
	fz_cli_count();
	fz_cli_clock += 1000000; /* a millisecond per look */
	ts->tv_sec = (time_t)(fz_cli_clock / 1000000000u);
	ts->tv_nsec = (long)(fz_cli_clock % 1000000000u);
	return 0;
}

ssize_t fz_cli_read(int fd, void *buf, size_t n)
{
	fz_cli_count();
	if (fd != STDIN_FILENO)
		return read(fd, buf, n);
	if (n > fz_cli_stdin_len)
		n = fz_cli_stdin_len;
	/* Short reads, to split lines across reads. */
	if (n > 1 && fz_cli_stdin_len > 0 && fz_cli_stdin[0] & 1)
		n = n / 2 + 1;
	memcpy(buf, fz_cli_stdin, n);
	fz_cli_stdin += n;
	fz_cli_stdin_len -= n;
	return (ssize_t)n;
}

/*
 * A run cut short (FZ_CLI_BUDGET, exit(), raise()) leaves what the tool
 * allocated behind, and the tool keeps its stdout buffer until exit by
 * design: no leak checks in this harness.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* The tool's output goes nowhere (libFuzzer reports on stderr). */
	if (fd >= 0) {
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[FZ_CLI_MAX_ARGS + 2];
	char *copy;
	volatile int argc = 1;
	size_t i, start;

	if (size < 4 || size > 8192)
		return 0;
	fz_cli_scenario(data);
	data += 4;
	size -= 4;
	/* The arguments, NUL-terminated, up to an empty one. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	args[0] = (char *)"ringcast";
	for (i = 0, start = 0; i <= size; i++) {
		if (copy[i] != '\0')
			continue;
		if (i == start || argc == FZ_CLI_MAX_ARGS) {
			i++;
			break;
		}
		args[argc++] = copy + start;
		start = i + 1;
	}
	args[argc] = NULL;
	fz_cli_stdin = i < size ? data + i : data;
	fz_cli_stdin_len = i < size ? size - i : 0;

	fz_cli_calls = 0;
	fz_cli_outbuf = NULL;
	optind = 0; /* glibc: start getopt afresh */
	ring_dir = NULL; /* an input's --dir is for that input only */
	opterr = 1;
	fz_cli_in_run = true;
	if (!setjmp(fz_cli_jmp))
		ringcast_main(argc, args);
	fz_cli_in_run = false;

	/* Give stdout back a buffer of ours, then free what the tool left. */
	fflush(stdout);
	if (fz_cli_outbuf)
		setvbuf(stdout, fz_cli_static_buf, _IOFBF,
			sizeof(fz_cli_static_buf));
	fz_cli_outbuf = NULL;
	fz_cli_free_all();
	fz_cli_stubs_reset();
	free(copy);
	return 0;
}
