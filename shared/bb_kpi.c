/*
 * bb_kpi.c — facts from records, and KPIs from facts (see bb_kpi.h).
 *
 * The fact map is open addressing over (input, unit, day, group); unit and
 * group are the catalog's own strings, so keys compare by pointer.  The
 * methods are generic: each reads its parameters from the plan's KPI and
 * its figures through one bb_kpi_source, and records every figure it used
 * with its origin so that `kpi --explain` can say where each came from.
 */
#include "bb_kpi.h"
#include "bb_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- facts: one record's contributions ------------------------------------ */

static bool value_is(const cJSON *v, const struct bb_field *f, const struct bb_plan_value *pv)
{
    switch (f->type) {
    case BB_F_ENUM:
    case BB_F_REF:
    case BB_F_TEXT:
        return cJSON_IsString(v) && strcmp(v->valuestring, pv->text) == 0;
    case BB_F_BOOLEAN:
        return cJSON_IsBool(v) && (cJSON_IsTrue(v) ? 1.0 : 0.0) == pv->number;
    case BB_F_INTEGER:
    case BB_F_NUMBER:
        return cJSON_IsNumber(v) && v->valuedouble == pv->number;
    case BB_F_DATETIME:
    case BB_F_GEO:
    case BB_F_ATTACHMENT:   /* refused by bb_plan when a plan loads */
        break;
    }
    return false;
}

static bool cond_holds(const struct bb_plan_cond *c, const cJSON *data)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, c->field->name);
    bool given = v && !cJSON_IsNull(v);
    size_t i;

    switch (c->op) {
    case BB_PLAN_PRESENT:
        return given;
    case BB_PLAN_ABSENT:
        return !given;
    case BB_PLAN_IN_LIST:
        return given && cJSON_IsString(v) && bb_plan_list_has(c->list, v->valuestring);
    case BB_PLAN_EQ:
    case BB_PLAN_IN:
        if (!given)
            return false;
        for (i = 0; i < c->nvalues; i++)
            if (value_is(v, c->field, &c->values[i]))
                return true;
        return false;
    }
    return false;
}

static int64_t measure(const struct bb_plan_input *in, const cJSON *data)
{
    int64_t sum = 0;
    size_t i;

    if (in->nsum == 0)
        return 1;
    for (i = 0; i < in->nsum; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, in->sum[i]->name);
        if (cJSON_IsBool(v))
            sum += cJSON_IsTrue(v) ? 1 : 0;
        else if (cJSON_IsNumber(v) && fabs(v->valuedouble) < 9e15)
            sum += (int64_t)v->valuedouble;
    }
    return sum;
}

size_t bb_kpi_record_contribs(const bb_plan *p, const bb_catalog *cat, const cJSON *rec,
                              void (*fn)(void *ctx, const struct bb_kpi_fact *f), void *ctx)
{
    const char *status = bb_json_str(rec, "status"), *kind = bb_json_str(rec, "kind");
    const cJSON *data = bb_json_obj(rec, "data");
    const struct bb_ref_item *unit;
    size_t i, calls = 0;
    int64_t occurred = 0;
    int have_occurred = -1;     /* not parsed yet */

    if (!status || strcmp(status, "final") != 0 || !kind || !cJSON_IsObject(data))
        return 0;
    if (!(unit = bb_catalog_ref(cat, "units", bb_json_str(rec, "org_unit") ?
                                                   bb_json_str(rec, "org_unit") : "")))
        return 0;
    for (i = 0; i < bb_plan_input_count(p); i++) {
        const struct bb_plan_input *in = bb_plan_input_at(p, i);
        struct bb_kpi_fact f;
        int64_t t;
        size_t c;

        if (strcmp(in->kind->name, kind) != 0)
            continue;
        for (c = 0; c < in->nconds; c++)
            if (!cond_holds(&in->conds[c], data))
                break;
        if (c < in->nconds)
            continue;
        if (in->time_field) {
            const char *ts = bb_json_str(data, in->time_field->name);
            if (!ts || bb_time_parse(ts, &t, NULL, NULL) != BB_OK)
                continue;
        } else {
            if (have_occurred < 0) {
                const char *ts = bb_json_str(rec, "occurred_at");
                have_occurred = ts && bb_time_parse(ts, &occurred, NULL, NULL) == BB_OK;
            }
            if (!have_occurred)
                continue;
            t = occurred;
        }
        memset(&f, 0, sizeof f);
        f.input = in;
        f.unit = unit->code;
        f.day = bb_taipei_day(t);
        if (in->group_by) {
            const char *g = bb_json_str(data, in->group_by->name);
            if (g) {
                const struct bb_ref_item *gi = bb_catalog_ref(cat, in->group_by->ref, g);
                if (!gi)
                    continue;
                f.group = gi->code;
            }
        }
        f.n = 1;
        f.v = measure(in, data);
        fn(ctx, &f);
        calls++;
    }
    return calls;
}

/* ---- facts: the map ----------------------------------------------------------- */

struct slot {
    struct bb_kpi_fact f;
    bool used;
};

struct bb_kpi_facts {
    const bb_plan *plan;
    const bb_catalog *cat;
    struct slot *slots;
    size_t cap;             /* a power of two */
    size_t used;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t key_hash(const struct bb_kpi_fact *k)
{
    uint64_t h = 0x84222325cbf29ce4ull;
    h = mix(h, (uint64_t)k->input->index);
    h = mix(h, (uint64_t)(uintptr_t)k->unit);
    h = mix(h, (uint64_t)k->day);
    h = mix(h, (uint64_t)(uintptr_t)k->group);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return h;
}

static bool key_eq(const struct bb_kpi_fact *a, const struct bb_kpi_fact *b)
{
    return a->input == b->input && a->unit == b->unit && a->day == b->day &&
           a->group == b->group;
}

bb_err bb_kpi_facts_new(const bb_plan *p, const bb_catalog *cat, bb_kpi_facts **out)
{
    bb_kpi_facts *f = calloc(1, sizeof *f);

    *out = NULL;
    if (!f)
        return BB_ERR_NOMEM;
    f->plan = p;
    f->cat = cat;
    f->cap = 1024;
    if (!(f->slots = calloc(f->cap, sizeof *f->slots))) {
        free(f);
        return BB_ERR_NOMEM;
    }
    *out = f;
    return BB_OK;
}

void bb_kpi_facts_free(bb_kpi_facts *f)
{
    if (!f)
        return;
    free(f->slots);
    free(f);
}

static struct slot *find_slot(struct slot *slots, size_t cap, const struct bb_kpi_fact *k)
{
    size_t i = (size_t)key_hash(k) & (cap - 1);

