/*
 * bb_catalog.c — loading and checking record kinds and reference lists
 * (see bb_catalog.h).  Strings in the public structs point into the parsed
 * cJSON trees, which the catalog keeps alive; arrays of structs are ours.
 */
#include "bb_catalog.h"
#include "bb_attach.h"
#include "bb_embed.h"
#include "bb_json.h"
#include "bb_rules.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kind_entry {
    struct bb_kind kind;
    cJSON *root;
    struct bb_field *fields;
};

struct list_entry {
    const char *name;
    cJSON *root;
    struct bb_ref_item *items;
    size_t n;
};

static const char *const list_names[] = {"units", "intersections", "segments", "bikepaths"};
#define NLISTS (sizeof list_names / sizeof list_names[0])

struct bb_catalog {
    struct kind_entry *kinds;   /* sorted by name */
    size_t nkinds;
    struct list_entry lists[NLISTS];
};

const char *bb_label(const struct bb_label *l, enum bb_lang lang, const char *fallback)
{
    const char *a = lang == BB_LANG_EN ? l->en : l->zh;
    const char *b = lang == BB_LANG_EN ? l->zh : l->en;
    return a ? a : b ? b : fallback;
}

bb_err bb_lang_parse(const char *s, enum bb_lang *out)
{
    if (strcmp(s, "zh-TW") == 0 || strcmp(s, "zh") == 0 || strcmp(s, "zh_TW") == 0) {
        *out = BB_LANG_ZH;
        return BB_OK;
    }
    if (strcmp(s, "en") == 0) {
        *out = BB_LANG_EN;
        return BB_OK;
    }
    return BB_ERR_USAGE;
}

enum bb_lang bb_lang_from_locale(const char *locale)
{
    if (locale && (strncmp(locale, "en", 2) == 0 || strcmp(locale, "C") == 0 ||
                   strcmp(locale, "C.UTF-8") == 0 || strcmp(locale, "POSIX") == 0))
        return BB_LANG_EN;
    return BB_LANG_ZH;
}

const char *bb_ftype_name(enum bb_ftype t)
{
    switch (t) {
    case BB_F_TEXT: return "text";
    case BB_F_INTEGER: return "integer";
    case BB_F_NUMBER: return "number";
    case BB_F_BOOLEAN: return "boolean";
    case BB_F_ENUM: return "enum";
    case BB_F_DATETIME: return "datetime";
    case BB_F_REF: return "ref";
    case BB_F_GEO: return "geo";
    case BB_F_ATTACHMENT: return "attachment";
    }
    return "?";
}

static bool parse_ftype(const char *s, enum bb_ftype *t)
{
    static const enum bb_ftype all[] = {BB_F_TEXT, BB_F_INTEGER, BB_F_NUMBER, BB_F_BOOLEAN,
                                        BB_F_ENUM, BB_F_DATETIME, BB_F_REF, BB_F_GEO,
                                        BB_F_ATTACHMENT};
    size_t i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, bb_ftype_name(all[i])) == 0) {
            *t = all[i];
            return true;
        }
    return false;
}

static bool valid_name(const char *s)
{
    size_t n = 0;
    if (!s || !islower((unsigned char)s[0]))
        return false;
    for (; *s; s++, n++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return n <= 64;
}

static void read_label(const cJSON *obj, const char *key, struct bb_label *out)
{
    const cJSON *l = bb_json_obj(obj, key);
    out->zh = l ? bb_json_str(l, "zh-TW") : NULL;
    out->en = l ? bb_json_str(l, "en") : NULL;
}

static void free_kind(struct kind_entry *k)
{
    size_t i;
    if (!k->fields)
        goto out;
    for (i = 0; i < k->kind.nfields; i++) {
        free((void *)k->fields[i].values);
        free((void *)k->fields[i].required_if_values);
        free((void *)k->fields[i].relevant_if_values);
        free((void *)k->fields[i].media);
    }
    free(k->fields);
    bb_rules_free((struct bb_rule *)k->kind.rules, k->kind.nrules);
    free((void *)k->kind.pages);
out:
    cJSON_Delete(k->root);
}

static bool is_list_name(const char *s)
{
    size_t i;
    for (i = 0; i < NLISTS; i++)
        if (strcmp(s, list_names[i]) == 0)
            return true;
    return false;
}

/* {"field": NAME, "in": [...]} of required_if / relevant_if. */
static bb_err parse_if(const cJSON *it, const char *key, const struct bb_field *f,
                       const char **field, const char ***values, size_t *count,
                       const char *origin, bb_errbuf *eb)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(it, "in"), *v;
    size_t n = (size_t)cJSON_GetArraySize(in), i = 0;
    const char **vals;

    *field = bb_json_str(it, "field");
    if (!*field || !cJSON_IsArray(in) || n == 0)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"%s\" needs {\"field\": NAME, \"in\": [...]}",
                       origin, f->name, key);
    vals = calloc(n, sizeof *vals);
    if (!vals)
        return BB_ERR_NOMEM;
    *values = vals;
    *count = n;
    cJSON_ArrayForEach(v, in) {
        if (cJSON_IsString(v))
            vals[i] = v->valuestring;
        else if (cJSON_IsBool(v))
            vals[i] = cJSON_IsTrue(v) ? "true" : "false";
        else
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"%s\" values must be strings or booleans",
                           origin, f->name, key);
        i++;
    }
    return BB_OK;
}

