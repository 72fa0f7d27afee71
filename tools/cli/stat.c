// SPDX-License-Identifier: MIT
/*
 * ringcast stat and ls: a ring's snapshot, as 'key: value' lines and a
 * table or as JSON, and the list of rings.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "promfmt.h"

const char stat_help[] =
	"Usage: ringcast stat NAME [--format text|json|prometheus] [--json]\n"
	"\n"
	"Validate the ring and print a snapshot of it: 'key: value'\n"
	"lines (data_size: bytes of its data area, 0 none; max_event: the\n"
	"largest event it takes; data_written: bytes ever written into\n"
	"its data area), then a table of its registered subscribers (id, pid,\n"
	"alive, mode reliable, lossy or demoted, filtered, cursor, lag,\n"
	"delivered, skipped, lost, aborted); or one JSON object with\n"
	"--json, the table as its array 'subscribers'.  There the epoch\n"
	"(an identifier) is a hex string, the mode an octal string, and\n"
	"alive and publisher_alive true, false or null (cannot tell).\n"
	"The ring's NATS bridges: bridge_DIR_KEY lines before the table, or\n"
	"the array 'bridges' (direction, pid, alive, connected, nats,\n"
	"subject, forwarded, dropped, gaps, every counter in 'status').\n"
	"--json is --format json.  --format prometheus writes the\n"
	"metrics ringcast-exporter serves, in Prometheus's text format\n"
	"(for node_exporter's textfile collector).\n"
	"Exit status: 0, 1 error (missing, corrupted...), 2 usage.\n";

const char ls_help[] =
	"Usage: ringcast ls [--json]\n"
	"\n"
	"Print the name of every ring, sorted, one per line; with --json,\n"
	"one JSON array of the objects 'ringcast stat --json' prints\n"
	"(name and error for a ring that cannot be read).\n"
	"Exit status: 0, 1 error, 2 usage.\n";

static uint64_t retained(const struct ringcast_ring_stats *info)
{
	/* The fields are read one by one: do not trust their order. */
	return info->head > info->oldest ? info->head - info->oldest : 0;
}

/*
 * The NATS bridges of this ring: ringcast-bridge out|in keeps its
 * counters in ringcast-bridge.DIR.NAME beside the ring (in /dev/shm, or
 * the ring's directory), lines 'KEY VALUE',
 * replaced atomically and removed when it exits; one killed leaves its
 * file behind, so whether its pid still runs a bridge is shown too.  The
 * file is read as untrusted input: bounded, keys checked, values escaped.
 */
#define BRIDGE_KEYS_MAX 64

struct bridge_file {
	const char *dir; /* "out" or "in" */
	unsigned int n;
	char keys[BRIDGE_KEYS_MAX][32];
	char vals[BRIDGE_KEYS_MAX][256];
	int32_t pid;
	int32_t alive; /* 1, 0, or -1 cannot tell */
};

static const char *bridge_get(const struct bridge_file *bf, const char *key)
{
	unsigned int i;

	for (i = 0; i < bf->n; i++)
		if (!strcmp(bf->keys[i], key))
			return bf->vals[i];
	return NULL;
}

/* A plain decimal number, no sign, no leading zero: JSON takes it as is. */
static bool bridge_decimal(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n && n <= 19 && !v[n] && (v[0] != '0' || n == 1);
}

static uint64_t bridge_u64(const struct bridge_file *bf, const char *key)
{
	const char *v = bridge_get(bf, key);

	return v && bridge_decimal(v) ? strtoull(v, NULL, 10) : 0;
}

/* Is @pid a running bridge?  Its name tells a reused pid. */
static int32_t bridge_alive(int32_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0)
		return -1;
	if (kill(pid, 0) && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	/* comm is at most 15 characters: exactly "ringcast-bridge". */
	return !strncmp(comm, "ringcast-bridge", 15);
}

