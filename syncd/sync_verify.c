/*
 * sync_verify.c — the laptop's side of the proof of agreement (see sync_verify.h).
 */
#include "sync_verify.h"
#include "sync_http.h"
#include "bb_agree.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_outbox.h"
#include "bb_rand.h"
#include "bb_refbundle.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_MAX ((size_t)256 * 1024 * 1024)

/* "107/03/15" or "2018-03-15" from "2018-03-15". */
static void show_day(const char *day, enum bb_lang lang, char *out, size_t n)
{
    int y = 0, m = 0, d = 0;

    if (lang == BB_LANG_EN || sscanf(day, "%4d-%2d-%2d", &y, &m, &d) != 3 || y < 1912 ||
        y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        snprintf(out, n, "%.10s", day);
    else
        snprintf(out, n, "%03d/%02d/%02d", (y - 1911) % 10000, m % 100, d % 100);
}

/* 1,284 */
static void thousands(long long v, char *out, size_t n)
{
    char raw[32];
    size_t len, i, j = 0;

    snprintf(raw, sizeof raw, "%lld", v);
    len = strlen(raw);
    for (i = 0; i < len && j + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = raw[i];
    }
    out[j] = '\0';
}

static const cJSON *find_group(const cJSON *list, const char *kind, const char *day)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, list) {
        const char *k = bb_json_str(g, "kind"), *d = bb_json_str(g, "day");
        if (k && d && strcmp(k, kind) == 0 && strcmp(d, day) == 0)
            return g;
    }
    return NULL;
}

static const cJSON *find_record(const cJSON *list, const char *id)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, list) {
        const char *x = bb_json_str(r, "id");
        if (x && strcmp(x, id) == 0)
            return r;
    }
    return NULL;
}

static int same_group(const cJSON *a, const cJSON *b)
{
    const char *x = a ? bb_json_str(a, "digest") : NULL, *y = b ? bb_json_str(b, "digest") : NULL;
    return a && b && x && y && strcmp(x, y) == 0 &&
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "count")) ==
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "count"));
}

/* Verify HQ's signed answer and that it is for this laptop (and this nonce). */
static bb_err open_answer(sqlite3 *db, const char *device, const char *nonce, const char *text,
                          size_t len, cJSON **out, enum bb_lang lang, bb_errbuf *eb)
{
    bb_sign_key *key = NULL;
    char kid[BB_KEY_ID_SIZE];
    const char *s;
    cJSON *doc = NULL;
    bb_err err;

    *out = NULL;
    if ((err = bb_refbundle_hq_key(db, &key, kid, eb)) != BB_OK)
        return err;
    if ((err = bb_json_parse(text, len, "HQ's digests", &doc, eb)) != BB_OK)
        goto out;
    if (!(s = bb_json_str(doc, "hq_sign_key")) || strcmp(s, kid) != 0 ||
        bb_sigdoc_verify(doc, BB_CTX_DIGESTS, key, NULL) != BB_OK) {
        err = bb_fail(eb, BB_ERR_CRYPTO, BB_L(lang, "HQ's digests: the signature is not HQ's "
                                                    "(authentication failed)",
                                              "總局的摘要：簽章不是總局的（驗證失敗）"));
        goto out;
    }
    if (!(s = bb_json_str(doc, "device")) || strcmp(s, device) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "HQ's digests are for device %.40s, not "
                                                     "this laptop (%s)",
                                               "總局的摘要屬於裝置 %.40s，不是本機（%s）"),
                      s ? s : "?", device);
        goto out;
    }
    if (nonce && (!(s = bb_json_str(doc, "nonce")) || strcmp(s, nonce) != 0)) {
        err = bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "HQ's digests answer another request",
                                               "總局的摘要回應的是另一個請求"));
        goto out;
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "digests")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "records"))) {
        err = bb_fail(eb, BB_ERR_INVALID, "HQ's digests: malformed");
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    cJSON_Delete(doc);
    bb_sign_key_free(key);
    return err;
}

