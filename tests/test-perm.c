// SPDX-License-Identifier: MIT
/*
 * Permissions and the trust model (SECURITY.md), as root, with forked
 * children that become another user (uid 65534, setresuid() as setpriv
 * does) and the ringcast tool run under setpriv(1):
 *
 *   - a ring's mode is 0600 by default whatever the umask, and exactly the
 *     mode asked for otherwise; its lock object is writable by exactly the
 *     classes that may write the ring, and readable by no one else;
 *   - another user cannot stat, read, publish on, close, remove or list a
 *     0600 ring (-EACCES; the tool says "permission");
 *   - on a 0644 ring (or 0640, in its group) another user is a read-only
 *     lossy reader and nothing more: no table entry, no reliable attach,
 *     no publisher, no close; it cannot open the lock object, and locks it
 *     takes on the ring object itself neither block the lease nor make a
 *     dead publisher or subscriber look alive;
 *   - a write through a borrowed slot pointer faults in the reader;
 *   - creating a ring never reuses an object of another owner of that name
 *     (the ring, or its lock object) nor follows a link;
 *   - nor does publishing: a publisher (root too) refuses a ring of another
 *     owner, even one all may write, unless told to trust that owner
 *     (RINGCAST_PUB_ANY_OWNER, --any-owner);
 *   - a NAME cannot escape its directory, and a ring directory that
 *     another user owns is refused; in a sticky directory all may write,
 *     a link planted in a ring's place is not followed.
 *
 * Not root: "1..0 # SKIP".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "layout.h"

#define OTHER_UID 65534

static char *ring_bin;
static const char *cur_name; /* for children that take no argument */

/* Become @uid / @gid with no supplementary groups, as setpriv does. */
static void become(uid_t uid, gid_t gid)
{
	CHILD_ASSERT(setgroups(0, NULL) == 0);
	CHILD_ASSERT(setresgid(gid, gid, gid) == 0);
	CHILD_ASSERT(setresuid(uid, uid, uid) == 0);
	CHILD_ASSERT(geteuid() == uid);
}

static mode_t shm_mode(const char *file, uid_t *uid)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/%s", file);
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
		      strerror(errno));
	if (uid)
		*uid = st.st_uid;
	return st.st_mode & 07777;
}

static const char *ring_file(const char *name)
{
	static char f[2][300];
	static int i;

	i ^= 1;
	snprintf(f[i], sizeof(f[i]), "ringcast.%s", name);
	return f[i];
}

static const char *lock_file(const char *name)
{
	static char f[2][300];
	static int i;

	i ^= 1;
	snprintf(f[i], sizeof(f[i]), "ringcast-lock.%s", name);
	return f[i];
}

static const char *ring_mode(const char *tag, uint32_t mode)
{
	struct ringcast_ring_opts o = { .slots = 64, .mode = mode };

	return t_ring_opts(tag, &o, 0);
}

static void publish_n(struct ringcast_pub *pub, int n)
{
	unsigned char buf[T_PAYLOAD_LEN];
	int i;

	for (i = 0; i < n; i++) {
		t_payload(ringcast_pub_head(pub), buf);
		ck_assert_int_ge(ringcast_pub_publish(pub, 1, buf, sizeof(buf)),
				 0);
	}
}

/* Run fn(arg) in a child as uid/gid; assert it exits 0. */
struct as_user {
	uid_t uid;
	gid_t gid;
	int (*fn)(const char *name);
	const char *name;
};

static int as_user_child(void *arg)
{
	struct as_user *a = arg;

	become(a->uid, a->gid);
	return a->fn(a->name);
}

static void run_as(uid_t uid, gid_t gid, int (*fn)(const char *),
		   const char *name)
{
	struct as_user a = { uid, gid, fn, name };

	t_child_ok(t_fork(as_user_child, &a));
}

/* ---------------------------------------------------------------- modes */

