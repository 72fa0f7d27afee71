// SPDX-License-Identifier: MIT
/*
 * Snapshots of rings, taken through a read-only mapping: a ring's
 * statistics, the rings there are, and a ring's subscribers.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "barrier.h"
#include "map.h"

/*
 * A snapshot of mapped ring m: 0, or -EBADMSG (a corrupted life word).
 * A writable map marks a ring whose publisher died abandoned; a
 * read-only one only reports it so.
 */
int rc_map_stats(struct rc_map *m, struct ringcast_ring_stats *info)
{
	struct rc_hdr *h = m->hdr;
	uint64_t life, head;
	int r;

	memset(info, 0, sizeof(*info));
	life = smp_load_acquire(&h->life);
	r = rc_life_check(life);
	if (r < 0)
		return r;
	/* Look, as a reader would, whether the publisher died. */
	life = rc_check_abandoned(m, life);
	head = smp_load_acquire(&h->head);
	info->abi_version = RC_ABI_VERSION;
	info->features = h->features;
	info->slots = m->slot_count;
	info->slot_size = m->slot_size;
	info->capacity = m->capacity;
	info->max_subscribers = m->table_cap;
	info->mode = h->mode & 0777;
	info->state = RC_LIFE_STATE(life);
	info->epoch = RC_LIFE_EPOCH(life);
	info->epoch_start = READ_ONCE(h->epoch_start);
	info->head = head;
	info->oldest = rc_oldest(m, head);
	info->data_size = m->data_size;
	info->data_written = READ_ONCE(h->dintent);
	info->max_event = m->max_event;
	info->created_ns = h->created_ns;
	/* Sequences continue across takeovers: the head is the count. */
	info->published = head;
	info->refused = READ_ONCE(h->refused);
	info->wakes = READ_ONCE(h->wakes);
	info->size = m->size;
	info->publisher_pid = READ_ONCE(h->pub_pid);
	if (info->publisher_pid <= 0)
		info->publisher_alive = 0;
	else
		info->publisher_alive = rc_publisher_alive(m);
	info->subscribers = rc_table_live(m);
	info->reliable = rc_table_reliable(m);
	info->demote_ns = m->demote_ns;
	info->blocked = READ_ONCE(h->blocked);
	info->blocked_ns = READ_ONCE(h->blocked_ns);
	info->demotions = READ_ONCE(h->demotions);
	info->table_hwm = READ_ONCE(h->table_hwm);
	info->publishers = m->multi ? rc_table_publishers(m) :
				      info->publisher_alive == 1;
	/* A dead publisher's wait is over: a takeover clears its start. */
	if (info->publishers)
		info->blocked_since_ns = READ_ONCE(h->blocked_since);
	return 0;
}

RINGCAST_API int ringcast_ring_get_stats(const char *name,
					 struct ringcast_ring_stats *info)
{
	struct rc_map m;
	int r;

	if (!info)
		return -EINVAL;
	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	r = rc_map_stats(&m, info);
	rc_map_close(&m);
	return r;
}

static int rc_list(DIR *d, int (*cb)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	int r = 0;

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

RINGCAST_API int ringcast_ring_list(int (*cb)(const char *name, void *arg),
				    void *arg)
{
	DIR *d;

	if (!cb)
		return -EINVAL;
	d = opendir(RC_SHM_DIR);
	if (!d)
		return -errno;
	return rc_list(d, cb, arg);
}

RINGCAST_API int ringcast_ring_list_dir(const char *dir,
					int (*cb)(const char *name, void *arg),
					void *arg)
{
	char path[PATH_MAX + 2];
	struct rc_loc l;
	DIR *d;
	int r;

	if (!cb)
		return -EINVAL;
	if (!dir)
		return ringcast_ring_list(cb, arg);
	/* The directory of a ring DIR/x, checked as the other calls do. */
	if (snprintf(path, sizeof(path), "%s/x", dir) >= (int)sizeof(path)) {
		rc_set_detail("a ring's directory has fewer than %d bytes",
			      PATH_MAX);
		return -EINVAL;
	}
	rc_set_detail("%s", "");
	r = rc_loc_open(path, &l);
	if (r < 0)
		return r;
	d = fdopendir(l.dirfd);
	if (!d) {
		r = -errno;
		rc_loc_close(&l);
		return r;
	}
	/* closedir() closes l.dirfd. */
	return rc_list(d, cb, arg);
}

/* The live entries of m's table, up to max of them in info: their count. */
int rc_map_subscribers(struct rc_map *m, struct ringcast_ring_subscriber *info,
		       unsigned int max)
{
	uint64_t head;
	uint32_t i;
	int n = 0;

	rc_table_live(m); /* reclaim the dead first, when we may */
	/* Pairs with [E] in rc_pub_advance(). */
	head = smp_load_acquire(&m->hdr->head);
	for (i = 0; i < m->table_cap; i++) {
		struct ringcast_ring_subscriber si;

		if (!rc_entry_info(m, i, head, &si))
			continue;
		if ((unsigned int)n < max)
			info[n] = si;
		n++;
	}
	return n;
}

RINGCAST_API int
ringcast_ring_get_subscribers(const char *name,
			      struct ringcast_ring_subscriber *info,
			      unsigned int max)
{
	struct rc_map m;
	int r;

	if (max && !info)
		return -EINVAL;
	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	r = rc_map_subscribers(&m, info, max);
	rc_map_close(&m);
	return r;
}

RINGCAST_API int ringcast_ring_release_durable(const char *name, uint64_t key)
{
	struct rc_map m;
	int r;

	r = rc_map_open(name, false, &m);
	if (r < 0)
		return r;
	r = rc_table_release_durable(&m, key);
	if (r == -EACCES)
		rc_set_detail("releasing a durable subscriber of ring '%s' "
			      "needs write access",
			      m.name);
	else if (r == -EBUSY)
		rc_set_detail("the durable subscriber of ring '%s' is alive",
			      m.name);
	rc_map_close(&m);
	return r;
}
