// SPDX-License-Identifier: MIT
/*
 * ringcast-bench: RouDi, the daemon iceoryx needs, started for the
 * iceoryx rows and stopped after them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

pid_t roudi_pid;

void roudi_stop(void)
{
	int i;

	if (roudi_pid <= 0)
		return;
	kill(roudi_pid, SIGTERM);
	for (i = 0; i < 1000; i++) {
		struct timespec ts = { .tv_nsec = 10000000 };

		if (waitpid(roudi_pid, NULL, WNOHANG) == roudi_pid) {
			roudi_pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(roudi_pid, SIGKILL);
	waitpid(roudi_pid, NULL, 0);
	roudi_pid = 0;
}

/*
 * A running RouDi holds an flock() on its lock file; a socket left by a
 * RouDi that was killed is not held, and a new one replaces it.
 */
static bool roudi_lock_held(void)
{
	int lock = open(ROUDI_SOCKET ".lock", O_RDONLY | O_CLOEXEC);
	bool held;

	if (lock < 0)
		return false;
	held = flock(lock, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(lock); /* drops our lock, if we took it */
	return held;
}

/* Our RouDi holds its lock file: it has started. */
static bool roudi_ready(void)
{
	return roudi_lock_held() && !access(ROUDI_SOCKET, F_OK);
}

/* Start iox-roudi unless one runs; NULL, or why iceoryx cannot run. */
const char *roudi_start(void)
{
	static char why[160];
	const char *path = "/usr/bin/iox-roudi";
	int i, status, devnull;

	if (access(path, X_OK) < 0) {
		snprintf(why, sizeof(why), "%s is not installed", path);
		return why;
	}
	if (roudi_lock_held()) {
		snprintf(why, sizeof(why),
			 "another iox-roudi runs (it holds %s.lock)",
			 ROUDI_SOCKET);
		return why;
	}
	roudi_pid = fork();
	if (roudi_pid < 0) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		return why;
	}
	if (roudi_pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		setpgid(0, 0);
		execl(path, path, "-m", "off", "-l", "error", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		struct timespec ts = { .tv_nsec = 10000000 };

		if (roudi_ready())
			return NULL;
		if (waitpid(roudi_pid, &status, WNOHANG) == roudi_pid) {
			roudi_pid = 0;
			snprintf(why, sizeof(why),
				 "iox-roudi exited at start (status 0x%x)",
				 status);
			return why;
		}
		nanosleep(&ts, NULL);
	}
	roudi_stop();
	snprintf(why, sizeof(why), "iox-roudi did not start in 5 s");
	return why;
}