/* "ask", "default", "page": how the form asks the field (bb_form.h). */
static bb_err parse_asking(const cJSON *jf, struct bb_field *f, const char *origin,
                           bb_errbuf *eb)
{
    const cJSON *it;
    const char *s;

    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "ask")) != NULL) {
        s = cJSON_IsString(it) ? it->valuestring : "";
        if (strcmp(s, "never") == 0)
            f->ask_never = true;
        else if (strcmp(s, "always") != 0)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"ask\" must be \"always\" or \"never\"",
                           origin, f->name);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "default")) != NULL) {
        s = cJSON_IsString(it) ? it->valuestring : NULL;
        if (!s || !*s)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"default\" must be \"now\", \"unit\", "
                           "\"last\" or {\"value\": TEXT}", origin, f->name);
        if (strcmp(s, "now") == 0 && f->type == BB_F_DATETIME)
            f->default_kind = BB_DEFAULT_NOW;
        else if (strcmp(s, "unit") == 0 && f->type == BB_F_REF && strcmp(f->ref, "units") == 0)
            f->default_kind = BB_DEFAULT_UNIT;
        else if (strcmp(s, "last") == 0 && f->type != BB_F_ATTACHMENT)
            /* Not for files: the last record's photos are not this one's. */
            f->default_kind = BB_DEFAULT_LAST;
        else
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"default\": \"%s\" does not fit a %s field "
                           "(now: datetime; unit: a ref to units; last: any but attachment)", origin, f->name,
                           s, bb_ftype_name(f->type));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "default_value")) != NULL) {
        if (!cJSON_IsString(it) || f->default_kind != BB_DEFAULT_NONE ||
            f->type == BB_F_ATTACHMENT)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"default_value\" is text, and only without "
                           "\"default\" (and never on an attachment field)", origin, f->name);
        f->default_kind = BB_DEFAULT_VALUE;
        f->default_value = it->valuestring;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "page")) != NULL) {
        if (!cJSON_IsString(it) || !valid_name(it->valuestring))
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"page\" must name a page of the kind",
                           origin, f->name);
        f->page = it->valuestring;
    }
    return BB_OK;
}

/*
 * "media", "max_count", "max_bytes": what an attachment field takes.  All
 * three are required on an attachment field (a kind says what it accepts;
 * no size is assumed) and refused on any other.
 */
