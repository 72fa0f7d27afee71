/* SPDX-License-Identifier: MIT */
/*
 * ringcast - one publisher, many subscribers, one ring in shared memory.
 *
 * A ring is a named POSIX shared-memory object (/dev/shm/ringcast.NAME),
 * or a file in a directory its name gives (DIR/ringcast.NAME), of
 * fixed-size slots.  A publisher writes events (a 32-bit type tag and a
 * payload) into consecutive slots; every subscriber has a private cursor
 * and reads every event at its own pace.  A lossy subscriber that falls a
 * whole ring behind is told how many events it lost (-EOVERFLOW); a
 * reliable one holds the publisher back instead.  The concepts, liveness
 * and the trust model: ringcast(7); each call in full: ringcast(3) and the
 * pages of its group (man 3 FUNCTION).
 *
 * Names: every call that takes a ring's name takes NAME, 1-200 characters
 * of [A-Za-z0-9._-] not starting with '.', for the ring NAME in /dev/shm;
 * or DIR/NAME, any string with a '/' ("/srv/rings/quotes", "./quotes"),
 * for the ring NAME in directory DIR, on any file system: tmpfs, a disk
 * (the ring outlives a reboot, and is then found closed or abandoned), a
 * hugetlbfs mount, a volume shared with a container.  The directory is in
 * the name, never in the environment: processes that pass the same string
 * find the same ring ("/dev/shm/quotes" is the ring "quotes").  A
 * directory is used only when it belongs to root or to the caller and,
 * if others may write it, has its sticky bit: else -EACCES, the reason in
 * ringcast_errdetail() (as for a symbolic link or a file in its place); a
 * missing one is -ENOENT.  Objects in it are never reached through a
 * symbolic link (-EPROTO).  ringcast(7), "Ring directories".
 *
 * Errors: a call returns 0 or a non-negative count on success and a
 * negative errno on failure; errno is never used.  Each comment below lists
 * every code its call returns; one meaning per code:
 *
 *   -EINVAL      bad argument or ring name
 *   -ENOENT      no such ring (or it is still being created), or directory
 *   -EEXIST      a ring of that name exists (exclusive create)
 *   -EACCES      no permission for what was asked, or an unsafe directory
 *   -ENOSPC      no room in the ring's directory for a new ring
 *   -EPROTO      not a ringcast object, or an incompatible ABI version
 *   -EBADMSG     the ring is corrupted (inconsistent header, table or slot)
 *                or a recording's record is damaged (checksum, length)
 *   -EMSGSIZE    payload larger than the ring's largest event; nothing written
 *   -EBUSY       a live publisher holds the lease, a live participant keeps
 *                a ring from being removed, or a reservation is pending
 *   -EUSERS      the subscriber table is full
 *   -EAGAIN      nothing ready / no room, in a non-blocking call
 *   -ETIMEDOUT   a wait timed out
 *   -EINTR       a wait was interrupted from another thread
 *   -ECANCELED   the subscription was closed
 *   -EOVERFLOW   a lossy subscriber was lapped (count in ringcast_event.lost)
 *   -ESTALE      a reliable subscriber was demoted to lossy
 *   -ERANGE      the requested sequence is no longer retained
 *   -EPIPE       the ring is closed: end of stream (reader), refused (writer)
 *   -EOWNERDEAD  the publisher died without closing
 *   -EIDRM       the ring was removed (ringcast_ring_remove_force())
 *   -ESHUTDOWN   the TypeMux was stopped
 *   -EDEADLK     a call that waits for deliveries was made from a delivery
 *   -ECHILD      a handle inherited across fork(): attach again in the child
 *   -ENOMEM      out of memory
 *   -EMFILE      no descriptor left for ringcast_sub_fd()
 *   -ENOBUFS     the caller's buffer cannot hold the next event
 *   -EXDEV       a recording of another ring, or of another incarnation
 *   -ENODATA     a recording holds no segment
 *
 * Threads: a handle is used by one thread at a time, except where a comment
 * says "any thread"; different handles are independent, also on one ring.
 *
 * fork(): handles do not survive it.  In the child every call on an
 * inherited handle returns -ECHILD, except the detach, close and free
 * calls, which free its memory without touching the ring.
 *
 * Shared memory is untrusted: a corrupted ring gives -EBADMSG, never a
 * crash, a hang or an out-of-bounds access (ringcast(7), "Trust model").
 */
#ifndef RINGCAST_H
#define RINGCAST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(RINGCAST_STATIC)
#define RINGCAST_API __attribute__((visibility("default")))
#else
#define RINGCAST_API
#endif

#define RINGCAST_VERSION_MAJOR 0
#define RINGCAST_VERSION_MINOR 3
#define RINGCAST_VERSION_PATCH 0
#define RINGCAST_VERSION "0.3.0"

/* The longest ring name, not counting the terminating NUL. */
#define RINGCAST_NAME_MAX 200

/* Geometry limits and defaults. */
#define RINGCAST_DEFAULT_SLOTS 4096u
#define RINGCAST_DEFAULT_SLOT_SIZE 256u
#define RINGCAST_DEFAULT_MAX_SUBSCRIBERS 64u
#define RINGCAST_MIN_SLOTS 2u
#define RINGCAST_MAX_SLOTS (1u << 24)
#define RINGCAST_MIN_SLOT_SIZE 64u
#define RINGCAST_MAX_SLOT_SIZE (16u << 20)
#define RINGCAST_MAX_SUBSCRIBERS 4096u
#define RINGCAST_DEFAULT_DATA_SIZE (4u << 20)
#define RINGCAST_MIN_DATA_SIZE 4096u
#define RINGCAST_MAX_DATA_SIZE (1ull << 32)
/* Bytes of each slot taken by the event's header. */
#define RINGCAST_SLOT_HEADER 32u

/* ----------------------------------------------------------------------
 * Errors: ringcast_errors(3)
 */

/**
 * ringcast_strerror() - name an error code of this library
 * @err: a negative (or positive) errno returned by a ringcast call
 *
 * Thread-safe.  Codes outside the table get strerror()'s text.
 * Return: a static string; never NULL.
 */
RINGCAST_API const char *ringcast_strerror(int err);

/**
 * ringcast_errdetail() - what exactly was wrong in this thread's last failure
 *
 * Set by a failed attach or validation of a ring, a publisher refused
 * another owner's ring, and ringcast_ring_remove() refused by a participant.
 * Return: a thread-local string, "" if there is none; valid until this
 * thread's next ringcast call.
 */
RINGCAST_API const char *ringcast_errdetail(void);

/* ----------------------------------------------------------------------
 * Rings: ringcast_ring(3)
 */

/* Ring states (ringcast_ring_stats.state). */
enum ringcast_state {
	RINGCAST_STATE_CREATED = 0, /* no publisher yet */
	RINGCAST_STATE_LIVE = 1, /* a publisher holds the lease */
	RINGCAST_STATE_CLOSED = 2, /* end of stream after the last event */
	RINGCAST_STATE_ABANDONED = 3, /* the publisher died without closing */
	RINGCAST_STATE_REMOVED = 4, /* removed while attached: -EIDRM */
};

/* Flags of ringcast_ring_create(). */
#define RINGCAST_CREATE_EXCL 0x1u /* fail with -EEXIST if it exists */
#define RINGCAST_CREATE_MULTI_PUB 0x2u /* several publishers at once */
/* No data area: every event fits a slot (the fixed-size ring). */
#define RINGCAST_CREATE_NO_DATA 0x4u

