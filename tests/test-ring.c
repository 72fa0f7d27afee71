// SPDX-License-Identifier: MIT
/*
 * Rings: names, creation and geometry, modes, stat, list, remove, rings in
 * a directory (DIR/NAME), and what attachers make of corrupted, truncated,
 * foreign and half-created objects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

/* ----------------------------------------------------------------------
 * Names
 */

START_TEST(test_name_invalid)
{
	static const char *const bad[] = {
		"",    "a/",   "/",	".hidden", ".",
		"..",  "x/..", "/.a",	"x/a b",   "a b",
		"a*b", "a:b",  "a\nb",	"a\\b",	   "\xc3\xa9",
		"a%b", "a+b",  "tab\t", "q\"uote",
	};
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub = NULL;
	struct ringcast_pub *pub = NULL;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ringcast_ring_create(bad[i], NULL, 0) == -EINVAL,
			      "create '%s'", bad[i]);
		ck_assert_msg(ringcast_ring_get_stats(bad[i], &info) == -EINVAL,
			      "stat '%s'", bad[i]);
		ck_assert_msg(ringcast_ring_remove(bad[i]) == -EINVAL,
			      "remove '%s'", bad[i]);
		ck_assert_msg(ringcast_ring_close(bad[i]) == -EINVAL,
			      "close '%s'", bad[i]);
		ck_assert_msg(ringcast_sub_attach(bad[i], NULL, &sub, NULL) ==
				      -EINVAL,
			      "sub_attach '%s'", bad[i]);
		ck_assert_msg(ringcast_pub_attach(bad[i], 0, &pub) == -EINVAL,
			      "pub_attach '%s'", bad[i]);
	}
	ck_assert_int_eq(ringcast_ring_create(NULL, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_name_length)
{
	char name[RINGCAST_NAME_MAX + 2];
	const char *base = t_name("len");
	struct ringcast_ring_stats info;
	size_t n = strlen(base);

	ck_assert_uint_lt(n, RINGCAST_NAME_MAX);
	memcpy(name, base, n);
	memset(name + n, 'x', RINGCAST_NAME_MAX + 1 - n);
	name[RINGCAST_NAME_MAX + 1] = '\0';

	/* 201 characters. */
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), -EINVAL);
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -EINVAL);

	/* 200 characters: fine; the registry removes it by its prefix. */
	name[RINGCAST_NAME_MAX] = '\0';
	ck_assert_int_eq(ringcast_ring_create(name, NULL, RINGCAST_CREATE_EXCL),
			 0);
	t_stat(name, &info);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_name_charset)
{
	char name[RINGCAST_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s.AZaz09_-.x", t_name("cs"));
	ck_assert_int_eq(ringcast_ring_create(name, NULL, RINGCAST_CREATE_EXCL),
			 0);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Creation and geometry
 */

static uint64_t file_size(const char *name)
{
	char path[512];
	struct stat st;

	t_shm_path(path, sizeof(path), name);
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static unsigned int file_mode(const char *name)
{
	char path[512];
	struct stat st;

	t_shm_path(path, sizeof(path), name);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

START_TEST(test_create_defaults)
{
	struct ringcast_ring_opts zero = { 0 };
	const char *a = t_name("defaults-null");
	const char *b = t_name("defaults-zero");
	struct ringcast_ring_stats info, info2;

	ck_assert_int_eq(ringcast_ring_create(a, NULL, RINGCAST_CREATE_EXCL),
			 0);
	ck_assert_int_eq(ringcast_ring_create(b, &zero, RINGCAST_CREATE_EXCL),
			 0);
	t_stat(a, &info);
	ck_assert_uint_eq(info.abi_version, RC_ABI_VERSION);
	ck_assert_uint_eq(info.slots, RINGCAST_DEFAULT_SLOTS);
	ck_assert_uint_eq(info.slot_size, RINGCAST_DEFAULT_SLOT_SIZE);
	ck_assert_uint_eq(info.capacity,
			  RINGCAST_DEFAULT_SLOT_SIZE - RINGCAST_SLOT_HEADER);
	ck_assert_uint_eq(info.max_subscribers,
			  RINGCAST_DEFAULT_MAX_SUBSCRIBERS);
	ck_assert_uint_eq(info.mode, 0600);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CREATED);
	ck_assert_uint_eq(info.epoch, 0);
	ck_assert_uint_eq(info.head, 0);
	ck_assert_uint_eq(info.oldest, 0);
	ck_assert_uint_eq(info.published, 0);
	ck_assert_uint_eq(info.refused, 0);
	ck_assert_int_eq(info.publisher_pid, 0);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_uint_ge(info.size,
			  RC_HDR_SIZE +
				  (uint64_t)RC_ENTRY_SIZE *
					  RINGCAST_DEFAULT_MAX_SUBSCRIBERS +
				  (uint64_t)RINGCAST_DEFAULT_SLOTS *
					  RINGCAST_DEFAULT_SLOT_SIZE);
	ck_assert_uint_eq(info.size, file_size(a));
	ck_assert_uint_eq(file_mode(a), 0600);

	t_stat(b, &info2);
	ck_assert_uint_eq(info2.slots, info.slots);
	ck_assert_uint_eq(info2.slot_size, info.slot_size);
	ck_assert_uint_eq(info2.max_subscribers, info.max_subscribers);
	ck_assert_uint_eq(info2.size, info.size);
	t_assert_clean();
}
END_TEST

struct geom_case {
	uint32_t slots, slot_size, max_subscribers;
	int expect;
};

static const struct geom_case geom_cases[] = {
	{ 3, 64, 1, -EINVAL },
	{ 1, 64, 1, -EINVAL },
	{ 6, 64, 1, -EINVAL },
	{ 1u << 25, 64, 1, -EINVAL },
	{ 0xffffffffu, 64, 1, -EINVAL },
	{ 2, 63, 1, -EINVAL },
	{ 2, 32, 1, -EINVAL },
	{ 2, 1, 1, -EINVAL },
	{ 2, 96, 1, -EINVAL },
	{ 2, 100, 1, -EINVAL },
	{ 2, 32u << 20, 1, -EINVAL },
	{ 2, (16u << 20) + 64, 1, -EINVAL },
	{ 2, 64, 4097, -EINVAL },
	{ 2, 64, 0xffffffffu, -EINVAL },
	{ 2, 64, 1, 0 },
	{ 2, 64, 4096, 0 },
	{ 4, 128, 7, 0 },
	{ 2, 16u << 20, 1, 0 },
	{ 1024, 4096, 2, 0 },
};

START_TEST(test_create_geometry)
{
	const struct geom_case *c = &geom_cases[_i];
	struct ringcast_ring_opts o = {
		.slots = c->slots,
		.slot_size = c->slot_size,
		.max_subscribers = c->max_subscribers,
	};
	const char *name = t_name("geom");
	struct ringcast_ring_stats info;
	int ret;

	ret = ringcast_ring_create(name, &o, RINGCAST_CREATE_EXCL);
	ck_assert_msg(ret == c->expect, "slots %u slot_size %u subs %u: %s",
		      c->slots, c->slot_size, c->max_subscribers,
		      ringcast_strerror(ret));
	if (ret == -EINVAL) {
		ck_assert_msg(ringcast_errdetail()[0] != '\0',
			      "no errdetail for a bad geometry");
		char file[512];

		ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -ENOENT);
		snprintf(file, sizeof(file), "ringcast.%s", name);
		ck_assert(!t_shm_exists(file));
	} else {
		t_stat(name, &info);
		ck_assert_uint_eq(info.slots, c->slots);
		ck_assert_uint_eq(info.slot_size, c->slot_size);
		ck_assert_uint_eq(info.capacity,
				  c->slot_size - RINGCAST_SLOT_HEADER);
		ck_assert_uint_eq(info.max_subscribers, c->max_subscribers);
		ck_assert_uint_ge(info.size, (uint64_t)c->slots * c->slot_size);
		ck_assert_uint_eq(info.size, file_size(name));
	}
	t_assert_clean();
}
END_TEST

START_TEST(test_create_max_subscribers_default)
{
	struct ringcast_ring_opts o = { .slots = 8, .slot_size = 64 };
	const char *name = t_name("subs0");
	struct ringcast_ring_stats info;

	ck_assert_int_eq(ringcast_ring_create(name, &o, 0), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.max_subscribers,
			  RINGCAST_DEFAULT_MAX_SUBSCRIBERS);
	t_assert_clean();
}
END_TEST

START_TEST(test_create_exists)
{
	struct ringcast_ring_opts o = { .slots = 16, .slot_size = 128 };
	struct ringcast_ring_opts other = o;
	const char *name = t_name("exists");

	ck_assert_int_eq(ringcast_ring_create(name, &o, RINGCAST_CREATE_EXCL),
			 0);
	ck_assert_int_eq(ringcast_ring_create(name, &o, RINGCAST_CREATE_EXCL),
			 -EEXIST);
	/* Not exclusive: the same geometry is accepted... */
	ck_assert_int_eq(ringcast_ring_create(name, &o, 0), 1);
	/* ...a different one is another ring of that name. */
	other.slots = 32;
	ck_assert_int_eq(ringcast_ring_create(name, &other, 0), -EEXIST);
	other = o;
	other.slot_size = 256;
	ck_assert_int_eq(ringcast_ring_create(name, &other, 0), -EEXIST);
	other = o;
	other.max_subscribers = 3;
	ck_assert_int_eq(ringcast_ring_create(name, &other, 0), -EEXIST);
	t_assert_clean();
}
END_TEST

START_TEST(test_create_exists_defaults)
{
	const char *name = t_name("exists-def");

	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), 0);
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), 1);
	ck_assert_int_eq(ringcast_ring_create(name, NULL, RINGCAST_CREATE_EXCL),
			 -EEXIST);
	t_assert_clean();
}
END_TEST

