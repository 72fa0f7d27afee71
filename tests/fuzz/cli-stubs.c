// SPDX-License-Identifier: MIT
/*
 * Stand-ins for the library calls with side effects that the ringcast tool
 * makes, for the fuzz harness of its argument parsing (fuzz-cli.c).  They
 * are linked into the harness ahead of the library, so the tool's calls
 * land here; the rest (ringcast_strerror(), ringcast_errdetail()) are the
 * library's own.  Each answers from the run's scenario, 4 bytes of the
 * input:
 *
 *   s[0]  bit 7: every call succeeds; else which error each call returns
 *         (a different pick per call, from every code the header lists and
 *         one it does not)
 *   s[1]  low 4 bits: events that ringcast_sub_next() returns (some of
 *         them laps); high 4 bits: the code that then ends the stream
 *   s[2]  low 3 bits: ring names listed; high bits: table entries
 *   s[3]  the ring's state, liveness and the payloads' style
 *
 * Nothing blocks, nothing is created, and every stream ends.
 */
#include <errno.h>
#include <string.h>

#include "cli-stubs.h"
#include "ringcast.h"

/* After this many reads a stream always ends with -EPIPE. */
#define FZ_MAX_NEXT 256

static uint8_t sc[4];
static unsigned int ncalls, nnext;
static int ended;
static char handle_pub, handle_sub; /* what the handles point to */

static const int errs[] = {
	-ENOENT,     -EACCES,	 -EPROTO,    -EBADMSG,	 -EBUSY,   -EPIPE,
	-EOWNERDEAD, -EEXIST,	 -ENOSPC,    -EINVAL,	 -EUSERS,  -ETIMEDOUT,
	-EAGAIN,     -EINTR,	 -EOVERFLOW, -ESTALE,	 -ENOMEM,  -ECHILD,
	-EMSGSIZE,   -ECANCELED, -ERANGE,    -ESHUTDOWN, -EDEADLK, -9999,
};

static const struct {
	const char *data;
	uint32_t len;
} payloads[] = {
	{ "hello", 5 },
	{ "", 0 },
	{ "\xff\xfe\xfd", 3 },
	{ "a\"b\\c\n\t\x01\x7f", 9 },
	{ "\xf0\x9f\x98\x80 ok", 7 },
	{ "\xe2\x82", 2 },
	{ "nul\0inside", 10 },
	{ "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 9 },
	{ "2:typed line", 12 },
	{ "%s%n%x", 6 },
};

#define NPAYLOADS (sizeof(payloads) / sizeof(payloads[0]))
#define NERRS (sizeof(errs) / sizeof(errs[0]))

void fz_cli_scenario(const uint8_t *s)
{
	memcpy(sc, s, sizeof(sc));
	ncalls = 0;
	nnext = 0;
	ended = 0;
}

void fz_cli_stubs_reset(void)
{
	ncalls = 0;
}

/* The result of the next call that can fail: 0 or an error. */
static int outcome(void)
{
	unsigned int n = ncalls++;

	if (sc[0] & 0x80)
		return 0;
	/* Succeed half the time, so that later calls are reached. */
	if (((sc[0] >> (n % 7)) & 1) == 0)
		return 0;
	return errs[(sc[0] * 7u + n * 13u) % NERRS];
}

RINGCAST_API int ringcast_ring_create(const char *name,
				      const struct ringcast_ring_opts *opts,
				      unsigned int flags)
{
	int r = outcome();

	if (!name)
		return -EINVAL;
	return r ? r : (int)(sc[3] & 1);
}

RINGCAST_API int ringcast_ring_remove(const char *name)
{
	return name ? outcome() : -EINVAL;
}

RINGCAST_API int ringcast_ring_remove_force(const char *name)
{
	return name ? outcome() : -EINVAL;
}

RINGCAST_API int ringcast_ring_close(const char *name)
{
	return name ? outcome() : -EINVAL;
}

RINGCAST_API int ringcast_ring_get_stats(const char *name,
					 struct ringcast_ring_stats *info)
{
	int r = outcome();

	if (!name || !info)
		return -EINVAL;
	if (r)
		return r;
	memset(info, 0, sizeof(*info));
	info->abi_version = 2;
	info->features = sc[3] >> 7;
	info->slots = 1u << (sc[3] % 25);
	info->slot_size = 64u << (sc[2] % 19);
	info->capacity = info->slot_size - 32;
	info->max_subscribers = 1 + sc[2];
	info->mode = 0600 | (sc[3] & 077);
	info->state = sc[3] % 5; /* 4: not a state */
	info->epoch = (uint64_t)sc[1] << 40 | sc[0];
	info->head = (uint64_t)sc[1] * 1000003u;
	info->epoch_start = info->head / 3;
	info->oldest = info->head > info->slots ? info->head - info->slots : 0;
	info->published = info->head;
	info->refused = sc[0];
	info->wakes = UINT64_MAX - sc[1];
	info->size = (uint64_t)info->slots * info->slot_size;
	info->publisher_pid = sc[3] & 2 ? 4242 : 0;
	info->publisher_alive = (int32_t)(sc[3] >> 3) % 3 - 1;
	info->subscribers = sc[2] >> 3;
	info->reliable = sc[2] >> 5;
	info->demote_ns = sc[3] & 4 ? 1500000000u : 0;
	info->blocked = sc[0];
	info->blocked_ns = (uint64_t)sc[0] * 1000000u;
	info->demotions = sc[1] & 3;
	info->table_hwm = sc[2];
	info->publishers = sc[3] & 1;
	return 0;
}

static const char *const names[] = {
	"a", "ring-1", "x.y_z", "-dash", "0", "ZZZZ", "weird\tname", "",
};

RINGCAST_API int ringcast_ring_list(int (*cb)(const char *name, void *arg),
				    void *arg)
{
	unsigned int i, n = sc[2] & 7;
	int r = outcome();

	if (!cb)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int x = cb(names[(i + sc[3]) % 8], arg);

		if (x)
			return x;
	}
	return r;
}