START_TEST(test_default_mode)
{
	static const mode_t umasks[] = { 0, 022, 077, 0777 };
	struct ringcast_ring_stats info;
	unsigned int i;
	uid_t uid;

	for (i = 0; i < sizeof(umasks) / sizeof(umasks[0]); i++) {
		mode_t old = umask(umasks[i]);
		const char *name = ring_mode("default", 0);
		const char *wide = ring_mode("wide", 0644);
		const char *grp = ring_mode("group", 0664);
		const char *all = ring_mode("all", 0666);

		umask(old);
		ck_assert_uint_eq(shm_mode(ring_file(name), &uid), 0600);
		ck_assert_uint_eq(uid, geteuid());
		ck_assert_uint_eq(shm_mode(lock_file(name), NULL), 0600);
		t_stat(name, &info);
		ck_assert_uint_eq(info.mode, 0600);
		ck_assert_uint_eq(shm_mode(ring_file(wide), NULL), 0644);
		/* Only writers may open the lock object. */
		ck_assert_uint_eq(shm_mode(lock_file(wide), NULL), 0600);
		ck_assert_uint_eq(shm_mode(ring_file(grp), NULL), 0664);
		ck_assert_uint_eq(shm_mode(lock_file(grp), NULL), 0660);
		ck_assert_uint_eq(shm_mode(ring_file(all), NULL), 0666);
		ck_assert_uint_eq(shm_mode(lock_file(all), NULL), 0666);
	}
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------- 0600 */

static int other_0600(const char *name)
{
	struct ringcast_sub_opts rel = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub = NULL;
	struct ringcast_pub *pub = NULL;
	char path[512];

	CHILD_ASSERT_EQ(ringcast_ring_get_stats(name, &info), -EACCES);
	CHILD_ASSERT_EQ(ringcast_sub_attach(name, NULL, &sub, NULL), -EACCES);
	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &rel, &sub, NULL), -EACCES);
	CHILD_ASSERT_EQ(ringcast_pub_attach(name, 0, &pub), -EACCES);
	CHILD_ASSERT_EQ(ringcast_ring_get_subscribers(name, NULL, 0), -EACCES);
	CHILD_ASSERT_EQ(ringcast_ring_close(name), -EACCES);
	CHILD_ASSERT_EQ(ringcast_ring_remove(name), -EACCES);
	snprintf(path, sizeof(path), "/dev/shm/%s", lock_file(name));
	CHILD_ASSERT(open(path, O_RDONLY) < 0 && errno == EACCES);
	return 0;
}

/* Run a shell command; its exit status, and what it wrote to stderr. */
static int run_capture(const char *cmd, char *err, size_t errlen)
{
	FILE *p;
	size_t n;
	int status;

	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(err, 1, errlen - 1, p);
	err[n] = '\0';
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status), "%s: %#x", cmd, status);
	return WEXITSTATUS(status);
}

/* Run the tool under setpriv as the other user; its status and stderr. */
static int tool_as_other(const char *args, char *err, size_t errlen)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=%d --regid=%d --clear-groups %s %s "
		 "</dev/null 2>&1 >/dev/null",
		 OTHER_UID, OTHER_UID, ring_bin, args);
	return run_capture(cmd, err, errlen);
}

START_TEST(test_other_0600)
{
	const char *name = ring_mode("priv", 0);
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub = t_pub(name, 0);
	static const char *const cmds[] = { "sub", "pub", "stat", "close",
					    "rm" };
	char args[512], err[2048];
	unsigned int i;

	publish_n(pub, 3);
	run_as(OTHER_UID, OTHER_UID, other_0600, name);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(args, sizeof(args), "%s %s", cmds[i], name);
		ck_assert_msg(tool_as_other(args, err, sizeof(err)) == 1,
			      "ringcast %s: %s", args, err);
		ck_assert_msg(strstr(err, "permission"), "ringcast %s says: %s",
			      args, err);
	}
	/* Nothing changed. */
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_LIVE);
	ck_assert_uint_eq(info.head, 3);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------- 0644 */

