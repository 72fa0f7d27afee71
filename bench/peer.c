// SPDX-License-Identifier: MIT
/*
 * peer.c - main() of a peer executable (ringcast-bench-zeromq,
 * ringcast-bench-iceoryx): one transport that links an optional library,
 * kept out of ringcast-bench and the ringcast tool.  ringcast-bench runs
 *
 *   PEER TRANSPORT key=value...
 *
 * with the configuration of one measurement (bench_cfg_to_args()); the
 * peer runs it with the shared harness and prints one RESULT line on
 * stdout.  It ends with exit(), never _exit(), so that iceoryx's runtime
 * unregisters from RouDi.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#ifdef PEER_ICEORYX
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "iceoryx_binding_c/log.h"
#pragma GCC diagnostic pop
#define PEER_TRANSPORT t_iceoryx
#else
#define PEER_TRANSPORT t_zeromq
#endif

int main(int argc, char **argv)
{
	const struct transport *t = &PEER_TRANSPORT;
	struct bench_result res;
	struct bench_cfg cfg;
	const char *name;

	if (bench_cfg_parse(argc, argv, &cfg, &name) < 0 ||
	    strcmp(name, t->name)) {
		fprintf(stderr,
			"usage: %s %s metric=M size=S nsubs=N ... tag=T\n"
			"(run by ringcast-bench, not by hand)\n",
			argv[0], t->name);
		return 2;
	}
#ifdef PEER_ICEORYX
	iox_set_loglevel(Iceoryx_LogLevel_Fatal);
#endif
	alarm(cfg.timeout_s + 5);
	bench_run(t, &cfg, &res);
	fflush(stdout);
	bench_result_print(&res, STDOUT_FILENO);
	exit(0);
}
