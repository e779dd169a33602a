/*
 * Unit tests for bb_kpi: every method on small hand-computed cases, fed
 * through the facts update functions (bb_kpi_facts_record: a new record +,
 * a revision -old +new, a void -old), so that revisions and voids are seen
 * moving KPIs; drafts never count; periods across year ends and in ROC
 * notation; drill-down sums (stations add up to their precinct, precincts
 * and the traffic brigade to the city); historical counts; missing inputs
 * named; rounding as Part 4 prints; and the Part 4 table itself from its
 * counts.
 *
 * The test plan is the built-in 107 plan with small reference figures
 * (population 100,000 for TC, 40,000 for P01, 50,000 for P02; 200
 * officers for TC in 2015-2017, 300 in 2018), four listed intersections
 * (INT-01, INT-02 of P01; INT-03, INT-04 of P02), two listed segments
 * (SEG-0101, SEG-0102) and a historical count of 50 criminal cases for TC
 * in 2014H1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_catalog.h"
#include "bb_embed.h"
#include "bb_json.h"
#include "bb_kpi.h"
#include "bb_plan.h"
#include "bb_time.h"

static bb_catalog *cat;
static bb_plan *plan;       /* the test plan */
static bb_plan *p107;       /* the built-in plan, unchanged */

static const char *test_changes =
    "{\"population\": {\"2014\": {\"TC\": 100000}, \"2015\": {\"TC\": 100000},"
    "  \"2016\": {\"TC\": 100000, \"P01\": 40000, \"P02\": 50000},"
    "  \"2017\": {\"TC\": 100000, \"P01\": 40000, \"P02\": 50000},"
    "  \"2018\": {\"TC\": 200000}},"
    " \"officers\": {\"2015\": {\"TC\": 200}, \"2016\": {\"TC\": 200, \"P01\": 80},"
    "  \"2017\": {\"TC\": 200, \"P01\": 80}, \"2018\": {\"TC\": 300}}}";

static int setup(void **state)
{
    const struct bb_embedded_file *f = bb_embed_find("plans/taichung-107.json");
    cJSON *t, *ref, *ch;
    char *text;
    bb_errbuf eb;
    bb_err err;
    (void)state;

    if (bb_catalog_load_embedded(&cat, &eb) != BB_OK || !f)
        return -1;
    if (bb_plan_load_embedded(cat, "taichung-107", &p107, &eb) != BB_OK)
        return -1;
    t = cJSON_Parse(f->data);
    ch = cJSON_Parse(test_changes);
    ref = cJSON_GetObjectItem(t, "reference");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(ref, "population"), "years",
                              cJSON_DetachItemFromObject(ch, "population"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(ref, "officers"), "years",
                              cJSON_DetachItemFromObject(ch, "officers"));
    cJSON_Delete(ch);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(t, "lists"), "intersections",
                              cJSON_Parse("[\"INT-01\", \"INT-02\", \"INT-03\", \"INT-04\"]"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(t, "lists"), "segments",
                              cJSON_Parse("[\"SEG-0101\", \"SEG-0102\"]"));
    cJSON_ReplaceItemInObject(t, "history", cJSON_Parse(
        "[{\"input\": \"criminal_cases\", \"period\": \"2014H1\", \"org\": \"TC\", "
        "\"value\": 50, \"source\": \"警政統計年報\"}]"));
    cJSON_ReplaceItemInObject(t, "id", cJSON_CreateString("test"));
    text = cJSON_PrintUnformatted(t);
    err = bb_plan_parse(cat, text, strlen(text), "test plan", &plan, &eb);
    if (err != BB_OK)
        fprintf(stderr, "%s\n", eb.msg);
    free(text);
    cJSON_Delete(t);
    return err == BB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bb_plan_free(plan);
    bb_plan_free(p107);
    bb_catalog_free(cat);
    return 0;
}

/* ---- records ------------------------------------------------------------- */

static int serial;

/* A final record of kind at unit, occurred_at when (NULL: none), data as JSON. */
static cJSON *rec(const char *kind, const char *unit, const char *when, const char *data)
{
    cJSON *r = cJSON_CreateObject();
    char id[40];

    snprintf(id, sizeof id, "rec-%d", ++serial);
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "kind", kind);
    cJSON_AddNumberToObject(r, "rev", 1);
    cJSON_AddStringToObject(r, "status", "final");
    cJSON_AddStringToObject(r, "org_unit", unit);
    if (when)
        cJSON_AddStringToObject(r, "occurred_at", when);
    cJSON_AddItemToObject(r, "data", cJSON_Parse(data ? data : "{}"));
    assert_non_null(cJSON_GetObjectItem(r, "data"));
    return r;
}

/* Add a record to the facts (and keep or free it). */
static cJSON *put(bb_kpi_facts *f, cJSON *r)
{
    assert_int_equal(bb_kpi_facts_record(f, r, 1, NULL), BB_OK);
    return r;
}

static void put_n(bb_kpi_facts *f, int n, const char *kind, const char *unit, const char *when,
                  const char *data)
{
    while (n-- > 0)
        cJSON_Delete(put(f, rec(kind, unit, when, data)));
}