START_TEST(test_create_mode_umask)
{
	struct ringcast_ring_opts o = { .slots = 2, .slot_size = 64 };
	const char *a = t_name("umask0");
	const char *b = t_name("umask077");
	const char *c = t_name("umask022");
	struct ringcast_ring_stats info;
	mode_t old;

	old = umask(0);
	ck_assert_int_eq(ringcast_ring_create(a, &o, RINGCAST_CREATE_EXCL), 0);
	ck_assert_uint_eq(file_mode(a), 0600);
	t_stat(a, &info);
	ck_assert_uint_eq(info.mode, 0600);

	umask(077);
	o.mode = 0644;
	ck_assert_int_eq(ringcast_ring_create(b, &o, RINGCAST_CREATE_EXCL), 0);
	ck_assert_uint_eq(file_mode(b), 0644);
	t_stat(b, &info);
	ck_assert_uint_eq(info.mode, 0644);

	umask(022);
	o.mode = 0660;
	ck_assert_int_eq(ringcast_ring_create(c, &o, RINGCAST_CREATE_EXCL), 0);
	ck_assert_uint_eq(file_mode(c), 0660);
	umask(old);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * stat, list, remove
 */

START_TEST(test_stat_live)
{
	const char *name = t_ring("stat", 16, 128);
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	unsigned char buf[T_PAYLOAD_LEN];
	uint32_t registered;
	uint64_t i;

	pub = t_pub(name, 0);
	sub = t_sub(name, NULL, NULL);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_int_eq(info.publisher_pid, getpid());
	ck_assert_int_eq(info.publisher_alive, 1);
	ck_assert_uint_eq(info.capacity, 128 - RINGCAST_SLOT_HEADER);
	registered = info.subscribers;

	for (i = 0; i < 20; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	ck_assert_uint_eq(ringcast_pub_head(pub), 20);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 20);
	ck_assert_uint_eq(info.published, 20);
	ck_assert_uint_le(info.oldest, info.head);
	ck_assert_uint_le(info.head - info.oldest, 16);
	ck_assert_uint_ge(info.oldest, 4);
	ck_assert_uint_eq(info.epoch_start, 0);
	ck_assert_uint_eq(info.refused, 0);

	ringcast_sub_detach(sub);
	t_stat(name, &info);
	ck_assert_uint_eq(info.subscribers, 0);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, buf, sizeof(buf)), 0);

	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(info.head, 21);
	/* The subscriber (with write access) was in the table. */
	ck_assert_uint_eq(registered, 1);
	t_assert_clean();
}
END_TEST

struct list_ctx {
	const char *want;
	int found;
	int calls;
};

static int list_cb(const char *name, void *arg)
{
	struct list_ctx *ctx = arg;

	ctx->calls++;
	if (!strcmp(name, ctx->want))
		ctx->found++;
	/* Never the lock objects, never the prefix. */
	if (!strncmp(name, "ringcast", 8) || !strncmp(name, "lock.", 5))
		ctx->found += 1000;
	return 0;
}

static int list_stop_cb(const char *name, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return 42;
}

START_TEST(test_list)
{
	const char *name = t_ring("list", 2, 64);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct list_ctx ctx = { .want = name };
	int calls = 0;

	ck_assert_int_eq(ringcast_ring_list(list_cb, &ctx), 0);
	ck_assert_int_eq(ctx.found, 1);
	ck_assert_int_ge(ctx.calls, 1);

	ck_assert_int_eq(ringcast_ring_list(list_stop_cb, &calls), 42);
	ck_assert_int_eq(calls, 1);

	ringcast_pub_close(pub);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ctx.found = 0;
	ck_assert_int_eq(ringcast_ring_list(list_cb, &ctx), 0);
	ck_assert_int_eq(ctx.found, 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_remove)
{
	const char *name = t_ring("remove", 8, 64);
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	char file[512];

	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	snprintf(file, sizeof(file), "ringcast.%s", name);
	ck_assert(t_shm_exists(file));
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ck_assert(!t_shm_exists(file));
	snprintf(file, sizeof(file), "ringcast-lock.%s", name);
	ck_assert(!t_shm_exists(file));

	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -ENOENT);
	ck_assert_int_eq(ringcast_ring_remove(name), -ENOENT);
	ck_assert_int_eq(ringcast_ring_remove_force(name), -ENOENT);
	ck_assert_int_eq(ringcast_sub_attach(name, NULL, &sub, NULL), -ENOENT);
	ck_assert_int_eq(ringcast_ring_close(name), -ENOENT);
	ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub), -ENOENT);

	/* The name is free again. */
	ck_assert_int_eq(ringcast_ring_create(name, NULL, RINGCAST_CREATE_EXCL),
			 0);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	t_assert_clean();
}
END_TEST