/* The other user on a readable ring: a read-only lossy reader, no more. */
static int other_reader(const char *name)
{
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub_opts rel = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_sub_stats st;
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL, *r = NULL;
	struct ringcast_pub *pub = NULL;
	char path[512];
	int i;

	CHILD_ASSERT_EQ(ringcast_ring_get_stats(name, &info), 0);
	CHILD_ASSERT_EQ(info.head, 5);
	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &o, &sub, NULL), 0);
	ringcast_sub_get_stats(sub, &st);
	CHILD_ASSERT_EQ(st.entry, -1); /* unregistered */
	for (i = 0; i < 5; i++) {
		CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
		CHILD_ASSERT_EQ(ev.seq, i);
		CHILD_ASSERT(t_payload_ok(&ev));
	}
	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &rel, &r, NULL), -EACCES);
	CHILD_ASSERT_EQ(ringcast_pub_attach(name, 0, &pub), -EACCES);
	CHILD_ASSERT_EQ(ringcast_ring_close(name), -EACCES);
	CHILD_ASSERT_EQ(ringcast_ring_remove(name), -EACCES);
	/* Listing works; the reader above was not in the table. */
	CHILD_ASSERT_EQ(ringcast_ring_get_subscribers(name, NULL, 0), 0);
	/* The lock object is not even readable. */
	snprintf(path, sizeof(path), "/dev/shm/%s", lock_file(name));
	CHILD_ASSERT(open(path, O_RDONLY) < 0 && errno == EACCES);
	CHILD_ASSERT(open(path, O_RDWR) < 0 && errno == EACCES);
	ringcast_sub_detach(sub);
	return 0;
}

/*
 * The kernel's SIGSEGV, not a sanitizer's report: AddressSanitizer
 * catches the fault and exits 1 unless the handler is the default one.
 */
static void default_segv(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

static int borrow_and_write(void *arg)
{
	const char *name = arg;
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_event ev;
	struct ringcast_sub *sub;

	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &o, &sub, NULL), 0);
	CHILD_ASSERT_EQ(ringcast_sub_borrow(sub, &ev, T_WAIT_NS), 0);
	/* Must fault: the slots are mapped read-only in a subscriber. */
	default_segv();
	memset((void *)ev.data, 0x5a, 4);
	return 3;
}

static int other_borrow_and_write(void *arg)
{
	become(OTHER_UID, OTHER_UID);
	return borrow_and_write(arg);
}

static void assert_segv(pid_t pid)
{
	int status = t_wait(pid, T_CHILD_MS);
	char buf[64];

	ck_assert_msg(status != -1 && WIFSIGNALED(status) &&
			      WTERMSIG(status) == SIGSEGV,
		      "the write through a borrowed slot: %s",
		      t_describe_status(status, buf, sizeof(buf)));
}