/* A new revision: the old state out, the new one in; returns the new state. */
static cJSON *revise(bb_kpi_facts *f, cJSON *old, const char *field, cJSON *value)
{
    cJSON *n = cJSON_Duplicate(old, 1);
    cJSON *target = strncmp(field, "data.", 5) == 0 ? cJSON_GetObjectItem(n, "data") : n;
    const char *name = strncmp(field, "data.", 5) == 0 ? field + 5 : field;

    cJSON_ReplaceItemInObject(n, "rev", cJSON_CreateNumber(
        cJSON_GetObjectItem(old, "rev")->valuedouble + 1));
    if (cJSON_GetObjectItem(target, name))
        cJSON_ReplaceItemInObject(target, name, value);
    else
        cJSON_AddItemToObject(target, name, value);
    assert_int_equal(bb_kpi_facts_record(f, old, -1, NULL), BB_OK);
    assert_int_equal(bb_kpi_facts_record(f, n, 1, NULL), BB_OK);
    cJSON_Delete(old);
    return n;
}

/* ---- evaluation ---------------------------------------------------------- */

static struct bb_kpi_card card;

static const struct bb_kpi_result *eval_lang(bb_kpi_facts *f, const char *period,
                                             const char *org, const char *kpi,
                                             enum bb_lang lang)
{
    struct bb_kpi_source src;
    bb_period per;
    bb_errbuf eb;
    size_t i;

    bb_kpi_card_free(&card);
    assert_int_equal(bb_period_parse(period, &per, &eb), BB_OK);
    bb_kpi_facts_source(f, &src);
    assert_int_equal(bb_kpi_evaluate(plan, cat, &per, org, &src, lang, &card,
                                     &eb), BB_OK);
    for (i = 0; i < card.n; i++)
        if (strcmp(card.results[i].kpi->id, kpi) == 0)
            return &card.results[i];
    fail_msg("no KPI %s", kpi);
    return NULL;
}

static const struct bb_kpi_result *eval(bb_kpi_facts *f, const char *period, const char *org,
                                        const char *kpi)
{
    return eval_lang(f, period, org, kpi, BB_LANG_EN);
}

static double fig(const struct bb_kpi_result *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->nfigs; i++)
        if (strcmp(r->figs[i].name, name) == 0)
            return r->figs[i].value;
    fail_msg("%s has no figure %s", r->kpi->id, name);
    return NAN;
}

static const struct bb_kpi_figure *figure(const struct bb_kpi_result *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->nfigs; i++)
        if (strcmp(r->figs[i].name, name) == 0)
            return &r->figs[i];
    fail_msg("%s has no figure %s", r->kpi->id, name);
    return NULL;
}

static void expect(const struct bb_kpi_result *r, const char *display, bool achieved)
{
    if (!r->ok)
        fail_msg("%s: cannot compute: %s", r->kpi->id, r->missing);
    assert_string_equal(r->display, display);
    assert_int_equal(r->achieved, achieved);
}

static void expect_missing(const struct bb_kpi_result *r, const char *why)
{
    assert_false(r->ok);
    if (!strstr(r->missing, why))
        fail_msg("%s: missing \"%s\", wanted \"%s\"", r->kpi->id, r->missing, why);
}

static bb_kpi_facts *new_facts(void)
{
    bb_kpi_facts *f;
    assert_int_equal(bb_kpi_facts_new(plan, cat, &f), BB_OK);
    return f;
}

/* ---- methods ------------------------------------------------------------- */

#define CASE "{\"case_no\": \"1\", \"category\": \"theft\"}"

static void test_per_capita_change(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    (void)state;

    put_n(f, 10, "criminal_case", "P01-S01", "2016-03-01T10:00:00+08:00", CASE);
    put_n(f, 5, "criminal_case", "P01-S02", "2017-03-01T10:00:00+08:00", CASE);
    put_n(f, 4, "criminal_case", "P02-S01", "2017-05-01T10:00:00+08:00", CASE);
    /* Part of a year: against the same period last year.  9 vs 10 per 100,000. */
    r = eval(f, "2017H1", "TC", "K1");
    expect(r, "\u221210.00 %", true);
    assert_true(fig(r, "count") == 9 && fig(r, "count_1y") == 10);
    assert_true(fig(r, "reference") == 100000 && fig(r, "value") == 9);
    assert_int_equal(figure(r, "count")->origin, BB_KPI_FROM_RECORDS);
    assert_int_equal(figure(r, "reference")->origin, BB_KPI_FROM_REFERENCE);
    /* P01: 5 / 40,000 = 12.5 against 10 / 40,000 = 25 per 100,000: −50 %. */
    expect(eval(f, "2017H1", "P01", "K1"), "\u221250.00 %", true);
    /* P02: 4 against 0 last year: the comparison is 0. */
    expect_missing(eval(f, "2017H1", "P02", "K1"), "the comparison figure is 0");
    /* A whole year: against the baseline 1,037.71.  12 per 100,000: −98.84 %. */
    put_n(f, 3, "criminal_case", "P02-S02", "2017-11-01T10:00:00+08:00", CASE);
    r = eval(f, "2017", "TC", "K1");
    expect(r, "\u221298.84 %", true);
    assert_int_equal(figure(r, "baseline")->origin, BB_KPI_FROM_PLAN);
    /* A station has no population of its own. */
    expect_missing(eval(f, "2017H1", "P01-S01", "K1"),
                   "no population for P01-S01 in 2017 in the plan's reference figures");
    r = eval_lang(f, "2017H1", "P01-S01", "K1", BB_LANG_ZH);
    expect_missing(r, "計畫的參考數據中沒有人口數（P01-S01，2017 年）");
    /* 2019 has no figures at all. */
    expect_missing(eval(f, "2019H1", "TC", "K1"), "no population for TC in 2019");
    bb_kpi_facts_free(f);
}