/* struct ringcast_ring_opts - geometry of a new ring; 0 for each default */
struct ringcast_ring_opts {
	uint32_t slots; /* a power of two (0: 4096) */
	uint32_t slot_size; /* a power of two, 64 to 16 MiB (0: 256) */
	uint32_t max_subscribers; /* table entries, 1 to 4096 (0: 64) */
	uint32_t mode; /* permission bits, whatever the umask (0: 0600) */
	uint64_t demote_ns; /* demote stuck reliable ones (0: never) */
	/*
	 * Bytes of the data area, where events too large for a slot go: a
	 * power of two, 4 KiB to 4 GiB (0: 4 MiB; none on a multi-publisher
	 * ring or with RINGCAST_CREATE_NO_DATA).  The largest event is a
	 * quarter of it.
	 */
	uint64_t data_size;
};

/**
 * ringcast_ring_create() - create a ring, or accept a matching one
 * @name:  NAME, 1-200 characters of [A-Za-z0-9._-], not starting with '.',
 *         or DIR/NAME (see "Names" above)
 * @opts:  geometry; NULL for the defaults
 * @flags: RINGCAST_CREATE_EXCL, RINGCAST_CREATE_MULTI_PUB
 *
 * Reserves the memory now: a full /dev/shm (or file system) fails here,
 * never later.  On hugetlbfs the ring takes whole huge pages.
 * Return: 0 when created, 1 when a matching ring existed (without
 * RINGCAST_CREATE_EXCL); -EINVAL, -ENOENT (no such directory), -EEXIST,
 * -EACCES, -ENOSPC, -EPROTO, -EBADMSG, -ETIMEDOUT.
 */
RINGCAST_API int ringcast_ring_create(const char *name,
				      const struct ringcast_ring_opts *opts,
				      unsigned int flags);

/**
 * ringcast_ring_remove() - unlink a ring nobody uses, and its lock object
 * @name: the ring
 *
 * Return: 0; -EINVAL, -ENOENT, -EACCES, -EBUSY.
 */
RINGCAST_API int ringcast_ring_remove(const char *name);

/**
 * ringcast_ring_remove_force() - unlink a ring even while it is in use
 * @name: the ring
 *
 * Takes no lock, allocates nothing: a fatal-signal handler may call it.
 * Return: 0; -EINVAL, -ENOENT, -EACCES.
 */
RINGCAST_API int ringcast_ring_remove_force(const char *name);

/**
 * ringcast_ring_close() - end the stream of a ring from outside
 * @name: the ring
 *
 * Return: 0; -EPIPE (closed already), -EIDRM (removed), -EINVAL, -ENOENT,
 * -EACCES, -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_close(const char *name);

/**
 * struct ringcast_ring_stats - a snapshot, read without a lock: each field
 * is consistent on its own, not with the others
 */
struct ringcast_ring_stats {
	uint32_t abi_version;
	uint32_t features; /* RINGCAST_FEAT_* */
	uint32_t slots;
	uint32_t slot_size;
	uint32_t capacity; /* payload bytes per slot */
	uint32_t max_subscribers;
	uint32_t mode; /* permission bits of the object */
	uint32_t state; /* enum ringcast_state */
	uint64_t epoch; /* changes at every takeover; 0 before the first */
	uint64_t epoch_start; /* first sequence of the current epoch */
	uint64_t head; /* next sequence to be written */
	uint64_t oldest; /* oldest retained sequence */
	uint64_t published; /* events committed, all epochs */
	uint64_t refused; /* publishes refused (too large, closed) */
	uint64_t wakes; /* FUTEX_WAKE calls made by publishers */
	uint64_t size; /* bytes of the shared object */
	int32_t publisher_pid; /* 0 if none ever */
	int32_t publisher_alive; /* 1 alive, 0 not, -1 cannot tell */
	uint32_t subscribers; /* table entries in use */
	uint32_t reliable; /* of which reliable subscribers */
	uint64_t demote_ns; /* the ring's demotion limit; 0: never */
	uint64_t blocked; /* times a publisher waited for a reliable one */
	uint64_t blocked_ns; /* time publishers spent waiting, in total */
	uint64_t demotions; /* reliable subscribers demoted to lossy */
	uint32_t table_hwm; /* most table entries ever in use at once */
	uint32_t publishers; /* publishers attached (alive) */
	uint64_t blocked_since_ns; /* CLOCK_MONOTONIC start of a wait; 0: none */
	uint64_t data_size; /* bytes of the data area; 0: none */
	uint64_t data_written; /* bytes ever written into it, skips included */
	uint32_t max_event; /* the largest payload: capacity without data area */
	uint32_t reserved0;
	/* CLOCK_REALTIME ns at creation: names this incarnation of the ring */
	uint64_t created_ns;
};

/* Bits of ringcast_ring_stats.features. */
#define RINGCAST_FEAT_MULTI_PUB 0x1u /* a multi-publisher ring */

/**
 * ringcast_ring_get_stats() - validate a ring and take a snapshot of it
 * @name: the ring; read permission is enough
 * @info: filled in on success
 * Return: 0; -EINVAL, -ENOENT, -EACCES, -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_get_stats(const char *name,
					 struct ringcast_ring_stats *info);

/**
 * ringcast_ring_list() - call @cb with the name of each ring in /dev/shm
 * @cb:  called once per ring, in no order; a non-zero return stops the
 *       walk and is returned
 * @arg: passed to @cb
 * Return: 0 or @cb's non-zero value; -EINVAL (no @cb), -ENOENT, -EACCES
 * (/dev/shm cannot be read).
 */
RINGCAST_API int ringcast_ring_list(int (*cb)(const char *name, void *arg),
				    void *arg);

/**
 * ringcast_ring_list_dir() - call @cb with the name of each ring in @dir
 * @dir: a ring directory, checked as a DIR/NAME is ("Names" above); NULL
 *       for /dev/shm, as ringcast_ring_list()
 * @cb:  called once per ring with its NAME alone, in no order (the other
 *       calls want "@dir/NAME"); a non-zero return stops the walk and is
 *       returned
 * @arg: passed to @cb
 * Return: 0 or @cb's non-zero value; -EINVAL (no @cb, a path too long),
 * -ENOENT (no such directory), -EACCES (it cannot be read, or is unsafe).
 */
RINGCAST_API int ringcast_ring_list_dir(const char *dir,
					int (*cb)(const char *name, void *arg),
					void *arg);

/* Flags of ringcast_ring_subscriber. */
#define RINGCAST_SUBSCRIBER_RELIABLE 0x1u /* gates the publisher */
#define RINGCAST_SUBSCRIBER_DEMOTED 0x2u /* was reliable, demoted to lossy */
#define RINGCAST_SUBSCRIBER_FILTERED 0x4u /* reads some types only */
#define RINGCAST_SUBSCRIBER_DURABLE 0x8u /* kept, gating, if its owner dies */

/* struct ringcast_ring_subscriber - one entry of the subscriber table */
struct ringcast_ring_subscriber {
	uint32_t id; /* its index in the table */
	int32_t pid; /* the owner's pid (in the owner's PID namespace) */
	int32_t alive; /* 1 alive, 0 dead, -1 cannot tell */
	uint32_t flags; /* RINGCAST_SUBSCRIBER_* */
	uint64_t first; /* the first sequence of the subscription */
	uint64_t cursor; /* the next sequence it will read */
	uint64_t lag; /* head - cursor */
	uint64_t delivered; /* events it read */
	uint64_t skipped; /* events its type filter skipped */
	uint64_t lost; /* events it lost in laps */
	uint64_t aborted; /* holes of dead publishers skipped */
};

/* The declaration below stays on one line up to its '(' (tools/man). */
/* clang-format off */
/**
 * ringcast_ring_get_subscribers() - list the ring's registered subscribers
 * @name: the ring
 * @info: filled with up to @max entries, in table order
 * @max:  room in @info (0 to count only)
 * Return: the number of entries in use (may exceed @max); -EINVAL,
 * -ENOENT, -EACCES, -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_get_subscribers(const char *name,
					   struct ringcast_ring_subscriber *info,
					   unsigned int max);
/* clang-format on */

