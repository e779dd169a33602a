/*
 * bb_rules.c — parsing and checking rules across a record's fields (see
 * bb_rules.h).  A rule is data; this file is its only interpreter, used by
 * bb_record_validate on the laptop and at HQ alike.
 */
#include "bb_rules.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX 100
#define CONDS_MAX 20

static const struct {
    const char *key;
    enum bb_cond_op op;
    int with_field;     /* the *_field form: compare with another field */
} op_keys[] = {
    {"present", BB_COND_PRESENT, 0}, {"absent", BB_COND_ABSENT, 0}, {"in", BB_COND_IN, 0},
    {"eq", BB_COND_EQ, 0},           {"ne", BB_COND_NE, 0},         {"lt", BB_COND_LT, 0},
    {"le", BB_COND_LE, 0},           {"gt", BB_COND_GT, 0},         {"ge", BB_COND_GE, 0},
    {"eq_field", BB_COND_EQ, 1},     {"ne_field", BB_COND_NE, 1},   {"lt_field", BB_COND_LT, 1},
    {"le_field", BB_COND_LE, 1},     {"gt_field", BB_COND_GT, 1},   {"ge_field", BB_COND_GE, 1},
};

/* The type of a name a condition may use: a field of k, or an envelope time. */
static int name_type(const struct bb_kind *k, const char *name, enum bb_ftype *t)
{
    const struct bb_field *f;
    if (strcmp(name, "occurred_at") == 0 || strcmp(name, "recorded_at") == 0) {
        *t = BB_F_DATETIME;
        return 1;
    }
    if ((f = bb_kind_field(k, name)) == NULL)
        return 0;
    *t = f->type;
    return 1;
}

static int numeric(enum bb_ftype t)
{
    return t == BB_F_INTEGER || t == BB_F_NUMBER;
}

