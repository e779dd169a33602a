/*
 * hq_cmd_kpi.c — `beatbook-hq kpi --period P`: the plan's scorecard for a
 * period and an org unit, computed from the KPI facts (hq_facts.h) by
 * shared/bb_kpi.c, printed in the layout of the plan's Part 4 (策略績效目標,
 * 衡量指標, 原訂目標值, 實際值, 達成情形) with the weighted score, or as JSON or
 * CSV.  --explain adds every figure behind each KPI and where it came from;
 * --verify first recomputes the facts from the raw records and refuses to
 * print figures that disagree with them.
 *
 * Arguments are checked before the store is opened (a bad period or org unit
 * is a usage error), and the command only reads.
 */
#include "hq_cli.h"
#include "hq_facts.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_kpi.h"
#include "bb_text.h"
#include "bb_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIFFS 20

enum format { FMT_TABLE, FMT_JSON, FMT_CSV };

static void help(void)
{
    fputs("usage: beatbook-hq kpi --period P [--org CODE] [--plan ID]\n"
          "                       [--format table|json|csv] [--lang zh-TW|en] [--explain]\n"
          "                       [--verify] [--data DIR]\n"
          "\n"
          "The plan's KPIs for period P and org unit CODE (default: the plan's city unit),\n"
          "computed from the records merged so far, in the layout of the plan's Part 4 with\n"
          "the weighted score.\n"
          "\n"
          "  --period P   2018, 107 (ROC), 2018H1, 107H1, 2018Q2, 2018-03, 107-03,\n"
          "               2018-01..2018-03, [2018-01-01,2018-02-15)\n"
          "  --org CODE   a precinct (P06), station (P06-S03) or unit (see: beatbook ref units)\n"
          "  --plan ID    default: the plan of P's year, else the next plan after it (the\n"
          "               107 plan reports 106 in its Part 4), else the latest\n"
          "  --format     table (default), json (with every figure), csv (UTF-8, BOM)\n"
          "  --lang       language of titles and notes (default: hq.conf, else zh-TW)\n"
          "  --explain    per KPI: numerator, denominator, comparison figures and where each\n"
          "               came from (records via facts, historical counts, reference)\n"
          "  --verify     first recompute the facts from the raw records; any difference is\n"
          "               an error (exit 74) naming the input, org unit and day\n"
          "\n"
          "A KPI whose inputs are missing (no population for a unit, no records for last\n"
          "year) says which and why instead of a figure (無法計算), and counts neither as\n"
          "achieved nor as missed: the score says how many, \"25 / 70（4 項無法計算）\".\n",
          stdout);
}

#define L(lang, en, zh) ((lang) == BB_LANG_EN ? (en) : (zh))

/* ---- choosing the plan ------------------------------------------------------ */

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
        return bb_fail(eb, BB_ERR_NOTFOUND, "no plan is loaded; load one with: beatbook-hq "
                       "plan load FILE (the built-in 107 plan: beatbook-hq plan load "
                       "--builtin %s)", HQ_PLAN_BUILTIN);
    }
    bb_civil_from_days(per->from_day, &y, &m, &d);
    /* The list is ordered by year: exact year, else the first later one, else the last. */
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

/* ---- table ------------------------------------------------------------------ */

struct row {
    char goal[400], kpi[400], target[120], value[120], status[200];
};

static void unit_name(const bb_catalog *cat, const char *code, enum bb_lang lang, char *out,
                      size_t size)
{
    const struct bb_ref_item *u = bb_catalog_ref(cat, "units", code);
    snprintf(out, size, "%s%s%s%s", u ? bb_label(&u->label, lang, code) : code,
             L(lang, " (", "（"), code, L(lang, ")", "）"));
}

static void day_label(int64_t day, enum bb_lang lang, char out[BB_PERIOD_LABEL_MAX])
{
    int64_t t = day * 86400 - BB_TAIPEI_OFFSET_MIN * 60;
    int y, m, d;

    if (lang != BB_LANG_EN && bb_roc_format_date(t, out) == BB_OK)
        return;
    bb_civil_from_days(day, &y, &m, &d);
    snprintf(out, BB_PERIOD_LABEL_MAX, "%04d-%02d-%02d", y % 10000, m, d);
}

