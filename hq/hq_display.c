/*
 * hq_display.c — labels and local times for the review UI (see hq_display.h).
 * The catalog holds the labels of kinds, fields, values and listed codes;
 * the few words that are not catalog data (statuses, sources, yes/no) are
 * the tables below.
 */
#include "hq_display.h"
#include "bb_attach.h"
#include "bb_json.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_TEXT_MAX 400                /* "name (code)" */

cJSON *hq_display_pair(const char *zh, const char *en)
{
    cJSON *o;

    if (!zh)
        zh = en;
    if (!en)
        en = zh;
    if (!zh)
        return cJSON_CreateNull();
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "zh-TW", zh) || !cJSON_AddStringToObject(o, "en", en)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *hq_display_label(const struct bb_label *l, const char *fallback)
{
    return hq_display_pair(bb_label(l, BB_LANG_ZH, fallback), bb_label(l, BB_LANG_EN, fallback));
}

cJSON *hq_display_ref(const bb_catalog *cat, const char *list, const char *code)
{
    const struct bb_ref_item *it = code && list ? bb_catalog_ref(cat, list, code) : NULL;
    char zh[REF_TEXT_MAX], en[REF_TEXT_MAX];

    if (!it)
        return hq_display_pair(code, code);
    snprintf(zh, sizeof zh, "%s (%s)", bb_label(&it->label, BB_LANG_ZH, it->code), it->code);
    snprintf(en, sizeof en, "%s (%s)", bb_label(&it->label, BB_LANG_EN, it->code), it->code);
    return hq_display_pair(zh, en);
}

cJSON *hq_display_time(const char *rfc3339)
{
    char zh[48], en[48];
    int64_t t, local;
    int y, m, d, minute;

    if (!rfc3339 || bb_time_parse(rfc3339, &t, NULL, NULL) != BB_OK ||
        bb_taipei_date(t, &y, &m, &d) != BB_OK)
        return hq_display_pair(rfc3339, rfc3339);
    local = t + BB_TAIPEI_OFFSET_MIN * 60;
    minute = (int)(((local % 86400) + 86400) % 86400 / 60);
    snprintf(en, sizeof en, "%04d-%02d-%02d %02d:%02d", y, m, d, minute / 60, minute % 60);
    if (y > 1911)       /* ROC year 1 is 1912; earlier dates have none */
        snprintf(zh, sizeof zh, "%d/%02d/%02d %02d:%02d", y - 1911, m, d, minute / 60,
                 minute % 60);
    else
        snprintf(zh, sizeof zh, "%s", en);
    return hq_display_pair(zh, en);
}

struct word {
    const char *code, *zh, *en;
};

static cJSON *word(const struct word *w, const char *code)
{
    for (; code && w->code; w++)
        if (strcmp(w->code, code) == 0)
            return hq_display_pair(w->zh, w->en);
    return hq_display_pair(code, code);
}

cJSON *hq_display_status(const char *status)
{
    static const struct word w[] = {{"final", "已完成", "Final"}, {"void", "已作廢", "Void"},
                                    {"draft", "草稿", "Draft"}, {NULL, NULL, NULL}};
    return word(w, status);
}

cJSON *hq_display_device_status(const char *status)
{
    static const struct word w[] = {{"pending", "待登錄", "Pending registration"},
                                    {"active", "使用中", "Active"},
                                    {"revoked", "已撤銷", "Revoked"}, {NULL, NULL, NULL}};
    return word(w, status);
}

cJSON *hq_display_source(const char *source)
{
    static const struct word w[] = {{"https", "網路傳送", "Network (HTTPS)"},
                                    {"import", "USB 匯入", "USB import"}, {NULL, NULL, NULL}};
    return word(w, source);
}

cJSON *hq_display_action(const char *action)
{
    static const struct word w[] = {{"released", "已釋出", "Released"},
                                    {"reviewed", "已審查", "Reviewed"}, {NULL, NULL, NULL}};
    return word(w, action);
}

