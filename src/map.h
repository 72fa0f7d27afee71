/* SPDX-License-Identifier: MIT */
/*
 * The mapping of a ring that every handle holds (struct rc_map), and the
 * private calls that work on it: ring.c (names, geometry, the lock
 * object, mapping, fork), create.c (creation, removal), stat.c
 * (snapshots), lease.c (the lease and other locks), table.c (the subscriber table), wait.c
 * (futex words, wakes and clocks); and error.c's detail.
 */
#ifndef RINGCAST_MAP_H
#define RINGCAST_MAP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "layout.h"
#include "ringcast.h"

/*
 * A mapping of one ring, made for one handle.  Geometry is copied out of
 * the header once validated and never read from shared memory again.
 */
struct rc_map {
	struct rc_hdr *hdr;
	struct rc_entry *table;
	unsigned char *slots;
	size_t size;
	uint64_t mask; /* slot_count - 1 */
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t capacity; /* slot_size - sizeof(struct rc_slot) */
	uint32_t max_event; /* the largest payload: capacity without data */
	unsigned char *data; /* the data area, or NULL */
	uint64_t data_size; /* its bytes, a power of two; 0 without */
	uint64_t data_mask; /* data_size - 1 */
	uint32_t table_cap;
	int slot_shift; /* log2(slot_size) */
	uint64_t demote_ns; /* the ring's demotion limit (0: none) */
	bool multi; /* a multi-publisher ring */
	size_t map_len; /* the mapping's length: size, or in huge pages */
	int fd; /* the ring object */
	int lock_fd; /* own locks (lease, entries); -1 if read-only */
	int probe_fd; /* another description, to see others' locks */
	int own; /* the table entry this map holds, or -1 */
	bool writable;
	unsigned int fork_gen; /* rc_fork_gen when made */
	struct rc_map *next, *prev; /* the process's list, for fork */
	char name[RINGCAST_NAME_MAX + 1]; /* NAME, without its directory */
};

static inline struct rc_slot *rc_slot_at(const struct rc_map *m, uint64_t seq)
{
	/* The mask keeps the index inside the validated slot array. */
	return (struct rc_slot *)(m->slots +
				  ((size_t)(seq & m->mask) << m->slot_shift));
}

/*
 * The oldest event retained, for a ring whose head is head: a ring of
 * slots back, and no event whose data the publisher may have destroyed
 * (below dfloor: gate.c).  A dfloor above the head is not trusted.
 */
static inline uint64_t rc_oldest(const struct rc_map *m, uint64_t head)
{
	uint64_t o = head > m->slot_count ? head - m->slot_count : 0;
	uint64_t f = m->data ? atomic_load_explicit(&m->hdr->dfloor,
						    memory_order_relaxed) :
			       0;

	return f > o && f <= head ? f : o;
}

/* error.c */
void rc_set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Where a ring's objects lie.  A ring is named NAME (in /dev/shm, through
 * shm_open()) or DIR/NAME (in directory DIR, any path with a '/'): its
 * objects are ringcast.NAME and ringcast-lock.NAME there.  A directory is
 * opened once, checked (rc_loc_open()), and the objects opened relative
 * to that descriptor, never following a link.
 */
#define RC_SHM_DIR "/dev/shm"
#define RC_PREFIX "ringcast."
#define RC_LOCK_PREFIX "ringcast-lock."

struct rc_loc {
	int dirfd; /* DIR, or -1: /dev/shm through shm_open() */
	size_t huge; /* DIR's page size on hugetlbfs, else 0 */
	const char *name; /* NAME: points into the string given */
	const char *dir; /* DIR as given (dirlen bytes), for messages */
	int dirlen;
};

/* ring.c */
int rc_name_check(const char *name);
/*
 * Split ring name path into its directory and NAME, open the directory
 * and check it can be trusted: 0, or -EINVAL (a bad NAME), -ENOENT (no
 * such directory), -EACCES (a directory not safe to use: the detail says
 * why), or another negative errno.  rc_loc_close() undoes it.
 */
