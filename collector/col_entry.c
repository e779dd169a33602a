/*
 * col_entry.c — the commands that write: init, add (one record, or an
 * import of many), patrol start/end, edit and void.
 *
 * Every command builds complete records in memory, validates all of them
 * with the shared rules (bb_record_validate, the same HQ applies), and only
 * then writes them in one transaction.  So a bad value, a truncated import or
 * a crash midway stores nothing.
 */
#include "col_cli.h"
#include "col_store.h"
#include "bb_json.h"
#include "bb_rand.h"
#include "bb_record.h"
#include "bb_time.h"
#include "bb_uuid.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_BYTES ((size_t)1 << 30)   /* 1 GiB of JSON per import */
#define IMPORT_MAX_RECORDS 2000000

/* Envelope keys a person may set besides the kind's fields. */
static int is_envelope_key(const char *k)
{
    return strcmp(k, "occurred_at") == 0 || strcmp(k, "location") == 0 ||
           strcmp(k, "org_unit") == 0;
}

static bb_err usage_fail(bb_errbuf *eb, const char *cmd, const char *what)
{
    return bb_fail(eb, BB_ERR_USAGE, "%s: %s (see: beatbook %s --help)", cmd, what, cmd);
}

/* ---- init ---- */

bb_err col_cmd_init(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"officer", required_argument, NULL, 'o'},
        {"org-unit", required_argument, NULL, 'u'},
        {"enroll", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *officer = NULL, *unit = NULL, *enroll = NULL;
    const struct bb_ref_item *u;
    unsigned char rnd[8];
    char device[32];
    bb_err err;
    int c;
    size_t i;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': officer = optarg; break;
        case 'u': unit = optarg; break;
        case 'e': enroll = optarg; break;
        case 'h':
            printf("usage: beatbook init --enroll FILE --officer ID\n"
                   "       beatbook init --officer ID --org-unit CODE\n"
                   "Create this laptop's store in $BEATBOOK_HOME (default ~/.local/share/beatbook).\n"
                   "ID is the officer's badge or ID number; CODE an org unit (see: beatbook ref units).\n"
                   "With --enroll, FILE is the enrollment file from HQ (beatbook-hq device enroll):\n"
                   "its signature is checked, the device id and org unit come from it, and the\n"
                   "laptop's signing key is made in $BEATBOOK_HOME/device.key.  Such a store can\n"
                   "seal and sync (beatbook-syncd); one made without --enroll can only record.\n");
            return BB_OK;
        default:
            return usage_fail(eb, "init", "unknown option");
        }
    }
    if (optind < argc)
        return usage_fail(eb, "init", "unexpected argument");
    if (enroll && unit)
        return usage_fail(eb, "init", "--org-unit comes from the enrollment file; leave it out "
                          "with --enroll");
    if (enroll && !officer)
        return usage_fail(eb, "init", "--officer ID is required");
    if (!enroll && (!officer || !unit))
        return usage_fail(eb, "init", "--officer ID and --org-unit CODE are both required");
    if (!*officer || strlen(officer) > 32 || strpbrk(officer, " \t\n\"'\\"))
        return bb_fail(eb, BB_ERR_USAGE,
                       "init: --officer \"%s\": an officer ID is 1-32 characters without spaces",
                       officer);
    if (enroll)
        return col_init_enrolled(ctx, officer, enroll, eb);
    u = bb_catalog_ref(ctx->cat, "units", unit);
    if (!u)
        return bb_fail(eb, BB_ERR_USAGE,
                       "init: --org-unit \"%s\" is not a known org unit (see: beatbook ref units)",
                       unit);
    /* Until enrollment with HQ gives it one, the device names itself. */
    if ((err = bb_random(rnd, sizeof rnd)) != BB_OK)
        return bb_fail(eb, err, "init: no random numbers available");
    strcpy(device, "d-");
    for (i = 0; i < sizeof rnd; i++)
        snprintf(device + 2 + 2 * i, 3, "%02x", rnd[i]);
    if ((err = col_store_create(ctx->home, officer, unit, device, eb)) != BB_OK)
        return err;
    printf(T(ctx, "store created: %s/%s\nofficer %s, unit %s (%s), device %s\n",
             "已建立資料庫：%s/%s\n員警 %s，單位 %s（%s），裝置 %s\n"),
           ctx->home, COL_DB_NAME, officer, unit, bb_label(&u->label, ctx->lang, unit), device);
    return BB_OK;
}