START_TEST(test_strerror)
{
	static const int codes[] = {
		EINVAL,	    ENOENT,    EEXIST,	  EACCES, ENOSPC, EPROTO,
		EBADMSG,    EMSGSIZE,  EBUSY,	  EUSERS, EAGAIN, ETIMEDOUT,
		EINTR,	    ECANCELED, EOVERFLOW, ESTALE, ERANGE, EPIPE,
		EOWNERDEAD, ESHUTDOWN, EDEADLK,	  ECHILD, EIDRM,
	};
	unsigned int i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = ringcast_strerror(-codes[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_gt(strlen(s), 0);
		ck_assert_str_eq(s, ringcast_strerror(codes[i]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, ringcast_strerror(-codes[j]));
	}
	ck_assert_ptr_nonnull(ringcast_strerror(-12345));
	ck_assert_ptr_nonnull(ringcast_strerror(0));
}
END_TEST

/* ----------------------------------------------------------------------
 * Corruption
 */

static const struct ringcast_ring_opts small = {
	.slots = 16,
	.slot_size = 64,
	.max_subscribers = 4,
};

/* A small ring with a few events in it and no publisher attached. */
static const char *filled_ring(const char *tag)
{
	const char *name = t_name(tag);
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_pub *pub;
	uint64_t i;

	ck_assert_int_eq(
		ringcast_ring_create(name, &small, RINGCAST_CREATE_EXCL), 0);
	pub = t_pub(name, 0);
	for (i = 0; i < 5; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	return name;
}

/* Every way in reports @code, with a reason, and never crashes. */
static void expect_rejected(const char *name, int code, bool try_create)
{
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub = NULL;
	struct ringcast_pub *pub = NULL;
	struct ringcast_mon *mon = NULL;
	int ret;

	ret = ringcast_sub_attach(name, NULL, &sub, NULL);
	ck_assert_msg(ret == code, "sub_attach: %s, expected %s",
		      ringcast_strerror(ret), ringcast_strerror(code));
	ck_assert_msg(ringcast_errdetail()[0] != '\0',
		      "sub_attach: no errdetail");

	ret = ringcast_ring_get_stats(name, &info);
	ck_assert_msg(ret == code, "stat: %s, expected %s",
		      ringcast_strerror(ret), ringcast_strerror(code));
	ck_assert_msg(ringcast_errdetail()[0] != '\0', "stat: no errdetail");

	ret = ringcast_mon_open(name, &mon);
	ck_assert_msg(ret == code, "mon_open: %s, expected %s",
		      ringcast_strerror(ret), ringcast_strerror(code));
	ck_assert_ptr_null(mon);

	ret = ringcast_pub_attach(name, RINGCAST_PUB_REOPEN, &pub);
	ck_assert_msg(ret == code, "pub_attach: %s, expected %s",
		      ringcast_strerror(ret), ringcast_strerror(code));
	ck_assert_msg(ringcast_errdetail()[0] != '\0',
		      "pub_attach: no errdetail");

	if (try_create) {
		/* Never reused, even when the geometry asked for matches. */
		ret = ringcast_ring_create(name, &small, 0);
		ck_assert_msg(ret == code, "create: %s, expected %s",
			      ringcast_strerror(ret), ringcast_strerror(code));
		ret = ringcast_ring_create(name, &small, RINGCAST_CREATE_EXCL);
		ck_assert_int_eq(ret, -EEXIST);
	}
}

START_TEST(test_corrupt_magic)
{
	const char *name = filled_ring("bad-magic");
	uint64_t magic = 0x0123456789abcdefull;

	t_poke(name, offsetof(struct rc_hdr, magic), &magic, sizeof(magic));
	expect_rejected(name, -EPROTO, true);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_magic_one_byte)
{
	const char *name = filled_ring("bad-magic1");
	unsigned char c;

	t_peek(name, 7, &c, 1);
	c ^= 0x20;
	t_poke(name, 7, &c, 1);
	expect_rejected(name, -EPROTO, true);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_version)
{
	const char *name = filled_ring("bad-version");
	uint32_t v = RC_ABI_VERSION + 1;

	t_poke(name, offsetof(struct rc_hdr, abi_version), &v, sizeof(v));
	expect_rejected(name, -EPROTO, true);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_geometry)
{
	const char *name = filled_ring("bad-geom");
	uint32_t slots = 8; /* still a power of two, but not what it was */

	t_poke(name, offsetof(struct rc_hdr, slot_count), &slots,
	       sizeof(slots));
	expect_rejected(name, -EBADMSG, false);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_checksummed_byte)
{
	const char *name = filled_ring("bad-created");
	unsigned char c;
	off_t off = offsetof(struct rc_hdr, created_ns) + 3;

	t_peek(name, off, &c, 1);
	c ^= 0x01;
	t_poke(name, off, &c, 1);
	expect_rejected(name, -EBADMSG, true);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_checksum)
{
	const char *name = filled_ring("bad-sum");
	uint64_t sum;

	t_peek(name, offsetof(struct rc_hdr, checksum), &sum, sizeof(sum));
	sum ^= 1ull << 40;
	t_poke(name, offsetof(struct rc_hdr, checksum), &sum, sizeof(sum));
	expect_rejected(name, -EBADMSG, true);
	t_assert_clean();
}
END_TEST

/* A header with a correct checksum but an impossible geometry. */
START_TEST(test_corrupt_geometry_resummed)
{
	const char *name = filled_ring("bad-geom-sum");
	struct rc_hdr h;

	t_peek(name, 0, &h, sizeof(h));
	h.slot_size = 100;
	h.checksum = rc_checksum(&h);
	t_poke(name, 0, &h, sizeof(h));
	expect_rejected(name, -EBADMSG, false);

	t_peek(name, 0, &h, sizeof(h));
	h.slot_size = 64;
	h.slot_count = 1u << 20; /* bigger than the object */
	h.checksum = rc_checksum(&h);
	t_poke(name, 0, &h, sizeof(h));
	expect_rejected(name, -EBADMSG, false);

	t_peek(name, 0, &h, sizeof(h));
	h.slot_count = 16;
	h.slots_off = 1; /* misaligned, overlapping the header */
	h.checksum = rc_checksum(&h);
	t_poke(name, 0, &h, sizeof(h));
	expect_rejected(name, -EBADMSG, false);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_state)
{
	const char *name = filled_ring("bad-state");
	unsigned char state = 9;

	/* The low byte of the (little-endian) life word is the state. */
	t_poke(name, offsetof(struct rc_hdr, life), &state, 1);
	expect_rejected(name, -EBADMSG, false);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_truncated)
{
	const char *name = filled_ring("truncated");
	char path[512];
	struct stat st;
	int fd;

	t_shm_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(ftruncate(fd, st.st_size / 2), 0);
	close(fd);
	expect_rejected(name, -EBADMSG, true);

	/* Shorter than the header. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 200), 0);
	close(fd);
	expect_rejected(name, -EBADMSG, false);
	t_assert_clean();
}
END_TEST

static const char *foreign_file(const char *tag, const char *text, size_t len)
{
	const char *name = t_name(tag);
	char path[512];
	int fd;

	t_shm_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	while (len) {
		size_t n = strlen(text) < len ? strlen(text) : len;

		ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
		len -= n;
	}
	close(fd);
	return name;
}

START_TEST(test_corrupt_foreign)
{
	static const char text[] =
		"This is a text file that somebody put in /dev/shm.\n";
	const char *a = foreign_file("foreign-short", text, sizeof(text) - 1);
	const char *b = foreign_file("foreign-long", text, 64 * 1024);

	expect_rejected(a, -EPROTO, true);
	expect_rejected(b, -EPROTO, true);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_empty)
{
	const char *name = foreign_file("empty", "", 0);

	/* Still being created: not there yet, never corrupt. */
	expect_rejected(name, -ENOENT, false);
	t_assert_clean();
}
END_TEST

START_TEST(test_corrupt_incomplete)
{
	const char *name = filled_ring("incomplete");
	uint64_t zero = 0;

	/* The magic is stored last: without it the header is not done. */
	t_poke(name, offsetof(struct rc_hdr, magic), &zero, sizeof(zero));
	expect_rejected(name, -ENOENT, false);
	t_assert_clean();
}
END_TEST

/*
 * Random damage.  Over the immutable part (bytes 0-127) it must be found
 * at attach time; over the mutable part (the life, head and wake lines and
 * the subscriber table) attach may succeed, but nothing may crash or hang.
 */
static const char *random_ring;

static bool ok_code(int ret, const int *codes, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ret == codes[i])
			return true;
	return false;
}

static int random_damage_child(void *arg)
{
	static const int next_ok[] = { 0,	 -EAGAIN, -EOVERFLOW,
				       -EBADMSG, -EPIPE,  -EOWNERDEAD };
	static const int attach_ok[] = { 0, -EBADMSG, -EPROTO };
	static const int pub_ok[] = { 0, -EBADMSG, -EPROTO, -EBUSY, -EPIPE };
	bool immutable = *(bool *)arg;
	struct ringcast_ring_stats info;
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	struct ringcast_pub *pub = NULL;
	int ret, i;

	ret = ringcast_sub_attach(random_ring, &so, &sub, NULL);
	if (immutable) {
		CHILD_ASSERT(ret == -EBADMSG || ret == -EPROTO);
		CHILD_ASSERT(ringcast_errdetail()[0] != '\0');
		ret = ringcast_ring_get_stats(random_ring, &info);
		CHILD_ASSERT(ret == -EBADMSG || ret == -EPROTO);
		return 0;
	}
	CHILD_ASSERT(ok_code(ret, attach_ok, 3));
	if (ret == 0) {
		for (i = 0; i < 40; i++) {
			ret = ringcast_sub_next(sub, &ev, 0);
			CHILD_ASSERT(ok_code(ret, next_ok, 6));
			if (ret == 0)
				CHILD_ASSERT(ev.len <= 32);
			if (ret == -EAGAIN || ret == -EPIPE ||
			    ret == -EOWNERDEAD)
				break;
		}
		ringcast_sub_detach(sub);
	}
	ringcast_ring_get_stats(random_ring, &info);
	ret = ringcast_pub_attach(random_ring, RINGCAST_PUB_REOPEN, &pub);
	CHILD_ASSERT(ok_code(ret, pub_ok, 5));
	if (ret == 0) {
		ringcast_pub_publish(pub, 1, "x", 1);
		ringcast_pub_close(pub);
	}
	return 0;
}

START_TEST(test_corrupt_random)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(_i + 1) * 7919;
	unsigned char buf[256];
	int round;

	for (round = 0; round < 16; round++) {
		bool immutable = round % 2 == 0;
		size_t lo = immutable ? 0 : 128;
		size_t hi = immutable ? 128 : RC_HDR_SIZE + 4 * RC_ENTRY_SIZE;
		size_t off = lo + t_rand(&rng) % (hi - lo);
		size_t len = 1 + t_rand(&rng) % 24, i;
		int status;
		pid_t pid;
		char why[64];

		if (off + len > hi)
			len = hi - off;
		random_ring = filled_ring("random");
		t_peek(random_ring, (off_t)off, buf, len);
		for (i = 0; i < len; i++)
			buf[i] ^= (unsigned char)(1 + t_rand(&rng) % 255);
		t_poke(random_ring, (off_t)off, buf, len);

		pid = t_fork(random_damage_child, &immutable);
		status = t_wait(pid, 20 * 1000);
		ck_assert_msg(status != -1 && WIFEXITED(status) &&
				      WEXITSTATUS(status) == 0,
			      "damage %zu bytes at %zu: child %s", len, off,
			      t_describe_status(status, why, sizeof(why)));
		ringcast_ring_remove(random_ring);
	}
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Corrupted slots
 */

static uint64_t slot_offset(const char *name, uint64_t index)
{
	uint64_t off;
	uint32_t size;

	t_peek(name, offsetof(struct rc_hdr, slots_off), &off, sizeof(off));
	t_peek(name, offsetof(struct rc_hdr, slot_size), &size, sizeof(size));
	return off + index * size;
}

static void expect_slot1_bad(const char *name)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_event ev;
	struct ringcast_sub *sub, *sub2;
	uint64_t first;

	sub = t_sub(name, &so, &first);
	ck_assert_uint_eq(first, 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), 0);
	ck_assert_uint_eq(ev.seq, 0);
	ck_assert(t_payload_ok(&ev));
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EBADMSG);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 1, &ev), -EBADMSG);
	ck_assert_int_eq(ringcast_sub_read_at(sub, 2, &ev), 0);
	ck_assert(t_payload_ok(&ev));
	ringcast_sub_detach(sub);

	so.from = RINGCAST_FROM_SEQ;
	so.seq = 1;
	sub2 = t_sub(name, &so, NULL);
	ck_assert_int_eq(ringcast_sub_borrow(sub2, &ev, 0), -EBADMSG);
	ringcast_sub_detach(sub2);
}