static void heading(const struct bb_kpi_card *card, const bb_catalog *cat, FILE *out)
{
    enum bb_lang lang = card->lang;
    char pl[BB_PERIOD_LABEL_MAX], first[BB_PERIOD_LABEL_MAX], last[BB_PERIOD_LABEL_MAX];
    char org[300];

    if (lang == BB_LANG_EN || bb_period_roc_label(&card->period, pl) != BB_OK)
        snprintf(pl, sizeof pl, "%s", card->period.label);
    day_label(card->period.from_day, lang, first);
    day_label(card->period.to_day - 1, lang, last);
    unit_name(cat, card->org, lang, org, sizeof org);
    fprintf(out, "%s%s%s%s\n", bb_label(bb_plan_title(card->plan), lang, ""),
            L(lang, " (", "（"), bb_plan_id(card->plan), L(lang, ")", "）"));
    if (lang == BB_LANG_EN)
        fprintf(out, "Period %s (%s to %s)   Org unit %s\n\n", pl, first, last, org);
    else
        fprintf(out, "期間 %s（%s 至 %s）　單位 %s\n\n", pl, first, last, org);
}

static bb_err print_table(const struct bb_kpi_card *card, const bb_catalog *cat)
{
    enum bb_lang lang = card->lang;
    struct row *rows = calloc(card->n ? card->n : 1, sizeof *rows);
    const char *head[5];
    char score[120];
    int w[5], i;
    size_t r, k;

    if (!rows)
        return BB_ERR_NOMEM;
    head[0] = L(lang, "Strategic goal", "策略績效目標");
    head[1] = L(lang, "Indicator", "衡量指標");
    head[2] = L(lang, "Target", "原訂目標值");
    head[3] = L(lang, "Actual", "實際值");
    head[4] = L(lang, "Achieved", "達成情形");
    for (r = 0; r < card->n; r++) {
        const struct bb_kpi_result *res = &card->results[r];
        const struct bb_plan_kpi *kp = res->kpi;
        /* The goal shows on its first KPI only, as in the plan's table; goals and KPIs
         * are numbered as the plan numbers them (bb_kpi_goal_label, bb_kpi_label). */
        if (r == 0 || card->results[r - 1].kpi->goal != kp->goal)
            bb_kpi_goal_label(kp->goal, lang, rows[r].goal, sizeof rows[r].goal);
        bb_kpi_label(kp, lang, rows[r].kpi, sizeof rows[r].kpi);
        snprintf(rows[r].target, sizeof rows[r].target, "%s",
                 bb_label(&kp->target_text, lang, ""));
        if (res->ok) {
            snprintf(rows[r].value, sizeof rows[r].value, "%s", res->display);
            snprintf(rows[r].status, sizeof rows[r].status, "%s",
                     res->achieved ? L(lang, "achieved", "達成") : L(lang, "not achieved",
                                                                     "未達成"));
        } else {
            snprintf(rows[r].value, sizeof rows[r].value, "—");
            snprintf(rows[r].status, sizeof rows[r].status, "%s",
                     L(lang, "cannot be computed (see below)", "無法計算（見下）"));
        }
    }
    for (i = 0; i < 5; i++)
        w[i] = bb_text_width(head[i]);
    for (r = 0; r < card->n; r++) {
        const char *cells[5] = {rows[r].goal, rows[r].kpi, rows[r].target, rows[r].value,
                                rows[r].status};
        for (i = 0; i < 5; i++)
            if (bb_text_width(cells[i]) > w[i])
                w[i] = bb_text_width(cells[i]);
    }
    heading(card, cat, stdout);
    for (i = 0; i < 4; i++)
        bb_text_pad(stdout, head[i], w[i] + 2);
    printf("%s\n", head[4]);
    for (r = 0; r < card->n; r++) {
        const char *cells[5] = {rows[r].goal, rows[r].kpi, rows[r].target, rows[r].value,
                                rows[r].status};
        for (i = 0; i < 4; i++)
            bb_text_pad(stdout, cells[i], w[i] + 2);
        printf("%s\n", cells[4]);
    }
    bb_kpi_score_text(card, lang, score, sizeof score);
    printf("\n%s%s\n", L(lang, "Weighted score: ", "加權分數："), score);
    for (k = 0; k < card->n; k++)
        if (!card->results[k].ok)
            printf("%s %s%s%s\n", card->results[k].kpi->id,
                   bb_label(&card->results[k].kpi->title, lang, ""),
                   L(lang, ": cannot be computed: ", "：無法計算："), card->results[k].missing);
    free(rows);
    return BB_OK;
}