/* ---- building records ---- */

/* Set data[name] or an envelope key from "name=value" text. Empty value removes. */
static bb_err apply_assignment(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                               const char *arg, bb_errbuf *eb)
{
    const char *eq = strchr(arg, '=');
    char name[80];
    const char *value;
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data"), *v = NULL;
    const struct bb_field *f;
    bb_err err;
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
    value = eq + 1;
    if (is_envelope_key(name)) {
        if (!*value) {
            if (strcmp(name, "location") == 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(rec, name);
                return BB_OK;
            }
            return bb_fail(eb, BB_ERR_INVALID, "%s: \"%s\" cannot be empty", k->name, name);
        }
        if (strcmp(name, "occurred_at") == 0) {
            int64_t t;
            int off;
            char iso[BB_TIME_MAX];
            if ((err = bb_time_parse_loose(value, ctx->now, &t, &off, eb)) != BB_OK) {
                bb_errbuf_prefix(eb, "%s: occurred_at \"%.60s\"", k->name, value);
                return err;
            }
            bb_time_format(t, off, iso);
            v = cJSON_CreateString(iso);
        } else if (strcmp(name, "location") == 0) {
            if ((err = bb_geo_parse(value, &v, eb)) != BB_OK) {
                bb_errbuf_prefix(eb, "%s: location \"%.60s\"", k->name, value);
                return err;
            }
        } else {
            v = cJSON_CreateString(value);
        }
        if (!v)
            return BB_ERR_NOMEM;
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
    cJSON_DeleteItemFromObjectCaseSensitive(data, name);
    if (!*value)
        return BB_OK;
    if ((err = bb_record_coerce(ctx->cat, k, f, value, ctx->now, 0, ctx->lang, &v, eb)) != BB_OK)
        return err;
    cJSON_AddItemToObject(data, name, v);
    return BB_OK;
}

/* A fresh record envelope of kind k with an empty data object. */
static bb_err new_record(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                         const char *status, int rev, cJSON **out, bb_errbuf *eb)
{
    char id[BB_UUID_STRLEN + 1], now[BB_TIME_MAX];
    cJSON *rec;
    bb_err err;

    *out = NULL;
    if ((err = bb_uuid7(id)) != BB_OK)
        return bb_fail(eb, err, "no random numbers available for a record id");
    bb_time_format(ctx->now, 8 * 60, now);
    rec = cJSON_CreateObject();
    if (!rec || !cJSON_AddStringToObject(rec, "id", id) ||
        !cJSON_AddStringToObject(rec, "kind", k->name) ||
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

static void set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, value);
}

static void set_number(cJSON *obj, const char *key, double value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNumberToObject(obj, key, value);
}

/*
 * When the kind dates itself by one of its fields (occurred_at_from: a
 * patrol by started_at) and the person did not give occurred_at, the record
 * happened when that field says.
 */
static void anchor_occurred_at(const struct bb_kind *k, cJSON *rec, int occurred_given)
{
    const char *t;

    if (occurred_given || !k->occurred_at_from)
        return;
    t = bb_json_str(bb_json_obj(rec, "data"), k->occurred_at_from);
    if (t)
        set_string(rec, "occurred_at", t);
}

/* True when one of the FIELD=VALUE arguments sets name. */
static int assigns(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    int i;
    for (i = 0; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return 1;
    return 0;
}

/* Ask on the terminal for every required field still missing. */
static bb_err prompt_missing(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                             bb_errbuf *eb)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    char *line = NULL;
    size_t cap = 0, i, j;
    bb_err err = BB_OK;

    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        if (cJSON_GetObjectItemCaseSensitive(data, f->name) ||
            !bb_record_field_required(k, f, data))
            continue;
        for (;;) {
            bb_errbuf why;
            cJSON *v = NULL;
            ssize_t n;
            printf("%s (%s)", bb_label(&f->label, ctx->lang, f->name), f->name);
            if (f->help.zh || f->help.en)
                printf(" — %s", bb_label(&f->help, ctx->lang, ""));
            printf("\n");
            if (f->type == BB_F_ENUM)
                for (j = 0; j < f->nvalues; j++)
                    printf("  %zu) %s [%s]\n", j + 1,
                           bb_label(&f->values[j].label, ctx->lang, f->values[j].code),
                           f->values[j].code);
            else if (f->type == BB_F_BOOLEAN)
                printf("  %s\n", T(ctx, "yes / no", "是 / 否"));
            else if (f->type == BB_F_DATETIME)
                printf("  %s\n", T(ctx, "e.g. now, 14:20, 2018-03-15 14:20, 107/03/15 14:20",
                                   "例如 now、14:20、2018-03-15 14:20、107/03/15 14:20"));
            else if (f->type == BB_F_REF)
                printf("  %s beatbook ref %s\n", T(ctx, "codes:", "代碼請見："), f->ref);
            printf("> ");
            fflush(stdout);
            n = getline(&line, &cap, stdin);
            if (n < 0) {
                err = bb_fail(eb, BB_ERR_USAGE, T(ctx, "%s: input ended; nothing was saved",
                                                  "%s：輸入中止；未儲存任何資料"), k->name);
                goto out;
            }
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n == 0)
                continue;
            if (bb_record_coerce(ctx->cat, k, f, line, ctx->now, 1, ctx->lang, &v, &why) == BB_OK) {
                cJSON_AddItemToObject(data, f->name, v);
                break;
            }
            if (f->type == BB_F_ENUM && strspn(line, "0123456789") == (size_t)n)
                printf(T(ctx, "  choose a number from 1 to %zu\n", "  請輸入 1 到 %zu 的號碼\n"),
                       f->nvalues);
            else
                printf("  %s\n", why.msg);
        }
    }
