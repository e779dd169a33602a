/*
 * hq_digest.c — HQ's side of the proof of agreement (see hq_digest.h).
 */
#include "hq_digest.h"
#include "hq_ingest.h"
#include "hq_keys.h"
#include "hq_store.h"
#include "bb_agree.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bb_err hq_digest_build(struct hq_home *h, sqlite3 *db, const char *device, const char *nonce,
                       const cJSON *want, int all, char **out, bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    bb_agree *ag = NULL;
    cJSON *doc = NULL, *dg = NULL, *recs = NULL;
    char now[BB_TIME_MAX];
    long count = 0;
    bb_err err;
    int rc;

    *out = NULL;
    if ((err = bb_agree_new(&ag)) != BB_OK)
        return bb_fail(eb, err, "digests: out of memory");
    if ((err = bb_db_prepare(db, "SELECT id, kind, rev, occurred_unix, body FROM records "
                             "WHERE device = ?1", &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 4);
        if ((err = bb_agree_add(ag, kind ? kind : "", sqlite3_column_int64(st, 3),
                                id ? id : "", sqlite3_column_int64(st, 2), body ? body : "",
                                (size_t)sqlite3_column_bytes(st, 4), eb)) != BB_OK)
            goto out;
        count++;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read records", eb);
        goto out;
    }
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        goto out;
    if (!(dg = bb_agree_digests(ag)) || !(recs = all ? bb_agree_records(ag, NULL)
                                           : want ? bb_agree_records(ag, want)
                                                  : cJSON_CreateArray()) ||
        !(doc = cJSON_CreateObject()) || !cJSON_AddNumberToObject(doc, "v", 1) ||
        !cJSON_AddStringToObject(doc, "device", device) ||
        !(nonce ? cJSON_AddStringToObject(doc, "nonce", nonce)
                : cJSON_AddNullToObject(doc, "nonce")) ||
        !cJSON_AddStringToObject(doc, "as_of", now) ||
        !cJSON_AddNumberToObject(doc, "count", (double)count) ||
        !cJSON_AddBoolToObject(doc, "all_records", all) ||
        !cJSON_AddStringToObject(doc, "hq_sign_key", h->keys.sign_kid)) {
        err = bb_fail(eb, BB_ERR_NOMEM, "digests: out of memory");
        goto out;
    }
    cJSON_AddItemToObject(doc, "digests", dg);
    cJSON_AddItemToObject(doc, "records", recs);
    dg = recs = NULL;
    if ((err = hq_keys_sign_doc(&h->keys, doc, BB_CTX_DIGESTS, eb)) != BB_OK)
        goto out;
    if (!(*out = bb_json_canonical(doc)))
        err = bb_fail(eb, BB_ERR_NOMEM, "digests: out of memory");
out:
    sqlite3_finalize(st);
    cJSON_Delete(dg);
    cJSON_Delete(recs);
    cJSON_Delete(doc);
    bb_agree_free(ag);
    return err;
}

static int check_shape(const cJSON *doc, struct hq_answer *ans)
{
    static const char *const strs[] = {"device", "device_key", "clock", "nonce", "sig"};
    const cJSON *v, *it;
    size_t i;

    if (!cJSON_IsObject(doc) || !cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(doc, "v")) ||
        v->valuedouble != 1) {
        hq_answer_error(ans, 400, "malformed", "a digest request is a JSON object with \"v\": 1");
        return 0;
    }
    for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(doc, strs[i]);
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 200) {
            hq_answer_error(ans, 400, "malformed", "the digest request needs \"%s\" (a string)",
                            strs[i]);
            return 0;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "counter");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e15) {
        hq_answer_error(ans, 400, "malformed", "the digest request needs \"counter\" (1 or more)");
        return 0;
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "want");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > HQ_DIGEST_MAX_WANT) {
        hq_answer_error(ans, 400, "malformed", "\"want\" is a list of at most %d "
                        "{\"kind\", \"day\"}", HQ_DIGEST_MAX_WANT);
        return 0;
    }
    cJSON_ArrayForEach(it, v)
        if (!bb_json_str(it, "kind") || !bb_json_str(it, "day")) {
            hq_answer_error(ans, 400, "malformed", "each of \"want\" is {\"kind\", \"day\"}");
            return 0;
        }
    return 1;
}

