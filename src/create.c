// SPDX-License-Identifier: MIT
/*
 * Making and ending rings: creation under the creation lock, removal
 * (ringcast_ring_remove(), and _force() without a handle), and the end
 * of stream that ringcast_ring_close() marks.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "map.h"

static int rc_geom_matches(const struct rc_map *m, const struct rc_geom *g)
{
	return m->slot_count == g->slots && m->slot_size == g->slot_size &&
	       m->table_cap == g->table_cap && m->data_size == g->data_size;
}

static int rc_policy_matches(const struct rc_map *m,
			     const struct ringcast_ring_opts *o,
			     unsigned int flags)
{
	return m->demote_ns == o->demote_ns &&
	       m->multi == !!(flags & RINGCAST_CREATE_MULTI_PUB);
}

/* Does the mapped ring belong to another user than us? */
static bool rc_foreign(const struct rc_map *m)
{
	struct stat st;

	return fstat(m->fd, &st) < 0 || st.st_uid != geteuid();
}

/*
 * Creation.  The creator holds RC_LOCK_CREATE on the lock object while the
 * ring object exists without its magic, so that another creator can tell
 * a creation in progress (wait for it) from a dead creator's leftover
 * (remove it and create the ring again).  The lock is taken before the
 * ring object is made, and the lock object only ever goes away while
 * nobody holds its RC_LOCK_CREATE or along with the ring, so:
 *
 *   ring object without magic + RC_LOCK_CREATE held  -> being created
 *   ring object without magic + RC_LOCK_CREATE ours  -> its creator died
 *
 * Only processes of the ring's owner take part: an object of another
 * owner is never adopted (-EEXIST), and the lock object of another owner
 * is refused (rc_lock_open()).  The wait is bounded by RC_CREATE_WAIT_NS.
 */
#define RC_CREATE_WAIT_NS (30ull * 1000000000u)
#define RC_CREATE_NAP_MAX_NS (16u * 1000000u)

/*
 * Take RC_LOCK_CREATE, making the lock object when it is missing: its
 * descriptor (closing it drops the lock), -EBUSY while another process
 * holds it (it creates the ring), or a negative errno.
 */
static int rc_create_lock(const struct rc_loc *l, mode_t mode)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = RC_LOCK_CREATE,
		.l_len = 1,
	};
	struct stat st;
	int fd, r, tries;

	for (tries = 0; tries < 8; tries++) {
		fd = rc_lock_open(l, rc_lock_mode(mode), geteuid());
		if (fd < 0)
			return fd;
		if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
			r = (errno == EAGAIN || errno == EACCES) ? -EBUSY :
								   -errno;
			close(fd);
			return r;
		}
		/*
		 * A lock object unlinked under us (a removal, a creation that
		 * failed) guards nothing: the next one opened by name does.
		 */
		if (fstat(fd, &st) == 0 && st.st_nlink > 0)
			return fd;
		close(fd);
	}
	return -EBUSY;
}

/* Is another process creating the ring now?  true when it holds the lock. */
static bool rc_create_busy(const struct rc_loc *l)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = RC_LOCK_CREATE,
		.l_len = 1,
	};
	int fd;

	fd = rc_loc_obj_open(l, RC_LOCK_PREFIX, O_RDWR, 0);
	if (fd < 0)
		return false;
	/* A fresh description: it sees every other description's lock. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		fl.l_type = F_UNLCK;
	close(fd);
	return fl.l_type != F_UNLCK;
}

/* What rc_create_look() found at a ring's path. */
#define RC_OBJ_HALF 0 /* ours, no magic: being created, or its creator died */
#define RC_OBJ_DONE 1 /* ours, with a magic: a ring (or a corrupted one) */

/*
 * Look at the object a creator found: RC_OBJ_HALF, RC_OBJ_DONE, -ENOENT
 * when there is none, -EEXIST when it belongs to another user, -EPROTO for
 * a link, or another negative errno.
 */
static int rc_create_look(const struct rc_loc *l, const char *name)
{
	uint64_t magic = 0;
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = rc_loc_obj_open(l, RC_PREFIX, O_RDONLY, 0);
	if (fd < 0) {
		r = fd;
		if (r == -EACCES)
			goto foreign;
		if (r == -ELOOP) {
			rc_set_detail("not a ringcast ring (a symbolic link)");
			r = -EPROTO;
		}
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		goto foreign;
	}
	n = pread(fd, &magic, sizeof(magic), 0);
	if (n < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) && !magic ? RC_OBJ_HALF : RC_OBJ_DONE;
out:
	close(fd);
	return r;
foreign:
	rc_set_detail("ring '%s' exists and belongs to another user", name);
	return -EEXIST;
}

