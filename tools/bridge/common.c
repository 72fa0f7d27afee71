// SPDX-License-Identifier: MIT
/*
 * What both directions of the bridge share: options, signals, the NATS
 * connection with its capped backoff, the status file, a small map.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bridge.h"
#include "ringpath.h"

volatile sig_atomic_t bridge_stop;
static void (*stop_hook)(void);

void bridge_log(const struct bridge *b, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line, so that lines of several bridges do not mix. */
	fprintf(stderr, "%s: %s %s: %s\n", BRIDGE_PROG, b->dir, b->name, buf);
}

int bridge_encode_name(const char *name, char *buf, size_t size)
{
	size_t n = 0;

	for (; *name; name++) {
		const char *piece = *name == '.' ? "%2E" : NULL;
		size_t len = piece ? 3 : 1;

		if (n + len >= size)
			return -ENAMETOOLONG;
		if (piece)
			memcpy(buf + n, piece, len);
		else
			buf[n] = *name;
		n += len;
	}
	buf[n] = '\0';
	return 0;
}

static void on_signal(int sig)
{
	bridge_stop = 1;
	if (stop_hook)
		stop_hook();
}

void bridge_signals(void (*hook)(void))
{
	struct sigaction sa;

	stop_hook = hook;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call should see EINTR. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

uint64_t bridge_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bridge_random64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = bridge_now_ns() ^ ((uint64_t)getpid() << 32);
	return v ? v : 1;
}

/* ----------------------------------------------------------------------
 * The connection
 */

static int64_t backoff_ms(const struct bridge *b, int attempt)
{
	int64_t ms = BRIDGE_BACKOFF_MIN_MS;

	while (attempt-- > 1 && ms < b->backoff_max_ms)
		ms *= 2;
	if (ms > b->backoff_max_ms)
		ms = b->backoff_max_ms;
	/* Up to an eighth of jitter, so that bridges do not retry in step. */
	return ms + (int64_t)(bridge_random64() % (uint64_t)(ms / 8 + 1));
}

/* Called by the NATS library after every server of the list failed. */
static int64_t on_reconnect_delay(natsConnection *nc, int attempts,
				  void *closure)
{
	struct bridge *b = closure;
	int64_t ms = backoff_ms(b, attempts);

	bridge_log(b,
		   "NATS at %s unreachable, retrying in %lld ms (attempt %d)",
		   b->url, (long long)ms, attempts);
	return ms;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;
	bool was;

	pthread_mutex_lock(&b->lock);
	was = b->connected && !b->closing;
	b->connected = false;
	if (was)
		b->disconnects++;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (was)
		bridge_log(b, "lost the connection to NATS at %s; reconnecting",
			   b->url);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	pthread_mutex_lock(&b->lock);
	b->connected = true;
	b->reconnects++;
	b->conn_gen++;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	bridge_log(b, "reconnected to NATS at %s", b->url);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	pthread_mutex_lock(&b->lock);
	b->connected = false;
	b->closed = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub,
			   natsStatus err, void *closure)
{
	struct bridge *b = closure;
	bool first;

	/* Slow consumers show up as gaps of the counts: say it once here. */
	pthread_mutex_lock(&b->lock);
	first = !b->async_error_said;
	b->async_error_said = true;
	pthread_mutex_unlock(&b->lock);
	if (first)
		bridge_log(b, "NATS: %s (reported once)",
			   natsStatus_GetText(err));
}

static int nats_err(natsStatus s)
{
	switch (s) {
	case NATS_OK:
		return 0;
	case NATS_NO_MEMORY:
		return -ENOMEM;
	case NATS_INVALID_ARG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int make_options(struct bridge *b)
{
	natsOptions *o = NULL;
	natsStatus s;

	s = natsOptions_Create(&o);
	if (s != NATS_OK)
		return nats_err(s);
	s = natsOptions_SetURL(o, b->url);
	if (s == NATS_OK) {
		char name[64];

		snprintf(name, sizeof(name), "%s %s", BRIDGE_PROG, b->dir);
		s = natsOptions_SetName(o, name);
	}
	/* Reconnect for ever, with our capped exponential backoff. */
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(o, true);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetCustomReconnectDelay(o, on_reconnect_delay,
							b);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, on_closed, b);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_async_error, b);
	/* Our own messages are never wanted back. */
	if (s == NATS_OK)
		s = natsOptions_SetNoEcho(o, true);
	/* A dead server is noticed within a few seconds. */
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, 2);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPendingMsgs(o, 1 << 20);
	/*
	 * A frame goes to the socket at once: the library's flusher would
	 * hold it up to a millisecond.  Frames make that a write per many
	 * events.
	 */
	if (s == NATS_OK && !strcmp(b->dir, "out"))
		s = natsOptions_SetSendAsap(o, true);
	if (s != NATS_OK) {
		natsOptions_Destroy(o);
		return nats_err(s);
	}
	b->opts = o;
	return 0;
}

