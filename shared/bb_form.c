/*
 * bb_form.c — a kind's form: questions, pages, relevance, defaults, KPI
 * notes, display of values and the problems of a record (see bb_form.h).
 */
#include "bb_form.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_rules.h"
#include "bb_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bb_form {
    const struct bb_kind *kind;
    struct bb_question *q;
    size_t n;
    char **notes;            /* the KPI notes' text, owned: 2 per question */
};

static const char *const envelope_asked[] = {"occurred_at", "org_unit", "location"};

const struct bb_kind *bb_form_kind(const bb_form *form)
{
    return form->kind;
}

size_t bb_form_count(const bb_form *form)
{
    return form->n;
}

const struct bb_question *bb_form_at(const bb_form *form, size_t i)
{
    return i < form->n ? &form->q[i] : NULL;
}

const struct bb_question *bb_form_find(const bb_form *form, const char *name)
{
    size_t i;
    for (i = 0; i < form->n; i++)
        if (strcmp(form->q[i].field->name, name) == 0)
            return &form->q[i];
    return NULL;
}

/* Append "K3、K4 <title>" for each KPI of plan that reads input `in`. */
static void kpis_of(const bb_plan *plan, const struct bb_plan_input *in, enum bb_lang lang,
                    char *out, size_t n)
{
    size_t i, used = strlen(out), nk = 0;
    for (i = 0; i < bb_plan_kpi_count(plan); i++) {
        const struct bb_plan_kpi *kp = bb_plan_kpi_at(plan, i);
        int w;
        if (kp->input != in && kp->numerator != in && kp->denominator != in)
            continue;
        w = snprintf(out + used, n - used, "%s%s", nk++ ? (lang == BB_LANG_EN ? ", " : "、") : "",
                     kp->id);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
    if (nk == 0)
        return;
    snprintf(out + used, n - used, lang == BB_LANG_EN ? " (%s)" : " %s",
             bb_label(&in->title, lang, in->id));
}

/* Whether plan input `in` reads field f (a condition, a sum, the grouping). */
static int input_reads(const struct bb_plan_input *in, const struct bb_field *f)
{
    size_t i;
    for (i = 0; i < in->nconds; i++)
        if (in->conds[i].field == f)
            return 1;
    for (i = 0; i < in->nsum; i++)
        if (in->sum[i] == f)
            return 1;
    return in->group_by == f || in->time_field == f;
}

/*
 * The note for an optional field that the plan's KPIs read: left empty, the
 * record cannot count.  Both texts are allocated into form->notes.
 */
static bb_err kpi_note(bb_form *form, size_t qi, const bb_plan *plan)
{
    struct bb_question *q = &form->q[qi];
    char zh[600] = "", en[600] = "";
    size_t i;

    if (!plan || q->envelope || q->field->required)
        return BB_OK;
    for (i = 0; i < bb_plan_input_count(plan); i++) {
        const struct bb_plan_input *in = bb_plan_input_at(plan, i);
        if (in->kind != form->kind || !input_reads(in, q->field))
            continue;
        if (zh[0]) {
            strncat(zh, "；", sizeof zh - strlen(zh) - 1);
            strncat(en, "; ", sizeof en - strlen(en) - 1);
        }
        kpis_of(plan, in, BB_LANG_ZH, zh, sizeof zh);
        kpis_of(plan, in, BB_LANG_EN, en, sizeof en);
    }
    if (!zh[0])
        return BB_OK;
    form->notes[2 * qi] = malloc(strlen(zh) + 64);
    form->notes[2 * qi + 1] = malloc(strlen(en) + 64);
    if (!form->notes[2 * qi] || !form->notes[2 * qi + 1])
        return BB_ERR_NOMEM;
    sprintf(form->notes[2 * qi], "此欄位空白時，本筆不列入 %s", zh);
    sprintf(form->notes[2 * qi + 1], "If left empty, this record does not count in %s", en);
    q->kpi_note.zh = form->notes[2 * qi];
    q->kpi_note.en = form->notes[2 * qi + 1];
    return BB_OK;
}

static const struct bb_page *page_of(const struct bb_kind *k, const struct bb_field *f)
{
    size_t i;
    if (k->npages == 0)
        return NULL;
    for (i = 0; f->page && i < k->npages; i++)
        if (strcmp(k->pages[i].id, f->page) == 0)
            return &k->pages[i];
    /* Envelope questions and fields without a page: the last page. */
    return f->page ? &k->pages[0] : &k->pages[k->npages - 1];
}

bb_err bb_form_new(const bb_catalog *cat, const struct bb_kind *k, const bb_plan *plan,
                   bb_form **out, bb_errbuf *eb)
{
    bb_form *form;
    size_t i, n = 0, cap = k->nfields + sizeof envelope_asked / sizeof envelope_asked[0];
    bb_err err;

    (void)cat;
    *out = NULL;
    if (!(form = calloc(1, sizeof *form)) || !(form->q = calloc(cap, sizeof *form->q)) ||
        !(form->notes = calloc(2 * cap, sizeof *form->notes))) {
        bb_form_free(form);
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    form->kind = k;
    for (i = 0; i < k->nfields; i++) {
        form->q[n].field = &k->fields[i];
        form->q[n].page = page_of(k, &k->fields[i]);
        n++;
    }
    for (i = 0; i < sizeof envelope_asked / sizeof envelope_asked[0]; i++) {
        /* A kind dated by its own field (a patrol's start) is not asked when. */
        if (strcmp(envelope_asked[i], "occurred_at") == 0 && k->occurred_at_from)
            continue;
        form->q[n].field = bb_record_envelope_field(envelope_asked[i]);
        form->q[n].envelope = 1;
        form->q[n].page = page_of(k, form->q[n].field);
        n++;
    }
    form->n = n;
    for (i = 0; i < n; i++)
        if ((err = kpi_note(form, i, plan)) != BB_OK) {
            bb_form_free(form);
            return bb_fail(eb, err, "out of memory");
        }
    *out = form;
    return BB_OK;
}

void bb_form_free(bb_form *form)
{
    size_t i;
    if (!form)
        return;
    for (i = 0; form->notes && i < 2 * form->n; i++)
        free(form->notes[i]);
    free(form->notes);
    free(form->q);
    free(form);
}

const cJSON *bb_form_answer(const struct bb_question *q, const cJSON *rec)
{
    const cJSON *v = q->envelope ? cJSON_GetObjectItemCaseSensitive(rec, q->field->name)
                                 : cJSON_GetObjectItemCaseSensitive(bb_json_obj(rec, "data"),
                                                                    q->field->name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static int value_is(const cJSON *v, const char *const *values, size_t n)
{
    const char *s = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "true" : "false")
                    : cJSON_IsString(v) ? v->valuestring : NULL;
    size_t i;
    for (i = 0; s && i < n; i++)
        if (strcmp(s, values[i]) == 0)
            return 1;
    return 0;
}

int bb_form_relevant(const struct bb_question *q, const cJSON *rec)
{
    const struct bb_field *f = q->field;
    if (f->ask_never)
        return 0;
    if (!f->relevant_if_field)
        return 1;
    return value_is(cJSON_GetObjectItemCaseSensitive(bb_json_obj(rec, "data"),
                                                     f->relevant_if_field),
                    f->relevant_if_values, f->relevant_if_count);
}

int bb_form_required(const struct bb_question *q, const cJSON *rec)
{
    if (q->envelope)
        return q->field->required;
    return bb_record_field_required(NULL, q->field, bb_json_obj(rec, "data"));
}

void bb_form_prune(const bb_form *form, cJSON *rec)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    size_t i;
    for (i = 0; i < form->n; i++) {
        const struct bb_question *q = &form->q[i];
        /* Never-asked fields are the program's, not the form's, to clear. */
        if (!q->envelope && !q->field->ask_never && !bb_form_relevant(q, rec))
            cJSON_DeleteItemFromObjectCaseSensitive(data, q->field->name);
    }
}

/* A stored value back as text a person would type (and bb_record_coerce reads). */
static void as_typed(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsString(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        snprintf(out, n, "%.15g", v->valuedouble);
    else if (cJSON_IsObject(v) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "lat")))
        snprintf(out, n, "%.7g,%.7g", cJSON_GetObjectItemCaseSensitive(v, "lat")->valuedouble,
                 cJSON_GetObjectItemCaseSensitive(v, "lon")->valuedouble);
    else
        out[0] = '\0';
}

/* "2018-03-15 14:20" in Taipei time: the form people type and read. */
static void local_time(int64_t t, char *out, size_t n)
{
    int y, mo, d;
    int64_t local = t + BB_TAIPEI_OFFSET_MIN * 60, sec = ((local % 86400) + 86400) % 86400;
    if (bb_taipei_date(t, &y, &mo, &d) != BB_OK) {
        out[0] = '\0';
        return;
    }
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d", y, mo, d, (int)(sec / 3600),
             (int)(sec % 3600 / 60));
}

