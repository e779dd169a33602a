/*
 * bb_catalog — what can be recorded and what it may refer to.
 *
 * A catalog holds the record kinds (schema/records/<kind>.json) and the
 * reference lists (schema/reference/<list>.json: org units, listed intersections,
 * listed road segments, bike paths).  Kinds are data, not code: the
 * collector prompts and validates from them, HQ validates again on ingest,
 * and a new kind or field ships as a reference-data update, not a binary.
 *
 * bb_catalog_load_embedded() builds the catalog compiled into the binary;
 * bb_catalog_add_kind() / bb_catalog_set_list() add or replace entries from
 * JSON text (a signed reference bundle from HQ, later).  Every definition is
 * checked when loaded, with errors naming the file and the field.
 *
 * Ownership: the catalog owns everything reachable from it; pointers into it
 * stay valid until bb_catalog_free() (or until the same kind/list is
 * replaced).  Read-only after loading, so it may be shared by threads.
 */
#ifndef BB_CATALOG_H
#define BB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include "bb_err.h"
#include "bb_lang.h"

struct bb_label {
    const char *zh;   /* zh-TW */
    const char *en;
};

/* The label in lang, falling back to the other language, then to fallback. */
const char *bb_label(const struct bb_label *l, enum bb_lang lang, const char *fallback);

/* "zh-TW"/"zh"/"en"/… → language (BB_ERR_USAGE for anything else). */
bb_err bb_lang_parse(const char *s, enum bb_lang *out);
/* From $LANG-style strings ("en_US.UTF-8" → en, anything else → zh-TW). */
enum bb_lang bb_lang_from_locale(const char *locale);

enum bb_ftype {
    BB_F_TEXT, BB_F_INTEGER, BB_F_NUMBER, BB_F_BOOLEAN,
    BB_F_ENUM, BB_F_DATETIME, BB_F_REF, BB_F_GEO,
    BB_F_ATTACHMENT     /* photos and files, named by content (docs/FORMATS.md §5) */
};
const char *bb_ftype_name(enum bb_ftype t);

struct bb_enum_value {
    const char *code;
    struct bb_label label;
};

#define BB_ATTACH_MAX_COUNT 50     /* files in one attachment field, whatever a kind says */
#define BB_TEXT_MAX_DEFAULT 4000   /* characters, when a text field sets no max_length */

/* Where a question's starting value comes from (the form model, bb_form.h). */
enum bb_default {
    BB_DEFAULT_NONE = 0,
    BB_DEFAULT_NOW,      /* "now": the time the entry starts */
    BB_DEFAULT_UNIT,     /* "unit": the officer's org unit */
    BB_DEFAULT_LAST,     /* "last": the value of this kind's last record on this laptop */
    BB_DEFAULT_VALUE     /* a fixed value: default_value */
};

struct bb_field {
    const char *name;
    enum bb_ftype type;
    struct bb_label label, help;
    bool required;
    const char *required_if_field;      /* NULL when unconditional */
    const char **required_if_values;    /* enum codes, or "true"/"false" */
    size_t required_if_count;
    const struct bb_enum_value *values; /* enum only */
    size_t nvalues;
    bool has_min, has_max;
    double min, max;                    /* integer/number */
    long max_length;                    /* text, in characters */
    const char *ref;                    /* ref: list name */
    /* attachment: the media types allowed (each bb_media_known), how many
     * files (1..BB_ATTACH_MAX_COUNT) and how large each (1..BB_ATTACH_MAX_SIZE). */
    const char **media;
    size_t nmedia;
    long max_count;
    long long max_bytes;
    /* How the form asks it (bb_form.h); validation ignores these. */
    bool ask_never;                     /* "ask": "never": set by the program, not asked */
    const char *relevant_if_field;      /* asked only when that field is one of ... */
    const char **relevant_if_values;    /* enum codes, or "true"/"false" */
    size_t relevant_if_count;
    enum bb_default default_kind;
    const char *default_value;          /* BB_DEFAULT_VALUE: the text a person would type */
    const char *page;                   /* a page id of the kind, or NULL (the first page) */
};

/*
 * A condition on a record, used by rules (and drawn from the same JSON as a
 * plan's "where"): {"field": F, OP: VALUE}.  F is a field of the kind or the
 * envelope's occurred_at / recorded_at.  OP is one of
 *   "present": true | "absent": true
 *   "in": [codes or booleans]                         (enum, boolean, ref, text)
 *   "eq" / "ne": number, text or boolean
 *   "lt" / "le" / "gt" / "ge": number, or a datetime for a datetime field
 *   "lt_field" ... "ge_field": another field of the same type, with
 *                                "plus_minutes": N added to it (datetimes)
 */
