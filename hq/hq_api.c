/*
 * hq_api.c — the review UI's data (see hq_api.h): scope checks, the KPI
 * scorecard and its months, drill-down, record lists and pages, devices,
 * quarantine and its actions, CSV.
 *
 * SQL: every statement is one of the fixed strings below, with bound
 * parameters; the optional filters of a list pick among fixed fragments,
 * never text from the request.  The org filter is a JSON array of the unit
 * codes within the org, bound as one parameter and read with json_each.
 */
#include "hq_api.h"
#include "hq_attach.h"
#include "hq_attview.h"
#include "hq_status.h"
#include "hq_display.h"
#include "hq_facts.h"
#include "hq_merge.h"
#include "hq_store.h"
#include "bb_batch.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_kpi.h"
#include "bb_plan.h"
#include "bb_record.h"
#include "bb_sign.h"
#include "bb_time.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_BYTES ((size_t)16 * 1024 * 1024)   /* batches checked again on a page */
#define LATE_AFTER_S (24 * 3600)                      /* no contact for a day: late */

#define L(c, en, zh) ((c)->lang == BB_LANG_EN ? (en) : (zh))

void hq_api_result_clear(struct hq_api_result *r)
{
    if (r) {
        cJSON_Delete(r->json);
        r->json = NULL;
    }
}

static unsigned fail(struct hq_api_result *res, unsigned status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static unsigned fail(struct hq_api_result *res, unsigned status, const char *code,
                     const char *fmt, ...)
{
    va_list ap;

    cJSON_Delete(res->json);
    res->json = NULL;
    res->status = status;
    snprintf(res->code, sizeof res->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return status;
}

/* A store error: the status for it, and plain words (the details go to the log). */
static unsigned store_fail(const struct hq_api_ctx *c, struct hq_api_result *res, bb_err err,
                           const bb_errbuf *eb)
{
    if (err == BB_ERR_BUSY)
        return fail(res, 503, "busy", "%s", L(c, "the store is busy; try again shortly",
                                              "資料庫忙碌中，請稍後再試"));
    if (err == BB_ERR_NOMEM)
        return fail(res, 500, "internal", "out of memory");
    return fail(res, 500, "internal", "%s: %.300s",
                L(c, "HQ could not read its store", "總部無法讀取資料庫"),
                eb && eb->msg[0] ? eb->msg : bb_strerror(err));
}

static unsigned ok(struct hq_api_result *res, cJSON *json)
{
    if (!json)
        return fail(res, 500, "internal", "out of memory");
    res->status = 200;
    res->json = json;
    return 200;
}

/* ---- parameters ------------------------------------------------------------------- */

/* Printable ASCII of the characters in allowed, 1..max long. */
static int param_ok(const char *s, size_t max, const char *allowed)
{
    size_t n = s ? strlen(s) : 0;
    size_t i;

    if (n < 1 || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (allowed && ch && strchr(allowed, ch))))
            return 0;
    }
    return 1;
}

static unsigned parse_limit(const struct hq_api_ctx *c, const char *s, int *out,
                             struct hq_api_result *res)
{
    char *end;
    long v;

    *out = HQ_API_PAGE_DEFAULT;
    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!param_ok(s, 4, NULL) || errno || *end || v < 1 || v > HQ_API_PAGE_MAX)
        return fail(res, 400, "bad_request", L(c, "limit: a number from 1 to %d",
                                                "limit：1 到 %d 的數字"), HQ_API_PAGE_MAX);
    *out = (int)v;
    return 0;
}

struct cursor {
    int set;
    int64_t t, rowid;
};

static unsigned parse_after(const struct hq_api_ctx *c, const char *s, struct cursor *cur,
                             struct hq_api_result *res)
{
    long long t, r;
    int n = 0;

    memset(cur, 0, sizeof *cur);
    if (!s)
        return 0;
    if (!param_ok(s, 40, ".-") || sscanf(s, "%lld.%lld%n", &t, &r, &n) != 2 ||
        (size_t)n != strlen(s) || r < 0)
        return fail(res, 400, "bad_request", "%s", L(c, "after: not a cursor this server gave out",
                                                   "after：不是本伺服器提供的分頁位置"));
    cur->set = 1;
    cur->t = t;
    cur->rowid = r;
    return 0;
}

static unsigned parse_period(const struct hq_api_ctx *c, const char *s, bb_period *p,
                             struct hq_api_result *res)
{
    bb_errbuf sub;

    if (!s)
        return fail(res, 400, "bad_request", "%s",
                    L(c, "period is required (e.g. 107H1, 2018, 2018Q2, 107-03)",
                      "period：請指定期間（例如 107H1、2018、2018Q2、107-03）"));
    if (!param_ok(s, 40, "-./[],()") || bb_period_parse(s, p, &sub) != BB_OK)
        return fail(res, 400, "bad_request",
                    L(c, "period \"%.40s\" is not a period (e.g. 107H1, 2018, 2018Q2, 107-03)",
                      "period：「%.40s」不是期間（例如 107H1、2018、2018Q2、107-03）"),
                    param_ok(s, 40, "-./[],()") ? s : "?");
    return 0;
}

/* ---- scope ------------------------------------------------------------------------ */

static const char *caller_root(const struct hq_api_ctx *c)
{
    return c->user->role == HQ_ROLE_PRECINCT ? c->user->org : NULL;
}

/*
 * The org unit to use for asked (NULL: the caller's scope, NULL = all for
 * HQ).  narrow: an org above a precinct admin's scope is narrowed to it.
 */
static unsigned scope_org(const struct hq_api_ctx *c, const char *asked, int narrow,
                          const char **out, int *limited, struct hq_api_result *res)
{
    const bb_catalog *cat = c->home->cat;
    const char *root = caller_root(c);
    const struct bb_ref_item *u;

    *limited = 0;
    *out = root;
    if (!asked)
        return 0;
    if (!param_ok(asked, 31, "-_") || !(u = bb_catalog_ref(cat, "units", asked)))
        return fail(res, 400, "bad_request", L(c, "org \"%.31s\": no such org unit",
                                                "org：沒有「%.31s」這個單位"),
                    param_ok(asked, 31, "-_") ? asked : "?");
    if (!root || bb_catalog_unit_within(cat, u->code, root)) {
        *out = u->code;
        return 0;
    }
    if (narrow && bb_catalog_unit_within(cat, root, u->code)) {
        *limited = 1;
        return 0;
    }
    return fail(res, 403, "forbidden", "%s %s",
                L(c, "you may see only the units within", "您只能查看此單位及其下轄單位："),
                root);
}

/* The codes of the units within org, as a JSON array text for json_each. */
static char *units_within(const bb_catalog *cat, const char *org)
{
    size_t i, n = bb_catalog_ref_count(cat, "units");
    cJSON *a = cJSON_CreateArray();
    char *text;

    for (i = 0; a && i < n; i++) {
        const struct bb_ref_item *u = bb_catalog_ref_at(cat, "units", i);
        if (bb_catalog_unit_within(cat, u->code, org) &&
            !cJSON_AddItemToArray(a, cJSON_CreateString(u->code))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

static int in_scope(const struct hq_api_ctx *c, const char *unit)
{
    const char *root = caller_root(c);
    return !root || (unit && bb_catalog_unit_within(c->home->cat, unit, root));
}

/* ---- small JSON helpers ------------------------------------------------------------ */

static int add_text(cJSON *o, const char *k, const char *v)
{
    return (v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k)) != NULL;
}

static int add_col_text(cJSON *o, const char *k, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return add_text(o, k, v ? (const char *)v : NULL);
}

static int add_int(cJSON *o, const char *k, int64_t v)
{
    return cJSON_AddNumberToObject(o, k, (double)v) != NULL;
}

/* Add item (NULL: out of memory) under k; false, with item freed, when not added. */
static int add_item(cJSON *o, const char *k, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, k, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

/* An object's "display" (hq_display.h): the texts of its codes, by the same keys. */
static cJSON *add_display(cJSON *o)
{
    cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "display");
    return d ? d : cJSON_AddObjectToObject(o, "display");
}

/* A unit's code under k and its name in lang under k_name. */
static int add_unit_in(const bb_catalog *cat, enum bb_lang lang, cJSON *o, const char *k,
                       const char *code)
{
    const struct bb_ref_item *u = code ? bb_catalog_ref(cat, "units", code) : NULL;
    char name[80];

    snprintf(name, sizeof name, "%s_name", k);
    return add_text(o, k, code) && add_text(o, name, u ? bb_label(&u->label, lang, code) : code);
}

static int add_unit(const struct hq_api_ctx *c, cJSON *o, const char *k, const char *code)
{
    return add_unit_in(c->home->cat, c->lang, o, k, code);
}

static void reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ---- plans and scorecards --------------------------------------------------------- */

/* As `beatbook-hq kpi` chooses: the plan of the period's year, else the next
 * one after it, else the latest. */
static bb_err choose_plan(sqlite3 *db, const bb_catalog *cat, const char *id,
                          const bb_period *per, bb_plan **out, bb_errbuf *eb)
{
    struct hq_plan_info *list = NULL;
    size_t n, i, pick;
    int y, m, d;
    bb_err err;

    if (id)
        return hq_plan_get(db, cat, id, out, eb);
    if ((err = hq_plan_list(db, &list, &n, eb)) != BB_OK)
        return err;
    if (n == 0) {
        free(list);
        return bb_fail(eb, BB_ERR_NOTFOUND, "no plan is loaded (beatbook-hq plan load)");
    }
    bb_civil_from_days(per->from_day, &y, &m, &d);
    pick = n - 1;
    for (i = 0; i < n; i++)
        if (list[i].year >= y) {
            pick = i;
            break;
        }
    err = hq_plan_get(db, cat, list[pick].id, out, eb);
    free(list);
    return err;
}

static unsigned load_plan(const struct hq_api_ctx *c, const char *id, const bb_period *per,
                          bb_plan **out, struct hq_api_result *res)
{
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    if (id && !param_ok(id, BB_PLAN_ID_MAX - 1, "-"))
        return fail(res, 400, "bad_request", "%s", L(c, "plan: not a plan id", "plan：不是計畫代號"));
    if ((err = choose_plan(c->db, c->home->cat, id, per, out, &eb)) == BB_OK)
        return 0;
    if (err == BB_ERR_NOTFOUND)
        return fail(res, 404, "not_found", "%s", id ? L(c, "no such plan", "沒有這個計畫")
                                                    : L(c, "no plan is loaded at HQ",
                                                        "總部尚未載入計畫"));
    return store_fail(c, res, err, &eb);
}

/* The org for KPIs: within the caller's scope (never narrowed), and the plan's root. */
static unsigned kpi_org(const struct hq_api_ctx *c, const char *asked, const bb_plan *p,
                        const char **out, struct hq_api_result *res)
{
    int limited;
    unsigned st;

    if ((st = scope_org(c, asked, 0, out, &limited, res)) != 0)
        return st;
    if (!*out)
        *out = bb_plan_org_root(p);
    if (!bb_catalog_unit_within(c->home->cat, *out, bb_plan_org_root(p)))
        return fail(res, 400, "bad_request", L(c, "org %s is not within plan %s's unit %s",
                                                "org：單位 %s 不在計畫 %s 的範圍 %s 內"), *out,
                    bb_plan_id(p), bb_plan_org_root(p));
    return 0;
}

static bb_err evaluate(const struct hq_api_ctx *c, const bb_plan *p, const bb_period *per,
                       const char *org, struct bb_kpi_card *card, bb_errbuf *eb)
{
    struct hq_facts_source fs;
    struct bb_kpi_source src;
    bb_err err;

    memset(&fs, 0, sizeof fs);
    if ((err = hq_facts_source_open(c->db, p, &fs, &src, eb)) == BB_OK)
        err = bb_kpi_evaluate(p, c->home->cat, per, org, &src, c->lang, card, eb);
    hq_facts_source_close(&fs);
    return err;
}

unsigned hq_api_kpi(const struct hq_api_ctx *c, const struct hq_api_query *q,
                    struct hq_api_result *res)
{
    struct bb_kpi_card card;
    const char *org;
    bb_plan *p = NULL;
    bb_period per;
    bb_errbuf eb;
    unsigned st;
    bb_err err;
    cJSON *j;

    memset(&card, 0, sizeof card);
    memset(&eb, 0, sizeof eb);
    if ((st = parse_period(c, q->period, &per, res)) != 0 ||
        (st = load_plan(c, q->plan, &per, &p, res)) != 0)
        return st;
    if ((st = kpi_org(c, q->org, p, &org, res)) != 0) {
        bb_plan_free(p);
        return st;
    }
    /* One read transaction: every figure from the same state of the store. */
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) != BB_OK ||
        (err = evaluate(c, p, &per, org, &card, &eb)) != BB_OK) {
        bb_db_rollback(c->db);
        bb_kpi_card_free(&card);
        bb_plan_free(p);
        return store_fail(c, res, err, &eb);
    }
    bb_db_rollback(c->db);
    j = bb_kpi_card_json(&card, c->home->cat);
    bb_kpi_card_free(&card);
    bb_plan_free(p);
    return ok(res, j);
}

