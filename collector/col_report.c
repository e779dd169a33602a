/*
 * col_report.c — `beatbook report --period P`: what this laptop recorded in
 * a period, per kind, and the provisional KPI inputs (KPIS.md) for the
 * officer's unit, from local data only.  HQ's figures (all laptops, with
 * history and reference data) are the official ones; this lets a station
 * see its own numbers at day end without a network.
 *
 * The KPI inputs below mirror KPIS.md.  When HQ's reference bundle carries
 * the plan's inputs (issue 4), the collector should read them from there.
 */
#include "col_cli.h"
#include "col_store.h"
#include "bb_json.h"
#include "bb_text.h"
#include "bb_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report {
    struct col_ctx *ctx;
    const char *unit;
    bb_period period;
    cJSON *per_kind;          /* {"kind": final records in period} */
    long cases, clearances, roadworks_violations, complaints_attitude;
    long parking_all, parking_police_listed, parking_citizen;
    long casualties_listed;   /* deaths + injuries at listed intersections */
    cJSON *by_intersection;   /* {"INT-01": casualties} */
};

static int in_period(const struct report *r, const char *iso)
{
    int64_t t;
    int off;
    return iso && bb_time_parse(iso, &t, &off, NULL) == BB_OK && bb_period_contains(&r->period, t);
}

static long num(const cJSON *data, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static void bump(cJSON *obj, const char *key, long by)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (n)
        cJSON_SetNumberValue(n, n->valuedouble + (double)by);
    else
        cJSON_AddNumberToObject(obj, key, (double)by);
}

static bb_err report_row(const cJSON *rec, void *arg)
{
    struct report *r = arg;
    const char *kind = bb_json_str(rec, "kind"), *unit = bb_json_str(rec, "org_unit");
    const cJSON *data = bb_json_obj(rec, "data");
    int occurred_in = in_period(r, bb_json_str(rec, "occurred_at"));
    int ours = unit && bb_catalog_unit_within(r->ctx->cat, unit, r->unit);
    const char *s;

    if (strcmp(bb_json_str(rec, "status"), "final") != 0)
        return BB_OK;   /* drafts are unfinished, voids count for nothing */
    if (occurred_in)
        bump(r->per_kind, kind, 1);
    if (!ours)
        return BB_OK;
    if (strcmp(kind, "criminal_case") == 0 && occurred_in)
        r->cases++;
    else if (strcmp(kind, "case_clearance") == 0 && in_period(r, bb_json_str(data, "cleared_at")))
        r->clearances++;
    else if (strcmp(kind, "traffic_accident") == 0 && occurred_in &&
             (s = bb_json_str(data, "intersection")) != NULL) {
        long c = num(data, "deaths") + num(data, "injuries");
        r->casualties_listed += c;
        bump(r->by_intersection, s, c);
    } else if (strcmp(kind, "parking_citation") == 0 && occurred_in) {
        const char *src = bb_json_str(data, "source"), *method = bb_json_str(data, "method");
        r->parking_all++;
        if (src && strcmp(src, "citizen_report") == 0)
            r->parking_citizen++;
        else if (src && strcmp(src, "police") == 0 && bb_json_str(data, "segment") && method &&
                 (strcmp(method, "stop") == 0 || strcmp(method, "remote") == 0))
            r->parking_police_listed++;
    } else if (strcmp(kind, "roadworks_inspection") == 0 && occurred_in &&
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "violation_found"))) {
        r->roadworks_violations++;
    } else if (strcmp(kind, "complaint") == 0 && in_period(r, bb_json_str(data, "received_at")) &&
               (s = bb_json_str(data, "category")) != NULL && strcmp(s, "service_attitude") == 0) {
        r->complaints_attitude++;
    }
    return BB_OK;
}

static void kpi_line(const char *kpi, const char *what, long value)
{
    printf("  %-3s", kpi);
    bb_text_pad(stdout, what, 40);
    printf("%8ld\n", value);
}

