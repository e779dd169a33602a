/*
 * bb_agree.c — agreement digests (see bb_agree.h).
 */
#include "bb_agree.h"
#include "bb_batch.h"
#include "bb_json.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

struct entry {
    char *kind, *id;
    char day[11];
    int64_t rev;
    char sha[BB_SHA256_HEX];
};

struct bb_agree {
    struct entry *e;
    size_t n, cap;
    int sorted;
};

bb_err bb_agree_new(bb_agree **out)
{
    return (*out = calloc(1, sizeof **out)) ? BB_OK : BB_ERR_NOMEM;
}

void bb_agree_free(bb_agree *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->n; i++) {
        free(a->e[i].kind);
        free(a->e[i].id);
    }
    free(a->e);
    free(a);
}

bb_err bb_agree_add(bb_agree *a, const char *kind, int64_t occurred_unix, const char *id,
                    int64_t rev, const char *body, size_t len, bb_errbuf *eb)
{
    char sha[BB_SHA256_HEX];

    bb_sha256_hex((const uint8_t *)body, len, sha);
    return bb_agree_add_hashed(a, kind, occurred_unix, id, rev, sha, eb);
}

bb_err bb_agree_add_hashed(bb_agree *a, const char *kind, int64_t occurred_unix,
                           const char *id, int64_t rev, const char *sha256_hex, bb_errbuf *eb)
{
    struct entry *x;
    int y, m, d;

    if (bb_civil_from_days(bb_taipei_day(occurred_unix), &y, &m, &d) != BB_OK)
        return bb_fail(eb, BB_ERR_INVALID, "record %.40s: its time is outside the calendar", id);
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        struct entry *ne = realloc(a->e, nc * sizeof *ne);
        if (!ne)
            return bb_fail(eb, BB_ERR_NOMEM, "agreement: out of memory");
        a->e = ne;
        a->cap = nc;
    }
    x = &a->e[a->n];
    memset(x, 0, sizeof *x);
    if (!(x->kind = strdup(kind)) || !(x->id = strdup(id))) {
        free(x->kind);
        free(x->id);
        return bb_fail(eb, BB_ERR_NOMEM, "agreement: out of memory");
    }
    snprintf(x->day, sizeof x->day, "%04d-%02d-%02d", y, m, d);
    x->rev = rev;
    snprintf(x->sha, sizeof x->sha, "%s", sha256_hex);
    a->n++;
    a->sorted = 0;
    return BB_OK;
}

static int by_group_id(const void *p, const void *q)
{
    const struct entry *x = p, *y = q;
    int c;

    if ((c = strcmp(x->kind, y->kind)) != 0 || (c = strcmp(x->day, y->day)) != 0)
        return c;
    return strcmp(x->id, y->id);
}

static void sort(bb_agree *a)
{
    if (!a->sorted && a->n)
        qsort(a->e, a->n, sizeof *a->e, by_group_id);
    a->sorted = 1;
}

static int same_group(const struct entry *x, const struct entry *y)
{
    return strcmp(x->kind, y->kind) == 0 && strcmp(x->day, y->day) == 0;
}

cJSON *bb_agree_digests(bb_agree *a)
{
    cJSON *out = cJSON_CreateArray();
    size_t i = 0, j, k;

    if (!out)
        return NULL;
    sort(a);
    while (i < a->n) {
        uint8_t acc[32], h[32];
        char line[300], hex[65];
        cJSON *g;
        memset(acc, 0, sizeof acc);
        for (j = i; j < a->n && same_group(&a->e[i], &a->e[j]); j++) {
            int n = snprintf(line, sizeof line, "%s\n%lld\n%s", a->e[j].id,
                             (long long)a->e[j].rev, a->e[j].sha);
            if (mbedtls_sha256_ret((const unsigned char *)line, (size_t)n, h, 0) != 0) {
                cJSON_Delete(out);
                return NULL;
            }
            for (k = 0; k < 32; k++)
                acc[k] ^= h[k];
        }
        for (k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", acc[k]);
        if (!(g = cJSON_CreateObject()) || !cJSON_AddItemToArray(out, g) ||
            !cJSON_AddStringToObject(g, "kind", a->e[i].kind) ||
            !cJSON_AddStringToObject(g, "day", a->e[i].day) ||
            !cJSON_AddNumberToObject(g, "count", (double)(j - i)) ||
            !cJSON_AddStringToObject(g, "digest", hex)) {
            cJSON_Delete(out);
            return NULL;
        }
        i = j;
    }
    return out;
}

static int wanted(const cJSON *want, const struct entry *x)
{
    const cJSON *w;

    if (!want)
        return 1;
    cJSON_ArrayForEach(w, want) {
        const char *k = bb_json_str(w, "kind"), *d = bb_json_str(w, "day");
        if (k && d && strcmp(k, x->kind) == 0 && strcmp(d, x->day) == 0)
            return 1;
    }
    return 0;
}

cJSON *bb_agree_records(bb_agree *a, const cJSON *want)
{
    cJSON *out = cJSON_CreateArray();
    size_t i;

    if (!out)
        return NULL;
    sort(a);
    for (i = 0; i < a->n; i++) {
        cJSON *r;
        if (!wanted(want, &a->e[i]))
            continue;
        if (!(r = cJSON_CreateObject()) || !cJSON_AddItemToArray(out, r) ||
            !cJSON_AddStringToObject(r, "kind", a->e[i].kind) ||
            !cJSON_AddStringToObject(r, "day", a->e[i].day) ||
            !cJSON_AddStringToObject(r, "id", a->e[i].id) ||
            !cJSON_AddNumberToObject(r, "rev", (double)a->e[i].rev) ||
            !cJSON_AddStringToObject(r, "sha256", a->e[i].sha)) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}