void bb_form_default(const struct bb_question *q, const char *unit, const cJSON *last,
                     int64_t now, char *out, size_t n)
{
    const cJSON *v;

    out[0] = '\0';
    switch (q->field->default_kind) {
    case BB_DEFAULT_NONE:
        return;
    case BB_DEFAULT_NOW:
        local_time(now, out, n);
        return;
    case BB_DEFAULT_UNIT:
        snprintf(out, n, "%s", unit ? unit : "");
        return;
    case BB_DEFAULT_LAST:
        v = cJSON_GetObjectItemCaseSensitive(last, q->field->name);
        if (v && !cJSON_IsNull(v))
            as_typed(v, out, n);
        return;
    case BB_DEFAULT_VALUE:
        snprintf(out, n, "%s", q->field->default_value ? q->field->default_value : "");
        return;
    }
}

/*
 * "3 張照片：IMG_0412.JPG、IMG_0413.JPG、…" / "3 photos: IMG_0412.JPG, ...":
 * photos when every file is an image, else files; a file without a name
 * by the start of its hash.
 */
static void attachments_display(const cJSON *v, enum bb_lang lang, char *out, size_t n)
{
    const cJSON *it;
    int count = cJSON_GetArraySize(v), images = 1, w;
    size_t used;

    cJSON_ArrayForEach(it, v) {
        const char *type = bb_json_str(it, "type");
        if (!type || strncmp(type, "image/", 6) != 0)
            images = 0;
    }
    if (lang == BB_LANG_EN)
        w = snprintf(out, n, "%d %s%s:", count, images ? "photo" : "file", count == 1 ? "" : "s");
    else
        w = snprintf(out, n, "%d %s：", count, images ? "張照片" : "個檔案");
    used = w < 0 ? 0 : (size_t)w >= n ? n - 1 : (size_t)w;
    cJSON_ArrayForEach(it, v) {
        const char *name = bb_json_str(it, "name"), *sha = bb_json_str(it, "sha256");
        char shown[40];
        if (!name) {
            snprintf(shown, sizeof shown, "%.12s…", sha ? sha : "?");
            name = shown;
        }
        w = snprintf(out + used, n - used, "%s%s",
                     it == v->child ? (lang == BB_LANG_EN ? " " : "")
                                    : (lang == BB_LANG_EN ? ", " : "、"), name);
        if (w < 0 || (size_t)w >= n - used) {
            /* Too long: cut on a character boundary and end with "…" (3 bytes). */
            size_t cut = n > 4 ? n - 4 : 0;
            while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
                cut--;
            if (n > 4)
                memcpy(out + cut, "…", sizeof "…");
            return;
        }
        used += (size_t)w;
    }
}

