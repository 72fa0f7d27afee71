// SPDX-License-Identifier: MIT
/*
 * ringcast create, close, rm and gc: a ring's life, from its creation to
 * its removal, and the removal of the rings whose users all died (or,
 * asked, of those closed long ago).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* ----------------------------------------------------------------------
 * create
 */

const char create_help[] =
	"Usage: ringcast create NAME [--slots N] [--slot-size BYTES]\n"
	"                            [--data-size BYTES]\n"
	"                            [--max-subscribers N] [--mode OCTAL]\n"
	"                            [--demote-after SECONDS]\n"
	"                            [--multi-publisher]\n"
	"\n"
	"Create the ring NAME; fail if it exists.\n"
	"\n"
	"  --slots N            slots, a power of two from 2 to 16M\n"
	"                       (default 4096)\n"
	"  --slot-size BYTES    bytes per slot, a power of two from 64 to\n"
	"                       16M (default 256); an event carries up to\n"
	"                       this minus 32 bytes of payload inline\n"
	"  --data-size BYTES    bytes of the data area, where larger events\n"
	"                       go: a power of two from 4k to 4G (default\n"
	"                       4M); the largest event is a quarter of it;\n"
	"                       0: no data area, every event fits a slot\n"
	"  --max-subscribers N  subscriber table entries, 1 to 4096\n"
	"                       (default 64)\n"
	"  --mode OCTAL         permissions, whatever the umask\n"
	"                       (default 0600)\n"
	"  --demote-after SECONDS\n"
	"                       a reliable subscriber that keeps the\n"
	"                       publisher blocked this long (fractions\n"
	"                       allowed) is demoted to lossy; 0 or absent:\n"
	"                       wait for it for ever\n"
	"  --multi-publisher    any number of processes may publish at\n"
	"                       once ('ringcast pub' on it joins them);\n"
	"                       such a ring has no data area\n"
	"\n"
	"Sizes take a k, M or G suffix (powers of 1024).\n"
	"Exit status: 0 created, 1 error (it exists...), 2 usage.\n";

int cmd_create(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'z' },
		{ "data-size", required_argument, NULL, 'd' },
		{ "max-subscribers", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "demote-after", required_argument, NULL, 'D' },
		{ "multi-publisher", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ringcast_ring_opts geo = { 0 };
	unsigned int flags = RINGCAST_CREATE_EXCL;
	const char *name;
	int c, err;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		if (c == 'M')
			flags |= RINGCAST_CREATE_MULTI_PUB;
		else if (opt_geometry(cmd, c, optarg, &geo, &flags))
			return EXIT_USAGE;
	}
	if (c)
		return opt_status(c);
	if ((flags & RINGCAST_CREATE_MULTI_PUB) && geo.data_size)
		return usage_error(cmd, "a multi-publisher ring has no data "
					"area: --data-size 0 or none");
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;

	err = ringcast_ring_create(name, &geo, flags);
	if (err < 0)
		return ring_error(cmd, name, err);
	return EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * close, rm
 */

const char close_help[] =
	"Usage: ringcast close NAME\n"
	"\n"
	"Mark the ring closed, whatever publisher holds it: subscribers\n"
	"read what was published, then end.\n"
	"Exit status: 0 closed, 1 error (also: closed already), 2 usage.\n";

const char rm_help[] =
	"Usage: ringcast rm NAME [--force]\n"
	"\n"
	"Remove the ring, unless a publisher or a registered subscriber\n"
	"of it is alive (the error names it and its pid).  New processes\n"
	"do not find it any more.  A durable bridge's state beside it\n"
	"(ringcast-bridge.durable.NAME) goes with it.\n"
	"\n"
	"  --force  remove it even while it is in use: its publishers\n"
	"           are refused from then on, and its subscribers read\n"
	"           what was published, then stop; both are told the\n"
	"           ring was removed\n"
	"\n"
	"Exit status: 0 removed, 1 error (no such ring, in use...), 2\n"
	"usage.\n";

static int cmd_name_only(const struct command *cmd, int argc, char **argv,
			 int (*fn)(const char *name))
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name;
	int c, err;

	c = next_opt(cmd, argc, argv, ":h", longopts);
	if (c)
		return opt_status(c);
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;
	err = fn(name);
	if (err == -EPIPE)
		return fail(cmd, name, "already closed");
	if (err < 0)
		return ring_error(cmd, name, err);
	return EXIT_SUCCESS;
}

int cmd_close(const struct command *cmd, int argc, char **argv)
{
	return cmd_name_only(cmd, argc, argv, ringcast_ring_close);
}

/*
 * A durable bridge's state beside the ring (ringcast-bridge.durable.NAME,
 * tools/bridge/js_in.c) says where that ring's publishing stands: with the
 * ring gone it means nothing, so it goes too.  Absent is fine.
 */
