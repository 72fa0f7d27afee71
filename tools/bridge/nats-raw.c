// SPDX-License-Identifier: MIT
/*
 * bridge-nats-raw: a plain nats.c publisher and subscriber, the yardstick
 * of tools/bridge-bench.sh: what NATS itself moves on this machine, in
 * messages of the events' size, without headers, in the same run as the
 * bridge.
 *
 *   bridge-nats-raw sub URL SUBJECT N   receive N messages (or until none
 *                                       came for 10 s); "ready" on stdout
 *                                       once subscribed, then the count
 *   bridge-nats-raw pub URL SUBJECT N SIZE
 *                                       publish N messages of SIZE bytes,
 *                                       then flush
 *
 * Exit status: 0, 1 an error or (sub) fewer than N received, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static int fail(const char *what, natsStatus s)
{
	fprintf(stderr, "bridge-nats-raw: %s: %s\n", what,
		natsStatus_GetText(s));
	return 1;
}

static int sub(natsConnection *nc, const char *subject, uint64_t n)
{
	natsSubscription *sub = NULL;
	uint64_t got = 0;
	natsStatus s;

	s = natsConnection_SubscribeSync(&sub, nc, subject);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(sub, -1, -1);
	/* A round trip: the server has the subscription. */
	if (s == NATS_OK)
		s = natsConnection_Flush(nc);
	if (s != NATS_OK)
		return fail("subscribe", s);
	printf("ready\n");
	fflush(stdout);
	while (got < n) {
		natsMsg *m = NULL;

		s = natsSubscription_NextMsg(&m, sub, 10000);
		if (s != NATS_OK)
			break;
		natsMsg_Destroy(m);
		got++;
	}
	printf("%" PRIu64 "\n", got);
	natsSubscription_Destroy(sub);
	return got == n ? 0 : 1;
}

static int pub(natsConnection *nc, const char *subject, uint64_t n, size_t size)
{
	char *buf = calloc(1, size ? size : 1);
	natsStatus s = NATS_OK;
	uint64_t i;

	if (!buf)
		return fail("publish", NATS_NO_MEMORY);
	memset(buf, 'x', size);
	for (i = 0; i < n && s == NATS_OK; i++)
		s = natsConnection_Publish(nc, subject, buf, (int)size);
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(nc, 30000);
	free(buf);
	return s == NATS_OK ? 0 : fail("publish", s);
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	bool is_pub;
	uint64_t n;
	natsStatus s;
	int r;

	if (argc < 5 || (strcmp(argv[1], "pub") && strcmp(argv[1], "sub")) ||
	    (!strcmp(argv[1], "pub") && argc != 6) ||
	    (!strcmp(argv[1], "sub") && argc != 5)) {
		fprintf(stderr, "usage: bridge-nats-raw sub URL SUBJECT N\n"
				"       bridge-nats-raw pub URL SUBJECT N "
				"SIZE\n");
		return 2;
	}
	is_pub = !strcmp(argv[1], "pub");
	n = strtoull(argv[4], NULL, 10);
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetURL(o, argv[2]);
	if (s == NATS_OK)
		s = natsOptions_SetNoEcho(o, true);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, o);
	if (s != NATS_OK)
		return fail("connect", s);
	if (is_pub)
		r = pub(nc, argv[3], n, strtoull(argv[5], NULL, 10));
	else
		r = sub(nc, argv[3], n);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	nats_Close();
	return r;
}