static void test_ratio_vs_baseline(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    cJSON *c;
    (void)state;

    put_n(f, 9, "criminal_case", "P01-S01", "2017-02-01T10:00:00+08:00", CASE);
    /* Clearances count by cleared_at, whenever the case happened. */
    put_n(f, 7, "case_clearance", "P01-S01", "2017-03-01T10:00:00+08:00",
          "{\"case_no\": \"1\", \"category\": \"theft\", \"cleared_at\": "
          "\"2017-03-01T10:00:00+08:00\"}");
    put_n(f, 1, "case_clearance", "P01-S02", "2016-11-01T10:00:00+08:00",
          "{\"case_no\": \"2\", \"category\": \"theft\", \"cleared_at\": "
          "\"2017-01-05T10:00:00+08:00\"}");
    put_n(f, 1, "case_clearance", "P01-S02", "2017-06-01T10:00:00+08:00",
          "{\"case_no\": \"3\", \"category\": \"theft\", \"cleared_at\": "
          "\"2017-07-05T10:00:00+08:00\"}");
    /* 8 / 9 = 88.89 %, 8.69 points above 80.20. */
    r = eval(f, "2017H1", "TC", "K2");
    expect(r, "88.89 % (+8.69 pt)", true);
    assert_true(fig(r, "numerator") == 8 && fig(r, "denominator") == 9);
    assert_true(fabs(r->ratio - 800.0 / 9) < 1e-9);
    /* A unit without cases in the period: the ratio is undefined. */
    expect_missing(eval(f, "2017H1", "P02-S01", "K2"),
                   "no criminal cases in 2017H1 for P02-S01: the ratio is undefined");

    /* K4: police on listed segments (stop or remote) over all citations. */
    put_n(f, 3, "parking_citation", "P01-S01", "2017-04-01T09:00:00+08:00",
          "{\"method\": \"stop\", \"source\": \"police\", \"segment\": \"SEG-0101\", "
          "\"major\": true, \"violation\": \"red_line\"}");
    put_n(f, 2, "parking_citation", "P01-S01", "2017-04-01T09:00:00+08:00",
          "{\"method\": \"remote\", \"source\": \"police\", \"segment\": \"SEG-0102\", "
          "\"major\": true, \"violation\": \"red_line\"}");
    put_n(f, 1, "parking_citation", "P01-S01", "2017-04-01T09:00:00+08:00",
          "{\"method\": \"remote\", \"source\": \"citizen_report\", \"segment\": "
          "\"SEG-0101\", \"major\": true, \"violation\": \"red_line\"}");
    put_n(f, 1, "parking_citation", "P01-S01", "2017-04-01T09:00:00+08:00",
          "{\"method\": \"stop\", \"source\": \"police\", \"segment\": \"SEG-0601\", "
          "\"major\": true, \"violation\": \"red_line\"}");   /* not a listed segment here */
    c = put(f, rec("parking_citation", "P01-S01", "2017-04-01T09:00:00+08:00",
                   "{\"method\": \"stop\", \"source\": \"police\", \"major\": false, "
                   "\"violation\": \"sidewalk\"}"));
    /* 5 / 8 = 62.50 %, 19.44 points above 43.06. */
    r = eval(f, "2017H1", "TC", "K4");
    expect(r, "+19.44 pt", true);
    assert_true(fig(r, "numerator") == 5 && fig(r, "denominator") == 8);
    /* A revision puts the last one on a listed segment: 6 / 8 = 75 %. */
    c = revise(f, c, "data.segment", cJSON_CreateString("SEG-0102"));
    expect(eval(f, "2017H1", "TC", "K4"), "+31.94 pt", true);
    cJSON_Delete(c);
    bb_kpi_facts_free(f);
}

#define ACC(d, i, at) "{\"class\": \"a2\", \"deaths\": " #d ", \"injuries\": " #i \
                      ", \"intersection\": \"" at "\"}"

