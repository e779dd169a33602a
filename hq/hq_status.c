/*
 * hq_status.c — laptops' signed status reports: receive, keep the latest per
 * device, and add them to the Devices view (see hq_status.h).
 */
#include "hq_status.h"
#include "hq_display.h"
#include "hq_ingest.h"
#include "hq_store.h"
#include "bb_codec.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LATE_AFTER_S (24 * 3600)        /* as the Devices view: no contact for a day */

/* ---- receiving ---------------------------------------------------------------- */

static int count_ok(const cJSON *doc, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e12 &&
           v->valuedouble == (double)(long long)v->valuedouble;
}

static int str_or_null(const cJSON *doc, const char *k, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
    return cJSON_IsNull(v) || (cJSON_IsString(v) && strlen(v->valuestring) <= max);
}

/* The shape of a report (FORMATS.md §2); on failure answer 400. */
static int check_shape(const cJSON *doc, struct hq_answer *ans)
{
    static const char *const counts[] = {"counter", "unsealed", "unacked_batches",
                                         "unacked_records", "refused_batches", "drafts_count"};
    static const char *const strs[] = {"device", "device_key", "clock", "via", "software",
                                       "sig"};
    const cJSON *v, *it;
    int64_t t;
    size_t i;

    if (!cJSON_IsObject(doc)) {
        hq_answer_error(ans, 400, "malformed", "a status report is a JSON object");
        return 0;
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
        hq_answer_error(ans, 400, "malformed", "the status report needs \"v\": 1");
        return 0;
    }
    for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(doc, strs[i]);
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 200) {
            hq_answer_error(ans, 400, "malformed", "the status report needs \"%s\" (a string)",
                            strs[i]);
            return 0;
        }
    }
    for (i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (!count_ok(doc, counts[i])) {
            hq_answer_error(ans, 400, "malformed", "the status report needs \"%s\" (a whole "
                            "number, 0 or more)", counts[i]);
            return 0;
        }
    if (cJSON_GetObjectItemCaseSensitive(doc, "counter")->valuedouble < 1) {
        hq_answer_error(ans, 400, "malformed", "\"counter\" starts at 1");
        return 0;
    }
    if (!str_or_null(doc, "last_entry_at", 40) || !str_or_null(doc, "reference_version", 64)) {
        hq_answer_error(ans, 400, "malformed", "\"last_entry_at\" and \"reference_version\" "
                        "are strings or null");
        return 0;
    }
    if (bb_time_parse(bb_json_str(doc, "clock"), &t, NULL, NULL) != BB_OK) {
        hq_answer_error(ans, 400, "malformed", "\"clock\" must be an RFC 3339 time with offset");
        return 0;
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "unacked");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 200) {
        hq_answer_error(ans, 400, "malformed", "\"unacked\" is a list of at most 200 batches");
        return 0;
    }
    cJSON_ArrayForEach(it, v)
        if (!count_ok(it, "seq") || !count_ok(it, "count")) {
            hq_answer_error(ans, 400, "malformed", "each of \"unacked\" is {\"seq\", \"count\"}");
            return 0;
        }
    v = cJSON_GetObjectItemCaseSensitive(doc, "drafts");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 200) {
        hq_answer_error(ans, 400, "malformed", "\"drafts\" is a list of at most 200 drafts");
        return 0;
    }
    cJSON_ArrayForEach(it, v)
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "kind")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "since"))) {
            hq_answer_error(ans, 400, "malformed", "each of \"drafts\" is {\"kind\", \"since\"}");
            return 0;
        }
    return 1;
}

/* The counter and document HQ keeps for device (counter 0 and doc NULL: none). */
static bb_err stored(sqlite3 *db, const char *device, int64_t *counter, char **doc,
                     bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *counter = 0;
    *doc = NULL;
    if ((err = bb_db_prepare(db, "SELECT counter, doc FROM device_status WHERE device = ?1",
                             &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *counter = sqlite3_column_int64(st, 0);
        if (sqlite3_column_text(st, 1) && !(*doc = strdup((const char *)sqlite3_column_text(st, 1))))
            err = bb_fail(eb, BB_ERR_NOMEM, "status: out of memory");
    } else if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read the device's status", eb);
    }
    sqlite3_finalize(st);
    return err;
}

static bb_err keep(sqlite3 *db, const char *device, int64_t counter, const char *clock,
                   const char *via, const char *at, const char *doc, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db,
            "INSERT INTO device_status (device, counter, clock, via, received_at, doc) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (device) DO UPDATE SET "
            "counter = excluded.counter, clock = excluded.clock, via = excluded.via, "
            "received_at = excluded.received_at, doc = excluded.doc "
            "WHERE excluded.counter > device_status.counter", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, counter);
    sqlite3_bind_text(st, 3, clock, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, via, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, doc, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, "keep the device's status", eb);
}

