/*
 * bb_plan.c — parsing and checking a plan file (see bb_plan.h for the
 * format).  Every check names its place as a JSON path ($.kpis[2].method)
 * so that whoever writes next year's plan can fix it without reading code.
 * Strings in the public structs point into the parsed cJSON tree, which the
 * plan keeps; arrays come from a small arena freed with the plan.
 */
#include "bb_plan.h"
#include "bb_embed.h"
#include "bb_json.h"
#include "bb_time.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref_fig {
    const char *name;
    int year;
    const char *org;
    int64_t value;
};

struct history {
    const struct bb_plan_input *input;
    int64_t from_day, to_day;
    const char *org, *group, *source;
    int64_t value;
};

struct ref_title {
    const char *name;
    struct bb_label title;
};

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

struct bb_plan {
    cJSON *root;
    char *canonical;
    struct arena_block *arena;
    const char *id;
    int year;
    const char *org_root;
    struct bb_label title;
    struct bb_plan_goal *goals;
    size_t ngoals;
    struct bb_plan_input *inputs;
    size_t ninputs;
    struct bb_plan_kpi *kpis;
    size_t nkpis;
    struct bb_plan_list *lists;
    size_t nlists;
    struct ref_title *ref_titles;
    size_t nref_titles;
    struct ref_fig *figs;
    size_t nfigs;
    struct history *hist;
    size_t nhist;
};

/* Parsing context: the plan being built, the catalog, and where errors go. */
struct pctx {
    bb_plan *p;
    const bb_catalog *cat;
    const char *origin;
    bb_errbuf *eb;
};

static void *arena_alloc(bb_plan *p, size_t n)
{
    struct arena_block *b;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - sizeof *b)
        return NULL;
    b = calloc(1, sizeof *b + n);
    if (!b)
        return NULL;
    b->next = p->arena;
    p->arena = b;
    return b->data;
}

/* snprintf for paths and lists: a long path is cut, never overflows. */
static int pathf(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int pathf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n < 0 ? 0 : n;
}

static bb_err perr(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bb_err perr(struct pctx *c, const char *path, const char *fmt, ...)
{
    char msg[700];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bb_fail(c->eb, BB_ERR_INVALID, "%s: %s: %s", c->origin, path, msg);
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "something else";
}

/* Refuse keys not in allowed (NULL-terminated). */
static bb_err only_keys(struct pctx *c, const cJSON *obj, const char *path,
                        const char *const *allowed)
{
    const cJSON *it;
    char list[400];
    size_t i, used = 0;

    cJSON_ArrayForEach(it, obj) {
        for (i = 0; allowed[i]; i++)
            if (strcmp(it->string, allowed[i]) == 0)
                break;
        if (allowed[i])
            continue;
        list[0] = '\0';
        for (i = 0; allowed[i] && used < sizeof list - 40; i++)
            used += (size_t)pathf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     allowed[i]);
        return perr(c, path, "unknown key \"%.60s\" (allowed: %s)", it->string, list);
    }
    return BB_OK;
}

/* The member key of obj, which must exist; path is obj's path. */
static bb_err member(struct pctx *c, const cJSON *obj, const char *path, const char *key,
                     const char *what, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return perr(c, path, "missing \"%s\" (%s)", key, what);
    *out = v;
    return BB_OK;
}