static bb_err parse_attachment(const cJSON *jf, struct bb_field *f, const char *origin,
                               bb_errbuf *eb)
{
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(jf, "media");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(jf, "max_count");
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(jf, "max_bytes");
    const cJSON *m;
    size_t n = (size_t)cJSON_GetArraySize(media), i = 0, j;

    if (f->type != BB_F_ATTACHMENT) {
        if (media || count || bytes)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"media\", \"max_count\" and \"max_bytes\" "
                           "apply only to attachment fields", origin, f->name);
        return BB_OK;
    }
    if (!cJSON_IsArray(media) || n == 0 || n > 10)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": an attachment field needs \"media\": a list of the "
                       "types it takes (image/jpeg, image/png, image/heic, image/heif, "
                       "application/pdf)", origin, f->name);
    if (!(f->media = calloc(n, sizeof *f->media)))
        return BB_ERR_NOMEM;
    f->nmedia = n;
    cJSON_ArrayForEach(m, media) {
        if (!cJSON_IsString(m) || !bb_media_known(m->valuestring))
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": media[%zu] is not a type beatbook can tell from "
                           "a file's bytes (image/jpeg, image/png, image/heic, image/heif, "
                           "application/pdf)", origin, f->name, i);
        for (j = 0; j < i; j++)
            if (strcmp(f->media[j], m->valuestring) == 0)
                return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": media \"%s\" is listed "
                               "twice", origin, f->name, m->valuestring);
        f->media[i++] = m->valuestring;
    }
    if (!cJSON_IsNumber(count) || count->valuedouble != floor(count->valuedouble) ||
        count->valuedouble < 1 || count->valuedouble > BB_ATTACH_MAX_COUNT)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"max_count\" must be a whole number 1..%d",
                       origin, f->name, BB_ATTACH_MAX_COUNT);
    if (!cJSON_IsNumber(bytes) || bytes->valuedouble != floor(bytes->valuedouble) ||
        bytes->valuedouble < 1 || bytes->valuedouble > (double)BB_ATTACH_MAX_SIZE)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"max_bytes\" must be a whole number 1..%lld "
                       "(256 MiB)", origin, f->name, (long long)BB_ATTACH_MAX_SIZE);
    f->max_count = (long)count->valuedouble;
    f->max_bytes = (long long)bytes->valuedouble;
    return BB_OK;
}

static bb_err parse_field(const cJSON *jf, struct bb_field *f, const char *origin, size_t idx,
                          bb_errbuf *eb)
{
    const char *type = bb_json_str(jf, "type");
    const cJSON *it;
    bb_err err;

    memset(f, 0, sizeof *f);
    f->name = bb_json_str(jf, "name");
    if (!cJSON_IsObject(jf) || !valid_name(f->name))
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: fields[%zu]: \"name\" must be a snake_case ASCII name", origin, idx);
    if (!type || !parse_ftype(type, &f->type))
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"type\" must be one of text, integer, number, "
                       "boolean, enum, datetime, ref, geo, attachment", origin, f->name);
    read_label(jf, "label", &f->label);
    read_label(jf, "help", &f->help);
    if (!f->label.zh && !f->label.en)
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": a \"label\" is required",
                       origin, f->name);
    it = cJSON_GetObjectItemCaseSensitive(jf, "required");
    if (it && !cJSON_IsBool(it))
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"required\" must be true or false",
                       origin, f->name);
    f->required = cJSON_IsTrue(it);
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "min")) != NULL) {
        if (!cJSON_IsNumber(it))
            return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"min\" must be a number",
                           origin, f->name);
        f->has_min = true;
        f->min = it->valuedouble;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "max")) != NULL) {
        if (!cJSON_IsNumber(it))
            return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"max\" must be a number",
                           origin, f->name);
        f->has_max = true;
        f->max = it->valuedouble;
    }
    if (f->has_min && f->has_max && f->min > f->max)
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\": \"min\" is larger than \"max\"",
                       origin, f->name);
    if ((f->has_min || f->has_max) && f->type != BB_F_INTEGER && f->type != BB_F_NUMBER)
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"min\"/\"max\" apply only to integer and number fields",
                       origin, f->name);
    f->max_length = BB_TEXT_MAX_DEFAULT;
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "max_length")) != NULL) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 100000 ||
            f->type != BB_F_TEXT)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"max_length\" must be 1..100000 on a text field",
                           origin, f->name);
        f->max_length = (long)it->valuedouble;
    }
    if (f->type == BB_F_ENUM) {
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(jf, "values"), *v;
        struct bb_enum_value *ev;
        size_t n = (size_t)cJSON_GetArraySize(vals), i = 0, j;
        if (!cJSON_IsArray(vals) || n == 0)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": an enum needs a non-empty \"values\" array",
                           origin, f->name);
        ev = calloc(n, sizeof *ev);
        if (!ev)
            return BB_ERR_NOMEM;
        f->values = ev;
        f->nvalues = n;
        cJSON_ArrayForEach(v, vals) {
            ev[i].code = bb_json_str(v, "code");
            read_label(v, "label", &ev[i].label);
            if (!valid_name(ev[i].code) && !(ev[i].code && isdigit((unsigned char)ev[i].code[0])))
                return bb_fail(eb, BB_ERR_INVALID,
                               "%s: field \"%s\": values[%zu] needs a \"code\" (snake_case)",
                               origin, f->name, i);
            for (j = 0; j < i; j++)
                if (strcmp(ev[j].code, ev[i].code) == 0)
                    return bb_fail(eb, BB_ERR_INVALID,
                                   "%s: field \"%s\": value \"%s\" is listed twice",
                                   origin, f->name, ev[i].code);
            i++;
        }
    }
    if (f->type == BB_F_REF) {
        f->ref = bb_json_str(jf, "ref");
        if (!f->ref || !is_list_name(f->ref))
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"ref\" must name a reference list (%s)",
                           origin, f->name, BB_REF_LISTS);
    }
    if ((err = parse_attachment(jf, f, origin, eb)) != BB_OK)
        return err;
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "required_if")) != NULL &&
        (err = parse_if(it, "required_if", f, &f->required_if_field, &f->required_if_values,
                        &f->required_if_count, origin, eb)) != BB_OK)
        return err;
    if ((it = cJSON_GetObjectItemCaseSensitive(jf, "relevant_if")) != NULL &&
        (err = parse_if(it, "relevant_if", f, &f->relevant_if_field, &f->relevant_if_values,
                        &f->relevant_if_count, origin, eb)) != BB_OK)
        return err;
    if ((err = parse_asking(jf, f, origin, eb)) != BB_OK)
        return err;
    return BB_OK;
}