void hq_status_receive(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                       const char *via, int *same, struct hq_answer *ans)
{
    struct hq_device d;
    cJSON *doc = NULL, *a = NULL;
    bb_sign_key *pub = NULL;
    char now[BB_TIME_MAX], *canon = NULL, *old = NULL, *text = NULL;
    int64_t counter, have = 0;
    bb_errbuf eb;
    bb_err err;

    (void)h;
    memset(&eb, 0, sizeof eb);
    memset(&d, 0, sizeof d);
    if (same)
        *same = 0;
    if (len == 0 || len > HQ_STATUS_MAX_BYTES) {
        hq_answer_error(ans, len ? 413 : 400, len ? "too_large" : "empty_body",
                        "a status report is a small JSON document (at most %d bytes)",
                        HQ_STATUS_MAX_BYTES);
        return;
    }
    if (bb_json_parse(body, len, "status report", &doc, &eb) != BB_OK) {
        hq_answer_error(ans, 400, "malformed", "%s", eb.msg);
        return;
    }
    if (!check_shape(doc, ans))
        goto out;
    snprintf(ans->device, sizeof ans->device, "%s", bb_json_str(doc, "device"));
    counter = (int64_t)cJSON_GetObjectItemCaseSensitive(doc, "counter")->valuedouble;
    err = hq_device_get(db, ans->device, &d, &eb);
    if (err == BB_ERR_NOTFOUND || (err == BB_OK && !d.pub)) {
        hq_answer_error(ans, 401, "unknown_device", err == BB_OK
                        ? "device %s has not registered its key with this HQ yet"
                        : "device %s is not enrolled at this HQ", ans->device);
        goto out;
    }
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "read device", &eb);
        goto out;
    }
    if (strcmp(d.device_key, bb_json_str(doc, "device_key")) != 0) {
        hq_answer_error(ans, 401, "wrong_key", "the report is signed with key %.20s, but "
                        "device %s is registered with key %s: a report of another device?",
                        bb_json_str(doc, "device_key"), d.id, d.device_key);
        goto out;
    }
    if (bb_sign_pub_import_der(&pub, d.pub, d.pub_len, &eb) != BB_OK ||
        bb_sigdoc_verify(doc, BB_CTX_STATUS, pub, &eb) != BB_OK) {
        hq_answer_error(ans, 401, "bad_signature", "the status report is not signed by "
                        "device %s", d.id);
        goto out;
    }
    if (d.status == HQ_DEV_REVOKED) {
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked; its reports are "
                        "not kept", d.id);
        goto out;
    }
    if (!(canon = bb_json_canonical(doc))) {
        hq_answer_error(ans, 500, "internal", "out of memory");
        goto out;
    }
    if ((err = bb_db_begin(db, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, err, "begin", &eb);
        goto out;
    }
    if ((err = stored(db, d.id, &have, &old, &eb)) != BB_OK) {
        bb_db_rollback(db);
        hq_ingest_store_error(ans, err, "read the device's status", &eb);
        goto out;
    }
    if (counter <= have) {
        bb_db_rollback(db);
        if (same)
            *same = old && strcmp(old, canon) == 0;
        hq_answer_error(ans, 409, "replayed", "status report %lld of device %s is not newer "
                        "than report %lld, which HQ already has", (long long)counter, d.id,
                        (long long)have);
        goto out;
    }
    if ((err = bb_time_now_taipei(now)) != BB_OK ||
        (err = keep(db, d.id, counter, bb_json_str(doc, "clock"), via, now, canon, &eb))
            != BB_OK ||
        (err = hq_device_touch(db, d.id, 0, now, &eb)) != BB_OK ||
        (err = bb_db_commit(db, &eb)) != BB_OK) {
        bb_db_rollback(db);
        hq_ingest_store_error(ans, err, "keep the device's status", &eb);
        goto out;
    }
    if (!(a = cJSON_CreateObject()) || !cJSON_AddNumberToObject(a, "v", 1) ||
        !cJSON_AddStringToObject(a, "device", d.id) ||
        !cJSON_AddNumberToObject(a, "counter", (double)counter) ||
        !cJSON_AddStringToObject(a, "received_at", now) || !(text = bb_json_canonical(a))) {
        hq_answer_error(ans, 500, "internal", "out of memory");
        goto out;
    }
    hq_answer_body(ans, 200, HQ_OUT_OK, text);
out:
    cJSON_Delete(a);
    cJSON_Delete(doc);
    bb_sign_key_free(pub);
    free(canon);
    free(old);
    hq_device_clear(&d);
}