/* The header of a new ring, all of it but the magic. */
static void rc_hdr_init(struct rc_hdr *h, const struct rc_geom *g,
			const struct ringcast_ring_opts *o, unsigned int flags)
{
	struct timespec ts;

	/* The object is all zeroes: every slot stamp reads "never written". */
	h->abi_version = RC_ABI_VERSION;
	h->features = flags & RINGCAST_CREATE_MULTI_PUB ? RC_FEAT_MULTI_PUB : 0;
	h->hdr_size = RC_HDR_SIZE;
	h->slot_count = g->slots;
	h->slot_size = g->slot_size;
	h->table_cap = g->table_cap;
	h->table_off = g->table_off;
	h->slots_off = g->slots_off;
	h->total_size = g->total;
	h->data_off = g->data_off;
	h->data_size = g->data_size;
	h->max_event = g->max_event;
	h->mode = o->mode;
	h->create_flags = flags;
	h->demote_ns = o->demote_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_ns =
		(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	h->checksum = rc_checksum(h);
}

/*
 * The ring object, made with O_EXCL under RC_LOCK_CREATE: a half-made one
 * whose creator died is removed first.  Its descriptor, or -EEXIST,
 * -EAGAIN (made meanwhile: reuse it), another error.
 */
static int rc_create_excl(const struct rc_loc *l, const char *name,
			  unsigned int flags)
{
	int fd, r, tries;

	for (tries = 0;; tries++) {
		fd = rc_loc_obj_open(l, RC_PREFIX, O_RDWR | O_CREAT | O_EXCL,
				     0600);
		if (fd >= 0)
			return fd;
		r = fd;
		if (r != -EEXIST || tries >= 2)
			goto err_exists;
		r = rc_create_look(l, name);
		if (r == RC_OBJ_DONE) {
			r = (flags & RINGCAST_CREATE_EXCL) ? -EEXIST : -EAGAIN;
			goto err_exists;
		}
		if (r == RC_OBJ_HALF) {
			/*
			 * No magic, and RC_LOCK_CREATE is ours: its creator
			 * died before it finished.  Nobody else may map it
			 * (attachers see -ENOENT until the magic): remove it.
			 */
			r = rc_loc_unlink(l, RC_PREFIX);
			if (r < 0 && r != -ENOENT)
				return r;
		} else if (r != -ENOENT) {
			return r;
		}
	}

err_exists:
	if (r == -EEXIST)
		rc_set_detail("ring '%s' exists", name);
	return r;
}

/*
 * Create the ring, holding RC_LOCK_CREATE: 0, -EAGAIN when a complete
 * object of ours is there (look at it again), or a negative errno.
 */
static int rc_create_locked(const struct rc_loc *l, const char *name,
			    const struct rc_geom *g,
			    const struct ringcast_ring_opts *o,
			    unsigned int flags)
{
	struct rc_hdr *h;
	int fd, r;
	void *p;

	fd = rc_create_excl(l, name, flags);
	if (fd < 0)
		return fd;
	if (fchmod(fd, o->mode) < 0) {
		r = -errno;
		goto err_unlink;
	}
	r = posix_fallocate(fd, 0, (off_t)g->total);
	if (r) {
		r = (r == ENOSPC || r == EFBIG) ? -ENOSPC : -r;
		if (r == -ENOSPC)
			rc_set_detail("no room in %.*s for %llu bytes%s",
				      RC_LOC_DIR(l),
				      (unsigned long long)g->total,
				      l->huge ? " (in free huge pages)" : "");
		goto err_unlink;
	}
	p = mmap(NULL, g->total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	h = p;
	rc_hdr_init(h, g, o, flags);
	/*
	 * Publish the complete header: pairs with the acquire in attachers'
	 * pread() + validation (a later mapping sees every store above).
	 * Stored before RC_LOCK_CREATE is dropped: a creator that takes the
	 * lock after us sees the magic.
	 */
	smp_store_release(&h->magic, RC_MAGIC);
	munmap(p, rc_loc_map_len(l, g->total));
	close(fd);
	return 0;

err_unlink:
	/*
	 * Still under RC_LOCK_CREATE: no ring of that name uses the lock
	 * object, and waiters that took it after us see it unlinked.
	 */
	rc_loc_unlink(l, RC_PREFIX);
	rc_loc_unlink(l, RC_LOCK_PREFIX);
	close(fd);
	return r;
}

/* The options with their defaults filled in, checked. */
static int rc_ring_opts_fill(struct ringcast_ring_opts *o, unsigned int flags)
{
	if (flags & RINGCAST_CREATE_MULTI_PUB) {
		if (o->data_size && !(flags & RINGCAST_CREATE_NO_DATA)) {
			rc_set_detail("a multi-publisher ring has no data "
				      "area: events fit its slots");
			return -EINVAL;
		}
		o->data_size = 0;
	} else if (flags & RINGCAST_CREATE_NO_DATA) {
		o->data_size = 0;
	} else if (!o->data_size) {
		o->data_size = RINGCAST_DEFAULT_DATA_SIZE;
	}
	if (!o->slots)
		o->slots = RINGCAST_DEFAULT_SLOTS;
	if (!o->slot_size)
		o->slot_size = RINGCAST_DEFAULT_SLOT_SIZE;
	if (!o->max_subscribers)
		o->max_subscribers = RINGCAST_DEFAULT_MAX_SUBSCRIBERS;
	if (!o->mode)
		o->mode = 0600;
	if (o->mode & ~0777u) {
		rc_set_detail("mode %o: only permission bits are allowed",
			      o->mode);
		return -EINVAL;
	}
	return 0;
}

/*
 * Without RINGCAST_CREATE_EXCL: a ring of that name already there is
 * reused if it is ours and as asked (1), else -EEXIST; -ENOENT when there
 * is none yet, or another error.  Opened without O_CREAT first: never
 * reuse blindly.
 */
static int rc_create_reuse(const char *name, const struct rc_geom *g,
			   const struct ringcast_ring_opts *o,
			   unsigned int flags)
{
	struct rc_map m;
	int r;

	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	if (rc_foreign(&m)) {
		rc_set_detail("ring '%s' exists and belongs to another user",
			      name);
		r = -EEXIST;
	} else if (!rc_geom_matches(&m, g)) {
		rc_set_detail("ring '%s' exists with another geometry", name);
		r = -EEXIST;
	} else if (!rc_policy_matches(&m, o, flags)) {
		rc_set_detail("ring '%s' exists with another demotion limit "
			      "or publisher mode",
			      name);
		r = -EEXIST;
	} else {
		r = 1;
	}
	rc_map_close(&m);
	return r;
}

/*
 * Create the ring unless it is there or being created: *again is set
 * when another process is creating it (wait, and look again); else the
 * result of ringcast_ring_create().  *done_looks counts the looks that
 * found the object complete though rc_create_reuse() could not open it.
 */
static int rc_create_try(const struct rc_loc *l, const char *name,
			 const struct rc_geom *g,
			 const struct ringcast_ring_opts *o, unsigned int flags,
			 int *done_looks, bool *again)
{
	int lock_fd, r;

	*again = false;
	/* Another user's object is not ours to wait for or remove. */
	r = rc_create_look(l, name);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == RC_OBJ_DONE && (flags & RINGCAST_CREATE_EXCL)) {
		rc_set_detail("ring '%s' exists", name);
		return -EEXIST;
	}
	/*
	 * Complete, and yet not opened: it was completed between the two
	 * looks (look again), or it cannot be opened (its lock object
	 * missing and not ours to make): nothing to wait for then.
	 */
	if (r == RC_OBJ_DONE && ++*done_looks > 1) {
		rc_set_detail("ring '%s' exists and cannot be opened", name);
		return -EEXIST;
	}
	if (r != RC_OBJ_DONE) {
		lock_fd = rc_create_lock(l, o->mode);
		if (lock_fd >= 0) {
			r = rc_create_locked(l, name, g, o, flags);
			/* Drops RC_LOCK_CREATE: waiters look again. */
			close(lock_fd);
			if (r != -EAGAIN)
				return r;
		} else if (lock_fd != -EBUSY) {
			return lock_fd;
		} else if (flags & RINGCAST_CREATE_EXCL) {
			rc_set_detail("ring '%s' exists (it is being "
				      "created)",
				      name);
			return -EEXIST;
		}
	}
	*again = true;
	return 0;
}

RINGCAST_API int ringcast_ring_create(const char *name,
				      const struct ringcast_ring_opts *opts,
				      unsigned int flags)
{
	struct ringcast_ring_opts o = { 0 };
	struct timespec nap = { 0, 1000000 };
	struct rc_loc l;
	struct rc_geom g;
	uint64_t deadline;
	int r, done_looks = 0;
	bool again;

	rc_set_detail("%s", "");
	if (flags & ~(RINGCAST_CREATE_EXCL | RINGCAST_CREATE_MULTI_PUB |
		      RINGCAST_CREATE_NO_DATA))
		return -EINVAL;
	if (opts)
		o = *opts;
	r = rc_ring_opts_fill(&o, flags);
	if (r < 0)
		return r;
	r = rc_geom_make(o.slots, o.slot_size, o.max_subscribers, o.data_size,
			 &g);
	if (r < 0)
		return r;
	r = rc_loc_open(name, &l);
	if (r < 0)
		return r;

	deadline = rc_now_ns() + RC_CREATE_WAIT_NS;
	for (;;) {
		if (!(flags & RINGCAST_CREATE_EXCL)) {
			r = rc_create_reuse(name, &g, &o, flags);
			if (r != -ENOENT)
				break;
		}
		r = rc_create_try(&l, name, &g, &o, flags, &done_looks, &again);
		if (!again)
			break;
		/* Being created by another process: wait until it is done. */
		if (rc_now_ns() >= deadline) {
			rc_set_detail("ring '%s' is still being created by "
				      "another process",
				      name);
			r = -ETIMEDOUT;
			break;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < (long)RC_CREATE_NAP_MAX_NS)
			nap.tv_nsec *= 2;
	}
	rc_loc_close(&l);
	return r;
}

/*
 * A participant of the ring that is alive: -EBUSY naming it, or 0.  A
 * process that cannot probe the locks judges by pid and start time.
 */
static int rc_remove_check(struct rc_map *m)
{
	struct rc_hdr *hdr = m->hdr;
	uint32_t i, st;
	int32_t pid;
	int alive;

	if (!m->multi && rc_publisher_alive(m) == 1) {
		rc_set_detail("ring '%s' has a live publisher (pid %d)",
			      m->name, (int)READ_ONCE(hdr->pub_pid));
		return -EBUSY;
	}
	rc_table_live(m); /* reclaim the dead first, when we may */
	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];

		st = RC_ENTRY_KIND(smp_load_acquire(&e->state));
		if (st == RC_ENTRY_FREE)
			continue;
		pid = READ_ONCE(e->pid);
		alive = rc_lock_probe(m, RC_LOCK_ENTRY0 + (int)i);
		if (alive < 0)
			alive = pid > 0 ?
					rc_pid_alive(pid,
						     READ_ONCE(e->start_time)) :
					0;
		if (alive != 1)
			continue;
		rc_set_detail("ring '%s' has a live %s (pid %d)", m->name,
			      st == RC_ENTRY_PUBLISHER ? "publisher" :
							 "subscriber",
			      (int)pid);
		return -EBUSY;
	}
	return 0;
}

