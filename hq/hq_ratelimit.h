/*
 * hq_ratelimit — a token bucket per key (a device id), thread-safe.
 *
 * Each key starts with `burst` tokens and regains `per_sec` tokens a
 * second, up to `burst`; a request takes one.  Keys are device ids that
 * have already proven themselves (the limiter is asked after the batch
 * signature holds), so the table grows only with enrolled devices; it is
 * capped anyway (HQ_RATELIMIT_MAX_KEYS), and a full table forgets buckets
 * that have refilled completely.
 */
#ifndef HQ_RATELIMIT_H
#define HQ_RATELIMIT_H

#include "bb_err.h"

#define HQ_RATELIMIT_MAX_KEYS 100000

typedef struct hq_ratelimit hq_ratelimit;

bb_err hq_ratelimit_new(unsigned burst, double per_sec, hq_ratelimit **out);
void hq_ratelimit_free(hq_ratelimit *rl);

/* Take a token for key: 0 when allowed, else whole seconds to wait (>= 1). */
unsigned hq_ratelimit_take(hq_ratelimit *rl, const char *key);

#endif
