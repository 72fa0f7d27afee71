// SPDX-License-Identifier: MIT
/*
 * multi - P publisher processes to one reliable subscriber process, on a
 * multi-publisher ring, next to the single-publisher ring's path in the
 * same run: events per second.
 *
 * Rows (one per configuration):
 *
 *   single-pub    a single-publisher ring, one publisher (the fast path)
 *   multi-pub-P   a ring created with RINGCAST_CREATE_MULTI_PUB and P
 *                 publisher processes, P in --publishers (default 1,2,4)
 *
 * Every row is lossless: the subscriber is reliable (it gates every
 * publisher) and busy-waiting.  Each publisher sends --messages / P events
 * of --size bytes, in calls of --batch events (ringcast_pub_publish() when
 * 1, else ringcast_pub_publish_batch()); each event carries its publisher's
 * number and running count, which the subscriber checks (per-publisher
 * order, exactly once, the total).  The subscriber reads CLOCK_MONOTONIC
 * after its first event and after its last, nowhere in between.
 *
 * Runs are interleaved (single, multi-1, multi-2, ..., single, ...) so that
 * a change in the machine's load hits every row alike; each row reports the
 * median, min and max over --runs runs.  With more processes than CPUs the
 * publishers take turns on a CPU: the figures then measure the ring under
 * contention and the scheduler, which the header of the output says.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define MAX_PUBS 16
#define MAX_RUNS 64
#define MAX_ROWS 8

struct cfg {
	uint64_t messages;
	uint32_t size;
	uint32_t batch;
	uint32_t slots;
	unsigned int runs;
	unsigned int npubs[MAX_ROWS];
	unsigned int nrows;
};

static char ring_name[64];

static void cleanup(void)
{
	if (ring_name[0])
		ringcast_ring_remove_force(ring_name);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct payload {
	uint32_t pubno;
	uint32_t pad;
	uint64_t n;
};

/* The subscriber: writes its rate (events/s) to fd, or -1 on an error. */
static int subscriber(const struct cfg *c, unsigned int npubs, int ready,
		      int out)
{
	struct ringcast_sub_opts o = {
		.from = RINGCAST_FROM_OLDEST,
		.wait = RINGCAST_WAIT_BUSY,
		.flags = RINGCAST_SUB_RELIABLE,
	};
	uint64_t next[MAX_PUBS] = { 0 }, got = 0, total;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t t0 = 0;
	double rate = -1;
	struct payload p;
	int r;

	total = c->messages / npubs * npubs;
	r = ringcast_sub_attach(ring_name, &o, &sub, NULL);
	if (r < 0) {
		fprintf(stderr, "multi: attach: %s\n", ringcast_strerror(r));
		goto out;
	}
	if (write(ready, "r", 1) != 1)
		goto out_detach;
	while (got < total) {
		r = ringcast_sub_next(sub, &ev, 30LL * 1000000000);
		if (r < 0) {
			fprintf(stderr, "multi: read: %s\n",
				ringcast_strerror(r));
			goto out_detach;
		}
		if (!got)
			t0 = now_ns();
		memcpy(&p, ev.data, sizeof(p));
		if (p.pubno >= npubs || p.n != next[p.pubno]) {
			fprintf(stderr,
				"multi: publisher %u: event %" PRIu64
				" out of order\n",
				p.pubno, p.n);
			goto out_detach;
		}
		next[p.pubno]++;
		got++;
	}
	rate = (double)(got - 1) * 1e9 / (double)(now_ns() - t0);
out_detach:
	ringcast_sub_detach(sub);
out:
	if (write(out, &rate, sizeof(rate)) != sizeof(rate))
		return 1;
	return rate < 0;
}