/**
 * ringcast_ring_release_durable() - let go of durable subscribers that died
 * @name: the ring
 * @key:  the subscription's key, or 0 for every durable subscriber whose
 *        owner died
 *
 * The publisher stops waiting for them; their successors start afresh.
 * Return: the number released; -EBUSY (the owner of @key is alive),
 * -EINVAL, -ENOENT, -EACCES (no write access), -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_release_durable(const char *name, uint64_t key);

/* ----------------------------------------------------------------------
 * Monitoring: ringcast_ring(3)
 *
 * A monitor maps a ring once, read-only, and keeps it mapped, for those
 * who take snapshots of it again and again (an exporter, a top).  It
 * writes nothing to the ring and takes no lock the publisher or a
 * subscriber waits on; liveness is judged by pid and start time.
 */

struct ringcast_mon;

/**
 * ringcast_mon_open() - map a ring read-only and keep it mapped
 * @name: the ring; read permission is enough
 * @monp: the new handle on success
 *
 * Validates the ring as ringcast_ring_get_stats() does.
 * Return: 0; -EINVAL, -ENOENT, -EACCES, -EPROTO, -EBADMSG, -ENOMEM.
 */
RINGCAST_API int ringcast_mon_open(const char *name,
				   struct ringcast_mon **monp);

/**
 * ringcast_mon_get_stats() - a snapshot, as ringcast_ring_get_stats()
 * @mon: the monitor; one thread at a time
 * @st:  filled in on success
 *
 * Maps nothing again and takes no lock; a read-only view: a dead
 * publisher's ring is reported abandoned, not marked so, and dead
 * subscribers' entries are counted until someone reclaims them.
 * Return: 0; -EINVAL, -EBADMSG (the header changed or is corrupted),
 * -EIDRM (the ring was removed since: close the monitor, open again),
 * -ECHILD.
 */
RINGCAST_API int ringcast_mon_get_stats(struct ringcast_mon *mon,
					struct ringcast_ring_stats *st);

/* The declaration below stays on one line up to its '(' (tools/man). */
/* clang-format off */
/**
 * ringcast_mon_get_subscribers() - as ringcast_ring_get_subscribers()
 * @mon:  the monitor; one thread at a time
 * @info: filled with up to @max entries, in table order
 * @max:  room in @info (0 to count only)
 *
 * Dead subscribers' entries are listed (alive 0) until reclaimed.
 * Return: the number of entries in use (may exceed @max); -EINVAL,
 * -EBADMSG, -EIDRM, -ECHILD.
 */
RINGCAST_API int ringcast_mon_get_subscribers(struct ringcast_mon *mon,
					  struct ringcast_ring_subscriber *info,
					  unsigned int max);
/* clang-format on */

/**
 * ringcast_mon_close() - unmap the ring and free the monitor
 * @mon: the monitor, or NULL
 */
RINGCAST_API void ringcast_mon_close(struct ringcast_mon *mon);

/* ----------------------------------------------------------------------
 * Events
 */

/* struct ringcast_event - one event as a subscriber sees it */
struct ringcast_event {
	uint64_t seq; /* its sequence number */
	uint64_t ts; /* CLOCK_MONOTONIC nanoseconds, stamped by the publisher */
	uint32_t type; /* its type tag */
	uint32_t len; /* payload bytes */
	uint32_t epoch; /* low 32 bits of its publisher's epoch */
	uint32_t publisher; /* writer's entry, or RINGCAST_PUBLISHER_LEASE */
	uint64_t lost; /* after -EOVERFLOW: events lost; else 0 */
	const void *data; /* the payload; its lifetime is the filling call's */
};

/* ringcast_event.publisher of an event of a single-publisher ring. */
#define RINGCAST_PUBLISHER_LEASE 0xffffffffu

/* ----------------------------------------------------------------------
 * Publisher: ringcast_pub(3)
 *
 * A commit is a release: what the publisher wrote is visible to whoever
 * reads the event.  A publish waits only while a reliable subscriber is a
 * whole ring behind, as long as ringcast_pub_set_timeout() allows.
 */

struct ringcast_pub;

/* Flags of ringcast_pub_attach(). */
#define RINGCAST_PUB_REOPEN 0x1u /* take over a closed ring */
#define RINGCAST_PUB_PRECISE 0x2u /* stamp with the precise clock */
#define RINGCAST_PUB_ANY_OWNER 0x4u /* trust a ring of another owner */

/**
 * ringcast_pub_attach() - become the ring's publisher (take its lease)
 * @name:  an existing ring, of the caller's uid unless RINGCAST_PUB_ANY_OWNER
 * @flags: RINGCAST_PUB_REOPEN, RINGCAST_PUB_PRECISE, RINGCAST_PUB_ANY_OWNER
 * @pubp:  the new handle on success
 *
 * Return: 0; -EINVAL, -ENOENT, -EACCES, -EPROTO, -EBADMSG, -EBUSY (a live
 * publisher holds the lease), -EUSERS (a multi-publisher ring's table is
 * full), -EPIPE (closed), -EIDRM (removed), -ENOMEM.
 */
RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp);

/**
 * ringcast_pub_publish() - copy one event into the ring
 * @pub:  the publisher
 * @type: its type tag
 * @data: the payload; NULL when @len is 0
 * @len:  at most the ring's largest event (ringcast_ring_stats.max_event)
 *
 * A payload larger than a slot's capacity goes into the ring's data area,
 * with the same sequence, type and guarantees as one in its slot.
 * Return: the number of registered subscribers (>= 0); -EINVAL, -EMSGSIZE,
 * -EBUSY (a reservation is pending), -EPIPE (closed), -EIDRM (removed),
 * -EAGAIN, -ETIMEDOUT, -EINTR (no room: nothing written), -EBADMSG,
 * -ECHILD.
 */
RINGCAST_API int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
				      const void *data, size_t len);

/* struct ringcast_msg - one event of a batch */
struct ringcast_msg {
	uint32_t type; /* its type tag */
	uint32_t len; /* payload bytes */
	const void *data; /* the payload; NULL when @len is 0 */
};

/**
 * ringcast_pub_publish_batch() - copy @n events, with one wake check
 * @pub:  the publisher
 * @msgs: the events, published in order with consecutive sequences
 * @n:    how many
 *
 * A wait that fails between two parts (3/4 ring and half the data area
 * each, at most) returns its error
 * with the earlier parts published (ringcast_pub_head() says how far).
 * A part's events are published at its end, and on a single-publisher
 * ring every 32 KiB of payload within it too.
 * Return: as ringcast_pub_publish(): the count; -EINVAL, -EMSGSIZE,
 * -EBUSY, -EPIPE, -EIDRM, -EAGAIN, -ETIMEDOUT, -EINTR, -EBADMSG, -ECHILD.
 */
RINGCAST_API int ringcast_pub_publish_batch(struct ringcast_pub *pub,
					    const struct ringcast_msg *msgs,
					    unsigned int n);

/**
 * ringcast_pub_reserve() - reserve the next slot, to fill it in place
 * @pub:  the publisher
 * @len:  bytes that will be written, at most the largest event
 * @bufp: set to the payload area: in the slot, or above the slot's
 *        capacity in the data area (contiguous either way)
 *
 * Until ringcast_pub_commit() the publisher publishes nothing else.
 * Return: 0; -EINVAL, -EMSGSIZE, -EBUSY (a reservation is pending), -EPIPE,
 * -EIDRM, -EAGAIN, -ETIMEDOUT, -EINTR (no room: nothing reserved),
 * -EBADMSG, -ECHILD.
 */