out:
    free(line);
    return err;
}

static const struct bb_kind *find_kind(struct col_ctx *ctx, const char *name, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, name);
    char names[400];
    size_t i, used = 0;

    if (k)
        return k;
    names[0] = '\0';
    for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 bb_catalog_kind_at(ctx->cat, i)->name);
    bb_fail(eb, BB_ERR_INVALID,
            T(ctx, "unknown record kind \"%s\"; kinds: %s (see: beatbook kinds)",
              "未知的紀錄類別「%s」；可用類別：%s（請見：beatbook kinds）"),
            name, names);
    return NULL;
}

/* Validate and store one record in a transaction of its own; print its id. */
static bb_err save_one(struct col_ctx *ctx, col_store *st, cJSON *rec, long expect_rev,
                       bb_errbuf *eb)
{
    bb_err err;

    if ((err = bb_record_validate(ctx->cat, rec, ctx->lang, eb)) != BB_OK)
        return err;
    if ((err = col_store_begin(st, eb)) != BB_OK)
        return err;
    if ((err = col_store_put(st, rec, expect_rev, eb)) != BB_OK) {
        col_store_rollback(st);
        return err;
    }
    if ((err = col_store_commit(st, eb)) != BB_OK)
        return err;
    printf("%s\n", bb_json_str(rec, "id"));
    return BB_OK;
}

/* ---- add --json ---- */

/*
 * One element of an import: {"occurred_at", "location", "org_unit",
 * "kind" (must match), "data": {...}}.  Ids, revisions and who recorded it
 * come from this store, never from the file.
 */