static int publisher(const struct cfg *c, unsigned int pubno,
		     unsigned int npubs)
{
	struct ringcast_msg msgs[256];
	struct payload p[256];
	struct ringcast_pub *pub;
	uint64_t n = c->messages / npubs, i = 0;
	unsigned char buf[256][64];
	unsigned int k, b;
	int r;

	r = ringcast_pub_attach(ring_name, 0, &pub);
	if (r < 0) {
		fprintf(stderr, "multi: publisher: %s\n", ringcast_strerror(r));
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	while (i < n) {
		b = n - i < c->batch ? (unsigned int)(n - i) : c->batch;
		for (k = 0; k < b; k++) {
			p[k] = (struct payload){ pubno, 0, i + k };
			memcpy(buf[k], &p[k], sizeof(p[k]));
			msgs[k] = (struct ringcast_msg){ 1, c->size, buf[k] };
		}
		r = b == 1 ? ringcast_pub_publish(pub, 1, buf[0], c->size) :
			     ringcast_pub_publish_batch(pub, msgs, b);
		if (r < 0) {
			fprintf(stderr, "multi: publish: %s\n",
				ringcast_strerror(r));
			ringcast_pub_detach(pub);
			return 1;
		}
		i += b;
	}
	ringcast_pub_detach(pub);
	return 0;
}

/* One run of one row: the subscriber's rate, or -1. */
static double run_once(const struct cfg *c, unsigned int npubs, bool multi)
{
	struct ringcast_ring_opts ro = { .slots = c->slots, .slot_size = 128 };
	int ready[2], out[2], status, failed = 0;
	pid_t sub, pubs[MAX_PUBS];
	double rate = -1;
	unsigned int i;
	char ch;

	snprintf(ring_name, sizeof(ring_name), "bench-multi-%d", (int)getpid());
	ringcast_ring_remove_force(ring_name);
	if (ringcast_ring_create(ring_name, &ro,
				 multi ? RINGCAST_CREATE_MULTI_PUB : 0) < 0)
		return -1;
	if (pipe(ready) < 0 || pipe(out) < 0)
		return -1;
	sub = fork();
	if (sub == 0)
		_exit(subscriber(c, npubs, ready[1], out[1]));
	if (read(ready[0], &ch, 1) != 1)
		failed = 1;
	for (i = 0; i < npubs && !failed; i++) {
		pubs[i] = fork();
		if (pubs[i] == 0)
			_exit(publisher(c, i, npubs));
	}
	for (; i > 0; i--)
		if (waitpid(pubs[i - 1], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	if (read(out[0], &rate, sizeof(rate)) != sizeof(rate))
		rate = -1;
	waitpid(sub, &status, 0);
	close(ready[0]);
	close(ready[1]);
	close(out[0]);
	close(out[1]);
	ringcast_ring_remove_force(ring_name);
	return failed ? -1 : rate;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: multi [--messages N] [--size BYTES] [--batch N] "
		   "[--slots N] [--runs N] [--publishers LIST]\n"
		   "  P publisher processes -> 1 reliable subscriber on a "
		   "multi-publisher ring,\n"
		   "  next to the single-publisher path (defaults: 4000000 "
		   "messages, 64 bytes,\n"
		   "  batch 1, 4096 slots, 5 runs, publishers 1,2,4)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "messages", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 'S' },
		{ "runs", required_argument, NULL, 'r' },
		{ "publishers", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cfg c = { 4000000, 64, 1, 4096, 5, { 1, 2, 4 }, 3 };
	double rates[MAX_ROWS + 1][MAX_RUNS];
	struct utsname u;
	double load[3] = { 0 };
	unsigned int row, run, i;
	char *s, *tok;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			c.messages = strtoull(optarg, NULL, 0);
			break;
		case 's':
			c.size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			c.batch = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			c.slots = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			c.runs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			c.nrows = 0;
			s = optarg;
			while ((tok = strsep(&s, ",")) && c.nrows < MAX_ROWS)
				c.npubs[c.nrows++] = (unsigned int)atoi(tok);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (c.size < sizeof(struct payload) || c.size > 64 || !c.batch ||
	    c.batch > 256 || !c.runs || c.runs > MAX_RUNS || !c.nrows ||
	    c.messages < 1000) {
		fprintf(stderr,
			"multi: size 16-64, batch 1-256, runs 1-%d, "
			"messages >= 1000\n",
			MAX_RUNS);
		return 2;
	}
	for (i = 0; i < c.nrows; i++)
		if (!c.npubs[i] || c.npubs[i] > MAX_PUBS) {
			fprintf(stderr, "multi: publishers 1-%d\n", MAX_PUBS);
			return 2;
		}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	uname(&u);
	getloadavg(load, 3);
	printf("# multi: %" PRIu64 " messages of %u bytes per run, batch %u, "
	       "%u slots, reliable busy subscriber, %u runs (interleaved)\n",
	       c.messages, c.size, c.batch, c.slots, c.runs);
	printf("# %ld CPUs online, %s %s, load average %.2f\n",
	       sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, load[0]);
	for (run = 0; run < c.runs; run++) {
		rates[0][run] = run_once(&c, 1, false);
		for (row = 0; row < c.nrows; row++)
			rates[row + 1][run] = run_once(&c, c.npubs[row], true);
	}
	printf("%-14s %10s %12s %12s %12s\n", "row", "publishers", "median/s",
	       "min/s", "max/s");
	for (row = 0; row <= c.nrows; row++) {
		double *r = rates[row], med;
		bool bad = false;
		char label[32];

		for (run = 0; run < c.runs; run++)
			bad |= r[run] < 0;
		med = bench_median(r, c.runs);
		if (row)
			snprintf(label, sizeof(label), "multi-pub-%u",
				 c.npubs[row - 1]);
		else
			snprintf(label, sizeof(label), "single-pub");
		if (bad) {
			printf("%-14s %10u %12s\n", label,
			       row ? c.npubs[row - 1] : 1,
			       "FAILED (see stderr)");
			continue;
		}
		printf("%-14s %10u %12.0f %12.0f %12.0f\n", label,
		       row ? c.npubs[row - 1] : 1, med, r[0], r[c.runs - 1]);
	}
	return 0;
}