/* Any JSON value as one line of text, the same in both languages. */
static cJSON *as_text(const cJSON *v)
{
    char *s;
    cJSON *o;

    if (cJSON_IsString(v))
        return hq_display_pair(v->valuestring, v->valuestring);
    if (cJSON_IsBool(v))
        return hq_display_pair(cJSON_IsTrue(v) ? "是" : "否", cJSON_IsTrue(v) ? "Yes" : "No");
    if (!(s = bb_json_canonical(v)))
        return NULL;
    o = hq_display_pair(s, s);
    free(s);
    return o;
}

/* An attachment field: "2 張照片：IMG_0412.JPG、現場 2.jpg" / "2 photos: IMG_0412.JPG,
 * 現場 2.jpg" ("個檔案" / "files" when not all are photos): the names a record gave
 * its files, the start of the hash for one without. */
static cJSON *attachment_names(const cJSON *v)
{
    char zh[1200], en[1200], one[BB_ATTACH_NAME_MAX + 1];
    size_t zl, el;
    int n = cJSON_GetArraySize(v), i = 0;
    const cJSON *it;

    int photos = 1;

    cJSON_ArrayForEach(it, v) {
        const char *type = bb_json_str(it, "type");
        if (!type || strncmp(type, "image/", 6) != 0)
            photos = 0;
    }
    zl = (size_t)snprintf(zh, sizeof zh, photos ? "%d 張照片：" : "%d 個檔案：", n);
    el = (size_t)snprintf(en, sizeof en, "%d %s%s: ", n, photos ? "photo" : "file",
                          n == 1 ? "" : "s");
    cJSON_ArrayForEach(it, v) {
        const char *name = bb_json_str(it, "name"), *sha = bb_json_str(it, "sha256");
        snprintf(one, sizeof one, "%s", name && *name ? name : sha ? sha : "?");
        if (!(name && *name))
            one[12 < sizeof one ? 12 : 0] = '\0';
        if (zl + strlen(one) + 8 >= sizeof zh || el + strlen(one) + 8 >= sizeof en) {
            snprintf(zh + zl, sizeof zh - zl, "%s…", i ? "、" : "");
            snprintf(en + el, sizeof en - el, "%s…", i ? ", " : "");
            break;
        }
        zl += (size_t)snprintf(zh + zl, sizeof zh - zl, "%s%s", i ? "、" : "", one);
        el += (size_t)snprintf(en + el, sizeof en - el, "%s%s", i ? ", " : "", one);
        i++;
    }
    return hq_display_pair(zh, en);
}

cJSON *hq_display_value(const bb_catalog *cat, const struct bb_field *f, const cJSON *v)
{
    const struct bb_enum_value *ev;
    const cJSON *lat, *lon;
    char geo[80];

    if (!v || cJSON_IsNull(v))
        return cJSON_CreateNull();
    if (!f)
        return as_text(v);
    switch (f->type) {
    case BB_F_ENUM:
        if (cJSON_IsString(v) && (ev = bb_field_enum(f, v->valuestring)) != NULL)
            return hq_display_label(&ev->label, ev->code);
        break;
    case BB_F_REF:
        if (cJSON_IsString(v))
            return hq_display_ref(cat, f->ref, v->valuestring);
        break;
    case BB_F_DATETIME:
        if (cJSON_IsString(v))
            return hq_display_time(v->valuestring);
        break;
    case BB_F_GEO:
        lat = cJSON_GetObjectItemCaseSensitive(v, "lat");
        lon = cJSON_GetObjectItemCaseSensitive(v, "lon");
        if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
            snprintf(geo, sizeof geo, "%.10g, %.10g", lat->valuedouble, lon->valuedouble);
            return hq_display_pair(geo, geo);
        }
        break;
    case BB_F_ATTACHMENT:
        if (cJSON_IsArray(v))
            return attachment_names(v);
        break;
    case BB_F_TEXT: case BB_F_INTEGER: case BB_F_NUMBER: case BB_F_BOOLEAN:
        break;
    }
    return as_text(v);
}

