/* SPDX-License-Identifier: MIT */
/*
 * ringcast - one publisher, many subscribers, one ring in shared memory.
 *
 * A ring is a named POSIX shared-memory object (/dev/shm/ringcast.NAME)
 * holding a header, a subscriber table and a power-of-two array of
 * fixed-size slots.  A publisher writes events (a 32-bit type tag and up to
 * ringcast_ring_stats.capacity bytes of payload) into consecutive slots;
 * every subscriber has a private cursor and reads every event at its own
 * pace.  Event S lives in slot S % slots, so a subscriber that falls a whole
 * ring behind loses events: it is told exactly how many (-EOVERFLOW) and
 * goes on.
 *
 * Errors.  Every call returns 0 or a non-negative count on success and a
 * negative errno on failure; errno is never used to report anything.  One
 * meaning per code:
 *
 *   -EINVAL      bad argument or ring name
 *   -ENOENT      no such ring (or it is still being created)
 *   -EEXIST      a ring of that name exists (exclusive create)
 *   -EACCES      no permission for what was asked
 *   -ENOSPC      no room in /dev/shm for a new ring
 *   -EPROTO      not a ringcast object, or an incompatible ABI version
 *   -EBADMSG     the ring is corrupted (inconsistent header, table or slot)
 *   -EMSGSIZE    payload larger than the slot allows; nothing written
 *   -EBUSY       another live publisher holds the lease (or is stuck
 *                taking a multi-publisher ring over); or a live
 *                participant keeps a ring from being removed
 *   -EUSERS      the subscriber table is full (reliable subscriber)
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
 *
 * ringcast_strerror() names each; ringcast_errdetail() says, for the last
 * failed call of the calling thread that validated a ring, what exactly was
 * wrong with it ("slot size 3 is not a power of two").
 *
 * Trust.  Every value read from the shared object is treated as untrusted:
 * the header is validated when a handle is made (magic, ABI version,
 * geometry, a checksum of the immutable part, the object's size), and every
 * length, index, state and sequence read afterwards is bounds-checked.  A
 * corrupted ring gives -EBADMSG, never a crash, a hang or an out-of-bounds
 * access.  Processes with write access to a ring are trusted not to be
 * hostile: any of them can truncate the object, which no reader survives
 * (SIGBUS), exactly as with any shared mapping.  So is a ring's owner, by
 * whoever reads its ring; a publisher refuses a ring of another owner
 * unless told to trust it (RINGCAST_PUB_ANY_OWNER; SECURITY.md).
 *
 * Memory.  A ring's memory is allocated when it is created
 * (posix_fallocate(): a full /dev/shm is -ENOSPC then, never a SIGBUS
 * later), and every handle maps it prefaulted (MAP_POPULATE), so no page
 * fault lands on the publish or read path; attaching costs a page-table fill
 * in proportion to the ring's size (8 ms for a 64 MiB ring here, against
 * 0.2 ms unprefaulted: bench/pathcost).
 *
 * Liveness.  The publisher holds a lease: an open-file-description lock on
 * byte 0 of a companion object /dev/shm/ringcast-lock.NAME, which only
 * processes with write access to the ring can open.  The kernel drops the
 * lock when the publisher dies, however it dies; subscribers that find the
 * lease free while the ring is live mark it abandoned, read every event that
 * was committed, then get -EOWNERDEAD.  A reader without write access cannot
 * probe the lease: it checks the publisher's pid and start time in /proc
 * instead (on a multi-publisher ring, every publisher's in the table),
 * which works within one PID namespace.
 *
 * Threads.  A handle (publisher or subscriber) is used by one thread at a
 * time, except ringcast_sub_interrupt(), which any thread may call at any
 * time.  Different handles are independent, also on the same ring.
 *
 * fork().  Handles do not survive fork(): in the child every call on an
 * inherited handle returns -ECHILD, except the detach and close calls, which
 * free its memory without touching the ring, and the child's copies of the
 * liveness locks are dropped, so a dead parent never looks alive.
 *
 * Timestamps.  ringcast_event.ts is CLOCK_MONOTONIC in nanoseconds, read
 * from the coarse clock (a few ns, a resolution of one kernel tick) once per
 * publish call or batch, unless the publisher asked for RINGCAST_PUB_PRECISE.
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
#define RINGCAST_VERSION_MINOR 2
#define RINGCAST_VERSION_PATCH 0
#define RINGCAST_VERSION "0.2.0"

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
/* Bytes of each slot taken by the event's header. */
#define RINGCAST_SLOT_HEADER 32u

/* ----------------------------------------------------------------------
 * Errors
 */

/**
 * ringcast_strerror() - name an error code of this library
 * @err: a negative (or positive) errno returned by a ringcast call
 *
 * Return: a static string; never NULL.  Codes outside the table get the C
 * library's strerror() text.  Thread-safe.
 */
RINGCAST_API const char *ringcast_strerror(int err);

/**
 * ringcast_errdetail() - what was wrong with the ring in the last failure
 *
 * Return: a thread-local string describing the last -EPROTO, -EBADMSG,
 * -EINVAL or -ENOENT this thread got from attaching to or validating a
 * ring, the owner named by a publisher's -EACCES (another user's ring),
 * the participant named by ringcast_ring_remove()'s -EBUSY, or "" if
 * there is none.  Valid until this thread's next ringcast
 * call.
 */
RINGCAST_API const char *ringcast_errdetail(void);

/* ----------------------------------------------------------------------
 * Rings
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
/*
 * With RINGCAST_CREATE_EXCL clear, an existing ring is accepted when its
 * geometry, demotion limit and publisher mode match (-EEXIST otherwise: a
 * different ring of that name exists).
 *
 * RINGCAST_CREATE_MULTI_PUB makes a multi-publisher ring (the mode is fixed
 * at creation; ringcast_ring_stats.features has RINGCAST_FEAT_MULTI_PUB):
 * any number of processes and threads publish at once.  Each publisher
 * takes a table entry (not counted as a subscriber) and a shared lease; it
 * claims sequences with an atomic compare-and-swap only once it knows they
 * have room (so a publish that cannot wait writes and claims nothing), after
 * announcing the claim in its entry, and commits each record on its own.
 * Subscribers read in sequence order.  A publisher killed between claim and
 * commit leaves a hole that the first subscriber (or attacher) to find its
 * owner dead marks aborted; every subscriber skips it and counts it
 * (struct ringcast_sub_stats, aborted), within a few milliseconds.  The ring is
 * abandoned when every publisher has died.  Such rings are slower per event
 * than single-publisher ones (a compare-and-swap on a shared line per call).
 */

/**
 * struct ringcast_ring_opts - geometry of a new ring
 * @slots:           number of slots, a power of two (0: 4096)
 * @slot_size:       bytes per slot, a power of two from 64 to 16 MiB
 *                   (0: 256); the payload capacity is this minus 32
 * @max_subscribers: entries of the shared subscriber table, 1 to 4096
 *                   (0: 64)
 * @mode:            permission bits of the object, applied with fchmod()
 *                   whatever the umask (0: 0600)
 * @demote_ns:       what a publisher does when a reliable subscriber that is
 *                   alive keeps it blocked: 0 waits for ever (the default,
 *                   a Go event.Feed's behaviour); otherwise it waits at most
 *                   this long, then demotes that subscriber to lossy (it is
 *                   told once with -ESTALE) and goes on.  Fixed at creation.
 */
struct ringcast_ring_opts {
	uint32_t slots;
	uint32_t slot_size;
	uint32_t max_subscribers;
	uint32_t mode;
	uint64_t demote_ns;
};

