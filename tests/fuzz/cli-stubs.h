/* SPDX-License-Identifier: MIT */
/*
 * The library calls of the ringcast tool, answered from a scenario (see
 * cli-stubs.c), for the fuzz harness of its argument parsing.
 */
#ifndef RINGCAST_FUZZ_CLI_STUBS_H
#define RINGCAST_FUZZ_CLI_STUBS_H

#include <stdint.h>

/* fz_cli_scenario() - take the next run's scenario from 4 bytes */
void fz_cli_scenario(const uint8_t *s);

/* fz_cli_stubs_reset() - forget the handles of the last run */
void fz_cli_stubs_reset(void);

#endif