/* Any directory: the same made-up rings (the library checks DIR). */
RINGCAST_API int ringcast_ring_list_dir(const char *dir,
					int (*cb)(const char *name, void *arg),
					void *arg)
{
	(void)dir;
	return ringcast_ring_list(cb, arg);
}

RINGCAST_API int
ringcast_ring_get_subscribers(const char *name,
			      struct ringcast_ring_subscriber *info,
			      unsigned int max)
{
	unsigned int i, n = (sc[2] >> 3) % 6;
	int r = outcome();

	if (!name || (max && !info))
		return -EINVAL;
	if (r)
		return r;
	for (i = 0; i < n && i < max; i++) {
		struct ringcast_ring_subscriber *si = &info[i];

		memset(si, 0, sizeof(*si));
		si->id = i * 3;
		si->pid = (int32_t)(100 + i);
		si->alive = (int32_t)((i + sc[3]) % 3) - 1;
		si->flags = (i + sc[1]) & 7;
		si->first = i;
		si->cursor = i * 1000u + sc[1];
		si->lag = UINT64_MAX - i;
		si->delivered = si->cursor - si->first;
		si->skipped = sc[0] & i;
		si->lost = sc[1] & i;
		si->aborted = i & 1;
	}
	return (int)n;
}

RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp)
{
	int r = outcome();

	if (!name || !pubp)
		return -EINVAL;
	if (r)
		return r;
	*pubp = (struct ringcast_pub *)&handle_pub;
	return 0;
}

static int pub_ok(const struct ringcast_pub *pub)
{
	if (pub != (const struct ringcast_pub *)&handle_pub)
		return -EINVAL;
	return 0;
}

RINGCAST_API int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
				      const void *data, size_t len)
{
	int r = pub_ok(pub);

	if (r || (len && !data))
		return -EINVAL;
	r = outcome();
	return r ? r : (int)(sc[2] >> 3);
}

RINGCAST_API int ringcast_pub_publish_batch(struct ringcast_pub *pub,
					    const struct ringcast_msg *msgs,
					    unsigned int n)
{
	unsigned int i;
	int r = pub_ok(pub);

	if (r || (n && !msgs))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (msgs[i].len && !msgs[i].data)
			return -EINVAL;
	r = outcome();
	return r ? r : (int)(sc[2] >> 3);
}