unsigned hq_api_kpi_months(const struct hq_api_ctx *c, const struct hq_api_query *q,
                           struct hq_api_result *res)
{
    struct bb_kpi_card card;
    const char *org;
    bb_plan *p = NULL;
    bb_period per, month;
    bb_errbuf eb;
    cJSON *o = NULL, *months, *kpis;
    int y, m, d, mon;
    size_t i;
    unsigned st;
    bb_err err = BB_OK;

    memset(&eb, 0, sizeof eb);
    if (q->year) {
        if ((st = parse_period(c, q->year, &per, res)) != 0)
            return st;
        if (per.kind != BB_PERIOD_YEAR)
            return fail(res, 400, "bad_request", "%s", L(c, "year: a year (2018 or 107)",
                                                       "year：年度（2018 或 107）"));
    } else if ((st = parse_period(c, q->period, &per, res)) != 0) {
        return st;
    }
    bb_civil_from_days(per.from_day, &y, &m, &d);
    if ((st = load_plan(c, q->plan, &per, &p, res)) != 0)
        return st;
    if ((st = kpi_org(c, q->org, p, &org, res)) != 0) {
        bb_plan_free(p);
        return st;
    }
    if (!(o = cJSON_CreateObject()) || !add_int(o, "year", y) || !add_text(o, "org", org) ||
        !add_text(o, "plan", bb_plan_id(p)) || !(months = cJSON_AddArrayToObject(o, "months")) ||
        !(kpis = cJSON_AddArrayToObject(o, "kpis")))
        goto oom;
    for (i = 0; i < bb_plan_kpi_count(p); i++) {
        const struct bb_plan_kpi *k = bb_plan_kpi_at(p, i);
        cJSON *ko = cJSON_CreateObject();
        if (!ko || !cJSON_AddItemToArray(kpis, ko) || !add_text(ko, "id", k->id) ||
            !add_text(ko, "number", k->number) ||
            !add_text(ko, "title", bb_label(&k->title, c->lang, k->id)) ||
            !add_text(ko, "unit", k->unit) || !cJSON_AddNumberToObject(ko, "target", k->target) ||
            !add_text(ko, "target_text", bb_label(&k->target_text, c->lang, "")) ||
            !add_text(ko, "op", k->target_ge ? ">=" : "<=") ||
            !cJSON_AddArrayToObject(ko, "values") || !cJSON_AddArrayToObject(ko, "display") ||
            !cJSON_AddArrayToObject(ko, "achieved") || !cJSON_AddArrayToObject(ko, "missing"))
            goto oom;
    }
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) != BB_OK)
        goto store;
    for (mon = 1; mon <= 12; mon++) {
        char label[16];
        int64_t a = bb_days_from_civil(y, mon, 1);
        int64_t b = mon == 12 ? bb_days_from_civil(y + 1, 1, 1) : bb_days_from_civil(y, mon + 1, 1);
        snprintf(label, sizeof label, "%04d-%02d", y, mon);
        if (!cJSON_AddItemToArray(months, cJSON_CreateString(label)))
            goto oom;
        if ((err = bb_period_from_days(a, b, &month, &eb)) != BB_OK)
            goto store;
        memset(&card, 0, sizeof card);
        if ((err = evaluate(c, p, &month, org, &card, &eb)) != BB_OK) {
            bb_kpi_card_free(&card);
            goto store;
        }
        for (i = 0; i < card.n; i++) {
            const struct bb_kpi_result *r = &card.results[i];
            cJSON *ko = cJSON_GetArrayItem(kpis, (int)i);
            cJSON *v = r->ok ? cJSON_CreateNumber(r->rounded) : cJSON_CreateNull();
            if (!cJSON_AddItemToArray(cJSON_GetObjectItem(ko, "values"), v) ||
                !cJSON_AddItemToArray(cJSON_GetObjectItem(ko, "display"),
                                      r->ok ? cJSON_CreateString(r->display) : cJSON_CreateNull()) ||
                !cJSON_AddItemToArray(cJSON_GetObjectItem(ko, "achieved"),
                                      r->ok ? cJSON_CreateBool(r->achieved)
                                            : cJSON_CreateNull()) ||
                !cJSON_AddItemToArray(cJSON_GetObjectItem(ko, "missing"),
                                      r->ok ? cJSON_CreateNull() : cJSON_CreateString(r->missing))) {
                bb_kpi_card_free(&card);
                goto oom;
            }
        }
        bb_kpi_card_free(&card);
    }
    bb_db_rollback(c->db);
    bb_plan_free(p);
    return ok(res, o);
oom:
    bb_db_rollback(c->db);
    cJSON_Delete(o);
    bb_plan_free(p);
    return fail(res, 500, "internal", "out of memory");
store:
    bb_db_rollback(c->db);
    cJSON_Delete(o);
    bb_plan_free(p);
    return store_fail(c, res, err, &eb);
}

/* ---- catalog ------------------------------------------------------------------------- */

unsigned hq_api_catalog(const struct hq_api_ctx *c, struct hq_api_result *res)
{
    const bb_catalog *cat = c->home->cat;
    const char *root = caller_root(c);
    size_t i, n = bb_catalog_ref_count(cat, "units"), np = 0;
    struct hq_plan_info *plans = NULL;
    static const char *const statuses[] = {"final", "void", NULL};
    cJSON *o = cJSON_CreateObject(), *items, *kinds, *pl, *sts;
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    if ((err = hq_plan_list(c->db, &plans, &np, &eb)) != BB_OK) {
        cJSON_Delete(o);
        return store_fail(c, res, err, &eb);
    }
    if (!o || !(items = cJSON_AddArrayToObject(o, "units")) || !add_text(o, "scope", root) ||
        !(kinds = cJSON_AddArrayToObject(o, "kinds")) ||
        !(pl = cJSON_AddArrayToObject(o, "plans")) ||
        !(sts = cJSON_AddArrayToObject(o, "statuses")))
        goto oom;
    /* The statuses HQ holds (a draft is never merged), for the list filter. */
    for (i = 0; statuses[i]; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(sts, it) || !add_text(it, "code", statuses[i]) ||
            !add_item(it, "label", hq_display_status(statuses[i])))
            goto oom;
    }
    for (i = 0; i < np; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(pl, it) || !add_text(it, "id", plans[i].id) ||
            !add_int(it, "year", plans[i].year))
            goto oom;
    }
    for (i = 0; i < bb_catalog_kind_count(cat); i++) {
        const struct bb_kind *k = bb_catalog_kind_at(cat, i);
        cJSON *it = cJSON_CreateObject();
        cJSON *fields;
        size_t fi, vi;
        if (!it || !cJSON_AddItemToArray(kinds, it) || !add_text(it, "name", k->name) ||
            !add_text(it, "label", bb_label(&k->label, c->lang, k->name)) ||
            !(fields = cJSON_AddObjectToObject(it, "fields")))
            goto oom;
        /* Field and value labels, so a record page reads as the officer entered it. */
        for (fi = 0; fi < k->nfields; fi++) {
            const struct bb_field *f = &k->fields[fi];
            cJSON *fo = cJSON_CreateObject(), *vals;
            if (!fo || !cJSON_AddItemToObject(fields, f->name, fo) ||
                !add_text(fo, "label", bb_label(&f->label, c->lang, f->name)) ||
                !add_text(fo, "type", bb_ftype_name(f->type)))
                goto oom;
            if (f->nvalues && !(vals = cJSON_AddObjectToObject(fo, "values")))
                goto oom;
            for (vi = 0; vi < f->nvalues; vi++)
                if (!add_text(vals, f->values[vi].code,
                              bb_label(&f->values[vi].label, c->lang, f->values[vi].code)))
                    goto oom;
        }
    }
    for (i = 0; i < n; i++) {
        const struct bb_ref_item *u = bb_catalog_ref_at(cat, "units", i);
        cJSON *it;
        if (root && !bb_catalog_unit_within(cat, u->code, root))
            continue;
        if (!(it = cJSON_CreateObject()) || !cJSON_AddItemToArray(items, it) ||
            !add_text(it, "code", u->code) ||
            !add_text(it, "name", bb_label(&u->label, c->lang, u->code)) ||
            !add_text(it, "level", u->level) || !add_text(it, "parent", u->parent))
            goto oom;
    }
    free(plans);
    return ok(res, o);
oom:
    free(plans);
    cJSON_Delete(o);
    return fail(res, 500, "internal", "out of memory");
}

/* ---- record lists ------------------------------------------------------------------ */

#define REC_COLS "r.rowid, r.id, r.kind, r.rev, r.status, r.org_unit, r.officer, " \
                 "r.occurred_at, r.occurred_unix, r.device, r.recorded_at, r.body, r.batch_id"

