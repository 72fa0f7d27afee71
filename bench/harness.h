/* SPDX-License-Identifier: MIT */
/*
 * harness.h - the benchmark harness shared by ringcast-bench and its peers.
 *
 * One harness per metric, every transport plugged into each (Concurrency
 * Kit's layout): a transport is a table of small operations on a "link"
 * (one publisher to N subscribers), and the harness owns the processes,
 * the clock, the verification of every message and the report.
 *
 * Processes.  The runner process is the publisher (ping-pong: the pinger);
 * it forks one process per subscriber (ping-pong: the ponger).  Each side
 * opens its end of the link (non-blocking), then waits until the link is
 * connected (sub_sync before pub_sync in every process, so no transport can
 * deadlock on the order), then the publisher sends warm + count messages
 * and ends the stream.
 *
 * Messages.  Message i carries i in its first 8 bytes and, when it is at
 * least 24 bytes long, i ^ TAIL_MAGIC in its last 8; the one-way metric puts
 * the publisher's TSC in bytes 8-15.  Receivers check the length, both
 * words and the order of every message: indexes never seen are losses
 * (those the transport declared, like ringcast's -EOVERFLOW, are counted
 * apart), an index lower than expected or a bad word is a corruption.
 *
 * Clocks.  Throughput and fan-out read CLOCK_MONOTONIC twice per receiver
 * (at the first message after the warm-up and at the last), never per
 * message; ping-pong reads it twice in the pinger.  The one-way
 * distribution reads the TSC at the send and at the receipt of every
 * message (the TSC is invariant and synchronised across CPUs here, see the
 * machine description), converted with a rate calibrated against
 * CLOCK_MONOTONIC.
 */
#ifndef RINGCAST_BENCH_HARNESS_H
#define RINGCAST_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bench_metric {
	METRIC_THROUGHPUT, /* 1 -> 1, messages/s */
	METRIC_PINGPONG, /* RTT/2 in ns, busy readers */
	METRIC_ONEWAY, /* one-way latency distribution at a fixed rate */
	METRIC_FANOUT, /* 1 -> N, deliveries/s in total */
	METRIC_CHURN, /* 1 -> N at a fixed rate: publish p99 with/without churn */
	METRIC_COUNT,
};

/* Transport flags. */
#define T_BUSY 0x1u /* readers always poll (never sleep) */
#define T_SLEEP 0x2u /* readers always use their spin-then-sleep wait */
#define T_EXIT 0x4u /* its processes must end with exit(), not _exit() */
#define T_RING 0x8u /* a ring (bench_ring_geometry()): warm up past it */

/* Slots of the rings of throughput and fan-out runs (latency: 4096). */
#define STREAM_SLOTS 16384u
/* Bytes of slots a ring transport's ring stays within (down to 16 slots). */
#define RING_BYTES_MAX (2u << 20)

/* Quantiles of the one-way distribution that a result carries. */
#define NQ 18
extern const double bench_quantiles[NQ];

/*
 * Churn: while a 1 -> N run publishes at cfg->rate (CHURN_RATE from
 * ringcast-bench: each event wakes up to N sleepers), CHURN_PROCS more
 * processes attach and detach a subscriber (reliable and lossy in turn)
 * every CHURN_EVERY_NS each, in every other of CHURN_PHASES phases of the
 * timed events: the publisher times each publish call, and the result is
 * p99 with churn / p99 without (res->q: CHURN_Q_*).
 */
#define CHURN_PROCS 2u
#define CHURN_RATE 1000u
#define CHURN_EVERY_NS 1000000u
#define CHURN_PHASES 8u
enum {
	CHURN_Q_P99_QUIET,
	CHURN_Q_P99_CHURN,
	CHURN_Q_P50_QUIET,
	CHURN_Q_P50_CHURN,
	CHURN_Q_CYCLES, /* attach and detach cycles done */
};

#define TAIL_MAGIC 0x5a5aa5a5c3c33c3cull
/* Subscriber processes of one run (fan-out to N = 1024). */
#define MAX_SUBS 1024u
#define MAX_BATCH 256u

/*
 * Workloads.  Fixed: every message of a run is cfg->size bytes.  Mixed:
 * message i is bench_mix_len(i) bytes, from a sequence of MIX_LEN sizes
 * drawn once from cfg->seed, log-uniform from MIX_MIN to the workload's
 * largest (MIX_MAX, or MIX_SMALL_MAX for mixed-small), replayed in a
 * loop: every transport and every process sends and expects the same
 * sizes.  cfg->size is then the largest size (buffers, fixed slots).
 */