/* ---- the Devices view ------------------------------------------------------------ */

/* "2 小時前" / "2 hours ago" for a time, relative to now. */
static void ago(int64_t then, int64_t now, enum bb_lang lang, char *out, size_t n)
{
    int64_t s = now - then;

    if (s < 60)
        snprintf(out, n, "%s", lang == BB_LANG_EN ? "just now" : "剛剛");
    else if (s < 3600)
        snprintf(out, n, lang == BB_LANG_EN ? "%lld minute%s ago" : "%lld 分鐘前%s",
                 (long long)(s / 60), lang == BB_LANG_EN && s / 60 != 1 ? "s" : "");
    else if (s < 86400)
        snprintf(out, n, lang == BB_LANG_EN ? "%lld hour%s ago" : "%lld 小時前%s",
                 (long long)(s / 3600), lang == BB_LANG_EN && s / 3600 != 1 ? "s" : "");
    else
        snprintf(out, n, lang == BB_LANG_EN ? "%lld day%s ago" : "%lld 天前%s",
                 (long long)(s / 86400), lang == BB_LANG_EN && s / 86400 != 1 ? "s" : "");
}

struct facts {
    int reported;
    long long pending_records, pending_batches, drafts, patrols, refused;
    long long missing_files;              /* named by its merged records, not at HQ */
    int64_t oldest_draft;                 /* 0: none */
    int64_t contact;                      /* 0: never */
    int late;
};

static void join(char *out, size_t n, const char *sep, const char *part)
{
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%s%s", l ? sep : "", part);
}

/* The sentence for one laptop in lang. */
static void summary(const struct facts *f, int64_t now, enum bb_lang lang, char *out, size_t n)
{
    int en = lang == BB_LANG_EN;
    const char *sep = en ? ", " : "、";
    char part[160], when[64];

    out[0] = '\0';
    if (f->reported && !f->pending_records && !f->drafts && !f->refused && !f->missing_files) {
        snprintf(out, n, "%s", en ? "HQ has everything" : "總局已收齊");
        return;
    }
    if (!f->reported)
        join(out, n, sep, en ? "no status report yet" : "尚未回報狀態");
    if (f->pending_records) {
        snprintf(part, sizeof part, en ? "%lld record%s not sent" : "%lld 筆未送%s",
                 f->pending_records, en && f->pending_records != 1 ? "s" : "");
        join(out, n, sep, part);
    }
    if (f->missing_files) {
        snprintf(part, sizeof part, en ? "%lld photo%s/file%s not yet at HQ" : "%lld 個照片／檔案未到%s%s",
                 f->missing_files, en && f->missing_files != 1 ? "s" : "",
                 en && f->missing_files != 1 ? "s" : "");
        join(out, n, sep, part);
    }
    if (f->patrols) {
        snprintf(part, sizeof part, en ? "%lld patrol%s not ended" : "%lld 個巡邏未結束%s",
                 f->patrols, en && f->patrols != 1 ? "s" : "");
        join(out, n, sep, part);
    }
    if (f->drafts > f->patrols) {
        snprintf(part, sizeof part, en ? "%lld other draft%s open" : "%lld 筆草稿未完成%s",
                 f->drafts - f->patrols, en && f->drafts - f->patrols != 1 ? "s" : "");
        join(out, n, sep, part);
    }
    if (f->drafts && f->oldest_draft) {
        ago(f->oldest_draft, now, lang, when, sizeof when);
        snprintf(part, sizeof part, en ? "oldest draft started %s" : "最早的草稿始於 %s", when);
        join(out, n, sep, part);
    }
    if (f->refused) {
        snprintf(part, sizeof part, en ? "%lld batch%s refused by HQ" : "%lld 個批次遭總局拒收%s",
                 f->refused, en && f->refused != 1 ? "es" : "");
        join(out, n, sep, part);
    }
    if (f->contact) {
        ago(f->contact, now, lang, when, sizeof when);
        snprintf(part, sizeof part, en ? "last contact %s" : "上次聯絡 %s", when);
    } else {
        snprintf(part, sizeof part, "%s", en ? "never in contact" : "從未聯絡");
    }
    join(out, n, sep, part);
}