/*
 * Mark the ring removed, so that a participant that attaches meanwhile
 * learns it (-EIDRM), after checking that none is alive.  0 or a negative
 * errno.
 */
static int rc_remove_mark(struct rc_map *m)
{
	uint64_t life;
	int r, tries;

	/*
	 * Another user's ring we cannot write: the unlink decides (the
	 * sticky /dev/shm, or ring directory, refuses it to all but the
	 * owner and root).
	 */
	if (!m->writable && rc_foreign(m))
		return 0;
	life = smp_load_acquire(&m->hdr->life);
	for (tries = 0; tries < 64; tries++) {
		r = rc_remove_check(m);
		if (r < 0)
			return r;
		/* A closed ring keeps its end of stream for its readers. */
		if (rc_life_check(life) < 0 ||
		    RC_LIFE_STATE(life) == RINGCAST_STATE_REMOVED ||
		    RC_LIFE_STATE(life) == RINGCAST_STATE_CLOSED)
			return 0;
		if (!m->writable)
			return 0; /* cannot tell them; the unlink still goes */
		/*
		 * Release: pairs with the acquire of life by readers, so
		 * that what was committed before is drained before -EIDRM.
		 * A failure means the life word changed (a takeover, a
		 * close): look again, each change being a real event.
		 */
		if (atomic_compare_exchange_strong_explicit(
			    &m->hdr->life, &life,
			    RC_LIFE(RC_LIFE_EPOCH(life),
				    RINGCAST_STATE_REMOVED),
			    memory_order_acq_rel, memory_order_acquire)) {
			rc_wake_all(m);
			return 0;
		}
	}
	return -EBUSY;
}

