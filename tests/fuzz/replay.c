// SPDX-License-Identifier: MIT
/*
 * Replay a fuzz harness's corpus without libFuzzer: the main() of the
 * harnesses in the builds that are not the fuzz build.  Every file named
 * on the command line, or found in a directory named there, is fed to
 * LLVMFuzzerTestOneInput() once, in name order, each in a child process
 * of its own.  A crash is the failure (the harness aborts on anything
 * unexpected); whatever a crashed input left in /dev/shm under the
 * harness's names (fz-<pid>-*) is removed.  TAP on stdout, one line per
 * input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

/* Remove what a harness run in process pid left in /dev/shm. */
static void clean_shm(pid_t pid)
{
	char prefix[2][64], path[512];
	struct dirent *de;
	unsigned int k;
	DIR *d;

	snprintf(prefix[0], sizeof(prefix[0]), "ringcast.fz-%d-", (int)pid);
	snprintf(prefix[1], sizeof(prefix[1]), "ringcast-lock.fz-%d-",
		 (int)pid);
	d = opendir("/dev/shm");
	if (!d)
		return;
	while ((de = readdir(d)))
		for (k = 0; k < 2; k++)
			if (!strncmp(de->d_name, prefix[k],
				     strlen(prefix[k]))) {
				snprintf(path, sizeof(path), "/dev/shm/%s",
					 de->d_name);
				unlink(path);
			}
	closedir(d);
}

static int run_file(const char *path, int n, int argc, char **argv)
{
	int status = 0;
	struct stat st;
	pid_t pid;
	uint8_t *buf;
	FILE *f;
	size_t len;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		printf("not ok %d - %s: %s\n", n, path, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		printf("not ok %d - %s: cannot read\n", n, path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* In the child: it may take stdout, which carries TAP. */
		LLVMFuzzerInitialize(&argc, &argv);
		LLVMFuzzerTestOneInput(buf, len);
		_exit(0);
	}
	free(buf);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0)
		clean_shm(pid);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("not ok %d - %s: %s %d\n", n, path,
		       pid < 0		   ? "fork failed" :
		       WIFSIGNALED(status) ? "killed by signal" :
					     "exit",
		       pid < 0		   ? errno :
		       WIFSIGNALED(status) ? WTERMSIG(status) :
					     WEXITSTATUS(status));
		return 1;
	}
	printf("ok %d - %s\n", n, path);
	fflush(stdout);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char **files = NULL;
	size_t nfiles = 0, cap = 0, i;
	int a, failed = 0;

	for (a = 1; a < argc; a++) {
		struct dirent *de;
		DIR *d = opendir(argv[a]);

		if (!d) {
			if (nfiles == cap) {
				cap = cap ? cap * 2 : 64;
				files = realloc(files, cap * sizeof(*files));
				if (!files)
					return 1;
			}
			files[nfiles++] = strdup(argv[a]);
			continue;
		}
		while ((de = readdir(d))) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[a],
				 de->d_name);
			if (nfiles == cap) {
				cap = cap ? cap * 2 : 64;
				files = realloc(files, cap * sizeof(*files));
				if (!files)
					return 1;
			}
			files[nfiles++] = strdup(path);
		}
		closedir(d);
	}
	if (!nfiles) {
		printf("1..0 # SKIP no inputs\n");
		return 0;
	}
	qsort(files, nfiles, sizeof(*files), by_name);
	printf("1..%zu\n", nfiles);
	for (i = 0; i < nfiles; i++) {
		failed |= run_file(files[i], (int)i + 1, argc, argv);
		free(files[i]);
	}
	free(files);
	return failed;
}