/* The facts of one device's latest report, and the report itself as "report". */
static bb_err device_facts(sqlite3_stmt *rep, sqlite3_stmt *have, cJSON *d, struct facts *f,
                           bb_errbuf *eb)
{
    const char *id = bb_json_str(d, "id");
    cJSON *doc = NULL, *r, *it;
    double listed = 0;
    int rc;

    sqlite3_bind_text(rep, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(rep);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(rep, 0);
        if (text && bb_json_parse(text, strlen(text), "status", &doc, NULL) == BB_OK &&
            (r = cJSON_CreateObject()) != NULL) {
            static const char *const copy[] = {"counter", "clock", "software",
                                               "reference_version", "unsealed",
                                               "unacked_batches", "unacked_records",
                                               "refused_batches", "drafts_count", "drafts",
                                               "last_entry_at", "via"};
            size_t i;
            cJSON_AddItemToObject(d, "report", r);
            for (i = 0; i < sizeof copy / sizeof copy[0]; i++)
                cJSON_AddItemToObject(r, copy[i],
                                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc,
                                                      copy[i]), 1));
            cJSON_AddStringToObject(r, "received_at",
                                    (const char *)sqlite3_column_text(rep, 1));
            cJSON_AddStringToObject(r, "received_via",
                                    (const char *)sqlite3_column_text(rep, 2));
            f->reported = 1;
            f->pending_records = (long long)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(doc, "unsealed"));
            f->refused = (long long)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(doc, "refused_batches"));
            f->drafts = (long long)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(doc, "drafts_count"));
            /* A batch the laptop had not seen acknowledged may have reached HQ since
             * (the same pass, or a USB import): only those HQ lacks are outstanding. */
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "unacked")) {
                double cnt = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "count"));
                listed += cnt;
                sqlite3_bind_text(have, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(have, 2, (sqlite3_int64)cJSON_GetNumberValue(
                    cJSON_GetObjectItemCaseSensitive(it, "seq")));
                if (sqlite3_step(have) != SQLITE_ROW) {
                    f->pending_records += (long long)cnt;
                    f->pending_batches++;
                }
                sqlite3_reset(have);
                sqlite3_clear_bindings(have);
            }
            /* Batches beyond the listed ones (a long outbox) count as outstanding. */
            {
                double beyond = cJSON_GetNumberValue(
                    cJSON_GetObjectItemCaseSensitive(doc, "unacked_records")) - listed;
                if (beyond > 0)
                    f->pending_records += (long long)beyond;
            }
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "drafts")) {
                int64_t t;
                if (strcmp(bb_json_str(it, "kind") ? bb_json_str(it, "kind") : "", "patrol") == 0)
                    f->patrols++;
                if (bb_time_parse(bb_json_str(it, "since") ? bb_json_str(it, "since") : "", &t,
                                  NULL, NULL) == BB_OK && (!f->oldest_draft || t < f->oldest_draft))
                    f->oldest_draft = t;
            }
        }
        rc = SQLITE_DONE;
    }
    sqlite3_reset(rep);
    sqlite3_clear_bindings(rep);
    cJSON_Delete(doc);
    if (rc != SQLITE_DONE)
        return bb_db_err(sqlite3_db_handle(rep), rc, "read status reports", eb);
    {
        /* HQ's own knowledge, not the laptop's word: files its merged records
         * name that HQ does not hold yet. */
        sqlite3 *db = sqlite3_db_handle(rep);
        sqlite3_stmt *q;
        if (bb_db_prepare(db, "SELECT count(DISTINCT ra.sha256) FROM record_attachments ra"
                              " LEFT JOIN attachments a ON a.sha256 = ra.sha256"
                              " WHERE ra.device = ?1 AND a.sha256 IS NULL", &q, eb) != BB_OK)
            return BB_ERR_DB;
        rc = sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
            f->missing_files = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (rc != SQLITE_ROW)
            return bb_db_err(db, rc, "read record attachments", eb);
    }
    if (!f->reported)
        cJSON_AddNullToObject(d, "report");
    return BB_OK;
}