/* Checks that need all fields: unique names, required_if targets. */
/* The target of required_if / relevant_if: an enum or boolean field, values of it. */
static bb_err check_if(const struct bb_kind *k, const struct bb_field *f, const char *key,
                       const char *field, const char *const *values, size_t count,
                       const char *origin, bb_errbuf *eb)
{
    const struct bb_field *t = bb_kind_field(k, field);
    size_t v;

    if (!t || t == f || (t->type != BB_F_ENUM && t->type != BB_F_BOOLEAN))
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: field \"%s\": \"%s\" must name another enum or boolean field of "
                       "this kind, not \"%s\"", origin, f->name, key, field);
    for (v = 0; v < count; v++) {
        bool ok = t->type == BB_F_BOOLEAN
                      ? (strcmp(values[v], "true") == 0 || strcmp(values[v], "false") == 0)
                      : bb_field_enum(t, values[v]) != NULL;
        if (!ok)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": \"%s\" value \"%s\" is not a value of \"%s\"",
                           origin, f->name, key, values[v], t->name);
    }
    return BB_OK;
}

/* Checks that need all fields: unique names, required_if/relevant_if targets, pages. */
static bb_err check_kind(const struct bb_kind *k, const char *origin, bb_errbuf *eb)
{
    size_t i, j;
    bb_err err;

    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        for (j = 0; j < i; j++)
            if (strcmp(k->fields[j].name, f->name) == 0)
                return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\" is defined twice",
                               origin, f->name);
        if (f->required_if_field &&
            (err = check_if(k, f, "required_if", f->required_if_field, f->required_if_values,
                            f->required_if_count, origin, eb)) != BB_OK)
            return err;
        if (f->relevant_if_field &&
            (err = check_if(k, f, "relevant_if", f->relevant_if_field, f->relevant_if_values,
                            f->relevant_if_count, origin, eb)) != BB_OK)
            return err;
        if (f->required && f->relevant_if_field)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": a field asked only sometimes (relevant_if) "
                           "cannot be always required; use required_if", origin, f->name);
        if (f->required && f->ask_never && f->default_kind == BB_DEFAULT_NONE)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: field \"%s\": a required field that is never asked needs a "
                           "\"default\"", origin, f->name);
        if (f->page) {
            for (j = 0; j < k->npages; j++)
                if (strcmp(k->pages[j].id, f->page) == 0)
                    break;
            if (j == k->npages)
                return bb_fail(eb, BB_ERR_INVALID,
                               "%s: field \"%s\": page \"%s\" is not in the kind's \"pages\"",
                               origin, f->name, f->page);
        }
    }
    return BB_OK;
}