static bb_err parse_cond(const struct bb_kind *k, const cJSON *jc, struct bb_cond *c,
                         const char *where, bb_errbuf *eb)
{
    const cJSON *it, *val = NULL;
    size_t i, found = 0;
    int with_field = 0;

    memset(c, 0, sizeof *c);
    c->field = bb_json_str(jc, "field");
    if (!cJSON_IsObject(jc) || !c->field)
        return bb_fail(eb, BB_ERR_INVALID, "%s: a condition is {\"field\": NAME, OP: VALUE}",
                       where);
    if (!name_type(k, c->field, &c->type))
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: \"%s\" is not a field of %s (nor occurred_at, recorded_at)", where,
                       c->field, k->name);
    /* A rule reads values a person typed; files are evidence, not values to test. */
    if (c->type == BB_F_ATTACHMENT)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\" is an attachment field, which rules cannot test",
                       where, c->field);
    cJSON_ArrayForEach(it, jc) {
        if (strcmp(it->string, "field") == 0 || strcmp(it->string, "plus_minutes") == 0)
            continue;
        for (i = 0; i < sizeof op_keys / sizeof op_keys[0]; i++)
            if (strcmp(it->string, op_keys[i].key) == 0)
                break;
        if (i == sizeof op_keys / sizeof op_keys[0])
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": unknown key \"%s\" (operators: present, absent, "
                           "in, eq, ne, lt, le, gt, ge, and eq_field ... ge_field with "
                           "plus_minutes)", where, c->field, it->string);
        c->op = op_keys[i].op;
        with_field = op_keys[i].with_field;
        val = it;
        found++;
    }
    if (found != 1)
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": give exactly one operator", where,
                       c->field);
    it = cJSON_GetObjectItemCaseSensitive(jc, "plus_minutes");
    if (it && (!with_field || c->type != BB_F_DATETIME || !cJSON_IsNumber(it) ||
               it->valuedouble != floor(it->valuedouble) || fabs(it->valuedouble) > 525600 * 10))
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"plus_minutes\" is a whole number of minutes, only "
                       "with a *_field comparison of datetimes", where, c->field);
    c->plus_minutes = it ? (long)it->valuedouble : 0;

    if (with_field) {
        enum bb_ftype ot;
        c->other = cJSON_IsString(val) ? val->valuestring : NULL;
        if (!c->other || !name_type(k, c->other, &ot) || strcmp(c->other, c->field) == 0)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": the comparison must name another field of %s",
                           where, c->field, k->name);
        if (!((numeric(c->type) && numeric(ot)) ||
              (c->type == BB_F_DATETIME && ot == BB_F_DATETIME)))
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: fields \"%s\" and \"%s\" cannot be compared (numbers with "
                           "numbers, datetimes with datetimes)", where, c->field, c->other);
        return BB_OK;
    }
    switch (c->op) {
    case BB_COND_PRESENT:
    case BB_COND_ABSENT:
        if (!cJSON_IsTrue(val))
            return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": write \"present\": true or "
                           "\"absent\": true", where, c->field);
        return BB_OK;
    case BB_COND_IN: {
        const cJSON *v;
        size_t n = (size_t)cJSON_GetArraySize(val), j = 0;
        const struct bb_field *f = bb_kind_field(k, c->field);
        if (!f || f->type == BB_F_INTEGER || f->type == BB_F_NUMBER || f->type == BB_F_GEO ||
            f->type == BB_F_DATETIME || !cJSON_IsArray(val) || n == 0 || n > 200)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"in\" takes a list of values of an enum, "
                           "boolean, ref or text field", where, c->field);
        if (!(c->in = calloc(n, sizeof *c->in)))
            return BB_ERR_NOMEM;
        c->nin = n;
        cJSON_ArrayForEach(v, val) {
            if (f->type == BB_F_BOOLEAN && cJSON_IsBool(v))
                c->in[j] = cJSON_IsTrue(v) ? "true" : "false";
            else if (f->type != BB_F_BOOLEAN && cJSON_IsString(v))
                c->in[j] = v->valuestring;
            else
                return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"in\" value %zu has the "
                               "wrong type", where, c->field, j + 1);
            if (f->type == BB_F_ENUM && !bb_field_enum(f, c->in[j]))
                return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"%s\" is not one of "
                               "its values", where, c->field, c->in[j]);
            j++;
        }
        return BB_OK;
    }
    default:
        break;
    }
    /* A comparison with a constant. */
    if (numeric(c->type) && cJSON_IsNumber(val)) {
        c->vtype = BB_CV_NUMBER;
        c->number = val->valuedouble;
        return BB_OK;
    }
    if (c->type == BB_F_DATETIME && cJSON_IsString(val)) {
        int64_t t;
        int off;
        if (bb_time_parse(val->valuestring, &t, &off, NULL) != BB_OK)
            return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"%s\" is not a datetime "
                           "with an offset", where, c->field, val->valuestring);
        c->vtype = BB_CV_NUMBER;
        c->number = (double)t;
        return BB_OK;
    }
    if (c->op == BB_COND_EQ || c->op == BB_COND_NE) {
        const struct bb_field *f = bb_kind_field(k, c->field);
        if (f && f->type == BB_F_BOOLEAN && cJSON_IsBool(val)) {
            c->vtype = BB_CV_BOOL;
            c->boolean = cJSON_IsTrue(val);
            return BB_OK;
        }
        if (f && (f->type == BB_F_ENUM || f->type == BB_F_REF || f->type == BB_F_TEXT) &&
            cJSON_IsString(val)) {
            if (f->type == BB_F_ENUM && !bb_field_enum(f, val->valuestring))
                return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"%s\" is not one of "
                               "its values", where, c->field, val->valuestring);
            c->vtype = BB_CV_TEXT;
            c->text = val->valuestring;
            return BB_OK;
        }
    }
    return bb_fail(eb, BB_ERR_INVALID,
                   "%s: field \"%s\" (%s): the value does not fit the operator (numbers for "
                   "numbers, datetimes with an offset for datetimes, codes for enums)",
                   where, c->field, bb_ftype_name(c->type));
}

