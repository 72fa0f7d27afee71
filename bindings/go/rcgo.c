// SPDX-License-Identifier: MIT
/*
 * The library calls whose failures carry ringcast_errdetail(), wrapped so
 * that the detail is read in the same C call, on the thread that failed.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "rcgo.h"

// ringcast_errdetail() is thread-local: read it in the same C call as the
// failure, on the same thread, before the goroutine can move.
static void rcgo_detail(int r, char *d, size_t n)
{
	if (r < 0 && n) {
		strncpy(d, ringcast_errdetail(), n - 1);
		d[n - 1] = 0;
	}
}

int rcgo_ring_create(const char *name, const struct ringcast_ring_opts *o,
		     unsigned f, char *d, size_t n)
{
	int r = ringcast_ring_create(name, o, f);

	rcgo_detail(r, d, n);
	return r;
}

int rcgo_ring_remove(const char *name, int force, char *d, size_t n)
{
	int r = force ? ringcast_ring_remove_force(name) :
			ringcast_ring_remove(name);

	rcgo_detail(r, d, n);
	return r;
}

int rcgo_ring_close(const char *name, char *d, size_t n)
{
	int r = ringcast_ring_close(name);

	rcgo_detail(r, d, n);
	return r;
}

int rcgo_ring_get_stats(const char *name, struct ringcast_ring_stats *st,
			char *d, size_t n)
{
	int r = ringcast_ring_get_stats(name, st);

	rcgo_detail(r, d, n);
	return r;
}

int rcgo_pub_attach(const char *name, unsigned f, struct ringcast_pub **p,
		    char *d, size_t n)
{
	int r = ringcast_pub_attach(name, f, p);

	rcgo_detail(r, d, n);
	return r;
}

int rcgo_sub_attach(const char *name, const struct ringcast_sub_opts *o,
		    struct ringcast_sub **s, uint64_t *first, char *d, size_t n)
{
	int r = ringcast_sub_attach(name, o, s, first);

	rcgo_detail(r, d, n);
	return r;
}

/*
 * ringcast_sub_next_batch() into a Go []byte: buf is Go memory (without Go
 * pointers), which C may write during the call but must not point to
 * after it.  So every event's data pointer becomes its offset in buf
 * before the return, and the event after the last one returned (or the
 * first, on an error), which the library may have pointed into buf too,
 * points nowhere.  An event whose
 * payload is not inside buf is -EFAULT (the library never returns it).
 */
int rcgo_sub_next_batch(struct ringcast_sub *s, struct ringcast_event *evs,
			unsigned int max, void *buf, size_t size,
			int64_t timeout_ns)
{
	int r = ringcast_sub_next_batch(s, evs, max, buf, size, timeout_ns);
	uintptr_t b = (uintptr_t)buf;
	int i, bad = 0;

	for (i = 0; i < r; i++) {
		uintptr_t d = (uintptr_t)evs[i].data, off = 0;

		if (evs[i].len) {
			if (d < b || d - b > size ||
			    evs[i].len > size - (d - b))
				bad = 1;
			else
				off = d - b;
		}
		evs[i].data = (const void *)off;
	}
	i = r > 0 ? r : 0;
	if ((unsigned int)i < max)
		evs[i].data = NULL;
	return bad ? -EFAULT : r;
}