static bool bridge_read(const char *name, const char *dir,
			struct bridge_file *bf)
{
	char path[PATH_MAX + 64], ring[PATH_MAX], prefix[32], line[512];
	unsigned int lines = 0;
	FILE *f;

	snprintf(prefix, sizeof(prefix), "ringcast-bridge.%s.", dir);
	if (ring_file_path(path, sizeof(path), ring_at(name, ring), prefix))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	bf->dir = dir;
	bf->n = 0;
	while (bf->n < BRIDGE_KEYS_MAX && lines++ < 4 * BRIDGE_KEYS_MAX &&
	       fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
		size_t klen;

		if (!sp || !nl)
			continue;
		*sp = *nl = '\0';
		klen = (size_t)(sp - line);
		if (!klen || klen >= sizeof(bf->keys[0]) ||
		    strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
			    klen ||
		    strlen(sp + 1) >= sizeof(bf->vals[0]))
			continue;
		memcpy(bf->keys[bf->n], line, klen + 1);
		strcpy(bf->vals[bf->n], sp + 1);
		bf->n++;
	}
	fclose(f);
	bf->pid = (int32_t)bridge_u64(bf, "pid");
	if ((uint64_t)bf->pid != bridge_u64(bf, "pid"))
		bf->pid = 0;
	bf->alive = bridge_alive(bf->pid);
	return true;
}

static const char *const bridge_dirs[] = { "out", "in" };

/* As bridge_DIR_KEY lines, and whether it runs (bridge_DIR_alive). */
static void print_bridges_text(const char *name)
{
	struct bridge_file bf;
	unsigned int i, k;

	for (i = 0; i < 2; i++) {
		if (!bridge_read(name, bridge_dirs[i], &bf))
			continue;
		for (k = 0; k < bf.n; k++)
			printf("bridge_%s_%s: %s\n", bf.dir, bf.keys[k],
			       bf.vals[k]);
		printf("bridge_%s_alive: %s\n", bf.dir,
		       alive_name(bf.alive, false));
	}
}

/*
 * The array "bridges": per bridge its direction, pid, alive, connected,
 * nats, subject, the events it forwarded (out: sent to NATS; in:
 * published into the ring), dropped (out: lapped before it could read
 * them; in: lost, the gaps' events and what the origin dropped), gaps
 * (in), then every line of its file in "status" (numbers as numbers).
 */
static void print_bridges_json(const char *name)
{
	struct bridge_file bf;
	unsigned int i, k, n = 0;
	bool out;

	fputs(",\"bridges\":[", stdout);
	for (i = 0; i < 2; i++) {
		if (!bridge_read(name, bridge_dirs[i], &bf))
			continue;
		out = !strcmp(bf.dir, "out");
		printf("%s{\"direction\":\"%s\",\"pid\":%" PRId32
		       ",\"alive\":%s,\"connected\":%s,\"nats\":",
		       n++ ? "," : "", bf.dir, bf.pid,
		       alive_name(bf.alive, true),
		       bridge_u64(&bf, "connected") ? "true" : "false");
		json_string(bridge_get(&bf, "nats") ?: "");
		fputs(",\"subject\":", stdout);
		json_string(bridge_get(&bf, "subject") ?: "");
		printf(",\"forwarded\":%" PRIu64 ",\"dropped\":%" PRIu64
		       ",\"gaps\":%" PRIu64 ",\"status\":{",
		       bridge_u64(&bf, out ? "sent" : "published"),
		       bridge_u64(&bf, out ? "dropped" : "lost"),
		       out ? 0 : bridge_u64(&bf, "gaps"));
		for (k = 0; k < bf.n; k++) {
			const char *v = bf.vals[k];

			printf("%s\"%s\":", k ? "," : "", bf.keys[k]);
			/* Identifiers in hex (epoch, session) stay strings. */
			if (bridge_decimal(v) && strcmp(bf.keys[k], "epoch") &&
			    strcmp(bf.keys[k], "session"))
				fputs(v, stdout);
			else
				json_string(v);
		}
		fputs("}}", stdout);
	}
	putchar(']');
}