    while (slots[i].used && !key_eq(&slots[i].f, k))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bb_err grow(bb_kpi_facts *f)
{
    size_t ncap = f->cap * 2, i;
    struct slot *ns;

    if (ncap > SIZE_MAX / sizeof *ns)
        return BB_ERR_NOMEM;
    if (!(ns = calloc(ncap, sizeof *ns)))
        return BB_ERR_NOMEM;
    for (i = 0; i < f->cap; i++)
        if (f->slots[i].used)
            *find_slot(ns, ncap, &f->slots[i].f) = f->slots[i];
    free(f->slots);
    f->slots = ns;
    f->cap = ncap;
    return BB_OK;
}

/* Add n, v to the row for key (unit and group already canonical). */
static bb_err add_row(bb_kpi_facts *f, const struct bb_kpi_fact *key, int64_t n, int64_t v)
{
    struct slot *s;
    bb_err err;

    if ((f->used + 1) * 10 > f->cap * 7 && (err = grow(f)) != BB_OK)
        return err;
    s = find_slot(f->slots, f->cap, key);
    if (!s->used) {
        s->used = true;
        s->f = *key;
        s->f.n = 0;
        s->f.v = 0;
        f->used++;
    }
    s->f.n += n;
    s->f.v += v;
    return BB_OK;
}

struct record_add {
    bb_kpi_facts *f;
    int sign;
    bb_err err;
};

/* One contribution, for the record's unit and every unit above it. */
static void add_contrib(void *ctx, const struct bb_kpi_fact *c)
{
    struct record_add *ra = ctx;
    struct bb_kpi_fact key = *c;
    const char *unit = c->unit;
    int depth = 0;

    while (unit && depth++ < 16 && ra->err == BB_OK) {
        const struct bb_ref_item *u = bb_catalog_ref(ra->f->cat, "units", unit);
        if (!u)
            break;
        key.unit = u->code;
        ra->err = add_row(ra->f, &key, ra->sign * c->n, ra->sign * c->v);
        unit = u->parent;
    }
}

bb_err bb_kpi_facts_record(bb_kpi_facts *f, const cJSON *rec, int sign, size_t *inputs)
{
    struct record_add ra = {f, sign < 0 ? -1 : 1, BB_OK};
    size_t n = bb_kpi_record_contribs(f->plan, f->cat, rec, add_contrib, &ra);

    if (inputs)
        *inputs = n;
    return ra.err;
}

/* The catalog's own strings for a row's unit and group; false if unknown. */
static bool canonical_key(const bb_kpi_facts *f, const struct bb_kpi_fact *row,
                          struct bb_kpi_fact *key)
{
    const struct bb_ref_item *u = row->unit ? bb_catalog_ref(f->cat, "units", row->unit) : NULL;