RINGCAST_API int ringcast_pub_reserve(struct ringcast_pub *pub, size_t len,
				      void **bufp);

/**
 * ringcast_pub_commit() - publish the slot ringcast_pub_reserve() reserved
 * @pub:  the publisher
 * @type: the event's type tag
 * @len:  bytes written, at most what was reserved
 * Return: the number of registered subscribers; -EINVAL (nothing reserved,
 * several slots reserved, or @len too large), -ECHILD.
 */
RINGCAST_API int ringcast_pub_commit(struct ringcast_pub *pub, uint32_t type,
				     size_t len);

/**
 * ringcast_pub_reserve_batch() - reserve @n slots at once, all or nothing
 * @pub:  the publisher
 * @n:    1 to 3/4 of the ring's slots
 * @len:  bytes that will be written into each, at most the largest
 *        event; in the data area, @n records of @len may span at most
 *        half of it
 * @bufs: set to the payload areas of sequences ringcast_pub_head() on
 * Return: 0; -EINVAL, -EMSGSIZE, -EBUSY (a reservation is pending), -EPIPE,
 * -EIDRM, -EAGAIN, -ETIMEDOUT, -EINTR (no room: nothing reserved),
 * -EBADMSG, -ECHILD.
 */
RINGCAST_API int ringcast_pub_reserve_batch(struct ringcast_pub *pub,
					    unsigned int n, size_t len,
					    void **bufs);

/**
 * ringcast_pub_commit_batch() - publish the reserved slots, all at once
 * @pub:  the publisher
 * @msgs: per slot, in order: the type and the bytes written; data unread
 * @n:    exactly the number reserved
 * Return: the number of registered subscribers; -EINVAL (nothing published,
 * the reservation stays), -ECHILD.
 */
RINGCAST_API int ringcast_pub_commit_batch(struct ringcast_pub *pub,
					   const struct ringcast_msg *msgs,
					   unsigned int n);

/**
 * ringcast_pub_head() - the next sequence this publisher will write
 * @pub: the publisher
 * Return: the sequence (0 for NULL).
 */
RINGCAST_API uint64_t ringcast_pub_head(const struct ringcast_pub *pub);

/**
 * ringcast_pub_set_timeout() - how long a publish may wait for room
 * @pub:        the publisher
 * @timeout_ns: < 0 for ever (the default), 0 never, else the longest wait
 * Return: 0; -EINVAL.
 */
RINGCAST_API int ringcast_pub_set_timeout(struct ringcast_pub *pub,
					  int64_t timeout_ns);

/**
 * ringcast_pub_interrupt() - make the current or next wait return -EINTR
 * @pub: the publisher; any thread, async-signal-safe
 */
RINGCAST_API void ringcast_pub_interrupt(struct ringcast_pub *pub);

/**
 * ringcast_pub_subscribers() - count the live registered subscribers
 * @pub: the publisher
 * Return: the count; -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_pub_subscribers(struct ringcast_pub *pub);

/**
 * ringcast_pub_wait_subscribers() - wait until at least @n are registered
 * @pub:        the publisher
 * @n:          live registered subscribers to wait for
 * @timeout_ns: < 0 for ever, 0 to check once, else the longest wait
 *
 * Return: the count (>= @n); -EINVAL, -EBUSY (a reservation is pending),
 * -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE, -EIDRM, -ECHILD.
 */
RINGCAST_API int ringcast_pub_wait_subscribers(struct ringcast_pub *pub,
					       unsigned int n,
					       int64_t timeout_ns);

/**
 * ringcast_pub_close() - end the stream, release the lease, free the handle
 * @pub: the publisher; freed whatever the result
 * Return: 0; -EINVAL, -EPIPE (closed from outside meanwhile), -EIDRM
 * (removed), -ECHILD.
 */
RINGCAST_API int ringcast_pub_close(struct ringcast_pub *pub);

/**
 * ringcast_pub_finish() - close if this is the ring's last publisher
 * @pub: the publisher; freed
 * Return: 1 when the ring was closed, 0 when other publishers go on;
 * -EINVAL, -EPIPE, -EIDRM, -ECHILD.
 */
RINGCAST_API int ringcast_pub_finish(struct ringcast_pub *pub);

/**
 * ringcast_pub_detach() - release the lease without closing; free the handle
 * @pub: the publisher, or NULL
 *
 * Subscribers see it as the publisher's death (-EOWNERDEAD).
 */
RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub);

/* ----------------------------------------------------------------------
 * Subscriber: ringcast_sub(3)
 *
 * Reading an event is an acquire of its commit.  A lossy subscriber never
 * slows the publisher; a reliable one (RINGCAST_SUB_RELIABLE) loses nothing
 * from its first sequence on, unless it is demoted (-ESTALE).
 */

struct ringcast_sub;

/* Where a subscriber starts (ringcast_sub_opts.from). */
enum ringcast_from {
	RINGCAST_FROM_NEWEST = 0, /* the head sampled inside attach */
	RINGCAST_FROM_OLDEST = 1, /* the oldest retained event */
	RINGCAST_FROM_SEQ = 2, /* ringcast_sub_opts.seq */
};

/* How a subscriber waits when it has caught up. */
enum ringcast_wait {
	RINGCAST_WAIT_SPIN = 0, /* spin a little, then sleep (default) */
	RINGCAST_WAIT_BUSY = 1, /* spin until the timeout; never sleep */
	RINGCAST_WAIT_SLEEP = 2, /* sleep at once */
};

/* Flags of ringcast_sub_opts. */
#define RINGCAST_SUB_RESUBSCRIBE 0x1u /* follow a new publisher's epoch */
#define RINGCAST_SUB_RELIABLE 0x2u /* gate the publisher: lose nothing */

/* struct ringcast_sub_opts - how to subscribe; 0 for each default */
struct ringcast_sub_opts {
	uint32_t from; /* enum ringcast_from */
	uint32_t wait; /* enum ringcast_wait */
	uint32_t flags; /* RINGCAST_SUB_RESUBSCRIBE, RINGCAST_SUB_RELIABLE */
	uint32_t ntypes; /* entries in @types; 0 means every type */
	const uint32_t *types; /* up to RINGCAST_MAX_TYPES, distinct */
	uint64_t seq; /* the first sequence, with RINGCAST_FROM_SEQ */
	uint64_t spin_ns; /* RINGCAST_WAIT_SPIN's spin (0: 20 us; <= 1 h) */
	uint64_t liveness_ns; /* liveness check (0: 250 ms; 1 ms to 1 h) */
	uint64_t demote_ns; /* reliable: own, shorter limit (0: ring's) */
};

#define RINGCAST_MAX_TYPES 256u

/**
 * ringcast_sub_attach() - subscribe to a ring
 * @name:  an existing ring, in any state; read permission is enough
 * @opts:  NULL for newest, spin-then-sleep, every type
 * @subp:  the new handle on success
 * @first: if not NULL, set to the first sequence it will read
 *
 * A reliable subscriber gates publishers: read it from another thread.
 * Return: 0; -EINVAL, -ENOENT, -EACCES, -EUSERS, -EPROTO, -EBADMSG,
 * -ENOMEM.
 */
RINGCAST_API int ringcast_sub_attach(const char *name,
				     const struct ringcast_sub_opts *opts,
				     struct ringcast_sub **subp,
				     uint64_t *first);