static void print_info_text(const char *name,
			    const struct ringcast_ring_stats *info)
{
	printf("name: %s\n"
	       "state: %s\n"
	       "slots: %" PRIu32 "\n"
	       "slot_size: %" PRIu32 "\n"
	       "capacity: %" PRIu32 "\n"
	       "data_size: %" PRIu64 "\n"
	       "max_event: %" PRIu64 "\n"
	       "max_subscribers: %" PRIu32 "\n"
	       "subscribers: %" PRIu32 "\n"
	       "reliable: %" PRIu32 "\n"
	       "table_hwm: %" PRIu32 "\n"
	       "publishers: %" PRIu32 "\n"
	       "mode: 0%03" PRIo32 "\n"
	       "size: %" PRIu64 "\n"
	       "abi_version: %" PRIu32 "\n"
	       "features: 0x%" PRIx32 "\n"
	       "multi_publisher: %s\n"
	       "epoch: 0x%016" PRIx64 "\n"
	       "epoch_start: %" PRIu64 "\n"
	       "head: %" PRIu64 "\n"
	       "oldest: %" PRIu64 "\n"
	       "retained: %" PRIu64 "\n"
	       "published: %" PRIu64 "\n"
	       "refused: %" PRIu64 "\n"
	       "data_written: %" PRIu64 "\n"
	       "wakes: %" PRIu64 "\n"
	       "demote_ns: %" PRIu64 "\n"
	       "blocked: %" PRIu64 "\n"
	       "blocked_ns: %" PRIu64 "\n"
	       "demotions: %" PRIu64 "\n"
	       "publisher_pid: %" PRId32 "\n"
	       "publisher_alive: %s\n",
	       name, state_name(info->state), info->slots, info->slot_size,
	       info->capacity, info->data_size, largest_event(info),
	       info->max_subscribers, info->subscribers, info->reliable,
	       info->table_hwm, info->publishers, info->mode, info->size,
	       info->abi_version, info->features,
	       info->features & RINGCAST_FEAT_MULTI_PUB ? "yes" : "no",
	       info->epoch, info->epoch_start, info->head, info->oldest,
	       retained(info), info->published, info->refused,
	       info->data_written, info->wakes, info->demote_ns, info->blocked,
	       info->blocked_ns, info->demotions, info->publisher_pid,
	       alive_name(info->publisher_alive, false));
	printf("blocked_since_ns: %" PRIu64 "\n", info->blocked_since_ns);
}

/*
 * The table, after a blank line: one row per entry, none if empty; the
 * column of aborted records only on multi-publisher rings, which have some.
 */
static void print_subs_text(const struct ringcast_ring_stats *info,
			    const struct ringcast_ring_subscriber *subs, int n)
{
	bool multi = info->features & RINGCAST_FEAT_MULTI_PUB;
	int i;

	if (n <= 0)
		return;
	printf("\n%3s %7s %-5s %-8s %-8s %10s %8s %10s %8s %8s%s\n", "ID",
	       "PID", "ALIVE", "MODE", "FILTERED", "CURSOR", "LAG", "DELIVERED",
	       "SKIPPED", "LOST", multi ? "  ABORTED" : "");
	for (i = 0; i < n; i++) {
		const struct ringcast_ring_subscriber *si = &subs[i];

		printf("%3" PRIu32 " %7" PRId32 " %-5s %-8s %-8s %10" PRIu64
		       " %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64,
		       si->id, si->pid, alive_name(si->alive, false),
		       sub_mode(si),
		       si->flags & RINGCAST_SUBSCRIBER_FILTERED ? "yes" : "no",
		       si->cursor, si->lag, si->delivered, si->skipped,
		       si->lost);
		if (multi)
			printf(" %8" PRIu64, si->aborted);
		putchar('\n');
	}
}

static const char *json_bool(bool b)
{
	return b ? "true" : "false";
}

