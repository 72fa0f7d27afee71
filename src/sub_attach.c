// SPDX-License-Identifier: MIT
/*
 * Subscribers: attach (the options, the type filter, where to start), the
 * reliable subscriber's join (its half of the gating table in gate.c),
 * statistics and detach.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "local.h"
#include "sub.h"

/*
 * A durable entry adopted: its cursor gated the publisher all along, so
 * nothing from there on was overwritten; start there, or at *start where
 * the caller asked for a sequence further on.  The cursor is shared
 * memory: one past the head was never a reader's (start at the head).
 */
static int rc_sub_join_adopted(struct ringcast_sub *sub, uint64_t *start,
			       bool from_seq)
{
	uint64_t c = READ_ONCE(sub->m.table[sub->entry].cursor);
	uint64_t head = smp_load_acquire(&sub->m.hdr->head);

	if (c > head)
		c = head;
	if (!from_seq || *start < c)
		*start = c;
	return 0;
}

/*
 * Register a reliable subscriber that wants to start at *start, and raise
 * *start to where nothing can be overwritten before it reads it: the
 * joiner's half of the gating table in gate.c.
 */
static int rc_sub_join(struct ringcast_sub *sub, struct rc_join *j,
		       uint64_t *start, bool from_seq, bool *adopted)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t lim, floor, head;

	if (!sub->m.writable) {
		rc_set_detail("a reliable subscriber needs write access to "
			      "ring '%s'",
			      sub->m.name);
		return -EACCES;
	}
	j->state = RC_ENTRY_RELIABLE;
	j->cursor = *start;
	*adopted = false;
	if (j->flags & RC_EF_DURABLE)
		sub->entry = rc_table_join_durable(&sub->m, j, adopted);
	else
		sub->entry = rc_table_join(&sub->m, j);
	if (sub->entry < 0) {
		int r = sub->entry;

		sub->entry = -1;
		if (r == -EUSERS)
			rc_set_detail("the subscriber table of ring '%s' is "
				      "full (%u entries)",
				      sub->m.name, sub->m.table_cap);
		if (r == -EBUSY)
			rc_set_detail("a live subscriber of ring '%s' holds "
				      "that durable key",
				      sub->m.name);
		return r;
	}
	if (*adopted)
		return rc_sub_join_adopted(sub, start, from_seq);
	/* [J]: pairs with smp_mb() [H] in rc_pub_scan(). */
	smp_mb();
	lim = READ_ONCE(hdr->limit);
	floor = lim > sub->m.slot_count ? lim - sub->m.slot_count : 0;
	/* The data area's floor, read after the same [J] (gate.c). */
	if (sub->m.data && READ_ONCE(hdr->dfloor) > floor)
		floor = READ_ONCE(hdr->dfloor);
	/*
	 * A limit is at most a ring ahead of the head when it is stored, and
	 * the head read after it is no lower: a floor past it was never
	 * stored by a publisher (a corrupted header).  Start at the head.
	 */
	head = smp_load_acquire(&hdr->head);
	if (floor > head)
		floor = head;
	if (floor > *start)
		*start = floor;
	return 0;
}

RINGCAST_API void ringcast_sub_get_stats(const struct ringcast_sub *sub,
					 struct ringcast_sub_stats *st)
{
	if (!sub || !st)
		return;
	*st = sub->st;
	st->cursor = sub->cursor;
	st->entry = sub->entry;
	st->reliable = sub->reliable;
	/* The cursor is past them already: lost, reported or not. */
	st->lost += sub->pending_lost;
}

static bool rc_sub_opts_valid(const struct ringcast_sub_opts *o)
{
	return o->from <= RINGCAST_FROM_SEQ && o->wait <= RINGCAST_WAIT_SLEEP &&
	       !(o->flags &
		 ~(RINGCAST_SUB_RESUBSCRIBE | RINGCAST_SUB_RELIABLE)) &&
	       o->ntypes <= RINGCAST_MAX_TYPES && (!o->ntypes || o->types) &&
	       (o->from != RINGCAST_FROM_SEQ || o->seq <= RC_SEQ_MAX);
}

/*
 * The CPUs online, read once per process (sysconf() reads a file): a
 * crowd is judged against them (rc_sub_crowded()).  Relaxed: threads
 * racing here store the same value.
 */
static uint32_t rc_ncpus(void)
{
	static _Atomic uint32_t ncpus;
	uint32_t v = atomic_load_explicit(&ncpus, memory_order_relaxed);
	long n;

	if (v)
		return v;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	v = n > 0 && n < 65536 ? (uint32_t)n : 1;
	atomic_store_explicit(&ncpus, v, memory_order_relaxed);
	return v;
}