START_TEST(test_corrupt_slot_stamp)
{
	const char *name = filled_ring("slot-stamp");
	uint64_t off = slot_offset(name, 1);
	/* Event 2 cannot be in slot 1 of 16 (and it is below the head). */
	uint64_t stamp = 2 + 1;

	t_poke(name, (off_t)(off + offsetof(struct rc_slot, stamp)), &stamp,
	       sizeof(stamp));
	expect_slot1_bad(name);
	t_assert_clean();
}
END_TEST

static const uint32_t bad_lens[] = { 64 - 32 + 1, 1000, 0xffffffffu };

START_TEST(test_corrupt_slot_len)
{
	const char *name = filled_ring("slot-len");
	uint64_t off = slot_offset(name, 1);
	uint32_t len = bad_lens[_i];

	t_poke(name, (off_t)(off + offsetof(struct rc_slot, len)), &len,
	       sizeof(len));
	expect_slot1_bad(name);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Creation by several processes at once, and a creator that died
 */

/* 64 MiB of slots: reserving them takes longer than a few retries. */
static const struct ringcast_ring_opts big = { .slots = 4096,
					       .slot_size = 16384 };

struct creator {
	const char *name;
	struct t_gate go;
	int *result;
};

static int create_big(void *arg)
{
	struct creator *c = arg;

	CHILD_ASSERT_EQ(t_gate_wait(&c->go, 1, T_CHILD_MS), 0);
	*c->result = ringcast_ring_create(c->name, &big, 0);
	if (*c->result < 0)
		fprintf(stderr, "create: %s (%s)\n",
			ringcast_strerror(*c->result), ringcast_errdetail());
	return 0;
}

START_TEST(test_create_concurrent_big)
{
	int *res = t_shared_alloc(2 * sizeof(int));
	struct ringcast_ring_stats info;
	int round, i;

	for (round = 0; round < 5; round++) {
		struct creator c[2];
		pid_t pid[2];

		for (i = 0; i < 2; i++) {
			c[i].name = i ? c[0].name : t_name("big-race");
			c[i].result = &res[i];
			res[i] = 99;
			t_gate_init(&c[i].go);
			pid[i] = t_fork(create_big, &c[i]);
		}
		/* Both are ready and blocked on their gate: go. */
		t_gate_post(&c[0].go);
		t_gate_post(&c[1].go);
		for (i = 0; i < 2; i++) {
			t_child_ok(pid[i]);
			t_gate_close(&c[i].go);
		}
		/* Both succeed: one created it, the other found it. */
		ck_assert_msg(res[0] >= 0 && res[1] >= 0,
			      "round %d: create gave %d and %d (%s, %s)", round,
			      res[0], res[1], ringcast_strerror(res[0]),
			      ringcast_strerror(res[1]));
		ck_assert_int_eq(res[0] + res[1], 1);
		t_stat(c[0].name, &info);
		ck_assert_uint_eq(info.slot_size, big.slot_size);
		ck_assert_int_eq(ringcast_ring_remove(c[0].name), 0);
	}
	munmap(res, 2 * sizeof(int));
	t_assert_clean();
}
END_TEST

/* The ring object without its magic, and the lock object: what a creator
 * killed while reserving memory leaves. */
static void half_made(const char *name)
{
	char path[512];
	int fd;

	t_shm_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(path, sizeof(path), "/dev/shm/ringcast-lock.%s", name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

START_TEST(test_create_dead_creator)
{
	const char *a = t_name("dead-creator");
	const char *b = t_name("dead-creator-excl");
	struct ringcast_ring_stats info;

	half_made(a);
	half_made(b);
	ck_assert_int_eq(ringcast_ring_get_stats(a, &info), -ENOENT);
	/* Nobody holds the creator's lock: the leftover goes. */
	ck_assert_int_eq(ringcast_ring_create(a, &small, 0), 0);
	ck_assert_int_eq(ringcast_ring_create(b, &small, RINGCAST_CREATE_EXCL),
			 0);
	t_stat(a, &info);
	ck_assert_uint_eq(info.slots, small.slots);
	t_stat(b, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CREATED);
	t_assert_clean();
}
END_TEST

/* A creator stopped mid-creation: it holds RC_LOCK_CREATE until killed. */
struct stuck_creator {
	const char *name;
	struct t_gate locked;
};

static int hold_create_lock(void *arg)
{
	struct stuck_creator *s = arg;
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_start = RC_LOCK_CREATE,
			    .l_len = 1 };
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/ringcast-lock.%s", s->name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	t_gate_post(&s->locked);
	pause();
	return 0;
}

static int create_waits(void *arg)
{
	int r = ringcast_ring_create(arg, &small, 0);

	if (r)
		fprintf(stderr, "create: %s (%s)\n", ringcast_strerror(r),
			ringcast_errdetail());
	CHILD_ASSERT_EQ(r, 0);
	return 0;
}

START_TEST(test_create_creator_killed)
{
	struct stuck_creator s = { .name = t_name("killed-creator") };
	struct ringcast_ring_stats info;
	pid_t holder, waiter;

	half_made(s.name);
	t_gate_init(&s.locked);
	holder = t_fork(hold_create_lock, &s);
	ck_assert_int_eq(t_gate_wait(&s.locked, 1, T_CHILD_MS), 0);
	/* Being created: an exclusive create fails, a removal is refused. */
	ck_assert_int_eq(ringcast_ring_create(s.name, &small,
					      RINGCAST_CREATE_EXCL),
			 -EEXIST);
	ck_assert_int_eq(ringcast_ring_remove(s.name), -EBUSY);
	/* An open-or-create waits for the creator, which dies. */
	waiter = t_fork(create_waits, (void *)s.name);
	kill(holder, SIGKILL);
	t_child_killed(holder, SIGKILL);
	t_child_ok(waiter);
	t_stat(s.name, &info);
	ck_assert_uint_eq(info.slots, small.slots);
	t_gate_close(&s.locked);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Removal while in use
 */

struct participant {
	const char *name;
	bool multi; /* a publisher of a multi-publisher ring */
	bool sub; /* a registered subscriber, not a publisher */
	struct t_gate ready, release;
};

static int participate(void *arg)
{
	struct participant *p = arg;
	struct ringcast_pub *pub = NULL;
	struct ringcast_sub *sub = NULL;

	if (p->sub)
		CHILD_ASSERT_EQ(ringcast_sub_attach(p->name, NULL, &sub, NULL),
				0);
	else
		CHILD_ASSERT_EQ(ringcast_pub_attach(p->name, 0, &pub), 0);
	t_gate_post(&p->ready);
	CHILD_ASSERT_EQ(t_gate_wait(&p->release, 1, T_CHILD_MS), 0);
	ringcast_pub_detach(pub);
	ringcast_sub_detach(sub);
	return 0;
}

static void remove_refused_while(struct participant *p, const char *what)
{
	char want[128];
	pid_t pid;
	int r;

	t_gate_init(&p->ready);
	t_gate_init(&p->release);
	pid = t_fork(participate, p);
	ck_assert_int_eq(t_gate_wait(&p->ready, 1, T_CHILD_MS), 0);
	r = ringcast_ring_remove(p->name);
	ck_assert_msg(r == -EBUSY, "remove with a live %s: %s", what,
		      ringcast_strerror(r));
	snprintf(want, sizeof(want), "live %s (pid %d)", what, (int)pid);
	ck_assert_msg(strstr(ringcast_errdetail(), want), "detail: '%s'",
		      ringcast_errdetail());
	t_gate_post(&p->release);
	t_child_ok(pid);
	t_gate_close(&p->ready);
	t_gate_close(&p->release);
}

START_TEST(test_remove_busy)
{
	struct participant p = { .name = t_ring("remove-busy", 8, 64) };
	struct participant m = { .name = t_ring_opts("remove-busy-multi",
						     &small,
						     RINGCAST_CREATE_MULTI_PUB),
				 .multi = true };
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub;

	remove_refused_while(&p, "publisher");
	p.sub = true;
	remove_refused_while(&p, "subscriber");
	remove_refused_while(&m, "publisher");
	t_stat(p.name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	/* The caller's own handles count too. */
	pub = t_pub(p.name, 0);
	ck_assert_int_eq(ringcast_ring_remove(p.name), -EBUSY);
	ringcast_pub_detach(pub);
	/* Nobody left: removed. */
	ck_assert_int_eq(ringcast_ring_remove(p.name), 0);
	ck_assert_int_eq(ringcast_ring_remove(m.name), 0);
	ck_assert_int_eq(ringcast_ring_get_stats(p.name, &info), -ENOENT);
	t_assert_clean();
}
END_TEST

/* A subscriber asleep when the ring is removed: woken, drains, -EIDRM. */
static int sleep_until_removed(void *arg)
{
	struct participant *p = arg;
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	int i;

	CHILD_ASSERT_EQ(ringcast_sub_attach(p->name, &o, &sub, NULL), 0);
	for (i = 0; i < 3; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
	}
	t_gate_post(&p->ready);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EIDRM);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_remove_force)
{
	const char *name = t_ring("remove-force", 16, 64);
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST,
					.flags = RINGCAST_SUB_RELIABLE };
	struct participant p = { .name = name };
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	char file[512];
	pid_t sleeper;
	uint64_t i;

	pub = t_pub(name, 0);
	sub = t_sub(name, &so, NULL);
	for (i = 0; i < 3; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	t_gate_init(&p.ready);
	sleeper = t_fork(sleep_until_removed, &p);
	ck_assert_int_eq(t_gate_wait(&p.ready, 1, T_CHILD_MS), 0);

	ck_assert_int_eq(ringcast_ring_remove(name), -EBUSY);
	ck_assert_int_eq(ringcast_ring_remove_force(name), 0);
	snprintf(file, sizeof(file), "ringcast.%s", name);
	ck_assert(!t_shm_exists(file));
	snprintf(file, sizeof(file), "ringcast-lock.%s", name);
	ck_assert(!t_shm_exists(file));

	/* The publisher is told, instead of writing on alone. */
	t_payload(3, buf);
	ck_assert_int_eq(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
			 -EIDRM);
	/* The subscriber reads what came before, then is told. */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert(t_payload_ok(&ev));
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EIDRM);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, 0), -EIDRM);
	t_child_ok(sleeper);
	ck_assert_int_eq(ringcast_pub_close(pub), -EIDRM);
	ringcast_sub_detach(sub);
	t_gate_close(&p.ready);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Monitors
 */

static const struct ringcast_ring_opts mon_opts = {
	.slots = 16,
	.slot_size = 64,
	.max_subscribers = 4,
};

/* One monitor follows publishes and subscribers without opening again. */
START_TEST(test_mon_follows)
{
	const char *name = t_ring_opts("mon-follows", &mon_opts, 0);
	struct ringcast_sub_opts so = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_ring_subscriber si[4];
	struct ringcast_ring_stats st, ref;
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_mon *mon;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	uint64_t i;

	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ck_assert_uint_eq(st.state, RINGCAST_STATE_CREATED);
	ck_assert_uint_eq(st.published, 0);
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, si, 4), 0);

	pub = t_pub(name, 0);
	sub = t_sub(name, &so, NULL);
	for (i = 0; i < 5; i++) {
		t_payload(i, buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	t_stat(name, &ref);
	ck_assert_uint_eq(st.state, RINGCAST_STATE_LIVE);
	ck_assert_uint_eq(st.head, 5);
	ck_assert_uint_eq(st.published, ref.published);
	ck_assert_uint_eq(st.slots, ref.slots);
	ck_assert_uint_eq(st.size, ref.size);
	ck_assert_uint_eq(st.subscribers, 1);
	ck_assert_uint_eq(st.reliable, 1);
	ck_assert_int_eq(st.publisher_pid, getpid());
	ck_assert_int_eq(st.publisher_alive, 1);

	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, si, 4), 1);
	ck_assert_int_eq(si[0].pid, getpid());
	ck_assert_uint_eq(si[0].flags & RINGCAST_SUBSCRIBER_RELIABLE,
			  RINGCAST_SUBSCRIBER_RELIABLE);
	ck_assert_uint_eq(si[0].lag, 5);
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, NULL, 0), 1);

	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ck_assert_uint_eq(st.state, RINGCAST_STATE_CLOSED);
	ck_assert_uint_eq(st.subscribers, 0);
	ringcast_mon_close(mon);
	t_assert_clean();
}
END_TEST

