// SPDX-License-Identifier: MIT
/*
 * ringcast-exporter: the rings' metrics over HTTP for Prometheus.
 *
 * Serves GET /metrics (libmicrohttpd, one internal thread: every scrape
 * runs on it, so the state below needs no lock) in the text exposition
 * format, or OpenMetrics when the Accept header asks for it
 * (tools/promfmt.c).  Each ring is kept mapped between scrapes through a
 * monitor handle (ringcast_mon_open()): a scrape maps nothing, writes
 * nothing to a ring and takes no lock a publisher waits on.  Rings that
 * appear are opened at the next scrape, vanished or removed ones closed;
 * a ring that fails validation is reported (ringcast_ring_corrupted 1),
 * never a crash.
 *
 * Installed under LIBEXECDIR/ringcast and run by 'ringcast exporter', so
 * that neither the library nor the tool links libmicrohttpd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "promfmt.h"
#include "ringcast.h"
#include "ringpath.h"

#define PROG "ringcast-exporter"
#define DEFAULT_LISTEN "127.0.0.1:9464"

static const char usage[] =
	"Usage: " PROG " [--listen ADDR:PORT] [--dir DIR] [NAME...]\n"
	"\n"
	"Serve the metrics of the rings NAME... (default: every ring in\n"
	"/dev/shm, or in DIR: --dir or $RINGCAST_DIR; looked for again at\n"
	"each scrape) on\n"
	"http://ADDR:PORT/metrics in Prometheus's text format, or as\n"
	"OpenMetrics when the scraper asks for it (Accept header).\n"
	"ADDR is an IPv4 address or an IPv6 one in brackets, [::1]:9464;\n"
	"default " DEFAULT_LISTEN ".  Rings are kept mapped read-only\n"
	"between scrapes; read permission is enough.  SIGINT or SIGTERM\n"
	"stops it.  Under systemd (Type=notify) it says READY=1 once\n"
	"listening.\n"
	"Exit status: 0 stopped, 1 error (bad address, port in use), 2 usage.\n";

/* A ring being watched: its monitor, kept from scrape to scrape. */
struct watched {
	char *name;
	struct ringcast_mon *mon; /* NULL: could not open at last scrape */
	struct ringcast_ring_subscriber *subs;
	unsigned int subs_cap;
	bool seen; /* listed at this scrape */
};

struct exporter {
	const char *dir; /* the rings' directory; NULL: /dev/shm */
	char **names; /* the rings asked for; NULL: every ring */
	int nnames;
	struct watched *w;
	size_t nw, capw;
};

/* ---------------------------------------------------------------- rings */

struct name_list {
	char **v;
	size_t n, cap;
};

static int add_name(const char *name, void *arg)
{
	struct name_list *l = arg;
	char *s;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	s = strdup(name);
	if (!s)
		return -ENOMEM;
	l->v[l->n++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static struct watched *find_watched(struct exporter *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->nw; i++)
		if (!strcmp(ex->w[i].name, name))
			return &ex->w[i];
	return NULL;
}

static struct watched *add_watched(struct exporter *ex, const char *name)
{
	struct watched *w;

	if (ex->nw == ex->capw) {
		size_t cap = ex->capw ? 2 * ex->capw : 16;
		struct watched *v = realloc(ex->w, cap * sizeof(*v));

		if (!v)
			return NULL;
		ex->w = v;
		ex->capw = cap;
	}
	w = &ex->w[ex->nw];
	memset(w, 0, sizeof(*w));
	w->name = strdup(name);
	if (!w->name)
		return NULL;
	ex->nw++;
	return w;
}

static void drop_watched(struct watched *w)
{
	ringcast_mon_close(w->mon);
	free(w->subs);
	free(w->name);
}

/*
 * A snapshot of one ring into r: its monitor opened if it has none, and
 * opened again once if the ring was removed (and maybe made again).
 */
static void snapshot(const struct exporter *ex, struct watched *w,
		     struct prom_ring *r)
{
	char buf[PATH_MAX];
	const char *ring = ring_in_dir(ex->dir, w->name, buf, sizeof(buf));
	int tries, err = 0, n;

	memset(r, 0, sizeof(*r));
	r->name = w->name;
	for (tries = 0; tries < 2; tries++) {
		if (!ring) {
			err = -EINVAL;
			break;
		}
		if (!w->mon) {
			err = ringcast_mon_open(ring, &w->mon);
			if (err < 0)
				break;
		}
		err = ringcast_mon_get_stats(w->mon, &r->st);
		if (err != -EIDRM)
			break;
		ringcast_mon_close(w->mon);
		w->mon = NULL;
	}
	if (err == 0 && w->subs_cap < r->st.max_subscribers) {
		struct ringcast_ring_subscriber *s =
			realloc(w->subs, r->st.max_subscribers * sizeof(*s));

		if (s) {
			w->subs = s;
			w->subs_cap = r->st.max_subscribers;
		}
	}
	if (err == 0) {
		n = ringcast_mon_get_subscribers(w->mon, w->subs, w->subs_cap);
		if (n < 0)
			err = n;
		else if ((unsigned int)n > w->subs_cap)
			r->nsubs = (int)w->subs_cap;
		else
			r->nsubs = n;
	}
	r->subs = w->subs;
	r->err = err;
	if (err == -EBADMSG || err == -EPROTO) {
		/* Maybe made again, whole: open it afresh next time. */
		ringcast_mon_close(w->mon);
		w->mon = NULL;
	}
	if (ring)
		prom_read_bridges(ring, r);
}

/* The metrics of every ring, as one malloc'd buffer: 0 or -ENOMEM. */
static int scrape(struct exporter *ex, enum prom_format fmt, char **bufp,
		  size_t *lenp)
{
	struct name_list list = { 0 };
	struct prom_ring *rings = NULL;
	size_t i, j;
	FILE *f;
	int r = 0;

	if (ex->names) {
		for (i = 0; i < (size_t)ex->nnames && !r; i++)
			r = add_name(ex->names[i], &list);
	} else {
		r = ringcast_ring_list_dir(ex->dir, add_name, &list);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0)
		goto out;
	if (list.n)
		qsort(list.v, list.n, sizeof(*list.v), cmp_str);

	for (i = 0; i < ex->nw; i++)
		ex->w[i].seen = false;
	for (i = 0; i < list.n; i++) {
		struct watched *w = find_watched(ex, list.v[i]);

		if (!w)
			w = add_watched(ex, list.v[i]);
		if (!w) {
			r = -ENOMEM;
			goto out;
		}
		w->seen = true;
	}
	/* Vanished rings: closed, and forgotten. */
	for (i = j = 0; i < ex->nw; i++) {
		if (ex->w[i].seen)
			ex->w[j++] = ex->w[i];
		else
			drop_watched(&ex->w[i]);
	}
	ex->nw = j;

	rings = calloc(list.n ? list.n : 1, sizeof(*rings));
	if (!rings) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < list.n; i++)
		snapshot(ex, find_watched(ex, list.v[i]), &rings[i]);
	f = open_memstream(bufp, lenp);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	prom_write(f, fmt, rings, list.n);
	if (fclose(f))
		r = -ENOMEM;
out:
	free(rings);
	free_names(&list);
	return r;
}