static void test_improved_share(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    cJSON *typo;
    size_t i;
    (void)state;

    /* INT-01 3 → 1 improved; INT-02 2 → 2 not; INT-03 0 → 0 not; INT-04 4 → 1 improved. */
    put_n(f, 1, "traffic_accident", "P01-S01", "2016-02-01T08:00:00+08:00", ACC(1, 2, "INT-01"));
    put_n(f, 1, "traffic_accident", "TB", "2017-02-01T08:00:00+08:00", ACC(0, 1, "INT-01"));
    put_n(f, 2, "traffic_accident", "P01-S02", "2016-04-01T08:00:00+08:00", ACC(0, 1, "INT-02"));
    put_n(f, 1, "traffic_accident", "TB", "2017-04-01T08:00:00+08:00", ACC(0, 2, "INT-02"));
    put_n(f, 1, "traffic_accident", "P02-S01", "2016-05-01T08:00:00+08:00", ACC(0, 4, "INT-04"));
    put_n(f, 1, "traffic_accident", "P02-S01", "2017-05-01T08:00:00+08:00", ACC(0, 1, "INT-04"));
    /* Not a listed intersection in this plan; and no intersection at all. */
    put_n(f, 5, "traffic_accident", "P03-S01", "2016-05-01T08:00:00+08:00", ACC(0, 3, "INT-05"));
    put_n(f, 5, "traffic_accident", "P03-S01", "2016-05-01T08:00:00+08:00",
          "{\"class\": \"a2\", \"deaths\": 0, \"injuries\": 3}");
    typo = put(f, rec("traffic_accident", "TB", "2017-05-02T08:00:00+08:00", ACC(0, 9, "INT-04")));
    /* With the mistyped 9 injuries INT-04 has 10 > 4: only INT-01 improved. */
    r = eval(f, "2017H1", "TC", "K3");
    expect(r, "25.00 %", false);
    /* Corrected to 0 injuries: INT-04 improved again, 2 of 4. */
    typo = revise(f, typo, "data.injuries", cJSON_CreateNumber(0));
    r = eval(f, "2017H1", "TC", "K3");
    expect(r, "50.00 %", false);
    assert_int_equal(r->ngroups, 4);
    for (i = 0; i < r->ngroups; i++) {
        static const int64_t before[] = {3, 2, 0, 4}, now[] = {1, 2, 0, 1};
        static const bool improved[] = {true, false, false, true};
        assert_int_equal(r->groups[i].before, before[i]);
        assert_int_equal(r->groups[i].now, now[i]);
        assert_int_equal(r->groups[i].improved, improved[i]);
    }
    assert_true(fig(r, "listed") == 4 && fig(r, "improved") == 2);
    /* A precinct looks at its own intersections (counted city-wide: TB's records too). */
    expect(eval(f, "2017H1", "P01", "K3"), "50.00 %", false);
    r = eval(f, "2017H1", "P02-S01", "K3");
    expect(r, "50.00 %", false);
    assert_string_equal(r->groups[0].code, "INT-03");
    /* Voiding INT-02's 2017 accident improves it: 3 of 4 = 75 %. */
    {
        cJSON *v = rec("traffic_accident", "TB", "2017-04-01T08:00:00+08:00", ACC(0, 2, "INT-02"));
        cJSON *vv = cJSON_Duplicate(v, 1);
        cJSON_ReplaceItemInObject(vv, "status", cJSON_CreateString("void"));
        assert_int_equal(bb_kpi_facts_record(f, v, -1, NULL), BB_OK);
        assert_int_equal(bb_kpi_facts_record(f, vv, 1, NULL), BB_OK);
        cJSON_Delete(v);
        cJSON_Delete(vv);
    }
    expect(eval(f, "2017H1", "TC", "K3"), "75.00 %", false);
    /* The traffic brigade has no listed intersection. */
    expect_missing(eval(f, "2017H1", "TB", "K3"), "none of the listed intersections lies in TB");
    /* No records at all a year before, and no history: say so. */
    expect_missing(eval(f, "2016H1", "TC", "K3"),
                   "no records of casualties at listed intersections in 2015H1");
    cJSON_Delete(typo);
    bb_kpi_facts_free(f);
}

#define RW(found) "{\"violation_found\": " #found ", \"road\": \"中港路\"" \
                  ", \"violation\": \"no_permit\", \"action\": \"citation\"}"

static void test_change_vs_prior_average(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    (void)state;

    put_n(f, 4, "roadworks_inspection", "P06-S01", "2015-03-03T10:00:00+08:00", RW(true));
    put_n(f, 6, "roadworks_inspection", "P06-S02", "2016-03-03T10:00:00+08:00", RW(true));
    put_n(f, 3, "roadworks_inspection", "P06-S03", "2017-03-03T10:00:00+08:00", RW(true));
    put_n(f, 5, "roadworks_inspection", "P06-S03", "2017-03-03T10:00:00+08:00",
          "{\"violation_found\": false, \"road\": \"中港路\"}");
    /* (3 − (4 + 6) / 2) / 5 = −40 %, one decimal. */
    r = eval(f, "2017H1", "TC", "K5");
    expect(r, "\u221240.0 %", true);
    assert_true(fig(r, "count") == 3 && fig(r, "count_1y") == 6 && fig(r, "count_2y") == 4);
    assert_true(fig(r, "average") == 5);
    /* Rounded −29.96 prints −30.0 and meets "≤ −30 %" as printed. */
    {
        bb_kpi_facts *g = new_facts();
        put_n(g, 2497, "roadworks_inspection", "P06-S01", "2015-03-03T10:00:00+08:00", RW(true));
        put_n(g, 2497, "roadworks_inspection", "P06-S01", "2016-03-03T10:00:00+08:00", RW(true));
        put_n(g, 1749, "roadworks_inspection", "P06-S01", "2017-03-03T10:00:00+08:00", RW(true));
        expect(eval(g, "2017H1", "TC", "K5"), "\u221230.0 %", true);
        bb_kpi_facts_free(g);
    }
    /* Two years before 2016H1 there is nothing. */
    expect_missing(eval(f, "2016H1", "TC", "K5"),
                   "no records of illegal road-works cases in 2014H1 (before the system?) and "
                   "no historical count for TC in the plan");
    /* A precinct with records two years running is fine; another is missing nothing either:
     * its zeros are real because the city has records then. */
    expect(eval(f, "2017H1", "P06", "K5"), "\u221240.0 %", true);
    expect_missing(eval(f, "2017H1", "P01", "K5"), "the average of the years before is 0");
    bb_kpi_facts_free(f);
}

#define CPL(cat, at) "{\"category\": \"" cat "\", \"received_at\": \"" at "\"}"