START_TEST(test_mon_bad_args)
{
	const char *name = t_ring_opts("mon-args", &mon_opts, 0);
	struct ringcast_ring_stats st;
	struct ringcast_mon *mon = (struct ringcast_mon *)&st;

	ck_assert_int_eq(ringcast_mon_open(name, NULL), -EINVAL);
	ck_assert_int_eq(ringcast_mon_open("no/", &mon), -EINVAL);
	ck_assert_ptr_null(mon);
	ck_assert_int_eq(ringcast_mon_open(t_name("mon-none"), &mon), -ENOENT);
	ck_assert_int_eq(ringcast_mon_get_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(ringcast_mon_get_subscribers(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, NULL), -EINVAL);
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, NULL, 1), -EINVAL);
	ringcast_mon_close(mon);
	ringcast_mon_close(NULL);
	t_assert_clean();
}
END_TEST

/* A ring removed since (and made again under its name) gives -EIDRM. */
START_TEST(test_mon_removed)
{
	const char *name = t_ring_opts("mon-removed", &mon_opts, 0);
	struct ringcast_ring_stats st;
	char path[RINGCAST_NAME_MAX + 32];
	struct ringcast_mon *mon, *mon2;
	struct ringcast_pub *pub;

	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), -EIDRM);
	ck_assert_msg(ringcast_errdetail()[0] != '\0', "no errdetail");
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, NULL, 0), -EIDRM);
	ck_assert_int_eq(
		ringcast_ring_create(name, &mon_opts, RINGCAST_CREATE_EXCL), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), -EIDRM);
	ringcast_mon_close(mon);

	/* Removed by force while a publisher holds it. */
	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_mon_open(name, &mon2), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ck_assert_uint_eq(st.state, RINGCAST_STATE_LIVE);
	ck_assert_int_eq(ringcast_ring_remove_force(name), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), -EIDRM);
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon2, NULL, 0), -EIDRM);
	ck_assert_int_eq(ringcast_pub_close(pub), -EIDRM);
	ringcast_mon_close(mon);
	ringcast_mon_close(mon2);

	/* Unlinked by other means, its state untouched. */
	ck_assert_int_eq(
		ringcast_ring_create(name, &mon_opts, RINGCAST_CREATE_EXCL), 0);
	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	snprintf(path, sizeof(path), "/ringcast.%s", name);
	ck_assert_int_eq(shm_unlink(path), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), -EIDRM);
	ringcast_mon_close(mon);
	snprintf(path, sizeof(path), "/ringcast-lock.%s", name);
	shm_unlink(path);
	t_assert_clean();
}
END_TEST

