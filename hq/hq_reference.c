/*
 * hq_reference.c — building, publishing and changing HQ's reference bundle
 * (see hq_reference.h).
 */
#include "hq_reference.h"
#include "hq_store.h"
#include "bb_batch.h"     /* bb_sha256_hex */
#include "bb_db.h"
#include "bb_json.h"
#include "bb_plan.h"
#include "bb_sigdoc.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hq_reference_clear(struct hq_reference *r)
{
    if (!r)
        return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    int found;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Put every stored list and kind into content. */
static bb_err put_stored(sqlite3 *db, cJSON *content, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err = BB_OK;
    int rc;

    if ((err = bb_db_prepare(db, "SELECT what, name, body FROM reference_data "
                             "ORDER BY what, name", &st, eb)) != BB_OK)
        return err;
    while (err == BB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *what = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        char origin[120];
        snprintf(origin, sizeof origin, "stored reference data (%s %.64s)", what, name);
        if (strcmp(what, "list") == 0)
            err = bb_refbundle_put_list(content, name, body, len, origin, eb);
        else
            err = bb_refbundle_put_kind(content, body, len, origin, NULL, eb);
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(db, rc, "read reference_data", eb);
    sqlite3_finalize(st);
    return err;
}

/* The stored plan of the latest year, if plans are stored at all. */
static bb_err put_plan(sqlite3 *db, cJSON *content, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err = BB_OK;
    int rc;

    if (!table_exists(db, "plans"))
        return BB_OK;   /* a store without plans: the built-in one stays */
    if ((err = bb_db_prepare(db, "SELECT id, body FROM plans ORDER BY year DESC, loaded_at DESC, "
                             "id LIMIT 1", &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char origin[80];
        snprintf(origin, sizeof origin, "stored plan %.40s",
                 (const char *)sqlite3_column_text(st, 0));
        err = bb_refbundle_put_plan(content, (const char *)sqlite3_column_text(st, 1),
                                    (size_t)sqlite3_column_bytes(st, 1), origin, eb);
    } else if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read plans", eb);
    }
    sqlite3_finalize(st);
    return err;
}

/*
 * Every stored plan (or, with none stored, the content's) must load against
 * the catalog of the content: a plan's inputs and lists name kinds, fields
 * and codes.
 */
static bb_err check_plans(sqlite3 *db, const cJSON *content, const bb_catalog *cat,
                          bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_plan *p = NULL;
    bb_err err = BB_OK;
    int rc, n = 0;

    if (table_exists(db, "plans")) {
        if ((err = bb_db_prepare(db, "SELECT id, body FROM plans ORDER BY id", &st, eb)) != BB_OK)
            return err;
        while (err == BB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            char origin[80];
            snprintf(origin, sizeof origin, "stored plan %.40s",
                     (const char *)sqlite3_column_text(st, 0));
            err = bb_plan_parse(cat, (const char *)sqlite3_column_text(st, 1),
                                (size_t)sqlite3_column_bytes(st, 1), origin, &p, eb);
            bb_plan_free(p);
            p = NULL;
            n++;
        }
        if (err == BB_OK && rc != SQLITE_DONE)
            err = bb_db_err(db, rc, "read plans", eb);
        sqlite3_finalize(st);
        if (err != BB_OK || n > 0)
            goto out;
    }
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(content, "plan"))) {
        char *text = bb_json_canonical(cJSON_GetObjectItemCaseSensitive(content, "plan"));
        if (!text)
            return BB_ERR_NOMEM;
        err = bb_plan_parse(cat, text, strlen(text), "the built-in plan", &p, eb);
        bb_plan_free(p);
        free(text);
    }
out:
    if (err != BB_OK && err != BB_ERR_NOMEM)
        bb_errbuf_prefix(eb, "with this reference data");
    return err;
}

bb_err hq_reference_content(sqlite3 *db, cJSON **out, bb_errbuf *eb)
{
    cJSON *c = NULL;
    bb_err err;

    *out = NULL;
    if ((err = bb_refbundle_content_embedded(&c, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "built-in reference data");
        return err == BB_ERR_NOMEM ? err : BB_ERR_INTERNAL;
    }
    if ((err = put_stored(db, c, eb)) != BB_OK || (err = put_plan(db, c, eb)) != BB_OK ||
        (err = bb_refbundle_check(c, NULL, eb)) != BB_OK) {
        cJSON_Delete(c);
        return err;
    }
    *out = c;
    return BB_OK;
}

bb_err hq_reference_catalog(sqlite3 *db, bb_catalog **out, bb_errbuf *eb)
{
    cJSON *c = NULL;
    bb_err err;

    *out = NULL;
    if ((err = hq_reference_content(db, &c, eb)) == BB_OK)
        err = bb_refbundle_check(c, out, eb);
    cJSON_Delete(c);
    return err;
}

static bb_err read_latest(sqlite3 *db, struct hq_reference *r, int64_t *issued_unix,
                          bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err = BB_OK;
    int rc;

    memset(r, 0, sizeof *r);
    *issued_unix = 0;
    if ((err = bb_db_prepare(db, "SELECT version, issued_at, issued_unix, body FROM "
                             "reference_bundles ORDER BY id DESC LIMIT 1", &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 3);
        hq_col_text(st, 0, r->version, sizeof r->version);
        hq_col_text(st, 1, r->issued_at, sizeof r->issued_at);
        *issued_unix = sqlite3_column_int64(st, 2);
        r->len = (size_t)sqlite3_column_bytes(st, 3);
        if (!(r->body = malloc(r->len + 1))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
        } else {
            memcpy(r->body, body ? body : "", r->len);
            r->body[r->len] = '\0';
        }
    } else if (rc == SQLITE_DONE) {
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no reference bundle has been published yet");
    } else {
        err = bb_db_err(db, rc, "read reference_bundles", eb);
    }
    sqlite3_finalize(st);
    return err;
}

bb_err hq_reference_latest(sqlite3 *db, struct hq_reference *r, bb_errbuf *eb)
{
    int64_t issued;
    return read_latest(db, r, &issued, eb);
}

/* Publish inside the caller's transaction. */
static bb_err publish_locked(struct hq_keys *k, sqlite3 *db, const char *actor,
                             struct hq_reference *r, int *issued, bb_errbuf *eb)
{
    char version[BB_REFBUNDLE_VERSION_SIZE], at[BB_TIME_MAX], detail[200];
    struct hq_reference last;
    int64_t last_issued = 0, now = bb_time_now();
    sqlite3_stmt *st = NULL;
    cJSON *doc = NULL;
    char *text = NULL;
    bb_err err;
    int rc;

    memset(r, 0, sizeof *r);
    if (issued)
        *issued = 0;
    if ((err = hq_reference_content(db, &doc, eb)) != BB_OK ||
        (err = bb_refbundle_version(doc, version, eb)) != BB_OK)
        goto out;
    err = read_latest(db, &last, &last_issued, eb);
    if (err == BB_OK && strcmp(last.version, version) == 0) {
        *r = last;                       /* unchanged: the same bytes as before */
        goto out;
    }
    hq_reference_clear(&last);
    if (err != BB_OK && err != BB_ERR_NOTFOUND)
        goto out;
    /* Later than every bundle before, even if the clock went back. */
    if (now <= last_issued)
        now = last_issued + 1;
    if ((err = bb_time_format(now, BB_TAIPEI_OFFSET_MIN, at)) != BB_OK) {
        err = bb_fail(eb, BB_ERR_INTERNAL, "reference bundle: the clock is out of range");
        goto out;
    }
    if ((err = bb_refbundle_stamp(doc, at, k->sign_kid, eb)) != BB_OK ||
        (err = hq_keys_sign_doc(k, doc, BB_CTX_REFERENCE, eb)) != BB_OK)
        goto out;
    if (!(text = bb_json_canonical(doc))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
        goto out;
    }
    if (strlen(text) > BB_REFBUNDLE_MAX) {
        err = bb_fail(eb, BB_ERR_TOOBIG, "reference bundle: %zu bytes, over the limit of %zu "
                      "that laptops take", strlen(text), BB_REFBUNDLE_MAX);
        goto out;
    }
    if ((err = bb_db_prepare(db, "INSERT INTO reference_bundles (version, issued_at, "
                             "issued_unix, body) VALUES (?1, ?2, ?3, ?4)", &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "store the reference bundle", eb);
        goto out;
    }
    snprintf(detail, sizeof detail, "version=%s issued_at=%s bytes=%zu", version, at,
             strlen(text));
    if ((err = hq_audit(db, actor, "publish_reference", NULL, detail, eb)) != BB_OK)
        goto out;
    memcpy(r->version, version, sizeof r->version);
    snprintf(r->issued_at, sizeof r->issued_at, "%s", at);
    r->len = strlen(text);
    r->body = text;
    text = NULL;
    if (issued)
        *issued = 1;
out:
    free(text);
    cJSON_Delete(doc);
    return err;
}

bb_err hq_reference_publish(struct hq_keys *k, sqlite3 *db, struct hq_reference *r,
                            int *issued, bb_errbuf *eb)
{
    bb_err err;

    memset(r, 0, sizeof *r);
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if ((err = publish_locked(k, db, "serve", r, issued, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK) {
        bb_db_rollback(db);
        hq_reference_clear(r);
        if (issued)
            *issued = 0;
    }
    return err;
}

bb_err hq_reference_apply(struct hq_keys *k, const struct hq_reference *r, bb_catalog *cat,
                          bb_errbuf *eb)
{
    bb_refbundle *b = NULL;
    bb_err err;

    if ((err = bb_refbundle_open(r->body, r->len, k->sign, k->sign_kid, &b, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "the published reference bundle (hq.db)");
        return err;
    }
    err = bb_refbundle_apply(b, cat, eb);
    bb_refbundle_free(b);
    return err;
}

/* Does an If-None-Match value (a list of entity tags, or "*") name version? */
static int etag_matches(const char *inm, const char *version)
{
    size_t vlen = strlen(version);
    const char *p = inm;

    while (*p) {
        const char *q;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')   /* If-None-Match compares weakly */
            p += 2;
        if (*p != '"')
            return 0;                     /* malformed: as if absent */
        q = strchr(p + 1, '"');
        if (!q)
            return 0;
        if ((size_t)(q - p - 1) == vlen && memcmp(p + 1, version, vlen) == 0)
            return 1;
        p = q + 1;
    }
    return 0;
}

void hq_reference_answer(const struct hq_reference *r, const char *if_none_match,
                         struct hq_answer *a)
{
    char *body;

    if (if_none_match && etag_matches(if_none_match, r->version)) {
        hq_answer_empty(a, 304, HQ_OUT_OK);
    } else {
        if ((body = malloc(r->len + 1)) != NULL) {
            memcpy(body, r->body, r->len);
            body[r->len] = '\0';
        }
        hq_answer_body(a, 200, HQ_OUT_OK, body);
    }
    if (a->status == 200 || a->status == 304) {
        a->cache_control = "no-cache";
        snprintf(a->etag, sizeof a->etag, "\"%s\"", r->version);
    }
}

/* ---- changes -------------------------------------------------------------------- */

/* Check the content that `change` would make, then store and publish. */
static bb_err change(struct hq_keys *k, sqlite3 *db, const char *what, const char *name,
                     const char *body, const char *source, struct hq_reference *r,
                     bb_errbuf *eb)
{
    struct hq_reference tmp, *out = r ? r : &tmp;
    char sha[BB_SHA256_HEX], at[BB_TIME_MAX], detail[300];
    sqlite3_stmt *st = NULL;
    bb_catalog *cat = NULL;
    cJSON *content = NULL;
    bb_err err;
    int rc;

    memset(out, 0, sizeof *out);
    if ((err = bb_time_now_taipei(at)) != BB_OK)
        return bb_fail(eb, BB_ERR_INTERNAL, "the clock is out of range");
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if (body) {
        bb_sha256_hex((const uint8_t *)body, strlen(body), sha);
        err = bb_db_prepare(db, "INSERT OR REPLACE INTO reference_data (what, name, body, "
                            "sha256, source, set_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, eb);
    } else {
        err = bb_db_prepare(db, "DELETE FROM reference_data WHERE what = ?1 AND name = ?2",
                            &st, eb);
    }
    if (err != BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, strcmp(what, "kind") == 0 ? "kind" : "list", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (body) {
        sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "store the reference data", eb);
        goto fail;
    }
    if (!body && sqlite3_changes(db) == 0) {
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no %s \"%s\" was set with `beatbook-hq reference "
                      "set`; HQ already publishes the built-in one",
                      strcmp(what, "kind") == 0 ? "kind" : "list", name);
        goto fail;
    }
    /* The whole bundle this makes must load, and every plan with it. */
    if ((err = hq_reference_content(db, &content, eb)) != BB_OK ||
        (err = bb_refbundle_check(content, &cat, eb)) != BB_OK ||
        (err = check_plans(db, content, cat, eb)) != BB_OK)
        goto fail;
    snprintf(detail, sizeof detail, "%s=%.64s%s%s", strcmp(what, "kind") == 0 ? "kind" : "list",
             name, body ? " sha256=" : " unset=yes", body ? sha : "");
    if ((err = hq_audit(db, "cli", body ? "set_reference" : "unset_reference", NULL, detail,
                        eb)) != BB_OK ||
        (err = publish_locked(k, db, "cli", out, NULL, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    cJSON_Delete(content);
    bb_catalog_free(cat);
    if (!r)
        hq_reference_clear(&tmp);
    return BB_OK;
fail:
    bb_db_rollback(db);
    hq_reference_clear(out);
    cJSON_Delete(content);
    bb_catalog_free(cat);
    return err;
}

static int list_name(const char *s)
{
    return strcmp(s, "units") == 0 || strcmp(s, "intersections") == 0 ||
           strcmp(s, "segments") == 0 || strcmp(s, "bikepaths") == 0;
}

bb_err hq_reference_set(struct hq_keys *k, sqlite3 *db, const char *what, const char *json,
                        size_t len, const char *origin, struct hq_reference *r, bb_errbuf *eb)
{
    cJSON *probe = NULL, *one = NULL;
    const char *name = what;
    char *body = NULL;
    bb_err err;

    if (r)
        memset(r, 0, sizeof *r);
    if (strcmp(what, "kind") != 0 && !list_name(what))
        return bb_fail(eb, BB_ERR_USAGE, "\"%s\" is not a reference list (lists: %s) nor "
                       "\"kind\"", what, BB_REF_LISTS);
    /* The piece on its own first, so its errors name the file; then store it
     * canonical: the list file as given, or the kind's definition. */
    if ((err = bb_refbundle_content_embedded(&probe, eb)) != BB_OK)
        return err;
    if (strcmp(what, "kind") == 0)
        err = bb_refbundle_put_kind(probe, json, len, origin, &name, eb);
    else
        err = bb_refbundle_put_list(probe, what, json, len, origin, eb);
    if (err == BB_OK)
        err = bb_json_parse(json, len, origin, &one, eb);
    if (err == BB_OK && !(body = bb_json_canonical(one)))
        err = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    if (err == BB_OK)
        err = change(k, db, what, name, body, origin, r, eb);
    free(body);
    cJSON_Delete(one);
    cJSON_Delete(probe);
    return err;
}

bb_err hq_reference_unset(struct hq_keys *k, sqlite3 *db, const char *what, const char *name,
                          struct hq_reference *r, bb_errbuf *eb)
{
    if (r)
        memset(r, 0, sizeof *r);
    if (strcmp(what, "kind") == 0) {
        if (!name)
            return bb_fail(eb, BB_ERR_USAGE, "which kind? reference unset kind NAME");
        return change(k, db, what, name, NULL, NULL, r, eb);
    }
    if (!list_name(what))
        return bb_fail(eb, BB_ERR_USAGE, "\"%s\" is not a reference list (lists: %s) nor "
                       "\"kind\"", what, BB_REF_LISTS);
    return change(k, db, what, what, NULL, NULL, r, eb);
}

bb_err hq_reference_stored(sqlite3 *db, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    cJSON *arr = cJSON_CreateArray();
    bb_err err;
    int rc;

    *out = NULL;
    if (!arr)
        return BB_ERR_NOMEM;
    if ((err = bb_db_prepare(db, "SELECT what, name, sha256, source, set_at FROM reference_data "
                             "ORDER BY what DESC, name", &st, eb)) != BB_OK) {
        cJSON_Delete(arr);
        return err;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        static const char *const keys[] = {"what", "name", "sha256", "source", "set_at"};
        cJSON *o = cJSON_CreateObject();
        int i;
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = SQLITE_NOMEM;
            break;
        }
        for (i = 0; i < 5; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            if (!cJSON_AddStringToObject(o, keys[i], t ? (const char *)t : "")) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        if (rc == SQLITE_NOMEM)
            break;
    }
    if (rc != SQLITE_DONE) {
        err = rc == SQLITE_NOMEM ? BB_ERR_NOMEM : bb_db_err(db, rc, "read reference_data", eb);
        sqlite3_finalize(st);
        cJSON_Delete(arr);
        return err;
    }
    sqlite3_finalize(st);
    *out = arr;
    return BB_OK;
}
