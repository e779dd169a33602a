/*
 * col_view.c — the commands that read: list, show, kinds, ref, status.
 * (report is in col_report.c.)  Tables for people; --json for scripts.
 */
#include "bb_exif.h"
#include "col_cli.h"
#include "col_store.h"
#include "bb_form.h"
#include "bb_json.h"
#include "bb_outbox.h"
#include "bb_record.h"
#include "bb_refbundle.h"
#include "bb_text.h"
#include "bb_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bb_err col_print_json(const cJSON *v)
{
    char *s = cJSON_Print(v);
    if (!s)
        return BB_ERR_NOMEM;
    puts(s);
    free(s);
    return BB_OK;
}

/* getopt_long gave c, not an option of the command: --help (help, in the
 * context's language), else a usage error naming the option. */
static bb_err help_or_usage(struct col_ctx *ctx, bb_errbuf *eb, const char *cmd, int c,
                            char **argv, const char *help)
{
    if (c == 'h') {
        fputs(help, stdout);
        return BB_OK;
    }
    return col_bad_option(ctx, eb, cmd, c, argv);
}

/* A value of data as short text for tables: enum label, yes/no, number. */
static void value_text(struct col_ctx *ctx, const struct bb_kind *k, const char *name,
                       const cJSON *v, char *out, size_t n)
{
    const struct bb_field *f = k ? bb_kind_field(k, name) : NULL;
    const struct bb_enum_value *ev;

    if (f && f->type == BB_F_ATTACHMENT && cJSON_IsArray(v)) {
        /* "2 張照片：a.jpg、b.png" — the files themselves are listed by show. */
        const cJSON *it;
        size_t l;
        snprintf(out, n, T(ctx, "%d file(s): ", "%d 個檔案："), cJSON_GetArraySize(v));
        cJSON_ArrayForEach(it, v) {
            l = strlen(out);
            snprintf(out + l, n - l, "%s%s", it == v->child ? "" : T(ctx, ", ", "、"),
                     bb_json_str(it, "name") ? bb_json_str(it, "name") : "?");
        }
        return;
    }
    if (cJSON_IsString(v)) {
        if (f && f->type == BB_F_ENUM && (ev = bb_field_enum(f, v->valuestring)) != NULL)
            snprintf(out, n, "%s", bb_label(&ev->label, ctx->lang, ev->code));
        else
            snprintf(out, n, "%s", v->valuestring);
    } else if (cJSON_IsBool(v)) {
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? T(ctx, "yes", "是") : T(ctx, "no", "否"));
    } else if (cJSON_IsNumber(v)) {
        char *s = bb_json_canonical(v);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    } else {
        char *s = bb_json_canonical(v);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

/* ---- list ---- */

struct list_state {
    struct col_ctx *ctx;
    const char *unit;   /* --org-unit: this unit and every unit under it */
    long limit;         /* --limit, counted after the unit filter */
    int json;
    cJSON *arr;
    long count;
};

static bb_err list_row(const cJSON *rec, void *arg)
{
    struct list_state *ls = arg;
    struct col_ctx *ctx = ls->ctx;
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind"));
    const cJSON *data = bb_json_obj(rec, "data"), *it;
    char summary[160] = "", val[80];
    size_t used = 0, i;
    int shown = 0;

    if ((ls->unit && !bb_catalog_unit_within(ctx->cat, bb_json_str(rec, "org_unit"), ls->unit)) ||
        (ls->limit && ls->count >= ls->limit))
        return BB_OK;
    ls->count++;
    if (ls->json) {
        cJSON *dup = cJSON_Duplicate(rec, 1);
        if (!dup)
            return BB_ERR_NOMEM;
        cJSON_AddItemToArray(ls->arr, dup);
        return BB_OK;
    }
    /* The first few fields in the kind's own order: the ones that say most. */
    for (i = 0; k && i < k->nfields && shown < 3 && used < sizeof summary - 4; i++) {
        it = cJSON_GetObjectItemCaseSensitive(data, k->fields[i].name);
        if (!it)
            continue;
        value_text(ctx, k, it->string, it, val, sizeof val);
        used += (size_t)snprintf(summary + used, sizeof summary - used, "%s%s=%s",
                                 used ? " " : "", it->string, val);
        shown++;
    }
    if (ctx->lang == BB_LANG_EN) {
        printf("%s  %-20s %-6s %.25s  %-8s %s\n", bb_json_str(rec, "id"),
               bb_json_str(rec, "kind"), bb_json_str(rec, "status"),
               bb_json_str(rec, "occurred_at"), bb_json_str(rec, "org_unit"), summary);
        return BB_OK;
    }
    /* zh-TW: the kind's label and the status in words, padded by display width. */
    printf("%s  ", bb_json_str(rec, "id"));
    bb_text_pad(stdout, k ? bb_label(&k->label, ctx->lang, k->name) : bb_json_str(rec, "kind"),
                21);
    bb_text_pad(stdout, col_status_label(ctx, bb_json_str(rec, "status")), 7);
    printf("%.25s  %-8s %s\n", bb_json_str(rec, "occurred_at"), bb_json_str(rec, "org_unit"),
           summary);
    return BB_OK;
}

static bb_err parse_time_opt(struct col_ctx *ctx, const char *opt, const char *text,
                             int64_t *out, bb_errbuf *eb)
{
    int off;
    bb_err err = bb_time_parse_loose_lang(text, ctx->now, ctx->lang, out, &off, eb);
    if (err != BB_OK) {
        bb_errbuf_prefix(eb, T(ctx, "list: %s", "list：%s"), opt);
        return BB_ERR_USAGE;
    }
    return BB_OK;
}

bb_err col_cmd_list(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'},   {"status", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},   {"to", required_argument, NULL, 't'},
        {"period", required_argument, NULL, 'p'}, {"org-unit", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'n'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct col_filter f;
    struct list_state ls;
    col_store *st = NULL;
    bb_period p;
    char *end;
    bb_err err;
    int c;

    memset(&f, 0, sizeof f);
    memset(&ls, 0, sizeof ls);
    ls.ctx = ctx;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            f.kind = optarg;
            if (!bb_catalog_kind(ctx->cat, optarg))
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "list: --kind \"%s\" is not a record kind "
                                      "(see: beatbook kinds)",
                                 "list：--kind「%s」不是紀錄類別（請見：beatbook kinds）"),
                               optarg);
            break;
        case 's':
            f.status = optarg;
            if (strcmp(optarg, "draft") && strcmp(optarg, "final") && strcmp(optarg, "void"))
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "list: --status \"%s\": use draft, final or void",
                                 "list：--status「%s」：請用 draft（草稿）、final（已完成）或 "
                                 "void（已作廢）"),
                               optarg);
            break;
        case 'f':
            if ((err = parse_time_opt(ctx, "--from", optarg, &f.from, eb)) != BB_OK)
                return err;
            break;
        case 't':
            if ((err = parse_time_opt(ctx, "--to", optarg, &f.to, eb)) != BB_OK)
                return err;
            break;
        case 'p':
            if (bb_period_parse_lang(optarg, ctx->lang, &p, eb) != BB_OK) {
                bb_errbuf_prefix(eb, T(ctx, "list: --period", "list：--period"));
                return BB_ERR_USAGE;
            }
            f.from = bb_period_from_unix(&p);
            f.to = bb_period_to_unix(&p);
            break;
        case 'u':
            ls.unit = optarg;
            if (!bb_catalog_ref(ctx->cat, "units", optarg))
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "list: --org-unit \"%s\" is not a known unit "
                                      "(see: beatbook ref units)",
                                 "list：--org-unit「%s」不是已知的單位（請見：beatbook ref units）"),
                               optarg);
            break;
        case 'n':
            ls.limit = strtol(optarg, &end, 10);
            if (end == optarg || *end || ls.limit < 1)
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "list: --limit \"%s\": give a positive number",
                                 "list：--limit「%s」：請給正整數"), optarg);
            break;
        case 'j': ls.json = 1; break;
        default:
            return help_or_usage(ctx, eb, "list", c, argv,
                                 T(ctx,
                                   "usage: beatbook list [--kind K] [--status draft|final|void]\n"
                                   "       [--period P | --from TIME --to TIME] [--org-unit CODE]\n"
                                   "       [--limit N] [--json]\n"
                                   "Records in this store, oldest first (by when they happened).\n"
                                   "--org-unit P06 lists P06 and its stations.\n",
                                   "用法：beatbook list [--kind K] [--status draft|final|void]\n"
                                   "       [--period P | --from TIME --to TIME] [--org-unit CODE]\n"
                                   "       [--limit N] [--json]\n"
                                   "列出此資料庫的紀錄，依發生時間由舊到新。\n"
                                   "--org-unit P06 會列出 P06 及其所屬派出所。\n"
                                   "--status：draft 草稿、final 已完成、void 已作廢。\n"));
        }
    }
    if (optind < argc)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "list: unexpected argument \"%s\"",
                                           "list：多了一個參數「%s」"), argv[optind]);
    if (!ls.unit)
        f.limit = ls.limit;   /* no filter after SQL: let SQLite stop early */
    if (f.to && f.to <= f.from)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "list: --to must be later than --from",
                                           "list：--to 必須晚於 --from"));
    if ((err = col_store_open(ctx->home, 1, &st, eb)) != BB_OK)
        return err;
    if (ls.json && !(ls.arr = cJSON_CreateArray())) {
        col_store_close(st);
        return BB_ERR_NOMEM;
    }
    err = col_store_each(st, &f, list_row, &ls, eb);
    if (err == BB_OK && ls.json)
        err = col_print_json(ls.arr);
    else if (err == BB_OK && ls.count == 0)
        fprintf(stderr, "%s\n", T(ctx, "no records match", "沒有符合的紀錄"));
    cJSON_Delete(ls.arr);
    col_store_close(st);
    return err;
}

