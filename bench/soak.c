// SPDX-License-Identifier: MIT
/*
 * soak - a long run: one publisher, 4 reliable and 4 lossy subscriber
 * processes, 10^8 events or more, every payload checked.
 *
 *   build/bench/soak [--events N] [--slots N] [--interval SECONDS]
 *
 * Every event carries its sequence and a checksum of it.  Reliable
 * subscribers must see every sequence, in order; lossy ones must see
 * increasing sequences with valid checksums, and account delivered + lost
 * = the span they read.  Every INTERVAL seconds (default 5) it prints one
 * row: time, events published, throughput over the interval and overall,
 * the slowest subscriber's lag, the lossy subscribers' losses, and the
 * resident memory (RSS, from /proc) of the publisher and of the largest
 * subscriber, which must stay flat.  At the end it prints each
 * subscriber's accounting and exits 0 only if every check held and no
 * process grew by more than 1 MiB after its first 10^6 events.  Not a CI
 * test: docs/operations.md, "Longer runs".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringcast.h"
#include "harness.h"

#define NREL 4
#define NLOSSY 4
#define NSUBS (NREL + NLOSSY)
#define BATCH 64
#define PAYLOAD 16
/* RSS is compared from this many events on (start-up allocations). */
#define WARM_EVENTS 1000000u

struct sub_report {
	_Atomic uint64_t delivered, lost, cursor, first;
	_Atomic uint64_t rss_warm_kb, rss_kb;
	_Atomic uint64_t bad; /* checks that failed */
	_Atomic int attached, done, end;
};

static struct sub_report *reports;
static const char *ring;