/* clang-format off */
/**
 * ringcast_sub_attach_durable() - a reliable subscription that outlives
 *                                 its process
 * @name:  an existing ring; write permission is needed
 * @key:   the subscription's name, chosen by the caller; not 0
 * @opts:  as for ringcast_sub_attach(); its flags include
 *         RINGCAST_SUB_RELIABLE
 * @subp:  the new handle on success
 * @first: if not NULL, set to the first sequence it will read
 *
 * If the owner of @key dies, its table entry stays, and gates the
 * publisher as a slow reader would (its demotion limit applies); the next
 * attach with @key adopts it and reads on from its cursor (or from
 * @opts->seq with RINGCAST_FROM_SEQ, if further on): nothing is lost.
 * ringcast_sub_detach() lets go of it.
 * Return: 0; -EBUSY (a live subscriber holds @key); else as
 * ringcast_sub_attach(): -EINVAL, -ENOENT, -EACCES, -EUSERS, -EPROTO,
 * -EBADMSG, -ENOMEM.
 */
RINGCAST_API int ringcast_sub_attach_durable(const char *name, uint64_t key,
					     const struct ringcast_sub_opts *opts,
					     struct ringcast_sub **subp,
					     uint64_t *first);
/* clang-format on */

/**
 * ringcast_sub_next() - copy out the next event that passes the filter
 * @sub:        the subscriber
 * @ev:         filled in; @ev->data is valid until the next call on @sub
 * @timeout_ns: 0 to return at once, < 0 to wait for ever, else the most
 * Return: 0 with an event; -EOVERFLOW (@ev->lost lost: call again), -ESTALE
 * (demoted: call again), -EAGAIN, -ETIMEDOUT, -EINTR; once all was read,
 * -EPIPE (closed), -EOWNERDEAD (publisher died) or -EIDRM (removed);
 * -EBADMSG, -EINVAL (also while an event is borrowed), -ECHILD.
 */
RINGCAST_API int ringcast_sub_next(struct ringcast_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns);

/**
 * ringcast_sub_borrow() - look at the next event in place, without a copy
 * @sub:        the subscriber
 * @ev:         @ev->data points into the shared slot, or the data area,
 *              until the release
 * @timeout_ns: as for ringcast_sub_next()
 *
 * A lossy subscriber's data may be overwritten meanwhile: use it, but
 * trust it only once ringcast_sub_release() returned 0.
 * Return: as ringcast_sub_next(): 0; -EOVERFLOW, -ESTALE, -EAGAIN,
 * -ETIMEDOUT, -EINTR, -EPIPE, -EOWNERDEAD, -EIDRM, -EBADMSG, -EINVAL,
 * -ECHILD.
 */
RINGCAST_API int ringcast_sub_borrow(struct ringcast_sub *sub,
				     struct ringcast_event *ev,
				     int64_t timeout_ns);

/**
 * ringcast_sub_release() - end a borrow and learn whether it was valid
 * @sub: the subscriber
 * @ev:  the borrowed event, or NULL; @ev->lost is set on -EOVERFLOW
 * Return: 0 when the event was not overwritten while borrowed; -EOVERFLOW
 * (it was: discard it), -ESTALE (demoted meanwhile: discard it), -EBADMSG,
 * -EINVAL (nothing borrowed).
 */
RINGCAST_API int ringcast_sub_release(struct ringcast_sub *sub,
				      struct ringcast_event *ev);

/**
 * ringcast_sub_next_batch() - copy out up to @max events in one call
 * @sub:        the subscriber
 * @evs:        filled in, as by ringcast_sub_next(), from @evs[0] on; each
 *              @evs[i].data points into @buf, valid until @buf is reused
 * @max:        the most events to copy
 * @buf:        where their payloads go, one after the other (8-byte aligned)
 * @size:       its bytes: the ring's largest event is always enough
 * @timeout_ns: as for ringcast_sub_next(), for the first event only: then
 *              it takes what is there without waiting
 *
 * What ends a batch after its first event (a lap, a demotion, the end of
 * the stream, an event that does not fit what is left of @buf) is
 * returned by the next call, nothing lost.
 * Return: the number of events (>= 1); else as ringcast_sub_next():
 * -EOVERFLOW (@evs[0].lost lost: call again), -ESTALE, -EAGAIN, -ETIMEDOUT,
 * -EINTR, -EPIPE, -EOWNERDEAD, -EIDRM, -EBADMSG, -EINVAL, -ECHILD; or
 * -ENOBUFS (the next event is larger than @size: nothing read).
 */
RINGCAST_API int ringcast_sub_next_batch(struct ringcast_sub *sub,
					 struct ringcast_event *evs,
					 unsigned int max, void *buf,
					 size_t size, int64_t timeout_ns);

/**
 * ringcast_sub_read_at() - read the event of a given sequence
 * @sub: the subscriber; its cursor does not move
 * @seq: the sequence
 * @ev:  filled in as by ringcast_sub_next()
 * Return: 0; -ERANGE (no longer retained: its slot or its bytes in the
 * data area overwritten, also during the copy), -EAGAIN (not published
 * yet), -EBADMSG, -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_sub_read_at(struct ringcast_sub *sub, uint64_t seq,
				      struct ringcast_event *ev);

/**
 * ringcast_sub_interrupt() - make the current or next wait return -EINTR
 * @sub: the subscriber; any thread, async-signal-safe
 */
RINGCAST_API void ringcast_sub_interrupt(struct ringcast_sub *sub);

/* struct ringcast_sub_stats - a subscriber's accounting */
struct ringcast_sub_stats {
	uint64_t first; /* the first sequence of the subscription */
	uint64_t cursor; /* the next sequence it will read */
	uint64_t delivered; /* events it read */
	uint64_t skipped; /* events its type filter skipped */
	uint64_t lost; /* events lost in laps, all of them */
	uint64_t laps; /* -EOVERFLOW returns */
	uint64_t aborted; /* holes of dead publishers skipped */
	uint64_t sleeps; /* futex waits entered */
	uint64_t timed_wakes; /* waits that ended by the liveness timer */
	int32_t entry; /* its entry in the subscriber table, -1 if none */
	uint32_t reliable; /* 1 while it gates the publisher */
	uint64_t demoted; /* times it was demoted (0 or 1) */
};

/**
 * ringcast_sub_get_stats() - read the subscriber's accounting
 * @sub: the subscriber
 * @st:  filled in
 */
RINGCAST_API void ringcast_sub_get_stats(const struct ringcast_sub *sub,
					 struct ringcast_sub_stats *st);

/**
 * ringcast_sub_detach() - leave the ring and free the subscriber
 * @sub: the subscriber, or NULL
 */
RINGCAST_API void ringcast_sub_detach(struct ringcast_sub *sub);

/* ----------------------------------------------------------------------
 * TypeMux, the in-process layer: ringcast_mux(3)
 *
 * A mux is one reader of a ring in this process, delivering each event to
 * the local subscriptions of its type: callbacks on the dispatching thread,
 * or queues drained with ringcast_mux_next().  Subscriptions come and go
 * from any thread while dispatch runs (userspace RCU, liburcu's urcu-bp).
 */

struct ringcast_mux;
struct ringcast_mux_sub;

/* Flags of ringcast_mux_opts. */
#define RINGCAST_MUX_RELIABLE 0x1u /* reliable reader; full queues block */
#define RINGCAST_MUX_MANUAL 0x2u /* no thread: ringcast_mux_dispatch() */
#define RINGCAST_MUX_POST 0x4u /* hold the ring's publisher too */
#define RINGCAST_MUX_POST_ONLY 0x8u /* a publisher and no reader */
#define RINGCAST_MUX_PAUSED 0x10u /* no dispatch before ringcast_mux_start() */

/* struct ringcast_mux_opts - how to open a mux; 0 for each default */
struct ringcast_mux_opts {
	uint32_t flags; /* RINGCAST_MUX_* */
	uint32_t queue_len; /* per queue (0: 256; at most 2^20) */
	uint32_t from; /* where the reader starts (enum ringcast_from) */
	uint32_t pub_flags; /* ringcast_pub_attach() flags, with _POST */
	uint64_t seq; /* the first sequence, with RINGCAST_FROM_SEQ */
	/*
	 * Bytes per queue, each event counting 32 + its length rounded up
	 * to 32 (0: queue_len of the slot's capacity; at most 4 GiB).  An
	 * empty queue takes one event of any size.
	 */
	uint64_t queue_bytes;
};

