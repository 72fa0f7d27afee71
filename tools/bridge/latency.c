// SPDX-License-Identifier: MIT
/*
 * bridge-latency: the time from a publish into ring A to the read of the
 * same event from ring B, through the bridge (tools/bridge-bench.sh
 * --latency runs it with both bridges and the server on this host, so
 * CLOCK_MONOTONIC compares).
 *
 *   bridge-latency A B RATE COUNT [SIZE]
 *
 * Publishes COUNT events of SIZE bytes (default 64, at least 16) into A,
 * RATE per second on a fixed schedule, each carrying its publish time and
 * its number; a thread reads B and takes now minus that time for every
 * event.  The first tenth are a warm-up, not counted.  Prints one row:
 * rate, events, p50, p90, p99 and max in microseconds, and how many never
 * arrived (waits 2 s after the last).
 *
 * Exit status: 0, 1 an error, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringcast.h"

struct lat {
	const char *b;
	uint64_t count;
	uint64_t warmup;
	uint64_t *ns; /* by event number; 0 never arrived */
	struct ringcast_sub *sub;
	int err;
	int done; /* set by main once every event was published */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *reader(void *arg)
{
	struct lat *l = arg;
	uint64_t got = 0, idle_since = 0;

	while (got < l->count) {
		struct ringcast_event ev;
		uint64_t t, i;
		int r;

		r = ringcast_sub_next(l->sub, &ev, 100 * 1000 * 1000);
		if (r == -EAGAIN || r == -ETIMEDOUT || r == -EOVERFLOW) {
			if (!idle_since)
				idle_since = now_ns();
			if (__atomic_load_n(&l->done, __ATOMIC_ACQUIRE) &&
			    now_ns() - idle_since > 2000000000ull)
				break;
			continue;
		}
		if (r) {
			l->err = r;
			break;
		}
		idle_since = 0;
		if (ev.len < 16)
			continue;
		t = now_ns();
		memcpy(&i, ev.data, 8);
		if (i < l->count) {
			uint64_t sent;

			memcpy(&sent, (const char *)ev.data + 8, 8);
			l->ns[i] = t > sent ? t - sent : 1;
			got++;
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct lat l = { 0 };
	struct ringcast_pub *pub = NULL;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_NEWEST };
	uint64_t rate, i, n = 0, missing = 0, *v;
	size_t size = 64;
	struct timespec next;
	char buf[65536];
	pthread_t t;
	int r;

	if (argc != 5 && argc != 6) {
		fprintf(stderr,
			"usage: bridge-latency A B RATE COUNT [SIZE]\n");
		return 2;
	}
	rate = strtoull(argv[3], NULL, 10);
	l.count = strtoull(argv[4], NULL, 10);
	if (argc == 6)
		size = strtoull(argv[5], NULL, 10);
	if (!rate || !l.count || size < 16 || size > sizeof(buf))
		return 2;
	l.b = argv[2];
	l.warmup = l.count / 10;
	l.ns = calloc(l.count, sizeof(*l.ns));
	v = calloc(l.count, sizeof(*v));
	if (!l.ns || !v)
		return 1;
	memset(buf, 'x', sizeof(buf));
	r = ringcast_sub_attach(l.b, &so, &l.sub, NULL);
	if (!r)
		r = ringcast_pub_attach(argv[1], 0, &pub);
	if (r) {
		fprintf(stderr, "bridge-latency: %s\n", ringcast_strerror(r));
		return 1;
	}
	if (pthread_create(&t, NULL, reader, &l))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < l.count; i++) {
		uint64_t sent;

		next.tv_nsec += (long)(1000000000ull / rate);
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		sent = now_ns();
		memcpy(buf, &i, 8);
		memcpy(buf + 8, &sent, 8);
		r = ringcast_pub_publish(pub, 1, buf, size);
		if (r < 0) {
			fprintf(stderr, "bridge-latency: publish: %s\n",
				ringcast_strerror(r));
			return 1;
		}
	}
	__atomic_store_n(&l.done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (l.err) {
		fprintf(stderr, "bridge-latency: reading %s: %s\n", l.b,
			ringcast_strerror(l.err));
		return 1;
	}
	for (i = l.warmup; i < l.count; i++) {
		if (l.ns[i])
			v[n++] = l.ns[i];
		else
			missing++;
	}
	if (!n) {
		fprintf(stderr, "bridge-latency: nothing arrived\n");
		return 1;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%-8s %8s %10s %10s %10s %10s %8s\n", "rate", "events", "p50_us",
	       "p90_us", "p99_us", "max_us", "missing");
	printf("%-8" PRIu64 " %8" PRIu64
	       " %10.1f %10.1f %10.1f %10.1f %8" PRIu64 "\n",
	       rate, n, v[n / 2] / 1e3, v[n * 9 / 10] / 1e3,
	       v[n * 99 / 100] / 1e3, v[n - 1] / 1e3, missing);
	ringcast_sub_detach(l.sub);
	ringcast_pub_detach(pub);
	free(l.ns);
	free(v);
	return 0;
}
