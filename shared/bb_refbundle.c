/*
 * bb_refbundle.c — building, verifying, applying and storing the signed
 * reference bundle (see bb_refbundle.h, docs/FORMATS.md §2).
 *
 * Every check goes through a scratch catalog: a list or kind is accepted
 * exactly when bb_catalog would load it, so HQ cannot publish, and a device
 * cannot take, anything the catalog code would later refuse.
 */
#include "bb_refbundle.h"
#include "bb_batch.h"     /* bb_sha256_hex */
#include "bb_codec.h"
#include "bb_db.h"
#include "bb_embed.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lists[] = {"units", "intersections", "segments", "bikepaths"};
#define NLISTS (sizeof lists / sizeof lists[0])

/* Members that are not content: they do not count in the version. */
static const char *const stamp_keys[] = {"version", "issued_at", "hq_sign_key", "sig"};

struct bb_refbundle {
    cJSON *doc;
    char *text;                 /* canonical JSON, made when first asked for */
    size_t len;
    char version[BB_REFBUNDLE_VERSION_SIZE];
    char issued_at[BB_TIME_MAX];
    int64_t issued_unix;
};

static int is_list(const char *name)
{
    size_t i;
    for (i = 0; i < NLISTS; i++)
        if (strcmp(name, lists[i]) == 0)
            return 1;
    return 0;
}

/* Replace (or add) obj[key] with item, which obj takes over (or frees). */
static bb_err set_member(cJSON *obj, const char *key, cJSON *item)
{
    cJSON_bool ok;

    if (!item)
        return BB_ERR_NOMEM;
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        ok = cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        ok = cJSON_AddItemToObject(obj, key, item);
    if (!ok)
        cJSON_Delete(item);
    return ok ? BB_OK : BB_ERR_NOMEM;
}

/* {"<list>": arr} as canonical text, for bb_catalog_set_list.  NULL: no memory. */
static char *list_text(const char *list, const cJSON *arr)
{
    cJSON *w = cJSON_CreateObject();
    char *text = NULL;

    if (w && cJSON_AddItemReferenceToObject(w, list, (cJSON *)arr))
        text = bb_json_canonical(w);
    cJSON_Delete(w);   /* a reference does not free what it refers to */
    return text;
}

/* ---- building ------------------------------------------------------------- */

bb_err bb_refbundle_put_list(cJSON *content, const char *list, const char *json, size_t len,
                             const char *origin, bb_errbuf *eb)
{
    bb_catalog *scratch = NULL;
    cJSON *root = NULL, *arr;
    bb_err err;

    if (!is_list(list))
        return bb_fail(eb, BB_ERR_INVALID, "%s: unknown reference list \"%s\" (lists: %s)",
                       origin, list, BB_REF_LISTS);
    if ((err = bb_catalog_new(&scratch)) != BB_OK)
        return err;
    if ((err = bb_catalog_set_list(scratch, list, json, len, origin, eb)) != BB_OK)
        goto out;
    if ((err = bb_json_parse(json, len, origin, &root, eb)) != BB_OK)
        goto out;
    arr = cJSON_DetachItemFromObjectCaseSensitive(root, list);
    err = set_member(content, list, arr);
out:
    cJSON_Delete(root);
    bb_catalog_free(scratch);
    return err;
}