/* ---- show ---- */

/*
 * One line per file of an attachment value: name, type, size, the start of
 * its hash, whether it is still on this laptop, and what its EXIF says of
 * when and where — beside the record's own occurred_at and location above.
 */
static void print_files(struct col_ctx *ctx, col_store *st, const cJSON *v, const char *indent)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, v) {
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
        const char *sha = bb_json_str(it, "sha256");
        double bytes = cJSON_IsNumber(size) ? size->valuedouble : 0;
        sqlite3_stmt *q = NULL;
        printf("%s    %s  %s  %.1f %s  %.12s", indent,
               bb_json_str(it, "name") ? bb_json_str(it, "name") : "?",
               bb_json_str(it, "type") ? bb_json_str(it, "type") : "?",
               bytes >= 1e6 ? bytes / 1e6 : bytes / 1e3, bytes >= 1e6 ? "MB" : "kB",
               sha ? sha : "?");
        if (st && sha && sqlite3_prepare_v2(st->db, "SELECT exif_time, exif_lat, exif_lon,"
                                            " receipt IS NOT NULL, purged_at IS NOT NULL"
                                            " FROM attachments WHERE sha256 = ?1", -1, &q,
                                            NULL) == SQLITE_OK &&
            sqlite3_bind_text(q, 1, sha, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(q, 0);
            char when[32];
            printf("  %s", sqlite3_column_int(q, 4) ? T(ctx, "(at HQ, freed here)",
                                                        "（總局已收，本機已釋放）")
                           : sqlite3_column_int(q, 3) ? T(ctx, "(at HQ)", "（總局已收）")
                                                      : T(ctx, "(not yet at HQ)", "（尚未送達總局）"));
            if (t && bb_exif_time_display(t, when, sizeof when))
                printf(T(ctx, "  EXIF time %s", "  EXIF 時間 %s"), when);
            if (sqlite3_column_type(q, 1) == SQLITE_FLOAT)
                printf("  · GPS %.6f,%.6f", sqlite3_column_double(q, 1),
                       sqlite3_column_double(q, 2));
        }
        sqlite3_finalize(q);
        printf("\n");
    }
}