static uint64_t rss_kb(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/status", "r");
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "VmRSS: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint64_t check_word(uint64_t seq)
{
	return (seq ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
}

static int subscriber(int idx)
{
	struct sub_report *r = &reports[idx];
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_NEWEST };
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	uint64_t expect, delivered = 0, lost = 0, w[2];
	bool reliable = idx < NREL;
	int err;

	if (reliable)
		o.flags = RINGCAST_SUB_RELIABLE;
	err = ringcast_sub_attach(ring, &o, &sub, &expect);
	if (err < 0) {
		fprintf(stderr, "soak: subscriber %d: %s\n", idx,
			ringcast_strerror(err));
		return 1;
	}
	r->first = expect;
	atomic_store(&r->attached, 1);
	for (;;) {
		err = ringcast_sub_next(sub, &ev, -1);
		if (err == -EOVERFLOW) {
			if (reliable)
				r->bad++;
			expect += ev.lost;
			lost += ev.lost;
			continue;
		}
		if (err < 0)
			break;
		memcpy(w, ev.data, sizeof(w));
		if (ev.len != PAYLOAD || w[0] != ev.seq ||
		    w[1] != check_word(ev.seq) || ev.seq != expect)
			r->bad++;
		expect = ev.seq + 1;
		delivered++;
		if ((delivered & 0xfffff) == 0) {
			r->delivered = delivered;
			r->lost = lost;
			r->cursor = expect;
			r->rss_kb = rss_kb();
			if (!r->rss_warm_kb && delivered >= WARM_EVENTS)
				r->rss_warm_kb = r->rss_kb;
		}
	}
	ringcast_sub_get_stats(sub, &st);
	if (st.delivered != delivered || st.lost != lost ||
	    st.delivered + st.lost + st.skipped != st.cursor - st.first ||
	    (reliable && lost))
		r->bad++;
	r->delivered = delivered;
	r->lost = lost;
	r->cursor = expect;
	r->rss_kb = rss_kb();
	r->end = err;
	atomic_store(&r->done, 1);
	ringcast_sub_detach(sub);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: soak [--events N] [--slots N] "
			"[--interval SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "slots", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct ringcast_ring_opts ro = { .slots = 65536, .slot_size = 64 };
	struct ringcast_msg msgs[BATCH];
	uint64_t bufs[BATCH][2];
	uint64_t events = 100000000ull, interval_ns = 5000000000ull;
	uint64_t start, last, last_n = 0, pub_rss0 = 0, pub_rss_warm = 0;
	uint64_t pub_rss = 0, seq = 0;
	struct ringcast_pub *pub;
	char name[64];
	pid_t pids[NSUBS];
	int c, i, err, failed = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			events = strtoull(optarg, NULL, 0);
			break;
		case 's':
			ro.slots = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			interval_ns = (uint64_t)(atof(optarg) * 1e9);
			break;
		default:
			usage();
		}
	}
	if (!events || !interval_ns)
		usage();
	snprintf(name, sizeof(name), "soak-%d", (int)getpid());
	ring = name;
	reports = mmap(NULL, NSUBS * sizeof(*reports), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reports == MAP_FAILED)
		return 1;
	err = ringcast_ring_create(ring, &ro, RINGCAST_CREATE_EXCL);
	if (!err)
		err = ringcast_pub_attach(ring, 0, &pub);
	if (err) {
		fprintf(stderr, "soak: %s: %s\n", ring, ringcast_strerror(err));
		ringcast_ring_remove_force(ring);
		return 1;
	}
	fflush(stdout);
	for (i = 0; i < NSUBS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(subscriber(i));
	}
	for (i = 0; i < NSUBS; i++)
		while (!atomic_load(&reports[i].attached))
			usleep(1000);

	printf("# soak: %" PRIu64 " events of %d bytes, ring %s: %u slots of "
	       "%u bytes; %d reliable and %d lossy subscriber processes\n",
	       events, PAYLOAD, ring, ro.slots, ro.slot_size, NREL, NLOSSY);
	printf("%8s %12s %12s %12s %12s %12s %10s %10s\n", "time_s",
	       "published", "rate_ev_s", "avg_ev_s", "max_lag", "lossy_lost",
	       "pub_rss_kb", "sub_rss_kb");
	pub_rss0 = rss_kb();
	start = last = now_ns();
	for (i = 0; i < BATCH; i++) {
		msgs[i].type = 1;
		msgs[i].len = PAYLOAD;
		msgs[i].data = bufs[i];
	}
	while (seq < events) {
		unsigned int n = events - seq < BATCH ?
					 (unsigned int)(events - seq) :
					 BATCH;
		uint64_t t;

		for (i = 0; i < (int)n; i++) {
			bufs[i][0] = seq + (uint64_t)i;
			bufs[i][1] = check_word(seq + (uint64_t)i);
		}
		err = ringcast_pub_publish_batch(pub, msgs, n);
		if (err < 0) {
			fprintf(stderr, "soak: publish: %s\n",
				ringcast_strerror(err));
			failed = 1;
			break;
		}
		seq += n;
		if (!pub_rss_warm && seq >= WARM_EVENTS)
			pub_rss_warm = rss_kb();
		if ((seq & 0xffff) >= BATCH)
			continue;
		t = now_ns();
		if (t - last < interval_ns)
			continue;
		{
			uint64_t lag = 0, lost = 0, srss = 0;

			for (i = 0; i < NSUBS; i++) {
				uint64_t cur = reports[i].cursor;

				if (seq - cur > lag && cur)
					lag = seq - cur;
				if (i >= NREL)
					lost += reports[i].lost;
				if (reports[i].rss_kb > srss)
					srss = reports[i].rss_kb;
			}
			pub_rss = rss_kb();
			printf("%8.1f %12" PRIu64 " %12.0f %12.0f %12" PRIu64
			       " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			       (double)(t - start) / 1e9, seq,
			       (double)(seq - last_n) * 1e9 /
				       (double)(t - last),
			       (double)seq * 1e9 / (double)(t - start), lag,
			       lost, pub_rss, srss);
			fflush(stdout);
			last = t;
			last_n = seq;
		}
	}
	pub_rss = rss_kb();
	err = ringcast_pub_close(pub);
	for (i = 0; i < NSUBS; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	{
		uint64_t t = now_ns();

		printf("# published %" PRIu64 " events in %.1f s: %.0f "
		       "events/s\n",
		       seq, (double)(t - start) / 1e9,
		       (double)seq * 1e9 / (double)(t - start));
	}
	printf("# %-3s %-8s %12s %12s %12s %6s %10s %10s %s\n", "sub", "kind",
	       "delivered", "lost", "span", "bad", "rss_warm", "rss_end",
	       "end");
	for (i = 0; i < NSUBS; i++) {
		struct sub_report *r = &reports[i];
		uint64_t span = r->cursor - r->first;
		bool ok =
			!r->bad && r->delivered + r->lost == span &&
			r->cursor == seq && r->end == -EPIPE &&
			(i >= NREL || r->lost == 0) &&
			(!r->rss_warm_kb || r->rss_kb <= r->rss_warm_kb + 1024);

		printf("# %-3d %-8s %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %6" PRIu64 " %10" PRIu64 " %10" PRIu64 " %s%s\n",
		       i, i < NREL ? "reliable" : "lossy", r->delivered,
		       r->lost, span, r->bad, r->rss_warm_kb, r->rss_kb,
		       ringcast_strerror(r->end), ok ? "" : "  FAILED");
		if (!ok)
			failed = 1;
	}
	printf("# publisher RSS: %" PRIu64 " kB at start, %" PRIu64
	       " kB after 10^6 events, %" PRIu64 " kB at the end\n",
	       pub_rss0, pub_rss_warm, pub_rss);
	if (pub_rss_warm && pub_rss > pub_rss_warm + 1024)
		failed = 1;
	printf("# %s\n", failed ? "FAILED" : "ok: every check held");
	ringcast_ring_remove_force(ring);
	return failed;
}