/*
 * rc_remove_mark() for a forced removal, without a handle: only the
 * header is mapped, no lock is taken, nothing is allocated, so that a
 * program may remove its ring from a fatal signal's handler.  A ring we
 * cannot write, or not a ring at all, is left to the unlink.
 */
static void rc_remove_mark_force(const struct rc_loc *l)
{
	struct rc_map m = { .writable = true };
	struct stat st;
	uint64_t magic = 0, life;
	uint32_t state;
	int fd, tries;
	void *p;

	fd = rc_loc_obj_open(l, RC_PREFIX, O_RDWR, 0);
	if (fd < 0)
		return;
	/* The object holds a header (a short one would be SIGBUS). */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)RC_HDR_SIZE ||
	    pread(fd, &magic, sizeof(magic), 0) != sizeof(magic) ||
	    magic != RC_MAGIC)
		goto out_close;
	p = mmap(NULL, RC_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out_close;
	m.hdr = p;
	life = smp_load_acquire(&m.hdr->life);
	for (tries = 0; tries < 64; tries++) {
		state = RC_LIFE_STATE(life);
		/* A closed ring keeps its end of stream for its readers. */
		if (state == RINGCAST_STATE_CLOSED ||
		    state >= RINGCAST_STATE_REMOVED)
			break;
		/* As in rc_remove_mark(). */
		if (atomic_compare_exchange_strong_explicit(
			    &m.hdr->life, &life,
			    RC_LIFE(RC_LIFE_EPOCH(life),
				    RINGCAST_STATE_REMOVED),
			    memory_order_acq_rel, memory_order_acquire)) {
			rc_wake_all(&m);
			break;
		}
	}
	munmap(p, rc_loc_map_len(l, RC_HDR_SIZE));
out_close:
	close(fd);
}