static void print_data(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                       const cJSON *data, const char *indent)
{
    const cJSON *it;
    char val[600];

    cJSON_ArrayForEach(it, data) {
        const struct bb_field *f = k ? bb_kind_field(k, it->string) : NULL;
        value_text(ctx, k, it->string, it, val, sizeof val);
        printf("%s%-22s %s  (%s)\n", indent, it->string, val,
               f ? bb_label(&f->label, ctx->lang, it->string) : "?");
        if (f && f->type == BB_F_ATTACHMENT)
            print_files(ctx, st, it, indent);
    }
}

/* What changed from one revision to the next, field by field. */
static void print_changes(struct col_ctx *ctx, const struct bb_kind *k, const cJSON *prev,
                          const cJSON *cur)
{
    static const char *const env[] = {"occurred_at", "org_unit", "location", "status"};
    const cJSON *pd = bb_json_obj(prev, "data"), *cd = bb_json_obj(cur, "data"), *it;
    char a[300], b[300];
    size_t i;

    for (i = 0; i < sizeof env / sizeof env[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(prev, env[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(cur, env[i]);
        if ((x || y) && !(x && y && cJSON_Compare(x, y, 1))) {
            value_text(ctx, NULL, env[i], x ? x : cJSON_CreateNull(), a, sizeof a);
            value_text(ctx, NULL, env[i], y ? y : cJSON_CreateNull(), b, sizeof b);
            if (strcmp(env[i], "status") == 0) {
                snprintf(a, sizeof a, "%s", col_status_label(ctx, bb_json_str(prev, "status")));
                snprintf(b, sizeof b, "%s", col_status_label(ctx, bb_json_str(cur, "status")));
            }
            printf("      %s: %s -> %s\n", env[i], x ? a : "-", y ? b : "-");
        }
    }
    cJSON_ArrayForEach(it, cd) {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(pd, it->string);
        if (old && cJSON_Compare(old, it, 1))
            continue;
        if (old)
            value_text(ctx, k, it->string, old, a, sizeof a);
        value_text(ctx, k, it->string, it, b, sizeof b);
        printf("      %s: %s -> %s\n", it->string, old ? a : "-", b);
    }
    cJSON_ArrayForEach(it, pd) {
        if (!cJSON_GetObjectItemCaseSensitive(cd, it->string)) {
            value_text(ctx, k, it->string, it, a, sizeof a);
            printf("      %s: %s -> -\n", it->string, a);
        }
    }
}

/* "  LABEL" padded to the column where show's values start (as "  %-22s "). */
static void show_label(const char *label)
{
    fputs("  ", stdout);
    bb_text_pad(stdout, label, 23);
}

bb_err col_cmd_show(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    col_store *st = NULL;
    cJSON *rec = NULL, *revs = NULL;
    const struct bb_kind *k;
    const cJSON *r, *prev = NULL, *loc;
    int c, json = 0;
    bb_err err;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return help_or_usage(ctx, eb, "show", c, argv,
                                 T(ctx,
                                   "usage: beatbook show ID [--json]\n"
                                   "A record and every revision of it.  ID: the full id or its "
                                   "first/last 6+ characters.\n",
                                   "用法：beatbook show ID [--json]\n"
                                   "一筆紀錄及其每一次修改。ID：完整編號，或它的前 6 碼或後 6 碼以上。\n"));
    }
    if (optind + 1 != argc)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "show: give exactly one record id",
                                           "show：請給一個紀錄編號"));
    if ((err = col_store_open(ctx->home, 1, &st, eb)) != BB_OK)
        return err;
    if ((err = col_store_get(st, argv[optind], &rec, eb)) != BB_OK ||
        (err = col_store_revisions(st, bb_json_str(rec, "id"), &revs, eb)) != BB_OK)
        goto out;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        cJSON_AddItemToObject(o, "record", rec);
        cJSON_AddItemToObject(o, "revisions", revs);
        rec = revs = NULL;
        err = col_print_json(o);
        cJSON_Delete(o);
        goto out;
    }
    k = bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind"));
    printf("%s  %s (%s)\n", bb_json_str(rec, "id"), bb_json_str(rec, "kind"),
           k ? bb_label(&k->label, ctx->lang, "") : "?");
    if (ctx->lang == BB_LANG_EN) {
        printf("  %-22s %s  rev %d\n", "status", bb_json_str(rec, "status"),
               cJSON_GetObjectItemCaseSensitive(rec, "rev")->valueint);
        printf("  %-22s %s\n", "occurred_at", bb_json_str(rec, "occurred_at"));
        printf("  %-22s %s\n", "recorded_at", bb_json_str(rec, "recorded_at"));
        printf("  %-22s %s / %s / %s\n", "org_unit/officer/dev", bb_json_str(rec, "org_unit"),
               bb_json_str(rec, "officer"), bb_json_str(rec, "device"));
    } else {
        show_label("狀態");
        printf("%s，第 %d 版\n", col_status_label(ctx, bb_json_str(rec, "status")),
               cJSON_GetObjectItemCaseSensitive(rec, "rev")->valueint);
        show_label("發生時間");
        printf("%s\n", bb_json_str(rec, "occurred_at"));
        show_label("記錄時間");
        printf("%s\n", bb_json_str(rec, "recorded_at"));
        show_label("單位／員警／裝置");
        printf("%s / %s / %s\n", bb_json_str(rec, "org_unit"), bb_json_str(rec, "officer"),
               bb_json_str(rec, "device"));
    }
    if ((loc = bb_json_obj(rec, "location")) != NULL) {
        show_label(T(ctx, "location", "位置"));
        printf("%.6f,%.6f\n", cJSON_GetObjectItemCaseSensitive(loc, "lat")->valuedouble,
               cJSON_GetObjectItemCaseSensitive(loc, "lon")->valuedouble);
    }
    if (bb_json_str(rec, "void_reason")) {
        show_label(T(ctx, "void_reason", "作廢原因"));
        printf("%s\n", bb_json_str(rec, "void_reason"));
    }
    print_data(ctx, st, k, bb_json_obj(rec, "data"), "  ");
    printf("%s\n", T(ctx, "revisions:", "修改紀錄："));
    if (cJSON_GetArraySize(revs) == 0)
        printf("  %s\n", T(ctx, "(a draft: not finalized yet)", "（草稿：尚未完成）"));
    cJSON_ArrayForEach(r, revs) {
        if (ctx->lang == BB_LANG_EN) {
            printf("  rev %-3d %-6s ", cJSON_GetObjectItemCaseSensitive(r, "rev")->valueint,
                   bb_json_str(r, "status"));
        } else {
            printf("  第 %d 版  ", cJSON_GetObjectItemCaseSensitive(r, "rev")->valueint);
            bb_text_pad(stdout, col_status_label(ctx, bb_json_str(r, "status")), 7);
        }
        printf("%s%s%s\n", bb_json_str(r, "recorded_at"),
               bb_json_str(r, "void_reason") ? "  " : "",
               bb_json_str(r, "void_reason") ? bb_json_str(r, "void_reason") : "");
        if (prev)
            print_changes(ctx, k, prev, r);
        prev = r;
    }