void bb_form_display(const bb_catalog *cat, const struct bb_field *f, const cJSON *v,
                     enum bb_lang lang, char *out, size_t n)
{
    out[0] = '\0';
    if (!v || cJSON_IsNull(v))
        return;
    switch (f->type) {
    case BB_F_ENUM: {
        const struct bb_enum_value *ev =
            cJSON_IsString(v) ? bb_field_enum(f, v->valuestring) : NULL;
        if (ev) {
            snprintf(out, n, "%s", bb_label(&ev->label, lang, ev->code));
            return;
        }
        break;
    }
    case BB_F_REF: {
        const struct bb_ref_item *it =
            cJSON_IsString(v) ? bb_catalog_ref(cat, f->ref, v->valuestring) : NULL;
        if (it) {
            snprintf(out, n, lang == BB_LANG_EN ? "%s (%s)" : "%s（%s）",
                     bb_label(&it->label, lang, it->code), it->code);
            return;
        }
        break;
    }
    case BB_F_BOOLEAN:
        if (cJSON_IsBool(v)) {
            snprintf(out, n, "%s", cJSON_IsTrue(v) ? (lang == BB_LANG_EN ? "yes" : "是")
                                                   : (lang == BB_LANG_EN ? "no" : "否"));
            return;
        }
        break;
    case BB_F_DATETIME: {
        int64_t t;
        int off;
        if (cJSON_IsString(v) && bb_time_parse(v->valuestring, &t, &off, NULL) == BB_OK) {
            char roc[BB_ROC_DATE_MAX], hm[32];
            local_time(t, hm, sizeof hm);
            if (lang == BB_LANG_ZH && bb_roc_format_date(t, roc) == BB_OK)
                snprintf(out, n, "%s %s", roc, hm + 11);
            else
                snprintf(out, n, "%s", hm);
            return;
        }
        break;
    }
    case BB_F_GEO: {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(v, "lat");
        const cJSON *lon = cJSON_GetObjectItemCaseSensitive(v, "lon");
        if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
            snprintf(out, n, "%.6f, %.6f", lat->valuedouble, lon->valuedouble);
            return;
        }
        break;
    }
    case BB_F_ATTACHMENT:
        if (cJSON_IsArray(v)) {
            attachments_display(v, lang, out, n);
            return;
        }
        break;
    case BB_F_TEXT:
    case BB_F_INTEGER:
    case BB_F_NUMBER:
        break;
    }
    as_typed(v, out, n);
}