/**
 * ringcast_ring_create() - create a ring
 * @name:  1-200 characters of [A-Za-z0-9._-], not starting with '.'
 * @opts:  geometry; NULL for the defaults
 * @flags: RINGCAST_CREATE_EXCL or 0
 *
 * The whole object is reserved up front (posix_fallocate), so a full
 * /dev/shm fails here with -ENOSPC and never later.  The object becomes
 * visible to attachers only once its header is complete: until then they
 * see -ENOENT.  An existing object is never followed or reused unless it is
 * a valid ring of the same geometry and of the same owner (another user's
 * ring of that name is -EEXIST, a link -EPROTO), and a lock object of
 * another owner than the ring's is refused (-EACCES).
 *
 * Concurrent creators of one name (processes of the ring's owner) agree:
 * one creates the ring while holding a lock on the lock object, and the
 * others, without RINGCAST_CREATE_EXCL, wait until it is done (however
 * long reserving the memory takes, up to 30 s), then find the ring as an
 * existing one; with RINGCAST_CREATE_EXCL they get -EEXIST at once.  An
 * object left without a header by a creator that died is removed and the
 * ring created in its place.
 *
 * Return: 0 when created, 1 when a matching ring already existed (flags
 * without RINGCAST_CREATE_EXCL), or -EINVAL, -EEXIST, -EACCES, -ENOSPC,
 * -EPROTO, -EBADMSG, -ETIMEDOUT (another process was still creating it
 * after 30 s).
 */
RINGCAST_API int ringcast_ring_create(const char *name,
				      const struct ringcast_ring_opts *opts,
				      unsigned int flags);

/**
 * ringcast_ring_remove() - unlink a ring nobody uses, and its lock object
 * @name: the ring
 *
 * Refuses while a participant is alive: a publisher holding the lease, or
 * the owner of a table entry (a registered subscriber, a publisher of a
 * multi-publisher ring); ringcast_errdetail() names it and its pid.  A
 * process without write access judges liveness by pid and start time, and
 * does not see read-only readers (they have no entry).  A ring whose
 * creator is still making it is busy too.  Otherwise the ring is marked
 * removed (a closed ring stays closed), so that a participant that
 * attached meanwhile learns it as with ringcast_ring_remove_force(), then
 * unlinked; new attaches get -ENOENT.  An object that is not a valid ring
 * (corrupted, another version, left by a dead creator) is just unlinked.
 *
 * Return: 0, -EINVAL, -ENOENT, -EACCES, -EBUSY (a live participant).
 */
RINGCAST_API int ringcast_ring_remove(const char *name);

/**
 * ringcast_ring_remove_force() - unlink a ring even while it is in use
 * @name: the ring
 *
 * As ringcast_ring_remove(), without looking for live participants: the
 * ring is marked removed (unless it was closed) and every sleeper woken.
 * Its publishers' next publish (or a wait for room) returns -EIDRM; its
 * subscribers read every event committed before, then get -EIDRM (a
 * closed ring: -EPIPE, as before).  Processes keep their mapping until
 * they detach.  It maps only the ring's header, takes no lock and
 * allocates nothing: a program's fatal-signal handler may call it.
 *
 * Return: 0, -EINVAL, -ENOENT or -EACCES.
 */
RINGCAST_API int ringcast_ring_remove_force(const char *name);

/**
 * ringcast_ring_close() - end the stream of a ring from outside
 * @name: the ring
 *
 * Marks the ring closed (whatever publisher holds it) and wakes every
 * sleeper.  Subscribers read what was committed, then get -EPIPE; the
 * publisher's next publish gets -EPIPE.  An event that the publisher is
 * writing at that very moment may or may not be delivered.
 *
 * Return: 0, or -EPIPE when it was closed already, -EIDRM when it was
 * removed, or an attach error.
 */
RINGCAST_API int ringcast_ring_close(const char *name);

/**
 * struct ringcast_ring_stats - a snapshot of a ring
 *
 * Read without any lock: the fields are each consistent, not with each
 * other (head may move while the snapshot is taken).
 */
struct ringcast_ring_stats {
	uint32_t abi_version;
	uint32_t features;
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
};

/* Bits of ringcast_ring_stats.features. */
#define RINGCAST_FEAT_MULTI_PUB 0x1u /* a multi-publisher ring */

/**
 * ringcast_ring_get_stats() - validate a ring and take a snapshot of it
 * @name: the ring
 * @info: filled in on success
 *
 * Needs only read permission.
 *
 * Return: 0, -EINVAL, -ENOENT, -EACCES, -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_get_stats(const char *name,
				    struct ringcast_ring_stats *info);

/**
 * ringcast_ring_list() - names of the rings in /dev/shm
 * @cb:  called once per ring name, in no particular order; a non-zero
 *       return stops the walk and is returned
 * @arg: passed to @cb
 *
 * Return: 0, the callback's non-zero value, or a negative errno.
 */
RINGCAST_API int ringcast_ring_list(int (*cb)(const char *name, void *arg),
				    void *arg);

/* Flags of ringcast_ring_subscriber. */
#define RINGCAST_SUBINFO_RELIABLE 0x1u /* gates the publisher */
#define RINGCAST_SUBINFO_DEMOTED 0x2u /* was reliable, demoted to lossy */
#define RINGCAST_SUBINFO_FILTERED 0x4u /* reads some types only */

/**
 * struct ringcast_ring_subscriber - one entry of a ring's subscriber table
 * @id:        its index in the table
 * @pid:       the owner's pid (in the owner's PID namespace)
 * @alive:     1 the owner holds the entry's liveness lock, 0 it does not
 *             (it died: the entry is reclaimed by the next attach), -1
 *             cannot tell (no write access: judged by pid and start time)
 * @flags:     RINGCAST_SUBINFO_*
 * @first:     the first sequence of the subscription
 * @cursor:    the next sequence it will read
 * @lag:       events published that it has not read yet (head - cursor)
 * @delivered: events it read (first to cursor, less skipped and lost)
 * @skipped:   events its type filter skipped
 * @lost:      events it lost in laps (lossy, or after a demotion)
 * @aborted:   holes of dead publishers it skipped (multi-publisher)
 *
 * A snapshot: each field is read once, without a lock.
 */
struct ringcast_ring_subscriber {
	uint32_t id;
	int32_t pid;
	int32_t alive;
	uint32_t flags;
	uint64_t first;
	uint64_t cursor;
	uint64_t lag;
	uint64_t delivered;
	uint64_t skipped;
	uint64_t lost;
	uint64_t aborted;
};

/**
 * ringcast_ring_get_subscribers() - list the ring's registered subscribers
 * @name: the ring
 * @info: filled with up to @max entries, in table order
 * @max:  room in @info (0 to count only)
 *
 * With write access, entries whose owner died are reclaimed first (and so
 * not listed).  Unregistered readers (read-only ones, or lossy ones that
 * found the table full) are not in the table.
 *
 * Return: the number of entries in use (which may exceed @max), or
 * -EINVAL, -ENOENT, -EACCES, -EPROTO, -EBADMSG.
 */
RINGCAST_API int ringcast_ring_get_subscribers(const char *name,
					   struct ringcast_ring_subscriber *info,
					   unsigned int max);

/* ----------------------------------------------------------------------
 * Events
 */

