// SPDX-License-Identifier: MIT
/*
 * ringcast bench, bridge and exporter: run a program installed beside the
 * tool (the benchmark driver, the NATS bridge, the Prometheus exporter)
 * with the arguments given.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#ifndef RINGCAST_LIBEXECDIR
#define RINGCAST_LIBEXECDIR "/usr/local/libexec"
#endif
/* The benchmark driver, installed beside the benchmarks it runs. */
#define BENCH_DRIVER RINGCAST_LIBEXECDIR "/ringcast/ringcast-bench"

/* The NATS bridge, installed where libnats was found at build time. */
#define BRIDGE_PROGRAM RINGCAST_LIBEXECDIR "/ringcast/ringcast-bridge"

/* The Prometheus exporter, installed where libmicrohttpd was found. */
#define EXPORTER_PROGRAM RINGCAST_LIBEXECDIR "/ringcast/ringcast-exporter"

const char bench_help[] =
	"Usage: ringcast bench [ARGS...]\n"
	"       ringcast bench -- --help\n"
	"\n"
	"Run the benchmark driver (ringcast-bench, installed under\n"
	"LIBEXECDIR/ringcast, or the program the environment variable\n"
	"RINGCAST_BENCH names, for a build tree) with ARGS: it measures\n"
	"ringcast against the other transports installed, one row per\n"
	"configuration.  Every argument is the driver's; its own help\n"
	"is 'ringcast bench -- --help'.\n"
	"Exit status: the driver's; 1 when there is no driver to run.\n";

const char bridge_help[] =
	"Usage: ringcast bridge out NAME --nats URL [--subject PREFIX] ...\n"
	"       ringcast bridge in NAME --nats URL [--subject PATTERN] ...\n"
	"       ringcast bridge -- --help\n"
	"\n"
	"Forward a ring to NATS (out: a reliable subscriber of NAME\n"
	"publishing each event to PREFIX.NAME.TYPE) or from NATS into a\n"
	"local ring (in), by running ringcast-bridge (installed under\n"
	"LIBEXECDIR/ringcast where the NATS C client was found, or the\n"
	"program the environment variable RINGCAST_BRIDGE names) with\n"
	"ARGS.  Its own help is 'ringcast bridge -- --help'.\n"
	"Exit status: the bridge's; 1 when there is no bridge to run.\n";

const char exporter_help[] =
	"Usage: ringcast exporter [--listen ADDR:PORT] [NAME...]\n"
	"       ringcast exporter -- --help\n"
	"\n"
	"Serve the metrics of the rings NAME... (default: every ring) to\n"
	"Prometheus on http://ADDR:PORT/metrics (default\n"
	"127.0.0.1:9464), the text 'ringcast stat --format prometheus'\n"
	"writes, by running ringcast-exporter (installed under\n"
	"LIBEXECDIR/ringcast where libmicrohttpd was found, or the\n"
	"program the environment variable RINGCAST_EXPORTER names) with\n"
	"ARGS.  Its own help is 'ringcast exporter -- --help'.\n"
	"Exit status: the exporter's (1: bad address, port in use); 1\n"
	"when there is no exporter to run.\n";

/*
 * Run a helper program with our arguments: the environment variable @env,
 * when set, names it (a build tree's), else @installed.  Only --help (or
 * -h) alone is ours; '--' first passes even that on.
 */
static int exec_helper(const struct command *cmd, int argc, char **argv,
		       const char *env, const char *installed, const char *what)
{
	const char *prog = getenv(env);
	char **args;
	int first = 1, i, n = 1, err;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		print_help(cmd, stdout);
		return EXIT_SUCCESS;
	}
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (!prog || !*prog)
		prog = installed;

	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return fail(cmd, NULL, "%s", strerror(ENOMEM));
	args[0] = (char *)prog;
	for (i = first; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	/* ringcast --dir DIR bridge|exporter: the helper reads it there. */
	if (ring_dir)
		setenv("RINGCAST_DIR", ring_dir, 1);
	/* An ignored SIGPIPE would be inherited across exec. */
	signal(SIGPIPE, SIG_DFL);
	fflush(NULL);
	execv(prog, args);
	err = errno;
	free(args);
	if (err == ENOENT)
		return fail(cmd, NULL,
			    "no %s at %s (not installed? %s names "
			    "another)",
			    what, prog, env);
	return fail(cmd, NULL, "cannot run %s: %s", prog, strerror(err));
}

int cmd_bench(const struct command *cmd, int argc, char **argv)
{
	return exec_helper(cmd, argc, argv, "RINGCAST_BENCH", BENCH_DRIVER,
			   "benchmark driver");
}

int cmd_bridge(const struct command *cmd, int argc, char **argv)
{
	return exec_helper(
		cmd, argc, argv, "RINGCAST_BRIDGE", BRIDGE_PROGRAM,
		"NATS bridge (built where libnats-dev is installed)");
}

int cmd_exporter(const struct command *cmd, int argc, char **argv)
{
	return exec_helper(
		cmd, argc, argv, "RINGCAST_EXPORTER", EXPORTER_PROGRAM,
		"Prometheus exporter (built where libmicrohttpd-dev is "
		"installed)");
}
