/*
 * bb_rand — cryptographically secure random bytes from the kernel
 * (getrandom(2)), for keys, nonces, tokens and UUIDv7.
 */
#ifndef BB_RAND_H
#define BB_RAND_H

#include <stddef.h>
#include "bb_err.h"

/* Fill buf with len random bytes. Fails only if the kernel refuses. */
bb_err bb_random(void *buf, size_t len);

/*
 * The same, with the signature mbedtls expects of an f_rng callback
 * (ctx unused; returns 0 on success, -1 on failure).
 */
int bb_rng(void *ctx, unsigned char *buf, size_t len);

#endif