/* Ask HQ over HTTPS: a signed request, a signed answer. */
static bb_err ask_hq(bb_outbox *ob, sqlite3 *db, enum bb_lang lang, const cJSON *want,
                     cJSON **out, bb_errbuf *eb)
{
    struct sync_http_answer a;
    sync_http *http = NULL;
    uint8_t rnd[16];
    char nonce[33], *text = NULL;
    cJSON *req = NULL;
    size_t i;
    bb_err err;

    *out = NULL;
    if ((err = bb_random(rnd, sizeof rnd)) != BB_OK)
        return bb_fail(eb, err, "random: unavailable");
    for (i = 0; i < sizeof rnd; i++)
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    if (!(req = cJSON_CreateObject()) || !cJSON_AddStringToObject(req, "nonce", nonce) ||
        !cJSON_AddItemToObject(req, "want", want ? cJSON_Duplicate(want, 1)
                                                 : cJSON_CreateArray())) {
        cJSON_Delete(req);
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    if ((err = bb_outbox_sign_request(ob, req, BB_CTX_DIGEST_REQ, eb)) != BB_OK)
        goto out;
    if (!(text = bb_json_canonical(req))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((err = sync_http_new(bb_outbox_hq(ob), lang, &http, eb)) != BB_OK ||
        (err = sync_http_post(http, "/v1/devices/digests", "application/json", text,
                              strlen(text), NULL, NULL, &a, eb)) != BB_OK)
        goto out;
    if (a.status != 200) {
        cJSON *e = NULL;
        const char *m = NULL;
        if (a.body && bb_json_parse(a.body, a.len, "answer", &e, NULL) == BB_OK)
            m = bb_json_str(e, "message");
        err = bb_fail(eb, a.status == 401 || a.status == 403 ? BB_ERR_STATE : BB_ERR_UNAVAILABLE,
                      BB_L(lang, "HQ did not answer with its digests (HTTP %ld: %.200s)",
                           "總局沒有回覆摘要（HTTP %ld：%.200s）"), a.status, m ? m : "");
        cJSON_Delete(e);
        sync_http_answer_clear(&a);
        goto out;
    }
    err = open_answer(db, bb_outbox_device(ob), nonce, a.body, a.len, out, lang, eb);
    sync_http_answer_clear(&a);
out:
    free(text);
    cJSON_Delete(req);
    sync_http_free(http);
    return err;
}

static bb_err local_records(sqlite3 *db, bb_agree *ag, long *count, long *pending,
                            bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    bb_err err;
    int rc;

    *count = *pending = 0;
    if ((err = bb_db_prepare(db,
            "SELECT r.id, r.kind, r.rev, r.occurred_unix, r.body, "
            "  EXISTS (SELECT 1 FROM revisions v JOIN batches b ON b.seq = v.batch_seq"
            "    WHERE v.id = r.id AND v.rev = r.rev AND b.state = 'acked')"
            "  AND NOT EXISTS (SELECT 1 FROM batch_rejects j WHERE j.id = r.id AND j.rev = r.rev)"
            " FROM records r WHERE r.status != 'draft'", &st, eb)) != BB_OK)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 4);
        if (!sqlite3_column_int(st, 5)) {
            (*pending)++;
            continue;
        }
        if ((err = bb_agree_add(ag, kind ? kind : "", sqlite3_column_int64(st, 3), id ? id : "",
                                sqlite3_column_int64(st, 2), body ? body : "",
                                (size_t)sqlite3_column_bytes(st, 4), eb)) != BB_OK) {
            sqlite3_finalize(st);
            return err;
        }
        (*count)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bb_db_err(db, rc, "read records", eb);
    /* Records freed by purge were acknowledged and merged: they count as they were. */
    if ((err = bb_db_prepare(db, "SELECT id, kind, rev, occurred_unix, sha256 FROM purged_records"
                                 " WHERE id NOT IN (SELECT id FROM records)", &st, eb)) != BB_OK)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *sha = (const char *)sqlite3_column_text(st, 4);
        if ((err = bb_agree_add_hashed(ag, kind ? kind : "", sqlite3_column_int64(st, 3),
                                       id ? id : "", sqlite3_column_int64(st, 2),
                                       sha ? sha : "", eb)) != BB_OK) {
            sqlite3_finalize(st);
            return err;
        }
        (*count)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, "read purged records", eb);
}