/* ---- JSON for the browser ---- */

cJSON *bb_label_json(const struct bb_label *l)
{
    cJSON *o = cJSON_CreateObject();
    if (o && l->zh)
        cJSON_AddStringToObject(o, "zh-TW", l->zh);
    if (o && l->en)
        cJSON_AddStringToObject(o, "en", l->en);
    return o;
}

static cJSON *if_json(const char *field, const char *const *values, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *in = cJSON_CreateArray();
    size_t i;
    if (!o || !in) {
        cJSON_Delete(o);
        cJSON_Delete(in);
        return NULL;
    }
    cJSON_AddStringToObject(o, "field", field);
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(values[i]));
    cJSON_AddItemToObject(o, "in", in);
    return o;
}

static cJSON *question_json(const struct bb_question *q, const bb_catalog *cat)
{
    static const char *const defaults[] = {NULL, "now", "unit", "last", "value"};
    const struct bb_field *f = q->field;
    cJSON *o = cJSON_CreateObject();
    size_t i;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "name", f->name);
    cJSON_AddStringToObject(o, "type", bb_ftype_name(f->type));
    cJSON_AddBoolToObject(o, "envelope", q->envelope);
    cJSON_AddItemToObject(o, "label", bb_label_json(&f->label));
    if (f->help.zh || f->help.en)
        cJSON_AddItemToObject(o, "help", bb_label_json(&f->help));
    if (q->page)
        cJSON_AddStringToObject(o, "page", q->page->id);
    cJSON_AddBoolToObject(o, "required", f->required);
    if (f->required_if_field)
        cJSON_AddItemToObject(o, "required_if", if_json(f->required_if_field,
                                                        f->required_if_values,
                                                        f->required_if_count));
    if (f->relevant_if_field)
        cJSON_AddItemToObject(o, "relevant_if", if_json(f->relevant_if_field,
                                                        f->relevant_if_values,
                                                        f->relevant_if_count));
    if (f->ask_never)
        cJSON_AddStringToObject(o, "ask", "never");
    if (f->default_kind != BB_DEFAULT_NONE)
        cJSON_AddStringToObject(o, "default", defaults[f->default_kind]);
    if (f->default_value)
        cJSON_AddStringToObject(o, "default_value", f->default_value);
    if (f->has_min)
        cJSON_AddNumberToObject(o, "min", f->min);
    if (f->has_max)
        cJSON_AddNumberToObject(o, "max", f->max);
    if (f->type == BB_F_TEXT)
        cJSON_AddNumberToObject(o, "max_length", (double)f->max_length);
    if (f->type == BB_F_ATTACHMENT) {
        cJSON *media = cJSON_AddArrayToObject(o, "media");
        for (i = 0; media && i < f->nmedia; i++)
            cJSON_AddItemToArray(media, cJSON_CreateString(f->media[i]));
        cJSON_AddNumberToObject(o, "max_count", (double)f->max_count);
        cJSON_AddNumberToObject(o, "max_bytes", (double)f->max_bytes);
    }
    if (f->type == BB_F_ENUM) {
        cJSON *vals = cJSON_AddArrayToObject(o, "values");
        for (i = 0; vals && i < f->nvalues; i++) {
            cJSON *v = cJSON_CreateObject();
            if (!v)
                break;
            cJSON_AddStringToObject(v, "code", f->values[i].code);
            cJSON_AddItemToObject(v, "label", bb_label_json(&f->values[i].label));
            cJSON_AddItemToArray(vals, v);
        }
    }
    if (f->type == BB_F_REF) {
        cJSON *opts = cJSON_AddArrayToObject(o, "options");
        size_t j, n = bb_catalog_ref_count(cat, f->ref);
        cJSON_AddStringToObject(o, "ref", f->ref);
        for (i = 0; opts && i < n; i++) {
            const struct bb_ref_item *it = bb_catalog_ref_at(cat, f->ref, i);
            cJSON *v = cJSON_CreateObject(), *al;
            if (!v)
                break;
            cJSON_AddStringToObject(v, "code", it->code);
            cJSON_AddItemToObject(v, "label", bb_label_json(&it->label));
            if (it->parent)
                cJSON_AddStringToObject(v, "parent", it->parent);
            if (it->level)
                cJSON_AddStringToObject(v, "level", it->level);
            if (it->naliases && (al = cJSON_AddArrayToObject(v, "aliases")) != NULL)
                for (j = 0; j < it->naliases; j++)
                    cJSON_AddItemToArray(al, cJSON_CreateString(it->aliases[j]));
            cJSON_AddItemToArray(opts, v);
        }
    }
    if (q->kpi_note.zh)
        cJSON_AddItemToObject(o, "kpi_note", bb_label_json(&q->kpi_note));
    return o;
}

