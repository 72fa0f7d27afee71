/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory layout: an ABI between every process that maps a ring,
 * whatever version of the library it runs.  Fixed-width types, explicit
 * padding, offsets instead of pointers, each party's fields on cache lines
 * of their own, and static_assert on every size and offset that matters.
 *
 *   0       struct rc_hdr            (512 bytes, 8 cache lines)
 *   512     struct rc_entry[cap]     (128 bytes each: the subscriber table)
 *   slots   struct rc_slot[nslots]   (slot_size each; page aligned)
 *   data    the data area             (data_size bytes; page aligned; may
 *                                      be absent)
 *
 * A slot's stamp is 0 while it was never written, S + 1 once event S is
 * committed in it, (S + 1) | RC_STAMP_BUSY while event S is being
 * written, and (S + 1) | RC_STAMP_ABORTED when sequence S was claimed by a
 * publisher of a multi-publisher ring that died before committing it (a
 * hole every reader skips and counts).  Sequences therefore stay below
 * 2^62 - 1 (a century and a half at a billion events per second).
 *
 * An event whose payload does not fit its slot ("spilled") is a record of
 * the data area: the slot's len says its length (above the slot's
 * capacity), and the slot's first 8 payload bytes its position, a
 * free-running byte count (struct rc_desc).  The record, 64-byte aligned,
 * is a struct rc_rec and the payload, and never wraps: a record that would
 * is preceded by a fill record to the end of the lap (docs/design.md §8).
 */
#ifndef RINGCAST_LAYOUT_H
#define RINGCAST_LAYOUT_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RC_MAGIC 0x3174736163676e72ull /* "rngcast1", little-endian */
/*
 * 2: an entry's state word carries a claim generation, the life word may
 * say REMOVED, and the header has wake_all_seq and blocked_since (both in
 * bytes version 1 reserved as zero): a library of version 1
 * would take a version 2 ring for a corrupted one, and miss the claims'
 * generations.  An older ring is refused with a clear -EPROTO.
 * 3: the data area (events larger than a slot): its geometry in the
 * checksummed lines, dintent on line 3, dfloor on line 2.
 */
#define RC_ABI_VERSION 3u
#define RC_FEAT_MULTI_PUB 0x1u /* several publishers (fixed at creation) */
#define RC_FEATURES_KNOWN RC_FEAT_MULTI_PUB

#define RC_HDR_SIZE 512u
#define RC_ENTRY_SIZE 128u
#define RC_SLOTS_ALIGN 4096u

#define RC_STAMP_BUSY (1ull << 63)
#define RC_STAMP_ABORTED (1ull << 62)
#define RC_STAMP_FLAGS (RC_STAMP_BUSY | RC_STAMP_ABORTED)
#define RC_SEQ_MAX (RC_STAMP_ABORTED - 2)

/* The life word: state in the low 8 bits, the epoch in the upper 56. */
#define RC_LIFE_STATE(l) ((uint32_t)((l)&0xff))
#define RC_LIFE_EPOCH(l) ((l) >> 8)
#define RC_LIFE(epoch, state) (((uint64_t)(epoch) << 8) | (state))

/* Epoch endings remembered in the header. */
#define RC_ENDED_MAX 8

/*
 * A table entry's state word: its kind in the low 8 bits, and in the upper
 * 24 a claim generation that every claim of the entry increments, so that
 * a compare-and-swap from a word seen earlier fails on an entry freed and
 * claimed again since (a publisher's demotion, gate.c).
 */
#define RC_ENTRY_FREE 0u
#define RC_ENTRY_LOSSY 1u /* registered, does not gate the publisher */
#define RC_ENTRY_RELIABLE 2u /* its cursor gates the publisher */
#define RC_ENTRY_PUBLISHER 3u /* a publisher of a multi-publisher ring */
#define RC_ENTRY_KIND(w) ((uint32_t)(w)&0xffu)
#define RC_ENTRY_GEN(w) ((uint32_t)(w) >> 8)
#define RC_ENTRY_WORD(kind, gen) ((uint32_t)(gen) << 8 | (kind))

