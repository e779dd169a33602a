/*
 * bb_rand.c — getrandom(2) wrapper.  getrandom blocks only until the kernel
 * pool is initialised once after boot and never returns short reads for
 * requests <= 256 bytes; we loop anyway for larger ones and EINTR.
 */
#include "bb_rand.h"

#include <errno.h>
#include <sys/random.h>

bb_err bb_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return BB_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
    }
    return BB_OK;
}

int bb_rng(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return bb_random(buf, len) == BB_OK ? 0 : -1;
}