cJSON *bb_form_json(const bb_form *form, const bb_catalog *cat)
{
    const struct bb_kind *k = form->kind;
    cJSON *o = cJSON_CreateObject(), *arr;
    size_t i;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", k->name);
    cJSON_AddNumberToObject(o, "version", k->version);
    cJSON_AddItemToObject(o, "label", bb_label_json(&k->label));
    cJSON_AddItemToObject(o, "description", bb_label_json(&k->description));
    if (k->occurred_at_from)
        cJSON_AddStringToObject(o, "occurred_at_from", k->occurred_at_from);
    else
        cJSON_AddNullToObject(o, "occurred_at_from");
    arr = cJSON_AddArrayToObject(o, "pages");
    for (i = 0; arr && i < k->npages; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p)
            break;
        cJSON_AddStringToObject(p, "id", k->pages[i].id);
        cJSON_AddItemToObject(p, "title", bb_label_json(&k->pages[i].title));
        cJSON_AddItemToArray(arr, p);
    }
    arr = cJSON_AddArrayToObject(o, "questions");
    for (i = 0; arr && i < form->n; i++)
        cJSON_AddItemToArray(arr, question_json(&form->q[i], cat));
    arr = cJSON_AddArrayToObject(o, "rules");
    for (i = 0; arr && i < k->nrules; i++) {
        cJSON *r = cJSON_CreateObject();
        if (!r)
            break;
        cJSON_AddStringToObject(r, "id", k->rules[i].id);
        cJSON_AddNumberToObject(r, "since", k->rules[i].since);
        cJSON_AddItemToObject(r, "message", bb_label_json(&k->rules[i].message));
        cJSON_AddItemToArray(arr, r);
    }
    /* One check at the end instead of one per call: any failed add leaves a hole. */
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "questions")) != (int)form->n) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- problems ---- */

const char *bb_form_hint(const char *message)
{
    const char *p, *end;

    /* zh-TW: KIND：欄位「NAME」（LABEL）：HINT — the label may hold its own （）. */
    if ((p = strstr(message, "：欄位「")) != NULL && (p = strstr(p, "」（")) != NULL &&
        (end = strstr(p, "）：")) != NULL)
        return end + strlen("）：");
    /* en: KIND: field "NAME" (LABEL): HINT */
    if ((p = strstr(message, ": field \"")) != NULL && (p = strstr(p, "\" (")) != NULL &&
        (end = strstr(p, "): ")) != NULL)
        return end + 3;
    return message;
}