/* Add item (may be NULL: out of memory) to o under k; false when it is not added. */
static int put(cJSON *o, const char *k, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, k, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

/* {"name", "type", "label", "text"} of one data field. */
static int add_field(cJSON *fields, const bb_catalog *cat, const struct bb_field *f,
                     const char *name, const cJSON *v)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddItemToArray(fields, o)) {
        cJSON_Delete(o);
        return 0;
    }
    return cJSON_AddStringToObject(o, "name", name) &&
           put(o, "type", f ? cJSON_CreateString(bb_ftype_name(f->type)) : cJSON_CreateNull()) &&
           put(o, "label", f ? hq_display_label(&f->label, name) : hq_display_pair(name, name)) &&
           put(o, "text", hq_display_value(cat, f, v));
}

cJSON *hq_display_record(const bb_catalog *cat, const cJSON *rec)
{
    const char *kind = bb_json_str(rec, "kind");
    const struct bb_kind *k = kind ? bb_catalog_kind(cat, kind) : NULL;
    const char *why = bb_json_str(rec, "void_reason");
    const cJSON *data = bb_json_obj(rec, "data"), *v;
    cJSON *o = cJSON_CreateObject(), *fields;
    size_t i;

    if (!o ||
        !put(o, "kind", k ? hq_display_label(&k->label, kind) : hq_display_pair(kind, kind)) ||
        !put(o, "status", hq_display_status(bb_json_str(rec, "status"))) ||
        !put(o, "org_unit", hq_display_ref(cat, "units", bb_json_str(rec, "org_unit"))) ||
        !put(o, "occurred_at", hq_display_time(bb_json_str(rec, "occurred_at"))) ||
        !put(o, "recorded_at", hq_display_time(bb_json_str(rec, "recorded_at"))) ||
        !put(o, "void_reason", why ? cJSON_CreateString(why) : cJSON_CreateNull()) ||
        !(fields = cJSON_AddArrayToObject(o, "fields")))
        goto oom;
    if (!data)
        return o;
    for (i = 0; k && i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        if ((v = cJSON_GetObjectItemCaseSensitive(data, f->name)) != NULL &&
            !add_field(fields, cat, f, f->name, v))
            goto oom;
    }
    cJSON_ArrayForEach(v, data) {
        if (v->string && (!k || !bb_kind_field(k, v->string)) &&
            !add_field(fields, cat, NULL, v->string, v))
            goto oom;
    }
    return o;
oom:
    cJSON_Delete(o);
    return NULL;
}

const char *hq_display_pick(const cJSON *pair, enum bb_lang lang)
{
    const char *s = bb_json_str(pair, lang == BB_LANG_EN ? "en" : "zh-TW");
    return s ? s : "";
}

/* ---- a plan input's conditions in words ------------------------------------------ */

struct text {
    char s[HQ_DISPLAY_INPUT_MAX];
    size_t n;
};

static void add(struct text *t, const char *s)
{
    size_t k = strlen(s);

    if (t->n + k >= sizeof t->s)
        k = sizeof t->s - 1 - t->n;
    memcpy(t->s + t->n, s, k);
    t->n += k;
    t->s[t->n] = '\0';
}

/* What a plan list holds, for "one of the plan's 25 listed road segments". */
static void list_words(const char *list, enum bb_lang lang, const char **what)
{
    static const struct word w[] = {{"intersections", "路口", "intersections"},
                                    {"segments", "路段", "road segments"},
                                    {"bikepaths", "自行車道", "bike paths"},
                                    {"units", "單位", "org units"}, {NULL, NULL, NULL}};
    size_t i;

    for (i = 0; w[i].code; i++)
        if (strcmp(w[i].code, list) == 0) {
            *what = lang == BB_LANG_EN ? w[i].en : w[i].zh;
            return;
        }
    *what = list;
}