/* The records of one differing group, as lines. */
static void print_records(const cJSON *mine, const cJSON *theirs, const char *kind,
                          const char *day, enum bb_lang lang)
{
    const cJSON *r;
    int en = lang == BB_LANG_EN;

    cJSON_ArrayForEach(r, mine) {
        const char *id = bb_json_str(r, "id");
        const cJSON *h;
        if (strcmp(bb_json_str(r, "kind"), kind) || strcmp(bb_json_str(r, "day"), day))
            continue;
        h = find_record(theirs, id);
        if (!h)
            printf(en ? "    %s rev %.0f: HQ does not have this record\n"
                      : "    %s rev %.0f：總局沒有這筆紀錄\n", id,
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "rev")));
        else if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "rev")) !=
                     cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "rev")) ||
                 strcmp(bb_json_str(r, "sha256"), bb_json_str(h, "sha256")) != 0)
            printf(en ? "    %s: differs (this laptop rev %.0f, HQ rev %.0f)\n"
                      : "    %s：內容不同（本機 rev %.0f，總局 rev %.0f）\n", id,
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "rev")),
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "rev")));
    }
    cJSON_ArrayForEach(r, theirs) {
        const char *id = bb_json_str(r, "id");
        if (!id || strcmp(bb_json_str(r, "kind"), kind) || strcmp(bb_json_str(r, "day"), day))
            continue;
        if (!find_record(mine, id))
            printf(en ? "    %s rev %.0f: only at HQ, not on this laptop\n"
                      : "    %s rev %.0f：只有總局有，本機沒有\n", id,
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "rev")));
    }
}