START_TEST(test_borrow_write_faults)
{
	const char *name = ring_mode("borrow", 0644);
	struct ringcast_pub *pub = t_pub(name, 0);
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub = t_sub(name, &o, NULL);
	struct ringcast_event ev;

	publish_n(pub, 1);
	/* A registered (writable) subscriber, and a read-only one. */
	assert_segv(t_fork(borrow_and_write, (void *)name));
	assert_segv(t_fork(other_borrow_and_write, (void *)name));
	ck_assert_int_eq(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	ck_assert(t_payload_ok(&ev));
	ringcast_sub_detach(sub);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* Holds read locks on the whole ring object until its gate closes. */
struct squatter {
	const char *name;
	struct t_gate locked, release;
};

static int lock_ring_object(void *arg)
{
	struct squatter *s = arg;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	char path[512];
	int fd;

	become(OTHER_UID, OTHER_UID);
	t_shm_path(path, sizeof(path), s->name);
	fd = open(path, O_RDONLY);
	CHILD_ASSERT(fd >= 0);
	/* Both kinds of lock, on every byte. */
	CHILD_ASSERT(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	CHILD_ASSERT(fcntl(fd, F_SETLK, &fl) == 0);
	t_gate_post(&s->locked);
	t_gate_wait(&s->release, 1, T_CHILD_MS);
	return 0;
}

static int pub_forever(void *arg)
{
	struct ringcast_pub *pub;
	unsigned char buf[T_PAYLOAD_LEN];
	struct t_gate *g = arg;

	CHILD_ASSERT_EQ(ringcast_pub_attach(cur_name, 0, &pub), 0);
	t_payload(ringcast_pub_head(pub), buf);
	CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >= 0);
	t_gate_post(g);
	pause();
	return 0;
}

static int sub_forever(void *arg)
{
	struct ringcast_sub *sub;
	struct t_gate *g = arg;

	CHILD_ASSERT_EQ(ringcast_sub_attach(cur_name, NULL, &sub, NULL), 0);
	t_gate_post(g);
	pause();
	return 0;
}

START_TEST(test_other_0644)
{
	const char *name = ring_mode("shared", 0644);
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub;
	struct ringcast_pub *pub = t_pub(name, 0);
	struct squatter s = { .name = name };
	struct t_gate g;
	pid_t squat, p, q;
	uid_t uid;
	int i, r;

	publish_n(pub, 5);
	run_as(OTHER_UID, OTHER_UID, other_reader, name);
	/* The lock object: root's, 0600. */
	ck_assert_uint_eq(shm_mode(lock_file(name), &uid), 0600);
	ck_assert_uint_eq(uid, 0);
	ringcast_pub_detach(pub);

	/*
	 * Another user holds every lock it can take on the ring object.  It
	 * must neither block the lease nor keep the dead looking alive.
	 */
	t_gate_init(&s.locked);
	t_gate_init(&s.release);
	squat = t_fork(lock_ring_object, &s);
	ck_assert_int_eq(t_gate_wait(&s.locked, 1, T_CHILD_MS), 0);

	cur_name = name;
	t_gate_init(&g);
	p = t_fork(pub_forever, &g); /* a takeover under the locks */
	q = t_fork(sub_forever, &g);
	ck_assert_int_eq(t_gate_wait(&g, 2, T_CHILD_MS), 0);
	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 1);
	kill(p, SIGKILL);
	kill(q, SIGKILL);
	t_wait(p, T_CHILD_MS);
	t_wait(q, T_CHILD_MS);

	/* Both are seen dead at once: the entry goes, the ring is abandoned. */
	ck_assert_int_eq(ringcast_ring_get_subscribers(name, NULL, 0), 0);
	t_stat(name, &info);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_ABANDONED);
	ck_assert_int_eq(info.publisher_alive, 0);
	ck_assert_uint_eq(info.head, 6);
	sub = t_sub(name, &o, NULL);
	for (i = 0;; i++) {
		r = ringcast_sub_next(sub, &ev, T_WAIT_NS);
		if (r)
			break;
	}
	ck_assert_int_eq(i, 6);
	ck_assert_int_eq(r, -EOWNERDEAD);
	ringcast_sub_detach(sub);
	/* And a new publisher takes the ring over. */
	pub = t_pub(name, 0);
	publish_n(pub, 1);
	ringcast_pub_close(pub);

	t_gate_post(&s.release);
	t_child_ok(squat);
	t_gate_close(&s.locked);
	t_gate_close(&s.release);
	t_gate_close(&g);
	t_assert_clean();
}
END_TEST

/*
 * A publisher that died between its commits and its head store left
 * events only the slots' stamps show.  A reader without write access
 * cannot mark the ring abandoned for everyone: it must still read them at
 * once, then learn of the death, not get one event per liveness probe.
 */
#define DRAIN_N 48

