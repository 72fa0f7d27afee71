// SPDX-License-Identifier: MIT
/*
 * Rings: names, geometry and the header's validation, the lock object,
 * mapping, and the process's list of mappings that fork() must know about
 * (the library's one fork handler).  Making and ending rings is in
 * create.c, their snapshots in stat.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "list.h"
#include "local.h"
#include "map.h"

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
	rc_list_push(&rc_maps, m);
}

static void rc_maps_del(struct rc_map *m)
{
	pthread_mutex_lock(&rc_maps_lock);
	rc_list_del(&rc_maps, m);
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

/*
 * Ring directories.  A directory is trusted, as /dev/shm is, when nobody
 * but root and the caller can replace what lies in it: it belongs to root
 * or to the caller, and if others may write it, its sticky bit keeps them
 * from removing or renaming what is not theirs.  It is checked on the
 * descriptor that is then used, opened without following a link, so the
 * directory checked is the directory used.  The directories above it are
 * the caller's choice, as with any path it gives.
 */
static int rc_dir_check(int fd, const char *dir, int dirlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		rc_set_detail("directory '%.*s' belongs to uid %u, neither "
			      "root nor this process's uid %u",
			      dirlen, dir, (unsigned int)st.st_uid,
			      (unsigned int)geteuid());
		return -EACCES;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		rc_set_detail("directory '%.*s' is writable by others without "
			      "the sticky bit (mode %o)",
			      dirlen, dir, (unsigned int)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

/* The page size of a directory on hugetlbfs, else 0. */
static size_t rc_dir_huge(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0 || sf.f_type != HUGETLBFS_MAGIC ||
	    sf.f_bsize <= 0 || !is_pow2_u64((uint64_t)sf.f_bsize))
		return 0;
	return (size_t)sf.f_bsize;
}

/* For a message: is path a symbolic link? */
static bool rc_is_link(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

int rc_loc_open(const char *path, struct rc_loc *l)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;
	int r;

	l->dirfd = -1;
	l->huge = 0;
	l->dir = NULL;
	l->dirlen = 0;
	l->name = path;
	if (!path)
		return rc_name_check(path);
	slash = strrchr(path, '/');
	if (!slash)
		return rc_name_check(path);
	l->name = slash + 1;
	r = rc_name_check(l->name);
	if (r < 0)
		return r;
	/* "/NAME": the root directory. */
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		rc_set_detail("a ring's directory has fewer than %d bytes",
			      PATH_MAX);
		return -EINVAL;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	l->dir = path;
	l->dirlen = (int)n;
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->dirfd < 0) {
		r = -errno;
		if (r == -ENOENT)
			rc_set_detail("no directory '%s'", dir);
		else if (r == -ELOOP || r == -ENOTDIR)
			rc_set_detail("'%s' is not a directory%s", dir,
				      rc_is_link(dir) ? " (a symbolic link)" :
							"");
		else if (r == -EACCES)
			rc_set_detail("no permission to open directory '%s'",
				      dir);
		else if (r == -ENAMETOOLONG)
			rc_set_detail("directory '%s': a name too long", dir);
		if (r == -ELOOP || r == -ENOTDIR)
			r = -EACCES;
		else if (r == -ENAMETOOLONG)
			r = -EINVAL;
		return r;
	}
	r = rc_dir_check(l->dirfd, dir, (int)n);
	if (r < 0) {
		rc_loc_close(l);
		return r;
	}
	l->huge = rc_dir_huge(l->dirfd);
	return 0;
}

void rc_loc_close(struct rc_loc *l)
{
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
}

/*
 * In a directory, open(2) with O_NOFOLLOW, as shm_open() opens in
 * /dev/shm, and O_NONBLOCK: a FIFO put there never blocks the open (it
 * is then refused as not a regular file).
 */