static void print_subs_json(const struct ringcast_ring_subscriber *subs, int n)
{
	int i;

	putchar('[');
	for (i = 0; i < n; i++) {
		const struct ringcast_ring_subscriber *si = &subs[i];

		printf("%s{\"id\":%" PRIu32 ",\"pid\":%" PRId32
		       ",\"alive\":%s,\"mode\":\"%s\",\"reliable\":%s"
		       ",\"demoted\":%s,\"filtered\":%s,\"durable\":%s"
		       ",\"first\":%" PRIu64 ",\"cursor\":%" PRIu64
		       ",\"lag\":%" PRIu64 ",\"delivered\":%" PRIu64
		       ",\"skipped\":%" PRIu64 ",\"lost\":%" PRIu64
		       ",\"aborted\":%" PRIu64 "}",
		       i ? "," : "", si->id, si->pid,
		       alive_name(si->alive, true), sub_mode(si),
		       json_bool(si->flags & RINGCAST_SUBSCRIBER_RELIABLE),
		       json_bool(si->flags & RINGCAST_SUBSCRIBER_DEMOTED),
		       json_bool(si->flags & RINGCAST_SUBSCRIBER_FILTERED),
		       json_bool(si->flags & RINGCAST_SUBSCRIBER_DURABLE),
		       si->first, si->cursor, si->lag, si->delivered,
		       si->skipped, si->lost, si->aborted);
	}
	putchar(']');
}

/*
 * One JSON object; the epoch, an identifier, as a hex string; the
 * subscriber table as the array "subscribers".
 */
static void print_info_json(const char *name,
			    const struct ringcast_ring_stats *info,
			    const struct ringcast_ring_subscriber *subs,
			    int nsubs)
{
	fputs("{\"name\":", stdout);
	json_string(name);
	printf(",\"state\":\"%s\""
	       ",\"slots\":%" PRIu32 ",\"slot_size\":%" PRIu32
	       ",\"capacity\":%" PRIu32 ",\"data_size\":%" PRIu64
	       ",\"max_event\":%" PRIu64 ",\"max_subscribers\":%" PRIu32
	       ",\"reliable\":%" PRIu32 ",\"table_hwm\":%" PRIu32
	       ",\"publishers\":%" PRIu32 ",\"mode\":\"0%03" PRIo32 "\""
	       ",\"size\":%" PRIu64 ",\"abi_version\":%" PRIu32
	       ",\"features\":%" PRIu32 ",\"multi_publisher\":%s"
	       ",\"epoch\":\"0x%016" PRIx64 "\""
	       ",\"epoch_start\":%" PRIu64 ",\"head\":%" PRIu64
	       ",\"oldest\":%" PRIu64 ",\"retained\":%" PRIu64
	       ",\"published\":%" PRIu64 ",\"refused\":%" PRIu64
	       ",\"data_written\":%" PRIu64 ",\"wakes\":%" PRIu64
	       ",\"demote_ns\":%" PRIu64 ",\"blocked\":%" PRIu64
	       ",\"blocked_ns\":%" PRIu64 ",\"demotions\":%" PRIu64
	       ",\"publisher_pid\":%" PRId32
	       ",\"publisher_alive\":%s,\"subscribers\":",
	       state_name(info->state), info->slots, info->slot_size,
	       info->capacity, info->data_size, largest_event(info),
	       info->max_subscribers, info->reliable, info->table_hwm,
	       info->publishers, info->mode, info->size, info->abi_version,
	       info->features,
	       json_bool(info->features & RINGCAST_FEAT_MULTI_PUB), info->epoch,
	       info->epoch_start, info->head, info->oldest, retained(info),
	       info->published, info->refused, info->data_written, info->wakes,
	       info->demote_ns, info->blocked, info->blocked_ns,
	       info->demotions, info->publisher_pid,
	       alive_name(info->publisher_alive, true));
	print_subs_json(subs, nsubs);
	printf(",\"blocked_since_ns\":%" PRIu64, info->blocked_since_ns);
	print_bridges_json(name);
	putchar('}');
}

