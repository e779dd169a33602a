/*
 * bb_plan — a year's plan as data: goals, KPIs, the record inputs they
 * count, reference figures and historical counts (docs/KPIS.md; the 107
 * plan is schema/plans/taichung-107.json).  Next year's plan is a new file,
 * never new code: a KPI names one of a few generic methods and gives its
 * parameters, and every input is a record kind, conditions on its fields,
 * the time field that dates it, and what it measures.
 *
 * File format (JSON, UTF-8; every key below is required unless marked
 * optional, and unknown keys are refused so that a typo is an error, not a
 * silently ignored setting):
 *
 *   format     "beatbook-plan"        version   1
 *   id         [a-z0-9-]{1,40}, e.g. "taichung-107"
 *   year       the Gregorian year the plan is for (1912-2200)
 *   org_root   the org unit the plan covers, e.g. "TC" (the city)
 *   title      {"zh-TW": .., "en": ..}   source (optional) free text
 *   goals      [{id, number, weight, title}]   weight: integer 1-100, and
 *              exactly the sum of its KPIs' weights; number as the plan
 *              prints it ("一"), and a KPI's number is its place within its
 *              goal ("1", "2", "3": Part 4's 策略績效目標 / 衡量指標 table)
 *   inputs     [{id, kind, time, where (optional), measure, group_by
 *              (optional), title}]
 *       kind     a record kind of the catalog
 *       time     "occurred_at" or "data.FIELD" (a datetime field): the
 *                Taipei day that buckets the record
 *       where    [{field, eq: V} | {field, in: [V..]} | {field, in_list:
 *                LIST} | {field, present: true|false}], all must hold;
 *                values must suit the field (enum codes, booleans, numbers,
 *                ref codes); in_list names one of the plan's lists, and the
 *                field must refer to that reference list
 *       measure  "count" (each record counts 1) or {"sum": [FIELD..]}
 *                (integer or boolean fields; absent counts 0)
 *       group_by a ref field: counts are kept per referenced code
 *   kpis       [{id, goal, number, weight, title, standard (optional),
 *              method, params, target, direction, decimals}]
 *       method / params, in the terms of docs/KPIS.md (P the period):
 *         per_capita_change   {input, reference, per, baseline, compare}
 *             value(P) = input(P) / reference(year of P) × per; result =
 *             (value(P) − ref) / ref × 100 (%), ref = baseline or value(P − 1y)
 *             as compare says: "baseline", "last_year" or
 *             "baseline_if_whole_year" (K1)
 *         ratio_vs_baseline   {numerator, denominator, baseline, show}
 *             result = num(P) / den(P) × 100 − baseline (pt); show
 *             "difference" or "ratio_and_difference" (K2, K4)
 *         improved_share      {input, list, years_back}
 *             input grouped by a field referring to LIST; a listed code is
 *             improved when input(P) < input(P − years_back); result =
 *             improved / listed × 100 (%) (K3)
 *         change_vs_prior_average {input, years_back: [n..]}
 *             avg = mean of input(P − n y); result = (input(P) − avg) / avg
 *             × 100 (%) (K5)
 *         change_per_reference {input, reference, per, years_back}
 *             result = (input(P) − input(P − years_back)) / reference(year
 *             of P) × per (%) (K6)
 *       target     {op: "<=" | ">=", value, unit: "%" | "pt", text: label}
 *                  unit must be the method's (pt for ratio_vs_baseline)
 *       direction  "lower" (with "<=") or "higher" (with ">=")
 *       decimals   0-6: the printed figure; achievement is judged on it
 *   lists      {NAME: [code..]}: NAME is a catalog reference list
 *              (intersections, segments, bikepaths, units); codes must exist
 *   reference  {NAME: {title, note (optional), years: {"YYYY": {UNIT: n}}}}
 *              figures are integers > 0; a unit's listed children never add
 *              up to more than the unit
 *   history    [{input, period, org, group (optional), value, source
 *              (optional)}]: counts for periods before the system; used
 *              only when no record of the input falls in that period and unit
 *
 * Errors name the file and the place in JSON path style:
 *   taichung-108.json: $.kpis[2].method: unknown method "share" (known: ...)
 *
 * Ownership: a bb_plan owns everything reachable from it, strings included
 * (they point into its parsed tree); the catalog it was checked against
 * must outlive it (inputs point at the catalog's kinds and fields).
 * Read-only after parsing, so it may be shared by threads.
 */
#ifndef BB_PLAN_H
#define BB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bb_catalog.h"
#include "bb_err.h"

#define BB_PLAN_ID_MAX 41            /* id incl. NUL */
#define BB_PLAN_MAX_BYTES (4u << 20) /* a plan file */

enum bb_plan_op {
    BB_PLAN_EQ = 1,        /* field == value */
    BB_PLAN_IN,            /* field is one of values */
    BB_PLAN_IN_LIST,       /* field is one of a plan list's codes */
    BB_PLAN_PRESENT,       /* field is given */
    BB_PLAN_ABSENT         /* field is not given */
};

/* A value in a condition: text for enum/ref/text fields, else a number
 * (booleans are 0/1). */
struct bb_plan_value {
    const char *text;
    double number;
};

struct bb_plan_list {
    const char *name;            /* the catalog list: "intersections", ... */
    const char **codes;          /* in the plan's order */
    const char **sorted;         /* the same, sorted (for look-ups) */
    size_t n;
};