/**
 * struct ringcast_event - one event as a subscriber sees it
 * @seq:   its sequence number
 * @ts:    CLOCK_MONOTONIC nanoseconds, stamped by the publisher
 * @type:  its type tag
 * @len:   payload bytes
 * @epoch: low 32 bits of the epoch of the publisher that wrote it
 * @publisher: which publisher wrote it: its table entry on a
 *         multi-publisher ring, RINGCAST_PUBLISHER_LEASE otherwise
 * @lost:  after -EOVERFLOW: events lost in that lap; otherwise 0
 * @data:  the payload (see the call that filled it for its lifetime)
 */
struct ringcast_event {
	uint64_t seq;
	uint64_t ts;
	uint32_t type;
	uint32_t len;
	uint32_t epoch;
	uint32_t publisher;
	uint64_t lost;
	const void *data;
};

/* ringcast_event.publisher of an event of a single-publisher ring. */
#define RINGCAST_PUBLISHER_LEASE 0xffffffffu

/* ----------------------------------------------------------------------
 * Publisher
 *
 * Ordering: a commit is a release: everything the publisher wrote into the
 * slot (and before it) is visible to a subscriber that reads the event.
 * Publish calls make no system call in steady state; they make one futex
 * wake only when a subscriber that wants the event's type sleeps.
 *
 * Reliable subscribers gate the publisher: before it overwrites event S it
 * makes sure every reliable subscriber has read past S.  It keeps the
 * lowest cursor cached and looks at the table again only when it would
 * otherwise overwrite (about every quarter ring, or when a subscriber joins
 * or leaves).  When the slowest reliable subscriber is a whole ring behind,
 * a publish waits: it spins about 20 us, then sleeps on a futex word of its
 * own that subscribers wake only when the publisher sleeps and they have
 * freed another quarter of the ring.  While waiting it probes the liveness
 * lock of the subscriber it waits for every 100 ms: a dead one is removed
 * from the table and the publish goes on (its return count drops by one).
 * A subscriber that is alive but stuck is waited for as the ring's
 * demotion limit (ringcast_ring_opts.demote_ns) or the subscriber's own
 * shorter one says.  How long a publish may wait is set with
 * ringcast_pub_set_timeout() (for ever by default); a wait ends early with
 * -EINTR after ringcast_pub_interrupt(), or -EPIPE if the ring is closed
 * from outside (-EIDRM if it is removed).  Lossy subscribers never slow the publisher.
 */

struct ringcast_pub;

/* Flags of ringcast_pub_attach(). */
#define RINGCAST_PUB_REOPEN 0x1u /* take over a closed ring */
#define RINGCAST_PUB_PRECISE 0x2u /* stamp with the precise clock */
#define RINGCAST_PUB_ANY_OWNER 0x4u /* trust a ring of another owner */

/**
 * ringcast_pub_attach() - become the ring's publisher
 * @name:  an existing ring
 * @flags: RINGCAST_PUB_REOPEN, RINGCAST_PUB_PRECISE, RINGCAST_PUB_ANY_OWNER
 * @pubp:  the new handle on success
 *
 * Publishes only into a ring that belongs to the caller's effective uid
 * (root too): what a publisher writes goes to whoever owns the ring, who
 * can read it whatever its mode says.  A ring of another owner is -EACCES,
 * with ringcast_errdetail() naming the owner's uid, unless the caller
 * trusts that owner with RINGCAST_PUB_ANY_OWNER (SECURITY.md).
 *
 * Takes the lease.  On a ring in state created the sequence starts at 0;
 * on an abandoned ring (or a closed one with RINGCAST_PUB_REOPEN) it is a
 * takeover: the sequence continues after the last committed event (found
 * from the slots themselves), a slot the dead publisher reserved and never
 * committed is discarded, and a new epoch is set.
 *
 * Return: 0, -EINVAL, -ENOENT, -EACCES (no write permission, or another
 * owner's ring without RINGCAST_PUB_ANY_OWNER), -EPROTO, -EBADMSG, -EBUSY
 * (a live publisher holds the lease), -EPIPE (closed, and no REOPEN),
 * -EIDRM (removed), -ENOMEM.
 */
RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp);

/**
 * ringcast_pub_publish() - copy one event into the ring
 * @pub:  the publisher
 * @type: its type tag
 * @data: payload, may be NULL when @len is 0
 * @len:  at most the ring's capacity
 *
 * May wait while a reliable subscriber is a whole ring behind (see above).
 *
 * Return: when published, the number of subscribers registered in the
 * ring's subscriber table (>= 0; recounted only when the table changed: a
 * subscriber killed without detaching stays counted until an attach,
 * ringcast_ring_get_stats(), ringcast_pub_subscribers() or a publish blocked on
 * it reclaims its entry); -EMSGSIZE (nothing written), -EPIPE (the ring was
 * closed), -EIDRM (the ring was removed), -EAGAIN (no room and the timeout is 0: nothing written),
 * -ETIMEDOUT (no room in time: nothing written), -EINTR (interrupted:
 * nothing written), -ECHILD.
 */
RINGCAST_API int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
				      const void *data, size_t len);

/**
 * struct ringcast_msg - one event of a batch
 */
struct ringcast_msg {
	uint32_t type;
	uint32_t len;
	const void *data;
};

/**
 * ringcast_pub_publish_batch() - copy several events, one wake check
 * @pub:  the publisher
 * @msgs: the events, published in order with consecutive sequences
 * @n:    how many
 *
 * Every length is checked before anything is written: one too large fails
 * the whole batch with -EMSGSIZE and writes nothing.  The events share one
 * timestamp; the head is published and sleepers are checked once for the
 * batch (once per part, below), and subscribers of a single-publisher ring
 * read a part's events once its head is published, all of them at once (a
 * reader that waits polls the head, not the slots being written).  A batch
 * is written in parts of at most three quarters of the ring's slots; with
 * reliable subscribers each part waits until it fits and is written whole
 * or not at all, so a batch that fits in one part is all or nothing, and if
 * a wait fails between two parts the call returns that error with the
 * earlier parts published (ringcast_pub_head() says how far).
 *
 * Return: as ringcast_pub_publish().
 */
RINGCAST_API int ringcast_pub_publish_batch(struct ringcast_pub *pub,
					    const struct ringcast_msg *msgs,
					    unsigned int n);

/**
 * ringcast_pub_reserve() - reserve the next slot to fill it in place
 * @pub:  the publisher
 * @len:  bytes that will be written, at most the capacity
 * @bufp: set to the slot's payload area (@len bytes may be written)
 *
 * Until ringcast_pub_commit() the publisher may not publish anything else.
 * Readers never see a reserved slot; if the publisher dies with it
 * reserved, the next publisher discards it.
 *
 * Like a publish, it may wait for room while a reliable subscriber is a
 * whole ring behind.
 *
 * Return: 0, -EMSGSIZE, -EPIPE, -EIDRM, -EBUSY (a reservation is pending),
 * -EAGAIN, -ETIMEDOUT, -EINTR (no room: nothing reserved), -ECHILD.
 */
RINGCAST_API int ringcast_pub_reserve(struct ringcast_pub *pub, size_t len,
				      void **bufp);

/**
 * ringcast_pub_commit() - publish the reserved slot
 * @pub:  the publisher
 * @type: the event's type tag
 * @len:  bytes actually written, at most what was reserved
 *
 * Return: as ringcast_pub_publish(); -EINVAL if nothing is reserved, a
 * batch of more than one slot is (ringcast_pub_commit_batch()), or @len is
 * larger than the reservation.
 */
RINGCAST_API int ringcast_pub_commit(struct ringcast_pub *pub, uint32_t type,
				     size_t len);

