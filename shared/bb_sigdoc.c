/*
 * bb_sigdoc.c — signing and verifying JSON documents (see bb_sigdoc.h and
 * docs/FORMATS.md §2).
 *
 * The signed message is context || 0x00 || canonical JSON of the object
 * without "sig".  The context is a C string, so it cannot contain the 0x00
 * that ends it: the split between context and document is unambiguous.
 *
 * Objects with a repeated key are refused, at any depth, both when signing
 * and when verifying: the canonical form would carry both copies while a
 * reader (cJSON_GetObjectItem) sees only the first, so a signature would
 * cover something other than what is read.
 *
 * Documents may hold secrets (an enrollment file holds a one-time token),
 * so every copy of the signed text and every duplicated tree is wiped
 * before it is freed.
 */
#include "bb_sigdoc.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "bb_codec.h"
#include "bb_json.h"

#define wipe mbedtls_platform_zeroize
#define SIG_B64_LEN 88                        /* base64 of 64 bytes */
#define MAX_DEPTH 64

static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return strcmp(x, y);
}

/* 1 if some object in the tree repeats a key (or nests too deep), else 0;
 * -1 when out of memory. */
static int has_dup_keys(const cJSON *it, int depth)
{
    const cJSON *c;

    if (depth > MAX_DEPTH)
        return 1;
    if (cJSON_IsObject(it)) {
        const char **names;
        size_t n = 0, i;
        int dup = 0;
        cJSON_ArrayForEach(c, it) n++;
        if (n > 1) {
            names = malloc(n * sizeof *names);
            if (!names)
                return -1;
            n = 0;
            cJSON_ArrayForEach(c, it) names[n++] = c->string ? c->string : "";
            qsort(names, n, sizeof *names, cmp_names);
            for (i = 1; i < n && !dup; i++)
                dup = strcmp(names[i - 1], names[i]) == 0;
            free(names);
            if (dup)
                return 1;
        }
    }
    if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
        cJSON_ArrayForEach(c, it) {
            int r = has_dup_keys(c, depth + 1);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

/* Wipe every string (values and keys) of it and everything below it. */
static void wipe_strings(cJSON *it)
{
    cJSON *c;

    if (it->valuestring)
        wipe(it->valuestring, strlen(it->valuestring));
    if (it->string)
        wipe(it->string, strlen(it->string));
    for (c = it->child; c; c = c->next)
        wipe_strings(c);
}

static void wipe_delete(cJSON *it)
{
    if (!it)
        return;
    wipe_strings(it);
    cJSON_Delete(it);
}

/* The message to sign: context || 0x00 || canonical JSON of doc (which
 * has no "sig").  *msg is malloc'd; wipe and free it. */
static bb_err signed_message(const cJSON *doc, const char *context,
                             uint8_t **msg, size_t *msg_len, bb_errbuf *eb)
{
    size_t clen = strlen(context), jlen;
    char *json = bb_json_canonical(doc);
    uint8_t *m;

    *msg = NULL;
    *msg_len = 0;
    if (!json)
        return bb_fail(eb, BB_ERR_NOMEM, "signed document: out of memory");
    jlen = strlen(json);
    m = malloc(clen + 1 + jlen);
    if (!m) {
        wipe(json, jlen);
        free(json);
        return bb_fail(eb, BB_ERR_NOMEM, "signed document: out of memory");
    }
    memcpy(m, context, clen);
    m[clen] = 0x00;
    memcpy(m + clen + 1, json, jlen);
    wipe(json, jlen);
    free(json);
    *msg = m;
    *msg_len = clen + 1 + jlen;
    return BB_OK;
}

static bb_err check_args(const cJSON *doc, const char *context,
                         const bb_sign_key *key, bb_errbuf *eb)
{
    int dup;

    if (!context || !*context || !key)
        return bb_fail(eb, BB_ERR_INTERNAL, "signed document: missing context "
                       "or key");
    if (!cJSON_IsObject(doc))
        return bb_fail(eb, BB_ERR_INVALID, "signed document: not a JSON object");
    dup = has_dup_keys(doc, 0);
    if (dup < 0)
        return bb_fail(eb, BB_ERR_NOMEM, "signed document: out of memory");
    if (dup)
        return bb_fail(eb, BB_ERR_INVALID, "signed document: an object repeats "
                       "a key (or nests deeper than %d)", MAX_DEPTH);
    return BB_OK;
}

bb_err bb_sigdoc_sign(cJSON *doc, const char *context, const bb_sign_key *key,
                      bb_errbuf *eb)
{
    uint8_t sig[BB_SIGN_SIG_LEN];
    char b64[BB_BASE64_SIZE(BB_SIGN_SIG_LEN)];
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    bb_err rc;

    rc = check_args(doc, context, key, eb);
    if (rc != BB_OK)
        return rc;
    /* No duplicates (checked above): one deletion removes "sig". */
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "sig");
    rc = signed_message(doc, context, &msg, &msg_len, eb);
    if (rc != BB_OK)
        return rc;
    rc = bb_sign(key, msg, msg_len, sig, eb);
    wipe(msg, msg_len);
    free(msg);
    if (rc != BB_OK) {
        bb_errbuf_prefix(eb, "sign document (%s)", context);
        return rc;
    }
    rc = bb_base64_encode(sig, sizeof sig, b64, sizeof b64, NULL, eb);
    if (rc != BB_OK)
        return rc;
    if (!cJSON_AddStringToObject(doc, "sig", b64))
        return bb_fail(eb, BB_ERR_NOMEM, "signed document: out of memory");
    return BB_OK;
}

bb_err bb_sigdoc_verify(const cJSON *doc, const char *context, const bb_sign_key *key,
                        bb_errbuf *eb)
{
    uint8_t sig[BB_SIGN_SIG_LEN];
    const cJSON *s;
    cJSON *copy;
    uint8_t *msg = NULL;
    size_t msg_len = 0, sig_len = 0;
    bb_err rc;

    rc = check_args(doc, context, key, eb);
    if (rc != BB_OK)
        return rc;
    s = cJSON_GetObjectItemCaseSensitive(doc, "sig");
    if (!s)
        return bb_fail(eb, BB_ERR_INVALID, "signed document: \"sig\" is missing");
    if (!cJSON_IsString(s) || !s->valuestring ||
        strlen(s->valuestring) != SIG_B64_LEN ||
        bb_base64_decode(s->valuestring, SIG_B64_LEN, sig, sizeof sig, &sig_len,
                         NULL) != BB_OK || sig_len != BB_SIGN_SIG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "signed document: \"sig\" must be "
                       "base64 of a %d-byte signature", BB_SIGN_SIG_LEN);
    copy = cJSON_Duplicate(doc, 1);
    if (!copy)
        return bb_fail(eb, BB_ERR_NOMEM, "signed document: out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "sig");
    rc = signed_message(copy, context, &msg, &msg_len, eb);
    wipe_delete(copy);
    if (rc != BB_OK)
        return rc;
    rc = bb_sign_verify(key, msg, msg_len, sig, NULL);
    wipe(msg, msg_len);
    free(msg);
    if (rc == BB_ERR_NOMEM)
        return bb_fail(eb, rc, "signed document: out of memory");
    if (rc != BB_OK)
        return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
    return BB_OK;
}