/**
 * ringcast_mux_open() - a mux reading (and maybe posting to) a ring
 * @name: an existing ring
 * @opts: NULL for a lossy mux with its own dispatcher thread, from newest
 * @muxp: the new handle on success
 *
 * The reader's place in the stream is taken here, paused or not.
 * Return: 0; -EINVAL, -ENOMEM, -EAGAIN (no thread), and the errors of
 * ringcast_sub_attach() and ringcast_pub_attach(): -ENOENT, -EACCES,
 * -EPROTO, -EBADMSG, -EBUSY, -EUSERS, -EPIPE, -EIDRM.
 */
RINGCAST_API int ringcast_mux_open(const char *name,
				   const struct ringcast_mux_opts *opts,
				   struct ringcast_mux **muxp);

/**
 * ringcast_mux_start() - start the dispatcher of a paused mux
 * @mux: a mux opened with RINGCAST_MUX_PAUSED; any thread
 * Return: 0, also when it runs already; -EINVAL (NULL, manual or post-only
 * mux), -ESHUTDOWN, -EAGAIN (no thread: it stays paused), -ECHILD.
 */
RINGCAST_API int ringcast_mux_start(struct ringcast_mux *mux);

/**
 * ringcast_mux_post() - publish an event through the mux's publisher
 * @mux:  a mux opened with RINGCAST_MUX_POST; any thread
 * @type: the event's type tag
 * @data: the payload; NULL when @len is 0
 * @len:  at most the ring's largest event (ringcast_ring_stats.max_event)
 * Return: as ringcast_pub_publish(): the count; -EINVAL (also without
 * RINGCAST_MUX_POST), -EMSGSIZE, -EBUSY, -EPIPE, -EIDRM, -EAGAIN,
 * -ETIMEDOUT, -EINTR, -EBADMSG, -ECHILD; -ESHUTDOWN after
 * ringcast_mux_stop().
 */
RINGCAST_API int ringcast_mux_post(struct ringcast_mux *mux, uint32_t type,
				   const void *data, size_t len);

/**
 * ringcast_mux_subscribe() - a queue subscription to some types
 * @mux:    the mux; any thread, also a handler
 * @types:  the type tags wanted, 1 to RINGCAST_MAX_TYPES, distinct
 * @ntypes: how many
 * @subp:   the new subscription on success
 *
 * Its queue holds at most queue_len events and queue_bytes bytes of them
 * (struct ringcast_mux_opts); when empty, one event of any size.
 * Return: 0; -EINVAL (no or duplicate types, post-only mux), -ESHUTDOWN,
 * -ENOMEM, -ECHILD.
 */
RINGCAST_API int ringcast_mux_subscribe(struct ringcast_mux *mux,
					const uint32_t *types,
					unsigned int ntypes,
					struct ringcast_mux_sub **subp);

/**
 * ringcast_mux_handle() - a callback subscription to some types
 * @mux:    the mux; any thread, also a handler
 * @types:  as for ringcast_mux_subscribe()
 * @ntypes: how many
 * @fn:     called on the dispatching thread for each event, outside every
 *          lock; it may block (its mux waits), must not stop or close a mux
 * @arg:    passed to @fn
 * @subp:   the new subscription on success
 * Return: 0; -EINVAL (also no @fn), -ESHUTDOWN, -ENOMEM, -ECHILD.
 */
RINGCAST_API int ringcast_mux_handle(struct ringcast_mux *mux,
				     const uint32_t *types, unsigned int ntypes,
				     void (*fn)(const struct ringcast_event *ev,
						void *arg),
				     void *arg, struct ringcast_mux_sub **subp);

/**
 * ringcast_mux_handle_status() - a callback subscription told of losses
 * and of the end of the stream
 * @mux:    as for ringcast_mux_handle()
 * @types:  as for ringcast_mux_subscribe()
 * @ntypes: how many
 * @fn:     as for ringcast_mux_handle()
 * @status: called as @fn is, never with it: (-EOVERFLOW, lost) after
 *          laps; once, at the end, the reader's end code with lost 0
 * @arg:    passed to @fn and @status
 * @subp:   the new subscription on success
 * Return: 0; -EINVAL (also no @fn or @status), -ESHUTDOWN, -ENOMEM,
 * -ECHILD.
 */
RINGCAST_API int ringcast_mux_handle_status(
	struct ringcast_mux *mux, const uint32_t *types, unsigned int ntypes,
	void (*fn)(const struct ringcast_event *ev, void *arg),
	void (*status)(int code, uint64_t lost, void *arg), void *arg,
	struct ringcast_mux_sub **subp);

/**
 * ringcast_mux_next() - take the next event of a queue subscription
 * @sub:        a queue subscription
 * @ev:         filled in; @ev->data points into @sub's queue, valid (and
 *              counted in its bytes) until the next ringcast_mux_next()
 *              or ringcast_mux_sub_free() on @sub
 * @timeout_ns: 0 to return at once, < 0 to wait for ever, else the most
 * Return: 0 with an event; -EOVERFLOW (@ev->lost events lost: call again),
 * -EAGAIN, -ETIMEDOUT, -EINTR, -ECANCELED (unsubscribed, stopped, or its
 * scope closed), the reader's end once the queue is empty (-EPIPE,
 * -EOWNERDEAD, -EIDRM, -EBADMSG); -EINVAL (also a callback subscription),
 * -ECHILD.
 */
RINGCAST_API int ringcast_mux_next(struct ringcast_mux_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns);

/**
 * ringcast_mux_interrupt() - make the current or next ringcast_mux_next()
 * wait return -EINTR
 * @sub: a queue subscription; any thread, not async-signal-safe
 */
RINGCAST_API void ringcast_mux_interrupt(struct ringcast_mux_sub *sub);

/**
 * ringcast_mux_unsubscribe() - stop deliveries to a subscription
 * @sub: the subscription; any thread, also a handler; idempotent
 *
 * Outside a delivery it returns once no callback of @sub runs, and none
 * will; inside one it does not wait.  Its waits return -ECANCELED.
 * Return: 0, also after ringcast_mux_stop(); -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_mux_unsubscribe(struct ringcast_mux_sub *sub);

/**
 * ringcast_mux_sub_free() - unsubscribe and free a subscription
 * @sub: the subscription, or NULL; no other call in progress on it
 */
RINGCAST_API void ringcast_mux_sub_free(struct ringcast_mux_sub *sub);

/* struct ringcast_mux_sub_stats - a subscription's accounting */
struct ringcast_mux_sub_stats {
	uint64_t delivered; /* events returned, or handler calls */
	uint64_t dropped; /* dropped: a full queue (lossy mux), or no memory */
	uint64_t ring_lost; /* lost to the reader's laps meanwhile */
	uint64_t lost; /* the sum of the -EOVERFLOW counts reported so far */
	uint64_t full_waits; /* dispatcher waits for room (reliable) */
	uint64_t queued; /* events in its queue now */
};

/**
 * ringcast_mux_sub_get_stats() - a snapshot, under the subscription's mutex
 * @sub: the subscription
 * @st:  filled in
 */
RINGCAST_API void ringcast_mux_sub_get_stats(struct ringcast_mux_sub *sub,
					     struct ringcast_mux_sub_stats *st);