static bb_err get_string(struct pctx *c, const cJSON *obj, const char *path, const char *key,
                         size_t max, const char **out)
{
    const cJSON *v = NULL;
    char sub[300];
    bb_err err;

    if ((err = member(c, obj, path, key, "a string", &v)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.%s", path, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return perr(c, sub, "expected a non-empty string, found %s", json_type_name(v));
    if (strlen(v->valuestring) > max || bb_utf8_length(v->valuestring) < 0)
        return perr(c, sub, "not valid UTF-8 text of at most %zu bytes", max);
    *out = v->valuestring;
    return BB_OK;
}

/* A number that must lie in [lo, hi] (and be an integer when integral). */
static bb_err get_number(struct pctx *c, const cJSON *obj, const char *path, const char *key,
                         double lo, double hi, int integral, double *out)
{
    const cJSON *v = NULL;
    char sub[300];
    bb_err err;

    if ((err = member(c, obj, path, key, integral ? "an integer" : "a number", &v)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.%s", path, key);
    if (!cJSON_IsNumber(v))
        return perr(c, sub, "expected %s, found %s", integral ? "an integer" : "a number",
                    json_type_name(v));
    if (!isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return perr(c, sub, "%g is out of range (%g to %g)", v->valuedouble, lo, hi);
    if (integral && v->valuedouble != floor(v->valuedouble))
        return perr(c, sub, "%g is not an integer", v->valuedouble);
    *out = v->valuedouble;
    return BB_OK;
}

static bb_err get_label(struct pctx *c, const cJSON *obj, const char *path, const char *key,
                        struct bb_label *out)
{
    static const char *const keys[] = {"zh-TW", "en", NULL};
    const cJSON *v = NULL;
    char sub[300];
    bb_err err;

    if ((err = member(c, obj, path, key, "{\"zh-TW\": .., \"en\": ..}", &v)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.%s", path, key);
    if (!cJSON_IsObject(v))
        return perr(c, sub, "expected {\"zh-TW\": .., \"en\": ..}, found %s",
                    json_type_name(v));
    if ((err = only_keys(c, v, sub, keys)) != BB_OK ||
        (err = get_string(c, v, sub, "zh-TW", 1000, &out->zh)) != BB_OK ||
        (err = get_string(c, v, sub, "en", 1000, &out->en)) != BB_OK)
        return err;
    return BB_OK;
}

static bb_err get_array(struct pctx *c, const cJSON *obj, const char *path, const char *key,
                        const cJSON **out, size_t *n)
{
    const cJSON *v = NULL;
    char sub[300];
    bb_err err;

    if ((err = member(c, obj, path, key, "an array", &v)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.%s", path, key);
    if (!cJSON_IsArray(v))
        return perr(c, sub, "expected an array, found %s", json_type_name(v));
    *out = v;
    *n = (size_t)cJSON_GetArraySize(v);
    if (*n > 10000)
        return perr(c, sub, "more than 10000 entries");
    return BB_OK;
}

/* An id: [A-Za-z0-9_-], 1-40 characters. */
static bb_err check_id(struct pctx *c, const char *path, const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > 40)
        return perr(c, path, "\"%.60s\" must have 1 to 40 characters", id);
    for (i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return perr(c, path, "\"%.60s\" may only hold letters, digits, '_' and '-'", id);
    }
    return BB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool bb_plan_list_has(const struct bb_plan_list *l, const char *code)
{
    return l && code && bsearch(&code, l->sorted, l->n, sizeof *l->sorted, cmp_str) != NULL;
}

static const struct bb_plan_list *find_list(const bb_plan *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->nlists; i++)
        if (strcmp(p->lists[i].name, name) == 0)
            return &p->lists[i];
    return NULL;
}

/* ---- sections ------------------------------------------------------------- */

static bb_err parse_lists(struct pctx *c, const cJSON *root)
{
    const cJSON *lists = NULL, *l, *it;
    bb_plan *p = c->p;
    char path[300];
    size_t i, j;
    bb_err err;

    if ((err = member(c, root, "$", "lists", "an object of code lists", &lists)) != BB_OK)
        return err;
    if (!cJSON_IsObject(lists))
        return perr(c, "$.lists", "expected an object, found %s", json_type_name(lists));
    p->nlists = (size_t)cJSON_GetArraySize(lists);
    if (!(p->lists = arena_alloc(p, p->nlists * sizeof *p->lists)))
        return BB_ERR_NOMEM;
    i = 0;
    cJSON_ArrayForEach(l, lists) {
        struct bb_plan_list *pl = &p->lists[i++];
        pathf(path, sizeof path, "$.lists.%.60s", l->string);
        if (strcmp(l->string, "intersections") != 0 && strcmp(l->string, "segments") != 0 &&
            strcmp(l->string, "bikepaths") != 0 && strcmp(l->string, "units") != 0)
            return perr(c, path, "not a reference list (known: " BB_REF_LISTS ")");
        if (!cJSON_IsArray(l))
            return perr(c, path, "expected an array of codes, found %s", json_type_name(l));
        pl->name = l->string;
        pl->n = (size_t)cJSON_GetArraySize(l);
        if (pl->n == 0 || pl->n > 100000)
            return perr(c, path, "expected 1 to 100000 codes, found %zu", pl->n);
        pl->codes = arena_alloc(p, pl->n * sizeof *pl->codes);
        pl->sorted = arena_alloc(p, pl->n * sizeof *pl->sorted);
        if (!pl->codes || !pl->sorted)
            return BB_ERR_NOMEM;
        j = 0;
        cJSON_ArrayForEach(it, l) {
            char ipath[340];
            pathf(ipath, sizeof ipath, "%s[%zu]", path, j);
            if (!cJSON_IsString(it))
                return perr(c, ipath, "expected a code, found %s", json_type_name(it));
            if (!bb_catalog_ref(c->cat, pl->name, it->valuestring))
                return perr(c, ipath, "\"%.60s\" is not in the reference list %s (see: "
                            "beatbook ref %s)", it->valuestring, pl->name, pl->name);
            pl->codes[j] = pl->sorted[j] = it->valuestring;
            j++;
        }
        qsort(pl->sorted, pl->n, sizeof *pl->sorted, cmp_str);
        for (j = 1; j < pl->n; j++)
            if (strcmp(pl->sorted[j - 1], pl->sorted[j]) == 0)
                return perr(c, path, "\"%s\" is listed twice", pl->sorted[j]);
    }
    return BB_OK;
}

static bb_err parse_goals(struct pctx *c, const cJSON *root)
{
    static const char *const keys[] = {"id", "number", "weight", "title", NULL};
    const cJSON *arr = NULL, *g;
    bb_plan *p = c->p;
    char path[300];
    size_t i = 0, j;
    double w;
    bb_err err;

    if ((err = get_array(c, root, "$", "goals", &arr, &p->ngoals)) != BB_OK)
        return err;
    if (p->ngoals == 0)
        return perr(c, "$.goals", "a plan needs at least one goal");
    if (!(p->goals = arena_alloc(p, p->ngoals * sizeof *p->goals)))
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(g, arr) {
        struct bb_plan_goal *pg = &p->goals[i];
        pathf(path, sizeof path, "$.goals[%zu]", i);
        if (!cJSON_IsObject(g))
            return perr(c, path, "expected an object, found %s", json_type_name(g));
        if ((err = only_keys(c, g, path, keys)) != BB_OK ||
            (err = get_string(c, g, path, "id", 40, &pg->id)) != BB_OK ||
            (err = get_string(c, g, path, "number", 40, &pg->number)) != BB_OK ||
            (err = get_number(c, g, path, "weight", 1, 100, 1, &w)) != BB_OK ||
            (err = get_label(c, g, path, "title", &pg->title)) != BB_OK)
            return err;
        pg->weight = (int)w;
        for (j = 0; j < i; j++)
            if (strcmp(p->goals[j].id, pg->id) == 0)
                return perr(c, path, "goal id \"%s\" is used twice", pg->id);
        i++;
    }
    return BB_OK;
}

/* A condition value for field f at path: the right JSON type and a legal value. */
static bb_err cond_value(struct pctx *c, const char *path, const struct bb_field *f,
                         const cJSON *v, struct bb_plan_value *out)
{
    switch (f->type) {
    case BB_F_ENUM:
        if (!cJSON_IsString(v))
            return perr(c, path, "field \"%s\" is an enum: expected one of its codes, found %s",
                        f->name, json_type_name(v));
        if (!bb_field_enum(f, v->valuestring)) {
            char codes[400];
            size_t i, used = 0;
            codes[0] = '\0';
            for (i = 0; i < f->nvalues && used < sizeof codes - 40; i++)
                used += (size_t)pathf(codes + used, sizeof codes - used, "%s%s",
                                         i ? ", " : "", f->values[i].code);
            return perr(c, path, "\"%.60s\" is not a value of field \"%s\" (values: %s)",
                        v->valuestring, f->name, codes);
        }
        out->text = v->valuestring;
        return BB_OK;
    case BB_F_REF:
        if (!cJSON_IsString(v) || !bb_catalog_ref(c->cat, f->ref, v->valuestring))
            return perr(c, path, "expected a code of the reference list %s for field \"%s\"",
                        f->ref, f->name);
        out->text = v->valuestring;
        return BB_OK;
    case BB_F_TEXT:
        if (!cJSON_IsString(v))
            return perr(c, path, "field \"%s\" is text: expected a string, found %s", f->name,
                        json_type_name(v));
        out->text = v->valuestring;
        return BB_OK;
    case BB_F_BOOLEAN:
        if (!cJSON_IsBool(v))
            return perr(c, path, "field \"%s\" is a boolean: expected true or false, found %s",
                        f->name, json_type_name(v));
        out->number = cJSON_IsTrue(v) ? 1 : 0;
        return BB_OK;
    case BB_F_INTEGER:
    case BB_F_NUMBER:
        if (!cJSON_IsNumber(v))
            return perr(c, path, "field \"%s\" is a number: expected a number, found %s",
                        f->name, json_type_name(v));
        out->number = v->valuedouble;
        return BB_OK;
    case BB_F_DATETIME:
    case BB_F_GEO:
    case BB_F_ATTACHMENT:
        break;
    }
    return perr(c, path, "field \"%s\" is of type %s, which conditions cannot test", f->name,
                bb_ftype_name(f->type));
}

/* The field name of kind k, with the kind's fields listed when it is unknown. */
static bb_err kind_field(struct pctx *c, const char *path, const struct bb_kind *k,
                         const char *name, const struct bb_field **out)
{
    char names[600];
    size_t i, used = 0;

    if ((*out = bb_kind_field(k, name)) != NULL) {
        /* Photos and files are evidence: nothing a KPI counts, sums or groups by. */
        if ((*out)->type == BB_F_ATTACHMENT)
            return perr(c, path, "field \"%s\" of %s is an attachment field, which a plan "
                        "cannot read", name, k->name);
        return BB_OK;
    }
    names[0] = '\0';
    for (i = 0; i < k->nfields && used < sizeof names - 70; i++)
        used += (size_t)pathf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 k->fields[i].name);
    return perr(c, path, "record kind %s has no field \"%.60s\" (fields: %s)", k->name, name,
                names);
}

static bb_err parse_cond(struct pctx *c, const char *path, const struct bb_kind *k,
                         const cJSON *w, struct bb_plan_cond *pc)
{
    static const char *const keys[] = {"field", "eq", "in", "in_list", "present", NULL};
    const char *fname;
    const cJSON *v = NULL;
    char sub[340];
    int nops = 0;
    bb_err err;

    if (!cJSON_IsObject(w))
        return perr(c, path, "expected a condition object, found %s", json_type_name(w));
    if ((err = only_keys(c, w, path, keys)) != BB_OK ||
        (err = get_string(c, w, path, "field", 64, &fname)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.field", path);
    if ((err = kind_field(c, sub, k, fname, &pc->field)) != BB_OK)
        return err;
    nops = (cJSON_GetObjectItemCaseSensitive(w, "eq") != NULL) +
           (cJSON_GetObjectItemCaseSensitive(w, "in") != NULL) +
           (cJSON_GetObjectItemCaseSensitive(w, "in_list") != NULL) +
           (cJSON_GetObjectItemCaseSensitive(w, "present") != NULL);
    if (nops != 1)
        return perr(c, path, "give exactly one of eq, in, in_list, present");
    if ((v = cJSON_GetObjectItemCaseSensitive(w, "eq")) != NULL) {
        struct bb_plan_value *val = arena_alloc(c->p, sizeof *val);
        if (!val)
            return BB_ERR_NOMEM;
        pathf(sub, sizeof sub, "%s.eq", path);
        if ((err = cond_value(c, sub, pc->field, v, val)) != BB_OK)
            return err;
        pc->op = BB_PLAN_EQ;
        pc->values = val;
        pc->nvalues = 1;
    } else if ((v = cJSON_GetObjectItemCaseSensitive(w, "in")) != NULL) {
        struct bb_plan_value *vals;
        const cJSON *it;
        size_t i = 0, n = (size_t)cJSON_GetArraySize(v);
        pathf(sub, sizeof sub, "%s.in", path);
        if (!cJSON_IsArray(v) || n == 0 || n > 1000)
            return perr(c, sub, "expected an array of 1 to 1000 values");
        if (!(vals = arena_alloc(c->p, n * sizeof *vals)))
            return BB_ERR_NOMEM;
        cJSON_ArrayForEach(it, v) {
            char ipath[360];
            pathf(ipath, sizeof ipath, "%s[%zu]", sub, i);
            if ((err = cond_value(c, ipath, pc->field, it, &vals[i])) != BB_OK)
                return err;
            i++;
        }
        pc->op = BB_PLAN_IN;
        pc->values = vals;
        pc->nvalues = n;
    } else if ((v = cJSON_GetObjectItemCaseSensitive(w, "in_list")) != NULL) {
        pathf(sub, sizeof sub, "%s.in_list", path);
        if (!cJSON_IsString(v))
            return perr(c, sub, "expected the name of one of the plan's lists");
        if (!(pc->list = find_list(c->p, v->valuestring)))
            return perr(c, sub, "the plan has no list \"%.60s\" (see $.lists)", v->valuestring);
        if (pc->field->type != BB_F_REF || strcmp(pc->field->ref, pc->list->name) != 0)
            return perr(c, sub, "field \"%s\" does not refer to the list %s", pc->field->name,
                        pc->list->name);
        pc->op = BB_PLAN_IN_LIST;
    } else {
        v = cJSON_GetObjectItemCaseSensitive(w, "present");
        pathf(sub, sizeof sub, "%s.present", path);
        if (!cJSON_IsBool(v))
            return perr(c, sub, "expected true or false, found %s", json_type_name(v));
        pc->op = cJSON_IsTrue(v) ? BB_PLAN_PRESENT : BB_PLAN_ABSENT;
    }
    return BB_OK;
}

static bb_err parse_input(struct pctx *c, const char *path, const cJSON *in,
                          struct bb_plan_input *pi)
{
    static const char *const keys[] = {"id", "kind", "time", "where", "measure", "group_by",
                                       "title", NULL};
    const char *kind, *time;
    const cJSON *where, *measure = NULL, *gb, *it;
    char sub[340];
    size_t i;
    bb_err err;

    if (!cJSON_IsObject(in))
        return perr(c, path, "expected an object, found %s", json_type_name(in));
    if ((err = only_keys(c, in, path, keys)) != BB_OK ||
        (err = get_string(c, in, path, "id", 40, &pi->id)) != BB_OK ||
        (err = get_label(c, in, path, "title", &pi->title)) != BB_OK ||
        (err = get_string(c, in, path, "kind", 64, &kind)) != BB_OK ||
        (err = get_string(c, in, path, "time", 80, &time)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.id", path);
    if ((err = check_id(c, sub, pi->id)) != BB_OK)
        return err;
    if (!(pi->kind = bb_catalog_kind(c->cat, kind))) {
        char names[600];
        size_t used = 0;
        names[0] = '\0';
        for (i = 0; i < bb_catalog_kind_count(c->cat) && used < sizeof names - 70; i++)
            used += (size_t)pathf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     bb_catalog_kind_at(c->cat, i)->name);
        pathf(sub, sizeof sub, "%s.kind", path);
        return perr(c, sub, "unknown record kind \"%.60s\" (kinds: %s)", kind, names);
    }
    pi->time_name = time;
    pathf(sub, sizeof sub, "%s.time", path);
    if (strcmp(time, "occurred_at") == 0) {
        pi->time_field = NULL;
    } else if (strncmp(time, "data.", 5) == 0) {
        if ((err = kind_field(c, sub, pi->kind, time + 5, &pi->time_field)) != BB_OK)
            return err;
        if (pi->time_field->type != BB_F_DATETIME)
            return perr(c, sub, "field \"%s\" is %s, not a datetime", pi->time_field->name,
                        bb_ftype_name(pi->time_field->type));
    } else {
        return perr(c, sub, "expected \"occurred_at\" or \"data.FIELD\" (a datetime field), "
                    "found \"%.60s\"", time);
    }

    where = cJSON_GetObjectItemCaseSensitive(in, "where");
    if (where) {
        struct bb_plan_cond *conds;
        size_t n = (size_t)cJSON_GetArraySize(where);
        pathf(sub, sizeof sub, "%s.where", path);
        if (!cJSON_IsArray(where) || n > 32)
            return perr(c, sub, "expected an array of at most 32 conditions");
        if (!(conds = arena_alloc(c->p, n * sizeof *conds)))
            return BB_ERR_NOMEM;
        i = 0;
        cJSON_ArrayForEach(it, where) {
            char cpath[360];
            pathf(cpath, sizeof cpath, "%s[%zu]", sub, i);
            if ((err = parse_cond(c, cpath, pi->kind, it, &conds[i])) != BB_OK)
                return err;
            i++;
        }
        pi->conds = conds;
        pi->nconds = n;
    }

    if ((err = member(c, in, path, "measure", "\"count\" or {\"sum\": [FIELD..]}", &measure)) !=
        BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.measure", path);
    if (cJSON_IsString(measure) && strcmp(measure->valuestring, "count") == 0) {
        pi->sum = NULL;
        pi->nsum = 0;
    } else if (cJSON_IsObject(measure)) {
        static const char *const mkeys[] = {"sum", NULL};
        const struct bb_field **fields;
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(measure, "sum");
        size_t n = (size_t)cJSON_GetArraySize(sum);
        if ((err = only_keys(c, measure, sub, mkeys)) != BB_OK)
            return err;
        pathf(sub, sizeof sub, "%s.measure.sum", path);
        if (!cJSON_IsArray(sum) || n == 0 || n > 16)
            return perr(c, sub, "expected an array of 1 to 16 field names");
        if (!(fields = arena_alloc(c->p, n * sizeof *fields)))
            return BB_ERR_NOMEM;
        i = 0;
        cJSON_ArrayForEach(it, sum) {
            char fpath[360];
            pathf(fpath, sizeof fpath, "%s[%zu]", sub, i);
            if (!cJSON_IsString(it))
                return perr(c, fpath, "expected a field name, found %s", json_type_name(it));
            if ((err = kind_field(c, fpath, pi->kind, it->valuestring, &fields[i])) != BB_OK)
                return err;
            if (fields[i]->type != BB_F_INTEGER && fields[i]->type != BB_F_BOOLEAN)
                return perr(c, fpath, "field \"%s\" is %s; only integer and boolean fields "
                            "can be summed", fields[i]->name, bb_ftype_name(fields[i]->type));
            i++;
        }
        pi->sum = fields;
        pi->nsum = n;
    } else {
        return perr(c, sub, "expected \"count\" or {\"sum\": [FIELD..]}");
    }

    if ((gb = cJSON_GetObjectItemCaseSensitive(in, "group_by")) != NULL) {
        pathf(sub, sizeof sub, "%s.group_by", path);
        if (!cJSON_IsString(gb))
            return perr(c, sub, "expected a field name, found %s", json_type_name(gb));
        if ((err = kind_field(c, sub, pi->kind, gb->valuestring, &pi->group_by)) != BB_OK)
            return err;
        if (pi->group_by->type != BB_F_REF)
            return perr(c, sub, "field \"%s\" is %s; only ref fields can group", gb->valuestring,
                        bb_ftype_name(pi->group_by->type));
    }
    return BB_OK;
}

static bb_err parse_inputs(struct pctx *c, const cJSON *root)
{
    const cJSON *arr = NULL, *in;
    bb_plan *p = c->p;
    char path[300];
    size_t i = 0, j;
    bb_err err;

    if ((err = get_array(c, root, "$", "inputs", &arr, &p->ninputs)) != BB_OK)
        return err;
    if (!(p->inputs = arena_alloc(p, p->ninputs * sizeof *p->inputs)))
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(in, arr) {
        pathf(path, sizeof path, "$.inputs[%zu]", i);
        p->inputs[i].index = i;
        if ((err = parse_input(c, path, in, &p->inputs[i])) != BB_OK)
            return err;
        for (j = 0; j < i; j++)
            if (strcmp(p->inputs[j].id, p->inputs[i].id) == 0)
                return perr(c, path, "input id \"%s\" is used twice", p->inputs[i].id);
        i++;
    }
    return BB_OK;
}

/* params.key names an input of the plan. */
static bb_err param_input(struct pctx *c, const cJSON *params, const char *path,
                          const char *key, const struct bb_plan_input **out)
{
    const char *id;
    char sub[340];
    bb_err err;

    if ((err = get_string(c, params, path, key, 40, &id)) != BB_OK)
        return err;
    if (!(*out = bb_plan_input(c->p, id))) {
        pathf(sub, sizeof sub, "%s.%s", path, key);
        return perr(c, sub, "the plan has no input \"%.60s\" (see $.inputs)", id);
    }
    return BB_OK;
}

static bb_err param_reference(struct pctx *c, const cJSON *params, const char *path,
                              const char **out)
{
    char sub[340];
    bb_err err;

    if ((err = get_string(c, params, path, "reference", 40, out)) != BB_OK)
        return err;
    if (!bb_plan_reference_title(c->p, *out)) {
        pathf(sub, sizeof sub, "%s.reference", path);
        return perr(c, sub, "the plan has no reference figure \"%.60s\" (see $.reference)",
                    *out);
    }
    return BB_OK;
}

static bb_err param_years_back(struct pctx *c, const cJSON *params, const char *path,
                               struct bb_plan_kpi *k, int many)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "years_back"), *it;
    char sub[340];
    double d;
    bb_err err;

    if (!many) {
        if ((err = get_number(c, params, path, "years_back", 1, 50, 1, &d)) != BB_OK)
            return err;
        k->years_back[0] = (int)d;
        k->nyears_back = 1;
        return BB_OK;
    }
    pathf(sub, sizeof sub, "%s.years_back", path);
    if (!v)
        return perr(c, path, "missing \"years_back\" (an array of years, e.g. [1, 2])");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
        cJSON_GetArraySize(v) > BB_PLAN_MAX_YEARS_BACK)
        return perr(c, sub, "expected an array of 1 to %d whole years", BB_PLAN_MAX_YEARS_BACK);
    k->nyears_back = 0;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 50 ||
            it->valuedouble != floor(it->valuedouble))
            return perr(c, sub, "years must be whole numbers from 1 to 50");
        k->years_back[k->nyears_back++] = (int)it->valuedouble;
    }
    return BB_OK;
}

static const struct {
    const char *name;
    enum bb_kpi_method method;
    const char *unit;
} methods[] = {
    {"per_capita_change", BB_KPI_PER_CAPITA_CHANGE, "%"},
    {"ratio_vs_baseline", BB_KPI_RATIO_VS_BASELINE, "pt"},
    {"improved_share", BB_KPI_IMPROVED_SHARE, "%"},
    {"change_vs_prior_average", BB_KPI_CHANGE_VS_PRIOR_AVERAGE, "%"},
    {"change_per_reference", BB_KPI_CHANGE_PER_REFERENCE, "%"},
};
#define NMETHODS (sizeof methods / sizeof methods[0])

static bb_err parse_params(struct pctx *c, const char *kpath, const cJSON *kpi,
                           struct bb_plan_kpi *k)
{
    const cJSON *params = NULL;
    const char *s;
    char path[340];
    bb_err err;

    if ((err = member(c, kpi, kpath, "params", "the method's parameters", &params)) != BB_OK)
        return err;
    pathf(path, sizeof path, "%s.params", kpath);
    if (!cJSON_IsObject(params))
        return perr(c, path, "expected an object, found %s", json_type_name(params));
    switch (k->method) {
    case BB_KPI_PER_CAPITA_CHANGE: {
        static const char *const keys[] = {"input", "reference", "per", "baseline", "compare",
                                           NULL};
        if ((err = only_keys(c, params, path, keys)) != BB_OK ||
            (err = param_input(c, params, path, "input", &k->input)) != BB_OK ||
            (err = param_reference(c, params, path, &k->reference)) != BB_OK ||
            (err = get_number(c, params, path, "per", 1, 1e9, 0, &k->per)) != BB_OK ||
            (err = get_number(c, params, path, "baseline", 1e-9, 1e12, 0, &k->baseline)) !=
                BB_OK ||
            (err = get_string(c, params, path, "compare", 40, &s)) != BB_OK)
            return err;
        if (strcmp(s, "baseline") == 0)
            k->compare = BB_CMP_BASELINE;
        else if (strcmp(s, "last_year") == 0)
            k->compare = BB_CMP_LAST_YEAR;
        else if (strcmp(s, "baseline_if_whole_year") == 0)
            k->compare = BB_CMP_BASELINE_IF_WHOLE_YEAR;
        else {
            pathf(path, sizeof path, "%s.params.compare", kpath);
            return perr(c, path, "unknown comparison \"%.40s\" (known: baseline, last_year, "
                        "baseline_if_whole_year)", s);
        }
        return BB_OK;
    }
    case BB_KPI_RATIO_VS_BASELINE: {
        static const char *const keys[] = {"numerator", "denominator", "baseline", "show", NULL};
        if ((err = only_keys(c, params, path, keys)) != BB_OK ||
            (err = param_input(c, params, path, "numerator", &k->numerator)) != BB_OK ||
            (err = param_input(c, params, path, "denominator", &k->denominator)) != BB_OK ||
            (err = get_number(c, params, path, "baseline", -1e6, 1e6, 0, &k->baseline)) !=
                BB_OK ||
            (err = get_string(c, params, path, "show", 40, &s)) != BB_OK)
            return err;
        if (strcmp(s, "difference") == 0)
            k->show_ratio = false;
        else if (strcmp(s, "ratio_and_difference") == 0)
            k->show_ratio = true;
        else {
            pathf(path, sizeof path, "%s.params.show", kpath);
            return perr(c, path, "unknown display \"%.40s\" (known: difference, "
                        "ratio_and_difference)", s);
        }
        if (k->numerator->group_by || k->denominator->group_by) {
            pathf(path, sizeof path, "%s.params", kpath);
            return perr(c, path, "a ratio needs inputs that are not grouped");
        }
        return BB_OK;
    }
    case BB_KPI_IMPROVED_SHARE: {
        static const char *const keys[] = {"input", "list", "years_back", NULL};
        if ((err = only_keys(c, params, path, keys)) != BB_OK ||
            (err = param_input(c, params, path, "input", &k->input)) != BB_OK ||
            (err = get_string(c, params, path, "list", 40, &s)) != BB_OK ||
            (err = param_years_back(c, params, path, k, 0)) != BB_OK)
            return err;
        if (!(k->list = find_list(c->p, s))) {
            pathf(path, sizeof path, "%s.params.list", kpath);
            return perr(c, path, "the plan has no list \"%.60s\" (see $.lists)", s);
        }
        if (!k->input->group_by || strcmp(k->input->group_by->ref, k->list->name) != 0) {
            pathf(path, sizeof path, "%s.params.input", kpath);
            return perr(c, path, "input \"%s\" must be grouped by a field that refers to %s",
                        k->input->id, k->list->name);
        }
        return BB_OK;
    }
    case BB_KPI_CHANGE_VS_PRIOR_AVERAGE: {
        static const char *const keys[] = {"input", "years_back", NULL};
        if ((err = only_keys(c, params, path, keys)) != BB_OK ||
            (err = param_input(c, params, path, "input", &k->input)) != BB_OK ||
            (err = param_years_back(c, params, path, k, 1)) != BB_OK)
            return err;
        return BB_OK;
    }
    case BB_KPI_CHANGE_PER_REFERENCE: {
        static const char *const keys[] = {"input", "reference", "per", "years_back", NULL};
        if ((err = only_keys(c, params, path, keys)) != BB_OK ||
            (err = param_input(c, params, path, "input", &k->input)) != BB_OK ||
            (err = param_reference(c, params, path, &k->reference)) != BB_OK ||
            (err = get_number(c, params, path, "per", 1, 1e9, 0, &k->per)) != BB_OK ||
            (err = param_years_back(c, params, path, k, 0)) != BB_OK)
            return err;
        return BB_OK;
    }
    }
    return BB_ERR_INTERNAL;
}

static bb_err parse_kpi(struct pctx *c, const char *path, const cJSON *kpi,
                        struct bb_plan_kpi *k)
{
    static const char *const keys[] = {"id", "goal", "number", "weight", "title", "standard",
                                       "method", "params", "target", "direction", "decimals",
                                       NULL};
    static const char *const tkeys[] = {"op", "value", "unit", "text", NULL};
    const char *goal, *method, *op, *dir;
    const cJSON *target = NULL;
    char sub[340], known[300];
    double d;
    size_t i, used = 0;
    bb_err err;

    if (!cJSON_IsObject(kpi))
        return perr(c, path, "expected an object, found %s", json_type_name(kpi));
    if ((err = only_keys(c, kpi, path, keys)) != BB_OK ||
        (err = get_string(c, kpi, path, "id", 40, &k->id)) != BB_OK ||
        (err = get_string(c, kpi, path, "goal", 40, &goal)) != BB_OK ||
        (err = get_string(c, kpi, path, "number", 40, &k->number)) != BB_OK ||
        (err = get_number(c, kpi, path, "weight", 1, 100, 1, &d)) != BB_OK ||
        (err = get_label(c, kpi, path, "title", &k->title)) != BB_OK)
        return err;
    k->weight = (int)d;
    pathf(sub, sizeof sub, "%s.id", path);
    if ((err = check_id(c, sub, k->id)) != BB_OK)
        return err;
    if (cJSON_GetObjectItemCaseSensitive(kpi, "standard") &&
        (err = get_label(c, kpi, path, "standard", &k->standard)) != BB_OK)
        return err;
    for (i = 0; i < c->p->ngoals; i++)
        if (strcmp(c->p->goals[i].id, goal) == 0)
            k->goal = &c->p->goals[i];
    if (!k->goal) {
        pathf(sub, sizeof sub, "%s.goal", path);
        return perr(c, sub, "the plan has no goal \"%.40s\" (see $.goals)", goal);
    }
    if ((err = get_string(c, kpi, path, "method", 60, &method)) != BB_OK)
        return err;
    for (i = 0; i < NMETHODS; i++)
        if (strcmp(methods[i].name, method) == 0)
            break;
    if (i == NMETHODS) {
        size_t j;
        known[0] = '\0';
        for (j = 0; j < NMETHODS; j++)
            used += (size_t)pathf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                                     methods[j].name);
        pathf(sub, sizeof sub, "%s.method", path);
        return perr(c, sub, "unknown method \"%.60s\" (known: %s)", method, known);
    }
    k->method = methods[i].method;
    k->method_name = methods[i].name;
    if ((err = parse_params(c, path, kpi, k)) != BB_OK)
        return err;

    if ((err = member(c, kpi, path, "target", "{op, value, unit, text}", &target)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.target", path);
    if (!cJSON_IsObject(target))
        return perr(c, sub, "expected an object, found %s", json_type_name(target));
    if ((err = only_keys(c, target, sub, tkeys)) != BB_OK ||
        (err = get_string(c, target, sub, "op", 4, &op)) != BB_OK ||
        (err = get_number(c, target, sub, "value", -1e9, 1e9, 0, &k->target)) != BB_OK ||
        (err = get_string(c, target, sub, "unit", 4, &k->unit)) != BB_OK ||
        (err = get_label(c, target, sub, "text", &k->target_text)) != BB_OK)
        return err;
    if (strcmp(op, ">=") == 0)
        k->target_ge = true;
    else if (strcmp(op, "<=") == 0)
        k->target_ge = false;
    else {
        pathf(sub, sizeof sub, "%s.target.op", path);
        return perr(c, sub, "expected \"<=\" or \">=\", found \"%.10s\"", op);
    }
    if (strcmp(k->unit, methods[i].unit) != 0) {
        pathf(sub, sizeof sub, "%s.target.unit", path);
        return perr(c, sub, "method %s gives a value in %s, not in \"%.10s\"", k->method_name,
                    methods[i].unit, k->unit);
    }
    if ((err = get_string(c, kpi, path, "direction", 10, &dir)) != BB_OK)
        return err;
    pathf(sub, sizeof sub, "%s.direction", path);
    if (strcmp(dir, "lower") != 0 && strcmp(dir, "higher") != 0)
        return perr(c, sub, "expected \"lower\" or \"higher\", found \"%.10s\"", dir);
    if ((strcmp(dir, "higher") == 0) != k->target_ge)
        return perr(c, sub, "\"%s\" is better, but the target says %s", dir,
                    k->target_ge ? ">=" : "<=");
    if ((err = get_number(c, kpi, path, "decimals", 0, 6, 1, &d)) != BB_OK)
        return err;
    k->decimals = (int)d;
    return BB_OK;
}

static bb_err parse_kpis(struct pctx *c, const cJSON *root)
{
    const cJSON *arr = NULL, *kpi;
    bb_plan *p = c->p;
    char path[300];
    size_t i = 0, j;
    bb_err err;

    if ((err = get_array(c, root, "$", "kpis", &arr, &p->nkpis)) != BB_OK)
        return err;
    if (p->nkpis == 0)
        return perr(c, "$.kpis", "a plan needs at least one KPI");
    if (!(p->kpis = arena_alloc(p, p->nkpis * sizeof *p->kpis)))
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(kpi, arr) {
        pathf(path, sizeof path, "$.kpis[%zu]", i);
        if ((err = parse_kpi(c, path, kpi, &p->kpis[i])) != BB_OK)
            return err;
        for (j = 0; j < i; j++)
            if (strcmp(p->kpis[j].id, p->kpis[i].id) == 0)
                return perr(c, path, "KPI id \"%s\" is used twice", p->kpis[i].id);
        i++;
    }
    /* A goal weighs what its KPIs weigh (the 107 plan: 25 = 10 + 15). */
    for (i = 0; i < p->ngoals; i++) {
        int sum = 0;
        for (j = 0; j < p->nkpis; j++)
            if (p->kpis[j].goal == &p->goals[i])
                sum += p->kpis[j].weight;
        if (sum != p->goals[i].weight) {
            pathf(path, sizeof path, "$.goals[%zu].weight", i);
            return perr(c, path, "goal %s weighs %d, but its KPIs weigh %d together",
                        p->goals[i].id, p->goals[i].weight, sum);
        }
    }
    return BB_OK;
}

static bb_err parse_reference(struct pctx *c, const cJSON *root)
{
    static const char *const keys[] = {"title", "note", "years", NULL};
    const cJSON *ref = NULL, *r, *years = NULL, *y, *u;
    bb_plan *p = c->p;
    char path[300], ypath[340], upath[400];
    size_t n = 0, i = 0;
    bb_err err;

    if ((err = member(c, root, "$", "reference", "an object of reference figures", &ref)) !=
        BB_OK)
        return err;
    if (!cJSON_IsObject(ref))
        return perr(c, "$.reference", "expected an object, found %s", json_type_name(ref));
    /* Count the figures first, to allocate once. */
    cJSON_ArrayForEach(r, ref) {
        years = cJSON_GetObjectItemCaseSensitive(r, "years");
        cJSON_ArrayForEach(y, years)
            n += (size_t)cJSON_GetArraySize(y);
    }
    p->nref_titles = (size_t)cJSON_GetArraySize(ref);
    p->ref_titles = arena_alloc(p, p->nref_titles * sizeof *p->ref_titles);
    p->figs = arena_alloc(p, n * sizeof *p->figs);
    if (!p->ref_titles || !p->figs)
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(r, ref) {
        pathf(path, sizeof path, "$.reference.%.60s", r->string);
        if ((err = check_id(c, path, r->string)) != BB_OK)
            return err;
        if (!cJSON_IsObject(r))
            return perr(c, path, "expected an object, found %s", json_type_name(r));
        if ((err = only_keys(c, r, path, keys)) != BB_OK ||
            (err = get_label(c, r, path, "title", &p->ref_titles[i].title)) != BB_OK)
            return err;
        p->ref_titles[i++].name = r->string;
        if (cJSON_GetObjectItemCaseSensitive(r, "note")) {
            const char *note;
            if ((err = get_string(c, r, path, "note", 2000, &note)) != BB_OK)
                return err;
        }
        if ((err = member(c, r, path, "years", "{\"YYYY\": {UNIT: n}}", &years)) != BB_OK)
            return err;
        pathf(ypath, sizeof ypath, "%s.years", path);
        if (!cJSON_IsObject(years))
            return perr(c, ypath, "expected {\"YYYY\": {UNIT: n}}, found %s",
                        json_type_name(years));
        cJSON_ArrayForEach(y, years) {
            char *end;
            long year = strtol(y->string, &end, 10);
            size_t first = p->nfigs, a, b;
            pathf(ypath, sizeof ypath, "%s.years.%.20s", path, y->string);
            if (*end || end == y->string || year < 1912 || year > 2200 || strlen(y->string) != 4)
                return perr(c, ypath, "expected a Gregorian year (1912-2200) as the key");
            if (!cJSON_IsObject(y))
                return perr(c, ypath, "expected {UNIT: n}, found %s", json_type_name(y));
            cJSON_ArrayForEach(u, y) {
                struct ref_fig *f = &p->figs[p->nfigs];
                pathf(upath, sizeof upath, "%s.%.40s", ypath, u->string);
                if (!bb_catalog_ref(c->cat, "units", u->string))
                    return perr(c, upath, "no org unit \"%.40s\" (see: beatbook ref units)",
                                u->string);
                if (!cJSON_IsNumber(u) || u->valuedouble < 1 || u->valuedouble > 1e12 ||
                    u->valuedouble != floor(u->valuedouble))
                    return perr(c, upath, "expected a whole number above 0");
                f->name = r->string;
                f->year = (int)year;
                f->org = u->string;
                f->value = (int64_t)u->valuedouble;
                p->nfigs++;
            }
            /* A unit's children never add up to more than the unit. */
            for (a = first; a < p->nfigs; a++) {
                int64_t sum = 0;
                for (b = first; b < p->nfigs; b++) {
                    const struct bb_ref_item *ub = bb_catalog_ref(c->cat, "units", p->figs[b].org);
                    if (ub && ub->parent && strcmp(ub->parent, p->figs[a].org) == 0)
                        sum += p->figs[b].value;
                }
                if (sum > p->figs[a].value)
                    return perr(c, ypath, "the units under %s add up to %lld, more than %s's "
                                "%lld", p->figs[a].org, (long long)sum, p->figs[a].org,
                                (long long)p->figs[a].value);
            }
        }
    }
    return BB_OK;
}

static bb_err parse_history(struct pctx *c, const cJSON *root)
{
    static const char *const keys[] = {"input", "period", "org", "group", "value", "source",
                                       NULL};
    const cJSON *arr = NULL, *h;
    bb_plan *p = c->p;
    char path[300], sub[340];
    size_t i = 0, n;
    bb_err err;

    if ((err = get_array(c, root, "$", "history", &arr, &n)) != BB_OK)
        return err;
    if (!(p->hist = arena_alloc(p, n * sizeof *p->hist)))
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(h, arr) {
        struct history *e = &p->hist[i];
        const char *input, *period;
        bb_period per;
        bb_errbuf sub_eb;
        double v;
        size_t j;
        pathf(path, sizeof path, "$.history[%zu]", i);
        if (!cJSON_IsObject(h))
            return perr(c, path, "expected an object, found %s", json_type_name(h));
        if ((err = only_keys(c, h, path, keys)) != BB_OK ||
            (err = get_string(c, h, path, "input", 40, &input)) != BB_OK ||
            (err = get_string(c, h, path, "period", 40, &period)) != BB_OK ||
            (err = get_string(c, h, path, "org", 32, &e->org)) != BB_OK ||
            (err = get_number(c, h, path, "value", 0, 1e15, 1, &v)) != BB_OK)
            return err;
        if (!(e->input = bb_plan_input(p, input))) {
            pathf(sub, sizeof sub, "%s.input", path);
            return perr(c, sub, "the plan has no input \"%.60s\" (see $.inputs)", input);
        }
        if (bb_period_parse(period, &per, &sub_eb) != BB_OK) {
            pathf(sub, sizeof sub, "%s.period", path);
            return perr(c, sub, "%s", sub_eb.msg);
        }
        e->from_day = per.from_day;
        e->to_day = per.to_day;
        if (!bb_catalog_ref(c->cat, "units", e->org)) {
            pathf(sub, sizeof sub, "%s.org", path);
            return perr(c, sub, "no org unit \"%.40s\" (see: beatbook ref units)", e->org);
        }
        if (cJSON_GetObjectItemCaseSensitive(h, "group")) {
            if ((err = get_string(c, h, path, "group", 32, &e->group)) != BB_OK)
                return err;
            pathf(sub, sizeof sub, "%s.group", path);
            if (!e->input->group_by)
                return perr(c, sub, "input %s is not grouped", e->input->id);
            if (!bb_catalog_ref(c->cat, e->input->group_by->ref, e->group))
                return perr(c, sub, "\"%.40s\" is not in the reference list %s", e->group,
                            e->input->group_by->ref);
        }
        if (cJSON_GetObjectItemCaseSensitive(h, "source") &&
            (err = get_string(c, h, path, "source", 1000, &e->source)) != BB_OK)
            return err;
        e->value = (int64_t)v;
        for (j = 0; j < i; j++) {
            const struct history *o = &p->hist[j];
            if (o->input == e->input && o->from_day == e->from_day && o->to_day == e->to_day &&
                strcmp(o->org, e->org) == 0 &&
                strcmp(o->group ? o->group : "", e->group ? e->group : "") == 0)
                return perr(c, path, "the same input, period, org and group as "
                            "$.history[%zu]", j);
        }
        i++;
    }
    p->nhist = n;
    return BB_OK;
}

static bb_err parse_root(struct pctx *c, const cJSON *root)
{
    static const char *const keys[] = {"format", "version", "id", "year", "org_root", "title",
                                       "source", "goals", "inputs", "kpis", "lists", "reference",
                                       "history", NULL};
    const struct bb_ref_item *u;
    const char *format;
    bb_plan *p = c->p;
    double d;
    bb_err err;

    if (!cJSON_IsObject(root))
        return perr(c, "$", "expected a JSON object, found %s", json_type_name(root));
    if ((err = only_keys(c, root, "$", keys)) != BB_OK ||
        (err = get_string(c, root, "$", "format", 40, &format)) != BB_OK)
        return err;
    if (strcmp(format, "beatbook-plan") != 0)
        return perr(c, "$.format", "expected \"beatbook-plan\", found \"%.40s\"", format);
    if ((err = get_number(c, root, "$", "version", 1, 1, 1, &d)) != BB_OK ||
        (err = get_string(c, root, "$", "id", 40, &p->id)) != BB_OK ||
        (err = check_id(c, "$.id", p->id)) != BB_OK ||
        (err = get_number(c, root, "$", "year", 1912, 2200, 1, &d)) != BB_OK)
        return err;
    p->year = (int)d;
    if ((err = get_string(c, root, "$", "org_root", 32, &p->org_root)) != BB_OK ||
        (err = get_label(c, root, "$", "title", &p->title)) != BB_OK)
        return err;
    u = bb_catalog_ref(c->cat, "units", p->org_root);
    if (!u)
        return perr(c, "$.org_root", "no org unit \"%.40s\" (see: beatbook ref units)",
                    p->org_root);
    if (cJSON_GetObjectItemCaseSensitive(root, "source")) {
        const char *src;
        if ((err = get_string(c, root, "$", "source", 2000, &src)) != BB_OK)
            return err;
    }
    /* Order matters: lists and references before the inputs and KPIs that name them. */
    if ((err = parse_lists(c, root)) != BB_OK || (err = parse_reference(c, root)) != BB_OK ||
        (err = parse_goals(c, root)) != BB_OK || (err = parse_inputs(c, root)) != BB_OK ||
        (err = parse_kpis(c, root)) != BB_OK || (err = parse_history(c, root)) != BB_OK)
        return err;
    return BB_OK;
}

bb_err bb_plan_parse(const bb_catalog *cat, const char *json, size_t len, const char *origin,
                     bb_plan **out, bb_errbuf *eb)
{
    struct pctx c;
    bb_plan *p;
    bb_err err;

    *out = NULL;
    if (!cat || !json || !origin)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_plan_parse: missing argument");
    if (len > BB_PLAN_MAX_BYTES)
        return bb_fail(eb, BB_ERR_TOOBIG, "%s: a plan file is at most %u bytes", origin,
                       BB_PLAN_MAX_BYTES);
    if (!(p = calloc(1, sizeof *p)))
        return bb_fail(eb, BB_ERR_NOMEM, "%s: out of memory", origin);
    if ((err = bb_json_parse(json, len, origin, &p->root, eb)) != BB_OK) {
        bb_plan_free(p);
        return err;
    }
    c.p = p;
    c.cat = cat;
    c.origin = origin;
    c.eb = eb;
    err = parse_root(&c, p->root);
    if (err == BB_ERR_NOMEM)
        bb_fail(eb, err, "%s: out of memory", origin);
    if (err == BB_OK && !(p->canonical = bb_json_canonical(p->root)))
        err = bb_fail(eb, BB_ERR_NOMEM, "%s: out of memory", origin);
    if (err != BB_OK) {
        bb_plan_free(p);
        return err;
    }
    *out = p;
    return BB_OK;
}

bb_err bb_plan_load_embedded(const bb_catalog *cat, const char *id, bb_plan **out,
                             bb_errbuf *eb)
{
    const struct bb_embedded_file *f;
    char path[80];

    *out = NULL;
    if (strlen(id) > 40 || strchr(id, '/'))
        return bb_fail(eb, BB_ERR_NOTFOUND, "no built-in plan \"%.40s\"", id);
    pathf(path, sizeof path, "plans/%s.json", id);
    if (!(f = bb_embed_find(path)))
        return bb_fail(eb, BB_ERR_NOTFOUND, "no built-in plan \"%s\"", id);
    return bb_plan_parse(cat, f->data, f->len, path, out, eb);
}

void bb_plan_free(bb_plan *p)
{
    struct arena_block *b, *next;

    if (!p)
        return;
    for (b = p->arena; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p->canonical);
    cJSON_Delete(p->root);
    free(p);
}

/* ---- look-ups ------------------------------------------------------------- */

const char *bb_plan_id(const bb_plan *p) { return p->id; }
int bb_plan_year(const bb_plan *p) { return p->year; }
const char *bb_plan_org_root(const bb_plan *p) { return p->org_root; }
const struct bb_label *bb_plan_title(const bb_plan *p) { return &p->title; }
const char *bb_plan_canonical(const bb_plan *p) { return p->canonical; }
size_t bb_plan_goal_count(const bb_plan *p) { return p->ngoals; }
size_t bb_plan_kpi_count(const bb_plan *p) { return p->nkpis; }
size_t bb_plan_input_count(const bb_plan *p) { return p->ninputs; }

const struct bb_plan_goal *bb_plan_goal_at(const bb_plan *p, size_t i)
{
    return i < p->ngoals ? &p->goals[i] : NULL;
}

const struct bb_plan_kpi *bb_plan_kpi_at(const bb_plan *p, size_t i)
{
    return i < p->nkpis ? &p->kpis[i] : NULL;
}

const struct bb_plan_kpi *bb_plan_kpi(const bb_plan *p, const char *id)
{
    size_t i;
    for (i = 0; i < p->nkpis; i++)
        if (p->kpis[i].id && strcmp(p->kpis[i].id, id) == 0)
            return &p->kpis[i];
    return NULL;
}

const struct bb_plan_input *bb_plan_input_at(const bb_plan *p, size_t i)
{
    return i < p->ninputs ? &p->inputs[i] : NULL;
}

const struct bb_plan_input *bb_plan_input(const bb_plan *p, const char *id)
{
    size_t i;
    for (i = 0; i < p->ninputs; i++)
        if (p->inputs[i].id && strcmp(p->inputs[i].id, id) == 0)
            return &p->inputs[i];
    return NULL;
}

int bb_plan_total_weight(const bb_plan *p)
{
    int sum = 0;
    size_t i;
    for (i = 0; i < p->nkpis; i++)
        sum += p->kpis[i].weight;
    return sum;
}

const struct bb_label *bb_plan_reference_title(const bb_plan *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->nref_titles; i++)
        if (p->ref_titles[i].name && strcmp(p->ref_titles[i].name, name) == 0)
            return &p->ref_titles[i].title;
    return NULL;
}

bb_err bb_plan_reference(const bb_plan *p, const char *name, int year, const char *org,
                         int64_t *value)
{
    size_t i;
    for (i = 0; i < p->nfigs; i++) {
        const struct ref_fig *f = &p->figs[i];
        if (f->year == year && strcmp(f->name, name) == 0 && strcmp(f->org, org) == 0) {
            *value = f->value;
            return BB_OK;
        }
    }
    return BB_ERR_NOTFOUND;
}

bool bb_plan_history(const bb_plan *p, const struct bb_plan_input *in, int64_t from_day,
                     int64_t to_day, const char *org, const char *group, int64_t *value,
                     const char **source)
{
    size_t i;
    for (i = 0; i < p->nhist; i++) {
        const struct history *h = &p->hist[i];
        if (h->input == in && h->from_day == from_day && h->to_day == to_day &&
            strcmp(h->org, org) == 0 &&
            strcmp(h->group ? h->group : "", group ? group : "") == 0) {
            *value = h->value;
            if (source)
                *source = h->source;
            return true;
        }
    }
    return false;
}
