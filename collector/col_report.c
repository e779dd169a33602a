/*
 * col_report.c — `beatbook report --period P`: what this laptop recorded in
 * a period, per kind, and the plan's KPI inputs for the officer's unit,
 * computed from local data only (provisional: HQ's figures cover every
 * laptop, earlier years and reference figures).
 *
 * The inputs are the plan's own (bb_plan: which kind, which conditions,
 * which time field), counted with the same code HQ uses for its facts
 * (bb_kpi_facts), so a laptop and HQ never disagree on what an input means.
 * The plan is the one in HQ's reference bundle when this laptop has synced
 * one, else the newest plan built into the binary.
 */
#include "col_cli.h"
#include "col_record.h"
#include "col_store.h"
#include "bb_embed.h"
#include "bb_json.h"
#include "bb_kpi.h"
#include "bb_plan.h"
#include "bb_refbundle.h"
#include "bb_text.h"
#include "bb_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report {
    struct col_ctx *ctx;
    bb_period period;
    cJSON *per_kind;          /* {"kind": final records that occurred in the period} */
    bb_kpi_facts *facts;      /* every final record, for the plan's inputs */
};

static bb_err report_row(const cJSON *rec, void *arg)
{
    struct report *r = arg;
    const char *occurred = bb_json_str(rec, "occurred_at");
    int64_t t;
    int off;

    if (strcmp(bb_json_str(rec, "status"), "final") != 0)
        return BB_OK;   /* drafts are unfinished, voids count for nothing */
    if (occurred && bb_time_parse(occurred, &t, &off, NULL) == BB_OK &&
        bb_period_contains(&r->period, t)) {
        const char *kind = bb_json_str(rec, "kind");
        cJSON *n = cJSON_GetObjectItemCaseSensitive(r->per_kind, kind);
        if (n)
            cJSON_SetNumberValue(n, n->valuedouble + 1);
        else if (!cJSON_AddNumberToObject(r->per_kind, kind, 1))
            return BB_ERR_NOMEM;
    }
    /* Inputs date records by their own field (a clearance by cleared_at), so
     * every record goes in; the period is applied when summing. */
    return r->facts ? bb_kpi_facts_record(r->facts, rec, +1, NULL) : BB_OK;
}

bb_err col_load_plan(struct col_ctx *ctx, col_store *st, bb_plan **out, const char **from,
                     bb_errbuf *eb)
{
    const struct bb_embedded_file *f, *best = NULL;
    bb_refbundle *b = NULL;
    size_t cur = 0;
    bb_err err;

    *out = NULL;
    if (bb_refbundle_stored_load(st->db, &b, NULL) == BB_OK) {
        const cJSON *plan = cJSON_GetObjectItemCaseSensitive(bb_refbundle_doc(b), "plan");
        char *text = cJSON_IsObject(plan) ? bb_json_canonical(plan) : NULL;
        err = text ? bb_plan_parse(ctx->cat, text, strlen(text), "HQ's reference bundle", out,
                                   NULL)
                   : BB_ERR_NOTFOUND;
        free(text);
        bb_refbundle_free(b);
        if (err == BB_OK) {
            *from = T(ctx, "HQ's reference data", "總局參考資料");
            return BB_OK;
        }
    }
    /* Built-in plans are named by year (taichung-107.json): the last sorts newest. */
    while ((f = bb_embed_next("plans/", &cur)) != NULL)
        best = f;
    if (!best)
        return bb_fail(eb, BB_ERR_NOTFOUND, T(ctx, "this build has no plan", "此版本未內建計畫"));
    err = bb_plan_parse(ctx->cat, best->data, best->len, best->path, out, eb);
    *from = T(ctx, "built in", "內建");
    return err;
}

static void input_line(const char *kpi, const char *what, int64_t value)
{
    printf("  %-6s", kpi);
    bb_text_pad(stdout, what, 46);
    printf("%8lld\n", (long long)value);
}

/* The KPIs that use input `in`, as "K1 K2", for the table's first column. */
static void kpis_of(const bb_plan *p, const struct bb_plan_input *in, char *out, size_t n)
{
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i < bb_plan_kpi_count(p); i++) {
        const struct bb_plan_kpi *k = bb_plan_kpi_at(p, i);
        if ((k->input == in || k->numerator == in || k->denominator == in) && used + 8 < n)
            used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "," : "", k->id);
    }
}

/*
 * A grouped input (casualties per listed intersection): the groups with
 * anything in the period for org, as {"INT-03": 4} under "groups" in JSON
 * (o) or indented lines in the table.
 */
static bb_err print_groups(struct report *r, const struct bb_plan_input *in, const char *org,
                           cJSON *o)
{
    struct bb_kpi_fact row;
    cJSON *groups = cJSON_CreateObject(), *g;
    size_t cur = 0;

    if (!groups)
        return BB_ERR_NOMEM;
    while (bb_kpi_facts_next(r->facts, &cur, &row)) {
        if (row.input != in || !row.group || strcmp(row.unit, org) != 0 ||
            row.day < r->period.from_day || row.day >= r->period.to_day)
            continue;
        g = cJSON_GetObjectItemCaseSensitive(groups, row.group);
        if (g)
            cJSON_SetNumberValue(g, g->valuedouble + (double)(in->nsum ? row.v : row.n));
        else
            cJSON_AddNumberToObject(groups, row.group, (double)(in->nsum ? row.v : row.n));
    }
    if (o) {
        cJSON_AddItemToObject(o, "groups", groups);
        return BB_OK;
    }
    cJSON_ArrayForEach(g, groups) {
        char code[48];
        snprintf(code, sizeof code, "  %s", g->string);
        input_line("", code, (int64_t)g->valuedouble);
    }
    cJSON_Delete(groups);
    return BB_OK;
}