/* "pages": [{"id": NAME, "title": {...}}] */
static bb_err parse_pages(struct kind_entry *e, const char *origin, bb_errbuf *eb)
{
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(e->root, "pages"), *it;
    struct bb_page *pages;
    size_t n, i = 0, j;

    if (!jp)
        return BB_OK;
    n = (size_t)cJSON_GetArraySize(jp);
    if (!cJSON_IsArray(jp) || n == 0 || n > 20)
        return bb_fail(eb, BB_ERR_INVALID, "%s: \"pages\" must be an array of 1..20 pages",
                       origin);
    if (!(pages = calloc(n, sizeof *pages)))
        return BB_ERR_NOMEM;
    e->kind.pages = pages;
    e->kind.npages = n;
    cJSON_ArrayForEach(it, jp) {
        pages[i].id = bb_json_str(it, "id");
        read_label(it, "title", &pages[i].title);
        if (!valid_name(pages[i].id) || (!pages[i].title.zh && !pages[i].title.en))
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: pages[%zu] needs an \"id\" (snake_case) and a \"title\"",
                           origin, i);
        for (j = 0; j < i; j++)
            if (strcmp(pages[j].id, pages[i].id) == 0)
                return bb_fail(eb, BB_ERR_INVALID, "%s: page \"%s\" is listed twice", origin,
                               pages[i].id);
        i++;
    }
    return BB_OK;
}

static int cmp_kind(const void *a, const void *b)
{
    return strcmp(((const struct kind_entry *)a)->kind.name,
                  ((const struct kind_entry *)b)->kind.name);
}

bb_err bb_catalog_add_kind(bb_catalog *cat, const char *json, size_t len,
                           const char *origin, bb_errbuf *eb)
{
    struct kind_entry e;
    const cJSON *jfields, *jf, *ver;
    size_t i = 0, n;
    bb_err err;

    memset(&e, 0, sizeof e);
    if ((err = bb_json_parse(json, len, origin, &e.root, eb)) != BB_OK)
        return err;
    e.kind.name = bb_json_str(e.root, "kind");
    if (!valid_name(e.kind.name)) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s: \"kind\" must be a snake_case name", origin);
        goto fail;
    }
    ver = cJSON_GetObjectItemCaseSensitive(e.root, "version");
    e.kind.version = cJSON_IsNumber(ver) ? ver->valueint : 0;
    if (e.kind.version < 1) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s: \"version\" must be a positive integer", origin);
        goto fail;
    }
    read_label(e.root, "label", &e.kind.label);
    read_label(e.root, "description", &e.kind.description);
    jfields = cJSON_GetObjectItemCaseSensitive(e.root, "fields");
    n = (size_t)cJSON_GetArraySize(jfields);
    if (!cJSON_IsArray(jfields) || n == 0 || n > 200) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s: \"fields\" must be an array of 1..200 fields",
                      origin);
        goto fail;
    }
    e.fields = calloc(n, sizeof *e.fields);
    if (!e.fields) {
        err = BB_ERR_NOMEM;
        goto fail;
    }
    e.kind.fields = e.fields;
    if ((err = parse_pages(&e, origin, eb)) != BB_OK)
        goto fail;
    cJSON_ArrayForEach(jf, jfields) {
        e.kind.nfields = i + 1;
        if ((err = parse_field(jf, &e.fields[i], origin, i, eb)) != BB_OK)
            goto fail;
        i++;
    }
    if ((err = check_kind(&e.kind, origin, eb)) != BB_OK)
        goto fail;
    e.kind.occurred_at_from = bb_json_str(e.root, "occurred_at_from");
    if (cJSON_GetObjectItemCaseSensitive(e.root, "occurred_at_from") &&
        (!e.kind.occurred_at_from || !bb_kind_field(&e.kind, e.kind.occurred_at_from) ||
         bb_kind_field(&e.kind, e.kind.occurred_at_from)->type != BB_F_DATETIME)) {
        err = bb_fail(eb, BB_ERR_INVALID,
                      "%s: \"occurred_at_from\" must name a datetime field of this kind", origin);
        goto fail;
    }
    {
        struct bb_rule *rules = NULL;
        err = bb_rules_parse(&e.kind, cJSON_GetObjectItemCaseSensitive(e.root, "rules"), origin,
                             &rules, &e.kind.nrules, eb);
        e.kind.rules = rules;
        if (err != BB_OK)
            goto fail;
    }

    for (i = 0; i < cat->nkinds; i++) {
        if (strcmp(cat->kinds[i].kind.name, e.kind.name) == 0) {
            free_kind(&cat->kinds[i]);
            cat->kinds[i] = e;
            return BB_OK;
        }
    }
    {
        struct kind_entry *nk = realloc(cat->kinds, (cat->nkinds + 1) * sizeof *nk);
        if (!nk) {
            err = BB_ERR_NOMEM;
            goto fail;
        }
        cat->kinds = nk;
        cat->kinds[cat->nkinds++] = e;
        qsort(cat->kinds, cat->nkinds, sizeof *cat->kinds, cmp_kind);
    }
    return BB_OK;