/* A header corrupted under an open monitor gives -EBADMSG, no crash. */
START_TEST(test_mon_corrupted)
{
	const char *name = filled_ring("mon-corrupt");
	const char *name2 = filled_ring("mon-corrupt-state");
	off_t off = offsetof(struct rc_hdr, created_ns) + 3;
	struct ringcast_ring_stats st;
	struct ringcast_mon *mon, *mon2;
	unsigned char c, state = 9;

	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ck_assert_uint_eq(st.published, 5);
	t_peek(name, off, &c, 1);
	c ^= 0x01;
	t_poke(name, off, &c, 1);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), -EBADMSG);
	ck_assert_msg(ringcast_errdetail()[0] != '\0', "no errdetail");
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon, NULL, 0), -EBADMSG);
	/* Put back, it is the same ring again. */
	c ^= 0x01;
	t_poke(name, off, &c, 1);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ringcast_mon_close(mon);

	/* The life word, outside the checksummed part. */
	ck_assert_int_eq(ringcast_mon_open(name2, &mon2), 0);
	t_poke(name2, offsetof(struct rc_hdr, life), &state, 1);
	ck_assert_int_eq(ringcast_mon_get_stats(mon2, &st), -EBADMSG);
	ck_assert_int_eq(ringcast_mon_get_subscribers(mon2, NULL, 0), -EBADMSG);
	ringcast_mon_close(mon2);
	t_assert_clean();
}
END_TEST

