/*
 * col_record.c — one record built from typed-in values, checked and saved
 * (see col_record.h).  The command line, the terminal form and the forms
 * page all come through here, so they cannot drift apart.
 */
#include "col_record.h"
#include "col_attach.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_time.h"
#include "bb_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int col_record_is_envelope_key(const char *k)
{
    return strcmp(k, "occurred_at") == 0 || strcmp(k, "location") == 0 ||
           strcmp(k, "org_unit") == 0;
}

/*
 * "@PATH" or "@PATH1,@PATH2": take each file into the store and append it
 * to the field (so a repeated FIELD=@PATH adds to it).  The list is split
 * at ",@", the one place a path cannot be told from the next.
 */
static bb_err assign_files(struct col_ctx *ctx, const struct bb_kind *k,
                           const struct bb_field *f, cJSON *rec, const char *value,
                           bb_errbuf *eb)
{
    struct col_attach_file file;
    const char *p = value + 1;
    bb_err err;

    for (;;) {
        const char *next = strstr(p, ",@");
        size_t n = next ? (size_t)(next - p) : strlen(p);
        char *path = strndup(p, n);
        if (!path)
            return BB_ERR_NOMEM;
        err = col_attach_capture(ctx, k, f, path, &file, eb);
        free(path);
        if (err == BB_OK)
            err = col_attach_append(ctx, k, f, rec, &file, 1, eb);
        if (err != BB_OK || !next)
            return err;
        p = next + 2;
    }
}

bb_err col_record_assign_files(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                               const char *name, const cJSON *value, bb_errbuf *eb)
{
    const struct bb_field *f = bb_kind_field(k, name);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data"), *copy;
    bb_err err;

    if (!f || f->type != BB_F_ATTACHMENT)
        return bb_fail(eb, BB_ERR_INTERNAL, "col_record_assign_files: not an attachment field");
    cJSON_DeleteItemFromObjectCaseSensitive(data, name);
    if (!value || cJSON_IsNull(value) || (cJSON_IsArray(value) && cJSON_GetArraySize(value) == 0))
        return BB_OK;
    if ((err = bb_record_check_field(ctx->cat, k, f, value, ctx->lang, eb)) != BB_OK)
        return err;
    if (!(copy = cJSON_Duplicate(value, 1)))
        return BB_ERR_NOMEM;
    cJSON_AddItemToObject(data, name, copy);
    return BB_OK;
}

bb_err col_record_assign(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                         const char *name, const char *value, bb_errbuf *eb)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data"), *v = NULL;
    const struct bb_field *f;
    bb_err err;

    if (col_record_is_envelope_key(name)) {
        f = bb_record_envelope_field(name);
        if (!*value) {
            if (strcmp(name, "location") == 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(rec, name);
                return BB_OK;
            }
            return bb_fail(eb, BB_ERR_INVALID,
                           T(ctx, "%s: \"%s\" cannot be empty", "%s：「%s」不可空白"),
                           k->name, name);
        }
        if ((err = bb_record_coerce(ctx->cat, k, f, value, ctx->now, 0, ctx->lang, &v, eb)) !=
            BB_OK)
            return err;
        cJSON_DeleteItemFromObjectCaseSensitive(rec, name);
        cJSON_AddItemToObject(rec, name, v);
        return BB_OK;
    }
    f = bb_kind_field(k, name);
    if (!f) {
        /* Reuse the data check's message, which lists the kind's fields. */
        cJSON *probe = cJSON_CreateObject();
        if (!probe)
            return BB_ERR_NOMEM;
        cJSON_AddNullToObject(probe, name);
        err = bb_record_check_data(ctx->cat, k, probe, ctx->lang, eb);
        cJSON_Delete(probe);
        return err != BB_OK ? err : BB_ERR_INTERNAL;
    }
    if (f->type == BB_F_ATTACHMENT && *value == '@')
        return assign_files(ctx, k, f, rec, value, eb);
    cJSON_DeleteItemFromObjectCaseSensitive(data, name);
    if (!*value)
        return BB_OK;
    if ((err = bb_record_coerce(ctx->cat, k, f, value, ctx->now, 0, ctx->lang, &v, eb)) != BB_OK)
        return err;
    cJSON_AddItemToObject(data, name, v);
    return BB_OK;
}