int rc_loc_open(const char *path, struct rc_loc *l);
void rc_loc_close(struct rc_loc *l);
/* Object prefix+NAME opened as open(2) would: a descriptor or -errno. */
int rc_loc_obj_open(const struct rc_loc *l, const char *prefix, int flags,
		    mode_t mode);
int rc_loc_unlink(const struct rc_loc *l, const char *prefix);
/* A mapping's length for an object of size bytes there. */
static inline size_t rc_loc_map_len(const struct rc_loc *l, size_t size)
{
	return l->huge ? (size + l->huge - 1) & ~(l->huge - 1) : size;
}
/* "/dev/shm" or DIR, for messages: "%.*s", RC_LOC_DIR(l). */
#define RC_LOC_DIR(l)                                               \
	(l)->dirfd < 0 ? (int)sizeof(RC_SHM_DIR) - 1 : (l)->dirlen, \
		(l)->dirfd < 0 ? RC_SHM_DIR : (l)->dir

int rc_map_open(const char *name, bool want_write, struct rc_map *m);
/* A read-only map, even where the ring could be written: a monitor's. */
int rc_map_open_ro(const char *name, struct rc_map *m);
void rc_map_close(struct rc_map *m);

/* Bumped in a forked child: every handle it inherited answers -ECHILD. */
extern unsigned int rc_fork_gen;

/* Inline: every publish and read call asks. */
static inline bool rc_map_forked(const struct rc_map *m)
{
	return m->fork_gen != rc_fork_gen;
}

/* A ring's geometry: its sizes, and where its parts lie in the object. */
struct rc_geom {
	uint32_t slots, slot_size, table_cap, max_event;
	uint64_t table_off, slots_off, data_off, data_size, total;
};
/*
 * 0 with *g filled in, or -EINVAL (with the detail) for a bad geometry.
 * data_size 0: no data area.
 */
int rc_geom_make(uint32_t slots, uint32_t slot_size, uint32_t cap,
		 uint64_t data_size, struct rc_geom *g);

/* A record's bytes in the data area: its header, payload, alignment. */
static inline uint64_t rc_rec_size(uint64_t len)
{
	return (sizeof(struct rc_rec) + len + RC_REC_ALIGN - 1) &
	       ~(uint64_t)(RC_REC_ALIGN - 1);
}

/* The record at free-running position pos (masked into the area). */
static inline struct rc_rec *rc_rec_at(const struct rc_map *m, uint64_t pos)
{
	return (struct rc_rec *)(m->data + (pos & m->data_mask));
}
/* The lock object's mode for a ring of mode mode. */
mode_t rc_lock_mode(mode_t mode);
/*
 * Open the lock object of the ring at l (create it with create_mode
 * unless 0): its descriptor, -EACCES when it is not uid's, or a negative
 * errno.
 */
int rc_lock_open(const struct rc_loc *l, mode_t create_mode, uid_t uid);
uint64_t rc_random64(void);
/*
 * A sorted copy of a subscriber's type list: 0 with *out set, -ENOMEM,
 * or -EINVAL with *dup set to a type that appears twice.
 */
int rc_types_sorted(const uint32_t *types, uint32_t n, uint32_t **out,
		    uint32_t *dup);
int rc_life_check(uint64_t life);
/* 0, or -EACCES when the ring's owner is not our effective uid. */
int rc_map_owner_check(const struct rc_map *m);

/* What a publisher refused by a changed life word returns. */
static inline int rc_life_end(uint64_t life)
{
	return RC_LIFE_STATE(life) == RINGCAST_STATE_REMOVED ? -EIDRM : -EPIPE;
}

/* stat.c: a snapshot of a mapped ring, as ringcast_ring_get_stats() */
int rc_map_stats(struct rc_map *m, struct ringcast_ring_stats *info);
int rc_map_subscribers(struct rc_map *m, struct ringcast_ring_subscriber *info,
		       unsigned int max);