/* One condition value as a person reads it. */
static void value_words(struct text *t, const bb_catalog *cat, const struct bb_field *f,
                        const struct bb_plan_value *v, enum bb_lang lang)
{
    char num[40];
    cJSON *pair = NULL, *s;

    if (v->text) {
        s = cJSON_CreateString(v->text);
        pair = s ? hq_display_value(cat, f, s) : NULL;
        cJSON_Delete(s);
        add(t, pair && cJSON_IsObject(pair) ? hq_display_pick(pair, lang) : v->text);
        cJSON_Delete(pair);
    } else if (f->type == BB_F_BOOLEAN) {
        add(t, v->number != 0 ? (lang == BB_LANG_EN ? "yes" : "是")
                              : (lang == BB_LANG_EN ? "no" : "否"));
    } else {
        snprintf(num, sizeof num, "%g", v->number);
        add(t, num);
    }
}

static void cond_words(struct text *t, const bb_catalog *cat, const struct bb_plan_cond *c,
                       enum bb_lang lang)
{
    const char *field = bb_label(&c->field->label, lang, c->field->name), *what;
    int en = lang == BB_LANG_EN;
    char n[80];
    size_t j;

    switch (c->op) {
    case BB_PLAN_PRESENT:
        add(t, en ? field : "有填");
        add(t, en ? " given" : field);
        return;
    case BB_PLAN_ABSENT:
        add(t, en ? "no " : "未填");
        add(t, field);
        return;
    case BB_PLAN_IN_LIST:
        list_words(c->list->name, lang, &what);
        add(t, field);
        snprintf(n, sizeof n, en ? " is one of the plan's %zu listed " : "屬計畫列管的 %zu 個",
                 c->list->n);
        add(t, n);
        add(t, what);
        return;
    case BB_PLAN_EQ:
    case BB_PLAN_IN:
        add(t, field);
        add(t, en ? " is " : "為");
        for (j = 0; j < c->nvalues; j++) {
            if (j)
                add(t, j + 1 == c->nvalues ? (en ? " or " : "或") : (en ? ", " : "、"));
            value_words(t, cat, c->field, &c->values[j], lang);
        }
        return;
    }
}

static void input_words(struct text *t, const bb_catalog *cat, const struct bb_plan_input *in,
                        enum bb_lang lang)
{
    int en = lang == BB_LANG_EN;
    size_t i;

    add(t, bb_label(&in->kind->label, lang, in->kind->name));
    if (en && in->nconds)
        add(t, " where ");
    else if (!en)
        add(t, in->nconds ? "：" : "：全部");
    else
        add(t, ": all");
    for (i = 0; i < in->nconds; i++) {
        if (i)
            add(t, en ? (i + 1 == in->nconds ? " and " : ", ") : "；");
        cond_words(t, cat, &in->conds[i], lang);
    }
    add(t, en ? "; dated by " : "；依");
    add(t, in->time_field ? bb_label(&in->time_field->label, lang, in->time_field->name)
                          : (en ? "the time it occurred" : "發生時間"));
    if (!en)
        add(t, "計入期間");
    if (in->nsum) {
        add(t, en ? "; counting " : "；計算");
        for (i = 0; i < in->nsum; i++) {
            if (i)
                add(t, en ? " + " : "＋");
            add(t, bb_label(&in->sum[i]->label, lang, in->sum[i]->name));
        }
    }
    if (in->group_by) {
        add(t, en ? "; per " : "；依");
        add(t, bb_label(&in->group_by->label, lang, in->group_by->name));
        if (!en)
            add(t, "分別計算");
    }
}

cJSON *hq_display_input(const bb_catalog *cat, const struct bb_plan_input *in)
{
    struct text zh = {{0}, 0}, en = {{0}, 0};

    if (!in)
        return cJSON_CreateNull();
    input_words(&zh, cat, in, BB_LANG_ZH);
    input_words(&en, cat, in, BB_LANG_EN);
    return hq_display_pair(zh.s, en.s);
}

/* ---- what changed between two revisions ------------------------------------------ */

