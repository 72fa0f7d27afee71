// SPDX-License-Identifier: MIT
/*
 * Rings: names, creation, validation and mapping, removal, snapshots, and
 * the process's list of mappings that fork() must know about.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "local.h"
#include "map.h"

#define RC_SHM_DIR "/dev/shm"
#define RC_PREFIX "ringcast."
#define RC_LOCK_PREFIX "ringcast-lock."

/* ---------------------------------------------------------------- fork */

static pthread_mutex_t rc_maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rc_map *rc_maps;
unsigned int rc_fork_gen; /* read inline by rc_map_forked() */

/*
 * The library's one fork handler, registered when it is loaded: the maps'
 * lock and list here, liburcu's handlers (registry.c) and the descriptors'
 * helper (subfd.c), in the order their three registrations ran in:
 * liburcu prepares before the maps' lock is taken and finishes after it
 * is dropped; the helper is forgotten last.
 */
static void rc_atfork_prepare(void)
{
	rc_local_fork_prepare();
	pthread_mutex_lock(&rc_maps_lock);
}

static void rc_atfork_parent(void)
{
	pthread_mutex_unlock(&rc_maps_lock);
	rc_local_fork_parent();
}

/*
 * The child shares the parent's lock descriptions: if it kept them, a dead
 * parent would look alive for as long as the child lives.  Close them, and
 * make every inherited handle answer -ECHILD (maps, and muxes: the one
 * fork generation).
 */
static void rc_atfork_child(void)
{
	struct rc_map *m;

	for (m = rc_maps; m; m = m->next) {
		if (m->lock_fd >= 0)
			close(m->lock_fd);
		if (m->probe_fd >= 0)
			close(m->probe_fd);
		m->lock_fd = -1;
		m->probe_fd = -1;
	}
	rc_fork_gen++;
	pthread_mutex_unlock(&rc_maps_lock);
	rc_local_fork_child();
	rc_subfd_fork_child();
}

__attribute__((constructor)) static void rc_init(void)
{
	pthread_atfork(rc_atfork_prepare, rc_atfork_parent, rc_atfork_child);
}

/* Called with rc_maps_lock held. */
static void rc_maps_add_locked(struct rc_map *m)
{
	m->fork_gen = rc_fork_gen;
	m->prev = NULL;
	m->next = rc_maps;
	if (rc_maps)
		rc_maps->prev = m;
	rc_maps = m;
}

static void rc_maps_del(struct rc_map *m)
{
	pthread_mutex_lock(&rc_maps_lock);
	if (m->prev)
		m->prev->next = m->next;
	else if (rc_maps == m)
		rc_maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->next = m->prev = NULL;
	pthread_mutex_unlock(&rc_maps_lock);
}

/* ---------------------------------------------------------------- names */

int rc_name_check(const char *name)
{
	size_t i, n;

	if (!name) {
		rc_set_detail("no ring name");
		return -EINVAL;
	}
	n = strnlen(name, RINGCAST_NAME_MAX + 1);
	if (n == 0 || n > RINGCAST_NAME_MAX) {
		rc_set_detail("a ring name has 1 to %d characters",
			      RINGCAST_NAME_MAX);
		return -EINVAL;
	}
	if (name[0] == '.') {
		rc_set_detail("a ring name may not start with '.'");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-')) {
			rc_set_detail("a ring name is made of [A-Za-z0-9._-]");
			return -EINVAL;
		}
	}
	return 0;
}

static void rc_path(char *buf, size_t len, const char *prefix, const char *name)
{
	snprintf(buf, len, "/%s%s", prefix, name);
}

uint64_t rc_random64(void)
{
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 16);
		x *= 0x9e3779b97f4a7c15ull;
	}
	return x;
}

int rc_life_check(uint64_t life)
{
	if (RC_LIFE_STATE(life) > RINGCAST_STATE_REMOVED) {
		rc_set_detail("corrupted: state %u is not a ring state",
			      RC_LIFE_STATE(life));
		return -EBADMSG;
	}
	return 0;
}

static int rc_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int rc_types_sorted(const uint32_t *types, uint32_t n, uint32_t **out,
		    uint32_t *dup)
{
	uint32_t *t = malloc(n * sizeof(*t)), i;

	if (!t)
		return -ENOMEM;
	memcpy(t, types, n * sizeof(*t));
	qsort(t, n, sizeof(*t), rc_cmp_u32);
	for (i = 1; i < n; i++) {
		if (t[i] == t[i - 1]) {
			*dup = t[i];
			free(t);
			return -EINVAL;
		}
	}
	*out = t;
	return 0;
}