bb_err bb_refbundle_put_kind(cJSON *content, const char *json, size_t len, const char *origin,
                             const char **name, bb_errbuf *eb)
{
    bb_catalog *scratch = NULL;
    cJSON *root = NULL, *kinds, *k;
    const char *kname;
    size_t total;
    int i = 0;
    bb_err err;

    if ((err = bb_catalog_new(&scratch)) != BB_OK)
        return err;
    if ((err = bb_catalog_add_kind(scratch, json, len, origin, eb)) != BB_OK ||
        (err = bb_json_parse(json, len, origin, &root, eb)) != BB_OK)
        goto out;
    kname = bb_json_str(root, "kind");
    kinds = cJSON_GetObjectItemCaseSensitive(content, "kinds");
    if (!cJSON_IsArray(kinds)) {
        if (set_member(content, "kinds", kinds = cJSON_CreateArray()) != BB_OK) {
            err = BB_ERR_NOMEM;
            goto out;
        }
    }
    /* Kept sorted by name, like the catalog, so the content does not depend on
     * the order things were put in. */
    cJSON_ArrayForEach(k, kinds) {
        const char *n = bb_json_str(k, "kind");
        int c = n ? strcmp(n, kname) : -1;
        if (c == 0) {
            if (!cJSON_ReplaceItemInArray(kinds, i, root)) {
                err = BB_ERR_NOMEM;
                goto out;
            }
            goto placed;
        }
        if (c > 0)
            break;
        i++;
    }
    /* Append, then move the kinds that sort after it behind it (Debian 12's
     * cJSON_InsertItemInArray refuses to insert before an existing item). */
    total = (size_t)cJSON_GetArraySize(kinds);
    if (!cJSON_AddItemToArray(kinds, root)) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    for (; (size_t)i < total; total--)
        cJSON_AddItemToArray(kinds, cJSON_DetachItemFromArray(kinds, i));
placed:
    if (name)
        *name = bb_json_str(root, "kind");
    root = NULL;
out:
    cJSON_Delete(root);
    bb_catalog_free(scratch);
    return err;
}

bb_err bb_refbundle_put_plan(cJSON *content, const char *json, size_t len, const char *origin,
                             bb_errbuf *eb)
{
    cJSON *root = NULL;
    bb_err err;

    if (!json)
        return set_member(content, "plan", cJSON_CreateNull());
    if ((err = bb_json_parse(json, len, origin, &root, eb)) != BB_OK)
        return err;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return bb_fail(eb, BB_ERR_INVALID, "%s: a plan must be a JSON object", origin);
    }
    return set_member(content, "plan", root);
}

bb_err bb_refbundle_content_embedded(cJSON **out, bb_errbuf *eb)
{
    const struct bb_embedded_file *f;
    cJSON *c = cJSON_CreateObject();
    size_t i, cur = 0;
    bb_err err = BB_OK;

    *out = NULL;
    if (!c || !cJSON_AddNumberToObject(c, "v", BB_REFBUNDLE_V) ||
        !cJSON_AddArrayToObject(c, "kinds") || !cJSON_AddNullToObject(c, "plan")) {
        cJSON_Delete(c);
        return BB_ERR_NOMEM;
    }
    for (i = 0; i < NLISTS && err == BB_OK; i++) {
        char path[64];
        snprintf(path, sizeof path, "reference/%s.json", lists[i]);
        if ((f = bb_embed_find(path)) != NULL)
            err = bb_refbundle_put_list(c, lists[i], f->data, f->len, f->path, eb);
        else
            err = set_member(c, lists[i], cJSON_CreateArray());
    }
    while (err == BB_OK && (f = bb_embed_next("records/", &cur)) != NULL)
        err = bb_refbundle_put_kind(c, f->data, f->len, f->path, NULL, eb);
    cur = 0;
    if (err == BB_OK && (f = bb_embed_next("plans/", &cur)) != NULL)
        err = bb_refbundle_put_plan(c, f->data, f->len, f->path, eb);
    if (err != BB_OK) {
        cJSON_Delete(c);
        return err;
    }
    *out = c;
    return BB_OK;
}