static int rc_remove(const char *name, bool force)
{
	struct rc_map m;
	struct rc_loc l;
	int r;

	r = rc_loc_open(name, &l);
	if (r < 0)
		return r;
	/*
	 * What cannot be opened as a ring (not one, corrupted, another
	 * user's) has no participants we could see or tell: the unlink
	 * decides.  A ring without magic is being created, or its creator
	 * died: only the former is busy.
	 */
	if (force) {
		rc_remove_mark_force(&l);
	} else {
		r = rc_map_open(name, false, &m);
		if (r == 0) {
			r = rc_remove_mark(&m);
			rc_map_close(&m);
			if (r < 0)
				goto out_close;
		} else if (r == -ENOENT && rc_create_busy(&l)) {
			rc_set_detail("ring '%s' is being created", name);
			r = -EBUSY;
			goto out_close;
		}
		rc_set_detail("%s", "");
	}
	r = rc_loc_unlink(&l, RC_PREFIX);
	if (r == -ENOENT)
		rc_set_detail("no ring named '%s'", name);
	rc_loc_unlink(&l, RC_LOCK_PREFIX);
out_close:
	rc_loc_close(&l);
	return r;
}

RINGCAST_API int ringcast_ring_remove(const char *name)
{
	return rc_remove(name, false);
}

RINGCAST_API int ringcast_ring_remove_force(const char *name)
{
	return rc_remove(name, true);
}

RINGCAST_API int ringcast_ring_close(const char *name)
{
	struct rc_map m;
	uint64_t life;
	int r;

	r = rc_map_open(name, true, &m);
	if (r < 0)
		return r;
	life = smp_load_acquire(&m.hdr->life);
	for (;;) {
		if (RC_LIFE_STATE(life) == RINGCAST_STATE_CLOSED ||
		    RC_LIFE_STATE(life) == RINGCAST_STATE_REMOVED) {
			r = rc_life_end(life);
			goto out;
		}
		/*
		 * Release: pairs with the acquire of life by readers.  A
		 * failure means the life word changed (a takeover, an
		 * abandonment): look again; each change is a real event, so
		 * this ends.
		 */
		if (atomic_compare_exchange_strong_explicit(
			    &m.hdr->life, &life,
			    RC_LIFE(RC_LIFE_EPOCH(life), RINGCAST_STATE_CLOSED),
			    memory_order_acq_rel, memory_order_acquire))
			break;
	}
	rc_wake_all(&m);
out:
	rc_map_close(&m);
	return r;
}
