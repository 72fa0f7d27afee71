// SPDX-License-Identifier: MIT
/*
 * ringcast-bench: the machine it runs on and the load of the rest of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

unsigned int ncpu;
double tsc_per_ns;
double start_load; /* foreign load at start, in CPUs */

void cpu_sample(struct cpu_sample *s)
{
	unsigned long long v[10] = { 0 };
	struct rusage self, kids;
	FILE *f = fopen("/proc/stat", "r");
	int i;

	memset(s, 0, sizeof(*s));
	if (f) {
		if (fscanf(f,
			   "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9]) >= 8) {
			/* user nice system idle iowait irq softirq steal */
			for (i = 0; i < 8; i++)
				s->total += v[i];
			s->busy = s->total - v[3] - v[4];
		}
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	s->ours_us = (uint64_t)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
				kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) *
			     1000000ull +
		     (uint64_t)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
				kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);
}

/*
 * Foreign CPU use between two samples, in CPUs (0 to ncpu): what the
 * machine used less what this process and its children used.
 */
double foreign_cpus(const struct cpu_sample *a, const struct cpu_sample *b)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	double total_s, busy_s, ours_s;

	if (b->total <= a->total)
		return 0;
	total_s = (double)(b->total - a->total) / hz / ncpu;
	busy_s = (double)(b->busy - a->busy) / hz;
	ours_s = (double)(b->ours_us - a->ours_us) / 1e6;
	if (busy_s < ours_s)
		return 0;
	return (busy_s - ours_s) / total_s;
}

/* Idle-window sample: the rest of the machine's CPU use, in CPUs. */
double sample_idle_load(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };
	struct cpu_sample a, b;

	cpu_sample(&a);
	nanosleep(&ts, NULL);
	cpu_sample(&b);
	return foreign_cpus(&a, &b);
}

/*
 * How an idle CPU waits for work decides what a sleeping reader's wake-up
 * costs.  A CPU that halts (in a virtual machine, a vCPU that exits to the
 * host) is woken by an interrupt the host delivers: tens of microseconds
 * or a few, depending on whether the host happens to poll for it, which
 * the guest can neither see nor set.  With --idle poll the harness holds a
 * PM QoS request of zero exit latency (/dev/cpu_dma_latency, the interface
 * tuned's latency-performance profile uses) for as long as it runs, so
 * idle CPUs poll and a wake-up costs what the kernel's and the transport's
 * own paths cost.  The request ends when the descriptor closes, at exit.
 */
static int idle_fd = -1;

void idle_hold(void)
{
	int32_t zero = 0;
	int e;

	idle_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (idle_fd >= 0 &&
	    write(idle_fd, &zero, sizeof(zero)) == (ssize_t)sizeof(zero))
		return;
	e = errno;
	fprintf(stderr,
		"ringcast-bench: --idle poll: /dev/cpu_dma_latency: %s%s\n",
		strerror(e), e == EACCES ? " (it needs root)" : "");
	exit(2);
}

void idle_describe(struct machine *m)
{
	char drv[64] = "none";
	FILE *f = fopen("/sys/devices/system/cpu/cpuidle/current_driver", "r");

	if (f) {
		if (fgets(drv, sizeof(drv), f))
			drv[strcspn(drv, "\n")] = 0;
		fclose(f);
	}
	snprintf(m->idle, sizeof(m->idle), "%s (cpuidle driver %s)",
		 idle_fd >= 0 ? "poll: /dev/cpu_dma_latency held at 0" :
				"system: as the machine is set",
		 drv);
}

void machine_describe(struct machine *m)
{
	char line[512];
	struct utsname u;
	bool constant = false, nonstop = false, hv = false;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && p &&
			    !strcmp(m->cpu, "unknown")) {
				p += 2;
				p[strcspn(p, "\n")] = 0;
				snprintf(m->cpu, sizeof(m->cpu), "%s", p);
			}
			if (!strncmp(line, "flags", 5)) {
				constant = strstr(line, " constant_tsc");
				nonstop = strstr(line, " nonstop_tsc");
				hv = strstr(line, " hypervisor");
			}
		}
		fclose(f);
	}
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname,
			 u.release, u.machine);
	snprintf(m->compiler, sizeof(m->compiler), "gcc %s", __VERSION__);
	snprintf(m->tsc, sizeof(m->tsc), "%.3f GHz%s%s%s", tsc_per_ns,
		 constant ? ", constant" : "", nonstop ? ", nonstop" : "",
		 hv ? "; virtual machine" : "");
	{
		double la[1];

		m->loadavg = getloadavg(la, 1) == 1 ? la[0] : -1;
	}
}

/*
 * How far apart the two CPUs are now: a short physical-limit ping-pong.  A
 * virtual machine's vCPUs move between the host's cores: two threads of
 * one core pass a line in about 15 ns, two cores of one L3 in 35 ns, two
 * dies in several times that, and every spinning row follows.  Printed
 * before each repetition so that a repetition the host moved is seen.
 */
double line_probe(const struct options *o)
{
	struct row rw = {
		.cf = { .metric = METRIC_PINGPONG, .size = 64, .nsubs = 1 },
		.busy = true,
		.pin = ncpu > 1,
	};
	struct bench_result res;
	int tp = tp_index("physical-limit");

	if (tp < 0 || ncpu < 2)
		return NAN;
	rw.tp = (unsigned int)tp;
	run_one(o, &rw, 20000, 2000, &res);
	return res.status == RES_OK ? res.value : NAN;
}