bb_err bb_refbundle_check(const cJSON *content, bb_catalog **out, bb_errbuf *eb)
{
    const cJSON *v, *kinds, *k, *plan;
    bb_catalog *cat = NULL;
    size_t i, n = 0;
    bb_err err;

    if (out)
        *out = NULL;
    if (!cJSON_IsObject(content))
        return bb_fail(eb, BB_ERR_INVALID, "reference bundle: not a JSON object");
    v = cJSON_GetObjectItemCaseSensitive(content, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != BB_REFBUNDLE_V)
        return bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"v\" must be %d (a newer HQ? "
                       "update beatbook)", BB_REFBUNDLE_V);
    kinds = cJSON_GetObjectItemCaseSensitive(content, "kinds");
    if (!cJSON_IsArray(kinds) || cJSON_GetArraySize(kinds) < 1 ||
        cJSON_GetArraySize(kinds) > BB_REFBUNDLE_MAX_KINDS)
        return bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"kinds\" must be an array of "
                       "1..%d kind definitions", BB_REFBUNDLE_MAX_KINDS);
    plan = cJSON_GetObjectItemCaseSensitive(content, "plan");
    if (!cJSON_IsObject(plan) && !cJSON_IsNull(plan))
        return bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"plan\" must be an object or "
                       "null");
    if ((err = bb_catalog_new(&cat)) != BB_OK)
        return err;
    for (i = 0; i < NLISTS; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(content, lists[i]);
        char origin[64], *text;
        if (!cJSON_IsArray(arr) || (i == 0 && cJSON_GetArraySize(arr) < 1)) {
            err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"%s\" must be %s array",
                          lists[i], i == 0 ? "a non-empty" : "an");
            goto fail;
        }
        if (!(text = list_text(lists[i], arr))) {
            err = BB_ERR_NOMEM;
            goto fail;
        }
        snprintf(origin, sizeof origin, "reference bundle: %s", lists[i]);
        err = bb_catalog_set_list(cat, lists[i], text, strlen(text), origin, eb);
        free(text);
        if (err != BB_OK)
            goto fail;
    }
    cJSON_ArrayForEach(k, kinds) {
        const char *name = bb_json_str(k, "kind");
        char origin[120], *text;
        snprintf(origin, sizeof origin, "reference bundle: kinds[%zu] (%.64s)", n,
                 name ? name : "?");
        if (!cJSON_IsObject(k)) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: not an object", origin);
            goto fail;
        }
        if (name && bb_catalog_kind(cat, name)) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: kind \"%s\" is defined twice", origin, name);
            goto fail;
        }
        if (!(text = bb_json_canonical(k))) {
            err = BB_ERR_NOMEM;
            goto fail;
        }
        err = bb_catalog_add_kind(cat, text, strlen(text), origin, eb);
        free(text);
        if (err != BB_OK)
            goto fail;
        n++;
    }
    if (out)
        *out = cat;
    else
        bb_catalog_free(cat);
    return BB_OK;
fail:
    bb_catalog_free(cat);
    return err;
}

/* The version of doc, which is changed meanwhile (the stamp is detached and put back)
 * and left with the same members: no copy of a large tree. */
static bb_err version_in_place(cJSON *doc, char out[BB_REFBUNDLE_VERSION_SIZE], bb_errbuf *eb)
{
    cJSON *held[sizeof stamp_keys / sizeof stamp_keys[0]];
    char *text;
    size_t i;

    for (i = 0; i < sizeof stamp_keys / sizeof stamp_keys[0]; i++)
        held[i] = cJSON_DetachItemFromObjectCaseSensitive(doc, stamp_keys[i]);
    text = bb_json_canonical(doc);
    for (i = 0; i < sizeof stamp_keys / sizeof stamp_keys[0]; i++)
        if (held[i] && !cJSON_AddItemToObject(doc, stamp_keys[i], held[i]))
            cJSON_Delete(held[i]);   /* cannot happen: the key was just removed */
    out[0] = '\0';
    if (!text)
        return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
    bb_sha256_hex((const uint8_t *)text, strlen(text), out);
    free(text);
    return BB_OK;
}