/* The options that need no ring, copied into sub. */
static void rc_sub_set_opts(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o)
{
	sub->entry = -1;
	sub->reliable = o->flags & RINGCAST_SUB_RELIABLE;
	sub->hole_seq = UINT64_MAX;
	sub->wait = o->wait;
	sub->flags = o->flags;
	sub->spin_ns = o->spin_ns ? o->spin_ns : RC_DEFAULT_SPIN_NS;
	sub->liveness_ns = o->liveness_ns ? o->liveness_ns : RC_LIVENESS_NS;
	if (sub->liveness_ns < RC_BACKOFF_MIN_NS)
		sub->liveness_ns = RC_BACKOFF_MIN_NS;
	/* Both are used as signed times: keep them sane. */
	if (sub->liveness_ns > RC_WAIT_MAX_NS)
		sub->liveness_ns = RC_WAIT_MAX_NS;
	if (sub->spin_ns > RC_WAIT_MAX_NS)
		sub->spin_ns = RC_WAIT_MAX_NS;
	sub->interest = o->ntypes ? 0 : RC_WAKE_ANY;
	sub->ncpus = rc_ncpus();
}

/* The type filter: sorted, for rc_sub_wants(), and its wake buckets. */
static int rc_sub_set_types(struct ringcast_sub *sub, const uint32_t *types,
			    uint32_t ntypes)
{
	uint32_t i, dup;
	int r;

	r = rc_types_sorted(types, ntypes, &sub->types, &dup);
	if (r == -EINVAL)
		rc_set_detail("type %u appears twice", dup);
	if (r < 0)
		return r;
	for (i = 0; i < ntypes; i++)
		sub->interest |= rc_type_bit(sub->types[i]);
	sub->ntypes = ntypes;
	sub->slow |= RC_SUB_FILTERED;
	return 0;
}

/* Map the ring, and what depends on its geometry. */
static int rc_sub_map(struct ringcast_sub *sub, const char *name)
{
	uint64_t q;
	int r;

	r = rc_map_open(name, false, &sub->m);
	if (r < 0)
		return r;
	/*
	 * Subscribers never write a slot: map them read-only, so a write
	 * through a borrowed event's pointer faults in the subscriber instead
	 * of corrupting the ring for everyone.  The slots start on a 4096-byte
	 * boundary: where pages are larger this fails, and the slots stay
	 * writable.  So they do on a multi-publisher ring, where a subscriber
	 * may have to mark a dead publisher's claim aborted (a slot's stamp).
	 */
	if (sub->m.writable && !sub->m.multi)
		(void)mprotect(sub->m.slots,
			       sub->m.size -
				       (size_t)(sub->m.slots -
						(unsigned char *)sub->m.hdr),
			       PROT_READ);
	/* Room for the largest event (pages are touched only as used). */
	sub->buf = malloc(sub->m.max_event > sub->m.capacity ?
				  sub->m.max_event :
				  sub->m.capacity);
	if (!sub->buf) {
		rc_map_close(&sub->m);
		return -ENOMEM;
	}
	q = sub->m.slot_count >= 4 ? sub->m.slot_count / 4 : 1;
	while ((1ull << sub->quarter_shift) < q)
		sub->quarter_shift++;
	while (sub->m.data &&
	       (1ull << sub->dquarter_shift) < sub->m.data_size / 4)
		sub->dquarter_shift++;
	sub->dquarter = UINT64_MAX;
	return 0;
}

/*
 * Register, so publishers count us.  A lossy subscriber that finds the
 * table full, or has no write access, reads unregistered.  A reliable one
 * registers later, with *j, once it knows where it starts (rc_sub_join()).
 */
static void rc_sub_register(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o,
			    struct rc_join *j)
{
	j->interest = sub->interest;
	j->flags = o->ntypes ? RC_EF_FILTERED : 0;
	j->demote_ns = o->demote_ns;
	if (sub->reliable)
		return;
	j->state = RC_ENTRY_LOSSY;
	sub->entry = rc_table_join(&sub->m, j);
	if (sub->entry < 0)
		sub->entry = -1;
}

/*
 * The ring as a new subscriber first sees it: the epoch it follows, the
 * life and wake-all words its idle checks compare with, and the head.
 */
static int rc_sub_first_look(struct ringcast_sub *sub, uint64_t *head)
{
	struct rc_hdr *hdr = sub->m.hdr;
	uint64_t life;

	/* Pairs with the release CAS of life in ringcast_pub_attach(). */
	life = smp_load_acquire(&hdr->life);
	if (RC_LIFE_STATE(life) != RINGCAST_STATE_CREATED)
		rc_sub_adopt(sub, (uint32_t)RC_LIFE_EPOCH(life),
			     READ_ONCE(hdr->epoch_start));
	sub->seen_life = life;
	sub->seen_wake_all = atomic_load(&hdr->wake_all_seq);
	/* Pairs with [E] in rc_pub_advance(). */
	*head = smp_load_acquire(&hdr->head);
	if (*head > RC_SEQ_MAX) {
		rc_set_detail("corrupted: head out of range");
		return -EBADMSG;
	}
	return 0;
}

/*
 * Where the options say to start, the head seen: *start is the first
 * sequence to read, *acct the one the caller asked for (the sequences
 * between them are lost already).
 */