static bb_err parse_conds(const struct bb_kind *k, const cJSON *arr, const char *where,
                          struct bb_cond **out, size_t *n, bb_errbuf *eb)
{
    const cJSON *it;
    struct bb_cond *c;
    size_t cnt = (size_t)cJSON_GetArraySize(arr), i = 0;
    bb_err err;

    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr) || cnt == 0 || cnt > CONDS_MAX)
        return bb_fail(eb, BB_ERR_INVALID, "%s: expected an array of 1..%d conditions", where,
                       CONDS_MAX);
    if (!(c = calloc(cnt, sizeof *c)))
        return BB_ERR_NOMEM;
    *out = c;
    cJSON_ArrayForEach(it, arr) {
        *n = i + 1;
        if ((err = parse_cond(k, it, &c[i], where, eb)) != BB_OK)
            return err;
        i++;
    }
    return BB_OK;
}

static void free_conds(const struct bb_cond *c, size_t n)
{
    size_t i;
    for (i = 0; c && i < n; i++)
        free((void *)c[i].in);
    free((void *)c);
}

void bb_rules_free(struct bb_rule *rules, size_t n)
{
    size_t i;
    for (i = 0; rules && i < n; i++) {
        free_conds(rules[i].when, rules[i].nwhen);
        free_conds(rules[i].require, rules[i].nrequire);
    }
    free(rules);
}

bb_err bb_rules_parse(const struct bb_kind *k, const cJSON *jrules, const char *origin,
                      struct bb_rule **out, size_t *n, bb_errbuf *eb)
{
    struct bb_rule *rules;
    const cJSON *jr, *it;
    size_t cnt, i = 0, j;
    char where[200];
    bb_err err = BB_OK;

    *out = NULL;
    *n = 0;
    if (!jrules)
        return BB_OK;
    cnt = (size_t)cJSON_GetArraySize(jrules);
    if (!cJSON_IsArray(jrules) || cnt > RULES_MAX)
        return bb_fail(eb, BB_ERR_INVALID, "%s: \"rules\" must be an array of at most %d rules",
                       origin, RULES_MAX);
    if (cnt == 0)
        return BB_OK;
    if (!(rules = calloc(cnt, sizeof *rules)))
        return BB_ERR_NOMEM;
    cJSON_ArrayForEach(jr, jrules) {
        struct bb_rule *r = &rules[i];
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(jr, "require");
        const cJSON *any = cJSON_GetObjectItemCaseSensitive(jr, "require_any");
        const cJSON *msg = bb_json_obj(jr, "message");
        struct bb_cond *conds;

        r->id = bb_json_str(jr, "id");
        snprintf(where, sizeof where, "%s: rule \"%s\"", origin, r->id ? r->id : "?");
        if (!r->id || !*r->id || strlen(r->id) > 64) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: rules[%zu] needs an \"id\"", origin, i);
            goto fail;
        }
        for (j = 0; j < i; j++)
            if (strcmp(rules[j].id, r->id) == 0) {
                err = bb_fail(eb, BB_ERR_INVALID, "%s: the id is used twice", where);
                goto fail;
            }
        it = cJSON_GetObjectItemCaseSensitive(jr, "since");
        if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
            it->valuedouble < 1 || it->valuedouble > k->version) {
            err = bb_fail(eb, BB_ERR_INVALID,
                          "%s: \"since\" must be the kind version (1..%d) from which it holds",
                          where, k->version);
            goto fail;
        }
        r->since = (int)it->valuedouble;
        r->message.zh = msg ? bb_json_str(msg, "zh-TW") : NULL;
        r->message.en = msg ? bb_json_str(msg, "en") : NULL;
        if (!r->message.zh || !r->message.en) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: a \"message\" in zh-TW and en is required",
                          where);
            goto fail;
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(jr, "when")) != NULL) {
            err = parse_conds(k, it, where, &conds, &r->nwhen, eb);
            r->when = conds;
            if (err != BB_OK)
                goto fail;
        }
        if ((req != NULL) == (any != NULL)) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: give either \"require\" or \"require_any\"",
                          where);
            goto fail;
        }
        r->any = any != NULL;
        err = parse_conds(k, req ? req : any, where, &conds, &r->nrequire, eb);
        r->require = conds;
        if (err != BB_OK)
            goto fail;
        cJSON_ArrayForEach(it, jr) {
            static const char *const keys[] = {"id", "since", "when", "require",
                                               "require_any", "message"};
            for (j = 0; j < sizeof keys / sizeof keys[0]; j++)
                if (strcmp(it->string, keys[j]) == 0)
                    break;
            if (j == sizeof keys / sizeof keys[0]) {
                err = bb_fail(eb, BB_ERR_INVALID, "%s: unknown key \"%s\"", where, it->string);
                goto fail;
            }
        }
        i++;
    }
    *out = rules;
    *n = cnt;
    return BB_OK;