/**
 * ringcast_pub_reserve_batch() - reserve several slots to fill in place
 * @pub:  the publisher
 * @n:    how many, from 1 to three quarters of the ring's slots (the
 *        largest part of a batch, as in ringcast_pub_publish_batch())
 * @len:  bytes that will be written into each, at most the capacity
 * @bufs: n pointers, set to the payload areas of the slots of sequences
 *        ringcast_pub_head() to ringcast_pub_head() + n - 1, in order
 *
 * The zero-copy form of ringcast_pub_publish_batch() (a Disruptor's
 * next(n)/publish(lo, hi)): the n slots are reserved at once, all or
 * nothing, and ringcast_pub_commit_batch() publishes them at once, with
 * one head store and one wake check, where reserve/commit pairs would
 * make one each per event.  ringcast_pub_reserve() is this call with
 * n = 1.  Until the commit the publisher may not publish anything else;
 * readers never see a reserved slot, and if the publisher dies with slots
 * reserved, the next publisher discards them all.
 *
 * Like a publish, it may wait for room for all n while a reliable
 * subscriber is behind.
 *
 * Return: 0; -EINVAL (@n is 0 or above three quarters of the ring: nothing
 * reserved), -EMSGSIZE, -EPIPE, -EIDRM, -EBUSY (a reservation is pending),
 * -EAGAIN, -ETIMEDOUT, -EINTR (no room: nothing reserved), -ECHILD.
 */
RINGCAST_API int ringcast_pub_reserve_batch(struct ringcast_pub *pub,
					    unsigned int n, size_t len,
					    void **bufs);

/**
 * ringcast_pub_commit_batch() - publish the reserved slots
 * @pub:  the publisher
 * @msgs: one entry per reserved slot, in order: its event's type and the
 *        bytes actually written (at most the reserved @len); data is not
 *        read
 * @n:    exactly the number reserved
 *
 * The events share one timestamp and become readable all at once, when
 * the head is published.  Nothing is published on -EINVAL, and the
 * reservation stays pending.
 *
 * Return: as ringcast_pub_publish(); -EINVAL if nothing is reserved, @n is
 * not the number reserved, or a length is larger than the reservation.
 */
RINGCAST_API int ringcast_pub_commit_batch(struct ringcast_pub *pub,
					   const struct ringcast_msg *msgs,
					   unsigned int n);

/**
 * ringcast_pub_head() - the next sequence this publisher will write
 */
RINGCAST_API uint64_t ringcast_pub_head(const struct ringcast_pub *pub);

/**
 * ringcast_pub_set_timeout() - how long a publish may wait for room
 * @pub:        the publisher
 * @timeout_ns: < 0 for ever (the default), 0 never (-EAGAIN), else the
 *              longest wait of one call (-ETIMEDOUT)
 *
 * Return: 0 or -EINVAL.
 */
RINGCAST_API int ringcast_pub_set_timeout(struct ringcast_pub *pub,
					  int64_t timeout_ns);

/**
 * ringcast_pub_interrupt() - make a waiting publish return -EINTR
 * @pub: the publisher; any thread, any time, async-signal-safe
 *
 * The current wait for room, or the next one if none is in progress,
 * returns -EINTR having written nothing.
 */
RINGCAST_API void ringcast_pub_interrupt(struct ringcast_pub *pub);

/**
 * ringcast_pub_subscribers() - count the live registered subscribers
 * @pub: the publisher
 *
 * Scans the table, reclaiming the entries of subscribers that died.
 *
 * Return: the count, or -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_pub_subscribers(struct ringcast_pub *pub);

/**
 * ringcast_pub_wait_subscribers() - wait until at least @n are registered
 * @pub:        the publisher
 * @n:          live registered subscribers to wait for
 * @timeout_ns: < 0 for ever, 0 to check once, else the longest wait
 *
 * Polls the table (every millisecond): for start-up, not a hot path.
 *
 * Return: the count (>= @n), or -EAGAIN / -ETIMEDOUT, -EINTR (after
 * ringcast_pub_interrupt()), -EPIPE (the ring was closed), -EIDRM (the
 * ring was removed), -ECHILD.
 */
RINGCAST_API int ringcast_pub_wait_subscribers(struct ringcast_pub *pub,
					       unsigned int n,
					       int64_t timeout_ns);

/**
 * ringcast_pub_close() - end the stream and free the handle
 * @pub: the publisher; freed whatever the result
 *
 * Marks the ring closed, wakes every sleeper, then releases the lease.
 * Subscribers read every committed event, then get -EPIPE.
 *
 * Return: 0, or -EPIPE if it was closed from outside meanwhile (-EIDRM:
 * removed), -ECHILD
 * (in a forked child: only the memory is freed).
 */
RINGCAST_API int ringcast_pub_close(struct ringcast_pub *pub);

/**
 * ringcast_pub_finish() - close if this is the ring's last publisher
 * @pub: the publisher; freed
 *
 * On a multi-publisher ring: closes the ring when no other publisher is
 * attached, else detaches (the others go on).  Of several publishers
 * finishing at once, at least one closes.  On a single-publisher ring it
 * is ringcast_pub_close().
 *
 * Return: 1 when the ring was closed (or found closed), 0 when only this
 * publisher left, or as ringcast_pub_close().
 */
RINGCAST_API int ringcast_pub_finish(struct ringcast_pub *pub);

/**
 * ringcast_pub_detach() - release the lease without closing, free the handle
 * @pub: the publisher; freed
 *
 * To subscribers this looks like the publisher's death (-EOWNERDEAD after
 * draining, or a resubscription); another publisher may take the ring over.
 */
RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub);

/* ----------------------------------------------------------------------
 * Subscriber
 *
 * Ordering: reading an event is an acquire of its commit.  A lossy
 * subscriber never slows the publisher: if it falls a whole ring behind it
 * gets -EOVERFLOW once, with the exact number of events it lost, and goes on
 * from half a ring behind the head (not from the oldest slot, which is the
 * next to be overwritten), so it always makes progress.
 *
 * Accounting: delivered + skipped (by the type filter) + lost (in laps) +
 * aborted (holes left by publishers of a multi-publisher ring that died
 * between claim and commit) = sequences from the first to the cursor.
 *
 * A reliable subscriber (RINGCAST_SUB_RELIABLE) gates the publisher and
 * loses no event from the first sequence its attach returned: the join is
 * race-free (it registers its cursor, then reads how far the publisher has
 * been allowed to write, with a full barrier between, as the publisher
 * does the other way round, and starts no lower than that allows), and a
 * publisher overwrites nothing it has not read.  Its cursor in the table
 * moves as it reads (a borrowed event is released first).  A type-filtered
 * reliable subscriber that sleeps is woken when it falls half a ring behind
 * on events it does not want, so it holds the publisher back no more than
 * an unfiltered one.  If it stays stuck past the demotion limit (the
 * ring's, or its own shorter @demote_ns), the publisher demotes it: its next
 * read returns -ESTALE once, and it goes on as a lossy subscriber (its next
 * read may then be -EOVERFLOW).  Detaching wakes a publisher blocked on it.
 * A reliable subscriber that reaches the end of its stream (-EPIPE,
 * -EOWNERDEAD, -EIDRM) stops gating, so a later publisher of the ring is not held
 * back by a reader that is done.
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

/**
 * struct ringcast_sub_opts - how to subscribe
 * @from:     enum ringcast_from
 * @wait:     enum ringcast_wait
 * @flags:    RINGCAST_SUB_RESUBSCRIBE, RINGCAST_SUB_RELIABLE
 * @ntypes:   entries in @types; 0 means every type
 * @types:    the type tags wanted (up to RINGCAST_MAX_TYPES, no duplicates)
 * @seq:      the first sequence, with RINGCAST_FROM_SEQ.  Below the oldest
 *            retained: start at the oldest and report the difference as
 *            lost on the first read; ahead of the head: wait for it.
 * @spin_ns:  how long RINGCAST_WAIT_SPIN spins before sleeping (0: 20 us)
 * @liveness_ns: how often a sleeping subscriber wakes on its own to check
 *            that the publisher is alive (0: 250 ms; from 1 ms to an
 *            hour, and @spin_ns at most an hour too).  It
 *            bounds how late a dead publisher is noticed.
 * @demote_ns: reliable only: a demotion limit for this subscriber, used
 *            when it is shorter than the ring's (or the ring has none);
 *            0 for the ring's
 */