static void test_change_per_reference_and_revisions(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    struct bb_kpi_fact row;
    cJSON *moved, *voided, *draft;
    size_t cur;
    (void)state;

    put_n(f, 5, "complaint", "P01-S01", NULL, CPL("service_attitude", "2016-02-02T09:00:00+08:00"));
    put_n(f, 2, "complaint", "P01-S01", NULL, CPL("service_attitude", "2017-02-02T09:00:00+08:00"));
    /* Happened in December, received in January: counts in 2017H1 (received_at). */
    moved = put(f, rec("complaint", "P01-S02", "2016-12-30T09:00:00+08:00",
                       CPL("service_attitude", "2017-01-03T09:00:00+08:00")));
    put_n(f, 4, "complaint", "P01-S01", NULL, CPL("other", "2017-02-02T09:00:00+08:00"));
    /* Drafts never count. */
    draft = rec("complaint", "P01-S01", NULL, CPL("service_attitude", "2017-02-02T09:00:00+08:00"));
    cJSON_ReplaceItemInObject(draft, "status", cJSON_CreateString("draft"));
    put(f, draft);
    /* (3 − 5) / 200 × 100 = −1.00 %. */
    r = eval(f, "2017H1", "TC", "K6");
    expect(r, "\u22121.00 %", true);
    assert_true(fig(r, "count") == 3 && fig(r, "count_1y") == 5 && fig(r, "reference") == 200);
    /* P01 has 80 officers: −2.50 %; a station has none in the plan. */
    expect(eval(f, "2017H1", "P01", "K6"), "\u22122.50 %", true);
    expect_missing(eval(f, "2017H1", "P01-S01", "K6"), "no officer headcount for P01-S01 in 2017");

    /* A revision moves it back into 2016H1: (2 − 6) / 200 = −2.00 %. */
    moved = revise(f, moved, "data.received_at", cJSON_CreateString("2016-01-03T09:00:00+08:00"));
    expect(eval(f, "2017H1", "TC", "K6"), "\u22122.00 %", true);
    /* A void takes it out: (2 − 5) / 200 = −1.50 %. */
    voided = cJSON_Duplicate(moved, 1);
    cJSON_ReplaceItemInObject(voided, "status", cJSON_CreateString("void"));
    cJSON_ReplaceItemInObject(voided, "rev", cJSON_CreateNumber(3));
    assert_int_equal(bb_kpi_facts_record(f, moved, -1, NULL), BB_OK);
    assert_int_equal(bb_kpi_facts_record(f, voided, 1, NULL), BB_OK);
    expect(eval(f, "2017H1", "TC", "K6"), "\u22121.50 %", true);
    /* Its rows fell to zero: they are gone from the map's rows. */
    cur = 0;
    while (bb_kpi_facts_next(f, &cur, &row))
        assert_false(strcmp(row.unit, "P01-S02") == 0);
    /* Another category by revision: (1 − 5) / 200 = −2.00 %. */
    {
        cJSON *c = put(f, rec("complaint", "P01-S01", NULL,
                              CPL("service_attitude", "2017-03-02T09:00:00+08:00")));
        expect(eval(f, "2017H1", "TC", "K6"), "\u22121.00 %", true);
        c = revise(f, c, "data.category", cJSON_CreateString("slow_response"));
        expect(eval(f, "2017H1", "TC", "K6"), "\u22121.50 %", true);
        cJSON_Delete(c);
    }
    /* An increase is not achieved: 2 + 10 = 12 vs 5: +3.50 %. */
    put_n(f, 10, "complaint", "P02-S01", NULL, CPL("service_attitude", "2017-02-02T09:00:00+08:00"));
    expect(eval(f, "2017H1", "TC", "K6"), "+3.50 %", false);
    cJSON_Delete(moved);
    cJSON_Delete(voided);
    cJSON_Delete(draft);
    bb_kpi_facts_free(f);
}

/* ---- periods ------------------------------------------------------------- */

static void test_periods_across_year_end_and_roc(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    char a[80];
    (void)state;

    /* December 2017 + January 2018 (Taipei): 4 in, 2 out. */
    put_n(f, 1, "criminal_case", "P01-S01", "2017-11-30T16:00:00Z", CASE);          /* 12-01 00:00 */
    put_n(f, 1, "criminal_case", "P01-S01", "2017-12-31T23:30:00+08:00", CASE);
    put_n(f, 1, "criminal_case", "P01-S01", "2017-12-31T16:30:00Z", CASE);          /* 01-01 00:30 */
    put_n(f, 1, "criminal_case", "P01-S01", "2018-01-31T15:59:59Z", CASE);          /* 01-31 23:59 */
    put_n(f, 1, "criminal_case", "P01-S01", "2017-11-30T15:59:59Z", CASE);          /* 11-30: out */
    put_n(f, 1, "criminal_case", "P01-S01", "2018-01-31T16:00:00Z", CASE);          /* 02-01: out */
    /* A year before: December 2016 + January 2017, 2 cases. */
    put_n(f, 2, "criminal_case", "P01-S01", "2016-12-15T12:00:00+08:00", CASE);
    r = eval(f, "2017-12..2018-01", "TC", "K1");
    assert_true(fig(r, "count") == 4 && fig(r, "count_1y") == 2);
    /* The population over the two months: 31 days of 100,000, 31 of 200,000. */
    assert_true(fig(r, "reference") == 150000);
    assert_false(figure(r, "reference")->integral);
    assert_string_equal(figure(r, "reference")->period, "2017-2018");
    assert_string_equal(figure(r, "count_1y")->period, "2016-12..2017-01");
    /* 4 / 150,000 vs 2 / 100,000 per 100,000: 2.67 vs 2 → +33.33 %. */
    expect(r, "+33.33 %", false);
    snprintf(a, sizeof a, "%s", r->display);
    /* ROC notation names the same days. */
    r = eval(f, "106-12..107-01", "TC", "K1");
    assert_string_equal(r->display, a);
    /* Officers over the same two months: (200 × 31 + 300 × 31) / 62 = 250. */
    put_n(f, 3, "complaint", "P01-S01", NULL, CPL("service_attitude", "2018-01-02T09:00:00+08:00"));
    put_n(f, 1, "complaint", "P01-S01", NULL, CPL("service_attitude", "2016-12-02T09:00:00+08:00"));
    r = eval(f, "2017-12..2018-01", "TC", "K6");
    expect(r, "+0.80 %", false);
    assert_true(fig(r, "reference") == 250);
    /* A year and its ROC name; a month and a half-year in ROC. */
    put_n(f, 1, "complaint", "P01-S01", NULL, CPL("service_attitude", "2017-01-20T09:00:00+08:00"));
    snprintf(a, sizeof a, "%s", eval(f, "2018", "TC", "K6")->display);
    assert_string_equal(a, "+0.67 %");                           /* (3 − 1) / 300 */
    assert_string_equal(eval(f, "107", "TC", "K6")->display, a);
    snprintf(a, sizeof a, "%s", eval(f, "2018-01", "TC", "K6")->display);
    assert_string_equal(eval(f, "107-01", "TC", "K6")->display, a);
    expect(eval(f, "107-01", "TC", "K6"), "+0.67 %", false);
    /* A month with no records of the year before anywhere: named, not zero. */
    expect_missing(eval(f, "107-02", "TC", "K6"), "in 2017-02 (before the system?)");
    bb_kpi_facts_free(f);
}