/* Table entry flags. */
#define RC_EF_FILTERED 0x1u /* reads some types only */
#define RC_EF_DEMOTED 0x2u /* was reliable; demoted by a publisher */
#define RC_EF_LEAVING 0x4u /* a publisher closing if it is the last */
/*
 * A durable reliable entry: kept, gating, when its owner dies, until a
 * subscriber attaching with its key adopts it (table.c).  Every claim
 * writes the flags whole, so a library that does not know the flag (of
 * this same ABI version) never leaves it set on an entry it claims.
 */
#define RC_EF_DURABLE 0x8u

/* hdr->pub_wait: bit 0 set while the publisher sleeps there. */
#define RC_PUB_SLEEPING 1u

/* Byte of the lock object held by the publisher's lease. */
#define RC_LOCK_LEASE 0
/* Byte of the lock object held by table entry i: RC_LOCK_ENTRY0 + i. */
#define RC_LOCK_ENTRY0 1
/*
 * Bytes past every table entry (4096 at most, RINGCAST_MAX_SUBSCRIBERS):
 * held by the one publisher of a multi-publisher ring that takes it over
 * (pub.c), and by the process creating the ring (create.c).
 */
#define RC_LOCK_TAKEOVER (RC_LOCK_ENTRY0 + 4096)
#define RC_LOCK_CREATE (RC_LOCK_TAKEOVER + 1)
/*
 * Held, briefly, by a durable subscriber while it looks for its key and
 * claims an entry (table.c): two of the same key never both claim one.
 */
#define RC_LOCK_DURABLE (RC_LOCK_CREATE + 1)

struct rc_hdr {
	/*
	 * Line 0-1: immutable after creation, covered by @checksum.
	 * @magic is stored last, with release, when the object is complete.
	 */
	_Atomic uint64_t magic;
	uint32_t abi_version;
	uint32_t features;
	uint32_t hdr_size;
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t table_cap;
	uint64_t table_off;
	uint64_t slots_off;
	uint64_t total_size;
	uint32_t mode;
	uint32_t create_flags;
	uint64_t created_ns; /* CLOCK_REALTIME at creation */
	uint64_t demote_ns; /* reliable subscribers: 0 = never demote */
	uint64_t data_off; /* the data area; 0 when there is none */
	uint64_t data_size; /* its bytes: a power of two, or 0 */
	uint32_t max_event; /* the largest payload */
	uint8_t reserved0[20];
	uint64_t checksum; /* FNV-1a of bytes [8, offsetof(checksum)) */

	/*
	 * Line 2: the life of the ring.  Written by a publisher taking the
	 * ring over or closing it, by a subscriber marking it abandoned and
	 * by ringcast_ring_close(); read at attach and when a reader has
	 * caught up.
	 */
	_Atomic uint64_t life __attribute__((aligned(64)));
	_Atomic uint64_t epoch_start; /* first sequence of this epoch */
	_Atomic uint64_t pub_start; /* publisher's start time (/proc ticks) */
	_Atomic int32_t pub_pid;
	_Atomic uint32_t ended_next; /* next slot of ended[] to write */
	/*
	 * Bumped by every wake of all sleepers (rc_wake_all(): a publisher
	 * leaving, a close, an abandonment, a dead publisher's claims
	 * aborted) before it wakes them: a woken reader that finds it moved
	 * probes the lease at once, past its probe rate limit (sub_wait.c,
	 * rc_sub_idle()).
	 */
	_Atomic uint32_t wake_all_seq;
	/*
	 * Table entries in use as the publisher last counted them (when the
	 * table changed, publish.c): how crowded the ring is, for sleeping
	 * readers (sub_wait.c, rc_sub_crowded()).  A hint, relaxed; 0 in
	 * rings of older libraries (the bytes were reserved, zero): read as
	 * no crowd.
	 */
	_Atomic uint32_t entries;
	/*
	 * The data area's floor: the publisher destroys no data of an event
	 * at or above it without first storing a higher one and then, after
	 * a full barrier, reading the reliable cursors (gate.c).  Only rises.
	 */
	_Atomic uint64_t dfloor;
	uint8_t reserved2[16];

