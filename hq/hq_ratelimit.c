/*
 * hq_ratelimit.c — token buckets in a chained hash table under one mutex
 * (see hq_ratelimit.h).  Time is CLOCK_MONOTONIC, so a clock change does
 * not refill or drain anything.
 */
#include "hq_ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 4096

struct entry {
    struct entry *next;
    double tokens;
    double last;            /* monotonic seconds of the last refill */
    char key[];
};

struct hq_ratelimit {
    pthread_mutex_t lock;
    double burst, per_sec;
    size_t count;
    struct entry *table[NBUCKETS];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % NBUCKETS;
}

bb_err hq_ratelimit_new(unsigned burst, double per_sec, hq_ratelimit **out)
{
    hq_ratelimit *rl = calloc(1, sizeof *rl);

    *out = NULL;
    if (!rl)
        return BB_ERR_NOMEM;
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl);
        return BB_ERR_INTERNAL;
    }
    rl->burst = burst;
    rl->per_sec = per_sec > 0 ? per_sec : 1;
    *out = rl;
    return BB_OK;
}

void hq_ratelimit_free(hq_ratelimit *rl)
{
    size_t i;

    if (!rl)
        return;
    for (i = 0; i < NBUCKETS; i++) {
        struct entry *e = rl->table[i];
        while (e) {
            struct entry *n = e->next;
            free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* Drop buckets that are full again: they behave exactly like new ones. */
static void forget_full(hq_ratelimit *rl, double t)
{
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
        struct entry **pp = &rl->table[i];
        while (*pp) {
            struct entry *e = *pp;
            if (e->tokens + (t - e->last) * rl->per_sec >= rl->burst) {
                *pp = e->next;
                free(e);
                rl->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

unsigned hq_ratelimit_take(hq_ratelimit *rl, const char *key)
{
    double t = now_s(), wait;
    size_t h = hash(key), n;
    struct entry *e;
    unsigned result = 0;

    pthread_mutex_lock(&rl->lock);
    for (e = rl->table[h]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            break;
    if (!e) {
        if (rl->count >= HQ_RATELIMIT_MAX_KEYS)
            forget_full(rl, t);
        n = strlen(key);
        if (rl->count >= HQ_RATELIMIT_MAX_KEYS || !(e = malloc(sizeof *e + n + 1))) {
            /* No room to remember this key: let it through rather than refuse everyone. */
            pthread_mutex_unlock(&rl->lock);
            return 0;
        }
        memcpy(e->key, key, n + 1);
        e->tokens = rl->burst;
        e->last = t;
        e->next = rl->table[h];
        rl->table[h] = e;
        rl->count++;
    }
    e->tokens += (t - e->last) * rl->per_sec;
    if (e->tokens > rl->burst)
        e->tokens = rl->burst;
    e->last = t;
    if (e->tokens >= 1) {
        e->tokens -= 1;
    } else {
        wait = ceil((1 - e->tokens) / rl->per_sec);
        result = wait < 1 ? 1 : wait > 3600 ? 3600 : (unsigned)wait;
    }
    pthread_mutex_unlock(&rl->lock);
    return result;
}