/* The tool asks for more than the largest event, to count a refusal. */
RINGCAST_API int ringcast_pub_reserve(struct ringcast_pub *pub, size_t len,
				      void **bufp)
{
	int r = pub_ok(pub);

	if (r || !bufp)
		return -EINVAL;
	r = outcome();
	return r ? r : -EMSGSIZE;
}

RINGCAST_API int ringcast_pub_set_timeout(struct ringcast_pub *pub,
					  int64_t timeout_ns)
{
	return pub_ok(pub);
}

RINGCAST_API void ringcast_pub_interrupt(struct ringcast_pub *pub)
{
}

RINGCAST_API int ringcast_pub_subscribers(struct ringcast_pub *pub)
{
	int r = pub_ok(pub);

	return r ? r : (int)(sc[2] >> 3);
}

RINGCAST_API int ringcast_pub_wait_subscribers(struct ringcast_pub *pub,
					       unsigned int n,
					       int64_t timeout_ns)
{
	int r = pub_ok(pub);

	if (r)
		return r;
	r = outcome();
	return r ? r : (int)n;
}

RINGCAST_API int ringcast_pub_close(struct ringcast_pub *pub)
{
	int r = pub_ok(pub);

	return r ? r : outcome();
}

RINGCAST_API int ringcast_pub_finish(struct ringcast_pub *pub)
{
	int r = pub_ok(pub);

	return r ? r : outcome();
}

RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub)
{
}

RINGCAST_API int ringcast_sub_attach(const char *name,
				     const struct ringcast_sub_opts *opts,
				     struct ringcast_sub **subp,
				     uint64_t *first)
{
	int r = outcome();

	if (!name || !subp)
		return -EINVAL;
	if (r)
		return r;
	*subp = (struct ringcast_sub *)&handle_sub;
	if (first)
		*first = sc[1];
	return 0;
}

RINGCAST_API int ringcast_sub_next(struct ringcast_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns)
{
	unsigned int k = nnext++;

	if (sub != (struct ringcast_sub *)&handle_sub || !ev)
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	if (k < (sc[1] & 15u) && k < FZ_MAX_NEXT) {
		unsigned int p = (k + sc[3]) % NPAYLOADS;

		if (k % 4 == 3 && (sc[3] & 8)) {
			ev->lost = k + 1;
			return -EOVERFLOW;
		}
		if (k % 5 == 4 && (sc[3] & 16))
			return -ESTALE;
		if (k % 6 == 5 && (sc[3] & 32))
			return -EAGAIN; /* nothing yet, then more */
		ev->seq = (uint64_t)k << (sc[2] % 64);
		ev->ts = (uint64_t)k * 999999937u;
		ev->type = k % 3 == 2 ? UINT32_MAX - k : k;
		ev->len = payloads[p].len;
		ev->epoch = sc[0];
		ev->publisher = k % 2 ? RINGCAST_PUBLISHER_LEASE : k;
		ev->data = payloads[p].data;
		return 0;
	}
	if (!ended) {
		ended = 1;
		if (sc[1] >> 4)
			return errs[(sc[1] >> 4) % NERRS];
	}
	return -EPIPE;
}

RINGCAST_API int ringcast_sub_read_at(struct ringcast_sub *sub, uint64_t seq,
				      struct ringcast_event *ev)
{
	int r;

	if (sub != (struct ringcast_sub *)&handle_sub || !ev)
		return -EINVAL;
	r = outcome();
	if (r)
		return r;
	memset(ev, 0, sizeof(*ev));
	ev->seq = seq;
	/* Now, or from before a boot: ages of every sign. */
	ev->ts = sc[3] & 64 ? UINT64_MAX - sc[1] : (uint64_t)sc[1] * 999999937u;
	ev->len = 0;
	ev->data = "";
	return 0;
}

RINGCAST_API void ringcast_sub_interrupt(struct ringcast_sub *sub)
{
}

RINGCAST_API void ringcast_sub_get_stats(const struct ringcast_sub *sub,
					 struct ringcast_sub_stats *st)
{
	if (st)
		memset(st, 0, sizeof(*st));
}

RINGCAST_API void ringcast_sub_detach(struct ringcast_sub *sub)
{
}