	/*
	 * Line 3: written by the publisher only (by every publisher of a
	 * multi-publisher ring, where the head is the next sequence to be
	 * claimed, and the counters are atomic increments).
	 */
	_Atomic uint64_t head __attribute__((aligned(64)));
	/*
	 * Reliable gating: the publisher writes no sequence at or above
	 * this without first storing a higher one and then, after a full
	 * barrier, reading the reliable cursors (see gate.c).
	 */
	_Atomic uint64_t limit;
	/*
	 * The data area's intent: every byte of it below this position may
	 * have been written; the publisher stores a new one before it writes
	 * past the old (publish.c).  Free-running, only rises.
	 */
	_Atomic uint64_t dintent;
	_Atomic uint64_t refused;
	_Atomic uint64_t wakes;
	_Atomic uint64_t blocked; /* waits for a reliable subscriber */
	_Atomic uint64_t blocked_ns; /* their total time */
	_Atomic uint64_t demotions;

	/*
	 * Line 4: the sleepers' interest bitmap, a futex word.  Set by
	 * readers before they sleep, cleared by whoever wakes them.
	 */
	_Atomic uint32_t wake_bits __attribute__((aligned(64)));
	/*
	 * What sleepers FUTEX_WAIT on: bumped by every waker after it
	 * clears bits.  The bitmap alone cannot be the futex word: a bit
	 * cleared by a waker and set again by another sleeper would give it
	 * back the value a sleeper about to wait expects.
	 */
	_Atomic uint32_t wake_seq;
	uint8_t reserved4[56];

	/*
	 * Line 5: written by subscribers, rarely: the publisher's own futex
	 * word (a publisher blocked by a reliable subscriber sleeps here) and
	 * the table's generation, bumped whenever an entry is claimed or
	 * freed, so the publisher recounts the entries only then.
	 */
	_Atomic uint32_t pub_wait __attribute__((aligned(64)));
	_Atomic uint32_t table_gen;
	_Atomic uint32_t table_hwm; /* most entries in use at once */
	/*
	 * CLOCK_MONOTONIC ns when a publisher began waiting for a reliable
	 * subscriber, 0 while none waits (gate.c, rc_pub_block()): a
	 * statistic, so that a monitor can show how long the wait has
	 * lasted so far.  Here, not on line 3, as the publisher writes it
	 * only when it blocks (and then writes pub_wait too).  Zero in
	 * rings of older libraries (the bytes were reserved, zero): read
	 * as not blocked now.
	 */
	uint32_t reserved5a; /* explicit: blocked_since is 8-aligned */
	_Atomic uint64_t blocked_since;
	uint8_t reserved5[40];

	/*
	 * Lines 6-7: how the last RC_ENDED_MAX epochs ended (closed or
	 * abandoned), written by a publisher taking the ring over before it
	 * sets the new epoch, so a subscriber still reading an old epoch
	 * gives the right end code however many takeovers came after it.
	 */
	struct rc_ended {
		_Atomic uint32_t tag; /* low 32 bits of the epoch */
		_Atomic uint32_t state; /* its life state at the takeover */
	} ended[RC_ENDED_MAX] __attribute__((aligned(64)));
	uint8_t reserved6[64];
};

/*
 * One entry of the shared subscriber table: two cache lines.  The first is
 * written by its owner as it reads (the cursor on every event) and read by
 * the publisher when it rescans; the second changes only when the entry is
 * claimed, freed or demoted, so the owner's per-call look at its state is
 * a cache hit.  delivered = cursor - first - skipped - lost - aborted.
 */