enum bench_mix { MIX_NONE = 0, MIX_MIXED = 1, MIX_SMALL = 2, MIX_COUNT };

#define MIX_MIN 16u
#define MIX_MAX 65536u
#define MIX_SMALL_MAX 1024u
#define MIX_LEN (1u << 16)
#define MIX_SEED 1u
/* Bytes of the data area of a ring carrying a mixed workload (ringcast's
 * default) and of the bare variable-size ring. */
#define MIX_DATA_BYTES (4u << 20)
/*
 * Fixed payloads from DATA_MIN bytes on spill out of ringcast's default
 * slot (256 bytes, a 32-byte header) into its data area: the rows that
 * measure the data area with fixed sizes (ringcast-data, bare-varring)
 * run those only.
 */
#define DATA_MIN 225u

struct bench_cfg {
	uint32_t metric;
	uint32_t size; /* payload bytes, >= 8 (one-way: >= 16) */
	uint32_t nsubs;
	uint32_t batch; /* messages per send call where a transport batches */
	uint64_t count; /* messages (round trips) timed */
	uint64_t warm; /* messages (round trips) before the clock starts */
	uint32_t rate; /* one-way: messages per second */
	bool busy; /* readers poll */
	bool pin; /* one CPU per process */
	bool mlock; /* mlockall() in every process */
	double tsc_per_ns;
	uint32_t timeout_s; /* the runner gives up after this */
	uint32_t limit_ms; /* ping-pong: stop timing after this (0: never) */
	uint32_t mix; /* enum bench_mix */
	uint32_t seed; /* of the mixed sequence */
	char tag[48]; /* unique per run: names of rings, queues, sockets */
};

enum bench_status { RES_OK = 0, RES_SKIP = 1, RES_FAIL = 2 };

struct bench_result {
	int status;
	double value; /* msg/s, deliveries/s or ns */
	uint64_t received; /* deliveries, all subscribers */
	uint64_t lost; /* indexes never delivered, all subscribers */
	uint64_t declared; /* of which the transport declared */
	uint64_t bad; /* corrupted or out of order */
	double wakes_per_event; /* futex wakes the publisher made; < 0: n/a */
	double q[NQ]; /* one-way latency quantiles, ns */
	char reason[240];
};

/* What a receiver hands the harness. */
struct rx {
	const void *data;
	size_t len;
	uint64_t lost; /* with -EOVERFLOW */
};

/* What the publisher hands a transport (the layout of ringcast_msg). */
struct txmsg {
	uint32_t type;
	uint32_t len;
	const void *data;
};

/*
 * struct transport - one transport plugged into the harness
 *
 * Every operation returns 0 or a negative errno.  create() runs in the
 * runner before any fork (names, shared mappings, descriptors); the open
 * and sync calls run in the process that takes that role (@tag names
 * the link, unique on the machine); recv() blocks
 * (or polls, with cfg->busy) until a message, -EOVERFLOW with the count
 * lost, or -EPIPE at the end of the stream.  reserve()/commit() replace
 * send() for zero-copy publishers (reserve_batch()/commit_batch() for a
 * batch of them), release() ends a zero-copy receive
 * (-EOVERFLOW: what was read must be discarded).  destroy() frees this
 * process's part; the creator also removes names.  skip() says why the
 * transport cannot run a configuration; run() replaces the harness for a
 * transport that is not a message channel (the physical limit).
 * churn() attaches a subscriber and detaches it again, in a process of
 * its own (the churn metric; @round counts its calls).
 */
struct transport {
	const char *name;
	unsigned int flags;
	const char *(*skip)(const struct bench_cfg *cfg, char *buf, size_t len);
	int (*run)(const struct bench_cfg *cfg, struct bench_result *res);
	int (*create)(void **lp, const struct bench_cfg *cfg, const char *tag,
		      unsigned int nsubs);
	int (*sub_open)(void *l, unsigned int idx);
	int (*sub_sync)(void *l, unsigned int idx);
	int (*pub_open)(void *l);
	int (*pub_sync)(void *l);
	int (*send)(void *l, const struct txmsg *msgs, unsigned int n);
	int (*reserve)(void *l, size_t len, void **buf);
	int (*commit)(void *l, size_t len);
	/* Optional, with reserve(): n slots at once, filled, committed. */
	int (*reserve_batch)(void *l, unsigned int n, size_t len, void **bufs);
	int (*commit_batch)(void *l, unsigned int n, size_t len);
	int (*recv)(void *l, unsigned int idx, struct rx *m);
	int (*release)(void *l, unsigned int idx, struct rx *m);
	int (*pub_close)(void *l);
	void (*sub_close)(void *l, unsigned int idx);
	void (*destroy)(void *l, bool creator);
	int (*churn)(void *l, unsigned int round);
	/* Publisher side, after pub_close(): fill wakes_per_event. */
	void (*stats)(void *l, struct bench_result *res);
};

