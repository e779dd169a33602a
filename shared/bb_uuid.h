/*
 * bb_uuid — UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, a 12-bit
 * counter in rand_a so that ids made in the same millisecond by one process
 * still sort in creation order (method 1 of RFC 9562 §6.2), then random bits.
 * Record ids are made on the device, so they must never collide across
 * devices: 62 random bits per id make that practically impossible.
 */
#ifndef BB_UUID_H
#define BB_UUID_H

#include <stdbool.h>
#include <stdint.h>
#include "bb_err.h"

#define BB_UUID_STRLEN 36   /* without the NUL */

/* Write a new UUIDv7 as 36 lowercase chars + NUL into out. */
bb_err bb_uuid7(char out[BB_UUID_STRLEN + 1]);

/* The same, with the time given (for tests and benchmarks). */
bb_err bb_uuid7_at(uint64_t unix_ms, char out[BB_UUID_STRLEN + 1]);

/* True when s is a well-formed UUID string (any version, lowercase or upper). */
bool bb_uuid_valid(const char *s);

#endif