bb_err bb_refbundle_version(const cJSON *doc, char out[BB_REFBUNDLE_VERSION_SIZE],
                            bb_errbuf *eb)
{
    cJSON *copy = cJSON_Duplicate(doc, 1);
    char *text;
    size_t i;

    out[0] = '\0';
    if (!copy)
        return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
    for (i = 0; i < sizeof stamp_keys / sizeof stamp_keys[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(copy, stamp_keys[i]);
    text = bb_json_canonical(copy);
    cJSON_Delete(copy);
    if (!text)
        return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
    bb_sha256_hex((const uint8_t *)text, strlen(text), out);
    free(text);
    return BB_OK;
}

bb_err bb_refbundle_stamp(cJSON *doc, const char *issued_at, const char *hq_sign_key,
                          bb_errbuf *eb)
{
    char version[BB_REFBUNDLE_VERSION_SIZE];
    bb_err err;

    cJSON_DeleteItemFromObjectCaseSensitive(doc, "sig");
    if ((err = bb_refbundle_version(doc, version, eb)) != BB_OK)
        return err;
    if ((err = set_member(doc, "version", cJSON_CreateString(version))) != BB_OK ||
        (err = set_member(doc, "issued_at", cJSON_CreateString(issued_at))) != BB_OK ||
        (err = set_member(doc, "hq_sign_key", cJSON_CreateString(hq_sign_key))) != BB_OK)
        return bb_fail(eb, err, "reference bundle: out of memory");
    return BB_OK;
}

bb_err bb_refbundle_sign(cJSON *doc, const char *issued_at, const bb_sign_key *key,
                         bb_errbuf *eb)
{
    char kid[BB_KEY_ID_SIZE];
    bb_err err;

    if ((err = bb_sign_key_id(key, kid, eb)) != BB_OK ||
        (err = bb_refbundle_stamp(doc, issued_at, kid, eb)) != BB_OK)
        return err;
    return bb_sigdoc_sign(doc, BB_CTX_REFERENCE, key, eb);
}

/* ---- using ------------------------------------------------------------------ */

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

bb_err bb_refbundle_open(const char *text, size_t len, const bb_sign_key *hq_key,
                         const char *hq_kid, bb_refbundle **out, bb_errbuf *eb)
{
    char version[BB_REFBUNDLE_VERSION_SIZE];
    const char *kid, *ver, *issued;
    const cJSON *v;
    bb_refbundle *b;
    bb_err err;

    *out = NULL;
    if (len > BB_REFBUNDLE_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "reference bundle: %zu bytes, over the limit of %zu",
                       len, BB_REFBUNDLE_MAX);
    if (!(b = calloc(1, sizeof *b)))
        return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
    if ((err = bb_json_parse(text, len, "reference bundle", &b->doc, eb)) != BB_OK)
        goto fail;
    if (!cJSON_IsObject(b->doc)) {
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: not a JSON object");
        goto fail;
    }
    v = cJSON_GetObjectItemCaseSensitive(b->doc, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != BB_REFBUNDLE_V) {
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"v\" must be %d (a newer HQ? "
                      "update beatbook)", BB_REFBUNDLE_V);
        goto fail;
    }
    kid = bb_json_str(b->doc, "hq_sign_key");
    if (!kid || strcmp(kid, hq_kid) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"hq_sign_key\" is not HQ's key "
                      "from enrollment (%s)", hq_kid);
        goto fail;
    }
    /* Nothing more is read from the document before its signature holds. */
    if ((err = bb_sigdoc_verify(b->doc, BB_CTX_REFERENCE, hq_key, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "reference bundle");
        goto fail;
    }
    if ((err = version_in_place(b->doc, version, eb)) != BB_OK)
        goto fail;
    ver = bb_json_str(b->doc, "version");
    if (!ver || strlen(ver) != 64 || !is_hex64(ver) || strcmp(ver, version) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"version\" is not the SHA-256 of "
                      "its content");
        goto fail;
    }
    issued = bb_json_str(b->doc, "issued_at");
    if (!issued || strlen(issued) >= sizeof b->issued_at ||
        bb_time_parse(issued, &b->issued_unix, NULL, NULL) != BB_OK) {
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: \"issued_at\" is not an RFC 3339 "
                      "time");
        goto fail;
    }
    if ((err = bb_refbundle_check(b->doc, NULL, eb)) != BB_OK)
        goto fail;
    memcpy(b->version, version, sizeof b->version);
    snprintf(b->issued_at, sizeof b->issued_at, "%s", issued);
    *out = b;
    return BB_OK;
fail:
    bb_refbundle_free(b);
    return err;
}

void bb_refbundle_free(bb_refbundle *b)
{
    if (!b)
        return;
    cJSON_Delete(b->doc);
    free(b->text);
    free(b);
}

const char *bb_refbundle_version_of(const bb_refbundle *b)
{
    return b->version;
}

const char *bb_refbundle_issued_at(const bb_refbundle *b)
{
    return b->issued_at;
}

int64_t bb_refbundle_issued_unix(const bb_refbundle *b)
{
    return b->issued_unix;
}