/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *type, char *buf, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, buf, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int code, const char *text)
{
	return reply(conn, code, "text/plain; charset=utf-8", (char *)text,
		     strlen(text), MHD_RESPMEM_PERSISTENT);
}

static bool wants_openmetrics(struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct exporter *ex = cls;
	enum prom_format fmt;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return reply_text(conn, MHD_HTTP_OK,
				  PROG ": the metrics are at /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	fmt = wants_openmetrics(conn) ? PROM_OPENMETRICS : PROM_TEXT;
	r = scrape(ex, fmt, &buf, &len);
	if (r < 0) {
		free(buf);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK,
		     fmt == PROM_OPENMETRICS ? PROM_CONTENT_TYPE_OPENMETRICS :
					       PROM_CONTENT_TYPE_TEXT,
		     buf, len, MHD_RESPMEM_MUST_FREE);
}

/* ---------------------------------------------------------------- main */

/*
 * ADDR:PORT (IPv4, or [IPv6]:PORT) into *ss: 0, or -1 after a message.
 */
static int parse_listen(const char *arg, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon = strrchr(arg, ':');
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon || colon == arg)
		goto bad;
	hl = (size_t)(colon - arg);
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, arg, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		fprintf(stderr, "%s: --listen %s: the port is not 1 to 65535\n",
			PROG, arg);
		return -1;
	}
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
bad:
	fprintf(stderr,
		"%s: --listen %s: not ADDR:PORT (an IPv4 address, or an "
		"IPv6 one in brackets)\n",
		PROG, arg);
	return -1;
}

/* A listening socket on ss: its descriptor, or -1 after a message. */
static int listen_on(const char *what, const struct sockaddr_storage *ss,
		     socklen_t len)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", PROG, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		int err = errno;

		if (err == EADDRINUSE)
			fprintf(stderr,
				"%s: cannot listen on %s: the port is in use "
				"(another exporter? choose one with "
				"--listen)\n",
				PROG, what);
		else if (err == EADDRNOTAVAIL)
			fprintf(stderr,
				"%s: cannot listen on %s: no such address "
				"on this host\n",
				PROG, what);
		else
			fprintf(stderr, "%s: cannot listen on %s: %s\n", PROG,
				what, strerror(err));
		close(fd);
		return -1;
	}
	if (listen(fd, 64) < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", PROG, what,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > RINGCAST_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-",
			    name[i]))
			return false;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_arg = DEFAULT_LISTEN;
	struct exporter ex = { 0 };
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	socklen_t sslen = 0;
	sigset_t sigs;
	int c, fd, sig, i;
	size_t k;

	ex.dir = getenv("RINGCAST_DIR");
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_arg = optarg;
			break;
		case 'd':
			ex.dir = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		/* Only the name's syntax: a ring may come later. */
		if (!name_ok(argv[i])) {
			fprintf(stderr,
				"%s: '%s' is not a ring name (1 to %d of "
				"[A-Za-z0-9._-], not starting with '.')\n",
				PROG, argv[i], RINGCAST_NAME_MAX);
			return 2;
		}
	}
	if (ex.dir && !*ex.dir)
		ex.dir = NULL;
	if (optind < argc) {
		ex.names = argv + optind;
		ex.nnames = argc - optind;
	}
	if (parse_listen(listen_arg, &ss, &sslen) < 0)
		return 1;
	fd = listen_on(listen_arg, &ss, sslen);
	if (fd < 0)
		return 1;

	/* Block them before the daemon's thread starts: it inherits that. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
		NULL, handle, &ex, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot start the HTTP server on %s\n",
			PROG, listen_arg);
		close(fd);
		return 1;
	}
	fprintf(stderr, "%s: serving http://%s/metrics\n", PROG, listen_arg);
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "READY=1");
#endif
	while (sigwait(&sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
	MHD_stop_daemon(d); /* closes fd too */
	for (k = 0; k < ex.nw; k++)
		drop_watched(&ex.w[k]);
	free(ex.w);
	return 0;
}