static bb_err build_imported(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                             const cJSON *in, cJSON **out, bb_errbuf *eb)
{
    const cJSON *it;
    cJSON *rec;
    bb_err err;

    *out = NULL;
    if (!cJSON_IsObject(in))
        return bb_fail(eb, BB_ERR_INVALID, "expected an object {\"data\": {...}, ...}");
    cJSON_ArrayForEach(it, in) {
        if (strcmp(it->string, "kind") == 0) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, k->name) != 0)
                return bb_fail(eb, BB_ERR_INVALID, "\"kind\" is not %s", k->name);
        } else if (!is_envelope_key(it->string) && strcmp(it->string, "data") != 0) {
            return bb_fail(eb, BB_ERR_INVALID,
                           "unknown key \"%s\" (allowed: kind, occurred_at, location, org_unit, "
                           "data)", it->string);
        }
    }
    if (!bb_json_obj(in, "data"))
        return bb_fail(eb, BB_ERR_INVALID, "\"data\" must be an object of the kind's fields");
    if ((err = new_record(ctx, st, k, "final", 1, &rec, eb)) != BB_OK)
        return err;
    cJSON_ArrayForEach(it, in) {
        if (strcmp(it->string, "kind") == 0)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(rec, it->string);
        cJSON_AddItemToObject(rec, it->string, cJSON_Duplicate(it, 1));
    }
    bb_record_normalize(ctx->cat, rec);
    anchor_occurred_at(k, rec, cJSON_GetObjectItemCaseSensitive(in, "occurred_at") != NULL);
    *out = rec;
    return BB_OK;
}

/*
 * Import: every record is built, validated and written inside ONE
 * transaction; the first bad one rolls everything back.  Records are
 * written as they are checked (and the input element freed), so memory
 * stays near the size of the parsed input, not twice it.
 */
static bb_err add_json(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                       const char *path, bb_errbuf *eb)
{
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    char *text = NULL, first_id[BB_UUID_STRLEN + 1] = "";
    size_t len, n, i;
    cJSON *root = NULL, *in, *rec = NULL;
    int was_array;
    bb_err err;

    if ((err = bb_read_file(path, IMPORT_MAX_BYTES, &text, &len, eb)) != BB_OK)
        return err;
    err = bb_json_parse(text, len, name, &root, eb);
    free(text);
    if (err != BB_OK)
        return err;
    was_array = cJSON_IsArray(root);
    if (!was_array) {     /* one object: treat as an array of one */
        cJSON *arr = cJSON_CreateArray();
        if (!arr) {
            cJSON_Delete(root);
            return BB_ERR_NOMEM;
        }
        cJSON_AddItemToArray(arr, root);
        root = arr;
    }
    n = (size_t)cJSON_GetArraySize(root);
    if (n == 0 || n > IMPORT_MAX_RECORDS) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s: expected 1 to %d records, found %zu", name,
                      IMPORT_MAX_RECORDS, n);
        goto out;
    }
    if ((err = col_store_begin(st, eb)) != BB_OK)
        goto out;
    for (i = 0; i < n; i++) {
        in = cJSON_DetachItemFromArray(root, 0);
        err = build_imported(ctx, st, k, in, &rec, eb);
        cJSON_Delete(in);
        if (err == BB_OK)
            err = bb_record_validate(ctx->cat, rec, ctx->lang, eb);
        if (err == BB_OK)
            err = col_store_put(st, rec, -1, eb);
        if (err != BB_OK) {
            col_store_rollback(st);
            if (was_array)
                bb_errbuf_prefix(eb, "%s: record %zu of %zu (nothing was saved)", name, i + 1, n);
            else
                bb_errbuf_prefix(eb, "%s (nothing was saved)", name);
            goto out;
        }
        if (i == 0)
            snprintf(first_id, sizeof first_id, "%s", bb_json_str(rec, "id"));
        cJSON_Delete(rec);
        rec = NULL;
    }
    if ((err = col_store_commit(st, eb)) != BB_OK)
        goto out;
    if (n == 1)
        printf("%s\n", first_id);
    else
        printf(T(ctx, "%zu %s records imported\n", "已匯入 %zu 筆 %s 紀錄\n"), n, k->name);
