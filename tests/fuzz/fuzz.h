/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz-*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput().  In the fuzz build
 * (clang, -fsanitize=fuzzer) libFuzzer drives it; in every other build
 * replay.c's main() feeds it the files of the seed corpus, so that every
 * input that once crashed stays a regression test.
 *
 * A harness never asserts with Check: a finding is a crash, so an
 * unexpected return code calls fz_fail(), which prints it and aborts.
 */
#ifndef RINGCAST_FUZZ_H
#define RINGCAST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* fz_name() - a fresh ring name: fz-<pid>-<n> (the runner cleans these) */
const char *fz_name(void);

/*
 * fz_expect() - abort unless @r is 0, > 0 (when @nonneg) or one of the
 * negative codes listed in @ok (terminated by 0)
 */
void fz_expect(const char *what, int r, int nonneg, const int *ok);

__attribute__((noreturn)) void fz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