bb_err col_cmd_report(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"period", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct report r;
    struct col_filter f;
    struct bb_kpi_source src;
    col_store *st = NULL;
    bb_plan *plan = NULL;
    const char *period = NULL, *plan_from = "";
    char roc[BB_PERIOD_LABEL_MAX], used_by[64];
    cJSON *out = NULL, *inputs = NULL;
    int c, json = 0;
    bb_err err;
    size_t i;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': period = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook report --period P [--json]\n"
                    "Records per kind in period P, and the plan's KPI inputs for this laptop's\n"
                    "unit, from local data only (provisional; HQ's scorecard is the official one).\n"
                    "P: 2018, 107, 107H1, 2018Q3, 2018-03, 107-03, A..B\n",
                    "用法：beatbook report --period P [--json]\n"
                    "期間 P 內各類別的紀錄筆數，以及本機單位在計畫中的 KPI 輸入，\n"
                    "只依本機資料計算（暫定；正式成績以總局為準）。\n"
                    "P：2018、107、107H1、2018Q3、2018-03、107-03、A..B\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "report", c, argv);
        }
    }
    if (optind < argc)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "report: unexpected argument \"%s\"",
                                           "report：多了一個參數「%s」"), argv[optind]);
    if (!period)
        return bb_fail(eb, BB_ERR_USAGE,
                       T(ctx, "report: --period P is required, e.g. --period 107H1",
                         "report：必須指定 --period P，例如 --period 107H1"));
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    if (bb_period_parse_lang(period, ctx->lang, &r.period, eb) != BB_OK) {
        bb_errbuf_prefix(eb, T(ctx, "report: --period", "report：--period"));
        return BB_ERR_USAGE;
    }
    if ((err = col_store_open(ctx->home, 1, &st, eb)) != BB_OK)
        return err;
    if ((err = col_load_plan(ctx, st, &plan, &plan_from, eb)) != BB_OK ||
        (err = bb_kpi_facts_new(plan, ctx->cat, &r.facts)) != BB_OK)
        goto out;
    if (!(r.per_kind = cJSON_CreateObject())) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    memset(&f, 0, sizeof f);
    if ((err = col_store_each(st, &f, report_row, &r, eb)) != BB_OK)
        goto out;
    bb_kpi_facts_source(r.facts, &src);
    bb_period_roc_label(&r.period, roc);
    if (json) {
        if (!(out = cJSON_CreateObject()) || !(inputs = cJSON_CreateArray())) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        cJSON_AddStringToObject(out, "period", r.period.label);
        cJSON_AddStringToObject(out, "period_roc", roc);
        cJSON_AddStringToObject(out, "org_unit", st->org_unit);
        cJSON_AddStringToObject(out, "plan", bb_plan_id(plan));
        cJSON_AddItemToObject(out, "records_per_kind", r.per_kind);
        r.per_kind = NULL;
        cJSON_AddItemToObject(out, "kpi_inputs", inputs);
    } else {
        printf("%s %s (%s), %s %s\n\n", T(ctx, "period", "期間"), r.period.label, roc,
               T(ctx, "unit", "單位"), st->org_unit);
        printf("%s\n", T(ctx, "records this laptop holds, per kind:", "本機紀錄（依類別）："));
        for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++) {
            const struct bb_kind *k = bb_catalog_kind_at(ctx->cat, i);
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(r.per_kind, k->name);
            printf("  %-22s %6ld  %s\n", k->name, n ? (long)n->valuedouble : 0L,
                   bb_label(&k->label, ctx->lang, ""));
        }
        printf("\n%s %s (%s)\n", T(ctx, "KPI inputs for this unit, local data only, plan",
                                   "本單位 KPI 輸入（僅本機資料，暫定），計畫"),
               bb_plan_id(plan), plan_from);
    }
    for (i = 0; i < bb_plan_input_count(plan); i++) {
        const struct bb_plan_input *in = bb_plan_input_at(plan, i);
        int64_t n = 0, v = 0;
        if ((err = src.sum(src.ctx, in, st->org_unit, r.period.from_day, r.period.to_day, NULL,
                           &n, &v, eb)) != BB_OK)
            goto out;
        kpis_of(plan, in, used_by, sizeof used_by);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            if (!o) {
                err = BB_ERR_NOMEM;
                goto out;
            }
            cJSON_AddItemToArray(inputs, o);
            cJSON_AddStringToObject(o, "input", in->id);
            cJSON_AddStringToObject(o, "kpis", used_by);
            cJSON_AddStringToObject(o, "title", bb_label(&in->title, ctx->lang, in->id));
            cJSON_AddNumberToObject(o, "records", (double)n);
            if (in->nsum)
                cJSON_AddNumberToObject(o, "sum", (double)v);
        } else {
            input_line(used_by, bb_label(&in->title, ctx->lang, in->id), in->nsum ? v : n);
        }
        if (in->group_by && (err = print_groups(&r, in, st->org_unit, json ?
                                                cJSON_GetArrayItem(inputs, (int)i) : NULL))
                                != BB_OK)
            goto out;
    }
    if (json)
        err = col_print_json(out);
out:
    cJSON_Delete(out);
    cJSON_Delete(r.per_kind);
    bb_kpi_facts_free(r.facts);
    bb_plan_free(plan);
    col_store_close(st);
    return err;
}