/**
 * ringcast_mux_dispatch() - read and deliver events on the caller's thread
 * @mux:        a mux opened with RINGCAST_MUX_MANUAL
 * @timeout_ns: wait for the first event (as ringcast_sub_next()), then
 *              deliver what is ready, at most 1024 events
 * Return: the number delivered (> 0); -EAGAIN, -ETIMEDOUT, -EINTR,
 * -ESHUTDOWN, the reader's end (-EPIPE, -EOWNERDEAD, -EIDRM, -EBADMSG),
 * -EINVAL (not manual), -EDEADLK (from its own handler), -ECHILD.
 */
RINGCAST_API int ringcast_mux_dispatch(struct ringcast_mux *mux,
				       int64_t timeout_ns);

/**
 * ringcast_mux_reader() - the mux's reader, to wait on; never read from it
 * @mux: the mux
 * Return: the reader, valid until ringcast_mux_close(); NULL when post-only.
 */
RINGCAST_API struct ringcast_sub *ringcast_mux_reader(struct ringcast_mux *mux);

/**
 * ringcast_mux_stop() - stop a mux; return when no delivery is in flight
 * @mux: the mux; any thread except a handler's
 *
 * Later posts, subscribes and dispatches fail with -ESHUTDOWN; every
 * subscription reports -ECANCELED.  Calling it again is harmless.
 * Return: 0; -EDEADLK (from inside a delivery), -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_mux_stop(struct ringcast_mux *mux);

/**
 * ringcast_mux_close() - stop the mux, detach it and free the handle
 * @mux: the mux, or NULL
 *
 * The ring is not closed; the subscriptions stay valid until freed.
 * Return: 0; -EDEADLK (from inside a delivery: nothing freed), -ECHILD
 * (the memory is freed).
 */
RINGCAST_API int ringcast_mux_close(struct ringcast_mux *mux);

/* ----------------------------------------------------------------------
 * Scopes: close many mux subscriptions together; every call thread-safe
 */

struct ringcast_scope;

/**
 * ringcast_scope_new() - an empty, open scope
 * @scp: the new scope on success
 * Return: 0; -EINVAL, -ENOMEM.
 */
RINGCAST_API int ringcast_scope_new(struct ringcast_scope **scp);

/**
 * ringcast_scope_track() - add a subscription to a scope
 * @sc:  the scope
 * @sub: a subscription tracked by no scope
 * Return: 0; -ECANCELED (the scope is closed: @sub untouched), -EINVAL
 * (also @sub tracked already), -ENOMEM.
 */
RINGCAST_API int ringcast_scope_track(struct ringcast_scope *sc,
				      struct ringcast_mux_sub *sub);

/**
 * ringcast_scope_count() - the subscriptions tracked now
 * @sc: the scope
 * Return: the count (0 once closed); -EINVAL.
 */
RINGCAST_API int ringcast_scope_count(struct ringcast_scope *sc);

/**
 * ringcast_scope_close() - unsubscribe every tracked subscription
 * @sc: the scope
 *
 * As ringcast_mux_unsubscribe() for each; later tracks fail.
 * Return: the number closed (0 the second time); -EINVAL.
 */
RINGCAST_API int ringcast_scope_close(struct ringcast_scope *sc);

/**
 * ringcast_scope_free() - close the scope and free it
 * @sc: the scope, or NULL
 */
RINGCAST_API void ringcast_scope_free(struct ringcast_scope *sc);

/* ----------------------------------------------------------------------
 * Waiting on many subscribers; event loops: ringcast_mux(3)
 */

/* The most subscribers one ringcast_sub_wait_any() call takes. */
#define RINGCAST_WAIT_ANY_MAX 1024u

/**
 * ringcast_sub_wait_any() - wait until one of @subs has something to read
 * @subs:       the subscribers, on any rings, all read by the calling thread
 * @n:          1 to RINGCAST_WAIT_ANY_MAX
 * @timeout_ns: 0 to check once, < 0 to wait for ever, else the most
 *
 * Return: the index of the first such subscriber; -EAGAIN, -ETIMEDOUT,
 * -EINTR (one of them was interrupted), -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_sub_wait_any(struct ringcast_sub *const *subs,
				       unsigned int n, int64_t timeout_ns);

/**
 * ringcast_sub_fd() - a descriptor readable while @sub has something to read
 * @sub: the subscriber
 *
 * An eventfd owned by @sub (do not read or close it), level-triggered:
 * read @sub until -EAGAIN, then poll again.
 * Return: the descriptor, the same on every call; -ENOMEM, -EMFILE,
 * -EAGAIN (no thread), -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_sub_fd(struct ringcast_sub *sub);

/* ----------------------------------------------------------------------
 * Recordings: ringcast_rec(3); the format: ringcast-recording(5)
 *
 * A recording is a directory of segment files holding a ring's events,
 * each record checksummed, each segment indexed by sequence.  One writer
 * appends (a recorder); any number of readers open it, also while it is
 * written.  A recording belongs to one incarnation of one ring.
 */

struct ringcast_rec;

/* Kinds of records (ringcast_rec_entry.kind). */
enum ringcast_rec_kind {
	RINGCAST_REC_EVENT = 0, /* an event, as a subscriber read it */
	RINGCAST_REC_GAP = 1, /* @count sequences from ev.seq were lost */
	RINGCAST_REC_HOLE = 2, /* @count aborted claims from ev.seq */
	RINGCAST_REC_TAKEOVER = 3, /* a new publisher's epoch from ev.seq */
};

/* struct ringcast_rec_entry - one record of a recording */
struct ringcast_rec_entry {
	uint32_t kind; /* enum ringcast_rec_kind */
	uint32_t reserved; /* 0 */
	uint64_t count; /* sequences covered: 1 event, >= 1 gap, 0 takeover */
	struct ringcast_event ev; /* seq; ts; event: all; takeover: epoch */
	const char *segment; /* read: its segment file, until the next call */
	uint64_t offset; /* read: its byte offset in that file */
};

/* When a writer forces its bytes to disk (ringcast_rec_opts.sync). */
enum ringcast_rec_sync {
	RINGCAST_REC_SYNC_NONE = 0, /* never: the page cache decides */
	RINGCAST_REC_SYNC_SEGMENT = 1, /* a segment when it is complete */
	RINGCAST_REC_SYNC_INTERVAL = 2, /* at most sync_interval_ns apart */
};

/* struct ringcast_rec_opts - a new or continued recording's writer */
struct ringcast_rec_opts {
	const char *name; /* the ring recorded */
	uint64_t created_ns; /* its ringcast_ring_stats.created_ns */
	uint32_t mode; /* permission bits, whatever the umask (0: 0600) */
	uint32_t sync; /* enum ringcast_rec_sync */
	uint64_t sync_interval_ns; /* with _SYNC_INTERVAL (0: 1 s) */
	uint64_t segment_size; /* rotate past it: 64 KiB or more (0: 64 MiB) */
	uint64_t retain_bytes; /* remove old segments beyond it (0: never) */
	uint64_t retain_ns; /* remove segments older than it (0: never) */
};

/* struct ringcast_rec_stats - a recording handle's accounting */
struct ringcast_rec_stats {
	uint64_t created_ns; /* the ring incarnation it belongs to */
	uint64_t first; /* the oldest sequence it holds (at open, create) */
	uint64_t next; /* writer: the next to record; reader: after the last */
	uint64_t records; /* records appended, or read */
	uint64_t bytes; /* bytes of them */
	uint64_t segments; /* segment files created, or entered */
	uint64_t removed; /* segments removed by retention */
	uint64_t syncs; /* fdatasync() calls */
	uint64_t truncated; /* bytes of a torn tail cut away at create */
	uint64_t damaged; /* damaged records reported */
	char name[RINGCAST_NAME_MAX + 1]; /* the ring's name */
};