fail:
    free_kind(&e);
    return err;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct bb_ref_item *)a)->code, ((const struct bb_ref_item *)b)->code);
}

static struct list_entry *find_list(const bb_catalog *cat, const char *list)
{
    size_t i;
    for (i = 0; i < NLISTS; i++)
        if (strcmp(list_names[i], list) == 0)
            return (struct list_entry *)&cat->lists[i];
    return NULL;
}

/* "aliases": ["中港路", ...]: names a search also finds the item by. */
static bb_err read_aliases(const cJSON *it, struct bb_ref_item *ri, const char *origin,
                           const char *list, size_t idx, bb_errbuf *eb)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(it, "aliases"), *a;
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;

    if (!arr)
        return BB_OK;
    if (!cJSON_IsArray(arr) || n > 20)
        return bb_fail(eb, BB_ERR_INVALID, "%s: %s[%zu]: \"aliases\" must be an array of at "
                       "most 20 names", origin, list, idx);
    if (n == 0)
        return BB_OK;
    if (!(ri->aliases = calloc(n, sizeof *ri->aliases)))
        return BB_ERR_NOMEM;
    ri->naliases = n;
    cJSON_ArrayForEach(a, arr) {
        if (!cJSON_IsString(a) || !*a->valuestring)
            return bb_fail(eb, BB_ERR_INVALID, "%s: %s[%zu]: aliases are non-empty names",
                           origin, list, idx);
        ri->aliases[i++] = a->valuestring;
    }
    return BB_OK;
}

static void free_items(struct bb_ref_item *items, size_t n)
{
    size_t i;
    for (i = 0; items && i < n; i++)
        free((void *)items[i].aliases);
    free(items);
}

bb_err bb_catalog_set_list(bb_catalog *cat, const char *list, const char *json,
                           size_t len, const char *origin, bb_errbuf *eb)
{
    struct list_entry *le = find_list(cat, list), ne;
    const cJSON *arr, *it;
    size_t n, i = 0;
    bb_err err;

    if (!le)
        return bb_fail(eb, BB_ERR_INVALID, "%s: unknown reference list \"%s\" (lists: %s)",
                       origin, list, BB_REF_LISTS);
    memset(&ne, 0, sizeof ne);
    ne.name = le->name;
    if ((err = bb_json_parse(json, len, origin, &ne.root, eb)) != BB_OK)
        return err;
    arr = cJSON_GetObjectItemCaseSensitive(ne.root, list);
    n = (size_t)cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr)) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s: expected an array \"%s\"", origin, list);
        goto fail;
    }
    ne.items = calloc(n ? n : 1, sizeof *ne.items);
    if (!ne.items) {
        err = BB_ERR_NOMEM;
        goto fail;
    }
    cJSON_ArrayForEach(it, arr) {
        struct bb_ref_item *ri = &ne.items[i];
        ri->code = bb_json_str(it, "code");
        read_label(it, "label", &ri->label);
        ri->level = bb_json_str(it, "level");
        ri->parent = bb_json_str(it, strcmp(list, "units") == 0 ? "parent" : "precinct");
        if ((err = read_aliases(it, ri, origin, list, i, eb)) != BB_OK)
            goto fail;
        if (!ri->code || !*ri->code || strlen(ri->code) > 32) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: %s[%zu] needs a \"code\" of 1..32 characters",
                          origin, list, i);
            goto fail;
        }
        i++;
    }
    ne.n = n;
    qsort(ne.items, n, sizeof *ne.items, cmp_item);
    for (i = 1; i < n; i++)
        if (strcmp(ne.items[i - 1].code, ne.items[i].code) == 0) {
            err = bb_fail(eb, BB_ERR_INVALID, "%s: code \"%s\" appears twice", origin,
                          ne.items[i].code);
            goto fail;
        }
    if (strcmp(list, "units") == 0) {
        for (i = 0; i < n; i++) {
            const char *p = ne.items[i].parent;
            if (p && !bsearch(&(struct bb_ref_item){.code = p}, ne.items, n, sizeof *ne.items,
                              cmp_item)) {
                err = bb_fail(eb, BB_ERR_INVALID, "%s: unit \"%s\" has unknown parent \"%s\"",
                              origin, ne.items[i].code, p);
                goto fail;
            }
        }
    }
    free_items(le->items, le->n);
    cJSON_Delete(le->root);
    *le = ne;
    return BB_OK;