struct rc_entry {
	_Atomic uint64_t cursor; /* next sequence its owner reads */
	_Atomic uint64_t first; /* first sequence of the subscription */
	_Atomic uint64_t lost; /* in laps */
	_Atomic uint64_t skipped; /* by its type filter */
	/*
	 * A publisher of a multi-publisher ring announces here the
	 * sequences [claim_seq, claim_end) it claims, before it claims them;
	 * claim_seq == claim_end when it holds none.
	 */
	_Atomic uint64_t claim_seq;
	_Atomic uint64_t claim_end;
	_Atomic uint64_t aborted; /* holes of dead publishers it skipped */
	uint8_t reserved0[8];

	_Atomic uint32_t state __attribute__((aligned(64))); /* RC_ENTRY_WORD */
	_Atomic uint32_t flags; /* RC_EF_* */
	_Atomic uint32_t interest; /* wake buckets of its filter */
	_Atomic int32_t pid;
	_Atomic uint64_t start_time;
	_Atomic uint64_t demote_ns; /* its own limit; 0: the ring's */
	/*
	 * With RC_EF_DURABLE: the key its owner chose, which a successor
	 * adopts it by.  Zero in entries of older libraries (reserved).
	 */
	_Atomic uint64_t key;
	uint8_t reserved1[24];
};

struct rc_slot {
	_Atomic uint64_t stamp;
	_Atomic uint32_t type;
	_Atomic uint32_t len;
	_Atomic uint64_t ts;
	_Atomic uint32_t epoch; /* low 32 bits of the writer's epoch */
	_Atomic uint32_t pub_id; /* writer's table entry; ~0 = the lease */
	unsigned char data[];
};

/* A spilled event's slot: where its record lies in the data area. */
struct rc_desc {
	_Atomic uint64_t pos;
};

/* A record of the data area, followed by its payload. */
#define RC_REC_EVENT 1u
#define RC_REC_FILL 2u /* covers the rest of the lap */
#define RC_REC_ALIGN 64u
struct rc_rec {
	_Atomic uint64_t seq; /* its event, or a fill's next event */
	_Atomic uint32_t len; /* payload bytes after this header */
	_Atomic uint32_t kind; /* RC_REC_* */
};

static_assert(sizeof(struct rc_hdr) == RC_HDR_SIZE, "header size is ABI");
static_assert(sizeof(struct rc_rec) == 16, "record header size is ABI");
static_assert(offsetof(struct rc_hdr, dfloor) == 168, "dfloor offset");
static_assert(offsetof(struct rc_hdr, checksum) == 120, "checksum offset");
static_assert(offsetof(struct rc_hdr, life) == 128, "life offset");
static_assert(offsetof(struct rc_hdr, wake_all_seq) == 160,
	      "wake_all_seq offset");
static_assert(offsetof(struct rc_hdr, entries) == 164, "entries offset");
static_assert(offsetof(struct rc_hdr, head) == 192, "head offset");
static_assert(offsetof(struct rc_hdr, wake_bits) == 256, "wake offset");
static_assert(offsetof(struct rc_hdr, wake_seq) == 260, "wake_seq offset");
static_assert(offsetof(struct rc_hdr, pub_wait) == 320, "pub_wait offset");
static_assert(offsetof(struct rc_hdr, blocked_since) == 336,
	      "blocked_since offset");
static_assert(offsetof(struct rc_hdr, ended) == 384, "ended offset");
static_assert(sizeof(struct rc_entry) == RC_ENTRY_SIZE, "entry size is ABI");
static_assert(offsetof(struct rc_entry, state) == 64, "entry's cold line");
static_assert(offsetof(struct rc_entry, key) == 96, "entry's key");
static_assert(sizeof(struct rc_slot) == 32, "slot header size is ABI");
static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic uint32_t) == 4,
	      "atomics have the size of their type");

static inline uint64_t rc_checksum(const struct rc_hdr *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint64_t x = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 8; i < offsetof(struct rc_hdr, checksum); i++) {
		x ^= p[i];
		x *= 0x100000001b3ull;
	}
	return x;
}

#endif
