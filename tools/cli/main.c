// SPDX-License-Identifier: MIT
/*
 * ringcast - the command-line tool of the ringcast library.
 *
 * One binary, a table of subcommands.  Exit status: 0 on success, 1 on a
 * runtime error (one line on stderr naming the problem), 2 on a usage
 * error, 3 when the work was done but not all of it went through (sub
 * --fail-on-loss lost events, pub --on-error skip skipped records).  A subscriber stopped by SIGINT, SIGTERM or SIGHUP flushes what it
 * printed and then dies by the same signal, so its shell sees 128 + signal.
 *
 * Standard output is written with a large buffer.  SIGPIPE is ignored: a
 * reader that goes away (ringcast sub X | head -1) ends the command quietly
 * with status 0, as if it had asked for no more.
 *
 * This file holds the table of subcommands and dispatches to them; each
 * group of subcommands has a file with its code and help texts (ring.c:
 * create, close, rm, gc; pub.c; sub.c; stat.c: stat, ls; top.c; exec.c:
 * bench, bridge, exporter), over the helpers they share in common.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* ----------------------------------------------------------------------
 * The table
 */

static const char help_help[] = "Usage: ringcast help [COMMAND]\n";

static int cmd_help(const struct command *cmd, int argc, char **argv);

static const struct command commands[] = {
	{ "create", "create a ring", create_help, cmd_create },
	{ "pub", "publish each record of standard input", pub_help, cmd_pub },
	{ "sub", "print the events of a ring", sub_help, cmd_sub },
	{ "close", "end the stream of a ring", close_help, cmd_close },
	{ "stat", "show a ring's geometry, state and counters", stat_help,
	  cmd_stat },
	{ "ls", "list the rings", ls_help, cmd_ls },
	{ "top", "watch rings and subscribers live", top_help, cmd_top },
	{ "rm", "remove a ring", rm_help, cmd_rm },
	{ "gc", "remove rings whose publisher and subscribers died", gc_help,
	  cmd_gc },
	{ "record", "append a ring's events to a recording", record_help,
	  cmd_record },
	{ "cat", "print the events of a recording", cat_help, cmd_cat },
	{ "replay", "publish a recording into a ring", replay_help,
	  cmd_replay },
	{ "bench", "run the benchmarks", bench_help, cmd_bench },
	{ "bridge", "forward rings over NATS", bridge_help, cmd_bridge },
	{ "exporter", "serve the rings' metrics to Prometheus", exporter_help,
	  cmd_exporter },
	{ "help", "show the help of a command", help_help, cmd_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	size_t i;

	fputs("Usage: ringcast [--dir DIR] COMMAND [ARGS...]\n"
	      "       ringcast COMMAND --help\n"
	      "       ringcast --version\n"
	      "\n"
	      "One publisher, many subscribers, one ring in shared memory.\n"
	      "\n"
	      "Rings are in /dev/shm, or in DIR: --dir DIR (before the\n"
	      "command or among its options) or $RINGCAST_DIR; a ring\n"
	      "named DIR/NAME is in DIR whatever these say.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n"
	      "Exit status: 0 success, 1 runtime error, 2 usage error,\n"
	      "3 not all of it went through (sub --fail-on-loss,\n"
	      "pub --on-error skip).\n",
	      f);
}

static int cmd_help(const struct command *cmd, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc > 2)
		return usage_error(cmd, "unexpected argument '%s'", argv[2]);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(cmd, stdout);
		return EXIT_SUCCESS;
	}
	c = find_command(argv[1]);
	if (!c)
		return usage_error(cmd, "unknown command '%s'", argv[1]);
	print_help(c, stdout);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *env = getenv("RINGCAST_DIR");

	if (env && *env)
		ring_dir = env;
	/* ringcast --dir DIR COMMAND ..., ringcast --dir=DIR COMMAND ... */
	while (argc >= 2 && !strncmp(argv[1], "--dir", 5) &&
	       (argv[1][5] == '=' || !argv[1][5])) {
		if (argv[1][5] == '=') {
			ring_dir = argv[1] + 6;
		} else if (argc >= 3) {
			ring_dir = argv[2];
			argv++;
			argc--;
		} else {
			fputs("ringcast: option '--dir' needs a value\n",
			      stderr);
			return EXIT_USAGE;
		}
		argv++;
		argc--;
	}
	if (ring_dir && !*ring_dir)
		ring_dir = NULL;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ringcast %s\n", RINGCAST_VERSION);
		return EXIT_SUCCESS;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr,
			"ringcast: unknown command '%s' (see 'ringcast --help')\n",
			argv[1]);
		return EXIT_USAGE;
	}
	/* A reader that goes away shows as EPIPE on the next write. */
	signal(SIGPIPE, SIG_IGN);
	return cmd->run(cmd, argc - 1, argv + 1);
}