static int mon_in_child(void *arg)
{
	struct ringcast_mon *mon = arg;
	struct ringcast_ring_stats st;

	CHILD_ASSERT_EQ(ringcast_mon_get_stats(mon, &st), -ECHILD);
	CHILD_ASSERT_EQ(ringcast_mon_get_subscribers(mon, NULL, 0), -ECHILD);
	ringcast_mon_close(mon);
	return 0;
}

START_TEST(test_mon_fork)
{
	const char *name = t_ring_opts("mon-fork", &mon_opts, 0);
	struct ringcast_ring_stats st;
	struct ringcast_mon *mon;

	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	t_child_ok(t_fork(mon_in_child, mon));
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &st), 0);
	ringcast_mon_close(mon);
	t_assert_clean();
}
END_TEST

/* ----------------------------------------------------------------------
 * Ring directories: DIR/NAME
 */

static const char *dir_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && *base ? base : "/tmp";
}

/*
 * A private directory for rings, 0700, under $TMPDIR or /tmp (a disk):
 * ringcast-t-<runner>-..., which dir_cleanup() finds.
 */
static void dir_make(char *dir, size_t size)
{
	snprintf(dir, size, "%s/ringcast-%s-XXXXXX", dir_base(), t_name("dir"));
	ck_assert_msg(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

static int dir_rm_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove a directory of dir_make() and everything in it. */
static void dir_remove(const char *dir)
{
	ck_assert_int_eq(nftw(dir, dir_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* The unchecked teardown: what a failed test left, in the runner. */
static void dir_cleanup(void)
{
	char prefix[64], path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir_base());

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "ringcast-t-%d-", (int)getpid());
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_base(), de->d_name);
		nftw(path, dir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

static bool dir_has(const char *dir, const char *prefix, const char *name)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s%s", dir, prefix, name);
	return lstat(path, &st) == 0;
}

static int dir_list_cb(const char *name, void *arg)
{
	const char **want = arg;

	if (!strcmp(name, want[0]))
		want[1] = name; /* seen */
	else
		want[2] = "other";
	return 0;
}

/*
 * A ring in a private directory: created there with its mode, published,
 * read, listed, stat'ed and removed there, and nothing of it in /dev/shm.
 */
START_TEST(test_dir_ring)
{
	const struct ringcast_ring_opts o = { .slots = 64, .mode = 0640 };
	const char *base = t_name("dir");
	const char *want[3] = { base, NULL, NULL };
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_ring_subscriber si[2];
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_ring_stats info;
	char dir[256], name[512], shm[512];
	struct ringcast_event ev;
	struct ringcast_pub *pub;
	struct ringcast_sub *sub;
	struct ringcast_mon *mon;
	struct stat st;
	uint64_t i, first;

	dir_make(dir, sizeof(dir));
	snprintf(name, sizeof(name), "%s/%s", dir, base);
	ck_assert_int_eq(ringcast_ring_create(name, &o, RINGCAST_CREATE_EXCL),
			 0);
	ck_assert_int_eq(ringcast_ring_create(name, &o, 0), 1);
	ck_assert(dir_has(dir, "ringcast.", base));
	ck_assert(dir_has(dir, "ringcast-lock.", base));
	snprintf(shm, sizeof(shm), "%s/ringcast.%s", dir, base);
	ck_assert_int_eq(stat(shm, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);

	pub = t_pub(name, 0);
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, &first), 0);
	for (i = 0; i < 10; i++) {
		t_payload(i, buf);
		ck_assert_int_eq(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 1);
	}
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert(t_payload_ok(&ev));
	}
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 10);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_int_eq(ringcast_ring_get_subscribers(name, si, 2), 1);
	ck_assert_int_eq(ringcast_mon_open(name, &mon), 0);
	ck_assert_int_eq(ringcast_mon_get_stats(mon, &info), 0);
	ck_assert_uint_eq(info.head, 10);
	ringcast_mon_close(mon);
	ck_assert_int_eq(ringcast_ring_list_dir(dir, dir_list_cb, want), 0);
	ck_assert_ptr_nonnull(want[1]);
	ck_assert_ptr_null(want[2]);
	/* The directory is part of the name: /dev/shm has no such ring. */
	ck_assert(!t_shm_exists(shm + strlen(dir) + 1));
	ck_assert_int_eq(ringcast_ring_get_stats(base, &info), -ENOENT);

	ck_assert_int_eq(ringcast_ring_remove(name), -EBUSY);
	ck_assert_int_eq(ringcast_pub_close(pub), 0);
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EPIPE);
	ringcast_sub_detach(sub);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ck_assert(!dir_has(dir, "ringcast.", base));
	ck_assert(!dir_has(dir, "ringcast-lock.", base));
	ck_assert_int_eq(ringcast_ring_remove(name), -ENOENT);
	want[1] = NULL;
	ck_assert_int_eq(ringcast_ring_list_dir(dir, dir_list_cb, want), 0);
	ck_assert_ptr_null(want[1]);
	ck_assert(!t_shm_exists(shm + strlen(dir) + 1));
	dir_remove(dir);
	t_assert_clean();
}
END_TEST

/* "/dev/shm/NAME" is the ring NAME. */
START_TEST(test_dir_dev_shm)
{
	const char *name = t_ring("dir-shm", 8, 64);
	struct ringcast_ring_stats info;
	char path[300];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	t_stat(path, &info);
	ck_assert_uint_eq(info.slots, 8);
	ck_assert_int_eq(ringcast_ring_close(path), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CLOSED);
	ck_assert_int_eq(ringcast_ring_remove(path), 0);
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -ENOENT);
	t_assert_clean();
}
END_TEST

struct dir_pub {
	const char *name;
	struct t_gate ready;
};

/* Publishes 5 events, says so, and waits to be killed. */
static int dir_publish_and_hang(void *arg)
{
	struct dir_pub *d = arg;
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_pub *pub;
	uint64_t i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(d->name, 0, &pub), 0);
	for (i = 0; i < 5; i++) {
		t_payload(i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	t_gate_post(&d->ready);
	for (;;)
		pause();
	return 1;
}

/*
 * Liveness across processes in a directory: the lease lock of the lock
 * object there shows the publisher alive, and its SIGKILL dead.
 */
START_TEST(test_dir_liveness)
{
	struct ringcast_sub_opts so = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_ring_opts o = { .slots = 16 };
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub *sub;
	char dir[256], name[512];
	struct dir_pub d;
	pid_t pid;
	int i;

	dir_make(dir, sizeof(dir));
	snprintf(name, sizeof(name), "%s/%s", dir, t_name("dir-live"));
	ck_assert_int_eq(ringcast_ring_create(name, &o, 0), 0);
	d.name = name;
	t_gate_init(&d.ready);
	pid = t_fork(dir_publish_and_hang, &d);
	ck_assert_int_eq(t_gate_wait(&d.ready, 1, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_sub_attach(name, &so, &sub, NULL), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_int_eq(ringcast_ring_remove(name), -EBUSY);
	ck_assert_int_eq(ringcast_pub_attach(name, 0,
					     &(struct ringcast_pub *){ NULL }),
			 -EBUSY);
	kill(pid, SIGKILL);
	t_child_killed(pid, SIGKILL);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		ck_assert_uint_eq(ev.seq, (uint64_t)i);
	}
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), -EOWNERDEAD);
	ringcast_sub_detach(sub);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	t_gate_close(&d.ready);
	dir_remove(dir);
	t_assert_clean();
}
END_TEST