/* Note counter as the device's latest request, if greater (one statement). */
static bb_err note_counter(sqlite3 *db, const char *device, int64_t counter, int *fresh,
                           bb_errbuf *eb)
{
    char now[BB_TIME_MAX];
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *fresh = 0;
    if ((err = bb_time_now_taipei(now)) != BB_OK ||
        (err = bb_db_prepare(db, "INSERT INTO device_requests (device, counter, at) VALUES "
                             "(?1, ?2, ?3) ON CONFLICT (device) DO UPDATE SET counter = "
                             "excluded.counter, at = excluded.at WHERE excluded.counter > "
                             "device_requests.counter", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, counter);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bb_db_err(db, rc, "note the request", eb);
    *fresh = sqlite3_changes(db) > 0;
    return BB_OK;
}

void hq_digest_request(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                       struct hq_answer *ans)
{
    struct hq_device d;
    cJSON *doc = NULL;
    bb_sign_key *pub = NULL;
    char *text = NULL;
    int fresh = 0;
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(&d, 0, sizeof d);
    if (len == 0 || len > HQ_DIGEST_MAX_BYTES) {
        hq_answer_error(ans, len ? 413 : 400, len ? "too_large" : "empty_body",
                        "a digest request is a small JSON document (at most %d bytes)",
                        HQ_DIGEST_MAX_BYTES);
        return;
    }
    if (bb_json_parse(body, len, "digest request", &doc, &eb) != BB_OK) {
        hq_answer_error(ans, 400, "malformed", "%s", eb.msg);
        return;
    }
    if (!check_shape(doc, ans))
        goto out;
    snprintf(ans->device, sizeof ans->device, "%s", bb_json_str(doc, "device"));
    err = hq_device_get(db, ans->device, &d, &eb);
    if (err == BB_ERR_NOTFOUND || (err == BB_OK && !d.pub)) {
        hq_answer_error(ans, 401, "unknown_device", "device %s is not registered at this HQ",
                        ans->device);
        goto out;
    }
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "read device", &eb);
        goto out;
    }
    if (strcmp(d.device_key, bb_json_str(doc, "device_key")) != 0) {
        hq_answer_error(ans, 401, "wrong_key", "the request is signed with key %.20s, but "
                        "device %s is registered with key %s: a request of another device?",
                        bb_json_str(doc, "device_key"), d.id, d.device_key);
        goto out;
    }
    if (bb_sign_pub_import_der(&pub, d.pub, d.pub_len, &eb) != BB_OK ||
        bb_sigdoc_verify(doc, BB_CTX_DIGEST_REQ, pub, &eb) != BB_OK) {
        hq_answer_error(ans, 401, "bad_signature", "the digest request is not signed by "
                        "device %s", d.id);
        goto out;
    }
    if (d.status == HQ_DEV_REVOKED) {
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked", d.id);
        goto out;
    }
    if ((err = note_counter(db, d.id, (int64_t)cJSON_GetNumberValue(
             cJSON_GetObjectItemCaseSensitive(doc, "counter")), &fresh, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, err, "note the request", &eb);
        goto out;
    }
    if (!fresh) {
        hq_answer_error(ans, 409, "replayed", "this digest request of device %s is not newer "
                        "than the last one HQ answered", d.id);
        goto out;
    }
    if ((err = bb_db_exec(db, "BEGIN", &eb)) != BB_OK) {
        hq_ingest_store_error(ans, err, "read records", &eb);
        goto out;
    }
    err = hq_digest_build(h, db, d.id, bb_json_str(doc, "nonce"),
                          cJSON_GetObjectItemCaseSensitive(doc, "want"), 0, &text, &eb);
    bb_db_rollback(db);
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "digests", &eb);
        goto out;
    }
    hq_answer_body(ans, 200, HQ_OUT_OK, text);
out:
    cJSON_Delete(doc);
    bb_sign_key_free(pub);
    hq_device_clear(&d);
}