/* One list item for a record row (columns REC_COLS); NULL when out of memory. */
static cJSON *record_item(const struct hq_api_ctx *c, sqlite3_stmt *st, const cJSON *body)
{
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    const struct bb_kind *k = kind ? bb_catalog_kind(c->home->cat, kind) : NULL;
    const cJSON *data = body ? bb_json_obj(body, "data") : NULL;
    cJSON *o = cJSON_CreateObject();

    if (!o || !add_col_text(o, "id", st, 1) || !add_text(o, "kind", kind) ||
        !add_text(o, "kind_label", k ? bb_label(&k->label, c->lang, kind) : kind) ||
        !add_int(o, "rev", sqlite3_column_int64(st, 3)) || !add_col_text(o, "status", st, 4) ||
        !add_unit(c, o, "org_unit", (const char *)sqlite3_column_text(st, 5)) ||
        !add_col_text(o, "officer", st, 6) || !add_col_text(o, "occurred_at", st, 7) ||
        !add_col_text(o, "device", st, 9) || !add_col_text(o, "recorded_at", st, 10) ||
        !add_item(o, "data", data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject()) ||
        !add_item(o, "display", hq_display_record(c->home->cat, body))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

struct drill_match {
    const struct bb_plan_input *in;
    int64_t from_day, to_day;
    const char *group;
    int hit;
    int64_t measure;
};

static void drill_fn(void *ctx, const struct bb_kpi_fact *f)
{
    struct drill_match *m = ctx;

    if (f->input == m->in && f->day >= m->from_day && f->day < m->to_day &&
        (!m->group || (f->group && strcmp(f->group, m->group) == 0))) {
        m->hit = 1;
        m->measure += f->v;
    }
}

/*
 * Step a prepared list statement (columns REC_COLS) and collect up to limit
 * items that pass `keep` (NULL: all) into items; next gets the cursor of the
 * last one when more may follow.
 */
struct list_run {
    const struct hq_api_ctx *c;
    sqlite3_stmt *st;
    int limit;
    const bb_plan *plan;
    struct drill_match *drill;
    cJSON *items;
    size_t n, scanned;
    int more, partial;
    struct cursor last;
};

static bb_err list_step(struct list_run *lr, bb_errbuf *eb)
{
    int rc;

    while ((rc = sqlite3_step(lr->st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(lr->st, 11);
        cJSON *body = text ? cJSON_Parse(text) : NULL, *item;
        lr->scanned++;
        lr->last.set = 1;
        lr->last.t = sqlite3_column_int64(lr->st, 8);
        lr->last.rowid = sqlite3_column_int64(lr->st, 0);
        if (lr->drill) {
            lr->drill->hit = 0;
            lr->drill->measure = 0;
            if (body)
                bb_kpi_record_contribs(lr->plan, lr->c->home->cat, body, drill_fn, lr->drill);
            if (!lr->drill->hit) {
                cJSON_Delete(body);
                if (lr->scanned >= HQ_API_SCAN_MAX) {
                    lr->more = lr->partial = 1;
                    return BB_OK;
                }
                continue;
            }
        }
        item = record_item(lr->c, lr->st, body);
        if (item && lr->drill && !add_int(item, "measure", lr->drill->measure)) {
            cJSON_Delete(item);
            item = NULL;
        }
        cJSON_Delete(body);
        if (!item || !cJSON_AddItemToArray(lr->items, item)) {
            cJSON_Delete(item);
            return bb_fail(eb, BB_ERR_NOMEM, "records: out of memory");
        }
        if (++lr->n >= (size_t)lr->limit) {
            /* More only if another row follows. */
            rc = sqlite3_step(lr->st);
            lr->more = rc == SQLITE_ROW;
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return bb_db_err(sqlite3_db_handle(lr->st), rc, "read records", eb);
            return BB_OK;
        }
    }
    if (rc != SQLITE_DONE)
        return bb_db_err(sqlite3_db_handle(lr->st), rc, "read records", eb);
    return BB_OK;
}

/* {"items": [...], "next": cursor|null, ...} around a run. */
static cJSON *list_answer(struct list_run *lr)
{
    cJSON *o = cJSON_CreateObject();
    char next[48];

    if (!o)
        return NULL;
    snprintf(next, sizeof next, "%" PRId64 ".%" PRId64, lr->last.t, lr->last.rowid);
    if (!cJSON_AddItemToObject(o, "items", lr->items)) {
        cJSON_Delete(o);
        return NULL;
    }
    lr->items = NULL;
    if (!add_text(o, "next", lr->more ? next : NULL) ||
        !cJSON_AddBoolToObject(o, "partial", lr->partial) ||
        !add_int(o, "count", (int64_t)lr->n)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Bind the cursor and keep going page after page for an export. */
static bb_err run_pages(struct list_run *lr, int export_all, bb_errbuf *eb)
{
    bb_err err;

    for (;;) {
        if ((err = list_step(lr, eb)) != BB_OK)
            return err;
        if (!export_all || !lr->more || lr->n >= HQ_API_EXPORT_MAX)
            return BB_OK;
        /* Next page: rebind the keyset (parameters 1 and 2, see the SQL). */
        sqlite3_reset(lr->st);
        sqlite3_bind_int64(lr->st, 1, lr->last.t);
        sqlite3_bind_int64(lr->st, 2, lr->last.rowid);
        lr->limit = (int)(lr->n + HQ_API_PAGE_MAX);
        if (lr->limit > HQ_API_EXPORT_MAX)
            lr->limit = HQ_API_EXPORT_MAX;
        lr->scanned = 0;
        lr->more = lr->partial = 0;
    }
}

/*
 * The SQL of a record list.  Parameters: 1, 2 the keyset (occurred_unix,
 * rowid) — always bound, the first page with (INT64_MAX, INT64_MAX); 3 the
 * org's units (JSON); 4 kind; 5, 6 the time range; 7 device; 8 officer;
 * 9 status; 10 a JSON path for the time of a data field; 11, 12 a group's
 * path and code.  The text is assembled only from the fixed fragments below,
 * chosen by flags; every value from a request is a bound parameter.
 */
enum { F_ORG = 1, F_ORG_ONE = 2, F_KIND = 4, F_TIME = 8, F_DEVICE = 16, F_OFFICER = 32,
       F_STATUS = 64, F_DATA_TIME = 128, F_GROUP = 256 };

static bb_err prepare_list(sqlite3 *db, int f, sqlite3_stmt **st, bb_errbuf *eb)
{
    char sql[1400];
    size_t n;

    n = (size_t)snprintf(sql, sizeof sql, "SELECT " REC_COLS " FROM records r WHERE "
                         "(r.occurred_unix, r.rowid) < (?1, ?2)");
#define ADD(s) (n += (size_t)snprintf(sql + n, sizeof sql - n, "%s", (s)))
    /* Which index serves the order: a single unit's when the org is one unit
     * (a station: the fewest rows), else the kind's when a kind is given, else
     * the time index; "+" keeps SQLite from choosing another that would need a
     * sort. */
    if (f & F_ORG_ONE)
        ADD(" AND r.org_unit = json_extract(?3, '$[0]')");
    if (f & F_KIND)
        ADD((f & F_ORG_ONE) ? " AND +r.kind = ?4" : " AND r.kind = ?4");
    if (f & F_ORG)
        ADD(" AND +r.org_unit IN (SELECT value FROM json_each(?3))");
    if (f & F_TIME)
        ADD(" AND r.occurred_unix >= ?5 AND r.occurred_unix < ?6");
    if (f & F_DATA_TIME)
        ADD(" AND unixepoch(json_extract(r.body, ?10)) >= ?5"
            " AND unixepoch(json_extract(r.body, ?10)) < ?6");
    if (f & F_DEVICE)
        ADD(" AND +r.device = ?7");
    if (f & F_OFFICER)
        ADD(" AND +r.officer = ?8");
    if (f & F_STATUS)
        ADD(" AND +r.status = ?9");
    if (f & F_GROUP)
        ADD(" AND json_extract(r.body, ?11) = ?12");
    ADD(" ORDER BY r.occurred_unix DESC, r.rowid DESC LIMIT ?13");
#undef ADD
    if (n >= sizeof sql)
        return bb_fail(eb, BB_ERR_INTERNAL, "records: query too long");
    return bb_db_prepare(db, sql, st, eb);
}

/* Org filter flags and the units JSON (malloc'd) for org (NULL: none). */
static int org_filter(const bb_catalog *cat, const char *org, char **units)
{
    size_t i, n = bb_catalog_ref_count(cat, "units");
    int children = 0;

    *units = NULL;
    if (!org)
        return 0;
    for (i = 0; i < n; i++) {
        const struct bb_ref_item *u = bb_catalog_ref_at(cat, "units", i);
        if (u->parent && strcmp(u->parent, org) == 0)
            children = 1;
    }
    *units = units_within(cat, org);
    return children ? F_ORG : F_ORG_ONE;
}

static void bind_common(sqlite3_stmt *st, const struct cursor *cur, const char *units,
                        int limit)
{
    sqlite3_bind_int64(st, 1, cur->set ? cur->t : INT64_MAX);
    sqlite3_bind_int64(st, 2, cur->set ? cur->rowid : INT64_MAX);
    if (units)
        sqlite3_bind_text(st, 3, units, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 13, limit);
}

unsigned hq_api_records(const struct hq_api_ctx *c, const struct hq_api_query *q,
                        struct hq_api_result *res)
{
    const bb_catalog *cat = c->home->cat;
    struct list_run lr;
    struct cursor cur;
    const char *org;
    char *units = NULL;
    int limited, limit, f = 0;
    bb_period per;
    bb_errbuf eb;
    unsigned st;
    bb_err err;
    cJSON *o;

    memset(&lr, 0, sizeof lr);
    memset(&eb, 0, sizeof eb);
    if ((st = scope_org(c, q->org, 1, &org, &limited, res)) != 0 ||
        (st = parse_limit(c, q->limit, &limit, res)) != 0 ||
        (st = parse_after(c, q->after, &cur, res)) != 0)
        return st;
    if (q->period) {
        if ((st = parse_period(c, q->period, &per, res)) != 0)
            return st;
        f |= F_TIME;
    }
    if (q->kind) {
        if (!param_ok(q->kind, 40, "_") || !bb_catalog_kind(cat, q->kind))
            return fail(res, 400, "bad_request", "%s", L(c, "kind: no such record kind",
                                                           "kind：沒有這個紀錄類別"));
        f |= F_KIND;
    }
    if (q->device) {
        if (!param_ok(q->device, 40, "-"))
            return fail(res, 400, "bad_request", "%s", L(c, "device: not a device id",
                                                           "device：不是裝置代號"));
        f |= F_DEVICE;
    }
    if (q->officer) {
        if (!param_ok(q->officer, 20, NULL))
            return fail(res, 400, "bad_request", "%s", L(c, "officer: letters and digits",
                                                           "officer：員警代號只能是英文字母與數字"));
        f |= F_OFFICER;
    }
    if (q->status) {
        if (strcmp(q->status, "final") != 0 && strcmp(q->status, "void") != 0)
            return fail(res, 400, "bad_request", "%s", L(c, "status: final or void",
                                                           "status：只能是已完成（final）或已作廢（void）"));
        f |= F_STATUS;
    }
    f |= org_filter(cat, org, &units);
    if (org && !units)
        return fail(res, 500, "internal", "out of memory");
    if ((err = prepare_list(c->db, f, &lr.st, &eb)) != BB_OK) {
        free(units);
        return store_fail(c, res, err, &eb);
    }
    bind_common(lr.st, &cur, units, q->export_all ? HQ_API_EXPORT_MAX : limit + 1);
    if (f & F_KIND)
        sqlite3_bind_text(lr.st, 4, q->kind, -1, SQLITE_STATIC);
    if (f & F_TIME) {
        sqlite3_bind_int64(lr.st, 5, bb_period_from_unix(&per));
        sqlite3_bind_int64(lr.st, 6, bb_period_to_unix(&per));
    }
    if (f & F_DEVICE)
        sqlite3_bind_text(lr.st, 7, q->device, -1, SQLITE_STATIC);
    if (f & F_OFFICER)
        sqlite3_bind_text(lr.st, 8, q->officer, -1, SQLITE_STATIC);
    if (f & F_STATUS)
        sqlite3_bind_text(lr.st, 9, q->status, -1, SQLITE_STATIC);
    lr.c = c;
    lr.limit = q->export_all ? HQ_API_EXPORT_MAX : limit;
    if (!(lr.items = cJSON_CreateArray())) {
        err = BB_ERR_NOMEM;
    } else {
        err = bb_db_exec(c->db, "BEGIN", &eb);
        if (err == BB_OK)
            err = list_step(&lr, &eb);
        bb_db_rollback(c->db);
    }
    sqlite3_finalize(lr.st);
    free(units);
    if (err != BB_OK) {
        cJSON_Delete(lr.items);
        return store_fail(c, res, err, &eb);
    }
    res->truncated = q->export_all && lr.more;
    o = list_answer(&lr);
    cJSON_Delete(lr.items);
    if (o && (!add_text(o, "org", org) || !cJSON_AddBoolToObject(o, "limited", limited))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return ok(res, o);
}

/* ---- drill-down -------------------------------------------------------------------- */

unsigned hq_api_drill(const struct hq_api_ctx *c, const struct hq_api_query *q,
                      struct hq_api_result *res)
{
    const bb_catalog *cat = c->home->cat;
    const struct bb_plan_kpi *k;
    const struct bb_plan_input *in = NULL;
    struct drill_match dm;
    struct list_run lr;
    struct cursor cur;
    const char *org;
    char *units = NULL, path[80], gpath[80], desc[300], pl[BB_PERIOD_LABEL_MAX];
    int limited, limit, f = F_KIND;
    bb_plan *p = NULL;
    bb_period per;
    bb_errbuf eb;
    unsigned st;
    bb_err err;
    cJSON *o = NULL, *io, *dp;

    memset(&lr, 0, sizeof lr);
    memset(&eb, 0, sizeof eb);
    memset(&dm, 0, sizeof dm);
    if (!q->kpi || !param_ok(q->kpi, 40, "_-"))
        return fail(res, 400, "bad_request", "%s", L(c, "kpi: a KPI id of the plan (K1 ... K6)",
                                                       "kpi：計畫的衡量指標代號（K1 … K6）"));
    if (!q->figure || !param_ok(q->figure, 31, "_"))
        return fail(res, 400, "bad_request", "%s",
                    L(c, "figure: numerator, denominator, count, count_1y, ...",
                      "figure：計算依據的名稱（numerator、denominator、count、count_1y …）"));
    if (q->group && !param_ok(q->group, 31, "-_"))
        return fail(res, 400, "bad_request", "%s", L(c, "group: a listed code", "group：列管清單中的代碼"));
    if ((st = parse_period(c, q->period, &per, res)) != 0 ||
        (st = parse_limit(c, q->limit, &limit, res)) != 0 ||
        (st = parse_after(c, q->after, &cur, res)) != 0 ||
        (st = scope_org(c, q->org, 1, &org, &limited, res)) != 0 ||
        (st = load_plan(c, q->plan, &per, &p, res)) != 0)
        return st;
    if (!(k = bb_plan_kpi(p, q->kpi))) {
        st = fail(res, 404, "not_found", L(c, "plan %s has no KPI \"%.40s\"",
                                           "kpi：計畫 %s 沒有衡量指標「%.40s」"), bb_plan_id(p), q->kpi);
        goto out;
    }
    if (strcmp(q->figure, "numerator") == 0)
        in = k->numerator;
    else if (strcmp(q->figure, "denominator") == 0)
        in = k->denominator;
    else if (strncmp(q->figure, "count", 5) == 0 || strcmp(q->figure, "group") == 0)
        in = k->input;
    if (!in) {
        st = fail(res, 400, "bad_request", L(c, "figure \"%.31s\" of %s is not counted from records",
                                             "figure：「%.31s」（%s）不是由紀錄計算的數字"),
                  q->figure, k->id);
        goto out;
    }
    if (q->group && (!in->group_by || !bb_catalog_ref(cat, in->group_by->ref, q->group))) {
        st = fail(res, 400, "bad_request", L(c, "group \"%.31s\" is not a code of this KPI's list",
                                             "group：「%.31s」不是此衡量指標列管清單中的代碼"),
                  q->group);
        goto out;
    }
    if (!org)
        org = limited ? caller_root(c) : NULL;
    dm.in = in;
    dm.from_day = per.from_day;
    dm.to_day = per.to_day;
    dm.group = q->group;
    if (in->time_field) {
        snprintf(path, sizeof path, "$.data.%s", in->time_field->name);
        f |= F_DATA_TIME;
    } else {
        f |= F_TIME;
    }
    if (q->group) {
        snprintf(gpath, sizeof gpath, "$.data.%s", in->group_by->name);
        f |= F_GROUP;
    }
    f |= F_STATUS;
    f |= org_filter(cat, org, &units);
    if (org && !units) {
        st = fail(res, 500, "internal", "out of memory");
        goto out;
    }
    if ((err = prepare_list(c->db, f, &lr.st, &eb)) != BB_OK) {
        st = store_fail(c, res, err, &eb);
        goto out;
    }
    bind_common(lr.st, &cur, units, q->export_all ? HQ_API_EXPORT_MAX : HQ_API_SCAN_MAX);
    sqlite3_bind_text(lr.st, 4, in->kind->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(lr.st, 5, bb_period_from_unix(&per));
    sqlite3_bind_int64(lr.st, 6, bb_period_to_unix(&per));
    sqlite3_bind_text(lr.st, 9, "final", -1, SQLITE_STATIC);
    if (f & F_DATA_TIME)
        sqlite3_bind_text(lr.st, 10, path, -1, SQLITE_STATIC);
    if (f & F_GROUP) {
        sqlite3_bind_text(lr.st, 11, gpath, -1, SQLITE_STATIC);
        sqlite3_bind_text(lr.st, 12, q->group, -1, SQLITE_STATIC);
    }
    lr.c = c;
    lr.plan = p;
    lr.drill = &dm;
    lr.limit = q->export_all ? HQ_API_EXPORT_MAX : limit;
    if (!(lr.items = cJSON_CreateArray())) {
        err = BB_ERR_NOMEM;
    } else {
        err = bb_db_exec(c->db, "BEGIN", &eb);
        if (err == BB_OK)
            err = q->export_all ? run_pages(&lr, 1, &eb) : list_step(&lr, &eb);
        bb_db_rollback(c->db);
    }
    if (err != BB_OK) {
        st = store_fail(c, res, err, &eb);
        goto out;
    }
    res->truncated = q->export_all && lr.more;
    bb_kpi_describe_input(in, desc, sizeof desc);
    if (bb_period_roc_label(&per, pl) != BB_OK)
        pl[0] = '\0';
    if (!(o = list_answer(&lr)) || !add_text(o, "kpi", k->id) ||
        !add_text(o, "kpi_title", bb_label(&k->title, c->lang, k->id)) ||
        !add_text(o, "figure", q->figure) || !add_text(o, "period", per.label) ||
        !add_text(o, "period_roc", pl[0] ? pl : NULL) || !add_text(o, "org", org) ||
        !add_text(o, "group", q->group) || !cJSON_AddBoolToObject(o, "limited", limited) ||
        !(io = cJSON_AddObjectToObject(o, "input")) || !add_text(io, "id", in->id) ||
        !add_text(io, "title", bb_label(&in->title, c->lang, in->id)) ||
        !add_text(io, "counts", desc) || !add_text(io, "kind", in->kind->name) ||
        !add_text(io, "time", in->time_name) || !(dp = add_display(o)) ||
        !add_item(dp, "group", q->group ? hq_display_ref(cat, in->group_by->ref, q->group)
                                        : cJSON_CreateNull()) ||
        !add_item(dp, "org", hq_display_ref(cat, "units", org)) ||
        !add_item(dp, "counts", hq_display_input(cat, in)) ||
        !add_item(dp, "period", hq_display_pair(pl[0] ? pl : per.label, per.label))) {
        cJSON_Delete(o);
        o = NULL;
    }
    st = ok(res, o);
out:
    cJSON_Delete(lr.items);
    sqlite3_finalize(lr.st);
    free(units);
    bb_plan_free(p);
    return st;
}

/* ---- one record -------------------------------------------------------------------- */

/* The batch's bytes checked again now: SHA-256 as stored, and the device signature. */
static cJSON *batch_check(sqlite3 *db, int64_t batch_id, const uint8_t *pub, size_t pub_len)
{
    cJSON *o = cJSON_CreateObject();
    sqlite3_stmt *st = NULL;
    struct bb_batch_view view;
    bb_sign_key *key = NULL;
    char sha[BB_SHA256_HEX];
    const char *result = "not_checked";
    int rc;

    if (!o)
        return NULL;
    if (bb_db_prepare(db, "SELECT length(bytes), sha256 FROM batches WHERE id = ?1", &st,
                      NULL) != BB_OK)
        goto done;
    sqlite3_bind_int64(st, 1, batch_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW || (size_t)sqlite3_column_int64(st, 0) > VERIFY_MAX_BYTES) {
        result = rc == SQLITE_ROW ? "too_large_to_check_here" : "not_checked";
        goto done;
    }
    sqlite3_finalize(st);
    if (bb_db_prepare(db, "SELECT bytes, sha256 FROM batches WHERE id = ?1", &st, NULL) != BB_OK)
        goto done;
    sqlite3_bind_int64(st, 1, batch_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto done;
    {
        const uint8_t *bytes = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        const char *stored = (const char *)sqlite3_column_text(st, 1);
        bb_sha256_hex(bytes, len, sha);
        if (!stored || strcmp(stored, sha) != 0)
            result = "sha256_mismatch";
        else if (!pub || bb_sign_pub_import_der(&key, pub, pub_len, NULL) != BB_OK)
            result = "no_device_key";
        else if (bb_batch_parse(bytes, len, &view, NULL) != BB_OK ||
                 bb_batch_verify(&view, key, NULL) != BB_OK)
            result = "bad_signature";
        else
            result = "verified";
    }
done:
    sqlite3_finalize(st);
    bb_sign_key_free(key);
    if (!add_text(o, "result", result) ||
        !cJSON_AddBoolToObject(o, "verified", strcmp(result, "verified") == 0) ||
        !add_text(o, "algorithm", "ECDSA P-256 over SHA-256 of the sealed batch")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

unsigned hq_api_record(const struct hq_api_ctx *c, const char *id, struct hq_api_result *res)
{
    struct hq_device dev;
    sqlite3_stmt *st = NULL;
    bb_errbuf eb;
    cJSON *o = NULL, *revs, *body = NULL, *quar;
    const cJSON *prev = NULL;
    char unit[32] = "", device[80] = "";
    int64_t cur_batch = 0, cur_rev = 0;
    int rc, have_dev = 0;
    unsigned status;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(&dev, 0, sizeof dev);
    if (!param_ok(id, 64, "-"))
        return fail(res, 400, "bad_request", "%s", L(c, "not a record id", "不是紀錄編號"));
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) != BB_OK)
        return store_fail(c, res, err, &eb);
    if ((err = bb_db_prepare(c->db, "SELECT " REC_COLS " FROM records r WHERE r.id = ?1", &st,
                             &eb)) != BB_OK)
        goto store;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        hq_col_text(st, 5, unit, sizeof unit);
        hq_col_text(st, 9, device, sizeof device);
    }
    if (rc != SQLITE_ROW || !in_scope(c, unit)) {
        sqlite3_finalize(st);
        bb_db_rollback(c->db);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(c, res, bb_db_err(c->db, rc, "read records", &eb), &eb);
        return fail(res, 404, "not_found", "%s", L(c, "no such record", "查無此紀錄"));
    }
    body = cJSON_Parse((const char *)sqlite3_column_text(st, 11));
    cur_batch = sqlite3_column_int64(st, 12);
    cur_rev = sqlite3_column_int64(st, 3);
    if (!(o = cJSON_CreateObject()) ||
        !cJSON_AddItemToObject(o, "record", record_item(c, st, body)) ||
        !cJSON_AddItemToObject(o, "body", body ? body : cJSON_CreateNull())) {
        body = NULL;
        goto oom;
    }
    body = NULL;
    sqlite3_finalize(st);
    st = NULL;
    {
        /* The files the current revision names: held (with EXIF) or on their way. */
        cJSON *att;
        if ((err = hq_attview_record(c->db, c->home->cat, id, cur_rev,
                                     cJSON_GetObjectItem(o, "body"), &att, &eb)) != BB_OK)
            goto store;
        if (!cJSON_AddItemToObject(o, "attachments", att)) {
            cJSON_Delete(att);
            goto oom;
        }
    }

    if ((err = hq_device_get(c->db, device, &dev, &eb)) == BB_OK)
        have_dev = 1;
    else if (err != BB_ERR_NOTFOUND)
        goto store;
    {
        cJSON *d = cJSON_AddObjectToObject(o, "device"), *dp;
        if (!d || !add_text(d, "id", device) ||
            (have_dev && (!add_unit(c, d, "org_unit", dev.org_unit) ||
                          !add_text(d, "label", dev.label) ||
                          !add_text(d, "status", hq_device_status_name(dev.status)) ||
                          !add_text(d, "device_key", dev.device_key[0] ? dev.device_key : NULL) ||
                          !add_text(d, "registered_at",
                                    dev.registered_at[0] ? dev.registered_at : NULL) ||
                          !(dp = add_display(d)) ||
                          !add_item(dp, "org_unit",
                                    hq_display_ref(c->home->cat, "units", dev.org_unit)) ||
                          !add_item(dp, "status",
                                    hq_display_device_status(hq_device_status_name(dev.status))) ||
                          !add_item(dp, "registered_at", hq_display_time(
                                    dev.registered_at[0] ? dev.registered_at : NULL)))))
            goto oom;
    }

    if ((err = bb_db_prepare(c->db, "SELECT v.rev, v.body, b.id, b.seq, b.sha256, b.received_at, "
                             "b.source, b.receipt, b.created_at, b.count FROM revisions v "
                             "JOIN batches b ON b.id = v.batch_id WHERE v.id = ?1 ORDER BY v.rev",
                             &st, &eb)) != BB_OK)
        goto store;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (!(revs = cJSON_AddArrayToObject(o, "revisions")))
        goto oom;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject(), *b, *chk, *bd, *rd;
        cJSON *rb = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
        cJSON *receipt = sqlite3_column_text(st, 7)
                         ? cJSON_Parse((const char *)sqlite3_column_text(st, 7)) : NULL;
        int64_t bid = sqlite3_column_int64(st, 2);
        if (!r || !cJSON_AddItemToArray(revs, r)) {
            cJSON_Delete(r);
            cJSON_Delete(rb);
            cJSON_Delete(receipt);
            goto oom;
        }
        if (!add_int(r, "rev", sqlite3_column_int64(st, 0)) ||
            !cJSON_AddItemToObject(r, "body", rb ? rb : cJSON_CreateNull()) ||
            !(rd = add_item(r, "display", hq_display_record(c->home->cat, rb))
                   ? cJSON_GetObjectItem(r, "display") : NULL) ||
            !add_item(rd, "changes", hq_display_changes(c->home->cat, prev, rb))) {
            cJSON_Delete(receipt);
            goto oom;
        }
        prev = rb;             /* owned by o, which outlives the loop */
        chk = batch_check(c->db, bid, have_dev ? dev.pub : NULL, have_dev ? dev.pub_len : 0);
        if (!(b = cJSON_AddObjectToObject(r, "batch")) || !add_int(b, "seq",
                                                                 sqlite3_column_int64(st, 3)) ||
            !add_col_text(b, "sha256", st, 4) || !add_col_text(b, "received_at", st, 5) ||
            !add_col_text(b, "source", st, 6) || !add_col_text(b, "created_at", st, 8) ||
            !add_int(b, "count", sqlite3_column_int64(st, 9)) ||
            !cJSON_AddBoolToObject(b, "current", bid == cur_batch) ||
            !cJSON_AddItemToObject(b, "receipt", receipt ? receipt : cJSON_CreateNull()) ||
            !cJSON_AddItemToObject(b, "signature", chk) || !(bd = add_display(b)) ||
            !add_item(bd, "received_at", hq_display_time(bb_json_str(b, "received_at"))) ||
            !add_item(bd, "created_at", hq_display_time(bb_json_str(b, "created_at"))) ||
            !add_item(bd, "source", hq_display_source(bb_json_str(b, "source")))) {
            goto oom;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        err = bb_db_err(c->db, rc, "read revisions", &eb);
        goto store;
    }

    /* Revisions of this record that were rejected. */
    if ((err = bb_db_prepare(c->db, "SELECT q.id, q.record_rev, q.reason, b.seq FROM "
                             "quarantined_records q JOIN batches b ON b.id = q.batch_id "
                             "WHERE q.record_id = ?1 ORDER BY q.id", &st, &eb)) != BB_OK)
        goto store;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (!(quar = cJSON_AddArrayToObject(o, "quarantined")))
        goto oom;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *qo = cJSON_CreateObject();
        if (!qo || !cJSON_AddItemToArray(quar, qo) ||
            !add_int(qo, "id", sqlite3_column_int64(st, 0)) ||
            !add_int(qo, "rev", sqlite3_column_int64(st, 1)) ||
            !add_col_text(qo, "reason", st, 2) || !add_int(qo, "batch_seq",
                                                          sqlite3_column_int64(st, 3))) {
            cJSON_Delete(qo);
            goto oom;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    bb_db_rollback(c->db);
    hq_device_clear(&dev);
    return ok(res, o);
oom:
    err = BB_ERR_NOMEM;
store:
    status = store_fail(c, res, err, &eb);
    sqlite3_finalize(st);
    bb_db_rollback(c->db);
    cJSON_Delete(body);
    cJSON_Delete(o);
    hq_device_clear(&dev);
    return status;
}

/* ---- devices ------------------------------------------------------------------------ */

/* The seqs missing below the highest received: [[from, to], ...]. */
static bb_err missing_seqs(sqlite3_stmt *st, const char *device, cJSON *out, int64_t *count,
                           bb_errbuf *eb)
{
    int rc;

    *count = 0;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
        cJSON *p = cJSON_CreateArray();
        if (!p || !cJSON_AddItemToArray(out, p) ||
            !cJSON_AddItemToArray(p, cJSON_CreateNumber((double)a)) ||
            !cJSON_AddItemToArray(p, cJSON_CreateNumber((double)b))) {
            reset(st);
            return bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
        }
        *count += b - a + 1;
    }
    reset(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(sqlite3_db_handle(st), rc, "read batches", eb);
}

/* A device's "display": its unit, status and times as the Devices page shows them. */
static int device_display(const bb_catalog *cat, cJSON *d)
{
    static const char *const times[] = {"last_contact", "last_batch_at", "enrolled_at",
                                        "registered_at", "revoked_at", NULL};
    cJSON *dp = add_display(d);
    size_t i;

    if (!dp ||
        !add_item(dp, "org_unit", hq_display_ref(cat, "units", bb_json_str(d, "org_unit"))) ||
        !add_item(dp, "status", hq_display_device_status(bb_json_str(d, "status"))))
        return 0;
    for (i = 0; times[i]; i++)
        if (!add_item(dp, times[i], hq_display_time(bb_json_str(d, times[i]))))
            return 0;
    return 1;
}

bb_err hq_api_devices(sqlite3 *db, const bb_catalog *cat, const char *org, enum bb_lang lang,
                      cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL, *gaps = NULL;
    cJSON *o, *items;
    int64_t now = bb_time_now(), today = bb_taipei_day(now);
    bb_err err;
    int rc;

    *out = NULL;
    if (!(o = cJSON_CreateObject()) || !(items = cJSON_AddArrayToObject(o, "items")) ||
        !add_text(o, "org", org) || !cJSON_AddBoolToObject(o, "pending_reported", 0) ||
        !add_text(o, "pending_note",
                  lang == BB_LANG_EN
                  ? "Laptops do not report their unsent records to HQ yet; shown are HQ's own "
                    "facts: last contact, batches received and missing. Run `beatbook status` "
                    "on a laptop for its outbox."
                  : "筆電尚未向總部回報未送出的紀錄；此處為總部所知：最後聯繫、已收批次與缺漏批次。"
                    "筆電的待送紀錄請在該筆電執行 `beatbook status`。")) {
        cJSON_Delete(o);
        return bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
    }
    if ((err = bb_db_prepare(db,
            "SELECT d.id, d.org_unit, d.label, d.status, d.last_contact, d.enrolled_at, "
            "  d.registered_at, d.revoked_at, d.revoke_reason, d.device_key, "
            "  (SELECT count(*) FROM batches b WHERE b.device = d.id), "
            "  (SELECT max(b.seq) FROM batches b WHERE b.device = d.id), "
            "  (SELECT max(b.received_at) FROM batches b WHERE b.device = d.id), "
            "  (SELECT coalesce(sum(b.count), 0) FROM batches b WHERE b.device = d.id), "
            "  (SELECT count(*) FROM quarantined_records q JOIN batches b ON b.id = q.batch_id"
            "    WHERE b.device = d.id), "
            "  (SELECT count(*) FROM quarantined_records q JOIN batches b ON b.id = q.batch_id"
            "    WHERE b.device = d.id AND NOT EXISTS (SELECT 1 FROM quarantine_actions a"
            "    WHERE a.item = 'record' AND a.item_id = q.id)), "
            "  (SELECT count(*) FROM quarantined_batches q WHERE q.device = d.id), "
            "  (SELECT count(*) FROM records r WHERE r.device = d.id) "
            "FROM devices d ORDER BY d.org_unit, d.label, d.id", &st, eb)) != BB_OK ||
        (err = bb_db_prepare(db,
            "SELECT seq + 1, nxt - 1 FROM (SELECT 0 AS seq, min(seq) AS nxt FROM batches "
            "  WHERE device = ?1 UNION ALL SELECT seq, lead(seq) OVER (ORDER BY seq) FROM "
            "  batches WHERE device = ?1) WHERE nxt > seq + 1 ORDER BY seq", &gaps, eb)) != BB_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char id[80], unit[32], contact[40];
        cJSON *d, *miss;
        int64_t nmiss, t = 0, last_seq;
        int late;
        hq_col_text(st, 0, id, sizeof id);
        hq_col_text(st, 1, unit, sizeof unit);
        hq_col_text(st, 4, contact, sizeof contact);
        if (org && !bb_catalog_unit_within(cat, unit, org))
            continue;
        if (contact[0])
            bb_time_parse(contact, &t, NULL, NULL);
        late = !contact[0] || now - t > LATE_AFTER_S;
        last_seq = sqlite3_column_int64(st, 11);
        if (!(d = cJSON_CreateObject()) || !cJSON_AddItemToArray(items, d) ||
            !add_text(d, "id", id) || !add_unit_in(cat, lang, d, "org_unit", unit) ||
            !add_col_text(d, "label", st, 2) || !add_col_text(d, "status", st, 3) ||
            !add_text(d, "last_contact", contact[0] ? contact : NULL) ||
            !cJSON_AddBoolToObject(d, "contact_today", contact[0] && bb_taipei_day(t) == today) ||
            !cJSON_AddBoolToObject(d, "late", late) ||
            !add_col_text(d, "enrolled_at", st, 5) || !add_col_text(d, "registered_at", st, 6) ||
            !add_col_text(d, "revoked_at", st, 7) || !add_col_text(d, "revoke_reason", st, 8) ||
            !add_col_text(d, "device_key", st, 9) ||
            !add_int(d, "batches", sqlite3_column_int64(st, 10)) ||
            !(last_seq ? add_int(d, "last_seq", last_seq) : add_text(d, "last_seq", NULL)) ||
            !add_col_text(d, "last_batch_at", st, 12) ||
            !add_int(d, "records_sent", sqlite3_column_int64(st, 13)) ||
            !add_int(d, "rejected_records", sqlite3_column_int64(st, 14)) ||
            !add_int(d, "rejected_open", sqlite3_column_int64(st, 15)) ||
            !add_int(d, "quarantined_batches", sqlite3_column_int64(st, 16)) ||
            !add_int(d, "records_held", sqlite3_column_int64(st, 17)) ||
            !cJSON_AddNullToObject(d, "pending") ||
            !(miss = cJSON_AddArrayToObject(d, "missing")) || !device_display(cat, d)) {
            err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
            goto fail;
        }
        if ((err = missing_seqs(gaps, id, miss, &nmiss, eb)) != BB_OK ||
            !add_int(d, "missing_count", nmiss)) {
            if (err == BB_OK)
                err = bb_fail(eb, BB_ERR_NOMEM, "devices: out of memory");
            goto fail;
        }
        /* Files its records name that have not reached HQ yet. */
        if ((err = hq_attview_device_missing(db, id, d, eb)) != BB_OK)
            goto fail;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read devices", eb);
        goto fail;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(gaps);
    st = gaps = NULL;
    /* Laptops' status reports: unsent work, open drafts, stale first (hq_status.h). */
    if ((err = hq_status_annotate(db, cat, lang, o, eb)) != BB_OK)
        goto fail;
    *out = o;
    return BB_OK;
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(gaps);
    cJSON_Delete(o);
    return err;
}

unsigned hq_api_devices_get(const struct hq_api_ctx *c, const struct hq_api_query *q,
                            struct hq_api_result *res)
{
    const char *org;
    int limited;
    unsigned st;
    bb_errbuf eb;
    bb_err err;
    cJSON *o = NULL;

    memset(&eb, 0, sizeof eb);
    if ((st = scope_org(c, q->org, 1, &org, &limited, res)) != 0)
        return st;
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) == BB_OK)
        err = hq_api_devices(c->db, c->home->cat, org, c->lang, &o, &eb);
    bb_db_rollback(c->db);
    if (err != BB_OK)
        return store_fail(c, res, err, &eb);
    if (!cJSON_AddBoolToObject(o, "limited", limited)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return ok(res, o);
}

/* ---- quarantine ---------------------------------------------------------------------- */

static int add_action(cJSON *o, sqlite3_stmt *st, int col)
{
    cJSON *a, *dp;

    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return cJSON_AddNullToObject(o, "action") != NULL;
    return (a = cJSON_AddObjectToObject(o, "action")) && add_col_text(a, "action", st, col) &&
           add_col_text(a, "user", st, col + 1) && add_col_text(a, "at", st, col + 2) &&
           add_col_text(a, "note", st, col + 3) && (dp = add_display(a)) &&
           add_item(dp, "action", hq_display_action(bb_json_str(a, "action"))) &&
           add_item(dp, "at", hq_display_time(bb_json_str(a, "at")));
}

/* The display of a quarantined item: its record's (when it has one), the device's
 * unit and when it came. */
static int quarantine_display(const bb_catalog *cat, cJSON *it, const cJSON *body)
{
    cJSON *dp;

    if (body && !add_item(it, "display", hq_display_record(cat, body)))
        return 0;
    return (dp = add_display(it)) &&
           add_item(dp, "device_unit",
                    hq_display_ref(cat, "units", bb_json_str(it, "device_unit"))) &&
           add_item(dp, "received_at", hq_display_time(bb_json_str(it, "received_at"))) &&
           (!cJSON_GetObjectItem(it, "source") ||
            add_item(dp, "source", hq_display_source(bb_json_str(it, "source"))));
}

unsigned hq_api_quarantine(const struct hq_api_ctx *c, const struct hq_api_query *q,
                           struct hq_api_result *res)
{
    sqlite3_stmt *st = NULL;
    const char *org;
    int limited, limit, open_only = 1, rc;
    int64_t after = INT64_MAX;
    size_t n = 0;
    bb_errbuf eb;
    unsigned status;
    bb_err err;
    cJSON *o = NULL, *items, *batches;
    char *end;

    memset(&eb, 0, sizeof eb);
    if ((status = scope_org(c, q->org, 1, &org, &limited, res)) != 0 ||
        (status = parse_limit(c, q->limit, &limit, res)) != 0)
        return status;
    if (q->state && strcmp(q->state, "all") == 0)
        open_only = 0;
    else if (q->state && strcmp(q->state, "open") != 0)
        return fail(res, 400, "bad_request", "%s", L(c, "state: open or all", "state：未處理或全部"));
    if (q->after) {
        errno = 0;
        after = strtoll(q->after, &end, 10);
        if (!param_ok(q->after, 19, NULL) || errno || *end || after < 1)
            return fail(res, 400, "bad_request", "%s", L(c, "after: not a cursor this server gave out",
                                                   "after：不是本伺服器提供的分頁位置"));
    }
    if (q->export_all)
        limit = HQ_API_EXPORT_MAX;
    if (!(o = cJSON_CreateObject()) || !(items = cJSON_AddArrayToObject(o, "items")) ||
        !(batches = cJSON_AddArrayToObject(o, "batches")) || !add_text(o, "org", org) ||
        !cJSON_AddBoolToObject(o, "limited", limited) ||
        !add_text(o, "state", open_only ? "open" : "all"))
        goto oom;
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) != BB_OK)
        goto store;
    /* Scope is the device's unit: its precinct owns what it sent. */
    if ((err = bb_db_prepare(c->db,
            "SELECT q.id, q.record_index, q.record_id, q.record_rev, q.reason, q.body, "
            "  b.device, b.seq, b.received_at, d.org_unit, "
            "  a.action, a.user_name, a.at, a.note "
            "FROM quarantined_records q JOIN batches b ON b.id = q.batch_id "
            "JOIN devices d ON d.id = b.device "
            "LEFT JOIN quarantine_actions a ON a.item = 'record' AND a.item_id = q.id "
            "WHERE q.id < ?1 AND (?2 = 0 OR a.id IS NULL) ORDER BY q.id DESC", &st, &eb)) != BB_OK)
        goto store;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, open_only);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char unit[32];
        const char *btext = (const char *)sqlite3_column_text(st, 5);
        cJSON *it, *body;
        hq_col_text(st, 9, unit, sizeof unit);
        if ((org && !bb_catalog_unit_within(c->home->cat, unit, org)) || !in_scope(c, unit))
            continue;
        if (n >= (size_t)limit) {
            char next[24];
            snprintf(next, sizeof next, "%" PRId64, after);
            if (!add_text(o, "next", next))
                goto oom;
            break;
        }
        after = sqlite3_column_int64(st, 0);
        body = btext ? cJSON_Parse(btext) : NULL;
        if (!(it = cJSON_CreateObject()) || !cJSON_AddItemToArray(items, it) ||
            !add_int(it, "id", after) || !add_int(it, "record_index", sqlite3_column_int64(st, 1)) ||
            !add_col_text(it, "record_id", st, 2) ||
            !add_int(it, "rev", sqlite3_column_int64(st, 3)) ||
            !add_col_text(it, "reason", st, 4) || !add_col_text(it, "device", st, 6) ||
            !add_int(it, "batch_seq", sqlite3_column_int64(st, 7)) ||
            !add_col_text(it, "received_at", st, 8) || !add_unit(c, it, "device_unit", unit) ||
            !add_text(it, "kind", body ? bb_json_str(body, "kind") : NULL) ||
            !add_text(it, "org_unit", body ? bb_json_str(body, "org_unit") : NULL) ||
            !add_text(it, "occurred_at", body ? bb_json_str(body, "occurred_at") : NULL) ||
            !cJSON_AddItemToObject(it, "body", body ? body : cJSON_CreateNull()) ||
            !add_action(it, st, 10) || !quarantine_display(c->home->cat, it, body))
            goto oom;
        n++;
    }
    if (!cJSON_GetObjectItem(o, "next") && !add_text(o, "next", NULL))
        goto oom;
    sqlite3_finalize(st);
    st = NULL;
    if ((err = bb_db_prepare(c->db,
            "SELECT q.id, q.device, q.seq, q.batch, q.sha256, q.received_at, q.source, q.reason, "
            "  length(q.bytes), d.org_unit, a.action, a.user_name, a.at, a.note "
            "FROM quarantined_batches q JOIN devices d ON d.id = q.device "
            "LEFT JOIN quarantine_actions a ON a.item = 'batch' AND a.item_id = q.id "
            "WHERE (?1 = 0 OR a.id IS NULL) ORDER BY q.id DESC LIMIT 1000", &st, &eb)) != BB_OK)
        goto store;
    sqlite3_bind_int(st, 1, open_only);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char unit[32];
        cJSON *it;
        hq_col_text(st, 9, unit, sizeof unit);
        if ((org && !bb_catalog_unit_within(c->home->cat, unit, org)) || !in_scope(c, unit))
            continue;
        if (!(it = cJSON_CreateObject()) || !cJSON_AddItemToArray(batches, it) ||
            !add_int(it, "id", sqlite3_column_int64(st, 0)) || !add_col_text(it, "device", st, 1) ||
            !add_int(it, "seq", sqlite3_column_int64(st, 2)) || !add_col_text(it, "batch", st, 3) ||
            !add_col_text(it, "sha256", st, 4) || !add_col_text(it, "received_at", st, 5) ||
            !add_col_text(it, "source", st, 6) || !add_col_text(it, "reason", st, 7) ||
            !add_int(it, "bytes", sqlite3_column_int64(st, 8)) ||
            !add_unit(c, it, "device_unit", unit) || !add_action(it, st, 10) ||
            !quarantine_display(c->home->cat, it, NULL))
            goto oom;
    }
    sqlite3_finalize(st);
    bb_db_rollback(c->db);
    if (!add_int(o, "count", (int64_t)n))
        goto oom_nost;
    return ok(res, o);
oom:
    err = BB_ERR_NOMEM;
store:
    sqlite3_finalize(st);
    bb_db_rollback(c->db);
    cJSON_Delete(o);
    return store_fail(c, res, err, &eb);
oom_nost:
    cJSON_Delete(o);
    return fail(res, 500, "internal", "out of memory");
}

/* Validate a quarantined revision again as a merge would and merge it; *why gets the
 * reason when it still does not pass (nothing written then). */
static bb_err release_record(const struct hq_api_ctx *c, int64_t batch_id, const char *device,
                             const char *text, char *why, size_t why_size, bb_errbuf *eb)
{
    const bb_catalog *cat = c->home->cat;
    struct hq_device dev;
    struct hq_facts *facts = NULL;
    sqlite3_stmt *st = NULL;
    cJSON *rec = NULL;
    const char *id, *kind, *unit, *status, *occurred;
    char *canon = NULL, *old_body = NULL, cur_device[80] = "", cur_kind[64] = "";
    int64_t rev, cur_rev = 0, occurred_unix;
    bb_errbuf sub;
    int rc, have = 0;
    bb_err err = BB_OK;

    why[0] = '\0';
    memset(&dev, 0, sizeof dev);
    memset(&sub, 0, sizeof sub);
    if (!text || !(rec = cJSON_Parse(text)) || !cJSON_IsObject(rec)) {
        snprintf(why, why_size, "the stored revision is not a JSON object");
        goto out;
    }
    if (bb_record_validate(cat, rec, c->lang, &sub) != BB_OK) {
        snprintf(why, why_size, "%s", sub.msg);
        goto out;
    }
    id = bb_json_str(rec, "id");
    kind = bb_json_str(rec, "kind");
    unit = bb_json_str(rec, "org_unit");
    status = bb_json_str(rec, "status");
    occurred = bb_json_str(rec, "occurred_at");
    rev = (int64_t)cJSON_GetObjectItemCaseSensitive(rec, "rev")->valuedouble;
    if (strcmp(status, "draft") == 0) {
        snprintf(why, why_size, "a draft is never merged");
        goto out;
    }
    if (strcmp(bb_json_str(rec, "device"), device) != 0) {
        snprintf(why, why_size, "the record names device %.80s, but its batch came from %s",
                 bb_json_str(rec, "device"), device);
        goto out;
    }
    if ((err = hq_device_get(c->db, device, &dev, eb)) != BB_OK)
        goto out;
    if (!bb_catalog_unit_within(cat, unit, hq_merge_scope(cat, dev.org_unit))) {
        snprintf(why, why_size, "org unit %s is outside the device's precinct %s", unit,
                 hq_merge_scope(cat, dev.org_unit));
        goto out;
    }
    if (bb_time_parse(occurred, &occurred_unix, NULL, NULL) != BB_OK) {
        snprintf(why, why_size, "occurred_at does not parse");
        goto out;
    }
    if (!(canon = bb_json_canonical(rec))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "release: out of memory");
        goto out;
    }
    if ((err = bb_db_prepare(c->db, "SELECT body FROM revisions WHERE id = ?1 AND rev = ?2",
                             &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rev);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_ROW) {
        snprintf(why, why_size, "revision %" PRId64 " of record %s is already merged "
                 "(mark this one reviewed)", rev, id);
        goto out;
    }
    if ((err = bb_db_prepare(c->db, "SELECT device, kind, rev, body FROM records WHERE id = ?1",
                             &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        have = 1;
        hq_col_text(st, 0, cur_device, sizeof cur_device);
        hq_col_text(st, 1, cur_kind, sizeof cur_kind);
        cur_rev = sqlite3_column_int64(st, 2);
        if (rev > cur_rev && sqlite3_column_text(st, 3) &&
            !(old_body = strdup((const char *)sqlite3_column_text(st, 3)))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "release: out of memory");
            goto out;
        }
    } else if (rc != SQLITE_DONE) {
        err = bb_db_err(c->db, rc, "read records", eb);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (have && strcmp(cur_device, device) != 0) {
        snprintf(why, why_size, "record %s was created by another device", id);
        goto out;
    }
    if (have && strcmp(cur_kind, kind) != 0) {
        snprintf(why, why_size, "record %s is a %s, not a %s", id, cur_kind, kind);
        goto out;
    }
    if (!have || rev > cur_rev) {
        if ((err = hq_facts_begin(c->db, cat, &facts, eb)) != BB_OK ||
            (err = hq_facts_change(facts, old_body, rec, eb)) != BB_OK ||
            (err = hq_facts_flush(facts, eb)) != BB_OK)
            goto out;
        if ((err = bb_db_prepare(c->db, have
                ? "UPDATE records SET device = ?2, kind = ?3, rev = ?4, status = ?5, "
                  "org_unit = ?6, officer = ?7, occurred_at = ?8, occurred_unix = ?9, "
                  "recorded_at = ?10, batch_id = ?11, body = ?12 WHERE id = ?1"
                : "INSERT INTO records (id, device, kind, rev, status, org_unit, officer, "
                  "occurred_at, occurred_unix, recorded_at, batch_id, body) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &st, eb)) != BB_OK)
            goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, rev);
        sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, unit, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, bb_json_str(rec, "officer"), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, occurred, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, occurred_unix);
        sqlite3_bind_text(st, 10, bb_json_str(rec, "recorded_at"), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, batch_id);
        sqlite3_bind_text(st, 12, canon, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
            err = bb_db_err(c->db, rc, "store the record", eb);
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if ((err = bb_db_prepare(c->db, "INSERT INTO revisions (id, rev, batch_id, body) "
                             "VALUES (?1, ?2, ?3, ?4)", &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rev);
    sqlite3_bind_int64(st, 3, batch_id);
    sqlite3_bind_text(st, 4, canon, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        err = bb_db_err(c->db, rc, "store the revision", eb);
    else    /* the files it names, as every merge path notes them */
        err = hq_attach_link_revision(c->db, cat, rec, eb);
out:
    sqlite3_finalize(st);
    hq_facts_end(facts);
    hq_device_clear(&dev);
    cJSON_Delete(rec);
    free(canon);
    free(old_body);
    return err;
}

unsigned hq_api_quarantine_act(const struct hq_api_ctx *c, const char *item, int64_t id,
                               const char *action, const char *note,
                               struct hq_api_result *res)
{
    int is_record = strcmp(item, "records") == 0, release = strcmp(action, "release") == 0;
    sqlite3_stmt *st = NULL;
    char unit[32] = "", device[80] = "", body_id[80] = "", why[1100], now[BB_TIME_MAX];
    char detail[400], *text = NULL;
    int64_t batch_id = 0, rev = 0;
    bb_errbuf eb;
    unsigned status;
    bb_err err;
    int rc;
    cJSON *o;

    memset(&eb, 0, sizeof eb);
    if (c->user->role != HQ_ROLE_HQ)
        return fail(res, 403, "forbidden", "%s", L(c, "only an HQ reviewer may act on quarantine",
                                                   "只有總部審查人員可以處理隔離區"));
    if (!is_record && strcmp(item, "batches") != 0)
        return fail(res, 404, "not_found", "%s", L(c, "no such quarantine list", "沒有這個隔離清單"));
    if (!release && strcmp(action, "review") != 0)
        return fail(res, 404, "not_found", "%s", L(c, "actions: release, review",
                                                  "處理方式只有 release（釋出）或 review（審查）"));
    if (release && !is_record)
        return fail(res, 400, "bad_request", "%s",
                    L(c, "a batch of a revoked device is never merged; mark it reviewed",
                      "已撤銷裝置的批次不會被合併；請標示為已審查"));
    if (note && (bb_utf8_length(note) < 0 || bb_utf8_length(note) > HQ_API_NOTE_MAX))
        return fail(res, 400, "bad_request", L(c, "note: at most %d characters of text",
                                                "note：備註最多 %d 個字"),
                    HQ_API_NOTE_MAX);
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return fail(res, 500, "internal", "cannot read the clock");
    if ((err = bb_db_begin(c->db, &eb)) != BB_OK)
        return store_fail(c, res, err, &eb);
    if ((err = bb_db_prepare(c->db, is_record
            ? "SELECT q.batch_id, b.device, d.org_unit, q.body, q.record_id, q.record_rev, "
              "  (SELECT a.action FROM quarantine_actions a WHERE a.item = 'record' AND "
              "   a.item_id = q.id) FROM quarantined_records q JOIN batches b ON "
              "  b.id = q.batch_id JOIN devices d ON d.id = b.device WHERE q.id = ?1"
            : "SELECT 0, q.device, d.org_unit, NULL, q.batch, q.seq, "
              "  (SELECT a.action FROM quarantine_actions a WHERE a.item = 'batch' AND "
              "   a.item_id = q.id) FROM quarantined_batches q JOIN devices d ON "
              "  d.id = q.device WHERE q.id = ?1", &st, &eb)) != BB_OK)
        goto store;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        bb_db_rollback(c->db);
        if (rc != SQLITE_DONE)
            return store_fail(c, res, bb_db_err(c->db, rc, "read quarantine", &eb), &eb);
        return fail(res, 404, "not_found", "%s", L(c, "no such quarantined item",
                                                   "隔離區中沒有此項目"));
    }
    batch_id = sqlite3_column_int64(st, 0);
    hq_col_text(st, 1, device, sizeof device);
    hq_col_text(st, 2, unit, sizeof unit);
    if (sqlite3_column_text(st, 3) && !(text = strdup((const char *)sqlite3_column_text(st, 3)))) {
        err = BB_ERR_NOMEM;
        goto store;
    }
    hq_col_text(st, 4, body_id, sizeof body_id);
    rev = sqlite3_column_int64(st, 5);
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
        char done[20];
        hq_col_text(st, 6, done, sizeof done);
        sqlite3_finalize(st);
        bb_db_rollback(c->db);
        free(text);
        return fail(res, 409, "already_done", "%s %s",
                    L(c, "this item was already acted on:", "此項目已處理："), done);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (release) {
        if ((err = release_record(c, batch_id, device, text, why, sizeof why, &eb)) != BB_OK)
            goto store;
        if (why[0]) {
            bb_db_rollback(c->db);
            free(text);
            return fail(res, 409, "still_invalid", "%s %s",
                        L(c, "it still does not pass; nothing was merged:",
                          "仍未通過檢查，未合併："), why);
        }
    }
    if ((err = bb_db_prepare(c->db, "INSERT INTO quarantine_actions (item, item_id, action, "
                             "user_name, at, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st,
                             &eb)) != BB_OK)
        goto store;
    sqlite3_bind_text(st, 1, is_record ? "record" : "batch", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_text(st, 3, release ? "released" : "reviewed", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->user->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, note ? note : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        err = bb_db_err(c->db, rc, "store the action", &eb);
        goto store;
    }
    snprintf(detail, sizeof detail, "user=%s %s=%" PRId64 " %s=%s %s=%" PRId64, c->user->name,
             is_record ? "quarantined_record" : "quarantined_batch", id,
             is_record ? "record" : "batch", body_id[0] ? body_id : "?",
             is_record ? "rev" : "seq", rev);
    if ((err = hq_audit(c->db, "web", release ? "quarantine_release" : "quarantine_review",
                        device, detail, &eb)) != BB_OK ||
        (err = bb_db_commit(c->db, &eb)) != BB_OK)
        goto store;
    free(text);
    if (!(o = cJSON_CreateObject()) || !add_text(o, "item", is_record ? "record" : "batch") ||
        !add_int(o, "id", id) || !add_text(o, "action", release ? "released" : "reviewed") ||
        !add_text(o, "user", c->user->name) || !add_text(o, "at", now) ||
        (is_record && !add_text(o, "record_id", body_id[0] ? body_id : NULL))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return ok(res, o);
store:
    status = store_fail(c, res, err, &eb);
    sqlite3_finalize(st);
    bb_db_rollback(c->db);
    free(text);
    return status;
}

/* ---- CSV ------------------------------------------------------------------------------ */

struct buf {
    char *p;
    size_t n, cap;
    int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 8192;
        char *np;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (!(np = realloc(b->p, cap))) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/*
 * A plain decimal number after a minus sign: 12, 3.5, 0.5% — a spreadsheet
 * reads "-0.5%" as a number, while "-1+2" or "-A1" would be a formula.
 */
static int plain_number(const char *s)
{
    int digits = 0;

    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (*s == '%')
        s++;
    return digits > 0 && *s == '\0';
}

/* Whether a spreadsheet would execute the cell: it starts with = + @, a tab
 * or a CR, or with a '-' that is not a plain negative number. */
static int formula_like(const char *s)
{
    if (!s)
        return 0;
    if (*s == '=' || *s == '+' || *s == '@' || *s == '\t' || *s == '\r')
        return 1;
    return *s == '-' && !plain_number(s + 1);
}

/* One cell: quoted, quotes doubled, formula starts neutralised. */
static void cell(struct buf *b, const char *s, int first)
{
    const char *q;

    if (!first)
        put(b, ",", 1);
    put(b, "\"", 1);
    if (formula_like(s))
        put(b, "'", 1);
    for (q = s; q && *q; q++) {
        if (*q == '"')
            put(b, "\"\"", 2);
        else
            put(b, q, 1);
    }
    put(b, "\"", 1);
}

/* A value as cell text: strings as they are, numbers plainly, objects as JSON. */
static void value_cell(struct buf *b, const cJSON *v, int first)
{
    char num[64], *text;

    if (!v || cJSON_IsNull(v)) {
        cell(b, "", first);
    } else if (cJSON_IsString(v)) {
        cell(b, v->valuestring, first);
    } else if (cJSON_IsBool(v)) {
        cell(b, cJSON_IsTrue(v) ? "true" : "false", first);
    } else if (cJSON_IsNumber(v)) {
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
            snprintf(num, sizeof num, "%.0f", v->valuedouble);
        else
            snprintf(num, sizeof num, "%.10g", v->valuedouble);
        cell(b, num, first);
    } else {
        text = bb_json_canonical(v);
        if (!text)
            b->oom = 1;
        cell(b, text ? text : "", first);
        free(text);
    }
}

/* A path "a.b" into an object. */
static const cJSON *dig(const cJSON *o, const char *path)
{
    char part[40];
    const char *dot;

    while (o && (dot = strchr(path, '.')) != NULL) {
        snprintf(part, sizeof part, "%.*s", (int)(dot - path), path);
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        path = dot + 1;
    }
    return o ? cJSON_GetObjectItemCaseSensitive(o, path) : NULL;
}

/*
 * A column: its header and the path of its value in an item (NULL: the
 * header is the path); a path ending in "@" names a display pair
 * (hq_display.h), written in the export's language.
 */
struct col {
    const char *head, *path;
    const char *zh, *en;               /* the header people read (NULL: head) */
};

/* The header of a column: its code (header=codes) or its words in lang. */
static const char *col_head(const struct col *c, enum bb_lang lang, int codes)
{
    const char *w = lang == BB_LANG_EN ? c->en : c->zh;
    return codes || !w ? c->head : w;
}

static void col_cell(struct buf *b, const cJSON *it, const struct col *c, enum bb_lang lang,
                     int first)
{
    const char *path = c->path ? c->path : c->head;
    size_t n = strlen(path);
    char p[80];

    if (n == 0 || path[n - 1] != '@' || n >= sizeof p) {
        value_cell(b, dig(it, path), first);
        return;
    }
    snprintf(p, sizeof p, "%.*s", (int)(n - 1), path);
    cell(b, hq_display_pick(dig(it, p), lang), first);
}

/* cols end with {NULL}. */
static void table(struct buf *b, const cJSON *items, const struct col *cols, enum bb_lang lang,
                  int codes)
{
    const cJSON *it;
    size_t i;

    for (i = 0; cols[i].head; i++)
        cell(b, col_head(&cols[i], lang, codes), i == 0);
    put(b, "\r\n", 2);
    cJSON_ArrayForEach(it, items) {
        for (i = 0; cols[i].head; i++)
            col_cell(b, it, &cols[i], lang, i == 0);
        put(b, "\r\n", 2);
    }
}

/* A scorecard: one row per KPI, as the Part 4 table reads. */
static void scorecard(struct buf *b, const cJSON *card, enum bb_lang hlang, int codes)
{
    /* Headers as the Part 4 table names them, or their codes (header=codes). */
    static const struct { const char *code, *zh, *en; } head[] = {
        {"goal", "策略績效目標", "Strategic goal"}, {"number", "編號", "No."},
        {"kpi", "指標代碼", "KPI"}, {"title", "衡量指標", "Measure"},
        {"value", "實際值", "Value"}, {"display", "實際值（顯示）", "Value (shown)"},
        {"baseline", "基準值", "Baseline"}, {"target", "原訂目標值", "Target"},
        {"achieved", "達成情形", "Achieved"}, {"weight", "權重", "Weight"},
        {"weighted_score", "加權分數", "Weighted score"}, {"missing", "無法計算原因",
                                                         "Why it cannot be computed"},
        {"period", "期間", "Period"}, {"org", "單位", "Org unit"}, {NULL, NULL, NULL}};
    static const char *const cmp[] = {"baseline", "value_1y", "average", "count_1y", NULL};
    const char *lang = bb_json_str(card, "lang");
    const char *lk = lang && strcmp(lang, "en") == 0 ? "en" : "zh-TW";
    const cJSON *k, *title, *f, *g, *prev = NULL;
    size_t i;

    for (i = 0; head[i].code; i++)
        cell(b, codes ? head[i].code : hlang == BB_LANG_EN ? head[i].en : head[i].zh, i == 0);
    put(b, "\r\n", 2);
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(card, "kpis")) {
        const cJSON *base = NULL, *goal = NULL;
        int achieved = cJSON_IsTrue(cJSON_GetObjectItem(k, "achieved"));
        /* A KPI that cannot be computed is neither achieved nor missed: no weighted score. */
        cJSON *score = cJSON_IsBool(cJSON_GetObjectItem(k, "achieved"))
            ? cJSON_CreateNumber(achieved ? cJSON_GetNumberValue(cJSON_GetObjectItem(k, "weight"))
                                          : 0)
            : cJSON_CreateNull();
        cJSON_ArrayForEach(g, cJSON_GetObjectItem(card, "goals"))
            if (!goal && bb_json_str(g, "id") && bb_json_str(k, "goal") &&
                strcmp(bb_json_str(g, "id"), bb_json_str(k, "goal")) == 0)
                goal = g;
        for (i = 0; cmp[i] && !base; i++)
            cJSON_ArrayForEach(f, cJSON_GetObjectItem(k, "figures"))
                if (!base && bb_json_str(f, "name") && strcmp(bb_json_str(f, "name"), cmp[i]) == 0)
                    base = cJSON_GetObjectItem(f, "value");
        title = cJSON_GetObjectItem(k, "title");
        /* The goal on its first KPI only, as the plan's table (and the CLI) reads. */
        value_cell(b, goal && goal != prev ? cJSON_GetObjectItem(cJSON_GetObjectItem(goal, "label"),
                                                                 lk) : NULL, 1);
        prev = goal;
        value_cell(b, cJSON_GetObjectItem(k, "number"), 0);
        value_cell(b, cJSON_GetObjectItem(k, "id"), 0);
        value_cell(b, cJSON_GetObjectItem(title, lk), 0);
        value_cell(b, cJSON_GetObjectItem(k, "rounded"), 0);
        value_cell(b, cJSON_GetObjectItem(k, "display"), 0);
        value_cell(b, base, 0);
        value_cell(b, dig(k, lang && strcmp(lang, "en") == 0 ? "target.text.en"
                                                             : "target.text.zh-TW"), 0);
        value_cell(b, cJSON_GetObjectItem(k, "achieved"), 0);
        value_cell(b, cJSON_GetObjectItem(k, "weight"), 0);
        value_cell(b, score, 0);
        value_cell(b, cJSON_GetObjectItem(k, "missing"), 0);
        value_cell(b, dig(card, "period.label"), 0);
        value_cell(b, dig(card, "org.code"), 0);
        cJSON_Delete(score);
        put(b, "\r\n", 2);
    }
    {
        const char *line = bb_json_str(cJSON_GetObjectItem(dig(card, "score"), "text"), lk);
        cell(b, "", 1);
        cell(b, "", 0);
        cell(b, codes ? "weighted score" : hlang == BB_LANG_EN ? "Weighted score" : "加權總分", 0);
        cell(b, line ? line : "", 0);
        put(b, "\r\n", 2);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define CSV_DATA_COLS 60

/* The display text of data field `name` of a record item, in lang ("" if none). */
static const char *field_text(const cJSON *item, const char *name, enum bb_lang lang)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, dig(item, "display.fields")) {
        const char *n = bb_json_str(f, "name");
        if (n && strcmp(n, name) == 0)
            return hq_display_pick(cJSON_GetObjectItem(f, "text"), lang);
    }
    return "";
}

/* The label of data field `name` in lang, from the items' display ("" if none). */
static const char *field_label(const cJSON *items, const char *name, enum bb_lang lang)
{
    const cJSON *it, *f;

    cJSON_ArrayForEach(it, items)
        cJSON_ArrayForEach(f, dig(it, "display.fields")) {
            const char *n = bb_json_str(f, "name");
            if (n && strcmp(n, name) == 0)
                return hq_display_pick(cJSON_GetObjectItem(f, "label"), lang);
        }
    return "";
}

/* Whether a field of this type shows a label that differs from its stored value. */
static int labelled_type(const char *type)
{
    return type && (strcmp(type, "enum") == 0 || strcmp(type, "ref") == 0 ||
                    strcmp(type, "boolean") == 0 || strcmp(type, "datetime") == 0 ||
                    strcmp(type, "geo") == 0);
}

/*
 * Records: the envelope, then one column per data field found in the items
 * ("data.notes"), so that a spreadsheet shows each field on its own.  Every
 * code keeps its column and is followed by its label in the export's
 * language: "status" then "status_label" (已完成), "occurred_at" then
 * "occurred_at_label" (107/03/15 16:30), "data.segment" then
 * "data.segment_label" (文華路（逢甲商圈） (SEG-0602)) — for enum, ref, boolean,
 * datetime and geo fields; text and numbers are their own label.
 */
static void records_table(struct buf *b, const cJSON *items, enum bb_lang lang, int codes)
{
    static const struct col head[] = {
        {"id", NULL, "編號", "Id"},
        {"kind", NULL, "類別（代碼）", "Kind (code)"},
        {"kind_label", NULL, "類別", "Kind"},
        {"rev", NULL, "版次", "Rev"},
        {"status", NULL, "狀態（代碼）", "Status (code)"},
        {"status_label", "display.status@", "狀態", "Status"},
        {"org_unit", NULL, "單位（代碼）", "Org unit (code)"},
        {"org_unit_name", NULL, "單位", "Org unit"},
        {"officer", NULL, "員警", "Officer"},
        {"occurred_at", NULL, "發生時間（RFC 3339）", "Occurred (RFC 3339)"},
        {"occurred_at_label", "display.occurred_at@", "發生時間", "Occurred"},
        {"recorded_at", NULL, "登錄時間（RFC 3339）", "Recorded (RFC 3339)"},
        {"recorded_at_label", "display.recorded_at@", "登錄時間", "Recorded"},
        {"device", NULL, "裝置", "Device"},
        {"measure", NULL, "計量", "Measure"}};
    const size_t nhead = sizeof head / sizeof head[0];
    const char *keys[CSV_DATA_COLS];
    int labelled[CSV_DATA_COLS];
    char name[200];
    size_t nkeys = 0, i, j;
    const cJSON *it, *f;
    int measure = 0, first;

    cJSON_ArrayForEach(it, items) {
        measure |= cJSON_GetObjectItem(it, "measure") != NULL;
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(it, "data")) {
            for (j = 0; j < nkeys; j++)
                if (strcmp(keys[j], f->string) == 0)
                    break;
            if (j == nkeys && nkeys < CSV_DATA_COLS && strlen(f->string) < 40)
                keys[nkeys++] = f->string;
        }
    }
    qsort(keys, nkeys, sizeof keys[0], cmp_str);
    memset(labelled, 0, sizeof labelled);
    cJSON_ArrayForEach(it, items)
        cJSON_ArrayForEach(f, dig(it, "display.fields"))
            for (j = 0; j < nkeys; j++)
                if (bb_json_str(f, "name") && strcmp(bb_json_str(f, "name"), keys[j]) == 0 &&
                    labelled_type(bb_json_str(f, "type")))
                    labelled[j] = 1;

    for (i = 0; i < nhead; i++)
        if (measure || strcmp(head[i].head, "measure") != 0)
            cell(b, col_head(&head[i], lang, codes), i == 0);
    for (j = 0; j < nkeys; j++) {
        const char *label = field_label(items, keys[j], lang);
        if (codes || !label[0])
            snprintf(name, sizeof name, "data.%s", keys[j]);
        else if (labelled[j])
            snprintf(name, sizeof name, lang == BB_LANG_EN ? "%.150s (code)" : "%.150s（代碼）",
                     label);
        else
            snprintf(name, sizeof name, "%.150s", label);
        cell(b, name, 0);
        if (labelled[j]) {
            if (codes || !label[0])
                snprintf(name, sizeof name, "data.%s_label", keys[j]);
            else
                snprintf(name, sizeof name, "%.150s", label);
            cell(b, name, 0);
        }
    }
    put(b, "\r\n", 2);
    cJSON_ArrayForEach(it, items) {
        first = 1;
        for (i = 0; i < nhead; i++) {
            if (!measure && strcmp(head[i].head, "measure") == 0)
                continue;
            col_cell(b, it, &head[i], lang, first);
            first = 0;
        }
        for (j = 0; j < nkeys; j++) {
            value_cell(b, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(it, "data"),
                                                           keys[j]), 0);
            if (labelled[j])
                cell(b, field_text(it, keys[j], lang), 0);
        }
        put(b, "\r\n", 2);
    }
}

char *hq_api_csv(const cJSON *answer, const char *what, enum bb_lang lang, int codes,
                 size_t *len)
{
    static const struct col dev_cols[] = {
        {"id", NULL, "裝置", "Device"},
        {"org_unit", NULL, "單位（代碼）", "Org unit (code)"},
        {"org_unit_name", NULL, "單位", "Org unit"},
        {"label", NULL, "名稱", "Label"},
        {"status", NULL, "狀態（代碼）", "Status (code)"},
        {"status_label", "display.status@", "狀態", "Status"},
        {"last_contact", NULL, "最後聯繫（RFC 3339）", "Last contact (RFC 3339)"},
        {"last_contact_label", "display.last_contact@", "最後聯繫", "Last contact"},
        {"contact_today", NULL, "今日已同步", "Synced today"},
        {"late", NULL, "逾時未聯繫", "Late"},
        {"batches", NULL, "已收批次", "Batches"},
        {"last_seq", NULL, "最後序號", "Last seq"},
        {"last_batch_at", NULL, "最後批次時間（RFC 3339）", "Last batch (RFC 3339)"},
        {"last_batch_at_label", "display.last_batch_at@", "最後批次時間", "Last batch"},
        {"missing_count", NULL, "缺漏序號數", "Missing seqs (count)"},
        {"missing", NULL, "缺漏序號", "Missing seqs"},
        {"records_sent", NULL, "已送紀錄", "Records sent"},
        {"records_held", NULL, "總部保存紀錄", "Records held"},
        {"rejected_records", NULL, "退回紀錄", "Rejected records"},
        {"rejected_open", NULL, "未處理的退回紀錄", "Rejected, open"},
        {"quarantined_batches", NULL, "隔離批次", "Quarantined batches"},
        {"pending", NULL, "待送（筆電回報）", "Pending (laptop report)"},
        {NULL, NULL, NULL, NULL}};
    static const struct col quar_cols[] = {
        {"id", NULL, "編號", "Id"},
        {"record_id", NULL, "紀錄編號", "Record id"},
        {"rev", NULL, "版次", "Rev"},
        {"kind", NULL, "類別（代碼）", "Kind (code)"},
        {"kind_label", "display.kind@", "類別", "Kind"},
        {"org_unit", NULL, "單位（代碼）", "Org unit (code)"},
        {"org_unit_label", "display.org_unit@", "單位", "Org unit"},
        {"occurred_at", NULL, "發生時間（RFC 3339）", "Occurred (RFC 3339)"},
        {"occurred_at_label", "display.occurred_at@", "發生時間", "Occurred"},
        {"reason", NULL, "原因", "Reason"},
        {"device", NULL, "裝置", "Device"},
        {"device_unit", NULL, "裝置單位（代碼）", "Device unit (code)"},
        {"device_unit_label", "display.device_unit@", "裝置單位", "Device unit"},
        {"batch_seq", NULL, "批次序號", "Batch seq"},
        {"received_at", NULL, "收到時間（RFC 3339）", "Received (RFC 3339)"},
        {"received_at_label", "display.received_at@", "收到時間", "Received"},
        {"action.action", NULL, "處理（代碼）", "Action (code)"},
        {"action.action_label", "action.display.action@", "處理", "Action"},
        {"action.user", NULL, "處理人員", "Action by"},
        {"action.at", NULL, "處理時間", "Action at"},
        {"body", NULL, "原始資料（JSON）", "Raw data (JSON)"},
        {NULL, NULL, NULL, NULL}};
    struct buf b = {0};

    put(&b, "\xEF\xBB\xBF", 3);       /* BOM: Excel reads the file as UTF-8 */
    if (strcmp(what, "kpi") == 0)
        scorecard(&b, answer, lang, codes);
    else if (strcmp(what, "devices") == 0)
        table(&b, cJSON_GetObjectItem(answer, "items"), dev_cols, lang, codes);
    else if (strcmp(what, "quarantine") == 0)
        table(&b, cJSON_GetObjectItem(answer, "items"), quar_cols, lang, codes);
    else
        records_table(&b, cJSON_GetObjectItem(answer, "items"), lang, codes);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

void hq_api_audit_export(const struct hq_api_ctx *c, const char *what, const char *format,
                         size_t rows)
{
    char detail[200];

    snprintf(detail, sizeof detail, "user=%s what=%s format=%s rows=%zu", c->user->name, what,
             format, rows);
    hq_audit(c->db, "web", "export", NULL, detail, NULL);    /* autocommit, best effort */
}

/* ---- attachments ------------------------------------------------------------------- */

unsigned hq_api_attachment(const struct hq_api_ctx *c, const char *sha,
                           struct hq_attview_file *f, struct hq_api_result *res)
{
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    if (!bb_sha256_hex_valid(sha))
        return fail(res, 400, "bad_request", "%s",
                    L(c, "not an attachment's SHA-256 (64 lowercase hex digits)",
                      "不是附件的 SHA-256（64 個小寫十六進位字元）"));
    if ((err = bb_db_exec(c->db, "BEGIN", &eb)) == BB_OK)
        err = hq_attview_lookup(c->db, c->home->cat, caller_root(c), sha, f, &eb);
    bb_db_rollback(c->db);
    if (err == BB_ERR_NOTFOUND)
        return fail(res, 404, "not_found", "%s", L(c, "no such attachment", "查無此附件"));
    if (err != BB_OK)
        return store_fail(c, res, err, &eb);
    res->status = 200;
    return 200;
}