/* The precinct a unit lies in (itself, or its ancestor of level precinct). */
static const char *precinct_of(const bb_catalog *cat, const char *unit)
{
    const struct bb_ref_item *u = unit ? bb_catalog_ref(cat, "units", unit) : NULL;
    int guard = 0;

    while (u && guard++ < 16) {
        if (u->level && strcmp(u->level, "precinct") == 0)
            return u->code;
        u = u->parent ? bb_catalog_ref(cat, "units", u->parent) : NULL;
    }
    return unit ? unit : "";
}

struct row {
    cJSON *d;
    const char *precinct;
    int stale;
    int64_t contact;
};

static int by_precinct_stale(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->precinct, y->precinct);

    if (c)
        return c;
    if (x->stale != y->stale)
        return x->stale ? -1 : 1;
    if (x->contact != y->contact)
        return x->contact < y->contact ? -1 : 1;
    return strcmp(bb_json_str(x->d, "id"), bb_json_str(y->d, "id"));
}

/* The summary line of one precinct, in lang. */
static void precinct_line(const bb_catalog *cat, const char *code, long n, long all_in,
                          long unreported, long late, long long pending, long long drafts,
                          enum bb_lang lang, char *out, size_t size)
{
    const struct bb_ref_item *u = bb_catalog_ref(cat, "units", code);
    const char *name = u ? bb_label(&u->label, lang, code) : code;

    if (lang == BB_LANG_EN)
        snprintf(out, size, "%s: %ld laptop%s, %ld with everything at HQ, %ld with work "
                 "outstanding (%lld record%s not sent, %lld draft%s open), %ld not reported "
                 "yet, %ld late", name, n, n != 1 ? "s" : "", all_in,
                 n - all_in - unreported, pending, pending != 1 ? "s" : "", drafts,
                 drafts != 1 ? "s" : "", unreported, late);
    else
        snprintf(out, size, "%s：筆電 %ld 台，%ld 台總局已收齊，%ld 台尚有未完成"
                 "（%lld 筆未送、%lld 筆草稿未結束），%ld 台尚未回報，%ld 台逾時未聯絡", name, n,
                 all_in, n - all_in - unreported, pending, drafts, unreported, late);
}

