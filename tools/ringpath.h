/* SPDX-License-Identifier: MIT */
/*
 * Ring names and directories, as the library reads them (ringcast(7),
 * "Ring directories"), for the programs: a ring is NAME, in /dev/shm, or
 * DIR/NAME (a '/' in it), in DIR; a file that sits beside a ring (its
 * object, a bridge's status) sits in the ring's directory.  Header-only:
 * tools/cli/, tools/bridge/, tools/exporter/ and promfmt.c include it.
 */
#ifndef RINGCAST_TOOLS_RINGPATH_H
#define RINGCAST_TOOLS_RINGPATH_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define RING_SHM_DIR "/dev/shm"

/*
 * @name in directory @dir: @name itself when it has a directory already
 * or @dir is NULL (/dev/shm), else "@dir/@name" in @buf.  Return: the
 * ring's name for the library, or NULL when @buf is too small.
 */
static inline const char *ring_in_dir(const char *dir, const char *name,
				      char *buf, size_t size)
{
	int n;

	if (!dir || strchr(name, '/'))
		return name;
	n = snprintf(buf, size, "%s/%s", dir, name);
	return n >= 0 && (size_t)n < size ? buf : NULL;
}

/* The NAME of ring @ring, without its directory. */
static inline const char *ring_base(const char *ring)
{
	const char *slash = strrchr(ring, '/');

	return slash ? slash + 1 : ring;
}

/*
 * The file @prefix NAME beside ring @ring ("ringcast.", "ringcast-bridge.
 * out."): DIR/@prefix NAME, or /dev/shm/@prefix NAME.  Return: 0, or -1
 * when @buf is too small.
 */
static inline int ring_file_path(char *buf, size_t size, const char *ring,
				 const char *prefix)
{
	const char *slash = strrchr(ring, '/');
	int n;

	if (!slash)
		n = snprintf(buf, size, RING_SHM_DIR "/%s%s", prefix, ring);
	else if (slash == ring)
		n = snprintf(buf, size, "/%s%s", prefix, slash + 1);
	else
		n = snprintf(buf, size, "%.*s/%s%s", (int)(slash - ring), ring,
			     prefix, slash + 1);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

#endif
