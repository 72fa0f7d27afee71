// SPDX-License-Identifier: MIT

// Package forkprobe lets the tests use a handle in a forked child, which
// Go cannot do (a Go program forks only to exec): the child is C only.
package forkprobe

/*
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ringcast.h>

// Fork; in the child publish on the inherited handle and exit with the
// negated return code; return it, or -1000 if the child did not exit.
static int probe_publish(void *pub)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(-ringcast_pub_publish(pub, 1, "x", 1) & 0xff);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1000;
	return -WEXITSTATUS(st);
}
*/
import "C"

import "unsafe"

// PublishInChild publishes one event on pub (a *C.struct_ringcast_pub) in
// a forked child and returns what the call returned there (a negative
// errno, or 0..255 wrapped).
func PublishInChild(pub unsafe.Pointer) int {
	return int(C.probe_publish(pub))
}