static void rc_sub_start_at(struct ringcast_sub *sub,
			    const struct ringcast_sub_opts *o, uint64_t head,
			    uint64_t *start, uint64_t *acct)
{
	uint64_t oldest = rc_oldest(&sub->m, head);

	switch (o->from) {
	case RINGCAST_FROM_NEWEST:
		*start = *acct = head;
		break;
	case RINGCAST_FROM_OLDEST:
		*start = *acct = oldest;
		/* The oldest slot is the next to go: already overwritten? */
		if (oldest < head &&
		    smp_load_acquire(&rc_slot_at(&sub->m, oldest)->stamp) !=
			    oldest + 1)
			*start = *acct = oldest + 1;
		break;
	default:
		*acct = o->seq;
		*start = o->seq < oldest ? oldest : o->seq;
		break;
	}
}

/* The cursor, first and losses of a new subscriber, in its entry too. */
static void rc_sub_set_cursor(struct ringcast_sub *sub, uint64_t start,
			      uint64_t acct)
{
	rc_sub_owe_lost(sub, start - acct);
	sub->cursor = sub->synced = start;
	sub->st.first = acct;
	if (sub->entry < 0) {
		sub->slow |= RC_SUB_UNREG;
		return;
	}
	sub->e = &sub->m.table[sub->entry];
	WRITE_ONCE(sub->e->first, acct);
	/* What it cannot have is lost already, for stat. */
	WRITE_ONCE(sub->e->lost, sub->pending_lost);
	sub->synced_lost = sub->pending_lost;
	/* Pairs with smp_load_acquire() [K] in rc_pub_scan(). */
	smp_store_release(&sub->e->cursor, start);
	/* A publisher may sleep on the lower cursor we joined with. */
	if (sub->reliable)
		rc_pub_wake(sub->m.hdr);
}

/* Attach, durable with a non-zero key (reliable then). */
static int rc_sub_attach(const char *name, const struct ringcast_sub_opts *opts,
			 uint64_t key, struct ringcast_sub **subp,
			 uint64_t *first)
{
	struct ringcast_sub_opts o = { 0 };
	struct rc_join j = { 0 };
	struct ringcast_sub *sub;
	uint64_t head, start, acct;
	bool adopted = false;
	int r;

	rc_set_detail("%s", "");
	if (!subp)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (!rc_sub_opts_valid(&o))
		return -EINVAL;
	if (key && !(o.flags & RINGCAST_SUB_RELIABLE)) {
		rc_set_detail("a durable subscriber is a reliable one");
		return -EINVAL;
	}
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	rc_sub_set_opts(sub, &o);
	if (o.ntypes) {
		r = rc_sub_set_types(sub, o.types, o.ntypes);
		if (r < 0)
			goto err_free;
	}
	r = rc_sub_map(sub, name);
	if (r < 0)
		goto err_free;
	rc_sub_register(sub, &o, &j);
	if (key) {
		j.flags |= RC_EF_DURABLE;
		j.key = key;
	}
	r = rc_sub_first_look(sub, &head);
	if (r < 0)
		goto err_leave;
	rc_sub_start_at(sub, &o, head, &start, &acct);
	if (sub->reliable) {
		r = rc_sub_join(sub, &j, &start, o.from == RINGCAST_FROM_SEQ,
				&adopted);
		if (r < 0)
			goto err_unmap;
		/* An adopted entry's predecessor had what lies below. */
		if (o.from != RINGCAST_FROM_SEQ || adopted)
			acct = start;
	}
	rc_sub_set_cursor(sub, start, acct);
	if (first)
		*first = acct;
	*subp = sub;
	return 0;

err_leave:
	rc_table_leave(&sub->m, sub->entry);
err_unmap:
	rc_map_close(&sub->m);
err_free:
	free(sub->buf);
	free(sub->types);
	free(sub);
	return r;
}

RINGCAST_API int ringcast_sub_attach(const char *name,
				     const struct ringcast_sub_opts *opts,
				     struct ringcast_sub **subp,
				     uint64_t *first)
{
	return rc_sub_attach(name, opts, 0, subp, first);
}

RINGCAST_API int
ringcast_sub_attach_durable(const char *name, uint64_t key,
			    const struct ringcast_sub_opts *opts,
			    struct ringcast_sub **subp, uint64_t *first)
{
	if (!key) {
		rc_set_detail("a durable subscriber's key is not 0");
		return -EINVAL;
	}
	return rc_sub_attach(name, opts, key, subp, first);
}

RINGCAST_API void ringcast_sub_detach(struct ringcast_sub *sub)
{
	if (!sub)
		return;
	rc_subfd_drop(sub); /* before the unmap: the helper reads its word */
	/* In a forked child the entry is the parent's. */
	if (!rc_map_forked(&sub->m))
		rc_table_leave(&sub->m, sub->entry);
	rc_map_close(&sub->m);
	free(sub->buf);
	free(sub->types);
	free(sub);
}