out:
    cJSON_Delete(rec);
    cJSON_Delete(revs);
    col_store_close(st);
    return err;
}

/* ---- kinds ---- */

static cJSON *kind_json(const struct bb_kind *k)
{
    cJSON *o = cJSON_CreateObject(), *fields = cJSON_CreateArray();
    size_t i, j;

    if (!o || !fields) {
        cJSON_Delete(o);
        cJSON_Delete(fields);
        return NULL;
    }
    cJSON_AddStringToObject(o, "kind", k->name);
    cJSON_AddItemToObject(o, "label", bb_label_json(&k->label));
    cJSON_AddItemToObject(o, "fields", fields);
    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        cJSON *jf = cJSON_CreateObject();
        if (!jf)
            break;
        cJSON_AddStringToObject(jf, "name", f->name);
        cJSON_AddStringToObject(jf, "type", bb_ftype_name(f->type));
        cJSON_AddItemToObject(jf, "label", bb_label_json(&f->label));
        cJSON_AddBoolToObject(jf, "required", f->required);
        if (f->required_if_field)
            cJSON_AddStringToObject(jf, "required_if", f->required_if_field);
        if (f->has_min)
            cJSON_AddNumberToObject(jf, "min", f->min);
        if (f->has_max)
            cJSON_AddNumberToObject(jf, "max", f->max);
        if (f->type == BB_F_TEXT)
            cJSON_AddNumberToObject(jf, "max_length", (double)f->max_length);
        if (f->ref)
            cJSON_AddStringToObject(jf, "ref", f->ref);
        if (f->nvalues) {
            cJSON *vals = cJSON_AddArrayToObject(jf, "values");
            for (j = 0; vals && j < f->nvalues; j++) {
                cJSON *v = cJSON_CreateObject();
                cJSON_AddStringToObject(v, "code", f->values[j].code);
                cJSON_AddItemToObject(v, "label", bb_label_json(&f->values[j].label));
                cJSON_AddItemToArray(vals, v);
            }
        }
        cJSON_AddItemToArray(fields, jf);
    }
    return o;
}