bb_err sync_verify(const struct sync_run_opts *o, const char *from, int *agree, bb_errbuf *eb)
{
    char path[4200], n1[40], d1[16], d2[16];
    sqlite3 *db = NULL;
    bb_outbox *ob = NULL;
    bb_agree *ag = NULL;
    cJSON *hq = NULL, *mine = NULL, *mrec = NULL, *want = NULL, *detail = NULL;
    const cJSON *g, *theirs;
    long count = 0, pending = 0, groups = 0, purged = 0;
    int en = o->lang == BB_LANG_EN;
    bb_err err;

    *agree = 0;
    snprintf(path, sizeof path, "%s/field.db", o->home);
    if (access(path, F_OK) != 0)
        return bb_fail(eb, BB_ERR_NOTFOUND, BB_L(o->lang, "no store at %s", "%s 沒有資料庫"),
                       path);
    if ((err = bb_db_open(path, "collector", 0, &db, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_open(db, o->home, &ob, eb)) != BB_OK)
        goto out;
    bb_outbox_set_lang(ob, o->lang);
    if ((err = bb_outbox_require_enrollment(ob, BB_L(o->lang, "verify-hq", "verify-hq"), eb))
        != BB_OK || (err = bb_agree_new(&ag)) != BB_OK ||
        (err = local_records(db, ag, &count, &pending, eb)) != BB_OK)
        goto out;
    {
        sqlite3_stmt *st;
        if (bb_db_prepare(db, "SELECT count(*) FROM batches WHERE purged_at IS NOT NULL", &st,
                          NULL) == BB_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                purged = (long)sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    if (!(mine = bb_agree_digests(ag)) || !(mrec = bb_agree_records(ag, NULL)) ||
        !(want = cJSON_CreateArray())) {
        err = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (from) {
        char *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s.digests.json", from, bb_outbox_device(ob));
        if ((err = bb_read_file(path, ANSWER_MAX, &text, &len, eb)) != BB_OK)
            goto out;
        err = open_answer(db, bb_outbox_device(ob), NULL, text, len, &hq, o->lang, eb);
        free(text);
        if (err != BB_OK) {
            bb_errbuf_prefix(eb, "%s", path);
            goto out;
        }
    } else if ((err = ask_hq(ob, db, o->lang, NULL, &hq, eb)) != BB_OK) {
        goto out;
    }
    theirs = cJSON_GetObjectItemCaseSensitive(hq, "digests");
    /* Every group on either side whose count or digest differs. */
    cJSON_ArrayForEach(g, mine)
        if (!same_group(g, find_group(theirs, bb_json_str(g, "kind"), bb_json_str(g, "day"))))
            cJSON_AddItemToArray(want, cJSON_Duplicate(g, 1));
    cJSON_ArrayForEach(g, theirs)
        if (!find_group(mine, bb_json_str(g, "kind"), bb_json_str(g, "day")))
            cJSON_AddItemToArray(want, cJSON_Duplicate(g, 1));
    groups = cJSON_GetArraySize(want);
    if (groups == 0) {
        int n = cJSON_GetArraySize(mine);
        *agree = 1;
        thousands(count, n1, sizeof n1);
        if (n) {
            show_day(bb_json_str(cJSON_GetArrayItem(mine, 0), "day"), o->lang, d1, sizeof d1);
            show_day(bb_json_str(cJSON_GetArrayItem(mine, n - 1), "day"), o->lang, d2, sizeof d2);
        }
        /* Groups are sorted by kind, then day: find the first and last day. */
        cJSON_ArrayForEach(g, mine) {
            char d[16];
            show_day(bb_json_str(g, "day"), o->lang, d, sizeof d);
            if (strcmp(d, d1) < 0)
                snprintf(d1, sizeof d1, "%s", d);
            if (strcmp(d, d2) > 0)
                snprintf(d2, sizeof d2, "%s", d);
        }
        if (n)
            printf(en ? "HQ agrees with this laptop: %s records (%s\u2013%s)\n"
                      : "HQ 與本機一致：%s 筆紀錄（%s\u2013%s）\n", n1, d1, d2);
        else
            printf(en ? "HQ agrees with this laptop: no records acknowledged by HQ are kept "
                        "here\n"
                      : "HQ 與本機一致：本機沒有保留經總局確認的紀錄\n");
    } else {
        if (!from && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(hq, "all_records"))) {
            cJSON *w = cJSON_CreateArray();
            int i = 0;
            cJSON_ArrayForEach(g, want) {
                cJSON *x = cJSON_CreateObject();
                if (i++ >= 500 || !x)
                    break;
                cJSON_AddStringToObject(x, "kind", bb_json_str(g, "kind"));
                cJSON_AddStringToObject(x, "day", bb_json_str(g, "day"));
                cJSON_AddItemToArray(w, x);
            }
            err = ask_hq(ob, db, o->lang, w, &detail, eb);
            cJSON_Delete(w);
            if (err != BB_OK)
                goto out;
        }
        printf(en ? "HQ and this laptop differ in %ld group(s) of kind and day:\n"
                  : "HQ 與本機不一致：%ld 組（種類、日期）不同：\n", groups);
        cJSON_ArrayForEach(g, want) {
            const char *kind = bb_json_str(g, "kind"), *day = bb_json_str(g, "day");
            const cJSON *a = find_group(mine, kind, day), *b = find_group(theirs, kind, day);
            char d[16];
            show_day(day, o->lang, d, sizeof d);
            printf(en ? "  %s %s: this laptop %.0f, HQ %.0f record(s)\n"
                      : "  %s %s：本機 %.0f 筆，總局 %.0f 筆\n", d, kind,
                   a ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "count")) : 0.0,
                   b ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "count")) : 0.0);
            print_records(mrec, cJSON_GetObjectItemCaseSensitive(detail ? detail : hq, "records"),
                          kind, day, o->lang);
        }
        if (purged)
            printf(en ? "note: this laptop purged %ld acknowledged batch(es); records only at HQ "
                        "may be ones purged here\n"
                      : "注意：本機已清除 %ld 個已確認批次；只有總局有的紀錄可能是本機已清除的\n",
                   purged);
    }
    if (pending)
        printf(en ? "not compared: %ld record(s) HQ has not acknowledged yet (beatbook-syncd "
                    "--once sends them)\n"
                  : "未比對：%ld 筆紀錄尚未經總局確認（執行 beatbook-syncd --once 送出）\n",
               pending);
out:
    cJSON_Delete(hq);
    cJSON_Delete(detail);
    cJSON_Delete(mine);
    cJSON_Delete(mrec);
    cJSON_Delete(want);
    bb_agree_free(ag);
    bb_outbox_free(ob);
    bb_db_close(db);
    return err;
}
