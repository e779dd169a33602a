/*
 * bb_kpi — the plan's KPIs computed from counts (docs/KPIS.md,
 * DESIGN.md §7).  Two halves, both free of SQL:
 *
 * Facts.  A record counts towards a plan input when it is final (drafts
 * and voided records never count), of the input's kind and meets every
 * condition; it then adds its measure (1 for a count) to the fact
 *   (input, org unit, Taipei day of its time field, group)
 * for its own org unit AND every unit above it (station → precinct →
 * city), so any unit's figure for any period is a sum over its own rows
 * and aggregation up the tree is exact by construction.  A fact holds n
 * (records) and v (the measure summed).  bb_kpi_facts is an in-memory map
 * of such rows: HQ's merge collects a batch's changes in one (a new record
 * +1, a new revision −old +new, a void −old) and adds them to hq.db in the
 * same transaction; `kpi --verify` rebuilds one from raw records and
 * compares; tests compute KPIs from one directly.
 *
 * KPIs.  bb_kpi_evaluate computes every KPI of a plan for a period and an
 * org unit from a bb_kpi_source (sums of facts: the store, or a map),
 * reference figures and historical counts of the plan, into a scorecard
 * that says, per KPI, the value as Part 4 prints it, whether the target is
 * met, every figure behind it and where it came from — or why it cannot be
 * computed ("no population for P06-S03 in 2017").
 *
 *   "Same period last year" is bb_period_shift_years(P, -1).  A comparison
 *   figure (last year, two years before) or a denominator needs records of
 *   the input somewhere in the plan's root unit in that period, or a
 *   historical count for exactly that period and unit; otherwise the KPI
 *   says which figure is missing.  A current count of 0 is just 0.
 *   Reference figures are per Gregorian year; a period inside one year
 *   uses that year's figure, one that spans years the days-weighted mean
 *   of each year's figure (each must exist).
 *   The printed figure is rounded half away from zero to the KPI's
 *   decimals, and achievement is judged on the printed figure (so that
 *   "80.00 %" against "≥ 80 %" is achieved, as a reader would judge it).
 *   improved_share looks at the plan list's codes that lie in the org unit
 *   (an intersection of precinct P03 is in TC, P03 and P03's stations) and
 *   counts each one's input at the plan's root unit (an accident at a
 *   listed intersection counts whichever unit recorded it).
 *
 * Errors: bb_err; BB_ERR_NOMEM; a source's own errors pass through.  A KPI
 * that cannot be computed is not an error: its result says why.
 */
#ifndef BB_KPI_H
#define BB_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"
#include "bb_plan.h"
#include "bb_time.h"

/* ---- facts -------------------------------------------------------------- */

/* One row of facts.  Strings point into the catalog (unit and group codes). */
struct bb_kpi_fact {
    const struct bb_plan_input *input;
    const char *unit;        /* the unit the row is for (records within it) */
    int64_t day;             /* Taipei day number */
    const char *group;       /* NULL when the input is not grouped / no value */
    int64_t n;               /* records */
    int64_t v;               /* measure summed */
};

/*
 * The contributions of one record to a plan's inputs, for its own unit
 * only: calls fn once per input the record counts towards, with n = 1 and
 * v = its measure.  A record that is not final, whose kind no input counts,
 * whose unit or group code is not in the catalog, or whose time field is
 * missing or unreadable contributes nothing.  Returns the number of calls.
 */
size_t bb_kpi_record_contribs(const bb_plan *p, const bb_catalog *cat, const cJSON *rec,
                              void (*fn)(void *ctx, const struct bb_kpi_fact *f), void *ctx);

typedef struct bb_kpi_facts bb_kpi_facts;

/* An empty map for plan p (both must outlive it). */
bb_err bb_kpi_facts_new(const bb_plan *p, const bb_catalog *cat, bb_kpi_facts **out);
void bb_kpi_facts_free(bb_kpi_facts *f);

/*
 * Add sign (+1 or -1) times the record's contributions, for its unit and
 * every unit above it; *inputs (may be NULL) receives how many inputs the
 * record counts towards.  Adding a record and then subtracting it leaves
 * rows with n = 0 and v = 0 (bb_kpi_facts_next skips them).
 */
bb_err bb_kpi_facts_record(bb_kpi_facts *f, const cJSON *rec, int sign, size_t *inputs);

/* Add one row's n and v (for a map rebuilt from stored rows). */
bb_err bb_kpi_facts_add(bb_kpi_facts *f, const struct bb_kpi_fact *row);

/* Rows with n or v not 0, in no particular order: *cursor = 0 to start. */
bool bb_kpi_facts_next(const bb_kpi_facts *f, size_t *cursor, struct bb_kpi_fact *row);

/* The row for a key, or NULL; unit and group are compared as strings. */
const struct bb_kpi_fact *bb_kpi_facts_get(const bb_kpi_facts *f,
                                           const struct bb_plan_input *in, const char *unit,
                                           int64_t day, const char *group);

/* ---- what KPIs are computed from ---------------------------------------- */

struct bb_kpi_source {
    void *ctx;
    /*
     * n and v of input over the Taipei days [from_day, to_day) for the
     * records within org (its own row: facts are kept per level), for one
     * group, or summed over all groups when group is NULL.
     */
    bb_err (*sum)(void *ctx, const struct bb_plan_input *in, const char *org, int64_t from_day,
                  int64_t to_day, const char *group, int64_t *n, int64_t *v, bb_errbuf *eb);
};