const char *bb_refbundle_text(const bb_refbundle *b, size_t *len)
{
    /* Made on first use (only syncd stores bundles; beatbook never needs it). */
    bb_refbundle *m = (bb_refbundle *)b;

    if (!m->text && (m->text = bb_json_canonical(m->doc)) != NULL)
        m->len = strlen(m->text);
    if (len)
        *len = m->text ? m->len : 0;
    return m->text;
}

const cJSON *bb_refbundle_doc(const bb_refbundle *b)
{
    return b->doc;
}

bb_err bb_refbundle_newer(const bb_refbundle *b, const char *have_version,
                          int64_t have_issued, bb_errbuf *eb)
{
    char at[BB_TIME_MAX];

    if (!have_version || strcmp(have_version, b->version) == 0 || b->issued_unix > have_issued)
        return BB_OK;
    if (bb_time_format(have_issued, BB_TAIPEI_OFFSET_MIN, at) != BB_OK)
        snprintf(at, sizeof at, "?");
    return bb_fail(eb, BB_ERR_CONFLICT, "reference data %.12s issued at %s is not newer than "
                   "%.12s issued at %s, which this laptop has; keeping that (an old bundle "
                   "replayed?)", b->version, b->issued_at, have_version, at);
}

bb_err bb_refbundle_apply(const bb_refbundle *b, bb_catalog *cat, bb_errbuf *eb)
{
    const cJSON *k;
    size_t i;
    bb_err err;

    for (i = 0; i < NLISTS; i++) {
        char origin[64], *text = list_text(lists[i],
                                           cJSON_GetObjectItemCaseSensitive(b->doc, lists[i]));
        if (!text)
            return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
        snprintf(origin, sizeof origin, "reference bundle: %s", lists[i]);
        err = bb_catalog_set_list(cat, lists[i], text, strlen(text), origin, eb);
        free(text);
        if (err != BB_OK)
            return err;
    }
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(b->doc, "kinds")) {
        char *text = bb_json_canonical(k);
        if (!text)
            return bb_fail(eb, BB_ERR_NOMEM, "reference bundle: out of memory");
        err = bb_catalog_add_kind(cat, text, strlen(text), "reference bundle", eb);
        free(text);
        if (err != BB_OK)
            return err;
    }
    return BB_OK;
}

/* ---- the device's stored bundle ------------------------------------------------ */

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

static void col_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