bb_err col_record_assign_arg(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                             const char *arg, bb_errbuf *eb)
{
    const char *eq = strchr(arg, '=');
    char name[80];
    size_t n;

    if (!eq || eq == arg)
        return bb_fail(eb, BB_ERR_USAGE,
                       T(ctx, "\"%s\": expected FIELD=VALUE (see: beatbook kinds show %s)",
                         "「%s」：格式應為 欄位=值（請見：beatbook kinds show %s）"),
                       arg, k->name);
    n = (size_t)(eq - arg);
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, arg, n);
    name[n] = '\0';
    return col_record_assign(ctx, k, rec, name, eq + 1, eb);
}

bb_err col_record_new(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                      const char *status, int rev, cJSON **out, bb_errbuf *eb)
{
    char id[BB_UUID_STRLEN + 1], now[BB_TIME_MAX];
    cJSON *rec;
    bb_err err;

    *out = NULL;
    if ((err = bb_uuid7(id)) != BB_OK)
        return bb_fail(eb, err, T(ctx, "no random numbers available for a record id",
                                  "無法取得亂數以產生紀錄編號"));
    bb_time_format(ctx->now, 8 * 60, now);
    rec = cJSON_CreateObject();
    if (!rec || !cJSON_AddStringToObject(rec, "id", id) ||
        !cJSON_AddStringToObject(rec, "kind", k->name) ||
        !cJSON_AddNumberToObject(rec, "kind_version", k->version) ||
        !cJSON_AddNumberToObject(rec, "rev", rev) ||
        !cJSON_AddStringToObject(rec, "status", status) ||
        !cJSON_AddStringToObject(rec, "device", st->device) ||
        !cJSON_AddStringToObject(rec, "officer", st->officer) ||
        !cJSON_AddStringToObject(rec, "org_unit", st->org_unit) ||
        !cJSON_AddStringToObject(rec, "occurred_at", now) ||
        !cJSON_AddStringToObject(rec, "recorded_at", now) ||
        !cJSON_AddObjectToObject(rec, "data")) {
        cJSON_Delete(rec);
        return BB_ERR_NOMEM;
    }
    *out = rec;
    return BB_OK;
}

void col_record_set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, value);
}

void col_record_set_number(cJSON *obj, const char *key, double value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNumberToObject(obj, key, value);
}

void col_record_anchor(const struct bb_kind *k, cJSON *rec, int occurred_given)
{
    const char *t;

    if (occurred_given || !k->occurred_at_from)
        return;
    t = bb_json_str(bb_json_obj(rec, "data"), k->occurred_at_from);
    if (t)
        col_record_set_string(rec, "occurred_at", t);
}

bb_err col_record_put(struct col_ctx *ctx, col_store *st, const cJSON *rec, long expect_rev,
                      bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind"));
    bb_err err;

    if (!k)
        return bb_fail(eb, BB_ERR_INTERNAL, "col_record_put: record not validated");
    if ((err = col_store_put(st, rec, expect_rev, eb)) != BB_OK)
        return err;
    /* Same transaction: a revision and the index of the files it names
     * commit together (the files themselves are already durable). */
    return col_attach_index(ctx, st, k, rec, eb);
}

bb_err col_record_save(struct col_ctx *ctx, col_store *st, cJSON *rec, long expect_rev,
                       bb_errbuf *eb)
{
    bb_err err;

    if ((err = bb_record_validate(ctx->cat, rec, ctx->lang, eb)) != BB_OK)
        return err;
    if ((err = col_store_begin(st, eb)) != BB_OK)
        return err;
    if ((err = col_record_put(ctx, st, rec, expect_rev, eb)) != BB_OK) {
        col_store_rollback(st);
        return err;
    }
    return col_store_commit(st, eb);
}