/* lease.c */
int rc_lease_take(struct rc_map *m);
int rc_lease_share(struct rc_map *m);
void rc_lease_drop(struct rc_map *m);
int rc_lock_try(struct rc_map *m, int byte);
/* Take byte's lock, waiting while another holds it: 0 or -errno. */
int rc_lock_wait(struct rc_map *m, int byte);
void rc_lock_drop(struct rc_map *m, int byte);
/* 1: held by someone else, 0: free, negative errno: cannot tell */
int rc_lock_probe(struct rc_map *m, int byte);
uint64_t rc_proc_start_time(pid_t pid);
int rc_pid_alive(pid_t pid, uint64_t start);
int rc_publisher_alive(struct rc_map *m);
/* Marks a live ring with a dead publisher abandoned; returns the life. */
uint64_t rc_check_abandoned(struct rc_map *m, uint64_t life);

/* table.c */
struct rc_join {
	uint32_t state; /* RC_ENTRY_LOSSY or RC_ENTRY_RELIABLE */
	uint32_t flags; /* RC_EF_* */
	uint32_t interest; /* wake buckets */
	uint64_t cursor; /* the cursor it starts with */
	uint64_t demote_ns;
	uint64_t key; /* with RC_EF_DURABLE: its key, not 0 */
};
int rc_table_join(struct rc_map *m, const struct rc_join *j);
int rc_table_join_durable(struct rc_map *m, const struct rc_join *j,
			  bool *adopted);
int rc_table_release_durable(struct rc_map *m, uint64_t key);
void rc_table_leave(struct rc_map *m, int idx);
uint32_t rc_table_live(struct rc_map *m);
uint32_t rc_table_count(const struct rc_map *m);
uint32_t rc_table_reliable(const struct rc_map *m);
uint32_t rc_table_publishers(struct rc_map *m);
bool rc_claim_abort(struct rc_map *m, uint32_t idx);
int rc_entry_reclaim(struct rc_map *m, uint32_t idx);
bool rc_entry_info(struct rc_map *m, uint32_t idx, uint64_t head,
		   struct ringcast_ring_subscriber *si);

/* wait.c */
/*
 * The sleepers' interest bitmap: bit b < 30 for the types hashing to
 * bucket b, bit 31 for sleepers that want every type.  An event wakes its
 * bucket and bit 31, so a woken unfiltered sleeper leaves no bit behind
 * that would make later events of other buckets pay for a wake nobody
 * waits for.  Bit 30 is never set in the bitmap: type-filtered reliable
 * sleepers add it to the mask they wait with, and a publisher whose
 * slowest reliable subscriber is such a sleeper half a ring behind wakes
 * that bit, so the sleeper skips what it does not want and frees the ring.
 */
#define RC_TYPE_BUCKETS 30u
#define RC_WAKE_GATE (1u << 30)
#define RC_WAKE_ANY (1u << 31)

/* Inline: the publisher computes one for every event it writes. */
static inline uint32_t rc_type_bucket(uint32_t type)
{
	/* Fibonacci hashing, folded onto the 30 type buckets. */
	return ((uint32_t)(type * 0x9e3779b1u) >> 16) % RC_TYPE_BUCKETS;
}

static inline uint32_t rc_type_bit(uint32_t type)
{
	return 1u << rc_type_bucket(type);
}

int rc_futex_wait(_Atomic uint32_t *word, uint32_t val, uint32_t bits,
		  int64_t timeout_ns);
int rc_futex_wake(_Atomic uint32_t *word, uint32_t bits);
void rc_wake_all(struct rc_map *m);
void rc_wake_seq(struct rc_hdr *hdr, uint32_t bits);
void rc_pub_wake(struct rc_hdr *hdr);
uint64_t rc_now_ns(void);
uint64_t rc_coarse_ns(void);

/*
 * The time left of a wait of timeout_ns (< 0: for ever), now: -1 for
 * ever, 0 when it is over, else nanoseconds.  *deadline is 0 until the
 * first call sets it, so a wait that never has to sleep never reads the
 * clock.
 */
static inline int64_t rc_time_left(uint64_t *deadline, int64_t timeout_ns,
				   uint64_t now)
{
	if (timeout_ns < 0)
		return -1;
	if (!*deadline)
		*deadline = now + (uint64_t)timeout_ns;
	return now >= *deadline ? 0 : (int64_t)(*deadline - now);
}

#endif