bb_err bb_refbundle_hq_key(sqlite3 *db, bb_sign_key **key, char kid[BB_KEY_ID_SIZE],
                           bb_errbuf *eb)
{
    sqlite3_stmt *st;
    uint8_t *der = NULL;
    size_t der_len = 0;
    bb_err err;
    int rc;

    *key = NULL;
    kid[0] = '\0';
    if (!table_exists(db, "enrollment"))
        return bb_fail(eb, BB_ERR_STATE, "this store is not enrolled with HQ");
    if ((err = bb_db_prepare(db, "SELECT hq_sign_pub, hq_sign_key FROM enrollment WHERE id = 1",
                             &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err = bb_fail(eb, BB_ERR_STATE, "this store is not enrolled with HQ");
    } else if (rc != SQLITE_ROW) {
        err = bb_db_err(db, rc, "read the enrollment", eb);
    } else {
        const char *pub = (const char *)sqlite3_column_text(st, 0);
        col_copy(st, 1, kid, BB_KEY_ID_SIZE);
        if (!pub || bb_base64_decode_alloc(pub, strlen(pub), &der, &der_len, NULL) != BB_OK ||
            bb_sign_pub_import_der(key, der, der_len, NULL) != BB_OK)
            err = bb_fail(eb, BB_ERR_CORRUPT, "the enrollment stored in this store is damaged "
                          "(HQ's public keys); restore the store from a backup");
    }
    sqlite3_finalize(st);
    free(der);
    return err;
}

/* The stored row; *body (may be NULL) is malloc'd. */
static bb_err read_stored(sqlite3 *db, struct bb_refbundle_stored *s, char **body, size_t *len,
                          bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    memset(s, 0, sizeof *s);
    if (body)
        *body = NULL;
    if (!table_exists(db, "reference"))
        return bb_fail(eb, BB_ERR_NOTFOUND, "no reference data from HQ is stored");
    if ((err = bb_db_prepare(db, "SELECT version, issued_at, issued_unix, fetched_at, "
                             "checked_at, body FROM reference WHERE id = 1", &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no reference data from HQ is stored");
    } else if (rc != SQLITE_ROW) {
        err = bb_db_err(db, rc, "read the reference data", eb);
    } else {
        col_copy(st, 0, s->version, sizeof s->version);
        col_copy(st, 1, s->issued_at, sizeof s->issued_at);
        s->issued_unix = sqlite3_column_int64(st, 2);
        col_copy(st, 3, s->fetched_at, sizeof s->fetched_at);
        col_copy(st, 4, s->checked_at, sizeof s->checked_at);
        if (body) {
            const char *t = (const char *)sqlite3_column_text(st, 5);
            *len = (size_t)sqlite3_column_bytes(st, 5);
            if (!(*body = malloc(*len + 1)))
                err = bb_fail(eb, BB_ERR_NOMEM, "reference data: out of memory");
            else {
                memcpy(*body, t ? t : "", *len);
                (*body)[*len] = '\0';
            }
        }
    }
    sqlite3_finalize(st);
    return err;
}

bb_err bb_refbundle_stored_info(sqlite3 *db, struct bb_refbundle_stored *s, bb_errbuf *eb)
{
    return read_stored(db, s, NULL, NULL, eb);
}

/* The stored bundle verified with key; NOTFOUND when none. */
static bb_err load_with(sqlite3 *db, const bb_sign_key *key, const char *kid,
                        struct bb_refbundle_stored *s, bb_refbundle **out, bb_errbuf *eb)
{
    char *body = NULL;
    size_t len = 0;
    bb_err err;

    *out = NULL;
    if ((err = read_stored(db, s, &body, &len, eb)) != BB_OK)
        return err;
    err = bb_refbundle_open(body, len, key, kid, out, eb);
    free(body);
    if (err == BB_OK && strcmp(bb_refbundle_version_of(*out), s->version) != 0) {
        bb_refbundle_free(*out);
        *out = NULL;
        err = bb_fail(eb, BB_ERR_INVALID, "reference bundle: the stored version does not match "
                      "the bundle");
    }
    return err;
}

bb_err bb_refbundle_stored_load(sqlite3 *db, bb_refbundle **out, bb_errbuf *eb)
{
    struct bb_refbundle_stored s;
    char kid[BB_KEY_ID_SIZE];
    bb_sign_key *key = NULL;
    bb_err err;

    *out = NULL;
    if ((err = read_stored(db, &s, NULL, NULL, eb)) != BB_OK ||
        (err = bb_refbundle_hq_key(db, &key, kid, eb)) != BB_OK)
        return err;
    err = load_with(db, key, kid, &s, out, eb);
    bb_sign_key_free(key);
    return err;
}

bb_err bb_refbundle_stored_save(sqlite3 *db, const bb_refbundle *b, int64_t now, int *changed,
                                bb_errbuf *eb)
{
    struct bb_refbundle_stored s;
    char kid[BB_KEY_ID_SIZE], at[BB_TIME_MAX];
    bb_refbundle *have = NULL;
    bb_sign_key *key = NULL;
    sqlite3_stmt *st = NULL;
    const char *text;
    size_t text_len = 0;
    bb_errbuf ignore;
    bb_err err;
    int rc;

    if (changed)
        *changed = 0;
    if ((err = bb_time_format(now, BB_TAIPEI_OFFSET_MIN, at)) != BB_OK)
        return bb_fail(eb, err, "reference data: the clock is out of range");
    if (!(text = bb_refbundle_text(b, &text_len)))
        return bb_fail(eb, BB_ERR_NOMEM, "reference data: out of memory");
    if ((err = bb_refbundle_hq_key(db, &key, kid, eb)) != BB_OK)
        return err;
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        goto out;
    /* What is stored counts only if it still verifies: a damaged copy is replaced. */
    err = load_with(db, key, kid, &s, &have, &ignore);
    if (err == BB_OK) {
        if ((err = bb_refbundle_newer(b, s.version, s.issued_unix, eb)) != BB_OK)
            goto rollback;
        if (strcmp(s.version, bb_refbundle_version_of(b)) == 0) {
            if ((err = bb_db_prepare(db, "UPDATE reference SET checked_at = ?1 WHERE id = 1",
                                     &st, eb)) != BB_OK)
                goto rollback;
            sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
            goto step;
        }
    } else if (err != BB_ERR_NOTFOUND && err != BB_ERR_CRYPTO && err != BB_ERR_INVALID &&
               err != BB_ERR_TOOBIG) {
        if (eb)
            *eb = ignore;
        goto rollback;
    }
    if ((err = bb_db_prepare(db, "INSERT OR REPLACE INTO reference (id, version, issued_at, "
                             "issued_unix, fetched_at, checked_at, body) "
                             "VALUES (1, ?1, ?2, ?3, ?4, ?4, ?5)", &st, eb)) != BB_OK)
        goto rollback;
    sqlite3_bind_text(st, 1, bb_refbundle_version_of(b), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bb_refbundle_issued_at(b), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, bb_refbundle_issued_unix(b));
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, text, (int)text_len, SQLITE_STATIC);
    if (changed)
        *changed = 1;
step:
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "store the reference data", eb);
        if (changed)
            *changed = 0;
        goto rollback;
    }
    sqlite3_finalize(st);
    st = NULL;
    err = bb_db_commit(db, eb);
    if (err != BB_OK && changed)
        *changed = 0;
    goto out;
rollback:
    sqlite3_finalize(st);
    st = NULL;
    bb_db_rollback(db);
out:
    bb_refbundle_free(have);
    bb_sign_key_free(key);
    return err;
}

bb_err bb_refbundle_stored_touch(sqlite3 *db, int64_t now, bb_errbuf *eb)
{
    char at[BB_TIME_MAX];
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_time_format(now, BB_TAIPEI_OFFSET_MIN, at)) != BB_OK)
        return bb_fail(eb, err, "reference data: the clock is out of range");
    if ((err = bb_db_prepare(db, "UPDATE reference SET checked_at = ?1 WHERE id = 1", &st,
                             eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, "note the reference check", eb);
}

bb_err bb_refbundle_stored_summary(sqlite3 *db, cJSON **out, bb_errbuf *eb)
{
    struct bb_refbundle_stored s;
    bb_refbundle *b = NULL;
    cJSON *o = cJSON_CreateObject(), *ig;
    bb_errbuf why;
    bb_err err;

    *out = NULL;
    if (!o)
        return BB_ERR_NOMEM;
    err = read_stored(db, &s, NULL, NULL, eb);
    if (err == BB_ERR_NOTFOUND) {
        if (!cJSON_AddStringToObject(o, "source", "built-in"))
            goto oom;
        *out = o;
        return BB_OK;
    }
    if (err != BB_OK) {
        cJSON_Delete(o);
        return err;
    }
    memset(&why, 0, sizeof why);
    err = bb_refbundle_stored_load(db, &b, &why);
    bb_refbundle_free(b);
    if (err == BB_ERR_NOMEM || err == BB_ERR_DB || err == BB_ERR_BUSY || err == BB_ERR_IO) {
        cJSON_Delete(o);
        if (eb)
            *eb = why;
        return err;
    }
    if (err == BB_OK) {
        if (!cJSON_AddStringToObject(o, "source", "hq") ||
            !cJSON_AddStringToObject(o, "version", s.version) ||
            !cJSON_AddStringToObject(o, "issued_at", s.issued_at) ||
            !cJSON_AddStringToObject(o, "fetched_at", s.fetched_at) ||
            !cJSON_AddStringToObject(o, "checked_at", s.checked_at))
            goto oom;
    } else if (!cJSON_AddStringToObject(o, "source", "built-in") ||
               !(ig = cJSON_AddObjectToObject(o, "ignored")) ||
               !cJSON_AddStringToObject(ig, "version", s.version) ||
               !cJSON_AddStringToObject(ig, "fetched_at", s.fetched_at) ||
               !cJSON_AddStringToObject(ig, "error", why.msg)) {
        goto oom;
    }
    *out = o;
    return BB_OK;
oom:
    cJSON_Delete(o);
    return BB_ERR_NOMEM;
}
