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
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "ring.h"

#define RC_SHM_DIR "/dev/shm"
#define RC_PREFIX "ringcast."
#define RC_LOCK_PREFIX "ringcast-lock."

/* ---------------------------------------------------------------- fork */

static pthread_mutex_t rc_maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rc_map *rc_maps;
unsigned int rc_fork_gen; /* read inline by rc_map_forked() */

static void rc_atfork_prepare(void)
{
	pthread_mutex_lock(&rc_maps_lock);
}

static void rc_atfork_parent(void)
{
	pthread_mutex_unlock(&rc_maps_lock);
}

/*
 * The child shares the parent's lock descriptions: if it kept them, a dead
 * parent would look alive for as long as the child lives.  Close them, and
 * make every inherited handle answer -ECHILD.
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
	if (RC_LIFE_STATE(life) > RINGCAST_STATE_ABANDONED) {
		rc_set_detail("corrupted: state %u is not a ring state",
			      RC_LIFE_STATE(life));
		return -EBADMSG;
	}
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

int rc_map_open(const char *name, bool want_write, struct rc_map *m)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct rc_hdr h;
	struct rc_geom g;
	struct stat st;
	ssize_t n;
	void *p;
	int r;

	memset(m, 0, sizeof(*m));
	m->fd = m->lock_fd = m->probe_fd = -1;
	m->own = -1;
	rc_set_detail("%s", "");
	r = rc_name_check(name);
	if (r < 0)
		return r;
	strcpy(m->name, name);
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
	if (fstat(m->fd, &st) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc_set_detail("not a ringcast ring (not a regular object)");
		r = -EPROTO;
		goto err_close_fd;
	}

	/*
	 * Read the header with pread(), not through a mapping: a short
	 * object must give an error, never SIGBUS.
	 */
	memset(&h, 0, sizeof(h));
	n = pread(m->fd, &h, sizeof(h), 0);
	if (n < 0) {
		r = -errno;
		goto err_close_fd;
	}
	if (atomic_load_explicit(&h.magic, memory_order_relaxed) == 0) {
		/* Empty, or its creator has not finished: not there yet. */
		rc_set_detail("ring '%s' is still being created", name);
		r = -ENOENT;
		goto err_close_fd;
	}
	if ((size_t)n < sizeof(h)) {
		if (atomic_load_explicit(&h.magic, memory_order_relaxed) ==
		    RC_MAGIC) {
			rc_set_detail("truncated: object has %lld bytes",
				      (long long)st.st_size);
			r = -EBADMSG;
		} else {
			rc_set_detail("not a ringcast ring (bad magic)");
			r = -EPROTO;
		}
		goto err_close_fd;
	}
	r = rc_hdr_validate(&h, (uint64_t)st.st_size, &g);
	if (r < 0)
		goto err_close_fd;

	/*
	 * Prefaulted: a first touch of each page would otherwise be a fault
	 * on the publish or read path (ringcast.h, "Memory").
	 */
	p = mmap(NULL, g.total, PROT_READ | (m->writable ? PROT_WRITE : 0),
		 MAP_SHARED | MAP_POPULATE, m->fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto err_close_fd;
	}
	m->hdr = p;
	m->size = g.total;
	m->table = (struct rc_entry *)((unsigned char *)p + g.table_off);
	m->slots = (unsigned char *)p + g.slots_off;
	m->slot_count = g.slots;
	m->mask = g.slots - 1;
	m->slot_size = g.slot_size;
	m->slot_shift = rc_log2(g.slot_size);
	m->capacity = g.slot_size - (uint32_t)sizeof(struct rc_slot);
	m->table_cap = g.table_cap;
	m->demote_ns = h.demote_ns;
	m->multi = h.features & RC_FEAT_MULTI_PUB;

	r = rc_life_check(smp_load_acquire(&m->hdr->life));
	if (r < 0)
		goto err_unmap;

	/*
	 * From the first lock description opened to the map's entry in the
	 * list, a fork() in another thread would give the child descriptions
	 * that rc_atfork_child() does not know to close.
	 */
	pthread_mutex_lock(&rc_maps_lock);
	if (m->writable) {
		/* Only the ring's owner makes a missing one again. */
		m->lock_fd = rc_lock_open(name,
					  geteuid() == st.st_uid ?
						  rc_lock_mode(h.mode & 0777) :
						  0,
					  st.st_uid);
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
err_unmap:
	munmap(m->hdr, m->size);
	m->hdr = NULL;
err_close_fd:
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

RINGCAST_API int ringcast_ring_create(const char *name,
				      const struct ringcast_ring_opts *opts,
				      unsigned int flags)
{
	char path[RINGCAST_NAME_MAX + 32];
	struct ringcast_ring_opts o = { 0 };
	struct rc_map m;
	struct rc_geom g;
	struct rc_hdr *h;
	int fd, lock_fd, r, tries;
	void *p;

	rc_set_detail("%s", "");
	r = rc_name_check(name);
	if (r < 0)
		return r;
	if (flags & ~(RINGCAST_CREATE_EXCL | RINGCAST_CREATE_MULTI_PUB))
		return -EINVAL;
	if (opts)
		o = *opts;
	if (!o.slots)
		o.slots = RINGCAST_DEFAULT_SLOTS;
	if (!o.slot_size)
		o.slot_size = RINGCAST_DEFAULT_SLOT_SIZE;
	if (!o.max_subscribers)
		o.max_subscribers = RINGCAST_DEFAULT_MAX_SUBSCRIBERS;
	if (!o.mode)
		o.mode = 0600;
	if (o.mode & ~0777u) {
		rc_set_detail("mode %o: only permission bits are allowed",
			      o.mode);
		return -EINVAL;
	}
	r = rc_geom_make(o.slots, o.slot_size, o.max_subscribers, &g);
	if (r < 0)
		return r;
	rc_path(path, sizeof(path), RC_PREFIX, name);

	for (tries = 0; tries < 8; tries++) {
		if (!(flags & RINGCAST_CREATE_EXCL)) {
			/* Open without O_CREAT first: never reuse blindly. */
			r = rc_map_open(name, false, &m);
			if (r == 0 && rc_foreign(&m)) {
				rc_set_detail("ring '%s' exists and belongs to "
					      "another user",
					      name);
				rc_map_close(&m);
				return -EEXIST;
			}
			if (r == 0) {
				r = rc_geom_matches(&m, &g) ? 1 : -EEXIST;
				if (r < 0)
					rc_set_detail("ring '%s' exists with "
						      "another geometry",
						      name);
				else if (!rc_policy_matches(&m, &o, flags)) {
					rc_set_detail("ring '%s' exists with "
						      "another demotion limit "
						      "or publisher mode",
						      name);
					r = -EEXIST;
				}
				rc_map_close(&m);
				return r;
			}
			if (r != -ENOENT)
				return r;
		}
		fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd >= 0)
			break;
		r = -errno;
		if (r != -EEXIST || (flags & RINGCAST_CREATE_EXCL)) {
			if (r == -EEXIST)
				rc_set_detail("ring '%s' exists", name);
			return r;
		}
		/* Someone is creating it right now: look again. */
		if (tries > 4)
			usleep(1000);
	}
	if (fd < 0)
		return -EEXIST;

	if (fchmod(fd, o.mode) < 0) {
		r = -errno;
		goto err_unlink;
	}
	r = posix_fallocate(fd, 0, (off_t)g.total);
	if (r) {
		r = (r == ENOSPC || r == EFBIG) ? -ENOSPC : -r;
		if (r == -ENOSPC)
			rc_set_detail("no room in /dev/shm for %llu bytes",
				      (unsigned long long)g.total);
		goto err_unlink;
	}
	lock_fd = rc_lock_open(name, rc_lock_mode(o.mode), geteuid());
	if (lock_fd < 0) {
		r = lock_fd;
		goto err_unlink;
	}
	close(lock_fd);

	p = mmap(NULL, g.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	/* The object is all zeroes: every slot stamp reads "never written". */
	h = p;
	h->abi_version = RC_ABI_VERSION;
	h->features = flags & RINGCAST_CREATE_MULTI_PUB ? RC_FEAT_MULTI_PUB : 0;
	h->hdr_size = RC_HDR_SIZE;
	h->slot_count = g.slots;
	h->slot_size = g.slot_size;
	h->table_cap = g.table_cap;
	h->table_off = g.table_off;
	h->slots_off = g.slots_off;
	h->total_size = g.total;
	h->mode = o.mode;
	h->create_flags = flags;
	h->demote_ns = o.demote_ns;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		h->created_ns = (uint64_t)ts.tv_sec * 1000000000u +
				(uint64_t)ts.tv_nsec;
	}
	h->checksum = rc_checksum(h);
	/*
	 * Publish the complete header: pairs with the acquire in attachers'
	 * pread() + validation (a later mapping sees every store above).
	 */
	smp_store_release(&h->magic, RC_MAGIC);
	munmap(p, g.total);
	close(fd);
	return 0;

err_unlink:
	shm_unlink(path);
	close(fd);
	return r;
}

RINGCAST_API int ringcast_ring_remove(const char *name)
{
	char path[RINGCAST_NAME_MAX + 32];
	int r;

	rc_set_detail("%s", "");
	r = rc_name_check(name);
	if (r < 0)
		return r;
	rc_path(path, sizeof(path), RC_PREFIX, name);
	if (shm_unlink(path) < 0) {
		r = -errno;
		if (r == -ENOENT)
			rc_set_detail("no ring named '%s'", name);
	}
	rc_path(path, sizeof(path), RC_LOCK_PREFIX, name);
	shm_unlink(path);
	return r;
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
		if (RC_LIFE_STATE(life) == RINGCAST_STATE_CLOSED) {
			r = -EPIPE;
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

RINGCAST_API int ringcast_ring_stat(const char *name,
				    struct ringcast_ring_info *info)
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

RINGCAST_API int ringcast_ring_subscribers(const char *name,
					   struct ringcast_sub_info *info,
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
		struct ringcast_sub_info si;

		if (!rc_entry_info(&m, i, head, &si))
			continue;
		if ((unsigned int)n < max)
			info[n] = si;
		n++;
	}
	rc_map_close(&m);
	return n;
}