fail:
    free_items(ne.items, n);
    cJSON_Delete(ne.root);
    return err;
}

bb_err bb_catalog_new(bb_catalog **out)
{
    bb_catalog *cat = calloc(1, sizeof *cat);
    size_t i;

    *out = NULL;
    if (!cat)
        return BB_ERR_NOMEM;
    for (i = 0; i < NLISTS; i++)
        cat->lists[i].name = list_names[i];
    *out = cat;
    return BB_OK;
}

void bb_catalog_free(bb_catalog *cat)
{
    size_t i;

    if (!cat)
        return;
    for (i = 0; i < cat->nkinds; i++)
        free_kind(&cat->kinds[i]);
    free(cat->kinds);
    for (i = 0; i < NLISTS; i++) {
        free_items(cat->lists[i].items, cat->lists[i].n);
        cJSON_Delete(cat->lists[i].root);
    }
    free(cat);
}

bb_err bb_catalog_load_embedded(bb_catalog **out, bb_errbuf *eb)
{
    bb_catalog *cat;
    const struct bb_embedded_file *f;
    size_t cur = 0, i;
    bb_err err;

    if ((err = bb_catalog_new(&cat)) != BB_OK)
        return err;
    while ((f = bb_embed_next("records/", &cur)) != NULL) {
        if ((err = bb_catalog_add_kind(cat, f->data, f->len, f->path, eb)) != BB_OK)
            goto fail;
    }
    for (i = 0; i < NLISTS; i++) {
        char path[64];
        snprintf(path, sizeof path, "reference/%s.json", list_names[i]);
        if ((f = bb_embed_find(path)) == NULL)
            continue;
        if ((err = bb_catalog_set_list(cat, list_names[i], f->data, f->len, f->path, eb)) != BB_OK)
            goto fail;
    }
    *out = cat;
    return BB_OK;
fail:
    bb_catalog_free(cat);
    *out = NULL;
    return err;
}

const struct bb_kind *bb_catalog_kind(const bb_catalog *cat, const char *name)
{
    size_t i;
    for (i = 0; i < cat->nkinds; i++)
        if (strcmp(cat->kinds[i].kind.name, name) == 0)
            return &cat->kinds[i].kind;
    return NULL;
}

size_t bb_catalog_kind_count(const bb_catalog *cat)
{
    return cat->nkinds;
}

const struct bb_kind *bb_catalog_kind_at(const bb_catalog *cat, size_t i)
{
    return i < cat->nkinds ? &cat->kinds[i].kind : NULL;
}

const struct bb_field *bb_kind_field(const struct bb_kind *k, const char *name)
{
    size_t i;
    for (i = 0; i < k->nfields; i++)
        if (strcmp(k->fields[i].name, name) == 0)
            return &k->fields[i];
    return NULL;
}

const struct bb_enum_value *bb_field_enum(const struct bb_field *f, const char *code)
{
    size_t i;
    for (i = 0; i < f->nvalues; i++)
        if (strcmp(f->values[i].code, code) == 0)
            return &f->values[i];
    return NULL;
}

const struct bb_ref_item *bb_catalog_ref(const bb_catalog *cat, const char *list,
                                         const char *code)
{
    const struct list_entry *le = find_list(cat, list);
    struct bb_ref_item key = {.code = code};
    if (!le || !le->items)
        return NULL;
    return bsearch(&key, le->items, le->n, sizeof *le->items, cmp_item);
}

size_t bb_catalog_ref_count(const bb_catalog *cat, const char *list)
{
    const struct list_entry *le = find_list(cat, list);
    return le ? le->n : 0;
}

const struct bb_ref_item *bb_catalog_ref_at(const bb_catalog *cat, const char *list, size_t i)
{
    const struct list_entry *le = find_list(cat, list);
    return le && i < le->n ? &le->items[i] : NULL;
}

bool bb_catalog_unit_within(const bb_catalog *cat, const char *code, const char *ancestor)
{
    int depth = 0;
    while (code && depth++ < 16) {
        const struct bb_ref_item *u;
        if (strcmp(code, ancestor) == 0)
            return true;
        u = bb_catalog_ref(cat, "units", code);
        code = u ? u->parent : NULL;
    }
    return false;
}