/* ---------------------------------------------------------------- geometry */

struct rc_geom {
	uint32_t slots, slot_size, table_cap;
	uint64_t table_off, slots_off, total;
};

static int rc_log2(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

static int rc_geom_make(uint32_t slots, uint32_t slot_size, uint32_t cap,
			struct rc_geom *g)
{
	if (slots < RINGCAST_MIN_SLOTS || slots > RINGCAST_MAX_SLOTS ||
	    !is_pow2_u64(slots)) {
		rc_set_detail(
			"slot count %u is not a power of two from %u to %u",
			slots, RINGCAST_MIN_SLOTS, RINGCAST_MAX_SLOTS);
		return -EINVAL;
	}
	if (slot_size < RINGCAST_MIN_SLOT_SIZE ||
	    slot_size > RINGCAST_MAX_SLOT_SIZE || !is_pow2_u64(slot_size)) {
		rc_set_detail(
			"slot size %u is not a power of two from %u to %u",
			slot_size, RINGCAST_MIN_SLOT_SIZE,
			RINGCAST_MAX_SLOT_SIZE);
		return -EINVAL;
	}
	if (cap < 1 || cap > RINGCAST_MAX_SUBSCRIBERS) {
		rc_set_detail("subscriber table of %u entries: 1 to %u allowed",
			      cap, RINGCAST_MAX_SUBSCRIBERS);
		return -EINVAL;
	}
	g->slots = slots;
	g->slot_size = slot_size;
	g->table_cap = cap;
	g->table_off = RC_HDR_SIZE;
	g->slots_off = (RC_HDR_SIZE + (uint64_t)cap * RC_ENTRY_SIZE +
			RC_SLOTS_ALIGN - 1) &
		       ~(uint64_t)(RC_SLOTS_ALIGN - 1);
	g->total = g->slots_off + (uint64_t)slots * slot_size;
	if (g->total > (1ull << 40) || g->total > SIZE_MAX) {
		rc_set_detail("a ring of %llu bytes is too large",
			      (unsigned long long)g->total);
		return -EINVAL;
	}
	return 0;
}

/*
 * Validate a copy of the header (never the shared one: it could change
 * between a check and a use).  size is the object's size.
 */
static int rc_hdr_validate(const struct rc_hdr *h, uint64_t size,
			   struct rc_geom *g)
{
	uint64_t magic = atomic_load_explicit(&h->magic, memory_order_relaxed);
	int r;

	if (magic != RC_MAGIC) {
		rc_set_detail("not a ringcast ring (bad magic)");
		return -EPROTO;
	}
	if (h->abi_version != RC_ABI_VERSION) {
		rc_set_detail("incompatible version: ring has ABI version %u, "
			      "this library speaks %u",
			      h->abi_version, RC_ABI_VERSION);
		return -EPROTO;
	}
	if (h->checksum != rc_checksum(h)) {
		rc_set_detail("corrupted: header checksum mismatch");
		return -EBADMSG;
	}
	if (h->features & ~RC_FEATURES_KNOWN) {
		rc_set_detail("incompatible version: unknown features 0x%x",
			      h->features & ~RC_FEATURES_KNOWN);
		return -EPROTO;
	}
	r = rc_geom_make(h->slot_count, h->slot_size, h->table_cap, g);
	if (r < 0 || h->hdr_size != RC_HDR_SIZE ||
	    h->table_off != g->table_off || h->slots_off != g->slots_off ||
	    h->total_size != g->total) {
		rc_set_detail("corrupted: inconsistent geometry in the header");
		return -EBADMSG;
	}
	if (size < g->total) {
		rc_set_detail("truncated: object has %llu bytes, the header "
			      "says %llu",
			      (unsigned long long)size,
			      (unsigned long long)g->total);
		return -EBADMSG;
	}
	if (size > g->total) {
		rc_set_detail("corrupted: object has %llu bytes, the header "
			      "says %llu",
			      (unsigned long long)size,
			      (unsigned long long)g->total);
		return -EBADMSG;
	}
	return 0;
}

/* Lock object mode: read+write for each class that may write the ring. */
static mode_t rc_lock_mode(mode_t mode)
{
	mode_t m = 0;

	if (mode & S_IWUSR)
		m |= S_IRUSR | S_IWUSR;
	if (mode & S_IWGRP)
		m |= S_IRGRP | S_IWGRP;
	if (mode & S_IWOTH)
		m |= S_IROTH | S_IWOTH;
	return m;
}

/*
 * Open (or, with create_mode != 0, create) the lock object.  An existing
 * object is opened without O_CREAT first, so one of another owner is never
 * taken over by creating; and one that does not belong to the ring's owner
 * (uid) is refused: another user could have made it before the ring, to
 * hold the lease or make the dead look alive.
 */
static int rc_lock_open(const char *name, mode_t create_mode, uid_t uid)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct stat st;
	int fd, tries;

	rc_path(path, sizeof(path), RC_LOCK_PREFIX, name);
	for (tries = 0; tries < 4; tries++) {
		fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
		if (fd >= 0)
			goto check_owner;
		if (errno != ENOENT || !create_mode)
			return -errno;
		fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      create_mode);
		if (fd >= 0) {
			fchmod(fd, create_mode);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;

check_owner:
	if (fstat(fd, &st) < 0 || st.st_uid != uid) {
		close(fd);
		rc_set_detail("the lock object of '%s' belongs to another user",
			      name);
		return -EACCES;
	}
	return fd;
}

static int rc_probe_open(int lock_fd)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", lock_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---------------------------------------------------------------- mapping */

/*
 * Open the ring object, read-write or (a reader without write access)
 * read-only, and check it is a regular object: m->fd, m->writable, *st.
 */
static int rc_map_open_fd(struct rc_map *m, const char *name, bool want_write,
			  struct stat *st)
{
	char path[RINGCAST_NAME_MAX + 32];
	int r;

	rc_path(path, sizeof(path), RC_PREFIX, name);
	m->writable = true;
	m->fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (m->fd < 0 && errno == EACCES && !want_write) {
		m->writable = false;
		m->fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
	}
	if (m->fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			rc_set_detail("no ring named '%s'", name);
		else if (r == -EACCES)
			rc_set_detail("no permission to open ring '%s'", name);
		else if (r == -ELOOP) {
			/* shm_open() never follows a link: nor do we. */
			rc_set_detail("not a ringcast ring (a symbolic link)");
			r = -EPROTO;
		}
		return r;
	}
	if (fstat(m->fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode)) {
		rc_set_detail("not a ringcast ring (not a regular object)");
		return -EPROTO;
	}
	return 0;
}

/*
 * Read the header with pread(), not through a mapping: a short
 * object must give an error, never SIGBUS.
 */
static int rc_hdr_read(int fd, const char *name, const struct stat *st,
		       struct rc_hdr *h)
{
	ssize_t n;

	memset(h, 0, sizeof(*h));
	n = pread(fd, h, sizeof(*h), 0);
	if (n < 0)
		return -errno;
	if (atomic_load_explicit(&h->magic, memory_order_relaxed) == 0) {
		/* Empty, or its creator has not finished: not there yet. */
		rc_set_detail("ring '%s' is still being created", name);
		return -ENOENT;
	}
	if ((size_t)n < sizeof(*h)) {
		if (atomic_load_explicit(&h->magic, memory_order_relaxed) ==
		    RC_MAGIC) {
			rc_set_detail("truncated: object has %lld bytes",
				      (long long)st->st_size);
			return -EBADMSG;
		}
		rc_set_detail("not a ringcast ring (bad magic)");
		return -EPROTO;
	}
	return 0;
}

/* Map the validated geometry g of header h. */
static int rc_map_mmap(struct rc_map *m, const struct rc_hdr *h,
		       const struct rc_geom *g)
{
	/*
	 * Prefaulted: a first touch of each page would otherwise be a fault
	 * on the publish or read path (ringcast(7), "Rings").
	 */
	void *p = mmap(NULL, g->total,
		       PROT_READ | (m->writable ? PROT_WRITE : 0),
		       MAP_SHARED | MAP_POPULATE, m->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->hdr = p;
	m->size = g->total;
	m->table = (struct rc_entry *)((unsigned char *)p + g->table_off);
	m->slots = (unsigned char *)p + g->slots_off;
	m->slot_count = g->slots;
	m->mask = g->slots - 1;
	m->slot_size = g->slot_size;
	m->slot_shift = rc_log2(g->slot_size);
	m->capacity = g->slot_size - (uint32_t)sizeof(struct rc_slot);
	m->table_cap = g->table_cap;
	m->demote_ns = h->demote_ns;
	m->multi = h->features & RC_FEAT_MULTI_PUB;
	return 0;
}

/*
 * A writable map's lock descriptions, then the map in the process's list.
 * From the first lock description opened to the map's entry in the
 * list, a fork() in another thread would give the child descriptions
 * that rc_atfork_child() does not know to close.
 */
static int rc_map_lock_open(struct rc_map *m, const char *name,
			    const struct stat *st, const struct rc_hdr *h)
{
	int r;

	pthread_mutex_lock(&rc_maps_lock);
	if (m->writable) {
		/* Only the ring's owner makes a missing one again. */
		m->lock_fd = rc_lock_open(name,
					  geteuid() == st->st_uid ?
						  rc_lock_mode(h->mode & 0777) :
						  0,
					  st->st_uid);
		if (m->lock_fd < 0) {
			r = m->lock_fd;
			if (r != -EACCES)
				rc_set_detail("cannot open the lock object "
					      "of '%s'",
					      name);
			goto err_unlock;
		}
		m->probe_fd = rc_probe_open(m->lock_fd);
		if (m->probe_fd < 0) {
			r = m->probe_fd;
			goto err_close_lock;
		}
	}
	rc_maps_add_locked(m);
	pthread_mutex_unlock(&rc_maps_lock);
	return 0;

err_close_lock:
	close(m->lock_fd);
	m->lock_fd = -1;
err_unlock:
	pthread_mutex_unlock(&rc_maps_lock);
	return r;
}

int rc_map_open(const char *name, bool want_write, struct rc_map *m)
{
	struct rc_hdr h;
	struct rc_geom g;
	struct stat st;
	int r;

	memset(m, 0, sizeof(*m));
	m->fd = m->lock_fd = m->probe_fd = -1;
	m->own = -1;
	rc_set_detail("%s", "");
	r = rc_name_check(name);
	if (r < 0)
		return r;
	strcpy(m->name, name);

	r = rc_map_open_fd(m, name, want_write, &st);
	if (r < 0)
		goto err_close_fd;
	r = rc_hdr_read(m->fd, name, &st, &h);
	if (r < 0)
		goto err_close_fd;
	r = rc_hdr_validate(&h, (uint64_t)st.st_size, &g);
	if (r < 0)
		goto err_close_fd;
	r = rc_map_mmap(m, &h, &g);
	if (r < 0)
		goto err_close_fd;
	r = rc_life_check(smp_load_acquire(&m->hdr->life));
	if (r < 0)
		goto err_unmap;
	r = rc_map_lock_open(m, name, &st, &h);
	if (r < 0)
		goto err_unmap;
	return 0;

err_unmap:
	munmap(m->hdr, m->size);
	m->hdr = NULL;
err_close_fd:
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	return r;
}

void rc_map_close(struct rc_map *m)
{
	if (!m->hdr)
		return;
	rc_maps_del(m);
	/* In a forked child these are -1 already. */
	if (m->probe_fd >= 0)
		close(m->probe_fd);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	munmap(m->hdr, m->size);
	close(m->fd);
	m->hdr = NULL;
	m->fd = m->lock_fd = m->probe_fd = -1;
}

/* ---------------------------------------------------------------- create */

static int rc_geom_matches(const struct rc_map *m, const struct rc_geom *g)
{
	return m->slot_count == g->slots && m->slot_size == g->slot_size &&
	       m->table_cap == g->table_cap;
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

int rc_map_owner_check(const struct rc_map *m)
{
	struct stat st;

	if (fstat(m->fd, &st) < 0)
		return -errno;
	if (st.st_uid == geteuid())
		return 0;
	rc_set_detail("ring '%s' belongs to uid %u, not to this process's "
		      "uid %u: a publisher trusts another owner only when "
		      "asked to (RINGCAST_PUB_ANY_OWNER)",
		      m->name, (unsigned int)st.st_uid,
		      (unsigned int)geteuid());
	return -EACCES;
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
static int rc_create_lock(const char *name, mode_t mode)
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
		fd = rc_lock_open(name, rc_lock_mode(mode), geteuid());
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
static bool rc_create_busy(const char *name)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = RC_LOCK_CREATE,
		.l_len = 1,
	};
	int fd;

	rc_path(path, sizeof(path), RC_LOCK_PREFIX, name);
	fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
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
static int rc_create_look(const char *name, const char *path)
{
	uint64_t magic = 0;
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
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
static int rc_create_excl(const char *name, const char *path,
			  unsigned int flags)
{
	int fd, r, tries;

	for (tries = 0;; tries++) {
		fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd >= 0)
			return fd;
		r = -errno;
		if (r != -EEXIST || tries >= 2)
			goto err_exists;
		r = rc_create_look(name, path);
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
			if (shm_unlink(path) < 0 && errno != ENOENT)
				return -errno;
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
static int rc_create_locked(const char *name, const char *path,
			    const struct rc_geom *g,
			    const struct ringcast_ring_opts *o,
			    unsigned int flags)
{
	char lock_path[RINGCAST_NAME_MAX + 32];
	struct rc_hdr *h;
	int fd, r;
	void *p;

	fd = rc_create_excl(name, path, flags);
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
			rc_set_detail("no room in /dev/shm for %llu bytes",
				      (unsigned long long)g->total);
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
	munmap(p, g->total);
	close(fd);
	return 0;

err_unlink:
	/*
	 * Still under RC_LOCK_CREATE: no ring of that name uses the lock
	 * object, and waiters that took it after us see it unlinked.
	 */
	shm_unlink(path);
	rc_path(lock_path, sizeof(lock_path), RC_LOCK_PREFIX, name);
	shm_unlink(lock_path);
	close(fd);
	return r;
}

/* The options with their defaults filled in, checked. */
static int rc_ring_opts_fill(struct ringcast_ring_opts *o)
{
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
static int rc_create_try(const char *name, const char *path,
			 const struct rc_geom *g,
			 const struct ringcast_ring_opts *o, unsigned int flags,
			 int *done_looks, bool *again)
{
	int lock_fd, r;

	*again = false;
	/* Another user's object is not ours to wait for or remove. */
	r = rc_create_look(name, path);
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
		lock_fd = rc_create_lock(name, o->mode);
		if (lock_fd >= 0) {
			r = rc_create_locked(name, path, g, o, flags);
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
	char path[RINGCAST_NAME_MAX + 32];
	struct ringcast_ring_opts o = { 0 };
	struct timespec nap = { 0, 1000000 };
	struct rc_geom g;
	uint64_t deadline;
	int r, done_looks = 0;
	bool again;

	rc_set_detail("%s", "");
	r = rc_name_check(name);
	if (r < 0)
		return r;
	if (flags & ~(RINGCAST_CREATE_EXCL | RINGCAST_CREATE_MULTI_PUB))
		return -EINVAL;
	if (opts)
		o = *opts;
	r = rc_ring_opts_fill(&o);
	if (r < 0)
		return r;
	r = rc_geom_make(o.slots, o.slot_size, o.max_subscribers, &g);
	if (r < 0)
		return r;
	rc_path(path, sizeof(path), RC_PREFIX, name);

	deadline = rc_now_ns() + RC_CREATE_WAIT_NS;
	for (;;) {
		if (!(flags & RINGCAST_CREATE_EXCL)) {
			r = rc_create_reuse(name, &g, &o, flags);
			if (r != -ENOENT)
				return r;
		}
		r = rc_create_try(name, path, &g, &o, flags, &done_looks,
				  &again);
		if (!again)
			return r;
		/* Being created by another process: wait until it is done. */
		if (rc_now_ns() >= deadline) {
			rc_set_detail("ring '%s' is still being created by "
				      "another process",
				      name);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < (long)RC_CREATE_NAP_MAX_NS)
			nap.tv_nsec *= 2;
	}
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
	 * sticky /dev/shm refuses it to all but the owner and root).
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
static void rc_remove_mark_force(const char *path)
{
	struct rc_map m = { .writable = true };
	struct stat st;
	uint64_t magic = 0, life;
	uint32_t state;
	int fd, tries;
	void *p;

	fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
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
	munmap(p, RC_HDR_SIZE);
out_close:
	close(fd);
}

static int rc_remove(const char *name, bool force)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct rc_map m;
	int r;

	r = rc_name_check(name);
	if (r < 0)
		return r;
	rc_path(path, sizeof(path), RC_PREFIX, name);
	/*
	 * What cannot be opened as a ring (not one, corrupted, another
	 * user's) has no participants we could see or tell: the unlink
	 * decides.  A ring without magic is being created, or its creator
	 * died: only the former is busy.
	 */
	if (force) {
		rc_remove_mark_force(path);
	} else {
		r = rc_map_open(name, false, &m);
		if (r == 0) {
			r = rc_remove_mark(&m);
			rc_map_close(&m);
			if (r < 0)
				return r;
		} else if (r == -ENOENT && rc_create_busy(name)) {
			rc_set_detail("ring '%s' is being created", name);
			return -EBUSY;
		}
		rc_set_detail("%s", "");
	}
	r = 0;
	if (shm_unlink(path) < 0) {
		r = -errno;
		if (r == -ENOENT)
			rc_set_detail("no ring named '%s'", name);
	}
	rc_path(path, sizeof(path), RC_LOCK_PREFIX, name);
	shm_unlink(path);
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

/* ---------------------------------------------------------------- stat */

RINGCAST_API int ringcast_ring_get_stats(const char *name,
					 struct ringcast_ring_stats *info)
{
	struct rc_map m;
	struct rc_hdr *h;
	uint64_t life, head;
	int r;

	if (!info)
		return -EINVAL;
	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	h = m.hdr;
	memset(info, 0, sizeof(*info));
	life = smp_load_acquire(&h->life);
	r = rc_life_check(life);
	if (r < 0)
		goto out;
	/* Look, as a reader would, whether the publisher died. */
	life = rc_check_abandoned(&m, life);
	head = smp_load_acquire(&h->head);
	info->abi_version = RC_ABI_VERSION;
	info->features = h->features;
	info->slots = m.slot_count;
	info->slot_size = m.slot_size;
	info->capacity = m.capacity;
	info->max_subscribers = m.table_cap;
	info->mode = h->mode & 0777;
	info->state = RC_LIFE_STATE(life);
	info->epoch = RC_LIFE_EPOCH(life);
	info->epoch_start = READ_ONCE(h->epoch_start);
	info->head = head;
	info->oldest = head > m.slot_count ? head - m.slot_count : 0;
	/* Sequences continue across takeovers: the head is the count. */
	info->published = head;
	info->refused = READ_ONCE(h->refused);
	info->wakes = READ_ONCE(h->wakes);
	info->size = m.size;
	info->publisher_pid = READ_ONCE(h->pub_pid);
	if (info->publisher_pid <= 0)
		info->publisher_alive = 0;
	else
		info->publisher_alive = rc_publisher_alive(&m);
	info->subscribers = rc_table_live(&m);
	info->reliable = rc_table_reliable(&m);
	info->demote_ns = m.demote_ns;
	info->blocked = READ_ONCE(h->blocked);
	info->blocked_ns = READ_ONCE(h->blocked_ns);
	info->demotions = READ_ONCE(h->demotions);
	info->table_hwm = READ_ONCE(h->table_hwm);
	info->publishers = m.multi ? rc_table_publishers(&m) :
				     info->publisher_alive == 1;
out:
	rc_map_close(&m);
	return r;
}

RINGCAST_API int ringcast_ring_list(int (*cb)(const char *name, void *arg),
				    void *arg)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!cb)
		return -EINVAL;
	d = opendir(RC_SHM_DIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *n = de->d_name;

		if (strncmp(n, RC_PREFIX, strlen(RC_PREFIX)))
			continue;
		n += strlen(RC_PREFIX);
		if (rc_name_check(n) < 0)
			continue;
		r = cb(n, arg);
		if (r)
			break;
	}
	closedir(d);
	rc_set_detail("%s", "");
	return r;
}

RINGCAST_API int
ringcast_ring_get_subscribers(const char *name,
			      struct ringcast_ring_subscriber *info,
			      unsigned int max)
{
	struct rc_map m;
	uint64_t head;
	uint32_t i;
	int r, n = 0;

	if (max && !info)
		return -EINVAL;
	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	rc_table_live(&m); /* reclaim the dead first, when we may */
	/* Pairs with [E] in rc_pub_advance(). */
	head = smp_load_acquire(&m.hdr->head);
	for (i = 0; i < m.table_cap; i++) {
		struct ringcast_ring_subscriber si;

		if (!rc_entry_info(&m, i, head, &si))
			continue;
		if ((unsigned int)n < max)
			info[n] = si;
		n++;
	}
	rc_map_close(&m);
	return n;
}