out:
    cJSON_Delete(rec);
    cJSON_Delete(root);
    return err;
}

/* ---- add ---- */

bb_err col_cmd_add(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'},
        {"no-prompt", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *json = NULL;
    const struct bb_kind *k;
    col_store *st = NULL;
    cJSON *rec = NULL;
    bb_err err;
    int c, i, no_prompt = 0;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = optarg; break;
        case 'n': no_prompt = 1; break;
        case 'h':
            printf("usage: beatbook add KIND [FIELD=VALUE...] [--no-prompt]\n"
                   "       beatbook add KIND --json FILE|-\n"
                   "Record one entry, or import a JSON object or array of objects\n"
                   "{\"occurred_at\": .., \"location\": {\"lat\":..,\"lon\":..}, \"data\": {FIELD: VALUE}}\n"
                   "all or nothing.  Fields of a kind: beatbook kinds show KIND\n");
            return BB_OK;
        default:
            return usage_fail(eb, "add", "unknown option");
        }
    }
    if (optind >= argc)
        return usage_fail(eb, "add", "name the kind to record, e.g. beatbook add parking_citation");
    if (!(k = find_kind(ctx, argv[optind], eb)))
        return BB_ERR_INVALID;
    if (json && optind + 1 < argc)
        return usage_fail(eb, "add", "give either FIELD=VALUE arguments or --json, not both");
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if (json) {
        err = add_json(ctx, st, k, json, eb);
        goto out;
    }
    if ((err = new_record(ctx, st, k, "final", 1, &rec, eb)) != BB_OK)
        goto out;
    for (i = optind + 1; i < argc; i++)
        if ((err = apply_assignment(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    if (ctx->interactive && !no_prompt &&
        (err = prompt_missing(ctx, k, rec, eb)) != BB_OK)
        goto out;
    anchor_occurred_at(k, rec, assigns(argc - optind - 1, argv + optind + 1, "occurred_at"));
    err = save_one(ctx, st, rec, -1, eb);
out:
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}

/* ---- patrol start / end ---- */

static bb_err patrol_start(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                           int argc, char **argv, bb_errbuf *eb)
{
    cJSON *rec = NULL, *data, *open = NULL;
    bb_err err;
    int i;

    if ((err = new_record(ctx, st, k, "draft", 0, &rec, eb)) != BB_OK)
        return err;
    data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    for (i = 0; i < argc; i++)
        if ((err = apply_assignment(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    if (!cJSON_GetObjectItemCaseSensitive(data, "started_at"))
        cJSON_AddStringToObject(data, "started_at", bb_json_str(rec, "occurred_at"));
    if (ctx->interactive && (err = prompt_missing(ctx, k, rec, eb)) != BB_OK)
        goto out;
    anchor_occurred_at(k, rec, assigns(argc, argv, "occurred_at"));
    if ((err = col_store_drafts(st, "patrol", &open, eb)) != BB_OK)
        goto out;
    if (cJSON_GetArraySize(open) > 0)
        fprintf(stderr, T(ctx, "note: %d other patrol(s) still open (see: beatbook list --status draft)\n",
                          "提醒：尚有 %d 筆巡邏未結束（請見：beatbook list --status draft）\n"),
                cJSON_GetArraySize(open));
    err = save_one(ctx, st, rec, -1, eb);
out:
    cJSON_Delete(open);
    cJSON_Delete(rec);
    return err;
}

static bb_err patrol_end(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                         int argc, char **argv, bb_errbuf *eb)
{
    cJSON *open = NULL, *rec = NULL, *data;
    char now[BB_TIME_MAX];
    int first = 0, i;
    bb_err err;

    if (argc > 0 && !strchr(argv[0], '=')) {
        if ((err = col_store_get(st, argv[0], &rec, eb)) != BB_OK)
            return err;
        first = 1;
        if (strcmp(bb_json_str(rec, "kind"), "patrol") != 0 ||
            strcmp(bb_json_str(rec, "status"), "draft") != 0) {
            err = bb_fail(eb, BB_ERR_STATE, T(ctx, "%s is not an open patrol",
                                              "%s 不是進行中的巡邏"), argv[0]);
            goto out;
        }
    } else {
        if ((err = col_store_drafts(st, "patrol", &open, eb)) != BB_OK)
            return err;
        if (cJSON_GetArraySize(open) == 0) {
            err = bb_fail(eb, BB_ERR_STATE, T(ctx, "no open patrol; start one with: beatbook patrol start",
                                              "沒有進行中的巡邏；請先執行：beatbook patrol start"));
            goto out;
        }
        if (cJSON_GetArraySize(open) > 1) {
            err = bb_fail(eb, BB_ERR_USAGE,
                          T(ctx, "%d patrols are open; name one: beatbook patrol end ID "
                                 "(see: beatbook list --status draft)",
                            "有 %d 筆巡邏進行中；請指定：beatbook patrol end ID"
                            "（請見：beatbook list --status draft）"),
                          cJSON_GetArraySize(open));
            goto out;
        }
        rec = cJSON_DetachItemFromArray(open, 0);
    }
    data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    bb_time_format(ctx->now, 8 * 60, now);
    if (!cJSON_GetObjectItemCaseSensitive(data, "ended_at"))
        cJSON_AddStringToObject(data, "ended_at", now);
    for (i = first; i < argc; i++)
        if ((err = apply_assignment(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    set_string(rec, "status", "final");
    set_number(rec, "rev", 1);
    set_string(rec, "recorded_at", now);
    if (ctx->interactive && (err = prompt_missing(ctx, k, rec, eb)) != BB_OK)
        goto out;
    err = save_one(ctx, st, rec, 0, eb);
out:
    cJSON_Delete(open);
    cJSON_Delete(rec);
    return err;
}

bb_err col_cmd_patrol(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, "patrol");
    col_store *st = NULL;
    bb_err err;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc >= 2) {
            printf("usage: beatbook patrol start [FIELD=VALUE...]\n"
                   "       beatbook patrol end [ID] [FIELD=VALUE...]\n"
                   "An open patrol is a draft: it stays on this laptop and is not sent until it ends.\n"
                   "Fields: beatbook kinds show patrol\n");
            return BB_OK;
        }
        return usage_fail(eb, "patrol", "say start or end");
    }
    if (!k)
        return bb_fail(eb, BB_ERR_INTERNAL, "the patrol kind is missing from this build");
    if (strcmp(argv[1], "start") != 0 && strcmp(argv[1], "end") != 0)
        return usage_fail(eb, "patrol", "say start or end");
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if (strcmp(argv[1], "start") == 0)
        err = patrol_start(ctx, st, k, argc - 2, argv + 2, eb);
    else
        err = patrol_end(ctx, st, k, argc - 2, argv + 2, eb);
    col_store_close(st);
    return err;
}

/* ---- edit / void ---- */

/* Load a record for revising; refuses records this device did not make. */
static bb_err load_for_revision(struct col_ctx *ctx, col_store *st, const char *idref,
                                cJSON **rec, long *rev, bb_errbuf *eb)
{
    const cJSON *jrev;
    bb_err err;

    if ((err = col_store_get(st, idref, rec, eb)) != BB_OK)
        return err;
    jrev = cJSON_GetObjectItemCaseSensitive(*rec, "rev");
    *rev = cJSON_IsNumber(jrev) ? (long)jrev->valuedouble : -1;
    if (strcmp(bb_json_str(*rec, "device") ? bb_json_str(*rec, "device") : "", st->device) != 0)
        err = bb_fail(eb, BB_ERR_STATE,
                      T(ctx, "record %s was made on another device; only that device may revise it",
                        "紀錄 %s 由其他裝置建立；只有該裝置可以修改"),
                      bb_json_str(*rec, "id"));
    else if (strcmp(bb_json_str(*rec, "status"), "void") == 0)
        err = bb_fail(eb, BB_ERR_STATE,
                      T(ctx, "record %s is void and cannot be changed", "紀錄 %s 已作廢，不能修改"),
                      bb_json_str(*rec, "id"));
    if (err != BB_OK) {
        cJSON_Delete(*rec);
        *rec = NULL;
    }
    return err;
}

/* A draft stays a draft (rev 0); a final record gets rev + 1. */
static void next_revision(struct col_ctx *ctx, cJSON *rec, long rev)
{
    char now[BB_TIME_MAX];
    bb_time_format(ctx->now, 8 * 60, now);
    if (strcmp(bb_json_str(rec, "status"), "draft") != 0)
        set_number(rec, "rev", (double)(rev + 1));
    set_string(rec, "recorded_at", now);
}

bb_err col_cmd_edit(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    col_store *st = NULL;
    cJSON *rec = NULL;
    char *before = NULL, *after = NULL;
    const struct bb_kind *k;
    long rev;
    bb_err err;
    int i;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: beatbook edit ID FIELD=VALUE...\n"
               "Correct a record: saves a new revision and keeps every earlier one.\n"
               "FIELD= (empty) removes an optional field.  ID: full id or its first/last 6+ characters.\n");
        return BB_OK;
    }
    if (argc < 3)
        return usage_fail(eb, "edit", "give the record id and at least one FIELD=VALUE");
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if ((err = load_for_revision(ctx, st, argv[1], &rec, &rev, eb)) != BB_OK)
        goto out;
    k = bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind"));
    if (!k) {
        err = bb_fail(eb, BB_ERR_STATE, "record kind \"%s\" is not known to this version",
                      bb_json_str(rec, "kind"));
        goto out;
    }
    before = bb_json_canonical(rec);
    for (i = 2; i < argc; i++)
        if ((err = apply_assignment(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    if (k->occurred_at_from && assigns(argc - 2, argv + 2, k->occurred_at_from))
        anchor_occurred_at(k, rec, assigns(argc - 2, argv + 2, "occurred_at"));
    after = bb_json_canonical(rec);
    if (!before || !after) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    if (strcmp(before, after) == 0) {
        err = bb_fail(eb, BB_ERR_USAGE, T(ctx, "nothing changed in %s", "%s 沒有任何變更"),
                      bb_json_str(rec, "id"));
        goto out;
    }
    next_revision(ctx, rec, rev);
    err = save_one(ctx, st, rec, rev, eb);
out:
    free(before);
    free(after);
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}

bb_err col_cmd_void(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL;
    col_store *st = NULL;
    cJSON *rec = NULL;
    long rev;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'h':
            printf("usage: beatbook void ID --reason TEXT\n"
                   "Void a record: saves a void revision; HQ keeps the history and stops counting it.\n");
            return BB_OK;
        default:
            return usage_fail(eb, "void", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return usage_fail(eb, "void", "give exactly one record id");
    if (!reason || !*reason)
        return usage_fail(eb, "void", "--reason TEXT is required: say why the record is void");
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if ((err = load_for_revision(ctx, st, argv[optind], &rec, &rev, eb)) != BB_OK)
        goto out;
    if (strcmp(bb_json_str(rec, "status"), "draft") == 0)
        rev = 0;
    set_string(rec, "status", "void");
    set_string(rec, "void_reason", reason);
    {
        char now[BB_TIME_MAX];
        bb_time_format(ctx->now, 8 * 60, now);
        set_number(rec, "rev", (double)(rev + 1));
        set_string(rec, "recorded_at", now);
    }
    err = save_one(ctx, st, rec, rev, eb);
out:
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}
