/* SPDX-License-Identifier: MIT */
/*
 * The ringcast tool: what its subcommands share (common.c), and each
 * subcommand's entry point and help text (a file per group: ring.c, pub.c,
 * sub.c, stat.c, top.c, exec.c), for the table in main.c.
 */
#ifndef RINGCAST_TOOLS_CLI_COMMON_H
#define RINGCAST_TOOLS_CLI_COMMON_H

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringcast.h"
#include "parse.h"
#include "ringpath.h"

#define EXIT_USAGE 2
/*
 * The command did its work but not all of it went through: sub
 * --fail-on-loss lost events, pub --on-error skip skipped records.
 */
#define EXIT_PARTIAL 3

struct command {
	const char *name;
	const char *summary;
	const char *help;
	int (*run)(const struct command *cmd, int argc, char **argv);
};

/* Signals: the only state shared with a handler. */
extern volatile sig_atomic_t caught_signal;
/* The subscriber or publisher whose wait a signal interrupts, if any. */
extern _Atomic(struct ringcast_sub *) signal_sub;
extern _Atomic(struct ringcast_pub *) signal_pub;

void catch_signals(bool restart);
int exit_by_signal(int sig);

/*
 * Messages on stderr, a line each, "ringcast: CMD: ...": all but note()
 * return the exit status they stand for.
 */
int __attribute__((format(printf, 2, 3)))
usage_error(const struct command *cmd, const char *fmt, ...);
void __attribute__((format(printf, 3, 4)))
note(const struct command *cmd, const char *name, const char *fmt, ...);
/* note(), then EXIT_FAILURE. */
#define fail(cmd, name, ...) (note(cmd, name, __VA_ARGS__), EXIT_FAILURE)
int ring_error(const struct command *cmd, const char *name, int err);
int output_error(const struct command *cmd, int err);
int finish_output(const struct command *cmd);

/* Options and arguments.  What next_opt() returns besides an option: */
#define OPT_HELP (-1) /* the help was printed: the command succeeds */
#define OPT_BAD (-2) /* a usage error was printed */

/* The exit status after next_opt() returned OPT_HELP or OPT_BAD. */
static inline int opt_status(int c)
{
	return c == OPT_HELP ? EXIT_SUCCESS : EXIT_USAGE;
}

int next_opt(const struct command *cmd, int argc, char **argv,
	     const char *shortopts, const struct option *longopts);
int opt_u32(const struct command *cmd, const char *opt, const char *arg,
	    uint32_t min, uint32_t max, bool pow2, uint32_t *out);
int opt_seconds(const struct command *cmd, const char *opt, const char *arg,
		int64_t min_ns, const char *what, int64_t *ns);
int opt_geometry(const struct command *cmd, int c, const char *arg,
		 struct ringcast_ring_opts *geo, unsigned int *cflags);
/* The largest event of a ring: max_event, or the capacity of an old one. */
uint64_t largest_event(const struct ringcast_ring_stats *info);
/* The ring directory (--dir, $RINGCAST_DIR), or NULL for /dev/shm. */
extern const char *ring_dir;
const char *one_name(const struct command *cmd, int argc, char **argv);
const char *ring_at(const char *name, char *buf);
int no_args(const struct command *cmd, int argc, char **argv);
void print_help(const struct command *cmd, FILE *f);

/*
 * The forms of a stream of events (--format of pub and sub): text, a line
 * per event; nul, a record per event ended by a NUL; json, an object per
 * line; raw, frames of RAW_HDR bytes (the payload's length, then its type,
 * each a little-endian u32) and the payload.
 */
enum ev_format {
	FMT_TEXT,
	FMT_NUL,
	FMT_JSON,
	FMT_RAW,
};

#define RAW_HDR 8

/* --types LIST into types[RINGCAST_MAX_TYPES]: 0 or EXIT_USAGE. */
int opt_types(const struct command *cmd, const char *arg, uint32_t *types,
	      uint32_t *ntypes);
int opt_ev_format(const struct command *cmd, const char *arg,
		  enum ev_format *fmt);
/* One event on stdout, in @fmt. */
void write_event(const struct ringcast_event *ev, enum ev_format fmt);

/* JSON and base64 output, on stdout. */
bool utf8_valid(const unsigned char *s, size_t n);
void json_chars(const unsigned char *s, size_t n);
void json_string(const char *s);
void base64(const unsigned char *s, size_t n);

int64_t now_ns(void);

/* Rings: a snapshot, the subscriber table, the list. */
struct name_list {
	char **names;
	size_t n, cap;
};

const char *state_name(uint32_t state);
const char *alive_name(int32_t alive, bool json);
const char *sub_mode(const struct ringcast_ring_subscriber *si);
int get_subscribers(const char *name, uint32_t hint,
		    struct ringcast_ring_subscriber **subsp);
int get_ring(const char *name, struct ringcast_ring_stats *info,
	     struct ringcast_ring_subscriber **subsp, int *nsubsp);
int list_rings(struct name_list *l);
int list_error(const struct command *cmd, int err);
void free_names(struct name_list *l);

/* The subcommands. */
extern const char create_help[], close_help[], rm_help[], gc_help[];
int cmd_create(const struct command *cmd, int argc, char **argv);
int cmd_close(const struct command *cmd, int argc, char **argv);
int cmd_rm(const struct command *cmd, int argc, char **argv);
int cmd_gc(const struct command *cmd, int argc, char **argv);

extern const char pub_help[];
int cmd_pub(const struct command *cmd, int argc, char **argv);

extern const char sub_help[];
int cmd_sub(const struct command *cmd, int argc, char **argv);

extern const char stat_help[], ls_help[];
int cmd_stat(const struct command *cmd, int argc, char **argv);
int cmd_ls(const struct command *cmd, int argc, char **argv);

extern const char top_help[];
int cmd_top(const struct command *cmd, int argc, char **argv);

extern const char record_help[], cat_help[], replay_help[];
int cmd_record(const struct command *cmd, int argc, char **argv);
int cmd_cat(const struct command *cmd, int argc, char **argv);
int cmd_replay(const struct command *cmd, int argc, char **argv);

extern const char bench_help[], bridge_help[], exporter_help[];
int cmd_bench(const struct command *cmd, int argc, char **argv);
int cmd_bridge(const struct command *cmd, int argc, char **argv);
int cmd_exporter(const struct command *cmd, int argc, char **argv);

#endif