/* Built-in transports (the driver's own). */
extern const struct transport t_ringcast_lossy_busy;
extern const struct transport t_ringcast_lossy_sleep;
extern const struct transport t_ringcast_reliable;
extern const struct transport t_ringcast_zero_copy;
extern const struct transport t_pipe;
extern const struct transport t_unix_stream;
extern const struct transport t_unix_seqpacket;
extern const struct transport t_mq;
extern const struct transport t_eventfd;
extern const struct transport t_physical_limit;
extern const struct transport t_bare_ring;
extern const struct transport t_bare_ring_futex;
extern const struct transport t_bare_varring;
extern const struct transport t_bare_varring_futex;
extern const struct transport t_ringcast_nodata;
extern const struct transport t_ringcast_data;
/* Peers, each in its own executable. */
extern const struct transport t_zeromq;
extern const struct transport t_iceoryx;

/* Run one measurement; never returns an error: res->status says. */
void bench_run(const struct transport *t, const struct bench_cfg *cfg,
	       struct bench_result *res);

/* One line "RESULT ..." describing @res, and its parser. */
void bench_result_print(const struct bench_result *res, int fd);
int bench_result_parse(const char *line, struct bench_result *res);

/* The command-line form of a configuration (for peers), and its parser. */
int bench_cfg_to_args(const struct bench_cfg *cfg, char *buf, size_t len);
int bench_cfg_parse(int argc, char **argv, struct bench_cfg *cfg,
		    const char **transport);

/*
 * The geometry of a ring transport's ring (ringcast's and the bare rings'
 * alike): slots of the smallest power of two from 64 bytes that holds a
 * @size-byte payload and a 32-byte slot header; STREAM_SLOTS of them
 * (ping-pong and one-way: 4096), halved while the ring is above
 * RING_BYTES_MAX: a ring larger than the caches measures the memory, not
 * the transport (ringcast's default ring is 1 MiB, a pipe's 64 KiB).
 * Returns the slots and sets *@slot_size.
 */
uint32_t bench_ring_geometry(uint32_t metric, uint32_t size,
			     uint32_t *slot_size);

/*
 * The data area of a ring that carries @size-byte payloads through it
 * (ringcast's and the bare variable-size ring's alike): MIX_DATA_BYTES
 * (ringcast's default) for a mixed workload, and for fixed payloads
 * doubled until it is at least 16 of them (as a fixed-slot ring has at
 * least 16 slots).
 */
uint64_t bench_data_geometry(uint32_t mix, uint32_t size);

/*
 * The sizes of a mixed workload: bench_mix_init() draws the sequence of
 * @mix from @seed (before the processes of a run fork: they share it);
 * bench_mix_len() is message @i's length; bench_mix_mean() the mean
 * payload of messages @from to @from + @n - 1.
 */
int bench_mix_init(uint32_t mix, uint32_t seed);
uint32_t bench_mix_max(uint32_t mix);
const char *bench_mix_name(uint32_t mix);
double bench_mix_mean(uint64_t from, uint64_t n);
extern uint32_t *bench_mix_sizes;

static inline uint32_t bench_msg_len(const struct bench_cfg *cfg, uint64_t i)
{
	return cfg->mix ? bench_mix_sizes[i & (MIX_LEN - 1)] : cfg->size;
}

/* Ping-pong: the TSC after which the pinger stops (cfg->limit_ms). */
uint64_t pingpong_deadline(const struct bench_cfg *cfg);

/* RTT/2 of @trips round trips, the first cfg->warm untimed. */
double pingpong_value(const struct bench_cfg *cfg, uint64_t trips,
		      uint64_t t_begin, uint64_t t0, uint64_t t1);

/* Small helpers, for the other bench programs too. */
uint64_t now_ns(void);
/* Sorts @v (so v[0] and v[n - 1] are the min and max); n >= 1. */
double bench_median(double *v, unsigned int n);
double tsc_calibrate(void);
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
void bench_fail(struct bench_result *res, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pin_to_cpu(unsigned int cpu);
/* Raises RLIMIT_NOFILE's soft limit to the hard one; returns the soft one. */
uint64_t bench_raise_nofile(void);

static inline uint64_t rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return now_ns();
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

#endif /* RINGCAST_BENCH_HARNESS_H */