/* ---- drill-down ----------------------------------------------------------- */

static int64_t total(bb_kpi_facts *f, const char *input, const char *org, const char *period)
{
    struct bb_kpi_source src;
    bb_period per;
    bb_errbuf eb;
    int64_t n, v;

    bb_kpi_facts_source(f, &src);
    assert_int_equal(bb_period_parse(period, &per, &eb), BB_OK);
    assert_int_equal(src.sum(src.ctx, bb_plan_input(plan, input), org, per.from_day, per.to_day,
                             NULL, &n, &v, &eb), BB_OK);
    return v;
}

static void test_drill_down_adds_up(void **state)
{
    static const char *const units[] = {"P01-S01", "P01-S02", "P01-S03", "P01-S04", "P02-S01",
                                        "P02-S02", "P02-S03", "P02-S04", "TB"};
    static const char *const inputs[] = {"criminal_cases", "clearances", "attitude_complaints",
                                         "intersection_casualties"};
    bb_kpi_facts *f = new_facts();
    int64_t sum_p01, sum_p02, sum_tc;
    size_t i, j;
    char when[40];
    (void)state;

    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        for (j = 0; j < 3 + i * 2; j++) {
            snprintf(when, sizeof when, "2017-%02zu-%02zuT%02zu:00:00+08:00", 1 + j % 12,
                     1 + j % 28, j % 24);
            put_n(f, 1, "criminal_case", units[i], when, CASE);
            put_n(f, (int)(j % 3), "complaint", units[i], NULL,
                  j % 2 ? CPL("service_attitude", "2017-04-04T04:04:04Z")
                        : CPL("service_attitude", "2017-12-31T20:00:00Z"));
            put_n(f, 1, "traffic_accident", units[i], when, j % 2 ? ACC(0, 2, "INT-03")
                                                                 : ACC(1, 1, "INT-01"));
            put_n(f, 1, "case_clearance", units[i], NULL,
                  "{\"case_no\": \"1\", \"category\": \"fraud\", \"cleared_at\": "
                  "\"2017-08-08T08:08:08+08:00\"}");
        }
    }
    for (j = 0; j < sizeof inputs / sizeof inputs[0]; j++) {
        const char *periods[] = {"2017", "2017H1", "2017Q3", "2017-12", "2018"};
        size_t k;
        for (k = 0; k < 5; k++) {
            sum_p01 = sum_p02 = 0;
            for (i = 0; i < 4; i++)
                sum_p01 += total(f, inputs[j], units[i], periods[k]);
            for (i = 4; i < 8; i++)
                sum_p02 += total(f, inputs[j], units[i], periods[k]);
            assert_int_equal(total(f, inputs[j], "P01", periods[k]), sum_p01);
            assert_int_equal(total(f, inputs[j], "P02", periods[k]), sum_p02);
            sum_tc = sum_p01 + sum_p02 + total(f, inputs[j], "TB", periods[k]);
            assert_int_equal(total(f, inputs[j], "TC", periods[k]), sum_tc);
        }
    }
    /* Hand counts: cases at P01 = 3 + 5 + 7 + 9; at TC every record. */
    assert_int_equal(total(f, "criminal_cases", "P01", "2017"), 24);
    assert_int_equal(total(f, "criminal_cases", "TC", "2017"), 3 + 5 + 7 + 9 + 11 + 13 + 15 + 17 + 19);
    /* Complaints received 2017-12-31T20:00Z are Taipei 2018-01-01. */
    assert_int_equal(total(f, "attitude_complaints", "TC", "2017") +
                     total(f, "attitude_complaints", "TC", "2018"),
                     total(f, "attitude_complaints", "TC", "[2017-01-01,2019-01-01)"));
    assert_true(total(f, "attitude_complaints", "TC", "2018-01") > 0);
    assert_int_equal(total(f, "attitude_complaints", "TC", "2017-12"), 0);
    /* The KPI of a precinct is computed from its own rows. */
    {
        const struct bb_kpi_result *r = eval(f, "2017Q3", "P02", "K2");
        assert_true(fig(r, "numerator") == total(f, "clearances", "P02", "2017Q3"));
        assert_true(fig(r, "denominator") == total(f, "criminal_cases", "P02", "2017Q3"));
    }
    bb_kpi_facts_free(f);
}