/* The options of ls.  Return: 0, OPT_HELP or OPT_BAD. */
static int opt_json(const struct command *cmd, int argc, char **argv,
		    bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) == 'j')
		*json = true;
	return c;
}

enum stat_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_PROMETHEUS };

/* The options of stat.  Return: 0, OPT_HELP or OPT_BAD. */
static int opt_format(const struct command *cmd, int argc, char **argv,
		      enum stat_format *fmt)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = next_opt(cmd, argc, argv, ":h", longopts)) > 0) {
		if (c == 'j')
			*fmt = FORMAT_JSON;
		else if (!strcmp(optarg, "text"))
			*fmt = FORMAT_TEXT;
		else if (!strcmp(optarg, "json"))
			*fmt = FORMAT_JSON;
		else if (!strcmp(optarg, "prometheus"))
			*fmt = FORMAT_PROMETHEUS;
		else {
			usage_error(cmd,
				    "--format: '%s' is not text, json or "
				    "prometheus",
				    optarg);
			return OPT_BAD;
		}
	}
	return c;
}

static void print_info_prometheus(const char *name,
				  const struct ringcast_ring_stats *info,
				  const struct ringcast_ring_subscriber *subs,
				  int nsubs)
{
	struct prom_ring r = {
		.name = name,
		.st = *info,
		.subs = subs,
		.nsubs = nsubs,
	};

	prom_read_bridges(name, &r);
	prom_write(stdout, PROM_TEXT, &r, 1);
}

int cmd_stat(const struct command *cmd, int argc, char **argv)
{
	struct ringcast_ring_stats info;
	struct ringcast_ring_subscriber *subs;
	enum stat_format fmt = FORMAT_TEXT;
	const char *name;
	int err, nsubs;

	err = opt_format(cmd, argc, argv, &fmt);
	if (err)
		return opt_status(err);
	name = one_name(cmd, argc, argv);
	if (!name)
		return EXIT_USAGE;

	err = get_ring(name, &info, &subs, &nsubs);
	if (err < 0)
		return ring_error(cmd, name, err);
	if (fmt == FORMAT_JSON) {
		print_info_json(name, &info, subs, nsubs);
		putchar('\n');
	} else if (fmt == FORMAT_PROMETHEUS) {
		print_info_prometheus(name, &info, subs, nsubs);
	} else {
		print_info_text(name, &info);
		print_bridges_text(name);
		print_subs_text(&info, subs, nsubs);
	}
	free(subs);
	return finish_output(cmd);
}

int cmd_ls(const struct command *cmd, int argc, char **argv)
{
	struct name_list list = { 0 };
	bool json = false;
	size_t i;
	int err;

	err = opt_json(cmd, argc, argv, &json);
	if (err)
		return opt_status(err);
	err = no_args(cmd, argc, argv);
	if (err)
		return err;

	err = list_rings(&list);
	if (err < 0)
		return list_error(cmd, err);

	if (json)
		putchar('[');
	for (i = 0; i < list.n; i++) {
		struct ringcast_ring_stats info;
		struct ringcast_ring_subscriber *subs;
		int nsubs;

		if (!json) {
			puts(list.names[i]);
			continue;
		}
		if (i)
			putchar(',');
		err = get_ring(list.names[i], &info, &subs, &nsubs);
		if (err == 0) {
			print_info_json(list.names[i], &info, subs, nsubs);
			free(subs);
			continue;
		}
		/* Removed meanwhile, unreadable or corrupted: say which. */
		fputs("{\"name\":", stdout);
		json_string(list.names[i]);
		fputs(",\"error\":", stdout);
		json_string(ringcast_strerror(err));
		putchar('}');
	}
	if (json)
		puts("]");
	free_names(&list);
	return finish_output(cmd);
}