/* Whether two JSON values (either may be NULL) differ. */
static int differ(const cJSON *a, const cJSON *b)
{
    if (a && cJSON_IsNull(a))
        a = NULL;
    if (b && cJSON_IsNull(b))
        b = NULL;
    if (!a || !b)
        return a != b;
    return !cJSON_Compare(a, b, 1);
}

/* {"name", "label", "old", "new"} for one changed value; 0 when out of memory. */
static int add_change(cJSON *changes, const char *name, cJSON *label, cJSON *old, cJSON *new_)
{
    cJSON *o = cJSON_CreateObject();
    int ok;

    if (!o || !cJSON_AddItemToArray(changes, o)) {
        cJSON_Delete(o);
        cJSON_Delete(label);
        cJSON_Delete(old);
        cJSON_Delete(new_);
        return 0;
    }
    /* put frees what it cannot add: each item is added or freed, exactly once */
    ok = cJSON_AddStringToObject(o, "name", name) != NULL;
    ok &= put(o, "label", label);
    ok &= put(o, "old", old);
    ok &= put(o, "new", new_);
    return ok;
}

cJSON *hq_display_changes(const bb_catalog *cat, const cJSON *old, const cJSON *rec)
{
    static const struct word env[] = {{"status", "狀態", "Status"},
                                      {"occurred_at", "發生時間", "Occurred"},
                                      {"org_unit", "單位", "Org unit"},
                                      {"void_reason", "作廢原因", "Reason for voiding"},
                                      {NULL, NULL, NULL}};
    const char *kind = bb_json_str(rec, "kind");
    const struct bb_kind *k = kind ? bb_catalog_kind(cat, kind) : NULL;
    const cJSON *od = bb_json_obj(old, "data"), *nd = bb_json_obj(rec, "data"), *v;
    cJSON *changes = cJSON_CreateArray();
    size_t i;

    if (!changes || !old || !rec)
        return changes;
    for (i = 0; env[i].code; i++) {
        const char *n = env[i].code;
        const char *a = bb_json_str(old, n), *b = bb_json_str(rec, n);
        cJSON *(*show)(const char *) = strcmp(n, "status") == 0 ? hq_display_status
                                     : strcmp(n, "occurred_at") == 0 ? hq_display_time : NULL;
        if ((a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0))
            continue;
        if (!add_change(changes, n, hq_display_pair(env[i].zh, env[i].en),
                        show ? show(a) : strcmp(n, "org_unit") == 0
                                   ? hq_display_ref(cat, "units", a) : hq_display_pair(a, a),
                        show ? show(b) : strcmp(n, "org_unit") == 0
                                   ? hq_display_ref(cat, "units", b) : hq_display_pair(b, b)))
            goto oom;
    }
    for (i = 0; k && i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(od, f->name);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(nd, f->name);
        if (differ(a, b) &&
            !add_change(changes, f->name, hq_display_label(&f->label, f->name),
                        hq_display_value(cat, f, a), hq_display_value(cat, f, b)))
            goto oom;
    }
    /* Fields the kind does not define, in either revision. */
    cJSON_ArrayForEach(v, nd) {
        if (v->string && (!k || !bb_kind_field(k, v->string)) &&
            differ(cJSON_GetObjectItemCaseSensitive(od, v->string), v) &&
            !add_change(changes, v->string, hq_display_pair(v->string, v->string),
                        hq_display_value(cat, NULL,
                                         cJSON_GetObjectItemCaseSensitive(od, v->string)),
                        hq_display_value(cat, NULL, v)))
            goto oom;
    }
    cJSON_ArrayForEach(v, od) {
        if (v->string && (!k || !bb_kind_field(k, v->string)) &&
            !cJSON_GetObjectItemCaseSensitive(nd, v->string) &&
            !add_change(changes, v->string, hq_display_pair(v->string, v->string),
                        hq_display_value(cat, NULL, v), cJSON_CreateNull()))
            goto oom;
    }
    return changes;
oom:
    cJSON_Delete(changes);
    return NULL;
}