/* ---- history and missing inputs ----------------------------------------- */

static void test_history_only_without_records(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    (void)state;

    put_n(f, 10, "criminal_case", "P01-S01", "2015-02-02T10:00:00+08:00", CASE);
    /* 2014H1 has no records: the plan's historical count (50) stands in. */
    r = eval(f, "2015H1", "TC", "K1");
    expect(r, "\u221280.00 %", true);
    assert_int_equal(figure(r, "count_1y")->origin, BB_KPI_FROM_HISTORY);
    assert_non_null(strstr(figure(r, "count_1y")->detail, "警政統計年報"));
    /* Only for the unit it was given for. */
    expect_missing(eval(f, "2015H1", "P01", "K1"), "no population for P01 in 2015");
    /* Once records cover 2014H1 they win: 10 vs 5, +100 %. */
    put_n(f, 5, "criminal_case", "P02-S01", "2014-02-02T10:00:00+08:00", CASE);
    r = eval(f, "2015H1", "TC", "K1");
    expect(r, "+100.00 %", false);
    assert_int_equal(figure(r, "count_1y")->origin, BB_KPI_FROM_RECORDS);
    bb_kpi_facts_free(f);
}

static void test_missing_inputs_are_named(void **state)
{
    bb_kpi_facts *f = new_facts();
    const struct bb_kpi_result *r;
    size_t i;
    (void)state;

    /* An empty store: nothing to compare with, in words, in both languages. */
    eval(f, "2017H1", "TC", "K1");
    assert_int_equal(card.missing, 6);
    assert_int_equal(card.score, 0);
    assert_int_equal(card.total, 70);
    for (i = 0; i < card.n; i++)
        assert_false(card.results[i].ok);
    expect_missing(&card.results[0], "no records of criminal cases in 2016H1");
    expect_missing(&card.results[3], "no records of illegal-parking citations in 2017H1");
    /* Uncomputable KPIs count neither as achieved nor as missed, and the score says so. */
    {
        char line[120];
        cJSON *j = bb_kpi_card_json(&card, cat), *k0;
        assert_non_null(j);
        k0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "kpis"), 0);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(k0, "achieved")));
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(k0, "ok")));
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
                            "score"), "text"), "zh-TW")->valuestring, "0 / 70（6 項無法計算）");
        cJSON_Delete(j);
        bb_kpi_score_text(&card, BB_LANG_EN, line, sizeof line);
        assert_string_equal(line, "0 / 70 (6 cannot be computed)");
    }
    r = eval_lang(f, "2017H1", "TC", "K6", BB_LANG_ZH);
    expect_missing(r, "員警遭投訴（服務態度）件數 在 105H1 沒有任何紀錄");
    /* An org unit outside the plan is an error, not a scorecard. */
    {
        struct bb_kpi_source src;
        struct bb_kpi_card c2;
        bb_period per;
        bb_errbuf eb;
        bb_kpi_facts_source(f, &src);
        bb_period_parse("2017", &per, &eb);
        assert_int_equal(bb_kpi_evaluate(plan, cat, &per, "P99", &src, BB_LANG_EN, &c2, &eb),
                         BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "P99"));
    }
    bb_kpi_facts_free(f);
}

/* ---- numbers -------------------------------------------------------------- */

static void test_rounding_as_printed(void **state)
{
    char s[64];
    (void)state;

    bb_kpi_format(-6.154935, 2, true, "%", s, sizeof s);
    assert_string_equal(s, "\u22126.15 %");
    bb_kpi_format(-67.6069, 1, true, "%", s, sizeof s);
    assert_string_equal(s, "\u221267.6 %");
    bb_kpi_format(44.42 - 43.06, 2, true, "pt", s, sizeof s);
    assert_string_equal(s, "+1.36 pt");
    bb_kpi_format(20.0 / 25 * 100, 2, false, "%", s, sizeof s);
    assert_string_equal(s, "80.00 %");
    bb_kpi_format(0.125, 2, true, NULL, s, sizeof s);      /* half away from zero */
    assert_string_equal(s, "+0.13");
    bb_kpi_format(-0.125, 2, true, NULL, s, sizeof s);
    assert_string_equal(s, "\u22120.13");
    bb_kpi_format(-0.001, 2, true, "%", s, sizeof s);      /* never "−0.00" */
    assert_string_equal(s, "0.00 %");
    bb_kpi_format(12.5, 0, false, NULL, s, sizeof s);
    assert_string_equal(s, "13");
    assert_true(bb_kpi_round(-0.5132, 2) == -0.51);
    bb_kpi_format_count(2800000, s, sizeof s);
    assert_string_equal(s, "2,800,000");
    bb_kpi_format_count(999, s, sizeof s);
    assert_string_equal(s, "999");
    bb_kpi_format_count(-1234, s, sizeof s);
    assert_string_equal(s, "-1,234");
}

/* ---- Part 4 from its counts, on the built-in plan --------------------------- */

static void add_rows(bb_kpi_facts *f, const char *input, const char *day, const char *group,
                     int64_t v)
{
    struct bb_kpi_fact row;
    bb_period per;
    bb_errbuf eb;

    assert_int_equal(bb_period_parse(day, &per, &eb), BB_OK);
    memset(&row, 0, sizeof row);
    row.input = bb_plan_input(p107, input);
    row.unit = "TC";
    row.day = per.from_day;
    row.group = group;
    row.n = v ? v : 1;
    row.v = v;
    assert_int_equal(bb_kpi_facts_add(f, &row), BB_OK);
}