struct ringcast_sub_opts {
	uint32_t from;
	uint32_t wait;
	uint32_t flags;
	uint32_t ntypes;
	const uint32_t *types;
	uint64_t seq;
	uint64_t spin_ns;
	uint64_t liveness_ns;
	uint64_t demote_ns;
};

#define RINGCAST_MAX_TYPES 256u

/**
 * ringcast_sub_attach() - subscribe to a ring
 * @name:  an existing ring, in any state
 * @opts:  NULL for newest, spin-then-sleep, every type
 * @subp:  the new handle on success
 * @first: if not NULL, set to the first sequence the subscriber will read
 *
 * Needs read permission; with write permission too the subscriber
 * registers in the ring's subscriber table (so publishers count it; when
 * the table is full it reads unregistered), sleeps on the ring's futex and
 * probes the publisher's lease.  Without write permission it is
 * unregistered and polls with short timed waits (up to 1 ms of added
 * latency).  Attaching also reclaims the table entries of subscribers
 * that died.  A reliable subscriber must register: it gets -EACCES without
 * write permission and -EUSERS when the table is full.  It starts where it
 * asked to, raised if needed past what the publisher may already be
 * overwriting (at most a ring behind the head, and never past it): with
 * RINGCAST_FROM_OLDEST it may start later than the oldest retained event,
 * and @first says where; with RINGCAST_FROM_SEQ, @first is the sequence
 * asked for and the events it cannot have are reported lost on the first
 * read, as for a lossy subscriber.  A publish blocked on a reliable
 * subscriber of the same thread never returns: read from another thread.
 *
 * Return: 0, -EINVAL, -ENOENT, -EACCES, -EUSERS, -EPROTO, -EBADMSG,
 * -ENOMEM.
 */
RINGCAST_API int ringcast_sub_attach(const char *name,
				     const struct ringcast_sub_opts *opts,
				     struct ringcast_sub **subp,
				     uint64_t *first);

/**
 * ringcast_sub_next() - copy out the next event that passes the filter
 * @sub:        the subscriber; one thread at a time
 * @ev:         filled in on success; @ev->data points into a buffer of the
 *              handle, valid until the next call on it
 * @timeout_ns: 0 to return at once, < 0 to wait for ever, else the most
 *              time to wait
 *
 * Return: 0 with an event; -EOVERFLOW when lapped (@ev->lost set, the
 * cursor moved on: call again); -ESTALE once when a reliable subscriber was
 * demoted (nothing read: call again); -EAGAIN (timeout 0) or -ETIMEDOUT
 * when nothing came; -EINTR when interrupted; -EPIPE at end of stream;
 * -EOWNERDEAD when the publisher died and everything it committed was
 * read; -EIDRM when the ring was removed (ringcast_ring_remove_force())
 * and everything committed before was read; -EBADMSG on a corrupted slot;
 * -ECHILD.
 */
RINGCAST_API int ringcast_sub_next(struct ringcast_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns);

/**
 * ringcast_sub_borrow() - look at the next event in place, without copying
 * @sub:        the subscriber
 * @ev:         @ev->data points into the shared slot
 * @timeout_ns: as for ringcast_sub_next()
 *
 * For a lossy subscriber the publisher may overwrite the slot while it is
 * borrowed: the data may be used, but not trusted, until
 * ringcast_sub_release() says it was valid.  For a reliable one the slot
 * cannot be overwritten until it is released (unless it is demoted).
 *
 * Return: as ringcast_sub_next().
 */
RINGCAST_API int ringcast_sub_borrow(struct ringcast_sub *sub,
				     struct ringcast_event *ev,
				     int64_t timeout_ns);

/**
 * ringcast_sub_release() - end a borrow and learn whether it was valid
 * @sub: the subscriber
 * @ev:  on -EOVERFLOW, @ev->lost is set
 *
 * Return: 0 when the borrowed event was not overwritten while borrowed;
 * -EOVERFLOW when it was (whatever was read from it must be discarded);
 * -ESTALE when a reliable subscriber was demoted meanwhile (discard it too;
 * the loss comes with the next read); -EBADMSG on a corrupted slot;
 * -EINVAL when nothing is borrowed.
 */
RINGCAST_API int ringcast_sub_release(struct ringcast_sub *sub,
				      struct ringcast_event *ev);

/**
 * ringcast_sub_read_at() - read the event with a given sequence
 * @sub: the subscriber (its cursor does not move)
 * @seq: the sequence
 * @ev:  filled in as by ringcast_sub_next()
 *
 * Return: 0; -ERANGE when @seq is no longer retained (or was overwritten
 * during the copy); -EAGAIN when it is not published yet; -EBADMSG.
 */
RINGCAST_API int ringcast_sub_read_at(struct ringcast_sub *sub, uint64_t seq,
				      struct ringcast_event *ev);

/**
 * ringcast_sub_interrupt() - make a wait of this subscriber return -EINTR
 * @sub: the subscriber; any thread, any time, async-signal-safe
 *
 * The current wait, or the next one if none is in progress, returns -EINTR.
 */
RINGCAST_API void ringcast_sub_interrupt(struct ringcast_sub *sub);

/**
 * struct ringcast_sub_stats - a subscriber's accounting
 */