static int publish_and_die(void *arg)
{
	unsigned char buf[T_PAYLOAD_LEN];
	struct ringcast_pub *pub = NULL;
	int i;

	CHILD_ASSERT_EQ(ringcast_pub_attach(arg, 0, &pub), 0);
	for (i = 0; i < DRAIN_N; i++) {
		t_payload((uint64_t)i, buf);
		CHILD_ASSERT(ringcast_pub_publish(pub, 1, buf, sizeof(buf)) >=
			     0);
	}
	return 0; /* no close: the lease goes with the process */
}

static int readonly_drain(const char *name)
{
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub *sub = NULL;
	struct ringcast_event ev;
	uint64_t t0 = t_now_ns();
	int i, r;

	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &o, &sub, NULL), 0);
	for (i = 0; (r = ringcast_sub_next(sub, &ev, T_WAIT_NS)) == 0; i++) {
		CHILD_ASSERT_EQ(ev.seq, i);
		CHILD_ASSERT(t_payload_ok(&ev));
	}
	CHILD_ASSERT_EQ(r, -EOWNERDEAD);
	CHILD_ASSERT_EQ(i, DRAIN_N);
	/* A probe or two (100 ms each), not one per event (4.8 s). */
	CHILD_ASSERT(t_now_ns() - t0 < 2000000000ull);
	ringcast_sub_detach(sub);
	return 0;
}

START_TEST(test_readonly_drain_dead)
{
	const char *name = ring_mode("drain", 0644);
	struct rc_hdr *h;
	size_t size;

	t_child_ok(t_fork(publish_and_die, (void *)name));
	/* As if it had died after its commits, before its head store. */
	h = t_map(name, &size);
	ck_assert_uint_eq(atomic_load(&h->head), DRAIN_N);
	atomic_store(&h->head, 0);
	t_unmap(h, size);
	run_as(OTHER_UID, OTHER_UID, readonly_drain, name);
	t_assert_clean();
}
END_TEST

static int group_reader(const char *name)
{
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_sub_opts rel = { .flags = RINGCAST_SUB_RELIABLE };
	struct ringcast_event ev;
	struct ringcast_sub *sub = NULL;
	char path[512];

	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &o, &sub, NULL), 0);
	CHILD_ASSERT_EQ(ringcast_sub_next(sub, &ev, T_WAIT_NS), 0);
	CHILD_ASSERT(t_payload_ok(&ev));
	ringcast_sub_detach(sub);
	CHILD_ASSERT_EQ(ringcast_sub_attach(name, &rel, &sub, NULL), -EACCES);
	snprintf(path, sizeof(path), "/dev/shm/%s", lock_file(name));
	CHILD_ASSERT(open(path, O_RDONLY) < 0 && errno == EACCES);
	return 0;
}

static int not_in_group(const char *name)
{
	struct ringcast_ring_stats info;

	CHILD_ASSERT_EQ(ringcast_ring_get_stats(name, &info), -EACCES);
	return 0;
}