static void test_part4_from_its_counts(void **state)
{
    static const char *const displays[] = {"\u22126.15 %", "91.12 % (+10.92 pt)", "80.00 %",
                                           "+1.36 pt", "\u221267.6 %", "\u22120.51 %"};
    static const bool achieved[] = {true, true, true, false, true, true};
    struct bb_kpi_source src;
    bb_kpi_facts *f;
    bb_period per;
    bb_errbuf eb;
    size_t i;
    cJSON *j;
    (void)state;

    assert_int_equal(bb_kpi_facts_new(p107, cat, &f), BB_OK);
    add_rows(f, "criminal_cases", "2016-03-03", NULL, 14135);
    add_rows(f, "criminal_cases", "2017-03-03", NULL, 13265);
    add_rows(f, "clearances", "2017-03-03", NULL, 12087);
    for (i = 1; i <= 25; i++) {
        char code[8];
        snprintf(code, sizeof code, "INT-%02zu", i);
        add_rows(f, "intersection_casualties", "2016-03-03", code, 10);
        add_rows(f, "intersection_casualties", "2017-03-03", code, i <= 20 ? 9 : 10);
    }
    add_rows(f, "parking_citations", "2017-03-03", NULL, 50000);
    add_rows(f, "listed_segment_citations", "2017-03-03", NULL, 22210);
    add_rows(f, "roadworks_violations", "2015-03-03", NULL, 1150);
    add_rows(f, "roadworks_violations", "2016-03-03", NULL, 1048);
    add_rows(f, "roadworks_violations", "2017-03-03", NULL, 356);
    add_rows(f, "attitude_complaints", "2016-03-03", NULL, 491);
    add_rows(f, "attitude_complaints", "2017-03-03", NULL, 460);
    bb_kpi_facts_source(f, &src);
    assert_int_equal(bb_period_parse("106H1", &per, &eb), BB_OK);
    bb_kpi_card_free(&card);
    assert_int_equal(bb_kpi_evaluate(p107, cat, &per, "TC", &src, BB_LANG_ZH, &card, &eb), BB_OK);
    for (i = 0; i < 6; i++)
        expect(&card.results[i], displays[i], achieved[i]);
    assert_int_equal(card.score, 60);
    assert_int_equal(card.total, 70);
    assert_true(fabs(fig(&card.results[0], "value") - 473.75) < 0.005);
    assert_true(fabs(fig(&card.results[0], "value_1y") - 504.82) < 0.005);
    j = bb_kpi_card_json(&card, cat);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "score"), "achieved")->valueint,
                     60);
    /* Part 4's numbering and one unit per figure: a target is written in its value's unit. */
    {
        static const char *const labels[] = {
            "1、每十萬人刑事案件發生率(10%)", "2、刑案破獲率(15%)", "1、易肇事路口改善完成率(10%)",
            "2、取締重大違規停車成長率(10%)", "3、道路違規施工查察取締案件數下降率(15%)",
            "1、投訴案件數下降率(10%)"};
        char s[600];
        bb_kpi_goal_label(card.results[4].kpi->goal, BB_LANG_ZH, s, sizeof s);
        assert_string_equal(s, "二、精進交通執法，促進交通順暢(35%)");
        bb_kpi_goal_label(card.results[5].kpi->goal, BB_LANG_EN, s, sizeof s);
        assert_string_equal(s, "三. Care how the public feels, better service (10 %)");
        for (i = 0; i < 6; i++) {
            const struct bb_plan_kpi *k = card.results[i].kpi;
            int pt = strcmp(k->unit, "pt") == 0;
            bb_kpi_label(k, BB_LANG_ZH, s, sizeof s);
            assert_string_equal(s, labels[i]);
            assert_true(pt == (strcmp(k->id, "K2") == 0 || strcmp(k->id, "K4") == 0));
            assert_true(!strstr(card.results[i].display, pt ? " %" : "pt") || i == 1);
            assert_non_null(strstr(k->target_text.zh, pt ? "pt" : "%"));
            assert_non_null(strstr(k->target_text.en, pt ? "pt" : "%"));
            assert_null(strstr(k->target_text.zh, pt ? "%" : "pt"));
            assert_null(strstr(k->target_text.en, pt ? "%" : "pt"));
        }
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
                            "score"), "text"), "zh-TW")->valuestring, "60 / 70");
    }
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "period"), "roc")->valuestring,
                        "106H1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "period"),
                                            "last_day")->valuestring, "2017-06-30");
    cJSON_Delete(j);
    bb_kpi_card_free(&card);
    bb_kpi_facts_free(f);
}

static int free_card(void **state)
{
    (void)state;
    bb_kpi_card_free(&card);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_per_capita_change, free_card),
        cmocka_unit_test_teardown(test_ratio_vs_baseline, free_card),
        cmocka_unit_test_teardown(test_improved_share, free_card),
        cmocka_unit_test_teardown(test_change_vs_prior_average, free_card),
        cmocka_unit_test_teardown(test_change_per_reference_and_revisions, free_card),
        cmocka_unit_test_teardown(test_periods_across_year_end_and_roc, free_card),
        cmocka_unit_test_teardown(test_drill_down_adds_up, free_card),
        cmocka_unit_test_teardown(test_history_only_without_records, free_card),
        cmocka_unit_test_teardown(test_missing_inputs_are_named, free_card),
        cmocka_unit_test(test_rounding_as_printed),
        cmocka_unit_test_teardown(test_part4_from_its_counts, free_card),
    };
    return cmocka_run_group_tests_name("bb_kpi", tests, setup, teardown);
}
