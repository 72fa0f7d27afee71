// SPDX-License-Identifier: MIT
/*
 * Liveness from the kernel: open-file-description locks on the bytes of the
 * ring's companion lock object (docs/design.md §5).  Byte 0 is the publisher's
 * lease, byte 1 + i the table entry i.  A process holds its locks through
 * m->lock_fd and looks at other processes' locks through m->probe_fd, a
 * second description of the same object opened from /proc/self/fd, since
 * a description does not see its own locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "map.h"

static int rc_lock_op(int fd, int cmd, short type, int byte)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};

	if (fcntl(fd, cmd, &fl) < 0)
		return -errno;
	if (cmd == F_OFD_GETLK)
		return fl.l_type == F_UNLCK ? 0 : 1;
	return 0;
}

int rc_lease_take(struct rc_map *m)
{
	return rc_lock_try(m, RC_LOCK_LEASE);
}

/*
 * The lease of a multi-publisher ring: a read lock, which many publishers
 * hold at once; a prober (F_OFD_GETLK for a write lock) sees it held while
 * any of them lives.
 */
int rc_lease_share(struct rc_map *m)
{
	int r;

	if (m->lock_fd < 0)
		return -EACCES;
	r = rc_lock_op(m->lock_fd, F_OFD_SETLK, F_RDLCK, RC_LOCK_LEASE);
	return (r == -EAGAIN || r == -EACCES) ? -EBUSY : r;
}

void rc_lease_drop(struct rc_map *m)
{
	rc_lock_drop(m, RC_LOCK_LEASE);
}

/* Take byte's lock through our own description: 0, -EBUSY, or -errno. */
int rc_lock_try(struct rc_map *m, int byte)
{
	int r;

	if (m->lock_fd < 0)
		return -EACCES;
	r = rc_lock_op(m->lock_fd, F_OFD_SETLK, F_WRLCK, byte);
	return (r == -EAGAIN || r == -EACCES) ? -EBUSY : r;
}

int rc_lock_wait(struct rc_map *m, int byte)
{
	int r;

	if (m->lock_fd < 0)
		return -EACCES;
	do
		r = rc_lock_op(m->lock_fd, F_OFD_SETLKW, F_WRLCK, byte);
	while (r == -EINTR);
	return r;
}

void rc_lock_drop(struct rc_map *m, int byte)
{
	if (m->lock_fd >= 0)
		rc_lock_op(m->lock_fd, F_OFD_SETLK, F_UNLCK, byte);
}

int rc_lock_probe(struct rc_map *m, int byte)
{
	if (m->probe_fd < 0)
		return -EACCES;
	return rc_lock_op(m->probe_fd, F_OFD_GETLK, F_WRLCK, byte);
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
uint64_t rc_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

/*
 * For those who cannot probe a lock: is a publisher of a multi-publisher
 * ring alive, by the pid and start time of each entry that says it is a
 * publisher's (rc_table_join() stores them before the state, with
 * release)?  The header's pid is only the one that took the ring over,
 * which may have left while others go on.  A publisher that died without
 * its entry reclaimed is found dead here; one between its share of the
 * lease and its entry is not seen.
 */
static int rc_publishers_alive(struct rc_map *m)
{
	uint32_t i;

	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];
		int32_t pid;

		/* Pairs with the release CAS of the state in rc_table_join(). */
		if (RC_ENTRY_KIND(smp_load_acquire(&e->state)) !=
		    RC_ENTRY_PUBLISHER)
			continue;
		pid = READ_ONCE(e->pid);
		if (pid > 0 && rc_pid_alive(pid, READ_ONCE(e->start_time)))
			return 1;
	}
	return 0;
}

/*
 * 1 if the publisher holding the lease is alive (any of them, on a
 * multi-publisher ring), 0 if there is none, -1 if this process cannot
 * tell.
 */
int rc_publisher_alive(struct rc_map *m)
{
	int32_t pid;
	uint64_t start;
	int r;

	r = rc_lock_probe(m, RC_LOCK_LEASE);
	if (r >= 0)
		return r;
	if (m->multi)
		return rc_publishers_alive(m);
	/* Read-only: fall back on the pid and start time in the header. */
	pid = READ_ONCE(m->hdr->pub_pid);
	start = READ_ONCE(m->hdr->pub_start);
	if (pid <= 0)
		return 0;
	return rc_pid_alive(pid, start);
}

/*
 * Whether process pid, started at start (/proc ticks; 0: unknown), still
 * runs: 1 or 0.  For those who cannot probe a lock; one PID namespace.
 */
int rc_pid_alive(pid_t pid, uint64_t start)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (start && rc_proc_start_time(pid) != start)
		return 0;
	return 1;
}

/*
 * A live ring whose lease is free lost its publisher: mark it abandoned.
 * The compare-and-swap is on the whole life word (state and epoch), so it
 * cannot undo a takeover that set a new epoch meanwhile.  Returns the life
 * word as it now is (a read-only process only pretends: it cannot write).
 */
uint64_t rc_check_abandoned(struct rc_map *m, uint64_t life)
{
	uint64_t dead;

	if (RC_LIFE_STATE(life) != RINGCAST_STATE_LIVE)
		return life;
	if (rc_publisher_alive(m) != 0)
		return life;
	dead = RC_LIFE(RC_LIFE_EPOCH(life), RINGCAST_STATE_ABANDONED);
	if (!m->writable)
		return dead;
	/*
	 * Release: nothing to publish here, but the CAS must not be hoisted
	 * above the probe.  Acquire on failure pairs with the release CAS of
	 * a publisher's takeover in ringcast_pub_attach().
	 */
	if (atomic_compare_exchange_strong_explicit(&m->hdr->life, &life, dead,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		rc_wake_all(m);
		return dead;
	}
	return life;
}
