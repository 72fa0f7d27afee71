// SPDX-License-Identifier: MIT
/*
 * Monitor handles: a ring mapped read-only once and kept, for those who
 * look at it again and again (an exporter scraped every few seconds, a
 * top), where ringcast_ring_get_stats() validates and maps a whole ring
 * at every call.
 *
 * A monitor writes nothing to the ring and takes no lock: not the lease,
 * not an entry's lock, not a table reclaim's.  What it reads is what
 * ringcast_ring_get_stats() reads through a read-only map (stat.c).
 * Each call first checks, for the price of two system calls and no
 * access to shared memory, that the mapping is still the ring of that
 * name (the object was not unlinked: -EIDRM) and that the header's
 * immutable part, whose geometry the map copied at open, still carries
 * the checksum it had then (-EBADMSG).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barrier.h"
#include "map.h"

/* The immutable part of the header, up to and with its checksum. */
#define RC_MON_IMMUTABLE (offsetof(struct rc_hdr, checksum) + sizeof(uint64_t))

struct ringcast_mon {
	struct rc_map map;
	uint64_t checksum; /* the header's, as validated at open */
};

RINGCAST_API int ringcast_mon_open(const char *name, struct ringcast_mon **monp)
{
	struct ringcast_mon *mon;
	struct rc_hdr h;
	int r;

	if (!monp)
		return -EINVAL;
	*monp = NULL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	r = rc_map_open_ro(name, &mon->map);
	if (r < 0)
		goto err_free;
	/* The copy that rc_map_open_ro() validated is gone: read it again. */
	if (pread(mon->map.fd, &h, RC_MON_IMMUTABLE, 0) !=
		    (ssize_t)RC_MON_IMMUTABLE ||
	    h.checksum != rc_checksum(&h)) {
		rc_set_detail("corrupted: header changed while it was opened");
		r = -EBADMSG;
		goto err_unmap;
	}
	mon->checksum = h.checksum;
	*monp = mon;
	return 0;

err_unmap:
	rc_map_close(&mon->map);
err_free:
	free(mon);
	return r;
}

/*
 * Is the monitor's ring still there and whole?  0, -EINVAL, -ECHILD,
 * -EIDRM (unlinked) or -EBADMSG.
 */
static int rc_mon_check(struct ringcast_mon *mon)
{
	struct rc_map *m;
	struct rc_hdr h;
	struct stat st;

	if (!mon)
		return -EINVAL;
	m = &mon->map;
	rc_set_detail("%s", "");
	if (rc_map_forked(m))
		return -ECHILD;
	/* An unlinked object (removed, maybe made again since) has no link. */
	if (fstat(m->fd, &st) == 0 && st.st_nlink == 0) {
		rc_set_detail("ring '%s' was removed since it was opened",
			      m->name);
		return -EIDRM;
	}
	/* Through the descriptor, not the map: plain fields of a copy. */
	if (pread(m->fd, &h, RC_MON_IMMUTABLE, 0) !=
		    (ssize_t)RC_MON_IMMUTABLE ||
	    atomic_load_explicit(&h.magic, memory_order_relaxed) != RC_MAGIC ||
	    h.checksum != mon->checksum || h.checksum != rc_checksum(&h)) {
		rc_set_detail("corrupted: the header of '%s' changed since it "
			      "was opened",
			      m->name);
		return -EBADMSG;
	}
	return 0;
}

RINGCAST_API int ringcast_mon_get_stats(struct ringcast_mon *mon,
					struct ringcast_ring_stats *st)
{
	int r;

	if (!st)
		return -EINVAL;
	r = rc_mon_check(mon);
	if (r < 0)
		return r;
	r = rc_map_stats(&mon->map, st);
	if (r < 0)
		return r;
	if (st->state == RINGCAST_STATE_REMOVED) {
		/* Marked by a removal that unlinks it next. */
		rc_set_detail("ring '%s' was removed since it was opened",
			      mon->map.name);
		return -EIDRM;
	}
	return 0;
}

RINGCAST_API int
ringcast_mon_get_subscribers(struct ringcast_mon *mon,
			     struct ringcast_ring_subscriber *info,
			     unsigned int max)
{
	uint64_t life;
	int r;

	if (max && !info)
		return -EINVAL;
	r = rc_mon_check(mon);
	if (r < 0)
		return r;
	/* Acquire, as rc_map_stats() reads it: pairs with its writers' CAS. */
	life = smp_load_acquire(&mon->map.hdr->life);
	r = rc_life_check(life);
	if (r < 0)
		return r;
	if (RC_LIFE_STATE(life) == RINGCAST_STATE_REMOVED) {
		rc_set_detail("ring '%s' was removed since it was opened",
			      mon->map.name);
		return -EIDRM;
	}
	return rc_map_subscribers(&mon->map, info, max);
}

RINGCAST_API void ringcast_mon_close(struct ringcast_mon *mon)
{
	if (!mon)
		return;
	rc_map_close(&mon->map);
	free(mon);
}