int bridge_connect(struct bridge *b)
{
	natsStatus s;
	int attempt = 0, err;

	err = make_options(b);
	if (err) {
		fprintf(stderr, "%s: %s %s: bad NATS options (URL %s): %s\n",
			BRIDGE_PROG, b->dir, b->name, b->url, strerror(-err));
		return err;
	}
	for (;;) {
		int64_t ms;

		s = natsConnection_Connect(&b->nc, b->opts);
		if (s == NATS_OK)
			break;
		b->nc = NULL;
		if (s == NATS_INVALID_ARG || s == NATS_NO_MEMORY) {
			bridge_log(b, "cannot connect to NATS at %s: %s",
				   b->url, natsStatus_GetText(s));
			return nats_err(s);
		}
		ms = backoff_ms(b, ++attempt);
		bridge_log(b,
			   "NATS at %s unreachable (%s), retrying in %lld ms "
			   "(attempt %d)",
			   b->url, natsStatus_GetText(s), (long long)ms,
			   attempt);
		while (ms > 0 && !bridge_stop) {
			int64_t step = ms < 20 ? ms : 20;

			nats_Sleep(step);
			ms -= step;
		}
		if (bridge_stop)
			return -EINTR;
	}
	b->max_payload = natsConnection_GetMaxPayload(b->nc);
	pthread_mutex_lock(&b->lock);
	b->connected = true;
	b->conn_gen++;
	pthread_mutex_unlock(&b->lock);
	bridge_log(b, "connected to NATS at %s (max payload %lld bytes)",
		   b->url, (long long)b->max_payload);
	return 0;
}

void bridge_disconnect(struct bridge *b)
{
	pthread_mutex_lock(&b->lock);
	b->closing = true;
	pthread_mutex_unlock(&b->lock);
	if (b->nc) {
		natsConnection_Close(b->nc);
		natsConnection_Destroy(b->nc);
		b->nc = NULL;
	}
	natsOptions_Destroy(b->opts);
	b->opts = NULL;
}

bool bridge_wait_connected(struct bridge *b, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)timeout_ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&b->lock);
	while (!b->connected && !b->closed && !bridge_stop)
		if (pthread_cond_timedwait(&b->cond, &b->lock, &ts))
			break;
	ok = b->connected;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

void bridge_conn_state(struct bridge *b, struct bridge_conn *c)
{
	pthread_mutex_lock(&b->lock);
	c->connected = b->connected;
	c->closed = b->closed;
	c->gen = b->conn_gen;
	c->disconnects = b->disconnects;
	c->reconnects = b->reconnects;
	pthread_mutex_unlock(&b->lock);
}

/* ----------------------------------------------------------------------
 * systemd
 */

void bridge_notify_ready(struct bridge *b)
{
	if (b->notified_ready)
		return;
	b->notified_ready = true;
#ifdef HAVE_LIBSYSTEMD
	/* Without $NOTIFY_SOCKET (not under systemd) this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=%s %s: connected to %s", b->dir, b->name,
		   b->url);
#endif
}

void bridge_notify_stopping(struct bridge *b)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* ----------------------------------------------------------------------
 * The status file
 */

int bridge_status_path(char *buf, size_t size, const char *dir,
		       const char *name)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s%s.", BRIDGE_STATUS_PREFIX, dir);
	return ring_file_path(buf, size, name, prefix) ? -ENAMETOOLONG : 0;
}

void bridge_status_write(struct bridge *b, const char *text, size_t len)
{
	static bool reported;
	char tmp[PATH_MAX + 32];
	ssize_t w;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", b->status_path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err;
	w = write(fd, text, len);
	close(fd);
	if (w != (ssize_t)len || rename(tmp, b->status_path)) {
		unlink(tmp);
		goto err;
	}
	return;
err:
	if (!reported) {
		reported = true;
		bridge_log(b, "cannot write the status file %s: %s",
			   b->status_path, strerror(errno));
	}
}

void bridge_status_remove(struct bridge *b)
{
	unlink(b->status_path);
}

/* ----------------------------------------------------------------------
 * The map
 */

static size_t map_slot(const struct u64map *m, uint64_t k)
{
	return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
}

static int map_grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64, i;
	uint64_t *keys, *vals;
	struct u64map n;

	keys = calloc(cap, sizeof(*keys));
	vals = calloc(cap, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	n = (struct u64map){ .keys = keys, .vals = vals, .cap = cap, .n = 0 };
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->keys[i])
			continue;
		j = map_slot(&n, m->keys[i]);
		while (n.keys[j])
			j = (j + 1) & (cap - 1);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.n++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

uint64_t *u64map_get(struct u64map *m, uint64_t key, bool *created)
{
	uint64_t k = key + 1;
	size_t i;

	*created = false;
	if (m->cap) {
		for (i = map_slot(m, k); m->keys[i]; i = (i + 1) & (m->cap - 1))
			if (m->keys[i] == k)
				return &m->vals[i];
	}
	if (m->n >= BRIDGE_MAP_MAX)
		return NULL;
	if ((m->n + 1) * 2 > m->cap && map_grow(m))
		return NULL;
	for (i = map_slot(m, k); m->keys[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = k;
	m->vals[i] = 0;
	m->n++;
	*created = true;
	return &m->vals[i];
}

void u64map_clear(struct u64map *m)
{
	if (m->cap) {
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
		memset(m->vals, 0, m->cap * sizeof(*m->vals));
	}
	m->n = 0;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct u64map){ 0 };
}