static void print_kind(struct col_ctx *ctx, const struct bb_kind *k)
{
    size_t i, j;

    printf("%s — %s\n", k->name, bb_label(&k->label, ctx->lang, ""));
    if (k->description.zh || k->description.en)
        printf("%s\n", bb_label(&k->description, ctx->lang, ""));
    printf("\n");
    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        printf("  %-22s ", f->name);
        bb_text_pad(stdout, bb_ftype_label(f->type, ctx->lang), 9);
        printf("%s%s\n", bb_label(&f->label, ctx->lang, f->name),
               f->required ? T(ctx, "  [required]", "  [必填]") : "");
        if (f->required_if_field) {
            printf("      %s %s %s", T(ctx, "required when", "必填條件："), f->required_if_field,
                   T(ctx, "in", "為"));
            for (j = 0; j < f->required_if_count; j++)
                printf("%s%s", j && ctx->lang != BB_LANG_EN ? "、" : " ",
                       f->required_if_values[j]);
            printf("\n");
        }
        if (f->has_min || f->has_max) {
            printf("      %s", T(ctx, "range:", "範圍："));
            if (f->has_min)
                printf(" >= %g", f->min);
            if (f->has_max)
                printf(" <= %g", f->max);
            printf("\n");
        }
        if (f->type == BB_F_TEXT)
            printf("      %s %ld\n", T(ctx, "max length:", "最長字數："), f->max_length);
        if (f->type == BB_F_REF)
            printf("      %s beatbook ref %s\n", T(ctx, "codes:", "代碼："), f->ref);
        if (f->type == BB_F_DATETIME)
            printf("      %s\n", T(ctx, "e.g. 2018-03-15T14:20:00+08:00, \"107/03/15 14:20\", now",
                                   "例如 2018-03-15T14:20:00+08:00、\"107/03/15 14:20\"、now"));
        if (f->type == BB_F_GEO)
            printf("      %s\n", T(ctx, "LAT,LON e.g. 24.1477,120.6736", "緯度,經度 例如 24.1477,120.6736"));
        for (j = 0; j < f->nvalues; j++)
            printf("      %-26s %s\n", f->values[j].code,
                   bb_label(&f->values[j].label, ctx->lang, ""));
        if (f->help.zh || f->help.en)
            printf("      %s\n", bb_label(&f->help, ctx->lang, ""));
    }
    printf("\n%s occurred_at, location (LAT,LON), org_unit\n",
           T(ctx, "Every kind also takes:", "每種紀錄另可填："));
}