static bb_err add_problem(cJSON *arr, const char *field, const char *msg)
{
    cJSON *p = cJSON_CreateObject();
    size_t i;
    /* One problem per field: the first is the one to fix first. */
    for (i = 0; field[0] && i < (size_t)cJSON_GetArraySize(arr); i++)
        if (strcmp(bb_json_str(cJSON_GetArrayItem(arr, (int)i), "field"), field) == 0) {
            cJSON_Delete(p);
            return BB_OK;
        }
    if (!p || !cJSON_AddStringToObject(p, "field", field) ||
        !cJSON_AddStringToObject(p, "message", msg) ||
        !cJSON_AddStringToObject(p, "hint", bb_form_hint(msg))) {
        cJSON_Delete(p);
        return BB_ERR_NOMEM;
    }
    cJSON_AddItemToArray(arr, p);
    return BB_OK;
}

bb_err bb_form_problems(const bb_form *form, const bb_catalog *cat, const cJSON *rec,
                        enum bb_lang lang, cJSON **out)
{
    const struct bb_kind *k = form->kind;
    const cJSON *data = bb_json_obj(rec, "data");
    cJSON *arr = cJSON_CreateArray();
    bb_errbuf eb;
    size_t i;
    bb_err err = BB_OK;

    *out = NULL;
    if (!arr)
        return BB_ERR_NOMEM;
    /* Each field alone: type, range, list, required. */
    for (i = 0; i < k->nfields && err == BB_OK; i++) {
        const struct bb_field *f = &k->fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, f->name);
        memset(&eb, 0, sizeof eb);
        if (v && !cJSON_IsNull(v)) {
            if (bb_record_check_field(cat, k, f, v, lang, &eb) != BB_OK)
                err = add_problem(arr, f->name, eb.msg);
        } else if (bb_record_field_required(k, f, data)) {
            const char *label = bb_label(&f->label, lang, f->name);
            char msg[400];
            if (f->required)
                snprintf(msg, sizeof msg, lang == BB_LANG_EN
                             ? "%s: field \"%s\" (%s): a value is required"
                             : "%s：欄位「%s」（%s）：此欄位必填", k->name, f->name, label);
            else {
                const struct bb_field *t = bb_kind_field(k, f->required_if_field);
                char shown[200];
                bb_form_display(cat, t, cJSON_GetObjectItemCaseSensitive(data, t->name), lang,
                                shown, sizeof shown);
                snprintf(msg, sizeof msg, lang == BB_LANG_EN
                             ? "%s: field \"%s\" (%s): a value is required when %s is %s"
                             : "%s：欄位「%s」（%s）：%s為「%s」時此欄位必填",
                         k->name, f->name, label, bb_label(&t->label, lang, t->name), shown);
            }
            err = add_problem(arr, f->name, msg);
        }
    }
    /* Rules across fields, each blamed on the field it names. */
    for (i = 0; i < k->nrules && err == BB_OK; i++) {
        const char *blamed = NULL;
        memset(&eb, 0, sizeof eb);
        if (bb_rule_check(k, &k->rules[i], rec, lang, &blamed, &eb) != BB_OK)
            err = add_problem(arr, blamed ? blamed : "", eb.msg);
    }
    /* Whatever else the full check finds (the envelope, a finished patrol's end). */
    if (err == BB_OK && cJSON_GetArraySize(arr) == 0) {
        memset(&eb, 0, sizeof eb);
        if (bb_record_validate(cat, rec, lang, &eb) != BB_OK) {
            const char *field = "";
            for (i = 0; i < form->n; i++) {
                char needle[80];
                snprintf(needle, sizeof needle, lang == BB_LANG_EN ? "\"%s\"" : "「%s」",
                         form->q[i].field->name);
                if (strstr(eb.msg, needle)) {
                    field = form->q[i].field->name;
                    break;
                }
            }
            err = add_problem(arr, field, eb.msg);
        }
    }
    if (err != BB_OK) {
        cJSON_Delete(arr);
        return err;
    }
    *out = arr;
    return BB_OK;
}