static void rm_bridge_state(const char *name)
{
	char path[PATH_MAX];

	if (ring_file_path(path, sizeof(path), name,
			   "ringcast-bridge.durable.") == 0)
		(void)unlink(path);
}

int cmd_rm(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name;
	bool force = false;
	int c, err;

	while ((c = next_opt(cmd, argc, argv, ":hf", longopts)) == 'f')
		force = true;
	if (c)
		return opt_status(c);
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;
	err = force ? ringcast_ring_remove_force(name) :
		      ringcast_ring_remove(name);
	if (err == -EBUSY)
		return fail(cmd, name, "in use: %s (--force removes it anyway)",
			    ringcast_errdetail());
	if (err < 0)
		return ring_error(cmd, name, err);
	rm_bridge_state(name);
	return EXIT_SUCCESS;
}

/* ----------------------------------------------------------------------
 * gc
 */

const char gc_help[] =
	"Usage: ringcast gc [NAME...] [--closed-for DURATION] [--durable]\n"
	"                  [--dry-run]\n"
	"\n"
	"Remove the rings (every ring, or those named) whose publisher\n"
	"died without closing them and that have no live subscriber\n"
	"left: they hold their whole size in /dev/shm for nothing.  A\n"
	"ring waiting for its first publisher is kept, and so is a\n"
	"closed ring (a normal end of stream: 'ringcast rm' removes it),\n"
	"unless --closed-for says otherwise, and so is a ring whose\n"
	"durable subscriber died (it comes back for its events), unless\n"
	"--durable says otherwise.\n"
	"Prints a line per ring removed and the bytes freed.\n"
	"\n"
	"  --closed-for DURATION\n"
	"             also remove the closed rings without a live\n"
	"             subscriber that were closed at least that long ago\n"
	"             (seconds, or a number with s, m, h or d; fractions\n"
	"             allowed): since the later of their last event and\n"
	"             their creation\n"
	"  --durable  first let go of the durable subscribers that died\n"
	"             (the publisher stops waiting for them)\n"
	"  --dry-run  say what would be removed; remove nothing\n"
	"\n"
	"Exit status: 0, 1 a ring named could not be read or a ring\n"
	"could not be removed, 2 usage.\n";

/* The most events read back, from the newest, to find one's time. */
#define GC_LAST_TRIES 8

/*
 * How long ago the closed ring @name was written last, which is when it
 * was closed or before: the later of its object's modification time (its
 * creation: stores through a mapping do not change it) and its newest
 * event's stamp (CLOCK_MONOTONIC), read back by a subscriber of a moment.
 * The API keeps no time of the close itself.  Return: 0 and *@age_ns, or
 * a negative errno (it cannot be told: the ring is kept).
 */
static int closed_age(const char *name, const struct ringcast_ring_stats *info,
		      int64_t *age_ns)
{
	char path[PATH_MAX + 32];
	struct ringcast_sub_opts opts = { .wait = RINGCAST_WAIT_SLEEP };
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	struct timespec now;
	struct stat st;
	uint64_t seq, low;
	int64_t age;
	int err;

	if (ring_file_path(path, sizeof(path), name, "ringcast."))
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &now);
	age = (now.tv_sec - st.st_mtim.tv_sec) * NSEC_PER_SEC +
	      (now.tv_nsec - st.st_mtim.tv_nsec);
	*age_ns = age > 0 ? age : 0;
	if (info->head == 0)
		return 0;

	err = ringcast_sub_attach(name, &opts, &sub, NULL);
	if (err < 0)
		return err;
	low = info->head - info->oldest > GC_LAST_TRIES ?
		      info->head - GC_LAST_TRIES :
		      info->oldest;
	err = -ENODATA;
	/* An aborted claim of a multi-publisher ring has no event: older. */
	for (seq = info->head; seq-- > low;) {
		err = ringcast_sub_read_at(sub, seq, &ev);
		if (err == 0)
			break;
	}
	ringcast_sub_detach(sub);
	if (err < 0)
		return err;
	age = now_ns() - (int64_t)ev.ts;
	if (age < *age_ns)
		*age_ns = age > 0 ? age : 0;
	return 0;
}

/*
 * Is the ring garbage: its publisher died (abandoned, or live with the
 * lease free), or with @closed_for (>= 0) it was closed that long ago,
 * and no live subscriber is left in its table?  A ring that waits for
 * its first publisher, a closed ring (a normal end: its events are there
 * to be read) and anything that cannot be told are kept.  Return: 1
 * garbage, 0 keep, or a negative errno; @why says which.
 */
static int gc_check(const char *name, int64_t closed_for, bool durable,
		    struct ringcast_ring_stats *info, const char **why)
{
	static char closed_why[64];
	struct ringcast_ring_subscriber *subs;
	int i, n, err, live = 0, waits = 0;
	int64_t age = 0;