/**
 * ringcast_rec_create() - open a recording to append to, making it if need be
 * @path: its directory, created with @opts->mode (and x where r is set)
 * @opts: the ring and the policies; its name and created_ns are required
 * @recp: the new writer on success
 * @next: if not NULL, set to the next sequence to record (1 returned)
 *
 * One writer at a time: it holds PATH/lock.  Continuing a recording, it
 * cuts a torn last record away (a writer killed in the middle of one).
 * Return: 0 (an empty recording), 1 (it holds records: continue from
 * @next); -EINVAL, -EXDEV (a recording of another ring or incarnation),
 * -EBUSY (another writer holds it), -EBADMSG (not a recording, or its last
 * segment's header is damaged), -ENOMEM, or the file system's error
 * (-EACCES, -ENOSPC, -EROFS, -EIO, -ENOTDIR, -EDQUOT).
 */
RINGCAST_API int ringcast_rec_create(const char *path,
				     const struct ringcast_rec_opts *opts,
				     struct ringcast_rec **recp,
				     uint64_t *next);

/**
 * ringcast_rec_append() - append one record
 * @rec: a writer
 * @e:   its kind, count and event (@e->ev.data: @e->ev.len bytes); its
 *       ev.seq is the next sequence: a recording neither repeats nor skips
 *
 * Buffered: readers see it after ringcast_rec_flush().  Rotates to a new
 * segment past the segment size, then applies the retention.
 * Return: 0; -EINVAL (a reader, an unknown kind, a wrong count, or ev.seq
 * not the next), -EMSGSIZE (over 1 GiB), -ENOMEM, or the file system's
 * error (-ENOSPC, -EIO, -EDQUOT, -EFBIG).
 */
RINGCAST_API int ringcast_rec_append(struct ringcast_rec *rec,
				     const struct ringcast_rec_entry *e);

/**
 * ringcast_rec_flush() - write the buffered records to the file system
 * @rec: a writer
 *
 * Then readers see them; with RINGCAST_REC_SYNC_INTERVAL it also syncs
 * when the interval has passed.
 * Return: 0; -EINVAL, or the file system's error (-ENOSPC, -EIO, -EDQUOT,
 * -EFBIG).
 */
RINGCAST_API int ringcast_rec_flush(struct ringcast_rec *rec);

/**
 * ringcast_rec_sync() - flush, then force the segment to disk
 * @rec: a writer
 *
 * Whatever the policy: fdatasync() of the segment and its index.
 * Return: 0; -EINVAL, or the file system's error (-ENOSPC, -EIO, -EDQUOT,
 * -EFBIG).
 */
RINGCAST_API int ringcast_rec_sync(struct ringcast_rec *rec);

/* Flags of ringcast_rec_open(): none yet. */

/**
 * ringcast_rec_open() - open a recording to read it, from its first record
 * @path:  its directory
 * @flags: 0
 * @recp:  the new reader on success
 * Return: 0; -EINVAL, -ENOENT (no such directory), -ENODATA (no segment:
 * nothing recorded yet), -EBADMSG (its first segment's header is damaged),
 * -ENOMEM, or the file system's error (-EACCES, -ENOTDIR, -EIO).
 */
RINGCAST_API int ringcast_rec_open(const char *path, unsigned int flags,
				   struct ringcast_rec **recp);

/**
 * ringcast_rec_seek() - position a reader at a sequence
 * @rec: a reader
 * @seq: the sequence
 *
 * Finds the segment by name and the place in it by its index; the next
 * record read is the one that holds @seq (an event, or a gap or hole
 * that covers it), or the first after it.
 * Return: 0; 1 (@seq is older than the recording: positioned at its
 * start); -EINVAL, -ENODATA (no segment left), -EBADMSG (the segment's
 * header is damaged), -ENOMEM, -EIO.
 */
RINGCAST_API int ringcast_rec_seek(struct ringcast_rec *rec, uint64_t seq);

/**
 * ringcast_rec_next() - read the next record
 * @rec: a reader
 * @e:   filled in; @e->ev.data and @e->segment are valid until the next
 *       call on @rec
 *
 * A damaged record (a checksum or a length that does not hold, a segment
 * cut short) is reported with its place in @e->segment and @e->offset;
 * the next call goes on after it, with the next valid record.
 * Return: 0; -EAGAIN (the end: nothing more now; a recording being
 * written grows), -EBADMSG (a damaged record), -EINVAL, -ENOMEM, -EIO.
 */
RINGCAST_API int ringcast_rec_next(struct ringcast_rec *rec,
				   struct ringcast_rec_entry *e);

/**
 * ringcast_rec_get_stats() - a recording handle's accounting
 * @rec: a reader or a writer
 * @st:  filled in
 */
RINGCAST_API void ringcast_rec_get_stats(const struct ringcast_rec *rec,
					 struct ringcast_rec_stats *st);

/**
 * ringcast_rec_close() - flush and sync as the policy says, and free
 * @rec: a writer or a reader, or NULL; freed whatever the result
 * Return: 0; the writer's last flush or sync error (-ENOSPC, -EIO,
 * -EDQUOT, -EFBIG).
 */
RINGCAST_API int ringcast_rec_close(struct ringcast_rec *rec);

/*
 * Readers from the first event: a recording, then the live ring, every
 * sequence once and in order (Aeron's replay-merge in one call).
 */
struct ringcast_archive;

/**
 * ringcast_archive_open() - read a ring's stream from its recording on
 * @name: the ring
 * @path: the directory of its recording (ringcast record)
 * @opts: as for ringcast_sub_attach(), from RINGCAST_FROM_SEQ (@opts->seq)
 *        or RINGCAST_FROM_OLDEST (the recording's first event); NULL: from 0
 * @ap:   the new reader on success
 *
 * Attaches a subscriber to the ring at once, where the ring still holds
 * events (a reliable one holds them from there), and reads the sequences
 * before that from the recording.
 * Return: 0; what ringcast_sub_attach() and ringcast_rec_open() return:
 * -EINVAL (another start), -ENOENT, -ENODATA, -EACCES, -EUSERS, -EPROTO,
 * -EBADMSG, -ENOMEM.
 */
RINGCAST_API int ringcast_archive_open(const char *name, const char *path,
				       const struct ringcast_sub_opts *opts,
				       struct ringcast_archive **ap);

/**
 * ringcast_archive_next() - the next event, from the recording or the ring
 * @a:          the reader
 * @ev:         filled in as by ringcast_sub_next()
 * @timeout_ns: as for ringcast_sub_next(); also how long to wait for a
 *              recorder that has not written the next sequence yet
 *
 * Every sequence once, in order: an event, or a loss the recording holds
 * as a gap (or that came before it began), reported as -EOVERFLOW.
 * Return: as ringcast_sub_next(): 0; -EOVERFLOW (@ev->lost), -ESTALE,
 * -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE, -EOWNERDEAD, -EIDRM, -EBADMSG (a
 * damaged record, or a corrupted ring), -EINVAL, -ECHILD, -EIO.
 */
RINGCAST_API int ringcast_archive_next(struct ringcast_archive *a,
				       struct ringcast_event *ev,
				       int64_t timeout_ns);

/* The build reads "RINGCAST_API ... name(" from one line: */
/* clang-format off */
/**
 * ringcast_archive_sub() - the ring's subscriber of the reader
 * @a: the reader
 *
 * For its statistics, its descriptor or an interrupt; read it only
 * through ringcast_archive_next().
 * Return: the subscriber; NULL when @a is NULL.
 */
RINGCAST_API struct ringcast_sub *ringcast_archive_sub(
	const struct ringcast_archive *a);
/* clang-format on */

/**
 * ringcast_archive_close() - detach and free the reader
 * @a: the reader, or NULL
 */
RINGCAST_API void ringcast_archive_close(struct ringcast_archive *a);

#ifdef __cplusplus
}
#endif

#endif /* RINGCAST_H */