enum bb_cond_op {
    BB_COND_PRESENT = 1, BB_COND_ABSENT, BB_COND_IN,
    BB_COND_EQ, BB_COND_NE, BB_COND_LT, BB_COND_LE, BB_COND_GT, BB_COND_GE
};

struct bb_cond {
    const char *field;
    enum bb_ftype type;         /* of field (occurred_at/recorded_at: datetime) */
    enum bb_cond_op op;
    const char **in;            /* BB_COND_IN: codes, or "true"/"false" */
    size_t nin;
    const char *other;          /* compare with this field instead of a constant */
    long plus_minutes;          /* added to other (datetimes) */
    /* the constant: a number (also a datetime as Unix seconds), text or boolean */
    enum { BB_CV_NONE, BB_CV_NUMBER, BB_CV_TEXT, BB_CV_BOOL } vtype;
    double number;
    const char *text;
    bool boolean;
};

/*
 * A rule across fields (schema/records/<kind>.json "rules"): when every
 * "when" condition holds, every "require" condition must (or, with
 * "require_any", at least one).  A rule holds from kind version `since`:
 * a record made under an older version of the kind is never rejected by
 * it (a rule added later must not turn old, valid records invalid).
 */
struct bb_rule {
    const char *id;
    int since;
    const struct bb_cond *when;
    size_t nwhen;
    const struct bb_cond *require;
    size_t nrequire;
    bool any;
    struct bb_label message;
};

/* A page of a kind's form: questions are grouped by their field's "page". */
struct bb_page {
    const char *id;
    struct bb_label title;
};

struct bb_kind {
    const char *name;
    int version;
    /* A datetime field whose value is the record's occurred_at unless one is
     * given (a patrol happens when it starts); NULL when none. */
    const char *occurred_at_from;
    struct bb_label label, description;
    const struct bb_field *fields;
    size_t nfields;
    const struct bb_rule *rules;
    size_t nrules;
    const struct bb_page *pages;    /* may be 0: one page */
    size_t npages;
};

struct bb_ref_item {
    const char *code;
    struct bb_label label;
    const char *level;      /* units: city, precinct, station, unit */
    const char *parent;     /* units: parent code; others: precinct code */
    const char **aliases;   /* other names people use (中港路 for 臺灣大道); may be 0 */
    size_t naliases;
};

/* The reference lists a field of type ref may name. */
#define BB_REF_LISTS "units, intersections, segments, bikepaths"

typedef struct bb_catalog bb_catalog;

/* Catalog from the files compiled into the binary. */
bb_err bb_catalog_load_embedded(bb_catalog **out, bb_errbuf *eb);
/* An empty catalog (for tests and bundles). */
bb_err bb_catalog_new(bb_catalog **out);
void bb_catalog_free(bb_catalog *cat);

/* Add or replace a kind from its JSON definition; origin names it in errors. */
bb_err bb_catalog_add_kind(bb_catalog *cat, const char *json, size_t len,
                           const char *origin, bb_errbuf *eb);
/* Add or replace a reference list ("units", ...) from its JSON file. */
bb_err bb_catalog_set_list(bb_catalog *cat, const char *list, const char *json,
                           size_t len, const char *origin, bb_errbuf *eb);

const struct bb_kind *bb_catalog_kind(const bb_catalog *cat, const char *name);
size_t bb_catalog_kind_count(const bb_catalog *cat);
const struct bb_kind *bb_catalog_kind_at(const bb_catalog *cat, size_t i);  /* sorted by name */

const struct bb_field *bb_kind_field(const struct bb_kind *k, const char *name);
const struct bb_enum_value *bb_field_enum(const struct bb_field *f, const char *code);

/* Look-ups in a reference list; NULL when absent. Items are sorted by code. */
const struct bb_ref_item *bb_catalog_ref(const bb_catalog *cat, const char *list,
                                         const char *code);
size_t bb_catalog_ref_count(const bb_catalog *cat, const char *list);
const struct bb_ref_item *bb_catalog_ref_at(const bb_catalog *cat, const char *list, size_t i);

/* True when unit `code` is `ancestor` or lies under it in the org-unit tree. */
bool bb_catalog_unit_within(const bb_catalog *cat, const char *code, const char *ancestor);

#endif