    if (!u || !row->input)
        return false;
    *key = *row;
    key->unit = u->code;
    key->group = NULL;
    if (row->group && row->group[0]) {
        const struct bb_ref_item *g;
        if (!row->input->group_by ||
            !(g = bb_catalog_ref(f->cat, row->input->group_by->ref, row->group)))
            return false;
        key->group = g->code;
    }
    return true;
}

bb_err bb_kpi_facts_add(bb_kpi_facts *f, const struct bb_kpi_fact *row)
{
    struct bb_kpi_fact key;

    if (!canonical_key(f, row, &key))
        return BB_ERR_INVALID;
    return add_row(f, &key, row->n, row->v);
}

bool bb_kpi_facts_next(const bb_kpi_facts *f, size_t *cursor, struct bb_kpi_fact *row)
{
    while (*cursor < f->cap) {
        const struct slot *s = &f->slots[(*cursor)++];
        if (s->used && (s->f.n != 0 || s->f.v != 0)) {
            *row = s->f;
            return true;
        }
    }
    return false;
}

const struct bb_kpi_fact *bb_kpi_facts_get(const bb_kpi_facts *f,
                                           const struct bb_plan_input *in, const char *unit,
                                           int64_t day, const char *group)
{
    struct bb_kpi_fact row = {in, unit, day, group, 0, 0}, key;
    const struct slot *s;

    if (!canonical_key(f, &row, &key))
        return NULL;
    s = find_slot(f->slots, f->cap, &key);
    return s->used ? &s->f : NULL;
}

static bb_err map_sum(void *ctx, const struct bb_plan_input *in, const char *org,
                      int64_t from_day, int64_t to_day, const char *group, int64_t *n,
                      int64_t *v, bb_errbuf *eb)
{
    const bb_kpi_facts *f = ctx;
    size_t i;

    (void)eb;
    *n = *v = 0;
    for (i = 0; i < f->cap; i++) {
        const struct bb_kpi_fact *r = &f->slots[i].f;
        if (!f->slots[i].used || r->input != in || strcmp(r->unit, org) != 0 ||
            r->day < from_day || r->day >= to_day)
            continue;
        if (group && (!r->group || strcmp(r->group, group) != 0))
            continue;
        *n += r->n;
        *v += r->v;
    }
    return BB_OK;
}

void bb_kpi_facts_source(const bb_kpi_facts *f, struct bb_kpi_source *src)
{
    src->ctx = (void *)f;
    src->sum = map_sum;
}

/* ---- numbers as printed --------------------------------------------------- */

double bb_kpi_round(double v, int decimals)
{
    double scale = pow(10.0, decimals);
    double r = round(v * scale) / scale;
    return r == 0 ? 0.0 : r;   /* no "-0.00" */
}

void bb_kpi_format(double v, int decimals, bool sign, const char *unit, char *out, size_t size)
{
    double r = bb_kpi_round(v, decimals);
    const char *pre = r < 0 ? "\u2212" : (sign && r > 0 ? "+" : "");

    snprintf(out, size, "%s%.*f%s%s", pre, decimals, fabs(r), unit ? " " : "", unit ? unit : "");
}

void bb_kpi_format_count(int64_t v, char *out, size_t size)
{
    char digits[32], buf[48];
    size_t n, i, j = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    n = strlen(digits);
    if (v < 0)
        buf[j++] = '-';
    for (i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    snprintf(out, size, "%s", buf);
}

/* A figure as text: counts with separators, others with up to 2 decimals. */
static void format_figure(double v, bool integral, char *out, size_t size)
{
    if (integral || v == floor(v))
        bb_kpi_format_count((int64_t)llround(v), out, size);
    else
        snprintf(out, size, "%.2f", v);
}

void bb_kpi_describe_input(const struct bb_plan_input *in, char *out, size_t size)
{
    size_t used = 0, i, j;

#define PUT(...)                                                                           \
    do {                                                                                   \
        if (used < size)                                                                   \
            used += (size_t)snprintf(out + used, size - used, __VA_ARGS__);                \
    } while (0)
    out[0] = '\0';
    PUT("%s", in->kind->name);
    for (i = 0; i < in->nconds; i++) {
        const struct bb_plan_cond *c = &in->conds[i];
        PUT("%s%s ", i ? " and " : " where ", c->field->name);
        switch (c->op) {
        case BB_PLAN_PRESENT: PUT("is given"); break;
        case BB_PLAN_ABSENT: PUT("is not given"); break;
        case BB_PLAN_IN_LIST: PUT("in the plan's list of %s", c->list->name); break;
        case BB_PLAN_EQ:
        case BB_PLAN_IN:
            PUT("%s", c->op == BB_PLAN_EQ ? "= " : "in (");
            for (j = 0; j < c->nvalues; j++) {
                if (c->values[j].text)
                    PUT("%s%s", j ? ", " : "", c->values[j].text);
                else if (c->field->type == BB_F_BOOLEAN)
                    PUT("%s%s", j ? ", " : "", c->values[j].number != 0 ? "true" : "false");
                else
                    PUT("%s%g", j ? ", " : "", c->values[j].number);
            }
            if (c->op == BB_PLAN_IN)
                PUT(")");
            break;
        }
    }
    PUT(", dated by %s", in->time_name);
    if (in->nsum) {
        PUT(", summing ");
        for (i = 0; i < in->nsum; i++)
            PUT("%s%s", i ? " + " : "", in->sum[i]->name);
    }
    if (in->group_by)
        PUT(", per %s", in->group_by->name);
    PUT("; final records, latest revision");
#undef PUT
    if (used >= size && size > 4)
        memcpy(out + size - 4, "...", 4);
}

const char *bb_kpi_origin_name(enum bb_kpi_origin o)
{
    switch (o) {
    case BB_KPI_FROM_RECORDS: return "records";
    case BB_KPI_FROM_HISTORY: return "history";
    case BB_KPI_FROM_REFERENCE: return "reference";
    case BB_KPI_FROM_PLAN: return "plan";
    case BB_KPI_COMPUTED: return "computed";
    }
    return "?";
}

/* ---- evaluation ------------------------------------------------------------ */

struct ev {
    const bb_plan *p;
    const bb_catalog *cat;
    const struct bb_kpi_source *src;
    enum bb_lang lang;
    const char *org;
    const char *root;
    bb_errbuf *eb;
};

#define L(e, en, zh) ((e)->lang == BB_LANG_EN ? (en) : (zh))

static void period_text(const struct ev *e, const bb_period *per, char out[BB_PERIOD_LABEL_MAX])
{
    if (e->lang == BB_LANG_EN || bb_period_roc_label(per, out) != BB_OK)
        snprintf(out, BB_PERIOD_LABEL_MAX, "%s", per->label);
}

static void missing(struct bb_kpi_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void missing(struct bb_kpi_result *r, const char *fmt, ...)
{
    va_list ap;

    if (!r->ok)
        return;     /* the first reason stands */
    r->ok = false;
    va_start(ap, fmt);
    vsnprintf(r->missing, sizeof r->missing, fmt, ap);
    va_end(ap);
}

static struct bb_kpi_figure *add_fig(struct bb_kpi_result *r, const char *name, double value,
                                     bool integral, enum bb_kpi_origin origin)
{
    struct bb_kpi_figure *f;

    if (r->nfigs >= BB_KPI_MAX_FIGURES)
        return NULL;
    f = &r->figs[r->nfigs++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = value;
    f->integral = integral;
    f->origin = origin;
    return f;
}

static const char *input_title(const struct ev *e, const struct bb_plan_input *in)
{
    return bb_label(&in->title, e->lang, in->id);
}

/*
 * An input's figure for a period and org (and group, or all groups).  With
 * need_cover, a 0 without records anywhere in the root unit and without a
 * historical count makes the KPI missing.
 */
static bb_err input_figure(struct ev *e, struct bb_kpi_result *r, const char *name,
                           const struct bb_plan_input *in, const bb_period *per,
                           const char *org, bool need_cover, int64_t *value)
{
    struct bb_kpi_figure *f;
    const char *hsrc = NULL;
    char pl[BB_PERIOD_LABEL_MAX];
    int64_t n, v, hv;
    bb_err err;

    if ((err = e->src->sum(e->src->ctx, in, org, per->from_day, per->to_day, NULL, &n, &v,
                           e->eb)) != BB_OK)
        return err;
    period_text(e, per, pl);
    if (n == 0 && bb_plan_history(e->p, in, per->from_day, per->to_day, org, NULL, &hv, &hsrc)) {
        *value = hv;
        if ((f = add_fig(r, name, (double)hv, true, BB_KPI_FROM_HISTORY)) != NULL)
            snprintf(f->detail, sizeof f->detail, "%s%s%s",
                     L(e, "historical count in the plan", "計畫所列歷史件數"),
                     hsrc ? ": " : "", hsrc ? hsrc : "");
    } else {
        *value = v;
        if ((f = add_fig(r, name, (double)v, true, BB_KPI_FROM_RECORDS)) != NULL) {
            char d[300];
            bb_kpi_describe_input(in, d, sizeof d);
            snprintf(f->detail, sizeof f->detail, "%s: %lld %s; %s",
                     L(e, "records via facts", "紀錄（事實表）"), (long long)n,
                     L(e, "records", "筆"), d);
        }
        if (n == 0 && need_cover) {
            int64_t rn = 0, rv;
            if (strcmp(org, e->root) != 0 &&
                (err = e->src->sum(e->src->ctx, in, e->root, per->from_day, per->to_day, NULL,
                                   &rn, &rv, e->eb)) != BB_OK)
                return err;
            if (rn == 0)
                missing(r, L(e, "no records of %s in %s (before the system?) and no "
                                "historical count for %s in the plan",
                             "%s 在 %s 沒有任何紀錄（系統啟用前？），計畫中也沒有 %s 的歷史件數"),
                        input_title(e, in), pl, org);
        }
    }
    if (f) {
        snprintf(f->label, sizeof f->label, "%s %s", input_title(e, in), pl);
        snprintf(f->period, sizeof f->period, "%s", per->label);
        snprintf(f->org, sizeof f->org, "%s", org);
    }
    return BB_OK;
}

/* A reference figure for the period (days-weighted over years when it spans several). */
static bool ref_figure(struct ev *e, struct bb_kpi_result *r, const char *name,
                       const char *refname, const bb_period *per, double *value)
{
    const struct bb_label *title = bb_plan_reference_title(e->p, refname);
    const char *tt = title ? bb_label(title, e->lang, refname) : refname;
    struct bb_kpi_figure *f;
    int y1, y2, y, m, d;
    double sum = 0;
    int64_t fig, total = per->to_day - per->from_day;
    char years[24];

    if (bb_civil_from_days(per->from_day, &y1, &m, &d) != BB_OK ||
        bb_civil_from_days(per->to_day - 1, &y2, &m, &d) != BB_OK)
        return false;
    for (y = y1; y <= y2; y++) {
        int64_t a = bb_days_from_civil(y, 1, 1), b = bb_days_from_civil(y + 1, 1, 1);
        if (a < per->from_day)
            a = per->from_day;
        if (b > per->to_day)
            b = per->to_day;
        if (bb_plan_reference(e->p, refname, y, e->org, &fig) != BB_OK) {
            missing(r, L(e, "no %s for %s in %d in the plan's reference figures",
                         "計畫的參考數據中沒有%s（%s，%d 年）"), tt, e->org, y);
            return false;
        }
        sum += (double)fig * (double)(b - a);
    }
    *value = sum / (double)total;
    if (y1 == y2)
        snprintf(years, sizeof years, "%d", y1);
    else
        snprintf(years, sizeof years, "%d-%d", y1, y2);
    if ((f = add_fig(r, name, *value, y1 == y2, BB_KPI_FROM_REFERENCE)) != NULL) {
        snprintf(f->label, sizeof f->label, "%s %s", tt, years);
        snprintf(f->period, sizeof f->period, "%s", years);
        snprintf(f->org, sizeof f->org, "%s", e->org);
        if (y1 == y2)
            snprintf(f->detail, sizeof f->detail, L(e, "plan %s, reference figure %s for %d",
                                                    "計畫 %s 參考數據 %s（%d 年）"),
                     bb_plan_id(e->p), refname, y1);
        else
            snprintf(f->detail, sizeof f->detail,
                     L(e, "plan %s, reference figure %s: the mean of %d-%d weighted by days",
                       "計畫 %s 參考數據 %s：%d 至 %d 年依日數加權平均"),
                     bb_plan_id(e->p), refname, y1, y2);
    }
    return true;
}

static bool shift(struct ev *e, struct bb_kpi_result *r, const bb_period *per, int years,
                  bb_period *out)
{
    bb_errbuf sub;

    if (bb_period_shift_years(per, -years, out, &sub) != BB_OK) {
        missing(r, L(e, "the period %d years before %s is out of range",
                     "%d 年前的同期（相對 %s）超出範圍"), years, per->label);
        return false;
    }
    return true;
}

static void computed(struct ev *e, struct bb_kpi_result *r, const char *name,
                     const char *label_en, const char *label_zh, double value,
                     const char *detail)
{
    struct bb_kpi_figure *f = add_fig(r, name, value, false, BB_KPI_COMPUTED);

    if (f) {
        snprintf(f->label, sizeof f->label, "%s", L(e, label_en, label_zh));
        snprintf(f->detail, sizeof f->detail, "%s", detail);
    }
}

static void plan_figure(struct ev *e, struct bb_kpi_result *r, const char *name,
                        const char *label_en, const char *label_zh, double value)
{
    struct bb_kpi_figure *f = add_fig(r, name, value, false, BB_KPI_FROM_PLAN);

    if (f) {
        snprintf(f->label, sizeof f->label, "%s", L(e, label_en, label_zh));
        snprintf(f->detail, sizeof f->detail, L(e, "plan %s, KPI %s", "計畫 %s，指標 %s"),
                 bb_plan_id(e->p), r->kpi->id);
    }
}

/* K1: input / reference × per, compared with the baseline or last year's value. */
static bb_err m_per_capita(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    char a[40], b[40], c[40], d[300];
    int64_t cur, prev;
    double pop, pop1, value, ref;
    bool use_baseline;
    bb_period p1;
    bb_err err;

    if ((err = input_figure(e, r, "count", k->input, per, e->org, false, &cur)) != BB_OK)
        return err;
    if (!ref_figure(e, r, "reference", k->reference, per, &pop))
        return BB_OK;
    value = (double)cur / pop * k->per;
    format_figure((double)cur, true, a, sizeof a);
    format_figure(pop, false, b, sizeof b);
    format_figure(k->per, true, c, sizeof c);
    snprintf(d, sizeof d, "%s / %s × %s = %.2f", a, b, c, value);
    computed(e, r, "value", "value (per reference)", "本期值", value, d);
    use_baseline = k->compare == BB_CMP_BASELINE ||
                   (k->compare == BB_CMP_BASELINE_IF_WHOLE_YEAR && per->kind == BB_PERIOD_YEAR);
    if (use_baseline) {
        ref = k->baseline;
        plan_figure(e, r, "baseline", "baseline", "基準值", ref);
    } else {
        if (!shift(e, r, per, 1, &p1))
            return BB_OK;
        if ((err = input_figure(e, r, "count_1y", k->input, &p1, e->org, true, &prev)) != BB_OK)
            return err;
        if (!r->ok || !ref_figure(e, r, "reference_1y", k->reference, &p1, &pop1))
            return BB_OK;
        ref = (double)prev / pop1 * k->per;
        format_figure((double)prev, true, a, sizeof a);
        format_figure(pop1, false, b, sizeof b);
        snprintf(d, sizeof d, "%s / %s × %s = %.2f", a, b, c, ref);
        computed(e, r, "value_1y", "same period last year", "去年同期值", ref, d);
    }
    if (ref == 0) {
        missing(r, L(e, "the comparison figure is 0", "比較基準為 0"));
        return BB_OK;
    }
    r->value = (value - ref) / ref * 100.0;
    snprintf(r->formula, sizeof r->formula, "(%.4f − %.4f) / %.4f × 100 = %.4f %%", value, ref,
             ref, r->value);
    return BB_OK;
}

/* K2, K4: numerator / denominator × 100 − baseline, in points. */
static bb_err m_ratio(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    char a[40], b[40], d[300];
    int64_t num, den;
    bb_err err;

    if ((err = input_figure(e, r, "numerator", k->numerator, per, e->org, false, &num)) !=
            BB_OK ||
        (err = input_figure(e, r, "denominator", k->denominator, per, e->org, true, &den)) !=
            BB_OK)
        return err;
    if (!r->ok)
        return BB_OK;
    if (den == 0) {
        char pl[BB_PERIOD_LABEL_MAX];
        period_text(e, per, pl);
        missing(r, L(e, "no %s in %s for %s: the ratio is undefined",
                     "沒有%s（%s，%s），比率無法計算"),
                input_title(e, k->denominator), pl, e->org);
        return BB_OK;
    }
    r->ratio = (double)num / (double)den * 100.0;
    format_figure((double)num, true, a, sizeof a);
    format_figure((double)den, true, b, sizeof b);
    snprintf(d, sizeof d, "%s / %s × 100 = %.4f %%", a, b, r->ratio);
    computed(e, r, "ratio", "ratio", "比率", r->ratio, d);
    plan_figure(e, r, "baseline", "baseline", "基準值", k->baseline);
    r->value = r->ratio - k->baseline;
    snprintf(r->formula, sizeof r->formula, "%.4f %% − %.2f %% = %.4f pt", r->ratio,
             k->baseline, r->value);
    return BB_OK;
}

/* What a plan list holds, in words. */
static const char *list_title(const struct ev *e, const char *list)
{
    if (strcmp(list, "intersections") == 0)
        return L(e, "listed intersections", "列管易肇事路口");
    if (strcmp(list, "segments") == 0)
        return L(e, "listed road segments", "列管路段");
    if (strcmp(list, "bikepaths") == 0)
        return L(e, "listed bike paths", "列管自行車道");
    return L(e, "listed units", "列管單位");
}

/* Whether a listed code (of precinct `where`) lies in the org unit or above it. */
static bool code_in_scope(const struct ev *e, const char *list, const char *code)
{
    const struct bb_ref_item *it = bb_catalog_ref(e->cat, list, code);
    const char *where = !it ? NULL : strcmp(list, "units") == 0 ? it->code : it->parent;

    if (strcmp(e->org, e->root) == 0)
        return true;
    if (!where)
        return false;
    return bb_catalog_unit_within(e->cat, where, e->org) ||
           bb_catalog_unit_within(e->cat, e->org, where);
}

/* K3: listed codes whose input fell against the same period years_back before. */
static bb_err m_improved(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    const struct bb_plan_list *l = k->list;
    char pl[BB_PERIOD_LABEL_MAX], pl1[BB_PERIOD_LABEL_MAX], d[300];
    int64_t n, v, root_n1 = 0, hv;
    size_t i, listed = 0, improved = 0, no_history = 0;
    struct bb_kpi_figure *f;
    bb_period p1;
    bb_err err;

    if (!shift(e, r, per, k->years_back[0], &p1))
        return BB_OK;
    if (!(r->groups = calloc(l->n ? l->n : 1, sizeof *r->groups)))
        return BB_ERR_NOMEM;
    period_text(e, per, pl);
    period_text(e, &p1, pl1);
    if ((err = e->src->sum(e->src->ctx, k->input, e->root, p1.from_day, p1.to_day, NULL,
                           &root_n1, &v, e->eb)) != BB_OK)
        return err;
    for (i = 0; i < l->n; i++) {
        struct bb_kpi_group *g;
        const char *hsrc;
        if (!code_in_scope(e, l->name, l->codes[i]))
            continue;
        g = &r->groups[r->ngroups++];
        g->code = l->codes[i];
        if ((err = e->src->sum(e->src->ctx, k->input, e->root, per->from_day, per->to_day,
                               g->code, &n, &v, e->eb)) != BB_OK)
            return err;
        g->now = v;
        g->now_origin = BB_KPI_FROM_RECORDS;
        if (n == 0 && bb_plan_history(e->p, k->input, per->from_day, per->to_day, e->root,
                                      g->code, &hv, &hsrc)) {
            g->now = hv;
            g->now_origin = BB_KPI_FROM_HISTORY;
        }
        if ((err = e->src->sum(e->src->ctx, k->input, e->root, p1.from_day, p1.to_day,
                               g->code, &n, &v, e->eb)) != BB_OK)
            return err;
        g->before = v;
        g->before_origin = BB_KPI_FROM_RECORDS;
        if (n == 0 && bb_plan_history(e->p, k->input, p1.from_day, p1.to_day, e->root,
                                      g->code, &hv, &hsrc)) {
            g->before = hv;
            g->before_origin = BB_KPI_FROM_HISTORY;
        } else if (root_n1 == 0) {
            no_history++;
        }
        g->improved = g->now < g->before;
        listed++;
        improved += g->improved;
    }
    if (listed == 0) {
        missing(r, L(e, "none of the %s lies in %s", "%s 沒有一處位於 %s"),
                list_title(e, l->name), e->org);
        return BB_OK;
    }
    if (no_history > 0) {
        missing(r, L(e, "no records of %s in %s (before the system?) and no historical "
                        "counts for %zu of the %s",
                     "%s 在 %s 沒有任何紀錄（系統啟用前？），且有 %zu 處%s沒有歷史件數"),
                input_title(e, k->input), pl1, no_history, list_title(e, l->name));
        return BB_OK;
    }
    if ((f = add_fig(r, "listed", (double)listed, true, BB_KPI_FROM_PLAN)) != NULL) {
        snprintf(f->label, sizeof f->label, L(e, "%s in %s", "%s（%s）"),
                 list_title(e, l->name), e->org);
        snprintf(f->detail, sizeof f->detail, L(e, "plan %s, list %s", "計畫 %s，清單 %s"),
                 bb_plan_id(e->p), l->name);
        snprintf(f->org, sizeof f->org, "%s", e->org);
    }
    if ((f = add_fig(r, "improved", (double)improved, true, BB_KPI_COMPUTED)) != NULL) {
        char desc[300];
        bb_kpi_describe_input(k->input, desc, sizeof desc);
        snprintf(f->label, sizeof f->label, L(e, "improved (%s < %s)", "已改善（%s < %s）"),
                 pl, pl1);
        snprintf(f->detail, sizeof f->detail, L(e, "per listed code at %s: %s",
                                                "各列管地點（%s 全部紀錄）：%s"),
                 e->root, desc);
        snprintf(f->period, sizeof f->period, "%s", per->label);
        snprintf(f->org, sizeof f->org, "%s", e->root);
    }
    r->value = (double)improved / (double)listed * 100.0;
    snprintf(d, sizeof d, "%zu / %zu × 100 = %.4f %%", improved, listed, r->value);
    snprintf(r->formula, sizeof r->formula, "%s", d);
    return BB_OK;
}

/* K5: (input − mean of input years_back before) / that mean × 100. */
static bb_err m_prior_average(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    char d[300], a[40];
    int64_t cur, prev;
    double sum = 0, avg;
    size_t i, used = 0;
    bb_err err;

    if ((err = input_figure(e, r, "count", k->input, per, e->org, false, &cur)) != BB_OK)
        return err;
    d[0] = '\0';
    for (i = 0; i < k->nyears_back; i++) {
        bb_period pn;
        char name[32];
        if (!shift(e, r, per, k->years_back[i], &pn))
            return BB_OK;
        snprintf(name, sizeof name, "count_%dy", k->years_back[i]);
        if ((err = input_figure(e, r, name, k->input, &pn, e->org, true, &prev)) != BB_OK)
            return err;
        sum += (double)prev;
        format_figure((double)prev, true, a, sizeof a);
        if (used < sizeof d)
            used += (size_t)snprintf(d + used, sizeof d - used, "%s%s", i ? " + " : "(", a);
    }
    if (!r->ok)
        return BB_OK;
    avg = sum / (double)k->nyears_back;
    if (used < sizeof d)
        snprintf(d + used, sizeof d - used, ") / %zu = %.2f", k->nyears_back, avg);
    computed(e, r, "average", "average of the years before", "前幾年平均值", avg, d);
    if (avg == 0) {
        missing(r, L(e, "the average of the years before is 0", "前幾年平均值為 0"));
        return BB_OK;
    }
    r->value = ((double)cur - avg) / avg * 100.0;
    format_figure((double)cur, true, a, sizeof a);
    snprintf(r->formula, sizeof r->formula, "(%s − %.4f) / %.4f × 100 = %.4f %%", a, avg, avg,
             r->value);
    return BB_OK;
}

/* K6: (input − input years_back before) / reference × per. */
static bb_err m_per_reference(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    char a[40], b[40], c[40];
    int64_t cur, prev;
    double ref;
    bb_period p1;
    bb_err err;

    if ((err = input_figure(e, r, "count", k->input, per, e->org, false, &cur)) != BB_OK)
        return err;
    if (!shift(e, r, per, k->years_back[0], &p1))
        return BB_OK;
    if ((err = input_figure(e, r, "count_1y", k->input, &p1, e->org, true, &prev)) != BB_OK)
        return err;
    if (!r->ok || !ref_figure(e, r, "reference", k->reference, per, &ref))
        return BB_OK;
    r->value = ((double)cur - (double)prev) / ref * k->per;
    format_figure((double)cur, true, a, sizeof a);
    format_figure((double)prev, true, b, sizeof b);
    format_figure(ref, false, c, sizeof c);
    snprintf(r->formula, sizeof r->formula, "(%s − %s) / %s × %g = %.4f %%", a, b, c, k->per,
             r->value);
    return BB_OK;
}

static bb_err evaluate_one(struct ev *e, struct bb_kpi_result *r, const bb_period *per)
{
    const struct bb_plan_kpi *k = r->kpi;
    bb_err err = BB_ERR_INTERNAL;
    char v[32], t[32];
    double eps;

    r->ok = true;
    switch (k->method) {
    case BB_KPI_PER_CAPITA_CHANGE: err = m_per_capita(e, r, per); break;
    case BB_KPI_RATIO_VS_BASELINE: err = m_ratio(e, r, per); break;
    case BB_KPI_IMPROVED_SHARE: err = m_improved(e, r, per); break;
    case BB_KPI_CHANGE_VS_PRIOR_AVERAGE: err = m_prior_average(e, r, per); break;
    case BB_KPI_CHANGE_PER_REFERENCE: err = m_per_reference(e, r, per); break;
    }
    if (err != BB_OK || !r->ok)
        return err;
    r->rounded = bb_kpi_round(r->value, k->decimals);
    /* Judged on the printed figure; eps absorbs the binary error of a decimal. */
    eps = 1e-9 * (fabs(k->target) > 1 ? fabs(k->target) : 1);
    r->achieved = k->target_ge ? r->rounded >= k->target - eps : r->rounded <= k->target + eps;
    if (k->method == BB_KPI_RATIO_VS_BASELINE && k->show_ratio) {
        bb_kpi_format(r->ratio, k->decimals, false, "%", v, sizeof v);
        bb_kpi_format(r->value, k->decimals, true, "pt", t, sizeof t);
        snprintf(r->display, sizeof r->display, "%s (%s)", v, t);
    } else {
        bb_kpi_format(r->value, k->decimals, k->method != BB_KPI_IMPROVED_SHARE, k->unit,
                      r->display, sizeof r->display);
    }
    return BB_OK;
}

bb_err bb_kpi_evaluate(const bb_plan *p, const bb_catalog *cat, const bb_period *period,
                       const char *org, const struct bb_kpi_source *src, enum bb_lang lang,
                       struct bb_kpi_card *card, bb_errbuf *eb)
{
    const struct bb_ref_item *u;
    struct ev e;
    size_t i;
    bb_err err;

    memset(card, 0, sizeof *card);
    if (!p || !cat || !period || !org || !src)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_kpi_evaluate: missing argument");
    u = bb_catalog_ref(cat, "units", org);
    if (!u || !bb_catalog_unit_within(cat, u->code, bb_plan_org_root(p)))
        return bb_fail(eb, BB_ERR_INVALID, "no org unit \"%.40s\" within %s (see: beatbook ref "
                       "units)", org, bb_plan_org_root(p));
    card->plan = p;
    card->period = *period;
    card->lang = lang;
    snprintf(card->org, sizeof card->org, "%s", u->code);
    card->n = bb_plan_kpi_count(p);
    card->total = bb_plan_total_weight(p);
    if (!(card->results = calloc(card->n, sizeof *card->results)))
        return bb_fail(eb, BB_ERR_NOMEM, "kpi: out of memory");
    e.p = p;
    e.cat = cat;
    e.src = src;
    e.lang = lang;
    e.org = u->code;
    e.root = bb_plan_org_root(p);
    e.eb = eb;
    for (i = 0; i < card->n; i++) {
        struct bb_kpi_result *r = &card->results[i];
        r->kpi = bb_plan_kpi_at(p, i);
        if ((err = evaluate_one(&e, r, period)) != BB_OK) {
            bb_kpi_card_free(card);
            return err;
        }
        if (r->ok && r->achieved)
            card->score += r->kpi->weight;
        if (!r->ok)
            card->missing++;
    }
    return BB_OK;
}

void bb_kpi_card_free(struct bb_kpi_card *card)
{
    size_t i;

    if (!card)
        return;
    for (i = 0; card->results && i < card->n; i++)
        free(card->results[i].groups);
    free(card->results);
    card->results = NULL;
    card->n = 0;
}

/* ---- labels ---------------------------------------------------------------- */

void bb_kpi_goal_label(const struct bb_plan_goal *g, enum bb_lang lang, char *out,
                       size_t size)
{
    if (lang == BB_LANG_EN)
        snprintf(out, size, "%s. %s (%d %%)", g->number, bb_label(&g->title, lang, g->id),
                 g->weight);
    else
        snprintf(out, size, "%s、%s(%d%%)", g->number, bb_label(&g->title, lang, g->id),
                 g->weight);
}

void bb_kpi_label(const struct bb_plan_kpi *k, enum bb_lang lang, char *out, size_t size)
{
    if (lang == BB_LANG_EN)
        snprintf(out, size, "%s. %s (%d %%)", k->number, bb_label(&k->title, lang, k->id),
                 k->weight);
    else
        snprintf(out, size, "%s、%s(%d%%)", k->number, bb_label(&k->title, lang, k->id),
                 k->weight);
}

void bb_kpi_score_text(const struct bb_kpi_card *card, enum bb_lang lang, char *out,
                       size_t size)
{
    if (card->missing == 0)
        snprintf(out, size, "%d / %d", card->score, card->total);
    else if (lang == BB_LANG_EN)
        snprintf(out, size, "%d / %d (%zu cannot be computed)", card->score, card->total,
                 card->missing);
    else
        snprintf(out, size, "%d / %d（%zu 項無法計算）", card->score, card->total,
                 card->missing);
}

/* ---- JSON ------------------------------------------------------------------ */

/* {"zh-TW": fn(zh), "en": fn(en)} under key k. */
static bool add_both(cJSON *o, const char *k, void (*fn)(const void *, enum bb_lang, char *,
                                                         size_t), const void *arg)
{
    char zh[600], en[600];
    cJSON *j;

    fn(arg, BB_LANG_ZH, zh, sizeof zh);
    fn(arg, BB_LANG_EN, en, sizeof en);
    if (!(j = cJSON_AddObjectToObject(o, k)))
        return false;
    return cJSON_AddStringToObject(j, "zh-TW", zh) && cJSON_AddStringToObject(j, "en", en);
}

static void goal_label_fn(const void *g, enum bb_lang lang, char *out, size_t size)
{
    bb_kpi_goal_label(g, lang, out, size);
}

static void kpi_label_fn(const void *k, enum bb_lang lang, char *out, size_t size)
{
    bb_kpi_label(k, lang, out, size);
}

static void score_text_fn(const void *card, enum bb_lang lang, char *out, size_t size)
{
    bb_kpi_score_text(card, lang, out, size);
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return v ? cJSON_AddStringToObject(o, k, v) != NULL : cJSON_AddNullToObject(o, k) != NULL;
}

static bool add_num(cJSON *o, const char *k, double v)
{
    return cJSON_AddNumberToObject(o, k, v) != NULL;
}

static cJSON *label_json(const struct bb_label *l)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!add_str(o, "zh-TW", l->zh) || !add_str(o, "en", l->en))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_label(cJSON *o, const char *k, const struct bb_label *l)
{
    cJSON *j = label_json(l);
    return j && cJSON_AddItemToObject(o, k, j);
}

static bool day_text(int64_t day, char out[16])
{
    int y, m, d;
    if (bb_civil_from_days(day, &y, &m, &d) != BB_OK)
        return false;
    snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m, d);
    return true;
}

static cJSON *result_json(const struct bb_kpi_result *r, const bb_catalog *cat)
{
    const struct bb_plan_kpi *k = r->kpi;
    cJSON *o = cJSON_CreateObject(), *t, *figs, *groups;
    size_t i;

    if (!o)
        return NULL;
    if (!add_str(o, "id", k->id) || !add_str(o, "goal", k->goal->id) ||
        !add_str(o, "number", k->number) || !add_str(o, "goal_number", k->goal->number) ||
        !add_both(o, "label", kpi_label_fn, k) || !add_label(o, "title", &k->title) ||
        !add_num(o, "weight", k->weight) || !add_str(o, "method", k->method_name) ||
        !add_str(o, "unit", k->unit) || !add_num(o, "decimals", k->decimals) ||
        !(t = cJSON_AddObjectToObject(o, "target")) ||
        !add_str(t, "op", k->target_ge ? ">=" : "<=") || !add_num(t, "value", k->target) ||
        !add_label(t, "text", &k->target_text) ||
        !add_str(o, "direction", k->target_ge ? "higher" : "lower") ||
        !cJSON_AddBoolToObject(o, "ok", r->ok))
        goto fail;
    if (r->ok) {
        if (!add_num(o, "value", r->value) || !add_num(o, "rounded", r->rounded) ||
            !add_str(o, "display", r->display) ||
            !cJSON_AddBoolToObject(o, "achieved", r->achieved) ||
            !add_str(o, "missing", NULL) || !add_str(o, "formula", r->formula))
            goto fail;
        if (k->method == BB_KPI_RATIO_VS_BASELINE && !add_num(o, "ratio", r->ratio))
            goto fail;
    } else {
        if (!cJSON_AddNullToObject(o, "value") || !add_str(o, "display", NULL) ||
            !cJSON_AddNullToObject(o, "achieved") || !add_str(o, "missing", r->missing))
            goto fail;
    }
    if (!(figs = cJSON_AddArrayToObject(o, "figures")))
        goto fail;
    for (i = 0; i < r->nfigs; i++) {
        const struct bb_kpi_figure *f = &r->figs[i];
        cJSON *fo = cJSON_CreateObject();
        if (!fo || !cJSON_AddItemToArray(figs, fo)) {
            cJSON_Delete(fo);
            goto fail;
        }
        if (!add_str(fo, "name", f->name) || !add_str(fo, "label", f->label) ||
            !add_num(fo, "value", f->value) ||
            !add_str(fo, "origin", bb_kpi_origin_name(f->origin)) ||
            !add_str(fo, "period", f->period[0] ? f->period : NULL) ||
            !add_str(fo, "org", f->org[0] ? f->org : NULL) || !add_str(fo, "detail", f->detail))
            goto fail;
    }
    if (k->method == BB_KPI_IMPROVED_SHARE) {
        if (!(groups = cJSON_AddArrayToObject(o, "groups")))
            goto fail;
        for (i = 0; i < r->ngroups; i++) {
            const struct bb_kpi_group *g = &r->groups[i];
            const struct bb_ref_item *it = bb_catalog_ref(cat, k->list->name, g->code);
            cJSON *go = cJSON_CreateObject();
            if (!go || !cJSON_AddItemToArray(groups, go)) {
                cJSON_Delete(go);
                goto fail;
            }
            if (!add_str(go, "code", g->code) ||
                (it && !add_label(go, "name", &it->label)) || !add_num(go, "now", (double)g->now) ||
                !add_num(go, "before", (double)g->before) ||
                !add_str(go, "now_origin", bb_kpi_origin_name(g->now_origin)) ||
                !add_str(go, "before_origin", bb_kpi_origin_name(g->before_origin)) ||
                !cJSON_AddBoolToObject(go, "improved", g->improved))
                goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *bb_kpi_card_json(const struct bb_kpi_card *card, const bb_catalog *cat)
{
    const struct bb_ref_item *u = bb_catalog_ref(cat, "units", card->org);
    char roc[BB_PERIOD_LABEL_MAX], first[16], last[16];
    cJSON *o = cJSON_CreateObject(), *plan, *per, *org, *score, *goals, *kpis;
    size_t i;

    if (!o)
        return NULL;
    if (bb_period_roc_label(&card->period, roc) != BB_OK)
        roc[0] = '\0';
    if (!day_text(card->period.from_day, first) || !day_text(card->period.to_day - 1, last))
        goto fail;
    if (!(plan = cJSON_AddObjectToObject(o, "plan")) ||
        !add_str(plan, "id", bb_plan_id(card->plan)) ||
        !add_num(plan, "year", bb_plan_year(card->plan)) ||
        !add_label(plan, "title", bb_plan_title(card->plan)) ||
        !(per = cJSON_AddObjectToObject(o, "period")) || !add_str(per, "label", card->period.label) ||
        !add_str(per, "roc", roc[0] ? roc : NULL) || !add_str(per, "first_day", first) ||
        !add_str(per, "last_day", last) || !(org = cJSON_AddObjectToObject(o, "org")) ||
        !add_str(org, "code", card->org) || (u && !add_label(org, "name", &u->label)) ||
        !add_str(o, "lang", card->lang == BB_LANG_EN ? "en" : "zh-TW") ||
        !(score = cJSON_AddObjectToObject(o, "score")) ||
        !add_num(score, "achieved", card->score) || !add_num(score, "total", card->total) ||
        !add_num(score, "missing", (double)card->missing) ||
        !add_both(score, "text", score_text_fn, card) ||
        !(goals = cJSON_AddArrayToObject(o, "goals")) ||
        !(kpis = cJSON_AddArrayToObject(o, "kpis")))
        goto fail;
    for (i = 0; i < bb_plan_goal_count(card->plan); i++) {
        const struct bb_plan_goal *g = bb_plan_goal_at(card->plan, i);
        cJSON *go = cJSON_CreateObject();
        if (!go || !cJSON_AddItemToArray(goals, go)) {
            cJSON_Delete(go);
            goto fail;
        }
        if (!add_str(go, "id", g->id) || !add_str(go, "number", g->number) ||
            !add_both(go, "label", goal_label_fn, g) ||
            !add_label(go, "title", &g->title) || !add_num(go, "weight", g->weight))
            goto fail;
    }
    for (i = 0; i < card->n; i++) {
        cJSON *ro = result_json(&card->results[i], cat);
        if (!ro || !cJSON_AddItemToArray(kpis, ro)) {
            cJSON_Delete(ro);
            goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}
