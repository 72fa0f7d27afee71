// SPDX-License-Identifier: MIT
/* The smallest subscriber: every event, from the oldest one retained. */
#include <errno.h>
#include <stdio.h>

#include <ringcast.h>

int main(int argc, char **argv)
{
	const char *ring = argc > 1 ? argv[1] : "hello";
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	int r;

	r = ringcast_ring_create(ring, NULL, 0); /* or find it there */
	if (r >= 0)
		r = ringcast_sub_attach(ring, &o, &sub, NULL);
	if (r < 0) {
		fprintf(stderr, "subscriber: %s\n", ringcast_strerror(r));
		return 1;
	}
	/* Wait for ever (-1) for each event, until the end of the stream. */
	while ((r = ringcast_sub_next(sub, &ev, -1)) == 0 || r == -EOVERFLOW)
		if (r == 0)
			printf("%llu: %.*s\n", (unsigned long long)ev.seq,
			       (int)ev.len, (const char *)ev.data);
		else /* lapped: a lossy subscriber is told how many it lost */
			fprintf(stderr, "lost %llu events\n",
				(unsigned long long)ev.lost);
	ringcast_sub_detach(sub);
	if (r != -EPIPE) /* -EOWNERDEAD: the publisher died */
		fprintf(stderr, "subscriber: %s\n", ringcast_strerror(r));
	return r != -EPIPE;
}