struct ringcast_sub_stats {
	uint64_t first; /* the first sequence of the subscription */
	uint64_t cursor; /* the next sequence it will read */
	uint64_t delivered;
	uint64_t skipped; /* by the type filter */
	uint64_t lost; /* in laps, all of them */
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
 */
RINGCAST_API void ringcast_sub_get_stats(const struct ringcast_sub *sub,
				     struct ringcast_sub_stats *st);

/**
 * ringcast_sub_detach() - free a subscriber; safe on NULL
 */
RINGCAST_API void ringcast_sub_detach(struct ringcast_sub *sub);

/* ----------------------------------------------------------------------
 * TypeMux: the in-process layer
 *
 * A mux is one reader of a ring in this process that delivers each event
 * to the local subscriptions registered for its type tag: callbacks, run
 * on the dispatching thread, or bounded queues that any thread drains
 * with ringcast_mux_next().  Subscriptions come and go from any thread
 * while dispatch runs: they live in the process's local registry, which
 * the dispatcher reads with no lock (userspace RCU, liburcu's urcu-bp
 * flavour); subscribing or unsubscribing never blocks a dispatch in
 * progress, and the memory of a removed subscription is freed after a
 * grace period.
 *
 * Who reads the ring: a dispatcher thread the mux owns (the default), or
 * the caller's own loop (RINGCAST_MUX_MANUAL: call ringcast_mux_dispatch(),
 * for instance when ringcast_sub_fd() of ringcast_mux_reader() is
 * readable).  Either way there is one reader per mux, and events reach
 * each subscription in publish order.  The thread starts reading as soon
 * as the mux is open: to subscribe before any event is dispatched (every
 * event of a reliable mux from the oldest, say), open it with
 * RINGCAST_MUX_PAUSED, subscribe, then call ringcast_mux_start().
 *
 * Callbacks run on the dispatching thread, one at a time, outside the
 * registry's read-side section and outside every lock of the library:
 * a slow callback delays its own mux (and, on a reliable mux, the
 * publisher), never another mux.  A dispatcher waiting for room in a
 * queue waits outside the read-side section too.
 *
 * Reliable or lossy.  With RINGCAST_MUX_RELIABLE the reader is a reliable
 * subscriber (it gates the publisher): a full queue blocks the dispatcher,
 * and so, once the ring is full, the publisher: a slow subscription slows
 * everyone, as with a Go event.TypeMux.  Without it the reader is lossy:
 * a full queue drops the event for that subscription alone and counts it
 * (the other queues and callbacks go on), and events the reader loses to
 * laps are counted for every subscription; ringcast_mux_next() reports
 * either as -EOVERFLOW with the count in ringcast_event.lost, as soon as
 * it is known (the count is exact; where in the stream it happened is
 * not said).  Callbacks learn of laps, and of the end of the stream, from
 * the status handler of ringcast_mux_handle_status().
 *
 * Ordering: a delivery is an acquire of the event's commit (it was read
 * with ringcast_sub_next()); a queued event is handed to the thread that
 * takes it under the subscription's mutex.  A subscription registered
 * when ringcast_mux_subscribe() returns receives every event the reader
 * reads from then on; one whose ringcast_mux_unsubscribe() has returned
 * receives none.
 *
 * Posting.  With RINGCAST_MUX_POST the mux also holds the ring's publisher,
 * shared by the threads of the process (ringcast_mux_post() serialises
 * them).  On a ring created with RINGCAST_CREATE_MULTI_PUB several
 * processes' muxes may post at once; on an ordinary ring the first holds
 * the lease and the others' ringcast_mux_open() fails with -EBUSY.
 *
 * fork(): in a child every call on a mux or subscription inherited from
 * the parent returns -ECHILD (the dispatcher thread is not copied);
 * ringcast_mux_close() and ringcast_mux_sub_free() free their memory.
 * The child opens muxes of its own.
 */

struct ringcast_mux;
struct ringcast_mux_sub;

/* Flags of ringcast_mux_opts. */
#define RINGCAST_MUX_RELIABLE 0x1u /* reliable reader; full queues block */
#define RINGCAST_MUX_MANUAL 0x2u /* no thread: ringcast_mux_dispatch() */
#define RINGCAST_MUX_POST 0x4u /* hold the ring's publisher too */
#define RINGCAST_MUX_POST_ONLY 0x8u /* a publisher and no reader */
#define RINGCAST_MUX_PAUSED 0x10u /* no dispatch before ringcast_mux_start() */

/**
 * struct ringcast_mux_opts - how to open a mux
 * @flags:     RINGCAST_MUX_*
 * @queue_len: events each queue subscription holds (0: 256; at most 2^20);
 *             each costs the ring's payload capacity in bytes
 * @from:      where the reader starts (enum ringcast_from; 0: newest)
 * @pub_flags: flags of ringcast_pub_attach(), with RINGCAST_MUX_POST
 *             (RINGCAST_PUB_ANY_OWNER to post into another user's ring)
 * @seq:       with RINGCAST_FROM_SEQ, the first sequence
 */
struct ringcast_mux_opts {
	uint32_t flags;
	uint32_t queue_len;
	uint32_t from;
	uint32_t pub_flags;
	uint64_t seq;
};

/**
 * ringcast_mux_open() - a mux reading (and maybe posting to) a ring
 * @name: an existing ring
 * @opts: NULL for a lossy mux with its own dispatcher thread, from newest
 * @muxp: the new handle on success
 *
 * Attaches the reader (as ringcast_sub_attach(), every type) and, with
 * RINGCAST_MUX_POST, the publisher (as ringcast_pub_attach()), then starts
 * the dispatcher thread unless RINGCAST_MUX_MANUAL or RINGCAST_MUX_PAUSED.
 * The reader's place in the stream is taken here, paused or not: a
 * reliable paused mux holds the publisher back once the ring is full.
 *
 * Return: 0, -EINVAL (also RINGCAST_MUX_PAUSED with RINGCAST_MUX_MANUAL),
 * -ENOMEM, or an error of ringcast_sub_attach() or ringcast_pub_attach()
 * (-ENOENT, -EACCES, -EBUSY, -EUSERS, ...).
 */
RINGCAST_API int ringcast_mux_open(const char *name,
				   const struct ringcast_mux_opts *opts,
				   struct ringcast_mux **muxp);

/**
 * ringcast_mux_start() - start the dispatcher of a paused mux
 * @mux: a mux opened with RINGCAST_MUX_PAUSED; any thread
 *
 * Starts the dispatcher thread: from here on the subscriptions made
 * before receive every event the reader reads, from where it was opened
 * (events posted while paused included).  Calling it again, or on a mux
 * opened without RINGCAST_MUX_PAUSED, does nothing.
 *
 * Return: 0 (also when the dispatcher runs already); -EINVAL for NULL, a
 * RINGCAST_MUX_MANUAL or a post-only mux; -ESHUTDOWN after
 * ringcast_mux_stop(); -EAGAIN (no thread: the mux stays paused);
 * -ECHILD.
 */
RINGCAST_API int ringcast_mux_start(struct ringcast_mux *mux);

/**
 * ringcast_mux_post() - publish an event with a type tag and a timestamp
 * @mux:  a mux opened with RINGCAST_MUX_POST; any thread
 * @type: the event's type tag
 * @data: payload (NULL when @len is 0)
 * @len:  at most the ring's capacity
 *
 * ringcast_pub_publish() under the mux's post mutex: the event is stamped
 * (ringcast_event.ts) and committed with release ordering.  On a reliable
 * ring it may wait for room; a handler of a reliable mux on the same ring
 * that posts while the ring is full waits for itself: post from another
 * thread.
 *
 * Return: as ringcast_pub_publish(); -ESHUTDOWN after ringcast_mux_stop();
 * -EINVAL without RINGCAST_MUX_POST; -ECHILD.
 */
RINGCAST_API int ringcast_mux_post(struct ringcast_mux *mux, uint32_t type,
				   const void *data, size_t len);

/**
 * ringcast_mux_subscribe() - a queue subscription to some types
 * @mux:    the mux; any thread, also a handler of this mux
 * @types:  the type tags wanted, 1 to RINGCAST_MAX_TYPES, no duplicates
 * @ntypes: how many
 * @subp:   the new subscription on success
 *
 * The dispatcher copies every event of those types into the
 * subscription's queue (@queue_len events); drain it with
 * ringcast_mux_next().  Several subscriptions are independent, also to
 * the same types.  Never waits for a dispatch in progress.
 *
 * Return: 0; -EINVAL (no types, a duplicate type, a post-only mux);
 * -ESHUTDOWN after ringcast_mux_stop(); -ENOMEM; -ECHILD.
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
 * @fn:     called on the dispatching thread for every event of those
 *          types, outside any read-side section and any lock of the
 *          library: it may block, but the mux's deliveries (and, on a
 *          reliable mux, its publisher) wait for it; it must not call
 *          ringcast_mux_stop() or ringcast_mux_close() (-EDEADLK); it
 *          may subscribe and unsubscribe.  @ev->data is valid until it
 *          returns.
 * @arg:    passed to @fn
 * @subp:   the new subscription on success
 *
 * Each call counts in ringcast_mux_sub_get_stats().delivered.  A handler is
 * told nothing but events: ringcast_mux_handle_status() also reports
 * losses and the end of the stream.
 *
 * Return: as ringcast_mux_subscribe(); -EINVAL when @fn is NULL.
 */
RINGCAST_API int ringcast_mux_handle(struct ringcast_mux *mux,
				     const uint32_t *types, unsigned int ntypes,
				     void (*fn)(const struct ringcast_event *ev,
						void *arg),
				     void *arg, struct ringcast_mux_sub **subp);

/**
 * ringcast_mux_handle_status() - a callback subscription that also learns
 * of losses and of the end of the stream
 * @mux:    as for ringcast_mux_handle()
 * @types:  as for ringcast_mux_subscribe()
 * @ntypes: how many
 * @fn:     as for ringcast_mux_handle()
 * @status: called as @fn is (same thread, one call at a time, never
 *          together with @fn), with @arg: (-EOVERFLOW, @lost) when the
 *          mux's reader lost @lost events to laps (a lossy mux), before
 *          the events read after the loss; once, after the last event,
 *          the reader's end (@lost 0): -EPIPE (end of stream),
 *          -EOWNERDEAD (the publisher died), -EBADMSG (corruption), or
 *          another error of ringcast_sub_next().  A subscription made
 *          after the end learns it from this call, before it returns.
 *          Neither ringcast_mux_unsubscribe() nor ringcast_mux_stop() is
 *          reported.
 * @arg:    passed to @fn and @status
 * @subp:   the new subscription on success
 *
 * The counts reported go to ringcast_mux_sub_get_stats().lost.
 *
 * Return: as ringcast_mux_subscribe(); -EINVAL when @fn or @status is
 * NULL.
 */
RINGCAST_API int ringcast_mux_handle_status(
	struct ringcast_mux *mux, const uint32_t *types, unsigned int ntypes,
	void (*fn)(const struct ringcast_event *ev, void *arg),
	void (*status)(int code, uint64_t lost, void *arg), void *arg,
	struct ringcast_mux_sub **subp);

/**
 * ringcast_mux_next() - take the next event of a queue subscription
 * @sub:        a queue subscription; one thread at a time
 * @ev:         filled in on success; @ev->data points into a buffer of
 *              the subscription, valid until the next call on it
 * @timeout_ns: 0 to return at once, < 0 to wait for ever, else the most
 *              time to wait
 *
 * Return: 0 with an event; -EOVERFLOW with @ev->lost events lost (a full
 * queue of a lossy mux, or the reader's laps: call again); -EAGAIN
 * (timeout 0) or -ETIMEDOUT; -EINTR after ringcast_mux_interrupt();
 * -ECANCELED once unsubscribed, stopped or its scope closed (queued events
 * are dropped); the reader's end once the queue is empty (-EPIPE,
 * -EOWNERDEAD, -EBADMSG); -EINVAL for a callback subscription; -ECHILD.
 */
RINGCAST_API int ringcast_mux_next(struct ringcast_mux_sub *sub,
				   struct ringcast_event *ev,
				   int64_t timeout_ns);

/**
 * ringcast_mux_interrupt() - make a wait of ringcast_mux_next() return
 * -EINTR
 * @sub: a queue subscription; any thread (not async-signal-safe: it takes
 *       the subscription's mutex)
 *
 * The current wait, or the next one if none is in progress, returns
 * -EINTR.
 */
RINGCAST_API void ringcast_mux_interrupt(struct ringcast_mux_sub *sub);

/**
 * ringcast_mux_unsubscribe() - stop deliveries to a subscription
 * @sub: the subscription; any thread, also a handler; idempotent
 *
 * Takes it out of the registry, closes it (its waits, current and later,
 * return -ECANCELED) and, unless called from inside a delivery (a handler
 * of any mux, or any liburcu read-side section of this thread), waits for
 * a callback of @sub in flight: when it returns, no handler of @sub runs
 * and none will.  From inside a delivery it does not wait (that would
 * deadlock): no new delivery to @sub starts, and one in flight on another
 * thread (another mux's dispatcher) may still finish.  It waits for
 * nothing else: no grace period, no queue copy, no other subscription's
 * callback, no dispatcher waiting for room (of this mux or another).  So
 * the only way it blocks is a callback of @sub that waits for the caller.
 * Leaves its scope.
 *
 * Return: 0, also when already unsubscribed or after ringcast_mux_stop();
 * -EINVAL for NULL; -ECHILD.
 */
RINGCAST_API int ringcast_mux_unsubscribe(struct ringcast_mux_sub *sub);

/**
 * ringcast_mux_sub_free() - unsubscribe and free a subscription
 * @sub: the subscription, or NULL; no other call may be in progress on it
 *
 * The memory is freed after a grace period (a dispatcher may still hold
 * a pointer to it); the mux's memory goes with the last subscription and
 * ringcast_mux_close().  In a forked child, frees only the memory.
 */
RINGCAST_API void ringcast_mux_sub_free(struct ringcast_mux_sub *sub);

/**
 * struct ringcast_mux_sub_stats - a subscription's accounting
 * @delivered:  events ringcast_mux_next() returned; for a callback
 *              subscription, calls of its handler
 * @dropped:    events dropped because its queue was full (lossy mux)
 * @ring_lost:  events the mux's reader lost to laps while it was
 *              subscribed
 * @lost:       the sum of the -EOVERFLOW counts returned so far (to a
 *              status handler, for ringcast_mux_handle_status())
 * @full_waits: times the dispatcher waited for room (reliable mux)
 * @queued:     events in its queue now
 */
struct ringcast_mux_sub_stats {
	uint64_t delivered;
	uint64_t dropped;
	uint64_t ring_lost;
	uint64_t lost;
	uint64_t full_waits;
	uint64_t queued;
};

/**
 * ringcast_mux_sub_get_stats() - a consistent snapshot, taken under the
 * subscription's mutex
 */
RINGCAST_API void ringcast_mux_sub_get_stats(struct ringcast_mux_sub *sub,
					 struct ringcast_mux_sub_stats *st);

/**
 * ringcast_mux_dispatch() - read and deliver events on the caller's thread
 * @mux:        a mux opened with RINGCAST_MUX_MANUAL; one thread at a time
 * @timeout_ns: how long to wait for the first event (as
 *              ringcast_sub_next()); then it delivers what is ready, at
 *              most 1024 events, without waiting
 *
 * Return: the number of events read and delivered (> 0); -EAGAIN or
 * -ETIMEDOUT when none came; -EINTR (ringcast_sub_interrupt() of
 * ringcast_mux_reader()); -ESHUTDOWN after ringcast_mux_stop(); the
 * reader's end (-EPIPE, -EOWNERDEAD, -EBADMSG: the subscriptions are
 * told); -EINVAL (a mux with its own thread, or post-only); -EDEADLK
 * from a handler of this mux; -ECHILD.
 */
RINGCAST_API int ringcast_mux_dispatch(struct ringcast_mux *mux,
				       int64_t timeout_ns);

/**
 * ringcast_mux_reader() - the mux's reader, to wait on
 * @mux: the mux
 *
 * For ringcast_sub_fd() and ringcast_sub_wait_any() (to learn when
 * ringcast_mux_dispatch() has work) and ringcast_sub_get_stats(); never read
 * from it.  Valid until ringcast_mux_close().
 *
 * Return: the reader, or NULL for a post-only mux.
 */
RINGCAST_API struct ringcast_sub *ringcast_mux_reader(struct ringcast_mux *mux);

/**
 * ringcast_mux_stop() - stop a mux; return when no delivery is in flight
 * @mux: the mux; any thread except a handler's
 *
 * Every later post, subscribe or dispatch fails with -ESHUTDOWN; every
 * subscription reports closed (-ECANCELED); the dispatcher thread is
 * joined, and a callback in flight (a caller's ringcast_mux_dispatch() on
 * another thread) is waited for: when it returns no handler runs, and
 * none will.  It waits for no other mux.  Subscriptions stay valid until freed.  Calling it
 * again is harmless (it waits for a stop in progress on another thread).
 *
 * Return: 0; -EDEADLK from inside a delivery (a handler, or any liburcu
 * read-side section of this thread), where waiting would never end;
 * -EINVAL for NULL; -ECHILD.
 */
RINGCAST_API int ringcast_mux_stop(struct ringcast_mux *mux);

/**
 * ringcast_mux_close() - stop the mux and free the handle
 * @mux: the mux, or NULL
 *
 * ringcast_mux_stop(), then detaches the reader and the publisher (which
 * does not close the ring: call ringcast_ring_close() for end of
 * stream).  The subscriptions stay valid (closed) until freed.
 *
 * Return: 0; -EDEADLK from inside a delivery (nothing is freed); -ECHILD
 * in a forked child (the memory is freed).
 */
RINGCAST_API int ringcast_mux_close(struct ringcast_mux *mux);

/* ----------------------------------------------------------------------
 * Scopes
 *
 * A scope tracks mux subscriptions of any kind (callbacks or queues, on
 * any mux and any ring) and closes them together, as a Go
 * event.SubscriptionScope.  Every call is thread-safe (a mutex of the
 * scope), also against unsubscribing a tracked subscription, which takes
 * it out of its scope.
 */

struct ringcast_scope;

/**
 * ringcast_scope_new() - an empty, open scope
 * @scp: the new scope on success
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
RINGCAST_API int ringcast_scope_new(struct ringcast_scope **scp);

/**
 * ringcast_scope_track() - add a subscription to a scope
 * @sc:  the scope; any thread
 * @sub: a subscription tracked by no other scope
 *
 * A track racing with ringcast_scope_close() either gets in first (and
 * is closed with the others) or fails with -ECANCELED, leaving @sub as
 * it was: nothing is leaked either way.
 *
 * Return: 0; -ECANCELED when the scope was closed (@sub is untouched);
 * -EINVAL (NULL, or @sub is tracked by a scope); -ENOMEM.
 */
RINGCAST_API int ringcast_scope_track(struct ringcast_scope *sc,
				      struct ringcast_mux_sub *sub);

/**
 * ringcast_scope_count() - subscriptions tracked now
 * @sc: the scope; any thread
 *
 * Exact at the moment it takes the scope's mutex: a subscription that was
 * unsubscribed (ringcast_mux_unsubscribe(), ringcast_mux_sub_free()) is
 * no longer counted.
 *
 * Return: the count (0 once closed), or -EINVAL.
 */
RINGCAST_API int ringcast_scope_count(struct ringcast_scope *sc);

/**
 * ringcast_scope_close() - unsubscribe every tracked subscription
 * @sc: the scope; any thread
 *
 * Each is unsubscribed: its waits in ringcast_mux_next(), current and
 * later, return -ECANCELED; then, as ringcast_mux_unsubscribe(), the call
 * waits for their callbacks in flight unless it is made from inside a
 * delivery.  The
 * subscriptions stay valid until freed.  Later tracks fail; closing again
 * does nothing.
 *
 * Return: the number of subscriptions it closed (0 the second time), or
 * -EINVAL.
 */
RINGCAST_API int ringcast_scope_close(struct ringcast_scope *sc);

/**
 * ringcast_scope_free() - close the scope and free it; NULL is allowed
 *
 * As ringcast_scope_close(), then the handle is gone.  An unsubscribe of
 * a tracked subscription racing with it on another thread is safe: the
 * scope's memory lives until the last such unsubscribe has left it.
 */
RINGCAST_API void ringcast_scope_free(struct ringcast_scope *sc);

/* ----------------------------------------------------------------------
 * Waiting on many subscribers; event loops
 */

/* The most subscribers one ringcast_sub_wait_any() call takes. */
#define RINGCAST_WAIT_ANY_MAX 1024u

/**
 * ringcast_sub_wait_any() - wait until one of several subscribers has
 * something to read
 * @subs:       the subscribers, on any rings; the calling thread must be
 *              the one that reads them (a wait counts as a call on each)
 * @n:          1 to RINGCAST_WAIT_ANY_MAX
 * @timeout_ns: 0 to check once, < 0 to wait for ever, else the most time
 *              to wait
 *
 * Sleeps in one futex_waitv() call (Linux 5.16 and later) over the wake
 * words of their rings, armed as each subscriber arms its own sleep (its
 * wake bits, a full barrier, a re-check), so no wake-up is lost.
 * Subscribers of one ring share one word; one call takes 128 words: with
 * more rings than that, the first 128 are waited on and the others are
 * polled every millisecond.  On kernels without futex_waitv() (ENOSYS,
 * detected once), and for read-only subscribers, which cannot arm, it
 * polls with 1 ms timed waits: up to 1 ms of added latency.  It wakes at
 * least every 250 ms to check the publishers' liveness.  "Something to
 * read" is what would make ringcast_sub_next() return at once: an event
 * of a wanted type, a lap, an end of stream, an error.
 *
 * Return: the index of the first such subscriber (>= 0); -EAGAIN
 * (timeout 0) or -ETIMEDOUT; -EINTR when one of them was interrupted
 * (ringcast_sub_interrupt(), which wakes the wait; that interrupt is
 * consumed); -EINVAL; -ECHILD.
 */
RINGCAST_API int ringcast_sub_wait_any(struct ringcast_sub *const *subs,
				       unsigned int n, int64_t timeout_ns);

/**
 * ringcast_sub_fd() - a descriptor readable while the subscriber has
 * something to read
 * @sub: the subscriber; its reading thread
 *
 * An eventfd (non-blocking, close-on-exec) owned by the subscriber and
 * closed by ringcast_sub_detach(): add it to epoll, poll or libuv; do not
 * read or close it.  Level semantics: it is readable from the moment the
 * subscriber has something to read (as ringcast_sub_wait_any() means it)
 * until a ringcast_sub_next() or ringcast_sub_borrow() of it returns
 * -EAGAIN or -ETIMEDOUT; so read until -EAGAIN, then wait again.  It may
 * also turn readable with nothing to read (a wake for another type of
 * the same bucket, and every liveness interval, so that the read probes
 * the publisher): the read returns -EAGAIN and re-arms it.
 *
 * Cost: a futex cannot be polled, so the first call starts one helper
 * thread per process (64 KiB of stack, never joined) that serves every
 * descriptor of the process: it waits with futex_waitv() on the words of
 * the armed descriptors (127 per call; more are polled every
 * millisecond), and for each readiness it makes one eventfd write; the
 * owner's re-arm after an empty read costs an eventfd read and a futex
 * wake of the helper.  So an event reaches an epoll loop after two
 * wake-ups (helper, then the loop) instead of one.  Read-only subscribers
 * cannot arm: theirs turns readable every millisecond.
 *
 * Return: the descriptor (the same on every call), or -ENOMEM, -EMFILE,
 * -EAGAIN (no thread), -EINVAL, -ECHILD.
 */
RINGCAST_API int ringcast_sub_fd(struct ringcast_sub *sub);

#ifdef __cplusplus
}
#endif

#endif /* RINGCAST_H */