bb_err col_cmd_kinds(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c, json = 0;
    size_t i;
    cJSON *out = NULL;
    bb_err err = BB_OK;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return help_or_usage(ctx, eb, "kinds", c, argv,
                                 T(ctx,
                                   "usage: beatbook kinds [--json]\n"
                                   "       beatbook kinds show KIND [--json]\n"
                                   "The record kinds, and for one kind its fields, types, allowed "
                                   "values and labels.\n",
                                   "用法：beatbook kinds [--json]\n"
                                   "      beatbook kinds show KIND [--json]\n"
                                   "可記錄的紀錄類別；指定類別時列出它的欄位、類型、允許的值與標籤。\n"));
    }
    if (optind < argc) {
        const struct bb_kind *k;
        if (strcmp(argv[optind], "show") != 0 || optind + 2 != argc)
            return bb_fail(eb, BB_ERR_USAGE,
                           T(ctx, "kinds: use `beatbook kinds` or `beatbook kinds show KIND`",
                             "kinds：請用 beatbook kinds 或 beatbook kinds show KIND"));
        k = bb_catalog_kind(ctx->cat, argv[optind + 1]);
        if (!k)
            return bb_fail(eb, BB_ERR_USAGE,
                           T(ctx, "kinds show: \"%s\" is not a record kind (see: beatbook kinds)",
                             "kinds show：「%s」不是紀錄類別（請見：beatbook kinds）"),
                           argv[optind + 1]);
        if (!json) {
            print_kind(ctx, k);
            return BB_OK;
        }
        out = kind_json(k);
    } else if (json) {
        out = cJSON_CreateArray();
        for (i = 0; out && i < bb_catalog_kind_count(ctx->cat); i++)
            cJSON_AddItemToArray(out, kind_json(bb_catalog_kind_at(ctx->cat, i)));
    } else {
        for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++) {
            const struct bb_kind *k = bb_catalog_kind_at(ctx->cat, i);
            printf("%-22s %s\n", k->name, bb_label(&k->label, ctx->lang, ""));
        }
        return BB_OK;
    }
    if (!out)
        return BB_ERR_NOMEM;
    err = col_print_json(out);
    cJSON_Delete(out);
    return err;
}

