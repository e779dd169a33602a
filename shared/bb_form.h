/*
 * bb_form — the form an officer fills in for one record kind, built from
 * the kind's definition (schema/records/<kind>.json), once, for every way of
 * entering records: the terminal prompts (collector/col_prompt.c) and the
 * forms page (`beatbook ui`, collector/col_ui.c, which sends bb_form_json()
 * to the browser).
 *
 * A form is the kind's fields in their order, then the envelope's
 * occurred_at (unless the kind dates itself by a field of its own),
 * org_unit and location, as questions:
 *   - asked unless the field says "ask": "never" (the program sets it);
 *   - grouped in the kind's "pages" (a field's "page"; none: one page);
 *   - relevant only when "relevant_if" holds (a bike path only for a bike-path
 *     patrol); answers to questions that stopped being relevant are dropped;
 *   - with a starting value: "now", the officer's "unit", the "last" value
 *     used for this kind on this laptop, or a fixed "default_value";
 *   - and a note when the plan's KPIs read the field and it may be left
 *     empty: "此欄位空白時，本筆不列入 K4 列管路段取締件數…".
 * Whether answers are valid is bb_record_validate's business (fields and
 * the kind's rules, bb_rules.h), so a form can never accept what HQ refuses.
 *
 * Ownership: a form points into the catalog and plan it was built from;
 * free it before them.  Errors: bb_err, message in eb.
 */
#ifndef BB_FORM_H
#define BB_FORM_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"
#include "bb_plan.h"

struct bb_question {
    const struct bb_field *field;   /* the kind's field, or bb_record_envelope_field() */
    int envelope;                   /* 1 for occurred_at, org_unit, location */
    const struct bb_page *page;     /* NULL when the kind has no pages */
    struct bb_label kpi_note;       /* both NULL when no KPI reads it, or it is required */
};

typedef struct bb_form bb_form;

/* The form of kind k; plan (may be NULL) supplies the KPI notes. */
bb_err bb_form_new(const bb_catalog *cat, const struct bb_kind *k, const bb_plan *plan,
                   bb_form **out, bb_errbuf *eb);
void bb_form_free(bb_form *form);

const struct bb_kind *bb_form_kind(const bb_form *form);
size_t bb_form_count(const bb_form *form);
const struct bb_question *bb_form_at(const bb_form *form, size_t i);
/* The question for a field or envelope name; NULL when there is none. */
const struct bb_question *bb_form_find(const bb_form *form, const char *name);

/* True when q is asked for this record as answered so far (ask, relevant_if). */
int bb_form_relevant(const struct bb_question *q, const cJSON *rec);
/* True when q must be answered for this record (required, required_if). */
int bb_form_required(const struct bb_question *q, const cJSON *rec);
/* The answer to q in rec (data field or envelope key); NULL when not given. */
const cJSON *bb_form_answer(const struct bb_question *q, const cJSON *rec);
/* Remove the answers of questions that are not relevant (any more). */
void bb_form_prune(const bb_form *form, cJSON *rec);

/*
 * The starting value of q as a person would type it ("2018-03-15 14:20",
 * "P06-S03", "BP-DF"), or "" when it has none.  unit is the officer's org
 * unit; last is the data object of this kind's last record on the laptop
 * (NULL when there is none); now is the Unix time the entry started.
 */
void bb_form_default(const struct bb_question *q, const char *unit, const cJSON *last,
                     int64_t now, char *out, size_t n);

/*
 * A stored value as a person reads it in lang: an enum's label, a reference
 * as "東豐自行車綠廊（BP-DF）", 是/否, a datetime as 107/03/15 14:20 (zh-TW,
 * Taipei time) or 2018-03-15 14:20 (en), a location as "24.1477, 120.6736",
 * attachments as "2 張照片：IMG_0412.JPG、IMG_0413.JPG" / "2 photos: ...".
 */
void bb_form_display(const bb_catalog *cat, const struct bb_field *f, const cJSON *v,
                     enum bb_lang lang, char *out, size_t n);

/* A label as JSON: {"zh-TW": .., "en": ..} with the languages it has; NULL when out of memory. */
cJSON *bb_label_json(const struct bb_label *l);

/*
 * The form as JSON for a browser, in both languages:
 *   {"kind", "version", "label", "description", "occurred_at_from",
 *    "pages": [{"id", "title"}],
 *    "questions": [{"name", "type", "envelope", "label", "help", "page",
 *                   "required", "required_if": {"field","in"}, "relevant_if",
 *                   "ask" ("never" only), "default" (now|unit|last|value),
 *                   "default_value", "min", "max", "max_length",
 *                   "values": [{"code","label"}]            (enum),
 *                   "media", "max_count", "max_bytes"       (attachment),
 *                   "ref", "options": [{"code","label","aliases"}] (ref),
 *                   "kpi_note"}],
 *    "rules": [{"id", "since", "message"}]}
 * Labels are {"zh-TW": .., "en": ..}.  NULL when out of memory.
 */
cJSON *bb_form_json(const bb_form *form, const bb_catalog *cat);

/*
 * Every problem of rec that a form can point at, for showing them all at
 * once beside their questions: a JSON array of {"field": NAME, "message":
 * TEXT, "hint": TEXT without the field's name (bb_form_hint)} in lang
 * (field "" for problems of the record as a whole), empty
 * when bb_record_validate accepts rec.  Returns BB_ERR_NOMEM or BB_OK.
 */
bb_err bb_form_problems(const bb_form *form, const bb_catalog *cat, const cJSON *rec,
                        enum bb_lang lang, cJSON **out);

/*
 * The part of a field's message worth showing beside the field itself:
 * "A3 事故僅有財物損失…（目前為 1）" out of "traffic_accident：欄位「deaths」
 * （死亡人數）：A3 事故…".  A pointer into message; message itself when it
 * does not start with a field's name.
 */
const char *bb_form_hint(const char *message);

#endif