START_TEST(test_0640_group)
{
	const char *name = ring_mode("group", 0640);
	struct ringcast_pub *pub = t_pub(name, 0);

	publish_n(pub, 2);
	run_as(OTHER_UID, getegid(), group_reader, name);
	run_as(OTHER_UID, OTHER_UID, not_in_group, name);
	ringcast_pub_close(pub);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------- squatting */

static int make_foreign_ring(const char *name)
{
	struct ringcast_ring_opts o = { .slots = 64, .mode = 0666 };

	CHILD_ASSERT_EQ(ringcast_ring_create(name, &o, RINGCAST_CREATE_EXCL),
			0);
	return 0;
}

static int make_foreign_garbage(const char *name)
{
	char path[512];
	int fd;

	t_shm_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(fchmod(fd, 0666) == 0);
	CHILD_ASSERT(write(fd, "garbage!", 8) == 8);
	close(fd);
	return 0;
}

static int make_foreign_link(const char *name)
{
	char path[512];

	t_shm_path(path, sizeof(path), name);
	CHILD_ASSERT(symlink("/tmp/ringcast-perm-target", path) == 0);
	return 0;
}

START_TEST(test_no_reuse_foreign)
{
	struct ringcast_ring_opts o = { .slots = 64 };
	const char *valid = t_name("foreign");
	const char *garbage = t_name("garbage");
	const char *link = t_name("link");
	char path[512], buf[8];
	uid_t uid;
	int r;

	run_as(OTHER_UID, OTHER_UID, make_foreign_ring, valid);
	ck_assert_int_eq(ringcast_ring_create(valid, &o, RINGCAST_CREATE_EXCL),
			 -EEXIST);
	r = ringcast_ring_create(valid, &o, 0);
	ck_assert_msg(r == -EEXIST, "create over another user's ring: %d (%s)",
		      r, ringcast_strerror(r));
	shm_mode(ring_file(valid), &uid);
	ck_assert_uint_eq(uid, OTHER_UID);

	run_as(OTHER_UID, OTHER_UID, make_foreign_garbage, garbage);
	ck_assert_int_eq(ringcast_ring_create(garbage, &o, 0), -EPROTO);
	t_peek(garbage, 0, buf, sizeof(buf));
	ck_assert(!memcmp(buf, "garbage!", 8));
	shm_mode(ring_file(garbage), &uid);
	ck_assert_uint_eq(uid, OTHER_UID);

	run_as(OTHER_UID, OTHER_UID, make_foreign_link, link);
	r = ringcast_ring_create(link, &o, 0);
	ck_assert_msg(r == -EPROTO || r == -EEXIST,
		      "create over a link: %d (%s)", r, ringcast_strerror(r));
	ck_assert(access("/tmp/ringcast-perm-target", F_OK) != 0);

	ringcast_ring_remove(valid);
	ringcast_ring_remove(garbage);
	t_shm_path(path, sizeof(path), link);
	unlink(path);
	t_assert_clean();
}
END_TEST

/* Another user made the lock object first, and holds the lease byte. */
static int squat_lock(void *arg)
{
	struct squatter *s = arg;
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_len = 1 };
	char path[512];
	int fd;

	become(OTHER_UID, OTHER_UID);
	snprintf(path, sizeof(path), "/dev/shm/%s", lock_file(s->name));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(fchmod(fd, 0666) == 0);
	CHILD_ASSERT(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	t_gate_post(&s->locked);
	t_gate_wait(&s->release, 1, T_CHILD_MS);
	return 0;
}

START_TEST(test_lock_object_squat)
{
	struct squatter s = { .name = t_name("lock-squat") };
	struct ringcast_ring_opts o = { .slots = 64 };
	struct ringcast_pub *pub = NULL;
	pid_t pid;
	int r;

	t_gate_init(&s.locked);
	t_gate_init(&s.release);
	pid = t_fork(squat_lock, &s);
	ck_assert_int_eq(t_gate_wait(&s.locked, 1, T_CHILD_MS), 0);
	/*
	 * Either creating refuses the foreign lock object, or nothing the
	 * squatter holds may stand in the way of the ring's owner.
	 */
	r = ringcast_ring_create(s.name, &o, RINGCAST_CREATE_EXCL);
	if (r == 0) {
		r = ringcast_pub_attach(s.name, 0, &pub);
		ck_assert_msg(r == 0,
			      "another user's lock object blocks the lease: "
			      "%s",
			      ringcast_strerror(r));
		ringcast_pub_close(pub);
	} else {
		ck_assert_msg(r == -EEXIST || r == -EACCES, "create: %s",
			      ringcast_strerror(r));
	}
	t_gate_post(&s.release);
	t_child_ok(pid);
	t_gate_close(&s.locked);
	t_gate_close(&s.release);
	ringcast_ring_remove(s.name);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------- owners */

/* Run the tool as root (this process's user); its status and stderr. */
static int tool_as_root(const char *args, const char *input, char *err,
			size_t errlen)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "printf '%s' | %s %s 2>&1 >/dev/null", input,
		 ring_bin, args);
	return run_capture(cmd, err, errlen);
}