fail:
    bb_rules_free(rules, i + 1);
    return err;
}

int bb_record_kind_version(const cJSON *rec)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "kind_version");
    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 1e6 ? v->valueint : 1;
}

int bb_rule_applies(const struct bb_rule *r, const cJSON *rec)
{
    const char *status = bb_json_str(rec, "status");
    if (status && strcmp(status, "void") == 0)
        return 0;
    return bb_record_kind_version(rec) >= r->since;
}

/* The value a condition names: a data field or an envelope time; NULL when not given. */
static const cJSON *cond_value(const cJSON *rec, const char *name)
{
    const cJSON *v;
    if (strcmp(name, "occurred_at") == 0 || strcmp(name, "recorded_at") == 0)
        v = cJSON_GetObjectItemCaseSensitive(rec, name);
    else
        v = cJSON_GetObjectItemCaseSensitive(bb_json_obj(rec, "data"), name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* A number (or a datetime as Unix seconds) from v; 0 when it is neither. */
static int as_number(const cJSON *v, enum bb_ftype t, double *out)
{
    if (t == BB_F_DATETIME) {
        int64_t s;
        int off;
        if (!cJSON_IsString(v) || bb_time_parse(v->valuestring, &s, &off, NULL) != BB_OK)
            return 0;
        *out = (double)s;
        return 1;
    }
    if (!cJSON_IsNumber(v))
        return 0;
    *out = v->valuedouble;
    return 1;
}

static int compare(enum bb_cond_op op, double a, double b)
{
    switch (op) {
    case BB_COND_EQ: return a == b;
    case BB_COND_NE: return a != b;
    case BB_COND_LT: return a < b;
    case BB_COND_LE: return a <= b;
    case BB_COND_GT: return a > b;
    case BB_COND_GE: return a >= b;
    default: return 0;
    }
}

/* 1 holds, 0 fails, -1 cannot be told (a value not given or not readable). */
static int cond_eval(const struct bb_cond *c, const cJSON *rec)
{
    const cJSON *v = cond_value(rec, c->field);
    double a, b;
    size_t i;

    if (c->op == BB_COND_PRESENT)
        return v != NULL;
    if (c->op == BB_COND_ABSENT)
        return v == NULL;
    if (!v)
        return -1;
    if (c->op == BB_COND_IN) {
        const char *s = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "true" : "false")
                        : cJSON_IsString(v) ? v->valuestring : NULL;
        if (!s)
            return -1;
        for (i = 0; i < c->nin; i++)
            if (strcmp(s, c->in[i]) == 0)
                return 1;
        return 0;
    }
    if (c->other) {
        const cJSON *w = cond_value(rec, c->other);
        enum bb_ftype ot = c->type;
        if (!w || !as_number(v, c->type, &a) || !as_number(w, ot, &b))
            return -1;
        return compare(c->op, a, b + (double)c->plus_minutes * 60.0);
    }
    switch (c->vtype) {
    case BB_CV_NUMBER:
        if (!as_number(v, c->type, &a))
            return -1;
        return compare(c->op, a, c->number);
    case BB_CV_TEXT:
        if (!cJSON_IsString(v))
            return -1;
        return (strcmp(v->valuestring, c->text) == 0) == (c->op == BB_COND_EQ);
    case BB_CV_BOOL:
        if (!cJSON_IsBool(v))
            return -1;
        return (cJSON_IsTrue(v) == c->boolean) == (c->op == BB_COND_EQ);
    case BB_CV_NONE:
        break;
    }
    return -1;
}

/* "1", "A2", "是", "2018-03-15T14:20:00+08:00": a value as a message quotes it. */
static void show_value(const cJSON *v, enum bb_lang lang, char *out, size_t n)
{
    if (cJSON_IsNumber(v))
        snprintf(out, n, "%g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? (lang == BB_LANG_EN ? "yes" : "是")
                                               : (lang == BB_LANG_EN ? "no" : "否"));
    else if (cJSON_IsString(v))
        snprintf(out, n, "%.60s", v->valuestring);
    else
        out[0] = '\0';
}

bb_err bb_rule_check(const struct bb_kind *k, const struct bb_rule *r, const cJSON *rec,
                     enum bb_lang lang, const char **blamed, bb_errbuf *eb)
{
    const struct bb_cond *bad = NULL;
    const struct bb_field *f;
    const cJSON *v;
    char val[80], now[240];
    const char *label, *msg;
    size_t i;

    if (blamed)
        *blamed = NULL;
    if (!bb_rule_applies(r, rec))
        return BB_OK;
    for (i = 0; i < r->nwhen; i++)
        if (cond_eval(&r->when[i], rec) != 1)
            return BB_OK;
    if (r->any) {
        for (i = 0; i < r->nrequire; i++)
            if (cond_eval(&r->require[i], rec) == 1)
                return BB_OK;
        bad = &r->require[0];
    } else {
        for (i = 0; i < r->nrequire && !bad; i++)
            if (cond_eval(&r->require[i], rec) == 0)
                bad = &r->require[i];
        if (!bad)
            return BB_OK;
    }
    if (blamed)
        *blamed = bad->field;
    f = bb_kind_field(k, bad->field);
    if (!f)
        f = bb_record_envelope_field(bad->field);
    label = f ? bb_label(&f->label, lang, bad->field) : bad->field;
    msg = bb_label(&r->message, lang, r->id);
    now[0] = '\0';
    if ((v = cond_value(rec, bad->field)) != NULL && !r->any) {
        const cJSON *w = bad->other ? cond_value(rec, bad->other) : NULL;
        show_value(v, lang, val, sizeof val);
        if (w) {
            char other[80];
            show_value(w, lang, other, sizeof other);
            snprintf(now, sizeof now, lang == BB_LANG_EN ? " (now %s; %s is %s)"
                                                         : "（目前為 %s；「%s」為 %s）",
                     val, bad->other, other);
        } else {
            snprintf(now, sizeof now, lang == BB_LANG_EN ? " (now %s)" : "（目前為 %s）", val);
        }
    }
    if (lang == BB_LANG_EN)
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\" (%s): %s%s", k->name, bad->field,
                       label, msg, now);
    return bb_fail(eb, BB_ERR_INVALID, "%s：欄位「%s」（%s）：%s%s", k->name, bad->field, label,
                   msg, now);
}

bb_err bb_rules_check(const struct bb_kind *k, const cJSON *rec, enum bb_lang lang,
                      bb_errbuf *eb)
{
    size_t i;
    bb_err err;

    for (i = 0; i < k->nrules; i++)
        if ((err = bb_rule_check(k, &k->rules[i], rec, lang, NULL, eb)) != BB_OK)
            return err;
    return BB_OK;
}
