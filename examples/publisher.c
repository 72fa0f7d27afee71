// SPDX-License-Identifier: MIT
/* The smallest publisher: three events, then the end of the stream. */
#include <stdio.h>
#include <string.h>

#include <ringcast.h>

int main(int argc, char **argv)
{
	const char *ring = argc > 1 ? argv[1] : "hello";
	const char *msgs[] = { "hello", "from", "ringcast" };
	struct ringcast_pub *pub;
	int r, i;

	r = ringcast_ring_create(ring, NULL, 0); /* or find it there */
	if (r >= 0)
		r = ringcast_pub_attach(ring, 0, &pub);
	for (i = 0; r >= 0 && i < 3; i++) /* type 1; returns the readers */
		r = ringcast_pub_publish(pub, 1, msgs[i], strlen(msgs[i]));
	if (r >= 0)
		r = ringcast_pub_close(pub); /* end of stream */
	if (r < 0)
		fprintf(stderr, "publisher: %s\n", ringcast_strerror(r));
	return r < 0;
}