struct bb_plan_cond {
    const struct bb_field *field;
    enum bb_plan_op op;
    const struct bb_plan_value *values;   /* EQ: 1, IN: n */
    size_t nvalues;
    const struct bb_plan_list *list;      /* IN_LIST */
};

struct bb_plan_input {
    const char *id;
    size_t index;                         /* position in the plan */
    struct bb_label title;
    const struct bb_kind *kind;
    const char *time_name;                /* "occurred_at" or "data.FIELD" */
    const struct bb_field *time_field;    /* NULL: the envelope's occurred_at */
    const struct bb_plan_cond *conds;
    size_t nconds;
    const struct bb_field *const *sum;    /* NULL/0: count */
    size_t nsum;
    const struct bb_field *group_by;      /* NULL: not grouped */
};

struct bb_plan_goal {
    const char *id, *number;
    struct bb_label title;
    int weight;
};

enum bb_kpi_method {
    BB_KPI_PER_CAPITA_CHANGE = 1,
    BB_KPI_RATIO_VS_BASELINE,
    BB_KPI_IMPROVED_SHARE,
    BB_KPI_CHANGE_VS_PRIOR_AVERAGE,
    BB_KPI_CHANGE_PER_REFERENCE
};

enum bb_kpi_compare {
    BB_CMP_BASELINE = 1,
    BB_CMP_LAST_YEAR,
    BB_CMP_BASELINE_IF_WHOLE_YEAR
};

#define BB_PLAN_MAX_YEARS_BACK 8

struct bb_plan_kpi {
    const char *id, *number;
    const struct bb_plan_goal *goal;
    int weight;
    struct bb_label title, standard;      /* standard: may have NULLs */
    enum bb_kpi_method method;
    const char *method_name;
    /* params: what the method uses; the rest is NULL / 0 */
    const struct bb_plan_input *input, *numerator, *denominator;
    const char *reference;                /* a reference figure's name */
    double per;
    double baseline;
    enum bb_kpi_compare compare;
    bool show_ratio;                      /* ratio_and_difference */
    const struct bb_plan_list *list;
    int years_back[BB_PLAN_MAX_YEARS_BACK];
    size_t nyears_back;
    /* target */
    bool target_ge;                       /* ">=" (else "<=") */
    double target;
    const char *unit;                     /* "%" or "pt" */
    struct bb_label target_text;
    int decimals;
};

typedef struct bb_plan bb_plan;

/*
 * Parse and check a plan against the catalog (see the format above).
 * origin names the file in messages.  On success *out is the plan (free
 * with bb_plan_free); on failure BB_ERR_INVALID (or BB_ERR_TOOBIG,
 * BB_ERR_NOMEM) with the place in eb.
 */
bb_err bb_plan_parse(const bb_catalog *cat, const char *json, size_t len, const char *origin,
                     bb_plan **out, bb_errbuf *eb);
void bb_plan_free(bb_plan *p);

/* The built-in plan schema/plans/ID.json; BB_ERR_NOTFOUND if none. */
bb_err bb_plan_load_embedded(const bb_catalog *cat, const char *id, bb_plan **out,
                             bb_errbuf *eb);

const char *bb_plan_id(const bb_plan *p);
int bb_plan_year(const bb_plan *p);
const char *bb_plan_org_root(const bb_plan *p);
const struct bb_label *bb_plan_title(const bb_plan *p);

/* Canonical JSON of the plan as parsed (what HQ stores); owned by the plan. */
const char *bb_plan_canonical(const bb_plan *p);

size_t bb_plan_goal_count(const bb_plan *p);
const struct bb_plan_goal *bb_plan_goal_at(const bb_plan *p, size_t i);
size_t bb_plan_kpi_count(const bb_plan *p);
const struct bb_plan_kpi *bb_plan_kpi_at(const bb_plan *p, size_t i);
const struct bb_plan_kpi *bb_plan_kpi(const bb_plan *p, const char *id);
size_t bb_plan_input_count(const bb_plan *p);
const struct bb_plan_input *bb_plan_input_at(const bb_plan *p, size_t i);
const struct bb_plan_input *bb_plan_input(const bb_plan *p, const char *id);
/* The sum of the KPIs' weights (70 for the 107 plan). */
int bb_plan_total_weight(const bb_plan *p);

/* The title of a reference figure ("population"); NULL when the plan has none. */
const struct bb_label *bb_plan_reference_title(const bb_plan *p, const char *name);

/*
 * A reference figure for (name, Gregorian year, org unit): BB_OK with
 * *value, or BB_ERR_NOTFOUND (no figure of that name, year or unit).
 */
bb_err bb_plan_reference(const bb_plan *p, const char *name, int year, const char *org,
                         int64_t *value);

/*
 * A historical count of input for exactly the days [from_day, to_day), org
 * and group (NULL: ungrouped).  Returns true and sets *value (and *source,
 * when not NULL, to the entry's source text or NULL) when the plan has one.
 */
bool bb_plan_history(const bb_plan *p, const struct bb_plan_input *in, int64_t from_day,
                     int64_t to_day, const char *org, const char *group, int64_t *value,
                     const char **source);

/* True when code is in the plan list (bsearch over a sorted copy). */
bool bb_plan_list_has(const struct bb_plan_list *l, const char *code);

#endif