int rc_loc_obj_open(const struct rc_loc *l, const char *prefix, int flags,
		    mode_t mode)
{
	char path[RINGCAST_NAME_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "/%s%s", prefix, l->name);
	if (l->dirfd < 0)
		fd = shm_open(path, flags | O_CLOEXEC, mode);
	else
		fd = openat(l->dirfd, path + 1,
			    flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
	return fd < 0 ? -errno : fd;
}

int rc_loc_unlink(const struct rc_loc *l, const char *prefix)
{
	char path[RINGCAST_NAME_MAX + 32];
	int r;

	snprintf(path, sizeof(path), "/%s%s", prefix, l->name);
	if (l->dirfd < 0)
		r = shm_unlink(path);
	else
		r = unlinkat(l->dirfd, path + 1, 0);
	return r < 0 ? -errno : 0;
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

static int rc_log2(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

int rc_geom_make(uint32_t slots, uint32_t slot_size, uint32_t cap,
		 uint64_t data_size, struct rc_geom *g)
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
	if (data_size &&
	    (data_size < RINGCAST_MIN_DATA_SIZE ||
	     data_size > RINGCAST_MAX_DATA_SIZE || !is_pow2_u64(data_size))) {
		rc_set_detail("data area of %llu bytes: a power of two from "
			      "%u to %llu allowed",
			      (unsigned long long)data_size,
			      RINGCAST_MIN_DATA_SIZE,
			      (unsigned long long)RINGCAST_MAX_DATA_SIZE);
		return -EINVAL;
	}
	g->total = g->slots_off + (uint64_t)slots * slot_size;
	g->data_size = data_size;
	g->data_off = data_size ? g->total : 0;
	g->total += data_size;
	/* A quarter of the data area: see gate.c, rc_pub_droom(). */
	g->max_event = slot_size - (uint32_t)sizeof(struct rc_slot);
	if (data_size / 4 > g->max_event)
		g->max_event = (uint32_t)(data_size / 4);
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
			      "this library speaks %u (remove the ring and "
			      "create it again)",
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
	r = rc_geom_make(h->slot_count, h->slot_size, h->table_cap,
			 h->data_size, g);
	if (r < 0 || h->hdr_size != RC_HDR_SIZE ||
	    h->table_off != g->table_off || h->slots_off != g->slots_off ||
	    h->data_off != g->data_off || h->max_event != g->max_event ||
	    (g->data_size && (h->features & RC_FEAT_MULTI_PUB)) ||
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
mode_t rc_lock_mode(mode_t mode)
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
int rc_lock_open(const struct rc_loc *l, mode_t create_mode, uid_t uid)
{
	struct stat st;
	int fd, tries;

	for (tries = 0; tries < 4; tries++) {
		fd = rc_loc_obj_open(l, RC_LOCK_PREFIX, O_RDWR, 0);
		if (fd >= 0)
			goto check_owner;
		if (fd == -ELOOP)
			goto err_link;
		if (fd != -ENOENT || !create_mode)
			return fd;
		fd = rc_loc_obj_open(l, RC_LOCK_PREFIX,
				     O_RDWR | O_CREAT | O_EXCL, create_mode);
		if (fd >= 0) {
			fchmod(fd, create_mode);
			return fd;
		}
		if (fd != -EEXIST)
			return fd;
	}
	return -EEXIST;

err_link:
	rc_set_detail("the lock object of '%s' is a symbolic link", l->name);
	return -EACCES;

check_owner:
	if (fstat(fd, &st) < 0 || st.st_uid != uid) {
		close(fd);
		rc_set_detail("the lock object of '%s' belongs to another user",
			      l->name);
		return -EACCES;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		rc_set_detail("the lock object of '%s' is not a regular file",
			      l->name);
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
static int rc_map_open_fd(struct rc_map *m, const struct rc_loc *l,
			  const char *name, bool want_write, bool read_only,
			  struct stat *st)
{
	int r;

	m->writable = !read_only;
	m->fd = read_only ? -EACCES : rc_loc_obj_open(l, RC_PREFIX, O_RDWR, 0);
	if (read_only || (m->fd == -EACCES && !want_write)) {
		m->writable = false;
		m->fd = rc_loc_obj_open(l, RC_PREFIX, O_RDONLY, 0);
	}
	if (m->fd < 0) {
		r = m->fd;
		m->fd = -1;
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
static int rc_map_mmap(struct rc_map *m, const struct rc_loc *l,
		       const struct rc_hdr *h, const struct rc_geom *g)
{
	/*
	 * Prefaulted: a first touch of each page would otherwise be a fault
	 * on the publish or read path (ringcast(7), "Rings").  On hugetlbfs
	 * the kernel maps whole huge pages, and unmaps only those.
	 */
	size_t len = rc_loc_map_len(l, g->total);
	void *p = mmap(NULL, len, PROT_READ | (m->writable ? PROT_WRITE : 0),
		       MAP_SHARED | MAP_POPULATE, m->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->hdr = p;
	m->size = g->total;
	m->map_len = len;
	m->table = (struct rc_entry *)((unsigned char *)p + g->table_off);
	m->slots = (unsigned char *)p + g->slots_off;
	m->slot_count = g->slots;
	m->mask = g->slots - 1;
	m->slot_size = g->slot_size;
	m->slot_shift = rc_log2(g->slot_size);
	m->capacity = g->slot_size - (uint32_t)sizeof(struct rc_slot);
	m->max_event = g->max_event;
	m->data = g->data_size ? (unsigned char *)p + g->data_off : NULL;
	m->data_size = g->data_size;
	m->data_mask = g->data_size ? g->data_size - 1 : 0;
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
static int rc_map_lock_open(struct rc_map *m, const struct rc_loc *l,
			    const char *name, const struct stat *st,
			    const struct rc_hdr *h)
{
	int r;

	pthread_mutex_lock(&rc_maps_lock);
	if (m->writable) {
		/* Only the ring's owner makes a missing one again. */
		m->lock_fd = rc_lock_open(l,
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

static int rc_map_open_as(const char *name, bool want_write, bool read_only,
			  struct rc_map *m)
{
	struct rc_loc l;
	struct rc_hdr h;
	struct rc_geom g;
	struct stat st;
	int r;

	memset(m, 0, sizeof(*m));
	m->fd = m->lock_fd = m->probe_fd = -1;
	m->own = -1;
	rc_set_detail("%s", "");
	r = rc_loc_open(name, &l);
	if (r < 0)
		return r;
	strcpy(m->name, l.name);

	r = rc_map_open_fd(m, &l, name, want_write, read_only, &st);
	if (r < 0)
		goto err_close_fd;
	r = rc_hdr_read(m->fd, name, &st, &h);
	if (r < 0)
		goto err_close_fd;
	r = rc_hdr_validate(&h, (uint64_t)st.st_size, &g);
	if (r < 0)
		goto err_close_fd;
	r = rc_map_mmap(m, &l, &h, &g);
	if (r < 0)
		goto err_close_fd;
	r = rc_life_check(smp_load_acquire(&m->hdr->life));
	if (r < 0)
		goto err_unmap;
	r = rc_map_lock_open(m, &l, name, &st, &h);
	if (r < 0)
		goto err_unmap;
	rc_loc_close(&l);
	return 0;

err_unmap:
	munmap(m->hdr, m->map_len);
	m->hdr = NULL;
err_close_fd:
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	rc_loc_close(&l);
	return r;
}

int rc_map_open(const char *name, bool want_write, struct rc_map *m)
{
	return rc_map_open_as(name, want_write, false, m);
}

int rc_map_open_ro(const char *name, struct rc_map *m)
{
	return rc_map_open_as(name, false, true, m);
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
	munmap(m->hdr, m->map_len);
	close(m->fd);
	m->hdr = NULL;
	m->fd = m->lock_fd = m->probe_fd = -1;
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