static void dir_refused(const char *name, int err, const char *why)
{
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub = NULL;
	struct ringcast_pub *pub = NULL;

	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), err);
	ck_assert_msg(strstr(ringcast_errdetail(), why), "'%s' not in '%s'",
		      why, ringcast_errdetail());
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), err);
	ck_assert_int_eq(ringcast_sub_attach(name, NULL, &sub, NULL), err);
	ck_assert_int_eq(ringcast_pub_attach(name, 0, &pub), err);
	ck_assert_int_eq(ringcast_ring_remove(name), err);
	ck_assert_int_eq(ringcast_ring_remove_force(name), err);
	ck_assert_int_eq(ringcast_ring_close(name), err);
}

static int dir_count_cb(const char *name, void *arg)
{
	(void)name;
	++*(int *)arg;
	return 0;
}

/*
 * Directories that are not safe are refused, and a link is never
 * followed, neither as the directory nor as a ring's object.
 */
START_TEST(test_dir_unsafe)
{
	char top[256], dir[400], name[512], other[700], lnk[600];
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub = NULL;
	const char *base = t_name("dir-unsafe");
	int fd, n;

	dir_make(top, sizeof(top));
	snprintf(dir, sizeof(dir), "%s/d", top);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(name, sizeof(name), "%s/%s", dir, base);

	/* World-writable without the sticky bit, then group-writable. */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	dir_refused(name, -EACCES, "sticky");
	ck_assert_int_eq(ringcast_ring_list_dir(dir, dir_count_cb, &n),
			 -EACCES);
	ck_assert_int_eq(chmod(dir, 0770), 0);
	dir_refused(name, -EACCES, "sticky");
	ck_assert(!dir_has(dir, "ringcast.", base));
	ck_assert(!dir_has(dir, "ringcast-lock.", base));
	/* With the sticky bit, others cannot replace what is ours. */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), 0);
	t_stat(name, &info);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ck_assert_int_eq(chmod(dir, 0700), 0);

	/* A link in place of the directory. */
	snprintf(lnk, sizeof(lnk), "%s/l", top);
	ck_assert_int_eq(symlink(dir, lnk), 0);
	snprintf(other, sizeof(other), "%s/%s", lnk, base);
	dir_refused(other, -EACCES, "symbolic link");
	ck_assert(!dir_has(dir, "ringcast.", base));
	/* A file, and nothing, in place of the directory. */
	snprintf(other, sizeof(other), "%s/f", top);
	fd = open(other, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(other, sizeof(other), "%s/f/%s", top, base);
	dir_refused(other, -EACCES, "not a directory");
	snprintf(other, sizeof(other), "%s/none/%s", top, base);
	dir_refused(other, -ENOENT, "no directory");

	/* A link in place of a ring's object, to a real ring: not followed. */
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), 0);
	snprintf(other, sizeof(other), "%s/ringcast.%s", dir, base);
	snprintf(lnk, sizeof(lnk), "%s/ringcast.lnk", top);
	ck_assert_int_eq(symlink(other, lnk), 0);
	snprintf(other, sizeof(other), "%s/lnk", top);
	ck_assert_int_eq(ringcast_ring_get_stats(other, &info), -EPROTO);
	ck_assert_ptr_nonnull(strstr(ringcast_errdetail(), "symbolic link"));
	ck_assert_int_eq(ringcast_sub_attach(other, NULL, &sub, NULL), -EPROTO);
	ck_assert_int_eq(ringcast_ring_create(other, NULL, 0), -EPROTO);
	ck_assert_int_eq(ringcast_ring_close(other), -EPROTO);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CREATED);
	/* A link in place of a lock object: refused, not followed. */
	snprintf(other, sizeof(other), "%s/ringcast.%s", dir, base);
	snprintf(lnk, sizeof(lnk), "%s/ringcast.lk", top);
	ck_assert_int_eq(link(other, lnk), 0);
	snprintf(lnk, sizeof(lnk), "%s/ringcast-lock.lk", top);
	snprintf(other, sizeof(other), "%s/ringcast-lock.%s", dir, base);
	ck_assert_int_eq(symlink(other, lnk), 0);
	snprintf(other, sizeof(other), "%s/lk", top);
	ck_assert_int_eq(ringcast_pub_attach(other, 0,
					     &(struct ringcast_pub *){ NULL }),
			 -EACCES);
	ck_assert_ptr_nonnull(strstr(ringcast_errdetail(), "symbolic link"));
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	dir_remove(top);
	t_assert_clean();
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc;

	tc = tcase_create("names");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_name_invalid);
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_name_charset);
	suite_add_tcase(s, tc);

	tc = tcase_create("create");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_defaults);
	tcase_add_loop_test(tc, test_create_geometry, 0,
			    sizeof(geom_cases) / sizeof(geom_cases[0]));
	tcase_add_test(tc, test_create_max_subscribers_default);
	tcase_add_test(tc, test_create_exists);
	tcase_add_test(tc, test_create_exists_defaults);
	tcase_add_test(tc, test_create_mode_umask);
	suite_add_tcase(s, tc);

	tc = tcase_create("stat-list-remove");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stat_live);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_create_concurrent_big);
	tcase_add_test(tc, test_create_dead_creator);
	tcase_add_test(tc, test_create_creator_killed);
	tcase_add_test(tc, test_remove_busy);
	tcase_add_test(tc, test_remove_force);
	suite_add_tcase(s, tc);

	tc = tcase_create("monitor");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_mon_follows);
	tcase_add_test(tc, test_mon_bad_args);
	tcase_add_test(tc, test_mon_removed);
	tcase_add_test(tc, test_mon_corrupted);
	tcase_add_test(tc, test_mon_fork);
	suite_add_tcase(s, tc);

	tc = tcase_create("dir");
	t_add_cleanup(tc);
	tcase_add_unchecked_fixture(tc, NULL, dir_cleanup);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_dir_ring);
	tcase_add_test(tc, test_dir_dev_shm);
	tcase_add_test(tc, test_dir_liveness);
	tcase_add_test(tc, test_dir_unsafe);
	suite_add_tcase(s, tc);

	tc = tcase_create("corruption");
	t_add_cleanup(tc);
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	tcase_add_test(tc, test_corrupt_magic);
	tcase_add_test(tc, test_corrupt_magic_one_byte);
	tcase_add_test(tc, test_corrupt_version);
	tcase_add_test(tc, test_corrupt_geometry);
	tcase_add_test(tc, test_corrupt_checksummed_byte);
	tcase_add_test(tc, test_corrupt_checksum);
	tcase_add_test(tc, test_corrupt_geometry_resummed);
	tcase_add_test(tc, test_corrupt_state);
	tcase_add_test(tc, test_corrupt_truncated);
	tcase_add_test(tc, test_corrupt_foreign);
	tcase_add_test(tc, test_corrupt_empty);
	tcase_add_test(tc, test_corrupt_incomplete);
	tcase_add_loop_test(tc, test_corrupt_random, 0, 4);
	tcase_add_test(tc, test_corrupt_slot_stamp);
	tcase_add_loop_test(tc, test_corrupt_slot_len, 0,
			    sizeof(bad_lens) / sizeof(bad_lens[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_main(ring_suite());
}