bb_err col_record_load_for_revision(struct col_ctx *ctx, col_store *st, const char *idref,
                                    cJSON **rec, long *rev, bb_errbuf *eb)
{
    const cJSON *jrev;
    const char *dev, *status;
    bb_err err;

    if ((err = col_store_get(st, idref, rec, eb)) != BB_OK)
        return err;
    jrev = cJSON_GetObjectItemCaseSensitive(*rec, "rev");
    *rev = cJSON_IsNumber(jrev) ? (long)jrev->valuedouble : -1;
    dev = bb_json_str(*rec, "device");
    status = bb_json_str(*rec, "status");
    if (strcmp(dev ? dev : "", st->device) != 0)
        err = bb_fail(eb, BB_ERR_STATE,
                      T(ctx, "record %s was made on another device; only that device may revise it",
                        "紀錄 %s 由其他裝置建立；只有該裝置可以修改"),
                      bb_json_str(*rec, "id"));
    else if (status && strcmp(status, "void") == 0)
        err = bb_fail(eb, BB_ERR_STATE,
                      T(ctx, "record %s is void and cannot be changed", "紀錄 %s 已作廢，不能修改"),
                      bb_json_str(*rec, "id"));
    if (err != BB_OK) {
        cJSON_Delete(*rec);
        *rec = NULL;
    }
    return err;
}

/*
 * A new revision is made now, under the kind as this laptop knows it: it
 * carries today's kind version, so today's rules hold for it.
 */
static void stamp_kind_version(struct col_ctx *ctx, cJSON *rec)
{
    const char *kind = bb_json_str(rec, "kind");
    const struct bb_kind *k = kind ? bb_catalog_kind(ctx->cat, kind) : NULL;
    if (k)
        col_record_set_number(rec, "kind_version", k->version);
}

void col_record_next_revision(struct col_ctx *ctx, cJSON *rec, long rev)
{
    char now[BB_TIME_MAX];
    const char *status = bb_json_str(rec, "status");

    stamp_kind_version(ctx, rec);
    bb_time_format(ctx->now, BB_TAIPEI_OFFSET_MIN, now);
    if (!status || strcmp(status, "draft") != 0)
        col_record_set_number(rec, "rev", (double)(rev + 1));
    col_record_set_string(rec, "recorded_at", now);
}

void col_record_make_void(struct col_ctx *ctx, cJSON *rec, long *rev, const char *reason)
{
    char now[BB_TIME_MAX];
    const char *status = bb_json_str(rec, "status");

    if (status && strcmp(status, "draft") == 0)
        *rev = 0;
    bb_time_format(ctx->now, BB_TAIPEI_OFFSET_MIN, now);
    col_record_set_string(rec, "status", "void");
    col_record_set_string(rec, "void_reason", reason);
    col_record_set_number(rec, "rev", (double)(*rev + 1));
    col_record_set_string(rec, "recorded_at", now);
}

void col_record_end_draft(struct col_ctx *ctx, cJSON *rec)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    char now[BB_TIME_MAX];

    stamp_kind_version(ctx, rec);
    bb_time_format(ctx->now, BB_TAIPEI_OFFSET_MIN, now);
    if (data && !cJSON_GetObjectItemCaseSensitive(data, "ended_at"))
        cJSON_AddStringToObject(data, "ended_at", now);
    col_record_set_string(rec, "status", "final");
    col_record_set_number(rec, "rev", 1);
    col_record_set_string(rec, "recorded_at", now);
}

void col_record_saved_line(struct col_ctx *ctx, const cJSON *rec, char *out, size_t n)
{
    const char *kind = bb_json_str(rec, "kind"), *status = bb_json_str(rec, "status");
    const struct bb_kind *k = kind ? bb_catalog_kind(ctx->cat, kind) : NULL;
    const char *label = k ? bb_label(&k->label, ctx->lang, kind) : (kind ? kind : "?");
    const char *id = bb_json_str(rec, "id");
    int draft = status && strcmp(status, "draft") == 0;
    int is_void = status && strcmp(status, "void") == 0;

    if (draft)
        snprintf(out, n, T(ctx, "saved %s %s (draft: stays on this laptop until it ends)",
                           "已儲存 %s %s（草稿：結束前不會同步）"), label, id ? id : "?");
    else if (is_void)
        snprintf(out, n, T(ctx, "voided %s %s (to be synced)", "已作廢 %s %s（待同步）"), label,
                 id ? id : "?");
    else
        snprintf(out, n, T(ctx, "saved %s %s (to be synced)", "已儲存 %s %s（待同步）"), label,
                 id ? id : "?");
}