/* A source that sums a map (a linear scan; for tests and small maps). */
void bb_kpi_facts_source(const bb_kpi_facts *f, struct bb_kpi_source *src);

/* ---- scorecards --------------------------------------------------------- */

enum bb_kpi_origin {
    BB_KPI_FROM_RECORDS = 1,    /* facts of merged records */
    BB_KPI_FROM_HISTORY,        /* the plan's historical counts */
    BB_KPI_FROM_REFERENCE,      /* the plan's reference figures */
    BB_KPI_FROM_PLAN,           /* a baseline or target of the plan */
    BB_KPI_COMPUTED             /* computed from the figures above it */
};
const char *bb_kpi_origin_name(enum bb_kpi_origin o);   /* "records", ... */

#define BB_KPI_MAX_FIGURES 16

struct bb_kpi_figure {
    char name[32];              /* stable key: "count", "count_1y", "population", ... */
    char label[200];            /* in the card's language */
    double value;
    bool integral;              /* a count or headcount (printed without decimals) */
    enum bb_kpi_origin origin;
    char period[BB_PERIOD_LABEL_MAX];   /* Gregorian label, "" when none */
    char org[32];               /* "" when none */
    char detail[400];           /* which records, which figure, or how computed */
};

struct bb_kpi_group {           /* improved_share: one listed code */
    const char *code;           /* catalog string */
    int64_t now, before;
    enum bb_kpi_origin now_origin, before_origin;
    bool improved;
};

struct bb_kpi_result {
    const struct bb_plan_kpi *kpi;
    bool ok;                    /* computed; else `missing` says why */
    char missing[600];
    double value;               /* in kpi->unit */
    double rounded;             /* to kpi->decimals: the printed figure */
    double ratio;               /* ratio_vs_baseline: the ratio itself (%) */
    bool achieved;
    char display[80];           /* "−6.15 %", "91.12 % (+10.92 pt)", "+1.36 pt" */
    char formula[400];          /* the computation with its numbers */
    struct bb_kpi_figure figs[BB_KPI_MAX_FIGURES];
    size_t nfigs;
    struct bb_kpi_group *groups;   /* malloc'd; improved_share only */
    size_t ngroups;
};

struct bb_kpi_card {
    const bb_plan *plan;
    bb_period period;
    char org[32];
    enum bb_lang lang;
    struct bb_kpi_result *results;  /* one per KPI, in plan order; malloc'd */
    size_t n;
    int score;                  /* weights of the achieved KPIs */
    int total;                  /* weights of all KPIs */
    size_t missing;             /* KPIs that could not be computed */
};

/*
 * Compute every KPI of p for period and org (a unit of the catalog within
 * the plan's root) into card (free with bb_kpi_card_free).  Labels and
 * messages are in lang.  BB_ERR_INVALID when org is not a unit within the
 * plan's root; a source error passes through.
 */
bb_err bb_kpi_evaluate(const bb_plan *p, const bb_catalog *cat, const bb_period *period,
                       const char *org, const struct bb_kpi_source *src, enum bb_lang lang,
                       struct bb_kpi_card *card, bb_errbuf *eb);
void bb_kpi_card_free(struct bb_kpi_card *card);

/*
 * The goal and the KPI as the plan's tables number them (Part 2/4: goals
 * 一、二、三, KPIs 1、2、3 within each goal), in lang — the one wording of
 * the CLI table, the JSON/CSV and the page:
 *   "一、積極查緝犯罪，確保社會安寧(25%)"   "1、每十萬人刑事案件發生率(10%)"
 *   "一. Fight crime actively, ... (25 %)"   "1. Criminal cases per ... (10 %)"
 */
void bb_kpi_goal_label(const struct bb_plan_goal *g, enum bb_lang lang, char *out,
                       size_t size);
void bb_kpi_label(const struct bb_plan_kpi *k, enum bb_lang lang, char *out, size_t size);

/*
 * The weighted score as a line reads it: "25 / 70", and with KPIs that
 * cannot be computed (which count neither as achieved nor as missed)
 * "25 / 70（4 項無法計算）" / "25 / 70 (4 cannot be computed)".
 */
void bb_kpi_score_text(const struct bb_kpi_card *card, enum bb_lang lang, char *out,
                       size_t size);

/* The scorecard as JSON (what `kpi --format json` prints and the API sends);
 * NULL when out of memory.  A KPI that cannot be computed has "ok": false,
 * "achieved": null and "missing": why; goals and KPIs carry "label" (both
 * languages, bb_kpi_goal_label / bb_kpi_label) and the score its "text". */
cJSON *bb_kpi_card_json(const struct bb_kpi_card *card, const bb_catalog *cat);

/*
 * Round half away from zero to `decimals` and print with the typographic
 * minus (U+2212), a '+' when sign is set and the figure is above 0, and
 * " UNIT" when unit is not NULL: "−6.15 %", "+1.36 pt", "80.00 %".
 */
double bb_kpi_round(double v, int decimals);
void bb_kpi_format(double v, int decimals, bool sign, const char *unit, char *out, size_t size);

/* A whole number with thousands separators: 2800000 → "2,800,000". */
void bb_kpi_format_count(int64_t v, char *out, size_t size);

/* What an input counts, in one line: kind, conditions, time field, measure. */
void bb_kpi_describe_input(const struct bb_plan_input *in, char *out, size_t size);

#endif