	err = ringcast_ring_get_stats(name, info);
	if (err < 0)
		return err;
	switch (info->state) {
	case RINGCAST_STATE_ABANDONED:
		*why = "abandoned";
		break;
	case RINGCAST_STATE_LIVE:
		if (info->publisher_alive != 0) {
			*why = "live";
			return 0;
		}
		*why = "publisher dead";
		break;
	case RINGCAST_STATE_CREATED:
		*why = "waiting for its first publisher";
		return 0;
	case RINGCAST_STATE_CLOSED:
		*why = "closed";
		if (closed_for < 0)
			return 0;
		if (closed_age(name, info, &age) < 0) {
			*why = "closed, since when cannot be told";
			return 0;
		}
		if (age < closed_for) {
			*why = "closed recently";
			return 0;
		}
		snprintf(closed_why, sizeof(closed_why),
			 "closed for %" PRId64 " s",
			 (int64_t)(age / NSEC_PER_SEC));
		*why = closed_why;
		break;
	default:
		*why = "unknown state";
		return 0;
	}
	n = get_subscribers(name, info->max_subscribers, &subs);
	if (n < 0)
		return n;
	/*
	 * Dead entries were reclaimed, but a durable one's; alive -1 cannot
	 * be told: kept.
	 */
	for (i = 0; i < n; i++) {
		if (subs[i].alive != 0)
			live++;
		else if (subs[i].flags & RINGCAST_SUBSCRIBER_DURABLE)
			waits++;
	}
	free(subs);
	if (live) {
		*why = "subscribers alive";
		return 0;
	}
	if (waits && !durable) {
		*why = "a durable subscriber died: it comes back";
		return 0;
	}
	return 1;
}

/*
 * --durable: let go of the durable subscribers of @ring whose owners died
 * (with @dry, count them).  Return: 0, or a negative errno.
 */
static int gc_durable(const char *ring, const char *name, bool dry)
{
	struct ringcast_ring_subscriber *subs;
	int i, n, dead = 0;

	n = get_subscribers(ring, 0, &subs);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if ((subs[i].flags & RINGCAST_SUBSCRIBER_DURABLE) &&
		    subs[i].alive == 0)
			dead++;
	free(subs);
	if (!dead)
		return 0;
	if (!dry) {
		dead = ringcast_ring_release_durable(ring, 0);
		if (dead <= 0)
			return dead;
	}
	printf("%s %d durable subscriber%s of %s\n",
	       dry ? "would release" : "released", dead, dead == 1 ? "" : "s",
	       name);
	return 0;
}

int cmd_gc(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "closed-for", required_argument, NULL, 'C' },
		{ "durable", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct name_list list = { 0 };
	char path[PATH_MAX];
	int64_t closed_for = -1;
	uint64_t bytes = 0, rings = 0;
	char **names = argv + optind;
	size_t nnames, i;
	bool dry = false, durable = false, named;
	int c, err, ret = EXIT_SUCCESS;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		if (c == 'n')
			dry = true;
		else if (c == 'D')
			durable = true;
		else if (parse_duration(optarg, &closed_for))
			return usage_error(
				cmd, "--closed-for: '%s' is not a duration",
				optarg);
	}
	if (c)
		return opt_status(c);
	names = argv + optind;
	nnames = (size_t)(argc - optind);
	named = nnames > 0;
	if (!named) {
		err = list_rings(&list);
		if (err < 0)
			return list_error(cmd, err);
		names = list.names;
		nnames = list.n;
	}

	for (i = 0; i < nnames; i++) {
		struct ringcast_ring_stats info;
		const char *why = "", *ring = ring_at(names[i], path);

		err = durable ? gc_durable(ring, names[i], dry) : 0;
		if (err == 0)
			err = gc_check(ring, closed_for, durable, &info, &why);
		if (err == 0)
			continue;
		if (err < 0 && named) {
			ret = ring_error(cmd, names[i], err);
			continue;
		}
		/*
		 * Of all the rings: one removed meanwhile, or another user's,
		 * is none of our business; a corrupted one is kept, said.
		 */
		if (err < 0) {
			if (err != -ENOENT && err != -EACCES)
				ring_error(cmd, names[i], err);
			continue;
		}
		if (!dry) {
			err = ringcast_ring_remove(ring);
			if (err == -ENOENT)
				continue; /* removed meanwhile */
			if (err < 0) {
				ret = ring_error(cmd, names[i], err);
				continue;
			}
		}
		printf("%s %s (%s, publisher %" PRId32 ", %" PRIu64 " bytes)\n",
		       dry ? "would remove" : "removed", names[i], why,
		       info.publisher_pid, info.size);
		bytes += info.size;
		rings++;
	}
	printf("%s %" PRIu64 " ring%s, %" PRIu64 " bytes%s\n",
	       dry ? "would remove" : "removed", rings, rings == 1 ? "" : "s",
	       bytes, dry ? "" : " freed");
	free_names(&list);
	err = finish_output(cmd);
	return err ? err : ret;
}