static void print_explain(const struct bb_kpi_card *card, const bb_catalog *cat)
{
    enum bb_lang lang = card->lang;
    size_t r, i;

    printf("\n%s\n", L(lang, "How each figure was computed", "各指標計算方式"));
    for (r = 0; r < card->n; r++) {
        const struct bb_kpi_result *res = &card->results[r];
        const struct bb_plan_kpi *kp = res->kpi;
        int lw = 0;
        printf("\n%s %s (%s)\n", kp->id, bb_label(&kp->title, lang, ""), kp->method_name);
        if (kp->standard.zh || kp->standard.en)
            printf("  %s%s\n", L(lang, "standard: ", "衡量標準："),
                   bb_label(&kp->standard, lang, ""));
        for (i = 0; i < res->nfigs; i++)
            if (bb_text_width(res->figs[i].label) > lw)
                lw = bb_text_width(res->figs[i].label);
        for (i = 0; i < res->nfigs; i++) {
            const struct bb_kpi_figure *f = &res->figs[i];
            char v[48];
            if (f->integral)
                bb_kpi_format_count((int64_t)f->value, v, sizeof v);
            else
                snprintf(v, sizeof v, "%.2f", f->value);
            printf("  ");
            bb_text_pad(stdout, f->label, lw + 2);
            printf("%12s  [%s%s%s] %s\n", v, bb_kpi_origin_name(f->origin), f->org[0] ? " " : "",
                   f->org, f->detail);
        }
        for (i = 0; i < res->ngroups; i++) {
            const struct bb_kpi_group *g = &res->groups[i];
            const struct bb_ref_item *it = bb_catalog_ref(cat, kp->list->name, g->code);
            printf("    %-7s %lld → %lld  %s%s%s\n", g->code, (long long)g->before,
                   (long long)g->now,
                   g->improved ? L(lang, "improved", "已改善") : L(lang, "not improved",
                                                                  "未改善"),
                   it ? "  " : "", it ? bb_label(&it->label, lang, "") : "");
        }
        if (res->ok)
            printf("  = %s → %s; %s %s: %s\n", res->formula, res->display,
                   L(lang, "target", "目標"), bb_label(&kp->target_text, lang, ""),
                   res->achieved ? L(lang, "achieved", "達成") : L(lang, "not achieved", "未達成"));
        else
            printf("  %s%s\n", L(lang, "cannot be computed: ", "無法計算："), res->missing);
    }
}

/* ---- CSV ----------------------------------------------------------------------- */

