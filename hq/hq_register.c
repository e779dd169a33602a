/*
 * hq_register.c — device registration (see hq_register.h).
 */
#include "hq_register.h"
#include "hq_ingest.h"
#include "hq_store.h"
#include "bb_codec.h"
#include "bb_db.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

/* Wipe every string in a tree (the token is in one of them). */
static void wipe_tree(cJSON *it)
{
    cJSON *c;

    if (!it)
        return;
    if (it->valuestring)
        mbedtls_platform_zeroize(it->valuestring, strlen(it->valuestring));
    for (c = it->child; c; c = c->next)
        wipe_tree(c);
}

static int is_lower_hex(const char *s, size_t n)
{
    size_t i;
    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Check the shape of the document; on failure answer 400. */
static int check_shape(const cJSON *doc, struct hq_answer *ans)
{
    static const char *const keys[] = {"v", "device", "token", "device_pub", "device_key",
                                        "sig"};
    const cJSON *it, *v;
    size_t i;

    if (!cJSON_IsObject(doc)) {
        hq_answer_error(ans, 400, "malformed", "the registration must be a JSON object");
        return 0;
    }
    cJSON_ArrayForEach(it, doc) {
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (it->string && strcmp(it->string, keys[i]) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0]) {
            hq_answer_error(ans, 400, "malformed", "unknown member \"%.60s\" in the "
                            "registration", it->string ? it->string : "");
            return 0;
        }
    }
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        it = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (i == 0 ? !cJSON_IsNumber(it) : !cJSON_IsString(it)) {
            hq_answer_error(ans, 400, "malformed", "the registration needs \"%s\" (%s)",
                            keys[i], i == 0 ? "the number 1" : "a string");
            return 0;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "v");
    if (v->valuedouble != 1) {
        hq_answer_error(ans, 400, "malformed", "registration version %g is not supported "
                        "(this HQ reads version 1)", v->valuedouble);
        return 0;
    }
    if (strlen(bb_json_str(doc, "device")) >= 80) {
        hq_answer_error(ans, 400, "malformed", "\"device\" is too long");
        return 0;
    }
    if (!is_lower_hex(bb_json_str(doc, "token"), BB_ENROLL_TOKEN_HEX - 1)) {
        hq_answer_error(ans, 400, "malformed", "\"token\" must be 64 lowercase hex "
                        "characters, as in the enrollment file");
        return 0;
    }
    if (!is_lower_hex(bb_json_str(doc, "device_key"), BB_KEY_ID_LEN)) {
        hq_answer_error(ans, 400, "malformed", "\"device_key\" must be a key id of %d "
                        "lowercase hex characters", BB_KEY_ID_LEN);
        return 0;
    }
    return 1;
}

/* The signed answer, as canonical text (*out, caller frees). */
static bb_err make_answer(struct hq_home *h, const struct hq_device *d, const char *key_id,
                          const char *at, char **out, bb_errbuf *eb)
{
    cJSON *doc = cJSON_CreateObject();
    bb_err err;

    *out = NULL;
    if (!doc || !cJSON_AddNumberToObject(doc, "v", 1) ||
        !cJSON_AddStringToObject(doc, "device", d->id) ||
        !cJSON_AddStringToObject(doc, "device_key", key_id) ||
        !cJSON_AddStringToObject(doc, "org_unit", d->org_unit) ||
        !cJSON_AddStringToObject(doc, "registered_at", at) ||
        !cJSON_AddStringToObject(doc, "hq_sign_key", h->keys.sign_kid)) {
        cJSON_Delete(doc);
        return bb_fail(eb, BB_ERR_NOMEM, "registration answer: out of memory");
    }
    if ((err = hq_keys_sign_doc(&h->keys, doc, BB_CTX_REGISTERED, eb)) == BB_OK &&
        !(*out = bb_json_canonical(doc)))
        err = bb_fail(eb, BB_ERR_NOMEM, "registration answer: out of memory");
    cJSON_Delete(doc);
    return err;
}

/* A device already active: the same key gets its answer again, another key 409. */
static void answer_registered(const struct hq_device *d, const uint8_t *der, size_t der_len,
                              struct hq_answer *ans)
{
    if (d->pub_len == der_len && memcmp(d->pub, der, der_len) == 0 && d->registration) {
        char *copy = strdup(d->registration);
        hq_answer_body(ans, 200, HQ_OUT_OK, copy);
    } else {
        hq_answer_error(ans, 409, "already_registered", "device %s is already registered with "
                        "another key; enroll the laptop again if its key was lost", d->id);
    }
}