/*
 * A ring of another user, writable by all: root's publisher refuses it
 * (whatever it publishes, the owner reads), unless told to trust its
 * owner; so does the tool, naming the owner, unless --any-owner.
 */
START_TEST(test_pub_other_owner)
{
	struct ringcast_mux_opts mo = { .flags = RINGCAST_MUX_POST_ONLY };
	const char *name = t_name("other-owner");
	struct ringcast_ring_stats info;
	struct ringcast_pub *pub = NULL;
	struct ringcast_mux *mux = NULL;
	char args[512], err[2048], want[64];
	int r;

	run_as(OTHER_UID, OTHER_UID, make_foreign_ring, name);
	r = ringcast_pub_attach(name, 0, &pub);
	ck_assert_msg(r == -EACCES, "publisher on uid %d's ring: %s", OTHER_UID,
		      ringcast_strerror(r));
	snprintf(want, sizeof(want), "uid %d", OTHER_UID);
	ck_assert_msg(strstr(ringcast_errdetail(), want), "detail: '%s'",
		      ringcast_errdetail());
	ck_assert_int_eq(ringcast_pub_attach(name, RINGCAST_PUB_REOPEN, &pub),
			 -EACCES);
	ck_assert_int_eq(ringcast_mux_open(name, &mo, &mux), -EACCES);

	snprintf(args, sizeof(args), "pub %s", name);
	r = tool_as_root(args, "secret\\n", err, sizeof(err));
	ck_assert_msg(r == 1, "ringcast %s: exit %d: %s", args, r, err);
	ck_assert_msg(strstr(err, "uid 65534") && strstr(err, "--any-owner"),
		      "ringcast %s says: %s", args, err);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 0);
	ck_assert_uint_eq(info.state, RINGCAST_STATE_CREATED);

	/* Trusted: the library call, the mux, the tool. */
	ck_assert_int_eq(
		ringcast_pub_attach(name, RINGCAST_PUB_ANY_OWNER, &pub), 0);
	publish_n(pub, 1);
	ringcast_pub_detach(pub);
	mo.pub_flags = RINGCAST_PUB_ANY_OWNER;
	ck_assert_int_eq(ringcast_mux_open(name, &mo, &mux), 0);
	ringcast_mux_close(mux);
	snprintf(args, sizeof(args), "pub --any-owner --reopen %s", name);
	r = tool_as_root(args, "secret\\n", err, sizeof(err));
	ck_assert_msg(r == 0, "ringcast %s: exit %d: %s", args, r, err);
	t_stat(name, &info);
	ck_assert_uint_eq(info.head, 2);

	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	t_assert_clean();
}
END_TEST

/* ---------------------------------------------------------------- names */

START_TEST(test_names)
{
	static const char *const bad[] = {
		"../",	   "a/",   "/",	  "..",	 ".",
		".hidden", "",	   "x y", "x\n", "lock/../../etc/pass wd",
		"a\\b",	   "x/..", "/.x",
	};
	struct ringcast_ring_stats info;
	struct ringcast_sub *sub;
	struct ringcast_pub *pub;
	char longname[RINGCAST_NAME_MAX + 2];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *n = bad[i];

		ck_assert_int_eq(ringcast_ring_create(n, NULL, 0), -EINVAL);
		ck_assert_int_eq(ringcast_ring_get_stats(n, &info), -EINVAL);
		ck_assert_int_eq(ringcast_sub_attach(n, NULL, &sub, NULL),
				 -EINVAL);
		ck_assert_int_eq(ringcast_pub_attach(n, 0, &pub), -EINVAL);
		ck_assert_int_eq(ringcast_ring_remove(n), -EINVAL);
		ck_assert_int_eq(ringcast_ring_close(n), -EINVAL);
		ck_assert_int_eq(ringcast_ring_get_subscribers(n, NULL, 0),
				 -EINVAL);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(ringcast_ring_create(longname, NULL, 0), -EINVAL);
	ck_assert(!t_shm_exists("x"));
	t_assert_clean();
}
END_TEST

