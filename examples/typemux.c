// SPDX-License-Identifier: MIT
/* A TypeMux across two processes: the parent posts, the child subscribes. */
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ringcast.h>

enum { TEMP = 1, LOG = 2, ALARM = 3 };

static int subscriber(const char *ring, int ready)
{
	uint32_t types[] = { TEMP, ALARM };
	struct ringcast_mux_sub *sub;
	struct ringcast_mux *mux;
	struct ringcast_event ev;
	int r, n = 0;

	if (ringcast_mux_open(ring, NULL, &mux) < 0 ||
	    ringcast_mux_subscribe(mux, types, 2, &sub) < 0)
		return 1;
	close(ready); /* the parent may post: we are subscribed */
	while ((r = ringcast_mux_next(sub, &ev, -1)) == 0)
		n += printf("type %u: %.*s\n", ev.type, (int)ev.len,
			    (const char *)ev.data) > 0;
	fflush(stdout);
	ringcast_mux_sub_free(sub);
	ringcast_mux_close(mux);
	return r == -EPIPE && n == 2 ? 0 : 1; /* -EPIPE: end of stream */
}

int main(void)
{
	struct ringcast_mux_opts o = { .flags = RINGCAST_MUX_POST_ONLY };
	struct ringcast_mux *mux;
	char ring[64], c;
	int p[2], status;
	pid_t pid;

	snprintf(ring, sizeof(ring), "example-typemux-%d", (int)getpid());
	if (ringcast_ring_create(ring, NULL, 0) < 0 || pipe(p) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(subscriber(ring, p[1]));
	}
	close(p[1]);
	if (read(p[0], &c, 1) < 0 || ringcast_mux_open(ring, &o, &mux) < 0)
		return 1;
	ringcast_mux_post(mux, TEMP, "21.5 C", 6);
	ringcast_mux_post(mux, LOG, "not for the child", 17);
	ringcast_mux_post(mux, ALARM, "too hot", 7);
	ringcast_ring_close(ring); /* end of stream */
	ringcast_mux_close(mux);
	waitpid(pid, &status, 0);
	ringcast_ring_remove(ring);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