/* ---- ref ---- */

bb_err col_cmd_ref(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *list;
    cJSON *arr = NULL;
    size_t i, n;
    int c, json = 0;
    bb_err err = BB_OK;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return help_or_usage(ctx, eb, "ref", c, argv,
                                 T(ctx,
                                   "usage: beatbook ref units|intersections|segments|bikepaths [--json]\n"
                                   "The reference lists that ref fields take codes from.\n",
                                   "用法：beatbook ref units|intersections|segments|bikepaths [--json]\n"
                                   "代碼欄位所用的參考清單：units 單位、intersections 列管易肇事路口、\n"
                                   "segments 列管路段、bikepaths 自行車道。\n"));
    }
    if (optind + 1 != argc)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "ref: name one list: %s",
                                           "ref：請指定一個清單：%s"), BB_REF_LISTS);
    list = argv[optind];
    if (strcmp(list, "units") && strcmp(list, "intersections") && strcmp(list, "segments") &&
        strcmp(list, "bikepaths"))
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "ref: \"%s\" is not a list; lists: %s",
                                           "ref：沒有「%s」這個清單；清單有：%s"), list,
                       BB_REF_LISTS);
    n = bb_catalog_ref_count(ctx->cat, list);
    if (json && !(arr = cJSON_CreateArray()))
        return BB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        const struct bb_ref_item *it = bb_catalog_ref_at(ctx->cat, list, i);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", it->code);
            cJSON_AddItemToObject(o, "label", bb_label_json(&it->label));
            if (it->level)
                cJSON_AddStringToObject(o, "level", it->level);
            if (it->parent)
                cJSON_AddStringToObject(o, strcmp(list, "units") == 0 ? "parent" : "precinct",
                                        it->parent);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-10s ", it->code);
            bb_text_pad(stdout, col_level_label(ctx, it->level), 10);
            printf("%-6s %s\n", it->parent ? it->parent : "", bb_label(&it->label, ctx->lang, ""));
        }
    }
    if (json) {
        err = col_print_json(arr);
        cJSON_Delete(arr);
    }
    return err;
}

/* ---- status ---- */

struct status_counts {
    long draft, final, voided;
    cJSON *per_kind;   /* {"kind": count} of final records */
};

static bb_err count_row(const cJSON *rec, void *arg)
{
    struct status_counts *sc = arg;
    const char *status = bb_json_str(rec, "status"), *kind = bb_json_str(rec, "kind");
    cJSON *n;

    if (strcmp(status, "draft") == 0)
        sc->draft++;
    else if (strcmp(status, "void") == 0)
        sc->voided++;
    else {
        sc->final++;
        n = cJSON_GetObjectItemCaseSensitive(sc->per_kind, kind);
        if (n)
            cJSON_SetNumberValue(n, n->valuedouble + 1);
        else
            cJSON_AddNumberToObject(sc->per_kind, kind, 1);
    }
    return BB_OK;
}

/* Which reference data is in use: HQ's bundle (version, when fetched) or the built-in. */
static void print_reference(struct col_ctx *ctx, const cJSON *ref)
{
    const char *src = bb_json_str(ref, "source");
    const cJSON *ig = bb_json_obj(ref, "ignored");

    if (src && strcmp(src, "hq") == 0) {
        printf("%s %.12s, %s %s, %s %s\n", T(ctx, "reference data: from HQ, version",
                                            "參考資料：總局版本"),
               bb_json_str(ref, "version"), T(ctx, "issued", "發布於"),
               bb_json_str(ref, "issued_at"), T(ctx, "fetched", "下載於"),
               bb_json_str(ref, "fetched_at"));
        printf("  %s %s\n", T(ctx, "last checked with HQ:", "最近向總局確認："),
               bb_json_str(ref, "checked_at"));
    } else if (ig) {
        printf("%s %.12s %s\n  %s\n", T(ctx, "reference data: built-in; HQ's version",
                                         "參考資料：內建；總局版本"),
               bb_json_str(ig, "version"), T(ctx, "is stored but ignored:", "已儲存但未使用："),
               bb_json_str(ig, "error"));
    } else {
        printf("%s\n", T(ctx, "reference data: built-in (none from HQ yet)",
                         "參考資料：內建（尚未自總局取得）"));
    }
}