struct dir_other {
	const char *dir, *name;
};

/* As the other user: a ring in its own directory, and a link planted. */
static int dir_as_other(void *arg)
{
	const struct dir_other *d = arg;

	become(OTHER_UID, OTHER_UID);
	/* Its own directory is one it trusts. */
	CHILD_ASSERT_EQ(ringcast_ring_create(d->name, NULL, 0), 0);
	CHILD_ASSERT_EQ(ringcast_ring_remove(d->name), 0);
	return 0;
}

static int dir_plant_link(void *arg)
{
	const struct dir_other *d = arg;
	char path[600];

	become(OTHER_UID, OTHER_UID);
	snprintf(path, sizeof(path), "%s/ringcast.%s", d->dir, d->name);
	CHILD_ASSERT_EQ(symlink("/dev/null", path), 0);
	return 0;
}

/*
 * Ring directories: one that belongs to another user is refused (that
 * user could replace the ring under us); one of root's, sticky and
 * writable by all, is used, and a link another user plants there in a
 * ring's place is not followed.
 */
START_TEST(test_dir_owner)
{
	const char *base = t_name("dir-owner");
	char dir[256], name[512], path[600];
	struct ringcast_ring_stats info;
	struct dir_other d;
	struct stat st;

	strcpy(dir, "/tmp/ringcast-t-perm-XXXXXX");
	ck_assert(mkdtemp(dir));
	snprintf(name, sizeof(name), "%s/%s", dir, base);
	ck_assert_int_eq(chown(dir, OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), -EACCES);
	ck_assert_ptr_nonnull(strstr(ringcast_errdetail(), "belongs to uid"));
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -EACCES);
	d.dir = dir;
	d.name = name;
	t_child_ok(t_fork(dir_as_other, &d));

	/* Root's, 1777: anyone's rings, and nobody replaces another's. */
	ck_assert_int_eq(chown(dir, 0, 0), 0);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	d.name = base;
	t_child_ok(t_fork(dir_plant_link, &d));
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), -EPROTO);
	ck_assert_int_eq(ringcast_ring_get_stats(name, &info), -EPROTO);
	ck_assert_int_eq(lstat("/dev/null", &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	snprintf(path, sizeof(path), "%s/ringcast.%s", dir, base);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(ringcast_ring_create(name, NULL, 0), 0);
	t_stat(name, &info);
	ck_assert_int_eq(ringcast_ring_remove(name), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	t_assert_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("perm");
	TCase *tc = tcase_create("perm");

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (to act as uid %d)\n",
		       OTHER_UID);
		return 0;
	}
	ring_bin = getenv("RINGCAST_BIN");
	if (!ring_bin || access(ring_bin, X_OK)) {
		printf("1..0 # SKIP RINGCAST_BIN is not set\n");
		return 0;
	}
	tcase_set_timeout(tc, T_CASE_TIMEOUT);
	t_add_cleanup(tc);
	tcase_add_test(tc, test_default_mode);
	tcase_add_test(tc, test_other_0600);
	tcase_add_test(tc, test_other_0644);
	tcase_add_test(tc, test_readonly_drain_dead);
	tcase_add_test(tc, test_0640_group);
	tcase_add_test(tc, test_borrow_write_faults);
	tcase_add_test(tc, test_no_reuse_foreign);
	tcase_add_test(tc, test_lock_object_squat);
	tcase_add_test(tc, test_pub_other_owner);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_dir_owner);
	suite_add_tcase(s, tc);
	return t_main(s);
}
