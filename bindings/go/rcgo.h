/* SPDX-License-Identifier: MIT */
#ifndef RCGO_H
#define RCGO_H

#include <stddef.h>
#include <ringcast.h>

int rcgo_ring_create(const char *name, const struct ringcast_ring_opts *o,
		     unsigned f, char *d, size_t n);
int rcgo_ring_remove(const char *name, int force, char *d, size_t n);
int rcgo_ring_close(const char *name, char *d, size_t n);
int rcgo_ring_get_stats(const char *name, struct ringcast_ring_stats *st,
			char *d, size_t n);
int rcgo_pub_attach(const char *name, unsigned f, struct ringcast_pub **p,
		    char *d, size_t n);
int rcgo_sub_attach(const char *name, const struct ringcast_sub_opts *o,
		    struct ringcast_sub **s, uint64_t *first, char *d,
		    size_t n);

int rcgo_sub_next_batch(struct ringcast_sub *s, struct ringcast_event *evs,
			unsigned int max, void *buf, size_t size,
			int64_t timeout_ns);

#endif