void hq_register(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                 struct hq_answer *ans)
{
    struct hq_device d;
    cJSON *doc = NULL;
    bb_sign_key *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char kid[BB_KEY_ID_SIZE], hash[BB_TOKEN_HASH_HEX], now[BB_TIME_MAX], detail[200];
    char *answer = NULL;
    const char *b64;
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(&d, 0, sizeof d);
    memset(hash, 0, sizeof hash);
    if (len == 0 || len > HQ_REGISTER_MAX_BYTES) {
        hq_answer_error(ans, len ? 413 : 400, len ? "too_large" : "empty_body",
                        "a registration is a small JSON document (at most %d bytes)",
                        HQ_REGISTER_MAX_BYTES);
        return;
    }
    if (bb_json_parse(body, len, "registration", &doc, &eb) != BB_OK) {
        hq_answer_error(ans, 400, "malformed", "%s", eb.msg);
        return;
    }
    if (!check_shape(doc, ans))
        goto out;
    snprintf(ans->device, sizeof ans->device, "%s", bb_json_str(doc, "device"));
    b64 = bb_json_str(doc, "device_pub");
    if (bb_base64_decode_alloc(b64, strlen(b64), &der, &der_len, &eb) != BB_OK ||
        bb_sign_pub_import_der(&pub, der, der_len, &eb) != BB_OK ||
        bb_sign_key_id(pub, kid, &eb) != BB_OK) {
        hq_answer_error(ans, 400, "malformed", "\"device_pub\" must be base64 of an ECDSA "
                        "P-256 SubjectPublicKeyInfo (DER)");
        goto out;
    }
    if (strcmp(kid, bb_json_str(doc, "device_key")) != 0) {
        hq_answer_error(ans, 400, "malformed", "\"device_key\" %s is not the key id of "
                        "\"device_pub\" (%s)", bb_json_str(doc, "device_key"), kid);
        goto out;
    }
    err = hq_device_get(db, bb_json_str(doc, "device"), &d, &eb);
    if (err == BB_ERR_NOTFOUND) {
        hq_answer_error(ans, 401, "unknown_device", "device %s is not enrolled at this HQ",
                        ans->device);
        goto out;
    }
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "read device", &eb);
        goto out;
    }
    if (bb_sigdoc_verify(doc, BB_CTX_REGISTER, pub, &eb) != BB_OK) {
        hq_answer_error(ans, 401, "bad_signature", "the registration is not signed by the "
                        "key it carries");
        goto out;
    }
    if (d.status == HQ_DEV_REVOKED) {
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked; it cannot "
                        "register", d.id);
        goto out;
    }
    if (d.status == HQ_DEV_ACTIVE) {
        answer_registered(&d, der, der_len, ans);
        goto out;
    }
    if (bb_token_hash(bb_json_str(doc, "token"), hash) != BB_OK ||
        !bb_ct_equal(hash, d.token_hash, BB_TOKEN_HASH_HEX - 1) ||
        strlen(d.token_hash) != BB_TOKEN_HASH_HEX - 1) {
        hq_answer_error(ans, 401, "bad_token", "the token does not match device %s's "
                        "enrollment", d.id);
        goto out;
    }
    if (bb_time_now() > d.token_expires) {
        hq_answer_error(ans, 401, "token_expired", "the enrollment of device %s has expired; "
                        "enroll the laptop again", d.id);
        goto out;
    }
    if ((err = bb_time_now_taipei(now)) != BB_OK ||
        (err = make_answer(h, &d, kid, now, &answer, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, err, "registration answer", &eb);
        goto out;
    }
    snprintf(detail, sizeof detail, "device_key=%s", kid);
    if ((err = bb_db_begin(db, &eb)) != BB_OK)
        goto store_fail;
    err = hq_device_bind(db, d.id, der, der_len, kid, answer, now, &eb);
    if (err == BB_ERR_CONFLICT) {
        /* Another request registered it meanwhile: answer as for an active device. */
        bb_db_rollback(db);
        hq_device_clear(&d);
        if ((err = hq_device_get(db, ans->device, &d, &eb)) != BB_OK)
            goto store_fail;
        if (d.status == HQ_DEV_REVOKED)
            hq_answer_error(ans, 403, "device_revoked", "device %s was revoked", d.id);
        else
            answer_registered(&d, der, der_len, ans);
        goto out;
    }
    if (err != BB_OK || (err = hq_audit(db, "https", "register", d.id, detail, &eb)) != BB_OK ||
        (err = bb_db_commit(db, &eb)) != BB_OK) {
        bb_db_rollback(db);
        goto store_fail;
    }
    hq_answer_body(ans, 201, HQ_OUT_OK, answer);
    answer = NULL;
    goto out;
store_fail:
    hq_ingest_store_error(ans, err, "register device", &eb);
out:
    mbedtls_platform_zeroize(hash, sizeof hash);
    wipe_tree(doc);
    cJSON_Delete(doc);
    free(answer);
    free(der);
    bb_sign_key_free(pub);
    hq_device_clear(&d);
}