bb_err hq_status_annotate(sqlite3 *db, const bb_catalog *cat, enum bb_lang lang, cJSON *out,
                          bb_errbuf *eb)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(out, "items"), *d, *pre;
    sqlite3_stmt *rep = NULL, *have = NULL;
    struct row *rows = NULL;
    int64_t now = bb_time_now();
    size_t n = 0, i, j;
    bb_err err;

    if ((err = bb_db_prepare(db, "SELECT doc, received_at, via FROM device_status WHERE "
                             "device = ?1", &rep, eb)) != BB_OK ||
        (err = bb_db_prepare(db, "SELECT 1 FROM batches WHERE device = ?1 AND seq = ?2",
                             &have, eb)) != BB_OK)
        goto out;
    n = (size_t)cJSON_GetArraySize(items);
    if (n && !(rows = calloc(n, sizeof *rows))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
        goto out;
    }
    i = 0;
    cJSON_ArrayForEach(d, items) {
        struct facts f;
        char zh[600], en[600];
        const char *contact = bb_json_str(d, "last_contact");
        memset(&f, 0, sizeof f);
        if (contact)
            bb_time_parse(contact, &f.contact, NULL, NULL);
        f.late = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "late"));
        if ((err = device_facts(rep, have, d, &f, eb)) != BB_OK)
            goto out;
        summary(&f, now, BB_LANG_ZH, zh, sizeof zh);
        summary(&f, now, BB_LANG_EN, en, sizeof en);
        rows[i].d = d;
        rows[i].precinct = precinct_of(cat, bb_json_str(d, "org_unit"));
        rows[i].stale = f.late || !f.reported || f.pending_records || f.drafts || f.refused ||
                        f.missing_files;
        rows[i].contact = f.contact;
        cJSON_DeleteItemFromObjectCaseSensitive(d, "pending");
        if (!(f.reported ? cJSON_AddNumberToObject(d, "pending", (double)f.pending_records)
                         : cJSON_AddNullToObject(d, "pending")) ||
            !cJSON_AddNumberToObject(d, "pending_batches", (double)f.pending_batches) ||
            !cJSON_AddNumberToObject(d, "open_drafts", (double)f.drafts) ||
            !cJSON_AddNumberToObject(d, "open_patrols", (double)f.patrols) ||
            !cJSON_AddBoolToObject(d, "all_in", f.reported && !f.pending_records && !f.drafts &&
                                   !f.refused && !f.missing_files) ||
            !cJSON_AddNumberToObject(d, "files_missing", (double)f.missing_files) ||
            !cJSON_AddBoolToObject(d, "stale", rows[i].stale) ||
            !cJSON_AddStringToObject(d, "summary", lang == BB_LANG_EN ? en : zh) ||
            !cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(d, "display"), "summary",
                                   hq_display_pair(zh, en))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
            goto out;
        }
        i++;
    }
    qsort(rows, n, sizeof *rows, by_precinct_stale);
    while (cJSON_GetArraySize(items) > 0)
        cJSON_DetachItemFromArray(items, 0);
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(items, rows[i].d);
    /* One line per precinct. */
    if (!(pre = cJSON_AddArrayToObject(out, "precincts"))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
        goto out;
    }
    for (i = 0; i < n; i = j) {
        long cnt = 0, all = 0, late = 0, unreported = 0;
        long long pending = 0, drafts = 0;
        char zh[600], en[600];
        cJSON *p;
        for (j = i; j < n && strcmp(rows[j].precinct, rows[i].precinct) == 0; j++) {
            cnt++;
            all += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rows[j].d, "all_in"));
            late += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rows[j].d, "late"));
            const cJSON *pv = cJSON_GetObjectItemCaseSensitive(rows[j].d, "pending");
            const cJSON *dv = cJSON_GetObjectItemCaseSensitive(rows[j].d, "open_drafts");
            if (cJSON_IsNumber(pv))           /* null: the laptop has not reported */
                pending += (long long)pv->valuedouble;
            else
                unreported++;
            if (cJSON_IsNumber(dv))
                drafts += (long long)dv->valuedouble;
        }
        precinct_line(cat, rows[i].precinct, cnt, all, unreported, late, pending, drafts,
                      BB_LANG_ZH, zh, sizeof zh);
        precinct_line(cat, rows[i].precinct, cnt, all, unreported, late, pending, drafts,
                      BB_LANG_EN, en, sizeof en);
        if (!(p = cJSON_CreateObject()) || !cJSON_AddItemToArray(pre, p) ||
            !cJSON_AddStringToObject(p, "precinct", rows[i].precinct) ||
            !cJSON_AddNumberToObject(p, "devices", cnt) ||
            !cJSON_AddNumberToObject(p, "all_in", all) ||
            !cJSON_AddNumberToObject(p, "outstanding", cnt - all - unreported) ||
            !cJSON_AddNumberToObject(p, "unreported", unreported) ||
            !cJSON_AddNumberToObject(p, "late", late) ||
            !cJSON_AddNumberToObject(p, "pending", (double)pending) ||
            !cJSON_AddNumberToObject(p, "open_drafts", (double)drafts) ||
            !cJSON_AddStringToObject(p, "summary", lang == BB_LANG_EN ? en : zh) ||
            !cJSON_AddItemToObject(p, "display", hq_display_pair(zh, en))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
            goto out;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(out, "pending_reported");
    cJSON_DeleteItemFromObjectCaseSensitive(out, "pending_note");
    if (!cJSON_AddBoolToObject(out, "pending_reported", 1) ||
        !cJSON_AddStringToObject(out, "pending_note", lang == BB_LANG_EN
            ? "Unsent records and open drafts are as each laptop last reported them (a signed "
              "status report at each sync and in each USB export); `beatbook status` on a "
              "laptop shows its outbox now."
            : "未送紀錄與未結束的草稿，依各筆電最近一次的簽章狀態回報（每次同步及每次 USB 匯出時送出）；"
              "筆電目前的待送紀錄請在該筆電執行 `beatbook status`。"))
        err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
out:
    free(rows);
    sqlite3_finalize(rep);
    sqlite3_finalize(have);
    return err;
}