bb_err col_cmd_status(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    struct status_counts sc;
    struct col_filter f;
    cJSON *outbox = NULL, *ref = NULL;
    col_store *st = NULL;
    long unsent = 0;
    int c, json = 0;
    bb_err err;
    size_t i;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return help_or_usage(ctx, eb, "status", c, argv,
                                 T(ctx,
                                   "usage: beatbook status [--json]\n"
                                   "Who this store records for, open drafts, records per kind, "
                                   "and revisions waiting to be sent.\n"
                                   "Sync: the enrollment with HQ, batches sealed, sent, "
                                   "acknowledged and rejected (with\nHQ's reasons), records "
                                   "HQ rejected, the last sync and its error.\n"
                                   "Reference data: HQ's version in use (when issued, fetched "
                                   "and last checked),\nor the built-in data.\n",
                                   "用法：beatbook status [--json]\n"
                                   "此資料庫為誰記錄、進行中的草稿、各類別筆數，以及待傳送的修訂。\n"
                                   "同步：向總局的註冊，已封裝、已傳送、已確認與遭拒的批次（附總局\n"
                                   "的理由）、總局拒收的紀錄、最近一次同步及其錯誤。\n"
                                   "參考資料：使用中的總局版本（發布、下載與最近確認的時間），\n"
                                   "或內建資料。\n"));
    }
    if (optind < argc)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "status: unexpected argument \"%s\"",
                                           "status：多了一個參數「%s」"), argv[optind]);
    memset(&sc, 0, sizeof sc);
    memset(&f, 0, sizeof f);
    if (!(sc.per_kind = cJSON_CreateObject()))
        return BB_ERR_NOMEM;
    if ((err = col_store_open(ctx->home, 1, &st, eb)) != BB_OK)
        goto out;
    if ((err = col_store_each(st, &f, count_row, &sc, eb)) != BB_OK ||
        (err = col_store_unsent(st, &unsent, eb)) != BB_OK ||
        (err = bb_outbox_summary(st->db, &outbox, eb)) != BB_OK ||
        (err = bb_refbundle_stored_summary(st->db, &ref, eb)) != BB_OK)
        goto out;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        cJSON_AddStringToObject(o, "store", st->path);
        cJSON_AddStringToObject(o, "officer", st->officer);
        cJSON_AddStringToObject(o, "org_unit", st->org_unit);
        cJSON_AddStringToObject(o, "device", st->device);
        cJSON_AddNumberToObject(o, "drafts", (double)sc.draft);
        cJSON_AddNumberToObject(o, "final", (double)sc.final);
        cJSON_AddNumberToObject(o, "void", (double)sc.voided);
        cJSON_AddNumberToObject(o, "unsent_revisions", (double)unsent);
        cJSON_AddItemToObject(o, "final_per_kind", sc.per_kind);
        sc.per_kind = NULL;
        cJSON_AddItemToObject(o, "outbox", outbox);
        outbox = NULL;
        cJSON_AddItemToObject(o, "reference", ref);
        ref = NULL;
        err = col_print_json(o);
        cJSON_Delete(o);
        goto out;
    }
    printf("%s %s\n", T(ctx, "store:   ", "資料庫："), st->path);
    printf("%s %s, %s, %s\n", T(ctx, "officer: ", "員警：  "), st->officer, st->org_unit,
           st->device);
    printf("%s %ld\n", T(ctx, "drafts (open patrols):", "草稿（進行中巡邏）："), sc.draft);
    printf("%s %ld\n", T(ctx, "final records:", "已完成紀錄："), sc.final);
    printf("%s %ld\n", T(ctx, "void records:", "已作廢紀錄："), sc.voided);
    for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++) {
        const struct bb_kind *k = bb_catalog_kind_at(ctx->cat, i);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(sc.per_kind, k->name);
        printf("  %-22s %6ld  %s\n", k->name, n ? (long)n->valuedouble : 0L,
               bb_label(&k->label, ctx->lang, ""));
    }
    printf("%s %ld\n", T(ctx, "revisions waiting to be sent:", "待傳送的修訂："), unsent);
    col_print_outbox(ctx, outbox);
    print_reference(ctx, ref);
out:
    cJSON_Delete(ref);
    cJSON_Delete(outbox);
    cJSON_Delete(sc.per_kind);
    col_store_close(st);
    return err;
}