static void csv_field(const char *s, int last)
{
    const char *p;

    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (p = s; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    fputs(last ? "\r\n" : ",", stdout);
}

static void print_csv(const struct bb_kpi_card *card)
{
    enum bb_lang lang = card->lang;
    char num[64], rounded[64], score[120], label[600];
    size_t r;

    fputs("\xEF\xBB\xBF", stdout);   /* BOM: Excel reads UTF-8 */
    csv_field("plan", 0), csv_field("period", 0), csv_field("org", 0), csv_field("kpi", 0);
    csv_field("goal", 0), csv_field("title", 0), csv_field("weight", 0);
    csv_field("target", 0), csv_field("value", 0), csv_field("rounded", 0);
    csv_field("display", 0), csv_field("achieved", 0), csv_field("missing", 0);
    csv_field("goal_number", 0), csv_field("number", 0), csv_field("label", 1);
    for (r = 0; r < card->n; r++) {
        const struct bb_kpi_result *res = &card->results[r];
        char w[16];
        snprintf(w, sizeof w, "%d", res->kpi->weight);
        if (res->ok) {
            snprintf(num, sizeof num, "%.10g", res->value);
            snprintf(rounded, sizeof rounded, "%.*f", res->kpi->decimals, res->rounded);
        } else {
            num[0] = rounded[0] = '\0';
        }
        csv_field(bb_plan_id(card->plan), 0);
        csv_field(card->period.label, 0);
        csv_field(card->org, 0);
        csv_field(res->kpi->id, 0);
        csv_field(res->kpi->goal->id, 0);
        csv_field(bb_label(&res->kpi->title, lang, ""), 0);
        csv_field(w, 0);
        csv_field(bb_label(&res->kpi->target_text, lang, ""), 0);
        csv_field(num, 0);
        csv_field(rounded, 0);
        csv_field(res->ok ? res->display : "", 0);
        csv_field(res->ok ? (res->achieved ? "yes" : "no") : "", 0);
        csv_field(res->ok ? "" : res->missing, 0);
        csv_field(res->kpi->goal->number, 0);
        csv_field(res->kpi->number, 0);
        bb_kpi_label(res->kpi, lang, label, sizeof label);
        csv_field(label, 1);
    }
    bb_kpi_score_text(card, lang, score, sizeof score);
    snprintf(num, sizeof num, "%d", card->score);
    csv_field(bb_plan_id(card->plan), 0);
    csv_field(card->period.label, 0);
    csv_field(card->org, 0);
    csv_field("score", 0), csv_field("", 0);
    csv_field(L(lang, "weighted score", "加權分數"), 0);
    snprintf(rounded, sizeof rounded, "%d", card->total);
    csv_field(rounded, 0), csv_field("", 0), csv_field(num, 0), csv_field(num, 0);
    csv_field(score, 0), csv_field("", 0), csv_field("", 0);
    csv_field("", 0), csv_field("", 0), csv_field("", 1);
}

/* ---- verify ------------------------------------------------------------------- */

static bb_err verify(sqlite3 *db, const bb_catalog *cat, const bb_plan *p,
                     struct hq_facts_check *check, bb_errbuf *eb)
{
    struct hq_facts_diff diffs[MAX_DIFFS];
    char day[BB_PERIOD_LABEL_MAX];
    size_t i;
    bb_err err;

    if ((err = hq_facts_verify(db, cat, p, check, diffs, MAX_DIFFS, eb)) != BB_OK)
        return err;
    if (check->ndiff == 0)
        return BB_OK;
    for (i = 0; i < check->ndiff && i < MAX_DIFFS; i++) {
        const struct hq_facts_diff *d = &diffs[i];
        day_label(d->day, BB_LANG_EN, day);
        fprintf(stderr, "beatbook-hq kpi: verify: input %s, org %s%s%s, day %s: facts hold "
                "n=%lld v=%lld, the records give n=%lld v=%lld\n", d->input, d->org,
                d->group[0] ? ", group " : "", d->group, day, (long long)d->stored_n,
                (long long)d->stored_v, (long long)d->want_n, (long long)d->want_v);
    }
    if (check->ndiff > MAX_DIFFS)
        fprintf(stderr, "beatbook-hq kpi: verify: ... and %zu more\n",
                check->ndiff - MAX_DIFFS);
    day_label(diffs[0].day, BB_LANG_EN, day);
    return bb_fail(eb, BB_ERR_CORRUPT, "verify failed: %zu KPI fact rows of plan %s differ from "
                   "the records (first: input %s, org %s, day %s); no figures printed",
                   check->ndiff, bb_plan_id(p), diffs[0].input, diffs[0].org, day);
}

bb_err hq_cmd_kpi(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"period", required_argument, NULL, 'p'},
        {"org", required_argument, NULL, 'o'},
        {"plan", required_argument, NULL, 'P'},
        {"format", required_argument, NULL, 'f'},
        {"lang", required_argument, NULL, 'l'},
        {"explain", no_argument, NULL, 'e'},
        {"verify", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *period = NULL, *org = NULL, *plan_id = NULL, *lang_s = NULL;
    enum format fmt = FMT_TABLE;
    enum bb_lang lang = BB_LANG_ZH;
    struct hq_facts_source fs;
    struct bb_kpi_source src;
    struct bb_kpi_card card;
    struct hq_facts_check check;
    const struct bb_ref_item *unit = NULL;
    struct hq_home h;
    char dir[HQ_PATH_MAX];
    bb_period per;
    bb_errbuf sub;
    bb_plan *p = NULL;
    sqlite3 *db = NULL;
    cJSON *json = NULL;
    int explain = 0, do_verify = 0, c;
    bb_err err;

    memset(&card, 0, sizeof card);
    memset(&fs, 0, sizeof fs);
    memset(&check, 0, sizeof check);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'p': period = optarg; break;
        case 'o': org = optarg; break;
        case 'P': plan_id = optarg; break;
        case 'l': lang_s = optarg; break;
        case 'e': explain = 1; break;
        case 'v': do_verify = 1; break;
        case 'f':
            if (strcmp(optarg, "table") == 0)
                fmt = FMT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else if (strcmp(optarg, "csv") == 0)
                fmt = FMT_CSV;
            else
                return hq_usage(eb, "--format \"%.40s\": expected table, json or csv", optarg);
            break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!period)
        return hq_usage(eb, "--period P is required (e.g. 107H1, 2018, 2018Q2, 107-03)");
    if (bb_period_parse(period, &per, &sub) != BB_OK)
        return hq_usage(eb, "--period: %s", sub.msg);
    if (lang_s && bb_lang_parse(lang_s, &lang) != BB_OK)
        return hq_usage(eb, "--lang \"%.20s\": expected zh-TW or en", lang_s);
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, HQ_HOME_CONF | HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    if (!lang_s)
        lang = h.lang;
    if (org && !(unit = bb_catalog_ref(h.cat, "units", org))) {
        err = hq_usage(eb, "--org \"%.40s\": no such org unit (see: beatbook ref units)", org);
        goto out;
    }
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK ||
        (err = choose_plan(db, h.cat, plan_id, &per, &p, eb)) != BB_OK)
        goto out;
    if (unit && !bb_catalog_unit_within(h.cat, unit->code, bb_plan_org_root(p))) {
        err = hq_usage(eb, "--org %s is not within plan %s's unit %s", unit->code,
                       bb_plan_id(p), bb_plan_org_root(p));
        goto out;
    }
    /* One read transaction: the figures and the verification see the same data. */
    if ((err = bb_db_exec(db, "BEGIN", eb)) != BB_OK)
        goto out;
    if (do_verify && (err = verify(db, h.cat, p, &check, eb)) != BB_OK)
        goto out;
    if ((err = hq_facts_source_open(db, p, &fs, &src, eb)) != BB_OK ||
        (err = bb_kpi_evaluate(p, h.cat, &per, unit ? unit->code : bb_plan_org_root(p), &src,
                               lang, &card, eb)) != BB_OK)
        goto out;
    switch (fmt) {
    case FMT_TABLE:
        if ((err = print_table(&card, h.cat)) != BB_OK) {
            bb_fail(eb, err, "kpi: out of memory");
            goto out;
        }
        if (explain)
            print_explain(&card, h.cat);
        if (do_verify)
            printf(L(lang, "\nverify: the facts agree with the records (%zu records read, %zu "
                           "counted, %zu fact rows)\n",
                     "\n驗證：事實表與原始紀錄一致（讀取 %zu 筆紀錄，計入 %zu 筆，事實 %zu 列）\n"),
                   check.records, check.counted, check.rows);
        break;
    case FMT_JSON:
        if (!(json = bb_kpi_card_json(&card, h.cat))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "kpi: out of memory");
            goto out;
        }
        if (do_verify) {
            cJSON *v = cJSON_AddObjectToObject(json, "verify");
            if (!v || !cJSON_AddBoolToObject(v, "ok", 1) ||
                !cJSON_AddNumberToObject(v, "records", (double)check.records) ||
                !cJSON_AddNumberToObject(v, "counted", (double)check.counted) ||
                !cJSON_AddNumberToObject(v, "fact_rows", (double)check.rows)) {
                err = bb_fail(eb, BB_ERR_NOMEM, "kpi: out of memory");
                goto out;
            }
        }
        err = hq_print_json(json);
        break;
    case FMT_CSV:
        print_csv(&card);
        if (do_verify)
            fprintf(stderr, "verify: the facts agree with the records (%zu records read, %zu "
                    "counted, %zu fact rows)\n", check.records, check.counted, check.rows);
        break;
    }
out:
    if (db)
        bb_db_rollback(db);     /* ends the read transaction, if one is open */
    cJSON_Delete(json);
    bb_kpi_card_free(&card);
    hq_facts_source_close(&fs);
    bb_plan_free(p);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}