bb_err col_cmd_report(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"period", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct report r;
    struct col_filter f;
    col_store *st = NULL;
    const char *period = NULL;
    char roc[BB_PERIOD_LABEL_MAX];
    int c, json = 0;
    bb_err err;
    size_t i;
    const cJSON *it;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': period = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf("usage: beatbook report --period P [--json]\n"
                   "Records per kind in period P, and this unit's provisional KPI inputs\n"
                   "(local data only).  P: 2018, 107, 107H1, 2018Q3, 2018-03, 107-03, A..B\n");
            return BB_OK;
        default:
            return bb_fail(eb, BB_ERR_USAGE, "report: unknown option (see: beatbook report --help)");
        }
    }
    if (optind < argc)
        return bb_fail(eb, BB_ERR_USAGE, "report: unexpected argument \"%s\"", argv[optind]);
    if (!period)
        return bb_fail(eb, BB_ERR_USAGE, "report: --period P is required, e.g. --period 107H1");
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    if (bb_period_parse(period, &r.period, eb) != BB_OK) {
        bb_errbuf_prefix(eb, "report: --period");
        return BB_ERR_USAGE;
    }
    if ((err = col_store_open(ctx->home, 1, &st, eb)) != BB_OK)
        return err;
    r.unit = st->org_unit;
    r.per_kind = cJSON_CreateObject();
    r.by_intersection = cJSON_CreateObject();
    memset(&f, 0, sizeof f);   /* clearances and complaints are dated by their own field */
    if (!r.per_kind || !r.by_intersection)
        err = BB_ERR_NOMEM;
    else
        err = col_store_each(st, &f, report_row, &r, eb);
    if (err != BB_OK)
        goto out;
    bb_period_roc_label(&r.period, roc);
    if (json) {
        cJSON *o = cJSON_CreateObject(), *k;
        if (!o) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        cJSON_AddStringToObject(o, "period", r.period.label);
        cJSON_AddStringToObject(o, "period_roc", roc);
        cJSON_AddStringToObject(o, "org_unit", r.unit);
        cJSON_AddItemToObject(o, "records_per_kind", r.per_kind);
        r.per_kind = NULL;
        k = cJSON_AddObjectToObject(o, "kpi_inputs");
        cJSON_AddNumberToObject(k, "criminal_cases", (double)r.cases);
        cJSON_AddNumberToObject(k, "case_clearances", (double)r.clearances);
        cJSON_AddNumberToObject(k, "casualties_at_listed_intersections", (double)r.casualties_listed);
        cJSON_AddItemToObject(k, "casualties_by_intersection", r.by_intersection);
        r.by_intersection = NULL;
        cJSON_AddNumberToObject(k, "parking_citations", (double)r.parking_all);
        cJSON_AddNumberToObject(k, "parking_police_on_listed_segments", (double)r.parking_police_listed);
        cJSON_AddNumberToObject(k, "parking_citizen_reports", (double)r.parking_citizen);
        cJSON_AddNumberToObject(k, "roadworks_violations", (double)r.roadworks_violations);
        cJSON_AddNumberToObject(k, "service_attitude_complaints", (double)r.complaints_attitude);
        err = col_print_json(o);
        cJSON_Delete(o);
        goto out;
    }
    printf("%s %s (%s), %s %s\n\n", T(ctx, "period", "期間"), r.period.label, roc,
           T(ctx, "unit", "單位"), r.unit);
    printf("%s\n", T(ctx, "records this laptop holds, per kind:", "本機紀錄（依類別）："));
    for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++) {
        const struct bb_kind *k = bb_catalog_kind_at(ctx->cat, i);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r.per_kind, k->name);
        printf("  %-22s %6ld  %s\n", k->name, n ? (long)n->valuedouble : 0L,
               bb_label(&k->label, ctx->lang, ""));
    }
    printf("\n%s\n", T(ctx, "provisional KPI inputs for this unit (local data only):",
                        "本單位 KPI 輸入（僅本機資料，暫定）："));
    kpi_line("K1", T(ctx, "criminal cases", "刑案發生數"), r.cases);
    kpi_line("K2", T(ctx, "case clearances (by cleared_at)", "破獲數（依破獲時間）"), r.clearances);
    kpi_line("K3", T(ctx, "casualties at listed intersections", "列管路口傷亡人數"), r.casualties_listed);
    cJSON_ArrayForEach(it, r.by_intersection)
    {
        char code[48];
        snprintf(code, sizeof code, "  %s", it->string);
        kpi_line("", code, (long)it->valuedouble);
    }
    kpi_line("K4", T(ctx, "parking citations, all", "違規停車舉發總數"), r.parking_all);
    kpi_line("", T(ctx, "  by police on listed segments", "  列管路段警察攔停／逕行舉發"), r.parking_police_listed);
    kpi_line("", T(ctx, "  from citizen reports", "  民眾檢舉"), r.parking_citizen);
    kpi_line("K5", T(ctx, "road-works violations found", "道路違規施工查獲數"), r.roadworks_violations);
    kpi_line("K6", T(ctx, "service-attitude complaints", "服務態度投訴數"), r.complaints_attitude);
out:
    cJSON_Delete(r.per_kind);
    cJSON_Delete(r.by_intersection);
    col_store_close(st);
    return err;
}
